/* SPDX-License-Identifier: MIT */
/*
 * Lab (IPv6): Path MTU discovery with a real Packet Too Big, and
 * fragmentation both ways at MTU 1500 and 9000.
 *
 *   wskstack 2001:db8::2/64, gateway 2001:db8::1
 *      <== TAP (1500) ==>  kernel 2001:db8::1/64, forwarding on
 *                          wsk6v0 (veth, MTU 1280) 2001:db8:2::1/64 --> wsk6v1
 *                          2001:db8:2::9: a permanent neighbour on wsk6v0
 *
 * The stack sends 1400 bytes to 2001:db8:2::9 through its gateway; the
 * kernel, a router now, cannot forward 1448 bytes onto the 1280 link and
 * answers ICMPv6 Packet Too Big (MTU 1280) - the real kernel's, not a
 * forged one.  The stack's path MTU toward 2001:db8:2::9 becomes 1280 and
 * the next datagram goes out in fragments that fit, which the kernel
 * forwards onto wsk6v0 (seen there by a capture; wsk6v1 has IPv6 disabled,
 * so nothing comes back).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab6_stack.h"

/* The frames from the stack to dst in a capture: reassemble the UDP
 * datagram (fragments in order of offset) into out; returns the number of
 * fragments, asserting each fits in max_ip bytes of IPv6 packet. */
static unsigned reassemble(const struct lk_ip6 *v, unsigned n, int dir, const uint8_t dst[16],
                           uint8_t *out, size_t cap, size_t *len, size_t max_ip)
{
    unsigned frags = 0;
    *len = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct lk_ip6 *f = &v[i];
        if (f->dir != dir || memcmp(f->dst, dst, 16) != 0 || !f->frag || f->proto != 17)
            continue;
        assert_true(40u + f->payload_len <= max_ip);
        size_t dl = f->payload_len - 8;
        assert_true(f->frag_off + dl <= cap);
        assert_true(f->frag_more ? dl % 8 == 0 : true);
        memcpy(out + f->frag_off, f->frame + f->l4_off, dl);
        if (f->frag_off + dl > *len)
            *len = f->frag_off + dl;
        frags++;
    }
    return frags;
}

struct pmtu_wait {
    struct lab6 *l;
    uint8_t dst[16];
    uint32_t want;
};

static bool pmtu_is(void *ctx)
{
    struct pmtu_wait *w = ctx;
    return pmtu6_get(w->l->st, w->dst, stack_now(w->l->st)) == w->want;
}

