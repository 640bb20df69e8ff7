/* SPDX-License-Identifier: MIT */
/*
 * Lab (IPv6): UDP over IPv6 both ways between an AF_INET6 WSK datagram
 * socket and a kernel AF_INET6 UDP socket.
 *
 *     kernel 2001:db8::1/64 [wsk6wsk0] <== TAP ==> wskstack 2001:db8::2/64
 *            192.0.2.1/24                                    192.0.2.2/24
 *     lk_udp6_sendto / lk_udp6_recv        WskSocket(AF_INET6) / WskSendTo /
 *                                          WskReceiveFrom (SOCKADDR_IN6)
 *
 * A WSK source (Windows headers): the kernel side is lab_kernel.h through
 * testutil.h, the synchronous WSK calls are tools/wskc.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG                                                                             \
    "tap=wsk6wsk0;addr=192.0.2.2/24;host-addr=192.0.2.1/24;addr=2001:db8::2/64;"          \
    "host-addr=2001:db8::1/64"
#define COUNT 20
#define MAXLEN 1452 /* 1500 - 40 - 8: the largest unfragmented */

/* ---- helpers ------------------------------------------------------------------ */
static void parse6(const char *s, uint8_t a[16])
{
    if (lk_addr6_parse(s, a, NULL) != 0)
        fail_msg("bad IPv6 address %s", s);
}

/* The stack's link-local: fe80:: + the modified EUI-64 of its MAC. */
static void stack_ll(const struct lab_stack *ls, uint8_t a[16])
{
    memset(a, 0, 16);
    a[0] = 0xfe;
    a[1] = 0x80;
    a[8] = ls->mac[0] ^ 0x02;
    a[9] = ls->mac[1];
    a[10] = ls->mac[2];
    a[11] = 0xff;
    a[12] = 0xfe;
    a[13] = ls->mac[3];
    a[14] = ls->mac[4];
    a[15] = ls->mac[5];
}

struct addr_wait {
    struct lab_stack *ls;
    const char *needle;
};

/* The stack's address listing has a line with needle that is neither
 * tentative nor dadfailed. */
static bool addr_ready(void *ctx)
{
    struct addr_wait *w = ctx;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    bool ok = false;
    if (f == NULL)
        return false;
    int rc = wskstack_list_addrs(w->ls->st, f, 0);
    fclose(f);
    for (char *save = NULL, *l = rc == 0 && text ? strtok_r(text, "\n", &save) : NULL;
         l != NULL && !ok; l = strtok_r(NULL, "\n", &save))
        ok = strstr(l, w->needle) != NULL && strstr(l, "tentative") == NULL &&
             strstr(l, "dadfailed") == NULL;
    free(text);
    return ok;
}

/* DAD of 2001:db8::2 and of the link-local is over (<= 1 s delay + 1 s). */
static void wait_dad(struct lab_stack *ls)
{
    struct addr_wait w = {ls, "inet6 2001:db8::2/64 "};
    if (lk_wait_until(addr_ready, &w, 4000, 20) != 0)
        fail_msg("2001:db8::2 still tentative after 4 s");
    w.needle = "inet6 fe80::";
    if (lk_wait_until(addr_ready, &w, 4000, 20) != 0)
        fail_msg("the stack's link-local still tentative after 4 s");
}

struct kll_wait {
    const char *ifname;
    char ll[LK_ADDR6STRLEN];
};

static bool kll_ready(void *ctx)
{
    struct kll_wait *w = ctx;
    bool tentative = true;
    return lk_linklocal6(w->ifname, w->ll, &tentative) == 0 && !tentative;
}

static PWSK_SOCKET socket6(struct lab_stack *ls)
{
    PWSK_SOCKET s = NULL;
    assert_int_equal(wskc_socket_af(&ls->npi, AF_INET6, &s), STATUS_SUCCESS);
    assert_non_null(s);
    return s;
}

static void bind6(PWSK_SOCKET s, const char *addr, uint16_t port)
{
    uint8_t a[16] = {0};
    if (addr)
        parse6(addr, a);
    SOCKADDR_IN6 sin6;
    wskc_sin6(&sin6, a, port, 0);
    assert_int_equal(wskc_bind_sa(s, (const SOCKADDR *)&sin6), STATUS_SUCCESS);
}

