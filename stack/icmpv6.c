/* SPDX-License-Identifier: MIT */
/*
 * icmpv6.c - ICMPv6 for a host (RFC 4443): echo replies, error messages
 * with the "never send an error about..." rules of §2.4(e), the size rule
 * of §2.4(c) and a rate limiter, Packet Too Big -> path MTU (RFC 8201), and
 * the hand-off of Neighbor Discovery messages to nd_input.c.
 *
 * Input (p at the ICMPv6 message), in order:
 *   Icmp6InMsgs (every message, as Linux counts it)
 *   shorter than 8 bytes                  -> Icmp6InErrors (G.34)
 *   bad checksum (RFC 8200 §8.1 pseudo-header, RFC 4443 §2.3)
 *                                         -> Icmp6InCsumErrors + Icmp6InErrors
 *   echo request (128)                    -> Icmp6InEchos, reply (below)
 *   echo reply (129)                      -> Icmp6InEchoReplies (no ping sockets yet)
 *   destination unreachable (1)           -> Icmp6InDestUnreachs  } telling the
 *   time exceeded (3)                     -> Icmp6InTimeExcds     } UDP socket is
 *   parameter problem (4)                 -> Icmp6InParmProblems  } a later issue
 *   packet too big (2)                    -> Icmp6InPktTooBigs; when it quotes a
 *                                            packet we could have sent (IPv6,
 *                                            >= 48 bytes, source one of ours) and
 *                                            reports >= 1280: pmtu6_update (E.35)
 *   RS/RA/NS/NA/Redirect (133-137)        -> nd_input (nd_input.c counts Icmp6In<type>
 *                                            and applies RFC 4861's checks)
 *   MLD (130-132, 143)                    -> ignored (traced): no MLD yet
 *   any other type                        -> Icmp6InErrors: an unknown
 *                                            informational message is discarded,
 *                                            an unknown error would go to the
 *                                            upper layer (§2.4(b)) - which has
 *                                            no way to hear it yet (G.34)
 *
 * Echo (RFC 4443 §4.2): the reply carries the identical identifier,
 * sequence number and data, is built in place in the request's buffer, and
 * reflects the Traffic Class (as Linux).  To a unicast request it comes from
 * the address the request was sent to (§2.2(a)); a request to a multicast
 * group IS answered (Linux's default, icmp_echo_ignore_multicast=0), from a
 * unicast address chosen by RFC 6724 for the requester (§2.2(b)).  Echo
 * replies are not rate-limited.
 *
 * Errors (icmpv6_send_error): never about an ICMPv6 error or a Redirect
 * (§2.4(e.1, e.2)), a packet to a multicast address or sent as link-layer
 * multicast (§2.4(e.3, e.4), except Packet Too Big and Parameter Problem
 * code 2 for an option whose action bits are 10 - allow_mcast), or a packet
 * whose source is not a single node (::, multicast, loopback, IPv4-mapped:
 * §2.4(e.6)).  The quote is truncated so the whole error packet is at most
 * 1280 bytes (§2.4(c), G.33).  Rate limiting (§2.4(f)): the token bucket of
 * icmp.c (1000/s, burst 50), its own for IPv6 (st->icmp6); suppressed errors
 * count in Icmp6OutRateLimitHost.
 *
 * Counting: nd_input.c counts the ND types it receives, nd_send.c the ND messages it
 * builds and sends itself; icmpv6_send (for other callers) counts
 * Icmp6OutMsgs and the per-type Icmp6Out* of what it sends.
 *
 * Locking: the rate limiter is guarded by st->lock; nothing else here needs
 * a lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/ipv6_impl.h"
#include "stack/echo.h"

int icmpv6_init(struct wskstack *st)
{
    return icmp_ratelimit_new(&st->icmp6);
}

void icmpv6_fini(struct wskstack *st)
{
    free(st->icmp6);
    st->icmp6 = NULL;
}

/* RFC 4443 §2.4(e.6): a source that "does not uniquely identify a single
 * node" - and the addresses that never appear on the wire at all. */
static bool icmpv6_src_is_node(const uint8_t a[16])
{
    return !ipv6_is_unspecified(a) && !ipv6_is_multicast(a) && !ipv6_is_loopback(a) &&
           !ipv6_is_v4mapped(a);
}

