/* SPDX-License-Identifier: MIT */
/*
 * Client idiom: WireGuard-NT (driver/socket.c, driver/receive.c), IPv4
 * side, written the way that driver writes its WSK code:
 *
 *   - WskControlClient(WSK_TRANSPORT_LIST_QUERY) first with no buffer,
 *     retried with a buffer of the size returned while it answers
 *     STATUS_BUFFER_OVERFLOW; an AF_INET SOCK_DGRAM IPPROTO_UDP transport
 *     must be listed;
 *   - WskControlClient(WSK_SET_STATIC_EVENT_CALLBACKS, RECEIVE_FROM) before
 *     any socket exists;
 *   - the socket: WskSocket with a WSK_CLIENT_DATAGRAM_DISPATCH, IP_PKTINFO
 *     on (OutputSizeReturned NULL), WskBind to 0.0.0.0:0, WskGetLocalAddress;
 *   - sends: WskSendTo with a control buffer holding an IN_PKTINFO cmsg
 *     (the source address the peer last used) followed by a zero-length
 *     cmsg, one IRP per send freed in the completion routine;
 *   - the receive event returns STATUS_PENDING (it keeps every element);
 *     the list is split: each element's Next is read, then OVERWRITTEN with
 *     the driver's own pointer while it holds the element; when done, Next
 *     is set to NULL and the element is given back alone with WskRelease.
 *     The IP_PKTINFO of each indication tells which local address the
 *     datagram arrived on.
 *
 *     kernel 192.0.2.1:6500 [wskwg0] <== TAP ==> wskstack 192.0.2.2, 192.0.2.3
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskwg0;addr=192.0.2.2/24;addr=192.0.2.3/24;host-addr=192.0.2.1/24"
#define KPORT 6500
#define NRX 32
#define WG_TAG 0x2b2b6777u

/* ---- the driver side ------------------------------------------------------------ */
typedef struct _WG_PACKET {
    PWSK_DATAGRAM_INDICATION Indication; /* the element we hold */
    ULONG Len;
    UCHAR Data[256];
    ULONG LocalAddr;                     /* from IP_PKTINFO, network order bytes */
    USHORT FromPort;
    BOOLEAN HadPktinfo;
} WG_PACKET;

static struct {
    KSPIN_LOCK Lock;
    WG_PACKET Packets[NRX];
    LONG Count;
    LONG Callbacks;
    LONG SendsOk, SendsBad;
    LONG Overflow;
} Wg;

/* WireGuard keeps its own pointer in Next while it holds the element. */
static NTSTATUS ReceiveDatagrams(PVOID SocketContext, ULONG Flags,
                                 PWSK_DATAGRAM_INDICATION DataIndication)
{
    UNREFERENCED_PARAMETER(SocketContext);
    UNREFERENCED_PARAMETER(Flags);
    InterlockedIncrement(&Wg.Callbacks);
    if (DataIndication == NULL)
        return STATUS_SUCCESS;
    KIRQL Irql;
    KeAcquireSpinLock(&Wg.Lock, &Irql);
    for (PWSK_DATAGRAM_INDICATION Next; DataIndication; DataIndication = Next) {
        Next = DataIndication->Next;
        LONG i = Wg.Count;
        if (i >= NRX) {
            Wg.Overflow++; /* the test sends fewer: asserted 0 */
            continue;
        }
        WG_PACKET *P = &Wg.Packets[i];
        P->Indication = DataIndication;
        DataIndication->Next = (PWSK_DATAGRAM_INDICATION)P; /* our own pointer */
        PUCHAR Va = MmGetSystemAddressForMdlSafe(DataIndication->Buffer.Mdl,
                                                 LowPagePriority | MdlMappingNoExecute);
        P->Len = (ULONG)DataIndication->Buffer.Length;
        if (Va && P->Len <= sizeof P->Data)
            RtlCopyMemory(P->Data, Va + DataIndication->Buffer.Offset, P->Len);
        SOCKADDR_IN *From = (SOCKADDR_IN *)DataIndication->RemoteAddress;
        P->FromPort = RtlUshortByteSwap(From->sin_port);
        P->HadPktinfo = FALSE;
        PUCHAR Ctl = (PUCHAR)DataIndication->ControlInfo;
        for (SIZE_T Off = 0; Ctl && Off + sizeof(CMSGHDR) <= DataIndication->ControlInfoLength;) {
            PCMSGHDR Cmsg = (PCMSGHDR)(Ctl + Off);
            if (Cmsg->cmsg_len < sizeof(CMSGHDR))
                break;
            if (Cmsg->cmsg_level == IPPROTO_IP && Cmsg->cmsg_type == IP_PKTINFO) {
                IN_PKTINFO *Pi = (IN_PKTINFO *)WSA_CMSG_DATA(Cmsg);
                RtlCopyMemory(&P->LocalAddr, &Pi->ipi_addr, 4);
                P->HadPktinfo = TRUE;
            }
            Off += WSA_CMSGHDR_ALIGN(Cmsg->cmsg_len);
        }
        Wg.Count = i + 1;
    }
    KeReleaseSpinLock(&Wg.Lock, Irql);
    return STATUS_PENDING;
}

