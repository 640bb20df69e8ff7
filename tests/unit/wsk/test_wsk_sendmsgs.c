/* SPDX-License-Identifier: MIT */
/*
 * WskSendMessages: list order and exact frames, Information = total bytes,
 * the up-front size check (nothing sent), stop at the first failure with
 * Information = bytes before it, datagrams queued for ARP completing when
 * the last one resolves, descriptors/address/cmsgs captured during the
 * call, a shared IP_TOS cmsg, and RemoteAddress NULL without a fixed
 * address.
 */
#include "wsk_test_dgram.h"

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

struct msgs {
    WSK_BUF_LIST l[4];
    PMDL m[4];
    uint8_t *buf[4];
    unsigned n;
};

/* A list of n datagrams; datagram i has len[i] bytes of (i+1)*0x11 ^ j. */
static void msgs_build(struct msgs *x, unsigned n, const size_t *len)
{
    memset(x, 0, sizeof(*x));
    x->n = n;
    for (unsigned i = 0; i < n; i++) {
        x->buf[i] = malloc(len[i] + 1);
        for (size_t j = 0; j < len[i]; j++)
            x->buf[i][j] = (uint8_t)(((i + 1) * 0x11) ^ j);
        x->m[i] = len[i] ? wt_mdl(x->buf[i], (ULONG)len[i]) : NULL;
        x->l[i].Buffer.Mdl = x->m[i];
        x->l[i].Buffer.Offset = 0;
        x->l[i].Buffer.Length = len[i];
        x->l[i].Next = i + 1 < n ? &x->l[i + 1] : NULL;
    }
}

static void msgs_free(struct msgs *x)
{
    for (unsigned i = 0; i < x->n; i++) {
        if (x->m[i])
            IoFreeMdl(x->m[i]);
        free(x->buf[i]);
    }
}

static NTSTATUS send_msgs(PWSK_SOCKET s, struct msgs *x, uint32_t ip, uint16_t port, void *ctl,
                          ULONG ctl_len, struct wt_irp *w)
{
    SOCKADDR_IN to;
    wt_sin(&to, ip, port);
    NTSTATUS r = wt_dg(s)->WskSendMessages(s, &x->l[0], 0, ip ? (PSOCKADDR)&to : NULL, ctl_len,
                                           (PCMSGHDR)ctl, w->irp);
    memset(&to, 0xcc, sizeof(to));
    return r;
}

static void test_three_in_order(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6000), STATUS_SUCCESS);
    size_t len[3] = {5, 300, 1};
    struct msgs x;
    msgs_build(&x, 3, len);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = send_msgs(s, &x, WT_PEER_IP, 7000, NULL, 0, &w);
    assert_int_equal(r, STATUS_PENDING);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    assert_int_equal(w.info, 306);
    assert_true(w.pending_returned);
    for (unsigned i = 0; i < 3; i++)
        wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6000, 7000, x.buf[i], len[i], 0, 64, false);
    uint8_t f[64];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 50), -1);
    wt_irp_fini(&w);
    msgs_free(&x);
    wt_close(s);
}

static void test_too_large_element_sends_nothing(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6001), STATUS_SUCCESS);
    size_t len[3] = {10, 65508, 10};
    struct msgs x;
    msgs_build(&x, 3, len);
    int64_t out0 = wt_counter(&T, "UdpOutDatagrams");
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = send_msgs(s, &x, WT_PEER_IP, 7001, NULL, 0, &w);
    assert_int_equal(r, STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(w.info, 0);
    assert_false(w.pending_returned);
    uint8_t f[64];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 100), -1);
    assert_int_equal(wt_counter(&T, "UdpOutDatagrams"), out0);
    /* exactly 65507 is fine */
    x.l[1].Buffer.Length = 65507;
    wt_irp_reuse(&w);
    r = send_msgs(s, &x, WT_PEER_IP, 7001, NULL, 0, &w);
    assert_int_equal(r, STATUS_PENDING);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    assert_int_equal(w.info, 10 + 65507 + 10);
    assert_int_equal(wt_counter(&T, "UdpOutDatagrams"), out0 + 3);
    wt_irp_fini(&w);
    msgs_free(&x);
    wt_close(s);
}

/* IP_DONTFRAGMENT makes the 2000-byte datagram fail (-EMSGSIZE) while the
 * 100-byte ones go: the list stops there. */
static void test_stop_at_first_failure(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6002), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_DONTFRAGMENT, 1), STATUS_SUCCESS);
    size_t len[3] = {100, 2000, 100};
    struct msgs x;
    msgs_build(&x, 3, len);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = send_msgs(s, &x, WT_PEER_IP, 7002, NULL, 0, &w);
    assert_int_equal(r, STATUS_PENDING); /* something left: completes later */
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(w.info, 100); /* bytes before the failing datagram */
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6002, 7002, x.buf[0], 100, 0, 64, true);
    uint8_t f[64];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 100), -1); /* the third never left */

    /* the failing one first: an immediate failure, nothing sent */
    x.l[0].Buffer = x.l[1].Buffer;
    wt_irp_reuse(&w);
    r = send_msgs(s, &x, WT_PEER_IP, 7002, NULL, 0, &w);
    assert_int_equal(r, STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(w.info, 0);
    assert_int_equal(wt_pop(&T, f, sizeof(f), 100), -1);
    wt_irp_fini(&w);
    msgs_free(&x);
    wt_close(s);
}

