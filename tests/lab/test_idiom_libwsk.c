/* SPDX-License-Identifier: MIT */
/*
 * Client idiom: libwsk (MiroKaku/libwsk, libwsk.cpp / berkeley.cpp and its
 * UDP echo client test), written the way that project writes its WSK code:
 *
 *   - a Berkeley-style layer: WSKSocket / WSKIoctl / WSKSendTo /
 *     WSKReceiveFrom / WSKCloseSocket over one helper that allocates an IRP,
 *     arms a KEVENT-setting completion routine, calls, and waits when the
 *     call pended (WSK_CONTEXT_IRP style);
 *   - WSKIoctl binds an unbound datagram socket to the wildcard address
 *     first (the SIO_WSK_* IOCTLs need a bound socket);
 *   - the echo client: SIO_WSK_SET_SENDTO_ADDRESS to the server, then
 *     WskSendTo with RemoteAddress NULL, and WskReceiveFrom with
 *     ControlLength pointing at 0, ControlInfo NULL and ControlFlags given;
 *   - receive timeouts: after the timeout IoCancelIrp, wait for the
 *     cancellation, STATUS_CANCELLED -> STATUS_IO_TIMEOUT.
 *
 *     kernel echo server 192.0.2.1:6300 [wsklib0] <== TAP ==> wskstack 192.0.2.2
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wsklib0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"
#define ECHO_PORT 6300
#define OTHER_PORT 6301

static PWSK_PROVIDER_NPI WSKNPIProvider;

/* ---- libwsk-style layer ------------------------------------------------------------ */
typedef struct _WSK_CONTEXT_IRP {
    PIRP Irp;
    KEVENT Event;
} WSK_CONTEXT_IRP, *PWSK_CONTEXT_IRP;

static NTSTATUS WSKSyncCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS WSKAllocContextIRP(PWSK_CONTEXT_IRP Ctx)
{
    KeInitializeEvent(&Ctx->Event, NotificationEvent, FALSE);
    Ctx->Irp = IoAllocateIrp(1, FALSE);
    if (Ctx->Irp == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(Ctx->Irp, WSKSyncCompletion, &Ctx->Event, TRUE, TRUE, TRUE);
    return STATUS_SUCCESS;
}

/* Wait for a call that returned Status; TimeoutMs 0 = 5 s hang guard. */
static NTSTATUS WSKWaitContextIRP(PWSK_CONTEXT_IRP Ctx, NTSTATUS Status, ULONG TimeoutMs)
{
    LARGE_INTEGER Timeout;
    if (Status == STATUS_PENDING) {
        Timeout.QuadPart = -(LONGLONG)(TimeoutMs ? TimeoutMs : 5000) * 10000;
        if (KeWaitForSingleObject(&Ctx->Event, Executive, KernelMode, FALSE, &Timeout) ==
            STATUS_TIMEOUT) {
            IoCancelIrp(Ctx->Irp);
            Timeout.QuadPart = -5000LL * 10000;
            if (KeWaitForSingleObject(&Ctx->Event, Executive, KernelMode, FALSE, &Timeout) ==
                STATUS_TIMEOUT)
                fail_msg("a cancelled IRP did not complete");
        }
    }
    Status = Ctx->Irp->IoStatus.Status;
    if (Status == STATUS_CANCELLED)
        Status = STATUS_IO_TIMEOUT;
    return Status;
}

static NTSTATUS WSKSocket(PWSK_SOCKET *Socket)
{
    WSK_CONTEXT_IRP Ctx;
    NTSTATUS Status = WSKAllocContextIRP(&Ctx);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = WSKNPIProvider->Dispatch->WskSocket(WSKNPIProvider->Client, AF_INET, SOCK_DGRAM,
                                                 IPPROTO_UDP, WSK_FLAG_DATAGRAM_SOCKET, NULL,
                                                 NULL, NULL, NULL, NULL, Ctx.Irp);
    Status = WSKWaitContextIRP(&Ctx, Status, 0);
    *Socket = NT_SUCCESS(Status) ? (PWSK_SOCKET)Ctx.Irp->IoStatus.Information : NULL;
    IoFreeIrp(Ctx.Irp);
    return Status;
}

static NTSTATUS WSKBind(PWSK_SOCKET Socket, PSOCKADDR Address)
{
    WSK_CONTEXT_IRP Ctx;
    NTSTATUS Status = WSKAllocContextIRP(&Ctx);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Socket->Dispatch)
                 ->WskBind(Socket, Address, 0, Ctx.Irp);
    Status = WSKWaitContextIRP(&Ctx, Status, 0);
    IoFreeIrp(Ctx.Irp);
    return Status;
}

static NTSTATUS WSKGetLocalAddress(PWSK_SOCKET Socket, PSOCKADDR Address)
{
    WSK_CONTEXT_IRP Ctx;
    NTSTATUS Status = WSKAllocContextIRP(&Ctx);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Socket->Dispatch)
                 ->WskGetLocalAddress(Socket, Address, Ctx.Irp);
    Status = WSKWaitContextIRP(&Ctx, Status, 0);
    IoFreeIrp(Ctx.Irp);
    return Status;
}

