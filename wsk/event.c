/* SPDX-License-Identifier: MIT */
/*
 * event.c - WskReceiveFromEvent: enabling and disabling it
 * (SO_WSK_EVENT_CALLBACK, WSK_SET_STATIC_EVENT_CALLBACKS), building the
 * WSK_DATAGRAM_INDICATION lists, the callback's result, WskRelease, and the
 * NULL indication when the device disappears.
 *
 * Design: "Receive events" in wsk_impl.h.  The callbacks run as work
 * entries of the socket's completion queue (compl.c), so a socket's
 * callbacks never overlap, and the close IRP - queued behind them - cannot
 * complete while one runs (DDI WskCloseSocket: close waits for callbacks
 * in progress; none afterwards).
 *
 * Statuses chosen here (README API section):
 *   SO_WSK_EVENT_CALLBACK (WskSetOption, SOL_SOCKET; WSK-SPEC 5.7)
 *     InputSize < sizeof(WSK_EVENT_CALLBACK_CONTROL), InputBuffer NULL,
 *     NpiId NULL or not NPI_WSK_INTERFACE_ID   -> STATUS_INVALID_PARAMETER
 *     a basic socket, an event other than WSK_EVENT_RECEIVE_FROM (alone or
 *     with WSK_EVENT_DISABLE)                  -> STATUS_INVALID_PARAMETER
 *     the event was enabled statically (WSK_SET_STATIC_EVENT_CALLBACKS:
 *     "cannot be disabled or re-enabled")      -> STATUS_INVALID_PARAMETER
 *     socket closing -> STATUS_INVALID_DEVICE_STATE; device gone ->
 *     STATUS_FILE_FORCED_CLOSED
 *     enable: not bound -> STATUS_INVALID_DEVICE_STATE (DOCS: after bind);
 *       no WskReceiveFromEvent in the socket's client dispatch ->
 *       STATUS_INVALID_PARAMETER; else STATUS_SUCCESS (again: SUCCESS).
 *       Datagrams already queued are indicated first.  An IRP, if given
 *       (DOCS: NULL), is completed with the result.
 *     disable: no callback in progress -> STATUS_SUCCESS; callbacks in
 *       progress: with an IRP -> STATUS_PENDING, the IRP completes (SUCCESS)
 *       right after they returned; without -> STATUS_EVENT_PENDING.  No new
 *       callback starts after the call.  Disabling a disabled event ->
 *       STATUS_SUCCESS.
 *   WskRelease: see wsk_impl.h (STATUS_SUCCESS / STATUS_INVALID_PARAMETER).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wsk/wsk_impl.h"

/* ---- indication elements ------------------------------------------------------ */
static void wsk_ind_free(struct wskstack *st, struct wsk_ind *ind)
{
    if (ind->mdl != NULL)
        IoFreeMdl(ind->mdl);
    pkt_free(st, ind->d->p);
    free(ind->d);
    ind->magic = 0;
    free(ind);
}

/* Build one element over the datagram's own packet buffer (no copy).
 * NULL: no memory. */
