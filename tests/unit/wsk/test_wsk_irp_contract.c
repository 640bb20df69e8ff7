/* SPDX-License-Identifier: MIT */
/*
 * The IRP contract of WSK-SPEC 5.1 as the provider implements it (see
 * DESIGN DECISIONS in wsk/wsk_impl.h):
 *  - Irp->PendingReturned is TRUE exactly when the call returned STATUS_PENDING;
 *  - a non-pending return means the completion routine has already run;
 *  - routines run on a completion thread, never on the caller's;
 *  - IRPs in caller memory (IoInitializeIrp) reused with IoReuseIrp;
 *  - STATUS_MORE_PROCESSING_REQUIRED stops completion (the routine may free);
 *  - every IRP completes exactly once, a socket's sends in submission order
 *    (a send held back behind an earlier one waiting for ARP);
 *  - a WSK call made inside a completion routine never waits.
 */
#include "wsk_test.h"

static struct wt T;

static int setup(void **state)
{
    wt_setup(&T);
    return 0;
}
static int teardown(void **state)
{
    wt_teardown(&T);
    return 0;
}

static void check_contract(struct wt_irp *w, NTSTATUS ret)
{
    if (ret != STATUS_PENDING) {
        assert_int_equal(atomic_load(&w->calls), 1);
        assert_int_equal(w->status, ret);
        assert_false(w->pending_returned);
    } else {
        assert_true(wt_irp_wait(w, 5000));
        assert_int_equal(atomic_load(&w->calls), 1);
        assert_true(w->pending_returned);
    }
    assert_false(pthread_equal(w->thread, pthread_self()));
}

