/* SPDX-License-Identifier: MIT */
/*
 * dgram.c - the datagram path: WskSendTo, WskReceiveFrom, the UDP endpoint
 * receive callback, MDL gather/scatter, the per-socket send order and send
 * cancellation, and the datagram side of WskCloseSocket.  Control messages
 * are in cmsg.c, WskSendMessages in sendmsgs.c, the wording of the irp and
 * wsk trace lines in trace.c.
 *
 * Statuses chosen here (README API section):
 *   WskSendTo
 *     Irp NULL / no free stack location      -> STATUS_INVALID_PARAMETER, not completed
 *     Buffer NULL, MDL chain shorter than Length, Offset outside the first
 *     MDL, RemoteAddress NULL with no fixed address set, RemoteAddress not
 *     AF_INET, ControlInfo NULL with a length, a cmsg with cmsg_len < 16
 *     or past ControlInfoLength, an IP_PKTINFO cmsg shorter than IN_PKTINFO,
 *     an IP_TOS / IP_ECN cmsg shorter than an INT or out of range
 *                                             -> STATUS_INVALID_PARAMETER
 *     an IPPROTO_UDP UDP_SEND_MSG_SIZE cmsg   -> STATUS_NOT_SUPPORTED (no USO)
 *     broadcast destination, no SO_BROADCAST  -> STATUS_ACCESS_DENIED
 *     IP_DONTFRAGMENT and bigger than the MTU -> STATUS_INVALID_BUFFER_SIZE
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
 *     Control info, in this order, one object per enabled option (see
 *     wsk_rx_cmsgs): IP_PKTINFO {destination address, the stack's ifindex},
 *     IP_RECVTOS -> {IPPROTO_IP, IP_TOS, INT tos}, IP_ECN -> {IPPROTO_IP,
 *     IP_ECN, INT tos & 3}, IP_HOPLIMIT -> {IPPROTO_IP, IP_HOPLIMIT, INT
 *     ttl}; an object that does not fit is left out whole, MSG_CTRUNC set,
 *     *ControlLength = the bytes of the objects that fit.
 *     socket not bound -> STATUS_INVALID_DEVICE_STATE; device gone ->
 *     STATUS_FILE_FORCED_CLOSED; cancelled / closed -> STATUS_CANCELLED.
 *   WskSendMessages (sendmsgs.c): the policy in wsk_impl.h; statuses as
 *     WskSendTo.
 *   AF_INET6 sockets (issue 4): addresses are SOCKADDR_IN6 (socket.c
 *     wsk_sockaddr_get/put; "not AF_INET" above reads "not the socket's
 *     family"); Length > 65527 -> STATUS_INVALID_BUFFER_SIZE; an IPv6
 *     destination takes IPV6_UNICAST_HOPS / IPV6_TCLASS / IPV6_DONTFRAG /
 *     IPV6_UNICAST_IF and an IN6_PKTINFO cmsg (IPPROTO_IPV6 IPV6_PKTINFO,
 *     shorter than 20 bytes -> STATUS_INVALID_PARAMETER); ::ffff:a.b.c.d
 *     leaves as IPv4 with the IPPROTO_IP options and IN_PKTINFO (V6-only:
 *     STATUS_NETWORK_UNREACHABLE).  Receive: IPv4 senders as
 *     ::ffff:a.b.c.d; IPv4 datagrams get the IPPROTO_IP cmsgs, IPv6 ones
 *     IN6_PKTINFO {destination, ifindex} (IPV6_PKTINFO) then IPV6_TCLASS /
 *     IPV6_ECN / IPV6_HOPLIMIT INT cmsgs (IPV6_RECVTCLASS / IPV6_ECN /
 *     IPV6_HOPLIMIT options).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "wsk/wsk_impl.h"

/* The trace fields of a line about a WskReceiveFrom (evaluated only when
 * the wsk layer is traced: it is a WSK_TRACE_F argument). */
#define WSK_F_RECEIVE_FROM (&(struct trace_fields){.call = "WskReceiveFrom"})

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

