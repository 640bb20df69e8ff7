/* SPDX-License-Identifier: MIT */
/*
 * test_tool_wskping.c - the wsk-ping tool (tools/wsk-ping.c) run as a
 * program (${WSKSTACK_BIN}/tools/wsk-ping) against the Linux kernel, in a
 * private network namespace:
 *
 *     kernel 192.0.2.1/24, 2001:db8::1/64  <== TAP wpt0 ==>  stack .2 / ::2
 *
 * Output lines are compared with iputils ping's format (regular
 * expressions only where times appear), exit codes exactly, and the
 * stack's counters (--counters) and the kernel's (/proc/net/snmp) exactly.
 * The --pcap captures of an IPv4 and an IPv6 run are read with tshark:
 * every IPv4, ICMP and ICMPv6 checksum good, exactly the echo requests
 * sent and the kernel's replies.
 * Every run has -c and is killed at a deadline; documentation addresses only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "tool_run.h"

#define CFG4 "--tap=wpt0", "--addr=192.0.2.2/24", "--host-addr=192.0.2.1/24"
#define CFG6 "--tap=wpt0", "--addr=2001:db8::2/64", "--host-addr=2001:db8::1/64"
#define TIME_RE "time=[0-9]+(\\.[0-9]{1,3})? ms"
#define RTT_RE "^rtt min/avg/max/mdev = [0-9]+\\.[0-9]{3}/[0-9]+\\.[0-9]{3}/[0-9]+\\.[0-9]{3}/" \
               "[0-9]+\\.[0-9]{3} ms$"

static void line_is(const char *text, unsigned i, const char *want)
{
    char buf[512];
    assert_true(tr_line(text, i, buf, sizeof buf));
    assert_string_equal(buf, want);
}

static void line_matches(const char *text, unsigned i, const char *ere)
{
    char buf[512];
    assert_true(tr_line(text, i, buf, sizeof buf));
    if (!tr_match(buf, ere))
        fail_msg("line %u \"%s\" does not match /%s/", i, buf, ere);
}

/* tshark on a capture: every checksum it verifies is good, and the
 * requests and replies filters each match exactly n frames. */
static void expect_tshark(const char *pcap, const char *requests, const char *replies, int n)
{
    char why[256];
    int verified = tr_tshark_checksums(pcap, why, sizeof why);
    if (verified < 0)
        fail_msg("%s: %s", pcap, why);
    assert_true(verified >= 2 * n); /* at least the ICMP(v6) checksum of each echo */
    assert_int_equal(tr_tshark_count(pcap, requests), n);
    assert_int_equal(tr_tshark_count(pcap, replies), n);
}

/* -c 3 to the kernel over IPv4: 3 replies, ping's lines, counters. */
static void test_ping4(void **state)
{
    (void)state;
    int64_t in0 = lk_snmp("Icmp", "InEchos"), out0 = lk_snmp("Icmp", "OutEchoReps");
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG4, "--counters", "-c", "3", "-i", "0.2",
                    "192.0.2.1", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 0);
    assert_int_equal(tr_nlines(t.out), 8);
    line_is(t.out, 0, "PING 192.0.2.1 (192.0.2.1) 56(84) bytes of data.");
    line_matches(t.out, 1, "^64 bytes from 192\\.0\\.2\\.1: icmp_seq=1 ttl=64 " TIME_RE "$");
    line_matches(t.out, 2, "^64 bytes from 192\\.0\\.2\\.1: icmp_seq=2 ttl=64 " TIME_RE "$");
    line_matches(t.out, 3, "^64 bytes from 192\\.0\\.2\\.1: icmp_seq=3 ttl=64 " TIME_RE "$");
    line_is(t.out, 4, "");
    line_is(t.out, 5, "--- 192.0.2.1 ping statistics ---");
    line_matches(t.out, 6, "^3 packets transmitted, 3 received, 0% packet loss, time [0-9]+ms$");
    line_matches(t.out, 7, RTT_RE);
    assert_true(tr_counter_is(t.err, "IcmpOutEchos", 3));
    assert_true(tr_counter_is(t.err, "IcmpInEchoReps", 3));
    assert_int_equal(lk_snmp("Icmp", "InEchos") - in0, 3);
    assert_int_equal(lk_snmp("Icmp", "OutEchoReps") - out0, 3);
}