static struct wsk_ind *wsk_ind_new(const struct wsk_sock *s, struct wskstack *st,
                                   const struct wsk_opts *o, struct wsk_dgram *d)
{
    struct wsk_ind *ind = calloc(1, sizeof(*ind));
    if (ind == NULL)
        return NULL;
    ind->magic = WSK_IND_MAGIC;
    ind->d = d;
    uint32_t len = d->p->len;
    if (len > 0) {
        /* DDI WSK_DATAGRAM_INDICATION: Buffer describes the datagram; a
         * non-paged MDL with MappedSystemVa set, readable directly or via
         * MmGetSystemAddressForMdlSafe (ovpn-dco-win walks it). */
        ind->mdl = IoAllocateMdl(pkt_data(d->p), len, FALSE, FALSE, NULL);
        if (ind->mdl == NULL) {
            free(ind);
            return NULL;
        }
        MmBuildMdlForNonPagedPool(ind->mdl);
    }
    /* Length 0: Mdl NULL (DDI WSK_BUF: Mdl may be NULL only if Length is 0;
     * MmBuildMdlForNonPagedPool refuses an empty buffer). */
    ind->di.Next = NULL;
    ind->di.Buffer.Mdl = ind->mdl;
    ind->di.Buffer.Offset = 0;
    ind->di.Buffer.Length = len;
    wsk_sockaddr_put(s, (SOCKADDR *)&ind->remote, &d->info.src, d->info.sport);
    ind->di.RemoteAddress = (PSOCKADDR)&ind->remote;
    bool ctrunc = false;
    ULONG cl = wsk_rx_cmsgs(st, o, &d->info, (uint8_t *)ind->ctl, sizeof(ind->ctl), &ctrunc);
    ind->di.ControlInfo = cl > 0 ? (PCMSGHDR)ind->ctl : NULL;
    ind->di.ControlInfoLength = cl;
    return ind;
}

/* Put a block of elements (in order) at the head of s->held.  s->lock held. */
static void wsk_held_add_locked(struct wsk_sock *s, struct wsk_ind *first, struct wsk_ind *last,
                                unsigned n)
{
    last->held_next = s->held;
    if (s->held != NULL)
        s->held->held_prev = last;
    first->held_prev = NULL;
    s->held = first;
    s->held_count += n;
}

static void wsk_held_del_locked(struct wsk_sock *s, struct wsk_ind *ind)
{
    if (ind->held_prev != NULL)
        ind->held_prev->held_next = ind->held_next;
    else
        s->held = ind->held_next;
    if (ind->held_next != NULL)
        ind->held_next->held_prev = ind->held_prev;
    ind->held_next = ind->held_prev = NULL;
    s->held_count--;
}

static bool wsk_held_has_locked(const struct wsk_sock *s, const void *p)
{
    for (const struct wsk_ind *i = s->held; i != NULL; i = i->held_next)
        if ((const void *)i == p)
            return true;
    return false;
}

/* ---- scheduling ---------------------------------------------------------------- */
void wsk_event_kick_locked(struct wsk_sock *s)
{
    if (!s->ev_enabled || s->ev_wait_new || s->ind_scheduled || s->closing ||
        s->dq_head == NULL || s->held_count >= WSK_IND_MAX_HELD)
        return;
    s->ind_scheduled = true;
    wsk_cq_push(s->prov, &s->cq, &s->ind_cqe);
}

/* The wsk line of one indication: the datagrams indicated, the client's
 * answer and what the provider did with them (s->lock held, after the
 * answer was applied). */
static void wsk_ind_trace(struct wsk_sock *s, unsigned n, NTSTATUS r)
{
    const char *then = ", dropped"; /* any other status (WSK-SPEC 5.6) */
    if (r == STATUS_SUCCESS)
        then = "";
    else if (r == STATUS_PENDING)
        then = ", the client holds them until WskRelease";
    else if (r == STATUS_DATA_NOT_ACCEPTED && s->closing)
        then = ", dropped (socket closing)";
    else if (r == STATUS_DATA_NOT_ACCEPTED && s->ev_static)
        then = ", back to the receive queue; indicated again with the next arrival";
    else if (r == STATUS_DATA_NOT_ACCEPTED)
        then = ", back to the receive queue; event disabled until SO_WSK_EVENT_CALLBACK";
    struct trace_fields f = {.call = "WskReceiveFromEvent", .status = wsk_status_str(r)};
    trace_event(s->prov->st, TL_WSK, TD_RX, "indicate", &f,
                "receive: %u datagram(s) indicated to WskReceiveFromEvent: %s%s", n, f.status,
                then);
}

