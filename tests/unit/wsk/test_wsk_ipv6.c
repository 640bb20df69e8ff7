/* SPDX-License-Identifier: MIT */
/*
 * AF_INET6 datagram sockets (issue 4) on a memdev stack with 2001:db8::1/64
 * (DAD done before the tests) and 192.0.2.1/24; peer 2001:db8::2 and
 * 192.0.2.10 are static neighbours (02:00:00:00:00:0a).
 *  - WskSocket AF_INET6 (23 and Linux's 10); IPV6_V6ONLY defaults to 1 and
 *    a V6-only socket does not see IPv4; V6ONLY after bind refused;
 *  - WskSendTo: exact IPv6/UDP frame with IPV6_UNICAST_HOPS/IPV6_TCLASS,
 *    IN6_PKTINFO source (ours -> used, not ours -> STATUS_INVALID_ADDRESS),
 *    link-local with a foreign sin6_scope_id -> STATUS_INVALID_ADDRESS;
 *  - WskReceiveFrom: SOCKADDR_IN6 and the IN6_PKTINFO cmsg (cmsg_len 36),
 *    link-local source with sin6_scope_id = ifindex;
 *  - dual stack: IPv4 reported as ::ffff:a.b.c.d with IN_PKTINFO, sends to
 *    ::ffff:a.b.c.d leave as IPv4;
 *  - 65528 bytes -> STATUS_INVALID_BUFFER_SIZE, nothing sent.
 */
#include "wsk_test_dgram.h"

#include "stack/ipv6_impl.h"

static struct wt T;

static const uint8_t OUR6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
static const uint8_t PEER6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x02};
static const uint8_t OTHER6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x99};
static const uint8_t PEER_LL[16] = {0xfe, 0x80, [15] = 0x02};
static const uint8_t OUR_LL[16] = {0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 0x01};

static int setup(void **state)
{
    wt_stack_up(&T, "addr=2001:db8::1/64;addr=192.0.2.1/24;mac=02:00:00:00:00:01");
    addr6_set_seed(T.st, 0);
    addr6_start(T.st, stack_now(T.st));
    uint64_t end = wt_now_ms() + 5000;
    while (!(addr6_is_local(T.st, OUR6, true) && addr6_is_local(T.st, OUR_LL, true))) {
        assert_true(wt_now_ms() < end);
        wt_sleep_ms(10);
    }
    struct ip_addr a = {.af = IPA_V6};
    memcpy(a.v6, PEER6, 16);
    assert_int_equal(stack_neigh_add_static(T.st, &a, wt_peer_mac), 0);
    a = ip4(WT_PEER_IP);
    assert_int_equal(stack_neigh_add_static(T.st, &a, wt_peer_mac), 0);
    WSK_CLIENT_NPI npi = {NULL, &wt_client_dispatch};
    assert_int_equal(WsksRegisterOnStack(T.st, &npi, &T.reg), STATUS_SUCCESS);
    assert_int_equal(WskCaptureProviderNPI(&T.reg, WSK_INFINITE_WAIT, &T.npi), STATUS_SUCCESS);
    uint8_t junk[2048];
    while (memdev_pop_tx(T.dev, junk, sizeof(junk)) >= 0)
        ;
    return 0;
}
static int teardown(void **state)
{
    wt_teardown(&T);
    return 0;
}

/* ---- helpers ---------------------------------------------------------------- */
static PWSK_SOCKET socket6(ADDRESS_FAMILY af)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = T.npi.Dispatch->WskSocket(T.npi.Client, af, SOCK_DGRAM, IPPROTO_UDP,
                                           WSK_FLAG_DATAGRAM_SOCKET, NULL, NULL, NULL, NULL, NULL,
                                           w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(atomic_load(&w.calls), 1);
    PWSK_SOCKET s = (PWSK_SOCKET)w.info;
    assert_non_null(s);
    wt_irp_fini(&w);
    for (int i = 0; i < WT_MAX_SOCKS; i++) {
        if (!wt_open_socks[i]) {
            wt_open_socks[i] = s;
            break;
        }
    }
    return s;
}

