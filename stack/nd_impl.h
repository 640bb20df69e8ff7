/* SPDX-License-Identifier: MIT */
/*
 * nd_impl.h - private to nd.c and route6.c (Neighbor Discovery, RFC 4861).
 *
 * nd.c     the neighbour cache with NUD, ND message input/output, the host
 *          variables of §6.3.2, Router Solicitation at start
 * route6.c the IPv6 routing table (longest-prefix match), the Prefix List
 *          learned from RAs (§6.3.4) and the Default Router List (§6.3.5,
 *          selection §6.3.6)
 * Everything here runs with st->lock held unless stated otherwise.
 */
#ifndef WSS_ND_IMPL_H
#define WSS_ND_IMPL_H

#include "stack/ipv6_impl.h"

#define ND_NS_PER_S 1000000000ull
#define ND_NS_PER_MS 1000000ull

struct route6_table; /* route6.c */

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
/* Where nd.c keeps route6.c's table (st->nd is private to nd.c). */
struct route6_table **nd_route6_slot(struct wskstack *st);

#endif /* WSS_ND_IMPL_H */
