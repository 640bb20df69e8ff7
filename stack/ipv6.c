/* SPDX-License-Identifier: MIT */
/*
 * ipv6.c - IPv6 for a host (RFC 8200): input rules, the extension-header
 * walk (stack/wire/wire6.h), reassembly (reasm.h), output with
 * fragmentation, and the path MTU cache (RFC 8201).
 *
 * A packet from the wire, in order (BAD-INPUT.md Part 3 sections D and E):
 *   Ip6InReceives
 *   fixed header (ipv6_parse)              -> Ip6InHdrErrors: shorter than 40
 *                                             bytes, version != 6, jumbogram
 *                                             (RFC 2675, not supported);
 *                                             Ip6InTruncatedPkts: Payload
 *                                             Length beyond the frame (E.24:
 *                                             dropped, no Parameter Problem,
 *                                             as Linux)
 *   trim Ethernet padding to 40 + Payload Length (E.24, as C.12)
 *   source multicast, loopback or IPv4-mapped; destination loopback or
 *   IPv4-mapped                             -> Ip6InAddrErrors (E.25)
 *   destination: one of our usable unicast addresses (a TENTATIVE address
 *   receives nothing, RFC 4862 §5.4), or a multicast group we joined whose
 *   scope is not reserved (0, F) nor interface-local (1)
 *                                           -> else Ip6InAddrErrors (V8)
 *   Hop Limit is not looked at              (C.14: only forwarders discard)
 *   extension headers (ipv6_ext_walk)       -> drop or Parameter Problem with
 *                                             the walk's code and pointer
 *                                             (E.26-E.28); counters below
 *   Fragment header: atomic (RFC 6946)      -> processed alone, as a whole
 *                    first fragment without the header chain (RFC 7112)
 *                                           -> Parameter Problem code 3,
 *                                             Ip6ReasmReqds + Ip6ReasmFails
 *                    otherwise              -> reasm_add (reasm.h); the whole
 *                                             datagram is walked again
 *   ICMPv6 -> icmpv6_input, UDP -> udp_input6, No Next Header (59) -> nothing
 *                                           Ip6InDelivers
 *   anything else                           -> Parameter Problem code 1 at
 *                                             the Next Header byte,
 *                                             Ip6InUnknownProtos (E.26)
 * Counters of the walk's refusals: header errors (truncated, limits,
 * Routing with Segments Left > 0, bad option length) Ip6InHdrErrors;
 * option actions 01/10/11 Ip6InDiscards; Hop-by-Hop not first
 * Ip6InUnknownProtos (as Linux); fragment refusals Ip6ReasmReqds +
 * Ip6ReasmFails (reasm.h: fragments the caller rejects).
 *
 * Output (ipv6_output): the 40-byte header (flow label 0, RFC 6437 allows
 * it; Hop Limit 64 unless given), the source from addr6_select_source
 * (RFC 6724) unless given, the next hop from route6_lookup - except
 * multicast destinations, framed directly to 33:33 + the group's low 32
 * bits (RFC 2464 §7), and link-local ones, on-link by definition (RFC 4291
 * §2.5.6; one interface: a scope id must be 0 or ours).  Larger than the
 * path MTU: fragmented with a Fragment header (RFC 8200 §4.5), unless
 * IPV6_DONTFRAG (-EMSGSIZE, RFC 3542 §11.2).  Never atomic fragments
 * (RFC 8021).
 *
 * Fragment Identification (RFC 7739, V10): 32 random bits from getrandom()
 * per fragmented datagram (RFC 7739 §5.1, "simple randomization"): nothing
 * an off-path host can predict.  Two datagrams to the same destination
 * share an identification with probability ~n^2/2^33 for n datagrams per
 * reassembly lifetime - acceptable for a host, and the cost is one system
 * call per FRAGMENTED datagram only.
 *
 * Path MTU (RFC 8201): a small per-destination cache (PMTU6_ENTRIES, the
 * entry expiring first is replaced when full).  A valid Packet Too Big
 * (icmpv6.c checks it quotes a packet we could have sent) lowers an entry;
 * a value below 1280 is discarded (RFC 8201 §4), an increase is ignored
 * (§4: only a decrease is learnt from a PTB).  An entry ages back to the
 * link MTU PMTU6_AGE_NS (10 minutes, the value §4 suggests) after its last
 * decrease; ipv6_timer frees aged entries.
 *
 * Locking: ipv6_input runs on the receive thread without st->lock.
 * ipv6_output takes st->lock only around route6_lookup and the PMTU cache;
 * addr6_* and nd6_output are called without it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "stack/ipv6_impl.h"
#include "stack/reasm.h"

#define PMTU6_ENTRIES 64
#define PMTU6_AGE_NS (600ull * 1000000000ull)   /* RFC 8201 §4: 10 minutes */

