/* SPDX-License-Identifier: MIT */
/* RFC 6724 source address selection, the pure core (rfc6724_select in
 * stack/addr6.c): the scope and policy-table lookups (§2.1, §3.1, §3.2),
 * every rule of §5 in isolation, asserting both the chosen address and the
 * rule that decided, then the source selection examples of §10.1.
 *
 * Which §10.1 examples apply to this stack (one interface, no Mobile IPv6,
 * no temporary addresses):
 *   1. D 2001:db8:1::1, {2001:db8:3::1, fe80::1} -> 2001:db8:3::1, rule 2  APPLIES
 *      (the RFC prints the result as "2001:db8::1", not a candidate: a typo)
 *   2. D ff05::1, {2001:db8:3::1, fe80::1} -> 2001:db8:3::1, rule 2        APPLIES
 *   3. D 2001:db8:1::1, {2001:db8:1::1 (deprecated), 2001:db8:2::1}
 *      -> 2001:db8:1::1, rule 1                                          APPLIES
 *   4. D fe80::1, {fe80::2 (deprecated), 2001:db8:1::1} -> fe80::2, rule 2 APPLIES
 *   5. D 2001:db8:1::1, {2001:db8:1::2, 2001:db8:3::2} -> 2001:db8:1::2,
 *      rule 8 (printed "2001:db8:1:::2" in the RFC)                      APPLIES
 *   6. care-of 2001:db8:1::2 vs home 2001:db8:3::2 -> home, rule 4:
 *      DOES NOT APPLY (no Mobile IPv6: no address is a home or care-of
 *      address).  Tested to show what this stack does instead: rule 8 picks
 *      2001:db8:1::2.
 *   7. D 2002:c633:6401::1, {2002:c633:6401::d5e3:7953:13eb:22e8 (temporary),
 *      2001:db8:1::2} -> the 2002:: address, rule 6: APPLIES - the decision
 *      is the label of 2002::/16; "temporary" plays no part (rule 7 comes
 *      after rule 6), so the same bits as an ordinary address decide alike.
 *   8. D 2001:db8:1::d5e3:0:0:1, {2001:db8:1::2, 2001:db8:1::d5e3:7953:13eb:22e8
 *      (temporary)} -> the temporary one, rule 7: DOES NOT APPLY (no
 *      temporary addresses, RFC 8981).  Tested to show the outcome here:
 *      both /64 candidates match 64 bits (rule 8 stops at the prefix
 *      length), a tie: the first candidate. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stack/ipv6_impl.h"

static void A(const char *s, uint8_t out[16])
{
    if (inet_pton(AF_INET6, s, out) != 1)
        fail_msg("bad test address %s", s);
}

struct cset {
    struct rfc6724_cand c[8];
    unsigned n;
};

static void cand(struct cset *s, const char *a, uint8_t plen, bool deprecated)
{
    struct rfc6724_cand *c = &s->c[s->n++];
    memset(c, 0, sizeof *c);
    A(a, c->addr);
    c->plen = plen;
    c->deprecated = deprecated;
}

/* Select for dst and assert the chosen address and the deciding rule. */
static void expect(const struct cset *s, const char *dst, const char *want, int want_rule)
{
    uint8_t d[16], w[16];
    A(dst, d);
    A(want, w);
    unsigned k = 99;
    int r = rfc6724_select(s->c, s->n, d, &k);
    if (r != want_rule)
        fail_msg("dst %s: rule %d, want %d", dst, r, want_rule);
    assert_true(k < s->n);
    char got[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, s->c[k].addr, got, sizeof got);
    if (memcmp(s->c[k].addr, w, 16) != 0)
        fail_msg("dst %s: chose %s, want %s", dst, got, want);
}

/* ---- lookups ----------------------------------------------------------------- */

static void test_scope(void **state)
{
    (void)state;
    uint8_t a[16];
    A("fe80::1", a);
    assert_int_equal(rfc6724_scope(a), 2);
    A("febf:ffff::1", a); /* still fe80::/10 */
    assert_int_equal(rfc6724_scope(a), 2);
    A("::1", a);
    assert_int_equal(rfc6724_scope(a), 2);     /* §3.1: loopback is link-local scope */
    A("fec0::1", a);
    assert_int_equal(rfc6724_scope(a), 5);
    A("2001:db8::1", a);
    assert_int_equal(rfc6724_scope(a), 14);
    A("fd00::1", a);
    assert_int_equal(rfc6724_scope(a), 14);    /* ULA: global scope */
    A("ff02::1", a);
    assert_int_equal(rfc6724_scope(a), 2);
    A("ff05::1", a);
    assert_int_equal(rfc6724_scope(a), 5);
    A("ff0e::1", a);
    assert_int_equal(rfc6724_scope(a), 14);
    A("ff01::1", a);
    assert_int_equal(rfc6724_scope(a), 1);
    A("::ffff:127.0.0.1", a);                  /* §3.2 */
    assert_int_equal(rfc6724_scope(a), 2);
    A("::ffff:169.254.13.78", a);
    assert_int_equal(rfc6724_scope(a), 2);
    A("::ffff:10.1.2.3", a);
    assert_int_equal(rfc6724_scope(a), 14);
    A("::ffff:198.51.100.1", a);
    assert_int_equal(rfc6724_scope(a), 14);
}

