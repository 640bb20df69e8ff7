/* SPDX-License-Identifier: MIT */
/*
 * User-mode Winsock, overlapped I/O on a memdev stack: event mode
 * (WSACreateEvent, WSAWaitForMultipleEvents, WSAGetOverlappedResult with
 * fWait TRUE/FALSE, WSA_IO_INCOMPLETE), completion routines (run only in an
 * alertable wait of the issuing thread, never nested, buffers sent in the
 * order posted), closesocket aborting outstanding operations
 * (WSA_OPERATION_ABORTED), non-blocking and SO_SNDTIMEO sends that cannot
 * complete (neighbour without an ARP answer).
 */
#include "ws_test.h"

static void test_event_mode(void **state)
{
    (void)state;
    SOCKET s = ws_bound("192.0.2.1", 5100);
    SOCKADDR_IN peer = ws_sin("192.0.2.10", 6100);
    WSAEVENT ev = WSACreateEvent();
    assert_non_null(ev);
    assert_int_equal(WSASetEvent(ev), TRUE); /* the send resets it */
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    char p[] = "overlapped";
    WSABUF b = {10, p};
    WSAMSG msg = {(LPSOCKADDR)&peer, sizeof(peer), &b, 1, {0, NULL}, 0};
    DWORD sent = 12345;
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, &ov, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    assert_int_equal(sent, 12345); /* not updated for a pending operation */
    b.len = 0;                     /* the WSABUF array was captured */
    assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    DWORD got = 0, flags = 9;
    assert_int_equal(WSAGetOverlappedResult(s, &ov, &got, FALSE, &flags), TRUE);
    assert_int_equal(got, 10);
    assert_int_equal(flags, 0);
    assert_int_equal(ov.Internal, STATUS_SUCCESS);
    static struct ws_frame f;
    assert_true(ws_pop_udp(&f, 2000));
    assert_int_equal(f.plen, 10);
    assert_memory_equal(f.payload, "overlapped", 10);

    /* overlapped receive: pending, WSA_IO_INCOMPLETE, then fWait TRUE */
    char rb[32];
    WSABUF r = {sizeof(rb), rb};
    SOCKADDR_IN from;
    INT fl = sizeof(from);
    DWORD rflags = 0;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    assert_int_equal(WSARecvFrom(s, &r, 1, NULL, &rflags, (struct sockaddr *)&from, &fl, &ov, NULL),
                     SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    assert_int_equal(WSAGetOverlappedResult(s, &ov, &got, FALSE, &flags), FALSE);
    assert_int_equal(WSAGetLastError(), WSA_IO_INCOMPLETE);
    assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 50, FALSE), WSA_WAIT_TIMEOUT);
    wt_inject_udp(&ws_t, WT_PEER_IP, WT_OUR_IP1, 6100, 5100, "reply", 5);
    assert_int_equal(WSAGetOverlappedResult(s, &ov, &got, TRUE, &flags), TRUE);
    assert_int_equal(got, 5);
    assert_memory_equal(rb, "reply", 5);
    assert_int_equal(ntohs(from.sin_port), 6100);
    assert_int_equal(fl, sizeof(SOCKADDR_IN));
    assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);

    /* a datagram already queued: immediate completion, bytes reported */
    wt_inject_udp(&ws_t, WT_PEER_IP, WT_OUR_IP1, 6100, 5100, "now", 3);
    assert_int_equal(wt_counter(&ws_t, "UdpInDatagrams") >= 0, 1);
    for (int i = 0; i < 1000 && wt_counter(&ws_t, "UdpInDatagrams") < 2; i++)
        wt_sleep_ms(1);
    assert_int_equal(wt_counter(&ws_t, "UdpInDatagrams"), 2);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    got = 0;
    assert_int_equal(WSARecvFrom(s, &r, 1, &got, &rflags, NULL, NULL, &ov, NULL), 0);
    assert_int_equal(got, 3);
    assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);

    /* closesocket aborts an outstanding receive */
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    assert_int_equal(WSARecvFrom(s, &r, 1, NULL, &rflags, NULL, NULL, &ov, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    assert_int_equal(closesocket(s), 0);
    assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    assert_int_equal(ov.Internal, (ULONG_PTR)(ULONG)STATUS_CANCELLED);
    assert_int_equal(WSAResetEvent(ev), TRUE);
    assert_int_equal(WSACloseEvent(ev), TRUE);
    assert_int_equal(WSASetEvent(NULL), FALSE);
    assert_int_equal(WSAGetLastError(), WSA_INVALID_HANDLE);
}

/* ---- completion routines ---- */
static int cr_depth, cr_maxdepth, cr_count;
static DWORD cr_err[8], cr_bytes[8];
static LPWSAOVERLAPPED cr_ov[8];
static pthread_t cr_thread[8];

static void CALLBACK on_done(DWORD dwError, DWORD cbTransferred, LPWSAOVERLAPPED lpOverlapped,
                             DWORD dwFlags)
{
    assert_int_equal(dwFlags, 0);
    cr_depth++;
    if (cr_depth > cr_maxdepth)
        cr_maxdepth = cr_depth;
    int i = cr_count++;
    cr_err[i] = dwError;
    cr_bytes[i] = cbTransferred;
    cr_ov[i] = lpOverlapped;
    cr_thread[i] = pthread_self();
    /* a nested alertable wait runs nothing */
    assert_int_equal(SleepEx(0, TRUE), 0);
    cr_depth--;
}

static void test_completion_routines(void **state)
{
    (void)state;
    SOCKET s = ws_bound("192.0.2.1", 5101);
    SOCKADDR_IN peer = ws_sin("192.0.2.10", 6101);
    WSAOVERLAPPED ov[3];
    char pay[3][4] = {"one", "two", "thr"};
    cr_count = cr_depth = cr_maxdepth = 0;
    for (int i = 0; i < 3; i++) {
        memset(&ov[i], 0, sizeof(ov[i]));
        WSABUF b = {(ULONG)(i + 1), pay[i]};
        WSAMSG msg = {(LPSOCKADDR)&peer, sizeof(peer), &b, 1, {0, NULL}, 0};
        assert_int_equal(WSASendMsg(s, &msg, 0, NULL, &ov[i], on_done), SOCKET_ERROR);
        assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    }
    /* not alertable: nothing runs */
    static struct ws_frame f;
    for (int i = 0; i < 3; i++) {
        assert_true(ws_pop_udp(&f, 2000));
        assert_int_equal(f.plen, (size_t)i + 1);
        assert_memory_equal(f.payload, pay[i], (size_t)i + 1); /* order posted */
    }
    Sleep(50);
    assert_int_equal(cr_count, 0);
    /* alertable: all of them, then WAIT_IO_COMPLETION */
    uint64_t t0 = wt_now_ms();
    while (cr_count < 3 && wt_now_ms() - t0 < 5000)
        assert_int_equal(SleepEx(5000, TRUE), WAIT_IO_COMPLETION);
    assert_int_equal(cr_count, 3);
    assert_int_equal(cr_maxdepth, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cr_err[i], 0);
        assert_int_equal(cr_bytes[i], (DWORD)i + 1);
        assert_ptr_equal(cr_ov[i], &ov[i]); /* this socket completes in order */
        assert_true(pthread_equal(cr_thread[i], pthread_self()));
    }
    assert_int_equal(SleepEx(10, TRUE), 0); /* nothing left */

    /* WSAWaitForMultipleEvents(fAlertable) returns WSA_WAIT_IO_COMPLETION */
    WSAEVENT never = WSACreateEvent();
    WSAOVERLAPPED o2;
    memset(&o2, 0, sizeof(o2));
    WSABUF b = {3, pay[0]};
    DWORD nothing = 0;
    assert_int_equal(WSASendTo(s, &b, 1, NULL, 0, (struct sockaddr *)&peer, sizeof(peer), &o2,
                               on_done), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    assert_int_equal(WSAWaitForMultipleEvents(1, &never, FALSE, 5000, TRUE),
                     WSA_WAIT_IO_COMPLETION);
    assert_int_equal(cr_count, 4);
    assert_int_equal(cr_bytes[3], 3);
    assert_true(ws_pop_udp(&f, 2000));
    (void)nothing;

    /* an outstanding receive aborted by closesocket: dwError 995 */
    char rb[8];
    WSABUF r = {sizeof(rb), rb};
    DWORD rf = 0;
    memset(&o2, 0, sizeof(o2));
    assert_int_equal(WSARecvFrom(s, &r, 1, NULL, &rf, NULL, NULL, &o2, on_done), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    assert_int_equal(closesocket(s), 0);
    assert_int_equal(WSAWaitForMultipleEvents(1, &never, FALSE, 5000, TRUE),
                     WSA_WAIT_IO_COMPLETION);
    assert_int_equal(cr_count, 5);
    assert_int_equal(cr_err[4], WSA_OPERATION_ABORTED);
    assert_int_equal(cr_bytes[4], 0);
    assert_int_equal(WSACloseEvent(never), TRUE);
}

/* 192.0.2.99 never answers ARP: its sends stay queued (3 s, then
 * STATUS_HOST_UNREACHABLE) - sends that cannot complete. */
static void test_sends_that_cannot_complete(void **state)
{
    (void)state;
    SOCKET s = ws_bound("192.0.2.1", 5102);
    SOCKADDR_IN ghost = ws_sin("192.0.2.99", 9);
    SOCKADDR_IN peer = ws_sin("192.0.2.10", 6102);
    WSAEVENT ev = WSACreateEvent();
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    char d[] = "q";
    WSABUF b = {1, d};
    assert_int_equal(WSASendTo(s, &b, 1, NULL, 0, (struct sockaddr *)&ghost, sizeof(ghost), &ov,
                               NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    /* non-blocking: another send cannot complete now -> nothing submitted */
    u_long nb = 1;
    assert_int_equal(ioctlsocket(s, FIONBIO, &nb), 0);
    int64_t out0 = wt_counter(&ws_t, "UdpOutDatagrams");
    assert_int_equal(sendto(s, "z", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEWOULDBLOCK);
    assert_int_equal(wt_counter(&ws_t, "UdpOutDatagrams"), out0); /* counted when submitted */
    /* the queued send fails after the ARP retries */
    assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 10000, FALSE), WSA_WAIT_EVENT_0);
    DWORD got = 5, fl = 0;
    assert_int_equal(WSAGetOverlappedResult(s, &ov, &got, TRUE, &fl), FALSE);
    assert_int_equal(WSAGetLastError(), WSAEHOSTUNREACH);
    assert_int_equal(got, 0);

    /* blocking with SO_SNDTIMEO: WSAETIMEDOUT, not before the timeout */
    nb = 0;
    assert_int_equal(ioctlsocket(s, FIONBIO, &nb), 0);
    DWORD to = 300;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (char *)&to, sizeof(to)), 0);
    WSAMSG msg = {(LPSOCKADDR)&ghost, sizeof(ghost), &b, 1, {0, NULL}, 0};
    DWORD sent = 7;
    uint64_t t0 = wt_now_ms();
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAETIMEDOUT);
    assert_true(wt_now_ms() - t0 >= 300);
    assert_int_equal(sent, 7);

    /* closesocket aborts a send waiting for ARP */
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    assert_int_equal(WSASendTo(s, &b, 1, NULL, 0, (struct sockaddr *)&ghost, sizeof(ghost), &ov,
                               NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
    assert_int_equal(closesocket(s), 0);
    assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    assert_int_equal(ov.Internal, (ULONG_PTR)(ULONG)STATUS_CANCELLED);
    /* not one UDP frame left the stack in this test (ARP requests only) */
    static struct ws_frame f;
    assert_false(ws_pop_udp(&f, 50));
    assert_int_equal(WSACloseEvent(ev), TRUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_mode),
        cmocka_unit_test(test_completion_routines),
        cmocka_unit_test(test_sends_that_cannot_complete),
    };
    return cmocka_run_group_tests(tests, ws_setup, ws_teardown);
}
