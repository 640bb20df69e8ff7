/* SPDX-License-Identifier: MIT */
/*
 * test_ipv4_reasm.c - IPv4 reassembly through the stack (ipv4_input ->
 * reasm.c -> ICMP/UDP input), BAD-INPUT.md D.17, D.18, D.20, F.31.
 *
 * A stack on a memdev (no receive thread, manual clock); hand-built
 * fragments are injected, and the test checks what a bound endpoint got,
 * the exact frames the stack wrote, and the IpReasm* counters.  Topology:
 *
 *     peer 192.0.2.2 (02:00:00:00:00:02) ---- stack 192.0.2.1/24 (02:00:00:00:00:01)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/reasm.h"
#include "stack/stack_impl.h"

#define OUR_IP 0xC0000201u    /* 192.0.2.1 */
#define PEER_IP 0xC0000202u   /* 192.0.2.2 */
#define SEC 1000000000ull
static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
#define CNT(st, n) atomic_load(&(st)->cnt[CNT_##n])

/* ---- fixture ------------------------------------------------------------------ */
struct fx {
    struct wskstack *st;
    struct dev *dev;
    uint64_t now;
};
static uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    struct wskstack_config *cfg = wskstack_config_new();
    assert_non_null(cfg);
    assert_int_equal(wskstack_config_parse(cfg, "addr=192.0.2.1/24;mac=02:00:00:00:00:01", err,
                                           sizeof err), 0);
    f->dev = memdev_create("rs0", 1500);
    assert_non_null(f->dev);
    assert_int_equal(stack_create_on_dev(cfg, f->dev, STACK_NO_THREAD, &f->st, err, sizeof err), 0);
    wskstack_config_free(cfg);
    f->now = 1000 * SEC;
    stack_set_clock(f->st, fx_clock, f);
    struct ip_addr a = ip4(PEER_IP);
    assert_int_equal(stack_neigh_add_static(f->st, &a, peer_mac), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(memdev_tx_pending(f->dev), 0);   /* every frame was checked */
    assert_int_equal(reasm_mem(f->st), 0);             /* reassembly state empty */
    assert_int_equal(reasm_count(f->st), 0);
    assert_int_equal(stack_pkts_in_use(f->st), 0);     /* no leak */
    wskstack_destroy(f->st);
    free(f);
    return 0;
}

/* ---- frame builders ------------------------------------------------------------ */
/* One fragment frame: Ethernet + a 20-byte IPv4 header + `len` bytes of the
 * datagram's payload `pl` from `off`. */
static size_t mk_frag(uint8_t *fr, const uint8_t ethdst[6], uint8_t proto, uint16_t id,
                      const uint8_t *pl, uint32_t off, uint32_t len, bool mf)
{
    memcpy(fr, ethdst, 6);
    memcpy(fr + 6, peer_mac, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    uint8_t *h = fr + 14;
    memset(h, 0, 20);
    h[0] = 0x45;
    put_be16(h + 2, (uint16_t)(20 + len));
    put_be16(h + 4, id);
    put_be16(h + 6, (uint16_t)((mf ? 0x2000 : 0) | (off / 8)));
    h[8] = 64;
    h[9] = proto;
    put_be32(h + 12, PEER_IP);
    put_be32(h + 16, OUR_IP);
    put_be16(h + 10, csum_fold(csum_partial(h, 20, 0)));
    memcpy(h + 20, pl + off, len);
    return 14 + 20 + len;
}

static void inject(struct fx *f, const uint8_t *fr, size_t len)
{
    assert_int_equal(memdev_inject(f->dev, fr, len), 0);
    assert_int_equal(stack_poll(f->st, f->now), 1);
}

static void inject_frag(struct fx *f, uint8_t proto, uint16_t id, const uint8_t *pl, uint32_t off,
                        uint32_t len, bool mf)
{
    static uint8_t fr[2048];
    inject(f, fr, mk_frag(fr, our_mac, proto, id, pl, off, len, mf));
}

/* A UDP datagram 5555 -> 7777 with n payload bytes (pattern), checksum set. */
static size_t mk_udp(uint8_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        u[8 + i] = (uint8_t)(i * 7 + (i >> 8));
    udp_emit_v4(u, 5555, 7777, (uint16_t)n, PEER_IP, OUR_IP);
    return 8 + n;
}

/* ---- a test endpoint ----------------------------------------------------------- */
struct tep_box {
    struct udp_ep ep;            /* first: the callback casts back */
    struct wskstack *st;
    int calls;
    uint8_t data[4096];
    size_t len;
};
static int tep_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    struct tep_box *t = (struct tep_box *)ep;
    (void)info;
    t->calls++;
    t->len = p->len < sizeof t->data ? p->len : sizeof t->data;
    memcpy(t->data, pkt_data(p), t->len);
    pkt_free(t->st, p);
    return 0;
}
static const struct udp_ep_ops tep_ops = {.rx = tep_rx};

