/* SPDX-License-Identifier: MIT */
/*
 * ipv4.c - IPv4 for a host: input rules (RFC 1122 §3.2.1), source address
 * selection, output and fragmentation (RFC 791 §3.2).
 *
 * A datagram from the wire, in order (BAD-INPUT.md Part 3 section C):
 *   IpInReceives
 *   header checks (ipv4_parse)            -> IpInHdrErrors / IpInTruncatedPkts
 *   trim Ethernet padding to total length  (C.12)
 *   destination ours or broadcast for us   -> else IpInAddrErrors, no ICMP
 *   TTL is not looked at                   (C.14: only routers discard on TTL)
 *   options are not looked at              (C.16: ignored, never reflected)
 *   fragment                               -> reassembly (reasm.h): kept,
 *                                             dropped (IpReasmFails), or the
 *                                             whole datagram continues below
 *                                             (IpReasmReqds/OKs/Timeout)
 *   ICMP -> icmp_input, UDP -> udp_input   IpInDelivers
 *   anything else                          -> ICMP protocol unreachable,
 *                                             IpInUnknownProtos (C.15)
 *
 * Not implemented yet: multicast group membership (every
 * multicast destination is "not ours"), the obsolete all-zeros broadcast
 * forms of RFC 1122 §3.3.6, options on output, path MTU discovery (the link
 * MTU is the path MTU).
 *
 * Locking: ipv4_input runs on the receive thread without st->lock;
 * ipv4_output takes st->lock only around the route lookup and the
 * identification counter.  The address table is read-only after creation
 * (stack_impl.h), so reading it needs no lock.
 */
#include <errno.h>
#include <string.h>

#include "stack/stack_impl.h"
#include "stack/reasm.h"

#define ICMP_EXC_FRAGTIME 1   /* RFC 792 Time Exceeded code 1: fragment reassembly time exceeded */

static inline uint32_t ipv4_mask(uint8_t plen)
{
    return plen == 0 ? 0 : 0xffffffffu << (32 - plen);
}

bool ipv4_is_local(struct wskstack *st, uint32_t a)
{
    for (unsigned i = 0; i < st->n_addr4; i++)
        if (st->addr4[i].addr == a)
            return true;
    return false;
}

bool ipv4_is_broadcast(struct wskstack *st, uint32_t a)
{
    if (ipv4_is_limited_broadcast(a))
        return true;
    /* Directed broadcast {subnet, -1} of one of our subnets (RFC 1122
     * §3.2.1.3 (c)).  /31 (RFC 3021) and /32 subnets have no broadcast
     * address. */
    for (unsigned i = 0; i < st->n_addr4; i++) {
        const struct addr4 *ad = &st->addr4[i];
        if (ad->plen > 30)
            continue;
        uint32_t m = ipv4_mask(ad->plen);
        if ((a & m) == (ad->addr & m) && (a | m) == 0xffffffffu)
            return true;
    }
    return false;
}

/* The "source" line: the address chosen (best: index in st->addr4, -1 =
 * none) and the rule that chose it. */
static void ipv4_trace_source(struct wskstack *st, uint32_t dst, uint32_t nexthop, int best)
{
    char d[TRACE_IP_LEN], s[TRACE_IP_LEN], n[TRACE_IP_LEN], r[TRACE_IP_LEN + 4];
    struct trace_fields f = {.dst = trace_ip4(dst, d), .nexthop = trace_ip4(nexthop, n),
                             .rfc = "RFC 1122 §3.3.4.3"};
    if (best < 0) {
        trace_event(st, TL_IPV4, TD_TX, "source", &f,
                    "source for %s: no IPv4 address configured (RFC 1122 §3.3.4.3)", d);
        return;
    }
    const struct addr4 *a = &st->addr4[best];
    f.src = trace_ip4(a->addr, s);
    uint32_t m = ipv4_mask(a->plen);
    if ((nexthop & m) != (a->addr & m)) {
        f.rule = "first address";
        trace_event(st, TL_IPV4, TD_TX, "source", &f,
                    "source for %s: %s, our first address: no subnet of ours holds next hop %s "
                    "(RFC 1122 §3.3.4.3)", d, s, n);
        return;
    }
    char sub[TRACE_IP_LEN];
    snprintf(r, sizeof r, "%s/%u", trace_ip4(a->addr & m, sub), a->plen);
    f.route = r;
    f.rule = "next-hop subnet";
    trace_event(st, TL_IPV4, TD_TX, "source", &f,
                "source for %s: %s, on %s with next hop %s (RFC 1122 §3.3.4.3)", d, s, r, n);
}

