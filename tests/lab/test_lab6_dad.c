/* SPDX-License-Identifier: MIT */
/*
 * Lab (IPv6): Duplicate Address Detection (RFC 4862 §5.4) against the
 * Linux kernel.
 *
 *     kernel 2001:db8::1/64 (+ the address under test)  [wsk6dad0]
 *        <== TAP ==>  wskstack 2001:db8::2/64, 2001:db8::3/64
 *
 * The stack is brought up in two halves (lab6_up_split): the TAP exists,
 * the kernel side gets its address (`ip -6 addr add ... nodad` through
 * libnl, so the kernel owns it at once and defends it), and only THEN does
 * the stack start DAD - with no random start delay, so the probes go out
 * at once and the verdict comes one RetransTimer (1 s) later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <linux/if_addr.h>

#include "lab6_stack.h"

#define CONFIG "tap=wsk6dad0;addr=2001:db8::2/64;addr=2001:db8::3/64;host-addr=2001:db8::1/64"

struct join_wait {
    const char *ifname;
    char group[LK_ADDR6STRLEN];
};

static bool kernel_joined(void *ctx)
{
    struct join_wait *w = ctx;
    return lk_mcast6_joined(w->ifname, w->group) == 1;
}

/* `ip -6 addr add PREFIX dev TAP nodad`, then wait (bounded) until the
 * kernel listens to the address's solicited-node group: it joins it
 * asynchronously, and a probe arriving before that is not heard. */
static void kernel_add_and_listen(struct lab6 *l, const char *prefix)
{
    int rc = lk_addr6_add(l->ifname, prefix, true);
    if (rc != 0)
        fail_msg("ip -6 addr add %s dev %s nodad: %d", prefix, l->ifname, rc);
    unsigned flags = 0;
    char a[LK_ADDR6STRLEN];
    snprintf(a, sizeof a, "%.*s", (int)(strchr(prefix, '/') - prefix), prefix);
    assert_int_equal(lk_addr6_flags(l->ifname, a, &flags), 0);
    assert_int_equal(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED), 0); /* owned at once */
    uint8_t x[16], sn[16];
    lab6_parse(a, x);
    ipv6_solicited_node(x, sn);
    struct join_wait w = {.ifname = l->ifname};
    lk_addr6_str(sn, w.group);
    if (lk_wait_until(kernel_joined, &w, 2000, 2) != 0)
        fail_msg("the kernel did not join %s on %s within 2 s", w.group, l->ifname);
}

static void kernel_takes(struct lab6 *l, void *ctx)
{
    kernel_add_and_listen(l, ctx);
}

/* The kernel owns 2001:db8::2 before the stack probes it: the kernel
 * answers the stack's DAD probe with an NA, the stack marks the address
 * DUPLICATE (NdDadConflicts 1) and never uses it - not as a source, not
 * for a bind - while 2001:db8::3 and the link-local pass DAD and work. */
static void test_kernel_owns_address_first(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    int cap = lk_capture_open(NULL, 0x86dd);
    assert_true(cap >= 0);
    struct lab6 l;
    lab6_up_split(&l, CONFIG, kernel_takes, "2001:db8::2/64", 0);
    uint8_t dup[16], other[16];
    lab6_parse("2001:db8::2", dup);
    lab6_parse("2001:db8::3", other);

    lab6_wait_addr(&l, dup, ADDR6_DUPLICATE, 2000);
    lab6_wait_dad(&l, "2001:db8::3");
    assert_int_equal(lab6_cnt_settle(&l, "NdDadConflicts", 1), 1);
    enum addr6_origin o;
    enum addr6_state s;
    assert_true(lab6_addr(&l, dup, &s, &o));
    assert_int_equal(s, ADDR6_DUPLICATE);
    assert_int_equal(o, ADDR6_MANUAL);
    /* The kernel still owns it (it defended, it did not lose it). */
    unsigned flags = 0;
    assert_int_equal(lk_addr6_flags(l.ifname, "2001:db8::2", &flags), 0);
    assert_int_equal(flags & IFA_F_DADFAILED, 0);

    /* Not ours for a bind, not usable as a chosen source. */
    struct lab6_ep bad;
    memset(&bad, 0, sizeof bad);
    bad.ep.ops = &lab6_ep_ops;
    bad.ep.flags = UDP_EP_V6;
    struct ip_addr la = {.af = IPA_V6};
    memcpy(la.v6, dup, 16);
    assert_int_equal(udp_bind(l.st, &bad.ep, &la, 6200), -EADDRNOTAVAIL);

    /* A wildcard endpoint talking to the kernel gets 2001:db8::3. */
    int kfd = lk_udp6_open("2001:db8::1", 6201);
    assert_true(kfd >= 0);
    struct lab6_ep e;
    lab6_ep_open(&l, &e, NULL, 6202);
    static const char msg[] = "from the unique address";
    assert_int_equal(lab6_ep_send(&l, &e, "2001:db8::1", 6201, msg, sizeof msg - 1), 0);
    char buf[64], src[LK_ADDR6STRLEN];
    assert_int_equal(lk_udp6_recv(kfd, buf, sizeof buf, 2000, src, NULL), sizeof msg - 1);
    assert_string_equal(src, "2001:db8::3");
    /* ... and an explicit source 2001:db8::2 is refused. */
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = sizeof msg - 1};
    struct udp_send_args a = {.dport = 6201, .ttl = -1, .tos = -1, .iov = &iov, .iovcnt = 1,
                              .len = sizeof msg - 1};
    a.dst.af = IPA_V6;
    lab6_parse("2001:db8::1", a.dst.v6);
    a.src.af = IPA_V6;
    memcpy(a.src.v6, dup, 16);
    assert_int_equal(udp_send(l.st, &e.ep, &a), -EADDRNOTAVAIL);

    /* The other addresses answer the kernel. */
    assert_true(lk_ping6("2001:db8::3", 0x6621, 1, 56, 2000) > 0);
    assert_true(lk_ping6(l.ll_str, 0x6621, 2, 56, 2000) > 0);

    /* On the wire: one DAD probe for 2001:db8::2 (from ::), answered by
     * one NA of the kernel to all-nodes; no frame of the stack ever had
     * 2001:db8::2 as its source.  (The pings above came FROM 2001:db8::2 -
     * the kernel's best source for ::3 - so the stack resolved the kernel
     * at that address to answer: the regression test_lab6_regress.c
     * keeps.) */
    unsigned n = 0;
    struct lk_ip6 *v = lab6_collect(cap, 256, 200, &n);
    unsigned probes = 0, kernel_na = 0;
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    static const uint8_t unspec[16];
    for (unsigned i = 0; i < n; i++) {
        const struct lk_ip6 *f = &v[i];
        int t = lab6_icmp_type(f);
        if (f->dir == LK_DIR_IN) {
            assert_memory_not_equal(f->src, dup, 16);
            if (t == 135 && memcmp(f->frame + f->l4_off + 8, dup, 16) == 0 &&
                memcmp(f->src, unspec, 16) == 0)
                probes++;
        } else if (t == 136 && memcmp(f->frame + f->l4_off + 8, dup, 16) == 0 &&
                   memcmp(f->dst, all_nodes, 16) == 0) {
            assert_int_equal(f->frame[f->l4_off + 4] & 0x40, 0); /* S=0: unsolicited */
            kernel_na++;
        }
    }
    free(v);
    assert_int_equal(probes, 1);
    assert_int_equal(kernel_na, 1);

    lab6_ep_close(&l, &e);
    lk_close(kfd);
    lk_close(cap);
    lab6_down(&l);
}

