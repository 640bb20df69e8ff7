/* SPDX-License-Identifier: MIT */
/*
 * ws_wait.c - per-thread APC queues, WSAEVENTs, alertable waits.
 *
 * Each thread that issues an overlapped operation with a completion routine
 * (or waits) gets a struct ws_thread (pthread key; freed when the thread
 * exits and no operation refers to it any more).  The IRP completion
 * routine - on a WSK completion thread - queues an APC record to the
 * ISSUING thread; SleepEx(..., TRUE) and WSAWaitForMultipleEvents(...,
 * TRUE) of that thread run every queued routine (including ones queued
 * meanwhile) and return WAIT_IO_COMPLETION.  A routine that itself waits
 * alertably runs nothing (t->in_apc): routines of one thread never nest.
 * Routines queued to a thread that has exited are dropped (Windows cancels
 * a thread's I/O when it exits).
 *
 * A WSAEVENT is a pointer to a refcounted struct ws_event (manual reset).
 * Waiters register a node on each event they wait for; setting an event
 * wakes each registered thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "wsk/winsock/ws_impl.h"

static pthread_key_t ws_thread_key;
static pthread_once_t ws_thread_once = PTHREAD_ONCE_INIT;

void ws_thread_put(struct ws_thread *t)
{
    if (atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    while (t->head) {
        struct ws_apc *a = t->head;
        t->head = a->next;
        free(a);
    }
    pthread_cond_destroy(&t->c);
    pthread_mutex_destroy(&t->m);
    free(t);
}

static void ws_thread_exit(void *p)
{
    struct ws_thread *t = p;
    pthread_mutex_lock(&t->m);
    t->alive = false;
    struct ws_apc *a = t->head;
    t->head = t->tail = NULL;
    pthread_mutex_unlock(&t->m);
    while (a) {
        struct ws_apc *n = a->next;
        free(a);
        a = n;
    }
    ws_thread_put(t);
}

static void ws_thread_key_init(void) { pthread_key_create(&ws_thread_key, ws_thread_exit); }

struct ws_thread *ws_thread_self(void)
{
    pthread_once(&ws_thread_once, ws_thread_key_init);
    struct ws_thread *t = pthread_getspecific(ws_thread_key);
    if (t)
        return t;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    atomic_init(&t->refs, 1);
    pthread_mutex_init(&t->m, NULL);
    pthread_cond_init(&t->c, NULL);
    t->alive = true;
    pthread_setspecific(ws_thread_key, t);
    return t;
}

void ws_apc_queue(struct ws_thread *t, LPWSAOVERLAPPED_COMPLETION_ROUTINE fn, DWORD err,
                  DWORD bytes, LPWSAOVERLAPPED ov)
{
    struct ws_apc *a = calloc(1, sizeof(*a));
    if (a == NULL)
        abort(); /* a lost completion would hang the application */
    a->fn = fn;
    a->err = err;
    a->bytes = bytes;
    a->ov = ov;
    pthread_mutex_lock(&t->m);
    if (!t->alive) {
        pthread_mutex_unlock(&t->m);
        free(a);
        return;
    }
    if (t->tail)
        t->tail->next = a;
    else
        t->head = a;
    t->tail = a;
    t->kicked = true;
    pthread_cond_broadcast(&t->c);
    pthread_mutex_unlock(&t->m);
}

/* Run every queued routine of the calling thread (not nested).  Returns
 * the number run. */
static unsigned ws_apc_drain(struct ws_thread *t)
{
    unsigned n = 0;
    if (t->in_apc)
        return 0;
    for (;;) {
        pthread_mutex_lock(&t->m);
        struct ws_apc *a = t->head;
        if (a) {
            t->head = a->next;
            if (t->head == NULL)
                t->tail = NULL;
        }
        pthread_mutex_unlock(&t->m);
        if (a == NULL)
            return n;
        t->in_apc = true;
        a->fn(a->err, a->bytes, a->ov, a->flags);
        t->in_apc = false;
        free(a);
        n++;
    }
}

static bool ws_apc_pending(struct ws_thread *t)
{
    if (t->in_apc)
        return false;
    pthread_mutex_lock(&t->m);
    bool p = t->head != NULL;
    pthread_mutex_unlock(&t->m);
    return p;
}

/* ---- time ---- */
static void ws_deadline(struct timespec *ts, DWORD ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}
static bool ws_past(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* Sleep on t->c until kicked or the deadline (NULL = forever). */
static void ws_thread_block(struct ws_thread *t, const struct timespec *dl)
{
    /* t->c uses CLOCK_REALTIME by default: wait in slices of <= 50 ms and
     * re-check the monotonic deadline, so clock jumps cannot extend it. */
    pthread_mutex_lock(&t->m);
    while (!t->kicked) {
        if (dl && ws_past(dl))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->c, &t->m, &ts);
    }
    t->kicked = false;
    pthread_mutex_unlock(&t->m);
}

DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable)
{
    struct ws_thread *t = ws_thread_self();
    struct timespec dl;
    if (dwMilliseconds != INFINITE)
        ws_deadline(&dl, dwMilliseconds);
    for (;;) {
        if (bAlertable && ws_apc_drain(t) > 0)
            return WAIT_IO_COMPLETION;
        if (dwMilliseconds != INFINITE && ws_past(&dl))
            return 0;
        if (!bAlertable && dwMilliseconds == INFINITE) {
            /* never returns, as on Windows; still bounded per slice */
            ws_thread_block(t, NULL);
            continue;
        }
        ws_thread_block(t, dwMilliseconds == INFINITE ? NULL : &dl);
    }
}

