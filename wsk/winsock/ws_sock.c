/* SPDX-License-Identifier: MIT */
/*
 * ws_sock.c - socket objects: socket / WSASocketA / WSASocketW, bind,
 * getsockname, closesocket, shutdown, setsockopt / getsockopt,
 * ioctlsocket, WSAIoctl.  Each is a synchronous WSK call (IRP + KEVENT).
 */
#include <stdlib.h>
#include <string.h>

#include "wsk/winsock/ws_impl.h"

/* ---- synchronous IRPs ---- */
static NTSTATUS ws_sync_done(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PRKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

PIRP ws_sync_begin(struct ws_sync *y)
{
    KeInitializeEvent(&y->ev, NotificationEvent, FALSE);
    y->irp = IoAllocateIrp(1, FALSE);
    if (y->irp)
        IoSetCompletionRoutine(y->irp, ws_sync_done, &y->ev, TRUE, TRUE, TRUE);
    return y->irp;
}

NTSTATUS ws_sync_end(struct ws_sync *y, NTSTATUS r, ULONG_PTR *info)
{
    if (r != STATUS_PENDING && KeReadStateEvent(&y->ev) == 0) {
        /* rejected before the IRP was taken (WSK-SPEC 5.1 exception):
         * nothing will complete it */
        IoFreeIrp(y->irp);
        return r;
    }
    KeWaitForSingleObject(&y->ev, Executive, KernelMode, FALSE, NULL);
    NTSTATUS s = y->irp->IoStatus.Status;
    if (info)
        *info = y->irp->IoStatus.Information;
    IoFreeIrp(y->irp);
    return s;
}

/* ---- lifetime ---- */
void ws_sock_put(struct ws_sock *so)
{
    if (atomic_fetch_sub(&so->refs, 1) != 1)
        return;
    pthread_cond_destroy(&so->c);
    pthread_mutex_destroy(&so->m);
    free(so);
}

bool ws_call_begin(struct ws_sock *so)
{
    pthread_mutex_lock(&so->m);
    bool ok = !so->closing;
    if (ok)
        so->calls++;
    pthread_mutex_unlock(&so->m);
    if (!ok)
        ws_err(WSAENOTSOCK);
    return ok;
}

void ws_call_end(struct ws_sock *so)
{
    pthread_mutex_lock(&so->m);
    if (--so->calls == 0)
        pthread_cond_broadcast(&so->c);
    pthread_mutex_unlock(&so->m);
}

/* Close the WSK socket (its pending IRPs complete with STATUS_CANCELLED:
 * WSA_OPERATION_ABORTED) and drop the table's reference. */
void ws_sock_destroy(struct ws_sock *so)
{
    pthread_mutex_lock(&so->m);
    so->closing = true;
    while (so->calls > 0) /* WSK: no call on the socket may be in progress */
        pthread_cond_wait(&so->c, &so->m);
    pthread_mutex_unlock(&so->m);
    struct ws_sync y;
    if (ws_sync_begin(&y) != NULL)
        ws_sync_end(&y, ws_dg(so)->WskCloseSocket(so->wsk, y.irp), NULL);
    ws_sock_put(so);
}

/* ---- creation ---- */
static SOCKET ws_socket(int af, int type, int protocol, const void *info, DWORD flags)
{
    if (!ws_started())
        return INVALID_SOCKET;
    if (info != NULL) {
        ws_err(WSAEINVAL); /* protocol info structures are not supported */
        return INVALID_SOCKET;
    }
    if (af != AF_INET && af != AF_INET6) {
        ws_err(WSAEAFNOSUPPORT);
        return INVALID_SOCKET;
    }
    if (type != SOCK_DGRAM) {
        ws_err(WSAESOCKTNOSUPPORT); /* only datagram sockets exist on wskstack */
        return INVALID_SOCKET;
    }
    if (protocol != 0 && protocol != IPPROTO_UDP) {
        ws_err(WSAEPROTONOSUPPORT);
        return INVALID_SOCKET;
    }
    struct ws_sock *so = calloc(1, sizeof(*so));
    if (so == NULL) {
        ws_err(WSAENOBUFS);
        return INVALID_SOCKET;
    }
    atomic_init(&so->refs, 1);
    pthread_mutex_init(&so->m, NULL);
    pthread_cond_init(&so->c, NULL);
    so->af = (ADDRESS_FAMILY)af;
    so->overlapped = (flags & WSA_FLAG_OVERLAPPED) != 0;

    const WSK_PROVIDER_NPI *npi = ws_npi();
    struct ws_sync y;
    ULONG_PTR info_out = 0;
    NTSTATUS s = STATUS_INSUFFICIENT_RESOURCES;
    if (ws_sync_begin(&y) != NULL) {
        s = npi->Dispatch->WskSocket(npi->Client, (ADDRESS_FAMILY)af, SOCK_DGRAM, IPPROTO_UDP,
                                     WSK_FLAG_DATAGRAM_SOCKET, so, NULL, NULL, NULL, NULL,
                                     y.irp);
        s = ws_sync_end(&y, s, &info_out);
    }
    if (!NT_SUCCESS(s)) {
        ws_sock_put(so);
        /* a family/type WSK does not provide (STATUS_NOT_SUPPORTED) */
        ws_err(s == STATUS_NOT_SUPPORTED ? WSAEAFNOSUPPORT : ws_status_to_wsa(s));
        return INVALID_SOCKET;
    }
    so->wsk = (PWSK_SOCKET)info_out;
    if (ws_table_add(so) == INVALID_SOCKET) {
        ws_sock_destroy(so);
        ws_err(WSAEMFILE);
        return INVALID_SOCKET;
    }
    return so->handle;
}

SOCKET WSAAPI socket(int af, int type, int protocol)
{
    return ws_socket(af, type, protocol, NULL, WSA_FLAG_OVERLAPPED);
}
SOCKET WSAAPI WSASocketA(int af, int type, int protocol, LPWSAPROTOCOL_INFOA lpProtocolInfo,
                         GROUP g, DWORD dwFlags)
{
    (void)g;
    return ws_socket(af, type, protocol, lpProtocolInfo, dwFlags);
}
SOCKET WSAAPI WSASocketW(int af, int type, int protocol, LPWSAPROTOCOL_INFOW lpProtocolInfo,
                         GROUP g, DWORD dwFlags)
{
    (void)g;
    return ws_socket(af, type, protocol, lpProtocolInfo, dwFlags);
}

int WSAAPI closesocket(SOCKET s)
{
    if (!ws_started())
        return SOCKET_ERROR;
    struct ws_sock *so = ws_table_remove(s);
    if (so == NULL)
        return ws_err(WSAENOTSOCK);
    ws_sock_destroy(so);
    return 0;
}

int WSAAPI shutdown(SOCKET s, int how)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = 0;
    if (how != SD_RECEIVE && how != SD_SEND && how != SD_BOTH) {
        rc = ws_err(WSAEINVAL);
    } else {
        pthread_mutex_lock(&so->m);
        if (how != SD_RECEIVE)
            so->shut_send = true;
        if (how != SD_SEND)
            so->shut_recv = true;
        pthread_mutex_unlock(&so->m);
    }
    ws_sock_put(so);
    return rc;
}

