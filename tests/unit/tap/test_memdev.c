/* SPDX-License-Identifier: MIT */
/* The in-memory device: FIFO order both ways, eventfd readiness that follows
 * the rx queue exactly, truncation, the "gone" state. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "tap/dev.h"

/* revents of the device's poll fd after a 0 ms poll. */
static short poll_now(struct dev *d)
{
    struct pollfd p = {.fd = dev_pollfd(d), .events = POLLIN};
    int n = poll(&p, 1, 0);
    assert_true(n == 0 || n == 1);
    return n == 0 ? 0 : p.revents;
}

static void test_create_identity(void **state)
{
    (void)state;
    struct dev *a = memdev_create("memA", 0);
    struct dev *b = memdev_create(NULL, 9000);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->name, "memA");
    assert_string_equal(b->name, "mem0");
    assert_int_equal(a->mtu, 1500);
    assert_int_equal(b->mtu, 9000);
    assert_true(a->ifindex >= 1000);
    assert_true(b->ifindex >= 1000);
    assert_int_not_equal(a->ifindex, b->ifindex);
    /* fake kernel MAC: locally administered unicast, distinct per device */
    assert_int_equal(a->kmac[0], 0x02);
    assert_int_equal(b->kmac[0], 0x02);
    assert_memory_not_equal(a->kmac, b->kmac, 6);
    assert_int_equal(a->kmac[5], (uint8_t)a->ifindex);
    assert_int_equal(memdev_tx_pending(a), 0);
    assert_int_equal(poll_now(a), 0);
    dev_close(a);
    dev_close(b);
}

static void test_rx_order_and_readiness(void **state)
{
    (void)state;
    struct dev *d = memdev_create("m", 1500);
    uint8_t f1[60], f2[61], f3[62];
    memset(f1, 0x11, sizeof f1);
    memset(f2, 0x22, sizeof f2);
    memset(f3, 0x33, sizeof f3);

    uint8_t b[4][100];
    struct dev_frame v[4];
    for (int i = 0; i < 4; i++)
        v[i] = (struct dev_frame){.data = b[i], .cap = sizeof b[i]};

    /* empty: nothing to read, fd not readable */
    assert_int_equal(dev_recv(d, v, 4), 0);
    assert_int_equal(poll_now(d), 0);

    assert_int_equal(memdev_inject(d, f1, sizeof f1), 0);
    assert_int_equal(poll_now(d), POLLIN);
    assert_int_equal(memdev_inject(d, f2, sizeof f2), 0);
    assert_int_equal(memdev_inject(d, f3, sizeof f3), 0);
    assert_int_equal(poll_now(d), POLLIN);

    /* read two of three: still readable */
    assert_int_equal(dev_recv(d, v, 2), 2);
    assert_int_equal(v[0].len, 60);
    assert_memory_equal(b[0], f1, 60);
    assert_int_equal(v[1].len, 61);
    assert_memory_equal(b[1], f2, 61);
    assert_int_equal(poll_now(d), POLLIN);

    /* the last one: queue empty -> not readable any more */
    v[0].off.gso_type = 5; /* recv must clear the offload fields */
    assert_int_equal(dev_recv(d, v, 4), 1);
    assert_int_equal(v[0].len, 62);
    assert_memory_equal(b[0], f3, 62);
    assert_int_equal(v[0].off.gso_type, 0);
    assert_int_equal(poll_now(d), 0);
    assert_int_equal(dev_recv(d, v, 4), 0);

    /* readable again after a new injection */
    assert_int_equal(memdev_inject(d, f1, 14), 0);
    assert_int_equal(poll_now(d), POLLIN);
    assert_int_equal(dev_recv(d, v, 1), 1);
    assert_int_equal(v[0].len, 14);
    assert_int_equal(poll_now(d), 0);
    dev_close(d);
}

static void test_rx_truncates_to_cap(void **state)
{
    (void)state;
    struct dev *d = memdev_create("m", 1500);
    uint8_t f[100];
    for (int i = 0; i < 100; i++)
        f[i] = (uint8_t)i;
    assert_int_equal(memdev_inject(d, f, sizeof f), 0);
    uint8_t b[40];
    memset(b, 0xee, sizeof b);
    struct dev_frame v = {.data = b, .cap = 30};
    assert_int_equal(dev_recv(d, &v, 1), 1);
    assert_int_equal(v.len, 30);
    assert_memory_equal(b, f, 30);
    assert_int_equal(b[30], 0xee); /* nothing written past cap */
    dev_close(d);
}

