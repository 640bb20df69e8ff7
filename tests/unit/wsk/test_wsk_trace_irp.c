/* SPDX-License-Identifier: MIT */
/*
 * The irp and wsk trace layers (issue 6): the exact lines of one WskBind,
 * one WskSendTo and one WskReceiveFrom on a memdev stack traced with
 * trace=all into a file.  The time column is cut off and every IRP pointer
 * is replaced by "P" (compared to the call's IRP separately), so the test
 * checks the events, their statuses, and that the lines of a call name
 * that call's IRP.
 *
 * WSKSTACK_TRACE_DUMP=1 in the environment prints the whole trace (every
 * layer) to stderr: that is where docs/walkthrough.md took its lines.
 */
#include <ctype.h>

#include "wsk_test.h"

static struct wt T;
static char trace_path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/wss-trace-irp-XXXXXX");
    int fd = mkstemp(trace_path);
    assert_true(fd >= 0);
    close(fd);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s;trace=all;trace-file=%s", WT_CONFIG, trace_path);
    wt_stack_up(&T, cfg);
    struct ip_addr peer = ip4(WT_PEER_IP);
    assert_int_equal(stack_neigh_add_static(T.st, &peer, wt_peer_mac), 0);
    WSK_CLIENT_NPI npi = {NULL, &wt_client_dispatch};
    assert_int_equal(WsksRegisterOnStack(T.st, &npi, &T.reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&T.reg, WSK_INFINITE_WAIT, &T.npi), STATUS_SUCCESS);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wt_teardown(&T);
    unlink(trace_path);
    return 0;
}

/* The lines of `layer` ("irp", "wsk"), without the time column, with each
 * IRP pointer replaced by "P" (ptrs[i] keeps line i's pointer) and the
 * socket pointer (WskSocket's Information) by "SOCKET". */
#define MAX_LINES 64
static char sock_info[40];

static void strip_ptrs(const char *in, char *out, size_t cap, char *ptr, size_t pcap)
{
    size_t o = 0;
    ptr[0] = '\0';
    while (*in && o + 8 < cap) {
        if (strncmp(in, "irp=", 4) == 0) {
            in += 4;
            size_t k = 0;
            while (*in && !isspace((unsigned char)*in) && k + 1 < pcap)
                ptr[k++] = *in++;
            ptr[k] = '\0';
            o += (size_t)snprintf(out + o, cap - o, "irp=P");
            continue;
        }
        if (strncmp(in, sock_info, strlen(sock_info)) == 0) {
            in += strlen(sock_info);
            o += (size_t)snprintf(out + o, cap - o, "info=SOCKET");
            continue;
        }
        out[o++] = *in++;
    }
    out[o] = '\0';
}

static unsigned read_layer(const char *layer, char lines[][160], char ptrs[][32])
{
    FILE *f = fopen(trace_path, "r");
    assert_non_null(f);
    char buf[1024];
    unsigned n = 0;
    bool dump = getenv("WSKSTACK_TRACE_DUMP") != NULL;
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = '\0';
        if (dump && strcmp(layer, "wsk") == 0)
            fprintf(stderr, "TRACE %s\n", buf);
        char *sp = strchr(buf, ' '); /* "<sec>.<ns> <layer> <dir> <msg>" */
        assert_non_null(sp);
        char *rest = sp + 1;
        size_t ll = strlen(layer);
        if (strncmp(rest, layer, ll) != 0 || rest[ll] != ' ')
            continue;
        assert_true(n < MAX_LINES);
        strip_ptrs(rest, lines[n], 160, ptrs[n], 32);
        n++;
    }
    fclose(f);
    return n;
}

