/* SPDX-License-Identifier: MIT */
/*
 * Neighbor Discovery messages and options (RFC 4861 §4), with the validity
 * checks of §6.1.1 (RS), §6.1.2 (RA), §7.1.1 (NS), §7.1.2 (NA) and RFC 6980.
 *
 *   RS   0 type 133  1 code  2 checksum  4 reserved            8 options
 *   RA   0 type 134  ...  4 cur hop limit  5 M|O|...  6 router lifetime
 *        8 reachable time  12 retrans timer                    16 options
 *   NS   0 type 135  ...  4 reserved  8 target (16)            24 options
 *   NA   0 type 136  ...  4 R|S|O|reserved  8 target (16)      24 options
 *
 * Option (§4.6): 0 type  1 length in 8-byte units (0 is invalid)  2 data
 *   SLLA/TLLA (§4.6.1)  2 link-layer address (6 bytes on Ethernet)
 *   Prefix (§4.6.2)     2 prefix length  3 L|A  4 valid  8 preferred
 *                       12 reserved  16 prefix (16)
 *   MTU (§4.6.4)        2 reserved  4 MTU
 */
#include "stack/wire/wire6.h"

#include <string.h>

/* field offsets */
#define ND_OFF_TYPE 0
#define ND_OFF_CODE 1
#define ND_OFF_CSUM 2
#define ND_OFF_RESERVED 4
#define RA_OFF_HOP_LIMIT 4
#define RA_OFF_FLAGS 5
#define RA_OFF_LIFETIME 6
#define RA_OFF_REACHABLE 8
#define RA_OFF_RETRANS 12
#define NA_OFF_FLAGS 4
#define NS_OFF_TARGET 8

#define OPT_OFF_TYPE 0
#define OPT_OFF_LEN 1
#define OPT_OFF_LLA 2
#define PI_OFF_PREFIX_LEN 2
#define PI_OFF_FLAGS 3
#define PI_OFF_VALID 4
#define PI_OFF_PREFERRED 8
#define PI_OFF_RESERVED2 12
#define PI_OFF_PREFIX 16
#define PI_FLAG_L 0x80
#define PI_FLAG_A 0x40
#define MTU_OFF_MTU 4

const char *nd_reason_str(enum nd_reason r)
{
    switch (r) {
    case ND_OK: return "ok";
    case ND_FRAGMENTED: return "fragmented";
    case ND_BAD_HOP_LIMIT: return "hop limit not 255";
    case ND_BAD_CODE: return "code not 0";
    case ND_TOO_SHORT: return "too short";
    case ND_BAD_TYPE: return "wrong type";
    case ND_OPT_LEN_ZERO: return "option length 0";
    case ND_OPT_OVERRUN: return "option overruns message";
    case ND_BAD_LLA_LEN: return "link-layer option length";
    case ND_BAD_OPT_LEN: return "option length";
    case ND_TARGET_MULTICAST: return "target multicast";
    case ND_UNSPEC_SRC_BAD_DST: return "unspecified source, not solicited-node";
    case ND_UNSPEC_SRC_SLLA: return "unspecified source with SLLA";
    case ND_SOLICITED_MCAST: return "solicited NA to multicast";
    case ND_SRC_NOT_LINK_LOCAL: return "source not link-local";
    }
    return "unknown nd reason";
}

/* ---- option iterator ------------------------------------------------------ */

void nd_opt_iter_init(struct nd_opt_iter *it, const uint8_t *opts, size_t len)
{
    it->opts = opts;
    it->len = len;
    it->off = 0;
    it->reason = ND_OK;
}

static bool opt_fail(struct nd_opt_iter *it, enum nd_reason r)
{
    it->reason = r;
    it->off = it->len; /* stopped for good */
    return false;
}

bool nd_opt_next(struct nd_opt_iter *it, struct nd_opt *o)
{
    if (it->reason != ND_OK || it->off >= it->len)
        return false;
    size_t left = it->len - it->off;
    /* the type and length bytes themselves */
    if (left < 2)
        return opt_fail(it, ND_OPT_OVERRUN);
    const uint8_t *p = it->opts + it->off;
    /* RFC 4861 §4.6: "The value 0 is invalid.  Nodes MUST silently discard
     * an ND packet that contains an option with length zero" - it would
     * never advance (V3: Contiki-NG CVE-2021-21279). */
    if (p[OPT_OFF_LEN] == 0)
        return opt_fail(it, ND_OPT_LEN_ZERO);
    size_t olen = (size_t)p[OPT_OFF_LEN] * 8;
    /* An option longer than what is left of the message (V3: edk2, Windows
     * CVE-2020-16898). */
    if (olen > left)
        return opt_fail(it, ND_OPT_OVERRUN);
    o->type = p[OPT_OFF_TYPE];
    o->units = p[OPT_OFF_LEN];
    o->len = (uint16_t)olen;
    o->p = p;
    it->off += olen; /* >= 8 */
    return true;
}

