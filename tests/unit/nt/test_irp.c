/*
 * test_irp.c - IRP allocation, stack locations and IofCompleteRequest.
 *
 * The "owner" below plays the WSK client (allocates the IRP, sets a
 * completion routine); the "lower driver" plays the WSK provider: it takes
 * the prepared stack location with IoSetNextIrpStackLocation, optionally
 * marks it pending, sets IoStatus and completes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ntddk.h>
#include <wsk.h>

/* What a completion routine saw. */
struct seen {
    int calls;
    PDEVICE_OBJECT device;
    PIRP irp;
    BOOLEAN pending_returned;
    NTSTATUS status;
    ULONG_PTR information;
    NTSTATUS return_value;   /* what the routine returns */
    int order;               /* global call order, for nesting tests */
    BOOLEAN mark_pending_if_returned;  /* the classic pass-up idiom */
    BOOLEAN free_irp;        /* IoFreeIrp inside the routine */
};

static int call_counter;

static NTSTATUS record_completion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    struct seen *s = Context;
    s->calls++;
    s->device = DeviceObject;
    s->irp = Irp;
    s->pending_returned = Irp->PendingReturned;
    s->status = Irp->IoStatus.Status;
    s->information = Irp->IoStatus.Information;
    s->order = ++call_counter;
    if (s->mark_pending_if_returned && Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    NTSTATUS r = s->return_value;
    if (s->free_irp)
        IoFreeIrp(Irp);
    return r;
}

/* The provider side: take the location, maybe pend, complete. */
static void lower_driver_complete(PIRP irp, NTSTATUS status, ULONG_PTR info, BOOLEAN pend)
{
    IoSetNextIrpStackLocation(irp);
    if (pend)
        IoMarkIrpPending(irp);
    irp->IoStatus.Status = status;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static void test_allocate_initialises(void **state)
{
    (void)state;
    PIRP irp = IoAllocateIrp(1, FALSE);
    assert_non_null(irp);
    assert_int_equal(irp->Type, IO_TYPE_IRP);
    assert_int_equal(irp->Size, IoSizeOfIrp(1));
    assert_int_equal(irp->StackCount, 1);
    assert_int_equal(irp->CurrentLocation, 2);
    assert_int_equal(irp->AllocationFlags & IRP_ALLOCATED_FIXED_SIZE, IRP_ALLOCATED_FIXED_SIZE);
    assert_ptr_equal(irp->Tail.Overlay.CurrentStackLocation, (PIO_STACK_LOCATION)(irp + 1) + 1);
    assert_ptr_equal(IoGetNextIrpStackLocation(irp), (PIO_STACK_LOCATION)(irp + 1));
    assert_false(irp->Cancel);
    assert_false(irp->PendingReturned);
    assert_null(irp->CancelRoutine);
    assert_null(irp->MdlAddress);
    assert_int_equal(irp->IoStatus.Status, 0);
    assert_ptr_equal(irp->ThreadListEntry.Flink, &irp->ThreadListEntry);
    IoFreeIrp(irp);

    PIRP irp3 = IoAllocateIrp(3, FALSE);
    assert_non_null(irp3);
    assert_int_equal(irp3->Size, IoSizeOfIrp(3));
    assert_int_equal(irp3->CurrentLocation, 4);
    IoFreeIrp(irp3);

    assert_null(IoAllocateIrp(0, FALSE));
}

static void test_set_completion_routine_writes_next_location(void **state)
{
    (void)state;
    struct seen s = { 0 };
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, FALSE, TRUE);
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    assert_ptr_equal(next->CompletionRoutine, record_completion);
    assert_ptr_equal(next->Context, &s);
    assert_int_equal(next->Control, SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_CANCEL);
    IoFreeIrp(irp);
}

