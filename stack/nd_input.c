/* SPDX-License-Identifier: MIT */
/*
 * nd_input.c - received Neighbor Discovery messages (RFC 4861): the
 * validation of NS, NA, RS, RA and Redirect (stack/wire parses, the rules
 * of §6.1 and §7.1 decide) and what each valid one does: an NS answered
 * with an NA, an NA or an SLLA/TLLA option updating the neighbour cache
 * (§7.2.3, §7.2.5), an RA setting the host variables, the Default Router
 * List and the Prefix List (§6.3.4), DAD conflicts handed to addr6.c.
 * The cache itself is nd.c's (layout in nd_impl.h); locking as there.
 */
#include "stack/nd_impl.h"

#include <string.h>

static const uint8_t all_nodes[16] = IPV6_ADDR_ALL_NODES;

/* ---- input ---------------------------------------------------------------------------- */

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
