/* SPDX-License-Identifier: MIT */
/* Neighbor Discovery (RFC 4861 §4, §6.1, §7.1; RFC 6980): the captured DAD
 * NS, address-resolution NS and NA, RS and radvd's RA parsed field by field
 * and emitted byte for byte; the option iterator and typed options; every
 * invalid case of BAD-INPUT H.36-38 and V3 with its exact reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire6.h"
#include "wire6_captures.h"

static const uint8_t ip_a[16] = CAP6_IP_A;
static const uint8_t ip_b[16] = CAP6_IP_B;
static const uint8_t mac_a[6] = CAP6_MAC_A;
static const uint8_t mac_b[6] = CAP6_MAC_B;
static const uint8_t unspec[16] = IPV6_ADDR_UNSPECIFIED;
static const uint8_t all_nodes[16] = IPV6_ADDR_ALL_NODES;

/* A message copied out of a captured frame, with its IPv6 facts, that a
 * test may patch. */
struct msg {
    uint8_t src[16], dst[16];
    uint8_t m[256];
    size_t len;
    struct nd_ip ip;
};

static void msg_from(struct msg *x, const uint8_t *frame, size_t frame_len)
{
    memset(x, 0, sizeof(*x));
    const uint8_t *ip = frame + CAP6_L3;
    memcpy(x->src, ip + 8, 16);
    memcpy(x->dst, ip + 24, 16);
    x->len = frame_len - CAP6_L4;
    memcpy(x->m, frame + CAP6_L4, x->len);
    x->ip = (struct nd_ip){ .src = x->src, .dst = x->dst, .hop_limit = ip[7], .fragmented = false };
}

#define MSG_FROM(x, f) msg_from(x, f, sizeof(f))

/* Parse an exact heap copy of the message with the parser of its type. */
static enum nd_reason parse(const struct msg *x, uint8_t type, void *out)
{
    uint8_t *h = dup_exact(x->m, x->len);
    enum nd_reason r;
    switch (type) {
    case ICMPV6_ND_RS: r = nd_rs_parse(&x->ip, h, x->len, out); break;
    case ICMPV6_ND_RA: r = nd_ra_parse(&x->ip, h, x->len, out); break;
    case ICMPV6_ND_NS: r = nd_ns_parse(&x->ip, h, x->len, out); break;
    default: r = nd_na_parse(&x->ip, h, x->len, out); break;
    }
    free(h);
    return r;
}

/* any repr fits here */
union any_repr {
    struct nd_rs_repr rs;
    struct nd_ra_repr ra;
    struct nd_ns_repr ns;
    struct nd_na_repr na;
};

/* ---- captured messages ---------------------------------------------------- */

static void test_parse_dad_ns(void **state)
{
    (void)state;
    struct msg x;
    MSG_FROM(&x, cap6_dad_ns);
    struct nd_ns_repr r;
    assert_int_equal(nd_ns_parse(&x.ip, x.m, x.len, &r), ND_OK);
    assert_memory_equal(r.target, ip_a, 16);
    assert_false(r.has_slla);
    assert_ptr_equal(r.options, x.m + ND_NS_LEN);
    assert_int_equal(r.options_len, 8);
    /* the one option: a Nonce (type 14, RFC 7527), unknown here, skipped */
    struct nd_opt_iter it;
    struct nd_opt o;
    nd_opt_iter_init(&it, r.options, r.options_len);
    assert_true(nd_opt_next(&it, &o));
    assert_int_equal(o.type, 14);
    assert_int_equal(o.units, 1);
    assert_int_equal(o.len, 8);
    assert_ptr_equal(o.p, r.options);
    assert_false(nd_opt_next(&it, &o));
    assert_int_equal(it.reason, ND_OK);
}