int ipv4_select_source(struct wskstack *st, uint32_t dst, uint32_t nexthop, uint32_t *src)
{
    /* RFC 1122 §3.3.4.3: the source is an address of the interface the
     * datagram leaves on.  With several subnets on the link we pick the
     * subnet that contains the next hop (the destination itself when it is
     * on-link, the gateway otherwise), the most specific one when subnets
     * nest; within a subnet the FIRST configured address is preferred
     * (strict '>' keeps the earliest on ties).  No subnet contains the next
     * hop (a gateway outside our subnets, 255.255.255.255): the first
     * address of the stack. */
    int best = -1;
    for (unsigned i = 0; i < st->n_addr4; i++) {
        const struct addr4 *ad = &st->addr4[i];
        uint32_t m = ipv4_mask(ad->plen);
        if ((nexthop & m) == (ad->addr & m) && (best < 0 || ad->plen > st->addr4[best].plen))
            best = (int)i;
    }
    if (best < 0) {
        if (st->n_addr4 == 0) {
            if (stack_trace_on(st, TRACE_IPV4))
                ipv4_trace_source(st, dst, nexthop, -1);
            return -EADDRNOTAVAIL;
        }
        best = 0;
    }
    *src = st->addr4[best].addr;
    if (stack_trace_on(st, TRACE_IPV4))
        ipv4_trace_source(st, dst, nexthop, best);
    return 0;
}

/* ---- input ------------------------------------------------------------------ */

/* Was the frame sent to a link-layer broadcast or multicast address?
 * eth_input pulls the Ethernet header with pkt_pull (stack_impl.h), so its
 * destination MAC still sits just in front of the IP header. */
static bool ipv4_link_bcast(const struct pkt *p)
{
    if (p->head < ETH_HDR_LEN)
        return false;
    return eth_is_multicast(p->buf + p->head - ETH_HDR_LEN);
}

/*
 * RFC 791 §3.2 reassembly through the shared engine (reasm.h: overlaps,
 * limits, memory cap and counters are decided there).  Consumes p.
 * Returns NULL (the fragment was kept or dropped), or the whole datagram:
 * fragment 0's header (with its options) followed by the reassembled
 * payload, Total Length set, MF and Fragment Offset cleared, checksum
 * recomputed, and re-parsed into *ip.
 */