struct pmtu6_entry {
    uint8_t dst[16];
    uint32_t mtu;
    uint64_t expires;
    bool used;
};

struct pmtu6_cache {
    struct pmtu6_entry e[PMTU6_ENTRIES];
    uint64_t rng;   /* fallback identification source, see ipv6_frag_ident */
};

int ipv6_init(struct wskstack *st)
{
    st->pmtu6 = calloc(1, sizeof(*st->pmtu6));
    if (!st->pmtu6)
        return -ENOMEM;
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)st;
    }
    st->pmtu6->rng = v ? v : 0x2545f4914f6cdd1dull;
    return 0;
}

void ipv6_fini(struct wskstack *st)
{
    free(st->pmtu6);
    st->pmtu6 = NULL;
}

/* ---- path MTU (RFC 8201) ------------------------------------------------------ */

/* The IPv6 link MTU: min(configured link MTU, a valid RA MTU option).
 * RFC 4861 §6.3.4: hosts SHOULD use the MTU option's value as LinkMTU when
 * it is at least 1280 (RFC 8200 §5) and not above the link's maximum -
 * nd.c checks both.  Lock order: pmtu6_update calls this with st->lock
 * held and pmtu6_get without it, so it must not take st->lock (which
 * nd_get_params does): nd_link_mtu reads an atomic nd.c writes, no lock.
 * Path MTU entries never exceed it: pmtu6_get returns the minimum, and
 * pmtu6_update compares a PTB against min(entry, link MTU). */
static uint32_t ipv6_link_mtu(struct wskstack *st)
{
    uint32_t m = nd_link_mtu(st);
    return m < st->mtu ? m : st->mtu;
}

/* Caller holds st->lock. */
static struct pmtu6_entry *pmtu6_find(struct pmtu6_cache *c, const uint8_t dst[16], uint64_t now)
{
    for (unsigned i = 0; i < PMTU6_ENTRIES; i++) {
        struct pmtu6_entry *e = &c->e[i];
        if (!e->used || memcmp(e->dst, dst, 16) != 0)
            continue;
        if (now >= e->expires) {
            e->used = false;        /* aged: back to the link MTU (§4) */
            return NULL;
        }
        return e;
    }
    return NULL;
}

uint32_t pmtu6_get(struct wskstack *st, const uint8_t dst[16], uint64_t now)
{
    uint32_t mtu = ipv6_link_mtu(st);
    pthread_mutex_lock(&st->lock);
    struct pmtu6_entry *e = pmtu6_find(st->pmtu6, dst, now);
    if (e && e->mtu < mtu)
        mtu = e->mtu;
    pthread_mutex_unlock(&st->lock);
    return mtu;
}

void pmtu6_update(struct wskstack *st, const uint8_t dst[16], uint32_t mtu, uint64_t now)
{
    /* RFC 8201 §4: a PTB reporting less than the minimum link MTU is
     * discarded, and the estimate never goes below 1280 (E.35). */
    char d[TRACE_IP_LEN];
    if (mtu < IPV6_MIN_MTU) {
        TRACE_F(st, TL_IPV6, TD_RX, "pmtu",
                (&(struct trace_fields){.dst = trace_ip6(dst, d), .rule = "ignored",
                                        .mtu = TNUM(mtu)}),
                "PMTU %u for %s below 1280 ignored (RFC 8201 §4)", mtu, d);
        return;
    }
    pthread_mutex_lock(&st->lock);
    struct pmtu6_cache *c = st->pmtu6;
    struct pmtu6_entry *e = pmtu6_find(c, dst, now);
    uint32_t link = ipv6_link_mtu(st);
    uint32_t cur = e && e->mtu < link ? e->mtu : link;   /* never above the link MTU */
    if (mtu >= cur) {
        /* RFC 8201 §4: a PTB never raises the estimate; increases are
         * found only by the aging below. */
        pthread_mutex_unlock(&st->lock);
        TRACE_F(st, TL_IPV6, TD_RX, "pmtu",
                (&(struct trace_fields){.dst = trace_ip6(dst, d), .rule = "ignored",
                                        .mtu = TNUM(mtu)}),
                "PMTU %u for %s not below the current %u: ignored (RFC 8201 §4)", mtu, d, cur);
        return;
    }
    if (!e) {
        /* A free slot, else the entry that would age out first. */
        for (unsigned i = 0; i < PMTU6_ENTRIES; i++) {
            struct pmtu6_entry *x = &c->e[i];
            if (!x->used) {
                e = x;
                break;
            }
            if (!e || x->expires < e->expires)
                e = x;
        }
        memcpy(e->dst, dst, 16);
        e->used = true;
    }
    e->mtu = mtu;
    e->expires = now + PMTU6_AGE_NS;
    pthread_mutex_unlock(&st->lock);
    TRACE_F(st, TL_IPV6, TD_RX, "pmtu",
            (&(struct trace_fields){.dst = trace_ip6(dst, d), .rule = "lowered", .mtu = TNUM(mtu)}),
            "PMTU for %s lowered to %u (RFC 8201 §4)", d, mtu);
}

