/* SPDX-License-Identifier: MIT */
/*
 * memdev.c - the in-memory device for unit tests and fuzzing.
 *
 * Two FIFO queues of copied frames:
 *   rx  frames a test injected (memdev_inject), read by the stack (recv);
 *   tx  frames the stack wrote (send), popped by the test (memdev_pop_tx).
 * One mutex (md->lock, a leaf lock) guards both queues, the eventfd counter
 * and `gone`; every entry point takes it, so the test thread and the stack's
 * threads may call in concurrently.
 *
 * Poll fd: an eventfd whose counter is non-zero (POLLIN) exactly while rx
 * frames wait - set when the rx queue goes from empty to non-empty, drained
 * when recv empties it.  Once the device is "gone" the counter is set and
 * never drained, so a poller wakes up at once and keeps waking up; recv then
 * returns -ENODEV.  (An eventfd cannot report POLLHUP/POLLERR; a real TAP
 * reports POLLERR after `ip link del`.  Either way the poller's rule is the
 * same: on any revents call recv, and stop polling when it returns -ENODEV.)
 *
 * Limits: the tx queue holds at most MEMDEV_TX_MAX frames; past that, send
 * stops and returns the count written so far, as a full TAP would, so a
 * test that forgets to pop cannot exhaust memory.
 */
#include "dev.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MEMDEV_TX_MAX 65536u
#define MEMDEV_IFINDEX_BASE 1000

struct mframe {
    struct mframe *next;
    size_t len;
    uint8_t data[];
};

struct mqueue {
    struct mframe *head, *tail;
    unsigned count;
};

struct memdev {
    struct dev dev;          /* first: struct dev * <-> struct memdev * */
    pthread_mutex_t lock;    /* guards everything below */
    struct mqueue rx, tx;
    int efd;                 /* eventfd, see the file comment */
    bool signalled;          /* efd counter is non-zero */
    bool gone;
};

static const struct dev_ops memdev_ops;

static struct memdev *to_md(struct dev *d)
{
    return d != NULL && d->ops == &memdev_ops ? (struct memdev *)d : NULL;
}

static void q_push(struct mqueue *q, struct mframe *f)
{
    f->next = NULL;
    if (q->tail != NULL)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
    q->count++;
}

static struct mframe *q_pop(struct mqueue *q)
{
    struct mframe *f = q->head;
    if (f == NULL)
        return NULL;
    q->head = f->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->count--;
    return f;
}

static void q_free(struct mqueue *q)
{
    struct mframe *f;
    while ((f = q_pop(q)) != NULL)
        free(f);
}

static struct mframe *frame_copy(const void *data, size_t len)
{
    struct mframe *f = malloc(sizeof *f + len);
    if (f == NULL)
        return NULL;
    f->len = len;
    if (len > 0)
        memcpy(f->data, data, len);
    return f;
}

/* Caller holds md->lock. */
static void efd_set(struct memdev *md)
{
    if (md->signalled)
        return;
    uint64_t one = 1;
    /* Cannot fail: the counter is 0 here, far from overflow. */
    if (write(md->efd, &one, sizeof one) == (ssize_t)sizeof one)
        md->signalled = true;
}

/* Caller holds md->lock. */
static void efd_clear(struct memdev *md)
{
    if (!md->signalled)
        return;
    uint64_t v;
    if (read(md->efd, &v, sizeof v) == (ssize_t)sizeof v)
        md->signalled = false;
}

static int memdev_send(struct dev *d, struct dev_frame *v, unsigned n)
{
    struct memdev *md = to_md(d);
    int done = 0;
    pthread_mutex_lock(&md->lock);
    if (md->gone) {
        pthread_mutex_unlock(&md->lock);
        return -ENODEV;
    }
    for (unsigned i = 0; i < n; i++) {
        if (md->tx.count >= MEMDEV_TX_MAX)
            break;
        struct mframe *f = frame_copy(v[i].data, v[i].len);
        if (f == NULL) {
            if (done == 0)
                done = -ENOMEM;
            break;
        }
        q_push(&md->tx, f);
        done++;
    }
    pthread_mutex_unlock(&md->lock);
    return done;
}

