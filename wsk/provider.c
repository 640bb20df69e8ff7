/* SPDX-License-Identifier: MIT */
/*
 * provider.c - registration (WskRegister ... WskDeregister), provider
 * instances, the process-default stack, and the client-level dispatch
 * (WSK_PROVIDER_DISPATCH).
 *
 * GLOBAL STATE (the only mutable global of the library, g_wsk below):
 *   WskRegister() gets nothing but the client's NPI, so the registration
 *   bookkeeping must live somewhere the next WskCaptureProviderNPI() can
 *   find it: the process-default stack (created on the first capture, shared
 *   by every WskRegister of the process, destroyed with the last
 *   registration), and the list of provider instances (one per stack,
 *   shared by all registrations on that stack, WsksRegisterOnStack).
 *   Everything else hangs off a provider instance or a socket.
 *
 * Statuses chosen here (README API section):
 *   WskRegister / WsksRegisterOnStack: NULL argument -> STATUS_INVALID_PARAMETER;
 *     no memory / threads -> STATUS_INSUFFICIENT_RESOURCES.
 *   WskCaptureProviderNPI
 *     client Dispatch->Version major != 1     -> STATUS_NOINTERFACE
 *     WskDeregister called (also wakes waiters) -> STATUS_DEVICE_NOT_READY
 *     default stack being created by another thread: WSK_NO_WAIT ->
 *       STATUS_DEVICE_NOT_READY; a timeout (ms) that expires ->
 *       STATUS_DEVICE_NOT_READY; WSK_INFINITE_WAIT waits.
 *     The first capture creates the default stack on the calling thread
 *     (whatever WaitTimeout says: win-net-test captures with WSK_NO_WAIT).
 *     WSKSTACK_CONFIG unset = empty text (all defaults).  A parse or create
 *     error is printed to stderr ("wskstack: WSKSTACK_CONFIG: <message
 *     naming the key>") and the capture fails with STATUS_DEVICE_NOT_READY;
 *     nothing half-configured remains, and a later capture tries again.
 *   WskQueryProviderCharacteristics: 1.0 .. 1.0.
 *   WskControlClient: WSK_TRANSPORT_LIST_QUERY (one entry: AF_INET,
 *     SOCK_DGRAM, IPPROTO_UDP; too small a buffer -> STATUS_BUFFER_OVERFLOW
 *     with the size needed), WSK_TDI_BEHAVIOR (accepted, ignored) ->
 *     STATUS_SUCCESS; WSK_SET_STATIC_EVENT_CALLBACKS: a
 *     WSK_EVENT_CALLBACK_CONTROL with NpiId = &NPI_WSK_INTERFACE_ID and a
 *     non-empty mask of event bits (no WSK_EVENT_DISABLE) -> STATUS_SUCCESS,
 *     the mask replaces an earlier one; bad input ->
 *     STATUS_INVALID_PARAMETER; after the registration created a socket ->
 *     STATUS_INVALID_DEVICE_STATE (DOCS: before any socket).  Sockets
 *     created afterwards get the bits of their category (datagram:
 *     WSK_EVENT_RECEIVE_FROM, if their client dispatch has the callback);
 *     these cannot be disabled.  Everything else -> STATUS_NOT_SUPPORTED.
 *   WskSocketConnect, WskGetAddressInfo, WskGetNameInfo -> STATUS_NOT_SUPPORTED.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsk/wsk_impl.h"

WSS_EXPORT const NPIID NPI_WSK_INTERFACE_ID = {
    0x2227E803, 0x8D8B, 0x11D4, {0xAB, 0xAD, 0x00, 0x90, 0x27, 0x71, 0x9E, 0x09}};

enum wsk_def_state { WSK_DEF_DOWN, WSK_DEF_CREATING, WSK_DEF_UP };

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cv;               /* default stack state changes */
    enum wsk_def_state def_state;
    struct wsk_provider *def;        /* provider of the default stack (UP) */
    unsigned def_regs;               /* live WskRegister registrations */
    struct wsk_provider *providers;  /* one per stack */
} g_wsk = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
    .def_state = WSK_DEF_DOWN,
};