/* Each of the 8 InvokeOn* combinations against success, error and cancel. */
static void test_invoke_flag_combinations(void **state)
{
    (void)state;
    for (int flags = 0; flags < 8; flags++) {
        BOOLEAN on_success = (flags & 1) != 0;
        BOOLEAN on_error = (flags & 2) != 0;
        BOOLEAN on_cancel = (flags & 4) != 0;
        for (int outcome = 0; outcome < 3; outcome++) {
            struct seen s = { 0 };
            s.return_value = STATUS_MORE_PROCESSING_REQUIRED;
            PIRP irp = IoAllocateIrp(1, FALSE);
            IoSetCompletionRoutine(irp, record_completion, &s, on_success, on_error, on_cancel);
            NTSTATUS status;
            int expect;
            if (outcome == 0) {
                status = STATUS_SUCCESS;
                expect = on_success;
            } else if (outcome == 1) {
                status = STATUS_INVALID_PARAMETER;
                expect = on_error;
            } else {
                /* Cancelled: Irp->Cancel set, completed with an error code. */
                assert_false(IoCancelIrp(irp));
                assert_true(irp->Cancel);
                status = STATUS_CANCELLED;
                expect = on_error || on_cancel;
            }
            lower_driver_complete(irp, status, 7, FALSE);
            assert_int_equal(s.calls, expect);
            if (expect) {
                assert_ptr_equal(s.irp, irp);
                assert_null(s.device);
                assert_int_equal(s.status, status);
                assert_int_equal(s.information, 7);
                assert_false(s.pending_returned);
            }
            IoFreeIrp(irp);
        }
    }
}

/* A warning (STATUS_BUFFER_OVERFLOW) is a failure for NT_SUCCESS. */
static void test_warning_status_counts_as_error(void **state)
{
    (void)state;
    struct seen s = { 0 };
    s.return_value = STATUS_MORE_PROCESSING_REQUIRED;
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, FALSE, FALSE);
    lower_driver_complete(irp, STATUS_BUFFER_OVERFLOW, 0, FALSE);
    assert_int_equal(s.calls, 0);
    IoReuseIrp(irp, STATUS_SUCCESS);
    IoSetCompletionRoutine(irp, record_completion, &s, FALSE, TRUE, FALSE);
    lower_driver_complete(irp, STATUS_BUFFER_OVERFLOW, 0, FALSE);
    assert_int_equal(s.calls, 1);
    /* An informational status is a success. */
    IoReuseIrp(irp, STATUS_SUCCESS);
    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, FALSE, FALSE);
    lower_driver_complete(irp, STATUS_EVENT_PENDING, 0, FALSE);
    assert_int_equal(s.calls, 2);
    IoFreeIrp(irp);
}

static void test_pending_returned(void **state)
{
    (void)state;
    struct seen s = { 0 };
    s.return_value = STATUS_MORE_PROCESSING_REQUIRED;
    PIRP irp = IoAllocateIrp(1, FALSE);

    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, TRUE, TRUE);
    lower_driver_complete(irp, STATUS_SUCCESS, 1, FALSE);
    assert_int_equal(s.calls, 1);
    assert_false(s.pending_returned);

    IoReuseIrp(irp, STATUS_SUCCESS);
    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, TRUE, TRUE);
    lower_driver_complete(irp, STATUS_SUCCESS, 2, TRUE);
    assert_int_equal(s.calls, 2);
    assert_true(s.pending_returned);
    assert_int_equal(s.information, 2);

    /* Marked pending and failed: still PendingReturned. */
    IoReuseIrp(irp, STATUS_SUCCESS);
    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, TRUE, TRUE);
    lower_driver_complete(irp, STATUS_HOST_UNREACHABLE, 0, TRUE);
    assert_int_equal(s.calls, 3);
    assert_true(s.pending_returned);
    assert_int_equal(s.status, STATUS_HOST_UNREACHABLE);
    IoFreeIrp(irp);
}

/* MORE_PROCESSING_REQUIRED: the routine may free the IRP; nothing touches it
 * afterwards (ASan would report a use after free). */
static void test_more_processing_required_stops(void **state)
{
    (void)state;
    struct seen s = { 0 };
    s.return_value = STATUS_MORE_PROCESSING_REQUIRED;
    s.free_irp = TRUE;
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, TRUE, TRUE);
    lower_driver_complete(irp, STATUS_SUCCESS, 0, TRUE);
    assert_int_equal(s.calls, 1);
}

/* Two levels: owner -> driver A (device devA) -> driver B (device devB).
 * A's routine returning MORE_PROCESSING_REQUIRED hides completion from the
 * owner until A completes again. */