static struct pkt *ipv4_reasm(struct wskstack *st, struct pkt *p, struct ipv4_repr *ip,
                              bool ip_bcast, bool link_bcast, uint64_t now)
{
    if (link_bcast && !ip_bcast) {
        /* RFC 1122 §3.3.6: a datagram received via a link-layer broadcast
         * that is not to an IP broadcast/multicast address SHOULD be
         * silently discarded.  Done here so the engine only ever holds
         * fragment 0s that may be answered with Time Exceeded (RFC 1122
         * §3.2.2: no error about a link-layer broadcast). */
        CNT_INC(st, IpReasmReqds);
        stack_drop(st, CNT_IpReasmFails, "ipv4",
                   "fragment to a unicast address in a link-layer broadcast (RFC 1122 §3.3.6)");
        pkt_free(st, p);
        return NULL;
    }
    const uint8_t *h = pkt_data(p);
    struct reasm_key k = {.src = ip4(ip->src), .dst = ip4(ip->dst), .id = ip->id, .proto = ip->proto};
    struct pkt *whole = NULL;
    int rc = reasm_add(st, &k, ip->frag_off, ip->mf, h + ip->hdr_len,
                       (size_t)ip->total_len - ip->hdr_len, h, ip->hdr_len, now, &whole);
    pkt_free(st, p);   /* the engine copied what it keeps */
    if (rc != REASM_DONE)
        return NULL;   /* counted by the engine */

    uint8_t *w = pkt_data(whole);
    size_t hl = (size_t)(w[0] & 0x0f) * 4;
    put_be16(w + 2, (uint16_t)whole->len);     /* <= 65535: checked by the engine */
    put_be16(w + 6, be16(w + 6) & 0x4000);     /* keep DF; MF = 0, offset = 0 */
    put_be16(w + 10, 0);
    put_be16(w + 10, csum_fold(csum_partial(w, hl, 0)));
    if (ipv4_parse(w, whole->len, ip, true) != WIRE_OK) {
        /* Cannot happen: fragment 0's header was parsed on arrival. */
        stack_drop(st, CNT_IpInHdrErrors, "ipv4", "reassembled header invalid");
        pkt_free(st, whole);
        return NULL;
    }
    return whole;
}

void ipv4_reasm_expired(struct wskstack *st, const struct reasm_expired *e, uint64_t now)
{
    /* RFC 792: the quote is the Internet header and the first 64 bits of
     * the datagram's data - here fragment 0's (RFC 1122 §3.3.2, §3.2.2).
     * icmp_send_error applies the "never send an error about" rules: a
     * broadcast/multicast destination gets none (BAD-INPUT D.20). */
    uint8_t q[IPV4_MAX_HDR_LEN + 8];
    if (e->hdr_len < IPV4_HDR_LEN || e->hdr_len > IPV4_MAX_HDR_LEN)
        return;
    size_t dl = e->data_len < 8 ? e->data_len : 8;
    memcpy(q, e->hdr, e->hdr_len);
    memcpy(q + e->hdr_len, e->data, dl);
    icmp_send_error(st, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0, q, e->hdr_len + dl, false, now);
}

/* "ipv4 rx accept": a datagram for us (to one of our addresses or a
 * broadcast of our subnets), handed to ICMP or UDP. */
static void ipv4_trace_accept(struct wskstack *st, const struct ipv4_repr *ip, bool bcast,
                              bool reassembled)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
    struct trace_fields f = {.src = trace_ip4(ip->src, s), .dst = trace_ip4(ip->dst, d),
                             .rule = bcast ? "broadcast" : "unicast", .proto = TNUM(ip->proto),
                             .len = TNUM(ip->total_len), .ttl = TNUM(ip->ttl), .id = TNUM(ip->id)};
    trace_event(st, TL_IPV4, TD_RX, "accept", &f,
                "%s -> %s, proto %u, %u bytes, ttl %u, id %u: %s%s, to %s (RFC 1122 §3.2.1.3)", s,
                d, ip->proto, ip->total_len, ip->ttl, ip->id, bcast ? "broadcast for us" : "ours",
                reassembled ? ", reassembled" : "", trace_proto_name(ip->proto));
}

