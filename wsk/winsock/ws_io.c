/* SPDX-License-Identifier: MIT */
/*
 * ws_io.c - the datagram path of user-mode Winsock: WSASendMsg, WSASendTo,
 * sendto, WSARecvMsg, WSARecvFrom, recvfrom, WSAGetOverlappedResult.
 *
 * Every send is ONE WskSendTo IRP and every receive ONE WskReceiveFrom IRP
 * on the socket's WSK socket (one datagram path with WSK).  The WSABUF
 * array is captured during the call (an MDL per non-empty WSABUF, chained),
 * the destination and the control data are read by the provider during the
 * call.  Sends are submitted in call order and the provider keeps a
 * socket's send order, so posted buffers leave in the order posted.
 *
 * Modes:
 *   overlapped  (socket created with WSA_FLAG_OVERLAPPED and lpOverlapped
 *               != NULL): Internal = STATUS_PENDING, InternalHigh = 0, the
 *               event (if any, and no routine) is reset; the IRP's
 *               completion routine - on a WSK completion thread - stores
 *               InternalHigh = bytes and Internal = the NTSTATUS, then sets
 *               hEvent, or queues lpCompletionRoutine to the ISSUING
 *               thread.  An IRP that completed during the call (a datagram
 *               was already queued, or an immediate failure) gives 0 /
 *               SOCKET_ERROR right away; a success also sets the event or
 *               queues the routine (as Windows does); a failure queues
 *               nothing.  An IRP that pended gives WSA_IO_PENDING.
 *   blocking    start the IRP and wait; SO_SNDTIMEO / SO_RCVTIMEO bound the
 *               wait: then IoCancelIrp and wait for the completion.  A
 *               receive then completes with STATUS_CANCELLED (WSAETIMEDOUT);
 *               a send that still completed successfully is reported as
 *               sent, any other result is WSAETIMEDOUT.
 *   non-blocking (FIONBIO) a receive with no datagram queued is cancelled at
 *               once: WSAEWOULDBLOCK, nothing consumed.  A send while an
 *               earlier send of the socket is still in flight fails at once
 *               with WSAEWOULDBLOCK, nothing submitted.  Otherwise the send
 *               is submitted; if it has not completed within
 *               WS_NB_GRACE_MS (a frame that went out completes in
 *               microseconds; it has not when it waits for ARP) the IRP is
 *               cancelled: STATUS_CANCELLED -> WSAEWOULDBLOCK with nothing
 *               sent.  The provider does not (yet) cancel a send waiting
 *               for ARP, so in that case the call waits for its real
 *               result (sent, or WSAEHOSTUNREACH after the ARP retries).
 *   Overlapped operations of a socket created WITHOUT WSA_FLAG_OVERLAPPED:
 *   lpOverlapped / lpCompletionRoutine are ignored (the WSASendMsg doc's
 *   "ignored for non-overlapped sockets").
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsk/winsock/ws_impl.h"

#define WS_OV(s) ((ULONG_PTR)(ULONG)(s))

struct ws_op {
    atomic_int refs;
    struct ws_sock *so;
    PIRP irp;
    PMDL mdl;
    bool send;
    bool overlapped;
    LPWSAOVERLAPPED ov;
    struct ws_event *ev;
    struct ws_thread *thr;
    LPWSAOVERLAPPED_COMPLETION_ROUTINE cr;
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
    NTSTATUS status;
    ULONG_PTR info;
    /* receive */
    SOCKADDR_IN6 from;            /* big enough for both families */
    ULONG ctl_len, ctl_flags;
    struct sockaddr *ufrom;
    LPINT ufromlen;
    LPDWORD uflags;
    LPWSAMSG umsg;
};

static void ws_op_put(struct ws_op *op)
{
    if (atomic_fetch_sub(&op->refs, 1) != 1)
        return;
    if (op->irp)
        IoFreeIrp(op->irp);
    for (PMDL m = op->mdl; m;) {
        PMDL n = m->Next;
        IoFreeMdl(m);
        m = n;
    }
    if (op->ev)
        ws_event_put(op->ev);
    if (op->thr)
        ws_thread_put(op->thr);
    ws_sock_put(op->so);
    pthread_cond_destroy(&op->c);
    pthread_mutex_destroy(&op->m);
    free(op);
}