void ipv6_timer(struct wskstack *st, uint64_t now)
{
    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < PMTU6_ENTRIES; i++) {
        struct pmtu6_entry *e = &st->pmtu6->e[i];
        if (e->used && now >= e->expires)
            e->used = false;
    }
    pthread_mutex_unlock(&st->lock);
}

/* ---- input -------------------------------------------------------------------- */

/* Link-layer multicast/broadcast: the Ethernet header sits in front of the
 * IPv6 header (eth_input pulls it, stack_impl.h). */
static bool ipv6_link_mcast(const struct pkt *p)
{
    if (p->head < ETH_HDR_LEN)
        return false;
    return eth_is_multicast(p->buf + p->head - ETH_HDR_LEN);
}

/* The RFC rule behind each refusal of the walk, for the trace. */
static const char *ipv6_ext_rule(enum ipv6_ext_reason r)
{
    switch (r) {
    case IPV6_EXT_TRUNCATED: return "RFC 8200 §4, V2";
    case IPV6_EXT_HBH_NOT_FIRST: return "RFC 8200 §4.3, E.26";
    case IPV6_EXT_TOO_MANY:
    case IPV6_EXT_TOO_LONG: return "RFC 8504 §5.3";
    case IPV6_EXT_OPT_TRUNCATED:
    case IPV6_EXT_OPT_BAD_LEN: return "RFC 8200 §4.2, RFC 2711 §2.1, V2";
    case IPV6_EXT_OPT_DISCARD:
    case IPV6_EXT_OPT_UNKNOWN: return "RFC 8200 §4.2, E.27";
    case IPV6_EXT_ROUTING: return "RFC 8200 §4.4, RFC 5095, E.28";
    case IPV6_EXT_FRAG_BAD_LEN:
    case IPV6_EXT_FRAG_TOO_BIG: return "RFC 8200 §4.5, D.19";
    case IPV6_EXT_FRAG_EMPTY: return "D.19";
    case IPV6_EXT_FRAG_INCOMPLETE: return "RFC 7112 §5, D.21";
    default: return "RFC 8200 §4";
    }
}

/* The walk refused the packet: count, answer when the walk says so (the
 * never-send rules are icmpv6_send_error's), free.  Consumes p. */
static void ipv6_ext_reject(struct wskstack *st, struct pkt *p, const struct ipv6_ext_result *res,
                            bool link_mcast, uint64_t now)
{
    enum wss_counter c;
    switch (res->reason) {
    case IPV6_EXT_FRAG_BAD_LEN:
    case IPV6_EXT_FRAG_TOO_BIG:
    case IPV6_EXT_FRAG_EMPTY:
    case IPV6_EXT_FRAG_INCOMPLETE:
        /* reasm.h: fragments refused before the engine count Reqds + Fails */
        CNT_INC(st, Ip6ReasmReqds);
        c = CNT_Ip6ReasmFails;
        break;
    case IPV6_EXT_HBH_NOT_FIRST:
        c = CNT_Ip6InUnknownProtos;
        break;
    case IPV6_EXT_OPT_DISCARD:
    case IPV6_EXT_OPT_UNKNOWN:
        c = CNT_Ip6InDiscards;
        break;
    default:
        c = CNT_Ip6InHdrErrors;
        break;
    }
    if (res->action == IPV6_ACT_PARAM_PROBLEM)
        icmpv6_send_error(st, ICMPV6_PARAM_PROBLEM, res->pp_code, res->pointer, pkt_data(p),
                          p->len, link_mcast, res->pp_mcast_ok, now);
    char why[96];
    snprintf(why, sizeof(why), "%s (%s)", ipv6_ext_reason_str(res->reason),
             ipv6_ext_rule(res->reason));
    stack_drop(st, c, "ipv6", why);
    pkt_free(st, p);
}

/* Offset of the Next Header byte that names the Fragment header at
 * frag_off (the walk validated the chain up to it). */
static uint32_t ipv6_frag_nh_off(const uint8_t *pkt, size_t len, uint32_t frag_off)
{
    struct ipv6_ext_iter it;
    struct ipv6_ext_hdr eh;
    ipv6_ext_iter_init(&it, pkt, len);
    while (ipv6_ext_next(&it, &eh))
        if (eh.type == IP_PROTO_FRAGMENT && eh.off == frag_off)
            return eh.nh_off;
    return IPV6_OFF_NEXT_HEADER;   /* not reached for a walked packet */
}

/* Largest unfragmentable part: the fixed header and the walk's limit. */
#define IPV6_UNFRAG_MAX (IPV6_HDR_LEN + IPV6_EXT_MAX_BYTES)

