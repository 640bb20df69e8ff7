/* SPDX-License-Identifier: MIT */
/* ICMPv4 (RFC 792): captured echo request/reply and port unreachable parsed
 * and emitted byte for byte (including in place and overlapping), truncation
 * at every length and bad checksums (BAD-INPUT F.29). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire.h"
#include "wire_captures.h"

#define ECHO_REQ (cap_echo_request + CAP_L4)
#define ECHO_REP (cap_echo_reply + CAP_L4)
#define ECHO_LEN (sizeof(cap_echo_request) - CAP_L4) /* 16 */
#define UNREACH (cap_port_unreach + CAP_L4)
#define UNREACH_LEN (sizeof(cap_port_unreach) - CAP_L4) /* 39 (odd) */

static const uint8_t echo_data[8] = { 'A', 'B', 'C', 'D', 0, 0, 0, 0 };

static void test_parse_echo(void **state)
{
    (void)state;
    struct icmp_repr r;
    assert_int_equal(icmp_parse(ECHO_REQ, ECHO_LEN, &r, true), WIRE_OK);
    assert_int_equal(r.type, ICMP_ECHO_REQUEST);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.rest, 0x0d150001u); /* ident 0x0d15, seq 1 */
    assert_ptr_equal(r.data, ECHO_REQ + 8);
    assert_int_equal(r.data_len, 8);
    assert_memory_equal(r.data, echo_data, 8);

    assert_int_equal(icmp_parse(ECHO_REP, ECHO_LEN, &r, true), WIRE_OK);
    assert_int_equal(r.type, ICMP_ECHO_REPLY);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.rest, 0x0d150001u);
    assert_int_equal(r.data_len, 8);
    assert_memory_equal(r.data, echo_data, 8);
}

static void test_parse_port_unreach(void **state)
{
    (void)state;
    struct icmp_repr r;
    assert_int_equal(UNREACH_LEN, 39);
    assert_int_equal(icmp_parse(UNREACH, UNREACH_LEN, &r, true), WIRE_OK);
    assert_int_equal(r.type, ICMP_DEST_UNREACH);
    assert_int_equal(r.code, ICMP_UNREACH_PORT);
    assert_int_equal(r.rest, 0);
    assert_ptr_equal(r.data, UNREACH + 8);
    assert_int_equal(r.data_len, 31); /* the whole offending datagram */
    /* the quote is the UDP datagram we sent (IP header starts 0x45) */
    assert_int_equal(r.data[0], 0x45);
    assert_int_equal(be16(r.data + 20), 55774);
    assert_int_equal(be16(r.data + 22), 4001);
}

static void test_emit_echo_matches_capture(void **state)
{
    (void)state;
    uint8_t out[ECHO_LEN + 1];
    memset(out, 0xaa, sizeof(out));
    struct icmp_repr r = { .type = ICMP_ECHO_REQUEST, .code = 0, .rest = 0x0d150001u,
                           .data = echo_data, .data_len = 8 };
    icmp_emit(&r, out);
    assert_memory_equal(out, ECHO_REQ, ECHO_LEN);
    assert_int_equal(out[ECHO_LEN], 0xaa);

    /* The echo reply built in place over the request, as a responder does:
     * data already sits at buf+8. */
    uint8_t buf[ECHO_LEN];
    memcpy(buf, ECHO_REQ, ECHO_LEN);
    struct icmp_repr q;
    assert_int_equal(icmp_parse(buf, sizeof(buf), &q, true), WIRE_OK);
    q.type = ICMP_ECHO_REPLY;
    icmp_emit(&q, buf);
    assert_memory_equal(buf, ECHO_REP, ECHO_LEN);
}

static void test_emit_port_unreach_matches_capture(void **state)
{
    (void)state;
    /* The error quotes the datagram it is about (RFC 792, RFC 1122 §3.2.2). */
    uint8_t out[UNREACH_LEN];
    struct icmp_repr r = { .type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT, .rest = 0,
                           .data = UNREACH + 8, .data_len = UNREACH_LEN - 8 };
    icmp_emit(&r, out);
    assert_memory_equal(out, UNREACH, UNREACH_LEN);
}

static void test_emit_overlapping_data(void **state)
{
    (void)state;
    /* The quoted datagram sits at buf+4 (overlapping the destination
     * buf+8..): memmove semantics give the same bytes as the capture. */
    uint8_t buf[64];
    memset(buf, 0x77, sizeof(buf));
    memcpy(buf + 4, UNREACH + 8, UNREACH_LEN - 8);
    struct icmp_repr r = { .type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT, .rest = 0,
                           .data = buf + 4, .data_len = UNREACH_LEN - 8 };
    icmp_emit(&r, buf);
    assert_memory_equal(buf, UNREACH, UNREACH_LEN);
    /* ... and from further up the buffer */
    memset(buf, 0x77, sizeof(buf));
    memcpy(buf + 20, UNREACH + 8, UNREACH_LEN - 8);
    r.data = buf + 20;
    icmp_emit(&r, buf);
    assert_memory_equal(buf, UNREACH, UNREACH_LEN);
}

