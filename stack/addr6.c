/* SPDX-License-Identifier: MIT */
/*
 * addr6.c - the IPv6 address table of a stack (ipv6_impl.h):
 *
 *   - the link-local address fe80::/64 + the Modified EUI-64 interface
 *     identifier of the MAC (RFC 4291 App. A, RFC 4862 §5.3, RFC 2464 §5);
 *   - every IPv6 addr= of the configuration (origin MANUAL);
 *   - Duplicate Address Detection for all of them (RFC 4862 §5.4);
 *   - stateless autoconfiguration from Prefix Information options
 *     (RFC 4862 §5.5.3) with preferred/valid lifetimes (§5.5.4);
 *   - the multicast groups the host listens to (§5.4.2);
 *   - source address selection (RFC 6724 §5) with the default policy table
 *     (§2.1): rfc6724_select() is the pure core, addr6_select_source() only
 *     gathers the candidates.
 *
 * Address states (RFC 4862 §2):
 *
 *     addr6_init / RA prefix
 *            |
 *        TENTATIVE --(NS from :: or NA for it: addr6_dad_conflict)--> DUPLICATE
 *            |  (RetransTimer after the last probe, no conflict)
 *            v
 *        PREFERRED --(preferred lifetime ends)--> DEPRECATED
 *            ^                                         |
 *            +------(RA renews the preferred lifetime)-+
 *     any state --(valid lifetime ends)--> removed from the table
 *
 * Interface identifiers: EUI-64 from the MAC for the link-local and the SLAAC
 * addresses.  RFC 7217 (a stable, opaque identifier hashed from the prefix, the
 * interface and a secret) is the privacy-friendlier alternative that RFC 8064
 * recommends; it is not implemented: the EUI-64 identifiers keep the
 * addresses predictable, which is what a test lab wants.
 *
 * Choices (README):
 *   - DupAddrDetectTransmits = 1, RetransTimer = 1 s (RFC 4862 §5.1,
 *     RFC 4861 §10): one probe, then PREFERRED one second later.
 *   - The first probes after addr6_start() wait one random delay in
 *     [0, MAX_RTR_SOLICITATION_DELAY = 1 s) (RFC 4862 §5.4.2), drawn from a
 *     per-stack generator seeded by getrandom(); addr6_set_seed() makes it
 *     deterministic, and seed 0 means "no delay" (tests).  Addresses formed
 *     later (SLAAC) are not the first message after (re)initialization: they
 *     are probed at once.
 *   - No MLD reports are sent when joining groups (RFC 4862 §5.4.2 asks for
 *     them; a TAP link has no snooping switch that would need them).
 *   - A looped-back copy of our own probe cannot arrive: eth.c drops frames
 *     with our source MAC, so any NS/NA for a tentative address is another
 *     node's (RFC 4862 §5.4.3 note, RFC 7527 not needed).
 *   - When the link-local address is a duplicate, IPv6 is disabled on the
 *     interface (RFC 4862 §5.4.5 SHOULD): no probes, no SLAAC, no source
 *     address, no address is "usable" any more.
 *   - At most ADDR6_MAX addresses (link-local + manual + SLAAC); further
 *     prefixes are ignored with a trace line.
 *   - RFC 6724 rule 5.5 (prefer a prefix advertised by the next hop) is not
 *     applied (it is optional: "SHOULD ... when the information is
 *     available"); rules 4 (home address, no Mobile IPv6), 5 (outgoing
 *     interface, there is one) and 7 (temporary addresses, none: no RFC 8981)
 *     are kept in the numbering but can never decide.
 *
 * Locking: the table has its own mutex, a LEAF lock like the packet pool's
 * (stack.h CONCURRENCY MODEL): every addr6_* function may be called with or
 * without st->lock, because none of them takes st->lock.  Only
 * addr6_start() and addr6_timer() call out of this file (nd_send_dad_ns,
 * nd_start: they send frames) and they do it after dropping the table lock,
 * so they must be called WITHOUT st->lock.  addr6_ra_prefix() and
 * addr6_dad_conflict() never send: a new address's probe goes out on the
 * next addr6_timer() run (addr6_next_timer() then returns 0).
 */
#include "stack/ipv6_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define NS_PER_S 1000000000ull
#define ADDR6_MAX STACK_MAX_ADDRS
/* RFC 4862 §5.1: DupAddrDetectTransmits, default 1. */
#define ADDR6_DAD_TRANSMITS 1
/* RFC 4861 §10: RETRANS_TIMER 1,000 ms: the wait after the last probe. */
#define ADDR6_RETRANS_NS (1 * NS_PER_S)
/* RFC 4861 §10: MAX_RTR_SOLICITATION_DELAY 1 s (RFC 4862 §5.4.2). */
#define ADDR6_MAX_DELAY_NS (1 * NS_PER_S)
/* RFC 4862 §5.5.3 e): the two hours below which an RA cannot shorten the
 * valid lifetime of an existing address. */
