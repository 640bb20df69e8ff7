/* SPDX-License-Identifier: MIT */
/*
 * test_ipv4.c - stack/ipv4.c: the RFC 1122 §3.2.1 input rules in the order
 * of BAD-INPUT.md C.10-C.16, source selection, output and fragmentation.
 *
 * Every test builds a stack on a memdev (no receive thread, manual clock),
 * injects hand-built frames, and asserts the exact counters and the exact
 * frames the stack wrote.  Topology:
 *
 *     peer 192.0.2.2 (02:00:00:00:00:02) ---- stack 192.0.2.1/24 (02:00:00:00:00:01)
 *                                              gateway 192.0.2.254
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fx4.h"

static struct tep_box *tep_bind(struct fx *f, uint16_t port)
{
    struct tep_box *b = calloc(1, sizeof(*b));
    b->ep.ops = &tep_ops;
    b->ep.flags = UDP_EP_V4;
    b->st = f->st;
    struct ip_addr any = {.af = IPA_NONE};
    assert_int_equal(udp_bind(f->st, &b->ep, &any, port), 0);
    return b;
}

/* ---- baseline ------------------------------------------------------------------------ */
static void test_ipv4_valid_delivered(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256];
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "hello"));
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->len, 5);
    assert_memory_equal(b->data, "hello", 5);
    assert_int_equal(CNT(f->st, IpInReceives), 1);
    assert_int_equal(CNT(f->st, IpInDelivers), 1);
    assert_int_equal(CNT(f->st, UdpInDatagrams), 1);
    assert_false(b->info.bcast);
    assert_int_equal(b->info.ttl, 64);
    tep_free(f, b);
}

/* ---- C.10 version, checksum ---------------------------------------------------------- */
static void test_ipv4_c10_version_and_checksum(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256];
    size_t n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "x");

    fr[14] = (uint8_t)((6 << 4) | 5);                  /* version 6 */
    put_be16(fr + 24, 0);
    put_be16(fr + 24, csum_fold(csum_partial(fr + 14, 20, 0)));
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 1);

    n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "x");
    fr[24] ^= 0x01;                                    /* bad header checksum */
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 2);

    assert_int_equal(CNT(f->st, IpInReceives), 2);
    assert_int_equal(CNT(f->st, IpInDelivers), 0);
    assert_int_equal(b->calls, 0);
    tep_free(f, b);
}

/* Rewrite header fields of the IPv4 header at fr+14 and fix its checksum. */
static void fix_csum(uint8_t *ip, size_t hl)
{
    put_be16(ip + 10, 0);
    put_be16(ip + 10, csum_fold(csum_partial(ip, hl, 0)));
}

/* ---- C.11 lengths ----------------------------------------------------------------------- */
static void test_ipv4_c11_lengths(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256];
    size_t n;

    /* IHL 4 < 5 */
    n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "abcdefgh");
    fr[14] = 0x44;
    fix_csum(fr + 14, 20);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 1);

    /* total length 19 < IHL*4 */
    n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "abcdefgh");
    put_be16(fr + 16, 19);
    fix_csum(fr + 14, 20);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 2);

    /* total length 0 */
    n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "abcdefgh");
    put_be16(fr + 16, 0);
    fix_csum(fr + 14, 20);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 3);

    /* IHL*4 (60) beyond the frame (20 + 16 bytes) */
    n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "abcdefgh");
    fr[14] = 0x4f;
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 4);

    /* fewer than 20 bytes of IP */
    n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "abcdefgh");
    inject(f, fr, 14 + 19);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 5);

    /* total length beyond the frame: truncated */
    n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "abcdefgh");
    put_be16(fr + 16, (uint16_t)(n - 14 + 1));
    fix_csum(fr + 14, 20);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInTruncatedPkts), 1);
    assert_int_equal(CNT(f->st, IpInHdrErrors), 5);

    assert_int_equal(CNT(f->st, IpInReceives), 6);
    assert_int_equal(CNT(f->st, IpInDelivers), 0);
    assert_int_equal(b->calls, 0);
    tep_free(f, b);
}

