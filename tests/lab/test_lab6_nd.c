/* SPDX-License-Identifier: MIT */
/*
 * Lab (IPv6): Neighbor Discovery between the stack and the Linux kernel,
 * watched on the wire.
 *
 *     kernel 2001:db8::1/64 [wsk6nd0] <== TAP ==> wskstack 2001:db8::2/64
 *            AF_PACKET capture of the IPv6 frames in the namespace
 *
 * Direction: LK_DIR_IN = written by the stack into the TAP, LK_DIR_OUT =
 * sent by the kernel to the stack.  Only the ND messages each test is
 * about are counted (the kernel also sends MLD reports, its own DAD and
 * RSs; the stack its DAD probes and RSs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab6_stack.h"

#define CONFIG "tap=wsk6nd0;addr=2001:db8::2/64;host-addr=2001:db8::1/64"

static const uint8_t unspec[16];

/* An NS/NA target (RFC 4861 §4.3/§4.4: 16 bytes after the 8-byte header). */
static const uint8_t *nd_target(const struct lk_ip6 *f)
{
    return f->frame + f->l4_off + 8;
}

/* The link-layer address option of type `type` (1 source, 2 target) in an
 * NS/NA/RS, or NULL.  off = where the options start in the message. */
static const uint8_t *nd_lla(const struct lk_ip6 *f, size_t off, uint8_t type)
{
    const uint8_t *m = f->frame + f->l4_off;
    size_t len = f->payload_len;
    while (off + 8 <= len) {
        size_t ol = (size_t)m[off + 1] * 8;
        if (ol == 0 || off + ol > len)
            return NULL;
        if (m[off] == type && ol == 8)
            return m + off + 2;
        off += ol;
    }
    return NULL;
}

static bool is_ns_for(const struct lk_ip6 *f, const uint8_t target[16])
{
    return lab6_icmp_type(f) == 135 && memcmp(nd_target(f), target, 16) == 0;
}

static bool is_na_for(const struct lk_ip6 *f, const uint8_t target[16])
{
    return lab6_icmp_type(f) == 136 && memcmp(nd_target(f), target, 16) == 0;
}

/* Solicited-node multicast ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX. */
static void sol_node(const uint8_t a[16], uint8_t group[16], uint8_t mac[6])
{
    static const uint8_t pfx[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
    memcpy(group, pfx, 13);
    memcpy(group + 13, a + 13, 3);
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, group + 12, 4);
}

struct kneigh_ctx {
    const char *ifname, *addr, *state;
    struct lk_neigh ne;
};

static bool kernel_entry_is(void *p)
{
    struct kneigh_ctx *c = p;
    return lk_neigh6_get(c->ifname, c->addr, &c->ne) == 0 && strcmp(c->ne.state, c->state) == 0;
}

/* At start the stack probes its tentative addresses (RFC 4862 §5.4.2: NS
 * from ::, to the solicited-node group, no source link-layer option,
 * hop limit 255), the link-local first, then - once the link-local is
 * assigned - sends a Router Solicitation from it with its MAC (RFC 4861
 * §6.3.7, §4.1).  Exactly these three IPv6 frames in the first 2.5 s
 * (start delay < 1 s, RetransTimer 1 s, the next RS 4 s later). */
