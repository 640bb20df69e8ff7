/* SPDX-License-Identifier: MIT */
/*
 * Lab: user-mode Winsock over IPv6 on wskstack, the Linux kernel as the peer.
 *
 *     kernel 2001:db8::1:6000 [wsawin6] <== TAP ==> wskstack 2001:db8::2, ::3 :5000
 *     kernel 192.0.2.1:6001                          wskstack 192.0.2.2, .3 :5001
 *     lk_udp6_* / lk_udp_*                           WSASendMsg / WSARecvMsg
 *
 * WSASendMsg on an AF_INET6 socket in the three modes (blocking, event,
 * completion routine with an alertable SleepEx), each with an IN6_PKTINFO
 * choosing the source among the stack's two addresses (the kernel sees that
 * source); WSARecvMsg with IPV6_PKTINFO returning the destination address;
 * a dual-stack socket (IPV6_V6ONLY 0) sending to ::ffff:192.0.2.1 with an
 * IN_PKTINFO (an IPv4 datagram from the chosen IPv4 source), and with
 * both cmsgs (IN_PKTINFO for the mapped destination, IN6_PKTINFO for an
 * IPv6 one); the errors
 * WSAENETUNREACH (no route to the IPv6 destination) and WSAEMSGSIZE
 * (65528 bytes), nothing sent in either case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lab_stack.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>

#include "wskstack_winsock.h"

#define CONFIG                                                                           \
    "tap=wsawin6;addr=2001:db8::2/64;addr=2001:db8::3/64;host-addr=2001:db8::1/64;"      \
    "addr=192.0.2.2/24;addr=192.0.2.3/24;host-addr=192.0.2.1/24"

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

static void sin6_set(SOCKADDR_IN6 *a, const char *addr, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (addr != NULL)
        assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
}

/* One IN6_PKTINFO {src, 0} cmsg in ctl; its length. */
static ULONG ctl6(uint64_t *ctl, size_t cap, const char *src)
{
    memset(ctl, 0, cap);
    WSACMSGHDR *c = (WSACMSGHDR *)ctl;
    c->cmsg_len = WSA_CMSG_LEN(sizeof(IN6_PKTINFO));
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    IN6_PKTINFO pi;
    memset(&pi, 0, sizeof(pi));
    assert_int_equal(inet_pton(AF_INET6, src, &pi.ipi6_addr), 1);
    memcpy(WSA_CMSG_DATA(c), &pi, sizeof(pi));
    assert_true(WSA_CMSG_SPACE(sizeof(IN6_PKTINFO)) <= cap);
    return (ULONG)WSA_CMSG_SPACE(sizeof(IN6_PKTINFO));
}

struct lab {
    struct lab_stack ls;
    int kfd;
};

static void lab_up(struct lab *l)
{
    assert_int_equal(tu_enter_netns(), 0);
    lab_stack_up(&l->ls, CONFIG);
    assert_int_equal(wskstack_wait_ready(l->ls.st, 3000), 0);
    assert_int_equal(WsksWinsockUseStack(l->ls.st), 0);
    WSADATA wd;
    assert_int_equal(WSAStartup(MAKEWORD(2, 2), &wd), 0);
    l->kfd = lk_udp6_open("2001:db8::1", 6000);
    assert_true(l->kfd >= 0);
}

static void lab_down(struct lab *l)
{
    assert_int_equal(WSACleanup(), 0);
    assert_int_equal(WsksWinsockUseStack(NULL), 0);
    lk_close(l->kfd);
    lab_stack_down(&l->ls);
}

static SOCKET sock6_bound(uint16_t port, int v6only)
{
    SOCKET s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    assert_true(s != INVALID_SOCKET);
    if (v6only >= 0) {
        DWORD v = (DWORD)v6only;
        assert_int_equal(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&v, sizeof(v)), 0);
    }
    SOCKADDR_IN6 me;
    sin6_set(&me, NULL, port);
    assert_int_equal(bind(s, (SOCKADDR *)&me, sizeof(me)), 0);
    return s;
}

