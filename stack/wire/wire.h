/* SPDX-License-Identifier: MIT */
/*
 * Wire formats: pure parse/emit functions for Ethernet II, ARP, IPv4, ICMPv4,
 * UDP and the Internet checksum.
 *
 * Rules for everything in stack/wire/ (DESIGN.md principle 1):
 *  - parsing takes a byte span and returns a typed "repr" or a reason
 *    (enum wire_err) for rejecting it; every length is checked against the
 *    span before any byte is read;
 *  - emitting writes into a caller buffer that is known to be large enough
 *    (the *_LEN constants and *_emit_len() say how large);
 *  - no allocation, no globals, no dependency but libc;
 *  - multi-byte fields are read with be16()/be32(), never by casting packed
 *    structs over packet memory.
 *
 * Addresses: IPv4 addresses are uint32_t in HOST byte order everywhere inside
 * the stack (192.0.2.1 == 0xC0000201).  MAC addresses are uint8_t[6].
 */
#ifndef WSS_WIRE_H
#define WSS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- byte order helpers ---------------------------------------------- */
static inline uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---- parse results ----------------------------------------------------- */
enum wire_err {
    WIRE_OK = 0,
    WIRE_TRUNCATED,      /* span shorter than the header / than a length field says */
    WIRE_BAD_VERSION,    /* IP version field wrong */
    WIRE_BAD_HDRLEN,     /* header length field impossible (IHL < 5, ...) */
    WIRE_BAD_LENGTH,     /* a length field contradicts another (total < IHL*4, udp len < 8) */
    WIRE_BAD_CHECKSUM,   /* checksum does not verify */
    WIRE_BAD_FIELD,      /* a field has a value the RFC forbids (ARP hlen != 6, ...) */
    WIRE_UNSUPPORTED,    /* well-formed but not something we handle */
};
const char *wire_err_str(enum wire_err e);

/* ---- Internet checksum (RFC 1071) -------------------------------------- */
/* Accumulate `len` bytes into a 32-bit one's-complement partial sum.  Chained
 * calls must pass even lengths except for the last one. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);
/* Fold a partial sum to 16 bits and return its one's complement (the value
 * to store in a checksum field, host order). */
uint16_t csum_fold(uint32_t sum);
/* Pseudo-header partial sums (RFC 768 / RFC 8200 §8.1). */
uint32_t csum_pseudo_v4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
uint32_t csum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                        uint32_t len);

/* ---- Ethernet II (RFC 894) --------------------------------------------- */
#define ETH_ALEN 6
#define ETH_HDR_LEN 14
#define ETH_MIN_FRAME 60 /* without FCS; shorter frames are padded on the wire */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86DD

struct eth_repr {
    uint8_t dst[ETH_ALEN];
    uint8_t src[ETH_ALEN];
    uint16_t ethertype;
};
/* WIRE_TRUNCATED if len < 14; WIRE_UNSUPPORTED if ethertype <= 1500 (802.3
 * length field) - the caller still gets the repr filled. */
enum wire_err eth_parse(const uint8_t *buf, size_t len, struct eth_repr *out);
void eth_emit(const struct eth_repr *r, uint8_t *buf); /* writes ETH_HDR_LEN bytes */
static inline bool eth_is_broadcast(const uint8_t m[6])
{
    return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}
static inline bool eth_is_multicast(const uint8_t m[6]) { return (m[0] & 1) != 0; }
static inline bool eth_is_zero(const uint8_t m[6])
{
    return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* ---- ARP for IPv4 over Ethernet (RFC 826) ------------------------------ */
#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_repr {
    uint16_t op;
    uint8_t sha[ETH_ALEN]; /* sender hardware address */
    uint32_t spa;          /* sender protocol address (host order) */
    uint8_t tha[ETH_ALEN];
    uint32_t tpa;
};
/* Checks: len >= 28 (TRUNCATED); htype 1, ptype 0x0800, hlen 6, plen 4
 * (BAD_FIELD); op 1 or 2 (UNSUPPORTED).  Trailing padding is ignored. */
enum wire_err arp_parse(const uint8_t *buf, size_t len, struct arp_repr *out);
void arp_emit(const struct arp_repr *r, uint8_t *buf); /* writes ARP_LEN bytes */