static void test_pending_returned_and_thread(void **state)
{
    struct wt_irp w;
    wt_irp_init(&w);
    /* socket: synchronous success */
    NTSTATUS r = T.npi.Dispatch->WskSocket(T.npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                           WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL, NULL, NULL,
                                           NULL, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    check_contract(&w, r);
    PWSK_SOCKET s = (PWSK_SOCKET)w.info;
    /* bind: synchronous */
    wt_irp_reuse(&w);
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_OUR_IP1, 5200);
    r = wt_dg(s)->WskBind(s, (PSOCKADDR)&sin, 0, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    check_contract(&w, r);
    /* send: the fast path returns STATUS_PENDING */
    wt_irp_reuse(&w);
    uint8_t data[4] = "abc";
    PMDL m = wt_mdl(data, 3);
    WSK_BUF b = {m, 0, 3};
    wt_sin(&sin, WT_PEER_IP, 7200);
    r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&sin, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    check_contract(&w, r);
    assert_int_equal(w.status, STATUS_SUCCESS);
    assert_int_equal(w.info, 3);
    uint8_t f[100];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 1000), 45);
    /* immediate failure: completed before the return */
    wt_irp_reuse(&w);
    b.Length = 100000;
    r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&sin, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_INVALID_BUFFER_SIZE);
    check_contract(&w, r);
    assert_int_equal(w.info, 0);
    /* a receive that pends */
    wt_irp_reuse(&w);
    uint8_t rbuf[16];
    PMDL rm = wt_mdl(rbuf, sizeof(rbuf));
    WSK_BUF rb = {rm, 0, sizeof(rbuf)};
    r = wt_dg(s)->WskReceiveFrom(s, &rb, 0, NULL, NULL, NULL, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 1, 5200, "x", 1);
    check_contract(&w, r);
    assert_int_equal(w.info, 1);
    /* control without an IRP: inline, nothing completed */
    ULONG on = 1;
    r = wt_dg(s)->WskControlSocket(s, WskSetOption, IP_PKTINFO, IPPROTO_IP, sizeof(on), &on, 0,
                                   NULL, NULL, NULL);
    assert_int_equal(r, STATUS_SUCCESS);
    /* an IOCTL a datagram socket does not support, with an IRP: the
     * failure is returned AND the IRP completed */
    wt_irp_reuse(&w);
    r = wt_dg(s)->WskControlSocket(s, WskIoctl, SIO_WSK_QUERY_IDEAL_SEND_BACKLOG, 0, 0, NULL,
                                   0, NULL, NULL, w.irp);
    assert_int_equal(r, STATUS_NOT_SUPPORTED);
    check_contract(&w, r);
    /* close */
    wt_irp_reuse(&w);
    r = wt_dg(s)->WskCloseSocket(s, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    check_contract(&w, r);
    /* a NULL IRP where one is required: nothing to complete */
    assert_int_equal(T.npi.Dispatch->WskSocket(T.npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                               WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL, NULL, NULL,
                                               NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    wt_irp_fini(&w);
    IoFreeMdl(m);
    IoFreeMdl(rm);
}

/* MsQuic / WireGuard style: the IRP lives in the caller's memory. */
struct embedded {
    _Alignas(16) UCHAR irp_mem[sizeof(IRP) + sizeof(IO_STACK_LOCATION)];
    atomic_int calls;
    NTSTATUS status;
    ULONG_PTR info;
};

static NTSTATUS embedded_done(PDEVICE_OBJECT d, PIRP irp, PVOID ctx)
{
    struct embedded *e = ctx;
    e->status = irp->IoStatus.Status;
    e->info = irp->IoStatus.Information;
    atomic_fetch_add(&e->calls, 1);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static bool embedded_done_n(void *ctx)
{
    struct embedded *e = ctx;
    return atomic_load(&e->calls) > 0;
}

static void test_caller_memory_irp_reused_1000_times(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5201), STATUS_SUCCESS);
    struct embedded *e = calloc(1, sizeof(*e));
    PIRP irp = (PIRP)e->irp_mem;
    IoInitializeIrp(irp, sizeof(e->irp_mem), 1);
    uint8_t data[8];
    PMDL m = wt_mdl(data, sizeof(data));
    WSK_BUF b = {m, 0, sizeof(data)};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7201);
    uint8_t f[100];
    for (int i = 0; i < 1000; i++) {
        if (i > 0)
            IoReuseIrp(irp, STATUS_UNSUCCESSFUL);
        atomic_store(&e->calls, 0);
        IoSetCompletionRoutine(irp, embedded_done, e, TRUE, TRUE, TRUE);
        memcpy(data, &i, sizeof(i));
        NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, irp);
        assert_true(r == STATUS_PENDING || r == STATUS_SUCCESS);
        assert_true(wt_until(embedded_done_n, e, 5000));
        assert_int_equal(atomic_load(&e->calls), 1);
        assert_int_equal(e->status, STATUS_SUCCESS);
        assert_int_equal(e->info, 8);
        assert_int_equal(wt_pop(&T, f, sizeof(f), 1000), 14 + 20 + 8 + 8);
        int got;
        memcpy(&got, f + 42, sizeof(got));
        assert_int_equal(got, i);
    }
    IoFreeMdl(m);
    free(e);
    wt_close(s);
}

/* The routine frees the IRP and returns MORE_PROCESSING_REQUIRED: the
 * provider and IofCompleteRequest must not touch it again (ASan). */
static atomic_int freed_calls;
static NTSTATUS free_in_routine(PDEVICE_OBJECT d, PIRP irp, PVOID ctx)
{
    IoFreeIrp(irp);
    atomic_fetch_add(&freed_calls, 1);
    return STATUS_MORE_PROCESSING_REQUIRED;
}
static bool freed_n(void *ctx)
{
    return atomic_load(&freed_calls) >= *(int *)ctx;
}

/* A routine that lets completion continue (STATUS_SUCCESS). */
static NTSTATUS continue_routine(PDEVICE_OBJECT d, PIRP irp, PVOID ctx)
{
    atomic_fetch_add((atomic_int *)ctx, 1);
    return STATUS_SUCCESS;
}

