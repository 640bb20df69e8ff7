/* SPDX-License-Identifier: MIT */
/*
 * WskReceiveFromEvent: SO_WSK_EVENT_CALLBACK enable/disable, the indication
 * list (MDL, RemoteAddress, IP_PKTINFO, batching, order), precedence of a
 * pending WskReceiveFrom, STATUS_PENDING with element-wise WskRelease after
 * the client overwrote Next, STATUS_DATA_NOT_ACCEPTED (then WskReceiveFrom;
 * re-enable indicates the queued ones first), static enable through
 * WskControlClient, disable with a callback in flight (EVENT_PENDING /
 * PENDING), close waiting for a callback in progress and no callback
 * after close, the NULL indication when the device disappears, and the
 * argument errors.  Threaded: runs under TSan in CI ("event").
 */
#include "wsk_test_dgram.h"
#include "wsk/wsk_impl.h"

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

/* ---- the client's callback --------------------------------------------------- */
#define EV_MAX 8
struct evc {
    pthread_mutex_t m;
    pthread_cond_t c;
    int calls;
    int null_calls;
    NTSTATUS ret;               /* what the callback returns */
    bool block;                 /* wait in the callback until unblocked */
    bool inside;                /* a callback is waiting in there */
    /* copy of the last list */
    unsigned n;
    ULONG flags;
    uint8_t data[EV_MAX][64];
    size_t len[EV_MAX];
    uint32_t from_ip[EV_MAX];
    uint16_t from_port[EV_MAX];
    ULONG ctl_len[EV_MAX];
    uint8_t ctl[EV_MAX][48];
    bool mapped[EV_MAX];        /* MappedSystemVa set and equal to the data */
    PWSK_DATAGRAM_INDICATION elem[EV_MAX];
    pthread_t thread;
};

static NTSTATUS WSKAPI ev_cb(PVOID ctx, ULONG Flags, PWSK_DATAGRAM_INDICATION di)
{
    struct evc *e = ctx;
    pthread_mutex_lock(&e->m);
    e->thread = pthread_self();
    if (di == NULL) {
        e->null_calls++;
        pthread_cond_broadcast(&e->c);
        pthread_mutex_unlock(&e->m);
        return STATUS_SUCCESS;
    }
    e->flags = Flags;
    unsigned n = 0;
    for (PWSK_DATAGRAM_INDICATION i = di; i != NULL && n < EV_MAX; i = i->Next, n++) {
        e->elem[n] = i;
        e->len[n] = i->Buffer.Length;
        PMDL m = i->Buffer.Mdl;
        if (i->Buffer.Length > 0) {
            uint8_t *va = MmGetSystemAddressForMdlSafe(m, NormalPagePriority);
            e->mapped[n] = m->MappedSystemVa == va && va != NULL;
            memcpy(e->data[n], va + i->Buffer.Offset,
                   i->Buffer.Length < 64 ? i->Buffer.Length : 64);
        } else {
            e->mapped[n] = m == NULL;
        }
        const SOCKADDR_IN *sin = (const SOCKADDR_IN *)i->RemoteAddress;
        e->from_ip[n] = sin->sin_family == AF_INET ? wt_sin_ip(sin) : 0;
        e->from_port[n] = wt_sin_port(sin);
        e->ctl_len[n] = i->ControlInfoLength;
        memset(e->ctl[n], 0, sizeof(e->ctl[n]));
        if (i->ControlInfo != NULL && i->ControlInfoLength <= sizeof(e->ctl[n]))
            memcpy(e->ctl[n], i->ControlInfo, i->ControlInfoLength);
    }
    e->n = n;
    e->calls++;
    pthread_cond_broadcast(&e->c);
    while (e->block) {
        e->inside = true;
        pthread_cond_broadcast(&e->c);
        pthread_cond_wait(&e->c, &e->m);
    }
    e->inside = false;
    NTSTATUS r = e->ret;
    pthread_mutex_unlock(&e->m);
    return r;
}

static const WSK_CLIENT_DATAGRAM_DISPATCH ev_dispatch = {ev_cb};

