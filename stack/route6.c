/* SPDX-License-Identifier: MIT */
/*
 * route6.c - IPv6 next-hop determination for a host (RFC 4861 §5.2): the
 * routing table (longest-prefix match over on-link prefixes and explicit
 * routes), the on-link prefixes learned from Router Advertisements (Prefix
 * List, §6.3.4) and the Default Router List (§6.3.5, selection §6.3.6).
 *
 * Table: as route.c - one open-addressing hash table per prefix length
 * (0..128) keyed by the masked destination, plus a bitmap of the lengths in
 * use; a lookup probes the used lengths from /128 down, so it costs at most
 * 129 probes whatever the number of routes.  Deletion (an RA prefix whose
 * valid lifetime ends) uses backward-shift deletion, so probe chains stay
 * tombstone-free.
 *
 * Where routes come from:
 *   addr=      the prefix of each configured IPv6 address (addr & mask /
 *              plen) is on-link, permanent (stack.c);
 *   gateway=   an IPv6 gateway is a static entry of the Default Router List;
 *   RA         Prefix Information with L=1 -> on-link prefix for its valid
 *              lifetime (0 removes; 0xffffffff = infinity), the RA's source
 *              -> default router for its Router Lifetime (0 removes).
 * Link-local destinations are always on-link (RFC 4291 §2.5.6: fe80::/10
 * never leaves the link); multicast needs no next hop (returned as is).
 * No match and no default router: -ENETUNREACH.  RFC 4861 §5.2's "assume
 * on-link" fallback was removed by RFC 5942 §4 and is not implemented.
 *
 * Default router selection (§6.3.6): the first router, in the order
 * learned, whose neighbour entry is REACHABLE, STALE, DELAY or PROBE
 * ("reachable or probably reachable"); when none is, round-robin over the
 * list, one step per lookup, so an unreachable router is not chosen again
 * until the others have been tried.  Router preferences (RFC 4191) are not
 * implemented.
 *
 * Bounds (BAD-INPUT J): ROUTE6_MAX_ROUTERS routers and ROUTE6_MAX_RA_PREFIXES
 * RA-learned prefixes; beyond that RAs cannot add more (they still refresh
 * what is known).
 *
 * Locking: every function runs with st->lock held (stack.h), except
 * route6_init/route6_fini and route6_add during stack creation.
 */
#include "stack/nd_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ROUTE6_MAX_ROUTERS 8
#define ROUTE6_MAX_RA_PREFIXES 16
#define RT6_STATIC 0                 /* expires: never (configured route) */
#define RT6_INFINITY UINT64_MAX      /* expires: RA infinite lifetime */

struct rt6_entry {
    uint8_t dst[16];     /* masked destination */
    uint8_t gw[16];
    bool has_gw;         /* false: on-link */
    bool used;
    uint64_t expires;    /* RT6_STATIC, RT6_INFINITY or a time (ns) */
};

struct rt6_plen_table {
    struct rt6_entry *slots; /* cap slots, a power of two (or 0) */
    uint32_t cap;
    uint32_t count;
};

struct rt6_router {
    uint8_t addr[16];
    uint64_t expires;    /* UINT64_MAX: static (gateway=) */
};

struct rt6_prefix {
    uint8_t prefix[16];
    uint8_t plen;
};

struct route6_table {
    struct rt6_plen_table t[129];
    uint64_t used_plens[3];      /* bit n%64 of word n/64: t[n].count > 0 */
    struct rt6_router routers[ROUTE6_MAX_ROUTERS];
    unsigned n_routers;
    unsigned rr;                 /* round-robin position (§6.3.6) */
    struct rt6_prefix ra[ROUTE6_MAX_RA_PREFIXES];
    unsigned n_ra;
};

static struct route6_table *rt6(struct wskstack *st)
{
    return st->nd ? *nd_route6_slot(st) : NULL;
}

static void rt6_mask(const uint8_t in[16], uint8_t plen, uint8_t out[16])
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
        uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        out[i] = in[i] & m;
    }
}

