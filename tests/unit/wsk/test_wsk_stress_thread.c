/* SPDX-License-Identifier: MIT */
/*
 * IRP stress (issue 3, BAD-INPUT K.46/K.47): at least 10^6 IRPs on a memdev
 * stack, mixing WskSendTo (static neighbour: written at once), WskReceiveFrom
 * (fed by an injector thread), IoCancelIrp on random pending receives, and
 * WskCloseSocket + WskSocket + WskBind (sockets closed and reopened), from 4
 * worker threads at once.  Beside them: the stack's receive thread, the
 * provider's completion threads, an injector thread and a drain thread that
 * pops every transmitted frame.
 *
 * Every IRP has its own context (struct sx) from a per-worker pool that is
 * never returned to malloc during the run.  Its completion routine checks
 * the context's magic (poisoned while the context sits in the free pool:
 * a completion for an IRP that was already given back is seen), moves its
 * state IN_FLIGHT -> DONE exactly once (a second completion is seen), and
 * checks that the socket the IRP belonged to has not yet finished closing
 * (no completion after the close IRP completed).  Half the IRPs live in the
 * context itself (IoInitializeIrp over caller memory), half come from
 * IoAllocateIrp; all are re-armed with IoReuseIrp between operations.
 *
 * At the end: IRPs issued == completion routine calls, exactly; every
 * context is back in its pool; nothing was completed twice, after free or
 * after its socket's close; every result is the exact one its operation
 * allows (sends: SUCCESS with the byte count; receives: SUCCESS with the
 * injected datagram, or CANCELLED when IoCancelIrp returned TRUE or the
 * socket was closed); Irp->PendingReturned matches what the call returned;
 * the wire carried exactly one UDP frame per successful send.
 *
 * WSKSTACK_STRESS_IRPS overrides the IRP count (the default, 1000000, is
 * what CI runs in every build, sanitizers included; the count used is
 * printed).
 */
#include "wsk_test.h"

#define NWORKERS 4
#define NSLOTS 2             /* sockets per worker */
#define POOL 384             /* contexts per worker */
#define SEND_WIN 96          /* sends in flight per worker */
#define RX_MAX 24            /* pending receives per socket */
#define CLOSE_EVERY 4000     /* IRPs between close/reopen of a socket */
#define PEER_PORT 4000
#define DST_PORT 7000
#define PAYLOAD 16
#define DEFAULT_IRPS 1000000L
#define TIME_LIMIT_MS 240000u

#define MAGIC_LIVE 0x4c495645u /* "LIVE" */
#define MAGIC_FREE 0xdeadf00du

enum { ST_IDLE, ST_FLIGHT, ST_DONE };
enum { K_SEND, K_RECV, K_SOCKET, K_BIND, K_CLOSE };

struct worker;
struct slot;

struct sx {
    union {
        IRP irp;
        uint8_t mem[IoSizeOfIrp(1)];
    } u;                       /* caller-memory IRP (odd contexts) */
    PIRP irp;
    bool allocated;            /* IoAllocateIrp'd (even contexts) */
    atomic_uint magic;
    atomic_uint state;
    uint32_t gen;
    atomic_uint done_gen;      /* gen of the last completion */
    struct worker *w;
    struct slot *slot;
    uint32_t epoch;            /* the slot's socket generation at issue time */
    int kind;
    int rx_idx;
    bool cancel_true;          /* IoCancelIrp returned TRUE for it */
    NTSTATUS ret;              /* what the call returned (issuer only) */
    /* written by the routine, read by the worker after taking it back */
    NTSTATUS status;
    ULONG_PTR info;
    BOOLEAN pending_returned;
    uint8_t buf[64];
    PMDL mdl;
    SOCKADDR_IN from;
    ULONG len;
    struct sx *next;
};

struct slot {
    PWSK_SOCKET s;
    uint16_t port;
    uint32_t epoch;            /* worker only */
    atomic_uint closed_epoch;  /* routines read it */
    atomic_int inflight;
    struct sx *rx[RX_MAX];
    int nrx;
};

struct worker {
    int id;
    pthread_t th;
    uint64_t rnd;
    struct sx *pool;
    struct sx *free_list;
    pthread_mutex_t done_m;
    struct sx *done_list;
    struct slot slots[NSLOTS];
    int sends_inflight;
    long irps, cancels, cancel_true, rx_ok, rx_cancelled, tx_ok, closes, since_close;
    long target;
};

