/* SPDX-License-Identifier: MIT */
/*
 * IPv6 extension headers (RFC 8200 §4).
 *
 * Hop-by-Hop (0), Destination Options (60), Routing (43):
 *   0 next header  1 Hdr Ext Len (8-byte units, not counting the first 8)
 *   2 type-specific (options TLVs; Routing: 2 type, 3 segments left)
 * Fragment (44), always 8 bytes:
 *   0 next header  1 reserved  2 offset(13)|res(2)|M(1)  4 identification
 * Options TLV (§4.2): 0 type  1 length of data  2 data; Pad1 is 1 byte.
 *
 * Safety of the loops (BAD-INPUT V2): offsets are 32-bit, never 8-bit, a
 * header step is >= 8 bytes, an option step >= 1 byte, and no byte at or
 * past `end` is read.
 */
#include "stack/wire/wire6.h"

/* field offsets */
#define EXT_OFF_NEXT_HEADER 0
#define EXT_OFF_LEN 1
#define RH_OFF_TYPE 2
#define RH_OFF_SEGMENTS_LEFT 3
#define FRAG_OFF_OFFSET_M 2
#define FRAG_OFF_IDENT 4
#define FRAG_OFFSET_MASK 0xfff8 /* offset in 8-byte units, already x8 in place */
#define FRAG_M 0x0001

#define IPV6_MAX_PACKET 65535u /* RFC 8200 §4.5: reassembled payload limit */

const char *ipv6_ext_reason_str(enum ipv6_ext_reason r)
{
    switch (r) {
    case IPV6_EXT_OK: return "ok";
    case IPV6_EXT_TRUNCATED: return "extension header truncated";
    case IPV6_EXT_HBH_NOT_FIRST: return "hop-by-hop not first";
    case IPV6_EXT_TOO_MANY: return "too many extension headers";
    case IPV6_EXT_TOO_LONG: return "extension headers too long";
    case IPV6_EXT_OPT_TRUNCATED: return "option truncated";
    case IPV6_EXT_OPT_BAD_LEN: return "option bad length";
    case IPV6_EXT_OPT_DISCARD: return "unknown option (discard)";
    case IPV6_EXT_OPT_UNKNOWN: return "unknown option";
    case IPV6_EXT_ROUTING: return "routing header with segments left";
    case IPV6_EXT_FRAG_BAD_LEN: return "fragment length not a multiple of 8";
    case IPV6_EXT_FRAG_TOO_BIG: return "fragment beyond 65535";
    case IPV6_EXT_FRAG_EMPTY: return "empty fragment";
    case IPV6_EXT_FRAG_INCOMPLETE: return "first fragment without header chain";
    }
    return "unknown extension header reason";
}

/* ---- Fragment header ------------------------------------------------------ */

enum wire_err ipv6_frag_parse(const uint8_t *buf, size_t len, struct frag_repr *out)
{
    if (len < IPV6_FRAG_HDR_LEN)
        return WIRE_TRUNCATED;
    uint16_t om = be16(buf + FRAG_OFF_OFFSET_M);
    out->next_header = buf[EXT_OFF_NEXT_HEADER];
    out->offset = om & FRAG_OFFSET_MASK; /* units of 8 in bits 15..3 = bytes */
    out->more = (om & FRAG_M) != 0;
    out->ident = be32(buf + FRAG_OFF_IDENT);
    return WIRE_OK;
}

void ipv6_frag_emit(const struct frag_repr *r, uint8_t *buf)
{
    buf[EXT_OFF_NEXT_HEADER] = r->next_header;
    buf[1] = 0; /* reserved: "initialized to zero for transmission" */
    put_be16(buf + FRAG_OFF_OFFSET_M,
             (uint16_t)((r->offset & FRAG_OFFSET_MASK) | (r->more ? FRAG_M : 0)));
    put_be32(buf + FRAG_OFF_IDENT, r->ident);
}

