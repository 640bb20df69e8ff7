/* SPDX-License-Identifier: MIT */
/* Ethernet input/output (stack/eth.c): every drop case with its counter
 * (BAD-INPUT A.1-A.4), dispatch to ARP, output framing and device errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack_impl.h"

static const uint8_t OUR_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct fx {
    struct wskstack *st;
    struct dev *dev;
};

static int setup(void **state)
{
    static struct fx f;
    struct wskstack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.has_mac = true;
    memcpy(cfg.mac, OUR_MAC, 6);
    cfg.addrs[0].addr = ip4(0xC0000201); /* 192.0.2.1/24 */
    cfg.addrs[0].plen = 24;
    cfg.n_addrs = 1;
    f.dev = memdev_create("eth0", 1500);
    assert_non_null(f.dev);
    char err[128];
    assert_int_equal(stack_create_on_dev(&cfg, f.dev, STACK_NO_THREAD, &f.st, err, sizeof err), 0);
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

/* A frame of `len` bytes: header (dst, src, type) then 0x00 filler. */
static size_t frame(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memset(buf, 0, len);
    if (len >= 6)
        memcpy(buf, dst, 6);
    if (len >= 12)
        memcpy(buf + 6, src, 6);
    if (len >= 14)
        put_be16(buf + 12, type);
    return len;
}

static void inject_poll(struct fx *f, const uint8_t *buf, size_t len)
{
    assert_int_equal(memdev_inject(f->dev, buf, len), 0);
    assert_int_equal(stack_poll(f->st, 0), 1);
}

/* Only this counter (and IfInPackets/IfInBytes) moved. */
static void assert_only(struct fx *f, const char *name, int64_t v)
{
    for (unsigned i = 0; wskstack_counter_name(i); i++) {
        const char *n = wskstack_counter_name(i);
        if (strcmp(n, "IfInPackets") == 0 || strcmp(n, "IfInBytes") == 0)
            continue;
        assert_int_equal(wskstack_counter_value(f->st, i), strcmp(n, name) == 0 ? (uint64_t)v : 0);
    }
}

static void test_runt(void **state)
{
    struct fx *f = *state;
    uint8_t b[64] = {0};
    inject_poll(f, b, frame(b, 0, OUR_MAC, PEER_MAC, 0));
    inject_poll(f, b, frame(b, 13, OUR_MAC, PEER_MAC, 0));
    /* A.1: 14 bytes, a header with no payload, is a runt too */
    inject_poll(f, b, frame(b, 14, OUR_MAC, PEER_MAC, ETHERTYPE_IPV4));
    assert_int_equal(C(f, "IfInPackets"), 3);
    assert_int_equal(C(f, "IfInBytes"), 27);
    assert_only(f, "IfInErrors", 3);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
}

static void test_oversize(void **state)
{
    struct fx *f = *state;
    static uint8_t b[1600];
    /* MTU + 14 = 1514 is the largest frame; 0x88b5 (local experimental) */
    inject_poll(f, b, frame(b, 1515, OUR_MAC, PEER_MAC, 0x88b5));
    assert_only(f, "IfInErrors", 1);
    inject_poll(f, b, frame(b, 1600, OUR_MAC, PEER_MAC, 0x88b5));
    assert_int_equal(C(f, "IfInErrors"), 2);
    /* exactly MTU + 14 passes the size check (then: unknown EtherType) */
    inject_poll(f, b, frame(b, 1514, OUR_MAC, PEER_MAC, 0x88b5));
    assert_int_equal(C(f, "IfInErrors"), 2);
    assert_int_equal(C(f, "IfInUnknownProtos"), 1);
    assert_int_equal(C(f, "IfInPackets"), 3);
    /* the 1600-byte frame was read into a 1500 + 14 + 64 buffer: like a TAP
     * read, the device truncates it, and the bytes read are what counts */
    assert_int_equal(C(f, "IfInBytes"), 1515 + 1578 + 1514);
}

static void test_unknown_ethertype(void **state)
{
    struct fx *f = *state;
    uint8_t b[60];
    inject_poll(f, b, frame(b, 60, OUR_MAC, PEER_MAC, 0x88cc)); /* LLDP */
    inject_poll(f, b, frame(b, 60, BCAST, PEER_MAC, 0x8100));   /* VLAN tag */
    inject_poll(f, b, frame(b, 60, OUR_MAC, PEER_MAC, 0x05dd)); /* 1501: undefined */
    assert_only(f, "IfInUnknownProtos", 3);
}

static void test_8023_length(void **state)
{
    struct fx *f = *state;
    uint8_t b[60];
    inject_poll(f, b, frame(b, 60, OUR_MAC, PEER_MAC, 46));     /* 802.3 length */
    inject_poll(f, b, frame(b, 60, BCAST, PEER_MAC, 0x05dc));   /* 1500 */
    assert_only(f, "IfInUnknownProtos", 2);
}

/* 0x86DD goes to ipv6_input (RFC 2464): the zero-filled payload has version
 * 0, an IPv6 header error. */
static void test_ipv6_dispatched(void **state)
{
    struct fx *f = *state;
    uint8_t b[60];
    inject_poll(f, b, frame(b, 60, OUR_MAC, PEER_MAC, ETHERTYPE_IPV6));
    assert_int_equal(C(f, "Ip6InReceives"), 1);
    assert_int_equal(C(f, "Ip6InHdrErrors"), 1);
    assert_int_equal(C(f, "IfInUnknownProtos"), 0);
    assert_int_equal(C(f, "IfInDiscards"), 0);
}

