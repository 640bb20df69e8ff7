/* SPDX-License-Identifier: MIT */
/*
 * dgram.c - the datagram path: WskSendTo, WskReceiveFrom, the UDP endpoint
 * receive callback, control messages, and MDL gather/scatter.
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
 *   WskSendMessages: the policy in wsk_impl.h; statuses as WskSendTo.
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

/* One cmsg {level, type, data} at c (space bytes, zero padded). */
static void wsk_put_cmsg(uint8_t *c, INT level, INT type, const void *data, size_t len)
{
    size_t space = WSA_CMSG_SPACE(len);
    CMSGHDR h;
    memset(&h, 0, sizeof(h));
    h.cmsg_len = WSA_CMSG_LEN(len);
    h.cmsg_level = level;
    h.cmsg_type = type;
    memset(c, 0, space);
    memcpy(c, &h, sizeof(h));
    memcpy(c + WSA_CMSGDATA_ALIGN(sizeof(CMSGHDR)), data, len);
}

/* Receive cmsgs (WSK-SPEC 3.7/3.8, 5.6): IP_PKTINFO {destination address,
 * arrival ifindex}; IP_RECVTOS -> {IPPROTO_IP, IP_TOS, INT tos byte};
 * IP_ECN -> {IPPROTO_IP, IP_ECN, INT tos & 3}; IP_HOPLIMIT -> {IPPROTO_IP,
 * IP_HOPLIMIT, INT ttl}.  Each object takes WSA_CMSG_SPACE bytes; one that
 * does not fit is left out whole and sets *ctrunc. */
