/* SPDX-License-Identifier: MIT */
/*
 * ws_core.c - WSAStartup/WSACleanup, the SOCKET table (the layer's one
 * global, see ws_impl.h), the per-thread last error, byte order,
 * inet_pton/inet_ntop and the NTSTATUS -> WSA error table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsk/winsock/ws_impl.h"

static struct {
    pthread_mutex_t lock;
    unsigned started;              /* WSAStartup calls not yet cleaned up */
    struct wskstack *use_stack;    /* WsksWinsockUseStack */
    WSK_CLIENT_DISPATCH cdisp;
    WSK_CLIENT_NPI cnpi;
    WSK_REGISTRATION reg;
    WSK_PROVIDER_NPI npi;
    struct ws_sock *table[WS_MAX_SOCKETS];
} g_ws = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local int ws_last_error;

/* ---- last error ---- */
int WSAAPI WSAGetLastError(void) { return ws_last_error; }
void WSAAPI WSASetLastError(int iError) { ws_last_error = iError; }
DWORD WINAPI GetLastError(VOID) { return (DWORD)ws_last_error; }
VOID WINAPI SetLastError(DWORD dwErrCode) { ws_last_error = (int)dwErrCode; }
int ws_err(int e)
{
    ws_last_error = e;
    return SOCKET_ERROR;
}

/* ---- NTSTATUS -> WSA (WSK-SPEC 6.4, Wine's mapping) ----
 * Two additions, both marked: STATUS_ADDRESS_ALREADY_ASSOCIATED (the
 * provider's "address in use", the reverse of Wine netio's mapping) and
 * STATUS_FILE_FORCED_CLOSED (the TAP device disappeared). */
static const struct {
    NTSTATUS st;
    int wsa;
} ws_status_table[] = {
    {STATUS_PENDING, ERROR_IO_PENDING},
    {STATUS_BUFFER_OVERFLOW, WSAEMSGSIZE},
    {STATUS_INVALID_BUFFER_SIZE, WSAEMSGSIZE},
    {STATUS_NOT_IMPLEMENTED, WSAEOPNOTSUPP},
    {STATUS_NOT_SUPPORTED, WSAEOPNOTSUPP},
    {STATUS_ACCESS_VIOLATION, WSAEFAULT},
    {STATUS_BUFFER_TOO_SMALL, WSAEFAULT},
    {STATUS_INVALID_HANDLE, WSAENOTSOCK},
    {STATUS_OBJECT_TYPE_MISMATCH, WSAENOTSOCK},
    {STATUS_NO_MEMORY, WSAENOBUFS},
    {STATUS_INSUFFICIENT_RESOURCES, WSAENOBUFS},
    {STATUS_TOO_MANY_ADDRESSES, WSAENOBUFS},
    {STATUS_ACCESS_DENIED, WSAEACCES},
    {STATUS_SHARING_VIOLATION, WSAEADDRINUSE},
    {STATUS_ADDRESS_ALREADY_EXISTS, WSAEADDRINUSE},
    {STATUS_ADDRESS_ALREADY_ASSOCIATED, WSAEADDRINUSE},   /* addition */
    {STATUS_DEVICE_NOT_READY, WSAEWOULDBLOCK},
    {STATUS_REQUEST_NOT_ACCEPTED, WSAEWOULDBLOCK},
    {STATUS_PIPE_DISCONNECTED, WSAESHUTDOWN},
    {STATUS_IO_TIMEOUT, WSAETIMEDOUT},
    {(NTSTATUS)0xC000013F /* STATUS_LINK_TIMEOUT */, WSAETIMEDOUT},
    {STATUS_REMOTE_NOT_LISTENING, WSAECONNREFUSED},
    {STATUS_CONNECTION_REFUSED, WSAECONNREFUSED},
    {STATUS_BAD_NETWORK_PATH, WSAENETUNREACH},
    {STATUS_NETWORK_UNREACHABLE, WSAENETUNREACH},
    {STATUS_PROTOCOL_UNREACHABLE, WSAENETUNREACH},
    {STATUS_HOST_UNREACHABLE, WSAEHOSTUNREACH},
    {STATUS_NETWORK_BUSY, WSAENETDOWN},
    {STATUS_INVALID_NETWORK_RESPONSE, WSAENETDOWN},
    {STATUS_NO_SUCH_DEVICE, WSAENETDOWN},
    {STATUS_FILE_FORCED_CLOSED, WSAENETDOWN},             /* addition */
    {STATUS_CANCELLED, ERROR_OPERATION_ABORTED},
    {STATUS_LOCAL_DISCONNECT, WSAECONNABORTED},
    {STATUS_TRANSACTION_ABORTED, WSAECONNABORTED},
    {STATUS_CONNECTION_ABORTED, WSAECONNABORTED},
    {STATUS_REMOTE_DISCONNECT, WSAECONNRESET},
    {STATUS_CONNECTION_DISCONNECTED, WSAECONNRESET},
    {STATUS_CONNECTION_RESET, WSAECONNRESET},
    {(NTSTATUS)0xC000013E /* STATUS_LINK_FAILED */, WSAECONNRESET},
    {STATUS_PORT_UNREACHABLE, WSAECONNRESET},
    {STATUS_CONNECTION_ACTIVE, WSAEISCONN},
    {STATUS_INVALID_CONNECTION, WSAENOTCONN},
    {STATUS_INVALID_ADDRESS, WSAEADDRNOTAVAIL},
    {STATUS_INVALID_ADDRESS_COMPONENT, WSAEADDRNOTAVAIL},
    {STATUS_GRACEFUL_DISCONNECT, WSAEDISCON},
    {STATUS_REQUEST_ABORTED, WSAEINTR},
    {STATUS_HOST_DOWN, WSAEHOSTDOWN},
};

