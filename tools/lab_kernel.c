/* SPDX-License-Identifier: MIT */
/*
 * lab_kernel.c - the Linux-socket side of the lab (see lab_kernel.h).
 * This file never includes a Windows header; the WSK side never includes
 * this file's headers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ifreq, strtok_r, clock_gettime (the build defines it too) */
#endif
#include "lab_kernel.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/rtnetlink.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>

/* ---- time ----------------------------------------------------------------- */
uint64_t lk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void lk_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int lk_wait_until(bool (*cond)(void *ctx), void *ctx, unsigned timeout_ms, unsigned step_ms)
{
    uint64_t deadline = lk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    if (step_ms == 0)
        step_ms = 1;
    for (;;) {
        if (cond(ctx))
            return 0;
        if (lk_now_ns() >= deadline)
            return cond(ctx) ? 0 : -ETIMEDOUT;
        lk_sleep_ms(step_ms);
    }
}

/* Milliseconds left until deadline (ns), for poll(). */
static int ms_left(uint64_t deadline)
{
    uint64_t now = lk_now_ns();
    if (now >= deadline)
        return 0;
    return (int)((deadline - now + 999999ull) / 1000000ull);
}

/* Wait until fd is readable or the deadline passes: 0 readable, -ETIMEDOUT. */
static int wait_readable(int fd, uint64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, ms_left(deadline));
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

/* ---- addresses and interfaces ---------------------------------------------------- */
int lk_addr_parse(const char *s, uint8_t out[4])
{
    struct in_addr a;
    if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
        return -EINVAL;
    memcpy(out, &a.s_addr, 4);
    return 0;
}

const char *lk_mac_str(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
    return buf;
}

int lk_ifindex(const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    return idx ? (int)idx : -ENODEV;
}

int lk_if_mac(const char *ifname, uint8_t mac[6])
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    int rc = ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 ? 0 : -errno;
    if (rc == 0)
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(fd);
    return rc;
}

/* ---- UDP ------------------------------------------------------------------------- */
/* One sockaddr for either family: addr NULL or "" is the wildcard.  IPv6
 * accepts "fe80::1%ifname" (lk_addr6_parse).  0 or -EINVAL. */
static int to_sa(int family, const char *addr, uint16_t port, struct sockaddr_storage *ss,
                 socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        *len = sizeof *sin6;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        if (addr == NULL || *addr == '\0')
            return 0; /* in6addr_any */
        return lk_addr6_parse(addr, sin6->sin6_addr.s6_addr, &sin6->sin6_scope_id);
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    *len = sizeof *sin;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (addr == NULL || *addr == '\0')
        return 0; /* INADDR_ANY */
    return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

/* "192.0.2.1", "2001:db8::1" or "fe80::1%3" (the scope as a number), and the port. */
static void sa_str(const struct sockaddr_storage *ss, char *out, size_t outlen, uint16_t *port)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
        if (sin6->sin6_scope_id != 0)
            snprintf(out, outlen, "%s%%%u", a, (unsigned)sin6->sin6_scope_id);
        else
            snprintf(out, outlen, "%s", a);
        if (port)
            *port = ntohs(sin6->sin6_port);
        return;
    }
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
    snprintf(out, outlen, "%s", a);
    if (port)
        *port = ntohs(sin->sin_port);
}

/* A bound UDP socket.  IPv6 sockets are V6ONLY and report ICMPv6 errors in
 * their error queue (IPV6_RECVERR, read by lk_udp6_recv_error). */
static int udp_open(int family, const char *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (to_sa(family, addr, port, &ss, &sl) != 0)
        return -EINVAL;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static long udp_sendto(int family, int fd, const void *buf, size_t len, const char *addr,
                       uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (addr == NULL || to_sa(family, addr, port, &ss, &sl) != 0)
        return -EINVAL;
    ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl);
    return n < 0 ? -errno : (long)n;
}

/* One datagram within timeout_ms; its source into src (srclen bytes). */
static long udp_recv(int fd, void *buf, size_t cap, unsigned timeout_ms, char *src, size_t srclen,
                     uint16_t *sport)
{
    uint64_t deadline = lk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int w = wait_readable(fd, deadline);
        if (w != 0)
            return w;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        /* MSG_TRUNC: return the real length even when it does not fit. */
        ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&ss, &sl);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            /* A pending ICMP error reported on this socket is not a
             * datagram (IPv6: it stays queued for lk_udp6_recv_error). */
            if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == EMSGSIZE ||
                errno == ENETUNREACH)
                continue;
            return -errno;
        }
        char tmp[LK_ADDR6STRLEN];
        uint16_t port;
        sa_str(&ss, tmp, sizeof tmp, &port);
        if (src)
            snprintf(src, srclen, "%s", tmp);
        if (sport)
            *sport = port;
        return (long)n;
    }
}

int lk_udp_open(const char *addr, uint16_t port) { return udp_open(AF_INET, addr, port); }

int lk_udp_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -errno;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