static int ws_famlen(ADDRESS_FAMILY af)
{
    return af == AF_INET6 ? (int)sizeof(SOCKADDR_IN6) : (int)sizeof(SOCKADDR_IN);
}

/* Receive results into the caller's structures (success only). */
static NTSTATUS ws_recv_outputs(struct ws_op *op, NTSTATUS st)
{
    if (!NT_SUCCESS(st))
        return st;
    int fl = ws_famlen(op->so->af);
    if (op->ufrom)
        memcpy(op->ufrom, &op->from, (size_t)fl);
    if (op->ufrom && op->ufromlen)
        *op->ufromlen = fl;
    if (op->uflags)
        *op->uflags = 0;
    if (op->umsg) {
        if (op->umsg->name)
            op->umsg->namelen = fl;
        op->umsg->Control.len = op->ctl_len;
        op->umsg->dwFlags = op->ctl_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_BCAST | MSG_MCAST);
    }
    return (op->ctl_flags & MSG_TRUNC) ? STATUS_BUFFER_OVERFLOW : st;
}

/* Completion of an overlapped operation: the OVERLAPPED, then the event or
 * the routine.  Nothing touches the OVERLAPPED after Internal is stored. */
static void ws_deliver(struct ws_op *op, NTSTATUS st, ULONG_PTR info)
{
    LPWSAOVERLAPPED ov = op->ov;
    /* The result and the event are published in ONE critical section of
     * so->m, and WSAGetOverlappedResult passes through so->m after it sees
     * the result: so once it has returned, the event is already signaled,
     * as on Windows (lock order: so->m, then the event's own lock). */
    pthread_mutex_lock(&op->so->m);
    __atomic_store_n(&ov->InternalHigh, info, __ATOMIC_RELAXED);
    __atomic_store_n(&ov->Internal, WS_OV(st), __ATOMIC_RELEASE);
    if (!op->cr && op->ev)
        ws_event_set(op->ev, true);
    pthread_cond_broadcast(&op->so->c); /* WSAGetOverlappedResult(fWait) */
    pthread_mutex_unlock(&op->so->m);
    if (op->cr)
        ws_apc_queue(op->thr, op->cr, (DWORD)ws_status_to_wsa(st), (DWORD)info, ov);
}

/* The IRP's completion routine (a WSK completion thread, or the issuing
 * thread inside the WSK call for a result known at once). */
static NTSTATUS ws_op_done(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    struct ws_op *op = Context;
    NTSTATUS st = Irp->IoStatus.Status;
    ULONG_PTR info = Irp->IoStatus.Information;
    bool pended = Irp->PendingReturned;
    if (!op->send)
        st = ws_recv_outputs(op, st);
    if (op->send) {
        pthread_mutex_lock(&op->so->m);
        op->so->sends_out--;
        pthread_cond_broadcast(&op->so->c);
        pthread_mutex_unlock(&op->so->m);
    }
    pthread_mutex_lock(&op->m);
    op->status = st;
    op->info = info;
    op->done = true;
    pthread_cond_broadcast(&op->c);
    pthread_mutex_unlock(&op->m);
    /* A result known during the call is handled by the issuing call. */
    if (op->overlapped && pended)
        ws_deliver(op, st, info);
    ws_op_put(op);
    return STATUS_MORE_PROCESSING_REQUIRED; /* the IRP is freed with the op */
}

/* Wait for op->done at most ms (INFINITE: forever).  true if done. */
static bool ws_op_wait(struct ws_op *op, DWORD ms)
{
    struct timespec dl, now;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&op->m);
    while (!op->done) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (ms != INFINITE && (now.tv_sec > dl.tv_sec ||
                               (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec)))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 5 * 1000000L; /* slices: the monotonic deadline rules */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&op->c, &op->m, &ts);
    }
    bool done = op->done;
    pthread_mutex_unlock(&op->m);
    return done;
}

/* A new op (2 refs: the caller and the completion routine) with its IRP
 * and an MDL chain over the WSABUFs.  NULL: no memory (error set). */
