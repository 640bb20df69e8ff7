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
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

static int to_sin(const char *addr, uint16_t port, struct sockaddr_in *sin)
{
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (addr == NULL || *addr == '\0')
        return 0; /* INADDR_ANY */
    return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? 0 : -EINVAL;
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
int lk_udp_open(const char *addr, uint16_t port)
{
    struct sockaddr_in sin;
    if (to_sin(addr, port, &sin) != 0)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int lk_udp_port(int fd)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    if (getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
        return -errno;
    return ntohs(sin.sin_port);
}

long lk_udp_sendto(int fd, const void *buf, size_t len, const char *addr, uint16_t port)
{
    struct sockaddr_in sin;
    if (to_sin(addr, port, &sin) != 0 || addr == NULL)
        return -EINVAL;
    ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&sin, sizeof sin);
    return n < 0 ? -errno : (long)n;
}

long lk_udp_recv(int fd, void *buf, size_t cap, unsigned timeout_ms,
                 char src[LK_ADDRSTRLEN], uint16_t *sport)
{
    uint64_t deadline = lk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int w = wait_readable(fd, deadline);
        if (w != 0)
            return w;
        struct sockaddr_in sin;
        socklen_t sl = sizeof sin;
        /* MSG_TRUNC: return the real length even when it does not fit. */
        ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&sin, &sl);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            /* A pending ICMP error reported on this socket: not a datagram. */
            if (errno == ECONNREFUSED || errno == EHOSTUNREACH)
                continue;
            return -errno;
        }
        if (src)
            inet_ntop(AF_INET, &sin.sin_addr, src, LK_ADDRSTRLEN);
        if (sport)
            *sport = ntohs(sin.sin_port);
        return (long)n;
    }
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

int64_t lk_ping(const char *addr, uint16_t id, uint16_t seq, size_t payload_len,
                unsigned timeout_ms)
{
    struct sockaddr_in dst;
    if (addr == NULL || to_sin(addr, 0, &dst) != 0 || payload_len > LK_PING_MAX)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0)
        return -errno;

    uint8_t req[8 + LK_PING_MAX];
    memset(req, 0, sizeof req);
    req[0] = ICMP_ECHO;
    req[4] = (uint8_t)(id >> 8);
    req[5] = (uint8_t)id;
    req[6] = (uint8_t)(seq >> 8);
    req[7] = (uint8_t)seq;
    for (size_t i = 0; i < payload_len; i++)
        req[8 + i] = (uint8_t)(0x20 + (i + seq) % 95); /* printable, varies per seq */
    uint16_t c = inet_csum(req, 8 + payload_len);
    memcpy(req + 2, &c, 2);

    uint64_t t0 = lk_now_ns();
    uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000000ull;
    if (sendto(fd, req, 8 + payload_len, 0, (struct sockaddr *)&dst, sizeof dst) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    int64_t result = -ETIMEDOUT;
    for (;;) {
        int w = wait_readable(fd, deadline);
        if (w != 0) {
            result = w;
            break;
        }
        uint8_t buf[60 + 8 + LK_PING_MAX + 64];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        uint64_t t1 = lk_now_ns();
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            result = -errno;
            break;
        }
        /* A raw ICMP socket sees every ICMP message of the namespace, with
         * the IPv4 header in front: keep only our reply from addr. */
        if (n < 20 || from.sin_addr.s_addr != dst.sin_addr.s_addr)
            continue;
        size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
        if (ihl < 20 || (size_t)n < ihl + 8)
            continue;
        const uint8_t *icmp = buf + ihl;
        size_t icmp_len = (size_t)n - ihl;
        if (icmp[0] != ICMP_ECHOREPLY || icmp[1] != 0)
            continue;
        if (((uint16_t)icmp[4] << 8 | icmp[5]) != id || ((uint16_t)icmp[6] << 8 | icmp[7]) != seq)
            continue;
        if (icmp_len != 8 + payload_len || memcmp(icmp + 8, req + 8, payload_len) != 0 ||
            inet_csum(icmp, icmp_len) != 0) {
            result = -EBADMSG;
            break;
        }
        result = (int64_t)(t1 - t0);
        if (result <= 0)
            result = 1;
        break;
    }
    close(fd);
    return result;
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

int lk_neigh_get(const char *ifname, const char *addr, struct lk_neigh *out)
{
    memset(out, 0, sizeof *out);
    int ifindex = lk_ifindex(ifname);
    if (ifindex < 0)
        return ifindex;
    struct nl_sock *sk = nl_socket_alloc();
    if (sk == NULL)
        return -ENOMEM;
    int rc = 0;
    struct nl_cache *cache = NULL;
    struct nl_addr *dst = NULL;
    if (nl_connect(sk, NETLINK_ROUTE) < 0) {
        rc = -ECONNREFUSED;
        goto out;
    }
    if (rtnl_neigh_alloc_cache(sk, &cache) < 0) {
        rc = -EIO;
        goto out;
    }
    if (nl_addr_parse(addr, AF_INET, &dst) < 0) {
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
    nl_socket_free(sk);
    return rc;
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
