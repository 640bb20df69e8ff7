/* SPDX-License-Identifier: MIT */
/*
 * test_tool_wskcat.c - the wskcat tool (tools/wskcat.c) run as a program
 * (${WSKSTACK_BIN}/tools/wskcat) against kernel UDP sockets, in a private
 * network namespace:
 *
 *     kernel 192.0.2.1/24  <== TAP wct0 (made by wskcat) ==>  wskcat 192.0.2.2/24
 *
 * The options and modes over IPv4: lines, --count, --file, listen, -q,
 * SIGUSR1, echo, --timeout (one receive request for the whole wait, seen
 * in the IRP trace), an absent host, WSKSTACK_CONFIG, usage and zone
 * errors.  The peers here are kernel sockets (lab_kernel.h); IPv4, IPv6
 * and IPv6 link-local against real peer programs (socat, ping, ping -6),
 * with the captures checked by tshark, are test_tool_peers_udp.c and
 * test_tool_peers_ping.c.
 *
 * Every run is bounded (--count / --timeout, and tr_wait kills at a
 * deadline; a failed test's children are killed by tr_reap_all); only
 * 192.0.2.0/24 and link-local addresses are used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "tool_run.h"

#define KADDR "192.0.2.1"
#define SADDR "192.0.2.2"
#define CFG_TAP "--tap=wct0"
#define CFG_ADDR "--addr=" SADDR "/24"
#define CFG_HOST "--host-addr=" KADDR "/24"

/* A kernel UDP socket on any address (192.0.2.1 exists only while wskcat
 * runs) and the given port. */
static int kopen(uint16_t port)
{
    int fd = lk_udp_open(NULL, port);
    assert_true(fd >= 0);
    return fd;
}

static void expect_dgram(int fd, const char *want, uint16_t want_sport)
{
    char buf[256], src[LK_ADDRSTRLEN];
    uint16_t sport;
    long n = lk_udp_recv(fd, buf, sizeof buf - 1, 3000, src, &sport);
    assert_int_equal(n, (long)strlen(want));
    buf[n] = '\0';
    assert_string_equal(buf, want);
    assert_string_equal(src, SADDR);
    if (want_sport)
        assert_int_equal(sport, want_sport);
}

static void expect_none(int fd)
{
    char buf[64];
    assert_int_equal(lk_udp_recv(fd, buf, sizeof buf, 300, NULL, NULL), -ETIMEDOUT);
}

/* send: each stdin line is one datagram, exact contents, from --port;
 * --counters shows UdpOutDatagrams == lines sent. */
static void test_send_lines(void **state)
{
    (void)state;
    int k = kopen(7101);
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "--counters",
                    "-p", "40001", "send", KADDR, "7101", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, "alpha\nbeta\n\ngamma delta\nlast-without-newline", 20000),
                     0);
    expect_dgram(k, "alpha", 40001);
    expect_dgram(k, "beta", 40001);
    expect_dgram(k, "", 40001);
    expect_dgram(k, "gamma delta", 40001);
    expect_dgram(k, "last-without-newline", 40001);
    expect_none(k);
    assert_true(tr_counter_is(t.err, "UdpOutDatagrams", 5));
    assert_int_equal(t.out_len, 0);
    lk_close(k);
}

/* send --count 2 of 4 lines: exactly 2 datagrams, counter 2. */
static void test_send_count(void **state)
{
    (void)state;
    int k = kopen(7102);
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "--counters",
                    "--count", "2", "send", KADDR, "7102", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, "l1\nl2\nl3\nl4\n", 20000), 0);
    expect_dgram(k, "l1", 0);
    expect_dgram(k, "l2", 0);
    expect_none(k);
    assert_true(tr_counter_is(t.err, "UdpOutDatagrams", 2));
    lk_close(k);
}

/* send --file: the whole file is one datagram. */
static void test_send_file(void **state)
{
    (void)state;
    char path[] = "/tmp/wskcat-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char body[] = "line one\nline two\n";
    assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);
    int k = kopen(7103);
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "--file", path,
                    "send", KADDR, "7103", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 0);
    expect_dgram(k, body, 0);
    expect_none(k);
    unlink(path);
    lk_close(k);
}

/* --ready-fd fires before the first packet can be exchanged: right after
 * the byte, the kernel sends (no sleep) and listen must print both
 * datagrams with their source. */
