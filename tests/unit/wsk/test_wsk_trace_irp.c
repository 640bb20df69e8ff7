/* SPDX-License-Identifier: MIT */
/*
 * The irp trace layer (issue 6): for every IRP-taking WSK call the exact
 * lines "issued <Call> irp=<p>", "pended <Call> irp=<p> STATUS_PENDING",
 * "completed <Call> irp=<p> <STATUS> info=<n>", "cancel <Call> irp=<p>"
 * and "refused <Call> irp=<p> ...", in text and in JSON (event, irp, call,
 * status), on a stack without a receive thread (test_wsk_trace_fixture.h).
 * Also: nothing is printed or evaluated when the layer is off, and the
 * lines of the run docs/walkthrough.md quotes (a threaded stack traced
 * with trace=all; WSKSTACK_TRACE_DUMP=1 prints that whole trace).
 */
#include "test_wsk_trace_fixture.h"

#include "wsk/wsk_impl.h"

static struct tt T;

static int setup_irp(void **state)
{
    (void)state;
    tt_up(&T, TRACE_IRP, TRACE_FMT_TEXT);
    return 0;
}
static int setup_json(void **state)
{
    (void)state;
    tt_up(&T, TRACE_IRP, TRACE_FMT_JSON);
    return 0;
}
static int setup_off(void **state)
{
    (void)state;
    tt_up(&T, 0, TRACE_FMT_TEXT);
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    tt_down(&T);
    return 0;
}

#define VP(p) ((void *)(p))

/* issued + completed, the lines of every call that completes during the call. */
static void want_sync(const char *call, PIRP irp, const char *status, unsigned long info)
{
    tt_want(&T, "irp - issued %s irp=%p", call, VP(irp));
    tt_want(&T, "irp - completed %s irp=%p %s info=%lu", call, VP(irp), status, info);
}

/* A bound datagram socket whose lines have been checked. */
static PWSK_SOCKET bound_socket(uint16_t port)
{
    PIRP irp;
    PWSK_SOCKET s = tt_socket(&T, NULL, &irp);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, port), STATUS_SUCCESS);
    tt_skip(&T);
    return s;
}

/* ---- calls that complete during the call ---------------------------------------- */
static void test_socket_bind_local_close(void **state)
{
    (void)state;
    PIRP irp;
    PWSK_SOCKET s = tt_socket(&T, NULL, &irp);
    want_sync("WskSocket", irp, "STATUS_SUCCESS", (unsigned long)(uintptr_t)s);
    tt_check(&T);

    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_OUR_IP1, 5000);
    assert_int_equal(wt_dg(s)->WskBind(s, (PSOCKADDR)&sin, 0, w.irp), STATUS_SUCCESS);
    want_sync("WskBind", w.irp, "STATUS_SUCCESS", 0);
    tt_check(&T);

    wt_irp_reuse(&w);
    assert_int_equal(wt_dg(s)->WskGetLocalAddress(s, (PSOCKADDR)&sin, w.irp), STATUS_SUCCESS);
    want_sync("WskGetLocalAddress", w.irp, "STATUS_SUCCESS", 0);
    tt_check(&T);

    wt_irp_reuse(&w);
    for (int i = 0; i < WT_MAX_SOCKS; i++)
        if (wt_open_socks[i] == s)
            wt_open_socks[i] = NULL;
    assert_int_equal(wt_dg(s)->WskCloseSocket(s, w.irp), STATUS_SUCCESS);
    want_sync("WskCloseSocket", w.irp, "STATUS_SUCCESS", 0);
    tt_check(&T);
    wt_irp_fini(&w);
}

