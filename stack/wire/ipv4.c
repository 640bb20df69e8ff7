/* SPDX-License-Identifier: MIT */
/*
 * IPv4 header (RFC 791 §3.1).
 *
 *   0 ver|ihl  1 tos  2 total length   4 identification  6 flags|frag offset
 *   8 ttl      9 proto  10 header checksum  12 source  16 destination
 *   20 options (IHL*4 - 20 bytes) ... payload up to total length
 */
#include "stack/wire/wire.h"

/* field offsets */
#define IPV4_OFF_VER_IHL 0
#define IPV4_OFF_TOS 1
#define IPV4_OFF_TOTAL_LEN 2
#define IPV4_OFF_ID 4
#define IPV4_OFF_FLAGS_FRAG 6
#define IPV4_OFF_TTL 8
#define IPV4_OFF_PROTO 9
#define IPV4_OFF_CSUM 10
#define IPV4_OFF_SRC 12
#define IPV4_OFF_DST 16

#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_MASK 0x1fff /* fragment offset, in 8-byte units */
#define IPV4_MIN_IHL 5

/*
 * The checks run in the order the header comment in wire.h promises, because
 * callers map each reason to a distinct counter (ipInHdrErrors vs.
 * ipInTruncatedPkts).  `out` is filled once every length check has passed,
 * i.e. on WIRE_OK and WIRE_BAD_CHECKSUM; on the other reasons it is untouched.
 */
enum wire_err ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_repr *out, bool verify_csum)
{
    /* RFC 791 §3.1: the fixed part of the header is 20 bytes. */
    if (len < IPV4_HDR_LEN)
        return WIRE_TRUNCATED;
    /* RFC 1122 §3.2.1.1: a datagram whose version is not 4 MUST be
     * silently discarded (BAD-INPUT C.10). */
    if ((buf[IPV4_OFF_VER_IHL] >> 4) != 4)
        return WIRE_BAD_VERSION;
    /* RFC 791 §3.1: "the minimum value for a correct header is 5"
     * (BAD-INPUT C.11). */
    size_t hdr_len = (size_t)(buf[IPV4_OFF_VER_IHL] & 0x0f) * 4;
    if (hdr_len < IPV4_MIN_IHL * 4)
        return WIRE_BAD_HDRLEN;
    /* Options announced by IHL must be inside the span (RFC 6274 §3.1). */
    if (hdr_len > len)
        return WIRE_TRUNCATED;
    /* RFC 6274 §3.4: total length covers the header, so it can be neither
     * smaller than IHL*4 (includes 0) nor larger than what was received.
     * Larger spans are fine: Ethernet pads short frames (RFC 894, BAD-INPUT
     * C.12), and the caller trims to total length. */
    size_t total_len = be16(buf + IPV4_OFF_TOTAL_LEN);
    if (total_len < hdr_len)
        return WIRE_BAD_LENGTH;
    if (total_len > len)
        return WIRE_TRUNCATED;

    uint16_t flags_frag = be16(buf + IPV4_OFF_FLAGS_FRAG);
    out->tos = buf[IPV4_OFF_TOS];
    out->total_len = (uint16_t)total_len;
    out->hdr_len = (uint16_t)hdr_len;
    out->id = be16(buf + IPV4_OFF_ID);
    out->df = (flags_frag & IPV4_FLAG_DF) != 0;
    out->mf = (flags_frag & IPV4_FLAG_MF) != 0;
    out->frag_off = (uint16_t)((flags_frag & IPV4_FRAG_MASK) * 8);
    out->ttl = buf[IPV4_OFF_TTL];
    out->proto = buf[IPV4_OFF_PROTO];
    out->src = be32(buf + IPV4_OFF_SRC);
    out->dst = be32(buf + IPV4_OFF_DST);
    out->options_len = (uint8_t)(hdr_len - IPV4_HDR_LEN);
    out->options = out->options_len ? buf + IPV4_HDR_LEN : NULL;

    /* RFC 1122 §3.2.1.2: a host MUST verify the header checksum and
     * silently discard a datagram whose checksum is wrong.  Summing the
     * header including its checksum field gives 0xFFFF when it is right. */
    if (verify_csum && csum_fold(csum_partial(buf, hdr_len, 0)) != 0)
        return WIRE_BAD_CHECKSUM;
    return WIRE_OK;
}

void ipv4_emit(const struct ipv4_repr *r, uint8_t *buf)
{
    uint16_t flags_frag = (uint16_t)((r->frag_off / 8) & IPV4_FRAG_MASK);
    if (r->df)
        flags_frag |= IPV4_FLAG_DF;
    if (r->mf)
        flags_frag |= IPV4_FLAG_MF;

    buf[IPV4_OFF_VER_IHL] = (4 << 4) | IPV4_MIN_IHL; /* no options on emit */
    buf[IPV4_OFF_TOS] = r->tos;
    put_be16(buf + IPV4_OFF_TOTAL_LEN, r->total_len);
    put_be16(buf + IPV4_OFF_ID, r->id);
    put_be16(buf + IPV4_OFF_FLAGS_FRAG, flags_frag);
    buf[IPV4_OFF_TTL] = r->ttl;
    buf[IPV4_OFF_PROTO] = r->proto;
    put_be16(buf + IPV4_OFF_CSUM, 0);
    put_be32(buf + IPV4_OFF_SRC, r->src);
    put_be32(buf + IPV4_OFF_DST, r->dst);
    /* RFC 791 §3.1: checksum over the header with the field itself zero. */
    put_be16(buf + IPV4_OFF_CSUM, csum_fold(csum_partial(buf, IPV4_HDR_LEN, 0)));
}
