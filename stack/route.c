/* SPDX-License-Identifier: MIT */
/*
 * route.c - the IPv4 routing table: longest-prefix match (RFC 1812 §5.2.4.3,
 * used by a host as RFC 1122 §3.3.1.2 describes).
 *
 * Structure: one open-addressing hash table per prefix length (0..32), keyed
 * by the masked destination, plus a bitmap of the prefix lengths that have
 * at least one route.  A lookup walks the used lengths from /32 down and
 * probes one hash table per length, so its cost is O(number of DISTINCT
 * prefix lengths) - at most 33 probes - whatever the number of routes.
 * (The classic alternative is a binary trie: O(32) node visits, but each one
 * a dependent pointer chase; here each probe is one hash plus, usually, one
 * cache line.)
 *
 * Locking: every function except route_init/route_fini runs with st->lock
 * held (stack.h, CONCURRENCY MODEL); route_init/route4_add may also run
 * while the stack is being created, before any other thread exists.
 *
 * route_init also seeds the IPv4 identification counter (st->ip_id), which
 * belongs to ipv4.c but has no init hook of its own: see ipv4_next_id() in
 * ipv4.c for why a random start is used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "stack/stack_impl.h"

struct rt_entry {
    uint32_t dst;      /* masked destination */
    uint32_t gw;       /* 0 = on-link */
    bool used;
};

/* One hash table: all routes of one prefix length. */
struct rt_plen_table {
    struct rt_entry *slots;  /* cap slots, cap a power of two (or 0) */
    uint32_t cap;
    uint32_t count;
};

struct route_table {
    struct rt_plen_table t[33];   /* index = prefix length */
    uint64_t used_plens;          /* bit n set: t[n].count > 0 */
};

static inline uint32_t rt_mask(uint8_t plen)
{
    return plen == 0 ? 0 : 0xffffffffu << (32 - plen);
}

/* A cheap, well-mixing 32-bit hash (the finaliser of MurmurHash3). */
static inline uint32_t rt_hash(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

/* Find the slot holding dst, or NULL. */
static const struct rt_entry *rt_find(const struct rt_plen_table *t, uint32_t dst)
{
    if (t->count == 0)
        return NULL;
    uint32_t m = t->cap - 1;
    for (uint32_t i = rt_hash(dst) & m;; i = (i + 1) & m) {
        const struct rt_entry *e = &t->slots[i];
        if (!e->used)
            return NULL;        /* load factor < 1/2: an empty slot always exists */
        if (e->dst == dst)
            return e;
    }
}

static void rt_insert_slot(struct rt_entry *slots, uint32_t cap, uint32_t dst, uint32_t gw)
{
    uint32_t m = cap - 1;
    uint32_t i = rt_hash(dst) & m;
    while (slots[i].used)
        i = (i + 1) & m;
    slots[i] = (struct rt_entry){.dst = dst, .gw = gw, .used = true};
}

/* Keep the load factor at or below 1/2 so probe sequences stay short. */
static int rt_grow(struct rt_plen_table *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : 8;
    struct rt_entry *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i].used)
            rt_insert_slot(ns, ncap, t->slots[i].dst, t->slots[i].gw);
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

/* A random 16-bit start for the IPv4 identification counter. */
static uint16_t rt_random16(void)
{
    uint16_t v;
    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
        return v;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint16_t)(ts.tv_nsec ^ (ts.tv_nsec >> 16) ^ ts.tv_sec);
}

int route_init(struct wskstack *st)
{
    st->routes = calloc(1, sizeof(*st->routes));
    if (!st->routes)
        return -ENOMEM;
    st->ip_id = rt_random16();
    return 0;
}

void route_fini(struct wskstack *st)
{
    if (!st->routes)
        return;
    for (unsigned i = 0; i < 33; i++)
        free(st->routes->t[i].slots);
    free(st->routes);
    st->routes = NULL;
}

