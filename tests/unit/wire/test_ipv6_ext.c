/* SPDX-License-Identifier: MIT */
/* IPv6 extension headers (RFC 8200 §4): the captured Hop-by-Hop header of an
 * MLDv2 report and the three captured fragments of a 3008-byte echo request,
 * walked, parsed and emitted byte for byte; then every malformed chain of
 * BAD-INPUT D.19-22 and E.26-28 and the TLV walks of V2, each with its exact
 * reason, action, Parameter Problem code and pointer (RFC 4443 §3.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wire/wire6.h"
#include "wire6_captures.h"

/* ---- a packet builder: the captured echo request's IPv6 header, then
 * extension headers, then an upper layer ------------------------------- */
struct pb {
    uint8_t p[4096];
    size_t len;
    size_t nh_at; /* the Next Header byte to fill with the next header's type */
};

static void pb_start(struct pb *b, bool mcast_dst)
{
    memset(b, 0, sizeof(*b));
    memcpy(b->p, CAP6_IP(cap6_echo_request), IPV6_HDR_LEN);
    if (mcast_dst) {
        static const uint8_t all_nodes[16] = IPV6_ADDR_ALL_NODES;
        memcpy(b->p + 24, all_nodes, 16);
    }
    b->len = IPV6_HDR_LEN;
    b->nh_at = 6;
}

/* An options header (0 or 60) or Routing header: `body` are the bytes after
 * Next Header and Hdr Ext Len; 2 + body_len must be a multiple of 8.
 * Returns the header's offset. */
static size_t pb_ext(struct pb *b, uint8_t type, const uint8_t *body, size_t body_len)
{
    assert_int_equal((2 + body_len) % 8, 0);
    size_t off = b->len;
    b->p[b->nh_at] = type;
    b->p[off + 1] = (uint8_t)((2 + body_len) / 8 - 1);
    memcpy(b->p + off + 2, body, body_len);
    b->nh_at = off;
    b->len += 2 + body_len;
    return off;
}

static size_t pb_frag(struct pb *b, uint16_t offset, bool more, uint32_t ident)
{
    size_t off = b->len;
    struct frag_repr f = { .next_header = 0, .offset = offset, .more = more, .ident = ident };
    b->p[b->nh_at] = IP_PROTO_FRAGMENT;
    ipv6_frag_emit(&f, b->p + off);
    b->nh_at = off;
    b->len += IPV6_FRAG_HDR_LEN;
    return off;
}

/* Finish with an upper layer of `len` bytes (the captured echo request's
 * ICMPv6 message, repeated), and set Payload Length. */
static void pb_upper(struct pb *b, uint8_t proto, size_t len)
{
    b->p[b->nh_at] = proto;
    for (size_t i = 0; i < len; i++)
        b->p[b->len + i] = CAP6_UL(cap6_echo_request)[i % CAP6_UL_LEN(cap6_echo_request)];
    b->len += len;
    put_be16(b->p + 4, (uint16_t)(b->len - IPV6_HDR_LEN));
}

/* Walk an exact heap copy, so ASan sees any read past the span. */
static enum ipv6_ext_reason walk(const struct pb *b, struct ipv6_ext_result *r)
{
    uint8_t *h = dup_exact(b->p, b->len);
    enum ipv6_ext_reason e = ipv6_ext_walk(h, b->len, r);
    free(h);
    return e;
}

static void assert_pp(const struct ipv6_ext_result *r, enum ipv6_ext_reason reason,
                      enum ipv6_ext_action act, uint8_t code, uint32_t pointer)
{
    assert_int_equal(r->reason, reason);
    assert_int_equal(r->action, act);
    assert_int_equal(r->pp_code, code);
    assert_int_equal(r->pointer, pointer);
}

/* ---- captured chains ------------------------------------------------------ */

static void test_no_extension_headers(void **state)
{
    (void)state;
    struct ipv6_ext_result r;
    assert_int_equal(ipv6_ext_walk(CAP6_IP(cap6_echo_request), CAP6_IP_LEN(cap6_echo_request), &r),
                     IPV6_EXT_OK);
    assert_int_equal(r.action, IPV6_ACT_ACCEPT);
    assert_int_equal(r.proto, IP_PROTO_ICMPV6);
    assert_int_equal(r.offset, 40);
    assert_int_equal(r.nh_off, 6);
    assert_int_equal(r.n_hdrs, 0);
    assert_false(r.router_alert);
    assert_false(r.has_routing);
    assert_int_equal(r.frag_kind, IPV6_NOT_FRAGMENT);

    struct ipv6_ext_iter it;
    struct ipv6_ext_hdr h;
    ipv6_ext_iter_init(&it, CAP6_IP(cap6_udp), CAP6_IP_LEN(cap6_udp));
    assert_false(ipv6_ext_next(&it, &h));
    assert_int_equal(it.reason, IPV6_EXT_OK);
    assert_int_equal(it.nh, IP_PROTO_UDP);
    assert_int_equal(it.off, 40);
}

