/* SPDX-License-Identifier: MIT */
/*
 * test_reasm.c - stack/reasm.c, the reassembly engine alone (BAD-INPUT.md
 * D.17-D.20, J.42, V4).  A STACK_NO_THREAD stack on a memdev only provides
 * the counters and the packet pool; fragments are handed to reasm_add
 * directly and the clock is the test's `now`.
 *
 * Every test ends with the engine empty (reasm_mem() == 0, reasm_count() ==
 * 0) and no packet buffer in use.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/reasm.h"
#include "stack/stack_impl.h"

#define CNT(st, n) atomic_load(&(st)->cnt[CNT_##n])
#define SEC 1000000000ull

struct fx {
    struct wskstack *st;
    uint64_t now;
    /* what the timer reported */
    int expired;
    struct reasm_key exp_key;
    uint8_t exp_hdr[64];
    size_t exp_hdr_len;
    uint8_t exp_data[2048];
    size_t exp_data_len;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct dev *dev = memdev_create("rsm0", 1500);
    assert_non_null(dev);
    char err[128];
    assert_int_equal(stack_create_on_dev(NULL, dev, STACK_NO_THREAD, &f->st, err, sizeof err), 0);
    f->now = 1000 * SEC;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(reasm_mem(f->st), 0);
    assert_int_equal(reasm_count(f->st), 0);
    assert_int_equal(stack_pkts_in_use(f->st), 0);
    wskstack_destroy(f->st);
    free(f);
    return 0;
}

/* The test's fx is found again through this pointer (the callback only gets
 * the stack); one fixture per test, tests run one at a time. */
static struct fx *cur_fx;
static void on_expired(struct wskstack *st, const struct reasm_expired *e, uint64_t now)
{
    struct fx *f = cur_fx;
    assert_ptr_equal(st, f->st);
    (void)now;
    f->expired++;
    f->exp_key = *e->key;
    assert_true(e->hdr_len <= sizeof f->exp_hdr);
    memcpy(f->exp_hdr, e->hdr, e->hdr_len);
    f->exp_hdr_len = e->hdr_len;
    f->exp_data_len = e->data_len < sizeof f->exp_data ? e->data_len : sizeof f->exp_data;
    memcpy(f->exp_data, e->data, f->exp_data_len);
}

static void run_timer(struct fx *f, uint64_t at)
{
    cur_fx = f;
    reasm_timer(f->st, at, on_expired);
}

/* Everything pending dies at the longest timeout. */
static void drain(struct fx *f)
{
    run_timer(f, f->now + REASM_TIMEOUT_V6_NS + 1);
}

static const uint8_t hdr4[20] = {0x45, 0, 0, 0, 0x12, 0x34, 0x20, 0, 64, 17, 0, 0,
                                 192, 0, 2, 2, 192, 0, 2, 1};

static struct reasm_key key4(uint32_t id)
{
    struct reasm_key k = {.src = ip4(0xC0000202u), .dst = ip4(0xC0000201u), .id = id, .proto = 17};
    return k;
}