/* Work entry: indicate what is queued (completion thread, no lock). */
static void wsk_ind_work(struct wsk_cqe *e)
{
    struct wsk_sock *s = CONTAINING_RECORD(e, struct wsk_sock, ind_cqe);
    struct wskstack *st = s->prov->st;

    pthread_mutex_lock(&s->lock);
    s->ind_scheduled = false;
    PFN_WSK_RECEIVE_FROM_EVENT cb = wsk_rx_event_fn(s);
    if (!s->ev_enabled || s->ev_wait_new || s->closing || cb == NULL) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    /* One list: up to WSK_IND_BATCH datagrams, within the held bound, with
     * the same MSG_BCAST/MSG_MCAST (the Flags describe the whole list). */
    unsigned room = WSK_IND_MAX_HELD - s->held_count;
    if (room > WSK_IND_BATCH)
        room = WSK_IND_BATCH;
    struct wsk_dgram *dl[WSK_IND_BATCH];
    unsigned n = 0;
    while (n < room && s->dq_head != NULL) {
        if (n > 0 && (s->dq_head->info.bcast != dl[0]->info.bcast ||
                      s->dq_head->info.mcast != dl[0]->info.mcast))
            break;
        dl[n++] = wsk_dq_pop_locked(s);
    }
    if (n == 0) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    struct wsk_opts opts = s->o;
    uint64_t batch = ++s->ind_seq;
    s->ev_inflight++;
    pthread_mutex_unlock(&s->lock);

    ULONG flags = (dl[0]->info.bcast ? MSG_BCAST : 0) | (dl[0]->info.mcast ? MSG_MCAST : 0);
    struct wsk_ind *first = NULL, *last = NULL;
    unsigned built = 0, lost = 0;
    for (unsigned i = 0; i < n; i++) {
        struct wsk_ind *ind = wsk_ind_new(s, st, &opts, dl[i]);
        if (ind == NULL) {
            pkt_free(st, dl[i]->p); /* no memory for the element: dropped */
            free(dl[i]);
            lost++;
            continue;
        }
        ind->batch = batch;
        if (last != NULL) {
            last->di.Next = &ind->di;
            last->held_next = ind;
            ind->held_prev = last;
        } else {
            first = ind;
        }
        last = ind;
        built++;
    }

    pthread_mutex_lock(&s->lock);
    s->stat_ev_dropped += lost;
    if (built > 0)
        wsk_held_add_locked(s, first, last, built);
    pthread_mutex_unlock(&s->lock);

    /* The client may split the list, overwrite Next and release elements
     * from other threads before this returns; the provider reads nothing
     * of the list afterwards but its own held list (WSK-SPEC 5.6). */
    if (lost > 0)
        WSK_TRACE(s->prov, TD_RX, "drop",
                  "receive: %u datagram(s) dropped: no memory for the indication element", lost);
    NTSTATUS r = built > 0 ? cb(s->context, flags, &first->di) : STATUS_SUCCESS;

    struct wsk_ind *mine = NULL, **tail = &mine;
    pthread_mutex_lock(&s->lock);
    s->ev_inflight--;
    if (r != STATUS_PENDING) {
        /* The elements of this list the client did not release (all of
         * them unless it misbehaved), in list order: the block is
         * contiguous in s->held. */
        struct wsk_ind *i = s->held;
        while (i != NULL) {
            struct wsk_ind *next = i->held_next;
            if (i->batch == batch) {
                wsk_held_del_locked(s, i);
                *tail = i;
                tail = &i->batch_next;
                *tail = NULL;
            }
            i = next;
        }
    }
    if (r == STATUS_DATA_NOT_ACCEPTED && !s->closing) {
        /* Back to the head of the receive queue, in order; a later
         * WskReceiveFrom gets them (DDI WskReceiveFromEvent). */
        struct wsk_dgram *h = NULL, *dlast = NULL;
        for (struct wsk_ind *i = mine; i != NULL; i = i->batch_next) {
            if (dlast != NULL)
                dlast->next = i->d;
            else
                h = i->d;
            dlast = i->d;
            s->dq_count++;
            s->dq_bytes += i->d->p->len;
            i->d = NULL;
        }
        if (h != NULL) {
            dlast->next = s->dq_head;
            if (s->dq_head == NULL)
                s->dq_tail = dlast;
            s->dq_head = h;
        }
        if (s->ev_static)
            s->ev_wait_new = true; /* stays enabled: next arrival */
        else
            s->ev_enabled = false; /* until SO_WSK_EVENT_CALLBACK again */
    } else if (r != STATUS_SUCCESS && r != STATUS_PENDING) {
        for (struct wsk_ind *i = mine; i != NULL; i = i->batch_next)
            s->stat_ev_dropped++; /* "not accepted": dropped (WSK-SPEC 5.6) */
    }
    if (built > 0 && WSK_TRACING(s->prov))
        wsk_ind_trace(s, built, r);
    wsk_event_kick_locked(s); /* more arrived meanwhile */
    pthread_mutex_unlock(&s->lock);

    while (mine != NULL) {
        struct wsk_ind *next = mine->batch_next;
        if (mine->d == NULL) { /* its datagram went back to the queue */
            if (mine->mdl != NULL)
                IoFreeMdl(mine->mdl);
            mine->magic = 0;
            free(mine);
        } else {
            wsk_ind_free(st, mine);
        }
        mine = next;
    }
}

