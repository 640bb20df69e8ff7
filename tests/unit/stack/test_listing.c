/* SPDX-License-Identifier: MIT */
/*
 * test_listing.c - stack/listing.c: the neighbour cache, the routes, the
 * addresses and the link statistics, as text (like ip neigh / ip route /
 * ip addr) and as JSON (like ip -j, ip -j -s link), on a memdev stack.
 *
 *     peer 2001:db8::2 / 192.0.2.2 (02:00:00:00:00:02, static)
 *     router fe80::fe (02:00:00:00:00:fe): an RA with prefix 2001:db8:1::/64
 *       |
 *     stack 2001:db8::1/64, 192.0.2.1/24, fe80::ff:fe00:1 (02:00:00:00:00:01)
 *           gateway=192.0.2.254, gateway=2001:db8::fe
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack_impl.h"
#include "stack/ipv6_impl.h"
#include "fx6.h"

#define OUR4 0xC0000201u
static const uint8_t RTR_LL[16] = {0xfe, 0x80, [15] = 0xfe};
static const uint8_t RTR_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};

static int setup_gw(void **state)
{
    *state = fx_new(FX6_CFG ";gateway=192.0.2.254;gateway=2001:db8::fe", 1500);
    return 0;
}

typedef int (*list_fn)(struct wskstack *, FILE *, int);

static char *listing(struct fx *f, list_fn fn, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(fn(f->st, m, json), 0);
    fclose(m);
    return buf;
}

static void expect_listing(struct fx *f, list_fn fn, int json, const char *want)
{
    char *got = listing(f, fn, json);
    if (strcmp(got, want) != 0)
        fail_msg("listing\n%s\nwant\n%s", got, want);
    free(got);
}

static int link_json(struct wskstack *st, FILE *out, int json)
{
    (void)json;
    return wskstack_link_json(st, out);
}

/* An RA from fe80::fe: router lifetime 1800 s, SLLA, Prefix Information
 * 2001:db8:1::/64 with L and A, valid 86400 s, preferred 14400 s. */
static void inject_ra(struct fx *f)
{
    uint8_t d[64];
    memset(d, 0, sizeof d);
    /* reachable time, retrans timer: 0 = unspecified (RFC 4861 §4.2) */
    uint8_t *o = d + 8;
    o[0] = 1; /* SLLA */
    o[1] = 1;
    memcpy(o + 2, RTR_MAC, 6);
    o += 8;
    o[0] = 3; /* Prefix Information */
    o[1] = 4;
    o[2] = 64;
    o[3] = 0xc0; /* L, A */
    put_be32(o + 4, 86400);
    put_be32(o + 8, 14400);
    static const uint8_t pfx[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01};
    memcpy(o + 16, pfx, 16);
    size_t dlen = 8 + 8 + 32;
    uint8_t m[128], fr[256];
    size_t ml = mk_icmp6(m, RTR_LL, ALLNODES, 134, 0, 64u << 24 | 1800u, d, dlen);
    static const uint8_t mc[6] = {0x33, 0x33, 0, 0, 0, 1};
    size_t n = mk_eth6(fr, mc, RTR_MAC);
    n += mk_ip6(fr + n, RTR_LL, ALLNODES, IP_PROTO_ICMPV6, 255, m, ml);
    inject(f, fr, n);
    fx_drain(f); /* the DAD probe for the SLAAC address */
}

/* ---- neighbours ------------------------------------------------------------------ */

