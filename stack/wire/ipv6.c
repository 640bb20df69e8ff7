/* SPDX-License-Identifier: MIT */
/*
 * IPv6 fixed header (RFC 8200 §3) and address helpers (RFC 4291, RFC 2464).
 *
 *   0 ver(4)|traffic class(8)|flow label(20)  4 payload length  6 next header
 *   7 hop limit  8 source (16)  24 destination (16)  40 extension headers or
 *   upper layer, up to 40 + payload length
 */
#include "stack/wire/wire6.h"

#include <string.h>

/* field offsets: IPV6_OFF_* in wire6.h (the Parameter Problem pointers) */

enum wire_err ipv6_parse(const uint8_t *buf, size_t len, struct ipv6_repr *out)
{
    /* RFC 8200 §3: the fixed header is 40 bytes. */
    if (len < IPV6_HDR_LEN)
        return WIRE_TRUNCATED;
    /* RFC 8200 §3: "Version 4-bit Internet Protocol version number = 6"
     * (BAD-INPUT E.24). */
    uint32_t vtf = be32(buf + IPV6_OFF_VER_TC_FL);
    if ((vtf >> 28) != 6)
        return WIRE_BAD_VERSION;

    uint16_t plen = be16(buf + IPV6_OFF_PAYLOAD_LEN);
    out->traffic_class = (uint8_t)(vtf >> 20);
    out->flow_label = vtf & IPV6_FLOW_LABEL_MASK;
    out->payload_len = plen;
    out->next_header = buf[IPV6_OFF_NEXT_HEADER];
    out->hop_limit = buf[IPV6_OFF_HOP_LIMIT];
    memcpy(out->src, buf + IPV6_OFF_SRC, IPV6_ALEN);
    memcpy(out->dst, buf + IPV6_OFF_DST, IPV6_ALEN);

    /* RFC 2675 §3: Payload Length 0 with a Hop-by-Hop header announces a
     * jumbogram, whose length is in the Jumbo Payload option.  We do not
     * implement jumbograms (a TAP link never carries one). */
    if (plen == 0 && out->next_header == IP_PROTO_HOPOPTS)
        return WIRE_UNSUPPORTED;
    /* RFC 8200 §3: Payload Length counts every byte after the fixed header;
     * more than received is a truncated packet (V1, picoTCP
     * CVE-2020-17441).  Fewer is Ethernet padding: the caller trims. */
    if ((size_t)IPV6_HDR_LEN + plen > len)
        return WIRE_TRUNCATED;
    return WIRE_OK;
}

void ipv6_emit(const struct ipv6_repr *r, uint8_t *buf)
{
    put_be32(buf + IPV6_OFF_VER_TC_FL, (6u << 28) | ((uint32_t)r->traffic_class << 20) |
                                           (r->flow_label & IPV6_FLOW_LABEL_MASK));
    put_be16(buf + IPV6_OFF_PAYLOAD_LEN, r->payload_len);
    buf[IPV6_OFF_NEXT_HEADER] = r->next_header;
    buf[IPV6_OFF_HOP_LIMIT] = r->hop_limit;
    memcpy(buf + IPV6_OFF_SRC, r->src, IPV6_ALEN);
    memcpy(buf + IPV6_OFF_DST, r->dst, IPV6_ALEN);
}

/* ---- address helpers ----------------------------------------------------- */

/* true when the first n bytes of a are zero */
static bool zero_prefix(const uint8_t *a, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= a[i];
    return acc == 0;
}

bool ipv6_is_unspecified(const uint8_t a[16]) { return zero_prefix(a, 16); }

bool ipv6_is_loopback(const uint8_t a[16]) { return zero_prefix(a, 15) && a[15] == 1; }

bool ipv6_is_v4mapped(const uint8_t a[16])
{
    return zero_prefix(a, 10) && a[10] == 0xff && a[11] == 0xff;
}

/* RFC 4291 §2.7.1: FF02:0:0:0:0:1:FF00::/104 */
static const uint8_t snm_prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

bool ipv6_is_solicited_node(const uint8_t a[16])
{
    return memcmp(a, snm_prefix, sizeof(snm_prefix)) == 0;
}

void ipv6_solicited_node(const uint8_t addr[16], uint8_t out[16])
{
    /* the low 24 bits first: out may alias addr */
    uint8_t low[3] = { addr[13], addr[14], addr[15] };
    memcpy(out, snm_prefix, sizeof(snm_prefix));
    memcpy(out + 13, low, 3);
}

void ipv6_mcast_mac(const uint8_t group[16], uint8_t mac[ETH_ALEN])
{
    /* RFC 2464 §7: "the two octets 3333 followed by the last four octets
     * of DST". */
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, group + 12, 4);
}

void ipv6_eui64_iid(const uint8_t mac[ETH_ALEN], uint8_t iid[8])
{
    /* RFC 4291 App. A / RFC 2464 §4: OUI, ff:fe, the other three bytes,
     * with the universal/local bit (0x02 of the first byte) inverted. */
    iid[0] = mac[0] ^ 0x02;
    iid[1] = mac[1];
    iid[2] = mac[2];
    iid[3] = 0xff;
    iid[4] = 0xfe;
    iid[5] = mac[3];
    iid[6] = mac[4];
    iid[7] = mac[5];
}

void ipv6_link_local_from_mac(const uint8_t mac[ETH_ALEN], uint8_t out[16])
{
    /* RFC 4862 §5.3: fe80::/64 followed by the interface identifier. */
    memset(out, 0, 8);
    out[0] = 0xfe;
    out[1] = 0x80;
    ipv6_eui64_iid(mac, out + 8);
}
