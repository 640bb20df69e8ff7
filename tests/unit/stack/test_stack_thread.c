/* SPDX-License-Identifier: MIT */
/* The receive thread (stack/stack.c): two threaded stacks resolve each
 * other while a pump thread is the wire; a send from the test thread
 * completes on the receive thread; device loss calls the gone callback
 * once and the thread stops polling the dead fd (BAD-INPUT K.48);
 * destroy joins cleanly.  Run under TSan (label irp). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define FX4_NODES
#include "fx4.h"
#include "testutil.h"

#define IP_A 0xC0000201u
#define IP_B 0xC0000202u

static void make(struct node *n, const char *name, uint32_t ip, uint8_t last)
{
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
    fx4_node_new(n, name, ip, mac, 0);
}

struct pump {
    struct node *a, *b;
    atomic_bool stop;
    atomic_int ip_frames_a_to_b;
};

static void move(struct node *from, struct node *to, struct pump *pm, bool count_ip)
{
    uint8_t buf[2048];
    long n;
    while ((n = memdev_pop_tx(from->dev, buf, sizeof buf)) >= 0) {
        if (count_ip && n >= 14 && be16(buf + 12) == ETHERTYPE_IPV4)
            atomic_fetch_add(&pm->ip_frames_a_to_b, 1);
        memdev_inject(to->dev, buf, (size_t)n);
    }
}

static void *pump_main(void *arg)
{
    struct pump *pm = arg;
    while (!atomic_load(&pm->stop)) {
        move(pm->a, pm->b, pm, true);
        move(pm->b, pm->a, pm, false);
        usleep(200);
    }
    return NULL;
}

struct req {
    struct tx_req r;
    atomic_int calls;
    atomic_int err;
};
static void req_done(struct tx_req *r, int err)
{
    struct req *q = (struct req *)r;
    atomic_store(&q->err, err);
    atomic_fetch_add(&q->calls, 1);
}

static int send_udp(struct node *n, uint32_t src, uint32_t dst, struct req *q)
{
    struct pkt *p = fx4_udp28(n, src, dst, q ? &q->r : NULL, req_done);
    return neigh_output(n->st, p, dst, stack_now(n->st));
}

static bool wait_for(atomic_int *v, int want, unsigned ms)
{
    for (unsigned i = 0; i < ms; i++) {
        if (atomic_load(v) >= want)
            return true;
        usleep(1000);
    }
    return atomic_load(v) >= want;
}

static void test_threaded_resolution(void **state)
{
    (void)state;
    struct node a, b;
    make(&a, "thrA", IP_A, 0x0a);
    make(&b, "thrB", IP_B, 0x0b);
    struct pump pm = {.a = &a, .b = &b};
    atomic_init(&pm.stop, false);
    atomic_init(&pm.ip_frames_a_to_b, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pump_main, &pm), 0);

    struct req q;
    memset(&q, 0, sizeof q);
    atomic_init(&q.calls, 0);
    atomic_init(&q.err, 1);
    assert_int_equal(send_udp(&a, IP_A, IP_B, &q), UDP_SEND_QUEUED);
    assert_true(wait_for(&q.calls, 1, 5000));
    assert_int_equal(atomic_load(&q.err), 0);
    assert_true(wait_for(&pm.ip_frames_a_to_b, 1, 5000));
    /* now known: 20 more go at once from this thread */
    for (int i = 0; i < 20; i++)
        assert_int_equal(send_udp(&a, IP_A, IP_B, NULL), UDP_SEND_DONE);
    assert_true(wait_for(&pm.ip_frames_a_to_b, 21, 5000));
    usleep(1000 * 50);
    assert_int_equal(atomic_load(&q.calls), 1);

    atomic_store(&pm.stop, true);
    pthread_join(t, NULL);
    assert_int_equal(wskstack_counter(a.st, "ArpOutRequests"), 1);
    assert_int_equal(wskstack_counter(b.st, "ArpOutReplies"), 1);
    wskstack_destroy(a.st);
    wskstack_destroy(b.st);
}

struct gone {
    atomic_int calls;
};
static void on_gone(void *ctx)
{
    atomic_fetch_add(&((struct gone *)ctx)->calls, 1);
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_threaded_device_gone(void **state)
{
    (void)state;
    struct node a;
    make(&a, "thrG", IP_A, 0x0c);
    struct gone g;
    atomic_init(&g.calls, 0);
    stack_set_gone_cb(a.st, on_gone, &g);
    struct req q;
    memset(&q, 0, sizeof q);
    atomic_init(&q.calls, 0);
    atomic_init(&q.err, 1);
    assert_int_equal(send_udp(&a, IP_A, 0xC0000263u, &q), UDP_SEND_QUEUED);
    memdev_set_gone(a.dev);
    assert_true(wait_for(&g.calls, 1, 5000));
    assert_true(wait_for(&q.calls, 1, 5000));
    assert_int_equal(atomic_load(&q.err), -ENODEV);
    assert_true(stack_dev_gone(a.st));
    /* no spinning on the dead (always readable) fd: the process uses far
     * less CPU than wall time while the thread idles */
    uint64_t c0 = cpu_ns();
    usleep(300 * 1000);
    uint64_t used = cpu_ns() - c0;
    assert_true(used < 100 * 1000000ull);
    assert_int_equal(atomic_load(&g.calls), 1);
    assert_int_equal(send_udp(&a, IP_A, IP_B, NULL), -ENODEV);
    wskstack_destroy(a.st);
}

static void test_create_destroy_loop(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        struct node a;
        make(&a, "thrL", IP_A, 0x0d);
        wskstack_destroy(a.st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threaded_resolution),
        cmocka_unit_test(test_threaded_device_gone),
        cmocka_unit_test(test_create_destroy_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
