/* SPDX-License-Identifier: MIT */
/*
 * bench_trace.c - what the decision trace costs (issue 6: "When tracing is
 * off it costs nothing measurable"), measured on the whole datagram path
 * with no real I/O.
 *
 * Built twice from this one source (bench/CMakeLists.txt):
 *   bench-trace     against the library as shipped: --mode off (trace mask
 *                   0, the default) or --mode on (trace=all, text, written
 *                   to /dev/null);
 *   bench-trace-co  against a second copy of the library compiled with
 *                   WSS_TRACE_COMPILED_OUT: TRACE_ON() is a constant 0 and
 *                   the compiler removed every trace site.  The reference.
 * "off" / "co" is then the price of the trace when nobody asked for it.
 *
 * The stack runs as in production (its receive thread, the provider's
 * completion threads) on the in-memory device (tap/memdev.c), which copies
 * each frame once per direction like a TAP read or write would:
 *
 *   rx: prebuilt Ethernet/IPv4/UDP (or IPv6) frames are injected into the
 *       memdev; the receive thread runs eth -> ipv4/ipv6 -> udp -> the WSK
 *       socket, and the datagrams reach a WskReceiveFromEvent callback on a
 *       completion thread (the cheapest realistic client: one call per
 *       batch of datagrams, no IRP per datagram).  At most RX_WINDOW
 *       datagrams are in flight, below the socket's receive queue bound
 *       (WSK_RCVQ_MAX_DGRAMS, 64), so nothing is dropped;
 *   tx: WskSendTo with BWSK_TX_WINDOW IRPs in flight (bench_wsk.h), each
 *       reused when its completion routine has run; udp -> ipv4/ipv6 ->
 *       eth -> memdev on the caller's thread, and the frames are taken off
 *       the memdev as they come.
 *
 * Each measurement is checked: every datagram delivered once with its
 * length (rx), every IRP completed with STATUS_SUCCESS and every frame on
 * the device (tx), and the stack's counters moved by exactly the count.
 * A failed check prints "error ..." and the benchmark exits 1.
 *
 * Usage: bench-trace[-co] [--mode off|on] [common options, bench_util.h]
 */
#include <ntddk.h>
#include <wsk.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "bench_wsk.h"
#include "stack/ipv6_impl.h"
#include "stack/stack.h"
#include "tap/dev.h"
#include "tools/wskc.h"
#include "wskstack.h"
#include "wskstack_wsk.h"

#define RX_BATCH 32    /* frames injected at once (the receive thread reads 32 per call) */
#define RX_WINDOW 64   /* datagrams injected and not yet delivered */
#define TX_DRAIN 32    /* take the frames off the device every TX_DRAIN sends */
#define N_FRAMES 64    /* distinct prebuilt frames (IP id and payload differ) */
#define PORT_US 9000
#define PORT_PEER 9001

#ifdef WSS_TRACE_COMPILED_OUT
#define VARIANT_BUILD "co"
#else
#define VARIANT_BUILD "normal"
#endif

static const uint8_t OUR_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t OUR4[4] = {192, 0, 2, 1};
static const uint8_t PEER4[4] = {192, 0, 2, 10};
static const uint8_t OUR6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
static const uint8_t PEER6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
#define CONFIG "addr=192.0.2.1/24;addr=2001:db8::1/64;mac=02:00:00:00:00:01;slaac=off"

/* ---- the benchmark's state --------------------------------------------------- */
struct bench {
    struct bench_opts o;
    const char *variant;       /* "co", "off" or "on" */
    struct dev *dev;           /* the memdev (owned by the stack) */
    struct wskstack *st;
    WSK_CLIENT_DISPATCH client_dispatch;
    WSK_CLIENT_NPI client_npi;
    WSK_REGISTRATION reg;
    WSK_PROVIDER_NPI npi;
    PWSK_SOCKET sock4, sock6;
    struct bwsk_ctr rx;        /* datagrams indicated to the callback */
    atomic_ulong rx_bytes, rx_bad_len;
    struct bwsk_txring tx;
    uint8_t *frames[N_FRAMES]; /* rx frames of the family being measured */
    size_t frame_len[N_FRAMES];
};