/* Is `pkt` (an invoking packet, maybe truncated to len) an ICMPv6 error or
 * a Redirect - or an ICMPv6 message whose type cannot be read?  A lenient
 * walk of the extension headers bounded by len (the packet may be cut). */
static bool icmpv6_about_error(const uint8_t *pkt, size_t len)
{
    size_t off = IPV6_HDR_LEN;
    uint8_t nh = pkt[IPV6_OFF_NEXT_HEADER];
    for (unsigned i = 0; i <= IPV6_EXT_MAX_HDRS; i++) {
        if (nh == IP_PROTO_HOPOPTS || nh == IP_PROTO_ROUTING || nh == IP_PROTO_DSTOPTS) {
            if (off + 2 > len)
                return false;   /* cut before the upper layer: not known to be ICMPv6 */
            uint8_t next = pkt[off];
            off += ((size_t)pkt[off + 1] + 1) * 8;
            nh = next;
        } else if (nh == IP_PROTO_FRAGMENT) {
            struct frag_repr f;
            if (ipv6_frag_parse(pkt + off, len > off ? len - off : 0, &f) != WIRE_OK)
                return false;
            if (f.offset != 0)   /* the upper-layer header is not in this fragment */
                return f.next_header == IP_PROTO_ICMPV6;
            off += IPV6_FRAG_HDR_LEN;
            nh = f.next_header;
        } else {
            break;
        }
    }
    if (nh != IP_PROTO_ICMPV6)
        return false;
    if (off >= len)
        return true;            /* ICMPv6 of unknown type: treat as an error (as Linux) */
    return icmpv6_is_error(pkt[off]) || pkt[off] == ICMPV6_ND_REDIRECT;
}

void icmpv6_send_error(struct wskstack *st, uint8_t type, uint8_t code, uint32_t param,
                       const uint8_t *orig, size_t orig_len, bool link_mcast, bool allow_mcast,
                       uint64_t now)
{
    if (orig_len < IPV6_HDR_LEN)
        return;
    const uint8_t *osrc = orig + IPV6_OFF_SRC, *odst = orig + IPV6_OFF_DST;

    /* RFC 4443 §2.4(e): an error message MUST NOT be originated as a
     * result of receiving ... (G.32) */
    bool mcast_ok = type == ICMPV6_PKT_TOO_BIG ||
                    (type == ICMPV6_PARAM_PROBLEM && code == ICMPV6_PP_OPTION && allow_mcast);
    const char *why = NULL;
    if (icmpv6_about_error(orig, orig_len))
        why = "an ICMPv6 error or Redirect (§2.4(e.1, e.2))";
    else if (ipv6_is_multicast(odst) && !mcast_ok)
        why = "a packet to a multicast address (§2.4(e.3))";
    else if (link_mcast && !mcast_ok)
        why = "a packet sent as link-layer multicast (§2.4(e.4))";
    else if (!icmpv6_src_is_node(osrc))
        why = "a packet whose source is not a single node (§2.4(e.6))";
    if (why) {
        TRACE_F(st, TL_ICMPV6, TD_TX, "no-error",
                (&(struct trace_fields){.type = TNUM(type), .code = TNUM(code)}),
                "no error type %u code %u sent about %s (RFC 4443)", type, code, why);
        return;
    }

    pthread_mutex_lock(&st->lock);
    bool allowed = icmp_ratelimit_allow(st->icmp6, now);
    pthread_mutex_unlock(&st->lock);
    if (!allowed) {
        stack_drop(st, CNT_Icmp6OutRateLimitHost, "icmpv6", "error rate limit (RFC 4443 §2.4(f))");
        return;
    }

    /* RFC 4443 §2.2: from the address the packet was sent to when it is one
     * of our unicast addresses, else a unicast address chosen for the
     * destination (RFC 6724). */
    uint8_t src[16];
    if (!ipv6_is_multicast(odst) && addr6_is_local(st, odst, true)) {
        memcpy(src, odst, 16);
    } else if (addr6_select_source(st, osrc, src, NULL) < 0) {
        stack_drop(st, CNT_Icmp6OutErrors, "icmpv6", "no source address for an error (RFC 4443 §2.2)");
        return;
    }

    /* §2.4(c): as much of the invoking packet as fits in 1280 bytes. */
    size_t qlen = icmpv6_error_quote_len(orig_len);
    struct pkt *p = pkt_alloc(st, (uint32_t)(ICMPV6_HDR_LEN + qlen));
    if (!p) {
        stack_drop(st, CNT_Icmp6OutErrors, "icmpv6", "no packet buffer for an error message");
        return;
    }
    uint8_t *b = pkt_data(p);
    memcpy(b + ICMPV6_HDR_LEN, orig, qlen);
    p->len = (uint32_t)(ICMPV6_HDR_LEN + qlen);
    struct icmpv6_repr r = {.type = type, .code = code, .rest = param,
                            .data = b + ICMPV6_HDR_LEN, .data_len = qlen};
    icmpv6_emit(&r, b, src, osrc);

    struct ipv6_tx tx = {.next_header = IP_PROTO_ICMPV6};
    memcpy(tx.src, src, 16);
    memcpy(tx.dst, osrc, 16);
    if (stack_trace_on(st, TRACE_ICMPV6)) {
        char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
        struct trace_fields f = {.src = trace_ip6(src, s), .dst = trace_ip6(osrc, d),
                                 .type = TNUM(type), .code = TNUM(code), .len = TNUM(p->len)};
        trace_event(st, TL_ICMPV6, TD_TX, "error", &f,
                    "error type %u code %u to %s from %s, quoting %u bytes (RFC 4443 §2.4(c))", type,
                    code, d, s, (unsigned)qlen);
    }
    if (ipv6_output(st, p, &tx, now) < 0) {
        CNT_INC(st, Icmp6OutErrors);
        return;
    }
    CNT_INC(st, Icmp6OutMsgs);
    switch (type) {
    case ICMPV6_DEST_UNREACH: CNT_INC(st, Icmp6OutDestUnreachs); break;
    case ICMPV6_PKT_TOO_BIG: CNT_INC(st, Icmp6OutPktTooBigs); break;
    case ICMPV6_TIME_EXCEEDED: CNT_INC(st, Icmp6OutTimeExcds); break;
    case ICMPV6_PARAM_PROBLEM: CNT_INC(st, Icmp6OutParmProblems); break;
    default: break;
    }
}