static void test_failures_and_refused_irps(void **state)
{
    (void)state;
    /* A failure is completed like a success: issued, completed <error>. */
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = T.w.npi.Dispatch->WskSocket(T.w.npi.Client, AF_INET, SOCK_STREAM, IPPROTO_TCP,
                                             WSK_FLAG_STREAM_SOCKET, NULL, NULL, NULL, NULL,
                                             NULL, w.irp);
    assert_int_equal(r, STATUS_NOT_SUPPORTED);
    want_sync("WskSocket", w.irp, "STATUS_NOT_SUPPORTED", 0);
    tt_check(&T);

    PIRP sirp;
    PWSK_SOCKET s = tt_socket(&T, NULL, &sirp);
    want_sync("WskSocket", sirp, "STATUS_SUCCESS", (unsigned long)(uintptr_t)s);
    tt_check(&T);
    SOCKADDR_IN6 six;
    memset(&six, 0, sizeof six);
    six.sin6_family = AF_INET6;
    wt_irp_reuse(&w);
    assert_int_equal(wt_dg(s)->WskBind(s, (PSOCKADDR)&six, 0, w.irp), STATUS_INVALID_PARAMETER);
    want_sync("WskBind", w.irp, "STATUS_INVALID_PARAMETER", 0);
    tt_check(&T);
    wt_irp_fini(&w);

    /* No IRP, or no stack location left: refused, nothing completed. */
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_OUR_IP1, 5000);
    assert_int_equal(wt_dg(s)->WskBind(s, (PSOCKADDR)&sin, 0, NULL), STATUS_INVALID_PARAMETER);
    tt_want(&T, "irp - issued WskBind irp=%p", VP(NULL));
    tt_want(&T, "irp - refused WskBind irp=%p STATUS_INVALID_PARAMETER (no IRP, not completed)",
            VP(NULL));
    tt_check(&T);
    PIRP used = tt_irp_no_location();
    assert_int_equal(wt_dg(s)->WskBind(s, (PSOCKADDR)&sin, 0, used), STATUS_INVALID_PARAMETER);
    tt_want(&T, "irp - issued WskBind irp=%p", VP(used));
    tt_want(&T,
            "irp - refused WskBind irp=%p STATUS_INVALID_PARAMETER (no free stack location, "
            "not completed)",
            VP(used));
    tt_check(&T);
    IoFreeIrp(used);
}

