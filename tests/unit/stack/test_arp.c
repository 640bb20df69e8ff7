/* SPDX-License-Identifier: MIT */
/* ARP and the neighbour cache (stack/neigh.c): replies, validity rules
 * (BAD-INPUT B.5-B.8), conflicts and probes (RFC 5227), resolution with
 * retransmission and failure, the wait queue and its bound, send
 * completions and cancellation, the cache bound under a flood (J.43),
 * device loss (K.48).  Exact bytes on the wire, exact counters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack_impl.h"

#define NS 1000000000ull
#define OUR_IP 0xC0000201u   /* 192.0.2.1 */
#define OUR_IP2 0xC6336401u  /* 198.51.100.1 */
#define PEER_IP 0xC0000202u  /* 192.0.2.2 */
#define OTHER_IP 0xC0000203u /* 192.0.2.3 */
#define NH_IP 0xC0000209u    /* 192.0.2.9: on-link, unknown */

static const uint8_t OUR_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t PEER_MAC2[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x22};
static const uint8_t NH_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO[6] = {0};

struct fx {
    struct wskstack *st;
    struct dev *dev;
    uint64_t now;
};

static uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    struct wskstack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.has_mac = true;
    memcpy(cfg.mac, OUR_MAC, 6);
    cfg.addrs[0].addr = ip4(OUR_IP);
    cfg.addrs[0].plen = 24;
    cfg.addrs[1].addr = ip4(OUR_IP2);
    cfg.addrs[1].plen = 24;
    cfg.n_addrs = 2;
    f.dev = memdev_create("arp0", 1500);
    assert_non_null(f.dev);
    char err[128];
    assert_int_equal(stack_create_on_dev(&cfg, f.dev, STACK_NO_THREAD, &f.st, err, sizeof err), 0);
    f.now = 1000 * NS;
    stack_set_clock(f.st, fx_clock, &f);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    wskstack_destroy(f->st);
    return 0;
}

static int64_t C(struct fx *f, const char *n) { return wskstack_counter(f->st, n); }

/* An Ethernet + ARP frame (42 bytes). */
static void arp_frame(uint8_t b[42], const uint8_t edst[6], const uint8_t esrc[6], uint16_t op,
                      const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    memcpy(b, edst, 6);
    memcpy(b + 6, esrc, 6);
    put_be16(b + 12, ETHERTYPE_ARP);
    put_be16(b + 14, 1);
    put_be16(b + 16, 0x0800);
    b[18] = 6;
    b[19] = 4;
    put_be16(b + 20, op);
    memcpy(b + 22, sha, 6);
    put_be32(b + 28, spa);
    memcpy(b + 32, tha, 6);
    put_be32(b + 38, tpa);
}

static void inject(struct fx *f, const uint8_t *b, size_t len)
{
    assert_int_equal(memdev_inject(f->dev, b, len), 0);
    assert_int_equal(stack_poll(f->st, f->now), 1);
}

static void expect_tx(struct fx *f, const uint8_t *want, size_t len)
{
    uint8_t out[2048];
    long n = memdev_pop_tx(f->dev, out, sizeof out);
    assert_int_equal(n, (long)len);
    assert_memory_equal(out, want, len);
}

static void expect_no_tx(struct fx *f) { assert_int_equal(memdev_tx_pending(f->dev), 0); }

static void expect_request(struct fx *f, uint32_t spa, uint32_t tpa)
{
    uint8_t want[42];
    arp_frame(want, BCAST, OUR_MAC, ARP_OP_REQUEST, OUR_MAC, spa, ZERO, tpa);
    expect_tx(f, want, 42);
}

/* ---- an IPv4/UDP packet built by hand, for neigh_output ------------------ */

static uint16_t ip_csum(const uint8_t *h, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i += 2)
        s += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* 20-byte IPv4 header + 8-byte UDP header (checksum 0) + 4-byte payload
 * whose first byte is `tag`. */