static void test_parse_ns_na(void **state)
{
    (void)state;
    struct msg x;
    MSG_FROM(&x, cap6_ns);
    struct nd_ns_repr ns;
    assert_int_equal(nd_ns_parse(&x.ip, x.m, x.len, &ns), ND_OK);
    assert_memory_equal(ns.target, ip_b, 16);
    assert_true(ns.has_slla);
    assert_memory_equal(ns.slla, mac_a, 6);
    assert_int_equal(ns.options_len, 8);

    MSG_FROM(&x, cap6_na);
    struct nd_na_repr na;
    assert_int_equal(nd_na_parse(&x.ip, x.m, x.len, &na), ND_OK);
    assert_true(na.router);
    assert_true(na.solicited);
    assert_true(na.override);
    assert_memory_equal(na.target, ip_b, 16);
    assert_true(na.has_tlla);
    assert_memory_equal(na.tlla, mac_b, 6);
    assert_int_equal(na.options_len, 8);
}

static void test_parse_rs(void **state)
{
    (void)state;
    struct msg x;
    MSG_FROM(&x, cap6_rs);
    struct nd_rs_repr r;
    assert_int_equal(nd_rs_parse(&x.ip, x.m, x.len, &r), ND_OK);
    assert_true(r.has_slla);
    assert_memory_equal(r.slla, mac_a, 6);
    assert_int_equal(r.options_len, 8);
}

static void test_parse_ra(void **state)
{
    (void)state;
    struct msg x;
    MSG_FROM(&x, cap6_ra);
    struct nd_ra_repr r;
    assert_int_equal(nd_ra_parse(&x.ip, x.m, x.len, &r), ND_OK);
    assert_int_equal(r.cur_hop_limit, 64);
    assert_false(r.managed);
    assert_true(r.other);
    assert_int_equal(r.router_lifetime, 1800);
    assert_int_equal(r.reachable_time, 30000);
    assert_int_equal(r.retrans_timer, 1000);
    assert_true(r.has_slla);
    assert_memory_equal(r.slla, mac_b, 6);
    assert_true(r.has_mtu);
    assert_int_equal(r.mtu, 1500);
    assert_ptr_equal(r.options, x.m + ND_RA_LEN);
    assert_int_equal(r.options_len, 48);

    /* the options, in radvd's order, through the iterator */
    struct nd_opt_iter it;
    struct nd_opt o;
    nd_opt_iter_init(&it, r.options, r.options_len);
    assert_true(nd_opt_next(&it, &o));
    assert_int_equal(o.type, ND_OPT_PREFIX);
    assert_int_equal(o.units, 4);
    struct nd_prefix_info pi;
    assert_int_equal(nd_opt_prefix(&o, &pi), ND_OK);
    static const uint8_t prefix[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01 };
    assert_int_equal(pi.prefix_len, 64);
    assert_true(pi.on_link);
    assert_true(pi.autonomous);
    assert_int_equal(pi.valid_lifetime, 86400);
    assert_int_equal(pi.preferred_lifetime, 14400);
    assert_memory_equal(pi.prefix, prefix, 16);
    uint32_t mtu;
    uint8_t mac[6];
    assert_int_equal(nd_opt_mtu(&o, &mtu), ND_BAD_OPT_LEN);
    assert_int_equal(nd_opt_lla(&o, mac), ND_BAD_LLA_LEN);

    assert_true(nd_opt_next(&it, &o));
    assert_int_equal(o.type, ND_OPT_MTU);
    assert_int_equal(nd_opt_mtu(&o, &mtu), ND_OK);
    assert_int_equal(mtu, 1500);
    assert_int_equal(nd_opt_prefix(&o, &pi), ND_BAD_OPT_LEN);

    assert_true(nd_opt_next(&it, &o));
    assert_int_equal(o.type, ND_OPT_SLLA);
    assert_int_equal(nd_opt_lla(&o, mac), ND_OK);
    assert_memory_equal(mac, mac_b, 6);

    assert_false(nd_opt_next(&it, &o));
    assert_int_equal(it.reason, ND_OK);
    assert_false(nd_opt_next(&it, &o));
}

/* Finish an emitted message with its checksum and compare with the frame. */
static void finish_and_compare(uint8_t *buf, size_t len, const uint8_t *frame, size_t frame_len)
{
    const uint8_t *ip = frame + CAP6_L3;
    assert_int_equal(len, frame_len - CAP6_L4);
    icmpv6_csum_fill(buf, len, ip + 8, ip + 24);
    assert_memory_equal(buf, frame + CAP6_L4, len);
}