int icmpv6_send(struct wskstack *st, const uint8_t src[16], const uint8_t dst[16],
                uint8_t hop_limit, const uint8_t *body, size_t body_len, uint64_t now)
{
    if (body_len < ICMPV6_HDR_LEN || body_len > 0xffffu)
        return -EINVAL;
    struct pkt *p = pkt_alloc(st, (uint32_t)body_len);
    if (!p) {
        stack_drop(st, CNT_Icmp6OutErrors, "icmpv6", "no packet buffer");
        return -ENOBUFS;
    }
    uint8_t *b = pkt_data(p);
    memcpy(b, body, body_len);
    p->len = (uint32_t)body_len;
    icmpv6_csum_fill(b, body_len, src, dst);
    uint8_t type = b[0];

    /* src is used as given: :: is a DAD probe's source (RFC 4862 §5.4.2). */
    struct ipv6_tx tx = {.next_header = IP_PROTO_ICMPV6, .hop_limit = hop_limit,
                         .src_unspecified = ipv6_is_unspecified(src)};
    memcpy(tx.src, src, 16);
    memcpy(tx.dst, dst, 16);
    int rc = ipv6_output(st, p, &tx, now);
    if (rc < 0) {
        CNT_INC(st, Icmp6OutErrors);
        return rc;
    }
    CNT_INC(st, Icmp6OutMsgs);
    switch (type) {
    case ICMPV6_ECHO_REQUEST: CNT_INC(st, Icmp6OutEchos); break;
    case ICMPV6_ECHO_REPLY: CNT_INC(st, Icmp6OutEchoReplies); break;
    case ICMPV6_ND_RS: CNT_INC(st, Icmp6OutRouterSolicits); break;
    case ICMPV6_ND_NS: CNT_INC(st, Icmp6OutNeighborSolicits); break;
    case ICMPV6_ND_NA: CNT_INC(st, Icmp6OutNeighborAdvertisements); break;
    default: break;
    }
    return rc;
}