/* ---- provider instances ---------------------------------------------------------- */
/* Find or start the provider of st and take a reference.  g_wsk.lock held. */
static struct wsk_provider *wsk_provider_get_locked(struct wskstack *st, bool owns_stack)
{
    for (struct wsk_provider *p = g_wsk.providers; p; p = p->next) {
        if (p->st == st) {
            p->refs++;
            return p;
        }
    }
    struct wsk_provider *p = malloc(sizeof(*p));
    if (p == NULL)
        return NULL;
    if (wsk_provider_start(p, st) != 0) {
        free(p);
        return NULL;
    }
    p->owns_stack = owns_stack;
    p->refs = 1;
    p->next = g_wsk.providers;
    g_wsk.providers = p;
    stack_set_gone_cb(st, wsk_provider_gone, p);
    return p;
}

static void wsk_provider_put(struct wsk_provider *p)
{
    pthread_mutex_lock(&g_wsk.lock);
    bool last = --p->refs == 0;
    if (last) {
        for (struct wsk_provider **pp = &g_wsk.providers; *pp; pp = &(*pp)->next) {
            if (*pp == p) {
                *pp = p->next;
                break;
            }
        }
    }
    pthread_mutex_unlock(&g_wsk.lock);
    if (!last)
        return;
    /* Every socket is closed (WskDeregister waited for it). */
    stack_set_gone_cb(p->st, NULL, NULL);
    if (p->owns_stack)
        wskstack_destroy(p->st); /* joins the receive thread first */
    wsk_provider_stop(p);
    free(p);
}

/* ---- registrations ------------------------------------------------------------------ */
static struct wsk_reg *wsk_reg_of(PWSK_REGISTRATION r)
{
    if (r == NULL)
        return NULL;
    struct wsk_reg *reg = r->ReservedRegistrationContext;
    if (reg == NULL || reg->magic != WSK_REG_MAGIC)
        return NULL;
    return reg;
}

static struct wsk_reg *wsk_reg_new(PWSK_CLIENT_NPI npi, PWSK_REGISTRATION r)
{
    if (npi == NULL || npi->Dispatch == NULL || r == NULL)
        return NULL;
    struct wsk_reg *reg = calloc(1, sizeof(*reg));
    if (reg == NULL)
        return NULL;
    reg->magic = WSK_REG_MAGIC;
    reg->client = *npi;
    pthread_mutex_init(&reg->lock, NULL);
    pthread_cond_init(&reg->cv, NULL);
    return reg;
}

