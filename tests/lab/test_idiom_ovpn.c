/* SPDX-License-Identifier: MIT */
/*
 * Client idiom: OpenVPN ovpn-dco-win (socket.cpp, UDP transport), written
 * the way that driver writes its WSK code:
 *
 *   - WskSocket with a socket context and a WSK_CLIENT_DATAGRAM_DISPATCH
 *     holding WskReceiveFromEvent; WskBind to the local address; then
 *     SIO_WSK_SET_REMOTE_ADDRESS to the peer (after bind); then
 *     SO_WSK_EVENT_CALLBACK(WSK_EVENT_RECEIVE_FROM) with no IRP (after bind);
 *   - sends: one IRP per send from IoAllocateIrp; the completion routine
 *     "will be called in any case" and frees the IRP and the send buffer
 *     context; WskSendMessages (a WSK_BUF_LIST of two datagrams) and
 *     WskSendTo, both with RemoteAddress NULL (the fixed remote);
 *   - the receive event walks every indication and every MDL of its chain
 *     with MmGetSystemAddressForMdlSafe, copies the payload out, and
 *     returns STATUS_SUCCESS.
 *
 * With the fixed remote set, datagrams from another kernel socket (another
 * source port) are NOT delivered.  After WskCloseSocket no callback runs.
 *
 *     kernel 192.0.2.1:6400 (peer), :6401 (stranger) [wskovpn0] <== TAP ==>
 *     wskstack 192.0.2.2:5400
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskovpn0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"
#define PEER_PORT 6400
#define STRANGER_PORT 6401
#define LOCAL_PORT 5400
#define MAXRX 64
#define OVPN_TAG 0x6e70766fu

/* ---- the driver side ------------------------------------------------------------ */
typedef struct _OVPN_RX {
    ULONG Len;
    UCHAR Data[1600];
    USHORT FromPort;
} OVPN_RX;

typedef struct _OVPN_SOCKET {
    PWSK_SOCKET Socket;
    KSPIN_LOCK Lock;
    OVPN_RX Rx[MAXRX];
    LONG RxCount;
    LONG Callbacks;
    LONG NullIndications;
    LONG SendsCompleted;
    LONG SendsFailed;
} OVPN_SOCKET, *POVPN_SOCKET;

typedef struct _OVPN_TX {
    POVPN_SOCKET Sock;
    PMDL Mdl[2];
    WSK_BUF_LIST List[2];
    UCHAR Data[2][256];
} OVPN_TX, *POVPN_TX;

static NTSTATUS OvpnSocketUdpReceiveFromEvent(PVOID SocketContext, ULONG Flags,
                                              PWSK_DATAGRAM_INDICATION DataIndication)
{
    UNREFERENCED_PARAMETER(Flags);
    POVPN_SOCKET Sock = (POVPN_SOCKET)SocketContext;
    InterlockedIncrement(&Sock->Callbacks);
    if (DataIndication == NULL) {
        InterlockedIncrement(&Sock->NullIndications); /* socket is no longer functional */
        return STATUS_SUCCESS;
    }
    while (DataIndication != NULL) {
        KIRQL Irql;
        KeAcquireSpinLock(&Sock->Lock, &Irql);
        LONG i = Sock->RxCount;
        if (i < MAXRX) {
            OVPN_RX *Rx = &Sock->Rx[i];
            Rx->Len = 0;
            SIZE_T Left = DataIndication->Buffer.Length;
            ULONG Offset = DataIndication->Buffer.Offset;
            for (PMDL Mdl = DataIndication->Buffer.Mdl; Mdl != NULL && Left > 0;
                 Mdl = Mdl->Next) {
                PUCHAR Va = MmGetSystemAddressForMdlSafe(Mdl, LowPagePriority | MdlMappingNoExecute);
                if (Va == NULL)
                    break;
                ULONG Count = MmGetMdlByteCount(Mdl) - Offset;
                if (Count > Left)
                    Count = (ULONG)Left;
                if (Rx->Len + Count > sizeof Rx->Data)
                    break;
                RtlCopyMemory(Rx->Data + Rx->Len, Va + Offset, Count);
                Rx->Len += Count;
                Left -= Count;
                Offset = 0;
            }
            SOCKADDR_IN *From = (SOCKADDR_IN *)DataIndication->RemoteAddress;
            Rx->FromPort = From ? RtlUshortByteSwap(From->sin_port) : 0;
            Sock->RxCount = i + 1;
        }
        KeReleaseSpinLock(&Sock->Lock, Irql);
        DataIndication = DataIndication->Next;
    }
    return STATUS_SUCCESS;
}