static struct reasm_key key6(uint32_t id)
{
    struct reasm_key k = {.id = id, .proto = 0};
    k.src.af = IPA_V6;
    k.dst.af = IPA_V6;
    static const uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    static const uint8_t d[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    memcpy(k.src.v6, s, 16);
    memcpy(k.dst.v6, d, 16);
    return k;
}

/* Add a fragment [off, off+len) of `orig` with the 20-byte test header. */
static int add4(struct fx *f, const struct reasm_key *k, const uint8_t *orig, uint32_t off,
                uint32_t len, bool more, struct pkt **out)
{
    return reasm_add(f->st, k, off, more, orig + off, len, hdr4, sizeof hdr4, f->now, out);
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void fill(uint8_t *b, size_t n, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng_next(seed);
}

/* Check a REASM_DONE result: header then the original bytes, then free. */
static void check_whole(struct fx *f, struct pkt *p, const uint8_t *hdr, size_t hl,
                        const uint8_t *orig, size_t n)
{
    assert_non_null(p);
    assert_int_equal(p->len, hl + n);
    assert_memory_equal(pkt_data(p), hdr, hl);
    assert_memory_equal(pkt_data(p) + hl, orig, n);
    pkt_free(f->st, p);
}

/* ---- D.17: any order, duplicates -------------------------------------------------- */
static void test_reasm_random_orders(void **state)
{
    struct fx *f = *state;
    static uint8_t orig[45 * 512];
    uint64_t seed = 0x5eed1234abcdull;
    uint64_t calls = 0;
    for (unsigned trial = 0; trial < 500; trial++) {
        unsigned n = 2 + (unsigned)(rng_next(&seed) % 44);     /* 2..45 fragments */
        uint32_t off[45], len[45], total = 0;
        for (unsigned i = 0; i < n; i++) {
            off[i] = total;
            /* non-final: 8..512 in multiples of 8; final: 1..512 */
            len[i] = i + 1 < n ? 8 * (1 + (uint32_t)(rng_next(&seed) % 64))
                               : 1 + (uint32_t)(rng_next(&seed) % 512);
            total += len[i];
        }
        fill(orig, total, &seed);
        unsigned order[45];
        for (unsigned i = 0; i < n; i++)
            order[i] = i;
        for (unsigned i = n - 1; i > 0; i--) {           /* Fisher-Yates */
            unsigned j = (unsigned)(rng_next(&seed) % (i + 1));
            unsigned t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        struct reasm_key k = key4(trial);
        struct pkt *out = NULL;
        for (unsigned i = 0; i < n; i++) {
            unsigned x = order[i];
            int rc = add4(f, &k, orig, off[x], len[x], x + 1 < n, &out);
            calls++;
            if (i + 1 < n) {
                assert_int_equal(rc, REASM_KEPT);
                assert_null(out);
                /* every few trials, an exact duplicate of what just came */
                if (trial % 3 == 0) {
                    assert_int_equal(add4(f, &k, orig, off[x], len[x], x + 1 < n, &out), REASM_KEPT);
                    calls++;
                }
            } else {
                assert_int_equal(rc, REASM_DONE);
                check_whole(f, out, hdr4, sizeof hdr4, orig, total);
            }
        }
        assert_int_equal(reasm_mem(f->st), 0);
        assert_int_equal(reasm_count(f->st), 0);
    }
    assert_int_equal(CNT(f->st, IpReasmReqds), calls);
    assert_int_equal(CNT(f->st, IpReasmOKs), 500);
    assert_int_equal(CNT(f->st, IpReasmFails), 0);
    assert_int_equal(CNT(f->st, Ip6ReasmReqds), 0);
}

static void test_reasm_duplicates(void **state)
{
    struct fx *f = *state;
    uint8_t orig[40];
    uint64_t seed = 7;
    fill(orig, sizeof orig, &seed);
    struct reasm_key k = key4(1);
    struct pkt *out = NULL;
    /* [0,16) twice, [32,40) last twice, [16,32) completes */
    assert_int_equal(add4(f, &k, orig, 0, 16, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 0, 16, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 32, 8, false, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 32, 8, false, &out), REASM_KEPT);
    assert_int_equal(reasm_count(f->st), 1);
    assert_int_equal(add4(f, &k, orig, 16, 16, true, &out), REASM_DONE);
    check_whole(f, out, hdr4, sizeof hdr4, orig, sizeof orig);
    assert_int_equal(CNT(f->st, IpReasmReqds), 5);
    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 0);
    /* A duplicate after completion starts a new datagram (RFC 791: the
     * first is gone); it dies at the timeout without fragment 0: silent. */
    assert_int_equal(add4(f, &k, orig, 16, 16, true, &out), REASM_KEPT);
    drain(f);
    assert_int_equal(f->expired, 0);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 1);
}

/* ---- D.18: overlaps ---------------------------------------------------------------- */
/* Existing fragments `a` then the overlapping `b`: b kills the datagram,
 * later fragments of the key are dropped, nothing is delivered. */
struct range { uint32_t off, len; bool more; };
static void overlap_case(struct fx *f, uint32_t id, const struct range *a, unsigned na,
                         struct range b, bool b_other_bytes)
{
    uint8_t orig[64], other[64];
    uint64_t seed = id + 1;
    fill(orig, sizeof orig, &seed);
    memcpy(other, orig, sizeof other);
    other[b.off] ^= 0xff;
    struct reasm_key k = key4(id);
    struct pkt *out = NULL;
    uint64_t fails0 = CNT(f->st, IpReasmFails), req0 = CNT(f->st, IpReasmReqds);
    for (unsigned i = 0; i < na; i++)
        assert_int_equal(add4(f, &k, orig, a[i].off, a[i].len, a[i].more, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, b_other_bytes ? other : orig, b.off, b.len, b.more, &out),
                     REASM_EOVERLAP);
    assert_null(out);
    assert_int_equal(CNT(f->st, IpReasmFails), fails0 + 1);
    /* RFC 5722 §4: every later fragment of it is dropped, even ones that
     * would now complete it. */
    for (uint32_t o = 0; o < 64; o += 8)
        assert_int_equal(add4(f, &k, orig, o, 8, o + 8 < 64, &out), REASM_EDEAD);
    assert_null(out);
    assert_int_equal(CNT(f->st, IpReasmFails), fails0 + 1 + 8);
    assert_int_equal(CNT(f->st, IpReasmReqds), req0 + na + 1 + 8);
    assert_int_equal(CNT(f->st, IpReasmOKs), 0);
}

static void test_reasm_overlaps(void **state)
{
    struct fx *f = *state;
    const struct range mid[] = {{16, 16, true}};           /* [16,32) */
    const struct range wide[] = {{16, 24, true}};          /* [16,40) */
    const struct range first[] = {{0, 16, true}};          /* [0,16) */
    const struct range last[] = {{48, 16, false}};         /* [48,64) end */
    overlap_case(f, 1, mid, 1, (struct range){8, 16, true}, false);   /* partial front */
    overlap_case(f, 2, mid, 1, (struct range){24, 16, true}, false);  /* partial back */
    overlap_case(f, 3, wide, 1, (struct range){24, 8, true}, false);  /* subset */
    overlap_case(f, 4, mid, 1, (struct range){16, 8, true}, false);   /* subset, same start */
    overlap_case(f, 5, mid, 1, (struct range){8, 32, true}, false);   /* superset */
    overlap_case(f, 6, first, 1, (struct range){8, 16, true}, false); /* over fragment 0 */
    overlap_case(f, 7, mid, 1, (struct range){0, 24, true}, false);   /* fragment 0 over */
    overlap_case(f, 8, mid, 1, (struct range){16, 16, true}, true);   /* same range, other bytes */
    overlap_case(f, 9, last, 1, (struct range){40, 16, true}, false);  /* into the last one */
    overlap_case(f, 10, mid, 1, (struct range){16, 16, false}, false); /* same bytes, other M */
    /* Dead keys cost their bookkeeping only, and die silently at the
     * timeout (their failure was counted once already). */
    assert_int_equal(reasm_count(f->st), 10);
    uint64_t fails = CNT(f->st, IpReasmFails);
    drain(f);
    assert_int_equal(f->expired, 0);
    assert_int_equal(CNT(f->st, IpReasmFails), fails);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 0);
}

