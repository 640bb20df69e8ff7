/* SPDX-License-Identifier: MIT */
/*
 * wsk_test.h - fixture for the WSK provider's unit tests: a memdev stack
 * with its receive thread, a registration bound to it, IRPs whose
 * completion routine records exactly what happened, frame builders and a
 * bounded wait for transmitted frames.
 *
 * The stack:  us 192.0.2.1/24 and 192.0.2.2/24, MAC 02:00:00:00:00:01;
 *             peer 192.0.2.10, MAC 02:00:00:00:00:0a (static ARP entry).
 */
#ifndef WSS_WSK_TEST_H
#define WSS_WSK_TEST_H

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <ntddk.h>
#include <wsk.h>

#include "stack/stack.h"
#include "tap/dev.h"
#include "wskstack.h"
#include "wskstack_wsk.h"

#define WT_OUR_IP1 0xC0000201u /* 192.0.2.1 */
#define WT_OUR_IP2 0xC0000202u /* 192.0.2.2 */
#define WT_PEER_IP 0xC000020Au /* 192.0.2.10 */
static const uint8_t wt_our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t wt_peer_mac[6] = {0x02, 0, 0, 0, 0, 0x0a};
#define WT_CONFIG "addr=192.0.2.1/24;addr=192.0.2.2/24;mac=02:00:00:00:00:01"

/* ---- time ---------------------------------------------------------------- */
static inline uint64_t wt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
static inline void wt_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- fixture --------------------------------------------------------------- */
struct wt {
    struct dev *dev;
    struct wskstack *st;
    WSK_REGISTRATION reg;
    WSK_PROVIDER_NPI npi;
};

static const WSK_CLIENT_DISPATCH wt_client_dispatch = {MAKE_WSK_VERSION(1, 0), 0, NULL};

static inline void wt_stack_up(struct wt *t, const char *config)
{
    char err[256] = "";
    memset(t, 0, sizeof(*t));
    t->dev = memdev_create("wsktest0", 1500);
    assert_non_null(t->dev);
    struct wskstack_config *cfg = wskstack_config_new();
    assert_non_null(cfg);
    assert_int_equal(wskstack_config_parse(cfg, config, err, sizeof(err)), 0);
    int rc = stack_create_on_dev(cfg, t->dev, 0, &t->st, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "stack_create_on_dev: %s\n", err);
    assert_int_equal(rc, 0);
    wskstack_config_free(cfg);
}

static inline void wt_setup(struct wt *t)
{
    wt_stack_up(t, WT_CONFIG);
    struct ip_addr peer = ip4(WT_PEER_IP);
    assert_int_equal(stack_neigh_add_static(t->st, &peer, wt_peer_mac), 0);
    WSK_CLIENT_NPI npi = {NULL, &wt_client_dispatch};
    assert_int_equal(WsksRegisterOnStack(t->st, &npi, &t->reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&t->reg, WSK_INFINITE_WAIT, &t->npi), STATUS_SUCCESS);
}

/* Sockets still open (a failed assertion skips the test's own close):
 * teardown closes them so that WskDeregister does not wait forever. */
#define WT_MAX_SOCKS 64
static PWSK_SOCKET wt_open_socks[WT_MAX_SOCKS];
static inline void wt_close(PWSK_SOCKET s);

static inline void wt_teardown(struct wt *t)
{
    for (int i = 0; i < WT_MAX_SOCKS; i++)
        if (wt_open_socks[i])
            wt_close(wt_open_socks[i]);
    WskReleaseProviderNPI(&t->reg);
    WskDeregister(&t->reg);
    /* No packet buffer leaked: the receive thread keeps one batch of
     * RX_BATCH (32) buffers between batches (stack/stack.c), nothing else
     * may remain. */
    unsigned inuse = stack_pkts_in_use(t->st);
    if (inuse != 0 && inuse != 32)
        fail_msg("%u packet buffers still in use", inuse);
    wskstack_destroy(t->st);
}

static inline int64_t wt_counter(struct wt *t, const char *name)
{
    return wskstack_counter(t->st, name);
}

