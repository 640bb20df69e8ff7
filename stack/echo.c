/* SPDX-License-Identifier: MIT */
/*
 * echo.c - ICMP / ICMPv6 echo from the stack: the wskstack_ping_* API of
 * include/wskstack.h (what wsk-ping uses), and the hooks icmp.c/icmpv6.c
 * call for every valid message (echo.h).
 *
 * Requests (RFC 792 type 8, RFC 4443 §4.1 type 128) carry the handle's
 * identifier, the caller's sequence number and data.  They leave through
 * ipv4_output / ipv6_output like any datagram, so they are fragmented when
 * larger than the MTU, and wait for ARP / ND like UDP does: such a send
 * carries a tx_req, and a resolution failure (-EHOSTUNREACH) becomes an
 * error event "from" our own source address, as the Linux kernel reports
 * it to ping (ICMP host unreachable / ICMPv6 address unreachable).
 *
 * Matching input:
 *   echo reply            identifier == a handle's, the family of the
 *                         handle, from the handle's destination
 *   error (v4: 3, 11, 12; v6: 1, 2, 3, 4)
 *                         the quoted datagram is one of our echo requests
 *                         (ICMP type 8 / ICMPv6 128 right after a 20..60-byte
 *                         IPv4 header / the 40-byte IPv6 header) with a
 *                         handle's identifier, to that handle's destination.
 *
 * State: open handles sit on one process-wide list under one mutex
 * (g_lock, a leaf lock: no stack function is called while holding it),
 * keyed by (stack, family, identifier).  The stack itself holds nothing for
 * us, so the only cost for a stack without ping handles is an empty-list
 * check per ICMP message.  Each handle has a bounded event queue
 * (ECHO_QUEUE_MAX) and a condition variable on CLOCK_MONOTONIC.
 *
 * Pending sends: an echo_tx (the tx_req and our bookkeeping) is kept on
 * the handle until its done() has run; only wskstack_ping_close and later
 * sends free them, so tx_req_cancel never sees freed memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stack/echo.h"
#include "stack/ipv6_impl.h"

#define ECHO_QUEUE_MAX 256u
#define ECHO_MAX_DATA_V4 (0xffffu - IPV4_HDR_LEN - ICMP_HDR_LEN)  /* 65507 */
#define ECHO_MAX_DATA_V6 (0xffffu - ICMPV6_HDR_LEN)                /* 65527 */

struct echo_ev {
    struct wskstack_ping_event ev;
    uint8_t *data;               /* reply data (malloc), ev.len bytes */
};

struct echo_tx {
    struct tx_req req;
    struct wskstack_ping *h;
    uint16_t seq;
    bool done;                   /* done() ran (or the send never queued) */
    bool cancel_tried;           /* wskstack_ping_close called tx_req_cancel */
    struct echo_tx *next;
};

