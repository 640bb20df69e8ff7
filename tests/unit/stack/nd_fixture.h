/* SPDX-License-Identifier: MIT */
/* Shared fixture of test_nd.c, test_nud.c and test_route6.c: a memdev stack
 * (STACK_NO_THREAD, manual clock) with MAC 02:00:00:00:00:01, the link-local
 * fe80::ff:fe00:1 and 2001:db8::1/64, and helpers that build Ethernet +
 * IPv6 + ND frames with the wire6.h emitters.  Included by one .c each. */
#ifndef WSS_TEST_ND_FIXTURE_H
#define WSS_TEST_ND_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack_impl.h"
#include "stack/ipv6_impl.h"

/* Helpers are static and not every test file uses every one. */
#define FX_FN __attribute__((unused)) static
#define NS 1000000000ull
#define T0 (1000 * NS)

static const uint8_t OUR_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC2[6] = {0x02, 0, 0, 0, 0, 0x22};
static const uint8_t RTR_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t OUR_LL[16] = {0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 0x01};
static const uint8_t OUR_GUA[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
static const uint8_t PEER[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x02};
static const uint8_t PEER_LL[16] = {0xfe, 0x80, [15] = 0x02};
static const uint8_t RTR_LL[16] = {0xfe, 0x80, [15] = 0xfe};
static const uint8_t RTR2_LL[16] = {0xfe, 0x80, [15] = 0xfd};
static const uint8_t ALL_NODES[16] = IPV6_ADDR_ALL_NODES;
static const uint8_t ALL_ROUTERS[16] = IPV6_ADDR_ALL_ROUTERS;
static const uint8_t UNSPEC[16] = {0};

struct fx {
    struct wskstack *st;
    struct dev *dev;
    uint64_t now;
};

FX_FN uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }

FX_FN int64_t C(struct fx *f, const char *n) { return wskstack_counter(f->st, n); }

FX_FN void expect_no_tx(struct fx *f) { assert_int_equal(memdev_tx_pending(f->dev), 0); }

FX_FN void drain_tx(struct fx *f)
{
    uint8_t b[2048];
    while (memdev_tx_pending(f->dev))
        memdev_pop_tx(f->dev, b, sizeof b);
}

FX_FN void poll_at(struct fx *f, uint64_t t)
{
    f->now = t;
    stack_poll(f->st, t);
}

/* Create the stack.  up: run DAD to the end (addresses PREFERRED) and let
 * the three Router Solicitations go by, so tests start on a quiet link at
 * T0 + 13 s.  The frames of the bring-up are discarded. */
FX_FN struct fx *fx_create(bool up, const char *gw6)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    struct wskstack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.has_mac = true;
    memcpy(cfg.mac, OUR_MAC, 6);
    cfg.addrs[0].addr.af = IPA_V6;
    memcpy(cfg.addrs[0].addr.v6, OUR_GUA, 16);
    cfg.addrs[0].plen = 64;
    cfg.n_addrs = 1;
    if (gw6) {
        assert_int_equal(ip_addr_parse(gw6, &cfg.gateways[0]), 0);
        cfg.n_gateways = 1;
    }
    f.dev = memdev_create("nd0", 1500);
    assert_non_null(f.dev);
    char err[128];
    assert_int_equal(stack_create_on_dev(&cfg, f.dev, STACK_NO_THREAD, &f.st, err, sizeof err), 0);
    f.now = T0;
    stack_set_clock(f.st, fx_clock, &f);
    nd_set_seed(f.st, 42);
    addr6_set_seed(f.st, 0); /* no DAD start delay */
    if (up) {
        addr6_start(f.st, f.now);
        for (unsigned s = 1; s <= 13; s += 4)
            poll_at(&f, T0 + s * NS); /* DAD done at +1 s; RS at +1, +5, +9 */
        drain_tx(&f);
    }
    return &f;
}

FX_FN int fx_teardown(void **state)
{
    struct fx *f = *state;
    drain_tx(f);
    wskstack_destroy(f->st);
    return 0;
}

/* ---- frames ---------------------------------------------------------------- */

/* Ethernet + IPv6 (next header ICMPv6) + msg, with the ICMPv6 checksum
 * computed.  Returns the frame length. */
FX_FN size_t nd_frame(uint8_t *b, const uint8_t edst[6], const uint8_t esrc[6],
                       const uint8_t src[16], const uint8_t dst[16], uint8_t hop,
                       const uint8_t *msg, size_t mlen)
{
    memcpy(b, edst, 6);
    memcpy(b + 6, esrc, 6);
    put_be16(b + 12, ETHERTYPE_IPV6);
    struct ipv6_repr ip = {.next_header = IP_PROTO_ICMPV6, .hop_limit = hop,
                           .payload_len = (uint16_t)mlen};
    memcpy(ip.src, src, 16);
    memcpy(ip.dst, dst, 16);
    ipv6_emit(&ip, b + 14);
    memcpy(b + 54, msg, mlen);
    icmpv6_csum_fill(b + 54, mlen, src, dst);
    return 54 + mlen;
}

/* Ethernet destination of an IPv6 destination: 33:33 mapping or `uni`. */
FX_FN void edst_of(const uint8_t dst[16], const uint8_t *uni, uint8_t out[6])
{
    if (ipv6_is_multicast(dst))
        ipv6_mcast_mac(dst, out);
    else
        memcpy(out, uni, 6);
}