/* WSKIoctl: the SIO_WSK_* codes need a bound socket; bind the wildcard. */
static NTSTATUS WSKIoctl(PWSK_SOCKET Socket, ULONG Code, PVOID In, SIZE_T InSize)
{
    SOCKADDR_IN Local;
    if (WSKGetLocalAddress(Socket, (PSOCKADDR)&Local) == STATUS_INVALID_DEVICE_STATE) {
        RtlZeroMemory(&Local, sizeof Local);
        Local.sin_family = AF_INET;
        NTSTATUS Status = WSKBind(Socket, (PSOCKADDR)&Local);
        if (!NT_SUCCESS(Status))
            return Status;
    }
    WSK_CONTEXT_IRP Ctx;
    NTSTATUS Status = WSKAllocContextIRP(&Ctx);
    if (!NT_SUCCESS(Status))
        return Status;
    SIZE_T Returned = 0;
    Status = ((PWSK_PROVIDER_BASIC_DISPATCH)Socket->Dispatch)
                 ->WskControlSocket(Socket, WskIoctl, Code, 0, InSize, In, 0, NULL, &Returned,
                                    Ctx.Irp);
    Status = WSKWaitContextIRP(&Ctx, Status, 0);
    IoFreeIrp(Ctx.Irp);
    return Status;
}

static NTSTATUS WSKSendTo(PWSK_SOCKET Socket, PVOID Buffer, ULONG Length, PSOCKADDR Remote,
                          SIZE_T *Sent)
{
    *Sent = 0;
    PMDL Mdl = IoAllocateMdl(Buffer, Length, FALSE, FALSE, NULL);
    if (Mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmBuildMdlForNonPagedPool(Mdl);
    WSK_BUF Buf = {Mdl, 0, Length};
    WSK_CONTEXT_IRP Ctx;
    NTSTATUS Status = WSKAllocContextIRP(&Ctx);
    if (NT_SUCCESS(Status)) {
        Status = ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Socket->Dispatch)
                     ->WskSendTo(Socket, &Buf, 0, Remote, 0, NULL, Ctx.Irp);
        Status = WSKWaitContextIRP(&Ctx, Status, 0);
        if (NT_SUCCESS(Status))
            *Sent = Ctx.Irp->IoStatus.Information;
        IoFreeIrp(Ctx.Irp);
    }
    IoFreeMdl(Mdl);
    return Status;
}

