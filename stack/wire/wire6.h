/* SPDX-License-Identifier: MIT */
/*
 * IPv6 wire formats: pure parse/emit functions for the IPv6 fixed header
 * (RFC 8200 §3), the extension header chain (RFC 8200 §4, RFC 5095, RFC 6946,
 * RFC 7112), ICMPv6 (RFC 4443) and Neighbor Discovery messages and options
 * (RFC 4861 §4, RFC 6980).
 *
 * The rules of wire.h apply unchanged (DESIGN.md principle 1): every length
 * is checked against the span before a byte is read, no allocation, no
 * globals, be16()/be32() instead of casts.
 *
 * Addresses: an IPv6 address is uint8_t[16] in network byte order, as on the
 * wire (2001:db8::1 == { 0x20, 0x01, 0x0d, 0xb8, 0, ..., 0, 0x01 }).
 *
 * Offsets reported by the extension header walk ("pointer", "offset",
 * "nh_off") always count from the first byte of the IPv6 header, because
 * that is what the Pointer of an ICMPv6 Parameter Problem means (RFC 4443
 * §3.4).
 *
 * Implemented: everything declared below.  Not implemented (documented so
 * nobody assumes otherwise): jumbograms (RFC 2675: reported UNSUPPORTED),
 * any routing type with Segments Left > 0 (a host forwards nothing), AH/ESP
 * (they end the walk like an unknown upper layer), Redirect parsing (type
 * constant only), MLD message formats (type constants only).
 */
#ifndef WSS_WIRE6_H
#define WSS_WIRE6_H

#include "stack/wire/wire.h"

/* ==== IPv6 fixed header (RFC 8200 §3) =================================== */
#define IPV6_HDR_LEN 40
#define IPV6_ALEN 16
#define IPV6_MIN_MTU 1280 /* RFC 8200 §5 */
#define IPV6_DEFAULT_HOP_LIMIT 64
#define IPV6_ND_HOP_LIMIT 255 /* RFC 4861 §6.1, §7.1 */
#define IPV6_FLOW_LABEL_MASK 0xfffffu

/* Field offsets of the fixed header: also the Parameter Problem pointers
 * that name them (RFC 4443 §3.4). */
#define IPV6_OFF_VER_TC_FL 0
#define IPV6_OFF_PAYLOAD_LEN 4
#define IPV6_OFF_NEXT_HEADER 6
#define IPV6_OFF_HOP_LIMIT 7
#define IPV6_OFF_SRC 8
#define IPV6_OFF_DST 24

/* Next Header values (IANA "Assigned Internet Protocol Numbers"). */
#define IP_PROTO_HOPOPTS 0
#define IP_PROTO_TCP 6
#define IP_PROTO_IPV6 41
#define IP_PROTO_ROUTING 43
#define IP_PROTO_FRAGMENT 44
#define IP_PROTO_ESP 50
#define IP_PROTO_AH 51
#define IP_PROTO_ICMPV6 58
#define IP_PROTO_NONE 59 /* No Next Header, RFC 8200 §4.7 */
#define IP_PROTO_DSTOPTS 60

/* Well-known addresses, as initialisers: uint8_t a[16] = IPV6_ADDR_ALL_NODES; */
#define IPV6_ADDR_UNSPECIFIED { 0 }
#define IPV6_ADDR_LOOPBACK { [15] = 1 }
#define IPV6_ADDR_ALL_NODES { 0xff, 0x02, [15] = 1 }   /* ff02::1 */
#define IPV6_ADDR_ALL_ROUTERS { 0xff, 0x02, [15] = 2 } /* ff02::2 */

struct ipv6_repr {
    uint8_t src[IPV6_ALEN];
    uint8_t dst[IPV6_ALEN];
    uint8_t next_header;   /* of the fixed header: first extension header or upper layer */
    uint8_t hop_limit;
    uint8_t traffic_class; /* whole DSCP+ECN byte */
    uint32_t flow_label;   /* 20 bits */
    uint16_t payload_len;  /* bytes after the 40-byte header, as in the header */
};
/* Checks, in this order (RFC 8200 §3, RFC 2675, BAD-INPUT E.24):
 *   len >= 40 else TRUNCATED; version == 6 else BAD_VERSION;
 *   payload_len == 0 with Next Header Hop-by-Hop (a jumbogram, RFC 2675 §3)
 *   else UNSUPPORTED (repr filled, for the trace);
 *   40 + payload_len <= len else TRUNCATED (len > 40 + payload_len is
 *   Ethernet padding: the caller trims).
 * A payload length of 0 with any other Next Header parses; what follows then
 * fails as TRUNCATED in ipv6_ext_walk() or the upper layer (59 is legal).
 * `out` is filled on WIRE_OK and WIRE_UNSUPPORTED only. */
