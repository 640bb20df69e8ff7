/* SPDX-License-Identifier: MIT */
/*
 * winsock2.h - user-mode Winsock 2 on wskstack (issue 5), with the WINDOWS
 * values (AF_INET6 23, SOL_SOCKET 0xffff, WSAE* = 10000 + n ...).
 *
 * Every call is implemented in wsk/winsock/ as a WSK client of the same
 * stack: a SOCKET wraps a WSK datagram socket and every send/receive is a
 * WskSendTo / WskReceiveFrom IRP.  See README "User-mode Winsock".
 *
 * Linking: names that glibc also exports (socket, bind, sendto, recvfrom,
 * getsockname, setsockopt, getsockopt, shutdown, htons, ntohs, htonl,
 * ntohl, inet_pton, inet_ntop) are declared here with an assembler label
 * (symbol wss_ws_<name>), so a Windows-style source calls wskstack's
 * version while the rest of the process (libnl, the TAP code, kernel
 * sockets of a test) keeps glibc's.  Never include <sys/socket.h>,
 * <netinet/in.h> or <arpa/inet.h> in the same translation unit.
 *
 * u_long: Windows' u_long is 32 bits; glibc's <sys/types.h> (pulled in by
 * <stdlib.h>) typedefs it as 64-bit unsigned long.  As mingw-w64 does
 * under __LP64__, u_long is a macro for the 32-bit __ms_u_long here;
 * <sys/types.h> is included first so that glibc's typedef (if any) keeps
 * its own name and the two never collide, whatever the include order.
 */
#ifndef WSS_WINSOCK2_H
#define WSS_WINSOCK2_H

#include <sys/types.h>

#include "windows.h"
#include "ws2def.h"

WSS_EXTERN_C_BEGIN

/* ---- BSD type names with the Windows widths ---- */
#if !defined(__USE_MISC)
typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
#endif
typedef uint32_t __ms_u_long;
#define u_long __ms_u_long

/* Symbol of a Winsock function whose name glibc also uses. */
#define WSS_WSSYM(name) __asm__("wss_ws_" #name)

/* ---- sockets ---- */
typedef UINT_PTR SOCKET;
#define INVALID_SOCKET ((SOCKET)(~0))
#define SOCKET_ERROR (-1)
typedef unsigned int GROUP;

#define SD_RECEIVE 0x00
#define SD_SEND 0x01
#define SD_BOTH 0x02

#define WSA_FLAG_OVERLAPPED 0x01
#define WSA_FLAG_MULTIPOINT_C_ROOT 0x02
#define WSA_FLAG_MULTIPOINT_C_LEAF 0x04
#define WSA_FLAG_MULTIPOINT_D_ROOT 0x08
#define WSA_FLAG_MULTIPOINT_D_LEAF 0x10
#define WSA_FLAG_ACCESS_SYSTEM_SECURITY 0x40
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80

#define FROM_PROTOCOL_INFO (-1)

/* ioctlsocket commands (_IOW('f', 126, u_long) ...), as LONG values. */
#define IOCPARM_MASK 0x7f
#define FIONBIO ((LONG)0x8004667EU)
#define FIONREAD ((LONG)0x4004667FU)
#define FIOASYNC ((LONG)0x8004667DU)

/* ---- startup ---- */
#define WSADESCRIPTION_LEN 256
#define WSASYS_STATUS_LEN 128
/* The _WIN64 layout (the two shorts come before lpVendorInfo). */
typedef struct WSAData {
    WORD wVersion;
    WORD wHighVersion;
    unsigned short iMaxSockets;
    unsigned short iMaxUdpDg;
    char *lpVendorInfo;
    char szDescription[WSADESCRIPTION_LEN + 1];
    char szSystemStatus[WSASYS_STATUS_LEN + 1];
} WSADATA, *LPWSADATA;