/* ---- receive: the client's WskReceiveFromEvent ---------------------------------- */
static NTSTATUS WSKAPI on_receive_from(PVOID ctx, ULONG flags, PWSK_DATAGRAM_INDICATION di)
{
    struct bench *b = ctx;
    (void)flags;
    if (di == NULL)
        return STATUS_SUCCESS; /* the device went away: nothing to count */
    unsigned long n = 0, bytes = 0, bad = 0;
    for (; di != NULL; di = di->Next) {
        n++;
        bytes += di->Buffer.Length;
        if (di->Buffer.Length != b->o.payload)
            bad++;
    }
    atomic_fetch_add(&b->rx_bytes, bytes);
    if (bad)
        atomic_fetch_add(&b->rx_bad_len, bad);
    bwsk_ctr_add(&b->rx, n);
    return STATUS_SUCCESS; /* the provider frees the list */
}

static const WSK_CLIENT_DATAGRAM_DISPATCH rx_dispatch = {on_receive_from};

/* ---- set-up ------------------------------------------------------------------------ */
static int fail(const char *what, long v)
{
    fprintf(stderr, "error: %s (%ld)\n", what, v);
    return -1;
}

static int stack_up(struct bench *b)
{
    char err[256] = "", text[256];
    snprintf(text, sizeof text, "%s%s", CONFIG,
             strcmp(b->variant, "on") == 0 ? ";trace=all;trace-file=/dev/null" : "");
    struct wskstack_config *cfg = wskstack_config_new();
    if (cfg == NULL || wskstack_config_parse(cfg, text, err, sizeof err) != 0) {
        fprintf(stderr, "error: config: %s\n", err);
        wskstack_config_free(cfg);
        return -1;
    }
    b->dev = memdev_create("bench0", 1500);
    if (b->dev == NULL) {
        wskstack_config_free(cfg);
        return fail("memdev_create", 0);
    }
    int rc = stack_create_on_dev(cfg, b->dev, 0, &b->st, err, sizeof err);
    wskstack_config_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "error: stack_create_on_dev: %s\n", err);
        return -1;
    }
    /* IPv6: DAD as wskstack_create would start it, without its random
     * delay; the addresses are usable about 1 s later. */
    addr6_set_seed(b->st, 0);
    addr6_start(b->st, stack_now(b->st));
    if (wskstack_wait_ready(b->st, 5000) != 0)
        return fail("IPv6 addresses still tentative after 5 s", 0);
    struct ip_addr peer = ip4(0xC000020Au); /* 192.0.2.10 */
    if (stack_neigh_add_static(b->st, &peer, PEER_MAC) != 0)
        return fail("static neighbour 192.0.2.10", 0);
    peer.af = IPA_V6;
    memcpy(peer.v6, PEER6, 16);
    if (stack_neigh_add_static(b->st, &peer, PEER_MAC) != 0)
        return fail("static neighbour 2001:db8::10", 0);
    uint8_t junk[2048];
    while (memdev_pop_tx(b->dev, junk, sizeof junk) >= 0)
        ; /* DAD probes and the like: not part of any measurement */
    return 0;
}

static int wsk_up(struct bench *b)
{
    b->client_dispatch.Version = MAKE_WSK_VERSION(1, 0);
    b->client_npi.ClientContext = b;
    b->client_npi.Dispatch = &b->client_dispatch;
    NTSTATUS s = WsksRegisterOnStack(b->st, &b->client_npi, &b->reg);
    if (s != STATUS_SUCCESS)
        return fail("WsksRegisterOnStack", (long)s);
    s = WskCaptureProviderNPI(&b->reg, WSK_INFINITE_WAIT, &b->npi);
    if (s != STATUS_SUCCESS)
        return fail("WskCaptureProviderNPI", (long)s);
    return 0;
}

/* A datagram socket of family af whose client dispatch has on_receive_from,
 * bound to our address, port PORT_US, with the receive event enabled.  The
 * socket is stored in *out as soon as it exists (teardown closes it). */
