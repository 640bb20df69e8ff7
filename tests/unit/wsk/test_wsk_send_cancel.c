/* SPDX-License-Identifier: MIT */
/*
 * IoCancelIrp on sends waiting for neighbour resolution (issue 3):
 *  - WskSendTo waiting for ARP: IoCancelIrp -> STATUS_CANCELLED, Information
 *    0, quickly (not the 3 s STATUS_HOST_UNREACHABLE); nothing but ARP
 *    requests on the wire, even after the neighbour answers; the next send
 *    of the socket works;
 *  - WskSendMessages waiting for ARP: the same, and a later send that went
 *    out at once still completes after it (per-socket order);
 *  - IoCancelIrp before the call (Irp->Cancel checked after arming);
 *  - 500 x IoCancelIrp racing the ARP reply: exactly one outcome each time
 *    (CANCELLED and no datagram on the wire, or SUCCESS and exactly one).
 */
#include "wsk_test_dgram.h"

#define RACE_OUR_IP 0xC6120001u /* 198.18.0.1/16, the race subnet */

static struct wt T;

static int setup(void **state)
{
    wt_setup(&T);
    return 0;
}
static int teardown(void **state)
{
    wt_teardown(&T);
    return 0;
}

/* A setup with a /16 beside the /24 (the race needs 500 fresh neighbours). */
static int setup_race(void **state)
{
    wt_stack_up(&T, "addr=192.0.2.1/24;addr=198.18.0.1/16;mac=02:00:00:00:00:01");
    struct ip_addr peer = ip4(WT_PEER_IP);
    assert_int_equal(stack_neigh_add_static(T.st, &peer, wt_peer_mac), 0);
    WSK_CLIENT_NPI npi = {NULL, &wt_client_dispatch};
    assert_int_equal(WsksRegisterOnStack(T.st, &npi, &T.reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&T.reg, WSK_INFINITE_WAIT, &T.npi), STATUS_SUCCESS);
    return 0;
}

/* ARP reply "ip is at mac" to us (our_ip = the target protocol address). */
static void inject_arp_reply(uint32_t ip, const uint8_t mac[6], uint32_t our_ip)
{
    uint8_t f[60];
    memset(f, 0, sizeof(f));
    memcpy(f, wt_our_mac, 6);
    memcpy(f + 6, mac, 6);
    wt_be16(f + 12, 0x0806);
    wt_be16(f + 14, 1);
    wt_be16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    wt_be16(f + 20, 2);
    memcpy(f + 22, mac, 6);
    wt_be32(f + 28, ip);
    memcpy(f + 32, wt_our_mac, 6);
    wt_be32(f + 38, our_ip);
    assert_int_equal(memdev_inject(T.dev, f, sizeof(f)), 0);
}

static uint32_t be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Is f (n bytes) an ARP request for ip? */
static bool is_arp_request(const uint8_t *f, long n, uint32_t ip)
{
    return n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 1 &&
           be32_at(f + 38) == ip;
}

/* Pop the ARP request the send triggered. */
static void expect_arp_request(uint32_t ip)
{
    uint8_t f[2048];
    long n = wt_pop(&T, f, sizeof(f), 2000);
    assert_true(n > 0);
    assert_true(is_arp_request(f, n, ip));
}

/* Drain the wire for ms milliseconds; every frame must be an ARP request
 * for ip.  Returns how many there were. */
static int drain_only_arp(uint32_t ip, unsigned ms)
{
    uint8_t f[2048];
    int arps = 0;
    uint64_t end = wt_now_ms() + ms;
    while (wt_now_ms() < end) {
        long n = memdev_pop_tx(T.dev, f, sizeof(f));
        if (n < 0) {
            wt_sleep_ms(1);
            continue;
        }
        assert_true(is_arp_request(f, n, ip));
        arps++;
    }
    return arps;
}

struct snd {
    struct wt_irp w;
    uint8_t buf[64];
    PMDL m;
    WSK_BUF b;
    SOCKADDR_IN to;
};

static NTSTATUS snd_start(PWSK_SOCKET s, struct snd *x, uint32_t ip, uint16_t port,
                          const char *payload)
{
    size_t len = strlen(payload);
    memcpy(x->buf, payload, len);
    x->m = wt_mdl(x->buf, (ULONG)len);
    x->b.Mdl = x->m;
    x->b.Offset = 0;
    x->b.Length = len;
    wt_sin(&x->to, ip, port);
    wt_irp_init(&x->w);
    return wt_dg(s)->WskSendTo(s, &x->b, 0, (PSOCKADDR)&x->to, 0, NULL, x->w.irp);
}