static void test_control_socket(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    struct wt_irp w;
    wt_irp_init(&w);
    ULONG on = 1, v = 0;
    SIZE_T got = 0;
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskSetOption, IP_PKTINFO, IPPROTO_IP, sizeof on,
                                            &on, 0, NULL, NULL, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    want_sync("WskControlSocket", w.irp, "STATUS_SUCCESS", 0);
    wt_irp_reuse(&w);
    r = wt_dg(s)->WskControlSocket(s, WskGetOption, IP_TTL, IPPROTO_IP, 0, NULL, sizeof v, &v,
                                   &got, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(v, 64);
    want_sync("WskControlSocket", w.irp, "STATUS_SUCCESS", 4);
    wt_irp_reuse(&w);
    r = wt_dg(s)->WskControlSocket(s, WskSetOption, 0x7777, IPPROTO_IP, sizeof on, &on, 0, NULL,
                                   NULL, w.irp);
    assert_int_equal(r, STATUS_NOT_SUPPORTED);
    want_sync("WskControlSocket", w.irp, "STATUS_NOT_SUPPORTED", 0);
    tt_check(&T);
    /* Without an IRP the result is only returned: no irp line. */
    assert_int_equal(wt_dg(s)->WskControlSocket(s, WskSetOption, IP_PKTINFO, IPPROTO_IP,
                                                sizeof on, &on, 0, NULL, NULL, NULL),
                     STATUS_SUCCESS);
    tt_check(&T);
    wt_irp_fini(&w);
}

static void test_client_level_calls(void **state)
{
    (void)state;
    const WSK_PROVIDER_DISPATCH *d = T.w.npi.Dispatch;
    PWSK_CLIENT c = T.w.npi.Client;
    struct wt_irp w;
    wt_irp_init(&w);
    assert_int_equal(d->WskControlClient(c, WSK_TDI_BEHAVIOR, 0, NULL, 0, NULL, NULL, w.irp),
                     STATUS_SUCCESS);
    want_sync("WskControlClient", w.irp, "STATUS_SUCCESS", 0);
    wt_irp_reuse(&w);
    SOCKADDR_IN a;
    wt_sin(&a, WT_PEER_IP, 80);
    assert_int_equal(d->WskSocketConnect(c, SOCK_STREAM, IPPROTO_TCP, (PSOCKADDR)&a,
                                         (PSOCKADDR)&a, 0, NULL, NULL, NULL, NULL, NULL, w.irp),
                     STATUS_NOT_SUPPORTED);
    want_sync("WskSocketConnect", w.irp, "STATUS_NOT_SUPPORTED", 0);
    wt_irp_reuse(&w);
    assert_int_equal(d->WskGetAddressInfo(c, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, w.irp),
                     STATUS_NOT_SUPPORTED);
    want_sync("WskGetAddressInfo", w.irp, "STATUS_NOT_SUPPORTED", 0);
    wt_irp_reuse(&w);
    assert_int_equal(d->WskGetNameInfo(c, (PSOCKADDR)&a, sizeof a, NULL, NULL, 0, NULL, NULL,
                                       w.irp),
                     STATUS_NOT_SUPPORTED);
    want_sync("WskGetNameInfo", w.irp, "STATUS_NOT_SUPPORTED", 0);
    tt_check(&T);
    wt_irp_fini(&w);
}

/* ---- calls that pend ----------------------------------------------------------------- */
static void test_sendto_and_sendmessages(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    NTSTATUS ret;
    PIRP irp;
    assert_int_equal(tt_sendto(s, WT_PEER_IP, 7000, 5, NULL, 0, &ret, &irp), STATUS_SUCCESS);
    assert_int_equal(ret, STATUS_PENDING);
    tt_want(&T, "irp - issued WskSendTo irp=%p", VP(irp));
    tt_want(&T, "irp - pended WskSendTo irp=%p STATUS_PENDING", VP(irp));
    tt_want(&T, "irp - completed WskSendTo irp=%p STATUS_SUCCESS info=5", VP(irp));
    tt_check(&T);

    uint8_t a[3] = {1, 2, 3}, b[4] = {4, 5, 6, 7};
    PMDL ma = wt_mdl(a, sizeof a), mb = wt_mdl(b, sizeof b);
    WSK_BUF_LIST l2 = {NULL, {mb, 0, sizeof b}};
    WSK_BUF_LIST l1 = {&l2, {ma, 0, sizeof a}};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7000);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskSendMessages(s, &l1, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    tt_want(&T, "irp - issued WskSendMessages irp=%p", VP(w.irp));
    tt_want(&T, "irp - pended WskSendMessages irp=%p STATUS_PENDING", VP(w.irp));
    tt_want(&T, "irp - completed WskSendMessages irp=%p STATUS_SUCCESS info=7", VP(w.irp));
    tt_check(&T);
    wt_irp_fini(&w);
    IoFreeMdl(ma);
    IoFreeMdl(mb);
}

static void test_receivefrom_pending_and_immediate(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    tt_want(&T, "irp - issued WskReceiveFrom irp=%p", VP(rx.w.irp));
    tt_want(&T, "irp - pended WskReceiveFrom irp=%p STATUS_PENDING", VP(rx.w.irp));
    tt_check(&T);
    wt_inject_udp(&T.w, WT_PEER_IP, WT_OUR_IP1, 7000, 5000, "abc", 3);
    tt_poll(&T);
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_SUCCESS);
    tt_want(&T, "irp - completed WskReceiveFrom irp=%p STATUS_SUCCESS info=3", VP(rx.w.irp));
    tt_check(&T);
    wt_rx_fini(&rx);

    /* A datagram already queued: the receive completes during the call. */
    wt_inject_udp(&T.w, WT_PEER_IP, WT_OUR_IP1, 7000, 5000, "hello", 5);
    tt_poll(&T);
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_SUCCESS);
    want_sync("WskReceiveFrom", rx.w.irp, "STATUS_SUCCESS", 5);
    tt_check(&T);
    wt_rx_fini(&rx);
}

