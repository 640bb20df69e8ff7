/* SPDX-License-Identifier: MIT */
/*
 * wsk-ping - ping from wskstack: ICMP / ICMPv6 echo requests sent by a
 * userspace stack on a TAP, with the output and statistics of iputils ping.
 *
 *   wsk-ping [options] HOST
 *
 * ICMP echo is not a WSK socket type, so wsk-ping builds its stack with
 * wskstack_create() (configuration from the options and WSKSTACK_CONFIG,
 * wsktool.h) and uses the stack's ping API (wskstack_ping_*, stack/echo.c):
 * requests with its identifier go out through the stack's IP output (ARP /
 * ND, fragmentation), and replies and ICMP errors about them come back with
 * the stack's receive timestamps.  No Windows header here.
 *
 * Output (iputils 20221126):
 *   PING 192.0.2.1 (192.0.2.1) 56(84) bytes of data.
 *   PING 2001:db8::1(2001:db8::1) 56 data bytes
 *   64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=0.123 ms
 *   From 192.0.2.2 icmp_seq=1 Destination Host Unreachable
 *   (blank line)
 *   --- 192.0.2.1 ping statistics ---
 *   3 packets transmitted, 3 received, 0% packet loss, time 2003ms
 *   rtt min/avg/max/mdev = 0.041/0.052/0.063/0.009 ms
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wskstack.h"
#include "wsktool.h"

#define WP_READY_WAIT_MS 10000u

static void usage(FILE *f)
{
    fputs("usage: wsk-ping [options] HOST\n"
          "\n"
          "Send ICMP (IPv4) or ICMPv6 (IPv6) echo requests to HOST (numeric) from a\n"
          "wskstack userspace stack on a TAP, and print what comes back the way\n"
          "iputils ping does.  wsk-ping creates the stack (and its TAP) in the current\n"
          "network namespace; run it in a lab namespace, as root.\n"
          "\n"
          "Options:\n"
          "  -c, --count N      stop after sending N requests (default: until SIGINT)\n"
          "  -i, --interval S   seconds between requests (default 1, at least 0.002)\n"
          "  -s, --size N       data bytes per request (default 56; above the MTU the\n"
          "                     request is fragmented; at most 65507 IPv4, 65527 IPv6)\n"
          "  -W, --timeout S    after the last request, the longest wait for its reply\n"
          "                     (default 10)\n"
          "  -q, --quiet        only the first line and the statistics\n"
          "  -v, --verbose      setup details on standard error\n"
          "  -h, --help         this text\n"
          "\n" WT_HELP_CONFIG
          "\n"
          "Output: the first line, one line per reply\n"
          "  `N bytes from ADDR: icmp_seq=S ttl=T time=X ms` (` (DUP!)` for a duplicate),\n"
          "one line per ICMP error about a request: `From ADDR icmp_seq=S MESSAGE`, with\n"
          "ping's messages (`Destination Host Unreachable`, `Time to live exceeded`,\n"
          "`Destination unreachable: Address unreachable`, ...).  When the stack cannot\n"
          "resolve the next hop (3 ARP requests or ND probes unanswered), the error is\n"
          "shown from the stack's own address, as Linux shows it.  At the end (or on\n"
          "SIGINT) the statistics: transmitted, received, +duplicates, +errors, packet\n"
          "loss, time, and `rtt min/avg/max/mdev`.  Before the first IPv6 request\n"
          "wsk-ping waits until the stack's IPv6 addresses are usable (DAD).\n"
          "\n"
          "Exit status:\n"
          "  0  at least one reply was received\n"
          "  1  no reply (timeout, errors only, 100% packet loss)\n"
          "  2  usage or setup error (bad option or configuration, not root, TAP\n"
          "     failure, no route or no source address for HOST)\n"
          "A second SIGINT/SIGTERM exits at once with 128 + the signal number.\n",
          f);
}

/* ping's time format: 3 significant decimals below 1 ms ... none from 100 ms. */
static void fmt_ms(uint64_t us, char *buf, size_t len)
{
    if (us >= 100000)
        snprintf(buf, len, "%llu", (unsigned long long)(us / 1000));
    else if (us >= 10000)
        snprintf(buf, len, "%llu.%01llu", (unsigned long long)(us / 1000),
                 (unsigned long long)(us % 1000 / 100));
    else if (us >= 1000)
        snprintf(buf, len, "%llu.%02llu", (unsigned long long)(us / 1000),
                 (unsigned long long)(us % 1000 / 10));
    else
        snprintf(buf, len, "%llu.%03llu", (unsigned long long)(us / 1000),
                 (unsigned long long)(us % 1000));
}