/* ---- input ------------------------------------------------------------------------ */

static void icmpv6_echo(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip,
                        struct icmpv6_repr *r, uint64_t now)
{
    CNT_INC(st, Icmp6InEchos);
    if (!icmpv6_src_is_node(ip->src)) {
        /* From :: there is nobody to answer (RFC 4443 §2.2). */
        TRACE_F(st, TL_ICMPV6, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r->type), .id = TNUM(r->rest >> 16),
                                        .seq = TNUM(r->rest & 0xffff)}),
                "echo request from ::, not answered (RFC 4443 §2.2)");
        pkt_free(st, p);
        return;
    }
    uint8_t src[16];
    if (!ipv6_is_multicast(ip->dst)) {
        memcpy(src, ip->dst, 16);   /* §4.2 + §2.2(a): the address it was sent to */
    } else if (addr6_select_source(st, ip->src, src, NULL) < 0) {
        /* §4.2: to a multicast group, from a unicast address of ours. */
        stack_drop(st, CNT_Icmp6OutErrors, "icmpv6", "no unicast source for a reply to multicast (RFC 4443 §4.2)");
        pkt_free(st, p);
        return;
    }
    /* §4.2: type 129, the same identifier, sequence number and data;
     * r->data is pkt_data(p) + 8, so the header is rewritten in place. */
    r->type = ICMPV6_ECHO_REPLY;
    r->code = 0;
    icmpv6_emit(r, pkt_data(p), src, ip->src);
    struct ipv6_tx tx = {.next_header = IP_PROTO_ICMPV6, .tclass = ip->traffic_class};
    memcpy(tx.src, src, 16);
    memcpy(tx.dst, ip->src, 16);
    /* The decision first, then what the layers below do with it. */
    if (stack_trace_on(st, TRACE_ICMPV6)) {
        char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
        struct trace_fields f = {.src = trace_ip6(tx.src, s), .dst = trace_ip6(tx.dst, d),
                                 .type = TNUM(ICMPV6_ECHO_REPLY), .code = TNUM(0),
                                 .id = TNUM(r->rest >> 16), .seq = TNUM(r->rest & 0xffff),
                                 .len = TNUM(p->len)};
        trace_event(st, TL_ICMPV6, TD_TX, "echo-reply", &f,
                    "echo reply to %s from %s, id %u seq %u (RFC 4443 §4.2)", d, s, r->rest >> 16,
                    r->rest & 0xffff);
    }
    int rc = ipv6_output(st, p, &tx, now);
    if (rc >= 0) {
        CNT_INC(st, Icmp6OutMsgs);
        CNT_INC(st, Icmp6OutEchoReplies);
    } else {
        CNT_INC(st, Icmp6OutErrors);
    }
}

/* RFC 8201 §4 / §5.2, RFC 4443 §3.2: a Packet Too Big about a packet we
 * could have sent lowers the path MTU toward its destination. */
static void icmpv6_ptb(struct wskstack *st, const struct icmpv6_repr *r, uint64_t now)
{
    const uint8_t *q = r->data;
    /* V5: the quote must hold the whole IPv6 header and the first 8 bytes
     * of what followed (any router quotes "as much as fits"). */
    const char *why = NULL;
    if (r->data_len < IPV6_HDR_LEN + 8 || (q[0] >> 4) != 6)
        why = "quoting no IPv6 packet: ignored (E.35)";
    else if (!addr6_is_local(st, q + IPV6_OFF_SRC, false))
        why = "about a packet we did not send: ignored (E.35)";
    else if (r->rest < IPV6_MIN_MTU)
        /* RFC 8201 §4: "it must discard it" (no atomic fragments, RFC 8021). */
        why = "reporting less than 1280: discarded (RFC 8201 §4)";
    if (why) {
        TRACE_F(st, TL_ICMPV6, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r->type), .code = TNUM(r->code),
                                        .mtu = TNUM(r->rest)}),
                "packet too big, MTU %u, %s", r->rest, why);
        return;
    }
    pmtu6_update(st, q + IPV6_OFF_DST, r->rest, now);
}

