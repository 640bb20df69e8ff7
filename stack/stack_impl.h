/* SPDX-License-Identifier: MIT */
/*
 * stack_impl.h - the stack instance and the interfaces between the files of
 * stack/.  Private to stack/ (and its unit tests).
 *
 * Who owns what (file prefix = owner):
 *   stack.c    lifecycle, receive thread, clock, stack_poll, address table
 *   pkt.c      packet pool
 *   eth.c      Ethernet input demultiplexing and output framing
 *   neigh.c    the IPv4 neighbour cache (resolution queue, aging, tx_req)
 *   arp_msg.c  ARP messages sent and received (RFC 826, RFC 5227)
 *   counters.c counter names, JSON dump, stack_drop
 *   trace.c    the decision trace (trace.h), stack_trace
 *   pcap.c     pcap= capture of every frame sent and received
 *   listing.c  neighbours, routes, addresses, link statistics (ip -j style)
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
#include "trace.h"
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

    /* Decision trace (trace.h, trace.c).  trace != NULL exactly when
     * trace_mask != 0; both are set at creation (trace=, trace-file=) or by
     * trace_attach() before the receive thread runs, so call sites read
     * them without a lock.  Lines are written under trace_lock (leaf). */
    FILE *trace;
    uint32_t trace_mask;           /* TRACE_* bits; 0 = off */
    uint8_t trace_fmt;             /* enum trace_format */
    uint8_t trace_flags;           /* TRACE_F_* */
    bool trace_owned;              /* opened from trace-file=: closed at destroy */
    bool trace_lock_ok;
    pthread_mutex_t trace_lock;
    /* pcap= capture (pcap.c): NULL = off */
    struct stack_pcap *pcap;
};

/* ---- counters / drops (counters.c) ---------------------------------------- */
#define CNT_INC(st, name) atomic_fetch_add_explicit(&(st)->cnt[CNT_##name], 1, memory_order_relaxed)
#define CNT_ADD(st, name, n) atomic_fetch_add_explicit(&(st)->cnt[CNT_##name], (n), memory_order_relaxed)
/* Count a drop and, when tracing, print one line naming the layer, the
 * counter and the reason (with the RFC rule behind it): a "drop" event of
 * trace.h with its "counter" (and "rfc" when the reason cites one). */
void stack_drop(struct wskstack *st, enum wss_counter c, const char *layer, const char *reason);
/* printf-style trace line for a layer named by a string ("eth", "arp", "nd",
 * "ipv4", "ipv6", "addr6", "icmp", "icmpv6", "udp", "udp6", "ipv4-reasm",
 * ... mapped onto the trace.h layers by trace_layer_of): event "info", dir
 * "-", no fields (a "drop <Counter>: ..." message becomes a drop event).
 * The older form, kept for callers outside stack/; the files of stack/ use
 * TRACE/TRACE_F below.  A macro: when tracing is off it is one branch and
 * the arguments are not evaluated. */
#define stack_trace(st, layer, ...)                                                  \
    do {                                                                             \
        if (TRACE_ON((st)->trace_mask, TRACE_ALL))                                   \
            stack_trace_str((st), (layer), __VA_ARGS__);                             \
    } while (0)
