/* SPDX-License-Identifier: MIT */
/*
 * socket.c - socket objects: WskSocket, the provider dispatch tables,
 * WskBind, WskGetLocalAddress, WskControlSocket, WskCloseSocket, and the
 * device-gone hook.
 *
 * Statuses chosen here (README API section):
 *   WskSocket
 *     AF_INET + SOCK_DGRAM + IPPROTO_UDP (or protocol 0) + DATAGRAM -> socket
 *     BASIC, AF_INET or AF_INET6 (23, or Linux's 10), SOCK_DGRAM/UDP
 *                                         -> a basic socket (option queries)
 *     AF_INET6 datagram sockets           -> STATUS_NOT_SUPPORTED (IPv6 is a
 *                                            later issue)
 *     LISTEN / CONNECTION / STREAM, or SOCK_STREAM+TCP -> STATUS_NOT_SUPPORTED
 *     any other family / type / protocol / flags -> STATUS_INVALID_PARAMETER
 *   WskBind
 *     address NULL or not the socket's family -> STATUS_INVALID_PARAMETER
 *     already bound                         -> STATUS_INVALID_DEVICE_STATE
 *     address in use                        -> STATUS_ADDRESS_ALREADY_ASSOCIATED
 *     address not one of the stack's        -> STATUS_INVALID_ADDRESS
 *     device gone                           -> STATUS_FILE_FORCED_CLOSED
 *   WskGetLocalAddress: unbound -> STATUS_INVALID_DEVICE_STATE; wildcard
 *     bound -> 0.0.0.0 and the port.
 *   WskControlSocket
 *     WskSetOption/WskGetOption IPPROTO_IP IP_PKTINFO (ULONG boolean),
 *     SOL_SOCKET SO_RCVBUF (ULONG bytes: the receive queue's byte bound; the
 *     64-datagram bound stays) -> STATUS_SUCCESS
 *     input shorter than a ULONG -> STATUS_INVALID_PARAMETER; output shorter
 *     -> STATUS_BUFFER_TOO_SMALL
 *     SO_WSK_EVENT_CALLBACK, every WskIoctl (SIO_WSK_*), every other option
 *     -> STATUS_NOT_SUPPORTED (event callbacks and fixed addresses are the
 *     next issue); RequestType >= WskControlMax -> STATUS_INVALID_PARAMETER
 *     Without an IRP the result is returned inline (nothing to complete).
 *   WskCloseSocket: see "Close" in wsk_impl.h; Irp NULL ->
 *     STATUS_INVALID_PARAMETER (the socket stays open).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wsk/wsk_impl.h"

/* ---- SOCKADDR_IN helpers ---------------------------------------------------- */
bool wsk_sockaddr_in_get(const SOCKADDR *sa, struct ip_addr *a, uint16_t *port)
{
    if (sa == NULL || sa->sa_family != AF_INET)
        return false;
    const SOCKADDR_IN *sin = (const SOCKADDR_IN *)sa;
    *port = wsk_be16(&sin->sin_port);
    *a = ip4(wsk_be32(&sin->sin_addr));
    return true;
}

void wsk_sockaddr_in_put(SOCKADDR *sa, const struct ip_addr *a, uint16_t port)
{
    SOCKADDR_IN sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    wsk_put_be16(&sin.sin_port, port);
    wsk_put_be32(&sin.sin_addr, a->af == IPA_V4 ? a->v4 : 0);
    memcpy(sa, &sin, sizeof(sin));
}

