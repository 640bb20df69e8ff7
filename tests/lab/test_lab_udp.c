/* SPDX-License-Identifier: MIT */
/*
 * Lab: UDP both ways between a WSK socket and a kernel UDP socket.
 *
 *     kernel 192.0.2.1:6000 [wskudp0] <== TAP ==> wskstack 192.0.2.2:5000
 *     lk_udp_sendto / lk_udp_recv             WskSendTo / WskReceiveFrom
 *
 * 100 datagrams each way, every one with its own length (1..1472 bytes:
 * up to the largest that needs no fragment) and contents; each is compared
 * byte for byte with its source address and port, and the counters of both
 * sides must show exactly 100.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskudp0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"
#define COUNT 100
#define MAXLEN 1472

/* Datagram i of a direction: its length and bytes. */
static size_t make_payload(uint8_t *buf, unsigned i, uint8_t dir)
{
    size_t len = (size_t)(i * 149u) % MAXLEN + 1;
    if (i == COUNT - 1)
        len = MAXLEN;
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(k * 7u + i * 31u + dir);
    buf[0] = dir;
    return len;
}

static void test_udp_both_ways(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    PWSK_SOCKET s = lab_stack_socket(&ls, "192.0.2.2", 5000);
    assert_int_equal(wskc_local_port(s), 5000);
    int kfd = lk_udp_open("192.0.2.1", 6000);
    assert_true(kfd >= 0);
    int64_t kin0 = lab_kernel_cnt("Udp", "InDatagrams");
    int64_t kout0 = lab_kernel_cnt("Udp", "OutDatagrams");

    static uint8_t want[MAXLEN], got[MAXLEN + 64];
    /* stack -> kernel */
    for (unsigned i = 0; i < COUNT; i++) {
        size_t len = make_payload(want, i, 'S');
        struct wskc_op op;
        NTSTATUS st = wskc_sendto(s, want, (ULONG)len, "192.0.2.1", 6000, 3000, &op);
        if (st != STATUS_SUCCESS || op.info != len)
            fail_msg("WskSendTo #%u (%zu bytes): 0x%08x, %lu bytes", i, len, (unsigned)st,
                     (unsigned long)op.info);
        char src[LK_ADDRSTRLEN] = "";
        uint16_t sport = 0;
        long n = lk_udp_recv(kfd, got, sizeof got, 2000, src, &sport);
        if (n != (long)len)
            fail_msg("kernel datagram #%u: %ld bytes, sent %zu", i, n, len);
        assert_memory_equal(got, want, len);
        assert_string_equal(src, "192.0.2.2");
        assert_int_equal(sport, 5000);
    }
    /* kernel -> stack */
    for (unsigned i = 0; i < COUNT; i++) {
        size_t len = make_payload(want, i, 'K');
        assert_int_equal(lk_udp_sendto(kfd, want, len, "192.0.2.2", 5000), (long)len);
        ULONG n = 0;
        char src[16] = "";
        uint16_t sport = 0;
        NTSTATUS st = wskc_recvfrom(s, got, sizeof got, 2000, &n, src, &sport);
        if (st != STATUS_SUCCESS || n != len)
            fail_msg("WskReceiveFrom #%u: 0x%08x, %lu bytes, sent %zu", i, (unsigned)st,
                     (unsigned long)n, len);
        assert_memory_equal(got, want, len);
        assert_string_equal(src, "192.0.2.1");
        assert_int_equal(sport, 6000);
    }

    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpOutDatagrams", COUNT), COUNT);
    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpInDatagrams", COUNT), COUNT);
    assert_int_equal(lab_stack_cnt(&ls, "UdpNoPorts"), 0);
    assert_int_equal(lab_stack_cnt(&ls, "UdpInErrors"), 0);
    assert_int_equal(lab_stack_cnt(&ls, "UdpInCsumErrors"), 0);
    assert_int_equal(lab_stack_cnt(&ls, "UdpRcvbufErrors"), 0);
    assert_int_equal(lab_kernel_cnt("Udp", "InDatagrams") - kin0, COUNT);
    assert_int_equal(lab_kernel_cnt("Udp", "OutDatagrams") - kout0, COUNT);
    assert_int_equal(lab_kernel_cnt("Udp", "InErrors"), 0);

    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(kfd);
    lab_stack_down(&ls);
}

/* Datagrams that arrive before a receive is posted wait in the socket and
 * come out in order, each whole. */
static void test_udp_queued_in_order(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    PWSK_SOCKET s = lab_stack_socket(&ls, NULL, 5000); /* wildcard */
    int kfd = lk_udp_open("192.0.2.1", 6001);
    assert_true(kfd >= 0);

    enum { N = 8 };
    static uint8_t want[MAXLEN], got[MAXLEN];
    for (unsigned i = 0; i < N; i++) {
        size_t len = make_payload(want, i, 'Q');
        assert_int_equal(lk_udp_sendto(kfd, want, len, "192.0.2.2", 5000), (long)len);
    }
    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpInDatagrams", N), N);
    for (unsigned i = 0; i < N; i++) {
        size_t len = make_payload(want, i, 'Q');
        ULONG n = 0;
        char src[16] = "";
        uint16_t sport = 0;
        assert_int_equal(wskc_recvfrom(s, got, sizeof got, 2000, &n, src, &sport),
                         STATUS_SUCCESS);
        assert_int_equal(n, len);
        assert_memory_equal(got, want, len);
        assert_string_equal(src, "192.0.2.1");
        assert_int_equal(sport, 6001);
    }
    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(kfd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_both_ways),
        cmocka_unit_test(test_udp_queued_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
