/* SPDX-License-Identifier: MIT */
/*
 * fx6.h - the IPv6 fixture shared by test_ipv6.c, test_icmpv6.c,
 * test_udp6.c and test_ipv6_frag.c (one copy): a stack on a memdev (no
 * receive thread, manual clock) whose addresses have finished DAD, a static
 * neighbour for the peer, frame builders and a test UDP endpoint.
 * Topology (documentation addresses, RFC 3849):
 *
 *   peer 2001:db8::2 / 192.0.2.2        stack 2001:db8::1/64, 192.0.2.1/24
 *        02:00:00:00:00:02      ------       fe80::ff:fe00:1 (EUI-64)
 *                                            02:00:00:00:00:01
 *
 * Include after cmocka.h.  Everything is static: each test program uses
 * what it needs (unused helpers are marked so).
 */
#ifndef WSS_TEST_FX6_H
#define WSS_TEST_FX6_H

#include <stdlib.h>
#include <string.h>

#include "stack/ipv6_impl.h"
#include "stack/reasm.h"

#define FX6_UNUSED __attribute__((unused))
#define SEC 1000000000ull
#define CNT(st, n) atomic_load(&(st)->cnt[CNT_##n])

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t allnodes_mac[6] = {0x33, 0x33, 0, 0, 0, 0x01};
static const uint8_t OUR6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
static const uint8_t PEER6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x02};
static const uint8_t OTHER6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x99}; /* not ours */
static const uint8_t OUR_LL[16] = {0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 0x01};
static const uint8_t ALLNODES[16] = {0xff, 0x02, [15] = 0x01};
#define PEER4 0xC0000202u

struct fx {
    struct wskstack *st;
    struct dev *dev;
    uint64_t now;
};
static uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }

static FX6_UNUSED void fx_drain(struct fx *f)
{
    uint8_t junk[2048];
    while (memdev_pop_tx(f->dev, junk, sizeof(junk)) >= 0)
        ;
}

/* A stack whose IPv6 addresses are PREFERRED: DAD without the random delay
 * (addr6_set_seed 0), one RetransTimer later, every probe/RS thrown away. */
static FX6_UNUSED struct fx *fx_new(const char *cfgtext, uint32_t mtu)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[256];
    struct wskstack_config *cfg = wskstack_config_new();
    assert_non_null(cfg);
    assert_int_equal(wskstack_config_parse(cfg, cfgtext, err, sizeof(err)), 0);
    f->dev = memdev_create("t6", mtu);
    assert_non_null(f->dev);
    assert_int_equal(stack_create_on_dev(cfg, f->dev, STACK_NO_THREAD, &f->st, err, sizeof(err)), 0);
    wskstack_config_free(cfg);
    f->now = 1000 * SEC;
    stack_set_clock(f->st, fx_clock, f);
    addr6_set_seed(f->st, 0);
    addr6_start(f->st, f->now);
    f->now += 2 * SEC;
    stack_poll(f->st, f->now);
    assert_true(addr6_is_local(f->st, OUR6, true));
    assert_true(addr6_is_local(f->st, OUR_LL, true));
    fx_drain(f);
    struct ip_addr a = {.af = IPA_V6};
    memcpy(a.v6, PEER6, 16);
    assert_int_equal(stack_neigh_add_static(f->st, &a, peer_mac), 0);
    a = ip4(PEER4);
    assert_int_equal(stack_neigh_add_static(f->st, &a, peer_mac), 0);
    /* start every test from zero counters */
    for (unsigned i = 0; i < CNT__COUNT; i++)
        atomic_store(&f->st->cnt[i], 0);
    return f;
}

static FX6_UNUSED void fx_free(struct fx *f)
{
    assert_int_equal(memdev_tx_pending(f->dev), 0);   /* every frame was checked */
    assert_int_equal(stack_pkts_in_use(f->st), 0);     /* no leak */
    wskstack_destroy(f->st);
    free(f);
}

#define FX6_CFG "addr=2001:db8::1/64;addr=192.0.2.1/24;mac=02:00:00:00:00:01"

static FX6_UNUSED int setup(void **state)
{
    *state = fx_new(FX6_CFG, 1500);
    return 0;
}
static FX6_UNUSED int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

/* ---- frame builders ----------------------------------------------------------- */

static FX6_UNUSED size_t mk_eth6(uint8_t *f, const uint8_t dst[6], const uint8_t src[6])
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    return 14;
}

/* IPv6 header + payload (Payload Length = plen). */
static FX6_UNUSED size_t mk_ip6(uint8_t *b, const uint8_t src[16], const uint8_t dst[16],
                                uint8_t nh, uint8_t hop, const void *pl, size_t plen)
{
    b[0] = 0x60;
    b[1] = b[2] = b[3] = 0;
    put_be16(b + 4, (uint16_t)plen);
    b[6] = nh;
    b[7] = hop;
    memcpy(b + 8, src, 16);
    memcpy(b + 24, dst, 16);
    if (plen)
        memmove(b + 40, pl, plen);
    return 40 + plen;
}

/* UDP header + payload with a correct checksum. */
static FX6_UNUSED size_t mk_udp6(uint8_t *u, const uint8_t src[16], const uint8_t dst[16],
                                 uint16_t sport, uint16_t dport, const void *pl, size_t plen)
{
    if (plen)
        memmove(u + 8, pl, plen);
    udp_emit_v6(u, sport, dport, (uint16_t)plen, src, dst);
    return 8 + plen;
}

