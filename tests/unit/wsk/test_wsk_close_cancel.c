/* SPDX-License-Identifier: MIT */
/*
 * WskCloseSocket and cancellation (BAD-INPUT K.46-48):
 *  - close with 1000 pending receives and sends waiting for ARP: each
 *    completes once with STATUS_CANCELLED before the close IRP completes,
 *    nothing completes after it;
 *  - IoCancelIrp racing with an arriving datagram: exactly one outcome, and
 *    a datagram not taken by a cancelled receive stays queued;
 *  - IoCancelIrp before the receive is queued (Irp->Cancel checked after
 *    arming);
 *  - the device disappears: pending receive -> STATUS_FILE_FORCED_CLOSED,
 *    new sends/receives fail with it, close still works.
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

/* Every completion of the close test counts here; the close routine
 * records how many came before it. */
static atomic_int total_done;
struct counted {
    struct wt_irp w;
    int at;            /* total_done when this one completed */
};
static NTSTATUS counted_routine(PDEVICE_OBJECT d, PIRP irp, PVOID ctx)
{
    struct counted *c = ctx;
    c->at = atomic_fetch_add(&total_done, 1);
    return wt_irp_routine(d, irp, &c->w);
}

static void test_close_with_1000_pending_receives(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5300), STATUS_SUCCESS);
    enum { NR = 1000, NS = 3 };
    atomic_store(&total_done, 0);
    struct counted *rc = calloc(NR, sizeof(*rc));
    struct counted sc[NS], cc;
    uint8_t *bufs = malloc(NR * 32);
    PMDL *mdls = calloc(NR, sizeof(PMDL));
    for (int i = 0; i < NR; i++) {
        wt_irp_init(&rc[i].w);
        IoSetCompletionRoutine(rc[i].w.irp, counted_routine, &rc[i], TRUE, TRUE, TRUE);
        mdls[i] = wt_mdl(bufs + i * 32, 32);
        WSK_BUF b = {mdls[i], 0, 32};
        assert_int_equal(wt_dg(s)->WskReceiveFrom(s, &b, 0, NULL, NULL, NULL, NULL, rc[i].w.irp),
                         STATUS_PENDING);
    }
    /* sends to an unresolved neighbour: queued for ARP */
    uint8_t data[4] = {1, 2, 3, 4};
    PMDL sm = wt_mdl(data, 4);
    WSK_BUF sb = {sm, 0, 4};
    SOCKADDR_IN to;
    wt_sin(&to, 0xC0000264u /* 192.0.2.100 */, 7300);
    for (int i = 0; i < NS; i++) {
        wt_irp_init(&sc[i].w);
        IoSetCompletionRoutine(sc[i].w.irp, counted_routine, &sc[i], TRUE, TRUE, TRUE);
        assert_int_equal(wt_dg(s)->WskSendTo(s, &sb, 0, (PSOCKADDR)&to, 0, NULL, sc[i].w.irp),
                         STATUS_PENDING);
    }
    wt_sleep_ms(20);
    assert_int_equal(atomic_load(&total_done), 0);

    wt_irp_init(&cc.w);
    IoSetCompletionRoutine(cc.w.irp, counted_routine, &cc, TRUE, TRUE, TRUE);
    for (int i = 0; i < 64; i++)
        if (wt_open_socks[i] == s)
            wt_open_socks[i] = NULL;
    NTSTATUS r = wt_dg(s)->WskCloseSocket(s, cc.w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(atomic_load(&cc.w.calls), 1);
    assert_int_equal(cc.w.status, STATUS_SUCCESS);
    assert_false(cc.w.pending_returned);
    assert_int_equal(cc.at, NR + NS); /* the close came last */
    for (int i = 0; i < NR; i++) {
        assert_int_equal(atomic_load(&rc[i].w.calls), 1);
        assert_int_equal(rc[i].w.status, STATUS_CANCELLED);
        assert_int_equal(rc[i].w.info, 0);
        assert_true(rc[i].w.pending_returned);
        assert_in_range(rc[i].at, 0, NR + NS - 1);
    }
    for (int i = 0; i < NS; i++) {
        assert_int_equal(atomic_load(&sc[i].w.calls), 1);
        assert_int_equal(sc[i].w.status, STATUS_CANCELLED);
        assert_int_equal(sc[i].w.info, 0);
        assert_true(sc[i].w.pending_returned);
    }
    /* nothing afterwards (and no ARP retransmission completes anything) */
    wt_sleep_ms(100);
    assert_int_equal(atomic_load(&total_done), NR + NS + 1);
    for (int i = 0; i < NR; i++) {
        wt_irp_fini(&rc[i].w);
        IoFreeMdl(mdls[i]);
    }
    for (int i = 0; i < NS; i++)
        wt_irp_fini(&sc[i].w);
    wt_irp_fini(&cc.w);
    IoFreeMdl(sm);
    free(mdls);
    free(bufs);
    free(rc);
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

/* IoCancelIrp on a pending receive while the datagram arrives. */
static void test_cancel_races_datagram(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5301), STATUS_SUCCESS);
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    unsigned got_data = 0, got_cancel = 0;
    enum { N = 2000 };
    struct wt_rx rx;
    for (int i = 0; i < N; i++) {
        uint8_t d[4];
        memcpy(d, &i, 4);
        assert_int_equal(wt_rx_start(s, &rx, 64, 0), STATUS_PENDING);
        wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4300, 5301, d, 4);
        if (i & 1)
            sched_yield();
        BOOLEAN cancelled = IoCancelIrp(rx.w.irp);
        assert_true(wt_irp_wait(&rx.w, 5000));
        struct cnt_wait c = {"UdpInDatagrams", in0 + i + 1};
        assert_true(wt_until(counter_reached, &c, 5000));
        wt_sleep_ms(1);
        assert_int_equal(atomic_load(&rx.w.calls), 1); /* exactly one outcome */
        if (rx.w.status == STATUS_SUCCESS) {
            got_data++;
            assert_false(cancelled);
            assert_int_equal(rx.w.info, 4);
            assert_memory_equal(rx.buf, d, 4);
            wt_rx_fini(&rx);
        } else {
            got_cancel++;
            assert_int_equal(rx.w.status, STATUS_CANCELLED);
            assert_int_equal(rx.w.info, 0);
            assert_int_equal(rx.buf[0], 0xaa);
            wt_rx_fini(&rx);
            /* the datagram stayed queued for the next receive */
            assert_int_equal(wt_rx_start(s, &rx, 64, 0), STATUS_SUCCESS);
            assert_int_equal(rx.w.info, 4);
            assert_memory_equal(rx.buf, d, 4);
            wt_rx_fini(&rx);
        }
    }
    assert_int_equal(got_data + got_cancel, N);
    print_message("cancel race: %u delivered, %u cancelled\n", got_data, got_cancel);
    wt_close(s);
}

