/* SPDX-License-Identifier: MIT */
/*
 * wsk_impl.h - the WSK provider's private interfaces (the files of wsk/, not wsk/nt/).
 *
 * Files (prefix = owner):
 *   provider.c  registration (WskRegister ... WskDeregister), the
 *               process-default stack, provider instances, WskControlClient
 *   socket.c    WskSocket, dispatch tables, WskBind, WskGetLocalAddress,
 *               WskControlSocket, WskCloseSocket, the device-gone hook
 *   dgram.c     WskSendTo, WskReceiveFrom, MDL gather/scatter, the UDP
 *               endpoint callback, close of the datagram path
 *   sendmsgs.c  WskSendMessages
 *   cmsg.c      receive and send control messages
 *   event.c     WskReceiveFromEvent: enable/disable, indications, WskRelease
 *   compl.c     completion threads, per-socket completion queues, the
 *               synchronous hand-off
 *   trace.c     the irp and wsk trace layers: call and status names, the
 *               irp lines, address and errno texts for the wsk lines
 *   status.c    errno -> NTSTATUS
 *
 * ===========================================================================
 * DESIGN DECISIONS (the IRP contract of WSK-SPEC section 5.1, as implemented)
 * ===========================================================================
 * Completion threads.  Each provider instance (one per stack) runs
 *   WSK_COMPL_THREADS (2) completion threads.  Every socket has a FIFO
 *   completion queue (struct wsk_cq); a queue with work is put on the
 *   provider's run queue; a completion thread takes ONE queue and drains it.
 *   So the completion routines of one socket never run concurrently and run
 *   in the order the completions were queued.  IofCompleteRequest is called
 *   only on completion threads (one documented exception: when even the
 *   small completion record cannot be allocated, see wsk_complete_sync()).
 *   Client-level IRPs (WskSocket failures, WskControlClient) use the
 *   provider's own queue (prov->cq).
 *
 * Returning from a WSK call.
 *   - Result known during the call (synchronous success of socket / bind /
 *     control / get-local-address / close, or ANY immediate failure): the
 *     caller queues the IRP to the socket's completion queue and WAITS until
 *     its completion routine has run, then returns the status.  STATUS_SUCCESS
 *     or an error therefore really means "already completed" (win-net-test
 *     frees the IRP right after a non-pending return).  The routine runs with
 *     Irp->PendingReturned == FALSE.
 *     Exception: if the calling thread IS one of this provider's completion
 *     threads (a WSK call from inside a completion routine) the provider never
 *     waits (that would deadlock): IoMarkIrpPending, queue, STATUS_PENDING.
 *   - Sends whose frame was written on the caller's thread (UDP_SEND_DONE):
 *     IoMarkIrpPending, queue the completion, return STATUS_PENDING (fast
 *     path, no wait).  Sends queued for ARP resolution (UDP_SEND_QUEUED):
 *     IoMarkIrpPending, STATUS_PENDING; tx_req->done() queues the completion
 *     with the mapped status (0 -> SUCCESS + bytes, -EHOSTUNREACH ->
 *     STATUS_HOST_UNREACHABLE, -ENODEV -> STATUS_FILE_FORCED_CLOSED,
 *     -ECANCELED -> STATUS_CANCELLED).
 *   - Before queuing, the provider takes the IRP's stack location the way a
 *     lower driver does (IoSetNextIrpStackLocation: the location the client
 *     filled with IoSetCompletionRoutine becomes current) and, when it will
 *     return STATUS_PENDING, calls IoMarkIrpPending BEFORE the completion can
 *     possibly run.  So Irp->PendingReturned is exactly what IofCompleteRequest
 *     derives from SL_PENDING_RETURNED.  IoStatus.Information is set before
 *     completion (0 on error).  The provider never frees an IRP it did not
 *     allocate, and never touches an IRP after IofCompleteRequest returned.
 *   - Irp == NULL where an IRP is required, or an IRP without a free stack
 *     location (CurrentLocation <= 1): STATUS_INVALID_PARAMETER is returned
 *     and nothing is completed (there is nothing to complete).
 *
 * Per-socket send ordering.  Every send gets a place in the socket's
 *   in-flight list (submission order).  A send's completion is queued only
 *   when it and every earlier send of the socket have a result, so a send
 *   that went out at once is held back behind an earlier one still waiting
 *   for ARP.  An immediate send failure while earlier sends are in flight is
 *   therefore reported as STATUS_PENDING (completed later, in order) instead
 *   of blocking the caller for up to 3 s.
 *
 * Receive.  Pending WskReceiveFrom IRPs wait in a per-socket FIFO, each
 *   cancelable (cancel routine armed while queued; Irp->Cancel re-checked
 *   after arming).  A datagram is given to the first IRP whose
 *   IoSetCancelRoutine(Irp, NULL) returns non-NULL (NULL = cancellation owns
 *   it; the cancel routine dequeues it).  Without a pending IRP the datagram
 *   is queued, bounded by WSK_RCVQ_MAX_DGRAMS datagrams and SO_RCVBUF bytes
 *   (default WSK_RCVQ_DEFAULT_BYTES); over the bound the endpoint callback
 *   returns -ENOBUFS and the stack counts UdpRcvbufErrors.
 *
 * Send cancellation (issue 3).  A WskSendTo / WskSendMessages IRP whose
 *   datagram(s) the stack queued for ARP (UDP_SEND_QUEUED) gets a cancel
 *   routine (armed under the cancel lock, Irp->Cancel re-checked after
 *   arming, as receives).  The routine releases the cancel lock, marks the
 *   op WSK_CXL_RUNNING and tx_req_cancel()s every datagram of the IRP still
 *   waiting: true -> done(-ECANCELED) -> STATUS_CANCELLED through the
 *   normal ordered path; false -> too late, the real result is reported.
 *   The normal path takes the routine back with IoSetCancelRoutine(Irp,
 *   NULL) when the op reaches the head of the send queue with a result
 *   (wsk_send_flush_locked); NULL means the routine runs (or is about to):
 *   the op stays at the head (so later sends keep their order) until the
 *   routine finished touching it and flushes.  WskSendMessages: the
 *   cancelled datagram is the first failure (policy below), so
 *   Information is the bytes of the datagrams that left before it (0 when
 *   the first one was still waiting).
 *
 * Close.  WskCloseSocket marks the socket closing, unbinds the endpoint (no
 *   receive callback runs afterwards), completes every pending receive with
 *   STATUS_CANCELLED, tx_req_cancel()s every send still waiting for ARP
 *   (STATUS_CANCELLED; sends that already left complete with success),
 *   waits until every send has its completion queued, frees queued
 *   datagrams, then queues the close IRP's completion behind all of them.
 *   The socket memory is freed by the completion thread right after the
 *   close IRP's routine ran; nothing of that socket is called afterwards.
 *
 * NOT YET (each returns STATUS_NOT_SUPPORTED, completing the IRP if one was
 *   given): connection/listen/stream sockets, USO/URO
 *   (UDP_SEND_MSG_SIZE / UDP_RECV_MAX_COALESCED_SIZE), options not listed in
 *   socket.c's table.
 *
 * WskSendMessages (WSK-SPEC 5.8; the DDI leaves partial failure open).
 *   The WSK_BUF_LIST nodes, RemoteAddress and ControlInfo are read during
 *   the call only (MsQuic builds them on its stack); the payload is copied
 *   into packet buffers before the call returns.  Policy:
 *   1. every element is checked first: Length > 65507 ->
 *      STATUS_INVALID_BUFFER_SIZE, a broken MDL chain ->
 *      STATUS_INVALID_PARAMETER; nothing is sent.
 *   2. the datagrams are sent in list order; the first one that fails
 *      stops the list.  Result = the error of the first datagram (in list
 *      order) that failed, immediately or later (ARP), Information = the
 *      bytes of the datagrams before it; no failure: STATUS_SUCCESS and
 *      Information = the sum of all lengths.  A failure of the FIRST
 *      datagram before anything left is an immediate failure (the call
 *      returns it, like WskSendTo); any other outcome is STATUS_PENDING and
 *      the IRP completes once the last datagram queued for ARP has its
 *      result (per-socket send order kept).
 *   3. Information on a partial failure is the bytes sent before the
 *      failing datagram (not 0): the one exception to "Information is 0 on
 *      error", because the bytes did leave.
 *
 * Fixed addresses (SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS,
 *   WSK-SPEC 5.5).  WskControlSocket(WskIoctl) with an IRP (NULL ->
 *   STATUS_INVALID_PARAMETER, nothing completed), datagram sockets only
 *   (basic -> STATUS_NOT_SUPPORTED), after bind (STATUS_INVALID_DEVICE_STATE
 *   before).  InputSize >= sizeof(SOCKADDR_IN) with an AF_INET address sets
 *   (MsQuic passes 28); InputSize 0 (any buffer) clears; anything else,
 *   0.0.0.0 or port 0 -> STATUS_INVALID_PARAMETER.  The two are separate
 *   slots: a send with RemoteAddress NULL goes to the REMOTE address if one
 *   is set, else to the SENDTO address, else fails with
 *   STATUS_INVALID_PARAMETER (Wine's WSAEDESTADDRREQ mapping).  An explicit
 *   RemoteAddress always wins.  With a REMOTE address set, a datagram from
 *   any other address:port is dropped on arrival: the endpoint callback
 *   returns -EPERM, so the stack counts it in UdpInErrors ("refused by the
 *   socket"), and sock->stat_filtered counts it per socket.  Datagrams
 *   already queued when the address is set stay queued.  SENDTO filters
 *   nothing.
 *
 * Receive events (WskReceiveFromEvent, WSK-SPEC 5.6/5.7), event.c.
 *   Where callbacks run: on the socket's completion queue (a completion
 *   thread), never on the receive thread.  The receive thread only queues
 *   the datagram and schedules ONE indication entry (sock->ind_cqe); the
 *   entry takes every datagram queued by then (up to WSK_IND_BATCH, same
 *   MSG_BCAST/MSG_MCAST flags) and indicates them as one list.  So one
 *   socket's callbacks never overlap, they are ordered with its IRP
 *   completions, and the close IRP - queued behind them - completes only
 *   after a callback in progress returned (DDI WskCloseSocket); nothing is
 *   indicated once close has started.
 *   Precedence: a pending WskReceiveFrom always gets the datagram first
 *   (DDI WskReceiveFromEvent).
 *   Indication elements are separately allocated (struct wsk_ind): the
 *   MDL (MmBuildMdlForNonPagedPool, MappedSystemVa set) describes the
 *   packet buffer itself (no copy), RemoteAddress is a SOCKADDR_IN in the
 *   element, ControlInfo holds the enabled cmsgs (see dgram.c).
 *   Callback result: STATUS_SUCCESS -> the provider frees the list (its own
 *   links, never Next); STATUS_PENDING -> the client owns every element
 *   until WskRelease; STATUS_DATA_NOT_ACCEPTED -> the datagrams go back to
 *   the head of the receive queue (a later WskReceiveFrom gets them);
 *   enabled with SO_WSK_EVENT_CALLBACK the event is disabled until it is
 *   enabled again, which first indicates what is queued; statically
 *   enabled it stays enabled and the queued datagrams are indicated again
 *   together with the next arrival; any other status -> dropped, counted in
 *   sock->stat_ev_dropped.
 *   WskRelease(Socket, elem): elem and its Next chain AS IT IS NOW are all
 *   checked against the socket's list of elements the client holds before
 *   anything is freed; NULL, an element not held (already released, never
 *   indicated, another socket's) or a cycle -> STATUS_INVALID_PARAMETER and
 *   nothing is freed.
 *   Bound: a socket may have WSK_IND_MAX_HELD (256) elements out (handed to
 *   the client and not released).  At the bound nothing more is indicated;
 *   datagrams wait in the receive queue (WSK_RCVQ_MAX_DGRAMS / SO_RCVBUF)
 *   and beyond that are dropped as UdpRcvbufErrors.  WskRelease schedules
 *   an indication if datagrams are waiting.
 *   Elements still held at WskCloseSocket (a client bug, DDI: release
 *   before closing) are freed when the close completes.
 *   Device gone: each socket with the event enabled gets one callback with
 *   DataIndication NULL (on its completion queue, not after close).
 *   Enable/disable: see socket.c; static: WskControlClient
 *   (WSK_SET_STATIC_EVENT_CALLBACKS) before the registration's first
 *   socket, see provider.c.
 *
 * LOCKS (order: reg->lock / g_wsk.lock  ->  prov->socks_lock  ->
 *        sock->lock  ->  prov->lock).  No lock is held while calling a client
 *        completion routine, the stack (udp_send/udp_bind/udp_unbind/
 *        tx_req_cancel), or while waiting for a completion.
 *   prov->lock        run queue, every completion queue of the provider
 *   waiter->m         one synchronous hand-off (on the waiting caller's
 *                     stack; leaf lock)
 *   prov->socks_lock  the provider's list of live sockets (device-gone walk)
 *   sock->lock        the socket's state: bound address, options, pending
 *                     receives, queued datagrams, in-flight sends, event
 *                     state and the indications the client holds
 *   reg->lock         captures, sockets and calls counted per registration
 *   g_wsk.lock        (provider.c) the process-default stack and the list of
 *                     provider instances - the ONLY global mutable state of
 *                     the library: WskRegister has no other place to find the
 *                     stack a registration belongs to.
 * ===========================================================================
 */