static struct ws_op *ws_op_new(struct ws_sock *so, bool send, const WSABUF *bufs, DWORD n,
                               WSK_BUF *wb)
{
    struct ws_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        goto nomem;
    atomic_init(&op->refs, 2);
    pthread_mutex_init(&op->m, NULL);
    pthread_cond_init(&op->c, NULL);
    atomic_fetch_add(&so->refs, 1);
    op->so = so;
    op->send = send;
    op->irp = IoAllocateIrp(1, FALSE);
    PMDL *tail = &op->mdl;
    SIZE_T total = 0;
    for (DWORD i = 0; op->irp && i < n; i++) {
        if (bufs[i].len == 0)
            continue;
        PMDL m = IoAllocateMdl(bufs[i].buf, bufs[i].len, FALSE, FALSE, NULL);
        if (m == NULL)
            break;
        MmBuildMdlForNonPagedPool(m);
        *tail = m;
        tail = &m->Next;
        total += bufs[i].len;
    }
    if (op->irp == NULL || *tail != NULL) {
        atomic_store(&op->refs, 1);
        ws_op_put(op);
        goto nomem;
    }
    {
        /* every non-empty WSABUF got its MDL? */
        SIZE_T want = 0;
        for (DWORD i = 0; i < n; i++)
            want += bufs[i].len;
        if (want != total) {
            atomic_store(&op->refs, 1);
            ws_op_put(op);
            goto nomem;
        }
    }
    IoSetCompletionRoutine(op->irp, ws_op_done, op, TRUE, TRUE, TRUE);
    wb->Mdl = op->mdl;
    wb->Offset = 0;
    wb->Length = total;
    return op;
nomem:
    ws_err(WSAENOBUFS);
    return NULL;
}

/* Drop an op whose IRP was never given to WSK (both refs). */
static void ws_op_abandon(struct ws_op *op)
{
    atomic_store(&op->refs, 1);
    ws_op_put(op);
}

/* Overlapped set-up before the call; false (error set) on a bad hEvent. */
static bool ws_ovl_arm(struct ws_op *op, LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE cr)
{
    op->overlapped = true;
    op->ov = ov;
    op->cr = cr;
    if (cr) {
        op->thr = ws_thread_self();
        atomic_fetch_add(&op->thr->refs, 1);
    } else if (ov->hEvent != NULL) {
        op->ev = ws_event_get(ov->hEvent);
        if (op->ev == NULL) {
            ws_err(WSA_INVALID_HANDLE);
            return false;
        }
        ws_event_set(op->ev, false);
    }
    ov->InternalHigh = 0;
    __atomic_store_n(&ov->Internal, WS_OV(STATUS_PENDING), __ATOMIC_RELEASE);
    return true;
}

/* Finish a call after the WSK function returned r.  Returns 0 / SOCKET_ERROR
 * and sets *bytes on success. */
static int ws_finish(struct ws_op *op, NTSTATUS r, bool nonblocking, DWORD timeout,
                     LPDWORD bytes)
{
    struct ws_sock *so = op->so;
    NTSTATUS st;
    ULONG_PTR info;
    int err = 0;
    if (r != STATUS_PENDING) {
        /* completed during the call (its routine ran, nothing delivered) */
        ws_op_wait(op, INFINITE);
        st = op->status;
        info = op->info;
        if (op->overlapped) {
            if (NT_SUCCESS(st))
                ws_deliver(op, st, info);
            else
                __atomic_store_n(&op->ov->Internal, WS_OV(st), __ATOMIC_RELEASE);
        }
    } else if (op->overlapped) {
        ws_op_put(op);
        return ws_err(WSA_IO_PENDING);
    } else {
        bool cancelled_by_us = false;
        DWORD wait = nonblocking ? (op->send ? WS_NB_GRACE_MS : 0)
                                 : (timeout == 0 ? INFINITE : timeout);
        if (!ws_op_wait(op, wait)) {
            IoCancelIrp(op->irp); /* the IRP lives as long as our ref */
            cancelled_by_us = true;
            ws_op_wait(op, INFINITE);
        }
        st = op->status;
        info = op->info;
        if (cancelled_by_us && !NT_SUCCESS(st)) {
            if (nonblocking)
                err = st == STATUS_CANCELLED ? WSAEWOULDBLOCK : ws_status_to_wsa(st);
            else
                err = WSAETIMEDOUT;
        } else if (st == STATUS_CANCELLED) {
            err = WSAEINTR; /* a blocking call interrupted by closesocket */
        }
    }
    (void)so;
    ws_op_put(op);
    if (err == 0 && !NT_SUCCESS(st))
        err = ws_status_to_wsa(st);
    if (err != 0 && err != WSAEMSGSIZE)
        return ws_err(err);
    if (bytes)
        *bytes = (DWORD)info;
    if (err != 0)
        return ws_err(err); /* truncated datagram: bytes copied are reported */
    return 0;
}