enum wire_err ipv6_parse(const uint8_t *buf, size_t len, struct ipv6_repr *out);
/* Writes the 40-byte header; flow_label is masked to 20 bits. */
void ipv6_emit(const struct ipv6_repr *r, uint8_t *buf);

/* ---- address helpers (RFC 4291) ---------------------------------------- */
static inline bool ipv6_is_multicast(const uint8_t a[16]) { return a[0] == 0xff; } /* §2.7 */
static inline uint8_t ipv6_mcast_scope(const uint8_t a[16]) { return a[1] & 0x0f; }
static inline bool ipv6_is_link_local(const uint8_t a[16]) /* fe80::/10, §2.5.6 */
{
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}
bool ipv6_is_unspecified(const uint8_t a[16]); /* ::, §2.5.2 */
bool ipv6_is_loopback(const uint8_t a[16]);    /* ::1, §2.5.3 */
bool ipv6_is_v4mapped(const uint8_t a[16]);    /* ::ffff:0:0/96, §2.5.5.2 */
/* ff02::1:ff00:0/104 (§2.7.1). */
bool ipv6_is_solicited_node(const uint8_t a[16]);
/* The solicited-node multicast address of `addr`: ff02::1:ffXX:XXXX with
 * the low 24 bits of addr (§2.7.1).  out may alias addr. */
void ipv6_solicited_node(const uint8_t addr[16], uint8_t out[16]);
/* Ethernet destination for an IPv6 multicast group: 33:33 followed by the
 * last four bytes of the group (RFC 2464 §7). */
void ipv6_mcast_mac(const uint8_t group[16], uint8_t mac[ETH_ALEN]);
/* Modified EUI-64 interface identifier of a 48-bit MAC: insert ff:fe in the
 * middle and invert the universal/local bit (RFC 4291 §2.5.1 and App. A,
 * RFC 2464 §4). */
void ipv6_eui64_iid(const uint8_t mac[ETH_ALEN], uint8_t iid[8]);
/* fe80::<EUI-64 of mac> (RFC 4862 §5.3, RFC 2464 §5). */
void ipv6_link_local_from_mac(const uint8_t mac[ETH_ALEN], uint8_t out[16]);

/* ==== Extension headers (RFC 8200 §4) ==================================== */
/*
 * Limits of the walk (RFC 8504 §5.3 lets a host set them; everything beyond
 * is dropped without an ICMPv6 error):
 *   at most IPV6_EXT_MAX_HDRS extension headers in one packet (RFC 8200 §4.1
 *   recommends one of each, Destination Options twice: 6 in the normal
 *   order, so 8 leaves room), and
 *   at most IPV6_EXT_MAX_BYTES bytes of extension headers in total.
 * Every step advances by at least 8 bytes (header) or 1 byte (option), so a
 * walk ends after at most 1024/8 header steps whatever the input (V2).
 */
#define IPV6_EXT_MAX_HDRS 8
#define IPV6_EXT_MAX_BYTES 1024
#define IPV6_FRAG_HDR_LEN 8

/* Option types with a meaning of their own (RFC 8200 §4.2, RFC 2711). */
#define IPV6_OPT_PAD1 0x00
#define IPV6_OPT_PADN 0x01
#define IPV6_OPT_ROUTER_ALERT 0x05 /* Hop-by-Hop only, length 2 */
/* The two high-order bits of an option type: what to do when unrecognised. */
#define IPV6_OPT_ACTION(type) ((uint8_t)(type) >> 6)
#define IPV6_OPT_ACT_SKIP 0         /* skip the option */
#define IPV6_OPT_ACT_DISCARD 1      /* discard the packet silently */
#define IPV6_OPT_ACT_PP 2           /* discard + Param Problem 2, even to multicast */
#define IPV6_OPT_ACT_PP_UNICAST 3   /* discard + Param Problem 2 unless dst multicast */