static void snd_fini(struct snd *x)
{
    wt_irp_fini(&x->w);
    IoFreeMdl(x->m);
}

static void test_cancel_sendto_waiting_for_arp(void **state)
{
    const uint32_t dst = 0xC0000214u; /* 192.0.2.20: unresolved */
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5400), STATUS_SUCCESS);

    struct snd a;
    assert_int_equal(snd_start(s, &a, dst, 7, "cancel me"), STATUS_PENDING);
    expect_arp_request(dst);
    assert_int_equal(atomic_load(&a.w.calls), 0);

    uint64_t t0 = wt_now_ms();
    assert_true(IoCancelIrp(a.w.irp));
    assert_true(wt_irp_wait(&a.w, 500));
    assert_true(wt_now_ms() - t0 < 500);
    assert_int_equal(atomic_load(&a.w.calls), 1);
    assert_int_equal(a.w.status, STATUS_CANCELLED);
    assert_int_equal(a.w.info, 0);
    assert_int_equal(a.w.pending_returned, TRUE);
    snd_fini(&a);

    /* The neighbour answers now: the cancelled datagram must not leave. */
    inject_arp_reply(dst, wt_peer_mac, WT_OUR_IP1);
    drain_only_arp(dst, 150);

    /* The socket still works (the neighbour is resolved: sent at once). */
    struct snd b;
    assert_int_equal(snd_start(s, &b, dst, 7, "next"), STATUS_PENDING);
    assert_true(wt_irp_wait(&b.w, 2000));
    assert_int_equal(b.w.status, STATUS_SUCCESS);
    assert_int_equal(b.w.info, 4);
    wt_expect_udp(&T, WT_OUR_IP1, dst, 5400, 7, "next", 4, 0, 64, false);
    snd_fini(&b);
    assert_int_equal(atomic_load(&b.w.calls), 1);
    wt_close(s);
}

/* Completion order across IRPs. */
static atomic_int order_seq;
struct counted {
    struct wt_irp w;
    int at;
};
static NTSTATUS counted_routine(PDEVICE_OBJECT d, PIRP irp, PVOID ctx)
{
    struct counted *c = ctx;
    c->at = atomic_fetch_add(&order_seq, 1);
    return wt_irp_routine(d, irp, &c->w);
}

static void test_cancel_sendmessages_keeps_order(void **state)
{
    const uint32_t dst = 0xC0000215u; /* 192.0.2.21: unresolved */
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5401), STATUS_SUCCESS);
    atomic_store(&order_seq, 0);

    uint8_t p1[] = "msend";
    PMDL m1 = wt_mdl(p1, 5);
    WSK_BUF_LIST l1;
    memset(&l1, 0, sizeof(l1));
    l1.Buffer.Mdl = m1;
    l1.Buffer.Offset = 0;
    l1.Buffer.Length = 5;
    SOCKADDR_IN to;
    wt_sin(&to, dst, 9);
    struct counted c1, c2;
    wt_irp_init(&c1.w);
    IoSetCompletionRoutine(c1.w.irp, counted_routine, &c1, TRUE, TRUE, TRUE);
    assert_int_equal(wt_dg(s)->WskSendMessages(s, &l1, 0, (PSOCKADDR)&to, 0, NULL, c1.w.irp),
                     STATUS_PENDING);
    expect_arp_request(dst);

    /* A send to the resolved peer leaves at once but completes after. */
    uint8_t p2[] = "after";
    PMDL m2 = wt_mdl(p2, 5);
    WSK_BUF b2 = {m2, 0, 5};
    SOCKADDR_IN to2;
    wt_sin(&to2, WT_PEER_IP, 9);
    wt_irp_init(&c2.w);
    IoSetCompletionRoutine(c2.w.irp, counted_routine, &c2, TRUE, TRUE, TRUE);
    assert_int_equal(wt_dg(s)->WskSendTo(s, &b2, 0, (PSOCKADDR)&to2, 0, NULL, c2.w.irp),
                     STATUS_PENDING);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 5401, 9, "after", 5, 0, 64, false);
    wt_sleep_ms(20);
    assert_int_equal(atomic_load(&c2.w.calls), 0); /* held behind the first */

    uint64_t t0 = wt_now_ms();
    assert_true(IoCancelIrp(c1.w.irp));
    assert_true(wt_irp_wait(&c1.w, 500));
    assert_true(wt_irp_wait(&c2.w, 500));
    assert_true(wt_now_ms() - t0 < 500);
    assert_int_equal(c1.w.status, STATUS_CANCELLED);
    assert_int_equal(c1.w.info, 0);
    assert_int_equal(c2.w.status, STATUS_SUCCESS);
    assert_int_equal(c2.w.info, 5);
    assert_int_equal(c1.at, 0);
    assert_int_equal(c2.at, 1);
    assert_int_equal(atomic_load(&c1.w.calls), 1);
    assert_int_equal(atomic_load(&c2.w.calls), 1);

    inject_arp_reply(dst, wt_peer_mac, WT_OUR_IP1);
    drain_only_arp(dst, 150);
    wt_irp_fini(&c1.w);
    wt_irp_fini(&c2.w);
    IoFreeMdl(m1);
    IoFreeMdl(m2);
    wt_close(s);
}