static void test_neigh(void **state)
{
    struct fx *f = *state;
    inject_ra(f);
    /* an echo request from 192.0.2.3: its reply waits for ARP (INCOMPLETE) */
    uint8_t fr[128];
    memcpy(fr, our_mac, 6);
    memcpy(fr + 6, peer_mac, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    struct icmp_repr r = {.type = ICMP_ECHO_REQUEST, .rest = 1};
    icmp_emit(&r, fr + 34);
    struct ipv4_repr ip = {.src = 0xC0000203u, .dst = OUR4, .proto = IP_PROTO_ICMP, .ttl = 64,
                           .hdr_len = 20, .total_len = 28};
    ipv4_emit(&ip, fr + 14);
    inject(f, fr, 42);
    fx_drain(f);
    expect_listing(f, wskstack_list_neigh, 0,
                   "192.0.2.2 dev t6 lladdr 02:00:00:00:00:02 PERMANENT\n"
                   "192.0.2.3 dev t6 INCOMPLETE\n"
                   "2001:db8::2 dev t6 lladdr 02:00:00:00:00:02 PERMANENT\n"
                   "fe80::fe dev t6 lladdr 02:00:00:00:00:fe router STALE\n");
    expect_listing(f, wskstack_list_neigh, 1,
                   "[{\"dst\":\"192.0.2.2\",\"dev\":\"t6\",\"lladdr\":\"02:00:00:00:00:02\","
                   "\"state\":[\"PERMANENT\"]},"
                   "{\"dst\":\"192.0.2.3\",\"dev\":\"t6\",\"state\":[\"INCOMPLETE\"]},"
                   "{\"dst\":\"2001:db8::2\",\"dev\":\"t6\",\"lladdr\":\"02:00:00:00:00:02\","
                   "\"state\":[\"PERMANENT\"]},"
                   "{\"dst\":\"fe80::fe\",\"dev\":\"t6\",\"lladdr\":\"02:00:00:00:00:fe\","
                   "\"router\":null,\"state\":[\"STALE\"]}]\n");
    /* let the resolution of 192.0.2.3 fail so its queued reply is freed */
    for (int i = 0; i < 4; i++) {
        f->now += SEC;
        stack_poll(f->st, f->now);
    }
    fx_drain(f);
    expect_listing(f, wskstack_list_neigh, 0,
                   "192.0.2.2 dev t6 lladdr 02:00:00:00:00:02 PERMANENT\n"
                   "2001:db8::2 dev t6 lladdr 02:00:00:00:00:02 PERMANENT\n"
                   "fe80::fe dev t6 lladdr 02:00:00:00:00:fe router STALE\n");
}

static void test_neigh_empty(void **state)
{
    (void)state;
    char err[128];
    struct wskstack *st = NULL;
    assert_int_equal(stack_create_on_dev(NULL, memdev_create("e0", 1500), STACK_NO_THREAD, &st,
                                         err, sizeof err), 0);
    struct fx f = {.st = st};
    expect_listing(&f, wskstack_list_neigh, 0, "");
    expect_listing(&f, wskstack_list_neigh, 1, "[]\n");
    wskstack_destroy(st);
}

/* ---- routes ------------------------------------------------------------------------- */

static void test_routes(void **state)
{
    struct fx *f = *state;
    expect_listing(f, wskstack_list_routes, 0,
                   "default via 192.0.2.254 dev t6\n"
                   "192.0.2.0/24 dev t6 proto kernel scope link src 192.0.2.1\n"
                   "2001:db8::/64 dev t6 proto kernel\n"
                   "fe80::/10 dev t6 proto kernel scope link\n"
                   "default via 2001:db8::fe dev t6 proto static\n");
    inject_ra(f);
    f->now += 100 * SEC;
    expect_listing(f, wskstack_list_routes, 0,
                   "default via 192.0.2.254 dev t6\n"
                   "192.0.2.0/24 dev t6 proto kernel scope link src 192.0.2.1\n"
                   "2001:db8::/64 dev t6 proto kernel\n"
                   "2001:db8:1::/64 dev t6 proto ra expires 86300sec\n"
                   "fe80::/10 dev t6 proto kernel scope link\n"
                   "default via 2001:db8::fe dev t6 proto static\n"
                   "default via fe80::fe dev t6 proto ra expires 1700sec\n");
    expect_listing(f, wskstack_list_routes, 1,
                   "[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"t6\",\"flags\":[]},"
                   "{\"dst\":\"192.0.2.0/24\",\"dev\":\"t6\",\"protocol\":\"kernel\",\"scope\":\"link\","
                   "\"prefsrc\":\"192.0.2.1\",\"flags\":[]},"
                   "{\"dst\":\"2001:db8::/64\",\"dev\":\"t6\",\"protocol\":\"kernel\",\"flags\":[]},"
                   "{\"dst\":\"2001:db8:1::/64\",\"dev\":\"t6\",\"protocol\":\"ra\",\"expires\":86300,"
                   "\"flags\":[]},"
                   "{\"dst\":\"fe80::/10\",\"dev\":\"t6\",\"protocol\":\"kernel\",\"scope\":\"link\","
                   "\"flags\":[]},"
                   "{\"dst\":\"default\",\"gateway\":\"2001:db8::fe\",\"dev\":\"t6\",\"protocol\":\"static\","
                   "\"flags\":[]},"
                   "{\"dst\":\"default\",\"gateway\":\"fe80::fe\",\"dev\":\"t6\",\"protocol\":\"ra\","
                   "\"expires\":1700,\"flags\":[]}]\n");
}

/* ---- addresses and link ----------------------------------------------------------------- */

static void test_addrs(void **state)
{
    struct fx *f = *state;
    inject_ra(f); /* SLAAC: 2001:db8:1::ff:fe00:1, tentative until DAD ends */
    char head[128];
    snprintf(head, sizeof head, "%u: t6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n",
             stack_ifindex(f->st));
    char want[1024];
    snprintf(want, sizeof want,
             "%s"
             "    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
             "    inet 192.0.2.1/24 scope global\n"
             "    inet6 fe80::ff:fe00:1/64 scope link proto kernel_ll\n"
             "    inet6 2001:db8::1/64 scope global\n"
             "    inet6 2001:db8:1::ff:fe00:1/64 scope global dynamic tentative proto kernel_ra\n",
             head);
    expect_listing(f, wskstack_list_addrs, 0, want);
    snprintf(want, sizeof want,
             "[{\"ifindex\":%u,\"ifname\":\"t6\",\"flags\":[\"BROADCAST\",\"MULTICAST\",\"UP\","
             "\"LOWER_UP\"],\"mtu\":1500,\"link_type\":\"ether\",\"address\":\"02:00:00:00:00:01\","
             "\"broadcast\":\"ff:ff:ff:ff:ff:ff\",\"addr_info\":["
             "{\"family\":\"inet\",\"local\":\"192.0.2.1\",\"prefixlen\":24,\"scope\":\"global\"},"
             "{\"family\":\"inet6\",\"local\":\"fe80::ff:fe00:1\",\"prefixlen\":64,\"scope\":\"link\","
             "\"protocol\":\"kernel_ll\"},"
             "{\"family\":\"inet6\",\"local\":\"2001:db8::1\",\"prefixlen\":64,\"scope\":\"global\"},"
             "{\"family\":\"inet6\",\"local\":\"2001:db8:1::ff:fe00:1\",\"prefixlen\":64,"
             "\"scope\":\"global\",\"dynamic\":true,\"tentative\":true,\"protocol\":\"kernel_ra\"}]}]\n",
             stack_ifindex(f->st));
    expect_listing(f, wskstack_list_addrs, 1, want);
    /* DAD done: the SLAAC address is preferred */
    f->now += 2 * SEC;
    stack_poll(f->st, f->now);
    fx_drain(f);
    char *got = listing(f, wskstack_list_addrs, 0);
    assert_non_null(strstr(got, "    inet6 2001:db8:1::ff:fe00:1/64 scope global dynamic proto kernel_ra\n"));
    free(got);
}

static void test_addrs_duplicate(void **state)
{
    (void)state;
    /* a tentative address that DAD finds duplicate (RFC 4862 §5.4.5) */
    char err[256];
    struct wskstack_config *cfg = wskstack_config_new();
    assert_int_equal(wskstack_config_parse(cfg, "mac=02:00:00:00:00:01;addr=2001:db8::7/64", err,
                                           sizeof err), 0);
    struct wskstack *st = NULL;
    assert_int_equal(stack_create_on_dev(cfg, memdev_create("d0", 1500), STACK_NO_THREAD, &st, err,
                                         sizeof err), 0);
    wskstack_config_free(cfg);
    static const uint8_t a7[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
    addr6_dad_conflict(st, a7, true, 0);
    struct fx f = {.st = st};
    char *got = listing(&f, wskstack_list_addrs, 0);
    assert_non_null(strstr(got, "    inet6 fe80::ff:fe00:1/64 scope link tentative proto kernel_ll\n"
                                "    inet6 2001:db8::7/64 scope global tentative dadfailed\n"));
    free(got);
    wskstack_destroy(st);
}

static void test_link_json(void **state)
{
    struct fx *f = *state;
    /* one frame in (an echo request) and its reply out, one runt */
    uint8_t fr[128];
    memcpy(fr, our_mac, 6);
    memcpy(fr + 6, peer_mac, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    struct icmp_repr r = {.type = ICMP_ECHO_REQUEST, .rest = 1};
    icmp_emit(&r, fr + 34);
    struct ipv4_repr ip = {.src = PEER4, .dst = OUR4, .proto = IP_PROTO_ICMP, .ttl = 64,
                           .hdr_len = 20, .total_len = 28};
    ipv4_emit(&ip, fr + 14);
    inject(f, fr, 42);
    inject(f, fr, 9);
    fr[12] = 0x88; /* an unknown EtherType: dropped */
    fr[13] = 0xb5;
    inject(f, fr, 42);
    fx_drain(f);
    char want[512];
    snprintf(want, sizeof want,
             "[{\"ifindex\":%u,\"ifname\":\"t6\",\"flags\":[\"BROADCAST\",\"MULTICAST\",\"UP\","
             "\"LOWER_UP\"],\"mtu\":1500,\"link_type\":\"ether\",\"address\":\"02:00:00:00:00:01\","
             "\"broadcast\":\"ff:ff:ff:ff:ff:ff\",\"stats64\":{\"rx\":{\"bytes\":93,\"packets\":3,"
             "\"errors\":1,\"dropped\":1},\"tx\":{\"bytes\":42,\"packets\":1,\"errors\":0,"
             "\"dropped\":0}}}]\n",
             stack_ifindex(f->st));
    expect_listing(f, link_json, 0, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_neigh, setup, teardown),
        cmocka_unit_test(test_neigh_empty),
        cmocka_unit_test_setup_teardown(test_routes, setup_gw, teardown),
        cmocka_unit_test_setup_teardown(test_addrs, setup, teardown),
        cmocka_unit_test(test_addrs_duplicate),
        cmocka_unit_test_setup_teardown(test_link_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