int ws_status_to_wsa(NTSTATUS s)
{
    for (size_t i = 0; i < sizeof(ws_status_table) / sizeof(ws_status_table[0]); i++)
        if (ws_status_table[i].st == s)
            return ws_status_table[i].wsa;
    return NT_SUCCESS(s) ? 0 : WSAEINVAL;
}

/* ---- startup ---- */
int WsksWinsockUseStack(struct wskstack *st)
{
    pthread_mutex_lock(&g_ws.lock);
    if (g_ws.started > 0) {
        pthread_mutex_unlock(&g_ws.lock);
        return WSAEINVAL;
    }
    g_ws.use_stack = st;
    pthread_mutex_unlock(&g_ws.lock);
    return 0;
}

int WSAAPI WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData)
{
    /* Returns the error directly (WSAGetLastError is not usable yet). */
    if (lpWSAData == NULL)
        return WSAEFAULT;
    BYTE major = LOBYTE(wVersionRequested), minor = HIBYTE(wVersionRequested);
    if (major < 1 || (major == 1 && minor < 1))
        return WSAVERNOTSUPPORTED;
    memset(lpWSAData, 0, sizeof(*lpWSAData));
    lpWSAData->wVersion = major >= 2 ? MAKEWORD(2, 2) : wVersionRequested;
    lpWSAData->wHighVersion = MAKEWORD(2, 2);
    snprintf(lpWSAData->szDescription, sizeof(lpWSAData->szDescription),
             "WinSock 2.0 (wskstack)");
    snprintf(lpWSAData->szSystemStatus, sizeof(lpWSAData->szSystemStatus), "Running");

    pthread_mutex_lock(&g_ws.lock);
    if (g_ws.started == 0) {
        g_ws.cdisp.Version = MAKE_WSK_VERSION(1, 0);
        g_ws.cnpi.ClientContext = NULL;
        g_ws.cnpi.Dispatch = &g_ws.cdisp;
        NTSTATUS s = g_ws.use_stack ? WsksRegisterOnStack(g_ws.use_stack, &g_ws.cnpi, &g_ws.reg)
                                    : WskRegister(&g_ws.cnpi, &g_ws.reg);
        if (NT_SUCCESS(s)) {
            s = WskCaptureProviderNPI(&g_ws.reg, WSK_INFINITE_WAIT, &g_ws.npi);
            if (!NT_SUCCESS(s))
                WskDeregister(&g_ws.reg);
        }
        if (!NT_SUCCESS(s)) {
            pthread_mutex_unlock(&g_ws.lock);
            return WSASYSNOTREADY; /* e.g. no WSKSTACK_CONFIG, TAP not creatable */
        }
    }
    g_ws.started++;
    pthread_mutex_unlock(&g_ws.lock);
    return 0;
}