/* -c 3 to the kernel over IPv6 (ping -6's format). */
static void test_ping6(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG6, "--counters", "-c", "3", "-i", "0.2",
                    "2001:db8::1", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 0);
    assert_int_equal(tr_nlines(t.out), 8);
    line_is(t.out, 0, "PING 2001:db8::1(2001:db8::1) 56 data bytes");
    line_matches(t.out, 1, "^64 bytes from 2001:db8::1: icmp_seq=1 ttl=64 " TIME_RE "$");
    line_matches(t.out, 2, "^64 bytes from 2001:db8::1: icmp_seq=2 ttl=64 " TIME_RE "$");
    line_matches(t.out, 3, "^64 bytes from 2001:db8::1: icmp_seq=3 ttl=64 " TIME_RE "$");
    line_is(t.out, 4, "");
    line_is(t.out, 5, "--- 2001:db8::1 ping statistics ---");
    line_matches(t.out, 6, "^3 packets transmitted, 3 received, 0% packet loss, time [0-9]+ms$");
    line_matches(t.out, 7, RTT_RE);
    assert_true(tr_counter_is(t.err, "Icmp6OutEchos", 3));
    assert_true(tr_counter_is(t.err, "Icmp6InEchoReplies", 3));
}

/* -s 2000: fragmented both ways (the stack fragments the request, the
 * kernel reassembles it, fragments its reply, the stack reassembles). */
static void test_ping4_fragmented(void **state)
{
    (void)state;
    int64_t r0 = lk_snmp("Ip", "ReasmOKs"), f0 = lk_snmp("Ip", "FragOKs");
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG4, "--counters", "-c", "2", "-i", "0.2",
                    "-s", "2000", "192.0.2.1", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 0);
    line_is(t.out, 0, "PING 192.0.2.1 (192.0.2.1) 2000(2028) bytes of data.");
    line_matches(t.out, 1, "^2008 bytes from 192\\.0\\.2\\.1: icmp_seq=1 ttl=64 " TIME_RE "$");
    line_matches(t.out, 2, "^2008 bytes from 192\\.0\\.2\\.1: icmp_seq=2 ttl=64 " TIME_RE "$");
    line_matches(t.out, 5, "^2 packets transmitted, 2 received, 0% packet loss, time [0-9]+ms$");
    assert_true(tr_counter_is(t.err, "IpFragOKs", 2));
    assert_true(tr_counter_is(t.err, "IpFragCreates", 4));
    assert_true(tr_counter_is(t.err, "IpReasmOKs", 2));
    assert_int_equal(lk_snmp("Ip", "ReasmOKs") - r0, 2);
    assert_int_equal(lk_snmp("Ip", "FragOKs") - f0, 2);
}

static void test_ping6_fragmented(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG6, "--counters", "-c", "2", "-i", "0.2",
                    "-s", "2000", "2001:db8::1", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 0);
    line_is(t.out, 0, "PING 2001:db8::1(2001:db8::1) 2000 data bytes");
    line_matches(t.out, 1, "^2008 bytes from 2001:db8::1: icmp_seq=1 ttl=64 " TIME_RE "$");
    line_matches(t.out, 2, "^2008 bytes from 2001:db8::1: icmp_seq=2 ttl=64 " TIME_RE "$");
    assert_true(tr_counter_is(t.err, "Ip6FragCreates", 4));
    assert_true(tr_counter_is(t.err, "Ip6ReasmOKs", 2));
}

/* An absent host: resolution fails, shown as ping shows the kernel's own
 * "Destination Host Unreachable"; 100% loss, exit 1. */