#define ADDR6_TWO_HOURS_NS (2 * 3600 * NS_PER_S)
/* RFC 4861 §4.6.2: all ones = infinity. */
#define ADDR6_LIFETIME_INFINITE_S 0xffffffffu
#define ADDR6_NEVER UINT64_MAX
/* RFC 4291 §2.5.1, RFC 2464 §4: 64-bit interface identifiers on Ethernet. */
#define ADDR6_IID_BITS 64

struct addr6 {
    uint8_t a[16];
    uint8_t plen;
    enum addr6_state state;
    enum addr6_origin origin;
    bool dad_running;         /* DAD started (addr6_start or later) */
    unsigned probes_left;     /* DAD NS still to send */
    uint64_t dad_at;          /* when dad_running: next probe, or the end */
    uint64_t preferred_until; /* absolute ns, ADDR6_NEVER = infinite */
    uint64_t valid_until;
};

struct addr6_table {
    pthread_mutex_t lock;     /* leaf lock: see the top of the file */
    struct addr6 tab[ADDR6_MAX]; /* in order of creation: RFC 6724 ties */
    unsigned n;
    bool slaac;               /* slaac=on (default) */
    bool started;             /* addr6_start() ran: new addresses probe at once */
    bool disabled;            /* link-local duplicate (RFC 4862 §5.4.5) */
    bool rs_started;          /* nd_start() was called */
    uint64_t rng;             /* splitmix64 state */
    bool jitter;              /* random start delay (seed != 0) */
};

/* ---- small helpers --------------------------------------------------------- */

static const char *a6str(const uint8_t a[16], char *buf, size_t len)
{
    struct ip_addr ip = {.af = IPA_V6};
    memcpy(ip.v6, a, 16);
    return ip_addr_str(&ip, buf, len);
}

/* splitmix64 (Steele, Lea, Flood 2014): small, good enough for a delay. */
static uint64_t addr6_rand(struct addr6_table *t)
{
    uint64_t z = (t->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t lifetime_end(uint32_t s, uint64_t now)
{
    if (s == ADDR6_LIFETIME_INFINITE_S)
        return ADDR6_NEVER;
    return now + (uint64_t)s * NS_PER_S; /* < 2^63: no overflow for a sane clock */
}

/* Number of leading bits a and b have in common (0..128). */
static unsigned common_prefix_len(const uint8_t a[16], const uint8_t b[16])
{
    unsigned n = 0;
    for (unsigned i = 0; i < 16; i++) {
        uint8_t x = a[i] ^ b[i];
        if (x == 0) {
            n += 8;
            continue;
        }
        while (!(x & 0x80)) {
            n++;
            x = (uint8_t)(x << 1);
        }
        break;
    }
    return n;
}

static int find(const struct addr6_table *t, const uint8_t a[16])
{
    for (unsigned i = 0; i < t->n; i++)
        if (memcmp(t->tab[i].a, a, 16) == 0)
            return (int)i;
    return -1;
}

/* Usable as a source / as "ours" for input: assigned (RFC 4862 §2: a
 * tentative address is not), not a duplicate, IPv6 not disabled. */
static bool usable(const struct addr6_table *t, const struct addr6 *e)
{
    return !t->disabled && (e->state == ADDR6_PREFERRED || e->state == ADDR6_DEPRECATED);
}

static struct addr6 *add(struct addr6_table *t, const uint8_t a[16], uint8_t plen,
                         enum addr6_origin origin)
{
    if (t->n == ADDR6_MAX)
        return NULL;
    struct addr6 *e = &t->tab[t->n++];
    memset(e, 0, sizeof *e);
    memcpy(e->a, a, 16);
    e->plen = plen;
    e->origin = origin;
    e->state = ADDR6_TENTATIVE;
    e->preferred_until = ADDR6_NEVER;
    e->valid_until = ADDR6_NEVER;
    return e;
}

static void dad_begin(struct addr6 *e, uint64_t at)
{
    e->dad_running = true;
    e->probes_left = ADDR6_DAD_TRANSMITS;
    e->dad_at = at;
}

/* ---- lifecycle ------------------------------------------------------------------ */

int addr6_init(struct wskstack *st, const struct wskstack_config *cfg)
{
    struct addr6_table *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return -ENOMEM;
    }
    t->slaac = !(cfg && cfg->slaac_off);
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)t;
    }
    t->rng = seed;
    t->jitter = true;

    /* RFC 4862 §5.3: the link-local address, fe80::/64 + interface
     * identifier, formed when the interface becomes enabled.  The
     * identifier is the Modified EUI-64 of the MAC (RFC 4291 App. A);
     * RFC 7217 stable opaque identifiers would be the alternative. */
    uint8_t ll[16];
    ipv6_link_local_from_mac(st->mac, ll);
    add(t, ll, 64, ADDR6_LINKLOCAL);

    char buf[INET6_ADDRSTRLEN];
    for (unsigned i = 0; cfg && i < cfg->n_addrs && i < CFG_MAX_ADDRS; i++) {
        const struct cfg_prefix *c = &cfg->addrs[i];
        if (c->addr.af != IPA_V6)
            continue;
        if (find(t, c->addr.v6) >= 0) {
            TRACE_F(st, TL_IPV6, TD_NONE, "addr",
                    (&(struct trace_fields){.src = a6str(c->addr.v6, buf, sizeof buf),
                                            .rule = "duplicate"}),
                    "addr=%s/%u given twice (or is the link-local): kept once", buf, c->plen);
            continue;
        }
        /* RFC 4862 §5.4: DAD runs on every unicast address, manual ones too. */
        if (!add(t, c->addr.v6, c->plen, ADDR6_MANUAL)) {
            TRACE_F(st, TL_IPV6, TD_NONE, "addr",
                    (&(struct trace_fields){.src = a6str(c->addr.v6, buf, sizeof buf),
                                            .rule = "full"}),
                    "addr=%s/%u ignored: at most %d IPv6 addresses", buf, c->plen, ADDR6_MAX);
            break;
        }
    }
    st->addr6 = t;
    return 0;
}

