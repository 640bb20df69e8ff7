/* SPDX-License-Identifier: MIT */
/*
 * wskstack_wsk.h - wskstack extensions to the WSK registration API.
 *
 * WskRegister() binds a registration to the PROCESS-DEFAULT stack, created
 * on the first WskCaptureProviderNPI() from the WSKSTACK_CONFIG environment
 * variable (see wskstack.h for the keys).  Programs that build their own
 * stacks (tools, tests, labs with two stacks in one process) bind a
 * registration to a given stack instead:
 *
 *   struct wskstack *st;  wskstack_create(cfg, &st, err, sizeof err);
 *   WSK_REGISTRATION reg;
 *   WsksRegisterOnStack(st, &clientNpi, &reg);   // instead of WskRegister
 *   WskCaptureProviderNPI(&reg, WSK_INFINITE_WAIT, &providerNpi);
 *   ...
 *   WskReleaseProviderNPI(&reg);
 *   WskDeregister(&reg);      // waits for captures and sockets, as usual
 *   wskstack_destroy(st);     // the stack stays the caller's
 *
 * All registrations on one stack share one provider instance (its
 * completion threads); it stops when the last of them is deregistered.
 * The caller keeps owning the stack and destroys it after that.
 */
#ifndef WSKSTACK_WSK_H
#define WSKSTACK_WSK_H

#include <wsk.h>

#include "wskstack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Like WskRegister, on `st`.  STATUS_SUCCESS, STATUS_INVALID_PARAMETER
 * (a NULL argument), or STATUS_INSUFFICIENT_RESOURCES (no memory, or the
 * provider's threads could not be started). */
WSKSTACK_API NTSTATUS WsksRegisterOnStack(struct wskstack *st, PWSK_CLIENT_NPI WskClientNpi,
                                          PWSK_REGISTRATION WskRegistration);

/* The stack a registration uses: for a WskRegister registration, the
 * process-default stack once a WskCaptureProviderNPI has succeeded; for
 * WsksRegisterOnStack, that stack.  NULL before the first successful capture
 * or for an invalid registration.  The pointer stays valid until the
 * registration is deregistered - use it to read counters (wskstack_counter)
 * or the interface name of the default stack. */
WSKSTACK_API struct wskstack *WsksGetStack(PWSK_REGISTRATION WskRegistration);

#ifdef __cplusplus
}
#endif
#endif /* WSKSTACK_WSK_H */