int route4_add(struct wskstack *st, uint32_t dst, uint8_t plen, uint32_t gw)
{
    if (plen > 32 || !st->routes)
        return -EINVAL;
    struct route_table *rt = st->routes;
    struct rt_plen_table *t = &rt->t[plen];
    dst &= rt_mask(plen);          /* 192.0.2.7/24 means 192.0.2.0/24 */
    if (rt_find(t, dst))
        return -EEXIST;
    if ((t->count + 1) * 2 > t->cap) {
        int r = rt_grow(t);
        if (r < 0)
            return r;
    }
    rt_insert_slot(t->slots, t->cap, dst, gw);
    t->count++;
    rt->used_plens |= (uint64_t)1 << plen;
    return 0;
}

/* The trace line of a lookup: which route matched and the next hop (e
 * NULL: none matched). */
static void route4_trace(struct wskstack *st, uint32_t dst, int plen, const struct rt_entry *e)
{
    char d[TRACE_IP_LEN], r[TRACE_IP_LEN + 4], n[TRACE_IP_LEN];
    trace_ip4(dst, d);
    if (!e) {
        struct trace_fields f = {.dst = d, .rfc = "RFC 1122 §3.3.1.2"};
        trace_event(st, TL_IPV4, TD_TX, "route", &f, "route to %s: no route (RFC 1122 §3.3.1.2)", d);
        return;
    }
    trace_ip4(e->dst, n);
    snprintf(r, sizeof r, "%s/%u", n, (unsigned)plen & 63);
    trace_ip4(e->gw ? e->gw : dst, n);
    struct trace_fields f = {.dst = d, .route = r, .nexthop = n, .rfc = "RFC 1812 §5.2.4.3"};
    trace_event(st, TL_IPV4, TD_TX, "route", &f, "route to %s: %s %s %s (longest match, RFC 1812 §5.2.4.3)",
                d, plen == 0 ? "default" : r, e->gw ? "via" : "on-link, next hop", n);
}

/* Longest-prefix match: the entry and its prefix length, or NULL. */
static const struct rt_entry *route4_find(const struct route_table *rt, uint32_t dst, int *plen_out)
{
    uint64_t plens = rt ? rt->used_plens : 0;
    while (plens) {
        /* the longest prefix length still to try */
        int plen = 63 - __builtin_clzll(plens);
        plens &= ~((uint64_t)1 << plen);
        const struct rt_entry *e = rt_find(&rt->t[plen], dst & rt_mask((uint8_t)plen));
        if (e) {
            *plen_out = plen;
            return e;
        }
    }
    return NULL;
}

/* Fill the caller's outputs from a match (e != NULL). */
static int route4_answer(const struct rt_entry *e, int plen, uint32_t dst, uint32_t *nexthop,
                         uint8_t *plen_out)
{
    if (!e)
        return -ENETUNREACH;
    if (nexthop)
        *nexthop = e->gw ? e->gw : dst;
    if (plen_out)
        *plen_out = (uint8_t)plen;
    return 0;
}

int route4_lookup_quiet(struct wskstack *st, uint32_t dst, uint32_t *nexthop, uint8_t *plen_out)
{
    int plen = -1;
    const struct rt_entry *e = route4_find(st->routes, dst, &plen);
    return route4_answer(e, plen, dst, nexthop, plen_out);
}

int route4_lookup(struct wskstack *st, uint32_t dst, uint32_t *nexthop, uint8_t *plen_out)
{
    int plen = -1;
    const struct rt_entry *e = route4_find(st->routes, dst, &plen);
    if (stack_trace_on(st, TRACE_IPV4))
        route4_trace(st, dst, plen, e);
    return route4_answer(e, plen, dst, nexthop, plen_out);
}

void route4_walk(struct wskstack *st, void (*fn)(void *ctx, uint32_t dst, uint8_t plen, uint32_t gw),
                 void *ctx)
{
    const struct route_table *rt = st->routes;
    if (!rt)
        return;
    for (unsigned plen = 0; plen <= 32; plen++)
        for (uint32_t i = 0; i < rt->t[plen].cap; i++)
            if (rt->t[plen].slots[i].used)
                fn(ctx, rt->t[plen].slots[i].dst, (uint8_t)plen, rt->t[plen].slots[i].gw);
}
