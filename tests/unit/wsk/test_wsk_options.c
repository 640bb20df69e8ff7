/* SPDX-License-Identifier: MIT */
/*
 * WskControlSocket options (WSK-SPEC 5.11): defaults, exact set/get of
 * every supported option, range errors, USO/URO probes on basic and
 * datagram sockets, SO_REUSEADDR / SO_EXCLUSIVEADDRUSE at bind time,
 * IP_UNICAST_IF, and the effect on the wire: TTL, TOS, DF, per-datagram
 * IP_TOS / IP_ECN cmsgs, SO_BROADCAST; and the receive cmsgs IP_TOS,
 * IP_ECN, IP_HOPLIMIT next to IP_PKTINFO.
 */
#include "wsk_test_dgram.h"

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

static ULONG get(PWSK_SOCKET s, ULONG level, ULONG code)
{
    ULONG v;
    assert_int_equal(wt_getopt(s, level, code, &v), STATUS_SUCCESS);
    return v;
}

static NTSTATUS send1(PWSK_SOCKET s, uint32_t ip, uint16_t port, const char *txt, void *ctl,
                      ULONG ctl_len)
{
    PMDL m = wt_mdl((void *)txt, (ULONG)strlen(txt));
    WSK_BUF b = {m, 0, strlen(txt)};
    SOCKADDR_IN to;
    wt_sin(&to, ip, port);
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, ctl_len, (PCMSGHDR)ctl, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    wt_irp_fini(&w);
    IoFreeMdl(m);
    return st;
}