/* ---- D.19 and V4: fragments dropped alone ----------------------------------------- */
static void test_reasm_bad_fragments(void **state)
{
    struct fx *f = *state;
    uint8_t orig[64] = {1, 2, 3};
    struct reasm_key k = key4(9);
    struct pkt *out = NULL;
    assert_int_equal(add4(f, &k, orig, 0, 16, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 16, 0, true, &out), REASM_EEMPTY);
    assert_int_equal(add4(f, &k, orig, 16, 0, false, &out), REASM_EEMPTY);
    assert_int_equal(add4(f, &k, orig, 16, 12, true, &out), REASM_EBADLEN);
    assert_int_equal(add4(f, &k, orig, 20, 8, true, &out), REASM_EBADLEN);  /* offset */
    assert_int_equal(CNT(f->st, IpReasmFails), 4);
    /* the datagram was not touched: it still completes */
    assert_int_equal(add4(f, &k, orig, 16, 12, false, &out), REASM_DONE);
    check_whole(f, out, hdr4, sizeof hdr4, orig, 28);
    assert_int_equal(CNT(f->st, IpReasmReqds), 6);
    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 4);
}

/* Fragments after the end kill the datagram. */
static void test_reasm_beyond_end(void **state)
{
    struct fx *f = *state;
    uint8_t orig[64] = {0};
    struct pkt *out = NULL;
    struct reasm_key k1 = key4(1), k2 = key4(2), k3 = key4(3), k4 = key4(4);
    /* MF=1 after a known end */
    assert_int_equal(add4(f, &k1, orig, 16, 8, false, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k1, orig, 24, 8, true, &out), REASM_EBEYOND);
    assert_int_equal(add4(f, &k1, orig, 0, 16, true, &out), REASM_EDEAD);
    /* two different last fragments */
    assert_int_equal(add4(f, &k2, orig, 16, 8, false, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k2, orig, 24, 8, false, &out), REASM_EBEYOND);
    /* data held beyond a later last fragment */
    assert_int_equal(add4(f, &k3, orig, 32, 8, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k3, orig, 16, 8, false, &out), REASM_EBEYOND);
    /* MF=1 fragment ending exactly at the end */
    assert_int_equal(add4(f, &k4, orig, 16, 8, false, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k4, orig, 8, 16, true, &out), REASM_EBEYOND);
    assert_int_equal(CNT(f->st, IpReasmFails), 5);
    assert_int_equal(CNT(f->st, IpReasmOKs), 0);
    drain(f);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 0);
}