static bool ws_flags_bad(DWORD flags, DWORD allowed) { return (flags & ~allowed) != 0; }

/* ---- send ---- */
static int ws_send(SOCKET s, const WSABUF *bufs, DWORD n, const struct sockaddr *to, int tolen,
                   const WSABUF *ctl, DWORD flags, LPDWORD sent, LPWSAOVERLAPPED ov,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE cr, bool is_msg)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = SOCKET_ERROR;
    uint64_t total = 0;
    bool overlapped = so->overlapped && ov != NULL;

    /* dwFlags: MSG_DONTROUTE only (a provider may ignore it, WSK has no
     * such flag); MSG_PARTIAL and everything else: WSAEOPNOTSUPP. */
    if (ws_flags_bad(flags, MSG_DONTROUTE)) {
        ws_err(WSAEOPNOTSUPP);
        goto out;
    }
    if ((bufs == NULL && n > 0) || (to == NULL && tolen != 0) ||
        (ctl != NULL && ctl->buf == NULL && ctl->len != 0) ||
        (sent == NULL && !overlapped) || (so->overlapped && cr != NULL && ov == NULL)) {
        ws_err(WSAEFAULT);
        goto out;
    }
    for (DWORD i = 0; i < n; i++) {
        if (bufs[i].buf == NULL && bufs[i].len != 0) {
            ws_err(WSAEFAULT);
            goto out;
        }
        total += bufs[i].len;
    }
    pthread_mutex_lock(&so->m);
    bool shut = so->shut_send, bound = so->bound, nb = so->nonblocking;
    DWORD timeo = so->sndtimeo;
    pthread_mutex_unlock(&so->m);
    if (shut) {
        ws_err(WSAESHUTDOWN);
        goto out;
    }
    if (to == NULL) {
        ws_err(WSAEDESTADDRREQ); /* no connect() on wskstack */
        goto out;
    }
    if (tolen < (int)sizeof(SOCKADDR)) {
        ws_err(WSAEFAULT);
        goto out;
    }
    if (to->sa_family != so->af) {
        ws_err(WSAEAFNOSUPPORT);
        goto out;
    }
    if (tolen < ws_famlen(so->af)) {
        ws_err(WSAEFAULT);
        goto out;
    }
    if (total > (so->af == AF_INET6 ? WS_MAX_UDP6 : WS_MAX_UDP4)) {
        ws_err(WSAEMSGSIZE); /* nothing is transmitted */
        goto out;
    }
    if (!bound) {
        if (is_msg) {
            ws_err(WSAEINVAL); /* WSASendMsg: "not bound" */
            goto out;
        }
        if (ws_bind_wildcard(so) != 0) /* sendto binds implicitly */
            goto out;
    }
    if (!overlapped && nb) {
        pthread_mutex_lock(&so->m);
        bool busy = so->sends_out > 0;
        pthread_mutex_unlock(&so->m);
        if (busy) {
            ws_err(WSAEWOULDBLOCK); /* nothing submitted */
            goto out;
        }
    }
    WSK_BUF wb;
    struct ws_op *op = ws_op_new(so, true, bufs, n, &wb);
    if (op == NULL)
        goto out;
    if (overlapped && !ws_ovl_arm(op, ov, cr)) {
        ws_op_abandon(op);
        goto out;
    }
    if (!ws_call_begin(so)) {
        ws_op_abandon(op);
        goto out;
    }
    pthread_mutex_lock(&so->m);
    so->sends_out++;
    pthread_mutex_unlock(&so->m);
    NTSTATUS r = ws_dg(so)->WskSendTo(so->wsk, &wb, 0, (PSOCKADDR)to,
                                      ctl ? ctl->len : 0, ctl ? (PCMSGHDR)ctl->buf : NULL,
                                      op->irp);
    ws_call_end(so);
    rc = ws_finish(op, r, nb, timeo, sent);
