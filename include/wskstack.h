/* SPDX-License-Identifier: MIT */
/*
 * wskstack.h - stack lifecycle and configuration.
 *
 * A WSK client normally never includes this: WskRegister() builds the
 * process-default stack from the WSKSTACK_CONFIG environment variable.  This
 * header gives programs (tools, tests, labs) the same configuration keys
 * programmatically, several stacks in one process, and the counters.
 *
 * Configuration text: `key=value` pairs separated by `;` (keys repeatable
 * where it makes sense):
 *   tap=NAME          TAP to create (default: a free "wsk%d")
 *   mac=XX:..:XX      the stack's own MAC (default: locally administered,
 *                     different from the TAP's)
 *   mtu=N             68..65535 (default 1500)
 *   addr=A/P          an address of the stack (repeatable)
 *   gateway=A         default router (repeatable, one per family)
 *   host-addr=A/P     an address given to the kernel side of the TAP
 *                     (repeatable; added through libnl-route)
 *   slaac=on|off      IPv6 addresses from Router Advertisement prefixes
 *                     (RFC 4862 SLAAC; default on)
 *   trace=LAYERS      the decision trace: all, none, or a comma-separated
 *                     list of link, arp, nd, ipv4, ipv6, frag, icmp,
 *                     icmpv6, udp, wsk, irp (default: off)
 *   trace-format=F    text (default): "<time> <layer> <rx|tx|-> <message>";
 *                     json: JSON Lines {"t":ns,"layer":..,"dir":..,
 *                     "event":..,"msg":.., "counter","rfc",...}
 *   trace-file=PATH   where the trace goes (default stderr); only trace=
 *                     turns tracing on
 *   pcap=FILE         every frame sent and received, as a pcap file with
 *                     nanosecond timestamps; "-" = stdout
 * Unknown keys and malformed values are rejected with a message naming the
 * key.
 */
#ifndef WSKSTACK_H
#define WSKSTACK_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WSKSTACK_API __attribute__((visibility("default")))

struct wskstack;
struct wskstack_config;

/* ---- configuration ------------------------------------------------------- */
WSKSTACK_API struct wskstack_config *wskstack_config_new(void);
WSKSTACK_API void wskstack_config_free(struct wskstack_config *cfg);
/* Parse "k=v;k=v" text into cfg (adds to what is there).  0 on success,
 * -EINVAL with a message naming the key in err otherwise (cfg unchanged). */
WSKSTACK_API int wskstack_config_parse(struct wskstack_config *cfg, const char *text,
                                       char *err, size_t errlen);
/* Set one key. Same keys, same errors. */
WSKSTACK_API int wskstack_config_set(struct wskstack_config *cfg, const char *key,
                                     const char *value, char *err, size_t errlen);

/* ---- lifecycle ----------------------------------------------------------- */
/* Create the TAP, configure its kernel side, start the stack's threads.
 * 0 or -errno with a message; nothing half-configured is left behind. */
WSKSTACK_API int wskstack_create(const struct wskstack_config *cfg, struct wskstack **out,
                                 char *err, size_t errlen);
/* Stop the threads, delete the TAP, free everything.  All sockets must be
 * closed first (the WSK layer guarantees it). */
WSKSTACK_API void wskstack_destroy(struct wskstack *st);

WSKSTACK_API const char *wskstack_ifname(const struct wskstack *st);
WSKSTACK_API int wskstack_ifindex(const struct wskstack *st);
WSKSTACK_API void wskstack_mac(const struct wskstack *st, uint8_t mac[6]);

/* ---- counters (names as Linux nstat prints them) -------------------------- */
/* Value of a counter by name (e.g. "UdpInDatagrams"); -1 if no such name. */
WSKSTACK_API int64_t wskstack_counter(const struct wskstack *st, const char *name);
/* Iterate: name of counter i (NULL past the end) and its value. */
WSKSTACK_API const char *wskstack_counter_name(unsigned i);
WSKSTACK_API uint64_t wskstack_counter_value(const struct wskstack *st, unsigned i);
/* Print all non-zero counters as `nstat -j`-shaped JSON. */
WSKSTACK_API void wskstack_counters_json(const struct wskstack *st, FILE *out);

/* ---- listings (like ip neigh / ip route / ip addr / ip -j -s link) --------- */
/* json = 0: text, one line per entry, as `ip` prints it; json != 0: one
 * line of JSON shaped like `ip -j`.  IPv4 and IPv6 alike.  0 or -ENOMEM.
 *   neigh   "192.0.2.1 dev wsk0 lladdr 02:00:5e:00:53:01 REACHABLE"
 *           (IPv6 entries with their NUD state, "router" for routers)
 *   routes  "default via 192.0.2.1 dev wsk0",
 *           "192.0.2.0/24 dev wsk0 proto kernel scope link src 192.0.2.2",
 *           IPv6 prefixes from addr= (proto kernel) and from RAs (proto ra,
 *           expires Nsec), the Default Router List as default routes
 *   addrs   "    inet 192.0.2.2/24 scope global",
 *           "    inet6 2001:db8::2/64 scope global tentative" (DAD state:
 *           tentative, dadfailed, deprecated; origin: dynamic + proto
 *           kernel_ra for SLAAC, proto kernel_ll for the link-local) */