#ifndef WSS_WSK_IMPL_H
#define WSS_WSK_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <ntddk.h>
#include <wsk.h>

#include "stack/stack.h"
#include "stack/trace.h"
#include "wskstack_wsk.h"

#define WSK_COMPL_THREADS 2
#define WSK_RCVQ_MAX_DGRAMS 64
#define WSK_RCVQ_DEFAULT_BYTES (256u * 1024u)
#define WSK_MAX_UDP4_PAYLOAD 65507u   /* 65535 - 20 (IPv4) - 8 (UDP) */
#define WSK_MAX_UDP6_PAYLOAD 65527u   /* 65535 - 8 (UDP): no jumbograms */
#define WSK_LINUX_AF_INET6 10          /* accepted beside the Windows 23 */
#define WSK_DEFAULT_TTL 64             /* the stack's default (IP_TTL get) */
#define WSK_IND_MAX_HELD 256           /* indication elements a socket may have out */
#define WSK_IND_BATCH 32               /* datagrams per WskReceiveFromEvent call */
#define WSK_IND_MAGIC 0x57534b49u      /* "WSKI" */

struct wsk_provider;
struct wsk_sock;
struct wsk_reg;

/* The WSK call an IRP belongs to, kept with the IRP's provider-side state
 * (struct wsk_cqe.call) so that its completion line can name it.  A byte
 * stored with the other fields of the entry: nothing extra when tracing is
 * off.  Names: wsk_call_name() (trace.c). */