/* ---- error codes (winerror.h) ---- */
#define WSABASEERR 10000
#define WSAEINTR (WSABASEERR + 4)
#define WSAEBADF (WSABASEERR + 9)
#define WSAEACCES (WSABASEERR + 13)
#define WSAEFAULT (WSABASEERR + 14)
#define WSAEINVAL (WSABASEERR + 22)
#define WSAEMFILE (WSABASEERR + 24)
#define WSAEWOULDBLOCK (WSABASEERR + 35)
#define WSAEINPROGRESS (WSABASEERR + 36)
#define WSAEALREADY (WSABASEERR + 37)
#define WSAENOTSOCK (WSABASEERR + 38)
#define WSAEDESTADDRREQ (WSABASEERR + 39)
#define WSAEMSGSIZE (WSABASEERR + 40)
#define WSAEPROTOTYPE (WSABASEERR + 41)
#define WSAENOPROTOOPT (WSABASEERR + 42)
#define WSAEPROTONOSUPPORT (WSABASEERR + 43)
#define WSAESOCKTNOSUPPORT (WSABASEERR + 44)
#define WSAEOPNOTSUPP (WSABASEERR + 45)
#define WSAEPFNOSUPPORT (WSABASEERR + 46)
#define WSAEAFNOSUPPORT (WSABASEERR + 47)
#define WSAEADDRINUSE (WSABASEERR + 48)
#define WSAEADDRNOTAVAIL (WSABASEERR + 49)
#define WSAENETDOWN (WSABASEERR + 50)
#define WSAENETUNREACH (WSABASEERR + 51)
#define WSAENETRESET (WSABASEERR + 52)
#define WSAECONNABORTED (WSABASEERR + 53)
#define WSAECONNRESET (WSABASEERR + 54)
#define WSAENOBUFS (WSABASEERR + 55)
#define WSAEISCONN (WSABASEERR + 56)
#define WSAENOTCONN (WSABASEERR + 57)
#define WSAESHUTDOWN (WSABASEERR + 58)
#define WSAETOOMANYREFS (WSABASEERR + 59)
#define WSAETIMEDOUT (WSABASEERR + 60)
#define WSAECONNREFUSED (WSABASEERR + 61)
#define WSAELOOP (WSABASEERR + 62)
#define WSAENAMETOOLONG (WSABASEERR + 63)
#define WSAEHOSTDOWN (WSABASEERR + 64)
#define WSAEHOSTUNREACH (WSABASEERR + 65)
#define WSAENOTEMPTY (WSABASEERR + 66)
#define WSAEPROCLIM (WSABASEERR + 67)
#define WSASYSNOTREADY (WSABASEERR + 91)
#define WSAVERNOTSUPPORTED (WSABASEERR + 92)
#define WSANOTINITIALISED (WSABASEERR + 93)
#define WSAEDISCON (WSABASEERR + 101)
#define WSAENOMORE (WSABASEERR + 102)
#define WSAECANCELLED (WSABASEERR + 103)
#define WSAEINVALIDPROCTABLE (WSABASEERR + 104)
#define WSAEINVALIDPROVIDER (WSABASEERR + 105)
#define WSAEPROVIDERFAILEDINIT (WSABASEERR + 106)
#define WSASYSCALLFAILURE (WSABASEERR + 107)
#define WSA_E_NO_MORE (WSABASEERR + 110)
#define WSA_E_CANCELLED (WSABASEERR + 111)

#define WSA_IO_PENDING ERROR_IO_PENDING
#define WSA_IO_INCOMPLETE ERROR_IO_INCOMPLETE
#define WSA_INVALID_HANDLE ERROR_INVALID_HANDLE
#define WSA_INVALID_PARAMETER ERROR_INVALID_PARAMETER
#define WSA_NOT_ENOUGH_MEMORY ERROR_NOT_ENOUGH_MEMORY
#define WSA_OPERATION_ABORTED ERROR_OPERATION_ABORTED

/* ---- events and overlapped I/O ---- */
typedef HANDLE WSAEVENT, *LPWSAEVENT;
typedef OVERLAPPED WSAOVERLAPPED, *LPWSAOVERLAPPED;
#define WSA_INVALID_EVENT ((WSAEVENT)NULL)
#define WSA_MAXIMUM_WAIT_EVENTS MAXIMUM_WAIT_OBJECTS
#define WSA_WAIT_EVENT_0 WAIT_OBJECT_0
#define WSA_WAIT_IO_COMPLETION WAIT_IO_COMPLETION
#define WSA_WAIT_TIMEOUT WAIT_TIMEOUT
#define WSA_WAIT_FAILED WAIT_FAILED
#define WSA_INFINITE INFINITE

typedef void(CALLBACK *LPWSAOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwError, DWORD cbTransferred,
                                                           LPWSAOVERLAPPED lpOverlapped,
                                                           DWORD dwFlags);

/* ---- protocol info (accepted only as NULL by WSASocket) ---- */
#define MAX_PROTOCOL_CHAIN 7
#define WSAPROTOCOL_LEN 255
typedef struct _WSAPROTOCOLCHAIN {
    int ChainLen;
    DWORD ChainEntries[MAX_PROTOCOL_CHAIN];
} WSAPROTOCOLCHAIN, *LPWSAPROTOCOLCHAIN;
typedef struct _WSAPROTOCOL_INFOA {
    DWORD dwServiceFlags1, dwServiceFlags2, dwServiceFlags3, dwServiceFlags4;
    DWORD dwProviderFlags;
    GUID ProviderId;
    DWORD dwCatalogEntryId;
    WSAPROTOCOLCHAIN ProtocolChain;
    int iVersion, iAddressFamily, iMaxSockAddr, iMinSockAddr, iSocketType, iProtocol,
        iProtocolMaxOffset, iNetworkByteOrder, iSecurityScheme;
    DWORD dwMessageSize;
    DWORD dwProviderReserved;
    CHAR szProtocol[WSAPROTOCOL_LEN + 1];
} WSAPROTOCOL_INFOA, *LPWSAPROTOCOL_INFOA;
typedef struct _WSAPROTOCOL_INFOW {
    DWORD dwServiceFlags1, dwServiceFlags2, dwServiceFlags3, dwServiceFlags4;
    DWORD dwProviderFlags;
    GUID ProviderId;
    DWORD dwCatalogEntryId;
    WSAPROTOCOLCHAIN ProtocolChain;
    int iVersion, iAddressFamily, iMaxSockAddr, iMinSockAddr, iSocketType, iProtocol,
        iProtocolMaxOffset, iNetworkByteOrder, iSecurityScheme;
    DWORD dwMessageSize;
    DWORD dwProviderReserved;
    WCHAR szProtocol[WSAPROTOCOL_LEN + 1];
} WSAPROTOCOL_INFOW, *LPWSAPROTOCOL_INFOW;
#ifdef UNICODE
#define WSASocket WSASocketW
#else
#define WSASocket WSASocketA
#endif

