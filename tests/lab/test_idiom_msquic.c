/* SPDX-License-Identifier: MIT */
/*
 * Client idiom: MsQuic's kernel datapath (src/platform/datapath_winkernel.c),
 * written the way MsQuic writes its WSK code.  AF_INET only for now: MsQuic
 * really uses one dual-stack AF_INET6 socket with v4-mapped addresses; that
 * part waits for IPv6 datagram sockets (a later issue).
 *
 *   - init: WskControlClient(WSK_SET_STATIC_EVENT_CALLBACKS, RECEIVE_FROM)
 *     and WSK_TDI_BEHAVIOR (result ignored), then option probes on a BASIC
 *     socket: WskGetOption(UDP_SEND_MSG_SIZE) and
 *     WskGetOption(UDP_RECV_MAX_COALESCED_SIZE) on IPPROTO_UDP - a failure
 *     just disables USO / URO;
 *   - IRPs embedded in the caller's memory: a UCHAR buffer of
 *     sizeof(IRP) + sizeof(IO_STACK_LOCATION), IoInitializeIrp once,
 *     IoReuseIrp before every further use (the socket-setup IRP, and one
 *     per send context);
 *   - the socket: WskSocket with a dispatch holding WskReceiveFromEvent,
 *     WskSetOption IP_DONTFRAGMENT / IP_PKTINFO / IP_ECN / IP_RECVERR, bind
 *     192.0.2.2:0, WskGetLocalAddress, then SIO_WSK_SET_REMOTE_ADDRESS
 *     with InputSize = sizeof(SOCKADDR_INET) (a "connected" socket);
 *   - sends: WskSendMessages with RemoteAddress NULL and cmsgs built on the
 *     caller's stack (IP_PKTINFO with the source address + IP_ECN INT),
 *     the caller does not wait; the completion routine frees nothing but
 *     returns the context to a free list;
 *   - receives: the static event; every indication must carry IP_PKTINFO
 *     (MsQuic drops datagrams without it); the callback keeps the chain
 *     (STATUS_PENDING) and the chain is given back later with one
 *     WskRelease of its head.
 *
 *     kernel 192.0.2.1:6600 (peer), :6601 (other) [wskquic0] <== TAP ==>
 *     wskstack 192.0.2.2
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskquic0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"
#define PEER_PORT 6600
#define OTHER_PORT 6601
#define NSEND 8
#define PER_SEND 3

/* ---- the datapath side ---------------------------------------------------------- */
typedef struct _CXPLAT_SOCKET_SETUP {
    UCHAR IrpBuffer[sizeof(IRP) + sizeof(IO_STACK_LOCATION)];
    PIRP Irp;
    KEVENT CompletionEvent;
} CXPLAT_SOCKET_SETUP;

typedef struct _CXPLAT_SEND_DATA {
    UCHAR IrpBuffer[sizeof(IRP) + sizeof(IO_STACK_LOCATION)];
    PIRP Irp;
    WSK_BUF_LIST Bufs[PER_SEND];
    PMDL Mdls[PER_SEND];
    UCHAR Payload[PER_SEND][200];
    ULONG TotalSize;
    NTSTATUS Status;
    ULONG_PTR Sent;
    LONG Completed;
} CXPLAT_SEND_DATA;

static struct {
    PWSK_SOCKET Socket;
    BOOLEAN UsoEnabled, UroEnabled;
    KSPIN_LOCK Lock;
    PWSK_DATAGRAM_INDICATION Held[64]; /* chains kept until released */
    LONG HeldCount;
    LONG Datagrams, WithoutPktinfo, FromWrongPort, BadPayload;
    CXPLAT_SEND_DATA Sends[NSEND];
} Quic;