struct wskstack_ping {
    struct wskstack *st;
    int family;                  /* 4 or 6 */
    struct ip_addr dst;
    uint16_t id;
    char src_str[46];            /* last source used (for local errors) */
    struct wskstack_ping *next;  /* g_list */
    pthread_cond_t cond;
    struct echo_ev q[ECHO_QUEUE_MAX];
    unsigned qhead, qlen;
    struct echo_tx *txs;         /* sends not yet freed */
    unsigned tx_pending;         /* of those, done() not yet run */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wskstack_ping *g_list;
static atomic_uint g_open;          /* handles on g_list: the hooks' fast path */

/* ---- queue (g_lock held) --------------------------------------------------------- */

static void echo_push(struct wskstack_ping *h, const struct wskstack_ping_event *ev,
                      const uint8_t *data, size_t len)
{
    if (h->qlen >= ECHO_QUEUE_MAX) {
        TRACE_F(h->st, h->family == 4 ? TL_ICMP : TL_ICMPV6, TD_RX, "queue-full",
                (&(struct trace_fields){.id = TNUM(h->id), .seq = TNUM(ev->seq),
                                        .type = TNUM(ev->type)}),
                "ping handle id %u: event queue full, event dropped", h->id);
        return;
    }
    struct echo_ev *e = &h->q[(h->qhead + h->qlen) % ECHO_QUEUE_MAX];
    e->ev = *ev;
    e->data = NULL;
    if (len) {
        e->data = malloc(len);
        if (e->data)
            memcpy(e->data, data, len);
        else
            e->ev.len = 0;
    }
    h->qlen++;
    pthread_cond_broadcast(&h->cond);
}

static struct wskstack_ping *echo_find(struct wskstack *st, int family, uint16_t id)
{
    for (struct wskstack_ping *h = g_list; h; h = h->next)
        if (h->st == st && h->family == family && h->id == id)
            return h;
    return NULL;
}

/* ---- input hooks (receive thread) ---------------------------------------------------- */

/* The "reply" line of an echo reply: who took it (the ping handle of its
 * identifier, or nobody).  family 4 or 6; from: the sender as text. */
static void echo_trace_reply(struct wskstack *st, int family, const char *from, uint32_t rest,
                             bool taken)
{
    struct trace_fields f = {.src = from, .id = TNUM(rest >> 16), .seq = TNUM(rest & 0xffff),
                             .rule = taken ? "ping handle" : "nobody"};
    trace_event(st, family == 4 ? TL_ICMP : TL_ICMPV6, TD_RX, "reply", &f,
                "echo reply from %s, id %u seq %u: %s", from, rest >> 16, rest & 0xffff,
                taken ? "given to the ping handle" : "no ping handle with this id");
}

void echo_icmp_input(struct wskstack *st, const struct ipv4_repr *ip, const struct icmp_repr *r,
                     uint64_t now)
{
    if (atomic_load_explicit(&g_open, memory_order_relaxed) == 0) {
        if (r->type == ICMP_ECHO_REPLY && stack_trace_on(st, TRACE_ICMP)) {
            char b[TRACE_IP_LEN];
            echo_trace_reply(st, 4, trace_ip4(ip->src, b), r->rest, false);
        }
        return;
    }
    struct wskstack_ping_event ev = {.family = 4, .ttl = ip->ttl, .type = r->type,
                                     .code = r->code, .rx_ns = now};
    const uint8_t *data = NULL;
    size_t len = 0;
    uint32_t peer;

    if (r->type == ICMP_ECHO_REPLY) {
        ev.kind = WSKSTACK_PING_REPLY;
        ev.id = (uint16_t)(r->rest >> 16);
        ev.seq = (uint16_t)r->rest;
        data = r->data;
        len = r->data_len;
        peer = ip->src;
    } else if (r->type == ICMP_DEST_UNREACH || r->type == ICMP_TIME_EXCEEDED ||
               r->type == ICMP_PARAM_PROBLEM) {
        /* RFC 792: the quote is the IP header and at least 8 bytes. */
        const uint8_t *q = r->data;
        if (r->data_len < IPV4_HDR_LEN || (q[0] >> 4) != 4)
            return;
        size_t hl = (size_t)(q[0] & 0x0f) * 4;
        if (hl < IPV4_HDR_LEN || r->data_len < hl + ICMP_HDR_LEN || q[9] != IP_PROTO_ICMP ||
            q[hl] != ICMP_ECHO_REQUEST || (be16(q + 6) & 0x1fff) != 0)
            return;
        if (!ipv4_is_local(st, be32(q + 12)))
            return;                   /* not a request we sent */
        ev.kind = WSKSTACK_PING_ERROR;
        ev.id = be16(q + hl + 4);
        ev.seq = be16(q + hl + 6);
        ev.info = r->rest;
        peer = be32(q + 16);          /* the request's destination */
    } else {
        return;
    }
    struct ip_addr from = ip4(ip->src);
    ip_addr_str(&from, ev.from, sizeof ev.from);

    pthread_mutex_lock(&g_lock);
    struct wskstack_ping *h = echo_find(st, 4, ev.id);
    bool taken = h && h->dst.v4 == peer;
    if (taken) {
        ev.len = len;
        echo_push(h, &ev, data, len);
    }
    pthread_mutex_unlock(&g_lock);
    if (r->type == ICMP_ECHO_REPLY && stack_trace_on(st, TRACE_ICMP))
        echo_trace_reply(st, 4, ev.from, r->rest, taken);
}

void echo_icmpv6_input(struct wskstack *st, const struct ipv6_repr *ip,
                       const struct icmpv6_repr *r, uint64_t now)
{
    if (atomic_load_explicit(&g_open, memory_order_relaxed) == 0) {
        if (r->type == ICMPV6_ECHO_REPLY && stack_trace_on(st, TRACE_ICMPV6)) {
            char b[TRACE_IP_LEN];
            echo_trace_reply(st, 6, trace_ip6(ip->src, b), r->rest, false);
        }
        return;
    }
    struct wskstack_ping_event ev = {.family = 6, .ttl = ip->hop_limit, .type = r->type,
                                     .code = r->code, .rx_ns = now};
    const uint8_t *data = NULL;
    size_t len = 0;
    const uint8_t *peer;

    if (r->type == ICMPV6_ECHO_REPLY) {
        ev.kind = WSKSTACK_PING_REPLY;
        ev.id = (uint16_t)(r->rest >> 16);
        ev.seq = (uint16_t)r->rest;
        data = r->data;
        len = r->data_len;
        peer = ip->src;
    } else if (r->type == ICMPV6_DEST_UNREACH || r->type == ICMPV6_PKT_TOO_BIG ||
               r->type == ICMPV6_TIME_EXCEEDED || r->type == ICMPV6_PARAM_PROBLEM) {
        /* RFC 4443 §2.4(c): as much of the invoking packet as fits.  Our
         * requests carry no extension header except a Fragment header when
         * fragmented (then fragment 0 holds the ICMPv6 header). */
        const uint8_t *q = r->data;
        size_t off = IPV6_HDR_LEN;
        if (r->data_len < IPV6_HDR_LEN + ICMPV6_HDR_LEN || (q[0] >> 4) != 6)
            return;
        uint8_t nh = q[IPV6_OFF_NEXT_HEADER];
        if (nh == IP_PROTO_FRAGMENT) {
            if (r->data_len < off + IPV6_FRAG_HDR_LEN + ICMPV6_HDR_LEN ||
                (be16(q + off + 2) & 0xfff8) != 0)
                return;
            nh = q[off];
            off += IPV6_FRAG_HDR_LEN;
        }
        if (nh != IP_PROTO_ICMPV6 || q[off] != ICMPV6_ECHO_REQUEST)
            return;
        if (!addr6_is_local(st, q + IPV6_OFF_SRC, false))
            return;                   /* not a request we sent */
        ev.kind = WSKSTACK_PING_ERROR;
        ev.id = be16(q + off + 4);
        ev.seq = be16(q + off + 6);
        ev.info = r->rest;
        peer = q + IPV6_OFF_DST;
    } else {
        return;
    }
    struct ip_addr from = {.af = IPA_V6};
    memcpy(from.v6, ip->src, 16);
    ip_addr_str(&from, ev.from, sizeof ev.from);

    pthread_mutex_lock(&g_lock);
    struct wskstack_ping *h = echo_find(st, 6, ev.id);
    bool taken = h && memcmp(h->dst.v6, peer, 16) == 0;
    if (taken) {
        ev.len = len;
        echo_push(h, &ev, data, len);
    }
    pthread_mutex_unlock(&g_lock);
    if (r->type == ICMPV6_ECHO_REPLY && stack_trace_on(st, TRACE_ICMPV6))
        echo_trace_reply(st, 6, ev.from, r->rest, taken);
}

/* ---- sends ----------------------------------------------------------------------------- */

/* tx_req->done: no stack lock held, receive thread or a caller thread. */
static void echo_tx_done(struct tx_req *r, int err)
{
    struct echo_tx *t = (struct echo_tx *)r;
    struct wskstack_ping *h = t->h;
    pthread_mutex_lock(&g_lock);
    if (err == -EHOSTUNREACH) {
        /* What Linux's neighbour layer reports to the sender's socket. */
        struct wskstack_ping_event ev = {
            .kind = WSKSTACK_PING_ERROR, .family = h->family, .id = h->id, .seq = t->seq,
            .type = h->family == 4 ? ICMP_DEST_UNREACH : ICMPV6_DEST_UNREACH,
            .code = h->family == 4 ? ICMP_UNREACH_HOST : 3 /* address unreachable */,
            .local = 1, .rx_ns = stack_now(h->st)};
        memcpy(ev.from, h->src_str, sizeof ev.from);
        echo_push(h, &ev, NULL, 0);
    }
    t->done = true;
    h->tx_pending--;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&g_lock);
}

