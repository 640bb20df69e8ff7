/* SPDX-License-Identifier: MIT */
/*
 * udp.c - UDP (RFC 768, RFC 1122 §4.1): the endpoint table, ephemeral
 * ports, input and udp_send.
 *
 * A datagram from IP (p at the UDP header, p->len = the IP payload):
 *   length field < 8 or > IP payload        -> UdpInErrors (I.39)
 *   length field < IP payload               -> the tail is ignored (RFC 768)
 *   checksum wrong (0 = none is accepted)   -> UdpInCsumErrors + UdpInErrors (I.40)
 *   source broadcast/multicast              -> UdpInErrors (I.41, RFC 1122 §4.1.3.6)
 *   no endpoint: unicast                    -> ICMP port unreachable, UdpNoPorts
 *                broadcast/multicast        -> UdpIgnoredMulti, no ICMP (RFC 1122 §3.2.2)
 *   endpoint found: ep->ops->rx             -> UdpInDatagrams, or on refusal
 *                                              UdpRcvbufErrors/UdpInErrors
 *
 * The endpoint table is a hash on the local port; each chain holds every
 * endpoint bound to ports hashing there.  On input the endpoint bound to the
 * destination address wins over a wildcard one (most specific match).
 *
 * Binding rules (the Windows/BSD model):
 *   - same port, same address (both wildcard, or the same specific address):
 *     -EADDRINUSE unless both set UDP_EP_REUSEADDR;
 *   - same port, a specific address and the wildcard: allowed, unless one of
 *     them set UDP_EP_EXCLUSIVE (SO_EXCLUSIVEADDRUSE forbids any sharing);
 *   - a specific address must be one of ours (-EADDRNOTAVAIL);
 *   - port 0: an ephemeral port in 49152-65535 (RFC 6335 §6), searched from
 *     a random start each time (RFC 6056 §3.3.1, "Algorithm 1"), skipping
 *     any port in use.
 * An endpoint with neither UDP_EP_V4 nor UDP_EP_V6 in its flags is treated
 * as IPv4.  Endpoints whose families do not overlap never conflict (a
 * V6-only wildcard and a V4 wildcard may share a port, as IPV6_V6ONLY
 * sockets do).
 *
 * IPv6 (udp_input6, RFC 8200 §8.1, RFC 768): the same checks in the same
 * order with Udp6* counters - except that the checksum is MANDATORY: a zero
 * checksum is dropped (Udp6InCsumErrors + Udp6InErrors, I.40), a closed
 * unicast port answers ICMPv6 Destination Unreachable code 4 (RFC 4443
 * §3.1), a multicast or link-multicast one is counted in Udp6IgnoredMulti.
 * An IPv6 datagram is delivered to endpoints with UDP_EP_V6 (dual-stack
 * ones have UDP_EP_V4 too; an IPv4 datagram they get reports its IPv4
 * addresses, the wsk layer maps them to ::ffff:a.b.c.d).  A specific IPv6
 * address may be bound while still tentative (it receives once DAD is
 * done), unlike Linux, so a socket opened right after the stack works.
 * udp_send to an IPv6 destination: at most 65527 bytes (65535 - 8: no
 * jumbograms), udp_emit_v6, ipv6_output; to an IPv4-mapped destination
 * (::ffff:a.b.c.d, a dual-stack socket) the datagram goes out as IPv4.
 *
 * Locking (stack.h): the table and the ephemeral-port generator are guarded
 * by st->lock.  The rx callback runs with no lock held; ep->active counts
 * callbacks in progress so that udp_unbind can wait for them.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "stack/stack_impl.h"
#include "stack/ipv6_impl.h"

#define UDP_HASH_SIZE 256u
#define UDP_EPH_FIRST 49152u
#define UDP_EPH_LAST 65535u
#define UDP_EPH_COUNT (UDP_EPH_LAST - UDP_EPH_FIRST + 1)
/* RFC 768 / RFC 791: 65535 - 20 (IPv4 header) - 8 (UDP header). */
#define UDP_MAX_PAYLOAD_V4 65507u
/* RFC 8200 §3: Payload Length 65535 - 8 (UDP header); no jumbograms. */
#define UDP_MAX_PAYLOAD_V6 65527u

