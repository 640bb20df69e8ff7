/* SPDX-License-Identifier: MIT */
/*
 * bench_tap.c - real I/O: datagrams per second delivered to a kernel UDP
 * socket, sent by wskstack through its TAP, and by the kernel itself over
 * a veth pair (PERF-NOTES.md measures the same things).
 *
 *     private namespace (made here; everything dies with the process)
 *
 *     wskstack 192.0.2.2  <== TAP wsbtap0 ==>  192.0.2.1:9001      kernel socket
 *                                              198.51.100.1:9002   kernel socket
 *                         wsbv0 <== veth ==> wsbv1 198.51.100.2    kernel sender
 *                                            (a second namespace, bench_tap_kernel.h)
 *
 *   wskstack  WskSendTo with BWSK_TX_WINDOW IRPs in flight (bench_wsk.h);
 *             every send writes its frame to the TAP on the caller's thread;
 *   kernel    sendto(), one datagram per call like WskSendTo, and
 *             sendmmsg() with 64 datagrams per call (PERF-NOTES' "Linux
 *             veth, sendmmsg x64").
 * Each receiver drains its socket with recvmmsg x64 on a thread of its own
 * (8 MB buffer).  The result is datagrams received / time the sends took:
 * a TAP write and a veth send both run the kernel's receive path inside
 * the sender's system call, so by the time the last send returns, every
 * datagram is in the socket queue or dropped (the receiver is given up to
 * 2 s to take them; a drop shows as delivered < sent).
 *
 * Every sending loop is bounded by --count and --max-seconds.  Needs root
 * (a TAP, a veth pair).  Usage: bench-tap [common options, bench_util.h]
 */
#include <ntddk.h>
#include <wsk.h>

#include <stdio.h>
#include <string.h>

#include "bench_tap_kernel.h"
#include "bench_util.h"
#include "bench_wsk.h"
#include "tools/wskc.h"
#include "wskstack.h"
#include "wskstack_wsk.h"

#define CONFIG "tap=wsbtap0;addr=192.0.2.2/24;host-addr=192.0.2.1/24;mac=02:00:00:00:00:02;slaac=off"
#define PORT_STACK 9000
#define PORT_K_TAP 9001
#define PORT_K_VETH 9002

struct tapbench {
    struct bench_opts o;
    struct wskstack *st;
    WSK_CLIENT_DISPATCH client_dispatch;
    WSK_CLIENT_NPI client_npi;
    WSK_REGISTRATION reg;
    WSK_PROVIDER_NPI npi;
    bool registered, captured;
    PWSK_SOCKET sock;
    struct bwsk_txring tx;
    bool tx_ok;
    struct btk_rx *rx_tap, *rx_veth;
    struct btk_veth *veth;
};

static int fail(const char *what, long v)
{
    fprintf(stderr, "error: %s (%ld)\n", what, v);
    return -1;
}

static int stack_up(struct tapbench *t)
{
    char err[256] = "";
    struct wskstack_config *cfg = wskstack_config_new();
    if (cfg == NULL || wskstack_config_parse(cfg, CONFIG, err, sizeof err) != 0 ||
        wskstack_create(cfg, &t->st, err, sizeof err) != 0) {
        fprintf(stderr, "error: stack on a TAP: %s\n", err);
        wskstack_config_free(cfg);
        return -1;
    }
    wskstack_config_free(cfg);
    t->client_dispatch.Version = MAKE_WSK_VERSION(1, 0);
    t->client_npi.ClientContext = t;
    t->client_npi.Dispatch = &t->client_dispatch;
    NTSTATUS s = WsksRegisterOnStack(t->st, &t->client_npi, &t->reg);
    if (s != STATUS_SUCCESS)
        return fail("WsksRegisterOnStack", (long)s);
    t->registered = true;
    s = WskCaptureProviderNPI(&t->reg, WSK_INFINITE_WAIT, &t->npi);
    if (s != STATUS_SUCCESS)
        return fail("WskCaptureProviderNPI", (long)s);
    t->captured = true;
    s = wskc_socket(&t->npi, &t->sock);
    if (s != STATUS_SUCCESS)
        return fail("WskSocket", (long)s);
    s = wskc_bind(t->sock, "192.0.2.2", PORT_STACK);
    if (s != STATUS_SUCCESS)
        return fail("WskBind", (long)s);
    return 0;
}

/* count datagrams from the stack; delivered datagrams/s in *rate. */
static int run_stack(struct tapbench *t, unsigned long count, double *rate)
{
    SOCKADDR_IN to;
    wskc_sin(&to, "192.0.2.1", PORT_K_TAP);
    unsigned long rx0 = btk_rx_count(t->rx_tap), bad0 = atomic_load(&t->tx.bad);
    uint64_t t0 = bench_now_ns();
    uint64_t deadline = t0 + (uint64_t)(t->o.max_seconds * 1e9);
    for (unsigned long i = 0; i < count; i++)
        if (bwsk_txring_send(&t->tx, t->sock, (const SOCKADDR *)&to, deadline) != 0)
            return fail("WskSendTo: sends not completed in time; sent", (long)i);
    if (!bwsk_txring_wait(&t->tx, deadline))
        return fail("WskSendTo: sends not completed in time", 0);
    uint64_t elapsed = bench_now_ns() - t0;
    if (atomic_load(&t->tx.bad) != bad0)
        return fail("WskSendTo: sends completed with another status",
                    (long)(atomic_load(&t->tx.bad) - bad0));
    unsigned long got = btk_rx_settle(t->rx_tap, rx0 + count, 200, 2000) - rx0;
    printf("# wskstack: %lu sent in %.3f s, %lu delivered\n", count, (double)elapsed / 1e9, got);
    if (got == 0)
        return fail("nothing reached the kernel socket", 0);
    *rate = (double)got * 1e9 / (double)elapsed;
    return 0;
}

