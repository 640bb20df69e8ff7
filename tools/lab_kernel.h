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


/* ==== IPv6 (appended for issue 4: the IPv6 lab) =================================
 * Addresses are strings: "2001:db8::1", or a link-local one with its zone,
 * "fe80::1%wsk0" (interface name) or "fe80::1%7" (ifindex).  Prefixes are
 * "ADDRESS/PLEN".  Same conventions as above: -errno, timeouts in ms. */
#define LK_ADDR6STRLEN 64    /* INET6_ADDRSTRLEN + '%' + IFNAMSIZ */

/* "addr[%zone]" -> 16 bytes + scope id (0 when no zone).  0 or -EINVAL. */
int lk_addr6_parse(const char *s, uint8_t out[16], uint32_t *scope_id);
const char *lk_addr6_str(const uint8_t a[16], char buf[LK_ADDR6STRLEN]);

/* Kernel AF_INET6 UDP socket bound to addr:port (NULL/"" = ::; a zone binds
 * the link-local to that interface), IPV6_V6ONLY, and IPV6_RECVERR on so
 * that ICMPv6 errors can be read with lk_udp6_recv_error().  fd or -errno. */
int lk_udp6_open(const char *addr, uint16_t port);
long lk_udp6_sendto(int fd, const void *buf, size_t len, const char *addr, uint16_t port);
/* As lk_udp_recv; src gets "addr" or "fe80::..%ifindex". */
long lk_udp6_recv(int fd, void *buf, size_t cap, unsigned timeout_ms,
                  char src[LK_ADDR6STRLEN], uint16_t *sport);
/* An ICMPv6 error queued on a socket (MSG_ERRQUEUE, IPV6_RECVERR). */
struct lk_icmp6_err {
    uint8_t type, code;         /* ICMPv6 type/code (ee_type, ee_code) */
    uint32_t info;              /* ee_info: the MTU of a Packet Too Big */
    int err;                    /* ee_errno, e.g. ECONNREFUSED */
    char offender[LK_ADDR6STRLEN]; /* who sent the ICMPv6 error */
};
/* Wait at most timeout_ms for one.  0, -ETIMEDOUT, or -errno. */
int lk_udp6_recv_error(int fd, unsigned timeout_ms, struct lk_icmp6_err *out);

/* One packet from a raw AF_INET6 socket of protocol proto (e.g. 17): the
 * bytes go out as given after the IPv6 header the kernel builds (no
 * checksum is filled in for proto != 58).  src may be NULL.  Bytes or -errno. */
long lk_raw6_send(int proto, const char *src, const char *dst, const void *payload, size_t len);

/* ICMPv6 echo from the kernel (raw ICMPv6 socket; the kernel fills the
 * checksum and fragments what does not fit the path MTU).  As lk_ping:
 * RTT in ns, -ETIMEDOUT, -EBADMSG (payload differs), -errno.  payload_len
 * up to LK_PING6_MAX. */
#define LK_PING6_MAX 65000
int64_t lk_ping6(const char *addr, uint16_t id, uint16_t seq, size_t payload_len,
                 unsigned timeout_ms);

/* The kernel's IPv6 neighbour entry for addr on ifname (libnl-route).
 * 0, -ENOENT, -errno. */
int lk_neigh6_get(const char *ifname, const char *addr, struct lk_neigh *out);
/* `ip -6 neigh replace ADDR lladdr MAC dev IFNAME nud permanent`. */
int lk_neigh6_add_permanent(const char *ifname, const char *addr, const uint8_t mac[6]);

/* `ip -6 addr add PREFIX dev IFNAME [nodad]` through libnl-route. */
int lk_addr6_add(const char *ifname, const char *prefix, bool nodad);
/* The IFA_F_* flags of the kernel's address addr on ifname (IFA_F_TENTATIVE
 * 0x40, IFA_F_DADFAILED 0x08, IFA_F_NODAD 0x02 ...).  0 or -ENOENT. */
int lk_addr6_flags(const char *ifname, const char *addr, unsigned *flags);
/* The kernel's link-local address on ifname ("fe80::..", no zone) and
 * whether it is still tentative (kernel DAD).  0 or -ENOENT. */