void addr6_fini(struct wskstack *st)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
    st->addr6 = NULL;
}

void addr6_set_seed(struct wskstack *st, uint64_t seed)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->rng = seed;
    t->jitter = seed != 0;
    pthread_mutex_unlock(&t->lock);
}

void addr6_start(struct wskstack *st, uint64_t now)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    if (!t->started && !t->disabled) {
        t->started = true;
        /* RFC 4862 §5.4.2: the first NS after (re)initialization waits a
         * random delay in [0, MAX_RTR_SOLICITATION_DELAY). */
        uint64_t delay = t->jitter ? addr6_rand(t) % ADDR6_MAX_DELAY_NS : 0;
        for (unsigned i = 0; i < t->n; i++) {
            struct addr6 *e = &t->tab[i];
            if (e->state == ADDR6_TENTATIVE && !e->dad_running)
                dad_begin(e, now + delay);
        }
        TRACE_F(st, TL_IPV6, TD_NONE, "dad", (&(struct trace_fields){.count = TNUM(t->n)}),
                "DAD for %u address(es) in %llu ms (RFC 4862 §5.4.2)", t->n,
                (unsigned long long)(delay / 1000000));
    }
    pthread_mutex_unlock(&t->lock);
    addr6_timer(st, now); /* the probes due now (link-local first) */
}

/* ---- timers ------------------------------------------------------------------------ */

void addr6_timer(struct wskstack *st, uint64_t now)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return;
    uint8_t probe[ADDR6_MAX][16];
    unsigned n_probe = 0;
    bool start_nd = false;
    char buf[INET6_ADDRSTRLEN];

    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->n;) {
        struct addr6 *e = &t->tab[i];
        /* RFC 4862 §5.5.4: past the valid lifetime the address is gone
         * (whatever its state: a tentative one too). */
        if (e->valid_until != ADDR6_NEVER && now >= e->valid_until) {
            TRACE_F(st, TL_IPV6, TD_NONE, "addr",
                    (&(struct trace_fields){.src = a6str(e->a, buf, sizeof buf),
                                            .to = "removed"}),
                    "%s: valid lifetime ended, removed (RFC 4862 §5.5.4)", buf);
            memmove(e, e + 1, (t->n - i - 1) * sizeof *e);
            t->n--;
            continue;
        }
        if (e->state == ADDR6_TENTATIVE && e->dad_running && now >= e->dad_at) {
            if (e->probes_left > 0) {
                /* RFC 4862 §5.4.2: one NS per RetransTimer. */
                e->probes_left--;
                e->dad_at = now + ADDR6_RETRANS_NS;
                memcpy(probe[n_probe++], e->a, 16);
            } else {
                /* RFC 4862 §5.4.3-5.4.4: RetransTimer passed after the last
                 * probe with no conflict: the address is unique and
                 * assigned.  An SLAAC address whose preferred lifetime
                 * already ended is assigned deprecated (§5.5.4). */
                e->dad_running = false;
                e->state = now >= e->preferred_until ? ADDR6_DEPRECATED : ADDR6_PREFERRED;
                if (stack_trace_on(st, TRACE_IPV6)) {
                    const char *to = e->state == ADDR6_PREFERRED ? "preferred" : "deprecated";
                    struct trace_fields f = {.src = a6str(e->a, buf, sizeof buf),
                                             .from = "tentative", .to = to};
                    trace_event(st, TL_IPV6, TD_NONE, "dad", &f,
                                "DAD: %s is unique, now %s (RFC 4862 §5.4)", buf, to);
                }
                /* RFC 4861 §6.3.7: Router Solicitations once the
                 * link-local address can be their source. */
                if (e->origin == ADDR6_LINKLOCAL && !t->rs_started) {
                    t->rs_started = true;
                    start_nd = true;
                }
            }
        }
        if (e->state == ADDR6_PREFERRED && now >= e->preferred_until) {
            /* RFC 4862 §5.5.4: preferred lifetime over -> deprecated. */
            e->state = ADDR6_DEPRECATED;
            TRACE_F(st, TL_IPV6, TD_NONE, "addr",
                    (&(struct trace_fields){.src = a6str(e->a, buf, sizeof buf),
                                            .from = "preferred", .to = "deprecated"}),
                    "%s: preferred lifetime ended, deprecated (RFC 4862 §5.5.4)", buf);
        }
        i++;
    }
    pthread_mutex_unlock(&t->lock);

    /* Out of the lock: nd.c builds and sends the probe (it may ask us
     * addr6_is_joined / addr6_select_source on the way). */
    for (unsigned i = 0; i < n_probe; i++) {
        TRACE_F(st, TL_IPV6, TD_TX, "dad",
                (&(struct trace_fields){.target = a6str(probe[i], buf, sizeof buf)}),
                "DAD: probing %s (NS from ::, RFC 4862 §5.4.2)", buf);
        int rc = nd_send_dad_ns(st, probe[i], now);
        if (rc < 0)
            TRACE_F(st, TL_IPV6, TD_TX, "dad",
                    (&(struct trace_fields){.target = a6str(probe[i], buf, sizeof buf)}),
                    "DAD: probe for %s not sent (%d): the timer still runs", buf, rc);
    }
    if (start_nd)
        nd_start(st, now);
}

