/* SPDX-License-Identifier: MIT */
/* Neighbor Discovery messages (stack/nd.c): NS -> NA with exact bytes, the
 * validity checks of BAD-INPUT H.36-H.38 (each with its counter), DAD
 * interplay with addr6.c (RFC 4862 §5.4.3-5.4.4), RA processing (default
 * router, MTU, hop limit, timers, on-link prefix, SLAAC hand-off), RFC 6980
 * (fragmented ND), Router Solicitation at start (RFC 4861 §6.3.7). */
#include "nd_fixture.h"

static int setup_up(void **state)
{
    *state = fx_create(true, NULL);
    return 0;
}

static int setup_tentative(void **state)
{
    *state = fx_create(false, NULL);
    return 0;
}

static int addr_state_of(struct fx *f, const uint8_t a[16])
{
    uint8_t x[16], plen;
    enum addr6_state s;
    enum addr6_origin o;
    for (unsigned i = 0; addr6_get(f->st, i, x, &plen, &s, &o); i++)
        if (memcmp(x, a, 16) == 0)
            return (int)s;
    return -1;
}

/* ---- NS -> NA ------------------------------------------------------------------ */

static void ns_for_our_address_gets_exact_na(void **state)
{
    struct fx *f = *state;
    uint8_t m[64], sn[16];
    ipv6_solicited_node(OUR_GUA, sn);
    size_t n = ns_msg(m, OUR_GUA, PEER_MAC);
    inject_nd(f, PEER_MAC, PEER, sn, 255, m, n);

    /* RFC 4861 §7.2.4: unicast to the source, R=0 S=1 O=1, TLLA.  Bytes
     * written out by hand (checksum computed independently). */
    static const uint8_t want[] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xdd,           /* Ethernet */
        0x60, 0, 0, 0, 0x00, 0x20, 0x3a, 0xff,                                 /* IPv6 */
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
        0x88, 0x00, 0x8a, 0x73, 0x60, 0, 0, 0,                                 /* NA */
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x02, 0x01, 0x02, 0, 0, 0, 0, 0x01,                                    /* TLLA */
    };
    expect_tx(f, want, sizeof want);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6InNeighborSolicits"), 1);
    assert_int_equal(C(f, "Icmp6OutNeighborAdvertisements"), 1);
    assert_int_equal(C(f, "Icmp6InErrors"), 0);
    /* §7.2.3: the SLLA made a STALE entry; sending the NA to it moved it
     * to DELAY (Appendix C: STALE + packet sent). */
    uint8_t mac[6];
    bool router = true;
    assert_int_equal(nd_neigh_get(f->st, PEER, mac, &router), ND_NUD_DELAY);
    assert_memory_equal(mac, PEER_MAC, 6);
    assert_false(router);
}

static void ns_for_other_address_ignored(void **state)
{
    struct fx *f = *state;
    uint8_t m[64], sn[16];
    static const uint8_t other[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x09};
    ipv6_solicited_node(other, sn);
    size_t n = ns_msg(m, other, PEER_MAC);
    uint8_t b[200], ed[6];
    ipv6_mcast_mac(sn, ed);
    /* not our group at the link layer either: eth drops it */
    assert_int_equal(memdev_inject(f->dev, b, nd_frame(b, ed, PEER_MAC, PEER, sn, 255, m, n)), 0);
    stack_poll(f->st, f->now);
    expect_no_tx(f);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_NONE);
    /* sent to our unicast MAC and address: parsed, not ours, ignored (§7.2.3) */
    inject_nd(f, PEER_MAC, PEER, OUR_GUA, 255, m, n);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6InNeighborSolicits"), 1);
    assert_int_equal(C(f, "Icmp6InErrors"), 0);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_NONE);
}

/* ---- BAD-INPUT H.36-H.38: every invalid message is dropped and counted ------------------ */

