/*
 * test_event.c - KEVENT and KeWaitForSingleObject: timeouts, wake-ups from
 * another thread, synchronization vs notification semantics, zero-filled
 * events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include <ntddk.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static LARGE_INTEGER relative_ms(int ms)
{
    LARGE_INTEGER t;
    t.QuadPart = -(LONGLONG)ms * 10000;   /* negative: relative, 100 ns units */
    return t;
}

static void test_timeout_relative(void **state)
{
    (void)state;
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    LARGE_INTEGER t = relative_ms(150);
    int64_t start = now_ms();
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &t), STATUS_TIMEOUT);
    int64_t elapsed = now_ms() - start;
    assert_true(elapsed >= 145);
    assert_true(elapsed < 1500);
}

static void test_timeout_absolute_and_poll(void **state)
{
    (void)state;
    KEVENT e;
    KeInitializeEvent(&e, SynchronizationEvent, FALSE);
    LARGE_INTEGER t;
    KeQuerySystemTime(&t);
    t.QuadPart += 100 * 10000;   /* positive: absolute system time, +100 ms */
    int64_t start = now_ms();
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &t), STATUS_TIMEOUT);
    int64_t elapsed = now_ms() - start;
    assert_true(elapsed >= 90);
    assert_true(elapsed < 1500);

    LARGE_INTEGER zero = { .QuadPart = 0 };
    start = now_ms();
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_TIMEOUT);
    assert_true(now_ms() - start < 50);
    KeSetEvent(&e, IO_NO_INCREMENT, FALSE);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_SUCCESS);
}

struct setter {
    PKEVENT event;
    int delay_ms;
    int flag;    /* written before setting: the waiter must see it */
};

static void *set_later(void *arg)
{
    struct setter *s = arg;
    LARGE_INTEGER d = relative_ms(s->delay_ms);
    KeDelayExecutionThread(KernelMode, FALSE, &d);
    s->flag = 42;
    KeSetEvent(s->event, IO_NO_INCREMENT, FALSE);
    return NULL;
}

static void test_set_from_other_thread_wakes(void **state)
{
    (void)state;
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    struct setter s = { .event = &e, .delay_ms = 50, .flag = 0 };
    pthread_t t;
    int64_t start = now_ms();
    assert_int_equal(pthread_create(&t, NULL, set_later, &s), 0);
    /* Infinite wait (NULL timeout). */
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, NULL),
                     STATUS_SUCCESS);
    int64_t elapsed = now_ms() - start;
    assert_int_equal(s.flag, 42);
    assert_true(elapsed >= 45);
    assert_true(elapsed < 5000);
    assert_int_equal(pthread_join(t, NULL), 0);

    /* A finite timeout longer than the delay also returns SUCCESS early. */
    KeClearEvent(&e);
    s.flag = 0;
    LARGE_INTEGER to = relative_ms(10000);
    start = now_ms();
    assert_int_equal(pthread_create(&t, NULL, set_later, &s), 0);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &to),
                     STATUS_SUCCESS);
    assert_true(now_ms() - start < 5000);
    assert_int_equal(s.flag, 42);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_synchronization_event_auto_resets(void **state)
{
    (void)state;
    KEVENT e;
    LARGE_INTEGER zero = { .QuadPart = 0 };
    KeInitializeEvent(&e, SynchronizationEvent, TRUE);
    assert_int_equal(KeReadStateEvent(&e), 1);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&e), 0);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_TIMEOUT);
    /* Two sets before a wait release one wait: an event is not a semaphore. */
    assert_int_equal(KeSetEvent(&e, IO_NO_INCREMENT, FALSE), 0);
    assert_int_equal(KeSetEvent(&e, IO_NO_INCREMENT, FALSE), 1);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_SUCCESS);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_TIMEOUT);
}