static int socket_up(struct bench *b, ADDRESS_FAMILY af, PWSK_SOCKET *out)
{
    struct wskc_op op;
    if (wskc_begin(&op) == NULL)
        return fail("IoAllocateIrp", 0);
    NTSTATUS s = b->npi.Dispatch->WskSocket(b->npi.Client, af, SOCK_DGRAM, IPPROTO_UDP,
                                            WSK_FLAG_DATAGRAM_SOCKET, b, &rx_dispatch, NULL,
                                            NULL, NULL, op.irp);
    if (!NT_SUCCESS(wskc_end(&op, s, 5000)))
        return fail("WskSocket", (long)op.status);
    PWSK_SOCKET sock = (PWSK_SOCKET)op.info;
    *out = sock;
    SOCKADDR_STORAGE ss;
    memset(&ss, 0, sizeof ss);
    if (af == AF_INET)
        wskc_sin((SOCKADDR_IN *)&ss, "192.0.2.1", PORT_US);
    else
        wskc_sin6((SOCKADDR_IN6 *)&ss, OUR6, PORT_US, 0);
    s = wskc_bind_sa(sock, (const SOCKADDR *)&ss);
    if (s != STATUS_SUCCESS)
        return fail("WskBind", (long)s);
    /* DDI SO_WSK_EVENT_CALLBACK: no IRP; the result is the return value. */
    WSK_EVENT_CALLBACK_CONTROL c = {(PNPIID)&NPI_WSK_INTERFACE_ID, WSK_EVENT_RECEIVE_FROM};
    s = wskc_dgram(sock)->WskControlSocket(sock, WskSetOption, SO_WSK_EVENT_CALLBACK, SOL_SOCKET,
                                          sizeof c, &c, 0, NULL, NULL, NULL);
    if (s != STATUS_SUCCESS)
        return fail("SO_WSK_EVENT_CALLBACK", (long)s);
    return 0;
}

/* ---- the measurements ----------------------------------------------------------- */
/* One measurement: wall-clock and CPU (every thread) ns per datagram. */
struct meas {
    double wall, cpu;
};

struct clocks {
    uint64_t wall, cpu;
};

static struct clocks clocks_now(void)
{
    struct clocks c = {bench_now_ns(), bench_cpu_ns()};
    return c;
}

static void meas_set(struct meas *m, struct clocks t0, unsigned long count)
{
    struct clocks t1 = clocks_now();
    m->wall = (double)(t1.wall - t0.wall) / (double)count;
    m->cpu = (double)(t1.cpu - t0.cpu) / (double)count;
}

static int64_t counter(struct bench *b, const char *name)
{
    return wskstack_counter(b->st, name);
}

/* The stack bumps a counter after it handed the datagram on, so the client
 * may see the datagram first: wait (bounded, after the timed part) until
 * counter `name` reaches want, then return its value. */
static int64_t counter_settled(struct bench *b, const char *name, int64_t want)
{
    uint64_t end = bench_now_ns() + 2000000000ull;
    int64_t v;
    while ((v = counter(b, name)) < want && bench_now_ns() < end)
        sched_yield();
    return v;
}

/* Prebuild the peer's N_FRAMES datagrams to us for family fam. */
static void frames_build(struct bench *b, int fam)
{
    struct bench_frame_addrs a;
    memset(&a, 0, sizeof a);
    memcpy(a.dmac, OUR_MAC, 6);
    memcpy(a.smac, PEER_MAC, 6);
    memcpy(a.src4, PEER4, 4);
    memcpy(a.dst4, OUR4, 4);
    memcpy(a.src6, PEER6, 16);
    memcpy(a.dst6, OUR6, 16);
    a.sport = PORT_PEER;
    a.dport = PORT_US;
    uint8_t payload[1400];
    for (unsigned i = 0; i < N_FRAMES; i++) {
        for (unsigned k = 0; k < b->o.payload; k++)
            payload[k] = bench_payload_byte(i, k);
        b->frame_len[i] = fam == 4 ? bench_frame_udp4(b->frames[i], &a, (uint16_t)(i + 1),
                                                      payload, b->o.payload)
                                   : bench_frame_udp6(b->frames[i], &a, payload, b->o.payload);
    }
}

