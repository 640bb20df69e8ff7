/* SPDX-License-Identifier: MIT */
/*
 * wsa-example - ordinary Windows UDP code, compiled unchanged against
 * wskstack's headers (`pkg-config --cflags --libs wskstack`):
 * WSAStartup, WSASocket, bind, WSAIoctl(WSAID_WSASENDMSG), WSASendMsg with
 * a completion routine, an alertable wait, closesocket, WSACleanup.
 *
 *   WSKSTACK_CONFIG="tap=wsa0;addr=192.0.2.2/24;host-addr=192.0.2.1/24" \
 *       wsa-example 192.0.2.1 9000 "hello"
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile LONG g_done;

static void CALLBACK SendDone(DWORD dwError, DWORD cbTransferred, LPWSAOVERLAPPED lpOverlapped,
                              DWORD dwFlags)
{
    UNREFERENCED_PARAMETER(lpOverlapped);
    UNREFERENCED_PARAMETER(dwFlags);
    if (dwError != 0)
        printf("send failed: %lu\n", (unsigned long)dwError);
    else
        printf("sent %lu bytes\n", (unsigned long)cbTransferred);
    g_done = dwError == 0 ? 1 : -1;
}

int main(int argc, char **argv)
{
    WSADATA wsaData;
    const char *host = argc > 1 ? argv[1] : "192.0.2.1";
    u_short port = (u_short)(argc > 2 ? atoi(argv[2]) : 9000);
    char *text = argc > 3 ? argv[3] : "hello from Winsock on wskstack";

    int err = WSAStartup(MAKEWORD(2, 2), &wsaData);
    if (err != 0) {
        printf("WSAStartup failed: %d\n", err);
        return 1;
    }
    SOCKET s = WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (s == INVALID_SOCKET) {
        printf("WSASocket failed: %d\n", WSAGetLastError());
        WSACleanup();
        return 1;
    }
    SOCKADDR_IN local;
    ZeroMemory(&local, sizeof(local));
    local.sin_family = AF_INET;
    local.sin_port = htons(0);
    local.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (SOCKADDR *)&local, sizeof(local)) == SOCKET_ERROR) {
        printf("bind failed: %d\n", WSAGetLastError());
        closesocket(s);
        WSACleanup();
        return 1;
    }

    GUID guid = WSAID_WSASENDMSG;
    LPFN_WSASENDMSG pWSASendMsg = NULL;
    DWORD bytes = 0;
    if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &pWSASendMsg,
                 sizeof(pWSASendMsg), &bytes, NULL, NULL) == SOCKET_ERROR) {
        printf("WSAIoctl failed: %d\n", WSAGetLastError());
        closesocket(s);
        WSACleanup();
        return 1;
    }

    SOCKADDR_IN dest;
    ZeroMemory(&dest, sizeof(dest));
    dest.sin_family = AF_INET;
    dest.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &dest.sin_addr) != 1) {
        printf("bad address %s\n", host);
        closesocket(s);
        WSACleanup();
        return 1;
    }
    WSABUF buf;
    buf.buf = text;
    buf.len = (ULONG)strlen(text);
    WSAMSG msg;
    ZeroMemory(&msg, sizeof(msg));
    msg.name = (LPSOCKADDR)&dest;
    msg.namelen = sizeof(dest);
    msg.lpBuffers = &buf;
    msg.dwBufferCount = 1;

    WSAOVERLAPPED ov;
    ZeroMemory(&ov, sizeof(ov));
    if (pWSASendMsg(s, &msg, 0, NULL, &ov, SendDone) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        printf("WSASendMsg failed: %d\n", WSAGetLastError());
        closesocket(s);
        WSACleanup();
        return 1;
    }
    /* The routine runs only in an alertable wait of this thread. */
    for (int i = 0; i < 10 && g_done == 0; i++)
        SleepEx(1000, TRUE);

    closesocket(s);
    WSACleanup();
    return g_done == 1 ? 0 : 1;
}