static struct {
    struct wt t;
    struct worker w[NWORKERS];
    atomic_long issued, completed;
    atomic_long bad_magic, twice, after_close, wrong_irp;
    atomic_long errors;
    pthread_mutex_t err_m;
    char first_err[512];
    atomic_long rx_posted, injected;
    atomic_bool stop_inject, stop_drain;
    atomic_long udp_frames, other_frames;
    uint64_t deadline;
} G;

static void err(const char *fmt, ...)
{
    if (atomic_fetch_add(&G.errors, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        pthread_mutex_lock(&G.err_m);
        vsnprintf(G.first_err, sizeof(G.first_err), fmt, ap);
        pthread_mutex_unlock(&G.err_m);
        va_end(ap);
    }
}

static uint64_t rnd(struct worker *w)
{
    uint64_t x = w->rnd;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    w->rnd = x;
    return x;
}

/* ---- the completion routine ------------------------------------------------- */
static NTSTATUS sx_routine(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    struct sx *c = Context;
    if (atomic_load(&c->magic) != MAGIC_LIVE) {
        atomic_fetch_add(&G.bad_magic, 1); /* completion of a context given back */
        return STATUS_MORE_PROCESSING_REQUIRED;
    }
    unsigned prev = atomic_exchange(&c->state, ST_DONE);
    if (prev != ST_FLIGHT || atomic_exchange(&c->done_gen, c->gen) == c->gen) {
        atomic_fetch_add(&G.twice, 1);
        return STATUS_MORE_PROCESSING_REQUIRED;
    }
    if (Irp != c->irp)
        atomic_fetch_add(&G.wrong_irp, 1);
    c->status = Irp->IoStatus.Status;
    c->info = Irp->IoStatus.Information;
    c->pending_returned = Irp->PendingReturned;
    struct slot *sl = c->slot;
    if (sl != NULL) {
        if (c->epoch <= atomic_load(&sl->closed_epoch))
            atomic_fetch_add(&G.after_close, 1);
        atomic_fetch_sub(&sl->inflight, 1);
    }
    atomic_fetch_add(&G.completed, 1);
    struct worker *w = c->w;
    pthread_mutex_lock(&w->done_m);
    c->next = w->done_list;
    w->done_list = c; /* last touch of c: the worker may reuse it now */
    pthread_mutex_unlock(&w->done_m);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* ---- contexts ------------------------------------------------------------------ */
static struct sx *sx_get(struct worker *w, struct slot *sl, int kind)
{
    struct sx *c = w->free_list;
    if (c == NULL)
        return NULL;
    w->free_list = c->next;
    if (atomic_load(&c->magic) != MAGIC_FREE || atomic_load(&c->state) != ST_IDLE)
        err("worker %d: free context in state %u", w->id, atomic_load(&c->state));
    c->next = NULL;
    c->gen++;
    c->kind = kind;
    c->slot = sl;
    c->epoch = sl ? sl->epoch : 0;
    c->rx_idx = -1;
    c->cancel_true = false;
    c->ret = (NTSTATUS)0x12345678;
    c->status = (NTSTATUS)0x12345678;
    c->info = 0xdeadbeef;
    c->pending_returned = 0xff;
    IoReuseIrp(c->irp, STATUS_UNSUCCESSFUL);
    IoSetCompletionRoutine(c->irp, sx_routine, c, TRUE, TRUE, TRUE);
    atomic_store(&c->state, ST_FLIGHT);
    atomic_store(&c->magic, MAGIC_LIVE);
    if (sl)
        atomic_fetch_add(&sl->inflight, 1);
    atomic_fetch_add(&G.issued, 1);
    w->irps++;
    w->since_close++;
    return c;
}

static void sx_put(struct worker *w, struct sx *c)
{
    atomic_store(&c->magic, MAGIC_FREE);
    atomic_store(&c->state, ST_IDLE);
    memset(c->buf, 0xdd, sizeof(c->buf)); /* poison */
    c->next = w->free_list;
    w->free_list = c;
}

/* Contract of the return value: a non-pending return means the routine
 * already ran, with PendingReturned FALSE and the same status. */
static void check_ret(struct worker *w, struct sx *c, const char *what)
{
    if (c->ret == STATUS_PENDING) {
        if (c->pending_returned != TRUE)
            err("worker %d: %s returned PENDING, PendingReturned %d", w->id, what,
                c->pending_returned);
    } else if (c->pending_returned != FALSE || c->status != c->ret) {
        err("worker %d: %s returned 0x%08x, routine saw 0x%08x PendingReturned %d", w->id, what,
            (unsigned)c->ret, (unsigned)c->status, c->pending_returned);
    }
}

static void rx_forget(struct sx *c)
{
    struct slot *sl = c->slot;
    if (c->rx_idx < 0)
        return;
    int i = c->rx_idx;
    sl->rx[i] = sl->rx[--sl->nrx];
    sl->rx[i]->rx_idx = i;
    c->rx_idx = -1;
}

/* Take back every completed context and check its result. */
static void recycle(struct worker *w)
{
    pthread_mutex_lock(&w->done_m);
    struct sx *c = w->done_list;
    w->done_list = NULL;
    pthread_mutex_unlock(&w->done_m);
    while (c != NULL) {
        struct sx *next = c->next;
        if (atomic_load(&c->state) != ST_DONE)
            err("worker %d: context on the done list in state %u", w->id,
                atomic_load(&c->state));
        switch (c->kind) {
        case K_SEND:
            w->sends_inflight--;
            check_ret(w, c, "WskSendTo");
            if (c->ret != STATUS_PENDING || c->status != STATUS_SUCCESS || c->info != c->len)
                err("worker %d: send returned 0x%08x, completed 0x%08x info %lu (len %lu)", w->id,
                    (unsigned)c->ret, (unsigned)c->status, (unsigned long)c->info,
                    (unsigned long)c->len);
            else
                w->tx_ok++;
            break;
        case K_RECV:
            rx_forget(c);
            check_ret(w, c, "WskReceiveFrom");
            if (c->status == STATUS_SUCCESS) {
                uint16_t port = (uint16_t)((c->buf[0] << 8) | c->buf[1]);
                if (c->info != PAYLOAD || port != c->slot->port || c->cancel_true ||
                    wt_sin_ip(&c->from) != WT_PEER_IP || wt_sin_port(&c->from) != PEER_PORT)
                    err("worker %d: receive on port %u: info %lu, datagram for %u, cancel %d",
                        w->id, c->slot->port, (unsigned long)c->info, port, c->cancel_true);
                else
                    w->rx_ok++;
            } else if (c->status == STATUS_CANCELLED && c->ret == STATUS_PENDING &&
                       c->info == 0) {
                /* by IoCancelIrp (TRUE or FALSE: Cancel set before arming)
                 * or by the close of the socket */
                w->rx_cancelled++;
            } else {
                err("worker %d: receive returned 0x%08x, completed 0x%08x info %lu", w->id,
                    (unsigned)c->ret, (unsigned)c->status, (unsigned long)c->info);
            }
            break;
        default:
            check_ret(w, c, "socket/bind/close");
            if (c->ret != STATUS_SUCCESS)
                err("worker %d: control IRP kind %d returned 0x%08x", w->id, c->kind,
                    (unsigned)c->ret);
            break;
        }
        sx_put(w, c);
        c = next;
    }
}

/* A context for a synchronous call (socket / bind / close). */
static struct sx *sx_get_wait(struct worker *w, struct slot *sl, int kind)
{
    struct sx *c;
    while ((c = sx_get(w, sl, kind)) == NULL) {
        recycle(w);
        sched_yield();
    }
    return c;
}

/* ---- operations ---------------------------------------------------------------- */
static void slot_open(struct worker *w, struct slot *sl)
{
    sl->epoch++;
    struct sx *c = sx_get_wait(w, sl, K_SOCKET);
    c->ret = G.t.npi.Dispatch->WskSocket(G.t.npi.Client, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                                         WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL, NULL, NULL, NULL,
                                         c->irp);
    if (c->ret != STATUS_SUCCESS || atomic_load(&c->state) != ST_DONE) {
        err("worker %d: WskSocket 0x%08x", w->id, (unsigned)c->ret);
        sl->s = NULL;
        return;
    }
    sl->s = (PWSK_SOCKET)c->info;
    c = sx_get_wait(w, sl, K_BIND);
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_OUR_IP1, sl->port);
    c->ret = wt_dg(sl->s)->WskBind(sl->s, (PSOCKADDR)&sin, 0, c->irp);
    if (c->ret != STATUS_SUCCESS || atomic_load(&c->state) != ST_DONE)
        err("worker %d: WskBind port %u: 0x%08x", w->id, sl->port, (unsigned)c->ret);
}

static void slot_close(struct worker *w, struct slot *sl)
{
    if (sl->s == NULL)
        return;
    struct sx *c = sx_get_wait(w, sl, K_CLOSE);
    c->ret = wt_dg(sl->s)->WskCloseSocket(sl->s, c->irp);
    /* Everything of this socket has completed, the close IRP last. */
    if (c->ret != STATUS_SUCCESS || atomic_load(&c->state) != ST_DONE)
        err("worker %d: WskCloseSocket 0x%08x", w->id, (unsigned)c->ret);
    if (atomic_load(&sl->inflight) != 0)
        err("worker %d: %d IRPs of a closed socket not completed", w->id,
            atomic_load(&sl->inflight));
    atomic_store(&sl->closed_epoch, sl->epoch);
    sl->s = NULL;
    w->closes++;
    recycle(w);
    if (sl->nrx != 0)
        err("worker %d: %d receives still tracked after close", w->id, sl->nrx);
}

static void op_send(struct worker *w, struct slot *sl)
{
    struct sx *c = sx_get(w, sl, K_SEND);
    if (c == NULL)
        return;
    c->len = 1 + (ULONG)(rnd(w) % 48);
    memset(c->buf, (int)(c->gen & 0xff), c->len);
    WSK_BUF b = {c->mdl, 0, c->len};
    SOCKADDR_IN to;
    wt_sin(&to, WT_PEER_IP, DST_PORT);
    w->sends_inflight++;
    c->ret = wt_dg(sl->s)->WskSendTo(sl->s, &b, 0, (PSOCKADDR)&to, 0, NULL, c->irp);
}

static void op_recv(struct worker *w, struct slot *sl)
{
    struct sx *c = sx_get(w, sl, K_RECV);
    if (c == NULL)
        return;
    WSK_BUF b = {c->mdl, 0, 64};
    c->len = 64;
    sl->rx[sl->nrx] = c;
    c->rx_idx = sl->nrx++;
    atomic_fetch_add(&G.rx_posted, 1);
    c->ret = wt_dg(sl->s)->WskReceiveFrom(sl->s, &b, 0, (PSOCKADDR)&c->from, NULL, NULL, NULL,
                                          c->irp);
    if (c->ret != STATUS_PENDING)
        rx_forget(c); /* already completed: nothing to cancel */
}

static void op_cancel(struct worker *w, struct slot *sl)
{
    if (sl->nrx == 0)
        return;
    struct sx *c = sl->rx[rnd(w) % (uint64_t)sl->nrx];
    /* c is ours until recycle() takes it back: it may complete right now
     * (the race under test), but its memory and IRP stay valid. */
    w->cancels++;
    if (IoCancelIrp(c->irp)) {
        c->cancel_true = true;
        w->cancel_true++;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < NSLOTS; i++)
        slot_open(w, &w->slots[i]);
    while (w->irps < w->target && wt_now_ms() < G.deadline) {
        recycle(w);
        struct slot *sl = &w->slots[rnd(w) % NSLOTS];
        if (w->since_close >= CLOSE_EVERY) {
            w->since_close = 0;
            slot_close(w, sl);
            slot_open(w, sl);
            continue;
        }
        if (sl->s == NULL)
            break; /* reopen failed: reported */
        unsigned r = (unsigned)(rnd(w) % 100);
        if (r < 50) {
            if (w->sends_inflight < SEND_WIN) {
                op_send(w, sl);
            } else {
                struct timespec ts = {0, 20000};
                nanosleep(&ts, NULL); /* let the completion threads catch up */
            }
        } else if (r < 88) {
            if (sl->nrx < RX_MAX)
                op_recv(w, sl);
            else
                op_cancel(w, sl);
        } else {
            op_cancel(w, sl);
        }
    }
    for (int i = 0; i < NSLOTS; i++)
        slot_close(w, &w->slots[i]);
    /* sends of closed sockets all completed before their close */
    recycle(w);
    if (w->sends_inflight != 0)
        err("worker %d: %d sends not completed", w->id, w->sends_inflight);
    return NULL;
}

/* ---- injector and drain ----------------------------------------------------------- */
static void *injector_main(void *arg)
{
    (void)arg;
    uint8_t f[128];
    uint32_t seq = 0;
    while (!atomic_load(&G.stop_inject)) {
        if (atomic_load(&G.injected) >= atomic_load(&G.rx_posted)) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL); /* no receive waiting for a datagram */
            continue;
        }
        unsigned wi = seq % NWORKERS, si = (seq / NWORKERS) % NSLOTS;
        uint16_t port = (uint16_t)(6000 + wi * 10 + si);
        uint8_t pl[PAYLOAD];
        memset(pl, 0, sizeof(pl));
        pl[0] = (uint8_t)(port >> 8);
        pl[1] = (uint8_t)port;
        memcpy(pl + 4, &seq, 4);
        size_t n = wt_udp_frame(f, wt_our_mac, wt_peer_mac, WT_PEER_IP, WT_OUR_IP1, PEER_PORT,
                                port, pl, sizeof(pl), (uint16_t)seq, 64);
        while (n < 60)
            f[n++] = 0;
        if (memdev_inject(G.t.dev, f, n) != 0) {
            err("memdev_inject failed");
            break;
        }
        seq++;
        atomic_fetch_add(&G.injected, 1);
    }
    return NULL;
}