static struct wsk_op *wsk_op_new(struct wsk_sock *s, PIRP irp, enum wsk_call call)
{
    struct wsk_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    op->sock = s;
    op->irp = irp;
    op->cqe.irp = irp;
    op->cqe.release = wsk_op_release;
    op->cqe.call = (uint8_t)call;
    return op;
}

/* ---- MDL chains ------------------------------------------------------------------ */
/* Build the iovec of a send buffer.  *iov is WSK_IOV_STACK entries at
 * first; grown on the heap for longer chains (caller frees if != stack). */
NTSTATUS wsk_mdl_gather(const WSK_BUF *b, struct iovec **iov, unsigned *cnt)
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
static size_t wsk_rx_deliver(const struct wsk_sock *s, const struct wsk_rx_out *o,
                             const struct wsk_opts *opts, const uint8_t *data, size_t len,
                             const struct udp_rx_info *info)
{
    struct wskstack *st = s->prov->st;
    size_t copied = wsk_mdl_scatter(&o->buf, data, len);
    ULONG flags = 0;
    if (copied < len)
        flags |= MSG_TRUNC;
    if (info->bcast)
        flags |= MSG_BCAST;
    if (info->mcast)
        flags |= MSG_MCAST;
    if (o->remote != NULL)
        wsk_sockaddr_put(s, o->remote, &info->src, info->sport);
    if (o->ctl_len != NULL) {
        bool ctrunc = false;
        *o->ctl_len = wsk_rx_cmsgs(st, opts, info, (uint8_t *)o->ctl, *o->ctl_len, &ctrunc);
        if (ctrunc)
            flags |= MSG_CTRUNC;
        if (o->ctl_flags != NULL)
            *o->ctl_flags = flags;
    }
    return copied;
}