static struct tep_box *tep_bind(struct fx *f, uint16_t port)
{
    struct tep_box *b = calloc(1, sizeof *b);
    b->ep.ops = &tep_ops;
    b->ep.flags = UDP_EP_V4;
    b->st = f->st;
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(f->st, &b->ep, &any, port), 0);
    return b;
}
static void tep_free(struct fx *f, struct tep_box *b)
{
    udp_unbind(f->st, &b->ep);
    free(b);
}

/* ---- D.17: out of order, through UDP ------------------------------------------- */
static void test_udp_3000_reverse_order(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    static uint8_t udp[8 + 3000];
    size_t ul = mk_udp(udp, 3000);               /* 3008 bytes: 1480 + 1480 + 48 */
    inject_frag(f, IP_PROTO_UDP, 0x0101, udp, 2960, 48, false);
    inject_frag(f, IP_PROTO_UDP, 0x0101, udp, 1480, 1480, true);
    assert_int_equal(b->calls, 0);
    assert_int_equal(reasm_count(f->st), 1);
    inject_frag(f, IP_PROTO_UDP, 0x0101, udp, 0, 1480, true);
    assert_int_equal(ul, 3008);
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->len, 3000);
    assert_memory_equal(b->data, udp + 8, 3000);
    assert_int_equal(CNT(f->st, IpInReceives), 3);
    assert_int_equal(CNT(f->st, IpReasmReqds), 3);
    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 0);
    assert_int_equal(CNT(f->st, IpInDelivers), 1);
    assert_int_equal(CNT(f->st, UdpInDatagrams), 1);
    assert_int_equal(CNT(f->st, UdpInErrors), 0);
    /* an exact duplicate of a fragment after delivery starts a new
     * datagram, never a second delivery; it times out silently */
    inject_frag(f, IP_PROTO_UDP, 0x0101, udp, 1480, 1480, true);
    f->now += REASM_TIMEOUT_V4_NS;
    stack_poll(f->st, f->now);
    assert_int_equal(b->calls, 1);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 1);
    tep_free(f, b);
}

/* The reassembled header is rewritten (Total Length, no MF): a datagram to
 * a closed port is answered with a Port Unreachable quoting it. */
static void test_udp_reassembled_closed_port(void **state)
{
    struct fx *f = *state;
    static uint8_t udp[8 + 2000];
    mk_udp(udp, 2000);
    inject_frag(f, IP_PROTO_UDP, 0x0202, udp, 1480, 528, false);
    inject_frag(f, IP_PROTO_UDP, 0x0202, udp, 0, 1480, true);
    uint8_t out[2048];
    long n = memdev_pop_tx(f->dev, out, sizeof out);
    assert_int_equal(n, 14 + 20 + 8 + 548);        /* RFC 1812 §4.3.2.3: 576 bytes */
    const uint8_t *icmp = out + 34, *q = icmp + 8;
    assert_int_equal(icmp[0], ICMP_DEST_UNREACH);
    assert_int_equal(icmp[1], ICMP_UNREACH_PORT);
    assert_int_equal(be16(q + 2), 20 + 2008);      /* the whole datagram */
    assert_int_equal(be16(q + 4), 0x0202);
    assert_int_equal(be16(q + 6), 0);              /* MF and offset cleared */
    assert_int_equal(csum_fold(csum_partial(q, 20, 0)), 0);  /* valid header checksum */
    assert_memory_equal(q + 20, udp, 548 - 20);
    assert_int_equal(CNT(f->st, UdpNoPorts), 1);
    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
}

