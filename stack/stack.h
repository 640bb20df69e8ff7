/* SPDX-License-Identifier: MIT */
/*
 * stack.h - the protocol engine's interface to the layer above it (wsk/) and
 * to tests.  Nothing here knows about IRPs, NTSTATUS or Windows types: errors
 * are negative errno values, addresses are `struct ip_addr`.
 *
 * CONCURRENCY MODEL (decided here; every .c file in stack/ follows it)
 * --------------------------------------------------------------------------
 * Threads:
 *  - the RECEIVE THREAD (one per stack) reads frames from the device,
 *    runs all input processing and all timers (ARP retransmits, aging);
 *  - CALLER THREADS (any application thread) call udp_send() and friends:
 *    when the next hop's MAC is known the frame is built and written to the
 *    device on the caller's thread, without a hand-off;
 *  - the wsk layer's COMPLETION THREADS never enter the stack except as
 *    caller threads.
 * Locks:
 *  - st->lock (one mutex per stack) guards the neighbour cache, the route
 *    and address tables, the UDP endpoint table, the ICMP rate limiter and
 *    the IPv4 identification counter.  It is held only for table lookups and
 *    updates: never while writing to the device, never while calling an
 *    endpoint's callbacks, never while calling tx_req->done.
 *  - the packet pool has its own mutex (leaf lock).
 *  - counters are relaxed atomics: no lock.
 * Callbacks out of the stack (udp_ep_ops, tx_req->done) are called with no
 * stack lock held, so they may call back into the stack (send from a
 * receive callback is allowed).
 * --------------------------------------------------------------------------
 *
 * Time: every function that needs time takes `now` (nanoseconds on
 * CLOCK_MONOTONIC) or reads it through stack_now(), which tests can replace
 * with a manual clock (stack_set_clock).
 */
#ifndef WSS_STACK_H
#define WSS_STACK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "wskstack.h"

struct dev;
/* The stack instance is `struct wskstack` (the public, opaque name) everywhere;
 * its definition is private to stack/ (stack_impl.h). */

/* ---- addresses ------------------------------------------------------------ */
#define IPA_NONE 0
#define IPA_V4 4
#define IPA_V6 6
struct ip_addr {
    uint8_t af;               /* IPA_NONE, IPA_V4, IPA_V6 */
    union {
        uint32_t v4;          /* HOST byte order */
        uint8_t v6[16];       /* network byte order */
    };
};
static inline struct ip_addr ip4(uint32_t a) { struct ip_addr r = {.af = IPA_V4}; r.v4 = a; return r; }
bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b);
bool ip_addr_is_any(const struct ip_addr *a); /* af NONE, 0.0.0.0 or :: */
/* "192.0.2.1" / "2001:db8::1" <-> ip_addr.  parse returns 0 or -EINVAL. */
int ip_addr_parse(const char *s, struct ip_addr *out);
const char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len);

/* ---- packet buffers ------------------------------------------------------- */
/* A packet buffer: one owner at a time (DESIGN.md principle 3).  Data lives
 * in buf[head .. head+len); headroom (PKT_HEADROOM) lets lower layers prepend
 * headers without copying. */
#define PKT_HEADROOM 128
struct pkt {
    struct pkt *next;         /* owner's queue link */
    uint8_t *buf;
    uint32_t cap;             /* bytes at buf */
    uint32_t head;            /* offset of the first valid byte */
    uint32_t len;             /* valid bytes */
    struct tx_req *req;       /* send completion (NULL = none), see below */
    uint64_t ts;              /* receive time (ns), for pcap/trace */
    uint8_t pool_class;       /* private to pkt.c */
};
static inline uint8_t *pkt_data(struct pkt *p) { return p->buf + p->head; }
/* Allocate a buffer able to hold `size` bytes after PKT_HEADROOM.  From the
 * per-stack pool in steady state (no heap allocation per packet); NULL if the
 * pool is exhausted and its cap reached. head = PKT_HEADROOM, len = 0. */
struct pkt *pkt_alloc(struct wskstack *st, uint32_t size);
void pkt_free(struct wskstack *st, struct pkt *p);
/* Prepend n bytes (returns the new start) / drop n leading bytes. */
uint8_t *pkt_push(struct pkt *p, uint32_t n);
void pkt_pull(struct pkt *p, uint32_t n);

/* ---- send completions ----------------------------------------------------- */
/* A send that cannot go out at once (the neighbour must first be resolved)
 * is queued; its frames carry a tx_req, and done() is called EXACTLY ONCE,
 * with no stack lock held, on the receive thread or a caller thread:
 *   err == 0             every frame of the datagram was written;
 *   err == -EHOSTUNREACH resolution failed (3 ARP requests 1 s apart);
 *   err == -ENODEV       the device disappeared;
 *   err == -ECANCELED    tx_req_cancel() took it back.
 * The tx_req memory belongs to the caller and must stay valid until done().
 */
struct tx_req {
    void (*done)(struct tx_req *r, int err);
    atomic_int frames;        /* private to the stack */
    int err;                  /* private to the stack */
};
/* Cancel a queued send: if its frames are still waiting for resolution they
 * are dropped and done(-ECANCELED) runs (before this returns) - returns true.
 * false: too late, done() has run or will run with the real result. */
bool tx_req_cancel(struct wskstack *st, struct tx_req *r);