static void test_policy_table(void **state)
{
    (void)state;
    static const struct {
        const char *a;
        uint8_t prec, label;
    } t[] = {
        {"::1", 50, 0},           {"2001:db8::1", 40, 1},     {"fe80::1", 40, 1},
        {"::ffff:192.0.2.1", 35, 4}, {"2002:c633:6401::1", 30, 2}, {"2001:0:1::1", 5, 5},
        {"2001:1::1", 40, 1}, /* outside 2001::/32 */
        {"fc00::1", 3, 13},       {"fd12:3456::1", 3, 13},    {"::192.0.2.1", 1, 3},
        {"fec0::1", 1, 11},       {"3ffe::1", 1, 12},         {"::", 1, 3},
        {"ff02::1", 40, 1},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t a[16], p = 0, l = 0;
        A(t[i].a, a);
        rfc6724_policy(a, &p, &l);
        if (p != t[i].prec || l != t[i].label)
            fail_msg("%s: precedence %u label %u, want %u %u", t[i].a, p, l, t[i].prec,
                     t[i].label);
    }
    uint8_t a[16];
    A("::1", a);
    rfc6724_policy(a, NULL, NULL); /* both outputs optional */
}

static void test_no_candidate_and_only_candidate(void **state)
{
    (void)state;
    struct cset s = {.n = 0};
    uint8_t d[16];
    A("2001:db8::1", d);
    unsigned k = 7;
    assert_int_equal(rfc6724_select(s.c, 0, d, &k), -EADDRNOTAVAIL);
    assert_int_equal(k, 7);
    /* One candidate: chosen whatever it is (even deprecated, wrong scope). */
    cand(&s, "fe80::1", 64, true);
    expect(&s, "2001:db8::1", "fe80::1", RFC6724_ONLY_CANDIDATE);
}

/* ---- each rule in isolation ----------------------------------------------------- */

static void test_rule1_same_address(void **state)
{
    (void)state;
    /* Rule 1 beats everything after it: the deprecated one that equals D
     * wins over a preferred one with a longer match elsewhere. */
    struct cset s = {.n = 0};
    cand(&s, "2001:db8:1::5", 64, false);
    cand(&s, "2001:db8:1::9", 64, true);
    expect(&s, "2001:db8:1::9", "2001:db8:1::9", RFC6724_RULE1_SAME_ADDRESS);
}

static void test_rule2_scope(void **state)
{
    (void)state;
    /* Scope(S) >= Scope(D): the smallest such scope wins. */
    struct cset s = {.n = 0};
    cand(&s, "2001:db8:1::2", 64, false); /* global */
    cand(&s, "fec0::2", 64, false);       /* site */
    cand(&s, "fe80::2", 64, false);       /* link */
    expect(&s, "ff02::1", "fe80::2", RFC6724_RULE2_SCOPE);        /* link D: link S */
    expect(&s, "ff05::1", "fec0::2", RFC6724_RULE2_SCOPE);        /* site D: site S */
    expect(&s, "2001:db8:9::1", "2001:db8:1::2", RFC6724_RULE2_SCOPE);
    /* Every scope below D's: the largest wins. */
    struct cset t = {.n = 0};
    cand(&t, "fe80::2", 64, false);
    cand(&t, "fec0::2", 64, false);
    expect(&t, "2001:db8:9::1", "fec0::2", RFC6724_RULE2_SCOPE);
    /* A smaller-than-D scope loses to any >= D scope, even a larger one. */
    struct cset u = {.n = 0};
    cand(&u, "fec0::2", 64, false);
    cand(&u, "2001:db8:1::2", 64, false);
    expect(&u, "ff0e::1", "2001:db8:1::2", RFC6724_RULE2_SCOPE);
    /* Rule 2 comes before rule 3: a deprecated link-local beats a
     * preferred global for a link-local destination. */
    struct cset v = {.n = 0};
    cand(&v, "2001:db8:1::2", 64, false);
    cand(&v, "fe80::2", 64, true);
    expect(&v, "fe80::99", "fe80::2", RFC6724_RULE2_SCOPE);
}

