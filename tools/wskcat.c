/* SPDX-License-Identifier: MIT */
/*
 * wskcat - netcat for wskstack: UDP datagrams over a userspace stack on a
 * TAP, for network-namespace labs.
 *
 *   wskcat [options] send HOST PORT   each stdin line (or --file) as a datagram
 *   wskcat [options] listen PORT      print each datagram with its source
 *   wskcat [options] echo PORT        send back what arrives
 *
 * A plain Windows WSK client on the process-default stack: the options and
 * WSKSTACK_CONFIG are combined into one WSKSTACK_CONFIG text (wsktool.h),
 * then WskRegister + WskCaptureProviderNPI create the stack and its TAP,
 * and WskSocket / WskBind / WskSendTo / WskReceiveFrom move the datagrams,
 * each with an IRP whose completion routine sets a KEVENT (wskc.h).  The
 * one wskstack extension used is WsksGetStack() (counters, readiness).
 *
 * IPv4 and IPv6 alike: AF_INET or AF_INET6 sockets, SOCKADDR_IN6 with a
 * scope id for a link-local HOST or --bind written "fe80::1%ZONE" (ZONE an
 * interface name, resolved once the stack's TAP exists, or an ifindex).
 * For IPv6 the ready byte waits until no address of the stack is still
 * tentative (wskstack_wait_ready): before that the stack neither answers
 * Neighbor Solicitations for it nor accepts datagrams to it.
 *
 * listen and echo keep ONE WskReceiveFrom pending and wait for its event
 * in slices (wskc_recv_wait) to notice --timeout and signals; the request
 * is cancelled only to stop, so an IRP trace shows one request per
 * datagram, not one every slice.
 *
 * The numeric address helpers come from lab_kernel.c (lk_inet_pton/ntop):
 * this file includes the Windows headers and so no Linux socket header.
 */
#include <ntddk.h>
#include <wsk.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_kernel.h"
#include "wskc.h"
#include "wskstack.h"
#include "wskstack_wsk.h"
#include "wsktool.h"

#define WC_MAX_DGRAM 65535u
#define WC_SLICE_MS 200u          /* receive waits are sliced to notice signals */
#define WC_READY_WAIT_MS 10000u   /* IPv6 DAD of the stack's addresses */
#define WC_ZONE_MAX 32            /* an interface name (IFNAMSIZ 16) or an ifindex */

enum wc_mode { WC_SEND, WC_LISTEN, WC_ECHO };

struct wc {
    enum wc_mode mode;
    int family;                  /* 4 or 6 */
    SOCKADDR_INET remote;        /* send: HOST PORT */
    SOCKADDR_INET local;         /* the bind address */
    char remote_zone[WC_ZONE_MAX]; /* "%ZONE" of HOST / --bind: an interface */
    char local_zone[WC_ZONE_MAX];  /* name, resolved once the TAP exists */
    unsigned long count;         /* 0 = unlimited */
    unsigned long timeout_ms;    /* 0 = none (listen/echo); send: completion wait */
    bool have_timeout;
    int ready_fd;
    const char *file;
    bool quiet, verbose;
    struct wt_cfg cfg;

    struct wskstack *st;
    WSK_REGISTRATION reg;
    bool registered, captured;
    WSK_CLIENT_DISPATCH client_dispatch;
    WSK_CLIENT_NPI client_npi;
    WSK_PROVIDER_NPI npi;
    PWSK_SOCKET sock;
    /* listen/echo: the one pending receive, and where it writes the sender
     * (here, not on a stack frame: a receive that never completes after
     * its cancel keeps both). */
    struct wskc_recv rx;
    SOCKADDR_INET from;
};