/* Free the sends whose done() has run (g_lock held). */
static void echo_tx_sweep(struct wskstack_ping *h)
{
    struct echo_tx **pp = &h->txs;
    while (*pp) {
        struct echo_tx *t = *pp;
        if (t->done) {
            *pp = t->next;
            free(t);
        } else {
            pp = &t->next;
        }
    }
}

/* The "echo-request" line of a ping handle's send from src (the source
 * just chosen; h->src_str belongs to g_lock). */
static void echo_trace_request(const struct wskstack_ping *h, const struct ip_addr *src,
                               uint32_t rest, size_t len)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
    ip_addr_str(src, s, sizeof s);
    ip_addr_str(&h->dst, d, sizeof d);
    struct trace_fields f = {.src = s, .dst = d, .id = TNUM(rest >> 16),
                             .seq = TNUM(rest & 0xffff),
                             .type = TNUM(h->family == 4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST),
                             .code = TNUM(0), .len = TNUM(ICMP_HDR_LEN + len)};
    trace_event(h->st, h->family == 4 ? TL_ICMP : TL_ICMPV6, TD_TX, "echo-request", &f,
                "echo request to %s from %s, id %u seq %u, %zu bytes of data (%s)", d, s,
                rest >> 16, rest & 0xffff, len, h->family == 4 ? "RFC 792" : "RFC 4443 §4.1");
}