/* ---- cancellation ------------------------------------------------------------------- */
static void test_receive_cancel(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    assert_true(IoCancelIrp(rx.w.irp));
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_CANCELLED);
    tt_want(&T, "irp - issued WskReceiveFrom irp=%p", VP(rx.w.irp));
    tt_want(&T, "irp - pended WskReceiveFrom irp=%p STATUS_PENDING", VP(rx.w.irp));
    tt_want(&T, "irp - cancel WskReceiveFrom irp=%p", VP(rx.w.irp));
    tt_want(&T, "irp - completed WskReceiveFrom irp=%p STATUS_CANCELLED info=0", VP(rx.w.irp));
    tt_check(&T);
    wt_rx_fini(&rx);

    /* Cancelled before the call: the provider sees Irp->Cancel when it
     * arms its routine. */
    memset(&rx, 0, sizeof rx);
    rx.m = wt_mdl(rx.buf, 100);
    rx.b = (WSK_BUF){rx.m, 0, 100};
    wt_irp_init(&rx.w);
    assert_false(IoCancelIrp(rx.w.irp)); /* no routine yet: only Cancel set */
    rx.ret = wt_dg(s)->WskReceiveFrom(s, &rx.b, 0, NULL, NULL, NULL, NULL, rx.w.irp);
    assert_int_equal(rx.ret, STATUS_PENDING);
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_CANCELLED);
    tt_want(&T, "irp - issued WskReceiveFrom irp=%p", VP(rx.w.irp));
    tt_want(&T, "irp - pended WskReceiveFrom irp=%p STATUS_PENDING", VP(rx.w.irp));
    tt_want(&T, "irp - cancel WskReceiveFrom irp=%p (cancelled before its cancel routine was set)",
            VP(rx.w.irp));
    tt_want(&T, "irp - completed WskReceiveFrom irp=%p STATUS_CANCELLED info=0", VP(rx.w.irp));
    tt_check(&T);
    wt_rx_fini(&rx);
}

static void test_send_cancel_while_resolving(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    static uint8_t p[5] = "12345";
    PMDL m = wt_mdl(p, sizeof p);
    WSK_BUF b = {m, 0, sizeof p};
    SOCKADDR_IN to;
    wt_sin(&to, 0xC0000214u /* 192.0.2.20: no neighbour entry */, 7000);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    tt_want(&T, "irp - issued WskSendTo irp=%p", VP(w.irp));
    tt_want(&T, "irp - pended WskSendTo irp=%p STATUS_PENDING", VP(w.irp));
    tt_check(&T); /* waiting for ARP: nothing completes without a poll */
    assert_true(IoCancelIrp(w.irp));
    assert_int_equal(wt_irp_result(&w, r), STATUS_CANCELLED);
    tt_want(&T, "irp - cancel WskSendTo irp=%p", VP(w.irp));
    tt_want(&T, "irp - completed WskSendTo irp=%p STATUS_CANCELLED info=0", VP(w.irp));
    tt_check(&T);
    wt_irp_fini(&w);
    IoFreeMdl(m);
}

static void test_close_completes_pending_receive(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    tt_skip(&T);
    struct wt_irp w;
    wt_irp_init(&w);
    for (int i = 0; i < WT_MAX_SOCKS; i++)
        if (wt_open_socks[i] == s)
            wt_open_socks[i] = NULL;
    assert_int_equal(wt_dg(s)->WskCloseSocket(s, w.irp), STATUS_SUCCESS);
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_CANCELLED);
    tt_want(&T, "irp - issued WskCloseSocket irp=%p", VP(w.irp));
    tt_want(&T, "irp - completed WskReceiveFrom irp=%p STATUS_CANCELLED info=0", VP(rx.w.irp));
    tt_want(&T, "irp - completed WskCloseSocket irp=%p STATUS_SUCCESS info=0", VP(w.irp));
    tt_check(&T);
    wt_irp_fini(&w);
    wt_rx_fini(&rx);
}

/* ---- a WSK call from inside a completion routine --------------------------------------- */
/* The provider never waits on its own completion thread: the call pends. */
struct nested {
    PWSK_SOCKET s;
    struct wt_irp inner;
    SOCKADDR_IN sin;
    NTSTATUS ret;
};