/* ---- UDP endpoints --------------------------------------------------------- */
struct udp_ep;
struct udp_rx_info {
    struct ip_addr src, dst;  /* dst: the address it arrived on (IP_PKTINFO) */
    uint16_t sport, dport;
    uint32_t ifindex;
    uint8_t ttl, tos;
    bool bcast, mcast;        /* link/IP broadcast, multicast destination */
};
struct udp_ep_ops {
    /* Receive thread, no stack lock held.  The payload is pkt_data(p),
     * p->len bytes.  Return 0: the endpoint now owns p (and frees it with
     * pkt_free).  Return <0: the stack frees p and counts it:
     * -ENOBUFS -> UdpRcvbufErrors, anything else -> UdpInErrors. */
    int (*rx)(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info);
};
/* Owned and embedded by the upper layer's socket object.  Fields below the
 * line are the stack's; the owner sets ops and flags before udp_bind(). */
struct udp_ep {
    const struct udp_ep_ops *ops;
    uint32_t flags;           /* UDP_EP_* */
    /* ---- stack-private ---- */
    struct ip_addr local;     /* bound address (any = wildcard) */
    uint16_t lport;           /* host order; 0 = unbound */
    bool bound;
    struct udp_ep *next;      /* endpoint table chain */
    atomic_int active;        /* rx callbacks in progress */
};
#define UDP_EP_REUSEADDR   0x1 /* SO_REUSEADDR: share the port with other REUSEADDR eps */
#define UDP_EP_EXCLUSIVE   0x2 /* SO_EXCLUSIVEADDRUSE */
#define UDP_EP_V4          0x10 /* accepts IPv4 */
#define UDP_EP_V6          0x20 /* accepts IPv6 (issue 4) */

/* Bind: local af NONE / 0.0.0.0 = wildcard.  port 0 = an ephemeral port
 * (49152-65535, first free after a random start).  Errors: -EADDRINUSE,
 * -EADDRNOTAVAIL (a specific address the stack does not own), -EINVAL
 * (already bound). */
int udp_bind(struct wskstack *st, struct udp_ep *ep, const struct ip_addr *local, uint16_t port);
/* Remove from the table.  When it returns, ep->ops->rx is not running and
 * will not be called again (it waits for a callback in progress, unless
 * called from inside that callback). */
void udp_unbind(struct wskstack *st, struct udp_ep *ep);

struct udp_send_args {
    struct ip_addr dst;
    uint16_t dport;
    struct ip_addr src;       /* af NONE = choose by route; else must be ours
                                 (IN_PKTINFO), else -EADDRNOTAVAIL */
    uint32_t ifindex;         /* 0 = any; else must be the stack's */
    int ttl;                  /* -1 = default (64) */
    int tos;                  /* -1 = default (0) */
    bool df;
    const struct iovec *iov;  /* payload, gathered into the packet (copied) */
    unsigned iovcnt;
    size_t len;               /* total payload bytes across iov */
    struct tx_req *req;       /* used only when the result is UDP_SEND_QUEUED */
};
#define UDP_SEND_DONE   0  /* every frame was written before returning */
#define UDP_SEND_QUEUED 1  /* waiting for resolution: req->done() later */
/* Send one datagram.  The payload and all args are consumed before return.
 * Errors (nothing was sent, req->done is NOT called):
 *   -EMSGSIZE      payload > 65507 (IPv4), or > MTU with df
 *   -ENETUNREACH   no route
 *   -EADDRNOTAVAIL src given but not ours / no source address available
 *   -EACCES        broadcast destination without permission (caller checks)
 *   -ENOBUFS       pool exhausted, or the neighbour's wait queue is full
 *   -ENODEV        the device has disappeared
 *   -EINVAL        ep not bound */
int udp_send(struct wskstack *st, struct udp_ep *ep, const struct udp_send_args *a);

/* ---- queries used by the API layer ---------------------------------------- */
/* True if a is one of the stack's unicast addresses. */
bool stack_addr_is_local(struct wskstack *st, const struct ip_addr *a);
/* True if a (IPv4, host order) is a broadcast address for the stack: the
 * limited broadcast or the directed broadcast of one of its subnets (the
 * wsk layer's SO_BROADCAST check, see udp_send -EACCES). */
bool ipv4_is_broadcast(struct wskstack *st, uint32_t a);
/* The stack's (fake for memdev) interface index. */
uint32_t stack_ifindex(struct wskstack *st);
/* True once the device has disappeared (reads failed with ENODEV etc.). */
bool stack_dev_gone(struct wskstack *st);
/* Register a callback run once (receive thread, no lock) when the device
 * disappears; the wsk layer uses it to fail pending operations. */
void stack_set_gone_cb(struct wskstack *st, void (*cb)(void *ctx), void *ctx);

/* ---- lifecycle for tests and for wskstack_create() -------------------------- */
#define STACK_NO_THREAD 0x1 /* tests: no receive thread; drive with stack_poll() */
/* Create a stack on an already opened device (tap_open or memdev_create).
 * The stack owns the device from now on. */
int stack_create_on_dev(const struct wskstack_config *cfg, struct dev *dev, unsigned flags,
                        struct wskstack **out, char *err, size_t errlen);
/* STACK_NO_THREAD stacks: process every frame waiting on the device, then
 * run the timers due at `now`.  Returns frames processed. */
int stack_poll(struct wskstack *st, uint64_t now);
uint64_t stack_now(struct wskstack *st);
/* Replace the clock (tests): fn returns ns. NULL = CLOCK_MONOTONIC. */
void stack_set_clock(struct wskstack *st, uint64_t (*fn)(void *ctx), void *ctx);
struct dev *stack_dev(struct wskstack *st);

/* Static ARP entry (tests, labs). */
int stack_neigh_add_static(struct wskstack *st, const struct ip_addr *ip, const uint8_t mac[6]);
/* Number of neighbour cache entries (tests). */
unsigned stack_neigh_count(struct wskstack *st);
/* Number of packet buffers currently allocated (leak checks in tests). */
unsigned stack_pkts_in_use(struct wskstack *st);

#endif /* WSS_STACK_H */