static void test_emit_matches_capture(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct msg x;

    /* address-resolution NS from a repr written by hand */
    struct nd_ns_repr ns = { .target = CAP6_IP_B, .has_slla = true, .slla = CAP6_MAC_A };
    memset(buf, 0xaa, sizeof(buf));
    size_t n = nd_ns_emit(&ns, buf);
    assert_int_equal(buf[n], 0xaa);
    finish_and_compare(buf, n, cap6_ns, sizeof(cap6_ns));

    /* NA, RS from parsed reprs */
    union any_repr r;
    MSG_FROM(&x, cap6_na);
    assert_int_equal(parse(&x, ICMPV6_ND_NA, &r), ND_OK);
    memset(buf, 0xaa, sizeof(buf));
    n = nd_na_emit(&r.na, buf);
    assert_int_equal(buf[n], 0xaa);
    finish_and_compare(buf, n, cap6_na, sizeof(cap6_na));

    MSG_FROM(&x, cap6_rs);
    assert_int_equal(parse(&x, ICMPV6_ND_RS, &r), ND_OK);
    n = nd_rs_emit(&r.rs, buf);
    finish_and_compare(buf, n, cap6_rs, sizeof(cap6_rs));

    /* DAD NS: no SLLA; the caller appends the nonce option it chose */
    struct nd_ns_repr dad = { .target = CAP6_IP_A };
    n = nd_ns_emit(&dad, buf);
    assert_int_equal(n, ND_NS_LEN);
    memcpy(buf + n, cap6_dad_ns + CAP6_L4 + ND_NS_LEN, 8);
    finish_and_compare(buf, n + 8, cap6_dad_ns, sizeof(cap6_dad_ns));

    /* RA: the fixed part, then the options in radvd's order */
    struct nd_ra_repr ra = { .cur_hop_limit = 64, .other = true, .router_lifetime = 1800,
                             .reachable_time = 30000, .retrans_timer = 1000 };
    struct nd_prefix_info pi = { .prefix_len = 64, .on_link = true, .autonomous = true,
                                 .valid_lifetime = 86400, .preferred_lifetime = 14400,
                                 .prefix = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01 } };
    n = nd_ra_emit(&ra, buf);
    assert_int_equal(n, ND_RA_LEN);
    n += nd_opt_prefix_emit(buf + n, &pi);
    n += nd_opt_mtu_emit(buf + n, 1500);
    n += nd_opt_lla_emit(buf + n, ND_OPT_SLLA, mac_b);
    finish_and_compare(buf, n, cap6_ra, sizeof(cap6_ra));

    /* RA with SLLA and MTU from the repr: SLLA then MTU */
    ra.has_slla = true;
    memcpy(ra.slla, mac_b, 6);
    ra.has_mtu = true;
    ra.mtu = 1280;
    ra.managed = true;
    n = nd_ra_emit(&ra, buf);
    assert_int_equal(n, ND_RA_LEN + 16);
    assert_int_equal(buf[5], 0xc0);
    assert_int_equal(buf[16], ND_OPT_SLLA);
    assert_int_equal(buf[24], ND_OPT_MTU);
    assert_int_equal(be32(buf + 28), 1280);
    struct nd_ip lip = { .src = cap6_ra + CAP6_L3 + 8, .dst = all_nodes, .hop_limit = 255 };
    struct nd_ra_repr back;
    assert_int_equal(nd_ra_parse(&lip, buf, n, &back), ND_OK);
    assert_true(back.managed);
    assert_int_equal(back.mtu, 1280);
    assert_memory_equal(back.slla, mac_b, 6);
}

/* ---- lengths -------------------------------------------------------------- */

/* Every length of a captured message: below the minimum TOO_SHORT; then OK
 * exactly at option boundaries and OPT_OVERRUN in between. */