static const WSK_CLIENT_DATAGRAM_DISPATCH OvpnSocketUdpDispatch = {
    OvpnSocketUdpReceiveFromEvent,
};

/* "completion routine will be called in any case and will free IRP" */
static NTSTATUS OvpnSocketSendComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    POVPN_TX Tx = (POVPN_TX)Context;
    if (NT_SUCCESS(Irp->IoStatus.Status))
        InterlockedIncrement(&Tx->Sock->SendsCompleted);
    else
        InterlockedIncrement(&Tx->Sock->SendsFailed);
    for (int i = 0; i < 2; i++)
        if (Tx->Mdl[i])
            IoFreeMdl(Tx->Mdl[i]);
    ExFreePoolWithTag(Tx, OVPN_TAG);
    IoFreeIrp(Irp);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS SyncComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* The synchronous steps of socket setup (ovpn waits on an event). */
static NTSTATUS OvpnSync(NTSTATUS Status, PKEVENT Event, PIRP Irp)
{
    if (Status == STATUS_PENDING) {
        LARGE_INTEGER T;
        T.QuadPart = -5000LL * 10000;
        if (KeWaitForSingleObject(Event, Executive, KernelMode, FALSE, &T) == STATUS_TIMEOUT)
            fail_msg("setup IRP did not complete");
        Status = Irp->IoStatus.Status;
    }
    return Status;
}