/* Routing types (IANA); RH0 is deprecated (RFC 5095). */
#define IPV6_RT_TYPE0 0

/* Fragment header (RFC 8200 §4.5). */
struct frag_repr {
    uint8_t next_header; /* first header of the fragmentable part */
    uint16_t offset;     /* in BYTES (field value * 8), 0..65528 */
    bool more;           /* M flag */
    uint32_t ident;
};
/* len >= 8 else TRUNCATED.  The reserved fields are ignored (RFC 8200 §4.5:
 * "ignored on reception"). */
enum wire_err ipv6_frag_parse(const uint8_t *buf, size_t len, struct frag_repr *out);
void ipv6_frag_emit(const struct frag_repr *r, uint8_t *buf); /* 8 bytes */
/* RFC 6946 §2: offset 0 and M 0 - a whole packet in one "fragment". */
static inline bool frag_is_atomic(const struct frag_repr *f) { return f->offset == 0 && !f->more; }

/* A Hop-by-Hop Options header carrying only a Router Alert (RFC 2711) and a
 * 0-byte PadN, as MLD reports need (RFC 3810 §5): writes 8 bytes. */
void ipv6_hbh_router_alert_emit(uint8_t *buf, uint8_t next_header, uint16_t value);

/* --- the structural iterator ---------------------------------------------
 * Walks header by header from the fixed header; knows only lengths, the
 * Hop-by-Hop position rule and the limits.  Headers it steps over: 0, 43, 44,
 * 60.  Everything else (including 59) is the "upper layer" that ends the
 * walk.  It does NOT look inside options, routing or fragment fields: that is
 * ipv6_ext_walk()'s job.
 *
 *   struct ipv6_ext_iter it; struct ipv6_ext_hdr h;
 *   ipv6_ext_iter_init(&it, pkt, len);
 *   while (ipv6_ext_next(&it, &h)) { ... }
 *   if (it.reason != IPV6_EXT_OK) drop;   // it.pointer = offending byte
 *   // else it.nh is the upper-layer protocol at it.off
 */
enum ipv6_ext_reason {
    IPV6_EXT_OK = 0,
    IPV6_EXT_TRUNCATED,      /* a header runs past the payload (or len < 40 + payload) */
    IPV6_EXT_HBH_NOT_FIRST,  /* Hop-by-Hop after another header: PP 1 -> that Next Header byte */
    IPV6_EXT_TOO_MANY,       /* more than IPV6_EXT_MAX_HDRS headers: drop */
    IPV6_EXT_TOO_LONG,       /* more than IPV6_EXT_MAX_BYTES bytes of them: drop */
    IPV6_EXT_OPT_TRUNCATED,  /* an option TLV runs past its header: drop */
    IPV6_EXT_OPT_BAD_LEN,    /* a known option with the wrong length (Router Alert != 2): drop */
    IPV6_EXT_OPT_DISCARD,    /* unknown option with action 01: drop */
    IPV6_EXT_OPT_UNKNOWN,    /* unknown option with action 10/11: PP 2 -> option type */
    IPV6_EXT_ROUTING,        /* Segments Left > 0 (any type, RH0 included): PP 0 -> Routing Type */
    IPV6_EXT_FRAG_BAD_LEN,   /* M=1 and fragment length % 8 != 0: PP 0 -> Payload Length */
    IPV6_EXT_FRAG_TOO_BIG,   /* offset + fragment length > 65535: PP 0 -> Fragment Offset */
    IPV6_EXT_FRAG_EMPTY,     /* a (non-atomic) fragment without data: drop */
    IPV6_EXT_FRAG_INCOMPLETE,/* first fragment lacks the whole chain (RFC 7112): PP 3, pointer 0 */
};
const char *ipv6_ext_reason_str(enum ipv6_ext_reason r);

struct ipv6_ext_hdr {
    uint8_t type;        /* 0, 43, 44 or 60 */
    uint8_t next_header; /* its Next Header field */
    uint16_t off;        /* of its first byte */
    uint16_t len;        /* bytes: (Hdr Ext Len + 1) * 8, or 8 for a Fragment header */
    uint16_t nh_off;     /* of the Next Header byte that named this header */
    const uint8_t *p;    /* == pkt + off */
};