/*
 * RFC 8200 §4.5 reassembly through the shared engine (reasm.h).  Consumes
 * p.  The header handed to the engine is this fragment's Unfragmentable
 * Part with the Next Header byte that named the Fragment header already
 * replaced by the Fragment header's Next Header, so the copy the engine
 * keeps (fragment 0's) is the reassembled packet's header as §4.5 defines
 * it ("obtained from the Next Header field of the first fragment's
 * Fragment header"); only Payload Length is set here.  Returns NULL (kept
 * or dropped) or the whole packet, re-parsed into *ip.
 */
static struct pkt *ipv6_reasm(struct wskstack *st, struct pkt *p, struct ipv6_repr *ip,
                              const struct ipv6_ext_result *res, bool link_mcast, uint64_t now)
{
    const uint8_t *h = pkt_data(p);
    size_t ufl = res->frag_hdr_off;
    uint8_t hdr[IPV6_UNFRAG_MAX];
    memcpy(hdr, h, ufl);   /* ufl <= 40 + 1024: the walk's limit */
    hdr[ipv6_frag_nh_off(h, p->len, res->frag_hdr_off)] = res->frag.next_header;

    struct reasm_key k = {.src = {.af = IPA_V6}, .dst = {.af = IPA_V6}, .id = res->frag.ident,
                          .proto = 0};
    memcpy(k.src.v6, ip->src, 16);
    memcpy(k.dst.v6, ip->dst, 16);
    struct pkt *whole = NULL;
    int rc = reasm_add(st, &k, res->frag.offset, res->frag.more, h + res->offset,
                       p->len - res->offset, hdr, ufl, now, &whole);
    if (rc == REASM_EBADLEN) {
        /* RFC 8200 §4.5: not a multiple of 8 and not the last fragment. */
        icmpv6_send_error(st, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_HEADER, IPV6_OFF_PAYLOAD_LEN, h,
                          p->len, link_mcast, false, now);
    } else if (rc == REASM_ETOOBIG) {
        /* RFC 8200 §4.5: the reassembled packet would exceed 65535 bytes of
         * payload: point at the Fragment Offset field. */
        icmpv6_send_error(st, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_HEADER,
                          (uint32_t)res->frag_hdr_off + 2, h, p->len, link_mcast, false, now);
    }
    pkt_free(st, p);   /* the engine copied what it keeps */
    if (rc != REASM_DONE)
        return NULL;   /* counted by the engine */

    uint8_t *w = pkt_data(whole);
    put_be16(w + IPV6_OFF_PAYLOAD_LEN, (uint16_t)(whole->len - IPV6_HDR_LEN)); /* <= 65535: engine */
    if (ipv6_parse(w, whole->len, ip) != WIRE_OK) {
        /* Cannot happen: fragment 0's header was parsed on arrival. */
        stack_drop(st, CNT_Ip6InHdrErrors, "ipv6", "reassembled header invalid");
        pkt_free(st, whole);
        return NULL;
    }
    return whole;
}

void ipv6_reasm_expired(struct wskstack *st, const struct reasm_expired *e, uint64_t now)
{
    /* RFC 8200 §4.5: Time Exceeded code 1 to the source of fragment 0,
     * quoting fragment 0 (RFC 4443 §3.3) - rebuilt as it arrived: the kept
     * header with the Fragment header put back (offset 0, M = 1, the
     * identification of the key) and its data, as much as fits in 1280
     * bytes (§2.4(c); icmpv6_send_error truncates).  A multicast
     * destination gets no error (§2.4(e), checked there). */
    uint8_t q[ICMPV6_ERR_MAX_LEN];
    size_t hl = e->hdr_len;
    if (hl < IPV6_HDR_LEN || hl + IPV6_FRAG_HDR_LEN > sizeof(q))
        return;
    memcpy(q, e->hdr, hl);
    /* Find the last Next Header byte of the unfragmentable part: it was
     * rewritten from 44 to the upper layer by ipv6_reasm. */
    uint32_t nh_off = IPV6_OFF_NEXT_HEADER, off = IPV6_HDR_LEN;
    uint8_t nh = q[IPV6_OFF_NEXT_HEADER];
    while (off < hl && off + 2 <= hl &&
           (nh == IP_PROTO_HOPOPTS || nh == IP_PROTO_ROUTING || nh == IP_PROTO_DSTOPTS ||
            nh == IP_PROTO_FRAGMENT)) {
        uint32_t l = nh == IP_PROTO_FRAGMENT ? IPV6_FRAG_HDR_LEN : ((uint32_t)q[off + 1] + 1) * 8;
        nh_off = off;
        nh = q[off];
        off += l;
    }
    struct frag_repr f = {.next_header = q[nh_off], .offset = 0, .more = true,
                          .ident = e->key->id};
    q[nh_off] = IP_PROTO_FRAGMENT;
    ipv6_frag_emit(&f, q + hl);
    size_t n = hl + IPV6_FRAG_HDR_LEN;
    size_t dl = e->data_len < sizeof(q) - n ? e->data_len : sizeof(q) - n;
    memcpy(q + n, e->data, dl);
    icmpv6_send_error(st, ICMPV6_TIME_EXCEEDED, ICMPV6_TIME_REASSEMBLY, 0, q, n + dl, false, false,
                      now);
}

