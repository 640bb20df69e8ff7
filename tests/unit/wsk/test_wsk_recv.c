/* SPDX-License-Identifier: MIT */
/*
 * WskReceiveFrom on a memdev stack: pending then delivered, queued then
 * immediate, RemoteAddress, the IP_PKTINFO control message byte for byte,
 * MSG_TRUNC / MSG_CTRUNC, MDL chains with an offset, and the bounded
 * receive queue (UdpRcvbufErrors).
 */
#include "wsk_test.h"

static struct wt T;

static int setup(void **state)
{
    wt_setup(&T);
    return 0;
}
static int teardown(void **state)
{
    wt_teardown(&T);
    return 0;
}

struct cnt_wait {
    const char *name;
    int64_t want;
};
static bool counter_reached(void *ctx)
{
    struct cnt_wait *c = ctx;
    return wt_counter(&T, c->name) >= c->want;
}
static void wait_counter(const char *name, int64_t want)
{
    struct cnt_wait c = {name, want};
    assert_true(wt_until(counter_reached, &c, 3000));
}

/* The IP_PKTINFO cmsg a receive must carry, built by hand. */
static void expect_pktinfo(const struct wt_rx *rx, uint32_t dst)
{
    assert_int_equal(rx->ctl_len, 24);
    uint8_t want[24];
    memset(want, 0, sizeof(want));
    SIZE_T len = 24; /* WSA_CMSG_LEN(sizeof(IN_PKTINFO)) */
    INT level = 0 /* IPPROTO_IP */, type = 19 /* IP_PKTINFO */;
    memcpy(want, &len, 8);
    memcpy(want + 8, &level, 4);
    memcpy(want + 12, &type, 4);
    wt_be32(want + 16, dst);
    ULONG ifindex = stack_ifindex(T.st);
    memcpy(want + 20, &ifindex, 4);
    assert_memory_equal(rx->ctl, want, 24);
}

static void test_pending_receive_then_datagram(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, 0, 5100), STATUS_SUCCESS);
    assert_int_equal(wt_set_pktinfo(s, 1), STATUS_SUCCESS);
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");

    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 64), STATUS_PENDING);
    wt_sleep_ms(20);
    assert_int_equal(atomic_load(&rx.w.calls), 0);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP2, 4000, 5100, "ping!", 5);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(atomic_load(&rx.w.calls), 1);
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 5);
    assert_true(rx.w.pending_returned);
    assert_memory_equal(rx.buf, "ping!", 5);
    assert_int_equal(rx.buf[5], 0xaa); /* nothing written past the datagram */
    assert_int_equal(rx.from.sin_family, AF_INET);
    assert_int_equal(wt_sin_ip(&rx.from), WT_PEER_IP);
    assert_int_equal(wt_sin_port(&rx.from), 4000);
    expect_pktinfo(&rx, WT_OUR_IP2);
    assert_int_equal(rx.flags, 0);
    /* the stack counts after the endpoint callback returned */
    wait_counter("UdpInDatagrams", in0 + 1);
    wt_sleep_ms(10);
    assert_int_equal(wt_counter(&T, "UdpInDatagrams"), in0 + 1);
    wt_rx_fini(&rx);
    wt_close(s);
}

static void test_queued_datagram_completes_at_once(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5101), STATUS_SUCCESS);
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4001, 5101, "queued", 6);
    wait_counter("UdpInDatagrams", in0 + 1);

    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 64), STATUS_SUCCESS);
    /* already completed when the call returned */
    assert_int_equal(atomic_load(&rx.w.calls), 1);
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 6);
    assert_false(rx.w.pending_returned);
    assert_memory_equal(rx.buf, "queued", 6);
    assert_int_equal(wt_sin_ip(&rx.from), WT_PEER_IP);
    assert_int_equal(wt_sin_port(&rx.from), 4001);
    assert_int_equal(rx.ctl_len, 0); /* IP_PKTINFO is off by default */
    assert_int_equal(rx.flags, 0);
    wt_rx_fini(&rx);

    /* IP_PKTINFO on, queued datagram */
    ULONG on = 0;
    SIZE_T got = 0;
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskGetOption, IP_PKTINFO, IPPROTO_IP, 0, NULL,
                                            sizeof(on), &on, &got, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(w.info, 4);
    assert_int_equal(got, 4);
    assert_int_equal(on, 0);
    wt_irp_fini(&w);
    assert_int_equal(wt_set_pktinfo(s, 1), STATUS_SUCCESS);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4001, 5101, "q2", 2);
    wait_counter("UdpInDatagrams", in0 + 2);
    assert_int_equal(wt_rx_start(s, &rx, 100, 64), STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 2);
    expect_pktinfo(&rx, WT_OUR_IP1);
    wt_rx_fini(&rx);
    wt_close(s);
}