long lk_udp_sendto(int fd, const void *buf, size_t len, const char *addr, uint16_t port)
{
    return udp_sendto(AF_INET, fd, buf, len, addr, port);
}

long lk_udp_recv(int fd, void *buf, size_t cap, unsigned timeout_ms,
                 char src[LK_ADDRSTRLEN], uint16_t *sport)
{
    return udp_recv(fd, buf, cap, timeout_ms, src, LK_ADDRSTRLEN, sport);
}

void lk_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* ---- ICMP echo ------------------------------------------------------------------- */
/* RFC 1071 Internet checksum. */
static uint16_t inet_csum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

#define LK_PING_MAX 1472

/* One echo request to addr and its reply, for either family: the round-trip
 * time in ns (at least 1), or -errno (-ETIMEDOUT, -EBADMSG when the reply's
 * payload or checksum is wrong).  A raw socket sees every ICMP message of
 * the namespace, so only the reply from addr with our id and seq counts.
 * IPv4: the reply arrives with its IPv4 header and we check its checksum;
 * IPv6: the kernel computes and verifies ICMPv6 checksums (RFC 3542 §3.1)
 * and a filter lets only echo replies through (RFC 3542 §3.2). */
static int64_t echo_ping(int family, const char *addr, uint16_t id, uint16_t seq,
                         size_t payload_len, unsigned timeout_ms)
{
    const bool v6 = family == AF_INET6;
    struct sockaddr_storage dst;
    socklen_t dl;
    if (addr == NULL || to_sa(family, addr, 0, &dst, &dl) != 0 ||
        payload_len > (v6 ? LK_PING6_MAX : LK_PING_MAX))
        return -EINVAL;
    int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    if (fd < 0)
        return -errno;
    if (v6) {
        struct icmp6_filter flt;
        ICMP6_FILTER_SETBLOCKALL(&flt);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &flt);
        (void)setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &flt, sizeof flt);
        /* A large buffer: a 65000-byte reply must not be dropped. */
        int rcv = 1 << 20;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    }
    const size_t qlen = 8 + payload_len, cap = 60 + qlen + 64;
    uint8_t *req = calloc(1, qlen), *buf = malloc(cap);
    int64_t result = -ENOMEM;
    if (req == NULL || buf == NULL)
        goto out;
    req[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
    req[4] = (uint8_t)(id >> 8);
    req[5] = (uint8_t)id;
    req[6] = (uint8_t)(seq >> 8);
    req[7] = (uint8_t)seq;
    for (size_t i = 0; i < payload_len; i++)
        req[8 + i] = (uint8_t)(0x20 + (i + seq) % 95); /* printable, varies per seq */
    if (!v6) {
        uint16_t c = inet_csum(req, qlen);
        memcpy(req + 2, &c, 2);
    }
    const uint64_t t0 = lk_now_ns(), deadline = t0 + (uint64_t)timeout_ms * 1000000ull;
    if (sendto(fd, req, qlen, 0, (struct sockaddr *)&dst, dl) < 0) {
        result = -errno;
        goto out;
    }
    const uint8_t echo_reply = v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY;
    for (;;) {
        int w = wait_readable(fd, deadline);
        if (w != 0) {
            result = w;
            break;
        }
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        uint64_t t1 = lk_now_ns();
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            result = -errno;
            break;
        }
        bool same = v6 ? memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr,
                                &((struct sockaddr_in6 *)&dst)->sin6_addr, 16) == 0
                       : ((struct sockaddr_in *)&from)->sin_addr.s_addr ==
                             ((struct sockaddr_in *)&dst)->sin_addr.s_addr;
        size_t ihl = 0;
        if (!v6) {
            ihl = n >= 20 ? (size_t)(buf[0] & 0x0f) * 4 : 0;
            if (ihl < 20)
                continue;
        }
        if (!same || (size_t)n < ihl + 8)
            continue;
        const uint8_t *icmp = buf + ihl;
        size_t icmp_len = (size_t)n - ihl;
        if (icmp[0] != echo_reply || icmp[1] != 0)
            continue;
        if (((uint16_t)icmp[4] << 8 | icmp[5]) != id || ((uint16_t)icmp[6] << 8 | icmp[7]) != seq)
            continue;
        if (icmp_len != qlen || memcmp(icmp + 8, req + 8, payload_len) != 0 ||
            (!v6 && inet_csum(icmp, icmp_len) != 0)) {
            result = -EBADMSG;
            break;
        }
        result = (int64_t)(t1 - t0);
        if (result <= 0)
            result = 1;
        break;
    }
out:
    free(req);
    free(buf);
    close(fd);
    return result;
}

int64_t lk_ping(const char *addr, uint16_t id, uint16_t seq, size_t payload_len,
                unsigned timeout_ms)
{
    return echo_ping(AF_INET, addr, id, seq, payload_len, timeout_ms);
}