struct udp_table {
    struct udp_ep *chain[UDP_HASH_SIZE];
    uint64_t rng;              /* xorshift64 state for ephemeral ports */
};

/*
 * Which endpoints' rx callbacks is THIS thread inside?  A linked list of
 * frames on the calling thread's stack, so that udp_unbind called from
 * inside a callback (of this or an enclosing one) does not wait for itself.
 * It is per-thread call context, not shared state: nothing in it outlives
 * the callback, and no other thread ever reads it.
 */
struct udp_cb_frame {
    const struct udp_ep *ep;
    const struct udp_cb_frame *prev;
};
static _Thread_local const struct udp_cb_frame *udp_cb_top;

static inline unsigned udp_hash(uint16_t port)
{
    return (port ^ (port >> 8)) & (UDP_HASH_SIZE - 1);
}

static uint64_t udp_seed(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
    }
    return v ? v : 0x2545f4914f6cdd1dull;   /* xorshift must not start at 0 */
}

/* Caller holds st->lock. */
static uint32_t udp_random(struct udp_table *t)
{
    uint64_t x = t->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t->rng = x;
    return (uint32_t)(x >> 32);
}

int udp_init(struct wskstack *st)
{
    st->udp = calloc(1, sizeof(*st->udp));
    if (!st->udp)
        return -ENOMEM;
    st->udp->rng = udp_seed();
    return 0;
}

void udp_fini(struct wskstack *st)
{
    /* Endpoints belong to their owners (the wsk layer closes every socket
     * before the stack is destroyed); only the table is ours. */
    free(st->udp);
    st->udp = NULL;
}

static bool udp_ep_is_wild(const struct udp_ep *ep)
{
    return ip_addr_is_any(&ep->local);
}

static bool udp_ep_accepts_v4(const struct udp_ep *ep)
{
    return (ep->flags & UDP_EP_V4) || !(ep->flags & (UDP_EP_V4 | UDP_EP_V6));
}

static bool udp_ep_accepts_v6(const struct udp_ep *ep)
{
    return (ep->flags & UDP_EP_V6) != 0;
}

/* Caller holds st->lock.  May `ep` bind to (local, port) next to the
 * endpoints already there? */
static bool udp_port_conflict(struct wskstack *st, const struct udp_ep *ep,
                              const struct ip_addr *local, uint16_t port)
{
    bool wild = ip_addr_is_any(local);
    for (const struct udp_ep *e = st->udp->chain[udp_hash(port)]; e; e = e->next) {
        if (e->lport != port)
            continue;
        if (!(udp_ep_accepts_v4(ep) && udp_ep_accepts_v4(e)) &&
            !(udp_ep_accepts_v6(ep) && udp_ep_accepts_v6(e)))
            continue;               /* no family in common */
        bool e_wild = udp_ep_is_wild(e);
        bool same = (wild && e_wild) || (!wild && !e_wild && ip_addr_eq(local, &e->local));
        bool overlap = same || wild || e_wild;
        if (!overlap)
            continue;               /* two different specific addresses */
        if ((ep->flags | e->flags) & UDP_EP_EXCLUSIVE)
            return true;            /* SO_EXCLUSIVEADDRUSE: no sharing at all */
        if (same && !((ep->flags & e->flags) & UDP_EP_REUSEADDR))
            return true;
    }
    return false;
}

/* Caller holds st->lock. */
static bool udp_port_used(struct wskstack *st, uint16_t port)
{
    for (const struct udp_ep *e = st->udp->chain[udp_hash(port)]; e; e = e->next)
        if (e->lport == port)
            return true;
    return false;
}

