/* SPDX-License-Identifier: MIT */
/*
 * fuzz_frames - libFuzzer target: arbitrary Ethernet frames into a stack.
 *
 * One input = a sequence of frames, each prefixed by its length (2 bytes,
 * big-endian); a length past the end of the input takes what is left.
 * For each input a fresh stack is built on an in-memory device
 * (STACK_NO_THREAD, manual clock) with the address 192.0.2.2/24, MAC
 * 02:00:5e:00:02:02 and two UDP endpoints: 0.0.0.0:7 (wildcard) and
 * 192.0.2.2:5000 (specific).  Before the frames, one datagram is sent to
 * 192.0.2.1:9, which waits for ARP resolution - a frame may resolve it.
 * Each frame is injected, the stack polled, the clock advanced 1 ms and the
 * transmitted frames drained; at the end the clock jumps 5 s (so a pending
 * resolution fails), 120 s more (slower timers) and 5 s again (a
 * resolution those timers started fails too), then the endpoints are
 * unbound and the stack destroyed.
 *
 * Checked beyond "no crash, no leak, no UB" (ASan/UBSan/LeakSanitizer):
 *  - the queued send's completion runs exactly once;
 *  - no packet buffer is still in use once the endpoints have dropped
 *    theirs (stack_pkts_in_use() == 0 before destroy);
 *  - every transmitted frame is at least an Ethernet header and at most
 *    the MTU + 14 bytes.
 * The stack also has 2001:db8::2/64 (DAD completed before the frames) and
 * the wildcard endpoint is dual-stack, so IPv6, ICMPv6, ND and fragments
 * of both families reach real state.
 * Seeds: tests/fuzz/seeds/ (ARP, ICMP echo, UDP to each endpoint, ICMPv6
 * echo, NS, RA, UDP over IPv6, IPv4 and IPv6 fragments in reverse order),
 * made by tests/fuzz/make_seeds.py.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/ipv6_impl.h"
#include "stack/stack.h"
#include "tap/dev.h"
#include "wskstack.h"

#define FUZZ_CONFIG "addr=192.0.2.2/24;addr=2001:db8::2/64;mac=02:00:5e:00:02:02;mtu=1500"
#define FUZZ_MTU 1500

struct fuzz_clock {
    uint64_t now;
};

static uint64_t fuzz_clock_read(void *ctx)
{
    return ((struct fuzz_clock *)ctx)->now;
}

/* The endpoints own what they receive; a fuzz endpoint just frees it. */
static struct wskstack *g_rx_stack;
static unsigned long g_rx_count;

static int fuzz_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    (void)ep;
    (void)info;
    g_rx_count++;
    pkt_free(g_rx_stack, p);
    return 0;
}

static const struct udp_ep_ops fuzz_ep_ops = {.rx = fuzz_rx};

struct fuzz_req {
    struct tx_req req;
    int calls;
    int err;
};

static void fuzz_req_done(struct tx_req *r, int err)
{
    struct fuzz_req *f = (struct fuzz_req *)r;
    f->calls++;
    f->err = err;
}

static unsigned long g_tx_count;

static void drain_tx(struct dev *dev)
{
    static uint8_t frame[65536 + 64];
    long n;
    /* Bounded: a stack that transmits forever is a bug the fuzzer reports
     * as a timeout instead of an endless loop here. */
    for (int i = 0; i < 4096 && (n = memdev_pop_tx(dev, frame, sizeof frame)) >= 0; i++) {
        g_tx_count++;
        if (n < 14 || n > FUZZ_MTU + 14) {
            fprintf(stderr, "fuzz_frames: transmitted a frame of %ld bytes\n", n);
            abort();
        }
    }
}

