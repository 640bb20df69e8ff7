/* SPDX-License-Identifier: MIT */
/*
 * test_udp6.c - UDP over IPv6 in stack/udp.c: the mandatory checksum
 * (I.40), length rules (I.39), port unreachable code 4 (I.41), delivery
 * and dual-stack endpoints, udp_send to IPv6 (exact bytes, 65527/65528) and
 * to IPv4-mapped destinations (out as IPv4).  Fixture and topology: fx6.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fx6.h"

/* I.40: zero checksum (invalid over IPv6, RFC 8200 §8.1) and a wrong one. */
static void test_checksum(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[256];
    size_t n = mk_udp_frame6(fr, our_mac, OUR6, 7777, 64, "hello", 5);
    uint8_t *csum = fr + 14 + 40 + 6;
    uint8_t good[2] = {csum[0], csum[1]};
    csum[0] = csum[1] = 0;
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, Udp6InCsumErrors), 1);
    assert_int_equal(CNT(f->st, Udp6InErrors), 1);
    csum[0] = good[0];
    csum[1] = (uint8_t)(good[1] ^ 1);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, Udp6InCsumErrors), 2);
    assert_int_equal(CNT(f->st, Udp6InErrors), 2);
    assert_int_equal(b->calls, 0);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    csum[1] = good[1];
    inject(f, fr, n);
    assert_int_equal(b->calls, 1);
    assert_int_equal(CNT(f->st, Udp6InDatagrams), 1);
    tep_free(f, b);
}

/* I.39: length field < 8, > payload, < payload (tail ignored). */
static void test_length_rules(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[256], u[64];
    size_t ul = mk_udp6(u, PEER6, OUR6, 5555, 7777, "hello", 5);
    put_be16(u + 4, 7);
    inject(f, fr, mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_UDP, 64, u, ul));
    put_be16(u + 4, 14);
    inject(f, fr, mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_UDP, 64, u, ul));
    assert_int_equal(CNT(f->st, Udp6InErrors), 2);
    /* UDP length 11 in a 13-byte payload: "hel" delivered, checksum over 11 */
    ul = mk_udp6(u, PEER6, OUR6, 5555, 7777, "hel", 3);
    memcpy(u + ul, "lo", 2);
    inject(f, fr, mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_UDP, 64, u, ul + 2));
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->len, 3);
    assert_memory_equal(b->data, "hel", 3);
    tep_free(f, b);
}

/* I.41: closed unicast port -> Destination Unreachable code 4 quoting the
 * datagram (exact bytes); Udp6NoPorts. */
static void test_port_unreachable(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], want[512];
    size_t n = mk_udp_frame6(fr, our_mac, OUR6, 9, 64, "closed", 6);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_DEST_UNREACH, ICMPV6_UNREACH_PORT, 0,
                                        fr + 14, n - 14));
    assert_int_equal(CNT(f->st, Udp6NoPorts), 1);
    assert_int_equal(CNT(f->st, Icmp6OutDestUnreachs), 1);
    /* to the link-local address: the error comes from it */
    n = mk_udp_frame6(fr, our_mac, OUR_LL, 9, 64, "closed", 6);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR_LL, ICMPV6_DEST_UNREACH, ICMPV6_UNREACH_PORT, 0,
                                        fr + 14, n - 14));
}

/* Delivery: the rx info; dual-stack endpoints get both families (IPv4
 * source reported as IPv4: the wsk layer maps it). */
static void test_delivery_dual_stack(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V4 | UDP_EP_V6);
    uint8_t fr[256];
    size_t n = mk_udp_frame6(fr, our_mac, OUR6, 7777, 17, "six", 3);
    fr[14] = 0x62;   /* traffic class 0x20 */
    inject(f, fr, n);
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->info.src.af, IPA_V6);
    assert_memory_equal(b->info.src.v6, PEER6, 16);
    assert_memory_equal(b->info.dst.v6, OUR6, 16);
    assert_int_equal(b->info.sport, 5555);
    assert_int_equal(b->info.dport, 7777);
    assert_int_equal(b->info.ttl, 17);
    assert_int_equal(b->info.tos, 0x20);
    assert_false(b->info.mcast);

    /* the same port over IPv4 */
    uint8_t ip4h[64];
    size_t m = mk_eth6(fr, our_mac, peer_mac);
    fr[12] = 0x08;
    fr[13] = 0x00;
    memcpy(ip4h + 28, "four", 4);
    udp_emit_v4(ip4h + 20, 5555, 7777, 4, PEER4, 0xC0000201u);
    struct ipv4_repr r = {.src = PEER4, .dst = 0xC0000201u, .proto = IP_PROTO_UDP, .ttl = 64,
                          .hdr_len = 20, .total_len = 32, .id = 1};
    ipv4_emit(&r, ip4h);
    memcpy(fr + m, ip4h, 32);
    inject(f, fr, m + 32);
    assert_int_equal(b->calls, 2);
    assert_int_equal(b->info.src.af, IPA_V4);
    assert_int_equal(b->info.src.v4, PEER4);
    assert_memory_equal(b->data, "four", 4);
    tep_free(f, b);

    /* a V6-only wildcard and a V4 wildcard share a port; a second V6 does not */
    struct tep_box *v6 = tep_bind(f, 8888, UDP_EP_V6);
    struct tep_box *v4 = tep_bind(f, 8888, UDP_EP_V4);
    struct tep_box x = {.ep = {.ops = &tep_ops, .flags = UDP_EP_V6}};
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(f->st, &x.ep, &any, 8888), -EADDRINUSE);
    /* a specific IPv6 address must be ours */
    struct ip_addr other = {.af = IPA_V6};
    memcpy(other.v6, OTHER6, 16);
    assert_int_equal(udp_bind(f->st, &x.ep, &other, 8888), -EADDRNOTAVAIL);
    tep_free(f, v6);
    tep_free(f, v4);
}

