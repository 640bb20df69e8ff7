/* SPDX-License-Identifier: MIT */
/*
 * lab6_stack.h - the fixture of the IPv6 lab tests (tests/lab/test_lab6_*.c):
 * a stack on a real TAP in the test's own network namespace, the Linux
 * kernel as the peer.  Header-only; include <cmocka.h> (after
 * stdarg/stddef/setjmp) first.
 *
 * AF_INET6 WSK sockets do not exist yet, so these tests are NOT WSK
 * sources: they drive the stack through wskstack_create() and the stack's
 * own interfaces (stack.h, ipv6_impl.h) - a UDP endpoint is a struct udp_ep
 * with udp_bind/udp_send - and may include Linux headers.  The kernel side
 * is tools/lab_kernel.h (through testutil.h), as for the IPv4 lab tests.
 */
#ifndef WSS_LAB6_STACK_H
#define WSS_LAB6_STACK_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "stack/ipv6_impl.h"
#include "tap/dev.h"
#include "testutil.h"
#include "wskstack.h"

struct lab6 {
    struct wskstack *st;
    char ifname[16];
    int ifindex;
    uint8_t mac[6];          /* the stack's MAC */
    uint8_t kmac[6];         /* the kernel side of the TAP */
    uint8_t ll[16];          /* the stack's link-local address */
    char ll_str[LK_ADDR6STRLEN];      /* "fe80::...%ifname" */
};

static inline void lab6_fill(struct lab6 *l)
{
    wskstack_mac(l->st, l->mac);
    snprintf(l->ifname, sizeof l->ifname, "%s", wskstack_ifname(l->st));
    l->ifindex = wskstack_ifindex(l->st);
    assert_int_equal(lk_if_mac(l->ifname, l->kmac), 0);
    ipv6_link_local_from_mac(l->mac, l->ll);
    char a[LK_ADDR6STRLEN];
    snprintf(l->ll_str, sizeof l->ll_str, "%s%%%s", lk_addr6_str(l->ll, a), l->ifname);
}

static inline struct wskstack_config *lab6_config(const char *config)
{
    char err[256] = "";
    struct wskstack_config *cfg = wskstack_config_new();
    assert_non_null(cfg);
    if (wskstack_config_parse(cfg, config, err, sizeof err) != 0)
        fail_msg("config \"%s\": %s", config, err);
    return cfg;
}

/* The stack exactly as an application gets it: wskstack_create(). */
static inline void lab6_up(struct lab6 *l, const char *config)
{
    char err[256] = "";
    memset(l, 0, sizeof *l);
    struct wskstack_config *cfg = lab6_config(config);
    int rc = wskstack_create(cfg, &l->st, err, sizeof err);
    wskstack_config_free(cfg);
    if (rc != 0)
        fail_msg("wskstack_create(\"%s\"): %d %s", config, rc, err);
    lab6_fill(l);
}

/* What wskstack_create() does, in two halves, so that a test can act on
 * the kernel side after the TAP exists and BEFORE the stack starts DAD
 * (before_dad), and can make the DAD start delay 0 (dad_seed 0, see
 * addr6_set_seed).  The stack runs its receive thread as usual. */
static inline void lab6_up_split(struct lab6 *l, const char *config,
                                 void (*before_dad)(struct lab6 *l, void *ctx), void *ctx,
                                 uint64_t dad_seed)
{
    char err[256] = "";
    memset(l, 0, sizeof *l);
    struct wskstack_config *cfg = lab6_config(config);
    struct dev_prefix hp[CFG_MAX_ADDRS];
    unsigned nh = 0;
    for (unsigned i = 0; i < cfg->n_host_addrs; i++) {
        const struct cfg_prefix *c = &cfg->host_addrs[i];
        memset(&hp[nh], 0, sizeof hp[nh]);
        if (c->addr.af == IPA_V4) {
            hp[nh].family = AF_INET;
            put_be32(hp[nh].addr, c->addr.v4);
        } else {
            hp[nh].family = AF_INET6;
            memcpy(hp[nh].addr, c->addr.v6, 16);
        }
        hp[nh++].plen = c->plen;
    }
    struct tap_config tc = {.name = cfg->tap[0] ? cfg->tap : NULL, .mtu = cfg->mtu,
                            .host_addrs = hp, .n_host_addrs = nh};
    struct dev *dev = NULL;
    int rc = tap_open(&tc, &dev, err, sizeof err);
    if (rc != 0)
        fail_msg("tap_open: %d %s", rc, err);
    rc = stack_create_on_dev(cfg, dev, 0, &l->st, err, sizeof err);
    wskstack_config_free(cfg);
    if (rc != 0)
        fail_msg("stack_create_on_dev(\"%s\"): %d %s", config, rc, err);
    lab6_fill(l);
    if (before_dad)
        before_dad(l, ctx);
    addr6_set_seed(l->st, dad_seed);
    arp_announce(l->st);
    addr6_start(l->st, stack_now(l->st));
}