WSKSTACK_API int wskstack_ping_send(struct wskstack_ping *h, uint16_t seq, const void *data,
                                    size_t len, uint64_t *sent_ns)
{
    struct wskstack *st = h->st;
    if (len > (h->family == 4 ? ECHO_MAX_DATA_V4 : ECHO_MAX_DATA_V6))
        return -EMSGSIZE;
    if (stack_dev_gone(st))
        return -ENODEV;

    struct ip_addr src = {.af = h->family == 4 ? IPA_V4 : IPA_V6};
    if (h->family == 4) {
        uint32_t nh = h->dst.v4;
        pthread_mutex_lock(&st->lock);
        int rc = route4_lookup_quiet(st, h->dst.v4, &nh, NULL); /* ipv4_output traces it */
        pthread_mutex_unlock(&st->lock);
        if (rc < 0) {
            stack_drop(st, CNT_IpOutNoRoutes, "ipv4", "no route to destination (RFC 1122 §3.3.1)");
            return -ENETUNREACH;
        }
        if (ipv4_select_source(st, h->dst.v4, nh, &src.v4) < 0)
            return -EADDRNOTAVAIL;
    } else if (addr6_select_source(st, h->dst.v6, src.v6, NULL) < 0) {
        return -EADDRNOTAVAIL;
    }

    struct echo_tx *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->req.done = echo_tx_done;
    t->h = h;
    t->seq = seq;
    struct pkt *p = pkt_alloc(st, (uint32_t)(ICMP_HDR_LEN + len));
    if (!p) {
        free(t);
        stack_drop(st, h->family == 4 ? CNT_IcmpOutErrors : CNT_Icmp6OutErrors,
                   h->family == 4 ? "icmp" : "icmpv6", "no packet buffer for an echo request");
        return -ENOBUFS;
    }
    uint8_t *b = pkt_data(p);
    if (len)
        memcpy(b + ICMP_HDR_LEN, data, len);
    p->len = (uint32_t)(ICMP_HDR_LEN + len);
    uint32_t rest = (uint32_t)h->id << 16 | seq;
    p->req = &t->req;

    pthread_mutex_lock(&g_lock);
    ip_addr_str(&src, h->src_str, sizeof h->src_str);
    echo_tx_sweep(h);
    t->next = h->txs;
    h->txs = t;
    h->tx_pending++;             /* before the send: done() may run inside it */
    pthread_mutex_unlock(&g_lock);

    uint64_t now = stack_now(st);
    if (sent_ns)
        *sent_ns = now;
    if (stack_trace_on(st, h->family == 4 ? TRACE_ICMP : TRACE_ICMPV6))
        echo_trace_request(h, &src, rest, len);
    int rc;
    if (h->family == 4) {
        struct icmp_repr r = {.type = ICMP_ECHO_REQUEST, .code = 0, .rest = rest,
                              .data = b + ICMP_HDR_LEN, .data_len = len};
        icmp_emit(&r, b);
        struct ipv4_tx tx = {.src = src.v4, .dst = h->dst.v4, .proto = IP_PROTO_ICMP,
                             .ttl = IPV4_DEFAULT_TTL, .tos = 0, .df = false};
        rc = ipv4_output(st, p, &tx, now);
        if (rc >= 0) {
            CNT_INC(st, IcmpOutMsgs);
            CNT_INC(st, IcmpOutEchos);
        } else {
            CNT_INC(st, IcmpOutErrors);
        }
    } else {
        struct icmpv6_repr r = {.type = ICMPV6_ECHO_REQUEST, .code = 0, .rest = rest,
                                .data = b + ICMPV6_HDR_LEN, .data_len = len};
        icmpv6_emit(&r, b, src.v6, h->dst.v6);
        struct ipv6_tx tx = {.next_header = IP_PROTO_ICMPV6};
        memcpy(tx.src, src.v6, 16);
        memcpy(tx.dst, h->dst.v6, 16);
        rc = ipv6_output(st, p, &tx, now);
        if (rc >= 0) {
            CNT_INC(st, Icmp6OutMsgs);
            CNT_INC(st, Icmp6OutEchos);
        } else {
            CNT_INC(st, Icmp6OutErrors);
        }
    }
    if (rc != UDP_SEND_QUEUED) {
        /* Written at once, or refused: done() is never called for it. */
        pthread_mutex_lock(&g_lock);
        t->done = true;
        h->tx_pending--;
        pthread_mutex_unlock(&g_lock);
    }
    return rc < 0 ? rc : 0;
}

