/* SPDX-License-Identifier: MIT */
/* IPv6 routing (stack/route6.c): longest-prefix match checked against a
 * deliberately naive scan with random routes (and random removals of RA
 * prefixes, which exercise the hash deletion), on-link prefixes from addr=,
 * gateway= as a static default router, link-local always on-link, default
 * router selection (RFC 4861 §6.3.6), the Prefix List bound. */
#include "nd_fixture.h"
#include "stack/nd_impl.h"

static int setup_plain(void **state)
{
    *state = fx_create(true, NULL);
    return 0;
}

static int setup_gw(void **state)
{
    *state = fx_create(true, "fe80::fe");
    return 0;
}

static int lookup(struct fx *f, const uint8_t dst[16], uint8_t nh[16])
{
    pthread_mutex_lock(&f->st->lock);
    int rc = route6_lookup(f->st, dst, nh);
    pthread_mutex_unlock(&f->st->lock);
    return rc;
}

static int add(struct fx *f, const uint8_t dst[16], uint8_t plen, const uint8_t *gw)
{
    pthread_mutex_lock(&f->st->lock);
    int rc = route6_add(f->st, dst, plen, gw);
    pthread_mutex_unlock(&f->st->lock);
    return rc;
}

/* ---- the naive table ----------------------------------------------------------------- */

struct naive {
    uint8_t dst[16];
    uint8_t plen;
    bool has_gw, live;
    uint8_t gw[16];
};

static bool prefix_match(const uint8_t a[16], const uint8_t b[16], unsigned plen)
{
    for (unsigned i = 0; i < plen; i++) {
        unsigned byte = i / 8, bit = 7 - i % 8;
        if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
            return false;
    }
    return true;
}

static int naive_lookup(const struct naive *t, unsigned n, const uint8_t dst[16], uint8_t nh[16])
{
    int best = -1;
    for (unsigned i = 0; i < n; i++)
        if (t[i].live && prefix_match(t[i].dst, dst, t[i].plen) &&
            (best < 0 || t[i].plen > t[best].plen))
            best = (int)i;
    if (best < 0)
        return -ENETUNREACH;
    memcpy(nh, t[best].has_gw ? t[best].gw : dst, 16);
    return 0;
}

static void rnd_bytes(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(rand() >> 7);
}

/* A global-unicast-looking address (2000::/3): never link-local,
 * multicast, :: or ::1, which route6_lookup answers without the table. */
static void rnd_global(uint8_t a[16])
{
    rnd_bytes(a, 16);
    a[0] = (uint8_t)(0x20 | (a[0] & 0x1f));
}

#define NROUTES 600

static void lpm_matches_naive_scan(void **state)
{
    struct fx *f = *state;
    static struct naive t[NROUTES + 1];
    unsigned n = 0;
    srand(4861);
    /* the fixture's addr= route */
    memcpy(t[n].dst, OUR_GUA, 16);
    t[n].plen = 64;
    t[n].live = true;
    memset(t[n].dst + 8, 0, 8);
    n++;
    for (unsigned i = 0; i < NROUTES; i++) {
        struct naive r = {.live = true};
        /* cluster under a few parents so that prefixes nest */
        rnd_global(r.dst);
        if (i % 3)
            memcpy(r.dst, t[rand() % n].dst, 1 + rand() % 12);
        r.plen = (uint8_t)(1 + rand() % 128);
        r.has_gw = rand() % 2;
        if (r.has_gw)
            rnd_global(r.gw);
        int rc = add(f, r.dst, r.plen, r.has_gw ? r.gw : NULL);
        /* the naive table keeps masked prefixes, like route6.c */
        for (unsigned b = r.plen; b < 128; b++)
            r.dst[b / 8] &= (uint8_t)~(1u << (7 - b % 8));
        bool dup = false;
        for (unsigned j = 0; j < n; j++)
            if (t[j].plen == r.plen && memcmp(t[j].dst, r.dst, 16) == 0)
                dup = true;
        assert_int_equal(rc, dup ? -EEXIST : 0);
        if (!dup)
            t[n++] = r;
    }
    for (unsigned k = 0; k < 20000; k++) {
        uint8_t dst[16], nh1[16], nh2[16];
        rnd_global(dst);
        if (k % 2) /* near a route: its prefix with random low bits */
            memcpy(dst, t[rand() % n].dst, (size_t)(rand() % 17));
        if (ipv6_is_unspecified(dst) || ipv6_is_loopback(dst))
            continue; /* a whole masked prefix can be ::, never routed */
        int r1 = lookup(f, dst, nh1), r2 = naive_lookup(t, n, dst, nh2);
        assert_int_equal(r1, r2);
        if (r1 == 0)
            assert_memory_equal(nh1, nh2, 16);
    }
}