int udp_bind(struct wskstack *st, struct udp_ep *ep, const struct ip_addr *local, uint16_t port)
{
    if (ep->bound)
        return -EINVAL;
    struct ip_addr la = {.af = IPA_NONE};
    if (local && !ip_addr_is_any(local)) {
        /* A specific address must be one of ours; an IPv6 one may still be
         * tentative (see the top of the file). */
        bool ours = local->af == IPA_V4 ? ipv4_is_local(st, local->v4)
                    : local->af == IPA_V6 ? addr6_is_local(st, local->v6, false)
                                          : false;
        if (!ours)
            return -EADDRNOTAVAIL;
        la = *local;
    }

    pthread_mutex_lock(&st->lock);
    if (port == 0) {
        uint32_t start = udp_random(st->udp) % UDP_EPH_COUNT;
        for (uint32_t i = 0; i < UDP_EPH_COUNT; i++) {
            uint16_t cand = (uint16_t)(UDP_EPH_FIRST + (start + i) % UDP_EPH_COUNT);
            if (!udp_port_used(st, cand)) {
                port = cand;
                break;
            }
        }
        if (port == 0) {
            pthread_mutex_unlock(&st->lock);
            return -EADDRINUSE;     /* all 16384 ephemeral ports taken */
        }
    } else if (udp_port_conflict(st, ep, &la, port)) {
        pthread_mutex_unlock(&st->lock);
        return -EADDRINUSE;
    }
    ep->local = la;
    ep->lport = port;
    ep->bound = true;
    atomic_store(&ep->active, 0);
    unsigned h = udp_hash(port);
    ep->next = st->udp->chain[h];
    st->udp->chain[h] = ep;
    pthread_mutex_unlock(&st->lock);
    return 0;
}

void udp_unbind(struct wskstack *st, struct udp_ep *ep)
{
    pthread_mutex_lock(&st->lock);
    if (ep->bound) {
        for (struct udp_ep **pp = &st->udp->chain[udp_hash(ep->lport)]; *pp; pp = &(*pp)->next) {
            if (*pp == ep) {
                *pp = ep->next;
                break;
            }
        }
        ep->bound = false;
        ep->next = NULL;
    }
    pthread_mutex_unlock(&st->lock);

    /* From here udp_input cannot find ep any more (it looks it up and
     * increments `active` under st->lock).  Wait for a callback still
     * running on another thread - unless we ARE that callback. */
    for (const struct udp_cb_frame *f = udp_cb_top; f; f = f->prev)
        if (f->ep == ep)
            return;
    while (atomic_load(&ep->active) > 0)
        sched_yield();
}

/* ---- input -------------------------------------------------------------------- */

/* Caller holds st->lock.  The endpoint for (dst, dport): bound to dst
 * exactly, else bound to the wildcard.  Among equals, the one bound last
 * (at the head of the chain) wins, as in Linux for unicast. */
static struct udp_ep *udp_lookup(struct wskstack *st, uint32_t dst, uint16_t dport)
{
    struct udp_ep *wild = NULL;
    for (struct udp_ep *e = st->udp->chain[udp_hash(dport)]; e; e = e->next) {
        if (e->lport != dport || !udp_ep_accepts_v4(e))
            continue;
        if (udp_ep_is_wild(e)) {
            if (!wild)
                wild = e;
        } else if (e->local.af == IPA_V4 && e->local.v4 == dst) {
            return e;
        }
    }
    return wild;
}

/* Run ep's rx callback with no lock held, keeping the bookkeeping
 * udp_unbind relies on; the caller took ep->active under st->lock. */
static int udp_deliver(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    struct udp_cb_frame fr = {.ep = ep, .prev = udp_cb_top};
    udp_cb_top = &fr;
    int rc = ep->ops->rx(ep, p, info);
    udp_cb_top = fr.prev;
    atomic_fetch_sub(&ep->active, 1);   /* ep may be gone after this */
    return rc;
}