/* ---- neighbours ------------------------------------------------------------------ */
static const char *nud_name(int nud)
{
    /* `ip neigh` prints the state bits; one is set for the entries we read. */
    static const struct { int bit; const char *name; } names[] = {
        {NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
        {NUD_DELAY, "DELAY"},           {NUD_PROBE, "PROBE"},         {NUD_FAILED, "FAILED"},
        {NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (nud & names[i].bit)
            return names[i].name;
    return "NONE";
}

static int neigh_get(int family, const char *ifname, const char *addr, struct lk_neigh *out);

int lk_neigh_get(const char *ifname, const char *addr, struct lk_neigh *out)
{
    return neigh_get(AF_INET, ifname, addr, out);
}

/* ---- /proc/net/snmp ---------------------------------------------------------------- */
int64_t lk_snmp(const char *group, const char *name)
{
    FILE *f = fopen("/proc/net/snmp", "re");
    if (f == NULL)
        return -1;
    /* Pairs of lines: "Udp: InDatagrams NoPorts ..." then "Udp: 12 0 ...". */
    char head[2048], vals[2048];
    size_t glen = strlen(group);
    int64_t result = -1;
    while (fgets(head, sizeof head, f) && fgets(vals, sizeof vals, f)) {
        if (strncmp(head, group, glen) != 0 || head[glen] != ':')
            continue;
        char *sh = NULL, *sv = NULL;
        char *h = strtok_r(head + glen + 1, " \n", &sh);
        char *v = strtok_r(vals + glen + 1, " \n", &sv);
        while (h && v) {
            if (strcmp(h, name) == 0) {
                result = strtoll(v, NULL, 10);
                break;
            }
            h = strtok_r(NULL, " \n", &sh);
            v = strtok_r(NULL, " \n", &sv);
        }
        break;
    }
    fclose(f);
    return result;
}

/* ---- capture ------------------------------------------------------------------------ */
int lk_capture_open(const char *ifname, uint16_t ethertype)
{
    /* ETH_P_ALL even for one EtherType: frames the kernel SENDS are handed
     * only to ETH_P_ALL packet sockets (dev_queue_xmit_nit).  A classic BPF
     * filter keeps just the wanted EtherType. */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0)
        return -errno;
    if (ethertype != 0) {
        struct sock_filter code[] = {
            BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),                 /* EtherType */
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ethertype, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, 0xffff),                      /* keep */
            BPF_STMT(BPF_RET | BPF_K, 0),                           /* drop */
        };
        struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
            int e = errno;
            close(fd);
            return -e;
        }
    }
    if (ifname != NULL) {
        int idx = lk_ifindex(ifname);
        struct sockaddr_ll sll;
        memset(&sll, 0, sizeof sll);
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = idx;
        if (idx < 0 || bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
            int e = idx < 0 ? -idx : errno;
            close(fd);
            return -e;
        }
    }
    /* Frames queued before the filter and the binding took effect. */
    char junk[1];
    while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) >= 0)
        ;
    return fd;
}

long lk_capture_next(int fd, void *buf, size_t cap, unsigned timeout_ms, int *dir, int *ifindex)
{
    uint64_t deadline = lk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int w = wait_readable(fd, deadline);
        if (w != 0)
            return w;
        struct sockaddr_ll sll;
        socklen_t sl = sizeof sll;
        ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&sll, &sl);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return -errno;
        }
        if (dir)
            *dir = sll.sll_pkttype == PACKET_OUTGOING ? LK_DIR_OUT : LK_DIR_IN;
        if (ifindex)
            *ifindex = sll.sll_ifindex;
        return (long)n;
    }
}

int lk_capture_arp(int fd, unsigned timeout_ms, struct lk_arp *out)
{
    uint8_t f[1600];
    memset(out, 0, sizeof *out);
    long n = lk_capture_next(fd, f, sizeof f, timeout_ms, &out->dir, &out->ifindex);
    if (n < 0)
        return (int)n;
    /* RFC 826 over Ethernet: htype 1, ptype 0x0800, hlen 6, plen 4. */
    if (n < 14 + 28 || f[12] != 0x08 || f[13] != 0x06 || f[14] != 0 || f[15] != 1 ||
        f[16] != 0x08 || f[17] != 0x00 || f[18] != 6 || f[19] != 4)
        return -EBADMSG;
    memcpy(out->eth_dst, f, 6);
    memcpy(out->eth_src, f + 6, 6);
    out->op = (uint16_t)(f[20] << 8 | f[21]);
    memcpy(out->sha, f + 22, 6);
    inet_ntop(AF_INET, f + 28, out->spa, LK_ADDRSTRLEN);
    memcpy(out->tha, f + 32, 6);
    inet_ntop(AF_INET, f + 38, out->tpa, LK_ADDRSTRLEN);
    return 0;
}

/* ---- numeric addresses of either family (appended for wskcat / wsk-ping) ------- */
int lk_inet_pton(const char *s, uint8_t out[16])
{
    if (s == NULL)
        return -EINVAL;
    if (inet_pton(AF_INET, s, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, out) == 1)
        return 6;
    return -EINVAL;
}

const char *lk_inet_ntop(int family, const uint8_t *addr, char *buf, size_t len)
{
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
    return buf;
}