static void test_two_level_more_processing(void **state)
{
    (void)state;
    DEVICE_OBJECT devA, devB;
    memset(&devA, 0, sizeof devA);
    memset(&devB, 0, sizeof devB);
    struct seen owner = { 0 }, a = { 0 };
    owner.return_value = STATUS_MORE_PROCESSING_REQUIRED;
    a.return_value = STATUS_MORE_PROCESSING_REQUIRED;
    call_counter = 0;

    PIRP irp = IoAllocateIrp(2, FALSE);
    IoSetCompletionRoutine(irp, record_completion, &owner, TRUE, TRUE, TRUE);
    /* Driver A takes location 2 and passes the IRP down. */
    IoSetNextIrpStackLocation(irp);
    IoGetCurrentIrpStackLocation(irp)->DeviceObject = &devA;
    IoSetCompletionRoutine(irp, record_completion, &a, TRUE, TRUE, TRUE);
    /* Driver B takes location 1, pends and completes. */
    IoSetNextIrpStackLocation(irp);
    assert_int_equal(irp->CurrentLocation, 1);
    IoGetCurrentIrpStackLocation(irp)->DeviceObject = &devB;
    IoMarkIrpPending(irp);
    irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);

    assert_int_equal(a.calls, 1);
    assert_ptr_equal(a.device, &devA);   /* a routine gets its own device */
    assert_true(a.pending_returned);
    assert_int_equal(owner.calls, 0);    /* stopped by MORE_PROCESSING */
    assert_int_equal(irp->CurrentLocation, 2);  /* A owns its location again */

    /* A finishes its work and completes the IRP itself. */
    a.return_value = STATUS_SUCCESS;
    irp->IoStatus.Information = 99;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    assert_int_equal(a.calls, 1);        /* A's routine belongs to B's location */
    assert_int_equal(owner.calls, 1);
    assert_null(owner.device);
    assert_int_equal(owner.information, 99);
    /* A's location was not marked pending on this second completion. */
    assert_false(owner.pending_returned);
    IoFreeIrp(irp);
}

/* Pending propagation through a middle location without a routine, and
 * through a routine that uses the "if PendingReturned, mark" idiom. */
static void test_pending_propagates_up(void **state)
{
    (void)state;
    for (int variant = 0; variant < 3; variant++) {
        struct seen owner = { 0 }, a = { 0 };
        owner.return_value = STATUS_MORE_PROCESSING_REQUIRED;
        a.return_value = STATUS_SUCCESS;
        a.mark_pending_if_returned = (variant == 1);
        call_counter = 0;

        PIRP irp = IoAllocateIrp(2, FALSE);
        IoSetCompletionRoutine(irp, record_completion, &owner, TRUE, TRUE, TRUE);
        IoSetNextIrpStackLocation(irp);                 /* driver A */
        if (variant == 0)
            IoCopyCurrentIrpStackLocationToNext(irp);   /* no routine of A's */
        else
            IoSetCompletionRoutine(irp, record_completion, &a, TRUE, TRUE, TRUE);
        lower_driver_complete(irp, STATUS_SUCCESS, 5, TRUE);  /* driver B */

        assert_int_equal(owner.calls, 1);
        if (variant == 0) {
            assert_int_equal(a.calls, 0);
            assert_true(owner.pending_returned);    /* propagated automatically */
        } else if (variant == 1) {
            assert_int_equal(a.calls, 1);
            assert_int_equal(a.order, 1);
            assert_int_equal(owner.order, 2);
            assert_true(owner.pending_returned);    /* A passed it up */
        } else {
            assert_int_equal(a.calls, 1);
            assert_false(owner.pending_returned);   /* A did not pass it up */
        }
        IoFreeIrp(irp);
    }
}