VOID WINAPI Sleep(DWORD dwMilliseconds) { (void)SleepEx(dwMilliseconds, FALSE); }

/* ---- events ---- */
WSAEVENT WSAAPI WSACreateEvent(void)
{
    struct ws_event *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        ws_err(WSA_NOT_ENOUGH_MEMORY);
        return WSA_INVALID_EVENT;
    }
    e->magic = WS_EVENT_MAGIC;
    atomic_init(&e->refs, 1);
    pthread_mutex_init(&e->m, NULL);
    return (WSAEVENT)e;
}

struct ws_event *ws_event_get(WSAEVENT h)
{
    struct ws_event *e = h;
    if (e == NULL || e->magic != WS_EVENT_MAGIC)
        return NULL;
    atomic_fetch_add(&e->refs, 1);
    return e;
}

void ws_event_put(struct ws_event *e)
{
    if (atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&e->m);
    free(e);
}

void ws_event_set(struct ws_event *e, bool on)
{
    pthread_mutex_lock(&e->m);
    e->signaled = on;
    if (on) {
        for (struct ws_evwait *w = e->waiters; w; w = w->next) {
            pthread_mutex_lock(&w->t->m);
            w->t->kicked = true;
            pthread_cond_broadcast(&w->t->c);
            pthread_mutex_unlock(&w->t->m);
        }
    }
    pthread_mutex_unlock(&e->m);
}

static BOOL ws_event_op(WSAEVENT h, int op)
{
    struct ws_event *e = ws_event_get(h);
    if (e == NULL) {
        ws_err(WSA_INVALID_HANDLE);
        return FALSE;
    }
    if (op == 2) {
        e->magic = 0; /* the handle is invalid from now on */
        ws_event_put(e);
    } else {
        ws_event_set(e, op == 1);
    }
    ws_event_put(e);
    return TRUE;
}

BOOL WSAAPI WSASetEvent(WSAEVENT hEvent) { return ws_event_op(hEvent, 1); }
BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent) { return ws_event_op(hEvent, 0); }
BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent) { return ws_event_op(hEvent, 2); }

static bool ws_event_is_set(struct ws_event *e)
{
    pthread_mutex_lock(&e->m);
    bool on = e->signaled;
    pthread_mutex_unlock(&e->m);
    return on;
}

DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents, const WSAEVENT *lphEvents, BOOL fWaitAll,
                                      DWORD dwTimeout, BOOL fAlertable)
{
    if (cEvents == 0 || cEvents > WSA_MAXIMUM_WAIT_EVENTS || lphEvents == NULL) {
        ws_err(WSA_INVALID_PARAMETER);
        return WSA_WAIT_FAILED;
    }
    struct ws_event *ev[WSA_MAXIMUM_WAIT_EVENTS];
    struct ws_evwait node[WSA_MAXIMUM_WAIT_EVENTS];
    struct ws_thread *t = ws_thread_self();
    for (DWORD i = 0; i < cEvents; i++) {
        ev[i] = ws_event_get(lphEvents[i]);
        if (ev[i] == NULL) {
            for (DWORD k = 0; k < i; k++)
                ws_event_put(ev[k]);
            ws_err(WSA_INVALID_HANDLE);
            return WSA_WAIT_FAILED;
        }
    }
    for (DWORD i = 0; i < cEvents; i++) {
        node[i].t = t;
        pthread_mutex_lock(&ev[i]->m);
        node[i].next = ev[i]->waiters;
        ev[i]->waiters = &node[i];
        pthread_mutex_unlock(&ev[i]->m);
    }
    struct timespec dl;
    if (dwTimeout != WSA_INFINITE)
        ws_deadline(&dl, dwTimeout);
    DWORD result;
    for (;;) {
        /* the objects first, then the APCs (as the NT wait does) */
        DWORD first = WSA_WAIT_FAILED, nset = 0;
        for (DWORD i = 0; i < cEvents; i++) {
            if (ws_event_is_set(ev[i])) {
                nset++;
                if (first == WSA_WAIT_FAILED)
                    first = i;
            }
        }
        if (fWaitAll ? nset == cEvents : nset > 0) {
            result = WSA_WAIT_EVENT_0 + (fWaitAll ? 0 : first);
            break;
        }
        if (fAlertable && ws_apc_pending(t)) {
            result = WSA_WAIT_IO_COMPLETION;
            break;
        }
        if (dwTimeout != WSA_INFINITE && ws_past(&dl)) {
            result = WSA_WAIT_TIMEOUT;
            break;
        }
        ws_thread_block(t, dwTimeout == WSA_INFINITE ? NULL : &dl);
    }
    for (DWORD i = 0; i < cEvents; i++) {
        pthread_mutex_lock(&ev[i]->m);
        for (struct ws_evwait **pp = &ev[i]->waiters; *pp; pp = &(*pp)->next) {
            if (*pp == &node[i]) {
                *pp = node[i].next;
                break;
            }
        }
        pthread_mutex_unlock(&ev[i]->m);
        ws_event_put(ev[i]);
    }
    if (result == WSA_WAIT_IO_COMPLETION)
        ws_apc_drain(t); /* outside every event lock */
    return result;
}
