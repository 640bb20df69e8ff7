/*
 * test_irp_cancel_thread.c - IoCancelIrp, cancel routines and the race
 * between cancellation and normal completion (WSK-SPEC 4.1, 5.10).
 *
 * The "provider" arms a cancel routine on a pending IRP the way a WSK
 * provider does for a queued WskReceiveFrom; the "client" cancels it with
 * IoCancelIrp.  Whichever side swaps the cancel routine out of the IRP
 * completes it; the other must not.  Runs under ThreadSanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cmocka.h>

#include <ntddk.h>
#include <wsk.h>

static int cancel_routine_calls;       /* atomic */
static int completions;                /* atomic */
static KIRQL irql_in_cancel_routine;

static NTSTATUS count_completion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    (void)DeviceObject;
    (void)Irp;
    (void)Context;
    __atomic_add_fetch(&completions, 1, __ATOMIC_ACQ_REL);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* The provider's cancel routine, written as for Windows. */
static void provider_cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    irql_in_cancel_routine = KeGetCurrentIrql();
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    __atomic_add_fetch(&cancel_routine_calls, 1, __ATOMIC_ACQ_REL);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

/* The provider queues the IRP: take the location, pend, make cancelable.
 * Returns FALSE (and completes the IRP) if it was already cancelled. */
static BOOLEAN provider_queue(PIRP irp)
{
    KIRQL irql;
    IoSetNextIrpStackLocation(irp);
    IoMarkIrpPending(irp);
    IoAcquireCancelSpinLock(&irql);
    if (irp->Cancel) {
        IoReleaseCancelSpinLock(irql);
        irp->IoStatus.Status = STATUS_CANCELLED;
        irp->IoStatus.Information = 0;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return FALSE;
    }
    IoSetCancelRoutine(irp, provider_cancel);
    IoReleaseCancelSpinLock(irql);
    return TRUE;
}

/* The provider's normal completion path.  Returns TRUE if it completed. */
static BOOLEAN provider_complete(PIRP irp, ULONG_PTR bytes)
{
    if (IoSetCancelRoutine(irp, NULL) == NULL)
        return FALSE;   /* IoCancelIrp owns it: its cancel routine completes */
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = bytes;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return TRUE;
}

static void reset_counters(void)
{
    __atomic_store_n(&cancel_routine_calls, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&completions, 0, __ATOMIC_RELEASE);
}

static void test_cancel_armed_irp(void **state)
{
    (void)state;
    reset_counters();
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(irp, count_completion, NULL, TRUE, TRUE, TRUE);
    assert_true(provider_queue(irp));
    assert_int_equal(completions, 0);

    irql_in_cancel_routine = 0xff;
    assert_true(IoCancelIrp(irp));
    assert_int_equal(cancel_routine_calls, 1);
    assert_int_equal(irql_in_cancel_routine, DISPATCH_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_int_equal(completions, 1);
    assert_true(irp->Cancel);
    assert_true(irp->PendingReturned);
    assert_int_equal(irp->IoStatus.Status, STATUS_CANCELLED);
    assert_int_equal(irp->IoStatus.Information, 0);
    assert_null(irp->CancelRoutine);

    /* The normal path now finds no routine and must not complete. */
    assert_false(provider_complete(irp, 10));
    assert_int_equal(completions, 1);
    /* A second cancel finds nothing to call. */
    assert_false(IoCancelIrp(irp));
    assert_int_equal(cancel_routine_calls, 1);
    IoFreeIrp(irp);
}

static void test_cancel_before_arming(void **state)
{
    (void)state;
    reset_counters();
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(irp, count_completion, NULL, TRUE, TRUE, TRUE);
    assert_false(IoCancelIrp(irp));
    assert_true(irp->Cancel);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_int_equal(completions, 0);

    /* The provider sees Irp->Cancel when it tries to queue it. */
    assert_false(provider_queue(irp));
    assert_int_equal(cancel_routine_calls, 0);
    assert_int_equal(completions, 1);
    assert_int_equal(irp->IoStatus.Status, STATUS_CANCELLED);
    IoFreeIrp(irp);
}

static void test_normal_completion_disarms(void **state)
{
    (void)state;
    reset_counters();
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoSetCompletionRoutine(irp, count_completion, NULL, TRUE, TRUE, TRUE);
    assert_true(provider_queue(irp));
    assert_true(provider_complete(irp, 33));
    assert_int_equal(completions, 1);
    assert_int_equal(irp->IoStatus.Status, STATUS_SUCCESS);
    assert_int_equal(irp->IoStatus.Information, 33);
    assert_false(IoCancelIrp(irp));   /* too late: nothing armed */
    assert_int_equal(cancel_routine_calls, 0);
    assert_int_equal(completions, 1);
    IoFreeIrp(irp);
}

/* ---------------------------------------------------------------- race */
#define RACE_ITERATIONS 100000
/* Past RACE_ITERATIONS the race goes on only until each side has won once
 * (a loaded machine can schedule one side first for a long time), up to
 * this many iterations in all. */
#define RACE_MAX_ITERATIONS (20 * RACE_ITERATIONS)

struct race {
    PIRP irp;
    int generation;          /* atomic: iteration the workers should run */
    int stop;                /* atomic: no iteration after `generation` */
    int done;                /* atomic: workers finished with it */
    int cancel_result[2];    /* per parity of the iteration, no sharing */
    int complete_result[2];
};

static void wait_for_generation(const int *gen, int want)
{
    unsigned spins = 0;
    while (__atomic_load_n(gen, __ATOMIC_ACQUIRE) < want) {
        if (++spins % 32 == 0)
            sched_yield();
    }
}

/* Worker side: wait for iteration i; false once the main thread stopped
 * before publishing it. */
static bool next_iteration(struct race *r, int i)
{
    unsigned spins = 0;
    while (__atomic_load_n(&r->generation, __ATOMIC_ACQUIRE) < i) {
        if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) &&
            __atomic_load_n(&r->generation, __ATOMIC_ACQUIRE) < i)
            return false;
        if (++spins % 32 == 0)
            sched_yield();
    }
    return true;
}

