/* SPDX-License-Identifier: MIT */
/*
 * ws_impl.h - user-mode Winsock over wskstack (issue 5): private interfaces.
 *
 * The layer is a WSK CLIENT of the stack, like any driver:
 *   ws_core.c   WSAStartup/WSACleanup (WskRegister or WsksRegisterOnStack +
 *               WskCaptureProviderNPI), the SOCKET table, last error, byte
 *               order, inet_pton/inet_ntop, the NTSTATUS -> WSA table
 *   ws_wait.c   per-thread APC queues, WSAEVENTs, SleepEx,
 *               WSAWaitForMultipleEvents
 *   ws_sock.c   socket/WSASocket, bind, getsockname, closesocket, shutdown,
 *               setsockopt/getsockopt, ioctlsocket, WSAIoctl
 *   ws_io.c     WSASendMsg, WSASendTo, sendto, WSARecvMsg, WSARecvFrom,
 *               recvfrom, WSAGetOverlappedResult
 *
 * GLOBAL STATE: g_ws (ws_core.c) - the startup count, the WSK registration
 * and provider NPI, and the SOCKET table (WS_MAX_SOCKETS slots; a SOCKET is
 * WS_HANDLE_BASE + 4 * slot).  It is the one global of this layer: Winsock's
 * API has no context argument, a SOCKET is a process-wide integer.
 *
 * LOCKS (order): g_ws.lock -> sock->m -> op->m ; event->m -> thread->m.
 * No lock is held across a WSK call or a wait for a completion.
 */
#ifndef WSS_WS_IMPL_H
#define WSS_WS_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <ntddk.h>
#include <wsk.h>

#include "winsock2.h"
#include "ws2tcpip.h"
#include "mswsock.h"
#include "wskstack_winsock.h"
#include "wskstack_wsk.h"

#define WS_MAX_SOCKETS 1024
#define WS_HANDLE_BASE 0x100
#define WS_MAX_UDP4 65507u
#define WS_MAX_UDP6 65527u
#define WS_SYNC_TIMEOUT_MS 10000u   /* bind/option/close IRPs (never reached) */
#define WS_NB_GRACE_MS 20u          /* non-blocking send: see ws_io.c */

/* ---- threads: APC queue and waiter (ws_wait.c) ---- */
struct ws_apc {
    struct ws_apc *next;
    LPWSAOVERLAPPED_COMPLETION_ROUTINE fn;
    DWORD err, bytes, flags;
    LPWSAOVERLAPPED ov;
};
struct ws_thread {
    atomic_int refs;
    pthread_mutex_t m;
    pthread_cond_t c;
    bool kicked;            /* an event it waits for was set, or an APC came */
    bool alive;             /* false once the thread exited: APCs are dropped */
    bool in_apc;            /* owner thread only: running a routine */
    struct ws_apc *head, *tail;
};
struct ws_thread *ws_thread_self(void);       /* never NULL (aborts on OOM) */
void ws_thread_put(struct ws_thread *t);
/* Queue a completion routine call to t (any thread). */
void ws_apc_queue(struct ws_thread *t, LPWSAOVERLAPPED_COMPLETION_ROUTINE fn, DWORD err,
                  DWORD bytes, LPWSAOVERLAPPED ov);

/* ---- events (ws_wait.c) ---- */
#define WS_EVENT_MAGIC 0x57534145u /* "WSAE" */
struct ws_evwait {
    struct ws_evwait *next;
    struct ws_thread *t;
};
struct ws_event {
    uint32_t magic;
    atomic_int refs;
    pthread_mutex_t m;
    bool signaled;
    struct ws_evwait *waiters;
};
struct ws_event *ws_event_get(WSAEVENT h);    /* +1 ref, NULL if invalid */
void ws_event_put(struct ws_event *e);
void ws_event_set(struct ws_event *e, bool on);

/* ---- sockets (ws_sock.c / ws_core.c) ---- */
struct ws_sock {
    atomic_int refs;
    SOCKET handle;
    PWSK_SOCKET wsk;
    ADDRESS_FAMILY af;
    bool overlapped;          /* WSA_FLAG_OVERLAPPED (socket() sets it) */
    pthread_mutex_t m;
    pthread_cond_t c;         /* broadcast on every completion and call end */
    bool nonblocking;         /* FIONBIO */
    DWORD sndtimeo, rcvtimeo; /* ms, 0 = forever */
    bool shut_send, shut_recv;
    bool bound;
    bool closing;
    bool broadcast;           /* SO_BROADCAST as last set (also the provider's) */
    unsigned calls;           /* WSK calls in progress (close waits for 0) */
    unsigned sends_out;       /* send IRPs not yet completed */
};

/* Look a SOCKET up; +1 ref.  NULL with the error set (WSANOTINITIALISED or
 * WSAENOTSOCK). */
struct ws_sock *ws_sock_get(SOCKET s);
void ws_sock_put(struct ws_sock *so);
/* A WSK call on so->wsk may start: false if closing (error WSAENOTSOCK). */
bool ws_call_begin(struct ws_sock *so);
void ws_call_end(struct ws_sock *so);
/* Is Winsock started?  If not, sets WSANOTINITIALISED. */
bool ws_started(void);
const WSK_PROVIDER_NPI *ws_npi(void);
/* Table management (ws_core.c). */
SOCKET ws_table_add(struct ws_sock *so);      /* INVALID_SOCKET when full */
struct ws_sock *ws_table_remove(SOCKET s);    /* the table's ref, or NULL */
/* Close every socket still open (WSACleanup). */
void ws_close_all(void);
void ws_sock_destroy(struct ws_sock *so);     /* ws_sock.c: WskCloseSocket */

/* ---- errors ---- */
int ws_err(int e);                 /* WSASetLastError(e); returns SOCKET_ERROR */
int ws_status_to_wsa(NTSTATUS s);  /* WSK-SPEC 6.4, one table */

/* ---- synchronous WSK calls (ws_sock.c) ---- */
struct ws_sync {
    KEVENT ev;
    PIRP irp;
};
PIRP ws_sync_begin(struct ws_sync *y);
/* Wait for the completion of a call that returned r; free the IRP.  Returns
 * the final status; *info = IoStatus.Information (may be NULL). */
NTSTATUS ws_sync_end(struct ws_sync *y, NTSTATUS r, ULONG_PTR *info);
/* WskBind so to the wildcard of its family, port 0 (implicit bind). */
int ws_bind_wildcard(struct ws_sock *so);

static inline const WSK_PROVIDER_DATAGRAM_DISPATCH *ws_dg(const struct ws_sock *so)
{
    return (const WSK_PROVIDER_DATAGRAM_DISPATCH *)so->wsk->Dispatch;
}

/* io (ws_io.c) */
int WSAAPI ws_recvmsg(SOCKET s, LPWSAMSG lpMsg, LPDWORD lpdwNumberOfBytesRecvd,
                      LPWSAOVERLAPPED lpOverlapped,
                      LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

#endif /* WSS_WS_IMPL_H */