/* ==== IPv6 (appended for issue 4: the IPv6 lab; see lab_kernel.h) ================== */

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

extern char **environ;

int lk_addr6_parse(const char *s, uint8_t out[16], uint32_t *scope_id)
{
    if (s == NULL)
        return -EINVAL;
    char buf[LK_ADDR6STRLEN];
    if (strlen(s) >= sizeof buf)
        return -EINVAL;
    snprintf(buf, sizeof buf, "%s", s);
    uint32_t scope = 0;
    char *pct = strchr(buf, '%');
    if (pct != NULL) {
        *pct++ = '\0';
        char *end = NULL;
        unsigned long n = strtoul(pct, &end, 10);
        if (*pct != '\0' && end != NULL && *end == '\0')
            scope = (uint32_t)n;
        else
            scope = if_nametoindex(pct);
        if (scope == 0)
            return -EINVAL;
    }
    struct in6_addr a;
    if (inet_pton(AF_INET6, buf, &a) != 1)
        return -EINVAL;
    memcpy(out, &a, 16);
    if (scope_id)
        *scope_id = scope;
    return 0;
}

const char *lk_addr6_str(const uint8_t a[16], char buf[LK_ADDR6STRLEN])
{
    if (inet_ntop(AF_INET6, a, buf, LK_ADDR6STRLEN) == NULL)
        snprintf(buf, LK_ADDR6STRLEN, "?");
    return buf;
}

int lk_udp6_open(const char *addr, uint16_t port) { return udp_open(AF_INET6, addr, port); }

long lk_udp6_sendto(int fd, const void *buf, size_t len, const char *addr, uint16_t port)
{
    return udp_sendto(AF_INET6, fd, buf, len, addr, port);
}

long lk_udp6_recv(int fd, void *buf, size_t cap, unsigned timeout_ms,
                  char src[LK_ADDR6STRLEN], uint16_t *sport)
{
    return udp_recv(fd, buf, cap, timeout_ms, src, LK_ADDR6STRLEN, sport);
}

int lk_udp6_recv_error(int fd, unsigned timeout_ms, struct lk_icmp6_err *out)
{
    memset(out, 0, sizeof *out);
    uint64_t deadline = lk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        uint8_t data[2048];
        uint8_t ctl[512];
        struct sockaddr_in6 from;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                            .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
        ssize_t n = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
        if (n >= 0) {
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != IPPROTO_IPV6 || c->cmsg_type != IPV6_RECVERR)
                    continue;
                struct sock_extended_err ee;
                memcpy(&ee, CMSG_DATA(c), sizeof ee);
                if (ee.ee_origin != SO_EE_ORIGIN_ICMP6)
                    continue;
                out->type = ee.ee_type;
                out->code = ee.ee_code;
                out->info = ee.ee_info;
                out->err = (int)ee.ee_errno;
                struct sockaddr_storage off = {0};
                memcpy(&off, (const uint8_t *)CMSG_DATA(c) + sizeof ee, sizeof(struct sockaddr_in6));
                sa_str(&off, out->offender, sizeof out->offender, NULL);
                return 0;
            }
            continue; /* not an ICMPv6 error: look at the next one */
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        /* The error queue signals POLLERR. */
        int left = ms_left(deadline);
        if (left == 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = 0};
        (void)poll(&p, 1, left > 10 ? 10 : left);
    }
}

long lk_raw6_send(int proto, const char *src, const char *dst, const void *payload, size_t len)
{
    struct sockaddr_storage d, sa;
    socklen_t dl, sl;
    if (dst == NULL || to_sa(AF_INET6, dst, 0, &d, &dl) != 0)
        return -EINVAL;
    if (src != NULL && to_sa(AF_INET6, src, 0, &sa, &sl) != 0)
        return -EINVAL;
    int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, proto);
    if (fd < 0)
        return -errno;
    long rc;
    if (src != NULL && bind(fd, (struct sockaddr *)&sa, sl) != 0) {
        rc = -errno;
    } else {
        ssize_t n = sendto(fd, payload, len, 0, (struct sockaddr *)&d, dl);
        rc = n < 0 ? -errno : (long)n;
    }
    close(fd);
    return rc;
}

int64_t lk_ping6(const char *addr, uint16_t id, uint16_t seq, size_t payload_len,
                 unsigned timeout_ms)
{
    return echo_ping(AF_INET6, addr, id, seq, payload_len, timeout_ms);
}

/* ---- libnl-route helpers ------------------------------------------------------------ */
static struct nl_sock *nl_route_open(void)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (sk == NULL)
        return NULL;
    if (nl_connect(sk, NETLINK_ROUTE) < 0) {
        nl_socket_free(sk);
        return NULL;
    }
    return sk;
}

static void nl_route_close(struct nl_sock *sk)
{
    nl_close(sk);
    nl_socket_free(sk);
}

