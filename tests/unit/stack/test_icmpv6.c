/* SPDX-License-Identifier: MIT */
/*
 * test_icmpv6.c - stack/icmpv6.c: echo (exact reply bytes, to unicast and
 * to multicast), input errors (G.34), the never-send rules one by one
 * (G.32), the 1280-byte cap (G.33), the rate limiter, and Packet Too Big ->
 * path MTU (E.35, RFC 8201).  Fixture and topology: fx6.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fx6.h"

/* An echo request PEER6 -> dst (id 0x1234, seq 7, "abcdefgh") as a frame. */
static size_t mk_echo_frame(uint8_t *fr, const uint8_t ethdst[6], const uint8_t dst[16], uint8_t tc)
{
    uint8_t m[64];
    size_t ml = mk_icmp6(m, PEER6, dst, ICMPV6_ECHO_REQUEST, 0, 0x12340007u, "abcdefgh", 8);
    size_t n = mk_frame6(fr, ethdst, PEER6, dst, IP_PROTO_ICMPV6, 64, m, ml);
    fr[14] = (uint8_t)(0x60 | (tc >> 4));
    fr[15] = (uint8_t)(tc << 4);
    return n;
}

/* The reply we expect: from src, same identifier, sequence and data. */
static size_t expect_reply(uint8_t *fr, const uint8_t src[16], uint8_t tc)
{
    size_t n = mk_eth6(fr, peer_mac, our_mac);
    uint8_t m[64];
    size_t ml = mk_icmp6(m, src, PEER6, ICMPV6_ECHO_REPLY, 0, 0x12340007u, "abcdefgh", 8);
    n += mk_ip6(fr + n, src, PEER6, IP_PROTO_ICMPV6, 64, m, ml);
    fr[14] = (uint8_t)(0x60 | (tc >> 4));
    fr[15] = (uint8_t)(tc << 4);
    return n;
}

static void test_echo_reply(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], want[256];
    /* RFC 4443 §4.2: unicast request -> from the address it was sent to,
     * Traffic Class reflected */
    inject(f, fr, mk_echo_frame(fr, our_mac, OUR6, 0xb8));
    expect_frame(f, want, expect_reply(want, OUR6, 0xb8));
    /* to the link-local address: from it */
    inject(f, fr, mk_echo_frame(fr, our_mac, OUR_LL, 0));
    expect_frame(f, want, expect_reply(want, OUR_LL, 0));
    /* to ff02::1: from the unicast address RFC 6724 picks for PEER6 */
    inject(f, fr, mk_echo_frame(fr, allnodes_mac, ALLNODES, 0));
    expect_frame(f, want, expect_reply(want, OUR6, 0));
    assert_int_equal(CNT(f->st, Icmp6InMsgs), 3);
    assert_int_equal(CNT(f->st, Icmp6InEchos), 3);
    assert_int_equal(CNT(f->st, Icmp6OutEchoReplies), 3);
    assert_int_equal(CNT(f->st, Icmp6OutMsgs), 3);
}

/* G.34: short, bad checksum, unknown informational, unknown error. */
static void test_input_errors(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], m[64];
    size_t n;

    uint8_t shortm[4] = {ICMPV6_ECHO_REQUEST, 0, 0, 0};
    inject(f, fr, mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, 64, shortm, 4));
    assert_int_equal(CNT(f->st, Icmp6InErrors), 1);

    n = mk_echo_frame(fr, our_mac, OUR6, 0);
    fr[n - 1] ^= 0xff;
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, Icmp6InCsumErrors), 1);
    assert_int_equal(CNT(f->st, Icmp6InErrors), 2);
    assert_int_equal(CNT(f->st, Icmp6InEchos), 0);

    size_t ml = mk_icmp6(m, PEER6, OUR6, 200, 0, 0, "info", 4);
    inject(f, fr, mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, 64, m, ml));
    ml = mk_icmp6(m, PEER6, OUR6, 99, 0, 0, "error", 5);
    inject(f, fr, mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, 64, m, ml));
    assert_int_equal(CNT(f->st, Icmp6InErrors), 4);
    assert_int_equal(CNT(f->st, Icmp6InMsgs), 4);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
}