enum wsk_call {
    WSK_CALL_NONE = 0,
    WSK_CALL_SOCKET,             /* WskSocket */
    WSK_CALL_SOCKET_CONNECT,     /* WskSocketConnect */
    WSK_CALL_CONTROL_CLIENT,     /* WskControlClient */
    WSK_CALL_GET_ADDRESS_INFO,   /* WskGetAddressInfo */
    WSK_CALL_GET_NAME_INFO,      /* WskGetNameInfo */
    WSK_CALL_BIND,               /* WskBind */
    WSK_CALL_SEND_TO,            /* WskSendTo */
    WSK_CALL_SEND_MESSAGES,      /* WskSendMessages */
    WSK_CALL_RECEIVE_FROM,       /* WskReceiveFrom */
    WSK_CALL_CONTROL_SOCKET,     /* WskControlSocket */
    WSK_CALL_GET_LOCAL_ADDRESS,  /* WskGetLocalAddress */
    WSK_CALL_CLOSE_SOCKET,       /* WskCloseSocket */
    WSK_CALL__COUNT
};

/* ---- completion queues (compl.c) ------------------------------------------ */
/* One completion to deliver: set IoStatus, IofCompleteRequest, then the
 * hooks.  Embedded in the operation it completes (or on the stack of a caller
 * that waits for it). */
