/* SPDX-License-Identifier: MIT */
/*
 * bench_util.c - the clock, the common options, the result line and the
 * frame builders of bench_util.h.
 *
 * The frames are built here by hand, not with the stack's own emitters
 * (stack/wire/): a benchmark that fed the stack what the stack itself
 * writes would not notice a bug the two share.  The receive benchmarks
 * check the stack's counters afterwards, so a frame the stack rejected
 * fails the run instead of making it look fast.
 */
#include "bench_util.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bench_pin_cpu(unsigned cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "error: --cpu %u: sched_setaffinity: %s\n", cpu, strerror(errno));
        return -1;
    }
    return 0;
}

int bench_netns_enter(void)
{
    if (unshare(CLONE_NEWNET) != 0) {
        int e = errno;
        /* Not root: an unprivileged user namespace may still allow it. */
        if (e != EPERM || unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
            fprintf(stderr, "error: unshare(CLONE_NEWNET): %s\n", strerror(e));
            return -1;
        }
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "error: socket: %s\n", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    if (rc != 0)
        fprintf(stderr, "error: bringing lo up: %s\n", strerror(errno));
    close(fd);
    return rc == 0 ? 0 : -1;
}

/* ---- command line ------------------------------------------------------------ */
const char bench_opts_usage[] =
    "  --count N        datagrams per measurement\n"
    "  --warmup N       datagrams before the first measurement (not measured)\n"
    "  --repeats R      measurements of each kind (one result line each)\n"
    "  --payload B      UDP payload bytes, 1..1400 (default 18)\n"
    "  --family 4|6|both\n"
    "  --max-seconds S  bound on one measurement (default 30); reaching it fails the run\n"
    "  --cpu N          run every thread of the benchmark on CPU N\n";

void bench_opts_init(struct bench_opts *o, unsigned long count, unsigned long warmup)
{
    memset(o, 0, sizeof *o);
    o->count = count;
    o->warmup = warmup;
    o->repeats = 1;
    o->payload = 18; /* PERF-NOTES measures 18-byte datagrams */
    o->v4 = o->v6 = true;
    o->max_seconds = 30.0;
    o->cpu = -1;
}

bool bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int bad_value(const char *opt, const char *v)
{
    fprintf(stderr, "error: %s: bad value \"%s\"\n", opt, v ? v : "(missing)");
    return -1;
}

int bench_opts_parse(struct bench_opts *o, int argc, char **argv, int *i)
{
    const char *opt = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    unsigned long n;
    if (strcmp(opt, "--count") == 0) {
        if (!bench_parse_ulong(v, 1, 100000000ul, &o->count))
            return bad_value(opt, v);
    } else if (strcmp(opt, "--warmup") == 0) {
        if (!bench_parse_ulong(v, 0, 100000000ul, &o->warmup))
            return bad_value(opt, v);
    } else if (strcmp(opt, "--repeats") == 0) {
        if (!bench_parse_ulong(v, 1, 1000, &n))
            return bad_value(opt, v);
        o->repeats = (unsigned)n;
    } else if (strcmp(opt, "--payload") == 0) {
        if (!bench_parse_ulong(v, 1, 1400, &n))
            return bad_value(opt, v);
        o->payload = (unsigned)n;
    } else if (strcmp(opt, "--family") == 0) {
        if (v == NULL)
            return bad_value(opt, v);
        o->v4 = strcmp(v, "4") == 0 || strcmp(v, "both") == 0;
        o->v6 = strcmp(v, "6") == 0 || strcmp(v, "both") == 0;
        if (!o->v4 && !o->v6)
            return bad_value(opt, v);
    } else if (strcmp(opt, "--max-seconds") == 0) {
        if (!bench_parse_ulong(v, 1, 3600, &n))
            return bad_value(opt, v);
        o->max_seconds = (double)n;
    } else if (strcmp(opt, "--cpu") == 0) {
        if (!bench_parse_ulong(v, 0, 1023, &n))
            return bad_value(opt, v);
        o->cpu = (int)n;
    } else {
        return 0;
    }
    *i += 1;
    return 1;
}

/* ---- output -------------------------------------------------------------------- */
void bench_result(const char *bench, const char *variant, int family, const char *dir,
                  unsigned long count, double value, const char *unit, double cpu)
{
    printf("result bench=%s variant=%s family=ipv%d dir=%s count=%lu value=%.1f unit=%s", bench,
           variant, family, dir, count, value, unit);
    if (cpu >= 0)
        printf(" cpu=%.1f", cpu);
    printf("\n");
    fflush(stdout);
}

/* ---- frames -------------------------------------------------------------------- */
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1071 one's complement sum of len bytes, added to sum (not folded). */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)((p[i] << 8) | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The UDP header and payload at u; the checksum over pseudo + u. */
static void udp_fill(uint8_t *u, const struct bench_frame_addrs *a, const uint8_t *payload,
                     size_t plen, uint32_t pseudo)
{
    put16(u, a->sport);
    put16(u + 2, a->dport);
    put16(u + 4, (uint16_t)(8 + plen));
    put16(u + 6, 0);
    memcpy(u + 8, payload, plen);
    uint16_t c = fold(sum16(u, 8 + plen, pseudo));
    put16(u + 6, c == 0 ? 0xffff : c); /* RFC 768: a computed 0 is sent as all ones */
}

size_t bench_frame_udp4(uint8_t *buf, const struct bench_frame_addrs *a, uint16_t ip_id,
                        const uint8_t *payload, size_t plen)
{
    memcpy(buf, a->dmac, 6);
    memcpy(buf + 6, a->smac, 6);
    put16(buf + 12, 0x0800);
    uint8_t *ip = buf + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 8 + plen));
    put16(ip + 4, ip_id);
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, a->src4, 4);
    memcpy(ip + 16, a->dst4, 4);
    put16(ip + 10, fold(sum16(ip, 20, 0)));
    uint32_t pseudo = sum16(ip + 12, 8, 0) + 17u + (uint32_t)(8 + plen);
    udp_fill(ip + 20, a, payload, plen, pseudo);
    size_t n = 14 + 20 + 8 + plen;
    while (n < 60)
        buf[n++] = 0; /* Ethernet minimum frame (without FCS) */
    return n;
}

size_t bench_frame_udp6(uint8_t *buf, const struct bench_frame_addrs *a, const uint8_t *payload,
                        size_t plen)
{
    memcpy(buf, a->dmac, 6);
    memcpy(buf + 6, a->smac, 6);
    put16(buf + 12, 0x86dd);
    uint8_t *ip = buf + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    put16(ip + 4, (uint16_t)(8 + plen));
    ip[6] = 17;
    ip[7] = 64;
    memcpy(ip + 8, a->src6, 16);
    memcpy(ip + 24, a->dst6, 16);
    uint32_t pseudo = sum16(ip + 8, 32, 0) + 17u + (uint32_t)(8 + plen);
    udp_fill(ip + 40, a, payload, plen, pseudo);
    return 14 + 40 + 8 + plen;
}