static void every_length(const uint8_t *frame, size_t frame_len, uint8_t type, size_t min_len,
                         const size_t *bounds, size_t n_bounds)
{
    struct msg x;
    msg_from(&x, frame, frame_len);
    size_t full = x.len;
    for (size_t len = 0; len <= full; len++) {
        x.len = len;
        union any_repr r;
        enum nd_reason e = parse(&x, type, &r);
        if (len < min_len) {
            assert_int_equal(e, ND_TOO_SHORT);
            continue;
        }
        bool at_bound = false;
        for (size_t i = 0; i < n_bounds; i++)
            at_bound |= (len - min_len) == bounds[i];
        assert_int_equal(e, at_bound ? ND_OK : ND_OPT_OVERRUN);
    }
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    static const size_t b_one[] = { 0, 8 };
    static const size_t b_ra[] = { 0, 32, 40, 48 };
    every_length(cap6_rs, sizeof(cap6_rs), ICMPV6_ND_RS, ND_RS_LEN, b_one, 2);
    every_length(cap6_ra, sizeof(cap6_ra), ICMPV6_ND_RA, ND_RA_LEN, b_ra, 4);
    every_length(cap6_ns, sizeof(cap6_ns), ICMPV6_ND_NS, ND_NS_LEN, b_one, 2);
    every_length(cap6_na, sizeof(cap6_na), ICMPV6_ND_NA, ND_NA_LEN, b_one, 2);
    every_length(cap6_dad_ns, sizeof(cap6_dad_ns), ICMPV6_ND_NS, ND_NS_LEN, b_one, 2);
}

/* ---- H.36: generic checks, for every message type ------------------------ */

struct cap {
    const uint8_t *frame;
    size_t len;
    uint8_t type;
};
#define CAP(f, t) { f, sizeof(f), t }
static const struct cap caps[] = {
    CAP(cap6_rs, ICMPV6_ND_RS), CAP(cap6_ra, ICMPV6_ND_RA), CAP(cap6_ns, ICMPV6_ND_NS),
    CAP(cap6_dad_ns, ICMPV6_ND_NS), CAP(cap6_na, ICMPV6_ND_NA),
};
#define N_CAPS (sizeof(caps) / sizeof(caps[0]))

static void test_hop_limit(void **state)
{
    (void)state;
    static const uint8_t hops[] = { 254, 0, 1, 64, 128 };
    for (size_t c = 0; c < N_CAPS; c++) {
        for (size_t i = 0; i < sizeof(hops); i++) {
            struct msg x;
            msg_from(&x, caps[c].frame, caps[c].len);
            x.ip.hop_limit = hops[i];
            union any_repr r;
            assert_int_equal(parse(&x, caps[c].type, &r), ND_BAD_HOP_LIMIT);
        }
    }
}

static void test_code(void **state)
{
    (void)state;
    static const uint8_t codes[] = { 1, 2, 255 };
    for (size_t c = 0; c < N_CAPS; c++) {
        for (size_t i = 0; i < sizeof(codes); i++) {
            struct msg x;
            msg_from(&x, caps[c].frame, caps[c].len);
            x.m[1] = codes[i];
            union any_repr r;
            assert_int_equal(parse(&x, caps[c].type, &r), ND_BAD_CODE);
            /* order: hop limit is checked first */
            x.ip.hop_limit = 254;
            assert_int_equal(parse(&x, caps[c].type, &r), ND_BAD_HOP_LIMIT);
        }
    }
}

static void test_fragmented_and_type(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_CAPS; c++) {
        struct msg x;
        msg_from(&x, caps[c].frame, caps[c].len);
        union any_repr r;
        /* RFC 6980 §5 (D.23): before anything else */
        x.ip.fragmented = true;
        x.ip.hop_limit = 64;
        assert_int_equal(parse(&x, caps[c].type, &r), ND_FRAGMENTED);
        /* another type handed to this parser */
        msg_from(&x, caps[c].frame, caps[c].len);
        /* (a parser whose minimum length the message meets: the length is
         * checked before the type) */
        uint8_t other = caps[c].type == ICMPV6_ND_RS ? ICMPV6_ND_RA : ICMPV6_ND_RS;
        assert_int_equal(parse(&x, other, &r), ND_BAD_TYPE);
    }
}

