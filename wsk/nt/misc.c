/*
 * misc.c - small NT kernel services for WSK clients in user space: pool
 * allocation, spin locks and the per-thread IRQL, time, Rtl helpers,
 * RtlGetVersion, DbgPrint.
 *
 * Concurrency: the only shared state here is the caller's KSPIN_LOCK words.
 * The IRQL is thread-local and only bookkeeping: raising it masks nothing,
 * it lets KeGetCurrentIrql() answer what a Windows driver expects (DISPATCH
 * while a spin lock is held, PASSIVE otherwise).
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nt_internal.h"

void nt_bugcheck(const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "wskstack: NT contract violation: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ------------------------------------------------------------------ IRQL */
static _Thread_local KIRQL nt_current_irql = PASSIVE_LEVEL;

KIRQL nt_irql_raise(KIRQL new_irql)
{
    KIRQL old = nt_current_irql;
    if (new_irql < old)
        nt_bugcheck("IRQL_NOT_GREATER_OR_EQUAL", "raise from %u to %u", old, new_irql);
    nt_current_irql = new_irql;
    return old;
}

void nt_irql_set(KIRQL irql)
{
    nt_current_irql = irql;
}

KIRQL KeGetCurrentIrql(void)
{
    return nt_current_irql;
}

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    *OldIrql = nt_irql_raise(NewIrql);
}

void KeLowerIrql(KIRQL NewIrql)
{
    if (NewIrql > nt_current_irql)
        nt_bugcheck("IRQL_NOT_LESS_OR_EQUAL", "lower from %u to %u", nt_current_irql, NewIrql);
    nt_current_irql = NewIrql;
}

KIRQL KeRaiseIrqlToDpcLevel(void)
{
    return nt_irql_raise(DISPATCH_LEVEL);
}

/* ------------------------------------------------------------------ pool */
PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    (void)PoolType;
    (void)Tag;
    return malloc(NumberOfBytes ? NumberOfBytes : 1);
}

PVOID ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, 0);
}

PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}

PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    (void)PoolType;
    (void)Tag;
    return calloc(1, NumberOfBytes ? NumberOfBytes : 1);
}

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    PVOID p;
    (void)Tag;
    if (Flags & POOL_FLAG_UNINITIALIZED)
        p = malloc(NumberOfBytes ? NumberOfBytes : 1);
    else
        p = calloc(1, NumberOfBytes ? NumberOfBytes : 1);
    if (p == NULL && (Flags & POOL_FLAG_RAISE_ON_FAILURE))
        nt_bugcheck("ExAllocatePool2", "out of memory with POOL_FLAG_RAISE_ON_FAILURE (%zu bytes)",
                    (size_t)NumberOfBytes);
    return p;
}

void ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    (void)Tag;
    free(P);
}

void ExFreePool(PVOID P)
{
    free(P);
}

/* ------------------------------------------------------------ spin locks */
void nt_spin_acquire(PKSPIN_LOCK lock)
{
    unsigned spins = 0;
    while (__atomic_exchange_n(lock, (KSPIN_LOCK)1, __ATOMIC_ACQUIRE) != 0) {
        /* Wait until it looks free before trying the exchange again; yield
         * now and then, since the holder may be a preempted thread. */
        while (__atomic_load_n(lock, __ATOMIC_RELAXED) != 0) {
            if (++spins % 64 == 0)
                sched_yield();
            else
                YieldProcessor();
        }
    }
}

void nt_spin_release(PKSPIN_LOCK lock)
{
    __atomic_store_n(lock, (KSPIN_LOCK)0, __ATOMIC_RELEASE);
}

void KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    __atomic_store_n(SpinLock, (KSPIN_LOCK)0, __ATOMIC_RELAXED);
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    KIRQL old = nt_irql_raise(DISPATCH_LEVEL);
    nt_spin_acquire(SpinLock);
    return old;
}

void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    nt_spin_release(SpinLock);
    KeLowerIrql(NewIrql);
}

void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    nt_spin_acquire(SpinLock);
}

void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    nt_spin_release(SpinLock);
}

BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    return __atomic_exchange_n(SpinLock, (KSPIN_LOCK)1, __ATOMIC_ACQUIRE) == 0;
}

/* Queued spin locks are plain spin locks here; the handle remembers which. */
void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = KeAcquireSpinLockRaiseToDpc(SpinLock);
}

void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    KeReleaseSpinLock(LockHandle->LockQueue.Lock, LockHandle->OldIrql);
}

void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock,
                                              PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    nt_spin_acquire(SpinLock);
}

void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    nt_spin_release(LockHandle->LockQueue.Lock);
}

/* ------------------------------------------------------------------ time */
/* 100 ns intervals between 1601-01-01 and 1970-01-01 (the Unix epoch). */
#define NT_EPOCH_DELTA_100NS 116444736000000000LL

void KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    CurrentTime->QuadPart = NT_EPOCH_DELTA_100NS + (LONGLONG)ts.tv_sec * 10000000LL +
                            ts.tv_nsec / 100;
}

void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime)
{
    KeQuerySystemTime(CurrentTime);
}

