/* SPDX-License-Identifier: MIT */
/*
 * test_tool_peers_ping.c - the kernel's own ping (iputils) against a stack
 * held up by `wskcat listen`, over IPv4 and IPv6, in a private network
 * namespace:
 *
 *     kernel side of TAP wpq0                  wskcat -c 1 listen PORT
 *     192.0.2.1/24                             192.0.2.2/24
 *     2001:db8::1/64, fe80::1/64 (nodad)       2001:db8::2/64, fe80::5eff:fe00:5302
 *     ping -c 3 / ping -6 -c 3 (+ -c 2 to the link-local)
 *     socat: the one datagram that ends the listen
 *
 * Right after wskcat's ready byte (no sleep) the kernel pings the stack;
 * ping's summary must be "N packets transmitted, N received, 0% packet
 * loss".  A datagram from socat then ends the listen, and the counters
 * wskcat prints at exit (--counters, nstat -j JSON) must equal what was
 * sent: IcmpInEchos = IcmpOutEchoReps = N and UdpInDatagrams = 1 (IPv6:
 * Icmp6InEchos, Icmp6OutEchoReplies, Udp6InDatagrams).  The --pcap
 * capture is read with tshark: every checksum good, exactly N echo
 * requests and N replies, one UDP datagram.  With --trace=irp, the idle
 * listen through all the pings shows ONE WskReceiveFrom request, never
 * cancelled (wskcat waits on its event in slices).
 *
 * Every program is bounded (ping -c/-W, wskcat -c/-t, tr_wait's deadline);
 * documentation and link-local addresses only.
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

#define TAP "wpq0"
#define SLL "fe80::5eff:fe00:5302" /* the stack's link-local: EUI-64 of its MAC */
#define CFG                                                                                \
    "--tap=" TAP, "--mac=02:00:5e:00:53:02", "--addr=192.0.2.2/24", "--host-addr=192.0.2.1/24", \
        "--addr=2001:db8::2/64", "--host-addr=2001:db8::1/64", "--host-addr=fe80::1/64"

static char g_pcap[64]; /* the current test's capture: removed by teardown */
static char g_socat[4096], g_ping[4096];

/* ping -c n -i 0.2 -W 2 [-6] dst: exit 0 and the summary line exact up to
 * the time. */
static void kernel_ping(const char *fam, const char *dst, unsigned n)
{
    static struct tr p;
    char count[16], ere[160], line[256];
    snprintf(count, sizeof count, "%u", n);
    char *argv[] = {g_ping, (char *)fam, "-n", "-c", count, "-i", "0.2", "-W", "2",
                    (char *)dst, NULL};
    int rc = tr_run(&p, argv, NULL, 20000);
    if (rc != 0)
        fail_msg("ping %s %s: exit %d\n%s%s", fam, dst, rc, p.out, p.err);
    snprintf(ere, sizeof ere,
             "^%u packets transmitted, %u received, 0%% packet loss, time [0-9]+ms$", n, n);
    bool found = false;
    for (unsigned i = 0; tr_line(p.out, i, line, sizeof line) && !found; i++)
        found = tr_match(line, ere);
    if (!found)
        fail_msg("ping %s %s: no line /%s/ in\n%s", fam, dst, ere, p.out);
}

/* The pcap's checksums are all good and `filter` matches exactly want
 * frames. */
static void cap_expect(const char *pcap, const char *filter, int want)
{
    int n = tr_tshark_count(pcap, filter);
    if (n != want)
        fail_msg("%s: %d frames match \"%s\", want %d", pcap, n, filter, want);
}

static void cap_checksums(const char *pcap, int at_least)
{
    char why[256];
    int verified = tr_tshark_checksums(pcap, why, sizeof why);
    if (verified < 0)
        fail_msg("%s: %s", pcap, why);
    if (verified < at_least)
        fail_msg("%s: only %d checksums verified, want >= %d", pcap, verified, at_least);
}

/* The listen that holds the stack up: --pcap, --counters, --trace=irp,
 * one datagram (-c 1) or 30 s. */
static void listen_up(struct tr *w, const char *fam, const char *port, const char *pcap_opt)
{
    char *argv[] = {(char *)tr_tool("wskcat"), CFG, (char *)pcap_opt, "--counters",
                    "--trace=irp", "--ready-fd", "3", (char *)fam, "-c", "1", "-t", "30",
                    "listen", (char *)port, NULL};
    assert_int_equal(tr_start(w, argv, NULL, true), 0);
    if (tr_wait_ready(w, 15000) != 1) {
        tr_wait(w, 5000);
        fail_msg("wskcat was not ready: %s", w->err);
    }
}

