/* SPDX-License-Identifier: MIT */
/* Neighbour Unreachability Detection (stack/nd.c, RFC 4861 §7.2-7.3), every
 * transition driven by the manual clock: INCOMPLETE (3 NS 1 s apart, then
 * failure with done(-EHOSTUNREACH)), REACHABLE -> STALE after ReachableTime,
 * STALE + send -> DELAY -> PROBE (3 unicast NS) -> removal, the NA rules of
 * §7.2.5, the queue bound, the cache bound under a flood (J.43),
 * cancellation and device loss. */
#include "nd_fixture.h"

static int setup_up(void **state)
{
    *state = fx_create(true, NULL);
    return 0;
}

static int teardown_nd(void **state)
{
    struct fx *f = *state;
    drain_tx(f);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    return fx_teardown(state);
}

static void inject_na(struct fx *f, const uint8_t target[16], const uint8_t *tlla,
                      const uint8_t esrc[6], bool s, bool o)
{
    uint8_t m[64];
    size_t n = na_msg(m, target, tlla, false, s, o);
    inject_nd(f, esrc, target, s ? OUR_GUA : ALL_NODES, 255, m, n);
}

static uint64_t reachable_ns(struct fx *f)
{
    struct nd_params prm;
    nd_get_params(f->st, &prm);
    return (uint64_t)prm.reachable_ms * 1000000ull;
}

/* Resolve PEER: queue one packet, answer the NS with a solicited NA.
 * Leaves PEER REACHABLE (since f->now) and the tx queue empty. */
static void resolve_peer(struct fx *f)
{
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t, 0xaa), PEER, f->now), UDP_SEND_QUEUED);
    expect_resolution_ns(f, PEER);
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, true);
    expect_pkt(f, PEER, PEER_MAC, 0xaa);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.err, 0);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_REACHABLE);
}

/* ---- INCOMPLETE -------------------------------------------------------------------- */

static void incomplete_three_ns_then_failure(void **state)
{
    struct fx *f = *state;
    uint64_t t0 = f->now;
    int64_t ns0 = C(f, "Icmp6OutNeighborSolicits"); /* the bring-up's DAD probes */
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t, 1), PEER, t0), UDP_SEND_QUEUED);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_INCOMPLETE);
    /* §7.2.2: multicast NS to ff02::1:ff00:2 from the packet's source, SLLA */
    expect_resolution_ns(f, PEER);
    expect_no_tx(f);
    poll_at(f, t0 + NS - 1);
    expect_no_tx(f);
    poll_at(f, t0 + NS);
    expect_resolution_ns(f, PEER);
    poll_at(f, t0 + 2 * NS);
    expect_resolution_ns(f, PEER);
    expect_no_tx(f);
    poll_at(f, t0 + 3 * NS - 1);
    assert_int_equal(t.calls, 0);
    poll_at(f, t0 + 3 * NS);
    expect_no_tx(f); /* MAX_MULTICAST_SOLICIT = 3: no fourth */
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.err, -EHOSTUNREACH);
    assert_int_equal(C(f, "NdResolveFailed"), 1);
    assert_int_equal(C(f, "NdQueueDrops"), 1);
    assert_int_equal(C(f, "Icmp6OutNeighborSolicits") - ns0, 3);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_NONE);
    assert_int_equal(stack_neigh_count(f->st), 0);
}

static void incomplete_solicited_na_sends_queue_in_order(void **state)
{
    struct fx *f = *state;
    struct txr t1, t2;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t1, 1), PEER, f->now), UDP_SEND_QUEUED);
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t2, 2), PEER, f->now), UDP_SEND_QUEUED);
    expect_resolution_ns(f, PEER); /* one NS for both */
    expect_no_tx(f);
    /* §7.2.5: no TLLA for an INCOMPLETE entry -> ignored */
    inject_na(f, PEER, NULL, PEER_MAC, true, true);
    expect_no_tx(f);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_INCOMPLETE);
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, false);
    expect_pkt(f, PEER, PEER_MAC, 1);
    expect_pkt(f, PEER, PEER_MAC, 2);
    expect_no_tx(f);
    assert_int_equal(t1.calls, 1);
    assert_int_equal(t1.err, 0);
    assert_int_equal(t2.calls, 1);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_REACHABLE);
    /* later sends go straight out */
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, NULL, 3), PEER, f->now), UDP_SEND_DONE);
    expect_pkt(f, PEER, PEER_MAC, 3);
}

