/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the decision trace: one line per decision, per layer, for
 * received and sent packets (issue 6).
 *
 * Who calls it: every file of stack/ (through stack_impl.h, which adds
 * stack_trace_on()) and, later, the wsk layer for the wsk and irp layers
 * (through this header alone: it needs no private stack type).
 *
 * Cost when tracing is off: a call site is written
 *
 *     if (stack_trace_on(st, TRACE_UDP))          // one load, one branch
 *         trace_event(st, TL_UDP, TD_RX, "csum", NULL, "checksum ok");
 *
 * or with the TRACE()/TRACE_F() macros, which expand to exactly that.  The
 * branch is marked unlikely (__builtin_expect), and no argument is evaluated
 * and nothing is formatted unless the layer's bit is set.  The legacy
 * string-layer calls stack_trace()/stack_drop() (stack_impl.h) are macros
 * with the same single test of st->trace_mask in front.
 *
 * Output (one line per call, never interleaved: trace_event formats into a
 * local buffer and writes it under the stack's trace mutex, then flushes):
 *   text  "<time> <layer> <rx|tx|-> <message>"
 *         time: seconds.nanoseconds on the stack's clock (CLOCK_MONOTONIC,
 *         or the test clock of stack_set_clock)
 *   json  one JSON object per line (JSON Lines), fields in this order:
 *         {"t":<ns>,"layer":"udp","dir":"rx","event":"drop","msg":"...",
 *          then only the event fields that are set, in the order of
 *          struct trace_fields: "counter","rfc","src","dst","nexthop",
 *          "route","rule","from","to","irp","call","status"}
 *         "rfc" is taken from the message when the message cites one
 *         ("... (RFC 4861 §7.1.1)" gives "RFC 4861 §7.1.1") and the caller
 *         gave none.
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

/* Event-specific fields: NULL = absent.  Strings are copied into the line. */
struct trace_fields {
    const char *counter;   /* the counter a drop bumped (nstat name) */
    const char *rfc;       /* the rule behind the decision: "RFC 4861 §7.1.1" */
    const char *src, *dst; /* addresses the decision was about */
    const char *nexthop;   /* route lookups */
    const char *route;     /* the matched route, "192.0.2.0/24" */
    const char *rule;      /* RFC 6724 rule, checksum verdict ... */
    const char *from, *to; /* state changes (NUD, ARP, DAD, IRP) */
    const char *irp;       /* the IRP (wsk layer): "0x55d0c0a8" */
    const char *call;      /* the WSK call the IRP belongs to: "WskSendTo" */
    const char *status;    /* an NTSTATUS name or an errno */
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