static void sin6_set(SOCKADDR_IN6 *a, const uint8_t ip[16], uint16_t port, ULONG scope)
{
    memset(a, 0, sizeof(*a));
    a->sin6_family = AF_INET6;
    wt_be16((uint8_t *)&a->sin6_port, port);
    memcpy(&a->sin6_addr, ip, 16);
    a->sin6_scope_id = scope;
}

static void mapped(uint8_t out[16], uint32_t v4)
{
    memset(out, 0, 16);
    out[10] = out[11] = 0xff;
    wt_be32(out + 12, v4);
}

static NTSTATUS bind6(PWSK_SOCKET s, const uint8_t ip[16], uint16_t port)
{
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN6 a;
    sin6_set(&a, ip, port, 0);
    NTSTATUS r = wt_dg(s)->WskBind(s, (PSOCKADDR)&a, 0, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    wt_irp_fini(&w);
    return st;
}

static NTSTATUS sendto6(PWSK_SOCKET s, const SOCKADDR_IN6 *to, const void *data, ULONG len,
                        const void *ctl, ULONG ctl_len, ULONG_PTR *info)
{
    struct wt_irp w;
    wt_irp_init(&w);
    void *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    PMDL m = len ? wt_mdl(copy, len) : NULL;
    WSK_BUF b = {m, 0, len};
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)to, ctl_len, (PCMSGHDR)ctl, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    *info = w.info;
    wt_irp_fini(&w);
    if (m)
        IoFreeMdl(m);
    free(copy);
    return st;
}

static uint16_t csum6_udp(const uint8_t src[16], const uint8_t dst[16], const uint8_t *u,
                          size_t ulen)
{
    uint32_t sum = 0;
    for (int i = 0; i < 16; i += 2)
        sum += (uint32_t)((src[i] << 8) | src[i + 1]) + (uint32_t)((dst[i] << 8) | dst[i + 1]);
    sum += (uint32_t)ulen + 17;
    uint16_t c = wt_csum(u, ulen, sum);
    return c == 0 ? 0xffff : c;
}

/* Ethernet + IPv6 + UDP, correct checksum. */
static size_t frame6(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
                     const uint8_t src[16], const uint8_t dst[16], uint16_t sport, uint16_t dport,
                     const void *pl, size_t plen, uint8_t hop, uint8_t tclass)
{
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    wt_be16(f + 12, 0x86dd);
    uint8_t *ip = f + 14;
    ip[0] = (uint8_t)(0x60 | (tclass >> 4));
    ip[1] = (uint8_t)((tclass & 0x0f) << 4);
    ip[2] = ip[3] = 0;
    wt_be16(ip + 4, (uint16_t)(8 + plen));
    ip[6] = 17;
    ip[7] = hop;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, dst, 16);
    uint8_t *u = ip + 40;
    wt_be16(u, sport);
    wt_be16(u + 2, dport);
    wt_be16(u + 4, (uint16_t)(8 + plen));
    wt_be16(u + 6, 0);
    memcpy(u + 8, pl, plen);
    wt_be16(u + 6, csum6_udp(src, dst, u, 8 + plen));
    return 14 + 40 + 8 + plen;
}

/* Next UDP frame (IPv4 or IPv6); ND/MLD/ICMP/ARP frames are skipped. */
static long pop_udp(uint8_t *f, size_t cap, unsigned ms)
{
    uint64_t end = wt_now_ms() + ms;
    for (;;) {
        long n = memdev_pop_tx(T.dev, f, cap);
        if (n >= 0) {
            bool udp6 = n >= 54 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 17;
            bool udp4 = n >= 34 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17;
            if (udp6 || udp4)
                return n;
            continue;
        }
        if (wt_now_ms() >= end)
            return -1;
        wt_sleep_ms(1);
    }
}