static void test_notification_event_stays_set(void **state)
{
    (void)state;
    KEVENT e;
    LARGE_INTEGER zero = { .QuadPart = 0 };
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    assert_int_equal(KeSetEvent(&e, IO_NO_INCREMENT, FALSE), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                         STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&e), 1);
    assert_int_equal(KeResetEvent(&e), 1);
    assert_int_equal(KeReadStateEvent(&e), 0);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_TIMEOUT);
}

/* Several waiters on a notification event: one set releases all of them;
 * on a synchronization event: each set releases exactly one. */
#define WAITERS 4
struct waiter_arg {
    PKEVENT event;
    int woke;    /* atomic */
};

static void *waiter(void *arg)
{
    struct waiter_arg *w = arg;
    LARGE_INTEGER to = relative_ms(5000);
    if (KeWaitForSingleObject(w->event, Executive, KernelMode, FALSE, &to) == STATUS_SUCCESS)
        __atomic_add_fetch(&w->woke, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

static void wait_until(const int *v, int want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want && now_ms() < end) {
        LARGE_INTEGER d = relative_ms(1);
        KeDelayExecutionThread(KernelMode, FALSE, &d);
    }
}

static void test_many_waiters(void **state)
{
    (void)state;
    for (int type = 0; type < 2; type++) {
        KEVENT e;
        KeInitializeEvent(&e, type == 0 ? NotificationEvent : SynchronizationEvent, FALSE);
        struct waiter_arg w = { .event = &e, .woke = 0 };
        pthread_t t[WAITERS];
        for (int i = 0; i < WAITERS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, waiter, &w), 0);
        LARGE_INTEGER d = relative_ms(50);
        KeDelayExecutionThread(KernelMode, FALSE, &d);
        assert_int_equal(__atomic_load_n(&w.woke, __ATOMIC_ACQUIRE), 0);
        if (type == 0) {
            KeSetEvent(&e, IO_NO_INCREMENT, FALSE);
            wait_until(&w.woke, WAITERS, 3000);
            assert_int_equal(__atomic_load_n(&w.woke, __ATOMIC_ACQUIRE), WAITERS);
        } else {
            for (int n = 1; n <= WAITERS; n++) {
                KeSetEvent(&e, IO_NO_INCREMENT, FALSE);
                wait_until(&w.woke, n, 3000);
                /* Give a wrongly released second waiter time to show up. */
                KeDelayExecutionThread(KernelMode, FALSE, &(LARGE_INTEGER){ .QuadPart = -100000 });
                assert_int_equal(__atomic_load_n(&w.woke, __ATOMIC_ACQUIRE), n);
            }
            assert_int_equal(KeReadStateEvent(&e), 0);
        }
        for (int i = 0; i < WAITERS; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
    }
}

static void test_zero_initialised_event(void **state)
{
    (void)state;
    KEVENT *e = calloc(1, sizeof *e);   /* as inside a zeroed pool structure */
    LARGE_INTEGER zero = { .QuadPart = 0 };
    /* Zero bytes: a valid, non-signalled notification event. */
    assert_int_equal(KeReadStateEvent(e), 0);
    assert_int_equal(KeWaitForSingleObject(e, Executive, KernelMode, FALSE, &zero),
                     STATUS_TIMEOUT);
    KeInitializeEvent(e, SynchronizationEvent, FALSE);
    struct setter s = { .event = e, .delay_ms = 20, .flag = 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, set_later, &s), 0);
    assert_int_equal(KeWaitForSingleObject(e, Executive, KernelMode, FALSE, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(s.flag, 42);
    assert_int_equal(KeReadStateEvent(e), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    free(e);   /* no destroy call exists or is needed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_relative),
        cmocka_unit_test(test_timeout_absolute_and_poll),
        cmocka_unit_test(test_set_from_other_thread_wakes),
        cmocka_unit_test(test_synchronization_event_auto_resets),
        cmocka_unit_test(test_notification_event_stays_set),
        cmocka_unit_test(test_many_waiters),
        cmocka_unit_test(test_zero_initialised_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
