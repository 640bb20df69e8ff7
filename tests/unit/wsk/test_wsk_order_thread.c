/* SPDX-License-Identifier: MIT */
/*
 * Per-socket completion ordering (issue 3, DESIGN DECISIONS in
 * wsk/wsk_impl.h "Per-socket send ordering" and "Completion threads"):
 *
 *  - socket A: 10000 WskSendTo from one thread, in 100 rounds of 100; in
 *    round r every 10th send goes to 192.0.2.(100+r), a neighbour nobody
 *    has resolved yet (no static entry), the others to the static peer.
 *    A responder thread watches the wire and answers the ARP request for
 *    round r only after round r+1 has been submitted, so at any time sends
 *    of two rounds wait for ARP while later ones have already left.
 *    The completion routines must run in submission order, exactly once
 *    each, with STATUS_SUCCESS and the byte count.
 *  - socket B: 10000 sends to the static peer from a second thread at the
 *    same time (written at once, completed on whichever completion thread
 *    is free), also in submission order.
 *  - the routines of one socket never overlap: an atomic "in routine" flag
 *    per socket must be 0 on entry (every 16th routine lingers a little to
 *    widen the window).  Routines of A and B MAY overlap (printed, not
 *    required).
 *  - the wire: exactly 10 UDP frames to each of the 100 neighbours, 19000
 *    to the peer, one answered ARP request per neighbour.
 */
#include "wsk_test.h"

#define ROUNDS 100
#define PER_ROUND 100
#define N (ROUNDS * PER_ROUND)
#define ARP_EVERY 10
#define X_IP(r) (0xC0000264u + (uint32_t)(r)) /* 192.0.2.100 + r */

struct osend {
    PIRP irp;
    struct sock_order *so;
    int idx;
    ULONG len;
    NTSTATUS ret;
    /* written by the routine */
    NTSTATUS status;
    ULONG_PTR info;
    BOOLEAN pending_returned;
    int pos;
    atomic_int calls;
};

struct sock_order {
    PWSK_SOCKET s;
    atomic_int in_routine;   /* 1 while one of this socket's routines runs */
    atomic_int overlaps;     /* entries that found it set */
    atomic_int next_pos;     /* completion position */
    atomic_int done;
    struct osend *ops;
    uint8_t data[64];
    PMDL mdl;
};

static struct wt T;
static struct sock_order A, B;
static atomic_int running;       /* routines of any socket running now */
static atomic_int cross_overlap; /* times A and B routines overlapped */

static void linger(void)
{
    uint64_t end = wt_now_ms() + 1;
    for (int i = 0; i < 2000 && wt_now_ms() < end; i++)
        sched_yield();
}