uint64_t addr6_next_timer(struct wskstack *st, uint64_t now)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return UINT64_MAX;
    uint64_t next = UINT64_MAX;
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->n; i++) {
        const struct addr6 *e = &t->tab[i];
        if (e->state == ADDR6_TENTATIVE && e->dad_running && e->dad_at < next)
            next = e->dad_at;
        if (e->state == ADDR6_PREFERRED && e->preferred_until < next)
            next = e->preferred_until;
        if (e->valid_until < next)
            next = e->valid_until;
    }
    pthread_mutex_unlock(&t->lock);
    if (next == UINT64_MAX)
        return UINT64_MAX;
    return next <= now ? 0 : next - now;
}

/* ---- queries ----------------------------------------------------------------------- */

bool addr6_is_local(struct wskstack *st, const uint8_t a[16], bool usable_only)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return false;
    pthread_mutex_lock(&t->lock);
    int i = find(t, a);
    bool r = false;
    if (i >= 0) {
        const struct addr6 *e = &t->tab[i];
        /* A duplicate is not ours at all (RFC 4862 §5.4.5); a tentative
         * one only for DAD (§5.4.3: nd.c must know it). */
        if (usable_only)
            r = usable(t, e);
        else
            r = e->state != ADDR6_DUPLICATE;
    }
    pthread_mutex_unlock(&t->lock);
    return r;
}

bool addr6_is_joined(struct wskstack *st, const uint8_t group[16])
{
    static const uint8_t all_nodes[16] = IPV6_ADDR_ALL_NODES;
    /* RFC 4291 §2.8: every node listens to ff02::1. */
    if (memcmp(group, all_nodes, 16) == 0)
        return true;
    struct addr6_table *t = st->addr6;
    if (!t || !ipv6_is_solicited_node(group))
        return false;
    bool r = false;
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->n && !r; i++) {
        /* RFC 4862 §5.4.2: the solicited-node group of a TENTATIVE address
         * is joined before its probe (to hear another node's DAD NS);
         * RFC 4291 §2.8: and of every assigned one. */
        if (t->tab[i].state == ADDR6_DUPLICATE)
            continue;
        uint8_t sn[16];
        ipv6_solicited_node(t->tab[i].a, sn);
        r = memcmp(sn, group, 16) == 0;
    }
    pthread_mutex_unlock(&t->lock);
    return r;
}

bool addr6_get(struct wskstack *st, unsigned i, uint8_t a[16], uint8_t *plen,
               enum addr6_state *state, enum addr6_origin *origin)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return false;
    pthread_mutex_lock(&t->lock);
    bool r = i < t->n;
    if (r) {
        const struct addr6 *e = &t->tab[i];
        if (a)
            memcpy(a, e->a, 16);
        if (plen)
            *plen = e->plen;
        if (state)
            *state = e->state;
        if (origin)
            *origin = e->origin;
    }
    pthread_mutex_unlock(&t->lock);
    return r;
}

/* ---- DAD input ------------------------------------------------------------------------ */