/* Destination Options with an action-10 option (a Parameter Problem code 2
 * would be due) in front of `inner` (nh) of len bytes. */
static size_t mk_pp_trigger(uint8_t *fr, const uint8_t ethdst[6], const uint8_t src[16],
                            const uint8_t dst[16], uint8_t nh, const uint8_t *inner, size_t len)
{
    uint8_t pl[256] = {nh, 0, 0x9e, 4, 0, 0, 0, 0};
    memcpy(pl + 8, inner, len);
    return mk_frame6(fr, ethdst, src, dst, IP_PROTO_DSTOPTS, 64, pl, 8 + len);
}

/* G.32: RFC 4443 §2.4(e) - no error about an error, a Redirect, a packet to
 * multicast or in a link-layer multicast, a packet from :: - each alone. */
static void test_never_send(void **state)
{
    struct fx *f = *state;
    uint8_t fr[512], m[128], q[48] = {0x60};
    static const uint8_t unspec[16] = {0};
    size_t ml;

    /* about an ICMPv6 error (Destination Unreachable) */
    ml = mk_icmp6(m, PEER6, OUR6, ICMPV6_DEST_UNREACH, 4, 0, q, sizeof(q));
    inject(f, fr, mk_pp_trigger(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, m, ml));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    /* about a Redirect */
    ml = mk_icmp6(m, PEER6, OUR6, ICMPV6_ND_REDIRECT, 0, 0, q, 32);
    inject(f, fr, mk_pp_trigger(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, m, ml));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    /* the same trigger about an echo request IS answered (control) */
    ml = mk_icmp6(m, PEER6, OUR6, ICMPV6_ECHO_REQUEST, 0, 0, "x", 1);
    inject(f, fr, mk_pp_trigger(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, m, ml));
    assert_int_equal(memdev_tx_pending(f->dev), 1);
    fx_drain(f);
    /* unknown Next Header to a multicast group */
    inject(f, fr, mk_frame6(fr, allnodes_mac, PEER6, ALLNODES, 253, 64, "12345678", 8));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    /* unknown Next Header to our unicast address in a link-layer multicast */
    inject(f, fr, mk_frame6(fr, allnodes_mac, PEER6, OUR6, 253, 64, "12345678", 8));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    /* unknown Next Header from :: */
    inject(f, fr, mk_frame6(fr, our_mac, unspec, OUR6, 253, 64, "12345678", 8));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    /* UDP to a closed port at a multicast group: no Port Unreachable */
    inject(f, fr, mk_udp_frame6(fr, allnodes_mac, ALLNODES, 9, 64, "x", 1));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, Udp6IgnoredMulti), 1);
    assert_int_equal(CNT(f->st, Icmp6OutMsgs), 1);
    assert_int_equal(CNT(f->st, Ip6InUnknownProtos), 3);
}

/* G.33: a 1452-byte UDP payload to a closed port (a 1500-byte packet): the
 * error is exactly 1280 bytes, quoting the first 1232 bytes. */
static void test_error_size_cap(void **state)
{
    struct fx *f = *state;
    static uint8_t fr[1600], want[1600], data[1452];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    size_t n = mk_udp_frame6(fr, our_mac, OUR6, 9, 64, data, sizeof(data));
    assert_int_equal(n, 14 + 1500);
    inject(f, fr, n);
    size_t wl = expect_error6(want, OUR6, ICMPV6_DEST_UNREACH, ICMPV6_UNREACH_PORT, 0, fr + 14,
                              1280 - 48);
    assert_int_equal(wl, 14 + 1280);
    expect_frame(f, want, wl);
    assert_int_equal(CNT(f->st, Udp6NoPorts), 1);
    assert_int_equal(CNT(f->st, Icmp6OutDestUnreachs), 1);
}