static void test_cancel_before_the_call(void **state)
{
    const uint32_t dst = 0xC0000216u; /* 192.0.2.22: unresolved */
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5402), STATUS_SUCCESS);
    struct snd a;
    memset(&a, 0, sizeof(a));
    /* Built by hand: IoCancelIrp must come between IRP set-up and the call. */
    memcpy(a.buf, "early", 5);
    a.m = wt_mdl(a.buf, 5);
    a.b.Mdl = a.m;
    a.b.Length = 5;
    wt_sin(&a.to, dst, 7);
    wt_irp_init(&a.w);
    assert_false(IoCancelIrp(a.w.irp)); /* nothing to cancel yet: Cancel set */
    uint64_t t0 = wt_now_ms();
    assert_int_equal(wt_dg(s)->WskSendTo(s, &a.b, 0, (PSOCKADDR)&a.to, 0, NULL, a.w.irp),
                     STATUS_PENDING);
    assert_true(wt_irp_wait(&a.w, 500));
    assert_true(wt_now_ms() - t0 < 500);
    assert_int_equal(a.w.status, STATUS_CANCELLED);
    assert_int_equal(a.w.info, 0);
    expect_arp_request(dst);
    inject_arp_reply(dst, wt_peer_mac, WT_OUR_IP1);
    drain_only_arp(dst, 150);
    snd_fini(&a);
    wt_close(s);
}

static void test_cancel_races_arp_reply(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, 0, 5403), STATUS_SUCCESS);
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x77};
    int n_cancelled = 0, n_sent = 0;
    for (int i = 0; i < 500; i++) {
        uint32_t dst = 0xC6120000u + 0x100u + (uint32_t)i; /* 198.18.1.0 + i */
        struct snd a, probe;
        assert_int_equal(snd_start(s, &a, dst, 7, "race"), STATUS_PENDING);
        expect_arp_request(dst);
        inject_arp_reply(dst, mac, RACE_OUR_IP);
        for (volatile int k = 0; k < (i % 64) * 200; k++)
            ;
        IoCancelIrp(a.w.irp);
        assert_true(wt_irp_wait(&a.w, 2000));
        /* The probe leaves after the raced datagram would have. */
        assert_int_equal(snd_start(s, &probe, dst, 7, "probe"), STATUS_PENDING);
        assert_true(wt_irp_wait(&probe.w, 2000));
        assert_int_equal(probe.w.status, STATUS_SUCCESS);
        int races = 0;
        for (;;) {
            uint8_t f[2048];
            long n = wt_pop(&T, f, sizeof(f), 2000);
            assert_true(n > 0);
            if (is_arp_request(f, n, dst))
                continue;
            assert_true(n >= 14 + 20 + 8 + 4);
            assert_int_equal(be32_at(f + 14 + 16), dst);
            if (n >= 14 + 28 + 5 && memcmp(f + 42, "probe", 5) == 0)
                break;
            assert_memory_equal(f + 42, "race", 4);
            races++;
        }
        assert_int_equal(atomic_load(&a.w.calls), 1);
        if (a.w.status == STATUS_CANCELLED) {
            assert_int_equal(a.w.info, 0);
            assert_int_equal(races, 0);
            n_cancelled++;
        } else {
            assert_int_equal(a.w.status, STATUS_SUCCESS);
            assert_int_equal(a.w.info, 4);
            assert_int_equal(races, 1);
            n_sent++;
        }
        snd_fini(&a);
        snd_fini(&probe);
    }
    assert_int_equal(n_cancelled + n_sent, 500);
    printf("race: %d cancelled, %d sent\n", n_cancelled, n_sent);
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cancel_sendto_waiting_for_arp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_sendmessages_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_the_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_races_arp_reply, setup_race, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
