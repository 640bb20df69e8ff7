/* SPDX-License-Identifier: MIT */
/*
 * SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS: after bind only,
 * IRP required, MsQuic's 28-byte input, sends with RemoteAddress NULL
 * (WskSendTo and WskSendMessages), an explicit address overriding, receive
 * filtering by the REMOTE address (both ways: the fixed peer gets through,
 * another address or port is dropped and counted) and none by SENDTO,
 * clearing, and the argument errors.
 */
#include "wsk_test_dgram.h"
#include "wsk/wsk_impl.h"

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

static uint64_t filtered(PWSK_SOCKET s)
{
    struct wsk_sock *k = (struct wsk_sock *)s;
    pthread_mutex_lock(&k->lock);
    uint64_t v = k->stat_filtered;
    pthread_mutex_unlock(&k->lock);
    return v;
}

static NTSTATUS send_null(PWSK_SOCKET s, const char *txt)
{
    PMDL m = wt_mdl((void *)txt, (ULONG)strlen(txt));
    WSK_BUF b = {m, 0, strlen(txt)};
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, NULL, 0, NULL, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    if (NT_SUCCESS(st))
        assert_int_equal(w.info, strlen(txt));
    wt_irp_fini(&w);
    IoFreeMdl(m);
    return st;
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

static void test_errors(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    /* before bind */
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, WT_PEER_IP, 9000, 16),
                     STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_SENDTO_ADDRESS, WT_PEER_IP, 9000, 16),
                     STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6100), STATUS_SUCCESS);
    /* too short, 0.0.0.0, port 0 */
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, WT_PEER_IP, 9000, 8),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, 0, 9000, 16),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_SENDTO_ADDRESS, WT_PEER_IP, 0, 16),
                     STATUS_INVALID_PARAMETER);
    /* IRP required: nothing completed */
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_PEER_IP, 9000);
    assert_int_equal(wt_dg(s)->WskControlSocket(s, WskIoctl, SIO_WSK_SET_REMOTE_ADDRESS, 0,
                                                sizeof(sin), &sin, 0, NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    /* other IOCTLs */
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskIoctl, SIO_WSK_QUERY_RECEIVE_BACKLOG, 0, 0,
                                            NULL, 0, NULL, NULL, w.irp);
    assert_int_equal(r, STATUS_NOT_SUPPORTED);
    assert_int_equal(wt_irp_result(&w, r), STATUS_NOT_SUPPORTED);
    wt_irp_fini(&w);
    /* nothing set: a NULL destination is refused */
    assert_int_equal(send_null(s, "x"), STATUS_INVALID_PARAMETER);
    wt_close(s);
}

static void test_sendto_address_no_filter(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6101), STATUS_SUCCESS);
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_SENDTO_ADDRESS, WT_PEER_IP, 9001, 16),
                     STATUS_SUCCESS);
    assert_int_equal(send_null(s, "to-fixed"), STATUS_SUCCESS);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6101, 9001, "to-fixed", 8, 0, 64, false);
    /* no receive filter: another port is received */
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 4444, 6101, "any", 3);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    assert_int_equal(wt_sin_port(&rx.from), 4444);
    wt_rx_fini(&rx);
    assert_int_equal(filtered(s), 0);
    /* cleared: NULL refused again */
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_SENDTO_ADDRESS, 0, 0, 0), STATUS_SUCCESS);
    assert_int_equal(send_null(s, "x"), STATUS_INVALID_PARAMETER);
    uint8_t f[64];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 50), -1);
    wt_close(s);
}

