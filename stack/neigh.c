/* SPDX-License-Identifier: MIT */
/*
 * neigh.c - ARP (RFC 826, RFC 1122 §2.3.2, RFC 5227) and the IPv4 neighbour
 * cache: resolution queue, retransmission, aging, send completions.
 *
 * The cache
 * ---------
 * A fixed array of NEIGH_MAX entries (no allocation after neigh_init), found
 * through a small hash.  States:
 *   INCOMPLETE  resolution in progress: a broadcast request was sent, packets
 *               wait on the entry's queue (RFC 1122 §2.3.2.2);
 *   REACHABLE   MAC confirmed less than NEIGH_REACHABLE_NS ago;
 *   STALE       older than that; still used as is (no unicast refresh poll,
 *               see below);
 *   FAILED      3 requests 1 s apart went unanswered (RFC 1122 §2.3.2.1,
 *               RFC 4861 §7.2.2 numbers): the queued packets are dropped, their
 *               sends complete with -EHOSTUNREACH, and the entry is freed at
 *               once (BAD-INPUT J.43: "entries that fail resolution freed").
 * Aging: REACHABLE -> STALE after 30 s without confirmation; any entry not
 * confirmed for 10 min is deleted (the next send resolves it again), which
 * bounds how long a changed MAC can be used.  A confirmation is any ARP from
 * the neighbour (RFC 826 merge), so a Linux peer that refreshes its own
 * entry for us by unicast request also refreshes ours.  Static entries never
 * age, are never overwritten by ARP and never evicted.
 *
 * Bounds (BAD-INPUT J.43): NEIGH_MAX entries.  When full, a new entry evicts
 * the least recently used dynamic entry that has no queued packets
 * (ArpCacheEvictions); entries with waiting packets are never evicted - if
 * every candidate has some, the new resolution is refused (-ENOBUFS).
 * Per-entry queue: NEIGH_QUEUE_MAX packets; all queues together:
 * NEIGH_QUEUE_TOTAL.  Policy when full: the NEW packet (or fragment chain)
 * is refused with -ENOBUFS and counted in ArpQueueDrops; queued packets are
 * never displaced, so a send the caller was told is queued is never failed
 * by a later one.
 *
 * Send completions (struct tx_req)
 * ---------------------------------
 * neigh_output() takes one packet or a CHAIN (p->next) of packets of one
 * datagram (IPv4 fragments, in order) that all carry the same p->req.  The
 * chain is sent, queued or refused as a whole.  When it is queued,
 * neigh_output sets req->frames = number of packets and req->err = 0 (under
 * st->lock, before anyone can complete it) and returns UDP_SEND_QUEUED.
 * Each queued packet is later resolved exactly once: written (err 0 or the
 * write error), dropped (-EHOSTUNREACH, -ENODEV) or cancelled; the first
 * error is kept in req->err and req->done(req, req->err) runs when frames
 * reaches 0.  If the chain is sent at once (UDP_SEND_DONE) or refused
 * (-errno), req is not touched and done() is not called (stack.h udp_send).
 *
 * Locking: all cache state is under st->lock.  Packets are taken off the
 * queues under the lock; frames are written and done() called after
 * unlocking (stack.h CONCURRENCY MODEL).  One thread at a time flushes an
 * entry's queue (e->flushing); while it does, new packets for that
 * neighbour are appended to the queue rather than written directly, so
 * datagrams leave in the order they were sent.
 */
#include "stack/stack_impl.h"
#include "stack/ipv6_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NEIGH_MAX 256
#define NEIGH_HASH 256              /* buckets, power of two */
#define NEIGH_QUEUE_MAX 64          /* packets per entry: a 64 KiB datagram in
                                       fragments at MTU 1280 fits */
#define NEIGH_QUEUE_TOTAL 1024      /* packets over all entries */
#define NS_PER_S 1000000000ull
#define ARP_RETRANS_NS (1 * NS_PER_S)    /* RFC 1122 §2.3.2.1: at most one per second */
#define ARP_MAX_REQUESTS 3
#define NEIGH_REACHABLE_NS (30 * NS_PER_S)
#define NEIGH_GC_NS (600 * NS_PER_S)
#define NEIGH_SWEEP_NS (1 * NS_PER_S)
#define ARP_DEFEND_INTERVAL_NS (10 * NS_PER_S) /* RFC 5227 §1.1 DEFEND_INTERVAL */

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