static void test_captured_hop_by_hop(void **state)
{
    (void)state;
    const uint8_t *ip = CAP6_IP(cap6_mld_report);
    size_t len = CAP6_IP_LEN(cap6_mld_report);

    /* the iterator: one header, then ICMPv6 */
    struct ipv6_ext_iter it;
    struct ipv6_ext_hdr h;
    ipv6_ext_iter_init(&it, ip, len);
    assert_true(ipv6_ext_next(&it, &h));
    assert_int_equal(h.type, IP_PROTO_HOPOPTS);
    assert_int_equal(h.next_header, IP_PROTO_ICMPV6);
    assert_int_equal(h.off, 40);
    assert_int_equal(h.len, 8);
    assert_int_equal(h.nh_off, 6);
    assert_ptr_equal(h.p, ip + 40);
    assert_false(ipv6_ext_next(&it, &h));
    assert_int_equal(it.reason, IPV6_EXT_OK);
    assert_int_equal(it.nh, IP_PROTO_ICMPV6);
    assert_int_equal(it.off, 48);
    assert_int_equal(it.nh_off, 40);
    assert_false(ipv6_ext_next(&it, &h)); /* stays ended */

    /* the walk: Router Alert (MLD), PadN skipped */
    struct ipv6_ext_result r;
    assert_int_equal(ipv6_ext_walk(ip, len, &r), IPV6_EXT_OK);
    assert_int_equal(r.action, IPV6_ACT_ACCEPT);
    assert_int_equal(r.proto, IP_PROTO_ICMPV6);
    assert_int_equal(r.offset, 48);
    assert_int_equal(r.nh_off, 40);
    assert_int_equal(r.n_hdrs, 1);
    assert_true(r.router_alert);
    assert_int_equal(r.router_alert_value, 0);

    /* emit reproduces the captured header */
    uint8_t out[9];
    memset(out, 0xaa, sizeof(out));
    ipv6_hbh_router_alert_emit(out, IP_PROTO_ICMPV6, 0);
    assert_memory_equal(out, ip + 40, 8);
    assert_int_equal(out[8], 0xaa);

    /* the MLD message itself verifies as ICMPv6 at the offset found */
    struct icmpv6_repr m;
    assert_int_equal(icmpv6_parse(ip + r.offset, len - r.offset, ip + 8, ip + 24, &m, true),
                     WIRE_OK);
    assert_int_equal(m.type, ICMPV6_MLD2_REPORT);
}

static void check_fragment(const uint8_t *frame, size_t frame_len, uint16_t offset, bool more)
{
    const uint8_t *ip = frame + CAP6_L3;
    size_t len = frame_len - CAP6_L3;
    struct ipv6_ext_result r;
    assert_int_equal(ipv6_ext_walk(ip, len, &r), IPV6_EXT_OK);
    assert_int_equal(r.action, IPV6_ACT_ACCEPT);
    assert_int_equal(r.frag_kind, IPV6_FRAGMENT);
    assert_int_equal(r.frag_hdr_off, 40);
    assert_int_equal(r.frag.next_header, IP_PROTO_ICMPV6);
    assert_int_equal(r.frag.offset, offset);
    assert_int_equal(r.frag.more, more);
    assert_int_equal(r.frag.ident, 0x94fc651eu);
    assert_int_equal(r.proto, IP_PROTO_ICMPV6);
    assert_int_equal(r.offset, 48);
    assert_int_equal(r.nh_off, 40);
    assert_int_equal(r.n_hdrs, 1);

    struct frag_repr f;
    assert_int_equal(ipv6_frag_parse(ip + 40, 8, &f), WIRE_OK);
    assert_int_equal(f.offset, offset);
    assert_int_equal(f.more, more);
    assert_int_equal(f.ident, 0x94fc651eu);
    assert_int_equal(f.next_header, IP_PROTO_ICMPV6);
    assert_false(frag_is_atomic(&f));
    uint8_t out[9];
    memset(out, 0xaa, sizeof(out));
    ipv6_frag_emit(&f, out);
    assert_memory_equal(out, ip + 40, 8);
    assert_int_equal(out[8], 0xaa);
    for (size_t l = 0; l < 8; l++)
        assert_int_equal(ipv6_frag_parse(ip + 40, l, &f), WIRE_TRUNCATED);
}

