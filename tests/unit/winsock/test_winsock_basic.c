/* SPDX-License-Identifier: MIT */
/*
 * User-mode Winsock on a memdev stack: startup, byte order, inet_pton/ntop,
 * options, sendto/recvfrom, blocking WSASendMsg (IN_PKTINFO source) and
 * every listed WSASendMsg error, WSARecvMsg with IP_PKTINFO, non-blocking
 * receive.
 */
#include "ws_test.h"

static void test_not_initialised(void **state)
{
    (void)state;
    /* runs before the group setup */
}

static void test_byte_order_and_text(void **state)
{
    (void)state;
    uint8_t b[4];
    u_short sv = htons(0x1234);
    memcpy(b, &sv, 2);
    assert_int_equal(b[0], 0x12);
    assert_int_equal(b[1], 0x34);
    u_long v = htonl(0x01020304);
    memcpy(b, &v, 4);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[3], 4);
    assert_int_equal(ntohl(htonl(0xdeadbeef)), 0xdeadbeef);
    assert_int_equal(ntohs(htons(0xbeef)), 0xbeef);

    IN_ADDR a4;
    IN6_ADDR a6;
    char txt[INET6_ADDRSTRLEN];
    assert_int_equal(inet_pton(AF_INET, "192.0.2.33", &a4), 1);
    assert_int_equal(a4.S_un.S_un_b.s_b1, 192);
    assert_int_equal(a4.S_un.S_un_b.s_b4, 33);
    assert_int_equal(inet_pton(AF_INET, "192.0.2.256", &a4), 0);
    assert_int_equal(inet_pton(AF_INET, "192.0.2", &a4), 0);
    assert_int_equal(inet_pton(10 /* Linux AF_INET6 */, "::1", &a6), -1);
    assert_int_equal(WSAGetLastError(), WSAEAFNOSUPPORT);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1:0:0:7", &a6), 1);
    assert_string_equal(inet_ntop(AF_INET6, &a6, txt, sizeof(txt)), "2001:db8::1:0:0:7");
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1", &a6), 1);
    assert_string_equal(inet_ntop(AF_INET6, &a6, txt, sizeof(txt)), "::ffff:192.0.2.1");
    assert_int_equal(inet_pton(AF_INET6, "fe80::1::2", &a6), 0);
    assert_string_equal(inet_ntop(AF_INET, &a4, txt, sizeof(txt)), "192.0.2.33");
    assert_null(inet_ntop(AF_INET, &a4, txt, 5));
    assert_int_equal(WSAGetLastError(), WSAEINVAL);
}

static void *other_thread_error(void *arg)
{
    (void)arg;
    WSASetLastError(WSAEACCES);
    return (void *)(intptr_t)WSAGetLastError();
}

static void test_last_error_per_thread(void **state)
{
    (void)state;
    WSASetLastError(WSAEMSGSIZE);
    pthread_t th;
    void *ret;
    pthread_create(&th, NULL, other_thread_error, NULL);
    pthread_join(th, &ret);
    assert_int_equal((intptr_t)ret, WSAEACCES);
    assert_int_equal(WSAGetLastError(), WSAEMSGSIZE);
    assert_int_equal(GetLastError(), WSAEMSGSIZE);
}

