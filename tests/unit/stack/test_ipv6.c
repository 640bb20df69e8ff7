/* SPDX-License-Identifier: MIT */
/*
 * test_ipv6.c - stack/ipv6.c input rules: BAD-INPUT.md section E (24-28),
 * V8, C.14 for IPv6, with the exact counter of every drop and, where a
 * Parameter Problem is due, its exact bytes (code and pointer).  Fixture and
 * topology: fx6.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fx6.h"

/* Nothing was sent, and the only IPv6 counter that moved besides
 * Ip6InReceives is `c` (by 1). */
static void assert_dropped(struct fx *f, enum wss_counter c)
{
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(atomic_load(&f->st->cnt[c]), 1);
    assert_int_equal(CNT(f->st, Ip6InDelivers), 0);
    for (unsigned i = 0; i < CNT__COUNT; i++)
        atomic_store(&f->st->cnt[i], 0);
}

/* E.24: header errors and truncation. */
static void test_header_errors(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], pl[8] = {0};
    size_t n;

    /* 39 bytes of IPv6 */
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_NONE, 64, NULL, 0);
    inject(f, fr, n - 1);
    assert_int_equal(CNT(f->st, Ip6InReceives), 1);
    assert_dropped(f, CNT_Ip6InHdrErrors);
    /* version 4 in an 0x86DD frame */
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_NONE, 64, pl, 8);
    fr[14] = 0x40;
    inject(f, fr, n);
    assert_dropped(f, CNT_Ip6InHdrErrors);
    /* Payload Length beyond the frame (V1): dropped, no Parameter Problem */
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_NONE, 64, pl, 8);
    put_be16(fr + 14 + 4, 9);
    inject(f, fr, n);
    assert_dropped(f, CNT_Ip6InTruncatedPkts);
    /* jumbogram: Payload Length 0 with Hop-by-Hop (RFC 2675), unsupported */
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_HOPOPTS, 64, pl, 8);
    put_be16(fr + 14 + 4, 0);
    inject(f, fr, n);
    assert_dropped(f, CNT_Ip6InHdrErrors);
    /* an extension header running past the payload (V2) */
    uint8_t dopt[8] = {IP_PROTO_UDP, 1, 1, 4, 0, 0, 0, 0}; /* says 16 bytes */
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_DSTOPTS, 64, dopt, 8);
    inject(f, fr, n);
    assert_dropped(f, CNT_Ip6InHdrErrors);
}

/* E.24 / C.12: Ethernet padding after Payload Length is trimmed; C.14:
 * Hop Limit 0 to us is delivered (a host does not discard on it). */
static void test_trim_and_hop_limit_zero(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[256];
    size_t n = mk_udp_frame6(fr, our_mac, OUR6, 7777, 0, "hello", 5);
    memset(fr + n, 0xee, 20);     /* padding that must not reach the checksum */
    inject(f, fr, n + 20);
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->len, 5);
    assert_memory_equal(b->data, "hello", 5);
    assert_int_equal(b->info.ttl, 0);
    assert_int_equal(CNT(f->st, Ip6InDelivers), 1);
    assert_int_equal(CNT(f->st, Udp6InDatagrams), 1);
    tep_free(f, b);
}

/* E.25, V8: sources and destinations a host refuses, all Ip6InAddrErrors,
 * no ICMPv6. */
static void test_address_errors(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[256], u[64];
    static const uint8_t loop[16] = {[15] = 1};
    static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 2};
    static const uint8_t mdns[16] = {0xff, 0x02, [15] = 0xfb};     /* not joined */
    static const uint8_t res0[16] = {0xff, 0x00, [15] = 0x01};     /* scope 0 */
    static const uint8_t resf[16] = {0xff, 0x0f, [15] = 0x01};     /* scope F */
    static const uint8_t ifl[16] = {0xff, 0x01, [15] = 0x01};      /* interface-local */
    const uint8_t *srcs[] = {ALLNODES, loop, mapped};
    const uint8_t *dsts[] = {OTHER6, loop, mapped, mdns, res0, resf, ifl};

    for (unsigned i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
        size_t ul = mk_udp6(u, srcs[i], OUR6, 5555, 7777, "x", 1);
        inject(f, fr, mk_frame6(fr, our_mac, srcs[i], OUR6, IP_PROTO_UDP, 64, u, ul));
        assert_dropped(f, CNT_Ip6InAddrErrors);
    }
    for (unsigned i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
        size_t ul = mk_udp6(u, PEER6, dsts[i], 5555, 7777, "x", 1);
        const uint8_t *ed = ipv6_is_multicast(dsts[i]) ? allnodes_mac : our_mac;
        inject(f, fr, mk_frame6(fr, ed, PEER6, dsts[i], IP_PROTO_UDP, 64, u, ul));
        assert_dropped(f, CNT_Ip6InAddrErrors);
    }
    assert_int_equal(b->calls, 0);
    /* the all-nodes group is joined: delivered */
    inject(f, fr, mk_udp_frame6(fr, allnodes_mac, ALLNODES, 7777, 64, "x", 1));
    assert_int_equal(b->calls, 1);
    assert_true(b->info.mcast);
    assert_int_equal(CNT(f->st, Ip6InMcastPkts), 1);
    tep_free(f, b);
}

