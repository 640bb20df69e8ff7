/* SPDX-License-Identifier: MIT */
/*
 * Registration: WskRegister / WsksRegisterOnStack, WskCaptureProviderNPI with
 * WSK_NO_WAIT, WSK_INFINITE_WAIT and a timeout, version checks,
 * WskQueryProviderCharacteristics, WskDeregister waiting for sockets and
 * captures, the process-default stack's configuration errors, WskSocket's
 * parameter checks, WskControlClient, two stacks in one process.
 */
#include "wsk_test.h"

static const WSK_CLIENT_DISPATCH v1 = {MAKE_WSK_VERSION(1, 0), 0, NULL};
static const WSK_CLIENT_DISPATCH v1_5 = {MAKE_WSK_VERSION(1, 5), 0, NULL};
static const WSK_CLIENT_DISPATCH v2 = {MAKE_WSK_VERSION(2, 0), 0, NULL};

static void test_capture_modes_and_versions(void **state)
{
    struct wt t;
    wt_stack_up(&t, WT_CONFIG);
    WSK_CLIENT_NPI npi = {(PVOID)0x1234, &v1};
    WSK_REGISTRATION reg;
    assert_int_equal(WsksRegisterOnStack(t.st, &npi, &reg), STATUS_SUCCESS);
    WSK_PROVIDER_NPI p1, p2, p3;
    memset(&p1, 0, sizeof(p1));
    assert_int_equal(WskCaptureProviderNPI(&reg, WSK_NO_WAIT, &p1), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&reg, WSK_INFINITE_WAIT, &p2), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&reg, 250, &p3), STATUS_SUCCESS);
    assert_non_null(p1.Client);
    assert_ptr_equal(p1.Client, p2.Client);
    assert_ptr_equal(p1.Dispatch, p3.Dispatch);
    assert_int_equal(p1.Dispatch->Version, MAKE_WSK_VERSION(1, 0));
    assert_non_null(p1.Dispatch->WskSocket);
    assert_non_null(p1.Dispatch->WskControlClient);
    WSK_PROVIDER_CHARACTERISTICS ch = {0, 0};
    assert_int_equal(WskQueryProviderCharacteristics(&reg, &ch), STATUS_SUCCESS);
    assert_int_equal(ch.HighestVersion, 0x0100);
    assert_int_equal(ch.LowestVersion, 0x0100);
    WskReleaseProviderNPI(&reg);
    WskReleaseProviderNPI(&reg);
    WskReleaseProviderNPI(&reg);
    WskDeregister(&reg);

    /* a higher minor version of major 1 is fine; major 2 is not */
    npi.Dispatch = &v1_5;
    assert_int_equal(WsksRegisterOnStack(t.st, &npi, &reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&reg, WSK_NO_WAIT, &p1), STATUS_SUCCESS);
    WskReleaseProviderNPI(&reg);
    WskDeregister(&reg);
    npi.Dispatch = &v2;
    assert_int_equal(WsksRegisterOnStack(t.st, &npi, &reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&reg, WSK_INFINITE_WAIT, &p1), STATUS_NOINTERFACE);
    assert_int_equal(WskQueryProviderCharacteristics(&reg, &ch), STATUS_SUCCESS);
    assert_int_equal(ch.HighestVersion, 0x0100);
    WskDeregister(&reg);

    assert_int_equal(WsksRegisterOnStack(t.st, NULL, &reg), STATUS_INVALID_PARAMETER);
    assert_int_equal(WskRegister(&npi, NULL), STATUS_INVALID_PARAMETER);
    wskstack_destroy(t.st);
}

struct closer {
    PWSK_SOCKET s;
    unsigned delay_ms;
    atomic_int closed;
    WSK_REGISTRATION *reg;
    bool release;
};
static void *closer_thread(void *arg)
{
    struct closer *c = arg;
    wt_sleep_ms(c->delay_ms);
    if (c->release) {
        atomic_store(&c->closed, 1);
        WskReleaseProviderNPI(c->reg);
        return NULL;
    }
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(c->s)->WskCloseSocket(c->s, w.irp);
    if (r == STATUS_PENDING)
        wt_irp_wait(&w, 5000);
    atomic_store(&c->closed, 1);
    wt_irp_fini(&w);
    return NULL;
}