/* RFC 4291 §2.7: the multicast scopes a host accepts from the wire:
 * reserved 0 and F never (V8), interface-local 1 only on loopback. */
static bool ipv6_mcast_scope_ok(const uint8_t a[16])
{
    uint8_t s = ipv6_mcast_scope(a);
    return s != 0x0 && s != 0xf && s != 0x1;
}

/* "ipv6 rx accept": a packet for us (one of our addresses or a group we
 * joined) and the upper layer it goes to (proto: after the extension
 * headers; 59: nothing follows, RFC 8200 §4.7). */
static void ipv6_trace_accept(struct wskstack *st, const struct ipv6_repr *ip, unsigned proto,
                              uint32_t len, bool reassembled)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
    bool mcast = ipv6_is_multicast(ip->dst);
    struct trace_fields f = {.src = trace_ip6(ip->src, s), .dst = trace_ip6(ip->dst, d),
                             .rule = mcast ? "multicast" : "unicast", .proto = TNUM(proto),
                             .len = TNUM(len), .ttl = TNUM(ip->hop_limit)};
    trace_event(st, TL_IPV6, TD_RX, "accept", &f,
                "%s -> %s, next header %u, %u bytes, hop limit %u: %s%s, %s (RFC 8200%s)", s, d,
                proto, (unsigned)len, ip->hop_limit, mcast ? "a group we joined" : "ours",
                reassembled ? ", reassembled" : "",
                proto == IP_PROTO_ICMPV6 ? "to icmpv6"
                : proto == IP_PROTO_UDP  ? "to udp"
                                         : "nothing follows",
                proto == IP_PROTO_NONE ? " §4.7" : "");
}