out:
    ws_sock_put(so);
    return rc;
}

int WSAAPI WSASendMsg(SOCKET Handle, LPWSAMSG lpMsg, DWORD dwFlags, LPDWORD lpNumberOfBytesSent,
                      LPWSAOVERLAPPED lpOverlapped,
                      LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
    if (lpMsg == NULL) {
        struct ws_sock *so = ws_sock_get(Handle);
        if (so != NULL) {
            ws_sock_put(so);
            ws_err(WSAEFAULT);
        }
        return SOCKET_ERROR;
    }
    return ws_send(Handle, lpMsg->lpBuffers, lpMsg->dwBufferCount, lpMsg->name, lpMsg->namelen,
                   &lpMsg->Control, dwFlags, lpNumberOfBytesSent, lpOverlapped,
                   lpCompletionRoutine, true);
}

int WSAAPI WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                     LPDWORD lpNumberOfBytesSent, DWORD dwFlags, const struct sockaddr *lpTo,
                     int iTolen, LPWSAOVERLAPPED lpOverlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
    return ws_send(s, lpBuffers, dwBufferCount, lpTo, iTolen, NULL, dwFlags,
                   lpNumberOfBytesSent, lpOverlapped, lpCompletionRoutine, false);
}

int WSAAPI sendto(SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to,
                  int tolen)
{
    if (len < 0) {
        if (ws_started())
            ws_err(WSAEFAULT);
        return SOCKET_ERROR;
    }
    WSABUF b = {(ULONG)len, (CHAR *)buf};
    DWORD sent = 0;
    if (ws_send(s, &b, 1, to, tolen, NULL, (DWORD)flags, &sent, NULL, NULL, false) != 0)
        return SOCKET_ERROR;
    return (int)sent;
}

/* ---- receive ---- */
static int ws_recv(SOCKET s, const WSABUF *bufs, DWORD n, struct sockaddr *from, LPINT fromlen,
                   LPWSAMSG msg, LPDWORD inflags, LPDWORD recvd, LPWSAOVERLAPPED ov,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE cr)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = SOCKET_ERROR;
    bool overlapped = so->overlapped && ov != NULL;
    DWORD flags = inflags ? *inflags : (msg ? msg->dwFlags : 0);
    if (ws_flags_bad(flags, 0)) {
        ws_err(WSAEOPNOTSUPP); /* MSG_PEEK / MSG_OOB / MSG_PARTIAL: not provided */
        goto out;
    }
    if ((bufs == NULL && n > 0) || (from != NULL && fromlen == NULL) ||
        (from != NULL && *fromlen < ws_famlen(so->af)) ||
        (msg && msg->name != NULL && msg->namelen < ws_famlen(so->af)) ||
        (msg && msg->Control.buf == NULL && msg->Control.len != 0) ||
        (recvd == NULL && !overlapped) || (so->overlapped && cr != NULL && ov == NULL)) {
        ws_err(WSAEFAULT);
        goto out;
    }
    for (DWORD i = 0; i < n; i++) {
        if (bufs[i].buf == NULL && bufs[i].len != 0) {
            ws_err(WSAEFAULT);
            goto out;
        }
    }
    pthread_mutex_lock(&so->m);
    bool shut = so->shut_recv, bound = so->bound, nb = so->nonblocking;
    DWORD timeo = so->rcvtimeo;
    pthread_mutex_unlock(&so->m);
    if (shut) {
        ws_err(WSAESHUTDOWN);
        goto out;
    }
    if (!bound) {
        ws_err(WSAEINVAL);
        goto out;
    }
    WSK_BUF wb;
    struct ws_op *op = ws_op_new(so, false, bufs, n, &wb);
    if (op == NULL)
        goto out;
    op->ufrom = msg ? msg->name : from;
    op->ufromlen = msg ? NULL : fromlen;
    op->uflags = inflags;
    op->umsg = msg;
    op->ctl_len = msg ? msg->Control.len : 0;
    if (overlapped && !ws_ovl_arm(op, ov, cr)) {
        ws_op_abandon(op);
        goto out;
    }
    if (!ws_call_begin(so)) {
        ws_op_abandon(op);
        goto out;
    }
    NTSTATUS r = ws_dg(so)->WskReceiveFrom(so->wsk, &wb, 0, (PSOCKADDR)&op->from, &op->ctl_len,
                                           msg ? (PCMSGHDR)msg->Control.buf : NULL,
                                           &op->ctl_flags, op->irp);
    ws_call_end(so);
    rc = ws_finish(op, r, nb, timeo, recvd);
