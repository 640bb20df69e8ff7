/* SPDX-License-Identifier: MIT */
/*
 * dgram.c - the datagram path: WskSendTo, WskReceiveFrom, the UDP endpoint
 * receive callback, control messages, and MDL gather/scatter.
 *
 * Statuses chosen here (README API section):
 *   WskSendTo
 *     Irp NULL / no free stack location      -> STATUS_INVALID_PARAMETER, not completed
 *     Buffer NULL, MDL chain shorter than Length, Offset outside the first
 *     MDL, RemoteAddress NULL (fixed addresses are the next issue) or not
 *     AF_INET, ControlInfo NULL with a length, a cmsg with cmsg_len < 16
 *     or past ControlInfoLength, an IP_PKTINFO cmsg shorter than IN_PKTINFO
 *                                             -> STATUS_INVALID_PARAMETER
 *     Length > 65507                          -> STATUS_INVALID_BUFFER_SIZE (nothing sent)
 *     socket not bound                        -> STATUS_INVALID_DEVICE_STATE
 *     IN_PKTINFO source not one of ours       -> STATUS_INVALID_ADDRESS
 *     no route                                -> STATUS_NETWORK_UNREACHABLE
 *     neighbour never answers (3 ARP requests) -> STATUS_PENDING, then
 *                                                STATUS_HOST_UNREACHABLE
 *     device gone                             -> STATUS_FILE_FORCED_CLOSED
 *     Flags: reserved, ignored (lenient).  Zero-length and unknown cmsgs
 *     are skipped (WireGuard sends a trailing zero-payload one).
 *     RemoteAddress, ControlInfo and the WSK_BUF descriptor are read during
 *     the call only; the MDL chain is read during the call too (the payload
 *     is copied into a packet buffer before udp_send returns).
 *   WskReceiveFrom
 *     a datagram larger than the buffer: the bytes that fit are copied,
 *     Information = bytes copied, *ControlFlags has MSG_TRUNC, status
 *     STATUS_SUCCESS (WSK-SPEC 5.6 leaves this open; SUCCESS + MSG_TRUNC is
 *     what Linux recvmsg does).
 *     ControlLength == NULL: ControlInfo and ControlFlags are ignored (DDI).
 *     IP_PKTINFO enabled: one CMSGHDR {WSA_CMSG_LEN(sizeof(IN_PKTINFO)),
 *     IPPROTO_IP, IP_PKTINFO} {ipi_addr = destination address, ipi_ifindex
 *     = the stack's ifindex}; if it does not fit: MSG_CTRUNC and
 *     *ControlLength = 0.
 *     socket not bound -> STATUS_INVALID_DEVICE_STATE; device gone ->
 *     STATUS_FILE_FORCED_CLOSED; cancelled / closed -> STATUS_CANCELLED.
 *   WskSendMessages: STATUS_NOT_SUPPORTED for now (completed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "wsk/wsk_impl.h"

#define WSK_IOV_STACK 16

/* ---- ops ----------------------------------------------------------------------- */
/* Release hook of every op's cqe: free it, unless close holds it across a
 * tx_req_cancel (then the holder frees it). */
void wsk_op_release(struct wsk_cqe *e)
{
    struct wsk_op *op = CONTAINING_RECORD(e, struct wsk_op, cqe);
    struct wsk_sock *s = op->sock;
    pthread_mutex_lock(&s->lock);
    bool held = op->hold > 0;
    if (held)
        op->completed = true;
    pthread_mutex_unlock(&s->lock);
    if (!held)
        free(op);
}

static struct wsk_op *wsk_op_new(struct wsk_sock *s, PIRP irp)
{
    struct wsk_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    op->sock = s;
    op->irp = irp;
    op->cqe.irp = irp;
    op->cqe.release = wsk_op_release;
    return op;
}

/* ---- MDL chains ------------------------------------------------------------------ */
/* Build the iovec of a send buffer.  *iov is WSK_IOV_STACK entries at
 * first; grown on the heap for longer chains (caller frees if != stack). */