static void usage(FILE *f)
{
    fputs("usage: wskcat [options] send HOST PORT\n"
          "       wskcat [options] listen PORT\n"
          "       wskcat [options] echo PORT\n"
          "\n"
          "netcat for wskstack: UDP over a userspace IPv4/IPv6 stack on a TAP device,\n"
          "driven through the WSK API.  wskcat creates the stack (and its TAP) in the\n"
          "current network namespace; run it in a lab namespace (`unshare -n`,\n"
          "`ip netns exec`), as root.  HOST and addresses are numeric.\n"
          "\n"
          "Modes:\n"
          "  send HOST PORT   send each line of standard input (without its newline)\n"
          "                   as one datagram to HOST:PORT, or with --file the whole\n"
          "                   file as one datagram; ends at end of input\n"
          "  listen PORT      print each datagram that arrives on PORT as one line:\n"
          "                   `ADDR:PORT DATA` (IPv6: `[ADDR]:PORT DATA`), the\n"
          "                   data as received, then a newline unless it ends in one\n"
          "  echo PORT        send each datagram back to its source (and print it\n"
          "                   as listen does)\n"
          "\n"
          "Options:\n"
          "  -4, -6           address family for listen/echo (default 4; send uses\n"
          "                   HOST's)\n"
          "  -b, --bind ADDR  local address to bind (default: any)\n"
          "  -p, --port PORT  local port for send (default: ephemeral)\n"
          "  -f, --file FILE  send: the whole FILE as one datagram (at most 65507\n"
          "                   bytes over IPv4, 65527 over IPv6)\n"
          "  -c, --count N    stop after N datagrams (sent, printed or echoed)\n"
          "  -t, --timeout S  listen/echo: the longest wait, in seconds, for the next\n"
          "                   datagram (default: wait until SIGINT/SIGTERM);\n"
          "                   send: the longest wait for one send to complete\n"
          "                   (default 10; resolving an absent host takes 3 s)\n"
          "  --ready-fd N     write one byte to file descriptor N (then close it) when\n"
          "                   the stack is up and the socket bound (see READY)\n"
          "  -q, --quiet      listen: print only the data; echo: print nothing;\n"
          "                   no informational messages\n"
          "  -v, --verbose    setup details and each datagram's status on stderr\n"
          "  -h, --help       this text\n"
          "\n" WT_HELP_CONFIG
          "\n"
          "READY: the byte on --ready-fd is written after WskCaptureProviderNPI\n"
          "succeeded (the TAP exists and is up, its kernel side has every --host-addr,\n"
          "the stack's receive thread runs and its gratuitous ARPs are written), the\n"
          "socket is bound, and, for an IPv6 socket, every IPv6 address of the stack\n"
          "(the link-local and each --addr) has finished DAD and is usable; IPv4\n"
          "addresses are usable at once.  From then on a datagram sent to a\n"
          "listen/echo port is received (the socket queues it even before wskcat\n"
          "posts its first receive), and send reads standard input.  Scripts wait\n"
          "for the byte instead of sleeping.\n"
          "\n"
          "IPv6: HOST, --bind and the sources printed are IPv6 addresses; a\n"
          "link-local one takes its interface as a zone, `fe80::1%wsk0` (or the\n"
          "ifindex, `fe80::1%7`).  A zone may name the TAP wskcat creates: it is\n"
          "resolved once the stack is up.  Sources print as `[ADDR]:PORT`, a\n"
          "link-local one as `[fe80::1%wsk0]:PORT`.\n"
          "\n"
          "Exit status:\n"
          "  0  success: every datagram sent; listen/echo ended by --count, or by\n"
          "     --timeout/SIGINT/SIGTERM after at least one datagram when no --count\n"
          "  1  a send failed (e.g. STATUS_HOST_UNREACHABLE), or --timeout/a signal\n"
          "     ended listen/echo before --count datagrams (or before any)\n"
          "  2  usage or setup error (bad option or configuration, not root, TAP or\n"
          "     socket failure, an unknown zone, IPv6 addresses still tentative\n"
          "     after 10 s)\n"
          "A second SIGINT/SIGTERM exits at once with 128 + the signal number.\n",
          f);
}

/* ---- addresses ---------------------------------------------------------------- */
/* text (numeric; IPv6 may end in "%ZONE") + port -> *sa and *family.  A
 * numeric ZONE is the scope id at once; a name is copied to zone (cap
 * WC_ZONE_MAX) for wc_zone_resolve once the stack's TAP exists. */