void udp_input(struct wskstack *st, struct pkt *p, const struct ipv4_repr *ip, bool link_bcast,
               uint64_t now)
{
    struct udp_repr u;
    const uint8_t *h = pkt_data(p);

    switch (udp_parse(h, p->len, &u)) {
    case WIRE_OK:
        break;
    case WIRE_BAD_LENGTH:
        stack_drop(st, CNT_UdpInErrors, "udp", "length field < 8 (RFC 768, I.39)");
        goto free;
    default:
        stack_drop(st, CNT_UdpInErrors, "udp",
                   "shorter than 8 bytes or length field beyond the IP payload (RFC 1122 §4.1.3, I.39)");
        goto free;
    }
    /* RFC 768: the length field delimits the datagram; the tail is ignored. */
    p->len = u.len;

    if (!udp_csum_ok_v4(h, u.len, ip->src, ip->dst)) {
        CNT_INC(st, UdpInCsumErrors);
        stack_drop(st, CNT_UdpInErrors, "udp", "bad checksum (RFC 1122 §4.1.3.4, I.40)");
        goto free;
    }
    if (stack_trace_on(st, TRACE_UDP)) {
        char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
        struct trace_fields f = {.src = trace_ip4(ip->src, s), .dst = trace_ip4(ip->dst, d),
                                 .rule = u.csum ? "ok" : "none", .sport = TNUM(u.sport),
                                 .dport = TNUM(u.dport), .len = TNUM(u.len)};
        trace_event(st, TL_UDP, TD_RX, "csum", &f, "port %u -> %u, %u bytes: checksum %s (RFC 768)",
                    u.sport, u.dport, u.len, u.csum ? "ok" : "not used (zero, RFC 768)");
    }
    if (ipv4_is_multicast(ip->src) || ipv4_is_broadcast(st, ip->src)) {
        stack_drop(st, CNT_UdpInErrors, "udp",
                   "broadcast/multicast source (RFC 1122 §4.1.3.6, I.41)");
        goto free;
    }

    bool mcast = ipv4_is_multicast(ip->dst);
    bool bcast = link_bcast || ipv4_is_broadcast(st, ip->dst);

    pthread_mutex_lock(&st->lock);
    struct udp_ep *ep = udp_lookup(st, ip->dst, u.dport);
    if (ep)
        atomic_fetch_add(&ep->active, 1);
    pthread_mutex_unlock(&st->lock);

    if (!ep) {
        if (bcast || mcast) {
            /* RFC 1122 §3.2.2: never an ICMP error about a broadcast. */
            stack_drop(st, CNT_UdpIgnoredMulti, "udp", "no socket for a broadcast/multicast (I.41)");
            goto free;
        }
        /* RFC 1122 §4.1.3.1: Port Unreachable SHOULD be sent.  The IP
         * header still sits in front of the UDP header (ipv4_input pulled
         * it); quote from there. */
        icmp_send_error(st, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, h - ip->hdr_len,
                        ip->total_len, link_bcast, now);
        stack_drop(st, CNT_UdpNoPorts, "udp", "no socket on the port (RFC 1122 §4.1.3.1)");
        goto free;
    }

    struct udp_rx_info info = {
        .src = ip4(ip->src), .dst = ip4(ip->dst),
        .sport = u.sport, .dport = u.dport,
        .ifindex = st->ifindex, .ttl = ip->ttl, .tos = ip->tos,
        .bcast = bcast, .mcast = mcast,
    };
    pkt_pull(p, UDP_HDR_LEN);

    int rc = udp_deliver(ep, p, &info);
    if (rc == 0) {
        CNT_INC(st, UdpInDatagrams);
        return;
    }
    if (rc == -ENOBUFS) {
        CNT_INC(st, UdpInErrors);
        stack_drop(st, CNT_UdpRcvbufErrors, "udp", "socket receive queue full (I.41)");
    } else {
        stack_drop(st, CNT_UdpInErrors, "udp", "refused by the socket");
    }
free:
    pkt_free(st, p);
}