WSKSTACK_API int wskstack_list_neigh(struct wskstack *st, FILE *out, int json);
WSKSTACK_API int wskstack_list_routes(struct wskstack *st, FILE *out, int json);
WSKSTACK_API int wskstack_list_addrs(struct wskstack *st, FILE *out, int json);
/* The interface as `ip -j -s link` shows it: ifname, address (MAC), mtu and
 * stats64 rx/tx bytes, packets, errors, dropped (from the If* counters). */
WSKSTACK_API int wskstack_link_json(struct wskstack *st, FILE *out);

/* ---- ICMP / ICMPv6 echo from the stack (stack/echo.c; wsk-ping) ----------- *
 * A ping handle sends echo requests with its identifier to one IPv4 or IPv6
 * destination and receives, with their arrival times, the echo replies that
 * carry that identifier and the ICMP(v6) errors that quote one of its
 * requests (destination unreachable, time exceeded, parameter problem,
 * packet too big).  A request the stack could not deliver because address
 * resolution failed (3 ARP requests, or ND's probes, unanswered) is reported
 * as an error event with `local` set, from the request's own source address
 * and with type/code 3/1 (IPv4 host unreachable) or 1/3 (IPv6 address
 * unreachable) - the way the Linux kernel reports it to ping.
 * Thread-safe; the handle must be closed before the stack is destroyed. */
struct wskstack_ping;
#define WSKSTACK_PING_REPLY 1   /* an echo reply */
#define WSKSTACK_PING_ERROR 2   /* an ICMP(v6) error about one of our requests */
struct wskstack_ping_event {
    int kind;                   /* WSKSTACK_PING_REPLY or WSKSTACK_PING_ERROR */
    int family;                 /* 4 or 6 */
    char from[46];              /* the sender (numeric) */
    uint16_t id, seq;           /* of the reply, or of the request an error quotes */
    uint8_t ttl;                /* TTL / Hop Limit of the packet that arrived */
    uint8_t type, code;         /* ICMP(v6) type and code */
    uint32_t info;              /* an error's 4 bytes after the checksum
                                   (next-hop MTU, PTB MTU, pointer) */
    size_t len;                 /* reply: data bytes after the 8-byte ICMP header */
    int local;                  /* 1: made by this stack (resolution failed) */
    uint64_t rx_ns;             /* arrival, on the stack's clock (wskstack_now_ns) */
};
/* Open a handle toward dst ("192.0.2.1" or "2001:db8::1"; numeric).  id 0:
 * an identifier no other open handle of this stack uses.  0, -EINVAL
 * (malformed dst), -EADDRINUSE (id taken), -ENOMEM. */
WSKSTACK_API int wskstack_ping_open(struct wskstack *st, const char *dst, uint16_t id,
                                    struct wskstack_ping **out);
WSKSTACK_API uint16_t wskstack_ping_id(const struct wskstack_ping *p);
/* The source address the last request went out from ("" before the first). */
WSKSTACK_API const char *wskstack_ping_source(const struct wskstack_ping *p);
/* Send one echo request: sequence seq, len data bytes (copied).  *sent_ns
 * (may be NULL) = the stack's clock when it was handed to IP.  0 (written,
 * or queued for address resolution), or -errno: -EMSGSIZE (len beyond
 * 65507 / 65527), -ENETUNREACH, -EADDRNOTAVAIL (no usable source address,
 * e.g. IPv6 DAD still running), -ENOBUFS, -ENODEV. */
WSKSTACK_API int wskstack_ping_send(struct wskstack_ping *p, uint16_t seq, const void *data,
                                    size_t len, uint64_t *sent_ns);
/* Next event, waiting at most timeout_ms.  Up to cap bytes of a reply's
 * data are copied to data (may be NULL).  0, or -ETIMEDOUT.  At most 256
 * events wait per handle; more are dropped. */
WSKSTACK_API int wskstack_ping_recv(struct wskstack_ping *p, struct wskstack_ping_event *ev,
                                    void *data, size_t cap, unsigned timeout_ms);
/* Close: requests still waiting for resolution are cancelled first. */
WSKSTACK_API void wskstack_ping_close(struct wskstack_ping *p);
/* The stack's clock (ns, CLOCK_MONOTONIC unless a test replaced it). */
WSKSTACK_API uint64_t wskstack_now_ns(const struct wskstack *st);
/* Wait (at most timeout_ms) until every address of the stack is usable:
 * no IPv6 address is still tentative (DAD, RFC 4862).  IPv4 addresses are
 * usable from wskstack_create() on (its gratuitous ARP has been written by
 * then).  0, or -ETIMEDOUT. */
WSKSTACK_API int wskstack_wait_ready(struct wskstack *st, unsigned timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* WSKSTACK_H */
