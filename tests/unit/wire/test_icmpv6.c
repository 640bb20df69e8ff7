/* SPDX-License-Identifier: MIT */
/* ICMPv6 (RFC 4443): captured echo request/reply and port unreachable parsed
 * and emitted byte for byte (also in place, as a reply built over the
 * request), truncation at every length, bad checksums including the
 * pseudo-header (BAD-INPUT G.34, V1, V5), the error quote size (G.33). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire6.h"
#include "wire6_captures.h"

static const uint8_t ip_a[16] = CAP6_IP_A;
static const uint8_t ip_b[16] = CAP6_IP_B;
static const uint8_t echo_data[8] = { 'A', 'B', 'C', 'D', 0, 0, 0, 0 };

#define ECHO_REQ CAP6_UL(cap6_echo_request)
#define ECHO_REP CAP6_UL(cap6_echo_reply)
#define ECHO_LEN CAP6_UL_LEN(cap6_echo_request) /* 16 */
#define UNREACH CAP6_UL(cap6_port_unreach)
#define UNREACH_LEN CAP6_UL_LEN(cap6_port_unreach) /* 59 (odd) */

/* naive reference: pseudo-header laid out as bytes, then the message */
static uint16_t ref_csum(const uint8_t *msg, size_t len, const uint8_t *src, const uint8_t *dst)
{
    uint8_t ph[40] = { 0 };
    memcpy(ph, src, 16);
    memcpy(ph + 16, dst, 16);
    put_be32(ph + 32, (uint32_t)len);
    ph[39] = IP_PROTO_ICMPV6;
    return (uint16_t)~ref_sum(msg, len, ref_sum(ph, 40, 0));
}

static void test_parse_echo(void **state)
{
    (void)state;
    struct icmpv6_repr r;
    assert_int_equal(icmpv6_parse(ECHO_REQ, ECHO_LEN, ip_a, ip_b, &r, true), WIRE_OK);
    assert_int_equal(r.type, ICMPV6_ECHO_REQUEST);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.rest, 0x47ba0001u); /* ident 0x47ba, seq 1 */
    assert_ptr_equal(r.data, ECHO_REQ + 8);
    assert_int_equal(r.data_len, 8);
    assert_memory_equal(r.data, echo_data, 8);
    assert_false(icmpv6_is_error(r.type));

    assert_int_equal(icmpv6_parse(ECHO_REP, ECHO_LEN, ip_b, ip_a, &r, true), WIRE_OK);
    assert_int_equal(r.type, ICMPV6_ECHO_REPLY);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.rest, 0x47ba0001u);
    assert_int_equal(r.data_len, 8);
    assert_memory_equal(r.data, echo_data, 8);
    /* the captured checksums against the naive reference */
    uint8_t m[16];
    memcpy(m, ECHO_REQ, 16);
    put_be16(m + 2, 0);
    assert_int_equal(ref_csum(m, 16, ip_a, ip_b), 0x57fe);
}

static void test_parse_port_unreach(void **state)
{
    (void)state;
    const uint8_t *ip = CAP6_IP(cap6_port_unreach);
    struct icmpv6_repr r;
    assert_int_equal(UNREACH_LEN, 59);
    assert_int_equal(icmpv6_parse(UNREACH, UNREACH_LEN, ip + 8, ip + 24, &r, true), WIRE_OK);
    assert_int_equal(r.type, ICMPV6_DEST_UNREACH);
    assert_int_equal(r.code, ICMPV6_UNREACH_PORT);
    assert_int_equal(r.rest, 0);
    assert_true(icmpv6_is_error(r.type));
    assert_ptr_equal(r.data, UNREACH + 8);
    assert_int_equal(r.data_len, 51);
    /* the quote is the whole UDP datagram we sent, and it still verifies */
    struct ipv6_repr q;
    assert_int_equal(ipv6_parse(r.data, r.data_len, &q), WIRE_OK);
    assert_memory_equal(q.src, ip_a, 16);
    assert_memory_equal(q.dst, ip_b, 16);
    assert_int_equal(q.next_header, IP_PROTO_UDP);
    assert_int_equal(q.flow_label, 0x5ae7f);
    struct udp_repr u;
    assert_int_equal(udp_parse(r.data + 40, q.payload_len, &u), WIRE_OK);
    assert_int_equal(u.sport, 53106);
    assert_int_equal(u.dport, 4001);
    assert_int_equal(u.csum, 0x52e6);
    assert_true(udp_csum_ok_v6(r.data + 40, u.len, q.src, q.dst));
    /* what the stack would quote: all 51 bytes fit in 1280 */
    assert_int_equal(icmpv6_error_quote_len(r.data_len), 51);
}