ULONG wsk_rx_cmsgs(struct wskstack *st, const struct wsk_opts *o, const struct udp_rx_info *info,
                   uint8_t *ctl, ULONG cap, bool *ctrunc)
{
    ULONG off = 0;
    *ctrunc = false;
    bool v6 = info->dst.af == IPA_V6;
    if (v6 && o->v6pktinfo) {
        /* IPV6_PKTINFO (issue 4): IN6_PKTINFO, 20 bytes, cmsg_len 36. */
        size_t space = WSA_CMSG_SPACE(sizeof(IN6_PKTINFO));
        if (ctl != NULL && cap - off >= space) {
            IN6_PKTINFO pi;
            memset(&pi, 0, sizeof(pi));
            memcpy(&pi.ipi6_addr, info->dst.v6, 16);
            pi.ipi6_ifindex = stack_ifindex(st);
            wsk_put_cmsg(ctl + off, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
            off += (ULONG)space;
        } else {
            *ctrunc = true;
        }
    }
    if (!v6 && o->pktinfo) {
        size_t space = WSA_CMSG_SPACE(sizeof(IN_PKTINFO));
        if (ctl != NULL && cap - off >= space) {
            IN_PKTINFO pi;
            memset(&pi, 0, sizeof(pi));
            wsk_put_be32(&pi.ipi_addr, info->dst.af == IPA_V4 ? info->dst.v4 : 0);
            pi.ipi_ifindex = stack_ifindex(st);
            wsk_put_cmsg(ctl + off, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
            off += (ULONG)space;
        } else {
            *ctrunc = true;
        }
    }
    struct {
        bool on;
        INT type;
        INT val;
    } ints[3] = {
        {v6 ? o->v6recvtclass : o->recvtos, v6 ? IPV6_TCLASS : IP_TOS, info->tos},
        {v6 ? o->v6ecn : o->ecn, v6 ? IPV6_ECN : IP_ECN, info->tos & 3},
        {v6 ? o->v6hoplimit : o->hoplimit, v6 ? IPV6_HOPLIMIT : IP_HOPLIMIT, info->ttl},
    };
    INT level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    for (unsigned i = 0; i < 3; i++) {
        if (!ints[i].on)
            continue;
        size_t space = WSA_CMSG_SPACE(sizeof(INT));
        if (ctl != NULL && cap - off >= space) {
            wsk_put_cmsg(ctl + off, level, ints[i].type, &ints[i].val, sizeof(INT));
            off += (ULONG)space;
        } else {
            *ctrunc = true;
        }
    }
    return off;
}

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
    /* SIO_WSK_SET_REMOTE_ADDRESS: only the fixed remote is accepted (DDI
     * WskSendTo / sio-wsk-set-remote-address); -EPERM -> UdpInErrors. */
    struct ip_addr from = wsk_ip_for_sock(s, &info->src); /* mapped on AF_INET6 */
    if (s->has_remote && !(ip_addr_eq(&from, &s->remote) && info->sport == s->rport)) {
        s->stat_filtered++;
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
        WSK_TRACE(s->prov, TD_RX, "deliver", "receive: datagram of %zu bytes delivered to a pending irp", n);
        wsk_recv_finish_locked(s, op, STATUS_SUCCESS, n);
        pthread_mutex_unlock(&s->lock);
        pkt_free(st, p);
        return 0;
    }
    /* Nobody waiting: queue it, bounded (UdpRcvbufErrors when full); the
     * event (if on) is indicated from the queue on the completion queue. */
    if (s->dq_count >= WSK_RCVQ_MAX_DGRAMS || s->dq_bytes + p->len > s->o.rcvbuf) {
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
    s->ev_wait_new = false; /* a new arrival: indicate again (static) */
    WSK_TRACE(s->prov, TD_RX, "queue", "receive: no irp pending, datagram of %u bytes queued (%u waiting)%s", (unsigned)p->len, s->dq_count, s->ev_enabled ? ", event indication scheduled" : "");
    wsk_event_kick_locked(s);
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
    WSK_TRACE_IRP(prov, "issued", "WskReceiveFrom", Irp, 0, 0);
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

    struct wsk_dgram *d = wsk_dq_pop_locked(s);
    if (d != NULL) {
        /* A datagram is waiting: the result is known now. */
        struct wsk_opts opts = s->o;
        pthread_mutex_unlock(&s->lock);
        size_t n = wsk_rx_deliver(s, &o, &opts, pkt_data(d->p), d->p->len, &d->info);
        pkt_free(st, d->p);
        free(d);
        WSK_TRACE(prov, TD_RX, "deliver", "receive: queued datagram of %zu bytes delivered to the irp", n);
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
    WSK_TRACE_IRP(prov, "pended", "WskReceiveFrom", Irp, STATUS_PENDING, 0);
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
/* Largest payload accepted before anything is sent: 65507 (AF_INET);
 * 65527 on AF_INET6 (an IPv4-mapped destination over 65507 then fails in
 * the stack with -EMSGSIZE -> STATUS_INVALID_BUFFER_SIZE too). */
static size_t wsk_max_payload(const struct wsk_sock *s)
{
    return s->family == AF_INET6 ? WSK_MAX_UDP6_PAYLOAD : WSK_MAX_UDP4_PAYLOAD;
}

/* Queue the completions of the sends at the head of s->sendq that have a
 * result and whose caller has returned - in submission order.  s->lock held. */
static void wsk_send_flush_locked(struct wsk_sock *s)
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
static void wsk_send_cancel_txreqs_locked(struct wsk_sock *s, struct wsk_op *op)
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
    op->cxl = WSK_CXL_RUNNING;
    wsk_send_cancel_txreqs_locked(s, op);
    op->cxl = WSK_CXL_NONE;
    wsk_send_flush_locked(s); /* the real result or STATUS_CANCELLED, in order */
    pthread_mutex_unlock(&s->lock);
}

/* Arm the cancel routine of a send with datagrams queued for ARP.  s->lock
 * held.  true: the IRP was cancelled before (Irp->Cancel set, the routine
 * is not armed): the caller cancels the datagrams itself. */
static bool wsk_send_arm_cancel_locked(struct wsk_op *op)
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

/* Walk the control messages (WSA_CMSG_* rules, WSK-SPEC 3.7).
 *   IP_PKTINFO (IN_PKTINFO)  source address (0 = by route) and ifindex
 *   IP_TOS (INT 0..255)      the TOS byte of this datagram (MsQuic)
 *   IP_ECN (INT 0..3)        the ECN bits, DSCP from IP_TOS/the option
 *   IPPROTO_UDP UDP_SEND_MSG_SIZE -> STATUS_NOT_SUPPORTED (no USO; MsQuic
 *                            only sends it after its option probe, which
 *                            fails)
 *   zero-length and unknown cmsgs: skipped (WireGuard's trailer). */
/* The source the caller chose (IN_PKTINFO / IN6_PKTINFO).  On a dual-stack
 * socket IN_PKTINFO applies to IPv4 / IPv4-mapped destinations and
 * IN6_PKTINFO to the others (wsk_send_args). */
struct wsk_pktsrc {
    bool has4, has6;
    struct ip_addr src4, src6;
    uint32_t if4, if6;
};

static NTSTATUS wsk_send_cmsgs(const uint8_t *ctl, ULONG len, struct udp_send_args *a,
                               struct wsk_pktsrc *ps)
{
    if (len == 0)
        return STATUS_SUCCESS;
    if (ctl == NULL)
        return STATUS_INVALID_PARAMETER;
    int ecn = -1;
    size_t off = 0;
    while (off + sizeof(CMSGHDR) <= len) {
        CMSGHDR h;
        memcpy(&h, ctl + off, sizeof(h));
        if (h.cmsg_len < sizeof(CMSGHDR) || h.cmsg_len > len - off)
            return STATUS_INVALID_PARAMETER;
        size_t data_off = WSA_CMSGDATA_ALIGN(sizeof(CMSGHDR));
        size_t data_len = h.cmsg_len > data_off ? h.cmsg_len - data_off : 0;
        const uint8_t *data = ctl + off + data_off;
        if (h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_PKTINFO) {
            IN_PKTINFO pi;
            if (data_len < sizeof(pi))
                return STATUS_INVALID_PARAMETER;
            memcpy(&pi, data, sizeof(pi));
            uint32_t src = wsk_be32(&pi.ipi_addr);
            ps->has4 = true;
            ps->src4 = src != 0 ? ip4(src) : (struct ip_addr){.af = IPA_NONE};
            ps->if4 = pi.ipi_ifindex;
        } else if (h.cmsg_level == IPPROTO_IPV6 && h.cmsg_type == IPV6_PKTINFO) {
            IN6_PKTINFO pi6;
            if (data_len < sizeof(pi6))
                return STATUS_INVALID_PARAMETER;
            memcpy(&pi6, data, sizeof(pi6));
            ps->has6 = true;
            ps->src6 = (struct ip_addr){.af = IPA_V6};
            memcpy(ps->src6.v6, &pi6.ipi6_addr, 16);
            if (ip_addr_is_any(&ps->src6))
                ps->src6 = (struct ip_addr){.af = IPA_NONE};
            ps->if6 = pi6.ipi6_ifindex;
        } else if (h.cmsg_level == IPPROTO_IP && (h.cmsg_type == IP_TOS || h.cmsg_type == IP_ECN)) {
            INT v;
            if (data_len < sizeof(v))
                return STATUS_INVALID_PARAMETER;
            memcpy(&v, data, sizeof(v));
            if (v < 0 || v > (h.cmsg_type == IP_TOS ? 255 : 3))
                return STATUS_INVALID_PARAMETER;
            if (h.cmsg_type == IP_TOS)
                a->tos = v;
            else
                ecn = v;
        } else if (h.cmsg_level == IPPROTO_UDP && h.cmsg_type == UDP_SEND_MSG_SIZE) {
            return STATUS_NOT_SUPPORTED;
        }
        off += WSA_CMSGHDR_ALIGN(h.cmsg_len);
    }
    if (ecn >= 0)
        a->tos = ((a->tos < 0 ? 0 : a->tos) & ~3) | ecn;
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
    WSK_TRACE(s->prov, TD_TX, "send", "send refused: %s", wsk_status_str(status));
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
        WSK_TRACE_IRP(s->prov, "pended", NULL, irp, STATUS_PENDING, 0);
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

/* The destination, the socket's send options and the caller's cmsgs, all
 * read during the call (WSK-SPEC 5.2).  RemoteAddress NULL: the fixed
 * REMOTE address, else the SENDTO address, else STATUS_INVALID_PARAMETER
 * (WSK-SPEC 5.5).  A broadcast destination without SO_BROADCAST ->
 * STATUS_ACCESS_DENIED (WSAEACCES, as Winsock's sendto). */
static NTSTATUS wsk_send_args(struct wsk_sock *s, PSOCKADDR RemoteAddress, ULONG ctl_len,
                              PCMSGHDR ctl, struct udp_send_args *a)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_lock(&s->lock);
    struct wsk_opts o = s->o;
    bool have = false;
    if (RemoteAddress == NULL && s->has_remote) {
        a->dst = s->remote;
        a->dport = s->rport;
        have = true;
    } else if (RemoteAddress == NULL && s->has_sendto) {
        a->dst = s->sendto;
        a->dport = s->sport;
        have = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (RemoteAddress != NULL) {
        NTSTATUS st = wsk_sockaddr_get(s, RemoteAddress, &a->dst, &a->dport);
        if (!NT_SUCCESS(st))
            return st;
        have = true;
    }
    if (!have)
        return STATUS_INVALID_PARAMETER;
    /* AF_INET6: an IPv6 destination takes the IPPROTO_IPV6 options, an
     * IPv4-mapped one leaves as IPv4 with the IPPROTO_IP ones. */
    bool dst6 = a->dst.af == IPA_V6 && !wsk_ip_is_v4mapped(&a->dst);
    a->ttl = dst6 ? o.v6hops : o.ttl;
    a->tos = dst6 ? o.v6tclass : o.tos;
    a->df = dst6 ? o.v6df : o.df;
    a->ifindex = dst6 ? o.v6unicast_if : o.unicast_if;
    struct wsk_pktsrc ps;
    memset(&ps, 0, sizeof(ps));
    NTSTATUS status = wsk_send_cmsgs((const uint8_t *)ctl, ctl_len, a, &ps);
    if (!NT_SUCCESS(status))
        return status;
    if (dst6 ? ps.has6 : ps.has4) {
        a->src = dst6 ? ps.src6 : ps.src4;
        a->ifindex = dst6 ? ps.if6 : ps.if4;
    }
    uint32_t v4 = a->dst.af == IPA_V4 ? a->dst.v4 : !dst6 ? wsk_be32(a->dst.v6 + 12) : 0;
    if (!o.broadcast && !dst6 && ipv4_is_broadcast(s->prov->st, v4))
        return STATUS_ACCESS_DENIED;
    return STATUS_SUCCESS;
}

NTSTATUS WSKAPI wsk_send_to(PWSK_SOCKET Socket, PWSK_BUF Buffer, ULONG Flags,
                            PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                            PCMSGHDR ControlInfo, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = s->prov;
    WSK_TRACE_IRP(prov, "issued", "WskSendTo", Irp, 0, 0);
    struct wskstack *st = prov->st;

    /* Everything the caller passed is read now (clients build the address
     * and the cmsgs on their stack and do not wait). */
    struct udp_send_args a;
    NTSTATUS status = STATUS_SUCCESS;
    if (Buffer == NULL)
        status = STATUS_INVALID_PARAMETER;
    else
        status = wsk_send_args(s, RemoteAddress, ControlInfoLength, ControlInfo, &a);
    if (NT_SUCCESS(status) && Buffer->Length > wsk_max_payload(s))
        status = STATUS_INVALID_BUFFER_SIZE;
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
    bool cancel_now = false;
    if (rc == UDP_SEND_DONE) {
        op->ready = true;
        op->cqe.status = STATUS_SUCCESS;
        op->cqe.info = op->len;
    } else if (!op->ready) {
        op->txq = true; /* waiting for ARP: done() reports, close may cancel */
        cancel_now = wsk_send_arm_cancel_locked(op);
    }
    WSK_TRACE(prov, TD_TX, "send", "send accepted: %lu bytes, %s", (unsigned long)op->len, op->ready ? "handed to the device" : "waiting for the neighbour");
    WSK_TRACE_IRP(prov, "pended", "WskSendTo", Irp, STATUS_PENDING, 0);
    IoMarkIrpPending(Irp); /* before the completion can be queued */
    if (cancel_now)
        wsk_send_cancel_txreqs_locked(s, op); /* not armed: not completed meanwhile */
    op->armed = true;
    wsk_send_flush_locked(s);
    pthread_mutex_unlock(&s->lock);
    return STATUS_PENDING;
}

/* ---- WskSendMessages ------------------------------------------------------------------- */
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

NTSTATUS WSKAPI wsk_send_messages(PWSK_SOCKET Socket, PWSK_BUF_LIST BufferList, ULONG Flags,
                                  PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                                  PCMSGHDR ControlInfo, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = s->prov;
    struct wskstack *st = prov->st;

    /* Capture: destination, options, cmsgs, and every descriptor, now. */
    struct udp_send_args a;
    NTSTATUS status = BufferList == NULL
                          ? STATUS_INVALID_PARAMETER
                          : wsk_send_args(s, RemoteAddress, ControlInfoLength, ControlInfo, &a);
    unsigned n = 0;
    if (NT_SUCCESS(status)) {
        for (PWSK_BUF_LIST l = BufferList; l != NULL; l = l->Next) {
            if (l->Buffer.Length > wsk_max_payload(s))
                status = STATUS_INVALID_BUFFER_SIZE; /* nothing is sent */
            n++;
        }
    }
    WSK_BUF *bufs = NULL;
    struct wsk_op *op = NULL;
    if (NT_SUCCESS(status)) {
        bufs = malloc(sizeof(*bufs) * n);
        op = calloc(1, sizeof(*op) + sizeof(struct wsk_sub) * n);
        if (bufs == NULL || op == NULL)
            status = STATUS_INSUFFICIENT_RESOURCES;
    }
    if (NT_SUCCESS(status)) {
        unsigned i = 0;
        for (PWSK_BUF_LIST l = BufferList; l != NULL; l = l->Next)
            bufs[i++] = l->Buffer;
        /* Every MDL chain must cover its Length before anything leaves. */
        for (i = 0; i < n && NT_SUCCESS(status); i++) {
            struct iovec iov_stack[WSK_IOV_STACK];
            struct iovec *iov = iov_stack;
            unsigned cnt = 0;
            status = wsk_mdl_gather(&bufs[i], &iov, &cnt);
            if (iov != iov_stack)
                free(iov);
        }
    }
    if (op != NULL) {
        op->sock = s;
        op->irp = Irp;
        op->cqe.irp = Irp;
        op->cqe.release = wsk_op_release;
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
        if (s->gone || stack_dev_gone(st))
            status = STATUS_FILE_FORCED_CLOSED;
        else if (!s->bound || s->closing)
            status = STATUS_INVALID_DEVICE_STATE;
    }
    if (!NT_SUCCESS(status)) {
        free(op);
        free(bufs);
        return wsk_send_fail_locked(s, NULL, Irp, status);
    }
    if (s->sendq_tail)
        s->sendq_tail->next = op;
    else
        s->sendq_head = op;
    s->sendq_tail = op;
    pthread_mutex_unlock(&s->lock);

    /* In list order; stop at the first immediate failure. */
    NTSTATUS first_err = STATUS_SUCCESS;
    unsigned sent = 0;
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
            } else if (sb->status == STATUS_PENDING) {
                sb->queued = true; /* done() reports, close may cancel */
            }
            pthread_mutex_unlock(&s->lock);
        } else {
            sb->status = status;
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
        return wsk_send_fail_locked(s, op, Irp, first_err);
    }
    IoMarkIrpPending(Irp); /* before the completion can be queued */
    op->submitted = true;
    if (op->sub_left > 0 && wsk_send_arm_cancel_locked(op))
        wsk_send_cancel_txreqs_locked(s, op); /* not armed: not completed meanwhile */
    op->armed = true;
    wsk_msend_settle_locked(s, op);
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
    wsk_recv_fail_all_locked(s, STATUS_CANCELLED);
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
        tx_req_cancel(st, r);
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