static void wsk_reg_free(struct wsk_reg *reg)
{
    reg->magic = 0;
    pthread_cond_destroy(&reg->cv);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static void wsk_reg_publish(struct wsk_reg *reg, PWSK_REGISTRATION r)
{
    memset(r, 0, sizeof(*r));
    r->ReservedRegistrationState = WSK_REG_MAGIC;
    r->ReservedRegistrationContext = reg;
}

WSS_EXPORT NTSTATUS WskRegister(PWSK_CLIENT_NPI WskClientNpi, PWSK_REGISTRATION WskRegistration)
{
    if (WskClientNpi == NULL || WskClientNpi->Dispatch == NULL || WskRegistration == NULL)
        return STATUS_INVALID_PARAMETER;
    struct wsk_reg *reg = wsk_reg_new(WskClientNpi, WskRegistration);
    if (reg == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    reg->on_default = true;
    pthread_mutex_lock(&g_wsk.lock);
    g_wsk.def_regs++;
    pthread_mutex_unlock(&g_wsk.lock);
    wsk_reg_publish(reg, WskRegistration);
    return STATUS_SUCCESS;
}

WSKSTACK_API NTSTATUS WsksRegisterOnStack(struct wskstack *st, PWSK_CLIENT_NPI WskClientNpi,
                                          PWSK_REGISTRATION WskRegistration)
{
    if (st == NULL || WskClientNpi == NULL || WskClientNpi->Dispatch == NULL ||
        WskRegistration == NULL)
        return STATUS_INVALID_PARAMETER;
    struct wsk_reg *reg = wsk_reg_new(WskClientNpi, WskRegistration);
    if (reg == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    pthread_mutex_lock(&g_wsk.lock);
    reg->prov = wsk_provider_get_locked(st, false);
    pthread_mutex_unlock(&g_wsk.lock);
    if (reg->prov == NULL) {
        wsk_reg_free(reg);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    wsk_reg_publish(reg, WskRegistration);
    return STATUS_SUCCESS;
}

ULONG wsk_reg_socket_add(struct wsk_reg *reg)
{
    pthread_mutex_lock(&reg->lock);
    reg->sockets++;
    reg->sockets_created++;
    ULONG ev = reg->static_events;
    pthread_mutex_unlock(&reg->lock);
    return ev;
}

void wsk_reg_socket_del(struct wsk_reg *reg)
{
    pthread_mutex_lock(&reg->lock);
    reg->sockets--;
    pthread_cond_broadcast(&reg->cv);
    pthread_mutex_unlock(&reg->lock);
}

/* ---- the process-default stack ------------------------------------------------------- */
static struct wsk_provider *wsk_default_create(void)
{
    const char *text = getenv("WSKSTACK_CONFIG");
    char err[256] = "";
    struct wskstack *st = NULL;
    struct wskstack_config *cfg = wskstack_config_new();
    if (cfg == NULL) {
        fprintf(stderr, "wskstack: out of memory creating the default stack\n");
        return NULL;
    }
    if (wskstack_config_parse(cfg, text ? text : "", err, sizeof(err)) != 0) {
        fprintf(stderr, "wskstack: %s\n", err); /* names the key */
        wskstack_config_free(cfg);
        return NULL;
    }
    int rc = wskstack_create(cfg, &st, err, sizeof(err));
    wskstack_config_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "wskstack: WSKSTACK_CONFIG: cannot create the stack: %s\n", err);
        return NULL;
    }
    pthread_mutex_lock(&g_wsk.lock);
    struct wsk_provider *p = wsk_provider_get_locked(st, true);
    pthread_mutex_unlock(&g_wsk.lock);
    if (p == NULL) {
        fprintf(stderr, "wskstack: cannot start the completion threads\n");
        wskstack_destroy(st);
    }
    return p;
}

static bool wsk_reg_dying(struct wsk_reg *reg)
{
    pthread_mutex_lock(&reg->lock);
    bool d = reg->deregistering;
    pthread_mutex_unlock(&reg->lock);
    return d;
}

/* Make the default stack available to reg; see the status table above. */
static NTSTATUS wsk_default_acquire(struct wsk_reg *reg, ULONG timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms != WSK_INFINITE_WAIT) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&g_wsk.lock);
    for (;;) {
        if (wsk_reg_dying(reg)) {
            pthread_mutex_unlock(&g_wsk.lock);
            return STATUS_DEVICE_NOT_READY;
        }
        if (g_wsk.def_state == WSK_DEF_UP) {
            struct wsk_provider *p = g_wsk.def;
            pthread_mutex_unlock(&g_wsk.lock);
            pthread_mutex_lock(&reg->lock);
            reg->prov = p;
            pthread_mutex_unlock(&reg->lock);
            return STATUS_SUCCESS;
        }
        if (g_wsk.def_state == WSK_DEF_DOWN) {
            g_wsk.def_state = WSK_DEF_CREATING;
            pthread_mutex_unlock(&g_wsk.lock);
            struct wsk_provider *p = wsk_default_create();
            pthread_mutex_lock(&g_wsk.lock);
            g_wsk.def = p;
            g_wsk.def_state = p ? WSK_DEF_UP : WSK_DEF_DOWN;
            pthread_cond_broadcast(&g_wsk.cv);
            if (p == NULL) {
                pthread_mutex_unlock(&g_wsk.lock);
                return STATUS_DEVICE_NOT_READY;
            }
            continue;
        }
        /* Another thread is creating it. */
        if (timeout_ms == WSK_NO_WAIT) {
            pthread_mutex_unlock(&g_wsk.lock);
            return STATUS_DEVICE_NOT_READY;
        }
        if (timeout_ms == WSK_INFINITE_WAIT) {
            pthread_cond_wait(&g_wsk.cv, &g_wsk.lock);
        } else if (pthread_cond_timedwait(&g_wsk.cv, &g_wsk.lock, &deadline) == ETIMEDOUT &&
                   g_wsk.def_state != WSK_DEF_UP) {
            pthread_mutex_unlock(&g_wsk.lock);
            return STATUS_DEVICE_NOT_READY;
        }
    }
}