static void test_more_processing_required_honoured(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5202), STATUS_SUCCESS);
    uint8_t data[2] = {1, 2};
    PMDL m = wt_mdl(data, 2);
    WSK_BUF b = {m, 0, 2};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7202);
    atomic_store(&freed_calls, 0);
    for (int i = 0; i < 50; i++) {
        PIRP irp = IoAllocateIrp(1, FALSE);
        IoSetCompletionRoutine(irp, free_in_routine, NULL, TRUE, TRUE, TRUE);
        wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, irp);
        /* immediate failures too */
        irp = IoAllocateIrp(1, FALSE);
        IoSetCompletionRoutine(irp, free_in_routine, NULL, TRUE, TRUE, TRUE);
        assert_int_equal(wt_dg(s)->WskSendTo(s, &b, 0, NULL, 0, NULL, irp),
                         STATUS_INVALID_PARAMETER);
    }
    int want = 100;
    assert_true(wt_until(freed_n, &want, 5000));
    wt_sleep_ms(20);
    assert_int_equal(atomic_load(&freed_calls), 100);
    uint8_t f[100];
    for (int i = 0; i < 50; i++)
        assert_int_equal(wt_pop(&T, f, sizeof(f), 1000), 44);

    /* STATUS_SUCCESS from the routine: completion finishes, the IRP is
     * still ours to free afterwards */
    atomic_int calls = 0;
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(irp, continue_routine, &calls, TRUE, TRUE, TRUE);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, NULL, 0, NULL, irp);
    assert_int_equal(r, STATUS_INVALID_PARAMETER);
    assert_int_equal(atomic_load(&calls), 1);
    IoFreeIrp(irp);
    IoFreeMdl(m);
    wt_close(s);
}

/* Completion order: record the order in which routines run. */
static atomic_int order_seq;
struct ordered {
    struct wt_irp w;
    int order;
};
static NTSTATUS ordered_routine(PDEVICE_OBJECT d, PIRP irp, PVOID ctx)
{
    struct ordered *o = ctx;
    o->order = atomic_fetch_add(&order_seq, 1);
    return wt_irp_routine(d, irp, &o->w);
}

static void test_send_completions_in_submission_order(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5203), STATUS_SUCCESS);
    uint8_t data[1] = {0x42};
    PMDL m = wt_mdl(data, 1);
    WSK_BUF b = {m, 0, 1};
    atomic_store(&order_seq, 0);
    enum { N = 6 };
    struct ordered o[N];
    SOCKADDR_IN to;
    for (int i = 0; i < N; i++) {
        wt_irp_init(&o[i].w);
        IoSetCompletionRoutine(o[i].w.irp, ordered_routine, &o[i], TRUE, TRUE, TRUE);
        o[i].order = -1;
    }
    /* 0: to 192.0.2.99 (waits for ARP), 1..4: to the known peer (written at
     * once), 5: no route (fails at once, but after them in order) */
    wt_sin(&to, 0xC0000263u, 7203);
    assert_int_equal(wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, o[0].w.irp),
                     STATUS_PENDING);
    wt_sin(&to, WT_PEER_IP, 7203);
    for (int i = 1; i < 5; i++)
        assert_int_equal(wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, o[i].w.irp),
                         STATUS_PENDING);
    wt_sin(&to, 0xC6336401u, 7203);
    /* an immediate failure behind in-flight sends is reported pending */
    assert_int_equal(wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, o[5].w.irp),
                     STATUS_PENDING);
    wt_sleep_ms(50);
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&o[i].w.calls), 0); /* all held behind #0 */

    /* the ARP request goes out; answer it */
    uint8_t f[100];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 1000), 42);
    for (int i = 1; i < 5; i++)
        assert_int_equal(wt_pop(&T, f, sizeof(f), 1000), 43);
    static const uint8_t reply[42] = {
        0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x63, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
        0x02, 0, 0, 0, 0, 0x63, 192, 0, 2, 99,
        0x02, 0, 0, 0, 0, 0x01, 192, 0, 2, 1};
    uint8_t frame[60] = {0};
    memcpy(frame, reply, sizeof(reply));
    assert_int_equal(memdev_inject(T.dev, frame, sizeof(frame)), 0);
    for (int i = 0; i < N; i++)
        assert_true(wt_irp_wait(&o[i].w, 3000));
    assert_int_equal(wt_pop(&T, f, sizeof(f), 1000), 43); /* #0 left after the reply */
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&o[i].w.calls), 1);
        assert_int_equal(o[i].order, i);
        assert_true(o[i].w.pending_returned);
        assert_int_equal(o[i].w.status, i < 5 ? STATUS_SUCCESS : STATUS_NETWORK_UNREACHABLE);
        assert_int_equal(o[i].w.info, i < 5 ? 1 : 0);
        wt_irp_fini(&o[i].w);
    }
    IoFreeMdl(m);
    wt_close(s);
}

