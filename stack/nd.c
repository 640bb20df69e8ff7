/* SPDX-License-Identifier: MIT */
/*
 * nd.c - Neighbor Discovery for IPv6 (RFC 4861): the neighbour cache with
 * Neighbor Unreachability Detection, NS/NA/RS/RA/Redirect input, address
 * resolution, Router Solicitation at start, the DAD probe for addr6.c.
 * The routing table, Prefix List and Default Router List are in route6.c.
 *
 * The cache (§5.1, §7.3.2)
 * ------------------------
 * A fixed array of ND_MAX entries found through a keyed hash (neigh.c's
 * layout).  States and what moves them (Appendix C):
 *   INCOMPLETE  resolution in progress: multicast NS to the solicited-node
 *               group every RetransTimer, packets wait on the entry's queue;
 *               after MAX_MULTICAST_SOLICIT (3) unanswered NS and one more
 *               RetransTimer the queued sends complete with -EHOSTUNREACH
 *               (NdResolveFailed, NdQueueDrops) and the entry is freed (§7.2.2)
 *   REACHABLE   confirmed by a solicited NA less than ReachableTime ago;
 *               then STALE (§7.3.3)
 *   STALE       unconfirmed; still used.  The first send moves it to DELAY
 *   DELAY       DELAY_FIRST_PROBE_TIME (5 s) to get a confirmation, then
 *   PROBE       unicast NS every RetransTimer; after MAX_UNICAST_SOLICIT (3)
 *               unanswered the entry is deleted (§7.3.3)
 * Only solicited NAs confirm reachability: there is no upper-layer hint (no
 * TCP; UDP gives none, §7.3.1).  STALE entries unused for ND_GC_NS are
 * deleted (the RFC leaves garbage collection to the implementation, §7.3.3).
 * Static entries (stack_neigh_add_static) never change.
 *
 * Bounds (BAD-INPUT J.43): ND_MAX entries.  A new entry evicts the least
 * recently used idle one (no queued packets, not static), preferring
 * entries that are neither REACHABLE nor routers (NdCacheEvictions); if
 * every entry holds packets the new resolution is refused (-ENOBUFS).
 * Queues: ND_QUEUE_MAX packets per entry, ND_QUEUE_TOTAL in all.  When full,
 * the NEW packet (or fragment chain) is refused with -ENOBUFS (NdQueueDrops).
 * §7.2.2 says the new packet SHOULD replace the oldest; we keep neigh.c's
 * policy instead: a send already reported as queued is never failed by a
 * later one, and a fragment chain is never cut in half.
 *
 * Sending ND messages: nd.c builds the IPv6 header itself (hop limit 255,
 * §6.1, §7.1) and hands the packet to nd6_output with the destination as
 * next hop.  ND never leaves the link (§3), so no route lookup: an NA goes
 * back to the soliciting neighbour even when its address matches no on-link
 * prefix (RFC 5942 §4), and a PROBE NS goes straight to the cached MAC.
 *
 * Randomness: ReachableTime is BaseReachableTime times a uniform factor in
 * 0.5..1.5 (§6.3.2), drawn from a per-stack xorshift64* generator seeded
 * from getrandom() (nd_set_seed() makes it deterministic for tests), again
 * when an RA changes BaseReachableTime and every ND_REACHABLE_REDRAW_NS.
 * The first RS is not delayed: addr6.c's DAD already waited a random time
 * since the interface came up (§6.3.7, last paragraph of the delay rule).
 *
 * Locking (stack.h): all state under st->lock; packets are written, done()
 * called and addr6_* called after unlocking.  One thread at a time flushes
 * an entry's queue (e->flushing), as in neigh.c.
 */
#include "stack/nd_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define ND_MAX 256
#define ND_HASH 256                 /* buckets, power of two */
#define ND_QUEUE_MAX 64             /* packets per entry (as neigh.c) */
#define ND_QUEUE_TOTAL 1024
/* RFC 4861 §10 protocol constants */
#define MAX_MULTICAST_SOLICIT 3
#define MAX_UNICAST_SOLICIT 3
#define RETRANS_TIMER_MS 1000
#define REACHABLE_TIME_MS 30000
#define DELAY_FIRST_PROBE_NS (5 * ND_NS_PER_S)
#define MAX_RTR_SOLICITATIONS 3
#define RTR_SOLICITATION_INTERVAL_NS (4 * ND_NS_PER_S)
/* §6.2.1 MaxReachable-like sanity bound on RA Reachable Time (1 hour). */
#define ND_MAX_REACHABLE_MS 3600000u
#define ND_GC_NS (600 * ND_NS_PER_S)
#define ND_REACHABLE_REDRAW_NS (2 * 3600 * ND_NS_PER_S) /* §6.3.4 "every few hours" */
#define ND_ADDR_SCAN_MAX 256        /* bound on the addr6_get() walk */

struct nd_entry {
    uint8_t ip[16];
    uint8_t mac[ETH_ALEN];
    uint8_t state;               /* enum nd_nud; ND_NUD_NONE = free */
    uint8_t probes;              /* NS sent in INCOMPLETE / PROBE */
    bool is_router;              /* IsRouter (§6.3.4, §7.2.5) */
    bool is_static;
    bool flushing;               /* a thread is writing this entry's queue */
    int16_t hnext;               /* hash chain / free list */
    uint8_t src[16];             /* source of the packet that started resolution */
    uint64_t timer;              /* INCOMPLETE/DELAY/PROBE: next event; REACHABLE: -> STALE */
    uint64_t used;               /* last use or update (GC of STALE entries) */
    uint64_t lru;                /* sequence number: smaller = older */
    struct pkt *qh, *qt;
    unsigned qlen;
};

struct nd_state {
    struct nd_entry e[ND_MAX];
    int16_t bucket[ND_HASH];
    int16_t free_head;
    unsigned count;
    unsigned queued_total;
    uint64_t seq;
    uint32_t hash_key;           /* random: spoofed sources cannot pick a chain */
    int gone_err;
    /* host variables (§6.3.2) */
    uint32_t base_reachable_ms, reachable_ms, retrans_ms;
    /* LinkMTU (§6.3.2, §6.3.4): written under st->lock by nd_ra_input, but
     * an atomic so that nd_link_mtu() can read it WITHOUT the lock - ipv6.c
     * needs it from pmtu6_update/pmtu6_get, which already hold st->lock
     * (a mutex is not recursive; see nd_link_mtu in ipv6_impl.h). */
    _Atomic uint32_t link_mtu;
    uint8_t cur_hop_limit;
    uint64_t rng;
    bool reachable_drawn;
    uint64_t reachable_drawn_at;
    /* Router Solicitation (§6.3.7) */
    bool rs_started, rs_active;
    uint8_t rs_sent;
    uint64_t rs_next;
    struct route6_table *rt;     /* route6.c */
};

static const uint8_t all_nodes[16] = IPV6_ADDR_ALL_NODES;
static const uint8_t all_routers[16] = IPV6_ADDR_ALL_ROUTERS;
static const uint8_t unspec[16] = IPV6_ADDR_UNSPECIFIED;

/* ---- small helpers ---------------------------------------------------------- */

static const char *a6(const uint8_t a[16], char buf[64])
{
    struct ip_addr x = {.af = IPA_V6};
    memcpy(x.v6, a, 16);
    return ip_addr_str(&x, buf, 64);
}