static void evc_init(struct evc *e)
{
    memset(e, 0, sizeof(*e));
    pthread_mutex_init(&e->m, NULL);
    pthread_cond_init(&e->c, NULL);
    e->ret = STATUS_SUCCESS;
}

static void evc_fini(struct evc *e)
{
    pthread_cond_destroy(&e->c);
    pthread_mutex_destroy(&e->m);
}

/* Wait (bounded) until calls >= n. */
static void ev_wait_calls(struct evc *e, int n)
{
    uint64_t end = wt_now_ms() + 3000;
    pthread_mutex_lock(&e->m);
    while (e->calls < n && wt_now_ms() < end) {
        pthread_mutex_unlock(&e->m);
        wt_sleep_ms(1);
        pthread_mutex_lock(&e->m);
    }
    int c = e->calls;
    pthread_mutex_unlock(&e->m);
    assert_int_equal(c, n);
}

static void ev_wait_inside(struct evc *e)
{
    uint64_t end = wt_now_ms() + 3000;
    pthread_mutex_lock(&e->m);
    while (!e->inside && wt_now_ms() < end) {
        pthread_mutex_unlock(&e->m);
        wt_sleep_ms(1);
        pthread_mutex_lock(&e->m);
    }
    bool in = e->inside;
    pthread_mutex_unlock(&e->m);
    assert_true(in);
}

static void ev_unblock(struct evc *e)
{
    pthread_mutex_lock(&e->m);
    e->block = false;
    pthread_cond_broadcast(&e->c);
    pthread_mutex_unlock(&e->m);
}

static int ev_calls(struct evc *e)
{
    pthread_mutex_lock(&e->m);
    int c = e->calls;
    pthread_mutex_unlock(&e->m);
    return c;
}

static void ev_set_ret(struct evc *e, NTSTATUS r)
{
    pthread_mutex_lock(&e->m);
    e->ret = r;
    pthread_mutex_unlock(&e->m);
}

/* A datagram socket whose client dispatch has ev_cb. */
static PWSK_SOCKET ev_socket(struct wt *t, struct evc *e)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS s = t->npi.Dispatch->WskSocket(t->npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                            WSK_FLAG_DATAGRAM_SOCKET, e, &ev_dispatch, NULL,
                                            NULL, NULL, w.irp);
    assert_int_equal(s, STATUS_SUCCESS);
    PWSK_SOCKET sock = (PWSK_SOCKET)w.info;
    wt_irp_fini(&w);
    for (int i = 0; i < WT_MAX_SOCKS; i++) {
        if (!wt_open_socks[i]) {
            wt_open_socks[i] = sock;
            break;
        }
    }
    return sock;
}

/* SO_WSK_EVENT_CALLBACK; irp: use one (its final status is returned; a
 * PENDING return leaves *pw armed and not finished). */
static NTSTATUS ev_control(PWSK_SOCKET s, ULONG mask, struct wt_irp *w)
{
    WSK_EVENT_CALLBACK_CONTROL c = {(PNPIID)&NPI_WSK_INTERFACE_ID, mask};
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskSetOption, SO_WSK_EVENT_CALLBACK, SOL_SOCKET,
                                            sizeof(c), &c, 0, NULL, NULL, w ? w->irp : NULL);
    memset(&c, 0xcc, sizeof(c));
    return r;
}

/* The IP_PKTINFO cmsg for a datagram to dst. */
static void expect_pktinfo(const uint8_t *ctl, uint32_t dst)
{
    uint8_t want[24];
    memset(want, 0, sizeof(want));
    SIZE_T len = 24;
    INT level = 0, type = 19;
    memcpy(want, &len, 8);
    memcpy(want + 8, &level, 4);
    memcpy(want + 12, &type, 4);
    wt_be32(want + 16, dst);
    ULONG ifindex = stack_ifindex(T.st);
    memcpy(want + 20, &ifindex, 4);
    assert_memory_equal(ctl, want, 24);
}

/* Indication elements the client holds on s (provider's own count; the
 * packet buffers themselves are checked by wt_teardown's leak check). */