/* The kernel's neighbour entry for addr (ARP or ND cache) on ifname. */
static int neigh_get(int family, const char *ifname, const char *addr, struct lk_neigh *out)
{
    memset(out, 0, sizeof *out);
    int ifindex = lk_ifindex(ifname);
    if (ifindex < 0)
        return ifindex;
    struct nl_sock *sk = nl_route_open();
    if (sk == NULL)
        return -ECONNREFUSED;
    int rc = 0;
    struct nl_cache *cache = NULL;
    struct nl_addr *dst = NULL;
    if (rtnl_neigh_alloc_cache(sk, &cache) < 0) {
        rc = -EIO;
        goto out;
    }
    if (nl_addr_parse(addr, family, &dst) < 0) {
        rc = -EINVAL;
        goto out;
    }
    struct rtnl_neigh *n = rtnl_neigh_get(cache, ifindex, dst);
    if (n == NULL) {
        rc = -ENOENT;
        goto out;
    }
    out->nud = rtnl_neigh_get_state(n);
    snprintf(out->state, sizeof out->state, "%s", nud_name(out->nud));
    struct nl_addr *ll = rtnl_neigh_get_lladdr(n);
    if (ll != NULL && nl_addr_get_len(ll) == 6) {
        memcpy(out->mac, nl_addr_get_binary_addr(ll), 6);
        out->has_mac = true;
    }
    rtnl_neigh_put(n);
out:
    if (dst)
        nl_addr_put(dst);
    if (cache)
        nl_cache_free(cache);
    nl_route_close(sk);
    return rc;
}

int lk_neigh6_get(const char *ifname, const char *addr, struct lk_neigh *out)
{
    return neigh_get(AF_INET6, ifname, addr, out);
}

int lk_neigh6_add_permanent(const char *ifname, const char *addr, const uint8_t mac[6])
{
    int ifindex = lk_ifindex(ifname);
    if (ifindex < 0)
        return ifindex;
    struct nl_sock *sk = nl_route_open();
    if (sk == NULL)
        return -ECONNREFUSED;
    int rc = -ENOMEM;
    struct nl_addr *dst = NULL, *ll = NULL;
    struct rtnl_neigh *n = rtnl_neigh_alloc();
    if (n == NULL)
        goto out;
    if (nl_addr_parse(addr, AF_INET6, &dst) < 0 || (ll = nl_addr_build(AF_LLC, mac, 6)) == NULL) {
        rc = -EINVAL;
        goto out;
    }
    rtnl_neigh_set_ifindex(n, ifindex);
    rtnl_neigh_set_family(n, AF_INET6);
    rtnl_neigh_set_dst(n, dst);
    rtnl_neigh_set_lladdr(n, ll);
    rtnl_neigh_set_state(n, NUD_PERMANENT);
    rc = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE) < 0 ? -EIO : 0;
out:
    if (dst)
        nl_addr_put(dst);
    if (ll)
        nl_addr_put(ll);
    if (n)
        rtnl_neigh_put(n);
    nl_route_close(sk);
    return rc;
}

int lk_addr6_add(const char *ifname, const char *prefix, bool nodad)
{
    int ifindex = lk_ifindex(ifname);
    if (ifindex < 0)
        return ifindex;
    struct nl_sock *sk = nl_route_open();
    if (sk == NULL)
        return -ECONNREFUSED;
    int rc = -ENOMEM;
    struct nl_addr *local = NULL;
    struct rtnl_addr *a = rtnl_addr_alloc();
    if (a == NULL)
        goto out;
    if (nl_addr_parse(prefix, AF_INET6, &local) < 0 || strchr(prefix, '/') == NULL) {
        rc = -EINVAL;
        goto out;
    }
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_family(a, AF_INET6);
    if (rtnl_addr_set_local(a, local) < 0) {
        rc = -EINVAL;
        goto out;
    }
    rtnl_addr_set_prefixlen(a, (int)nl_addr_get_prefixlen(local));
    if (nodad)
        rtnl_addr_set_flags(a, IFA_F_NODAD);
    int e = rtnl_addr_add(sk, a, 0);
    rc = e == 0 ? 0 : e == -NLE_EXIST ? -EEXIST : -EIO;
out:
    if (local)
        nl_addr_put(local);
    if (a)
        rtnl_addr_put(a);
    nl_route_close(sk);
    return rc;
}

/* Walk the IPv6 addresses of ifindex: cb returns true to stop. */
struct addr6_walk {
    int ifindex;
    bool (*cb)(struct addr6_walk *w, const uint8_t a[16], unsigned flags);
    const uint8_t *want;
    unsigned flags;
    uint8_t found[16];
    bool hit;
};

static void addr6_walk_one(struct nl_object *obj, void *arg)
{
    struct addr6_walk *w = arg;
    struct rtnl_addr *a = (struct rtnl_addr *)obj;
    if (w->hit || rtnl_addr_get_family(a) != AF_INET6 || rtnl_addr_get_ifindex(a) != w->ifindex)
        return;
    struct nl_addr *l = rtnl_addr_get_local(a);
    if (l == NULL || nl_addr_get_len(l) != 16)
        return;
    if (w->cb(w, nl_addr_get_binary_addr(l), rtnl_addr_get_flags(a)))
        w->hit = true;
}