int WSAAPI WSACleanup(void)
{
    pthread_mutex_lock(&g_ws.lock);
    if (g_ws.started == 0) {
        pthread_mutex_unlock(&g_ws.lock);
        return ws_err(WSANOTINITIALISED);
    }
    bool last = g_ws.started == 1;
    pthread_mutex_unlock(&g_ws.lock);
    if (last)
        ws_close_all(); /* Windows: the last WSACleanup closes what is left */
    pthread_mutex_lock(&g_ws.lock);
    if (--g_ws.started == 0) {
        WskReleaseProviderNPI(&g_ws.reg);
        WskDeregister(&g_ws.reg);
    }
    pthread_mutex_unlock(&g_ws.lock);
    return 0;
}

bool ws_started(void)
{
    pthread_mutex_lock(&g_ws.lock);
    bool on = g_ws.started > 0;
    pthread_mutex_unlock(&g_ws.lock);
    if (!on)
        ws_last_error = WSANOTINITIALISED;
    return on;
}

const WSK_PROVIDER_NPI *ws_npi(void) { return &g_ws.npi; }

/* ---- the SOCKET table ---- */
SOCKET ws_table_add(struct ws_sock *so)
{
    pthread_mutex_lock(&g_ws.lock);
    for (unsigned i = 0; i < WS_MAX_SOCKETS; i++) {
        if (g_ws.table[i] == NULL) {
            g_ws.table[i] = so;
            so->handle = (SOCKET)(WS_HANDLE_BASE + 4u * i);
            pthread_mutex_unlock(&g_ws.lock);
            return so->handle;
        }
    }
    pthread_mutex_unlock(&g_ws.lock);
    return INVALID_SOCKET;
}

static bool ws_slot(SOCKET s, unsigned *slot)
{
    if (s < WS_HANDLE_BASE || (s - WS_HANDLE_BASE) % 4 != 0)
        return false;
    SOCKET i = (s - WS_HANDLE_BASE) / 4;
    if (i >= WS_MAX_SOCKETS)
        return false;
    *slot = (unsigned)i;
    return true;
}

struct ws_sock *ws_sock_get(SOCKET s)
{
    pthread_mutex_lock(&g_ws.lock);
    if (g_ws.started == 0) {
        pthread_mutex_unlock(&g_ws.lock);
        ws_last_error = WSANOTINITIALISED;
        return NULL;
    }
    unsigned i;
    struct ws_sock *so = ws_slot(s, &i) ? g_ws.table[i] : NULL;
    if (so)
        atomic_fetch_add(&so->refs, 1);
    pthread_mutex_unlock(&g_ws.lock);
    if (so == NULL)
        ws_last_error = WSAENOTSOCK;
    return so;
}

struct ws_sock *ws_table_remove(SOCKET s)
{
    unsigned i;
    pthread_mutex_lock(&g_ws.lock);
    struct ws_sock *so = ws_slot(s, &i) ? g_ws.table[i] : NULL;
    if (so)
        g_ws.table[i] = NULL;
    pthread_mutex_unlock(&g_ws.lock);
    return so;
}

void ws_close_all(void)
{
    for (unsigned i = 0; i < WS_MAX_SOCKETS; i++) {
        pthread_mutex_lock(&g_ws.lock);
        struct ws_sock *so = g_ws.table[i];
        g_ws.table[i] = NULL;
        pthread_mutex_unlock(&g_ws.lock);
        if (so)
            ws_sock_destroy(so);
    }
}

/* ---- byte order (the host is little-endian x86-64/arm64 or big-endian) ---- */
u_short WSAAPI htons(u_short v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    u_short r;
    memcpy(&r, b, 2);
    return r;
}
u_short WSAAPI ntohs(u_short v) { return htons(v); }
u_long WSAAPI htonl(u_long v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    u_long r;
    memcpy(&r, b, 4);
    return r;
}
u_long WSAAPI ntohl(u_long v) { return htonl(v); }

/* ---- inet_pton / inet_ntop (Windows families) ---- */
/* Strict dotted decimal: 4 parts 0..255, no leading zeros beyond "0". */
static bool ws_pton4(const char *s, uint8_t out[4], const char **end)
{
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            if (*s != '.')
                return false;
            s++;
        }
        if (*s < '0' || *s > '9')
            return false;
        unsigned v = 0, n = 0;
        const char *start = s;
        while (*s >= '0' && *s <= '9' && n < 4) {
            v = v * 10 + (unsigned)(*s - '0');
            s++;
            n++;
        }
        if (n == 0 || n > 3 || v > 255 || (n > 1 && *start == '0'))
            return false;
        out[i] = (uint8_t)v;
    }
    *end = s;
    return true;
}