static void test_emit_matches_capture(void **state)
{
    (void)state;
    /* echo request from a hand-written repr */
    uint8_t out[UNREACH_LEN + 1];
    memset(out, 0xaa, sizeof(out));
    struct icmpv6_repr r = { .type = ICMPV6_ECHO_REQUEST, .code = 0, .rest = 0x47ba0001u,
                             .data = echo_data, .data_len = 8 };
    icmpv6_emit(&r, out, ip_a, ip_b);
    assert_memory_equal(out, ECHO_REQ, ECHO_LEN);
    assert_int_equal(out[ECHO_LEN], 0xaa);

    /* the reply built in place over the request (data already at buf+8) */
    uint8_t pkt[ECHO_LEN];
    memcpy(pkt, ECHO_REQ, ECHO_LEN);
    struct icmpv6_repr q;
    assert_int_equal(icmpv6_parse(pkt, ECHO_LEN, ip_a, ip_b, &q, true), WIRE_OK);
    q.type = ICMPV6_ECHO_REPLY;
    icmpv6_emit(&q, pkt, ip_b, ip_a);
    assert_memory_equal(pkt, ECHO_REP, ECHO_LEN);

    /* the port unreachable, odd length, quote copied from elsewhere */
    const uint8_t *ip = CAP6_IP(cap6_port_unreach);
    memset(out, 0xaa, sizeof(out));
    struct icmpv6_repr u = { .type = ICMPV6_DEST_UNREACH, .code = ICMPV6_UNREACH_PORT, .rest = 0,
                             .data = UNREACH + 8, .data_len = UNREACH_LEN - 8 };
    icmpv6_emit(&u, out, ip + 8, ip + 24);
    assert_memory_equal(out, UNREACH, UNREACH_LEN);
    assert_int_equal(out[UNREACH_LEN], 0xaa);

    /* overlapping: the quote sits 4 bytes early in the same buffer */
    uint8_t ov[UNREACH_LEN + 4];
    memcpy(ov + 4, UNREACH + 8, UNREACH_LEN - 8);
    u.data = ov + 4;
    icmpv6_emit(&u, ov, ip + 8, ip + 24);
    assert_memory_equal(ov, UNREACH, UNREACH_LEN);

    /* icmpv6_csum_fill over a message with a stale checksum */
    memcpy(pkt, ECHO_REQ, ECHO_LEN);
    put_be16(pkt + 2, 0x1234);
    icmpv6_csum_fill(pkt, ECHO_LEN, ip_a, ip_b);
    assert_memory_equal(pkt, ECHO_REQ, ECHO_LEN);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    struct icmpv6_repr r;
    for (size_t len = 0; len < ICMPV6_HDR_LEN; len++) {
        uint8_t *b = dup_exact(ECHO_REQ, len);
        assert_int_equal(icmpv6_parse(b, len, ip_a, ip_b, &r, true), WIRE_TRUNCATED);
        assert_int_equal(icmpv6_parse(b, len, ip_a, ip_b, &r, false), WIRE_TRUNCATED);
        free(b);
    }
    /* 8..15: a complete header; the checksum (over `len` bytes, as the
     * upper-layer length says) no longer verifies */
    for (size_t len = ICMPV6_HDR_LEN; len < ECHO_LEN; len++) {
        uint8_t *b = dup_exact(ECHO_REQ, len);
        assert_int_equal(icmpv6_parse(b, len, ip_a, ip_b, &r, true), WIRE_BAD_CHECKSUM);
        assert_int_equal(icmpv6_parse(b, len, ip_a, ip_b, &r, false), WIRE_OK);
        assert_int_equal(r.data_len, len - 8);
        free(b);
    }
    /* the same for the odd-length error */
    for (size_t len = ICMPV6_HDR_LEN; len < UNREACH_LEN; len++) {
        uint8_t *b = dup_exact(UNREACH, len);
        const uint8_t *ip = CAP6_IP(cap6_port_unreach);
        assert_int_equal(icmpv6_parse(b, len, ip + 8, ip + 24, &r, true), WIRE_BAD_CHECKSUM);
        free(b);
    }
}

