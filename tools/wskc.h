/* SPDX-License-Identifier: MIT */
/*
 * wskc.h - a small synchronous WSK datagram client, written the way a
 * Windows driver writes one (WSK-SPEC section 2 and 5, the WDK sample
 * "Sending Data over a Datagram Socket"):
 *
 *   Irp = IoAllocateIrp(1, FALSE);
 *   IoSetCompletionRoutine(Irp, Complete, &Event, TRUE, TRUE, TRUE);
 *   Status = Dispatch->WskSendTo(Socket, &Buf, 0, Remote, 0, NULL, Irp);
 *   if (Status == STATUS_PENDING) KeWaitForSingleObject(&Event, ...);
 *   Status = Irp->IoStatus.Status;
 *
 * where Complete() sets the event and returns STATUS_MORE_PROCESSING_REQUIRED
 * (the IRP belongs to us again: we read IoStatus and free it).  Used by
 * wsk-lab, wskcat and the lab tests.  Header-only (static inline), includes only
 * the Windows headers: a source using it must not include <sys/socket.h>.
 *
 * Every wait is bounded.  A receive that times out is cancelled with
 * IoCancelIrp and completes with STATUS_CANCELLED (WSK-SPEC 5.10); a
 * request that does not complete even then is "leaked": its IRP, buffer
 * and address stay with the provider and are never freed or reused.  A
 * receive can also stay pending across several bounded waits
 * (wskc_recv_start / _wait / _cancel), as wskcat's receive loop does.  A call
 * that returned something other than STATUS_PENDING must already have run
 * its completion routine (WSK-SPEC 5.1); wskc checks that, and records a
 * violation in wskc_contract_errors instead of hanging.
 */
#ifndef WSS_WSKC_H
#define WSS_WSKC_H

#include <ntddk.h>
#include <wsk.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Provider contract violations seen (returned status != IoStatus.Status,
 * or a non-pending return whose completion routine had not run). */
static unsigned wskc_contract_errors;

/* Completion routine: the canonical WSK idiom.  Context is our KEVENT. */
static inline NTSTATUS wskc_complete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PRKEVENT)Context, IO_NO_INCREMENT, FALSE);
    /* Stop completion processing: the IRP is ours again. */
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* One request in flight. */
struct wskc_op {
    KEVENT event;
    PIRP irp;
    NTSTATUS returned;    /* what the WSK call returned (STATUS_PENDING ...) */
    NTSTATUS status;      /* Irp->IoStatus.Status after completion */
    ULONG_PTR info;       /* Irp->IoStatus.Information after completion */
    uint64_t elapsed_ms;  /* from the call to the completion */
    LARGE_INTEGER t0;
    bool leaked;          /* never completed: the IRP could not be freed */
};

/* Allocate the IRP and arm the completion routine.  NULL: no memory. */
static inline PIRP wskc_begin(struct wskc_op *op)
{
    RtlZeroMemory(op, sizeof *op);
    KeInitializeEvent(&op->event, NotificationEvent, FALSE);
    op->irp = IoAllocateIrp(1, FALSE);
    if (op->irp == NULL)
        return NULL;
    IoSetCompletionRoutine(op->irp, wskc_complete, &op->event, TRUE, TRUE, TRUE);
    op->t0.QuadPart = (LONGLONG)KeQueryInterruptTime();
    return op->irp;
}

/* Wait at most timeout_ms (0: just look) for the completion routine of
 * op.  true if it has run.  Nothing is cancelled: a caller that keeps a
 * request pending (wskcat's receive loop) waits again later. */
static inline bool wskc_wait(struct wskc_op *op, uint32_t timeout_ms)
{
    LARGE_INTEGER t;
    t.QuadPart = -(LONGLONG)timeout_ms * 10000;
    return KeWaitForSingleObject(&op->event, Executive, KernelMode, FALSE, &t) != STATUS_TIMEOUT;
}