void ipv4_input(struct wskstack *st, struct pkt *p, uint64_t now)
{
    const uint8_t *h = pkt_data(p);
    struct ipv4_repr ip;

    CNT_INC(st, IpInReceives);

    switch (ipv4_parse(h, p->len, &ip, true)) {
    case WIRE_OK:
        break;
    case WIRE_TRUNCATED:
        /* ipv4_parse says TRUNCATED for three things: fewer than 20 bytes,
         * IHL*4 beyond the frame (header errors, as in Linux ip_rcv_core),
         * and total length beyond the frame (RFC 6274 §3.4: a truncated
         * packet, IpInTruncatedPkts).  The first two are told apart here. */
        if (p->len >= IPV4_HDR_LEN && (size_t)(h[0] & 0x0f) * 4 <= p->len) {
            stack_drop(st, CNT_IpInTruncatedPkts, "ipv4",
                       "total length beyond the frame (RFC 791 §3.1, RFC 6274 §3.4)");
            goto free;
        }
        stack_drop(st, CNT_IpInHdrErrors, "ipv4", "header truncated (RFC 791 §3.1)");
        goto free;
    case WIRE_BAD_VERSION:
        stack_drop(st, CNT_IpInHdrErrors, "ipv4", "version != 4 (RFC 1122 §3.2.1.1)");
        goto free;
    case WIRE_BAD_HDRLEN:
        stack_drop(st, CNT_IpInHdrErrors, "ipv4", "IHL < 5 (RFC 791 §3.1)");
        goto free;
    case WIRE_BAD_LENGTH:
        stack_drop(st, CNT_IpInHdrErrors, "ipv4", "total length < IHL*4 (RFC 6274 §3.4)");
        goto free;
    case WIRE_BAD_CHECKSUM:
        stack_drop(st, CNT_IpInHdrErrors, "ipv4", "bad header checksum (RFC 1122 §3.2.1.2)");
        goto free;
    default:
        stack_drop(st, CNT_IpInHdrErrors, "ipv4", "malformed header");
        goto free;
    }

    /* RFC 791: total length defines the datagram; what follows is Ethernet
     * padding (BAD-INPUT C.12) and must never reach a checksum. */
    p->len = ip.total_len;

    /* RFC 1122 §3.2.1.3 / §3.3.6: a host accepts datagrams to its own
     * addresses and to broadcast addresses of its subnets only; we are not
     * a router, and we join no multicast group yet (C.13: no ICMP). */
    bool ip_bcast = ipv4_is_broadcast(st, ip.dst);
    if (!ip_bcast && !ipv4_is_local(st, ip.dst)) {
        stack_drop(st, CNT_IpInAddrErrors, "ipv4",
                   "destination not ours (RFC 1122 §3.2.1.3; hosts do not forward)");
        goto free;
    }

    /* RFC 1122 §3.2.1.7: a host MUST NOT discard a datagram because its TTL
     * is below 2 (C.14) - TTL is not checked at all.  RFC 1122 §3.2.1.8:
     * options we do not understand are ignored (C.16); none are acted on. */

    bool link_bcast = ipv4_link_bcast(p);
    bool reassembled = ip.mf || ip.frag_off != 0;
    if (reassembled) {
        /* RFC 791 §3.2: a fragment; the whole datagram, once reassembled,
         * continues as an unfragmented one (its UDP checksum covers it
         * all).  link_bcast is the completing frame's, taken above. */
        p = ipv4_reasm(st, p, &ip, ip_bcast, link_bcast, now);
        if (!p)
            return;
        h = pkt_data(p);
    }

    if (stack_trace_on(st, TRACE_IPV4) &&
        (ip.proto == IP_PROTO_ICMP || ip.proto == IP_PROTO_UDP))
        ipv4_trace_accept(st, &ip, ip_bcast, reassembled);
    switch (ip.proto) {
    case IP_PROTO_ICMP:
        CNT_INC(st, IpInDelivers);
        pkt_pull(p, ip.hdr_len);
        icmp_input(st, p, &ip, now);
        return;
    case IP_PROTO_UDP:
        CNT_INC(st, IpInDelivers);
        pkt_pull(p, ip.hdr_len);
        udp_input(st, p, &ip, link_bcast, now);
        return;
    default:
        /* RFC 1122 §3.2.2.1: Protocol Unreachable SHOULD be sent (C.15);
         * icmp_send_error applies the "never about a broadcast" rules. */
        icmp_send_error(st, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, 0, h, ip.total_len,
                        link_bcast, now);
        stack_drop(st, CNT_IpInUnknownProtos, "ipv4",
                   "unknown protocol (RFC 1122 §3.2.2.1)");
        goto free;
    }

free:
    pkt_free(st, p);
}