static inline void lab6_down(struct lab6 *l)
{
    if (l->st)
        wskstack_destroy(l->st);
    memset(l, 0, sizeof *l);
}

static inline int64_t lab6_cnt(struct lab6 *l, const char *name)
{
    int64_t v = wskstack_counter(l->st, name);
    if (v < 0)
        fail_msg("no counter named %s", name);
    return v;
}

struct lab6_cnt_wait {
    struct lab6 *l;
    const char *name;
    int64_t target;
};

static inline bool lab6_cnt_reached(void *ctx)
{
    struct lab6_cnt_wait *w = ctx;
    return lab6_cnt(w->l, w->name) >= w->target;
}

/* As lab_stack_cnt_settle: wait (<= 2 s) for the counter to reach target,
 * 50 ms more so a surplus shows, return it (callers assert it exactly). */
static inline int64_t lab6_cnt_settle(struct lab6 *l, const char *name, int64_t target)
{
    struct lab6_cnt_wait w = {l, name, target};
    (void)lk_wait_until(lab6_cnt_reached, &w, 2000, 2);
    lk_sleep_ms(50);
    return lab6_cnt(l, name);
}

static inline int64_t lab6_kcnt(const char *name)
{
    int64_t v = lk_snmp6(name);
    if (v < 0)
        fail_msg("no kernel counter %s in /proc/net/snmp6", name);
    return v;
}

static inline void lab6_parse(const char *s, uint8_t a[16])
{
    if (lk_addr6_parse(s, a, NULL) != 0)
        fail_msg("bad IPv6 address %s", s);
}

/* The stack's address a: false when it has none; state/origin may be NULL. */
static inline bool lab6_addr(struct lab6 *l, const uint8_t a[16], enum addr6_state *state,
                             enum addr6_origin *origin)
{
    uint8_t x[16], plen;
    enum addr6_state s;
    enum addr6_origin o;
    for (unsigned i = 0; addr6_get(l->st, i, x, &plen, &s, &o); i++) {
        if (memcmp(x, a, 16) == 0) {
            if (state)
                *state = s;
            if (origin)
                *origin = o;
            return true;
        }
    }
    return false;
}

static inline unsigned lab6_addr_count(struct lab6 *l)
{
    unsigned n = 0;
    while (addr6_get(l->st, n, NULL, NULL, NULL, NULL))
        n++;
    return n;
}

struct lab6_addr_wait {
    struct lab6 *l;
    uint8_t a[16];
    enum addr6_state want;
};

static inline bool lab6_addr_is(void *ctx)
{
    struct lab6_addr_wait *w = ctx;
    enum addr6_state s;
    return lab6_addr(w->l, w->a, &s, NULL) && s == w->want;
}

/* Wait (bounded) until the stack's address a is in state want. */
static inline void lab6_wait_addr(struct lab6 *l, const uint8_t a[16], enum addr6_state want,
                                  unsigned timeout_ms)
{
    struct lab6_addr_wait w = {.l = l, .want = want};
    memcpy(w.a, a, 16);
    if (lk_wait_until(lab6_addr_is, &w, timeout_ms, 5) != 0) {
        char b[LK_ADDR6STRLEN];
        enum addr6_state s = ADDR6_TENTATIVE;
        bool have = lab6_addr(l, a, &s, NULL);
        fail_msg("address %s: %s state %d after %u ms, wanted %d", lk_addr6_str(a, b),
                 have ? "in" : "absent,", (int)s, timeout_ms, (int)want);
    }
}