static NTSTATUS order_routine(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    struct osend *o = Context;
    struct sock_order *so = o->so;
    if (atomic_exchange(&so->in_routine, 1) != 0)
        atomic_fetch_add(&so->overlaps, 1);
    if (atomic_fetch_add(&running, 1) != 0)
        atomic_fetch_add(&cross_overlap, 1);
    o->status = Irp->IoStatus.Status;
    o->info = Irp->IoStatus.Information;
    o->pending_returned = Irp->PendingReturned;
    o->pos = atomic_fetch_add(&so->next_pos, 1);
    if (o->idx % 16 == 0)
        linger();
    atomic_fetch_add(&o->calls, 1);
    atomic_fetch_sub(&running, 1);
    atomic_store(&so->in_routine, 0);
    atomic_fetch_add(&so->done, 1); /* last touch */
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static void so_init(struct sock_order *so, uint16_t port)
{
    memset(so, 0, sizeof(*so));
    so->s = wt_socket(&T);
    assert_int_equal(wt_bind(so->s, WT_OUR_IP1, port), STATUS_SUCCESS);
    so->ops = calloc(N, sizeof(*so->ops));
    assert_non_null(so->ops);
    memset(so->data, 0x5a, sizeof(so->data));
    so->mdl = wt_mdl(so->data, sizeof(so->data));
    for (int i = 0; i < N; i++) {
        struct osend *o = &so->ops[i];
        o->irp = IoAllocateIrp(1, FALSE);
        assert_non_null(o->irp);
        o->so = so;
        o->idx = i;
        o->pos = -1;
        o->len = 1 + (ULONG)(i % 64);
        o->ret = (NTSTATUS)0x12345678;
        IoSetCompletionRoutine(o->irp, order_routine, o, TRUE, TRUE, TRUE);
    }
}

static NTSTATUS so_send(struct sock_order *so, int i, uint32_t ip)
{
    struct osend *o = &so->ops[i];
    WSK_BUF b = {so->mdl, 0, o->len};
    SOCKADDR_IN to;
    wt_sin(&to, ip, 7400);
    o->ret = wt_dg(so->s)->WskSendTo(so->s, &b, 0, (PSOCKADDR)&to, 0, NULL, o->irp);
    return o->ret;
}

/* Everything checked after all routines ran: order, results, flags. */
static void so_check(struct sock_order *so, const char *name)
{
    assert_int_equal(atomic_load(&so->done), N);
    assert_int_equal(atomic_load(&so->overlaps), 0);
    for (int i = 0; i < N; i++) {
        struct osend *o = &so->ops[i];
        if (atomic_load(&o->calls) != 1 || o->pos != i || o->ret != STATUS_PENDING ||
            o->status != STATUS_SUCCESS || o->info != o->len || o->pending_returned != TRUE)
            fail_msg("%s send #%d: %d calls, completed as #%d, returned 0x%08x, status 0x%08x, "
                     "info %lu (len %lu), PendingReturned %d",
                     name, i, atomic_load(&o->calls), o->pos, (unsigned)o->ret,
                     (unsigned)o->status, (unsigned long)o->info, (unsigned long)o->len,
                     o->pending_returned);
    }
}

static void so_fini(struct sock_order *so)
{
    for (int i = 0; i < N; i++)
        IoFreeIrp(so->ops[i].irp);
    free(so->ops);
    IoFreeMdl(so->mdl);
    wt_close(so->s);
}

/* ---- the responder: the wire side ---------------------------------------------- */
static struct {
    atomic_int answer_upto;      /* answer neighbours 0..answer_upto-1 */
    atomic_bool stop;
    bool seen[ROUNDS];           /* responder thread only */
    bool answered[ROUNDS];
    int arp_requests[ROUNDS];
    int udp_to_x[ROUNDS];
    long udp_to_peer, other;
} R;

static void inject_arp_reply(int r)
{
    uint8_t f[60];
    memset(f, 0, sizeof(f));
    uint8_t xmac[6] = {0x02, 0, 0, 0, 0x01, (uint8_t)r};
    memcpy(f, wt_our_mac, 6);
    memcpy(f + 6, xmac, 6);
    wt_be16(f + 12, 0x0806);
    wt_be16(f + 14, 1);
    wt_be16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    wt_be16(f + 20, 2);
    memcpy(f + 22, xmac, 6);
    wt_be32(f + 28, X_IP(r));
    memcpy(f + 32, wt_our_mac, 6);
    wt_be32(f + 38, WT_OUR_IP1);
    if (memdev_inject(T.dev, f, sizeof(f)) != 0)
        R.other = -1000000; /* shows in the final check */
}

static uint32_t be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void *responder(void *arg)
{
    (void)arg;
    uint8_t f[256];
    for (;;) {
        bool idle = true;
        long n = memdev_pop_tx(T.dev, f, sizeof(f));
        if (n >= 42) {
            idle = false;
            uint16_t type = (uint16_t)((f[12] << 8) | f[13]);
            if (type == 0x0806 && f[21] == 1) {
                uint32_t tpa = be32_at(f + 38);
                if (tpa >= X_IP(0) && tpa < X_IP(ROUNDS)) {
                    R.seen[tpa - X_IP(0)] = true;
                    R.arp_requests[tpa - X_IP(0)]++;
                } else {
                    R.other++;
                }
            } else if (type == 0x0800 && f[23] == 17) {
                uint32_t dst = be32_at(f + 30);
                if (dst == WT_PEER_IP)
                    R.udp_to_peer++;
                else if (dst >= X_IP(0) && dst < X_IP(ROUNDS))
                    R.udp_to_x[dst - X_IP(0)]++;
                else
                    R.other++;
            } else {
                R.other++;
            }
        } else if (n >= 0) {
            idle = false;
            R.other++;
        }
        int upto = atomic_load(&R.answer_upto);
        for (int r = 0; r < upto; r++) {
            if (R.seen[r] && !R.answered[r]) {
                inject_arp_reply(r);
                R.answered[r] = true;
            }
        }
        if (idle) {
            if (atomic_load(&R.stop))
                break;
            wt_sleep_ms(1);
        }
    }
    return NULL;
}

/* ---- socket B's sender ------------------------------------------------------------ */
static void *sender_b(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        if (so_send(&B, i, WT_PEER_IP) != STATUS_PENDING)
            break; /* so_check reports it */
        if (i % 256 == 255) {
            /* keep at most ~256 in flight */
            uint64_t end = wt_now_ms() + 10000;
            while (atomic_load(&B.done) < i - 255 && wt_now_ms() < end)
                sched_yield();
        }
    }
    return NULL;
}