static const uint8_t mac_bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_zero[ETH_ALEN] = {0};

/* ---- helpers (no lock needed: addresses are read-only after creation) ---- */

static bool addr_is_ours(const struct wskstack *st, uint32_t a)
{
    for (unsigned i = 0; i < st->n_addr4; i++)
        if (st->addr4[i].addr == a)
            return true;
    return false;
}

static uint32_t plen_mask(uint8_t plen)
{
    return plen == 0 ? 0 : 0xffffffffu << (32 - plen);
}

/* Directed broadcast of one of our subnets (not for /31 and /32). */
static bool addr_is_subnet_bcast(const struct wskstack *st, uint32_t a)
{
    for (unsigned i = 0; i < st->n_addr4; i++) {
        uint32_t m = plen_mask(st->addr4[i].plen);
        if (st->addr4[i].plen < 31 && (a & m) == (st->addr4[i].addr & m) && (a | m) == 0xffffffffu)
            return true;
    }
    return false;
}

/* Sender address for a request to nh: the queued packet's source if it is
 * ours (what Linux does), else our first address on nh's subnet, else our
 * first address. */
static uint32_t arp_source_for(const struct wskstack *st, uint32_t nh, struct pkt *p)
{
    if (p && p->len >= IPV4_HDR_LEN) {
        uint32_t src = be32(pkt_data(p) + 12);
        if (addr_is_ours(st, src))
            return src;
    }
    for (unsigned i = 0; i < st->n_addr4; i++) {
        uint32_t m = plen_mask(st->addr4[i].plen);
        if ((nh & m) == (st->addr4[i].addr & m))
            return st->addr4[i].addr;
    }
    return st->n_addr4 ? st->addr4[0].addr : 0;
}

static const char *ip4_str(uint32_t a, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
    return buf;
}

/* ---- the table (caller holds st->lock) ----------------------------------- */

static const char *neigh_state_name(unsigned s)
{
    static const char *const n[] = {"NONE", "INCOMPLETE", "REACHABLE", "STALE", "FAILED"};
    return s < sizeof n / sizeof n[0] ? n[s] : "?";
}

/* Every state change of a dynamic entry goes through here: one trace line
 * with the neighbour, the old and new state and the rule.  Caller holds
 * st->lock (the trace mutex is a leaf lock). */
static void neigh_set_state(struct wskstack *st, struct neigh_entry *e, enum neigh_state s,
                            const char *rfc)
{
    if (stack_trace_on(st, TRACE_ARP) && e->state != s) {
        char b[16];
        struct trace_fields f = {.rfc = rfc, .dst = ip4_str(e->ip, b),
                                 .from = neigh_state_name(e->state), .to = neigh_state_name(s)};
        trace_event(st, TL_ARP, TD_NONE, "neigh", &f, "%s: %s -> %s (%s)", b, f.from, f.to, rfc);
    }
    e->state = (uint8_t)s;
}

static unsigned neigh_hash(uint32_t ip)
{
    return (ip * 2654435761u) >> 24 & (NEIGH_HASH - 1);
}

static struct neigh_entry *neigh_find(struct neigh_table *t, uint32_t ip)
{
    for (int i = t->bucket[neigh_hash(ip)]; i >= 0; i = t->e[i].hnext)
        if (t->e[i].ip == ip)
            return &t->e[i];
    return NULL;
}

/* Remove from the hash and put on the free list.  Its queue must be empty. */
static void neigh_delete(struct neigh_table *t, struct neigh_entry *e)
{
    int idx = (int)(e - t->e);
    int16_t *pp = &t->bucket[neigh_hash(e->ip)];
    while (*pp >= 0 && *pp != idx)
        pp = &t->e[*pp].hnext;
    if (*pp == idx)
        *pp = e->hnext;
    memset(e, 0, sizeof *e);
    e->state = NEIGH_FREE;
    e->hnext = t->free_head;
    t->free_head = (int16_t)idx;
    t->count--;
}

/* A fresh entry for ip (state FREE, caller fills it), evicting the least
 * recently used dynamic entry without queued packets if the table is full.
 * NULL if nothing can be evicted. */