struct ipv6_ext_iter {
    const uint8_t *pkt;  /* the IPv6 header */
    uint32_t end;        /* 40 + payload_len: nothing is read at or after it */
    uint32_t off;        /* where the next header starts */
    uint32_t nh_off;     /* the Next Header byte naming it (6: the fixed header's) */
    uint8_t nh;          /* its type */
    uint8_t n_hdrs;      /* extension headers returned so far */
    uint32_t ext_bytes;  /* their total length */
    enum ipv6_ext_reason reason; /* after ipv6_ext_next() returned false */
    uint32_t pointer;    /* offending byte when reason != OK */
};
/* pkt points at the IPv6 header, len is the span.  A span shorter than
 * 40 + payload_len makes the first ipv6_ext_next() fail with TRUNCATED. */
void ipv6_ext_iter_init(struct ipv6_ext_iter *it, const uint8_t *pkt, size_t len);
/* true: *h is the next extension header (it fits in the payload and within
 * the limits) and the iterator has moved past it.  false: the walk ended -
 * it->reason says whether at the upper layer (OK; it->nh / it->off) or on an
 * error.  After false, further calls keep returning false. */
bool ipv6_ext_next(struct ipv6_ext_iter *it, struct ipv6_ext_hdr *h);

/* --- the full walk --------------------------------------------------------
 * What the stack does on receive, before reassembly or the upper layer:
 * walks the chain with the iterator and processes each header:
 *  - Hop-by-Hop / Destination Options: the option TLVs (RFC 8200 §4.2):
 *    Pad1, PadN skipped; Router Alert (HBH only) reported; anything else is
 *    unrecognised and handled by its two action bits;
 *  - Routing: Segments Left 0 -> ignored (§4.4); > 0 -> PP 0 at the Routing
 *    Type, whatever the type (a host implements none; RH0 is RFC 5095);
 *  - Fragment: atomic (RFC 6946) -> noted and the walk continues, the packet
 *    is processed in isolation; otherwise checked (§4.5), and the walk stops
 *    there: proto/offset describe the fragmentable part, for reassembly.  A
 *    first fragment must also hold the whole chain (RFC 7112).
 * Headers after a non-atomic Fragment header are processed only after
 * reassembly (RFC 8200 §4.5), by walking the reassembled packet again.
 */
enum ipv6_ext_action {
    IPV6_ACT_ACCEPT = 0,      /* go on: reassembly or upper layer */
    IPV6_ACT_DROP,            /* discard silently (count the reason) */
    IPV6_ACT_PARAM_PROBLEM,   /* discard and send PP pp_code/pointer (subject to §2.4(e)) */
};
enum ipv6_frag_kind {
    IPV6_NOT_FRAGMENT = 0,
    IPV6_ATOMIC_FRAGMENT,     /* offset 0, M 0: process now, never reassemble (RFC 6946) */
    IPV6_FRAGMENT,            /* hand to reassembly */
};
struct ipv6_ext_result {
    enum ipv6_ext_reason reason;
    enum ipv6_ext_action action;
    uint8_t pp_code;          /* ICMPV6_PP_* (also set for drops, for the trace) */
    uint32_t pointer;         /* RFC 4443 §3.4: offending byte from the IPv6 header */
    bool pp_mcast_ok;         /* RFC 4443 §2.4(e.3): may be sent although dst is multicast */
    /* the chain (valid when action == ACCEPT) */
    uint8_t proto;            /* upper layer (or first header of the fragmentable part) */
    uint16_t offset;          /* where it starts */
    uint16_t nh_off;          /* Next Header byte naming proto: PP 1 pointer for an unknown proto */
    uint8_t n_hdrs;           /* extension headers walked */
    bool router_alert;        /* HBH Router Alert present (RFC 2711) */
    uint16_t router_alert_value;
    bool has_routing;         /* a Routing header with Segments Left 0 was skipped */
    uint8_t routing_type, segments_left;
    enum ipv6_frag_kind frag_kind;
    uint16_t frag_hdr_off;    /* = length of the unfragmentable part */
    struct frag_repr frag;
};
/* pkt/len as for the iterator.  Returns res->reason.  The destination
 * address (for action 11) is read from pkt. */