static void test_socket_and_options(void **state)
{
    (void)state;
    assert_true(socket(AF_INET, SOCK_STREAM, 0) == INVALID_SOCKET);
    assert_int_equal(WSAGetLastError(), WSAESOCKTNOSUPPORT);
    SOCKET s6 = socket(AF_INET6, SOCK_DGRAM, 0); /* an AF_INET6 WSK datagram socket */
    assert_true(s6 != INVALID_SOCKET);
    assert_int_equal(closesocket(s6), 0);
    SOCKET s = WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_OVERLAPPED);
    assert_true(s != INVALID_SOCKET);
    DWORD v = 0;
    int len = sizeof(v);
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_MAX_MSG_SIZE, (char *)&v, &len), 0);
    assert_int_equal(v, 65507);
    assert_int_equal(len, 4);
    v = 1234;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (char *)&v, sizeof(v)), 0);
    v = 0;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (char *)&v, &len), 0);
    assert_int_equal(v, 1234);
    v = 1;
    assert_int_equal(setsockopt(s, IPPROTO_IP, IP_PKTINFO, (char *)&v, sizeof(v)), 0);
    v = 0;
    assert_int_equal(getsockopt(s, IPPROTO_IP, IP_PKTINFO, (char *)&v, &len), 0);
    assert_int_equal(v, 1);
    v = 65536;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVBUF, (char *)&v, sizeof(v)), 0);
    v = 0;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_RCVBUF, (char *)&v, &len), 0);
    assert_int_equal(v, 65536);
    v = 1;
    assert_int_equal(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&v, sizeof(v)), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEINVAL);
    assert_int_equal(setsockopt(s, IPPROTO_IPV6, IPV6_PKTINFO, (char *)&v, sizeof(v)), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEINVAL);
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_MAX_MSG_SIZE, (char *)&v, sizeof(v)), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAENOPROTOOPT);
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, NULL, 4), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEFAULT);

    /* getsockname: unbound, then bound */
    SOCKADDR_IN a;
    len = sizeof(a);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEINVAL);
    SOCKADDR_IN b = ws_sin("192.0.2.1", 0);
    assert_int_equal(bind(s, (struct sockaddr *)&b, sizeof(b)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    assert_int_equal(len, sizeof(SOCKADDR_IN));
    assert_int_equal(a.sin_family, AF_INET);
    assert_true(ntohs(a.sin_port) != 0);
    assert_int_equal(bind(s, (struct sockaddr *)&b, sizeof(b)), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEINVAL); /* already bound */

    /* extension functions */
    GUID g1 = WSAID_WSASENDMSG, g2 = WSAID_WSARECVMSG, g3 = {1, 2, 3, {4}};
    LPFN_WSASENDMSG fsend = NULL;
    LPFN_WSARECVMSG frecv = NULL;
    DWORD got = 0;
    assert_int_equal(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g1, sizeof(g1), &fsend,
                              sizeof(fsend), &got, NULL, NULL), 0);
    assert_int_equal(got, sizeof(void *));
    assert_true(fsend == WSASendMsg);
    assert_int_equal(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g2, sizeof(g2), &frecv,
                              sizeof(frecv), &got, NULL, NULL), 0);
    assert_non_null(frecv);
    assert_int_equal(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g3, sizeof(g3), &frecv,
                              sizeof(frecv), &got, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEINVAL);

    assert_int_equal(closesocket(s), 0);
    assert_int_equal(closesocket(s), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAENOTSOCK);
}

static void test_sendto_recvfrom(void **state)
{
    (void)state;
    SOCKET s = ws_bound("192.0.2.1", 5000);
    SOCKADDR_IN peer = ws_sin("192.0.2.10", 6000);
    assert_int_equal(sendto(s, "hello", 5, 0, (struct sockaddr *)&peer, sizeof(peer)), 5);
    static struct ws_frame f;
    assert_true(ws_pop_udp(&f, 2000));
    assert_int_equal(f.src, WT_OUR_IP1);
    assert_int_equal(f.dst, WT_PEER_IP);
    assert_int_equal(f.sport, 5000);
    assert_int_equal(f.dport, 6000);
    assert_int_equal(f.plen, 5);
    assert_memory_equal(f.payload, "hello", 5);

    wt_inject_udp(&ws_t, WT_PEER_IP, WT_OUR_IP1, 6000, 5000, "world!", 6);
    char buf[64];
    SOCKADDR_IN from;
    int fl = sizeof(from);
    assert_int_equal(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 6);
    assert_memory_equal(buf, "world!", 6);
    assert_int_equal(fl, sizeof(SOCKADDR_IN));
    assert_int_equal(ntohs(from.sin_port), 6000);
    assert_int_equal(ntohl(from.sin_addr.s_addr), WT_PEER_IP);

    /* truncated: WSAEMSGSIZE, the bytes that fit */
    wt_inject_udp(&ws_t, WT_PEER_IP, WT_OUR_IP1, 6000, 5000, "0123456789", 10);
    assert_int_equal(recvfrom(s, buf, 4, 0, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEMSGSIZE);
    assert_memory_equal(buf, "0123", 4);

    /* non-blocking receive with nothing queued */
    u_long nb = 1;
    assert_int_equal(ioctlsocket(s, FIONBIO, &nb), 0);
    assert_int_equal(recvfrom(s, buf, sizeof(buf), 0, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEWOULDBLOCK);
    /* ... then a datagram is there */
    wt_inject_udp(&ws_t, WT_PEER_IP, WT_OUR_IP1, 6000, 5000, "later", 5);
    int n = SOCKET_ERROR;
    for (int i = 0; i < 2000 && n == SOCKET_ERROR; i++) {
        n = recvfrom(s, buf, sizeof(buf), 0, NULL, NULL);
        if (n == SOCKET_ERROR) {
            assert_int_equal(WSAGetLastError(), WSAEWOULDBLOCK);
            wt_sleep_ms(1);
        }
    }
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "later", 5);
    /* SO_RCVTIMEO on a blocking socket */
    nb = 0;
    assert_int_equal(ioctlsocket(s, FIONBIO, &nb), 0);
    DWORD to = 200;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (char *)&to, sizeof(to)), 0);
    uint64_t t0 = wt_now_ms();
    assert_int_equal(recvfrom(s, buf, sizeof(buf), 0, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAETIMEDOUT);
    assert_true(wt_now_ms() - t0 >= 200);

    /* sendto on an unbound socket binds it implicitly */
    SOCKET u = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(sendto(u, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer)), 1);
    assert_true(ws_pop_udp(&f, 2000));
    SOCKADDR_IN me;
    int ml = sizeof(me);
    assert_int_equal(getsockname(u, (struct sockaddr *)&me, &ml), 0);
    assert_int_equal(f.sport, ntohs(me.sin_port));
    assert_int_equal(closesocket(u), 0);
    assert_int_equal(closesocket(s), 0);
}