static bool wc_addr(SOCKADDR_INET *sa, const char *text, int family_hint, unsigned long port,
                    int *family, char *zone)
{
    uint8_t a[16] = {0};
    char host[64];
    int fam = family_hint;
    ULONG scope = 0;
    RtlZeroMemory(sa, sizeof *sa);
    if (zone)
        zone[0] = '\0';
    if (text) {
        if (strlen(text) >= sizeof host)
            return false;
        snprintf(host, sizeof host, "%s", text);
        char *pct = strchr(host, '%');
        if (pct)
            *pct++ = '\0';
        fam = lk_inet_pton(host, a);
        if (fam < 0 || (pct && (fam != 6 || zone == NULL || *pct == '\0' ||
                                strlen(pct) >= WC_ZONE_MAX)))
            return false;
        unsigned long n;
        if (pct && wt_uint(pct, 1, 0xffffffffu, &n))
            scope = (ULONG)n;
        else if (pct)
            snprintf(zone, WC_ZONE_MAX, "%s", pct);
    }
    if (fam == 4) {
        sa->Ipv4.sin_family = AF_INET;
        sa->Ipv4.sin_port = RtlUshortByteSwap((USHORT)port);
        memcpy(&sa->Ipv4.sin_addr, a, 4);
    } else {
        sa->Ipv6.sin6_family = AF_INET6;
        sa->Ipv6.sin6_port = RtlUshortByteSwap((USHORT)port);
        memcpy(sa->Ipv6.sin6_addr.u.Byte, a, 16);
        sa->Ipv6.sin6_scope_id = scope;
    }
    *family = fam;
    return true;
}

/* An interface-name zone becomes the scope id (the TAP exists now). */
static bool wc_zone_resolve(SOCKADDR_INET *sa, const char *zone)
{
    if (zone[0] == '\0')
        return true;
    int idx = lk_ifindex(zone);
    if (idx <= 0) {
        fprintf(stderr, "wskcat: %%%s: no such interface\n", zone);
        return false;
    }
    sa->Ipv6.sin6_scope_id = (ULONG)idx;
    return true;
}

/* "192.0.2.1:5000", "[2001:db8::1]:5000", or with a scope id
 * "[fe80::1%wsk0]:5000" (the stack's interface by name, another by number). */
static const char *wc_addr_str(const struct wc *w, const SOCKADDR_INET *sa, char *buf,
                               size_t len)
{
    char a[64], zone[WC_ZONE_MAX + 1] = "";
    if (sa->si_family == AF_INET) {
        lk_inet_ntop(4, (const uint8_t *)&sa->Ipv4.sin_addr, a, sizeof a);
        snprintf(buf, len, "%s:%u", a, RtlUshortByteSwap(sa->Ipv4.sin_port));
        return buf;
    }
    ULONG scope = sa->Ipv6.sin6_scope_id;
    if (scope && w->st && (int)scope == wskstack_ifindex(w->st))
        snprintf(zone, sizeof zone, "%%%s", wskstack_ifname(w->st));
    else if (scope)
        snprintf(zone, sizeof zone, "%%%lu", (unsigned long)scope);
    lk_inet_ntop(6, sa->Ipv6.sin6_addr.u.Byte, a, sizeof a);
    snprintf(buf, len, "[%s%s]:%u", a, zone, RtlUshortByteSwap(sa->Ipv6.sin6_port));
    return buf;
}

/* ---- setup / teardown ------------------------------------------------------------- */
static void wc_counters(struct wc *w)
{
    if (w->st) {
        wskstack_counters_json(w->st, stderr);
        fflush(stderr);
    }
}

static void wc_poll_usr1(struct wc *w)
{
    if (wt_usr1) {
        wt_usr1 = 0;
        wc_counters(w);
    }
}

/* The configuration text, then WskRegister + WskCaptureProviderNPI: the
 * process-default stack and its TAP come up. */
static int wc_start_stack(struct wc *w)
{
    char text[2 * WT_MAX_TEXT], err[256];
    char st_buf[WSKC_STATUS_STRLEN];
    if (wt_cfg_text(&w->cfg, text, sizeof text, err, sizeof err) != 0) {
        fprintf(stderr, "wskcat: %s\n", err);
        return -1;
    }
    if (setenv("WSKSTACK_CONFIG", text, 1) != 0) {
        fprintf(stderr, "wskcat: setenv: %s\n", strerror(errno));
        return -1;
    }
    if (w->verbose)
        fprintf(stderr, "wskcat: WSKSTACK_CONFIG=\"%s\"\n", text);

    w->client_dispatch.Version = MAKE_WSK_VERSION(1, 0);
    w->client_dispatch.Reserved = 0;
    w->client_dispatch.WskClientEvent = NULL;
    w->client_npi.ClientContext = w;
    w->client_npi.Dispatch = &w->client_dispatch;
    NTSTATUS s = WskRegister(&w->client_npi, &w->reg);
    if (!NT_SUCCESS(s)) {
        fprintf(stderr, "wskcat: WskRegister: %s\n", wskc_status_str(s, st_buf));
        return -1;
    }
    w->registered = true;
    s = WskCaptureProviderNPI(&w->reg, WSK_INFINITE_WAIT, &w->npi);
    if (!NT_SUCCESS(s)) {
        /* The provider has said why on stderr (the key, or the TAP error). */
        fprintf(stderr, "wskcat: WskCaptureProviderNPI: %s (the stack could not start)\n",
                wskc_status_str(s, st_buf));
        return -1;
    }
    w->captured = true;
    w->st = WsksGetStack(&w->reg);
    if (w->st == NULL) {
        fprintf(stderr, "wskcat: WsksGetStack: no stack after a successful capture\n");
        return -1;
    }
    return 0;
}