/* Caller holds st->lock.  As udp_lookup, for IPv6 endpoints. */
static struct udp_ep *udp_lookup6(struct wskstack *st, const uint8_t dst[16], uint16_t dport)
{
    struct udp_ep *wild = NULL;
    for (struct udp_ep *e = st->udp->chain[udp_hash(dport)]; e; e = e->next) {
        if (e->lport != dport || !udp_ep_accepts_v6(e))
            continue;
        if (udp_ep_is_wild(e)) {
            if (!wild)
                wild = e;
        } else if (e->local.af == IPA_V6 && memcmp(e->local.v6, dst, 16) == 0) {
            return e;
        }
    }
    return wild;
}

void udp_input6(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip, bool link_mcast,
                uint64_t now)
{
    struct udp_repr u;
    const uint8_t *h = pkt_data(p);
    /* The whole IPv6 packet, for a Port Unreachable quote (ipv6_impl.h). */
    const uint8_t *ip6 = ipv6_hdr_of(p, ip);
    size_t ip6_len = (size_t)(h - ip6) + p->len;

    switch (udp_parse(h, p->len, &u)) {
    case WIRE_OK:
        break;
    case WIRE_BAD_LENGTH:
        stack_drop(st, CNT_Udp6InErrors, "udp6", "length field < 8 (RFC 768, I.39)");
        goto free;
    default:
        stack_drop(st, CNT_Udp6InErrors, "udp6",
                   "shorter than 8 bytes or length field beyond the IPv6 payload (RFC 768, I.39)");
        goto free;
    }
    /* RFC 768: the length field delimits the datagram; the tail is ignored. */
    p->len = u.len;

    if (!udp_csum_ok_v6(h, u.len, ip->src, ip->dst)) {
        CNT_INC(st, Udp6InCsumErrors);
        stack_drop(st, CNT_Udp6InErrors, "udp6",
                   u.csum == 0 ? "zero checksum: mandatory over IPv6 (RFC 8200 §8.1, I.40)"
                               : "bad checksum (RFC 8200 §8.1, I.40)");
        goto free;
    }
    if (stack_trace_on(st, TRACE_UDP)) {
        char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
        struct trace_fields f = {.src = trace_ip6(ip->src, s), .dst = trace_ip6(ip->dst, d),
                                 .rule = "ok", .sport = TNUM(u.sport), .dport = TNUM(u.dport),
                                 .len = TNUM(u.len)};
        trace_event(st, TL_UDP, TD_RX, "csum", &f, "port %u -> %u, %u bytes: checksum ok (RFC 8200 §8.1)",
                    u.sport, u.dport, u.len);
    }
    if (ipv6_is_multicast(ip->src)) {
        /* ipv6_input already refuses these; kept for a direct caller. */
        stack_drop(st, CNT_Udp6InErrors, "udp6", "multicast source (RFC 4291 §2.7, I.41)");
        goto free;
    }

    bool mcast = ipv6_is_multicast(ip->dst);

    pthread_mutex_lock(&st->lock);
    struct udp_ep *ep = udp_lookup6(st, ip->dst, u.dport);
    if (ep)
        atomic_fetch_add(&ep->active, 1);
    pthread_mutex_unlock(&st->lock);

    if (!ep) {
        if (mcast || link_mcast) {
            /* RFC 4443 §2.4(e.3, e.4): never an error about multicast. */
            stack_drop(st, CNT_Udp6IgnoredMulti, "udp6", "no socket for a multicast (I.41)");
            goto free;
        }
        /* RFC 4443 §3.1: Destination Unreachable code 4, port unreachable. */
        icmpv6_send_error(st, ICMPV6_DEST_UNREACH, ICMPV6_UNREACH_PORT, 0, ip6, ip6_len,
                          link_mcast, false, now);
        stack_drop(st, CNT_Udp6NoPorts, "udp6", "no socket on the port (RFC 4443 §3.1)");
        goto free;
    }

    struct udp_rx_info info = {
        .src = {.af = IPA_V6}, .dst = {.af = IPA_V6},
        .sport = u.sport, .dport = u.dport,
        .ifindex = st->ifindex, .ttl = ip->hop_limit, .tos = ip->traffic_class,
        .bcast = false, .mcast = mcast,
    };
    memcpy(info.src.v6, ip->src, 16);
    memcpy(info.dst.v6, ip->dst, 16);
    pkt_pull(p, UDP_HDR_LEN);

    int rc = udp_deliver(ep, p, &info);
    if (rc == 0) {
        CNT_INC(st, Udp6InDatagrams);
        return;
    }
    if (rc == -ENOBUFS) {
        CNT_INC(st, Udp6InErrors);
        stack_drop(st, CNT_Udp6RcvbufErrors, "udp6", "socket receive queue full (I.41)");
    } else {
        stack_drop(st, CNT_Udp6InErrors, "udp6", "refused by the socket");
    }
free:
    pkt_free(st, p);
}

