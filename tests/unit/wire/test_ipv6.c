/* SPDX-License-Identifier: MIT */
/* IPv6 fixed header (RFC 8200 §3): captured headers parsed field by field and
 * emitted byte for byte; truncation at every length; BAD-INPUT E.24 (version,
 * payload length, jumbogram); Ethernet padding; the address helpers of RFC
 * 4291 / RFC 2464 checked against what the kernel put on the wire; UDP over
 * IPv6 (RFC 8200 §8.1 checksum) on a captured datagram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire6.h"
#include "wire6_captures.h"

static const uint8_t ip_a[16] = CAP6_IP_A;
static const uint8_t ip_b[16] = CAP6_IP_B;
static const uint8_t ll_a[16] = CAP6_LL_A;
static const uint8_t ll_b[16] = CAP6_LL_B;
static const uint8_t mac_a[6] = CAP6_MAC_A;
static const uint8_t mac_b[6] = CAP6_MAC_B;

static void test_parse_echo_request(void **state)
{
    (void)state;
    struct ipv6_repr r;
    assert_int_equal(ipv6_parse(CAP6_IP(cap6_echo_request), CAP6_IP_LEN(cap6_echo_request), &r),
                     WIRE_OK);
    assert_memory_equal(r.src, ip_a, 16);
    assert_memory_equal(r.dst, ip_b, 16);
    assert_int_equal(r.next_header, IP_PROTO_ICMPV6);
    assert_int_equal(r.hop_limit, 64);
    assert_int_equal(r.traffic_class, 0);
    assert_int_equal(r.flow_label, 0x894ac);
    assert_int_equal(r.payload_len, 16);
}

static void test_parse_other_captures(void **state)
{
    (void)state;
    struct ipv6_repr r;
    static const uint8_t unspec[16] = IPV6_ADDR_UNSPECIFIED;
    static const uint8_t snm_a[16] = { 0xff, 0x02, [11] = 0x01, 0xff, 0x00, 0x00, 0x01 };
    static const uint8_t mld2[16] = { 0xff, 0x02, [15] = 0x16 };

    /* DAD NS: from ::, to the solicited-node group, hop limit 255 */
    assert_int_equal(ipv6_parse(CAP6_IP(cap6_dad_ns), CAP6_IP_LEN(cap6_dad_ns), &r), WIRE_OK);
    assert_memory_equal(r.src, unspec, 16);
    assert_memory_equal(r.dst, snm_a, 16);
    assert_int_equal(r.next_header, IP_PROTO_ICMPV6);
    assert_int_equal(r.hop_limit, 255);
    assert_int_equal(r.flow_label, 0);
    assert_int_equal(r.payload_len, 32);

    /* MLDv2 report: Hop-by-Hop first, hop limit 1 */
    assert_int_equal(ipv6_parse(CAP6_IP(cap6_mld_report), CAP6_IP_LEN(cap6_mld_report), &r),
                     WIRE_OK);
    assert_memory_equal(r.src, ll_a, 16);
    assert_memory_equal(r.dst, mld2, 16);
    assert_int_equal(r.next_header, IP_PROTO_HOPOPTS);
    assert_int_equal(r.hop_limit, 1);
    assert_int_equal(r.payload_len, 36);

    /* RA: link-local to link-local, a non-zero flow label */
    assert_int_equal(ipv6_parse(CAP6_IP(cap6_ra), CAP6_IP_LEN(cap6_ra), &r), WIRE_OK);
    assert_memory_equal(r.src, ll_b, 16);
    assert_memory_equal(r.dst, ll_a, 16);
    assert_int_equal(r.hop_limit, 255);
    assert_int_equal(r.flow_label, 0x64930);
    assert_int_equal(r.payload_len, 64);

    /* a fragment: Next Header 44 */
    assert_int_equal(ipv6_parse(CAP6_IP(cap6_frag1), CAP6_IP_LEN(cap6_frag1), &r), WIRE_OK);
    assert_int_equal(r.next_header, IP_PROTO_FRAGMENT);
    assert_int_equal(r.payload_len, 1456);
    assert_int_equal(r.flow_label, 0x894ac);

    /* UDP */
    assert_int_equal(ipv6_parse(CAP6_IP(cap6_udp), CAP6_IP_LEN(cap6_udp), &r), WIRE_OK);
    assert_int_equal(r.next_header, IP_PROTO_UDP);
    assert_int_equal(r.payload_len, 11);
    assert_int_equal(r.flow_label, 0x24d57);
}