static void test_captured_fragments(void **state)
{
    (void)state;
    check_fragment(cap6_frag1, sizeof(cap6_frag1), 0, true);
    check_fragment(cap6_frag2, sizeof(cap6_frag2), 1448, true);
    check_fragment(cap6_frag3, sizeof(cap6_frag3), 2896, false);
    /* the fragment data of all three: 1448 + 1448 + 112 = 3008 bytes, the
     * ICMPv6 echo (8 + 3000); its checksum verifies once put together */
    static uint8_t whole[3008];
    memcpy(whole, cap6_frag1 + CAP6_L3 + 48, 1448);
    memcpy(whole + 1448, cap6_frag2 + CAP6_L3 + 48, 1448);
    memcpy(whole + 2896, cap6_frag3 + CAP6_L3 + 48, 112);
    const uint8_t *ip = CAP6_IP(cap6_frag1);
    struct icmpv6_repr m;
    assert_int_equal(icmpv6_parse(whole, sizeof(whole), ip + 8, ip + 24, &m, true), WIRE_OK);
    assert_int_equal(m.type, ICMPV6_ECHO_REQUEST);
    assert_int_equal(m.rest, 0x48d50001u);
    assert_int_equal(m.data_len, 3000);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    /* Span shorter than 40 + payload length: TRUNCATED, dropped. */
    const uint8_t *ip = CAP6_IP(cap6_mld_report);
    size_t full = CAP6_IP_LEN(cap6_mld_report);
    for (size_t len = 0; len < full; len++) {
        uint8_t *b = dup_exact(ip, len);
        struct ipv6_ext_result r;
        assert_int_equal(ipv6_ext_walk(b, len, &r), IPV6_EXT_TRUNCATED);
        assert_int_equal(r.action, IPV6_ACT_DROP);
        free(b);
    }
    /* Payload length cutting the Hop-by-Hop header (0 is the jumbogram case
     * ipv6_parse reports; the walk still must not read past 40 + 0). */
    uint8_t p[90];
    memcpy(p, ip, full);
    for (uint16_t pl = 0; pl < 8; pl++) {
        put_be16(p + 4, pl);
        uint8_t *b = dup_exact(p, 40 + (size_t)pl);
        struct ipv6_ext_result r;
        assert_int_equal(ipv6_ext_walk(b, 40 + (size_t)pl, &r), IPV6_EXT_TRUNCATED);
        assert_int_equal(r.action, IPV6_ACT_DROP);
        assert_int_equal(r.pointer, pl < 2 ? 40 : 41);
        free(b);
    }
    /* the captured fragments, cut at every length below the whole */
    ip = CAP6_IP(cap6_frag3);
    full = CAP6_IP_LEN(cap6_frag3);
    for (size_t len = 0; len < full; len++) {
        uint8_t *b = dup_exact(ip, len);
        struct ipv6_ext_result r;
        assert_int_equal(ipv6_ext_walk(b, len, &r), IPV6_EXT_TRUNCATED);
        free(b);
    }
}

/* ---- BAD-INPUT E.26: Hop-by-Hop not first; unknown Next Header ---------- */

static void test_hbh_not_first(void **state)
{
    (void)state;
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    struct pb b;
    struct ipv6_ext_result r;

    /* DestOpts, then HBH: pointer at the DestOpts' Next Header byte (40) */
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_ext(&b, IP_PROTO_HOPOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_HBH_NOT_FIRST);
    assert_pp(&r, IPV6_EXT_HBH_NOT_FIRST, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER, 40);

    /* HBH, HBH: the second one is not first either (pointer 40) */
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_HOPOPTS, pad6, 6);
    pb_ext(&b, IP_PROTO_HOPOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_HBH_NOT_FIRST);
    assert_pp(&r, IPV6_EXT_HBH_NOT_FIRST, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER, 40);

    /* after an atomic fragment and a DestOpts: pointer 48 */
    pb_start(&b, false);
    pb_frag(&b, 0, false, 7);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_ext(&b, IP_PROTO_HOPOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_HBH_NOT_FIRST);
    assert_pp(&r, IPV6_EXT_HBH_NOT_FIRST, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER, 48);

    /* the iterator reports the same */
    struct ipv6_ext_iter it;
    struct ipv6_ext_hdr h;
    ipv6_ext_iter_init(&it, b.p, b.len);
    assert_true(ipv6_ext_next(&it, &h));
    assert_int_equal(h.type, IP_PROTO_FRAGMENT);
    assert_true(ipv6_ext_next(&it, &h));
    assert_int_equal(h.type, IP_PROTO_DSTOPTS);
    assert_int_equal(h.nh_off, 40);
    assert_false(ipv6_ext_next(&it, &h));
    assert_int_equal(it.reason, IPV6_EXT_HBH_NOT_FIRST);
    assert_int_equal(it.pointer, 48);
    assert_false(ipv6_ext_next(&it, &h));

    /* unknown Next Header (253, 254, 41): the walk ends there and says
     * which byte named it, for PP code 1 (the stack knows its protocols) */
    static const uint8_t unknown[] = { 253, 254, IP_PROTO_IPV6, IP_PROTO_ESP };
    for (size_t i = 0; i < sizeof(unknown); i++) {
        pb_start(&b, false);
        pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
        pb_upper(&b, unknown[i], 16);
        assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
        assert_int_equal(r.proto, unknown[i]);
        assert_int_equal(r.offset, 48);
        assert_int_equal(r.nh_off, 40);
    }
    /* No Next Header (RFC 8200 §4.7), also with nothing after it */
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_NONE, 0);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.proto, IP_PROTO_NONE);
    assert_int_equal(r.offset, 48);
}

