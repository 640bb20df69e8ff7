/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the decision trace: one line per decision, per layer, for
 * received and sent packets (issue 6).
 *
 * Who calls it: every file of stack/ (through stack_impl.h, which adds
 * stack_trace_on() and the TRACE()/TRACE_F() macros) and the wsk layer for
 * the wsk and irp layers (through this header alone: it needs no private
 * stack type).
 *
 * Cost when tracing is off: a call site is written
 *
 *     if (stack_trace_on(st, TRACE_UDP))          // one load, one branch
 *         trace_event(st, TL_UDP, TD_RX, "csum", &f, "checksum ok");
 *
 * or with the TRACE()/TRACE_F() macros, which expand to exactly that.  The
 * branch is marked unlikely (__builtin_expect), and no argument is evaluated
 * and nothing is formatted unless the layer's bit is set.  stack_drop()
 * (stack_impl.h) counts first, then makes the same single test of
 * st->trace_mask before it formats anything.
 *
 * Output (one line per call, never interleaved: trace_event formats into a
 * local buffer and writes it under the stack's trace mutex, then flushes):
 *   text  "<time> <layer> <rx|tx|-> <message>"
 *         time: seconds.nanoseconds on the stack's clock (CLOCK_MONOTONIC,
 *         or the test clock of stack_set_clock)
 *   json  one JSON object per line (JSON Lines), fields in this order:
 *         {"t":<ns>,"layer":"udp","dir":"rx","event":"drop","msg":"...",
 *          then only the event fields that are set, in the order of
 *          struct trace_fields: the strings "counter","rfc","src","dst",
 *          "nexthop","route","rule","from","to","irp","call","status",
 *          "mac","target","prefix", then the numbers "proto","len","sport",
 *          "dport","id","seq","ttl","type","code","mtu","count"}
 *         Strings are JSON strings, numbers are JSON numbers.  "rfc" is
 *         taken from the message when the message cites one ("... (RFC
 *         4861 §7.1.1)" gives "RFC 4861 §7.1.1") and the caller gave none.
 *   The message is for people and may be reworded; the layer, dir, event
 *   and field names are the stable interface.
 *
 * Layers and their events (dir: rx = about a received packet, tx = about
 * one we send, "-" = a timer or a state change):
 *   link    accept (rx: a frame for us, handed to arp/ipv4/ipv6), send (tx:
 *           a frame written to the device), gone (-: the device went away),
 *           drop
 *   arp     request, reply (rx: what a received request/reply made us do;
 *           tx: one we sent), announce (tx: gratuitous), probe (rx: an RFC
 *           5227 probe for our address), conflict (rx), neigh (-: a cache
 *           state change, "from"/"to"), failed (tx: resolution gave up),
 *           drop
 *   nd      ns, na, rs (rx: what a received message made us do; tx: one we
 *           sent), ra (rx), prefix (rx: an RA on-link prefix), redirect
 *           (rx), nud (-: a NUD state change, "from"/"to"), failed (tx),
 *           drop
 *   ipv4    accept (rx: ours, to which upper layer), send (tx), route (tx:
 *           the matched route and next hop), source (tx: which address and
 *           why), drop
 *   ipv6    accept, send, route, source (as ipv4; the RFC 6724 rule in
 *           "rule"), dad, slaac, addr (-: address lifetimes and
 *           configuration), pmtu (rx: a Packet Too Big applied or not), drop
 *   frag    fragment (tx: a datagram cut into "count" fragments), kept (rx:
 *           a fragment held for reassembly), duplicate (rx), reassembled
 *           (rx), drop
 *   icmp, icmpv6
 *           csum (rx: the checksum verdict, type and code), echo-reply,
 *           echo-request (tx), reply (rx: an echo reply and who took it),
 *           ignore (rx: a message we only count), error (tx: an error
 *           sent), no-error (tx: an error the rules forbid), queue-full
 *           (rx: a ping handle's event queue overflowed), drop
 *   udp     csum (rx: ports, length, checksum verdict), send (tx: ports,
 *           length, checksum computed), drop
 *   wsk     the WSK provider's socket-level decisions (wsk/; "call" names
 *           the WSK call or event, "status" the NTSTATUS when there is one):
 *           bind (-: a WskBind done, the port), refuse (a call refused,
 *           with its status and why: bind -, send tx, receive rx, event
 *           control -, release rx), send (tx: a WskSendTo or
 *           WskSendMessages accepted), source (tx: the IN_PKTINFO /
 *           IN6_PKTINFO source of a send), destination (tx: the fixed
 *           address a send with RemoteAddress NULL went to), fixed (-: a
 *           fixed remote or sendto address set or cleared), deliver (rx: a
 *           datagram copied into a WskReceiveFrom IRP), queue (rx: a
 *           datagram queued on the socket), drop (rx: a datagram the socket
 *           refused, "counter" UdpInErrors or UdpRcvbufErrors; datagrams
 *           lost for want of memory for an indication have no counter),
 *           indicate (rx: one WskReceiveFromEvent call and the client's
 *           answer, written after the callback returned), release (rx:
 *           WskRelease), event (-: WSK_EVENT_RECEIVE_FROM enabled or
 *           disabled), close (-: what WskCloseSocket cancelled or dropped),
 *           gone (-: the device went away, pending receives completed)
 *   irp     each IRP's life, dir "-", always with "irp" and "call" (the WSK
 *           call it belongs to): issued (the call got the IRP, its first
 *           step: wsk_irp_accept), pended (STATUS_PENDING returned),
 *           completed ("status"; the Information is in the message), cancel
 *           (the IRP was cancelled; its completed line follows), refused
 *           (no IRP or no free stack location: the call returns
 *           STATUS_INVALID_PARAMETER and the IRP is not completed)
 * Every drop is event "drop" with its "counter" (the nstat name it bumped)
 * and, when there is one, the "rfc" behind the rule.
 *
 * Locking: the trace mutex is a leaf lock; trace_event may be called with
 * st->lock held and from any thread.
 */