static int ws_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool ws_pton6(const char *s, uint8_t out[16])
{
    uint16_t w[8] = {0};
    int n = 0, gap = -1;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        gap = 0;
        s += 2;
        if (*s == '\0')
            goto done;
    }
    for (;;) {
        /* an embedded IPv4 tail? */
        const char *p = s;
        while (*p && *p != ':' && *p != '.')
            p++;
        if (*p == '.') {
            uint8_t v4[4];
            const char *e;
            if (n > 6 || !ws_pton4(s, v4, &e) || *e != '\0')
                return false;
            w[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            w[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            break;
        }
        unsigned v = 0, k = 0;
        while (ws_hex(*s) >= 0 && k < 5) {
            v = v << 4 | (unsigned)ws_hex(*s);
            s++;
            k++;
        }
        if (k == 0 || k > 4 || n >= 8)
            return false;
        w[n++] = (uint16_t)v;
        if (*s == '\0')
            break;
        if (*s != ':')
            return false;
        s++;
        if (*s == ':') {
            if (gap >= 0)
                return false;
            gap = n;
            s++;
            if (*s == '\0')
                break;
        }
    }
done:
    if (gap >= 0) {
        if (n > 7)
            return false;
        int tail = n - gap;
        memmove(&w[8 - tail], &w[gap], sizeof(uint16_t) * (size_t)tail);
        memset(&w[gap], 0, sizeof(uint16_t) * (size_t)(8 - tail - gap));
    } else if (n != 8) {
        return false;
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(w[i] >> 8);
        out[2 * i + 1] = (uint8_t)w[i];
    }
    return true;
}

INT WSAAPI inet_pton(INT Family, PCSTR pszAddrString, PVOID pAddrBuf)
{
    if (pszAddrString == NULL || pAddrBuf == NULL) {
        ws_last_error = WSAEFAULT;
        return -1;
    }
    if (Family == AF_INET) {
        uint8_t a[4];
        const char *e;
        if (!ws_pton4(pszAddrString, a, &e) || *e != '\0')
            return 0;
        memcpy(pAddrBuf, a, 4);
        return 1;
    }
    if (Family == AF_INET6) {
        uint8_t a[16];
        if (!ws_pton6(pszAddrString, a))
            return 0;
        memcpy(pAddrBuf, a, 16);
        return 1;
    }
    ws_last_error = WSAEAFNOSUPPORT;
    return -1;
}

PCSTR WSAAPI inet_ntop(INT Family, const VOID *pAddr, PSTR pStringBuf, size_t StringBufSize)
{
    char tmp[INET6_ADDRSTRLEN];
    if (pAddr == NULL || pStringBuf == NULL) {
        ws_last_error = WSAEINVAL;
        return NULL;
    }
    const uint8_t *a = pAddr;
    if (Family == AF_INET) {
        snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    } else if (Family == AF_INET6) {
        uint16_t w[8];
        for (int i = 0; i < 8; i++)
            w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
        /* longest run of >= 2 zero words (first one on a tie) */
        int best = -1, bestlen = 0;
        for (int i = 0; i < 8;) {
            if (w[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && w[j] == 0)
                j++;
            if (j - i > bestlen && j - i >= 2) {
                best = i;
                bestlen = j - i;
            }
            i = j;
        }
        bool v4 = (best == 0 && bestlen == 5 && w[5] == 0xffff) || (best == 0 && bestlen == 6);
        size_t o = 0;
        int last = v4 ? 6 : 8;
        for (int i = 0; i < last; i++) {
            if (i == best) {
                o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "::");
                i += bestlen - 1;
                continue;
            }
            if (i > 0 && i != best + bestlen)
                o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, ":");
            o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%x", w[i]);
        }
        if (v4) {
            if (best + bestlen < 6)
                o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, ":");
            snprintf(tmp + o, sizeof(tmp) - o, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        }
    } else {
        ws_last_error = WSAEAFNOSUPPORT;
        return NULL;
    }
    if (strlen(tmp) + 1 > StringBufSize) {
        ws_last_error = WSAEINVAL;
        return NULL;
    }
    memcpy(pStringBuf, tmp, strlen(tmp) + 1);
    return pStringBuf;
}
