/* SPDX-License-Identifier: MIT */
/*
 * sendmsgs.c - WskSendMessages (WSK-SPEC 5.8): several datagrams to one
 * destination in one call, with one IRP.
 *
 * The policy for partial failure is in wsk_impl.h ("WskSendMessages"); the
 * statuses are those of WskSendTo (dgram.c), whose send machinery (the
 * per-socket send order, ARP-wait cancellation, immediate failures) this
 * file shares through wsk_impl.h ("send internals").  Each datagram is one
 * struct wsk_sub of the call's op; the op completes when every datagram
 * that was sent has its result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "wsk/wsk_impl.h"

/* All subs that will ever run have a result: the op's result is the first
 * failure in list order (WSK-SPEC 5.8 policy, wsk_impl.h).  s->lock held. */
static void wsk_msend_settle_locked(struct wsk_sock *s, struct wsk_op *op)
{
    if (!op->submitted || op->sub_left > 0 || op->ready)
        return;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG_PTR bytes = 0;
    for (unsigned i = 0; i < op->nsub; i++) {
        struct wsk_sub *sb = &op->subs[i];
        if (sb->status == STATUS_PENDING)
            break; /* never sent: the list stopped before it */
        if (!NT_SUCCESS(sb->status)) {
            status = sb->status;
            break;
        }
        bytes += sb->len;
    }
    op->ready = true;
    op->cqe.status = status;
    op->cqe.info = bytes;
    wsk_send_flush_locked(s);
}

/* tx_req->done of one datagram of a WskSendMessages. */
static void wsk_sub_done(struct tx_req *r, int err)
{
    struct wsk_sub *sb = CONTAINING_RECORD(r, struct wsk_sub, txr);
    struct wsk_op *op = sb->op;
    struct wsk_sock *s = op->sock;
    pthread_mutex_lock(&s->lock);
    sb->status = err == 0 ? STATUS_SUCCESS : wsk_errno_status(err);
    sb->queued = false;
    op->sub_left--;
    wsk_msend_settle_locked(s, op);
    pthread_mutex_unlock(&s->lock);
}

/* The wsk lines of a WskSendMessages that sent at least one datagram: how
 * many left and how, and the datagram that stopped the list (if any). */
static void wsk_msend_trace(struct wsk_sock *s, const struct wsk_op *op, unsigned sent,
                            unsigned waiting, NTSTATUS err, const char *why)
{
    size_t bytes = 0;
    for (unsigned i = 0; i < sent; i++)
        bytes += op->subs[i].len;
    struct trace_fields f = {.call = "WskSendMessages"};
    trace_event(s->prov->st, TL_WSK, TD_TX, "send", &f,
                "send accepted: %u of %u datagram(s), %zu bytes, %u handed to the device, %u "
                "waiting for the neighbour",
                sent, op->nsub, bytes, sent - waiting, waiting);
    if (sent == op->nsub)
        return;
    char w[200];
    snprintf(w, sizeof w, "datagram %u of %u: %s; the list stops there", sent + 1, op->nsub, why);
    wsk_trace_send_refused(s, WSK_CALL_SEND_MESSAGES, err, w);
}

/* Check and capture the list (every descriptor is read now): n datagrams,
 * their WSK_BUFs in *bufs and the op with one sub each.  A failure sets
 * *why; what was allocated is left in *bufs / *opp for the caller. */
static NTSTATUS wsk_msend_capture(struct wsk_sock *s, PWSK_BUF_LIST list, WSK_BUF **bufs,
                                  struct wsk_op **opp, unsigned *np, const char **why)
{
    unsigned n = 0;
    for (PWSK_BUF_LIST l = list; l != NULL; l = l->Next, n++)
        if (l->Buffer.Length > wsk_max_payload(s))
            WSK_REFUSE(why, wsk_too_big_why(s), STATUS_INVALID_BUFFER_SIZE); /* nothing sent */
    *np = n;
    *bufs = malloc(sizeof(**bufs) * n);
    *opp = calloc(1, sizeof(**opp) + sizeof(struct wsk_sub) * n);
    if (*bufs == NULL || *opp == NULL)
        WSK_REFUSE(why, "no memory", STATUS_INSUFFICIENT_RESOURCES);
    unsigned i = 0;
    for (PWSK_BUF_LIST l = list; l != NULL; l = l->Next)
        (*bufs)[i++] = l->Buffer;
    /* Every MDL chain must cover its Length before anything leaves. */
    for (i = 0; i < n; i++) {
        struct iovec iov_stack[WSK_IOV_STACK];
        struct iovec *iov = iov_stack;
        unsigned cnt = 0;
        NTSTATUS status = wsk_mdl_gather(&(*bufs)[i], &iov, &cnt);
        if (iov != iov_stack)
            free(iov);
        if (!NT_SUCCESS(status))
            WSK_REFUSE(why, wsk_mdl_why(status), status);
    }
    return STATUS_SUCCESS;
}