/* ---- F.31: a fragmented echo request is answered, fragmented --------------------- */
static void test_icmp_echo_4000(void **state)
{
    struct fx *f = *state;
    static uint8_t icmp[8 + 4000];
    for (size_t i = 0; i < 4000; i++)
        icmp[8 + i] = (uint8_t)(i ^ (i >> 3));
    struct icmp_repr r = {.type = ICMP_ECHO_REQUEST, .code = 0, .rest = 0x77770001u,
                          .data = icmp + 8, .data_len = 4000};
    icmp_emit(&r, icmp);
    /* 4008 bytes: 1480 + 1480 + 1048, the middle one last */
    inject_frag(f, IP_PROTO_ICMP, 0x0303, icmp, 0, 1480, true);
    inject_frag(f, IP_PROTO_ICMP, 0x0303, icmp, 2960, 1048, false);
    inject_frag(f, IP_PROTO_ICMP, 0x0303, icmp, 1480, 1480, true);
    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
    assert_int_equal(CNT(f->st, IcmpInEchos), 1);
    assert_int_equal(CNT(f->st, IcmpOutEchoReps), 1);
    assert_int_equal(CNT(f->st, IpFragOKs), 1);
    assert_int_equal(CNT(f->st, IpFragCreates), 3);

    /* The test reassembles the reply itself from the 3 frames. */
    static uint8_t re[8 + 4000];
    uint8_t fr[2048];
    uint32_t got = 0, total = 0;
    uint16_t id = 0;
    for (int i = 0; i < 3; i++) {
        long n = memdev_pop_tx(f->dev, fr, sizeof fr);
        assert_true(n > 34);
        assert_memory_equal(fr, peer_mac, 6);
        struct ipv4_repr ip;
        assert_int_equal(ipv4_parse(fr + 14, (size_t)n - 14, &ip, true), WIRE_OK);
        assert_int_equal(ip.src, OUR_IP);
        assert_int_equal(ip.dst, PEER_IP);
        assert_int_equal(ip.proto, IP_PROTO_ICMP);
        if (i == 0)
            id = ip.id;
        assert_int_equal(ip.id, id);
        uint32_t len = ip.total_len - ip.hdr_len;
        assert_true(ip.frag_off + len <= sizeof re);
        memcpy(re + ip.frag_off, fr + 14 + ip.hdr_len, len);
        got += len;
        if (!ip.mf)
            total = ip.frag_off + len;
    }
    assert_int_equal(memdev_pop_tx(f->dev, fr, sizeof fr), -1);
    assert_int_equal(got, 4008);
    assert_int_equal(total, 4008);
    assert_int_equal(re[0], ICMP_ECHO_REPLY);
    assert_int_equal(re[1], 0);
    assert_int_equal(csum_fold(csum_partial(re, 4008, 0)), 0);
    assert_memory_equal(re + 4, icmp + 4, 4);          /* identifier and sequence */
    assert_memory_equal(re + 8, icmp + 8, 4000);       /* the request's data */
}

/* ---- D.18: overlap -------------------------------------------------------------- */
static void test_overlap_not_delivered(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    static uint8_t udp[8 + 3000];
    mk_udp(udp, 3000);
    inject_frag(f, IP_PROTO_UDP, 0x0404, udp, 0, 1480, true);
    inject_frag(f, IP_PROTO_UDP, 0x0404, udp, 1472, 1480, true);   /* overlaps [1472,1480) */
    inject_frag(f, IP_PROTO_UDP, 0x0404, udp, 1480, 1480, true);   /* the right one: too late */
    inject_frag(f, IP_PROTO_UDP, 0x0404, udp, 2960, 48, false);
    assert_int_equal(b->calls, 0);
    assert_int_equal(CNT(f->st, IpReasmReqds), 4);
    assert_int_equal(CNT(f->st, IpReasmFails), 3);   /* the overlap, then 2 for the dead key */
    assert_int_equal(CNT(f->st, IpReasmOKs), 0);
    assert_int_equal(CNT(f->st, IpInDelivers), 0);
    /* dead keys leave silently at the timeout: no Time Exceeded */
    f->now += REASM_TIMEOUT_V4_NS;
    stack_poll(f->st, f->now);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 0);
    assert_int_equal(CNT(f->st, IpReasmFails), 3);
    tep_free(f, b);
}