static void fatal(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_frames: %s: %s\n", what, err);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    struct wskstack_config *cfg = wskstack_config_new();
    if (cfg == NULL || wskstack_config_parse(cfg, FUZZ_CONFIG, err, sizeof err) != 0)
        fatal("config", err);
    struct dev *dev = memdev_create("fuzz0", FUZZ_MTU);
    if (dev == NULL)
        fatal("memdev_create", "out of memory");
    struct wskstack *st = NULL;
    if (stack_create_on_dev(cfg, dev, STACK_NO_THREAD, &st, err, sizeof err) != 0)
        fatal("stack_create_on_dev", err);
    wskstack_config_free(cfg);

    struct fuzz_clock clk = {.now = 1000000000ull};
    stack_set_clock(st, fuzz_clock_read, &clk);
    g_rx_stack = st;
    g_rx_count = 0;
    g_tx_count = 0;

    struct udp_ep wild, spec;
    memset(&wild, 0, sizeof wild);
    memset(&spec, 0, sizeof spec);
    wild.ops = spec.ops = &fuzz_ep_ops;
    wild.flags = UDP_EP_V4 | UDP_EP_V6; /* dual-stack wildcard */
    spec.flags = UDP_EP_V4;
    struct ip_addr any = {.af = IPA_NONE}, local = ip4(0xc0000202); /* 192.0.2.2 */
    if (udp_bind(st, &wild, &any, 7) != 0 || udp_bind(st, &spec, &local, 5000) != 0)
        fatal("udp_bind", "failed");
    drain_tx(dev); /* gratuitous ARP at start */

    /* IPv6: run DAD to completion (no random start delay) so 2001:db8::2
     * and the link-local address are PREFERRED before the frames arrive. */
    addr6_set_seed(st, 0);
    addr6_start(st, clk.now);
    for (int i = 0; i < 3; i++) {
        clk.now += 1000000000ull;
        stack_poll(st, clk.now);
        drain_tx(dev);
    }

    /* A send that must wait for 192.0.2.1 to be resolved. */
    static const char hello[] = "fuzz";
    struct iovec iov = {.iov_base = (void *)hello, .iov_len = sizeof hello - 1};
    struct fuzz_req req;
    memset(&req, 0, sizeof req);
    req.req.done = fuzz_req_done;
    struct udp_send_args a;
    memset(&a, 0, sizeof a);
    a.dst = ip4(0xc0000201); /* 192.0.2.1 */
    a.dport = 9;
    a.src.af = IPA_NONE;
    a.ttl = -1;
    a.tos = -1;
    a.iov = &iov;
    a.iovcnt = 1;
    a.len = iov.iov_len;
    a.req = &req.req;
    int sent = udp_send(st, &wild, &a);
    bool queued = sent == UDP_SEND_QUEUED;
    if (sent < 0)
        fatal("udp_send", strerror(-sent));
    stack_poll(st, clk.now);
    drain_tx(dev);

    size_t off = 0;
    while (off < size) {
        size_t len;
        if (size - off < 2) {
            len = size - off;
        } else {
            len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
            if (len > size - off)
                len = size - off;
        }
        if (memdev_inject(dev, data + off, len) != 0)
            fatal("memdev_inject", "out of memory");
        off += len;
        stack_poll(st, clk.now);
        clk.now += 1000000ull; /* 1 ms */
        stack_poll(st, clk.now);
        drain_tx(dev);
    }

    /* Let every timer run out: ARP retransmits (3 x 1 s) and failure. */
    for (int i = 0; i < 5; i++) {
        clk.now += 1000000000ull;
        stack_poll(st, clk.now);
        drain_tx(dev);
    }
    /* And anything slower (reassembly 30 s / 60 s, neighbour aging).  A
     * timer that fires here may itself start a resolution - the ICMP Time
     * Exceeded for an incomplete datagram waits for ARP/ND - so let the
     * short timers run out once more before counting buffers. */
    clk.now += 120ull * 1000000000ull;
    stack_poll(st, clk.now);
    drain_tx(dev);
    for (int i = 0; i < 5; i++) {
        clk.now += 1000000000ull;
        stack_poll(st, clk.now);
        drain_tx(dev);
    }
    if (queued && req.calls != 1) {
        fprintf(stderr, "fuzz_frames: queued send completed %d times\n", req.calls);
        abort();
    }
    if (!queued && req.calls != 0) {
        fprintf(stderr, "fuzz_frames: completion ran for a send that was not queued\n");
        abort();
    }

    /* FUZZ_FRAMES_VERBOSE=1: show how far each input got (seed checks). */
    if (getenv("FUZZ_FRAMES_VERBOSE"))
        fprintf(stderr, "fuzz_frames: %zu bytes: %lu datagrams received, %lu frames sent, "
                "queued send %s (%d)\n", size, g_rx_count, g_tx_count,
                queued ? "completed" : "not queued", req.err);

    udp_unbind(st, &wild);
    udp_unbind(st, &spec);
    if (stack_pkts_in_use(st) != 0) {
        fprintf(stderr, "fuzz_frames: %u packet buffers still in use\n", stack_pkts_in_use(st));
        abort();
    }
    wskstack_destroy(st);
    return 0;
}