/* Work entry: the device disappeared (DataIndication NULL: "the socket is
 * no longer functional", DDI WskReceiveFromEvent). */
static void wsk_gone_work(struct wsk_cqe *e)
{
    struct wsk_sock *s = CONTAINING_RECORD(e, struct wsk_sock, gone_cqe);
    pthread_mutex_lock(&s->lock);
    PFN_WSK_RECEIVE_FROM_EVENT cb = wsk_rx_event_fn(s);
    if (!s->ev_enabled || s->closing || cb == NULL) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->ev_inflight++;
    pthread_mutex_unlock(&s->lock);
    NTSTATUS r = cb(s->context, 0, NULL); /* the result has no meaning here */
    if (WSK_TRACING(s->prov)) {
        struct trace_fields f = {.call = "WskReceiveFromEvent", .status = wsk_status_str(r)};
        trace_event(s->prov->st, TL_WSK, TD_RX, "indicate", &f,
                    "receive: device gone indicated to WskReceiveFromEvent (DataIndication "
                    "NULL): %s",
                    f.status);
    }
    pthread_mutex_lock(&s->lock);
    s->ev_inflight--;
    pthread_mutex_unlock(&s->lock);
}

void wsk_event_gone_locked(struct wsk_sock *s)
{
    if (s->gone_sent || !s->ev_enabled || s->closing)
        return;
    s->gone_sent = true;
    wsk_cq_push(s->prov, &s->cq, &s->gone_cqe);
}

void wsk_event_sock_init(struct wsk_sock *s, ULONG static_events)
{
    memset(&s->ind_cqe, 0, sizeof(s->ind_cqe));
    s->ind_cqe.work = wsk_ind_work;
    memset(&s->gone_cqe, 0, sizeof(s->gone_cqe));
    s->gone_cqe.work = wsk_gone_work;
    /* WSK_SET_STATIC_EVENT_CALLBACKS: each new socket gets the bits of its
     * category (DOCS); active once bound. */
    if (s->kind == WSK_SOCK_DGRAM && (static_events & WSK_EVENT_RECEIVE_FROM) &&
        wsk_rx_event_fn(s) != NULL) {
        s->ev_static = true;
        s->ev_enabled = true;
    }
}

void wsk_event_sock_fini(struct wsk_sock *s)
{
    /* Elements the client never released (DDI: it must, before closing). */
    struct wskstack *st = s->prov->st;
    while (s->held != NULL) {
        struct wsk_ind *i = s->held;
        wsk_held_del_locked(s, i);
        wsk_ind_free(st, i);
    }
}

/* ---- enable / disable --------------------------------------------------------------- */
static void wsk_event_cqe_free(struct wsk_cqe *e)
{
    free(e);
}

