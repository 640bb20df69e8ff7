/* SPDX-License-Identifier: MIT */
/*
 * nd_impl.h - private to the Neighbor Discovery files (RFC 4861) and
 * route6.c.
 *
 * nd.c       the neighbour cache with NUD, address resolution (nd6_output),
 *            the host variables of §6.3.2, static entries, queries
 * nd_input.c received NS/NA/RS/RA/Redirect: validation and processing
 * nd_send.c  the NS/NA/RS we send and the timers that send them, Router
 *            Solicitation at start
 * route6.c   the IPv6 routing table (longest-prefix match), the Prefix List
 *            learned from RAs (§6.3.4) and the Default Router List (§6.3.5,
 *            selection §6.3.6)
 * Everything here runs with st->lock held unless stated otherwise.
 */
#ifndef WSS_ND_IMPL_H
#define WSS_ND_IMPL_H

#include "stack/ipv6_impl.h"

#include <string.h>

#define ND_NS_PER_S 1000000000ull
#define ND_NS_PER_MS 1000000ull

struct route6_table; /* route6.c */

/* ---- the neighbour cache: nd.c, nd_input.c, nd_send.c -------------------------- */
/* The layout and the constants (design: the top of nd.c).  st->nd is the
 * struct nd_state; only the ND files look inside it. */

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

/* An IPv6 address as text into buf (trace lines). */
static inline const char *a6(const uint8_t a[16], char buf[64])
{
    struct ip_addr x = {.af = IPA_V6};
    memcpy(x.v6, a, 16);
    return ip_addr_str(&x, buf, 64);
}

static inline uint64_t retrans_ns(const struct nd_state *nd) { return (uint64_t)nd->retrans_ms * ND_NS_PER_MS; }
static inline uint64_t reachable_ns(const struct nd_state *nd) { return (uint64_t)nd->reachable_ms * ND_NS_PER_MS; }

/* nd.c: the table (caller holds st->lock unless stated). */
/* §6.3.2: ReachableTime = uniform in [0.5, 1.5] x BaseReachableTime. */
void nd_draw_reachable(struct nd_state *nd, uint64_t now, bool have_now);
struct nd_entry *nd_find(struct nd_state *nd, const uint8_t ip[16]);
/* Remove from the hash and free.  Its queue must be empty. */
void nd_delete(struct nd_state *nd, struct nd_entry *e);
/* A fresh entry for ip, evicting an idle one when full; NULL: none idle. */
struct nd_entry *nd_new(struct wskstack *st, const uint8_t ip[16]);
/* Every NUD state change, with its trace line naming the rule. */
void nd_set_state(struct wskstack *st, struct nd_entry *e, enum nd_nud s, const char *rfc);
/* REACHABLE whose ReachableTime has passed becomes STALE (§7.3.3). */
void nd_age(struct wskstack *st, struct nd_entry *e, uint64_t now);
/* Take e's whole queue. */
struct pkt *nd_take_queue(struct nd_state *nd, struct nd_entry *e);
/* Take e's queue for sending; NULL when empty or another thread flushes. */
struct pkt *nd_begin_flush(struct nd_state *nd, struct nd_entry *e);
/* Write e's queue until it stays empty (no lock held; e->flushing set). */
void nd_flush_entry(struct wskstack *st, struct nd_entry *e, struct pkt *chain,
                    const uint8_t mac_in[ETH_ALEN]);

/* nd_send.c: messages (no lock held). */
/* NA (§4.4, §7.2.4) for our target to dst. */
void nd_send_na(struct wskstack *st, const uint8_t target[16], const uint8_t dst[16],
                bool solicited, uint64_t now);
/* Multicast resolution NS for target (§7.2.2); cand: the prompting
 * packet's source, used when it is ours. */
void nd_resolve_ns(struct wskstack *st, const uint8_t cand[16], const uint8_t target[16],
                   uint64_t now);

/* ---- between nd.c and route6.c ------------------------------------------------------- */

/* route6.c lifecycle, called from nd_init/nd_fini (no lock: creation). */
int route6_init(struct wskstack *st);
void route6_fini(struct wskstack *st);
/* The NUD state of ip, for default router selection (§6.3.6). nd.c. */
enum nd_nud nd_nud_locked(struct wskstack *st, const uint8_t ip[16]);
/* RA input (§6.3.4): router lifetime in s (0 = remove, §6.3.5). */
void route6_router_update(struct wskstack *st, const uint8_t addr[16], uint16_t lifetime_s,
                          uint64_t now);
/* §7.2.5: the IsRouter flag of a neighbour went from TRUE to FALSE. */
void route6_router_remove(struct wskstack *st, const uint8_t addr[16]);
/* RA Prefix Information with L=1 (§6.3.4): valid lifetime in s, 0 = remove,
 * 0xffffffff = infinity.  Returns what it did, for the trace. */
enum route6_prefix_result { RT6_PREFIX_ADDED, RT6_PREFIX_REFRESHED, RT6_PREFIX_REMOVED,
                            RT6_PREFIX_IGNORED, RT6_PREFIX_FULL, RT6_PREFIX_STATIC };
enum route6_prefix_result route6_prefix_update(struct wskstack *st, const uint8_t prefix[16],
                                               uint8_t plen, uint32_t valid_s, uint64_t now);
/* Expire routers and prefixes whose lifetime ended at or before now. */
void route6_timer(struct wskstack *st, uint64_t now);
/* When the next router or prefix expires (UINT64_MAX: none). */
uint64_t route6_next_expiry(struct wskstack *st);
/* Where nd.c keeps route6.c's table (st->nd is private to the ND files). */
struct route6_table **nd_route6_slot(struct wskstack *st);

#endif /* WSS_ND_IMPL_H */