static size_t ip_udp(uint8_t b[32], uint32_t src, uint32_t dst, uint8_t tag)
{
    memset(b, 0, 32);
    b[0] = 0x45;
    put_be16(b + 2, 32);
    put_be16(b + 4, tag);
    b[8] = 64;
    b[9] = IP_PROTO_UDP;
    put_be32(b + 12, src);
    put_be32(b + 16, dst);
    put_be16(b + 10, ip_csum(b, 20));
    put_be16(b + 20, 40000);
    put_be16(b + 22, 9);
    put_be16(b + 24, 12);
    b[28] = tag;
    b[29] = 'x';
    b[30] = 'y';
    b[31] = 'z';
    return 32;
}

struct req {
    struct tx_req r;
    int calls;
    int err;
};

static void req_done(struct tx_req *r, int err)
{
    struct req *q = (struct req *)r;
    q->calls++;
    q->err = err;
}

static int send_ip(struct fx *f, uint32_t nh, uint8_t tag, struct req *q)
{
    struct pkt *p = pkt_alloc(f->st, 32);
    assert_non_null(p);
    p->len = (uint32_t)ip_udp(pkt_data(p), OUR_IP, nh, tag);
    if (q) {
        q->r.done = req_done;
        p->req = &q->r;
    }
    return neigh_output(f->st, p, nh, f->now);
}

/* The frame neigh_output writes for send_ip(tag) once nh is at mac. */
static void expect_ip(struct fx *f, const uint8_t mac[6], uint32_t nh, uint8_t tag)
{
    uint8_t want[46];
    memcpy(want, mac, 6);
    memcpy(want + 6, OUR_MAC, 6);
    put_be16(want + 12, ETHERTYPE_IPV4);
    ip_udp(want + 14, OUR_IP, nh, tag);
    expect_tx(f, want, 46);
}

/* ---- requests and replies ------------------------------------------------- */

static void test_reply_to_request(void **state)
{
    struct fx *f = *state;
    uint8_t b[42];
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    const uint8_t want[42] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  /* to the requester */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  /* from us */
        0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, /* Ethernet, IPv4, reply */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192, 0, 2, 1, /* sha, spa: us */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 192, 0, 2, 2, /* tha, tpa: the requester */
    };
    expect_tx(f, want, 42);
    expect_no_tx(f);
    assert_int_equal(C(f, "ArpInRequests"), 1);
    assert_int_equal(C(f, "ArpOutReplies"), 1);
    assert_int_equal(C(f, "ArpInIgnored"), 0);
    /* RFC 826: the requester is now in the cache, so sending to it is
     * immediate. */
    assert_int_equal(stack_neigh_count(f->st), 1);
    assert_int_equal(send_ip(f, PEER_IP, 7, NULL), UDP_SEND_DONE);
    expect_ip(f, PEER_MAC, PEER_IP, 7);

    /* the second address answers as well, with itself as sender */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, 0xC6336402, ZERO, OUR_IP2);
    inject(f, b, 42);
    uint8_t want2[42];
    arp_frame(want2, PEER_MAC, OUR_MAC, ARP_OP_REPLY, OUR_MAC, OUR_IP2, PEER_MAC, 0xC6336402);
    expect_tx(f, want2, 42);
}

static void test_request_not_for_us(void **state)
{
    struct fx *f = *state;
    uint8_t b[42];
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OTHER_IP);
    inject(f, b, 42);
    expect_no_tx(f);
    assert_int_equal(C(f, "ArpInRequests"), 1);
    assert_int_equal(C(f, "ArpInIgnored"), 1);
    assert_int_equal(C(f, "ArpOutReplies"), 0);
    assert_int_equal(stack_neigh_count(f->st), 0);
}

static void test_unsolicited_reply_ignored(void **state)
{
    struct fx *f = *state;
    uint8_t b[42];
    /* B.7: a reply to us from a host we never asked about creates nothing */
    arp_frame(b, OUR_MAC, PEER_MAC, ARP_OP_REPLY, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    /* a gratuitous ARP (announcement) from an unknown host: nothing either */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, PEER_IP);
    inject(f, b, 42);
    expect_no_tx(f);
    assert_int_equal(C(f, "ArpInReplies"), 1);
    assert_int_equal(C(f, "ArpInRequests"), 1);
    assert_int_equal(C(f, "ArpInIgnored"), 2);
    assert_int_equal(stack_neigh_count(f->st), 0);
}

