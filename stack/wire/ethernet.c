/* SPDX-License-Identifier: MIT */
/*
 * Ethernet II header (RFC 894 encapsulation of IP; IEEE 802.3 framing).
 *
 *   0      6      12        14
 *   | dst  | src  | type    | payload (46..1500, padded to a 60-byte frame)
 *
 * The FCS never reaches us through a TAP, so the header is all there is.
 */
#include "stack/wire/wire.h"

#include <string.h>

/* field offsets */
#define ETH_OFF_DST 0
#define ETH_OFF_SRC 6
#define ETH_OFF_TYPE 12

/* IEEE 802.3 §3.2.6: a type/length field <= 1500 (0x05DC) is the length of
 * an 802.3/LLC frame, not an EtherType.  Values 1501..1535 are undefined;
 * they fall through to the caller's "unknown EtherType" handling. */
#define ETH_MAX_8023_LEN 1500

enum wire_err eth_parse(const uint8_t *buf, size_t len, struct eth_repr *out)
{
    /* BAD-INPUT A.1: a runt shorter than the 14-byte header. */
    if (len < ETH_HDR_LEN)
        return WIRE_TRUNCATED;
    memcpy(out->dst, buf + ETH_OFF_DST, ETH_ALEN);
    memcpy(out->src, buf + ETH_OFF_SRC, ETH_ALEN);
    out->ethertype = be16(buf + ETH_OFF_TYPE);
    /* BAD-INPUT A.2: 802.3 length field, i.e. not Ethernet II (RFC 894).
     * The repr stays filled so the caller can trace what it dropped. */
    if (out->ethertype <= ETH_MAX_8023_LEN)
        return WIRE_UNSUPPORTED;
    return WIRE_OK;
}

void eth_emit(const struct eth_repr *r, uint8_t *buf)
{
    memcpy(buf + ETH_OFF_DST, r->dst, ETH_ALEN);
    memcpy(buf + ETH_OFF_SRC, r->src, ETH_ALEN);
    put_be16(buf + ETH_OFF_TYPE, r->ethertype);
}
