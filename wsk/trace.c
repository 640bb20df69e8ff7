/* SPDX-License-Identifier: MIT */
/*
 * trace.c - the WSK provider's two trace layers (issue 6): the irp layer
 * (what happens to each IRP: issued, pended, completed, cancel, refused,
 * always with the WSK call it belongs to) and the helpers of the wsk layer
 * (socket-level decisions: the names of calls and statuses, "why" texts
 * for the stack's -errno results, address:port texts).
 *
 * Everything here runs only behind TRACE_ON (WSK_TRACE_IRP / WSK_TRACE /
 * WSK_TRACE_F in wsk_impl.h), so nothing here costs anything when tracing
 * is off.  Line formats: wsk_impl.h and the README section "Tracing".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wsk/wsk_impl.h"

static const char *const call_names[WSK_CALL__COUNT] = {
    [WSK_CALL_NONE] = "-",
    [WSK_CALL_SOCKET] = "WskSocket",
    [WSK_CALL_SOCKET_CONNECT] = "WskSocketConnect",
    [WSK_CALL_CONTROL_CLIENT] = "WskControlClient",
    [WSK_CALL_GET_ADDRESS_INFO] = "WskGetAddressInfo",
    [WSK_CALL_GET_NAME_INFO] = "WskGetNameInfo",
    [WSK_CALL_BIND] = "WskBind",
    [WSK_CALL_SEND_TO] = "WskSendTo",
    [WSK_CALL_SEND_MESSAGES] = "WskSendMessages",
    [WSK_CALL_RECEIVE_FROM] = "WskReceiveFrom",
    [WSK_CALL_CONTROL_SOCKET] = "WskControlSocket",
    [WSK_CALL_GET_LOCAL_ADDRESS] = "WskGetLocalAddress",
    [WSK_CALL_CLOSE_SOCKET] = "WskCloseSocket",
};

const char *wsk_call_name(enum wsk_call call)
{
    return (unsigned)call < WSK_CALL__COUNT ? call_names[call] : "-";
}

/* The names of the statuses the provider returns or sees (NULL: none). */
static const char *wsk_status_name(NTSTATUS status)
{
    switch (status) {
    case STATUS_SUCCESS: return "STATUS_SUCCESS";
    case STATUS_PENDING: return "STATUS_PENDING";
    case STATUS_CANCELLED: return "STATUS_CANCELLED";
    case STATUS_INVALID_PARAMETER: return "STATUS_INVALID_PARAMETER";
    case STATUS_INVALID_DEVICE_STATE: return "STATUS_INVALID_DEVICE_STATE";
    case STATUS_INVALID_BUFFER_SIZE: return "STATUS_INVALID_BUFFER_SIZE";
    case STATUS_INSUFFICIENT_RESOURCES: return "STATUS_INSUFFICIENT_RESOURCES";
    case STATUS_FILE_FORCED_CLOSED: return "STATUS_FILE_FORCED_CLOSED";
    case STATUS_ACCESS_DENIED: return "STATUS_ACCESS_DENIED";
    case STATUS_NETWORK_UNREACHABLE: return "STATUS_NETWORK_UNREACHABLE";
    case STATUS_HOST_UNREACHABLE: return "STATUS_HOST_UNREACHABLE";
    case STATUS_ADDRESS_ALREADY_ASSOCIATED: return "STATUS_ADDRESS_ALREADY_ASSOCIATED";
    case STATUS_INVALID_ADDRESS: return "STATUS_INVALID_ADDRESS";
    case STATUS_NOT_SUPPORTED: return "STATUS_NOT_SUPPORTED";
    case STATUS_UNSUCCESSFUL: return "STATUS_UNSUCCESSFUL";
    case STATUS_BUFFER_TOO_SMALL: return "STATUS_BUFFER_TOO_SMALL";
    case STATUS_BUFFER_OVERFLOW: return "STATUS_BUFFER_OVERFLOW";
    case STATUS_DATA_NOT_ACCEPTED: return "STATUS_DATA_NOT_ACCEPTED";
    case STATUS_EVENT_PENDING: return "STATUS_EVENT_PENDING";
    case STATUS_DEVICE_NOT_READY: return "STATUS_DEVICE_NOT_READY";
    case STATUS_NOINTERFACE: return "STATUS_NOINTERFACE";
    default: return NULL;
    }
}

const char *wsk_status_str(NTSTATUS status)
{
    static _Thread_local char buf[16];
    const char *n = wsk_status_name(status);
    if (n != NULL)
        return n;
    snprintf(buf, sizeof buf, "0x%08x", (unsigned)status);
    return buf;
}

/* The -errno results udp_send / udp_bind give (stack/stack.h), each with
 * the reason the stack had and the errno name, so the wsk line says why
 * without a look at the stack's own lines. */