static NTSTATUS WSKReceiveFrom(PWSK_SOCKET Socket, PVOID Buffer, ULONG Length, PSOCKADDR Remote,
                               ULONG TimeoutMs, SIZE_T *Received, ULONG *Flags)
{
    *Received = 0;
    PMDL Mdl = IoAllocateMdl(Buffer, Length, FALSE, FALSE, NULL);
    if (Mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmBuildMdlForNonPagedPool(Mdl);
    WSK_BUF Buf = {Mdl, 0, Length};
    ULONG ControlLength = 0;
    WSK_CONTEXT_IRP Ctx;
    NTSTATUS Status = WSKAllocContextIRP(&Ctx);
    if (NT_SUCCESS(Status)) {
        Status = ((PWSK_PROVIDER_DATAGRAM_DISPATCH)Socket->Dispatch)
                     ->WskReceiveFrom(Socket, &Buf, 0, Remote, &ControlLength, NULL, Flags,
                                      Ctx.Irp);
        Status = WSKWaitContextIRP(&Ctx, Status, TimeoutMs);
        if (NT_SUCCESS(Status))
            *Received = Ctx.Irp->IoStatus.Information;
        IoFreeIrp(Ctx.Irp);
    }
    IoFreeMdl(Mdl);
    return Status;
}

static NTSTATUS WSKCloseSocket(PWSK_SOCKET Socket)
{
    WSK_CONTEXT_IRP Ctx;
    NTSTATUS Status = WSKAllocContextIRP(&Ctx);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = ((PWSK_PROVIDER_BASIC_DISPATCH)Socket->Dispatch)->WskCloseSocket(Socket, Ctx.Irp);
    Status = WSKWaitContextIRP(&Ctx, Status, 0);
    IoFreeIrp(Ctx.Irp);
    return Status;
}

/* ---- the kernel echo server ---------------------------------------------------------- */
struct echo {
    int fd;
    volatile LONG stop;
    LONG echoed;
};
static void *echo_server(void *arg)
{
    struct echo *e = arg;
    char buf[2048], src[LK_ADDRSTRLEN];
    for (int i = 0; i < 1000 && !InterlockedCompareExchange(&e->stop, 0, 0); i++) {
        uint16_t sport = 0;
        long n = lk_udp_recv(e->fd, buf, sizeof buf, 100, src, &sport);
        if (n < 0)
            continue;
        if (lk_udp_sendto(e->fd, buf, (size_t)n, src, sport) == n)
            InterlockedIncrement(&e->echoed);
    }
    return NULL;
}

static void test_libwsk_echo_client(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    WSKNPIProvider = &ls.npi;
    struct echo e = {.fd = lk_udp_open("192.0.2.1", ECHO_PORT)};
    assert_true(e.fd >= 0);
    int other = lk_udp_open("192.0.2.1", OTHER_PORT);
    assert_true(other >= 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, echo_server, &e), 0);

    PWSK_SOCKET Sock = NULL;
    assert_int_equal(WSKSocket(&Sock), STATUS_SUCCESS);
    /* the IOCTL auto-binds the wildcard */
    SOCKADDR_IN Server;
    assert_true(wskc_sin(&Server, "192.0.2.1", ECHO_PORT));
    assert_int_equal(WSKIoctl(Sock, SIO_WSK_SET_SENDTO_ADDRESS, &Server, sizeof Server),
                     STATUS_SUCCESS);
    SOCKADDR_IN Local;
    assert_int_equal(WSKGetLocalAddress(Sock, (PSOCKADDR)&Local), STATUS_SUCCESS);
    char ip[16];
    uint16_t lport = 0;
    assert_string_equal(wskc_sin_str(&Local, ip, &lport), "0.0.0.0");
    assert_in_range(lport, 49152, 65535);

    char Msg[128], Reply[256];
    for (unsigned i = 0; i < 20; i++) {
        int len = snprintf(Msg, sizeof Msg, "libwsk echo #%u %.*s", i, (int)(i * 3),
                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        SIZE_T Sent = 0, Got = 0;
        assert_int_equal(WSKSendTo(Sock, Msg, (ULONG)len, NULL, &Sent), STATUS_SUCCESS);
        assert_int_equal(Sent, len);
        SOCKADDR_IN From;
        ULONG Flags = 0xffff;
        assert_int_equal(WSKReceiveFrom(Sock, Reply, sizeof Reply, (PSOCKADDR)&From, 2000, &Got,
                                        &Flags),
                         STATUS_SUCCESS);
        assert_int_equal(Got, len);
        assert_memory_equal(Reply, Msg, (size_t)len);
        assert_int_equal(Flags, 0);
        uint16_t fport = 0;
        assert_string_equal(wskc_sin_str(&From, ip, &fport), "192.0.2.1");
        assert_int_equal(fport, ECHO_PORT);
    }

    /* an explicit address overrides the send-to address, and (no filter
     * with SIO_WSK_SET_SENDTO_ADDRESS) its answer is received */
    SOCKADDR_IN Other;
    assert_true(wskc_sin(&Other, "192.0.2.1", OTHER_PORT));
    SIZE_T Sent = 0, Got = 0;
    assert_int_equal(WSKSendTo(Sock, "override", 8, (PSOCKADDR)&Other, &Sent), STATUS_SUCCESS);
    char kbuf[64], src[LK_ADDRSTRLEN];
    uint16_t sport = 0;
    assert_int_equal(lk_udp_recv(other, kbuf, sizeof kbuf, 2000, src, &sport), 8);
    assert_memory_equal(kbuf, "override", 8);
    assert_int_equal(sport, lport);
    assert_int_equal(lk_udp_sendto(other, "from-other", 10, "192.0.2.2", lport), 10);
    SOCKADDR_IN From;
    ULONG Flags = 0;
    assert_int_equal(WSKReceiveFrom(Sock, Reply, sizeof Reply, (PSOCKADDR)&From, 2000, &Got,
                                    &Flags),
                     STATUS_SUCCESS);
    assert_int_equal(Got, 10);
    assert_memory_equal(Reply, "from-other", 10);
    uint16_t fport = 0;
    wskc_sin_str(&From, ip, &fport);
    assert_int_equal(fport, OTHER_PORT);

    /* a receive timeout: IoCancelIrp -> STATUS_CANCELLED -> IO_TIMEOUT */
    uint64_t t0 = tu_now_ns();
    assert_int_equal(WSKReceiveFrom(Sock, Reply, sizeof Reply, NULL, 150, &Got, &Flags),
                     STATUS_IO_TIMEOUT);
    assert_true((tu_now_ns() - t0) / 1000000u >= 150);

    /* cleared send-to address: a NULL destination is refused again */
    assert_int_equal(WSKIoctl(Sock, SIO_WSK_SET_SENDTO_ADDRESS, NULL, 0), STATUS_SUCCESS);
    assert_int_equal(WSKSendTo(Sock, "nowhere", 7, NULL, &Sent), STATUS_INVALID_PARAMETER);

    assert_int_equal(WSKCloseSocket(Sock), STATUS_SUCCESS);
    InterlockedExchange(&e.stop, 1);
    pthread_join(th, NULL);
    assert_int_equal(e.echoed, 20);
    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpOutDatagrams", 21), 21);
    lk_close(other);
    lk_close(e.fd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libwsk_echo_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