static void test_rule3_deprecated(void **state)
{
    (void)state;
    /* Same scope: the preferred one wins, even with a shorter match. */
    struct cset s = {.n = 0};
    cand(&s, "2001:db8:1::2", 64, true);
    cand(&s, "2001:db8:2::2", 64, false);
    expect(&s, "2001:db8:1::1", "2001:db8:2::2", RFC6724_RULE3_DEPRECATED);
    /* Both deprecated: rule 3 cannot decide, rule 8 does. */
    struct cset t = {.n = 0};
    cand(&t, "2001:db8:2::2", 64, true);
    cand(&t, "2001:db8:1::2", 64, true);
    expect(&t, "2001:db8:1::1", "2001:db8:1::2", RFC6724_RULE8_LONGEST_PREFIX);
}

static void test_rules_4_5_7_never_decide(void **state)
{
    (void)state;
    /* Two candidates equal under rules 1-3 and 6: rules 4 (home), 5
     * (outgoing interface) and 7 (temporary) cannot separate them here,
     * so the choice falls to rule 8... */
    struct cset s = {.n = 0};
    cand(&s, "2001:db8:3::2", 64, false);
    cand(&s, "2001:db8:1::2", 64, false);
    expect(&s, "2001:db8:1::1", "2001:db8:1::2", RFC6724_RULE8_LONGEST_PREFIX);
    /* ... or, equal there too, to the tie-breaker. */
    struct cset t = {.n = 0};
    cand(&t, "2001:db8:1::2", 64, false);
    cand(&t, "2001:db8:1::3", 64, false);
    expect(&t, "2001:db8:1::1", "2001:db8:1::2", RFC6724_TIE);
}

static void test_rule6_label(void **state)
{
    (void)state;
    /* 6to4 destination (label 2): the 6to4 source wins over a native one
     * with the same scope and state. */
    struct cset s = {.n = 0};
    cand(&s, "2001:db8:1::2", 64, false);
    cand(&s, "2002:c000:0201::2", 48, false);
    expect(&s, "2002:c633:6401::1", "2002:c000:201::2", RFC6724_RULE6_LABEL);
    /* ULA destination (label 13): the ULA source. */
    struct cset t = {.n = 0};
    cand(&t, "2001:db8:1::2", 64, false);
    cand(&t, "fd00:1::2", 64, false);
    expect(&t, "fd00:2::1", "fd00:1::2", RFC6724_RULE6_LABEL);
    /* Native destination (label 1): the native source, although the ULA
     * one was configured first. */
    struct cset u = {.n = 0};
    cand(&u, "fd00:1::2", 64, false);
    cand(&u, "2001:db8:1::2", 64, false);
    expect(&u, "2001:db8:7::1", "2001:db8:1::2", RFC6724_RULE6_LABEL);
}

static void test_rule8_longest_prefix_up_to_plen(void **state)
{
    (void)state;
    struct cset s = {.n = 0};
    cand(&s, "2001:db8:1::2", 64, false);
    cand(&s, "2001:db8:1:0:8000::2", 64, false);
    /* Both share 64+ bits with D, but each is counted only up to its /64
     * prefix: a tie, although ::2 shares 126 bits with D. */
    expect(&s, "2001:db8:1::1", "2001:db8:1::2", RFC6724_TIE);
    /* With /128 prefixes the interface identifier counts. */
    s.c[0].plen = 128;
    s.c[1].plen = 128;
    expect(&s, "2001:db8:1:0:8000::1", "2001:db8:1:0:8000::2", RFC6724_RULE8_LONGEST_PREFIX);
    /* A short prefix caps a long match: 2001:db8:1::/48 vs /64. */
    struct cset t = {.n = 0};
    cand(&t, "2001:db8:1:5::2", 48, false);   /* shares 61 bits, counted 48 */
    cand(&t, "2001:db8:1:8::2", 64, false);   /* shares 60 bits, counted 60 */
    expect(&t, "2001:db8:1:1::1", "2001:db8:1:8::2", RFC6724_RULE8_LONGEST_PREFIX);
}

static void test_three_candidates_deciding_rule_is_the_last(void **state)
{
    (void)state;
    /* Rule 2 removes the link-local, rule 8 then decides between the two
     * globals: the deciding rule is 8. */
    struct cset s = {.n = 0};
    cand(&s, "fe80::2", 64, false);
    cand(&s, "2001:db8:3::2", 64, false);
    cand(&s, "2001:db8:1::2", 64, false);
    expect(&s, "2001:db8:1::1", "2001:db8:1::2", RFC6724_RULE8_LONGEST_PREFIX);
    /* Rule 3 removes the deprecated global, rule 2 had removed the
     * link-local: the only one left after rule 3. */
    s.c[2].deprecated = true;
    expect(&s, "2001:db8:1::1", "2001:db8:3::2", RFC6724_RULE3_DEPRECATED);
}