/* ---- V2: Hdr Ext Len overrunning, limits ---------------------------------- */

static void test_hdr_ext_len_overrun(void **state)
{
    (void)state;
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    struct pb b;
    struct ipv6_ext_result r;
    /* a DestOpts header claiming 16..128 bytes with 8 + 16 in the payload:
     * 16 and 24 fit, the rest runs past the payload (picoTCP
     * CVE-2020-17445): DROP, pointer at the Hdr Ext Len byte */
    for (unsigned hel = 1; hel <= 15; hel++) {
        pb_start(&b, false);
        pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
        pb_upper(&b, IP_PROTO_ICMPV6, 16);
        memset(b.p + 48, 0, 16); /* Pad1s, should the header cover them */
        b.p[41] = (uint8_t)hel;
        enum ipv6_ext_reason e = walk(&b, &r);
        if (hel <= 2) {
            assert_int_equal(e, IPV6_EXT_OK);
            assert_int_equal(r.offset, 40 + (hel + 1) * 8);
        } else {
            assert_int_equal(e, IPV6_EXT_TRUNCATED);
            assert_pp(&r, IPV6_EXT_TRUNCATED, IPV6_ACT_DROP, ICMPV6_PP_HEADER, 41);
        }
    }
    /* Hdr Ext Len 255 (2048 bytes): over the byte limit before it is even
     * compared with the payload - whether or not the bytes are there */
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    b.p[41] = 255;
    assert_int_equal(walk(&b, &r), IPV6_EXT_TOO_LONG);
    assert_pp(&r, IPV6_EXT_TOO_LONG, IPV6_ACT_DROP, ICMPV6_PP_CHAIN_TOO_LONG, 40);
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 2048);
    memset(b.p + 48, 0, 2048);
    b.p[41] = 255;
    assert_int_equal(walk(&b, &r), IPV6_EXT_TOO_LONG);
    assert_int_equal(r.pointer, 40);
}

static void test_byte_limit(void **state)
{
    (void)state;
    /* exactly IPV6_EXT_MAX_BYTES: one 1024-byte DestOpts of Pad1s */
    static uint8_t body[1022];
    memset(body, IPV6_OPT_PAD1, sizeof(body));
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    struct pb b;
    struct ipv6_ext_result r;
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, body, sizeof(body));
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.offset, 40 + 1024);
    /* one more header (8 bytes) crosses it: pointer at that header */
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, body, sizeof(body));
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_TOO_LONG);
    assert_pp(&r, IPV6_EXT_TOO_LONG, IPV6_ACT_DROP, ICMPV6_PP_CHAIN_TOO_LONG, 40 + 1024);
}

static void test_100_destination_options(void **state)
{
    (void)state;
    /* BAD-INPUT V2: 100 chained Destination Options headers hit the limit
     * of 8 at the 9th header (offset 40 + 8 * 8), dropped silently. */
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    struct pb b;
    struct ipv6_ext_result r;
    pb_start(&b, false);
    for (int i = 0; i < 100; i++)
        pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_TOO_MANY);
    assert_pp(&r, IPV6_EXT_TOO_MANY, IPV6_ACT_DROP, ICMPV6_PP_TOO_MANY_EXT, 104);

    struct ipv6_ext_iter it;
    struct ipv6_ext_hdr h;
    ipv6_ext_iter_init(&it, b.p, b.len);
    int n = 0;
    while (ipv6_ext_next(&it, &h))
        n++;
    assert_int_equal(n, IPV6_EXT_MAX_HDRS);
    assert_int_equal(it.reason, IPV6_EXT_TOO_MANY);
    assert_int_equal(it.pointer, 104);

    /* exactly 8 is fine */
    pb_start(&b, false);
    for (int i = 0; i < IPV6_EXT_MAX_HDRS; i++)
        pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.n_hdrs, 8);
    assert_int_equal(r.offset, 104);
    assert_int_equal(r.nh_off, 96);
}

/* ---- V2 / E.27: option TLVs -------------------------------------------- */

/* One DestOpts (or HBH) header with `body`, then 16 bytes of ICMPv6. */
static enum ipv6_ext_reason walk_opts(uint8_t type, const uint8_t *body, size_t len, bool mcast,
                                      struct ipv6_ext_result *r)
{
    struct pb b;
    pb_start(&b, mcast);
    pb_ext(&b, type, body, len);
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    return walk(&b, r);
}