/* ---- handles ---------------------------------------------------------------------------- */

WSKSTACK_API int wskstack_ping_open(struct wskstack *st, const char *dst, uint16_t id,
                                    struct wskstack_ping **out)
{
    struct ip_addr a;
    *out = NULL;
    if (st == NULL || dst == NULL || ip_addr_parse(dst, &a) < 0 || ip_addr_is_any(&a))
        return -EINVAL;
    struct wskstack_ping *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(h);
        return -ENOMEM;
    }
    h->st = st;
    h->dst = a;
    h->family = a.af == IPA_V4 ? 4 : 6;

    pthread_mutex_lock(&g_lock);
    if (id == 0) {
        /* A free identifier after a start that differs between processes
         * and handles (the wire value is all that distinguishes them). */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint16_t start = (uint16_t)((uint64_t)ts.tv_nsec ^ ((uint64_t)(uintptr_t)h >> 4));
        for (unsigned i = 0; i < 0x10000u; i++) {
            uint16_t c = (uint16_t)(start + i);
            if (c != 0 && !echo_find(st, h->family, c)) {
                id = c;
                break;
            }
        }
    }
    if (id == 0 || echo_find(st, h->family, id)) {
        pthread_mutex_unlock(&g_lock);
        pthread_cond_destroy(&h->cond);
        free(h);
        return -EADDRINUSE;
    }
    h->id = id;
    h->next = g_list;
    g_list = h;
    atomic_fetch_add_explicit(&g_open, 1, memory_order_relaxed);
    pthread_mutex_unlock(&g_lock);
    *out = h;
    return 0;
}