static void incomplete_unsolicited_na_is_stale(void **state)
{
    struct fx *f = *state;
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t, 1), PEER, f->now), UDP_SEND_QUEUED);
    expect_resolution_ns(f, PEER);
    inject_na(f, PEER, PEER_MAC, PEER_MAC, false, true);
    expect_pkt(f, PEER, PEER_MAC, 1);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_STALE);
}

static void incomplete_ns_with_slla_resolves(void **state)
{
    struct fx *f = *state;
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t, 1), PEER, f->now), UDP_SEND_QUEUED);
    expect_resolution_ns(f, PEER);
    /* Appendix C: INCOMPLETE + NS with SLLA -> STALE, queued packets sent */
    uint8_t m[64], sn[16];
    ipv6_solicited_node(OUR_GUA, sn);
    size_t n = ns_msg(m, OUR_GUA, PEER_MAC);
    inject_nd(f, PEER_MAC, PEER, sn, 255, m, n);
    expect_pkt(f, PEER, PEER_MAC, 1);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.err, 0);
    /* then the NA to it: STALE + send -> DELAY */
    expect_na(f, OUR_GUA, PEER, PEER_MAC, true);
    expect_no_tx(f);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_DELAY);
}

/* ---- REACHABLE, STALE, DELAY, PROBE ------------------------------------------------------ */

static void reachable_becomes_stale_after_reachable_time(void **state)
{
    struct fx *f = *state;
    uint64_t rt = reachable_ns(f);
    /* §6.3.2: 0.5..1.5 x 30 s, and the same value for the same seed */
    assert_true(rt >= 15 * NS && rt <= 45 * NS);
    nd_set_seed(f->st, 42);
    assert_int_equal(reachable_ns(f), rt);
    nd_set_seed(f->st, 43);
    assert_int_not_equal(reachable_ns(f), rt);
    nd_set_seed(f->st, 42);

    uint64_t t0 = f->now;
    resolve_peer(f);
    poll_at(f, t0 + rt - 1);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_REACHABLE);
    poll_at(f, t0 + rt);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_STALE);
    expect_no_tx(f); /* STALE sends nothing by itself */
    poll_at(f, t0 + rt + 60 * NS);
    expect_no_tx(f);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_STALE);
    /* garbage collection: STALE and unused for 10 min -> deleted */
    poll_at(f, t0 + 600 * NS - 1);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_STALE);
    poll_at(f, t0 + 600 * NS);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_NONE);
}

static void stale_send_delay_probe_then_removal(void **state)
{
    struct fx *f = *state;
    int64_t ns0 = C(f, "Icmp6OutNeighborSolicits");
    resolve_peer(f);
    uint64_t ts = f->now + reachable_ns(f);
    poll_at(f, ts);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_STALE);
    /* §7.3.3: a send uses the cached MAC and starts DELAY */
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, NULL, 7), PEER, ts), UDP_SEND_DONE);
    expect_pkt(f, PEER, PEER_MAC, 7);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_DELAY);
    poll_at(f, ts + 5 * NS - 1);
    expect_no_tx(f);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_DELAY);
    /* DELAY_FIRST_PROBE_TIME: PROBE with a unicast NS to the cached MAC */
    poll_at(f, ts + 5 * NS);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_PROBE);
    expect_ns(f, OUR_GUA, PEER, PEER, PEER_MAC);
    expect_no_tx(f);
    /* sends in PROBE go out at once, state unchanged */
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, NULL, 8), PEER, f->now), UDP_SEND_DONE);
    expect_pkt(f, PEER, PEER_MAC, 8);
    poll_at(f, ts + 6 * NS);
    expect_ns(f, OUR_GUA, PEER, PEER, PEER_MAC);
    poll_at(f, ts + 7 * NS);
    expect_ns(f, OUR_GUA, PEER, PEER, PEER_MAC);
    expect_no_tx(f);
    poll_at(f, ts + 8 * NS - 1);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_PROBE);
    /* MAX_UNICAST_SOLICIT = 3 unanswered: the entry is deleted */
    poll_at(f, ts + 8 * NS);
    expect_no_tx(f);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_NONE);
    assert_int_equal(C(f, "Icmp6OutNeighborSolicits") - ns0, 4); /* 1 resolution + 3 probes */
    /* the next send resolves from scratch */
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t, 9), PEER, f->now), UDP_SEND_QUEUED);
    expect_resolution_ns(f, PEER);
    assert_int_equal(tx_req_cancel(f->st, &t.r), true);
}

