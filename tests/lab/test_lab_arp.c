/* SPDX-License-Identifier: MIT */
/*
 * Lab: ARP between the stack and the Linux kernel, watched on the wire.
 *
 *     kernel 192.0.2.1/24 [wskarp0] <== TAP ==> wskstack 192.0.2.2/24
 *            AF_PACKET capture of every ARP frame in the namespace
 *
 * The capture is opened before the stack exists (on every link), so the
 * stack's very first frames are seen.  Direction: LK_DIR_IN = written by
 * the stack into the TAP, LK_DIR_OUT = sent by the kernel to the stack.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskarp0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero6[6] = {0};

/* Collect the ARP frames of the next `ms` milliseconds. */
static unsigned read_arps(int cap, struct lk_arp *out, unsigned max, unsigned ms)
{
    unsigned n = 0;
    uint64_t end = lk_now_ns() + (uint64_t)ms * 1000000ull;
    while (n < max) {
        uint64_t now = lk_now_ns();
        if (now >= end)
            break;
        int rc = lk_capture_arp(cap, (unsigned)((end - now) / 1000000ull) + 1, &out[n]);
        if (rc == -ETIMEDOUT)
            break;
        if (rc == 0)
            n++;
    }
    return n;
}

struct neigh_ctx {
    const char *ifname;
    struct lk_neigh *ne;
};

static bool kernel_has_entry(void *p)
{
    struct neigh_ctx *c = p;
    return lk_neigh_get(c->ifname, "192.0.2.2", c->ne) == 0;
}

/* At start the stack announces itself (RFC 5227 section 3: an ARP request
 * with sender IP = target IP = its address, broadcast). */
static void test_gratuitous_arp_at_start(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    int cap = lk_capture_open(NULL, 0x0806);
    assert_true(cap >= 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);

    struct lk_arp a[16];
    unsigned n = read_arps(cap, a, 16, 500);
    unsigned announcements = 0;
    for (unsigned i = 0; i < n; i++) {
        if (a[i].dir != LK_DIR_IN)
            continue;
        assert_int_equal(a[i].op, 1);
        assert_string_equal(a[i].spa, "192.0.2.2");
        assert_string_equal(a[i].tpa, "192.0.2.2");
        assert_memory_equal(a[i].sha, ls.mac, 6);
        assert_memory_equal(a[i].eth_src, ls.mac, 6);
        assert_memory_equal(a[i].eth_dst, bcast, 6);
        assert_memory_equal(a[i].tha, zero6, 6);
        assert_int_equal(a[i].ifindex, lk_ifindex(ls.ifname));
        announcements++;
    }
    assert_int_equal(announcements, 1);
    lk_close(cap);
    lab_stack_down(&ls);
}

/* The kernel's ARP layer takes the announcement in: with arp_accept = 1
 * (set in this test's namespace only) Linux creates a neighbour entry from
 * a gratuitous ARP, so the kernel knows the stack's MAC before any traffic. */
static void test_gratuitous_arp_reaches_kernel_arp(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    FILE *f = fopen("/proc/sys/net/ipv4/conf/all/arp_accept", "w");
    assert_non_null(f);
    assert_true(fputs("1\n", f) >= 0);
    assert_int_equal(fclose(f), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);

    struct lk_neigh ne;
    struct neigh_ctx ctx = {ls.ifname, &ne};
    assert_int_equal(lk_wait_until(kernel_has_entry, &ctx, 1000, 5), 0);
    assert_true(ne.has_mac);
    assert_memory_equal(ne.mac, ls.mac, 6);
    assert_string_equal(ne.state, "STALE"); /* learned, not yet confirmed */
    lab_stack_down(&ls);
}

/* The kernel resolves the stack: one broadcast request, one reply with the
 * stack's MAC, and the kernel's entry becomes REACHABLE with that MAC. */
static void test_kernel_resolves_stack(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    lk_sleep_ms(100); /* the announcement has gone out */
    int cap = lk_capture_open(ls.ifname, 0x0806);
    assert_true(cap >= 0);

    assert_true(lk_ping("192.0.2.2", 0xa1, 1, 56, 2000) > 0);
    struct lk_arp a[16];
    unsigned n = read_arps(cap, a, 16, 300);
    unsigned requests = 0, replies = 0;
    for (unsigned i = 0; i < n; i++) {
        if (a[i].dir == LK_DIR_OUT) {
            assert_int_equal(a[i].op, 1);
            assert_string_equal(a[i].spa, "192.0.2.1");
            assert_string_equal(a[i].tpa, "192.0.2.2");
            assert_memory_equal(a[i].sha, ls.kmac, 6);
            requests++;
        } else {
            assert_int_equal(a[i].op, 2);
            assert_string_equal(a[i].spa, "192.0.2.2");
            assert_memory_equal(a[i].sha, ls.mac, 6);
            assert_string_equal(a[i].tpa, "192.0.2.1");
            assert_memory_equal(a[i].tha, ls.kmac, 6);
            assert_memory_equal(a[i].eth_dst, ls.kmac, 6); /* unicast reply */
            assert_memory_equal(a[i].eth_src, ls.mac, 6);
            replies++;
        }
    }
    assert_int_equal(requests, 1);
    assert_int_equal(replies, 1);
    assert_int_equal(lab_stack_cnt_settle(&ls, "ArpOutReplies", 1), 1);
    assert_int_equal(lab_stack_cnt(&ls, "ArpInRequests"), 1);

    struct lk_neigh ne;
    assert_int_equal(lk_neigh_get(ls.ifname, "192.0.2.2", &ne), 0);
    assert_string_equal(ne.state, "REACHABLE");
    assert_true(ne.has_mac);
    assert_memory_equal(ne.mac, ls.mac, 6);
    lk_close(cap);
    lab_stack_down(&ls);
}

