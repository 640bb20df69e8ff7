/* SPDX-License-Identifier: MIT */
/* Internet checksum (RFC 1071) and pseudo-header sums: the RFC's worked
 * example, odd lengths, carries, captured headers, and csum_partial checked
 * against a naive byte-by-byte reference on seeded random data, one-shot and
 * chained. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire.h"
#include "wire_captures.h"

/* RFC 1071 §3 "Numerical Examples": bytes 00 01 f2 03 f4 f5 f6 f7 sum to
 * 0xddf2 (one's complement, big-endian words), so the checksum is 0x220d. */
static const uint8_t rfc1071_example[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

static void test_rfc1071_example(void **state)
{
    (void)state;
    assert_int_equal(csum_fold(csum_partial(rfc1071_example, 8, 0)), 0x220d);
    /* The RFC computes it in pieces too: (00 01 f2 03) + (f4 f5 f6 f7). */
    uint32_t s = csum_partial(rfc1071_example, 4, 0);
    s = csum_partial(rfc1071_example + 4, 4, s);
    assert_int_equal(csum_fold(s), 0x220d);
    /* Two-byte chunks, the smallest legal chain step. */
    s = 0;
    for (size_t i = 0; i < 8; i += 2)
        s = csum_partial(rfc1071_example + i, 2, s);
    assert_int_equal(csum_fold(s), 0x220d);
    /* Appending the checksum makes the whole verify (sum 0xFFFF, fold 0). */
    uint8_t with_csum[10];
    memcpy(with_csum, rfc1071_example, 8);
    put_be16(with_csum + 8, 0x220d);
    assert_int_equal(csum_fold(csum_partial(with_csum, 10, 0)), 0);
}

static void test_odd_lengths(void **state)
{
    (void)state;
    /* RFC 1071 §4.1: an odd last byte is the high byte of a zero-padded word. */
    static const uint8_t one[1] = { 0xab };
    assert_int_equal(csum_fold(csum_partial(one, 1, 0)), (uint16_t)~0xab00);
    static const uint8_t three[3] = { 0x01, 0x02, 0x03 };
    assert_int_equal(csum_fold(csum_partial(three, 3, 0)), (uint16_t)~(0x0102 + 0x0300));
    static const uint8_t five[5] = { 0x01, 0x02, 0x03, 0x04, 0x05 };
    assert_int_equal(csum_fold(csum_partial(five, 5, 0)), (uint16_t)~(0x0102 + 0x0304 + 0x0500));
    static const uint8_t seven[7] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70 };
    /* 0x1020 + 0x3040 + 0x5060 + 0x7000 = 0x100c0 -> carry folds to 0x00c1 */
    assert_int_equal(csum_fold(csum_partial(seven, 7, 0)), (uint16_t)~0x00c1);
    /* odd last piece of a chain */
    uint32_t s = csum_partial(five, 4, 0);
    assert_int_equal(csum_fold(csum_partial(five + 4, 1, s)), (uint16_t)~(0x0102 + 0x0304 + 0x0500));
}

static void test_empty_zero_and_carries(void **state)
{
    (void)state;
    uint8_t buf[64] = { 0 };
    /* No bytes and all-zero bytes: sum 0, checksum 0xFFFF. */
    assert_int_equal(csum_fold(csum_partial(buf, 0, 0)), 0xffff);
    assert_int_equal(csum_fold(csum_partial(buf, sizeof(buf), 0)), 0xffff);
    /* All ones: every word is -0, the sum stays 0xFFFF, checksum 0. */
    memset(buf, 0xff, sizeof(buf));
    for (size_t n = 2; n <= sizeof(buf); n += 2)
        assert_int_equal(csum_fold(csum_partial(buf, n, 0)), 0);
    /* 0xFFFE + 0x0002 = 0x10000 -> end-around carry -> 0x0001. */
    static const uint8_t carry[4] = { 0xff, 0xfe, 0x00, 0x02 };
    assert_int_equal(csum_fold(csum_partial(carry, 4, 0)), (uint16_t)~0x0001);
    /* The incoming sum may be any 32-bit value: 0xFFFFFFFF == 0xFFFF+0xFFFF
     * == 0xFFFF (mod 0xFFFF). */
    assert_int_equal(csum_fold(csum_partial(carry, 4, 0xffffffffu)), (uint16_t)~0x0001);
    assert_int_equal(csum_fold(0xffffffffu), 0);
    assert_int_equal(csum_fold(0x0001fffeu), 0); /* 0xFFFE + 1 = 0xFFFF */
    assert_int_equal(csum_fold(0x12345678u), (uint16_t)~(0x1234 + 0x5678));
}

static void test_captured_ip_headers_verify(void **state)
{
    (void)state;
    const uint8_t *frames[] = { cap_echo_request, cap_echo_reply, cap_udp, cap_port_unreach };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(csum_fold(csum_partial(frames[i] + CAP_L3, IPV4_HDR_LEN, 0)), 0);
        /* and the stored checksum is what we compute with the field zeroed */
        uint8_t hdr[IPV4_HDR_LEN];
        memcpy(hdr, frames[i] + CAP_L3, IPV4_HDR_LEN);
        uint16_t stored = be16(hdr + 10);
        put_be16(hdr + 10, 0);
        assert_int_equal(csum_fold(csum_partial(hdr, IPV4_HDR_LEN, 0)), stored);
    }
    /* 16-byte ICMP echo (even) verifies over header + data */
    assert_int_equal(csum_fold(csum_partial(cap_echo_request + CAP_L4, 16, 0)), 0);
}