static void test_packet_too_big_from_forwarding_kernel(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    assert_int_equal(lk_sysctl("net/ipv6/conf/all/forwarding", "1"), 0);
    struct lab6 l;
    lab6_up(&l, "tap=wsk6pmtu0;addr=2001:db8::2/64;host-addr=2001:db8::1/64;"
                "gateway=2001:db8::1");
    /* The narrow hop. */
    assert_int_equal(lk_veth_add("wsk6v0", "wsk6v1"), 0);
    assert_int_equal(lk_sysctl("net/ipv6/conf/wsk6v1/disable_ipv6", "1"), 0);
    assert_int_equal(lk_link_set_mtu("wsk6v0", 1280), 0);
    assert_int_equal(lk_link_up("wsk6v1"), 0);
    assert_int_equal(lk_link_up("wsk6v0"), 0);
    assert_int_equal(lk_addr6_add("wsk6v0", "2001:db8:2::1/64", true), 0);
    uint8_t v1mac[6];
    assert_int_equal(lk_if_mac("wsk6v1", v1mac), 0);
    assert_int_equal(lk_neigh6_add_permanent("wsk6v0", "2001:db8:2::9", v1mac), 0);
    struct lk_route6 rt;
    assert_int_equal(lk_route6_get("2001:db8:2::9", &rt), 0);
    assert_int_equal(rt.oif, lk_ifindex("wsk6v0"));
    assert_int_equal(rt.mtu, 1280);
    lab6_wait_dad(&l, "2001:db8::2");

    int cap = lk_capture_open(l.ifname, 0x86dd);
    assert_true(cap >= 0);
    int vcap = lk_capture_open("wsk6v0", 0x86dd);
    assert_true(vcap >= 0);
    struct lab6_ep e;
    lab6_ep_open(&l, &e, NULL, 7500);
    uint8_t far[16];
    lab6_parse("2001:db8:2::9", far);
    assert_int_equal(pmtu6_get(l.st, far, stack_now(l.st)), 1500);

    static uint8_t msg[1400];
    lab6_pattern(msg, sizeof msg, 1);
    assert_int_equal(lab6_ep_send(&l, &e, "2001:db8:2::9", 9, msg, sizeof msg), 0);
    struct pmtu_wait w = {.l = &l, .want = 1280};
    memcpy(w.dst, far, 16);
    if (lk_wait_until(pmtu_is, &w, 2000, 2) != 0)
        fail_msg("path MTU toward 2001:db8:2::9 is %u, not 1280, 2 s after the send",
                 pmtu6_get(l.st, far, stack_now(l.st)));
    assert_int_equal(lab6_cnt_settle(&l, "Icmp6InPktTooBigs", 1), 1);
    assert_int_equal(lab6_kcnt("Icmp6OutPktTooBigs"), 1);
    assert_int_equal(lab6_kcnt("Ip6InTooBigErrors"), 1);
    /* Other destinations keep the link MTU. */
    uint8_t near[16];
    lab6_parse("2001:db8::1", near);
    assert_int_equal(pmtu6_get(l.st, near, stack_now(l.st)), 1500);

    /* The next datagram is fragmented to fit: 1408 bytes of UDP in two
     * fragments (1232 + 176), each IPv6 packet <= 1280. */
    int64_t fok0 = lab6_cnt(&l, "Ip6FragOKs");
    lab6_pattern(msg, sizeof msg, 2);
    assert_int_equal(lab6_ep_send(&l, &e, "2001:db8:2::9", 9, msg, sizeof msg), 0);
    assert_int_equal(lab6_cnt(&l, "Ip6FragOKs") - fok0, 1);
    assert_int_equal(lab6_cnt(&l, "Ip6FragCreates"), 2);

    unsigned n = 0;
    struct lk_ip6 *v = lab6_collect(cap, 64, 300, &n);
    static uint8_t whole[2048];
    size_t len = 0;
    assert_int_equal(reassemble(v, n, LK_DIR_IN, far, whole, sizeof whole, &len, 1280), 2);
    assert_int_equal(len, 8 + sizeof msg);
    assert_int_equal(whole[0] << 8 | whole[1], 7500);   /* UDP source port */
    assert_int_equal(whole[2] << 8 | whole[3], 9);
    assert_int_equal(whole[4] << 8 | whole[5], 8 + sizeof msg);
    assert_memory_equal(whole + 8, msg, sizeof msg);
    free(v);
    /* ... and the kernel forwarded both fragments onto the 1280 link. */
    v = lab6_collect(vcap, 64, 300, &n);
    assert_int_equal(reassemble(v, n, LK_DIR_OUT, far, whole, sizeof whole, &len, 1280), 2);
    assert_memory_equal(whole + 8, msg, sizeof msg);
    for (unsigned i = 0; i < n; i++)
        if (v[i].frag && memcmp(v[i].dst, far, 16) == 0)
            assert_int_equal(v[i].hop_limit, 63); /* one router hop */
    free(v);

    lab6_ep_close(&l, &e);
    lk_close(vcap);
    lk_close(cap);
    lab6_down(&l);
}

/* Datagrams larger than the link, both ways, at MTU mtu (the TAP's and
 * the stack's): each side fragments, the other reassembles, the bytes are
 * exact; fragment counts exact on both sides. */