static void test_merge_updates_known(void **state)
{
    struct fx *f = *state;
    uint8_t b[42];
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    uint8_t out[64];
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 42);
    /* RFC 826 merge: a gratuitous ARP from a known host updates it (B.7) */
    arp_frame(b, BCAST, PEER_MAC2, ARP_OP_REQUEST, PEER_MAC2, PEER_IP, ZERO, PEER_IP);
    inject(f, b, 42);
    expect_no_tx(f);
    assert_int_equal(C(f, "ArpInIgnored"), 0);
    assert_int_equal(stack_neigh_count(f->st), 1);
    assert_int_equal(send_ip(f, PEER_IP, 1, NULL), UDP_SEND_DONE);
    expect_ip(f, PEER_MAC2, PEER_IP, 1);
}

static void test_static_not_overwritten(void **state)
{
    struct fx *f = *state;
    struct ip_addr a = ip4(PEER_IP);
    assert_int_equal(stack_neigh_add_static(f->st, &a, PEER_MAC), 0);
    assert_int_equal(stack_neigh_add_static(f->st, &a, BCAST), -EINVAL);
    uint8_t b[42];
    arp_frame(b, BCAST, PEER_MAC2, ARP_OP_REQUEST, PEER_MAC2, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    uint8_t want[42];
    arp_frame(want, PEER_MAC2, OUR_MAC, ARP_OP_REPLY, OUR_MAC, OUR_IP, PEER_MAC2, PEER_IP);
    expect_tx(f, want, 42);
    assert_int_equal(send_ip(f, PEER_IP, 2, NULL), UDP_SEND_DONE);
    expect_ip(f, PEER_MAC, PEER_IP, 2);
    /* static entries do not age */
    f->now += 3600 * NS;
    stack_poll(f->st, f->now);
    assert_int_equal(stack_neigh_count(f->st), 1);
}

static void test_malformed(void **state)
{
    struct fx *f = *state;
    uint8_t b[60];
    /* B.5: truncated (27 bytes of ARP) */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 14 + 27);
    /* hlen 5 */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    b[18] = 5;
    inject(f, b, 42);
    /* ptype 0x86dd */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    put_be16(b + 16, 0x86dd);
    inject(f, b, 42);
    /* opcode 3 (RARP request) */
    arp_frame(b, BCAST, PEER_MAC, 3, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    /* sender MAC broadcast, multicast, zero - each a request for us */
    const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, BCAST, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, mc, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REPLY, ZERO, PEER_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    /* sender IP broadcast / multicast / our subnet's broadcast */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, 0xffffffffu, ZERO, OUR_IP);
    inject(f, b, 42);
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, 0xE0000001u, ZERO, OUR_IP);
    inject(f, b, 42);
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, 0xC00002ffu, ZERO, OUR_IP);
    inject(f, b, 42);
    assert_int_equal(C(f, "ArpInMalformed"), 10);
    assert_int_equal(C(f, "ArpInRequests"), 0);
    assert_int_equal(C(f, "ArpInReplies"), 0);
    assert_int_equal(C(f, "ArpOutReplies"), 0);
    assert_int_equal(stack_neigh_count(f->st), 0);
    expect_no_tx(f);

    /* a broadcast sender MAC does not update an existing entry either */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    uint8_t out[64];
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 42);
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REPLY, BCAST, PEER_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    assert_int_equal(C(f, "ArpInMalformed"), 11);
    assert_int_equal(send_ip(f, PEER_IP, 3, NULL), UDP_SEND_DONE);
    expect_ip(f, PEER_MAC, PEER_IP, 3);
}

