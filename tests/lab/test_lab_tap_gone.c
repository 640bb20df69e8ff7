/* SPDX-License-Identifier: MIT */
/*
 * Lab: the TAP disappears under pending WSK IRPs (BAD-INPUT K.48, issue 3).
 *
 *     kernel 192.0.2.1/24 [wskgone0] <== TAP ==> wskstack 192.0.2.2/24
 *
 *  1. a socket on 192.0.2.2:5000 has 8 pending WskReceiveFrom IRPs and a
 *     WskSendTo to 192.0.2.77 waiting for ARP (nobody owns that address);
 *  2. the TAP is deleted (`ip link del wskgone0`, through libnl);
 *  3. all nine complete with STATUS_FILE_FORCED_CLOSED, Information 0,
 *     PendingReturned TRUE, each exactly once;
 *  4. a new WskSendTo and a new WskReceiveFrom fail with
 *     STATUS_FILE_FORCED_CLOSED (completed before the call returns), and a
 *     new socket cannot be bound (STATUS_FILE_FORCED_CLOSED);
 *  5. the process uses less than 0.1 s of CPU during the following second
 *     (the receive thread stopped polling the dead fd; nothing spins);
 *  6. WskCloseSocket still works, then release / deregister / destroy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG "tap=wskgone0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"
#define NRX 8

/* One IRP we wait for, recording what its completion routine saw. */
struct gop {
    KEVENT ev;
    PIRP irp;
    LONG calls;
    NTSTATUS status;
    ULONG_PTR info;
    BOOLEAN pending_returned;
    uint8_t buf[256];
    PMDL mdl;
    SOCKADDR_IN from;
};