static void delay_confirmed_by_solicited_na(void **state)
{
    struct fx *f = *state;
    resolve_peer(f);
    uint64_t ts = f->now + reachable_ns(f);
    poll_at(f, ts);
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, NULL, 7), PEER, ts), UDP_SEND_DONE);
    expect_pkt(f, PEER, PEER_MAC, 7);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_DELAY);
    poll_at(f, ts + 2 * NS);
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, false);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_REACHABLE);
    poll_at(f, ts + 5 * NS);
    expect_no_tx(f); /* no probe */
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_REACHABLE);
}

static void probe_confirmed_by_solicited_na(void **state)
{
    struct fx *f = *state;
    resolve_peer(f);
    uint64_t ts = f->now + reachable_ns(f);
    poll_at(f, ts);
    nd6_output(f->st, mk_pkt(f, PEER, NULL, 7), PEER, ts);
    expect_pkt(f, PEER, PEER_MAC, 7);
    poll_at(f, ts + 5 * NS);
    expect_ns(f, OUR_GUA, PEER, PEER, PEER_MAC);
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, false);
    assert_int_equal(nd_neigh_get(f->st, PEER, NULL, NULL), ND_NUD_REACHABLE);
    poll_at(f, ts + 10 * NS);
    expect_no_tx(f);
}

/* ---- §7.2.5 override rules ----------------------------------------------------------- */

static void unsolicited_override_na_new_mac_is_stale(void **state)
{
    struct fx *f = *state;
    resolve_peer(f);
    uint8_t mac[6];
    inject_na(f, PEER, PEER_MAC2, PEER_MAC2, false, true);
    assert_int_equal(nd_neigh_get(f->st, PEER, mac, NULL), ND_NUD_STALE);
    assert_memory_equal(mac, PEER_MAC2, 6);
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, NULL, 4), PEER, f->now), UDP_SEND_DONE);
    expect_pkt(f, PEER, PEER_MAC2, 4);
}

static void no_override_different_mac(void **state)
{
    struct fx *f = *state;
    resolve_peer(f);
    uint8_t mac[6];
    /* REACHABLE: -> STALE, the address is NOT updated */
    inject_na(f, PEER, PEER_MAC2, PEER_MAC2, true, false);
    assert_int_equal(nd_neigh_get(f->st, PEER, mac, NULL), ND_NUD_STALE);
    assert_memory_equal(mac, PEER_MAC, 6);
    /* other states: ignored entirely */
    inject_na(f, PEER, PEER_MAC2, PEER_MAC2, true, false);
    assert_int_equal(nd_neigh_get(f->st, PEER, mac, NULL), ND_NUD_STALE);
    assert_memory_equal(mac, PEER_MAC, 6);
    /* same address, O=0, S=1: REACHABLE again */
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, false);
    assert_int_equal(nd_neigh_get(f->st, PEER, mac, NULL), ND_NUD_REACHABLE);
    /* an NA for an unknown target creates nothing */
    inject_na(f, PEER_LL, PEER_MAC, PEER_MAC, false, true);
    assert_int_equal(nd_neigh_get(f->st, PEER_LL, NULL, NULL), ND_NUD_NONE);
    expect_no_tx(f);
}

static void na_router_flag_cleared_removes_default_router(void **state)
{
    struct fx *f = *state;
    uint8_t m[64];
    struct nd_ra_repr ra = {.router_lifetime = 1800, .has_slla = true};
    memcpy(ra.slla, RTR_MAC, 6);
    size_t n = nd_ra_emit(&ra, m);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    pthread_mutex_lock(&f->st->lock);
    assert_true(route6_router_get(f->st, 0, NULL, NULL));
    pthread_mutex_unlock(&f->st->lock);
    /* §7.2.5: IsRouter TRUE -> FALSE removes it from the Default Router List */
    n = na_msg(m, RTR_LL, RTR_MAC, false, false, true);
    inject_nd(f, RTR_MAC, RTR_LL, ALL_NODES, 255, m, n);
    bool isr = true;
    assert_int_equal(nd_neigh_get(f->st, RTR_LL, NULL, &isr), ND_NUD_STALE);
    assert_false(isr);
    pthread_mutex_lock(&f->st->lock);
    assert_false(route6_router_get(f->st, 0, NULL, NULL));
    pthread_mutex_unlock(&f->st->lock);
}

/* ---- bounds ---------------------------------------------------------------------------- */