static void inject6(const uint8_t src[16], const uint8_t dst[16], uint16_t sport, uint16_t dport,
                    const void *pl, size_t plen, uint8_t hop)
{
    uint8_t f[2048];
    size_t n = frame6(f, wt_our_mac, wt_peer_mac, src, dst, sport, dport, pl, plen, hop, 0);
    assert_int_equal(memdev_inject(T.dev, f, n), 0);
}

struct rx6 {
    struct wt_irp w;
    uint8_t buf[256];
    PMDL m;
    WSK_BUF b;
    SOCKADDR_IN6 from;
    ULONG ctl_len;
    uint64_t ctl[16];
    ULONG flags;
};

static NTSTATUS rx6_start(PWSK_SOCKET s, struct rx6 *rx)
{
    memset(rx->buf, 0xaa, sizeof(rx->buf));
    memset(rx->ctl, 0xaa, sizeof(rx->ctl));
    memset(&rx->from, 0xaa, sizeof(rx->from));
    rx->m = wt_mdl(rx->buf, sizeof(rx->buf));
    rx->b.Mdl = rx->m;
    rx->b.Offset = 0;
    rx->b.Length = sizeof(rx->buf);
    rx->ctl_len = sizeof(rx->ctl);
    rx->flags = 0xaaaa;
    wt_irp_init(&rx->w);
    return wt_dg(s)->WskReceiveFrom(s, &rx->b, 0, (PSOCKADDR)&rx->from, &rx->ctl_len,
                                    (PCMSGHDR)rx->ctl, &rx->flags, rx->w.irp);
}

static void rx6_fini(struct rx6 *rx)
{
    wt_irp_fini(&rx->w);
    IoFreeMdl(rx->m);
}

static void expect_sin6(const SOCKADDR_IN6 *a, const uint8_t ip[16], uint16_t port, ULONG scope)
{
    SOCKADDR_IN6 want;
    sin6_set(&want, ip, port, scope);
    assert_int_equal(sizeof(want), 28);
    assert_memory_equal(a, &want, sizeof(want));
}

/* ---- tests ------------------------------------------------------------------------ */
static void test_socket_families_and_v6only_default(void **state)
{
    PWSK_SOCKET s = socket6(AF_INET6);
    PWSK_SOCKET l = socket6(10) /* Linux's AF_INET6 */;
    ULONG v = 7;
    assert_int_equal(wt_getopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v), STATUS_SUCCESS);
    assert_int_equal(v, 1);

    /* A SOCKADDR_IN on an AF_INET6 socket is the wrong family. */
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_OUR_IP1, 6000);
    struct wt_irp w;
    wt_irp_init(&w);
    assert_int_equal(wt_irp_result(&w, wt_dg(s)->WskBind(s, (PSOCKADDR)&sin, 0, w.irp)),
                     STATUS_INVALID_PARAMETER);
    wt_irp_fini(&w);

    static const uint8_t any6[16] = {0};
    assert_int_equal(bind6(s, any6, 6000), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0), STATUS_INVALID_DEVICE_STATE);
    SOCKADDR_IN6 la;
    memset(&la, 0xee, sizeof(la));
    wt_irp_init(&w);
    assert_int_equal(wt_irp_result(&w, wt_dg(s)->WskGetLocalAddress(s, (PSOCKADDR)&la, w.irp)),
                     STATUS_SUCCESS);
    wt_irp_fini(&w);
    expect_sin6(&la, any6, 6000, 0);

    /* V6-only: an IPv4 datagram to the port is not delivered, IPv6 is. */
    struct rx6 rx;
    assert_int_equal(rx6_start(s, &rx), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 5555, 6000, "v4", 2);
    wt_sleep_ms(100);
    assert_int_equal(atomic_load(&rx.w.calls), 0);
    inject6(PEER6, OUR6, 5555, 6000, "v6", 2, 64);
    assert_true(wt_irp_wait(&rx.w, 2000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 2);
    assert_memory_equal(rx.buf, "v6", 2);
    expect_sin6(&rx.from, PEER6, 5555, 0);
    assert_int_equal(rx.ctl_len, 0);
    rx6_fini(&rx);

    /* V6-only cannot send to an IPv4-mapped destination. */
    uint8_t m4[16];
    mapped(m4, WT_PEER_IP);
    SOCKADDR_IN6 to;
    sin6_set(&to, m4, 7, 0);
    ULONG_PTR info = 99;
    assert_int_equal(sendto6(s, &to, "x", 1, NULL, 0, &info), STATUS_NETWORK_UNREACHABLE);
    assert_int_equal(info, 0);
    wt_close(s);
    wt_close(l);
}

