/* SPDX-License-Identifier: MIT */
/*
 * reasm.c - the fragment reassembly engine shared by IPv4 and IPv6.  The
 * rules, limits, counters and how each family calls it are in reasm.h.
 *
 * Data structures (all owned by st->reasm, receive thread only):
 *   - a hash table of datagrams keyed by (family, src, dst, id, proto),
 *     SipHash-2-4 with a per-stack random key, chains doubly linked so a
 *     datagram leaves its chain in O(1);
 *   - per family an AGE LIST of its datagrams, oldest first.  The timeout of
 *     a family is constant and counted from the first-arriving fragment, so
 *     the age list is also the expiry order: the timer only looks at heads,
 *     and memory eviction takes the older of the two heads;
 *   - per datagram a singly linked list of its fragments sorted by offset,
 *     each fragment one malloc (header + data), never overlapping (an
 *     overlap kills the datagram before anything is stored);
 *   - a killed datagram stays as a DEAD entry (no fragments, no header)
 *     until its timeout, so that later fragments of it are dropped in O(1)
 *     (RFC 5722 §4).
 *
 * Completeness: fragments never overlap and never reach past the end once
 * it is known, so "the last fragment arrived and the bytes held equal its
 * end" means every byte of [0, end) is present.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "stack/reasm.h"
#include "stack/stack_impl.h"

/* ---- per-family constants ----------------------------------------------------- */
struct reasm_fam {
    const char *layer;            /* trace prefix */
    uint64_t timeout_ns;
    size_t hdr_uncounted;         /* header bytes the 65535 limit leaves out */
    enum wss_counter reqds, oks, fails, timeout;
};
#define FAM_V4 0
#define FAM_V6 1
static const struct reasm_fam reasm_fams[2] = {
    /* RFC 791: Total Length (65535 at most) includes the header. */
    [FAM_V4] = {"ipv4-reasm", REASM_TIMEOUT_V4_NS, 0,
                CNT_IpReasmReqds, CNT_IpReasmOKs, CNT_IpReasmFails, CNT_IpReasmTimeout},
    /* RFC 8200 §4.5: the reassembled Payload Length (65535 at most) leaves
     * out the 40-byte fixed header. */
    [FAM_V6] = {"ipv6-reasm", REASM_TIMEOUT_V6_NS, 40,
                CNT_Ip6ReasmReqds, CNT_Ip6ReasmOKs, CNT_Ip6ReasmFails, CNT_Ip6ReasmTimeout},
};

/* ---- state -------------------------------------------------------------------- */
struct reasm_frag {
    struct reasm_frag *next;      /* next higher offset */
    uint32_t off, len;
    bool more;                    /* its M flag (a duplicate must match it) */
    uint8_t data[];
};

struct reasm_dgram {
    struct reasm_dgram *hnext, **hpprev;   /* hash chain */
    struct reasm_dgram *older, *newer;     /* age list of its family */
    struct reasm_key key;
    unsigned fam;
    uint64_t expires;
    struct reasm_frag *frags;     /* sorted by offset */
    uint8_t *hdr;                 /* fragment 0's header (NULL until it came) */
    uint32_t hdr_len;
    uint32_t nfrags;
    uint32_t have;                /* data bytes held */
    uint32_t max_end;             /* highest offset+len held */
    uint32_t end;                 /* datagram length, once last_seen */
    bool last_seen;               /* the M=0 fragment arrived */
    bool dead;                    /* killed: drop later fragments (RFC 5722) */
    size_t mem;                   /* bytes charged for this datagram */
};

struct reasm_list {
    struct reasm_dgram *oldest, *newest;
};

struct reasm_state {
    uint64_t k0, k1;              /* SipHash key */
    struct reasm_dgram *bucket[REASM_HASH_BUCKETS];
    struct reasm_list age[2];     /* per family */
    size_t mem;                   /* see reasm_mem() */
    unsigned count;
};

/* ---- keyed hash (SipHash-2-4, Aumasson & Bernstein 2012) ------------------------ */
static inline uint64_t rotl64(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

#define SIPROUND                                                                 \
    do {                                                                         \
        v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);            \
        v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                                 \
        v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                                 \
        v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);            \
    } while (0)

/* SipHash-2-4 of `nwords` little-endian 64-bit words (the message length is
 * a multiple of 8, so the final block carries only the length). */
