/* SPDX-License-Identifier: MIT */
/*
 * compl.c - completion threads and per-socket completion queues.
 *
 * See DESIGN DECISIONS in wsk_impl.h.  In short: every IRP the provider
 * accepted is completed by IofCompleteRequest on one of the provider's
 * completion threads, from the FIFO queue of the socket it belongs to; one
 * queue is drained by one thread at a time, so a socket's completion
 * routines never overlap and run in queue order.  A caller whose result is
 * already known queues its IRP and waits for the routine to have run
 * (wsk_complete_sync), unless it is itself running on a completion thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsk/wsk_impl.h"

/* Entries drained from one queue before the thread lets other queues run. */
#define WSK_CQ_BATCH 64

/* The provider whose completion thread this is (NULL on other threads).
 * Thread-local, not shared state: it only answers "may I wait here?". */
static _Thread_local const struct wsk_provider *tls_compl_prov;

bool wsk_on_compl_thread(const struct wsk_provider *prov)
{
    return tls_compl_prov == prov;
}

bool wsk_irp_take(PIRP irp)
{
    /* IoSetCompletionRoutine wrote the NEXT location; a lower driver makes
     * it current.  CurrentLocation 1 means no location is left. */
    if (irp == NULL || irp->CurrentLocation <= 1)
        return false;
    IoSetNextIrpStackLocation(irp);
    return true;
}

bool wsk_irp_accept(struct wsk_provider *prov, PIRP irp, enum wsk_call call)
{
    WSK_TRACE_IRP(prov, WSK_IRP_ISSUED, call, irp, 0, 0);
    if (wsk_irp_take(irp))
        return true;
    WSK_TRACE_IRP(prov, WSK_IRP_REFUSED, call, irp, STATUS_INVALID_PARAMETER, 0);
    return false;
}

void wsk_cq_push_locked(struct wsk_provider *prov, struct wsk_cq *q, struct wsk_cqe *e)
{
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    if (!q->scheduled) {
        q->scheduled = true;
        q->runq_next = NULL;
        if (prov->runq_tail)
            prov->runq_tail->runq_next = q;
        else
            prov->runq_head = q;
        prov->runq_tail = q;
        pthread_cond_signal(&prov->work_cv);
    }
}

void wsk_cq_push(struct wsk_provider *prov, struct wsk_cq *q, struct wsk_cqe *e)
{
    pthread_mutex_lock(&prov->lock);
    wsk_cq_push_locked(prov, q, e);
    pthread_mutex_unlock(&prov->lock);
}

/* Deliver one completion.  No lock held.  e may be gone once the routine or
 * release() ran, so everything needed afterwards is read first. */
static void wsk_cqe_run(struct wsk_provider *prov, struct wsk_cqe *e)
{
    PIRP irp = e->irp;
    struct wsk_waiter *w = e->waiter;
    void (*release)(struct wsk_cqe *) = e->release;
    (void)prov;

    if (irp == NULL) {
        /* Work in the queue's order (event callbacks, wsk_impl.h): e may
         * be queued again from inside, so it is not touched afterwards. */
        e->work(e);
        return;
    }

    irp->IoStatus.Status = e->status;
    irp->IoStatus.Information = e->info;
    WSK_TRACE_IRP(prov, WSK_IRP_COMPLETED, e->call, irp, e->status, e->info);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    if (release)
        release(e);
    if (w) {
        /* The waiter lives on the caller's stack: after the unlock it may
         * be gone (POSIX allows destroying it once the waiter returned). */
        pthread_mutex_lock(&w->m);
        w->done = true;
        pthread_cond_signal(&w->c);
        pthread_mutex_unlock(&w->m);
    }
}

static void *wsk_compl_thread(void *arg)
{
    struct wsk_provider *prov = arg;
    tls_compl_prov = prov;

    pthread_mutex_lock(&prov->lock);
    for (;;) {
        while (prov->runq_head == NULL && !prov->stopping)
            pthread_cond_wait(&prov->work_cv, &prov->lock);
        struct wsk_cq *q = prov->runq_head;
        if (q == NULL)
            break; /* stopping, nothing left */
        prov->runq_head = q->runq_next;
        if (prov->runq_head == NULL)
            prov->runq_tail = NULL;

        unsigned n = 0;
        for (;;) {
            struct wsk_cqe *e = q->head;
            if (e == NULL) {
                q->scheduled = false;
                break;
            }
            if (n++ == WSK_CQ_BATCH) {
                /* Let other sockets run; q stays scheduled (nobody else
                 * takes it before it comes round again). */
                q->runq_next = NULL;
                if (prov->runq_tail)
                    prov->runq_tail->runq_next = q;
                else
                    prov->runq_head = q;
                prov->runq_tail = q;
                break;
            }
            q->head = e->next;
            if (q->head == NULL)
                q->tail = NULL;
            bool last = e->last;
            pthread_mutex_unlock(&prov->lock);
            wsk_cqe_run(prov, e);
            pthread_mutex_lock(&prov->lock);
            if (last)
                break; /* q was freed with its socket */
        }
    }
    pthread_mutex_unlock(&prov->lock);
    return NULL;
}