static void test_sendmsg_blocking_pktinfo(void **state)
{
    (void)state;
    SOCKET s = ws_bound("0.0.0.0", 5001);
    SOCKADDR_IN peer = ws_sin("192.0.2.10", 6001);
    char p1[] = "ab", p2[] = "cdef";
    WSABUF bufs[2] = {{2, p1}, {4, p2}};
    union {
        WSACMSGHDR h;
        uint8_t b[WSA_CMSG_SPACE(sizeof(IN_PKTINFO))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    WSACMSGHDR *c = &ctl.h;
    c->cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    IN_PKTINFO pi;
    memset(&pi, 0, sizeof(pi));
    assert_int_equal(inet_pton(AF_INET, "192.0.2.2", &pi.ipi_addr), 1);
    memcpy(WSA_CMSG_DATA(c), &pi, sizeof(pi));
    WSAMSG msg = {(LPSOCKADDR)&peer, sizeof(peer), bufs, 2, {sizeof(ctl), (CHAR *)&ctl}, 0};
    DWORD sent = 0;
    assert_int_equal(WSASendMsg(s, &msg, MSG_DONTROUTE, &sent, NULL, NULL), 0);
    assert_int_equal(sent, 6);
    static struct ws_frame f;
    assert_true(ws_pop_udp(&f, 2000));
    assert_int_equal(f.src, WT_OUR_IP2);
    assert_int_equal(f.sport, 5001);
    assert_int_equal(f.plen, 6);
    assert_memory_equal(f.payload, "abcdef", 6);
    /* without control data: the route's source (the first address) */
    msg.Control.len = 0;
    msg.Control.buf = NULL;
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), 0);
    assert_true(ws_pop_udp(&f, 2000));
    assert_int_equal(f.src, WT_OUR_IP1);
    assert_int_equal(closesocket(s), 0);
}

/* Every listed WSASendMsg error; none of them transmits anything. */
static void test_sendmsg_errors(void **state)
{
    (void)state;
    static struct ws_frame f;
    int64_t out0 = wt_counter(&ws_t, "UdpOutDatagrams");
    SOCKET s = socket(AF_INET, SOCK_DGRAM, 0);
    SOCKADDR_IN peer = ws_sin("192.0.2.10", 6002);
    char data[16] = "x";
    WSABUF b = {1, data};
    WSAMSG msg = {(LPSOCKADDR)&peer, sizeof(peer), &b, 1, {0, NULL}, 0};
    DWORD sent = 77;

    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEINVAL); /* unbound */
    SOCKADDR_IN me = ws_sin("192.0.2.1", 5002);
    assert_int_equal(bind(s, (struct sockaddr *)&me, sizeof(me)), 0);

    assert_int_equal(WSASendMsg(s, &msg, MSG_PARTIAL, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEOPNOTSUPP);
    assert_int_equal(WSASendMsg(s, &msg, MSG_OOB, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEOPNOTSUPP);

    msg.name = NULL; /* namelen still 16 */
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEFAULT);
    msg.name = (LPSOCKADDR)&peer;
    msg.Control.len = 24;
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEFAULT);
    msg.Control.len = 0;
    assert_int_equal(WSASendMsg(s, NULL, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEFAULT);
    assert_int_equal(WSASendMsg(s, &msg, 0, NULL, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEFAULT);

    static char big[65508];
    WSABUF bb = {sizeof(big), big};
    msg.lpBuffers = &bb;
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEMSGSIZE);
    msg.lpBuffers = &b;

    SOCKADDR_IN far = ws_sin("203.0.113.9", 9);
    msg.name = (LPSOCKADDR)&far;
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAENETUNREACH);

    SOCKADDR_IN bc = ws_sin("192.0.2.255", 9);
    msg.name = (LPSOCKADDR)&bc;
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAEACCES);
    msg.name = (LPSOCKADDR)&peer;

    assert_int_equal(WSASendMsg((SOCKET)0x4444, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAENOTSOCK);

    assert_int_equal(shutdown(s, SD_SEND), 0);
    assert_int_equal(WSASendMsg(s, &msg, 0, &sent, NULL, NULL), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSAESHUTDOWN);
    assert_int_equal(sent, 77); /* never touched */

    assert_false(ws_pop_udp(&f, 50));
    assert_int_equal(wt_counter(&ws_t, "UdpOutDatagrams"), out0);
    assert_int_equal(closesocket(s), 0);
}

