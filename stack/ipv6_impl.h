/* SPDX-License-Identifier: MIT */
/*
 * ipv6_impl.h - the interfaces between the IPv6 files of stack/ (dual-stack
 * issue).  Same rules as stack_impl.h: the concurrency model of stack.h,
 * `now` in ns, -errno results, "consumes p" means the callee frees it.
 *
 * Who owns what:
 *   ipv6.c    IPv6 input (RFC 8200 validation, extension-header walk via
 *             stack/wire/wire6.h, reassembly via reasm.h), output
 *             (fragmentation with a Fragment header), path MTU cache
 *             (RFC 8201)
 *   icmpv6.c  ICMPv6 echo, errors (RFC 4443) with the never-send rules and
 *             the rate limiter, Packet Too Big input -> pmtu6_update
 *   nd.c      Neighbor Discovery (RFC 4861): the IPv6 neighbour cache with
 *             NUD (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE), router list,
 *             nd6_output, queries
 *   nd_input.c  received NS/NA/RS/RA/Redirect: validation and processing
 *   nd_send.c   the NS/NA/RS we send, the ND timers, nd_start
 *   route6.c  the IPv6 routing table (route6_*)
 *   addr6.c   IPv6 address table: link-local generation, configured
 *             addresses, SLAAC (RFC 4862), DAD, lifetimes, multicast groups,
 *             RFC 6724 source address selection
 *   udp.c     (existing) gains UDP over IPv6: udp_input6, IPv6 sends
 */
#ifndef WSS_IPV6_IMPL_H
#define WSS_IPV6_IMPL_H

#include "stack_impl.h"
#include "wire/wire6.h"

struct nd_state;      /* nd.c */
struct addr6_table;   /* addr6.c */
struct pmtu6_cache;   /* ipv6.c */

/* ---- ipv6.c ------------------------------------------------------------------- */
int ipv6_init(struct wskstack *st);
void ipv6_fini(struct wskstack *st);
/* Receive thread. p at the IPv6 header; the Ethernet header is readable just
 * in front of pkt_data(p) (link broadcast/multicast detection). Consumes p. */
void ipv6_input(struct wskstack *st, struct pkt *p, uint64_t now);
struct ipv6_tx {
    uint8_t src[16], dst[16];
    uint8_t next_header;     /* upper-layer protocol (58 ICMPv6, 17 UDP) */
    uint8_t hop_limit;       /* 0 = default (64; ND sets 255) */
    uint8_t tclass;
    bool dontfrag;           /* IPV6_DONTFRAG: > path MTU -> -EMSGSIZE */
    uint32_t ifindex;        /* for link-local destinations (scope) */
    bool src_unspecified;    /* src is :: on purpose (DAD NS, RFC 4862 §5.4.2);
                                otherwise an all-zero src means "choose one"
                                (addr6_select_source) */
};
/* Prepend the IPv6 header (payload at pkt_data(p)), fragment to the path MTU
 * when needed (never below 1280, RFC 8200 §5), resolve the next hop through
 * route6_lookup + nd6_output, or send multicast directly (33:33 mapping).
 * Without st->lock.  UDP_SEND_DONE / UDP_SEND_QUEUED / -errno. Consumes p. */
int ipv6_output(struct wskstack *st, struct pkt *p, const struct ipv6_tx *tx, uint64_t now);
/* Path MTU toward dst (link MTU when unknown). RFC 8201. */
uint32_t pmtu6_get(struct wskstack *st, const uint8_t dst[16], uint64_t now);
/* A valid Packet Too Big: lower (never below 1280, never raise) the PMTU. */
void pmtu6_update(struct wskstack *st, const uint8_t dst[16], uint32_t mtu, uint64_t now);
void ipv6_timer(struct wskstack *st, uint64_t now);
/* Receive thread (reassembly timer, reasm.h): an IPv6 datagram timed out
 * holding fragment 0: ICMPv6 Time Exceeded code 1 (RFC 8200 §4.5). */
