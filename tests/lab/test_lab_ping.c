/* SPDX-License-Identifier: MIT */
/*
 * Lab: the Linux kernel pings the stack.
 *
 *     kernel 192.0.2.1/24 [wskping0] <== TAP ==> wskstack 192.0.2.2/24
 *     raw ICMP socket: echo requests  -->  ICMP echo replies
 *
 * A fresh namespace and stack per test, so the counters are absolute.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskping0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"

/* 5 echo requests, 5 replies with the same payload (lk_ping checks it and
 * the checksum), and exactly 5 on the counters of both sides. */
static void test_five_pings(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);

    for (uint16_t seq = 1; seq <= 5; seq++) {
        int64_t rtt = lk_ping("192.0.2.2", 0x5151, seq, 56, 2000);
        if (rtt <= 0)
            fail_msg("echo request %u: %lld (%s)", seq, (long long)rtt,
                     rtt == -ETIMEDOUT ? "no reply" : "bad reply");
    }

    assert_int_equal(lab_stack_cnt_settle(&ls, "IcmpOutEchoReps", 5), 5);
    assert_int_equal(lab_stack_cnt(&ls, "IcmpInEchos"), 5);
    assert_int_equal(lab_stack_cnt(&ls, "IcmpInMsgs"), 5);
    assert_int_equal(lab_stack_cnt(&ls, "IcmpOutMsgs"), 5);
    assert_int_equal(lab_stack_cnt(&ls, "IcmpInErrors"), 0);
    /* The kernel's side of the same exchange (a fresh namespace: from 0). */
    assert_int_equal(lab_kernel_cnt("Icmp", "OutEchos"), 5);
    assert_int_equal(lab_kernel_cnt("Icmp", "InEchoReps"), 5);
    lab_stack_down(&ls);
}

/* Payload sizes from empty to the largest that fits one 1500-byte frame:
 * each reply must carry exactly the request's bytes. */
static void test_ping_sizes(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);

    static const size_t sizes[] = {0, 1, 56, 1000, 1472};
    const unsigned n = sizeof sizes / sizeof sizes[0];
    for (unsigned i = 0; i < n; i++) {
        int64_t rtt = lk_ping("192.0.2.2", 0x5152, (uint16_t)(100 + i), sizes[i], 2000);
        if (rtt <= 0)
            fail_msg("echo request with %zu bytes: %lld", sizes[i], (long long)rtt);
    }
    assert_int_equal(lab_stack_cnt_settle(&ls, "IcmpOutEchoReps", n), n);
    assert_int_equal(lab_stack_cnt(&ls, "IcmpInEchos"), n);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_five_pings),
        cmocka_unit_test(test_ping_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