static struct neigh_entry *neigh_new(struct wskstack *st, uint32_t ip)
{
    struct neigh_table *t = st->neigh;
    if (t->free_head < 0) {
        struct neigh_entry *victim = NULL;
        for (unsigned i = 0; i < NEIGH_MAX; i++) {
            struct neigh_entry *e = &t->e[i];
            if (e->state == NEIGH_FREE || e->is_static || e->qlen || e->flushing)
                continue;
            if (!victim || e->lru < victim->lru)
                victim = e;
        }
        if (!victim)
            return NULL;
        CNT_INC(st, ArpCacheEvictions);
        neigh_delete(t, victim);
    }
    int idx = t->free_head;
    struct neigh_entry *e = &t->e[idx];
    t->free_head = e->hnext;
    memset(e, 0, sizeof *e);
    e->ip = ip;
    unsigned b = neigh_hash(ip);
    e->hnext = t->bucket[b];
    t->bucket[b] = (int16_t)idx;
    e->lru = ++t->seq;
    t->count++;
    return e;
}

/* Take the whole queue of e (caller holds st->lock). */
static struct pkt *neigh_take_queue(struct neigh_table *t, struct neigh_entry *e)
{
    struct pkt *chain = e->qh;
    t->queued_total -= e->qlen;
    e->qh = e->qt = NULL;
    e->qlen = 0;
    return chain;
}

/* ---- completions (no lock held) ----------------------------------------- */

/* One packet of req resolved with err.  done() runs when it was the last. */
static void txr_frame_done(struct tx_req *r, int err)
{
    if (err && r->err == 0)
        r->err = err;
    if (atomic_fetch_sub_explicit(&r->frames, 1, memory_order_acq_rel) == 1)
        r->done(r, r->err);
}

/* Drop a chain of queued packets, completing their sends with err.  Shared
 * with nd.c (stack_impl.h). */
void neigh_chain_fail(struct wskstack *st, struct pkt *p, int err)
{
    while (p) {
        struct pkt *next = p->next;
        struct tx_req *r = p->req;
        pkt_free(st, p);
        if (r)
            txr_frame_done(r, err);
        p = next;
    }
}

/* Write a chain of queued packets to mac, completing their sends.  Shared
 * with nd.c (stack_impl.h). */
void neigh_chain_send_queued(struct wskstack *st, struct pkt *p, const uint8_t mac[ETH_ALEN],
                             uint16_t ethertype)
{
    while (p) {
        struct pkt *next = p->next;
        struct tx_req *r = p->req;
        p->next = NULL;
        int rc = eth_output(st, p, mac, ethertype);
        if (r)
            txr_frame_done(r, rc);
        p = next;
    }
}

/* Write a chain now (the caller's send; req untouched).  0 or first error.
 * Shared with nd.c (stack_impl.h). */
int neigh_chain_send_now(struct wskstack *st, struct pkt *p, const uint8_t mac[ETH_ALEN],
                         uint16_t ethertype)
{
    int ret = 0;
    while (p) {
        struct pkt *next = p->next;
        p->next = NULL;
        int rc = eth_output(st, p, mac, ethertype);
        if (rc < 0 && ret == 0)
            ret = rc;
        p = next;
    }
    return ret;
}

unsigned neigh_chain_len(const struct pkt *p)
{
    unsigned n = 0;
    for (; p; p = p->next)
        n++;
    return n;
}

/* Write e's queue in order until it stays empty.  Called with e->flushing
 * set by the caller (under the lock), without the lock held; chain is the
 * queue the caller already took. */
static void neigh_flush_entry(struct wskstack *st, struct neigh_entry *e, struct pkt *chain,
                              const uint8_t mac_in[ETH_ALEN])
{
    uint8_t mac[ETH_ALEN];
    memcpy(mac, mac_in, ETH_ALEN);
    for (;;) {
        neigh_chain_send_queued(st, chain, mac, ETHERTYPE_IPV4);
        pthread_mutex_lock(&st->lock);
        chain = neigh_take_queue(st->neigh, e);
        if (!chain) {
            e->flushing = false;
            pthread_mutex_unlock(&st->lock);
            return;
        }
        memcpy(mac, e->mac, ETH_ALEN);
        pthread_mutex_unlock(&st->lock);
    }
}

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
static void arp_request(struct wskstack *st, uint32_t spa, uint32_t tpa)
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

/* ---- lifecycle -------------------------------------------------------------- */

int neigh_init(struct wskstack *st)
{
    struct neigh_table *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    for (unsigned i = 0; i < NEIGH_HASH; i++)
        t->bucket[i] = -1;
    t->free_head = -1;
    for (int i = NEIGH_MAX - 1; i >= 0; i--) {
        t->e[i].hnext = t->free_head;
        t->free_head = (int16_t)i;
    }
    st->neigh = t;
    return 0;
}