static void test_option_lengths(void **state)
{
    (void)state;
    struct ipv6_ext_result r;
    /* PadN of data length 0..4 followed by padding to fill 6 bytes */
    static const uint8_t l0[6] = { IPV6_OPT_PADN, 0, IPV6_OPT_PADN, 2, 0, 0 };
    static const uint8_t l1[6] = { IPV6_OPT_PADN, 1, 0, IPV6_OPT_PADN, 1, 0 };
    static const uint8_t l4[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    static const uint8_t pad1s[6] = { 0, 0, 0, 0, 0, 0 };
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, l0, 6, false, &r), IPV6_EXT_OK);
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, l1, 6, false, &r), IPV6_EXT_OK);
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, l4, 6, false, &r), IPV6_EXT_OK);
    assert_int_equal(walk_opts(IP_PROTO_HOPOPTS, pad1s, 6, false, &r), IPV6_EXT_OK);
    /* length 5, 254, 255 in a 6-byte body: overrun, pointer at the length */
    static const uint8_t bad_len[] = { 5, 6, 254, 255 };
    for (size_t i = 0; i < sizeof(bad_len); i++) {
        uint8_t body[6] = { IPV6_OPT_PADN, bad_len[i], 0, 0, 0, 0 };
        assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, body, 6, false, &r), IPV6_EXT_OPT_TRUNCATED);
        assert_pp(&r, IPV6_EXT_OPT_TRUNCATED, IPV6_ACT_DROP, ICMPV6_PP_HEADER, 43);
    }
    /* an option type in the last byte, no room for its length */
    static const uint8_t last[6] = { IPV6_OPT_PADN, 3, 0, 0, 0, 0x1e };
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, last, 6, false, &r), IPV6_EXT_OPT_TRUNCATED);
    assert_pp(&r, IPV6_EXT_OPT_TRUNCATED, IPV6_ACT_DROP, ICMPV6_PP_HEADER, 47);
    /* but a Pad1 there is fine */
    static const uint8_t last_pad1[6] = { IPV6_OPT_PADN, 3, 0, 0, 0, IPV6_OPT_PAD1 };
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, last_pad1, 6, false, &r), IPV6_EXT_OK);

    /* data lengths 254 and 255 that fit a larger header: no 8-bit wrap
     * (Contiki-NG PR 813) - 2 + 254 + 6 = 262 and 2 + 255 + 5 = 262 */
    static uint8_t big[262];
    memset(big, 0, sizeof(big));
    big[0] = IPV6_OPT_PADN;
    big[1] = 254;
    big[256] = IPV6_OPT_PADN;
    big[257] = 4;
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, big, sizeof(big), false, &r), IPV6_EXT_OK);
    assert_int_equal(r.offset, 40 + 264);
    memset(big, 0, sizeof(big));
    big[0] = 0x1e; /* unknown, action 00: skipped */
    big[1] = 255;
    big[257] = IPV6_OPT_PADN;
    big[258] = 3;
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, big, sizeof(big), false, &r), IPV6_EXT_OK);
    /* and 255 where only 254 fit (6 Pad1s, then 2 + 255 > 256 left) */
    memset(big, 0, sizeof(big));
    big[6] = IPV6_OPT_PADN;
    big[7] = 255;
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, big, sizeof(big), false, &r),
                     IPV6_EXT_OPT_TRUNCATED);
    assert_int_equal(r.pointer, 40 + 2 + 7);
}