const char *wsk_errno_why(int err)
{
    switch (err) {
    case -ENETUNREACH: return "no route to the destination (ENETUNREACH)";
    case -EHOSTUNREACH: return "neighbour unreachable (EHOSTUNREACH)";
    case -EMSGSIZE: return "larger than the MTU with don't-fragment set (EMSGSIZE)";
    case -EADDRINUSE: return "address and port in use (EADDRINUSE)";
    case -EADDRNOTAVAIL: return "address not one of the stack's (EADDRNOTAVAIL)";
    case -ENOBUFS: return "no packet buffer (ENOBUFS)";
    case -ENOMEM: return "no memory (ENOMEM)";
    case -ENODEV: return "device gone (ENODEV)";
    case -EACCES: return "broadcast destination without SO_BROADCAST (EACCES)";
    case -ECANCELED: return "cancelled (ECANCELED)";
    case -EINVAL: return "invalid argument (EINVAL)";
    case -ENXIO: return "interface index not the stack's (ENXIO)";
    case -EAFNOSUPPORT: return "address family not accepted by the endpoint (EAFNOSUPPORT)";
    case -ENOTSUP: return "not supported (ENOTSUP)";
    default: return "refused by the stack";
    }
}

const char *wsk_ep_str(const struct ip_addr *a, uint16_t port, char *buf, size_t len)
{
    char ip[64];
    ip_addr_str(a, ip, sizeof ip);
    snprintf(buf, len, a->af == IPA_V6 ? "[%s]:%u" : "%s:%u", ip, (unsigned)port);
    return buf;
}

/* Why an IRP-taking call refused its IRP without completing it. */
static const char *refused_why(PIRP irp)
{
    return irp == NULL ? "no IRP" : "no free stack location";
}

void wsk_trace_irp(struct wsk_provider *prov, enum wsk_irp_ev ev, enum wsk_call call, PIRP irp,
                   NTSTATUS status, ULONG_PTR info)
{
    char ip[32];
    snprintf(ip, sizeof ip, "%p", (void *)irp);
    const char *cn = wsk_call_name(call);
    const char *sn = wsk_status_str(status);
    struct trace_fields f = {.irp = ip, .call = cn, .status = sn};
    struct wskstack *st = prov->st;
    switch (ev) {
    case WSK_IRP_ISSUED:
        f.status = NULL; /* no result yet */
        trace_event(st, TL_IRP, TD_NONE, "issued", &f, "issued %s irp=%s", cn, ip);
        break;
    case WSK_IRP_PENDED:
        trace_event(st, TL_IRP, TD_NONE, "pended", &f, "pended %s irp=%s %s", cn, ip, sn);
        break;
    case WSK_IRP_COMPLETED:
        trace_event(st, TL_IRP, TD_NONE, "completed", &f, "completed %s irp=%s %s info=%lu", cn,
                    ip, sn, (unsigned long)info);
        break;
    case WSK_IRP_CANCEL:
        f.status = NULL; /* the completed line tells how it ended */
        trace_event(st, TL_IRP, TD_NONE, "cancel", &f, "cancel %s irp=%s", cn, ip);
        break;
    case WSK_IRP_CANCEL_EARLY:
        f.status = NULL;
        trace_event(st, TL_IRP, TD_NONE, "cancel", &f,
                    "cancel %s irp=%s (cancelled before its cancel routine was set)", cn, ip);
        break;
    case WSK_IRP_REFUSED:
        trace_event(st, TL_IRP, TD_NONE, "refused", &f, "refused %s irp=%s %s (%s, not completed)",
                    cn, ip, sn, refused_why(irp));
        break;
    }
}

/* ---- wsk-layer lines of socket.c -------------------------------------------------- */
/* The wsk line of a WskBind: done (the port, ephemeral or not) or
 * refused (the status and why). */
void wsk_trace_bind(struct wsk_sock *s, NTSTATUS status, uint16_t port, const char *why)
{
    struct trace_fields f = {.call = "WskBind", .status = wsk_status_str(status)};
    if (NT_SUCCESS(status))
        trace_event(s->prov->st, TL_WSK, TD_NONE, "bind", &f, "bind done: %s, port %u%s",
                    f.status, (unsigned)s->lport, port == 0 ? " (ephemeral)" : "");
    else
        trace_event(s->prov->st, TL_WSK, TD_NONE, "refuse", &f, "bind refused: %s, port %u (%s)",
                    f.status, (unsigned)port, why);
}

