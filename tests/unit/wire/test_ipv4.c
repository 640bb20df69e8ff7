/* SPDX-License-Identifier: MIT */
/* IPv4 header (RFC 791): captured headers parsed field by field and emitted
 * byte for byte; truncation at every length; BAD-INPUT C.10 (version,
 * checksum), C.11 (IHL and total length), C.12 (padding); the order of the
 * checks, which callers map to different counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire.h"
#include "wire_captures.h"

#define ECHO_REQ_IP (cap_echo_request + CAP_L3)
#define ECHO_REQ_IP_LEN (sizeof(cap_echo_request) - CAP_L3) /* 36 */

/* Copy of the captured echo request's IP packet that tests may patch; the
 * header checksum is recomputed with the naive reference when asked. */
struct pkt {
    uint8_t b[64];
};

static struct pkt echo_copy(void)
{
    struct pkt p;
    memset(&p, 0, sizeof(p));
    memcpy(p.b, ECHO_REQ_IP, ECHO_REQ_IP_LEN);
    return p;
}

static void fix_csum(uint8_t *ip, size_t hdr_len)
{
    put_be16(ip + 10, 0);
    put_be16(ip + 10, (uint16_t)~ref_sum(ip, hdr_len, 0));
}

static void test_parse_echo_request(void **state)
{
    (void)state;
    struct ipv4_repr r;
    assert_int_equal(ipv4_parse(ECHO_REQ_IP, ECHO_REQ_IP_LEN, &r, true), WIRE_OK);
    assert_int_equal(r.src, CAP_IP_A);
    assert_int_equal(r.dst, CAP_IP_B);
    assert_int_equal(r.proto, IP_PROTO_ICMP);
    assert_int_equal(r.ttl, 64);
    assert_int_equal(r.tos, 0);
    assert_int_equal(r.id, 0xb0ba);
    assert_true(r.df);
    assert_false(r.mf);
    assert_int_equal(r.frag_off, 0);
    assert_int_equal(r.hdr_len, 20);
    assert_int_equal(r.total_len, 36);
    assert_null(r.options);
    assert_int_equal(r.options_len, 0);
}

static void test_parse_port_unreach_and_quote(void **state)
{
    (void)state;
    struct ipv4_repr r;
    const uint8_t *ip = cap_port_unreach + CAP_L3;
    assert_int_equal(ipv4_parse(ip, sizeof(cap_port_unreach) - CAP_L3, &r, true), WIRE_OK);
    assert_int_equal(r.src, CAP_IP_B);
    assert_int_equal(r.dst, CAP_IP_A);
    assert_int_equal(r.proto, IP_PROTO_ICMP);
    assert_int_equal(r.ttl, 64);
    assert_int_equal(r.tos, 0xc0); /* Linux sends ICMP errors as CS6 */
    assert_int_equal(r.id, 0x5bd2);
    assert_false(r.df);
    assert_false(r.mf);
    assert_int_equal(r.frag_off, 0);
    assert_int_equal(r.hdr_len, 20);
    assert_int_equal(r.total_len, 59);

    /* the quoted datagram inside the ICMP error */
    const uint8_t *q = ip + 20 + ICMP_HDR_LEN;
    assert_int_equal(ipv4_parse(q, 31, &r, true), WIRE_OK);
    assert_int_equal(r.src, CAP_IP_A);
    assert_int_equal(r.dst, CAP_IP_B);
    assert_int_equal(r.proto, IP_PROTO_UDP);
    assert_int_equal(r.id, 0x8018);
    assert_true(r.df);
    assert_int_equal(r.total_len, 31);
}

static void emit_check(const uint8_t *frame, size_t frame_len)
{
    const uint8_t *ip = frame + CAP_L3;
    struct ipv4_repr r;
    assert_int_equal(ipv4_parse(ip, frame_len - CAP_L3, &r, true), WIRE_OK);
    uint8_t out[IPV4_HDR_LEN + 1];
    memset(out, 0xaa, sizeof(out));
    ipv4_emit(&r, out);
    assert_memory_equal(out, ip, IPV4_HDR_LEN);
    assert_int_equal(out[IPV4_HDR_LEN], 0xaa);
}

static void test_emit_matches_capture(void **state)
{
    (void)state;
    emit_check(cap_echo_request, sizeof(cap_echo_request));
    emit_check(cap_echo_reply, sizeof(cap_echo_reply));
    emit_check(cap_udp, sizeof(cap_udp));
    emit_check(cap_port_unreach, sizeof(cap_port_unreach));

    /* A repr written by hand (as the stack will), not produced by parse. */
    struct ipv4_repr r = { .src = CAP_IP_A, .dst = CAP_IP_B, .proto = IP_PROTO_UDP,
                           .ttl = IPV4_DEFAULT_TTL, .tos = 0, .id = 0xa4ea, .df = true,
                           .hdr_len = 20, .total_len = 31 };
    uint8_t out[IPV4_HDR_LEN];
    ipv4_emit(&r, out);
    assert_memory_equal(out, cap_udp + CAP_L3, IPV4_HDR_LEN);
}