/* ---- addresses ---- */
static int ws_sockaddr_len(ADDRESS_FAMILY af)
{
    return af == AF_INET6 ? (int)sizeof(SOCKADDR_IN6) : (int)sizeof(SOCKADDR_IN);
}

static int ws_do_bind(struct ws_sock *so, const struct sockaddr *sa)
{
    if (!ws_call_begin(so))
        return SOCKET_ERROR;
    struct ws_sync y;
    NTSTATUS s = STATUS_INSUFFICIENT_RESOURCES;
    if (ws_sync_begin(&y) != NULL)
        s = ws_sync_end(&y, ws_dg(so)->WskBind(so->wsk, (PSOCKADDR)sa, 0, y.irp), NULL);
    ws_call_end(so);
    if (!NT_SUCCESS(s))
        return ws_err(ws_status_to_wsa(s));
    pthread_mutex_lock(&so->m);
    so->bound = true;
    pthread_mutex_unlock(&so->m);
    return 0;
}

int ws_bind_wildcard(struct ws_sock *so)
{
    SOCKADDR_IN6 any; /* big enough for either family; all zero = wildcard */
    memset(&any, 0, sizeof(any));
    any.sin6_family = so->af;
    return ws_do_bind(so, (const struct sockaddr *)&any);
}

int WSAAPI bind(SOCKET s, const struct sockaddr *name, int namelen)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc;
    if (name == NULL || namelen < (int)sizeof(SOCKADDR))
        rc = ws_err(WSAEFAULT);
    else if (name->sa_family != so->af)
        rc = ws_err(WSAEAFNOSUPPORT);
    else if (namelen < ws_sockaddr_len(so->af))
        rc = ws_err(WSAEFAULT);
    else
        rc = ws_do_bind(so, name);
    ws_sock_put(so);
    return rc;
}

