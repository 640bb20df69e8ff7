/* SPDX-License-Identifier: MIT */
/*
 * stack.c - a stack instance: creation on a device, the receive thread, the
 * clock, and the public lifecycle (wskstack_create/destroy).
 *
 * The receive thread (stack.h CONCURRENCY MODEL) loops:
 *   poll(device fd + wake_fd, timeout = time to the next neighbour or
 *        reassembly timer, at most 1 s)
 *   read up to RX_BATCH frames per dev_recv() into pool buffers, eth_input()
 *   each (at most RX_ROUNDS batches per turn, so timers are never starved)
 *   neigh_timer(now), reasm_timer(now) (stack_reasm_timer)
 * When the device disappears (dev_recv -> -ENODEV & co., or POLLERR/POLLHUP)
 * the stack marks itself gone, fails every queued send with -ENODEV, calls
 * the gone callback once, and from then on polls only wake_fd: it never
 * spins on a dead descriptor (BAD-INPUT K.48).
 * wskstack_destroy() sets `stopping` and writes wake_fd to end the loop.
 */
#include "stack/stack_impl.h"
#include "stack/reasm.h"
#include "stack/ipv6_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RX_BATCH 32      /* frames per dev_recv() */
#define RX_ROUNDS 8      /* batches per loop turn before timers run */
#define RX_MAX_WAIT_MS 1000

/* ---- clock --------------------------------------------------------------- */