static void test_fragment_fields(void **state)
{
    (void)state;
    /* MF set, offset 1480 bytes (field 185): a middle fragment. */
    struct ipv4_repr r = { .src = CAP_IP_A, .dst = CAP_IP_B, .proto = IP_PROTO_UDP, .ttl = 1,
                           .tos = 0x2e, .id = 0x1234, .mf = true, .frag_off = 1480,
                           .hdr_len = 20, .total_len = 20 + 8 };
    uint8_t b[28] = { 0 };
    ipv4_emit(&r, b);
    static const uint8_t expect_no_csum[20] = {
        0x45, 0x2e, 0x00, 0x1c, 0x12, 0x34, 0x20, 0xb9, 0x01, 0x11, 0x00, 0x00,
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    assert_memory_equal(b, expect_no_csum, 10);
    assert_memory_equal(b + 12, expect_no_csum + 12, 8);
    assert_int_equal(be16(b + 10), (uint16_t)~ref_sum(expect_no_csum, 20, 0));

    struct ipv4_repr p;
    assert_int_equal(ipv4_parse(b, sizeof(b), &p, true), WIRE_OK);
    assert_true(p.mf);
    assert_false(p.df);
    assert_int_equal(p.frag_off, 1480);
    assert_int_equal(p.ttl, 1);
    assert_int_equal(p.tos, 0x2e);

    /* largest offset: field 0x1fff = 65528 bytes */
    put_be16(b + 6, 0x1fff);
    fix_csum(b, 20);
    assert_int_equal(ipv4_parse(b, sizeof(b), &p, true), WIRE_OK);
    assert_int_equal(p.frag_off, 65528);
    assert_false(p.mf);
    assert_false(p.df);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    /* below 20: no header; 20..35: header fine, total length 36 exceeds the
     * span (BAD-INPUT C.11 "total length > bytes received"). */
    for (size_t len = 0; len < ECHO_REQ_IP_LEN; len++) {
        uint8_t *b = dup_exact(ECHO_REQ_IP, len);
        struct ipv4_repr r;
        assert_int_equal(ipv4_parse(b, len, &r, true), WIRE_TRUNCATED);
        free(b);
    }
    uint8_t *b = dup_exact(ECHO_REQ_IP, ECHO_REQ_IP_LEN);
    struct ipv4_repr r;
    assert_int_equal(ipv4_parse(b, ECHO_REQ_IP_LEN, &r, true), WIRE_OK);
    free(b);
}

static void test_bad_version(void **state)
{
    (void)state;
    struct ipv4_repr r;
    static const uint8_t versions[] = { 0, 5, 6, 15 };
    for (size_t i = 0; i < 4; i++) {
        struct pkt p = echo_copy();
        p.b[0] = (uint8_t)(versions[i] << 4 | 5);
        fix_csum(p.b, 20); /* the version check alone must reject it */
        assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_VERSION);
    }
    /* an IPv6 header in an 0x0800 frame (BAD-INPUT C.10) */
    uint8_t v6[40] = { 0x60, 0, 0, 0, 0, 0, 17, 64 };
    assert_int_equal(ipv4_parse(v6, sizeof(v6), &r, true), WIRE_BAD_VERSION);
    /* order: TRUNCATED (len < 20) before BAD_VERSION */
    assert_int_equal(ipv4_parse(v6, 19, &r, true), WIRE_TRUNCATED);
}

static void test_bad_ihl(void **state)
{
    (void)state;
    struct ipv4_repr r;
    /* RFC 791: IHL < 5 is impossible (BAD-INPUT C.11) */
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        struct pkt p = echo_copy();
        p.b[0] = (uint8_t)(0x40 | ihl);
        fix_csum(p.b, 20);
        assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_HDRLEN);
    }
    /* order: version before IHL */
    struct pkt p = echo_copy();
    p.b[0] = 0x62;
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_VERSION);

    /* IHL*4 beyond the span: IHL 15 (60 bytes) in a 36-byte packet; also
     * in a 59-byte span.  Total length is irrelevant at this point. */
    p = echo_copy();
    p.b[0] = 0x4f;
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_TRUNCATED);
    put_be16(p.b + 2, 60);
    assert_int_equal(ipv4_parse(p.b, 59, &r, true), WIRE_TRUNCATED);
    /* IHL 9 (36 bytes) in a 36-byte span passes the IHL checks; total 36 */
    p = echo_copy();
    p.b[0] = 0x49;
    fix_csum(p.b, 36);
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_OK);
    assert_int_equal(r.hdr_len, 36);
    assert_int_equal(r.options_len, 16);
    assert_ptr_equal(r.options, p.b + 20);
}

