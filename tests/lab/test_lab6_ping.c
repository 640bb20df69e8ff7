/* SPDX-License-Identifier: MIT */
/*
 * Lab (IPv6): the Linux kernel pings the stack.
 *
 *     kernel 2001:db8::1/64 [wsk6ping0] <== TAP ==> wskstack 2001:db8::2/64
 *     raw ICMPv6 socket: echo requests -->  ICMPv6 echo replies
 *                                            (and fe80::<EUI-64>%wsk6ping0)
 *
 * A fresh namespace and stack per test, so every counter starts at 0 on
 * both sides.  The kernel's raw ICMPv6 socket fills the checksum, lk_ping6
 * checks the reply's identifier, sequence number and every payload byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab6_stack.h"

#define CONFIG "tap=wsk6ping0;addr=2001:db8::2/64;host-addr=2001:db8::1/64"

static void ping_ok(const char *addr, uint16_t id, uint16_t seq, size_t len)
{
    int64_t rtt = lk_ping6(addr, id, seq, len, 2000);
    if (rtt <= 0)
        fail_msg("echo request to %s with %zu bytes: %lld (%s)", addr, len, (long long)rtt,
                 rtt == -ETIMEDOUT ? "no reply" : rtt == -EBADMSG ? "payload differs" : "error");
}

/* Payloads from empty to the largest that fits one 1500-byte packet
 * (1500 - 40 - 8 = 1452): one reply each, exact counters on both sides. */
static void test_ping_global_sizes(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");

    static const size_t sizes[] = {0, 1, 56, 1000, 1451, 1452};
    const unsigned n = sizeof sizes / sizeof sizes[0];
    for (unsigned i = 0; i < n; i++)
        ping_ok("2001:db8::2", 0x6601, (uint16_t)(1 + i), sizes[i]);

    assert_int_equal(lab6_cnt_settle(&l, "Icmp6OutEchoReplies", n), n);
    assert_int_equal(lab6_cnt(&l, "Icmp6InEchos"), n);
    assert_int_equal(lab6_cnt(&l, "Icmp6InErrors"), 0);
    assert_int_equal(lab6_cnt(&l, "Icmp6InCsumErrors"), 0);
    /* Nothing here needed fragmenting. */
    assert_int_equal(lab6_cnt(&l, "Ip6FragCreates"), 0);
    assert_int_equal(lab6_cnt(&l, "Ip6ReasmReqds"), 0);
    /* The kernel's side of the same exchange (a fresh namespace). */
    assert_int_equal(lab6_kcnt("Icmp6OutEchos"), n);
    assert_int_equal(lab6_kcnt("Icmp6InEchoReplies"), n);
    lab6_down(&l);
}

/* The stack's link-local address, with the TAP as the zone: the kernel
 * sends out of that interface and the reply comes from fe80::<EUI-64>. */
static void test_ping_link_local_scope(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, NULL);

    for (uint16_t seq = 1; seq <= 3; seq++)
        ping_ok(l.ll_str, 0x6602, seq, 56);
    /* The same address with the zone given as the ifindex. */
    char byidx[LK_ADDR6STRLEN], a[LK_ADDR6STRLEN];
    snprintf(byidx, sizeof byidx, "%s%%%d", lk_addr6_str(l.ll, a), l.ifindex);
    ping_ok(byidx, 0x6602, 4, 1452);

    assert_int_equal(lab6_cnt_settle(&l, "Icmp6OutEchoReplies", 4), 4);
    assert_int_equal(lab6_cnt(&l, "Icmp6InEchos"), 4);
    assert_int_equal(lab6_kcnt("Icmp6OutEchos"), 4);
    assert_int_equal(lab6_kcnt("Icmp6InEchoReplies"), 4);
    lab6_down(&l);
}