bool wsk_event_ctl_get(SIZE_T InputSize, const void *InputBuffer, ULONG *mask)
{
    WSK_EVENT_CALLBACK_CONTROL c;
    if (InputBuffer == NULL || InputSize < sizeof(c))
        return false;
    memcpy(&c, InputBuffer, sizeof(c));
    /* Clients pass &NPI_WSK_INTERFACE_ID; compare the GUID, not the pointer. */
    if (c.NpiId == NULL || memcmp(c.NpiId, &NPI_WSK_INTERFACE_ID, sizeof(NPIID)) != 0)
        return false;
    *mask = c.EventMask;
    return true;
}

/* The wsk line of SO_WSK_EVENT_CALLBACK: what became of the event. */
static void wsk_event_ctl_trace(struct wsk_sock *s, NTSTATUS status, const char *what)
{
    struct trace_fields f = {.call = "WskControlSocket", .status = wsk_status_str(status)};
    trace_event(s->prov->st, TL_WSK, TD_NONE, NT_SUCCESS(status) ? "event" : "refuse", &f,
                "event WSK_EVENT_RECEIVE_FROM %s: %s", what, f.status);
}

/* May the event be enabled / disabled now?  s->lock held.  Not: the
 * status and *why. */
static NTSTATUS wsk_event_ctl_check_locked(struct wsk_sock *s, bool disable, const char **why)
{
    if (s->ev_static) {
        *why = "not changed (enabled by WSK_SET_STATIC_EVENT_CALLBACKS)";
        return STATUS_INVALID_PARAMETER;
    }
    if (s->closing) {
        *why = "not changed (socket closing)";
        return STATUS_INVALID_DEVICE_STATE;
    }
    if (s->gone || stack_dev_gone(s->prov->st)) {
        *why = "not changed (device gone)";
        return STATUS_FILE_FORCED_CLOSED;
    }
    if (!disable && !s->bound) {
        *why = "not enabled (socket not bound)";
        return STATUS_INVALID_DEVICE_STATE;
    }
    if (!disable && wsk_rx_event_fn(s) == NULL) {
        *why = "not enabled (no WskReceiveFromEvent in the socket's client dispatch)";
        return STATUS_INVALID_PARAMETER;
    }
    return STATUS_SUCCESS;
}

NTSTATUS wsk_event_control(struct wsk_sock *s, SIZE_T InputSize, PVOID InputBuffer, PIRP Irp)
{
    ULONG mask;
    if (!wsk_event_ctl_get(InputSize, InputBuffer, &mask) || s->kind != WSK_SOCK_DGRAM)
        return STATUS_INVALID_PARAMETER;
    bool disable = (mask & WSK_EVENT_DISABLE) != 0;
    if ((mask & ~(ULONG)WSK_EVENT_DISABLE) != WSK_EVENT_RECEIVE_FROM)
        return STATUS_INVALID_PARAMETER; /* the only datagram event */

    pthread_mutex_lock(&s->lock);
    const char *why = "";
    NTSTATUS status = wsk_event_ctl_check_locked(s, disable, &why);
    if (!NT_SUCCESS(status)) {
        if (WSK_TRACING(s->prov))
            wsk_event_ctl_trace(s, status, why);
        pthread_mutex_unlock(&s->lock);
        return status;
    }
    if (!disable) {
        s->ev_enabled = true;
        s->ev_wait_new = false;
        WSK_TRACE_F(s->prov, TD_NONE, "event",
                    (&(struct trace_fields){.call = "WskControlSocket",
                                            .status = "STATUS_SUCCESS"}),
                    "event WSK_EVENT_RECEIVE_FROM enabled, %u datagram(s) waiting: "
                    "STATUS_SUCCESS",
                    s->dq_count);
        wsk_event_kick_locked(s); /* queued datagrams first */
        pthread_mutex_unlock(&s->lock);
        return STATUS_SUCCESS;
    }
    s->ev_enabled = false;
    if (s->ev_inflight == 0) {
        if (WSK_TRACING(s->prov))
            wsk_event_ctl_trace(s, STATUS_SUCCESS, "disabled");
        pthread_mutex_unlock(&s->lock);
        return STATUS_SUCCESS;
    }
    if (Irp == NULL) {
        if (WSK_TRACING(s->prov))
            wsk_event_ctl_trace(s, STATUS_EVENT_PENDING,
                                "disabled while a callback runs (no IRP to complete)");
        pthread_mutex_unlock(&s->lock);
        return STATUS_EVENT_PENDING;
    }
    /* The callback in progress runs as an entry of s->cq: an entry queued
     * now completes the IRP right after it returned. */
    struct wsk_cqe *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        pthread_mutex_unlock(&s->lock);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    e->irp = Irp;
    e->status = STATUS_SUCCESS;
    e->info = 0;
    e->release = wsk_event_cqe_free;
    e->call = WSK_CALL_CONTROL_SOCKET;
    if (WSK_TRACING(s->prov))
        wsk_event_ctl_trace(s, STATUS_PENDING,
                            "disabled while a callback runs; the IRP completes after it");
    WSK_TRACE_IRP(s->prov, WSK_IRP_PENDED, WSK_CALL_CONTROL_SOCKET, Irp, STATUS_PENDING, 0);
    IoMarkIrpPending(Irp); /* before the completion can run */
    wsk_cq_push(s->prov, &s->cq, e);
    pthread_mutex_unlock(&s->lock);
    return STATUS_PENDING;
}