struct wsk_dgram *wsk_dq_pop_locked(struct wsk_sock *s)
{
    struct wsk_dgram *d = s->dq_head;
    if (d == NULL)
        return NULL;
    s->dq_head = d->next;
    if (s->dq_head == NULL)
        s->dq_tail = NULL;
    s->dq_count--;
    s->dq_bytes -= d->p->len;
    d->next = NULL;
    return d;
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
    /* Under s->lock: after the caller's "pended" line, before "completed". */
    WSK_TRACE_IRP(s->prov, WSK_IRP_CANCEL, WSK_CALL_RECEIVE_FROM, Irp, 0, 0);
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
        if (WSK_TRACING(s->prov))
            wsk_trace_rx_drop(s, p, info, "UdpRcvbufErrors", "socket closing");
        pthread_mutex_unlock(&s->lock);
        return -ENOBUFS;
    }
    /* SIO_WSK_SET_REMOTE_ADDRESS: only the fixed remote is accepted (DDI
     * WskSendTo / sio-wsk-set-remote-address); -EPERM -> UdpInErrors. */
    struct ip_addr from = wsk_ip_for_sock(s, &info->src); /* mapped on AF_INET6 */
    if (s->has_remote && !(ip_addr_eq(&from, &s->remote) && info->sport == s->rport)) {
        s->stat_filtered++;
        if (WSK_TRACING(s->prov))
            wsk_trace_rx_filtered(s, p, info);
        pthread_mutex_unlock(&s->lock);
        return -EPERM;
    }
    /* The first pending receive whose cancel routine we can take back;
     * NULL from IoSetCancelRoutine means a cancellation owns that IRP.
     * Pending receives take precedence over the event (DDI
     * WskReceiveFromEvent). */
    for (struct wsk_op *op = s->recvq_head; op != NULL; op = op->next) {
        if (IoSetCancelRoutine(op->irp, NULL) == NULL)
            continue;
        struct wsk_rx_out o = {op->buf, op->remote, op->ctl_len, op->ctl, op->ctl_flags};
        size_t n = wsk_rx_deliver(s, &o, &s->o, pkt_data(p), p->len, info);
        WSK_TRACE_F(s->prov, TD_RX, "deliver", WSK_F_RECEIVE_FROM,
                    "receive: datagram of %zu bytes delivered to a pending irp", n);
        wsk_recv_finish_locked(s, op, STATUS_SUCCESS, n);
        pthread_mutex_unlock(&s->lock);
        pkt_free(st, p);
        return 0;
    }
    /* Nobody waiting: queue it, bounded (UdpRcvbufErrors when full); the
     * event (if on) is indicated from the queue on the completion queue. */
    if (s->dq_count >= WSK_RCVQ_MAX_DGRAMS || s->dq_bytes + p->len > s->o.rcvbuf) {
        if (WSK_TRACING(s->prov))
            wsk_trace_rx_full(s, p, info);
        pthread_mutex_unlock(&s->lock);
        return -ENOBUFS;
    }
    struct wsk_dgram *d = malloc(sizeof(*d));
    if (d == NULL) {
        if (WSK_TRACING(s->prov))
            wsk_trace_rx_drop(s, p, info, "UdpRcvbufErrors", "no memory to queue it");
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
    s->ev_wait_new = false; /* a new arrival: indicate again (static) */
    WSK_TRACE(s->prov, TD_RX, "queue",
              "receive: no irp pending, datagram of %u bytes queued (%u waiting)%s",
              (unsigned)p->len, s->dq_count, s->ev_enabled ? ", event indication scheduled" : "");
    wsk_event_kick_locked(s);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

const struct udp_ep_ops wsk_udp_ops = {.rx = wsk_udp_rx};

/* An immediate WskReceiveFrom failure: its wsk line, then the IRP. */
static NTSTATUS wsk_recv_fail(struct wsk_sock *s, PIRP irp, NTSTATUS status, const char *why)
{
    WSK_TRACE_F(s->prov, TD_RX, "refuse",
                (&(struct trace_fields){.call = "WskReceiveFrom",
                                        .status = wsk_status_str(status)}),
                "receive refused: %s (%s)", wsk_status_str(status), why);
    return wsk_complete_sync(s->prov, &s->cq, WSK_CALL_RECEIVE_FROM, irp, status, 0);
}

NTSTATUS WSKAPI wsk_receive_from(PWSK_SOCKET Socket, PWSK_BUF Buffer, ULONG Flags,
                                 PSOCKADDR RemoteAddress, PULONG ControlLength,
                                 PCMSGHDR ControlInfo, PULONG ControlFlags, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_accept(s->prov, Irp, WSK_CALL_RECEIVE_FROM))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = s->prov;
    struct wskstack *st = prov->st;
    if (Buffer == NULL || !wsk_buf_ok(Buffer))
        return wsk_recv_fail(s, Irp, STATUS_INVALID_PARAMETER,
                             "no buffer, or Offset outside the first MDL");

    struct wsk_rx_out o = {*Buffer, RemoteAddress, ControlLength, ControlInfo, ControlFlags};
    pthread_mutex_lock(&s->lock);
    NTSTATUS status = STATUS_SUCCESS;
    const char *why = "";
    if (s->gone || stack_dev_gone(st)) {
        status = STATUS_FILE_FORCED_CLOSED;
        why = "device gone";
    } else if (!s->bound || s->closing) {
        status = STATUS_INVALID_DEVICE_STATE;
        why = s->closing ? "socket closing" : "socket not bound";
    }
    if (!NT_SUCCESS(status)) {
        pthread_mutex_unlock(&s->lock);
        return wsk_recv_fail(s, Irp, status, why);
    }

    struct wsk_dgram *d = wsk_dq_pop_locked(s);
    if (d != NULL) {
        /* A datagram is waiting: the result is known now. */
        struct wsk_opts opts = s->o;
        pthread_mutex_unlock(&s->lock);
        size_t n = wsk_rx_deliver(s, &o, &opts, pkt_data(d->p), d->p->len, &d->info);
        pkt_free(st, d->p);
        free(d);
        WSK_TRACE_F(prov, TD_RX, "deliver", WSK_F_RECEIVE_FROM,
                    "receive: queued datagram of %zu bytes delivered to the irp", n);
        return wsk_complete_sync(prov, &s->cq, WSK_CALL_RECEIVE_FROM, Irp, STATUS_SUCCESS, n);
    }

    struct wsk_op *op = wsk_op_new(s, Irp, WSK_CALL_RECEIVE_FROM);
    if (op == NULL) {
        pthread_mutex_unlock(&s->lock);
        return wsk_recv_fail(s, Irp, STATUS_INSUFFICIENT_RESOURCES, "no memory");
    }
    op->buf = *Buffer;
    op->remote = RemoteAddress;
    op->ctl_len = ControlLength;
    op->ctl = ControlInfo;
    op->ctl_flags = ControlFlags;
    Irp->Tail.Overlay.DriverContext[0] = op;
    WSK_TRACE_IRP(prov, WSK_IRP_PENDED, WSK_CALL_RECEIVE_FROM, Irp, STATUS_PENDING, 0);
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
    if (cancelled) {
        WSK_TRACE_IRP(prov, WSK_IRP_CANCEL_EARLY, WSK_CALL_RECEIVE_FROM, Irp, 0, 0);
        wsk_recv_finish_locked(s, op, STATUS_CANCELLED, 0);
    }
    pthread_mutex_unlock(&s->lock);
    return STATUS_PENDING;
}