void addr6_dad_conflict(struct wskstack *st, const uint8_t target[16], bool from_na, uint64_t now)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return;
    (void)now;
    char buf[INET6_ADDRSTRLEN];
    a6str(target, buf, sizeof buf);
    pthread_mutex_lock(&t->lock);
    int i = find(t, target);
    if (i < 0 || t->tab[i].state != ADDR6_TENTATIVE) {
        /* RFC 4862 §5.4.4: an NA for an address already assigned is
         * "possibly" a duplicate that DAD missed: no recovery is defined.
         * An NS from :: for it is the other node's DAD, which nd.c answers
         * (§5.4.3) - nothing changes here. */
        pthread_mutex_unlock(&t->lock);
        TRACE_F(st, TL_IPV6, TD_RX, "dad", (&(struct trace_fields){.target = buf}),
                "DAD: %s for %s ignored: not a tentative address of ours",
                from_na ? "NA" : "NS from ::", buf);
        return;
    }
    struct addr6 *e = &t->tab[i];
    /* RFC 4862 §5.4.3 (NS from :: = someone else probing it) and §5.4.4 (NA
     * = someone owns it): the tentative address is a duplicate; §5.4.5: it
     * is not assigned and never used. */
    e->state = ADDR6_DUPLICATE;
    e->dad_running = false;
    CNT_INC(st, NdDadConflicts);
    if (stack_trace_on(st, TRACE_IPV6)) {
        /* One line: the verdict and the message that proved it. */
        const char *rfc = from_na ? "RFC 4862 §5.4.4" : "RFC 4862 §5.4.3";
        struct trace_fields f = {.rfc = rfc, .src = buf, .from = "tentative", .to = "duplicate"};
        trace_event(st, TL_IPV6, TD_RX, "dad", &f,
                    "DAD: %s is a duplicate, %s from another node claims it (%s, §5.4.5)", buf,
                    from_na ? "an NA" : "an NS from ::", rfc);
    }
    if (e->origin == ADDR6_LINKLOCAL) {
        /* RFC 4862 §5.4.5: a duplicate link-local address formed from the
         * hardware address means the MAC itself is duplicated: IP operation
         * on the interface SHOULD be disabled. */
        t->disabled = true;
        for (unsigned k = 0; k < t->n; k++)
            t->tab[k].dad_running = false;
        TRACE_F(st, TL_IPV6, TD_NONE, "dad",
                (&(struct trace_fields){.src = buf, .rule = "ipv6 disabled"}),
                "DAD: the link-local address %s is a duplicate: IPv6 is disabled on %s "
                "(RFC 4862 §5.4.5)", buf, st->dev ? st->dev->name : "?");
    }
    pthread_mutex_unlock(&t->lock);
}

/* ---- SLAAC (RFC 4862 §5.5.3) ----------------------------------------------------------- */

/* The "slaac" line of an RA prefix (rx: it came in an RA): rule = what
 * became of it ("ignored", "formed", "updated"), addr = the address. */
#define SLAAC_TRACE(st, pfx, plen, rule_, addr, ...)                                         \
    do {                                                                                      \
        if (stack_trace_on((st), TRACE_IPV6)) {                                               \
            char pfx_[INET6_ADDRSTRLEN + 4];                                                  \
            snprintf(pfx_, sizeof pfx_, "%s/%u", (pfx), (unsigned)(plen));                   \
            struct trace_fields f_ = {.src = (addr), .rule = (rule_), .prefix = pfx_};        \
            trace_event((st), TL_IPV6, TD_RX, "slaac", &f_, __VA_ARGS__);                    \
        }                                                                                     \
    } while (0)