static void test_defaults_and_roundtrip(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(get(s, IPPROTO_IP, IP_TTL), 64);
    assert_int_equal(get(s, IPPROTO_IP, IP_TOS), 0);
    assert_int_equal(get(s, IPPROTO_IP, IP_DONTFRAGMENT), 0);
    assert_int_equal(get(s, IPPROTO_IP, IP_UNICAST_IF), 0);
    assert_int_equal(get(s, SOL_SOCKET, SO_BROADCAST), 0);
    assert_int_equal(get(s, SOL_SOCKET, SO_RCVBUF), 256 * 1024);
    assert_int_equal(get(s, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    assert_int_equal(get(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 64);

    static const struct {
        ULONG level, code, v;
    } bools[] = {
        {SOL_SOCKET, SO_BROADCAST, 1},     {IPPROTO_IP, IP_PKTINFO, 1},
        {IPPROTO_IP, IP_RECVTOS, 1},       {IPPROTO_IP, IP_ECN, 1},
        {IPPROTO_IP, IP_HOPLIMIT, 1},      {IPPROTO_IP, IP_RECVERR, 1},
        {IPPROTO_IP, IP_DONTFRAGMENT, 1},  {IPPROTO_IPV6, IPV6_PKTINFO, 1},
        {IPPROTO_IPV6, IPV6_RECVTCLASS, 1}, {IPPROTO_IPV6, IPV6_ECN, 1},
        {IPPROTO_IPV6, IPV6_HOPLIMIT, 1},  {IPPROTO_IPV6, IPV6_RECVERR, 1},
        {IPPROTO_IPV6, IPV6_DONTFRAG, 1},  {SOL_SOCKET, SO_REUSEADDR, 1},
    };
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        assert_int_equal(get(s, bools[i].level, bools[i].code), 0);
        assert_int_equal(wt_setopt(s, bools[i].level, bools[i].code, 7), STATUS_SUCCESS);
        assert_int_equal(get(s, bools[i].level, bools[i].code), 1); /* any non-zero: on */
        assert_int_equal(wt_setopt(s, bools[i].level, bools[i].code, 0), STATUS_SUCCESS);
        assert_int_equal(get(s, bools[i].level, bools[i].code), 0);
    }
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0), STATUS_SUCCESS);
    assert_int_equal(get(s, IPPROTO_IPV6, IPV6_V6ONLY), 0);
    /* ranges */
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TTL, 255), STATUS_SUCCESS);
    assert_int_equal(get(s, IPPROTO_IP, IP_TTL), 255);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TTL, 0), STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TTL, 256), STATUS_INVALID_PARAMETER);
    assert_int_equal(get(s, IPPROTO_IP, IP_TTL), 255);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TOS, 0xfc), STATUS_SUCCESS);
    assert_int_equal(get(s, IPPROTO_IP, IP_TOS), 0xfc);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TOS, 256), STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_TCLASS, 0x20), STATUS_SUCCESS);
    assert_int_equal(get(s, IPPROTO_IPV6, IPV6_TCLASS), 0x20);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9), STATUS_SUCCESS);
    assert_int_equal(get(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 9);
    assert_int_equal(wt_setopt(s, SOL_SOCKET, SO_RCVBUF, 0x80000000u), STATUS_INVALID_PARAMETER);
    /* IP_UNICAST_IF: network byte order (Winsock); IPV6_UNICAST_IF: host */
    ULONG ifx = stack_ifindex(T.st), net = 0;
    wt_be32((uint8_t *)&net, ifx);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_UNICAST_IF, net), STATUS_SUCCESS);
    assert_int_equal(get(s, IPPROTO_IP, IP_UNICAST_IF), net);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_UNICAST_IF, net + 0x01000000u),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_UNICAST_IF, ifx), STATUS_SUCCESS);
    assert_int_equal(get(s, IPPROTO_IPV6, IPV6_UNICAST_IF), ifx);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_UNICAST_IF, ifx + 1),
                     STATUS_INVALID_PARAMETER);
    /* not supported: USO/URO, others */
    ULONG v;
    assert_int_equal(wt_getopt(s, IPPROTO_UDP, UDP_SEND_MSG_SIZE, &v), STATUS_NOT_SUPPORTED);
    assert_int_equal(wt_getopt(s, IPPROTO_UDP, UDP_RECV_MAX_COALESCED_SIZE, &v),
                     STATUS_NOT_SUPPORTED);
    assert_int_equal(wt_setopt(s, IPPROTO_UDP, UDP_RECV_MAX_COALESCED_SIZE, 65527),
                     STATUS_NOT_SUPPORTED);
    assert_int_equal(wt_setopt(s, SOL_SOCKET, 0x0008 /* SO_KEEPALIVE */, 1),
                     STATUS_NOT_SUPPORTED);
    assert_int_equal(wt_getopt(s, IPPROTO_IP, 9 /* IP_MULTICAST_IF */, &v), STATUS_NOT_SUPPORTED);
    /* short input, short output */
    USHORT small = 1;
    assert_int_equal(wt_dg(s)->WskControlSocket(s, WskSetOption, IP_TTL, IPPROTO_IP, 2, &small, 0,
                                                NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
    SIZE_T got = 9;
    assert_int_equal(wt_dg(s)->WskControlSocket(s, WskGetOption, IP_TTL, IPPROTO_IP, 0, NULL, 2,
                                                &small, &got, NULL),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(got, 0);
    wt_close(s);
}

static void test_basic_socket_answers(void **state)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = T.npi.Dispatch->WskSocket(T.npi.Client, AF_INET6, SOCK_DGRAM, IPPROTO_UDP,
                                           WSK_FLAG_BASIC_SOCKET, NULL, NULL, NULL, NULL, NULL,
                                           w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    PWSK_SOCKET b = (PWSK_SOCKET)w.info;
    const WSK_PROVIDER_BASIC_DISPATCH *bd = b->Dispatch;
    ULONG v = 0;
    SIZE_T got = 0;
    assert_int_equal(bd->WskControlSocket(b, WskGetOption, IPV6_V6ONLY, IPPROTO_IPV6, 0, NULL,
                                          sizeof(v), &v, &got, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(v, 1);
    assert_int_equal(got, 4);
    v = 0;
    assert_int_equal(bd->WskControlSocket(b, WskSetOption, IPV6_V6ONLY, IPPROTO_IPV6, sizeof(v),
                                          &v, 0, NULL, NULL, NULL),
                     STATUS_SUCCESS);
    v = 5;
    assert_int_equal(bd->WskControlSocket(b, WskGetOption, IPV6_V6ONLY, IPPROTO_IPV6, 0, NULL,
                                          sizeof(v), &v, &got, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(v, 0);
    /* MsQuic's USO / URO probes fail cleanly */
    assert_int_equal(bd->WskControlSocket(b, WskGetOption, UDP_SEND_MSG_SIZE, IPPROTO_UDP, 0, NULL,
                                          sizeof(v), &v, &got, NULL),
                     STATUS_NOT_SUPPORTED);
    assert_int_equal(got, 0);
    assert_int_equal(bd->WskControlSocket(b, WskGetOption, UDP_RECV_MAX_COALESCED_SIZE,
                                          IPPROTO_UDP, 0, NULL, sizeof(v), &v, &got, NULL),
                     STATUS_NOT_SUPPORTED);
    wt_irp_reuse(&w);
    assert_int_equal(bd->WskCloseSocket(b, w.irp), STATUS_SUCCESS);
    wt_irp_fini(&w);
}

static void test_reuseaddr_exclusive(void **state)
{
    PWSK_SOCKET a = wt_socket(&T), b = wt_socket(&T), c = wt_socket(&T);
    assert_int_equal(wt_setopt(a, SOL_SOCKET, SO_REUSEADDR, 1), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(b, SOL_SOCKET, SO_REUSEADDR, 1), STATUS_SUCCESS);
    assert_int_equal(wt_bind(a, WT_OUR_IP1, 6300), STATUS_SUCCESS);
    assert_int_equal(wt_bind(b, WT_OUR_IP1, 6300), STATUS_SUCCESS);
    assert_int_equal(wt_bind(c, WT_OUR_IP1, 6300), STATUS_ADDRESS_ALREADY_ASSOCIATED);
    /* after bind: too late */
    assert_int_equal(wt_setopt(a, SOL_SOCKET, SO_REUSEADDR, 0), STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(get(a, SOL_SOCKET, SO_REUSEADDR), 1);
    /* exclusive: no sharing even with the wildcard */
    PWSK_SOCKET d = wt_socket(&T), e = wt_socket(&T);
    assert_int_equal(wt_setopt(d, SOL_SOCKET, (ULONG)SO_EXCLUSIVEADDRUSE, 1), STATUS_SUCCESS);
    assert_int_equal(get(d, SOL_SOCKET, (ULONG)SO_EXCLUSIVEADDRUSE), 1);
    assert_int_equal(wt_setopt(d, SOL_SOCKET, SO_REUSEADDR, 1), STATUS_INVALID_PARAMETER);
    assert_int_equal(wt_bind(d, WT_OUR_IP1, 6301), STATUS_SUCCESS);
    assert_int_equal(wt_bind(e, 0, 6301), STATUS_ADDRESS_ALREADY_ASSOCIATED);
    wt_close(a);
    wt_close(b);
    wt_close(c);
    wt_close(d);
    wt_close(e);
}

static void test_wire_ttl_tos_df(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6302), STATUS_SUCCESS);
    assert_int_equal(send1(s, WT_PEER_IP, 7302, "dflt", NULL, 0), STATUS_SUCCESS);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6302, 7302, "dflt", 4, 0, 64, false);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TTL, 7), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TOS, 0x2e), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_DONTFRAGMENT, 1), STATUS_SUCCESS);
    assert_int_equal(send1(s, WT_PEER_IP, 7302, "opts", NULL, 0), STATUS_SUCCESS);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6302, 7302, "opts", 4, 0x2e, 7, true);
    /* per-datagram cmsgs: IP_TOS replaces, IP_ECN sets the low bits */
    uint8_t ctl[48];
    wt_int_cmsg(ctl, IPPROTO_IP, IP_TOS, 0x80);
    assert_int_equal(send1(s, WT_PEER_IP, 7302, "ctos", ctl, 24), STATUS_SUCCESS);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6302, 7302, "ctos", 4, 0x80, 7, true);
    wt_int_cmsg(ctl, IPPROTO_IP, IP_ECN, 3);
    assert_int_equal(send1(s, WT_PEER_IP, 7302, "cecn", ctl, 24), STATUS_SUCCESS);
    wt_expect_udp(&T, WT_OUR_IP1, WT_PEER_IP, 6302, 7302, "cecn", 4, 0x2f, 7, true);
    wt_int_cmsg(ctl, IPPROTO_IP, IP_TOS, 300);
    assert_int_equal(send1(s, WT_PEER_IP, 7302, "bad", ctl, 24), STATUS_INVALID_PARAMETER);
    /* DF with a datagram bigger than the MTU: refused */
    static char big[1600];
    memset(big, 'z', sizeof(big) - 1);
    assert_int_equal(send1(s, WT_PEER_IP, 7302, big, NULL, 0), STATUS_INVALID_BUFFER_SIZE);
    uint8_t f[64];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 50), -1);
    wt_close(s);
}