void ipv6_input(struct wskstack *st, struct pkt *p, uint64_t now)
{
    const uint8_t *h = pkt_data(p);
    struct ipv6_repr ip;

    CNT_INC(st, Ip6InReceives);

    switch (ipv6_parse(h, p->len, &ip)) {
    case WIRE_OK:
        break;
    case WIRE_TRUNCATED:
        /* ipv6_parse: fewer than 40 bytes, or Payload Length beyond the
         * frame (checked after the version). */
        if (p->len >= IPV6_HDR_LEN) {
            stack_drop(st, CNT_Ip6InTruncatedPkts, "ipv6",
                       "payload length beyond the frame (RFC 8200 §3, E.24, V1)");
            goto free;
        }
        stack_drop(st, CNT_Ip6InHdrErrors, "ipv6", "shorter than the 40-byte header (RFC 8200 §3)");
        goto free;
    case WIRE_BAD_VERSION:
        stack_drop(st, CNT_Ip6InHdrErrors, "ipv6", "version != 6 (RFC 8200 §3, E.24)");
        goto free;
    case WIRE_UNSUPPORTED:
        stack_drop(st, CNT_Ip6InHdrErrors, "ipv6",
                   "jumbogram: payload length 0 with Hop-by-Hop (RFC 2675, not supported)");
        goto free;
    default:
        stack_drop(st, CNT_Ip6InHdrErrors, "ipv6", "malformed header");
        goto free;
    }

    /* RFC 8200 §3: Payload Length delimits the packet; what follows is
     * Ethernet padding (E.24, as C.12). */
    p->len = IPV6_HDR_LEN + ip.payload_len;

    /* RFC 4291 §2.7: a multicast address is never a source; §2.5.3: the
     * loopback address never appears on the wire; IPv4-mapped addresses on
     * the wire are martians (E.25, as Linux and gVisor). */
    if (ipv6_is_multicast(ip.src)) {
        stack_drop(st, CNT_Ip6InAddrErrors, "ipv6", "multicast source (RFC 4291 §2.7, E.25)");
        goto free;
    }
    if (ipv6_is_loopback(ip.src) || ipv6_is_loopback(ip.dst)) {
        stack_drop(st, CNT_Ip6InAddrErrors, "ipv6", "loopback address on the wire (RFC 4291 §2.5.3)");
        goto free;
    }
    if (ipv6_is_v4mapped(ip.src) || ipv6_is_v4mapped(ip.dst)) {
        stack_drop(st, CNT_Ip6InAddrErrors, "ipv6",
                   "IPv4-mapped address on the wire (RFC 4291 §2.5.5.2, E.25)");
        goto free;
    }
    if (ipv6_is_multicast(ip.dst)) {
        if (!ipv6_mcast_scope_ok(ip.dst)) {
            stack_drop(st, CNT_Ip6InAddrErrors, "ipv6",
                       "reserved or interface-local multicast scope (RFC 4291 §2.7, V8)");
            goto free;
        }
        if (!addr6_is_joined(st, ip.dst)) {
            stack_drop(st, CNT_Ip6InAddrErrors, "ipv6", "multicast group not joined (V8)");
            goto free;
        }
        CNT_INC(st, Ip6InMcastPkts);
    } else if (!addr6_is_local(st, ip.dst, true)) {
        /* Hosts do not forward (RFC 8200 §1 "node" vs "router"); a tentative
         * address receives only DAD's ND, which is sent to the solicited-node
         * group, never to the address itself (RFC 4862 §5.4). */
        stack_drop(st, CNT_Ip6InAddrErrors, "ipv6",
                   addr6_is_local(st, ip.dst, false)
                       ? "destination is a tentative address (RFC 4862 §5.4)"
                       : "destination not ours (hosts do not forward, E.25)");
        goto free;
    }

    /* RFC 8200 §3: only forwarders act on Hop Limit (C.14): not checked. */

    bool link_mcast = ipv6_link_mcast(p);
    bool fragmented = false;
    struct ipv6_ext_result res;
    ipv6_ext_walk(h, p->len, &res);
    if (res.action != IPV6_ACT_ACCEPT) {
        ipv6_ext_reject(st, p, &res, link_mcast, now);
        return;
    }
    if (res.frag_kind == IPV6_FRAGMENT) {
        p = ipv6_reasm(st, p, &ip, &res, link_mcast, now);
        if (!p)
            return;
        h = pkt_data(p);
        /* RFC 8200 §4.5: the headers after the Fragment header are processed
         * now, on the whole packet. */
        ipv6_ext_walk(h, p->len, &res);
        if (res.action != IPV6_ACT_ACCEPT) {
            ipv6_ext_reject(st, p, &res, link_mcast, now);
            return;
        }
        if (res.frag_kind == IPV6_FRAGMENT) {
            stack_drop(st, CNT_Ip6InHdrErrors, "ipv6",
                       "a fragment inside a reassembled packet (RFC 8200 §4.5)");
            goto free;
        }
        fragmented = true;
    } else if (res.frag_kind == IPV6_ATOMIC_FRAGMENT) {
        /* RFC 6946 §4: processed in isolation, never reassembled; still
         * "fragmented" for ND (RFC 6980 §5). */
        fragmented = true;
    }

    if (stack_trace_on(st, TRACE_IPV6) &&
        (res.proto == IP_PROTO_ICMPV6 || res.proto == IP_PROTO_UDP || res.proto == IP_PROTO_NONE))
        ipv6_trace_accept(st, &ip, res.proto, p->len, res.frag_kind == IPV6_FRAGMENT);
    switch (res.proto) {
    case IP_PROTO_ICMPV6:
        CNT_INC(st, Ip6InDelivers);
        pkt_pull(p, res.offset);
        icmpv6_input(st, p, &ip, link_mcast, fragmented, now);
        return;
    case IP_PROTO_UDP:
        CNT_INC(st, Ip6InDelivers);
        pkt_pull(p, res.offset);
        udp_input6(st, p, &ip, link_mcast, now);
        return;
    case IP_PROTO_NONE:
        /* RFC 8200 §4.7: nothing follows; delivered to nobody (the accept
         * line above says so). */
        CNT_INC(st, Ip6InDelivers);
        goto free;
    default:
        /* RFC 8200 §4: an unrecognised Next Header -> Parameter Problem
         * code 1 pointing at that Next Header byte (E.26). */
        icmpv6_send_error(st, ICMPV6_PARAM_PROBLEM, ICMPV6_PP_NEXT_HEADER, res.nh_off, h, p->len,
                          link_mcast, false, now);
        stack_drop(st, CNT_Ip6InUnknownProtos, "ipv6", "unrecognised Next Header (RFC 8200 §4, E.26)");
        goto free;
    }

free:
    pkt_free(st, p);
}

/* ---- output ------------------------------------------------------------------- */

static bool ipv6_push_header(struct pkt *p, const struct ipv6_tx *tx, const uint8_t src[16],
                             uint8_t next_header)
{
    struct ipv6_repr r = {
        .next_header = next_header,
        .hop_limit = tx->hop_limit ? tx->hop_limit : IPV6_DEFAULT_HOP_LIMIT,
        .traffic_class = tx->tclass,
        .flow_label = 0,
        .payload_len = (uint16_t)p->len,
    };
    memcpy(r.src, src, 16);
    memcpy(r.dst, tx->dst, 16);
    uint8_t *b = pkt_push(p, IPV6_HDR_LEN);
    if (!b)
        return false;
    ipv6_emit(&r, b);
    return true;
}