/* ---- WskRelease ------------------------------------------------------------------------ */
NTSTATUS WSKAPI wsk_release_indications(PWSK_SOCKET Socket,
                                        PWSK_DATAGRAM_INDICATION DatagramIndication)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || DatagramIndication == NULL)
        return STATUS_INVALID_PARAMETER;
    struct wskstack *st = s->prov->st;

    pthread_mutex_lock(&s->lock);
    /* Validate the whole chain (Next as it is NOW) before freeing anything:
     * every element must be one the client holds, each once.  Only
     * elements found in s->held are dereferenced. */
    bool ok = true;
    unsigned k = 0;
    for (PWSK_DATAGRAM_INDICATION cur = DatagramIndication; cur != NULL; k++) {
        struct wsk_ind *i = (struct wsk_ind *)cur;
        if (!wsk_held_has_locked(s, cur) || i->mark) { /* not ours / a cycle */
            ok = false;
            break;
        }
        i->mark = true;
        cur = i->di.Next;
    }
    /* The k marked elements again, in the same order. */
    struct wsk_ind *freeq = NULL, **tail = &freeq;
    PWSK_DATAGRAM_INDICATION cur = DatagramIndication;
    for (unsigned j = 0; j < k; j++) {
        struct wsk_ind *i = (struct wsk_ind *)cur;
        cur = i->di.Next;
        i->mark = false;
        if (ok) {
            wsk_held_del_locked(s, i);
            *tail = i;
            tail = &i->batch_next;
            *tail = NULL;
        }
    }
    if (ok)
        wsk_event_kick_locked(s); /* below the held bound again */
    WSK_TRACE_F(s->prov, TD_RX, ok ? "release" : "refuse",
                (&(struct trace_fields){.call = "WskRelease",
                                        .status = ok ? "STATUS_SUCCESS"
                                                     : "STATUS_INVALID_PARAMETER"}),
                ok ? "release: %u element(s) returned by the client, %u still held: %s"
                   : "release refused: element %u of the list is not held by the client "
                     "(released already, never indicated, or a cycle), %u held: %s",
                ok ? k : k + 1, s->held_count,
                ok ? "STATUS_SUCCESS" : "STATUS_INVALID_PARAMETER");
    pthread_mutex_unlock(&s->lock);

    while (freeq != NULL) {
        struct wsk_ind *next = freeq->batch_next;
        wsk_ind_free(st, freeq);
        freeq = next;
    }
    return ok ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}