WSKSTACK_API uint16_t wskstack_ping_id(const struct wskstack_ping *h)
{
    return h->id;
}

WSKSTACK_API const char *wskstack_ping_source(const struct wskstack_ping *h)
{
    return h->src_str;
}

WSKSTACK_API int wskstack_ping_recv(struct wskstack_ping *h, struct wskstack_ping_event *ev,
                                    void *data, size_t cap, unsigned timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_lock);
    while (h->qlen == 0) {
        if (timeout_ms == 0 || pthread_cond_timedwait(&h->cond, &g_lock, &dl) == ETIMEDOUT) {
            if (h->qlen)
                break;
            pthread_mutex_unlock(&g_lock);
            return -ETIMEDOUT;
        }
    }
    struct echo_ev *e = &h->q[h->qhead];
    h->qhead = (h->qhead + 1) % ECHO_QUEUE_MAX;
    h->qlen--;
    pthread_mutex_unlock(&g_lock);
    *ev = e->ev;
    if (data && e->data)
        memcpy(data, e->data, e->ev.len < cap ? e->ev.len : cap);
    free(e->data);
    e->data = NULL;
    return 0;
}

WSKSTACK_API void wskstack_ping_close(struct wskstack_ping *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&g_lock);
    for (struct wskstack_ping **pp = &g_list; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            atomic_fetch_sub_explicit(&g_open, 1, memory_order_relaxed);
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);

    /* Take back sends still waiting for resolution.  Only this function and
     * wskstack_ping_send free echo_tx, so every t stays valid here. */
    for (;;) {
        struct echo_tx *t = NULL;
        pthread_mutex_lock(&g_lock);
        for (struct echo_tx *i = h->txs; i; i = i->next)
            if (!i->done && !i->cancel_tried) {
                t = i;
                i->cancel_tried = true;
                break;
            }
        pthread_mutex_unlock(&g_lock);
        if (!t)
            break;
        (void)tx_req_cancel(h->st, &t->req);
    }
    /* A send past the point of cancelling completes on its own (resolution
     * ends within 3 s, or the device goes). */
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&g_lock);
    while (h->tx_pending > 0)
        if (pthread_cond_timedwait(&h->cond, &g_lock, &dl) == ETIMEDOUT)
            break;
    bool leak = h->tx_pending > 0;
    if (!leak)
        echo_tx_sweep(h);
    pthread_mutex_unlock(&g_lock);
    if (leak)
        return;                       /* never free what the stack may still touch */
    while (h->qlen) {
        free(h->q[h->qhead].data);
        h->qhead = (h->qhead + 1) % ECHO_QUEUE_MAX;
        h->qlen--;
    }
    pthread_cond_destroy(&h->cond);
    free(h);
}

/* ---- helpers ---------------------------------------------------------------------------- */

WSKSTACK_API uint64_t wskstack_now_ns(const struct wskstack *st)
{
    return stack_now((struct wskstack *)st);
}

WSKSTACK_API int wskstack_wait_ready(struct wskstack *st, unsigned timeout_ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        bool tentative = false;
        enum addr6_state state;
        for (unsigned i = 0; addr6_get(st, i, NULL, NULL, &state, NULL); i++)
            if (state == ADDR6_TENTATIVE)
                tentative = true;
        if (!tentative)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &t);
        uint64_t ms = (uint64_t)(t.tv_sec - t0.tv_sec) * 1000u +
                      (uint64_t)((t.tv_nsec - t0.tv_nsec) / 1000000L);
        if (ms >= timeout_ms)
            return -ETIMEDOUT;
        struct timespec d = {0, 10 * 1000000L};
        nanosleep(&d, NULL);
    }
}
