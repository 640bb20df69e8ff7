/* SPDX-License-Identifier: MIT */
/* Two stacks in one process on two memdevs; the test is the wire between
 * them.  ARP resolution works between them and their state and counters
 * are independent (no global state, DESIGN.md principle 2). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define FX4_NODES
#include "fx4.h"

#define NS 1000000000ull
#define IP_A 0xC0000201u /* 192.0.2.1 */
#define IP_B 0xC0000202u /* 192.0.2.2 */
static const uint8_t MAC_A[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t MAC_B[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

struct fx {
    struct node a, b;
    uint64_t now;
};

static uint64_t fx_clock(void *ctx) { return ((struct fx *)ctx)->now; }

static void make(struct fx *f, struct node *n, const char *name, uint32_t ip, const uint8_t mac[6])
{
    fx4_node_new(n, name, ip, mac, STACK_NO_THREAD);
    stack_set_clock(n->st, fx_clock, f);
}

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.now = 50 * NS;
    make(&f, &f.a, "memA", IP_A, MAC_A);
    make(&f, &f.b, "memB", IP_B, MAC_B);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(stack_pkts_in_use(f->a.st), 0);
    assert_int_equal(stack_pkts_in_use(f->b.st), 0);
    wskstack_destroy(f->a.st);
    wskstack_destroy(f->b.st);
    return 0;
}

/* Move every frame `from` wrote to `to`'s receive queue; returns frames. */
static int wire(struct node *from, struct node *to, uint8_t *last, long *last_len)
{
    uint8_t buf[2048];
    long n;
    int moved = 0;
    while ((n = memdev_pop_tx(from->dev, buf, sizeof buf)) >= 0) {
        if (last) {
            memcpy(last, buf, (size_t)n);
            *last_len = n;
        }
        assert_int_equal(memdev_inject(to->dev, buf, (size_t)n), 0);
        moved++;
    }
    return moved;
}

struct req {
    struct tx_req r;
    int calls, err;
};
static void req_done(struct tx_req *r, int err)
{
    struct req *q = (struct req *)r;
    q->calls++;
    q->err = err;
}

static int send_udp(struct fx *f, struct node *n, uint32_t src, uint32_t dst, struct req *q)
{
    struct pkt *p = fx4_udp28(n, src, dst, q ? &q->r : NULL, req_done);
    return neigh_output(n->st, p, dst, f->now);
}

static void test_resolution_between_stacks(void **state)
{
    struct fx *f = *state;
    struct req q = {0};
    assert_int_equal(send_udp(f, &f->a, IP_A, IP_B, &q), UDP_SEND_QUEUED);
    /* A -> B: the broadcast request */
    assert_int_equal(wire(&f->a, &f->b, NULL, NULL), 1);
    assert_int_equal(stack_poll(f->b.st, f->now), 1);
    /* B -> A: the reply (and B learned A: RFC 826) */
    assert_int_equal(wire(&f->b, &f->a, NULL, NULL), 1);
    assert_int_equal(stack_neigh_count(f->b.st), 1);
    assert_int_equal(q.calls, 0);
    assert_int_equal(stack_poll(f->a.st, f->now), 1);
    assert_int_equal(q.calls, 1);
    assert_int_equal(q.err, 0);
    /* A's queued datagram, addressed to B's MAC */
    uint8_t last[2048];
    long last_len = 0;
    assert_int_equal(wire(&f->a, &f->b, last, &last_len), 1);
    assert_int_equal(last_len, 14 + 28);
    assert_memory_equal(last, MAC_B, 6);
    assert_memory_equal(last + 6, MAC_A, 6);
    assert_int_equal(be16(last + 12), ETHERTYPE_IPV4);
    assert_int_equal(be32(last + 14 + 16), IP_B);
    /* B answers A without asking: it learned A's MAC from the request */
    assert_int_equal(send_udp(f, &f->b, IP_B, IP_A, NULL), UDP_SEND_DONE);
    assert_int_equal(wire(&f->b, &f->a, last, &last_len), 1);
    assert_memory_equal(last, MAC_A, 6);
    assert_memory_equal(last + 6, MAC_B, 6);

    /* counters are per stack */
    struct wskstack *A = f->a.st, *B = f->b.st;
    assert_int_equal(wskstack_counter(A, "ArpOutRequests"), 1);
    assert_int_equal(wskstack_counter(B, "ArpOutRequests"), 0);
    assert_int_equal(wskstack_counter(A, "ArpInRequests"), 0);
    assert_int_equal(wskstack_counter(B, "ArpInRequests"), 1);
    assert_int_equal(wskstack_counter(A, "ArpOutReplies"), 0);
    assert_int_equal(wskstack_counter(B, "ArpOutReplies"), 1);
    assert_int_equal(wskstack_counter(A, "ArpInReplies"), 1);
    assert_int_equal(wskstack_counter(B, "ArpInReplies"), 0);
    assert_int_equal(wskstack_counter(A, "IfOutPackets"), 2);
    assert_int_equal(wskstack_counter(B, "IfOutPackets"), 2);
    assert_int_equal(wskstack_counter(A, "IfInPackets"), 1);
    assert_int_equal(wskstack_counter(B, "IfInPackets"), 1);
    assert_int_equal(stack_neigh_count(A), 1);
    assert_int_equal(stack_neigh_count(B), 1);
    assert_int_not_equal(stack_ifindex(A), stack_ifindex(B));
    /* drain what B received (the datagram) and what A got back */
    stack_poll(f->b.st, f->now);
    stack_poll(f->a.st, f->now);
    while (wire(&f->a, &f->b, NULL, NULL) + wire(&f->b, &f->a, NULL, NULL) > 0) {
        stack_poll(f->b.st, f->now);
        stack_poll(f->a.st, f->now);
    }
}

static void test_failure_is_per_stack(void **state)
{
    /* A resolves a host that never answers; B is unaffected and its own
     * timers do nothing. */
    struct fx *f = *state;
    struct req q = {0};
    assert_int_equal(send_udp(f, &f->a, IP_A, 0xC0000263u, &q), UDP_SEND_QUEUED);
    for (int s = 1; s <= 3; s++) {
        stack_poll(f->a.st, f->now + (uint64_t)s * NS);
        stack_poll(f->b.st, f->now + (uint64_t)s * NS);
    }
    assert_int_equal(q.calls, 1);
    assert_int_equal(q.err, -EHOSTUNREACH);
    assert_int_equal(wskstack_counter(f->a.st, "ArpResolveFailed"), 1);
    assert_int_equal(wskstack_counter(f->b.st, "ArpResolveFailed"), 0);
    assert_int_equal(wskstack_counter(f->a.st, "ArpOutRequests"), 3);
    /* the three requests, seen by B, are for someone else */
    assert_int_equal(wire(&f->a, &f->b, NULL, NULL), 3);
    assert_int_equal(stack_poll(f->b.st, f->now), 3);
    assert_int_equal(wskstack_counter(f->b.st, "ArpInIgnored"), 3);
    assert_int_equal(stack_neigh_count(f->b.st), 0);
    assert_int_equal(memdev_tx_pending(f->b.dev), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolution_between_stacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_is_per_stack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