static void test_listen_ready(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "--ready-fd", "3",
                    "--counters", "--count", "2", "--timeout", "10", "listen", "7200", NULL};
    struct tr t;
    assert_int_equal(tr_start(&t, argv, NULL, true), 0);
    assert_int_equal(tr_wait_ready(&t, 10000), 1);
    int k = lk_udp_open(KADDR, 7201); /* the kernel address exists now */
    assert_true(k >= 0);
    assert_int_equal(lk_udp_sendto(k, "first", 5, SADDR, 7200), 5);
    assert_int_equal(lk_udp_sendto(k, "second\n", 7, SADDR, 7200), 7);
    assert_int_equal(tr_wait(&t, 10000), 0);
    assert_string_equal(t.out, KADDR ":7201 first\n" KADDR ":7201 second\n");
    assert_true(tr_counter_is(t.err, "UdpInDatagrams", 2));
    lk_close(k);
}

/* listen -q prints the data only; SIGUSR1 prints the counters while it runs. */
static void test_listen_quiet_sigusr1(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "--ready-fd", "3",
                    "-q", "-c", "1", "-t", "10", "listen", "7210", NULL};
    struct tr t;
    assert_int_equal(tr_start(&t, argv, NULL, true), 0);
    assert_int_equal(tr_wait_ready(&t, 10000), 1);
    assert_int_equal(kill(t.pid, SIGUSR1), 0);
    assert_true(tr_wait_text(&t, true, "{\"kernel\":{", 5000));
    int k = lk_udp_open(KADDR, 0);
    assert_true(k >= 0);
    assert_int_equal(lk_udp_sendto(k, "payload", 7, SADDR, 7210), 7);
    assert_int_equal(tr_wait(&t, 10000), 0);
    assert_string_equal(t.out, "payload\n");
    lk_close(k);
}

/* echo: what arrives goes back to its source, exactly, from the port. */
static void test_echo(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "--ready-fd", "3",
                    "--counters", "-c", "3", "-t", "10", "echo", "7300", NULL};
    struct tr t;
    assert_int_equal(tr_start(&t, argv, NULL, true), 0);
    assert_int_equal(tr_wait_ready(&t, 10000), 1);
    int k = lk_udp_open(KADDR, 7301);
    assert_true(k >= 0);
    const char *msgs[] = {"ping-1", "ping-22", "ping-333"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lk_udp_sendto(k, msgs[i], strlen(msgs[i]), SADDR, 7300),
                         (long)strlen(msgs[i]));
        expect_dgram(k, msgs[i], 7300);
    }
    assert_int_equal(tr_wait(&t, 10000), 0);
    assert_string_equal(t.out, KADDR ":7301 ping-1\n" KADDR ":7301 ping-22\n" KADDR
                               ":7301 ping-333\n");
    assert_true(tr_counter_is(t.err, "UdpInDatagrams", 3));
    assert_true(tr_counter_is(t.err, "UdpOutDatagrams", 3));
    lk_close(k);
}

/* Lines of text that hold both a and b. */
static unsigned lines_with(const char *text, const char *a, const char *b)
{
    char line[512];
    unsigned n = 0;
    for (unsigned i = 0; tr_line(text, i, line, sizeof line); i++)
        n += strstr(line, a) != NULL && strstr(line, b) != NULL;
    return n;
}

/* --timeout ends a listen that got fewer than --count datagrams: exit 1,
 * after the timeout and not much later.  The IRP trace shows ONE receive
 * request for the whole second (wskcat waits on its event in 200 ms slices
 * without cancelling it), cancelled once, at the end. */
static void test_listen_timeout(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "--trace=irp",
                    "-c", "5", "-t", "1", "listen", "7400", NULL};
    struct tr t;
    uint64_t t0 = tr_now_ms();
    assert_int_equal(tr_run(&t, argv, NULL, 20000), 1);
    uint64_t el = tr_now_ms() - t0;
    assert_true(el >= 1000);
    assert_true(el < 6000);
    assert_int_equal(t.out_len, 0);
    assert_int_equal(tr_count(t.err, " irp - issued WskReceiveFrom "), 1);
    assert_int_equal(lines_with(t.err, " irp - completed ", "STATUS_CANCELLED"), 1);
}

/* A send to an absent host fails (3 ARP requests): exit 1 and the status. */
static void test_send_absent(void **state)
{
    (void)state;
    char *argv[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "send",
                    "192.0.2.99", "7500", NULL};
    struct tr t;
    assert_int_equal(tr_run(&t, argv, "x\n", 20000), 1);
    assert_non_null(strstr(t.err, "datagram 1 (1 bytes) to 192.0.2.99:7500: "
                                  "STATUS_HOST_UNREACHABLE"));
}