static uint32_t rt6_hash(const uint8_t a[16])
{
    uint32_t h = 2166136261u; /* FNV-1a, then a finaliser */
    for (unsigned i = 0; i < 16; i++) {
        h ^= a[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

static struct rt6_entry *rt6_find(const struct rt6_plen_table *t, const uint8_t dst[16])
{
    if (t->count == 0)
        return NULL;
    uint32_t m = t->cap - 1;
    for (uint32_t i = rt6_hash(dst) & m;; i = (i + 1) & m) {
        struct rt6_entry *e = &t->slots[i];
        if (!e->used)
            return NULL; /* load factor <= 1/2: an empty slot always exists */
        if (memcmp(e->dst, dst, 16) == 0)
            return e;
    }
}

static void rt6_insert_slot(struct rt6_entry *slots, uint32_t cap, const struct rt6_entry *n)
{
    uint32_t m = cap - 1;
    uint32_t i = rt6_hash(n->dst) & m;
    while (slots[i].used)
        i = (i + 1) & m;
    slots[i] = *n;
    slots[i].used = true;
}

static int rt6_grow(struct rt6_plen_table *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : 8;
    struct rt6_entry *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i].used)
            rt6_insert_slot(ns, ncap, &t->slots[i]);
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

static int rt6_insert(struct route6_table *rt, const uint8_t dst[16], uint8_t plen,
                      const uint8_t *gw, uint64_t expires)
{
    struct rt6_plen_table *t = &rt->t[plen];
    struct rt6_entry n = {.has_gw = gw != NULL, .expires = expires};
    rt6_mask(dst, plen, n.dst);        /* 2001:db8::7/64 means 2001:db8::/64 */
    if (gw)
        memcpy(n.gw, gw, 16);
    if (rt6_find(t, n.dst))
        return -EEXIST;
    if ((t->count + 1) * 2 > t->cap) {
        int r = rt6_grow(t);
        if (r < 0)
            return r;
    }
    rt6_insert_slot(t->slots, t->cap, &n);
    t->count++;
    rt->used_plens[plen / 64] |= (uint64_t)1 << (plen % 64);
    return 0;
}

/* Backward-shift deletion of the entry at e (linear probing). */
static void rt6_remove(struct route6_table *rt, uint8_t plen, struct rt6_entry *e)
{
    struct rt6_plen_table *t = &rt->t[plen];
    uint32_t m = t->cap - 1;
    uint32_t i = (uint32_t)(e - t->slots);
    t->slots[i].used = false;
    for (uint32_t j = (i + 1) & m; t->slots[j].used; j = (j + 1) & m) {
        uint32_t k = rt6_hash(t->slots[j].dst) & m; /* home slot of j's entry */
        /* It may stay unless its home lies cyclically outside (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        t->slots[j].used = false;
        i = j;
    }
    if (--t->count == 0)
        rt->used_plens[plen / 64] &= ~((uint64_t)1 << (plen % 64));
}

/* ---- lifecycle and configuration ----------------------------------------------- */

int route6_init(struct wskstack *st)
{
    struct route6_table *rt = calloc(1, sizeof *rt);
    if (!rt)
        return -ENOMEM;
    *nd_route6_slot(st) = rt;
    return 0;
}

void route6_fini(struct wskstack *st)
{
    struct route6_table *rt = rt6(st);
    if (!rt)
        return;
    for (unsigned i = 0; i <= 128; i++)
        free(rt->t[i].slots);
    free(rt);
    *nd_route6_slot(st) = NULL;
}

static int rt6_router_find(const struct route6_table *rt, const uint8_t addr[16])
{
    for (unsigned i = 0; i < rt->n_routers; i++)
        if (memcmp(rt->routers[i].addr, addr, 16) == 0)
            return (int)i;
    return -1;
}

static void rt6_router_del(struct route6_table *rt, unsigned i)
{
    memmove(&rt->routers[i], &rt->routers[i + 1], (rt->n_routers - i - 1) * sizeof rt->routers[0]);
    rt->n_routers--;
}

int route6_add(struct wskstack *st, const uint8_t dst[16], uint8_t plen, const uint8_t *gw)
{
    struct route6_table *rt = rt6(st);
    if (!rt || plen > 128)
        return -EINVAL;
    if (gw && (ipv6_is_multicast(gw) || ipv6_is_unspecified(gw)))
        return -EINVAL;
    if (gw && plen == 0) {
        /* A default route is a static Default Router List entry, so that
         * §6.3.6 selection covers configured and learned routers alike. */
        int i = rt6_router_find(rt, gw);
        if (i >= 0) {
            if (rt->routers[i].expires == UINT64_MAX)
                return -EEXIST;
            rt->routers[i].expires = UINT64_MAX; /* configuration wins */
            return 0;
        }
        if (rt->n_routers == ROUTE6_MAX_ROUTERS)
            return -ENOSPC;
        memcpy(rt->routers[rt->n_routers].addr, gw, 16);
        rt->routers[rt->n_routers].expires = UINT64_MAX;
        rt->n_routers++;
        return 0;
    }
    return rt6_insert(rt, dst, plen, gw, RT6_STATIC);
}

/* ---- lookup ------------------------------------------------------------------------ */

/* §6.3.6 default router selection (see the top). */
static int rt6_pick_router(struct wskstack *st, struct route6_table *rt, uint8_t out[16])
{
    if (rt->n_routers == 0)
        return -ENETUNREACH;
    for (unsigned i = 0; i < rt->n_routers; i++) {
        enum nd_nud s = nd_nud_locked(st, rt->routers[i].addr);
        if (s != ND_NUD_NONE && s != ND_NUD_INCOMPLETE) {
            memcpy(out, rt->routers[i].addr, 16);
            return 0;
        }
    }
    memcpy(out, rt->routers[rt->rr++ % rt->n_routers].addr, 16);
    return 0;
}

/* Why a lookup answered what it did, for the trace line: the rule (how),
 * the matched prefix (route, "" when none) and the RFC behind it. */
struct rt6_why {
    const char *how, *rfc;
    char route[TRACE_IP_LEN + 4];
};

/* The trace line of a lookup (rc < 0: no route). */
static void route6_trace(struct wskstack *st, const uint8_t dst[16], int rc,
                         const uint8_t nh[16], const struct rt6_why *w)
{
    char d[TRACE_IP_LEN], n[TRACE_IP_LEN];
    trace_ip6(dst, d);
    struct trace_fields f = {.dst = d, .route = w->route[0] ? w->route : NULL, .rfc = w->rfc};
    if (rc < 0) {
        trace_event(st, TL_IPV6, TD_TX, "route", &f, "route to %s: %s (%s)", d, w->how, w->rfc);
        return;
    }
    f.nexthop = trace_ip6(nh, n);
    trace_event(st, TL_IPV6, TD_TX, "route", &f, "route to %s: %s%s%s, next hop %s (%s)", d,
                w->how, w->route[0] ? " " : "", w->route, n, w->rfc);
}

/* The lookup itself; w says why (see route6_trace). */
static int rt6_lookup(struct wskstack *st, const uint8_t dst[16], uint8_t nexthop[16],
                      struct rt6_why *w)
{
    struct route6_table *rt = rt6(st);
    w->route[0] = '\0';
    if (!rt || ipv6_is_unspecified(dst) || ipv6_is_loopback(dst)) {
        w->how = "unspecified or loopback, never on a link";
        w->rfc = "RFC 4291 §2.5.2";
        return -ENETUNREACH; /* RFC 4291 §2.5.2, §2.5.3: never on a link */
    }
    if (ipv6_is_link_local(dst) || ipv6_is_multicast(dst)) {
        memcpy(nexthop, dst, 16); /* RFC 4291 §2.5.6: link-local is on-link */
        w->how = "link-local or multicast, on-link";
        w->rfc = "RFC 4291 §2.5.6";
        return 0;
    }
    for (int k = 2; k >= 0; k--) {
        uint64_t bits = rt->used_plens[k];
        while (bits) {
            int b = 63 - __builtin_clzll(bits);
            bits &= ~((uint64_t)1 << b);
            uint8_t plen = (uint8_t)(k * 64 + b);
            uint8_t key[16];
            rt6_mask(dst, plen, key);
            const struct rt6_entry *e = rt6_find(&rt->t[plen], key);
            if (e) {
                memcpy(nexthop, e->has_gw ? e->gw : dst, 16);
                w->how = "longest match";
                w->rfc = "RFC 4861 §5.2";
                if (stack_trace_on(st, TRACE_IPV6)) { /* only the trace reads it */
                    trace_ip6(key, w->route);
                    snprintf(w->route + strlen(w->route), sizeof w->route - strlen(w->route), "/%u",
                             plen);
                }
                return 0;
            }
        }
    }
    int rc = rt6_pick_router(st, rt, nexthop);
    if (rc == 0) {
        w->how = "no prefix matched: default router";
        w->rfc = "RFC 4861 §6.3.6";
        snprintf(w->route, sizeof w->route, "default");
    } else {
        w->how = "no route and no default router";
        w->rfc = "RFC 5942 §4";
    }
    return rc;
}

int route6_lookup(struct wskstack *st, const uint8_t dst[16], uint8_t nexthop[16])
{
    struct rt6_why w;
    int rc = rt6_lookup(st, dst, nexthop, &w);
    if (stack_trace_on(st, TRACE_IPV6))
        route6_trace(st, dst, rc, nexthop, &w);
    return rc;
}

int route6_lookup_quiet(struct wskstack *st, const uint8_t dst[16], uint8_t nexthop[16])
{
    struct rt6_why w;
    return rt6_lookup(st, dst, nexthop, &w);
}

/* ---- RA input (§6.3.4, §6.3.5) --------------------------------------------------------- */

void route6_router_update(struct wskstack *st, const uint8_t addr[16], uint16_t lifetime_s,
                          uint64_t now)
{
    struct route6_table *rt = rt6(st);
    int i = rt6_router_find(rt, addr);
    if (i >= 0 && rt->routers[i].expires == UINT64_MAX)
        return; /* static (gateway=): RAs do not change it */
    if (lifetime_s == 0) {
        /* §6.3.4: lifetime 0 - not a default router: time it out now. */
        if (i >= 0)
            rt6_router_del(rt, (unsigned)i);
        return;
    }
    uint64_t exp = now + (uint64_t)lifetime_s * ND_NS_PER_S;
    if (i >= 0) {
        rt->routers[i].expires = exp;
        return;
    }
    if (rt->n_routers == ROUTE6_MAX_ROUTERS)
        return; /* bounded: a flood of RAs cannot grow the list */
    memcpy(rt->routers[rt->n_routers].addr, addr, 16);
    rt->routers[rt->n_routers].expires = exp;
    rt->n_routers++;
}

void route6_router_remove(struct wskstack *st, const uint8_t addr[16])
{
    struct route6_table *rt = rt6(st);
    int i = rt6_router_find(rt, addr);
    if (i >= 0 && rt->routers[i].expires != UINT64_MAX)
        rt6_router_del(rt, (unsigned)i);
}

static int rt6_ra_find(const struct route6_table *rt, const uint8_t prefix[16], uint8_t plen)
{
    for (unsigned i = 0; i < rt->n_ra; i++)
        if (rt->ra[i].plen == plen && memcmp(rt->ra[i].prefix, prefix, 16) == 0)
            return (int)i;
    return -1;
}

static void rt6_ra_del(struct route6_table *rt, unsigned i)
{
    struct rt6_entry *e = rt6_find(&rt->t[rt->ra[i].plen], rt->ra[i].prefix);
    if (e)
        rt6_remove(rt, rt->ra[i].plen, e);
    memmove(&rt->ra[i], &rt->ra[i + 1], (rt->n_ra - i - 1) * sizeof rt->ra[0]);
    rt->n_ra--;
}

enum route6_prefix_result route6_prefix_update(struct wskstack *st, const uint8_t prefix[16],
                                               uint8_t plen, uint32_t valid_s, uint64_t now)
{
    struct route6_table *rt = rt6(st);
    uint8_t key[16];
    rt6_mask(prefix, plen, key);
    struct rt6_entry *e = rt6_find(&rt->t[plen], key);
    if (e && e->expires == RT6_STATIC)
        return RT6_PREFIX_STATIC; /* configured (addr=): RAs do not change it */
    int ri = rt6_ra_find(rt, key, plen);
    if (valid_s == 0) {
        /* §6.3.4: "If the prefix is already present ... and the received
         * Valid Lifetime is 0, time out the prefix immediately"; an
         * unknown prefix with lifetime 0 is ignored. */
        if (ri < 0)
            return RT6_PREFIX_IGNORED;
        rt6_ra_del(rt, (unsigned)ri);
        return RT6_PREFIX_REMOVED;
    }
    uint64_t exp = valid_s == 0xffffffffu ? RT6_INFINITY : now + (uint64_t)valid_s * ND_NS_PER_S;
    if (e) {
        e->expires = exp; /* §6.3.4: reset the invalidation timer */
        return RT6_PREFIX_REFRESHED;
    }
    if (rt->n_ra == ROUTE6_MAX_RA_PREFIXES)
        return RT6_PREFIX_FULL;
    if (rt6_insert(rt, key, plen, NULL, exp) < 0)
        return RT6_PREFIX_FULL; /* out of memory: as full */
    memcpy(rt->ra[rt->n_ra].prefix, key, 16);
    rt->ra[rt->n_ra].plen = plen;
    rt->n_ra++;
    return RT6_PREFIX_ADDED;
}

void route6_timer(struct wskstack *st, uint64_t now)
{
    struct route6_table *rt = rt6(st);
    /* §6.3.5: a router whose lifetime ran out leaves the list. */
    for (unsigned i = 0; i < rt->n_routers;) {
        if (rt->routers[i].expires != UINT64_MAX && rt->routers[i].expires <= now)
            rt6_router_del(rt, i);
        else
            i++;
    }
    /* §6.3.5: an on-link prefix whose valid lifetime ran out is removed. */
    for (unsigned i = 0; i < rt->n_ra;) {
        const struct rt6_entry *e = rt6_find(&rt->t[rt->ra[i].plen], rt->ra[i].prefix);
        if (!e || (e->expires != RT6_INFINITY && e->expires <= now))
            rt6_ra_del(rt, i);
        else
            i++;
    }
}

uint64_t route6_next_expiry(struct wskstack *st)
{
    struct route6_table *rt = rt6(st);
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < rt->n_routers; i++)
        if (rt->routers[i].expires < next)
            next = rt->routers[i].expires;
    for (unsigned i = 0; i < rt->n_ra; i++) {
        const struct rt6_entry *e = rt6_find(&rt->t[rt->ra[i].plen], rt->ra[i].prefix);
        if (e && e->expires < next)
            next = e->expires;
    }
    return next;
}

bool route6_router_get(struct wskstack *st, unsigned i, uint8_t addr[16], uint64_t *expires_ns)
{
    struct route6_table *rt = rt6(st);
    if (!rt || i >= rt->n_routers)
        return false;
    if (addr)
        memcpy(addr, rt->routers[i].addr, 16);
    if (expires_ns)
        *expires_ns = rt->routers[i].expires;
    return true;
}

void route6_walk(struct wskstack *st,
                 void (*fn)(void *ctx, const uint8_t dst[16], uint8_t plen, const uint8_t *gw,
                            uint64_t expires_ns),
                 void *ctx)
{
    struct route6_table *rt = rt6(st);
    if (!rt)
        return;
    for (unsigned plen = 0; plen <= 128; plen++)
        for (uint32_t i = 0; i < rt->t[plen].cap; i++) {
            const struct rt6_entry *e = &rt->t[plen].slots[i];
            if (e->used)
                fn(ctx, e->dst, (uint8_t)plen, e->has_gw ? e->gw : NULL, e->expires);
        }
}