/* ---- output -------------------------------------------------------------------- */

/* "udp tx send": the header just written at h (ports, length, the
 * checksum computed over the pseudo-header of src/dst, as text). */
static void udp_trace_send(struct wskstack *st, const uint8_t *h, const char *src,
                           const char *dst, const char *rfc)
{
    struct trace_fields f = {.src = src, .dst = dst, .rfc = rfc, .sport = TNUM(be16(h)),
                             .dport = TNUM(be16(h + 2)), .len = TNUM(be16(h + 4))};
    trace_event(st, TL_UDP, TD_TX, "send", &f,
                "port %u -> %u, %u bytes: checksum 0x%04x computed (%s)", be16(h), be16(h + 2),
                be16(h + 4), be16(h + 6), rfc);
}

/* Gather the payload behind room for the UDP header.  NULL: no buffer
 * (*err -ENOBUFS) or the iov is shorter than len (*err -EINVAL). */
static struct pkt *udp_gather(struct wskstack *st, const struct udp_send_args *a, int *err)
{
    struct pkt *p = pkt_alloc(st, (uint32_t)(UDP_HDR_LEN + a->len));
    if (!p) {
        *err = -ENOBUFS;
        return NULL;
    }
    uint8_t *d = pkt_data(p) + UDP_HDR_LEN;
    size_t left = a->len;
    for (unsigned i = 0; i < a->iovcnt && left; i++) {
        size_t n = a->iov[i].iov_len < left ? a->iov[i].iov_len : left;
        if (n)
            memcpy(d, a->iov[i].iov_base, n);
        d += n;
        left -= n;
    }
    if (left) {                     /* the iov holds fewer bytes than len */
        pkt_free(st, p);
        *err = -EINVAL;
        return NULL;
    }
    p->len = (uint32_t)(UDP_HDR_LEN + a->len);
    return p;
}

static int udp_send4(struct wskstack *st, struct udp_ep *ep, const struct udp_send_args *a);

