/* SPDX-License-Identifier: MIT */
/*
 * test_ipv6_frag.c - IPv6 fragments through the stack (ipv6_input ->
 * reasm.c -> UDP), BAD-INPUT.md D.17-D.22, and fragmentation on output
 * (RFC 8200 §4.5).  Fixture and topology: fx6.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fx6.h"

/* The fragmentable part used below: a UDP datagram PEER6:5555 -> OUR6:7777
 * with 3000 bytes of payload (3008 bytes). */
#define PAYLOAD 3000
#define FP_LEN (8 + PAYLOAD)
static uint8_t g_payload[PAYLOAD];
static uint8_t g_fp[FP_LEN];

static void mk_fp(void)
{
    for (unsigned i = 0; i < PAYLOAD; i++)
        g_payload[i] = (uint8_t)(i * 7 + 3);
    mk_udp6(g_fp, PEER6, OUR6, 5555, 7777, g_payload, PAYLOAD);
}

/* One fragment PEER6 -> OUR6: fp[off, off+len), M flag, identification,
 * Fragment header Next Header nh. */
static size_t mk_frag(uint8_t *fr, const uint8_t *fp, size_t off, size_t len, bool more,
                      uint32_t id, uint8_t nh)
{
    uint8_t pl[2048];
    struct frag_repr r = {.next_header = nh, .offset = (uint16_t)off, .more = more, .ident = id};
    ipv6_frag_emit(&r, pl);
    memcpy(pl + 8, fp + off, len);
    return mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_FRAGMENT, 64, pl, 8 + len);
}

/* Fragment i of 5 of g_fp (600 bytes each, the last 608). */
static size_t mk_piece(uint8_t *fr, unsigned i, uint32_t id)
{
    size_t off = i * 600u, len = i == 4 ? FP_LEN - 2400 : 600;
    return mk_frag(fr, g_fp, off, len, i != 4, id, IP_PROTO_UDP);
}

/* D.17: every order (random permutations, one duplicate each) delivers the
 * identical bytes once. */