/* The socket of the mode's family, bound to --bind / the port. */
static int wc_open_socket(struct wc *w)
{
    char st_buf[WSKC_STATUS_STRLEN], a[96];
    NTSTATUS s = wskc_socket_af(&w->npi, w->family == 4 ? AF_INET : AF_INET6, &w->sock);
    if (!NT_SUCCESS(s)) {
        fprintf(stderr, "wskcat: WskSocket: %s\n", wskc_status_str(s, st_buf));
        return -1;
    }
    /* A zone names an interface: the TAP has existed since the capture. */
    if (!wc_zone_resolve(&w->remote, w->remote_zone) ||
        !wc_zone_resolve(&w->local, w->local_zone))
        return -1;
    s = wskc_bind_sa(w->sock, (const SOCKADDR *)&w->local);
    if (!NT_SUCCESS(s)) {
        fprintf(stderr, "wskcat: WskBind(%s): %s\n", wc_addr_str(w, &w->local, a, sizeof a),
                wskc_status_str(s, st_buf));
        return -1;
    }
    if (w->verbose) {
        SOCKADDR_INET l;
        uint8_t mac[6];
        char m[18];
        wskstack_mac(w->st, mac);
        RtlZeroMemory(&l, sizeof l);
        if (NT_SUCCESS(wskc_local_sa(w->sock, (SOCKADDR *)&l)))
            fprintf(stderr, "wskcat: stack on %s (MAC %s), socket bound to %s\n",
                    wskstack_ifname(w->st), lk_mac_str(mac, m), wc_addr_str(w, &l, a, sizeof a));
    }
    return 0;
}

/* Stack, readiness, socket; the ready byte only when all of it succeeded. */
static int wc_setup(struct wc *w)
{
    if (wc_start_stack(w) != 0)
        return -1;
    /* IPv6: every address of the stack (its link-local and each addr=)
     * leaves DAD first.  Until then the stack does not answer a Neighbor
     * Solicitation for it nor take a datagram sent to it (RFC 4862 §5.4),
     * so a peer that sends on the ready byte would lose its first datagram. */
    if (w->family == 6 && wskstack_wait_ready(w->st, WC_READY_WAIT_MS) != 0) {
        fprintf(stderr, "wskcat: the stack's IPv6 addresses are still tentative after %u ms\n",
                WC_READY_WAIT_MS);
        return -1;
    }
    if (wc_open_socket(w) != 0)
        return -1;
    wt_ready("wskcat", &w->ready_fd);
    return 0;
}

static void wc_teardown(struct wc *w)
{
    if (w->sock) {
        wskc_close(w->sock);
        w->sock = NULL;
    }
    if (w->cfg.counters)
        wc_counters(w);
    if (w->captured)
        WskReleaseProviderNPI(&w->reg);
    if (w->registered)
        WskDeregister(&w->reg); /* the default stack and its TAP go with it */
    w->st = NULL;
}

/* ---- modes ---------------------------------------------------------------------------- */
/* Read one line from fd 0 (without its newline) into *buf.  Length, or -1
 * at end of input / on a stop signal.  A SIGUSR1 during the read prints the
 * counters and the read goes on. */