int lk_linklocal6(const char *ifname, char out[LK_ADDR6STRLEN], bool *tentative);

/* Has the kernel joined multicast group (e.g. a solicited-node group
 * "ff02::1:ff00:2") on ifname?  (/proc/net/igmp6.)  An address added with
 * nodad is owned at once, but the kernel joins its solicited-node group a
 * moment later, from its DAD work: until then it does not hear - and so
 * does not defend against - a DAD probe for it.  1, 0, or -errno. */
int lk_mcast6_joined(const char *ifname, const char *group);
/* Write a sysctl of this namespace, e.g.
 * lk_sysctl("net/ipv6/conf/all/forwarding", "1").  0 or -errno. */
int lk_sysctl(const char *name, const char *value);
/* Links: a veth pair (`ip link add NAME type veth peer name PEER`), MTU, up. */
int lk_veth_add(const char *name, const char *peer);
int lk_link_set_mtu(const char *ifname, uint32_t mtu);
int lk_link_up(const char *ifname);

/* The kernel's route toward dst (RTM_GETROUTE, what `ip -6 route get DST`
 * prints): output interface, gateway ("" when on-link) and the MTU the
 * kernel will use (the route's RTAX_MTU / learned PMTU, else the link's). */
struct lk_route6 {
    int oif;
    char gateway[LK_ADDR6STRLEN];
    uint32_t mtu;
};
int lk_route6_get(const char *dst, struct lk_route6 *out);

/* This namespace's /proc/net/snmp6 counter, e.g. "Icmp6InEchoReplies",
 * "Ip6ReasmOKs", "Udp6InDatagrams".  -1 if not found. */
int64_t lk_snmp6(const char *name);

/* ---- radvd on the kernel side (SLAAC labs) ----------------------------------
 * Start radvd (-n, logging to a file) with a generated configuration
 * "interface IFNAME { <iface_body> };" in a fresh temporary directory, and
 * wait at most ready_ms for its pid file.  radvd must be in /usr/sbin,
 * /sbin or PATH: when it is not, -ENOENT and err says to run
 * tools/bootstrap.sh.  Only the process started here is ever signalled. */
struct lk_radvd;
int lk_radvd_start(const char *ifname, const char *iface_body, unsigned ready_ms,
                   struct lk_radvd **out, char *err, size_t errlen);
/* SIGTERM, a bounded wait (2 s, then SIGKILL), the temporary files removed. */
void lk_radvd_stop(struct lk_radvd *r);

/* ---- IPv6 frames in a capture (lk_capture_open(.., 0x86dd)) ---------------- */
#define LK_FRAME_MAX 9216
struct lk_ip6 {
    int dir;                     /* LK_DIR_* */
    int ifindex;
    uint8_t eth_dst[6], eth_src[6];
    uint8_t src[16], dst[16];
    uint8_t hop_limit;
    uint8_t next_header;         /* of the fixed header */
    uint16_t payload_len;
    bool frag;                   /* a Fragment header follows the fixed header */
    uint16_t frag_off;           /* bytes */
    bool frag_more;
    uint32_t frag_id;
    uint8_t proto;               /* upper layer (after a Fragment header) */
    size_t l4_off;               /* offset of the upper layer / fragment data in frame */
    size_t len;                  /* frame bytes */
    uint8_t frame[LK_FRAME_MAX];
};
/* Next IPv6 frame: 0, -ETIMEDOUT, -EBADMSG (not IPv6 / truncated). */
int lk_capture_ip6(int fd, unsigned timeout_ms, struct lk_ip6 *out);

/* ---- numeric addresses of either family (appended for wskcat / wsk-ping) -------
 * For sources that include the Windows headers and so cannot use
 * inet_pton/inet_ntop themselves. */
/* "192.0.2.1" or "2001:db8::1" -> 4 or 16 bytes in network order at out;
 * returns 4 (IPv4) or 6 (IPv6), or -EINVAL. */
int lk_inet_pton(const char *s, uint8_t out[16]);
/* family 4 or 6, address in network order -> text in buf (46 bytes hold
 * either).  Returns buf ("?" on error). */
const char *lk_inet_ntop(int family, const uint8_t *addr, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* WSS_LAB_KERNEL_H */