/* Cancel a pending request and wait for it to complete (WSK-SPEC 5.10: a
 * cancelled request must complete; it gets 5 s).  true once it has; false
 * if it never did: then op->leaked is set, op->status is STATUS_IO_TIMEOUT,
 * and the IRP and everything the call was given (buffer, MDL, address)
 * still belong to the provider - never free or reuse them. */
static inline bool wskc_cancel(struct wskc_op *op)
{
    IoCancelIrp(op->irp);
    if (wskc_wait(op, 5000))
        return true;
    wskc_contract_errors++;
    op->leaked = true;
    op->status = STATUS_IO_TIMEOUT;
    return false;
}

/* After the completion routine has run: take IoStatus, check it against
 * what the call returned, free the IRP.  Returns the final status. */
static inline NTSTATUS wskc_finish(struct wskc_op *op)
{
    op->elapsed_ms = (KeQueryInterruptTime() - (ULONGLONG)op->t0.QuadPart) / 10000;
    op->status = op->irp->IoStatus.Status;
    op->info = op->irp->IoStatus.Information;
    if (op->returned != STATUS_PENDING && op->returned != op->status) {
        wskc_contract_errors++;
        fprintf(stderr, "wskc: call returned 0x%08x, IoStatus.Status 0x%08x\n",
                (unsigned)op->returned, (unsigned)op->status);
    }
    IoFreeIrp(op->irp);
    op->irp = NULL;
    return op->status;
}

/* Wait for the completion of a call that returned `returned`, at most
 * timeout_ms when it pended (then cancel it and wait for the cancellation).
 * Frees the IRP and returns the final status (STATUS_IO_TIMEOUT with
 * op->leaked set if the request never completed). */
static inline NTSTATUS wskc_end(struct wskc_op *op, NTSTATUS returned, uint32_t timeout_ms)
{
    op->returned = returned;
    if (returned == STATUS_PENDING) {
        if (!wskc_wait(op, timeout_ms) && !wskc_cancel(op))
            return op->status;
    } else if (!wskc_wait(op, 0)) {
        /* WSK-SPEC 5.1: "the IRP has already been completed". */
        wskc_contract_errors++;
        fprintf(stderr, "wskc: call returned 0x%08x but its IRP was not completed\n",
                (unsigned)returned);
        if (!wskc_wait(op, 5000)) {
            op->leaked = true;
            op->status = returned;
            return op->status;
        }
    }
    return wskc_finish(op);
}

