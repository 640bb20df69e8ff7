/* SPDX-License-Identifier: MIT */
/*
 * WskBind / WskGetLocalAddress / WskSendTo on a memdev stack: exact frames
 * on the wire, IN_PKTINFO source selection, cmsg tolerance, MDL chains,
 * size limits and the error statuses of wsk/dgram.c and wsk/socket.c.
 */
#include "wsk_test.h"

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

/* Send `len` bytes of buf with optional control info; returns the final
 * status, and the call's own return in *ret. */
static NTSTATUS send_buf(PWSK_SOCKET s, PWSK_BUF b, uint32_t ip, uint16_t port, void *ctl,
                         ULONG ctl_len, NTSTATUS *ret, struct wt_irp *w)
{
    SOCKADDR_IN to;
    wt_sin(&to, ip, port);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, b, 0, (PSOCKADDR)&to, ctl_len, (PCMSGHDR)ctl, w->irp);
    memset(&to, 0xcc, sizeof(to)); /* the provider copied it during the call */
    if (ret)
        *ret = r;
    return wt_irp_result(w, r);
}

static NTSTATUS send_bytes(PWSK_SOCKET s, const void *data, size_t len, uint32_t ip,
                           uint16_t port, void *ctl, ULONG ctl_len, NTSTATUS *ret,
                           ULONG_PTR *info)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    PMDL m = len ? wt_mdl(copy, (ULONG)len) : NULL;
    WSK_BUF b = {m, 0, len};
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS st = send_buf(s, &b, ip, port, ctl, ctl_len, ret, &w);
    if (info)
        *info = w.info;
    assert_int_equal(atomic_load(&w.calls), 1);
    wt_irp_fini(&w);
    if (m)
        IoFreeMdl(m);
    free(copy);
    return st;
}

/* Assert the next frame is exactly our UDP datagram (IP id taken from the
 * frame: the stack's identification counter starts at a random value). */
static void expect_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                         const void *payload, size_t plen)
{
    static uint8_t got[70000], want[70000];
    long n = wt_pop(&T, got, sizeof(got), 2000);
    assert_int_equal(n, (long)(14 + 20 + 8 + plen));
    uint16_t id = (uint16_t)((got[18] << 8) | got[19]);
    size_t wn = wt_udp_frame(want, wt_peer_mac, wt_our_mac, src, dst, sport, dport, payload,
                             plen, id, 64);
    assert_int_equal(wn, (size_t)n);
    assert_memory_equal(got, want, wn);
}

static void test_get_local_address_unbound(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN sin;
    NTSTATUS r = wt_dg(s)->WskGetLocalAddress(s, (PSOCKADDR)&sin, w.irp);
    assert_int_equal(r, STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.status, STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(w.info, 0);
    assert_false(w.pending_returned);
    wt_irp_fini(&w);
    wt_close(s);
}

static void test_bind_port0_gives_ephemeral_port(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, 0, 0), STATUS_SUCCESS);
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN sin;
    memset(&sin, 0xee, sizeof(sin));
    NTSTATUS r = wt_dg(s)->WskGetLocalAddress(s, (PSOCKADDR)&sin, w.irp);
    assert_int_equal(r, STATUS_SUCCESS);
    assert_int_equal(w.status, STATUS_SUCCESS);
    assert_int_equal(sin.sin_family, AF_INET);
    assert_int_equal(wt_sin_ip(&sin), 0);
    assert_in_range(wt_sin_port(&sin), 49152, 65535);
    static const uint8_t zero[8];
    assert_memory_equal(sin.sin_zero, zero, 8);
    wt_irp_fini(&w);
    wt_close(s);
}