enum bad_kind {
    BAD_NS_HOP, BAD_NS_CODE, BAD_NS_SHORT, BAD_NS_OPT_ZERO, BAD_NS_OPT_OVERRUN, BAD_NS_LLA_LEN,
    BAD_NS_TARGET_MCAST, BAD_NS_UNSPEC_UNICAST_DST, BAD_NS_UNSPEC_SLLA, BAD_NA_HOP,
    BAD_NA_S_MCAST, BAD_NA_TARGET_MCAST, BAD_NA_SHORT, BAD_RA_HOP, BAD_RA_SHORT, BAD_RA_OPT_ZERO,
    BAD_RS_HOP, BAD_RS_UNSPEC_SLLA, BAD__COUNT
};

static void invalid_nd_messages_counted(void **state)
{
    struct fx *f = *state;
    uint8_t sn[16];
    ipv6_solicited_node(OUR_GUA, sn);
    for (int k = 0; k < BAD__COUNT; k++) {
        uint8_t m[128];
        size_t n = 0;
        const uint8_t *src = PEER, *dst = sn, *esrc = PEER_MAC;
        uint8_t hop = 255;
        switch ((enum bad_kind)k) {
        case BAD_NS_HOP: /* §7.1.1 hop limit 255 (H.36) */
            n = ns_msg(m, OUR_GUA, PEER_MAC);
            hop = 254;
            break;
        case BAD_NS_CODE: /* §7.1.1 code 0 */
            n = ns_msg(m, OUR_GUA, PEER_MAC);
            m[1] = 1;
            break;
        case BAD_NS_SHORT: /* §7.1.1 length >= 24 */
            n = ns_msg(m, OUR_GUA, NULL) - 4;
            break;
        case BAD_NS_OPT_ZERO: /* §4.6 option length 0 */
            n = ns_msg(m, OUR_GUA, PEER_MAC);
            m[25] = 0;
            break;
        case BAD_NS_OPT_OVERRUN: /* §4.6 option beyond the message */
            n = ns_msg(m, OUR_GUA, PEER_MAC);
            m[25] = 2;
            break;
        case BAD_NS_LLA_LEN: /* RFC 2464 §6: SLLA is 8 bytes */
            n = ns_msg(m, OUR_GUA, NULL); /* then a 16-byte SLLA option */
            memset(m + n, 0, 16);
            m[n] = ND_OPT_SLLA;
            m[n + 1] = 2;
            n += 16;
            break;
        case BAD_NS_TARGET_MCAST: /* §7.1.1 target not multicast (H.37) */
            n = ns_msg(m, ALL_NODES, PEER_MAC);
            break;
        case BAD_NS_UNSPEC_UNICAST_DST: /* §7.1.1 from :: only to solicited-node */
            n = ns_msg(m, OUR_GUA, NULL);
            src = UNSPEC;
            dst = OUR_GUA;
            break;
        case BAD_NS_UNSPEC_SLLA: /* §7.1.1 from :: without SLLA */
            n = ns_msg(m, OUR_GUA, PEER_MAC);
            src = UNSPEC;
            break;
        case BAD_NA_HOP: /* §7.1.2 */
            n = na_msg(m, PEER, PEER_MAC, false, true, true);
            dst = OUR_GUA;
            hop = 64;
            break;
        case BAD_NA_S_MCAST: /* §7.1.2 S=1 to multicast */
            n = na_msg(m, PEER, PEER_MAC, false, true, true);
            dst = ALL_NODES;
            break;
        case BAD_NA_TARGET_MCAST: /* §7.1.2 */
            n = na_msg(m, ALL_NODES, PEER_MAC, false, false, true);
            dst = ALL_NODES;
            break;
        case BAD_NA_SHORT: /* §7.1.2 length >= 24 */
            n = na_msg(m, PEER, NULL, false, false, true) - 8;
            dst = ALL_NODES;
            break;
        case BAD_RA_HOP: { /* §6.1.2 */
            struct nd_ra_repr ra = {.router_lifetime = 1800};
            n = nd_ra_emit(&ra, m);
            src = RTR_LL;
            esrc = RTR_MAC;
            dst = ALL_NODES;
            hop = 1;
            break;
        }
        case BAD_RA_SHORT: /* §6.1.2 length >= 16 */
            memset(m, 0, 12);
            m[0] = ICMPV6_ND_RA;
            n = 12;
            src = RTR_LL;
            esrc = RTR_MAC;
            dst = ALL_NODES;
            break;
        case BAD_RA_OPT_ZERO: { /* §4.6 */
            struct nd_ra_repr ra = {.router_lifetime = 1800, .has_slla = true};
            memcpy(ra.slla, RTR_MAC, 6);
            n = nd_ra_emit(&ra, m);
            m[17] = 0;
            src = RTR_LL;
            esrc = RTR_MAC;
            dst = ALL_NODES;
            break;
        }
        case BAD_RS_HOP: { /* §6.1.1 */
            struct nd_rs_repr rs = {0};
            n = nd_rs_emit(&rs, m);
            dst = ALL_NODES;
            hop = 64;
            break;
        }
        case BAD_RS_UNSPEC_SLLA: { /* §6.1.1 */
            struct nd_rs_repr rs = {.has_slla = true};
            memcpy(rs.slla, PEER_MAC, 6);
            n = nd_rs_emit(&rs, m);
            src = UNSPEC;
            dst = ALL_NODES;
            break;
        }
        case BAD__COUNT:
            break;
        }
        int64_t before = C(f, "Icmp6InErrors");
        inject_nd(f, esrc, src, dst, hop, m, n);
        expect_no_tx(f);
        if (C(f, "Icmp6InErrors") != before + 1)
            fail_msg("invalid case %d: Icmp6InErrors %lld, want %lld", k,
                     (long long)C(f, "Icmp6InErrors"), (long long)before + 1);
    }
    assert_int_equal(C(f, "Icmp6InErrors"), BAD__COUNT);
    /* nothing was learned from any of them */
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_false(route6_router_get(f->st, 0, NULL, NULL));
}