static void test_broadcast_needs_so_broadcast(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6303), STATUS_SUCCESS);
    assert_int_equal(send1(s, 0xC00002FFu, 7303, "bc", NULL, 0), STATUS_ACCESS_DENIED);
    assert_int_equal(send1(s, 0xFFFFFFFFu, 7303, "bc", NULL, 0), STATUS_ACCESS_DENIED);
    uint8_t f[128];
    assert_int_equal(wt_pop(&T, f, sizeof(f), 50), -1);
    assert_int_equal(wt_setopt(s, SOL_SOCKET, SO_BROADCAST, 1), STATUS_SUCCESS);
    assert_int_equal(send1(s, 0xC00002FFu, 7303, "bc", NULL, 0), STATUS_SUCCESS);
    assert_int_equal(wt_pop(&T, f, sizeof(f), 1000), 44);
    static const uint8_t bmac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_memory_equal(f, bmac, 6);
    assert_int_equal(f[14 + 16], 192);
    assert_int_equal(f[14 + 19], 255);
    wt_close(s);
}

/* A datagram with the given TTL and TOS from the peer. */
static void inject_ttl_tos(uint16_t dport, uint8_t ttl, uint8_t tos)
{
    uint8_t fr[128];
    size_t n = wt_udp_frame(fr, wt_our_mac, wt_peer_mac, WT_PEER_IP, WT_OUR_IP1, 4000, dport,
                            "tt", 2, 0x4321, ttl);
    fr[15] = tos;
    fr[24] = fr[25] = 0;
    wt_be16(fr + 24, wt_csum(fr + 14, 20, 0));
    while (n < 60)
        fr[n++] = 0;
    assert_int_equal(memdev_inject(T.dev, fr, n), 0);
}