/* ---- typed options -------------------------------------------------------- */

enum nd_reason nd_opt_lla(const struct nd_opt *o, uint8_t mac[ETH_ALEN])
{
    /* RFC 2464 §6: on Ethernet the option is 8 bytes (Length 1). */
    if (o->units != ND_OPT_LLA_UNITS)
        return ND_BAD_LLA_LEN;
    memcpy(mac, o->p + OPT_OFF_LLA, ETH_ALEN);
    return ND_OK;
}

enum nd_reason nd_opt_prefix(const struct nd_opt *o, struct nd_prefix_info *out)
{
    /* RFC 4861 §4.6.2: Length 4. */
    if (o->units != ND_OPT_PREFIX_UNITS)
        return ND_BAD_OPT_LEN;
    out->prefix_len = o->p[PI_OFF_PREFIX_LEN];
    out->on_link = (o->p[PI_OFF_FLAGS] & PI_FLAG_L) != 0;
    out->autonomous = (o->p[PI_OFF_FLAGS] & PI_FLAG_A) != 0;
    out->valid_lifetime = be32(o->p + PI_OFF_VALID);
    out->preferred_lifetime = be32(o->p + PI_OFF_PREFERRED);
    memcpy(out->prefix, o->p + PI_OFF_PREFIX, 16);
    return ND_OK;
}

enum nd_reason nd_opt_mtu(const struct nd_opt *o, uint32_t *mtu)
{
    /* RFC 4861 §4.6.4: Length 1. */
    if (o->units != ND_OPT_MTU_UNITS)
        return ND_BAD_OPT_LEN;
    *mtu = be32(o->p + MTU_OFF_MTU);
    return ND_OK;
}

size_t nd_opt_lla_emit(uint8_t *buf, uint8_t type, const uint8_t mac[ETH_ALEN])
{
    buf[OPT_OFF_TYPE] = type;
    buf[OPT_OFF_LEN] = ND_OPT_LLA_UNITS;
    memcpy(buf + OPT_OFF_LLA, mac, ETH_ALEN);
    return 8;
}

size_t nd_opt_prefix_emit(uint8_t *buf, const struct nd_prefix_info *pi)
{
    buf[OPT_OFF_TYPE] = ND_OPT_PREFIX;
    buf[OPT_OFF_LEN] = ND_OPT_PREFIX_UNITS;
    buf[PI_OFF_PREFIX_LEN] = pi->prefix_len;
    buf[PI_OFF_FLAGS] = (uint8_t)((pi->on_link ? PI_FLAG_L : 0) | (pi->autonomous ? PI_FLAG_A : 0));
    put_be32(buf + PI_OFF_VALID, pi->valid_lifetime);
    put_be32(buf + PI_OFF_PREFERRED, pi->preferred_lifetime);
    put_be32(buf + PI_OFF_RESERVED2, 0);
    memcpy(buf + PI_OFF_PREFIX, pi->prefix, 16);
    return ND_OPT_PREFIX_UNITS * 8;
}

size_t nd_opt_mtu_emit(uint8_t *buf, uint32_t mtu)
{
    buf[OPT_OFF_TYPE] = ND_OPT_MTU;
    buf[OPT_OFF_LEN] = ND_OPT_MTU_UNITS;
    put_be16(buf + 2, 0);
    put_be32(buf + MTU_OFF_MTU, mtu);
    return 8;
}

/* ---- messages ----------------------------------------------------------------- */

/* The checks every ND message shares, in the documented order. */
static enum nd_reason nd_common(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                                uint8_t type, size_t min_len)
{
    /* RFC 6980 §5: "hosts MUST silently ignore" fragmented ND messages. */
    if (ip->fragmented)
        return ND_FRAGMENTED;
    /* RFC 4861 §6.1.1/§6.1.2/§7.1.1/§7.1.2: "The IP Hop Limit field has a
     * value of 255, i.e., the packet could not possibly have been forwarded
     * by a router" (BAD-INPUT H.36). */
    if (ip->hop_limit != IPV6_ND_HOP_LIMIT)
        return ND_BAD_HOP_LIMIT;
    /* Same sections: "ICMP length (derived from the IP length) is N or
     * more octets" (RS 8, RA 16, NS/NA 24). */
    if (len < min_len)
        return ND_TOO_SHORT;
    if (msg[ND_OFF_TYPE] != type)
        return ND_BAD_TYPE;
    /* Same sections: "ICMP Code is 0". */
    if (msg[ND_OFF_CODE] != 0)
        return ND_BAD_CODE;
    return ND_OK;
}

