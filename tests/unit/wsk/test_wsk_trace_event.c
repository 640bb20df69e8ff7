/* SPDX-License-Identifier: MIT */
/*
 * The wsk trace layer (issue 6): the exact line of each socket-level
 * decision of the provider - bind done or refused and why, a send refused
 * and why (the socket's state, the buffer, the destination, the control
 * messages, the stack's own refusal), the source an IN_PKTINFO chose, the
 * destination a fixed address supplied, datagrams dropped by the fixed
 * remote address or a full receive queue (with their counter), each
 * WskReceiveFromEvent indication with the client's answer, WskRelease,
 * the event switched on and off, and what a close cancelled.  Text with
 * TRACE_F_NOTIME and JSON (counter, src, dst, call, status), on a stack
 * without a receive thread (test_wsk_trace_fixture.h).
 */
#include "test_wsk_trace_fixture.h"

static struct tt T;

static int setup_wsk(void **state)
{
    (void)state;
    tt_up(&T, TRACE_WSK, TRACE_FMT_TEXT);
    return 0;
}
static int setup_both(void **state)
{
    (void)state;
    tt_up(&T, TRACE_WSK | TRACE_IRP, TRACE_FMT_TEXT);
    return 0;
}
static int setup_json(void **state)
{
    (void)state;
    tt_up(&T, TRACE_WSK, TRACE_FMT_JSON);
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    tt_down(&T);
    return 0;
}

static PWSK_SOCKET bound_socket(const void *dispatch, uint16_t port)
{
    PIRP irp;
    PWSK_SOCKET s = tt_socket(&T, dispatch, &irp);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, port), STATUS_SUCCESS);
    tt_skip(&T);
    return s;
}

/* A datagram from peer ip:sport to our 192.0.2.1:dport, processed now. */
static void inject(uint32_t ip, uint16_t sport, uint16_t dport, const char *data, size_t len)
{
    wt_inject_udp(&T.w, ip, WT_OUR_IP1, sport, dport, data, len);
    tt_poll(&T);
}

/* ---- bind ------------------------------------------------------------------------------ */
static void test_bind_lines(void **state)
{
    (void)state;
    PIRP irp;
    PWSK_SOCKET a = tt_socket(&T, NULL, &irp);
    PWSK_SOCKET b = tt_socket(&T, NULL, &irp);
    PWSK_SOCKET c = tt_socket(&T, NULL, &irp);
    assert_int_equal(wt_bind(a, WT_OUR_IP1, 5000), STATUS_SUCCESS);
    tt_want(&T, "wsk - bind done: STATUS_SUCCESS, port 5000");
    assert_int_equal(wt_bind(a, WT_OUR_IP1, 5001), STATUS_INVALID_DEVICE_STATE);
    tt_want(&T, "wsk - bind refused: STATUS_INVALID_DEVICE_STATE, port 5001 (already bound)");
    assert_int_equal(wt_bind(b, WT_OUR_IP1, 5000), STATUS_ADDRESS_ALREADY_ASSOCIATED);
    tt_want(&T, "wsk - bind refused: STATUS_ADDRESS_ALREADY_ASSOCIATED, port 5000 (address and "
                "port in use (EADDRINUSE))");
    assert_int_equal(wt_bind(b, 0xC0000263u /* 192.0.2.99 */, 5000), STATUS_INVALID_ADDRESS);
    tt_want(&T, "wsk - bind refused: STATUS_INVALID_ADDRESS, port 5000 (address not one of the "
                "stack's (EADDRNOTAVAIL))");
    assert_int_equal(wt_bind(c, WT_OUR_IP1, 0), STATUS_SUCCESS);
    tt_want(&T, "wsk - bind done: STATUS_SUCCESS, port %u (ephemeral)", wt_local_port(c));
    tt_check(&T);
}

/* ---- sends ----------------------------------------------------------------------------- */
/* One INT cmsg, or an IN_PKTINFO one, in c; returns its length. */
static ULONG pktinfo_cmsg(uint64_t *c, uint32_t src)
{
    memset(c, 0, 32);
    CMSGHDR h = {WSA_CMSG_LEN(sizeof(IN_PKTINFO)), IPPROTO_IP, IP_PKTINFO};
    memcpy(c, &h, sizeof h);
    uint8_t *pi = (uint8_t *)c + WSA_CMSGDATA_ALIGN(sizeof(CMSGHDR));
    wt_be32(pi, src); /* ipi_addr; ipi_ifindex 0 */
    return (ULONG)WSA_CMSG_SPACE(sizeof(IN_PKTINFO));
}