static void test_option_length_zero(void **state)
{
    (void)state;
    /* §4.6: any option of length 0 (V3: Contiki-NG CVE-2021-21279) */
    for (size_t c = 0; c < N_CAPS; c++) {
        struct msg x;
        msg_from(&x, caps[c].frame, caps[c].len);
        size_t min = caps[c].type == ICMPV6_ND_RS   ? ND_RS_LEN
                     : caps[c].type == ICMPV6_ND_RA ? ND_RA_LEN
                                                    : ND_NS_LEN;
        x.m[min + 1] = 0;
        union any_repr r;
        assert_int_equal(parse(&x, caps[c].type, &r), ND_OPT_LEN_ZERO);
    }
    /* a length 0 after valid options: the RA's SLLA, the last one */
    struct msg x;
    MSG_FROM(&x, cap6_ra);
    x.m[ND_RA_LEN + 40 + 1] = 0;
    union any_repr r;
    assert_int_equal(parse(&x, ICMPV6_ND_RA, &r), ND_OPT_LEN_ZERO);
    /* the iterator returns the options before it, then stops for good */
    struct nd_opt_iter it;
    struct nd_opt o;
    nd_opt_iter_init(&it, x.m + ND_RA_LEN, x.len - ND_RA_LEN);
    assert_true(nd_opt_next(&it, &o));
    assert_true(nd_opt_next(&it, &o));
    assert_false(nd_opt_next(&it, &o));
    assert_int_equal(it.reason, ND_OPT_LEN_ZERO);
    assert_false(nd_opt_next(&it, &o));
    assert_int_equal(it.reason, ND_OPT_LEN_ZERO);
}

static void test_option_overrun(void **state)
{
    (void)state;
    /* an option whose length * 8 exceeds what is left (V3: edk2,
     * CVE-2020-16898): lengths 2, 3, 255 in place of the SLLA's 1 */
    static const uint8_t lens[] = { 2, 3, 255 };
    for (size_t i = 0; i < sizeof(lens); i++) {
        struct msg x;
        MSG_FROM(&x, cap6_ns);
        x.m[ND_NS_LEN + 1] = lens[i];
        union any_repr r;
        assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_OPT_OVERRUN);
    }
    /* the RA's PIO (first of 48 option bytes) claiming 56, 64, 2040 */
    static const uint8_t ra_lens[] = { 7, 8, 255 };
    for (size_t i = 0; i < sizeof(ra_lens); i++) {
        struct msg x;
        MSG_FROM(&x, cap6_ra);
        x.m[ND_RA_LEN + 1] = ra_lens[i];
        union any_repr r;
        assert_int_equal(parse(&x, ICMPV6_ND_RA, &r), ND_OPT_OVERRUN);
    }
    /* a single trailing byte where an option would start */
    struct msg x;
    MSG_FROM(&x, cap6_na);
    x.len++;
    union any_repr r;
    assert_int_equal(parse(&x, ICMPV6_ND_NA, &r), ND_OPT_OVERRUN);
}