static void test_bad_checksum(void **state)
{
    (void)state;
    struct icmpv6_repr r;
    /* any flipped bit of the message */
    for (size_t i = 0; i < ECHO_LEN * 8; i++) {
        uint8_t m[ECHO_LEN];
        memcpy(m, ECHO_REQ, ECHO_LEN);
        m[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(icmpv6_parse(m, ECHO_LEN, ip_a, ip_b, &r, true), WIRE_BAD_CHECKSUM);
    }
    /* the pseudo-header counts: other addresses fail (swapping source and
     * destination sums the same - one's-complement addition commutes) */
    static const uint8_t other[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x03 };
    assert_int_equal(icmpv6_parse(ECHO_REQ, ECHO_LEN, other, ip_b, &r, true), WIRE_BAD_CHECKSUM);
    assert_int_equal(icmpv6_parse(ECHO_REQ, ECHO_LEN, ip_a, other, &r, true), WIRE_BAD_CHECKSUM);
    assert_int_equal(icmpv6_parse(ECHO_REQ, ECHO_LEN, ip_b, ip_a, &r, true), WIRE_OK);
    /* a zero checksum field is not "none" as in UDP/IPv4 */
    uint8_t m[ECHO_LEN];
    memcpy(m, ECHO_REQ, ECHO_LEN);
    put_be16(m + 2, 0);
    assert_int_equal(icmpv6_parse(m, ECHO_LEN, ip_a, ip_b, &r, true), WIRE_BAD_CHECKSUM);
    /* the repr is filled on BAD_CHECKSUM too, for the trace */
    memset(&r, 0, sizeof(r));
    assert_int_equal(icmpv6_parse(m, ECHO_LEN, ip_a, ip_b, &r, true), WIRE_BAD_CHECKSUM);
    assert_int_equal(r.type, ICMPV6_ECHO_REQUEST);
    assert_int_equal(r.rest, 0x47ba0001u);
    /* the ND and MLD captures verify with their own addresses */
    const uint8_t *const frames[] = { cap6_dad_ns, cap6_rs, cap6_ra, cap6_ns, cap6_na };
    const size_t lens[] = { sizeof(cap6_dad_ns), sizeof(cap6_rs), sizeof(cap6_ra),
                            sizeof(cap6_ns), sizeof(cap6_na) };
    for (size_t i = 0; i < 5; i++) {
        const uint8_t *ip = frames[i] + CAP6_L3;
        assert_int_equal(icmpv6_parse(ip + 40, lens[i] - CAP6_L4, ip + 8, ip + 24, &r, true),
                         WIRE_OK);
        assert_in_range(r.type, ICMPV6_ND_RS, ICMPV6_ND_NA);
    }
}

static void test_error_quote_len(void **state)
{
    (void)state;
    /* RFC 4443 §2.4(c): 40 + 8 + quote <= 1280 (BAD-INPUT G.33: a 1452-byte
     * UDP payload is quoted as 1232 bytes) */
    assert_int_equal(icmpv6_error_quote_len(0), 0);
    assert_int_equal(icmpv6_error_quote_len(1232), 1232);
    assert_int_equal(icmpv6_error_quote_len(1233), 1232);
    assert_int_equal(icmpv6_error_quote_len(40 + 8 + 1452), 1232);
    assert_int_equal(IPV6_HDR_LEN + ICMPV6_HDR_LEN + icmpv6_error_quote_len(65535),
                     ICMPV6_ERR_MAX_LEN);
}

static void test_packet_too_big_and_param_problem(void **state)
{
    (void)state;
    /* Emit/parse round trips of the two errors whose "rest" means
     * something: PTB carries the MTU, Param Problem the pointer. */
    const uint8_t *quote = CAP6_IP(cap6_echo_request);
    uint8_t buf[8 + 56];
    struct icmpv6_repr e = { .type = ICMPV6_PKT_TOO_BIG, .code = 0, .rest = 1280,
                             .data = quote, .data_len = 56 };
    icmpv6_emit(&e, buf, ip_b, ip_a);
    assert_int_equal(buf[0], 2);
    assert_int_equal(be32(buf + 4), 1280);
    struct icmpv6_repr p;
    assert_int_equal(icmpv6_parse(buf, sizeof(buf), ip_b, ip_a, &p, true), WIRE_OK);
    assert_int_equal(p.rest, 1280);
    assert_memory_equal(p.data, quote, 56);

    e.type = ICMPV6_PARAM_PROBLEM;
    e.code = ICMPV6_PP_NEXT_HEADER;
    e.rest = 6;
    icmpv6_emit(&e, buf, ip_b, ip_a);
    assert_int_equal(icmpv6_parse(buf, sizeof(buf), ip_b, ip_a, &p, true), WIRE_OK);
    assert_int_equal(p.type, ICMPV6_PARAM_PROBLEM);
    assert_int_equal(p.code, 1);
    assert_int_equal(p.rest, 6);
    /* and the checksum agrees with the naive reference */
    uint16_t sent = be16(buf + 2);
    put_be16(buf + 2, 0);
    assert_int_equal(sent, ref_csum(buf, sizeof(buf), ip_b, ip_a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_echo),
        cmocka_unit_test(test_parse_port_unreach),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_error_quote_len),
        cmocka_unit_test(test_packet_too_big_and_param_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