WSS_EXPORT NTSTATUS WskCaptureProviderNPI(PWSK_REGISTRATION WskRegistration, ULONG WaitTimeout,
                                          PWSK_PROVIDER_NPI WskProviderNpi)
{
    struct wsk_reg *reg = wsk_reg_of(WskRegistration);
    if (reg == NULL || WskProviderNpi == NULL)
        return STATUS_INVALID_PARAMETER;
    if (WSK_MAJOR_VERSION(reg->client.Dispatch->Version) != 1)
        return STATUS_NOINTERFACE;

    pthread_mutex_lock(&reg->lock);
    if (reg->deregistering) {
        pthread_mutex_unlock(&reg->lock);
        return STATUS_DEVICE_NOT_READY;
    }
    reg->in_calls++;
    pthread_mutex_unlock(&reg->lock);

    NTSTATUS status = STATUS_SUCCESS;
    if (reg->on_default)
        status = wsk_default_acquire(reg, WaitTimeout);

    pthread_mutex_lock(&reg->lock);
    if (NT_SUCCESS(status) && reg->deregistering)
        status = STATUS_DEVICE_NOT_READY;
    if (NT_SUCCESS(status))
        reg->captures++;
    reg->in_calls--;
    pthread_cond_broadcast(&reg->cv);
    pthread_mutex_unlock(&reg->lock);

    if (NT_SUCCESS(status)) {
        WskProviderNpi->Client = (PWSK_CLIENT)reg;
        WskProviderNpi->Dispatch = &wsk_provider_dispatch;
    }
    return status;
}

WSKSTACK_API struct wskstack *WsksGetStack(PWSK_REGISTRATION WskRegistration)
{
    struct wsk_reg *reg = wsk_reg_of(WskRegistration);
    if (reg == NULL)
        return NULL;
    pthread_mutex_lock(&reg->lock);
    struct wskstack *st = reg->prov != NULL ? reg->prov->st : NULL;
    pthread_mutex_unlock(&reg->lock);
    return st;
}

WSS_EXPORT VOID WskReleaseProviderNPI(PWSK_REGISTRATION WskRegistration)
{
    struct wsk_reg *reg = wsk_reg_of(WskRegistration);
    if (reg == NULL)
        return;
    pthread_mutex_lock(&reg->lock);
    if (reg->captures > 0)
        reg->captures--;
    pthread_cond_broadcast(&reg->cv);
    pthread_mutex_unlock(&reg->lock);
}

WSS_EXPORT NTSTATUS WskQueryProviderCharacteristics(
    PWSK_REGISTRATION WskRegistration, PWSK_PROVIDER_CHARACTERISTICS WskProviderCharacteristics)
{
    if (wsk_reg_of(WskRegistration) == NULL || WskProviderCharacteristics == NULL)
        return STATUS_INVALID_PARAMETER;
    WskProviderCharacteristics->HighestVersion = MAKE_WSK_VERSION(1, 0);
    WskProviderCharacteristics->LowestVersion = MAKE_WSK_VERSION(1, 0);
    return STATUS_SUCCESS;
}