struct done_wait {
    struct sock_order *so;
};
static bool all_done(void *ctx)
{
    struct done_wait *d = ctx;
    return atomic_load(&d->so->done) >= N;
}

static void test_send_completion_order(void **state)
{
    (void)state;
    memset(&R, 0, sizeof(R));
    atomic_store(&running, 0);
    atomic_store(&cross_overlap, 0);
    so_init(&A, 5400);
    so_init(&B, 5401);
    uint64_t t0 = wt_now_ms();
    pthread_t resp, tb;
    assert_int_equal(pthread_create(&resp, NULL, responder, NULL), 0);
    assert_int_equal(pthread_create(&tb, NULL, sender_b, NULL), 0);

    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < PER_ROUND; k++) {
            int i = r * PER_ROUND + k;
            NTSTATUS ret = so_send(&A, i, k % ARP_EVERY == 0 ? X_IP(r) : WT_PEER_IP);
            if (ret != STATUS_PENDING)
                fail_msg("A send #%d returned 0x%08x", i, (unsigned)ret);
        }
        if (r == 0) {
            /* nothing of round 0 can complete: its first send waits */
            wt_sleep_ms(20);
            assert_int_equal(atomic_load(&A.done), 0);
        }
        /* round r submitted: the neighbour of round r-1 may answer now */
        atomic_store(&R.answer_upto, r);
    }
    atomic_store(&R.answer_upto, ROUNDS);
    struct done_wait da = {&A}, db = {&B};
    assert_true(wt_until(all_done, &da, 30000));
    pthread_join(tb, NULL);
    assert_true(wt_until(all_done, &db, 30000));
    uint64_t ms = wt_now_ms() - t0;

    /* the wire: wait for the last frames, then stop the responder */
    uint64_t end = wt_now_ms() + 5000;
    while (memdev_tx_pending(T.dev) > 0 && wt_now_ms() < end)
        wt_sleep_ms(1);
    wt_sleep_ms(20);
    atomic_store(&R.stop, true);
    pthread_join(resp, NULL);

    print_message("%d + %d sends in %llu ms; routines of A and B overlapped %d times\n", N, N,
                  (unsigned long long)ms, atomic_load(&cross_overlap));
    so_check(&A, "A");
    so_check(&B, "B");
    assert_int_equal(R.udp_to_peer, N - N / ARP_EVERY + N);
    for (int r = 0; r < ROUNDS; r++) {
        assert_true(R.answered[r]);
        assert_int_equal(R.udp_to_x[r], PER_ROUND / ARP_EVERY);
        assert_in_range(R.arp_requests[r], 1, 3);
    }
    assert_int_equal(R.other, 0);
    so_fini(&A);
    so_fini(&B);
}

static int setup(void **state)
{
    (void)state;
    wt_setup(&T);
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    wt_teardown(&T);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_completion_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