static NTSTATUS CxPlatSocketReceive(PVOID Context, ULONG Flags,
                                    PWSK_DATAGRAM_INDICATION DataIndication)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Flags);
    if (DataIndication == NULL)
        return STATUS_SUCCESS;
    for (PWSK_DATAGRAM_INDICATION D = DataIndication; D; D = D->Next) {
        BOOLEAN FoundPktinfo = FALSE;
        PUCHAR Ctl = (PUCHAR)D->ControlInfo;
        for (SIZE_T Off = 0; Ctl && Off + sizeof(CMSGHDR) <= D->ControlInfoLength;) {
            PCMSGHDR Cmsg = (PCMSGHDR)(Ctl + Off);
            if (Cmsg->cmsg_len < sizeof(CMSGHDR))
                break;
            if (Cmsg->cmsg_level == IPPROTO_IP && Cmsg->cmsg_type == IP_PKTINFO)
                FoundPktinfo = TRUE;
            Off += WSA_CMSGHDR_ALIGN(Cmsg->cmsg_len);
        }
        if (!FoundPktinfo) {
            InterlockedIncrement(&Quic.WithoutPktinfo); /* MsQuic drops it */
            continue;
        }
        SOCKADDR_IN *From = (SOCKADDR_IN *)D->RemoteAddress;
        if (RtlUshortByteSwap(From->sin_port) != PEER_PORT)
            InterlockedIncrement(&Quic.FromWrongPort);
        PUCHAR Va = MmGetSystemAddressForMdlSafe(D->Buffer.Mdl, NormalPagePriority);
        if (Va == NULL || D->Buffer.Length != 100 || Va[D->Buffer.Offset] != 'Q')
            InterlockedIncrement(&Quic.BadPayload);
        InterlockedIncrement(&Quic.Datagrams);
    }
    KIRQL Irql;
    KeAcquireSpinLock(&Quic.Lock, &Irql);
    BOOLEAN Keep = Quic.HeldCount < 64;
    if (Keep)
        Quic.Held[Quic.HeldCount++] = DataIndication;
    KeReleaseSpinLock(&Quic.Lock, Irql);
    return Keep ? STATUS_PENDING : STATUS_SUCCESS;
}

static const WSK_CLIENT_DATAGRAM_DISPATCH WskDatagramDispatch = {CxPlatSocketReceive};

static NTSTATUS CxPlatDataPathIoCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS CxPlatSendComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    CXPLAT_SEND_DATA *S = Context;
    S->Status = Irp->IoStatus.Status;
    S->Sent = Irp->IoStatus.Information;
    InterlockedIncrement(&S->Completed); /* "callback still gets invoked on failure" */
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* Setup steps reuse one embedded IRP. */
static NTSTATUS SetupWait(CXPLAT_SOCKET_SETUP *Setup, NTSTATUS Status)
{
    if (Status == STATUS_PENDING) {
        LARGE_INTEGER T;
        T.QuadPart = -5000LL * 10000;
        if (KeWaitForSingleObject(&Setup->CompletionEvent, Executive, KernelMode, FALSE, &T) ==
            STATUS_TIMEOUT)
            fail_msg("setup IRP did not complete");
        Status = Setup->Irp->IoStatus.Status;
    }
    return Status;
}

static void SetupReuse(CXPLAT_SOCKET_SETUP *Setup)
{
    KeClearEvent(&Setup->CompletionEvent);
    IoReuseIrp(Setup->Irp, STATUS_SUCCESS);
    IoSetCompletionRoutine(Setup->Irp, CxPlatDataPathIoCompletion, &Setup->CompletionEvent, TRUE,
                           TRUE, TRUE);
}

static NTSTATUS SetOption(CXPLAT_SOCKET_SETUP *Setup, PWSK_SOCKET Sock, ULONG Level,
                          ULONG Option, ULONG Value)
{
    SetupReuse(Setup);
    return SetupWait(Setup, ((PWSK_PROVIDER_BASIC_DISPATCH)Sock->Dispatch)
                                ->WskControlSocket(Sock, WskSetOption, Option, Level,
                                                   sizeof Value, &Value, 0, NULL, NULL,
                                                   Setup->Irp));
}