static int addr6_walk(const char *ifname, struct addr6_walk *w)
{
    w->ifindex = lk_ifindex(ifname);
    if (w->ifindex < 0)
        return w->ifindex;
    struct nl_sock *sk = nl_route_open();
    if (sk == NULL)
        return -ECONNREFUSED;
    struct nl_cache *cache = NULL;
    int rc = rtnl_addr_alloc_cache(sk, &cache) < 0 ? -EIO : 0;
    if (rc == 0) {
        nl_cache_foreach(cache, addr6_walk_one, w);
        nl_cache_free(cache);
        rc = w->hit ? 0 : -ENOENT;
    }
    nl_route_close(sk);
    return rc;
}

static bool addr6_match(struct addr6_walk *w, const uint8_t a[16], unsigned flags)
{
    if (memcmp(a, w->want, 16) != 0)
        return false;
    w->flags = flags;
    return true;
}

int lk_addr6_flags(const char *ifname, const char *addr, unsigned *flags)
{
    uint8_t want[16];
    if (lk_addr6_parse(addr, want, NULL) != 0)
        return -EINVAL;
    struct addr6_walk w = {.cb = addr6_match, .want = want};
    int rc = addr6_walk(ifname, &w);
    if (rc == 0 && flags)
        *flags = w.flags;
    return rc;
}

static bool addr6_is_ll(struct addr6_walk *w, const uint8_t a[16], unsigned flags)
{
    if (a[0] != 0xfe || (a[1] & 0xc0) != 0x80)
        return false;
    memcpy(w->found, a, 16);
    w->flags = flags;
    return true;
}

int lk_linklocal6(const char *ifname, char out[LK_ADDR6STRLEN], bool *tentative)
{
    struct addr6_walk w = {.cb = addr6_is_ll};
    int rc = addr6_walk(ifname, &w);
    if (rc == 0) {
        lk_addr6_str(w.found, out);
        if (tentative)
            *tentative = (w.flags & IFA_F_TENTATIVE) != 0;
    }
    return rc;
}

int lk_mcast6_joined(const char *ifname, const char *group)
{
    uint8_t g[16];
    if (lk_addr6_parse(group, g, NULL) != 0)
        return -EINVAL;
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", g[i]);
    FILE *f = fopen("/proc/net/igmp6", "re");
    if (f == NULL)
        return -errno;
    /* "idx ifname group-in-hex users flags timer" */
    char line[256], name[64], grp[64];
    int idx, joined = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%d %63s %63s", &idx, name, grp) == 3 && strcmp(name, ifname) == 0 &&
            strcmp(grp, hex) == 0) {
            joined = 1;
            break;
        }
    }
    fclose(f);
    return joined;
}

int lk_sysctl(const char *name, const char *value)
{
    char path[256];
    snprintf(path, sizeof path, "/proc/sys/%s", name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int rc = w == (ssize_t)n ? 0 : (w < 0 ? -errno : -EIO);
    close(fd);
    return rc;
}

int lk_veth_add(const char *name, const char *peer)
{
    struct nl_sock *sk = nl_route_open();
    if (sk == NULL)
        return -ECONNREFUSED;
    int rc = -ENOMEM;
    struct rtnl_link *l = rtnl_link_veth_alloc();
    if (l != NULL) {
        rtnl_link_set_name(l, name);
        struct rtnl_link *p = rtnl_link_veth_get_peer(l);
        rtnl_link_set_name(p, peer);
        rtnl_link_put(p);
        rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL) < 0 ? -EIO : 0;
        rtnl_link_veth_release(l);
    }
    nl_route_close(sk);
    return rc;
}

/* Change one link attribute (mtu > 0, or up). */
static int link_change(const char *ifname, uint32_t mtu, bool up)
{
    int ifindex = lk_ifindex(ifname);
    if (ifindex < 0)
        return ifindex;
    struct nl_sock *sk = nl_route_open();
    if (sk == NULL)
        return -ECONNREFUSED;
    int rc = -ENOMEM;
    struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
    if (orig != NULL && chg != NULL) {
        rtnl_link_set_ifindex(orig, ifindex);
        rtnl_link_set_name(orig, ifname);
        if (mtu)
            rtnl_link_set_mtu(chg, mtu);
        if (up)
            rtnl_link_set_flags(chg, IFF_UP);
        rc = rtnl_link_change(sk, orig, chg, 0) < 0 ? -EIO : 0;
    }
    if (orig)
        rtnl_link_put(orig);
    if (chg)
        rtnl_link_put(chg);
    nl_route_close(sk);
    return rc;
}

int lk_link_set_mtu(const char *ifname, uint32_t mtu) { return link_change(ifname, mtu, false); }
int lk_link_up(const char *ifname) { return link_change(ifname, 0, true); }