struct wsk_waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
};
struct wsk_cqe {
    struct wsk_cqe *next;
    PIRP irp;
    NTSTATUS status;
    ULONG_PTR info;
    /* After the routine ran (completion thread, no lock): free the op
     * holding this entry.  NULL = nothing to free. */
    void (*release)(struct wsk_cqe *e);
    /* Non-NULL: a caller waits for this completion. */
    struct wsk_waiter *waiter;
    /* irp == NULL: not a completion but work to run in the queue's order
     * (event callbacks): work(e) is called instead, no lock held; e may be
     * queued again from inside work(). */
    void (*work)(struct wsk_cqe *e);
    /* The last entry this queue will ever see (the close IRP): release()
     * frees the queue itself, the completion thread must not touch it. */
    bool last;
    uint8_t call;              /* enum wsk_call of irp (its completed line) */
};

struct wsk_cq {
    struct wsk_cqe *head, *tail;
    struct wsk_cq *runq_next;
    bool scheduled;           /* on the run queue or being drained */
};

struct wsk_provider {
    struct wskstack *st;
    bool owns_stack;          /* the process-default stack: destroyed with us */
    unsigned refs;            /* registrations using us (g_wsk.lock) */
    struct wsk_provider *next;/* g_wsk.providers */

    pthread_mutex_t lock;     /* see LOCKS above */
    pthread_cond_t work_cv;   /* completion threads wait for work */
    struct wsk_cq *runq_head, *runq_tail;
    bool stopping;
    pthread_t threads[WSK_COMPL_THREADS];
    unsigned n_threads;
    struct wsk_cq cq;         /* client-level IRPs */

    pthread_mutex_t socks_lock;
    struct wsk_sock *socks;   /* live sockets, for the device-gone walk */
    atomic_bool gone;
    uint32_t trace_mask;      /* stack_trace_mask(st), read once at start */
};

int wsk_provider_start(struct wsk_provider *prov, struct wskstack *st);
void wsk_provider_stop(struct wsk_provider *prov);  /* joins the threads */
/* True if the calling thread is one of prov's completion threads. */
bool wsk_on_compl_thread(const struct wsk_provider *prov);
/* Queue e on q (takes prov->lock).  Caller may hold sock->lock. */
void wsk_cq_push(struct wsk_provider *prov, struct wsk_cq *q, struct wsk_cqe *e);
/* Same, caller holds prov->lock. */
void wsk_cq_push_locked(struct wsk_provider *prov, struct wsk_cq *q, struct wsk_cqe *e);

/* ---- the irp and wsk trace layers (issue 6, stack/trace.h; trace.c) --------
 * TL_IRP: one line per IRP event, every IRP-taking call (README "Tracing"):
 *   issued <Call> irp=<p>                        the call was entered
 *   pended <Call> irp=<p> STATUS_PENDING         returned STATUS_PENDING
 *   completed <Call> irp=<p> <STATUS> info=<n>   just before IoCompleteRequest
 *   cancel <Call> irp=<p>                        its cancel routine runs
 *   refused <Call> irp=<p> STATUS_INVALID_PARAMETER (<why>, not completed)
 * JSON: "event" as the first word, "irp", "call", "status" (not on issued /
 * cancel).  TL_WSK: one line per socket-level decision (WSK_TRACE_F adds
 * trace_fields: "call", "status", "counter", "src", "dst").
 * Off: one load and one unlikely branch (TRACE_ON); no argument is
 * evaluated, nothing is formatted.  Every call site goes through these. */
enum wsk_irp_ev {
    WSK_IRP_ISSUED, WSK_IRP_PENDED, WSK_IRP_COMPLETED, WSK_IRP_CANCEL,
    WSK_IRP_CANCEL_EARLY,      /* Irp->Cancel already set when the routine was armed */
    WSK_IRP_REFUSED
};
#define WSK_TRACE_IRP(prov, ev, call, irp, status, info)                                    \
    do {                                                                                  \
        if (TRACE_ON((prov)->trace_mask, TRACE_IRP))                                      \
            wsk_trace_irp((prov), (ev), (call), (irp), (status), (info));                 \
    } while (0)