/* ---- J.42: per-datagram fragment limit ------------------------------------------- */
static void test_reasm_64_fragments(void **state)
{
    struct fx *f = *state;
    uint8_t orig[65 * 8];
    uint64_t seed = 64;
    fill(orig, sizeof orig, &seed);
    struct pkt *out = NULL;
    struct reasm_key k = key4(64);
    for (uint32_t i = 0; i < 63; i++)
        assert_int_equal(add4(f, &k, orig, 8 * i, 8, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 8 * 63, 8, false, &out), REASM_DONE);  /* the 64th */
    check_whole(f, out, hdr4, sizeof hdr4, orig, 64 * 8);

    k = key4(65);
    for (uint32_t i = 0; i < 64; i++)
        assert_int_equal(add4(f, &k, orig, 8 * i, 8, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 8 * 64, 8, false, &out), REASM_ETOOMANY);  /* the 65th */
    assert_null(out);
    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 1);
    drain(f);
}

/* J.42 (b), FragmentSmack: one id, thousands of 8-byte fragments. */
static void test_reasm_one_id_many_fragments(void **state)
{
    struct fx *f = *state;
    static uint8_t orig[8 * 5000];
    struct pkt *out = NULL;
    struct reasm_key k = key4(77);
    size_t peak = 0;
    unsigned kept = 0, dead = 0, killed = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        /* every other offset first, to make a sparse list, then the rest */
        uint32_t slot = i < 2500 ? 2 * i : 2 * (i - 2500) + 1;
        int rc = add4(f, &k, orig, 8 * slot, 8, true, &out);
        if (rc == REASM_KEPT)
            kept++;
        else if (rc == REASM_ETOOMANY)
            killed++;
        else if (rc == REASM_EDEAD)
            dead++;
        else
            fail_msg("unexpected %d", rc);
        if (reasm_mem(f->st) > peak)
            peak = reasm_mem(f->st);
    }
    assert_int_equal(kept, 64);
    assert_int_equal(killed, 1);
    assert_int_equal(dead, 5000 - 65);
    /* bounded: 64 fragments of 8 bytes plus bookkeeping, far from the cap */
    assert_true(peak < 64 * (8 + 64) + 512);
    assert_true(reasm_mem(f->st) < 512);        /* dead: bookkeeping only */
    assert_int_equal(CNT(f->st, IpReasmFails), 1 + 5000 - 65);
    drain(f);
}