static NTSTATUS nested_routine(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    (void)DeviceObject;
    (void)Irp;
    struct nested *n = Context;
    n->ret = wt_dg(n->s)->WskGetLocalAddress(n->s, (PSOCKADDR)&n->sin, n->inner.irp);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static void test_call_from_completion_routine_pends(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    static struct nested n;
    memset(&n, 0, sizeof n);
    n.s = s;
    n.ret = (NTSTATUS)0x12345678;
    wt_irp_init(&n.inner);
    uint8_t buf[16];
    PMDL m = wt_mdl(buf, sizeof buf);
    WSK_BUF b = {m, 0, sizeof buf};
    PIRP outer = IoAllocateIrp(1, FALSE);
    assert_non_null(outer);
    IoSetCompletionRoutine(outer, nested_routine, &n, TRUE, TRUE, TRUE);
    assert_int_equal(wt_dg(s)->WskReceiveFrom(s, &b, 0, NULL, NULL, NULL, NULL, outer),
                     STATUS_PENDING);
    wt_inject_udp(&T.w, WT_PEER_IP, WT_OUR_IP1, 7000, 5000, "abc", 3);
    tt_poll(&T);
    /* The inner IRP completes behind the outer routine on the socket's
     * queue: once it did, n.ret is set (and every line is written). */
    assert_true(wt_irp_wait(&n.inner, 10000));
    assert_int_equal(n.ret, STATUS_PENDING);
    assert_int_equal(n.inner.status, STATUS_SUCCESS);
    assert_true(n.inner.pending_returned);
    tt_want(&T, "irp - issued WskReceiveFrom irp=%p", VP(outer));
    tt_want(&T, "irp - pended WskReceiveFrom irp=%p STATUS_PENDING", VP(outer));
    tt_want(&T, "irp - completed WskReceiveFrom irp=%p STATUS_SUCCESS info=3", VP(outer));
    tt_want(&T, "irp - issued WskGetLocalAddress irp=%p", VP(n.inner.irp));
    tt_want(&T, "irp - pended WskGetLocalAddress irp=%p STATUS_PENDING", VP(n.inner.irp));
    tt_want(&T, "irp - completed WskGetLocalAddress irp=%p STATUS_SUCCESS info=0",
            VP(n.inner.irp));
    tt_check(&T);
    wt_irp_fini(&n.inner);
    IoFreeIrp(outer);
    IoFreeMdl(m);
}

/* ---- JSON: the structured fields -------------------------------------------------------- */
#define JHEAD "{\"t\":7000000001,\"layer\":\"irp\",\"dir\":\"-\",\"event\":"

static void test_json_fields(void **state)
{
    (void)state;
    PIRP sirp;
    PWSK_SOCKET s = tt_socket(&T, NULL, &sirp);
    unsigned long si = (unsigned long)(uintptr_t)s;
    tt_want(&T, JHEAD "\"issued\",\"msg\":\"issued WskSocket irp=%p\",\"irp\":\"%p\","
                      "\"call\":\"WskSocket\"}",
            VP(sirp), VP(sirp));
    tt_want(&T, JHEAD "\"completed\",\"msg\":\"completed WskSocket irp=%p STATUS_SUCCESS "
                      "info=%lu\",\"irp\":\"%p\",\"call\":\"WskSocket\","
                      "\"status\":\"STATUS_SUCCESS\"}",
            VP(sirp), si, VP(sirp));
    tt_check(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5000), STATUS_SUCCESS);
    tt_skip(&T);

    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    assert_true(IoCancelIrp(rx.w.irp));
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_CANCELLED);
    void *p = VP(rx.w.irp);
    tt_want(&T, JHEAD "\"issued\",\"msg\":\"issued WskReceiveFrom irp=%p\",\"irp\":\"%p\","
                      "\"call\":\"WskReceiveFrom\"}",
            p, p);
    tt_want(&T, JHEAD "\"pended\",\"msg\":\"pended WskReceiveFrom irp=%p STATUS_PENDING\","
                      "\"irp\":\"%p\",\"call\":\"WskReceiveFrom\",\"status\":\"STATUS_PENDING\"}",
            p, p);
    tt_want(&T, JHEAD "\"cancel\",\"msg\":\"cancel WskReceiveFrom irp=%p\",\"irp\":\"%p\","
                      "\"call\":\"WskReceiveFrom\"}",
            p, p);
    tt_want(&T, JHEAD "\"completed\",\"msg\":\"completed WskReceiveFrom irp=%p STATUS_CANCELLED "
                      "info=0\",\"irp\":\"%p\",\"call\":\"WskReceiveFrom\","
                      "\"status\":\"STATUS_CANCELLED\"}",
            p, p);
    tt_check(&T);
    wt_rx_fini(&rx);

    PIRP used = tt_irp_no_location();
    assert_int_equal(wt_dg(s)->WskGetLocalAddress(s, NULL, used), STATUS_INVALID_PARAMETER);
    tt_want(&T, JHEAD "\"issued\",\"msg\":\"issued WskGetLocalAddress irp=%p\",\"irp\":\"%p\","
                      "\"call\":\"WskGetLocalAddress\"}",
            VP(used), VP(used));
    tt_want(&T, JHEAD "\"refused\",\"msg\":\"refused WskGetLocalAddress irp=%p "
                      "STATUS_INVALID_PARAMETER (no free stack location, not completed)\","
                      "\"irp\":\"%p\",\"call\":\"WskGetLocalAddress\","
                      "\"status\":\"STATUS_INVALID_PARAMETER\"}",
            VP(used), VP(used));
    tt_check(&T);
    IoFreeIrp(used);
}