#define WSK_TRACE(prov, dir, event, ...)                                                    \
    do {                                                                                  \
        if (TRACE_ON((prov)->trace_mask, TRACE_WSK))                                      \
            trace_event((prov)->st, TL_WSK, (dir), (event), NULL, __VA_ARGS__);           \
    } while (0)
#define WSK_TRACE_F(prov, dir, event, fields, ...)                                          \
    do {                                                                                  \
        if (TRACE_ON((prov)->trace_mask, TRACE_WSK))                                      \
            trace_event((prov)->st, TL_WSK, (dir), (event), (fields), __VA_ARGS__);       \
    } while (0)
/* True when the wsk layer is traced (to guard a block that prepares fields). */
#define WSK_TRACING(prov) TRACE_ON((prov)->trace_mask, TRACE_WSK)
/* The irp line of one event (behind WSK_TRACE_IRP only). */
void wsk_trace_irp(struct wsk_provider *prov, enum wsk_irp_ev ev, enum wsk_call call, PIRP irp,
                   NTSTATUS status, ULONG_PTR info);
/* "WskSendTo" ...; "-" for WSK_CALL_NONE. */
const char *wsk_call_name(enum wsk_call call);
/* "STATUS_SUCCESS" ..., else "0x%08x" (thread-local, valid until the next call). */
const char *wsk_status_str(NTSTATUS status);
/* Why the stack refused a -errno: "no route to the destination (ENETUNREACH)" ... */
const char *wsk_errno_why(int err);
/* "192.0.2.10:7000" / "[2001:db8::1]:7000" into buf (returns buf). */
const char *wsk_ep_str(const struct ip_addr *a, uint16_t port, char *buf, size_t len);
/* wsk lines of socket.c and of the datagram path (behind WSK_TRACING). */
void wsk_trace_bind(struct wsk_sock *s, NTSTATUS status, uint16_t port, const char *why);
void wsk_trace_fixed(struct wsk_sock *s, bool remote, bool clear, const struct ip_addr *a,
                     uint16_t port);
void wsk_trace_send_refused(struct wsk_sock *s, enum wsk_call call, NTSTATUS status,
                            const char *why);
void wsk_trace_send_addr(struct wsk_sock *s, enum wsk_call call, const struct udp_send_args *a,
                         const char *fixed, bool pktinfo, bool dst6);
void wsk_trace_rx_drop(struct wsk_sock *s, const struct pkt *p, const struct udp_rx_info *info,
                       const char *counter, const char *why);
void wsk_trace_rx_filtered(struct wsk_sock *s, const struct pkt *p,
                           const struct udp_rx_info *info);
void wsk_trace_rx_full(struct wsk_sock *s, const struct pkt *p, const struct udp_rx_info *info);

/* Take the IRP's stack location like a lower driver.  false: no location
 * left (the call then fails with STATUS_INVALID_PARAMETER, no completion). */
bool wsk_irp_take(PIRP irp);
/* Entry of an IRP-taking call: traces "issued", then wsk_irp_take; false
 * (traced "refused"): return STATUS_INVALID_PARAMETER, nothing completed. */
bool wsk_irp_accept(struct wsk_provider *prov, PIRP irp, enum wsk_call call);
/* Finish a call whose result is already known: the IRP is completed on q
 * with (status, info) and the call returns `status` after its routine ran -
 * or, on a completion thread of prov, IoMarkIrpPending + STATUS_PENDING.
 * The IRP's stack location must have been taken. */
NTSTATUS wsk_complete_sync(struct wsk_provider *prov, struct wsk_cq *q, enum wsk_call call,
                           PIRP irp, NTSTATUS status, ULONG_PTR info);
/* Same, with caller-provided entry hooks (close: release frees the socket). */
NTSTATUS wsk_complete_sync_e(struct wsk_provider *prov, struct wsk_cq *q, struct wsk_cqe *e);

/* ---- registrations (provider.c) --------------------------------------------- */
#define WSK_REG_MAGIC 0x57534b52u /* "WSKR" */
struct wsk_reg {
    uint32_t magic;
    WSK_CLIENT_NPI client;     /* copy of the client's NPI */
    struct wsk_provider *prov; /* NULL until the first capture (default stack) */
    bool on_default;           /* uses the process-default stack */
    pthread_mutex_t lock;
    pthread_cond_t cv;
    unsigned captures;         /* successful captures not yet released */
    unsigned sockets;          /* sockets created and not yet freed */
    unsigned in_calls;         /* capture calls in progress */
    bool deregistering;
    unsigned sockets_created;  /* ever (WSK_SET_STATIC_EVENT_CALLBACKS must come first) */
    ULONG static_events;       /* WSK_SET_STATIC_EVENT_CALLBACKS mask */
};
/* A socket was created / freed on reg (deregister waits for 0).  add
 * returns the WSK_SET_STATIC_EVENT_CALLBACKS mask for the new socket. */
ULONG wsk_reg_socket_add(struct wsk_reg *reg);
void wsk_reg_socket_del(struct wsk_reg *reg);

extern const WSK_PROVIDER_DISPATCH wsk_provider_dispatch;