WSS_EXPORT VOID WskDeregister(PWSK_REGISTRATION WskRegistration)
{
    struct wsk_reg *reg = wsk_reg_of(WskRegistration);
    if (reg == NULL)
        return;
    /* Wake captures blocked on the default stack: they fail with
     * STATUS_DEVICE_NOT_READY. */
    pthread_mutex_lock(&g_wsk.lock);
    pthread_mutex_lock(&reg->lock);
    reg->deregistering = true;
    pthread_mutex_unlock(&reg->lock);
    pthread_cond_broadcast(&g_wsk.cv);
    pthread_mutex_unlock(&g_wsk.lock);

    /* WSK: block until every capture is released, every capture call has
     * returned and every socket of the registration is closed. */
    pthread_mutex_lock(&reg->lock);
    while (reg->captures > 0 || reg->sockets > 0 || reg->in_calls > 0)
        pthread_cond_wait(&reg->cv, &reg->lock);
    struct wsk_provider *p = reg->prov;
    pthread_mutex_unlock(&reg->lock);

    if (reg->on_default) {
        pthread_mutex_lock(&g_wsk.lock);
        struct wsk_provider *def = NULL;
        if (--g_wsk.def_regs == 0 && g_wsk.def_state == WSK_DEF_UP) {
            def = g_wsk.def;
            g_wsk.def = NULL;
            g_wsk.def_state = WSK_DEF_DOWN;
        }
        pthread_mutex_unlock(&g_wsk.lock);
        if (def)
            wsk_provider_put(def);
    } else if (p) {
        wsk_provider_put(p);
    }
    WskRegistration->ReservedRegistrationContext = NULL;
    WskRegistration->ReservedRegistrationState = 0;
    wsk_reg_free(reg);
}

/* ---- client-level dispatch ------------------------------------------------------------- */
static struct wsk_provider *wsk_client_prov(PWSK_CLIENT Client)
{
    struct wsk_reg *reg = (struct wsk_reg *)Client;
    if (reg == NULL || reg->magic != WSK_REG_MAGIC)
        return NULL;
    return reg->prov;
}

/* A client-level call that is not implemented: an IRP is required and is
 * completed with STATUS_NOT_SUPPORTED. */
static NTSTATUS wsk_client_not_supported(PWSK_CLIENT Client, enum wsk_call call, PIRP Irp)
{
    struct wsk_provider *prov = wsk_client_prov(Client);
    if (prov == NULL || !wsk_irp_accept(prov, Irp, call))
        return STATUS_INVALID_PARAMETER;
    return wsk_complete_sync(prov, &prov->cq, call, Irp, STATUS_NOT_SUPPORTED, 0);
}

