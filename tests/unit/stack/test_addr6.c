/* SPDX-License-Identifier: MIT */
/* The IPv6 address table (stack/addr6.c) on a memdev stack with a manual
 * clock: the link-local address from the MAC, DAD (RFC 4862 §5.4) with its
 * probe's exact bytes, success after RetransTimer, conflicts (counter, trace,
 * never a source), the link-local duplicate that disables IPv6, the random
 * start delay from the per-stack seed, SLAAC (RFC 4862 §5.5.3) with
 * lifetimes, deprecation, removal and the two-hour rule, slaac=off, the
 * multicast groups, and source selection through the table (RFC 6724). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/ipv6_impl.h"

#define NS 1000000000ull
#define T0 (1000 * NS)
#define HOUR (3600 * NS)

/* mac=02:00:5e:00:53:02 -> Modified EUI-64 00:00:5e:ff:fe:00:53:02 (U/L bit
 * inverted, ff:fe inserted: RFC 4291 App. A). */
static const uint8_t OUR_MAC[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x99};
#define LL "fe80::5eff:fe00:5302"
#define MANUAL "2001:db8::2"

/* ---- fixture --------------------------------------------------------------------- */

struct fx {
    struct wskstack *st;
    struct dev *dev;
    uint64_t now;
    char *trace;
    size_t trace_len;
};

static uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }

static void A(const char *s, uint8_t out[16])
{
    if (inet_pton(AF_INET6, s, out) != 1)
        fail_msg("bad test address %s", s);
}

static struct fx *fx_new(const char *cfgtext)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct wskstack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[256] = "";
    if (wskstack_config_parse(&cfg, cfgtext, err, sizeof err) != 0)
        fail_msg("config: %s", err);
    f->dev = memdev_create("addr6", 1500);
    assert_non_null(f->dev);
    assert_int_equal(stack_create_on_dev(&cfg, f->dev, STACK_NO_THREAD, &f->st, err, sizeof err),
                     0);
    f->now = T0;
    stack_set_clock(f->st, fx_clock, f);
    FILE *tf = open_memstream(&f->trace, &f->trace_len);
    assert_non_null(tf);
    trace_attach(f->st, tf, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    addr6_set_seed(f->st, 0); /* no random delay: probes go out in addr6_start */
    return f;
}

static int setup(void **state)
{
    *state = fx_new("mac=02:00:5e:00:53:02;addr=192.0.2.2/24;addr=" MANUAL "/64");
    return 0;
}