static void test_emit_frag_needed_and_empty(void **state)
{
    (void)state;
    /* rest carries the next-hop MTU in its low 16 bits (RFC 1191 §4) */
    uint8_t out[ICMP_HDR_LEN];
    struct icmp_repr r = { .type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_FRAG_NEEDED,
                           .rest = 1400, .data = NULL, .data_len = 0 };
    icmp_emit(&r, out);
    static const uint8_t expect[8] = { 0x03, 0x04, 0, 0, 0x00, 0x00, 0x05, 0x78 };
    assert_memory_equal(out, expect, 2);
    assert_memory_equal(out + 4, expect + 4, 4);
    assert_int_equal(be16(out + 2), (uint16_t)~ref_sum(expect, 8, 0));
    struct icmp_repr p;
    assert_int_equal(icmp_parse(out, 8, &p, true), WIRE_OK);
    assert_int_equal(p.rest & 0xffff, 1400);
    assert_int_equal(p.data_len, 0);
}

static void test_odd_length_checksum(void **state)
{
    (void)state;
    /* An echo with 3 data bytes: the checksum pads the odd byte with zero. */
    static const uint8_t data[3] = { 0x01, 0x02, 0x03 };
    uint8_t out[11];
    struct icmp_repr r = { .type = ICMP_ECHO_REQUEST, .rest = 0x00010002u, .data = data,
                           .data_len = 3 };
    icmp_emit(&r, out);
    assert_int_equal(ref_sum(out, 11, 0), 0xffff);
    struct icmp_repr p;
    assert_int_equal(icmp_parse(out, 11, &p, true), WIRE_OK);
    assert_int_equal(p.data_len, 3);
    assert_memory_equal(p.data, data, 3);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    /* BAD-INPUT F.29: fewer than 8 bytes */
    for (size_t len = 0; len < ICMP_HDR_LEN; len++) {
        uint8_t *b = dup_exact(ECHO_REQ, len);
        struct icmp_repr r;
        assert_int_equal(icmp_parse(b, len, &r, true), WIRE_TRUNCATED);
        assert_int_equal(icmp_parse(b, len, &r, false), WIRE_TRUNCATED);
        free(b);
    }
    /* The checksum covers exactly `len` bytes: an exact heap copy of the
     * odd-length capture verifies without reading beyond it. */
    uint8_t *b = dup_exact(UNREACH, UNREACH_LEN);
    struct icmp_repr r;
    assert_int_equal(icmp_parse(b, UNREACH_LEN, &r, true), WIRE_OK);
    free(b);
}

static void test_bad_checksum(void **state)
{
    (void)state;
    struct icmp_repr r;
    /* RFC 1122 §3.2.2 / BAD-INPUT F.29: any flipped bit, header or data */
    for (size_t byte = 0; byte < ECHO_LEN; byte++) {
        uint8_t b[ECHO_LEN];
        memcpy(b, ECHO_REQ, ECHO_LEN);
        b[byte] ^= 0x10;
        assert_int_equal(icmp_parse(b, ECHO_LEN, &r, true), WIRE_BAD_CHECKSUM);
        assert_int_equal(icmp_parse(b, ECHO_LEN, &r, false), WIRE_OK);
    }
    /* a message cut short no longer verifies (the sum covers len bytes);
     * cut off "CD" too, since trailing zero bytes do not change the sum */
    assert_int_equal(icmp_parse(ECHO_REQ, ECHO_LEN - 6, &r, true), WIRE_BAD_CHECKSUM);
    /* a zero checksum field is not special in ICMP */
    uint8_t b[ECHO_LEN];
    memcpy(b, ECHO_REQ, ECHO_LEN);
    put_be16(b + 2, 0);
    assert_int_equal(icmp_parse(b, ECHO_LEN, &r, true), WIRE_BAD_CHECKSUM);
    /* the repr is filled for the trace */
    assert_int_equal(r.type, ICMP_ECHO_REQUEST);
    assert_int_equal(r.rest, 0x0d150001u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_echo),
        cmocka_unit_test(test_parse_port_unreach),
        cmocka_unit_test(test_emit_echo_matches_capture),
        cmocka_unit_test(test_emit_port_unreach_matches_capture),
        cmocka_unit_test(test_emit_overlapping_data),
        cmocka_unit_test(test_emit_frag_needed_and_empty),
        cmocka_unit_test(test_odd_length_checksum),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
