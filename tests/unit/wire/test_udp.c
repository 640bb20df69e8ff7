/* SPDX-License-Identifier: MIT */
/* UDP (RFC 768): captured datagram parsed and emitted byte for byte,
 * truncation at every length, impossible length fields (BAD-INPUT I.39) and
 * the checksum rules of I.40 over IPv4 and IPv6, including a payload built so
 * that the computed checksum is 0 and must be sent as 0xFFFF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire.h"
#include "wire_captures.h"

#define UDP (cap_udp + CAP_L4)
#define UDP_LEN (sizeof(cap_udp) - CAP_L4) /* 11: 8 + "hi\n" */

static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 }; /* 2001:db8::1 */
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x02 }; /* 2001:db8::2 */

/* Naive checksum sum over pseudo-header + datagram, laid out as bytes. */
static uint32_t ref_udp_sum_v4(const uint8_t *udp, uint16_t len, uint32_t src, uint32_t dst)
{
    uint8_t ph[12] = { 0 };
    put_be32(ph, src);
    put_be32(ph + 4, dst);
    ph[9] = IP_PROTO_UDP;
    put_be16(ph + 10, len);
    return ref_sum(udp, len, ref_sum(ph, 12, 0));
}

static uint32_t ref_udp_sum_v6(const uint8_t *udp, uint16_t len)
{
    uint8_t ph[40] = { 0 };
    memcpy(ph, v6_src, 16);
    memcpy(ph + 16, v6_dst, 16);
    put_be32(ph + 32, len);
    ph[39] = IP_PROTO_UDP;
    return ref_sum(udp, len, ref_sum(ph, 40, 0));
}

static void test_parse_captured(void **state)
{
    (void)state;
    struct udp_repr r;
    assert_int_equal(udp_parse(UDP, UDP_LEN, &r), WIRE_OK);
    assert_int_equal(r.sport, 52342);
    assert_int_equal(r.dport, 4000);
    assert_int_equal(r.len, 11);
    assert_int_equal(r.csum, 0x2d54);
    assert_true(udp_csum_ok_v4(UDP, r.len, CAP_IP_A, CAP_IP_B));
}

static void test_emit_matches_capture(void **state)
{
    (void)state;
    uint8_t buf[UDP_LEN + 1];
    memset(buf, 0xaa, sizeof(buf));
    memcpy(buf + UDP_HDR_LEN, "hi\n", 3);
    udp_emit_v4(buf, 52342, 4000, 3, CAP_IP_A, CAP_IP_B);
    assert_memory_equal(buf, UDP, UDP_LEN);
    assert_int_equal(buf[UDP_LEN], 0xaa);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    struct udp_repr r;
    /* shorter than the header */
    for (size_t len = 0; len < UDP_HDR_LEN; len++) {
        uint8_t *b = dup_exact(UDP, len);
        assert_int_equal(udp_parse(b, len, &r), WIRE_TRUNCATED);
        free(b);
    }
    /* BAD-INPUT I.39: header complete, length field 11 > span 8..10 */
    for (size_t len = UDP_HDR_LEN; len < UDP_LEN; len++) {
        uint8_t *b = dup_exact(UDP, len);
        assert_int_equal(udp_parse(b, len, &r), WIRE_TRUNCATED);
        free(b);
    }
}

static void test_impossible_length_field(void **state)
{
    (void)state;
    struct udp_repr r;
    uint8_t b[UDP_LEN];
    /* RFC 768: the length includes the 8-byte header (BAD-INPUT I.39) */
    for (uint16_t f = 0; f < UDP_HDR_LEN; f++) {
        memcpy(b, UDP, UDP_LEN);
        put_be16(b + 4, f);
        assert_int_equal(udp_parse(b, UDP_LEN, &r), WIRE_BAD_LENGTH);
    }
    /* length > span */
    memcpy(b, UDP, UDP_LEN);
    put_be16(b + 4, 12);
    assert_int_equal(udp_parse(b, UDP_LEN, &r), WIRE_TRUNCATED);
    put_be16(b + 4, 0xffff);
    assert_int_equal(udp_parse(b, UDP_LEN, &r), WIRE_TRUNCATED);
    /* order: a span below 8 is TRUNCATED whatever the field says */
    put_be16(b + 4, 3);
    assert_int_equal(udp_parse(b, 7, &r), WIRE_TRUNCATED);
}

