/* SPDX-License-Identifier: MIT */
/*
 * Lab (IPv6): UDP over IPv6 between a stack endpoint (struct udp_ep: what
 * an AF_INET6 WSK socket will wrap) and a kernel AF_INET6 socket.
 *
 *     kernel 2001:db8::1/64 [wsk6udp0] <== TAP ==> wskstack 2001:db8::2/64
 *     kernel UDP socket                             udp_ep (udp_bind/udp_send)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab6_stack.h"

#define CONFIG "tap=wsk6udp0;addr=2001:db8::2/64;host-addr=2001:db8::1/64"

/* Both ways, exact bytes, ports and addresses, exact Udp6 counters on
 * both sides; sizes up to the largest unfragmented (1500 - 40 - 8). */
static void test_udp6_both_ways(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");
    int kfd = lk_udp6_open("2001:db8::1", 7100);
    assert_true(kfd >= 0);
    struct lab6_ep e;
    lab6_ep_open(&l, &e, "2001:db8::2", 7000);

    static const size_t sizes[] = {0, 1, 100, 1452};
    const unsigned n = sizeof sizes / sizeof sizes[0];
    static uint8_t out[2048], in[2048];
    for (unsigned i = 0; i < n; i++) {
        /* stack -> kernel */
        lab6_pattern(out, sizes[i], i);
        assert_int_equal(lab6_ep_send(&l, &e, "2001:db8::1", 7100, out, sizes[i]), 0);
        char src[LK_ADDR6STRLEN];
        uint16_t sport = 0;
        assert_int_equal(lk_udp6_recv(kfd, in, sizeof in, 2000, src, &sport), (long)sizes[i]);
        assert_memory_equal(in, out, sizes[i]);
        assert_string_equal(src, "2001:db8::2");
        assert_int_equal(sport, 7000);
        /* kernel -> stack */
        lab6_pattern(out, sizes[i], 100 + i);
        assert_int_equal(lk_udp6_sendto(kfd, out, sizes[i], "2001:db8::2", 7000), (long)sizes[i]);
        struct udp_rx_info info;
        assert_int_equal(lab6_ep_recv(&e, in, sizeof in, 2000, &info), (long)sizes[i]);
        assert_memory_equal(in, out, sizes[i]);
        uint8_t ks[16], ss[16];
        lab6_parse("2001:db8::1", ks);
        lab6_parse("2001:db8::2", ss);
        assert_int_equal(info.src.af, IPA_V6);
        assert_memory_equal(info.src.v6, ks, 16);
        assert_memory_equal(info.dst.v6, ss, 16);
        assert_int_equal(info.sport, 7100);
        assert_int_equal(info.dport, 7000);
        assert_int_equal(info.ttl, 64);
        assert_false(info.mcast);
    }
    assert_int_equal(lab6_cnt(&l, "Udp6OutDatagrams"), n);
    assert_int_equal(lab6_cnt_settle(&l, "Udp6InDatagrams", n), n);
    assert_int_equal(lab6_cnt(&l, "Udp6InErrors"), 0);
    assert_int_equal(lab6_cnt(&l, "Udp6NoPorts"), 0);
    assert_int_equal(lab6_kcnt("Udp6InDatagrams"), n);
    assert_int_equal(lab6_kcnt("Udp6OutDatagrams"), n);
    assert_int_equal(lab6_kcnt("Udp6InCsumErrors"), 0);
    lab6_ep_close(&l, &e);
    lk_close(kfd);
    lab6_down(&l);
}

/* Link-local with a scope id, both ways: the stack sends to the kernel's
 * fe80:: address with the TAP's ifindex (and a wrong ifindex is refused,
 * -ENXIO); the kernel sends to the stack's fe80::%TAP; the source of each
 * is the sender's link-local (RFC 6724 rule 2). */