/* The received SOCKADDR_IN6 is exactly {AF_INET6, port, 0, addr, scope}. */
static void expect_from(const SOCKADDR_IN6 *got, const uint8_t addr[16], uint16_t port,
                        ULONG scope)
{
    SOCKADDR_IN6 want;
    wskc_sin6(&want, addr, port, scope);
    assert_int_equal(got->sin6_family, AF_INET6);
    assert_int_equal(RtlUshortByteSwap(got->sin6_port), port);
    assert_int_equal(got->sin6_flowinfo, 0);
    assert_memory_equal(&got->sin6_addr, addr, 16);
    assert_int_equal(got->sin6_scope_id, scope);
    assert_memory_equal(got, &want, sizeof want);
}

static size_t make_payload(uint8_t *buf, unsigned i, uint8_t dir)
{
    size_t len = (size_t)(i * 211u) % MAXLEN + 1;
    if (i == COUNT - 1)
        len = MAXLEN;
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(k * 13u + i * 29u + dir);
    buf[0] = dir;
    return len;
}

static int64_t kcnt6(const char *name)
{
    int64_t v = lk_snmp6(name);
    if (v < 0)
        fail_msg("no kernel counter %s", name);
    return v;
}

/* ---- tests ------------------------------------------------------------------------ */
/* 20 datagrams each way between [2001:db8::2]:7500 (WSK) and
 * [2001:db8::1]:7600 (kernel): exact bytes, source address and port on
 * both sides, exact Udp6 counters on both sides. */
static void test_wsk_udp6_both_ways(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    wait_dad(&ls);
    int kfd = lk_udp6_open("2001:db8::1", 7600);
    assert_true(kfd >= 0);
    PWSK_SOCKET s = socket6(&ls);
    bind6(s, "2001:db8::2", 7500);

    uint8_t kaddr[16];
    parse6("2001:db8::1", kaddr);
    SOCKADDR_IN6 to;
    wskc_sin6(&to, kaddr, 7600, 0);
    static uint8_t want[MAXLEN], got[MAXLEN + 64];
    /* stack -> kernel */
    for (unsigned i = 0; i < COUNT; i++) {
        size_t len = make_payload(want, i, 'S');
        struct wskc_op op;
        NTSTATUS st = wskc_sendto_sa(s, want, (ULONG)len, (const SOCKADDR *)&to, 3000, &op);
        if (st != STATUS_SUCCESS || op.info != len)
            fail_msg("WskSendTo #%u (%zu bytes): 0x%08x, %lu bytes", i, len, (unsigned)st,
                     (unsigned long)op.info);
        char src[LK_ADDR6STRLEN] = "";
        uint16_t sport = 0;
        long n = lk_udp6_recv(kfd, got, sizeof got, 2000, src, &sport);
        if (n != (long)len)
            fail_msg("kernel datagram #%u: %ld bytes, sent %zu", i, n, len);
        assert_memory_equal(got, want, len);
        assert_string_equal(src, "2001:db8::2");
        assert_int_equal(sport, 7500);
    }
    /* kernel -> stack */
    for (unsigned i = 0; i < COUNT; i++) {
        size_t len = make_payload(want, i, 'K');
        assert_int_equal(lk_udp6_sendto(kfd, want, len, "2001:db8::2", 7500), (long)len);
        ULONG n = 0;
        SOCKADDR_IN6 from;
        NTSTATUS st = wskc_recvfrom6(s, got, sizeof got, 2000, &n, &from);
        if (st != STATUS_SUCCESS || n != len)
            fail_msg("WskReceiveFrom #%u: 0x%08x, %lu bytes, sent %zu", i, (unsigned)st,
                     (unsigned long)n, len);
        assert_memory_equal(got, want, len);
        expect_from(&from, kaddr, 7600, 0);
    }

    assert_int_equal(lab_stack_cnt_settle(&ls, "Udp6OutDatagrams", COUNT), COUNT);
    assert_int_equal(lab_stack_cnt_settle(&ls, "Udp6InDatagrams", COUNT), COUNT);
    assert_int_equal(lab_stack_cnt(&ls, "Udp6InErrors"), 0);
    assert_int_equal(lab_stack_cnt(&ls, "Udp6NoPorts"), 0);
    assert_int_equal(lab_stack_cnt(&ls, "UdpInDatagrams"), 0);
    assert_int_equal(lab_stack_cnt(&ls, "UdpOutDatagrams"), 0);
    assert_int_equal(kcnt6("Udp6InDatagrams"), COUNT);
    assert_int_equal(kcnt6("Udp6OutDatagrams"), COUNT);
    assert_int_equal(kcnt6("Udp6InErrors"), 0);

    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(kfd);
    lab_stack_down(&ls);
}