/* ---- addresses ---------------------------------------------------------- */
/* "a.b.c.d" + port (host order) -> SOCKADDR_IN.  false if malformed. */
static inline bool wskc_sin(SOCKADDR_IN *sin, const char *addr, uint16_t port)
{
    unsigned b[4];
    char tail;
    RtlZeroMemory(sin, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = RtlUshortByteSwap(port);
    if (addr == NULL)
        return true; /* 0.0.0.0 */
    if (sscanf(addr, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4 || b[0] > 255 ||
        b[1] > 255 || b[2] > 255 || b[3] > 255)
        return false;
    UCHAR *p = (UCHAR *)&sin->sin_addr;
    for (int i = 0; i < 4; i++)
        p[i] = (UCHAR)b[i];
    return true;
}

/* SOCKADDR_IN -> "a.b.c.d" (buf of 16) and the port in host order. */
static inline const char *wskc_sin_str(const SOCKADDR_IN *sin, char buf[16], uint16_t *port)
{
    const UCHAR *p = (const UCHAR *)&sin->sin_addr;
    snprintf(buf, 16, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    if (port)
        *port = RtlUshortByteSwap(sin->sin_port);
    return buf;
}

/* Names of the statuses wsk-lab and the lab tests print. */
static inline const char *wskc_status_name(NTSTATUS s)
{
    switch (s) {
    case STATUS_SUCCESS: return "STATUS_SUCCESS";
    case STATUS_PENDING: return "STATUS_PENDING";
    case STATUS_TIMEOUT: return "STATUS_TIMEOUT";
    case STATUS_CANCELLED: return "STATUS_CANCELLED";
    case STATUS_IO_TIMEOUT: return "STATUS_IO_TIMEOUT";
    case STATUS_HOST_UNREACHABLE: return "STATUS_HOST_UNREACHABLE";
    case STATUS_NETWORK_UNREACHABLE: return "STATUS_NETWORK_UNREACHABLE";
    case STATUS_INVALID_PARAMETER: return "STATUS_INVALID_PARAMETER";
    case STATUS_INSUFFICIENT_RESOURCES: return "STATUS_INSUFFICIENT_RESOURCES";
    case STATUS_DEVICE_NOT_READY: return "STATUS_DEVICE_NOT_READY";
    case STATUS_NOINTERFACE: return "STATUS_NOINTERFACE";
    case STATUS_ADDRESS_ALREADY_ASSOCIATED: return "STATUS_ADDRESS_ALREADY_ASSOCIATED";
    case STATUS_INVALID_ADDRESS: return "STATUS_INVALID_ADDRESS";
    case STATUS_FILE_FORCED_CLOSED: return "STATUS_FILE_FORCED_CLOSED";
    case STATUS_UNSUCCESSFUL: return "STATUS_UNSUCCESSFUL";
    case STATUS_NOT_SUPPORTED: return "STATUS_NOT_SUPPORTED";
    case STATUS_ACCESS_DENIED: return "STATUS_ACCESS_DENIED";
    case STATUS_INVALID_BUFFER_SIZE: return "STATUS_INVALID_BUFFER_SIZE";
    case STATUS_INVALID_DEVICE_STATE: return "STATUS_INVALID_DEVICE_STATE";
    case STATUS_BUFFER_OVERFLOW: return "STATUS_BUFFER_OVERFLOW";
    case STATUS_BUFFER_TOO_SMALL: return "STATUS_BUFFER_TOO_SMALL";
    case STATUS_PORT_UNREACHABLE: return "STATUS_PORT_UNREACHABLE";
    case STATUS_MORE_PROCESSING_REQUIRED: return "STATUS_MORE_PROCESSING_REQUIRED";
    default: return "STATUS_?";
    }
}

/* The status by name, or "NTSTATUS 0x%08x" for one without a name above
 * (so a printed status is never ambiguous).  buf must hold 32 bytes. */
#define WSKC_STATUS_STRLEN 32
static inline const char *wskc_status_str(NTSTATUS s, char buf[WSKC_STATUS_STRLEN])
{
    const char *name = wskc_status_name(s);
    if (strcmp(name, "STATUS_?") != 0)
        return name;
    snprintf(buf, WSKC_STATUS_STRLEN, "NTSTATUS 0x%08x", (unsigned)s);
    return buf;
}

/* ---- a datagram socket (either family) -------------------------------------- */
static inline const WSK_PROVIDER_DATAGRAM_DISPATCH *wskc_dgram(PWSK_SOCKET s)
{
    return (const WSK_PROVIDER_DATAGRAM_DISPATCH *)s->Dispatch;
}

/* WskSocket(family, SOCK_DGRAM, IPPROTO_UDP, WSK_FLAG_DATAGRAM_SOCKET). */
static inline NTSTATUS wskc_socket_af(const WSK_PROVIDER_NPI *npi, ADDRESS_FAMILY family,
                                      PWSK_SOCKET *out)
{
    struct wskc_op op;
    *out = NULL;
    if (wskc_begin(&op) == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = npi->Dispatch->WskSocket(npi->Client, family, SOCK_DGRAM, IPPROTO_UDP,
                                          WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL, NULL, NULL,
                                          NULL, op.irp);
    s = wskc_end(&op, s, 5000);
    if (NT_SUCCESS(s))
        *out = (PWSK_SOCKET)op.info;
    return s;
}

/* WskBind to any socket address (SOCKADDR_IN or SOCKADDR_IN6). */
static inline NTSTATUS wskc_bind_sa(PWSK_SOCKET sock, const SOCKADDR *sa)
{
    struct wskc_op op;
    if (wskc_begin(&op) == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = wskc_dgram(sock)->WskBind(sock, (PSOCKADDR)sa, 0, op.irp);
    return wskc_end(&op, s, 5000);
}

/* WskGetLocalAddress into out (room for the socket's family). */
static inline NTSTATUS wskc_local_sa(PWSK_SOCKET sock, SOCKADDR *out)
{
    struct wskc_op op;
    if (wskc_begin(&op) == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = wskc_dgram(sock)->WskGetLocalAddress(sock, out, op.irp);
    return wskc_end(&op, s, 5000);
}

/* WskSendTo one datagram (an MDL over buf) to any socket address and wait
 * up to timeout_ms.  op_out (may be NULL) receives what the call returned,
 * the bytes sent and the time to completion.  len 0 sends an empty
 * datagram (the MDL then spans one byte, the WSK_BUF says 0). */
static inline NTSTATUS wskc_sendto_sa(PWSK_SOCKET sock, const void *buf, ULONG len,
                                      const SOCKADDR *to, uint32_t timeout_ms,
                                      struct wskc_op *op_out)
{
    static const char none[1];
    struct wskc_op op;
    if (op_out)
        RtlZeroMemory(op_out, sizeof *op_out);
    PMDL mdl = IoAllocateMdl((PVOID)(len ? buf : none), len ? len : 1, FALSE, FALSE, NULL);
    if (mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmBuildMdlForNonPagedPool(mdl);
    WSK_BUF wbuf = {.Mdl = mdl, .Offset = 0, .Length = len};
    if (wskc_begin(&op) == NULL) {
        IoFreeMdl(mdl);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    NTSTATUS s = wskc_dgram(sock)->WskSendTo(sock, &wbuf, 0, (PSOCKADDR)to, 0, NULL, op.irp);
    s = wskc_end(&op, s, timeout_ms);
    if (!op.leaked)
        IoFreeMdl(mdl); /* the MDL stays locked until the send completed */
    if (op_out)
        *op_out = op;
    return s;
}

/* ---- a receive that may stay pending across several waits -------------------
 * wskc_recv_start issues one WskReceiveFrom; wskc_recv_wait waits for it in
 * slices without cancelling it (a loop that must notice signals or a
 * deadline keeps ONE request pending instead of cancelling and re-issuing
 * it every slice); wskc_recv_cancel takes it back, only to stop.  The
 * struct, buf and *from must live until the request is finished (or, if
 * it leaked, for good): the completion routine sets r->op.event and the
 * provider writes into buf and from. */
struct wskc_recv {
    struct wskc_op op;
    PMDL mdl;
    SOCKADDR *from;       /* the caller's storage for the sender */
    ULONG got;            /* bytes received, once finished with success */
    bool pending;         /* issued and not yet finished */
    bool leaked;          /* cancelled but never completed (see wskc_cancel) */
};

/* The request is over (status s): MDL freed, bytes taken. */
static inline NTSTATUS wskc_recv_release(struct wskc_recv *r, NTSTATUS s)
{
    IoFreeMdl(r->mdl);
    r->mdl = NULL;
    r->pending = false;
    if (NT_SUCCESS(s))
        r->got = (ULONG)r->op.info;
    return s;
}

/* Issue WskReceiveFrom into buf (cap bytes), the sender into *from (room
 * for the socket's family: SOCKADDR_IN, SOCKADDR_IN6 or SOCKADDR_INET).
 * STATUS_PENDING: in flight, see wskc_recv_wait.  Anything else is the
 * final status (a datagram already queued completes during the call). */
static inline NTSTATUS wskc_recv_start(struct wskc_recv *r, PWSK_SOCKET sock, void *buf,
                                       ULONG cap, SOCKADDR *from)
{
    RtlZeroMemory(r, sizeof *r);
    r->from = from;
    r->mdl = IoAllocateMdl(buf, cap, FALSE, FALSE, NULL);
    if (r->mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmBuildMdlForNonPagedPool(r->mdl);
    WSK_BUF wbuf = {.Mdl = r->mdl, .Offset = 0, .Length = cap};
    if (wskc_begin(&r->op) == NULL) {
        IoFreeMdl(r->mdl);
        r->mdl = NULL;
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    r->pending = true;
    NTSTATUS s = wskc_dgram(sock)->WskReceiveFrom(sock, &wbuf, 0, from, NULL, NULL, NULL,
                                                  r->op.irp);
    if (s == STATUS_PENDING) {
        r->op.returned = s;
        return s;
    }
    s = wskc_end(&r->op, s, 0); /* checks that it did complete (WSK-SPEC 5.1) */
    if (r->op.leaked) {
        r->leaked = true;
        return s;
    }
    return wskc_recv_release(r, s);
}

/* Wait at most timeout_ms more for a pending receive.  STATUS_PENDING:
 * still in flight (nothing cancelled: wait again, or cancel to stop).
 * Otherwise its final status; r->got bytes are in buf, the sender in
 * *from. */
static inline NTSTATUS wskc_recv_wait(struct wskc_recv *r, uint32_t timeout_ms)
{
    if (!r->pending)
        return STATUS_INVALID_DEVICE_STATE;
    if (!wskc_wait(&r->op, timeout_ms))
        return STATUS_PENDING;
    return wskc_recv_release(r, wskc_finish(&r->op));
}

/* Take a pending receive back (IoCancelIrp) and wait for it: usually
 * STATUS_CANCELLED, but a datagram that completed it first is returned as
 * a success like any other.  r->leaked (and STATUS_IO_TIMEOUT) if it never
 * completed: buf and *from still belong to the provider. */
static inline NTSTATUS wskc_recv_cancel(struct wskc_recv *r)
{
    if (!r->pending)
        return STATUS_INVALID_DEVICE_STATE;
    if (!wskc_cancel(&r->op)) {
        r->leaked = true;
        return r->op.status;
    }
    return wskc_recv_release(r, wskc_finish(&r->op));
}

/* One synchronous WskReceiveFrom, waiting up to timeout_ms; a receive
 * still pending then is cancelled (STATUS_CANCELLED).  *got = bytes copied,
 * *from = the sender.  *leaked (may be NULL): the request never completed,
 * even after the cancel - buf and *from still belong to the provider,
 * never reuse them. */
static inline NTSTATUS wskc_recvfrom_sa(PWSK_SOCKET sock, void *buf, ULONG cap,
                                        uint32_t timeout_ms, ULONG *got, SOCKADDR *from,
                                        bool *leaked)
{
    struct wskc_recv r;
    NTSTATUS s = wskc_recv_start(&r, sock, buf, cap, from);
    if (s == STATUS_PENDING)
        s = wskc_recv_wait(&r, timeout_ms);
    if (s == STATUS_PENDING)
        s = wskc_recv_cancel(&r);
    *got = r.got;
    if (leaked)
        *leaked = r.leaked;
    return s;
}

/* WskCloseSocket (waits for it). */
static inline NTSTATUS wskc_close(PWSK_SOCKET sock)
{
    struct wskc_op op;
    if (sock == NULL)
        return STATUS_SUCCESS;
    if (wskc_begin(&op) == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = wskc_dgram(sock)->WskCloseSocket(sock, op.irp);
    return wskc_end(&op, s, 10000);
}

/* WskControlSocket(WskSetOption, code, level) with a ULONG value. */
static inline NTSTATUS wskc_setopt(PWSK_SOCKET sock, ULONG level, ULONG code, ULONG value)
{
    struct wskc_op op;
    if (wskc_begin(&op) == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = wskc_dgram(sock)->WskControlSocket(sock, WskSetOption, code, level,
                                                    sizeof value, &value, 0, NULL, NULL,
                                                    op.irp);
    return wskc_end(&op, s, 5000);
}

/* ---- AF_INET with dotted strings (wsk-lab and the IPv4 lab tests) ----------- */
/* WskSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, WSK_FLAG_DATAGRAM_SOCKET). */
static inline NTSTATUS wskc_socket(const WSK_PROVIDER_NPI *npi, PWSK_SOCKET *out)
{
    return wskc_socket_af(npi, AF_INET, out);
}

/* WskBind to addr:port (addr NULL = 0.0.0.0, port 0 = ephemeral). */
static inline NTSTATUS wskc_bind(PWSK_SOCKET sock, const char *addr, uint16_t port)
{
    SOCKADDR_IN sin;
    if (!wskc_sin(&sin, addr, port))
        return STATUS_INVALID_PARAMETER;
    return wskc_bind_sa(sock, (const SOCKADDR *)&sin);
}

/* WskGetLocalAddress: the bound port in host order (0 on failure). */
static inline uint16_t wskc_local_port(PWSK_SOCKET sock)
{
    SOCKADDR_IN sin;
    uint16_t port = 0;
    char buf[16];
    RtlZeroMemory(&sin, sizeof sin);
    if (NT_SUCCESS(wskc_local_sa(sock, (SOCKADDR *)&sin)))
        wskc_sin_str(&sin, buf, &port);
    return port;
}

/* As wskc_sendto_sa, to addr:port. */
static inline NTSTATUS wskc_sendto(PWSK_SOCKET sock, const void *buf, ULONG len, const char *addr,
                                   uint16_t port, uint32_t timeout_ms, struct wskc_op *op_out)
{
    SOCKADDR_IN sin;
    if (op_out)
        RtlZeroMemory(op_out, sizeof *op_out);
    if (!wskc_sin(&sin, addr, port))
        return STATUS_INVALID_PARAMETER;
    return wskc_sendto_sa(sock, buf, len, (const SOCKADDR *)&sin, timeout_ms, op_out);
}

/* As wskc_recvfrom_sa on an AF_INET socket: src (may be NULL) and sport
 * get the sender as "a.b.c.d" and a host-order port. */
static inline NTSTATUS wskc_recvfrom(PWSK_SOCKET sock, void *buf, ULONG cap, uint32_t timeout_ms,
                                     ULONG *got, char src[16], uint16_t *sport)
{
    SOCKADDR_IN from;
    bool leaked;
    RtlZeroMemory(&from, sizeof from);
    NTSTATUS s = wskc_recvfrom_sa(sock, buf, cap, timeout_ms, got, (SOCKADDR *)&from, &leaked);
    if (!leaked && NT_SUCCESS(s) && src)
        wskc_sin_str(&from, src, sport);
    return s;
}

/* ---- AF_INET6 (the IPv6 WSK lab) ---------------------------------------------- */
/* 16 address bytes (network order) + port (host order) + scope id ->
 * SOCKADDR_IN6. */
static inline void wskc_sin6(SOCKADDR_IN6 *sin6, const uint8_t addr[16], uint16_t port,
                             ULONG scope_id)
{
    RtlZeroMemory(sin6, sizeof *sin6);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = RtlUshortByteSwap(port);
    if (addr)
        memcpy(&sin6->sin6_addr, addr, 16);
    sin6->sin6_scope_id = scope_id;
}

/* As wskc_recvfrom_sa, the sender as a SOCKADDR_IN6 (an AF_INET6 socket). */
static inline NTSTATUS wskc_recvfrom6(PWSK_SOCKET sock, void *buf, ULONG cap,
                                      uint32_t timeout_ms, ULONG *got, SOCKADDR_IN6 *from)
{
    RtlZeroMemory(from, sizeof *from);
    return wskc_recvfrom_sa(sock, buf, cap, timeout_ms, got, (SOCKADDR *)from, NULL);
}

#endif /* WSS_WSKC_H */
