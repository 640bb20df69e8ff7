/* SPDX-License-Identifier: MIT */
/*
 * test_wsk_trace_fixture.h - the fixture of the irp / wsk trace tests
 * (test_wsk_trace_irp.c, test_wsk_trace_event.c): a memdev stack without a
 * receive thread (STACK_NO_THREAD: the test thread processes injected
 * frames with stack_poll, so nothing runs behind the test's back), a fixed
 * clock (so JSON lines have an exact "t"), and the trace attached to a
 * file with TRACE_F_NOTIME before the WSK provider starts.
 *
 * The tests compare the NEW lines of the trace after each step with the
 * exact lines they expect: tt_want() adds an expected line (printf style,
 * so IRP pointers are formatted with %p exactly as the provider does),
 * tt_check() reads what was written since the last check and compares.
 * Every line of a step is written before the step's completion routine
 * ran (wsk/compl.c traces "completed" before IoCompleteRequest), so a
 * check after the routine ran sees them all: no waiting for the file.
 */
#ifndef WSS_TEST_WSK_TRACE_FIXTURE_H
#define WSS_TEST_WSK_TRACE_FIXTURE_H

#include "wsk_test_dgram.h"

#include "stack/trace.h"

#define TT_CLOCK_NS 7000000001ull /* the stack's clock: "t" of every JSON line */
#define TT_MAX 128                /* lines per check */
#define TT_LEN 512

struct tt {
    struct wt w;
    char path[64];
    FILE *out;              /* the stack writes here */
    long off;               /* how far tt_check has read */
    unsigned nwant;
    char want[TT_MAX][TT_LEN];
};

static uint64_t tt_clock(void *ctx)
{
    (void)ctx;
    return TT_CLOCK_NS;
}

/* The stack (no receive thread), its trace (mask, fmt) and a registration. */
static inline void tt_up(struct tt *t, uint32_t mask, enum trace_format fmt)
{
    char err[256] = "";
    memset(t, 0, sizeof(*t));
    t->w.dev = memdev_create("wsktrace0", 1500);
    assert_non_null(t->w.dev);
    struct wskstack_config *cfg = wskstack_config_new();
    assert_non_null(cfg);
    assert_int_equal(wskstack_config_parse(cfg, WT_CONFIG, err, sizeof(err)), 0);
    assert_int_equal(stack_create_on_dev(cfg, t->w.dev, STACK_NO_THREAD, &t->w.st, err,
                                         sizeof(err)),
                     0);
    wskstack_config_free(cfg);
    stack_set_clock(t->w.st, tt_clock, NULL);
    struct ip_addr peer = ip4(WT_PEER_IP);
    assert_int_equal(stack_neigh_add_static(t->w.st, &peer, wt_peer_mac), 0);

    snprintf(t->path, sizeof t->path, "/tmp/wss-trace-wsk-XXXXXX");
    int fd = mkstemp(t->path);
    assert_true(fd >= 0);
    t->out = fdopen(fd, "w");
    assert_non_null(t->out);
    /* Before the provider starts: it reads the mask once, and its
     * completion threads are created after this. */
    trace_attach(t->w.st, t->out, mask, fmt, TRACE_F_NOTIME);

    WSK_CLIENT_NPI npi = {NULL, &wt_client_dispatch};
    assert_int_equal(WsksRegisterOnStack(t->w.st, &npi, &t->w.reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&t->w.reg, WSK_INFINITE_WAIT, &t->w.npi),
                     STATUS_SUCCESS);
}

static inline void tt_down(struct tt *t)
{
    wt_teardown(&t->w); /* joins the completion threads, destroys the stack */
    fclose(t->out);
    unlink(t->path);
}

/* Process the frames injected so far (the receive thread's work). */
static inline void tt_poll(struct tt *t)
{
    stack_poll(t->w.st, TT_CLOCK_NS);
}