static void test_tx_order_and_pop(void **state)
{
    (void)state;
    struct dev *d = memdev_create("m", 1500);
    uint8_t a[60], b[70], c[80];
    memset(a, 0xa, sizeof a);
    memset(b, 0xb, sizeof b);
    memset(c, 0xc, sizeof c);
    struct dev_frame v[3] = {
        {.data = a, .len = sizeof a},
        {.data = b, .len = sizeof b},
        {.data = c, .len = sizeof c},
    };
    assert_int_equal(dev_send(d, v, 2), 2);
    assert_int_equal(dev_send(d, &v[2], 1), 1);
    assert_int_equal(memdev_tx_pending(d), 3);
    /* the frames were copied: changing the caller's buffers changes nothing */
    memset(a, 0, sizeof a);

    uint8_t out[200];
    assert_int_equal(memdev_pop_tx(d, out, sizeof out), 60);
    uint8_t exp[80];
    memset(exp, 0xa, sizeof exp);
    assert_memory_equal(out, exp, 60);
    assert_int_equal(memdev_tx_pending(d), 2);

    /* truncated copy, full length returned */
    memset(out, 0xee, sizeof out);
    assert_int_equal(memdev_pop_tx(d, out, 10), 70);
    memset(exp, 0xb, sizeof exp);
    assert_memory_equal(out, exp, 10);
    assert_int_equal(out[10], 0xee);

    assert_int_equal(memdev_pop_tx(d, out, sizeof out), 80);
    memset(exp, 0xc, sizeof exp);
    assert_memory_equal(out, exp, 80);
    assert_int_equal(memdev_tx_pending(d), 0);
    assert_int_equal(memdev_pop_tx(d, out, sizeof out), -1);

    /* sending does not make the poll fd readable (that is rx only) */
    assert_int_equal(dev_send(d, v, 1), 1);
    assert_int_equal(poll_now(d), 0);
    assert_int_equal(dev_send(d, v, 0), 0);
    assert_int_equal(memdev_tx_pending(d), 1);
    dev_close(d); /* frees the frame still queued (ASan checks) */
}

static void test_tx_bounded(void **state)
{
    (void)state;
    struct dev *d = memdev_create("m", 1500);
    uint8_t f[14] = {0};
    struct dev_frame v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (struct dev_frame){.data = f, .len = sizeof f};
    /* 65536 fit; then send stops short, like a full device */
    for (int i = 0; i < 1024; i++)
        assert_int_equal(dev_send(d, v, 64), 64);
    assert_int_equal(memdev_tx_pending(d), 65536);
    assert_int_equal(dev_send(d, v, 64), 0);
    uint8_t out[14];
    assert_int_equal(memdev_pop_tx(d, out, sizeof out), 14);
    assert_int_equal(dev_send(d, v, 64), 1);
    assert_int_equal(memdev_tx_pending(d), 65536);
    dev_close(d);
}

static void test_gone(void **state)
{
    (void)state;
    struct dev *d = memdev_create("m", 1500);
    uint8_t f[60] = {1};
    assert_int_equal(memdev_inject(d, f, sizeof f), 0);
    uint8_t b[100];
    struct dev_frame v = {.data = b, .cap = sizeof b, .len = 60};
    assert_int_equal(dev_send(d, &v, 1), 1);

    memdev_set_gone(d);
    /* a poller wakes up, and keeps waking up, and recv tells it to stop */
    assert_int_equal(poll_now(d), POLLIN);
    assert_int_equal(dev_recv(d, &v, 1), -ENODEV);
    assert_int_equal(poll_now(d), POLLIN);
    assert_int_equal(dev_recv(d, &v, 1), -ENODEV);
    assert_int_equal(dev_send(d, &v, 1), -ENODEV);
    assert_int_equal(memdev_tx_pending(d), 1); /* what was sent before stays */
    dev_close(d);

    /* gone on an empty device also wakes a poller */
    d = memdev_create("m", 1500);
    assert_int_equal(poll_now(d), 0);
    memdev_set_gone(d);
    assert_int_equal(poll_now(d), POLLIN);
    assert_int_equal(dev_recv(d, &v, 1), -ENODEV);
    dev_close(d);
}

/* A poller blocked in poll() is woken by set_gone from another thread. */
struct waiter {
    struct dev *d;
    int poll_rc;
    short revents;
    int recv_rc;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    struct pollfd p = {.fd = dev_pollfd(w->d), .events = POLLIN};
    w->poll_rc = poll(&p, 1, 5000);
    w->revents = p.revents;
    uint8_t b[64];
    struct dev_frame v = {.data = b, .cap = sizeof b};
    w->recv_rc = dev_recv(w->d, &v, 1);
    return NULL;
}

static void test_gone_wakes_blocked_poller(void **state)
{
    (void)state;
    struct waiter w = {.d = memdev_create("m", 1500)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    memdev_set_gone(w.d);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(w.poll_rc, 1);
    assert_int_equal(w.revents, POLLIN);
    assert_int_equal(w.recv_rc, -ENODEV);
    dev_close(w.d);
}

static void test_not_a_memdev(void **state)
{
    (void)state;
    /* the memdev_* test hooks refuse a device of another kind */
    static const struct dev_ops other_ops = {0};
    struct dev other = {.ops = &other_ops};
    uint8_t b[4] = {0};
    assert_int_equal(memdev_inject(&other, b, sizeof b), -EINVAL);
    assert_int_equal(memdev_pop_tx(&other, b, sizeof b), -1);
    assert_int_equal(memdev_tx_pending(&other), 0);
    memdev_set_gone(&other); /* no effect, no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_identity),
        cmocka_unit_test(test_rx_order_and_readiness),
        cmocka_unit_test(test_rx_truncates_to_cap),
        cmocka_unit_test(test_tx_order_and_pop),
        cmocka_unit_test(test_tx_bounded),
        cmocka_unit_test(test_gone),
        cmocka_unit_test(test_gone_wakes_blocked_poller),
        cmocka_unit_test(test_not_a_memdev),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