int lk_route6_get(const char *dst, struct lk_route6 *out)
{
    memset(out, 0, sizeof *out);
    uint8_t d[16];
    uint32_t scope = 0;
    if (lk_addr6_parse(dst, d, &scope) != 0)
        return -EINVAL;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    struct {
        struct nlmsghdr nh;
        struct rtmsg rt;
        uint8_t attrs[64];
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_type = RTM_GETROUTE;
    req.nh.nlmsg_flags = NLM_F_REQUEST;
    req.nh.nlmsg_seq = 1;
    req.rt.rtm_family = AF_INET6;
    req.rt.rtm_dst_len = 128;
    struct rtattr *ra = (struct rtattr *)req.attrs;
    ra->rta_type = RTA_DST;
    ra->rta_len = RTA_LENGTH(16);
    memcpy(RTA_DATA(ra), d, 16);
    size_t alen = RTA_ALIGN(ra->rta_len);
    if (scope != 0) {
        struct rtattr *oa = (struct rtattr *)(req.attrs + alen);
        oa->rta_type = RTA_OIF;
        oa->rta_len = RTA_LENGTH(4);
        memcpy(RTA_DATA(oa), &scope, 4);
        alen += RTA_ALIGN(oa->rta_len);
    }
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)) + (uint32_t)alen;
    int rc = -EIO;
    uint8_t buf[8192];
    if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
        rc = -errno;
        goto out;
    }
    uint64_t deadline = lk_now_ns() + 1000000000ull;
    if (wait_readable(fd, deadline) != 0) {
        rc = -ETIMEDOUT;
        goto out;
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
        rc = -errno;
        goto out;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
         h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(h);
            rc = e->error ? e->error : -EIO;
            break;
        }
        if (h->nlmsg_type != RTM_NEWROUTE)
            continue;
        struct rtmsg *rt = NLMSG_DATA(h);
        int len = (int)RTM_PAYLOAD(h);
        for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
            if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4) {
                memcpy(&out->oif, RTA_DATA(a), 4);
            } else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= 16) {
                lk_addr6_str(RTA_DATA(a), out->gateway);
            } else if (a->rta_type == RTA_METRICS) {
                int ml = (int)RTA_PAYLOAD(a);
                for (struct rtattr *m = RTA_DATA(a); RTA_OK(m, ml); m = RTA_NEXT(m, ml))
                    if (m->rta_type == RTAX_MTU && RTA_PAYLOAD(m) >= 4)
                        memcpy(&out->mtu, RTA_DATA(m), 4);
            }
        }
        rc = 0;
        break;
    }
    if (rc == 0 && out->mtu == 0 && out->oif > 0) {
        /* No MTU metric: the output link's MTU. */
        char name[IF_NAMESIZE];
        struct ifreq ifr;
        int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s >= 0 && if_indextoname((unsigned)out->oif, name) != NULL) {
            memset(&ifr, 0, sizeof ifr);
            snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
            if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
                out->mtu = (uint32_t)ifr.ifr_mtu;
        }
        if (s >= 0)
            close(s);
    }
out:
    close(fd);
    return rc;
}

int64_t lk_snmp6(const char *name)
{
    FILE *f = fopen("/proc/net/snmp6", "re");
    if (f == NULL)
        return -1;
    char line[256];
    int64_t result = -1;
    size_t nlen = strlen(name);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, nlen) == 0 && (line[nlen] == ' ' || line[nlen] == '\t')) {
            result = strtoll(line + nlen, NULL, 10);
            break;
        }
    }
    fclose(f);
    return result;
}

/* ---- radvd ---------------------------------------------------------------------------- */
struct lk_radvd {
    pid_t pid;
    char dir[64];
};

static const char *radvd_path(void)
{
    static const char *const fixed[] = {"/usr/sbin/radvd", "/sbin/radvd", "/usr/local/sbin/radvd"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (access(fixed[i], X_OK) == 0)
            return fixed[i];
    static char found[512];
    const char *path = getenv("PATH");
    if (path == NULL)
        return NULL;
    const char *p = path;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n > 0 && n < sizeof found - 8) {
            snprintf(found, sizeof found, "%.*s/radvd", (int)n, p);
            if (access(found, X_OK) == 0)
                return found;
        }
        if (colon == NULL)
            break;
        p = colon + 1;
    }
    return NULL;
}

static void radvd_cleanup_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The last bytes of radvd's log, for an error message. */
static void radvd_log_tail(const char *dir, char *err, size_t errlen, const char *what)
{
    char p[512], tail[256] = "";
    snprintf(p, sizeof p, "%s/radvd.log", dir);
    FILE *f = fopen(p, "re");
    if (f != NULL) {
        if (fseek(f, -(long)(sizeof tail - 1), SEEK_END) != 0)
            rewind(f);
        size_t n = fread(tail, 1, sizeof tail - 1, f);
        tail[n] = '\0';
        fclose(f);
    }
    if (err && errlen)
        snprintf(err, errlen, "radvd %s; its log ends with: %s", what, tail);
}