static unsigned held(PWSK_SOCKET s)
{
    struct wsk_sock *k = (struct wsk_sock *)s;
    pthread_mutex_lock(&k->lock);
    unsigned n = k->held_count;
    pthread_mutex_unlock(&k->lock);
    return n;
}

/* ---- tests ---------------------------------------------------------------------- */
static void test_indication_and_batch(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    /* before bind */
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(wt_bind(s, 0, 6200), STATUS_SUCCESS);
    assert_int_equal(wt_set_pktinfo(s, 1), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS); /* again */

    e.block = true;
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP2, 4000, 6200, "first", 5);
    ev_wait_calls(&e, 1);
    ev_wait_inside(&e);
    pthread_mutex_lock(&e.m);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.len[0], 5);
    assert_memory_equal(e.data[0], "first", 5);
    assert_true(e.mapped[0]);
    assert_int_equal(e.from_ip[0], WT_PEER_IP);
    assert_int_equal(e.from_port[0], 4000);
    assert_int_equal(e.ctl_len[0], 24);
    expect_pktinfo(e.ctl[0], WT_OUR_IP2);
    assert_int_equal(e.flags, 0);
    assert_false(pthread_equal(e.thread, pthread_self()));
    pthread_mutex_unlock(&e.m);
    /* three arrive while the callback is busy: one list, in order */
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4001, 6200, "a", 1);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4002, 6200, "bb", 2);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4003, 6200, "", 0);
    for (int i = 0; i < 3000 && wt_counter(&T, "UdpInDatagrams") < in0 + 3; i++)
        wt_sleep_ms(1);
    assert_int_equal(wt_counter(&T, "UdpInDatagrams"), in0 + 3);
    ev_unblock(&e);
    ev_wait_calls(&e, 2);
    pthread_mutex_lock(&e.m);
    assert_int_equal(e.n, 3);
    assert_int_equal(e.len[0], 1);
    assert_int_equal(e.len[1], 2);
    assert_int_equal(e.len[2], 0);
    assert_memory_equal(e.data[0], "a", 1);
    assert_memory_equal(e.data[1], "bb", 2);
    assert_true(e.mapped[0] && e.mapped[1] && e.mapped[2]); /* length 0: Mdl NULL */
    assert_int_equal(e.from_port[0], 4001);
    assert_int_equal(e.from_port[1], 4002);
    assert_int_equal(e.from_port[2], 4003);
    expect_pktinfo(e.ctl[2], WT_OUR_IP1);
    pthread_mutex_unlock(&e.m);
    wt_close(s);
    assert_int_equal(ev_calls(&e), 2);
    evc_fini(&e);
}

static void test_pending_irp_takes_precedence(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6201), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6201, "irp", 3);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    wt_rx_fini(&rx);
    wt_sleep_ms(30);
    assert_int_equal(ev_calls(&e), 0);
    /* no IRP now: the event gets the next one */
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6201, "evt", 3);
    ev_wait_calls(&e, 1);
    wt_close(s);
    evc_fini(&e);
}

/* STATUS_PENDING: the client keeps the list, splits it, overwrites Next
 * with its own pointers and releases element by element (WireGuard). */
