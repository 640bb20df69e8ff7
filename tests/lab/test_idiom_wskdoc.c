/* SPDX-License-Identifier: MIT */
/*
 * Client idiom: the WDK documentation's datagram pattern (WSK-SPEC section
 * 7, "Microsoft WDK docs snippets": creating, sending over, receiving from
 * and closing a datagram socket), written the way the docs write it:
 *
 *   - every call gets its own IRP from IoAllocateIrp(1, FALSE);
 *   - the completion routine looks at IoStatus, frees the IRP with
 *     IoFreeIrp itself and returns STATUS_MORE_PROCESSING_REQUIRED;
 *   - the socket-creation routine stores the new PWSK_SOCKET from
 *     IoStatus.Information in the socket context; the close routine frees
 *     the socket context;
 *   - the caller only waits (a KEVENT in the context, set by the routines)
 *     when the call returned STATUS_PENDING; any other return means the
 *     routine has already run.
 *
 * Against the Linux kernel in a lab namespace:
 *
 *     kernel 192.0.2.1:6100 [wskdoc0] <== TAP ==> wskstack 192.0.2.2:5100
 *
 * 16 datagrams each way (exact bytes and addresses), receives both posted
 * before the datagram arrives (pending) and after (completed at once), and
 * the close.  Every routine ran exactly once per call.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskdoc0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"
#define COUNT 16
#define WAIT_MS 3000
#define CTX_TAG 0x77736b63u /* 'cksw' */

/* ---- the driver side, as the docs write it ----------------------------------- */
typedef struct _DGRAM_SOCKET_CONTEXT {
    PWSK_SOCKET Socket;
    KEVENT Done;              /* set by every completion routine */
    NTSTATUS Status;          /* IoStatus of the last completed request */
    ULONG_PTR Information;
    LONG Completions;
} DGRAM_SOCKET_CONTEXT, *PDGRAM_SOCKET_CONTEXT;

static LONG CloseCompletions; /* the close routine frees the context */
static NTSTATUS CloseStatus;