/* Caller-owned IRP memory, as MsQuic and WireGuard embed it, reused. */
static void test_initialize_in_caller_buffer_and_reuse(void **state)
{
    (void)state;
    UCHAR buf[sizeof(IRP) + sizeof(IO_STACK_LOCATION)];
    PIRP irp = (PIRP)buf;
    struct seen s = { 0 };
    s.return_value = STATUS_MORE_PROCESSING_REQUIRED;

    memset(buf, 0xCC, sizeof buf);
    IoInitializeIrp(irp, sizeof buf, 1);
    assert_int_equal(irp->Type, IO_TYPE_IRP);
    assert_int_equal(irp->Size, sizeof buf);
    assert_int_equal(irp->StackCount, 1);
    assert_int_equal(irp->CurrentLocation, 2);
    assert_int_equal(irp->AllocationFlags, 0);
    assert_null(irp->CancelRoutine);
    assert_false(irp->Cancel);
    assert_ptr_equal(IoGetNextIrpStackLocation(irp), (PIO_STACK_LOCATION)(buf + sizeof(IRP)));

    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, TRUE, TRUE);
    lower_driver_complete(irp, STATUS_SUCCESS, 100, TRUE);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.information, 100);
    assert_true(s.pending_returned);

    IoReuseIrp(irp, STATUS_UNSUCCESSFUL);
    assert_int_equal(irp->IoStatus.Status, STATUS_UNSUCCESSFUL);
    assert_int_equal(irp->IoStatus.Information, 0);
    assert_int_equal(irp->CurrentLocation, 2);
    assert_int_equal(irp->Size, sizeof buf);
    assert_int_equal(irp->AllocationFlags, 0);
    assert_false(irp->PendingReturned);
    assert_null(IoGetNextIrpStackLocation(irp)->CompletionRoutine);

    IoSetCompletionRoutine(irp, record_completion, &s, TRUE, TRUE, TRUE);
    lower_driver_complete(irp, STATUS_INVALID_PARAMETER, 0, FALSE);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.status, STATUS_INVALID_PARAMETER);
    assert_false(s.pending_returned);
}

static void test_reuse_keeps_allocation_flags(void **state)
{
    (void)state;
    PIRP irp = IoAllocateIrp(1, TRUE);
    assert_int_equal(irp->AllocationFlags, IRP_ALLOCATED_FIXED_SIZE | IRP_QUOTA_CHARGED);
    irp->Cancel = TRUE;
    irp->MdlAddress = (PMDL)(ULONG_PTR)0x1000;
    IoReuseIrp(irp, STATUS_PENDING);
    assert_int_equal(irp->AllocationFlags, IRP_ALLOCATED_FIXED_SIZE | IRP_QUOTA_CHARGED);
    assert_int_equal(irp->IoStatus.Status, STATUS_PENDING);
    assert_false(irp->Cancel);
    assert_null(irp->MdlAddress);
    assert_int_equal(irp->Size, IoSizeOfIrp(1));
    IoFreeIrp(irp);
}

/* Contract violations abort with a diagnostic, as a bug check would. */
static int aborts(void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        fn();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void complete_with_pending_status(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    lower_driver_complete(irp, STATUS_PENDING, 0, TRUE);
}

static void dummy_cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    (void)Irp;
}

static void complete_with_cancel_routine_set(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetNextIrpStackLocation(irp);
    IoSetCancelRoutine(irp, dummy_cancel);
    irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static void complete_without_taking_location(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static void free_caller_owned_irp(void)
{
    static UCHAR buf[sizeof(IRP) + sizeof(IO_STACK_LOCATION)];
    IoInitializeIrp((PIRP)buf, sizeof buf, 1);
    IoFreeIrp((PIRP)buf);
}

static void completes_normally(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    lower_driver_complete(irp, STATUS_SUCCESS, 0, FALSE);
    IoFreeIrp(irp);
}

static void test_contract_violations_abort(void **state)
{
    (void)state;
    assert_false(aborts(completes_normally));   /* the harness itself */
    assert_true(aborts(complete_with_pending_status));
    assert_true(aborts(complete_with_cancel_routine_set));
    assert_true(aborts(complete_without_taking_location));
    assert_true(aborts(free_caller_owned_irp));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocate_initialises),
        cmocka_unit_test(test_set_completion_routine_writes_next_location),
        cmocka_unit_test(test_invoke_flag_combinations),
        cmocka_unit_test(test_warning_status_counts_as_error),
        cmocka_unit_test(test_pending_returned),
        cmocka_unit_test(test_more_processing_required_stops),
        cmocka_unit_test(test_two_level_more_processing),
        cmocka_unit_test(test_pending_propagates_up),
        cmocka_unit_test(test_initialize_in_caller_buffer_and_reuse),
        cmocka_unit_test(test_reuse_keeps_allocation_flags),
        cmocka_unit_test(test_contract_violations_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