void neigh_flush(struct wskstack *st, int err)
{
    struct neigh_table *t = st->neigh;
    struct pkt *all = NULL, **tail = &all;
    unsigned n = 0;
    pthread_mutex_lock(&st->lock);
    t->gone_err = err;
    for (unsigned i = 0; i < NEIGH_MAX; i++) {
        struct neigh_entry *e = &t->e[i];
        if (e->state == NEIGH_FREE)
            continue;
        n += e->qlen;
        struct pkt *c = neigh_take_queue(t, e);
        if (c) {
            *tail = c;
            while (*tail)
                tail = &(*tail)->next;
        }
        if (e->state == NEIGH_INCOMPLETE && !e->flushing)
            neigh_delete(t, e);
    }
    pthread_mutex_unlock(&st->lock);
    if (n) {
        CNT_ADD(st, ArpQueueDrops, n);
        TRACE_F(st, TL_ARP, TD_TX, "drop",
                (&(struct trace_fields){.counter = "ArpQueueDrops", .count = TNUM(n)}),
                "drop ArpQueueDrops: %u queued packets, device gone (%d)", n, err);
    }
    neigh_chain_fail(st, all, err);
}

void neigh_fini(struct wskstack *st)
{
    if (!st->neigh)
        return;
    neigh_flush(st, -ENODEV);
    free(st->neigh);
    st->neigh = NULL;
}

/* ---- output ------------------------------------------------------------------- */

int neigh_output(struct wskstack *st, struct pkt *p, uint32_t nh, uint64_t now)
{
    struct neigh_table *t = st->neigh;
    uint8_t mac[ETH_ALEN];

    /* Destinations that need no resolution. */
    if (ipv4_is_limited_broadcast(nh) || addr_is_subnet_bcast(st, nh))
        return neigh_chain_send_now(st, p, mac_bcast, ETHERTYPE_IPV4);
    if (ipv4_is_multicast(nh)) {
        /* RFC 1112 §6.4: 01:00:5e + the low 23 bits of the group. */
        uint8_t m[ETH_ALEN] = {0x01, 0x00, 0x5e, (uint8_t)((nh >> 16) & 0x7f),
                               (uint8_t)(nh >> 8), (uint8_t)nh};
        return neigh_chain_send_now(st, p, m, ETHERTYPE_IPV4);
    }

    unsigned n = neigh_chain_len(p);
    struct tx_req *r = p->req;
    struct neigh_entry *e = NULL;
    uint32_t spa = 0;
    bool created = false;
    int err = 0;

    pthread_mutex_lock(&st->lock);
    if (t->gone_err) {
        err = t->gone_err;
        goto refuse;
    }
    e = neigh_find(t, nh);
    if (e && (e->state == NEIGH_REACHABLE || e->state == NEIGH_STALE) && !e->flushing) {
        memcpy(mac, e->mac, ETH_ALEN);
        e->lru = ++t->seq;
        pthread_mutex_unlock(&st->lock);
        return neigh_chain_send_now(st, p, mac, ETHERTYPE_IPV4);
    }
    if (!e) {
        e = neigh_new(st, nh);
        if (!e) {
            err = -ENOBUFS;
            goto refuse;
        }
        neigh_set_state(st, e, NEIGH_INCOMPLETE, "RFC 1122 §2.3.2.2");
        e->requests = 1;
        e->timer = now + ARP_RETRANS_NS;
        e->spa = arp_source_for(st, nh, p);
        created = true;
    }
    e->lru = ++t->seq;
    if (e->qlen + n > NEIGH_QUEUE_MAX || t->queued_total + n > NEIGH_QUEUE_TOTAL) {
        err = -ENOBUFS;
        goto refuse;
    }
    if (e->qt)
        e->qt->next = p;
    else
        e->qh = p;
    struct pkt *last = p;
    while (last->next)
        last = last->next;
    e->qt = last;
    e->qlen += n;
    t->queued_total += n;
    if (r) {
        r->err = 0;
        atomic_store_explicit(&r->frames, (int)n, memory_order_release);
    }
    spa = e->spa;
    pthread_mutex_unlock(&st->lock);
    if (created)
        arp_request(st, spa, nh);
    return UDP_SEND_QUEUED;

refuse:
    spa = created ? e->spa : 0;
    pthread_mutex_unlock(&st->lock);
    if (err == -ENOBUFS) {
        CNT_ADD(st, ArpQueueDrops, n);
        if (stack_trace_on(st, TRACE_ARP)) {
            char b[TRACE_IP_LEN];
            struct trace_fields f = {.counter = "ArpQueueDrops", .dst = trace_ip4(nh, b),
                                     .count = TNUM(n)};
            trace_event(st, TL_ARP, TD_TX, "drop", &f,
                        "drop ArpQueueDrops: %u packet(s) for %s, wait queue or cache full "
                        "(RFC 1122 §2.3.2.2)", n, b);
        }
    }
    while (p) {
        struct pkt *next = p->next;
        pkt_free(st, p);
        p = next;
    }
    if (created)
        arp_request(st, spa, nh);
    return err;
}