/* Fail every receive we can take back with `status`.  s->lock held.
 * Receives whose cancellation is in progress are left to their routine. */
static unsigned wsk_recv_fail_all_locked(struct wsk_sock *s, NTSTATUS status)
{
    unsigned n = 0;
    struct wsk_op *op = s->recvq_head;
    while (op != NULL) {
        struct wsk_op *next = op->next;
        if (IoSetCancelRoutine(op->irp, NULL) != NULL) {
            wsk_recv_finish_locked(s, op, status, 0);
            n++;
        }
        op = next;
    }
    return n;
}

void wsk_dgram_gone_locked(struct wsk_sock *s)
{
    unsigned n = wsk_recv_fail_all_locked(s, STATUS_FILE_FORCED_CLOSED);
    WSK_TRACE(s->prov, TD_NONE, "gone",
              "device gone: %u pending receive(s) completed with STATUS_FILE_FORCED_CLOSED", n);
}

/* ---- send ----------------------------------------------------------------------------- */
/* Largest payload accepted before anything is sent: 65507 (AF_INET);
 * 65527 on AF_INET6 (an IPv4-mapped destination over 65507 then fails in
 * the stack with -EMSGSIZE -> STATUS_INVALID_BUFFER_SIZE too). */
size_t wsk_max_payload(const struct wsk_sock *s)
{
    return s->family == AF_INET6 ? WSK_MAX_UDP6_PAYLOAD : WSK_MAX_UDP4_PAYLOAD;
}

/* Queue the completions of the sends at the head of s->sendq that have a
 * result and whose caller has returned - in submission order.  s->lock held. */