static void test_bind_errors(void **state)
{
    PWSK_SOCKET a = wt_socket(&T), b = wt_socket(&T);
    assert_int_equal(wt_bind(a, WT_OUR_IP1, 6000), STATUS_SUCCESS);
    assert_int_equal(wt_local_port(a), 6000);
    assert_int_equal(wt_bind(b, WT_OUR_IP1, 6000), STATUS_ADDRESS_ALREADY_ASSOCIATED);
    assert_int_equal(wt_bind(b, 0xCB007105u /* 203.0.113.5 */, 6000), STATUS_INVALID_ADDRESS);
    assert_int_equal(wt_bind(a, WT_OUR_IP1, 6001), STATUS_INVALID_DEVICE_STATE);
    /* wrong family */
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN sin;
    wt_sin(&sin, WT_OUR_IP1, 6002);
    sin.sin_family = AF_INET6;
    NTSTATUS r = wt_dg(b)->WskBind(b, (PSOCKADDR)&sin, 0, w.irp);
    assert_int_equal(r, STATUS_INVALID_PARAMETER);
    assert_int_equal(atomic_load(&w.calls), 1);
    wt_irp_fini(&w);
    /* after the close the port is free again */
    wt_close(a);
    assert_int_equal(wt_bind(b, WT_OUR_IP1, 6000), STATUS_SUCCESS);
    wt_close(b);
}

static void test_sendto_exact_frame(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5000), STATUS_SUCCESS);
    NTSTATUS ret;
    ULONG_PTR info;
    int64_t out0 = wt_counter(&T, "UdpOutDatagrams");
    assert_int_equal(send_bytes(s, "hello", 5, WT_PEER_IP, 7000, NULL, 0, &ret, &info),
                     STATUS_SUCCESS);
    assert_int_equal(ret, STATUS_PENDING); /* the fast path never waits */
    assert_int_equal(info, 5);
    expect_frame(WT_OUR_IP1, WT_PEER_IP, 5000, 7000, "hello", 5);
    assert_int_equal(memdev_tx_pending(T.dev), 0);
    assert_int_equal(wt_counter(&T, "UdpOutDatagrams"), out0 + 1);
    wt_close(s);
}

/* IN_PKTINFO + a trailing zero-length cmsg (WireGuard) + an unknown one. */
static void test_pktinfo_chooses_source(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, 0, 5001), STATUS_SUCCESS);

    uint64_t cbuf[16];
    memset(cbuf, 0, sizeof(cbuf));
    uint8_t *c = (uint8_t *)cbuf;
    size_t off = 0;
    CMSGHDR *h = (CMSGHDR *)(c + off);
    h->cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
    h->cmsg_level = IPPROTO_IP;
    h->cmsg_type = IP_PKTINFO;
    IN_PKTINFO *pi = (IN_PKTINFO *)WSA_CMSG_DATA(h);
    wt_be32((uint8_t *)&pi->ipi_addr, WT_OUR_IP2);
    pi->ipi_ifindex = 0;
    off += WSA_CMSG_SPACE(sizeof(IN_PKTINFO));
    h = (CMSGHDR *)(c + off); /* unknown level/type with 4 bytes */
    h->cmsg_len = WSA_CMSG_LEN(4);
    h->cmsg_level = 0x1234;
    h->cmsg_type = 99;
    memcpy(WSA_CMSG_DATA(h), "\x01\x02\x03\x04", 4);
    off += WSA_CMSG_SPACE(4);
    h = (CMSGHDR *)(c + off); /* zero-payload trailer */
    h->cmsg_len = WSA_CMSG_LEN(0);
    h->cmsg_level = IPPROTO_IP;
    h->cmsg_type = IP_OPTIONS;
    off += WSA_CMSG_SPACE(0);
    assert_int_equal(off, 24 + 24 + 16);

    NTSTATUS ret;
    assert_int_equal(send_bytes(s, "src2", 4, WT_PEER_IP, 7001, c, (ULONG)off, &ret, NULL),
                     STATUS_SUCCESS);
    expect_frame(WT_OUR_IP2, WT_PEER_IP, 5001, 7001, "src2", 4);
    /* without the cmsg the route picks the first address */
    assert_int_equal(send_bytes(s, "src1", 4, WT_PEER_IP, 7001, NULL, 0, &ret, NULL),
                     STATUS_SUCCESS);
    expect_frame(WT_OUR_IP1, WT_PEER_IP, 5001, 7001, "src1", 4);
    /* ipi_addr 0.0.0.0 = no preference */
    wt_be32((uint8_t *)&pi->ipi_addr, 0);
    assert_int_equal(send_bytes(s, "any", 3, WT_PEER_IP, 7001, c, (ULONG)off, &ret, NULL),
                     STATUS_SUCCESS);
    expect_frame(WT_OUR_IP1, WT_PEER_IP, 5001, 7001, "any", 3);
    wt_close(s);
}