static void queue_bound(void **state)
{
    struct fx *f = *state;
    static struct txr t[65];
    for (int i = 0; i < 64; i++)
        assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t[i], (uint8_t)i), PEER, f->now),
                         UDP_SEND_QUEUED);
    /* §7.2.2 bounded queue: the 65th is refused, the queued ones kept */
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t[64], 64), PEER, f->now), -ENOBUFS);
    assert_int_equal(t[64].calls, 0);
    assert_int_equal(C(f, "NdQueueDrops"), 1);
    expect_resolution_ns(f, PEER);
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, true);
    for (int i = 0; i < 64; i++) {
        expect_pkt(f, PEER, PEER_MAC, (uint8_t)i);
        assert_int_equal(t[i].calls, 1);
        assert_int_equal(t[i].err, 0);
    }
    expect_no_tx(f);
}

static void fragment_chain_queued_as_one(void **state)
{
    struct fx *f = *state;
    struct txr t;
    struct pkt *a = mk_pkt(f, PEER, &t, 1), *b = mk_pkt(f, PEER, NULL, 2), *c = mk_pkt(f, PEER, NULL, 3);
    b->req = c->req = &t.r;
    a->next = b;
    b->next = c;
    assert_int_equal(nd6_output(f->st, a, PEER, f->now), UDP_SEND_QUEUED);
    assert_int_equal(atomic_load(&t.r.frames), 3);
    expect_resolution_ns(f, PEER);
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, true);
    expect_pkt(f, PEER, PEER_MAC, 1);
    expect_pkt(f, PEER, PEER_MAC, 2);
    expect_pkt(f, PEER, PEER_MAC, 3);
    assert_int_equal(t.calls, 1); /* once, for the whole datagram */
    assert_int_equal(t.err, 0);
}

static void ns_flood_cache_bounded_lru(void **state)
{
    struct fx *f = *state;
    uint8_t m[64], sn[16];
    ipv6_solicited_node(OUR_GUA, sn);
    size_t n = ns_msg(m, OUR_GUA, PEER_MAC);
    /* J.43: NS with SLLA from 1000 spoofed link-local sources */
    for (unsigned i = 0; i < 1000; i++) {
        uint8_t src[16] = {0xfe, 0x80, [13] = 0x01, [14] = (uint8_t)(i >> 8), [15] = (uint8_t)i};
        inject_nd(f, PEER_MAC, src, sn, 255, m, n);
        drain_tx(f); /* our NA to each */
        f->now += 1000;
    }
    assert_int_equal(stack_neigh_count(f->st), 256);
    assert_int_equal(C(f, "NdCacheEvictions"), 1000 - 256);
    /* LRU: the newest 256 survive, the oldest are gone */
    uint8_t first[16] = {0xfe, 0x80, [13] = 0x01, [14] = 0, [15] = 0};
    uint8_t last[16] = {0xfe, 0x80, [13] = 0x01, [14] = 999 >> 8, [15] = 999 & 0xff};
    uint8_t oldest_kept[16] = {0xfe, 0x80, [13] = 0x01, [14] = 744 >> 8, [15] = 744 & 0xff};
    uint8_t newest_gone[16] = {0xfe, 0x80, [13] = 0x01, [14] = 743 >> 8, [15] = 743 & 0xff};
    assert_int_equal(nd_neigh_get(f->st, first, NULL, NULL), ND_NUD_NONE);
    assert_int_equal(nd_neigh_get(f->st, newest_gone, NULL, NULL), ND_NUD_NONE);
    assert_int_not_equal(nd_neigh_get(f->st, oldest_kept, NULL, NULL), ND_NUD_NONE);
    assert_int_not_equal(nd_neigh_get(f->st, last, NULL, NULL), ND_NUD_NONE);
    /* our NAs put them in DELAY: unconfirmed, they are probed and
     * deleted 5 + 3 s later - the cache returns to empty */
    uint64_t t1 = f->now;
    for (unsigned s = 1; s <= 10; s++) {
        poll_at(f, t1 + s * NS);
        drain_tx(f);
    }
    assert_int_equal(stack_neigh_count(f->st), 0);
}