/* ---- V4: the 65535 bound ----------------------------------------------------------- */
static void test_reasm_65535(void **state)
{
    struct fx *f = *state;
    static uint8_t orig[65536];
    uint64_t seed = 65535;
    fill(orig, sizeof orig, &seed);
    struct pkt *out = NULL;

    /* IPv4: header (20) + payload <= 65535: payload 65515 is the maximum. */
    struct reasm_key k = key4(1);
    for (uint32_t i = 0; i < 44; i++)
        assert_int_equal(add4(f, &k, orig, 1480 * i, 1480, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 44 * 1480, 396, false, &out), REASM_ETOOBIG); /* 65536 */
    assert_int_equal(add4(f, &k, orig, 44 * 1480, 395, false, &out), REASM_DONE);   /* 65535 */
    check_whole(f, out, hdr4, sizeof hdr4, orig, 65515);
    /* Ping of Death: the last possible offset (8191*8) with any data */
    k = key4(2);
    assert_int_equal(add4(f, &k, orig, 65528, 8, false, &out), REASM_ETOOBIG);
    assert_int_equal(reasm_count(f->st), 0);   /* nothing was created for it */

    /* Fragment 0 carries a 60-byte header (options): each later fragment
     * passes with its own 20 bytes, the whole does not. */
    uint8_t hdr60[60];
    memset(hdr60, 1, sizeof hdr60);
    hdr60[0] = 0x4f;
    k = key4(3);
    assert_int_equal(reasm_add(f->st, &k, 0, true, orig, 1480, hdr60, 60, f->now, &out), REASM_KEPT);
    for (uint32_t i = 1; i < 44; i++)
        assert_int_equal(add4(f, &k, orig, 1480 * i, 1480, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k, orig, 44 * 1480, 395, false, &out), REASM_ETOOBIG);
    assert_null(out);
    assert_int_equal(reasm_add(f->st, &k, 0, true, orig, 8, hdr60, 60, f->now, &out), REASM_EDEAD);

    /* IPv6: Payload Length leaves out the fixed 40-byte header. */
    uint8_t hdr6[48] = {0x60};
    struct reasm_key k6 = key6(4);
    for (uint32_t i = 0; i < 44; i++)
        assert_int_equal(reasm_add(f->st, &k6, 1480 * i, true, orig + 1480 * i, 1480, hdr6, 48,
                                   f->now, &out), REASM_KEPT);
    /* unfragmentable 8 + 65120 + 408 = 65536 > 65535 */
    assert_int_equal(reasm_add(f->st, &k6, 65120, false, orig + 65120, 408, hdr6, 48, f->now, &out),
                     REASM_ETOOBIG);
    assert_int_equal(reasm_add(f->st, &k6, 65120, false, orig + 65120, 407, hdr6, 48, f->now, &out),
                     REASM_DONE);
    check_whole(f, out, hdr6, sizeof hdr6, orig, 65527);

    assert_int_equal(CNT(f->st, IpReasmOKs), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 4);   /* 2 too big, 1 killed, 1 dead */
    assert_int_equal(CNT(f->st, Ip6ReasmOKs), 1);
    assert_int_equal(CNT(f->st, Ip6ReasmFails), 1);
    assert_int_equal(CNT(f->st, Ip6ReasmReqds), 46);
    drain(f);
}