/* count datagrams from the device to the callback, measured into *m. */
static int run_rx(struct bench *b, int fam, unsigned long count, struct meas *m)
{
    const char *in = fam == 4 ? "UdpInDatagrams" : "Udp6InDatagrams";
    const char *full = fam == 4 ? "UdpRcvbufErrors" : "Udp6RcvbufErrors";
    frames_build(b, fam);
    int64_t in0 = counter(b, in), full0 = counter(b, full);
    unsigned long base = atomic_load(&b->rx.n), bytes0 = atomic_load(&b->rx_bytes);
    struct clocks t0 = clocks_now();
    uint64_t deadline = t0.wall + (uint64_t)(b->o.max_seconds * 1e9);
    unsigned long sent = 0;
    while (sent < count) {
        unsigned long k = count - sent < RX_BATCH ? count - sent : RX_BATCH;
        if (sent + k > RX_WINDOW && !bwsk_ctr_wait(&b->rx, base + sent + k - RX_WINDOW, deadline))
            return fail("rx: datagrams not delivered in time; delivered",
                        (long)(atomic_load(&b->rx.n) - base));
        for (unsigned long i = 0; i < k; i++) {
            unsigned f = (unsigned)((sent + i) % N_FRAMES);
            if (memdev_inject(b->dev, b->frames[f], b->frame_len[f]) != 0)
                return fail("memdev_inject", 0);
        }
        sent += k;
    }
    if (!bwsk_ctr_wait(&b->rx, base + count, deadline))
        return fail("rx: datagrams not delivered in time; delivered",
                    (long)(atomic_load(&b->rx.n) - base));
    meas_set(m, t0, count);
    unsigned long got = atomic_load(&b->rx.n) - base;
    unsigned long bytes = atomic_load(&b->rx_bytes) - bytes0;
    if (got != count || bytes != count * b->o.payload || atomic_load(&b->rx_bad_len) != 0)
        return fail("rx: datagrams or bytes delivered differ from those sent", (long)got);
    int64_t in1 = counter_settled(b, in, in0 + (int64_t)count);
    if (in1 - in0 != (int64_t)count || counter(b, full) != full0)
        return fail("rx: UDP counters differ from the datagrams sent", (long)(in1 - in0));
    return 0;
}

/* Take the sent frames off the device; count those of our datagram size. */
static unsigned long tx_drain(struct bench *b, size_t want_len)
{
    uint8_t f[2048];
    unsigned long n = 0;
    long len;
    while ((len = memdev_pop_tx(b->dev, f, sizeof f)) >= 0)
        if ((size_t)len == want_len)
            n++;
    return n;
}