/* ---- the calls ---- */
WSS_EXPORT int WSAAPI WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData);
WSS_EXPORT int WSAAPI WSACleanup(void);
WSS_EXPORT int WSAAPI WSAGetLastError(void);
WSS_EXPORT void WSAAPI WSASetLastError(int iError);

WSS_EXPORT u_short WSAAPI htons(u_short hostshort) WSS_WSSYM(htons);
WSS_EXPORT u_short WSAAPI ntohs(u_short netshort) WSS_WSSYM(ntohs);
WSS_EXPORT u_long WSAAPI htonl(u_long hostlong) WSS_WSSYM(htonl);
WSS_EXPORT u_long WSAAPI ntohl(u_long netlong) WSS_WSSYM(ntohl);

WSS_EXPORT SOCKET WSAAPI socket(int af, int type, int protocol) WSS_WSSYM(socket);
WSS_EXPORT SOCKET WSAAPI WSASocketA(int af, int type, int protocol,
                                    LPWSAPROTOCOL_INFOA lpProtocolInfo, GROUP g,
                                    DWORD dwFlags);
WSS_EXPORT SOCKET WSAAPI WSASocketW(int af, int type, int protocol,
                                    LPWSAPROTOCOL_INFOW lpProtocolInfo, GROUP g,
                                    DWORD dwFlags);
WSS_EXPORT int WSAAPI bind(SOCKET s, const struct sockaddr *name, int namelen) WSS_WSSYM(bind);
WSS_EXPORT int WSAAPI getsockname(SOCKET s, struct sockaddr *name, int *namelen)
    WSS_WSSYM(getsockname);
WSS_EXPORT int WSAAPI closesocket(SOCKET s);
WSS_EXPORT int WSAAPI shutdown(SOCKET s, int how) WSS_WSSYM(shutdown);
WSS_EXPORT int WSAAPI setsockopt(SOCKET s, int level, int optname, const char *optval,
                                 int optlen) WSS_WSSYM(setsockopt);
WSS_EXPORT int WSAAPI getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen)
    WSS_WSSYM(getsockopt);
WSS_EXPORT int WSAAPI ioctlsocket(SOCKET s, LONG cmd, u_long *argp);
WSS_EXPORT int WSAAPI WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer,
                               DWORD cbInBuffer, LPVOID lpvOutBuffer, DWORD cbOutBuffer,
                               LPDWORD lpcbBytesReturned, LPWSAOVERLAPPED lpOverlapped,
                               LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

WSS_EXPORT int WSAAPI sendto(SOCKET s, const char *buf, int len, int flags,
                             const struct sockaddr *to, int tolen) WSS_WSSYM(sendto);
WSS_EXPORT int WSAAPI recvfrom(SOCKET s, char *buf, int len, int flags, struct sockaddr *from,
                               int *fromlen) WSS_WSSYM(recvfrom);
WSS_EXPORT int WSAAPI WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                                LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
                                const struct sockaddr *lpTo, int iTolen,
                                LPWSAOVERLAPPED lpOverlapped,
                                LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
WSS_EXPORT int WSAAPI WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                                  LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
                                  struct sockaddr *lpFrom, LPINT lpFromlen,
                                  LPWSAOVERLAPPED lpOverlapped,
                                  LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
/* Also reachable through WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER,
 * WSAID_WSASENDMSG), as on Vista+. */
WSS_EXPORT int WSAAPI WSASendMsg(SOCKET Handle, LPWSAMSG lpMsg, DWORD dwFlags,
                                 LPDWORD lpNumberOfBytesSent, LPWSAOVERLAPPED lpOverlapped,
                                 LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

WSS_EXPORT WSAEVENT WSAAPI WSACreateEvent(void);
WSS_EXPORT BOOL WSAAPI WSASetEvent(WSAEVENT hEvent);
WSS_EXPORT BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent);
WSS_EXPORT BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent);
WSS_EXPORT DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents, const WSAEVENT *lphEvents,
                                                 BOOL fWaitAll, DWORD dwTimeout,
                                                 BOOL fAlertable);
WSS_EXPORT BOOL WSAAPI WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped,
                                              LPDWORD lpcbTransfer, BOOL fWait,
                                              LPDWORD lpdwFlags);

WSS_EXTERN_C_END

#endif /* WSS_WINSOCK2_H */
