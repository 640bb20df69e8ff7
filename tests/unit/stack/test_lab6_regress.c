/* SPDX-License-Identifier: MIT */
/*
 * Regressions found by the IPv6 lab (tests/lab/test_lab6_*.c, the Linux
 * kernel as the peer), each reproduced here on memdev with a manual clock
 * (nd_fixture.h: MAC 02:00:00:00:00:01, fe80::ff:fe00:1, 2001:db8::1/64).
 */
#include "nd_fixture.h"

static int setup_down(void **state)
{
    *state = fx_create(false, NULL);
    return 0;
}

static enum addr6_state state_of(struct fx *f, const uint8_t a[16])
{
    uint8_t x[16];
    enum addr6_state s;
    for (unsigned i = 0; addr6_get(f->st, i, x, NULL, &s, NULL); i++)
        if (memcmp(x, a, 16) == 0)
            return s;
    fail_msg("address not in the table");
    return ADDR6_TENTATIVE;
}

/* test_lab6_dad: the kernel owned 2001:db8::2 before the stack's DAD, so
 * the stack marked it DUPLICATE - and then could not reach the kernel AT
 * that address: the kernel's NA answering the stack's resolution NS was
 * dropped as "an NA claims our address".  A duplicate address is not ours
 * (RFC 4862 §5.4.5); its owner's NA resolves it like any other (RFC 4861
 * §7.2.5) and the queued packet goes out. */
static void na_for_our_duplicate_address_resolves_its_owner(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now); /* probes for the link-local and OUR_GUA */
    drain_tx(f);
    /* The owner defends OUR_GUA: unsolicited NA to all-nodes. */
    uint8_t m[64];
    size_t n = na_msg(m, OUR_GUA, PEER_MAC, false, false, true);
    inject_nd(f, PEER_MAC, OUR_GUA, ALL_NODES, 255, m, n);
    assert_int_equal(state_of(f, OUR_GUA), ADDR6_DUPLICATE);
    assert_int_equal(C(f, "NdDadConflicts"), 1);
    poll_at(f, T0 + 1 * NS); /* the link-local passes DAD (and sends an RS) */
    assert_int_equal(state_of(f, OUR_LL), ADDR6_PREFERRED);
    drain_tx(f);

    /* Talk to the owner: resolution NS from the link-local (the only
     * usable source), for OUR_GUA, to its solicited-node group. */
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, OUR_GUA, &t, 0x5a), OUR_GUA, f->now),
                     UDP_SEND_QUEUED);
    uint8_t sn[16];
    ipv6_solicited_node(OUR_GUA, sn);
    expect_ns(f, OUR_LL, OUR_GUA, sn, NULL);
    expect_no_tx(f);

    /* The owner's solicited NA. */
    n = na_msg(m, OUR_GUA, PEER_MAC, false, true, true);
    inject_nd(f, PEER_MAC, OUR_GUA, OUR_LL, 255, m, n);
    uint8_t mac[6];
    assert_int_equal(nd_neigh_get(f->st, OUR_GUA, mac, NULL), ND_NUD_REACHABLE);
    assert_memory_equal(mac, PEER_MAC, 6);
    expect_pkt(f, OUR_GUA, PEER_MAC, 0x5a);
    expect_no_tx(f);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.err, 0);
    /* Still a duplicate for us, and no second conflict was counted. */
    assert_int_equal(state_of(f, OUR_GUA), ADDR6_DUPLICATE);
    assert_int_equal(C(f, "NdDadConflicts"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(na_for_our_duplicate_address_resolves_its_owner,
                                        setup_down, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