/* ---- sockets (socket.c, dgram.c) ---------------------------------------------- */
enum wsk_sock_kind { WSK_SOCK_BASIC, WSK_SOCK_DGRAM };

/* One operation (IRP) the socket holds on to: a pending receive or a send
 * in flight.  Freed by its cqe's release hook after completion. */
struct wsk_op {
    struct wsk_cqe cqe;
    struct wsk_op *next, *prev;/* sock->recvq (doubly linked) / sock->sendq */
    struct wsk_sock *sock;
    PIRP irp;
    /* receive */
    WSK_BUF buf;
    PSOCKADDR remote;
    PULONG ctl_len;
    PCMSGHDR ctl;
    PULONG ctl_flags;
    /* send */
    struct tx_req txr;
    size_t len;                /* bytes of the datagram */
    bool armed;                /* caller finished: completion may be queued */
    bool ready;                /* result known (status in cqe) */
    bool txq;                  /* queued in the stack (UDP_SEND_QUEUED) */
    bool cancel_tried;         /* close already called tx_req_cancel */
    unsigned hold;             /* close holds it across tx_req_cancel */
    uint8_t cxl;               /* send cancel routine: WSK_CXL_* */
    bool completed;            /* completion ran while held: holder frees */
    /* WskSendMessages: one sub per datagram (allocated with the op) */
    unsigned nsub;
    unsigned sub_left;         /* subs without a result yet */
    bool submitted;            /* the caller has sent (or stopped) every sub */
    struct wsk_sub *subs;
};

/* wsk_op.cxl: the cancel routine of a send waiting for ARP (issue 3). */
#define WSK_CXL_NONE    0      /* not armed (or taken back by the completer) */
#define WSK_CXL_ARMED   1      /* IoSetCancelRoutine(Irp, wsk_send_cancel) */
#define WSK_CXL_RUNNING 2      /* IoCancelIrp took it: the routine runs; the
                                  op is not completed until it is done */

/* One datagram of a WskSendMessages. */
struct wsk_sub {
    struct tx_req txr;
    struct wsk_op *op;
    size_t len;
    NTSTATUS status;           /* STATUS_PENDING until known */
    bool queued;               /* waiting for ARP: close may cancel */
    bool cancel_tried;
};

/* A datagram waiting for a receive IRP. */
struct wsk_dgram {
    struct wsk_dgram *next;
    struct pkt *p;
    struct udp_rx_info info;
};

/* One WSK_DATAGRAM_INDICATION element (event.c).  di MUST be first: the
 * client gives back PWSK_DATAGRAM_INDICATION == struct wsk_ind *. */
struct wsk_ind {
    WSK_DATAGRAM_INDICATION di;
    uint32_t magic;
    struct wsk_ind *batch_next;  /* provider's own link within one callback */
    struct wsk_ind *held_next, *held_prev; /* sock->held list */
    bool mark;                   /* WskRelease validation */
    uint64_t batch;              /* the callback it was indicated in */
    struct wsk_dgram *d;         /* the datagram (packet buffer + info) */
    PMDL mdl;
    SOCKADDR_IN6 remote;         /* SOCKADDR_IN on AF_INET sockets */
    uint64_t ctl[16];            /* cmsgs (8-aligned) */
};

/* Socket options (values as WskGetOption returns them). */
struct wsk_opts {
    bool pktinfo;              /* IP_PKTINFO */
    bool recvtos;              /* IP_RECVTOS: IP_TOS cmsg */
    bool ecn;                  /* IP_ECN: IP_ECN cmsg */
    bool hoplimit;             /* IP_HOPLIMIT: IP_HOPLIMIT cmsg (TTL) */
    bool recverr;              /* IP_RECVERR: accepted, nothing delivered */
    bool df;                   /* IP_DONTFRAGMENT */
    bool broadcast;            /* SO_BROADCAST */
    bool reuseaddr;            /* SO_REUSEADDR */
    bool exclusive;            /* SO_EXCLUSIVEADDRUSE */
    int ttl;                   /* IP_TTL 1..255 (default 64) */
    int tos;                   /* IP_TOS 0..255 (default 0) */
    uint32_t unicast_if;       /* IP_UNICAST_IF (host order; 0 = none) */
    uint32_t rcvbuf;           /* SO_RCVBUF: receive queue byte bound */
    /* IPv6 level: applied to the IPv6 datagrams of AF_INET6 sockets */
    bool v6only, v6pktinfo, v6recvtclass, v6ecn, v6hoplimit, v6recverr, v6df;
    int v6hops, v6tclass;      /* 1..255 (64) / 0..255 (0) */
    uint32_t v6unicast_if;
};

struct wsk_sock {
    WSK_SOCKET wsk;            /* MUST be first: PWSK_SOCKET == struct wsk_sock * */
    enum wsk_sock_kind kind;
    ADDRESS_FAMILY family;     /* AF_INET or AF_INET6 (Linux's 10 stored as 23) */
    struct wsk_provider *prov;
    struct wsk_reg *reg;
    struct wsk_sock *next;     /* prov->socks */
    PVOID context;             /* SocketContext (for event callbacks later) */
    const VOID *client_dispatch;