/* ICMPv6 message (type, code, rest, data) with a correct checksum. */
static FX6_UNUSED size_t mk_icmp6(uint8_t *m, const uint8_t src[16], const uint8_t dst[16],
                                  uint8_t type, uint8_t code, uint32_t rest, const void *d,
                                  size_t dlen)
{
    if (dlen)
        memmove(m + 8, d, dlen);
    m[0] = type;
    m[1] = code;
    m[2] = m[3] = 0;
    put_be32(m + 4, rest);
    icmpv6_csum_fill(m, 8 + dlen, src, dst);
    return 8 + dlen;
}

/* A whole frame from the peer: Ethernet (to ethdst) + IPv6 + payload. */
static FX6_UNUSED size_t mk_frame6(uint8_t *fr, const uint8_t ethdst[6], const uint8_t src[16],
                                   const uint8_t dst[16], uint8_t nh, uint8_t hop, const void *pl,
                                   size_t plen)
{
    size_t n = mk_eth6(fr, ethdst, peer_mac);
    return n + mk_ip6(fr + n, src, dst, nh, hop, pl, plen);
}

/* A UDP/IPv6 frame PEER6:5555 -> dst:dport carrying msg. */
static FX6_UNUSED size_t mk_udp_frame6(uint8_t *fr, const uint8_t ethdst[6], const uint8_t dst[16],
                                       uint16_t dport, uint8_t hop, const void *msg, size_t mlen)
{
    uint8_t u[2048];
    size_t ul = mk_udp6(u, PEER6, dst, 5555, dport, msg, mlen);
    return mk_frame6(fr, ethdst, PEER6, dst, IP_PROTO_UDP, hop, u, ul);
}

static FX6_UNUSED void inject(struct fx *f, const uint8_t *fr, size_t len)
{
    assert_int_equal(memdev_inject(f->dev, fr, len), 0);
    assert_int_equal(stack_poll(f->st, f->now), 1);
}

static FX6_UNUSED long pop(struct fx *f, uint8_t *buf, size_t cap)
{
    return memdev_pop_tx(f->dev, buf, cap);
}

/* The exact frame of an ICMPv6 error we expect: from `src` to PEER6 (the
 * static neighbour), hop limit 64, quoting `q`/`qlen` (already cut by the
 * caller to what the rules allow).  Returns the frame length. */
static FX6_UNUSED size_t expect_error6(uint8_t *fr, const uint8_t src[16], uint8_t type,
                                       uint8_t code, uint32_t param, const uint8_t *q, size_t qlen)
{
    size_t n = mk_eth6(fr, peer_mac, our_mac);
    uint8_t *ip = fr + n;
    size_t ml = mk_icmp6(ip + 40, src, PEER6, type, code, param, q, qlen);
    mk_ip6(ip, src, PEER6, IP_PROTO_ICMPV6, 64, ip + 40, ml);
    return n + 40 + ml;
}

/* Pop one frame and compare it byte for byte. */
static FX6_UNUSED void expect_frame(struct fx *f, const uint8_t *want, size_t wlen)
{
    uint8_t got[2048];
    long n = pop(f, got, sizeof(got));
    assert_int_equal(n, (long)wlen);
    assert_memory_equal(got, want, wlen);
}

/* ---- a test endpoint --------------------------------------------------------------- */
struct tep_box {
    struct udp_ep ep;            /* first: the callback casts back */
    struct wskstack *st;
    int calls;
    uint8_t data[70000];
    size_t len;
    struct udp_rx_info info;
};
static int tep_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    struct tep_box *t = (struct tep_box *)ep;
    t->calls++;
    t->len = p->len < sizeof(t->data) ? p->len : sizeof(t->data);
    memcpy(t->data, pkt_data(p), t->len);
    t->info = *info;
    pkt_free(t->st, p);
    return 0;
}
static const struct udp_ep_ops tep_ops = {.rx = tep_rx};

/* A wildcard endpoint on port with flags (UDP_EP_V6 and/or UDP_EP_V4). */
static FX6_UNUSED struct tep_box *tep_bind(struct fx *f, uint16_t port, uint32_t flags)
{
    struct tep_box *b = calloc(1, sizeof(*b));
    b->ep.ops = &tep_ops;
    b->ep.flags = flags;
    b->st = f->st;
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(f->st, &b->ep, &any, port), 0);
    return b;
}

static FX6_UNUSED void tep_free(struct fx *f, struct tep_box *b)
{
    udp_unbind(f->st, &b->ep);
    free(b);
}

/* Send len bytes of `data` from ep to dst:dport (IPv6). */
static FX6_UNUSED int send6(struct fx *f, struct tep_box *b, const uint8_t dst[16], uint16_t dport,
                            const void *data, size_t len, bool df)
{
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct udp_send_args a = {.dport = dport, .ttl = -1, .tos = -1, .df = df,
                              .iov = &iov, .iovcnt = 1, .len = len};
    a.dst.af = IPA_V6;
    memcpy(a.dst.v6, dst, 16);
    return udp_send(f->st, &b->ep, &a);
}

#endif /* WSS_TEST_FX6_H */