static long wc_getline(struct wc *w, char **buf, size_t *cap, char *rbuf, size_t *rlen)
{
    size_t n = 0;
    for (;;) {
        /* Take what is buffered up to a newline. */
        char *nl = memchr(rbuf, '\n', *rlen);
        size_t take = nl ? (size_t)(nl - rbuf) : *rlen;
        if (n + take + 1 > *cap) {
            size_t nc = (n + take + 1) * 2;
            char *nb = realloc(*buf, nc);
            if (!nb)
                return -1;
            *buf = nb;
            *cap = nc;
        }
        memcpy(*buf + n, rbuf, take);
        n += take;
        size_t used = take + (nl ? 1 : 0);
        memmove(rbuf, rbuf + used, *rlen - used);
        *rlen -= used;
        if (nl) {
            (*buf)[n] = '\0';
            return (long)n;
        }
        if (wt_stop)
            return -1;
        ssize_t r = read(0, rbuf, 4096);
        if (r < 0 && errno == EINTR) {
            wc_poll_usr1(w);
            continue;
        }
        if (r <= 0) {
            (*buf)[n] = '\0';
            return n > 0 ? (long)n : -1; /* a last line without a newline counts */
        }
        *rlen = (size_t)r;
    }
}

static int wc_send_one(struct wc *w, const void *data, size_t len, unsigned long n)
{
    char st_buf[WSKC_STATUS_STRLEN], a[96];
    NTSTATUS s = wskc_sendto_sa(w->sock, data, (ULONG)len, (const SOCKADDR *)&w->remote,
                                (uint32_t)w->timeout_ms, NULL);
    if (!NT_SUCCESS(s)) {
        fprintf(stderr, "wskcat: datagram %lu (%zu bytes) to %s: %s\n", n, len,
                wc_addr_str(w, &w->remote, a, sizeof a), wskc_status_str(s, st_buf));
        return -1;
    }
    if (w->verbose)
        fprintf(stderr, "wskcat: datagram %lu (%zu bytes) to %s: sent\n", n, len,
                wc_addr_str(w, &w->remote, a, sizeof a));
    return 0;
}

static int wc_run_send(struct wc *w)
{
    unsigned long sent = 0, failed = 0;
    if (w->file) {
        FILE *f = fopen(w->file, "rb");
        if (!f) {
            fprintf(stderr, "wskcat: %s: %s\n", w->file, strerror(errno));
            return WT_EXIT_USAGE;
        }
        char *data = malloc(WC_MAX_DGRAM + 1);
        size_t len = data ? fread(data, 1, WC_MAX_DGRAM + 1, f) : 0;
        bool bad = data == NULL || ferror(f);
        fclose(f);
        /* The UDP payload limit: 65535 - 20 - 8 over IPv4, 65535 - 8 over
         * IPv6 (the payload length excludes the IPv6 header). */
        size_t max = w->family == 6 ? 65527 : 65507;
        if (bad || len > max) {
            if (bad)
                fprintf(stderr, "wskcat: %s: cannot read it\n", w->file);
            else
                fprintf(stderr, "wskcat: %s: larger than a UDP datagram (%zu bytes)\n",
                        w->file, max);
            free(data);
            return WT_EXIT_USAGE;
        }
        if (wc_send_one(w, data, len, 1) != 0)
            failed++;
        else
            sent++;
        free(data);
    } else {
        char *line = NULL, rbuf[4096];
        size_t cap = 0, rlen = 0;
        long len;
        while ((w->count == 0 || sent + failed < w->count) && !wt_stop &&
               (len = wc_getline(w, &line, &cap, rbuf, &rlen)) >= 0) {
            if (wc_send_one(w, line, (size_t)len, sent + failed + 1) != 0)
                failed++;
            else
                sent++;
            wc_poll_usr1(w);
        }
        free(line);
    }
    if (!w->quiet && w->verbose)
        fprintf(stderr, "wskcat: %lu datagrams sent, %lu failed\n", sent, failed);
    return failed ? WT_EXIT_FAIL : WT_EXIT_OK;
}

/* One datagram that arrived (got bytes in buf, from w->from): printed as
 * `SOURCE DATA` (listen; echo unless -q) and, in echo mode, sent back.
 * false if the echo failed. */
static bool wc_deliver(struct wc *w, const uint8_t *buf, ULONG got)
{
    char st_buf[WSKC_STATUS_STRLEN], a[96];
    if (w->mode == WC_LISTEN || !w->quiet) {
        if (!w->quiet)
            printf("%s ", wc_addr_str(w, &w->from, a, sizeof a));
        fwrite(buf, 1, got, stdout);
        if (got == 0 || buf[got - 1] != '\n')
            putchar('\n'); /* one line per datagram */
        fflush(stdout);
    }
    if (w->mode != WC_ECHO)
        return true;
    NTSTATUS s = wskc_sendto_sa(w->sock, buf, got, (const SOCKADDR *)&w->from, 10000, NULL);
    if (!NT_SUCCESS(s)) {
        fprintf(stderr, "wskcat: echo to %s: %s\n", wc_addr_str(w, &w->from, a, sizeof a),
                wskc_status_str(s, st_buf));
        return false;
    }
    if (w->verbose)
        fprintf(stderr, "wskcat: echoed %lu bytes to %s\n", (unsigned long)got,
                wc_addr_str(w, &w->from, a, sizeof a));
    return true;
}

