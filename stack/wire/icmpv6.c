/* SPDX-License-Identifier: MIT */
/*
 * ICMPv6 header (RFC 4443 §2.1).  Every message this stack handles starts
 * with the same 8 bytes:
 *
 *   0 type  1 code  2 checksum  4 "rest" (echo ident|seq, PTB MTU, Param
 *   Problem pointer, ND flags/reserved)  8 data
 *
 * Unlike ICMPv4, the checksum also covers the RFC 8200 §8.1 pseudo-header
 * (source, destination, upper-layer length, Next Header 58).
 */
#include "stack/wire/wire6.h"

#include <string.h>

/* field offsets */
#define ICMPV6_OFF_TYPE 0
#define ICMPV6_OFF_CODE 1
#define ICMPV6_OFF_CSUM 2
#define ICMPV6_OFF_REST 4

/* One's-complement sum of pseudo-header and message, not complemented. */
static uint32_t icmpv6_sum(const uint8_t *buf, size_t len, const uint8_t src[16],
                           const uint8_t dst[16])
{
    return csum_partial(buf, len, csum_pseudo_v6(src, dst, IP_PROTO_ICMPV6, (uint32_t)len));
}

enum wire_err icmpv6_parse(const uint8_t *buf, size_t len, const uint8_t src[16],
                           const uint8_t dst[16], struct icmpv6_repr *out, bool verify_csum)
{
    /* RFC 4443 §2.1 and the message formats of §3/§4 and RFC 4861 §4: 8
     * bytes at least (BAD-INPUT G.34, V5: picoTCP CVE-2020-17443). */
    if (len < ICMPV6_HDR_LEN)
        return WIRE_TRUNCATED;
    out->type = buf[ICMPV6_OFF_TYPE];
    out->code = buf[ICMPV6_OFF_CODE];
    out->rest = be32(buf + ICMPV6_OFF_REST);
    out->data = buf + ICMPV6_HDR_LEN;
    out->data_len = len - ICMPV6_HDR_LEN;
    /* RFC 4443 §2.3: the checksum is mandatory; a message whose checksum
     * does not verify is discarded (§2.4, BAD-INPUT G.34). */
    if (verify_csum && csum_fold(icmpv6_sum(buf, len, src, dst)) != 0)
        return WIRE_BAD_CHECKSUM;
    return WIRE_OK;
}

void icmpv6_csum_fill(uint8_t *buf, size_t len, const uint8_t src[16], const uint8_t dst[16])
{
    /* RFC 4443 §2.3: computed with the checksum field zero. */
    put_be16(buf + ICMPV6_OFF_CSUM, 0);
    put_be16(buf + ICMPV6_OFF_CSUM, csum_fold(icmpv6_sum(buf, len, src, dst)));
}

void icmpv6_emit(const struct icmpv6_repr *r, uint8_t *buf, const uint8_t src[16],
                 const uint8_t dst[16])
{
    /* As icmp_emit(): the data may be the request being answered, in place
     * or overlapping, so it is moved before the header is written. */
    if (r->data_len && r->data != buf + ICMPV6_HDR_LEN)
        memmove(buf + ICMPV6_HDR_LEN, r->data, r->data_len);
    buf[ICMPV6_OFF_TYPE] = r->type;
    buf[ICMPV6_OFF_CODE] = r->code;
    put_be32(buf + ICMPV6_OFF_REST, r->rest);
    icmpv6_csum_fill(buf, ICMPV6_HDR_LEN + r->data_len, src, dst);
}