    pthread_mutex_t lock;
    pthread_cond_t cv;         /* close waits for receives/sends to drain */
    struct udp_ep ep;
    bool bound;
    struct ip_addr local;      /* copy made at bind time */
    uint16_t lport;
    bool closing;
    bool gone;                 /* device disappeared */
    struct wsk_opts o;
    /* fixed addresses (SIO_WSK_SET_REMOTE_ADDRESS / _SENDTO_ADDRESS) */
    bool has_remote, has_sendto;
    struct ip_addr remote, sendto;
    uint16_t rport, sport;
    /* receive events (event.c) */
    bool ev_enabled;           /* WSK_EVENT_RECEIVE_FROM active */
    bool ev_static;            /* enabled by WSK_SET_STATIC_EVENT_CALLBACKS */
    bool ev_wait_new;          /* static + DATA_NOT_ACCEPTED: next arrival first */
    bool ind_scheduled;        /* ind_cqe is queued */
    bool gone_sent;            /* gone_cqe was queued */
    unsigned ev_inflight;      /* callbacks running */
    struct wsk_cqe ind_cqe;    /* work: indicate queued datagrams */
    struct wsk_cqe gone_cqe;   /* work: DataIndication NULL */
    struct wsk_ind *held;      /* elements out (handed to the client) */
    unsigned held_count;
    uint64_t ind_seq;          /* callbacks made (batch ids) */
    /* per-socket statistics (tests) */
    uint64_t stat_filtered;    /* dropped by the fixed remote address */
    uint64_t stat_ev_dropped;  /* dropped: callback returned another status */
    /* receive */
    struct wsk_op *recvq_head, *recvq_tail;
    struct wsk_dgram *dq_head, *dq_tail;
    unsigned dq_count;
    size_t dq_bytes;
    /* send */
    struct wsk_op *sendq_head, *sendq_tail;

    struct wsk_cq cq;
    struct wsk_cqe close_cqe;  /* the close IRP's completion (frees us) */
};

static inline struct wsk_sock *wsk_sock_of(PWSK_SOCKET s) { return (struct wsk_sock *)s; }

/* dgram.c */
extern const struct udp_ep_ops wsk_udp_ops;
NTSTATUS WSKAPI wsk_send_to(PWSK_SOCKET Socket, PWSK_BUF Buffer, ULONG Flags,
                            PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                            PCMSGHDR ControlInfo, PIRP Irp);
NTSTATUS WSKAPI wsk_send_messages(PWSK_SOCKET Socket, PWSK_BUF_LIST BufferList, ULONG Flags,
                                  PSOCKADDR RemoteAddress, ULONG ControlInfoLength,
                                  PCMSGHDR ControlInfo, PIRP Irp);
NTSTATUS WSKAPI wsk_receive_from(PWSK_SOCKET Socket, PWSK_BUF Buffer, ULONG Flags,
                                 PSOCKADDR RemoteAddress, PULONG ControlLength,
                                 PCMSGHDR ControlInfo, PULONG ControlFlags, PIRP Irp);
/* Send internals shared with sendmsgs.c (s->lock as each name says;
 * *_locked: held, wsk_send_fail_locked releases it). */
#define WSK_IOV_STACK 16       /* iovec entries on the stack (wsk_mdl_gather) */
struct iovec;
NTSTATUS wsk_mdl_gather(const WSK_BUF *b, struct iovec **iov, unsigned *cnt);
size_t wsk_max_payload(const struct wsk_sock *s);
NTSTATUS wsk_send_args(struct wsk_sock *s, enum wsk_call call, PSOCKADDR RemoteAddress,
                       ULONG ctl_len, PCMSGHDR ctl, struct udp_send_args *a, const char **why);
NTSTATUS wsk_send_fail_locked(struct wsk_sock *s, struct wsk_op *op, PIRP irp,
                              enum wsk_call call, NTSTATUS status, const char *why);
void wsk_send_flush_locked(struct wsk_sock *s);
bool wsk_send_arm_cancel_locked(struct wsk_op *op);
void wsk_send_cancel_txreqs_locked(struct wsk_sock *s, struct wsk_op *op);
const char *wsk_too_big_why(const struct wsk_sock *s); /* trace texts */
const char *wsk_mdl_why(NTSTATUS status);
/* A refusal with its reason for the wsk trace (stored only on failure). */
#define WSK_REFUSE(whyp, text, status)                                                       \
    do {                                                                                   \
        *(whyp) = (text);                                                                  \
        return (status);                                                                   \
    } while (0)
/* cmsg.c: the send cmsgs.  The source the caller chose (IN_PKTINFO /
 * IN6_PKTINFO; a dual-stack socket applies IN_PKTINFO to IPv4 / mapped
 * destinations, IN6_PKTINFO to the others), IP_TOS / IP_ECN into a->tos. */
struct wsk_pktsrc {
    bool has4, has6;
    struct ip_addr src4, src6;
    uint32_t if4, if6;
};
NTSTATUS wsk_send_cmsgs(const uint8_t *ctl, ULONG len, struct udp_send_args *a,
                        struct wsk_pktsrc *ps, const char **why);