/* ---- output ----------------------------------------------------------------- */

/* Build the 20-byte header in front of the payload at pkt_data(p).  false:
 * no headroom (cannot happen for buffers from pkt_alloc or received ones,
 * which keep the pulled Ethernet and IP headers' room). */
static bool ipv4_push_header(struct pkt *p, const struct ipv4_tx *tx, uint16_t id,
                             uint16_t frag_off, bool mf)
{
    uint16_t total = (uint16_t)(p->len + IPV4_HDR_LEN);
    struct ipv4_repr h = {
        .src = tx->src, .dst = tx->dst, .proto = tx->proto,
        .ttl = tx->ttl ? tx->ttl : IPV4_DEFAULT_TTL,   /* we never send TTL 0 */
        .tos = tx->tos, .id = id, .df = tx->df, .mf = mf, .frag_off = frag_off,
        .hdr_len = IPV4_HDR_LEN, .total_len = total,
    };
    uint8_t *b = pkt_push(p, IPV4_HDR_LEN);
    if (!b)
        return false;
    ipv4_emit(&h, b);
    return true;
}

/*
 * Fragmentation (RFC 791 §3.2, "An Example Fragmentation Procedure"): every
 * fragment but the last carries a multiple of 8 payload bytes and MF; the
 * offset is in 8-byte units; all share the identification.  Each fragment
 * is its own packet from the pool.  All of them are allocated before any is
 * sent, so that a full pool never puts half a datagram on the wire, and they
 * go to the neighbour layer as ONE chain (p->next, in order, all carrying
 * p->req): neigh_output sends, queues or refuses the chain as a whole and
 * does the tx_req bookkeeping (req->frames) itself (neigh.c).
 */
static int ipv4_fragment(struct wskstack *st, struct pkt *p, const struct ipv4_tx *tx,
                         uint16_t id, uint32_t nh, uint64_t now)
{
    uint32_t total = p->len;
    uint32_t chunk = (st->mtu - IPV4_HDR_LEN) & ~7u;
    uint32_t n = 0;
    struct pkt *first = NULL, **tail = &first;

    for (uint32_t off = 0; off < total; off += chunk) {
        uint32_t len = total - off < chunk ? total - off : chunk;
        struct pkt *f = pkt_alloc(st, IPV4_HDR_LEN + len);
        if (!f) {
            while (first) {
                struct pkt *nx = first->next;
                pkt_free(st, first);
                first = nx;
            }
            pkt_free(st, p);
            stack_drop(st, CNT_IpFragFails, "ipv4", "no packet buffer for a fragment");
            return -ENOBUFS;
        }
        memcpy(pkt_data(f), pkt_data(p) + off, len);
        f->len = len;
        f->req = p->req;
        f->next = NULL;
        ipv4_push_header(f, tx, id, (uint16_t)off, off + len < total); /* fresh: has room */
        *tail = f;
        tail = &f->next;
        n++;
    }
    CNT_INC(st, IpFragOKs);
    CNT_ADD(st, IpFragCreates, n);
    TRACE_F(st, TL_FRAG, TD_TX, "fragment",
            (&(struct trace_fields){.proto = TNUM(tx->proto), .len = TNUM(total + IPV4_HDR_LEN),
                                    .id = TNUM(id), .mtu = TNUM(st->mtu), .count = TNUM(n)}),
            "IPv4 payload of %u bytes does not fit MTU %u: %u fragments, id %u (RFC 791)",
            (unsigned)total, (unsigned)st->mtu, n, id);
    pkt_free(st, p);
    return neigh_output(st, first, nh, now);
}