void ipv6_hbh_router_alert_emit(uint8_t *buf, uint8_t next_header, uint16_t value)
{
    buf[EXT_OFF_NEXT_HEADER] = next_header;
    buf[EXT_OFF_LEN] = 0;            /* 8 bytes */
    buf[2] = IPV6_OPT_ROUTER_ALERT;  /* RFC 2711 §2.1 */
    buf[3] = 2;
    put_be16(buf + 4, value);
    buf[6] = IPV6_OPT_PADN;          /* two bytes left: PadN with no data */
    buf[7] = 0;
}

/* ---- the structural iterator ----------------------------------------------- */

static bool is_ext_header(uint8_t nh)
{
    return nh == IP_PROTO_HOPOPTS || nh == IP_PROTO_ROUTING || nh == IP_PROTO_FRAGMENT ||
           nh == IP_PROTO_DSTOPTS;
}

void ipv6_ext_iter_init(struct ipv6_ext_iter *it, const uint8_t *pkt, size_t len)
{
    it->pkt = pkt;
    it->off = IPV6_HDR_LEN;
    it->nh_off = IPV6_OFF_NEXT_HEADER;
    it->n_hdrs = 0;
    it->ext_bytes = 0;
    it->reason = IPV6_EXT_OK;
    it->pointer = 0;
    /* A span that does not hold the whole payload is caught here, so the
     * walk itself never needs `len` again (ipv6_parse() checked this
     * already; the iterator does not rely on it). */
    if (len < IPV6_HDR_LEN) {
        it->end = 0;
        it->nh = IP_PROTO_NONE;
        it->reason = IPV6_EXT_TRUNCATED;
        it->pointer = IPV6_OFF_PAYLOAD_LEN;
        return;
    }
    it->end = IPV6_HDR_LEN + (uint32_t)be16(pkt + IPV6_OFF_PAYLOAD_LEN);
    it->nh = pkt[IPV6_OFF_NEXT_HEADER];
    if (it->end > len) {
        it->end = 0;
        it->reason = IPV6_EXT_TRUNCATED;
        it->pointer = IPV6_OFF_PAYLOAD_LEN;
    }
}

/* Stop the walk with an error; the iterator stays stopped. */
static bool iter_fail(struct ipv6_ext_iter *it, enum ipv6_ext_reason r, uint32_t pointer)
{
    it->reason = r;
    it->pointer = pointer;
    it->end = 0;
    return false;
}

bool ipv6_ext_next(struct ipv6_ext_iter *it, struct ipv6_ext_hdr *h)
{
    if (it->reason != IPV6_EXT_OK || it->end == 0 || !is_ext_header(it->nh))
        return false; /* stopped, or at the upper layer */

    /* RFC 8200 §4.3: "The Hop-by-Hop Options header, when present, must
     * immediately follow the IPv6 header"; §4: elsewhere it is an
     * unrecognised Next Header: Param Problem code 1 pointing at the Next
     * Header byte that named it (BAD-INPUT E.26). */
    if (it->nh == IP_PROTO_HOPOPTS && it->off != IPV6_HDR_LEN)
        return iter_fail(it, IPV6_EXT_HBH_NOT_FIRST, it->nh_off);
    /* RFC 8504 §5.3: our limit on the number of extension headers. */
    if (it->n_hdrs >= IPV6_EXT_MAX_HDRS)
        return iter_fail(it, IPV6_EXT_TOO_MANY, it->off);
    /* The first 2 bytes (Next Header, Hdr Ext Len) must be in the payload. */
    if (it->off + 2 > it->end)
        return iter_fail(it, IPV6_EXT_TRUNCATED, it->off);
    const uint8_t *p = it->pkt + it->off;
    /* RFC 8200 §4.3-4.5: (Hdr Ext Len + 1) * 8 bytes; the Fragment header
     * has a reserved byte there and is always 8. */
    uint32_t hlen = it->nh == IP_PROTO_FRAGMENT ? IPV6_FRAG_HDR_LEN
                                                 : ((uint32_t)p[EXT_OFF_LEN] + 1) * 8;
    /* RFC 8504 §5.3: our limit on the bytes of extension headers. */
    if (it->ext_bytes + hlen > IPV6_EXT_MAX_BYTES)
        return iter_fail(it, IPV6_EXT_TOO_LONG, it->off);
    /* The whole header inside the payload (V2: picoTCP CVE-2020-17445). */
    if (it->off + hlen > it->end)
        return iter_fail(it, IPV6_EXT_TRUNCATED, it->off + EXT_OFF_LEN);

    h->type = it->nh;
    h->next_header = p[EXT_OFF_NEXT_HEADER];
    h->off = (uint16_t)it->off;
    h->len = (uint16_t)hlen;
    h->nh_off = (uint16_t)it->nh_off;
    h->p = p;

    it->n_hdrs++;
    it->ext_bytes += hlen;
    it->nh_off = it->off + EXT_OFF_NEXT_HEADER;
    it->nh = p[EXT_OFF_NEXT_HEADER];
    it->off += hlen; /* >= 8: always advances */
    return true;
}