static void emit_check(const uint8_t *frame, size_t frame_len)
{
    struct ipv6_repr r;
    assert_int_equal(ipv6_parse(frame + CAP6_L3, frame_len - CAP6_L3, &r), WIRE_OK);
    uint8_t out[IPV6_HDR_LEN + 1];
    memset(out, 0xaa, sizeof(out));
    ipv6_emit(&r, out);
    assert_memory_equal(out, frame + CAP6_L3, IPV6_HDR_LEN);
    assert_int_equal(out[IPV6_HDR_LEN], 0xaa);
}

#define EMIT_CHECK(f) emit_check(f, sizeof(f))

static void test_emit_matches_capture(void **state)
{
    (void)state;
    EMIT_CHECK(cap6_dad_ns);
    EMIT_CHECK(cap6_mld_report);
    EMIT_CHECK(cap6_rs);
    EMIT_CHECK(cap6_ra);
    EMIT_CHECK(cap6_ns);
    EMIT_CHECK(cap6_na);
    EMIT_CHECK(cap6_echo_request);
    EMIT_CHECK(cap6_echo_reply);
    EMIT_CHECK(cap6_udp);
    EMIT_CHECK(cap6_port_unreach);
    EMIT_CHECK(cap6_frag1);
    EMIT_CHECK(cap6_frag2);
    EMIT_CHECK(cap6_frag3);

    /* A repr written by hand, as the stack will; flow label masked to 20
     * bits, traffic class split across the first two bytes. */
    struct ipv6_repr r = { .src = CAP6_IP_A, .dst = CAP6_IP_B, .next_header = IP_PROTO_UDP,
                           .hop_limit = IPV6_DEFAULT_HOP_LIMIT, .traffic_class = 0,
                           .flow_label = 0xf00000u | 0x24d57, .payload_len = 11 };
    uint8_t out[IPV6_HDR_LEN];
    ipv6_emit(&r, out);
    assert_memory_equal(out, CAP6_IP(cap6_udp), IPV6_HDR_LEN);
    r.traffic_class = 0xb8; /* EF */
    r.flow_label = 0xfffff;
    ipv6_emit(&r, out);
    assert_int_equal(out[0], 0x6b);
    assert_int_equal(out[1], 0x8f);
    assert_int_equal(out[2], 0xff);
    assert_int_equal(out[3], 0xff);
    struct ipv6_repr p;
    uint8_t pkt[IPV6_HDR_LEN + 11] = { 0 };
    memcpy(pkt, out, IPV6_HDR_LEN);
    assert_int_equal(ipv6_parse(pkt, sizeof(pkt), &p), WIRE_OK);
    assert_int_equal(p.traffic_class, 0xb8);
    assert_int_equal(p.flow_label, 0xfffff);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    struct ipv6_repr r;
    /* below 40: no header; 40..55: payload length 16 exceeds the span
     * (BAD-INPUT E.24, V1). */
    const uint8_t *ip = CAP6_IP(cap6_echo_request);
    size_t full = CAP6_IP_LEN(cap6_echo_request);
    for (size_t len = 0; len < full; len++) {
        uint8_t *b = dup_exact(ip, len);
        assert_int_equal(ipv6_parse(b, len, &r), WIRE_TRUNCATED);
        free(b);
    }
    uint8_t *b = dup_exact(ip, full);
    assert_int_equal(ipv6_parse(b, full, &r), WIRE_OK);
    free(b);
    /* the same for the largest capture */
    ip = CAP6_IP(cap6_frag1);
    full = CAP6_IP_LEN(cap6_frag1);
    for (size_t len = 0; len < full; len++) {
        b = dup_exact(ip, len);
        assert_int_equal(ipv6_parse(b, len, &r), WIRE_TRUNCATED);
        free(b);
    }
}