/* ---- IPv4 (RFC 791) ----------------------------------------------------- */
#define IPV4_HDR_LEN 20
#define IPV4_MAX_HDR_LEN 60
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP 17
#define IPV4_DEFAULT_TTL 64

struct ipv4_repr {
    uint32_t src, dst;   /* host order */
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;         /* whole DSCP+ECN byte */
    uint16_t id;
    bool df, mf;
    uint16_t frag_off;   /* in BYTES (field value * 8) */
    uint16_t hdr_len;    /* IHL * 4, 20..60 (emit: only 20 supported) */
    uint16_t total_len;  /* header + payload, as in the header */
    const uint8_t *options; /* parse: points into buf when hdr_len > 20 */
    uint8_t options_len;
};
/* Checks, in this order (RFC 1122 §3.2.1.1-2, RFC 791, RFC 6274 §3):
 *   len >= 20 else TRUNCATED; version == 4 else BAD_VERSION;
 *   IHL >= 5 else BAD_HDRLEN; IHL*4 <= len else TRUNCATED;
 *   total_len >= IHL*4 else BAD_LENGTH; total_len <= len else TRUNCATED
 *   (len > total_len is fine: Ethernet padding, caller trims);
 *   header checksum (when verify_csum) else BAD_CHECKSUM. */
enum wire_err ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_repr *out, bool verify_csum);
/* Writes a 20-byte header (no options) including the header checksum.
 * Uses r->total_len as the Total Length field. */
void ipv4_emit(const struct ipv4_repr *r, uint8_t *buf);
static inline bool ipv4_is_multicast(uint32_t a) { return (a >> 28) == 0xe; }
static inline bool ipv4_is_limited_broadcast(uint32_t a) { return a == 0xffffffffu; }

/* ---- ICMPv4 (RFC 792) ---------------------------------------------------- */
#define ICMP_HDR_LEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTO 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_FRAG_NEEDED 4

struct icmp_repr {
    uint8_t type, code;
    uint32_t rest;        /* the 4 bytes after the checksum (echo: ident<<16 | seq;
                             frag needed: low 16 bits = next-hop MTU) */
    const uint8_t *data;  /* bytes after the 8-byte header */
    size_t data_len;
};
/* len >= 8 else TRUNCATED; checksum over all `len` bytes (when verify_csum)
 * else BAD_CHECKSUM.  data/data_len cover buf[8..len). */
enum wire_err icmp_parse(const uint8_t *buf, size_t len, struct icmp_repr *out, bool verify_csum);
/* Writes 8 + r->data_len bytes; copies r->data to buf+8 unless it already is
 * buf+8 (memmove-safe), then computes the checksum. */
void icmp_emit(const struct icmp_repr *r, uint8_t *buf);

/* ---- UDP (RFC 768) -------------------------------------------------------- */
#define UDP_HDR_LEN 8

struct udp_repr {
    uint16_t sport, dport;
    uint16_t len;   /* UDP length field: header + payload */
    uint16_t csum;  /* as on the wire (0 = none, IPv4 only) */
};
/* len >= 8 else TRUNCATED; field len < 8 else BAD_LENGTH; field len > len
 * else TRUNCATED.  (field len < len: the caller uses the field, RFC 768.) */
enum wire_err udp_parse(const uint8_t *buf, size_t len, struct udp_repr *out);
/* Verify the checksum of a UDP datagram of `udp_len` bytes at buf.  IPv4: a
 * zero checksum means "none" and verifies (RFC 768). IPv6: zero is invalid. */
bool udp_csum_ok_v4(const uint8_t *buf, uint16_t udp_len, uint32_t src, uint32_t dst);
bool udp_csum_ok_v6(const uint8_t *buf, uint16_t udp_len, const uint8_t src[16],
                    const uint8_t dst[16]);
/* Write the 8-byte header for a datagram whose payload (payload_len bytes)
 * already sits at buf+8, and compute the checksum; a computed 0 is sent as
 * 0xFFFF (RFC 768). */
void udp_emit_v4(uint8_t *buf, uint16_t sport, uint16_t dport, uint16_t payload_len,
                 uint32_t src, uint32_t dst);
void udp_emit_v6(uint8_t *buf, uint16_t sport, uint16_t dport, uint16_t payload_len,
                 const uint8_t src[16], const uint8_t dst[16]);

#endif /* WSS_WIRE_H */
