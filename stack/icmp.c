/* SPDX-License-Identifier: MIT */
/*
 * icmp.c - ICMPv4 for a host (RFC 792, RFC 1122 §3.2.2): echo replies,
 * error messages with the "never send an error about..." rules, and a
 * token-bucket rate limiter for errors.
 *
 * Input, in order:
 *   IcmpInMsgs (every message, as Linux counts it)
 *   shorter than 8 bytes                  -> IcmpInErrors
 *   bad checksum                          -> IcmpInCsumErrors + IcmpInErrors
 *   echo request (8)                      -> IcmpInEchos, reply (see below)
 *   echo reply (0)                        -> IcmpInEchoReps (no ping sockets yet)
 *   destination unreachable (3)           -> IcmpInDestUnreachs (telling the
 *                                            UDP socket is a later issue)
 *   time exceeded (11)                    -> IcmpInTimeExcds
 *   other types of RFC 792/950 (redirect, source quench, timestamp,
 *   info, address mask: RFC 1122 §3.2.2.2, RFC 6633, RFC 6918)
 *                                         -> ignored (traced)
 *   types no RFC we know defines          -> IcmpInErrors (RFC 1122 §3.2.2:
 *                                            silently discarded; F.29)
 *
 * Echo (RFC 792, RFC 1122 §3.2.2.6): the reply carries the identical
 * identifier, sequence number and data, from the address the request was
 * sent to; it is built in place in the request's buffer (no allocation).  It
 * carries no IP options (C.16: an unknown option is never reflected).
 * Echo requests to a broadcast address are IGNORED (RFC 1122 §3.2.2.6 allows
 * it; Linux does the same by default, icmp_echo_ignore_broadcasts=1) - they
 * are still counted in IcmpInEchos.  A request whose source is not a unicast
 * host address is not answered either (the reply would be a broadcast).
 *
 * Errors: rate-limited by a token bucket per stack (1000 per second, burst
 * 50, as gVisor; RFC 1812 §4.3.2.8), suppressed ones counted in
 * IcmpOutRateLimitHost.  Echo replies are not rate-limited (Linux's default
 * icmp_ratemask does not include them either).
 *
 * Locking: the rate limiter lives in struct icmp_state and is guarded by
 * st->lock; nothing else here needs a lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack_impl.h"
#include "stack/echo.h"

#define ICMP_ERR_RATE_PER_SEC 1000u
#define ICMP_ERR_BURST 50u
#define ICMP_TOKEN_NS (1000000000ull / ICMP_ERR_RATE_PER_SEC)
/* RFC 1812 §4.3.2.3: an error message is at most 576 bytes long. */
#define ICMP_ERR_MAX_LEN 576u

struct icmp_state {
    /* Token bucket kept as "credit" in nanoseconds: one token is worth
     * ICMP_TOKEN_NS, the bucket holds at most ICMP_ERR_BURST tokens. */
    uint64_t credit_ns;
    uint64_t last_ns;
    bool started;
};

/* One token bucket; icmpv6.c keeps its own (st->icmp6) with the same
 * parameters (stack_impl.h). */
int icmp_ratelimit_new(struct icmp_state **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return -ENOMEM;
    (*out)->credit_ns = ICMP_ERR_BURST * ICMP_TOKEN_NS;   /* starts full */
    return 0;
}

int icmp_init(struct wskstack *st)
{
    return icmp_ratelimit_new(&st->icmp);
}

void icmp_fini(struct wskstack *st)
{
    free(st->icmp);
    st->icmp = NULL;
}

/* Caller holds st->lock.  Take one token if there is one. */
bool icmp_ratelimit_allow(struct icmp_state *is, uint64_t now)
{
    const uint64_t max = ICMP_ERR_BURST * ICMP_TOKEN_NS;
    if (!is->started) {
        is->started = true;
        is->last_ns = now;
    }
    if (now > is->last_ns) {
        uint64_t elapsed = now - is->last_ns;
        is->credit_ns = elapsed >= max || is->credit_ns + elapsed >= max ? max
                                                                         : is->credit_ns + elapsed;
        is->last_ns = now;
    }
    if (is->credit_ns < ICMP_TOKEN_NS)
        return false;
    is->credit_ns -= ICMP_TOKEN_NS;
    return true;
}