/* udp_send to an IPv6 destination: the exact frame. */
static void test_send_exact(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    assert_int_equal(send6(f, b, PEER6, 5555, "hello", 5, false), UDP_SEND_DONE);
    uint8_t want[256], u[64];
    size_t n = mk_eth6(want, peer_mac, our_mac);
    size_t ul = mk_udp6(u, OUR6, PEER6, 7777, 5555, "hello", 5);
    n += mk_ip6(want + n, OUR6, PEER6, IP_PROTO_UDP, 64, u, ul);
    expect_frame(f, want, n);
    assert_int_equal(CNT(f->st, Udp6OutDatagrams), 1);
    assert_int_equal(CNT(f->st, Ip6OutRequests), 1);

    /* to a multicast group: 33:33 + low 32 bits, no ND; from the
     * link-local address (RFC 6724 rule 2: ff02::1 is link-scope) */
    assert_int_equal(send6(f, b, ALLNODES, 5555, "hello", 5, false), UDP_SEND_DONE);
    n = mk_eth6(want, allnodes_mac, our_mac);
    ul = mk_udp6(u, OUR_LL, ALLNODES, 7777, 5555, "hello", 5);
    n += mk_ip6(want + n, OUR_LL, ALLNODES, IP_PROTO_UDP, 64, u, ul);
    expect_frame(f, want, n);
    assert_int_equal(CNT(f->st, Ip6OutMcastPkts), 1);

    /* errors: no route, bad scope id, unspecified destination */
    static const uint8_t offlink[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 1};
    static const uint8_t unspec[16] = {0};
    assert_int_equal(send6(f, b, offlink, 5555, "x", 1, false), -ENETUNREACH);
    assert_int_equal(send6(f, b, unspec, 5555, "x", 1, false), -EINVAL);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    tep_free(f, b);
}

/* 65527 bytes is the largest payload (65535 - 8); 65528 -> -EMSGSIZE. */
static void test_send_max(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    static uint8_t data[65528];
    assert_int_equal(send6(f, b, PEER6, 5555, data, 65528, false), -EMSGSIZE);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(send6(f, b, PEER6, 5555, data, 65527, false), UDP_SEND_DONE);
    /* 65535 bytes of fragmentable part in 1448-byte pieces */
    assert_int_equal(memdev_tx_pending(f->dev), (65535 + 1447) / 1448);
    assert_int_equal(CNT(f->st, Ip6FragCreates), (65535 + 1447) / 1448);
    fx_drain(f);
    tep_free(f, b);
}

/* ::ffff:192.0.2.2 from a dual-stack endpoint goes out as IPv4; a V6-only
 * endpoint cannot (-ENETUNREACH, as Linux with IPV6_V6ONLY). */
static void test_send_v4mapped(void **state)
{
    struct fx *f = *state;
    static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 2};
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V4 | UDP_EP_V6);
    assert_int_equal(send6(f, b, mapped, 5555, "v4", 2, false), UDP_SEND_DONE);
    uint8_t got[256];
    assert_int_equal(pop(f, got, sizeof(got)), 14 + 20 + 8 + 2);
    assert_memory_equal(got, peer_mac, 6);
    assert_int_equal(be16(got + 12), ETHERTYPE_IPV4);
    assert_int_equal(be32(got + 14 + 12), 0xC0000201u);
    assert_int_equal(be32(got + 14 + 16), PEER4);
    assert_true(udp_csum_ok_v4(got + 34, 10, 0xC0000201u, PEER4));
    assert_memory_equal(got + 42, "v4", 2);
    assert_int_equal(CNT(f->st, UdpOutDatagrams), 1);
    assert_int_equal(CNT(f->st, Udp6OutDatagrams), 0);
    tep_free(f, b);

    b = tep_bind(f, 7778, UDP_EP_V6);
    assert_int_equal(send6(f, b, mapped, 5555, "v4", 2, false), -ENETUNREACH);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    tep_free(f, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_dual_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_v4mapped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