static void test_bad_version(void **state)
{
    (void)state;
    struct ipv6_repr r;
    uint8_t p[56];
    for (unsigned v = 0; v < 16; v++) {
        if (v == 6)
            continue;
        memcpy(p, CAP6_IP(cap6_echo_request), sizeof(p));
        p[0] = (uint8_t)(v << 4 | (p[0] & 0x0f));
        assert_int_equal(ipv6_parse(p, sizeof(p), &r), WIRE_BAD_VERSION);
    }
    /* an IPv4 header in an 0x86DD frame */
    uint8_t v4[40] = { 0x45, 0x00, 0x00, 0x28 };
    assert_int_equal(ipv6_parse(v4, sizeof(v4), &r), WIRE_BAD_VERSION);
    /* order: TRUNCATED (len < 40) before BAD_VERSION */
    assert_int_equal(ipv6_parse(v4, 39, &r), WIRE_TRUNCATED);
    /* order: BAD_VERSION before the payload length */
    memcpy(p, CAP6_IP(cap6_echo_request), sizeof(p));
    p[0] = 0x40;
    put_be16(p + 4, 0xffff);
    assert_int_equal(ipv6_parse(p, sizeof(p), &r), WIRE_BAD_VERSION);
}

static void test_payload_length(void **state)
{
    (void)state;
    struct ipv6_repr r;
    uint8_t p[56];
    memcpy(p, CAP6_IP(cap6_echo_request), sizeof(p));
    /* one byte more than received, and the maximum */
    put_be16(p + 4, 17);
    assert_int_equal(ipv6_parse(p, sizeof(p), &r), WIRE_TRUNCATED);
    put_be16(p + 4, 0xffff);
    assert_int_equal(ipv6_parse(p, sizeof(p), &r), WIRE_TRUNCATED);
    /* shorter than the span: fine, the caller trims (BAD-INPUT E.24) */
    put_be16(p + 4, 8);
    assert_int_equal(ipv6_parse(p, sizeof(p), &r), WIRE_OK);
    assert_int_equal(r.payload_len, 8);
    /* payload length 0 with No Next Header: a legal empty packet */
    put_be16(p + 4, 0);
    p[6] = IP_PROTO_NONE;
    assert_int_equal(ipv6_parse(p, IPV6_HDR_LEN, &r), WIRE_OK);
    assert_int_equal(r.payload_len, 0);
    /* payload length 0 with ICMPv6: parses; the upper layer has 0 bytes */
    p[6] = IP_PROTO_ICMPV6;
    assert_int_equal(ipv6_parse(p, IPV6_HDR_LEN, &r), WIRE_OK);
    /* payload length 0 with Hop-by-Hop: a jumbogram (RFC 2675), not
     * supported; the repr is filled for the trace, even when the span holds
     * only the header */
    p[6] = IP_PROTO_HOPOPTS;
    memset(&r, 0, sizeof(r));
    assert_int_equal(ipv6_parse(p, sizeof(p), &r), WIRE_UNSUPPORTED);
    assert_int_equal(r.next_header, IP_PROTO_HOPOPTS);
    assert_int_equal(r.hop_limit, 64);
    assert_memory_equal(r.src, ip_a, 16);
    assert_int_equal(ipv6_parse(p, IPV6_HDR_LEN, &r), WIRE_UNSUPPORTED);
}

static void test_padding_accepted(void **state)
{
    (void)state;
    /* An echo request padded to a larger frame (BAD-INPUT A.4 / E.24). */
    uint8_t frame[128];
    memset(frame, 0xee, sizeof(frame));
    memcpy(frame, cap6_echo_request, sizeof(cap6_echo_request));
    struct ipv6_repr r;
    assert_int_equal(ipv6_parse(frame + CAP6_L3, sizeof(frame) - CAP6_L3, &r), WIRE_OK);
    assert_int_equal(r.payload_len, 16);
}

