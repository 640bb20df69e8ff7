/* SPDX-License-Identifier: MIT */
/*
 * test_tool_peers_udp.c - wskcat (tools/wskcat.c) against a REAL kernel-side
 * peer program, socat, over IPv4, IPv6 and IPv6 link-local, in a private
 * network namespace:
 *
 *     kernel side of TAP wpp0                  wskcat (the stack)
 *     192.0.2.1/24                             192.0.2.2/24
 *     2001:db8::1/64, fe80::1/64 (nodad)       2001:db8::2/64
 *     socat UDP4-RECV / UDP6-RECV              fe80::5eff:fe00:5302 (MAC
 *     socat UDP4-SENDTO / UDP6-SENDTO            02:00:5e:00:53:02, EUI-64)
 *     socat UDP4 / UDP6 (echo client)
 *
 * send: socat -d -d -u UDPx-RECV:PORT - writes the datagrams' bytes, back
 * to back, on stdout and one "received packet with N bytes from ADDR:PORT"
 * notice per datagram on stderr: together they give every datagram's exact
 * bytes, boundaries and source.  listen: socat sends right after wskcat's
 * ready byte (no sleep), and wskcat's output lines are compared exactly.
 * echo: socat, with its stdin kept open, sends one datagram per write and
 * must read each echo back before the next.
 *
 * Every run also writes --pcap and --counters: tshark must find every
 * checksum good and exactly the UDP frames exchanged, and the counters
 * must equal the datagrams sent.  Every program is bounded (wskcat by
 * --count/--timeout, socat by a signal, all by tr_wait's deadline); only
 * documentation addresses are used.
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

#define TAP "wpp0"
#define SLL "fe80::5eff:fe00:5302"   /* the stack's link-local: EUI-64 of its MAC */
#define SLL_SOCAT "[fe80:0000:0000:0000:0000:5eff:fe00:5302]" /* as socat prints it */
#define SA6_SOCAT "[2001:0db8:0000:0000:0000:0000:0000:0002]"
#define CFG                                                                                \
    "--tap=" TAP, "--mac=02:00:5e:00:53:02", "--addr=192.0.2.2/24", "--host-addr=192.0.2.1/24", \
        "--addr=2001:db8::2/64", "--host-addr=2001:db8::1/64", "--host-addr=fe80::1/64"

/* The lines wskcat send turns into datagrams (the last one has no newline). */
#define LINES "alpha\nbeta\n\ngamma delta\nlast-without-newline"
#define LINES_BYTES "alphabetagamma deltalast-without-newline"

static char g_pcap[64]; /* the current test's capture: removed by teardown */
static char g_socat[4096];

/* A capture file for --pcap: path, and the option. */
struct cap {
    char path[64];
    char opt[96];
};