static void expect_send(PWSK_SOCKET s, uint32_t ip, ULONG len, PCMSGHDR ctl, ULONG ctl_len,
                        NTSTATUS want)
{
    NTSTATUS ret;
    PIRP irp;
    assert_int_equal(tt_sendto(s, ip, 7000, len, ctl, ctl_len, &ret, &irp), want);
}

static void test_send_refused_and_why(void **state)
{
    (void)state;
    PIRP irp;
    PWSK_SOCKET s = tt_socket(&T, NULL, &irp);
    expect_send(s, WT_PEER_IP, 5, NULL, 0, STATUS_INVALID_DEVICE_STATE);
    tt_want(&T, "wsk tx send refused: STATUS_INVALID_DEVICE_STATE (socket not bound)");
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_INVALID_DEVICE_STATE);
    wt_rx_fini(&rx);
    tt_want(&T, "wsk rx receive refused: STATUS_INVALID_DEVICE_STATE (socket not bound)");
    tt_check(&T);

    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5000), STATUS_SUCCESS);
    tt_skip(&T);
    expect_send(s, WT_PEER_IP, 65508, NULL, 0, STATUS_INVALID_BUFFER_SIZE);
    tt_want(&T, "wsk tx send refused: STATUS_INVALID_BUFFER_SIZE (more than 65507 bytes, the UDP "
                "over IPv4 maximum)");
    expect_send(s, 0, 5, NULL, 0, STATUS_INVALID_PARAMETER);
    tt_want(&T, "wsk tx send refused: STATUS_INVALID_PARAMETER (RemoteAddress NULL and no fixed "
                "address set)");
    expect_send(s, 0xC00002FFu /* 192.0.2.255 */, 5, NULL, 0, STATUS_ACCESS_DENIED);
    tt_want(&T, "wsk tx send refused: STATUS_ACCESS_DENIED (broadcast destination without "
                "SO_BROADCAST)");
    expect_send(s, 0xCB007105u /* 203.0.113.5 */, 5, NULL, 0, STATUS_NETWORK_UNREACHABLE);
    tt_want(&T, "wsk tx send refused: STATUS_NETWORK_UNREACHABLE (no route to the destination "
                "(ENETUNREACH))");
    uint64_t c[4];
    memset(c, 0, sizeof c);
    wt_int_cmsg((uint8_t *)c, IPPROTO_IP, IP_TOS, 300);
    expect_send(s, WT_PEER_IP, 5, (PCMSGHDR)c, 24, STATUS_INVALID_PARAMETER);
    tt_want(&T, "wsk tx send refused: STATUS_INVALID_PARAMETER (IP_TOS / IP_ECN out of range)");
    tt_check(&T);
}