/* E.26: an unrecognised Next Header -> Parameter Problem code 1 pointing at
 * that Next Header byte; exact bytes of the error. */
static void test_unknown_next_header(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], want[512], pl[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t n = mk_frame6(fr, our_mac, PEER6, OUR6, 253, 64, pl, 8);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, Ip6InUnknownProtos), 1);
    assert_int_equal(CNT(f->st, Icmp6OutParmProblems), 1);
    assert_int_equal(CNT(f->st, Icmp6OutMsgs), 1);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER,
                                        6, fr + 14, n - 14));

    /* after a Destination Options header: the pointer is that header's
     * Next Header byte (offset 40) */
    uint8_t d[16] = {41, 0, IPV6_OPT_PADN, 4, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_DSTOPTS, 64, d, 16);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER,
                                        40, fr + 14, n - 14));

    /* Hop-by-Hop anywhere but first (RFC 8200 §4.3): code 1 at the byte
     * that named it */
    d[0] = IP_PROTO_HOPOPTS;
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_DSTOPTS, 64, d, 16);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER,
                                        40, fr + 14, n - 14));
    assert_int_equal(CNT(f->st, Ip6InUnknownProtos), 3);

    /* to a multicast group: no error (RFC 4443 §2.4(e.3)) */
    n = mk_frame6(fr, allnodes_mac, PEER6, ALLNODES, 253, 64, pl, 8);
    inject(f, fr, n);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, Ip6InUnknownProtos), 4);
    /* No Next Header (59): delivered to nobody, silently */
    n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_NONE, 64, pl, 8);
    inject(f, fr, n);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, Ip6InDelivers), 1);
}

/* Destination Options header (8 bytes) with one 4-byte option of `type`,
 * then UDP to port 7777. */
static size_t mk_opt_frame(uint8_t *fr, const uint8_t ethdst[6], const uint8_t dst[16], uint8_t type)
{
    uint8_t pl[64];
    pl[0] = IP_PROTO_UDP;
    pl[1] = 0;
    pl[2] = type;
    pl[3] = 4;
    memset(pl + 4, 0, 4);
    size_t ul = mk_udp6(pl + 8, PEER6, dst, 5555, 7777, "opt", 3);
    return mk_frame6(fr, ethdst, PEER6, dst, IP_PROTO_DSTOPTS, 64, pl, 8 + ul);
}

/* E.27: the action bits of an unrecognised option, to unicast and to
 * multicast.  The option type sits at offset 42. */
static void test_option_actions(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[256], want[512];
    size_t n;

    /* 00: skipped */
    inject(f, fr, mk_opt_frame(fr, our_mac, OUR6, 0x1e));
    inject(f, fr, mk_opt_frame(fr, allnodes_mac, ALLNODES, 0x1e));
    assert_int_equal(b->calls, 2);
    /* 01: dropped silently */
    inject(f, fr, mk_opt_frame(fr, our_mac, OUR6, 0x5e));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, Ip6InDiscards), 1);
    /* 10: Parameter Problem code 2 at the option, to unicast ... */
    n = mk_opt_frame(fr, our_mac, OUR6, 0x9e);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_OPTION, 42,
                                        fr + 14, n - 14));
    /* ... and to multicast (RFC 4443 §2.4(e.3)), from our unicast address */
    n = mk_opt_frame(fr, allnodes_mac, ALLNODES, 0x9e);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_OPTION, 42,
                                        fr + 14, n - 14));
    /* 11: code 2 to unicast, nothing to multicast */
    n = mk_opt_frame(fr, our_mac, OUR6, 0xde);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_OPTION, 42,
                                        fr + 14, n - 14));
    inject(f, fr, mk_opt_frame(fr, allnodes_mac, ALLNODES, 0xde));
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, Ip6InDiscards), 5);
    assert_int_equal(CNT(f->st, Icmp6OutParmProblems), 3);
    assert_int_equal(b->calls, 2);
    tep_free(f, b);
}

/* E.28, V6: Routing header with Segments Left > 0 (RH0 or any type) ->
 * Parameter Problem code 0 at the Routing Type (offset 42); Segments Left 0
 * -> ignored. */
static void test_routing_header(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[256], want[512], pl[128];
    for (unsigned type = 0; type < 5; type += 4) {
        pl[0] = IP_PROTO_UDP;
        pl[1] = 2;             /* 24 bytes: RH0 with one address */
        pl[2] = (uint8_t)type;
        pl[3] = 1;             /* segments left */
        memset(pl + 4, 0, 4);
        memcpy(pl + 8, OUR6, 16);
        size_t ul = mk_udp6(pl + 24, PEER6, OUR6, 5555, 7777, "rh", 2);
        size_t n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_ROUTING, 64, pl, 24 + ul);
        inject(f, fr, n);
        expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_HEADER, 42,
                                            fr + 14, n - 14));
        pl[3] = 0;
        n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_ROUTING, 64, pl, 24 + ul);
        inject(f, fr, n);
    }
    assert_int_equal(CNT(f->st, Ip6InHdrErrors), 2);
    assert_int_equal(b->calls, 2);
    assert_memory_equal(b->data, "rh", 2);
    tep_free(f, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim_and_hop_limit_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_next_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_actions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing_header, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