#ifndef WSS_TRACE_H
#define WSS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct wskstack;

/* The layers of the issue, in this order (the bit of layer L is 1u << L). */
enum trace_layer {
    TL_LINK = 0, TL_ARP, TL_ND, TL_IPV4, TL_IPV6, TL_FRAG, TL_ICMP, TL_ICMPV6, TL_UDP, TL_WSK,
    TL_IRP, TL__COUNT
};
#define TRACE_LINK   (1u << TL_LINK)
#define TRACE_ARP    (1u << TL_ARP)
#define TRACE_ND     (1u << TL_ND)
#define TRACE_IPV4   (1u << TL_IPV4)
#define TRACE_IPV6   (1u << TL_IPV6)
#define TRACE_FRAG   (1u << TL_FRAG)
#define TRACE_ICMP   (1u << TL_ICMP)
#define TRACE_ICMPV6 (1u << TL_ICMPV6)
#define TRACE_UDP    (1u << TL_UDP)
#define TRACE_WSK    (1u << TL_WSK)
#define TRACE_IRP    (1u << TL_IRP)
#define TRACE_ALL    ((1u << TL__COUNT) - 1)

enum trace_dir { TD_NONE = 0, TD_RX, TD_TX };   /* printed "-", "rx", "tx" */
enum trace_format { TRACE_FMT_TEXT = 0, TRACE_FMT_JSON };
#define TRACE_F_NOTIME 0x1   /* text without the time column (tests) */

/* The one test every trace call site makes first.  WSS_TRACE_COMPILED_OUT
 * (a build of the benchmarks only, bench/) makes it a constant 0 so the
 * compiler removes every trace call site: the reference against which
 * "tracing off" is measured. */
