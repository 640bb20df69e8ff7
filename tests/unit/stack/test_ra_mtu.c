/* SPDX-License-Identifier: MIT */
/*
 * test_ra_mtu.c - the Router Advertisement MTU option becomes the IPv6 link
 * MTU used for sending (RFC 4861 §6.3.4): values outside 1280..link MTU are
 * ignored (RFC 8200 §5), path MTU entries never exceed it (RFC 8201), IPv4
 * is unaffected.  memdev, STACK_NO_THREAD, manual clock: fx6.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fx6.h"

static const uint8_t RTR_LL6[16] = {0xfe, 0x80, [15] = 0xfe};
#define UPAY 1452   /* UDP payload: 40 + 8 + 1452 = 1500, the link MTU */

/* A valid RA (hop limit 255, link-local source, to all-nodes) whose only
 * option is MTU = mtu; Router Lifetime 0 (not a default router). */
static void inject_ra_mtu(struct fx *f, uint32_t mtu)
{
    uint8_t m[64], fr[256];
    struct nd_ra_repr r;
    memset(&r, 0, sizeof r);
    r.has_mtu = true;
    r.mtu = mtu;
    size_t n = nd_ra_emit(&r, m);
    icmpv6_csum_fill(m, n, RTR_LL6, ALLNODES);
    inject(f, fr, mk_frame6(fr, allnodes_mac, RTR_LL6, ALLNODES, IP_PROTO_ICMPV6, 255, m, n));
}

static uint8_t g_pay[UPAY];

static void fill_pay(void)
{
    for (unsigned i = 0; i < UPAY; i++)
        g_pay[i] = (uint8_t)(i * 13 + 5);
}

/* One unfragmented UDP/IPv6 datagram of UPAY bytes to PEER6: 1514 bytes. */
static void expect_whole6(struct fx *f)
{
    uint8_t got[2048];
    long n = pop(f, got, sizeof got);
    assert_int_equal(n, 14 + 40 + 8 + UPAY);
    assert_int_equal(got[14 + 6], IP_PROTO_UDP);
    assert_int_equal(be16(got + 14 + 4), 8 + UPAY);
    assert_memory_equal(got + 14 + 48, g_pay, UPAY);
}

/* The same datagram fragmented for a 1400-byte MTU: (1400 - 48) & ~7 = 1352
 * bytes of the 1460-byte UDP datagram, then the remaining 108. */
static void expect_frags_1400(struct fx *f)
{
    uint8_t a[2048], b[2048];
    long na = pop(f, a, sizeof a), nb = pop(f, b, sizeof b);
    assert_int_equal(na, 14 + 40 + 8 + 1352);   /* 1414: IPv6 packet of exactly 1400 */
    assert_int_equal(nb, 14 + 40 + 8 + 108);    /* 170 */
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    /* IPv6 headers: Next Header 44, Payload Length 8 + piece */
    assert_int_equal(a[14 + 6], IP_PROTO_FRAGMENT);
    assert_int_equal(b[14 + 6], IP_PROTO_FRAGMENT);
    assert_int_equal(be16(a + 14 + 4), 8 + 1352);
    assert_int_equal(be16(b + 14 + 4), 8 + 108);
    /* Fragment headers: NH 17, offsets 0 (M=1) and 1352 (M=0), same id */
    const uint8_t *fa = a + 54, *fb = b + 54;
    assert_int_equal(fa[0], IP_PROTO_UDP);
    assert_int_equal(fb[0], IP_PROTO_UDP);
    assert_int_equal(be16(fa + 2), 0 | 1);
    assert_int_equal(be16(fb + 2), 1352);
    assert_memory_equal(fa + 4, fb + 4, 4);
    /* The pieces: UDP header (length 1460) + payload, in order */
    assert_int_equal(be16(a + 62 + 4), 8 + UPAY);
    assert_memory_equal(a + 62 + 8, g_pay, 1352 - 8);
    assert_memory_equal(b + 62, g_pay + 1352 - 8, 108);
}

