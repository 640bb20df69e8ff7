/* SPDX-License-Identifier: MIT */
/*
 * wsktool.h - what wskcat and wsk-ping share: the stack configuration
 * options (one per WSKSTACK_CONFIG key), how they combine with the
 * WSKSTACK_CONFIG environment variable, the counters on request, and the
 * common exit codes.  Header-only, plain C (no socket or Windows headers),
 * so both a WSK source (wskcat.c) and a stack-API source (wsk-ping.c) use
 * it.  Also the signal handling both tools share, and --ready-fd's byte.
 *
 * Combination rule: the configuration is WSKSTACK_CONFIG, then every
 * --config TEXT in order, then the key options.  Single-valued keys (tap,
 * mac, mtu, slaac) take the last value, so an option overrides the
 * environment.  A repeatable key (addr, host-addr, gateway) given as an
 * option REPLACES every value of that key from WSKSTACK_CONFIG and --config
 * (so `--addr` never silently adds to an address set in the environment).
 */
#ifndef WSS_WSKTOOL_H
#define WSS_WSKTOOL_H

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wskstack.h"

/* Exit codes of both tools. */
#define WT_EXIT_OK 0
#define WT_EXIT_FAIL 1    /* no reply / timeout / some datagrams failed */
#define WT_EXIT_USAGE 2   /* usage or setup error */

/* Long-option codes of the configuration options (beyond any char). */
enum {
    WT_OPT_TAP = 0x100, WT_OPT_MAC, WT_OPT_MTU, WT_OPT_ADDR, WT_OPT_GATEWAY, WT_OPT_HOST_ADDR,
    WT_OPT_SLAAC, WT_OPT_TRACE, WT_OPT_TRACE_FORMAT, WT_OPT_TRACE_FILE, WT_OPT_PCAP,
    WT_OPT_CONFIG, WT_OPT_COUNTERS, WT_OPT__LAST
};

#define WT_LONG_OPTIONS                                                  \
    {"tap", required_argument, NULL, WT_OPT_TAP},                        \
    {"mac", required_argument, NULL, WT_OPT_MAC},                        \
    {"mtu", required_argument, NULL, WT_OPT_MTU},                        \
    {"addr", required_argument, NULL, WT_OPT_ADDR},                      \
    {"gateway", required_argument, NULL, WT_OPT_GATEWAY},                \
    {"host-addr", required_argument, NULL, WT_OPT_HOST_ADDR},            \
    {"slaac", required_argument, NULL, WT_OPT_SLAAC},                    \
    {"trace", optional_argument, NULL, WT_OPT_TRACE},                    \
    {"trace-format", required_argument, NULL, WT_OPT_TRACE_FORMAT},      \
    {"trace-file", required_argument, NULL, WT_OPT_TRACE_FILE},          \
    {"pcap", required_argument, NULL, WT_OPT_PCAP},                      \
    {"config", required_argument, NULL, WT_OPT_CONFIG},                  \
    {"counters", no_argument, NULL, WT_OPT_COUNTERS}

/* The --help paragraph about the configuration options (both tools). */
#define WT_HELP_CONFIG                                                                      \
    "Stack configuration (each option is a WSKSTACK_CONFIG key, see wskstack.h):\n"         \
    "  --tap NAME          the TAP to create (default: a free wsk%d)\n"                     \
    "  --mac MAC           the stack's own MAC (default: locally administered)\n"           \
    "  --mtu N             68..65535 (default 1500)\n"                                      \
    "  --addr A/P          an address of the stack (repeatable)\n"                          \
    "  --gateway A         default router (repeatable, one per family)\n"                   \
    "  --host-addr A/P     an address for the kernel side of the TAP (repeatable)\n"        \
    "  --slaac on|off      IPv6 addresses from Router Advertisements (default on)\n"        \
    "  --trace[=LAYERS]    explain each decision on stderr: all (default) or a list of\n"   \
    "                      link,arp,nd,ipv4,ipv6,frag,icmp,icmpv6,udp,wsk,irp\n"           \
    "  --trace-format F    text (default) or json (JSON Lines)\n"                          \
    "  --trace-file PATH   write the trace to PATH instead of stderr\n"                    \
    "  --pcap FILE         capture every frame sent and received (libpcap, ns stamps)\n"    \
    "  --config 'k=v;...'  any other keys, as WSKSTACK_CONFIG text (repeatable)\n"          \
    "The configuration is WSKSTACK_CONFIG from the environment, then each --config,\n"      \
    "then the options above: single-valued keys take the last value given; an\n"            \
    "--addr, --gateway or --host-addr option replaces every value of that key from\n"       \
    "WSKSTACK_CONFIG and --config.\n"                                                       \
    "\n"                                                                                    \
    "Counters:\n"                                                                           \
    "  --counters          print the stack's counters (nstat -j style JSON) on\n"           \
    "                      standard error at exit\n"                                        \
    "  SIGUSR1             prints the same JSON on standard error at any time\n"

#define WT_MAX_TEXT 4096

struct wt_cfg {
    char env_and_config[WT_MAX_TEXT];   /* WSKSTACK_CONFIG ; --config ... */
    char opts[WT_MAX_TEXT];             /* key=value;... from the key options */
    bool replaces[3];                   /* addr, host-addr, gateway given as options */
    bool counters;
    bool overflow;
};

static inline void wt_append(char *dst, const char *seg, bool *overflow)
{
    size_t n = strlen(dst);
    int w = snprintf(dst + n, WT_MAX_TEXT - n, "%s%s", n && dst[n - 1] != ';' ? ";" : "", seg);
    if (w < 0 || (size_t)w >= WT_MAX_TEXT - n)
        *overflow = true;
}