/* Link-local: WskSendTo to the kernel's fe80:: with sin6_scope_id = the
 * TAP's ifindex arrives from the stack's fe80::%ifindex; the kernel's
 * datagram to the stack's link-local comes out of WskReceiveFrom with
 * sin6_scope_id = ifindex; a wrong scope id is STATUS_INVALID_ADDRESS and
 * sends nothing. */
static void test_wsk_udp6_link_local_scope_id(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    wait_dad(&ls);
    int ifindex = wskstack_ifindex(ls.st);
    assert_true(ifindex > 1);
    struct kll_wait kw;
    memset(&kw, 0, sizeof kw);
    kw.ifname = ls.ifname;
    assert_int_equal(lk_wait_until(kll_ready, &kw, 4000, 20), 0);
    char kll_scoped[LK_ADDR6STRLEN + 20];
    snprintf(kll_scoped, sizeof kll_scoped, "%s%%%d", kw.ll, ifindex);
    int kfd = lk_udp6_open(kll_scoped, 7700);
    assert_true(kfd >= 0);
    PWSK_SOCKET s = socket6(&ls);
    bind6(s, NULL, 7701); /* [::]:7701 */

    uint8_t kll[16], sll[16];
    parse6(kw.ll, kll);
    stack_ll(&ls, sll);
    SOCKADDR_IN6 to;
    wskc_sin6(&to, kll, 7700, (ULONG)ifindex);
    static const char m1[] = "to the kernel's link-local";
    struct wskc_op op;
    assert_int_equal(wskc_sendto_sa(s, m1, sizeof m1 - 1, (const SOCKADDR *)&to, 3000, &op),
                     STATUS_SUCCESS);
    assert_int_equal(op.info, sizeof m1 - 1);
    char buf[128], src[LK_ADDR6STRLEN] = "", want[LK_ADDR6STRLEN + 20], a[LK_ADDR6STRLEN];
    uint16_t sport = 0;
    assert_int_equal(lk_udp6_recv(kfd, buf, sizeof buf, 2000, src, &sport), sizeof m1 - 1);
    assert_memory_equal(buf, m1, sizeof m1 - 1);
    snprintf(want, sizeof want, "%s%%%d", lk_addr6_str(sll, a), ifindex);
    assert_string_equal(src, want);
    assert_int_equal(sport, 7701);

    static const char m2[] = "to the stack's link-local";
    char sll_scoped[LK_ADDR6STRLEN + 20];
    snprintf(sll_scoped, sizeof sll_scoped, "%s%%%d", lk_addr6_str(sll, a), ifindex);
    assert_int_equal(lk_udp6_sendto(kfd, m2, sizeof m2 - 1, sll_scoped, 7701), sizeof m2 - 1);
    ULONG n = 0;
    SOCKADDR_IN6 from;
    assert_int_equal(wskc_recvfrom6(s, buf, sizeof buf, 2000, &n, &from), STATUS_SUCCESS);
    assert_int_equal(n, sizeof m2 - 1);
    assert_memory_equal(buf, m2, sizeof m2 - 1);
    expect_from(&from, kll, 7700, (ULONG)ifindex);

    /* A scope id that is not the stack's interface (1: the kernel's lo). */
    wskc_sin6(&to, kll, 7700, 1);
    assert_int_equal(wskc_sendto_sa(s, m1, sizeof m1 - 1, (const SOCKADDR *)&to, 3000, &op),
                     STATUS_INVALID_ADDRESS);
    assert_int_equal(op.info, 0);
    assert_int_equal(lk_udp6_recv(kfd, buf, sizeof buf, 200, NULL, NULL), -ETIMEDOUT);

    assert_int_equal(lab_stack_cnt_settle(&ls, "Udp6OutDatagrams", 1), 1);
    assert_int_equal(lab_stack_cnt_settle(&ls, "Udp6InDatagrams", 1), 1);
    assert_int_equal(kcnt6("Udp6InDatagrams"), 1);
    assert_int_equal(kcnt6("Udp6OutDatagrams"), 1);
    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(kfd);
    lab_stack_down(&ls);
}