#ifdef WSS_TRACE_COMPILED_OUT
#define TRACE_ON(mask, bits) ((void)(mask), (void)(bits), 0)
#else
#define TRACE_ON(mask, bits) __builtin_expect(((mask) & (bits)) != 0, 0)
#endif

/* A number field of struct trace_fields: written TNUM(v) (v fits in 32
 * bits); 0, the value of a field left out of an initializer, is "absent",
 * so a real 0 (ICMP type 0, port 0) is still printed. */
typedef uint64_t trace_num;
#define TRACE_NUM_SET (1ull << 63)
#define TNUM(v) ((trace_num)(uint32_t)(v) | TRACE_NUM_SET)

/* Event-specific fields: NULL / 0 = absent.  Strings are copied into the
 * line.  New fields are appended (the JSON order is this order). */
struct trace_fields {
    const char *counter;   /* the counter a drop (or conflict, failure) bumped: nstat name */
    const char *rfc;       /* the rule behind the decision: "RFC 4861 §7.1.1" */
    const char *src, *dst; /* addresses the decision was about (MACs in link lines) */
    const char *nexthop;   /* route lookups, sends */
    const char *route;     /* the matched route, "192.0.2.0/24" */
    const char *rule;      /* RFC 6724 rule, checksum verdict, address kind ... */
    const char *from, *to; /* state changes (NUD, ARP, DAD, IRP) */
    const char *irp;       /* the IRP (wsk layer): "0x55d0c0a8" */
    const char *call;      /* the WSK call the IRP belongs to: "WskSendTo" */
    const char *status;    /* an NTSTATUS name or an errno */
    const char *mac;       /* the link-layer address ARP/ND learned or announced */
    const char *target;    /* the target address of an NS or NA */
    const char *prefix;    /* an RA prefix, "2001:db8:1::/64" */
    trace_num proto;       /* EtherType (link), IP protocol / Next Header (ipv4, ipv6) */
    trace_num len;         /* bytes of the packet at this layer, its header included */
    trace_num sport, dport;/* UDP ports */
    trace_num id;          /* IPv4 or fragment Identification, ICMP echo identifier */
    trace_num seq;         /* ICMP echo sequence number */
    trace_num ttl;         /* IPv4 TTL or IPv6 Hop Limit */
    trace_num type, code;  /* ICMP / ICMPv6 type and code */
    trace_num mtu;         /* link or path MTU */
    trace_num count;       /* fragments made, packets sent or dropped ... */
};

/* The layer names, "link" .. "irp"; NULL past the end. */
const char *trace_layer_name(enum trace_layer l);
/* "all", "none", "" or a comma-separated list of layer names into a mask.
 * 0, or -EINVAL with the offending word copied into bad (bad_len bytes). */
int trace_parse_layers(const char *text, uint32_t *mask, char *bad, size_t bad_len);

/* The stack's layer mask (0 = tracing off).  Fixed once the stack runs; the
 * wsk layer reads it once (at registration) and tests TRACE_ON(mask, bits)
 * before every trace_event call. */
uint32_t stack_trace_mask(const struct wskstack *st);

/* Write one trace line (see the top).  The caller has tested the layer's bit;
 * trace_event tests it again (cheaply) so a stray call cannot print a layer
 * that is off.  f may be NULL. */
void trace_event(struct wskstack *st, enum trace_layer layer, enum trace_dir dir,
                 const char *event, const struct trace_fields *f, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Send the trace to out (tests, tools): mask of layers, format, flags
 * (TRACE_F_*).  The stack does not own out (trace_detach leaves it open).
 * Call before the receive thread runs, or on a STACK_NO_THREAD stack. */
void trace_attach(struct wskstack *st, FILE *out, uint32_t mask, enum trace_format fmt,
                  unsigned flags);
/* Stop tracing; returns the stream that was attached (NULL if none or if
 * the stack owned it, in which case it is closed). */
FILE *trace_detach(struct wskstack *st);

#endif /* WSS_TRACE_H */