static void bad_checksum_counted_by_icmpv6(void **state)
{
    struct fx *f = *state;
    uint8_t m[64], sn[16], b[200], ed[6];
    ipv6_solicited_node(OUR_GUA, sn);
    size_t n = ns_msg(m, OUR_GUA, PEER_MAC);
    ipv6_mcast_mac(sn, ed);
    size_t len = nd_frame(b, ed, PEER_MAC, PEER, sn, 255, m, n);
    b[54 + 2] ^= 0x01;
    inject(f, b, len);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6InCsumErrors"), 1);
    assert_int_equal(C(f, "Icmp6InErrors"), 1);
    assert_int_equal(C(f, "Icmp6InNeighborSolicits"), 0);
}

/* RFC 6980 §5: an NS carried in a (here atomic) fragment is ignored. */
static void fragmented_ns_ignored(void **state)
{
    struct fx *f = *state;
    uint8_t m[64], sn[16], b[256], ed[6];
    ipv6_solicited_node(OUR_GUA, sn);
    size_t n = ns_msg(m, OUR_GUA, PEER_MAC);
    ipv6_mcast_mac(sn, ed);
    memcpy(b, ed, 6);
    memcpy(b + 6, PEER_MAC, 6);
    put_be16(b + 12, ETHERTYPE_IPV6);
    struct ipv6_repr ip = {.next_header = IP_PROTO_FRAGMENT, .hop_limit = 255,
                           .payload_len = (uint16_t)(8 + n)};
    memcpy(ip.src, PEER, 16);
    memcpy(ip.dst, sn, 16);
    ipv6_emit(&ip, b + 14);
    struct frag_repr fr = {.next_header = IP_PROTO_ICMPV6, .offset = 0, .more = false,
                           .ident = 7};
    ipv6_frag_emit(&fr, b + 54);
    memcpy(b + 62, m, n);
    icmpv6_csum_fill(b + 62, n, PEER, sn);
    inject(f, b, 62 + n);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6InErrors"), 1);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_NONE);
}