static int run_kernel(struct tapbench *t, unsigned long count, unsigned batch, double *rate)
{
    uint64_t elapsed;
    unsigned long rx0 = btk_rx_count(t->rx_veth);
    if (btk_veth_send(t->veth, BTK_VETH_LOCAL, PORT_K_VETH, t->o.payload, count, batch,
                      t->o.max_seconds, &elapsed) != 0)
        return -1;
    unsigned long got = btk_rx_settle(t->rx_veth, rx0 + count, 200, 2000) - rx0;
    printf("# kernel (%s): %lu sent in %.3f s, %lu delivered\n",
           batch > 1 ? "sendmmsg" : "sendto", count, (double)elapsed / 1e9, got);
    if (got == 0)
        return fail("nothing reached the kernel socket over the veth", 0);
    *rate = (double)got * 1e9 / (double)elapsed;
    return 0;
}

/* Warm-up: the first datagram of each path waits for ARP; then a few more. */
static int warm_up(struct tapbench *t)
{
    uint8_t one[1400];
    memset(one, 0, sizeof one);
    NTSTATUS s = wskc_sendto(t->sock, one, t->o.payload, "192.0.2.1", PORT_K_TAP, 5000, NULL);
    if (s != STATUS_SUCCESS)
        return fail("first WskSendTo (ARP resolution)", (long)s);
    if (btk_rx_settle(t->rx_tap, 1, 2000, 2000) < 1)
        return fail("the first datagram did not reach the kernel socket", 0);
    uint64_t elapsed;
    if (btk_veth_send(t->veth, BTK_VETH_LOCAL, PORT_K_VETH, t->o.payload, 1, 1, 5, &elapsed) != 0)
        return -1;
    if (btk_rx_settle(t->rx_veth, 1, 2000, 2000) < 1)
        return fail("the first kernel datagram did not cross the veth", 0);
    double rate;
    if (t->o.warmup > 0 && (run_stack(t, t->o.warmup, &rate) != 0 ||
                            run_kernel(t, t->o.warmup, 1, &rate) != 0))
        return -1;
    return 0;
}

static int run_all(struct tapbench *t)
{
    if (warm_up(t) != 0)
        return -1;
    double rate;
    for (unsigned r = 0; r < t->o.repeats; r++) {
        if (run_stack(t, t->o.count, &rate) != 0)
            return -1;
        bench_result("tap", "wskstack", 4, "tx", t->o.count, rate, "dgram/s", -1);
        if (run_kernel(t, t->o.count, 1, &rate) != 0)
            return -1;
        bench_result("tap", "kernel-sendto", 4, "tx", t->o.count, rate, "dgram/s", -1);
        if (run_kernel(t, t->o.count, 64, &rate) != 0)
            return -1;
        bench_result("tap", "kernel-sendmmsg", 4, "tx", t->o.count, rate, "dgram/s", -1);
    }
    unsigned long other = btk_rx_other(t->rx_tap) + btk_rx_other(t->rx_veth);
    if (other != 0)
        return fail("datagrams of another length reached the kernel sockets", (long)other);
    return 0;
}

static void teardown(struct tapbench *t)
{
    if (t->sock)
        wskc_close(t->sock);
    if (t->captured)
        WskReleaseProviderNPI(&t->reg);
    if (t->registered)
        WskDeregister(&t->reg);
    if (t->st)
        wskstack_destroy(t->st);
    if (t->tx_ok)
        bwsk_txring_fini(&t->tx);
    btk_rx_stop(t->rx_tap);
    btk_rx_stop(t->rx_veth);
    btk_veth_down(t->veth);
}

int main(int argc, char **argv)
{
    static struct tapbench t; /* large (tx slots): not on the stack */
    bench_opts_init(&t.o, 200000, 20000);
    for (int i = 1; i < argc; i++) {
        int rc = bench_opts_parse(&t.o, argc, argv, &i);
        if (rc < 0)
            return 2;
        if (rc == 0) {
            FILE *f = strcmp(argv[i], "--help") == 0 ? stdout : stderr;
            fprintf(f, "usage: bench-tap [options]\n"
                       "Datagrams/s delivered to a kernel socket: wskstack through a TAP, the\n"
                       "kernel over a veth pair.  IPv4 only; no --cpu (the receivers need a CPU\n"
                       "of their own).  Needs root.\n%s",
                    bench_opts_usage);
            return f == stdout ? 0 : 2;
        }
    }
    if (t.o.cpu >= 0 || !t.o.v4) {
        fprintf(stderr, "error: bench-tap measures IPv4 only and takes no --cpu\n");
        return 2;
    }
    t.o.v6 = false;
    if (bench_netns_enter() != 0)
        return 1;
    printf("# bench-tap: private netns, payload %u B, %lu datagrams x %u repeats\n", t.o.payload,
           t.o.count, t.o.repeats);
    int rc = -1;
    t.tx_ok = bwsk_txring_init(&t.tx, t.o.payload) == 0;
    /* The stack first: its TAP brings the kernel's 192.0.2.1 to bind to. */
    if (t.tx_ok && stack_up(&t) == 0 &&
        btk_rx_start("192.0.2.1", PORT_K_TAP, t.o.payload, &t.rx_tap) == 0 &&
        btk_veth_up(&t.veth) == 0 &&
        btk_rx_start(BTK_VETH_LOCAL, PORT_K_VETH, t.o.payload, &t.rx_veth) == 0)
        rc = run_all(&t);
    teardown(&t);
    return rc == 0 ? 0 : 1;
}