/* Dual stack: IPV6_V6ONLY = 0 before bind; an IPv4 datagram from the
 * kernel's 192.0.2.1 arrives as ::ffff:192.0.2.1, and a send to
 * ::ffff:192.0.2.1 leaves as IPv4 from 192.0.2.2.  The UDP (IPv4)
 * counters move, the Udp6 ones do not. */
static void test_wsk_udp6_dual_stack(void **state)
{
    (void)state;
    assert_int_equal(tu_enter_netns(), 0);
    struct lab_stack ls;
    lab_stack_up(&ls, CONFIG);
    wait_dad(&ls);
    int kfd = lk_udp_open("192.0.2.1", 7801);
    assert_true(kfd >= 0);
    int64_t kin0 = lab_kernel_cnt("Udp", "InDatagrams");
    int64_t kout0 = lab_kernel_cnt("Udp", "OutDatagrams");
    PWSK_SOCKET s = socket6(&ls);
    assert_int_equal(wskc_setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0), STATUS_SUCCESS);
    bind6(s, NULL, 7800);

    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    static const char m1[] = "IPv4 to a dual-stack socket";
    assert_int_equal(lk_udp_sendto(kfd, m1, sizeof m1 - 1, "192.0.2.2", 7800), sizeof m1 - 1);
    char buf[128];
    ULONG n = 0;
    SOCKADDR_IN6 from;
    assert_int_equal(wskc_recvfrom6(s, buf, sizeof buf, 2000, &n, &from), STATUS_SUCCESS);
    assert_int_equal(n, sizeof m1 - 1);
    assert_memory_equal(buf, m1, sizeof m1 - 1);
    expect_from(&from, mapped, 7801, 0);

    static const char m2[] = "IPv4 from a dual-stack socket";
    SOCKADDR_IN6 to;
    wskc_sin6(&to, mapped, 7801, 0);
    struct wskc_op op;
    assert_int_equal(wskc_sendto_sa(s, m2, sizeof m2 - 1, (const SOCKADDR *)&to, 3000, &op),
                     STATUS_SUCCESS);
    assert_int_equal(op.info, sizeof m2 - 1);
    char src[LK_ADDRSTRLEN] = "";
    uint16_t sport = 0;
    assert_int_equal(lk_udp_recv(kfd, buf, sizeof buf, 2000, src, &sport), sizeof m2 - 1);
    assert_memory_equal(buf, m2, sizeof m2 - 1);
    assert_string_equal(src, "192.0.2.2");
    assert_int_equal(sport, 7800);

    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpInDatagrams", 1), 1);
    assert_int_equal(lab_stack_cnt_settle(&ls, "UdpOutDatagrams", 1), 1);
    assert_int_equal(lab_stack_cnt(&ls, "Udp6InDatagrams"), 0);
    assert_int_equal(lab_stack_cnt(&ls, "Udp6OutDatagrams"), 0);
    assert_int_equal(lab_kernel_cnt("Udp", "InDatagrams") - kin0, 1);
    assert_int_equal(lab_kernel_cnt("Udp", "OutDatagrams") - kout0, 1);
    assert_int_equal(kcnt6("Udp6InDatagrams"), 0);
    assert_int_equal(wskc_close(s), STATUS_SUCCESS);
    lk_close(kfd);
    lab_stack_down(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wsk_udp6_both_ways),
        cmocka_unit_test(test_wsk_udp6_link_local_scope_id),
        cmocka_unit_test(test_wsk_udp6_dual_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