/* ---- DAD (RFC 4862 §5.4.3, §5.4.4) ----------------------------------------------------- */

static void dad_ns_for_our_tentative_is_conflict(void **state)
{
    struct fx *f = *state;
    assert_int_equal(addr_state_of(f, OUR_GUA), ADDR6_TENTATIVE);
    uint8_t m[64], sn[16];
    ipv6_solicited_node(OUR_GUA, sn);
    size_t n = ns_msg(m, OUR_GUA, NULL);
    inject_nd(f, PEER_MAC, UNSPEC, sn, 255, m, n);
    expect_no_tx(f); /* never answered */
    assert_int_equal(addr_state_of(f, OUR_GUA), ADDR6_DUPLICATE);
    assert_int_equal(C(f, "Icmp6InErrors"), 0);
}

static void na_for_our_tentative_is_conflict(void **state)
{
    struct fx *f = *state;
    uint8_t m[64];
    size_t n = na_msg(m, OUR_GUA, PEER_MAC, false, false, true);
    inject_nd(f, PEER_MAC, PEER, ALL_NODES, 255, m, n);
    expect_no_tx(f);
    assert_int_equal(addr_state_of(f, OUR_GUA), ADDR6_DUPLICATE);
}

static void dad_ns_for_our_preferred_gets_na_to_all_nodes(void **state)
{
    struct fx *f = *state;
    uint8_t m[64], sn[16];
    ipv6_solicited_node(OUR_GUA, sn);
    size_t n = ns_msg(m, OUR_GUA, NULL);
    inject_nd(f, PEER_MAC, UNSPEC, sn, 255, m, n);
    /* §7.2.4: S=0, O=1, to ff02::1 */
    expect_na(f, OUR_GUA, ALL_NODES, NULL, false);
    expect_no_tx(f);
    assert_int_equal(addr_state_of(f, OUR_GUA), ADDR6_PREFERRED);
    assert_int_equal(stack_neigh_count(f->st), 0); /* :: teaches nothing */
}

static void na_for_our_preferred_logged_only(void **state)
{
    struct fx *f = *state;
    uint8_t m[64];
    size_t n = na_msg(m, OUR_GUA, PEER_MAC, false, false, true);
    inject_nd(f, PEER_MAC, PEER, ALL_NODES, 255, m, n);
    expect_no_tx(f);
    assert_int_equal(addr_state_of(f, OUR_GUA), ADDR6_PREFERRED);
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(C(f, "Icmp6InNeighborAdvertisements"), 1);
}

static void dad_probe_bytes(void **state)
{
    struct fx *f = *state;
    /* RFC 4862 §5.4.2: NS from ::, to the solicited-node group, no SLLA */
    addr6_start(f->st, f->now);
    uint8_t sn[16];
    ipv6_solicited_node(OUR_LL, sn);
    expect_ns(f, UNSPEC, OUR_LL, sn, NULL);
    ipv6_solicited_node(OUR_GUA, sn);
    expect_ns(f, UNSPEC, OUR_GUA, sn, NULL);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6OutNeighborSolicits"), 2);
}

/* ---- Router Solicitation (§6.3.7) ----------------------------------------------------- */

static void expect_rs(struct fx *f)
{
    struct nd_rs_repr rs = {.has_slla = true};
    memcpy(rs.slla, OUR_MAC, 6);
    uint8_t m[32];
    size_t n = nd_rs_emit(&rs, m);
    expect_nd(f, NULL, OUR_LL, ALL_ROUTERS, m, n);
}

static size_t ra_msg(uint8_t *m, uint16_t lifetime, uint32_t reach, uint32_t retrans,
                     uint8_t hop, bool slla, uint32_t mtu)
{
    struct nd_ra_repr ra = {.cur_hop_limit = hop, .router_lifetime = lifetime,
                            .reachable_time = reach, .retrans_timer = retrans,
                            .has_slla = slla, .has_mtu = mtu != 0, .mtu = mtu};
    memcpy(ra.slla, RTR_MAC, 6);
    return nd_ra_emit(&ra, m);
}

