/*
 * event.c - KEVENT on a Linux futex.
 *
 * Windows code initialises events and never destroys them (they are often
 * embedded in structures that are simply freed), so the event must own no
 * resource: it is the 32-bit word Header.SignalState (0 = not signalled,
 * 1 = signalled) plus the event type in Header.Type.  All zero bytes is a
 * valid non-signalled NotificationEvent.
 *
 * Happens-before comes from the atomic operations on SignalState
 * (KeSetEvent releases, a satisfied wait acquires); the futex system call
 * only parks and wakes threads.  That is also what ThreadSanitizer sees.
 *
 *  - NotificationEvent: stays signalled until KeClearEvent/KeResetEvent and
 *    releases every waiter.  KeSetEvent wakes all sleepers on a 0 -> 1 edge.
 *  - SynchronizationEvent: a satisfied wait consumes the signal (1 -> 0 by
 *    compare-and-swap), so one set releases one waiter; setting an event that
 *    is already signalled does nothing (it is not a semaphore).  KeSetEvent
 *    wakes one sleeper on a 0 -> 1 edge; a woken thread that loses the CAS to
 *    a newcomer just sleeps again, so no wake-up is lost.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nt_internal.h"

static int *event_word(PRKEVENT e)
{
    return (int *)&e->Header.SignalState;
}

static long futex_wait(int *addr, int expected, const struct timespec *rel)
{
    return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, rel, NULL, 0);
}

static void futex_wake(int *addr, int count)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    Event->Header.Type = (UCHAR)Type;
    Event->Header.Signalling = 0;
    Event->Header.Size = (UCHAR)(sizeof(KEVENT) / sizeof(LONG));
    Event->Header.Reserved1 = 0;
    Event->Header.WaitListHead.Flink = NULL;
    Event->Header.WaitListHead.Blink = NULL;
    __atomic_store_n(event_word(Event), State ? 1 : 0, __ATOMIC_RELEASE);
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    (void)Increment;
    (void)Wait;
    /* Read the type before publishing the signal: once a waiter is released
     * the event's memory may be reused by its owner. */
    int sync = Event->Header.Type == SynchronizationEvent;
    int *word = event_word(Event);
    int old = __atomic_exchange_n(word, 1, __ATOMIC_ACQ_REL);
    if (old == 0)
        futex_wake(word, sync ? 1 : INT_MAX);
    return old;
}

void KeClearEvent(PRKEVENT Event)
{
    __atomic_store_n(event_word(Event), 0, __ATOMIC_RELEASE);
}

LONG KeResetEvent(PRKEVENT Event)
{
    return __atomic_exchange_n(event_word(Event), 0, __ATOMIC_ACQ_REL);
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    return __atomic_load_n(event_word(Event), __ATOMIC_ACQUIRE);
}

/* One attempt to satisfy the wait; consumes the signal of a sync event. */
static int event_try_acquire(PRKEVENT e, int sync)
{
    int *word = event_word(e);
    if (!sync)
        return __atomic_load_n(word, __ATOMIC_ACQUIRE) != 0;
    int expected = 1;
    return __atomic_compare_exchange_n(word, &expected, 0, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

/* CLOCK_MONOTONIC deadline in ns, from an NT timeout (see wdm.h). */
static long long timeout_deadline_ns(const LARGE_INTEGER *t)
{
    struct timespec now;
    long long rel_100ns;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (t->QuadPart < 0) {
        rel_100ns = -t->QuadPart;
    } else {
        LARGE_INTEGER sys;
        KeQuerySystemTime(&sys);
        rel_100ns = t->QuadPart > sys.QuadPart ? t->QuadPart - sys.QuadPart : 0;
    }
    if (rel_100ns > LLONG_MAX / 200)   /* far future: effectively infinite */
        rel_100ns = LLONG_MAX / 200;
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec + rel_100ns * 100;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    PRKEVENT e = (PRKEVENT)Object;
    (void)WaitReason;
    (void)WaitMode;
    (void)Alertable;
    if (e == NULL)
        nt_bugcheck("KeWaitForSingleObject", "NULL object");
    if (e->Header.Type != NotificationEvent && e->Header.Type != SynchronizationEvent)
        nt_bugcheck("KeWaitForSingleObject", "object %p is not a KEVENT (type %u)", Object,
                    e->Header.Type);
    int sync = e->Header.Type == SynchronizationEvent;

    if (event_try_acquire(e, sync))
        return STATUS_SUCCESS;
    if (Timeout != NULL && Timeout->QuadPart == 0)
        return STATUS_TIMEOUT;

    long long deadline = Timeout != NULL ? timeout_deadline_ns(Timeout) : 0;
    for (;;) {
        struct timespec rel, *relp = NULL;
        if (Timeout != NULL) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long left = deadline - ((long long)now.tv_sec * 1000000000LL + now.tv_nsec);
            if (left <= 0)
                return event_try_acquire(e, sync) ? STATUS_SUCCESS : STATUS_TIMEOUT;
            rel.tv_sec = (time_t)(left / 1000000000LL);
            rel.tv_nsec = (long)(left % 1000000000LL);
            relp = &rel;
        }
        /* Sleeps only while the word is still 0, so a set between the
         * check above and this call is never missed. */
        futex_wait(event_word(e), 0, relp);
        if (event_try_acquire(e, sync))
            return STATUS_SUCCESS;
    }
}