static inline void tt_want(struct tt *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void tt_want(struct tt *t, const char *fmt, ...)
{
    assert_true(t->nwant < TT_MAX);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->want[t->nwant++], TT_LEN, fmt, ap);
    va_end(ap);
}

/* The lines written since the last check must be exactly the wanted ones,
 * in order; then both are forgotten. */
static inline void tt_check(struct tt *t)
{
    FILE *f = fopen(t->path, "r");
    assert_non_null(f);
    assert_int_equal(fseek(f, t->off, SEEK_SET), 0);
    static char got[TT_MAX][TT_LEN];
    unsigned n = 0;
    char buf[2048];
    while (fgets(buf, sizeof buf, f) != NULL) {
        size_t len = strlen(buf);
        assert_true(len > 0 && buf[len - 1] == '\n'); /* whole lines only */
        buf[len - 1] = '\0';
        assert_true(n < TT_MAX);
        snprintf(got[n++], TT_LEN, "%s", buf);
    }
    t->off = ftell(f);
    fclose(f);
    bool same = n == t->nwant;
    for (unsigned i = 0; same && i < n; i++)
        same = strcmp(got[i], t->want[i]) == 0;
    for (unsigned i = 0; !same && i < n; i++) /* what was written, for the failure */
        print_message("got[%u]  %s\n", i, got[i]);
    for (unsigned i = 0; i < n && i < t->nwant; i++)
        assert_string_equal(got[i], t->want[i]);
    assert_int_equal(n, t->nwant);
    t->nwant = 0;
}

/* Forget what was written so far (steps whose lines another test checks). */
static inline void tt_skip(struct tt *t)
{
    FILE *f = fopen(t->path, "r");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    t->off = ftell(f);
    fclose(f);
    t->nwant = 0;
}

/* An IRP whose stack location is used up: the provider must refuse it. */
static inline PIRP tt_irp_no_location(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    assert_non_null(irp);
    IoSetNextIrpStackLocation(irp);
    return irp;
}

/* WskSocket with an IRP of its own; returns the socket (asserts success). */
static inline PWSK_SOCKET tt_socket(struct tt *t, const void *dispatch, PIRP *irp_out)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = t->w.npi.Dispatch->WskSocket(t->w.npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                              WSK_FLAG_DATAGRAM_SOCKET, NULL, dispatch, NULL,
                                              NULL, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, r), STATUS_SUCCESS);
    PWSK_SOCKET s = (PWSK_SOCKET)w.info;
    *irp_out = w.irp;
    wt_irp_fini(&w);
    for (int i = 0; i < WT_MAX_SOCKS; i++) {
        if (!wt_open_socks[i]) {
            wt_open_socks[i] = s;
            break;
        }
    }
    return s;
}

/* WskSendTo of len bytes of 'x' to ip:port with optional cmsgs; returns the
 * final status (*irp_out: the IRP, for the expected lines; freed). */
static inline NTSTATUS tt_sendto(PWSK_SOCKET s, uint32_t ip, uint16_t port, ULONG len,
                                 PCMSGHDR ctl, ULONG ctl_len, NTSTATUS *ret, PIRP *irp_out)
{
    static uint8_t payload[70000];
    memset(payload, 'x', sizeof payload);
    PMDL m = wt_mdl(payload, len);
    WSK_BUF b = {m, 0, len};
    SOCKADDR_IN to;
    wt_sin(&to, ip, port);
    struct wt_irp w;
    wt_irp_init(&w);
    *ret = wt_dg(s)->WskSendTo(s, &b, 0, ip != 0 ? (PSOCKADDR)&to : NULL, ctl_len, ctl, w.irp);
    NTSTATUS st = wt_irp_result(&w, *ret);
    *irp_out = w.irp;
    wt_irp_fini(&w);
    IoFreeMdl(m);
    return st;
}

#endif /* WSS_TEST_WSK_TRACE_FIXTURE_H */
