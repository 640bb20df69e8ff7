/* SPDX-License-Identifier: MIT */
/*
 * Lab: user-mode Winsock on wskstack with the Linux kernel as the peer.
 *
 *     kernel 192.0.2.1:6000 [wsawin0] <== TAP ==> wskstack 192.0.2.2:5000
 *     lk_udp_sendto / lk_udp_recv          WSASendMsg / WSARecvMsg (Winsock)
 *
 * WSASendMsg in the three modes (blocking, event, completion routine with an
 * alertable wait), each datagram checked byte for byte on the kernel side;
 * WSARecvMsg with IP_PKTINFO for kernel datagrams; a non-blocking receive
 * with nothing queued.  IPv4 here; IPv6 is in test_winsock_udp6.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lab_stack.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>

#include "wskstack_winsock.h"

#define CONFIG "tap=wsawin0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"

static int routine_calls;
static DWORD routine_bytes;
static void CALLBACK done(DWORD e, DWORD n, LPWSAOVERLAPPED ov, DWORD f)
{
    (void)ov;
    (void)f;
    assert_int_equal(e, 0);
    routine_bytes = n;
    routine_calls++;
}

static void test_winsock_with_kernel_peer(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    assert_int_equal(WsksWinsockUseStack(ls.st), 0);
    WSADATA wd;
    assert_int_equal(WSAStartup(MAKEWORD(2, 2), &wd), 0);
    int kfd = lk_udp_open("192.0.2.1", 6000);
    assert_true(kfd >= 0);

    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    assert_true(s != INVALID_SOCKET);
    SOCKADDR_IN me, peer;
    memset(&me, 0, sizeof(me));
    me.sin_family = AF_INET;
    me.sin_port = htons(5000);
    assert_int_equal(bind(s, (SOCKADDR *)&me, sizeof(me)), 0);
    memset(&peer, 0, sizeof(peer));
    peer.sin_family = AF_INET;
    peer.sin_port = htons(6000);
    assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr), 1);

    char got[2048], src[LK_ADDRSTRLEN];
    uint16_t sport;
    char p[3][32] = {"blocking", "event mode", "completion routine"};
    WSAEVENT ev = WSACreateEvent();
    for (int mode = 0; mode < 3; mode++) {
        WSABUF b = {(ULONG)strlen(p[mode]), p[mode]};
        WSAMSG msg = {(LPSOCKADDR)&peer, sizeof(peer), &b, 1, {0, NULL}, 0};
        WSAOVERLAPPED ov;
        memset(&ov, 0, sizeof(ov));
        DWORD sent = 0, fl = 0;
        if (mode == 0) {
            assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), 0);
            assert_int_equal(sent, b.len);
        } else if (mode == 1) {
            ov.hEvent = ev;
            assert_int_equal(WSASendMsg(s, &msg, 0, NULL, &ov, NULL), SOCKET_ERROR);
            assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
            assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
            assert_int_equal(WSAGetOverlappedResult(s, &ov, &sent, FALSE, &fl), TRUE);
            assert_int_equal(sent, b.len);
        } else {
            assert_int_equal(WSASendMsg(s, &msg, 0, NULL, &ov, done), SOCKET_ERROR);
            assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
            assert_int_equal(SleepEx(5000, TRUE), WAIT_IO_COMPLETION);
            assert_int_equal(routine_calls, 1);
            assert_int_equal(routine_bytes, b.len);
        }
        long n = lk_udp_recv(kfd, got, sizeof(got), 2000, src, &sport);
        assert_int_equal(n, (long)strlen(p[mode]));
        assert_memory_equal(got, p[mode], (size_t)n);
        assert_string_equal(src, "192.0.2.2");
        assert_int_equal(sport, 5000);
    }
    assert_int_equal(WSACloseEvent(ev), TRUE);

    /* kernel -> Winsock, with the destination address as IP_PKTINFO */
    DWORD on = 1;
    assert_int_equal(setsockopt(s, IPPROTO_IP, IP_PKTINFO, (char *)&on, sizeof(on)), 0);
    GUID g = WSAID_WSARECVMSG;
    LPFN_WSARECVMSG recvmsg_fn = NULL;
    DWORD rb = 0;
    assert_int_equal(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof(g), &recvmsg_fn,
                              sizeof(recvmsg_fn), &rb, NULL, NULL), 0);
    assert_int_equal(lk_udp_sendto(kfd, "from the kernel", 15, "192.0.2.2", 5000), 15);
    WSABUF b = {sizeof(got), got};
    SOCKADDR_IN from;
    uint64_t ctl[8];
    WSAMSG msg = {(LPSOCKADDR)&from, sizeof(from), &b, 1, {sizeof(ctl), (CHAR *)ctl}, 0};
    assert_int_equal(recvmsg_fn(s, &msg, &rb, NULL, NULL), 0);
    assert_int_equal(rb, 15);
    assert_memory_equal(got, "from the kernel", 15);
    assert_int_equal(ntohs(from.sin_port), 6000);
    WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&msg);
    assert_non_null(c);
    assert_int_equal(c->cmsg_type, IP_PKTINFO);
    IN_PKTINFO pi;
    memcpy(&pi, WSA_CMSG_DATA(c), sizeof(pi));
    char txt[INET_ADDRSTRLEN];
    assert_string_equal(inet_ntop(AF_INET, &pi.ipi_addr, txt, sizeof(txt)), "192.0.2.2");

    u_long nb = 1;
    assert_int_equal(ioctlsocket(s, FIONBIO, &nb), 0);
    assert_int_equal(recvfrom(s, got, sizeof(got), 0, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEWOULDBLOCK);

    assert_int_equal(lab_stack_cnt(&ls, "UdpOutDatagrams"), 3);
    assert_int_equal(lab_stack_cnt(&ls, "UdpInDatagrams"), 1);
    assert_int_equal(closesocket(s), 0);
    assert_int_equal(WSACleanup(), 0);
    assert_int_equal(WsksWinsockUseStack(NULL), 0);
    lk_close(kfd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winsock_with_kernel_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