/* RFC 4443 §2.4(f): the token bucket (1000/s, burst 50). */
static void test_rate_limit(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256];
    size_t n = mk_frame6(fr, our_mac, PEER6, OUR6, 253, 64, "12345678", 8);
    for (unsigned i = 0; i < 60; i++)
        inject(f, fr, n);
    assert_int_equal(memdev_tx_pending(f->dev), 50);
    assert_int_equal(CNT(f->st, Icmp6OutRateLimitHost), 10);
    fx_drain(f);
    f->now += 1000000;    /* 1 ms: one token */
    inject(f, fr, n);
    inject(f, fr, n);
    assert_int_equal(memdev_tx_pending(f->dev), 1);
    assert_int_equal(CNT(f->st, Icmp6OutRateLimitHost), 11);
    fx_drain(f);
}

/* A Packet Too Big from a router (PEER6) quoting a packet qsrc -> qdst. */
static size_t mk_ptb_frame(uint8_t *fr, uint32_t mtu, const uint8_t qsrc[16], const uint8_t qdst[16])
{
    uint8_t q[48], m[128];
    uint8_t u[8] = {0};
    mk_ip6(q, qsrc, qdst, IP_PROTO_UDP, 64, u, 8);
    size_t ml = mk_icmp6(m, PEER6, OUR6, ICMPV6_PKT_TOO_BIG, 0, mtu, q, sizeof(q));
    return mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, 64, m, ml);
}

/* E.35, RFC 8201 §4. */
static void test_packet_too_big(void **state)
{
    struct fx *f = *state;
    static const uint8_t far[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 5};
    uint8_t fr[256];
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1500);
    /* below 1280: discarded, PMTU unchanged (no clamping) */
    inject(f, fr, mk_ptb_frame(fr, 1000, OUR6, PEER6));
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1500);
    /* a valid decrease */
    inject(f, fr, mk_ptb_frame(fr, 1400, OUR6, PEER6));
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1400);
    assert_int_equal(pmtu6_get(f->st, far, f->now), 1500);     /* per destination */
    /* an increase is ignored */
    inject(f, fr, mk_ptb_frame(fr, 1450, OUR6, PEER6));
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1400);
    /* quoting a packet we did not send: ignored */
    inject(f, fr, mk_ptb_frame(fr, 1300, OTHER6, PEER6));
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1400);
    /* exactly 1280 is valid */
    inject(f, fr, mk_ptb_frame(fr, 1280, OUR6, far));
    assert_int_equal(pmtu6_get(f->st, far, f->now), 1280);
    assert_int_equal(CNT(f->st, Icmp6InPktTooBigs), 5);
    assert_int_equal(memdev_tx_pending(f->dev), 0);

    /* output uses it: 1380 bytes of UDP (1428-byte packet) -> 2 fragments */
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    static uint8_t data[1380];
    assert_int_equal(send6(f, b, PEER6, 5555, data, sizeof(data), false), UDP_SEND_DONE);
    assert_int_equal(memdev_tx_pending(f->dev), 2);
    fx_drain(f);
    assert_int_equal(send6(f, b, PEER6, 5555, data, sizeof(data), true), -EMSGSIZE);

    /* RFC 8201 §4: aged back to the link MTU after 10 minutes */
    f->now += 600 * SEC;
    stack_poll(f->st, f->now);
    fx_drain(f);          /* Router Solicitation retransmissions (nd.c) */
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1500);
    assert_int_equal(pmtu6_get(f->st, far, f->now), 1500);
    assert_int_equal(send6(f, b, PEER6, 5555, data, sizeof(data), true), UDP_SEND_DONE);
    assert_int_equal(memdev_tx_pending(f->dev), 1);
    fx_drain(f);
    tep_free(f, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_size_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packet_too_big, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
