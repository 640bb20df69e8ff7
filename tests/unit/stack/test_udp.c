/* SPDX-License-Identifier: MIT */
/*
 * test_udp.c - stack/udp.c: binding rules and ephemeral ports, input checks
 * (BAD-INPUT I.39-I.41), delivery to the most specific endpoint, refusal by
 * the endpoint, and udp_send (sizes J.45, routes K.50, exact bytes).
 *
 * Every test builds a stack on a memdev (no receive thread, manual clock),
 * injects hand-built frames, and asserts the exact counters and the exact
 * frames the stack wrote.  Topology:
 *
 *     peer 192.0.2.2 (02:00:00:00:00:02) ---- stack 192.0.2.1/24 (02:00:00:00:00:01)
 *                                              gateway 192.0.2.254
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fx4.h"

/* An endpoint bound to a specific address (NULL = wildcard) with flags. */
static int tep_bind_at(struct fx *f, struct tep_box **out, uint32_t addr, uint16_t port,
                       uint32_t flags)
{
    struct tep_box *b = calloc(1, sizeof(*b));
    b->ep.ops = &tep_ops;
    b->ep.flags = UDP_EP_V4 | flags;
    b->st = f->st;
    struct ip_addr a = addr ? ip4(addr) : (struct ip_addr){.af = IPA_NONE};
    int r = udp_bind(f->st, &b->ep, &a, port);
    if (r < 0) {
        free(b);
        b = NULL;
    }
    *out = b;
    return r;
}

/* UDP frame from the peer with a hand-made UDP part. */
static size_t mk_raw_udp_frame(uint8_t *fr, const uint8_t ethdst[6], uint32_t src, uint32_t dst,
                               const uint8_t *udp, size_t len)
{
    size_t n = mk_eth(fr, ethdst, peer_mac);
    return n + mk_ip(fr + n, src, dst, IP_PROTO_UDP, 64, 0, NULL, 0, udp, len);
}

/* ---- binding ------------------------------------------------------------------------- */
static void test_udp_specific_over_wildcard(void **state)
{
    (void)state;
    struct fx *f = fx_new("addr=192.0.2.1/24;addr=192.0.2.3/24;mac=02:00:00:00:00:01", 1500);
    struct tep_box *wild, *spec;
    assert_int_equal(tep_bind_at(f, &spec, OUR_IP, 7777, 0), 0);
    assert_int_equal(tep_bind_at(f, &wild, 0, 7777, 0), 0);   /* bound after: still loses */
    uint8_t fr[256];
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "to .1"));
    assert_int_equal(spec->calls, 1);
    assert_int_equal(wild->calls, 0);
    assert_int_equal(spec->info.dst.v4, OUR_IP);
    assert_int_equal(spec->info.src.v4, PEER_IP);
    assert_int_equal(spec->info.sport, 5555);
    assert_int_equal(spec->info.dport, 7777);
    assert_int_equal(spec->info.ifindex, stack_ifindex(f->st));
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, 0xC0000203u, 64, "to .3"));
    assert_int_equal(spec->calls, 1);
    assert_int_equal(wild->calls, 1);
    assert_int_equal(wild->info.dst.v4, 0xC0000203u);
    assert_memory_equal(wild->data, "to .3", 5);
    assert_int_equal(CNT(f->st, UdpInDatagrams), 2);
    tep_free(f, spec);
    /* unbound: the wildcard gets it now */
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "again"));
    assert_int_equal(wild->calls, 2);
    tep_free(f, wild);
    fx_free(f);
}

