/* SPDX-License-Identifier: MIT */
/*
 * UDP header (RFC 768).
 *
 *   0 source port  2 destination port  4 length  6 checksum  8 data
 *
 * The checksum covers a pseudo-header (addresses, protocol, length), the
 * header and the data; over IPv4 the value 0 means "no checksum".
 */
#include "stack/wire/wire.h"

/* field offsets */
#define UDP_OFF_SPORT 0
#define UDP_OFF_DPORT 2
#define UDP_OFF_LEN 4
#define UDP_OFF_CSUM 6

enum wire_err udp_parse(const uint8_t *buf, size_t len, struct udp_repr *out)
{
    if (len < UDP_HDR_LEN)
        return WIRE_TRUNCATED;
    uint16_t ulen = be16(buf + UDP_OFF_LEN);
    /* RFC 768: "the minimum value of the length is eight" - the length
     * includes the header (BAD-INPUT I.39). */
    if (ulen < UDP_HDR_LEN)
        return WIRE_BAD_LENGTH;
    /* RFC 1122 §4.1.3: a length beyond the IP payload is a truncated
     * datagram.  A shorter length is legal; the caller uses the field and
     * ignores the tail (as Linux does). */
    if (ulen > len)
        return WIRE_TRUNCATED;
    out->sport = be16(buf + UDP_OFF_SPORT);
    out->dport = be16(buf + UDP_OFF_DPORT);
    out->len = ulen;
    out->csum = be16(buf + UDP_OFF_CSUM);
    return WIRE_OK;
}

bool udp_csum_ok_v4(const uint8_t *buf, uint16_t udp_len, uint32_t src, uint32_t dst)
{
    if (udp_len < UDP_HDR_LEN)
        return false;
    /* RFC 768: "An all zero transmitted checksum value means that the
     * transmitter generated no checksum" - accepted over IPv4. */
    if (be16(buf + UDP_OFF_CSUM) == 0)
        return true;
    /* RFC 1122 §4.1.3.4: verify, and silently discard on mismatch. */
    uint32_t sum = csum_partial(buf, udp_len, csum_pseudo_v4(src, dst, IP_PROTO_UDP, udp_len));
    return csum_fold(sum) == 0;
}

bool udp_csum_ok_v6(const uint8_t *buf, uint16_t udp_len, const uint8_t src[16],
                    const uint8_t dst[16])
{
    if (udp_len < UDP_HDR_LEN)
        return false;
    /* RFC 8200 §8.1: the checksum is mandatory over IPv6; a zero checksum
     * MUST be discarded (RFC 6935/6936 tunnels are out of scope). */
    if (be16(buf + UDP_OFF_CSUM) == 0)
        return false;
    uint32_t sum = csum_partial(buf, udp_len, csum_pseudo_v6(src, dst, IP_PROTO_UDP, udp_len));
    return csum_fold(sum) == 0;
}

/* Header fields and checksum common to both families; `pseudo` is the
 * pseudo-header partial sum. */
static void udp_emit_common(uint8_t *buf, uint16_t sport, uint16_t dport, uint16_t udp_len,
                            uint32_t pseudo)
{
    put_be16(buf + UDP_OFF_SPORT, sport);
    put_be16(buf + UDP_OFF_DPORT, dport);
    put_be16(buf + UDP_OFF_LEN, udp_len);
    put_be16(buf + UDP_OFF_CSUM, 0);
    uint16_t csum = csum_fold(csum_partial(buf, udp_len, pseudo));
    /* RFC 768: "If the computed checksum is zero, it is transmitted as all
     * ones" - 0 would mean "no checksum" (and is invalid over IPv6).  Both
     * are the same value in one's-complement arithmetic, so it still
     * verifies. */
    put_be16(buf + UDP_OFF_CSUM, csum ? csum : 0xffff);
}

void udp_emit_v4(uint8_t *buf, uint16_t sport, uint16_t dport, uint16_t payload_len,
                 uint32_t src, uint32_t dst)
{
    uint16_t udp_len = (uint16_t)(UDP_HDR_LEN + payload_len);
    udp_emit_common(buf, sport, dport, udp_len, csum_pseudo_v4(src, dst, IP_PROTO_UDP, udp_len));
}

void udp_emit_v6(uint8_t *buf, uint16_t sport, uint16_t dport, uint16_t payload_len,
                 const uint8_t src[16], const uint8_t dst[16])
{
    uint16_t udp_len = (uint16_t)(UDP_HDR_LEN + payload_len);
    udp_emit_common(buf, sport, dport, udp_len, csum_pseudo_v6(src, dst, IP_PROTO_UDP, udp_len));
}