static void test_conflict(void **state)
{
    struct fx *f = *state;
    uint8_t b[42];
    /* B.6: someone announces our address */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, OUR_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    assert_int_equal(C(f, "ArpInConflicts"), 1);
    /* RFC 5227 §2.4: we defend with one announcement of our own */
    uint8_t want[42];
    arp_frame(want, BCAST, OUR_MAC, ARP_OP_REQUEST, OUR_MAC, OUR_IP, ZERO, OUR_IP);
    expect_tx(f, want, 42);
    /* ... at most once per DEFEND_INTERVAL (10 s) */
    f->now += 5 * NS;
    arp_frame(b, OUR_MAC, PEER_MAC, ARP_OP_REPLY, PEER_MAC, OUR_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    assert_int_equal(C(f, "ArpInConflicts"), 2);
    expect_no_tx(f);
    f->now += 5 * NS;
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, OUR_IP, ZERO, PEER_IP);
    inject(f, b, 42);
    assert_int_equal(C(f, "ArpInConflicts"), 3);
    expect_tx(f, want, 42);
    /* our binding is untouched, nothing was inserted */
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(C(f, "ArpOutReplies"), 0);
}

static void test_probe_defended(void **state)
{
    struct fx *f = *state;
    uint8_t b[42];
    /* RFC 5227 §2.1.1 probe for our address: sender IP 0.0.0.0 */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, 0, ZERO, OUR_IP);
    inject(f, b, 42);
    uint8_t want[42];
    arp_frame(want, PEER_MAC, OUR_MAC, ARP_OP_REPLY, OUR_MAC, OUR_IP, PEER_MAC, 0);
    expect_tx(f, want, 42);
    assert_int_equal(C(f, "ArpOutReplies"), 1);
    assert_int_equal(stack_neigh_count(f->st), 0); /* never 0.0.0.0 */
    /* a probe for someone else: ignored */
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, 0, ZERO, OTHER_IP);
    inject(f, b, 42);
    expect_no_tx(f);
    assert_int_equal(C(f, "ArpInIgnored"), 1);
    assert_int_equal(stack_neigh_count(f->st), 0);
}

static void test_announce(void **state)
{
    struct fx *f = *state;
    arp_announce(f->st);
    const uint8_t want[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192, 0, 2, 1,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 0, 2, 1,
    };
    expect_tx(f, want, 42);
    uint8_t want2[42];
    arp_frame(want2, BCAST, OUR_MAC, ARP_OP_REQUEST, OUR_MAC, OUR_IP2, ZERO, OUR_IP2);
    expect_tx(f, want2, 42);
    expect_no_tx(f);
    assert_int_equal(C(f, "ArpOutRequests"), 2);
}

/* ---- resolution ------------------------------------------------------------- */

static void test_resolution_fails(void **state)
{
    struct fx *f = *state;
    struct req q = {0};
    uint64_t t0 = f->now;
    assert_int_equal(send_ip(f, NH_IP, 1, &q), UDP_SEND_QUEUED);
    expect_request(f, OUR_IP, NH_IP);
    expect_no_tx(f);
    assert_int_equal(stack_neigh_count(f->st), 1);
    stack_poll(f->st, t0); /* runs the (first) aging sweep too */
    expect_no_tx(f);
    assert_int_equal(neigh_next_timer(f->st, t0), 1 * NS);
    assert_int_equal(neigh_next_timer(f->st, t0 + NS / 4), 3 * NS / 4);

    stack_poll(f->st, t0 + NS - 1);
    expect_no_tx(f);
    stack_poll(f->st, t0 + 1 * NS);
    expect_request(f, OUR_IP, NH_IP);
    expect_no_tx(f);
    stack_poll(f->st, t0 + 1 * NS + NS / 2);
    expect_no_tx(f);
    stack_poll(f->st, t0 + 2 * NS);
    expect_request(f, OUR_IP, NH_IP);
    expect_no_tx(f);
    assert_int_equal(q.calls, 0);
    stack_poll(f->st, t0 + 3 * NS - 1);
    assert_int_equal(q.calls, 0);
    stack_poll(f->st, t0 + 3 * NS);
    expect_no_tx(f); /* no 4th request */
    assert_int_equal(q.calls, 1);
    assert_int_equal(q.err, -EHOSTUNREACH);
    assert_int_equal(C(f, "ArpResolveFailed"), 1);
    assert_int_equal(C(f, "ArpQueueDrops"), 1);
    assert_int_equal(C(f, "ArpOutRequests"), 3);
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    stack_poll(f->st, t0 + 10 * NS);
    assert_int_equal(q.calls, 1);
    expect_no_tx(f);
}