static void test_length_shorter_than_span(void **state)
{
    (void)state;
    /* BAD-INPUT I.39: trailing bytes after the UDP length (e.g. Ethernet
     * padding the IP layer did not trim) are ignored: the field wins, and
     * the checksum over the field's length still verifies. */
    uint8_t b[UDP_LEN + 7];
    memcpy(b, UDP, UDP_LEN);
    memset(b + UDP_LEN, 0x99, 7);
    struct udp_repr r;
    assert_int_equal(udp_parse(b, sizeof(b), &r), WIRE_OK);
    assert_int_equal(r.len, 11);
    assert_true(udp_csum_ok_v4(b, r.len, CAP_IP_A, CAP_IP_B));
    /* header only, length 8 */
    uint8_t h[8] = { 0x00, 0x07, 0x00, 0x09, 0x00, 0x08, 0x00, 0x00 };
    assert_int_equal(udp_parse(h, 8, &r), WIRE_OK);
    assert_int_equal(r.sport, 7);
    assert_int_equal(r.dport, 9);
    assert_int_equal(r.len, 8);
    assert_int_equal(r.csum, 0);
}

static void test_wrong_checksum_fails(void **state)
{
    (void)state;
    /* RFC 1122 §4.1.3.4 (BAD-INPUT I.40): every flipped bit is caught */
    for (size_t byte = 0; byte < UDP_LEN; byte++) {
        uint8_t b[UDP_LEN];
        memcpy(b, UDP, UDP_LEN);
        b[byte] ^= 0x04;
        if (byte == 6 || byte == 7) {
            /* still a non-zero checksum field, just a wrong one */
            assert_int_not_equal(be16(b + 6), 0);
        }
        assert_false(udp_csum_ok_v4(b, UDP_LEN, CAP_IP_A, CAP_IP_B));
    }
    /* the pseudo-header counts: a different destination address fails */
    assert_false(udp_csum_ok_v4(UDP, UDP_LEN, CAP_IP_A, 0xC0000203u));
    assert_false(udp_csum_ok_v4(UDP, UDP_LEN, 0xC6336401u, CAP_IP_B));
    /* as does a length that does not match the data summed */
    assert_false(udp_csum_ok_v4(UDP, UDP_LEN - 1, CAP_IP_A, CAP_IP_B));
    /* a length too short to hold the header never verifies */
    assert_false(udp_csum_ok_v4(UDP, 7, CAP_IP_A, CAP_IP_B));
    assert_false(udp_csum_ok_v6(UDP, 7, v6_src, v6_dst));
}

static void test_zero_checksum_v4_and_v6(void **state)
{
    (void)state;
    uint8_t b[UDP_LEN];
    memcpy(b, UDP, UDP_LEN);
    put_be16(b + 6, 0);
    /* RFC 768: zero = "no checksum", accepted over IPv4 (even though the
     * data would not match any checksum) */
    assert_true(udp_csum_ok_v4(b, UDP_LEN, CAP_IP_A, CAP_IP_B));
    assert_true(udp_csum_ok_v4(b, UDP_LEN, 0, 0));
    /* RFC 8200 §8.1: zero is invalid over IPv6 */
    assert_false(udp_csum_ok_v6(b, UDP_LEN, v6_src, v6_dst));
}

static void test_emit_v6(void **state)
{
    (void)state;
    uint8_t buf[UDP_HDR_LEN + 5];
    memcpy(buf + UDP_HDR_LEN, "hello", 5);
    udp_emit_v6(buf, 546, 547, 5, v6_src, v6_dst);
    assert_int_equal(be16(buf), 546);
    assert_int_equal(be16(buf + 2), 547);
    assert_int_equal(be16(buf + 4), 13);
    /* checksum equals the naive computation with the field zeroed */
    uint16_t got = be16(buf + 6);
    put_be16(buf + 6, 0);
    assert_int_equal(got, (uint16_t)~ref_udp_sum_v6(buf, 13));
    put_be16(buf + 6, got);
    assert_true(udp_csum_ok_v6(buf, 13, v6_src, v6_dst));
    assert_memory_equal(buf + UDP_HDR_LEN, "hello", 5);
    /* a different source fails */
    uint8_t other[16];
    memcpy(other, v6_src, 16);
    other[15] = 3;
    assert_false(udp_csum_ok_v6(buf, 13, other, v6_dst));
    buf[9] ^= 1;
    assert_false(udp_csum_ok_v6(buf, 13, v6_src, v6_dst));
}