/* IPv6 destination (not IPv4-mapped). */
static int udp_send6(struct wskstack *st, struct udp_ep *ep, const struct udp_send_args *a)
{
    const uint8_t *dst = a->dst.v6;
    if (ipv6_is_unspecified(dst) || a->dport == 0)
        return -EINVAL;
    if (a->len > UDP_MAX_PAYLOAD_V6)
        return -EMSGSIZE;           /* BAD-INPUT J.45: nothing is sent */
    if (a->ttl == 0 || a->ttl > 255 || a->tos > 255)
        return -EINVAL;             /* we never send Hop Limit 0 (C.14) */
    if (a->ifindex != 0 && a->ifindex != st->ifindex)
        return -ENXIO;
    if (stack_dev_gone(st))
        return -ENODEV;

    struct ipv6_tx tx = {
        .next_header = IP_PROTO_UDP,
        .hop_limit = (uint8_t)(a->ttl < 0 ? IPV6_DEFAULT_HOP_LIMIT : a->ttl),
        .tclass = (uint8_t)(a->tos < 0 ? 0 : a->tos),
        .dontfrag = a->df,
        .ifindex = a->ifindex,
    };
    memcpy(tx.dst, dst, 16);
    if (a->src.af != IPA_NONE && !ip_addr_is_any(&a->src)) {
        /* IPV6_PKTINFO: the caller's source must be one of ours, usable. */
        if (a->src.af != IPA_V6 || !addr6_is_local(st, a->src.v6, true))
            return -EADDRNOTAVAIL;
        memcpy(tx.src, a->src.v6, 16);
    } else if (!udp_ep_is_wild(ep)) {
        if (ep->local.af != IPA_V6)
            return -EINVAL;         /* bound to an IPv4 address */
        if (!addr6_is_local(st, ep->local.v6, true))
            return -EADDRNOTAVAIL;  /* still tentative (RFC 4862 §5.4) */
        memcpy(tx.src, ep->local.v6, 16);
    } else {
        if (!ipv6_is_multicast(dst) && !ipv6_is_link_local(dst)) {
            uint8_t nh[16];
            pthread_mutex_lock(&st->lock);
            int r = route6_lookup_quiet(st, dst, nh); /* ipv6_output traces the route */
            pthread_mutex_unlock(&st->lock);
            if (r < 0) {
                stack_drop(st, CNT_Ip6OutNoRoutes, "ipv6", "no route to destination (RFC 4861 §5.2)");
                return -ENETUNREACH;
            }
        }
        if (addr6_select_source(st, dst, tx.src, NULL) < 0)
            return -EADDRNOTAVAIL;  /* never send from :: (K.50) */
    }

    int err = 0;
    struct pkt *p = udp_gather(st, a, &err);
    if (!p) {
        if (err == -ENOBUFS)
            stack_drop(st, CNT_Udp6SndbufErrors, "udp6", "no packet buffer");
        return err;
    }
    udp_emit_v6(pkt_data(p), ep->lport, a->dport, (uint16_t)a->len, tx.src, dst);
    if (stack_trace_on(st, TRACE_UDP)) {
        char sb[TRACE_IP_LEN], db[TRACE_IP_LEN];
        udp_trace_send(st, pkt_data(p), trace_ip6(tx.src, sb), trace_ip6(dst, db),
                       "RFC 8200 §8.1");
    }
    p->req = a->req;
    int rc = ipv6_output(st, p, &tx, stack_now(st));
    if (rc >= 0)
        CNT_INC(st, Udp6OutDatagrams);
    else if (rc == -ENOBUFS)
        CNT_INC(st, Udp6SndbufErrors);
    return rc;
}

int udp_send(struct wskstack *st, struct udp_ep *ep, const struct udp_send_args *a)
{
    if (!ep->bound)
        return -EINVAL;
    if (a->dst.af == IPA_V6 && !ipv6_is_v4mapped(a->dst.v6))
        return udp_send6(st, ep, a);
    if (a->dst.af != IPA_V6)
        return a->dst.af == IPA_V4 ? udp_send4(st, ep, a) : -EINVAL;

    /* ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): a dual-stack socket talking to an
     * IPv4 peer - the datagram goes out as IPv4 (RFC 4038 §4.2).  A V6-only
     * endpoint cannot (Linux: ENETUNREACH); the source may be given mapped
     * too. */
    if (!udp_ep_accepts_v4(ep))
        return -ENETUNREACH;
    struct udp_send_args a4 = *a;
    a4.dst = ip4(be32(a->dst.v6 + 12));
    if (a->src.af == IPA_V6) {
        if (ip_addr_is_any(&a->src))
            a4.src = (struct ip_addr){.af = IPA_NONE};
        else if (ipv6_is_v4mapped(a->src.v6))
            a4.src = ip4(be32(a->src.v6 + 12));
        else
            return -EADDRNOTAVAIL;  /* an IPv6 source for an IPv4 datagram */
    }
    return udp_send4(st, ep, &a4);
}