/* 33:33 + the low 32 bits of a group we joined (RFC 2464 §7): all-nodes
 * ff02::1 and the solicited-node group of the link-local address
 * fe80::ff:fe00:1 (EUI-64 of 02:00:00:00:00:01) are accepted; a group
 * nobody joined (ff02::fb, mDNS) is not. */
static void test_ipv6_mcast_mac(void **state)
{
    struct fx *f = *state;
    uint8_t b[60];
    const uint8_t all_nodes[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
    const uint8_t sol_node[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01};
    const uint8_t mdns[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0xfb};
    inject_poll(f, b, frame(b, 60, all_nodes, PEER_MAC, ETHERTYPE_IPV6));
    inject_poll(f, b, frame(b, 60, sol_node, PEER_MAC, ETHERTYPE_IPV6));
    assert_int_equal(C(f, "Ip6InReceives"), 2);
    assert_int_equal(C(f, "IfInDiscards"), 0);
    inject_poll(f, b, frame(b, 60, mdns, PEER_MAC, ETHERTYPE_IPV6));
    assert_int_equal(C(f, "Ip6InReceives"), 2);
    assert_int_equal(C(f, "IfInDiscards"), 1);
}

static void test_not_for_us(void **state)
{
    struct fx *f = *state;
    uint8_t b[60];
    const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
    const uint8_t mcast4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    const uint8_t mcast6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0xfb}; /* ff02::fb: not joined */
    inject_poll(f, b, frame(b, 60, other, PEER_MAC, ETHERTYPE_ARP));
    inject_poll(f, b, frame(b, 60, mcast4, PEER_MAC, ETHERTYPE_IPV4));
    inject_poll(f, b, frame(b, 60, mcast6, PEER_MAC, ETHERTYPE_IPV6));
    assert_only(f, "IfInDiscards", 3);
}

static void test_looped_source(void **state)
{
    struct fx *f = *state;
    /* A valid ARP request for our address, but sent from our own MAC: it is
     * our frame coming back (A.3) - no reply, no neighbour entry. */
    uint8_t b[42];
    frame(b, 42, BCAST, OUR_MAC, ETHERTYPE_ARP);
    struct arp_repr a = {.op = ARP_OP_REQUEST, .spa = 0xC0000202, .tpa = 0xC0000201};
    memcpy(a.sha, OUR_MAC, 6);
    arp_emit(&a, b + 14);
    inject_poll(f, b, 42);
    assert_only(f, "IfInDiscards", 1);
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    /* a group address as source is no sender either */
    const uint8_t gsrc[6] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x02};
    frame(b, 42, BCAST, gsrc, ETHERTYPE_ARP);
    inject_poll(f, b, 42);
    assert_only(f, "IfInDiscards", 2);
}

static void test_arp_dispatch(void **state)
{
    struct fx *f = *state;
    /* broadcast ARP for us with 18 bytes of trailing padding (60-byte frame) */
    uint8_t b[60];
    frame(b, 60, BCAST, PEER_MAC, ETHERTYPE_ARP);
    struct arp_repr a = {.op = ARP_OP_REQUEST, .spa = 0xC0000202, .tpa = 0xC0000201};
    memcpy(a.sha, PEER_MAC, 6);
    arp_emit(&a, b + 14);
    inject_poll(f, b, 60);
    assert_int_equal(C(f, "ArpInRequests"), 1);
    assert_int_equal(C(f, "ArpOutReplies"), 1);
    assert_int_equal(C(f, "IfInPackets"), 1);
    assert_int_equal(C(f, "IfInBytes"), 60);
    assert_int_equal(C(f, "IfOutPackets"), 1);
    assert_int_equal(C(f, "IfOutBytes"), 42);
    uint8_t out[100];
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 42);
}

static void test_output(void **state)
{
    struct fx *f = *state;
    struct pkt *p = pkt_alloc(f->st, 4);
    memcpy(pkt_data(p), "abcd", 4);
    p->len = 4;
    assert_int_equal(eth_output(f->st, p, PEER_MAC, 0x88b5), 0);
    uint8_t out[100];
    const uint8_t want[18] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5,
                              'a', 'b', 'c', 'd'};
    assert_int_equal(memdev_pop_tx(f->dev, out, sizeof out), 18);
    assert_memory_equal(out, want, 18);
    assert_int_equal(C(f, "IfOutPackets"), 1);
    assert_int_equal(C(f, "IfOutBytes"), 18);
    assert_int_equal(C(f, "IfOutErrors"), 0);

    /* no headroom left: refused and counted, packet freed */
    p = pkt_alloc(f->st, 4);
    p->len = 4;
    assert_non_null(pkt_push(p, PKT_HEADROOM - 10));
    assert_int_equal(eth_output(f->st, p, PEER_MAC, 0x88b5), -ENOBUFS);
    assert_int_equal(C(f, "IfOutDiscards"), 1);

    /* device gone: the write error is returned and counted, p freed */
    memdev_set_gone(f->dev);
    p = pkt_alloc(f->st, 4);
    p->len = 4;
    assert_int_equal(eth_output(f->st, p, PEER_MAC, 0x88b5), -ENODEV);
    assert_int_equal(C(f, "IfOutErrors"), 1);
    assert_int_equal(C(f, "IfOutPackets"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ethertype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_8023_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_dispatched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_mcast_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_for_us, setup, teardown),
        cmocka_unit_test_setup_teardown(test_looped_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