/* count WskSendTo calls from the client to the device, measured into *m. */
static int run_tx(struct bench *b, int fam, unsigned long count, struct meas *m)
{
    const char *out = fam == 4 ? "UdpOutDatagrams" : "Udp6OutDatagrams";
    PWSK_SOCKET sock = fam == 4 ? b->sock4 : b->sock6;
    SOCKADDR_STORAGE to;
    memset(&to, 0, sizeof to);
    if (fam == 4)
        wskc_sin((SOCKADDR_IN *)&to, "192.0.2.10", PORT_PEER);
    else
        wskc_sin6((SOCKADDR_IN6 *)&to, PEER6, PORT_PEER, 0);
    size_t flen = fam == 4 ? 14 + 20 + 8 + b->o.payload : 14 + 40 + 8 + b->o.payload;
    if (flen < 60)
        flen = 60; /* the stack pads to the Ethernet minimum */
    tx_drain(b, 0);
    int64_t out0 = counter(b, out);
    unsigned long bad0 = atomic_load(&b->tx.bad), frames = 0;
    struct clocks t0 = clocks_now();
    uint64_t deadline = t0.wall + (uint64_t)(b->o.max_seconds * 1e9);
    for (unsigned long i = 0; i < count; i++) {
        if (bwsk_txring_send(&b->tx, sock, (const SOCKADDR *)&to, deadline) != 0)
            return fail("tx: sends not completed in time; sent", (long)i);
        if (i % TX_DRAIN == TX_DRAIN - 1)
            frames += tx_drain(b, flen);
    }
    if (!bwsk_txring_wait(&b->tx, deadline))
        return fail("tx: sends not completed in time", 0);
    frames += tx_drain(b, flen);
    meas_set(m, t0, count);
    if (atomic_load(&b->tx.bad) != bad0)
        return fail("tx: sends completed with another status or length",
                    (long)(atomic_load(&b->tx.bad) - bad0));
    int64_t out1 = counter_settled(b, out, out0 + (int64_t)count);
    if (frames != count || out1 - out0 != (int64_t)count)
        return fail("tx: frames on the device or UdpOutDatagrams differ from the sends",
                    (long)frames);
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */
static int frames_alloc(struct bench *b)
{
    for (unsigned i = 0; i < N_FRAMES; i++) {
        b->frames[i] = malloc(128 + b->o.payload);
        if (b->frames[i] == NULL)
            return fail("malloc", 0);
    }
    return 0;
}

static void teardown(struct bench *b)
{
    if (b->sock4)
        wskc_close(b->sock4);
    if (b->sock6)
        wskc_close(b->sock6);
    if (b->npi.Client != NULL)
        WskReleaseProviderNPI(&b->reg);
    if (b->client_npi.Dispatch != NULL)
        WskDeregister(&b->reg);
    if (b->st != NULL)
        wskstack_destroy(b->st); /* closes the memdev */
    else if (b->dev != NULL)
        dev_close(b->dev);
    bwsk_txring_fini(&b->tx);
    for (unsigned i = 0; i < N_FRAMES; i++)
        free(b->frames[i]);
    bwsk_ctr_fini(&b->rx);
}

/* One warm-up pass and o.repeats measured passes of rx and tx per family. */
static int run_all(struct bench *b)
{
    struct meas m;
    for (int fam = 4; fam <= 6; fam += 2) {
        if ((fam == 4 && !b->o.v4) || (fam == 6 && !b->o.v6) || b->o.warmup == 0)
            continue;
        if (run_rx(b, fam, b->o.warmup, &m) != 0 || run_tx(b, fam, b->o.warmup, &m) != 0)
            return -1;
    }
    for (unsigned r = 0; r < b->o.repeats; r++) {
        for (int fam = 4; fam <= 6; fam += 2) {
            if ((fam == 4 && !b->o.v4) || (fam == 6 && !b->o.v6))
                continue;
            if (run_rx(b, fam, b->o.count, &m) != 0)
                return -1;
            bench_result("trace", b->variant, fam, "rx", b->o.count, m.wall, "ns/dgram", m.cpu);
            if (run_tx(b, fam, b->o.count, &m) != 0)
                return -1;
            bench_result("trace", b->variant, fam, "tx", b->o.count, m.wall, "ns/dgram", m.cpu);
        }
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench-trace[-co] [--mode off|on] [options]\n"
               "The datagram path over the in-memory device, ns per datagram.\n"
               "  --mode off|on    tracing off (trace mask 0) or on (all layers, text, to\n"
               "                   /dev/null); bench-trace-co (trace compiled out) takes no --mode\n"
               "%s",
            bench_opts_usage);
}

int main(int argc, char **argv)
{
    static struct bench b; /* large (tx slots): not on the stack */
    bench_opts_init(&b.o, 200000, 20000);
#ifdef WSS_TRACE_COMPILED_OUT
    b.variant = "co";
#else
    b.variant = "off";
#endif
    for (int i = 1; i < argc; i++) {
        int rc = bench_opts_parse(&b.o, argc, argv, &i);
        if (rc < 0)
            return 2;
        if (rc > 0)
            continue;
        if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc && strcmp(VARIANT_BUILD, "normal") == 0 &&
            (strcmp(argv[i + 1], "off") == 0 || strcmp(argv[i + 1], "on") == 0)) {
            b.variant = strcmp(argv[++i], "on") == 0 ? "on" : "off";
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    /* Pinned before any thread exists: the stack's receive thread and the
     * completion threads inherit the CPU. */
    if (b.o.cpu >= 0 && bench_pin_cpu((unsigned)b.o.cpu) != 0)
        return 1;
    bwsk_ctr_init(&b.rx);
    printf("# bench-trace: build %s, variant %s, payload %u B, %lu datagrams x %u repeats\n",
           VARIANT_BUILD, b.variant, b.o.payload, b.o.count, b.o.repeats);
    int rc = -1;
    if (bwsk_txring_init(&b.tx, b.o.payload) == 0 && frames_alloc(&b) == 0 && stack_up(&b) == 0 && wsk_up(&b) == 0 &&
        socket_up(&b, AF_INET, &b.sock4) == 0 && socket_up(&b, AF_INET6, &b.sock6) == 0)
        rc = run_all(&b);
    teardown(&b);
    return rc == 0 ? 0 : 1;
}