/* A 3000-byte payload (3008-byte ICMPv6 message) does not fit 1500: the
 * kernel sends 3 fragments (1448 + 1448 + 112), the stack reassembles,
 * answers with 3 fragments of its own, the kernel reassembles them; the
 * payload comes back byte for byte.  Both to the global and the
 * link-local address. */
static void test_ping_fragmented_both_ways(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");

    ping_ok("2001:db8::2", 0x6603, 1, 3000);
    ping_ok(l.ll_str, 0x6603, 2, 3000);

    assert_int_equal(lab6_cnt_settle(&l, "Icmp6OutEchoReplies", 2), 2);
    assert_int_equal(lab6_cnt(&l, "Icmp6InEchos"), 2);
    /* The stack: 2 datagrams reassembled from 3 fragments each, 2 replies
     * fragmented into 3 each. */
    assert_int_equal(lab6_cnt(&l, "Ip6ReasmOKs"), 2);
    assert_int_equal(lab6_cnt(&l, "Ip6ReasmReqds"), 6);
    assert_int_equal(lab6_cnt(&l, "Ip6ReasmFails"), 0);
    assert_int_equal(lab6_cnt(&l, "Ip6FragOKs"), 2);
    assert_int_equal(lab6_cnt(&l, "Ip6FragCreates"), 6);
    /* The kernel: the mirror image. */
    assert_int_equal(lab6_kcnt("Ip6FragOKs"), 2);
    assert_int_equal(lab6_kcnt("Ip6FragCreates"), 6);
    assert_int_equal(lab6_kcnt("Ip6ReasmOKs"), 2);
    assert_int_equal(lab6_kcnt("Ip6ReasmReqds"), 6);
    assert_int_equal(lab6_kcnt("Icmp6InEchoReplies"), 2);
    lab6_down(&l);
}

/* An address the stack does not own is not answered, and a request to a
 * tentative address neither (RFC 4862 §5.4): pinging while DAD still runs
 * gets nothing.  seed 0 = no start delay, so DAD ends 1 s after start. */
static void test_no_reply_from_tentative_or_foreign(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up_split(&l, CONFIG, NULL, NULL, 0);
    uint8_t a[16];
    lab6_parse("2001:db8::2", a);
    enum addr6_state s;
    assert_true(lab6_addr(&l, a, &s, NULL));
    assert_int_equal(s, ADDR6_TENTATIVE);
    /* 300 ms < the 1 s RetransTimer: still tentative while we wait. */
    assert_int_equal(lk_ping6("2001:db8::2", 0x6604, 1, 8, 300), -ETIMEDOUT);
    assert_true(lab6_addr(&l, a, &s, NULL));
    assert_int_equal(s, ADDR6_TENTATIVE);
    assert_int_equal(lab6_cnt(&l, "Icmp6InEchos"), 0);

    /* The kernel never got an NA while the address was tentative (the
     * stack ignores NS for it, RFC 4862 §5.4.3), so the request still
     * waits in the kernel's neighbour queue; its next NS (one per second,
     * three in all) is answered once DAD is over, and the queued request
     * arrives then - late, but exactly once. */
    lab6_wait_dad(&l, "2001:db8::2");
    assert_int_equal(lab6_cnt_settle(&l, "Icmp6InEchos", 1), 1);
    ping_ok("2001:db8::2", 0x6604, 2, 8);
    /* 2001:db8::50: the kernel's NS for it goes unanswered. */
    assert_int_equal(lk_ping6("2001:db8::50", 0x6604, 3, 8, 500), -ETIMEDOUT);
    assert_int_equal(lab6_cnt_settle(&l, "Icmp6OutEchoReplies", 2), 2);
    assert_int_equal(lab6_cnt(&l, "Icmp6InEchos"), 2);
    lab6_down(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_global_sizes),
        cmocka_unit_test(test_ping_link_local_scope),
        cmocka_unit_test(test_ping_fragmented_both_ways),
        cmocka_unit_test(test_no_reply_from_tentative_or_foreign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