/* ---- IRPs that record their completion --------------------------------------- */
struct wt_irp {
    PIRP irp;
    pthread_mutex_t m;
    pthread_cond_t c;
    atomic_int calls;          /* completion routine invocations */
    atomic_int exited;         /* routine invocations that have fully returned
                                  from their last touch of this struct */
    NTSTATUS status;
    ULONG_PTR info;
    BOOLEAN pending_returned;
    pthread_t thread;          /* thread the routine ran on */
    NTSTATUS routine_result;   /* what the routine returns */
};

static NTSTATUS wt_irp_routine(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    struct wt_irp *w = Context;
    pthread_mutex_lock(&w->m);
    NTSTATUS result = w->routine_result; /* w may be reused once we unlock */
    w->status = Irp->IoStatus.Status;
    w->info = Irp->IoStatus.Information;
    w->pending_returned = Irp->PendingReturned;
    w->thread = pthread_self();
    atomic_fetch_add(&w->calls, 1);
    pthread_cond_broadcast(&w->c);
    pthread_mutex_unlock(&w->m);
    /* Last touch of w: only after this may the test reuse or free it
     * (pthread_mutex_unlock can still touch the mutex after a waiter has
     * been woken).  Release pairs with the acquire in wt_irp_quiesce. */
    atomic_fetch_add_explicit(&w->exited, 1, memory_order_release);
    return result;
}

/* Wait (bounded) until every routine invocation has left the struct. */
static inline void wt_irp_quiesce(struct wt_irp *w)
{
    for (int i = 0; i < 500000; i++) {
        if (atomic_load_explicit(&w->exited, memory_order_acquire) >=
            atomic_load_explicit(&w->calls, memory_order_acquire))
            return;
        sched_yield();
    }
    fail_msg("completion routine did not return");
}

static inline void wt_irp_arm(struct wt_irp *w)
{
    wt_irp_quiesce(w);
    atomic_store(&w->calls, 0);
    atomic_store(&w->exited, 0);
    w->status = (NTSTATUS)0x12345678;
    w->info = (ULONG_PTR)0xdeadbeef;
    w->pending_returned = 0xff;
    IoSetCompletionRoutine(w->irp, wt_irp_routine, w, TRUE, TRUE, TRUE);
}

static inline void wt_irp_init(struct wt_irp *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
    w->routine_result = STATUS_MORE_PROCESSING_REQUIRED;
    w->irp = IoAllocateIrp(1, FALSE);
    assert_non_null(w->irp);
    wt_irp_arm(w);
}

/* Re-arm for the next call (after the previous completion). */
static inline void wt_irp_reuse(struct wt_irp *w)
{
    IoReuseIrp(w->irp, STATUS_UNSUCCESSFUL);
    wt_irp_arm(w);
}

static inline void wt_irp_fini(struct wt_irp *w)
{
    wt_irp_quiesce(w);
    IoFreeIrp(w->irp);
    pthread_cond_destroy(&w->c);
    pthread_mutex_destroy(&w->m);
}

/* Wait (bounded) until the routine ran at least once. */
static inline bool wt_irp_wait(struct wt_irp *w, unsigned timeout_ms)
{
    uint64_t end = wt_now_ms() + timeout_ms;
    pthread_mutex_lock(&w->m);
    while (atomic_load(&w->calls) == 0) {
        if (wt_now_ms() >= end)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->c, &w->m, &ts);
    }
    bool done = atomic_load(&w->calls) > 0;
    pthread_mutex_unlock(&w->m);
    return done;
}

/* The status the IRP completed with, after a call returned `ret`. */
static inline NTSTATUS wt_irp_result(struct wt_irp *w, NTSTATUS ret)
{
    if (ret == STATUS_PENDING) {
        assert_true(wt_irp_wait(w, 10000));
    } else {
        /* non-pending return: the routine has already run */
        assert_int_equal(atomic_load(&w->calls), 1);
        assert_int_equal(w->status, ret);
    }
    pthread_mutex_lock(&w->m);
    NTSTATUS s = w->status;
    pthread_mutex_unlock(&w->m);
    return s;
}

/* ---- dispatch shortcuts ----------------------------------------------------------- */
static inline const WSK_PROVIDER_DATAGRAM_DISPATCH *wt_dg(PWSK_SOCKET s)
{
    return (const WSK_PROVIDER_DATAGRAM_DISPATCH *)s->Dispatch;
}