/* The datagram that ends the listen, and wskcat's exit: its line, and one
 * receive request for the whole run, never cancelled. */
static void listen_end(struct tr *w, const char *to, const char *want_line)
{
    static struct tr k;
    char *argv[] = {g_socat, "-u", "-", (char *)to, NULL};
    if (tr_run(&k, argv, "done", 5000) != 0)
        fail_msg("socat %s: exit %d: %s", to, k.status, k.err);
    assert_int_equal(tr_wait(w, 10000), 0);
    assert_string_equal(w->out, want_line);
    assert_int_equal(tr_count(w->err, " irp - issued WskReceiveFrom "), 1);
    assert_int_equal(tr_count(w->err, "STATUS_CANCELLED"), 0);
}

static void pcap_new(char path[64], char opt[96])
{
    snprintf(path, 64, "/tmp/wss-peers-ping-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(opt, 96, "--pcap=%s", path);
    snprintf(g_pcap, sizeof g_pcap, "%s", path);
}

/* ping -c 3 192.0.2.2 from the kernel. */
static void test_kernel_ping4(void **state)
{
    (void)state;
    char pcap[64], opt[96];
    pcap_new(pcap, opt);
    static struct tr w;
    listen_up(&w, "-4", "7401", opt);
    kernel_ping("-4", "192.0.2.2", 3);
    listen_end(&w, "UDP4-SENDTO:192.0.2.2:7401,sourceport=7402", "192.0.2.1:7402 done\n");
    assert_true(tr_counter_is(w.err, "IcmpInEchos", 3));
    assert_true(tr_counter_is(w.err, "IcmpOutEchoReps", 3));
    assert_true(tr_counter_is(w.err, "UdpInDatagrams", 1));
    cap_checksums(pcap, 3 * 2 * 2 + 2); /* IPv4 header + ICMP of 6 frames, IP + UDP */
    cap_expect(pcap, "icmp.type == 8 && ip.src == 192.0.2.1 && ip.dst == 192.0.2.2", 3);
    cap_expect(pcap, "icmp.type == 0 && ip.src == 192.0.2.2 && ip.dst == 192.0.2.1", 3);
    cap_expect(pcap, "icmp", 6);
    cap_expect(pcap, "udp.dstport == 7401", 1);
    unlink(pcap);
}

/* ping -6 -c 3 2001:db8::2 and ping -6 -c 2 to the stack's link-local. */
static void test_kernel_ping6(void **state)
{
    (void)state;
    char pcap[64], opt[96];
    pcap_new(pcap, opt);
    static struct tr w;
    listen_up(&w, "-6", "7411", opt);
    kernel_ping("-6", "2001:db8::2", 3);
    kernel_ping("-6", SLL "%" TAP, 2);
    listen_end(&w, "UDP6-SENDTO:[2001:db8::2]:7411,sourceport=7412", "[2001:db8::1]:7412 done\n");
    assert_true(tr_counter_is(w.err, "Icmp6InEchos", 5));
    assert_true(tr_counter_is(w.err, "Icmp6OutEchoReplies", 5));
    assert_true(tr_counter_is(w.err, "Udp6InDatagrams", 1));
    cap_checksums(pcap, 5 * 2 + 1);
    cap_expect(pcap, "icmpv6.type == 128 && ipv6.src == 2001:db8::1 && ipv6.dst == 2001:db8::2", 3);
    cap_expect(pcap, "icmpv6.type == 129 && ipv6.src == 2001:db8::2 && ipv6.dst == 2001:db8::1", 3);
    cap_expect(pcap, "icmpv6.type == 128 && ipv6.dst == " SLL, 2);
    cap_expect(pcap, "icmpv6.type == 129 && ipv6.src == " SLL, 2);
    cap_expect(pcap, "udp.dstport == 7411", 1);
    unlink(pcap);
}

/* After each test, passed or failed: its children ended, its capture gone. */
static int teardown(void **state)
{
    tr_reap_all(state);
    if (g_pcap[0])
        unlink(g_pcap);
    g_pcap[0] = '\0';
    return 0;
}

int main(void)
{
    if (tu_enter_netns() != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    const char *s = tr_prog("socat");
    if (s != NULL)
        snprintf(g_socat, sizeof g_socat, "%s", s); /* tr_prog reuses its buffer */
    const char *p = tr_prog("ping");
    if (p != NULL)
        snprintf(g_ping, sizeof g_ping, "%s", p);
    if (s == NULL || p == NULL || tr_prog("tshark") == NULL) {
        fprintf(stderr, "socat, ping and tshark are needed (tools/bootstrap.sh)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kernel_ping4, teardown),
        cmocka_unit_test_teardown(test_kernel_ping6, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