/* What a message's option walk collects. */
struct nd_lla_scan {
    bool has_lla;
    uint8_t lla[ETH_ALEN];
    bool has_mtu;
    uint32_t mtu;
};

/* Validate every option (§4.6: length > 0, inside the message) and pick the
 * first link-layer option of `lla_type` (and the first valid MTU option).
 * Unknown options are skipped (§4.6: "silently ignore"); an MTU option of
 * the wrong size is ignored on its own (TAHI v6LC.2.3.8); a link-layer
 * option of the wrong size makes the message invalid (as Linux does). */
static enum nd_reason nd_scan(const uint8_t *opts, size_t len, uint8_t lla_type,
                              struct nd_lla_scan *s)
{
    struct nd_opt_iter it;
    struct nd_opt o;
    memset(s, 0, sizeof(*s));
    nd_opt_iter_init(&it, opts, len);
    while (nd_opt_next(&it, &o)) {
        if (o.type == lla_type && !s->has_lla) {
            enum nd_reason r = nd_opt_lla(&o, s->lla);
            if (r != ND_OK)
                return r;
            s->has_lla = true;
        } else if (o.type == ND_OPT_MTU && !s->has_mtu) {
            s->has_mtu = nd_opt_mtu(&o, &s->mtu) == ND_OK;
        }
    }
    return it.reason;
}

enum nd_reason nd_rs_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_rs_repr *out)
{
    enum nd_reason r = nd_common(ip, msg, len, ICMPV6_ND_RS, ND_RS_LEN);
    if (r != ND_OK)
        return r;
    struct nd_lla_scan s;
    r = nd_scan(msg + ND_RS_LEN, len - ND_RS_LEN, ND_OPT_SLLA, &s);
    if (r != ND_OK)
        return r;
    /* RFC 4861 §6.1.1: "If the IP source address is the unspecified
     * address, there is no source link-layer address option". */
    if (ipv6_is_unspecified(ip->src) && s.has_lla)
        return ND_UNSPEC_SRC_SLLA;
    out->has_slla = s.has_lla;
    memcpy(out->slla, s.lla, ETH_ALEN);
    out->options = msg + ND_RS_LEN;
    out->options_len = len - ND_RS_LEN;
    return ND_OK;
}

enum nd_reason nd_ra_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_ra_repr *out)
{
    enum nd_reason r = nd_common(ip, msg, len, ICMPV6_ND_RA, ND_RA_LEN);
    if (r != ND_OK)
        return r;
    struct nd_lla_scan s;
    r = nd_scan(msg + ND_RA_LEN, len - ND_RA_LEN, ND_OPT_SLLA, &s);
    if (r != ND_OK)
        return r;
    /* RFC 4861 §6.1.2: "IP Source Address is a link-local address.
     * Routers must use their link-local address as the source for Router
     * Advertisement" (BAD-INPUT H.38). */
    if (!ipv6_is_link_local(ip->src))
        return ND_SRC_NOT_LINK_LOCAL;
    out->cur_hop_limit = msg[RA_OFF_HOP_LIMIT];
    out->managed = (msg[RA_OFF_FLAGS] & ND_RA_FLAG_M) != 0;
    out->other = (msg[RA_OFF_FLAGS] & ND_RA_FLAG_O) != 0;
    out->router_lifetime = be16(msg + RA_OFF_LIFETIME);
    out->reachable_time = be32(msg + RA_OFF_REACHABLE);
    out->retrans_timer = be32(msg + RA_OFF_RETRANS);
    out->has_slla = s.has_lla;
    memcpy(out->slla, s.lla, ETH_ALEN);
    out->has_mtu = s.has_mtu;
    out->mtu = s.mtu;
    out->options = msg + ND_RA_LEN;
    out->options_len = len - ND_RA_LEN;
    return ND_OK;
}

enum nd_reason nd_ns_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_ns_repr *out)
{
    enum nd_reason r = nd_common(ip, msg, len, ICMPV6_ND_NS, ND_NS_LEN);
    if (r != ND_OK)
        return r;
    /* RFC 4861 §7.1.1: "Target Address is not a multicast address"
     * (BAD-INPUT H.37). */
    if (ipv6_is_multicast(msg + NS_OFF_TARGET))
        return ND_TARGET_MULTICAST;
    struct nd_lla_scan s;
    r = nd_scan(msg + ND_NS_LEN, len - ND_NS_LEN, ND_OPT_SLLA, &s);
    if (r != ND_OK)
        return r;
    if (ipv6_is_unspecified(ip->src)) {
        /* RFC 4861 §7.1.1: from :: (DAD, RFC 4862 §5.4.2) "the IP
         * destination address is a solicited-node multicast address" and
         * "there is no source link-layer address option". */
        if (!ipv6_is_solicited_node(ip->dst))
            return ND_UNSPEC_SRC_BAD_DST;
        if (s.has_lla)
            return ND_UNSPEC_SRC_SLLA;
    }
    memcpy(out->target, msg + NS_OFF_TARGET, 16);
    out->has_slla = s.has_lla;
    memcpy(out->slla, s.lla, ETH_ALEN);
    out->options = msg + ND_NS_LEN;
    out->options_len = len - ND_NS_LEN;
    return ND_OK;
}