static uint64_t nd_rand(struct nd_state *nd)
{
    /* xorshift64* (Vigna): good enough for a timer jitter. */
    uint64_t x = nd->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    nd->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* §6.3.2: ReachableTime = uniform in [0.5, 1.5] x BaseReachableTime. */
static void nd_draw_reachable(struct nd_state *nd, uint64_t now, bool have_now)
{
    uint64_t base = nd->base_reachable_ms;
    nd->reachable_ms = (uint32_t)(base / 2 + nd_rand(nd) % (base + 1));
    nd->reachable_drawn = have_now;
    nd->reachable_drawn_at = now;
}

static uint64_t retrans_ns(const struct nd_state *nd) { return (uint64_t)nd->retrans_ms * ND_NS_PER_MS; }
static uint64_t reachable_ns(const struct nd_state *nd) { return (uint64_t)nd->reachable_ms * ND_NS_PER_MS; }

/* Our address a: its addr6 state, or -1 when it is not ours (addr6_get walk;
 * no lock held). */
static int nd_addr_state(struct wskstack *st, const uint8_t a[16])
{
    uint8_t x[16], plen;
    enum addr6_state s;
    enum addr6_origin o;
    for (unsigned i = 0; i < ND_ADDR_SCAN_MAX && addr6_get(st, i, x, &plen, &s, &o); i++)
        if (memcmp(x, a, 16) == 0)
            return (int)s;
    return -1;
}

/* ---- the table (caller holds st->lock) --------------------------------------- */

static unsigned nd_hash(const struct nd_state *nd, const uint8_t ip[16])
{
    uint32_t h = 2166136261u ^ nd->hash_key; /* FNV-1a, keyed */
    for (unsigned i = 0; i < 16; i++) {
        h ^= ip[i];
        h *= 16777619u;
    }
    return (h ^ (h >> 16)) & (ND_HASH - 1);
}

static struct nd_entry *nd_find(struct nd_state *nd, const uint8_t ip[16])
{
    for (int i = nd->bucket[nd_hash(nd, ip)]; i >= 0; i = nd->e[i].hnext)
        if (memcmp(nd->e[i].ip, ip, 16) == 0)
            return &nd->e[i];
    return NULL;
}

/* Remove from the hash and free.  Its queue must be empty. */
static void nd_delete(struct nd_state *nd, struct nd_entry *e)
{
    int idx = (int)(e - nd->e);
    int16_t *pp = &nd->bucket[nd_hash(nd, e->ip)];
    while (*pp >= 0 && *pp != idx)
        pp = &nd->e[*pp].hnext;
    if (*pp == idx)
        *pp = e->hnext;
    memset(e, 0, sizeof *e);
    e->hnext = nd->free_head;
    nd->free_head = (int16_t)idx;
    nd->count--;
}

/* Eviction preference: idle non-REACHABLE non-router entries first (J.43:
 * REACHABLE in-use entries are not evicted first), then by age. */
static bool nd_evict_before(const struct nd_entry *a, const struct nd_entry *b)
{
    bool ka = a->state == ND_NUD_REACHABLE || a->is_router;
    bool kb = b->state == ND_NUD_REACHABLE || b->is_router;
    if (ka != kb)
        return !ka;
    return a->lru < b->lru;
}

static struct nd_entry *nd_new(struct wskstack *st, const uint8_t ip[16])
{
    struct nd_state *nd = st->nd;
    if (nd->free_head < 0) {
        struct nd_entry *victim = NULL;
        for (unsigned i = 0; i < ND_MAX; i++) {
            struct nd_entry *e = &nd->e[i];
            if (e->state == ND_NUD_NONE || e->is_static || e->qlen || e->flushing)
                continue;
            if (!victim || nd_evict_before(e, victim))
                victim = e;
        }
        if (!victim)
            return NULL;
        CNT_INC(st, NdCacheEvictions);
        nd_delete(nd, victim);
    }
    int idx = nd->free_head;
    struct nd_entry *e = &nd->e[idx];
    nd->free_head = e->hnext;
    memset(e, 0, sizeof *e);
    memcpy(e->ip, ip, 16);
    unsigned b = nd_hash(nd, ip);
    e->hnext = nd->bucket[b];
    nd->bucket[b] = (int16_t)idx;
    e->lru = ++nd->seq;
    nd->count++;
    return e;
}

static const char *nud_name(unsigned s)
{
    static const char *const n[] = {"NONE", "INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE"};
    return s < sizeof n / sizeof n[0] ? n[s] : "?";
}

/* Every NUD state change goes through here: one trace line naming the
 * neighbour, the old and the new state and the rule (RFC 4861 Appendix C
 * draws the whole machine).  Caller holds st->lock (the trace mutex is a
 * leaf lock). */
static void nd_set_state(struct wskstack *st, struct nd_entry *e, enum nd_nud s, const char *rfc)
{
    if (stack_trace_on(st, TRACE_ND) && e->state != s) {
        char b[64];
        struct trace_fields f = {.rfc = rfc, .dst = a6(e->ip, b), .from = nud_name(e->state),
                                 .to = nud_name(s)};
        trace_event(st, TL_ND, TD_NONE, "nud", &f, "NUD %s: %s -> %s (%s)", b, f.from, f.to, rfc);
    }
    e->state = (uint8_t)s;
}

/* REACHABLE whose ReachableTime has passed is STALE (§7.3.3); applied
 * lazily wherever an entry is looked at, and by nd_timer. */
static void nd_age(struct wskstack *st, struct nd_entry *e, uint64_t now)
{
    if (e->state == ND_NUD_REACHABLE && !e->is_static && now >= e->timer)
        nd_set_state(st, e, ND_NUD_STALE, "RFC 4861 §7.3.3");
}

static struct pkt *nd_take_queue(struct nd_state *nd, struct nd_entry *e)
{
    struct pkt *chain = e->qh;
    nd->queued_total -= e->qlen;
    e->qh = e->qt = NULL;
    e->qlen = 0;
    return chain;
}

/* Take e's queue for sending (caller holds the lock); NULL when empty or
 * another thread is already flushing. */
static struct pkt *nd_begin_flush(struct nd_state *nd, struct nd_entry *e)
{
    if (!e->qlen || e->flushing)
        return NULL;
    e->flushing = true;
    return nd_take_queue(nd, e);
}

/* Write e's queue in order until it stays empty (no lock held; e->flushing
 * set by the caller). */
static void nd_flush_entry(struct wskstack *st, struct nd_entry *e, struct pkt *chain,
                           const uint8_t mac_in[ETH_ALEN])
{
    uint8_t mac[ETH_ALEN];
    memcpy(mac, mac_in, ETH_ALEN);
    for (;;) {
        neigh_chain_send_queued(st, chain, mac, ETHERTYPE_IPV6);
        pthread_mutex_lock(&st->lock);
        chain = nd_take_queue(st->nd, e);
        if (!chain) {
            e->flushing = false;
            pthread_mutex_unlock(&st->lock);
            return;
        }
        memcpy(mac, e->mac, ETH_ALEN);
        pthread_mutex_unlock(&st->lock);
    }
}

enum nd_nud nd_nud_locked(struct wskstack *st, const uint8_t ip[16])
{
    struct nd_entry *e = nd_find(st->nd, ip);
    return e ? (enum nd_nud)e->state : ND_NUD_NONE;
}

struct route6_table **nd_route6_slot(struct wskstack *st) { return &st->nd->rt; }

/* ---- sending ND messages (no lock held) -------------------------------------- */

/* Wrap an ICMPv6 ND message in an IPv6 header (hop limit 255: §4, §6.1,
 * §7.1) and send it: to `mac` when given, else through nd6_output with dst
 * as the next hop (multicast: 33:33 mapping). */
static int nd_xmit(struct wskstack *st, const uint8_t src[16], const uint8_t dst[16],
                   const uint8_t *mac, const uint8_t *body, size_t blen, uint64_t now)
{
    struct pkt *p = pkt_alloc(st, (uint32_t)(IPV6_HDR_LEN + blen));
    if (!p) {
        stack_drop(st, CNT_Icmp6OutErrors, "nd", "no packet buffer for an ND message");
        return -ENOBUFS;
    }
    uint8_t *h = pkt_data(p);
    struct ipv6_repr ip = {.next_header = IP_PROTO_ICMPV6, .hop_limit = IPV6_ND_HOP_LIMIT,
                           .payload_len = (uint16_t)blen};
    memcpy(ip.src, src, 16);
    memcpy(ip.dst, dst, 16);
    ipv6_emit(&ip, h);
    memcpy(h + IPV6_HDR_LEN, body, blen);
    icmpv6_csum_fill(h + IPV6_HDR_LEN, blen, src, dst);
    p->len = (uint32_t)(IPV6_HDR_LEN + blen);
    CNT_INC(st, Ip6OutRequests);
    if (ipv6_is_multicast(dst))
        CNT_INC(st, Ip6OutMcastPkts);
    if (stack_trace_on(st, TRACE_IPV6)) {
        /* ND never leaves the link (§3): no route, the destination is the
         * next hop (or the cached MAC of a PROBE). */
        char how[TRACE_IP_LEN + 16], b[TRACE_IP_LEN];
        if (mac)
            snprintf(how, sizeof how, "the cached %s", trace_mac(mac, b));
        else
            snprintf(how, sizeof how, "%s %s", ipv6_is_multicast(dst) ? "the group" : "next hop",
                     trace_ip6(dst, b));
        ipv6_trace_send(st, h, how);
    }
    int rc = mac ? eth_output(st, p, mac, ETHERTYPE_IPV6) : nd6_output(st, p, dst, now);
    if (rc < 0) {
        CNT_INC(st, Icmp6OutErrors);
        return rc;
    }
    CNT_INC(st, Icmp6OutMsgs);
    return 0;
}

/* NS (§4.3) for target from src to dst; SLLA unless src is :: (§4.3, §7.2.2).
 * why: the rule that sends it, for the trace (resolution, DAD, NUD probe). */
static int nd_send_ns(struct wskstack *st, const uint8_t src[16], const uint8_t target[16],
                      const uint8_t dst[16], const uint8_t *mac, const char *why, uint64_t now)
{
    struct nd_ns_repr ns = {.has_slla = !ipv6_is_unspecified(src)};
    uint8_t body[ND_NS_LEN + 8];
    memcpy(ns.target, target, 16);
    memcpy(ns.slla, st->mac, ETH_ALEN);
    size_t n = nd_ns_emit(&ns, body);
    if (stack_trace_on(st, TRACE_ND)) {
        char b1[64], b2[64], b3[64];
        struct trace_fields f = {.target = a6(target, b1), .src = a6(src, b2), .dst = a6(dst, b3),
                                 .type = TNUM(ICMPV6_ND_NS), .len = TNUM(n)};
        trace_event(st, TL_ND, TD_TX, "ns", &f, "NS who-has %s from %s to %s: %s", b1, b2, b3, why);
    }
    int rc = nd_xmit(st, src, dst, mac, body, n, now);
    if (rc == 0)
        CNT_INC(st, Icmp6OutNeighborSolicits);
    return rc;
}

/* NA (§4.4, §7.2.4) for our target: router flag 0 (a host), override 1,
 * TLLA always (required when the NS went to multicast, allowed otherwise). */
static void nd_send_na(struct wskstack *st, const uint8_t target[16], const uint8_t dst[16],
                       bool solicited, uint64_t now)
{
    struct nd_na_repr na = {.router = false, .solicited = solicited, .override = true,
                            .has_tlla = true};
    uint8_t body[ND_NA_LEN + 8];
    memcpy(na.target, target, 16);
    memcpy(na.tlla, st->mac, ETH_ALEN);
    size_t n = nd_na_emit(&na, body);
    if (stack_trace_on(st, TRACE_ND)) {
        char b1[64], b2[64], m[TRACE_MAC_LEN];
        struct trace_fields f = {.target = a6(target, b1), .dst = a6(dst, b2),
                                 .mac = trace_mac(st->mac, m), .type = TNUM(ICMPV6_ND_NA),
                                 .len = TNUM(n)};
        trace_event(st, TL_ND, TD_TX, "na", &f, "NA %s is-at %s to %s (S=%d O=1, RFC 4861 §7.2.4)",
                    b1, m, b2, solicited);
    }
    if (nd_xmit(st, target, dst, NULL, body, n, now) == 0)
        CNT_INC(st, Icmp6OutNeighborAdvertisements);
}

/* §7.2.2: the source of a resolution NS is the prompting packet's source
 * when it is ours, else an address chosen for the target (RFC 6724). */
static bool nd_ns_source(struct wskstack *st, const uint8_t cand[16], const uint8_t target[16],
                         uint8_t out[16])
{
    if (!ipv6_is_unspecified(cand) && addr6_is_local(st, cand, true)) {
        memcpy(out, cand, 16);
        return true;
    }
    return addr6_select_source(st, target, out, NULL) == 0;
}

/* Multicast resolution NS to the solicited-node group of target (§7.2.2). */
static void nd_resolve_ns(struct wskstack *st, const uint8_t cand[16], const uint8_t target[16],
                          uint64_t now)
{
    uint8_t src[16], dst[16];
    if (!nd_ns_source(st, cand, target, src)) {
        stack_drop(st, CNT_Icmp6OutErrors, "nd", "no usable source address for an NS (§7.2.2)");
        return;
    }
    ipv6_solicited_node(target, dst);
    nd_send_ns(st, src, target, dst, NULL, "address resolution (RFC 4861 §7.2.2)", now);
}

int nd_send_dad_ns(struct wskstack *st, const uint8_t target[16], uint64_t now)
{
    /* RFC 4862 §5.4.2: from ::, to the solicited-node group, no SLLA. */
    uint8_t dst[16];
    ipv6_solicited_node(target, dst);
    return nd_send_ns(st, unspec, target, dst, NULL, "DAD probe (RFC 4862 §5.4.2)", now);
}

/* RS (§4.1, §6.3.7) to all-routers: from our preferred link-local address
 * when there is one (with SLLA), else from :: without SLLA (§4.1). */
static void nd_send_rs(struct wskstack *st, uint64_t now)
{
    uint8_t src[16];
    if (addr6_select_source(st, all_routers, src, NULL) != 0)
        memset(src, 0, 16);
    struct nd_rs_repr rs = {.has_slla = !ipv6_is_unspecified(src)};
    memcpy(rs.slla, st->mac, ETH_ALEN);
    uint8_t body[ND_RS_LEN + 8];
    size_t n = nd_rs_emit(&rs, body);
    if (stack_trace_on(st, TRACE_ND)) {
        char b[64];
        struct trace_fields f = {.src = a6(src, b), .dst = "ff02::2", .type = TNUM(ICMPV6_ND_RS),
                                 .len = TNUM(n)};
        trace_event(st, TL_ND, TD_TX, "rs", &f, "RS from %s to ff02::2 (RFC 4861 §6.3.7)", b);
    }
    if (nd_xmit(st, src, all_routers, NULL, body, n, now) == 0)
        CNT_INC(st, Icmp6OutRouterSolicits);
}

/* ---- lifecycle ------------------------------------------------------------------- */

int nd_init(struct wskstack *st)
{
    struct nd_state *nd = calloc(1, sizeof *nd);
    if (!nd)
        return -ENOMEM;
    for (unsigned i = 0; i < ND_HASH; i++)
        nd->bucket[i] = -1;
    nd->free_head = -1;
    for (int i = ND_MAX - 1; i >= 0; i--) {
        nd->e[i].hnext = nd->free_head;
        nd->free_head = (int16_t)i;
    }
    uint64_t seed[2] = {0, 0};
    if (getrandom(seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uintptr_t)nd;
        seed[1] = seed[0] >> 17;
    }
    nd->rng = seed[0] ? seed[0] : 0x9E3779B97F4A7C15ull;
    nd->hash_key = (uint32_t)seed[1];
    nd->base_reachable_ms = REACHABLE_TIME_MS;
    nd->retrans_ms = RETRANS_TIMER_MS;
    atomic_store_explicit(&nd->link_mtu, st->mtu, memory_order_relaxed);
    nd->cur_hop_limit = IPV6_DEFAULT_HOP_LIMIT;
    nd_draw_reachable(nd, 0, false);
    st->nd = nd;
    int rc = route6_init(st);
    if (rc < 0) {
        free(nd);
        st->nd = NULL;
    }
    return rc;
}

void nd_flush(struct wskstack *st, int err)
{
    struct nd_state *nd = st->nd;
    struct pkt *all = NULL, **tail = &all;
    unsigned n = 0;
    pthread_mutex_lock(&st->lock);
    nd->gone_err = err;
    for (unsigned i = 0; i < ND_MAX; i++) {
        struct nd_entry *e = &nd->e[i];
        if (e->state == ND_NUD_NONE)
            continue;
        n += e->qlen;
        struct pkt *c = nd_take_queue(nd, e);
        if (c) {
            *tail = c;
            while (*tail)
                tail = &(*tail)->next;
        }
        if (e->state == ND_NUD_INCOMPLETE && !e->flushing)
            nd_delete(nd, e);
    }
    pthread_mutex_unlock(&st->lock);
    if (n) {
        CNT_ADD(st, NdQueueDrops, n);
        TRACE_F(st, TL_ND, TD_TX, "drop",
                (&(struct trace_fields){.counter = "NdQueueDrops", .count = TNUM(n)}),
                "drop NdQueueDrops: %u queued packets, device gone (%d)", n, err);
    }
    neigh_chain_fail(st, all, err);
}

void nd_fini(struct wskstack *st)
{
    if (!st->nd)
        return;
    nd_flush(st, -ENODEV);
    route6_fini(st);
    free(st->nd);
    st->nd = NULL;
}

/* ---- output ------------------------------------------------------------------------- */

int nd6_output(struct wskstack *st, struct pkt *p, const uint8_t nh[16], uint64_t now)
{
    struct nd_state *nd = st->nd;
    uint8_t mac[ETH_ALEN];

    if (ipv6_is_multicast(nh)) {
        /* RFC 2464 §7: 33:33 + the low 32 bits of the group. */
        ipv6_mcast_mac(nh, mac);
        return neigh_chain_send_now(st, p, mac, ETHERTYPE_IPV6);
    }

    unsigned n = neigh_chain_len(p);
    struct tx_req *r = p->req;
    struct nd_entry *e = NULL;
    uint8_t cand[16] = {0};
    bool created = false;
    int err = 0;

    pthread_mutex_lock(&st->lock);
    if (nd->gone_err) {
        err = nd->gone_err;
        goto refuse;
    }
    e = nd_find(nd, nh);
    if (e && e->state != ND_NUD_INCOMPLETE && !e->flushing) {
        nd_age(st, e, now);
        if (e->state == ND_NUD_STALE) {
            /* §7.3.3: the first packet sent to a STALE neighbour starts
             * DELAY_FIRST_PROBE_TIME; no probe unless it stays unconfirmed. */
            nd_set_state(st, e, ND_NUD_DELAY, "RFC 4861 §7.3.3");
            e->timer = now + DELAY_FIRST_PROBE_NS;
        }
        memcpy(mac, e->mac, ETH_ALEN);
        e->lru = ++nd->seq;
        e->used = now;
        pthread_mutex_unlock(&st->lock);
        return neigh_chain_send_now(st, p, mac, ETHERTYPE_IPV6);
    }
    if (!e) {
        e = nd_new(st, nh);
        if (!e) {
            err = -ENOBUFS;
            goto refuse;
        }
        /* §7.2.2: create INCOMPLETE, send a multicast NS, start the
         * retransmission timer. */
        nd_set_state(st, e, ND_NUD_INCOMPLETE, "RFC 4861 §7.2.2");
        e->probes = 1;
        e->timer = now + retrans_ns(nd);
        e->used = now;
        if (p->len >= IPV6_HDR_LEN)
            memcpy(e->src, pkt_data(p) + IPV6_OFF_SRC, 16);
        created = true;
    }
    e->lru = ++nd->seq;
    memcpy(cand, e->src, 16);
    /* §7.2.2: a small bounded queue per neighbour (policy: see the top). */
    if (e->qlen + n > ND_QUEUE_MAX || nd->queued_total + n > ND_QUEUE_TOTAL) {
        err = -ENOBUFS;
        goto refuse;
    }
    if (e->qt)
        e->qt->next = p;
    else
        e->qh = p;
    struct pkt *last = p;
    while (last->next)
        last = last->next;
    e->qt = last;
    e->qlen += n;
    nd->queued_total += n;
    if (r) {
        r->err = 0;
        atomic_store_explicit(&r->frames, (int)n, memory_order_release);
    }
    pthread_mutex_unlock(&st->lock);
    if (created)
        nd_resolve_ns(st, cand, nh, now);
    return UDP_SEND_QUEUED;

refuse:
    pthread_mutex_unlock(&st->lock);
    if (err == -ENOBUFS) {
        CNT_ADD(st, NdQueueDrops, n);
        if (stack_trace_on(st, TRACE_ND)) {
            char b[64];
            struct trace_fields f = {.counter = "NdQueueDrops", .dst = a6(nh, b), .count = TNUM(n)};
            trace_event(st, TL_ND, TD_TX, "drop", &f,
                        "drop NdQueueDrops: %u packet(s) for %s, wait queue or cache full "
                        "(RFC 4861 §7.2.2)", n, b);
        }
    }
    while (p) {
        struct pkt *next = p->next;
        pkt_free(st, p);
        p = next;
    }
    if (created)
        nd_resolve_ns(st, cand, nh, now);
    return err;
}

bool nd_tx_req_cancel(struct wskstack *st, struct tx_req *r)
{
    struct nd_state *nd = st->nd;
    struct pkt *taken = NULL;
    unsigned found = 0;

    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < ND_MAX; i++)
        for (struct pkt *p = nd->e[i].qh; p; p = p->next)
            if (p->req == r)
                found++;
    /* As neigh.c: only when every unresolved frame is still queued. */
    if (found == 0 || found != (unsigned)atomic_load_explicit(&r->frames, memory_order_acquire)) {
        pthread_mutex_unlock(&st->lock);
        return false;
    }
    for (unsigned i = 0; i < ND_MAX; i++) {
        struct nd_entry *e = &nd->e[i];
        struct pkt **pp = &e->qh, *prev = NULL;
        while (*pp) {
            struct pkt *p = *pp;
            if (p->req == r) {
                *pp = p->next;
                p->next = taken;
                taken = p;
                e->qlen--;
                nd->queued_total--;
            } else {
                prev = p;
                pp = &p->next;
            }
        }
        e->qt = prev;
    }
    atomic_store_explicit(&r->frames, 0, memory_order_release);
    pthread_mutex_unlock(&st->lock);
    while (taken) {
        struct pkt *next = taken->next;
        pkt_free(st, taken);
        taken = next;
    }
    r->done(r, -ECANCELED);
    return true;
}