static void test_unknown_option_actions(void **state)
{
    (void)state;
    struct ipv6_ext_result r;
    /* RFC 8200 §4.2 (BAD-INPUT E.27): type 0x1e / 0x5e / 0x9e / 0xde after a
     * 2-byte PadN, so the pointer is 40 + 2 + 2 = 44 */
    for (int hbh = 0; hbh < 2; hbh++) {
        uint8_t hdr = hbh ? IP_PROTO_HOPOPTS : IP_PROTO_DSTOPTS;
        for (int mcast = 0; mcast < 2; mcast++) {
            uint8_t body[6] = { IPV6_OPT_PADN, 0, 0x1e, 2, 0, 0 };
            assert_int_equal(walk_opts(hdr, body, 6, mcast, &r), IPV6_EXT_OK);
            assert_int_equal(r.action, IPV6_ACT_ACCEPT);

            body[2] = 0x5e;
            assert_int_equal(walk_opts(hdr, body, 6, mcast, &r), IPV6_EXT_OPT_DISCARD);
            assert_pp(&r, IPV6_EXT_OPT_DISCARD, IPV6_ACT_DROP, ICMPV6_PP_OPTION, 44);

            body[2] = 0x9e;
            assert_int_equal(walk_opts(hdr, body, 6, mcast, &r), IPV6_EXT_OPT_UNKNOWN);
            assert_pp(&r, IPV6_EXT_OPT_UNKNOWN, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_OPTION, 44);
            assert_true(r.pp_mcast_ok);

            body[2] = 0xde;
            assert_int_equal(walk_opts(hdr, body, 6, mcast, &r), IPV6_EXT_OPT_UNKNOWN);
            assert_pp(&r, IPV6_EXT_OPT_UNKNOWN, mcast ? IPV6_ACT_DROP : IPV6_ACT_PARAM_PROBLEM,
                      ICMPV6_PP_OPTION, 44);
            assert_false(r.pp_mcast_ok);
        }
    }
    /* the jumbo option (0xC2) is unknown here: action 11 */
    static const uint8_t jumbo[6] = { 0xc2, 4, 0, 1, 0, 0 };
    assert_int_equal(walk_opts(IP_PROTO_HOPOPTS, jumbo, 6, false, &r), IPV6_EXT_OPT_UNKNOWN);
    assert_pp(&r, IPV6_EXT_OPT_UNKNOWN, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_OPTION, 42);
    /* Router Alert: length 2 only, and only in Hop-by-Hop */
    static const uint8_t ra3[6] = { IPV6_OPT_ROUTER_ALERT, 3, 0, 0, 0, 0 };
    assert_int_equal(walk_opts(IP_PROTO_HOPOPTS, ra3, 6, false, &r), IPV6_EXT_OPT_BAD_LEN);
    assert_pp(&r, IPV6_EXT_OPT_BAD_LEN, IPV6_ACT_DROP, ICMPV6_PP_HEADER, 43);
    static const uint8_t ra[6] = { IPV6_OPT_ROUTER_ALERT, 2, 0x12, 0x34, IPV6_OPT_PADN, 0 };
    assert_int_equal(walk_opts(IP_PROTO_HOPOPTS, ra, 6, false, &r), IPV6_EXT_OK);
    assert_true(r.router_alert);
    assert_int_equal(r.router_alert_value, 0x1234);
    assert_int_equal(walk_opts(IP_PROTO_DSTOPTS, ra, 6, false, &r), IPV6_EXT_OK);
    assert_false(r.router_alert); /* type 5 outside HBH: unknown, action 00 */
}

/* ---- E.28: Routing header --------------------------------------------- */

static void test_routing(void **state)
{
    (void)state;
    struct pb b;
    struct ipv6_ext_result r;
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    /* RH0 with one address: type, segments left, 4 reserved, 16 address */
    uint8_t rh[22] = { IPV6_RT_TYPE0, 1, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, [21] = 9 };

    /* RFC 5095 / RFC 8200 §4.4: segments left > 0 -> PP 0 at Routing Type */
    for (int sl = 1; sl < 256; sl += 127) {
        rh[1] = (uint8_t)sl;
        pb_start(&b, false);
        pb_ext(&b, IP_PROTO_ROUTING, rh, sizeof(rh));
        pb_upper(&b, IP_PROTO_ICMPV6, 16);
        assert_int_equal(walk(&b, &r), IPV6_EXT_ROUTING);
        assert_pp(&r, IPV6_EXT_ROUTING, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_HEADER, 42);
    }
    /* any type (4 = SRH), after a DestOpts: pointer 48 + 2 */
    rh[0] = 4;
    rh[1] = 2;
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_ext(&b, IP_PROTO_ROUTING, rh, sizeof(rh));
    pb_upper(&b, IP_PROTO_ICMPV6, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_ROUTING);
    assert_pp(&r, IPV6_EXT_ROUTING, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_HEADER, 50);

    /* segments left 0: ignored, the walk goes on (RH0 and type 2) */
    static const uint8_t types[] = { IPV6_RT_TYPE0, 2 };
    for (size_t i = 0; i < sizeof(types); i++) {
        rh[0] = types[i];
        rh[1] = 0;
        pb_start(&b, false);
        pb_ext(&b, IP_PROTO_ROUTING, rh, sizeof(rh));
        pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
        pb_upper(&b, IP_PROTO_ICMPV6, 16);
        assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
        assert_true(r.has_routing);
        assert_int_equal(r.routing_type, types[i]);
        assert_int_equal(r.segments_left, 0);
        assert_int_equal(r.proto, IP_PROTO_ICMPV6);
        assert_int_equal(r.offset, 40 + 24 + 8);
        assert_int_equal(r.n_hdrs, 2);
    }
}

/* ---- D.19-22: Fragment header ------------------------------------------ */