static void test_source_destination_and_filter(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(NULL, 5000);
    uint64_t c[4];
    ULONG cl = pktinfo_cmsg(c, WT_OUR_IP2);
    expect_send(s, WT_PEER_IP, 5, (PCMSGHDR)c, cl, STATUS_SUCCESS);
    tt_want(&T, "wsk tx send source 192.0.2.2 from IN_PKTINFO (ifindex 0)");
    tt_want(&T, "wsk tx send accepted: 5 bytes, handed to the device");
    cl = pktinfo_cmsg(c, 0);
    expect_send(s, WT_PEER_IP, 5, (PCMSGHDR)c, cl, STATUS_SUCCESS);
    tt_want(&T, "wsk tx send source: IN_PKTINFO without an address, the stack chooses "
                "(ifindex 0)");
    tt_want(&T, "wsk tx send accepted: 5 bytes, handed to the device");
    tt_check(&T);

    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, WT_PEER_IP, 7000, 16),
                     STATUS_SUCCESS);
    tt_want(&T, "wsk - fixed remote address set: 192.0.2.10:7000 (SIO_WSK_SET_REMOTE_ADDRESS), "
                "datagrams from any other address are dropped");
    expect_send(s, 0, 5, NULL, 0, STATUS_SUCCESS);
    tt_want(&T, "wsk tx send destination 192.0.2.10:7000 from SIO_WSK_SET_REMOTE_ADDRESS "
                "(RemoteAddress NULL)");
    tt_want(&T, "wsk tx send accepted: 5 bytes, handed to the device");
    int64_t in_err = wt_counter(&T.w, "UdpInErrors");
    inject(0xC000020Bu /* 192.0.2.11 */, 7000, 5000, "abc", 3);
    tt_want(&T, "wsk rx drop UdpInErrors: datagram of 3 bytes from 192.0.2.11:7000, not from "
                "the fixed remote address 192.0.2.10:7000 (SIO_WSK_SET_REMOTE_ADDRESS)");
    inject(WT_PEER_IP, 7001, 5000, "de", 2);
    tt_want(&T, "wsk rx drop UdpInErrors: datagram of 2 bytes from 192.0.2.10:7001, not from "
                "the fixed remote address 192.0.2.10:7000 (SIO_WSK_SET_REMOTE_ADDRESS)");
    inject(WT_PEER_IP, 7000, 5000, "f", 1);
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 1 bytes queued (1 waiting)");
    assert_int_equal(wt_counter(&T.w, "UdpInErrors"), in_err + 2);
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, 0, 0, 0), STATUS_SUCCESS);
    tt_want(&T, "wsk - fixed remote address cleared (SIO_WSK_SET_REMOTE_ADDRESS)");
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_SENDTO_ADDRESS, WT_PEER_IP, 7002, 16),
                     STATUS_SUCCESS);
    tt_want(&T, "wsk - fixed sendto address set: 192.0.2.10:7002 (SIO_WSK_SET_SENDTO_ADDRESS)");
    expect_send(s, 0, 5, NULL, 0, STATUS_SUCCESS);
    tt_want(&T, "wsk tx send destination 192.0.2.10:7002 from SIO_WSK_SET_SENDTO_ADDRESS "
                "(RemoteAddress NULL)");
    tt_want(&T, "wsk tx send accepted: 5 bytes, handed to the device");
    tt_check(&T);
}