/* ---- WskBind / WskGetLocalAddress -------------------------------------------------- */
static NTSTATUS WSKAPI wsk_bind(PWSK_SOCKET Socket, PSOCKADDR LocalAddress, ULONG Flags, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;

    struct ip_addr addr;
    uint16_t port;
    NTSTATUS status = STATUS_SUCCESS;
    if (!wsk_sockaddr_in_get(LocalAddress, &addr, &port))
        return wsk_complete_sync(s->prov, &s->cq, Irp, STATUS_INVALID_PARAMETER, 0);

    pthread_mutex_lock(&s->lock);
    if (s->gone || stack_dev_gone(s->prov->st)) {
        status = STATUS_FILE_FORCED_CLOSED;
    } else if (s->bound || s->closing) {
        status = STATUS_INVALID_DEVICE_STATE;
    } else {
        /* sock->lock -> st->lock is the documented order; udp_bind calls
         * no endpoint callback. */
        int rc = udp_bind(s->prov->st, &s->ep, &addr, port);
        if (rc == 0) {
            s->bound = true;
            s->local = addr;
            s->lport = s->ep.lport; /* the ephemeral port, if 0 was asked */
        } else if (rc == -EINVAL) {
            status = STATUS_INVALID_DEVICE_STATE;
        } else {
            status = wsk_errno_status(rc);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return wsk_complete_sync(s->prov, &s->cq, Irp, status, 0);
}

static NTSTATUS WSKAPI wsk_get_local_address(PWSK_SOCKET Socket, PSOCKADDR LocalAddress, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = STATUS_SUCCESS;
    pthread_mutex_lock(&s->lock);
    if (!s->bound)
        status = STATUS_INVALID_DEVICE_STATE;
    else if (LocalAddress == NULL)
        status = STATUS_INVALID_PARAMETER;
    else
        wsk_sockaddr_in_put(LocalAddress, &s->local, s->lport);
    pthread_mutex_unlock(&s->lock);
    return wsk_complete_sync(s->prov, &s->cq, Irp, status, 0);
}

/* ---- WskControlSocket ----------------------------------------------------------------- */
static NTSTATUS wsk_get_ulong_opt(ULONG v, SIZE_T OutputSize, PVOID OutputBuffer, SIZE_T *out)
{
    if (OutputBuffer == NULL || OutputSize < sizeof(ULONG))
        return STATUS_BUFFER_TOO_SMALL;
    memcpy(OutputBuffer, &v, sizeof(v));
    *out = sizeof(ULONG);
    return STATUS_SUCCESS;
}

static NTSTATUS wsk_control(struct wsk_sock *s, WSK_CONTROL_SOCKET_TYPE RequestType,
                            ULONG ControlCode, ULONG Level, SIZE_T InputSize, PVOID InputBuffer,
                            SIZE_T OutputSize, PVOID OutputBuffer, SIZE_T *out)
{
    ULONG v = 0;
    bool is_pktinfo = Level == IPPROTO_IP && ControlCode == IP_PKTINFO;
    bool is_rcvbuf = Level == SOL_SOCKET && ControlCode == SO_RCVBUF;

    switch (RequestType) {
    case WskSetOption:
        if (!is_pktinfo && !is_rcvbuf)
            return STATUS_NOT_SUPPORTED; /* incl. SO_WSK_EVENT_CALLBACK (next issue) */
        if (InputBuffer == NULL || InputSize < sizeof(ULONG))
            return STATUS_INVALID_PARAMETER;
        memcpy(&v, InputBuffer, sizeof(v));
        if (is_rcvbuf && (LONG)v < 0)
            return STATUS_INVALID_PARAMETER;
        pthread_mutex_lock(&s->lock);
        if (is_pktinfo)
            s->pktinfo = v != 0;
        else
            s->rcvbuf = v;
        pthread_mutex_unlock(&s->lock);
        return STATUS_SUCCESS;
    case WskGetOption:
        if (!is_pktinfo && !is_rcvbuf)
            return STATUS_NOT_SUPPORTED;
        pthread_mutex_lock(&s->lock);
        v = is_pktinfo ? (ULONG)s->pktinfo : s->rcvbuf;
        pthread_mutex_unlock(&s->lock);
        return wsk_get_ulong_opt(v, OutputSize, OutputBuffer, out);
    case WskIoctl:
        return STATUS_NOT_SUPPORTED; /* SIO_WSK_* are the next issue */
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

static NTSTATUS WSKAPI wsk_control_socket(PWSK_SOCKET Socket, WSK_CONTROL_SOCKET_TYPE RequestType,
                                          ULONG ControlCode, ULONG Level, SIZE_T InputSize,
                                          PVOID InputBuffer, SIZE_T OutputSize, PVOID OutputBuffer,
                                          SIZE_T *OutputSizeReturned, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL)
        return STATUS_INVALID_PARAMETER;
    if (Irp != NULL && !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    SIZE_T out = 0;
    NTSTATUS status = wsk_control(s, RequestType, ControlCode, Level, InputSize, InputBuffer,
                                  OutputSize, OutputBuffer, &out);
    if (OutputSizeReturned != NULL)
        *OutputSizeReturned = NT_SUCCESS(status) ? out : 0;
    if (Irp == NULL)
        return status;
    return wsk_complete_sync(s->prov, &s->cq, Irp, status, out);
}

/* ---- WskCloseSocket ------------------------------------------------------------------- */
/* The close IRP's release hook: runs on the completion thread right after
 * the close routine; the socket (with its queue) disappears here. */
static void wsk_sock_free(struct wsk_cqe *e)
{
    struct wsk_sock *s = CONTAINING_RECORD(e, struct wsk_sock, close_cqe);
    struct wsk_reg *reg = s->reg;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->lock);
    free(s);
    wsk_reg_socket_del(reg); /* last: WskDeregister may proceed */
}

static void wsk_sock_unlink(struct wsk_sock *s)
{
    struct wsk_provider *prov = s->prov;
    pthread_mutex_lock(&prov->socks_lock);
    for (struct wsk_sock **pp = &prov->socks; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&prov->socks_lock);
}

static NTSTATUS WSKAPI wsk_close_socket(PWSK_SOCKET Socket, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;

    pthread_mutex_lock(&s->lock);
    s->closing = true; /* new calls are refused, datagrams dropped */
    bool bound = s->bound;
    pthread_mutex_unlock(&s->lock);
    /* After udp_unbind no receive callback runs for this socket. */
    if (bound)
        udp_unbind(s->prov->st, &s->ep);
    /* Cancel receives and queued sends, wait until every one of them has
     * its completion queued (they are ahead of the close in s->cq). */
    wsk_dgram_cancel_all(s);
    /* No device-gone walk may see the socket from now on. */
    wsk_sock_unlink(s);

    struct wsk_cqe *e = &s->close_cqe;
    memset(e, 0, sizeof(*e));
    e->irp = Irp;
    e->status = STATUS_SUCCESS;
    e->info = 0;
    e->release = wsk_sock_free;
    e->last = true;
    return wsk_complete_sync_e(s->prov, &s->cq, e);
}

/* ---- WskRelease (datagram indications) ------------------------------------------------- */
static NTSTATUS WSKAPI wsk_release_indications(PWSK_SOCKET Socket,
                                               PWSK_DATAGRAM_INDICATION DatagramIndication)
{
    /* No indication is ever handed out yet (event callbacks are the next
     * issue), so there is nothing a client could give back. */
    return STATUS_NOT_SUPPORTED;
}

/* ---- dispatch tables ---------------------------------------------------------------------- */
static const WSK_PROVIDER_BASIC_DISPATCH wsk_basic_dispatch = {
    .WskControlSocket = wsk_control_socket,
    .WskCloseSocket = wsk_close_socket,
};

static const WSK_PROVIDER_DATAGRAM_DISPATCH wsk_dgram_dispatch = {
    .WskControlSocket = wsk_control_socket,
    .WskCloseSocket = wsk_close_socket,
    .WskBind = wsk_bind,
    .WskSendTo = wsk_send_to,
    .WskReceiveFrom = wsk_receive_from,
    .WskRelease = wsk_release_indications,
    .WskGetLocalAddress = wsk_get_local_address,
    .WskSendMessages = wsk_send_messages,
};

/* ---- WskSocket ------------------------------------------------------------------------------ */
static NTSTATUS wsk_socket_check(ADDRESS_FAMILY af, USHORT type, ULONG proto, ULONG flags,
                                 enum wsk_sock_kind *kind)
{
    bool v4 = af == AF_INET;
    bool v6 = af == AF_INET6 || af == WSK_LINUX_AF_INET6;
    if (!v4 && !v6)
        return STATUS_INVALID_PARAMETER;
    bool udp = type == SOCK_DGRAM && (proto == IPPROTO_UDP || proto == 0);
    bool tcp = type == SOCK_STREAM && (proto == IPPROTO_TCP || proto == 0);
    switch (flags) {
    case WSK_FLAG_BASIC_SOCKET:
        if (tcp)
            return STATUS_NOT_SUPPORTED;
        if (!udp)
            return STATUS_INVALID_PARAMETER;
        *kind = WSK_SOCK_BASIC;
        return STATUS_SUCCESS;
    case WSK_FLAG_DATAGRAM_SOCKET:
        if (!udp)
            return STATUS_INVALID_PARAMETER;
        if (v6)
            return STATUS_NOT_SUPPORTED; /* IPv6 is a later issue */
        *kind = WSK_SOCK_DGRAM;
        return STATUS_SUCCESS;
    case WSK_FLAG_LISTEN_SOCKET:
    case WSK_FLAG_CONNECTION_SOCKET:
    case WSK_FLAG_STREAM_SOCKET:
        return STATUS_NOT_SUPPORTED;
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

NTSTATUS WSKAPI wsk_socket(PWSK_CLIENT Client, ADDRESS_FAMILY AddressFamily, USHORT SocketType,
                           ULONG Protocol, ULONG Flags, PVOID SocketContext, const VOID *Dispatch,
                           PEPROCESS OwningProcess, PETHREAD OwningThread,
                           PSECURITY_DESCRIPTOR SecurityDescriptor, PIRP Irp)
{
    struct wsk_reg *reg = (struct wsk_reg *)Client;
    if (reg == NULL || reg->magic != WSK_REG_MAGIC || reg->prov == NULL)
        return STATUS_INVALID_PARAMETER; /* no provider: nothing can complete */
    if (!wsk_irp_take(Irp))
        return STATUS_INVALID_PARAMETER;
    struct wsk_provider *prov = reg->prov;

    enum wsk_sock_kind kind;
    NTSTATUS status = wsk_socket_check(AddressFamily, SocketType, Protocol, Flags, &kind);
    if (!NT_SUCCESS(status))
        return wsk_complete_sync(prov, &prov->cq, Irp, status, 0);

    struct wsk_sock *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return wsk_complete_sync(prov, &prov->cq, Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    s->wsk.Dispatch = kind == WSK_SOCK_DGRAM ? (const VOID *)&wsk_dgram_dispatch
                                             : (const VOID *)&wsk_basic_dispatch;
    s->kind = kind;
    s->family = AddressFamily == WSK_LINUX_AF_INET6 ? AF_INET6 : AddressFamily;
    s->prov = prov;
    s->reg = reg;
    s->context = SocketContext;
    s->client_dispatch = Dispatch;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->ep.ops = &wsk_udp_ops;
    s->ep.flags = UDP_EP_V4;
    s->rcvbuf = WSK_RCVQ_DEFAULT_BYTES;

    wsk_reg_socket_add(reg);
    pthread_mutex_lock(&prov->socks_lock);
    s->next = prov->socks;
    prov->socks = s;
    /* Read under socks_lock: either the gone walk sees us, or we see gone. */
    s->gone = atomic_load(&prov->gone);
    pthread_mutex_unlock(&prov->socks_lock);
    return wsk_complete_sync(prov, &s->cq, Irp, STATUS_SUCCESS, (ULONG_PTR)&s->wsk);
}

/* ---- the device disappeared ---------------------------------------------------------------- */
/* stack_set_gone_cb hook: receive thread, no stack lock.  Pending receives
 * complete with STATUS_FILE_FORCED_CLOSED; later sends and receives fail
 * with it; WskCloseSocket still works.  Queued sends are failed by the stack
 * itself (tx_req done(-ENODEV) -> STATUS_FILE_FORCED_CLOSED). */
void wsk_provider_gone(void *ctx)
{
    struct wsk_provider *prov = ctx;
    atomic_store(&prov->gone, true);
    pthread_mutex_lock(&prov->socks_lock);
    for (struct wsk_sock *s = prov->socks; s; s = s->next) {
        pthread_mutex_lock(&s->lock);
        s->gone = true;
        wsk_dgram_gone_locked(s);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&prov->socks_lock);
}