static void test_ping4_absent(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG4, "-c", "2", "-i", "0.5", "-W", "6",
                    "192.0.2.99", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 1);
    assert_int_equal(tr_nlines(t.out), 6);
    line_is(t.out, 0, "PING 192.0.2.99 (192.0.2.99) 56(84) bytes of data.");
    line_is(t.out, 1, "From 192.0.2.2 icmp_seq=1 Destination Host Unreachable");
    line_is(t.out, 2, "From 192.0.2.2 icmp_seq=2 Destination Host Unreachable");
    line_is(t.out, 3, "");
    line_is(t.out, 4, "--- 192.0.2.99 ping statistics ---");
    line_matches(t.out, 5, "^2 packets transmitted, 0 received, \\+2 errors, 100% packet loss, "
                           "time [0-9]+ms$");
}

static void test_ping6_absent(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG6, "-c", "1", "-W", "6", "2001:db8::99",
                    NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 1);
    line_is(t.out, 1, "From 2001:db8::2 icmp_seq=1 Destination unreachable: Address unreachable");
    line_matches(t.out, 4, "^1 packets transmitted, 0 received, \\+1 errors, 100% packet loss, "
                           "time [0-9]+ms$");
}

/* An ICMP error from the kernel about our echo: the kernel (a router here,
 * with forwarding on and no route for 198.51.100.0/24) answers "Destination
 * Net Unreachable" from 192.0.2.1, shown as ping shows it.  A -W 1 run with
 * no reply at all is 100% loss and exit 1 too. */
static void test_ping4_icmp_error(void **state)
{
    (void)state;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
    assert_non_null(f);
    fputs("1\n", f);
    fclose(f);
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG4, "--gateway=192.0.2.1", "-c", "1", "-W",
                    "2", "198.51.100.7", NULL};
    struct tr t;
    int rc = tr_run(&t, argv, NULL, 20000);
    f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
    assert_non_null(f);
    fputs("0\n", f);
    fclose(f);
    assert_int_equal(rc, 1);
    line_is(t.out, 0, "PING 198.51.100.7 (198.51.100.7) 56(84) bytes of data.");
    line_is(t.out, 1, "From 192.0.2.1 icmp_seq=1 Destination Net Unreachable");
    line_matches(t.out, 4, "^1 packets transmitted, 0 received, \\+1 errors, 100% packet loss, "
                           "time [0-9]+ms$");
}

/* --trace=arp,icmp explains the ARP resolution and the echo reply on stderr
 * (text format: "<time> <layer> <dir> <message>"), and only those layers;
 * --pcap writes a capture file with every frame (ARP request and reply,
 * echo request and reply: 4 frames, checked by size). */
static void test_ping4_trace_pcap(void **state)
{
    (void)state;
    char pcap[] = "/tmp/wskping-pcap-XXXXXX";
    int fd = mkstemp(pcap);
    assert_true(fd >= 0);
    close(fd);
    char pcap_opt[64];
    snprintf(pcap_opt, sizeof pcap_opt, "--pcap=%s", pcap);
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG4, "--trace=arp,icmp", pcap_opt, "-c", "1",
                    "192.0.2.1", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 0);
    assert_non_null(strstr(t.err, " arp - 192.0.2.1: NONE -> INCOMPLETE (RFC 1122 \xc2\xa7" "2.3.2.2)\n"));
    assert_non_null(strstr(t.err, " arp - 192.0.2.1: INCOMPLETE -> REACHABLE (RFC 826)\n"));
    assert_non_null(strstr(t.err, " icmp rx type 0 code 0: checksum ok (RFC 792)\n"));
    /* only the layers asked for: no udp/ipv4/ipv6/nd lines */
    assert_null(strstr(t.err, " udp "));
    assert_null(strstr(t.err, " ipv4 "));
    assert_null(strstr(t.err, " nd "));
    /* the capture: a pcap header, then at least the 4 frames of the exchange */
    FILE *f = fopen(pcap, "rb");
    assert_non_null(f);
    unsigned char hdr[24];
    assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
    /* nanosecond-resolution pcap magic 0xa1b23c4d (either byte order) */
    assert_true((hdr[0] == 0x4d && hdr[1] == 0x3c && hdr[2] == 0xb2 && hdr[3] == 0xa1) ||
                (hdr[0] == 0xa1 && hdr[1] == 0xb2 && hdr[2] == 0x3c && hdr[3] == 0x4d));
    unsigned frames = 0;
    unsigned char rec[16];
    while (fread(rec, 1, sizeof rec, f) == sizeof rec) {
        unsigned incl = hdr[0] == 0x4d ? (unsigned)rec[8] | (unsigned)rec[9] << 8 |
                                             (unsigned)rec[10] << 16 | (unsigned)rec[11] << 24
                                       : (unsigned)rec[11] | (unsigned)rec[10] << 8 |
                                             (unsigned)rec[9] << 16 | (unsigned)rec[8] << 24;
        assert_true(incl >= 14 && incl <= 1514);
        assert_int_equal(fseek(f, (long)incl, SEEK_CUR), 0);
        frames++;
    }
    fclose(f);
    assert_true(frames >= 4);
    expect_tshark(pcap, "icmp.type == 8 && ip.src == 192.0.2.2 && ip.dst == 192.0.2.1",
                  "icmp.type == 0 && ip.src == 192.0.2.1 && ip.dst == 192.0.2.2", 1);
    unlink(pcap);
}