static void test_resolution_succeeds(void **state)
{
    struct fx *f = *state;
    struct req q1 = {0}, q2 = {0}, q3 = {0};
    assert_int_equal(send_ip(f, NH_IP, 1, &q1), UDP_SEND_QUEUED);
    assert_int_equal(send_ip(f, NH_IP, 2, &q2), UDP_SEND_QUEUED);
    assert_int_equal(send_ip(f, NH_IP, 3, NULL), UDP_SEND_QUEUED); /* e.g. an echo reply */
    assert_int_equal(send_ip(f, NH_IP, 4, &q3), UDP_SEND_QUEUED);
    expect_request(f, OUR_IP, NH_IP); /* one request for all four */
    expect_no_tx(f);
    f->now += 1 * NS;
    stack_poll(f->st, f->now);
    expect_request(f, OUR_IP, NH_IP);
    f->now += NS / 2;
    uint8_t b[42];
    arp_frame(b, OUR_MAC, NH_MAC, ARP_OP_REPLY, NH_MAC, NH_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    /* the queue leaves in order, then each send completes once with 0 */
    expect_ip(f, NH_MAC, NH_IP, 1);
    expect_ip(f, NH_MAC, NH_IP, 2);
    expect_ip(f, NH_MAC, NH_IP, 3);
    expect_ip(f, NH_MAC, NH_IP, 4);
    expect_no_tx(f);
    assert_int_equal(q1.calls, 1);
    assert_int_equal(q1.err, 0);
    assert_int_equal(q2.calls, 1);
    assert_int_equal(q2.err, 0);
    assert_int_equal(q3.calls, 1);
    assert_int_equal(q3.err, 0);
    assert_int_equal(C(f, "ArpInReplies"), 1);
    assert_int_equal(C(f, "ArpInIgnored"), 0);
    assert_int_equal(C(f, "ArpQueueDrops"), 0);
    /* resolved: no more requests, the next send goes at once */
    f->now += 5 * NS;
    stack_poll(f->st, f->now);
    expect_no_tx(f);
    struct req q4 = {0};
    assert_int_equal(send_ip(f, NH_IP, 5, &q4), UDP_SEND_DONE);
    expect_ip(f, NH_MAC, NH_IP, 5);
    assert_int_equal(q4.calls, 0);
    assert_int_equal(C(f, "ArpResolveFailed"), 0);
}

static void test_fragment_chain(void **state)
{
    /* A datagram in 3 fragments is handed over as one chain with one req:
     * done() runs once, after the last fragment is written. */
    struct fx *f = *state;
    struct req q = {0};
    q.r.done = req_done;
    struct pkt *head = NULL, **tail = &head;
    for (uint8_t i = 1; i <= 3; i++) {
        struct pkt *p = pkt_alloc(f->st, 32);
        p->len = (uint32_t)ip_udp(pkt_data(p), OUR_IP, NH_IP, i);
        p->req = &q.r;
        *tail = p;
        tail = &p->next;
    }
    assert_int_equal(neigh_output(f->st, head, NH_IP, f->now), UDP_SEND_QUEUED);
    assert_int_equal(atomic_load(&q.r.frames), 3);
    expect_request(f, OUR_IP, NH_IP);
    uint8_t b[42];
    arp_frame(b, OUR_MAC, NH_MAC, ARP_OP_REPLY, NH_MAC, NH_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    expect_ip(f, NH_MAC, NH_IP, 1);
    expect_ip(f, NH_MAC, NH_IP, 2);
    expect_ip(f, NH_MAC, NH_IP, 3);
    assert_int_equal(q.calls, 1);
    assert_int_equal(q.err, 0);
}

static void test_queue_bound(void **state)
{
    struct fx *f = *state;
    static struct req q[65];
    memset(q, 0, sizeof q);
    for (int i = 0; i < 64; i++)
        assert_int_equal(send_ip(f, NH_IP, (uint8_t)i, &q[i]), UDP_SEND_QUEUED);
    /* 65th: the queue is full; refused, done() not called, nothing displaced */
    assert_int_equal(send_ip(f, NH_IP, 64, &q[64]), -ENOBUFS);
    assert_int_equal(q[64].calls, 0);
    assert_int_equal(C(f, "ArpQueueDrops"), 1);
    assert_int_equal(stack_pkts_in_use(f->st), 64);
    expect_request(f, OUR_IP, NH_IP);
    expect_no_tx(f);
    /* the 64 fail together after 3 s */
    for (int s = 1; s <= 3; s++)
        stack_poll(f->st, f->now + (uint64_t)s * NS);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(q[i].calls, 1);
        assert_int_equal(q[i].err, -EHOSTUNREACH);
    }
    assert_int_equal(C(f, "ArpQueueDrops"), 65);
    assert_int_equal(C(f, "ArpResolveFailed"), 1);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    uint8_t out[64];
    while (memdev_pop_tx(f->dev, out, sizeof out) >= 0) {
    }
}

static void test_total_queue_bound(void **state)
{
    /* 1024 packets over all entries (16 neighbours x 64); then refused */
    struct fx *f = *state;
    for (uint32_t n = 0; n < 16; n++)
        for (int i = 0; i < 64; i++)
            assert_int_equal(send_ip(f, 0xC0000220 + n, 0, NULL), UDP_SEND_QUEUED);
    assert_int_equal(send_ip(f, 0xC0000240, 0, NULL), -ENOBUFS);
    assert_int_equal(C(f, "ArpQueueDrops"), 1);
    assert_int_equal(stack_pkts_in_use(f->st), 1024);
    assert_int_equal(C(f, "ArpOutRequests"), 17); /* resolution still started */
    for (int s = 1; s <= 3; s++)
        stack_poll(f->st, f->now + (uint64_t)s * NS);
    assert_int_equal(C(f, "ArpQueueDrops"), 1025);
    assert_int_equal(C(f, "ArpResolveFailed"), 17);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    assert_int_equal(stack_neigh_count(f->st), 0);
    uint8_t out[64];
    while (memdev_pop_tx(f->dev, out, sizeof out) >= 0) {
    }
}

static void test_cache_flood(void **state)
{
    /* J.43: 10000 distinct requesters for our address, interleaved with
     * 10000 requests for someone else.  The cache stays at 256 entries, LRU
     * eviction; only requesters that asked for us were inserted; the static
     * entry survives. */
    struct fx *f = *state;
    struct ip_addr sa = ip4(PEER_IP);
    assert_int_equal(stack_neigh_add_static(f->st, &sa, PEER_MAC), 0);
    uint8_t b[42], out[64];
    for (uint32_t i = 0; i < 10000; i++) {
        uint32_t spa = 0xC6120000u + i; /* 198.18.0.0/15 (RFC 2544), never on a wire */
        uint8_t sha[6] = {0x02, 0x01, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        arp_frame(b, BCAST, sha, ARP_OP_REQUEST, sha, spa, ZERO, OUR_IP);
        inject(f, b, 42);
        assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 42);
        uint32_t spa2 = 0xC6130000u + i;
        arp_frame(b, BCAST, sha, ARP_OP_REQUEST, sha, spa2, ZERO, OTHER_IP);
        inject(f, b, 42);
        assert_true(stack_neigh_count(f->st) <= 256);
    }
    expect_no_tx(f);
    assert_int_equal(stack_neigh_count(f->st), 256);
    assert_int_equal(C(f, "ArpOutReplies"), 10000);
    assert_int_equal(C(f, "ArpInIgnored"), 10000);
    assert_int_equal(C(f, "ArpCacheEvictions"), 10000 - 255);
    /* the static entry and the 255 most recent requesters are there */
    assert_int_equal(send_ip(f, PEER_IP, 1, NULL), UDP_SEND_DONE);
    expect_ip(f, PEER_MAC, PEER_IP, 1);
    assert_int_equal(send_ip(f, 0xC6120000u + 9999, 1, NULL), UDP_SEND_DONE);
    assert_int_equal(send_ip(f, 0xC6120000u + 10000 - 255, 1, NULL), UDP_SEND_DONE);
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 46);
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 46);
    /* an older one was evicted: resolving it again evicts the LRU */
    assert_int_equal(send_ip(f, 0xC6120000u + 10000 - 256, 1, NULL), UDP_SEND_QUEUED);
    assert_int_equal(C(f, "ArpCacheEvictions"), 10000 - 255 + 1);
    assert_int_equal(stack_neigh_count(f->st), 256);
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 42);
    for (int s = 1; s <= 3; s++)
        stack_poll(f->st, f->now + (uint64_t)s * NS);
    while (memdev_pop_tx(f->dev, out, sizeof out) >= 0) {
    }
}