static void cap_new(struct cap *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/wss-peers-udp-XXXXXX");
    int fd = mkstemp(c->path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(c->opt, sizeof c->opt, "--pcap=%s", c->path);
    snprintf(g_pcap, sizeof g_pcap, "%s", c->path);
}

/* Every checksum in the capture good, and exactly `want` frames match
 * filter; the file is removed. */
static void cap_check(struct cap *c, const char *filter, int want)
{
    char why[256];
    int verified = tr_tshark_checksums(c->path, why, sizeof why);
    if (verified < 0)
        fail_msg("%s: %s", c->path, why);
    assert_true(verified >= want); /* at least the UDP checksums of those frames */
    int n = tr_tshark_count(c->path, filter);
    if (n != want)
        fail_msg("%s: %d frames match \"%s\", want %d", c->path, n, filter, want);
    unlink(c->path);
}

/* A socat receiver (-d -d: one notice per datagram), bound once its
 * transfer loop has started. */
static void socat_recv(struct tr *k, const char *addr)
{
    char *argv[] = {g_socat, "-d", "-d", "-u", (char *)addr, "-", NULL};
    assert_int_equal(tr_start(k, argv, NULL, false), 0);
    if (!tr_wait_text(k, true, "starting data transfer loop", 5000))
        fail_msg("socat %s did not start: %s", addr, k->err);
}

/* One datagram from the kernel: socat -u - ADDR with data on stdin. */
static void socat_send(const char *addr, const char *data)
{
    static struct tr k;
    char *argv[] = {g_socat, "-u", "-", (char *)addr, NULL};
    if (tr_run(&k, argv, data, 5000) != 0)
        fail_msg("socat %s: exit %d: %s", addr, k.status, k.err);
}

/* Each of want[] occurs in text, in this order. */
static void expect_in_order(const char *text, const char *const want[], unsigned n)
{
    const char *at = text;
    for (unsigned i = 0; i < n; i++) {
        const char *p = strstr(at, want[i]);
        if (p == NULL)
            fail_msg("\"%s\" missing (after %u matches) in:\n%s", want[i], i, text);
        at = p + strlen(want[i]);
    }
}

/* wskcat send LINES to a socat receiver; socat's stdout and notices. */
static void send_to_socat(const char *recv_addr, const char *host, const char *port,
                          const char *sport, const char *src, const char *counter,
                          const char *filter)
{
    struct cap c;
    cap_new(&c);
    static struct tr k, w;
    socat_recv(&k, recv_addr);
    char *argv[] = {(char *)tr_tool("wskcat"), CFG, c.opt, "--counters", "-p", (char *)sport,
                    "send", (char *)host, (char *)port, NULL};
    assert_int_equal(tr_run(&w, argv, LINES, 20000), 0);
    assert_true(tr_wait_count(&k, true, "N received packet with ", 5, 5000));
    assert_int_equal(tr_stop(&k, SIGTERM, 5000), 128 + SIGTERM);
    assert_string_equal(k.out, LINES_BYTES);
    static const unsigned lens[] = {5, 4, 0, 11, 20};
    char want[5][160];
    const char *wp[5];
    for (unsigned i = 0; i < 5; i++) {
        snprintf(want[i], sizeof want[i], " N received packet with %u bytes from %s:%s\n",
                 lens[i], src, sport);
        wp[i] = want[i];
    }
    expect_in_order(k.err, wp, 5);
    assert_int_equal(tr_count(k.err, "N received packet with "), 5);
    assert_true(tr_counter_is(w.err, counter, 5));
    assert_int_equal(w.out_len, 0);
    cap_check(&c, filter, 5);
}

/* send over IPv4: 5 lines, 5 datagrams with exact bytes (one empty), from
 * --port; UdpOutDatagrams 5; 5 UDP frames with good checksums. */
static void test_send4(void **state)
{
    (void)state;
    send_to_socat("UDP4-RECV:7101", "192.0.2.1", "7101", "40001", "AF=2 192.0.2.2",
                  "UdpOutDatagrams", "ip.src == 192.0.2.2 && udp.srcport == 40001 && "
                                     "udp.dstport == 7101");
}

/* The same over IPv6, to the kernel's global address. */
static void test_send6(void **state)
{
    (void)state;
    send_to_socat("UDP6-RECV:7102", "2001:db8::1", "7102", "40002", "AF=10 " SA6_SOCAT,
                  "Udp6OutDatagrams", "ipv6.src == 2001:db8::2 && udp.srcport == 40002 && "
                                      "udp.dstport == 7102");
}

/* The same to the kernel's link-local fe80::1, zone = the TAP wskcat
 * creates (resolved once it exists); the source is the stack's link-local. */
static void test_send6_link_local(void **state)
{
    (void)state;
    send_to_socat("UDP6-RECV:7103", "fe80::1%" TAP, "7103", "40003", "AF=10 " SLL_SOCAT,
                  "Udp6OutDatagrams", "ipv6.src == " SLL " && ipv6.dst == fe80::1 && "
                                      "udp.dstport == 7103");
}

/* Start wskcat listen/echo with --ready-fd and wait for the byte. */
static void wskcat_up(struct tr *w, struct cap *c, const char *fam, const char *count,
                      const char *mode, const char *port, const char *extra)
{
    char *argv[] = {(char *)tr_tool("wskcat"), CFG, c->opt, "--counters", "--ready-fd", "3",
                    (char *)fam, "-c", (char *)count, "-t", "10", (char *)extra, (char *)mode,
                    (char *)port, NULL};
    assert_int_equal(tr_start(w, argv, NULL, true), 0);
    if (tr_wait_ready(w, 15000) != 1) {
        tr_wait(w, 5000);
        fail_msg("wskcat was not ready: %s", w->err);
    }
}

/* listen over IPv4: socat sends at once after the ready byte (no sleep);
 * both datagrams are printed with their source, exactly. */
static void test_listen4(void **state)
{
    (void)state;
    struct cap c;
    cap_new(&c);
    static struct tr w;
    wskcat_up(&w, &c, "-4", "2", "listen", "7201", "-v");
    socat_send("UDP4-SENDTO:192.0.2.2:7201,sourceport=7202", "first");
    socat_send("UDP4-SENDTO:192.0.2.2:7201,sourceport=7202", "second\n");
    assert_int_equal(tr_wait(&w, 10000), 0);
    assert_string_equal(w.out, "192.0.2.1:7202 first\n192.0.2.1:7202 second\n");
    assert_true(tr_counter_is(w.err, "UdpInDatagrams", 2));
    cap_check(&c, "ip.dst == 192.0.2.2 && udp.dstport == 7201", 2);
}

/* listen over IPv6.  The ready byte comes only after DAD of every address
 * of the stack (2001:db8::2 and its link-local): the trace lines saying so
 * are already on stderr when the byte arrives.  Then socat sends at once,
 * to the global address and to the link-local (from fe80::1, zone wpp0):
 * the sources print as [2001:db8::1]:7212 and [fe80::1%wpp0]:7213. */
static void test_listen6_ready(void **state)
{
    (void)state;
    struct cap c;
    cap_new(&c);
    static struct tr w;
    wskcat_up(&w, &c, "-6", "2", "listen", "7211", "--trace=ipv6");
    tr_drain(&w); /* what wskcat wrote before its ready byte, nothing later */
    assert_non_null(strstr(w.err, " DAD: 2001:db8::2 is unique, now preferred (RFC 4862"));
    assert_non_null(strstr(w.err, " DAD: " SLL " is unique, now preferred (RFC 4862"));
    socat_send("UDP6-SENDTO:[2001:db8::2]:7211,sourceport=7212", "first");
    socat_send("UDP6-SENDTO:[" SLL "%" TAP "]:7211,bind=[fe80::1%" TAP "]:7213", "to-ll\n");
    assert_int_equal(tr_wait(&w, 10000), 0);
    assert_string_equal(w.out, "[2001:db8::1]:7212 first\n[fe80::1%" TAP "]:7213 to-ll\n");
    assert_true(tr_counter_is(w.err, "Udp6InDatagrams", 2));
    cap_check(&c, "(ipv6.dst == 2001:db8::2 || ipv6.dst == " SLL ") && udp.dstport == 7211", 2);
}

/* An echo client: socat with stdin kept open; each write is one datagram,
 * and its echo must be back on socat's stdout before the next. */
static void echo_client(const char *addr, const char *const msgs[], unsigned n)
{
    static struct tr k;
    char *argv[] = {g_socat, "-t", "0.2", "-", (char *)addr, NULL};
    char want[256] = "";
    assert_int_equal(tr_start_ex(&k, argv, NULL, false, true), 0);
    for (unsigned i = 0; i < n; i++) {
        assert_true(tr_write(&k, msgs[i], strlen(msgs[i])));
        strncat(want, msgs[i], sizeof want - strlen(want) - 1);
        if (!tr_wait_out(&k, want, 5000))
            fail_msg("echo %u: socat has \"%s\", want \"%s\" (%s)", i, k.out, want, k.err);
    }
    tr_close_stdin(&k);
    assert_int_equal(tr_wait(&k, 5000), 0);
    assert_string_equal(k.out, want);
}

/* echo over IPv4: 3 datagrams come back to socat, byte for byte. */
static void test_echo4(void **state)
{
    (void)state;
    struct cap c;
    cap_new(&c);
    static struct tr w;
    wskcat_up(&w, &c, "-4", "3", "echo", "7301", "-v");
    static const char *const msgs[] = {"ping-1", "ping-22", "ping-333"};
    echo_client("UDP4:192.0.2.2:7301,sourceport=7302", msgs, 3);
    assert_int_equal(tr_wait(&w, 10000), 0);
    assert_string_equal(w.out, "192.0.2.1:7302 ping-1\n192.0.2.1:7302 ping-22\n"
                               "192.0.2.1:7302 ping-333\n");
    assert_true(tr_counter_is(w.err, "UdpInDatagrams", 3));
    assert_true(tr_counter_is(w.err, "UdpOutDatagrams", 3));
    cap_check(&c, "udp.dstport == 7301 || udp.srcport == 7301", 6);
}

/* echo over IPv6: 2 datagrams to the global address, then 2 to the
 * link-local from fe80::1 (the echo goes back with the scope id the
 * receive reported). */
static void test_echo6(void **state)
{
    (void)state;
    struct cap c;
    cap_new(&c);
    static struct tr w;
    wskcat_up(&w, &c, "-6", "4", "echo", "7311", "-v");
    static const char *const g[] = {"six-1", "six-22"}, *const ll[] = {"ll-1", "ll-22"};
    echo_client("UDP6:[2001:db8::2]:7311,sourceport=7312", g, 2);
    echo_client("UDP6:[" SLL "%" TAP "]:7311,bind=[fe80::1%" TAP "]:7313", ll, 2);
    assert_int_equal(tr_wait(&w, 10000), 0);
    assert_string_equal(w.out, "[2001:db8::1]:7312 six-1\n[2001:db8::1]:7312 six-22\n"
                               "[fe80::1%" TAP "]:7313 ll-1\n[fe80::1%" TAP "]:7313 ll-22\n");
    assert_true(tr_counter_is(w.err, "Udp6InDatagrams", 4));
    assert_true(tr_counter_is(w.err, "Udp6OutDatagrams", 4));
    cap_check(&c, "udp.dstport == 7311 || udp.srcport == 7311", 8);
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
        snprintf(g_socat, sizeof g_socat, "%s", s); /* before tr_prog reuses its buffer */
    if (s == NULL || tr_prog("tshark") == NULL) {
        fprintf(stderr, "socat and tshark are needed (tools/bootstrap.sh installs them)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_send4, teardown),
        cmocka_unit_test_teardown(test_send6, teardown),
        cmocka_unit_test_teardown(test_send6_link_local, teardown),
        cmocka_unit_test_teardown(test_listen4, teardown),
        cmocka_unit_test_teardown(test_listen6_ready, teardown),
        cmocka_unit_test_teardown(test_echo4, teardown),
        cmocka_unit_test_teardown(test_echo6, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