static void test_fragment_errors(void **state)
{
    (void)state;
    struct pb b;
    struct ipv6_ext_result r;
    /* RFC 8200 §4.5 (D.19): M=1 and 1..7, 9..15 bytes: PP 0 -> Payload
     * Length */
    for (size_t dl = 1; dl < 16; dl++) {
        pb_start(&b, false);
        pb_frag(&b, 8, true, 1);
        pb_upper(&b, IP_PROTO_ICMPV6, dl);
        if (dl == 8) {
            assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
            continue;
        }
        assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_BAD_LEN);
        assert_pp(&r, IPV6_EXT_FRAG_BAD_LEN, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_HEADER, 4);
    }
    /* the last fragment (M=0) may have any length */
    pb_start(&b, false);
    pb_frag(&b, 8, false, 1);
    pb_upper(&b, IP_PROTO_ICMPV6, 13);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.frag_kind, IPV6_FRAGMENT);

    /* offset + length > 65535 (V4, D.17): PP 0 -> Fragment Offset field */
    static const struct { uint16_t off; size_t len; bool more; bool ok; } cases[] = {
        { 65528, 7, false, true },  /* ends at 65535 exactly */
        { 65528, 8, false, false }, /* 65536 */
        { 65520, 16, true, false },
        { 65512, 16, false, true },
        { 65528, 1448, true, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pb_start(&b, false);
        size_t fo = pb_frag(&b, cases[i].off, cases[i].more, 2);
        pb_upper(&b, IP_PROTO_ICMPV6, cases[i].len);
        if (cases[i].ok) {
            assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
            assert_int_equal(r.frag.offset, cases[i].off);
        } else {
            assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_TOO_BIG);
            assert_pp(&r, IPV6_EXT_FRAG_TOO_BIG, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_HEADER,
                      (uint32_t)fo + 2);
        }
    }
    /* and after a DestOpts, the pointer follows the header */
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_frag(&b, 65528, false, 3);
    pb_upper(&b, IP_PROTO_ICMPV6, 8);
    assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_TOO_BIG);
    assert_int_equal(r.pointer, 50);

    /* zero-length fragments (D.19): dropped */
    pb_start(&b, false);
    pb_frag(&b, 0, true, 4);
    pb_upper(&b, IP_PROTO_ICMPV6, 0);
    assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_EMPTY);
    assert_int_equal(r.action, IPV6_ACT_DROP);
    pb_start(&b, false);
    pb_frag(&b, 1448, false, 4);
    pb_upper(&b, IP_PROTO_ICMPV6, 0);
    assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_EMPTY);
}

static void test_atomic_fragment(void **state)
{
    (void)state;
    struct pb b;
    struct ipv6_ext_result r;
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    /* RFC 6946 (D.22): offset 0, M 0 - processed at once: the walk goes
     * through to the upper layer; the length need not be a multiple of 8 */
    pb_start(&b, false);
    pb_frag(&b, 0, false, 0x94fc651e);
    pb_upper(&b, IP_PROTO_ICMPV6, 13);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.frag_kind, IPV6_ATOMIC_FRAGMENT);
    assert_int_equal(r.frag.ident, 0x94fc651eu);
    assert_true(frag_is_atomic(&r.frag));
    assert_int_equal(r.frag_hdr_off, 40);
    assert_int_equal(r.proto, IP_PROTO_ICMPV6);
    assert_int_equal(r.offset, 48);
    assert_int_equal(r.nh_off, 40);
    /* with a Destination Options header before it, and one after */
    pb_start(&b, false);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_frag(&b, 0, false, 5);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_UDP, 8);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.frag_kind, IPV6_ATOMIC_FRAGMENT);
    assert_int_equal(r.frag_hdr_off, 48);
    assert_int_equal(r.proto, IP_PROTO_UDP);
    assert_int_equal(r.offset, 64);
    assert_int_equal(r.n_hdrs, 3);
    /* an atomic fragment runs into the option checks like any packet */
    static const uint8_t bad[6] = { 0x9e, 4, 0, 0, 0, 0 };
    pb_start(&b, false);
    pb_frag(&b, 0, false, 5);
    pb_ext(&b, IP_PROTO_DSTOPTS, bad, 6);
    pb_upper(&b, IP_PROTO_UDP, 8);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OPT_UNKNOWN);
    assert_int_equal(r.pointer, 50);
}