/* Probe USO/URO on a basic socket: a failure disables the feature. */
static void CxPlatDataPathQuerySockoptSupport(PWSK_PROVIDER_NPI Npi, CXPLAT_SOCKET_SETUP *Setup)
{
    SetupReuse(Setup);
    NTSTATUS Status = SetupWait(
        Setup, Npi->Dispatch->WskSocket(Npi->Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                        WSK_FLAG_BASIC_SOCKET, NULL, NULL, NULL, NULL, NULL,
                                        Setup->Irp));
    assert_int_equal(Status, STATUS_SUCCESS);
    PWSK_SOCKET Basic = (PWSK_SOCKET)Setup->Irp->IoStatus.Information;
    PWSK_PROVIDER_BASIC_DISPATCH Dispatch = (PWSK_PROVIDER_BASIC_DISPATCH)Basic->Dispatch;
    ULONG Value = 0;
    SIZE_T Returned = 0;
    SetupReuse(Setup);
    Status = SetupWait(Setup, Dispatch->WskControlSocket(Basic, WskGetOption, UDP_SEND_MSG_SIZE,
                                                         IPPROTO_UDP, 0, NULL, sizeof Value,
                                                         &Value, &Returned, Setup->Irp));
    Quic.UsoEnabled = NT_SUCCESS(Status);
    assert_int_equal(Status, STATUS_NOT_SUPPORTED);
    SetupReuse(Setup);
    Status = SetupWait(Setup, Dispatch->WskControlSocket(Basic, WskGetOption,
                                                         UDP_RECV_MAX_COALESCED_SIZE,
                                                         IPPROTO_UDP, 0, NULL, sizeof Value,
                                                         &Value, &Returned, Setup->Irp));
    Quic.UroEnabled = NT_SUCCESS(Status);
    assert_int_equal(Status, STATUS_NOT_SUPPORTED);
    SetupReuse(Setup);
    assert_int_equal(SetupWait(Setup, Dispatch->WskCloseSocket(Basic, Setup->Irp)),
                     STATUS_SUCCESS);
}

