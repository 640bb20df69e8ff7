/* SPDX-License-Identifier: MIT */
/*
 * fx4.h - the IPv4 fixture shared by test_ipv4.c, test_udp.c and
 * test_icmp.c (one copy): a stack on a memdev (no receive thread, manual
 * clock) with static neighbours for the peer and the gateway, frame
 * builders and a test UDP endpoint.  Topology:
 *
 *     peer 192.0.2.2 (02:00:00:00:00:02) ---- stack 192.0.2.1/24 (02:00:00:00:00:01)
 *                                              gateway 192.0.2.254
 *
 * With FX4_NODES defined before the include it gives instead the pieces
 * shared by test_stack_thread.c and test_stack_two.c, where the test is the
 * wire between two stacks: a node (a stack on its own memdev) and a bare
 * UDP/IPv4 datagram to send from one.
 *
 * Include after cmocka.h.  Everything is static: each test program uses
 * what it needs (unused helpers are marked so).
 */
#ifndef WSS_TEST_FX4_H
#define WSS_TEST_FX4_H

#include <stdlib.h>
#include <string.h>

#include "stack/stack_impl.h"

#define FX4_UNUSED __attribute__((unused))

#ifndef FX4_NODES

/* ---- fixture ------------------------------------------------------------------ */
#define OUR_IP 0xC0000201u    /* 192.0.2.1 */
#define PEER_IP 0xC0000202u   /* 192.0.2.2 */
#define GW_IP 0xC00002FEu     /* 192.0.2.254 */
static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct fx {
    struct wskstack *st;
    struct dev *dev;
    uint64_t now;
};
static uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }
#define CNT(st, n) atomic_load(&(st)->cnt[CNT_##n])

static FX4_UNUSED struct fx *fx_new(const char *cfgtext, uint32_t mtu)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[256];
    struct wskstack_config *cfg = wskstack_config_new();
    assert_non_null(cfg);
    assert_int_equal(wskstack_config_parse(cfg, cfgtext, err, sizeof(err)), 0);
    f->dev = memdev_create("t0", mtu);
    assert_non_null(f->dev);
    assert_int_equal(stack_create_on_dev(cfg, f->dev, STACK_NO_THREAD, &f->st, err, sizeof(err)), 0);
    wskstack_config_free(cfg);
    f->now = 1000000000ull;
    stack_set_clock(f->st, fx_clock, f);
    uint8_t junk[2048];
    while (memdev_pop_tx(f->dev, junk, sizeof(junk)) >= 0)
        ;
    struct ip_addr a = ip4(PEER_IP);
    assert_int_equal(stack_neigh_add_static(f->st, &a, peer_mac), 0);
    a = ip4(GW_IP);
    assert_int_equal(stack_neigh_add_static(f->st, &a, gw_mac), 0);
    return f;
}

static FX4_UNUSED void fx_free(struct fx *f)
{
    assert_int_equal(memdev_tx_pending(f->dev), 0);   /* every frame was checked */
    assert_int_equal(stack_pkts_in_use(f->st), 0);     /* no leak */
    wskstack_destroy(f->st);
    free(f);
}

static FX4_UNUSED int setup(void **state)
{
    *state = fx_new("addr=192.0.2.1/24;mac=02:00:00:00:00:01;gateway=192.0.2.254", 1500);
    return 0;
}
static FX4_UNUSED int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

/* ---- frame builders ---------------------------------------------------------------- */
static FX4_UNUSED size_t mk_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6])
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    return 14;
}

/* IPv4 header (+ options) + payload at f; flags_frag is the raw 16-bit field. */
static FX4_UNUSED size_t mk_ip(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto,
                               uint8_t ttl, uint16_t flags_frag, const uint8_t *opt,
                               size_t optlen, const void *pl, size_t plen)
{
    size_t hl = 20 + optlen;
    f[0] = (uint8_t)(0x40 | (hl / 4));
    f[1] = 0;
    put_be16(f + 2, (uint16_t)(hl + plen));
    put_be16(f + 4, 0x4242);
    put_be16(f + 6, flags_frag);
    f[8] = ttl;
    f[9] = proto;
    put_be16(f + 10, 0);
    put_be32(f + 12, src);
    put_be32(f + 16, dst);
    if (optlen)
        memcpy(f + 20, opt, optlen);
    put_be16(f + 10, csum_fold(csum_partial(f, hl, 0)));
    if (plen)
        memcpy(f + hl, pl, plen);
    return hl + plen;
}