static void test_first_fragment_chain(void **state)
{
    (void)state;
    struct pb b;
    struct ipv6_ext_result r;
    static const uint8_t pad6[6] = { IPV6_OPT_PADN, 4, 0, 0, 0, 0 };
    /* RFC 7112 (D.21): the first fragment holds a DestOpts that claims 16
     * bytes but the fragment ends after 8: PP 3, pointer 0 */
    pb_start(&b, false);
    pb_frag(&b, 0, true, 6);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_UDP, 0);
    b.p[49] = 1;
    assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_INCOMPLETE);
    assert_pp(&r, IPV6_EXT_FRAG_INCOMPLETE, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_FIRST_FRAG, 0);
    /* a complete DestOpts but no room for the UDP header (8 bytes of data,
     * all of them the DestOpts) */
    pb_start(&b, false);
    pb_frag(&b, 0, true, 6);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_UDP, 0);
    assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_INCOMPLETE);
    /* TCP needs 20 bytes: 16 is too few */
    pb_start(&b, false);
    pb_frag(&b, 0, true, 6);
    pb_upper(&b, IP_PROTO_TCP, 16);
    assert_int_equal(walk(&b, &r), IPV6_EXT_FRAG_INCOMPLETE);
    /* UDP with its 8-byte header: complete; the chain after the Fragment
     * header is left for after reassembly */
    pb_start(&b, false);
    pb_frag(&b, 0, true, 6);
    pb_ext(&b, IP_PROTO_DSTOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_UDP, 8);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.frag_kind, IPV6_FRAGMENT);
    assert_int_equal(r.proto, IP_PROTO_DSTOPTS);
    assert_int_equal(r.offset, 48);
    assert_int_equal(r.n_hdrs, 1);
    /* unknown protocol: its Next Header value is all RFC 7112 asks for */
    pb_start(&b, false);
    pb_frag(&b, 0, true, 6);
    pb_upper(&b, 253, 8);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    /* HBH inside the first fragment: HBH_NOT_FIRST, not "incomplete" */
    pb_start(&b, false);
    pb_frag(&b, 0, true, 6);
    pb_ext(&b, IP_PROTO_HOPOPTS, pad6, 6);
    pb_upper(&b, IP_PROTO_UDP, 8);
    assert_int_equal(walk(&b, &r), IPV6_EXT_HBH_NOT_FIRST);
    assert_pp(&r, IPV6_EXT_HBH_NOT_FIRST, IPV6_ACT_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER, 40);
    /* a later fragment is not looked into */
    pb_start(&b, false);
    pb_frag(&b, 8, true, 6);
    pb_upper(&b, IP_PROTO_HOPOPTS, 8);
    assert_int_equal(walk(&b, &r), IPV6_EXT_OK);
    assert_int_equal(r.proto, IP_PROTO_HOPOPTS);
}

/* ---- V2: random chains always end, inside the span ---------------------- */

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void test_random_chains_terminate(void **state)
{
    (void)state;
    static const uint8_t nhs[] = { IP_PROTO_HOPOPTS, IP_PROTO_ROUTING, IP_PROTO_FRAGMENT,
                                   IP_PROTO_DSTOPTS, IP_PROTO_ICMPV6, IP_PROTO_NONE };
    uint32_t seed = 0x6d1f;
    uint8_t p[600];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 40 + lcg(&seed) % 560;
        for (size_t i = 0; i < len; i++) {
            uint32_t v = lcg(&seed);
            /* bias next-header-looking bytes towards extension headers and
             * lengths towards small values so that chains get long */
            p[i] = (v & 3) == 0 ? nhs[(v >> 2) % sizeof(nhs)] : (v & 3) == 1 ? (uint8_t)(v >> 4) % 3
                                                                              : (uint8_t)(v >> 4);
        }
        memcpy(p, CAP6_IP(cap6_echo_request), 40);
        p[6] = nhs[lcg(&seed) % 4];
        put_be16(p + 4, (uint16_t)(len - 40 - (lcg(&seed) % 2 ? 0 : lcg(&seed) % (len - 39))));
        uint8_t *h = dup_exact(p, len);
        struct ipv6_ext_result r;
        enum ipv6_ext_reason e = ipv6_ext_walk(h, len, &r);
        assert_true(e <= IPV6_EXT_FRAG_INCOMPLETE);
        assert_int_equal(e, r.reason);
        if (e == IPV6_EXT_OK) {
            assert_int_equal(r.action, IPV6_ACT_ACCEPT);
            assert_true(r.offset <= 40 + be16(p + 4));
            assert_true(r.n_hdrs <= IPV6_EXT_MAX_HDRS);
        } else {
            assert_int_not_equal(r.action, IPV6_ACT_ACCEPT);
        }
        free(h);
    }
}

static void test_reason_strings(void **state)
{
    (void)state;
    for (int e = IPV6_EXT_OK; e <= IPV6_EXT_FRAG_INCOMPLETE; e++)
        assert_string_not_equal(ipv6_ext_reason_str((enum ipv6_ext_reason)e),
                                "unknown extension header reason");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_extension_headers),
        cmocka_unit_test(test_captured_hop_by_hop),
        cmocka_unit_test(test_captured_fragments),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_hbh_not_first),
        cmocka_unit_test(test_hdr_ext_len_overrun),
        cmocka_unit_test(test_byte_limit),
        cmocka_unit_test(test_100_destination_options),
        cmocka_unit_test(test_option_lengths),
        cmocka_unit_test(test_unknown_option_actions),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_fragment_errors),
        cmocka_unit_test(test_atomic_fragment),
        cmocka_unit_test(test_first_fragment_chain),
        cmocka_unit_test(test_random_chains_terminate),
        cmocka_unit_test(test_reason_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
