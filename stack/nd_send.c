/* SPDX-License-Identifier: MIT */
/*
 * nd_send.c - the Neighbor Discovery messages this host sends (RFC 4861):
 * NS for address resolution, NUD probes and DAD, NA answering an NS, RS
 * at start; and the timers that send them: resolution retransmissions and
 * failure (§7.2.2), DELAY/PROBE and garbage collection (§7.3.3), Router
 * Solicitation (§6.3.7), the periodic ReachableTime redraw (§6.3.4).
 * The cache is nd.c's (layout in nd_impl.h); locking as there.
 *
 * Sending ND messages: nd_send.c builds the IPv6 header itself (hop limit
 * 255, §6.1, §7.1) and hands the packet to nd6_output with the destination
 * as next hop.  ND never leaves the link (§3), so no route lookup: an NA
 * goes back to the soliciting neighbour even when its address matches no
 * on-link prefix (RFC 5942 §4), and a PROBE NS goes straight to the cached
 * MAC.
 */
#include "stack/nd_impl.h"

#include <errno.h>
#include <string.h>

static const uint8_t all_routers[16] = IPV6_ADDR_ALL_ROUTERS;
static const uint8_t unspec[16] = IPV6_ADDR_UNSPECIFIED;

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
void nd_send_na(struct wskstack *st, const uint8_t target[16], const uint8_t dst[16],
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
void nd_resolve_ns(struct wskstack *st, const uint8_t cand[16], const uint8_t target[16],
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