/* ---- input ---------------------------------------------------------------------------- */

/* An invalid ND message: Icmp6InErrors and a trace line naming the rule. */
static void nd_invalid(struct wskstack *st, const char *msg, const char *section, enum nd_reason r,
                       const struct ipv6_repr *ip)
{
    CNT_INC(st, Icmp6InErrors);
    if (!stack_trace_on(st, TRACE_ND))
        return;
    const char *rule = section;
    if (r == ND_FRAGMENTED)
        rule = "RFC 6980 §5";
    else if (r == ND_OPT_LEN_ZERO || r == ND_OPT_OVERRUN)
        rule = "RFC 4861 §4.6";
    else if (r == ND_BAD_LLA_LEN)
        rule = "RFC 4861 §4.6.1, RFC 2464 §6";
    char b1[64], b2[64];
    struct trace_fields f = {.counter = "Icmp6InErrors", .rfc = rule, .src = a6(ip->src, b1),
                             .dst = a6(ip->dst, b2)};
    trace_event(st, TL_ND, TD_RX, "drop", &f, "drop Icmp6InErrors: invalid %s from %s: %s (%s, BAD-INPUT H)",
                msg, b1, nd_reason_str(r), rule);
}

/* The "nd rx" line of a valid NS or NA: the target, the sender and what
 * we decided (with its rule). */