void ipv6_trace_send(struct wskstack *st, const uint8_t *hdr, const char *how)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
    unsigned len = IPV6_HDR_LEN + be16(hdr + IPV6_OFF_PAYLOAD_LEN);
    struct trace_fields f = {.src = trace_ip6(hdr + IPV6_OFF_SRC, s),
                             .dst = trace_ip6(hdr + IPV6_OFF_DST, d),
                             .proto = TNUM(hdr[IPV6_OFF_NEXT_HEADER]), .len = TNUM(len),
                             .ttl = TNUM(hdr[IPV6_OFF_HOP_LIMIT])};
    trace_event(st, TL_IPV6, TD_TX, "send", &f,
                "%s -> %s, next header %u, %u bytes, hop limit %u: to %s (RFC 8200)", s, d,
                hdr[IPV6_OFF_NEXT_HEADER], len, hdr[IPV6_OFF_HOP_LIMIT], how);
}

/* ipv6_trace_send for ipv6_output: the next hop, or the group for
 * multicast; a fragmented datagram is described whole (len: its payload). */
static void ipv6_trace_output(struct wskstack *st, const struct ipv6_tx *tx, const uint8_t src[16],
                              uint32_t len, const uint8_t nh[16], bool mcast)
{
    uint8_t h[IPV6_HDR_LEN];
    struct ipv6_repr r = {.next_header = tx->next_header,
                          .hop_limit = tx->hop_limit ? tx->hop_limit : IPV6_DEFAULT_HOP_LIMIT,
                          .payload_len = (uint16_t)len};
    memcpy(r.src, src, 16);
    memcpy(r.dst, tx->dst, 16);
    ipv6_emit(&r, h);
    char how[TRACE_IP_LEN + 16], n[TRACE_IP_LEN];
    snprintf(how, sizeof how, "%s %s", mcast ? "the group" : "next hop", trace_ip6(nh, n));
    ipv6_trace_send(st, h, how);
}

static void ipv6_free_chain(struct wskstack *st, struct pkt *p)
{
    while (p) {
        struct pkt *nx = p->next;
        pkt_free(st, p);
        p = nx;
    }
}

/* Multicast: no Neighbor Discovery; the group maps onto 33:33 + its low 32
 * bits (RFC 2464 §7).  Consumes the chain. */
static int ipv6_send_mcast(struct wskstack *st, struct pkt *p, const uint8_t group[16])
{
    uint8_t mac[ETH_ALEN];
    ipv6_mcast_mac(group, mac);
    while (p) {
        struct pkt *nx = p->next;
        p->next = NULL;
        int rc = eth_output(st, p, mac, ETHERTYPE_IPV6);
        if (rc < 0) {
            ipv6_free_chain(st, nx);
            return rc;
        }
        p = nx;
    }
    return UDP_SEND_DONE;
}

/* RFC 7739 §5.1: an unpredictable identification per datagram. */
static uint32_t ipv6_frag_ident(struct wskstack *st)
{
    uint32_t id;
    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == (ssize_t)sizeof(id))
        return id;
    /* No entropy available (never after boot): a per-stack xorshift. */
    pthread_mutex_lock(&st->lock);
    uint64_t x = st->pmtu6->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    st->pmtu6->rng = x;
    pthread_mutex_unlock(&st->lock);
    return (uint32_t)(x >> 32);
}

/*
 * RFC 8200 §4.5: every fragment is the 40-byte header (Next Header 44), a
 * Fragment header and a piece of the fragmentable part; all but the last
 * carry a multiple of 8 bytes.  All fragments are allocated before any is
 * sent (a full pool never puts half a datagram on the wire) and go down as
 * ONE chain in order, all carrying p->req, as ipv4_fragment does.
 */
static struct pkt *ipv6_fragment(struct wskstack *st, struct pkt *p, const struct ipv6_tx *tx,
                                 const uint8_t src[16], uint32_t mtu)
{
    uint32_t total = p->len;
    uint32_t chunk = (mtu - IPV6_HDR_LEN - IPV6_FRAG_HDR_LEN) & ~7u;
    uint32_t id = ipv6_frag_ident(st);
    uint32_t n = 0;
    struct pkt *first = NULL, **tail = &first;

    for (uint32_t off = 0; off < total; off += chunk) {
        uint32_t len = total - off < chunk ? total - off : chunk;
        struct pkt *f = pkt_alloc(st, IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + len);
        if (!f) {
            ipv6_free_chain(st, first);
            pkt_free(st, p);
            stack_drop(st, CNT_Ip6OutDiscards, "ipv6", "no packet buffer for a fragment");
            return NULL;
        }
        memcpy(pkt_data(f), pkt_data(p) + off, len);
        f->len = len;
        f->req = p->req;
        f->next = NULL;
        struct frag_repr fr = {.next_header = tx->next_header, .offset = (uint16_t)off,
                               .more = off + len < total, .ident = id};
        ipv6_frag_emit(&fr, pkt_push(f, IPV6_FRAG_HDR_LEN));   /* fresh: has room */
        ipv6_push_header(f, tx, src, IP_PROTO_FRAGMENT);
        *tail = f;
        tail = &f->next;
        n++;
    }
    CNT_INC(st, Ip6FragOKs);
    CNT_ADD(st, Ip6FragCreates, n);
    TRACE_F(st, TL_FRAG, TD_TX, "fragment",
            (&(struct trace_fields){.proto = TNUM(tx->next_header), .len = TNUM(total + IPV6_HDR_LEN),
                                    .id = TNUM(id), .mtu = TNUM(mtu), .count = TNUM(n)}),
            "IPv6 payload of %u bytes does not fit the path MTU %u: %u fragments, id %u "
            "(RFC 8200 §4.5)", (unsigned)total, mtu, n, id);
    pkt_free(st, p);
    return first;
}