static const WSK_CLIENT_DATAGRAM_DISPATCH WskDatagramDispatch = {ReceiveDatagrams};

typedef struct _WG_SEND_CTX {
    PMDL Mdl;
    UCHAR Data[64];
    ULONG Len;
} WG_SEND_CTX;

static NTSTATUS SendComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    WG_SEND_CTX *Ctx = Context;
    if (Irp->IoStatus.Status == STATUS_SUCCESS && Irp->IoStatus.Information == Ctx->Len)
        InterlockedIncrement(&Wg.SendsOk);
    else
        InterlockedIncrement(&Wg.SendsBad);
    IoFreeMdl(Ctx->Mdl);
    ExFreePoolWithTag(Ctx, WG_TAG);
    IoFreeIrp(Irp);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS WaitComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS WaitIrp(NTSTATUS Status, PIRP Irp, PKEVENT Event)
{
    if (Status == STATUS_PENDING) {
        LARGE_INTEGER T;
        T.QuadPart = -5000LL * 10000;
        if (KeWaitForSingleObject(Event, Executive, KernelMode, FALSE, &T) == STATUS_TIMEOUT)
            fail_msg("IRP did not complete");
        Status = Irp->IoStatus.Status;
    }
    return Status;
}

/* WireGuard's endpoint cmsg: IN_PKTINFO then a zero-length trailer. */
typedef struct _WG_CMSG {
    CMSGHDR Cmsg;
    IN_PKTINFO Data;
    CMSGHDR CmsgHack;
} WG_CMSG;

static NTSTATUS SendTo(PWSK_SOCKET Sock, const char *Msg, const char *SrcIp, PSOCKADDR Remote)
{
    WG_SEND_CTX *Ctx = ExAllocatePoolZero(NonPagedPool, sizeof *Ctx, WG_TAG);
    assert_non_null(Ctx);
    Ctx->Len = (ULONG)strlen(Msg);
    RtlCopyMemory(Ctx->Data, Msg, Ctx->Len);
    Ctx->Mdl = IoAllocateMdl(Ctx->Data, Ctx->Len, FALSE, FALSE, NULL);
    assert_non_null(Ctx->Mdl);
    MmBuildMdlForNonPagedPool(Ctx->Mdl);
    WSK_BUF Buf = {Ctx->Mdl, 0, Ctx->Len};
    WG_CMSG Cmsg;
    RtlZeroMemory(&Cmsg, sizeof Cmsg);
    Cmsg.Cmsg.cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
    Cmsg.Cmsg.cmsg_level = IPPROTO_IP;
    Cmsg.Cmsg.cmsg_type = IP_PKTINFO;
    SOCKADDR_IN Src;
    assert_true(wskc_sin(&Src, SrcIp, 0));
    Cmsg.Data.ipi_addr = Src.sin_addr;
    Cmsg.CmsgHack.cmsg_len = WSA_CMSG_LEN(0);
    Cmsg.CmsgHack.cmsg_level = IPPROTO_IP;
    Cmsg.CmsgHack.cmsg_type = 0;
    PIRP Irp = IoAllocateIrp(1, FALSE);
    assert_non_null(Irp);
    IoSetCompletionRoutine(Irp, SendComplete, Ctx, TRUE, TRUE, TRUE);
    /* Cmsg lives on our stack: the provider copies it during the call */
    return ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch)
        ->WskSendTo(Sock, &Buf, 0, Remote, sizeof Cmsg, &Cmsg.Cmsg, Irp);
}