void addr6_ra_prefix(struct wskstack *st, const uint8_t prefix[16], uint8_t plen, bool autonomous,
                     uint32_t valid_s, uint32_t preferred_s, uint64_t now)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return;
    char buf[INET6_ADDRSTRLEN];
    a6str(prefix, buf, sizeof buf);
    /* a) without the Autonomous flag the option is not for SLAAC. */
    if (!autonomous)
        return;
    if (!t->slaac) {
        SLAAC_TRACE(st, buf, plen, "ignored", NULL, "SLAAC: prefix %s/%u ignored: slaac=off", buf,
                    plen);
        return;
    }
    /* b) a link-local prefix is silently ignored. */
    if (ipv6_is_link_local(prefix)) {
        SLAAC_TRACE(st, buf, plen, "ignored", NULL,
                    "SLAAC: prefix %s/%u ignored: link-local (RFC 4862 §5.5.3 b)", buf, plen);
        return;
    }
    /* c) preferred lifetime > valid lifetime: ignored. */
    if (preferred_s > valid_s) {
        SLAAC_TRACE(st, buf, plen, "ignored", NULL,
                    "SLAAC: prefix %s/%u ignored: preferred lifetime %u > valid lifetime %u "
                    "(RFC 4862 §5.5.3 c)", buf, plen, preferred_s, valid_s);
        return;
    }
    /* d) the prefix plus the 64-bit interface identifier must make 128
     * bits (RFC 4862 §5.5.3 d, RFC 2464 §4); an existing SLAAC address has
     * a /64 prefix too, so no other length can match one (e). */
    if (plen != 128 - ADDR6_IID_BITS) {
        SLAAC_TRACE(st, buf, plen, "ignored", NULL,
                    "SLAAC: prefix %s/%u ignored: prefix length + 64-bit interface identifier "
                    "!= 128 (RFC 4862 §5.5.3 d)", buf, plen);
        return;
    }

    pthread_mutex_lock(&t->lock);
    if (t->disabled) {
        pthread_mutex_unlock(&t->lock);
        SLAAC_TRACE(st, buf, plen, "ignored", NULL,
                    "SLAAC: prefix %s/%u ignored: IPv6 disabled (RFC 4862 §5.4.5)", buf, plen);
        return;
    }
    struct addr6 *e = NULL;
    for (unsigned i = 0; i < t->n && !e; i++)
        if (t->tab[i].origin == ADDR6_SLAAC && t->tab[i].plen == plen &&
            common_prefix_len(t->tab[i].a, prefix) >= plen)
            e = &t->tab[i];

    if (e) {
        /* e) an address formed from this prefix: the preferred lifetime is
         * reset; the valid lifetime follows the two-hour rule, which stops
         * a forged RA from killing the address (RFC 4862 §5.5.3 e). */
        e->preferred_until = lifetime_end(preferred_s, now);
        uint64_t remaining = e->valid_until == ADDR6_NEVER ? ADDR6_NEVER
                             : e->valid_until > now        ? e->valid_until - now
                                                           : 0;
        uint64_t received = valid_s == ADDR6_LIFETIME_INFINITE_S ? ADDR6_NEVER
                                                                 : (uint64_t)valid_s * NS_PER_S;
        const char *rule;
        if (received > ADDR6_TWO_HOURS_NS || received > remaining) {
            e->valid_until = lifetime_end(valid_s, now); /* 1. */
            rule = "valid lifetime set (two-hour rule 1)";
        } else if (remaining <= ADDR6_TWO_HOURS_NS) {
            rule = "valid lifetime kept (two-hour rule 2)"; /* 2. ignore it */
        } else {
            e->valid_until = now + ADDR6_TWO_HOURS_NS; /* 3. */
            rule = "valid lifetime cut to two hours (two-hour rule 3)";
        }
        /* RFC 4862 §5.5.4: deprecated while the preferred lifetime is
         * over, preferred again when an RA renews it. */
        if (e->state == ADDR6_DEPRECATED && now < e->preferred_until)
            e->state = ADDR6_PREFERRED;
        else if (e->state == ADDR6_PREFERRED && now >= e->preferred_until)
            e->state = ADDR6_DEPRECATED;
        char abuf[INET6_ADDRSTRLEN];
        SLAAC_TRACE(st, buf, plen, "updated", a6str(e->a, abuf, sizeof abuf),
                    "SLAAC: %s: preferred %u s, %s (RFC 4862 §5.5.3 e)", abuf, preferred_s, rule);
        pthread_mutex_unlock(&t->lock);
        return;
    }

    /* d) a new prefix: with a valid lifetime of 0 nothing is formed. */
    if (valid_s == 0) {
        pthread_mutex_unlock(&t->lock);
        return;
    }
    uint8_t a[16];
    memcpy(a, prefix, 8);
    ipv6_eui64_iid(st->mac, a + 8);
    char abuf[INET6_ADDRSTRLEN];
    a6str(a, abuf, sizeof abuf);
    if (find(t, a) >= 0) {
        /* Already configured by hand (addr=): one copy, the manual one. */
        pthread_mutex_unlock(&t->lock);
        SLAAC_TRACE(st, buf, plen, "ignored", abuf,
                    "SLAAC: %s already configured: prefix %s/%u not used", abuf, buf, plen);
        return;
    }
    e = add(t, a, plen, ADDR6_SLAAC);
    if (!e) {
        pthread_mutex_unlock(&t->lock);
        SLAAC_TRACE(st, buf, plen, "ignored", NULL,
                    "SLAAC: prefix %s/%u ignored: at most %d IPv6 addresses", buf, plen, ADDR6_MAX);
        return;
    }
    e->preferred_until = lifetime_end(preferred_s, now);
    e->valid_until = lifetime_end(valid_s, now);
    /* RFC 4862 §5.4: tentative until DAD says it is unique (§5.5.3 d: "the
     * address is ... subject to DAD").  Before addr6_start() the probe
     * waits for it. */
    if (t->started)
        dad_begin(e, now);
    pthread_mutex_unlock(&t->lock);
    SLAAC_TRACE(st, buf, plen, "formed", abuf,
                "SLAAC: %s/%u formed from prefix %s, tentative, preferred %u s, valid %u s "
                "(RFC 4862 §5.5.3 d)", abuf, plen, buf, preferred_s, valid_s);
}

/* ---- RFC 6724 ------------------------------------------------------------------------------ */

/* RFC 6724 §2.1: the default policy table (longest matching prefix wins). */
static const struct {
    uint8_t prefix[16];
    uint8_t plen, precedence, label;
} rfc6724_policy_table[] = {
    {{[15] = 1}, 128, 50, 0},                            /* ::1/128 */
    {{0}, 0, 40, 1},                                     /* ::/0 */
    {{[10] = 0xff, [11] = 0xff}, 96, 35, 4},             /* ::ffff:0:0/96 */
    {{0x20, 0x02}, 16, 30, 2},                           /* 2002::/16 (6to4) */
    {{0x20, 0x01, 0x00, 0x00}, 32, 5, 5},                /* 2001::/32 (Teredo) */
    {{0xfc}, 7, 3, 13},                                  /* fc00::/7 (ULA) */
    {{0}, 96, 1, 3},                                     /* ::/96 (IPv4-compatible) */
    {{0xfe, 0xc0}, 10, 1, 11},                           /* fec0::/10 (site-local) */
    {{0x3f, 0xfe}, 16, 1, 12},                           /* 3ffe::/16 (6bone) */
};