/* Unresolved neighbour: all three wait for ARP; the list, the address and
 * the cmsgs are scribbled over after the call; the reply releases them in
 * order with the shared TOS, and the IRP completes with the total. */
static void test_arp_then_complete_captured_args(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6003), STATUS_SUCCESS);
    size_t len[3] = {7, 8, 9};
    struct msgs x;
    msgs_build(&x, 3, len);
    uint8_t ctl[48];
    wt_int_cmsg(ctl, IPPROTO_IP, IP_TOS, 0xb8);
    wt_int_cmsg(ctl + 24, IPPROTO_IP, IP_ECN, 1);
    struct wt_irp w;
    wt_irp_init(&w);
    const uint32_t dst = 0xC0000214u; /* 192.0.2.20, not in the cache */
    NTSTATUS r = send_msgs(s, &x, dst, 7003, ctl, sizeof(ctl), &w);
    assert_int_equal(r, STATUS_PENDING);
    memset(ctl, 0xee, sizeof(ctl));
    WSK_BUF_LIST saved[3];
    memcpy(saved, x.l, sizeof(saved));
    memset(x.l, 0xdd, sizeof(x.l)); /* descriptors were captured */
    uint8_t f[128];
    long n = wt_pop(&T, f, sizeof(f), 2000);
    assert_int_equal(n, 42); /* the ARP request */
    assert_int_equal(f[12], 0x08);
    assert_int_equal(f[13], 0x06);
    wt_sleep_ms(30);
    assert_int_equal(atomic_load(&w.calls), 0);
    static const uint8_t mac20[6] = {0x02, 0, 0, 0, 0, 0x14};
    wt_inject_arp_reply(&T, dst, mac20);
    assert_true(wt_irp_wait(&w, 3000));
    assert_int_equal(w.status, STATUS_SUCCESS);
    assert_int_equal(w.info, 24);
    assert_true(w.pending_returned);
    for (unsigned i = 0; i < 3; i++) {
        static uint8_t got[200], want[200];
        n = wt_pop(&T, got, sizeof(got), 2000);
        assert_int_equal(n, 42 + (long)len[i]);
        uint16_t id = (uint16_t)((got[18] << 8) | got[19]);
        size_t wn = wt_udp_frame(want, mac20, wt_our_mac, WT_OUR_IP1, dst, 6003, 7003, x.buf[i],
                                 len[i], id, 64);
        want[15] = 0xb9; /* TOS 0xb8 with ECN 1 */
        want[24] = want[25] = 0;
        wt_be16(want + 24, wt_csum(want + 14, 20, 0));
        assert_int_equal(wn, (size_t)n);
        assert_memory_equal(got, want, wn);
    }
    memcpy(x.l, saved, sizeof(saved));
    wt_irp_fini(&w);
    msgs_free(&x);
    wt_close(s);
}

static void test_argument_errors(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    size_t len[1] = {4};
    struct msgs x;
    msgs_build(&x, 1, len);
    struct wt_irp w;
    wt_irp_init(&w);
    /* unbound */
    NTSTATUS r = send_msgs(s, &x, WT_PEER_IP, 7004, NULL, 0, &w);
    assert_int_equal(r, STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6004), STATUS_SUCCESS);
    /* no RemoteAddress and no fixed address */
    wt_irp_reuse(&w);
    r = send_msgs(s, &x, 0, 0, NULL, 0, &w);
    assert_int_equal(r, STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_PARAMETER);
    /* NULL list */
    wt_irp_reuse(&w);
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7004);
    r = wt_dg(s)->WskSendMessages(s, NULL, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_PARAMETER);
    /* an MDL chain shorter than Length */
    x.l[0].Buffer.Length = 5;
    wt_irp_reuse(&w);
    r = send_msgs(s, &x, WT_PEER_IP, 7004, NULL, 0, &w);
    assert_int_equal(r, STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_irp_result(&w, r), STATUS_INVALID_PARAMETER);
    /* UDP_SEND_MSG_SIZE (USO) cmsg */
    x.l[0].Buffer.Length = 4;
    uint8_t ctl[24];
    wt_int_cmsg(ctl, IPPROTO_UDP, UDP_SEND_MSG_SIZE, 1200);
    wt_irp_reuse(&w);
    r = send_msgs(s, &x, WT_PEER_IP, 7004, ctl, sizeof(ctl), &w);
    assert_int_equal(r, STATUS_NOT_SUPPORTED);
    assert_int_equal(wt_irp_result(&w, r), STATUS_NOT_SUPPORTED);
    /* NULL IRP: nothing to complete */
    assert_int_equal(wt_dg(s)->WskSendMessages(s, &x.l[0], 0, (PSOCKADDR)&to, 0, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    uint8_t f[64];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 50), -1);
    wt_irp_fini(&w);
    msgs_free(&x);
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large_element_sends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_at_first_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_then_complete_captured_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argument_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