void wsk_send_flush_locked(struct wsk_sock *s)
{
    bool any = false;
    struct wsk_op *op;
    while ((op = s->sendq_head) != NULL && op->armed && op->ready) {
        /* Take the cancel routine back before completing.  NULL: IoCancelIrp
         * took it and wsk_send_cancel runs (or is about to); it flushes when
         * it is done with the op, which stays at the head until then. */
        if (op->cxl == WSK_CXL_ARMED) {
            if (IoSetCancelRoutine(op->irp, NULL) == NULL) {
                op->cxl = WSK_CXL_RUNNING;
                break;
            }
            op->cxl = WSK_CXL_NONE;
        }
        if (op->cxl == WSK_CXL_RUNNING)
            break;
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

/* tx_req_cancel every datagram of op still waiting for ARP that nobody has
 * tried to cancel yet.  s->lock held (dropped around tx_req_cancel; the
 * caller guarantees op is not completed meanwhile: op->armed false or
 * op->cxl RUNNING). */
void wsk_send_cancel_txreqs_locked(struct wsk_sock *s, struct wsk_op *op)
{
    struct wskstack *st = s->prov->st;
    for (;;) {
        struct tx_req *r = NULL;
        if (op->nsub == 0 && op->txq && !op->ready && !op->cancel_tried) {
            op->cancel_tried = true;
            r = &op->txr;
        }
        for (unsigned i = 0; i < op->nsub && r == NULL; i++) {
            struct wsk_sub *sb = &op->subs[i];
            if (sb->queued && !sb->cancel_tried) {
                sb->cancel_tried = true;
                r = &sb->txr;
            }
        }
        if (r == NULL)
            return;
        pthread_mutex_unlock(&s->lock);
        tx_req_cancel(st, r); /* true: done(-ECANCELED) already ran */
        pthread_mutex_lock(&s->lock);
    }
}

/* The cancel routine of a send waiting for ARP (IoCancelIrp, cancel lock
 * held).  The op (and so the socket: close waits for an empty send queue)
 * is alive: the completer does not complete it while cxl is ARMED with the
 * routine gone, or RUNNING. */
static VOID wsk_send_cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    struct wsk_op *op = Irp->Tail.Overlay.DriverContext[0];
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    struct wsk_sock *s = op->sock;
    pthread_mutex_lock(&s->lock);
    /* Under s->lock: after the caller's "pended" line, before "completed". */
    WSK_TRACE_IRP(s->prov, WSK_IRP_CANCEL, op->cqe.call, Irp, 0, 0);
    op->cxl = WSK_CXL_RUNNING;
    wsk_send_cancel_txreqs_locked(s, op);
    op->cxl = WSK_CXL_NONE;
    wsk_send_flush_locked(s); /* the real result or STATUS_CANCELLED, in order */
    pthread_mutex_unlock(&s->lock);
}

/* Arm the cancel routine of a send with datagrams queued for ARP.  s->lock
 * held.  true: the IRP was cancelled before (Irp->Cancel set, the routine
 * is not armed): the caller cancels the datagrams itself. */
bool wsk_send_arm_cancel_locked(struct wsk_op *op)
{
    PIRP irp = op->irp;
    irp->Tail.Overlay.DriverContext[0] = op;
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    IoSetCancelRoutine(irp, wsk_send_cancel);
    op->cxl = WSK_CXL_ARMED;
    bool cancelled = irp->Cancel && IoSetCancelRoutine(irp, NULL) != NULL;
    if (cancelled)
        op->cxl = WSK_CXL_NONE;
    IoReleaseCancelSpinLock(irql);
    return cancelled;
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

/* Report a failed send (op: its place in s->sendq, or NULL if it never got
 * one).  With no earlier send in flight the caller waits for the routine
 * and gets the error; otherwise the failure takes its place in the
 * submission order and the call returns STATUS_PENDING.  s->lock held on
 * entry, released. */
NTSTATUS wsk_send_fail_locked(struct wsk_sock *s, struct wsk_op *op, PIRP irp,
                                     enum wsk_call call, NTSTATUS status, const char *why)
{
    bool earlier = s->sendq_head != NULL && s->sendq_head != op;
    if (WSK_TRACING(s->prov))
        wsk_trace_send_refused(s, call, status, why);
    if (earlier && op == NULL) {
        op = wsk_op_new(s, irp, call);
        if (op != NULL) {
            if (s->sendq_tail)
                s->sendq_tail->next = op;
            else
                s->sendq_head = op;
            s->sendq_tail = op;
        }
    }
    if (earlier && op != NULL) {
        WSK_TRACE_IRP(s->prov, WSK_IRP_PENDED, call, irp, STATUS_PENDING, 0);
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
    return wsk_complete_sync(s->prov, &s->cq, call, irp, status, 0);
}

/* The destination, the socket's send options and the caller's cmsgs, all
 * read during the call (WSK-SPEC 5.2).  RemoteAddress NULL: the fixed
 * REMOTE address, else the SENDTO address, else STATUS_INVALID_PARAMETER
 * (WSK-SPEC 5.5).  A broadcast destination without SO_BROADCAST ->
 * STATUS_ACCESS_DENIED (WSAEACCES, as Winsock's sendto).  A failure sets
 * *why (for the trace). */
NTSTATUS wsk_send_args(struct wsk_sock *s, enum wsk_call call, PSOCKADDR RemoteAddress,
                              ULONG ctl_len, PCMSGHDR ctl, struct udp_send_args *a,
                              const char **why)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_lock(&s->lock);
    struct wsk_opts o = s->o;
    const char *fixed = NULL;
    if (RemoteAddress == NULL && s->has_remote) {
        a->dst = s->remote;
        a->dport = s->rport;
        fixed = "SIO_WSK_SET_REMOTE_ADDRESS";
    } else if (RemoteAddress == NULL && s->has_sendto) {
        a->dst = s->sendto;
        a->dport = s->sport;
        fixed = "SIO_WSK_SET_SENDTO_ADDRESS";
    }
    pthread_mutex_unlock(&s->lock);
    if (RemoteAddress != NULL) {
        NTSTATUS st = wsk_sockaddr_get(s, RemoteAddress, &a->dst, &a->dport);
        if (!NT_SUCCESS(st))
            WSK_REFUSE(why,
                       st == STATUS_INVALID_ADDRESS ? "link-local scope id not the stack's"
                                                    : "RemoteAddress not of the socket's family",
                       st);
    } else if (fixed == NULL) {
        WSK_REFUSE(why, "RemoteAddress NULL and no fixed address set", STATUS_INVALID_PARAMETER);
    }
    /* AF_INET6: an IPv6 destination takes the IPPROTO_IPV6 options, an
     * IPv4-mapped one leaves as IPv4 with the IPPROTO_IP ones. */
    bool dst6 = a->dst.af == IPA_V6 && !wsk_ip_is_v4mapped(&a->dst);
    a->ttl = dst6 ? o.v6hops : o.ttl;
    a->tos = dst6 ? o.v6tclass : o.tos;
    a->df = dst6 ? o.v6df : o.df;
    a->ifindex = dst6 ? o.v6unicast_if : o.unicast_if;
    struct wsk_pktsrc ps;
    memset(&ps, 0, sizeof(ps));
    NTSTATUS status = wsk_send_cmsgs((const uint8_t *)ctl, ctl_len, a, &ps, why);
    if (!NT_SUCCESS(status))
        return status;
    bool pktinfo = dst6 ? ps.has6 : ps.has4;
    if (pktinfo) {
        a->src = dst6 ? ps.src6 : ps.src4;
        a->ifindex = dst6 ? ps.if6 : ps.if4;
    }
    uint32_t v4 = a->dst.af == IPA_V4 ? a->dst.v4 : !dst6 ? wsk_be32(a->dst.v6 + 12) : 0;
    if (!o.broadcast && !dst6 && ipv4_is_broadcast(s->prov->st, v4))
        WSK_REFUSE(why, "broadcast destination without SO_BROADCAST", STATUS_ACCESS_DENIED);
    if (WSK_TRACING(s->prov) && (fixed != NULL || pktinfo))
        wsk_trace_send_addr(s, call, a, fixed, pktinfo, dst6);
    return STATUS_SUCCESS;
}

/* Why a payload is refused before anything is sent. */
const char *wsk_too_big_why(const struct wsk_sock *s)
{
    return s->family == AF_INET6 ? "more than 65527 bytes, the UDP maximum"
                                 : "more than 65507 bytes, the UDP over IPv4 maximum";
}
const char *wsk_mdl_why(NTSTATUS status)
{
    return status == STATUS_INSUFFICIENT_RESOURCES
               ? "no memory"
               : "MDL chain shorter than Length, or Offset outside the first MDL";
}

NTSTATUS WSKAPI wsk_send_to(PWSK_SOCKET Socket, PWSK_BUF Buffer, ULONG Flags,
                            PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                            PCMSGHDR ControlInfo, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_accept(s->prov, Irp, WSK_CALL_SEND_TO))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = s->prov;
    struct wskstack *st = prov->st;

    /* Everything the caller passed is read now (clients build the address
     * and the cmsgs on their stack and do not wait). */
    struct udp_send_args a;
    NTSTATUS status = STATUS_SUCCESS;
    const char *why = "";
    if (Buffer == NULL) {
        status = STATUS_INVALID_PARAMETER;
        why = "no buffer";
    } else {
        status = wsk_send_args(s, WSK_CALL_SEND_TO, RemoteAddress, ControlInfoLength, ControlInfo,
                               &a, &why);
    }
    if (NT_SUCCESS(status) && Buffer->Length > wsk_max_payload(s)) {
        status = STATUS_INVALID_BUFFER_SIZE;
        why = wsk_too_big_why(s);
    }
    struct iovec iov_stack[WSK_IOV_STACK];
    struct iovec *iov = iov_stack;
    unsigned iovcnt = 0;
    if (NT_SUCCESS(status)) {
        status = wsk_mdl_gather(Buffer, &iov, &iovcnt);
        if (!NT_SUCCESS(status))
            why = wsk_mdl_why(status);
    }
    struct wsk_op *op = NULL;
    if (NT_SUCCESS(status)) {
        op = wsk_op_new(s, Irp, WSK_CALL_SEND_TO);
        if (op == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            why = "no memory";
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
        if (iov != iov_stack)
            free(iov);
        return wsk_send_fail_locked(s, NULL, Irp, WSK_CALL_SEND_TO, status, why);
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
        return wsk_send_fail_locked(s, op, Irp, WSK_CALL_SEND_TO, wsk_errno_status(rc),
                                    wsk_errno_why(rc));
    bool cancel_now = false;
    if (rc == UDP_SEND_DONE) {
        op->ready = true;
        op->cqe.status = STATUS_SUCCESS;
        op->cqe.info = op->len;
    } else if (!op->ready) {
        op->txq = true; /* waiting for ARP: done() reports, close may cancel */
        cancel_now = wsk_send_arm_cancel_locked(op);
    }
    WSK_TRACE_F(prov, TD_TX, "send", (&(struct trace_fields){.call = "WskSendTo"}),
                "send accepted: %lu bytes, %s", (unsigned long)op->len,
                op->ready ? "handed to the device" : "waiting for the neighbour");
    WSK_TRACE_IRP(prov, WSK_IRP_PENDED, WSK_CALL_SEND_TO, Irp, STATUS_PENDING, 0);
    IoMarkIrpPending(Irp); /* before the completion can be queued */
    if (cancel_now) {
        WSK_TRACE_IRP(prov, WSK_IRP_CANCEL_EARLY, WSK_CALL_SEND_TO, Irp, 0, 0);
        wsk_send_cancel_txreqs_locked(s, op); /* not armed: not completed meanwhile */
    }
    op->armed = true;
    wsk_send_flush_locked(s);
    pthread_mutex_unlock(&s->lock);
    return STATUS_PENDING;
}

/* ---- close ----------------------------------------------------------------------------- */
void wsk_dgram_cancel_all(struct wsk_sock *s)
{
    struct wskstack *st = s->prov->st;
    pthread_mutex_lock(&s->lock);
    /* Receives: complete the ones we can take back; the others are being
     * cancelled right now and their routine dequeues them. */
    unsigned nrecv = wsk_recv_fail_all_locked(s, STATUS_CANCELLED);
    unsigned nsend = 0;
    while (s->recvq_head != NULL)
        pthread_cond_wait(&s->cv, &s->lock);

    /* Sends waiting for ARP: take them back (done(-ECANCELED) runs inside
     * tx_req_cancel).  The op is held so that its memory outlives the call
     * even if done() with the real result wins the race. */
    for (;;) {
        struct wsk_op *op = NULL;
        struct tx_req *r = NULL;
        for (struct wsk_op *o = s->sendq_head; o != NULL && r == NULL; o = o->next) {
            if (o->nsub == 0 && o->txq && !o->ready && !o->cancel_tried) {
                o->cancel_tried = true;
                r = &o->txr;
            }
            /* WskSendMessages: each datagram still waiting for ARP */
            for (unsigned i = 0; i < o->nsub && r == NULL; i++) {
                struct wsk_sub *sb = &o->subs[i];
                if (sb->queued && !sb->cancel_tried) {
                    sb->cancel_tried = true;
                    r = &sb->txr;
                }
            }
            if (r != NULL)
                op = o;
        }
        if (op == NULL)
            break;
        op->hold++;
        pthread_mutex_unlock(&s->lock);
        if (tx_req_cancel(st, r))
            nsend++;
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
    WSK_TRACE_F(s->prov, TD_NONE, "close", (&(struct trace_fields){.call = "WskCloseSocket"}),
                "close: %u pending receive(s) cancelled, %u datagram(s) waiting for the "
                "neighbour cancelled, %u queued datagram(s) dropped",
                nrecv, nsend, s->dq_count);
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
