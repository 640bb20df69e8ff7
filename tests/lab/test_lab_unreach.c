/* SPDX-License-Identifier: MIT */
/*
 * Lab: the three ways a send fails to arrive, and what the WSK client sees.
 *
 *     kernel 192.0.2.1/24 [wskunr0] <== TAP ==> wskstack 192.0.2.2/24
 *     (no gateway: 203.0.113.0/24 has no route; 192.0.2.99 does not exist)
 *
 *  - absent host 192.0.2.99: WskSendTo pends, the stack sends exactly 3 ARP
 *    requests 1 s apart, the IRP completes with STATUS_HOST_UNREACHABLE;
 *  - no route (203.0.113.9): the call fails at once with
 *    STATUS_NETWORK_UNREACHABLE and nothing goes on the wire;
 *  - closed kernel port: the send succeeds, the kernel answers with ICMP
 *    port unreachable and the stack counts it (IcmpInDestUnreachs + 1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskunr0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"

static void test_absent_host(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    PWSK_SOCKET s = lab_stack_socket(&ls, NULL, 0);
    lk_sleep_ms(100); /* the announcement has gone out */
    int cap = lk_capture_open(ls.ifname, 0x0806);
    assert_true(cap >= 0);
    int64_t req0 = lab_stack_cnt(&ls, "ArpOutRequests");
    int64_t fail0 = lab_stack_cnt(&ls, "ArpResolveFailed");
    int64_t drops0 = lab_stack_cnt(&ls, "ArpQueueDrops");

    static const char msg[] = "anybody at .99?";
    struct wskc_op op;
    NTSTATUS st = wskc_sendto(s, msg, sizeof msg - 1, "192.0.2.99", 9, 8000, &op);
    assert_int_equal(op.returned, STATUS_PENDING);
    assert_int_equal(st, STATUS_HOST_UNREACHABLE);
    assert_int_equal(op.info, 0);
    /* 3 requests 1 s apart, failure 1 s after the last: about 3 s. */
    if (op.elapsed_ms < 2500 || op.elapsed_ms > 4500)
        fail_msg("completed after %llu ms, expected about 3000",
                 (unsigned long long)op.elapsed_ms);

    /* Exactly 3 requests on the wire, and no 4th afterwards. */
    unsigned requests = 0;
    struct lk_arp a;
    while (lk_capture_arp(cap, 1500, &a) == 0) {
        assert_int_equal(a.dir, LK_DIR_IN);
        assert_int_equal(a.op, 1);
        assert_string_equal(a.spa, "192.0.2.2");
        assert_string_equal(a.tpa, "192.0.2.99");
        assert_memory_equal(a.sha, ls.mac, 6);
        requests++;
    }
    assert_int_equal(requests, 3);
    assert_int_equal(lab_stack_cnt(&ls, "ArpOutRequests") - req0, 3);
    assert_int_equal(lab_stack_cnt(&ls, "ArpResolveFailed") - fail0, 1);
    /* The queued datagram was dropped, and counted (nothing is lost silently). */
    assert_int_equal(lab_stack_cnt(&ls, "ArpQueueDrops") - drops0, 1);

    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(cap);
    lab_stack_down(&ls);
}

static void test_no_route(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    PWSK_SOCKET s = lab_stack_socket(&ls, NULL, 0);
    lk_sleep_ms(100);
    int cap = lk_capture_open(ls.ifname, 0);
    assert_true(cap >= 0);
    int64_t noroute0 = lab_stack_cnt(&ls, "IpOutNoRoutes");

    static const char msg[] = "off-link, no gateway";
    struct wskc_op op;
    NTSTATUS st = wskc_sendto(s, msg, sizeof msg - 1, "203.0.113.9", 9, 3000, &op);
    assert_int_equal(op.returned, STATUS_NETWORK_UNREACHABLE); /* at once, not pending */
    assert_int_equal(st, STATUS_NETWORK_UNREACHABLE);
    assert_int_equal(op.info, 0);
    if (op.elapsed_ms > 200)
        fail_msg("took %llu ms", (unsigned long long)op.elapsed_ms);
    assert_int_equal(lab_stack_cnt(&ls, "IpOutNoRoutes") - noroute0, 1);
    assert_int_equal(lab_stack_cnt(&ls, "UdpOutDatagrams"), 0);

    /* Nothing IPv4 or ARP left the stack: the send produced no frame.  (The
     * stack's own IPv6 start-up - DAD probe, Router Solicitation - runs on
     * its own timers and is not caused by this send, so IPv6 frames are
     * not counted here.) */
    uint8_t f[2048];
    int dir = -1;
    long n;
    while ((n = lk_capture_next(cap, f, sizeof f, 300, &dir, NULL)) > 0) {
        if (dir != LK_DIR_IN || n < 14)
            continue;
        unsigned type = (unsigned)f[12] << 8 | f[13];
        if (type == 0x86dd)
            continue;
        fail_msg("the stack sent a %ld-byte frame (EtherType 0x%04x)", n, type);
    }

    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(cap);
    lab_stack_down(&ls);
}

static void test_closed_kernel_port(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    PWSK_SOCKET s = lab_stack_socket(&ls, "192.0.2.2", 5300);
    int64_t du0 = lab_stack_cnt(&ls, "IcmpInDestUnreachs");
    int64_t kdu0 = lab_kernel_cnt("Icmp", "OutDestUnreachs");
    int64_t knoport0 = lab_kernel_cnt("Udp", "NoPorts");

    static const char msg[] = "port 9 is closed";
    struct wskc_op op;
    assert_int_equal(wskc_sendto(s, msg, sizeof msg - 1, "192.0.2.1", 9, 3000, &op),
                     STATUS_SUCCESS);
    assert_int_equal(op.info, sizeof msg - 1);
    assert_int_equal(lab_stack_cnt_settle(&ls, "IcmpInDestUnreachs", du0 + 1), du0 + 1);
    assert_int_equal(lab_kernel_cnt("Icmp", "OutDestUnreachs") - kdu0, 1);
    assert_int_equal(lab_kernel_cnt("Udp", "NoPorts") - knoport0, 1);
    assert_int_equal(lab_stack_cnt(&ls, "IcmpInErrors"), 0);
    /* The error is for us, not for a socket of ours: nothing to receive. */
    char buf[64];
    ULONG got = 0;
    assert_int_equal(wskc_recvfrom(s, buf, sizeof buf, 300, &got, NULL, NULL), STATUS_CANCELLED);
    assert_int_equal(got, 0);

    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent_host),
        cmocka_unit_test(test_no_route),
        cmocka_unit_test(test_closed_kernel_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