int wsk_provider_start(struct wsk_provider *prov, struct wskstack *st)
{
    memset(prov, 0, sizeof(*prov));
    prov->st = st;
    prov->trace_mask = stack_trace_mask(st); /* fixed once the stack runs */
    pthread_mutex_init(&prov->lock, NULL);
    pthread_mutex_init(&prov->socks_lock, NULL);
    pthread_cond_init(&prov->work_cv, NULL);
    atomic_init(&prov->gone, false);
    for (unsigned i = 0; i < WSK_COMPL_THREADS; i++) {
        int rc = pthread_create(&prov->threads[i], NULL, wsk_compl_thread, prov);
        if (rc != 0) {
            wsk_provider_stop(prov);
            return -rc;
        }
        prov->n_threads++;
    }
    return 0;
}

void wsk_provider_stop(struct wsk_provider *prov)
{
    pthread_mutex_lock(&prov->lock);
    prov->stopping = true;
    pthread_cond_broadcast(&prov->work_cv);
    pthread_mutex_unlock(&prov->lock);
    for (unsigned i = 0; i < prov->n_threads; i++)
        pthread_join(prov->threads[i], NULL);
    prov->n_threads = 0;
    pthread_cond_destroy(&prov->work_cv);
    pthread_mutex_destroy(&prov->socks_lock);
    pthread_mutex_destroy(&prov->lock);
}

static void wsk_cqe_free(struct wsk_cqe *e)
{
    free(e);
}

NTSTATUS wsk_complete_sync_e(struct wsk_provider *prov, struct wsk_cq *q, struct wsk_cqe *e)
{
    NTSTATUS status = e->status;
    if (wsk_on_compl_thread(prov)) {
        /* Waiting here would wait for ourselves.  e outlives the call
         * (heap), the routine runs after we return. */
        WSK_TRACE_IRP(prov, WSK_IRP_PENDED, e->call, e->irp, STATUS_PENDING, 0);
        IoMarkIrpPending(e->irp);
        e->waiter = NULL;
        wsk_cq_push(prov, q, e);
        return STATUS_PENDING;
    }
    /* The waiter is private to this call (not prov->lock): the provider may
     * be stopped by a WskDeregister as soon as the routine of a close ran,
     * while this thread is still waking up. */
    struct wsk_waiter w = {.done = false};
    pthread_mutex_init(&w.m, NULL);
    pthread_cond_init(&w.c, NULL);
    e->waiter = &w;
    wsk_cq_push(prov, q, e);
    pthread_mutex_lock(&w.m);
    while (!w.done)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);
    pthread_cond_destroy(&w.c);
    pthread_mutex_destroy(&w.m);
    return status;
}

NTSTATUS wsk_complete_sync(struct wsk_provider *prov, struct wsk_cq *q, enum wsk_call call,
                           PIRP irp, NTSTATUS status, ULONG_PTR info)
{
    if (!NT_SUCCESS(status))
        info = 0; /* WSK-SPEC 5.1: Information is 0 on error */
    if (wsk_on_compl_thread(prov)) {
        struct wsk_cqe *e = calloc(1, sizeof(*e));
        if (e == NULL) {
            /* Documented exception: no memory for the record, and we are on
             * a completion thread already: complete inline, before the call
             * returns (WSK allows that), with PendingReturned FALSE. */
            irp->IoStatus.Status = status;
            irp->IoStatus.Information = info;
            WSK_TRACE_IRP(prov, WSK_IRP_COMPLETED, call, irp, status, info);
            IoCompleteRequest(irp, IO_NO_INCREMENT);
            return status;
        }
        e->irp = irp;
        e->status = status;
        e->info = info;
        e->release = wsk_cqe_free;
        e->call = (uint8_t)call;
        return wsk_complete_sync_e(prov, q, e);
    }
    struct wsk_cqe e = {.irp = irp, .status = status, .info = info, .call = (uint8_t)call};
    return wsk_complete_sync_e(prov, q, &e);
}