/* The stack resolves the kernel before sending to it: one broadcast
 * request from the stack, the kernel's reply, the datagram delivered; the
 * kernel learned the stack from the request (RFC 826), so it holds a STALE
 * entry with the stack's MAC. */
static void test_stack_resolves_kernel(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    lk_sleep_ms(100);
    int cap = lk_capture_open(ls.ifname, 0x0806);
    assert_true(cap >= 0);
    int kfd = lk_udp_open("192.0.2.1", 6100);
    assert_true(kfd >= 0);
    PWSK_SOCKET s = lab_stack_socket(&ls, NULL, 0);
    int64_t inrep0 = lab_stack_cnt(&ls, "ArpInReplies");

    static const char msg[] = "resolve me";
    assert_int_equal(wskc_sendto(s, msg, sizeof msg - 1, "192.0.2.1", 6100, 3000, NULL),
                     STATUS_SUCCESS);
    char buf[64];
    assert_int_equal(lk_udp_recv(kfd, buf, sizeof buf, 2000, NULL, NULL), sizeof msg - 1);
    assert_memory_equal(buf, msg, sizeof msg - 1);

    struct lk_arp a[16];
    unsigned n = read_arps(cap, a, 16, 300);
    unsigned requests = 0, replies = 0;
    for (unsigned i = 0; i < n; i++) {
        if (a[i].dir == LK_DIR_IN) {
            assert_int_equal(a[i].op, 1);
            assert_string_equal(a[i].spa, "192.0.2.2");
            assert_string_equal(a[i].tpa, "192.0.2.1");
            assert_memory_equal(a[i].sha, ls.mac, 6);
            assert_memory_equal(a[i].eth_dst, bcast, 6);
            requests++;
        } else {
            assert_int_equal(a[i].op, 2);
            assert_string_equal(a[i].spa, "192.0.2.1");
            assert_memory_equal(a[i].sha, ls.kmac, 6);
            assert_memory_equal(a[i].tha, ls.mac, 6);
            replies++;
        }
    }
    assert_int_equal(requests, 1);
    assert_int_equal(replies, 1);
    assert_int_equal(lab_stack_cnt(&ls, "ArpInReplies") - inrep0, 1);

    struct lk_neigh ne;
    assert_int_equal(lk_neigh_get(ls.ifname, "192.0.2.2", &ne), 0);
    assert_string_equal(ne.state, "STALE");
    assert_true(ne.has_mac);
    assert_memory_equal(ne.mac, ls.mac, 6);

    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(kfd);
    lk_close(cap);
    lab_stack_down(&ls);
}

/* A request for an address the stack does not own is not answered, and
 * each one is counted as ignored (the stack does not know the sender). */
static void test_request_for_other_address_ignored(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    lk_sleep_ms(100);
    int cap = lk_capture_open(ls.ifname, 0x0806);
    assert_true(cap >= 0);

    assert_int_equal(lk_ping("192.0.2.50", 0xa2, 1, 8, 1500), -ETIMEDOUT);
    /* Until the kernel has given up (3 requests 1 s apart), so that no
     * request arrives after the count. */
    struct lk_arp a[16];
    unsigned n = read_arps(cap, a, 16, 2500);
    unsigned requests = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(a[i].dir, LK_DIR_OUT); /* nothing from the stack */
        assert_int_equal(a[i].op, 1);
        assert_string_equal(a[i].tpa, "192.0.2.50");
        requests++;
    }
    assert_true(requests >= 1);
    assert_int_equal(lab_stack_cnt_settle(&ls, "ArpInIgnored", requests), requests);
    assert_int_equal(lab_stack_cnt(&ls, "ArpOutReplies"), 0);
    lk_close(cap);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gratuitous_arp_at_start),
        cmocka_unit_test(test_gratuitous_arp_reaches_kernel_arp),
        cmocka_unit_test(test_kernel_resolves_stack),
        cmocka_unit_test(test_stack_resolves_kernel),
        cmocka_unit_test(test_request_for_other_address_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