static void test_udp_addrinuse(void **state)
{
    struct fx *f = *state;
    struct tep_box *a, *b, *c;
    assert_int_equal(tep_bind_at(f, &a, 0, 7000, 0), 0);
    assert_int_equal(tep_bind_at(f, &b, 0, 7000, 0), -EADDRINUSE);          /* wild + wild */
    assert_int_equal(tep_bind_at(f, &b, OUR_IP, 7000, 0), 0);               /* specific + wild */
    assert_int_equal(tep_bind_at(f, &c, OUR_IP, 7000, 0), -EADDRINUSE);     /* same specific */
    assert_int_equal(tep_bind_at(f, &c, 0, 7000, UDP_EP_REUSEADDR), -EADDRINUSE); /* one side only */
    /* already bound */
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(f->st, &a->ep, &any, 7001), -EINVAL);
    tep_free(f, a);
    tep_free(f, b);

    /* SO_EXCLUSIVEADDRUSE: no sharing, in either order */
    assert_int_equal(tep_bind_at(f, &a, 0, 7002, UDP_EP_EXCLUSIVE), 0);
    assert_int_equal(tep_bind_at(f, &b, OUR_IP, 7002, 0), -EADDRINUSE);
    assert_int_equal(tep_bind_at(f, &b, 0, 7002, UDP_EP_REUSEADDR), -EADDRINUSE);
    tep_free(f, a);
    assert_int_equal(tep_bind_at(f, &a, OUR_IP, 7003, 0), 0);
    assert_int_equal(tep_bind_at(f, &b, 0, 7003, UDP_EP_EXCLUSIVE), -EADDRINUSE);
    tep_free(f, a);
}

static void test_udp_reuseaddr(void **state)
{
    struct fx *f = *state;
    struct tep_box *a, *b, *c, *d;
    assert_int_equal(tep_bind_at(f, &a, 0, 7100, UDP_EP_REUSEADDR), 0);
    assert_int_equal(tep_bind_at(f, &b, 0, 7100, UDP_EP_REUSEADDR), 0);
    assert_int_equal(tep_bind_at(f, &c, OUR_IP, 7100, UDP_EP_REUSEADDR), 0);
    assert_int_equal(tep_bind_at(f, &d, OUR_IP, 7100, UDP_EP_REUSEADDR), 0);
    struct tep_box *e;
    assert_int_equal(tep_bind_at(f, &e, 0, 7100, 0), -EADDRINUSE);
    tep_free(f, a);
    tep_free(f, b);
    tep_free(f, c);
    tep_free(f, d);
}

static void test_udp_ephemeral(void **state)
{
    struct fx *f = *state;
    enum { N = 300 };
    struct tep_box *eps[N];
    static uint8_t seen[65536];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < N; i++) {
        assert_int_equal(tep_bind_at(f, &eps[i], 0, 0, 0), 0);
        uint16_t p = eps[i]->ep.lport;
        assert_true(p >= 49152);
        assert_false(seen[p]);
        seen[p] = 1;
    }
    for (int i = 0; i < N; i++)
        tep_free(f, eps[i]);
}

static void test_udp_addrnotavail(void **state)
{
    struct fx *f = *state;
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0xC0000263u, 7200, 0), -EADDRNOTAVAIL);
    assert_int_equal(tep_bind_at(f, &a, 0xC00002FFu, 7200, 0), -EADDRNOTAVAIL);
    assert_int_equal(tep_bind_at(f, &a, 0, 7200, 0), 0);
    struct iovec iov = {.iov_base = "x", .iov_len = 1};
    struct udp_send_args sa = {.dst = ip4(PEER_IP), .dport = 9, .src = ip4(0xC0000263u),
                               .ttl = -1, .tos = -1, .iov = &iov, .iovcnt = 1, .len = 1};
    assert_int_equal(udp_send(f->st, &a->ep, &sa), -EADDRNOTAVAIL);
    sa.src = ip4(OUR_IP);
    sa.ifindex = stack_ifindex(f->st) + 1;
    assert_int_equal(udp_send(f->st, &a->ep, &sa), -ENXIO);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, UdpOutDatagrams), 0);
    tep_free(f, a);
}

