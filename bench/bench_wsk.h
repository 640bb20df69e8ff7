/* SPDX-License-Identifier: MIT */
/*
 * bench_wsk.h - the WSK client side that bench-trace and bench-tap share:
 *
 *   struct bwsk_ctr    a counter that client threads (completion routines,
 *                      receive-event callbacks) bump and the benchmark
 *                      thread waits on, without polling;
 *   struct bwsk_txring WskSendTo with BWSK_TX_WINDOW IRPs in flight, the
 *                      way a WSK driver streams datagrams: each IRP is
 *                      reused (IoReuseIrp) once its completion routine has
 *                      run, and the routine returns
 *                      STATUS_MORE_PROCESSING_REQUIRED (the IRP is ours).
 *
 * A Windows-style source: includes <wsk.h>, so never <sys/socket.h>.
 */
#ifndef WSS_BENCH_WSK_H
#define WSS_BENCH_WSK_H

#include <ntddk.h>
#include <wsk.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- a counter to wait on ----------------------------------------------------- */
struct bwsk_ctr {
    atomic_ulong n;
    atomic_ulong target;       /* wake the waiter once n >= target */
    pthread_mutex_t m;
    pthread_cond_t c;
};
void bwsk_ctr_init(struct bwsk_ctr *w);
void bwsk_ctr_fini(struct bwsk_ctr *w);
/* Any thread: n += k, waking the waiter if its target is reached. */
void bwsk_ctr_add(struct bwsk_ctr *w, unsigned long k);
/* The benchmark thread: wait until n >= target or the deadline (ns on
 * CLOCK_MONOTONIC, bench_now_ns) has passed.  true if n >= target. */
bool bwsk_ctr_wait(struct bwsk_ctr *w, unsigned long target, uint64_t deadline);

/* ---- WskSendTo with IRPs in flight ------------------------------------------------ */
#define BWSK_TX_WINDOW 64
#define BWSK_PAYLOAD_MAX 1400

struct bwsk_txring;
struct bwsk_txslot {
    PIRP irp;
    PMDL mdl;
    WSK_BUF buf;
    uint8_t data[BWSK_PAYLOAD_MAX];
    struct bwsk_txring *ring;
};

struct bwsk_txring {
    struct bwsk_txslot slot[BWSK_TX_WINDOW];
    struct bwsk_ctr done;      /* sends whose completion routine has run */
    atomic_ulong bad;          /* ... with a status other than SUCCESS or a short length */
    unsigned long issued;      /* sends issued (benchmark thread only) */
};

/* IRPs and MDLs over payload bytes (bench_payload_byte pattern) for every
 * slot.  0, or -1 with a message. */
int bwsk_txring_init(struct bwsk_txring *r, unsigned payload);
/* Free them; every issued send must have completed (bwsk_txring_wait). */
void bwsk_txring_fini(struct bwsk_txring *r);
/* One WskSendTo on sock to `to`, in the oldest slot once that slot's
 * previous send has completed (waiting at most until deadline).  0, or -1
 * when the deadline passed first (nothing issued). */
int bwsk_txring_send(struct bwsk_txring *r, PWSK_SOCKET sock, const SOCKADDR *to,
                     uint64_t deadline);
/* Wait until every issued send has completed.  true if they all have. */
bool bwsk_txring_wait(struct bwsk_txring *r, uint64_t deadline);

#endif /* WSS_BENCH_WSK_H */