FX_FN void inject(struct fx *f, const uint8_t *b, size_t len)
{
    assert_int_equal(memdev_inject(f->dev, b, len), 0);
    assert_int_equal(stack_poll(f->st, f->now), 1);
}

/* Inject an ND message from (esrc, src) to dst (our MAC or 33:33 group). */
FX_FN void inject_nd(struct fx *f, const uint8_t esrc[6], const uint8_t src[16],
                      const uint8_t dst[16], uint8_t hop, const uint8_t *msg, size_t mlen)
{
    uint8_t b[1600], ed[6];
    edst_of(dst, OUR_MAC, ed);
    inject(f, b, nd_frame(b, ed, esrc, src, dst, hop, msg, mlen));
}

FX_FN void expect_tx(struct fx *f, const uint8_t *want, size_t len)
{
    uint8_t out[2048];
    long n = memdev_pop_tx(f->dev, out, sizeof out);
    assert_int_equal(n, (long)len);
    assert_memory_equal(out, want, len);
}

/* Expect an ND frame from us (our MAC, hop 255) with exactly msg. */
FX_FN void expect_nd(struct fx *f, const uint8_t *emac_uni, const uint8_t src[16],
                      const uint8_t dst[16], const uint8_t *msg, size_t mlen)
{
    uint8_t want[1600], ed[6];
    edst_of(dst, emac_uni, ed);
    size_t n = nd_frame(want, ed, OUR_MAC, src, dst, 255, msg, mlen);
    expect_tx(f, want, n);
}

FX_FN size_t ns_msg(uint8_t *m, const uint8_t target[16], const uint8_t *slla)
{
    struct nd_ns_repr r = {.has_slla = slla != NULL};
    memcpy(r.target, target, 16);
    if (slla)
        memcpy(r.slla, slla, 6);
    return nd_ns_emit(&r, m);
}

FX_FN size_t na_msg(uint8_t *m, const uint8_t target[16], const uint8_t *tlla, bool router,
                     bool solicited, bool override)
{
    struct nd_na_repr r = {.router = router, .solicited = solicited, .override = override,
                           .has_tlla = tlla != NULL};
    memcpy(r.target, target, 16);
    if (tlla)
        memcpy(r.tlla, tlla, 6);
    return nd_na_emit(&r, m);
}

/* Our NS for target (resolution when dst is multicast, else a probe). */
FX_FN void expect_ns(struct fx *f, const uint8_t src[16], const uint8_t target[16],
                      const uint8_t dst[16], const uint8_t *emac_uni)
{
    uint8_t m[64];
    size_t n = ns_msg(m, target, ipv6_is_unspecified(src) ? NULL : OUR_MAC);
    expect_nd(f, emac_uni, src, dst, m, n);
}

FX_FN void expect_resolution_ns(struct fx *f, const uint8_t target[16])
{
    uint8_t sn[16];
    ipv6_solicited_node(target, sn);
    expect_ns(f, OUR_GUA, target, sn, NULL);
}

/* Our solicited NA (R=0 S=1 O=1, TLLA) for target to dst. */
FX_FN void expect_na(struct fx *f, const uint8_t target[16], const uint8_t dst[16],
                      const uint8_t *emac_uni, bool solicited)
{
    uint8_t m[64];
    size_t n = na_msg(m, target, OUR_MAC, false, solicited, true);
    expect_nd(f, emac_uni, target, dst, m, n);
}

/* ---- an IPv6 packet for nd6_output ----------------------------------------------- */

struct txr {
    struct tx_req r;
    int calls;
    int err;
};

FX_FN void txr_done(struct tx_req *r, int err)
{
    struct txr *t = (struct txr *)r;
    t->calls++;
    t->err = err;
}

/* IPv6 header (src OUR_GUA, no next header) + 8 payload bytes. */
FX_FN struct pkt *mk_pkt(struct fx *f, const uint8_t dst[16], struct txr *t, uint8_t tag)
{
    struct pkt *p = pkt_alloc(f->st, 48);
    assert_non_null(p);
    struct ipv6_repr ip = {.next_header = IP_PROTO_NONE, .hop_limit = 64, .payload_len = 8};
    memcpy(ip.src, OUR_GUA, 16);
    memcpy(ip.dst, dst, 16);
    ipv6_emit(&ip, pkt_data(p));
    memset(pkt_data(p) + 40, tag, 8);
    p->len = 48;
    if (t) {
        memset(t, 0, sizeof *t);
        t->r.done = txr_done;
        p->req = &t->r;
    }
    return p;
}

/* The frame mk_pkt's packet becomes on the wire to mac. */
FX_FN void expect_pkt(struct fx *f, const uint8_t dst[16], const uint8_t mac[6], uint8_t tag)
{
    uint8_t want[62];
    memcpy(want, mac, 6);
    memcpy(want + 6, OUR_MAC, 6);
    put_be16(want + 12, ETHERTYPE_IPV6);
    struct ipv6_repr ip = {.next_header = IP_PROTO_NONE, .hop_limit = 64, .payload_len = 8};
    memcpy(ip.src, OUR_GUA, 16);
    memcpy(ip.dst, dst, 16);
    ipv6_emit(&ip, want + 14);
    memset(want + 54, tag, 8);
    expect_tx(f, want, sizeof want);
}

#endif