/* IPv4 destination (given as such or IPv4-mapped). */
static int udp_send4(struct wskstack *st, struct udp_ep *ep, const struct udp_send_args *a)
{
    if (a->dst.v4 == 0 || a->dport == 0)
        return -EINVAL;
    if (a->len > UDP_MAX_PAYLOAD_V4)
        return -EMSGSIZE;           /* BAD-INPUT J.45: nothing is sent */
    if (a->ttl == 0 || a->ttl > 255 || a->tos > 255)
        return -EINVAL;             /* we never send TTL 0 (C.14) */
    if (a->ifindex != 0 && a->ifindex != st->ifindex)
        return -ENXIO;
    if (stack_dev_gone(st))
        return -ENODEV;

    uint32_t dst = a->dst.v4, src;
    if (a->src.af != IPA_NONE && !ip_addr_is_any(&a->src)) {
        /* IN_PKTINFO: the caller's source must be one of ours. */
        if (a->src.af != IPA_V4 || !ipv4_is_local(st, a->src.v4))
            return -EADDRNOTAVAIL;
        src = a->src.v4;
    } else if (!udp_ep_is_wild(ep)) {
        if (ep->local.af != IPA_V4)
            return -EINVAL;         /* bound to an IPv6 address */
        src = ep->local.v4;
    } else {
        uint32_t nh = dst;
        if (!ipv4_is_broadcast(st, dst) && !ipv4_is_multicast(dst)) {
            pthread_mutex_lock(&st->lock);
            int r = route4_lookup_quiet(st, dst, &nh, NULL); /* ipv4_output traces it */
            pthread_mutex_unlock(&st->lock);
            if (r < 0) {
                stack_drop(st, CNT_IpOutNoRoutes, "ipv4", "no route to destination (RFC 1122 §3.3.1)");
                return -ENETUNREACH;
            }
        }
        if (ipv4_select_source(st, dst, nh, &src) < 0)
            return -EADDRNOTAVAIL;  /* never send from 0.0.0.0 (K.50) */
    }

    int err = 0;
    struct pkt *p = udp_gather(st, a, &err);
    if (!p) {
        if (err == -ENOBUFS)
            stack_drop(st, CNT_UdpSndbufErrors, "udp", "no packet buffer");
        return err;
    }
    udp_emit_v4(pkt_data(p), ep->lport, a->dport, (uint16_t)a->len, src, dst);
    if (stack_trace_on(st, TRACE_UDP)) {
        char sb[TRACE_IP_LEN], db[TRACE_IP_LEN];
        udp_trace_send(st, pkt_data(p), trace_ip4(src, sb), trace_ip4(dst, db), "RFC 768");
    }
    p->req = a->req;

    struct ipv4_tx tx = {
        .src = src, .dst = dst, .proto = IP_PROTO_UDP,
        .ttl = (uint8_t)(a->ttl < 0 ? IPV4_DEFAULT_TTL : a->ttl),
        .tos = (uint8_t)(a->tos < 0 ? 0 : a->tos),
        .df = a->df,
    };
    int rc = ipv4_output(st, p, &tx, stack_now(st));
    if (rc >= 0)
        CNT_INC(st, UdpOutDatagrams);
    else if (rc == -ENOBUFS)
        CNT_INC(st, UdpSndbufErrors);
    return rc;
}