/* How long the next wait may be: a slice (so signals are noticed), or what
 * is left of --timeout.  0: the idle timeout has passed. */
static uint32_t wc_next_slice(const struct wc *w, uint64_t idle_start)
{
    if (!w->have_timeout)
        return WC_SLICE_MS;
    uint64_t idle_ms = (lk_now_ns() - idle_start) / 1000000u;
    if (idle_ms >= w->timeout_ms)
        return 0;
    return w->timeout_ms - idle_ms < WC_SLICE_MS ? (uint32_t)(w->timeout_ms - idle_ms)
                                                 : WC_SLICE_MS;
}

/* listen / echo: ONE WskReceiveFrom pending at a time, its event waited for
 * in slices (never cancelled between them); cancelled only to stop. */
static int wc_run_receive(struct wc *w)
{
    uint8_t *buf = malloc(WC_MAX_DGRAM);
    unsigned long got_n = 0, failed = 0;
    uint64_t idle_start = lk_now_ns();
    bool pending = false;
    char st_buf[WSKC_STATUS_STRLEN];
    if (!buf) {
        fprintf(stderr, "wskcat: out of memory\n");
        return WT_EXIT_USAGE;
    }
    while (!wt_stop && (w->count == 0 || got_n < w->count)) {
        wc_poll_usr1(w);
        NTSTATUS s = STATUS_PENDING;
        if (!pending) {
            s = wskc_recv_start(&w->rx, w->sock, buf, WC_MAX_DGRAM, (SOCKADDR *)&w->from);
            pending = s == STATUS_PENDING;
        }
        if (pending) {
            uint32_t slice = wc_next_slice(w, idle_start);
            if (slice == 0)
                break; /* --timeout: the request is taken back below */
            s = wskc_recv_wait(&w->rx, slice);
            if (s == STATUS_PENDING)
                continue; /* still posted: wait on it again */
            pending = false;
        }
        if (w->rx.leaked || !NT_SUCCESS(s)) {
            fprintf(stderr, "wskcat: WskReceiveFrom: %s\n", wskc_status_str(s, st_buf));
            failed++;
            break;
        }
        got_n++;
        idle_start = lk_now_ns();
        if (!wc_deliver(w, buf, w->rx.got))
            failed++;
    }
    if (pending) {
        NTSTATUS s = wskc_recv_cancel(&w->rx);
        if (w->rx.leaked) {
            fprintf(stderr, "wskcat: a receive never completed\n");
            return WT_EXIT_USAGE; /* buf stays with the provider */
        }
        /* A datagram that completed the request before the cancel did. */
        if (NT_SUCCESS(s)) {
            got_n++;
            if (!wc_deliver(w, buf, w->rx.got))
                failed++;
        }
    }
    free(buf);
    wc_poll_usr1(w); /* a SIGUSR1 that came with the stop signal still prints */
    if (failed)
        return WT_EXIT_FAIL;
    if (w->count)
        return got_n >= w->count ? WT_EXIT_OK : WT_EXIT_FAIL;
    return got_n > 0 ? WT_EXIT_OK : WT_EXIT_FAIL;
}