/* ---- off ----------------------------------------------------------------------------------- */
static int evaluated;
static PIRP side_irp(void)
{
    evaluated++;
    return NULL;
}
static const char *side_str(void)
{
    evaluated++;
    return "side";
}

/* The provider's trace macros evaluate nothing while their layer is off,
 * and do once it is on (so the first check can fail). */
static void test_off_evaluates_nothing(void **state)
{
    (void)state;
    struct wsk_reg *reg = T.w.reg.ReservedRegistrationContext;
    struct wsk_provider *prov = reg->prov;
    assert_int_equal(prov->trace_mask, TRACE_IRP);
    evaluated = 0;
    struct wsk_provider off = *prov;
    off.st = NULL; /* a call that got through would crash */
    off.trace_mask = TRACE_ALL & ~TRACE_IRP & ~TRACE_WSK;
    WSK_TRACE_IRP(&off, WSK_IRP_ISSUED, WSK_CALL_BIND, side_irp(), 0, 0);
    WSK_TRACE(&off, TD_NONE, "x", "%s", side_str());
    WSK_TRACE_F(&off, TD_NONE, "x", (&(struct trace_fields){.call = side_str()}), "%s",
                side_str());
    assert_int_equal(evaluated, 0);
    WSK_TRACE_IRP(prov, WSK_IRP_ISSUED, WSK_CALL_BIND, side_irp(), 0, 0);
    assert_int_equal(evaluated, 1);
    tt_want(&T, "irp - issued WskBind irp=%p", VP(NULL));
    tt_check(&T);
}

/* Tracing off: a socket's whole life writes nothing. */
static void test_off_prints_nothing(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(5000);
    NTSTATUS ret;
    PIRP irp;
    assert_int_equal(tt_sendto(s, WT_PEER_IP, 7000, 5, NULL, 0, &ret, &irp), STATUS_SUCCESS);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    assert_true(IoCancelIrp(rx.w.irp));
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_CANCELLED);
    wt_rx_fini(&rx);
    wt_close(s);
    T.off = 0;
    tt_check(&T); /* the file is empty */
}

/* ---- the run docs/walkthrough.md quotes ------------------------------------------------- */
/* A threaded stack traced with trace=all into a file (as a user would):
 * the irp and wsk lines of one WskSendTo and one WskReceiveFrom, exact but
 * for the time column. */
static struct wt W;
static char wpath[64];

static int setup_walk(void **state)
{
    (void)state;
    snprintf(wpath, sizeof wpath, "/tmp/wss-trace-walk-XXXXXX");
    int fd = mkstemp(wpath);
    assert_true(fd >= 0);
    close(fd);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s;trace=all;trace-file=%s", WT_CONFIG, wpath);
    wt_stack_up(&W, cfg);
    struct ip_addr peer = ip4(WT_PEER_IP);
    assert_int_equal(stack_neigh_add_static(W.st, &peer, wt_peer_mac), 0);
    WSK_CLIENT_NPI npi = {NULL, &wt_client_dispatch};
    assert_int_equal(WsksRegisterOnStack(W.st, &npi, &W.reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&W.reg, WSK_INFINITE_WAIT, &W.npi), STATUS_SUCCESS);
    return 0;
}
static int teardown_walk(void **state)
{
    (void)state;
    wt_teardown(&W);
    unlink(wpath);
    return 0;
}

/* The irp and wsk lines of the file, without the time column. */
static unsigned walk_lines(char lines[][TT_LEN])
{
    FILE *f = fopen(wpath, "r");
    assert_non_null(f);
    char buf[1024];
    unsigned n = 0;
    bool dump = getenv("WSKSTACK_TRACE_DUMP") != NULL;
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = '\0';
        if (dump)
            fprintf(stderr, "TRACE %s\n", buf);
        char *rest = strchr(buf, ' '); /* "<sec>.<ns> <layer> <dir> <msg>" */
        assert_non_null(rest);
        rest++;
        if (strncmp(rest, "irp ", 4) != 0 && strncmp(rest, "wsk ", 4) != 0)
            continue;
        assert_true(n < TT_MAX);
        snprintf(lines[n++], TT_LEN, "%s", rest);
    }
    fclose(f);
    return n;
}

