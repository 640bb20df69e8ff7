/* SPDX-License-Identifier: MIT */
/*
 * lab_kernel.h - the Linux kernel as the lab's peer, seen from user space.
 *
 * wsk-lab and the lab tests talk WSK to the stack on one side of a TAP and
 * use the ordinary Linux socket API on the other side.  Source files that
 * include the Windows headers (<wsk.h> defines AF_INET6 = 23, SOCKADDR, ...)
 * must not include <sys/socket.h>, so every Linux-socket call lives in
 * lab_kernel.c behind this plain-C interface: addresses are dotted strings,
 * ports are host-order uint16_t, errors are negative errno values, times
 * are milliseconds (timeouts) or nanoseconds (measurements).
 *
 * Everything here acts in the network namespace of the calling process;
 * callers create a private one first (unshare(CLONE_NEWNET)).
 */
#ifndef WSS_LAB_KERNEL_H
#define WSS_LAB_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "a.b.c.d" + NUL */
#define LK_ADDRSTRLEN 16

/* ---- time and waiting ----------------------------------------------------- */
uint64_t lk_now_ns(void);
void lk_sleep_ms(unsigned ms);
/* Call cond(ctx) every step_ms until it returns true or timeout_ms has
 * passed.  0 if it became true (it is always tried once more at the end),
 * -ETIMEDOUT otherwise. */
int lk_wait_until(bool (*cond)(void *ctx), void *ctx, unsigned timeout_ms, unsigned step_ms);

/* ---- interfaces ----------------------------------------------------------- */
/* Kernel ifindex of a link, or -ENODEV. */
int lk_ifindex(const char *ifname);
/* MAC of a kernel link (e.g. the kernel side of a TAP). 0 or -errno. */
int lk_if_mac(const char *ifname, uint8_t mac[6]);
/* "02:00:5e:00:00:01" */
const char *lk_mac_str(const uint8_t mac[6], char buf[18]);
/* "a.b.c.d" -> 4 bytes in network order. 0 or -EINVAL. */
int lk_addr_parse(const char *s, uint8_t out[4]);

/* ---- kernel UDP sockets ----------------------------------------------------- */
/* A kernel UDP socket bound to addr:port (port 0 = ephemeral).  Returns the
 * fd or -errno.  Close it with lk_close(). */
int lk_udp_open(const char *addr, uint16_t port);
/* The local port a kernel socket is bound to, or -errno. */
int lk_udp_port(int fd);
/* Send one datagram to addr:port.  Bytes sent or -errno. */
long lk_udp_sendto(int fd, const void *buf, size_t len, const char *addr, uint16_t port);
/* Receive one datagram, waiting at most timeout_ms.  Returns its length
 * (bytes copied; a larger datagram is truncated to cap and its real length
 * returned), fills src (may be NULL) and sport (may be NULL).
 * -ETIMEDOUT if nothing arrived, -errno on error. */
long lk_udp_recv(int fd, void *buf, size_t cap, unsigned timeout_ms,
                 char src[LK_ADDRSTRLEN], uint16_t *sport);
void lk_close(int fd);

/* ---- ICMP echo from the kernel (raw socket: needs CAP_NET_RAW) ---------------- */
/* Send one echo request (identifier id, sequence seq, payload_len bytes of
 * a fixed pattern) to addr and wait at most timeout_ms for the matching
 * reply from addr.  Returns the round-trip time in ns (> 0), -ETIMEDOUT,
 * -EBADMSG if the reply's payload differs from the request's, or -errno. */
int64_t lk_ping(const char *addr, uint16_t id, uint16_t seq, size_t payload_len,
                unsigned timeout_ms);

/* ---- the kernel's neighbour table (libnl-route) --------------------------------- */
struct lk_neigh {
    char state[16];      /* as `ip neigh` prints it: REACHABLE, STALE, ... */
    int nud;             /* the NUD_* bits */
    bool has_mac;
    uint8_t mac[6];
};
/* The kernel's neighbour entry for IPv4 addr on ifname.  0, or -ENOENT if
 * there is none, or -errno. */
int lk_neigh_get(const char *ifname, const char *addr, struct lk_neigh *out);

/* ---- counters of the kernel side (this namespace's /proc/net/snmp) ------------- */
/* Value of e.g. ("Udp", "InDatagrams") or ("Icmp", "OutDestUnreachs") - the
 * names nstat prints as UdpInDatagrams etc.  -1 if not found. */
int64_t lk_snmp(const char *group, const char *name);

/* ---- frame capture on a kernel link (AF_PACKET) ------------------------------- */
/* Direction of a captured frame, seen from the kernel. */
#define LK_DIR_IN  0   /* the kernel received it: written by the stack into the TAP */
#define LK_DIR_OUT 1   /* the kernel sent it: the stack will read it */
/* Open a capture for one EtherType (0x0806 ARP, 0x0800 IPv4, 0 = all) on
 * ifname, or on every link of the namespace when ifname is NULL (links
 * created later included: open it before the stack to see its first
 * frames).  fd or -errno. */
int lk_capture_open(const char *ifname, uint16_t ethertype);
/* Next captured frame (whole Ethernet frame), waiting at most timeout_ms.
 * Length, -ETIMEDOUT, or -errno.  dir and ifindex may be NULL. */
long lk_capture_next(int fd, void *buf, size_t cap, unsigned timeout_ms, int *dir, int *ifindex);

/* An ARP packet as seen in a captured frame. */
struct lk_arp {
    int dir;             /* LK_DIR_* */
    int ifindex;
    uint16_t op;         /* 1 request, 2 reply */
    uint8_t eth_src[6], eth_dst[6];
    uint8_t sha[6], tha[6];
    char spa[LK_ADDRSTRLEN], tpa[LK_ADDRSTRLEN];
};
/* Read the next ARP frame from an ETH_P_ARP capture.  0, -ETIMEDOUT, or
 * -EBADMSG for a frame that is not a well-formed Ethernet/IPv4 ARP. */
int lk_capture_arp(int fd, unsigned timeout_ms, struct lk_arp *out);

#ifdef __cplusplus
}
#endif
#endif /* WSS_LAB_KERNEL_H */