static void test_cache_full_of_waiting(void **state)
{
    /* Every entry has packets waiting: they are not evicted, the new
     * resolution is refused instead. */
    struct fx *f = *state;
    for (uint32_t n = 0; n < 256; n++)
        assert_int_equal(send_ip(f, 0xC6120000u + n, 0, NULL), UDP_SEND_QUEUED);
    assert_int_equal(send_ip(f, 0xC6120000u + 256, 0, NULL), -ENOBUFS);
    assert_int_equal(C(f, "ArpCacheEvictions"), 0);
    assert_int_equal(C(f, "ArpQueueDrops"), 1);
    assert_int_equal(stack_neigh_count(f->st), 256);
    /* a requester for us still gets its reply, without an entry */
    uint8_t b[42];
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    uint8_t out[64];
    while (memdev_pop_tx(f->dev, out, sizeof out) >= 0) {
    }
    inject(f, b, 42);
    assert_int_equal(C(f, "ArpOutReplies"), 1);
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 42);
    for (int s = 1; s <= 3; s++)
        stack_poll(f->st, f->now + (uint64_t)s * NS);
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(C(f, "ArpResolveFailed"), 256);
    while (memdev_pop_tx(f->dev, out, sizeof out) >= 0) {
    }
}

static void test_cancel(void **state)
{
    struct fx *f = *state;
    struct req a = {0}, b2 = {0};
    assert_int_equal(send_ip(f, NH_IP, 1, &a), UDP_SEND_QUEUED);
    assert_int_equal(send_ip(f, NH_IP, 2, &b2), UDP_SEND_QUEUED);
    expect_request(f, OUR_IP, NH_IP);
    assert_int_equal(stack_pkts_in_use(f->st), 2);
    assert_true(tx_req_cancel(f->st, &a.r));
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.err, -ECANCELED);
    assert_int_equal(stack_pkts_in_use(f->st), 1);
    assert_false(tx_req_cancel(f->st, &a.r)); /* already done */
    assert_int_equal(a.calls, 1);
    uint8_t b[42];
    arp_frame(b, OUR_MAC, NH_MAC, ARP_OP_REPLY, NH_MAC, NH_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    expect_ip(f, NH_MAC, NH_IP, 2);
    expect_no_tx(f);
    assert_int_equal(b2.calls, 1);
    assert_int_equal(b2.err, 0);
    assert_false(tx_req_cancel(f->st, &b2.r)); /* too late */
    assert_int_equal(b2.calls, 1);
    assert_int_equal(a.calls, 1);
    assert_int_equal(C(f, "ArpQueueDrops"), 0);
}