static void ra_mtu_1400_fragments(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 4000, UDP_EP_V6);
    fill_pay();
    assert_int_equal(send6(f, b, PEER6, 9, g_pay, UPAY, false), UDP_SEND_DONE);
    expect_whole6(f);   /* before the RA: 1500 */

    inject_ra_mtu(f, 1400);
    struct nd_params prm;
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.link_mtu, 1400);
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1400);
    assert_int_equal(send6(f, b, PEER6, 9, g_pay, UPAY, false), UDP_SEND_DONE);
    expect_frags_1400(f);
    assert_int_equal(CNT(f->st, Ip6FragOKs), 1);
    assert_int_equal(CNT(f->st, Ip6FragCreates), 2);
    /* IPV6_DONTFRAG: too big for the RA's MTU */
    assert_int_equal(send6(f, b, PEER6, 9, g_pay, UPAY, true), -EMSGSIZE);
    /* the link-local route (scope) uses it too */
    assert_int_equal(pmtu6_get(f->st, RTR_LL6, f->now), 1400);
    tep_free(f, b);
}

static void ra_mtu_out_of_range_ignored(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 4000, UDP_EP_V6);
    fill_pay();
    struct nd_params prm;
    inject_ra_mtu(f, 1000);   /* below 1280 (RFC 8200 §5) */
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.link_mtu, 1500);
    assert_int_equal(send6(f, b, PEER6, 9, g_pay, UPAY, false), UDP_SEND_DONE);
    expect_whole6(f);
    inject_ra_mtu(f, 9000);   /* above the link MTU */
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.link_mtu, 1500);
    assert_int_equal(send6(f, b, PEER6, 9, g_pay, UPAY, false), UDP_SEND_DONE);
    expect_whole6(f);
    assert_int_equal(CNT(f->st, Ip6FragOKs), 0);
    /* after a valid 1400, bad values do not change it either */
    inject_ra_mtu(f, 1400);
    inject_ra_mtu(f, 1000);
    inject_ra_mtu(f, 9000);
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1400);
    assert_int_equal(send6(f, b, PEER6, 9, g_pay, UPAY, false), UDP_SEND_DONE);
    expect_frags_1400(f);
    tep_free(f, b);
}

static void ra_mtu_caps_pmtu_entries(void **state)
{
    struct fx *f = *state;
    /* An entry learned from a PTB before the RA (1480) ... */
    pmtu6_update(f->st, PEER6, 1480, f->now);
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1480);
    inject_ra_mtu(f, 1400);
    /* ... never exceeds the RA's link MTU afterwards */
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1400);
    /* a PTB at or above the link MTU is not a decrease (pmtu6_update holds
     * st->lock while reading the link MTU: no deadlock) */
    pmtu6_update(f->st, PEER6, 1450, f->now);
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1400);
    pmtu6_update(f->st, OTHER6, 1400, f->now);
    assert_int_equal(pmtu6_get(f->st, OTHER6, f->now), 1400);
    /* a real decrease still works */
    pmtu6_update(f->st, PEER6, 1300, f->now);
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now), 1300);
    /* aged entry: back to the RA's link MTU, not the configured 1500 */
    assert_int_equal(pmtu6_get(f->st, PEER6, f->now + 601 * SEC), 1400);
}

static void ra_mtu_ipv4_unaffected(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 4000, UDP_EP_V4);
    inject_ra_mtu(f, 1400);
    static uint8_t pay4[1472];   /* 20 + 8 + 1472 = 1500 */
    memset(pay4, 0x5a, sizeof pay4);
    struct iovec iov = {.iov_base = pay4, .iov_len = sizeof pay4};
    struct udp_send_args a = {.dport = 9, .ttl = -1, .tos = -1, .df = true, .iov = &iov,
                              .iovcnt = 1, .len = sizeof pay4};
    a.dst = ip4(PEER4);
    assert_int_equal(udp_send(f->st, &b->ep, &a), UDP_SEND_DONE);
    uint8_t got[2048];
    assert_int_equal(pop(f, got, sizeof got), 14 + 1500);
    assert_int_equal(be16(got + 12), 0x0800);
    assert_int_equal(be16(got + 14 + 2), 1500);
    assert_int_equal(CNT(f->st, IpFragCreates), 0);
    tep_free(f, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ra_mtu_1400_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(ra_mtu_out_of_range_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(ra_mtu_caps_pmtu_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(ra_mtu_ipv4_unaffected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