/* DAD of the link-local and of the configured address cfg_addr (may be
 * NULL) is over: both PREFERRED.  DAD takes [0, 1) s of start delay + 1 s. */
static inline void lab6_wait_dad(struct lab6 *l, const char *cfg_addr)
{
    lab6_wait_addr(l, l->ll, ADDR6_PREFERRED, 3000);
    if (cfg_addr) {
        uint8_t a[16];
        lab6_parse(cfg_addr, a);
        lab6_wait_addr(l, a, ADDR6_PREFERRED, 3000);
    }
}

struct lab6_kll_wait {
    const char *ifname;
    char ll[LK_ADDR6STRLEN];
};

static inline bool lab6_kll_ready(void *ctx)
{
    struct lab6_kll_wait *w = ctx;
    bool tentative = true;
    return lk_linklocal6(w->ifname, w->ll, &tentative) == 0 && !tentative;
}

/* The kernel's link-local address on the TAP once its own DAD is over. */
static inline void lab6_kernel_ll(struct lab6 *l, char out[LK_ADDR6STRLEN])
{
    struct lab6_kll_wait w = {.ifname = l->ifname};
    if (lk_wait_until(lab6_kll_ready, &w, 5000, 10) != 0)
        fail_msg("the kernel's link-local address on %s is not ready after 5 s", l->ifname);
    snprintf(out, LK_ADDR6STRLEN, "%s", w.ll);
}

/* ---- a UDP endpoint of the stack (what an AF_INET6 socket will wrap) ------------ */
#define LAB6_EP_Q 32
struct lab6_msg {
    uint8_t *data;
    size_t len;
    struct udp_rx_info info;
};
struct lab6_ep {
    struct udp_ep ep;            /* first: the rx callback gets &ep */
    struct wskstack *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lab6_msg q[LAB6_EP_Q];
    unsigned head, n;
};

static inline int lab6_ep_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    struct lab6_ep *e = (struct lab6_ep *)ep;
    pthread_mutex_lock(&e->mu);
    if (e->n == LAB6_EP_Q) {
        pthread_mutex_unlock(&e->mu);
        return -ENOBUFS;
    }
    struct lab6_msg *m = &e->q[(e->head + e->n) % LAB6_EP_Q];
    m->data = malloc(p->len ? p->len : 1);
    if (!m->data) {
        pthread_mutex_unlock(&e->mu);
        return -ENOBUFS;
    }
    memcpy(m->data, pkt_data(p), p->len);
    m->len = p->len;
    m->info = *info;
    e->n++;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pkt_free(e->st, p); /* returning 0: the endpoint owns p */
    return 0;
}

static const struct udp_ep_ops lab6_ep_ops = {.rx = lab6_ep_rx};

/* Bind an IPv6 endpoint to addr (NULL = ::) and port (0 = ephemeral). */
static inline void lab6_ep_open(struct lab6 *l, struct lab6_ep *e, const char *addr, uint16_t port)
{
    memset(e, 0, sizeof *e);
    e->st = l->st;
    e->ep.ops = &lab6_ep_ops;
    e->ep.flags = UDP_EP_V6;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    struct ip_addr la = {.af = IPA_NONE};
    if (addr) {
        la.af = IPA_V6;
        lab6_parse(addr, la.v6);
    }
    int rc = udp_bind(l->st, &e->ep, &la, port);
    if (rc != 0)
        fail_msg("udp_bind(%s, %u): %d", addr ? addr : "::", port, rc);
}

static inline void lab6_ep_close(struct lab6 *l, struct lab6_ep *e)
{
    udp_unbind(l->st, &e->ep);
    for (unsigned i = 0; i < e->n; i++)
        free(e->q[(e->head + i) % LAB6_EP_Q].data);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
}

/* One datagram (copied into buf), waiting at most timeout_ms.  Its real
 * length, or -ETIMEDOUT. */
static inline long lab6_ep_recv(struct lab6_ep *e, void *buf, size_t cap, unsigned timeout_ms,
                                struct udp_rx_info *info)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->mu);
    while (e->n == 0)
        if (pthread_cond_timedwait(&e->cv, &e->mu, &dl) == ETIMEDOUT && e->n == 0)
            break;
    if (e->n == 0) {
        pthread_mutex_unlock(&e->mu);
        return -ETIMEDOUT;
    }
    struct lab6_msg m = e->q[e->head];
    e->head = (e->head + 1) % LAB6_EP_Q;
    e->n--;
    pthread_mutex_unlock(&e->mu);
    memcpy(buf, m.data, m.len < cap ? m.len : cap);
    if (info)
        *info = m.info;
    free(m.data);
    return (long)m.len;
}