/* Informational (query) types: everything else counts as an error message
 * for the "no error about an error" rule, unknown types included (as Linux
 * does: an unknown type might be an error). */
static bool icmp_type_is_query(uint8_t t)
{
    switch (t) {
    case ICMP_ECHO_REPLY: case ICMP_ECHO_REQUEST:
    case 9: case 10:            /* router advertisement / solicitation (RFC 1256) */
    case 13: case 14:           /* timestamp, timestamp reply */
    case 15: case 16:           /* information request / reply (RFC 6918) */
    case 17: case 18:           /* address mask request / reply (RFC 6918) */
        return true;
    default:
        return false;
    }
}

/* Types defined by RFC 792/950/1256 that a host may receive and ignore. */
static bool icmp_type_is_known(uint8_t t)
{
    return t <= 18 && t != 1 && t != 2 && t != 7;
}

/* RFC 1122 §3.2.2: "a datagram whose source address does not define a single
 * host -- e.g., a zero address, a loopback address, a broadcast address, a
 * multicast address, or a Class E address". */
static bool icmp_src_is_host(struct wskstack *st, uint32_t a)
{
    if (a == 0 || (a >> 24) == 127 || (a >> 28) >= 0xe)   /* 0, loopback, D, E */
        return false;
    return !ipv4_is_broadcast(st, a);
}

/* ---- input ---------------------------------------------------------------- */

static void icmp_echo(struct wskstack *st, struct pkt *p, const struct ipv4_repr *ip,
                      struct icmp_repr *r, uint64_t now)
{
    CNT_INC(st, IcmpInEchos);
    const char *why = NULL;
    if (!ipv4_is_local(st, ip->dst))
        why = "to a broadcast address, ignored (RFC 1122 §3.2.2.6)";
    else if (!icmp_src_is_host(st, ip->src))
        why = "from a non-host source, not answered (RFC 1122 §3.2.2)";
    if (why) {
        if (stack_trace_on(st, TRACE_ICMP)) {
            char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
            struct trace_fields f = {.src = trace_ip4(ip->src, s), .dst = trace_ip4(ip->dst, d),
                                     .type = TNUM(r->type), .id = TNUM(r->rest >> 16),
                                     .seq = TNUM(r->rest & 0xffff)};
            trace_event(st, TL_ICMP, TD_RX, "ignore", &f, "echo request from %s to %s: %s", s,
                        d, why);
        }
        pkt_free(st, p);
        return;
    }
    /* RFC 792: type 0, same identifier, sequence number and data; the
     * checksum is recomputed over the reply.  r->data points at
     * pkt_data(p) + 8, so icmp_emit rewrites the header in place. */
    r->type = ICMP_ECHO_REPLY;
    r->code = 0;
    icmp_emit(r, pkt_data(p));
    struct ipv4_tx tx = {
        .src = ip->dst,     /* RFC 1122 §3.2.2.6: the address the request was sent to */
        .dst = ip->src,
        .proto = IP_PROTO_ICMP,
        .ttl = IPV4_DEFAULT_TTL,
        .tos = ip->tos,
        .df = false,
    };
    /* The decision first, then what the layers below do with it. */
    if (stack_trace_on(st, TRACE_ICMP)) {
        char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
        struct trace_fields f = {.src = trace_ip4(tx.src, s), .dst = trace_ip4(tx.dst, d),
                                 .type = TNUM(ICMP_ECHO_REPLY), .code = TNUM(0),
                                 .id = TNUM(r->rest >> 16), .seq = TNUM(r->rest & 0xffff),
                                 .len = TNUM(p->len)};
        trace_event(st, TL_ICMP, TD_TX, "echo-reply", &f,
                    "echo reply to %s from %s, id %u seq %u (RFC 792, RFC 1122 §3.2.2.6)", d, s,
                    r->rest >> 16, r->rest & 0xffff);
    }
    int rc = ipv4_output(st, p, &tx, now);
    if (rc >= 0) {
        CNT_INC(st, IcmpOutMsgs);
        CNT_INC(st, IcmpOutEchoReps);
    } else {
        CNT_INC(st, IcmpOutErrors);
    }
}

