/* SPDX-License-Identifier: MIT */
/*
 * ARP for IPv4 over Ethernet (RFC 826).  Only this one combination of
 * hardware and protocol exists for us, so the packet is a fixed 28 bytes:
 *
 *   0 htype(2) 2 ptype(2) 4 hlen(1) 5 plen(1) 6 op(2)
 *   8 sha(6) 14 spa(4) 18 tha(6) 24 tpa(4)   28
 */
#include "stack/wire/wire.h"

#include <string.h>

/* field offsets */
#define ARP_OFF_HTYPE 0
#define ARP_OFF_PTYPE 2
#define ARP_OFF_HLEN 4
#define ARP_OFF_PLEN 5
#define ARP_OFF_OP 6
#define ARP_OFF_SHA 8
#define ARP_OFF_SPA 14
#define ARP_OFF_THA 18
#define ARP_OFF_TPA 24

#define ARP_HTYPE_ETHERNET 1 /* RFC 826 "ar$hrd": Ethernet (10Mb) */
#define ARP_PLEN_IPV4 4

enum wire_err arp_parse(const uint8_t *buf, size_t len, struct arp_repr *out)
{
    /* BAD-INPUT B.5: fewer than 28 bytes cannot hold the four addresses.
     * Extra bytes are Ethernet padding (the frame minimum is 60) and are
     * ignored. */
    if (len < ARP_LEN)
        return WIRE_TRUNCATED;
    /* RFC 826 packet format: the address lengths are implied by the types;
     * anything but Ethernet/IPv4 with 6/4 byte addresses would make the
     * fixed offsets above wrong, so it is rejected as a malformed packet. */
    if (be16(buf + ARP_OFF_HTYPE) != ARP_HTYPE_ETHERNET ||
        be16(buf + ARP_OFF_PTYPE) != ETHERTYPE_IPV4 || buf[ARP_OFF_HLEN] != ETH_ALEN ||
        buf[ARP_OFF_PLEN] != ARP_PLEN_IPV4)
        return WIRE_BAD_FIELD;
    out->op = be16(buf + ARP_OFF_OP);
    memcpy(out->sha, buf + ARP_OFF_SHA, ETH_ALEN);
    out->spa = be32(buf + ARP_OFF_SPA);
    memcpy(out->tha, buf + ARP_OFF_THA, ETH_ALEN);
    out->tpa = be32(buf + ARP_OFF_TPA);
    /* RFC 826 defines only request (1) and reply (2); RARP (3/4, RFC 903)
     * and InARP (8/9, RFC 2390) are well-formed but not ours.  The repr is
     * filled so the caller can trace the opcode. */
    if (out->op != ARP_OP_REQUEST && out->op != ARP_OP_REPLY)
        return WIRE_UNSUPPORTED;
    return WIRE_OK;
}

void arp_emit(const struct arp_repr *r, uint8_t *buf)
{
    put_be16(buf + ARP_OFF_HTYPE, ARP_HTYPE_ETHERNET);
    put_be16(buf + ARP_OFF_PTYPE, ETHERTYPE_IPV4);
    buf[ARP_OFF_HLEN] = ETH_ALEN;
    buf[ARP_OFF_PLEN] = ARP_PLEN_IPV4;
    put_be16(buf + ARP_OFF_OP, r->op);
    memcpy(buf + ARP_OFF_SHA, r->sha, ETH_ALEN);
    put_be32(buf + ARP_OFF_SPA, r->spa);
    memcpy(buf + ARP_OFF_THA, r->tha, ETH_ALEN);
    put_be32(buf + ARP_OFF_TPA, r->tpa);
}