static void test_sendmessages_lines(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(NULL, 5000);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_DONTFRAGMENT, 1), STATUS_SUCCESS);
    tt_skip(&T);
    static uint8_t big[2000];
    uint8_t small[10] = "0123456789";
    PMDL ms = wt_mdl(small, sizeof small), mb = wt_mdl(big, sizeof big);
    WSK_BUF_LIST l2 = {NULL, {mb, 0, sizeof big}};
    WSK_BUF_LIST l1 = {&l2, {ms, 0, sizeof small}};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7000);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskSendMessages(s, &l1, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(w.info, 10); /* the bytes that left before the failure */
    tt_want(&T, "wsk tx send accepted: 1 of 2 datagram(s), 10 bytes, 1 handed to the device, 0 "
                "waiting for the neighbour");
    tt_want(&T, "wsk tx send refused: STATUS_INVALID_BUFFER_SIZE (datagram 2 of 2: larger than "
                "the MTU with don't-fragment set (EMSGSIZE); the list stops there)");
    tt_check(&T);

    /* Nothing left: an immediate failure, as WskSendTo reports it. */
    WSK_BUF_LIST only = {NULL, {mb, 0, sizeof big}};
    wt_irp_reuse(&w);
    r = wt_dg(s)->WskSendMessages(s, &only, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_INVALID_BUFFER_SIZE);
    tt_want(&T, "wsk tx send refused: STATUS_INVALID_BUFFER_SIZE (larger than the MTU with "
                "don't-fragment set (EMSGSIZE))");
    l2.Buffer.Length = 3;
    wt_irp_reuse(&w);
    r = wt_dg(s)->WskSendMessages(s, &l1, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    tt_want(&T, "wsk tx send accepted: 2 of 2 datagram(s), 13 bytes, 2 handed to the device, 0 "
                "waiting for the neighbour");
    tt_check(&T);
    wt_irp_fini(&w);
    IoFreeMdl(ms);
    IoFreeMdl(mb);
}

/* ---- the receive queue bound ------------------------------------------------------------ */
static void test_receive_queue_full(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(NULL, 5000);
    assert_int_equal(wt_setopt(s, SOL_SOCKET, SO_RCVBUF, 8), STATUS_SUCCESS);
    tt_skip(&T);
    int64_t full = wt_counter(&T.w, "UdpRcvbufErrors");
    inject(WT_PEER_IP, 7000, 5000, "12345", 5);
    inject(WT_PEER_IP, 7000, 5000, "67890", 5);
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 5 bytes queued (1 waiting)");
    tt_want(&T, "wsk rx drop UdpRcvbufErrors: datagram of 5 bytes from 192.0.2.10:7000, receive "
                "queue full (5 + 5 bytes > SO_RCVBUF 8)");
    tt_check(&T);
    assert_int_equal(wt_counter(&T.w, "UdpRcvbufErrors"), full + 1);

    PWSK_SOCKET d = bound_socket(NULL, 5001);
    for (unsigned i = 1; i <= 64; i++) { /* the 64-datagram bound */
        inject(WT_PEER_IP, 7000, 5001, "x", 1);
        tt_want(&T, "wsk rx receive: no irp pending, datagram of 1 bytes queued (%u waiting)", i);
    }
    inject(WT_PEER_IP, 7000, 5001, "y", 1);
    tt_want(&T, "wsk rx drop UdpRcvbufErrors: datagram of 1 bytes from 192.0.2.10:7000, receive "
                "queue full (64 of 64 datagrams)");
    tt_check(&T);
    assert_int_equal(wt_counter(&T.w, "UdpRcvbufErrors"), full + 2);
    wt_close(d);
    tt_want(&T, "wsk - close: 0 pending receive(s) cancelled, 0 datagram(s) waiting for the "
                "neighbour cancelled, 64 queued datagram(s) dropped");
    tt_check(&T);
}

/* ---- receive indications ----------------------------------------------------------------- */
static _Atomic NTSTATUS ev_answer;           /* what the callback returns */
static _Atomic(PWSK_DATAGRAM_INDICATION) ev_kept; /* the list, when it returns PENDING */
static atomic_int ev_calls;

static NTSTATUS WSKAPI ev_cb(PVOID ctx, ULONG Flags, PWSK_DATAGRAM_INDICATION di)
{
    (void)ctx;
    (void)Flags;
    NTSTATUS r = atomic_load(&ev_answer);
    if (r == STATUS_PENDING)
        atomic_store(&ev_kept, di);
    atomic_fetch_add(&ev_calls, 1);
    return r;
}
static const WSK_CLIENT_DATAGRAM_DISPATCH ev_dispatch = {ev_cb};

/* Every entry queued on the socket so far (an indication) has run once a
 * synchronous call on the same socket returns: its completion is queued
 * behind them on the socket's completion queue. */
static void drain(PWSK_SOCKET s)
{
    (void)wt_local_port(s);
}

static NTSTATUS event_ctl(PWSK_SOCKET s, ULONG mask)
{
    WSK_EVENT_CALLBACK_CONTROL c = {(PNPIID)&NPI_WSK_INTERFACE_ID, mask};
    return wt_dg(s)->WskControlSocket(s, WskSetOption, SO_WSK_EVENT_CALLBACK, SOL_SOCKET,
                                      sizeof c, &c, 0, NULL, NULL, NULL);
}

static void test_indication_lines(void **state)
{
    (void)state;
    atomic_store(&ev_calls, 0);
    atomic_store(&ev_answer, STATUS_SUCCESS);
    PWSK_SOCKET s = bound_socket(&ev_dispatch, 5001);
    assert_int_equal(event_ctl(s, WSK_EVENT_RECEIVE_FROM), STATUS_SUCCESS);
    tt_want(&T, "wsk - event WSK_EVENT_RECEIVE_FROM enabled, 0 datagram(s) waiting: "
                "STATUS_SUCCESS");
    inject(WT_PEER_IP, 7000, 5001, "abcd", 4);
    drain(s);
    assert_int_equal(atomic_load(&ev_calls), 1);
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 4 bytes queued (1 waiting), event "
                "indication scheduled");
    tt_want(&T, "wsk rx receive: 1 datagram(s) indicated to WskReceiveFromEvent: STATUS_SUCCESS");
    tt_check(&T);

    /* PENDING: the client keeps the list and gives it back with WskRelease. */
    atomic_store(&ev_answer, STATUS_PENDING);
    inject(WT_PEER_IP, 7000, 5001, "ef", 2);
    drain(s);
    PWSK_DATAGRAM_INDICATION di = atomic_load(&ev_kept);
    assert_non_null(di);
    assert_int_equal(wt_dg(s)->WskRelease(s, di), STATUS_SUCCESS);
    assert_int_equal(wt_dg(s)->WskRelease(s, di), STATUS_INVALID_PARAMETER);
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 2 bytes queued (1 waiting), event "
                "indication scheduled");
    tt_want(&T, "wsk rx receive: 1 datagram(s) indicated to WskReceiveFromEvent: "
                "STATUS_PENDING, the client holds them until WskRelease");
    tt_want(&T, "wsk rx release: 1 element(s) returned by the client, 0 still held: "
                "STATUS_SUCCESS");
    tt_want(&T, "wsk rx release refused: element 1 of the list is not held by the client "
                "(released already, never indicated, or a cycle), 0 held: "
                "STATUS_INVALID_PARAMETER");
    tt_check(&T);

    /* DATA_NOT_ACCEPTED: back to the queue, the event is off; a receive
     * then takes the datagram. */
    atomic_store(&ev_answer, STATUS_DATA_NOT_ACCEPTED);
    inject(WT_PEER_IP, 7000, 5001, "ghi", 3);
    drain(s);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    wt_rx_fini(&rx);
    assert_int_equal(event_ctl(s, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE), STATUS_SUCCESS);
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 3 bytes queued (1 waiting), event "
                "indication scheduled");
    tt_want(&T, "wsk rx receive: 1 datagram(s) indicated to WskReceiveFromEvent: "
                "STATUS_DATA_NOT_ACCEPTED, back to the receive queue; event disabled until "
                "SO_WSK_EVENT_CALLBACK");
    tt_want(&T, "wsk rx receive: queued datagram of 3 bytes delivered to the irp");
    tt_want(&T, "wsk - event WSK_EVENT_RECEIVE_FROM disabled: STATUS_SUCCESS");
    tt_check(&T);

    /* Another answer: the datagrams are dropped. */
    atomic_store(&ev_answer, STATUS_UNSUCCESSFUL);
    assert_int_equal(event_ctl(s, WSK_EVENT_RECEIVE_FROM), STATUS_SUCCESS);
    inject(WT_PEER_IP, 7000, 5001, "j", 1);
    drain(s);
    tt_want(&T, "wsk - event WSK_EVENT_RECEIVE_FROM enabled, 0 datagram(s) waiting: "
                "STATUS_SUCCESS");
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 1 bytes queued (1 waiting), event "
                "indication scheduled");
    tt_want(&T, "wsk rx receive: 1 datagram(s) indicated to WskReceiveFromEvent: "
                "STATUS_UNSUCCESSFUL, dropped");
    tt_check(&T);
    assert_int_equal(atomic_load(&ev_calls), 4);

    /* Refused: a socket that is not bound. */
    PIRP irp;
    PWSK_SOCKET u = tt_socket(&T, &ev_dispatch, &irp);
    assert_int_equal(event_ctl(u, WSK_EVENT_RECEIVE_FROM), STATUS_INVALID_DEVICE_STATE);
    tt_want(&T, "wsk - event WSK_EVENT_RECEIVE_FROM not enabled (socket not bound): "
                "STATUS_INVALID_DEVICE_STATE");
    tt_check(&T);
}

