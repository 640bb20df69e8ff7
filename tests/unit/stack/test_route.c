/* SPDX-License-Identifier: MIT */
/*
 * test_route.c - the IPv4 routing table (stack/route.c) against a
 * deliberately naive linear scan (the WireGuard allowedips self-test idea),
 * plus the edge cases: /0 default, /32 host, duplicates, no route.
 *
 * Only route.c is exercised; the stack instance is a zeroed struct.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "stack/stack_impl.h"

/* ---- the naive reference -------------------------------------------------- */
struct naive_route { uint32_t dst; uint8_t plen; uint32_t gw; };
struct naive { struct naive_route *r; unsigned n; };

static uint32_t mask_of(uint8_t plen) { return plen ? 0xffffffffu << (32 - plen) : 0; }

static int naive_add(struct naive *t, uint32_t dst, uint8_t plen, uint32_t gw)
{
    dst &= mask_of(plen);
    for (unsigned i = 0; i < t->n; i++)
        if (t->r[i].plen == plen && t->r[i].dst == dst)
            return -EEXIST;
    t->r[t->n++] = (struct naive_route){dst, plen, gw};
    return 0;
}

static int naive_lookup(const struct naive *t, uint32_t a, uint32_t *nh, uint8_t *plen)
{
    int best = -1;
    for (unsigned i = 0; i < t->n; i++)
        if ((a & mask_of(t->r[i].plen)) == t->r[i].dst &&
            (best < 0 || t->r[i].plen > t->r[best].plen))
            best = (int)i;
    if (best < 0)
        return -ENETUNREACH;
    *nh = t->r[best].gw ? t->r[best].gw : a;
    *plen = t->r[best].plen;
    return 0;
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    rng_state = x;
    return (uint32_t)(x >> 32);
}

static int setup(void **state)
{
    struct wskstack *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    assert_int_equal(route_init(st), 0);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    struct wskstack *st = *state;
    route_fini(st);
    free(st);
    return 0;
}

/* 2000 random routes, 20000 random lookups: the table and the linear scan
 * must agree on every answer (result, next hop and prefix length). */
static void test_route_random_vs_naive(void **state)
{
    struct wskstack *st = *state;
    struct naive ref = {.r = calloc(2000, sizeof(struct naive_route))};
    assert_non_null(ref.r);
    rng_state = 0x5eed1234abcdull;

    unsigned dups = 0;
    for (int i = 0; i < 2000; i++) {
        /* prefix lengths weighted towards the interesting middle, plus the
         * extremes; a few routes are deliberate duplicates of earlier ones */
        uint8_t plen;
        uint32_t r = rnd() % 10;
        plen = r == 0 ? (uint8_t)(rnd() % 8) : r == 1 ? 32 : (uint8_t)(8 + rnd() % 25);
        uint32_t dst = rnd();
        if (ref.n && rnd() % 20 == 0) {
            const struct naive_route *o = &ref.r[rnd() % ref.n];
            dst = o->dst | (rnd() & ~mask_of(o->plen));   /* host bits don't matter */
            plen = o->plen;
        }
        uint32_t gw = rnd() % 3 == 0 ? 0 : 0xC0000200u | (rnd() & 0xff);
        int want = naive_add(&ref, dst, plen, gw);
        assert_int_equal(route4_add(st, dst, plen, gw), want);
        if (want == -EEXIST)
            dups++;
    }
    assert_true(dups > 0);

    unsigned hits = 0;
    for (int i = 0; i < 20000; i++) {
        uint32_t a = rnd();
        if (i % 2) {   /* half the probes inside a known prefix */
            const struct naive_route *o = &ref.r[rnd() % ref.n];
            a = o->dst | (a & ~mask_of(o->plen));
        }
        uint32_t nh1 = 0, nh2 = 0;
        uint8_t pl1 = 0xff, pl2 = 0xff;
        int r1 = naive_lookup(&ref, a, &nh1, &pl1);
        int r2 = route4_lookup(st, a, &nh2, &pl2);
        assert_int_equal(r2, r1);
        if (r1 == 0) {
            hits++;
            assert_int_equal(nh2, nh1);
            assert_int_equal(pl2, pl1);
        }
    }
    assert_true(hits >= 10000);
    free(ref.r);
}

static void test_route_edges(void **state)
{
    struct wskstack *st = *state;
    uint32_t nh = 0;
    uint8_t pl = 0;

    /* empty table: no route */
    assert_int_equal(route4_lookup(st, 0xC0000201u, &nh, &pl), -ENETUNREACH);
    /* invalid prefix length */
    assert_int_equal(route4_add(st, 0xC0000200u, 33, 0), -EINVAL);

    /* on-link subnet: the next hop is the destination itself */
    assert_int_equal(route4_add(st, 0xC0000200u, 24, 0), 0);             /* 192.0.2.0/24 */
    assert_int_equal(route4_lookup(st, 0xC0000263u, &nh, &pl), 0);
    assert_int_equal(nh, 0xC0000263u);
    assert_int_equal(pl, 24);
    /* still no route outside it */
    assert_int_equal(route4_lookup(st, 0xCB007101u, &nh, &pl), -ENETUNREACH);

    /* duplicates, including one written with host bits set */
    assert_int_equal(route4_add(st, 0xC0000200u, 24, 0), -EEXIST);
    assert_int_equal(route4_add(st, 0xC0000207u, 24, 0xC0000201u), -EEXIST);

    /* /0 default via a gateway catches everything else */
    assert_int_equal(route4_add(st, 0, 0, 0xC0000201u), 0);
    assert_int_equal(route4_add(st, 0x01020304u, 0, 0xC0000202u), -EEXIST);
    assert_int_equal(route4_lookup(st, 0xCB007101u, &nh, &pl), 0);       /* 203.0.113.1 */
    assert_int_equal(nh, 0xC0000201u);
    assert_int_equal(pl, 0);
    assert_int_equal(route4_lookup(st, 0xffffffffu, &nh, &pl), 0);
    assert_int_equal(nh, 0xC0000201u);

    /* /32 host route beats the /24 */
    assert_int_equal(route4_add(st, 0xC0000263u, 32, 0xC0000202u), 0);
    assert_int_equal(route4_lookup(st, 0xC0000263u, &nh, &pl), 0);
    assert_int_equal(nh, 0xC0000202u);
    assert_int_equal(pl, 32);
    assert_int_equal(route4_lookup(st, 0xC0000264u, &nh, &pl), 0);
    assert_int_equal(nh, 0xC0000264u);
    assert_int_equal(pl, 24);
    assert_int_equal(route4_add(st, 0xC0000263u, 32, 0), -EEXIST);

    /* NULL out-pointers are allowed */
    assert_int_equal(route4_lookup(st, 0xC0000263u, NULL, NULL), 0);
}

/* Growth: many routes of one length (hash table resizing keeps them all). */
static void test_route_many_same_plen(void **state)
{
    struct wskstack *st = *state;
    for (uint32_t i = 0; i < 5000; i++)
        assert_int_equal(route4_add(st, 0x0A000000u | (i << 8), 24, 0xC0000201u + (i & 1)), 0);
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t nh = 0;
        uint8_t pl = 0;
        assert_int_equal(route4_lookup(st, 0x0A000000u | (i << 8) | 77, &nh, &pl), 0);
        assert_int_equal(nh, 0xC0000201u + (i & 1));
        assert_int_equal(pl, 24);
    }
    assert_int_equal(route4_lookup(st, 0x0A000000u | (5000u << 8), NULL, NULL), -ENETUNREACH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_route_random_vs_naive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_many_same_plen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