enum nd_reason nd_na_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_na_repr *out)
{
    enum nd_reason r = nd_common(ip, msg, len, ICMPV6_ND_NA, ND_NA_LEN);
    if (r != ND_OK)
        return r;
    /* RFC 4861 §7.1.2: "Target Address is not a multicast address". */
    if (ipv6_is_multicast(msg + NS_OFF_TARGET))
        return ND_TARGET_MULTICAST;
    uint32_t flags = be32(msg + NA_OFF_FLAGS);
    /* RFC 4861 §7.1.2: "If the IP Destination Address is a multicast
     * address the Solicited flag is zero." */
    if (ipv6_is_multicast(ip->dst) && (flags & ND_NA_FLAG_S))
        return ND_SOLICITED_MCAST;
    struct nd_lla_scan s;
    r = nd_scan(msg + ND_NA_LEN, len - ND_NA_LEN, ND_OPT_TLLA, &s);
    if (r != ND_OK)
        return r;
    out->router = (flags & ND_NA_FLAG_R) != 0;
    out->solicited = (flags & ND_NA_FLAG_S) != 0;
    out->override = (flags & ND_NA_FLAG_O) != 0;
    memcpy(out->target, msg + NS_OFF_TARGET, 16);
    out->has_tlla = s.has_lla;
    memcpy(out->tlla, s.lla, ETH_ALEN);
    out->options = msg + ND_NA_LEN;
    out->options_len = len - ND_NA_LEN;
    return ND_OK;
}

/* type, code 0, checksum 0, and a zero 4-byte "rest" (reserved) */
static void nd_hdr(uint8_t *buf, uint8_t type)
{
    buf[ND_OFF_TYPE] = type;
    buf[ND_OFF_CODE] = 0;
    put_be16(buf + ND_OFF_CSUM, 0);
    put_be32(buf + ND_OFF_RESERVED, 0);
}

size_t nd_rs_emit(const struct nd_rs_repr *r, uint8_t *buf)
{
    size_t n = ND_RS_LEN;
    nd_hdr(buf, ICMPV6_ND_RS);
    if (r->has_slla)
        n += nd_opt_lla_emit(buf + n, ND_OPT_SLLA, r->slla);
    return n;
}

size_t nd_ra_emit(const struct nd_ra_repr *r, uint8_t *buf)
{
    size_t n = ND_RA_LEN;
    nd_hdr(buf, ICMPV6_ND_RA);
    buf[RA_OFF_HOP_LIMIT] = r->cur_hop_limit;
    buf[RA_OFF_FLAGS] = (uint8_t)((r->managed ? ND_RA_FLAG_M : 0) | (r->other ? ND_RA_FLAG_O : 0));
    put_be16(buf + RA_OFF_LIFETIME, r->router_lifetime);
    put_be32(buf + RA_OFF_REACHABLE, r->reachable_time);
    put_be32(buf + RA_OFF_RETRANS, r->retrans_timer);
    if (r->has_slla)
        n += nd_opt_lla_emit(buf + n, ND_OPT_SLLA, r->slla);
    if (r->has_mtu)
        n += nd_opt_mtu_emit(buf + n, r->mtu);
    return n;
}

size_t nd_ns_emit(const struct nd_ns_repr *r, uint8_t *buf)
{
    size_t n = ND_NS_LEN;
    nd_hdr(buf, ICMPV6_ND_NS);
    memcpy(buf + NS_OFF_TARGET, r->target, 16);
    if (r->has_slla)
        n += nd_opt_lla_emit(buf + n, ND_OPT_SLLA, r->slla);
    return n;
}

size_t nd_na_emit(const struct nd_na_repr *r, uint8_t *buf)
{
    size_t n = ND_NA_LEN;
    nd_hdr(buf, ICMPV6_ND_NA);
    put_be32(buf + NA_OFF_FLAGS, (r->router ? ND_NA_FLAG_R : 0) |
                                     (r->solicited ? ND_NA_FLAG_S : 0) |
                                     (r->override ? ND_NA_FLAG_O : 0));
    memcpy(buf + NS_OFF_TARGET, r->target, 16);
    if (r->has_tlla)
        n += nd_opt_lla_emit(buf + n, ND_OPT_TLLA, r->tlla);
    return n;
}