/* Disabling the event while a callback runs: with an IRP the call pends
 * and the IRP completes right after the callback returned. */
static pthread_mutex_t hold_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_c = PTHREAD_COND_INITIALIZER;
static bool hold_entered, hold_release;

static NTSTATUS WSKAPI hold_cb(PVOID ctx, ULONG Flags, PWSK_DATAGRAM_INDICATION di)
{
    (void)ctx;
    (void)Flags;
    (void)di;
    uint64_t end = wt_now_ms() + 10000; /* bounded: a broken test does not hang */
    pthread_mutex_lock(&hold_m);
    hold_entered = true;
    pthread_cond_broadcast(&hold_c);
    while (!hold_release && wt_now_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&hold_c, &hold_m, &ts);
    }
    pthread_mutex_unlock(&hold_m);
    return STATUS_SUCCESS;
}
static const WSK_CLIENT_DATAGRAM_DISPATCH hold_dispatch = {hold_cb};

static void test_disable_while_indicating(void **state)
{
    (void)state;
    hold_entered = hold_release = false;
    PWSK_SOCKET s = bound_socket(&hold_dispatch, 5001);
    assert_int_equal(event_ctl(s, WSK_EVENT_RECEIVE_FROM), STATUS_SUCCESS);
    tt_skip(&T);
    inject(WT_PEER_IP, 7000, 5001, "abcd", 4);
    uint64_t end = wt_now_ms() + 10000;
    pthread_mutex_lock(&hold_m);
    while (!hold_entered && wt_now_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&hold_c, &hold_m, &ts);
    }
    bool entered = hold_entered;
    pthread_mutex_unlock(&hold_m);
    assert_true(entered);

    struct wt_irp w;
    wt_irp_init(&w);
    WSK_EVENT_CALLBACK_CONTROL c = {(PNPIID)&NPI_WSK_INTERFACE_ID,
                                    WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE};
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskSetOption, SO_WSK_EVENT_CALLBACK, SOL_SOCKET,
                                            sizeof c, &c, 0, NULL, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    pthread_mutex_lock(&hold_m);
    hold_release = true;
    pthread_cond_broadcast(&hold_c);
    pthread_mutex_unlock(&hold_m);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    void *p = (void *)w.irp;
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 4 bytes queued (1 waiting), event "
                "indication scheduled");
    tt_want(&T, "irp - issued WskControlSocket irp=%p", p);
    tt_want(&T, "wsk - event WSK_EVENT_RECEIVE_FROM disabled while a callback runs; the IRP "
                "completes after it: STATUS_PENDING");
    tt_want(&T, "irp - pended WskControlSocket irp=%p STATUS_PENDING", p);
    tt_want(&T, "wsk rx receive: 1 datagram(s) indicated to WskReceiveFromEvent: STATUS_SUCCESS");
    tt_want(&T, "irp - completed WskControlSocket irp=%p STATUS_SUCCESS info=0", p);
    tt_check(&T);
    wt_irp_fini(&w);
}