static void test_sendto_exact_frame_and_pktinfo(void **state)
{
    PWSK_SOCKET s = socket6(AF_INET6);
    static const uint8_t any6[16] = {0};
    assert_int_equal(bind6(s, any6, 6001), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_TCLASS, 0x28), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TTL, 99), STATUS_SUCCESS); /* not for IPv6 */

    SOCKADDR_IN6 to;
    sin6_set(&to, PEER6, 7777, 0);
    ULONG_PTR info = 0;
    assert_int_equal(sendto6(s, &to, "hello6", 6, NULL, 0, &info), STATUS_SUCCESS);
    assert_int_equal(info, 6);
    uint8_t got[2048], want[2048];
    long n = pop_udp(got, sizeof(got), 2000);
    size_t wn = frame6(want, wt_peer_mac, wt_our_mac, OUR6, PEER6, 6001, 7777, "hello6", 6, 7,
                       0x28);
    assert_int_equal(n, (long)wn);
    assert_int_equal(wn, 14 + 40 + 8 + 6);
    assert_memory_equal(got, want, wn);

    /* IN6_PKTINFO {2001:db8::1, 0}: that source (WSA_CMSG_SPACE(20) = 40). */
    uint8_t ctl[40];
    memset(ctl, 0, sizeof(ctl));
    SIZE_T clen = 36;
    INT level = IPPROTO_IPV6, type = IPV6_PKTINFO;
    memcpy(ctl, &clen, 8);
    memcpy(ctl + 8, &level, 4);
    memcpy(ctl + 12, &type, 4);
    memcpy(ctl + 16, OUR6, 16);
    assert_int_equal(sendto6(s, &to, "pi", 2, ctl, sizeof(ctl), &info), STATUS_SUCCESS);
    n = pop_udp(got, sizeof(got), 2000);
    wn = frame6(want, wt_peer_mac, wt_our_mac, OUR6, PEER6, 6001, 7777, "pi", 2, 7, 0x28);
    assert_int_equal(n, (long)wn);
    assert_memory_equal(got, want, wn);

    /* A source that is not ours. */
    memcpy(ctl + 16, OTHER6, 16);
    info = 99;
    assert_int_equal(sendto6(s, &to, "no", 2, ctl, sizeof(ctl), &info), STATUS_INVALID_ADDRESS);
    assert_int_equal(info, 0);

    /* Link-local destination with a foreign scope id. */
    SOCKADDR_IN6 ll;
    sin6_set(&ll, PEER_LL, 7777, stack_ifindex(T.st) + 5);
    assert_int_equal(sendto6(s, &ll, "ll", 2, NULL, 0, &info), STATUS_INVALID_ADDRESS);

    /* Oversize: 65528 bytes, nothing sent; 65527 is not refused up front. */
    uint8_t *big = calloc(1, 65528);
    assert_non_null(big);
    assert_int_equal(sendto6(s, &to, big, 65528, NULL, 0, &info), STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(info, 0);
    free(big);
    assert_int_equal(pop_udp(got, sizeof(got), 100), -1);
    wt_close(s);
}