void icmp_input(struct wskstack *st, struct pkt *p, const struct ipv4_repr *ip, uint64_t now)
{
    struct icmp_repr r;

    CNT_INC(st, IcmpInMsgs);
    switch (icmp_parse(pkt_data(p), p->len, &r, true)) {
    case WIRE_OK:
        if (stack_trace_on(st, TRACE_ICMP)) {
            char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
            struct trace_fields f = {.src = trace_ip4(ip->src, s), .dst = trace_ip4(ip->dst, d),
                                     .rule = "ok", .type = TNUM(r.type), .code = TNUM(r.code),
                                     .len = TNUM(p->len)};
            trace_event(st, TL_ICMP, TD_RX, "csum", &f, "type %u code %u: checksum ok (RFC 792)",
                        r.type, r.code);
        }
        break;
    case WIRE_BAD_CHECKSUM:
        CNT_INC(st, IcmpInCsumErrors);
        stack_drop(st, CNT_IcmpInErrors, "icmp", "bad checksum (RFC 792, F.29)");
        goto free;
    default:
        stack_drop(st, CNT_IcmpInErrors, "icmp", "shorter than 8 bytes (RFC 792, F.29)");
        goto free;
    }

    switch (r.type) {
    case ICMP_ECHO_REQUEST:
        icmp_echo(st, p, ip, &r, now);
        return;
    case ICMP_ECHO_REPLY:
        CNT_INC(st, IcmpInEchoReps);
        echo_icmp_input(st, ip, &r, now);   /* ping handles (echo.c, which traces it) */
        goto free;
    case ICMP_DEST_UNREACH:
        CNT_INC(st, IcmpInDestUnreachs);
        echo_icmp_input(st, ip, &r, now);   /* ping handles (echo.c), once counted */
        TRACE_F(st, TL_ICMP, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r.type), .code = TNUM(r.code)}),
                "destination unreachable code %u: counted, not passed to UDP", r.code);
        goto free;
    case ICMP_TIME_EXCEEDED:
        CNT_INC(st, IcmpInTimeExcds);
        echo_icmp_input(st, ip, &r, now);   /* ping handles (echo.c), once counted */
        TRACE_F(st, TL_ICMP, TD_RX, "ignore",
                (&(struct trace_fields){.type = TNUM(r.type), .code = TNUM(r.code)}),
                "time exceeded code %u: counted, not passed on", r.code);
        goto free;
    default:
        if (icmp_type_is_known(r.type)) {
            TRACE_F(st, TL_ICMP, TD_RX, "ignore",
                    (&(struct trace_fields){.type = TNUM(r.type), .code = TNUM(r.code)}),
                    "type %u ignored (RFC 1122 §3.2.2.2, RFC 6633, RFC 6918)", r.type);
            goto free;
        }
        stack_drop(st, CNT_IcmpInErrors, "icmp", "unknown type (RFC 1122 §3.2.2: silently discard)");
        goto free;
    }
free:
    pkt_free(st, p);
}

/* ---- errors ------------------------------------------------------------------ */