static uint64_t siphash_words(uint64_t k0, uint64_t k1, const uint64_t *m, size_t nwords)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    for (size_t i = 0; i <= nwords; i++) {
        uint64_t w = i < nwords ? m[i] : (uint64_t)(nwords * 8) << 56;
        v3 ^= w;
        SIPROUND;
        SIPROUND;
        v0 ^= w;
    }
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static unsigned key_fam(const struct reasm_key *k) { return k->src.af == IPA_V6 ? FAM_V6 : FAM_V4; }

static unsigned key_bucket(const struct reasm_state *rs, const struct reasm_key *k)
{
    /* Canonical bytes: family, proto, id, then both addresses (IPv4 in the
     * first 4 bytes of its 16), so equal keys hash equally. */
    uint8_t b[40];
    memset(b, 0, sizeof b);
    b[0] = key_fam(k) == FAM_V6 ? 6 : 4;
    b[1] = k->proto;
    put_be32(b + 4, k->id);
    if (key_fam(k) == FAM_V6) {
        memcpy(b + 8, k->src.v6, 16);
        memcpy(b + 24, k->dst.v6, 16);
    } else {
        put_be32(b + 8, k->src.v4);
        put_be32(b + 24, k->dst.v4);
    }
    uint64_t w[5];
    memcpy(w, b, sizeof w);   /* host order: the hash only needs to be stable */
    return (unsigned)(siphash_words(rs->k0, rs->k1, w, 5) % REASM_HASH_BUCKETS);
}

static bool key_eq(const struct reasm_key *a, const struct reasm_key *b)
{
    return a->id == b->id && a->proto == b->proto && key_fam(a) == key_fam(b) &&
           ip_addr_eq(&a->src, &b->src) && ip_addr_eq(&a->dst, &b->dst);
}