/* "ipv4 tx send": the datagram as the header says, and where it goes. */
static void ipv4_trace_send(struct wskstack *st, const struct ipv4_tx *tx, uint32_t len,
                            uint16_t id, uint32_t nh, bool bcast)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN], n[TRACE_IP_LEN];
    unsigned ttl = tx->ttl ? tx->ttl : IPV4_DEFAULT_TTL;
    struct trace_fields f = {.src = trace_ip4(tx->src, s), .dst = trace_ip4(tx->dst, d),
                             .nexthop = trace_ip4(nh, n), .proto = TNUM(tx->proto),
                             .len = TNUM(len), .id = TNUM(id), .ttl = TNUM(ttl)};
    trace_event(st, TL_IPV4, TD_TX, "send", &f,
                "%s -> %s, proto %u, %u bytes, ttl %u, id %u: to %s%s (RFC 791)", s, d, tx->proto,
                (unsigned)len, ttl, id,
                bcast ? "the link broadcast " : ipv4_is_multicast(tx->dst) ? "the group " : "next hop ",
                n);
}

int ipv4_output(struct wskstack *st, struct pkt *p, const struct ipv4_tx *tx, uint64_t now)
{
    if (p->len > 0xffffu - IPV4_HDR_LEN) {
        /* RFC 791: a datagram is at most 65535 bytes. */
        stack_drop(st, CNT_IpOutDiscards, "ipv4", "datagram larger than 65535 bytes (RFC 791)");
        pkt_free(st, p);
        return -EMSGSIZE;
    }

    /* Broadcast and multicast destinations are not routed: the neighbour
     * layer maps them to ff:ff:ff:ff:ff:ff / 01:00:5e:.. without ARP
     * (RFC 1122 §3.3.6, RFC 1112 §6.4) when the next hop is the
     * destination itself. */
    bool bcast = ipv4_is_broadcast(st, tx->dst);
    uint32_t nh = tx->dst;
    uint16_t id;

    pthread_mutex_lock(&st->lock);
    if (!bcast && !ipv4_is_multicast(tx->dst)) {
        if (route4_lookup(st, tx->dst, &nh, NULL) < 0) {
            pthread_mutex_unlock(&st->lock);
            stack_drop(st, CNT_IpOutNoRoutes, "ipv4", "no route to destination (RFC 1122 §3.3.1)");
            pkt_free(st, p);
            return -ENETUNREACH;
        }
    }
    /* Identification (RFC 791, RFC 6864 §4, RFC 7739): a per-stack counter
     * that starts at a random value (seeded in route_init) and increments
     * once per datagram, so it is unique per (src, dst, proto) within the
     * maximum datagram lifetime at modest rates and not trivially guessable
     * by an off-path host before it has seen one of our packets.  A
     * per-destination randomized counter (RFC 7739 §5.3) is a later issue. */
    id = st->ip_id++;
    pthread_mutex_unlock(&st->lock);

    /* IP-MIB OutRequests: datagrams IP accepted for transmission (a routing
     * failure is counted as OutNoRoutes only, as Linux does). */
    CNT_INC(st, IpOutRequests);

    if (p->len + IPV4_HDR_LEN <= st->mtu) {
        if (!ipv4_push_header(p, tx, id, 0, false)) {
            stack_drop(st, CNT_IpOutDiscards, "ipv4", "no headroom for the IPv4 header");
            pkt_free(st, p);
            return -ENOBUFS;
        }
        p->next = NULL;       /* a chain of one */
        if (stack_trace_on(st, TRACE_IPV4))
            ipv4_trace_send(st, tx, p->len, id, nh, bcast);
        return neigh_output(st, p, nh, now);
    }
    if (tx->df) {
        /* RFC 791 §3.2: a DF datagram is never fragmented; the caller learns
         * it is too big (BAD-INPUT J.45: nothing is sent). */
        stack_drop(st, CNT_IpFragFails, "ipv4", "larger than the MTU with DF set (RFC 791 §3.2)");
        pkt_free(st, p);
        return -EMSGSIZE;
    }
    if (stack_trace_on(st, TRACE_IPV4))
        ipv4_trace_send(st, tx, p->len + IPV4_HDR_LEN, id, nh, bcast);
    return ipv4_fragment(st, p, tx, id, nh, now);
}