static void frag_both_ways(unsigned mtu)
{
    assert_int_equal(tu_enter_netns(), 0);
    char config[160];
    snprintf(config, sizeof config,
             "tap=wsk6frag0;mtu=%u;addr=2001:db8::2/64;host-addr=2001:db8::1/64", mtu);
    struct lab6 l;
    lab6_up(&l, config);
    lab6_wait_dad(&l, "2001:db8::2");
    struct lk_route6 rt;
    assert_int_equal(lk_route6_get("2001:db8::2", &rt), 0);
    assert_int_equal(rt.mtu, mtu);
    int kfd = lk_udp6_open("2001:db8::1", 7600);
    assert_true(kfd >= 0);
    struct lab6_ep e;
    lab6_ep_open(&l, &e, "2001:db8::2", 7601);

    static const size_t sizes[] = {4000, 20000, 65000};
    const unsigned n = sizeof sizes / sizeof sizes[0];
    static uint8_t out[65536], in[65536];
    unsigned frags = 0, fragmented = 0;
    uint32_t chunk = (mtu - 40 - 8) & ~7u;
    for (unsigned i = 0; i < n; i++) {
        size_t udp = 8 + sizes[i];
        bool fits = 40 + udp <= mtu;
        if (!fits) {
            fragmented++;
            frags += (unsigned)((udp + chunk - 1) / chunk);
        }
        lab6_pattern(out, sizes[i], 10 + i);
        assert_int_equal(lab6_ep_send(&l, &e, "2001:db8::1", 7600, out, sizes[i]), 0);
        uint16_t sport = 0;
        assert_int_equal(lk_udp6_recv(kfd, in, sizeof in, 2000, NULL, &sport), (long)sizes[i]);
        assert_memory_equal(in, out, sizes[i]);
        assert_int_equal(sport, 7601);

        lab6_pattern(out, sizes[i], 20 + i);
        assert_int_equal(lk_udp6_sendto(kfd, out, sizes[i], "2001:db8::2", 7601), (long)sizes[i]);
        struct udp_rx_info info;
        assert_int_equal(lab6_ep_recv(&e, in, sizeof in, 2000, &info), (long)sizes[i]);
        assert_memory_equal(in, out, sizes[i]);
        assert_int_equal(info.sport, 7600);
    }
    /* The stack fragmented what it sent and reassembled what it got. */
    assert_int_equal(lab6_cnt(&l, "Ip6FragOKs"), fragmented);
    assert_int_equal(lab6_cnt(&l, "Ip6FragCreates"), frags);
    assert_int_equal(lab6_cnt_settle(&l, "Ip6ReasmOKs", fragmented), fragmented);
    assert_int_equal(lab6_cnt(&l, "Ip6ReasmReqds"), frags);
    assert_int_equal(lab6_cnt(&l, "Ip6ReasmFails"), 0);
    assert_int_equal(lab6_cnt_settle(&l, "Udp6InDatagrams", n), n);
    /* The kernel: the same numbers mirrored (same fragment size rule). */
    assert_int_equal(lab6_kcnt("Ip6FragOKs"), fragmented);
    assert_int_equal(lab6_kcnt("Ip6FragCreates"), frags);
    assert_int_equal(lab6_kcnt("Ip6ReasmOKs"), fragmented);
    assert_int_equal(lab6_kcnt("Ip6ReasmReqds"), frags);
    assert_int_equal(lab6_kcnt("Udp6InDatagrams"), n);
    lab6_ep_close(&l, &e);
    lk_close(kfd);
    lab6_down(&l);
}

static void test_frag_both_ways_mtu1500(void **state)
{
    (void)state;
    frag_both_ways(1500);
}

static void test_frag_both_ways_mtu9000(void **state)
{
    (void)state;
    frag_both_ways(9000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_too_big_from_forwarding_kernel),
        cmocka_unit_test(test_frag_both_ways_mtu1500),
        cmocka_unit_test(test_frag_both_ways_mtu9000),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
