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
 *     AF_INET6 (23, or Linux's 10) + SOCK_DGRAM + UDP + DATAGRAM -> an IPv6
 *                                         socket (issue 4): SOCKADDR_IN6
 *                                         everywhere (bind, sendto,
 *                                         receivefrom, local address, fixed
 *                                         addresses, indications); IPv4
 *                                         peers of a dual-stack socket
 *                                         appear as ::ffff:a.b.c.d
 *     LISTEN / CONNECTION / STREAM, or SOCK_STREAM+TCP -> STATUS_NOT_SUPPORTED
 *     any other family / type / protocol / flags -> STATUS_INVALID_PARAMETER
 *   WskBind
 *     address NULL or not the socket's family -> STATUS_INVALID_PARAMETER
 *     already bound                         -> STATUS_INVALID_DEVICE_STATE
 *     address in use                        -> STATUS_ADDRESS_ALREADY_ASSOCIATED
 *     address not one of the stack's        -> STATUS_INVALID_ADDRESS
 *     AF_INET6: a link-local address with sin6_scope_id not 0 and not the
 *     stack's ifindex -> STATUS_INVALID_ADDRESS; IPV6_V6ONLY (default 1)
 *     decides the endpoint's flags at bind: UDP_EP_V6, plus UDP_EP_V4 when
 *     0; ::ffff:a.b.c.d binds the IPv4 address on a dual-stack socket
 *     device gone                           -> STATUS_FILE_FORCED_CLOSED
 *   WskGetLocalAddress: unbound -> STATUS_INVALID_DEVICE_STATE; wildcard
 *     bound -> 0.0.0.0 and the port.
 *   WskControlSocket (WSK-SPEC 5.11; basic and datagram sockets alike)
 *     Every value is a ULONG in and out (Information/OutputSizeReturned = 4).
 *     SOL_SOCKET   SO_RCVBUF (0..INT_MAX bytes, default 262144: the receive
 *                  queue's byte bound; the 64-datagram bound stays),
 *                  SO_BROADCAST (bool; a send to the limited or a directed
 *                  broadcast without it -> STATUS_ACCESS_DENIED),
 *                  SO_REUSEADDR / SO_EXCLUSIVEADDRUSE (bool, applied at
 *                  bind: UDP_EP_REUSEADDR / UDP_EP_EXCLUSIVE; after bind ->
 *                  STATUS_INVALID_DEVICE_STATE; turning one on while the
 *                  other is on -> STATUS_INVALID_PARAMETER)
 *     IPPROTO_IP   IP_PKTINFO, IP_RECVTOS (= IP_RECVTCLASS 40), IP_ECN,
 *                  IP_HOPLIMIT (= IP_RECVTTL 21): bools adding receive
 *                  cmsgs (dgram.c); IP_RECVERR: bool, accepted and stored,
 *                  no ICMP error is ever delivered; IP_DONTFRAGMENT: bool,
 *                  DF on every datagram (too big for the MTU ->
 *                  STATUS_INVALID_BUFFER_SIZE); IP_TOS 0..255 (default 0);
 *                  IP_TTL 1..255 (default 64; 0 is refused: we never send
 *                  TTL 0); IP_UNICAST_IF: the interface index in NETWORK
 *                  byte order (Winsock), 0 or the stack's index
 *     IPPROTO_IPV6 IPV6_V6ONLY (default 1; on an AF_INET6 socket after
 *                  bind -> STATUS_INVALID_DEVICE_STATE), IPV6_PKTINFO
 *                  (IN6_PKTINFO receive cmsg for IPv6 datagrams),
 *                  IPV6_RECVTCLASS / IPV6_ECN / IPV6_HOPLIMIT (IPPROTO_IPV6
 *                  INT cmsgs for IPv6 datagrams), IPV6_RECVERR (stored),
 *                  IPV6_DONTFRAG, IPV6_TCLASS, IPV6_UNICAST_HOPS (default
 *                  64), IPV6_UNICAST_IF (host order): applied to IPv6
 *                  sends of AF_INET6 sockets (IPv4-mapped destinations use
 *                  the IPPROTO_IP ones)
 *     out of range / an ifindex not the stack's / input shorter than a
 *     ULONG -> STATUS_INVALID_PARAMETER; output shorter ->
 *     STATUS_BUFFER_TOO_SMALL
 *     IPPROTO_UDP UDP_SEND_MSG_SIZE / UDP_RECV_MAX_COALESCED_SIZE (USO/URO),
 *     and every option not listed -> STATUS_NOT_SUPPORTED
 *     SO_WSK_EVENT_CALLBACK -> event.c
 *     WskIoctl SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS -> see
 *     "Fixed addresses" in wsk_impl.h; every other IOCTL ->
 *     STATUS_NOT_SUPPORTED; RequestType >= WskControlMax ->
 *     STATUS_INVALID_PARAMETER.
 *     Without an IRP the result is returned inline (nothing to complete).
 *   WskCloseSocket: see "Close" in wsk_impl.h; Irp NULL ->
 *     STATUS_INVALID_PARAMETER (the socket stays open).
 */
#include <errno.h>
#include <stddef.h>
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

/* The socket's family of address.  AF_INET: SOCKADDR_IN.  AF_INET6:
 * SOCKADDR_IN6 (family 23 or Linux's 10); the address stays IPv6 (an
 * IPv4-mapped one too: the stack sends it as IPv4, or refuses it on a
 * V6-only endpoint).  A link-local address whose sin6_scope_id is neither
 * 0 nor the stack's ifindex -> STATUS_INVALID_ADDRESS. */
NTSTATUS wsk_sockaddr_get(const struct wsk_sock *s, const SOCKADDR *sa, struct ip_addr *a,
                          uint16_t *port)
{
    if (s->family != AF_INET6)
        return wsk_sockaddr_in_get(sa, a, port) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    if (sa == NULL || (sa->sa_family != AF_INET6 && sa->sa_family != WSK_LINUX_AF_INET6))
        return STATUS_INVALID_PARAMETER;
    SOCKADDR_IN6 sin6;
    memcpy(&sin6, sa, sizeof(sin6));
    memset(a, 0, sizeof(*a));
    a->af = IPA_V6;
    memcpy(a->v6, &sin6.sin6_addr, 16);
    *port = wsk_be16(&sin6.sin6_port);
    if (a->v6[0] == 0xfe && (a->v6[1] & 0xc0) == 0x80 && sin6.sin6_scope_id != 0 &&
        sin6.sin6_scope_id != stack_ifindex(s->prov->st))
        return STATUS_INVALID_ADDRESS;
    return STATUS_SUCCESS;
}

bool wsk_ip_is_v4mapped(const struct ip_addr *a)
{
    static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return a->af == IPA_V6 && memcmp(a->v6, pfx, 12) == 0;
}

struct ip_addr wsk_ip_for_sock(const struct wsk_sock *s, const struct ip_addr *a)
{
    struct ip_addr r = *a;
    if (s->family == AF_INET6 && a->af != IPA_V6) {
        memset(&r, 0, sizeof(r));
        r.af = IPA_V6;
        if (a->af == IPA_V4) { /* ::ffff:a.b.c.d (0.0.0.0 -> ::) */
            if (a->v4 != 0) {
                r.v6[10] = r.v6[11] = 0xff;
                wsk_put_be32(r.v6 + 12, a->v4);
            }
        }
    }
    return r;
}

void wsk_sockaddr_put(const struct wsk_sock *s, SOCKADDR *sa, const struct ip_addr *a,
                      uint16_t port)
{
    if (s->family != AF_INET6) {
        wsk_sockaddr_in_put(sa, a, port);
        return;
    }
    struct ip_addr m = wsk_ip_for_sock(s, a);
    SOCKADDR_IN6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    wsk_put_be16(&sin6.sin6_port, port);
    memcpy(&sin6.sin6_addr, m.v6, 16);
    if (m.v6[0] == 0xfe && (m.v6[1] & 0xc0) == 0x80)
        sin6.sin6_scope_id = stack_ifindex(s->prov->st);
    memcpy(sa, &sin6, sizeof(sin6));
}

/* ---- WskBind / WskGetLocalAddress -------------------------------------------------- */
static NTSTATUS WSKAPI wsk_bind(PWSK_SOCKET Socket, PSOCKADDR LocalAddress, ULONG Flags, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_accept(s->prov, Irp, WSK_CALL_BIND))
        return STATUS_INVALID_PARAMETER;

    struct ip_addr addr;
    uint16_t port = 0;
    NTSTATUS status = STATUS_SUCCESS;
    const char *why = "";
    status = wsk_sockaddr_get(s, LocalAddress, &addr, &port);
    if (!NT_SUCCESS(status)) {
        if (WSK_TRACING(s->prov))
            wsk_trace_bind(s, status, port, status == STATUS_INVALID_ADDRESS
                                                ? "link-local scope id not the stack's"
                                                : "no address of the socket's family");
        return wsk_complete_sync(s->prov, &s->cq, WSK_CALL_BIND, Irp, status, 0);
    }

    pthread_mutex_lock(&s->lock);
    if (s->gone || stack_dev_gone(s->prov->st)) {
        status = STATUS_FILE_FORCED_CLOSED;
        why = "device gone";
    } else if (s->bound || s->closing) {
        status = STATUS_INVALID_DEVICE_STATE;
        why = s->bound ? "already bound" : "socket closing";
    } else {
        /* sock->lock -> st->lock is the documented order; udp_bind calls
         * no endpoint callback. */
        if (s->o.reuseaddr)
            s->ep.flags |= UDP_EP_REUSEADDR;
        if (s->o.exclusive)
            s->ep.flags |= UDP_EP_EXCLUSIVE;
        struct ip_addr baddr = addr;
        if (s->family == AF_INET6) {
            s->ep.flags = (s->ep.flags & ~(uint32_t)UDP_EP_V4) | UDP_EP_V6;
            if (!s->o.v6only) {
                s->ep.flags |= UDP_EP_V4;
                if (wsk_ip_is_v4mapped(&addr))
                    baddr = ip4(wsk_be32(addr.v6 + 12));
            }
        }
        int rc = udp_bind(s->prov->st, &s->ep, &baddr, port);
        if (rc == 0) {
            s->bound = true;
            s->local = addr;
            s->lport = s->ep.lport; /* the ephemeral port, if 0 was asked */
        } else if (rc == -EINVAL) {
            status = STATUS_INVALID_DEVICE_STATE;
            why = "the endpoint is bound already (EINVAL)";
        } else {
            status = wsk_errno_status(rc);
            why = wsk_errno_why(rc);
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (WSK_TRACING(s->prov))
        wsk_trace_bind(s, status, port, why);
    return wsk_complete_sync(s->prov, &s->cq, WSK_CALL_BIND, Irp, status, 0);
}

static NTSTATUS WSKAPI wsk_get_local_address(PWSK_SOCKET Socket, PSOCKADDR LocalAddress, PIRP Irp)
{
    struct wsk_sock *s = wsk_sock_of(Socket);
    if (s == NULL || !wsk_irp_accept(s->prov, Irp, WSK_CALL_GET_LOCAL_ADDRESS))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = STATUS_SUCCESS;
    pthread_mutex_lock(&s->lock);
    if (!s->bound)
        status = STATUS_INVALID_DEVICE_STATE;
    else if (LocalAddress == NULL)
        status = STATUS_INVALID_PARAMETER;
    else
        wsk_sockaddr_put(s, LocalAddress, &s->local, s->lport);
    pthread_mutex_unlock(&s->lock);
    return wsk_complete_sync(s->prov, &s->cq, WSK_CALL_GET_LOCAL_ADDRESS, Irp, status, 0);
}

/* ---- WskControlSocket ----------------------------------------------------------------- */
/* The options of WSK-SPEC 5.11, each a ULONG (DWORD) in and out. */
enum wsk_optkind {
    WSK_OPT_BOOL,       /* bool: 0 = off, anything else = on (get: 0/1) */
    WSK_OPT_BYTE,       /* int 0..255 (IP_TOS, IPV6_TCLASS) */
    WSK_OPT_HOPS,       /* int 1..255 (IP_TTL, IPV6_UNICAST_HOPS; we never send TTL 0) */
    WSK_OPT_IF_NET,     /* uint32 ifindex, network byte order in the ULONG
                           (Winsock IP_UNICAST_IF); 0 or the stack's */
    WSK_OPT_IF_HOST,    /* uint32 ifindex, host order (IPV6_UNICAST_IF) */
    WSK_OPT_RCVBUF,     /* uint32 0..INT_MAX */
    WSK_OPT_ADDRUSE,    /* bool, before bind only (SO_REUSEADDR/EXCLUSIVEADDRUSE) */
};
struct wsk_optdesc {
    ULONG level, code;
    enum wsk_optkind kind;
    size_t off;         /* in struct wsk_opts */
};
#define WSK_OPT(l, c, k, f) {(ULONG)(l), (ULONG)(c), k, offsetof(struct wsk_opts, f)}
static const struct wsk_optdesc wsk_optab[] = {
    WSK_OPT(SOL_SOCKET, SO_RCVBUF, WSK_OPT_RCVBUF, rcvbuf),
    WSK_OPT(SOL_SOCKET, SO_BROADCAST, WSK_OPT_BOOL, broadcast),
    WSK_OPT(SOL_SOCKET, SO_REUSEADDR, WSK_OPT_ADDRUSE, reuseaddr),
    WSK_OPT(SOL_SOCKET, SO_EXCLUSIVEADDRUSE, WSK_OPT_ADDRUSE, exclusive),
    WSK_OPT(IPPROTO_IP, IP_PKTINFO, WSK_OPT_BOOL, pktinfo),
    WSK_OPT(IPPROTO_IP, IP_RECVTOS, WSK_OPT_BOOL, recvtos),
    WSK_OPT(IPPROTO_IP, IP_ECN, WSK_OPT_BOOL, ecn),
    WSK_OPT(IPPROTO_IP, IP_HOPLIMIT, WSK_OPT_BOOL, hoplimit),
    WSK_OPT(IPPROTO_IP, IP_RECVERR, WSK_OPT_BOOL, recverr),
    WSK_OPT(IPPROTO_IP, IP_DONTFRAGMENT, WSK_OPT_BOOL, df),
    WSK_OPT(IPPROTO_IP, IP_TOS, WSK_OPT_BYTE, tos),
    WSK_OPT(IPPROTO_IP, IP_TTL, WSK_OPT_HOPS, ttl),
    WSK_OPT(IPPROTO_IP, IP_UNICAST_IF, WSK_OPT_IF_NET, unicast_if),
    WSK_OPT(IPPROTO_IPV6, IPV6_V6ONLY, WSK_OPT_BOOL, v6only),
    WSK_OPT(IPPROTO_IPV6, IPV6_PKTINFO, WSK_OPT_BOOL, v6pktinfo),
    WSK_OPT(IPPROTO_IPV6, IPV6_RECVTCLASS, WSK_OPT_BOOL, v6recvtclass),
    WSK_OPT(IPPROTO_IPV6, IPV6_ECN, WSK_OPT_BOOL, v6ecn),
    WSK_OPT(IPPROTO_IPV6, IPV6_HOPLIMIT, WSK_OPT_BOOL, v6hoplimit),
    WSK_OPT(IPPROTO_IPV6, IPV6_RECVERR, WSK_OPT_BOOL, v6recverr),
    WSK_OPT(IPPROTO_IPV6, IPV6_DONTFRAG, WSK_OPT_BOOL, v6df),
    WSK_OPT(IPPROTO_IPV6, IPV6_TCLASS, WSK_OPT_BYTE, v6tclass),
    WSK_OPT(IPPROTO_IPV6, IPV6_UNICAST_HOPS, WSK_OPT_HOPS, v6hops),
    WSK_OPT(IPPROTO_IPV6, IPV6_UNICAST_IF, WSK_OPT_IF_HOST, v6unicast_if),
};

void wsk_opts_default(struct wsk_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->ttl = WSK_DEFAULT_TTL;
    o->v6hops = WSK_DEFAULT_TTL;
    o->tos = 0;
    o->v6tclass = 0;
    o->v6only = true; /* Windows' default for AF_INET6 sockets */
    o->rcvbuf = WSK_RCVQ_DEFAULT_BYTES;
}

static const struct wsk_optdesc *wsk_opt_find(ULONG level, ULONG code)
{
    for (size_t i = 0; i < sizeof(wsk_optab) / sizeof(wsk_optab[0]); i++)
        if (wsk_optab[i].level == level && wsk_optab[i].code == code)
            return &wsk_optab[i];
    return NULL;
}

static NTSTATUS wsk_opt_set(struct wsk_sock *s, const struct wsk_optdesc *d, ULONG v)
{
    uint8_t *f = (uint8_t *)&s->o + d->off;
    uint32_t ifx = 0;
    switch (d->kind) {
    case WSK_OPT_BYTE:
        if (v > 255)
            return STATUS_INVALID_PARAMETER;
        break;
    case WSK_OPT_HOPS:
        if (v < 1 || v > 255)
            return STATUS_INVALID_PARAMETER;
        break;
    case WSK_OPT_RCVBUF:
        if ((LONG)v < 0)
            return STATUS_INVALID_PARAMETER;
        break;
    case WSK_OPT_IF_NET:
    case WSK_OPT_IF_HOST:
        ifx = d->kind == WSK_OPT_IF_NET ? wsk_be32(&v) : v;
        if (ifx != 0 && ifx != stack_ifindex(s->prov->st))
            return STATUS_INVALID_PARAMETER; /* one interface only */
        break;
    default:
        break;
    }
    pthread_mutex_lock(&s->lock);
    NTSTATUS status = STATUS_SUCCESS;
    switch (d->kind) {
    case WSK_OPT_ADDRUSE: {
        /* Winsock: effective at bind time only; setting one while the
         * other is on is WSAEINVAL. */
        bool other = d->code == SO_REUSEADDR ? s->o.exclusive : s->o.reuseaddr;
        if (s->bound)
            status = STATUS_INVALID_DEVICE_STATE;
        else if (v != 0 && other)
            status = STATUS_INVALID_PARAMETER;
        else
            *(bool *)f = v != 0;
        break;
    }
    case WSK_OPT_BOOL:
        if (s->family == AF_INET6 && d->level == IPPROTO_IPV6 && d->code == IPV6_V6ONLY &&
            s->bound)
            status = STATUS_INVALID_DEVICE_STATE; /* decided at bind */
        else
            *(bool *)f = v != 0;
        break;
    case WSK_OPT_BYTE:
    case WSK_OPT_HOPS:
        *(int *)f = (int)v;
        break;
    case WSK_OPT_IF_NET:
    case WSK_OPT_IF_HOST:
        *(uint32_t *)f = ifx;
        break;
    case WSK_OPT_RCVBUF:
        *(uint32_t *)f = v;
        break;
    }
    pthread_mutex_unlock(&s->lock);
    return status;
}

static ULONG wsk_opt_get(struct wsk_sock *s, const struct wsk_optdesc *d)
{
    const uint8_t *f = (const uint8_t *)&s->o + d->off;
    ULONG v = 0;
    pthread_mutex_lock(&s->lock);
    switch (d->kind) {
    case WSK_OPT_BOOL:
    case WSK_OPT_ADDRUSE:
        v = *(const bool *)f;
        break;
    case WSK_OPT_BYTE:
    case WSK_OPT_HOPS:
        v = (ULONG) * (const int *)f;
        break;
    case WSK_OPT_IF_NET:
        wsk_put_be32(&v, *(const uint32_t *)f);
        break;
    case WSK_OPT_IF_HOST:
    case WSK_OPT_RCVBUF:
        v = *(const uint32_t *)f;
        break;
    }
    pthread_mutex_unlock(&s->lock);
    return v;
}

static NTSTATUS wsk_get_ulong_opt(ULONG v, SIZE_T OutputSize, PVOID OutputBuffer, SIZE_T *out)
{
    if (OutputBuffer == NULL || OutputSize < sizeof(ULONG))
        return STATUS_BUFFER_TOO_SMALL;
    memcpy(OutputBuffer, &v, sizeof(v));
    *out = sizeof(ULONG);
    return STATUS_SUCCESS;
}

/* SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS (WSK-SPEC 5.5). */
static NTSTATUS wsk_set_fixed(struct wsk_sock *s, bool remote, SIZE_T InputSize,
                              PVOID InputBuffer)
{
    if (s->kind != WSK_SOCK_DGRAM)
        return STATUS_NOT_SUPPORTED; /* datagram sockets only (DOCS) */
    struct ip_addr a = {.af = IPA_NONE};
    uint16_t port = 0;
    bool clear = InputSize == 0;
    if (!clear) {
        /* Any InputSize >= the family's sockaddr (MsQuic passes 28). */
        size_t need = s->family == AF_INET6 ? sizeof(SOCKADDR_IN6) : sizeof(SOCKADDR_IN);
        if (InputBuffer == NULL || InputSize < need)
            return STATUS_INVALID_PARAMETER;
        NTSTATUS st = wsk_sockaddr_get(s, InputBuffer, &a, &port);
        if (!NT_SUCCESS(st))
            return st;
        if (ip_addr_is_any(&a) || port == 0)
            return STATUS_INVALID_PARAMETER;
    }
    pthread_mutex_lock(&s->lock);
    NTSTATUS status = STATUS_SUCCESS;
    if (!s->bound || s->closing) {
        status = STATUS_INVALID_DEVICE_STATE; /* DOCS: after bind */
    } else if (remote) {
        s->has_remote = !clear;
        s->remote = a;
        s->rport = port;
    } else {
        s->has_sendto = !clear;
        s->sendto = a;
        s->sport = port;
    }
    pthread_mutex_unlock(&s->lock);
    if (NT_SUCCESS(status) && WSK_TRACING(s->prov))
        wsk_trace_fixed(s, remote, clear, &a, port);
    return status;
}

/* Returns STATUS_PENDING only when it took over the IRP. */
static NTSTATUS wsk_control(struct wsk_sock *s, WSK_CONTROL_SOCKET_TYPE RequestType,
                            ULONG ControlCode, ULONG Level, SIZE_T InputSize, PVOID InputBuffer,
                            SIZE_T OutputSize, PVOID OutputBuffer, SIZE_T *out, PIRP Irp)
{
    const struct wsk_optdesc *d = NULL;
    ULONG v = 0;
    bool udp_offload = Level == IPPROTO_UDP &&
                       (ControlCode == UDP_SEND_MSG_SIZE || ControlCode == UDP_RECV_MAX_COALESCED_SIZE);

    switch (RequestType) {
    case WskSetOption:
        if (Level == SOL_SOCKET && ControlCode == SO_WSK_EVENT_CALLBACK)
            return wsk_event_control(s, InputSize, InputBuffer, Irp);
        if (udp_offload || (d = wsk_opt_find(Level, ControlCode)) == NULL)
            return STATUS_NOT_SUPPORTED; /* USO/URO: MsQuic then disables them */
        if (InputBuffer == NULL || InputSize < sizeof(ULONG))
            return STATUS_INVALID_PARAMETER;
        memcpy(&v, InputBuffer, sizeof(v));
        return wsk_opt_set(s, d, v);
    case WskGetOption:
        if (udp_offload || (d = wsk_opt_find(Level, ControlCode)) == NULL)
            return STATUS_NOT_SUPPORTED;
        return wsk_get_ulong_opt(wsk_opt_get(s, d), OutputSize, OutputBuffer, out);
    case WskIoctl:
        /* Level is ignored for WskIoctl (DDI). */
        if (ControlCode == SIO_WSK_SET_REMOTE_ADDRESS || ControlCode == SIO_WSK_SET_SENDTO_ADDRESS) {
            if (Irp == NULL)
                return STATUS_INVALID_PARAMETER; /* "requires an IRP" (DOCS) */
            return wsk_set_fixed(s, ControlCode == SIO_WSK_SET_REMOTE_ADDRESS, InputSize,
                                 InputBuffer);
        }
        return STATUS_NOT_SUPPORTED;
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
    /* Without an IRP the result is returned inline: no irp lines. */
    if (Irp != NULL && !wsk_irp_accept(s->prov, Irp, WSK_CALL_CONTROL_SOCKET))
        return STATUS_INVALID_PARAMETER;
    SIZE_T out = 0;
    NTSTATUS status = wsk_control(s, RequestType, ControlCode, Level, InputSize, InputBuffer,
                                  OutputSize, OutputBuffer, &out, Irp);
    if (OutputSizeReturned != NULL)
        *OutputSizeReturned = NT_SUCCESS(status) ? out : 0;
    if (Irp == NULL || status == STATUS_PENDING)
        return status; /* inline result, or the IRP was taken over */
    return wsk_complete_sync(s->prov, &s->cq, WSK_CALL_CONTROL_SOCKET, Irp, status, out);
}

/* ---- WskCloseSocket ------------------------------------------------------------------- */
/* The close IRP's release hook: runs on the completion thread right after
 * the close routine; the socket (with its queue) disappears here. */
static void wsk_sock_free(struct wsk_cqe *e)
{
    struct wsk_sock *s = CONTAINING_RECORD(e, struct wsk_sock, close_cqe);
    struct wsk_reg *reg = s->reg;
    wsk_event_sock_fini(s); /* elements the client never released */
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
    if (s == NULL || !wsk_irp_accept(s->prov, Irp, WSK_CALL_CLOSE_SOCKET))
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
    e->call = WSK_CALL_CLOSE_SOCKET;
    return wsk_complete_sync_e(s->prov, &s->cq, e);
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
    struct wsk_provider *prov = reg->prov;
    if (!wsk_irp_accept(prov, Irp, WSK_CALL_SOCKET))
        return STATUS_INVALID_PARAMETER;

    enum wsk_sock_kind kind;
    NTSTATUS status = wsk_socket_check(AddressFamily, SocketType, Protocol, Flags, &kind);
    if (!NT_SUCCESS(status))
        return wsk_complete_sync(prov, &prov->cq, WSK_CALL_SOCKET, Irp, status, 0);

    struct wsk_sock *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return wsk_complete_sync(prov, &prov->cq, WSK_CALL_SOCKET, Irp,
                                 STATUS_INSUFFICIENT_RESOURCES, 0);
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
    wsk_opts_default(&s->o);

    wsk_event_sock_init(s, wsk_reg_socket_add(reg));
    pthread_mutex_lock(&prov->socks_lock);
    s->next = prov->socks;
    prov->socks = s;
    /* Read under socks_lock: either the gone walk sees us, or we see gone. */
    s->gone = atomic_load(&prov->gone);
    pthread_mutex_unlock(&prov->socks_lock);
    return wsk_complete_sync(prov, &s->cq, WSK_CALL_SOCKET, Irp, STATUS_SUCCESS,
                             (ULONG_PTR)&s->wsk);
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
        wsk_event_gone_locked(s);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&prov->socks_lock);
}