static NTSTATUS gop_done(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    struct gop *g = Context;
    g->status = Irp->IoStatus.Status;
    g->info = Irp->IoStatus.Information;
    g->pending_returned = Irp->PendingReturned;
    InterlockedIncrement(&g->calls);
    KeSetEvent(&g->ev, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static void gop_init(struct gop *g, ULONG len)
{
    RtlZeroMemory(g, sizeof *g);
    KeInitializeEvent(&g->ev, NotificationEvent, FALSE);
    g->irp = IoAllocateIrp(1, FALSE);
    assert_non_null(g->irp);
    IoSetCompletionRoutine(g->irp, gop_done, g, TRUE, TRUE, TRUE);
    g->status = (NTSTATUS)0x12345678;
    g->info = 0xdeadbeef;
    g->mdl = IoAllocateMdl(g->buf, len, FALSE, FALSE, NULL);
    assert_non_null(g->mdl);
    MmBuildMdlForNonPagedPool(g->mdl);
}

static bool gop_wait(struct gop *g, unsigned ms)
{
    LARGE_INTEGER t;
    t.QuadPart = -(LONGLONG)ms * 10000;
    return KeWaitForSingleObject(&g->ev, Executive, KernelMode, FALSE, &t) == STATUS_SUCCESS;
}

static void gop_fini(struct gop *g)
{
    IoFreeIrp(g->irp);
    IoFreeMdl(g->mdl);
}

static NTSTATUS gop_recv(PWSK_SOCKET s, struct gop *g)
{
    WSK_BUF b = {g->mdl, 0, sizeof g->buf};
    return wskc_dgram(s)->WskReceiveFrom(s, &b, 0, (PSOCKADDR)&g->from, NULL, NULL, NULL,
                                         g->irp);
}

static NTSTATUS gop_send(PWSK_SOCKET s, struct gop *g, const char *addr, uint16_t port)
{
    SOCKADDR_IN to;
    assert_true(wskc_sin(&to, addr, port));
    memcpy(g->buf, "gone?", 5);
    WSK_BUF b = {g->mdl, 0, 5};
    return wskc_dgram(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, g->irp);
}

static void test_tap_deleted_under_pending_irps(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    assert_true(lk_ifindex(ls.ifname) > 0);
    PWSK_SOCKET s = lab_stack_socket(&ls, "192.0.2.2", 5000);

    /* the path works before: one datagram each way */
    int kfd = lk_udp_open("192.0.2.1", 6000);
    assert_true(kfd >= 0);
    assert_int_equal(wskc_sendto(s, "before", 6, "192.0.2.1", 6000, 3000, NULL), STATUS_SUCCESS);
    char kbuf[64];
    assert_int_equal(lk_udp_recv(kfd, kbuf, sizeof kbuf, 2000, NULL, NULL), 6);

    static struct gop rx[NRX], tx;
    for (int i = 0; i < NRX; i++) {
        gop_init(&rx[i], sizeof rx[i].buf);
        assert_int_equal(gop_recv(s, &rx[i]), STATUS_PENDING);
    }
    gop_init(&tx, sizeof tx.buf);
    assert_int_equal(gop_send(s, &tx, "192.0.2.77", 6000), STATUS_PENDING);
    lk_sleep_ms(100);
    for (int i = 0; i < NRX; i++)
        assert_int_equal(InterlockedCompareExchange(&rx[i].calls, 0, 0), 0);
    assert_int_equal(InterlockedCompareExchange(&tx.calls, 0, 0), 0);

    /* the TAP goes away */
    uint64_t t0 = tu_now_ns();
    assert_int_equal(tu_link_del(ls.ifname), 0);
    assert_int_equal(lk_ifindex(ls.ifname), -ENODEV);
    for (int i = 0; i < NRX; i++) {
        assert_true(gop_wait(&rx[i], 3000));
        assert_int_equal(rx[i].status, STATUS_FILE_FORCED_CLOSED);
        assert_int_equal(rx[i].info, 0);
        assert_true(rx[i].pending_returned);
    }
    assert_true(gop_wait(&tx, 3000));
    assert_int_equal(tx.status, STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(tx.info, 0);
    assert_true(tx.pending_returned);
    uint64_t took_ms = (tu_now_ns() - t0) / 1000000u;
    print_message("pending IRPs failed %llu ms after the TAP was deleted\n",
                  (unsigned long long)took_ms);
    assert_true(took_ms < 2000);

    /* new operations fail at once, the IRP completed before the return */
    struct gop g;
    gop_init(&g, sizeof g.buf);
    assert_int_equal(gop_send(s, &g, "192.0.2.1", 6000), STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, STATUS_FILE_FORCED_CLOSED);
    assert_false(g.pending_returned);
    gop_fini(&g);
    gop_init(&g, sizeof g.buf);
    assert_int_equal(gop_recv(s, &g), STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, STATUS_FILE_FORCED_CLOSED);
    assert_int_equal(g.info, 0);
    gop_fini(&g);
    PWSK_SOCKET s2 = NULL;
    assert_int_equal(wskc_socket(&ls.npi, &s2), STATUS_SUCCESS);
    assert_int_equal(wskc_bind(s2, "192.0.2.2", 5001), STATUS_FILE_FORCED_CLOSED);

    /* nothing spins on the dead device: < 0.1 s of CPU in 1 s */
    uint64_t cpu0 = tu_proc_cpu_ns();
    lk_sleep_ms(1000);
    uint64_t cpu = tu_proc_cpu_ns() - cpu0;
    print_message("CPU used in the second after deletion: %llu us\n",
                  (unsigned long long)(cpu / 1000u));
    assert_true(cpu < 100000000ull);

    /* every IRP completed exactly once */
    for (int i = 0; i < NRX; i++) {
        assert_int_equal(rx[i].calls, 1);
        gop_fini(&rx[i]);
    }
    assert_int_equal(tx.calls, 1);
    gop_fini(&tx);

    assert_int_equal(wskc_close(s2), STATUS_SUCCESS);
    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(kfd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tap_deleted_under_pending_irps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
