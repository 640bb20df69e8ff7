/* SPDX-License-Identifier: MIT */
/*
 * arp_msg.c - ARP messages (RFC 826, RFC 5227): the requests, replies and
 * announcements the stack sends, and the checks and processing of received
 * ones (the RFC 826 merge into the neighbour cache, replies to requests for
 * our addresses, RFC 5227 probes and conflicts).  The cache is neigh.c's
 * (design at its top, table layout in stack_impl.h); locking as there.
 */
#include "stack/stack_impl.h"

#include <string.h>

#define NS_PER_S 1000000000ull
#define ARP_DEFEND_INTERVAL_NS (10 * NS_PER_S) /* RFC 5227 §1.1 DEFEND_INTERVAL */

static const uint8_t mac_bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_zero[ETH_ALEN] = {0};

/* ---- ARP messages (no lock held) ------------------------------------------ */

/* The "arp tx" line of a message about to be written: a request (who-has),
 * an announcement (a request for our own address, RFC 5227 §3) or a reply
 * (is-at, to the asker). */
static void arp_trace_send(struct wskstack *st, uint16_t op, const uint8_t tha[ETH_ALEN],
                           uint32_t spa, uint32_t tpa)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN], m[TRACE_MAC_LEN], tm[TRACE_MAC_LEN];
    struct trace_fields f = {.src = trace_ip4(spa, s), .dst = trace_ip4(tpa, d),
                             .mac = trace_mac(st->mac, m), .len = TNUM(ARP_LEN)};
    if (op == ARP_OP_REPLY) {
        trace_event(st, TL_ARP, TD_TX, "reply", &f, "reply %s is-at %s to %s at %s (RFC 826)", s,
                    m, d, trace_mac(tha, tm));
    } else if (spa == tpa) {
        trace_event(st, TL_ARP, TD_TX, "announce", &f,
                    "announce %s is-at %s: gratuitous request (RFC 5227 §3)", s, m);
    } else {
        trace_event(st, TL_ARP, TD_TX, "request", &f, "request who-has %s tell %s (RFC 826)", d, s);
    }
}

static void arp_send(struct wskstack *st, uint16_t op, const uint8_t eth_dst[ETH_ALEN],
                     const uint8_t tha[ETH_ALEN], uint32_t spa, uint32_t tpa)
{
    struct pkt *p = pkt_alloc(st, ARP_LEN);
    if (!p) {
        stack_drop(st, CNT_IfOutDiscards, "arp", "no packet buffer for an ARP message");
        return;
    }
    if (stack_trace_on(st, TRACE_ARP))
        arp_trace_send(st, op, tha, spa, tpa);
    struct arp_repr a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, st->mac, ETH_ALEN);
    memcpy(a.tha, tha, ETH_ALEN);
    arp_emit(&a, pkt_data(p));
    p->len = ARP_LEN;
    if (eth_output(st, p, eth_dst, ETHERTYPE_ARP) == 0) {
        if (op == ARP_OP_REQUEST)
            CNT_INC(st, ArpOutRequests);
        else
            CNT_INC(st, ArpOutReplies);
    }
}

/* Resolution request: broadcast, target MAC zero (RFC 826). */
void arp_request(struct wskstack *st, uint32_t spa, uint32_t tpa)
{
    arp_send(st, ARP_OP_REQUEST, mac_bcast, mac_zero, spa, tpa);
}

/* RFC 5227 §3: announcement = request with sender IP = target IP = ours,
 * target MAC zero, broadcast. */
void arp_announce(struct wskstack *st)
{
    for (unsigned i = 0; i < st->n_addr4; i++)
        arp_send(st, ARP_OP_REQUEST, mac_bcast, mac_zero, st->addr4[i].addr, st->addr4[i].addr);
}

/* ---- input ---------------------------------------------------------------------- */

/* The "arp rx" line: what a valid request or reply made us do - reply
 * (a request for one of our addresses), update the sender's entry (RFC
 * 826 merge; `waiting` packets for it go out now), or ignore it (B.7, B.8:
 * a drop).  sender: what happened to the sender's entry (NULL: no entry,
 * nothing learnt).  One line per message. */