static void test_remote_address_filters(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, 0, 6102), STATUS_SUCCESS);
    /* MsQuic passes sizeof(SOCKADDR_INET) = 28 */
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, WT_PEER_IP, 9002, 28),
                     STATUS_SUCCESS);
    /* WskSendTo and WskSendMessages with RemoteAddress NULL */
    assert_int_equal(send_null(s, "hello"), STATUS_SUCCESS);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6102, 9002, "hello", 5, 0, 64, false);
    char two[2] = "ab";
    PMDL m = wt_mdl(two, 2);
    WSK_BUF_LIST l2 = {NULL, {m, 1, 1}};
    WSK_BUF_LIST l1 = {&l2, {m, 0, 2}};
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskSendMessages(s, &l1, 0, NULL, 0, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    assert_int_equal(w.info, 3);
    wt_irp_fini(&w);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6102, 9002, "ab", 2, 0, 64, false);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6102, 9002, "b", 1, 0, 64, false);
    /* an explicit address still wins */
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 9999);
    wt_irp_init(&w);
    WSK_BUF b = {m, 0, 2};
    r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    wt_irp_fini(&w);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6102, 9999, "ab", 2, 0, 64, false);

    /* receive: other port, other address -> dropped; the peer -> delivered */
    int64_t err0 = wt_counter(&T, "UdpInErrors");
    int64_t in0 = wt_counter(&T, "UdpInDatagrams");
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP2, 9999, 6102, "reply-from-9999", 15);
    wt_inject_udp(&T, 0xC0000214u, WT_OUR_IP2, 9002, 6102, "other-host", 10);
    wait_counter("UdpInErrors", err0 + 2);
    assert_int_equal(atomic_load(&rx.w.calls), 0);
    assert_int_equal(filtered(s), 2);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP2, 9002, 6102, "peer", 4);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 4);
    assert_memory_equal(rx.buf, "peer", 4);
    assert_int_equal(wt_sin_ip(&rx.from), WT_PEER_IP);
    assert_int_equal(wt_sin_port(&rx.from), 9002);
    wt_rx_fini(&rx);
    wait_counter("UdpInDatagrams", in0 + 1);
    assert_int_equal(wt_counter(&T, "UdpInErrors"), err0 + 2);

    /* cleared: everybody gets through again */
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, 0, 0, 0), STATUS_SUCCESS);
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP2, 9999, 6102, "now-ok", 6);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.info, 6);
    wt_rx_fini(&rx);
    assert_int_equal(filtered(s), 2);
    assert_int_equal(send_null(s, "x"), STATUS_INVALID_PARAMETER);

    /* REMOTE wins over SENDTO for NULL sends */
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_SENDTO_ADDRESS, WT_PEER_IP, 9100, 16),
                     STATUS_SUCCESS);
    assert_int_equal(wt_fixed(s, SIO_WSK_SET_REMOTE_ADDRESS, WT_PEER_IP, 9200, 16),
                     STATUS_SUCCESS);
    assert_int_equal(send_null(s, "r"), STATUS_SUCCESS);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6102, 9200, "r", 1, 0, 64, false);
    IoFreeMdl(m);
    wt_close(s);
}

static void test_basic_socket_not_supported(void **state)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = T.npi.Dispatch->WskSocket(T.npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                           WSK_FLAG_BASIC_SOCKET, NULL, NULL, NULL, NULL, NULL,
                                           w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    PWSK_SOCKET b = (PWSK_SOCKET)w.info;
    const WSK_PROVIDER_BASIC_DISPATCH *bd = b->Dispatch;
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_PEER_IP, 9000);
    wt_irp_reuse(&w);
    r = bd->WskControlSocket(b, WskIoctl, SIO_WSK_SET_REMOTE_ADDRESS, 0, sizeof(sin), &sin, 0,
                             NULL, NULL, w.irp);
    assert_int_equal(r, STATUS_NOT_SUPPORTED);
    assert_int_equal(wt_irp_result(&w, r), STATUS_NOT_SUPPORTED);
    wt_irp_reuse(&w);
    assert_int_equal(bd->WskCloseSocket(b, w.irp), STATUS_SUCCESS);
    wt_irp_fini(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendto_address_no_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_address_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_socket_not_supported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