/* ---- D.20: timeouts --------------------------------------------------------------- */
static void test_reasm_timeout_with_fragment0(void **state)
{
    struct fx *f = *state;
    uint8_t orig[48];
    uint64_t seed = 20;
    fill(orig, sizeof orig, &seed);
    struct pkt *out = NULL;
    struct reasm_key k = key4(0x1234);
    uint64_t t0 = f->now;
    assert_int_equal(reasm_next_timer(f->st, t0), UINT64_MAX);
    assert_int_equal(add4(f, &k, orig, 0, 24, true, &out), REASM_KEPT);
    f->now += 5 * SEC;   /* later fragments do not extend the timer */
    assert_int_equal(add4(f, &k, orig, 40, 8, false, &out), REASM_KEPT);
    assert_int_equal(reasm_next_timer(f->st, t0), REASM_TIMEOUT_V4_NS);
    assert_int_equal(reasm_next_timer(f->st, t0 + REASM_TIMEOUT_V4_NS), 0);
    run_timer(f, t0 + REASM_TIMEOUT_V4_NS - 1);
    assert_int_equal(f->expired, 0);
    assert_int_equal(reasm_count(f->st), 1);
    run_timer(f, t0 + REASM_TIMEOUT_V4_NS);
    assert_int_equal(f->expired, 1);
    assert_int_equal(f->exp_hdr_len, 20);
    assert_memory_equal(f->exp_hdr, hdr4, 20);
    assert_int_equal(f->exp_data_len, 24);
    assert_memory_equal(f->exp_data, orig, 24);
    assert_int_equal(f->exp_key.id, 0x1234);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 1);
    assert_int_equal(CNT(f->st, IpReasmFails), 1);
    assert_int_equal(reasm_next_timer(f->st, f->now), UINT64_MAX);
    run_timer(f, t0 + 10 * REASM_TIMEOUT_V4_NS);
    assert_int_equal(f->expired, 1);   /* exactly once */
}

static void test_reasm_timeout_without_fragment0(void **state)
{
    struct fx *f = *state;
    uint8_t orig[48] = {0};
    struct pkt *out = NULL;
    struct reasm_key a = key4(1), b = key4(2);
    uint64_t t0 = f->now;
    assert_int_equal(add4(f, &a, orig, 16, 8, true, &out), REASM_KEPT);   /* middle only */
    assert_int_equal(add4(f, &b, orig, 40, 8, false, &out), REASM_KEPT);  /* last only */
    run_timer(f, t0 + REASM_TIMEOUT_V4_NS);
    assert_int_equal(f->expired, 0);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 2);
    assert_int_equal(CNT(f->st, IpReasmFails), 2);
}

static void test_reasm_timeout_v6(void **state)
{
    struct fx *f = *state;
    uint8_t orig[32] = {9, 9, 9};
    uint8_t hdr6[40] = {0x60, 0, 0, 0, 0, 0, 44, 64};
    struct pkt *out = NULL;
    struct reasm_key k6 = key6(0xdeadbeef), k4 = key4(0xbeef);
    uint64_t t0 = f->now;
    assert_int_equal(reasm_add(f->st, &k6, 0, true, orig, 16, hdr6, 40, t0, &out), REASM_KEPT);
    assert_int_equal(add4(f, &k4, orig, 0, 16, true, &out), REASM_KEPT);
    assert_int_equal(reasm_next_timer(f->st, t0), REASM_TIMEOUT_V4_NS);
    run_timer(f, t0 + REASM_TIMEOUT_V4_NS);
    assert_int_equal(f->expired, 1);
    assert_int_equal(f->exp_key.src.af, IPA_V4);
    assert_int_equal(reasm_next_timer(f->st, t0 + REASM_TIMEOUT_V4_NS),
                     REASM_TIMEOUT_V6_NS - REASM_TIMEOUT_V4_NS);
    run_timer(f, t0 + REASM_TIMEOUT_V6_NS - 1);
    assert_int_equal(f->expired, 1);
    run_timer(f, t0 + REASM_TIMEOUT_V6_NS);
    assert_int_equal(f->expired, 2);
    assert_int_equal(f->exp_key.src.af, IPA_V6);
    assert_int_equal(f->exp_key.id, 0xdeadbeef);
    assert_int_equal(f->exp_hdr_len, 40);
    assert_memory_equal(f->exp_hdr, hdr6, 40);
    assert_int_equal(CNT(f->st, Ip6ReasmReqds), 1);
    assert_int_equal(CNT(f->st, Ip6ReasmTimeout), 1);
    assert_int_equal(CNT(f->st, Ip6ReasmFails), 1);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 1);
}