/* iputils' texts for the errors ping shows. */
static void err_text(const struct wskstack_ping_event *ev, char *buf, size_t len)
{
    static const char *const unreach4[] = {
        "Destination Net Unreachable", "Destination Host Unreachable",
        "Destination Protocol Unreachable", "Destination Port Unreachable",
        NULL, "Source Route Failed", "Destination Net Unknown", "Destination Host Unknown",
        "Source Host Isolated", "Destination Net Prohibited", "Destination Host Prohibited",
        "Destination Net Unreachable for Type of Service",
        "Destination Host Unreachable for Type of Service", "Packet filtered",
        "Precedence Violation", "Precedence Cutoff"};
    static const char *const unreach6[] = {"No route", "Administratively prohibited",
                                           "Beyond scope of source address",
                                           "Address unreachable", "Port unreachable"};
    if (ev->family == 4) {
        switch (ev->type) {
        case 3:
            if (ev->code == 4)
                snprintf(buf, len, "Frag needed and DF set (mtu = %u)", ev->info & 0xffff);
            else if (ev->code < 16)
                snprintf(buf, len, "%s", unreach4[ev->code]);
            else
                snprintf(buf, len, "Dest Unreachable, Bad Code: %u", ev->code);
            return;
        case 11:
            if (ev->code == 0)
                snprintf(buf, len, "Time to live exceeded");
            else if (ev->code == 1)
                snprintf(buf, len, "Frag reassembly time exceeded");
            else
                snprintf(buf, len, "Time exceeded, Bad Code: %u", ev->code);
            return;
        case 12:
            snprintf(buf, len, "Parameter problem: pointer = %u", ev->info >> 24);
            return;
        default:
            snprintf(buf, len, "Bad ICMP type: %u", ev->type);
            return;
        }
    }
    switch (ev->type) {
    case 1:
        if (ev->code < 5)
            snprintf(buf, len, "Destination unreachable: %s", unreach6[ev->code]);
        else
            snprintf(buf, len, "Destination unreachable: Unknown code %u", ev->code);
        return;
    case 2:
        snprintf(buf, len, "Packet too big: mtu=%u", ev->info);
        return;
    case 3:
        if (ev->code == 0)
            snprintf(buf, len, "Time exceeded: Hop limit");
        else if (ev->code == 1)
            snprintf(buf, len, "Time exceeded: Defragmentation failure");
        else
            snprintf(buf, len, "Time exceeded: code %u", ev->code);
        return;
    case 4: {
        static const char *const pp[] = {"Wrong header field ", "Unknown header ",
                                         "Unknown option "};
        char c[32];
        snprintf(c, sizeof c, "code %u ", ev->code);
        snprintf(buf, len, "Parameter problem: %sat %u", ev->code < 3 ? pp[ev->code] : c,
                 ev->info);
        return;
    }
    default:
        snprintf(buf, len, "Unknown icmp type: %u", ev->type);
        return;
    }
}