/* ---- RFC 6724 §10.1 ---------------------------------------------------------------- */

static void test_rfc_10_1_examples(void **state)
{
    (void)state;
    struct cset s;
    /* 1: prefer appropriate scope. */
    s.n = 0;
    cand(&s, "2001:db8:3::1", 64, false);
    cand(&s, "fe80::1", 64, false);
    expect(&s, "2001:db8:1::1", "2001:db8:3::1", RFC6724_RULE2_SCOPE);
    /* 2: prefer appropriate scope (site-scope multicast destination). */
    expect(&s, "ff05::1", "2001:db8:3::1", RFC6724_RULE2_SCOPE);
    /* 3: prefer same address, although it is deprecated. */
    s.n = 0;
    cand(&s, "2001:db8:1::1", 64, true);
    cand(&s, "2001:db8:2::1", 64, false);
    expect(&s, "2001:db8:1::1", "2001:db8:1::1", RFC6724_RULE1_SAME_ADDRESS);
    /* 4: prefer appropriate scope, although it is deprecated. */
    s.n = 0;
    cand(&s, "fe80::2", 64, true);
    cand(&s, "2001:db8:1::1", 64, false);
    expect(&s, "fe80::1", "fe80::2", RFC6724_RULE2_SCOPE);
    /* 5: longest matching prefix. */
    s.n = 0;
    cand(&s, "2001:db8:1::2", 64, false);
    cand(&s, "2001:db8:3::2", 64, false);
    expect(&s, "2001:db8:1::1", "2001:db8:1::2", RFC6724_RULE8_LONGEST_PREFIX);
    /* 7: prefer matching label (the "temporary" 6to4 address decides by
     * its label alone). */
    s.n = 0;
    cand(&s, "2002:c633:6401::d5e3:7953:13eb:22e8", 64, false);
    cand(&s, "2001:db8:1::2", 64, false);
    expect(&s, "2002:c633:6401::1", "2002:c633:6401::d5e3:7953:13eb:22e8", RFC6724_RULE6_LABEL);
}

static void test_rfc_10_1_examples_that_need_mip6_or_temporary(void **state)
{
    (void)state;
    struct cset s;
    /* 6: the RFC picks the home address 2001:db8:3::2 by rule 4; without
     * Mobile IPv6 rule 4 is equal and rule 8 picks the other one. */
    s.n = 0;
    cand(&s, "2001:db8:1::2", 64, false);
    cand(&s, "2001:db8:3::2", 64, false);
    expect(&s, "2001:db8:1::1", "2001:db8:1::2", RFC6724_RULE8_LONGEST_PREFIX);
    /* 8: the RFC picks the temporary address by rule 7; without temporary
     * addresses both /64s match 64 bits and the first one wins the tie. */
    s.n = 0;
    cand(&s, "2001:db8:1::2", 64, false);
    cand(&s, "2001:db8:1::d5e3:7953:13eb:22e8", 64, false);
    expect(&s, "2001:db8:1::d5e3:0:0:1", "2001:db8:1::2", RFC6724_TIE);
}

static void test_rule_names(void **state)
{
    (void)state;
    assert_string_equal(rfc6724_rule_str(RFC6724_RULE2_SCOPE), "RFC 6724 rule 2: appropriate scope");
    assert_string_equal(rfc6724_rule_str(RFC6724_RULE8_LONGEST_PREFIX),
                        "RFC 6724 rule 8: longest matching prefix");
    assert_string_equal(rfc6724_rule_str(RFC6724_TIE), "RFC 6724: all rules equal, first configured");
    assert_string_equal(rfc6724_rule_str((enum rfc6724_rule)42), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_policy_table),
        cmocka_unit_test(test_no_candidate_and_only_candidate),
        cmocka_unit_test(test_rule1_same_address),
        cmocka_unit_test(test_rule2_scope),
        cmocka_unit_test(test_rule3_deprecated),
        cmocka_unit_test(test_rules_4_5_7_never_decide),
        cmocka_unit_test(test_rule6_label),
        cmocka_unit_test(test_rule8_longest_prefix_up_to_plen),
        cmocka_unit_test(test_three_candidates_deciding_rule_is_the_last),
        cmocka_unit_test(test_rfc_10_1_examples),
        cmocka_unit_test(test_rfc_10_1_examples_that_need_mip6_or_temporary),
        cmocka_unit_test(test_rule_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