static void test_dad_probes_and_rs_at_start(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    int cap = lk_capture_open(NULL, 0x86dd);
    assert_true(cap >= 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    uint64_t t_start = lk_now_ns();

    unsigned n = 0;
    struct lk_ip6 *v = lab6_collect(cap, 64, 2500, &n);
    uint8_t global[16];
    lab6_parse("2001:db8::2", global);
    const uint8_t *want_ns[2] = {l.ll, global};
    unsigned ns = 0, rs = 0, from_stack = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct lk_ip6 *f = &v[i];
        if (f->dir != LK_DIR_IN)
            continue;
        from_stack++;
        assert_int_equal(f->ifindex, l.ifindex);
        assert_memory_equal(f->eth_src, l.mac, 6);
        assert_int_equal(f->hop_limit, 255);
        assert_int_equal(f->next_header, 58);
        assert_false(f->frag);
        assert_true(lab6_icmp_csum_ok(f));
        int type = lab6_icmp_type(f);
        const uint8_t *m = f->frame + f->l4_off;
        if (type == 135) {
            assert_true(ns < 2);
            uint8_t group[16], gmac[6];
            sol_node(want_ns[ns], group, gmac);
            assert_memory_equal(nd_target(f), want_ns[ns], 16); /* link-local first */
            assert_memory_equal(f->src, unspec, 16);
            assert_memory_equal(f->dst, group, 16);
            assert_memory_equal(f->eth_dst, gmac, 6);
            assert_int_equal(f->payload_len, 24); /* no options from :: */
            assert_int_equal(m[1], 0);            /* code */
            assert_int_equal(m[4] | m[5] | m[6] | m[7], 0); /* reserved */
            ns++;
        } else if (type == 133) {
            static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};
            static const uint8_t rmac[6] = {0x33, 0x33, 0, 0, 0, 2};
            assert_int_equal(ns, 2); /* after both probes */
            assert_memory_equal(f->src, l.ll, 16);
            assert_memory_equal(f->dst, all_routers, 16);
            assert_memory_equal(f->eth_dst, rmac, 6);
            assert_int_equal(f->payload_len, 16);
            assert_int_equal(m[1], 0);
            assert_int_equal(m[4] | m[5] | m[6] | m[7], 0);
            const uint8_t *slla = nd_lla(f, 8, 1);
            assert_non_null(slla);
            assert_memory_equal(slla, l.mac, 6);
            rs++;
        } else {
            fail_msg("unexpected IPv6 frame from the stack at start: ICMPv6 type %d", type);
        }
    }
    assert_int_equal(ns, 2);
    assert_int_equal(rs, 1);
    assert_int_equal(from_stack, 3);
    assert_int_equal(lab6_cnt(&l, "Icmp6OutNeighborSolicits"), 2);
    assert_int_equal(lab6_cnt(&l, "Icmp6OutRouterSolicits"), 1);
    assert_int_equal(lab6_cnt(&l, "NdDadConflicts"), 0);
    /* Both addresses are assigned by now. */
    enum addr6_state s;
    assert_true(lab6_addr(&l, l.ll, &s, NULL));
    assert_int_equal(s, ADDR6_PREFERRED);
    assert_true(lab6_addr(&l, global, &s, NULL));
    assert_int_equal(s, ADDR6_PREFERRED);
    assert_true(lk_now_ns() - t_start < 5000000000ull);
    free(v);
    lk_close(cap);
    lab6_down(&l);
}

/* The kernel resolves the stack: its multicast NS (with its MAC), the
 * stack's solicited NA unicast back (S=1, O=1, R=0, its MAC as target
 * link-layer address), and the kernel's entry becomes REACHABLE with the
 * stack's MAC. */