/* ---- main ---------------------------------------------------------------------------------- */
int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},
        {"file", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"ready-fd", required_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        WT_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct wc w;
    memset(&w, 0, sizeof w);
    w.ready_fd = -1;
    w.family = 0;
    wt_cfg_init(&w.cfg);
    const char *bind_addr = NULL;
    unsigned long lport = 0, v;
    int opt;

    while ((opt = getopt_long(argc, argv, "+46b:p:f:c:t:qvh", longopts, NULL)) != -1) {
        switch (opt) {
        case '4': w.family = 4; break;
        case '6': w.family = 6; break;
        case 'b': bind_addr = optarg; break;
        case 'p':
            if (!wt_uint(optarg, 0, 65535, &lport)) {
                fprintf(stderr, "wskcat: --port: \"%s\" is not a port (0..65535)\n", optarg);
                return WT_EXIT_USAGE;
            }
            break;
        case 'f': w.file = optarg; break;
        case 'c':
            if (!wt_uint(optarg, 1, 1000000000ul, &w.count)) {
                fprintf(stderr, "wskcat: --count: \"%s\" is not a count (1..1000000000)\n",
                        optarg);
                return WT_EXIT_USAGE;
            }
            break;
        case 't':
            if (!wt_seconds(optarg, 86400.0, &w.timeout_ms)) {
                fprintf(stderr, "wskcat: --timeout: \"%s\" is not seconds (0..86400)\n", optarg);
                return WT_EXIT_USAGE;
            }
            w.have_timeout = true;
            break;
        case 'R':
            if (!wt_uint(optarg, 0, 1000000, &v) || fcntl((int)v, F_GETFD) < 0) {
                fprintf(stderr, "wskcat: --ready-fd: \"%s\" is not an open file descriptor\n",
                        optarg);
                return WT_EXIT_USAGE;
            }
            w.ready_fd = (int)v;
            break;
        case 'q': w.quiet = true; break;
        case 'v': w.verbose = true; break;
        case 'h': usage(stdout); return WT_EXIT_OK;
        default:
            if (opt >= WT_OPT_TAP && opt < WT_OPT__LAST && wt_cfg_option(&w.cfg, opt, optarg))
                break;
            usage(stderr);
            return WT_EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 1) {
        usage(stderr);
        return WT_EXIT_USAGE;
    }
    const char *port_text;
    if (strcmp(args[0], "send") == 0 && nargs == 3) {
        w.mode = WC_SEND;
        port_text = args[2];
    } else if ((strcmp(args[0], "listen") == 0 || strcmp(args[0], "echo") == 0) && nargs == 2) {
        w.mode = args[0][0] == 'l' ? WC_LISTEN : WC_ECHO;
        port_text = args[1];
    } else {
        fprintf(stderr, "wskcat: expected `send HOST PORT`, `listen PORT` or `echo PORT`\n");
        usage(stderr);
        return WT_EXIT_USAGE;
    }
    unsigned long port;
    if (!wt_uint(port_text, 1, 65535, &port)) {
        fprintf(stderr, "wskcat: \"%s\" is not a port (1..65535)\n", port_text);
        return WT_EXIT_USAGE;
    }
    if (w.file && w.mode != WC_SEND) {
        fprintf(stderr, "wskcat: --file is for send\n");
        return WT_EXIT_USAGE;
    }
    int fam;
    if (w.mode == WC_SEND) {
        if (!wc_addr(&w.remote, args[1], 4, port, &fam, w.remote_zone)) {
            fprintf(stderr, "wskcat: \"%s\" is not a numeric IPv4 or IPv6 address\n", args[1]);
            return WT_EXIT_USAGE;
        }
        if (w.family && w.family != fam) {
            fprintf(stderr, "wskcat: -%d does not match the address %s\n", w.family, args[1]);
            return WT_EXIT_USAGE;
        }
        w.family = fam;
        if (!w.have_timeout)
            w.timeout_ms = 10000;
        if (w.timeout_ms == 0)
            w.timeout_ms = 1;
    } else {
        lport = port;
    }
    if (bind_addr) {
        if (!wc_addr(&w.local, bind_addr, 4, lport, &fam, w.local_zone)) {
            fprintf(stderr, "wskcat: --bind: \"%s\" is not a numeric address\n", bind_addr);
            return WT_EXIT_USAGE;
        }
        if (w.family && w.family != fam) {
            fprintf(stderr, "wskcat: --bind %s is not of the destination's family\n", bind_addr);
            return WT_EXIT_USAGE;
        }
        w.family = fam;
    } else {
        if (w.family == 0)
            w.family = 4;
        wc_addr(&w.local, NULL, w.family, lport, &fam, NULL);
    }

    wt_signals();
    signal(SIGPIPE, SIG_IGN);

    int rc;
    if (wc_setup(&w) != 0)
        rc = WT_EXIT_USAGE;
    else
        rc = w.mode == WC_SEND ? wc_run_send(&w) : wc_run_receive(&w);
    wc_teardown(&w);
    if (w.ready_fd >= 0)
        close(w.ready_fd); /* setup failed: the reader sees EOF, not a byte */
    if (wskc_contract_errors)
        fprintf(stderr, "wskcat: %u WSK contract violations seen\n", wskc_contract_errors);
    return rc;
}