/* The other direction: the stack owns 2001:db8::2 and the kernel runs DAD
 * for it (`ip -6 addr add` WITH DAD): the stack answers the kernel's probe
 * (an NA to all-nodes, RFC 4861 §7.2.4) and the kernel marks its copy
 * dadfailed.  The stack's address is untouched. */
static void test_stack_defends_its_address(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up_split(&l, CONFIG, NULL, NULL, 0);
    lab6_wait_dad(&l, "2001:db8::2");
    int64_t na0 = lab6_cnt(&l, "Icmp6OutNeighborAdvertisements");

    assert_int_equal(lk_addr6_add(l.ifname, "2001:db8::2/64", false), 0);
    unsigned flags = 0;
    uint64_t end = lk_now_ns() + 4000000000ull; /* kernel: delay < 1 s + 1 s */
    while (lk_now_ns() < end) {
        assert_int_equal(lk_addr6_flags(l.ifname, "2001:db8::2", &flags), 0);
        if (flags & IFA_F_DADFAILED)
            break;
        lk_sleep_ms(20);
    }
    assert_true(flags & IFA_F_DADFAILED);
    assert_int_equal(lab6_cnt_settle(&l, "Icmp6OutNeighborAdvertisements", na0 + 1), na0 + 1);
    assert_int_equal(lab6_cnt(&l, "NdDadConflicts"), 0);
    uint8_t a[16];
    lab6_parse("2001:db8::2", a);
    enum addr6_state s;
    assert_true(lab6_addr(&l, a, &s, NULL));
    assert_int_equal(s, ADDR6_PREFERRED);
    lab6_down(&l);
}

/* The kernel owns the stack's LINK-LOCAL address (same EUI-64): the
 * stack's MAC is as good as duplicated, so it disables IPv6 on the
 * interface (RFC 4862 §5.4.5): no address is usable, no RS is sent, the
 * global address stops its DAD (it can never be assigned). */
static void kernel_takes_ll(struct lab6 *l, void *ctx)
{
    (void)ctx;
    char pfx[LK_ADDR6STRLEN + 4], a[LK_ADDR6STRLEN];
    snprintf(pfx, sizeof pfx, "%s/64", lk_addr6_str(l->ll, a));
    kernel_add_and_listen(l, pfx);
}

static void test_link_local_duplicate_disables_ipv6(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab6 l;
    lab6_up_split(&l, CONFIG, kernel_takes_ll, NULL, 0);
    lab6_wait_addr(&l, l.ll, ADDR6_DUPLICATE, 2000);
    lk_sleep_ms(1500); /* past the RetransTimer the other probes would need */
    assert_int_equal(lab6_cnt(&l, "NdDadConflicts"), 1);
    assert_int_equal(lab6_cnt(&l, "Icmp6OutRouterSolicits"), 0);
    uint8_t g[16];
    lab6_parse("2001:db8::2", g);
    assert_false(addr6_is_local(l.st, g, true));
    assert_false(addr6_is_local(l.st, l.ll, true));
    uint8_t src[16];
    assert_int_equal(addr6_select_source(l.st, g, src, NULL), -EADDRNOTAVAIL);
    assert_int_equal(lk_ping6("2001:db8::2", 0x6622, 1, 8, 500), -ETIMEDOUT);
    lab6_down(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_owns_address_first),
        cmocka_unit_test(test_stack_defends_its_address),
        cmocka_unit_test(test_link_local_duplicate_disables_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
