/*
 * irp.c - I/O request packets: allocation, completion, cancellation.
 *
 * An IRP is followed in memory by StackCount IO_STACK_LOCATIONs.  The IRP's
 * owner prepares the NEXT location (IoSetCompletionRoutine); the driver that
 * handles the request - for WSK, the provider - takes it as its CURRENT
 * location (IoSetNextIrpStackLocation), may mark it pending
 * (IoMarkIrpPending) and finally completes the IRP.  Completion walks the
 * locations back up (WSK-SPEC 4.1, the ReactOS algorithm), calling each
 * completion routine whose SL_INVOKE_* bits match the outcome.
 *
 * Concurrency:
 *  - The cancel spin lock is ONE process-wide lock, as on Windows, where a
 *    cancel routine is entered with it held and must release it.  It is the
 *    only global of the NT emulation (and an allowed exception to "no global
 *    state"): cancel routines written for Windows call
 *    IoReleaseCancelSpinLock(Irp->CancelIrql) without saying which lock.
 *  - Irp->CancelRoutine is only touched by atomic exchange
 *    (IoSetCancelRoutine), so exactly one of "the canceller" and "the
 *    completer" obtains a non-NULL routine: that decides who completes.
 *  - Irp->Cancel is set under the cancel lock with an atomic store and read
 *    here with atomic loads.  Code reading it without the cancel lock should
 *    use __atomic_load_n(&Irp->Cancel, __ATOMIC_ACQUIRE) (or take the lock).
 */
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

/* The process-wide cancel spin lock (see the file comment). */
static KSPIN_LOCK nt_cancel_lock;

static PIO_STACK_LOCATION irp_first_location(PIRP irp)
{
    return (PIO_STACK_LOCATION)(irp + 1);
}

void IoInitializeIrp(PIRP Irp, USHORT PacketSize, CCHAR StackSize)
{
    if (StackSize < 1 || PacketSize < IoSizeOfIrp(StackSize))
        nt_bugcheck("IoInitializeIrp", "packet of %u bytes cannot hold %d stack location(s)",
                    PacketSize, StackSize);
    memset(Irp, 0, PacketSize);
    Irp->Type = IO_TYPE_IRP;
    Irp->Size = PacketSize;
    Irp->StackCount = StackSize;
    Irp->CurrentLocation = (CHAR)(StackSize + 1);
    InitializeListHead(&Irp->ThreadListEntry);
    Irp->Tail.Overlay.CurrentStackLocation = irp_first_location(Irp) + StackSize;
}

PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)
{
    if (StackSize < 1)
        return NULL;
    USHORT size = IoSizeOfIrp(StackSize);
    PIRP irp = aligned_alloc(MEMORY_ALLOCATION_ALIGNMENT,
                             (size + MEMORY_ALLOCATION_ALIGNMENT - 1) &
                                 ~(size_t)(MEMORY_ALLOCATION_ALIGNMENT - 1));
    if (irp == NULL)
        return NULL;
    IoInitializeIrp(irp, size, StackSize);
    irp->AllocationFlags = IRP_ALLOCATED_FIXED_SIZE;
    if (ChargeQuota)
        irp->AllocationFlags |= IRP_QUOTA_CHARGED;
    return irp;
}

void IoReuseIrp(PIRP Irp, NTSTATUS Iostatus)
{
    if (__atomic_load_n(&Irp->CancelRoutine, __ATOMIC_ACQUIRE) != NULL)
        nt_bugcheck("IoReuseIrp", "IRP %p still has a cancel routine", (void *)Irp);
    UCHAR flags = Irp->AllocationFlags;
    IoInitializeIrp(Irp, Irp->Size, Irp->StackCount);
    Irp->IoStatus.Status = Iostatus;
    Irp->AllocationFlags = flags;
}

void IoFreeIrp(PIRP Irp)
{
    if (Irp == NULL)
        return;
    if (Irp->Type != IO_TYPE_IRP)
        nt_bugcheck("IoFreeIrp", "%p is not an IRP (type %d): double free?", (void *)Irp,
                    Irp->Type);
    if (!(Irp->AllocationFlags & IRP_ALLOCATED_FIXED_SIZE))
        nt_bugcheck("IoFreeIrp", "IRP %p was not allocated by IoAllocateIrp", (void *)Irp);
    if (__atomic_load_n(&Irp->CancelRoutine, __ATOMIC_ACQUIRE) != NULL)
        nt_bugcheck("IoFreeIrp", "IRP %p still has a cancel routine", (void *)Irp);
    Irp->Type = 0;
    free(Irp);
}

/* What the I/O manager clears in a location it has finished with. */
static void irp_clear_location(PIO_STACK_LOCATION sl)
{
    sl->MinorFunction = 0;
    sl->Flags = 0;
    sl->Control &= SL_ERROR_RETURNED;
    sl->Parameters.Others.Argument1 = NULL;
    sl->Parameters.Others.Argument2 = NULL;
    sl->Parameters.Others.Argument3 = NULL;
    sl->Parameters.Others.Argument4 = NULL;
    sl->FileObject = NULL;
}

void IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    (void)PriorityBoost;
    if (Irp->Type != IO_TYPE_IRP)
        nt_bugcheck("IofCompleteRequest", "%p is not an IRP (type %d)", (void *)Irp, Irp->Type);
    if (Irp->IoStatus.Status == STATUS_PENDING)
        nt_bugcheck("IofCompleteRequest",
                    "IRP %p completed with IoStatus.Status == STATUS_PENDING", (void *)Irp);
    if (__atomic_load_n(&Irp->CancelRoutine, __ATOMIC_ACQUIRE) != NULL)
        nt_bugcheck("IofCompleteRequest",
                    "IRP %p completed with a cancel routine still set "
                    "(call IoSetCancelRoutine(Irp, NULL) first)",
                    (void *)Irp);
    if (Irp->CurrentLocation > Irp->StackCount || Irp->CurrentLocation < 1)
        nt_bugcheck("IofCompleteRequest",
                    "IRP %p: the completer owns no stack location (CurrentLocation %d, "
                    "StackCount %d); take one with IoSetNextIrpStackLocation first",
                    (void *)Irp, Irp->CurrentLocation, Irp->StackCount);

    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    /* Each pass handles the location below the current one: `sl`. */
    for (;;) {
        BOOLEAN top = Irp->CurrentLocation == Irp->StackCount + 1;
        NTSTATUS status = Irp->IoStatus.Status;
        UCHAR control = sl->Control;
        BOOLEAN cancelled = __atomic_load_n(&Irp->Cancel, __ATOMIC_ACQUIRE);

        Irp->PendingReturned = (control & SL_PENDING_RETURNED) != 0;

        if (sl->CompletionRoutine != NULL &&
            ((NT_SUCCESS(status) && (control & SL_INVOKE_ON_SUCCESS)) ||
             (!NT_SUCCESS(status) && (control & SL_INVOKE_ON_ERROR)) ||
             (cancelled && (control & SL_INVOKE_ON_CANCEL)))) {
            PIO_COMPLETION_ROUTINE routine = sl->CompletionRoutine;
            PVOID context = sl->Context;
            /* The routine of the topmost location belongs to the IRP's
             * owner, who has no stack location and so no device. */
            PDEVICE_OBJECT device = top ? NULL : IoGetCurrentIrpStackLocation(Irp)->DeviceObject;
            irp_clear_location(sl);
            NTSTATUS r = routine(device, Irp, context);
            /* MORE_PROCESSING_REQUIRED: the routine took the IRP back (it
             * may be freed or reused already).  Past the top location the
             * IRP is finished: an IRP without a thread has nothing left for
             * an I/O manager to do, and the owner may have freed it. */
            if (r == STATUS_MORE_PROCESSING_REQUIRED || top)
                return;
        } else {
            /* No routine here: pass the pending mark up to the caller. */
            if (!top && Irp->PendingReturned)
                IoMarkIrpPending(Irp);
            irp_clear_location(sl);
        }
        IoSkipCurrentIrpStackLocation(Irp);
        if (top)
            return;
        sl++;
    }
}

void IoAcquireCancelSpinLock(PKIRQL Irql)
{
    *Irql = KeAcquireSpinLockRaiseToDpc(&nt_cancel_lock);
}

void IoReleaseCancelSpinLock(KIRQL Irql)
{
    KeReleaseSpinLock(&nt_cancel_lock, Irql);
}

BOOLEAN IoCancelIrp(PIRP Irp)
{
    KIRQL irql;
    if (Irp->Type != IO_TYPE_IRP)
        nt_bugcheck("IoCancelIrp", "%p is not an IRP (type %d)", (void *)Irp, Irp->Type);

    IoAcquireCancelSpinLock(&irql);
    __atomic_store_n(&Irp->Cancel, (BOOLEAN)TRUE, __ATOMIC_SEQ_CST);
    PDRIVER_CANCEL routine = IoSetCancelRoutine(Irp, NULL);
    if (routine == NULL) {
        /* Not cancelable right now.  Irp->Cancel stays set, so a driver
         * arming a cancel routine later must check it. */
        IoReleaseCancelSpinLock(irql);
        return FALSE;
    }
    /* We own the cancellation.  The driver armed the routine after taking
     * its stack location, so the location is valid to read. */
    Irp->CancelIrql = irql;
    PDEVICE_OBJECT device = Irp->CurrentLocation <= Irp->StackCount
                                ? IoGetCurrentIrpStackLocation(Irp)->DeviceObject
                                : NULL;
    /* Entered with the cancel lock held; the routine releases it with
     * IoReleaseCancelSpinLock(Irp->CancelIrql) and completes the IRP. */
    routine(device, Irp);
    return TRUE;
}