/* WSKSTACK_CONFIG is honoured (tap name, host-addr) and --addr replaces its
 * addr= (the datagram comes from 192.0.2.2, not 192.0.2.50). */
static void test_env_config(void **state)
{
    (void)state;
    int k = kopen(7600);
    assert_int_equal(setenv("WSKSTACK_CONFIG", "tap=wctenv0;addr=192.0.2.50/24;host-addr="
                                               KADDR "/24", 1), 0);
    char *argv[] = {(char *)tr_tool("wskcat"), "-v", CFG_ADDR, "send", KADDR, "7600", NULL};
    struct tr t;
    int rc = tr_run(&t, argv, "env\n", 20000);
    unsetenv("WSKSTACK_CONFIG");
    assert_int_equal(rc, 0);
    expect_dgram(k, "env", 0);
    assert_non_null(strstr(t.err, "WSKSTACK_CONFIG=\"tap=wctenv0;host-addr=" KADDR
                                  "/24;addr=" SADDR "/24\""));
    assert_non_null(strstr(t.err, "stack on wctenv0 "));
    lk_close(k);
}

/* --help documents the exit codes; usage and configuration errors exit 2
 * and say why; a setup failure never writes the ready byte. */
static void test_usage(void **state)
{
    (void)state;
    struct tr t;
    char *help[] = {(char *)tr_tool("wskcat"), "--help", NULL};
    assert_int_equal(tr_run(&t, help, NULL, 5000), 0);
    assert_non_null(strstr(t.out, "Exit status:"));
    assert_non_null(strstr(t.out, "--ready-fd N"));
    assert_non_null(strstr(t.out, "--host-addr A/P"));
    char *bad[] = {(char *)tr_tool("wskcat"), "listen", NULL};
    assert_int_equal(tr_run(&t, bad, NULL, 5000), 2);
    char *badport[] = {(char *)tr_tool("wskcat"), "listen", "70000", NULL};
    assert_int_equal(tr_run(&t, badport, NULL, 5000), 2);
    assert_non_null(strstr(t.err, "\"70000\" is not a port"));
    char *badcfg[] = {(char *)tr_tool("wskcat"), "--mtu", "9", "--ready-fd", "3", "listen",
                      "7700", NULL};
    assert_int_equal(tr_start(&t, badcfg, NULL, true), 0);
    assert_int_equal(tr_wait_ready(&t, 5000), 0);   /* EOF, no byte */
    assert_int_equal(tr_wait(&t, 5000), 2);
    assert_non_null(strstr(t.err, "mtu"));
    /* Zones: only on an IPv6 address; a name must be an interface once the
     * stack is up (its TAP is one). */
    char *v4zone[] = {(char *)tr_tool("wskcat"), "send", KADDR "%wct0", "7000", NULL};
    assert_int_equal(tr_run(&t, v4zone, NULL, 5000), 2);
    assert_non_null(strstr(t.err, "\"" KADDR "%wct0\" is not a numeric IPv4 or IPv6 address"));
    char *nozone[] = {(char *)tr_tool("wskcat"), CFG_TAP, CFG_ADDR, CFG_HOST, "send",
                      "fe80::1%nosuch0", "7000", NULL};
    assert_int_equal(tr_run(&t, nozone, "x\n", 20000), 2);
    assert_non_null(strstr(t.err, "wskcat: %nosuch0: no such interface\n"));
}

int main(void)
{
    if (tu_enter_netns() != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_send_lines, tr_reap_all),
        cmocka_unit_test_teardown(test_send_count, tr_reap_all),
        cmocka_unit_test_teardown(test_send_file, tr_reap_all),
        cmocka_unit_test_teardown(test_listen_ready, tr_reap_all),
        cmocka_unit_test_teardown(test_listen_quiet_sigusr1, tr_reap_all),
        cmocka_unit_test_teardown(test_echo, tr_reap_all),
        cmocka_unit_test_teardown(test_listen_timeout, tr_reap_all),
        cmocka_unit_test_teardown(test_send_absent, tr_reap_all),
        cmocka_unit_test_teardown(test_env_config, tr_reap_all),
        cmocka_unit_test_teardown(test_usage, tr_reap_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