static void test_address_classes(void **state)
{
    (void)state;
    static const uint8_t unspec[16] = IPV6_ADDR_UNSPECIFIED;
    static const uint8_t loop[16] = IPV6_ADDR_LOOPBACK;
    static const uint8_t all_nodes[16] = IPV6_ADDR_ALL_NODES;
    static const uint8_t all_routers[16] = IPV6_ADDR_ALL_ROUTERS;
    static const uint8_t mapped[16] = { [10] = 0xff, 0xff, 192, 0, 2, 1 }; /* ::ffff:192.0.2.1 */
    static const uint8_t compat[16] = { [12] = 192, 0, 2, 1 };             /* ::192.0.2.1 */
    static const uint8_t febf[16] = { 0xfe, 0xbf, [15] = 1 };
    static const uint8_t fec0[16] = { 0xfe, 0xc0, [15] = 1 };
    static const uint8_t ff0e[16] = { 0xff, 0x0e, [15] = 1 };

    assert_true(ipv6_is_unspecified(unspec));
    assert_false(ipv6_is_unspecified(loop));
    assert_false(ipv6_is_unspecified(ip_a));
    assert_true(ipv6_is_loopback(loop));
    assert_false(ipv6_is_loopback(unspec));
    assert_false(ipv6_is_loopback(all_nodes)); /* ff02::1 ends in 1 too */
    assert_true(ipv6_is_v4mapped(mapped));
    assert_false(ipv6_is_v4mapped(compat));
    assert_false(ipv6_is_v4mapped(unspec));

    assert_true(ipv6_is_multicast(all_nodes));
    assert_true(ipv6_is_multicast(all_routers));
    assert_true(ipv6_is_multicast(ff0e));
    assert_false(ipv6_is_multicast(ip_a));
    assert_int_equal(ipv6_mcast_scope(all_nodes), 2);
    assert_int_equal(ipv6_mcast_scope(ff0e), 0xe);

    assert_true(ipv6_is_link_local(ll_a));
    assert_true(ipv6_is_link_local(febf)); /* fe80::/10 ends at febf */
    assert_false(ipv6_is_link_local(fec0));
    assert_false(ipv6_is_link_local(ip_a));
    assert_false(ipv6_is_link_local(all_nodes));
}

static void test_solicited_node_and_mac(void **state)
{
    (void)state;
    uint8_t snm[16], mac[6];
    /* The kernel's DAD NS for 2001:db8::1 went to ff02::1:ff00:1 at
     * 33:33:ff:00:00:01: both derived here from the target. */
    const uint8_t *ns_ip = CAP6_IP(cap6_dad_ns);
    const uint8_t *target = ns_ip + IPV6_HDR_LEN + 8;
    assert_memory_equal(target, ip_a, 16);
    ipv6_solicited_node(target, snm);
    assert_memory_equal(snm, ns_ip + 24, 16);
    assert_true(ipv6_is_solicited_node(snm));
    assert_true(ipv6_is_multicast(snm));
    ipv6_mcast_mac(snm, mac);
    assert_memory_equal(mac, cap6_dad_ns, 6);

    /* the address-resolution NS for 2001:db8::2 */
    const uint8_t *ar_ip = CAP6_IP(cap6_ns);
    ipv6_solicited_node(ip_b, snm);
    assert_memory_equal(snm, ar_ip + 24, 16);
    ipv6_mcast_mac(snm, mac);
    assert_memory_equal(mac, cap6_ns, 6);

    /* the MLD report to ff02::16 went to 33:33:00:00:00:16 */
    ipv6_mcast_mac(CAP6_IP(cap6_mld_report) + 24, mac);
    assert_memory_equal(mac, cap6_mld_report, 6);

    /* only the low 24 bits count; out may alias the input */
    uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [12] = 0xaa, 0x12, 0x34, 0x56 };
    ipv6_solicited_node(a, a);
    static const uint8_t expect[16] = { 0xff, 0x02, [11] = 0x01, 0xff, 0x12, 0x34, 0x56 };
    assert_memory_equal(a, expect, 16);

    assert_false(ipv6_is_solicited_node(ip_a));
    static const uint8_t not_snm[16] = { 0xff, 0x02, [11] = 0x01, 0xfe, 0, 0, 1 };
    assert_false(ipv6_is_solicited_node(not_snm));
    static const uint8_t all_nodes[16] = IPV6_ADDR_ALL_NODES;
    ipv6_mcast_mac(all_nodes, mac);
    static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
    assert_memory_equal(mac, all_nodes_mac, 6);
}

