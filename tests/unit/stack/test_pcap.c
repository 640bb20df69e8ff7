/* SPDX-License-Identifier: MIT */
/*
 * test_pcap.c - stack/pcap.c: pcap=FILE and pcap=- record every frame the
 * stack receives (before any check: a runt is in the file too) and sends,
 * with nanosecond CLOCK_REALTIME timestamps, read back with libpcap.
 *
 *     peer 192.0.2.2 (02:00:00:00:00:02, static) ---- stack 192.0.2.1/24
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "stack/stack_impl.h"

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
#define OUR4 0xC0000201u
#define PEER4 0xC0000202u

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct wskstack *mk_stack(const char *pcap, struct dev **dev)
{
    char cfgtext[256], err[256] = "";
    snprintf(cfgtext, sizeof cfgtext, "mac=02:00:00:00:00:01;addr=192.0.2.1/24;pcap=%s", pcap);
    struct wskstack_config *cfg = wskstack_config_new();
    assert_int_equal(wskstack_config_parse(cfg, cfgtext, err, sizeof err), 0);
    *dev = memdev_create("pc0", 1500);
    struct wskstack *st = NULL;
    if (stack_create_on_dev(cfg, *dev, STACK_NO_THREAD, &st, err, sizeof err) != 0)
        fail_msg("create: %s", err);
    wskstack_config_free(cfg);
    struct ip_addr a = ip4(PEER4);
    assert_int_equal(stack_neigh_add_static(st, &a, peer_mac), 0);
    return st;
}

static size_t mk_echo4(uint8_t *fr)
{
    memcpy(fr, our_mac, 6);
    memcpy(fr + 6, peer_mac, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    static const uint8_t data[6] = {1, 2, 3, 4, 5, 6};
    struct icmp_repr r = {.type = ICMP_ECHO_REQUEST, .rest = 0x00010001, .data = data,
                          .data_len = sizeof data};
    icmp_emit(&r, fr + 34);
    struct ipv4_repr ip = {.src = PEER4, .dst = OUR4, .proto = IP_PROTO_ICMP, .ttl = 64,
                           .hdr_len = 20, .total_len = 20 + 14};
    ipv4_emit(&ip, fr + 14);
    return 14 + 20 + 14;
}

struct seen {
    uint8_t frame[4][128];
    size_t len[4];
    unsigned n;
};

/* Run the exchange: an echo request in, its reply out, then a runt in. */
static void exchange(struct wskstack *st, struct dev *dev, struct seen *s)
{
    memset(s, 0, sizeof *s);
    s->len[0] = mk_echo4(s->frame[0]);
    assert_int_equal(memdev_inject(dev, s->frame[0], s->len[0]), 0);
    assert_int_equal(stack_poll(st, stack_now(st)), 1);
    long n = memdev_pop_tx(dev, s->frame[1], sizeof s->frame[1]);
    assert_true(n > 0);
    s->len[1] = (size_t)n;
    assert_int_equal(s->frame[1][34], ICMP_ECHO_REPLY);
    memcpy(s->frame[2], our_mac, 6);
    memcpy(s->frame[2] + 6, peer_mac, 4);
    s->len[2] = 10; /* a runt: no Ethernet header at all (A.1) */
    assert_int_equal(memdev_inject(dev, s->frame[2], s->len[2]), 0);
    assert_int_equal(stack_poll(st, stack_now(st)), 1);
    assert_int_equal(wskstack_counter(st, "IfInErrors"), 1);
    assert_int_equal(memdev_tx_pending(dev), 0);
    s->n = 3;
}

/* Read path with libpcap and compare with what memdev saw. */
static void check_file(const char *path, const struct seen *s, uint64_t t0, uint64_t t1)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p)
        fail_msg("pcap_open_offline: %s", err);
    assert_int_equal(pcap_datalink(p), DLT_EN10MB);
    assert_int_equal(pcap_get_tstamp_precision(p), PCAP_TSTAMP_PRECISION_NANO);
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned n = 0;
    uint64_t prev = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        assert_true(n < s->n);
        assert_int_equal(h->caplen, s->len[n]);
        assert_int_equal(h->len, s->len[n]);
        assert_memory_equal(data, s->frame[n], s->len[n]);
        assert_true(h->ts.tv_usec < 1000000000); /* nanoseconds */
        uint64_t t = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
        assert_true(t >= t0 && t <= t1);
        assert_true(t >= prev);
        prev = t;
        n++;
    }
    assert_int_equal(n, s->n);
    pcap_close(p);
}

static void test_pcap_file(void **state)
{
    (void)state;
    char path[] = "/tmp/wss_pcap_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct dev *dev;
    uint64_t t0 = realtime_ns();
    struct wskstack *st = mk_stack(path, &dev);
    struct seen s;
    exchange(st, dev, &s);
    uint64_t t1 = realtime_ns();
    /* flushed per frame: complete while the stack still runs */
    check_file(path, &s, t0, t1);
    wskstack_destroy(st);
    check_file(path, &s, t0, t1);
    unlink(path);
}

/* pcap=-: the capture goes to stdout (fd 1), which stays open afterwards. */
static void test_pcap_stdout(void **state)
{
    (void)state;
    char path[] = "/tmp/wss_pcap_out_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    close(fd);
    struct dev *dev;
    uint64_t t0 = realtime_ns();
    struct wskstack *st = mk_stack("-", &dev);
    struct seen s;
    exchange(st, dev, &s);
    uint64_t t1 = realtime_ns();
    wskstack_destroy(st);
    assert_true(fcntl(STDOUT_FILENO, F_GETFD) >= 0); /* fd 1 not closed */
    assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
    close(saved);
    check_file(path, &s, t0, t1);
    unlink(path);
}

static void test_pcap_bad_path(void **state)
{
    (void)state;
    char err[256] = "";
    struct wskstack_config *cfg = wskstack_config_new();
    assert_int_equal(wskstack_config_parse(cfg, "pcap=/nonexistent/dir/x.pcap", err, sizeof err), 0);
    struct wskstack *st = NULL;
    assert_int_equal(stack_create_on_dev(cfg, memdev_create("pc1", 1500), STACK_NO_THREAD, &st, err,
                                         sizeof err), -EIO);
    assert_null(st);
    assert_int_equal(strncmp(err, "pcap: cannot open \"/nonexistent/dir/x.pcap\": ", 45), 0);
    wskstack_config_free(cfg);
}

/* Off: no capture state at all. */
static void test_pcap_off(void **state)
{
    (void)state;
    char err[256];
    struct wskstack *st = NULL;
    assert_int_equal(stack_create_on_dev(NULL, memdev_create("pc2", 1500), STACK_NO_THREAD, &st,
                                         err, sizeof err), 0);
    assert_null(st->pcap);
    wskstack_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_file),
        cmocka_unit_test(test_pcap_stdout),
        cmocka_unit_test(test_pcap_bad_path),
        cmocka_unit_test(test_pcap_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