struct lab6_req {
    struct tx_req r;
    atomic_int done;
    atomic_int err;
};

static inline void lab6_req_done(struct tx_req *r, int err)
{
    struct lab6_req *q = (struct lab6_req *)r;
    atomic_store(&q->err, err);
    atomic_store(&q->done, 1);
}

static inline bool lab6_req_finished(void *ctx)
{
    return atomic_load(&((struct lab6_req *)ctx)->done) != 0;
}

/* Send one datagram from e to dst:dport (dst may carry a zone; ifindex
 * then comes from it).  Waits (<= 5 s) for a send queued on Neighbor
 * Discovery.  0 when every frame was written, else -errno. */
static inline int lab6_ep_send(struct lab6 *l, struct lab6_ep *e, const char *dst, uint16_t dport,
                               const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    static struct lab6_req req; /* must outlive a queued send */
    atomic_store(&req.done, 0);
    atomic_store(&req.err, 0);
    req.r.done = lab6_req_done;
    struct udp_send_args a = {.dport = dport, .ttl = -1, .tos = -1, .iov = &iov, .iovcnt = 1,
                              .len = len, .req = &req.r};
    a.dst.af = IPA_V6;
    if (lk_addr6_parse(dst, a.dst.v6, &a.ifindex) != 0)
        fail_msg("bad destination %s", dst);
    int rc = udp_send(l->st, &e->ep, &a);
    if (rc == UDP_SEND_QUEUED) {
        if (lk_wait_until(lab6_req_finished, &req, 5000, 2) != 0)
            fail_msg("send to %s queued on ND and not finished after 5 s", dst);
        return atomic_load(&req.err);
    }
    return rc;
}

/* Fill buf with a pattern that differs per seed (payload checks). */
static inline void lab6_pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i * 7 + seed * 13 + (i >> 8)) & 0xff);
}

/* ---- captured frames ------------------------------------------------------------- */
/* Collect the IPv6 frames of the next ms milliseconds (at most max) into a
 * calloc'd array the caller frees; *n gets the count. */
static inline struct lk_ip6 *lab6_collect(int cap, unsigned max, unsigned ms, unsigned *n)
{
    struct lk_ip6 *v = calloc(max, sizeof *v);
    assert_non_null(v);
    *n = 0;
    uint64_t end = lk_now_ns() + (uint64_t)ms * 1000000ull;
    while (*n < max) {
        uint64_t now = lk_now_ns();
        if (now >= end)
            break;
        int rc = lk_capture_ip6(cap, (unsigned)((end - now) / 1000000ull) + 1, &v[*n]);
        if (rc == -ETIMEDOUT)
            break;
        if (rc == 0)
            (*n)++;
    }
    return v;
}

/* ICMPv6 type of a captured frame, -1 when it is not ICMPv6 (or a
 * non-first fragment). */
static inline int lab6_icmp_type(const struct lk_ip6 *f)
{
    if (f->proto != 58 || (f->frag && f->frag_off != 0) || f->len < f->l4_off + 4)
        return -1;
    return f->frame[f->l4_off];
}

/* RFC 8200 §8.1 / RFC 4443 §2.3: the ICMPv6 checksum of an unfragmented
 * captured packet is right. */
static inline bool lab6_icmp_csum_ok(const struct lk_ip6 *f)
{
    size_t len = f->payload_len;
    if (f->frag || f->len < f->l4_off + len)
        return false;
    uint32_t sum = 0;
    for (unsigned i = 0; i < 16; i += 2)
        sum += (uint32_t)(f->src[i] << 8 | f->src[i + 1]) + (uint32_t)(f->dst[i] << 8 | f->dst[i + 1]);
    sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + 58;
    const uint8_t *d = f->frame + f->l4_off;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(d[i] << 8 | d[i + 1]);
    if (len & 1)
        sum += (uint32_t)d[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

#endif /* WSS_LAB6_STACK_H */