/* Build a 4-byte payload "hi" + W where W makes the one's-complement sum of
 * pseudo-header + header (checksum field 0) + payload equal 0xFFFF, i.e. the
 * computed checksum ~0xFFFF = 0. */
static void make_zero_sum_payload_v4(uint8_t *buf, uint16_t sport, uint16_t dport)
{
    put_be16(buf, sport);
    put_be16(buf + 2, dport);
    put_be16(buf + 4, 12);
    put_be16(buf + 6, 0);
    memcpy(buf + 8, "hi", 2);
    put_be16(buf + 10, 0);
    uint32_t s = ref_udp_sum_v4(buf, 12, CAP_IP_A, CAP_IP_B);
    put_be16(buf + 10, (uint16_t)~s); /* s + ~s = 0xFFFF */
    assert_int_equal(ref_udp_sum_v4(buf, 12, CAP_IP_A, CAP_IP_B), 0xffff);
}

static void test_computed_zero_sent_as_ffff_v4(void **state)
{
    (void)state;
    uint8_t buf[12];
    make_zero_sum_payload_v4(buf, 1234, 5678);
    uint8_t payload[4];
    memcpy(payload, buf + 8, 4);
    memset(buf, 0xcc, 8); /* emit must overwrite the whole header */
    udp_emit_v4(buf, 1234, 5678, 4, CAP_IP_A, CAP_IP_B);
    /* RFC 768: computed 0 is transmitted as all ones */
    assert_int_equal(be16(buf + 6), 0xffff);
    assert_int_equal(be16(buf), 1234);
    assert_int_equal(be16(buf + 2), 5678);
    assert_int_equal(be16(buf + 4), 12);
    assert_memory_equal(buf + 8, payload, 4);
    /* and it verifies (0xFFFF and 0 are the same number) */
    assert_true(udp_csum_ok_v4(buf, 12, CAP_IP_A, CAP_IP_B));

    /* control: change the payload by one and the checksum is an ordinary,
     * non-0xFFFF value - the mapping applies to 0 only */
    buf[11] ^= 1;
    udp_emit_v4(buf, 1234, 5678, 4, CAP_IP_A, CAP_IP_B);
    assert_int_not_equal(be16(buf + 6), 0xffff);
    uint16_t got = be16(buf + 6);
    put_be16(buf + 6, 0);
    assert_int_equal(got, (uint16_t)~ref_udp_sum_v4(buf, 12, CAP_IP_A, CAP_IP_B));
}

static void test_computed_zero_sent_as_ffff_v6(void **state)
{
    (void)state;
    uint8_t buf[12] = { 0 };
    put_be16(buf, 1234);
    put_be16(buf + 2, 5678);
    put_be16(buf + 4, 12);
    memcpy(buf + 8, "hi", 2);
    uint32_t s = ref_udp_sum_v6(buf, 12);
    put_be16(buf + 10, (uint16_t)~s);
    assert_int_equal(ref_udp_sum_v6(buf, 12), 0xffff);
    udp_emit_v6(buf, 1234, 5678, 4, v6_src, v6_dst);
    assert_int_equal(be16(buf + 6), 0xffff);
    /* over IPv6 the 0xFFFF form is the only valid one (0 is rejected) */
    assert_true(udp_csum_ok_v6(buf, 12, v6_src, v6_dst));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_captured),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_impossible_length_field),
        cmocka_unit_test(test_length_shorter_than_span),
        cmocka_unit_test(test_wrong_checksum_fails),
        cmocka_unit_test(test_zero_checksum_v4_and_v6),
        cmocka_unit_test(test_emit_v6),
        cmocka_unit_test(test_computed_zero_sent_as_ffff_v4),
        cmocka_unit_test(test_computed_zero_sent_as_ffff_v6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