void rfc6724_policy(const uint8_t a[16], uint8_t *precedence, uint8_t *label)
{
    unsigned best = 1; /* ::/0 always matches */
    for (unsigned i = 0; i < sizeof rfc6724_policy_table / sizeof rfc6724_policy_table[0]; i++) {
        unsigned pl = rfc6724_policy_table[i].plen;
        if (common_prefix_len(a, rfc6724_policy_table[i].prefix) >= pl &&
            pl > rfc6724_policy_table[best].plen)
            best = i;
    }
    if (precedence)
        *precedence = rfc6724_policy_table[best].precedence;
    if (label)
        *label = rfc6724_policy_table[best].label;
}

uint8_t rfc6724_scope(const uint8_t a[16])
{
    /* RFC 6724 §3.1: multicast scope from the address (RFC 4291 §2.7);
     * link-local unicast and the loopback address are link-local scope
     * (RFC 4291 §2.5.3, §2.5.6); site-local fec0::/10 is site scope;
     * everything else (ULA included, RFC 4193 §3) is global. */
    if (ipv6_is_multicast(a))
        return ipv6_mcast_scope(a);
    if (ipv6_is_link_local(a) || ipv6_is_loopback(a))
        return RFC6724_SCOPE_LINK;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return RFC6724_SCOPE_SITE;
    if (ipv6_is_v4mapped(a)) {
        /* §3.2: IPv4 loopback 127/8 and auto-configured 169.254/16 are
         * link-local scope; the rest (private ones too) global. */
        if (a[12] == 127 || (a[12] == 169 && a[13] == 254))
            return RFC6724_SCOPE_LINK;
    }
    return RFC6724_SCOPE_GLOBAL;
}

/* The value of candidate c under rule r (1..8); higher is better.  Every
 * rule of §5 is a "prefer the one with the better X" comparison, so the
 * pairwise rules give the same order as comparing these values. */
static unsigned rule_value(unsigned r, const struct rfc6724_cand *c, const uint8_t dst[16],
                           uint8_t dst_scope, uint8_t dst_label)
{
    switch (r) {
    case RFC6724_RULE1_SAME_ADDRESS:
        /* Rule 1: prefer the source equal to D. */
        return memcmp(c->addr, dst, 16) == 0;
    case RFC6724_RULE2_SCOPE: {
        /* Rule 2: if Scope(SA) < Scope(SB): prefer SB when Scope(SA) <
         * Scope(D), else SA.  I.e. any scope >= Scope(D) beats every
         * smaller one; among those >= Scope(D) the smallest wins, among
         * those below it the largest.  Scopes are 0..15. */
        unsigned s = rfc6724_scope(c->addr);
        return s >= dst_scope ? 32 - (s - dst_scope) : s;
    }
    case RFC6724_RULE3_DEPRECATED:
        /* Rule 3: avoid deprecated addresses (RFC 4862 sense). */
        return !c->deprecated;
    case RFC6724_RULE4_HOME:
        /* Rule 4: prefer home addresses: no Mobile IPv6 here, no address is
         * a home or care-of address: all equal. */
        return 0;
    case RFC6724_RULE5_INTERFACE:
        /* Rule 5: prefer the outgoing interface: a stack has one, every
         * candidate is assigned to it.  (Rule 5.5, prefix advertised by the
         * next hop, is optional and not applied.) */
        return 0;
    case RFC6724_RULE6_LABEL: {
        /* Rule 6: prefer Label(S) == Label(D) (policy table §2.1). */
        uint8_t l;
        rfc6724_policy(c->addr, NULL, &l);
        return l == dst_label;
    }
    case RFC6724_RULE7_TEMPORARY:
        /* Rule 7: prefer temporary addresses (RFC 8981): none exist here. */
        return 0;
    case RFC6724_RULE8_LONGEST_PREFIX: {
        /* Rule 8: longest matching prefix, CommonPrefixLen(S, D) counted
         * "up to the length of S's prefix" (its interface ID excluded). */
        unsigned n = common_prefix_len(c->addr, dst);
        return n < c->plen ? n : c->plen;
    }
    default:
        return 0;
    }
}