static void nd_trace_input(struct wskstack *st, bool is_ns, const uint8_t target[16],
                           const struct ipv6_repr *ip, const char *what, const char *rfc)
{
    char b1[64], b2[64];
    struct trace_fields f = {.target = a6(target, b1), .src = a6(ip->src, b2), .rfc = rfc,
                             .type = TNUM(is_ns ? ICMPV6_ND_NS : ICMPV6_ND_NA)};
    trace_event(st, TL_ND, TD_RX, is_ns ? "ns" : "na", &f, "%s for %s from %s: %s (%s)",
                is_ns ? "NS" : "NA", b1, b2, what, rfc);
}

/* A link-layer address learned from an NS, RS, RA or Redirect (§7.2.3,
 * §6.3.4; Appendix C): create STALE, or update to STALE when it changed;
 * INCOMPLETE -> STALE sends the queued packets.  router: set IsRouter
 * (§6.3.4). */
static void nd_learn(struct wskstack *st, const uint8_t ip[16], const uint8_t mac[ETH_ALEN],
                     bool router, uint64_t now)
{
    struct nd_state *nd = st->nd;
    struct pkt *chain = NULL;
    pthread_mutex_lock(&st->lock);
    struct nd_entry *e = nd_find(nd, ip);
    if (!e) {
        e = nd_new(st, ip);
        if (!e) {
            pthread_mutex_unlock(&st->lock);
            return; /* every entry has waiting packets: learn nothing */
        }
        memcpy(e->mac, mac, ETH_ALEN);
        nd_set_state(st, e, ND_NUD_STALE, "RFC 4861 §7.2.3");
    } else if (!e->is_static) {
        nd_age(st, e, now);
        if (e->state == ND_NUD_INCOMPLETE) {
            memcpy(e->mac, mac, ETH_ALEN);
            nd_set_state(st, e, ND_NUD_STALE, "RFC 4861 §7.2.3");
            e->probes = 0;
            chain = nd_begin_flush(nd, e);
        } else if (memcmp(e->mac, mac, ETH_ALEN) != 0) {
            memcpy(e->mac, mac, ETH_ALEN);
            nd_set_state(st, e, ND_NUD_STALE, "RFC 4861 §7.2.3");
            e->probes = 0;
        }
    }
    if (router)
        e->is_router = true;
    e->used = now;
    pthread_mutex_unlock(&st->lock);
    if (chain)
        nd_flush_entry(st, e, chain, mac);
}