static void test_walkthrough_run(void **state)
{
    (void)state;
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = W.npi.Dispatch->WskSocket(W.npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                           WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL, NULL, NULL,
                                           NULL, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    PWSK_SOCKET s = (PWSK_SOCKET)w.info;
    void *sock_irp = VP(w.irp);
    wt_irp_reuse(&w);
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_OUR_IP1, 5000);
    assert_int_equal(wt_dg(s)->WskBind(s, (PSOCKADDR)&sin, 0, w.irp), STATUS_SUCCESS);
    void *bind_irp = VP(w.irp);
    wt_irp_fini(&w);

    uint8_t hello[5] = {'h', 'e', 'l', 'l', 'o'};
    PMDL m = wt_mdl(hello, sizeof hello);
    WSK_BUF b = {m, 0, sizeof hello};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7000);
    wt_irp_init(&w);
    r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    void *send_irp = VP(w.irp);
    wt_irp_fini(&w);
    IoFreeMdl(m);
    uint8_t frame[128];
    assert_int_equal(wt_pop(&W, frame, sizeof frame, 2000), 14 + 20 + 8 + 5);

    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    void *recv_irp = VP(rx.w.irp);
    wt_inject_udp(&W, WT_PEER_IP, WT_OUR_IP1, 7000, 5000, "abc", 3);
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_SUCCESS);
    wt_rx_fini(&rx);

    char want[16][TT_LEN];
    unsigned k = 0;
    snprintf(want[k++], TT_LEN, "irp - issued WskSocket irp=%p", sock_irp);
    snprintf(want[k++], TT_LEN, "irp - completed WskSocket irp=%p STATUS_SUCCESS info=%lu",
             sock_irp, (unsigned long)(uintptr_t)s);
    snprintf(want[k++], TT_LEN, "irp - issued WskBind irp=%p", bind_irp);
    snprintf(want[k++], TT_LEN, "wsk - bind done: STATUS_SUCCESS, port 5000");
    snprintf(want[k++], TT_LEN, "irp - completed WskBind irp=%p STATUS_SUCCESS info=0", bind_irp);
    snprintf(want[k++], TT_LEN, "irp - issued WskSendTo irp=%p", send_irp);
    snprintf(want[k++], TT_LEN, "wsk tx send accepted: 5 bytes, handed to the device");
    snprintf(want[k++], TT_LEN, "irp - pended WskSendTo irp=%p STATUS_PENDING", send_irp);
    snprintf(want[k++], TT_LEN, "irp - completed WskSendTo irp=%p STATUS_SUCCESS info=5",
             send_irp);
    snprintf(want[k++], TT_LEN, "irp - issued WskReceiveFrom irp=%p", recv_irp);
    snprintf(want[k++], TT_LEN, "irp - pended WskReceiveFrom irp=%p STATUS_PENDING", recv_irp);
    snprintf(want[k++], TT_LEN, "wsk rx receive: datagram of 3 bytes delivered to a pending irp");
    snprintf(want[k++], TT_LEN, "irp - completed WskReceiveFrom irp=%p STATUS_SUCCESS info=3",
             recv_irp);
    static char got[TT_MAX][TT_LEN];
    unsigned n = walk_lines(got);
    if (n != k)
        for (unsigned i = 0; i < n; i++)
            print_message("walk[%u] %s\n", i, got[i]);
    assert_int_equal(n, k);
    for (unsigned i = 0; i < n; i++)
        assert_string_equal(got[i], want[i]);
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_socket_bind_local_close, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_failures_and_refused_irps, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_control_socket, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_client_level_calls, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_sendto_and_sendmessages, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_receivefrom_pending_and_immediate, setup_irp,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_receive_cancel, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_send_cancel_while_resolving, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_close_completes_pending_receive, setup_irp,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_call_from_completion_routine_pends, setup_irp,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_json_fields, setup_json, teardown),
        cmocka_unit_test_setup_teardown(test_off_evaluates_nothing, setup_irp, teardown),
        cmocka_unit_test_setup_teardown(test_off_prints_nothing, setup_off, teardown),
        cmocka_unit_test_setup_teardown(test_walkthrough_run, setup_walk, teardown_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