/* The device disappears: pending receives fail, the event gets its NULL
 * indication. */
static void test_device_gone_lines(void **state)
{
    (void)state;
    atomic_store(&ev_answer, STATUS_SUCCESS);
    atomic_store(&ev_calls, 0);
    PWSK_SOCKET s = bound_socket(&ev_dispatch, 5001);
    assert_int_equal(event_ctl(s, WSK_EVENT_RECEIVE_FROM), STATUS_SUCCESS);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    tt_skip(&T);
    memdev_set_gone(T.w.dev);
    tt_poll(&T); /* the read fails: the stack marks itself gone */
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_FILE_FORCED_CLOSED);
    wt_rx_fini(&rx);
    drain(s);
    assert_int_equal(atomic_load(&ev_calls), 1);
    tt_want(&T, "wsk - device gone: 1 pending receive(s) completed with "
                "STATUS_FILE_FORCED_CLOSED");
    tt_want(&T, "wsk rx receive: device gone indicated to WskReceiveFromEvent (DataIndication "
                "NULL): STATUS_SUCCESS");
    tt_check(&T);
    expect_send(s, WT_PEER_IP, 5, NULL, 0, STATUS_FILE_FORCED_CLOSED);
    tt_want(&T, "wsk tx send refused: STATUS_FILE_FORCED_CLOSED (device gone)");
    tt_check(&T);
}