static void fx_free(struct fx *f)
{
    /* drain what the tests did not look at */
    uint8_t buf[2048];
    while (memdev_tx_pending(f->dev) > 0)
        memdev_pop_tx(f->dev, buf, sizeof buf);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    fclose(trace_detach(f->st));
    wskstack_destroy(f->st);
    free(f->trace);
    free(f);
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static void poll_at(struct fx *f, uint64_t t)
{
    f->now = t;
    stack_poll(f->st, t);
}

/* The trace so far contains `line` as a whole line. */
static bool traced(struct fx *f, const char *line)
{
    fflush(f->st->trace);
    size_t n = strlen(line);
    for (const char *p = f->trace; p && (p = strstr(p, line)) != NULL; p++)
        if ((p == f->trace || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static void expect_trace(struct fx *f, const char *line)
{
    if (!traced(f, line))
        fail_msg("trace lacks the line\n  %s\ntrace:\n%s", line, f->trace ? f->trace : "");
}

static enum addr6_state state_of(struct fx *f, const char *a)
{
    uint8_t want[16], x[16];
    A(a, want);
    enum addr6_state s;
    for (unsigned i = 0; addr6_get(f->st, i, x, NULL, &s, NULL); i++)
        if (memcmp(x, want, 16) == 0)
            return s;
    return (enum addr6_state)-1;
}

static unsigned n_addrs(struct fx *f)
{
    unsigned n = 0;
    while (addr6_get(f->st, n, NULL, NULL, NULL, NULL))
        n++;
    return n;
}

static void expect_source(struct fx *f, const char *dst, const char *want, enum rfc6724_rule rule)
{
    uint8_t d[16], w[16], s[16];
    A(dst, d);
    A(want, w);
    enum rfc6724_rule r = 99;
    assert_int_equal(addr6_select_source(f->st, d, s, &r), 0);
    char got[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, s, got, sizeof got);
    if (memcmp(s, w, 16) != 0)
        fail_msg("source for %s: %s, want %s", dst, got, want);
    assert_int_equal(r, rule);
}

/* ---- independent frame construction (expected bytes) ---------------------------- */

static uint16_t csum6(const uint8_t src[16], const uint8_t dst[16], const uint8_t *m, size_t n)
{
    uint32_t s = 0;
    for (int i = 0; i < 16; i += 2)
        s += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
    s += (uint32_t)n + 58;
    for (size_t i = 0; i < n; i += 2)
        s += (uint32_t)(m[i] << 8 | (i + 1 < n ? m[i + 1] : 0));
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* The DAD probe for `target`, as RFC 4862 §5.4.2 / RFC 4861 §4.3 describe it:
 * 14 + 40 + 24 = 78 bytes. */
static size_t dad_ns_frame(uint8_t b[78], const char *target)
{
    uint8_t t[16], dst[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
    A(target, t);
    memcpy(dst + 13, t + 13, 3);           /* ff02::1:ffXX:XXXX (RFC 4291 §2.7.1) */
    memset(b, 0, 78);
    b[0] = 0x33;                           /* RFC 2464 §7: 33:33 + low 32 bits */
    b[1] = 0x33;
    memcpy(b + 2, dst + 12, 4);
    memcpy(b + 6, OUR_MAC, 6);
    b[12] = 0x86;
    b[13] = 0xdd;
    uint8_t *ip = b + 14;
    ip[0] = 0x60;                          /* version 6, TC 0, flow 0 */
    ip[5] = 24;                            /* payload length */
    ip[6] = 58;                            /* ICMPv6 */
    ip[7] = 255;                           /* hop limit (RFC 4861 §7.1.1) */
    /* source :: (bytes 8..23 stay zero) */
    memcpy(ip + 24, dst, 16);
    uint8_t *m = ip + 40;
    m[0] = 135;                            /* Neighbor Solicitation, code 0 */
    memcpy(m + 8, t, 16);                  /* target; no SLLA option */
    uint8_t unspec[16] = {0};
    uint16_t c = csum6(unspec, dst, m, 24);
    m[2] = (uint8_t)(c >> 8);
    m[3] = (uint8_t)c;
    return 78;
}

/* Pop every frame sent so far; returns how many, copies the i-th into
 * frames[i] (up to 8). */
static unsigned pop_all(struct fx *f, uint8_t frames[8][256], long lens[8])
{
    unsigned n = 0;
    uint8_t buf[2048];
    while (memdev_tx_pending(f->dev) > 0) {
        long len = memdev_pop_tx(f->dev, buf, sizeof buf);
        assert_true(len > 0);
        if (n < 8) {
            lens[n] = len;
            memcpy(frames[n], buf, (size_t)(len < 256 ? len : 256));
        }
        n++;
    }
    return n;
}

static bool is_icmpv6_type(const uint8_t *fr, long len, uint8_t type)
{
    return len >= 14 + 40 + 4 && fr[12] == 0x86 && fr[13] == 0xdd && fr[14 + 6] == 58 &&
           fr[14 + 40] == type;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_link_local_and_manual_addresses(void **state)
{
    struct fx *f = *state;
    uint8_t a[16], want[16], plen = 0;
    enum addr6_state s;
    enum addr6_origin o;
    /* RFC 4862 §5.3: fe80::/64 + Modified EUI-64: fe80::5eff:fe00:5302. */
    static const uint8_t ll[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                   0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x02};
    assert_true(addr6_get(f->st, 0, a, &plen, &s, &o));
    assert_memory_equal(a, ll, 16);
    A(LL, want);
    assert_memory_equal(a, want, 16);
    assert_int_equal(plen, 64);
    assert_int_equal(s, ADDR6_TENTATIVE);
    assert_int_equal(o, ADDR6_LINKLOCAL);
    /* The IPv6 addr= after it; the IPv4 one is not in this table. */
    assert_true(addr6_get(f->st, 1, a, &plen, &s, &o));
    A(MANUAL, want);
    assert_memory_equal(a, want, 16);
    assert_int_equal(plen, 64);
    assert_int_equal(s, ADDR6_TENTATIVE);
    assert_int_equal(o, ADDR6_MANUAL);
    assert_false(addr6_get(f->st, 2, a, &plen, &s, &o));
    assert_true(addr6_get(f->st, 0, NULL, NULL, NULL, NULL)); /* outputs optional */

    /* Tentative: ours for DAD, not usable, no source yet (RFC 4862 §5.4). */
    A(LL, a);
    assert_true(addr6_is_local(f->st, a, false));
    assert_false(addr6_is_local(f->st, a, true));
    struct ip_addr ipa = {.af = IPA_V6};
    memcpy(ipa.v6, a, 16);
    assert_false(stack_addr_is_local(f->st, &ipa));
    uint8_t src[16];
    A("2001:db8::1", a);
    assert_int_equal(addr6_select_source(f->st, a, src, NULL), -EADDRNOTAVAIL);
    expect_trace(f, "ipv6 tx source for 2001:db8::1: no usable IPv6 address (RFC 6724 §4)");
    A("2001:db8::3", a);
    assert_false(addr6_is_local(f->st, a, false));

    /* Groups (RFC 4862 §5.4.2): all-nodes and the solicited-node group of
     * every address, tentative ones included. */
    A("ff02::1", a);
    assert_true(addr6_is_joined(f->st, a));
    A("ff02::1:ff00:5302", a);
    assert_true(addr6_is_joined(f->st, a));
    A("ff02::1:ff00:2", a);
    assert_true(addr6_is_joined(f->st, a));
    A("ff02::1:ff00:3", a);
    assert_false(addr6_is_joined(f->st, a));
    A("ff02::2", a); /* all-routers: a host does not listen */
    assert_false(addr6_is_joined(f->st, a));
    A("ff05::1:ff00:2", a); /* not link scope */
    assert_false(addr6_is_joined(f->st, a));
    assert_int_equal(memdev_tx_pending(f->dev), 0); /* nothing before addr6_start */
}

static void test_dad_probe_bytes_and_success(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now);
    /* Link-local first, then the manual address: exact frames. */
    uint8_t fr[8][256];
    long len[8];
    assert_int_equal(pop_all(f, fr, len), 2);
    uint8_t want[78];
    assert_int_equal(len[0], (long)dad_ns_frame(want, LL));
    assert_memory_equal(fr[0], want, 78);
    assert_int_equal(len[1], (long)dad_ns_frame(want, MANUAL));
    assert_memory_equal(fr[1], want, 78);
    /* the fields the RFC names, spelled out */
    static const uint8_t mac[6] = {0x33, 0x33, 0xff, 0x00, 0x53, 0x02};
    assert_memory_equal(fr[0], mac, 6);
    assert_int_equal(fr[0][14 + 7], 255);
    uint8_t zero[16] = {0};
    assert_memory_equal(fr[0] + 14 + 8, zero, 16);
    expect_trace(f, "ipv6 tx DAD: probing " LL " (NS from ::, RFC 4862 §5.4.2)");

    /* RetransTimer (1 s) after the probe: not a nanosecond earlier. */
    assert_int_equal(addr6_next_timer(f->st, f->now), NS);
    poll_at(f, T0 + NS - 1);
    assert_int_equal(state_of(f, LL), ADDR6_TENTATIVE);
    assert_int_equal(state_of(f, MANUAL), ADDR6_TENTATIVE);
    assert_int_equal(pop_all(f, fr, len), 0); /* DupAddrDetectTransmits = 1 */
    poll_at(f, T0 + NS);
    assert_int_equal(state_of(f, LL), ADDR6_PREFERRED);
    assert_int_equal(state_of(f, MANUAL), ADDR6_PREFERRED);
    expect_trace(f, "ipv6 - DAD: " MANUAL " is unique, now preferred (RFC 4862 §5.4)");
    assert_int_equal(addr6_next_timer(f->st, f->now), UINT64_MAX);

    /* The link-local is usable: addr6 called nd_start(), which sent the
     * first Router Solicitation from it (RFC 4861 §6.3.7). */
    assert_int_equal(pop_all(f, fr, len), 1);
    assert_true(is_icmpv6_type(fr[0], len[0], ICMPV6_ND_RS));
    uint8_t ll[16];
    A(LL, ll);
    assert_memory_equal(fr[0] + 14 + 8, ll, 16);

    uint8_t a[16];
    A(MANUAL, a);
    assert_true(addr6_is_local(f->st, a, true));
    struct ip_addr ipa = {.af = IPA_V6};
    memcpy(ipa.v6, a, 16);
    assert_true(stack_addr_is_local(f->st, &ipa));
    expect_source(f, "2001:db8::1", MANUAL, RFC6724_RULE2_SCOPE);
    expect_trace(f, "ipv6 tx source for 2001:db8::1: 2001:db8::2 (RFC 6724 rule 2: appropriate scope)");
    expect_source(f, "fe80::1", LL, RFC6724_RULE2_SCOPE);
    expect_source(f, "ff02::1", LL, RFC6724_RULE2_SCOPE);
    expect_source(f, MANUAL, MANUAL, RFC6724_RULE1_SAME_ADDRESS);
    /* a second addr6_start does nothing */
    addr6_start(f->st, f->now);
    assert_int_equal(pop_all(f, fr, len), 0);
}

static void test_dad_conflict_na(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now);
    uint8_t a[16];
    A(MANUAL, a);
    f->now += NS / 2;
    addr6_dad_conflict(f->st, a, true, f->now);
    assert_int_equal(state_of(f, MANUAL), ADDR6_DUPLICATE);
    assert_int_equal(wskstack_counter(f->st, "NdDadConflicts"), 1);
    expect_trace(f, "ipv6 rx DAD: 2001:db8::2 is a duplicate, an NA from another node claims it "
                    "(RFC 4862 §5.4.4, §5.4.5)");
    /* not ours any more, its group left */
    assert_false(addr6_is_local(f->st, a, false));
    assert_false(addr6_is_local(f->st, a, true));
    uint8_t g[16];
    A("ff02::1:ff00:2", g);
    assert_false(addr6_is_joined(f->st, g));

    poll_at(f, T0 + NS);
    assert_int_equal(state_of(f, LL), ADDR6_PREFERRED);
    assert_int_equal(state_of(f, MANUAL), ADDR6_DUPLICATE);
    /* never a source: the link-local is the only candidate, even for a
     * global destination next to the duplicate */
    expect_source(f, "2001:db8::1", LL, RFC6724_ONLY_CANDIDATE);
    expect_source(f, MANUAL, LL, RFC6724_ONLY_CANDIDATE);
    /* A second conflict report changes nothing (not tentative). */
    addr6_dad_conflict(f->st, a, true, f->now);
    assert_int_equal(wskstack_counter(f->st, "NdDadConflicts"), 1);
    /* A conflict for an assigned address: RFC 4862 §5.4.4, no action. */
    A(LL, a);
    addr6_dad_conflict(f->st, a, true, f->now);
    assert_int_equal(state_of(f, LL), ADDR6_PREFERRED);
    assert_int_equal(wskstack_counter(f->st, "NdDadConflicts"), 1);
    expect_trace(f, "ipv6 rx DAD: NA for " LL " ignored: not a tentative address of ours");
}

static void test_dad_conflict_ns_from_unspecified(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now);
    uint8_t a[16];
    A(MANUAL, a);
    addr6_dad_conflict(f->st, a, false, f->now);
    assert_int_equal(state_of(f, MANUAL), ADDR6_DUPLICATE);
    assert_int_equal(wskstack_counter(f->st, "NdDadConflicts"), 1);
    expect_trace(f, "ipv6 rx DAD: 2001:db8::2 is a duplicate, an NS from :: from another node "
                    "claims it (RFC 4862 §5.4.3, §5.4.5)");
}

/* Through the wire: an NA for the tentative address arrives; ipv6.c,
 * icmpv6.c and nd.c hand it to addr6_dad_conflict. */
static void test_dad_conflict_from_the_wire(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now);
    uint8_t fr[8][256];
    long len[8];
    pop_all(f, fr, len);
    /* NA from fe80::99 to all-nodes, target 2001:db8::2, O flag, TLLA. */
    uint8_t b[14 + 40 + 32] = {0};
    uint8_t src[16], dst[16], t[16];
    A("fe80::5eff:fe00:5399", src);
    A("ff02::1", dst);
    A(MANUAL, t);
    b[0] = 0x33; b[1] = 0x33; b[5] = 0x01;
    memcpy(b + 6, PEER_MAC, 6);
    b[12] = 0x86; b[13] = 0xdd;
    uint8_t *ip = b + 14;
    ip[0] = 0x60; ip[5] = 32; ip[6] = 58; ip[7] = 255;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, dst, 16);
    uint8_t *m = ip + 40;
    m[0] = 136;
    m[4] = 0x20;                    /* O (S must be 0 to a multicast destination) */
    memcpy(m + 8, t, 16);
    m[24] = 2; m[25] = 1;           /* TLLA */
    memcpy(m + 26, PEER_MAC, 6);
    uint16_t c = csum6(src, dst, m, 32);
    m[2] = (uint8_t)(c >> 8);
    m[3] = (uint8_t)c;
    assert_int_equal(memdev_inject(f->dev, b, sizeof b), 0);
    assert_int_equal(stack_poll(f->st, f->now), 1);
    assert_int_equal(state_of(f, MANUAL), ADDR6_DUPLICATE);
    assert_int_equal(wskstack_counter(f->st, "NdDadConflicts"), 1);
    /* nd says what it decided about the NA, ipv6 what became of the address */
    expect_trace(f, "nd rx NA for 2001:db8::2 from fe80::5eff:fe00:5399: our address is "
                    "tentative: duplicate (RFC 4862 §5.4.4)");
    expect_trace(f, "ipv6 rx DAD: 2001:db8::2 is a duplicate, an NA from another node claims it "
                    "(RFC 4862 §5.4.4, §5.4.5)");
    poll_at(f, T0 + NS);
    expect_source(f, "2001:db8::1", LL, RFC6724_ONLY_CANDIDATE);
}

static void test_link_local_duplicate_disables_ipv6(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now);
    uint8_t a[16];
    A(LL, a);
    addr6_dad_conflict(f->st, a, false, f->now);
    assert_int_equal(state_of(f, LL), ADDR6_DUPLICATE);
    assert_int_equal(wskstack_counter(f->st, "NdDadConflicts"), 1);
    expect_trace(f, "ipv6 rx DAD: " LL " is a duplicate, an NS from :: from another node claims it "
                    "(RFC 4862 §5.4.3, §5.4.5)");
    expect_trace(f, "ipv6 - DAD: the link-local address " LL
                    " is a duplicate: IPv6 is disabled on addr6 (RFC 4862 §5.4.5)");
    /* DAD stopped: the manual address never becomes usable, no RS. */
    poll_at(f, T0 + 10 * NS);
    assert_int_equal(state_of(f, MANUAL), ADDR6_TENTATIVE);
    uint8_t fr[8][256];
    long len[8];
    unsigned n = pop_all(f, fr, len);
    for (unsigned i = 0; i < n && i < 8; i++)
        assert_false(is_icmpv6_type(fr[i], len[i], ICMPV6_ND_RS));
    uint8_t src[16];
    A("2001:db8::1", a);
    assert_int_equal(addr6_select_source(f->st, a, src, NULL), -EADDRNOTAVAIL);
    /* no SLAAC either */
    A("2001:db8:1::", a);
    addr6_ra_prefix(f->st, a, 64, true, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 2);
    assert_int_equal(addr6_next_timer(f->st, f->now), UINT64_MAX);
}

static void test_random_start_delay_from_seed(void **state)
{
    struct fx *f = *state;
    addr6_set_seed(f->st, 1);
    addr6_start(f->st, f->now);
    /* splitmix64(1) % 1 s = 200822465 ns: inside [0, 1 s) (RFC 4862 §5.4.2) */
    const uint64_t d = 200822465;
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(addr6_next_timer(f->st, f->now), d);
    expect_trace(f, "ipv6 - DAD for 2 address(es) in 200 ms (RFC 4862 §5.4.2)");
    poll_at(f, T0 + d - 1);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    poll_at(f, T0 + d);
    assert_int_equal(memdev_tx_pending(f->dev), 2);
    poll_at(f, T0 + d + NS);
    assert_int_equal(state_of(f, LL), ADDR6_PREFERRED);
}

/* Start, let DAD finish at T0 + 1 s, drain the frames. */
static void fx_up(struct fx *f)
{
    addr6_start(f->st, f->now);
    poll_at(f, f->now + NS);
    uint8_t fr[8][256];
    long len[8];
    pop_all(f, fr, len);
    assert_int_equal(state_of(f, LL), ADDR6_PREFERRED);
}

#define SLAAC_ADDR "2001:db8:1::5eff:fe00:5302"

static void test_slaac_lifetimes(void **state)
{
    struct fx *f = *state;
    fx_up(f);
    uint64_t t = f->now; /* T0 + 1 s */
    uint8_t p[16];
    A("2001:db8:1::", p);
    addr6_ra_prefix(f->st, p, 64, true, 3600, 1800, t);
    /* RFC 4862 §5.5.3 d: prefix + EUI-64, tentative, then DAD. */
    uint8_t a[16], want[16], plen;
    enum addr6_state s;
    enum addr6_origin o;
    assert_true(addr6_get(f->st, 2, a, &plen, &s, &o));
    A(SLAAC_ADDR, want);
    assert_memory_equal(a, want, 16);
    assert_int_equal(plen, 64);
    assert_int_equal(s, ADDR6_TENTATIVE);
    assert_int_equal(o, ADDR6_SLAAC);
    expect_trace(f, "ipv6 rx SLAAC: " SLAAC_ADDR "/64 formed from prefix 2001:db8:1::, tentative, "
                    "preferred 1800 s, valid 3600 s (RFC 4862 §5.5.3 d)");
    assert_int_equal(addr6_next_timer(f->st, t), 0); /* probe due now */
    A("ff02::1:ff00:5302", a);
    assert_true(addr6_is_joined(f->st, a));
    poll_at(f, t);
    uint8_t fr[8][256];
    long len[8];
    assert_int_equal(pop_all(f, fr, len), 1);
    uint8_t nsf[78];
    assert_int_equal(len[0], (long)dad_ns_frame(nsf, SLAAC_ADDR));
    assert_memory_equal(fr[0], nsf, 78);
    /* not a source while tentative */
    expect_source(f, "2001:db8:1::1", MANUAL, RFC6724_RULE2_SCOPE);

    poll_at(f, t + NS);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_PREFERRED);
    /* rule 8: /64 match beats 2001:db8::2's 47 bits */
    expect_source(f, "2001:db8:1::1", SLAAC_ADDR, RFC6724_RULE8_LONGEST_PREFIX);
    assert_int_equal(addr6_next_timer(f->st, f->now), 1800 * NS - NS);

    /* RFC 4862 §5.5.4: deprecated at the end of the preferred lifetime. */
    poll_at(f, t + 1800 * NS - 1);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_PREFERRED);
    poll_at(f, t + 1800 * NS);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_DEPRECATED);
    expect_trace(f, "ipv6 - " SLAAC_ADDR ": preferred lifetime ended, deprecated (RFC 4862 §5.5.4)");
    /* still ours and usable, but rule 3 avoids it... */
    A(SLAAC_ADDR, a);
    assert_true(addr6_is_local(f->st, a, true));
    expect_source(f, "2001:db8:1::1", MANUAL, RFC6724_RULE3_DEPRECATED);
    /* ...unless it is the destination itself (rule 1) */
    expect_source(f, SLAAC_ADDR, SLAAC_ADDR, RFC6724_RULE1_SAME_ADDRESS);

    /* removed at the end of the valid lifetime */
    poll_at(f, t + 3600 * NS - 1);
    assert_int_equal(n_addrs(f), 3);
    poll_at(f, t + 3600 * NS);
    assert_int_equal(n_addrs(f), 2);
    assert_false(addr6_is_local(f->st, a, false));
    expect_trace(f, "ipv6 - " SLAAC_ADDR ": valid lifetime ended, removed (RFC 4862 §5.5.4)");
    assert_int_equal(addr6_next_timer(f->st, f->now), UINT64_MAX);
}