static void arp_trace_input(struct wskstack *st, const struct arp_repr *a, bool reply,
                            const char *sender, unsigned waiting)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN], m[TRACE_MAC_LEN];
    bool req = a->op == ARP_OP_REQUEST;
    struct trace_fields f = {.src = trace_ip4(a->spa, s), .dst = trace_ip4(a->tpa, d),
                             .mac = trace_mac(a->sha, m), .len = TNUM(ARP_LEN)};
    if (!reply && !sender) {
        f.counter = "ArpInIgnored";
        trace_event(st, TL_ARP, TD_RX, "drop", &f,
                    "drop ArpInIgnored: %s from unknown %s for %s (B.7, B.8, RFC 826)",
                    req ? "request" : "reply", s, d);
        return;
    }
    char what[2 * TRACE_IP_LEN + TRACE_MAC_LEN + 32], also[64] = "";
    if (req)
        snprintf(what, sizeof what, "request who-has %s tell %s at %s", d, s, m);
    else
        snprintf(what, sizeof what, "reply %s is-at %s", s, m);
    if (waiting) {
        snprintf(also, sizeof also, ", sending %u waiting packet(s)", waiting);
        f.count = TNUM(waiting);
    }
    trace_event(st, TL_ARP, TD_RX, req ? "request" : "reply", &f, "%s: %s%s%s%s (RFC 826)", what,
                reply ? "for us, " : "", sender ? sender : "not cached (table full)", also,
                reply ? ", replying" : "");
}