static void *canceller(void *arg)
{
    struct race *r = arg;
    for (int i = 1; next_iteration(r, i); i++) {
        r->cancel_result[i & 1] = IoCancelIrp(r->irp);
        __atomic_add_fetch(&r->done, 1, __ATOMIC_ACQ_REL);
    }
    return NULL;
}

static void *completer(void *arg)
{
    struct race *r = arg;
    for (int i = 1; next_iteration(r, i); i++) {
        r->complete_result[i & 1] = provider_complete(r->irp, (ULONG_PTR)i);
        __atomic_add_fetch(&r->done, 1, __ATOMIC_ACQ_REL);
    }
    return NULL;
}

static void test_cancel_vs_completion_race(void **state)
{
    (void)state;
    reset_counters();
    struct race r;
    memset(&r, 0, sizeof r);
    /* Caller-owned IRP memory, reused each round like a WSK client does. */
    _Alignas(16) UCHAR buf[sizeof(IRP) + sizeof(IO_STACK_LOCATION)];
    r.irp = (PIRP)buf;
    IoInitializeIrp(r.irp, sizeof buf, 1);

    pthread_t tc, tn;
    assert_int_equal(pthread_create(&tc, NULL, canceller, &r), 0);
    assert_int_equal(pthread_create(&tn, NULL, completer, &r), 0);

    /* With two CPUs both sides must win sometimes, or the race was not run. */
    const bool need_both = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
    int cancelled_wins = 0, normal_wins = 0, iterations = 0;
    for (int i = 1; i <= RACE_MAX_ITERATIONS; i++) {
        if (i > RACE_ITERATIONS && (!need_both || (cancelled_wins > 0 && normal_wins > 0)))
            break;
        iterations = i;
        int before = __atomic_load_n(&completions, __ATOMIC_ACQUIRE);
        int cancels_before = __atomic_load_n(&cancel_routine_calls, __ATOMIC_ACQUIRE);
        IoReuseIrp(r.irp, STATUS_SUCCESS);
        IoSetCompletionRoutine(r.irp, count_completion, NULL, TRUE, TRUE, TRUE);
        if (!provider_queue(r.irp))
            fail_msg("fresh IRP reported cancelled at iteration %d", i);

        __atomic_store_n(&r.generation, i, __ATOMIC_RELEASE);
        wait_for_generation(&r.done, 2 * i);

        int completed = __atomic_load_n(&completions, __ATOMIC_ACQUIRE) - before;
        int cancel_calls = __atomic_load_n(&cancel_routine_calls, __ATOMIC_ACQUIRE) - cancels_before;
        int cancel_won = r.cancel_result[i & 1];
        int normal_won = r.complete_result[i & 1];
        if (completed != 1 || cancel_won == normal_won || cancel_calls != cancel_won)
            fail_msg("iteration %d: %d completions, IoCancelIrp=%d, normal=%d, cancel routine "
                     "ran %d times",
                     i, completed, cancel_won, normal_won, cancel_calls);
        if (cancel_won) {
            if (r.irp->IoStatus.Status != STATUS_CANCELLED || r.irp->IoStatus.Information != 0)
                fail_msg("iteration %d: cancelled IRP has status 0x%08x", i,
                         (unsigned)r.irp->IoStatus.Status);
            cancelled_wins++;
        } else {
            if (r.irp->IoStatus.Status != STATUS_SUCCESS ||
                r.irp->IoStatus.Information != (ULONG_PTR)i)
                fail_msg("iteration %d: completed IRP has status 0x%08x", i,
                         (unsigned)r.irp->IoStatus.Status);
            normal_wins++;
        }
        if (!r.irp->PendingReturned || !r.irp->Cancel)
            fail_msg("iteration %d: PendingReturned %d Cancel %d", i, r.irp->PendingReturned,
                     r.irp->Cancel);
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(tc, NULL), 0);
    assert_int_equal(pthread_join(tn, NULL), 0);

    assert_int_equal(cancelled_wins + normal_wins, iterations);
    assert_int_equal(completions, iterations);
    print_message("race: cancel won %d, normal completion won %d\n", cancelled_wins,
                  normal_wins);
    if (need_both) {
        assert_true(cancelled_wins > 0);
        assert_true(normal_wins > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_armed_irp),
        cmocka_unit_test(test_cancel_before_arming),
        cmocka_unit_test(test_normal_completion_disarms),
        cmocka_unit_test(test_cancel_vs_completion_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