int lk_radvd_start(const char *ifname, const char *iface_body, unsigned ready_ms,
                   struct lk_radvd **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *bin = radvd_path();
    if (bin == NULL) {
        if (err && errlen)
            snprintf(err, errlen,
                     "radvd is not installed (not in /usr/sbin, /sbin or PATH): run "
                     "tools/bootstrap.sh, which installs it (CI does)");
        return -ENOENT;
    }
    struct lk_radvd *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    snprintf(r->dir, sizeof r->dir, "/tmp/lk-radvd-XXXXXX");
    if (mkdtemp(r->dir) == NULL) {
        int e = errno;
        free(r);
        if (err && errlen)
            snprintf(err, errlen, "mkdtemp: %s", strerror(e));
        return -e;
    }
    char conf[512], pidf[512], logf[512];
    snprintf(conf, sizeof conf, "%s/radvd.conf", r->dir);
    snprintf(pidf, sizeof pidf, "%s/radvd.pid", r->dir);
    snprintf(logf, sizeof logf, "%s/radvd.log", r->dir);
    /* radvd refuses a configuration file others may write. */
    int cfd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *cf = cfd >= 0 ? fdopen(cfd, "w") : NULL;
    if (cf == NULL) {
        int e = errno;
        if (cfd >= 0)
            close(cfd);
        radvd_cleanup_dir(r->dir);
        free(r);
        return -e;
    }
    fprintf(cf, "interface %s {\n%s\n};\n", ifname, iface_body);
    fclose(cf);

    char *argv[] = {(char *)bin, "-n", "-C", conf, "-p", pidf, "-m", "logfile", "-l", logf,
                    "-d", "1", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logf, O_WRONLY | O_APPEND | O_CREAT, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int sp = posix_spawn(&r->pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (sp != 0) {
        radvd_cleanup_dir(r->dir);
        free(r);
        if (err && errlen)
            snprintf(err, errlen, "posix_spawn(%s): %s", bin, strerror(sp));
        return -sp;
    }
    /* Ready: the pid file is written once the configuration is loaded. */
    uint64_t deadline = lk_now_ns() + (uint64_t)ready_ms * 1000000ull;
    for (;;) {
        int status;
        if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
            radvd_log_tail(r->dir, err, errlen, "exited at start");
            r->pid = 0;
            radvd_cleanup_dir(r->dir);
            free(r);
            return -ECHILD;
        }
        struct stat sb;
        if (stat(pidf, &sb) == 0 && sb.st_size > 0)
            break;
        if (lk_now_ns() >= deadline) {
            radvd_log_tail(r->dir, err, errlen, "did not write its pid file in time");
            lk_radvd_stop(r);
            return -ETIMEDOUT;
        }
        lk_sleep_ms(10);
    }
    *out = r;
    return 0;
}

void lk_radvd_stop(struct lk_radvd *r)
{
    if (r == NULL)
        return;
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        uint64_t deadline = lk_now_ns() + 2000000000ull;
        int status;
        for (;;) {
            pid_t w = waitpid(r->pid, &status, WNOHANG);
            if (w == r->pid || (w < 0 && errno != EINTR))
                break;
            if (lk_now_ns() >= deadline) {
                kill(r->pid, SIGKILL);
                (void)waitpid(r->pid, &status, 0);
                break;
            }
            lk_sleep_ms(10);
        }
    }
    radvd_cleanup_dir(r->dir);
    free(r);
}

/* ---- IPv6 frames ------------------------------------------------------------------------ */
int lk_capture_ip6(int fd, unsigned timeout_ms, struct lk_ip6 *out)
{
    memset(out, 0, offsetof(struct lk_ip6, frame));
    long n = lk_capture_next(fd, out->frame, sizeof out->frame, timeout_ms, &out->dir,
                             &out->ifindex);
    if (n < 0)
        return (int)n;
    const uint8_t *f = out->frame;
    out->len = (size_t)n;
    if (n < 14 + 40 || f[12] != 0x86 || f[13] != 0xdd || (f[14] >> 4) != 6)
        return -EBADMSG;
    memcpy(out->eth_dst, f, 6);
    memcpy(out->eth_src, f + 6, 6);
    const uint8_t *h = f + 14;
    out->payload_len = (uint16_t)(h[4] << 8 | h[5]);
    out->next_header = h[6];
    out->hop_limit = h[7];
    memcpy(out->src, h + 8, 16);
    memcpy(out->dst, h + 24, 16);
    out->proto = out->next_header;
    out->l4_off = 14 + 40;
    if (out->next_header == 44) {
        if (n < 14 + 40 + 8)
            return -EBADMSG;
        const uint8_t *fh = h + 40;
        out->frag = true;
        out->proto = fh[0];
        uint16_t offlg = (uint16_t)(fh[2] << 8 | fh[3]);
        out->frag_off = offlg & 0xfff8;
        out->frag_more = (offlg & 1) != 0;
        out->frag_id = (uint32_t)fh[4] << 24 | (uint32_t)fh[5] << 16 | (uint32_t)fh[6] << 8 | fh[7];
        out->l4_off += 8;
    }
    return 0;
}