/* WSASendMsg in the three modes, each with an IN6_PKTINFO source. */
static void test_winsock6_send_modes_pktinfo(void **state)
{
    (void)state;
    struct lab l;
    lab_up(&l);
    SOCKET s = sock6_bound(5000, -1);
    SOCKADDR_IN6 peer;
    sin6_set(&peer, "2001:db8::1", 6000);

    char got[2048], src[LK_ADDR6STRLEN];
    uint16_t sport;
    char p[3][32] = {"blocking", "event mode", "completion routine"};
    const char *srcs[3] = {"2001:db8::3", "2001:db8::2", "2001:db8::3"};
    WSAEVENT ev = WSACreateEvent();
    for (int mode = 0; mode < 3; mode++) {
        uint64_t ctl[8];
        WSABUF b = {(ULONG)strlen(p[mode]), p[mode]};
        WSAMSG msg = {(LPSOCKADDR)&peer, sizeof(peer), &b, 1,
                      {ctl6(ctl, sizeof(ctl), srcs[mode]), (CHAR *)ctl}, 0};
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
            assert_int_equal(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE),
                             WSA_WAIT_EVENT_0);
            assert_int_equal(WSAGetOverlappedResult(s, &ov, &sent, FALSE, &fl), TRUE);
            assert_int_equal(sent, b.len);
        } else {
            assert_int_equal(WSASendMsg(s, &msg, 0, NULL, &ov, done), SOCKET_ERROR);
            assert_int_equal(WSAGetLastError(), WSA_IO_PENDING);
            assert_int_equal(SleepEx(5000, TRUE), WAIT_IO_COMPLETION);
            assert_int_equal(routine_calls, 1);
            assert_int_equal(routine_bytes, b.len);
        }
        long n = lk_udp6_recv(l.kfd, got, sizeof(got), 2000, src, &sport);
        assert_int_equal(n, (long)strlen(p[mode]));
        assert_memory_equal(got, p[mode], (size_t)n);
        assert_string_equal(src, srcs[mode]);
        assert_int_equal(sport, 5000);
    }
    assert_int_equal(WSACloseEvent(ev), TRUE);
    assert_int_equal(lab_stack_cnt_settle(&l.ls, "Udp6OutDatagrams", 3), 3);
    assert_int_equal(closesocket(s), 0);
    lab_down(&l);
}

/* kernel -> Winsock: WSARecvMsg with IPV6_PKTINFO (the destination). */
static void test_winsock6_recvmsg_pktinfo(void **state)
{
    (void)state;
    struct lab l;
    lab_up(&l);
    SOCKET s = sock6_bound(5000, -1);
    DWORD on = 1;
    assert_int_equal(setsockopt(s, IPPROTO_IPV6, IPV6_PKTINFO, (char *)&on, sizeof(on)), 0);
    GUID g = WSAID_WSARECVMSG;
    LPFN_WSARECVMSG recvmsg_fn = NULL;
    DWORD rb = 0;
    assert_int_equal(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof(g), &recvmsg_fn,
                              sizeof(recvmsg_fn), &rb, NULL, NULL), 0);
    const char *dsts[2] = {"2001:db8::3", "2001:db8::2"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(lk_udp6_sendto(l.kfd, "from the kernel", 15, dsts[i], 5000), 15);
        char got[2048];
        WSABUF b = {sizeof(got), got};
        SOCKADDR_IN6 from;
        memset(&from, 0, sizeof(from));
        uint64_t ctl[8];
        WSAMSG msg = {(LPSOCKADDR)&from, sizeof(from), &b, 1, {sizeof(ctl), (CHAR *)ctl}, 0};
        assert_int_equal(recvmsg_fn(s, &msg, &rb, NULL, NULL), 0);
        assert_int_equal(rb, 15);
        assert_memory_equal(got, "from the kernel", 15);
        assert_int_equal(msg.namelen, sizeof(SOCKADDR_IN6));
        assert_int_equal(from.sin6_family, AF_INET6);
        assert_int_equal(ntohs(from.sin6_port), 6000);
        char txt[INET6_ADDRSTRLEN];
        assert_string_equal(inet_ntop(AF_INET6, &from.sin6_addr, txt, sizeof(txt)),
                            "2001:db8::1");
        assert_int_equal(msg.Control.len, WSA_CMSG_SPACE(sizeof(IN6_PKTINFO)));
        assert_int_equal(msg.dwFlags, 0);
        WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&msg);
        assert_non_null(c);
        assert_int_equal(c->cmsg_level, IPPROTO_IPV6);
        assert_int_equal(c->cmsg_type, IPV6_PKTINFO);
        assert_int_equal(c->cmsg_len, WSA_CMSG_LEN(sizeof(IN6_PKTINFO)));
        IN6_PKTINFO pi;
        memcpy(&pi, WSA_CMSG_DATA(c), sizeof(pi));
        assert_string_equal(inet_ntop(AF_INET6, &pi.ipi6_addr, txt, sizeof(txt)), dsts[i]);
        assert_int_equal(pi.ipi6_ifindex, (ULONG)wskstack_ifindex(l.ls.st));
        assert_null(WSA_CMSG_NXTHDR(&msg, c));
    }
    assert_int_equal(lab_stack_cnt_settle(&l.ls, "Udp6InDatagrams", 2), 2);
    assert_int_equal(closesocket(s), 0);
    lab_down(&l);
}