static void nd_ns_input(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip,
                        const struct nd_ip *nip, uint64_t now)
{
    struct nd_ns_repr ns;
    enum nd_reason r = nd_ns_parse(nip, pkt_data(p), p->len, &ns);
    if (r != ND_OK) {
        nd_invalid(st, "NS", "RFC 4861 §7.1.1", r, ip);
        return;
    }
    bool dad = ipv6_is_unspecified(ip->src);
    bool on = stack_trace_on(st, TRACE_ND);
    int as = nd_addr_state(st, ns.target);
    if (as < 0) {
        /* §7.2.3: not one of our addresses - silently discard. */
        if (on)
            nd_trace_input(st, true, ns.target, ip, "not our address, ignored", "RFC 4861 §7.2.3");
        return;
    }
    if (as == ADDR6_TENTATIVE) {
        if (dad) {
            /* RFC 4862 §5.4.3: another node runs DAD on our tentative
             * address: it is a duplicate. */
            if (on)
                nd_trace_input(st, true, ns.target, ip, "DAD probe for our tentative address: duplicate",
                               "RFC 4862 §5.4.3");
            addr6_dad_conflict(st, ns.target, false, now);
        } else if (on) {
            nd_trace_input(st, true, ns.target, ip, "our address is tentative, ignored",
                           "RFC 4862 §5.4.3");
        }
        return;
    }
    if (as == ADDR6_DUPLICATE) {
        if (on)
            nd_trace_input(st, true, ns.target, ip, "the address is a duplicate, ignored",
                           "RFC 4862 §5.4.5");
        return;
    }
    if (dad) {
        /* §7.2.4: answer a DAD probe for an address we own with an
         * unsolicited NA (S=0) to all-nodes. */
        if (on)
            nd_trace_input(st, true, ns.target, ip,
                           "another node probes our address, answering with an NA to all-nodes",
                           "RFC 4861 §7.2.4, RFC 4862 §5.4.3");
        nd_send_na(st, ns.target, all_nodes, false, now);
        return;
    }
    if (on)
        nd_trace_input(st, true, ns.target, ip,
                       ns.has_slla ? "ours, sender's address learnt, answering with a solicited NA"
                                   : "ours, answering with a solicited NA",
                       "RFC 4861 §7.2.3, §7.2.4");
    /* §7.2.3: the SLLA creates or updates the sender's entry (STALE). */
    if (ns.has_slla)
        nd_learn(st, ip->src, ns.slla, false, now);
    /* §7.2.4: solicited NA, unicast to the source. */
    nd_send_na(st, ns.target, ip->src, true, now);
}