ULONGLONG KeQueryInterruptTime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ULONGLONG)ts.tv_sec * 10000000ULL + (ULONGLONG)ts.tv_nsec / 100;
}

ULONGLONG KeQueryInterruptTimePrecise(PULONGLONG QpcTimeStamp)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (QpcTimeStamp != NULL)
        *QpcTimeStamp = (ULONGLONG)ts.tv_sec * 1000000000ULL + (ULONGLONG)ts.tv_nsec;
    return (ULONGLONG)ts.tv_sec * 10000000ULL + (ULONGLONG)ts.tv_nsec / 100;
}

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    struct timespec ts;
    LARGE_INTEGER r;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (PerformanceFrequency != NULL)
        PerformanceFrequency->QuadPart = 1000000000LL;
    r.QuadPart = (LONGLONG)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    return r;
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                PLARGE_INTEGER Interval)
{
    LONGLONG hundred_ns;
    struct timespec ts;
    (void)WaitMode;
    (void)Alertable;
    if (Interval->QuadPart < 0) {
        hundred_ns = -Interval->QuadPart;
    } else {
        LARGE_INTEGER now;
        KeQuerySystemTime(&now);
        hundred_ns = Interval->QuadPart > now.QuadPart ? Interval->QuadPart - now.QuadPart : 0;
    }
    ts.tv_sec = (time_t)(hundred_ns / 10000000LL);
    ts.tv_nsec = (long)(hundred_ns % 10000000LL) * 100;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return STATUS_SUCCESS;
}

void KeStallExecutionProcessor(ULONG MicroSeconds)
{
    ULONGLONG end = KeQueryInterruptTime() + (ULONGLONG)MicroSeconds * 10;
    while (KeQueryInterruptTime() < end)
        YieldProcessor();
}

/* ---------------------------------------------------------------- strings */
void RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    DestinationString->Buffer = (PWSTR)SourceString;
    if (SourceString == NULL) {
        DestinationString->Length = 0;
        DestinationString->MaximumLength = 0;
        return;
    }
    size_t bytes = wcslen(SourceString) * sizeof(WCHAR);
    /* Lengths are USHORT byte counts: clamp as Windows refuses longer ones. */
    if (bytes > MAXUSHORT - sizeof(WCHAR))
        bytes = (MAXUSHORT - sizeof(WCHAR)) / sizeof(WCHAR) * sizeof(WCHAR);
    DestinationString->Length = (USHORT)bytes;
    DestinationString->MaximumLength = (USHORT)(bytes + sizeof(WCHAR));
}

void RtlInitString(PSTRING DestinationString, PCSTR SourceString)
{
    DestinationString->Buffer = (PCHAR)SourceString;
    if (SourceString == NULL) {
        DestinationString->Length = 0;
        DestinationString->MaximumLength = 0;
        return;
    }
    size_t len = strlen(SourceString);
    if (len > MAXUSHORT - 1)
        len = MAXUSHORT - 1;
    DestinationString->Length = (USHORT)len;
    DestinationString->MaximumLength = (USHORT)(len + 1);
}

/* ---------------------------------------------------------------- version */
NTSTATUS RtlGetVersion(PRTL_OSVERSIONINFOW lpVersionInformation)
{
    ULONG size = lpVersionInformation->dwOSVersionInfoSize;
    if (size != sizeof(RTL_OSVERSIONINFOW) && size != sizeof(RTL_OSVERSIONINFOEXW))
        return STATUS_INVALID_PARAMETER;
    lpVersionInformation->dwMajorVersion = 10;
    lpVersionInformation->dwMinorVersion = 0;
    lpVersionInformation->dwBuildNumber = 19041;
    lpVersionInformation->dwPlatformId = VER_PLATFORM_WIN32_NT;
    memset(lpVersionInformation->szCSDVersion, 0, sizeof(lpVersionInformation->szCSDVersion));
    if (size == sizeof(RTL_OSVERSIONINFOEXW)) {
        PRTL_OSVERSIONINFOEXW ex = (PRTL_OSVERSIONINFOEXW)lpVersionInformation;
        ex->wServicePackMajor = 0;
        ex->wServicePackMinor = 0;
        ex->wSuiteMask = 0x0100; /* VER_SUITE_SINGLEUSERTS, as a desktop reports */
        ex->wProductType = VER_NT_WORKSTATION;
        ex->wReserved = 0;
    }
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------- debugging */
ULONG DbgPrint(PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    vfprintf(stderr, Format, ap);
    va_end(ap);
    return STATUS_SUCCESS;
}

static ULONG dbg_enabled_mask(void)
{
    const char *s = getenv("WSKSTACK_DBGPRINT_MASK");
    if (s == NULL || *s == '\0')
        return 1u << DPFLTR_ERROR_LEVEL;
    return (ULONG)strtoul(s, NULL, 0);
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    va_list ap;
    ULONG mask = Level > 31 ? (Level & ~DPFLTR_MASK) : (1u << Level);
    (void)ComponentId;
    if ((mask & dbg_enabled_mask()) == 0)
        return STATUS_SUCCESS;
    va_start(ap, Format);
    vfprintf(stderr, Format, ap);
    va_end(ap);
    return STATUS_SUCCESS;
}