/* Keys of both families and different ids/protocols never mix. */
static void test_reasm_keys_apart(void **state)
{
    struct fx *f = *state;
    uint8_t orig[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct pkt *out = NULL;
    struct reasm_key k = key4(5), kp = key4(5), ks = key4(5), k6 = key6(5);
    kp.proto = 1;
    ks.src = ip4(0xC0000203u);
    assert_int_equal(add4(f, &k, orig, 0, 8, true, &out), REASM_KEPT);
    assert_int_equal(add4(f, &kp, orig, 8, 8, false, &out), REASM_KEPT);
    assert_int_equal(add4(f, &ks, orig, 8, 8, false, &out), REASM_KEPT);
    assert_int_equal(reasm_add(f->st, &k6, 8, false, orig + 8, 8, hdr4, 20, f->now, &out), REASM_KEPT);
    assert_int_equal(reasm_count(f->st), 4);
    assert_int_equal(add4(f, &k, orig, 8, 8, false, &out), REASM_DONE);
    check_whole(f, out, hdr4, sizeof hdr4, orig, 16);
    drain(f);
    assert_int_equal(f->expired, 0);
    assert_int_equal(CNT(f->st, IpReasmTimeout), 2);
    assert_int_equal(CNT(f->st, Ip6ReasmTimeout), 1);
}

/* ---- J.42 (a): memory cap --------------------------------------------------------- */
static void test_reasm_flood_first_fragments(void **state)
{
    struct fx *f = *state;
    static uint8_t orig[1480];
    uint64_t seed = 42;
    fill(orig, sizeof orig, &seed);
    struct pkt *out = NULL;
    size_t peak = 0;
    for (uint32_t i = 0; i < 100000; i++) {
        struct reasm_key k = key4(i & 0xffff);
        k.src = ip4(0xC6336400u + (i >> 16));    /* 198.51.100.x: distinct keys */
        int rc = add4(f, &k, orig, 0, sizeof orig, true, &out);
        assert_int_equal(rc, REASM_KEPT);
        if (reasm_mem(f->st) > peak)
            peak = reasm_mem(f->st);
        assert_true(reasm_mem(f->st) <= REASM_MEM_HIGH);
    }
    assert_true(peak > REASM_MEM_LOW);
    unsigned left = reasm_count(f->st);
    assert_true(left > 0 && reasm_mem(f->st) <= REASM_MEM_HIGH);
    /* every datagram not left was evicted: one failure each */
    assert_int_equal(CNT(f->st, IpReasmFails), 100000 - left);
    assert_int_equal(CNT(f->st, IpReasmReqds), 100000);
    /* after one timeout period: back to zero; each survivor held fragment 0 */
    run_timer(f, f->now + REASM_TIMEOUT_V4_NS);
    assert_int_equal(f->expired, left);
    assert_int_equal(CNT(f->st, IpReasmTimeout), left);
    assert_int_equal(CNT(f->st, IpReasmFails), 100000);
    assert_int_equal(reasm_mem(f->st), 0);
    assert_int_equal(reasm_count(f->st), 0);
}

/* The oldest datagram is the one that grows past the cap: it is evicted
 * itself, and the fragment reports REASM_ENOMEM (one failure). */
static void test_reasm_evicts_current_oldest(void **state)
{
    struct fx *f = *state;
    static uint8_t orig[8192];
    struct pkt *out = NULL;
    struct reasm_key old = key4(0xffff);
    assert_int_equal(add4(f, &old, orig, 0, 8, true, &out), REASM_KEPT);
    uint32_t i = 0;
    while (reasm_mem(f->st) + 8192 + 1024 <= REASM_MEM_HIGH) {
        struct reasm_key k = key4(i++);
        assert_int_equal(add4(f, &k, orig, 0, 8192, true, &out), REASM_KEPT);
    }
    assert_int_equal(CNT(f->st, IpReasmFails), 0);
    unsigned before = reasm_count(f->st);
    /* 8 x 8192 more bytes into the oldest datagram */
    int rc = REASM_KEPT;
    uint32_t off = 8;
    static uint8_t big[8 * 8192];
    while (rc == REASM_KEPT && off < 8 * 8192) {
        rc = reasm_add(f->st, &old, off, true, big, 8192, hdr4, 20, f->now, &out);
        off += 8192;
    }
    assert_int_equal(rc, REASM_ENOMEM);
    assert_true(reasm_mem(f->st) <= REASM_MEM_LOW);
    unsigned evicted = before - reasm_count(f->st);
    assert_true(evicted >= 2);
    assert_int_equal(CNT(f->st, IpReasmFails), evicted);
    /* it is gone, not dead: a new fragment starts afresh */
    assert_int_equal(add4(f, &old, orig, 0, 8, true, &out), REASM_KEPT);
    drain(f);
}

/* Destroying a stack with datagrams pending frees them (LSan checks). */
static void test_reasm_fini_frees_pending(void **state)
{
    (void)state;
    struct dev *dev = memdev_create("rsm1", 1500);
    struct wskstack *st = NULL;
    char err[128];
    assert_int_equal(stack_create_on_dev(NULL, dev, STACK_NO_THREAD, &st, err, sizeof err), 0);
    uint8_t orig[64] = {0};
    struct pkt *out = NULL;
    struct reasm_key a = key4(1), b = key4(2), c = key6(3);
    assert_int_equal(reasm_add(st, &a, 0, true, orig, 16, hdr4, 20, 0, &out), REASM_KEPT);
    assert_int_equal(reasm_add(st, &a, 32, false, orig, 8, hdr4, 20, 0, &out), REASM_KEPT);
    assert_int_equal(reasm_add(st, &b, 0, true, orig, 16, hdr4, 20, 0, &out), REASM_KEPT);
    assert_int_equal(reasm_add(st, &b, 8, true, orig, 16, hdr4, 20, 0, &out), REASM_EOVERLAP);
    assert_int_equal(reasm_add(st, &c, 8, false, orig, 8, hdr4, 20, 0, &out), REASM_KEPT);
    assert_int_equal(reasm_count(st), 3);
    assert_true(reasm_mem(st) > 0);
    wskstack_destroy(st);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_reasm_random_orders),
        T(test_reasm_duplicates),
        T(test_reasm_overlaps),
        T(test_reasm_bad_fragments),
        T(test_reasm_beyond_end),
        T(test_reasm_64_fragments),
        T(test_reasm_one_id_many_fragments),
        T(test_reasm_65535),
        T(test_reasm_timeout_with_fragment0),
        T(test_reasm_timeout_without_fragment0),
        T(test_reasm_timeout_v6),
        T(test_reasm_keys_apart),
        T(test_reasm_flood_first_fragments),
        T(test_reasm_evicts_current_oldest),
        cmocka_unit_test(test_reasm_fini_frees_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