/* Send NSEND batches; cmsgs and the (NULL) address come from our stack. */
static void CxPlatSocketSend(PWSK_SOCKET Sock, CXPLAT_SEND_DATA *S, unsigned n)
{
    union {
        UCHAR Buf[WSA_CMSG_SPACE(sizeof(IN_PKTINFO)) + WSA_CMSG_SPACE(sizeof(INT))];
        CMSGHDR Align;
    } CMsgBuffer;
    RtlZeroMemory(&CMsgBuffer, sizeof CMsgBuffer);
    PCMSGHDR CMsg = (PCMSGHDR)CMsgBuffer.Buf;
    CMsg->cmsg_level = IPPROTO_IP;
    CMsg->cmsg_type = IP_PKTINFO;
    CMsg->cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
    PIN_PKTINFO PktInfo = (PIN_PKTINFO)WSA_CMSG_DATA(CMsg);
    SOCKADDR_IN Src;
    assert_true(wskc_sin(&Src, "192.0.2.2", 0));
    PktInfo->ipi_addr = Src.sin_addr;
    CMsg = (PCMSGHDR)(CMsgBuffer.Buf + WSA_CMSG_SPACE(sizeof(IN_PKTINFO)));
    CMsg->cmsg_level = IPPROTO_IP;
    CMsg->cmsg_type = IP_ECN;
    CMsg->cmsg_len = WSA_CMSG_LEN(sizeof(INT));
    *(PINT)WSA_CMSG_DATA(CMsg) = 2; /* ECT(0) */

    S->TotalSize = 0;
    for (unsigned i = 0; i < PER_SEND; i++) {
        ULONG Len = 50 + n * 10 + i;
        memset(S->Payload[i], 'a' + (int)n, Len);
        S->Payload[i][0] = (UCHAR)i;
        S->Mdls[i] = IoAllocateMdl(S->Payload[i], Len, FALSE, FALSE, NULL);
        assert_non_null(S->Mdls[i]);
        MmBuildMdlForNonPagedPool(S->Mdls[i]);
        S->Bufs[i].Buffer.Mdl = S->Mdls[i];
        S->Bufs[i].Buffer.Offset = 0;
        S->Bufs[i].Buffer.Length = Len;
        S->Bufs[i].Next = i + 1 < PER_SEND ? &S->Bufs[i + 1] : NULL;
        S->TotalSize += Len;
    }
    if (S->Irp == NULL) {
        S->Irp = (PIRP)S->IrpBuffer;
        IoInitializeIrp(S->Irp, sizeof S->IrpBuffer, 1);
    } else {
        IoReuseIrp(S->Irp, STATUS_SUCCESS);
    }
    IoSetCompletionRoutine(S->Irp, CxPlatSendComplete, S, TRUE, TRUE, TRUE);
    (void)((PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch)
        ->WskSendMessages(Sock, &S->Bufs[0], 0, NULL, sizeof CMsgBuffer, (PCMSGHDR)CMsgBuffer.Buf,
                          S->Irp);
    /* CMsgBuffer goes out of scope now: the provider must have copied it */
}

/* ---- the test ------------------------------------------------------------------------ */
struct cnt_wait {
    volatile LONG *v;
    LONG want;
};
static bool reached(void *c)
{
    struct cnt_wait *w = c;
    return InterlockedCompareExchange(w->v, 0, 0) >= w->want;
}
static bool sends_done(void *c)
{
    (void)c;
    for (int i = 0; i < NSEND; i++)
        if (InterlockedCompareExchange(&Quic.Sends[i].Completed, 0, 0) == 0)
            return false;
    return true;
}

static void test_msquic_datapath(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    RtlZeroMemory(&Quic, sizeof Quic);
    KeInitializeSpinLock(&Quic.Lock);
    int peer = lk_udp_open("192.0.2.1", PEER_PORT);
    int other = lk_udp_open("192.0.2.1", OTHER_PORT);
    assert_true(peer >= 0 && other >= 0);
    PWSK_PROVIDER_NPI Npi = &ls.npi;

    /* CxPlatDataPathInitialize */
    WSK_EVENT_CALLBACK_CONTROL Ctl = {&NPI_WSK_INTERFACE_ID, WSK_EVENT_RECEIVE_FROM};
    assert_int_equal(Npi->Dispatch->WskControlClient(Npi->Client, WSK_SET_STATIC_EVENT_CALLBACKS,
                                                     sizeof Ctl, &Ctl, 0, NULL, NULL, NULL),
                     STATUS_SUCCESS);
    ULONG NoTdi = 1;
    (void)Npi->Dispatch->WskControlClient(Npi->Client, WSK_TDI_BEHAVIOR, sizeof NoTdi, &NoTdi, 0,
                                          NULL, NULL, NULL);
    static CXPLAT_SOCKET_SETUP Setup;
    Setup.Irp = (PIRP)Setup.IrpBuffer;
    IoInitializeIrp(Setup.Irp, sizeof Setup.IrpBuffer, 1);
    KeInitializeEvent(&Setup.CompletionEvent, NotificationEvent, FALSE);
    CxPlatDataPathQuerySockoptSupport(Npi, &Setup);
    assert_false(Quic.UsoEnabled);
    assert_false(Quic.UroEnabled);

    /* CxPlatSocketCreateUdp (AF_INET, connected) */
    SetupReuse(&Setup);
    NTSTATUS Status = SetupWait(
        &Setup, Npi->Dispatch->WskSocket(Npi->Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                         WSK_FLAG_DATAGRAM_SOCKET, &Quic, &WskDatagramDispatch,
                                         NULL, NULL, NULL, Setup.Irp));
    assert_int_equal(Status, STATUS_SUCCESS);
    PWSK_SOCKET Sock = (PWSK_SOCKET)Setup.Irp->IoStatus.Information;
    Quic.Socket = Sock;
    assert_int_equal(SetOption(&Setup, Sock, IPPROTO_IP, IP_DONTFRAGMENT, TRUE), STATUS_SUCCESS);
    assert_int_equal(SetOption(&Setup, Sock, IPPROTO_IP, IP_PKTINFO, TRUE), STATUS_SUCCESS);
    assert_int_equal(SetOption(&Setup, Sock, IPPROTO_IP, IP_ECN, TRUE), STATUS_SUCCESS);
    assert_int_equal(SetOption(&Setup, Sock, IPPROTO_IP, IP_RECVERR, TRUE), STATUS_SUCCESS);
    PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch = (PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch;
    SOCKADDR_INET Local;
    RtlZeroMemory(&Local, sizeof Local);
    assert_true(wskc_sin(&Local.Ipv4, "192.0.2.2", 0));
    SetupReuse(&Setup);
    assert_int_equal(SetupWait(&Setup, Dispatch->WskBind(Sock, (PSOCKADDR)&Local, 0, Setup.Irp)),
                     STATUS_SUCCESS);
    SetupReuse(&Setup);
    assert_int_equal(SetupWait(&Setup, Dispatch->WskGetLocalAddress(Sock, (PSOCKADDR)&Local,
                                                                      Setup.Irp)),
                     STATUS_SUCCESS);
    char ip[16];
    uint16_t LocalPort = 0;
    assert_string_equal(wskc_sin_str(&Local.Ipv4, ip, &LocalPort), "192.0.2.2");
    SOCKADDR_INET Remote;
    RtlZeroMemory(&Remote, sizeof Remote);
    assert_true(wskc_sin(&Remote.Ipv4, "192.0.2.1", PEER_PORT));
    SetupReuse(&Setup);
    assert_int_equal(SetupWait(&Setup, Dispatch->WskControlSocket(
                                           Sock, WskIoctl, SIO_WSK_SET_REMOTE_ADDRESS, 0,
                                           sizeof(SOCKADDR_INET), &Remote, 0, NULL, NULL,
                                           Setup.Irp)),
                     STATUS_SUCCESS);

    /* sends: WskSendMessages to the fixed remote, not waited for */
    for (unsigned n = 0; n < NSEND; n++)
        CxPlatSocketSend(Sock, &Quic.Sends[n], n);
    assert_int_equal(lk_wait_until(sends_done, NULL, 3000, 1), 0);
    for (unsigned n = 0; n < NSEND; n++) {
        CXPLAT_SEND_DATA *S = &Quic.Sends[n];
        assert_int_equal(InterlockedCompareExchange(&S->Completed, 0, 0), 1);
        assert_int_equal(S->Status, STATUS_SUCCESS);
        assert_int_equal(S->Sent, S->TotalSize);
        for (unsigned i = 0; i < PER_SEND; i++) {
            char buf[256], src[LK_ADDRSTRLEN];
            uint16_t sport = 0;
            long len = lk_udp_recv(peer, buf, sizeof buf, 2000, src, &sport);
            assert_int_equal(len, (long)S->Bufs[i].Buffer.Length);
            assert_memory_equal(buf, S->Payload[i], (size_t)len);
            assert_string_equal(src, "192.0.2.2");
            assert_int_equal(sport, LocalPort);
            IoFreeMdl(S->Mdls[i]);
        }
    }
    /* the embedded IRPs are reused for a second round */
    for (unsigned n = 0; n < NSEND; n++) {
        InterlockedExchange(&Quic.Sends[n].Completed, 0);
        CxPlatSocketSend(Sock, &Quic.Sends[n], n);
    }
    assert_int_equal(lk_wait_until(sends_done, NULL, 3000, 1), 0);
    for (unsigned n = 0; n < NSEND; n++) {
        assert_int_equal(Quic.Sends[n].Status, STATUS_SUCCESS);
        for (unsigned i = 0; i < PER_SEND; i++) {
            char buf[256];
            assert_int_equal(lk_udp_recv(peer, buf, sizeof buf, 2000, NULL, NULL),
                             (long)Quic.Sends[n].Bufs[i].Buffer.Length);
            IoFreeMdl(Quic.Sends[n].Mdls[i]);
        }
    }

    /* receives: the peer's 20 arrive (each with IP_PKTINFO), the other
     * port's 5 are filtered by the fixed remote */
    char q[100];
    memset(q, 'Q', sizeof q);
    for (unsigned i = 0; i < 20; i++) {
        if (i % 4 == 0)
            assert_int_equal(lk_udp_sendto(other, q, sizeof q, "192.0.2.2", LocalPort), 100);
        assert_int_equal(lk_udp_sendto(peer, q, sizeof q, "192.0.2.2", LocalPort), 100);
    }
    struct cnt_wait cw = {&Quic.Datagrams, 20};
    assert_int_equal(lk_wait_until(reached, &cw, 3000, 1), 0);
    lk_sleep_ms(100);
    assert_int_equal(InterlockedCompareExchange(&Quic.Datagrams, 0, 0), 20);
    assert_int_equal(InterlockedCompareExchange(&Quic.WithoutPktinfo, 0, 0), 0);
    assert_int_equal(InterlockedCompareExchange(&Quic.FromWrongPort, 0, 0), 0);
    assert_int_equal(InterlockedCompareExchange(&Quic.BadPayload, 0, 0), 0);

    /* CxPlatRecvDataReturn: each kept chain back with one WskRelease */
    PWSK_DATAGRAM_INDICATION Held[64];
    KIRQL Irql;
    KeAcquireSpinLock(&Quic.Lock, &Irql);
    LONG NHeld = Quic.HeldCount;
    RtlCopyMemory(Held, Quic.Held, sizeof Held);
    Quic.HeldCount = 0;
    KeReleaseSpinLock(&Quic.Lock, Irql);
    assert_true(NHeld >= 1);
    for (LONG i = 0; i < NHeld; i++)
        assert_int_equal(Dispatch->WskRelease(Sock, Held[i]), STATUS_SUCCESS);

    SetupReuse(&Setup);
    assert_int_equal(SetupWait(&Setup, Dispatch->WskCloseSocket(Sock, Setup.Irp)),
                     STATUS_SUCCESS);
    lk_close(peer);
    lk_close(other);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msquic_datapath),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