struct reasm_expired;
void ipv6_reasm_expired(struct wskstack *st, const struct reasm_expired *e, uint64_t now);
/* Delivery convention of ipv6_input to icmpv6_input / udp_input6: p->len
 * runs to the end of the IPv6 payload and ip->payload_len is the payload
 * length of the packet as delivered (reassembled: the whole datagram's), so
 * the IPv6 header starts IPV6_HDR_LEN + ip->payload_len - p->len bytes in
 * front of pkt_data(p) - where an error message quotes from. */
static inline const uint8_t *ipv6_hdr_of(struct pkt *p, const struct ipv6_repr *ip)
{
    return pkt_data(p) - (IPV6_HDR_LEN + (size_t)ip->payload_len - p->len);
}

/* ---- icmpv6.c ---------------------------------------------------------------------- */
int icmpv6_init(struct wskstack *st);
void icmpv6_fini(struct wskstack *st);
/* p at the ICMPv6 header, ip = the fixed header, link_mcast = arrived as
 * link-layer multicast/broadcast. ND types are passed on to nd_input. */
void icmpv6_input(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip,
                  bool link_mcast, bool fragmented, uint64_t now);
/* Send an ICMPv6 error about `orig` (from its IPv6 header) applying RFC 4443
 * §2.4(e) never-send rules (allow_mcast: Param Problem code 2 and PTB may go
 * to multicast), the ≤ 1280-byte size rule and the rate limiter. */
void icmpv6_send_error(struct wskstack *st, uint8_t type, uint8_t code, uint32_t param,
                       const uint8_t *orig, size_t orig_len, bool link_mcast, bool allow_mcast,
                       uint64_t now);
/* Build and send an ICMPv6 message (checksum filled) from src to dst. Used by
 * nd.c and addr6.c.  body = type..end, body_len bytes (checksum computed
 * here).  hop_limit 255 for ND. */
int icmpv6_send(struct wskstack *st, const uint8_t src[16], const uint8_t dst[16],
                uint8_t hop_limit, const uint8_t *body, size_t body_len, uint64_t now);

/* ---- nd.c, nd_input.c (nd_input), nd_send.c (nd_timer, nd_next_timer, nd_start,
 * nd_send_dad_ns) ------------------------------------------------------------ */
int nd_init(struct wskstack *st);
void nd_fini(struct wskstack *st);        /* fails queued tx_reqs with -ENODEV */
/* ND message (RS/RA/NS/NA/Redirect) already checksum-verified by icmpv6.c. */
void nd_input(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip, bool fragmented,
              uint64_t now);
/* Like neigh_output for IPv6: p at the IPv6 header, next hop nh. */
int nd6_output(struct wskstack *st, struct pkt *p, const uint8_t nh[16], uint64_t now);
void nd_timer(struct wskstack *st, uint64_t now);
uint64_t nd_next_timer(struct wskstack *st, uint64_t now);
/* Start: Router Solicitation (RFC 4861 §6.3.7) once an address is usable. */
void nd_start(struct wskstack *st, uint64_t now);
/* DAD probe for a tentative address (RFC 4862 §5.4.2): NS from ::, to the
 * solicited-node group, no SLLA option. */
int nd_send_dad_ns(struct wskstack *st, const uint8_t target[16], uint64_t now);
/* Unsolicited NA after DAD succeeds (optional, RFC 4861 §7.2.6). */
void nd_flush(struct wskstack *st, int err);
/* Routing (caller holds st->lock for lookup). gw NULL = on-link. */
int route6_add(struct wskstack *st, const uint8_t dst[16], uint8_t plen, const uint8_t *gw);
int route6_lookup(struct wskstack *st, const uint8_t dst[16], uint8_t nexthop[16]);
/* --- nd.c additions (queries, test hooks, the neigh.c/stack.h glue) --- */
/* Neighbour Unreachability Detection states (RFC 4861 §7.3.2). */
enum nd_nud { ND_NUD_NONE = 0, ND_NUD_INCOMPLETE, ND_NUD_REACHABLE, ND_NUD_STALE, ND_NUD_DELAY,
              ND_NUD_PROBE };
