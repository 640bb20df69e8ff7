/* SPDX-License-Identifier: MIT */
/*
 * bench_wsk.c - the counter to wait on and the ring of WskSendTo IRPs of
 * bench_wsk.h.
 */
#include "bench_wsk.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

/* ---- a counter to wait on ----------------------------------------------------- */
void bwsk_ctr_init(struct bwsk_ctr *w)
{
    atomic_init(&w->n, 0);
    atomic_init(&w->target, ~0ul);
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
}

void bwsk_ctr_fini(struct bwsk_ctr *w)
{
    pthread_cond_destroy(&w->c);
    pthread_mutex_destroy(&w->m);
}

/* Lock only when the waiter's target is reached.  No wake-up is lost: the
 * adder does add-then-load(target), the waiter store(target)-then-load(n),
 * all seq_cst, so at least one of them sees the other's write - either the
 * adder sees the target and signals under the mutex (after the waiter is
 * waiting, since the waiter holds the mutex from its store until it
 * waits), or the waiter sees the new n and does not wait. */
void bwsk_ctr_add(struct bwsk_ctr *w, unsigned long k)
{
    unsigned long now = atomic_fetch_add(&w->n, k) + k;
    if (now >= atomic_load(&w->target)) {
        pthread_mutex_lock(&w->m);
        pthread_cond_broadcast(&w->c);
        pthread_mutex_unlock(&w->m);
    }
}

bool bwsk_ctr_wait(struct bwsk_ctr *w, unsigned long target, uint64_t deadline)
{
    if (atomic_load(&w->n) >= target)
        return true;
    pthread_mutex_lock(&w->m);
    atomic_store(&w->target, target);
    while (atomic_load(&w->n) < target && bench_now_ns() < deadline) {
        /* Bounded slices (the condition variable's clock is CLOCK_REALTIME),
         * so the deadline is honoured whatever happens to the adder. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->c, &w->m, &ts);
    }
    atomic_store(&w->target, ~0ul);
    pthread_mutex_unlock(&w->m);
    return atomic_load(&w->n) >= target;
}

/* ---- WskSendTo with IRPs in flight ------------------------------------------------ */
/* Completion routine (a completion thread): check, count, keep the IRP. */
static NTSTATUS bwsk_tx_complete(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    struct bwsk_txslot *sl = ctx;
    (void)dev;
    if (irp->IoStatus.Status != STATUS_SUCCESS || irp->IoStatus.Information != sl->buf.Length)
        atomic_fetch_add(&sl->ring->bad, 1);
    bwsk_ctr_add(&sl->ring->done, 1);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

int bwsk_txring_init(struct bwsk_txring *r, unsigned payload)
{
    memset(r, 0, sizeof *r);
    bwsk_ctr_init(&r->done);
    atomic_init(&r->bad, 0);
    if (payload == 0 || payload > BWSK_PAYLOAD_MAX)
        return -1;
    for (unsigned i = 0; i < BWSK_TX_WINDOW; i++) {
        struct bwsk_txslot *sl = &r->slot[i];
        sl->ring = r;
        for (unsigned k = 0; k < payload; k++)
            sl->data[k] = bench_payload_byte(i, k);
        sl->irp = IoAllocateIrp(1, FALSE);
        sl->mdl = IoAllocateMdl(sl->data, payload, FALSE, FALSE, NULL);
        if (sl->irp == NULL || sl->mdl == NULL) {
            fprintf(stderr, "error: IoAllocateIrp / IoAllocateMdl failed\n");
            return -1;
        }
        MmBuildMdlForNonPagedPool(sl->mdl);
        sl->buf.Mdl = sl->mdl;
        sl->buf.Offset = 0;
        sl->buf.Length = payload;
    }
    return 0;
}

void bwsk_txring_fini(struct bwsk_txring *r)
{
    /* A send still in flight owns its IRP and buffer: leak them rather
     * than free memory the provider may still touch. */
    if (atomic_load(&r->done.n) != r->issued) {
        fprintf(stderr, "error: %lu sends never completed; their IRPs are not freed\n",
                r->issued - atomic_load(&r->done.n));
        return;
    }
    for (unsigned i = 0; i < BWSK_TX_WINDOW; i++) {
        if (r->slot[i].irp)
            IoFreeIrp(r->slot[i].irp);
        if (r->slot[i].mdl)
            IoFreeMdl(r->slot[i].mdl);
    }
    bwsk_ctr_fini(&r->done);
}

int bwsk_txring_send(struct bwsk_txring *r, PWSK_SOCKET sock, const SOCKADDR *to,
                     uint64_t deadline)
{
    struct bwsk_txslot *sl = &r->slot[r->issued % BWSK_TX_WINDOW];
    /* One socket's completion routines run in order (wsk_impl.h): once
     * issued - WINDOW + 1 have run, this slot's previous send has. */
    if (r->issued >= BWSK_TX_WINDOW &&
        !bwsk_ctr_wait(&r->done, r->issued - BWSK_TX_WINDOW + 1, deadline))
        return -1;
    IoReuseIrp(sl->irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(sl->irp, bwsk_tx_complete, sl, TRUE, TRUE, TRUE);
    r->issued++;
    /* Whatever it returns (success, pending, an error), the completion
     * routine runs and checks the final status. */
    const WSK_PROVIDER_DATAGRAM_DISPATCH *d = sock->Dispatch;
    (void)d->WskSendTo(sock, &sl->buf, 0, (PSOCKADDR)to, 0, NULL, sl->irp);
    return 0;
}

bool bwsk_txring_wait(struct bwsk_txring *r, uint64_t deadline)
{
    return bwsk_ctr_wait(&r->done, r->issued, deadline);
}