/* The wsk line of a fixed address set or cleared. */
void wsk_trace_fixed(struct wsk_sock *s, bool remote, bool clear, const struct ip_addr *a,
                     uint16_t port)
{
    const char *which = remote ? "remote" : "sendto";
    const char *code = remote ? "SIO_WSK_SET_REMOTE_ADDRESS" : "SIO_WSK_SET_SENDTO_ADDRESS";
    char ep[80] = "", ip[64];
    struct trace_fields f = {.call = "WskControlSocket"};
    if (clear) {
        trace_event(s->prov->st, TL_WSK, TD_NONE, "fixed", &f, "fixed %s address cleared (%s)",
                    which, code);
        return;
    }
    wsk_ep_str(a, port, ep, sizeof ep);
    f.dst = ip_addr_str(a, ip, sizeof ip);
    trace_event(s->prov->st, TL_WSK, TD_NONE, "fixed", &f, "fixed %s address set: %s (%s)%s",
                which, ep, code,
                remote ? ", datagrams from any other address are dropped" : "");
}

/* ---- wsk-layer lines of the datagram path (dgram.c, sendmsgs.c) ------------ */
/* The wsk line of a refused send: the status and why. */
void wsk_trace_send_refused(struct wsk_sock *s, enum wsk_call call, NTSTATUS status,
                            const char *why)
{
    struct trace_fields f = {.call = wsk_call_name(call), .status = wsk_status_str(status)};
    trace_event(s->prov->st, TL_WSK, TD_TX, "refuse", &f, "send refused: %s (%s)", f.status, why);
}

/* The wsk lines of the addresses the provider chose for a send: a fixed
 * destination (RemoteAddress NULL) and an IN_PKTINFO / IN6_PKTINFO source.
 * Other sources are the stack's choice (its ipv4 / ipv6 lines). */
void wsk_trace_send_addr(struct wsk_sock *s, enum wsk_call call, const struct udp_send_args *a,
                         const char *fixed, bool pktinfo, bool dst6)
{
    char ep[80], ip[64];
    struct trace_fields f = {.call = wsk_call_name(call)};
    if (fixed != NULL) {
        wsk_ep_str(&a->dst, a->dport, ep, sizeof ep);
        f.dst = ip_addr_str(&a->dst, ip, sizeof ip);
        trace_event(s->prov->st, TL_WSK, TD_TX, "destination", &f,
                    "send destination %s from %s (RemoteAddress NULL)", ep, fixed);
        f.dst = NULL;
    }
    if (!pktinfo)
        return;
    const char *cm = dst6 ? "IN6_PKTINFO" : "IN_PKTINFO";
    if (a->src.af == IPA_NONE) {
        trace_event(s->prov->st, TL_WSK, TD_TX, "source", &f,
                    "send source: %s without an address, the stack chooses (ifindex %u)", cm,
                    (unsigned)a->ifindex);
        return;
    }
    f.src = ip_addr_str(&a->src, ip, sizeof ip);
    trace_event(s->prov->st, TL_WSK, TD_TX, "source", &f, "send source %s from %s (ifindex %u)",
                ip, cm, (unsigned)a->ifindex);
}

/* The wsk line of a datagram the socket refuses: the counter the stack
 * bumps for the callback's result (-ENOBUFS: UdpRcvbufErrors, -EPERM:
 * UdpInErrors, stack/udp.c) and why.  s->lock held. */
void wsk_trace_rx_drop(struct wsk_sock *s, const struct pkt *p, const struct udp_rx_info *info,
                       const char *counter, const char *why)
{
    char ep[80], ip[64];
    wsk_ep_str(&info->src, info->sport, ep, sizeof ep);
    struct trace_fields f = {.counter = counter, .src = ip_addr_str(&info->src, ip, sizeof ip)};
    trace_event(s->prov->st, TL_WSK, TD_RX, "drop", &f,
                "drop %s: datagram of %u bytes from %s, %s", counter, (unsigned)p->len, ep, why);
}

/* Datagrams from anyone but the fixed remote address are dropped. */
void wsk_trace_rx_filtered(struct wsk_sock *s, const struct pkt *p,
                           const struct udp_rx_info *info)
{
    char want[80], why[160];
    wsk_ep_str(&s->remote, s->rport, want, sizeof want);
    snprintf(why, sizeof why, "not from the fixed remote address %s (SIO_WSK_SET_REMOTE_ADDRESS)",
             want);
    wsk_trace_rx_drop(s, p, info, "UdpInErrors", why);
}

/* The receive queue is full: datagrams or SO_RCVBUF bytes. */
void wsk_trace_rx_full(struct wsk_sock *s, const struct pkt *p, const struct udp_rx_info *info)
{
    char why[160];
    if (s->dq_count >= WSK_RCVQ_MAX_DGRAMS)
        snprintf(why, sizeof why, "receive queue full (%u of %u datagrams)", s->dq_count,
                 (unsigned)WSK_RCVQ_MAX_DGRAMS);
    else
        snprintf(why, sizeof why, "receive queue full (%zu + %u bytes > SO_RCVBUF %u)",
                 s->dq_bytes, (unsigned)p->len, (unsigned)s->o.rcvbuf);
    wsk_trace_rx_drop(s, p, info, "UdpRcvbufErrors", why);
}