static void test_receive_sockaddr_in6_and_pktinfo(void **state)
{
    PWSK_SOCKET s = socket6(AF_INET6);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_PKTINFO, 1), STATUS_SUCCESS);
    static const uint8_t any6[16] = {0};
    assert_int_equal(bind6(s, any6, 6002), STATUS_SUCCESS);

    struct rx6 rx;
    assert_int_equal(rx6_start(s, &rx), STATUS_PENDING);
    inject6(PEER6, OUR6, 5555, 6002, "abc", 3, 33);
    assert_true(wt_irp_wait(&rx.w, 2000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    assert_memory_equal(rx.buf, "abc", 3);
    expect_sin6(&rx.from, PEER6, 5555, 0);
    assert_int_equal(rx.flags, 0);
    assert_int_equal(rx.ctl_len, 40);
    uint8_t want[40];
    memset(want, 0, sizeof(want));
    SIZE_T clen = 36;
    INT level = IPPROTO_IPV6, type = IPV6_PKTINFO;
    ULONG ifx = stack_ifindex(T.st);
    memcpy(want, &clen, 8);
    memcpy(want + 8, &level, 4);
    memcpy(want + 12, &type, 4);
    memcpy(want + 16, OUR6, 16);
    memcpy(want + 32, &ifx, 4);
    assert_int_equal(level, 41);
    assert_int_equal(type, 19);
    assert_memory_equal(rx.ctl, want, 40);
    rx6_fini(&rx);

    /* From a link-local peer to our link-local: scope id = our ifindex. */
    assert_int_equal(rx6_start(s, &rx), STATUS_PENDING);
    inject6(PEER_LL, OUR_LL, 5556, 6002, "ll", 2, 64);
    assert_true(wt_irp_wait(&rx.w, 2000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 2);
    expect_sin6(&rx.from, PEER_LL, 5556, ifx);
    assert_int_equal(rx.ctl_len, 40);
    memcpy(want + 16, OUR_LL, 16);
    assert_memory_equal(rx.ctl, want, 40);
    rx6_fini(&rx);
    wt_close(s);
}

static void test_dual_stack(void **state)
{
    PWSK_SOCKET s = socket6(AF_INET6);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_PKTINFO, 1), STATUS_SUCCESS);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_PKTINFO, 1), STATUS_SUCCESS);
    static const uint8_t any6[16] = {0};
    assert_int_equal(bind6(s, any6, 6003), STATUS_SUCCESS);
    ULONG v = 7;
    assert_int_equal(wt_getopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v), STATUS_SUCCESS);
    assert_int_equal(v, 0);

    /* IPv4 in: ::ffff:192.0.2.10, IN_PKTINFO only (24 bytes). */
    struct rx6 rx;
    assert_int_equal(rx6_start(s, &rx), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 5555, 6003, "four", 4);
    assert_true(wt_irp_wait(&rx.w, 2000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 4);
    assert_memory_equal(rx.buf, "four", 4);
    uint8_t m4[16];
    mapped(m4, WT_PEER_IP);
    expect_sin6(&rx.from, m4, 5555, 0);
    assert_int_equal(rx.ctl_len, 24);
    uint8_t want[24];
    memset(want, 0, sizeof(want));
    SIZE_T clen = 24;
    INT level = IPPROTO_IP, type = IP_PKTINFO;
    ULONG ifx = stack_ifindex(T.st);
    memcpy(want, &clen, 8);
    memcpy(want + 8, &level, 4);
    memcpy(want + 12, &type, 4);
    wt_be32(want + 16, WT_OUR_IP1);
    memcpy(want + 20, &ifx, 4);
    assert_memory_equal(rx.ctl, want, 24);
    rx6_fini(&rx);

    /* IPv6 in on the same socket: IN6_PKTINFO. */
    assert_int_equal(rx6_start(s, &rx), STATUS_PENDING);
    inject6(PEER6, OUR6, 5555, 6003, "six", 3, 64);
    assert_true(wt_irp_wait(&rx.w, 2000));
    assert_int_equal(rx.w.info, 3);
    expect_sin6(&rx.from, PEER6, 5555, 0);
    assert_int_equal(rx.ctl_len, 40);
    rx6_fini(&rx);

    /* Out to ::ffff:192.0.2.10: an IPv4 datagram (IPPROTO_IP options). */
    assert_int_equal(wt_setopt(s, IPPROTO_IP, IP_TTL, 33), STATUS_SUCCESS);
    SOCKADDR_IN6 to;
    sin6_set(&to, m4, 5555, 0);
    ULONG_PTR info = 0;
    assert_int_equal(sendto6(s, &to, "back", 4, NULL, 0, &info), STATUS_SUCCESS);
    assert_int_equal(info, 4);
    uint8_t got[2048];
    long n = pop_udp(got, sizeof(got), 2000);
    assert_int_equal(n, 14 + 20 + 8 + 4);
    assert_int_equal(got[12], 0x08);
    uint8_t wantf[64];
    uint16_t id = (uint16_t)((got[18] << 8) | got[19]);
    size_t wn = wt_udp_frame(wantf, wt_peer_mac, wt_our_mac, WT_OUR_IP1, WT_PEER_IP, 6003, 5555,
                             "back", 4, id, 33);
    assert_int_equal(wn, (size_t)n);
    assert_memory_equal(got, wantf, wn);
    wt_close(s);
}