static void rs_three_times_then_stop(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now);
    drain_tx(f); /* the DAD probes */
    poll_at(f, T0 + 1 * NS);
    expect_rs(f); /* link-local usable: RS from it, with SLLA */
    expect_no_tx(f);
    poll_at(f, T0 + 5 * NS - 1);
    expect_no_tx(f);
    poll_at(f, T0 + 5 * NS);
    expect_rs(f);
    poll_at(f, T0 + 9 * NS);
    expect_rs(f);
    poll_at(f, T0 + 13 * NS);
    poll_at(f, T0 + 60 * NS);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6OutRouterSolicits"), 3);
}

static void rs_stopped_by_ra(void **state)
{
    struct fx *f = *state;
    addr6_start(f->st, f->now);
    drain_tx(f);
    poll_at(f, T0 + 1 * NS);
    expect_rs(f);
    uint8_t m[64];
    /* lifetime 0 does not stop solicitation (§6.3.7: non-zero lifetime) */
    size_t n = ra_msg(m, 0, 0, 0, 0, false, 0);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    poll_at(f, T0 + 5 * NS);
    expect_rs(f);
    n = ra_msg(m, 1800, 0, 0, 0, false, 0);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    poll_at(f, T0 + 9 * NS);
    poll_at(f, T0 + 13 * NS);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6OutRouterSolicits"), 2);
}

static void rs_from_others_ignored(void **state)
{
    struct fx *f = *state;
    struct nd_rs_repr rs = {.has_slla = true};
    memcpy(rs.slla, PEER_MAC, 6);
    uint8_t m[32];
    size_t n = nd_rs_emit(&rs, m);
    inject_nd(f, PEER_MAC, PEER_LL, ALL_NODES, 255, m, n);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6InRouterSolicits"), 1);
    assert_int_equal(C(f, "Icmp6InErrors"), 0);
    assert_int_equal(stack_neigh_count(f->st), 0); /* §6.2.6: hosts discard */
}

static void redirect_counted_and_ignored(void **state)
{
    struct fx *f = *state;
    uint8_t m[40] = {ICMPV6_ND_REDIRECT};
    memcpy(m + 8, PEER, 16);
    memcpy(m + 24, PEER, 16);
    inject_nd(f, RTR_MAC, RTR_LL, OUR_GUA, 255, m, sizeof m);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6InRedirects"), 1);
    assert_int_equal(stack_neigh_count(f->st), 0);
}

/* ---- RA processing (§6.3.4) ----------------------------------------------------------- */

static size_t add_prefix(uint8_t *m, size_t n, const uint8_t prefix[16], uint8_t plen, bool l,
                         bool a, uint32_t valid, uint32_t pref)
{
    struct nd_prefix_info pi = {.prefix_len = plen, .on_link = l, .autonomous = a,
                                .valid_lifetime = valid, .preferred_lifetime = pref};
    memcpy(pi.prefix, prefix, 16);
    return n + nd_opt_prefix_emit(m + n, &pi);
}

static int lookup(struct fx *f, const uint8_t dst[16], uint8_t nh[16])
{
    pthread_mutex_lock(&f->st->lock);
    int rc = route6_lookup(f->st, dst, nh);
    pthread_mutex_unlock(&f->st->lock);
    return rc;
}