static void send_flood_bounded_and_recovers(void **state)
{
    struct fx *f = *state;
    static struct txr t[300];
    uint64_t t0 = f->now;
    unsigned queued = 0, refused = 0;
    for (unsigned i = 0; i < 300; i++) {
        uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [13] = 0x01, [14] = (uint8_t)(i >> 8),
                           [15] = (uint8_t)i};
        int rc = nd6_output(f->st, mk_pkt(f, dst, &t[i], 0), dst, t0);
        if (rc == UDP_SEND_QUEUED)
            queued++;
        else if (rc == -ENOBUFS)
            refused++;
    }
    /* every entry holds a packet: none can be evicted, new ones refused */
    assert_int_equal(queued, 256);
    assert_int_equal(refused, 44);
    assert_int_equal(stack_neigh_count(f->st), 256);
    assert_int_equal(C(f, "NdQueueDrops"), 44);
    drain_tx(f);
    for (unsigned s = 1; s <= 3; s++) {
        poll_at(f, t0 + s * NS);
        drain_tx(f);
    }
    for (unsigned i = 0; i < 256; i++) {
        assert_int_equal(t[i].calls, 1);
        assert_int_equal(t[i].err, -EHOSTUNREACH);
    }
    assert_int_equal(C(f, "NdResolveFailed"), 256);
    assert_int_equal(C(f, "NdQueueDrops"), 44 + 256);
    assert_int_equal(stack_neigh_count(f->st), 0);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
}

/* ---- cancellation, device loss, static entries ------------------------------------------- */

static void cancel_queued_send(void **state)
{
    struct fx *f = *state;
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t, 1), PEER, f->now), UDP_SEND_QUEUED);
    expect_resolution_ns(f, PEER);
    assert_true(tx_req_cancel(f->st, &t.r));
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.err, -ECANCELED);
    assert_false(tx_req_cancel(f->st, &t.r));
    inject_na(f, PEER, PEER_MAC, PEER_MAC, true, true);
    expect_no_tx(f);
    assert_int_equal(t.calls, 1);
}

static void device_gone_fails_queued(void **state)
{
    struct fx *f = *state;
    struct txr t;
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, &t, 1), PEER, f->now), UDP_SEND_QUEUED);
    drain_tx(f);
    memdev_set_gone(f->dev);
    stack_poll(f->st, f->now);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.err, -ENODEV);
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, NULL, 2), PEER, f->now), -ENODEV);
}

static void static_entry_never_changes(void **state)
{
    struct fx *f = *state;
    struct ip_addr a = {.af = IPA_V6};
    memcpy(a.v6, PEER, 16);
    assert_int_equal(stack_neigh_add_static(f->st, &a, PEER_MAC), 0);
    static const uint8_t mcast_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    assert_int_equal(stack_neigh_add_static(f->st, &a, mcast_mac), -EINVAL);
    inject_na(f, PEER, PEER_MAC2, PEER_MAC2, false, true);
    uint8_t mac[6];
    assert_int_equal(nd_neigh_get(f->st, PEER, mac, NULL), ND_NUD_REACHABLE);
    assert_memory_equal(mac, PEER_MAC, 6);
    poll_at(f, f->now + 3600 * NS);
    assert_int_equal(nd6_output(f->st, mk_pkt(f, PEER, NULL, 5), PEER, f->now), UDP_SEND_DONE);
    expect_pkt(f, PEER, PEER_MAC, 5);
    expect_no_tx(f);
    assert_int_equal(stack_neigh_count(f->st), 1);
}

static void multicast_next_hop_needs_no_resolution(void **state)
{
    struct fx *f = *state;
    static const uint8_t grp[16] = {0xff, 0x02, [15] = 0x09};
    static const uint8_t gmac[6] = {0x33, 0x33, 0, 0, 0, 0x09};
    assert_int_equal(nd6_output(f->st, mk_pkt(f, grp, NULL, 6), grp, f->now), UDP_SEND_DONE);
    expect_pkt(f, grp, gmac, 6);
    assert_int_equal(stack_neigh_count(f->st), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_up, teardown_nd)
    const struct CMUnitTest tests[] = {
        T(incomplete_three_ns_then_failure),
        T(incomplete_solicited_na_sends_queue_in_order),
        T(incomplete_unsolicited_na_is_stale),
        T(incomplete_ns_with_slla_resolves),
        T(reachable_becomes_stale_after_reachable_time),
        T(stale_send_delay_probe_then_removal),
        T(delay_confirmed_by_solicited_na),
        T(probe_confirmed_by_solicited_na),
        T(unsolicited_override_na_new_mac_is_stale),
        T(no_override_different_mac),
        T(na_router_flag_cleared_removes_default_router),
        T(queue_bound),
        T(fragment_chain_queued_as_one),
        T(ns_flood_cache_bounded_lru),
        T(send_flood_bounded_and_recovers),
        T(cancel_queued_send),
        T(device_gone_fails_queued),
        T(static_entry_never_changes),
        T(multicast_next_hop_needs_no_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
