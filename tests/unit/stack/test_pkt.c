/* SPDX-License-Identifier: MIT */
/* Packet pool (stack/pkt.c): allocation, headroom, exhaustion, large
 * buffers, reuse without heap traffic, in-use accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack_impl.h"

static int setup(void **state)
{
    struct dev *dev = memdev_create("pkt0", 1500);
    assert_non_null(dev);
    struct wskstack *st = NULL;
    char err[128];
    assert_int_equal(stack_create_on_dev(NULL, dev, STACK_NO_THREAD, &st, err, sizeof err), 0);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    struct wskstack *st = *state;
    assert_int_equal(stack_pkts_in_use(st), 0);
    wskstack_destroy(st);
    return 0;
}

static void test_alloc_free(void **state)
{
    struct wskstack *st = *state;
    assert_int_equal(stack_pkts_in_use(st), 0);
    struct pkt *p = pkt_alloc(st, 100);
    assert_non_null(p);
    assert_int_equal(p->head, PKT_HEADROOM);
    assert_int_equal(p->len, 0);
    assert_null(p->next);
    assert_null(p->req);
    /* pool buffer: headroom + 1500 + 14 + 64 */
    assert_int_equal(p->cap, PKT_HEADROOM + 1500 + 14 + 64);
    assert_int_equal(stack_pkts_in_use(st), 1);
    memset(pkt_data(p), 0xab, p->cap - p->head); /* whole buffer writable (ASan) */
    pkt_free(st, p);
    assert_int_equal(stack_pkts_in_use(st), 0);
    pkt_free(st, NULL); /* no-op */
}

static void test_push_pull(void **state)
{
    struct wskstack *st = *state;
    struct pkt *p = pkt_alloc(st, 64);
    memcpy(pkt_data(p), "payload", 7);
    p->len = 7;
    uint8_t *h = pkt_push(p, 8);
    assert_ptr_equal(h, p->buf + PKT_HEADROOM - 8);
    assert_ptr_equal(h, pkt_data(p));
    assert_int_equal(p->len, 15);
    memset(h, 0x11, 8);
    assert_memory_equal(pkt_data(p) + 8, "payload", 7);
    pkt_pull(p, 8);
    assert_int_equal(p->head, PKT_HEADROOM);
    assert_int_equal(p->len, 7);
    assert_memory_equal(pkt_data(p), "payload", 7);
    /* more than the headroom: refused, packet unchanged */
    assert_null(pkt_push(p, PKT_HEADROOM + 1));
    assert_int_equal(p->head, PKT_HEADROOM);
    assert_int_equal(p->len, 7);
    assert_non_null(pkt_push(p, PKT_HEADROOM));
    assert_int_equal(p->head, 0);
    /* pulling more than len empties it */
    pkt_pull(p, 100000);
    assert_int_equal(p->len, 0);
    pkt_free(st, p);
}

static void test_reuse_lifo(void **state)
{
    /* Steady state: a freed buffer is what the next alloc returns. */
    struct wskstack *st = *state;
    struct pkt *a = pkt_alloc(st, 1500);
    uint8_t *buf = a->buf;
    pkt_free(st, a);
    struct pkt *b = pkt_alloc(st, 10);
    assert_ptr_equal(b, a);
    assert_ptr_equal(b->buf, buf);
    assert_int_equal(b->len, 0);
    assert_int_equal(b->head, PKT_HEADROOM);
    pkt_free(st, b);
}

static void test_exhaustion(void **state)
{
    struct wskstack *st = *state;
    enum { CAP = 4096 };
    static struct pkt *v[CAP + 1];
    unsigned n = 0;
    while (n <= CAP) {
        struct pkt *p = pkt_alloc(st, 1000);
        if (!p)
            break;
        v[n++] = p;
    }
    assert_int_equal(n, CAP);
    assert_int_equal(stack_pkts_in_use(st), CAP);
    assert_null(pkt_alloc(st, 1));
    /* large buffers are a separate budget */
    struct pkt *big = pkt_alloc(st, 9000);
    assert_non_null(big);
    pkt_free(st, big);
    /* one free makes one alloc possible again */
    pkt_free(st, v[--n]);
    v[n] = pkt_alloc(st, 1);
    assert_non_null(v[n]);
    n++;
    assert_null(pkt_alloc(st, 1));
    for (unsigned i = 0; i < n; i++)
        pkt_free(st, v[i]);
    assert_int_equal(stack_pkts_in_use(st), 0);
    /* and the pool serves again */
    struct pkt *p = pkt_alloc(st, 1);
    assert_non_null(p);
    pkt_free(st, p);
}

static void test_large(void **state)
{
    struct wskstack *st = *state;
    /* a maximal IPv4 datagram: 65535 bytes */
    struct pkt *p = pkt_alloc(st, 65535);
    assert_non_null(p);
    assert_int_equal(p->head, PKT_HEADROOM);
    assert_true(p->cap >= PKT_HEADROOM + 65535);
    memset(pkt_data(p), 0x5a, 65535);
    p->len = 65535;
    assert_non_null(pkt_push(p, 14 + 20 + 8));
    assert_int_equal(stack_pkts_in_use(st), 1);
    /* one byte more than the pool buffer's room goes large as well */
    struct pkt *q = pkt_alloc(st, 1500 + 14 + 64 + 1);
    assert_non_null(q);
    assert_int_equal(stack_pkts_in_use(st), 2);
    pkt_free(st, p);
    pkt_free(st, q);
    assert_int_equal(stack_pkts_in_use(st), 0);
    /* beyond any datagram: refused */
    assert_null(pkt_alloc(st, 1u << 20));
    assert_null(pkt_alloc(st, UINT32_MAX));
    assert_int_equal(stack_pkts_in_use(st), 0);
}

static void test_large_cap(void **state)
{
    struct wskstack *st = *state;
    static struct pkt *v[300];
    unsigned n = 0;
    while (n < 300) {
        struct pkt *p = pkt_alloc(st, 20000);
        if (!p)
            break;
        v[n++] = p;
    }
    assert_int_equal(n, 256);
    for (unsigned i = 0; i < n; i++)
        pkt_free(st, v[i]);
    assert_int_equal(stack_pkts_in_use(st), 0);
}

static void test_jumbo_mtu(void **state)
{
    (void)state;
    struct dev *dev = memdev_create("pkt1", 9000);
    struct wskstack *st = NULL;
    char err[128];
    assert_int_equal(stack_create_on_dev(NULL, dev, STACK_NO_THREAD, &st, err, sizeof err), 0);
    assert_int_equal(st->mtu, 9000);
    struct pkt *p = pkt_alloc(st, 9000 + 14);
    assert_non_null(p);
    assert_int_equal(p->cap, PKT_HEADROOM + 9000 + 14 + 64);
    pkt_free(st, p);
    assert_int_equal(stack_pkts_in_use(st), 0);
    wskstack_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alloc_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_pull, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse_lifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_cap, setup, teardown),
        cmocka_unit_test(test_jumbo_mtu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