static inline void wt_sin(SOCKADDR_IN *sin, uint32_t ip, uint16_t port)
{
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    uint8_t *p = (uint8_t *)&sin->sin_port;
    p[0] = (uint8_t)(port >> 8);
    p[1] = (uint8_t)port;
    uint8_t *a = (uint8_t *)&sin->sin_addr;
    a[0] = (uint8_t)(ip >> 24);
    a[1] = (uint8_t)(ip >> 16);
    a[2] = (uint8_t)(ip >> 8);
    a[3] = (uint8_t)ip;
}

static inline uint16_t wt_sin_port(const SOCKADDR_IN *sin)
{
    const uint8_t *p = (const uint8_t *)&sin->sin_port;
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t wt_sin_ip(const SOCKADDR_IN *sin)
{
    const uint8_t *a = (const uint8_t *)&sin->sin_addr;
    return ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
}

/* Create a datagram socket (asserts synchronous success). */
static inline PWSK_SOCKET wt_socket(struct wt *t)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS s = t->npi.Dispatch->WskSocket(t->npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                            WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL, NULL, NULL,
                                            NULL, w.irp);
    assert_int_equal(s, STATUS_SUCCESS);
    assert_int_equal(atomic_load(&w.calls), 1);
    PWSK_SOCKET sock = (PWSK_SOCKET)w.info;
    assert_non_null(sock);
    wt_irp_fini(&w);
    for (int i = 0; i < WT_MAX_SOCKS; i++) {
        if (!wt_open_socks[i]) {
            wt_open_socks[i] = sock;
            break;
        }
    }
    return sock;
}

static inline NTSTATUS wt_bind(PWSK_SOCKET s, uint32_t ip, uint16_t port)
{
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN sin;
    wt_sin(&sin, ip, port);
    NTSTATUS r = wt_dg(s)->WskBind(s, (PSOCKADDR)&sin, 0, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    wt_irp_fini(&w);
    return st;
}

static inline uint16_t wt_local_port(PWSK_SOCKET s)
{
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN sin;
    memset(&sin, 0xee, sizeof(sin));
    NTSTATUS r = wt_dg(s)->WskGetLocalAddress(s, (PSOCKADDR)&sin, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    wt_irp_fini(&w);
    assert_int_equal(sin.sin_family, AF_INET);
    return wt_sin_port(&sin);
}

static inline NTSTATUS wt_set_pktinfo(PWSK_SOCKET s, ULONG on)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskSetOption, IP_PKTINFO, IPPROTO_IP, sizeof(on),
                                            &on, 0, NULL, NULL, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    wt_irp_fini(&w);
    return st;
}

static inline void wt_close(PWSK_SOCKET s)
{
    for (int i = 0; i < WT_MAX_SOCKS; i++)
        if (wt_open_socks[i] == s)
            wt_open_socks[i] = NULL;
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskCloseSocket(s, w.irp);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    wt_irp_fini(&w);
}

/* An MDL over buf (non-paged style, as WSK clients build them). */
static inline PMDL wt_mdl(void *buf, ULONG len)
{
    PMDL m = IoAllocateMdl(buf, len, FALSE, FALSE, NULL);
    assert_non_null(m);
    MmBuildMdlForNonPagedPool(m);
    return m;
}

/* ---- frames ----------------------------------------------------------------------- */
static inline uint16_t wt_csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)((p[i] << 8) | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static inline void wt_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void wt_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Build Ethernet + IPv4 (no options, TTL ttl, id, DF clear) + UDP with
 * correct checksums.  Returns the frame length (no padding). */
static inline size_t wt_udp_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
                                  uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                  const void *payload, size_t plen, uint16_t id, uint8_t ttl)
{
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    wt_be16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[1] = 0;
    wt_be16(ip + 2, (uint16_t)(20 + 8 + plen));
    wt_be16(ip + 4, id);
    wt_be16(ip + 6, 0);
    ip[8] = ttl;
    ip[9] = 17;
    wt_be16(ip + 10, 0);
    wt_be32(ip + 12, src);
    wt_be32(ip + 16, dst);
    wt_be16(ip + 10, wt_csum(ip, 20, 0));
    uint8_t *u = ip + 20;
    wt_be16(u, sport);
    wt_be16(u + 2, dport);
    wt_be16(u + 4, (uint16_t)(8 + plen));
    wt_be16(u + 6, 0);
    if (plen)
        memcpy(u + 8, payload, plen);
    uint8_t ph[12];
    wt_be32(ph, src);
    wt_be32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = 17;
    wt_be16(ph + 10, (uint16_t)(8 + plen));
    uint32_t sum = 0;
    for (int i = 0; i < 12; i += 2)
        sum += (uint32_t)((ph[i] << 8) | ph[i + 1]);
    uint16_t c = wt_csum(u, 8 + plen, sum);
    wt_be16(u + 6, c == 0 ? 0xffff : c);
    return 14 + 20 + 8 + plen;
}