enum ipv6_ext_reason ipv6_ext_walk(const uint8_t *pkt, size_t len, struct ipv6_ext_result *res);

/* ==== ICMPv6 (RFC 4443) ================================================== */
#define ICMPV6_HDR_LEN 8
#define ICMPV6_ERR_MAX_LEN IPV6_MIN_MTU /* §2.4(c): whole error packet <= 1280 */

/* error messages (type < 128) */
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PKT_TOO_BIG 2
#define ICMPV6_TIME_EXCEEDED 3
#define ICMPV6_PARAM_PROBLEM 4
/* informational messages */
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define ICMPV6_MLD_QUERY 130     /* RFC 2710 / 3810 */
#define ICMPV6_MLD_REPORT 131
#define ICMPV6_MLD_DONE 132
#define ICMPV6_ND_RS 133         /* RFC 4861 §4.1 */
#define ICMPV6_ND_RA 134
#define ICMPV6_ND_NS 135
#define ICMPV6_ND_NA 136
#define ICMPV6_ND_REDIRECT 137
#define ICMPV6_MLD2_REPORT 143   /* RFC 3810 */

/* Destination Unreachable codes (§3.1) */
#define ICMPV6_UNREACH_NO_ROUTE 0
#define ICMPV6_UNREACH_ADMIN 1
#define ICMPV6_UNREACH_BEYOND_SCOPE 2
#define ICMPV6_UNREACH_ADDR 3
#define ICMPV6_UNREACH_PORT 4
#define ICMPV6_UNREACH_POLICY 5
#define ICMPV6_UNREACH_REJECT_ROUTE 6
/* Time Exceeded codes (§3.3) */
#define ICMPV6_TIME_HOP_LIMIT 0
#define ICMPV6_TIME_REASSEMBLY 1
/* Parameter Problem codes (§3.4; 3: RFC 7112; 6-8: RFC 8883) */
#define ICMPV6_PP_HEADER 0
#define ICMPV6_PP_NEXT_HEADER 1
#define ICMPV6_PP_OPTION 2
#define ICMPV6_PP_FIRST_FRAG 3
#define ICMPV6_PP_EXT_TOO_BIG 6
#define ICMPV6_PP_CHAIN_TOO_LONG 7
#define ICMPV6_PP_TOO_MANY_EXT 8

static inline bool icmpv6_is_error(uint8_t type) { return type < 128; } /* §2.1 */

struct icmpv6_repr {
    uint8_t type, code;
    uint32_t rest;        /* the 4 bytes after the checksum: echo ident<<16|seq,
                             PTB MTU, PP pointer, NA flags<<24, ... */
    const uint8_t *data;  /* bytes after the 8-byte header */
    size_t data_len;
};
/* buf/len is the whole ICMPv6 message (the upper-layer packet, after the
 * extension headers).  len >= 8 else TRUNCATED: every message this stack
 * knows has at least 8 bytes (§3, §4; RFC 4861 §4), and a shorter one of an
 * unknown type is discarded anyway (§2.4(b)).  Checksum over the RFC 8200
 * §8.1 pseudo-header (upper-layer length = len, Next Header 58) and the
 * message, when verify_csum, else BAD_CHECKSUM (§2.3; BAD-INPUT G.34).
 * `out` is filled on WIRE_OK and WIRE_BAD_CHECKSUM. */
enum wire_err icmpv6_parse(const uint8_t *buf, size_t len, const uint8_t src[16],
                           const uint8_t dst[16], struct icmpv6_repr *out, bool verify_csum);
/* Writes 8 + r->data_len bytes (r->data may overlap buf+8: memmove) and the
 * checksum. */
void icmpv6_emit(const struct icmpv6_repr *r, uint8_t *buf, const uint8_t src[16],
                 const uint8_t dst[16]);
/* (Re)compute the checksum of a message of `len` bytes already in buf. */
void icmpv6_csum_fill(uint8_t *buf, size_t len, const uint8_t src[16], const uint8_t dst[16]);
/* How many bytes of an invoking packet of `pkt_len` bytes an error may
 * quote so the error packet (40 + 8 + quote) stays <= 1280 (§2.4(c)). */