static void test_pseudo_v4(void **state)
{
    (void)state;
    /* RFC 768 pseudo header, laid out as bytes and summed naively. */
    uint8_t ph[12] = { 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x00, 17, 0x00, 0x0b };
    assert_int_equal(csum_fold(csum_pseudo_v4(CAP_IP_A, CAP_IP_B, IP_PROTO_UDP, 11)),
                     (uint16_t)~ref_sum(ph, 12, 0));
    /* extremes: all-ones addresses and length */
    uint8_t ph2[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff };
    assert_int_equal(csum_fold(csum_pseudo_v4(0xffffffffu, 0xffffffffu, 0xff, 0xffff)),
                     (uint16_t)~ref_sum(ph2, 12, 0));
    /* The captured UDP datagram verifies with it. */
    uint32_t s = csum_pseudo_v4(CAP_IP_A, CAP_IP_B, IP_PROTO_UDP, 11);
    assert_int_equal(csum_fold(csum_partial(cap_udp + CAP_L4, 11, s)), 0);
}

static void test_pseudo_v6(void **state)
{
    (void)state;
    const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
    const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
    /* RFC 8200 §8.1: src, dst, 32-bit length, 3 zero bytes, next header */
    uint8_t ph[40] = { 0 };
    memcpy(ph, src, 16);
    memcpy(ph + 16, dst, 16);
    put_be32(ph + 32, 0x0001000b);
    ph[39] = 17;
    assert_int_equal(csum_fold(csum_pseudo_v6(src, dst, 17, 0x0001000b)),
                     (uint16_t)~ref_sum(ph, 40, 0));
    /* chaining data after it */
    static const uint8_t data[3] = { 0xde, 0xad, 0xbe };
    uint8_t all[43];
    memcpy(all, ph, 40);
    memcpy(all + 40, data, 3);
    assert_int_equal(csum_fold(csum_partial(data, 3, csum_pseudo_v6(src, dst, 17, 0x0001000b))),
                     (uint16_t)~ref_sum(all, 43, 0));
}

/* xorshift64*: seeded, so a failure is reproducible. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void test_random_against_reference(void **state)
{
    (void)state;
    enum { MAXLEN = 4096 + 64 };
    uint64_t seed = 0x5eed1071ULL;
    uint8_t *buf = malloc(MAXLEN + 8);
    assert_non_null(buf);
    for (int iter = 0; iter < 3000; iter++) {
        /* mostly small lengths, some large; all alignments */
        size_t len = (iter % 10 == 0) ? rnd(&seed) % MAXLEN : rnd(&seed) % 100;
        size_t off = rnd(&seed) % 8;
        /* biased bytes (many 0xff) to provoke carries */
        for (size_t i = 0; i < len; i++) {
            uint64_t r = rnd(&seed);
            buf[off + i] = (r & 0x300) ? (uint8_t)r : 0xff;
        }
        const uint8_t *p = buf + off;
        uint32_t start = (iter % 3 == 0) ? (uint32_t)rnd(&seed) : 0;
        uint16_t expect = (uint16_t)~ref_sum(p, len, start);
        uint16_t one_shot = csum_fold(csum_partial(p, len, start));
        assert_int_equal(one_shot, expect);

        /* the same bytes in random even-length pieces, the last one odd or even */
        uint32_t s = start;
        size_t done = 0;
        while (done < len) {
            size_t left = len - done;
            size_t piece = (rnd(&seed) % 70) & ~(size_t)1;
            if (piece >= left)
                piece = left;
            s = csum_partial(p + done, piece, s);
            done += piece;
        }
        assert_int_equal(csum_fold(s), one_shot);
    }
    free(buf);
}

static void test_wire_err_str(void **state)
{
    (void)state;
    assert_string_equal(wire_err_str(WIRE_OK), "ok");
    assert_string_equal(wire_err_str(WIRE_TRUNCATED), "truncated");
    assert_string_equal(wire_err_str(WIRE_BAD_VERSION), "bad version");
    assert_string_equal(wire_err_str(WIRE_BAD_HDRLEN), "bad header length");
    assert_string_equal(wire_err_str(WIRE_BAD_LENGTH), "bad length");
    assert_string_equal(wire_err_str(WIRE_BAD_CHECKSUM), "bad checksum");
    assert_string_equal(wire_err_str(WIRE_BAD_FIELD), "bad field");
    assert_string_equal(wire_err_str(WIRE_UNSUPPORTED), "unsupported");
    assert_string_equal(wire_err_str((enum wire_err)99), "unknown wire error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_odd_lengths),
        cmocka_unit_test(test_empty_zero_and_carries),
        cmocka_unit_test(test_captured_ip_headers_verify),
        cmocka_unit_test(test_pseudo_v4),
        cmocka_unit_test(test_pseudo_v6),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_wire_err_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