void icmpv6_input(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip,
                  bool link_mcast, bool fragmented, uint64_t now)
{
    struct icmpv6_repr r;
    (void)link_mcast;

    CNT_INC(st, Icmp6InMsgs);
    switch (icmpv6_parse(pkt_data(p), p->len, ip->src, ip->dst, &r, true)) {
    case WIRE_OK:
        if (stack_trace_on(st, TRACE_ICMPV6)) {
            char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
            struct trace_fields f = {.src = trace_ip6(ip->src, s), .dst = trace_ip6(ip->dst, d),
                                     .rule = "ok", .type = TNUM(r.type), .code = TNUM(r.code),
                                     .len = TNUM(p->len)};
            trace_event(st, TL_ICMPV6, TD_RX, "csum", &f,
                        "type %u code %u: checksum ok (RFC 4443 §2.3)", r.type, r.code);
        }
        break;
    case WIRE_BAD_CHECKSUM:
        CNT_INC(st, Icmp6InCsumErrors);
        stack_drop(st, CNT_Icmp6InErrors, "icmpv6", "bad checksum (RFC 4443 §2.3, G.34)");
        TRACE_F(st, TL_ICMPV6, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r.type), .code = TNUM(r.code)}),
                "time exceeded code %u: counted, not passed on", r.code);
        goto free;
    default:
        stack_drop(st, CNT_Icmp6InErrors, "icmpv6", "shorter than 8 bytes (RFC 4443 §2.1, G.34)");
        goto free;
    }

    switch (r.type) {
    case ICMPV6_ECHO_REQUEST:
        icmpv6_echo(st, p, ip, &r, now);
        return;
    case ICMPV6_ECHO_REPLY:
        CNT_INC(st, Icmp6InEchoReplies);
        echo_icmpv6_input(st, ip, &r, now); /* ping handles (echo.c, which traces it) */
        goto free;
    case ICMPV6_DEST_UNREACH:
        CNT_INC(st, Icmp6InDestUnreachs);
        echo_icmpv6_input(st, ip, &r, now); /* ping handles (echo.c), once counted */
        TRACE_F(st, TL_ICMPV6, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r.type), .code = TNUM(r.code)}),
                "destination unreachable code %u: counted, not passed to UDP", r.code);
        goto free;
    case ICMPV6_PKT_TOO_BIG:
        CNT_INC(st, Icmp6InPktTooBigs);
        echo_icmpv6_input(st, ip, &r, now); /* ping handles (echo.c), once counted */
        icmpv6_ptb(st, &r, now);
        goto free;
    case ICMPV6_TIME_EXCEEDED:
        CNT_INC(st, Icmp6InTimeExcds);
        echo_icmpv6_input(st, ip, &r, now); /* ping handles (echo.c), once counted */
        goto free;
    case ICMPV6_PARAM_PROBLEM:
        CNT_INC(st, Icmp6InParmProblems);
        echo_icmpv6_input(st, ip, &r, now); /* ping handles (echo.c), once counted */
        TRACE_F(st, TL_ICMPV6, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r.type), .code = TNUM(r.code)}),
                "parameter problem code %u pointer %u: counted, not passed on", r.code, r.rest);
        goto free;
    case ICMPV6_ND_RS:
    case ICMPV6_ND_RA:
    case ICMPV6_ND_NS:
    case ICMPV6_ND_NA:
    case ICMPV6_ND_REDIRECT:
        nd_input(st, p, ip, fragmented, now);   /* counts Icmp6In<type>; consumes p */
        return;
    case ICMPV6_MLD_QUERY:
    case ICMPV6_MLD_REPORT:
    case ICMPV6_MLD_DONE:
    case ICMPV6_MLD2_REPORT:
        TRACE_F(st, TL_ICMPV6, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r.type), .code = TNUM(r.code)}),
                "MLD type %u ignored (no MLD yet)", r.type);
        goto free;
    default:
        stack_drop(st, CNT_Icmp6InErrors, "icmpv6",
                   icmpv6_is_error(r.type)
                       ? "unknown error type: no upper layer to tell (RFC 4443 §2.4(b), G.34)"
                       : "unknown informational type: discarded (RFC 4443 §2.4(b), G.34)");
        goto free;
    }
free:
    pkt_free(st, p);
}