static void ra_full_processing(void **state)
{
    struct fx *f = *state;
    static const uint8_t p1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x01};
    static const uint8_t in_p1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x01, [15] = 5};
    static const uint8_t off_link[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x02, [15] = 5};
    static const uint8_t slaac[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0xff,
                                      0xfe, 0, 0, 0x01};
    uint8_t m[128], nh[16];
    assert_int_equal(lookup(f, off_link, nh), -ENETUNREACH);

    size_t n = ra_msg(m, 1800, 20000, 2000, 32, true, 1400);
    n = add_prefix(m, n, p1, 64, true, true, 3600, 1800);
    uint64_t t_ra = f->now;
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    /* the only frame: addr6's DAD probe for the new SLAAC address */
    uint8_t sn[16];
    ipv6_solicited_node(slaac, sn);
    expect_ns(f, UNSPEC, slaac, sn, NULL);
    expect_no_tx(f);
    assert_int_equal(C(f, "Icmp6InRouterAdvertisements"), 1);
    assert_int_equal(C(f, "Icmp6InErrors"), 0);

    /* default router with its lifetime */
    uint8_t r[16];
    uint64_t exp;
    pthread_mutex_lock(&f->st->lock);
    assert_true(route6_router_get(f->st, 0, r, &exp));
    assert_false(route6_router_get(f->st, 1, NULL, NULL));
    pthread_mutex_unlock(&f->st->lock);
    assert_memory_equal(r, RTR_LL, 16);
    assert_int_equal(exp, t_ra + 1800 * NS);
    /* the router's cache entry: STALE, IsRouter (§6.3.4) */
    uint8_t mac[6];
    bool isr = false;
    assert_int_equal(nd_neigh_get(f->st, RTR_LL, mac, &isr), ND_NUD_STALE);
    assert_memory_equal(mac, RTR_MAC, 6);
    assert_true(isr);
    /* host variables */
    struct nd_params prm;
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.base_reachable_ms, 20000);
    assert_true(prm.reachable_ms >= 10000 && prm.reachable_ms <= 30000);
    assert_int_equal(prm.retrans_ms, 2000);
    assert_int_equal(prm.link_mtu, 1400);
    assert_int_equal(prm.cur_hop_limit, 32);
    /* on-link prefix and default route */
    assert_int_equal(lookup(f, in_p1, nh), 0);
    assert_memory_equal(nh, in_p1, 16);
    assert_int_equal(lookup(f, off_link, nh), 0);
    assert_memory_equal(nh, RTR_LL, 16);
    /* A=1: addr6 formed an SLAAC address (tentative) */
    assert_int_equal(addr_state_of(f, slaac), ADDR6_TENTATIVE);

    /* the router expires at 1800 s, the prefix at 3600 s (§6.3.5) */
    poll_at(f, t_ra + 1800 * NS - 1);
    assert_int_equal(lookup(f, off_link, nh), 0);
    poll_at(f, t_ra + 1800 * NS);
    drain_tx(f); /* DAD of the SLAAC address and NUD traffic, not checked here */
    assert_int_equal(lookup(f, off_link, nh), -ENETUNREACH);
    assert_int_equal(lookup(f, in_p1, nh), 0);
    poll_at(f, t_ra + 3600 * NS);
    drain_tx(f);
    assert_int_equal(lookup(f, in_p1, nh), -ENETUNREACH);
}

static void ra_lifetime_zero_removes_router_and_prefix(void **state)
{
    struct fx *f = *state;
    static const uint8_t p1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x01};
    static const uint8_t off_link[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x02, [15] = 5};
    uint8_t m[128], nh[16];
    size_t n = ra_msg(m, 600, 0, 0, 0, false, 0);
    n = add_prefix(m, n, p1, 64, true, false, 0xffffffffu, 0xffffffffu);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    assert_int_equal(lookup(f, p1, nh), 0);
    assert_memory_equal(nh, p1, 16);
    assert_int_equal(lookup(f, off_link, nh), 0);
    /* infinite prefix survives any time */
    poll_at(f, f->now + 500 * NS);
    assert_int_equal(lookup(f, p1, nh), 0);
    assert_memory_equal(nh, p1, 16);
    n = ra_msg(m, 0, 0, 0, 0, false, 0);
    n = add_prefix(m, n, p1, 64, true, false, 0, 0);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    assert_int_equal(lookup(f, off_link, nh), -ENETUNREACH);
    assert_int_equal(lookup(f, p1, nh), -ENETUNREACH);
    expect_no_tx(f);
    /* A=0: addr6 was not asked for an address */
    uint8_t x[16], plen;
    enum addr6_state s;
    enum addr6_origin o;
    for (unsigned i = 0; addr6_get(f->st, i, x, &plen, &s, &o); i++)
        assert_int_not_equal(o, ADDR6_SLAAC);
}