/* ---- close ------------------------------------------------------------------------------ */
static void test_close_lines(void **state)
{
    (void)state;
    PWSK_SOCKET s = bound_socket(NULL, 5000);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    wt_close(s);
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_CANCELLED);
    wt_rx_fini(&rx);
    tt_want(&T, "wsk - close: 1 pending receive(s) cancelled, 0 datagram(s) waiting for the "
                "neighbour cancelled, 0 queued datagram(s) dropped");
    tt_check(&T);

    /* A send waiting for ARP (192.0.2.20 has no entry) is cancelled. */
    s = bound_socket(NULL, 5000);
    static uint8_t p[5] = "12345";
    PMDL m = wt_mdl(p, sizeof p);
    WSK_BUF b = {m, 0, sizeof p};
    SOCKADDR_IN to;
    wt_sin(&to, 0xC0000214u, 7000);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    inject(WT_PEER_IP, 7000, 5000, "ab", 2);
    wt_close(s);
    assert_int_equal(wt_irp_result(&w, r), STATUS_CANCELLED);
    wt_irp_fini(&w);
    IoFreeMdl(m);
    tt_want(&T, "wsk tx send accepted: 5 bytes, waiting for the neighbour");
    tt_want(&T, "wsk rx receive: no irp pending, datagram of 2 bytes queued (1 waiting)");
    tt_want(&T, "wsk - close: 0 pending receive(s) cancelled, 1 datagram(s) waiting for the "
                "neighbour cancelled, 1 queued datagram(s) dropped");
    tt_check(&T);
}

/* ---- JSON: the structured fields ---------------------------------------------------------- */
#define JWSK "{\"t\":7000000001,\"layer\":\"wsk\",\"dir\":"

static void test_json_fields(void **state)
{
    (void)state;
    atomic_store(&ev_answer, STATUS_SUCCESS);
    PWSK_SOCKET s = bound_socket(&ev_dispatch, 5000);
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, WT_PEER_IP, 7000, 16),
                     STATUS_SUCCESS);
    tt_want(&T, JWSK "\"-\",\"event\":\"fixed\",\"msg\":\"fixed remote address set: "
                     "192.0.2.10:7000 (SIO_WSK_SET_REMOTE_ADDRESS), datagrams from any other "
                     "address are dropped\",\"dst\":\"192.0.2.10\",\"call\":\"WskControlSocket\"}");
    inject(0xC000020Bu, 7000, 5000, "abc", 3);
    tt_want(&T, JWSK "\"rx\",\"event\":\"drop\",\"msg\":\"drop UdpInErrors: datagram of 3 bytes "
                     "from 192.0.2.11:7000, not from the fixed remote address 192.0.2.10:7000 "
                     "(SIO_WSK_SET_REMOTE_ADDRESS)\",\"counter\":\"UdpInErrors\","
                     "\"src\":\"192.0.2.11\"}");
    expect_send(s, 0xC00002FFu, 5, NULL, 0, STATUS_ACCESS_DENIED);
    tt_want(&T, JWSK "\"tx\",\"event\":\"refuse\",\"msg\":\"send refused: STATUS_ACCESS_DENIED "
                     "(broadcast destination without SO_BROADCAST)\",\"call\":\"WskSendTo\","
                     "\"status\":\"STATUS_ACCESS_DENIED\"}");
    assert_int_equal(event_ctl(s, WSK_EVENT_RECEIVE_FROM), STATUS_SUCCESS);
    tt_want(&T, JWSK "\"-\",\"event\":\"event\",\"msg\":\"event WSK_EVENT_RECEIVE_FROM enabled, 0 "
                     "datagram(s) waiting: STATUS_SUCCESS\",\"call\":\"WskControlSocket\","
                     "\"status\":\"STATUS_SUCCESS\"}");
    inject(WT_PEER_IP, 7000, 5000, "abcd", 4);
    drain(s);
    tt_want(&T, JWSK "\"rx\",\"event\":\"queue\",\"msg\":\"receive: no irp pending, datagram of 4 "
                     "bytes queued (1 waiting), event indication scheduled\"}");
    tt_want(&T, JWSK "\"rx\",\"event\":\"indicate\",\"msg\":\"receive: 1 datagram(s) indicated to "
                     "WskReceiveFromEvent: STATUS_SUCCESS\",\"call\":\"WskReceiveFromEvent\","
                     "\"status\":\"STATUS_SUCCESS\"}");
    tt_check(&T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bind_lines, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_send_refused_and_why, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_source_destination_and_filter, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_sendmessages_lines, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_receive_queue_full, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_indication_lines, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_disable_while_indicating, setup_both, teardown),
        cmocka_unit_test_setup_teardown(test_device_gone_lines, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_close_lines, setup_wsk, teardown),
        cmocka_unit_test_setup_teardown(test_json_fields, setup_json, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
