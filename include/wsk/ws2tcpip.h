/* SPDX-License-Identifier: MIT */
/*
 * ws2tcpip.h - wskstack: <winsock2.h> plus the IPv4/IPv6 definitions
 * (ws2ipdef.h: SOCKADDR_IN6, IN_PKTINFO, IN6_PKTINFO, IP_PKTINFO,
 * IPV6_PKTINFO, IPV6_V6ONLY ...) and inet_pton / inet_ntop with the Windows
 * family values (AF_INET 2, AF_INET6 23).  socklen_t is not defined here:
 * glibc's <unistd.h> already owns that name (unsigned); use int.
 */
#ifndef WSS_WS2TCPIP_H
#define WSS_WS2TCPIP_H

#include "winsock2.h"
#include "ws2ipdef.h"

WSS_EXTERN_C_BEGIN

#define INET_ADDRSTRLEN 22
#define INET6_ADDRSTRLEN 65

/* 1 converted, 0 not a valid address text, -1 with WSAEAFNOSUPPORT
 * (unknown family) or WSAEFAULT (NULL pointer). */
WSS_EXPORT INT WSAAPI inet_pton(INT Family, PCSTR pszAddrString, PVOID pAddrBuf)
    WSS_WSSYM(inet_pton);
/* pStringBuf, or NULL with WSAEAFNOSUPPORT / WSAEINVAL (buffer too small or
 * NULL). */
WSS_EXPORT PCSTR WSAAPI inet_ntop(INT Family, const VOID *pAddr, PSTR pStringBuf,
                                  size_t StringBufSize) WSS_WSSYM(inet_ntop);

WSS_EXTERN_C_END

#endif /* WSS_WS2TCPIP_H */