static void test_eui64(void **state)
{
    (void)state;
    /* The kernel formed fe80::5eff:fe00:1 from 02:00:5e:00:00:01 (the
     * capture's RS source) and 2001:db8:1::5eff:fe00:1 by SLAAC. */
    uint8_t iid[8], ll[16];
    ipv6_eui64_iid(mac_a, iid);
    static const uint8_t expect_iid[8] = { 0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x00, 0x01 };
    assert_memory_equal(iid, expect_iid, 8);
    ipv6_link_local_from_mac(mac_a, ll);
    assert_memory_equal(ll, ll_a, 16);
    assert_memory_equal(ll, CAP6_IP(cap6_rs) + 8, 16);
    ipv6_link_local_from_mac(mac_b, ll);
    assert_memory_equal(ll, ll_b, 16);
    assert_memory_equal(ll, CAP6_IP(cap6_ra) + 8, 16);
    /* RFC 4291 App. A example shape: a universal MAC gets the bit set */
    static const uint8_t univ[6] = { 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
    static const uint8_t univ_iid[8] = { 0x36, 0x56, 0x78, 0xff, 0xfe, 0x9a, 0xbc, 0xde };
    ipv6_eui64_iid(univ, iid);
    assert_memory_equal(iid, univ_iid, 8);
}

static void test_udp_over_ipv6(void **state)
{
    (void)state;
    const uint8_t *ip = CAP6_IP(cap6_udp);
    struct ipv6_repr ir;
    assert_int_equal(ipv6_parse(ip, CAP6_IP_LEN(cap6_udp), &ir), WIRE_OK);
    const uint8_t *udp = CAP6_UL(cap6_udp);
    struct udp_repr u;
    assert_int_equal(udp_parse(udp, ir.payload_len, &u), WIRE_OK);
    assert_int_equal(u.sport, 36149);
    assert_int_equal(u.dport, 4000);
    assert_int_equal(u.len, 11);
    assert_int_equal(u.csum, 0x9524);
    /* RFC 8200 §8.1: the pseudo-header uses the IPv6 addresses */
    assert_true(udp_csum_ok_v6(udp, u.len, ir.src, ir.dst));
    assert_false(udp_csum_ok_v6(udp, u.len, ir.dst, ll_a));
    /* emit reproduces the captured datagram */
    uint8_t out[12];
    memset(out, 0xaa, sizeof(out));
    memcpy(out + UDP_HDR_LEN, "hi\n", 3);
    udp_emit_v6(out, 36149, 4000, 3, ip_a, ip_b);
    assert_memory_equal(out, udp, 11);
    assert_int_equal(out[11], 0xaa);
    /* any flipped bit breaks it */
    uint8_t c[11];
    for (size_t i = 0; i < 11 * 8; i++) {
        memcpy(c, udp, 11);
        c[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_false(udp_csum_ok_v6(c, 11, ip_a, ip_b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_echo_request),
        cmocka_unit_test(test_parse_other_captures),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_payload_length),
        cmocka_unit_test(test_padding_accepted),
        cmocka_unit_test(test_address_classes),
        cmocka_unit_test(test_solicited_node_and_mac),
        cmocka_unit_test(test_eui64),
        cmocka_unit_test(test_udp_over_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