static void nd_na_input(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip,
                        const struct nd_ip *nip, uint64_t now)
{
    struct nd_state *nd = st->nd;
    struct nd_na_repr na;
    enum nd_reason r = nd_na_parse(nip, pkt_data(p), p->len, &na);
    if (r != ND_OK) {
        nd_invalid(st, "NA", "RFC 4861 §7.1.2", r, ip);
        return;
    }
    int as = nd_addr_state(st, na.target);
    if (as == ADDR6_TENTATIVE) {
        /* RFC 4862 §5.4.4: an NA for a tentative address - duplicate. */
        if (stack_trace_on(st, TRACE_ND))
            nd_trace_input(st, false, na.target, ip, "our address is tentative: duplicate",
                           "RFC 4862 §5.4.4");
        addr6_dad_conflict(st, na.target, true, now);
        return;
    }
    /* A DUPLICATE address is not ours (RFC 4862 §5.4.5): it belongs to the
     * node that won DAD, and its NA - e.g. the answer to our resolution NS
     * when we talk to that node - is an ordinary NA (§7.2.5 below).
     * (Found by the IPv6 lab: the kernel owning our duplicate address was
     * unreachable, its NAs dropped as "claims our address".) */
    if (as >= 0 && as != ADDR6_DUPLICATE) {
        /* RFC 4862 §5.4.4: someone else claims an address we use; log it
         * (no automatic action for a preferred address). */
        if (stack_trace_on(st, TRACE_ND))
            nd_trace_input(st, false, na.target, ip, "another node claims our address, kept",
                           "RFC 4862 §5.4.4");
        return;
    }

    struct pkt *chain = NULL;
    uint8_t mac[ETH_ALEN];
    const char *what = NULL;
    pthread_mutex_lock(&st->lock);
    struct nd_entry *e = nd_find(nd, na.target);
    if (!e) {
        what = "no entry, ignored (RFC 4861 §7.2.5)";
    } else if (e->is_static) {
        what = "static entry, ignored";
    } else if (e->state == ND_NUD_INCOMPLETE) {
        if (!na.has_tlla) {
            what = "no TLLA for an INCOMPLETE entry, ignored (RFC 4861 §7.2.5)";
        } else {
            /* §7.2.5: record the address; REACHABLE if solicited, else
             * STALE; send the queued packets. */
            memcpy(e->mac, na.tlla, ETH_ALEN);
            nd_set_state(st, e, na.solicited ? ND_NUD_REACHABLE : ND_NUD_STALE, "RFC 4861 §7.2.5");
            e->timer = now + reachable_ns(nd);
            e->probes = 0;
            e->is_router = na.router;
            e->used = now;
            memcpy(mac, e->mac, ETH_ALEN);
            chain = nd_begin_flush(nd, e);
            what = na.solicited ? "INCOMPLETE -> REACHABLE" : "INCOMPLETE -> STALE";
        }
    } else {
        nd_age(st, e, now);
        bool differs = na.has_tlla && memcmp(na.tlla, e->mac, ETH_ALEN) != 0;
        if (!na.override && differs) {
            /* §7.2.5: O=0 with a different address: REACHABLE -> STALE,
             * nothing else; other states ignore it. */
            if (e->state == ND_NUD_REACHABLE) {
                nd_set_state(st, e, ND_NUD_STALE, "RFC 4861 §7.2.5");
                what = "O=0 and a different address: REACHABLE -> STALE (RFC 4861 §7.2.5)";
            } else {
                what = "O=0 and a different address: ignored (RFC 4861 §7.2.5)";
            }
        } else {
            /* §7.2.5: O=1, or the same address, or no TLLA. */
            if (differs)
                memcpy(e->mac, na.tlla, ETH_ALEN);
            if (na.solicited) {
                nd_set_state(st, e, ND_NUD_REACHABLE, "RFC 4861 §7.2.5");
                e->timer = now + reachable_ns(nd);
                e->probes = 0;
                what = "-> REACHABLE";
            } else if (differs) {
                nd_set_state(st, e, ND_NUD_STALE, "RFC 4861 §7.2.5");
                e->probes = 0;
                what = "new address -> STALE";
            } else {
                what = "state unchanged";
            }
            /* §7.2.5: IsRouter follows the R flag; a router that stops
             * being one leaves the Default Router List. */
            if (e->is_router && !na.router)
                route6_router_remove(st, na.target);
            e->is_router = na.router;
            e->used = now;
        }
    }
    pthread_mutex_unlock(&st->lock);
    if (stack_trace_on(st, TRACE_ND)) {
        char b1[64], b2[64], m[TRACE_MAC_LEN];
        struct trace_fields f = {.target = a6(na.target, b1), .src = a6(ip->src, b2),
                                 .mac = na.has_tlla ? trace_mac(na.tlla, m) : NULL,
                                 .rfc = "RFC 4861 §7.2.5", .type = TNUM(ICMPV6_ND_NA)};
        if (chain)
            f.count = TNUM(neigh_chain_len(chain));
        trace_event(st, TL_ND, TD_RX, "na", &f, "NA for %s from %s (R=%d S=%d O=%d): %s%s", b1, b2,
                    na.router, na.solicited, na.override, what,
                    chain ? ", sending the waiting packets" : "");
    }
    if (chain)
        nd_flush_entry(st, e, chain, mac);
}

static void nd_ra_input(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip,
                        const struct nd_ip *nip, uint64_t now)
{
    struct nd_state *nd = st->nd;
    struct nd_ra_repr ra;
    char b1[64];
    enum nd_reason r = nd_ra_parse(nip, pkt_data(p), p->len, &ra);
    if (r != ND_OK) {
        /* includes a source that is not link-local (§6.1.2, H.38): no
         * routing-table change. */
        nd_invalid(st, "RA", "RFC 4861 §6.1.2", r, ip);
        return;
    }
    if (stack_trace_on(st, TRACE_ND)) {
        char m[TRACE_MAC_LEN];
        struct trace_fields f = {.src = a6(ip->src, b1), .rfc = "RFC 4861 §6.3.4",
                                 .mac = ra.has_slla ? trace_mac(ra.slla, m) : NULL,
                                 .ttl = ra.cur_hop_limit ? TNUM(ra.cur_hop_limit) : 0,
                                 .mtu = ra.has_mtu ? TNUM(ra.mtu) : 0,
                                 .type = TNUM(ICMPV6_ND_RA)};
        trace_event(st, TL_ND, TD_RX, "ra", &f,
                    "RA from %s: router lifetime %u s (%s), reachable %u ms, retrans %u ms, hop "
                    "limit %u (0 = unspecified, RFC 4861 §6.3.4)", b1, ra.router_lifetime,
                    ra.router_lifetime ? "a default router" : "not a default router",
                    ra.reachable_time, ra.retrans_timer, ra.cur_hop_limit);
    }

    /* §6.3.4: SLLA -> the router's cache entry (IsRouter TRUE). */
    if (ra.has_slla)
        nd_learn(st, ip->src, ra.slla, true, now);

    pthread_mutex_lock(&st->lock);
    /* §6.3.7: a valid RA with a non-zero Router Lifetime ends solicitation. */
    if (ra.router_lifetime)
        nd->rs_active = false;
    /* §6.3.4: Cur Hop Limit, Reachable Time and Retrans Timer when
     * specified (non-zero); a changed BaseReachableTime redraws
     * ReachableTime at once. */
    if (ra.cur_hop_limit)
        nd->cur_hop_limit = ra.cur_hop_limit;
    if (ra.reachable_time && ra.reachable_time <= ND_MAX_REACHABLE_MS &&
        ra.reachable_time != nd->base_reachable_ms) {
        nd->base_reachable_ms = ra.reachable_time;
        nd_draw_reachable(nd, now, true);
    }
    if (ra.retrans_timer)
        nd->retrans_ms = ra.retrans_timer;
    /* §6.3.4, §6.3.5: the Default Router List; lifetime 0 removes. */
    route6_router_update(st, ip->src, ra.router_lifetime, now);
    if (!ra.has_slla) {
        struct nd_entry *e = nd_find(nd, ip->src);
        if (e)
            e->is_router = true;
    }
    /* §6.3.4: MTU option -> LinkMTU when 1280 <= mtu <= the link's maximum
     * (RFC 8200 §5; RFC 2464 §2 - here the configured link MTU). */
    bool mtu_bad = false;
    if (ra.has_mtu) {
        if (ra.mtu >= IPV6_MIN_MTU && ra.mtu <= st->mtu)
            atomic_store_explicit(&nd->link_mtu, ra.mtu, memory_order_relaxed);
        else
            mtu_bad = true;
    }
    pthread_mutex_unlock(&st->lock);
    if (ra.has_mtu)
        TRACE_F(st, TL_ND, TD_RX, "ra",
                (&(struct trace_fields){.src = a6(ip->src, b1), .rule = mtu_bad ? "ignored" : "applied",
                                        .mtu = TNUM(ra.mtu)}),
                mtu_bad ? "RA MTU option %u ignored: outside 1280..%u (RFC 4861 §6.3.4)"
                        : "RA MTU option %u: the IPv6 link MTU (at most %u) (RFC 4861 §6.3.4)",
                ra.mtu, st->mtu);

    /* Prefix Information options (§6.3.4, RFC 4862 §5.5.3). */
    struct nd_opt_iter it;
    struct nd_opt o;
    nd_opt_iter_init(&it, ra.options, ra.options_len);
    while (nd_opt_next(&it, &o)) {
        struct nd_prefix_info pi;
        if (o.type != ND_OPT_PREFIX)
            continue;
        if (nd_opt_prefix(&o, &pi) != ND_OK || pi.prefix_len > 128) {
            /* TAHI v6LC.2.3.8: ignore just the bad option. */
            TRACE(st, TL_ND, TD_RX, "prefix",
                  "RA Prefix Information with a bad length ignored (RFC 4861 §4.6.2)");
            continue;
        }
        char pb[TRACE_IP_LEN + 4] = "";
        if (stack_trace_on(st, TRACE_ND))
            snprintf(pb, sizeof pb, "%s/%u", a6(pi.prefix, b1), pi.prefix_len);
        if (ipv6_is_link_local(pi.prefix)) {
            /* §6.3.4 and RFC 4862 §5.5.3 b: the link-local prefix is ignored. */
            TRACE_F(st, TL_ND, TD_RX, "prefix", (&(struct trace_fields){.prefix = pb, .rule = "ignored"}),
                    "RA prefix %s is link-local: ignored (RFC 4861 §6.3.4)", pb);
            continue;
        }
        if (pi.on_link) {
            pthread_mutex_lock(&st->lock);
            enum route6_prefix_result pr = route6_prefix_update(st, pi.prefix, pi.prefix_len,
                                                                pi.valid_lifetime, now);
            pthread_mutex_unlock(&st->lock);
            if (stack_trace_on(st, TRACE_ND)) {
                static const char *const names[] = {"added", "refreshed", "removed",
                                                    "ignored (lifetime 0, unknown)",
                                                    "ignored: prefix list full",
                                                    "configured (addr=): unchanged"};
                static const char *const rules[] = {"added", "refreshed", "removed", "ignored",
                                                    "full", "static"};
                struct trace_fields f = {.prefix = pb, .rule = rules[pr]};
                trace_event(st, TL_ND, TD_RX, "prefix", &f,
                            "on-link prefix %s valid %u s: %s (RFC 4861 §6.3.4)", pb,
                            pi.valid_lifetime, names[pr]);
            }
        }
        if (pi.autonomous)
            addr6_ra_prefix(st, pi.prefix, pi.prefix_len, true, pi.valid_lifetime,
                            pi.preferred_lifetime, now);
    }
}

