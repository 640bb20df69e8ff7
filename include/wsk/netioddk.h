/*
 * netioddk.h - the Network Module Registrar (NMR) types a WSK client sees.
 * In the WDK, wsk.h reaches ws2ipdef.h through netioddk.h -> netiodef.h,
 * which is why clients that include only <ntddk.h> and <wsk.h> can use
 * SOCKADDR_IN6 and IN_PKTINFO (WSK-SPEC section 9); this header keeps that
 * chain.
 */
#ifndef WSS_NETIODDK_H
#define WSS_NETIODDK_H

#include "wdm.h"
#include "ws2def.h"
#include "ws2ipdef.h"

WSS_EXTERN_C_BEGIN

/* A network programming interface identifier.  PNPIID points to const, so
 * `Control.NpiId = &NPI_WSK_INTERFACE_ID;` compiles without a cast. */
typedef GUID NPIID;
typedef const NPIID *PNPIID;

typedef struct _LUID {
    ULONG LowPart;
    LONG HighPart;
} LUID, *PLUID;

typedef union _NET_LUID_LH {
    ULONG64 Value;
    struct {
        ULONG64 Reserved : 24;
        ULONG64 NetLuidIndex : 24;
        ULONG64 IfType : 16;
    } Info;
} NET_LUID_LH, *PNET_LUID_LH, NET_LUID, *PNET_LUID, IF_LUID, *PIF_LUID;

typedef ULONG NET_IFINDEX, *PNET_IFINDEX, IF_INDEX, *PIF_INDEX;

typedef enum _NPI_MODULEID_TYPE { MIT_GUID = 1, MIT_IF_LUID } NPI_MODULEID_TYPE;

typedef struct _NPI_MODULEID {
    USHORT Length;
    NPI_MODULEID_TYPE Type;
    union {
        GUID Guid;
        LUID IfLuid;
    };
} NPI_MODULEID, *PNPI_MODULEID;

WSS_EXTERN_C_END

#endif /* WSS_NETIODDK_H */