/* Dual stack: IPV6_V6ONLY 0, to ::ffff:192.0.2.1 with an IN_PKTINFO source. */
static void test_winsock6_dual_stack_in_pktinfo(void **state)
{
    (void)state;
    struct lab l;
    lab_up(&l);
    int k4 = lk_udp_open("192.0.2.1", 6001);
    assert_true(k4 >= 0);
    SOCKET s = sock6_bound(5001, 0);
    DWORD v = 1;
    int vl = sizeof(v);
    assert_int_equal(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&v, &vl), 0);
    assert_int_equal(v, 0);
    SOCKADDR_IN6 peer;
    sin6_set(&peer, "::ffff:192.0.2.1", 6001);
    const char *srcs[2] = {"192.0.2.3", "192.0.2.2"};
    for (int i = 0; i < 2; i++) {
        uint64_t ctl[8];
        memset(ctl, 0, sizeof(ctl));
        WSACMSGHDR *c = (WSACMSGHDR *)ctl;
        c->cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        IN_PKTINFO pi;
        memset(&pi, 0, sizeof(pi));
        assert_int_equal(inet_pton(AF_INET, srcs[i], &pi.ipi_addr), 1);
        memcpy(WSA_CMSG_DATA(c), &pi, sizeof(pi));
        WSABUF b = {9, (CHAR *)"mapped v4"};
        WSAMSG msg = {(LPSOCKADDR)&peer, sizeof(peer), &b, 1,
                      {(ULONG)WSA_CMSG_SPACE(sizeof(IN_PKTINFO)), (CHAR *)ctl}, 0};
        DWORD sent = 0;
        assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), 0);
        assert_int_equal(sent, 9);
        char got[64], src[LK_ADDRSTRLEN];
        uint16_t sport = 0;
        long n = lk_udp_recv(k4, got, sizeof(got), 2000, src, &sport);
        assert_int_equal(n, 9);
        assert_memory_equal(got, "mapped v4", 9);
        assert_string_equal(src, srcs[i]);
        assert_int_equal(sport, 5001);
    }
    assert_int_equal(lab_stack_cnt_settle(&l.ls, "UdpOutDatagrams", 2), 2);
    assert_int_equal(lab_stack_cnt(&l.ls, "Udp6OutDatagrams"), 0);

    /* Both cmsgs on the dual-stack socket: IN_PKTINFO applies to the mapped
     * destination, IN6_PKTINFO to the IPv6 one. */
    SOCKADDR_IN6 peer6;
    sin6_set(&peer6, "2001:db8::1", 6000);
    const SOCKADDR_IN6 *tos[2] = {&peer, &peer6};
    const char *v4src[2] = {"192.0.2.3", "192.0.2.2"};
    const char *v6src[2] = {"2001:db8::2", "2001:db8::3"};
    for (int i = 0; i < 2; i++) {
        uint64_t ctl[16];
        ULONG l6 = ctl6(ctl, sizeof(ctl), v6src[i]);
        WSACMSGHDR *c = (WSACMSGHDR *)((char *)ctl + l6);
        c->cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        IN_PKTINFO pi;
        memset(&pi, 0, sizeof(pi));
        assert_int_equal(inet_pton(AF_INET, v4src[i], &pi.ipi_addr), 1);
        memcpy(WSA_CMSG_DATA(c), &pi, sizeof(pi));
        WSABUF b = {4, (CHAR *)"both"};
        WSAMSG msg = {(LPSOCKADDR)tos[i], sizeof(SOCKADDR_IN6), &b, 1,
                      {l6 + (ULONG)WSA_CMSG_SPACE(sizeof(IN_PKTINFO)), (CHAR *)ctl}, 0};
        DWORD sent = 0;
        assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), 0);
        assert_int_equal(sent, 4);
        char got[64], src6[LK_ADDR6STRLEN];
        uint16_t sport = 0;
        long n = i == 0 ? lk_udp_recv(k4, got, sizeof(got), 2000, src6, &sport)
                        : lk_udp6_recv(l.kfd, got, sizeof(got), 2000, src6, &sport);
        assert_int_equal(n, 4);
        assert_memory_equal(got, "both", 4);
        assert_string_equal(src6, i == 0 ? v4src[i] : v6src[i]);
        assert_int_equal(sport, 5001);
    }
    assert_int_equal(lab_stack_cnt_settle(&l.ls, "UdpOutDatagrams", 3), 3);
    assert_int_equal(lab_stack_cnt_settle(&l.ls, "Udp6OutDatagrams", 1), 1);
    assert_int_equal(closesocket(s), 0);
    lk_close(k4);
    lab_down(&l);
}