static void ra_prefix_removal_keeps_table_consistent(void **state)
{
    struct fx *f = *state;
    static struct naive t[400];
    unsigned n = 0;
    srand(6980);
    /* many /64s in one hash table, static ones and RA ones interleaved */
    for (unsigned i = 0; i < 300; i++) {
        struct naive r = {.live = true, .plen = 64};
        r.dst[0] = 0x20;
        r.dst[1] = 0x01;
        rnd_bytes(r.dst + 2, 6);
        bool ra = i % 20 == 0; /* 15 RA prefixes: below the bound of 16 */
        pthread_mutex_lock(&f->st->lock);
        int rc = ra ? (route6_prefix_update(f->st, r.dst, 64, 3600, f->now) == RT6_PREFIX_ADDED ? 0 : -1)
                    : route6_add(f->st, r.dst, 64, NULL);
        pthread_mutex_unlock(&f->st->lock);
        assert_int_equal(rc, 0);
        r.has_gw = false;
        r.gw[0] = ra; /* remember which are RA-learned */
        t[n++] = r;
    }
    /* remove the RA ones (lifetime 0), in a shuffled order */
    unsigned order[400], m = 0;
    for (unsigned i = 0; i < n; i++)
        if (t[i].gw[0])
            order[m++] = i;
    for (unsigned i = m; i > 1; i--) {
        unsigned j = (unsigned)rand() % i, x = order[i - 1];
        order[i - 1] = order[j];
        order[j] = x;
    }
    for (unsigned k = 0; k < m; k++) {
        pthread_mutex_lock(&f->st->lock);
        assert_int_equal(route6_prefix_update(f->st, t[order[k]].dst, 64, 0, f->now), RT6_PREFIX_REMOVED);
        pthread_mutex_unlock(&f->st->lock);
        t[order[k]].live = false;
        for (unsigned i = 0; i < n; i++) {
            uint8_t dst[16], nh1[16], nh2[16];
            memcpy(dst, t[i].dst, 16);
            dst[15] = 7;
            int r1 = lookup(f, dst, nh1), r2 = naive_lookup(t, n, dst, nh2);
            assert_int_equal(r1, r2);
        }
    }
    /* a static (addr=) prefix is not touched by RAs */
    pthread_mutex_lock(&f->st->lock);
    assert_int_equal(route6_prefix_update(f->st, OUR_GUA, 64, 0, f->now), RT6_PREFIX_STATIC);
    pthread_mutex_unlock(&f->st->lock);
}

/* ---- on-link, link-local, gateway, default router ---------------------------------------- */

static void onlink_linklocal_and_gateway(void **state)
{
    struct fx *f = *state;
    static const uint8_t gw[16] = {0xfe, 0x80, [15] = 0xfe};
    static const uint8_t onlink[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x55};
    static const uint8_t offlink[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 0x55};
    static const uint8_t ll[16] = {0xfe, 0x80, [15] = 0x77};
    static const uint8_t ll2[16] = {0xfe, 0xbf, [15] = 0x77}; /* still fe80::/10 */
    static const uint8_t loop[16] = {[15] = 1};
    uint8_t nh[16];
    /* addr=2001:db8::1/64 -> on-link */
    assert_int_equal(lookup(f, onlink, nh), 0);
    assert_memory_equal(nh, onlink, 16);
    /* gateway= -> default router */
    assert_int_equal(lookup(f, offlink, nh), 0);
    assert_memory_equal(nh, gw, 16);
    /* link-local and multicast: on-link whatever the table says */
    assert_int_equal(lookup(f, ll, nh), 0);
    assert_memory_equal(nh, ll, 16);
    assert_int_equal(lookup(f, ll2, nh), 0);
    assert_memory_equal(nh, ll2, 16);
    assert_int_equal(lookup(f, ALL_NODES, nh), 0);
    assert_memory_equal(nh, ALL_NODES, 16);
    /* never on a link */
    assert_int_equal(lookup(f, UNSPEC, nh), -ENETUNREACH);
    assert_int_equal(lookup(f, loop, nh), -ENETUNREACH);
    /* configuration errors */
    assert_int_equal(add(f, UNSPEC, 0, gw), -EEXIST);
    assert_int_equal(add(f, onlink, 129, NULL), -EINVAL);
    assert_int_equal(add(f, UNSPEC, 0, ALL_NODES), -EINVAL);
    assert_int_equal(add(f, onlink, 64, NULL), -EEXIST);
    /* an explicit route through a gateway, and a more specific on-link one */
    static const uint8_t p48[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05};
    static const uint8_t p64[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x07};
    static const uint8_t gw2[16] = {0xfe, 0x80, [15] = 0x99};
    static const uint8_t in48[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x08, [15] = 1};
    static const uint8_t in64[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x07, [15] = 1};
    assert_int_equal(add(f, p48, 48, gw2), 0);
    assert_int_equal(add(f, p64, 64, NULL), 0);
    assert_int_equal(lookup(f, in48, nh), 0);
    assert_memory_equal(nh, gw2, 16);
    assert_int_equal(lookup(f, in64, nh), 0);
    assert_memory_equal(nh, in64, 16);
    /* gateway= is static: an RA from it with lifetime 0 does not remove it */
    uint8_t m[32];
    struct nd_ra_repr ra = {.router_lifetime = 0};
    size_t n = nd_ra_emit(&ra, m);
    inject_nd(f, RTR_MAC, gw, ALL_NODES, 255, m, n);
    assert_int_equal(lookup(f, offlink, nh), 0);
    assert_memory_equal(nh, gw, 16);
}