static NTSTATUS OvpnSocketInit(PWSK_PROVIDER_NPI Npi, POVPN_SOCKET Sock, PSOCKADDR Local,
                               PSOCKADDR Remote)
{
    KEVENT Event;
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    PIRP Irp = IoAllocateIrp(1, FALSE);
    if (Irp == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(Irp, SyncComplete, &Event, TRUE, TRUE, TRUE);
    NTSTATUS Status = Npi->Dispatch->WskSocket(Npi->Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                               WSK_FLAG_DATAGRAM_SOCKET, Sock,
                                               &OvpnSocketUdpDispatch, NULL, NULL, NULL, Irp);
    Status = OvpnSync(Status, &Event, Irp);
    if (!NT_SUCCESS(Status))
        goto done;
    Sock->Socket = (PWSK_SOCKET)Irp->IoStatus.Information;
    PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch =
        (PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Socket->Dispatch;

    KeClearEvent(&Event);
    IoReuseIrp(Irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(Irp, SyncComplete, &Event, TRUE, TRUE, TRUE);
    Status = OvpnSync(Dispatch->WskBind(Sock->Socket, Local, 0, Irp), &Event, Irp);
    if (!NT_SUCCESS(Status))
        goto done;

    KeClearEvent(&Event);
    IoReuseIrp(Irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(Irp, SyncComplete, &Event, TRUE, TRUE, TRUE);
    Status = OvpnSync(Dispatch->WskControlSocket(Sock->Socket, WskIoctl,
                                                 SIO_WSK_SET_REMOTE_ADDRESS, 0,
                                                 sizeof(SOCKADDR_IN), Remote, 0, NULL, NULL, Irp),
                      &Event, Irp);
    if (!NT_SUCCESS(Status))
        goto done;

    WSK_EVENT_CALLBACK_CONTROL EventCallbackControl;
    EventCallbackControl.NpiId = &NPI_WSK_INTERFACE_ID;
    EventCallbackControl.EventMask = WSK_EVENT_RECEIVE_FROM;
    Status = Dispatch->WskControlSocket(Sock->Socket, WskSetOption, SO_WSK_EVENT_CALLBACK,
                                        SOL_SOCKET, sizeof(EventCallbackControl),
                                        &EventCallbackControl, 0, NULL, NULL, NULL);
done:
    IoFreeIrp(Irp);
    return Status;
}

static POVPN_TX OvpnTxAlloc(POVPN_SOCKET Sock, const char *A, const char *B)
{
    POVPN_TX Tx = ExAllocatePoolZero(NonPagedPool, sizeof(OVPN_TX), OVPN_TAG);
    assert_non_null(Tx);
    Tx->Sock = Sock;
    const char *Msg[2] = {A, B};
    for (int i = 0; i < 2 && Msg[i]; i++) {
        ULONG Len = (ULONG)strlen(Msg[i]);
        RtlCopyMemory(Tx->Data[i], Msg[i], Len);
        Tx->Mdl[i] = IoAllocateMdl(Tx->Data[i], Len, FALSE, FALSE, NULL);
        assert_non_null(Tx->Mdl[i]);
        MmBuildMdlForNonPagedPool(Tx->Mdl[i]);
        Tx->List[i].Buffer.Mdl = Tx->Mdl[i];
        Tx->List[i].Buffer.Offset = 0;
        Tx->List[i].Buffer.Length = Len;
        if (i > 0)
            Tx->List[i - 1].Next = &Tx->List[i];
    }
    return Tx;
}

/* ovpn: send with the fixed remote, never waits for the completion */
static void OvpnSocketSend(POVPN_SOCKET Sock, POVPN_TX Tx, BOOLEAN Batch)
{
    PIRP Irp = IoAllocateIrp(1, FALSE);
    assert_non_null(Irp);
    IoSetCompletionRoutine(Irp, OvpnSocketSendComplete, Tx, TRUE, TRUE, TRUE);
    PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch =
        (PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Socket->Dispatch;
    if (Batch)
        (void)Dispatch->WskSendMessages(Sock->Socket, &Tx->List[0], 0, NULL, 0, NULL, Irp);
    else
        (void)Dispatch->WskSendTo(Sock->Socket, &Tx->List[0].Buffer, 0, NULL, 0, NULL, Irp);
}

/* ---- the test -------------------------------------------------------------------------- */
struct rx_wait {
    POVPN_SOCKET Sock;
    LONG Want;
};
static LONG RxCountLocked(POVPN_SOCKET Sock)
{
    KIRQL Irql;
    KeAcquireSpinLock(&Sock->Lock, &Irql);
    LONG n = Sock->RxCount;
    KeReleaseSpinLock(&Sock->Lock, Irql);
    return n;
}
static bool rx_reached(void *c)
{
    struct rx_wait *w = c;
    return RxCountLocked(w->Sock) >= w->Want;
}
static bool sends_done(void *c)
{
    struct rx_wait *w = c;
    return InterlockedCompareExchange(&w->Sock->SendsCompleted, 0, 0) +
               InterlockedCompareExchange(&w->Sock->SendsFailed, 0, 0) >=
           w->Want;
}

static void test_ovpn_dco_udp(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    int peer = lk_udp_open("192.0.2.1", PEER_PORT);
    int stranger = lk_udp_open("192.0.2.1", STRANGER_PORT);
    assert_true(peer >= 0 && stranger >= 0);

    static OVPN_SOCKET Sock;
    RtlZeroMemory(&Sock, sizeof Sock);
    KeInitializeSpinLock(&Sock.Lock);
    SOCKADDR_IN Local, Remote;
    assert_true(wskc_sin(&Local, "192.0.2.2", LOCAL_PORT));
    assert_true(wskc_sin(&Remote, "192.0.2.1", PEER_PORT));
    assert_int_equal(OvpnSocketInit(&ls.npi, &Sock, (PSOCKADDR)&Local, (PSOCKADDR)&Remote),
                     STATUS_SUCCESS);

    /* sends with NULL remote: WskSendMessages (2 datagrams), WskSendTo */
    OvpnSocketSend(&Sock, OvpnTxAlloc(&Sock, "ovpn-batch-1", "ovpn-batch-two"), TRUE);
    OvpnSocketSend(&Sock, OvpnTxAlloc(&Sock, "ovpn-single", NULL), FALSE);
    struct rx_wait sw = {&Sock, 2};
    assert_int_equal(lk_wait_until(sends_done, &sw, 3000, 1), 0);
    assert_int_equal(InterlockedCompareExchange(&Sock.SendsCompleted, 0, 0), 2);
    assert_int_equal(InterlockedCompareExchange(&Sock.SendsFailed, 0, 0), 0);
    const char *want[3] = {"ovpn-batch-1", "ovpn-batch-two", "ovpn-single"};
    for (int i = 0; i < 3; i++) {
        char buf[64], src[LK_ADDRSTRLEN];
        uint16_t sport = 0;
        long n = lk_udp_recv(peer, buf, sizeof buf, 2000, src, &sport);
        assert_int_equal(n, (long)strlen(want[i]));
        assert_memory_equal(buf, want[i], (size_t)n);
        assert_string_equal(src, "192.0.2.2");
        assert_int_equal(sport, LOCAL_PORT);
    }

    /* the peer's datagrams arrive through the event; the stranger's not */
    int64_t in0 = lab_stack_cnt(&ls, "UdpInDatagrams");
    int64_t ie0 = lab_stack_cnt(&ls, "UdpInErrors");
    for (unsigned i = 0; i < 10; i++) {
        char msg[1500];
        size_t len = 20 + i * 140;
        memset(msg, 'A' + (int)i, len);
        assert_int_equal(lk_udp_sendto(stranger, "stranger", 8, "192.0.2.2", LOCAL_PORT), 8);
        assert_int_equal(lk_udp_sendto(peer, msg, len, "192.0.2.2", LOCAL_PORT), (long)len);
    }
    struct rx_wait rw = {&Sock, 10};
    assert_int_equal(lk_wait_until(rx_reached, &rw, 3000, 1), 0);
    lk_sleep_ms(100); /* a stranger's datagram, if delivered, would show */
    static OVPN_RX Snap[MAXRX];
    KIRQL Irql;
    KeAcquireSpinLock(&Sock.Lock, &Irql);
    LONG NRx = Sock.RxCount;
    RtlCopyMemory(Snap, Sock.Rx, sizeof Snap);
    KeReleaseSpinLock(&Sock.Lock, Irql);
    assert_int_equal(NRx, 10);
    for (unsigned i = 0; i < 10; i++) {
        size_t len = 20 + i * 140;
        assert_int_equal(Snap[i].Len, len);
        assert_int_equal(Snap[i].FromPort, PEER_PORT);
        for (size_t k = 0; k < len; k++)
            if (Snap[i].Data[k] != (UCHAR)('A' + i))
                fail_msg("datagram %u byte %zu", i, k);
    }
    assert_int_equal(InterlockedCompareExchange(&Sock.NullIndications, 0, 0), 0);
    /* the 10 stranger datagrams were discarded (UdpInErrors), none went up */
    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpInDatagrams", in0 + 10) - in0, 10);
    assert_int_equal(lab_stack_cnt(&ls, "UdpInErrors") - ie0, 10);

    /* close: afterwards no callback */
    assert_int_equal(wskc_close(Sock.Socket), STATUS_SUCCESS);
    LONG cb = InterlockedCompareExchange(&Sock.Callbacks, 0, 0);
    assert_int_equal(lk_udp_sendto(peer, "late", 4, "192.0.2.2", LOCAL_PORT), 4);
    lk_sleep_ms(100);
    assert_int_equal(InterlockedCompareExchange(&Sock.Callbacks, 0, 0), cb);
    lk_close(peer);
    lk_close(stranger);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ovpn_dco_udp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