static void test_lla_and_other_option_lengths(void **state)
{
    (void)state;
    /* SLLA of 16 bytes (length 2) that fits: not Ethernet (RFC 2464 §6) */
    struct msg x;
    MSG_FROM(&x, cap6_ns);
    x.m[ND_NS_LEN + 1] = 2;
    x.len += 8;
    union any_repr r;
    assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_BAD_LLA_LEN);
    MSG_FROM(&x, cap6_na);
    x.m[ND_NA_LEN + 1] = 2;
    x.len += 8;
    assert_int_equal(parse(&x, ICMPV6_ND_NA, &r), ND_BAD_LLA_LEN);
    /* a TLLA in an NS, an SLLA in an NA: not theirs, skipped */
    MSG_FROM(&x, cap6_ns);
    x.m[ND_NS_LEN] = ND_OPT_TLLA;
    assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_OK);
    assert_false(r.ns.has_slla);
    /* an MTU option of 16 bytes in an RA: that option is ignored; a PIO of
     * 24 bytes is the caller's to ignore (nd_opt_prefix says so) */
    uint8_t m[ND_RA_LEN + 16 + 24];
    memcpy(m, cap6_ra + CAP6_L4, ND_RA_LEN);
    memset(m + ND_RA_LEN, 0, sizeof(m) - ND_RA_LEN);
    m[ND_RA_LEN] = ND_OPT_MTU;
    m[ND_RA_LEN + 1] = 2;
    m[ND_RA_LEN + 16] = ND_OPT_PREFIX;
    m[ND_RA_LEN + 17] = 3;
    struct nd_ip ip = { .src = cap6_ra + CAP6_L3 + 8, .dst = all_nodes, .hop_limit = 255 };
    struct nd_ra_repr ra;
    assert_int_equal(nd_ra_parse(&ip, m, sizeof(m), &ra), ND_OK);
    assert_false(ra.has_mtu);
    assert_false(ra.has_slla);
    struct nd_opt_iter it;
    struct nd_opt o;
    nd_opt_iter_init(&it, ra.options, ra.options_len);
    assert_true(nd_opt_next(&it, &o));
    assert_true(nd_opt_next(&it, &o));
    struct nd_prefix_info pi;
    assert_int_equal(nd_opt_prefix(&o, &pi), ND_BAD_OPT_LEN);
    /* two SLLAs: the first counts */
    uint8_t two[ND_RS_LEN + 16];
    memcpy(two, cap6_rs + CAP6_L4, ND_RS_LEN + 8);
    nd_opt_lla_emit(two + ND_RS_LEN + 8, ND_OPT_SLLA, mac_b);
    struct nd_ip rsip = { .src = cap6_rs + CAP6_L3 + 8, .dst = cap6_rs + CAP6_L3 + 24,
                          .hop_limit = 255 };
    struct nd_rs_repr rs;
    assert_int_equal(nd_rs_parse(&rsip, two, sizeof(two), &rs), ND_OK);
    assert_memory_equal(rs.slla, mac_a, 6);
}

static void test_many_options(void **state)
{
    (void)state;
    /* V3 (Contiki-NG PR 1410): more option bytes than an 8-bit offset can
     * count - 60 unknown options of 8 bytes and one of 2040 bytes */
    static uint8_t opts[60 * 8 + 2040];
    memset(opts, 0, sizeof(opts));
    for (int i = 0; i < 60; i++) {
        opts[i * 8] = 200;
        opts[i * 8 + 1] = 1;
    }
    opts[480] = 201;
    opts[481] = 255;
    uint8_t *h = dup_exact(opts, sizeof(opts));
    struct nd_opt_iter it;
    struct nd_opt o;
    nd_opt_iter_init(&it, h, sizeof(opts));
    int n = 0;
    size_t last_len = 0;
    while (nd_opt_next(&it, &o)) {
        n++;
        last_len = o.len;
    }
    assert_int_equal(it.reason, ND_OK);
    assert_int_equal(n, 61);
    assert_int_equal(last_len, 2040);
    /* the same, one byte short: the big one overruns */
    nd_opt_iter_init(&it, h, sizeof(opts) - 1);
    n = 0;
    while (nd_opt_next(&it, &o))
        n++;
    assert_int_equal(n, 60);
    assert_int_equal(it.reason, ND_OPT_OVERRUN);
    free(h);
    /* empty option space: a clean end at once */
    nd_opt_iter_init(&it, opts, 0);
    assert_false(nd_opt_next(&it, &o));
    assert_int_equal(it.reason, ND_OK);
}

/* ---- H.37: NS-specific, NA-specific ------------------------------------- */