/* ---- input: I.39 - I.41 ------------------------------------------------------------------ */
static void test_udp_lengths(void **state)
{
    struct fx *f = *state;
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0, 7777, 0), 0);
    uint8_t fr[256], u[64];

    /* UDP length 7 */
    mk_udp(u, PEER_IP, OUR_IP, 5555, 7777, "abcd", 4);
    put_be16(u + 4, 7);
    put_be16(u + 6, 0);
    inject(f, fr, mk_raw_udp_frame(fr, our_mac, PEER_IP, OUR_IP, u, 12));
    assert_int_equal(CNT(f->st, UdpInErrors), 1);

    /* UDP length beyond the IP payload */
    mk_udp(u, PEER_IP, OUR_IP, 5555, 7777, "abcd", 4);
    put_be16(u + 4, 13);
    put_be16(u + 6, 0);
    inject(f, fr, mk_raw_udp_frame(fr, our_mac, PEER_IP, OUR_IP, u, 12));
    assert_int_equal(CNT(f->st, UdpInErrors), 2);

    /* IP payload shorter than a UDP header */
    inject(f, fr, mk_raw_udp_frame(fr, our_mac, PEER_IP, OUR_IP, u, 5));
    assert_int_equal(CNT(f->st, UdpInErrors), 3);
    assert_int_equal(a->calls, 0);

    /* UDP length shorter than the IP payload: the tail is ignored (the
     * checksum covers the UDP length only) */
    mk_udp(u, PEER_IP, OUR_IP, 5555, 7777, "abcd", 4);
    memcpy(u + 12, "TAIL", 4);
    inject(f, fr, mk_raw_udp_frame(fr, our_mac, PEER_IP, OUR_IP, u, 16));
    assert_int_equal(a->calls, 1);
    assert_int_equal(a->len, 4);
    assert_memory_equal(a->data, "abcd", 4);
    assert_int_equal(CNT(f->st, UdpInErrors), 3);
    assert_int_equal(CNT(f->st, UdpInDatagrams), 1);
    assert_int_equal(CNT(f->st, IpInDelivers), 4);
    tep_free(f, a);
}

static void test_udp_checksum(void **state)
{
    struct fx *f = *state;
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0, 7777, 0), 0);
    uint8_t fr[256], u[64];

    mk_udp(u, PEER_IP, OUR_IP, 5555, 7777, "abcd", 4);
    u[11] ^= 0x20;                                       /* payload changed: bad sum */
    inject(f, fr, mk_raw_udp_frame(fr, our_mac, PEER_IP, OUR_IP, u, 12));
    assert_int_equal(CNT(f->st, UdpInCsumErrors), 1);
    assert_int_equal(CNT(f->st, UdpInErrors), 1);
    assert_int_equal(a->calls, 0);

    mk_udp(u, PEER_IP, OUR_IP, 5555, 7777, "abcd", 4);
    put_be16(u + 6, 0);                                  /* zero: no checksum, accepted */
    u[11] ^= 0x20;
    inject(f, fr, mk_raw_udp_frame(fr, our_mac, PEER_IP, OUR_IP, u, 12));
    assert_int_equal(a->calls, 1);
    assert_memory_equal(a->data, "abcD", 4);
    assert_int_equal(CNT(f->st, UdpInCsumErrors), 1);
    assert_int_equal(CNT(f->st, UdpInErrors), 1);
    assert_int_equal(CNT(f->st, UdpInDatagrams), 1);
    tep_free(f, a);
}

static void test_udp_bad_source_and_no_port(void **state)
{
    struct fx *f = *state;
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0, 7777, 0), 0);
    uint8_t fr[256], out[256];

    inject(f, fr, mk_udp_frame(fr, our_mac, 0xC00002FFu, OUR_IP, 64, "x"));   /* bcast source */
    inject(f, fr, mk_udp_frame(fr, our_mac, 0xE0000001u, OUR_IP, 64, "x"));   /* mcast source */
    assert_int_equal(CNT(f->st, UdpInErrors), 2);
    assert_int_equal(a->calls, 0);

    uint8_t u[64];
    size_t ul = mk_udp(u, PEER_IP, OUR_IP, 5555, 7778, "x", 1);               /* closed port */
    inject(f, fr, mk_raw_udp_frame(fr, our_mac, PEER_IP, OUR_IP, u, ul));
    assert_int_equal(CNT(f->st, UdpNoPorts), 1);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 20 + 8 + 20 + 9);           /* port unreachable */
    assert_int_equal(out[34], ICMP_DEST_UNREACH);
    assert_int_equal(out[35], ICMP_UNREACH_PORT);

    ul = mk_udp(u, PEER_IP, 0xC00002FFu, 5555, 7778, "x", 1);                 /* closed, bcast */
    inject(f, fr, mk_raw_udp_frame(fr, bcast_mac, PEER_IP, 0xC00002FFu, u, ul));
    assert_int_equal(CNT(f->st, UdpIgnoredMulti), 1);
    assert_int_equal(CNT(f->st, UdpNoPorts), 1);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    tep_free(f, a);
}

