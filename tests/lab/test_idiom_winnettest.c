/* SPDX-License-Identifier: MIT */
/*
 * Client idiom: Microsoft win-net-test (src/wskclient/wskclient.c, the
 * fnsock kernel sockets), written the way that project writes its WSK code:
 *
 *   - synchronous wrappers (WskSocketSync, WskBindSync, ...): IoAllocateIrp,
 *     KEVENT, IoSetCompletionRoutine(GenericCompletionRoutine), the call,
 *     KeWaitForSingleObject ONLY if it returned STATUS_PENDING, then
 *     Irp->IoStatus.Status, IoFreeIrp;
 *   - GenericCompletionRoutine sets the event ONLY when Irp->PendingReturned
 *     is TRUE (a provider that returns STATUS_PENDING without marking the IRP
 *     pending would hang the caller; one that completes synchronously with
 *     PendingReturned TRUE would leave the event set for nobody);
 *   - receive timeouts: WskWaitForIrpCompletion waits TimeoutMs, then
 *     IoCancelIrp and waits again; the wrapper maps STATUS_CANCELLED to
 *     STATUS_TIMEOUT;
 *   - WskReceiveFrom with ControlLength pointing at 0, ControlInfo and
 *     ControlFlags NULL; WskSendTo with an IN_PKTINFO control message.
 * One deviation: every wait here is bounded (win-net-test waits forever
 * after the cancel), so a broken provider fails the test instead of
 * hanging it.
 *
 *     kernel 192.0.2.1:6200 [wsknt0] <== TAP ==> wskstack 192.0.2.2, 192.0.2.3
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wsknt0;addr=192.0.2.2/24;addr=192.0.2.3/24;host-addr=192.0.2.1/24"
#define WSKCLIENT_INFINITE 0xffffffffu
#define HANG_MS 5000u

static PWSK_PROVIDER_NPI ProviderNpi;
static unsigned HangDetected;

/* ---- the wrappers, win-net-test style ------------------------------------------ */
static NTSTATUS GenericCompletionRoutine(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    PKEVENT Event = (PKEVENT)Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    if (Irp->PendingReturned)
        KeSetEvent(Event, 0, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS BoundedWait(PKEVENT Event, ULONG TimeoutMs)
{
    LARGE_INTEGER Timeout;
    Timeout.QuadPart = -(LONGLONG)TimeoutMs * 10000;
    return KeWaitForSingleObject(Event, Executive, KernelMode, FALSE, &Timeout);
}

static NTSTATUS WskWaitForIrpCompletion(PKEVENT Event, PIRP Irp, ULONG TimeoutMs)
{
    NTSTATUS Status = BoundedWait(Event, TimeoutMs == WSKCLIENT_INFINITE ? HANG_MS : TimeoutMs);
    if (Status == STATUS_TIMEOUT) {
        IoCancelIrp(Irp);
        if (BoundedWait(Event, HANG_MS) == STATUS_TIMEOUT) {
            HangDetected++;
            return STATUS_IO_TIMEOUT; /* the IRP is leaked on purpose */
        }
    }
    return Irp->IoStatus.Status;
}

static NTSTATUS WskSocketSync(ADDRESS_FAMILY Family, PWSK_SOCKET *Sock)
{
    KEVENT Event;
    NTSTATUS Status;
    *Sock = NULL;
    PIRP Irp = IoAllocateIrp(1, FALSE);
    if (Irp == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    IoSetCompletionRoutine(Irp, GenericCompletionRoutine, &Event, TRUE, TRUE, TRUE);
    Status = ProviderNpi->Dispatch->WskSocket(ProviderNpi->Client, Family, SOCK_DGRAM,
                                              IPPROTO_UDP, WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL,
                                              NULL, NULL, NULL, Irp);
    if (Status == STATUS_PENDING) {
        if (BoundedWait(&Event, HANG_MS) == STATUS_TIMEOUT) {
            HangDetected++;
            return STATUS_IO_TIMEOUT;
        }
    } else if (!NT_SUCCESS(Status)) {
        goto IoStatus;
    }
    *Sock = (PWSK_SOCKET)Irp->IoStatus.Information;
IoStatus:
    Status = Irp->IoStatus.Status;
    IoFreeIrp(Irp);
    return Status;
}

/* The shape every other sync wrapper shares. */
#define WNT_SYNC_CALL(CallExpr)                                                   \
    do {                                                                          \
        Irp = IoAllocateIrp(1, FALSE);                                            \
        if (Irp == NULL)                                                          \
            return STATUS_INSUFFICIENT_RESOURCES;                                 \
        KeInitializeEvent(&Event, NotificationEvent, FALSE);                      \
        IoSetCompletionRoutine(Irp, GenericCompletionRoutine, &Event, TRUE, TRUE, \
                               TRUE);                                             \
        Status = (CallExpr);                                                      \
        if (Status == STATUS_PENDING &&                                           \
            BoundedWait(&Event, HANG_MS) == STATUS_TIMEOUT) {                     \
            HangDetected++;                                                       \
            return STATUS_IO_TIMEOUT;                                             \
        }                                                                         \
        Status = Irp->IoStatus.Status;                                            \
        IoFreeIrp(Irp);                                                           \
    } while (0)

static NTSTATUS WskBindSync(PWSK_SOCKET Sock, PSOCKADDR Addr)
{
    PIRP Irp;
    KEVENT Event;
    NTSTATUS Status;
    PFN_WSK_BIND WskBind = ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch)->WskBind;
    WNT_SYNC_CALL(WskBind(Sock, Addr, 0, Irp));
    return Status;
}

static NTSTATUS WskGetLocalAddressSync(PWSK_SOCKET Sock, PSOCKADDR Addr)
{
    PIRP Irp;
    KEVENT Event;
    NTSTATUS Status;
    WNT_SYNC_CALL(
        ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch)->WskGetLocalAddress(Sock, Addr, Irp));
    return Status;
}

static NTSTATUS WskSetSockOptSync(PWSK_SOCKET Sock, ULONG Level, ULONG Option, PVOID Value,
                                  ULONG ValueLength)
{
    PIRP Irp;
    KEVENT Event;
    NTSTATUS Status;
    WNT_SYNC_CALL(((PWSK_PROVIDER_BASIC_DISPATCH)Sock->Dispatch)
                      ->WskControlSocket(Sock, WskSetOption, Option, Level, ValueLength, Value, 0,
                                         NULL, NULL, Irp));
    return Status;
}

static NTSTATUS WskCloseSocketSync(PWSK_SOCKET Sock)
{
    PIRP Irp;
    KEVENT Event;
    NTSTATUS Status;
    WNT_SYNC_CALL(((PWSK_PROVIDER_BASIC_DISPATCH)Sock->Dispatch)->WskCloseSocket(Sock, Irp));
    return Status;
}

static NTSTATUS WskSendToSync(PWSK_SOCKET Sock, PVOID Buf, ULONG BufLen, PSOCKADDR Remote,
                              ULONG ControlInfoLength, PCMSGHDR ControlInfo, ULONG *BytesSent)
{
    PIRP Irp;
    KEVENT Event;
    NTSTATUS Status;
    PMDL Mdl = IoAllocateMdl(Buf, BufLen, FALSE, FALSE, NULL);
    if (Mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmBuildMdlForNonPagedPool(Mdl);
    WSK_BUF WskBuf = {Mdl, 0, BufLen};
    *BytesSent = 0;
    Irp = IoAllocateIrp(1, FALSE);
    if (Irp == NULL) {
        IoFreeMdl(Mdl);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    IoSetCompletionRoutine(Irp, GenericCompletionRoutine, &Event, TRUE, TRUE, TRUE);
    Status = ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch)
                 ->WskSendTo(Sock, &WskBuf, 0, Remote, ControlInfoLength, ControlInfo, Irp);
    if (Status == STATUS_PENDING)
        Status = WskWaitForIrpCompletion(&Event, Irp, WSKCLIENT_INFINITE);
    else
        Status = Irp->IoStatus.Status;
    if (Status == STATUS_IO_TIMEOUT)
        return Status; /* leaked: the provider may still use them */
    if (NT_SUCCESS(Status))
        *BytesSent = (ULONG)Irp->IoStatus.Information;
    IoFreeIrp(Irp);
    IoFreeMdl(Mdl);
    return Status;
}

static NTSTATUS WskReceiveFromSync(PWSK_SOCKET Sock, PVOID Buf, ULONG BufLen, PSOCKADDR Remote,
                                   ULONG TimeoutMs, ULONG *BytesReceived)
{
    PIRP Irp;
    KEVENT Event;
    NTSTATUS Status;
    ULONG ControlLength = 0;
    PMDL Mdl = IoAllocateMdl(Buf, BufLen, FALSE, FALSE, NULL);
    if (Mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmBuildMdlForNonPagedPool(Mdl);
    WSK_BUF WskBuf = {Mdl, 0, BufLen};
    *BytesReceived = 0;
    Irp = IoAllocateIrp(1, FALSE);
    if (Irp == NULL) {
        IoFreeMdl(Mdl);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    IoSetCompletionRoutine(Irp, GenericCompletionRoutine, &Event, TRUE, TRUE, TRUE);
    Status = ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Sock->Dispatch)
                 ->WskReceiveFrom(Sock, &WskBuf, 0, Remote, &ControlLength, NULL, NULL, Irp);
    if (Status == STATUS_PENDING)
        Status = WskWaitForIrpCompletion(&Event, Irp, TimeoutMs);
    else
        Status = Irp->IoStatus.Status;
    if (Status == STATUS_IO_TIMEOUT)
        return Status;
    if (NT_SUCCESS(Status))
        *BytesReceived = (ULONG)Irp->IoStatus.Information;
    else if (Status == STATUS_CANCELLED)
        Status = STATUS_TIMEOUT; /* we hit our timeout and cancelled the IRP */
    IoFreeIrp(Irp);
    IoFreeMdl(Mdl);
    return Status;
}

/* ---- the test ---------------------------------------------------------------------- */
static void test_win_net_test_wrappers(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    ProviderNpi = &ls.npi;
    HangDetected = 0;
    int kfd = lk_udp_open("192.0.2.1", 6200);
    assert_true(kfd >= 0);

    PWSK_SOCKET Sock;
    assert_int_equal(WskSocketSync(AF_INET, &Sock), STATUS_SUCCESS);
    assert_non_null(Sock);
    SOCKADDR_IN Addr;
    assert_true(wskc_sin(&Addr, NULL, 0)); /* 0.0.0.0:0 */
    assert_int_equal(WskBindSync(Sock, (PSOCKADDR)&Addr), STATUS_SUCCESS);
    RtlZeroMemory(&Addr, sizeof Addr);
    assert_int_equal(WskGetLocalAddressSync(Sock, (PSOCKADDR)&Addr), STATUS_SUCCESS);
    char ip[16];
    uint16_t lport = 0;
    wskc_sin_str(&Addr, ip, &lport);
    assert_string_equal(ip, "0.0.0.0");
    assert_in_range(lport, 49152, 65535);
    ULONG On = TRUE;
    assert_int_equal(WskSetSockOptSync(Sock, IPPROTO_IP, IP_PKTINFO, &On, sizeof On),
                     STATUS_SUCCESS);

    /* WskSendTo with an IN_PKTINFO control message choosing the source */
    SOCKADDR_IN Remote;
    assert_true(wskc_sin(&Remote, "192.0.2.1", 6200));
    union {
        CMSGHDR h;
        UCHAR b[WSA_CMSG_SPACE(sizeof(IN_PKTINFO))];
    } Cmsg;
    RtlZeroMemory(&Cmsg, sizeof Cmsg);
    Cmsg.h.cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
    Cmsg.h.cmsg_level = IPPROTO_IP;
    Cmsg.h.cmsg_type = IP_PKTINFO;
    IN_PKTINFO *Pi = (IN_PKTINFO *)WSA_CMSG_DATA(&Cmsg.h);
    SOCKADDR_IN Src;
    assert_true(wskc_sin(&Src, "192.0.2.3", 0));
    Pi->ipi_addr = Src.sin_addr;
    static uint8_t Buf[1500], KBuf[1600];
    for (unsigned i = 0; i < 8; i++) {
        ULONG len = 10 + i * 100;
        memset(Buf, 'a' + (int)i, len);
        ULONG Sent = 0;
        assert_int_equal(WskSendToSync(Sock, Buf, len, (PSOCKADDR)&Remote,
                                       i % 2 ? (ULONG)sizeof Cmsg : 0,
                                       i % 2 ? &Cmsg.h : NULL, &Sent),
                         STATUS_SUCCESS);
        assert_int_equal(Sent, len);
        char src[LK_ADDRSTRLEN] = "";
        uint16_t sport = 0;
        assert_int_equal(lk_udp_recv(kfd, KBuf, sizeof KBuf, 2000, src, &sport), (long)len);
        assert_memory_equal(KBuf, Buf, len);
        /* routed source 192.0.2.2 (the first address), or the IN_PKTINFO one */
        assert_string_equal(src, i % 2 ? "192.0.2.3" : "192.0.2.2");
        assert_int_equal(sport, lport);
    }

    /* a receive nobody answers: IoCancelIrp after the timeout -> STATUS_TIMEOUT */
    ULONG Got = 0;
    SOCKADDR_IN From;
    uint64_t t0 = tu_now_ns();
    assert_int_equal(WskReceiveFromSync(Sock, Buf, sizeof Buf, (PSOCKADDR)&From, 200, &Got),
                     STATUS_TIMEOUT);
    uint64_t ms = (tu_now_ns() - t0) / 1000000u;
    assert_in_range(ms, 200, 2000);
    assert_int_equal(Got, 0);

    /* the cancelled receive took nothing: the next datagram arrives whole */
    assert_int_equal(lk_udp_sendto(kfd, "after-timeout", 13, "192.0.2.2", lport), 13);
    assert_int_equal(WskReceiveFromSync(Sock, Buf, sizeof Buf, (PSOCKADDR)&From, 2000, &Got),
                     STATUS_SUCCESS);
    assert_int_equal(Got, 13);
    assert_memory_equal(Buf, "after-timeout", 13);
    uint16_t fport = 0;
    assert_string_equal(wskc_sin_str(&From, ip, &fport), "192.0.2.1");
    assert_int_equal(fport, 6200);

    /* timeouts racing arrivals: each datagram is received exactly once,
     * either by the receive it raced or by the next one */
    unsigned timeouts = 0, direct = 0;
    for (unsigned i = 0; i < 100; i++) {
        uint32_t tag = 0x5eed0000u + i;
        assert_int_equal(lk_udp_sendto(kfd, &tag, 4, "192.0.2.2", lport), 4);
        NTSTATUS s = WskReceiveFromSync(Sock, Buf, sizeof Buf, NULL, i % 3, &Got);
        if (s == STATUS_TIMEOUT) {
            timeouts++;
            s = WskReceiveFromSync(Sock, Buf, sizeof Buf, NULL, 2000, &Got);
        } else {
            direct++;
        }
        assert_int_equal(s, STATUS_SUCCESS);
        assert_int_equal(Got, 4);
        assert_memory_equal(Buf, &tag, 4);
    }
    print_message("race: %u received at once, %u after a timeout\n", direct, timeouts);
    /* nothing left over */
    assert_int_equal(WskReceiveFromSync(Sock, Buf, sizeof Buf, NULL, 50, &Got), STATUS_TIMEOUT);

    assert_int_equal(WskCloseSocketSync(Sock), STATUS_SUCCESS);
    assert_int_equal(HangDetected, 0);
    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpInDatagrams", 101), 101);
    assert_int_equal(lab_stack_cnt(&ls, "UdpRcvbufErrors"), 0);
    lk_close(kfd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_win_net_test_wrappers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