static void test_deregister_waits_for_sockets_and_captures(void **state)
{
    struct wt t;
    wt_stack_up(&t, WT_CONFIG);
    WSK_CLIENT_NPI npi = {NULL, &v1};
    assert_int_equal(WsksRegisterOnStack(t.st, &npi, &t.reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&t.reg, WSK_INFINITE_WAIT, &t.npi), STATUS_SUCCESS);
    PWSK_SOCKET s = wt_socket(&t);
    for (int i = 0; i < WT_MAX_SOCKS; i++)
        if (wt_open_socks[i] == s)
            wt_open_socks[i] = NULL;
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5400), STATUS_SUCCESS);
    struct wt_rx rx; /* a pending receive: close cancels it */
    assert_int_equal(wt_rx_start(s, &rx, 16, 0), STATUS_PENDING);
    WskReleaseProviderNPI(&t.reg);

    struct closer c = {.s = s, .delay_ms = 300};
    pthread_t th;
    pthread_create(&th, NULL, closer_thread, &c);
    uint64_t t0 = wt_now_ms();
    WskDeregister(&t.reg);
    uint64_t waited = wt_now_ms() - t0;
    /* the socket's close IRP routine ran before WskDeregister returned */
    assert_true(atomic_load(&rx.w.calls) == 1);
    assert_int_equal(rx.w.status, STATUS_CANCELLED);
    assert_in_range(waited, 250, 5000);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&c.closed), 1);
    wt_rx_fini(&rx);

    /* captures: deregister waits for the last release */
    assert_int_equal(WsksRegisterOnStack(t.st, &npi, &t.reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&t.reg, WSK_NO_WAIT, &t.npi), STATUS_SUCCESS);
    struct closer r = {.delay_ms = 200, .reg = &t.reg, .release = true};
    pthread_create(&th, NULL, closer_thread, &r);
    t0 = wt_now_ms();
    WskDeregister(&t.reg);
    assert_int_equal(atomic_load(&r.closed), 1);
    assert_in_range(wt_now_ms() - t0, 150, 5000);
    pthread_join(th, NULL);
    wskstack_destroy(t.st);
}

static void test_default_stack_config_error(void **state)
{
    /* The process-default stack comes from WSKSTACK_CONFIG; a bad key makes
     * the capture fail with STATUS_DEVICE_NOT_READY (message on stderr) and
     * leaves nothing behind; a later capture tries again. */
    setenv("WSKSTACK_CONFIG", "addr=192.0.2.1/24;bogus-key=1", 1);
    WSK_CLIENT_NPI npi = {NULL, &v1};
    WSK_REGISTRATION reg;
    WSK_PROVIDER_NPI p;
    assert_int_equal(WskRegister(&npi, &reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&reg, WSK_NO_WAIT, &p), STATUS_DEVICE_NOT_READY);
    assert_int_equal(WskCaptureProviderNPI(&reg, 100, &p), STATUS_DEVICE_NOT_READY);
    npi.Dispatch = &v2;
    WSK_REGISTRATION reg2;
    assert_int_equal(WskRegister(&npi, &reg2), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&reg2, WSK_NO_WAIT, &p), STATUS_NOINTERFACE);
    WskDeregister(&reg2);
    WskDeregister(&reg);
    unsetenv("WSKSTACK_CONFIG");
}

static NTSTATUS socket_status(struct wt *t, ADDRESS_FAMILY af, USHORT type, ULONG proto,
                              ULONG flags, PWSK_SOCKET *out)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = t->npi.Dispatch->WskSocket(t->npi.Client, af, type, proto, flags, NULL, NULL,
                                            NULL, NULL, NULL, w.irp);
    assert_int_equal(atomic_load(&w.calls), 1); /* completed either way */
    assert_int_equal(w.status, r);
    if (out)
        *out = NT_SUCCESS(r) ? (PWSK_SOCKET)w.info : NULL;
    if (!NT_SUCCESS(r))
        assert_int_equal(w.info, 0);
    wt_irp_fini(&w);
    return r;
}

