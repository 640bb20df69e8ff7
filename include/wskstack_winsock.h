/* SPDX-License-Identifier: MIT */
/*
 * wskstack_winsock.h - wskstack extension to user-mode Winsock (issue 5).
 *
 * WSAStartup registers the Winsock layer as a WSK client of the
 * PROCESS-DEFAULT stack (WSKSTACK_CONFIG, see wskstack.h).  Tests and
 * programs with their own stack bind Winsock to it first:
 *
 *   WsksWinsockUseStack(st);        // before the first WSAStartup
 *   WSAStartup(MAKEWORD(2, 2), &wd);
 *   ...
 *   WSACleanup();                   // the last one deregisters
 *   wskstack_destroy(st);           // the stack stays the caller's
 *
 * Include it after <winsock2.h>.
 */
#ifndef WSKSTACK_WINSOCK_H
#define WSKSTACK_WINSOCK_H

#include "wskstack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Use `st` (NULL: the process-default stack again) for the next
 * registration.  0, or WSAEINVAL (10022) while Winsock is started (between
 * the first WSAStartup and the last WSACleanup). */
WSKSTACK_API int WsksWinsockUseStack(struct wskstack *st);

#ifdef __cplusplus
}
#endif
#endif /* WSKSTACK_WINSOCK_H */