static void test_udp6_link_local_scope_id(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, NULL);
    char kll[LK_ADDR6STRLEN], kll_scoped[LK_ADDR6STRLEN + 20];
    lab6_kernel_ll(&l, kll);
    snprintf(kll_scoped, sizeof kll_scoped, "%s%%%d", kll, l.ifindex);
    int kfd = lk_udp6_open(kll_scoped, 7200);
    assert_true(kfd >= 0);
    struct lab6_ep e;
    lab6_ep_open(&l, &e, NULL, 7201);

    static const char m1[] = "to the kernel's link-local";
    assert_int_equal(lab6_ep_send(&l, &e, kll_scoped, 7200, m1, sizeof m1 - 1), 0);
    char buf[128], src[LK_ADDR6STRLEN], want[LK_ADDR6STRLEN + 20], a[LK_ADDR6STRLEN];
    assert_int_equal(lk_udp6_recv(kfd, buf, sizeof buf, 2000, src, NULL), sizeof m1 - 1);
    assert_memory_equal(buf, m1, sizeof m1 - 1);
    snprintf(want, sizeof want, "%s%%%d", lk_addr6_str(l.ll, a), l.ifindex);
    assert_string_equal(src, want);

    static const char m2[] = "to the stack's link-local";
    assert_int_equal(lk_udp6_sendto(kfd, m2, sizeof m2 - 1, l.ll_str, 7201), sizeof m2 - 1);
    struct udp_rx_info info;
    assert_int_equal(lab6_ep_recv(&e, buf, sizeof buf, 2000, &info), sizeof m2 - 1);
    assert_memory_equal(buf, m2, sizeof m2 - 1);
    uint8_t k[16];
    lab6_parse(kll, k);
    assert_memory_equal(info.src.v6, k, 16);
    assert_memory_equal(info.dst.v6, l.ll, 16);
    assert_int_equal(info.ifindex, (uint32_t)l.ifindex);

    /* A scope id that is not the stack's interface. */
    char wrong[LK_ADDR6STRLEN + 20];
    snprintf(wrong, sizeof wrong, "%s%%1", kll); /* lo */
    assert_int_equal(lab6_ep_send(&l, &e, wrong, 7200, m1, sizeof m1 - 1), -ENXIO);
    assert_int_equal(lab6_cnt(&l, "Udp6OutDatagrams"), 1);
    /* Counted after the endpoint took the datagram: may trail the recv. */
    assert_int_equal(lab6_cnt_settle(&l, "Udp6InDatagrams", 1), 1);
    lab6_ep_close(&l, &e);
    lk_close(kfd);
    lab6_down(&l);
}

/* A zero UDP checksum is invalid over IPv6 (RFC 8200 §8.1): a datagram
 * built by a raw kernel socket with checksum 0 is dropped and counted
 * (Udp6InCsumErrors, Udp6InErrors), never delivered; a wrong non-zero
 * checksum likewise.  A correct one right after is delivered. */
static void test_udp6_zero_checksum_dropped(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");
    struct lab6_ep e;
    lab6_ep_open(&l, &e, "2001:db8::2", 7300);

    uint8_t d[8 + 5] = {0x1c, 0x84, 0x1c, 0x84, 0, 13, 0, 0, 'z', 'e', 'r', 'o', '!'}; /* 7300 */
    assert_int_equal(lk_raw6_send(17, "2001:db8::1", "2001:db8::2", d, sizeof d), sizeof d);
    d[6] = 0x12; /* a wrong non-zero checksum */
    d[7] = 0x34;
    assert_int_equal(lk_raw6_send(17, "2001:db8::1", "2001:db8::2", d, sizeof d), sizeof d);
    assert_int_equal(lab6_cnt_settle(&l, "Udp6InCsumErrors", 2), 2);
    assert_int_equal(lab6_cnt(&l, "Udp6InErrors"), 2);
    assert_int_equal(lab6_cnt(&l, "Udp6InDatagrams"), 0);
    uint8_t buf[64];
    assert_int_equal(lab6_ep_recv(&e, buf, sizeof buf, 100, NULL), -ETIMEDOUT);

    int kfd = lk_udp6_open("2001:db8::1", 0);
    assert_true(kfd >= 0);
    assert_int_equal(lk_udp6_sendto(kfd, "good", 4, "2001:db8::2", 7300), 4);
    assert_int_equal(lab6_ep_recv(&e, buf, sizeof buf, 2000, NULL), 4);
    assert_memory_equal(buf, "good", 4);
    assert_int_equal(lab6_cnt_settle(&l, "Udp6InDatagrams", 1), 1);
    assert_int_equal(lab6_cnt(&l, "Udp6InCsumErrors"), 2);
    lab6_ep_close(&l, &e);
    lk_close(kfd);
    lab6_down(&l);
}

/* A closed port of the stack: the kernel's socket gets ICMPv6 Destination
 * Unreachable code 4 (port unreachable, RFC 4443 §3.1) from 2001:db8::2,
 * reported as ECONNREFUSED; Udp6NoPorts and Icmp6OutDestUnreachs on the
 * stack, Icmp6InDestUnreachs on the kernel. */
static void test_udp6_closed_port_unreachable(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");
    int kfd = lk_udp6_open("2001:db8::1", 7400);
    assert_true(kfd >= 0);

    assert_int_equal(lk_udp6_sendto(kfd, "anyone?", 7, "2001:db8::2", 7999), 7);
    struct lk_icmp6_err err;
    assert_int_equal(lk_udp6_recv_error(kfd, 2000, &err), 0);
    assert_int_equal(err.type, 1);
    assert_int_equal(err.code, 4);
    assert_int_equal(err.err, ECONNREFUSED);
    assert_string_equal(err.offender, "2001:db8::2");
    assert_int_equal(lab6_cnt_settle(&l, "Udp6NoPorts", 1), 1);
    assert_int_equal(lab6_cnt(&l, "Icmp6OutDestUnreachs"), 1);
    assert_int_equal(lab6_kcnt("Icmp6InDestUnreachs"), 1);
    lk_close(kfd);
    lab6_down(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp6_both_ways),
        cmocka_unit_test(test_udp6_link_local_scope_id),
        cmocka_unit_test(test_udp6_zero_checksum_dropped),
        cmocka_unit_test(test_udp6_closed_port_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