/* ---- the full walk ------------------------------------------------------- */

static enum ipv6_ext_reason walk_fail(struct ipv6_ext_result *res, enum ipv6_ext_reason r,
                                      enum ipv6_ext_action act, uint8_t code, uint32_t pointer)
{
    res->reason = r;
    res->action = act;
    res->pp_code = code;
    res->pointer = pointer;
    return r;
}

/* Map an iterator error to the action of the walk. */
static enum ipv6_ext_reason iter_error(struct ipv6_ext_result *res, const struct ipv6_ext_iter *it)
{
    switch (it->reason) {
    case IPV6_EXT_HBH_NOT_FIRST:
        return walk_fail(res, it->reason, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER,
                         it->pointer);
    case IPV6_EXT_TOO_MANY:
        /* RFC 8883 §2.1.4 names the code; we drop without sending it. */
        return walk_fail(res, it->reason, IPV6_ACT_DROP, ICMPV6_PP_TOO_MANY_EXT, it->pointer);
    case IPV6_EXT_TOO_LONG:
        return walk_fail(res, it->reason, IPV6_ACT_DROP, ICMPV6_PP_CHAIN_TOO_LONG, it->pointer);
    default:
        /* Truncated: nothing trustworthy to point at; drop (as Linux). */
        return walk_fail(res, it->reason, IPV6_ACT_DROP, ICMPV6_PP_HEADER, it->pointer);
    }
}