static void test_slaac_renewal_and_two_hour_rule(void **state)
{
    struct fx *f = *state;
    fx_up(f);
    uint8_t p[16];
    A("2001:db8:1::", p);
    uint64_t t = f->now;
    addr6_ra_prefix(f->st, p, 64, true, 10000, 100, t);
    poll_at(f, t);      /* the probe */
    poll_at(f, t + NS); /* RetransTimer later: unique */
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_PREFERRED);
    poll_at(f, t + 100 * NS);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_DEPRECATED);

    /* A renewed preferred lifetime makes it preferred again (§5.5.3 e). */
    t = f->now; /* remaining valid: 9900 s */
    addr6_ra_prefix(f->st, p, 64, true, 9000, 500, t);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_PREFERRED);
    expect_trace(f, "ipv6 rx SLAAC: " SLAAC_ADDR ": preferred 500 s, valid lifetime set "
                    "(two-hour rule 1) (RFC 4862 §5.5.3 e)");
    /* rule 1: 9000 s > 2 h: valid = 9000 s from now (shortened) */
    assert_int_equal(addr6_next_timer(f->st, t), 500 * NS);

    /* rule 3: 60 s < 2 h < remaining (9000 s): cut to two hours; and
     * preferred 0 deprecates it at once */
    addr6_ra_prefix(f->st, p, 64, true, 60, 0, t);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_DEPRECATED);
    expect_trace(f, "ipv6 rx SLAAC: " SLAAC_ADDR ": preferred 0 s, valid lifetime cut to two hours "
                    "(two-hour rule 3) (RFC 4862 §5.5.3 e)");
    assert_int_equal(addr6_next_timer(f->st, t), 2 * HOUR);

    /* rule 2: remaining <= 2 h: a shorter (forged?) lifetime is ignored,
     * 0 included */
    t += HOUR; /* remaining: 1 h */
    f->now = t;
    addr6_ra_prefix(f->st, p, 64, true, 0, 0, t);
    addr6_ra_prefix(f->st, p, 64, true, 600, 0, t);
    expect_trace(f, "ipv6 rx SLAAC: " SLAAC_ADDR ": preferred 0 s, valid lifetime kept "
                    "(two-hour rule 2) (RFC 4862 §5.5.3 e)");
    assert_int_equal(addr6_next_timer(f->st, t), HOUR);
    assert_int_equal(n_addrs(f), 3);

    /* rule 1 again: 5400 s > remaining (3600 s): taken */
    addr6_ra_prefix(f->st, p, 64, true, 5400, 0, t);
    assert_int_equal(addr6_next_timer(f->st, t), 5400 * NS);
    poll_at(f, t + 5400 * NS - 1);
    assert_int_equal(n_addrs(f), 3);
    poll_at(f, t + 5400 * NS);
    assert_int_equal(n_addrs(f), 2);

    /* infinite lifetimes: no timer at all */
    t = f->now;
    addr6_ra_prefix(f->st, p, 64, true, 0xffffffffu, 0xffffffffu, t);
    poll_at(f, t);
    poll_at(f, t + NS);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_PREFERRED);
    assert_int_equal(addr6_next_timer(f->st, f->now), UINT64_MAX);
    /* rule 1 with an infinite received lifetime keeps it infinite; a
     * finite one > 2 h replaces infinity */
    addr6_ra_prefix(f->st, p, 64, true, 0xffffffffu, 1000, f->now);
    assert_int_equal(addr6_next_timer(f->st, f->now), 1000 * NS);
    addr6_ra_prefix(f->st, p, 64, true, 8000, 1000, f->now);
    assert_int_equal(addr6_next_timer(f->st, f->now), 1000 * NS);
    poll_at(f, f->now + 1000 * NS);
    assert_int_equal(addr6_next_timer(f->st, f->now), 7000 * NS);
}