static int rx_ret;
static int refuse_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    (void)ep; (void)p; (void)info;
    return rx_ret;           /* the stack frees p */
}
static const struct udp_ep_ops refuse_ops = {.rx = refuse_rx};

static void test_udp_rx_refused(void **state)
{
    struct fx *f = *state;
    struct udp_ep ep = {.ops = &refuse_ops, .flags = UDP_EP_V4};
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(f->st, &ep, &any, 7777), 0);
    uint8_t fr[256];
    rx_ret = -ENOBUFS;
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "full"));
    assert_int_equal(CNT(f->st, UdpRcvbufErrors), 1);
    assert_int_equal(CNT(f->st, UdpInErrors), 1);
    rx_ret = -EIO;
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "err"));
    assert_int_equal(CNT(f->st, UdpRcvbufErrors), 1);
    assert_int_equal(CNT(f->st, UdpInErrors), 2);
    assert_int_equal(CNT(f->st, UdpInDatagrams), 0);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    udp_unbind(f->st, &ep);
}

/* The callback unbinds its own endpoint (and sends a reply): no deadlock. */
struct self_box { struct udp_ep ep; struct wskstack *st; int calls; };
static int self_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    struct self_box *b = (struct self_box *)ep;
    b->calls++;
    struct iovec iov = {.iov_base = pkt_data(p), .iov_len = p->len};
    struct udp_send_args sa = {.dst = info->src, .dport = info->sport, .ttl = -1, .tos = -1,
                               .iov = &iov, .iovcnt = 1, .len = p->len};
    assert_int_equal(udp_send(b->st, ep, &sa), UDP_SEND_DONE);
    udp_unbind(b->st, ep);
    pkt_free(b->st, p);
    return 0;
}
static const struct udp_ep_ops self_ops = {.rx = self_rx};

static void test_udp_unbind_from_callback(void **state)
{
    struct fx *f = *state;
    struct self_box b = {.ep = {.ops = &self_ops, .flags = UDP_EP_V4}, .st = f->st};
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(f->st, &b.ep, &any, 7777), 0);
    uint8_t fr[256], out[256];
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "echo"));
    assert_int_equal(b.calls, 1);
    assert_false(b.ep.bound);
    assert_int_equal(atomic_load(&b.ep.active), 0);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 20 + 8 + 4);    /* the echo */
    assert_int_equal(be16(out + 34), 7777);
    assert_int_equal(be16(out + 36), 5555);
    /* unbound: the next one is a closed port */
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "echo"));
    assert_int_equal(b.calls, 1);
    assert_int_equal(CNT(f->st, UdpNoPorts), 1);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 20 + 8 + 20 + 12);
}


/* udp_unbind from another thread waits for a callback in progress on the
 * receive thread (stack.h): a real receive thread here. */
struct slow_box { struct udp_ep ep; struct wskstack *st; atomic_int in, done; };
static int slow_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    (void)info;
    struct slow_box *b = (struct slow_box *)ep;
    atomic_store(&b->in, 1);
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&b->done, 1);
    pkt_free(b->st, p);
    return 0;
}
static const struct udp_ep_ops slow_ops = {.rx = slow_rx};

static void test_udp_unbind_waits_for_callback(void **state)
{
    (void)state;
    char err[256];
    struct wskstack_config *cfg = wskstack_config_new();
    assert_int_equal(wskstack_config_parse(cfg, "addr=192.0.2.1/24;mac=02:00:00:00:00:01", err,
                                           sizeof(err)), 0);
    struct dev *dev = memdev_create("t1", 1500);
    struct wskstack *st;
    assert_int_equal(stack_create_on_dev(cfg, dev, 0, &st, err, sizeof(err)), 0);
    wskstack_config_free(cfg);
    struct slow_box b = {.ep = {.ops = &slow_ops, .flags = UDP_EP_V4}, .st = st};
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(st, &b.ep, &any, 7777), 0);
    uint8_t fr[256];
    assert_int_equal(memdev_inject(dev, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "slow")), 0);
    for (int i = 0; i < 5000 && !atomic_load(&b.in); i++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(atomic_load(&b.in), 1);
    udp_unbind(st, &b.ep);
    assert_int_equal(atomic_load(&b.done), 1);      /* the callback had returned */
    assert_int_equal(atomic_load(&b.ep.active), 0);
    wskstack_destroy(st);
}