static NTSTATUS wsk_mdl_gather(const WSK_BUF *b, struct iovec **iov, unsigned *cnt)
{
    *cnt = 0;
    if (b->Length == 0)
        return STATUS_SUCCESS; /* Mdl may be NULL */
    PMDL m = b->Mdl;
    if (m == NULL || b->Offset >= MmGetMdlByteCount(m))
        return STATUS_INVALID_PARAMETER; /* Offset must lie in the first MDL */

    unsigned n = 0, cap = WSK_IOV_STACK;
    size_t left = b->Length;
    ULONG off = b->Offset;
    for (; m != NULL && left > 0; m = m->Next, off = 0) {
        ULONG bc = MmGetMdlByteCount(m);
        if (off >= bc)
            continue; /* an empty MDL in the chain */
        uint8_t *va = MmGetSystemAddressForMdlSafe(m, NormalPagePriority);
        if (va == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        size_t take = bc - off < left ? bc - off : left;
        if (n == cap) {
            struct iovec *bigger = malloc(sizeof(*bigger) * cap * 2);
            if (bigger == NULL)
                return STATUS_INSUFFICIENT_RESOURCES;
            memcpy(bigger, *iov, sizeof(*bigger) * n);
            if (cap != WSK_IOV_STACK)
                free(*iov);
            *iov = bigger;
            cap *= 2;
        }
        (*iov)[n].iov_base = va + off;
        (*iov)[n].iov_len = take;
        n++;
        left -= take;
    }
    *cnt = n;
    if (left > 0)
        return STATUS_INVALID_PARAMETER; /* the chain is shorter than Length */
    return STATUS_SUCCESS;
}

/* Check a receive buffer as WskReceiveFrom gets it. */
static bool wsk_buf_ok(const WSK_BUF *b)
{
    if (b->Length == 0)
        return true;
    return b->Mdl != NULL && b->Offset < MmGetMdlByteCount(b->Mdl);
}

/* Copy a datagram into a receive buffer; returns bytes copied. */
static size_t wsk_mdl_scatter(const WSK_BUF *b, const uint8_t *src, size_t len)
{
    size_t want = len < b->Length ? len : b->Length;
    size_t done = 0;
    ULONG off = b->Offset;
    for (PMDL m = b->Mdl; m != NULL && done < want; m = m->Next, off = 0) {
        ULONG bc = MmGetMdlByteCount(m);
        if (off >= bc)
            continue;
        uint8_t *va = MmGetSystemAddressForMdlSafe(m, NormalPagePriority);
        if (va == NULL)
            break;
        size_t n = bc - off < want - done ? bc - off : want - done;
        memcpy(va + off, src + done, n);
        done += n;
    }
    return done;
}

/* ---- receive: filling a WskReceiveFrom's outputs ----------------------------------- */
struct wsk_rx_out {
    WSK_BUF buf;
    PSOCKADDR remote;
    PULONG ctl_len;
    PCMSGHDR ctl;
    PULONG ctl_flags;
};

/* Deliver one datagram into a receive's outputs.  Returns bytes copied. */
static size_t wsk_rx_deliver(struct wskstack *st, const struct wsk_rx_out *o, bool pktinfo,
                             const uint8_t *data, size_t len, const struct udp_rx_info *info)
{
    size_t copied = wsk_mdl_scatter(&o->buf, data, len);
    ULONG flags = 0;
    if (copied < len)
        flags |= MSG_TRUNC;
    if (info->bcast)
        flags |= MSG_BCAST;
    if (info->mcast)
        flags |= MSG_MCAST;
    if (o->remote != NULL)
        wsk_sockaddr_in_put(o->remote, &info->src, info->sport);
    if (o->ctl_len != NULL) {
        ULONG cap = *o->ctl_len;
        ULONG written = 0;
        if (pktinfo) {
            size_t space = WSA_CMSG_SPACE(sizeof(IN_PKTINFO));
            if (o->ctl != NULL && cap >= space) {
                uint8_t *c = (uint8_t *)o->ctl;
                CMSGHDR h;
                memset(&h, 0, sizeof(h));
                h.cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
                h.cmsg_level = IPPROTO_IP;
                h.cmsg_type = IP_PKTINFO;
                IN_PKTINFO pi;
                memset(&pi, 0, sizeof(pi));
                wsk_put_be32(&pi.ipi_addr, info->dst.af == IPA_V4 ? info->dst.v4 : 0);
                pi.ipi_ifindex = stack_ifindex(st);
                memset(c, 0, space);
                memcpy(c, &h, sizeof(h));
                memcpy(c + WSA_CMSGDATA_ALIGN(sizeof(CMSGHDR)), &pi, sizeof(pi));
                written = (ULONG)space;
            } else {
                flags |= MSG_CTRUNC;
            }
        }
        *o->ctl_len = written;
        if (o->ctl_flags != NULL)
            *o->ctl_flags = flags;
    }
    return copied;
}

static void wsk_recvq_unlink(struct wsk_sock *s, struct wsk_op *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        s->recvq_head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    else
        s->recvq_tail = op->prev;
    op->next = op->prev = NULL;
}

/* Complete a pending receive that we own (its cancel routine is cleared).
 * s->lock held. */
static void wsk_recv_finish_locked(struct wsk_sock *s, struct wsk_op *op, NTSTATUS status,
                                   ULONG_PTR info)
{
    wsk_recvq_unlink(s, op);
    op->cqe.status = status;
    op->cqe.info = NT_SUCCESS(status) ? info : 0;
    wsk_cq_push(s->prov, &s->cq, &op->cqe);
    pthread_cond_broadcast(&s->cv);
}

/* The cancel routine of a queued receive (IoCancelIrp, cancel lock held). */
static VOID wsk_recv_cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    struct wsk_op *op = Irp->Tail.Overlay.DriverContext[0];
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    /* IoCancelIrp took the routine: we own the IRP.  The socket is alive:
     * close waits until its receive queue is empty. */
    struct wsk_sock *s = op->sock;
    pthread_mutex_lock(&s->lock);
    wsk_recv_finish_locked(s, op, STATUS_CANCELLED, 0);
    pthread_mutex_unlock(&s->lock);
}