static void test_kernel_resolves_stack(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");
    int cap = lk_capture_open(l.ifname, 0x86dd);
    assert_true(cap >= 0);
    int64_t in_ns0 = lab6_cnt(&l, "Icmp6InNeighborSolicits");
    int64_t out_na0 = lab6_cnt(&l, "Icmp6OutNeighborAdvertisements");

    assert_true(lk_ping6("2001:db8::2", 0x6611, 1, 56, 2000) > 0);
    unsigned n = 0;
    struct lk_ip6 *v = lab6_collect(cap, 64, 300, &n);
    uint8_t target[16], kaddr[16], group[16], gmac[6];
    lab6_parse("2001:db8::2", target);
    lab6_parse("2001:db8::1", kaddr);
    sol_node(target, group, gmac);
    unsigned ns = 0, na = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct lk_ip6 *f = &v[i];
        const uint8_t *m = f->frame + f->l4_off;
        if (is_ns_for(f, target)) {
            assert_int_equal(f->dir, LK_DIR_OUT);
            assert_memory_equal(f->src, kaddr, 16);
            assert_memory_equal(f->dst, group, 16);
            assert_memory_equal(f->eth_dst, gmac, 6);
            assert_memory_equal(f->eth_src, l.kmac, 6);
            const uint8_t *slla = nd_lla(f, 24, 1);
            assert_non_null(slla);
            assert_memory_equal(slla, l.kmac, 6);
            ns++;
        } else if (is_na_for(f, target)) {
            assert_int_equal(f->dir, LK_DIR_IN);
            assert_true(lab6_icmp_csum_ok(f));
            assert_int_equal(f->hop_limit, 255);
            assert_memory_equal(f->src, target, 16);
            assert_memory_equal(f->dst, kaddr, 16);
            assert_memory_equal(f->eth_dst, l.kmac, 6); /* unicast reply */
            assert_memory_equal(f->eth_src, l.mac, 6);
            assert_int_equal(m[4] & 0xe0, 0x60); /* R=0 S=1 O=1 */
            const uint8_t *tlla = nd_lla(f, 24, 2);
            assert_non_null(tlla);
            assert_memory_equal(tlla, l.mac, 6);
            na++;
        }
    }
    assert_int_equal(ns, 1);
    assert_int_equal(na, 1);
    assert_int_equal(lab6_cnt_settle(&l, "Icmp6OutNeighborAdvertisements", out_na0 + 1),
                     out_na0 + 1);
    assert_int_equal(lab6_cnt(&l, "Icmp6InNeighborSolicits") - in_ns0, 1);

    struct kneigh_ctx kc = {.ifname = l.ifname, .addr = "2001:db8::2", .state = "REACHABLE"};
    assert_int_equal(lk_wait_until(kernel_entry_is, &kc, 1000, 5), 0);
    assert_true(kc.ne.has_mac);
    assert_memory_equal(kc.ne.mac, l.mac, 6);
    /* The stack learned the kernel from the NS's source link-layer option
     * (RFC 4861 §7.2.3): an entry with the kernel's MAC, unconfirmed. */
    uint8_t mac[6];
    enum nd_nud st6 = nd_neigh_get(l.st, kaddr, mac, NULL);
    assert_true(st6 == ND_NUD_STALE || st6 == ND_NUD_DELAY); /* DELAY once the reply went */
    assert_memory_equal(mac, l.kmac, 6);
    free(v);
    lk_close(cap);
    lab6_down(&l);
}

/* The stack resolves the kernel before its first datagram: exactly one
 * multicast NS from the stack (from the datagram's source, with its MAC),
 * the kernel's solicited NA (S=1, O=1, its MAC), the datagram delivered.
 * The stack's entry is REACHABLE with the kernel's MAC; the kernel learned
 * the stack from the NS (the stack's MAC, unconfirmed). */