static void test_slaac_ignored_prefixes(void **state)
{
    struct fx *f = *state;
    fx_up(f);
    uint8_t p[16];
    A("2001:db8:1::", p);
    /* a) no A flag */
    addr6_ra_prefix(f->st, p, 64, false, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 2);
    /* b) link-local prefix */
    uint8_t ll[16];
    A("fe80::", ll);
    addr6_ra_prefix(f->st, ll, 64, true, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 2);
    expect_trace(f, "ipv6 rx SLAAC: prefix fe80::/64 ignored: link-local (RFC 4862 §5.5.3 b)");
    /* c) preferred > valid */
    addr6_ra_prefix(f->st, p, 64, true, 100, 200, f->now);
    assert_int_equal(n_addrs(f), 2);
    expect_trace(f, "ipv6 rx SLAAC: prefix 2001:db8:1::/64 ignored: preferred lifetime 200 > "
                    "valid lifetime 100 (RFC 4862 §5.5.3 c)");
    /* d) prefix length + 64 != 128 */
    addr6_ra_prefix(f->st, p, 48, true, 3600, 1800, f->now);
    addr6_ra_prefix(f->st, p, 80, true, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 2);
    expect_trace(f, "ipv6 rx SLAAC: prefix 2001:db8:1::/48 ignored: prefix length + 64-bit "
                    "interface identifier != 128 (RFC 4862 §5.5.3 d)");
    /* d) valid lifetime 0 for a new prefix */
    addr6_ra_prefix(f->st, p, 64, true, 0, 0, f->now);
    assert_int_equal(n_addrs(f), 2);
    /* the prefix of the manual address: a separate SLAAC address */
    uint8_t m[16];
    A("2001:db8::", m);
    addr6_ra_prefix(f->st, m, 64, true, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 3); /* 2001:db8::5eff:fe00:5302 is new */
    assert_int_equal(memdev_tx_pending(f->dev), 0); /* probe waits for the timer */
}