static void test_reassembly_orders(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[2048];
    unsigned seed = 12345;
    mk_fp();
    for (unsigned round = 0; round < 12; round++) {
        unsigned order[5] = {0, 1, 2, 3, 4};
        for (unsigned i = 4; i > 0; i--) {
            unsigned j = (unsigned)rand_r(&seed) % (i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (unsigned k = 0; k < 5; k++) {
            inject(f, fr, mk_piece(fr, order[k], 100 + round));
            if (k == 1)   /* an exact duplicate is ignored */
                inject(f, fr, mk_piece(fr, order[k], 100 + round));
            assert_int_equal(b->calls, (int)(k == 4 ? round + 1 : round));
        }
        assert_int_equal(b->len, PAYLOAD);
        assert_memory_equal(b->data, g_payload, PAYLOAD);
        assert_memory_equal(b->info.src.v6, PEER6, 16);
    }
    assert_int_equal(CNT(f->st, Ip6ReasmOKs), 12);
    assert_int_equal(CNT(f->st, Ip6ReasmReqds), 12 * 6);
    assert_int_equal(CNT(f->st, Ip6ReasmFails), 0);
    assert_int_equal(CNT(f->st, Udp6InDatagrams), 12);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    tep_free(f, b);
}

/* D.18, RFC 5722: an overlap kills the datagram; later fragments of it are
 * dropped until its timeout. */
static void test_overlap(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[2048];
    mk_fp();
    inject(f, fr, mk_piece(fr, 0, 7));
    inject(f, fr, mk_frag(fr, g_fp, 592, 600, true, 7, IP_PROTO_UDP));
    assert_int_equal(CNT(f->st, Ip6ReasmFails), 1);
    for (unsigned i = 1; i < 5; i++)
        inject(f, fr, mk_piece(fr, i, 7));
    assert_int_equal(b->calls, 0);
    assert_int_equal(CNT(f->st, Ip6ReasmFails), 5);
    assert_int_equal(CNT(f->st, Ip6ReasmOKs), 0);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    tep_free(f, b);
}

/* D.22, RFC 6946: an atomic fragment is processed alone; the reassembly
 * with the same identification is untouched. */
static void test_atomic_fragment(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    uint8_t fr[2048], u[64];
    mk_fp();
    inject(f, fr, mk_piece(fr, 0, 9));
    size_t ul = mk_udp6(u, PEER6, OUR6, 5555, 7777, "atomic", 6);
    inject(f, fr, mk_frag(fr, u, 0, ul, false, 9, IP_PROTO_UDP));
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->len, 6);
    assert_memory_equal(b->data, "atomic", 6);
    for (unsigned i = 1; i < 5; i++)
        inject(f, fr, mk_piece(fr, i, 9));
    assert_int_equal(b->calls, 2);
    assert_int_equal(b->len, PAYLOAD);
    assert_memory_equal(b->data, g_payload, PAYLOAD);
    assert_int_equal(CNT(f->st, Ip6ReasmOKs), 1);
    assert_int_equal(CNT(f->st, Ip6ReasmReqds), 5);   /* the atomic one never entered */
    tep_free(f, b);
}

/* D.21, RFC 7112: a first fragment holding a Destination Options header
 * but not the UDP header -> Parameter Problem code 3, pointer 0. */
static void test_first_fragment_incomplete(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], want[512];
    const uint8_t dopt[8] = {IP_PROTO_UDP, 0, IPV6_OPT_PADN, 4, 0, 0, 0, 0};
    size_t n = mk_frag(fr, dopt, 0, 8, true, 21, IP_PROTO_DSTOPTS);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_FIRST_FRAG, 0,
                                        fr + 14, n - 14));
    assert_int_equal(CNT(f->st, Ip6ReasmReqds), 1);
    assert_int_equal(CNT(f->st, Ip6ReasmFails), 1);
    assert_int_equal(reasm_count(f->st), 0);
}

/* D.19: a non-final fragment whose length is not a multiple of 8 ->
 * Parameter Problem code 0 pointing at Payload Length (offset 4). */
static void test_bad_length_fragment(void **state)
{
    struct fx *f = *state;
    uint8_t fr[2048], want[2048];
    mk_fp();
    size_t n = mk_frag(fr, g_fp, 600, 100, true, 22, IP_PROTO_UDP);
    inject(f, fr, n);
    expect_frame(f, want, expect_error6(want, OUR6, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_HEADER,
                                        IPV6_OFF_PAYLOAD_LEN, fr + 14, n - 14));
    assert_int_equal(CNT(f->st, Ip6ReasmReqds), 1);
    assert_int_equal(CNT(f->st, Ip6ReasmFails), 1);
}

/* D.20: fragment 0 alone times out after 60 s -> Time Exceeded code 1
 * quoting fragment 0 as it arrived; a middle fragment alone -> nothing. */
static void test_reassembly_timeout(void **state)
{
    struct fx *f = *state;
    uint8_t fr0[2048], fr[2048], want[2048];
    mk_fp();
    size_t n0 = mk_piece(fr0, 0, 0xabcdef01u);
    inject(f, fr0, n0);
    inject(f, fr, mk_piece(fr, 2, 0x5555));
    f->now += 60 * SEC - 1;
    stack_poll(f->st, f->now);
    fx_drain(f);   /* Router Solicitation retransmissions (nd.c) */
    assert_int_equal(reasm_count(f->st), 2);
    f->now += 1;
    stack_poll(f->st, f->now);
    uint8_t got[2048];
    long gl;
    size_t wl = expect_error6(want, OUR6, ICMPV6_TIME_EXCEEDED, ICMPV6_TIME_REASSEMBLY, 0,
                              fr0 + 14, n0 - 14);
    bool seen = false;
    while ((gl = pop(f, got, sizeof(got))) >= 0) {
        if (be16(got + 12) == ETHERTYPE_IPV6 && got[14 + 6] == IP_PROTO_ICMPV6 &&
            got[14 + 40] == ICMPV6_TIME_EXCEEDED) {
            assert_false(seen);
            assert_int_equal(gl, (long)wl);
            assert_memory_equal(got, want, wl);
            seen = true;
        }
    }
    assert_true(seen);
    assert_int_equal(CNT(f->st, Ip6ReasmTimeout), 2);
    assert_int_equal(CNT(f->st, Icmp6OutTimeExcds), 1);
    assert_int_equal(reasm_count(f->st), 0);
}