out:
    ws_sock_put(so);
    return rc;
}

int WSAAPI ws_recvmsg(SOCKET s, LPWSAMSG lpMsg, LPDWORD lpdwNumberOfBytesRecvd,
                      LPWSAOVERLAPPED lpOverlapped,
                      LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
    if (lpMsg == NULL) {
        if (ws_started())
            ws_err(WSAEFAULT);
        return SOCKET_ERROR;
    }
    return ws_recv(s, lpMsg->lpBuffers, lpMsg->dwBufferCount, NULL, NULL, lpMsg, NULL,
                   lpdwNumberOfBytesRecvd, lpOverlapped, lpCompletionRoutine);
}

int WSAAPI WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                       LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, struct sockaddr *lpFrom,
                       LPINT lpFromlen, LPWSAOVERLAPPED lpOverlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
    if (lpFlags == NULL) {
        if (ws_started())
            ws_err(WSAEFAULT);
        return SOCKET_ERROR;
    }
    return ws_recv(s, lpBuffers, dwBufferCount, lpFrom, lpFromlen, NULL, lpFlags,
                   lpNumberOfBytesRecvd, lpOverlapped, lpCompletionRoutine);
}

int WSAAPI recvfrom(SOCKET s, char *buf, int len, int flags, struct sockaddr *from, int *fromlen)
{
    if (len < 0) {
        if (ws_started())
            ws_err(WSAEFAULT);
        return SOCKET_ERROR;
    }
    WSABUF b = {(ULONG)len, buf};
    DWORD got = 0, fl = (DWORD)flags;
    int r = ws_recv(s, &b, 1, from, fromlen, NULL, &fl, &got, NULL, NULL);
    return r == 0 ? (int)got : SOCKET_ERROR;
}

/* ---- results ---- */
BOOL WSAAPI WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD lpcbTransfer,
                                   BOOL fWait, LPDWORD lpdwFlags)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return FALSE;
    BOOL ok = FALSE;
    if (lpOverlapped == NULL || lpcbTransfer == NULL || lpdwFlags == NULL) {
        ws_err(WSAEFAULT);
        goto out;
    }
    ULONG_PTR st = __atomic_load_n(&lpOverlapped->Internal, __ATOMIC_ACQUIRE);
    if (st == WS_OV(STATUS_PENDING)) {
        if (!fWait) {
            ws_err(WSA_IO_INCOMPLETE);
            goto out;
        }
        pthread_mutex_lock(&so->m);
        while ((st = __atomic_load_n(&lpOverlapped->Internal, __ATOMIC_ACQUIRE)) ==
               WS_OV(STATUS_PENDING))
            pthread_cond_wait(&so->c, &so->m);
        pthread_mutex_unlock(&so->m);
    } else {
        /* Completed: wait until the completing thread has left so->m, so its
         * event signal (published with the result) is visible too. */
        pthread_mutex_lock(&so->m);
        pthread_mutex_unlock(&so->m);
    }
    *lpcbTransfer = (DWORD)__atomic_load_n(&lpOverlapped->InternalHigh, __ATOMIC_RELAXED);
    *lpdwFlags = 0;
    NTSTATUS nst = (NTSTATUS)(ULONG)st;
    if (NT_SUCCESS(nst))
        ok = TRUE;
    else
        ws_err(ws_status_to_wsa(nst));
out:
    ws_sock_put(so);
    return ok;
}