/* ---- C.12 padding --------------------------------------------------------------------- */
static void test_ipv4_c12_padding_trimmed(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256];
    size_t n = mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 64, "pad");
    /* Ethernet minimum frame: 60 bytes, the tail is garbage that would break
     * the UDP checksum and the payload length if it were not trimmed. */
    memset(fr + n, 0xA5, 60 - n);
    inject(f, fr, 60);
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->len, 3);
    assert_memory_equal(b->data, "pad", 3);
    assert_int_equal(CNT(f->st, UdpInErrors), 0);
    assert_int_equal(CNT(f->st, IpInDelivers), 1);
    tep_free(f, b);
}

/* ---- C.13 destination not ours ------------------------------------------------------------ */
static void test_ipv4_c13_not_ours(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256];

    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, 0xC0000263u, 64, "x"));  /* 192.0.2.99 */
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, 0xE0000063u, 64, "x"));  /* 224.0.0.99 */
    inject(f, fr, mk_udp_frame(fr, bcast_mac, PEER_IP, 0xC63364FFu, 64, "x")); /* 198.51.100.255 */
    assert_int_equal(CNT(f->st, IpInAddrErrors), 3);
    assert_int_equal(CNT(f->st, IpInDelivers), 0);
    assert_int_equal(b->calls, 0);
    assert_int_equal(memdev_tx_pending(f->dev), 0);   /* no ICMP */
    tep_free(f, b);
}

/* ---- broadcast destinations are ours ------------------------------------------------------ */
static void test_ipv4_broadcast_accepted(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256];
    inject(f, fr, mk_udp_frame(fr, bcast_mac, PEER_IP, 0xC00002FFu, 64, "dir"));   /* 192.0.2.255 */
    assert_int_equal(b->calls, 1);
    assert_true(b->info.bcast);
    assert_int_equal(b->info.dst.v4, 0xC00002FFu);
    inject(f, fr, mk_udp_frame(fr, bcast_mac, PEER_IP, 0xFFFFFFFFu, 64, "lim"));
    assert_int_equal(b->calls, 2);
    assert_true(b->info.bcast);
    assert_int_equal(CNT(f->st, IpInDelivers), 2);
    assert_int_equal(CNT(f->st, IpInAddrErrors), 0);
    assert_true(ipv4_is_broadcast(f->st, 0xC00002FFu));
    assert_true(ipv4_is_broadcast(f->st, 0xFFFFFFFFu));
    assert_false(ipv4_is_broadcast(f->st, 0xC63364FFu));
    assert_false(ipv4_is_broadcast(f->st, OUR_IP));
    assert_true(ipv4_is_local(f->st, OUR_IP));
    assert_false(ipv4_is_local(f->st, 0xC00002FFu));
    tep_free(f, b);
}

/* ---- C.14 TTL 0 and 1 ----------------------------------------------------------------------- */
static void test_ipv4_c14_ttl_0_1_delivered(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256];
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 0, "t0"));
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->info.ttl, 0);
    inject(f, fr, mk_udp_frame(fr, our_mac, PEER_IP, OUR_IP, 1, "t1"));
    assert_int_equal(b->calls, 2);
    assert_int_equal(b->info.ttl, 1);
    assert_int_equal(CNT(f->st, IpInDelivers), 2);
    tep_free(f, b);
}