static void test_bad_total_length(void **state)
{
    (void)state;
    struct ipv4_repr r;
    /* total < IHL*4, including 0 (BAD-INPUT C.11) */
    static const uint16_t totals[] = { 0, 1, 19 };
    for (size_t i = 0; i < 3; i++) {
        struct pkt p = echo_copy();
        put_be16(p.b + 2, totals[i]);
        fix_csum(p.b, 20);
        assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_LENGTH);
    }
    /* with options: IHL 6 (24 bytes), total 20..23 */
    for (uint16_t t = 20; t < 24; t++) {
        struct pkt p = echo_copy();
        p.b[0] = 0x46;
        put_be16(p.b + 2, t);
        fix_csum(p.b, 24);
        assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_LENGTH);
    }
    /* total > span: TRUNCATED, even by one byte, up to 0xffff */
    struct pkt p = echo_copy();
    put_be16(p.b + 2, 37);
    fix_csum(p.b, 20);
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_TRUNCATED);
    put_be16(p.b + 2, 0xffff);
    fix_csum(p.b, 20);
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_TRUNCATED);
    /* order: BAD_LENGTH and TRUNCATED come before the checksum */
    p = echo_copy();
    put_be16(p.b + 2, 19); /* checksum now also wrong */
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_LENGTH);
    put_be16(p.b + 2, 40);
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_TRUNCATED);
}

static void test_padding_accepted(void **state)
{
    (void)state;
    /* BAD-INPUT C.12 / A.4: a 60-byte frame carries 46 bytes of IP span for
     * a 36-byte packet; parse succeeds and reports the real total length. */
    uint8_t frame[ETH_MIN_FRAME] = { 0 };
    memcpy(frame, cap_echo_request, sizeof(cap_echo_request));
    memset(frame + sizeof(cap_echo_request), 0xee, sizeof(frame) - sizeof(cap_echo_request));
    struct ipv4_repr r;
    assert_int_equal(ipv4_parse(frame + CAP_L3, ETH_MIN_FRAME - CAP_L3, &r, true), WIRE_OK);
    assert_int_equal(r.total_len, 36);
    assert_int_equal(r.hdr_len, 20);
}

static void test_bad_checksum(void **state)
{
    (void)state;
    struct ipv4_repr r;
    /* RFC 1122 §3.2.1.2 (BAD-INPUT C.10): flip any single header bit -
     * except in the fields checked earlier - and the checksum fails. */
    for (size_t byte = 4; byte < 20; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            struct pkt p = echo_copy();
            p.b[byte] ^= (uint8_t)(1u << bit);
            assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_CHECKSUM);
            /* without verification it parses, and the repr is filled */
            assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, false), WIRE_OK);
        }
    }
    /* the repr is filled on BAD_CHECKSUM too, for the trace */
    struct pkt p = echo_copy();
    p.b[8] = 1; /* TTL 1 with the TTL-64 checksum */
    memset(&r, 0, sizeof(r));
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_CHECKSUM);
    assert_int_equal(r.ttl, 1);
    assert_int_equal(r.id, 0xb0ba);
    /* payload bytes are not covered by the header checksum */
    p = echo_copy();
    p.b[30] ^= 0xff;
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_OK);
    /* the checksum covers options too */
    p = echo_copy();
    p.b[0] = 0x46;
    fix_csum(p.b, 24);
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_OK);
    p.b[22] ^= 0x01;
    assert_int_equal(ipv4_parse(p.b, ECHO_REQ_IP_LEN, &r, true), WIRE_BAD_CHECKSUM);
}

static void test_options(void **state)
{
    (void)state;
    /* BAD-INPUT C.16: NOP NOP NOP EOL padding and an unknown option type 10
     * length 4; the parser reports them, interpreting them is the caller's
     * job. */
    uint8_t b[60] = { 0 };
    memcpy(b, ECHO_REQ_IP, 20);
    b[0] = 0x47;
    put_be16(b + 2, 28);
    static const uint8_t opts[8] = { 0x0a, 0x04, 0xaa, 0xbb, 0x01, 0x01, 0x01, 0x00 };
    memcpy(b + 20, opts, 8);
    fix_csum(b, 28);
    uint8_t *h = dup_exact(b, 28);
    struct ipv4_repr r;
    assert_int_equal(ipv4_parse(h, 28, &r, true), WIRE_OK);
    assert_int_equal(r.hdr_len, 28);
    assert_int_equal(r.total_len, 28);
    assert_int_equal(r.options_len, 8);
    assert_ptr_equal(r.options, h + 20);
    assert_memory_equal(r.options, opts, 8);
    free(h);

    /* largest header: IHL 15, all 40 option bytes, nothing else */
    memset(b + 20, 0x01, 40);
    b[0] = 0x4f;
    put_be16(b + 2, 60);
    fix_csum(b, 60);
    h = dup_exact(b, 60);
    assert_int_equal(ipv4_parse(h, 60, &r, true), WIRE_OK);
    assert_int_equal(r.hdr_len, 60);
    assert_int_equal(r.options_len, 40);
    assert_ptr_equal(r.options, h + 20);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_echo_request),
        cmocka_unit_test(test_parse_port_unreach_and_quote),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_fragment_fields),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_bad_ihl),
        cmocka_unit_test(test_bad_total_length),
        cmocka_unit_test(test_padding_accepted),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