static void *drain_main(void *arg)
{
    (void)arg;
    uint8_t f[256];
    for (;;) {
        long n = memdev_pop_tx(G.t.dev, f, sizeof(f));
        if (n < 0) {
            if (atomic_load(&G.stop_drain))
                break;
            wt_sleep_ms(1);
            continue;
        }
        /* a UDP datagram to the peer's port 7000: one of our sends */
        if (n >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17 &&
            ((f[36] << 8) | f[37]) == DST_PORT && memcmp(f, wt_peer_mac, 6) == 0)
            atomic_fetch_add(&G.udp_frames, 1);
        else
            atomic_fetch_add(&G.other_frames, 1); /* ICMP port unreachable */
    }
    return NULL;
}

struct in_wait {
    long want;
};
static bool udp_all_counted(void *ctx)
{
    struct in_wait *iw = ctx;
    return wt_counter(&G.t, "UdpInDatagrams") + wt_counter(&G.t, "UdpNoPorts") +
               wt_counter(&G.t, "UdpRcvbufErrors") >=
           iw->want;
}

/* ---- the test ----------------------------------------------------------------------- */
static long irps_wanted(void)
{
    const char *e = getenv("WSKSTACK_STRESS_IRPS");
    if (e != NULL && *e != '\0') {
        long v = strtol(e, NULL, 10);
        if (v > 0)
            return v;
    }
    return DEFAULT_IRPS;
}