static void test_truncation_sets_msg_trunc(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5102), STATUS_SUCCESS);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 3, 64), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4002, 5102, "0123456789", 10);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    assert_memory_equal(rx.buf, "012", 3);
    assert_int_equal(rx.buf[3], 0xaa);
    assert_int_equal(rx.flags, MSG_TRUNC);
    wt_rx_fini(&rx);

    /* a chain of two MDLs with Offset 2 in the first */
    uint8_t b1[6], b2[5];
    memset(b1, 0xaa, sizeof(b1));
    memset(b2, 0xaa, sizeof(b2));
    PMDL m1 = wt_mdl(b1, 6), m2 = wt_mdl(b2, 5);
    m1->Next = m2;
    WSK_BUF b = {m1, 2, 8};
    struct wt_irp w;
    wt_irp_init(&w);
    ULONG flags = 0xffff, ctl_len = 0;
    NTSTATUS r = wt_dg(s)->WskReceiveFrom(s, &b, 0, NULL, &ctl_len, NULL, &flags, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4002, 5102, "ABCDEFGHIJ", 10);
    assert_true(wt_irp_wait(&w, 3000));
    assert_int_equal(w.status, STATUS_SUCCESS);
    assert_int_equal(w.info, 8);
    assert_memory_equal(b1, "\xaa\xaa" "ABCD", 6);
    assert_memory_equal(b2, "EFGH\xaa", 5);
    assert_int_equal(flags, MSG_TRUNC);
    assert_int_equal(ctl_len, 0);
    wt_irp_fini(&w);
    IoFreeMdl(m1);
    IoFreeMdl(m2);
    wt_close(s);
}

static void test_control_buffer_too_small(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5103), STATUS_SUCCESS);
    assert_int_equal(wt_set_pktinfo(s, 1), STATUS_SUCCESS);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 16), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4003, 5103, "ctl", 3);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    assert_int_equal(rx.ctl_len, 0);
    assert_int_equal(rx.flags, MSG_CTRUNC);
    uint8_t untouched[64];
    memset(untouched, 0xaa, sizeof(untouched));
    assert_memory_equal(rx.ctl, untouched, 64);
    wt_rx_fini(&rx);

    /* ControlLength NULL: ControlInfo and ControlFlags are ignored */
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4003, 5103, "nul", 3);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.info, 3);
    assert_int_equal(rx.flags, 0xaaaa);
    assert_memory_equal(rx.ctl, untouched, 64);
    wt_rx_fini(&rx);
    wt_close(s);
}

static void test_receive_queue_bound(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5104), STATUS_SUCCESS);
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    int64_t full0 = wt_counter(&T, "UdpRcvbufErrors");
    for (int i = 0; i < 70; i++) {
        uint8_t d[2] = {(uint8_t)i, 0x5a};
        wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4004, 5104, d, 2);
    }
    wait_counter("UdpRcvbufErrors", full0 + 6);
    wait_counter("UdpInDatagrams", in0 + 64);
    wt_sleep_ms(20);
    assert_int_equal(wt_counter(&T, "UdpRcvbufErrors"), full0 + 6);
    assert_int_equal(wt_counter(&T, "UdpInDatagrams"), in0 + 64);
    struct wt_rx rx;
    for (int i = 0; i < 64; i++) {
        assert_int_equal(wt_rx_start(s, &rx, 100, 0), STATUS_SUCCESS);
        assert_int_equal(rx.w.info, 2);
        assert_int_equal(rx.buf[0], i); /* in arrival order */
        wt_rx_fini(&rx);
    }
    assert_int_equal(wt_rx_start(s, &rx, 100, 0), STATUS_PENDING);
    wt_close(s); /* cancels it */
    assert_int_equal(atomic_load(&rx.w.calls), 1);
    assert_int_equal(rx.w.status, STATUS_CANCELLED);
    wt_rx_fini(&rx);
}

static void test_rcvbuf_byte_bound(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5105), STATUS_SUCCESS);
    struct wt_irp w;
    wt_irp_init(&w);
    ULONG v = 1000;
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskSetOption, SO_RCVBUF, SOL_SOCKET, sizeof(v),
                                            &v, 0, NULL, NULL, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    wt_irp_fini(&w);
    v = 0;
    SIZE_T got = 0;
    /* without an IRP the result comes back inline */
    r = wt_dg(s)->WskControlSocket(s, WskGetOption, SO_RCVBUF, SOL_SOCKET, 0, NULL, sizeof(v),
                                   &v, &got, NULL);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(v, 1000);
    assert_int_equal(got, 4);
    /* output too small */
    r = wt_dg(s)->WskControlSocket(s, WskGetOption, SO_RCVBUF, SOL_SOCKET, 0, NULL, 2, &v, &got,
                                   NULL);
    assert_int_equal(r, STATUS_BUFFER_TOO_SMALL);
    /* an option datagram sockets do not have */
    r = wt_dg(s)->WskControlSocket(s, WskSetOption, SO_KEEPALIVE, SOL_SOCKET, sizeof(v), &v, 0,
                                   NULL, NULL, NULL);
    assert_int_equal(r, STATUS_NOT_SUPPORTED);

    int64_t full0 = wt_counter(&T, "UdpRcvbufErrors");
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    static uint8_t d[400];
    for (int i = 0; i < 3; i++) {
        d[0] = (uint8_t)i;
        wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4005, 5105, d, sizeof(d));
    }
    wait_counter("UdpRcvbufErrors", full0 + 1);
    wait_counter("UdpInDatagrams", in0 + 2);
    struct wt_rx rx;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(wt_rx_start(s, &rx, 1000, 0), STATUS_SUCCESS);
        assert_int_equal(rx.w.info, 400);
        assert_int_equal(rx.buf[0], i);
        wt_rx_fini(&rx);
    }
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pending_receive_then_datagram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_datagram_completes_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_sets_msg_trunc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_buffer_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rcvbuf_byte_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