/* The option TLVs of one Hop-by-Hop or Destination Options header. */
static enum ipv6_ext_reason walk_options(struct ipv6_ext_result *res, const uint8_t *pkt,
                                         const struct ipv6_ext_hdr *h)
{
    uint32_t off = h->off + 2u;
    uint32_t end = (uint32_t)h->off + h->len;
    while (off < end) {
        uint8_t type = pkt[off];
        /* RFC 8200 §4.2: Pad1 is a single byte without length. */
        if (type == IPV6_OPT_PAD1) {
            off++;
            continue;
        }
        /* Type and length bytes, then the data, inside the header (V2:
         * option length 254/255 must not wrap an 8-bit counter). */
        if (off + 2 > end)
            return walk_fail(res, IPV6_EXT_OPT_TRUNCATED, IPV6_ACT_DROP, ICMPV6_PP_HEADER, off);
        uint32_t olen = 2u + pkt[off + 1];
        if (off + olen > end)
            return walk_fail(res, IPV6_EXT_OPT_TRUNCATED, IPV6_ACT_DROP, ICMPV6_PP_HEADER,
                             off + 1);
        if (type == IPV6_OPT_PADN) {
            /* skip */
        } else if (type == IPV6_OPT_ROUTER_ALERT && h->type == IP_PROTO_HOPOPTS) {
            /* RFC 2711 §2.1: Opt Data Len is 2. */
            if (olen != 4)
                return walk_fail(res, IPV6_EXT_OPT_BAD_LEN, IPV6_ACT_DROP, ICMPV6_PP_HEADER,
                                 off + 1);
            res->router_alert = true;
            res->router_alert_value = be16(pkt + off + 2);
        } else {
            /* RFC 8200 §4.2: an unrecognised option is handled by the two
             * high-order bits of its type (BAD-INPUT E.27). */
            switch (IPV6_OPT_ACTION(type)) {
            case IPV6_OPT_ACT_SKIP:
                break;
            case IPV6_OPT_ACT_DISCARD:
                return walk_fail(res, IPV6_EXT_OPT_DISCARD, IPV6_ACT_DROP, ICMPV6_PP_OPTION, off);
            case IPV6_OPT_ACT_PP:
                /* "regardless of whether or not the packet's Destination
                 * Address was a multicast address" - RFC 4443 §2.4(e.3). */
                res->pp_mcast_ok = true;
                return walk_fail(res, IPV6_EXT_OPT_UNKNOWN, IPV6_ACT_PARAM_PROBLEM,
                                 ICMPV6_PP_OPTION, off);
            default: /* 11: "only if the packet's Destination Address was not a
                      * multicast address" */
                return walk_fail(res, IPV6_EXT_OPT_UNKNOWN,
                                 ipv6_is_multicast(pkt + IPV6_OFF_DST) ? IPV6_ACT_DROP
                                                                       : IPV6_ACT_PARAM_PROBLEM,
                                 ICMPV6_PP_OPTION, off);
            }
        }
        off += olen; /* >= 2 */
    }
    return IPV6_EXT_OK;
}

/* Minimum upper-layer header of a first fragment (RFC 7112 §5): the headers
 * we parse; unknown protocols need nothing beyond their Next Header value. */
static uint32_t upper_min_len(uint8_t proto)
{
    switch (proto) {
    case IP_PROTO_UDP: return UDP_HDR_LEN;
    case IP_PROTO_ICMPV6: return ICMPV6_HDR_LEN;
    case IP_PROTO_TCP: return 20;
    default: return 0;
    }
}

/* RFC 7112 §5: the first fragment must hold every extension header and the
 * upper-layer header.  `it` stands just after the Fragment header, with its
 * Next Header as the current type.  Returns OK, FRAG_INCOMPLETE when the
 * chain or the upper-layer header is cut by the end of the fragment, or the
 * iterator's own error (HBH not first, limits) found on the way. */
static enum ipv6_ext_reason first_fragment_check(struct ipv6_ext_iter *it)
{
    struct ipv6_ext_hdr h;
    while (ipv6_ext_next(it, &h)) {
    }
    if (it->reason == IPV6_EXT_TRUNCATED)
        return IPV6_EXT_FRAG_INCOMPLETE;
    if (it->reason != IPV6_EXT_OK)
        return it->reason;
    if (it->off + upper_min_len(it->nh) > it->end)
        return IPV6_EXT_FRAG_INCOMPLETE;
    return IPV6_EXT_OK;
}

enum ipv6_ext_reason ipv6_ext_walk(const uint8_t *pkt, size_t len, struct ipv6_ext_result *res)
{
    *res = (struct ipv6_ext_result){ .reason = IPV6_EXT_OK, .action = IPV6_ACT_ACCEPT };
    struct ipv6_ext_iter it;
    struct ipv6_ext_hdr h;
    ipv6_ext_iter_init(&it, pkt, len);