/* ---- D.20: timeout ---------------------------------------------------------------- */
static void test_timeout_time_exceeded(void **state)
{
    struct fx *f = *state;
    static uint8_t udp[8 + 3000];
    mk_udp(udp, 3000);
    uint8_t sent[2048];
    size_t sl = mk_frag(sent, our_mac, IP_PROTO_UDP, 0x0505, udp, 0, 1480, true);
    inject(f, sent, sl);
    inject_frag(f, IP_PROTO_UDP, 0x0505, udp, 2960, 48, false);    /* the middle never comes */
    inject_frag(f, IP_PROTO_UDP, 0x0606, udp, 1480, 1480, true);   /* another, no fragment 0 */
    uint64_t t0 = f->now;

    f->now = t0 + REASM_TIMEOUT_V4_NS - 1;
    stack_poll(f->st, f->now);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(reasm_count(f->st), 2);

    f->now = t0 + REASM_TIMEOUT_V4_NS;
    stack_poll(f->st, f->now);
    uint8_t out[2048];
    long n = memdev_pop_tx(f->dev, out, sizeof out);
    /* Ethernet + IPv4 + ICMP header + quote (header 20 + 8 bytes) */
    assert_int_equal(n, 14 + 20 + 8 + 28);
    assert_memory_equal(out, peer_mac, 6);
    assert_memory_equal(out + 6, our_mac, 6);
    struct ipv4_repr ip;
    assert_int_equal(ipv4_parse(out + 14, (size_t)n - 14, &ip, true), WIRE_OK);
    assert_int_equal(ip.src, OUR_IP);
    assert_int_equal(ip.dst, PEER_IP);
    assert_int_equal(ip.proto, IP_PROTO_ICMP);
    const uint8_t *icmp = out + 34;
    assert_int_equal(icmp[0], ICMP_TIME_EXCEEDED);
    assert_int_equal(icmp[1], 1);                      /* fragment reassembly time exceeded */
    assert_int_equal(be32(icmp + 4), 0);
    assert_int_equal(csum_fold(csum_partial(icmp, 36, 0)), 0);
    /* RFC 792: fragment 0's header exactly as received + its first 8 bytes */
    assert_memory_equal(icmp + 8, sent + 14, 28);
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), -1);   /* exactly one */

    assert_int_equal(CNT(f->st, IpReasmReqds), 3);
    assert_int_equal(CNT(f->st, IpReasmOKs), 0);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 2);
    assert_int_equal(CNT(f->st, IpReasmFails), 2);
    assert_int_equal(CNT(f->st, IcmpOutMsgs), 1);

    f->now += 10 * REASM_TIMEOUT_V4_NS;
    stack_poll(f->st, f->now);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
}

/* A fragment 0 of an ICMP error is never answered with an error
 * (RFC 1122 §3.2.2), even at the timeout. */
static void test_timeout_no_error_about_error(void **state)
{
    struct fx *f = *state;
    static uint8_t icmp[8 + 1600];
    memset(icmp, 0, sizeof icmp);
    struct icmp_repr r = {.type = ICMP_DEST_UNREACH, .code = 3, .data = icmp + 8, .data_len = 1600};
    icmp_emit(&r, icmp);
    inject_frag(f, IP_PROTO_ICMP, 0x0707, icmp, 0, 1480, true);
    f->now += REASM_TIMEOUT_V4_NS;
    stack_poll(f->st, f->now);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 1);
    assert_int_equal(CNT(f->st, IcmpOutMsgs), 0);
}

/* RFC 1122 §3.3.6: a unicast datagram in a link-layer broadcast is
 * discarded; for fragments this also keeps the Time Exceeded rule simple. */
static void test_link_broadcast_fragment_dropped(void **state)
{
    struct fx *f = *state;
    static uint8_t udp[8 + 100];
    mk_udp(udp, 100);
    uint8_t fr[256];
    inject(f, fr, mk_frag(fr, bcast_mac, IP_PROTO_UDP, 0x0808, udp, 0, 64, true));
    assert_int_equal(reasm_count(f->st), 0);
    assert_int_equal(CNT(f->st, IpReasmReqds), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_udp_3000_reverse_order),
        T(test_udp_reassembled_closed_port),
        T(test_icmp_echo_4000),
        T(test_overlap_not_delivered),
        T(test_timeout_time_exceeded),
        T(test_timeout_no_error_about_error),
        T(test_link_broadcast_fragment_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