static void int_cmsg_want(uint8_t *want, INT type, INT v)
{
    wt_int_cmsg(want, IPPROTO_IP, type, v);
}

static void test_receive_cmsgs(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 6304), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_RECVTOS, 1), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_ECN, 1), STATUS_SUCCESS);
    struct wt_rx rx;
    assert_int_equal(wt_rx_start(s, &rx, 100, 64), STATUS_PENDING);
    inject_ttl_tos(6304, 33, 0x8a);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.w.info, 2);
    assert_int_equal(rx.ctl_len, 48);
    assert_int_equal(rx.flags, 0);
    uint8_t want[96];
    int_cmsg_want(want, IP_TOS, 0x8a);
    int_cmsg_want(want + 24, IP_ECN, 2);
    assert_memory_equal(rx.ctl, want, 48);
    wt_rx_fini(&rx);
    /* all four: only PKTINFO + TOS fit in 64 bytes -> MSG_CTRUNC */
    assert_int_equal(wt_set_pktinfo(s, 1), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_HOPLIMIT, 1), STATUS_SUCCESS);
    assert_int_equal(wt_rx_start(s, &rx, 100, 64), STATUS_PENDING);
    inject_ttl_tos(6304, 33, 0x8a);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.ctl_len, 48);
    assert_int_equal(rx.flags, MSG_CTRUNC);
    int_cmsg_want(want + 24, IP_TOS, 0x8a);
    assert_memory_equal(((uint8_t *)rx.ctl) + 24, want + 24, 24);
    wt_rx_fini(&rx);
    /* TTL alone */
    assert_int_equal(wt_set_pktinfo(s, 0), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_RECVTOS, 0), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_ECN, 0), STATUS_SUCCESS);
    assert_int_equal(wt_rx_start(s, &rx, 100, 64), STATUS_PENDING);
    inject_ttl_tos(6304, 33, 0x8a);
    assert_true(wt_irp_wait(&rx.w, 3000));
    assert_int_equal(rx.ctl_len, 24);
    assert_int_equal(rx.flags, 0);
    int_cmsg_want(want, IP_HOPLIMIT, 33);
    assert_memory_equal(rx.ctl, want, 24);
    wt_rx_fini(&rx);
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_and_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_socket_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuseaddr_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_ttl_tos_df, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_needs_so_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_cmsgs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