/* UDP header + payload at f with a correct checksum. */
static FX4_UNUSED size_t mk_udp(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport,
                                uint16_t dport, const void *pl, size_t plen)
{
    if (plen)
        memcpy(f + 8, pl, plen);
    udp_emit_v4(f, sport, dport, (uint16_t)plen, src, dst);
    return 8 + plen;
}

/* A whole frame: Ethernet to our MAC + IPv4 + a UDP datagram to port 7777. */
static FX4_UNUSED size_t mk_udp_frame(uint8_t *fr, const uint8_t ethdst[6], uint32_t src,
                                      uint32_t dst, uint8_t ttl, const char *msg)
{
    uint8_t udp[256];
    size_t ul = mk_udp(udp, src, dst, 5555, 7777, msg, strlen(msg));
    size_t n = mk_eth(fr, ethdst, peer_mac);
    return n + mk_ip(fr + n, src, dst, IP_PROTO_UDP, ttl, 0, NULL, 0, udp, ul);
}

static FX4_UNUSED void inject(struct fx *f, const uint8_t *fr, size_t len)
{
    assert_int_equal(memdev_inject(f->dev, fr, len), 0);
    assert_int_equal(stack_poll(f->st, f->now), 1);
}

/* ---- a test endpoint --------------------------------------------------------------- */
struct tep_box {
    struct udp_ep ep;            /* first: the callback casts back */
    struct wskstack *st;
    int calls;
    uint8_t data[4096];
    size_t len;
    struct udp_rx_info info;
};
static FX4_UNUSED int tep_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    struct tep_box *t = (struct tep_box *)ep;
    struct wskstack *st = t->st;
    t->calls++;
    t->len = p->len < sizeof(t->data) ? p->len : sizeof(t->data);
    memcpy(t->data, pkt_data(p), t->len);
    t->info = *info;
    pkt_free(st, p);
    return 0;
}
static FX4_UNUSED const struct udp_ep_ops tep_ops = {.rx = tep_rx};

static FX4_UNUSED void tep_free(struct fx *f, struct tep_box *b)
{
    udp_unbind(f->st, &b->ep);
    free(b);
}

static FX4_UNUSED long pop(struct fx *f, uint8_t *buf, size_t cap)
{
    return memdev_pop_tx(f->dev, buf, cap);
}

#else /* FX4_NODES */

/* ---- two stacks the test wires together ----------------------------------------- */
struct node {
    struct wskstack *st;
    struct dev *dev;
};

/* A stack on a new memdev `name` (MTU 1500): mac, ip/24, stack flags. */
static FX4_UNUSED void fx4_node_new(struct node *n, const char *name, uint32_t ip,
                                    const uint8_t mac[6], unsigned flags)
{
    struct wskstack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.has_mac = true;
    memcpy(cfg.mac, mac, 6);
    cfg.addrs[0].addr = ip4(ip);
    cfg.addrs[0].plen = 24;
    cfg.n_addrs = 1;
    n->dev = memdev_create(name, 1500);
    assert_non_null(n->dev);
    char err[128];
    assert_int_equal(stack_create_on_dev(&cfg, n->dev, flags, &n->st, err, sizeof err), 0);
}

/* A 28-byte UDP/IPv4 datagram src:1234 -> dst:9 (no payload, no checksum)
 * from n's stack, ready for neigh_output; with req, done reports it. */
static FX4_UNUSED struct pkt *fx4_udp28(struct node *n, uint32_t src, uint32_t dst,
                                        struct tx_req *req, void (*done)(struct tx_req *, int))
{
    struct pkt *p = pkt_alloc(n->st, 28);
    uint8_t *b = pkt_data(p);
    memset(b, 0, 28);
    struct ipv4_repr ip = {.src = src, .dst = dst, .proto = IP_PROTO_UDP, .ttl = 64,
                           .hdr_len = 20, .total_len = 28, .id = 1};
    ipv4_emit(&ip, b);
    put_be16(b + 20, 1234);
    put_be16(b + 22, 9);
    put_be16(b + 24, 8);
    p->len = 28;
    if (req) {
        req->done = done;
        p->req = req;
    }
    return p;
}

#endif /* FX4_NODES */

#endif /* WSS_TEST_FX4_H */
