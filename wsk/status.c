/* SPDX-License-Identifier: MIT */
/*
 * status.c - the stack's -errno results as NTSTATUS codes.
 *
 * The table is the provider's contract (README API section).  Where Windows
 * documents no code, the choice follows Wine's reverse mapping
 * (sock_error_to_ntstatus, WSK-SPEC 6.4) so that a user-mode layer mapping
 * NTSTATUS back to WSA errors (NtStatusToWSAError) recovers the errno.
 */
#include <errno.h>

#include "wsk/wsk_impl.h"

NTSTATUS wsk_errno_status(int err)
{
    switch (err) {
    case 0: return STATUS_SUCCESS;
    case -ENETUNREACH: return STATUS_NETWORK_UNREACHABLE;
    case -EHOSTUNREACH: return STATUS_HOST_UNREACHABLE;
    case -EMSGSIZE: return STATUS_INVALID_BUFFER_SIZE;       /* -> WSAEMSGSIZE */
    case -EADDRINUSE: return STATUS_ADDRESS_ALREADY_ASSOCIATED;
    case -EADDRNOTAVAIL: return STATUS_INVALID_ADDRESS;      /* -> WSAEADDRNOTAVAIL */
    case -ENOBUFS:
    case -ENOMEM: return STATUS_INSUFFICIENT_RESOURCES;
    case -ENODEV: return STATUS_FILE_FORCED_CLOSED;          /* socket no longer functional */
    case -EACCES: return STATUS_ACCESS_DENIED;
    case -ECANCELED: return STATUS_CANCELLED;
    case -EINVAL: return STATUS_INVALID_PARAMETER;
    case -ENXIO: return STATUS_INVALID_ADDRESS;              /* IN_PKTINFO ifindex not ours */
    case -EAFNOSUPPORT:
    case -ENOTSUP: return STATUS_NOT_SUPPORTED;
    default: return STATUS_UNSUCCESSFUL;
    }
}