/* Host variables learned from RAs (RFC 4861 §6.3.2). */
struct nd_params {
    uint32_t base_reachable_ms; /* BaseReachableTime */
    uint32_t reachable_ms;      /* ReachableTime: base * random 0.5..1.5 */
    uint32_t retrans_ms;        /* RetransTimer */
    uint32_t link_mtu;          /* LinkMTU for IPv6 (RA MTU option, else st->mtu) */
    uint8_t cur_hop_limit;      /* CurHopLimit (RA, else 64) */
};
/* Takes st->lock itself (do not hold it). */
void nd_get_params(struct wskstack *st, struct nd_params *out);
/* LinkMTU for IPv6 output: the RA MTU option's value once a valid one
 * (1280..st->mtu, RFC 4861 §6.3.4 "hosts SHOULD set LinkMTU"; RFC 8200 §5)
 * arrived, else st->mtu.  Decision: the value lives in an atomic that nd.c
 * writes and this reads WITHOUT st->lock, so it may be called with or
 * without st->lock held (pmtu6_update holds it; nd_get_params would
 * self-deadlock there).  Never above st->mtu. */
uint32_t nd_link_mtu(struct wskstack *st);
/* Tests: reseed the per-stack generator behind ReachableTime and recompute it. */
void nd_set_seed(struct wskstack *st, uint64_t seed);
/* State of the entry for ip (ND_NUD_NONE: none); mac/is_router may be NULL. */
enum nd_nud nd_neigh_get(struct wskstack *st, const uint8_t ip[16], uint8_t mac[ETH_ALEN],
                         bool *is_router);
/* Static entry (stack_neigh_add_static for IPv6): never aged or overridden. */
int nd_add_static(struct wskstack *st, const uint8_t ip[16], const uint8_t mac[ETH_ALEN]);
/* tx_req_cancel() for sends waiting on an ND entry: true = cancelled. */
bool nd_tx_req_cancel(struct wskstack *st, struct tx_req *r);
unsigned nd_count(struct wskstack *st);   /* entries (stack_neigh_count adds it) */
/* Default Router List (tests, listing): false past the end.  expires_ns
 * UINT64_MAX = static (gateway=). Caller holds st->lock. */
bool route6_router_get(struct wskstack *st, unsigned i, uint8_t addr[16], uint64_t *expires_ns);
/* Every route of the table (listing.c), in no particular order: gw NULL =
 * on-link; expires_ns 0 = configured (addr=), UINT64_MAX = RA infinite,
 * otherwise the time (ns) an RA-learned prefix expires.  Caller holds
 * st->lock. */
void route6_walk(struct wskstack *st,
                 void (*fn)(void *ctx, const uint8_t dst[16], uint8_t plen, const uint8_t *gw,
                            uint64_t expires_ns),
                 void *ctx);

/* ---- addr6.c --------------------------------------------------------------------------- */
enum addr6_state { ADDR6_TENTATIVE, ADDR6_PREFERRED, ADDR6_DEPRECATED, ADDR6_DUPLICATE };
enum addr6_origin { ADDR6_LINKLOCAL, ADDR6_MANUAL, ADDR6_SLAAC };
/* RFC 6724 §5: which rule made the final choice (for the trace). */
enum rfc6724_rule {
    RFC6724_ONLY_CANDIDATE = 0,
    RFC6724_RULE1_SAME_ADDRESS = 1, RFC6724_RULE2_SCOPE = 2, RFC6724_RULE3_DEPRECATED = 3,
    RFC6724_RULE4_HOME = 4, RFC6724_RULE5_INTERFACE = 5, RFC6724_RULE6_LABEL = 6,
    RFC6724_RULE7_TEMPORARY = 7, RFC6724_RULE8_LONGEST_PREFIX = 8,
    RFC6724_TIE = 9, /* all rules equal: first configured */
};
int addr6_init(struct wskstack *st, const struct wskstack_config *cfg);
void addr6_fini(struct wskstack *st);
/* Begin DAD for every tentative address (link-local first). */
void addr6_start(struct wskstack *st, uint64_t now);
void addr6_timer(struct wskstack *st, uint64_t now);
uint64_t addr6_next_timer(struct wskstack *st, uint64_t now);
/* Our unicast address, usable (not tentative/duplicate) or not. */
bool addr6_is_local(struct wskstack *st, const uint8_t a[16], bool usable_only);
/* A multicast group we listen to (all-nodes, solicited-node of each addr). */
bool addr6_is_joined(struct wskstack *st, const uint8_t group[16]);
/* DAD input from nd_input.c: an NS for a tentative target from :: (another node's
 * DAD) or an NA for it -> duplicate (RFC 4862 §5.4.3-5.4.4). */