bool tx_req_cancel(struct wskstack *st, struct tx_req *r)
{
    struct neigh_table *t = st->neigh;
    struct pkt *taken = NULL;
    unsigned found = 0;

    /* An IPv6 send waits on an ND entry (nd.c), never on both tables. */
    if (st->nd && nd_tx_req_cancel(st, r))
        return true;

    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < NEIGH_MAX; i++)
        for (struct pkt *p = t->e[i].qh; p; p = p->next)
            if (p->req == r)
                found++;
    /* Only when every unresolved frame of the send is still on a queue: a
     * frame already taken off (being written or failed right now) will call
     * done() with the real result. */
    if (found == 0 || found != (unsigned)atomic_load_explicit(&r->frames, memory_order_acquire)) {
        pthread_mutex_unlock(&st->lock);
        return false;
    }
    for (unsigned i = 0; i < NEIGH_MAX; i++) {
        struct neigh_entry *e = &t->e[i];
        struct pkt **pp = &e->qh, *prev = NULL;
        while (*pp) {
            struct pkt *p = *pp;
            if (p->req == r) {
                *pp = p->next;
                p->next = taken;
                taken = p;
                e->qlen--;
                t->queued_total--;
            } else {
                prev = p;
                pp = &p->next;
            }
        }
        e->qt = prev;
    }
    atomic_store_explicit(&r->frames, 0, memory_order_release);
    pthread_mutex_unlock(&st->lock);
    while (taken) {
        struct pkt *next = taken->next;
        pkt_free(st, taken);
        taken = next;
    }
    r->done(r, -ECANCELED);
    return true;
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

/* ---- timers (receive thread) ------------------------------------------------------ */

void neigh_timer(struct wskstack *st, uint64_t now)
{
    struct neigh_table *t = st->neigh;
    struct { uint32_t spa, tpa; } req[NEIGH_MAX];
    unsigned nreq = 0, nfail = 0, ndrop = 0;
    struct pkt *failed = NULL, **tail = &failed;
    uint32_t fail_ip[8];
    unsigned fail_n[8];              /* packets each failed entry held */

    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < NEIGH_MAX; i++) {
        struct neigh_entry *e = &t->e[i];
        if (e->state != NEIGH_INCOMPLETE || now < e->timer)
            continue;
        if (e->requests >= ARP_MAX_REQUESTS) {
            /* RFC 1122 §2.3.2.1 / RFC 4861 §7.2.2: give up; every queued
             * packet is dropped and its send fails with EHOSTUNREACH. */
            neigh_set_state(st, e, NEIGH_FAILED, "RFC 1122 §2.3.2.1");
            if (nfail < 8) {
                fail_ip[nfail] = e->ip;
                fail_n[nfail] = e->qlen;
            }
            nfail++;
            ndrop += e->qlen;
            struct pkt *c = neigh_take_queue(t, e);
            if (c) {
                *tail = c;
                while (*tail)
                    tail = &(*tail)->next;
            }
            if (!e->flushing)
                neigh_delete(t, e);
            continue;
        }
        e->requests++;
        e->timer += ARP_RETRANS_NS;
        if (e->timer <= now)
            e->timer = now + ARP_RETRANS_NS;
        req[nreq].spa = e->spa;
        req[nreq].tpa = e->ip;
        nreq++;
    }
    if (now >= t->next_sweep) {
        t->next_sweep = now + NEIGH_SWEEP_NS;
        for (unsigned i = 0; i < NEIGH_MAX; i++) {
            struct neigh_entry *e = &t->e[i];
            if (e->is_static || (e->state != NEIGH_REACHABLE && e->state != NEIGH_STALE))
                continue;
            uint64_t age = now - e->confirmed;
            if (age >= NEIGH_GC_NS && !e->qlen && !e->flushing)
                neigh_delete(t, e);
            else if (age >= NEIGH_REACHABLE_NS)
                neigh_set_state(st, e, NEIGH_STALE, "RFC 1122 §2.3.2.1");
        }
    }
    pthread_mutex_unlock(&st->lock);

    if (nfail) {
        CNT_ADD(st, ArpResolveFailed, nfail);
        CNT_ADD(st, ArpQueueDrops, ndrop);
        if (stack_trace_on(st, TRACE_ARP)) {
            char b[TRACE_IP_LEN];
            for (unsigned i = 0; i < nfail && i < 8; i++) {
                struct trace_fields f = {.counter = "ArpResolveFailed",
                                         .dst = trace_ip4(fail_ip[i], b),
                                         .count = TNUM(fail_n[i])};
                trace_event(st, TL_ARP, TD_TX, "failed", &f,
                            "resolution of %s failed after %d requests: %u waiting packet(s) "
                            "dropped, ArpQueueDrops (RFC 1122 §2.3.2.1)", b, ARP_MAX_REQUESTS,
                            fail_n[i]);
            }
        }
        neigh_chain_fail(st, failed, -EHOSTUNREACH);
    }
    for (unsigned i = 0; i < nreq; i++)
        arp_request(st, req[i].spa, req[i].tpa);
}