/* ---- lifecycle ---------------------------------------------------------------- */
int reasm_init(struct wskstack *st)
{
    struct reasm_state *rs = calloc(1, sizeof *rs);
    if (!rs)
        return -ENOMEM;
    uint64_t k[2];
    if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
        /* No entropy yet (early boot): a weaker key is still a key. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)rs;
        k[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)st;
    }
    rs->k0 = k[0];
    rs->k1 = k[1];
    st->reasm = rs;
    return 0;
}

/* Free a datagram's fragments and header; it stays linked. */
static void dgram_clear(struct reasm_state *rs, struct reasm_dgram *d)
{
    struct reasm_frag *f = d->frags;
    while (f) {
        struct reasm_frag *n = f->next;
        free(f);
        f = n;
    }
    free(d->hdr);
    d->frags = NULL;
    d->hdr = NULL;
    d->nfrags = 0;
    rs->mem -= d->mem - sizeof *d;
    d->mem = sizeof *d;
}

/* Unlink from the hash chain and the age list, free everything. */
static void dgram_destroy(struct reasm_state *rs, struct reasm_dgram *d)
{
    dgram_clear(rs, d);
    *d->hpprev = d->hnext;
    if (d->hnext)
        d->hnext->hpprev = d->hpprev;
    struct reasm_list *l = &rs->age[d->fam];
    if (d->older)
        d->older->newer = d->newer;
    else
        l->oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        l->newest = d->older;
    rs->mem -= d->mem;
    rs->count--;
    free(d);
}

void reasm_fini(struct wskstack *st)
{
    struct reasm_state *rs = st->reasm;
    if (!rs)
        return;
    for (unsigned f = 0; f < 2; f++)
        while (rs->age[f].oldest)
            dgram_destroy(rs, rs->age[f].oldest);
    free(rs);
    st->reasm = NULL;
}

size_t reasm_mem(struct wskstack *st) { return st->reasm->mem; }
unsigned reasm_count(struct wskstack *st) { return st->reasm->count; }

/* ---- helpers ------------------------------------------------------------------ */
static struct reasm_dgram *dgram_find(struct reasm_state *rs, const struct reasm_key *k,
                                      unsigned *bucket)
{
    *bucket = key_bucket(rs, k);
    for (struct reasm_dgram *d = rs->bucket[*bucket]; d; d = d->hnext)
        if (key_eq(&d->key, k))
            return d;
    return NULL;
}

static struct reasm_dgram *dgram_new(struct reasm_state *rs, const struct reasm_key *k,
                                     unsigned bucket, uint64_t now)
{
    struct reasm_dgram *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->key = *k;
    d->fam = key_fam(k);
    /* RFC 8200 §4.5: "within 60 seconds of the reception of the
     * first-arriving fragment" - the timer is never extended. */
    d->expires = now + reasm_fams[d->fam].timeout_ns;
    d->mem = sizeof *d;
    d->hnext = rs->bucket[bucket];
    if (d->hnext)
        d->hnext->hpprev = &d->hnext;
    d->hpprev = &rs->bucket[bucket];
    rs->bucket[bucket] = d;
    struct reasm_list *l = &rs->age[d->fam];
    d->older = l->newest;
    if (l->newest)
        l->newest->newer = d;
    else
        l->oldest = d;
    l->newest = d;
    rs->mem += d->mem;
    rs->count++;
    return d;
}

/* A failure event of the fragment alone: count it, return the reason. */
static int frag_fail(struct wskstack *st, const struct reasm_fam *fm, int code, const char *why)
{
    stack_drop(st, fm->fails, fm->layer, why);
    return code;
}

/* Kill a live datagram: free its fragments, keep it DEAD until its timeout
 * (RFC 5722 §4: later fragments are dropped too).  One failure. */
static int dgram_kill(struct wskstack *st, struct reasm_dgram *d, int code, const char *why)
{
    dgram_clear(st->reasm, d);
    d->dead = true;
    stack_drop(st, reasm_fams[d->fam].fails, reasm_fams[d->fam].layer, why);
    return code;
}

/* Above REASM_MEM_HIGH: discard the oldest datagrams (of either family)
 * until at most REASM_MEM_LOW (BAD-INPUT J.42, gVisor's thresholds).  A live
 * one is a failure; a dead one was already counted.  Returns true if `cur`
 * was discarded. */
static bool reasm_evict(struct wskstack *st, struct reasm_dgram *cur)
{
    struct reasm_state *rs = st->reasm;
    bool hit = false;
    while (rs->mem > REASM_MEM_LOW) {
        struct reasm_dgram *a = rs->age[FAM_V4].oldest, *b = rs->age[FAM_V6].oldest;
        struct reasm_dgram *d;
        if (!a)
            d = b;
        else if (!b)
            d = a;
        else /* arrival time = expires - timeout */
            d = a->expires - reasm_fams[FAM_V4].timeout_ns <= b->expires - reasm_fams[FAM_V6].timeout_ns
                    ? a : b;
        if (!d)
            break;
        if (!d->dead)
            stack_drop(st, reasm_fams[d->fam].fails, reasm_fams[d->fam].layer,
                       "reassembly memory above the cap: oldest datagram discarded (J.42)");
        if (d == cur)
            hit = true;
        dgram_destroy(rs, d);
    }
    return hit;
}

/* ---- trace -------------------------------------------------------------------- */

/* A "frag rx" line about one fragment of the datagram k: event kept,
 * duplicate or reassembled, with the datagram's addresses and id. */
static void reasm_trace(struct wskstack *st, const struct reasm_key *k, const char *event,
                        uint32_t len, uint32_t count, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void reasm_trace(struct wskstack *st, const struct reasm_key *k, const char *event,
                        uint32_t len, uint32_t count, const char *fmt, ...)
{
    char s[TRACE_IP_LEN], d[TRACE_IP_LEN], msg[160];
    bool v4 = k->src.af == IPA_V4;
    struct trace_fields f = {.src = ip_addr_str(&k->src, s, sizeof s),
                             .dst = ip_addr_str(&k->dst, d, sizeof d),
                             .rfc = v4 ? "RFC 791" : "RFC 8200 §4.5", .id = TNUM(k->id),
                             .len = TNUM(len), .count = count ? TNUM(count) : 0};
    if (v4)
        f.proto = TNUM(k->proto);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trace_event(st, TL_FRAG, TD_RX, event, &f, "%s fragment of id %u from %s to %s: %s (%s)",
                v4 ? "IPv4" : "IPv6", k->id, s, d, msg, f.rfc);
}

/* ---- add ---------------------------------------------------------------------- */
int reasm_add(struct wskstack *st, const struct reasm_key *k, uint32_t offset, bool more,
              const uint8_t *data, size_t len, const uint8_t *first_hdr, size_t first_hdr_len,
              uint64_t now, struct pkt **out)
{
    struct reasm_state *rs = st->reasm;
    const struct reasm_fam *fm = &reasm_fams[key_fam(k)];
    *out = NULL;
    atomic_fetch_add_explicit(&st->cnt[fm->reqds], 1, memory_order_relaxed);

    /* Checks on the fragment alone: the datagram is not touched. */
    if (len == 0)
        return frag_fail(st, fm, REASM_EEMPTY,
                         "zero-length fragment (BAD-INPUT D.19; FreeBSD frag6/ip_reass)");
    if ((offset & 7) || (more && (len & 7)))
        return frag_fail(st, fm, REASM_EBADLEN,
                         "non-final fragment not a multiple of 8 bytes (RFC 8200 §4.5, RFC 791)");
    size_t hcount = first_hdr_len > fm->hdr_uncounted ? first_hdr_len - fm->hdr_uncounted : 0;
    if ((uint64_t)offset + len + hcount > REASM_MAX_LEN)
        return frag_fail(st, fm, REASM_ETOOBIG,
                         "reassembled datagram would exceed 65535 bytes (RFC 791, RFC 8200 §4.5)");
    uint32_t end = offset + (uint32_t)len;

    unsigned bucket;
    struct reasm_dgram *d = dgram_find(rs, k, &bucket);
    if (d && d->dead)
        return frag_fail(st, fm, REASM_EDEAD,
                         "fragment of a datagram already discarded (RFC 5722 §4)");
    if (!d) {
        d = dgram_new(rs, k, bucket, now);
        if (!d)
            return frag_fail(st, fm, REASM_ENOMEM, "out of memory for a new datagram");
    }

    /* The end of the datagram (RFC 791 §3.2: the fragment with MF=0). */
    if (!more) {
        if (d->last_seen && end != d->end)
            return dgram_kill(st, d, REASM_EBEYOND, "two different last fragments (V4)");
        if (end < d->max_end)
            return dgram_kill(st, d, REASM_EBEYOND, "data beyond the last fragment (V4)");
    } else if (d->last_seen && end >= d->end) {
        return dgram_kill(st, d, REASM_EBEYOND, "MF=1 fragment at or after the end (V4)");
    }

    /* Place it: prev ends before it starts, cur starts at or after it. */
    struct reasm_frag **pp = &d->frags, *prev = NULL;
    while (*pp && (*pp)->off < offset) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    struct reasm_frag *cur = *pp;
    if (cur && cur->off == offset && cur->len == len && cur->more == more &&
        memcmp(cur->data, data, len) == 0) {
        /* BAD-INPUT D.17: an exact duplicate is not an overlap. */
        if (stack_trace_on(st, TRACE_FRAG))
            reasm_trace(st, k, "duplicate", (uint32_t)len, 0,
                        "offset %u, %u bytes: an exact duplicate, ignored (BAD-INPUT D.17)",
                        offset, (uint32_t)len);
        return REASM_KEPT;
    }
    if ((prev && prev->off + prev->len > offset) || (cur && end > cur->off))
        return dgram_kill(st, d, REASM_EOVERLAP,
                          "overlapping fragments: datagram discarded (RFC 5722 §4, D.18)");
    if (d->nfrags >= REASM_MAX_FRAGS)
        return dgram_kill(st, d, REASM_ETOOMANY,
                          "more than 64 fragments in one datagram (J.42, OpenBSD)");

    struct reasm_frag *f = malloc(sizeof *f + len);
    uint8_t *hdr = NULL;
    if (f && offset == 0 && first_hdr_len) {
        hdr = malloc(first_hdr_len);
        if (!hdr) {
            free(f);
            f = NULL;
        }
    }
    if (!f) {
        dgram_destroy(rs, d);
        return frag_fail(st, fm, REASM_ENOMEM, "out of memory for a fragment");
    }
    f->off = offset;
    f->len = (uint32_t)len;
    f->more = more;
    memcpy(f->data, data, len);
    f->next = cur;
    *pp = f;
    size_t charge = sizeof *f + len;
    if (offset == 0) {
        if (first_hdr_len)
            memcpy(hdr, first_hdr, first_hdr_len);
        d->hdr = hdr;
        d->hdr_len = (uint32_t)first_hdr_len;
        charge += first_hdr_len;
    }
    d->mem += charge;
    rs->mem += charge;
    d->nfrags++;
    d->have += (uint32_t)len;
    if (end > d->max_end)
        d->max_end = end;
    if (!more) {
        d->last_seen = true;
        d->end = end;
    }

    if (rs->mem > REASM_MEM_HIGH && reasm_evict(st, d))
        return REASM_ENOMEM;   /* the eviction was the (counted) failure */

    if (!d->last_seen || d->have != d->end) {
        if (stack_trace_on(st, TRACE_FRAG))
            reasm_trace(st, k, "kept", (uint32_t)len, d->nfrags,
                        more ? "offset %u, %u bytes, more follow: kept, waiting for the rest"
                             : "offset %u, %u bytes, the last: kept, waiting for the rest",
                        offset, (uint32_t)len);
        return REASM_KEPT;
    }

    /* Complete.  Fragment 0's header may be longer than the one each
     * fragment was checked with (IPv4 options are only in the first). */
    size_t h0 = d->hdr_len > fm->hdr_uncounted ? d->hdr_len - fm->hdr_uncounted : 0;
    if ((uint64_t)d->end + h0 > REASM_MAX_LEN)
        return dgram_kill(st, d, REASM_ETOOBIG,
                          "reassembled datagram exceeds 65535 bytes (RFC 791, RFC 8200 §4.5)");
    struct pkt *p = pkt_alloc(st, d->hdr_len + d->end);
    if (!p) {
        dgram_destroy(rs, d);
        return frag_fail(st, fm, REASM_ENOMEM, "no packet buffer for the reassembled datagram");
    }
    uint8_t *b = pkt_data(p);
    if (d->hdr_len)
        memcpy(b, d->hdr, d->hdr_len);
    for (struct reasm_frag *g = d->frags; g; g = g->next)
        memcpy(b + d->hdr_len + g->off, g->data, g->len);
    p->len = d->hdr_len + d->end;
    p->ts = now;
    uint32_t nfrags = d->nfrags;
    dgram_destroy(rs, d);
    atomic_fetch_add_explicit(&st->cnt[fm->oks], 1, memory_order_relaxed);
    if (stack_trace_on(st, TRACE_FRAG))
        reasm_trace(st, k, "reassembled", p->len, nfrags,
                    "the datagram is complete: %u fragments, %u bytes with its header", nfrags,
                    p->len);
    *out = p;
    return REASM_DONE;
}

/* ---- timers ------------------------------------------------------------------- */
void reasm_timer(struct wskstack *st, uint64_t now, reasm_expired_fn fn)
{
    struct reasm_state *rs = st->reasm;
    for (unsigned fi = 0; fi < 2; fi++) {
        const struct reasm_fam *fm = &reasm_fams[fi];
        struct reasm_dgram *d;
        while ((d = rs->age[fi].oldest) && d->expires <= now) {
            if (!d->dead) {
                /* RFC 1122 §3.3.2 / RFC 8200 §4.5: abandon the datagram;
                 * Linux ip_expire counts it as a failure and a timeout. */
                atomic_fetch_add_explicit(&st->cnt[fm->fails], 1, memory_order_relaxed);
                stack_drop(st, fm->timeout, fm->layer,
                           "reassembly timeout (RFC 1122 §3.3.2, RFC 8200 §4.5, D.20)");
                /* Time Exceeded only if fragment 0 was received (RFC 792,
                 * RFC 8200 §4.5): the caller builds and sends it. */
                if (fn && d->frags && d->frags->off == 0) {
                    struct reasm_key key = d->key;
                    struct reasm_expired e = {
                        .key = &key, .hdr = d->hdr, .hdr_len = d->hdr_len,
                        .data = d->frags->data, .data_len = d->frags->len,
                    };
                    /* Unlink first so fn sees a consistent engine; free
                     * after fn returns. */
                    struct reasm_frag *keep = d->frags;
                    uint8_t *keep_hdr = d->hdr;
                    d->frags = keep->next;
                    d->hdr = NULL;
                    size_t kc = sizeof *keep + keep->len + d->hdr_len;
                    d->mem -= kc;
                    rs->mem -= kc;
                    dgram_destroy(rs, d);
                    fn(st, &e, now);
                    free(keep);
                    free(keep_hdr);
                    continue;
                }
            }
            dgram_destroy(rs, d);
        }
    }
}

uint64_t reasm_next_timer(struct wskstack *st, uint64_t now)
{
    struct reasm_state *rs = st->reasm;
    uint64_t next = UINT64_MAX;
    for (unsigned fi = 0; fi < 2; fi++)
        if (rs->age[fi].oldest && rs->age[fi].oldest->expires < next)
            next = rs->age[fi].oldest->expires;
    if (next == UINT64_MAX)
        return UINT64_MAX;
    return next <= now ? 0 : next - now;
}