/* ---- C.15 unknown protocol ---------------------------------------------------------------- */
static void test_ipv4_c15_unknown_proto(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], out[256];
    size_t n = mk_eth(fr, our_mac, peer_mac);
    n += mk_ip(fr + n, PEER_IP, OUR_IP, 99, 64, 0, NULL, 0, "0123456789", 10);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInUnknownProtos), 1);
    assert_int_equal(CNT(f->st, IpInDelivers), 0);
    assert_int_equal(CNT(f->st, IcmpOutDestUnreachs), 1);
    long m = pop(f, out, sizeof(out));
    assert_int_equal(m, 14 + 20 + 8 + 30);             /* whole 30-byte datagram quoted */
    assert_memory_equal(out, peer_mac, 6);
    assert_int_equal(out[14 + 9], IP_PROTO_ICMP);
    assert_int_equal(be32(out + 14 + 12), OUR_IP);
    assert_int_equal(be32(out + 14 + 16), PEER_IP);
    assert_int_equal(out[34], ICMP_DEST_UNREACH);
    assert_int_equal(out[35], ICMP_UNREACH_PROTO);
    assert_memory_equal(out + 42, fr + 14, 30);

    /* to the limited broadcast: counted, but no ICMP */
    n = mk_eth(fr, bcast_mac, peer_mac);
    n += mk_ip(fr + n, PEER_IP, 0xFFFFFFFFu, 99, 64, 0, NULL, 0, "0123456789", 10);
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IpInUnknownProtos), 2);
    assert_int_equal(CNT(f->st, IcmpOutDestUnreachs), 1);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
}

/* ---- C.16 options ignored, not reflected ---------------------------------------------------- */
static void test_ipv4_c16_options_ignored(void **state)
{
    struct fx *f = *state;
    uint8_t fr[256], out[256];
    /* unknown option type 10 length 4, then NOP, NOP, EOL padding */
    const uint8_t opt[8] = {10, 4, 0xAB, 0xCD, 1, 1, 0, 0};
    uint8_t icmp[16] = {8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'o', 'p', 't', 's', 0, 0, 0, 0};
    put_be16(icmp + 2, csum_fold(csum_partial(icmp, sizeof(icmp), 0)));
    size_t n = mk_eth(fr, our_mac, peer_mac);
    n += mk_ip(fr + n, PEER_IP, OUR_IP, IP_PROTO_ICMP, 64, 0, opt, sizeof(opt), icmp, sizeof(icmp));
    inject(f, fr, n);
    assert_int_equal(CNT(f->st, IcmpOutEchoReps), 1);
    long m = pop(f, out, sizeof(out));
    assert_int_equal(m, 14 + 20 + 16);                 /* 20-byte header: no options */
    assert_int_equal(out[14], 0x45);
    assert_int_equal(out[34], ICMP_ECHO_REPLY);
    assert_memory_equal(out + 38, icmp + 4, 12);
}

/* ---- fragments go to reassembly (the cases are in test_ipv4_reasm.c) -------------------------- */
static void test_ipv4_fragments_reassembled(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 7777);
    uint8_t fr[256], udp[64];
    size_t ul = mk_udp(udp, PEER_IP, OUR_IP, 5555, 7777, "fragment", 8);
    size_t n = mk_eth(fr, our_mac, peer_mac);
    n += mk_ip(fr + n, PEER_IP, OUR_IP, IP_PROTO_UDP, 64, 0x2000, NULL, 0, udp, ul);  /* MF */
    inject(f, fr, n);
    n = mk_eth(fr, our_mac, peer_mac);
    n += mk_ip(fr + n, PEER_IP, OUR_IP, IP_PROTO_UDP, 64, 0x0002, NULL, 0, udp, ul);  /* off 16 */
    inject(f, fr, n);
    /* 32 bytes reassembled; the UDP length field (16) delimits the
     * datagram, the second copy is trailing bytes (RFC 768). */
    assert_int_equal(CNT(f->st, IpReasmReqds), 2);
    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 0);
    assert_int_equal(CNT(f->st, IpInDelivers), 1);
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->len, 8);
    assert_memory_equal(b->data, "fragment", 8);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    tep_free(f, b);
}