/* ---- send ------------------------------------------------------------------------------- */
static void test_udp_send_exact(void **state)
{
    struct fx *f = *state;
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0, 4000, 0), 0);
    struct iovec iov[3] = {{"wsk", 3}, {"", 0}, {"stack", 5}};
    struct udp_send_args sa = {.dst = ip4(PEER_IP), .dport = 9, .ttl = -1, .tos = -1,
                               .iov = iov, .iovcnt = 3, .len = 8};
    f->st->ip_id = 0x0100;
    assert_int_equal(udp_send(f->st, &a->ep, &sa), UDP_SEND_DONE);
    static const uint8_t want[14 + 36] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x24, 0x01, 0x00, 0x00, 0x00, 0x40, 0x11, 0xf5, 0xc5,
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
        0x0f, 0xa0, 0x00, 0x09, 0x00, 0x10, 0xb1, 0x6d,
        'w', 's', 'k', 's', 't', 'a', 'c', 'k',
    };
    uint8_t out[128];
    assert_int_equal(pop(f, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));

    /* 0 bytes: an 8-byte UDP datagram */
    sa.iovcnt = 0;
    sa.iov = NULL;
    sa.len = 0;
    f->st->ip_id = 0x0100;
    assert_int_equal(udp_send(f->st, &a->ep, &sa), UDP_SEND_DONE);
    static const uint8_t want0[14 + 28] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x1c, 0x01, 0x00, 0x00, 0x00, 0x40, 0x11, 0xf5, 0xcd,
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
        0x0f, 0xa0, 0x00, 0x09, 0x00, 0x08, 0x6c, 0x31,
    };
    assert_int_equal(pop(f, out, sizeof(out)), sizeof(want0));
    assert_memory_equal(out, want0, sizeof(want0));
    assert_int_equal(CNT(f->st, UdpOutDatagrams), 2);
    assert_int_equal(CNT(f->st, IpOutRequests), 2);

    /* not bound */
    struct udp_ep nb = {.ops = &tep_ops, .flags = UDP_EP_V4};
    assert_int_equal(udp_send(f->st, &nb, &sa), -EINVAL);
    tep_free(f, a);
}

static void test_udp_send_max_size(void **state)
{
    struct fx *f = *state;
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0, 4000, 0), 0);
    static uint8_t big[65508];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    struct iovec iov = {big, sizeof(big)};
    struct udp_send_args sa = {.dst = ip4(PEER_IP), .dport = 9, .ttl = -1, .tos = -1,
                               .iov = &iov, .iovcnt = 1, .len = 65508};
    assert_int_equal(udp_send(f->st, &a->ep, &sa), -EMSGSIZE);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, UdpOutDatagrams), 0);

    sa.len = 65507;
    iov.iov_len = 65507;
    assert_int_equal(udp_send(f->st, &a->ep, &sa), UDP_SEND_DONE);
    /* 65515 bytes of IP payload in 1480-byte pieces: 44 full + 395 */
    assert_int_equal(memdev_tx_pending(f->dev), 45);
    static uint8_t re[65515];
    uint8_t out[1600];
    size_t got = 0;
    for (int i = 0; i < 45; i++) {
        long m = pop(f, out, sizeof(out));
        struct ipv4_repr r;
        assert_int_equal(ipv4_parse(out + 14, (size_t)m - 14, &r, true), WIRE_OK);
        assert_int_equal(r.frag_off, i * 1480);
        assert_int_equal(r.mf, i < 44);
        assert_int_equal(r.total_len, i < 44 ? 1500 : 20 + 395);
        memcpy(re + r.frag_off, out + 34, r.total_len - 20u);
        got += r.total_len - 20u;
    }
    assert_int_equal(got, 65515);
    assert_int_equal(be16(re + 4), 65515);
    assert_true(udp_csum_ok_v4(re, 65515, OUR_IP, PEER_IP));
    assert_memory_equal(re + 8, big, 65507);
    assert_int_equal(CNT(f->st, UdpOutDatagrams), 1);
    assert_int_equal(CNT(f->st, IpFragCreates), 45);

    /* DF and larger than the MTU */
    sa.df = true;
    sa.len = 1473;
    iov.iov_len = 1473;
    assert_int_equal(udp_send(f->st, &a->ep, &sa), -EMSGSIZE);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, IpFragFails), 1);
    sa.len = 1472;                                        /* exactly fits */
    assert_int_equal(udp_send(f->st, &a->ep, &sa), UDP_SEND_DONE);
    assert_int_equal(pop(f, out, sizeof(out)), 1514);
    tep_free(f, a);
}