static void test_pending_and_elementwise_release(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6202), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    e.block = true;
    e.ret = STATUS_PENDING;
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6202, "0", 1);
    ev_wait_inside(&e);
    pthread_mutex_lock(&e.m);
    PWSK_DATAGRAM_INDICATION first = e.elem[0];
    pthread_mutex_unlock(&e.m);
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    for (int i = 1; i <= 4; i++)
        wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, (uint16_t)(4000 + i), 6202, "x", 1);
    for (int i = 0; i < 3000 && wt_counter(&T, "UdpInDatagrams") < in0 + 4; i++)
        wt_sleep_ms(1);
    ev_unblock(&e);
    ev_wait_calls(&e, 2);
    pthread_mutex_lock(&e.m);
    assert_int_equal(e.n, 4);
    PWSK_DATAGRAM_INDICATION a = e.elem[0], b = e.elem[1], c = e.elem[2], d = e.elem[3];
    pthread_mutex_unlock(&e.m);
    /* first list (1 element) + second (4) are held */
    assert_int_equal(held(s), 5);
    /* the client's own use of Next while it holds them */
    a->Next = (PWSK_DATAGRAM_INDICATION)(uintptr_t)0x1234;
    b->Next = (PWSK_DATAGRAM_INDICATION)&e;
    c->Next = NULL;
    d->Next = NULL;
    /* release c alone, then d -> a (a chain the client built), then b */
    assert_int_equal(wt_dg(s)->WskRelease(s, c), STATUS_SUCCESS);
    assert_int_equal(held(s), 4);
    d->Next = a;
    a->Next = NULL;
    assert_int_equal(wt_dg(s)->WskRelease(s, d), STATUS_SUCCESS);
    assert_int_equal(held(s), 2);
    /* already released, a stranger, NULL, a chain with a bad tail: refused,
     * nothing freed */
    assert_int_equal(wt_dg(s)->WskRelease(s, c), STATUS_INVALID_PARAMETER);
    WSK_DATAGRAM_INDICATION fake;
    memset(&fake, 0, sizeof(fake));
    assert_int_equal(wt_dg(s)->WskRelease(s, &fake), STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_dg(s)->WskRelease(s, NULL), STATUS_INVALID_PARAMETER);
    b->Next = &fake;
    assert_int_equal(wt_dg(s)->WskRelease(s, b), STATUS_INVALID_PARAMETER);
    b->Next = b; /* a cycle */
    assert_int_equal(wt_dg(s)->WskRelease(s, b), STATUS_INVALID_PARAMETER);
    assert_int_equal(held(s), 2);
    b->Next = NULL;
    assert_int_equal(wt_dg(s)->WskRelease(s, b), STATUS_SUCCESS);
    assert_int_equal(held(s), 1);
    /* the first list's element */
    assert_int_equal(wt_dg(s)->WskRelease(s, first), STATUS_SUCCESS);
    assert_int_equal(held(s), 0);
    /* one more kept and never released: close frees it (client bug) */
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4009, 6202, "k", 1);
    ev_wait_calls(&e, 3);
    assert_int_equal(held(s), 1);
    wt_close(s); /* wt_teardown checks that no packet buffer leaked */
    evc_fini(&e);
}

static void test_data_not_accepted(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6203), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    e.ret = STATUS_DATA_NOT_ACCEPTED;
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6203, "A", 1);
    ev_wait_calls(&e, 1);
    /* the event is now disabled: B is queued behind A, not indicated */
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4001, 6203, "B", 1);
    for (int i = 0; i < 3000 && wt_counter(&T, "UdpInDatagrams") < in0 + 2; i++)
        wt_sleep_ms(1);
    wt_sleep_ms(30);
    assert_int_equal(ev_calls(&e), 1);
    /* WskReceiveFrom gets A at once */
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 1);
    assert_memory_equal(rx.buf, "A", 1);
    wt_rx_fini(&rx);
    /* C arrives; re-enable: B (queued first) and C in one list, in order */
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4002, 6203, "C", 1);
    for (int i = 0; i < 3000 && wt_counter(&T, "UdpInDatagrams") < in0 + 3; i++)
        wt_sleep_ms(1);
    assert_int_equal(wt_counter(&T, "UdpInDatagrams"), in0 + 3);
    ev_set_ret(&e, STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    ev_wait_calls(&e, 2);
    pthread_mutex_lock(&e.m);
    assert_int_equal(e.n, 2);
    assert_memory_equal(e.data[0], "B", 1);
    assert_memory_equal(e.data[1], "C", 1);
    pthread_mutex_unlock(&e.m);
    /* any other status: dropped */
    ev_set_ret(&e, STATUS_DEVICE_NOT_READY);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4003, 6203, "D", 1);
    ev_wait_calls(&e, 3);
    wt_sleep_ms(20);
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    wt_sleep_ms(20);
    assert_int_equal(atomic_load(&rx.w.calls), 0);
    wt_close(s);
    wt_rx_fini(&rx);
    evc_fini(&e);
}

