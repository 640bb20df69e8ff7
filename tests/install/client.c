/* SPDX-License-Identifier: MIT */
/*
 * client.c - a Windows-style WSK source built against an INSTALLED wskstack:
 *
 *   cc $(pkg-config --cflags wskstack) client.c $(pkg-config --libs wskstack)
 *
 * It includes only <ntddk.h> and <wsk.h>, as a Windows driver does, and needs
 * no network: it allocates an IRP, arms a completion routine that sets a
 * KEVENT and returns STATUS_MORE_PROCESSING_REQUIRED, completes the IRP,
 * describes a buffer with an MDL, registers and deregisters a WSK client
 * (no provider capture: that would create a TAP), and checks the x64 layout
 * of the WSK structures (WSK-SPEC 2.7, 3.6, 4.2).  Prints "install client:
 * OK" and exits 0, or names the first failed check and exits 1.
 */
#include <ntddk.h>
#include <wsk.h>

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            printf("install client: FAILED: %s (line %d)\n", #cond, __LINE__); \
            failures++;                                               \
        }                                                             \
    } while (0)

static IO_COMPLETION_ROUTINE CompletionRoutine;

static NTSTATUS CompletionRoutine(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* Compiles only if the unnamed WSK_PROVIDER_BASIC_DISPATCH member of the
 * datagram table is reachable the way Windows clients write it
 * (WSK-SPEC 9). */
static PFN_WSK_CLOSE_SOCKET CloseOf(const WSK_PROVIDER_DATAGRAM_DISPATCH *Dispatch)
{
    return Dispatch->WskCloseSocket;
}

int main(void)
{
    /* ---- layout (Windows x64) ---- */
    CHECK(sizeof(WSK_BUF) == 24);
    CHECK(sizeof(WSK_DATAGRAM_INDICATION) == 56);
    CHECK(sizeof(WSK_CLIENT_DISPATCH) == 16);
    CHECK(sizeof(WSK_PROVIDER_DISPATCH) == 56);
    CHECK(sizeof(WSK_CLIENT_NPI) == 16);
    CHECK(sizeof(WSK_PROVIDER_NPI) == 16);
    CHECK(sizeof(WSK_REGISTRATION) == 24);
    CHECK(sizeof(WSK_PROVIDER_DATAGRAM_DISPATCH) == 64);
    CHECK(sizeof(SOCKADDR_IN) == 16);
    CHECK(sizeof(MDL) == 48);
    CHECK(sizeof(IO_STATUS_BLOCK) == 16);
    CHECK(sizeof(ULONG) == 4 && sizeof(NTSTATUS) == 4 && sizeof(ULONG_PTR) == 8);
    CHECK(MAKE_WSK_VERSION(1, 0) == 0x0100);
    CHECK(AF_INET == 2 && AF_INET6 == 23 && SOCK_DGRAM == 2 && IPPROTO_UDP == 17);
    CHECK(WSK_FLAG_DATAGRAM_SOCKET == 4);
    CHECK(NT_SUCCESS(STATUS_PENDING) && !NT_SUCCESS(STATUS_HOST_UNREACHABLE));

    /* ---- an IRP with a completion routine ---- */
    KEVENT Event;
    KeInitializeEvent(&Event, NotificationEvent, FALSE);
    PIRP Irp = IoAllocateIrp(1, FALSE);
    CHECK(Irp != NULL);
    if (Irp != NULL) {
        IoSetCompletionRoutine(Irp, CompletionRoutine, &Event, TRUE, TRUE, TRUE);
        /* What a lower driver (the WSK provider) does with it. */
        IoSetNextIrpStackLocation(Irp);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = 1234;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        LARGE_INTEGER Zero;
        Zero.QuadPart = 0;
        CHECK(KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Zero) ==
              STATUS_SUCCESS);
        CHECK(Irp->IoStatus.Status == STATUS_SUCCESS && Irp->IoStatus.Information == 1234);
        IoFreeIrp(Irp);
    }

    /* ---- an MDL over a buffer ---- */
    static UCHAR Buffer[300] = "datagram";
    PMDL Mdl = IoAllocateMdl(Buffer, sizeof Buffer, FALSE, FALSE, NULL);
    CHECK(Mdl != NULL);
    if (Mdl != NULL) {
        MmBuildMdlForNonPagedPool(Mdl);
        CHECK(MmGetMdlByteCount(Mdl) == sizeof Buffer);
        CHECK(MmGetMdlVirtualAddress(Mdl) == (PVOID)Buffer);
        CHECK(MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority) == (PVOID)Buffer);
        WSK_BUF WskBuf = {.Mdl = Mdl, .Offset = 0, .Length = sizeof Buffer};
        CHECK(WskBuf.Mdl->Next == NULL);
        IoFreeMdl(Mdl);
    }

    /* ---- WSK registration (no capture: nothing touches the network) ---- */
    static const WSK_CLIENT_DISPATCH ClientDispatch = {MAKE_WSK_VERSION(1, 0), 0, NULL};
    WSK_CLIENT_NPI ClientNpi = {NULL, &ClientDispatch};
    WSK_REGISTRATION Registration;
    NTSTATUS Status = WskRegister(&ClientNpi, &Registration);
    CHECK(Status == STATUS_SUCCESS);
    if (NT_SUCCESS(Status))
        WskDeregister(&Registration);

    (void)CloseOf;
    if (failures != 0)
        return 1;
    printf("install client: OK\n");
    return 0;
}