uint64_t stack_now(struct wskstack *st)
{
    if (st->clock_fn)
        return st->clock_fn(st->clock_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Set before the receive thread runs (or on a STACK_NO_THREAD stack). */
void stack_set_clock(struct wskstack *st, uint64_t (*fn)(void *ctx), void *ctx)
{
    st->clock_fn = fn;
    st->clock_ctx = ctx;
}

/* ---- small queries --------------------------------------------------------- */

struct dev *stack_dev(struct wskstack *st) { return st->dev; }
uint32_t stack_ifindex(struct wskstack *st) { return st->ifindex; }
bool stack_dev_gone(struct wskstack *st) { return atomic_load(&st->dev_gone); }

void stack_set_gone_cb(struct wskstack *st, void (*cb)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&st->lock);
    st->gone_cb = cb;
    st->gone_ctx = ctx;
    pthread_mutex_unlock(&st->lock);
}

bool stack_addr_is_local(struct wskstack *st, const struct ip_addr *a)
{
    if (!a)
        return false;
    if (a->af == IPA_V4)
        return ipv4_is_local(st, a->v4);
    if (a->af == IPA_V6)
        return addr6_is_local(st, a->v6, true); /* assigned: not tentative/duplicate */
    return false;
}

WSKSTACK_API const char *wskstack_ifname(const struct wskstack *st) { return st->dev->name; }
WSKSTACK_API int wskstack_ifindex(const struct wskstack *st) { return (int)st->ifindex; }
WSKSTACK_API void wskstack_mac(const struct wskstack *st, uint8_t mac[6])
{
    memcpy(mac, st->mac, ETH_ALEN);
}

/* ---- receive path ------------------------------------------------------------ */

/* The device is gone (K.48): once only. */
static void stack_mark_gone(struct wskstack *st, int err)
{
    if (atomic_exchange(&st->dev_gone, true))
        return;
    TRACE_F(st, TL_LINK, TD_NONE, "gone", (&(struct trace_fields){.rule = "device gone"}),
            "device %s gone (%d): failing queued sends, no more polling", st->dev->name, err);
    neigh_flush(st, -ENODEV);
    nd_flush(st, -ENODEV);
    pthread_mutex_lock(&st->lock);
    void (*cb)(void *) = st->gone_cb;
    void *ctx = st->gone_ctx;
    pthread_mutex_unlock(&st->lock);
    if (cb)
        cb(ctx);
}

static bool dev_err_is_gone(int rc)
{
    return rc == -ENODEV || rc == -EIO || rc == -EBADFD || rc == -EBADF || rc == -ENXIO ||
           rc == -ENETDOWN;
}

/* Reassembly timeouts (reasm.h): the engine reports each datagram that
 * timed out holding fragment 0; the family sends its Time Exceeded. */
static void stack_reasm_expired(struct wskstack *st, const struct reasm_expired *e, uint64_t now)
{
    if (e->key->src.af == IPA_V4)
        ipv4_reasm_expired(st, e, now);
    else if (e->key->src.af == IPA_V6)
        ipv6_reasm_expired(st, e, now);   /* ICMPv6 Time Exceeded code 1 (RFC 8200 §4.5) */
}

static void stack_reasm_timer(struct wskstack *st, uint64_t now)
{
    reasm_timer(st, now, stack_reasm_expired);
}

/* Buffers kept between batches so a quiet device costs no pool traffic. */
struct rx_ctx {
    struct pkt *bufs[RX_BATCH];
    uint8_t *scratch;            /* used only when the pool is exhausted */
};

static void rx_ctx_fini(struct wskstack *st, struct rx_ctx *c)
{
    for (unsigned i = 0; i < RX_BATCH; i++) {
        pkt_free(st, c->bufs[i]);
        c->bufs[i] = NULL;
    }
    free(c->scratch);
    c->scratch = NULL;
}

/* Read one batch.  Returns frames read (>= 0) or a negative errno from the
 * device (the caller decides whether the device is gone). */
static int rx_batch(struct wskstack *st, struct rx_ctx *c, uint64_t now)
{
    struct dev_frame v[RX_BATCH];
    uint32_t want = st->mtu + ETH_HDR_LEN + 64; /* room to see an oversize frame */
    unsigned n = 0;
    for (unsigned i = 0; i < RX_BATCH; i++) {
        if (!c->bufs[i])
            c->bufs[i] = pkt_alloc(st, want);
        if (!c->bufs[i])
            break;
        struct pkt *p = c->bufs[i];
        memset(&v[n], 0, sizeof v[n]);
        v[n].data = pkt_data(p);
        v[n].cap = p->cap - p->head;
        n++;
    }
    if (n == 0) {
        /* Pool exhausted: read one frame into a scratch buffer and drop it,
         * so a full pool cannot make the device fd spin readable forever. */
        if (!c->scratch)
            c->scratch = malloc(want);
        if (!c->scratch)
            return 0;
        struct dev_frame f = {.data = c->scratch, .cap = want};
        int rc = dev_recv(st->dev, &f, 1);
        if (rc > 0) {
            stack_pcap_frame(st, f.data, f.len);
            CNT_INC(st, IfInPackets);
            CNT_ADD(st, IfInBytes, f.len);
            stack_drop(st, CNT_IfInDiscards, "eth", "no packet buffer for a received frame");
        }
        return rc;
    }
    int rc = dev_recv(st->dev, v, n);
    if (rc <= 0)
        return rc;
    for (int i = 0; i < rc; i++) {
        struct pkt *p = c->bufs[i];
        c->bufs[i] = NULL;
        p->len = v[i].len;
        eth_input(st, p, now);
    }
    /* keep unused buffers at the front for the next batch */
    unsigned k = 0;
    for (unsigned i = 0; i < RX_BATCH; i++) {
        if (c->bufs[i]) {
            struct pkt *p = c->bufs[i];
            c->bufs[i] = NULL;
            c->bufs[k++] = p;
        }
    }
    return rc;
}

/* Read until the device has nothing more (or max_rounds batches).  Returns
 * frames processed; marks the stack gone on a fatal device error. */
static int rx_drain(struct wskstack *st, struct rx_ctx *c, unsigned max_rounds)
{
    int total = 0;
    for (unsigned r = 0; max_rounds == 0 || r < max_rounds; r++) {
        if (atomic_load(&st->dev_gone))
            break;
        int rc = rx_batch(st, c, stack_now(st));
        if (rc < 0) {
            if (dev_err_is_gone(rc))
                stack_mark_gone(st, rc);
            break;
        }
        total += rc;
        if (rc == 0)
            break;
    }
    return total;
}

int stack_poll(struct wskstack *st, uint64_t now)
{
    struct rx_ctx c;
    memset(&c, 0, sizeof c);
    int n = 0;
    for (;;) {
        if (atomic_load(&st->dev_gone))
            break;
        int rc = rx_batch(st, &c, now);
        if (rc < 0) {
            if (dev_err_is_gone(rc))
                stack_mark_gone(st, rc);
            break;
        }
        if (rc == 0)
            break;
        n += rc;
    }
    rx_ctx_fini(st, &c);
    neigh_timer(st, now);
    nd_timer(st, now);
    addr6_timer(st, now);
    ipv6_timer(st, now);
    stack_reasm_timer(st, now);
    return n;
}

static void *stack_rx_thread(void *arg)
{
    struct wskstack *st = arg;
    struct rx_ctx c;
    memset(&c, 0, sizeof c);
    while (!atomic_load(&st->stopping)) {
        uint64_t now = stack_now(st);
        uint64_t wait_ns = neigh_next_timer(st, now);
        uint64_t reasm_ns = reasm_next_timer(st, now);
        if (reasm_ns < wait_ns)
            wait_ns = reasm_ns;
        uint64_t addr6_ns = addr6_next_timer(st, now); /* DAD, lifetimes */
        if (addr6_ns < wait_ns)
            wait_ns = addr6_ns;
        uint64_t nd_ns = nd_next_timer(st, now); /* NUD, RS, router/prefix lifetimes */
        if (nd_ns < wait_ns)
            wait_ns = nd_ns;
        int timeout = RX_MAX_WAIT_MS;
        if (wait_ns < (uint64_t)RX_MAX_WAIT_MS * 1000000ull)
            timeout = (int)((wait_ns + 999999) / 1000000); /* round up: never wake early */

        struct pollfd pfd[2] = {{.fd = st->wake_fd, .events = POLLIN}};
        nfds_t nfds = 1;
        bool gone = atomic_load(&st->dev_gone);
        if (!gone) {
            pfd[1].fd = dev_pollfd(st->dev);
            pfd[1].events = POLLIN;
            nfds = 2;
        }
        int prc = poll(pfd, nfds, timeout);
        if (prc < 0 && errno != EINTR)
            break; /* cannot happen with valid fds; do not spin */
        if (prc > 0 && (pfd[0].revents & POLLIN)) {
            uint64_t v;
            if (read(st->wake_fd, &v, sizeof v) < 0) { /* nonblocking: EAGAIN is fine */
            }
        }
        if (prc > 0 && nfds == 2 && pfd[1].revents) {
            if (pfd[1].revents & POLLIN)
                rx_drain(st, &c, RX_ROUNDS);
            if (!atomic_load(&st->dev_gone) && (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL))) {
                /* Read what is left; a dead device answers -ENODEV. */
                rx_drain(st, &c, RX_ROUNDS);
                stack_mark_gone(st, -ENODEV);
            }
        }
        uint64_t tnow = stack_now(st);
        neigh_timer(st, tnow);
        nd_timer(st, tnow);
        addr6_timer(st, tnow);
        ipv6_timer(st, tnow);   /* PMTU aging: lazy, needs no wake-up of its own */
        stack_reasm_timer(st, tnow);
    }
    rx_ctx_fini(st, &c);
    return NULL;
}

