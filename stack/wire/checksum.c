/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071) and the pseudo-header sums of UDP over
 * IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1), plus wire_err_str().
 *
 * How the partial sum works.  The checksum is the one's-complement sum of
 * big-endian 16-bit words.  One's-complement addition of 16-bit words is
 * ordinary addition modulo 0xFFFF (with 0xFFFF standing for "negative zero"),
 * and 2^16 == 1 (mod 0xFFFF), so a 32-bit word hi:lo contributes exactly
 * hi + lo.  We therefore add 32-bit big-endian words into a 64-bit
 * accumulator (RFC 1071 §2(B): "deferred carries") and fold the carries back
 * in at the end (end-around carry).  Folding never turns a non-zero sum into
 * 0, so "all bytes zero" (sum 0) stays distinct from "sums to 0xFFFF".
 */
#include "stack/wire/wire.h"

const char *wire_err_str(enum wire_err e)
{
    switch (e) {
    case WIRE_OK: return "ok";
    case WIRE_TRUNCATED: return "truncated";
    case WIRE_BAD_VERSION: return "bad version";
    case WIRE_BAD_HDRLEN: return "bad header length";
    case WIRE_BAD_LENGTH: return "bad length";
    case WIRE_BAD_CHECKSUM: return "bad checksum";
    case WIRE_BAD_FIELD: return "bad field";
    case WIRE_UNSUPPORTED: return "unsupported";
    }
    return "unknown wire error";
}

/* End-around-carry fold of a 64-bit accumulator to 16 bits (value range
 * 0..0xFFFF, 0 only when the accumulator was 0). */
static uint32_t csum_fold64(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32); /* <= 0x1_FFFF_FFFE */
    acc = (acc & 0xffffffffu) + (acc >> 32); /* <= 0xFFFF_FFFF   */
    acc = (acc & 0xffffu) + (acc >> 16);     /* <= 0x1_FFFE      */
    acc = (acc & 0xffffu) + (acc >> 16);     /* <= 0xFFFF        */
    return (uint32_t)acc;
}

/* Bytes summed between two folds: 2^30 bytes are 2^28 32-bit words, so the
 * 64-bit accumulator (< 2^28 * 2^32 + 2^32) cannot overflow. */
#define CSUM_CHUNK ((size_t)1 << 30)

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    uint64_t acc = sum;

    while (len >= 4) {
        size_t n = len < CSUM_CHUNK ? len : CSUM_CHUNK;
        n &= ~(size_t)3;
        len -= n;
        /* 16 bytes per iteration: four independent 32-bit loads (be32 of a
         * byte pointer compiles to one load + bswap, alignment-free). */
        while (n >= 16) {
            acc += (uint64_t)be32(p) + be32(p + 4) + be32(p + 8) + be32(p + 12);
            p += 16;
            n -= 16;
        }
        while (n >= 4) {
            acc += be32(p);
            p += 4;
            n -= 4;
        }
        acc = csum_fold64(acc);
    }
    if (len >= 2) {
        acc += be16(p);
        p += 2;
        len -= 2;
    }
    /* RFC 1071 §4.1: an odd trailing byte is the high byte of a word whose
     * low byte is zero.  That is why only the last call of a chain may pass
     * an odd length. */
    if (len == 1)
        acc += (uint32_t)p[0] << 8;
    return csum_fold64(acc);
}

uint16_t csum_fold(uint32_t sum)
{
    return (uint16_t)~csum_fold64(sum);
}

uint32_t csum_pseudo_v4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    /* RFC 768: source, destination, zero:protocol, UDP length.  Six terms of
     * at most 0xFFFF cannot overflow 32 bits. */
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
}

uint32_t csum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                        uint32_t len)
{
    /* RFC 8200 §8.1: source, destination, 32-bit upper-layer length,
     * 24 zero bits, next header. */
    uint32_t sum = csum_partial(src, 16, 0);
    sum = csum_partial(dst, 16, sum); /* <= 0xFFFF */
    return sum + (len >> 16) + (len & 0xffffu) + next_header;
}