uint64_t neigh_next_timer(struct wskstack *st, uint64_t now)
{
    struct neigh_table *t = st->neigh;
    pthread_mutex_lock(&st->lock);
    uint64_t next = t->next_sweep;
    for (unsigned i = 0; i < NEIGH_MAX; i++)
        if (t->e[i].state == NEIGH_INCOMPLETE && t->e[i].timer < next)
            next = t->e[i].timer;
    pthread_mutex_unlock(&st->lock);
    return next <= now ? 0 : next - now;
}

/* ---- queries / static entries ------------------------------------------------------- */

int stack_neigh_add_static(struct wskstack *st, const struct ip_addr *ip, const uint8_t mac[6])
{
    if (ip && ip->af == IPA_V6)
        return nd_add_static(st, ip->v6, mac); /* nd.c */
    if (!ip || ip->af != IPA_V4 || !mac || eth_is_multicast(mac) || eth_is_zero(mac) || ip->v4 == 0 ||
        ipv4_is_multicast(ip->v4) || ipv4_is_limited_broadcast(ip->v4))
        return -EINVAL;
    struct neigh_table *t = st->neigh;
    struct pkt *chain = NULL;
    pthread_mutex_lock(&st->lock);
    struct neigh_entry *e = neigh_find(t, ip->v4);
    if (!e)
        e = neigh_new(st, ip->v4);
    if (!e) {
        pthread_mutex_unlock(&st->lock);
        return -ENOBUFS;
    }
    memcpy(e->mac, mac, ETH_ALEN);
    e->is_static = true;
    e->state = NEIGH_REACHABLE;
    e->requests = 0;
    bool flush = e->qlen && !e->flushing;
    if (flush) {
        chain = neigh_take_queue(t, e);
        e->flushing = true;
    }
    pthread_mutex_unlock(&st->lock);
    if (flush)
        neigh_flush_entry(st, e, chain, mac);
    return 0;
}

unsigned stack_neigh_count(struct wskstack *st)
{
    pthread_mutex_lock(&st->lock);
    unsigned n = st->neigh->count;
    pthread_mutex_unlock(&st->lock);
    return n + (st->nd ? nd_count(st) : 0); /* + IPv6 entries (nd.c) */
}

int neigh_at(struct wskstack *st, unsigned idx, struct neigh_info *out)
{
    struct neigh_table *t = st->neigh;
    if (!t || idx >= NEIGH_MAX)
        return -1;
    const struct neigh_entry *e = &t->e[idx];
    if (e->state == NEIGH_FREE)
        return 0;
    memset(out, 0, sizeof *out);
    out->ip = ip4(e->ip);
    memcpy(out->mac, e->mac, ETH_ALEN);
    out->has_mac = e->state == NEIGH_REACHABLE || e->state == NEIGH_STALE;
    out->is_static = e->is_static;
    out->state = e->is_static ? "PERMANENT" : neigh_state_name(e->state);
    return 1;
}