static void test_aging(void **state)
{
    struct fx *f = *state;
    uint8_t b[42], out[64];
    arp_frame(b, BCAST, PEER_MAC, ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO, OUR_IP);
    inject(f, b, 42);
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 42);
    /* stale after 30 s: still used as is */
    f->now += 31 * NS;
    stack_poll(f->st, f->now);
    assert_int_equal(send_ip(f, PEER_IP, 1, NULL), UDP_SEND_DONE);
    expect_ip(f, PEER_MAC, PEER_IP, 1);
    assert_int_equal(stack_neigh_count(f->st), 1);
    /* deleted when not confirmed for 10 minutes */
    f->now += 600 * NS;
    stack_poll(f->st, f->now);
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(send_ip(f, PEER_IP, 1, NULL), UDP_SEND_QUEUED);
    expect_request(f, OUR_IP, PEER_IP);
    arp_frame(b, OUR_MAC, PEER_MAC, ARP_OP_REPLY, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
    inject(f, b, 42);
    expect_ip(f, PEER_MAC, PEER_IP, 1);
}

static void test_broadcast_multicast_not_resolved(void **state)
{
    struct fx *f = *state;
    assert_int_equal(send_ip(f, 0xffffffffu, 1, NULL), UDP_SEND_DONE);
    expect_ip(f, BCAST, 0xffffffffu, 1);
    assert_int_equal(send_ip(f, 0xC00002ffu, 2, NULL), UDP_SEND_DONE); /* 192.0.2.255 */
    expect_ip(f, BCAST, 0xC00002ffu, 2);
    const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x7f, 0x00, 0x01};
    assert_int_equal(send_ip(f, 0xEFFF0001u, 3, NULL), UDP_SEND_DONE); /* 239.255.0.1 */
    expect_ip(f, mc, 0xEFFF0001u, 3);
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(C(f, "ArpOutRequests"), 0);
}