static int memdev_recv(struct dev *d, struct dev_frame *v, unsigned n)
{
    struct memdev *md = to_md(d);
    int got = 0;
    pthread_mutex_lock(&md->lock);
    if (md->gone) {
        pthread_mutex_unlock(&md->lock);
        return -ENODEV;
    }
    while ((unsigned)got < n) {
        struct mframe *f = q_pop(&md->rx);
        if (f == NULL)
            break;
        /* Like a TAP read: a frame longer than the buffer is truncated. */
        size_t len = f->len < v[got].cap ? f->len : v[got].cap;
        if (len > 0)
            memcpy(v[got].data, f->data, len);
        v[got].len = (uint32_t)len;
        memset(&v[got].off, 0, sizeof v[got].off);
        free(f);
        got++;
    }
    if (md->rx.count == 0)
        efd_clear(md);
    pthread_mutex_unlock(&md->lock);
    return got;
}

static int memdev_pollfd(struct dev *d)
{
    return to_md(d)->efd;
}

static void memdev_close(struct dev *d)
{
    struct memdev *md = to_md(d);
    if (md == NULL)
        return;
    q_free(&md->rx);
    q_free(&md->tx);
    close(md->efd);
    pthread_mutex_destroy(&md->lock);
    free(md);
}

static const struct dev_ops memdev_ops = {
    .send = memdev_send,
    .recv = memdev_recv,
    .pollfd = memdev_pollfd,
    .close = memdev_close,
};

struct dev *memdev_create(const char *name, uint32_t mtu)
{
    struct memdev *md = calloc(1, sizeof *md);
    if (md == NULL)
        return NULL;
    md->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (md->efd < 0) {
        free(md);
        return NULL;
    }
    if (pthread_mutex_init(&md->lock, NULL) != 0) {
        close(md->efd);
        free(md);
        return NULL;
    }
    md->dev.ops = &memdev_ops;
    snprintf(md->dev.name, sizeof md->dev.name, "%s", name != NULL ? name : "mem0");
    /* A fake ifindex, distinct for every memdev alive in the process without
     * a global counter: the eventfd number is unique among open fds. */
    md->dev.ifindex = MEMDEV_IFINDEX_BASE + md->efd;
    /* Fake kernel-side MAC: locally administered unicast 02:6d:64 ("md"),
     * then the ifindex. */
    uint32_t x = (uint32_t)md->dev.ifindex;
    const uint8_t kmac[6] = {0x02, 0x6d, 0x64, (uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x};
    memcpy(md->dev.kmac, kmac, 6);
    md->dev.mtu = mtu != 0 ? mtu : 1500;
    return &md->dev;
}

int memdev_inject(struct dev *d, const void *frame, size_t len)
{
    struct memdev *md = to_md(d);
    if (md == NULL)
        return -EINVAL;
    struct mframe *f = frame_copy(frame, len);
    if (f == NULL)
        return -ENOMEM;
    pthread_mutex_lock(&md->lock);
    q_push(&md->rx, f);
    efd_set(md);
    pthread_mutex_unlock(&md->lock);
    return 0;
}

long memdev_pop_tx(struct dev *d, void *buf, size_t cap)
{
    struct memdev *md = to_md(d);
    if (md == NULL)
        return -1;
    pthread_mutex_lock(&md->lock);
    struct mframe *f = q_pop(&md->tx);
    pthread_mutex_unlock(&md->lock);
    if (f == NULL)
        return -1;
    long len = (long)f->len;
    size_t c = f->len < cap ? f->len : cap;
    if (c > 0)
        memcpy(buf, f->data, c);
    free(f);
    return len;
}

unsigned memdev_tx_pending(struct dev *d)
{
    struct memdev *md = to_md(d);
    if (md == NULL)
        return 0;
    pthread_mutex_lock(&md->lock);
    unsigned n = md->tx.count;
    pthread_mutex_unlock(&md->lock);
    return n;
}

void memdev_set_gone(struct dev *d)
{
    struct memdev *md = to_md(d);
    if (md == NULL)
        return;
    pthread_mutex_lock(&md->lock);
    md->gone = true;
    efd_set(md); /* and recv never clears it again: the poller wakes up */
    pthread_mutex_unlock(&md->lock);
}