int WSAAPI getsockname(SOCKET s, struct sockaddr *name, int *namelen)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = 0, need = ws_sockaddr_len(so->af);
    if (name == NULL || namelen == NULL || *namelen < need) {
        rc = ws_err(WSAEFAULT);
    } else if (ws_call_begin(so)) {
        SOCKADDR_IN6 out;
        memset(&out, 0, sizeof(out));
        struct ws_sync y;
        NTSTATUS st = STATUS_INSUFFICIENT_RESOURCES;
        if (ws_sync_begin(&y) != NULL)
            st = ws_sync_end(&y, ws_dg(so)->WskGetLocalAddress(so->wsk, (PSOCKADDR)&out, y.irp),
                             NULL);
        ws_call_end(so);
        if (!NT_SUCCESS(st)) {
            rc = ws_err(ws_status_to_wsa(st)); /* unbound: WSAEINVAL */
        } else {
            memcpy(name, &out, (size_t)need);
            *namelen = need;
        }
    } else {
        rc = SOCKET_ERROR;
    }
    ws_sock_put(so);
    return rc;
}

/* ---- options ---- */
static NTSTATUS ws_control(struct ws_sock *so, WSK_CONTROL_SOCKET_TYPE type, ULONG code,
                           ULONG level, ULONG *in, ULONG *out)
{
    if (!ws_call_begin(so))
        return STATUS_INVALID_HANDLE;
    struct ws_sync y;
    SIZE_T got = 0;
    NTSTATUS s = STATUS_INSUFFICIENT_RESOURCES;
    if (ws_sync_begin(&y) != NULL)
        s = ws_sync_end(&y,
                        ws_dg(so)->WskControlSocket(so->wsk, type, code, level,
                                                    in ? sizeof(*in) : 0, in,
                                                    out ? sizeof(*out) : 0, out, &got, y.irp),
                        NULL);
    ws_call_end(so);
    return s;
}

/* Option errors: an option the provider does not know is WSAENOPROTOOPT
 * (Winsock's meaning), otherwise the common table. */
static int ws_opt_err(NTSTATUS s)
{
    return ws_err(s == STATUS_NOT_SUPPORTED ? WSAENOPROTOOPT : ws_status_to_wsa(s));
}

int WSAAPI setsockopt(SOCKET s, int level, int optname, const char *optval, int optlen)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = 0;
    DWORD v = 0;
    if (optval == NULL || optlen < (int)sizeof(DWORD)) {
        rc = ws_err(WSAEFAULT);
        goto out;
    }
    memcpy(&v, optval, sizeof(v));
    if (level == SOL_SOCKET && (optname == SO_SNDTIMEO || optname == SO_RCVTIMEO)) {
        pthread_mutex_lock(&so->m);
        if (optname == SO_SNDTIMEO)
            so->sndtimeo = v;
        else
            so->rcvtimeo = v;
        pthread_mutex_unlock(&so->m);
        goto out;
    }
    if (level == SOL_SOCKET && (optname == SO_MAX_MSG_SIZE || optname == SO_TYPE)) {
        rc = ws_err(WSAENOPROTOOPT); /* read-only */
        goto out;
    }
    if (level == IPPROTO_IPV6 && so->af != AF_INET6) {
        rc = ws_err(WSAEINVAL); /* IPv6 options on an IPv4 socket */
        goto out;
    }
    ULONG in = v;
    NTSTATUS st = ws_control(so, WskSetOption, (ULONG)optname, (ULONG)level, &in, NULL);
    if (!NT_SUCCESS(st)) {
        rc = st == STATUS_INVALID_HANDLE ? SOCKET_ERROR : ws_opt_err(st);
    } else if (level == SOL_SOCKET && optname == SO_BROADCAST) {
        pthread_mutex_lock(&so->m);
        so->broadcast = v != 0;
        pthread_mutex_unlock(&so->m);
    }
out:
    ws_sock_put(so);
    return rc;
}