/* Many threads, many IRPs: each completes exactly once. */
struct hammer {
    PWSK_SOCKET s;
    int sends;
    atomic_int *bad;
};
static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    uint8_t data[16];
    PMDL m = wt_mdl(data, sizeof(data));
    WSK_BUF b = {m, 0, sizeof(data)};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7204);
    struct wt_irp w;
    wt_irp_init(&w);
    for (int i = 0; i < h->sends; i++) {
        if (i)
            wt_irp_reuse(&w);
        NTSTATUS r = wt_dg(h->s)->WskSendTo(h->s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
        if (r != STATUS_PENDING && r != STATUS_SUCCESS)
            atomic_fetch_add(h->bad, 1);
        if (!wt_irp_wait(&w, 5000))
            atomic_fetch_add(h->bad, 1);
        wt_sleep_ms(0);
        if (atomic_load(&w.calls) != 1 || w.status != STATUS_SUCCESS)
            atomic_fetch_add(h->bad, 1);
    }
    wt_irp_fini(&w);
    IoFreeMdl(m);
    return NULL;
}

static void test_each_irp_completes_once_threads(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5204), STATUS_SUCCESS);
    atomic_int bad = 0;
    pthread_t th[4];
    struct hammer h = {s, 200, &bad};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer_thread, &h);
    uint8_t f[100];
    unsigned frames = 0;
    uint64_t end = wt_now_ms() + 20000;
    while (frames < 800 && wt_now_ms() < end)
        if (memdev_pop_tx(T.dev, f, sizeof(f)) >= 0)
            frames++;
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    assert_int_equal(frames, 800);
    wt_close(s);
}

/* A WSK call from inside a completion routine: must not wait (it runs on
 * the completion thread that would have to deliver its completion). */
struct nested {
    PWSK_SOCKET s;
    struct wt_irp inner;
    SOCKADDR_IN addr;
    NTSTATUS inner_ret;
    atomic_int done;
};
static NTSTATUS nested_outer(PDEVICE_OBJECT d, PIRP irp, PVOID ctx)
{
    struct nested *n = ctx;
    n->inner_ret = wt_dg(n->s)->WskGetLocalAddress(n->s, (PSOCKADDR)&n->addr, n->inner.irp);
    atomic_store(&n->done, 1);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static void test_call_from_completion_routine(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5205), STATUS_SUCCESS);
    struct nested n;
    memset(&n, 0, sizeof(n));
    n.s = s;
    wt_irp_init(&n.inner);
    PIRP outer = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(outer, nested_outer, &n, TRUE, TRUE, TRUE);
    SOCKADDR_IN sin;
    memset(&sin, 0, sizeof(sin));
    assert_int_equal(wt_dg(s)->WskGetLocalAddress(s, (PSOCKADDR)&sin, outer), STATUS_SUCCESS);
    assert_int_equal(atomic_load(&n.done), 1);
    assert_int_equal(n.inner_ret, STATUS_PENDING);
    assert_true(wt_irp_wait(&n.inner, 3000));
    assert_int_equal(n.inner.status, STATUS_SUCCESS);
    assert_true(n.inner.pending_returned);
    assert_int_equal(wt_sin_port(&n.addr), 5205);
    wt_irp_fini(&n.inner);
    IoFreeIrp(outer);
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pending_returned_and_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_memory_irp_reused_1000_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_processing_required_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_completions_in_submission_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_irp_completes_once_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_from_completion_routine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