/* Inject a datagram from the peer to one of our addresses. */
static inline void wt_inject_udp(struct wt *t, uint32_t src, uint32_t dst, uint16_t sport,
                                 uint16_t dport, const void *payload, size_t plen)
{
    uint8_t *f = malloc(14 + 20 + 8 + plen + 64);
    assert_non_null(f);
    size_t n = wt_udp_frame(f, wt_our_mac, wt_peer_mac, src, dst, sport, dport, payload, plen,
                            0x1234, 64);
    while (n < 60)
        f[n++] = 0; /* Ethernet minimum */
    assert_int_equal(memdev_inject(t->dev, f, n), 0);
    free(f);
}

/* Pop the next transmitted frame, waiting up to timeout_ms.  -1 if none. */
static inline long wt_pop(struct wt *t, void *buf, size_t cap, unsigned timeout_ms)
{
    uint64_t end = wt_now_ms() + timeout_ms;
    for (;;) {
        long n = memdev_pop_tx(t->dev, buf, cap);
        if (n >= 0 || wt_now_ms() >= end)
            return n;
        wt_sleep_ms(1);
    }
}

/* Poll until cond() holds or timeout. */
static inline bool wt_until(bool (*cond)(void *), void *ctx, unsigned timeout_ms)
{
    uint64_t end = wt_now_ms() + timeout_ms;
    while (!cond(ctx)) {
        if (wt_now_ms() >= end)
            return false;
        wt_sleep_ms(1);
    }
    return true;
}


/* ---- a receive in flight ------------------------------------------------------------ */
struct wt_rx {
    struct wt_irp w;
    uint8_t buf[2048];
    PMDL m;
    WSK_BUF b;
    SOCKADDR_IN from;
    ULONG ctl_len;
    uint64_t ctl[8];
    ULONG flags;
    NTSTATUS ret;
};

/* Start WskReceiveFrom into rx->buf[0..buflen) with ctl_cap bytes of
 * control buffer (ctl_cap ULONG_MAX: pass ControlLength = NULL). */
static inline NTSTATUS wt_rx_start(PWSK_SOCKET s, struct wt_rx *rx, ULONG buflen, ULONG ctl_cap)
{
    memset(rx->buf, 0xaa, sizeof(rx->buf));
    memset(rx->ctl, 0xaa, sizeof(rx->ctl));
    memset(&rx->from, 0xaa, sizeof(rx->from));
    rx->m = wt_mdl(rx->buf, buflen);
    rx->b.Mdl = rx->m;
    rx->b.Offset = 0;
    rx->b.Length = buflen;
    rx->ctl_len = ctl_cap;
    rx->flags = 0xaaaa;
    wt_irp_init(&rx->w);
    rx->ret = wt_dg(s)->WskReceiveFrom(s, &rx->b, 0, (PSOCKADDR)&rx->from,
                                       ctl_cap == 0xffffffffu ? NULL : &rx->ctl_len,
                                       (PCMSGHDR)rx->ctl, &rx->flags, rx->w.irp);
    return rx->ret;
}

static inline void wt_rx_fini(struct wt_rx *rx)
{
    wt_irp_fini(&rx->w);
    IoFreeMdl(rx->m);
}

#endif /* WSS_WSK_TEST_H */
