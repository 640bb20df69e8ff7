/* SPDX-License-Identifier: MIT */
/* Ethernet II header: parse and emit of captured frames, runts
 * (BAD-INPUT A.1), 802.3 length fields and unknown EtherTypes (A.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire.h"
#include "wire_captures.h"

static const uint8_t mac_a[6] = CAP_MAC_A;
static const uint8_t mac_b[6] = CAP_MAC_B;
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void test_parse_captured(void **state)
{
    (void)state;
    struct eth_repr r;
    assert_int_equal(eth_parse(cap_arp_request, sizeof(cap_arp_request), &r), WIRE_OK);
    assert_memory_equal(r.dst, mac_bcast, 6);
    assert_memory_equal(r.src, mac_a, 6);
    assert_int_equal(r.ethertype, ETHERTYPE_ARP);

    assert_int_equal(eth_parse(cap_arp_reply, sizeof(cap_arp_reply), &r), WIRE_OK);
    assert_memory_equal(r.dst, mac_a, 6);
    assert_memory_equal(r.src, mac_b, 6);
    assert_int_equal(r.ethertype, ETHERTYPE_ARP);

    assert_int_equal(eth_parse(cap_echo_request, sizeof(cap_echo_request), &r), WIRE_OK);
    assert_memory_equal(r.dst, mac_b, 6);
    assert_memory_equal(r.src, mac_a, 6);
    assert_int_equal(r.ethertype, ETHERTYPE_IPV4);

    assert_int_equal(eth_parse(cap_port_unreach, sizeof(cap_port_unreach), &r), WIRE_OK);
    assert_memory_equal(r.dst, mac_a, 6);
    assert_memory_equal(r.src, mac_b, 6);
    assert_int_equal(r.ethertype, ETHERTYPE_IPV4);
}

static void test_emit_matches_capture(void **state)
{
    (void)state;
    const uint8_t *frames[] = { cap_arp_request, cap_arp_reply, cap_echo_request,
                                cap_echo_reply, cap_udp, cap_port_unreach };
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        struct eth_repr r;
        uint8_t out[ETH_HDR_LEN + 2];
        memset(out, 0xaa, sizeof(out));
        assert_int_equal(eth_parse(frames[i], ETH_HDR_LEN, &r), WIRE_OK);
        eth_emit(&r, out);
        assert_memory_equal(out, frames[i], ETH_HDR_LEN);
        /* exactly 14 bytes written */
        assert_int_equal(out[14], 0xaa);
        assert_int_equal(out[15], 0xaa);
    }
    /* built from scratch, not from a parse */
    struct eth_repr r = { .dst = CAP_MAC_B, .src = CAP_MAC_A, .ethertype = ETHERTYPE_IPV4 };
    uint8_t out[ETH_HDR_LEN];
    eth_emit(&r, out);
    assert_memory_equal(out, cap_udp, ETH_HDR_LEN);
}

static void test_runt_every_length(void **state)
{
    (void)state;
    /* BAD-INPUT A.1: 0..13 bytes cannot hold the header. */
    for (size_t len = 0; len < ETH_HDR_LEN; len++) {
        uint8_t *b = dup_exact(cap_echo_request, len);
        struct eth_repr r;
        assert_int_equal(eth_parse(b, len, &r), WIRE_TRUNCATED);
        free(b);
    }
    /* 14 bytes is a complete header (an empty payload is the caller's
     * business). */
    uint8_t *b = dup_exact(cap_echo_request, ETH_HDR_LEN);
    struct eth_repr r;
    assert_int_equal(eth_parse(b, ETH_HDR_LEN, &r), WIRE_OK);
    assert_int_equal(r.ethertype, ETHERTYPE_IPV4);
    free(b);
}

static enum wire_err parse_with_type(uint16_t type, struct eth_repr *r)
{
    uint8_t f[60] = { 0 };
    memcpy(f, cap_echo_request, sizeof(cap_echo_request));
    put_be16(f + 12, type);
    return eth_parse(f, sizeof(f), r);
}

static void test_8023_length_and_unknown_types(void **state)
{
    (void)state;
    struct eth_repr r;
    /* BAD-INPUT A.2: <= 1500 is an IEEE 802.3 length, not an EtherType;
     * the repr is still filled for the trace. */
    static const uint16_t lengths[] = { 0, 1, 46, 0x05dc };
    for (size_t i = 0; i < 4; i++) {
        memset(&r, 0, sizeof(r));
        assert_int_equal(parse_with_type(lengths[i], &r), WIRE_UNSUPPORTED);
        assert_int_equal(r.ethertype, lengths[i]);
        assert_memory_equal(r.dst, mac_b, 6);
        assert_memory_equal(r.src, mac_a, 6);
    }
    /* 1501 and up are type values as far as the parser goes; unknown ones
     * (LLDP, VLAN tag, undefined 0x05DD) are rejected by the demultiplexer,
     * which needs the exact value for its counter. */
    static const uint16_t types[] = { 0x05dd, 0x88cc, 0x8100, ETHERTYPE_IPV6, 0xffff };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(parse_with_type(types[i], &r), WIRE_OK);
        assert_int_equal(r.ethertype, types[i]);
    }
}

static void test_address_classes(void **state)
{
    (void)state;
    static const uint8_t mc4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    static const uint8_t mc6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
    static const uint8_t zero[6] = { 0 };
    static const uint8_t almost[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
    assert_true(eth_is_broadcast(mac_bcast));
    assert_true(eth_is_multicast(mac_bcast));
    assert_false(eth_is_broadcast(almost));
    assert_true(eth_is_multicast(mc4));
    assert_true(eth_is_multicast(mc6));
    assert_false(eth_is_broadcast(mc4));
    assert_false(eth_is_multicast(mac_a));
    assert_false(eth_is_zero(mac_a));
    assert_true(eth_is_zero(zero));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_captured),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_runt_every_length),
        cmocka_unit_test(test_8023_length_and_unknown_types),
        cmocka_unit_test(test_address_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