void arp_input(struct wskstack *st, struct pkt *p, uint64_t now)
{
    struct neigh_table *t = st->neigh;
    struct arp_repr a;
    char b1[TRACE_IP_LEN];

    enum wire_err werr = arp_parse(pkt_data(p), p->len, &a);
    if (werr != WIRE_OK) {
        /* RFC 826 packet format: htype 1, ptype 0x0800, hlen 6, plen 4,
         * op 1 or 2 (B.5). */
        TRACE_F(st, TL_ARP, TD_RX, "drop",
                (&(struct trace_fields){.counter = "ArpInMalformed", .len = TNUM(p->len)}),
                "drop ArpInMalformed: %s (B.5, RFC 826)", wire_err_str(werr));
        CNT_INC(st, ArpInMalformed);
        goto out;
    }
    /* RFC 1812 §3.3.2: never believe a broadcast/multicast hardware address
     * for a unicast IP; a zero MAC is no address at all.  We reject such
     * requests too (OpenBSD still answers them), see BAD-INPUT B.5. */
    if (eth_is_multicast(a.sha) || eth_is_zero(a.sha)) {
        stack_drop(st, CNT_ArpInMalformed, "arp", "sender MAC is broadcast/multicast/zero (B.5, RFC 1812 §3.3.2)");
        goto out;
    }
    /* An impossible sender IP: a group or broadcast address cannot own a MAC. */
    if (ipv4_is_multicast(a.spa) || ipv4_is_limited_broadcast(a.spa) || addr_is_subnet_bcast(st, a.spa)) {
        stack_drop(st, CNT_ArpInMalformed, "arp", "sender IP is broadcast/multicast (B.5)");
        goto out;
    }
    if (a.op == ARP_OP_REQUEST)
        CNT_INC(st, ArpInRequests);
    else
        CNT_INC(st, ArpInReplies);

    bool tpa_ours = addr_is_ours(st, a.tpa);

    /* RFC 5227 §2.1.1: a probe (sender IP 0.0.0.0) must not update caches.
     * If it asks for one of our addresses we defend it with a reply (as
     * Linux does: unicast to the prober, target IP 0.0.0.0). */
    if (a.spa == 0) {
        if (a.op == ARP_OP_REQUEST && tpa_ours) {
            if (stack_trace_on(st, TRACE_ARP)) {
                char m[TRACE_MAC_LEN];
                struct trace_fields f = {.dst = trace_ip4(a.tpa, b1), .mac = trace_mac(a.sha, m)};
                trace_event(st, TL_ARP, TD_RX, "probe", &f,
                            "probe for our %s from %s: defending it with a reply (RFC 5227 §2.1.1)",
                            b1, m);
            }
            arp_send(st, ARP_OP_REPLY, a.sha, a.sha, a.tpa, 0);
        } else {
            stack_drop(st, CNT_ArpInIgnored, "arp", "probe (sender 0.0.0.0) not for us (RFC 5227 §2.1.1)");
        }
        goto out;
    }

    /* RFC 5227 §2.4: someone else claims one of our addresses.  Keep our
     * binding, report it, and defend with one announcement at most every
     * DEFEND_INTERVAL (10 s). */
    if (addr_is_ours(st, a.spa)) {
        CNT_INC(st, ArpInConflicts);
        pthread_mutex_lock(&st->lock);
        bool defend = !t->defended || now - t->last_defend >= ARP_DEFEND_INTERVAL_NS;
        if (defend) {
            t->defended = true;
            t->last_defend = now;
        }
        pthread_mutex_unlock(&st->lock);
        if (stack_trace_on(st, TRACE_ARP)) {
            char m[TRACE_MAC_LEN];
            struct trace_fields f = {.counter = "ArpInConflicts", .src = trace_ip4(a.spa, b1),
                                     .mac = trace_mac(a.sha, m)};
            trace_event(st, TL_ARP, TD_RX, "conflict", &f,
                        "conflict: %s claims our address %s: %s (RFC 5227 §2.4)", m, b1,
                        defend ? "defending it with an announcement"
                               : "defended less than 10 s ago, not again");
        }
        if (defend)
            arp_send(st, ARP_OP_REQUEST, mac_bcast, mac_zero, a.spa, a.spa);
        goto out;
    }

    struct neigh_entry *flush = NULL;
    struct pkt *chain = NULL;
    bool merged = false;
    pthread_mutex_lock(&st->lock);
    /* RFC 826 merge: if we already know the sender, update its MAC, whatever
     * the packet's target (B.7).  Static entries are never overwritten. */
    struct neigh_entry *e = neigh_find(t, a.spa);
    const char *sender = NULL; /* for the trace line */
    if (e) {
        merged = true;
        sender = e->is_static ? "sender's entry is static, kept" : "sender's entry updated";
        if (!e->is_static) {
            memcpy(e->mac, a.sha, ETH_ALEN);
            neigh_set_state(st, e, NEIGH_REACHABLE, "RFC 826");
            e->confirmed = now;
            e->requests = 0;
            if (e->qlen && !e->flushing) {
                chain = neigh_take_queue(t, e);
                e->flushing = true;
                flush = e;
            }
        }
    } else if (tpa_ours && a.op == ARP_OP_REQUEST) {
        /* RFC 826: create an entry only when the request targets us (B.7;
         * the sender will talk to us next).  No room: we still reply. */
        e = neigh_new(st, a.spa);
        if (e) {
            sender = "sender cached";
            memcpy(e->mac, a.sha, ETH_ALEN);
            neigh_set_state(st, e, NEIGH_REACHABLE, "RFC 826");
            e->confirmed = now;
        }
    }
    pthread_mutex_unlock(&st->lock);

    bool reply = tpa_ours && a.op == ARP_OP_REQUEST;
    if (stack_trace_on(st, TRACE_ARP))
        arp_trace_input(st, &a, reply, sender, neigh_chain_len(chain));
    if (flush)
        neigh_flush_entry(st, flush, chain, a.sha);
    if (reply) {
        /* RFC 826: swap, fill in our MAC, reply to the sender. */
        arp_send(st, ARP_OP_REPLY, a.sha, a.sha, a.tpa, a.spa);
    } else if (!merged) {
        /* B.8: a request for someone else; B.7: an unsolicited reply or
         * gratuitous ARP from a host we do not know (traced as a drop). */
        CNT_INC(st, ArpInIgnored);
    }
out:
    pkt_free(st, p);
}