static void test_cancel_before_queued(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5302), STATUS_SUCCESS);
    struct wt_rx rx;
    /* IoCancelIrp on an IRP that nobody holds yet: Cancel set, FALSE */
    wt_irp_init(&rx.w);
    assert_false(IoCancelIrp(rx.w.irp));
    rx.m = wt_mdl(rx.buf, 64);
    WSK_BUF b = {rx.m, 0, 64};
    NTSTATUS r = wt_dg(s)->WskReceiveFrom(s, &b, 0, NULL, NULL, NULL, NULL, rx.w.irp);
    assert_int_equal(r, STATUS_PENDING);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.status, STATUS_CANCELLED);
    assert_int_equal(rx.w.info, 0);
    wt_rx_fini(&rx);
    /* a plain cancel of a pending receive */
    assert_int_equal(wt_rx_start(s, &rx, 64, 0), STATUS_PENDING);
    assert_true(IoCancelIrp(rx.w.irp));
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(atomic_load(&rx.w.calls), 1);
    assert_int_equal(rx.w.status, STATUS_CANCELLED);
    wt_rx_fini(&rx);
    wt_close(s);
}

static void test_device_gone(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5303), STATUS_SUCCESS);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 64, 0), STATUS_PENDING);
    /* a send waiting for ARP */
    uint8_t data[2] = {9, 9};
    PMDL m = wt_mdl(data, 2);
    WSK_BUF b = {m, 0, 2};
    SOCKADDR_IN to;
    wt_sin(&to, 0xC0000265u /* 192.0.2.101 */, 7303);
    struct wt_irp sw;
    wt_irp_init(&sw);
    assert_int_equal(wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, sw.irp),
                     STATUS_PENDING);

    memdev_set_gone(T.dev);
    assert_true(wt_irp_wait(&rx.w, 5000));
    assert_int_equal(rx.w.status, STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(rx.w.info, 0);
    assert_true(rx.w.pending_returned);
    wt_rx_fini(&rx);
    assert_true(wt_irp_wait(&sw, 5000));
    assert_int_equal(sw.status, STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(sw.info, 0);
    wt_irp_fini(&sw);

    /* new operations fail at once */
    wt_irp_init(&sw);
    wt_sin(&to, WT_PEER_IP, 7303);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, sw.irp);
    assert_int_equal(r, STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(atomic_load(&sw.calls), 1);
    wt_irp_fini(&sw);
    assert_int_equal(wt_rx_start(s, &rx, 64, 0), STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(atomic_load(&rx.w.calls), 1);
    wt_rx_fini(&rx);
    IoFreeMdl(m);
    wt_close(s); /* still works */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_close_with_1000_pending_receives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_races_datagram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_gone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