void icmp_send_error(struct wskstack *st, uint8_t type, uint8_t code, uint32_t rest,
                     const uint8_t *orig, size_t orig_len, bool link_bcast, uint64_t now)
{
    if (orig_len < IPV4_HDR_LEN)
        return;
    size_t hl = (size_t)(orig[0] & 0x0f) * 4;
    if (hl < IPV4_HDR_LEN || hl > orig_len)
        return;
    uint32_t osrc = be32(orig + 12), odst = be32(orig + 16);
    uint8_t oproto = orig[9];
    uint16_t ofrag = be16(orig + 6) & 0x1fff;

    /* RFC 1122 §3.2.2: an ICMP error message MUST NOT be sent as the result
     * of receiving ... */
    const char *why = NULL;
    if (link_bcast)
        why = "datagram sent as a link-layer broadcast/multicast";
    else if (ipv4_is_broadcast(st, odst) || ipv4_is_multicast(odst))
        why = "datagram to a broadcast/multicast address";
    else if (ofrag != 0)
        why = "non-initial fragment";
    else if (!icmp_src_is_host(st, osrc))
        why = "source is not a unicast host address";
    else if (oproto == IP_PROTO_ICMP && (orig_len <= hl || !icmp_type_is_query(orig[hl])))
        why = "an ICMP error message";
    if (why) {
        TRACE_F(st, TL_ICMP, TD_TX, "no-error",
                (&(struct trace_fields){.type = TNUM(type), .code = TNUM(code)}),
                "no error type %u code %u sent about %s (RFC 1122 §3.2.2)", type, code, why);
        return;
    }

    uint32_t src = odst, nh = osrc;
    pthread_mutex_lock(&st->lock);
    bool allowed = icmp_ratelimit_allow(st->icmp, now);
    if (allowed && !ipv4_is_local(st, odst))
        (void)route4_lookup_quiet(st, osrc, &nh, NULL); /* ipv4_output traces it */
    pthread_mutex_unlock(&st->lock);
    if (!allowed) {
        stack_drop(st, CNT_IcmpOutRateLimitHost, "icmp", "error rate limit (RFC 1812 §4.3.2.8)");
        return;
    }
    /* Source: the address the offending datagram was sent to when it is
     * ours (it always is for a host), else the usual selection. */
    if (!ipv4_is_local(st, odst) && ipv4_select_source(st, osrc, nh, &src) < 0) {
        CNT_INC(st, IcmpOutErrors);
        return;
    }

    /* RFC 792: quote the IP header and at least 8 bytes of the payload;
     * RFC 1812 §4.3.2.3: as much as fits in 576 bytes. */
    size_t qlen = orig_len;
    if (qlen > ICMP_ERR_MAX_LEN - IPV4_HDR_LEN - ICMP_HDR_LEN)
        qlen = ICMP_ERR_MAX_LEN - IPV4_HDR_LEN - ICMP_HDR_LEN;
    struct pkt *p = pkt_alloc(st, (uint32_t)(ICMP_HDR_LEN + qlen));
    if (!p) {
        stack_drop(st, CNT_IcmpOutErrors, "icmp", "no packet buffer for an error message");
        return;
    }
    uint8_t *b = pkt_data(p);
    memcpy(b + ICMP_HDR_LEN, orig, qlen);
    p->len = (uint32_t)(ICMP_HDR_LEN + qlen);
    struct icmp_repr r = {.type = type, .code = code, .rest = rest,
                          .data = b + ICMP_HDR_LEN, .data_len = qlen};
    icmp_emit(&r, b);

    struct ipv4_tx tx = {.src = src, .dst = osrc, .proto = IP_PROTO_ICMP,
                         .ttl = IPV4_DEFAULT_TTL, .tos = 0, .df = false};
    if (stack_trace_on(st, TRACE_ICMP)) {
        char s[TRACE_IP_LEN], d[TRACE_IP_LEN];
        struct trace_fields f = {.src = trace_ip4(src, s), .dst = trace_ip4(osrc, d),
                                 .type = TNUM(type), .code = TNUM(code), .len = TNUM(p->len)};
        trace_event(st, TL_ICMP, TD_TX, "error", &f,
                    "error type %u code %u to %s from %s, quoting %u bytes (RFC 792, RFC 1812 "
                    "§4.3.2.3)", type, code, d, s, (unsigned)qlen);
    }
    int rc = ipv4_output(st, p, &tx, now);
    if (rc < 0) {
        CNT_INC(st, IcmpOutErrors);
        return;
    }
    CNT_INC(st, IcmpOutMsgs);
    if (type == ICMP_DEST_UNREACH)
        CNT_INC(st, IcmpOutDestUnreachs);
}