void addr6_dad_conflict(struct wskstack *st, const uint8_t target[16], bool from_na, uint64_t now);
/* Prefix Information option from a valid RA (RFC 4862 §5.5.3). */
void addr6_ra_prefix(struct wskstack *st, const uint8_t prefix[16], uint8_t plen, bool autonomous,
                     uint32_t valid_s, uint32_t preferred_s, uint64_t now);
/* RFC 6724 source selection for dst: fills src and, when rule != NULL, the
 * rule that decided; 0 or -EADDRNOTAVAIL.  All eight rules of §5 with the
 * default policy table of §2.1, in ONE function (the trace shows the rule). */
int addr6_select_source(struct wskstack *st, const uint8_t dst[16], uint8_t src[16],
                        enum rfc6724_rule *rule);
/* Iterate addresses (listing, tests): returns false past the end. */
bool addr6_get(struct wskstack *st, unsigned i, uint8_t a[16], uint8_t *plen,
               enum addr6_state *state, enum addr6_origin *origin);
/* --- addr6.c additions --- */
/* The random start delay of DAD (RFC 4862 §5.4.2, [0, 1 s)) comes from a
 * per-stack generator seeded by getrandom() in addr6_init.  Tests: set the
 * seed before addr6_start(); seed 0 = no delay (the first probes go out in
 * addr6_start itself). */
void addr6_set_seed(struct wskstack *st, uint64_t seed);
/* The pure core of RFC 6724 source selection (no stack state; addr6.c). */
struct rfc6724_cand {
    uint8_t addr[16];
    uint8_t plen;      /* rule 8 compares at most this many bits (§5) */
    bool deprecated;   /* rule 3 */
};
/* Applies rules 1-8 (§5) with the default policy table (§2.1) to the n
 * candidates (assigned, usable addresses of the outgoing interface, §4) for
 * destination dst.  Returns the enum rfc6724_rule that decided (after which
 * one candidate was left; RFC6724_TIE: the first of those equal under every
 * rule) with its index in *chosen, or -EADDRNOTAVAIL when n == 0. */
int rfc6724_select(const struct rfc6724_cand *c, unsigned n, const uint8_t dst[16],
                   unsigned *chosen);
#define RFC6724_SCOPE_LINK 0x2   /* RFC 4291 §2.7 scope values */
#define RFC6724_SCOPE_SITE 0x5
#define RFC6724_SCOPE_GLOBAL 0xe
uint8_t rfc6724_scope(const uint8_t a[16]);       /* §3.1, §3.2 */
/* Precedence and label of a from the default policy table (§2.1). */
void rfc6724_policy(const uint8_t a[16], uint8_t *precedence, uint8_t *label);
const char *rfc6724_rule_str(enum rfc6724_rule r); /* for the trace */

/* ---- udp.c (IPv6 part) ----------------------------------------------------------------- */
/* p at the UDP header (trimmed to the IPv6 payload). Mandatory checksum
 * (RFC 8200 §8.1: zero is invalid, counted). Consumes p. */
void udp_input6(struct wskstack *st, struct pkt *p, const struct ipv6_repr *ip, bool link_mcast,
                uint64_t now);

#endif /* WSS_IPV6_IMPL_H */