/* A fragmented send to a neighbour not yet resolved: queued as a whole,
 * one ARP request, then all fragments when the reply arrives, and done()
 * exactly once. */
struct done_rec { struct tx_req req; int calls, err; };
static void rec_done(struct tx_req *r, int err)
{
    struct done_rec *d = (struct done_rec *)r;
    d->calls++;
    d->err = err;
}

static void test_udp_send_queued_fragments(void **state)
{
    struct fx *f = *state;
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0, 4000, 0), 0);
    static uint8_t data[3000];
    memset(data, 0x33, sizeof(data));
    struct iovec iov = {data, sizeof(data)};
    struct done_rec d = {.req = {.done = rec_done}};
    struct udp_send_args sa = {.dst = ip4(0xC0000232u), .dport = 9, .ttl = -1, .tos = -1,
                               .iov = &iov, .iovcnt = 1, .len = sizeof(data), .req = &d.req};
    assert_int_equal(udp_send(f->st, &a->ep, &sa), UDP_SEND_QUEUED);
    uint8_t out[1600];
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 28);           /* the ARP request */
    assert_int_equal(be16(out + 12), ETHERTYPE_ARP);
    assert_int_equal(d.calls, 0);

    const uint8_t m50[6] = {0x02, 0, 0, 0, 0, 0x50};
    struct arp_repr ar = {.op = ARP_OP_REPLY, .spa = 0xC0000232u, .tpa = OUR_IP};
    memcpy(ar.sha, m50, 6);
    memcpy(ar.tha, our_mac, 6);
    uint8_t fr[64] = {0};
    memcpy(fr, our_mac, 6);
    memcpy(fr + 6, m50, 6);
    put_be16(fr + 12, ETHERTYPE_ARP);
    arp_emit(&ar, fr + 14);
    inject(f, fr, 60);
    assert_int_equal(memdev_tx_pending(f->dev), 3);
    for (int i = 0; i < 3; i++) {
        long m = pop(f, out, sizeof(out));
        assert_int_equal(m, i < 2 ? 1514 : 14 + 20 + 48);
        assert_memory_equal(out, m50, 6);
    }
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.err, 0);
    tep_free(f, a);
}

static void test_udp_send_no_route(void **state)
{
    (void)state;
    struct fx *f = fx_new("addr=192.0.2.1/24;mac=02:00:00:00:00:01", 1500);
    struct tep_box *a;
    assert_int_equal(tep_bind_at(f, &a, 0, 4000, 0), 0);
    struct iovec iov = {"x", 1};
    struct udp_send_args sa = {.dst = ip4(0xCB007101u), .dport = 9, .ttl = -1, .tos = -1,
                               .iov = &iov, .iovcnt = 1, .len = 1};
    assert_int_equal(udp_send(f->st, &a->ep, &sa), -ENETUNREACH);
    assert_int_equal(CNT(f->st, IpOutNoRoutes), 1);
    sa.src = ip4(OUR_IP);                                 /* source given: IP finds no route */
    assert_int_equal(udp_send(f->st, &a->ep, &sa), -ENETUNREACH);
    assert_int_equal(CNT(f->st, IpOutNoRoutes), 2);
    assert_int_equal(CNT(f->st, IpOutRequests), 0);
    assert_int_equal(CNT(f->st, UdpOutDatagrams), 0);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    tep_free(f, a);
    fx_free(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_specific_over_wildcard),
        T(test_udp_addrinuse),
        T(test_udp_reuseaddr),
        T(test_udp_ephemeral),
        T(test_udp_addrnotavail),
        T(test_udp_lengths),
        T(test_udp_checksum),
        T(test_udp_bad_source_and_no_port),
        T(test_udp_rx_refused),
        T(test_udp_unbind_from_callback),
        cmocka_unit_test(test_udp_unbind_waits_for_callback),
        T(test_udp_send_exact),
        T(test_udp_send_max_size),
        T(test_udp_send_queued_fragments),
        cmocka_unit_test(test_udp_send_no_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