void stack_trace_str(struct wskstack *st, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- decision trace (trace.c; the API is trace.h) ----------------------------- */
/* True when any of `bits` (TRACE_*) is traced: one load, one unlikely branch. */
#define stack_trace_on(st, bits) TRACE_ON((st)->trace_mask, (bits))
/* One trace line of `layer` (an enum trace_layer) after the check above. */
#define TRACE(st, layer, dir, event, ...)                                            \
    do {                                                                             \
        if (stack_trace_on((st), 1u << (layer)))                                     \
            trace_event((st), (layer), (dir), (event), NULL, __VA_ARGS__);           \
    } while (0)
#define TRACE_F(st, layer, dir, event, fields, ...)                                  \
    do {                                                                             \
        if (stack_trace_on((st), 1u << (layer)))                                     \
            trace_event((st), (layer), (dir), (event), (fields), __VA_ARGS__);       \
    } while (0)
/* Creation: the trace mutex, and the sink from trace=/trace-file=/
 * trace-format=.  0 or -errno with a message.  trace_fini: any stage. */
int trace_init(struct wskstack *st, const struct wskstack_config *cfg, char *err, size_t errlen);
void trace_fini(struct wskstack *st);
/* The drop line of stack_drop (counters.c). */
void trace_drop(struct wskstack *st, const char *layer, const char *counter, const char *reason);
enum trace_layer trace_layer_of(const char *name);
enum trace_dir trace_dir_of_counter(const char *counter);
/* Formatting for the fields of a line (trace.c): a MAC "02:00:00:00:00:01",
 * an IPv4 address (host order) or an IPv6 address into buf; each returns
 * buf.  trace_proto_name: "icmp", "udp", "icmpv6", "none" (59) or "?". */
#define TRACE_MAC_LEN 18
#define TRACE_IP_LEN 46
const char *trace_mac(const uint8_t mac[6], char buf[TRACE_MAC_LEN]);
const char *trace_ip4(uint32_t a, char buf[TRACE_IP_LEN]);
const char *trace_ip6(const uint8_t a[16], char buf[TRACE_IP_LEN]);
const char *trace_proto_name(unsigned proto);
/* route4_lookup / route6_lookup (route.c, route6.c; ipv6_impl.h) without
 * their "route" line: for the lookups udp_send and the ping API make only
 * to choose a source address, whose own "source" line explains the choice.
 * ipv4_output / ipv6_output then trace the datagram's route once. */
int route4_lookup_quiet(struct wskstack *st, uint32_t dst, uint32_t *nexthop, uint8_t *plen_out);
int route6_lookup_quiet(struct wskstack *st, const uint8_t dst[16], uint8_t nexthop[16]);
/* The "ipv6 tx send" line of a packet whose 40-byte header is at hdr
 * (ipv6.c; nd_send.c writes its own headers and uses it too).  how: where it
 * goes, "next hop 2001:db8::2".  Call it after stack_trace_on(TRACE_IPV6). */
void ipv6_trace_send(struct wskstack *st, const uint8_t *hdr, const char *how);

/* ---- pcap capture (pcap.c) ------------------------------------------------------ */
/* Creation: open pcap= (a file, or "-" for stdout).  0 or -errno with a
 * message.  stack_pcap_fini: any stage (flushes and closes). */
int stack_pcap_init(struct wskstack *st, const struct wskstack_config *cfg, char *err,
                    size_t errlen);
void stack_pcap_fini(struct wskstack *st);
/* Record one whole frame (Ethernet header first).  Any thread; a no-op
 * (one branch) when capture is off. */
void stack_pcap_frame_(struct wskstack *st, const uint8_t *frame, size_t len);
#define stack_pcap_frame(st, frame, len)                                             \
    do {                                                                             \
        if (__builtin_expect((st)->pcap != NULL, 0))                                 \
            stack_pcap_frame_((st), (frame), (len));                                 \
    } while (0)

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

/* ---- neighbours / ARP (neigh.c, arp_msg.c) ------------------------------------- */
int neigh_init(struct wskstack *st);
void neigh_fini(struct wskstack *st);     /* fails queued tx_reqs with -ENODEV */
/* Receive thread: an ARP packet (p at the ARP header).  Consumes p.
 * arp_msg.c. */
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
/* Gratuitous ARP for each of our addresses (at start).  arp_msg.c. */
void arp_announce(struct wskstack *st);
/* Fail every queued packet (device gone). */
void neigh_flush(struct wskstack *st, int err);
/* Packet-chain helpers shared by neigh.c and the ND files (one copy, in neigh.c).
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

/* The IPv4 neighbour table, for neigh.c (the cache) and arp_msg.c (ARP
 * messages) only: nothing else looks inside st->neigh.  Design and
 * bounds: the top of neigh.c. */
#define NEIGH_MAX 256
#define NEIGH_HASH 256              /* buckets, power of two */

enum neigh_state { NEIGH_FREE = 0, NEIGH_INCOMPLETE, NEIGH_REACHABLE, NEIGH_STALE, NEIGH_FAILED };

struct neigh_entry {
    uint32_t ip;                 /* host order */
    uint8_t mac[ETH_ALEN];
    uint8_t state;               /* enum neigh_state */
    uint8_t requests;            /* broadcast requests sent (INCOMPLETE) */
    bool is_static;
    bool flushing;               /* a thread is writing this entry's queue */
    int16_t hnext;               /* hash chain / free list (index, -1 = end) */
    uint32_t spa;                /* our address used in requests */
    uint64_t confirmed;          /* last time the MAC was confirmed (ns) */
    uint64_t timer;              /* INCOMPLETE: next retransmit/failure (ns) */
    uint64_t lru;                /* use sequence number: smaller = older */
    struct pkt *qh, *qt;         /* packets waiting for resolution */
    unsigned qlen;
};

struct neigh_table {
    struct neigh_entry e[NEIGH_MAX];
    int16_t bucket[NEIGH_HASH];
    int16_t free_head;
    unsigned count;
    unsigned queued_total;
    uint64_t seq;
    uint64_t next_sweep;
    uint64_t last_defend;
    bool defended;
    int gone_err;                /* != 0: device gone, refuse new sends */
};

/* neigh.c.  No lock needed (addresses are read-only after creation): */
/* True if a is one of our IPv4 addresses. */
bool addr_is_ours(const struct wskstack *st, uint32_t a);
/* Directed broadcast of one of our subnets (not for /31 and /32). */
bool addr_is_subnet_bcast(const struct wskstack *st, uint32_t a);
/* neigh.c.  Caller holds st->lock: */
/* Every state change of a dynamic entry, with its trace line. */
void neigh_set_state(struct wskstack *st, struct neigh_entry *e, enum neigh_state s,
                     const char *rfc);
struct neigh_entry *neigh_find(struct neigh_table *t, uint32_t ip);
/* A fresh entry for ip (state FREE, caller fills it), evicting the least
 * recently used idle dynamic entry when full; NULL if none can go. */
struct neigh_entry *neigh_new(struct wskstack *st, uint32_t ip);
/* Take the whole queue of e. */
struct pkt *neigh_take_queue(struct neigh_table *t, struct neigh_entry *e);
/* neigh.c.  Without st->lock, e->flushing set by the caller: write e's
 * queue (chain, already taken) in order until it stays empty. */
void neigh_flush_entry(struct wskstack *st, struct neigh_entry *e, struct pkt *chain,
                       const uint8_t mac_in[ETH_ALEN]);
/* arp_msg.c.  Without st->lock: a resolution request for tpa from spa,
 * broadcast, target MAC zero (RFC 826). */
void arp_request(struct wskstack *st, uint32_t spa, uint32_t tpa);

/* Listing (listing.c): one neighbour entry, IPv4 (neigh.c) or IPv6 (nd.c).
 * neigh_at / nd_neigh_at: entry idx of the table, caller holds st->lock;
 * 1 = filled, 0 = a free slot, -1 = past the end. */
struct neigh_info {
    struct ip_addr ip;
    uint8_t mac[ETH_ALEN];
    bool has_mac;             /* false while INCOMPLETE */
    bool is_static, is_router;
    const char *state;        /* "INCOMPLETE", "REACHABLE", ... as ip neigh */
};
int neigh_at(struct wskstack *st, unsigned idx, struct neigh_info *out);
int nd_neigh_at(struct wskstack *st, unsigned idx, struct neigh_info *out);

/* ---- routing (route.c) -------------------------------------------------------- */
int route_init(struct wskstack *st);
void route_fini(struct wskstack *st);
/* Add dst/plen via gw (0 = on-link).  Caller holds st->lock or is creating
 * the stack.  -EEXIST, -ENOMEM, -EINVAL. */
int route4_add(struct wskstack *st, uint32_t dst, uint8_t plen, uint32_t gw);
/* Longest-prefix match. Caller holds st->lock. On success fills the next hop
 * (gw, or dst itself when on-link) and returns 0; -ENETUNREACH otherwise. */
int route4_lookup(struct wskstack *st, uint32_t dst, uint32_t *nexthop, uint8_t *plen_out);
/* Every route (listing.c), in no particular order.  Caller holds st->lock. */
void route4_walk(struct wskstack *st, void (*fn)(void *ctx, uint32_t dst, uint8_t plen, uint32_t gw),
                 void *ctx);

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