/* ---- source selection ------------------------------------------------------------------------ */
static void test_ipv4_source_selection(void **state)
{
    (void)state;
    struct fx *f = fx_new("addr=192.0.2.10/24;addr=192.0.2.11/24;addr=198.51.100.1/24;"
                          "mac=02:00:00:00:00:01;gateway=198.51.100.254", 1500);
    uint32_t src = 0, nh = 0;
    /* on-link in the first subnet: its first address */
    assert_int_equal(ipv4_select_source(f->st, 0xC0000263u, 0xC0000263u, &src), 0);
    assert_int_equal(src, 0xC000020Au);
    /* on-link in the second subnet */
    assert_int_equal(ipv4_select_source(f->st, 0xC6336407u, 0xC6336407u, &src), 0);
    assert_int_equal(src, 0xC6336401u);
    /* off-link via the gateway, which is in the second subnet */
    assert_int_equal(route4_lookup(f->st, 0xCB007105u, &nh, NULL), 0);
    assert_int_equal(nh, 0xC63364FEu);
    assert_int_equal(ipv4_select_source(f->st, 0xCB007105u, nh, &src), 0);
    assert_int_equal(src, 0xC6336401u);
    /* a next hop outside every subnet: the first address */
    assert_int_equal(ipv4_select_source(f->st, 0x0A000001u, 0x0A000001u, &src), 0);
    assert_int_equal(src, 0xC000020Au);

    /* and on the wire, through udp_send from a wildcard endpoint */
    struct tep_box *b = tep_bind(f, 4000);
    struct ip_addr a = ip4(0xC0000263u);
    const uint8_t m99[6] = {0x02, 0, 0, 0, 0, 0x63};
    assert_int_equal(stack_neigh_add_static(f->st, &a, m99), 0);
    struct iovec iov = {.iov_base = "s", .iov_len = 1};
    struct udp_send_args sa = {.dst = a, .dport = 9, .ttl = -1, .tos = -1, .iov = &iov,
                               .iovcnt = 1, .len = 1};
    assert_int_equal(udp_send(f->st, &b->ep, &sa), UDP_SEND_DONE);
    uint8_t out[128];
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 20 + 9);
    assert_int_equal(be32(out + 14 + 12), 0xC000020Au);
    sa.dst = ip4(0xC6336402u);   /* 198.51.100.2, via the static entry below */
    const uint8_t m2[6] = {0x02, 0, 0, 0, 0, 0x22};
    assert_int_equal(stack_neigh_add_static(f->st, &sa.dst, m2), 0);
    assert_int_equal(udp_send(f->st, &b->ep, &sa), UDP_SEND_DONE);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 20 + 9);
    assert_int_equal(be32(out + 14 + 12), 0xC6336401u);
    tep_free(f, b);
    fx_free(f);
}

/* ---- output: fragmentation ------------------------------------------------------------------- */
static void test_ipv4_fragment_on_send(void **state)
{
    struct fx *f = *state;
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    struct pkt *p = pkt_alloc(f->st, sizeof(data));
    assert_non_null(p);
    memcpy(pkt_data(p), data, sizeof(data));
    p->len = sizeof(data);
    struct ipv4_tx tx = {.src = OUR_IP, .dst = PEER_IP, .proto = 253, .ttl = 64};
    f->st->ip_id = 0x1234;
    assert_int_equal(ipv4_output(f->st, p, &tx, f->now), UDP_SEND_DONE);

    uint8_t re[3000];
    const uint16_t want_off[3] = {0, 185, 370};          /* 8-byte units: 0, 1480, 2960 */
    const uint16_t want_len[3] = {1500, 1500, 60};
    for (int i = 0; i < 3; i++) {
        uint8_t out[1600];
        long m = pop(f, out, sizeof(out));
        assert_int_equal(m, 14 + want_len[i]);
        assert_memory_equal(out, peer_mac, 6);
        const uint8_t *ip = out + 14;
        struct ipv4_repr r;
        assert_int_equal(ipv4_parse(ip, (size_t)m - 14, &r, true), WIRE_OK);
        assert_int_equal(r.total_len, want_len[i]);
        assert_int_equal(r.id, 0x1234);
        assert_int_equal(r.frag_off, want_off[i] * 8);
        assert_int_equal(r.mf, i < 2);
        assert_false(r.df);
        assert_int_equal(r.proto, 253);
        memcpy(re + r.frag_off, ip + 20, r.total_len - 20u);
    }
    assert_int_equal(pop(f, re, 0), -1);
    assert_memory_equal(re, data, sizeof(data));       /* reassembles to the original */
    assert_int_equal(CNT(f->st, IpOutRequests), 1);
    assert_int_equal(CNT(f->st, IpFragOKs), 1);
    assert_int_equal(CNT(f->st, IpFragCreates), 3);
    assert_int_equal(f->st->ip_id, 0x1235);
}