struct wp {
    const char *host;
    int family;
    unsigned long count, interval_ms, size, wait_ms;
    bool quiet, verbose;
    struct wt_cfg cfg;
    struct wskstack *st;
    struct wskstack_ping *ping;
    uint64_t *sent_ns;         /* per sequence number (65536) */
    uint8_t *seen;             /* replies per sequence number */
    uint8_t *payload, *rxbuf;
    unsigned long ntx, nrx, ndup, nerr;
    uint64_t tmin, tmax, tsum;  /* us */
    double tsum2;
};

/* The first line, iputils' format: printed once the first request is out. */
static void print_banner(const struct wp *p)
{
    if (p->family == 4)
        printf("PING %s (%s) %lu(%lu) bytes of data.\n", p->host, p->host, p->size, p->size + 28);
    else
        printf("PING %s(%s) %lu data bytes\n", p->host, p->host, p->size);
    fflush(stdout);
}

static void print_stats(struct wp *p, uint64_t start_ns, uint64_t end_ns)
{
    printf("\n--- %s ping statistics ---\n", p->host);
    printf("%lu packets transmitted, %lu received", p->ntx, p->nrx);
    if (p->ndup)
        printf(", +%lu duplicates", p->ndup);
    if (p->nerr)
        printf(", +%lu errors", p->nerr);
    if (p->ntx) {
        double loss = (double)(p->ntx - (p->nrx > p->ntx ? p->ntx : p->nrx)) * 100.0 /
                      (double)p->ntx;
        printf(", %g%% packet loss", loss);
    }
    printf(", time %llums\n", (unsigned long long)((end_ns - start_ns) / 1000000u));
    if (p->nrx) {
        unsigned long n = p->nrx + p->ndup;
        uint64_t avg = p->tsum / n;
        double var = p->tsum2 / (double)n - (double)avg * (double)avg;
        uint64_t mdev = var > 0 ? (uint64_t)sqrt(var) : 0;
        printf("rtt min/avg/max/mdev = %llu.%03llu/%llu.%03llu/%llu.%03llu/%llu.%03llu ms\n",
               (unsigned long long)(p->tmin / 1000), (unsigned long long)(p->tmin % 1000),
               (unsigned long long)(avg / 1000), (unsigned long long)(avg % 1000),
               (unsigned long long)(p->tmax / 1000), (unsigned long long)(p->tmax % 1000),
               (unsigned long long)(mdev / 1000), (unsigned long long)(mdev % 1000));
    }
    fflush(stdout);
}

static void poll_usr1(struct wp *p)
{
    if (wt_usr1) {
        wt_usr1 = 0;
        wskstack_counters_json(p->st, stderr);
        fflush(stderr);
    }
}

/* One event: print it and account for it. */
static void handle_event(struct wp *p, const struct wskstack_ping_event *ev)
{
    char msg[128];
    if (ev->kind == WSKSTACK_PING_ERROR) {
        p->nerr++;
        if (!p->quiet) {
            err_text(ev, msg, sizeof msg);
            printf("From %s icmp_seq=%u %s\n", ev->from, ev->seq, msg);
        }
        return;
    }
    if (p->sent_ns[ev->seq] == 0)
        return; /* not a sequence number we sent */
    uint64_t rtt_ns = ev->rx_ns > p->sent_ns[ev->seq] ? ev->rx_ns - p->sent_ns[ev->seq] : 0;
    uint64_t us = rtt_ns / 1000u;
    bool dup = p->seen[ev->seq] != 0;
    p->seen[ev->seq] = 1;
    if (dup)
        p->ndup++;
    else
        p->nrx++;
    if (p->nrx + p->ndup == 1 || us < p->tmin)
        p->tmin = us;
    if (us > p->tmax)
        p->tmax = us;
    p->tsum += us;
    p->tsum2 += (double)us * (double)us;
    bool bad = ev->len != p->size ||
               memcmp(p->rxbuf, p->payload, ev->len < p->size ? ev->len : p->size) != 0;
    if (!p->quiet) {
        fmt_ms(us, msg, sizeof msg);
        printf("%zu bytes from %s: icmp_seq=%u ttl=%u time=%s ms%s%s\n", ev->len + 8, ev->from,
               ev->seq, ev->ttl, msg, dup ? " (DUP!)" : "", bad ? " (wrong data)" : "");
    }
}