static void test_stack_resolves_kernel(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");
    int cap = lk_capture_open(l.ifname, 0x86dd);
    assert_true(cap >= 0);
    int kfd = lk_udp6_open("2001:db8::1", 6100);
    assert_true(kfd >= 0);
    struct lab6_ep e;
    lab6_ep_open(&l, &e, "2001:db8::2", 6000);
    int64_t out_ns0 = lab6_cnt(&l, "Icmp6OutNeighborSolicits");
    int64_t in_na0 = lab6_cnt(&l, "Icmp6InNeighborAdvertisements");
    uint8_t kaddr[16], saddr[16], group[16], gmac[6];
    lab6_parse("2001:db8::1", kaddr);
    lab6_parse("2001:db8::2", saddr);
    assert_int_equal(nd_neigh_get(l.st, kaddr, NULL, NULL), ND_NUD_NONE);

    static const char msg[] = "resolve me over IPv6";
    assert_int_equal(lab6_ep_send(&l, &e, "2001:db8::1", 6100, msg, sizeof msg - 1), 0);
    char buf[64], src[LK_ADDR6STRLEN];
    uint16_t sport = 0;
    assert_int_equal(lk_udp6_recv(kfd, buf, sizeof buf, 2000, src, &sport), sizeof msg - 1);
    assert_memory_equal(buf, msg, sizeof msg - 1);
    assert_string_equal(src, "2001:db8::2");
    assert_int_equal(sport, 6000);

    unsigned n = 0;
    struct lk_ip6 *v = lab6_collect(cap, 64, 300, &n);
    sol_node(kaddr, group, gmac);
    unsigned ns = 0, na = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct lk_ip6 *f = &v[i];
        const uint8_t *m = f->frame + f->l4_off;
        if (is_ns_for(f, kaddr)) {
            assert_int_equal(f->dir, LK_DIR_IN);
            assert_true(lab6_icmp_csum_ok(f));
            assert_int_equal(f->hop_limit, 255);
            assert_memory_equal(f->src, saddr, 16);
            assert_memory_equal(f->dst, group, 16);
            assert_memory_equal(f->eth_dst, gmac, 6);
            assert_memory_equal(f->eth_src, l.mac, 6);
            const uint8_t *slla = nd_lla(f, 24, 1);
            assert_non_null(slla);
            assert_memory_equal(slla, l.mac, 6);
            ns++;
        } else if (is_na_for(f, kaddr)) {
            assert_int_equal(f->dir, LK_DIR_OUT);
            assert_memory_equal(f->src, kaddr, 16);
            assert_memory_equal(f->dst, saddr, 16);
            assert_memory_equal(f->eth_dst, l.mac, 6);
            assert_int_equal(m[4] & 0xe0, 0x60); /* R=0 (no forwarding) S=1 O=1 */
            const uint8_t *tlla = nd_lla(f, 24, 2);
            assert_non_null(tlla);
            assert_memory_equal(tlla, l.kmac, 6);
            na++;
        }
    }
    assert_int_equal(ns, 1);
    assert_int_equal(na, 1);
    assert_int_equal(lab6_cnt(&l, "Icmp6OutNeighborSolicits") - out_ns0, 1);
    assert_int_equal(lab6_cnt(&l, "Icmp6InNeighborAdvertisements") - in_na0, 1);
    assert_int_equal(lab6_cnt(&l, "NdResolveFailed"), 0);

    uint8_t mac[6];
    bool router = true;
    assert_int_equal(nd_neigh_get(l.st, kaddr, mac, &router), ND_NUD_REACHABLE);
    assert_memory_equal(mac, l.kmac, 6);
    assert_false(router);
    struct lk_neigh ne;
    assert_int_equal(lk_neigh6_get(l.ifname, "2001:db8::2", &ne), 0);
    /* STALE from the NS (RFC 4861 §7.2.3), then DELAY at once: the kernel
     * sent its NA through that entry (§7.3.3; PROBE only after 5 s). */
    assert_string_equal(ne.state, "DELAY");
    assert_true(ne.has_mac);
    assert_memory_equal(ne.mac, l.mac, 6);

    lab6_ep_close(&l, &e);
    lk_close(kfd);
    free(v);
    lk_close(cap);
    lab6_down(&l);
}

/* Resolution of an address nobody has: MAX_MULTICAST_SOLICIT (3) NS one
 * RetransTimer apart, then the send fails with -EHOSTUNREACH
 * (NdResolveFailed 1) - and the kernel saw exactly those 3 NS. */
static void test_resolution_fails_after_three_ns(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up(&l, CONFIG);
    lab6_wait_dad(&l, "2001:db8::2");
    int cap = lk_capture_open(l.ifname, 0x86dd);
    assert_true(cap >= 0);
    struct lab6_ep e;
    lab6_ep_open(&l, &e, NULL, 0);
    uint8_t nobody[16];
    lab6_parse("2001:db8::77", nobody);

    static const char msg[] = "nobody home";
    assert_int_equal(lab6_ep_send(&l, &e, "2001:db8::77", 9, msg, sizeof msg - 1), -EHOSTUNREACH);
    unsigned n = 0;
    struct lk_ip6 *v = lab6_collect(cap, 64, 200, &n);
    uint8_t group[16], gmac[6];
    sol_node(nobody, group, gmac);
    unsigned ns = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!is_ns_for(&v[i], nobody))
            continue;
        assert_int_equal(v[i].dir, LK_DIR_IN);
        assert_memory_equal(v[i].dst, group, 16);
        assert_memory_equal(v[i].eth_dst, gmac, 6);
        ns++;
    }
    free(v);
    assert_int_equal(ns, 3);
    assert_int_equal(lab6_cnt(&l, "NdResolveFailed"), 1);
    assert_int_equal(lab6_cnt(&l, "NdQueueDrops"), 1);
    assert_int_equal(nd_neigh_get(l.st, nobody, NULL, NULL), ND_NUD_NONE);
    lab6_ep_close(&l, &e);
    lk_close(cap);
    lab6_down(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dad_probes_and_rs_at_start),
        cmocka_unit_test(test_kernel_resolves_stack),
        cmocka_unit_test(test_stack_resolves_kernel),
        cmocka_unit_test(test_resolution_fails_after_three_ns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