/* SIO_WSK_SET_REMOTE_ADDRESS with a SOCKADDR_IN6 (IPv4-mapped, dual stack). */
static void test_fixed_remote_v4mapped(void **state)
{
    PWSK_SOCKET s = socket6(AF_INET6);
    assert_int_equal(wt_setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0), STATUS_SUCCESS);
    static const uint8_t any6[16] = {0};
    assert_int_equal(bind6(s, any6, 6004), STATUS_SUCCESS);
    uint8_t m4[16];
    mapped(m4, WT_PEER_IP);
    SOCKADDR_IN6 r;
    sin6_set(&r, m4, 5555, 0);
    struct wt_irp w;
    wt_irp_init(&w);
    /* a SOCKADDR_IN-sized input is too short for AF_INET6 */
    NTSTATUS rr = wt_dg(s)->WskControlSocket(s, WskIoctl, SIO_WSK_SET_REMOTE_ADDRESS, SOL_SOCKET,
                                             sizeof(SOCKADDR_IN), &r, 0, NULL, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, rr), STATUS_INVALID_PARAMETER);
    wt_irp_reuse(&w);
    rr = wt_dg(s)->WskControlSocket(s, WskIoctl, SIO_WSK_SET_REMOTE_ADDRESS, SOL_SOCKET,
                                    sizeof(r), &r, 0, NULL, NULL, w.irp);
    assert_int_equal(wt_irp_result(&w, rr), STATUS_SUCCESS);
    wt_irp_fini(&w);

    /* From another port: filtered; from the fixed remote: delivered. */
    struct rx6 rx;
    assert_int_equal(rx6_start(s, &rx), STATUS_PENDING);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 5556, 6004, "no", 2);
    wt_inject_udp(&T, WT_PEER_IP, WT_OUR_IP1, 5555, 6004, "yes", 3);
    assert_true(wt_irp_wait(&rx.w, 2000));
    assert_int_equal(rx.w.status, STATUS_SUCCESS);
    assert_int_equal(rx.w.info, 3);
    assert_memory_equal(rx.buf, "yes", 3);
    expect_sin6(&rx.from, m4, 5555, 0);
    rx6_fini(&rx);

    /* RemoteAddress NULL: to the fixed remote, as IPv4. */
    ULONG_PTR info = 0;
    assert_int_equal(sendto6(s, NULL, "hey", 3, NULL, 0, &info), STATUS_SUCCESS);
    assert_int_equal(info, 3);
    uint8_t got[2048], want[64];
    long n = pop_udp(got, sizeof(got), 2000);
    uint16_t id = (uint16_t)((got[18] << 8) | got[19]);
    size_t wn = wt_udp_frame(want, wt_peer_mac, wt_our_mac, WT_OUR_IP1, WT_PEER_IP, 6004, 5555,
                             "hey", 3, id, 64);
    assert_int_equal(n, (long)wn);
    assert_memory_equal(got, want, wn);
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_socket_families_and_v6only_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendto_exact_frame_and_pktinfo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_sockaddr_in6_and_pktinfo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dual_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed_remote_v4mapped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