void nd_input(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip, bool fragmented,
              uint64_t now)
{
    struct nd_ip nip = {.src = ip->src, .dst = ip->dst, .hop_limit = ip->hop_limit,
                        .fragmented = fragmented};
    uint8_t type = p->len ? pkt_data(p)[0] : 0;
    switch (type) {
    case ICMPV6_ND_NS:
        CNT_INC(st, Icmp6InNeighborSolicits);
        nd_ns_input(st, p, ip, &nip, now);
        break;
    case ICMPV6_ND_NA:
        CNT_INC(st, Icmp6InNeighborAdvertisements);
        nd_na_input(st, p, ip, &nip, now);
        break;
    case ICMPV6_ND_RA:
        CNT_INC(st, Icmp6InRouterAdvertisements);
        nd_ra_input(st, p, ip, &nip, now);
        break;
    case ICMPV6_ND_RS: {
        CNT_INC(st, Icmp6InRouterSolicits);
        struct nd_rs_repr rs;
        enum nd_reason r = nd_rs_parse(&nip, pkt_data(p), p->len, &rs);
        if (r != ND_OK) {
            nd_invalid(st, "RS", "RFC 4861 §6.1.1", r, ip);
        } else if (stack_trace_on(st, TRACE_ND)) {
            char b[64];
            struct trace_fields f = {.src = a6(ip->src, b), .type = TNUM(ICMPV6_ND_RS)};
            trace_event(st, TL_ND, TD_RX, "rs", &f,
                        "RS from %s ignored: a host discards Router Solicitations (RFC 4861 §6.2.6)",
                        b);
        }
        break;
    }
    case ICMPV6_ND_REDIRECT:
        /* A host SHOULD follow Redirects (§8.3); this one has no
         * Destination Cache, so it keeps sending through its router, which
         * still forwards (documented limitation). */
        CNT_INC(st, Icmp6InRedirects);
        TRACE_F(st, TL_ND, TD_RX, "redirect", (&(struct trace_fields){.type = TNUM(type)}),
                "Redirect counted and ignored: not implemented (RFC 4861 §8.3)");
        break;
    default:
        stack_drop(st, CNT_Icmp6InErrors, "nd", "not an ND message type (RFC 4861 §4)");
        break;
    }
    pkt_free(st, p);
}

/* ---- timers (receive thread) ---------------------------------------------------------- */

struct nd_probe {
    uint8_t cand[16];            /* resolution NS: prompting packet's source */
    uint8_t target[16];
    uint8_t mac[ETH_ALEN];
    bool unicast;                /* PROBE: unicast NS to the cached MAC */
};

void nd_timer(struct wskstack *st, uint64_t now)
{
    struct nd_state *nd = st->nd;
    struct nd_probe tx[ND_MAX];
    unsigned ntx = 0, nfail = 0, ndrop = 0;
    struct pkt *failed = NULL, **tail = &failed;
    uint8_t fail_ip[4][16];
    unsigned fail_n[4];          /* packets each failed entry held */
    bool send_rs = false;

    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < ND_MAX; i++) {
        struct nd_entry *e = &nd->e[i];
        if (e->state == ND_NUD_NONE || e->is_static)
            continue;
        nd_age(st, e, now);
        if (e->state == ND_NUD_STALE) {
            /* Garbage collection (§7.3.3 leaves it to us): unused for
             * ND_GC_NS -> deleted; the next send resolves again. */
            if (!e->qlen && !e->flushing && now - e->used >= ND_GC_NS)
                nd_delete(nd, e);
            continue;
        }
        if (now < e->timer)
            continue;
        if (e->state == ND_NUD_INCOMPLETE) {
            if (e->probes >= MAX_MULTICAST_SOLICIT) {
                /* §7.2.2: no answer after MAX_MULTICAST_SOLICIT: fail the
                 * queued sends with EHOSTUNREACH (ICMP unreachable for
                 * forwarded packets does not apply to a host). */
                if (nfail < 4) {
                    memcpy(fail_ip[nfail], e->ip, 16);
                    fail_n[nfail] = e->qlen;
                }
                nfail++;
                ndrop += e->qlen;
                struct pkt *c = nd_take_queue(nd, e);
                if (c) {
                    *tail = c;
                    while (*tail)
                        tail = &(*tail)->next;
                }
                if (!e->flushing)
                    nd_delete(nd, e);
                continue;
            }
            e->probes++;
            e->timer = now + retrans_ns(nd);
            if (ntx < ND_MAX) {
                memcpy(tx[ntx].cand, e->src, 16);
                memcpy(tx[ntx].target, e->ip, 16);
                tx[ntx].unicast = false;
                ntx++;
            }
        } else if (e->state == ND_NUD_DELAY || e->state == ND_NUD_PROBE) {
            if (e->state == ND_NUD_PROBE && e->probes >= MAX_UNICAST_SOLICIT) {
                /* §7.3.3: unanswered unicast probes: delete the entry. */
                if (!e->flushing && !e->qlen) {
                    nd_set_state(st, e, ND_NUD_NONE, "RFC 4861 §7.3.3");
                    nd_delete(nd, e);
                }
                continue;
            }
            /* §7.3.3: DELAY expired unconfirmed -> PROBE, first unicast NS;
             * then one every RetransTimer. */
            if (e->state == ND_NUD_DELAY) {
                nd_set_state(st, e, ND_NUD_PROBE, "RFC 4861 §7.3.3");
                e->probes = 0;
            }
            e->probes++;
            e->timer = now + retrans_ns(nd);
            if (ntx < ND_MAX) {
                memcpy(tx[ntx].cand, e->src, 16);
                memcpy(tx[ntx].target, e->ip, 16);
                memcpy(tx[ntx].mac, e->mac, ETH_ALEN);
                tx[ntx].unicast = true;
                ntx++;
            }
        }
    }
    /* §6.3.4: ReachableTime is redrawn at least every few hours. */
    if (!nd->reachable_drawn) {
        nd->reachable_drawn = true;
        nd->reachable_drawn_at = now;
    } else if (now - nd->reachable_drawn_at >= ND_REACHABLE_REDRAW_NS) {
        nd_draw_reachable(nd, now, true);
    }
    route6_timer(st, now);
    /* §6.3.7: up to MAX_RTR_SOLICITATIONS, RTR_SOLICITATION_INTERVAL apart. */
    if (nd->rs_active && now >= nd->rs_next) {
        send_rs = true;
        nd->rs_sent++;
        nd->rs_next = now + RTR_SOLICITATION_INTERVAL_NS;
        if (nd->rs_sent >= MAX_RTR_SOLICITATIONS)
            nd->rs_active = false;
    }
    pthread_mutex_unlock(&st->lock);

    if (nfail) {
        CNT_ADD(st, NdResolveFailed, nfail);
        CNT_ADD(st, NdQueueDrops, ndrop);
        if (stack_trace_on(st, TRACE_ND)) {
            char b[64];
            for (unsigned i = 0; i < nfail && i < 4; i++) {
                struct trace_fields f = {.counter = "NdResolveFailed", .dst = a6(fail_ip[i], b),
                                         .count = TNUM(fail_n[i])};
                trace_event(st, TL_ND, TD_TX, "failed", &f,
                            "resolution of %s failed after %d NS: %u waiting packet(s) dropped, "
                            "NdQueueDrops (RFC 4861 §7.2.2)", b, MAX_MULTICAST_SOLICIT, fail_n[i]);
            }
        }
        neigh_chain_fail(st, failed, -EHOSTUNREACH);
    }
    for (unsigned i = 0; i < ntx; i++) {
        if (!tx[i].unicast) {
            nd_resolve_ns(st, tx[i].cand, tx[i].target, now);
            continue;
        }
        uint8_t src[16];
        if (nd_ns_source(st, tx[i].cand, tx[i].target, src))
            nd_send_ns(st, src, tx[i].target, tx[i].target, tx[i].mac,
                       "unicast NUD probe (RFC 4861 §7.3.3)", now);
        else
            stack_drop(st, CNT_Icmp6OutErrors, "nd", "no usable source address for a probe NS (§7.2.2)");
    }
    if (send_rs)
        nd_send_rs(st, now);
}

