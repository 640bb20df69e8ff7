/* SPDX-License-Identifier: MIT */
/*
 * test_echo.c - stack/echo.c: the ping API (wskstack_ping_*) on a memdev
 * stack (no receive thread, manual clock): the exact request on the wire,
 * replies and ICMP errors matched to the handle, a local "host
 * unreachable" when ARP fails, cancellation on close, no leaks.
 *
 *     stack 192.0.2.1/24 (02:..:01) ---- peer 192.0.2.2 (02:..:02, static)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack_impl.h"

#define OUR_IP 0xC0000201u
#define PEER_IP 0xC0000202u
static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

struct fx {
    struct wskstack *st;
    struct dev *dev;
    uint64_t now;
};
static uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }
#define CNT(st, n) atomic_load(&(st)->cnt[CNT_##n])

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[256];
    struct wskstack_config *cfg = wskstack_config_new();
    assert_int_equal(wskstack_config_parse(cfg, "addr=192.0.2.1/24;mac=02:00:00:00:00:01",
                                           err, sizeof err), 0);
    f->dev = memdev_create("t0", 1500);
    assert_non_null(f->dev);
    assert_int_equal(stack_create_on_dev(cfg, f->dev, STACK_NO_THREAD, &f->st, err, sizeof err), 0);
    wskstack_config_free(cfg);
    f->now = 1000000000ull;
    stack_set_clock(f->st, fx_clock, f);
    uint8_t junk[2048];
    while (memdev_pop_tx(f->dev, junk, sizeof junk) >= 0)
        ;
    struct ip_addr a = ip4(PEER_IP);
    assert_int_equal(stack_neigh_add_static(f->st, &a, peer_mac), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    wskstack_destroy(f->st);
    free(f);
    return 0;
}

/* An IPv4 frame from the peer to us carrying `icmp` (len bytes). */
static size_t mk_frame(uint8_t *fr, const uint8_t *icmp, size_t len, uint8_t ttl)
{
    memcpy(fr, our_mac, 6);
    memcpy(fr + 6, peer_mac, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    struct ipv4_repr ip = {.src = PEER_IP, .dst = OUR_IP, .proto = IP_PROTO_ICMP, .ttl = ttl,
                           .hdr_len = 20, .total_len = (uint16_t)(20 + len), .id = 7};
    ipv4_emit(&ip, fr + 14);
    memcpy(fr + 34, icmp, len);
    return 34 + len;
}

static void inject(struct fx *f, const uint8_t *fr, size_t len)
{
    assert_int_equal(memdev_inject(f->dev, fr, len), 0);
    assert_int_equal(stack_poll(f->st, f->now), 1);
}

/* The request on the wire, byte for byte; the reply comes back as an event
 * with the payload, TTL and the stack's clock; counters exact. */
static void test_echo_request_and_reply(void **state)
{
    struct fx *f = *state;
    struct wskstack_ping *p;
    assert_int_equal(wskstack_ping_open(f->st, "192.0.2.2", 0x1234, &p), 0);
    assert_int_equal(wskstack_ping_id(p), 0x1234);
    uint64_t sent;
    assert_int_equal(wskstack_ping_send(p, 7, "abcd", 4, &sent), 0);
    assert_true(sent == f->now);
    assert_string_equal(wskstack_ping_source(p), "192.0.2.1");

    uint8_t out[256];
    long n = memdev_pop_tx(f->dev, out, sizeof out);
    assert_int_equal(n, 14 + 20 + 12);
    assert_memory_equal(out, peer_mac, 6);
    struct ipv4_repr ip;
    assert_int_equal(ipv4_parse(out + 14, 32, &ip, true), WIRE_OK);
    assert_int_equal(ip.src, OUR_IP);
    assert_int_equal(ip.dst, PEER_IP);
    assert_int_equal(ip.proto, IP_PROTO_ICMP);
    assert_int_equal(ip.ttl, 64);
    struct icmp_repr r;
    assert_int_equal(icmp_parse(out + 34, 12, &r, true), WIRE_OK);
    const uint8_t want[12] = {8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07, 'a', 'b', 'c', 'd'};
    assert_memory_equal(out + 34 + 4, want + 4, 8);
    assert_int_equal(out[34], 8);
    assert_int_equal(CNT(f->st, IcmpOutEchos), 1);
    assert_int_equal(CNT(f->st, IcmpOutMsgs), 1);

    /* The reply: type 0, same id/seq/data. */
    uint8_t rep[12], fr[128];
    struct icmp_repr rr = {.type = 0, .code = 0, .rest = 0x12340007u,
                           .data = (const uint8_t *)"abcd", .data_len = 4};
    icmp_emit(&rr, rep);
    f->now += 1500000;   /* 1.5 ms */
    inject(f, fr, mk_frame(fr, rep, sizeof rep, 61));
    struct wskstack_ping_event ev;
    char data[8] = {0};
    assert_int_equal(wskstack_ping_recv(p, &ev, data, sizeof data, 0), 0);
    assert_int_equal(ev.kind, WSKSTACK_PING_REPLY);
    assert_int_equal(ev.family, 4);
    assert_string_equal(ev.from, "192.0.2.2");
    assert_int_equal(ev.id, 0x1234);
    assert_int_equal(ev.seq, 7);
    assert_int_equal(ev.ttl, 61);
    assert_int_equal(ev.len, 4);
    assert_int_equal(ev.local, 0);
    assert_true(ev.rx_ns - sent == 1500000);
    assert_memory_equal(data, "abcd", 4);
    assert_int_equal(CNT(f->st, IcmpInEchoReps), 1);

    /* A reply with another identifier is not ours. */
    rr.rest = 0x43210007u;
    icmp_emit(&rr, rep);
    inject(f, fr, mk_frame(fr, rep, sizeof rep, 64));
    assert_int_equal(wskstack_ping_recv(p, &ev, NULL, 0, 0), -ETIMEDOUT);
    assert_int_equal(CNT(f->st, IcmpInEchoReps), 2);
    wskstack_ping_close(p);
}

/* An ICMP error quoting our request becomes an error event with the
 * request's sequence number; one quoting someone else's does not. */
static void test_echo_icmp_error(void **state)
{
    struct fx *f = *state;
    struct wskstack_ping *p;
    assert_int_equal(wskstack_ping_open(f->st, "192.0.2.2", 0x0101, &p), 0);
    assert_int_equal(wskstack_ping_send(p, 3, "xy", 2, NULL), 0);
    uint8_t req[128];
    long n = memdev_pop_tx(f->dev, req, sizeof req);
    assert_int_equal(n, 14 + 20 + 10);

    /* Port unreachable from the peer quoting the IP header + 8 bytes. */
    uint8_t err[8 + 28], fr[128];
    struct icmp_repr er = {.type = 3, .code = 3, .rest = 0, .data = req + 14, .data_len = 28};
    icmp_emit(&er, err);
    inject(f, fr, mk_frame(fr, err, sizeof err, 64));
    struct wskstack_ping_event ev;
    assert_int_equal(wskstack_ping_recv(p, &ev, NULL, 0, 0), 0);
    assert_int_equal(ev.kind, WSKSTACK_PING_ERROR);
    assert_string_equal(ev.from, "192.0.2.2");
    assert_int_equal(ev.type, 3);
    assert_int_equal(ev.code, 3);
    assert_int_equal(ev.seq, 3);
    assert_int_equal(ev.id, 0x0101);
    assert_int_equal(CNT(f->st, IcmpInDestUnreachs), 1);

    /* The same error about an echo with another identifier: ignored. */
    req[14 + 20 + 4] = 0x77;
    icmp_emit(&er, err);
    inject(f, fr, mk_frame(fr, err, sizeof err, 64));
    assert_int_equal(wskstack_ping_recv(p, &ev, NULL, 0, 0), -ETIMEDOUT);
    wskstack_ping_close(p);
}

/* ARP fails for 192.0.2.3: the request completes as a local "host
 * unreachable" from our own address after 3 requests (3 s). */
static void test_echo_resolution_failure(void **state)
{
    struct fx *f = *state;
    struct wskstack_ping *p;
    uint8_t out[256];
    assert_int_equal(wskstack_ping_open(f->st, "192.0.2.3", 0, &p), 0);
    assert_int_not_equal(wskstack_ping_id(p), 0);
    assert_int_equal(wskstack_ping_send(p, 1, NULL, 0, NULL), 0);
    for (int i = 0; i < 3; i++) {
        assert_true(memdev_pop_tx(f->dev, out, sizeof out) > 0); /* ARP request */
        f->now += 1000000000ull;
        stack_poll(f->st, f->now);
    }
    struct wskstack_ping_event ev;
    assert_int_equal(wskstack_ping_recv(p, &ev, NULL, 0, 0), 0);
    assert_int_equal(ev.kind, WSKSTACK_PING_ERROR);
    assert_int_equal(ev.local, 1);
    assert_string_equal(ev.from, "192.0.2.1");
    assert_int_equal(ev.type, 3);
    assert_int_equal(ev.code, 1);
    assert_int_equal(ev.seq, 1);
    assert_int_equal(CNT(f->st, ArpResolveFailed), 1);
    wskstack_ping_close(p);
}

/* Close while a request waits for ARP: cancelled, nothing leaks; ids are
 * unique per stack; bad arguments. */
static void test_echo_close_pending_and_args(void **state)
{
    struct fx *f = *state;
    struct wskstack_ping *p, *q;
    uint8_t out[256];
    assert_int_equal(wskstack_ping_open(f->st, "192.0.2.9", 5, &p), 0);
    assert_int_equal(wskstack_ping_open(f->st, "192.0.2.2", 5, &q), -EADDRINUSE);
    assert_null(q);
    assert_int_equal(wskstack_ping_open(f->st, "not-an-address", 0, &q), -EINVAL);
    assert_int_equal(wskstack_ping_open(f->st, "0.0.0.0", 0, &q), -EINVAL);
    assert_int_equal(wskstack_ping_send(p, 1, "z", 1, NULL), 0);
    assert_int_equal(wskstack_ping_send(p, 1, NULL, 65508, NULL), -EMSGSIZE);
    assert_true(memdev_pop_tx(f->dev, out, sizeof out) > 0); /* the ARP request */
    wskstack_ping_close(p); /* cancels the queued request */
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    assert_int_equal(wskstack_ping_open(f->st, "198.51.100.1", 0, &p), 0);
    assert_int_equal(wskstack_ping_send(p, 1, "z", 1, NULL), -ENETUNREACH);
    wskstack_ping_close(p);
    /* A memdev stack never starts DAD (tests call addr6_start): its
     * link-local address stays tentative, so it is not ready. */
    assert_int_equal(wskstack_wait_ready(f->st, 0), -ETIMEDOUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo_request_and_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_icmp_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_resolution_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_close_pending_and_args, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