static void test_irp_stress(void **state)
{
    (void)state;
    memset(&G, 0, sizeof(G));
    pthread_mutex_init(&G.err_m, NULL);
    wt_setup(&G.t);
    long total = irps_wanted();
    print_message("IRP stress: %ld IRPs over %d threads\n", total, NWORKERS);
    G.deadline = wt_now_ms() + TIME_LIMIT_MS;
    uint64_t t0 = wt_now_ms();

    for (int i = 0; i < NWORKERS; i++) {
        struct worker *w = &G.w[i];
        w->id = i;
        w->rnd = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        w->target = total / NWORKERS + (i < total % NWORKERS ? 1 : 0);
        pthread_mutex_init(&w->done_m, NULL);
        w->pool = calloc(POOL, sizeof(struct sx));
        assert_non_null(w->pool);
        for (int k = 0; k < POOL; k++) {
            struct sx *c = &w->pool[k];
            c->w = w;
            if (k % 2 == 0) {
                c->irp = IoAllocateIrp(1, FALSE);
                c->allocated = true;
            } else {
                IoInitializeIrp(&c->u.irp, sizeof(c->u.mem), 1);
                c->irp = &c->u.irp;
            }
            assert_non_null(c->irp);
            c->mdl = wt_mdl(c->buf, sizeof(c->buf));
            atomic_init(&c->magic, MAGIC_FREE);
            atomic_init(&c->state, ST_IDLE);
            atomic_init(&c->done_gen, 0);
            c->next = w->free_list;
            w->free_list = c;
        }
        for (int s = 0; s < NSLOTS; s++)
            w->slots[s].port = (uint16_t)(6000 + i * 10 + s);
    }
    pthread_t inj, drain;
    assert_int_equal(pthread_create(&inj, NULL, injector_main, NULL), 0);
    assert_int_equal(pthread_create(&drain, NULL, drain_main, NULL), 0);
    for (int i = 0; i < NWORKERS; i++)
        assert_int_equal(pthread_create(&G.w[i].th, NULL, worker_main, &G.w[i]), 0);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(G.w[i].th, NULL);
    atomic_store(&G.stop_inject, true);
    pthread_join(inj, NULL);

    long irps = 0, cancels = 0, cancel_true = 0, rx_ok = 0, rx_cancelled = 0, tx_ok = 0,
         closes = 0;
    for (int i = 0; i < NWORKERS; i++) {
        struct worker *w = &G.w[i];
        irps += w->irps;
        cancels += w->cancels;
        cancel_true += w->cancel_true;
        rx_ok += w->rx_ok;
        rx_cancelled += w->rx_cancelled;
        tx_ok += w->tx_ok;
        closes += w->closes;
    }
    /* every frame the sends wrote reaches the drain */
    uint64_t end = wt_now_ms() + 10000;
    while (atomic_load(&G.udp_frames) < tx_ok && wt_now_ms() < end)
        wt_sleep_ms(1);
    wt_sleep_ms(20);
    atomic_store(&G.stop_drain, true);
    pthread_join(drain, NULL);
    uint64_t ms = wt_now_ms() - t0;
    print_message("%ld IRPs in %llu ms: %ld sends ok, %ld receives ok, %ld cancelled "
                  "(%ld IoCancelIrp, %ld TRUE), %ld closes; %ld injected, %ld frames\n",
                  irps, (unsigned long long)ms, tx_ok, rx_ok, rx_cancelled, cancels,
                  cancel_true, closes, atomic_load(&G.injected), atomic_load(&G.udp_frames));

    if (atomic_load(&G.errors) != 0)
        fail_msg("%ld errors, first: %s", atomic_load(&G.errors), G.first_err);
    assert_int_equal(atomic_load(&G.bad_magic), 0);
    assert_int_equal(atomic_load(&G.twice), 0);
    assert_int_equal(atomic_load(&G.after_close), 0);
    assert_int_equal(atomic_load(&G.wrong_irp), 0);
    assert_true(irps >= total);
    assert_int_equal(atomic_load(&G.issued), irps);
    assert_int_equal(atomic_load(&G.completed), irps);
    /* every IRP accounted for by its kind: sends, receives, and 2 (socket,
     * bind) + 1 (close) per socket lifetime */
    assert_int_equal(tx_ok + rx_ok + rx_cancelled + 3 * closes, irps);
    assert_int_equal(atomic_load(&G.udp_frames), tx_ok);
    assert_true(rx_ok > 0);
    assert_true(cancel_true > 0);
    assert_true(closes >= NWORKERS * NSLOTS);
    /* each injected datagram was counted once, by exactly one outcome */
    struct in_wait iw = {atomic_load(&G.injected)};
    assert_true(wt_until(udp_all_counted, &iw, 10000));
    int64_t in = wt_counter(&G.t, "UdpInDatagrams");
    assert_true(rx_ok <= in);
    /* as in Linux, a full receive queue counts in UdpInErrors too */
    assert_int_equal(wt_counter(&G.t, "UdpInErrors"), wt_counter(&G.t, "UdpRcvbufErrors"));
    assert_int_equal(wt_counter(&G.t, "UdpInCsumErrors"), 0);
    assert_int_equal(in + wt_counter(&G.t, "UdpNoPorts") + wt_counter(&G.t, "UdpRcvbufErrors"),
                     atomic_load(&G.injected));

    for (int i = 0; i < NWORKERS; i++) {
        struct worker *w = &G.w[i];
        int n = 0;
        for (struct sx *c = w->free_list; c != NULL; c = c->next)
            n++;
        assert_int_equal(n, POOL); /* every context came back */
        for (int k = 0; k < POOL; k++) {
            struct sx *c = &w->pool[k];
            IoFreeMdl(c->mdl);
            if (c->allocated)
                IoFreeIrp(c->irp);
        }
        free(w->pool);
        pthread_mutex_destroy(&w->done_m);
    }
    wt_teardown(&G.t);
    pthread_mutex_destroy(&G.err_m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irp_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
