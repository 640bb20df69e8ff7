/* SPDX-License-Identifier: MIT */
/*
 * pkt.c - the per-stack packet pool.
 *
 * Two kinds of buffer (pkt->pool_class):
 *  - POOL buffers: PKT_HEADROOM + max(mtu, 1500) + 14 + 64 bytes each, carved
 *    from slabs of PKT_SLAB_BUFS buffers.  A freed buffer goes back on the
 *    free list; slabs are only returned to the heap in pkt_pool_fini().  So
 *    in steady state there is no heap allocation per packet.  The pool grows
 *    slab by slab up to PKT_POOL_MAX buffers; past that pkt_alloc() returns
 *    NULL (BAD-INPUT J: every resource is BOUNDED).
 *  - LARGE buffers: requests that do not fit a pool buffer (UDP datagrams up
 *    to 64 KiB before fragmentation, reassembled datagrams) get one malloc()
 *    each, up to PKT_LARGE_MAX at a time and PKT_LARGE_SIZE_MAX bytes each.
 *
 * Locking: the pool mutex is a LEAF lock (stack.h): nothing else is locked
 * while it is held, so pkt_alloc/pkt_free may be called with or without
 * st->lock.  The in-use counter is an atomic so stack_pkts_in_use() needs no
 * lock.
 */
#include "stack/stack_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PKT_SLAB_BUFS 64          /* buffers carved from one slab */
#define PKT_POOL_MAX 4096         /* cap on pool buffers */
#define PKT_LARGE_MAX 256         /* cap on live large buffers (~16 MiB) */
#define PKT_LARGE_SIZE_MAX (65536u + 1024u) /* a 64 KiB datagram + headers */

#define PKT_CLASS_POOL 0
#define PKT_CLASS_LARGE 1

struct pkt_slab {
    struct pkt_slab *next;
    unsigned n;
    struct pkt pkts[PKT_SLAB_BUFS];
    uint8_t *mem;                 /* n * buf_size bytes of buffer memory */
};

struct pkt_pool {
    pthread_mutex_t mu;           /* leaf lock: guards free, slabs, n_total, n_large */
    struct pkt *free;
    struct pkt_slab *slabs;
    uint32_t buf_size;            /* bytes per pool buffer */
    unsigned n_total;             /* pool buffers carved so far */
    unsigned n_large;             /* live large buffers */
    atomic_uint in_use;           /* pool + large buffers handed out */
};

int pkt_pool_init(struct wskstack *st)
{
    struct pkt_pool *pp = calloc(1, sizeof *pp);
    if (!pp)
        return -ENOMEM;
    if (pthread_mutex_init(&pp->mu, NULL) != 0) {
        free(pp);
        return -ENOMEM;
    }
    uint32_t link = st->mtu > 1500 ? st->mtu : 1500;
    pp->buf_size = PKT_HEADROOM + link + ETH_HDR_LEN + 64;
    atomic_init(&pp->in_use, 0);
    st->pool = pp;
    return 0;
}

void pkt_pool_fini(struct wskstack *st)
{
    struct pkt_pool *pp = st->pool;
    if (!pp)
        return;
    struct pkt_slab *s = pp->slabs;
    while (s) {
        struct pkt_slab *n = s->next;
        free(s->mem);
        free(s);
        s = n;
    }
    pthread_mutex_destroy(&pp->mu);
    free(pp);
    st->pool = NULL;
}

/* Pool mutex held.  Carve one more slab onto the free list. */
static bool pool_grow(struct pkt_pool *pp)
{
    unsigned n = PKT_POOL_MAX - pp->n_total;
    if (n == 0)
        return false;
    if (n > PKT_SLAB_BUFS)
        n = PKT_SLAB_BUFS;
    struct pkt_slab *s = calloc(1, sizeof *s);
    if (!s)
        return false;
    s->mem = malloc((size_t)n * pp->buf_size);
    if (!s->mem) {
        free(s);
        return false;
    }
    s->n = n;
    for (unsigned i = 0; i < n; i++) {
        struct pkt *p = &s->pkts[i];
        p->buf = s->mem + (size_t)i * pp->buf_size;
        p->cap = pp->buf_size;
        p->pool_class = PKT_CLASS_POOL;
        p->next = pp->free;
        pp->free = p;
    }
    s->next = pp->slabs;
    pp->slabs = s;
    pp->n_total += n;
    return true;
}

struct pkt *pkt_alloc(struct wskstack *st, uint32_t size)
{
    struct pkt_pool *pp = st->pool;
    struct pkt *p = NULL;

    if (size <= pp->buf_size - PKT_HEADROOM) {
        pthread_mutex_lock(&pp->mu);
        if (!pp->free)
            pool_grow(pp);
        p = pp->free;
        if (p)
            pp->free = p->next;
        pthread_mutex_unlock(&pp->mu);
    } else if (size <= PKT_LARGE_SIZE_MAX) {
        pthread_mutex_lock(&pp->mu);
        bool ok = pp->n_large < PKT_LARGE_MAX;
        if (ok)
            pp->n_large++;
        pthread_mutex_unlock(&pp->mu);
        if (ok) {
            /* One allocation: the pkt header followed by its buffer. */
            p = malloc(sizeof *p + PKT_HEADROOM + size);
            if (p) {
                p->buf = (uint8_t *)(p + 1);
                p->cap = PKT_HEADROOM + size;
                p->pool_class = PKT_CLASS_LARGE;
            } else {
                pthread_mutex_lock(&pp->mu);
                pp->n_large--;
                pthread_mutex_unlock(&pp->mu);
            }
        }
    }
    if (!p)
        return NULL;
    p->next = NULL;
    p->head = PKT_HEADROOM;
    p->len = 0;
    p->req = NULL;
    p->ts = 0;
    atomic_fetch_add_explicit(&pp->in_use, 1, memory_order_relaxed);
    return p;
}

void pkt_free(struct wskstack *st, struct pkt *p)
{
    if (!p)
        return;
    struct pkt_pool *pp = st->pool;
    atomic_fetch_sub_explicit(&pp->in_use, 1, memory_order_relaxed);
    pthread_mutex_lock(&pp->mu);
    if (p->pool_class == PKT_CLASS_LARGE) {
        pp->n_large--;
        pthread_mutex_unlock(&pp->mu);
        free(p);
        return;
    }
    p->next = pp->free;
    pp->free = p;
    pthread_mutex_unlock(&pp->mu);
}

uint8_t *pkt_push(struct pkt *p, uint32_t n)
{
    if (n > p->head)
        return NULL; /* not enough headroom: the caller counts a discard */
    p->head -= n;
    p->len += n;
    return p->buf + p->head;
}

void pkt_pull(struct pkt *p, uint32_t n)
{
    if (n > p->len)
        n = p->len;
    p->head += n;
    p->len -= n;
}

unsigned stack_pkts_in_use(struct wskstack *st)
{
    return atomic_load_explicit(&st->pool->in_use, memory_order_relaxed);
}