static void test_recvmsg_pktinfo(void **state)
{
    (void)state;
    SOCKET s = ws_bound("0.0.0.0", 5003);
    DWORD on = 1;
    assert_int_equal(setsockopt(s, IPPROTO_IP, IP_PKTINFO, (char *)&on, sizeof(on)), 0);
    GUID g = WSAID_WSARECVMSG;
    LPFN_WSARECVMSG WSARecvMsg = NULL;
    DWORD got = 0;
    assert_int_equal(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof(g), &WSARecvMsg,
                              sizeof(WSARecvMsg), &got, NULL, NULL), 0);
    wt_inject_udp(&ws_t, WT_PEER_IP, WT_OUR_IP2, 7000, 5003, "pkt", 3);
    char data[32];
    WSABUF b = {sizeof(data), data};
    SOCKADDR_IN from;
    uint64_t ctl[8];
    memset(ctl, 0xaa, sizeof(ctl));
    WSAMSG msg = {(LPSOCKADDR)&from, sizeof(from), &b, 1, {sizeof(ctl), (CHAR *)ctl}, 0};
    assert_int_equal(WSARecvMsg(s, &msg, &got, NULL, NULL), 0);
    assert_int_equal(got, 3);
    assert_memory_equal(data, "pkt", 3);
    assert_int_equal(ntohl(from.sin_addr.s_addr), WT_PEER_IP);
    assert_int_equal(ntohs(from.sin_port), 7000);
    assert_int_equal(msg.Control.len, WSA_CMSG_SPACE(sizeof(IN_PKTINFO)));
    assert_int_equal(msg.dwFlags, 0);
    WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&msg);
    assert_non_null(c);
    assert_int_equal(c->cmsg_level, IPPROTO_IP);
    assert_int_equal(c->cmsg_type, IP_PKTINFO);
    assert_int_equal(c->cmsg_len, WSA_CMSG_LEN(sizeof(IN_PKTINFO)));
    IN_PKTINFO pi;
    memcpy(&pi, WSA_CMSG_DATA(c), sizeof(pi));
    assert_int_equal(ntohl(pi.ipi_addr.s_addr), WT_OUR_IP2);
    assert_int_equal(closesocket(s), 0);
}

static int before_startup(void **state)
{
    (void)state;
    assert_true(socket(AF_INET, SOCK_DGRAM, 0) == INVALID_SOCKET);
    assert_int_equal(WSAGetLastError(), WSANOTINITIALISED);
    assert_int_equal(WSACleanup(), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSANOTINITIALISED);
    assert_int_equal(closesocket(0x100), SOCKET_ERROR);
    assert_int_equal(WSAGetLastError(), WSANOTINITIALISED);
    return ws_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_initialised),
        cmocka_unit_test(test_byte_order_and_text),
        cmocka_unit_test(test_last_error_per_thread),
        cmocka_unit_test(test_socket_and_options),
        cmocka_unit_test(test_sendto_recvfrom),
        cmocka_unit_test(test_sendmsg_blocking_pktinfo),
        cmocka_unit_test(test_sendmsg_errors),
        cmocka_unit_test(test_recvmsg_pktinfo),
    };
    return cmocka_run_group_tests(tests, before_startup, ws_teardown);
}