/* ---- the test ---------------------------------------------------------------------- */
struct cnt_wait {
    volatile LONG *v;
    LONG want;
};
static bool reached(void *c)
{
    struct cnt_wait *w = c;
    return InterlockedCompareExchange(w->v, 0, 0) >= w->want;
}
static bool rx_reached(void *c)
{
    LONG *want = c;
    KIRQL Irql;
    KeAcquireSpinLock(&Wg.Lock, &Irql);
    LONG n = Wg.Count;
    KeReleaseSpinLock(&Wg.Lock, Irql);
    return n >= *want;
}

static void test_wireguard_nt(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    RtlZeroMemory(&Wg, sizeof Wg);
    KeInitializeSpinLock(&Wg.Lock);
    int kfd = lk_udp_open("192.0.2.1", KPORT);
    assert_true(kfd >= 0);
    PWSK_PROVIDER_NPI Npi = &ls.npi;

    /* transport list: query the size, retry while it overflows */
    SIZE_T Size = 0;
    PWSK_TRANSPORT Transports = NULL;
    NTSTATUS Status;
    unsigned Tries = 0;
    for (;;) {
        Status = Npi->Dispatch->WskControlClient(Npi->Client, WSK_TRANSPORT_LIST_QUERY, 0, NULL,
                                                 Size, Transports, &Size, NULL);
        Tries++;
        if (Status != STATUS_BUFFER_OVERFLOW || Tries > 4)
            break;
        if (Transports)
            ExFreePoolWithTag(Transports, WG_TAG);
        Transports = ExAllocatePoolZero(NonPagedPool, Size, WG_TAG);
        assert_non_null(Transports);
    }
    assert_int_equal(Status, STATUS_SUCCESS);
    assert_int_equal(Tries, 2);
    BOOLEAN Udp4 = FALSE;
    for (SIZE_T i = 0; i < Size / sizeof(WSK_TRANSPORT); i++)
        if (Transports[i].SocketType == SOCK_DGRAM && Transports[i].Protocol == IPPROTO_UDP &&
            (Transports[i].AddressFamily == AF_INET || Transports[i].AddressFamily == AF_UNSPEC))
            Udp4 = TRUE;
    assert_true(Udp4);
    ExFreePoolWithTag(Transports, WG_TAG);

    /* static receive event, before any socket */
    WSK_EVENT_CALLBACK_CONTROL Ctl = {&NPI_WSK_INTERFACE_ID, WSK_EVENT_RECEIVE_FROM};
    assert_int_equal(Npi->Dispatch->WskControlClient(Npi->Client, WSK_SET_STATIC_EVENT_CALLBACKS,
                                                     sizeof Ctl, &Ctl, 0, NULL, NULL, NULL),
                     STATUS_SUCCESS);

    /* the IPv4 socket */
    KEVENT Event;
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    PIRP Irp = IoAllocateIrp(1, FALSE);
    assert_non_null(Irp);
    IoSetCompletionRoutine(Irp, WaitComplete, &Event, TRUE, TRUE, TRUE);
    Status = Npi->Dispatch->WskSocket(Npi->Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                      WSK_FLAG_DATAGRAM_SOCKET, &Wg, &WskDatagramDispatch, NULL,
                                      NULL, NULL, Irp);
    assert_int_equal(WaitIrp(Status, Irp, &Event), STATUS_SUCCESS);
    PWSK_SOCKET Sock = (PWSK_SOCKET)Irp->IoStatus.Information;
    PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch = (PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch;

    ULONG True = TRUE;
    KeClearEvent(&Event);
    IoReuseIrp(Irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(Irp, WaitComplete, &Event, TRUE, TRUE, TRUE);
    Status = Dispatch->WskControlSocket(Sock, WskSetOption, IP_PKTINFO, IPPROTO_IP, sizeof True,
                                        &True, 0, NULL, NULL, Irp);
    assert_int_equal(WaitIrp(Status, Irp, &Event), STATUS_SUCCESS);

    SOCKADDR_IN Local;
    assert_true(wskc_sin(&Local, NULL, 0));
    KeClearEvent(&Event);
    IoReuseIrp(Irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(Irp, WaitComplete, &Event, TRUE, TRUE, TRUE);
    Status = Dispatch->WskBind(Sock, (PSOCKADDR)&Local, 0, Irp);
    assert_int_equal(WaitIrp(Status, Irp, &Event), STATUS_SUCCESS);
    KeClearEvent(&Event);
    IoReuseIrp(Irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(Irp, WaitComplete, &Event, TRUE, TRUE, TRUE);
    Status = Dispatch->WskGetLocalAddress(Sock, (PSOCKADDR)&Local, Irp);
    assert_int_equal(WaitIrp(Status, Irp, &Event), STATUS_SUCCESS);
    char ip[16];
    uint16_t Port = 0;
    wskc_sin_str(&Local, ip, &Port);
    assert_in_range(Port, 49152, 65535);

    /* receive: 16 datagrams, to .2 and .3 in turn; each indication kept */
    for (unsigned i = 0; i < 16; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "handshake %u", i);
        assert_int_equal(lk_udp_sendto(kfd, msg, (size_t)len, i % 2 ? "192.0.2.3" : "192.0.2.2",
                                       Port),
                         len);
    }
    LONG Want = 16;
    assert_int_equal(lk_wait_until(rx_reached, &Want, 3000, 1), 0);
    /* the packets are ours now (the event returned PENDING): snapshot them
     * under the lock the callback fills them under */
    static WG_PACKET Packets[NRX];
    KIRQL Irql;
    KeAcquireSpinLock(&Wg.Lock, &Irql);
    LONG Count = Wg.Count, Overflow = Wg.Overflow;
    RtlCopyMemory(Packets, Wg.Packets, sizeof Packets);
    KeReleaseSpinLock(&Wg.Lock, Irql);
    assert_int_equal(Count, 16);
    assert_int_equal(Overflow, 0);
    /* the kernel resolves .2 and .3 separately, so the two interleaved
     * streams may arrive in either order: match each by its number */
    bool seen[16] = {false};
    for (unsigned k = 0; k < 16; k++) {
        WG_PACKET *P = &Packets[k];
        char msg[32];
        unsigned i = 99;
        assert_true(P->Len > 10 && P->Len < sizeof msg);
        assert_int_equal(sscanf((const char *)P->Data, "handshake %u", &i), 1);
        assert_true(i < 16 && !seen[i]);
        seen[i] = true;
        int len = snprintf(msg, sizeof msg, "handshake %u", i);
        assert_int_equal(P->Len, len);
        assert_memory_equal(P->Data, msg, (size_t)len);
        assert_int_equal(P->FromPort, KPORT);
        assert_true(P->HadPktinfo);
        const UCHAR *A = (const UCHAR *)&P->LocalAddr;
        assert_int_equal(A[3], i % 2 ? 3 : 2);
        /* we still hold it: our pointer is in Next */
        assert_ptr_equal(P->Indication->Next, &Wg.Packets[k]);
    }

    /* answer from the address each one arrived on (IN_PKTINFO + trailer) */
    SOCKADDR_IN Remote;
    assert_true(wskc_sin(&Remote, "192.0.2.1", KPORT));
    for (unsigned i = 0; i < 4; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "response %u", i);
        Status = SendTo(Sock, msg, i % 2 ? "192.0.2.3" : "192.0.2.2", (PSOCKADDR)&Remote);
        assert_true(Status == STATUS_PENDING || Status == STATUS_SUCCESS);
        char buf[64], src[LK_ADDRSTRLEN];
        uint16_t sport = 0;
        assert_int_equal(lk_udp_recv(kfd, buf, sizeof buf, 2000, src, &sport), (long)strlen(msg));
        assert_memory_equal(buf, msg, strlen(msg));
        assert_string_equal(src, i % 2 ? "192.0.2.3" : "192.0.2.2");
        assert_int_equal(sport, Port);
    }
    struct cnt_wait sw = {&Wg.SendsOk, 4};
    assert_int_equal(lk_wait_until(reached, &sw, 3000, 1), 0);
    assert_int_equal(InterlockedCompareExchange(&Wg.SendsBad, 0, 0), 0);

    /* give the elements back one by one, Next reset first */
    for (unsigned i = 0; i < 16; i++) {
        PWSK_DATAGRAM_INDICATION Ind = Packets[i].Indication;
        Ind->Next = NULL;
        assert_int_equal(Dispatch->WskRelease(Sock, Ind), STATUS_SUCCESS);
    }

    KeClearEvent(&Event);
    IoReuseIrp(Irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(Irp, WaitComplete, &Event, TRUE, TRUE, TRUE);
    Status = Dispatch->WskCloseSocket(Sock, Irp);
    assert_int_equal(WaitIrp(Status, Irp, &Event), STATUS_SUCCESS);
    IoFreeIrp(Irp);
    lk_close(kfd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wireguard_nt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