static inline size_t icmpv6_error_quote_len(size_t pkt_len)
{
    size_t max = ICMPV6_ERR_MAX_LEN - IPV6_HDR_LEN - ICMPV6_HDR_LEN;
    return pkt_len < max ? pkt_len : max;
}

/* ==== Neighbor Discovery (RFC 4861 §4) =================================== */
/* Fixed part of each message, ICMPv6 header included (= minimum length,
 * RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2). */
#define ND_RS_LEN 8
#define ND_RA_LEN 16
#define ND_NS_LEN 24
#define ND_NA_LEN 24

/* Option types (§4.6) and the sizes we know (length field, 8-byte units). */
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_OPT_PREFIX 3
#define ND_OPT_REDIRECTED 4
#define ND_OPT_MTU 5
#define ND_OPT_LLA_UNITS 1    /* Ethernet, RFC 2464 §6 */
#define ND_OPT_PREFIX_UNITS 4 /* §4.6.2 */
#define ND_OPT_MTU_UNITS 1    /* §4.6.4 */

#define ND_NA_FLAG_R 0x80000000u /* in icmpv6_repr.rest, §4.4 */
#define ND_NA_FLAG_S 0x40000000u
#define ND_NA_FLAG_O 0x20000000u
#define ND_RA_FLAG_M 0x80 /* §4.2 */
#define ND_RA_FLAG_O 0x40

/* Why an ND message or option is not acceptable.  Each is a drop with a
 * counter (BAD-INPUT H.36-38); none is answered. */
enum nd_reason {
    ND_OK = 0,
    ND_FRAGMENTED,          /* carried a Fragment header or reassembled (RFC 6980 §5) */
    ND_BAD_HOP_LIMIT,       /* IPv6 hop limit != 255 */
    ND_BAD_CODE,            /* ICMP code != 0 */
    ND_TOO_SHORT,           /* below RS 8, RA 16, NS/NA 24 bytes */
    ND_BAD_TYPE,            /* the ICMP type is not the message asked for */
    ND_OPT_LEN_ZERO,        /* an option with Length 0 (§4.6) */
    ND_OPT_OVERRUN,         /* an option runs past the message */
    ND_BAD_LLA_LEN,         /* SLLA/TLLA not 8 bytes (RFC 2464 §6) */
    ND_BAD_OPT_LEN,         /* Prefix Information not 32 bytes, MTU not 8 */
    ND_TARGET_MULTICAST,    /* NS/NA target is multicast (§7.1.1, §7.1.2) */
    ND_UNSPEC_SRC_BAD_DST,  /* NS from :: not to a solicited-node address (§7.1.1) */
    ND_UNSPEC_SRC_SLLA,     /* NS/RS from :: with an SLLA option (§7.1.1, §6.1.1) */
    ND_SOLICITED_MCAST,     /* NA with S=1 to a multicast destination (§7.1.2) */
    ND_SRC_NOT_LINK_LOCAL,  /* RA source not link-local (§6.1.2) */
};
const char *nd_reason_str(enum nd_reason r);

/* --- option iterator --------------------------------------------------- */
struct nd_opt {
    uint8_t type;
    uint8_t units;       /* Length field: 8-byte units, >= 1 */
    uint16_t len;        /* units * 8 */
    const uint8_t *p;    /* the option, type byte first */
};
struct nd_opt_iter {
    const uint8_t *opts;
    size_t len;
    size_t off;
    enum nd_reason reason; /* after nd_opt_next() returned false: OK = clean end */
};
void nd_opt_iter_init(struct nd_opt_iter *it, const uint8_t *opts, size_t len);
/* true: *o is the next option, the iterator moved past it (>= 8 bytes).
 * false: the end (reason OK) or an invalid option (reason OPT_LEN_ZERO or
 * OPT_OVERRUN); after false it keeps returning false.  Unknown types are
 * returned like any other: the caller skips them (§4.6). */
bool nd_opt_next(struct nd_opt_iter *it, struct nd_opt *o);

