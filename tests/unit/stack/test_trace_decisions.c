/* SPDX-License-Identifier: MIT */
/*
 * test_trace_decisions.c - the decision lines of stack/trace.c on a memdev
 * stack, exact in text and in JSON: a ping (IPv4, IPv6), ARP resolution
 * and an ARP request answered, UDP datagrams in and out over both
 * families (link, ipv4/ipv6, udp: source rule, route, headers,
 * checksums), a drop with its counter and rule, an NS answered.  The
 * parser, the formats and the sinks: test_trace.c.
 *
 *     peer 2001:db8::2 / 192.0.2.2 (02:00:00:00:00:02, static neighbour)
 *       |
 *     stack 2001:db8::1/64, 192.0.2.1/24, fe80::ff:fe00:1 (02:00:00:00:00:01)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "trace_fixture.h"

#define OUR4 0xC0000201u /* 192.0.2.1 */

/* ---- decision lines ---------------------------------------------------------------------- */

static size_t mk_echo4(uint8_t *fr, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq)
{
    memcpy(fr, our_mac, 6);
    memcpy(fr + 6, peer_mac, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    static const uint8_t data[4] = {1, 2, 3, 4};
    struct icmp_repr r = {.type = ICMP_ECHO_REQUEST, .rest = (uint32_t)id << 16 | seq,
                          .data = data, .data_len = 4};
    icmp_emit(&r, fr + 34);
    struct ipv4_repr ip = {.src = src, .dst = dst, .proto = IP_PROTO_ICMP, .ttl = 64,
                           .hdr_len = 20, .total_len = 20 + 12};
    ipv4_emit(&ip, fr + 14);
    return 14 + 20 + 12;
}

/* An ARP message from 192.0.2.x at 02:00:00:00:00:0x (x = spa's last
 * byte) to eth_dst, for tpa; returns the frame length. */
static size_t mk_arp(uint8_t *fr, const uint8_t eth_dst[6], uint16_t op, uint32_t spa, uint32_t tpa)
{
    const uint8_t sha[6] = {2, 0, 0, 0, 0, (uint8_t)spa};
    memcpy(fr, eth_dst, 6);
    memcpy(fr + 6, sha, 6);
    fr[12] = 0x08;
    fr[13] = 0x06;
    struct arp_repr ar = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(ar.sha, sha, 6);
    if (op == ARP_OP_REPLY)
        memcpy(ar.tha, our_mac, 6);
    arp_emit(&ar, fr + 14);
    return 14 + ARP_LEN;
}

/* An echo request through every layer, and the reply back down: one line
 * per layer and decision, the ICMP decision before the layers that carry
 * it out.  The reply's IPv4 identification is the stack's next one
 * (random start, route_init). */
static void test_ping4_decisions(void **state)
{
    struct fx *f = *state;
    struct tr t;
    uint8_t fr[128];
    size_t n = mk_echo4(fr, PEER4, OUR4, 0x1234, 7);
    unsigned id = f->st->ip_id;
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    inject(f, fr, n);
    fx_drain(f);
    char want[2048];
    snprintf(want, sizeof want,
             "link rx 46 bytes from 02:00:00:00:00:02 to 02:00:00:00:00:01 (our MAC), EtherType "
             "0x0800: to ipv4 (RFC 894)\n"
             "ipv4 rx 192.0.2.2 -> 192.0.2.1, proto 1, 32 bytes, ttl 64, id 0: ours, to icmp "
             "(RFC 1122 §3.2.1.3)\n"
             "icmp rx type 8 code 0: checksum ok (RFC 792)\n"
             "icmp tx echo reply to 192.0.2.2 from 192.0.2.1, id 4660 seq 7 (RFC 792, RFC 1122 "
             "§3.2.2.6)\n"
             "ipv4 tx route to 192.0.2.2: 192.0.2.0/24 on-link, next hop 192.0.2.2 (longest match, "
             "RFC 1812 §5.2.4.3)\n"
             "ipv4 tx 192.0.2.1 -> 192.0.2.2, proto 1, 32 bytes, ttl 64, id %u: to next hop "
             "192.0.2.2 (RFC 791)\n"
             "link tx 46 bytes from 02:00:00:00:00:01 to 02:00:00:00:00:02, EtherType 0x0800 "
             "(ipv4): written (RFC 894)\n", id);
    assert_string_equal(tr_off(f, &t), want);
    free(t.buf);
}

static void test_ping4_json_fields(void **state)
{
    struct fx *f = *state;
    struct tr t;
    uint8_t fr[128];
    size_t n = mk_echo4(fr, PEER4, OUR4, 1, 2);
    f->now = 3 * SEC;
    tr_on(f, &t, TRACE_ICMP, TRACE_FMT_JSON, 0);
    inject(f, fr, n);
    fx_drain(f);
    assert_string_equal(
        tr_off(f, &t),
        "{\"t\":3000000000,\"layer\":\"icmp\",\"dir\":\"rx\",\"event\":\"csum\","
        "\"msg\":\"type 8 code 0: checksum ok (RFC 792)\",\"rfc\":\"RFC 792\","
        "\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\",\"rule\":\"ok\",\"len\":12,\"type\":8,"
        "\"code\":0}\n"
        "{\"t\":3000000000,\"layer\":\"icmp\",\"dir\":\"tx\",\"event\":\"echo-reply\","
        "\"msg\":\"echo reply to 192.0.2.2 from 192.0.2.1, id 1 seq 2 (RFC 792, RFC 1122 "
        "§3.2.2.6)\",\"rfc\":\"RFC 792\",\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.2\",\"len\":12,"
        "\"id\":1,\"seq\":2,\"type\":0,\"code\":0}\n");
    free(t.buf);
}

static void test_bad_checksum_drop(void **state)
{
    struct fx *f = *state;
    struct tr t;
    uint8_t fr[128];
    size_t n = mk_echo4(fr, PEER4, OUR4, 1, 2);
    fr[n - 1] ^= 0xff; /* payload changed, checksum not */
    tr_on(f, &t, TRACE_ICMP, TRACE_FMT_JSON, TRACE_F_NOTIME);
    f->now = 0;
    inject(f, fr, n);
    assert_string_equal(tr_off(f, &t),
                        "{\"t\":0,\"layer\":\"icmp\",\"dir\":\"rx\",\"event\":\"drop\","
                        "\"msg\":\"drop IcmpInErrors: bad checksum (RFC 792, F.29)\","
                        "\"counter\":\"IcmpInErrors\",\"rfc\":\"RFC 792\"}\n");
    free(t.buf);
    assert_int_equal(CNT(f->st, IcmpInCsumErrors), 1);
}

static void test_ping6_decisions(void **state)
{
    struct fx *f = *state;
    struct tr t;
    uint8_t m[64], fr[256];
    static const uint8_t data[2] = {9, 9};
    size_t ml = mk_icmp6(m, PEER6, OUR6, ICMPV6_ECHO_REQUEST, 0, 0x00050006, data, 2);
    size_t n = mk_frame6(fr, our_mac, PEER6, OUR6, IP_PROTO_ICMPV6, 64, m, ml);
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    inject(f, fr, n);
    fx_drain(f);
    assert_string_equal(
        tr_off(f, &t),
        "link rx 64 bytes from 02:00:00:00:00:02 to 02:00:00:00:00:01 (our MAC), EtherType "
        "0x86dd: to ipv6 (RFC 894)\n"
        "ipv6 rx 2001:db8::2 -> 2001:db8::1, next header 58, 50 bytes, hop limit 64: ours, to "
        "icmpv6 (RFC 8200)\n"
        "icmpv6 rx type 128 code 0: checksum ok (RFC 4443 §2.3)\n"
        "icmpv6 tx echo reply to 2001:db8::2 from 2001:db8::1, id 5 seq 6 (RFC 4443 §4.2)\n"
        "ipv6 tx route to 2001:db8::2: longest match 2001:db8::/64, next hop 2001:db8::2 "
        "(RFC 4861 §5.2)\n"
        "ipv6 tx 2001:db8::1 -> 2001:db8::2, next header 58, 50 bytes, hop limit 64: to next hop "
        "2001:db8::2 (RFC 8200)\n"
        "link tx 64 bytes from 02:00:00:00:00:01 to 02:00:00:00:00:02, EtherType 0x86dd (ipv6): "
        "written (RFC 894)\n");
    free(t.buf);
}

/* ARP states: an echo request from an unknown neighbour needs resolution
 * for the reply (NONE -> INCOMPLETE, a request out), the ARP reply
 * completes it and releases the waiting echo reply. */
static void test_arp_state_changes(void **state)
{
    struct fx *f = *state;
    struct tr t;
    uint8_t fr[128];
    size_t n = mk_echo4(fr, 0xC0000203u, OUR4, 1, 1); /* 192.0.2.3, no entry */
    tr_on(f, &t, TRACE_ARP, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    inject(f, fr, n);
    fx_drain(f); /* the ARP request */
    uint8_t a[64];
    n = mk_arp(a, our_mac, ARP_OP_REPLY, 0xC0000203u, OUR4); /* 192.0.2.3 is-at ..:03 */
    inject(f, a, n);
    fx_drain(f); /* the echo reply */
    assert_string_equal(tr_off(f, &t),
                        "arp - 192.0.2.3: NONE -> INCOMPLETE (RFC 1122 §2.3.2.2)\n"
                        "arp tx request who-has 192.0.2.3 tell 192.0.2.1 (RFC 826)\n"
                        "arp - 192.0.2.3: INCOMPLETE -> REACHABLE (RFC 826)\n"
                        "arp rx reply 192.0.2.3 is-at 02:00:00:00:00:03: sender's entry updated, "
                        "sending 1 waiting packet(s) (RFC 826)\n");
    free(t.buf);
}

/* ---- per-packet lines: ARP, UDP in and out, a drop (issue 6) ----------------------------- */

/* A UDP/IPv4 frame PEER4:5555 -> OUR4:dport carrying msg, IPv4 id `id`. */
static size_t mk_udp4(uint8_t *fr, uint16_t dport, uint16_t id, const char *msg)
{
    size_t ml = strlen(msg);
    memcpy(fr, our_mac, 6);
    memcpy(fr + 6, peer_mac, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    memcpy(fr + 42, msg, ml);
    udp_emit_v4(fr + 34, 5555, dport, (uint16_t)ml, PEER4, OUR4);
    struct ipv4_repr ip = {.src = PEER4, .dst = OUR4, .proto = IP_PROTO_UDP, .ttl = 64, .id = id,
                           .hdr_len = 20, .total_len = (uint16_t)(20 + 8 + ml)};
    ipv4_emit(&ip, fr + 14);
    return 14 + 20 + 8 + ml;
}

/* Send msg from b to PEER4:5555 (IPv4). */
static int send4(struct fx *f, struct tep_box *b, const char *msg)
{
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = strlen(msg)};
    struct udp_send_args a = {.dst = ip4(PEER4), .dport = 5555, .ttl = -1, .tos = -1,
                              .iov = &iov, .iovcnt = 1, .len = strlen(msg)};
    return udp_send(f->st, &b->ep, &a);
}

/* A broadcast who-has for our address from an unknown host: cached, and
 * answered with a reply unicast to it. */
static void test_arp_request_in_reply_out(void **state)
{
    struct fx *f = *state;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct tr t;
    uint8_t fr[64];
    size_t n = mk_arp(fr, bcast, ARP_OP_REQUEST, 0xC0000203u, OUR4);
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    inject(f, fr, n);
    assert_string_equal(
        tr_off(f, &t),
        "link rx 42 bytes from 02:00:00:00:00:03 to ff:ff:ff:ff:ff:ff (broadcast), EtherType "
        "0x0806: to arp (RFC 894)\n"
        "arp - 192.0.2.3: NONE -> REACHABLE (RFC 826)\n"
        "arp rx request who-has 192.0.2.1 tell 192.0.2.3 at 02:00:00:00:00:03: for us, sender "
        "cached, replying (RFC 826)\n"
        "arp tx reply 192.0.2.1 is-at 02:00:00:00:00:01 to 192.0.2.3 at 02:00:00:00:00:03 "
        "(RFC 826)\n"
        "link tx 42 bytes from 02:00:00:00:00:01 to 02:00:00:00:00:03, EtherType 0x0806 (arp): "
        "written (RFC 894)\n");
    free(t.buf);
    /* the reply the lines describe */
    uint8_t got[64];
    assert_int_equal(pop(f, got, sizeof got), 42);
    struct arp_repr r;
    assert_int_equal(arp_parse(got + 14, 28, &r), WIRE_OK);
    assert_int_equal(r.op, ARP_OP_REPLY);
    assert_int_equal(r.spa, OUR4);
    assert_int_equal(r.tpa, 0xC0000203u);

    /* the same exchange again (the sender is known now), as JSON Lines */
    f->now = 4 * SEC;
    tr_on(f, &t, TRACE_ARP, TRACE_FMT_JSON, 0);
    inject(f, fr, n);
    fx_drain(f);
    assert_string_equal(
        tr_off(f, &t),
        "{\"t\":4000000000,\"layer\":\"arp\",\"dir\":\"rx\",\"event\":\"request\",\"msg\":"
        "\"request who-has 192.0.2.1 tell 192.0.2.3 at 02:00:00:00:00:03: for us, sender's entry "
        "updated, replying (RFC 826)\",\"rfc\":\"RFC 826\",\"src\":\"192.0.2.3\",\"dst\":"
        "\"192.0.2.1\",\"mac\":\"02:00:00:00:00:03\",\"len\":28}\n"
        "{\"t\":4000000000,\"layer\":\"arp\",\"dir\":\"tx\",\"event\":\"reply\",\"msg\":\"reply "
        "192.0.2.1 is-at 02:00:00:00:00:01 to 192.0.2.3 at 02:00:00:00:00:03 (RFC 826)\","
        "\"rfc\":\"RFC 826\",\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.3\",\"mac\":"
        "\"02:00:00:00:00:01\",\"len\":28}\n");
    free(t.buf);
}

/* A datagram in: link accepts the frame, IPv4 the datagram (ours, to
 * UDP), UDP checks the checksum and delivers. */
static void test_udp4_in(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 4000, UDP_EP_V4);
    struct tr t;
    uint8_t fr[128];
    size_t n = mk_udp4(fr, 4000, 0x1234, "hello");
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    inject(f, fr, n);
    assert_string_equal(
        tr_off(f, &t),
        "link rx 47 bytes from 02:00:00:00:00:02 to 02:00:00:00:00:01 (our MAC), EtherType "
        "0x0800: to ipv4 (RFC 894)\n"
        "ipv4 rx 192.0.2.2 -> 192.0.2.1, proto 17, 33 bytes, ttl 64, id 4660: ours, to udp "
        "(RFC 1122 §3.2.1.3)\n"
        "udp rx port 5555 -> 4000, 13 bytes: checksum ok (RFC 768)\n");
    free(t.buf);
    assert_int_equal(b->calls, 1);
    assert_memory_equal(b->data, "hello", 5);

    f->now = 6 * SEC;
    tr_on(f, &t, TRACE_LINK | TRACE_IPV4 | TRACE_UDP, TRACE_FMT_JSON, 0);
    inject(f, fr, n);
    assert_string_equal(
        tr_off(f, &t),
        "{\"t\":6000000000,\"layer\":\"link\",\"dir\":\"rx\",\"event\":\"accept\",\"msg\":\"47 "
        "bytes from 02:00:00:00:00:02 to 02:00:00:00:00:01 (our MAC), EtherType 0x0800: to ipv4 "
        "(RFC 894)\",\"rfc\":\"RFC 894\",\"src\":\"02:00:00:00:00:02\",\"dst\":"
        "\"02:00:00:00:00:01\",\"rule\":\"unicast\",\"proto\":2048,\"len\":47}\n"
        "{\"t\":6000000000,\"layer\":\"ipv4\",\"dir\":\"rx\",\"event\":\"accept\",\"msg\":"
        "\"192.0.2.2 -> 192.0.2.1, proto 17, 33 bytes, ttl 64, id 4660: ours, to udp (RFC 1122 "
        "§3.2.1.3)\",\"rfc\":\"RFC 1122 §3.2.1.3\",\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\","
        "\"rule\":\"unicast\",\"proto\":17,\"len\":33,\"id\":4660,\"ttl\":64}\n"
        "{\"t\":6000000000,\"layer\":\"udp\",\"dir\":\"rx\",\"event\":\"csum\",\"msg\":\"port "
        "5555 -> 4000, 13 bytes: checksum ok (RFC 768)\",\"rfc\":\"RFC 768\",\"src\":"
        "\"192.0.2.2\",\"dst\":\"192.0.2.1\",\"rule\":\"ok\",\"len\":13,\"sport\":5555,"
        "\"dport\":4000}\n");
    free(t.buf);
    assert_int_equal(b->calls, 2);
    tep_free(f, b);
}

/* A datagram out from a wildcard socket: the source address and why, the
 * UDP header, the route, the IPv4 header, the frame.  One route line: the
 * lookup udp_send makes to pick the source is not traced (trace.h). */
static void test_udp4_out(void **state)
{
    struct fx *f = *state;
    struct tep_box *b = tep_bind(f, 4000, UDP_EP_V4);
    struct tr t;
    unsigned id = f->st->ip_id;
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    assert_int_equal(send4(f, b, "hi"), UDP_SEND_DONE);
    char want[2048];
    snprintf(want, sizeof want,
             "ipv4 tx source for 192.0.2.2: 192.0.2.1, on 192.0.2.0/24 with next hop 192.0.2.2 "
             "(RFC 1122 §3.3.4.3)\n"
             "udp tx port 4000 -> 5555, 10 bytes: checksum 0x%04x computed (RFC 768)\n"
             "ipv4 tx route to 192.0.2.2: 192.0.2.0/24 on-link, next hop 192.0.2.2 (longest match, "
             "RFC 1812 §5.2.4.3)\n"
             "ipv4 tx 192.0.2.1 -> 192.0.2.2, proto 17, 30 bytes, ttl 64, id %u: to next hop "
             "192.0.2.2 (RFC 791)\n"
             "link tx 44 bytes from 02:00:00:00:00:01 to 02:00:00:00:00:02, EtherType 0x0800 "
             "(ipv4): written (RFC 894)\n", 0xee19u, id);
    assert_string_equal(tr_off(f, &t), want);
    free(t.buf);
    /* the frame the lines describe, its checksum the one traced */
    uint8_t got[128];
    assert_int_equal(pop(f, got, sizeof got), 44);
    assert_int_equal(be16(got + 18), id);
    assert_int_equal(be16(got + 40), 0xee19);
    assert_true(udp_csum_ok_v4(got + 34, 10, OUR4, PEER4));

    f->now = 8 * SEC;
    tr_on(f, &t, TRACE_UDP | TRACE_IPV4, TRACE_FMT_JSON, 0);
    id = f->st->ip_id;
    assert_int_equal(send4(f, b, "hi"), UDP_SEND_DONE);
    fx_drain(f);
    snprintf(want, sizeof want,
             "{\"t\":8000000000,\"layer\":\"ipv4\",\"dir\":\"tx\",\"event\":\"source\",\"msg\":"
             "\"source for 192.0.2.2: 192.0.2.1, on 192.0.2.0/24 with next hop 192.0.2.2 (RFC "
             "1122 §3.3.4.3)\",\"rfc\":\"RFC 1122 §3.3.4.3\",\"src\":\"192.0.2.1\",\"dst\":"
             "\"192.0.2.2\",\"nexthop\":\"192.0.2.2\",\"route\":\"192.0.2.0/24\",\"rule\":"
             "\"next-hop subnet\"}\n"
             "{\"t\":8000000000,\"layer\":\"udp\",\"dir\":\"tx\",\"event\":\"send\",\"msg\":\"port "
             "4000 -> 5555, 10 bytes: checksum 0xee19 computed (RFC 768)\",\"rfc\":\"RFC 768\","
             "\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.2\",\"len\":10,\"sport\":4000,\"dport\":5555}\n"
             "{\"t\":8000000000,\"layer\":\"ipv4\",\"dir\":\"tx\",\"event\":\"route\",\"msg\":"
             "\"route to 192.0.2.2: 192.0.2.0/24 on-link, next hop 192.0.2.2 (longest match, RFC "
             "1812 §5.2.4.3)\",\"rfc\":\"RFC 1812 §5.2.4.3\",\"dst\":\"192.0.2.2\",\"nexthop\":"
             "\"192.0.2.2\",\"route\":\"192.0.2.0/24\"}\n"
             "{\"t\":8000000000,\"layer\":\"ipv4\",\"dir\":\"tx\",\"event\":\"send\",\"msg\":"
             "\"192.0.2.1 -> 192.0.2.2, proto 17, 30 bytes, ttl 64, id %u: to next hop 192.0.2.2 "
             "(RFC 791)\",\"rfc\":\"RFC 791\",\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.2\","
             "\"nexthop\":\"192.0.2.2\",\"proto\":17,\"len\":30,\"id\":%u,\"ttl\":64}\n", id, id);
    assert_string_equal(tr_off(f, &t), want);
    free(t.buf);
    tep_free(f, b);
}

/* The same over IPv6: RFC 6724 picks the source (the rule in "rule"), then
 * the UDP header, the route, the IPv6 header, the frame; and a datagram
 * in, through link, IPv6 and UDP. */
static void test_udp6_out_and_in(void **state)
{
    struct fx *f = *state;
    struct tr t;
    struct tep_box *b = tep_bind(f, 4000, UDP_EP_V6);
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    assert_int_equal(send6(f, b, PEER6, 5555, "hi", 2, false), UDP_SEND_DONE);
    uint8_t got[256];
    assert_int_equal(pop(f, got, sizeof got), 64);
    assert_int_equal(be16(got + 60), 0x16a9); /* the checksum traced below */
    assert_true(udp_csum_ok_v6(got + 54, 10, OUR6, PEER6));
    uint8_t fr[256];
    size_t n = mk_udp_frame6(fr, our_mac, OUR6, 4000, 64, "yo", 2);
    inject(f, fr, n);
    assert_int_equal(b->calls, 1);
    assert_string_equal(
        tr_off(f, &t),
        "ipv6 tx source for 2001:db8::2: 2001:db8::1 (RFC 6724 rule 2: appropriate scope)\n"
        "udp tx port 4000 -> 5555, 10 bytes: checksum 0x16a9 computed (RFC 8200 §8.1)\n"
        "ipv6 tx route to 2001:db8::2: longest match 2001:db8::/64, next hop 2001:db8::2 "
        "(RFC 4861 §5.2)\n"
        "ipv6 tx 2001:db8::1 -> 2001:db8::2, next header 17, 50 bytes, hop limit 64: to next hop "
        "2001:db8::2 (RFC 8200)\n"
        "link tx 64 bytes from 02:00:00:00:00:01 to 02:00:00:00:00:02, EtherType 0x86dd (ipv6): "
        "written (RFC 894)\n"
        "link rx 64 bytes from 02:00:00:00:00:02 to 02:00:00:00:00:01 (our MAC), EtherType "
        "0x86dd: to ipv6 (RFC 894)\n"
        "ipv6 rx 2001:db8::2 -> 2001:db8::1, next header 17, 50 bytes, hop limit 64: ours, to udp "
        "(RFC 8200)\n"
        "udp rx port 5555 -> 4000, 10 bytes: checksum ok (RFC 8200 §8.1)\n");
    free(t.buf);

    f->now = 9 * SEC;
    tr_on(f, &t, TRACE_IPV6, TRACE_FMT_JSON, 0);
    assert_int_equal(send6(f, b, PEER6, 5555, "hi", 2, false), UDP_SEND_DONE);
    fx_drain(f);
    assert_string_equal(
        tr_off(f, &t),
        "{\"t\":9000000000,\"layer\":\"ipv6\",\"dir\":\"tx\",\"event\":\"source\",\"msg\":"
        "\"source for 2001:db8::2: 2001:db8::1 (RFC 6724 rule 2: appropriate scope)\",\"rfc\":"
        "\"RFC 6724 §5\",\"src\":\"2001:db8::1\",\"dst\":\"2001:db8::2\",\"rule\":\"2\"}\n"
        "{\"t\":9000000000,\"layer\":\"ipv6\",\"dir\":\"tx\",\"event\":\"route\",\"msg\":"
        "\"route to 2001:db8::2: longest match 2001:db8::/64, next hop 2001:db8::2 (RFC 4861 "
        "§5.2)\",\"rfc\":\"RFC 4861 §5.2\",\"dst\":\"2001:db8::2\",\"nexthop\":\"2001:db8::2\","
        "\"route\":\"2001:db8::/64\"}\n"
        "{\"t\":9000000000,\"layer\":\"ipv6\",\"dir\":\"tx\",\"event\":\"send\",\"msg\":"
        "\"2001:db8::1 -> 2001:db8::2, next header 17, 50 bytes, hop limit 64: to next hop "
        "2001:db8::2 (RFC 8200)\",\"rfc\":\"RFC 8200\",\"src\":\"2001:db8::1\",\"dst\":"
        "\"2001:db8::2\",\"proto\":17,\"len\":50,\"ttl\":64}\n");
    free(t.buf);
    tep_free(f, b);
}

/* A datagram to a closed port: ICMP decides to send port unreachable,
 * IPv4 and link carry it, and UDP's drop names its counter and rule. */
static void test_drop_closed_port(void **state)
{
    struct fx *f = *state;
    struct tr t;
    uint8_t fr[128];
    size_t n = mk_udp4(fr, 4999, 7, "x");
    unsigned id = f->st->ip_id;
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    inject(f, fr, n);
    uint8_t got[128];
    assert_int_equal(pop(f, got, sizeof got), 14 + 20 + 8 + 29);
    assert_int_equal(got[34], ICMP_DEST_UNREACH);
    assert_int_equal(got[35], ICMP_UNREACH_PORT);
    char want[2048];
    snprintf(want, sizeof want,
             "link rx 43 bytes from 02:00:00:00:00:02 to 02:00:00:00:00:01 (our MAC), EtherType "
             "0x0800: to ipv4 (RFC 894)\n"
             "ipv4 rx 192.0.2.2 -> 192.0.2.1, proto 17, 29 bytes, ttl 64, id 7: ours, to udp "
             "(RFC 1122 §3.2.1.3)\n"
             "udp rx port 5555 -> 4999, 9 bytes: checksum ok (RFC 768)\n"
             "icmp tx error type 3 code 3 to 192.0.2.2 from 192.0.2.1, quoting 29 bytes (RFC 792, "
             "RFC 1812 §4.3.2.3)\n"
             "ipv4 tx route to 192.0.2.2: 192.0.2.0/24 on-link, next hop 192.0.2.2 (longest match, "
             "RFC 1812 §5.2.4.3)\n"
             "ipv4 tx 192.0.2.1 -> 192.0.2.2, proto 1, 57 bytes, ttl 64, id %u: to next hop "
             "192.0.2.2 (RFC 791)\n"
             "link tx 71 bytes from 02:00:00:00:00:01 to 02:00:00:00:00:02, EtherType 0x0800 "
             "(ipv4): written (RFC 894)\n"
             "udp rx drop UdpNoPorts: no socket on the port (RFC 1122 §4.1.3.1)\n", id);
    assert_string_equal(tr_off(f, &t), want);
    free(t.buf);
    assert_int_equal(CNT(f->st, UdpNoPorts), 1);

    f->now = 10 * SEC;
    tr_on(f, &t, TRACE_UDP, TRACE_FMT_JSON, 0);
    inject(f, fr, n);
    fx_drain(f);
    assert_string_equal(
        tr_off(f, &t),
        "{\"t\":10000000000,\"layer\":\"udp\",\"dir\":\"rx\",\"event\":\"csum\",\"msg\":\"port "
        "5555 -> 4999, 9 bytes: checksum ok (RFC 768)\",\"rfc\":\"RFC 768\",\"src\":"
        "\"192.0.2.2\",\"dst\":\"192.0.2.1\",\"rule\":\"ok\",\"len\":9,\"sport\":5555,"
        "\"dport\":4999}\n"
        "{\"t\":10000000000,\"layer\":\"udp\",\"dir\":\"rx\",\"event\":\"drop\",\"msg\":\"drop "
        "UdpNoPorts: no socket on the port (RFC 1122 §4.1.3.1)\",\"counter\":\"UdpNoPorts\","
        "\"rfc\":\"RFC 1122 §4.1.3.1\"}\n");
    free(t.buf);
    assert_int_equal(CNT(f->st, UdpNoPorts), 2);
}

/* ND: a Neighbor Solicitation for our address says what was decided (the
 * sender learnt, a solicited NA), then the NA goes out. */
static void test_ns_in_na_out(void **state)
{
    struct fx *f = *state;
    static const uint8_t P4[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x04};
    static const uint8_t mac4[6] = {2, 0, 0, 0, 0, 4};
    uint8_t m[64], fr[256], sn[16];
    /* NS for 2001:db8::1 from 2001:db8::4 with its SLLA (RFC 4861 §4.3) */
    memset(m, 0, sizeof m);
    m[0] = ICMPV6_ND_NS;
    memcpy(m + 8, OUR6, 16);
    m[24] = 1;
    m[25] = 1;
    memcpy(m + 26, mac4, 6);
    ipv6_solicited_node(OUR6, sn);
    icmpv6_csum_fill(m, 32, P4, sn);
    uint8_t ethdst[6] = {0x33, 0x33, 0xff, 0, 0, 1};
    size_t n = mk_eth6(fr, ethdst, mac4);
    n += mk_ip6(fr + n, P4, sn, IP_PROTO_ICMPV6, 255, m, 32);
    struct tr t;
    tr_on(f, &t, TRACE_ND, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    inject(f, fr, n);
    fx_drain(f);
    assert_string_equal(
        tr_off(f, &t),
        "nd rx NS for 2001:db8::1 from 2001:db8::4: ours, sender's address learnt, answering "
        "with a solicited NA (RFC 4861 §7.2.3, §7.2.4)\n"
        "nd - NUD 2001:db8::4: NONE -> STALE (RFC 4861 §7.2.3)\n"
        "nd tx NA 2001:db8::1 is-at 02:00:00:00:00:01 to 2001:db8::4 (S=1 O=1, RFC 4861 §7.2.4)\n"
        "nd - NUD 2001:db8::4: STALE -> DELAY (RFC 4861 §7.3.3)\n");
    free(t.buf);
}

/* NUD: a send to an unknown IPv6 neighbour creates an INCOMPLETE entry. */
static void test_nud_state_change_json(void **state)
{
    struct fx *f = *state;
    struct tr t;
    static const uint8_t P3[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x03};
    struct tep_box *b = tep_bind(f, 4001, UDP_EP_V6);
    f->now = 5 * SEC;
    tr_on(f, &t, TRACE_ND, TRACE_FMT_JSON, 0);
    assert_int_equal(send6(f, b, P3, 5555, "hi", 2, false), UDP_SEND_QUEUED);
    fx_drain(f);
    const char *s = tr_off(f, &t);
    const char *want =
        "{\"t\":5000000000,\"layer\":\"nd\",\"dir\":\"-\",\"event\":\"nud\","
        "\"msg\":\"NUD 2001:db8::3: NONE -> INCOMPLETE (RFC 4861 §7.2.2)\","
        "\"rfc\":\"RFC 4861 §7.2.2\",\"dst\":\"2001:db8::3\",\"from\":\"NONE\","
        "\"to\":\"INCOMPLETE\"}\n";
    assert_memory_equal(s, want, strlen(want));
    free(t.buf);
    /* let the resolution fail (3 NS, RFC 4861 §7.2.2) so the packet is freed */
    for (int i = 0; i < 5; i++) {
        f->now += SEC;
        stack_poll(f->st, f->now);
    }
    fx_drain(f);
    assert_int_equal(CNT(f->st, NdResolveFailed), 1);
    tep_free(f, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping4_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping4_json_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_checksum_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping6_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_request_in_reply_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp4_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp4_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp6_out_and_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_closed_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ns_in_na_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_state_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nud_state_change_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