static void test_ns_rules(void **state)
{
    (void)state;
    struct msg x;
    union any_repr r;
    /* target multicast (§7.1.1) */
    MSG_FROM(&x, cap6_ns);
    memcpy(x.m + 8, all_nodes, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_TARGET_MULTICAST);
    /* from :: to a unicast or all-nodes address */
    MSG_FROM(&x, cap6_dad_ns);
    memcpy(x.dst, ip_a, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_UNSPEC_SRC_BAD_DST);
    memcpy(x.dst, all_nodes, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_UNSPEC_SRC_BAD_DST);
    /* from :: with an SLLA: the address-resolution NS with its source
     * cleared (its destination is the solicited-node group) */
    MSG_FROM(&x, cap6_ns);
    memcpy(x.src, unspec, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_UNSPEC_SRC_SLLA);
    /* from :: without SLLA: the DAD capture itself, already OK; also a
     * unicast-sourced NS may go to a unicast destination (NUD) */
    MSG_FROM(&x, cap6_ns);
    memcpy(x.dst, ip_b, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_NS, &r), ND_OK);
}

static void test_na_rules(void **state)
{
    (void)state;
    struct msg x;
    union any_repr r;
    /* target multicast (§7.1.2) */
    MSG_FROM(&x, cap6_na);
    memcpy(x.m + 8, all_nodes, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_NA, &r), ND_TARGET_MULTICAST);
    /* S=1 to a multicast destination */
    MSG_FROM(&x, cap6_na);
    memcpy(x.dst, all_nodes, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_NA, &r), ND_SOLICITED_MCAST);
    /* S=0 there: an unsolicited NA, fine */
    x.m[4] &= (uint8_t)~0x40;
    assert_int_equal(parse(&x, ICMPV6_ND_NA, &r), ND_OK);
    assert_false(r.na.solicited);
    assert_true(r.na.router);
    assert_true(r.na.override);
    /* no flags, no TLLA */
    MSG_FROM(&x, cap6_na);
    x.m[4] = 0;
    x.len = ND_NA_LEN;
    assert_int_equal(parse(&x, ICMPV6_ND_NA, &r), ND_OK);
    assert_false(r.na.router || r.na.solicited || r.na.override);
    assert_false(r.na.has_tlla);
}

/* ---- H.38 and §6.1.1: RA / RS ------------------------------------------- */

static void test_ra_rs_rules(void **state)
{
    (void)state;
    struct msg x;
    union any_repr r;
    /* RA from a global or the unspecified address (§6.1.2) */
    MSG_FROM(&x, cap6_ra);
    memcpy(x.src, ip_b, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_RA, &r), ND_SRC_NOT_LINK_LOCAL);
    memcpy(x.src, unspec, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_RA, &r), ND_SRC_NOT_LINK_LOCAL);
    /* RS from :: with an SLLA (§6.1.1), and without one */
    MSG_FROM(&x, cap6_rs);
    memcpy(x.src, unspec, 16);
    assert_int_equal(parse(&x, ICMPV6_ND_RS, &r), ND_UNSPEC_SRC_SLLA);
    x.len = ND_RS_LEN;
    assert_int_equal(parse(&x, ICMPV6_ND_RS, &r), ND_OK);
    assert_false(r.rs.has_slla);
    /* RA with no options at all */
    MSG_FROM(&x, cap6_ra);
    x.len = ND_RA_LEN;
    assert_int_equal(parse(&x, ICMPV6_ND_RA, &r), ND_OK);
    assert_false(r.ra.has_slla);
    assert_false(r.ra.has_mtu);
    assert_int_equal(r.ra.options_len, 0);
}

static void test_reason_strings(void **state)
{
    (void)state;
    for (int e = ND_OK; e <= ND_SRC_NOT_LINK_LOCAL; e++)
        assert_string_not_equal(nd_reason_str((enum nd_reason)e), "unknown nd reason");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_dad_ns),
        cmocka_unit_test(test_parse_ns_na),
        cmocka_unit_test(test_parse_rs),
        cmocka_unit_test(test_parse_ra),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_hop_limit),
        cmocka_unit_test(test_code),
        cmocka_unit_test(test_fragmented_and_type),
        cmocka_unit_test(test_option_length_zero),
        cmocka_unit_test(test_option_overrun),
        cmocka_unit_test(test_lla_and_other_option_lengths),
        cmocka_unit_test(test_many_options),
        cmocka_unit_test(test_ns_rules),
        cmocka_unit_test(test_na_rules),
        cmocka_unit_test(test_ra_rs_rules),
        cmocka_unit_test(test_reason_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