/* RFC 8200 §4.5 on output: 4000 bytes at MTU 1500 -> 3 fragments (1448,
 * 1448, 1112 bytes of the 4008-byte UDP datagram) with one unpredictable
 * identification; reassembled by the test, byte for byte. */
static void test_fragment_output(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777, UDP_EP_V6);
    static uint8_t data[4000], whole[4008], want[4008], got[2048];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    assert_int_equal(send6(f, b, PEER6, 5555, data, sizeof(data), false), UDP_SEND_DONE);
    assert_int_equal(memdev_tx_pending(f->dev), 3);
    const uint32_t offs[3] = {0, 1448, 2896}, lens[3] = {1448, 1448, 1112};
    uint32_t id = 0;
    for (unsigned i = 0; i < 3; i++) {
        long n = pop(f, got, sizeof(got));
        assert_int_equal(n, (long)(14 + 40 + 8 + lens[i]));
        assert_memory_equal(got, peer_mac, 6);
        struct ipv6_repr ip;
        assert_int_equal(ipv6_parse(got + 14, (size_t)n - 14, &ip), WIRE_OK);
        assert_int_equal(ip.next_header, IP_PROTO_FRAGMENT);
        assert_int_equal(ip.payload_len, 8 + lens[i]);
        assert_int_equal(ip.hop_limit, 64);
        assert_memory_equal(ip.src, OUR6, 16);
        assert_memory_equal(ip.dst, PEER6, 16);
        struct frag_repr fh;
        assert_int_equal(ipv6_frag_parse(got + 54, 8, &fh), WIRE_OK);
        assert_int_equal(fh.next_header, IP_PROTO_UDP);
        assert_int_equal(fh.offset, offs[i]);
        assert_int_equal(fh.more, i < 2);
        assert_int_equal(got[55], 0);   /* reserved */
        if (i == 0)
            id = fh.ident;
        assert_int_equal(fh.ident, id);
        memcpy(whole + offs[i], got + 62, lens[i]);
    }
    mk_udp6(want, OUR6, PEER6, 7777, 5555, data, sizeof(data));
    assert_memory_equal(whole, want, sizeof(want));
    assert_int_equal(CNT(f->st, Ip6FragOKs), 1);
    assert_int_equal(CNT(f->st, Ip6FragCreates), 3);
    /* a second datagram gets another identification (RFC 7739: random) */
    assert_int_equal(send6(f, b, PEER6, 5555, data, sizeof(data), false), UDP_SEND_DONE);
    assert_int_equal(pop(f, got, sizeof(got)), 14 + 40 + 8 + 1448);
    assert_int_not_equal(be32(got + 58), id);
    fx_drain(f);
    /* IPV6_DONTFRAG: nothing is sent */
    assert_int_equal(send6(f, b, PEER6, 5555, data, sizeof(data), true), -EMSGSIZE);
    assert_int_equal(send6(f, b, PEER6, 5555, data, 1452, true), UDP_SEND_DONE);
    assert_int_equal(send6(f, b, PEER6, 5555, data, 1453, true), -EMSGSIZE);
    assert_int_equal(CNT(f->st, Ip6FragFails), 2);
    assert_int_equal(memdev_tx_pending(f->dev), 1);
    fx_drain(f);
    tep_free(f, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reassembly_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_fragment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_fragment_incomplete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_length_fragment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reassembly_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragment_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