static void test_socket_parameters(void **state)
{
    struct wt t;
    wt_setup(&t);
    /* connection-oriented categories are not provided (datagram only) */
    assert_int_equal(socket_status(&t, AF_INET6, SOCK_STREAM, IPPROTO_TCP,
                                   WSK_FLAG_CONNECTION_SOCKET, NULL),
                     STATUS_NOT_SUPPORTED);
    assert_int_equal(socket_status(&t, 99, SOCK_DGRAM, IPPROTO_UDP, WSK_FLAG_DATAGRAM_SOCKET,
                                   NULL),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(socket_status(&t, AF_INET, SOCK_STREAM, IPPROTO_TCP,
                                   WSK_FLAG_DATAGRAM_SOCKET, NULL),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(socket_status(&t, AF_INET, SOCK_DGRAM, IPPROTO_TCP,
                                   WSK_FLAG_DATAGRAM_SOCKET, NULL),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(socket_status(&t, AF_INET, SOCK_STREAM, IPPROTO_TCP,
                                   WSK_FLAG_CONNECTION_SOCKET, NULL),
                     STATUS_NOT_SUPPORTED);
    assert_int_equal(socket_status(&t, AF_INET, SOCK_STREAM, IPPROTO_TCP, WSK_FLAG_LISTEN_SOCKET,
                                   NULL),
                     STATUS_NOT_SUPPORTED);
    assert_int_equal(socket_status(&t, AF_INET, SOCK_DGRAM, IPPROTO_UDP, 0x40, NULL),
                     STATUS_INVALID_PARAMETER);
    /* MsQuic's option probe: a basic AF_INET6 UDP socket */
    PWSK_SOCKET b = NULL;
    assert_int_equal(socket_status(&t, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, WSK_FLAG_BASIC_SOCKET,
                                   &b),
                     STATUS_SUCCESS);
    const WSK_PROVIDER_BASIC_DISPATCH *bd = b->Dispatch;
    ULONG v = 0;
    SIZE_T got = 0;
    assert_int_equal(bd->WskControlSocket(b, WskGetOption, 2 /* UDP_SEND_MSG_SIZE */,
                                          IPPROTO_UDP, 0, NULL, sizeof(v), &v, &got, NULL),
                     STATUS_NOT_SUPPORTED);
    struct wt_irp w;
    wt_irp_init(&w);
    assert_int_equal(bd->WskCloseSocket(b, w.irp), STATUS_SUCCESS);
    assert_int_equal(atomic_load(&w.calls), 1);
    wt_irp_fini(&w);

    /* WskControlClient: the transport list (WireGuard's retry loop) */
    SIZE_T need = 0;
    assert_int_equal(t.npi.Dispatch->WskControlClient(t.npi.Client, WSK_TRANSPORT_LIST_QUERY, 0,
                                                      NULL, 0, NULL, &need, NULL),
                     STATUS_BUFFER_OVERFLOW);
    assert_int_equal(need, sizeof(WSK_TRANSPORT));
    WSK_TRANSPORT tr[2];
    memset(tr, 0, sizeof(tr));
    assert_int_equal(t.npi.Dispatch->WskControlClient(t.npi.Client, WSK_TRANSPORT_LIST_QUERY, 0,
                                                      NULL, sizeof(tr), tr, &need, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(need, sizeof(WSK_TRANSPORT));
    assert_int_equal(tr[0].SocketType, SOCK_DGRAM);
    assert_int_equal(tr[0].Protocol, IPPROTO_UDP);
    assert_int_equal(tr[0].AddressFamily, AF_INET);
    assert_int_equal(t.npi.Dispatch->WskControlClient(t.npi.Client, WSK_SET_STATIC_EVENT_CALLBACKS,
                                                      0, NULL, 0, NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER); /* no control block */
    wt_teardown(&t);
}

/* Two stacks in one process, one registration each. */
static void test_two_stacks(void **state)
{
    struct wt a, b;
    wt_setup(&a);
    wt_setup(&b);
    PWSK_SOCKET sa = wt_socket(&a), sb = wt_socket(&b);
    assert_int_equal(wt_bind(sa, WT_OUR_IP1, 5500), STATUS_SUCCESS);
    assert_int_equal(wt_bind(sb, WT_OUR_IP1, 5500), STATUS_SUCCESS); /* other stack */
    uint8_t d = 'a';
    PMDL m = wt_mdl(&d, 1);
    WSK_BUF buf = {m, 0, 1};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7500);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(sb)->WskSendTo(sb, &buf, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    uint8_t f[100];
    assert_int_equal(wt_pop(&b, f, sizeof(f), 1000), 43);
    assert_int_equal(memdev_tx_pending(a.dev), 0);
    wt_irp_fini(&w);
    IoFreeMdl(m);
    wt_close(sa);
    wt_close(sb);
    wt_teardown(&a);
    wt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_modes_and_versions),
        cmocka_unit_test(test_deregister_waits_for_sockets_and_captures),
        cmocka_unit_test(test_default_stack_config_error),
        cmocka_unit_test(test_socket_parameters),
        cmocka_unit_test(test_two_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