static NTSTATUS WSKAPI wsk_control_client(PWSK_CLIENT Client, ULONG ControlCode, SIZE_T InputSize,
                                          PVOID InputBuffer, SIZE_T OutputSize, PVOID OutputBuffer,
                                          SIZE_T *OutputSizeReturned, PIRP Irp)
{
    struct wsk_provider *prov = wsk_client_prov(Client);
    if (prov == NULL)
        return STATUS_INVALID_PARAMETER;
    /* The IRP is optional (a NULL one: the result is only returned); a bad
     * one is refused before anything is done. */
    if (Irp != NULL && !wsk_irp_accept(prov, Irp, WSK_CALL_CONTROL_CLIENT))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = STATUS_NOT_SUPPORTED;
    SIZE_T out = 0;
    switch (ControlCode) {
    case WSK_TRANSPORT_LIST_QUERY: {
        WSK_TRANSPORT t;
        memset(&t, 0, sizeof(t));
        t.Version = MAKE_WSK_VERSION(1, 0);
        t.SocketType = SOCK_DGRAM;
        t.Protocol = IPPROTO_UDP;
        t.AddressFamily = AF_INET;
        out = sizeof(t);
        if (OutputBuffer == NULL || OutputSize < sizeof(t)) {
            status = STATUS_BUFFER_OVERFLOW; /* *OutputSizeReturned = size needed */
        } else {
            memcpy(OutputBuffer, &t, sizeof(t));
            status = STATUS_SUCCESS;
        }
        break;
    }
    case WSK_TDI_BEHAVIOR:
        status = STATUS_SUCCESS; /* deprecated; nothing to bypass here */
        break;
    case WSK_SET_STATIC_EVENT_CALLBACKS: {
        /* DOCS wsk-set-static-event-callbacks: before any socket of the
         * client exists; the mask may hold bits of several categories. */
        struct wsk_reg *reg = (struct wsk_reg *)Client;
        ULONG mask = 0;
        const ULONG known = WSK_EVENT_SEND_BACKLOG | WSK_EVENT_RECEIVE | WSK_EVENT_DISCONNECT |
                            WSK_EVENT_RECEIVE_FROM | WSK_EVENT_ACCEPT;
        if (!wsk_event_ctl_get(InputSize, InputBuffer, &mask) || mask == 0 || (mask & ~known)) {
            status = STATUS_INVALID_PARAMETER;
            break;
        }
        pthread_mutex_lock(&reg->lock);
        if (reg->sockets_created > 0) {
            status = STATUS_INVALID_DEVICE_STATE;
        } else {
            reg->static_events = mask;
            status = STATUS_SUCCESS;
        }
        pthread_mutex_unlock(&reg->lock);
        break;
    }
    default:
        break;
    }
    if (OutputSizeReturned != NULL)
        *OutputSizeReturned = out;
    if (Irp == NULL)
        return status;
    return wsk_complete_sync(prov, &prov->cq, WSK_CALL_CONTROL_CLIENT, Irp, status,
                             NT_SUCCESS(status) ? out : 0);
}

static NTSTATUS WSKAPI wsk_socket_connect(PWSK_CLIENT Client, USHORT SocketType, ULONG Protocol,
                                          PSOCKADDR LocalAddress, PSOCKADDR RemoteAddress,
                                          ULONG Flags, PVOID SocketContext,
                                          const WSK_CLIENT_CONNECTION_DISPATCH *Dispatch,
                                          PEPROCESS OwningProcess, PETHREAD OwningThread,
                                          PSECURITY_DESCRIPTOR SecurityDescriptor, PIRP Irp)
{
    return wsk_client_not_supported(Client, WSK_CALL_SOCKET_CONNECT, Irp);
}

static NTSTATUS WSKAPI wsk_get_address_info(PWSK_CLIENT Client, PUNICODE_STRING NodeName,
                                            PUNICODE_STRING ServiceName, ULONG NameSpace,
                                            GUID *Provider, PADDRINFOEXW Hints,
                                            PADDRINFOEXW *Result, PEPROCESS OwningProcess,
                                            PETHREAD OwningThread, PIRP Irp)
{
    return wsk_client_not_supported(Client, WSK_CALL_GET_ADDRESS_INFO, Irp);
}

static VOID WSKAPI wsk_free_address_info(PWSK_CLIENT Client, PADDRINFOEXW AddrInfo)
{
    /* WskGetAddressInfo never returns a list. */
}

static NTSTATUS WSKAPI wsk_get_name_info(PWSK_CLIENT Client, PSOCKADDR SockAddr,
                                         ULONG SockAddrLength, PUNICODE_STRING NodeName,
                                         PUNICODE_STRING ServiceName, ULONG Flags,
                                         PEPROCESS OwningProcess, PETHREAD OwningThread, PIRP Irp)
{
    return wsk_client_not_supported(Client, WSK_CALL_GET_NAME_INFO, Irp);
}

const WSK_PROVIDER_DISPATCH wsk_provider_dispatch = {
    .Version = MAKE_WSK_VERSION(1, 0),
    .Reserved = 0,
    .WskSocket = wsk_socket,
    .WskSocketConnect = wsk_socket_connect,
    .WskControlClient = wsk_control_client,
    .WskGetAddressInfo = wsk_get_address_info,
    .WskFreeAddressInfo = wsk_free_address_info,
    .WskGetNameInfo = wsk_get_name_info,
};