/* ---- creation -------------------------------------------------------------------- */

static void stack_free(struct wskstack *st, unsigned stage)
{
    /* stage: how far creation got (see stack_create_on_dev) */
    addr6_fini(st); /* any stage: a stack without a table is fine */
    icmpv6_fini(st); /* any stage, likewise */
    ipv6_fini(st);
    nd_fini(st); /* any stage: fails queued IPv6 sends with -ENODEV */
    if (stage >= 6)
        reasm_fini(st);
    if (stage >= 5)
        udp_fini(st);
    if (stage >= 4)
        icmp_fini(st);
    if (stage >= 2)
        neigh_fini(st);
    if (stage >= 3)
        route_fini(st);
    if (stage >= 1)
        pkt_pool_fini(st);
    if (st->wake_fd >= 0)
        close(st->wake_fd);
    stack_pcap_fini(st); /* any stage: flushes the capture */
    trace_fini(st);      /* any stage */
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static uint32_t mask_of(uint8_t plen) { return plen == 0 ? 0 : 0xffffffffu << (32 - plen); }

int stack_create_on_dev(const struct wskstack_config *cfg, struct dev *dev, unsigned flags,
                        struct wskstack **out, char *err, size_t errlen)
{
    *out = NULL;
    struct wskstack *st = calloc(1, sizeof *st);
    if (!st) {
        set_err(err, errlen, "out of memory");
        dev_close(dev);
        return -ENOMEM;
    }
    st->wake_fd = -1;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        dev_close(dev);
        set_err(err, errlen, "pthread_mutex_init failed");
        return -ENOMEM;
    }
    st->dev = dev;
    st->ifindex = (uint32_t)dev->ifindex;
    for (unsigned i = 0; i < CNT__COUNT; i++)
        atomic_init(&st->cnt[i], 0);
    atomic_init(&st->stopping, false);
    atomic_init(&st->dev_gone, false);

    /* Addresses, in configuration order (the first of a subnet is preferred
     * as source, stack_impl.h). */
    if (cfg) {
        for (unsigned i = 0; i < cfg->n_addrs && i < CFG_MAX_ADDRS; i++) {
            if (cfg->addrs[i].addr.af != IPA_V4)
                continue;
            if (st->n_addr4 == STACK_MAX_ADDRS)
                break;
            st->addr4[st->n_addr4].addr = cfg->addrs[i].addr.v4;
            st->addr4[st->n_addr4].plen = cfg->addrs[i].plen > 32 ? 32 : cfg->addrs[i].plen;
            st->n_addr4++;
        }
    }

    /* Our MAC: configured, or random locally administered unicast
     * (02:xx:xx:xx:xx:xx, IEEE 802 U/L bit set, I/G clear) and different
     * from the kernel side of the TAP. */
    if (cfg && cfg->has_mac) {
        memcpy(st->mac, cfg->mac, ETH_ALEN);
    } else {
        do {
            uint8_t rnd[5] = {0};
            if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uintptr_t)st;
                for (unsigned i = 0; i < sizeof rnd; i++, x >>= 8)
                    rnd[i] = (uint8_t)x;
            }
            st->mac[0] = 0x02;
            memcpy(st->mac + 1, rnd, sizeof rnd);
        } while (memcmp(st->mac, dev->kmac, ETH_ALEN) == 0);
    }
    st->mtu = (cfg && cfg->mtu) ? cfg->mtu : (dev->mtu ? dev->mtu : 1500);

    unsigned stage = 0;
    /* The trace and the capture first, so they see everything that follows
     * (trace=, trace-file=, trace-format=, pcap=). */
    int rc = trace_init(st, cfg, err, errlen);
    if (rc == 0)
        rc = stack_pcap_init(st, cfg, err, errlen);
    if (rc < 0) {
        stack_free(st, 0);
        dev_close(dev);
        return rc;
    }
    rc = pkt_pool_init(st);
    if (rc < 0)
        goto fail;
    stage = 1;
    /* IPv6 addresses (addr6.c): the link-local from st->mac and every IPv6
     * addr=, all tentative until addr6_start() (wskstack_create) runs DAD. */
    if ((rc = addr6_init(st, cfg)) < 0)
        goto fail;
    if ((rc = neigh_init(st)) < 0)
        goto fail;
    stage = 2;
    if ((rc = nd_init(st)) < 0) /* IPv6 neighbours and routes (nd.c, route6.c) */
        goto fail;
    if ((rc = route_init(st)) < 0)
        goto fail;
    stage = 3;
    /* Connected routes (addr & mask / plen, on-link), then the default
     * gateway.  Two addresses in one subnet give one route (-EEXIST). */
    for (unsigned i = 0; i < st->n_addr4; i++) {
        uint32_t m = mask_of(st->addr4[i].plen);
        rc = route4_add(st, st->addr4[i].addr & m, st->addr4[i].plen, 0);
        if (rc < 0 && rc != -EEXIST)
            goto fail;
    }
    if (cfg) {
        for (unsigned i = 0; i < cfg->n_gateways && i < CFG_MAX_GATEWAYS; i++) {
            if (cfg->gateways[i].af != IPA_V4)
                continue;
            rc = route4_add(st, 0, 0, cfg->gateways[i].v4);
            if (rc < 0 && rc != -EEXIST)
                goto fail;
        }
    }
    /* IPv6 (route6.c): the prefix of each IPv6 addr= is on-link, each IPv6
     * gateway= a static default router (RFC 4861 §5.2, §6.3.6). */
    if (cfg) {
        static const uint8_t any6[16];
        for (unsigned i = 0; i < cfg->n_addrs && i < CFG_MAX_ADDRS; i++) {
            if (cfg->addrs[i].addr.af != IPA_V6)
                continue;
            rc = route6_add(st, cfg->addrs[i].addr.v6, cfg->addrs[i].plen, NULL);
            if (rc < 0 && rc != -EEXIST)
                goto fail;
        }
        for (unsigned i = 0; i < cfg->n_gateways && i < CFG_MAX_GATEWAYS; i++) {
            if (cfg->gateways[i].af != IPA_V6)
                continue;
            rc = route6_add(st, any6, 0, cfg->gateways[i].v6);
            if (rc < 0 && rc != -EEXIST)
                goto fail;
        }
    }
    if ((rc = icmp_init(st)) < 0)
        goto fail;
    stage = 4;
    if ((rc = udp_init(st)) < 0)
        goto fail;
    stage = 5;
    if ((rc = reasm_init(st)) < 0)
        goto fail;
    stage = 6;
    /* IPv6 data path: PMTU cache (ipv6.c), error rate limiter (icmpv6.c). */
    if ((rc = ipv6_init(st)) < 0 || (rc = icmpv6_init(st)) < 0)
        goto fail;
    st->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->wake_fd < 0) {
        rc = -errno;
        goto fail;
    }
    if (!(flags & STACK_NO_THREAD)) {
        int prc = pthread_create(&st->rx_thread, NULL, stack_rx_thread, st);
        if (prc != 0) {
            rc = -prc;
            goto fail;
        }
        st->has_thread = true;
    }
    *out = st;
    return 0;

