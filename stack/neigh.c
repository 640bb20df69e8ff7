/* SPDX-License-Identifier: MIT */
/*
 * neigh.c - the IPv4 neighbour cache (RFC 1122 §2.3.2): resolution queue,
 * retransmission, aging, send completions.  The ARP messages (RFC 826,
 * RFC 5227) are built and received in arp_msg.c; the table layout both
 * files use is in stack_impl.h.
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

#define NEIGH_QUEUE_MAX 64          /* packets per entry: a 64 KiB datagram in
                                       fragments at MTU 1280 fits */
#define NEIGH_QUEUE_TOTAL 1024      /* packets over all entries */
#define NS_PER_S 1000000000ull
#define ARP_RETRANS_NS (1 * NS_PER_S)    /* RFC 1122 §2.3.2.1: at most one per second */
#define ARP_MAX_REQUESTS 3
#define NEIGH_REACHABLE_NS (30 * NS_PER_S)
#define NEIGH_GC_NS (600 * NS_PER_S)
#define NEIGH_SWEEP_NS (1 * NS_PER_S)

static const uint8_t mac_bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- helpers (no lock needed: addresses are read-only after creation) ---- */

bool addr_is_ours(const struct wskstack *st, uint32_t a)
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
bool addr_is_subnet_bcast(const struct wskstack *st, uint32_t a)
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
void neigh_set_state(struct wskstack *st, struct neigh_entry *e, enum neigh_state s,
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

struct neigh_entry *neigh_find(struct neigh_table *t, uint32_t ip)
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
struct neigh_entry *neigh_new(struct wskstack *st, uint32_t ip)
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
struct pkt *neigh_take_queue(struct neigh_table *t, struct neigh_entry *e)
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
void neigh_flush_entry(struct wskstack *st, struct neigh_entry *e, struct pkt *chain,
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
