/* SPDX-License-Identifier: MIT */
/*
 * nd.c - Neighbor Discovery for IPv6 (RFC 4861): the neighbour cache with
 * Neighbor Unreachability Detection, address resolution (nd6_output), the
 * host variables of §6.3.2, static entries and the queries.  The other ND
 * files share the cache layout and the constants through nd_impl.h:
 *   nd_input.c  received NS, NA, RS, RA and Redirect: validation and what
 *               each one does to the cache and the host variables
 *   nd_send.c   the NS, NA and RS we send, and the timers that send them
 *               (resolution retransmissions, NUD probes, Router Solicitation)
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

/* ---- small helpers ---------------------------------------------------------- */

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
void nd_draw_reachable(struct nd_state *nd, uint64_t now, bool have_now)
{
    uint64_t base = nd->base_reachable_ms;
    nd->reachable_ms = (uint32_t)(base / 2 + nd_rand(nd) % (base + 1));
    nd->reachable_drawn = have_now;
    nd->reachable_drawn_at = now;
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

struct nd_entry *nd_find(struct nd_state *nd, const uint8_t ip[16])
{
    for (int i = nd->bucket[nd_hash(nd, ip)]; i >= 0; i = nd->e[i].hnext)
        if (memcmp(nd->e[i].ip, ip, 16) == 0)
            return &nd->e[i];
    return NULL;
}

/* Remove from the hash and free.  Its queue must be empty. */
void nd_delete(struct nd_state *nd, struct nd_entry *e)
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

struct nd_entry *nd_new(struct wskstack *st, const uint8_t ip[16])
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
void nd_set_state(struct wskstack *st, struct nd_entry *e, enum nd_nud s, const char *rfc)
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
void nd_age(struct wskstack *st, struct nd_entry *e, uint64_t now)
{
    if (e->state == ND_NUD_REACHABLE && !e->is_static && now >= e->timer)
        nd_set_state(st, e, ND_NUD_STALE, "RFC 4861 §7.3.3");
}

struct pkt *nd_take_queue(struct nd_state *nd, struct nd_entry *e)
{
    struct pkt *chain = e->qh;
    nd->queued_total -= e->qlen;
    e->qh = e->qt = NULL;
    e->qlen = 0;
    return chain;
}

/* Take e's queue for sending (caller holds the lock); NULL when empty or
 * another thread is already flushing. */
struct pkt *nd_begin_flush(struct nd_state *nd, struct nd_entry *e)
{
    if (!e->qlen || e->flushing)
        return NULL;
    e->flushing = true;
    return nd_take_queue(nd, e);
}

/* Write e's queue in order until it stays empty (no lock held; e->flushing
 * set by the caller). */
void nd_flush_entry(struct wskstack *st, struct nd_entry *e, struct pkt *chain,
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
