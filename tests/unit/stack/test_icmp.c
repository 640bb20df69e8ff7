/* SPDX-License-Identifier: MIT */
/*
 * test_icmp.c - stack/icmp.c: echo replies (RFC 792, RFC 1122 §3.2.2.6),
 * input checks (BAD-INPUT F.29), error messages with the "never send an
 * error about..." rules (RFC 1122 §3.2.2) and the rate limiter (J.44).
 *
 * Every test builds a stack on a memdev (no receive thread, manual clock),
 * injects hand-built frames, and asserts the exact counters and the exact
 * frames the stack wrote.  Topology:
 *
 *     peer 192.0.2.2 (02:00:00:00:00:02) ---- stack 192.0.2.1/24 (02:00:00:00:00:01)
 *                                              gateway 192.0.2.254
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fx4.h"

/* ---- input checks (F.29) ---------------------------------------------------------------- */
static size_t mk_icmp_frame(uint8_t *fr, uint32_t dst, const uint8_t ethdst[6], const uint8_t *icmp,
                            size_t len)
{
    size_t n = mk_eth(fr, ethdst, peer_mac);
    return n + mk_ip(fr + n, PEER_IP, dst, IP_PROTO_ICMP, 64, 0, NULL, 0, icmp, len);
}

static void test_icmp_echo_reply_exact(void **state)
{
    struct fx *f = *state;
    uint8_t req[16] = {8, 0, 0xa2, 0x93, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '1', '2', '3', '4'};
    uint8_t fr[128], out[128];
    f->st->ip_id = 0x0100;
    inject(f, fr, mk_icmp_frame(fr, OUR_IP, our_mac, req, sizeof(req)));
    static const uint8_t want[14 + 36] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x24, 0x01, 0x00, 0x00, 0x00, 0x40, 0x01, 0xf5, 0xd5,
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
        0x00, 0x00, 0xaa, 0x93, 0x12, 0x34, 0x00, 0x01,
        0x70, 0x69, 0x6e, 0x67, 0x31, 0x32, 0x33, 0x34,
    };
    assert_int_equal(pop(f, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(CNT(f->st, IcmpInMsgs), 1);
    assert_int_equal(CNT(f->st, IcmpInEchos), 1);
    assert_int_equal(CNT(f->st, IcmpOutMsgs), 1);
    assert_int_equal(CNT(f->st, IcmpOutEchoReps), 1);
    assert_int_equal(CNT(f->st, IpOutRequests), 1);
}

static void test_icmp_echo_to_broadcast_ignored(void **state)
{
    struct fx *f = *state;
    uint8_t req[16] = {8, 0, 0xa2, 0x93, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '1', '2', '3', '4'};
    uint8_t fr[128];
    inject(f, fr, mk_icmp_frame(fr, 0xC00002FFu, bcast_mac, req, sizeof(req)));
    inject(f, fr, mk_icmp_frame(fr, 0xFFFFFFFFu, bcast_mac, req, sizeof(req)));
    assert_int_equal(CNT(f->st, IcmpInEchos), 2);
    assert_int_equal(CNT(f->st, IcmpOutMsgs), 0);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
}

static void test_icmp_input_errors(void **state)
{
    struct fx *f = *state;
    uint8_t fr[128];
    uint8_t m[16] = {8, 0, 0xa2, 0x93, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '1', '2', '3', '4'};

    inject(f, fr, mk_icmp_frame(fr, OUR_IP, our_mac, m, 7));            /* short */
    assert_int_equal(CNT(f->st, IcmpInErrors), 1);
    assert_int_equal(CNT(f->st, IcmpInCsumErrors), 0);

    m[15] ^= 0xff;                                                       /* bad checksum */
    inject(f, fr, mk_icmp_frame(fr, OUR_IP, our_mac, m, sizeof(m)));
    assert_int_equal(CNT(f->st, IcmpInErrors), 2);
    assert_int_equal(CNT(f->st, IcmpInCsumErrors), 1);

    uint8_t unk[8] = {99, 0, 0, 0, 0, 0, 0, 0};                          /* unknown type */
    put_be16(unk + 2, csum_fold(csum_partial(unk, 8, 0)));
    inject(f, fr, mk_icmp_frame(fr, OUR_IP, our_mac, unk, sizeof(unk)));
    assert_int_equal(CNT(f->st, IcmpInErrors), 3);

    uint8_t du[36] = {3, 3, 0, 0, 0, 0, 0, 0};                           /* dest unreachable */
    mk_ip(du + 8, OUR_IP, PEER_IP, IP_PROTO_UDP, 64, 0, NULL, 0, "12345678", 8);
    put_be16(du + 2, csum_fold(csum_partial(du, sizeof(du), 0)));
    inject(f, fr, mk_icmp_frame(fr, OUR_IP, our_mac, du, sizeof(du)));
    assert_int_equal(CNT(f->st, IcmpInDestUnreachs), 1);
    assert_int_equal(CNT(f->st, IcmpInErrors), 3);

    assert_int_equal(CNT(f->st, IcmpInMsgs), 4);
    assert_int_equal(CNT(f->st, IcmpInEchos), 0);
    assert_int_equal(memdev_tx_pending(f->dev), 0);     /* silently discarded, no error sent */
}

/* ---- errors ------------------------------------------------------------------------------- */
static const uint8_t orig_udp[32] = {
    0x45, 0x00, 0x00, 0x20, 0x42, 0x42, 0x00, 0x00, 0x40, 0x11, 0xb4, 0x87,
    0xc0, 0x00, 0x02, 0x02, 0xc0, 0x00, 0x02, 0x01,
    0x15, 0xb3, 0x27, 0x0f, 0x00, 0x0c, 0x7a, 0x49, 0x61, 0x62, 0x63, 0x64,
};

static void test_icmp_port_unreachable_exact(void **state)
{
    struct fx *f = *state;
    uint8_t fr[128], out[128];
    size_t n = mk_eth(fr, our_mac, peer_mac);
    memcpy(fr + n, orig_udp, sizeof(orig_udp));      /* UDP 5555 -> 9999 "abcd": no socket */
    f->st->ip_id = 0x0100;
    inject(f, fr, n + sizeof(orig_udp));
    static const uint8_t want[14 + 60] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x3c, 0x01, 0x00, 0x00, 0x00, 0x40, 0x01, 0xf5, 0xbd,
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
        0x03, 0x03, 0x81, 0x1e, 0x00, 0x00, 0x00, 0x00,
        /* the offending datagram, whole (it is shorter than 548 bytes) */
        0x45, 0x00, 0x00, 0x20, 0x42, 0x42, 0x00, 0x00, 0x40, 0x11, 0xb4, 0x87,
        0xc0, 0x00, 0x02, 0x02, 0xc0, 0x00, 0x02, 0x01,
        0x15, 0xb3, 0x27, 0x0f, 0x00, 0x0c, 0x7a, 0x49, 0x61, 0x62, 0x63, 0x64,
    };
    assert_int_equal(pop(f, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(CNT(f->st, UdpNoPorts), 1);
    assert_int_equal(CNT(f->st, IcmpOutDestUnreachs), 1);
    assert_int_equal(CNT(f->st, IcmpOutMsgs), 1);
}

static void test_icmp_error_quote_capped(void **state)
{
    struct fx *f = *state;
    uint8_t big[1000], out[1600];
    memset(big, 0x5a, sizeof(big));
    mk_ip(big, PEER_IP, OUR_IP, 99, 64, 0, NULL, 0, big + 20, sizeof(big) - 20);
    icmp_send_error(f->st, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, 0, big, sizeof(big), false, f->now);
    /* RFC 1812 §4.3.2.3: 576 bytes in all: 20 + 8 + 548 quoted */
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 576);
    assert_int_equal(be16(out + 14 + 2), 576);
    assert_memory_equal(out + 14 + 28, big, 548);
}

/* Call icmp_send_error about orig with one header field changed. */
static void send_err_about(struct fx *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t frag,
                           const uint8_t *payload, size_t plen, bool link_bcast)
{
    uint8_t o[128];
    size_t n = mk_ip(o, src, dst, proto, 64, frag, NULL, 0, payload, plen);
    icmp_send_error(f->st, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, o, n, link_bcast, f->now);
}

static void test_icmp_never_send_error_about(void **state)
{
    struct fx *f = *state;
    const uint8_t udp8[8] = {0x15, 0xb3, 0x27, 0x0f, 0, 8, 0, 0};
    const uint8_t icmp_err[8] = {3, 1, 0, 0, 0, 0, 0, 0};
    const uint8_t icmp_echo[8] = {8, 0, 0, 0, 0, 1, 0, 1};

    send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_ICMP, 0, icmp_err, 8, false);  /* an ICMP error */
    send_err_about(f, PEER_IP, 0xC00002FFu, IP_PROTO_UDP, 0, udp8, 8, false);  /* to a broadcast */
    send_err_about(f, PEER_IP, 0xFFFFFFFFu, IP_PROTO_UDP, 0, udp8, 8, false);
    send_err_about(f, PEER_IP, 0xE0000001u, IP_PROTO_UDP, 0, udp8, 8, false);  /* to a multicast */
    send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, true);        /* link broadcast */
    send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_UDP, 0x0001, udp8, 8, false);  /* non-initial frag */
    send_err_about(f, 0, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);             /* source 0.0.0.0 */
    send_err_about(f, 0xFFFFFFFFu, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);   /* source bcast */
    send_err_about(f, 0xC00002FFu, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);
    send_err_about(f, 0xE0000001u, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);   /* source mcast */
    send_err_about(f, 0x7F000001u, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);   /* loopback */
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, IcmpOutMsgs), 0);
    assert_int_equal(CNT(f->st, IcmpOutRateLimitHost), 0);   /* not even a token taken */

    /* the first fragment (MF, offset 0) and an ICMP query do get an error */
    uint8_t out[128];
    send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_UDP, 0x2000, udp8, 8, false);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 20 + 8 + 28);
    send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_ICMP, 0, icmp_echo, 8, false);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 20 + 8 + 28);
    assert_int_equal(CNT(f->st, IcmpOutDestUnreachs), 2);

    /* through the input path: closed port reached by link broadcast or IP
     * broadcast - UdpNoPorts / UdpIgnoredMulti, no ICMP */
    uint8_t fr[128];
    size_t n = mk_eth(fr, bcast_mac, peer_mac);
    memcpy(fr + n, orig_udp, sizeof(orig_udp));
    inject(f, fr, n + sizeof(orig_udp));
    assert_int_equal(CNT(f->st, UdpIgnoredMulti), 1);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
}