/* Close helpers (sock->lock NOT held). */
void wsk_dgram_cancel_all(struct wsk_sock *s);
/* Device gone: fail pending receives (sock->lock held). */
void wsk_dgram_gone_locked(struct wsk_sock *s);
/* Free an op (its cqe release hook). */
void wsk_op_release(struct wsk_cqe *e);
/* Write the receive cmsgs the options ask for (IP_PKTINFO, IP_TOS, IP_ECN,
 * IP_HOPLIMIT, in that order) into ctl[0..cap).  Returns the bytes written;
 * *ctrunc = true if something did not fit (nothing partial is written). */
ULONG wsk_rx_cmsgs(struct wskstack *st, const struct wsk_opts *o, const struct udp_rx_info *info,
                   uint8_t *ctl, ULONG cap, bool *ctrunc);
/* Take the first queued datagram (s->lock held); NULL if none. */
struct wsk_dgram *wsk_dq_pop_locked(struct wsk_sock *s);

/* event.c */
/* A datagram was queued while the event is on: schedule an indication
 * (s->lock held). */
void wsk_event_kick_locked(struct wsk_sock *s);
/* SO_WSK_EVENT_CALLBACK (WskSetOption).  May take over the IRP (returns
 * STATUS_PENDING then); otherwise the caller completes it with the result. */
NTSTATUS wsk_event_control(struct wsk_sock *s, SIZE_T InputSize, PVOID InputBuffer, PIRP Irp);
/* Check a WSK_EVENT_CALLBACK_CONTROL (NpiId); false: invalid. */
bool wsk_event_ctl_get(SIZE_T InputSize, const void *InputBuffer, ULONG *mask);
NTSTATUS WSKAPI wsk_release_indications(PWSK_SOCKET Socket,
                                        PWSK_DATAGRAM_INDICATION DatagramIndication);
/* Device gone: queue the NULL indication (s->lock held). */
void wsk_event_gone_locked(struct wsk_sock *s);
/* Close completed: free elements the client still holds (no lock). */
void wsk_event_sock_fini(struct wsk_sock *s);
/* Socket creation: set up the work entries and the static event. */
void wsk_event_sock_init(struct wsk_sock *s, ULONG static_events);

/* socket.c */
void wsk_opts_default(struct wsk_opts *o);
NTSTATUS WSKAPI wsk_socket(PWSK_CLIENT Client, ADDRESS_FAMILY AddressFamily, USHORT SocketType,
                           ULONG Protocol, ULONG Flags, PVOID SocketContext, const VOID *Dispatch,
                           PEPROCESS OwningProcess, PETHREAD OwningThread,
                           PSECURITY_DESCRIPTOR SecurityDescriptor, PIRP Irp);
void wsk_provider_gone(void *ctx);   /* stack_set_gone_cb hook */

/* ---- helpers shared by the files ------------------------------------------------ */
NTSTATUS wsk_errno_status(int err);           /* status.c: -errno -> NTSTATUS */

/* SOCKADDR_IN <-> ip_addr/port without <arpa/inet.h> (Windows names clash). */
static inline uint16_t wsk_be16(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)((b[0] << 8) | b[1]);
}
static inline uint32_t wsk_be32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}
static inline void wsk_put_be16(void *p, uint16_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}
static inline void wsk_put_be32(void *p, uint32_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}
/* Read an AF_INET SOCKADDR_IN (false: not AF_INET). */
bool wsk_sockaddr_in_get(const SOCKADDR *sa, struct ip_addr *a, uint16_t *port);
void wsk_sockaddr_in_put(SOCKADDR *sa, const struct ip_addr *a, uint16_t port);
/* The socket's family (socket.c): SOCKADDR_IN or SOCKADDR_IN6 (issue 4).
 * get: STATUS_INVALID_PARAMETER (NULL / other family) or
 * STATUS_INVALID_ADDRESS (link-local with a foreign sin6_scope_id).  put
 * on AF_INET6: IPv4 addresses as ::ffff:a.b.c.d, link-local with the
 * stack's ifindex as sin6_scope_id (28 bytes written). */
NTSTATUS wsk_sockaddr_get(const struct wsk_sock *s, const SOCKADDR *sa, struct ip_addr *a,
                          uint16_t *port);
void wsk_sockaddr_put(const struct wsk_sock *s, SOCKADDR *sa, const struct ip_addr *a,
                      uint16_t port);
bool wsk_ip_is_v4mapped(const struct ip_addr *a);
/* a as the socket sees it: on AF_INET6 an IPv4 address becomes mapped. */
struct ip_addr wsk_ip_for_sock(const struct wsk_sock *s, const struct ip_addr *a);

/* Client's WskReceiveFromEvent of s, or NULL. */
static inline PFN_WSK_RECEIVE_FROM_EVENT wsk_rx_event_fn(const struct wsk_sock *s)
{
    const WSK_CLIENT_DATAGRAM_DISPATCH *d = s->client_dispatch;
    return d != NULL ? d->WskReceiveFromEvent : NULL;
}

#endif /* WSS_WSK_IMPL_H */