/* typed options */
struct nd_prefix_info {
    uint8_t prefix_len;
    bool on_link;        /* L */
    bool autonomous;     /* A */
    uint32_t valid_lifetime;     /* seconds, 0xffffffff = infinity */
    uint32_t preferred_lifetime;
    uint8_t prefix[16];
};
/* ND_BAD_LLA_LEN unless o is 8 bytes; copies the 6-byte address. */
enum nd_reason nd_opt_lla(const struct nd_opt *o, uint8_t mac[ETH_ALEN]);
/* ND_BAD_OPT_LEN unless o is 32 bytes (§4.6.2). */
enum nd_reason nd_opt_prefix(const struct nd_opt *o, struct nd_prefix_info *out);
/* ND_BAD_OPT_LEN unless o is 8 bytes (§4.6.4). */
enum nd_reason nd_opt_mtu(const struct nd_opt *o, uint32_t *mtu);
/* Option emitters: return the bytes written (8, 32, 8). */
size_t nd_opt_lla_emit(uint8_t *buf, uint8_t type, const uint8_t mac[ETH_ALEN]);
size_t nd_opt_prefix_emit(uint8_t *buf, const struct nd_prefix_info *pi);
size_t nd_opt_mtu_emit(uint8_t *buf, uint32_t mtu);

/* --- messages ------------------------------------------------------------
 * Each *_parse() takes the whole ICMPv6 message (already checksum-verified
 * by icmpv6_parse()) and the IPv6 facts in struct nd_ip, and applies every
 * validity check of its RFC 4861 section, in this order:
 *   fragmented (RFC 6980 §5), hop limit 255, minimum length, type
 *   (BAD_TYPE), code 0, fixed-field rules (NS/NA target not multicast, NA
 *   S flag to multicast), options (length 0 / overrun / link-layer option
 *   length), address rules (unspecified source, RA source link-local).
 * On ND_OK the repr is filled.  Link-layer options: the first one counts,
 * later ones are ignored; unknown options are skipped (§4.6). */
struct nd_ip {
    const uint8_t *src;  /* IPv6 source, 16 bytes */
    const uint8_t *dst;  /* IPv6 destination, 16 bytes */
    uint8_t hop_limit;
    bool fragmented;     /* had a Fragment header (atomic too) or was reassembled */
};

struct nd_rs_repr {
    bool has_slla;
    uint8_t slla[ETH_ALEN];
    const uint8_t *options; /* for the caller's own option walk */
    size_t options_len;
};
struct nd_ra_repr {
    uint8_t cur_hop_limit;
    bool managed;           /* M */
    bool other;             /* O */
    uint16_t router_lifetime; /* seconds */
    uint32_t reachable_time;  /* ms */
    uint32_t retrans_timer;   /* ms */
    bool has_slla;
    uint8_t slla[ETH_ALEN];
    bool has_mtu;
    uint32_t mtu;
    const uint8_t *options; /* Prefix Information: walk these with nd_opt_next() */
    size_t options_len;
};
struct nd_ns_repr {
    uint8_t target[16];
    bool has_slla;
    uint8_t slla[ETH_ALEN];
    const uint8_t *options;
    size_t options_len;
};
struct nd_na_repr {
    bool router, solicited, override; /* R, S, O */
    uint8_t target[16];
    bool has_tlla;
    uint8_t tlla[ETH_ALEN];
    const uint8_t *options;
    size_t options_len;
};
enum nd_reason nd_rs_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_rs_repr *out); /* §6.1.1 */
enum nd_reason nd_ra_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_ra_repr *out); /* §6.1.2 */
enum nd_reason nd_ns_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_ns_repr *out); /* §7.1.1 */
enum nd_reason nd_na_parse(const struct nd_ip *ip, const uint8_t *msg, size_t len,
                           struct nd_na_repr *out); /* §7.1.2 */
/* Emitters write the fixed part (checksum field 0), then the link-layer
 * option when has_slla/has_tlla (and for RA the MTU option when has_mtu, after
 * it), and return the bytes written.  The caller appends any further
 * options and then calls icmpv6_csum_fill() over the whole message. */
size_t nd_rs_emit(const struct nd_rs_repr *r, uint8_t *buf);
size_t nd_ra_emit(const struct nd_ra_repr *r, uint8_t *buf);
size_t nd_ns_emit(const struct nd_ns_repr *r, uint8_t *buf);
size_t nd_na_emit(const struct nd_na_repr *r, uint8_t *buf);

#endif /* WSS_WIRE6_H */