int ipv6_output(struct wskstack *st, struct pkt *p, const struct ipv6_tx *tx, uint64_t now)
{
    const char *why = NULL;
    int err = 0;
    if (p->len > 0xffffu) {
        why = "payload larger than 65535 bytes (RFC 8200 §3; jumbograms not supported)";
        err = -EMSGSIZE;
    } else if (ipv6_is_unspecified(tx->dst) || ipv6_is_loopback(tx->dst) ||
               ipv6_is_v4mapped(tx->dst)) {
        why = "destination ::, ::1 or IPv4-mapped (RFC 4291 §2.5)";
        err = -EINVAL;
    } else if (tx->ifindex != 0 && tx->ifindex != st->ifindex) {
        /* One interface: a scope id / IPV6_PKTINFO interface is ours or 0. */
        why = "interface index is not the stack's";
        err = -ENXIO;
    }
    if (why) {
        stack_drop(st, CNT_Ip6OutDiscards, "ipv6", why);
        pkt_free(st, p);
        return err;
    }

    /* Next hop: multicast goes straight to the link (RFC 2464 §7),
     * link-local destinations are on-link (RFC 4291 §2.5.6, RFC 4861
     * §5.2), everything else by the routing table (RFC 4861 §5.2). */
    bool mcast = ipv6_is_multicast(tx->dst);
    uint8_t nh[16];
    memcpy(nh, tx->dst, 16);
    if (!mcast && !ipv6_is_link_local(tx->dst)) {
        pthread_mutex_lock(&st->lock);
        int r = route6_lookup(st, tx->dst, nh);
        pthread_mutex_unlock(&st->lock);
        if (r < 0) {
            stack_drop(st, CNT_Ip6OutNoRoutes, "ipv6", "no route to destination (RFC 4861 §5.2)");
            pkt_free(st, p);
            return -ENETUNREACH;
        }
    }

    uint8_t src[16];
    if (ipv6_is_unspecified(tx->src) && !tx->src_unspecified) {
        if (addr6_select_source(st, tx->dst, src, NULL) < 0) {
            /* K.50: never send from :: (except DAD, which says so). */
            stack_drop(st, CNT_Ip6OutDiscards, "ipv6", "no usable source address (RFC 6724, K.50)");
            pkt_free(st, p);
            return -EADDRNOTAVAIL;
        }
    } else {
        memcpy(src, tx->src, 16);
    }

    CNT_INC(st, Ip6OutRequests);
    if (mcast)
        CNT_INC(st, Ip6OutMcastPkts);

    uint32_t mtu = mcast ? ipv6_link_mtu(st) : pmtu6_get(st, tx->dst, now);
    if (p->len + IPV6_HDR_LEN <= mtu) {
        if (!ipv6_push_header(p, tx, src, tx->next_header)) {
            stack_drop(st, CNT_Ip6OutDiscards, "ipv6", "no headroom for the IPv6 header");
            pkt_free(st, p);
            return -ENOBUFS;
        }
        p->next = NULL;   /* a chain of one */
        if (stack_trace_on(st, TRACE_IPV6))
            ipv6_trace_output(st, tx, src, p->len - IPV6_HDR_LEN, nh, mcast);
    } else if (tx->dontfrag) {
        /* RFC 3542 §11.2 IPV6_DONTFRAG: the caller learns it is too big;
         * nothing is sent (J.45). */
        stack_drop(st, CNT_Ip6FragFails, "ipv6", "larger than the path MTU with IPV6_DONTFRAG (RFC 3542 §11.2)");
        pkt_free(st, p);
        return -EMSGSIZE;
    } else {
        if (stack_trace_on(st, TRACE_IPV6))
            ipv6_trace_output(st, tx, src, p->len, nh, mcast);
        p = ipv6_fragment(st, p, tx, src, mtu);
        if (!p)
            return -ENOBUFS;
    }
    if (mcast)
        return ipv6_send_mcast(st, p, tx->dst);
    return nd6_output(st, p, nh, now);
}
