/* SPDX-License-Identifier: MIT */
/* ARP (RFC 826): captured request and reply, parse and emit, padding,
 * truncation at every length, and the impossible fields of BAD-INPUT B.5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire.h"
#include "wire_captures.h"

static const uint8_t mac_a[6] = CAP_MAC_A;
static const uint8_t mac_b[6] = CAP_MAC_B;
static const uint8_t mac_zero[6] = { 0 };

#define REQ (cap_arp_request + ETH_HDR_LEN)
#define REP (cap_arp_reply + ETH_HDR_LEN)

static void test_parse_request(void **state)
{
    (void)state;
    struct arp_repr r;
    assert_int_equal(sizeof(cap_arp_request) - ETH_HDR_LEN, ARP_LEN);
    assert_int_equal(arp_parse(REQ, ARP_LEN, &r), WIRE_OK);
    assert_int_equal(r.op, ARP_OP_REQUEST);
    assert_memory_equal(r.sha, mac_a, 6);
    assert_int_equal(r.spa, CAP_IP_A);
    assert_memory_equal(r.tha, mac_zero, 6);
    assert_int_equal(r.tpa, CAP_IP_B);
}

static void test_parse_reply(void **state)
{
    (void)state;
    struct arp_repr r;
    assert_int_equal(arp_parse(REP, ARP_LEN, &r), WIRE_OK);
    assert_int_equal(r.op, ARP_OP_REPLY);
    assert_memory_equal(r.sha, mac_b, 6);
    assert_int_equal(r.spa, CAP_IP_B);
    assert_memory_equal(r.tha, mac_a, 6);
    assert_int_equal(r.tpa, CAP_IP_A);
}

static void test_emit_matches_capture(void **state)
{
    (void)state;
    uint8_t out[ARP_LEN + 1];
    memset(out, 0xaa, sizeof(out));
    struct arp_repr req = { .op = ARP_OP_REQUEST, .sha = CAP_MAC_A, .spa = CAP_IP_A,
                            .tha = { 0 }, .tpa = CAP_IP_B };
    arp_emit(&req, out);
    assert_memory_equal(out, REQ, ARP_LEN);
    assert_int_equal(out[ARP_LEN], 0xaa); /* exactly 28 bytes */

    struct arp_repr rep = { .op = ARP_OP_REPLY, .sha = CAP_MAC_B, .spa = CAP_IP_B,
                            .tha = CAP_MAC_A, .tpa = CAP_IP_A };
    arp_emit(&rep, out);
    assert_memory_equal(out, REP, ARP_LEN);

    /* parse -> emit round trip */
    struct arp_repr r;
    assert_int_equal(arp_parse(REP, ARP_LEN, &r), WIRE_OK);
    memset(out, 0, sizeof(out));
    arp_emit(&r, out);
    assert_memory_equal(out, REP, ARP_LEN);
}

static void test_padding_ignored(void **state)
{
    (void)state;
    /* On the wire an ARP frame is padded to 60 bytes: 46 bytes of payload. */
    uint8_t p[46];
    memset(p, 0x5a, sizeof(p));
    memcpy(p, REQ, ARP_LEN);
    struct arp_repr r;
    assert_int_equal(arp_parse(p, sizeof(p), &r), WIRE_OK);
    assert_int_equal(r.op, ARP_OP_REQUEST);
    assert_int_equal(r.tpa, CAP_IP_B);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    for (size_t len = 0; len < ARP_LEN; len++) {
        uint8_t *b = dup_exact(REQ, len);
        struct arp_repr r;
        assert_int_equal(arp_parse(b, len, &r), WIRE_TRUNCATED);
        free(b);
    }
    /* Truncation is checked before the fields: 27 bytes with a bad htype. */
    uint8_t bad[ARP_LEN];
    memcpy(bad, REQ, ARP_LEN);
    put_be16(bad, 6);
    struct arp_repr r;
    assert_int_equal(arp_parse(bad, ARP_LEN - 1, &r), WIRE_TRUNCATED);
}

/* Copy the captured request, patch one field, parse it. */
static enum wire_err parse_patched(size_t off, uint16_t val, bool wide, struct arp_repr *r)
{
    uint8_t b[ARP_LEN];
    memcpy(b, REQ, ARP_LEN);
    if (wide)
        put_be16(b + off, val);
    else
        b[off] = (uint8_t)val;
    return arp_parse(b, ARP_LEN, r);
}

static void test_impossible_fields(void **state)
{
    (void)state;
    struct arp_repr r;
    /* BAD-INPUT B.5, RFC 826 format: htype must be Ethernet (1) */
    assert_int_equal(parse_patched(0, 0, true, &r), WIRE_BAD_FIELD);
    assert_int_equal(parse_patched(0, 6, true, &r), WIRE_BAD_FIELD); /* IEEE 802 */
    assert_int_equal(parse_patched(0, 0x0100, true, &r), WIRE_BAD_FIELD);
    /* ptype must be IPv4 */
    assert_int_equal(parse_patched(2, ETHERTYPE_IPV6, true, &r), WIRE_BAD_FIELD);
    assert_int_equal(parse_patched(2, 0x0000, true, &r), WIRE_BAD_FIELD);
    /* hlen 6, plen 4 */
    assert_int_equal(parse_patched(4, 0, false, &r), WIRE_BAD_FIELD);
    assert_int_equal(parse_patched(4, 8, false, &r), WIRE_BAD_FIELD);
    assert_int_equal(parse_patched(4, 255, false, &r), WIRE_BAD_FIELD);
    assert_int_equal(parse_patched(5, 0, false, &r), WIRE_BAD_FIELD);
    assert_int_equal(parse_patched(5, 16, false, &r), WIRE_BAD_FIELD);
    /* op other than request/reply: well-formed, unsupported, op reported */
    static const uint16_t ops[] = { 0, 3, 4, 8, 9, 0xffff };
    for (size_t i = 0; i < 6; i++) {
        memset(&r, 0, sizeof(r));
        assert_int_equal(parse_patched(6, ops[i], true, &r), WIRE_UNSUPPORTED);
        assert_int_equal(r.op, ops[i]);
        assert_int_equal(r.spa, CAP_IP_A);
    }
    /* Bad field beats unsupported op. */
    uint8_t b[ARP_LEN];
    memcpy(b, REQ, ARP_LEN);
    b[4] = 8;
    put_be16(b + 6, 3);
    assert_int_equal(arp_parse(b, ARP_LEN, &r), WIRE_BAD_FIELD);
    /* The unpatched capture still parses (the helper changes nothing else). */
    assert_int_equal(parse_patched(6, ARP_OP_REQUEST, true, &r), WIRE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_request),
        cmocka_unit_test(test_parse_reply),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_padding_ignored),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_impossible_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
