/* SPDX-License-Identifier: MIT */
/*
 * stack_impl.h - the stack instance and the interfaces between the files of
 * stack/.  Private to stack/ (and its unit tests).
 *
 * Who owns what (file prefix = owner):
 *   stack.c    lifecycle, receive thread, clock, stack_poll, address table
 *   pkt.c      packet pool
 *   eth.c      Ethernet input demultiplexing and output framing
 *   neigh.c    ARP and the neighbour cache (resolution queue, aging, tx_req)
 *   counters.c counter names, JSON dump, stack_drop/stack_trace
 *   config.c   WSKSTACK_CONFIG parsing (struct wskstack_config in config.h)
 *   ipaddr.c   ip_addr helpers
 *   route.c    IPv4 routing table (longest-prefix match)
 *   ipv4.c     IPv4 input rules, output, source selection, fragmentation
 *   icmp.c     ICMPv4 echo, errors, rate limiter
 *   udp.c      UDP endpoint table, ephemeral ports, input, udp_send
 *   reasm.c    fragment reassembly for both families (API in reasm.h)
 * Locking: see the CONCURRENCY MODEL in stack.h.  "Caller holds st->lock"
 * and "called without st->lock" are stated on each function below.
 */
#ifndef WSS_STACK_IMPL_H
#define WSS_STACK_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "stack.h"
#include "config.h"
#include "counters.h"
#include "wire/wire.h"
#include "tap/dev.h"

struct neigh_table;   /* neigh.c */
struct route_table;   /* route.c */
struct udp_table;     /* udp.c */
struct icmp_state;    /* icmp.c */
struct pkt_pool;      /* pkt.c */
struct reasm_state;   /* reasm.c */

/* An IPv4 address of the stack with its prefix (from addr=). */
struct addr4 {
    uint32_t addr;   /* host order */
    uint8_t plen;
};
#define STACK_MAX_ADDRS 16

struct wskstack {
    pthread_mutex_t lock;          /* see stack.h */
    struct dev *dev;
    uint8_t mac[ETH_ALEN];         /* our MAC (mac= or generated) */
    uint32_t mtu;                  /* IP MTU of the link */
    uint32_t ifindex;              /* dev->ifindex */

    /* Addresses: set at creation, read-only afterwards (no lock needed to
     * read).  Order matters: the first address of a subnet is preferred. */
    struct addr4 addr4[STACK_MAX_ADDRS];
    unsigned n_addr4;

    struct pkt_pool *pool;
    struct neigh_table *neigh;
    struct route_table *routes;
    struct udp_table *udp;
    struct icmp_state *icmp;
    uint16_t ip_id;                /* IPv4 identification (under lock;
                                      random start set by route_init) */
    struct reasm_state *reasm;     /* fragment reassembly (reasm.h):
                                      receive thread only, no lock */
    /* IPv6 (stack/ipv6_impl.h): each owned by its file */
    struct nd_state *nd;           /* nd.c: v6 neighbours, routers, routes */
    struct addr6_table *addr6;     /* addr6.c */
    struct pmtu6_cache *pmtu6;     /* ipv6.c */
    struct icmp_state *icmp6;      /* icmpv6.c: rate limiter */

    _Atomic uint64_t cnt[CNT__COUNT];

    /* clock */
    uint64_t (*clock_fn)(void *ctx);
    void *clock_ctx;

    /* receive thread */
    pthread_t rx_thread;
    bool has_thread;
    int wake_fd;                   /* eventfd: wakes the receive thread */
    atomic_bool stopping;
    atomic_bool dev_gone;
    void (*gone_cb)(void *ctx);
    void *gone_ctx;

    /* trace (issue 6 extends this): NULL = off */
    FILE *trace;
};

/* ---- counters / drops (counters.c) ---------------------------------------- */
#define CNT_INC(st, name) atomic_fetch_add_explicit(&(st)->cnt[CNT_##name], 1, memory_order_relaxed)
#define CNT_ADD(st, name, n) atomic_fetch_add_explicit(&(st)->cnt[CNT_##name], (n), memory_order_relaxed)
/* Count a drop and, when tracing, print one line naming the layer, the
 * counter and the reason (with the RFC rule behind it). */