static void no_router_no_route(void **state)
{
    struct fx *f = *state;
    static const uint8_t offlink[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 0x55};
    uint8_t nh[16];
    /* RFC 5942 §4: never assume on-link */
    assert_int_equal(lookup(f, offlink, nh), -ENETUNREACH);
}

static void router_selection_prefers_reachable(void **state)
{
    struct fx *f = *state;
    static const uint8_t gw[16] = {0xfe, 0x80, [15] = 0xfe};
    static const uint8_t offlink[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 0x55};
    uint8_t m[32], nh[16];
    /* a second router from an RA, no SLLA: no cache entry for either */
    struct nd_ra_repr ra = {.router_lifetime = 1800};
    size_t n = nd_ra_emit(&ra, m);
    inject_nd(f, RTR_MAC, RTR2_LL, ALL_NODES, 255, m, n);
    /* §6.3.6: none known reachable -> round-robin */
    assert_int_equal(lookup(f, offlink, nh), 0);
    assert_memory_equal(nh, gw, 16);
    assert_int_equal(lookup(f, offlink, nh), 0);
    assert_memory_equal(nh, RTR2_LL, 16);
    assert_int_equal(lookup(f, offlink, nh), 0);
    assert_memory_equal(nh, gw, 16);
    /* fe80::fe resolving (INCOMPLETE: suspect), fe80::fd known (STALE):
     * always fe80::fd */
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, gw, &t, 1), gw, f->now), UDP_SEND_QUEUED);
    drain_tx(f);
    struct nd_ra_repr ra2 = {.router_lifetime = 1800, .has_slla = true};
    memcpy(ra2.slla, RTR_MAC, 6);
    n = nd_ra_emit(&ra2, m);
    inject_nd(f, RTR_MAC, RTR2_LL, ALL_NODES, 255, m, n);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lookup(f, offlink, nh), 0);
        assert_memory_equal(nh, RTR2_LL, 16);
    }
    /* fe80::fe answers: both reachable -> the first in the list */
    n = na_msg(m, gw, PEER_MAC2, true, true, true);
    inject_nd(f, PEER_MAC2, gw, OUR_GUA, 255, m, n);
    drain_tx(f);
    assert_int_equal(t.calls, 1);
    assert_int_equal(lookup(f, offlink, nh), 0);
    assert_memory_equal(nh, gw, 16);
}

static void prefix_list_bounded(void **state)
{
    struct fx *f = *state;
    uint8_t m[16 + 8 + 20 * 32], nh[16];
    struct nd_ra_repr ra = {.router_lifetime = 0};
    size_t n = nd_ra_emit(&ra, m);
    for (unsigned i = 0; i < 20; i++) {
        struct nd_prefix_info pi = {.prefix_len = 64, .on_link = true, .valid_lifetime = 600};
        pi.prefix[0] = 0x20;
        pi.prefix[1] = 0x01;
        pi.prefix[2] = 0x0d;
        pi.prefix[3] = 0xb8;
        pi.prefix[5] = (uint8_t)(0x10 + i);
        n += nd_opt_prefix_emit(m + n, &pi);
    }
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    unsigned onlink = 0;
    for (unsigned i = 0; i < 20; i++) {
        uint8_t d[16] = {0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(0x10 + i), [15] = 9};
        if (lookup(f, d, nh) == 0)
            onlink++;
    }
    assert_int_equal(onlink, 16); /* ROUTE6_MAX_RA_PREFIXES */
    /* all gone at the valid lifetime */
    poll_at(f, f->now + 600 * NS);
    for (unsigned i = 0; i < 20; i++) {
        uint8_t d[16] = {0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(0x10 + i), [15] = 9};
        assert_int_equal(lookup(f, d, nh), -ENETUNREACH);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lpm_matches_naive_scan, setup_plain, fx_teardown),
        cmocka_unit_test_setup_teardown(ra_prefix_removal_keeps_table_consistent, setup_plain, fx_teardown),
        cmocka_unit_test_setup_teardown(onlink_linklocal_and_gateway, setup_gw, fx_teardown),
        cmocka_unit_test_setup_teardown(no_router_no_route, setup_plain, fx_teardown),
        cmocka_unit_test_setup_teardown(router_selection_prefers_reachable, setup_gw, fx_teardown),
        cmocka_unit_test_setup_teardown(prefix_list_bounded, setup_plain, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