fail:
    if (err && errlen)
        snprintf(err, errlen, "creating the stack failed: %s", strerror(-rc));
    stack_free(st, stage);
    dev_close(dev);
    return rc;
}

WSKSTACK_API int wskstack_create(const struct wskstack_config *cfg, struct wskstack **out,
                                 char *err, size_t errlen)
{
    static const struct wskstack_config empty;
    if (!cfg)
        cfg = &empty;
    struct dev_prefix hp[CFG_MAX_ADDRS];
    unsigned nh = 0;
    for (unsigned i = 0; i < cfg->n_host_addrs && i < CFG_MAX_ADDRS; i++) {
        const struct cfg_prefix *c = &cfg->host_addrs[i];
        memset(&hp[nh], 0, sizeof hp[nh]);
        if (c->addr.af == IPA_V4) {
            hp[nh].family = AF_INET;
            put_be32(hp[nh].addr, c->addr.v4);
        } else if (c->addr.af == IPA_V6) {
            hp[nh].family = AF_INET6;
            memcpy(hp[nh].addr, c->addr.v6, 16);
        } else {
            continue;
        }
        hp[nh].plen = c->plen;
        nh++;
    }
    struct tap_config tc = {
        .name = cfg->tap[0] ? cfg->tap : NULL,
        .mtu = cfg->mtu,
        .host_addrs = hp,
        .n_host_addrs = nh,
    };
    struct dev *dev = NULL;
    int rc = tap_open(&tc, &dev, err, errlen);
    if (rc < 0)
        return rc;
    rc = stack_create_on_dev(cfg, dev, 0, out, err, errlen);
    if (rc < 0)
        return rc; /* the device was closed (deleted) by stack_create_on_dev */
    arp_announce(*out);
    /* DAD for the IPv6 addresses (RFC 4862 §5.4), the link-local first;
     * addr6 calls nd_start() once the link-local is usable.  Like
     * arp_announce, not on memdev stacks: tests call addr6_start(). */
    addr6_start(*out, stack_now(*out));
    return 0;
}

WSKSTACK_API void wskstack_destroy(struct wskstack *st)
{
    if (!st)
        return;
    if (st->has_thread) {
        atomic_store(&st->stopping, true);
        uint64_t one = 1;
        if (write(st->wake_fd, &one, sizeof one) < 0) { /* eventfd: cannot fail here */
        }
        pthread_join(st->rx_thread, NULL);
        st->has_thread = false;
    }
    struct dev *dev = st->dev;
    stack_free(st, 6);
    dev_close(dev);
}