NTSTATUS WSKAPI wsk_send_messages(PWSK_SOCKET Socket, PWSK_BUF_LIST BufferList, ULONG Flags,
                                  PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                                  PCMSGHDR ControlInfo, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_accept(s->prov, Irp, WSK_CALL_SEND_MESSAGES))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = s->prov;
    struct wskstack *st = prov->st;

    /* Capture: destination, options, cmsgs, and every descriptor, now. */
    struct udp_send_args a;
    const char *why = "no buffer list";
    NTSTATUS status = BufferList == NULL
                          ? STATUS_INVALID_PARAMETER
                          : wsk_send_args(s, WSK_CALL_SEND_MESSAGES, RemoteAddress,
                                          ControlInfoLength, ControlInfo, &a, &why);
    unsigned n = 0;
    WSK_BUF *bufs = NULL;
    struct wsk_op *op = NULL;
    if (NT_SUCCESS(status))
        status = wsk_msend_capture(s, BufferList, &bufs, &op, &n, &why);
    if (NT_SUCCESS(status)) {
        op->sock = s;
        op->irp = Irp;
        op->cqe.irp = Irp;
        op->cqe.release = wsk_op_release;
        op->cqe.call = WSK_CALL_SEND_MESSAGES;
        op->nsub = n;
        op->subs = (struct wsk_sub *)(op + 1);
        for (unsigned i = 0; i < n; i++) {
            op->subs[i].op = op;
            op->subs[i].len = bufs[i].Length;
            op->subs[i].status = STATUS_PENDING;
            op->subs[i].txr.done = wsk_sub_done;
        }
    }

    pthread_mutex_lock(&s->lock);
    if (NT_SUCCESS(status)) {
        if (s->gone || stack_dev_gone(st)) {
            status = STATUS_FILE_FORCED_CLOSED;
            why = "device gone";
        } else if (!s->bound || s->closing) {
            status = STATUS_INVALID_DEVICE_STATE;
            why = s->closing ? "socket closing" : "socket not bound";
        }
    }
    if (!NT_SUCCESS(status)) {
        free(op);
        free(bufs);
        return wsk_send_fail_locked(s, NULL, Irp, WSK_CALL_SEND_MESSAGES, status, why);
    }
    if (s->sendq_tail)
        s->sendq_tail->next = op;
    else
        s->sendq_head = op;
    s->sendq_tail = op;
    pthread_mutex_unlock(&s->lock);

    /* In list order; stop at the first immediate failure. */
    NTSTATUS first_err = STATUS_SUCCESS;
    unsigned sent = 0, waiting = 0;
    for (unsigned i = 0; i < n; i++) {
        struct wsk_sub *sb = &op->subs[i];
        struct iovec iov_stack[WSK_IOV_STACK];
        struct iovec *iov = iov_stack;
        unsigned cnt = 0;
        status = wsk_mdl_gather(&bufs[i], &iov, &cnt); /* checked above */
        int rc = -EINVAL;
        if (NT_SUCCESS(status)) {
            pthread_mutex_lock(&s->lock);
            op->sub_left++; /* done() may run before udp_send returns */
            pthread_mutex_unlock(&s->lock);
            a.iov = iov;
            a.iovcnt = cnt;
            a.len = bufs[i].Length;
            a.req = &sb->txr;
            rc = udp_send(st, &s->ep, &a);
            pthread_mutex_lock(&s->lock);
            if (rc == UDP_SEND_DONE) {
                sb->status = STATUS_SUCCESS;
                op->sub_left--;
            } else if (rc < 0) {
                sb->status = wsk_errno_status(rc);
                op->sub_left--;
                why = wsk_errno_why(rc);
            } else {
                waiting++;
                if (sb->status == STATUS_PENDING)
                    sb->queued = true; /* done() reports, close may cancel */
            }
            pthread_mutex_unlock(&s->lock);
        } else {
            sb->status = status;
            why = wsk_mdl_why(status);
        }
        if (iov != iov_stack)
            free(iov);
        if (rc < 0) {
            first_err = sb->status;
            break;
        }
        sent++;
    }
    free(bufs);

    pthread_mutex_lock(&s->lock);
    if (sent == 0) {
        /* The first datagram failed before anything left: an immediate
         * failure, as WskSendTo reports it. */
        op->submitted = true;
        return wsk_send_fail_locked(s, op, Irp, WSK_CALL_SEND_MESSAGES, first_err, why);
    }
    if (WSK_TRACING(prov))
        wsk_msend_trace(s, op, sent, waiting, first_err, why);
    WSK_TRACE_IRP(prov, WSK_IRP_PENDED, WSK_CALL_SEND_MESSAGES, Irp, STATUS_PENDING, 0);
    IoMarkIrpPending(Irp); /* before the completion can be queued */
    op->submitted = true;
    if (op->sub_left > 0 && wsk_send_arm_cancel_locked(op)) {
        WSK_TRACE_IRP(prov, WSK_IRP_CANCEL_EARLY, WSK_CALL_SEND_MESSAGES, Irp, 0, 0);
        wsk_send_cancel_txreqs_locked(s, op); /* not armed: not completed meanwhile */
    }
    op->armed = true;
    wsk_msend_settle_locked(s, op);
    pthread_mutex_unlock(&s->lock);
    return STATUS_PENDING;
}