static void test_pktinfo_source_not_ours(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, 0, 5002), STATUS_SUCCESS);
    uint64_t cbuf[4];
    memset(cbuf, 0, sizeof(cbuf));
    CMSGHDR *h = (CMSGHDR *)cbuf;
    h->cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
    h->cmsg_level = IPPROTO_IP;
    h->cmsg_type = IP_PKTINFO;
    IN_PKTINFO *pi = (IN_PKTINFO *)WSA_CMSG_DATA(h);
    wt_be32((uint8_t *)&pi->ipi_addr, 0xCB007105u); /* 203.0.113.5 */
    NTSTATUS ret;
    ULONG_PTR info;
    assert_int_equal(send_bytes(s, "x", 1, WT_PEER_IP, 7002, cbuf,
                                (ULONG)WSA_CMSG_SPACE(sizeof(IN_PKTINFO)), &ret, &info),
                     STATUS_INVALID_ADDRESS);
    assert_int_equal(ret, STATUS_INVALID_ADDRESS); /* completed before the return */
    assert_int_equal(info, 0);
    /* a malformed cmsg (cmsg_len < sizeof(CMSGHDR)) */
    h->cmsg_len = 8;
    assert_int_equal(send_bytes(s, "x", 1, WT_PEER_IP, 7002, cbuf, 24, &ret, NULL),
                     STATUS_INVALID_PARAMETER);
    wt_sleep_ms(20);
    assert_int_equal(memdev_tx_pending(T.dev), 0);
    wt_close(s);
}

static void test_mdl_chain_with_offset(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5003), STATUS_SUCCESS);
    char b1[] = "XXXXXabc", b2[] = "defg", b3[] = "hijKLMNOP";
    PMDL m1 = wt_mdl(b1, 8), m2 = wt_mdl(b2, 4), m3 = wt_mdl(b3, 9);
    m1->Next = m2;
    m2->Next = m3;
    WSK_BUF b = {m1, 5, 10};
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS ret;
    assert_int_equal(send_buf(s, &b, WT_PEER_IP, 7003, NULL, 0, &ret, &w), STATUS_SUCCESS);
    assert_int_equal(w.info, 10);
    expect_frame(WT_OUR_IP1, WT_PEER_IP, 5003, 7003, "abcdefghij", 10);
    /* Offset outside the first MDL */
    wt_irp_reuse(&w);
    b.Offset = 8;
    assert_int_equal(send_buf(s, &b, WT_PEER_IP, 7003, NULL, 0, &ret, &w),
                     STATUS_INVALID_PARAMETER);
    /* a chain shorter than Length */
    wt_irp_reuse(&w);
    b.Offset = 5;
    b.Length = 17;
    assert_int_equal(send_buf(s, &b, WT_PEER_IP, 7003, NULL, 0, &ret, &w),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(memdev_tx_pending(T.dev), 0);
    wt_irp_fini(&w);
    IoFreeMdl(m1);
    IoFreeMdl(m2);
    IoFreeMdl(m3);
    wt_close(s);
}

static void test_zero_byte_datagram(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5004), STATUS_SUCCESS);
    ULONG_PTR info = 99;
    assert_int_equal(send_bytes(s, "", 0, WT_PEER_IP, 7004, NULL, 0, NULL, &info),
                     STATUS_SUCCESS);
    assert_int_equal(info, 0);
    expect_frame(WT_OUR_IP1, WT_PEER_IP, 5004, 7004, "", 0);
    wt_close(s);
}