static void test_icmp_rate_limit(void **state)
{
    struct fx *f = *state;
    const uint8_t udp8[8] = {0x15, 0xb3, 0x27, 0x0f, 0, 8, 0, 0};
    uint8_t out[128];

    for (int i = 0; i < 60; i++)
        send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);
    assert_int_equal(memdev_tx_pending(f->dev), 50);          /* the burst */
    assert_int_equal(CNT(f->st, IcmpOutRateLimitHost), 10);
    assert_int_equal(CNT(f->st, IcmpOutDestUnreachs), 50);
    while (pop(f, out, sizeof(out)) >= 0)
        ;

    f->now += 10 * 1000000ull;                                /* 10 ms: 10 tokens at 1000/s */
    for (int i = 0; i < 15; i++)
        send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);
    assert_int_equal(memdev_tx_pending(f->dev), 10);
    assert_int_equal(CNT(f->st, IcmpOutRateLimitHost), 15);
    while (pop(f, out, sizeof(out)) >= 0)
        ;

    f->now += 5ull * 1000000000ull;                           /* long idle: full again, never more */
    for (int i = 0; i < 60; i++)
        send_err_about(f, PEER_IP, OUR_IP, IP_PROTO_UDP, 0, udp8, 8, false);
    assert_int_equal(memdev_tx_pending(f->dev), 50);
    assert_int_equal(CNT(f->st, IcmpOutRateLimitHost), 25);
    while (pop(f, out, sizeof(out)) >= 0)
        ;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_icmp_echo_reply_exact),
        T(test_icmp_echo_to_broadcast_ignored),
        T(test_icmp_input_errors),
        T(test_icmp_port_unreachable_exact),
        T(test_icmp_error_quote_capped),
        T(test_icmp_never_send_error_about),
        T(test_icmp_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
