/* SPDX-License-Identifier: MIT */
/*
 * ICMPv4 header (RFC 792).  Every message starts with the same 8 bytes:
 *
 *   0 type  1 code  2 checksum  4 "rest of header" (meaning depends on type)
 *   8 data (echo payload, or the offending IP header + 8 bytes for errors)
 *
 * The checksum covers the whole ICMP message, header and data.
 */
#include "stack/wire/wire.h"

#include <string.h>

/* field offsets */
#define ICMP_OFF_TYPE 0
#define ICMP_OFF_CODE 1
#define ICMP_OFF_CSUM 2
#define ICMP_OFF_REST 4

/* `out` is filled on WIRE_OK and WIRE_BAD_CHECKSUM (for tracing). */
enum wire_err icmp_parse(const uint8_t *buf, size_t len, struct icmp_repr *out, bool verify_csum)
{
    /* RFC 792: every message has type, code, checksum and 4 more bytes
     * (BAD-INPUT F.29: shorter messages are dropped). */
    if (len < ICMP_HDR_LEN)
        return WIRE_TRUNCATED;
    out->type = buf[ICMP_OFF_TYPE];
    out->code = buf[ICMP_OFF_CODE];
    out->rest = be32(buf + ICMP_OFF_REST);
    out->data = buf + ICMP_HDR_LEN;
    out->data_len = len - ICMP_HDR_LEN;
    /* RFC 792 / RFC 1122 §3.2.2: the checksum is over the whole message
     * (an odd length is padded with a zero byte for the sum); a message
     * that does not verify is discarded (BAD-INPUT F.29). */
    if (verify_csum && csum_fold(csum_partial(buf, len, 0)) != 0)
        return WIRE_BAD_CHECKSUM;
    return WIRE_OK;
}

void icmp_emit(const struct icmp_repr *r, uint8_t *buf)
{
    /* Copy the data before writing the header: r->data may point into the
     * buffer (an echo reply built over the request), possibly overlapping
     * buf+8, hence memmove; when it already is buf+8 there is nothing to do. */
    if (r->data_len && r->data != buf + ICMP_HDR_LEN)
        memmove(buf + ICMP_HDR_LEN, r->data, r->data_len);
    buf[ICMP_OFF_TYPE] = r->type;
    buf[ICMP_OFF_CODE] = r->code;
    put_be16(buf + ICMP_OFF_CSUM, 0);
    put_be32(buf + ICMP_OFF_REST, r->rest);
    put_be16(buf + ICMP_OFF_CSUM, csum_fold(csum_partial(buf, ICMP_HDR_LEN + r->data_len, 0)));
}
