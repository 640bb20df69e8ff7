/* SPDX-License-Identifier: MIT */
/*
 * ws_test.h - fixture of the user-mode Winsock unit tests: the memdev stack
 * of tests/unit/wsk/wsk_test.h (us 192.0.2.1 + .2, peer 192.0.2.10 with a
 * static ARP entry) with Winsock bound to it (WsksWinsockUseStack +
 * WSAStartup), and frame helpers.
 */
#ifndef WSS_WS_TEST_H
#define WSS_WS_TEST_H

#include "../wsk/wsk_test.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>

#include "wskstack_winsock.h"

static struct wt ws_t;

static int ws_setup(void **state)
{
    (void)state;
    wt_stack_up(&ws_t, WT_CONFIG);
    struct ip_addr peer = ip4(WT_PEER_IP);
    assert_int_equal(stack_neigh_add_static(ws_t.st, &peer, wt_peer_mac), 0);
    assert_int_equal(WsksWinsockUseStack(ws_t.st), 0);
    WSADATA wd;
    assert_int_equal(WSAStartup(MAKEWORD(2, 2), &wd), 0);
    assert_int_equal(wd.wVersion, MAKEWORD(2, 2));
    return 0;
}

static int ws_teardown(void **state)
{
    (void)state;
    assert_int_equal(WSACleanup(), 0);
    assert_int_equal(WsksWinsockUseStack(NULL), 0);
    wskstack_destroy(ws_t.st);
    return 0;
}

static inline SOCKADDR_IN ws_sin(const char *ip, USHORT port)
{
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static inline SOCKET ws_bound(const char *ip, USHORT port)
{
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    assert_true(s != INVALID_SOCKET);
    SOCKADDR_IN a = ws_sin(ip, port);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    return s;
}

static inline uint32_t wsk_be32_t(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* A UDP frame the stack sent. */
struct ws_frame {
    long len;
    uint32_t src, dst;
    uint16_t sport, dport;
    size_t plen;
    uint8_t *payload;
    uint8_t raw[70000];
};

static inline bool ws_pop_udp(struct ws_frame *f, unsigned timeout_ms)
{
    for (;;) {
        f->len = wt_pop(&ws_t, f->raw, sizeof(f->raw), timeout_ms);
        if (f->len < 0)
            return false;
        if (f->len >= 42 && f->raw[12] == 0x08 && f->raw[13] == 0x00 && f->raw[23] == 17)
            break; /* skip ARP and others */
    }
    f->src = wsk_be32_t(f->raw + 26);
    f->dst = wsk_be32_t(f->raw + 30);
    f->sport = (uint16_t)(f->raw[34] << 8 | f->raw[35]);
    f->dport = (uint16_t)(f->raw[36] << 8 | f->raw[37]);
    f->plen = (size_t)((f->raw[38] << 8 | f->raw[39]) - 8);
    f->payload = f->raw + 42;
    return true;
}

#endif /* WSS_WS_TEST_H */