/* WSAENETUNREACH (no route) and WSAEMSGSIZE (65528 bytes): nothing sent. */
static void test_winsock6_errors(void **state)
{
    (void)state;
    struct lab l;
    lab_up(&l);
    SOCKET s = sock6_bound(5000, -1);
    SOCKADDR_IN6 far;
    sin6_set(&far, "2001:db8:1::1", 6000);
    WSABUF b = {1, (CHAR *)"x"};
    WSAMSG msg = {(LPSOCKADDR)&far, sizeof(far), &b, 1, {0, NULL}, 0};
    DWORD sent = 7;
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAENETUNREACH);

    SOCKADDR_IN6 peer;
    sin6_set(&peer, "2001:db8::1", 6000);
    char *big = calloc(1, 65528);
    assert_non_null(big);
    WSABUF bb = {65528, big};
    WSAMSG bmsg = {(LPSOCKADDR)&peer, sizeof(peer), &bb, 1, {0, NULL}, 0};
    assert_int_equal(WSASendMsg(s, &bmsg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEMSGSIZE);
    int mx = 0, ml = sizeof(mx);
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_MAX_MSG_SIZE, (char *)&mx, &ml), 0);
    assert_int_equal(mx, 65527);
    free(big);

    char got[64];
    assert_int_equal(lk_udp6_recv(l.kfd, got, sizeof(got), 300, NULL, NULL), -ETIMEDOUT);
    assert_int_equal(lab_stack_cnt(&l.ls, "Udp6OutDatagrams"), 0);
    assert_int_equal(closesocket(s), 0);
    lab_down(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winsock6_send_modes_pktinfo),
        cmocka_unit_test(test_winsock6_recvmsg_pktinfo),
        cmocka_unit_test(test_winsock6_dual_stack_in_pktinfo),
        cmocka_unit_test(test_winsock6_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