static inline void wt_cfg_init(struct wt_cfg *c)
{
    memset(c, 0, sizeof *c);
    const char *env = getenv("WSKSTACK_CONFIG");
    if (env && *env)
        wt_append(c->env_and_config, env, &c->overflow);
}

/* Handle one getopt_long result.  true if it was a configuration option. */
static inline bool wt_cfg_option(struct wt_cfg *c, int opt, const char *arg)
{
    static const char *const keys[] = {"tap", "mac", "mtu", "addr", "gateway", "host-addr",
                                       "slaac", "trace", "trace-format", "trace-file", "pcap"};
    char seg[512];
    switch (opt) {
    case WT_OPT_TAP: case WT_OPT_MAC: case WT_OPT_MTU: case WT_OPT_ADDR: case WT_OPT_GATEWAY:
    case WT_OPT_HOST_ADDR: case WT_OPT_SLAAC: case WT_OPT_TRACE: case WT_OPT_TRACE_FORMAT:
    case WT_OPT_TRACE_FILE: case WT_OPT_PCAP:
        if (opt == WT_OPT_TRACE && arg == NULL)
            arg = "all"; /* bare --trace */
        if (strchr(arg, ';')) {
            c->overflow = true;   /* a ';' would smuggle in another key */
            return true;
        }
        snprintf(seg, sizeof seg, "%s=%s", keys[opt - WT_OPT_TAP], arg);
        wt_append(c->opts, seg, &c->overflow);
        if (opt == WT_OPT_ADDR)
            c->replaces[0] = true;
        if (opt == WT_OPT_HOST_ADDR)
            c->replaces[1] = true;
        if (opt == WT_OPT_GATEWAY)
            c->replaces[2] = true;
        return true;
    case WT_OPT_CONFIG:
        wt_append(c->env_and_config, arg, &c->overflow);
        return true;
    case WT_OPT_COUNTERS:
        c->counters = true;
        return true;
    default:
        return false;
    }
}

/* The combined configuration text into out (WT_MAX_TEXT * 2 bytes), then
 * checked with wskstack_config_parse.  0, or -EINVAL with the parser's
 * message (naming the key) in err. */
static inline int wt_cfg_text(const struct wt_cfg *c, char *out, size_t outlen, char *err,
                              size_t errlen)
{
    static const char *const rep[3] = {"addr", "host-addr", "gateway"};
    bool overflow = c->overflow;
    char tmp[WT_MAX_TEXT];
    out[0] = '\0';
    tmp[0] = '\0';
    /* Keep each segment of env/--config unless its key is replaced. */
    const char *s = c->env_and_config;
    while (*s) {
        const char *e = strchr(s, ';');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char seg[WT_MAX_TEXT];
        snprintf(seg, sizeof seg, "%.*s", (int)n, s);
        const char *k = seg;
        while (*k == ' ' || *k == '\t')
            k++;
        size_t kl = strcspn(k, "= \t");
        bool drop = kl == 0 && *k == '\0';   /* empty segment */
        for (int i = 0; i < 3 && !drop; i++)
            if (c->replaces[i] && kl == strlen(rep[i]) && strncmp(k, rep[i], kl) == 0)
                drop = true;
        if (!drop)
            wt_append(tmp, seg, &overflow);
        s += n;
        if (*s == ';')
            s++;
    }
    if (c->opts[0])
        wt_append(tmp, c->opts, &overflow);
    if (overflow) {
        snprintf(err, errlen, "configuration: a value holds ';' or the text is too long");
        return -EINVAL;
    }
    snprintf(out, outlen, "%s", tmp);
    struct wskstack_config *cfg = wskstack_config_new();
    if (cfg == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = wskstack_config_parse(cfg, out, err, errlen);
    wskstack_config_free(cfg);
    return rc;
}

/* Strict unsigned number in [lo, hi]. */
static inline bool wt_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Seconds, with a fraction ("0.2", "3"), in (0, max]; milliseconds out. */
static inline bool wt_seconds(const char *s, double max, unsigned long *ms)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
        return false;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= 0.0) || v > max)
        return false;
    *ms = (unsigned long)(v * 1000.0 + 0.5);
    return true;
}

/* ---- signals --------------------------------------------------------------------
 * SIGINT / SIGTERM set wt_stop (the tool ends after its current step; a
 * second signal exits at once with 128 + its number), SIGUSR1 sets wt_usr1
 * (the tool prints its counters).  No SA_RESTART: a blocked read returns
 * EINTR, so a tool waiting on standard input notices either. */
static volatile sig_atomic_t wt_stop, wt_usr1;

static void wt_on_stop(int sig)
{
    if (wt_stop)
        _exit(128 + sig);
    wt_stop = sig;
}

static void wt_on_usr1(int sig)
{
    (void)sig;
    wt_usr1 = 1;
}

static inline void wt_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = wt_on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = wt_on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
}

/* --ready-fd: one byte, then the descriptor is closed (*fd = -1).  A
 * caller whose setup failed closes it without the byte: the reader sees
 * EOF instead. */
static inline void wt_ready(const char *tool, int *fd)
{
    if (*fd < 0)
        return;
    ssize_t n;
    do
        n = write(*fd, "R", 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        fprintf(stderr, "%s: --ready-fd %d: %s\n", tool, *fd, strerror(errno));
    close(*fd);
    *fd = -1;
}

#endif /* WSS_WSKTOOL_H */