    while (ipv6_ext_next(&it, &h)) {
        res->n_hdrs = it.n_hdrs;
        enum ipv6_ext_reason r;
        switch (h.type) {
        case IP_PROTO_HOPOPTS:
        case IP_PROTO_DSTOPTS:
            r = walk_options(res, pkt, &h);
            if (r != IPV6_EXT_OK)
                return r;
            break;
        case IP_PROTO_ROUTING: {
            uint8_t type = h.p[RH_OFF_TYPE], left = h.p[RH_OFF_SEGMENTS_LEFT];
            /* RFC 8200 §4.4: Segments Left 0 -> ignore the header and go
             * on; otherwise an unrecognised type (we recognise none; RH0 is
             * deprecated by RFC 5095 §3) -> Param Problem code 0 pointing at
             * the Routing Type (BAD-INPUT E.28, V6). */
            if (left != 0)
                return walk_fail(res, IPV6_EXT_ROUTING, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_HEADER,
                                 (uint32_t)h.off + RH_OFF_TYPE);
            res->has_routing = true;
            res->routing_type = type;
            res->segments_left = left;
            break;
        }
        case IP_PROTO_FRAGMENT: {
            struct frag_repr f;
            (void)ipv6_frag_parse(h.p, h.len, &f); /* h.len == 8 */
            res->frag = f;
            res->frag_hdr_off = h.off;
            /* RFC 6946 §4: an atomic fragment is processed in isolation,
             * as a whole packet: the walk continues. */
            if (frag_is_atomic(&f)) {
                res->frag_kind = IPV6_ATOMIC_FRAGMENT;
                break;
            }
            uint32_t data_off = (uint32_t)h.off + IPV6_FRAG_HDR_LEN;
            uint32_t data_len = it.end - data_off;
            /* RFC 8200 §4.5: M=1 and a length that is not a multiple of 8
             * -> Param Problem 0 pointing at the Payload Length. */
            if (f.more && data_len % 8 != 0)
                return walk_fail(res, IPV6_EXT_FRAG_BAD_LEN, IPV6_ACT_PARAM_PROBLEM,
                                 ICMPV6_PP_HEADER, IPV6_OFF_PAYLOAD_LEN);
            /* RFC 8200 §4.5: a reassembled payload beyond 65535 -> Param
             * Problem 0 pointing at the Fragment Offset (V4, Ping of Death). */
            if ((uint32_t)f.offset + data_len > IPV6_MAX_PACKET)
                return walk_fail(res, IPV6_EXT_FRAG_TOO_BIG, IPV6_ACT_PARAM_PROBLEM,
                                 ICMPV6_PP_HEADER, (uint32_t)h.off + FRAG_OFF_OFFSET_M);
            /* BAD-INPUT D.19: a fragment carrying nothing is dropped. */
            if (data_len == 0)
                return walk_fail(res, IPV6_EXT_FRAG_EMPTY, IPV6_ACT_DROP, ICMPV6_PP_HEADER,
                                 IPV6_OFF_PAYLOAD_LEN);
            /* RFC 7112 §5: the first fragment carries the whole chain, else
             * discard and MAY send Param Problem code 3 with pointer 0. */
            if (f.offset == 0) {
                r = first_fragment_check(&it);
                if (r == IPV6_EXT_FRAG_INCOMPLETE)
                    return walk_fail(res, r, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_FIRST_FRAG, 0);
                if (r != IPV6_EXT_OK)
                    return iter_error(res, &it);
            }
            /* RFC 8200 §4.5: what follows is processed after reassembly. */
            res->frag_kind = IPV6_FRAGMENT;
            res->proto = f.next_header;
            res->offset = (uint16_t)data_off;
            res->nh_off = (uint16_t)h.off;
            return IPV6_EXT_OK;
        }
        default:
            break;
        }
    }
    if (it.reason != IPV6_EXT_OK)
        return iter_error(res, &it);
    res->proto = it.nh;
    res->offset = (uint16_t)it.off;
    res->nh_off = (uint16_t)it.nh_off;
    return IPV6_EXT_OK;
}