static void test_static_event(void **state)
{
    struct evc e;
    evc_init(&e);
    WSK_EVENT_CALLBACK_CONTROL c = {(PNPIID)&NPI_WSK_INTERFACE_ID, WSK_EVENT_RECEIVE_FROM};
    const WSK_PROVIDER_DISPATCH *pd = T.npi.Dispatch;
    /* bad input */
    WSK_EVENT_CALLBACK_CONTROL bad = {NULL, WSK_EVENT_RECEIVE_FROM};
    assert_int_equal(pd->WskControlClient(T.npi.Client, WSK_SET_STATIC_EVENT_CALLBACKS,
                                          sizeof(bad), &bad, 0, NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    bad.NpiId = (PNPIID)&NPI_WSK_INTERFACE_ID;
    bad.EventMask = WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE;
    assert_int_equal(pd->WskControlClient(T.npi.Client, WSK_SET_STATIC_EVENT_CALLBACKS,
                                          sizeof(bad), &bad, 0, NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(pd->WskControlClient(T.npi.Client, WSK_SET_STATIC_EVENT_CALLBACKS,
                                          sizeof(c), &c, 0, NULL, NULL, NULL),
                     STATUS_SUCCESS);
    PWSK_SOCKET s = ev_socket(&T, &e);
    /* too late now */
    assert_int_equal(pd->WskControlClient(T.npi.Client, WSK_SET_STATIC_EVENT_CALLBACKS,
                                          sizeof(c), &c, 0, NULL, NULL, NULL),
                     STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6204), STATUS_SUCCESS);
    /* enabled without SO_WSK_EVENT_CALLBACK; cannot be disabled */
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6204, "s1", 2);
    ev_wait_calls(&e, 1);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, NULL),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_INVALID_PARAMETER);
    /* DATA_NOT_ACCEPTED: stays enabled; the refused one comes again first
     * with the next arrival */
    ev_set_ret(&e, STATUS_DATA_NOT_ACCEPTED);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4001, 6204, "s2", 2);
    ev_wait_calls(&e, 2);
    ev_set_ret(&e, STATUS_SUCCESS);
    wt_sleep_ms(30);
    assert_int_equal(ev_calls(&e), 2);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4002, 6204, "s3", 2);
    ev_wait_calls(&e, 3);
    pthread_mutex_lock(&e.m);
    assert_int_equal(e.n, 2);
    assert_memory_equal(e.data[0], "s2", 2);
    assert_memory_equal(e.data[1], "s3", 2);
    pthread_mutex_unlock(&e.m);
    /* a socket without a datagram dispatch: not enabled, no crash */
    PWSK_SOCKET p = wt_socket(&T);
    assert_int_equal(wt_bind(p, WT_OUR_IP1, 6205), STATUS_SUCCESS);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4003, 6205, "q", 1);
    struct wt_rx rx;
    assert_true(wt_rx_start(p, &rx, 10, 0xffffffffu) == STATUS_SUCCESS ||
                wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    wt_rx_fini(&rx);
    wt_close(p);
    wt_close(s);
    evc_fini(&e);
}

static void test_disable_with_callback_in_flight(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6206), STATUS_SUCCESS);
    /* nothing in flight: SUCCESS, IRP completed */
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = ev_control(s, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, &w);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    e.block = true;
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6206, "f", 1);
    ev_wait_inside(&e);
    /* without an IRP: EVENT_PENDING */
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, NULL),
                     STATUS_EVENT_PENDING);
    /* with an IRP: PENDING, completes once the callback returned */
    wt_irp_reuse(&w);
    r = ev_control(s, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, &w);
    assert_int_equal(r, STATUS_PENDING);
    wt_sleep_ms(50);
    assert_int_equal(atomic_load(&w.calls), 0);
    /* arrivals meanwhile are not indicated */
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4001, 6206, "g", 1);
    ev_unblock(&e);
    assert_true(wt_irp_wait(&w, 3000));
    assert_int_equal(w.status, STATUS_SUCCESS);
    assert_true(w.pending_returned);
    wt_sleep_ms(30);
    assert_int_equal(ev_calls(&e), 1);
    /* g waits in the queue */
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 10, 0xffffffffu), STATUS_SUCCESS);
    assert_memory_equal(rx.buf, "g", 1);
    wt_rx_fini(&rx);
    wt_irp_fini(&w);
    wt_close(s);
    evc_fini(&e);
}