static NTSTATUS CreateDatagramSocketComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp,
                                             PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PDGRAM_SOCKET_CONTEXT SocketContext = (PDGRAM_SOCKET_CONTEXT)Context;
    SocketContext->Status = Irp->IoStatus.Status;
    if (Irp->IoStatus.Status == STATUS_SUCCESS)
        SocketContext->Socket = (PWSK_SOCKET)(Irp->IoStatus.Information);
    InterlockedIncrement(&SocketContext->Completions);
    IoFreeIrp(Irp);
    KeSetEvent(&SocketContext->Done, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* Bind, send and receive share one routine: record, free the IRP. */
static NTSTATUS RequestComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PDGRAM_SOCKET_CONTEXT SocketContext = (PDGRAM_SOCKET_CONTEXT)Context;
    SocketContext->Status = Irp->IoStatus.Status;
    SocketContext->Information = Irp->IoStatus.Information;
    InterlockedIncrement(&SocketContext->Completions);
    IoFreeIrp(Irp);
    KeSetEvent(&SocketContext->Done, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS CloseSocketComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PDGRAM_SOCKET_CONTEXT SocketContext = (PDGRAM_SOCKET_CONTEXT)Context;
    CloseStatus = Irp->IoStatus.Status;
    InterlockedIncrement(&CloseCompletions);
    IoFreeIrp(Irp);
    ExFreePoolWithTag(SocketContext, CTX_TAG);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS CreateDatagramSocket(PWSK_PROVIDER_NPI ProviderNpi,
                                     PDGRAM_SOCKET_CONTEXT SocketContext)
{
    PIRP Irp = IoAllocateIrp(1, FALSE);
    if (!Irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(Irp, CreateDatagramSocketComplete, SocketContext, TRUE, TRUE, TRUE);
    return ProviderNpi->Dispatch->WskSocket(ProviderNpi->Client, AF_INET, SOCK_DGRAM,
                                            IPPROTO_UDP, WSK_FLAG_DATAGRAM_SOCKET, SocketContext,
                                            NULL, NULL, NULL, NULL, Irp);
}

static NTSTATUS BindDatagramSocket(PDGRAM_SOCKET_CONTEXT SocketContext, PSOCKADDR LocalAddress)
{
    PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch =
        (PWSK_PROVIDER_DATAGRAM_DISPATCH)(SocketContext->Socket->Dispatch);
    PIRP Irp = IoAllocateIrp(1, FALSE);
    if (!Irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(Irp, RequestComplete, SocketContext, TRUE, TRUE, TRUE);
    return Dispatch->WskBind(SocketContext->Socket, LocalAddress, 0, Irp);
}

static NTSTATUS SendDatagram(PDGRAM_SOCKET_CONTEXT SocketContext, PWSK_BUF DatagramBuffer,
                             PSOCKADDR RemoteAddress)
{
    PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch =
        (PWSK_PROVIDER_DATAGRAM_DISPATCH)(SocketContext->Socket->Dispatch);
    PIRP Irp = IoAllocateIrp(1, FALSE);
    if (!Irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(Irp, RequestComplete, SocketContext, TRUE, TRUE, TRUE);
    return Dispatch->WskSendTo(SocketContext->Socket, DatagramBuffer, 0, RemoteAddress, 0, NULL,
                               Irp);
}

static NTSTATUS ReceiveDatagram(PDGRAM_SOCKET_CONTEXT SocketContext, PWSK_BUF DatagramBuffer)
{
    PWSK_PROVIDER_DATAGRAM_DISPATCH Dispatch =
        (PWSK_PROVIDER_DATAGRAM_DISPATCH)(SocketContext->Socket->Dispatch);
    PIRP Irp = IoAllocateIrp(1, FALSE);
    if (!Irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(Irp, RequestComplete, SocketContext, TRUE, TRUE, TRUE);
    /* the docs: not interested in the remote address nor control info */
    return Dispatch->WskReceiveFrom(SocketContext->Socket, DatagramBuffer, 0, NULL, NULL, NULL,
                                    NULL, Irp);
}

static NTSTATUS CloseSocket(PDGRAM_SOCKET_CONTEXT SocketContext)
{
    PWSK_PROVIDER_BASIC_DISPATCH Dispatch =
        (PWSK_PROVIDER_BASIC_DISPATCH)(SocketContext->Socket->Dispatch);
    PIRP Irp = IoAllocateIrp(1, FALSE);
    if (!Irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(Irp, CloseSocketComplete, SocketContext, TRUE, TRUE, TRUE);
    return Dispatch->WskCloseSocket(SocketContext->Socket, Irp);
}

/* ---- the test harness ---------------------------------------------------------- */
/* The result of a call: wait only if it pended; otherwise the routine ran
 * already (its event is set) and reported the same status. */
static NTSTATUS Finish(PDGRAM_SOCKET_CONTEXT Ctx, NTSTATUS Returned, LONG CompletionsBefore)
{
    if (Returned == STATUS_PENDING) {
        LARGE_INTEGER Timeout;
        Timeout.QuadPart = -(LONGLONG)WAIT_MS * 10000;
        assert_int_equal(KeWaitForSingleObject(&Ctx->Done, Executive, KernelMode, FALSE,
                                               &Timeout),
                         STATUS_SUCCESS);
    } else {
        assert_int_equal(KeReadStateEvent(&Ctx->Done), 1);
        assert_int_equal(Ctx->Status, Returned);
    }
    assert_int_equal(InterlockedCompareExchange(&Ctx->Completions, 0, 0), CompletionsBefore + 1);
    KeClearEvent(&Ctx->Done);
    return Ctx->Status;
}

static size_t payload(uint8_t *buf, unsigned i, uint8_t dir)
{
    size_t len = 1 + (i * 97u) % 1400u;
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(k * 13u + i + dir);
    return len;
}

struct cnt_ctx {
    struct lab_stack *ls;
    int64_t want;
};
static bool udp_in_reached(void *c)
{
    struct cnt_ctx *x = c;
    return lab_stack_cnt(x->ls, "UdpInDatagrams") >= x->want;
}

static void test_wdk_doc_pattern(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    int kfd = lk_udp_open("192.0.2.1", 6100);
    assert_true(kfd >= 0);

    PDGRAM_SOCKET_CONTEXT Ctx =
        ExAllocatePoolWithTag(NonPagedPool, sizeof(DGRAM_SOCKET_CONTEXT), CTX_TAG);
    assert_non_null(Ctx);
    RtlZeroMemory(Ctx, sizeof(*Ctx));
    KeInitializeEvent(&Ctx->Done, NotificationEvent, FALSE);
    LONG n = 0;

    NTSTATUS Status = CreateDatagramSocket(&ls.npi, Ctx);
    assert_int_equal(Finish(Ctx, Status, n++), STATUS_SUCCESS);
    assert_non_null(Ctx->Socket);

    SOCKADDR_IN Local, Remote;
    assert_true(wskc_sin(&Local, "192.0.2.2", 5100));
    Status = BindDatagramSocket(Ctx, (PSOCKADDR)&Local);
    assert_int_equal(Finish(Ctx, Status, n++), STATUS_SUCCESS);

    /* stack -> kernel */
    static uint8_t Data[1500], Got[1600];
    assert_true(wskc_sin(&Remote, "192.0.2.1", 6100));
    for (unsigned i = 0; i < COUNT; i++) {
        size_t len = payload(Data, i, 'S');
        PMDL Mdl = IoAllocateMdl(Data, (ULONG)len, FALSE, FALSE, NULL);
        assert_non_null(Mdl);
        MmBuildMdlForNonPagedPool(Mdl);
        WSK_BUF Buf = {Mdl, 0, len};
        Status = SendDatagram(Ctx, &Buf, (PSOCKADDR)&Remote);
        assert_int_equal(Finish(Ctx, Status, n++), STATUS_SUCCESS);
        assert_int_equal(Ctx->Information, len);
        IoFreeMdl(Mdl); /* only after the send completed */
        char src[LK_ADDRSTRLEN] = "";
        uint16_t sport = 0;
        assert_int_equal(lk_udp_recv(kfd, Got, sizeof Got, 2000, src, &sport), (long)len);
        assert_memory_equal(Got, Data, len);
        assert_string_equal(src, "192.0.2.2");
        assert_int_equal(sport, 5100);
    }

    /* kernel -> stack: even i posts the receive first (it pends), odd i
     * lets the datagram arrive first (the receive completes at once) */
    int64_t in0 = lab_stack_cnt(&ls, "UdpInDatagrams");
    unsigned pended = 0;
    for (unsigned i = 0; i < COUNT; i++) {
        size_t len = payload(Data, i, 'K');
        memset(Got, 0xee, sizeof Got);
        PMDL Mdl = IoAllocateMdl(Got, sizeof Got, FALSE, FALSE, NULL);
        assert_non_null(Mdl);
        MmBuildMdlForNonPagedPool(Mdl);
        WSK_BUF Buf = {Mdl, 0, sizeof Got};
        if (i % 2 == 0) {
            Status = ReceiveDatagram(Ctx, &Buf);
            assert_int_equal(Status, STATUS_PENDING);
            pended++;
            assert_int_equal(lk_udp_sendto(kfd, Data, len, "192.0.2.2", 5100), (long)len);
        } else {
            assert_int_equal(lk_udp_sendto(kfd, Data, len, "192.0.2.2", 5100), (long)len);
            struct cnt_ctx c = {&ls, in0 + i + 1};
            assert_int_equal(lk_wait_until(udp_in_reached, &c, 2000, 1), 0);
            Status = ReceiveDatagram(Ctx, &Buf);
            assert_int_equal(Status, STATUS_SUCCESS);
        }
        assert_int_equal(Finish(Ctx, Status, n++), STATUS_SUCCESS);
        assert_int_equal(Ctx->Information, len);
        assert_memory_equal(Got, Data, len);
        assert_int_equal(Got[len], 0xee);
        IoFreeMdl(Mdl);
    }
    assert_int_equal(pended, COUNT / 2);

    /* close: the routine frees the context */
    Status = CloseSocket(Ctx);
    if (Status == STATUS_PENDING) {
        for (int k = 0; k < WAIT_MS && InterlockedCompareExchange(&CloseCompletions, 0, 0) == 0;
             k++)
            lk_sleep_ms(1);
    }
    assert_int_equal(InterlockedCompareExchange(&CloseCompletions, 0, 0), 1);
    assert_int_equal(CloseStatus, STATUS_SUCCESS);
    if (Status != STATUS_PENDING)
        assert_int_equal(Status, STATUS_SUCCESS);

    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpOutDatagrams", COUNT), COUNT);
    assert_int_equal(lab_stack_cnt(&ls, "UdpInDatagrams") - in0, COUNT);
    lk_close(kfd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wdk_doc_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