static void test_sendto_and_receivefrom_irp_lines(void **state)
{
    (void)state;
    PWSK_SOCKET s = wt_socket(&T);
    snprintf(sock_info, sizeof sock_info, "info=%lu", (unsigned long)(uintptr_t)s);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5000), STATUS_SUCCESS);

    /* One WskSendTo of 5 bytes (the neighbour is static: on the wire now). */
    uint8_t hello[5] = {'h', 'e', 'l', 'l', 'o'};
    PMDL m = wt_mdl(hello, sizeof hello);
    WSK_BUF b = {m, 0, sizeof hello};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, 7000);
    struct wt_irp w;
    wt_irp_init(&w);
    char send_irp[32], recv_irp[32];
    snprintf(send_irp, sizeof send_irp, "%p", (void *)w.irp);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    assert_int_equal(w.info, 5);
    wt_irp_fini(&w);
    IoFreeMdl(m);
    uint8_t frame[128];
    assert_int_equal(wt_pop(&T, frame, sizeof frame, 2000), 14 + 20 + 8 + 5);

    /* One WskReceiveFrom, pending, then a 3-byte datagram from the peer. */
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 0xffffffffu), STATUS_PENDING);
    snprintf(recv_irp, sizeof recv_irp, "%p", (void *)rx.w.irp);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 7000, 5000, "abc", 3);
    assert_int_equal(wt_irp_result(&rx.w, rx.ret), STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    wt_rx_fini(&rx);

    static char irp[MAX_LINES][160], wsk[MAX_LINES][160];
    static char iptr[MAX_LINES][32], wptr[MAX_LINES][32];
    unsigned ni = read_layer("irp", irp, iptr);
    unsigned nw = read_layer("wsk", wsk, wptr);

    /* WskSocket's and WskBind's IRPs complete synchronously (no issued
     * line: only WskSendTo and WskReceiveFrom trace "issued"). */
    static const char *const want_irp[] = {
        "irp - completed irp=P STATUS_SUCCESS info=SOCKET",
        "irp - completed irp=P STATUS_SUCCESS info=0",
        "irp - issued WskSendTo irp=P",
        "irp - pended WskSendTo irp=P STATUS_PENDING",
        "irp - completed irp=P STATUS_SUCCESS info=5",
        "irp - issued WskReceiveFrom irp=P",
        "irp - pended WskReceiveFrom irp=P STATUS_PENDING",
        "irp - completed irp=P STATUS_SUCCESS info=3",
    };
    for (unsigned i = 0; i < ni; i++)
        print_message("irp[%u] %s\n", i, irp[i]);
    assert_int_equal(ni, sizeof want_irp / sizeof want_irp[0]);
    for (unsigned i = 0; i < ni; i++)
        assert_string_equal(irp[i], want_irp[i]);
    /* The pointers are the IRPs of the calls (malloc may reuse an address
     * for the next IRP, so only these lines are checked). */
    for (unsigned i = 2; i <= 4; i++)
        assert_string_equal(iptr[i], send_irp);
    for (unsigned i = 5; i <= 7; i++)
        assert_string_equal(iptr[i], recv_irp);

    static const char *const want_wsk[] = {
        "wsk - bind done: STATUS_SUCCESS, port 5000",
        "wsk tx send accepted: 5 bytes, handed to the device",
        "wsk rx receive: datagram of 3 bytes delivered to a pending irp",
    };
    for (unsigned i = 0; i < nw; i++)
        print_message("wsk[%u] %s\n", i, wsk[i]);
    assert_int_equal(nw, sizeof want_wsk / sizeof want_wsk[0]);
    for (unsigned i = 0; i < nw; i++)
        assert_string_equal(wsk[i], want_wsk[i]);
    wt_close(s);
}

/* ---- the event path: queued, then indicated to WskReceiveFromEvent ---------- */
static atomic_int ev_calls;
static atomic_uint ev_len;

static NTSTATUS WSKAPI ev_cb(PVOID ctx, ULONG Flags, PWSK_DATAGRAM_INDICATION di)
{
    (void)ctx;
    (void)Flags;
    if (di != NULL)
        atomic_store(&ev_len, (unsigned)di->Buffer.Length);
    atomic_fetch_add(&ev_calls, 1);
    return STATUS_SUCCESS; /* the provider takes the indication back */
}

static const WSK_CLIENT_DATAGRAM_DISPATCH ev_dispatch = {ev_cb};

static void test_receive_event_wsk_lines(void **state)
{
    (void)state;
    atomic_store(&ev_calls, 0);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = T.npi.Dispatch->WskSocket(T.npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                           WSK_FLAG_DATAGRAM_SOCKET, NULL, &ev_dispatch, NULL,
                                           NULL, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    PWSK_SOCKET s = (PWSK_SOCKET)w.info;
    wt_irp_fini(&w);
    snprintf(sock_info, sizeof sock_info, "info=%lu", (unsigned long)(uintptr_t)s);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5001), STATUS_SUCCESS);
    WSK_EVENT_CALLBACK_CONTROL c = {(PNPIID)&NPI_WSK_INTERFACE_ID, WSK_EVENT_RECEIVE_FROM};
    assert_int_equal(wt_dg(s)->WskControlSocket(s, WskSetOption, SO_WSK_EVENT_CALLBACK,
                                                SOL_SOCKET, sizeof(c), &c, 0, NULL, NULL, NULL),
                     STATUS_SUCCESS);

    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 7000, 5001, "abcd", 4);
    uint64_t end = wt_now_ms() + 3000;
    while (atomic_load(&ev_calls) < 1 && wt_now_ms() < end)
        wt_sleep_ms(1);
    assert_int_equal(atomic_load(&ev_calls), 1);
    assert_int_equal(atomic_load(&ev_len), 4);
    wt_close(s);

    static char wsk[MAX_LINES][160], wptr[MAX_LINES][32];
    unsigned nw = read_layer("wsk", wsk, wptr);
    static const char *const want_wsk[] = {
        "wsk - bind done: STATUS_SUCCESS, port 5001",
        ("wsk rx receive: no irp pending, datagram of 4 bytes queued (1 waiting), "
         "event indication scheduled"),
        "wsk rx receive: 1 datagram(s) indicated to WskReceiveFromEvent",
    };
    for (unsigned i = 0; i < nw; i++)
        print_message("wsk[%u] %s\n", i, wsk[i]);
    assert_int_equal(nw, sizeof want_wsk / sizeof want_wsk[0]);
    for (unsigned i = 0; i < nw; i++)
        assert_string_equal(wsk[i], want_wsk[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sendto_and_receivefrom_irp_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_event_wsk_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
