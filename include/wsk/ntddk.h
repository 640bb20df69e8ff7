/*
 * ntddk.h - wskstack: everything a WSK client needs from the DDK lives in
 * wdm.h; this header exists so that `#include <ntddk.h>` works unchanged.
 */
#ifndef WSS_NTDDK_H
#define WSS_NTDDK_H

#include "wdm.h"

#endif /* WSS_NTDDK_H */