int rfc6724_select(const struct rfc6724_cand *c, unsigned n, const uint8_t dst[16],
                   unsigned *chosen)
{
    if (n == 0)
        return -EADDRNOTAVAIL;
    if (n == 1) {
        *chosen = 0;
        return RFC6724_ONLY_CANDIDATE;
    }
    uint8_t dst_scope = rfc6724_scope(dst), dst_label;
    rfc6724_policy(dst, NULL, &dst_label);
    /* RFC 6724 §5: the rules apply in order, each one only among the
     * candidates the earlier rules could not tell apart.  best[r] is the
     * best value of rule r among those still in; a candidate is still in at
     * rule r if it has the best value of every earlier rule.  The rule after
     * which one candidate is left is the rule that decided. */
    unsigned best[RFC6724_RULE8_LONGEST_PREFIX + 1] = {0};
    for (unsigned r = RFC6724_RULE1_SAME_ADDRESS; r <= RFC6724_RULE8_LONGEST_PREFIX; r++) {
        unsigned count = 0, first = 0;
        for (unsigned i = 0; i < n; i++) {
            bool in = true;
            for (unsigned q = RFC6724_RULE1_SAME_ADDRESS; q < r && in; q++)
                in = rule_value(q, &c[i], dst, dst_scope, dst_label) == best[q];
            if (!in)
                continue;
            unsigned v = rule_value(r, &c[i], dst, dst_scope, dst_label);
            if (count == 0 || v > best[r]) {
                best[r] = v;
                count = 1;
                first = i;
            } else if (v == best[r]) {
                count++;
            }
        }
        if (count == 1) {
            *chosen = first;
            return (int)r;
        }
    }
    /* §5: "If the eight rules fail to choose a single address, some unspecified
     * tie-breaker should be used": the first in configuration order. */
    for (unsigned i = 0; i < n; i++) {
        bool in = true;
        for (unsigned q = RFC6724_RULE1_SAME_ADDRESS; q <= RFC6724_RULE8_LONGEST_PREFIX && in; q++)
            in = rule_value(q, &c[i], dst, dst_scope, dst_label) == best[q];
        if (in) {
            *chosen = i;
            break;
        }
    }
    return RFC6724_TIE;
}

int addr6_select_source(struct wskstack *st, const uint8_t dst[16], uint8_t src[16],
                        enum rfc6724_rule *rule)
{
    struct addr6_table *t = st->addr6;
    if (!t)
        return -EADDRNOTAVAIL;
    /* RFC 6724 §4: the candidates are the unicast addresses assigned to the
     * outgoing interface (the only one: link-local and multicast
     * destinations need no further filter); tentative and duplicate
     * addresses are not assigned (RFC 4862 §5.4), deprecated ones are, and
     * rule 3 avoids them. */
    struct rfc6724_cand c[ADDR6_MAX];
    unsigned n = 0;
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->n; i++) {
        const struct addr6 *e = &t->tab[i];
        if (!usable(t, e))
            continue;
        memcpy(c[n].addr, e->a, 16);
        c[n].plen = e->plen;
        c[n].deprecated = e->state == ADDR6_DEPRECATED;
        n++;
    }
    pthread_mutex_unlock(&t->lock);
    unsigned k = 0;
    int r = rfc6724_select(c, n, dst, &k);
    char dbuf[INET6_ADDRSTRLEN], sbuf[INET6_ADDRSTRLEN];
    if (r < 0) {
        if (stack_trace_on(st, TRACE_IPV6)) {
            struct trace_fields f = {.dst = a6str(dst, dbuf, sizeof dbuf)};
            trace_event(st, TL_IPV6, TD_TX, "source", &f,
                        "source for %s: no usable IPv6 address (RFC 6724 §4)", dbuf);
        }
        return -EADDRNOTAVAIL;
    }
    memcpy(src, c[k].addr, 16);
    if (rule)
        *rule = (enum rfc6724_rule)r;
    if (stack_trace_on(st, TRACE_IPV6)) {
        char rb[16];
        snprintf(rb, sizeof rb, "%d", r);
        struct trace_fields f = {.dst = a6str(dst, dbuf, sizeof dbuf),
                                 .src = a6str(src, sbuf, sizeof sbuf), .rule = rb,
                                 .rfc = "RFC 6724 §5"};
        trace_event(st, TL_IPV6, TD_TX, "source", &f, "source for %s: %s (%s)", dbuf, sbuf,
                    rfc6724_rule_str((enum rfc6724_rule)r));
    }
    return 0;
}

const char *rfc6724_rule_str(enum rfc6724_rule r)
{
    switch (r) {
    case RFC6724_ONLY_CANDIDATE: return "the only candidate";
    case RFC6724_RULE1_SAME_ADDRESS: return "RFC 6724 rule 1: same address";
    case RFC6724_RULE2_SCOPE: return "RFC 6724 rule 2: appropriate scope";
    case RFC6724_RULE3_DEPRECATED: return "RFC 6724 rule 3: avoid deprecated";
    case RFC6724_RULE4_HOME: return "RFC 6724 rule 4: home address";
    case RFC6724_RULE5_INTERFACE: return "RFC 6724 rule 5: outgoing interface";
    case RFC6724_RULE6_LABEL: return "RFC 6724 rule 6: matching label";
    case RFC6724_RULE7_TEMPORARY: return "RFC 6724 rule 7: temporary address";
    case RFC6724_RULE8_LONGEST_PREFIX: return "RFC 6724 rule 8: longest matching prefix";
    case RFC6724_TIE: return "RFC 6724: all rules equal, first configured";
    }
    return "?";
}
