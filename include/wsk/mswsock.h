/* SPDX-License-Identifier: MIT */
/*
 * mswsock.h - wskstack: the Microsoft extension functions reached through
 * WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER): WSASendMsg and WSARecvMsg.
 */
#ifndef WSS_MSWSOCK_H
#define WSS_MSWSOCK_H

#include "winsock2.h"

WSS_EXTERN_C_BEGIN

#define WSAID_WSASENDMSG \
    { 0xa441e712, 0x754f, 0x43ca, { 0x84, 0xa7, 0x0d, 0xee, 0x44, 0xcf, 0x60, 0x6d } }
#define WSAID_WSARECVMSG \
    { 0xf689d7c8, 0x6f1f, 0x436b, { 0x8a, 0x53, 0xe5, 0x4f, 0xe3, 0x51, 0xc3, 0x22 } }

typedef INT(PASCAL *LPFN_WSASENDMSG)(SOCKET s, LPWSAMSG lpMsg, DWORD dwFlags,
                                     LPDWORD lpNumberOfBytesSent,
                                     LPWSAOVERLAPPED lpOverlapped,
                                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
typedef INT(PASCAL *LPFN_WSARECVMSG)(SOCKET s, LPWSAMSG lpMsg, LPDWORD lpdwNumberOfBytesRecvd,
                                     LPWSAOVERLAPPED lpOverlapped,
                                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

WSS_EXTERN_C_END

#endif /* WSS_MSWSOCK_H */