static int gone_calls;
static void on_gone(void *ctx)
{
    (void)ctx;
    gone_calls++;
}

static void test_device_gone(void **state)
{
    struct fx *f = *state;
    struct req q = {0};
    gone_calls = 0;
    stack_set_gone_cb(f->st, on_gone, NULL);
    assert_int_equal(send_ip(f, NH_IP, 1, &q), UDP_SEND_QUEUED);
    expect_request(f, OUR_IP, NH_IP);
    memdev_set_gone(f->dev);
    assert_false(stack_dev_gone(f->st));
    assert_int_equal(stack_poll(f->st, f->now), 0);
    assert_true(stack_dev_gone(f->st));
    assert_int_equal(gone_calls, 1);
    assert_int_equal(q.calls, 1);
    assert_int_equal(q.err, -ENODEV);
    assert_int_equal(C(f, "ArpQueueDrops"), 1);
    /* new sends fail at once; the callback is not repeated */
    struct req q2 = {0};
    assert_int_equal(send_ip(f, NH_IP, 2, &q2), -ENODEV);
    assert_int_equal(q2.calls, 0);
    stack_poll(f->st, f->now + 5 * NS);
    assert_int_equal(gone_calls, 1);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
}

static void test_destroy_fails_queued(void **state)
{
    (void)state;
    struct dev *dev = memdev_create("arp1", 1500);
    struct wskstack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.addrs[0].addr = ip4(OUR_IP);
    cfg.addrs[0].plen = 24;
    cfg.n_addrs = 1;
    struct wskstack *st = NULL;
    char err[128];
    assert_int_equal(stack_create_on_dev(&cfg, dev, STACK_NO_THREAD, &st, err, sizeof err), 0);
    /* generated MAC: 02:xx:xx:xx:xx:xx, not the kernel side's */
    uint8_t mac[6];
    wskstack_mac(st, mac);
    assert_int_equal(mac[0], 0x02);
    assert_memory_not_equal(mac, dev->kmac, 6);
    struct req q = {0};
    struct pkt *p = pkt_alloc(st, 32);
    p->len = (uint32_t)ip_udp(pkt_data(p), OUR_IP, NH_IP, 1);
    q.r.done = req_done;
    p->req = &q.r;
    assert_int_equal(neigh_output(st, p, NH_IP, 0), UDP_SEND_QUEUED);
    wskstack_destroy(st);
    assert_int_equal(q.calls, 1);
    assert_int_equal(q.err, -ENODEV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reply_to_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_not_for_us, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsolicited_reply_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_updates_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_not_overwritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_defended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_announce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_succeeds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragment_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_full_of_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_multicast_not_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_gone, setup, teardown),
        cmocka_unit_test(test_destroy_fails_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