static void test_size_limit(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5005), STATUS_SUCCESS);
    uint8_t *big = calloc(1, 65508);
    NTSTATUS ret;
    ULONG_PTR info;
    assert_int_equal(send_bytes(s, big, 65508, WT_PEER_IP, 7005, NULL, 0, &ret, &info),
                     STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(ret, STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(info, 0);
    wt_sleep_ms(20);
    assert_int_equal(memdev_tx_pending(T.dev), 0);
    /* the largest IPv4 datagram goes out (fragmented: 45 frames of <= 1514) */
    assert_int_equal(send_bytes(s, big, 65507, WT_PEER_IP, 7005, NULL, 0, &ret, &info),
                     STATUS_SUCCESS);
    assert_int_equal(info, 65507);
    static uint8_t f[2000];
    unsigned frames = 0;
    while (wt_pop(&T, f, sizeof(f), 200) >= 0)
        frames++;
    assert_int_equal(frames, 45);
    free(big);
    wt_close(s);
}

static void test_no_route(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, 0, 5006), STATUS_SUCCESS);
    uint8_t data[4] = {1, 2, 3, 4};
    PMDL m = wt_mdl(data, 4);
    WSK_BUF b = {m, 0, 4};
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN to;
    wt_sin(&to, 0xC6336401u /* 198.51.100.1 */, 9);
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_NETWORK_UNREACHABLE);
    /* returned at once AND already completed */
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.status, STATUS_NETWORK_UNREACHABLE);
    assert_int_equal(w.info, 0);
    assert_false(w.pending_returned);
    assert_int_equal(memdev_tx_pending(T.dev), 0);
    wt_irp_fini(&w);
    IoFreeMdl(m);
    wt_close(s);
}

static void test_unbound_send(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    NTSTATUS ret;
    assert_int_equal(send_bytes(s, "u", 1, WT_PEER_IP, 7, NULL, 0, &ret, NULL),
                     STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(ret, STATUS_INVALID_DEVICE_STATE);
    wt_close(s);
}

/* On-link neighbour that never answers: 3 ARP requests 1 s apart, then
 * STATUS_HOST_UNREACHABLE (real clock, ~3 s). */
static void test_unresolvable_neighbour(void **state)
{
    PWSK_SOCKET s = wt_socket(&T);
    assert_int_equal(wt_bind(s, WT_OUR_IP1, 5007), STATUS_SUCCESS);
    uint8_t data[3] = {7, 8, 9};
    PMDL m = wt_mdl(data, 3);
    WSK_BUF b = {m, 0, 3};
    struct wt_irp w;
    wt_irp_init(&w);
    SOCKADDR_IN to;
    wt_sin(&to, 0xC0000263u /* 192.0.2.99 */, 7007);
    uint64_t t0 = wt_now_ms();
    NTSTATUS r = wt_dg(s)->WskSendTo(s, &b, 0, (PSOCKADDR)&to, 0, NULL, w.irp);
    assert_int_equal(r, STATUS_PENDING);

    static const uint8_t arp_req[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x02, 0, 0, 0, 0, 0x01, 192, 0, 2, 1,
        0, 0, 0, 0, 0, 0, 192, 0, 2, 99};
    uint8_t f[100];
    for (int i = 0; i < 3; i++) {
        long n = wt_pop(&T, f, sizeof(f), 2500);
        assert_int_equal(n, 42);
        assert_memory_equal(f, arp_req, 42);
    }
    assert_true(wt_irp_wait(&w, 5000));
    uint64_t elapsed = wt_now_ms() - t0;
    assert_in_range(elapsed, 1900, 6000);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.status, STATUS_HOST_UNREACHABLE);
    assert_int_equal(w.info, 0);
    assert_true(w.pending_returned);
    assert_int_equal(memdev_tx_pending(T.dev), 0); /* the datagram never left */
    wt_irp_fini(&w);
    IoFreeMdl(m);
    wt_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_local_address_unbound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_port0_gives_ephemeral_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendto_exact_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pktinfo_chooses_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pktinfo_source_not_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mdl_chain_with_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_byte_datagram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unbound_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unresolvable_neighbour, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