static void test_slaac_same_as_manual_and_table_limit(void **state)
{
    (void)state;
    struct fx *f = fx_new("mac=02:00:5e:00:53:02;addr=" SLAAC_ADDR "/64");
    fx_up(f);
    uint8_t p[16];
    A("2001:db8:1::", p);
    addr6_ra_prefix(f->st, p, 64, true, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 2);
    expect_trace(f, "ipv6 rx SLAAC: " SLAAC_ADDR " already configured: prefix 2001:db8:1::/64 "
                    "not used");
    /* at most 16 addresses: 14 more prefixes fit, the rest is ignored */
    for (unsigned i = 0; i < 20; i++) {
        p[5] = (uint8_t)(0x10 + i); /* 2001:db8:0010+i::/64 ... */
        addr6_ra_prefix(f->st, p, 64, true, 3600, 1800, f->now);
    }
    assert_int_equal(n_addrs(f), 16);
    expect_trace(f, "ipv6 rx SLAAC: prefix 2001:db8:1e::/64 ignored: at most 16 IPv6 addresses");
    fx_free(f);
}

static void test_slaac_before_start_waits(void **state)
{
    struct fx *f = *state;
    uint8_t p[16];
    A("2001:db8:1::", p);
    addr6_ra_prefix(f->st, p, 64, true, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 3);
    poll_at(f, f->now + 5 * NS);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_TENTATIVE);
    addr6_start(f->st, f->now);
    assert_int_equal(memdev_tx_pending(f->dev), 3);
    poll_at(f, f->now + NS);
    assert_int_equal(state_of(f, SLAAC_ADDR), ADDR6_PREFERRED);
}

