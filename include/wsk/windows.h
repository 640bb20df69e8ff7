/* SPDX-License-Identifier: MIT */
/*
 * windows.h - the small part of <windows.h> that ordinary Windows UDP code
 * uses next to Winsock (wskstack issue 5): the base types (from ntdef.h:
 * DWORD is 32 bits, BOOL is int), WINAPI/CALLBACK (empty), INFINITE, the
 * WAIT_* results, the ERROR_* codes Winsock shares with Win32, OVERLAPPED,
 * SleepEx/Sleep and GetLastError/SetLastError (the same per-thread value as
 * WSAGetLastError).
 *
 * Like the other Windows headers of wskstack it must not be combined with
 * <sys/socket.h>, <netinet/in.h> or <arpa/inet.h> in one translation unit.
 * The functions are implemented in wsk/winsock/ (libwskstack).
 */
#ifndef WSS_WINDOWS_H
#define WSS_WINDOWS_H

#include "ntdef.h"

WSS_EXTERN_C_BEGIN

#ifndef PASCAL
#define PASCAL
#endif
#ifndef APIENTRY
#define APIENTRY
#endif

typedef INT *LPINT;
typedef LONG *LPLONG;
typedef BOOL *PBOOL, *LPBOOL;
typedef BYTE *LPBYTE;
typedef WORD *LPWORD;
typedef const CHAR *LPCCH;

#define MAKEWORD(a, b) ((WORD)(((BYTE)((a) & 0xff)) | ((WORD)((BYTE)((b) & 0xff))) << 8))
#define LOBYTE(w) ((BYTE)((w) & 0xff))
#define HIBYTE(w) ((BYTE)(((w) >> 8) & 0xff))
#define LOWORD(l) ((WORD)((l) & 0xffff))
#define HIWORD(l) ((WORD)(((l) >> 16) & 0xffff))

#ifndef ZeroMemory
#define ZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#endif
#ifndef CopyMemory
#define CopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#endif

/* ---- waits (winbase.h / winnt.h values) ---- */
#define INFINITE 0xFFFFFFFFU
#define WAIT_OBJECT_0 0x00000000U
#define WAIT_ABANDONED 0x00000080U
#define WAIT_ABANDONED_0 0x00000080U
#define WAIT_IO_COMPLETION 0x000000C0U
#define WAIT_TIMEOUT 258U
#define WAIT_FAILED 0xFFFFFFFFU
#define MAXIMUM_WAIT_OBJECTS 64

/* ---- Win32 error codes that Winsock shares (winerror.h) ---- */
#define ERROR_SUCCESS 0L
#define NO_ERROR 0L
#define ERROR_INVALID_HANDLE 6L
#define ERROR_NOT_ENOUGH_MEMORY 8L
#define ERROR_INVALID_PARAMETER 87L
#define ERROR_OPERATION_ABORTED 995L
#define ERROR_IO_INCOMPLETE 996L
#define ERROR_IO_PENDING 997L

/* ---- OVERLAPPED (minwinbase.h; 32 bytes on x64: 0, 8, 16, 20, 24) ----
 * While an operation is in flight wskstack keeps, as Wine does, the
 * NTSTATUS in Internal (STATUS_PENDING 0x103) and the bytes transferred in
 * InternalHigh. */
typedef struct _OVERLAPPED {
    ULONG_PTR Internal;
    ULONG_PTR InternalHigh;
    union {
        struct {
            DWORD Offset;
            DWORD OffsetHigh;
        };
        PVOID Pointer;
    };
    HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

/* SleepEx: bAlertable TRUE runs the completion routines queued to this
 * thread and returns WAIT_IO_COMPLETION (early) if it ran any; otherwise 0
 * when the time is up.  Inside a completion routine a nested alertable wait
 * runs none (routines of one thread never nest). */
WSS_EXPORT DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable);
WSS_EXPORT VOID WINAPI Sleep(DWORD dwMilliseconds);
/* The calling thread's last error: the same value as WSAGetLastError. */
WSS_EXPORT DWORD WINAPI GetLastError(VOID);
WSS_EXPORT VOID WINAPI SetLastError(DWORD dwErrCode);

WSS_EXTERN_C_END

#endif /* WSS_WINDOWS_H */
