/* SPDX-License-Identifier: MIT */
/*
 * Lab (IPv6): stateless address autoconfiguration (RFC 4862) from a real
 * radvd.
 *
 *     kernel 2001:db8:1::1/64, forwarding on   [wsk6ra0]  <== TAP ==>  wskstack
 *     radvd on the kernel side of the TAP:                       fe80::<EUI-64>
 *       prefix 2001:db8:1::/64, autonomous, on-link         -> 2001:db8:1::<EUI-64>
 *
 * radvd runs inside this test's namespace only, on this TAP only, from a
 * generated configuration in a temporary directory (lk_radvd_start), with
 * short intervals; every wait is bounded.  IPv6 forwarding is switched on
 * in the namespace because radvd advertises a router lifetime of 0 on an
 * interface that does not forward.  radvd missing is a FAILURE, not a
 * skip: tools/bootstrap.sh installs it (CI runs it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab6_stack.h"

#define CONFIG "tap=wsk6ra0;host-addr=2001:db8:1::1/64"

static const char RADVD_IFACE[] =
    "    AdvSendAdvert on;\n"
    "    MinRtrAdvInterval 3;\n"
    "    MaxRtrAdvInterval 4;\n"
    "    AdvDefaultLifetime 60;\n"
    "    prefix 2001:db8:1::/64 {\n"
    "        AdvOnLink on;\n"
    "        AdvAutonomous on;\n"
    "        AdvValidLifetime 600;\n"
    "        AdvPreferredLifetime 300;\n"
    "    };";

/* Namespace, forwarding, the stack, the kernel's link-local (radvd's
 * source address) ready, radvd started. */
static struct lk_radvd *bring_up(struct lab6 *l, const char *config, char kll[LK_ADDR6STRLEN])
{
    assert_int_equal(tu_enter_netns(), 0);
    assert_int_equal(lk_sysctl("net/ipv6/conf/all/forwarding", "1"), 0);
    lab6_up(l, config);
    lab6_kernel_ll(l, kll);
    char err[512] = "";
    struct lk_radvd *r = NULL;
    int rc = lk_radvd_start(l->ifname, RADVD_IFACE, 3000, &r, err, sizeof err);
    if (rc != 0)
        fail_msg("starting radvd on %s: %d: %s", l->ifname, rc, err);
    return r;
}

/* The one router of the Default Router List. */
static void only_router(struct lab6 *l, uint8_t out[16])
{
    uint64_t expires = 0;
    pthread_mutex_lock(&l->st->lock);
    bool have = route6_router_get(l->st, 0, out, &expires);
    bool second = route6_router_get(l->st, 1, NULL, NULL);
    pthread_mutex_unlock(&l->st->lock);
    assert_true(have);
    assert_false(second);
    assert_true(expires != UINT64_MAX); /* learned (lifetime 60 s), not gateway= */
}

static void test_slaac_address_from_radvd(void **state)
{
    (void)state;
    struct lab6 l;
    char kll[LK_ADDR6STRLEN];
    struct lk_radvd *r = bring_up(&l, CONFIG, kll);

    uint8_t a[16];
    lab6_parse("2001:db8:1::", a);
    ipv6_eui64_iid(l.mac, a + 8);
    char as[LK_ADDR6STRLEN];
    lk_addr6_str(a, as);
    /* RA (radvd's first, or its answer to our RS), then DAD (1 s). */
    lab6_wait_addr(&l, a, ADDR6_PREFERRED, 15000);
    enum addr6_origin o;
    assert_true(lab6_addr(&l, a, NULL, &o));
    assert_int_equal(o, ADDR6_SLAAC);
    assert_int_equal(lab6_addr_count(&l), 2); /* link-local + SLAAC */
    assert_int_equal(lab6_cnt(&l, "NdDadConflicts"), 0);
    assert_true(lab6_cnt(&l, "Icmp6InRouterAdvertisements") >= 1);
    assert_int_equal(lab6_cnt(&l, "Icmp6InErrors"), 0);

    /* The default router is the kernel's link-local address. */
    uint8_t rtr[16], k[16];
    only_router(&l, rtr);
    lab6_parse(kll, k);
    assert_memory_equal(rtr, k, 16);
    uint8_t mac[6];
    bool is_router = false;
    assert_true(nd_neigh_get(l.st, k, mac, &is_router) != ND_NUD_NONE);
    assert_true(is_router);
    assert_memory_equal(mac, l.kmac, 6);

    /* The kernel reaches the new address (on-link through its own
     * 2001:db8:1::1/64), and the stack answers from it. */
    for (uint16_t seq = 1; seq <= 3; seq++)
        assert_true(lk_ping6(as, 0x6631, seq, 56, 2000) > 0);
    /* A destination off the prefix goes to the default router: the
     * stack's source is the SLAAC address (RFC 6724), the next hop the
     * kernel's link-local. */
    uint8_t nh[16], off[16];
    lab6_parse("2001:db8:77::5", off);
    pthread_mutex_lock(&l.st->lock);
    int rc = route6_lookup(l.st, off, nh);
    pthread_mutex_unlock(&l.st->lock);
    assert_int_equal(rc, 0);
    assert_memory_equal(nh, k, 16);
    uint8_t src[16];
    assert_int_equal(addr6_select_source(l.st, off, src, NULL), 0);
    assert_memory_equal(src, a, 16);

    lk_radvd_stop(r);
    lab6_down(&l);
}

struct ra_wait {
    struct lab6 *l;
};

static bool got_ra(void *ctx)
{
    struct ra_wait *w = ctx;
    return lab6_cnt(w->l, "Icmp6InRouterAdvertisements") >= 1;
}

/* slaac=off: the same RAs give a default router but no address. */
static void test_slaac_off_no_address(void **state)
{
    (void)state;
    struct lab6 l;
    char kll[LK_ADDR6STRLEN];
    struct lk_radvd *r = bring_up(&l, CONFIG ";slaac=off", kll);

    struct ra_wait w = {&l};
    if (lk_wait_until(got_ra, &w, 15000, 10) != 0)
        fail_msg("no Router Advertisement from radvd within 15 s");
    lk_sleep_ms(1500); /* what a formed address would need to pass DAD */
    assert_int_equal(lab6_addr_count(&l), 1); /* the link-local only */
    uint8_t a[16];
    lab6_parse("2001:db8:1::", a);
    ipv6_eui64_iid(l.mac, a + 8);
    assert_false(lab6_addr(&l, a, NULL, NULL));
    uint8_t rtr[16], k[16];
    only_router(&l, rtr);
    lab6_parse(kll, k);
    assert_memory_equal(rtr, k, 16);
    char as[LK_ADDR6STRLEN];
    assert_int_equal(lk_ping6(lk_addr6_str(a, as), 0x6632, 1, 8, 500), -ETIMEDOUT);
    lk_radvd_stop(r);
    lab6_down(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slaac_address_from_radvd),
        cmocka_unit_test(test_slaac_off_no_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