static void test_slaac_off(void **state)
{
    (void)state;
    struct fx *f = fx_new("mac=02:00:5e:00:53:02;slaac=off");
    fx_up(f);
    uint8_t p[16];
    A("2001:db8:1::", p);
    addr6_ra_prefix(f->st, p, 64, true, 3600, 1800, f->now);
    assert_int_equal(n_addrs(f), 1);
    expect_trace(f, "ipv6 rx SLAAC: prefix 2001:db8:1::/64 ignored: slaac=off");
    fx_free(f);
}

static void test_duplicate_addr_config(void **state)
{
    (void)state;
    /* an addr= equal to the generated link-local is kept once */
    struct fx *f = fx_new("mac=02:00:5e:00:53:02;addr=" LL "/64;addr=2001:db8::7/64;"
                          "addr=2001:db8::7/64");
    /* (its trace line is written at creation, before the test's trace) */
    assert_int_equal(n_addrs(f), 2);
    enum addr6_origin o;
    assert_true(addr6_get(f->st, 0, NULL, NULL, NULL, &o));
    assert_int_equal(o, ADDR6_LINKLOCAL);
    assert_int_equal(state_of(f, "2001:db8::7"), ADDR6_TENTATIVE);
    fx_free(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_link_local_and_manual_addresses),
        T(test_dad_probe_bytes_and_success),
        T(test_dad_conflict_na),
        T(test_dad_conflict_ns_from_unspecified),
        T(test_dad_conflict_from_the_wire),
        T(test_link_local_duplicate_disables_ipv6),
        T(test_random_start_delay_from_seed),
        T(test_slaac_lifetimes),
        T(test_slaac_renewal_and_two_hour_rule),
        T(test_slaac_ignored_prefixes),
        cmocka_unit_test(test_slaac_same_as_manual_and_table_limit),
        T(test_slaac_before_start_waits),
        cmocka_unit_test(test_slaac_off),
        cmocka_unit_test(test_duplicate_addr_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