static void test_ipv4_df_too_big(void **state)
{
    struct fx *f = *state;
    struct pkt *p = pkt_alloc(f->st, 1481);
    assert_non_null(p);
    memset(pkt_data(p), 0, 1481);
    p->len = 1481;
    struct ipv4_tx tx = {.src = OUR_IP, .dst = PEER_IP, .proto = 253, .ttl = 64, .df = true};
    assert_int_equal(ipv4_output(f->st, p, &tx, f->now), -EMSGSIZE);
    assert_int_equal(memdev_tx_pending(f->dev), 0);
    assert_int_equal(CNT(f->st, IpFragFails), 1);
    assert_int_equal(CNT(f->st, IpFragCreates), 0);

    /* exactly the MTU with DF: one frame */
    p = pkt_alloc(f->st, 1480);
    memset(pkt_data(p), 0, 1480);
    p->len = 1480;
    assert_int_equal(ipv4_output(f->st, p, &tx, f->now), UDP_SEND_DONE);
    uint8_t out[1600];
    assert_int_equal(pop(f, out, sizeof(out)), 1514);
    assert_int_equal(out[14 + 6], 0x40);               /* DF */
}

static void test_ipv4_output_routes(void **state)
{
    struct fx *f = *state;
    uint8_t out[256];
    struct ipv4_tx tx = {.src = OUR_IP, .proto = 253, .ttl = 0};

    /* off-link: to the gateway's MAC; ttl 0 means the default 64 */
    struct pkt *p = pkt_alloc(f->st, 4);
    memcpy(pkt_data(p), "abcd", 4);
    p->len = 4;
    tx.dst = 0xCB007101u;
    assert_int_equal(ipv4_output(f->st, p, &tx, f->now), UDP_SEND_DONE);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 24);
    assert_memory_equal(out, gw_mac, 6);
    assert_int_equal(out[14 + 8], 64);
    assert_int_equal(be32(out + 14 + 16), 0xCB007101u);

    /* directed broadcast: link broadcast, no ARP */
    p = pkt_alloc(f->st, 4);
    memcpy(pkt_data(p), "abcd", 4);
    p->len = 4;
    tx.dst = 0xC00002FFu;
    assert_int_equal(ipv4_output(f->st, p, &tx, f->now), UDP_SEND_DONE);
    assert_int_equal(pop(f, out, sizeof(out)), 14 + 24);
    assert_memory_equal(out, bcast_mac, 6);
    assert_int_equal(CNT(f->st, IpOutRequests), 2);
}

static void test_ipv4_no_route(void **state)
{
    (void)state;
    struct fx *f = fx_new("addr=192.0.2.1/24;mac=02:00:00:00:00:01", 1500);
    struct pkt *p = pkt_alloc(f->st, 4);
    p->len = 4;
    memset(pkt_data(p), 0, 4);
    struct ipv4_tx tx = {.src = OUR_IP, .dst = 0xCB007101u, .proto = 253, .ttl = 64};
    assert_int_equal(ipv4_output(f->st, p, &tx, f->now), -ENETUNREACH);
    assert_int_equal(CNT(f->st, IpOutNoRoutes), 1);
    assert_int_equal(CNT(f->st, IpOutRequests), 0);
    fx_free(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ipv4_valid_delivered),
        T(test_ipv4_c10_version_and_checksum),
        T(test_ipv4_c11_lengths),
        T(test_ipv4_c12_padding_trimmed),
        T(test_ipv4_c13_not_ours),
        T(test_ipv4_broadcast_accepted),
        T(test_ipv4_c14_ttl_0_1_delivered),
        T(test_ipv4_c15_unknown_proto),
        T(test_ipv4_c16_options_ignored),
        T(test_ipv4_fragments_reassembled),
        cmocka_unit_test(test_ipv4_source_selection),
        T(test_ipv4_fragment_on_send),
        T(test_ipv4_df_too_big),
        T(test_ipv4_output_routes),
        cmocka_unit_test(test_ipv4_no_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