int WSAAPI getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = 0;
    DWORD v = 0;
    if (optval == NULL || optlen == NULL || *optlen < (int)sizeof(DWORD)) {
        rc = ws_err(WSAEFAULT);
        goto out;
    }
    if (level == SOL_SOCKET && (optname == SO_SNDTIMEO || optname == SO_RCVTIMEO)) {
        pthread_mutex_lock(&so->m);
        v = optname == SO_SNDTIMEO ? so->sndtimeo : so->rcvtimeo;
        pthread_mutex_unlock(&so->m);
    } else if (level == SOL_SOCKET && optname == SO_MAX_MSG_SIZE) {
        v = so->af == AF_INET6 ? WS_MAX_UDP6 : WS_MAX_UDP4;
    } else if (level == SOL_SOCKET && optname == SO_TYPE) {
        v = SOCK_DGRAM;
    } else if (level == IPPROTO_IPV6 && so->af != AF_INET6) {
        rc = ws_err(WSAEINVAL);
        goto out;
    } else {
        ULONG outv = 0;
        NTSTATUS st = ws_control(so, WskGetOption, (ULONG)optname, (ULONG)level, NULL, &outv);
        if (!NT_SUCCESS(st)) {
            rc = st == STATUS_INVALID_HANDLE ? SOCKET_ERROR : ws_opt_err(st);
            goto out;
        }
        v = outv;
    }
    memcpy(optval, &v, sizeof(v));
    *optlen = (int)sizeof(v);
out:
    ws_sock_put(so);
    return rc;
}

/* ---- ioctls ---- */
int WSAAPI ioctlsocket(SOCKET s, LONG cmd, u_long *argp)
{
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = 0;
    if (argp == NULL) {
        rc = ws_err(WSAEFAULT);
    } else if (cmd == FIONBIO) {
        pthread_mutex_lock(&so->m);
        so->nonblocking = *argp != 0;
        pthread_mutex_unlock(&so->m);
    } else if (cmd == FIONREAD) {
        rc = ws_err(WSAEOPNOTSUPP); /* WSK has no way to peek at the queue */
    } else {
        rc = ws_err(WSAEINVAL);
    }
    ws_sock_put(so);
    return rc;
}

int WSAAPI WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer,
                    LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned,
                    LPWSAOVERLAPPED lpOverlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
    /* Every ioctl here completes during the call; an lpOverlapped /
     * lpCompletionRoutine is accepted and nothing is queued for it. */
    (void)lpOverlapped;
    (void)lpCompletionRoutine;
    struct ws_sock *so = ws_sock_get(s);
    if (so == NULL)
        return SOCKET_ERROR;
    int rc = 0;
    if (lpcbBytesReturned == NULL) {
        rc = ws_err(WSAEFAULT);
    } else if (dwIoControlCode == SIO_GET_EXTENSION_FUNCTION_POINTER) {
        static const GUID send_id = WSAID_WSASENDMSG, recv_id = WSAID_WSARECVMSG;
        void *fn = NULL;
        if (lpvInBuffer == NULL || cbInBuffer < sizeof(GUID) || lpvOutBuffer == NULL ||
            cbOutBuffer < sizeof(void *)) {
            rc = ws_err(WSAEFAULT);
        } else {
            if (IsEqualGUID(lpvInBuffer, &send_id)) {
                LPFN_WSASENDMSG f = WSASendMsg;
                memcpy(&fn, &f, sizeof(fn));
            } else if (IsEqualGUID(lpvInBuffer, &recv_id)) {
                LPFN_WSARECVMSG f = ws_recvmsg;
                memcpy(&fn, &f, sizeof(fn));
            }
            if (fn == NULL) {
                rc = ws_err(WSAEINVAL); /* an extension wskstack does not have */
            } else {
                memcpy(lpvOutBuffer, &fn, sizeof(fn));
                *lpcbBytesReturned = sizeof(fn);
            }
        }
    } else if (dwIoControlCode == (DWORD)FIONBIO) {
        if (lpvInBuffer == NULL || cbInBuffer < sizeof(u_long)) {
            rc = ws_err(WSAEFAULT);
        } else {
            u_long v;
            memcpy(&v, lpvInBuffer, sizeof(v));
            pthread_mutex_lock(&so->m);
            so->nonblocking = v != 0;
            pthread_mutex_unlock(&so->m);
            *lpcbBytesReturned = 0;
        }
    } else {
        rc = ws_err(WSAEOPNOTSUPP);
    }
    ws_sock_put(so);
    return rc;
}