struct closer {
    PWSK_SOCKET s;
    atomic_bool done;
};
static void *close_thread(void *arg)
{
    struct closer *c = arg;
    wt_close(c->s);
    atomic_store(&c->done, true);
    return NULL;
}

static void test_close_waits_for_callback(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6207), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    e.block = true;
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6207, "1", 1);
    ev_wait_inside(&e);
    /* two more queue up behind the callback */
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6207, "2", 1);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4000, 6207, "3", 1);
    for (int i = 0; i < 3000 && wt_counter(&T, "UdpInDatagrams") < in0 + 2; i++)
        wt_sleep_ms(1);
    struct closer c = {s, false};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, close_thread, &c), 0);
    wt_sleep_ms(100);
    assert_false(atomic_load(&c.done)); /* close waits for the callback */
    ev_unblock(&e);
    pthread_join(th, NULL);
    assert_true(atomic_load(&c.done));
    /* the queued ones were not indicated after close began */
    wt_sleep_ms(30);
    assert_int_equal(ev_calls(&e), 1);
    evc_fini(&e);
}

static void test_device_gone_null_indication(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6208), STATUS_SUCCESS);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_SUCCESS);
    memdev_set_gone(T.dev);
    uint64_t end = wt_now_ms() + 3000;
    pthread_mutex_lock(&e.m);
    while (e.null_calls == 0 && wt_now_ms() < end) {
        pthread_mutex_unlock(&e.m);
        wt_sleep_ms(1);
        pthread_mutex_lock(&e.m);
    }
    assert_int_equal(e.null_calls, 1);
    assert_int_equal(e.calls, 0);
    pthread_mutex_unlock(&e.m);
    /* enabling again on a dead socket */
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_FILE_FORCED_CLOSED);
    wt_close(s);
    pthread_mutex_lock(&e.m);
    assert_int_equal(e.null_calls, 1);
    pthread_mutex_unlock(&e.m);
    evc_fini(&e);
}

static void test_enable_errors(void **state)
{
    struct evc e;
    evc_init(&e);
    PWSK_SOCKET s = ev_socket(&T, &e);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6209), STATUS_SUCCESS);
    /* wrong NpiId, short input, other events */
    NPIID other = NPI_WSK_INTERFACE_ID;
    other.Data1 ^= 1;
    WSK_EVENT_CALLBACK_CONTROL c = {&other, WSK_EVENT_RECEIVE_FROM};
    assert_int_equal(wt_dg(s)->WskControlSocket(s, WskSetOption, SO_WSK_EVENT_CALLBACK,
                                                SOL_SOCKET, sizeof(c), &c, 0, NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    c.NpiId = (PNPIID)&NPI_WSK_INTERFACE_ID;
    assert_int_equal(wt_dg(s)->WskControlSocket(s, WskSetOption, SO_WSK_EVENT_CALLBACK,
                                                SOL_SOCKET, 8, &c, 0, NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE, NULL), STATUS_INVALID_PARAMETER);
    assert_int_equal(ev_control(s, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_ACCEPT, NULL),
                     STATUS_INVALID_PARAMETER);
    /* a socket without the callback in its dispatch */
    PWSK_SOCKET p = wt_socket(&T);
    assert_int_equal(wt_bind(p, WT_OUR_IP1, 6210), STATUS_SUCCESS);
    assert_int_equal(ev_control(p, WSK_EVENT_RECEIVE_FROM, NULL), STATUS_INVALID_PARAMETER);
    /* disabling a disabled event */
    assert_int_equal(ev_control(p, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, NULL),
                     STATUS_SUCCESS);
    wt_close(p);
    wt_close(s);
    assert_int_equal(ev_calls(&e), 0);
    evc_fini(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_indication_and_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_irp_takes_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_and_elementwise_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_not_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disable_with_callback_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_waits_for_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_gone_null_indication, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