/* Take events until deadline_ns (on the stack's clock), or until stop()
 * says so. */
static void drain(struct wp *p, uint64_t deadline_ns, bool until_all)
{
    for (;;) {
        poll_usr1(p);
        if (wt_stop)
            return;
        if (until_all && p->nrx + p->nerr >= p->ntx)
            return;
        uint64_t now = wskstack_now_ns(p->st);
        if (now >= deadline_ns)
            return;
        uint64_t left_ms = (deadline_ns - now + 999999u) / 1000000u;
        struct wskstack_ping_event ev;
        if (wskstack_ping_recv(p->ping, &ev, p->rxbuf, p->size, left_ms > 200 ? 200 : (unsigned)left_ms) == 0) {
            handle_event(p, &ev);
            fflush(stdout);
        }
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'c'},
        {"interval", required_argument, NULL, 'i'},
        {"size", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 'W'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        WT_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct wp p;
    memset(&p, 0, sizeof p);
    p.interval_ms = 1000;
    p.size = 56;
    p.wait_ms = 10000;
    wt_cfg_init(&p.cfg);
    int opt;
    while ((opt = getopt_long(argc, argv, "+c:i:s:W:qvh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            if (!wt_uint(optarg, 1, 1000000000ul, &p.count)) {
                fprintf(stderr, "wsk-ping: -c: \"%s\" is not a count (1..1000000000)\n", optarg);
                return WT_EXIT_USAGE;
            }
            break;
        case 'i':
            if (!wt_seconds(optarg, 3600.0, &p.interval_ms) || p.interval_ms < 2) {
                fprintf(stderr, "wsk-ping: -i: \"%s\" is not an interval (0.002..3600 s)\n",
                        optarg);
                return WT_EXIT_USAGE;
            }
            break;
        case 's':
            if (!wt_uint(optarg, 0, 65527, &p.size)) {
                fprintf(stderr, "wsk-ping: -s: \"%s\" is not a size (0..65527)\n", optarg);
                return WT_EXIT_USAGE;
            }
            break;
        case 'W':
            if (!wt_seconds(optarg, 3600.0, &p.wait_ms)) {
                fprintf(stderr, "wsk-ping: -W: \"%s\" is not seconds (0..3600)\n", optarg);
                return WT_EXIT_USAGE;
            }
            break;
        case 'q': p.quiet = true; break;
        case 'v': p.verbose = true; break;
        case 'h': usage(stdout); return WT_EXIT_OK;
        default:
            if (opt >= WT_OPT_TAP && opt < WT_OPT__LAST && wt_cfg_option(&p.cfg, opt, optarg))
                break;
            usage(stderr);
            return WT_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "wsk-ping: expected one HOST\n");
        usage(stderr);
        return WT_EXIT_USAGE;
    }
    p.host = argv[optind];
    uint8_t abuf[16];
    if (inet_pton(AF_INET, p.host, abuf) == 1)
        p.family = 4;
    else if (inet_pton(AF_INET6, p.host, abuf) == 1)
        p.family = 6;
    else {
        fprintf(stderr, "wsk-ping: %s: not a numeric IPv4 or IPv6 address\n", p.host);
        return WT_EXIT_USAGE;
    }
    if (p.family == 4 && p.size > 65507) {
        fprintf(stderr, "wsk-ping: -s: %lu is beyond 65507 for IPv4\n", p.size);
        return WT_EXIT_USAGE;
    }

    char text[2 * WT_MAX_TEXT], err[256];
    if (wt_cfg_text(&p.cfg, text, sizeof text, err, sizeof err) != 0) {
        fprintf(stderr, "wsk-ping: %s\n", err);
        return WT_EXIT_USAGE;
    }
    struct wskstack_config *cfg = wskstack_config_new();
    if (cfg == NULL || wskstack_config_parse(cfg, text, err, sizeof err) != 0) {
        fprintf(stderr, "wsk-ping: %s\n", cfg ? err : "out of memory");
        wskstack_config_free(cfg);
        return WT_EXIT_USAGE;
    }
    int rc = wskstack_create(cfg, &p.st, err, sizeof err);
    wskstack_config_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "wsk-ping: the stack could not start: %s\n", err);
        return WT_EXIT_USAGE;
    }
    if (p.verbose)
        fprintf(stderr, "wsk-ping: WSKSTACK_CONFIG=\"%s\", stack on %s\n", text,
                wskstack_ifname(p.st));

    wt_signals();

    int exit_code = WT_EXIT_USAGE;
    p.sent_ns = calloc(65536, sizeof *p.sent_ns);
    p.seen = calloc(65536, 1);
    p.payload = malloc(p.size ? p.size : 1);
    p.rxbuf = malloc(p.size ? p.size : 1);
    if (!p.sent_ns || !p.seen || !p.payload || !p.rxbuf) {
        fprintf(stderr, "wsk-ping: out of memory\n");
        goto out;
    }
    for (unsigned long i = 0; i < p.size; i++)
        p.payload[i] = (uint8_t)(0x10 + i); /* iputils' fill pattern after its timestamp */
    if ((rc = wskstack_ping_open(p.st, p.host, 0, &p.ping)) != 0) {
        fprintf(stderr, "wsk-ping: %s: %s\n", p.host, strerror(-rc));
        goto out;
    }
    if (p.family == 6 && wskstack_wait_ready(p.st, WP_READY_WAIT_MS) != 0) {
        fprintf(stderr, "wsk-ping: the stack's IPv6 addresses are still tentative after %u ms\n",
                WP_READY_WAIT_MS);
        goto out;
    }

    uint64_t start = wskstack_now_ns(p.st), last_sent = start;
    for (unsigned long i = 0; (p.count == 0 || i < p.count) && !wt_stop; i++) {
        uint16_t seq = (uint16_t)(i + 1);
        uint64_t t;
        p.seen[seq] = 0;
        rc = wskstack_ping_send(p.ping, seq, p.payload, p.size, &t);
        if (p.ntx == 0) {
            /* Like iputils, which connect()s before its PING line: no route
             * or no source is reported alone, without the PING line. */
            if (rc == -ENETUNREACH || rc == -EADDRNOTAVAIL) {
                fprintf(stderr, "wsk-ping: connect: %s\n", rc == -ENETUNREACH
                                                               ? "Network is unreachable"
                                                               : "Cannot assign requested address");
                goto out;
            }
            print_banner(&p);
        }
        if (rc != 0)
            fprintf(stderr, "wsk-ping: sendmsg: %s\n", strerror(-rc));
        p.sent_ns[seq] = t ? t : 1;
        p.ntx++;
        last_sent = t;
        if (p.count && i + 1 == p.count)
            break;
        drain(&p, t + p.interval_ms * 1000000ull, false);
    }
    /* After the last request: until every request is answered (reply or
     * error) or -W has passed. */
    if (!wt_stop)
        drain(&p, last_sent + p.wait_ms * 1000000ull, true);
    print_stats(&p, start, wskstack_now_ns(p.st));
    exit_code = p.nrx > 0 ? WT_EXIT_OK : WT_EXIT_FAIL;
out:
    if (p.cfg.counters)
        wskstack_counters_json(p.st, stderr);
    wskstack_ping_close(p.ping);
    wskstack_destroy(p.st);
    free(p.sent_ns);
    free(p.seen);
    free(p.payload);
    free(p.rxbuf);
    return exit_code;
}