/* The endpoint's receive callback (receive thread, no stack lock). */
static int wsk_udp_rx(struct udp_ep *ep, struct pkt *p, const struct udp_rx_info *info)
{
    struct wsk_sock *s = CONTAINING_RECORD(ep, struct wsk_sock, ep);
    struct wskstack *st = s->prov->st;

    pthread_mutex_lock(&s->lock);
    if (s->closing) {
        pthread_mutex_unlock(&s->lock);
        return -ENOBUFS;
    }
    /* The first pending receive whose cancel routine we can take back;
     * NULL from IoSetCancelRoutine means a cancellation owns that IRP. */
    for (struct wsk_op *op = s->recvq_head; op != NULL; op = op->next) {
        if (IoSetCancelRoutine(op->irp, NULL) == NULL)
            continue;
        struct wsk_rx_out o = {op->buf, op->remote, op->ctl_len, op->ctl, op->ctl_flags};
        size_t n = wsk_rx_deliver(st, &o, s->pktinfo, pkt_data(p), p->len, info);
        wsk_recv_finish_locked(s, op, STATUS_SUCCESS, n);
        pthread_mutex_unlock(&s->lock);
        pkt_free(st, p);
        return 0;
    }
    /* Nobody waiting: queue it, bounded (UdpRcvbufErrors when full). */
    if (s->dq_count >= WSK_RCVQ_MAX_DGRAMS || s->dq_bytes + p->len > s->rcvbuf) {
        pthread_mutex_unlock(&s->lock);
        return -ENOBUFS;
    }
    struct wsk_dgram *d = malloc(sizeof(*d));
    if (d == NULL) {
        pthread_mutex_unlock(&s->lock);
        return -ENOBUFS;
    }
    d->next = NULL;
    d->p = p;
    d->info = *info;
    if (s->dq_tail)
        s->dq_tail->next = d;
    else
        s->dq_head = d;
    s->dq_tail = d;
    s->dq_count++;
    s->dq_bytes += p->len;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

const struct udp_ep_ops wsk_udp_ops = {.rx = wsk_udp_rx};

NTSTATUS WSKAPI wsk_receive_from(PWSK_SOCKET Socket, PWSK_BUF Buffer, ULONG Flags,
                                 PSOCKADDR RemoteAddress, PULONG ControlLength,
                                 PCMSGHDR ControlInfo, PULONG ControlFlags, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = s->prov;
    struct wskstack *st = prov->st;
    if (Buffer == NULL || !wsk_buf_ok(Buffer))
        return wsk_complete_sync(prov, &s->cq, Irp, STATUS_INVALID_PARAMETER, 0);

    struct wsk_rx_out o = {*Buffer, RemoteAddress, ControlLength, ControlInfo, ControlFlags};
    pthread_mutex_lock(&s->lock);
    NTSTATUS status = STATUS_SUCCESS;
    if (s->gone || stack_dev_gone(st))
        status = STATUS_FILE_FORCED_CLOSED;
    else if (!s->bound || s->closing)
        status = STATUS_INVALID_DEVICE_STATE;
    if (!NT_SUCCESS(status)) {
        pthread_mutex_unlock(&s->lock);
        return wsk_complete_sync(prov, &s->cq, Irp, status, 0);
    }

    struct wsk_dgram *d = s->dq_head;
    if (d != NULL) {
        /* A datagram is waiting: the result is known now. */
        s->dq_head = d->next;
        if (s->dq_head == NULL)
            s->dq_tail = NULL;
        s->dq_count--;
        s->dq_bytes -= d->p->len;
        bool pktinfo = s->pktinfo;
        pthread_mutex_unlock(&s->lock);
        size_t n = wsk_rx_deliver(st, &o, pktinfo, pkt_data(d->p), d->p->len, &d->info);
        pkt_free(st, d->p);
        free(d);
        return wsk_complete_sync(prov, &s->cq, Irp, STATUS_SUCCESS, n);
    }

    struct wsk_op *op = wsk_op_new(s, Irp);
    if (op == NULL) {
        pthread_mutex_unlock(&s->lock);
        return wsk_complete_sync(prov, &s->cq, Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    }
    op->buf = *Buffer;
    op->remote = RemoteAddress;
    op->ctl_len = ControlLength;
    op->ctl = ControlInfo;
    op->ctl_flags = ControlFlags;
    Irp->Tail.Overlay.DriverContext[0] = op;
    IoMarkIrpPending(Irp); /* before anything can complete it */
    op->prev = s->recvq_tail;
    if (s->recvq_tail)
        s->recvq_tail->next = op;
    else
        s->recvq_head = op;
    s->recvq_tail = op;

    /* Arm the cancel routine; IoCancelIrp may have run already (Cancel set,
     * no routine to call), so look at Irp->Cancel after arming - under the
     * cancel lock, which IoCancelIrp holds while it sets Cancel. */
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    IoSetCancelRoutine(Irp, wsk_recv_cancel);
    bool cancelled = Irp->Cancel && IoSetCancelRoutine(Irp, NULL) != NULL;
    IoReleaseCancelSpinLock(irql);
    if (cancelled)
        wsk_recv_finish_locked(s, op, STATUS_CANCELLED, 0);
    pthread_mutex_unlock(&s->lock);
    return STATUS_PENDING;
}

/* Fail every receive we can take back with `status`.  s->lock held.
 * Receives whose cancellation is in progress are left to their routine. */
static void wsk_recv_fail_all_locked(struct wsk_sock *s, NTSTATUS status)
{
    struct wsk_op *op = s->recvq_head;
    while (op != NULL) {
        struct wsk_op *next = op->next;
        if (IoSetCancelRoutine(op->irp, NULL) != NULL)
            wsk_recv_finish_locked(s, op, status, 0);
        op = next;
    }
}

void wsk_dgram_gone_locked(struct wsk_sock *s)
{
    wsk_recv_fail_all_locked(s, STATUS_FILE_FORCED_CLOSED);
}

/* ---- send ----------------------------------------------------------------------------- */
/* Queue the completions of the sends at the head of s->sendq that have a
 * result and whose caller has returned - in submission order.  s->lock held. */
static void wsk_send_flush_locked(struct wsk_sock *s)
{
    bool any = false;
    struct wsk_op *op;
    while ((op = s->sendq_head) != NULL && op->armed && op->ready) {
        s->sendq_head = op->next;
        if (s->sendq_head == NULL)
            s->sendq_tail = NULL;
        op->next = NULL;
        wsk_cq_push(s->prov, &s->cq, &op->cqe);
        any = true;
    }
    if (any)
        pthread_cond_broadcast(&s->cv);
}

/* tx_req->done: exactly once, no stack lock held, any thread (possibly
 * before udp_send has returned to the sender). */
static void wsk_send_done(struct tx_req *r, int err)
{
    struct wsk_op *op = CONTAINING_RECORD(r, struct wsk_op, txr);
    struct wsk_sock *s = op->sock;
    pthread_mutex_lock(&s->lock);
    op->ready = true;
    op->cqe.status = err == 0 ? STATUS_SUCCESS : wsk_errno_status(err);
    op->cqe.info = err == 0 ? op->len : 0;
    wsk_send_flush_locked(s);
    pthread_mutex_unlock(&s->lock);
}

/* Walk the control messages (WSA_CMSG_* rules, WSK-SPEC 3.7). */
static NTSTATUS wsk_send_cmsgs(const uint8_t *ctl, ULONG len, struct udp_send_args *a)
{
    if (len == 0)
        return STATUS_SUCCESS;
    if (ctl == NULL)
        return STATUS_INVALID_PARAMETER;
    size_t off = 0;
    while (off + sizeof(CMSGHDR) <= len) {
        CMSGHDR h;
        memcpy(&h, ctl + off, sizeof(h));
        if (h.cmsg_len < sizeof(CMSGHDR) || h.cmsg_len > len - off)
            return STATUS_INVALID_PARAMETER;
        size_t data_off = WSA_CMSGDATA_ALIGN(sizeof(CMSGHDR));
        size_t data_len = h.cmsg_len > data_off ? h.cmsg_len - data_off : 0;
        if (h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_PKTINFO) {
            IN_PKTINFO pi;
            if (data_len < sizeof(pi))
                return STATUS_INVALID_PARAMETER;
            memcpy(&pi, ctl + off + data_off, sizeof(pi));
            uint32_t src = wsk_be32(&pi.ipi_addr);
            a->src = src != 0 ? ip4(src) : (struct ip_addr){.af = IPA_NONE};
            a->ifindex = pi.ipi_ifindex;
        }
        /* zero-length and unknown cmsgs: skipped (WireGuard, WSK-SPEC 3.7) */
        off += WSA_CMSGHDR_ALIGN(h.cmsg_len);
    }
    return STATUS_SUCCESS;
}

/* Report a failed send (op: its place in s->sendq, or NULL if it never got
 * one).  With no earlier send in flight the caller waits for the routine
 * and gets the error; otherwise the failure takes its place in the
 * submission order and the call returns STATUS_PENDING.  s->lock held on
 * entry, released. */
static NTSTATUS wsk_send_fail_locked(struct wsk_sock *s, struct wsk_op *op, PIRP irp,
                                     NTSTATUS status)
{
    bool earlier = s->sendq_head != NULL && s->sendq_head != op;
    if (earlier && op == NULL) {
        op = wsk_op_new(s, irp);
        if (op != NULL) {
            if (s->sendq_tail)
                s->sendq_tail->next = op;
            else
                s->sendq_head = op;
            s->sendq_tail = op;
        }
    }
    if (earlier && op != NULL) {
        IoMarkIrpPending(irp);
        op->ready = true;
        op->armed = true;
        op->cqe.status = status;
        op->cqe.info = 0;
        wsk_send_flush_locked(s);
        pthread_mutex_unlock(&s->lock);
        return STATUS_PENDING;
    }
    if (op != NULL && s->sendq_head == op) {
        s->sendq_head = op->next;
        if (s->sendq_head == NULL)
            s->sendq_tail = NULL;
        free(op);
    }
    pthread_mutex_unlock(&s->lock);
    return wsk_complete_sync(s->prov, &s->cq, irp, status, 0);
}

NTSTATUS WSKAPI wsk_send_to(PWSK_SOCKET Socket, PWSK_BUF Buffer, ULONG Flags,
                            PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                            PCMSGHDR ControlInfo, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = s->prov;
    struct wskstack *st = prov->st;

    /* Everything the caller passed is read now (clients build the address
     * and the cmsgs on their stack and do not wait). */
    struct udp_send_args a;
    memset(&a, 0, sizeof(a));
    a.ttl = -1;
    a.tos = -1;
    NTSTATUS status = STATUS_SUCCESS;
    if (Buffer == NULL || !wsk_sockaddr_in_get(RemoteAddress, &a.dst, &a.dport))
        status = STATUS_INVALID_PARAMETER;
    else if (Buffer->Length > WSK_MAX_UDP4_PAYLOAD)
        status = STATUS_INVALID_BUFFER_SIZE;
    else
        status = wsk_send_cmsgs((const uint8_t *)ControlInfo, ControlInfoLength, &a);
    struct iovec iov_stack[WSK_IOV_STACK];
    struct iovec *iov = iov_stack;
    unsigned iovcnt = 0;
    if (NT_SUCCESS(status))
        status = wsk_mdl_gather(Buffer, &iov, &iovcnt);
    struct wsk_op *op = NULL;
    if (NT_SUCCESS(status)) {
        op = wsk_op_new(s, Irp);
        if (op == NULL)
            status = STATUS_INSUFFICIENT_RESOURCES;
    }

    pthread_mutex_lock(&s->lock);
    if (NT_SUCCESS(status)) {
        if (s->gone || stack_dev_gone(st))
            status = STATUS_FILE_FORCED_CLOSED;
        else if (!s->bound || s->closing)
            status = STATUS_INVALID_DEVICE_STATE;
    }
    if (!NT_SUCCESS(status)) {
        free(op);
        if (iov != iov_stack)
            free(iov);
        return wsk_send_fail_locked(s, NULL, Irp, status);
    }
    /* Take a place in the submission order before the stack sees it. */
    op->len = Buffer->Length;
    op->txr.done = wsk_send_done;
    if (s->sendq_tail)
        s->sendq_tail->next = op;
    else
        s->sendq_head = op;
    s->sendq_tail = op;
    pthread_mutex_unlock(&s->lock);

    a.iov = iov;
    a.iovcnt = iovcnt;
    a.len = Buffer->Length;
    a.req = &op->txr;
    int rc = udp_send(st, &s->ep, &a);
    if (iov != iov_stack)
        free(iov);

    pthread_mutex_lock(&s->lock);
    if (rc < 0)
        return wsk_send_fail_locked(s, op, Irp, wsk_errno_status(rc));
    if (rc == UDP_SEND_DONE) {
        op->ready = true;
        op->cqe.status = STATUS_SUCCESS;
        op->cqe.info = op->len;
    } else if (!op->ready) {
        op->txq = true; /* waiting for ARP: done() reports, close may cancel */
    }
    IoMarkIrpPending(Irp); /* before the completion can be queued */
    op->armed = true;
    wsk_send_flush_locked(s);
    pthread_mutex_unlock(&s->lock);
    return STATUS_PENDING;
}

NTSTATUS WSKAPI wsk_send_messages(PWSK_SOCKET Socket, PWSK_BUF_LIST BufferList, ULONG Flags,
                                  PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                                  PCMSGHDR ControlInfo, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    pthread_mutex_lock(&s->lock);
    return wsk_send_fail_locked(s, NULL, Irp, STATUS_NOT_SUPPORTED);
}

/* ---- close ----------------------------------------------------------------------------- */
void wsk_dgram_cancel_all(struct wsk_sock *s)
{
    struct wskstack *st = s->prov->st;
    pthread_mutex_lock(&s->lock);
    /* Receives: complete the ones we can take back; the others are being
     * cancelled right now and their routine dequeues them. */
    wsk_recv_fail_all_locked(s, STATUS_CANCELLED);
    while (s->recvq_head != NULL)
        pthread_cond_wait(&s->cv, &s->lock);

    /* Sends waiting for ARP: take them back (done(-ECANCELED) runs inside
     * tx_req_cancel).  The op is held so that its memory outlives the call
     * even if done() with the real result wins the race. */
    for (;;) {
        struct wsk_op *op = s->sendq_head;
        while (op != NULL && !(op->txq && !op->ready && !op->cancel_tried))
            op = op->next;
        if (op == NULL)
            break;
        op->cancel_tried = true;
        op->hold++;
        pthread_mutex_unlock(&s->lock);
        tx_req_cancel(st, &op->txr);
        pthread_mutex_lock(&s->lock);
        op->hold--;
        if (op->hold == 0 && op->completed) {
            pthread_mutex_unlock(&s->lock);
            free(op);
            pthread_mutex_lock(&s->lock);
        }
    }
    /* Sends the stack could not take back finish with their real result. */
    while (s->sendq_head != NULL)
        pthread_cond_wait(&s->cv, &s->lock);

    struct wsk_dgram *d = s->dq_head;
    s->dq_head = s->dq_tail = NULL;
    s->dq_count = 0;
    s->dq_bytes = 0;
    pthread_mutex_unlock(&s->lock);
    while (d != NULL) {
        struct wsk_dgram *next = d->next;
        pkt_free(st, d->p);
        free(d);
        d = next;
    }
}