uint64_t nd_next_timer(struct wskstack *st, uint64_t now)
{
    struct nd_state *nd = st->nd;
    pthread_mutex_lock(&st->lock);
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < ND_MAX; i++) {
        const struct nd_entry *e = &nd->e[i];
        if (e->state == ND_NUD_NONE || e->is_static)
            continue;
        uint64_t t = e->state == ND_NUD_STALE ? e->used + ND_GC_NS : e->timer;
        if (t < next)
            next = t;
    }
    if (nd->rs_active && nd->rs_next < next)
        next = nd->rs_next;
    uint64_t rt = route6_next_expiry(st);
    if (rt < next)
        next = rt;
    pthread_mutex_unlock(&st->lock);
    return next <= now ? 0 : next - now;
}

void nd_start(struct wskstack *st, uint64_t now)
{
    struct nd_state *nd = st->nd;
    pthread_mutex_lock(&st->lock);
    bool first = !nd->rs_started;
    if (first) {
        /* §6.3.7: first RS now (DAD already waited a random delay). */
        nd->rs_started = true;
        nd->rs_sent = 1;
        nd->rs_active = MAX_RTR_SOLICITATIONS > 1;
        nd->rs_next = now + RTR_SOLICITATION_INTERVAL_NS;
    }
    pthread_mutex_unlock(&st->lock);
    if (first)
        nd_send_rs(st, now);
}

/* ---- queries, static entries, test hooks ------------------------------------------------ */

void nd_get_params(struct wskstack *st, struct nd_params *out)
{
    struct nd_state *nd = st->nd;
    pthread_mutex_lock(&st->lock);
    out->base_reachable_ms = nd->base_reachable_ms;
    out->reachable_ms = nd->reachable_ms;
    out->retrans_ms = nd->retrans_ms;
    out->link_mtu = atomic_load_explicit(&nd->link_mtu, memory_order_relaxed);
    out->cur_hop_limit = nd->cur_hop_limit;
    pthread_mutex_unlock(&st->lock);
}

uint32_t nd_link_mtu(struct wskstack *st)
{
    /* Lock-free on purpose (ipv6_impl.h): callers may hold st->lock.  A
     * stale value for one packet is harmless - the RA's value was already
     * checked to lie in 1280..st->mtu (RFC 4861 §6.3.4, RFC 8200 §5). */
    struct nd_state *nd = st->nd;
    if (!nd)
        return st->mtu;   /* before nd_init / after nd_fini */
    uint32_t m = atomic_load_explicit(&nd->link_mtu, memory_order_relaxed);
    return m && m <= st->mtu ? m : st->mtu;
}

void nd_set_seed(struct wskstack *st, uint64_t seed)
{
    struct nd_state *nd = st->nd;
    pthread_mutex_lock(&st->lock);
    nd->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    nd_draw_reachable(nd, 0, false);
    pthread_mutex_unlock(&st->lock);
}

enum nd_nud nd_neigh_get(struct wskstack *st, const uint8_t ip[16], uint8_t mac[ETH_ALEN],
                         bool *is_router)
{
    pthread_mutex_lock(&st->lock);
    struct nd_entry *e = nd_find(st->nd, ip);
    enum nd_nud s = ND_NUD_NONE;
    if (e) {
        s = (enum nd_nud)e->state;
        if (mac)
            memcpy(mac, e->mac, ETH_ALEN);
        if (is_router)
            *is_router = e->is_router;
    }
    pthread_mutex_unlock(&st->lock);
    return s;
}

int nd_add_static(struct wskstack *st, const uint8_t ip[16], const uint8_t mac[ETH_ALEN])
{
    if (!ip || !mac || eth_is_multicast(mac) || eth_is_zero(mac) || ipv6_is_unspecified(ip) ||
        ipv6_is_multicast(ip))
        return -EINVAL;
    struct nd_state *nd = st->nd;
    pthread_mutex_lock(&st->lock);
    struct nd_entry *e = nd_find(nd, ip);
    if (!e)
        e = nd_new(st, ip);
    if (!e) {
        pthread_mutex_unlock(&st->lock);
        return -ENOBUFS;
    }
    memcpy(e->mac, mac, ETH_ALEN);
    e->is_static = true;
    e->state = ND_NUD_REACHABLE;
    e->probes = 0;
    struct pkt *chain = nd_begin_flush(nd, e);
    pthread_mutex_unlock(&st->lock);
    if (chain)
        nd_flush_entry(st, e, chain, mac);
    return 0;
}

unsigned nd_count(struct wskstack *st)
{
    pthread_mutex_lock(&st->lock);
    unsigned n = st->nd->count;
    pthread_mutex_unlock(&st->lock);
    return n;
}

int nd_neigh_at(struct wskstack *st, unsigned idx, struct neigh_info *out)
{
    struct nd_state *nd = st->nd;
    if (!nd || idx >= ND_MAX)
        return -1;
    const struct nd_entry *e = &nd->e[idx];
    if (e->state == ND_NUD_NONE)
        return 0;
    memset(out, 0, sizeof *out);
    out->ip.af = IPA_V6;
    memcpy(out->ip.v6, e->ip, 16);
    memcpy(out->mac, e->mac, ETH_ALEN);
    out->has_mac = e->state != ND_NUD_INCOMPLETE;
    out->is_static = e->is_static;
    out->is_router = e->is_router;
    out->state = e->is_static ? "PERMANENT" : nud_name(e->state);
    return 1;
}