void stack_drop(struct wskstack *st, enum wss_counter c, const char *layer, const char *reason);
/* printf-style trace line for a layer; a no-op when st->trace is NULL. */
void stack_trace(struct wskstack *st, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- packet pool (pkt.c) --------------------------------------------------- */
int pkt_pool_init(struct wskstack *st);
void pkt_pool_fini(struct wskstack *st);

/* ---- Ethernet (eth.c) -------------------------------------------------------- */
/* Receive thread. p holds a whole frame; consumes p.  It pkt_pull()s the
 * Ethernet header before calling arp_input/ipv4_input, so the header stays
 * readable just in front of pkt_data(p): ipv4.c reads the destination MAC
 * there to tell a link-layer broadcast (RFC 1122 §3.2.2). */
void eth_input(struct wskstack *st, struct pkt *p, uint64_t now);
/* Prepend an Ethernet header (dst, our MAC, ethertype) and write the frame.
 * Without st->lock.  Consumes p (freed after the write).  0 or -errno. */
int eth_output(struct wskstack *st, struct pkt *p, const uint8_t dst[ETH_ALEN], uint16_t ethertype);

/* ---- neighbours / ARP (neigh.c) ------------------------------------------------ */
int neigh_init(struct wskstack *st);
void neigh_fini(struct wskstack *st);     /* fails queued tx_reqs with -ENODEV */
/* Receive thread: an ARP packet (p at the ARP header).  Consumes p. */
void arp_input(struct wskstack *st, struct pkt *p, uint64_t now);
/* Send an IPv4 packet (p at the IP header) to next hop `nh`.  p may be a
 * CHAIN (p->next) of the fragments of one datagram, in order, all carrying
 * the same p->req: it is sent, queued or refused as a whole, and
 * neigh_output sets req->frames itself (neigh.c).  Without st->lock.
 * If the MAC is known: framed and written now, returns UDP_SEND_DONE (0).
 * If not: queued on the entry (bounded queue: when full the packet is
 * refused with -ENOBUFS), resolution started, returns
 * UDP_SEND_QUEUED; p->req (if any) is completed later.  Consumes p in every
 * case. */
int neigh_output(struct wskstack *st, struct pkt *p, uint32_t nh, uint64_t now);
/* Timers (receive thread): retransmit requests, fail resolutions, age. */
void neigh_timer(struct wskstack *st, uint64_t now);
/* ns until the next neighbour timer is due (UINT64_MAX: none). */
uint64_t neigh_next_timer(struct wskstack *st, uint64_t now);
/* Gratuitous ARP for each of our addresses (at start). */
void arp_announce(struct wskstack *st);
/* Fail every queued packet (device gone). */
void neigh_flush(struct wskstack *st, int err);
/* Packet-chain helpers shared by neigh.c and nd.c (one copy, in neigh.c).
 * Called without st->lock.  A chain is linked through p->next.
 *   neigh_chain_send_now     write every packet to mac; req untouched (the
 *                            caller's own send); 0 or the first error
 *   neigh_chain_send_queued  write queued packets, completing each packet's
 *                            tx_req (done() when its last frame is resolved)
 *   neigh_chain_fail         free queued packets, completing with err */
int neigh_chain_send_now(struct wskstack *st, struct pkt *p, const uint8_t mac[ETH_ALEN],
                         uint16_t ethertype);
void neigh_chain_send_queued(struct wskstack *st, struct pkt *p, const uint8_t mac[ETH_ALEN],
                             uint16_t ethertype);
void neigh_chain_fail(struct wskstack *st, struct pkt *p, int err);
unsigned neigh_chain_len(const struct pkt *p);

/* ---- routing (route.c) -------------------------------------------------------- */
int route_init(struct wskstack *st);
void route_fini(struct wskstack *st);
/* Add dst/plen via gw (0 = on-link).  Caller holds st->lock or is creating
 * the stack.  -EEXIST, -ENOMEM, -EINVAL. */
int route4_add(struct wskstack *st, uint32_t dst, uint8_t plen, uint32_t gw);
/* Longest-prefix match. Caller holds st->lock. On success fills the next hop
 * (gw, or dst itself when on-link) and returns 0; -ENETUNREACH otherwise. */
int route4_lookup(struct wskstack *st, uint32_t dst, uint32_t *nexthop, uint8_t *plen_out);

/* ---- IPv4 (ipv4.c) ------------------------------------------------------------ */
/* Receive thread. p at the IPv4 header, p->len = rest of the frame. */
void ipv4_input(struct wskstack *st, struct pkt *p, uint64_t now);
/* True if a is one of our unicast addresses. No lock needed. */
bool ipv4_is_local(struct wskstack *st, uint32_t a);
/* True if a is a broadcast address for us (255.255.255.255 or the directed
 * broadcast of one of our subnets). */
bool ipv4_is_broadcast(struct wskstack *st, uint32_t a);
/* Source selection (RFC 1122 §3.3.4.3 and issue 2): the address of the
 * outgoing interface on the chosen route; the first configured address of
 * the route's subnet is preferred. -EADDRNOTAVAIL if none. */
int ipv4_select_source(struct wskstack *st, uint32_t dst, uint32_t nexthop, uint32_t *src);
/* Build the IPv4 header in front of p (payload at pkt_data(p)) and hand it
 * to the neighbour layer (or broadcast it).  Fragments when needed (issue 4
 * completes this).  Without st->lock.  Returns UDP_SEND_DONE,
 * UDP_SEND_QUEUED, or -errno.  Consumes p. */
struct ipv4_tx {
    uint32_t src, dst;
    uint8_t proto, ttl, tos;
    bool df;
};
int ipv4_output(struct wskstack *st, struct pkt *p, const struct ipv4_tx *tx, uint64_t now);
/* Receive thread (reassembly timer, see reasm.h): an IPv4 datagram timed
 * out holding fragment 0: send ICMP Time Exceeded code 1 quoting fragment
 * 0's header and the first 8 bytes of its data (RFC 792, RFC 1122 §3.3.2). */
struct reasm_expired;
void ipv4_reasm_expired(struct wskstack *st, const struct reasm_expired *e, uint64_t now);

/* ---- ICMPv4 (icmp.c) ------------------------------------------------------------ */
int icmp_init(struct wskstack *st);
void icmp_fini(struct wskstack *st);
/* p at the ICMP header; ip = the parsed IPv4 header. Consumes p. */
void icmp_input(struct wskstack *st, struct pkt *p, const struct ipv4_repr *ip, uint64_t now);
/* Send an ICMP error about `orig` (the offending datagram from its IPv4
 * header, orig_len bytes available).  Applies the never-send-an-error rules
 * (RFC 1122 §3.2.2: not about an ICMP error, a broadcast/multicast, a
 * non-initial fragment, an invalid source) and the rate limiter. */
void icmp_send_error(struct wskstack *st, uint8_t type, uint8_t code, uint32_t rest,
                     const uint8_t *orig, size_t orig_len, bool link_bcast, uint64_t now);
/* The error rate limiter (token bucket, 1000/s, burst 50), shared with
 * icmpv6.c: allocate one (free() releases it); take a token (caller holds
 * st->lock). */
int icmp_ratelimit_new(struct icmp_state **out);
bool icmp_ratelimit_allow(struct icmp_state *is, uint64_t now);

/* ---- UDP (udp.c) ------------------------------------------------------------------ */
int udp_init(struct wskstack *st);
void udp_fini(struct wskstack *st);
/* p at the UDP header (trimmed to the IP payload). Consumes p. */
void udp_input(struct wskstack *st, struct pkt *p, const struct ipv4_repr *ip, bool link_bcast,
               uint64_t now);

#endif /* WSS_STACK_IMPL_H */