static void ra_bad_mtu_ignored(void **state)
{
    struct fx *f = *state;
    uint8_t m[64];
    struct nd_params prm;
    size_t n = ra_msg(m, 0, 0, 0, 0, false, 1279); /* below RFC 8200 §5 */
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.link_mtu, 1500);
    n = ra_msg(m, 0, 0, 0, 0, false, 9000); /* above the link MTU */
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.link_mtu, 1500);
    n = ra_msg(m, 0, 0, 0, 0, false, 1280);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.link_mtu, 1280);
    assert_int_equal(prm.base_reachable_ms, 30000); /* 0 = unspecified */
    assert_int_equal(prm.retrans_ms, 1000);
    assert_int_equal(prm.cur_hop_limit, 64);
}

static void ra_from_global_source_ignored(void **state)
{
    struct fx *f = *state;
    static const uint8_t p1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x01};
    static const uint8_t rtr_global[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0xfe};
    uint8_t m[128], nh[16];
    size_t n = ra_msg(m, 1800, 0, 0, 0, true, 1400);
    n = add_prefix(m, n, p1, 64, true, true, 3600, 1800);
    inject_nd(f, RTR_MAC, rtr_global, ALL_NODES, 255, m, n);
    /* §6.1.2, H.38: dropped, counted, nothing changed */
    assert_int_equal(C(f, "Icmp6InErrors"), 1);
    assert_false(route6_router_get(f->st, 0, NULL, NULL));
    assert_int_equal(lookup(f, p1, nh), -ENETUNREACH);
    assert_int_equal(stack_neigh_count(f->st), 0);
    struct nd_params prm;
    nd_get_params(f->st, &prm);
    assert_int_equal(prm.link_mtu, 1500);
}

static void ra_link_local_prefix_ignored(void **state)
{
    struct fx *f = *state;
    static const uint8_t ll[16] = {0xfe, 0x80};
    static const uint8_t some[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x09, [15] = 1};
    uint8_t m[128], nh[16];
    size_t n = ra_msg(m, 0, 0, 0, 0, false, 0);
    n = add_prefix(m, n, ll, 64, true, true, 3600, 1800);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    uint8_t x[16], plen;
    enum addr6_state s;
    enum addr6_origin o;
    for (unsigned i = 0; addr6_get(f->st, i, x, &plen, &s, &o); i++)
        assert_int_not_equal(o, ADDR6_SLAAC);
    assert_int_equal(lookup(f, some, nh), -ENETUNREACH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ns_for_our_address_gets_exact_na, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(ns_for_other_address_ignored, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(invalid_nd_messages_counted, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(bad_checksum_counted_by_icmpv6, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(fragmented_ns_ignored, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(dad_ns_for_our_tentative_is_conflict, setup_tentative, fx_teardown),
        cmocka_unit_test_setup_teardown(na_for_our_tentative_is_conflict, setup_tentative, fx_teardown),
        cmocka_unit_test_setup_teardown(dad_ns_for_our_preferred_gets_na_to_all_nodes, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(na_for_our_preferred_logged_only, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(dad_probe_bytes, setup_tentative, fx_teardown),
        cmocka_unit_test_setup_teardown(rs_three_times_then_stop, setup_tentative, fx_teardown),
        cmocka_unit_test_setup_teardown(rs_stopped_by_ra, setup_tentative, fx_teardown),
        cmocka_unit_test_setup_teardown(rs_from_others_ignored, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(redirect_counted_and_ignored, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(ra_full_processing, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(ra_lifetime_zero_removes_router_and_prefix, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(ra_bad_mtu_ignored, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(ra_from_global_source_ignored, setup_up, fx_teardown),
        cmocka_unit_test_setup_teardown(ra_link_local_prefix_ignored, setup_up, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
