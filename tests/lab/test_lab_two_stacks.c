/* SPDX-License-Identifier: MIT */
/*
 * Lab: two stacks on two TAPs in one process, used at the same time.
 *
 *     kernel 192.0.2.1/24    [wskta0] <== TAP ==> stack A 192.0.2.2/24
 *     kernel 198.51.100.1/24 [wsktb0] <== TAP ==> stack B 198.51.100.2/24
 *
 * One thread per stack exchanges datagrams with a kernel socket on its
 * subnet (each datagram names its stack and number, and is compared byte
 * for byte), both at once.  Then each stack gets traffic of its own kind
 * (pings to A only, a closed-port error to B only) and the counters must
 * show each stack exactly its own traffic.  Neither stack has a route to
 * the other's subnet.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define ROUNDS 50

struct side {
    const char *name;
    struct lab_stack ls;
    PWSK_SOCKET sock;
    const char *stack_ip, *kernel_ip;
    uint16_t stack_port, kernel_port;
    int kfd;
    /* results, checked by the main thread (cmocka asserts are not
     * thread-safe) */
    int rounds_ok;
    char error[160];
};

static void *exchange(void *arg)
{
    struct side *sd = arg;
    for (int i = 0; i < ROUNDS; i++) {
        char msg[64], buf[128], src[LK_ADDRSTRLEN] = "";
        uint16_t sport = 0;
        int len = snprintf(msg, sizeof msg, "stack %s -> kernel, round %d", sd->name, i);
        struct wskc_op op;
        NTSTATUS st = wskc_sendto(sd->sock, msg, (ULONG)len, sd->kernel_ip, sd->kernel_port,
                                  3000, &op);
        if (st != STATUS_SUCCESS || op.info != (ULONG_PTR)len) {
            snprintf(sd->error, sizeof sd->error, "round %d: WskSendTo 0x%08x", i, (unsigned)st);
            return NULL;
        }
        long n = lk_udp_recv(sd->kfd, buf, sizeof buf, 2000, src, &sport);
        if (n != len || memcmp(buf, msg, (size_t)len) != 0 || strcmp(src, sd->stack_ip) != 0 ||
            sport != sd->stack_port) {
            snprintf(sd->error, sizeof sd->error, "round %d: kernel got %ld bytes from %s:%u", i,
                     n, src, sport);
            return NULL;
        }
        len = snprintf(msg, sizeof msg, "kernel -> stack %s, round %d", sd->name, i);
        if (lk_udp_sendto(sd->kfd, msg, (size_t)len, sd->stack_ip, sd->stack_port) != len) {
            snprintf(sd->error, sizeof sd->error, "round %d: kernel sendto failed", i);
            return NULL;
        }
        ULONG got = 0;
        char wsrc[16] = "";
        st = wskc_recvfrom(sd->sock, buf, sizeof buf, 2000, &got, wsrc, &sport);
        if (st != STATUS_SUCCESS || got != (ULONG)len || memcmp(buf, msg, (size_t)len) != 0 ||
            strcmp(wsrc, sd->kernel_ip) != 0 || sport != sd->kernel_port) {
            snprintf(sd->error, sizeof sd->error, "round %d: WskReceiveFrom 0x%08x, %lu bytes",
                     i, (unsigned)st, (unsigned long)got);
            return NULL;
        }
        sd->rounds_ok++;
    }
    return NULL;
}

static void side_up(struct side *sd, const char *config)
{
    lab_stack_up(&sd->ls, config);
    sd->sock = lab_stack_socket(&sd->ls, sd->stack_ip, sd->stack_port);
    sd->kfd = lk_udp_open(sd->kernel_ip, sd->kernel_port);
    assert_true(sd->kfd >= 0);
}

static void side_down(struct side *sd)
{
    assert_int_equal(wskc_close(sd->sock), STATUS_SUCCESS);
    lk_close(sd->kfd);
    lab_stack_down(&sd->ls);
}

static void test_two_stacks_at_once(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    static struct side a = {.name = "A", .stack_ip = "192.0.2.2", .kernel_ip = "192.0.2.1",
                            .stack_port = 5001, .kernel_port = 6001};
    static struct side b = {.name = "B", .stack_ip = "198.51.100.2",
                            .kernel_ip = "198.51.100.1", .stack_port = 5002,
                            .kernel_port = 6002};
    side_up(&a, "tap=wskta0;addr=192.0.2.2/24;host-addr=192.0.2.1/24");
    side_up(&b, "tap=wsktb0;addr=198.51.100.2/24;host-addr=198.51.100.1/24");
    assert_string_equal(a.ls.ifname, "wskta0");
    assert_string_equal(b.ls.ifname, "wsktb0");
    assert_memory_not_equal(a.ls.mac, b.ls.mac, 6);
    assert_int_not_equal(wskstack_ifindex(a.ls.st), wskstack_ifindex(b.ls.st));

    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, exchange, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, exchange, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    if (a.error[0])
        fail_msg("stack A: %s", a.error);
    if (b.error[0])
        fail_msg("stack B: %s", b.error);
    assert_int_equal(a.rounds_ok, ROUNDS);
    assert_int_equal(b.rounds_ok, ROUNDS);

    /* Traffic for one stack only. */
    for (uint16_t seq = 1; seq <= 3; seq++)
        assert_true(lk_ping("192.0.2.2", 0x7a, seq, 32, 2000) > 0);
    static const char closed[] = "closed port on B's subnet";
    assert_int_equal(wskc_sendto(b.sock, closed, sizeof closed - 1, "198.51.100.1", 9, 3000, NULL),
                     STATUS_SUCCESS);
    /* No route from one stack to the other's subnet. */
    assert_int_equal(wskc_sendto(a.sock, closed, sizeof closed - 1, "198.51.100.1", 6002, 3000,
                                 NULL),
                     STATUS_NETWORK_UNREACHABLE);

    /* Each stack counted exactly its own traffic. */
    assert_int_equal(lab_stack_cnt_settle(&a.ls, "IcmpOutEchoReps", 3), 3);
    assert_int_equal(lab_stack_cnt(&a.ls, "IcmpInEchos"), 3);
    assert_int_equal(lab_stack_cnt(&b.ls, "IcmpInEchos"), 0);
    assert_int_equal(lab_stack_cnt(&b.ls, "IcmpOutEchoReps"), 0);
    assert_int_equal(lab_stack_cnt_settle(&b.ls, "IcmpInDestUnreachs", 1), 1);
    assert_int_equal(lab_stack_cnt(&a.ls, "IcmpInDestUnreachs"), 0);
    assert_int_equal(lab_stack_cnt(&a.ls, "UdpOutDatagrams"), ROUNDS);
    assert_int_equal(lab_stack_cnt(&b.ls, "UdpOutDatagrams"), ROUNDS + 1);
    assert_int_equal(lab_stack_cnt(&a.ls, "UdpInDatagrams"), ROUNDS);
    assert_int_equal(lab_stack_cnt(&b.ls, "UdpInDatagrams"), ROUNDS);
    assert_int_equal(lab_stack_cnt(&a.ls, "IpOutNoRoutes"), 1);
    assert_int_equal(lab_stack_cnt(&b.ls, "IpOutNoRoutes"), 0);

    side_down(&a);
    side_down(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_stacks_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