/* --pcap over IPv6 (-c 2): tshark finds every checksum good (the ICMPv6
 * ones of the echoes, the DAD and Neighbor Discovery messages) and the 2
 * requests and 2 replies. */
static void test_ping6_pcap(void **state)
{
    (void)state;
    char pcap[] = "/tmp/wskping-pcap6-XXXXXX";
    int fd = mkstemp(pcap);
    assert_true(fd >= 0);
    close(fd);
    char pcap_opt[64];
    snprintf(pcap_opt, sizeof pcap_opt, "--pcap=%s", pcap);
    char *argv[] = {(char *)tr_tool("wsk-ping"), CFG6, pcap_opt, "-c", "2", "-i", "0.2",
                    "2001:db8::1", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 0);
    expect_tshark(pcap, "icmpv6.type == 128 && ipv6.src == 2001:db8::2 && ipv6.dst == 2001:db8::1",
                  "icmpv6.type == 129 && ipv6.src == 2001:db8::1 && ipv6.dst == 2001:db8::2", 2);
    unlink(pcap);
}

static void test_usage(void **state)
{
    (void)state;
    struct tr t;
    char *help[] = {(char *)tr_tool("wsk-ping"), "--help", NULL};
    assert_int_equal(tr_run(&t, help, NULL, 5000), 0);
    assert_non_null(strstr(t.out, "Exit status:"));
    assert_non_null(strstr(t.out, "-W, --timeout S"));
    char *none[] = {(char *)tr_tool("wsk-ping"), NULL};
    assert_int_equal(tr_run(&t, none, NULL, 5000), 2);
    char *name[] = {(char *)tr_tool("wsk-ping"), "-c", "1", "example.org", NULL};
    assert_int_equal(tr_run(&t, name, NULL, 5000), 2);
    assert_non_null(strstr(t.err, "example.org: not a numeric IPv4 or IPv6 address"));
    char *noroute[] = {(char *)tr_tool("wsk-ping"), CFG4, "-c", "1", "203.0.113.1", NULL};
    assert_int_equal(tr_run(&t, noroute, NULL, 10000), 2);
    assert_string_equal(t.err, "wsk-ping: connect: Network is unreachable\n");
    assert_int_equal(t.out_len, 0); /* like iputils: no PING line */
}

int main(void)
{
    if (tu_enter_netns() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ping4, tr_reap_all),
        cmocka_unit_test_teardown(test_ping6, tr_reap_all),
        cmocka_unit_test_teardown(test_ping4_fragmented, tr_reap_all),
        cmocka_unit_test_teardown(test_ping6_fragmented, tr_reap_all),
        cmocka_unit_test_teardown(test_ping4_absent, tr_reap_all),
        cmocka_unit_test_teardown(test_ping6_absent, tr_reap_all),
        cmocka_unit_test_teardown(test_ping4_icmp_error, tr_reap_all),
        cmocka_unit_test_teardown(test_ping4_trace_pcap, tr_reap_all),
        cmocka_unit_test_teardown(test_ping6_pcap, tr_reap_all),
        cmocka_unit_test_teardown(test_usage, tr_reap_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
