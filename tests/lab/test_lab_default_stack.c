/* SPDX-License-Identifier: MIT */
/*
 * Lab: the process-default stack, as a plain WSK client gets it.
 *
 * A client calls only WskRegister; the first WskCaptureProviderNPI creates
 * the stack from the WSKSTACK_CONFIG environment variable (wsk/provider.c):
 *
 *     kernel 192.0.2.1/24 [wskdef0, MTU 1400] <== TAP ==> default stack
 *                                                 192.0.2.2/24,
 *                                                 02:00:5e:00:53:02,
 *                                                 gateway 192.0.2.1
 *
 *  - every key reaches the wire: the kernel sees the link up with MTU 1400
 *    and 192.0.2.1/24, a datagram to the kernel leaves with the configured
 *    MAC, a datagram to 198.51.100.7 (off-link) goes to the gateway's (the
 *    kernel side's) MAC; WsksGetStack gives the stack, named wskdef0; the
 *    TAP is gone after the last WskDeregister;
 *  - an unknown key or a malformed value: the capture fails with
 *    STATUS_DEVICE_NOT_READY, stderr names the key, and no link is left;
 *  - a later capture, once WSKSTACK_CONFIG is fixed, succeeds.
 *
 * Every case enters a fresh network namespace first.  The process-default
 * stack is the process's own global: each case leaves it down (the
 * teardown closes, releases and deregisters whatever a failed case left),
 * so the next case creates it anew.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lab_stack.h"

#define CONFIG_GOOD                                                                      \
    "tap=wskdef0;mac=02:00:5e:00:53:02;mtu=1400;addr=192.0.2.2/24;host-addr=192.0.2.1/24;" \
    "gateway=192.0.2.1"
#define KPORT 7301
#define OFFLINK "198.51.100.7"

static const uint8_t stack_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x02};

/* ---- the client: WskRegister on the default stack, cleaned up in teardown -------- */
struct client {
    WSK_CLIENT_DISPATCH dispatch;
    WSK_CLIENT_NPI npi;
    WSK_REGISTRATION reg;
    WSK_PROVIDER_NPI prov;
    bool registered, captured;
    PWSK_SOCKET sock;
    int kfd, cap;
};

static struct client g_client;

static int case_setup(void **state)
{
    struct client *c = &g_client;
    memset(c, 0, sizeof *c);
    c->kfd = c->cap = -1;
    c->dispatch.Version = MAKE_WSK_VERSION(1, 0);
    c->npi.ClientContext = c;
    c->npi.Dispatch = &c->dispatch;
    *state = c;
    return 0;
}

/* Close, release, deregister: the last WskDeregister takes the default
 * stack (and its TAP) down, so the next case starts without one. */
static void client_down(struct client *c)
{
    if (c->sock != NULL) {
        NTSTATUS s = wskc_close(c->sock);
        c->sock = NULL;
        assert_int_equal(s, STATUS_SUCCESS);
    }
    if (c->captured) {
        WskReleaseProviderNPI(&c->reg);
        c->captured = false;
    }
    if (c->registered) {
        WskDeregister(&c->reg);
        c->registered = false;
    }
}

static int case_teardown(void **state)
{
    struct client *c = *state;
    client_down(c);
    lk_close(c->kfd);
    lk_close(c->cap);
    c->kfd = c->cap = -1;
    unsetenv("WSKSTACK_CONFIG");
    return wskc_contract_errors == 0 ? 0 : -1;
}

static void client_register(struct client *c)
{
    assert_int_equal(WskRegister(&c->npi, &c->reg), STATUS_SUCCESS);
    c->registered = true;
    /* No stack before the first successful capture. */
    assert_null(WsksGetStack(&c->reg));
}

/* WskCaptureProviderNPI(WSK_INFINITE_WAIT) with stderr redirected into
 * `msg` (also echoed to the real stderr, for the test log). */
static NTSTATUS capture_stderr(struct client *c, char *msg, size_t cap)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    NTSTATUS s = WskCaptureProviderNPI(&c->reg, WSK_INFINITE_WAIT, &c->prov);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    if (NT_SUCCESS(s))
        c->captured = true;
    rewind(tmp);
    size_t n = fread(msg, 1, cap - 1, tmp);
    msg[n] = '\0';
    fclose(tmp);
    if (n > 0)
        fprintf(stderr, "(captured stderr) %s", msg);
    return s;
}

/* ---- the kernel's view of its links ------------------------------------------------ */
/* `ip -j addr show dev NAME` (iproute2, in this namespace).  Exit status. */
static int ip_json(const char *ifname, char *out, size_t len)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "ip -j addr show dev %s 2>/dev/null", ifname);
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Does any link of this namespace have a name starting with "wsk"?  Read
 * from /proc/net/dev, which shows the links of the reader's namespace.
 * The first one found goes to `name`. */
static bool wsk_link_exists(char name[32])
{
    FILE *f = fopen("/proc/net/dev", "r");
    assert_non_null(f);
    char line[512];
    bool found = false;
    name[0] = '\0';
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (colon == NULL)
            continue; /* the two header lines */
        *colon = '\0';
        const char *p = line;
        while (*p == ' ')
            p++;
        if (strncmp(p, "wsk", 3) == 0) {
            snprintf(name, 32, "%.16s", p); /* IFNAMSIZ */
            found = true;
        }
    }
    fclose(f);
    return found;
}

static void assert_no_wsk_link(void)
{
    char name[32];
    if (wsk_link_exists(name))
        fail_msg("link %s was left behind by a failed capture", name);
}

/* The next IPv4 frame the stack wrote (kernel direction IN) to UDP port
 * dport, within timeout_ms.  Its length, or fails the test. */
static long next_stack_udp(int cap, uint8_t *f, size_t len, uint16_t dport, unsigned timeout_ms)
{
    uint64_t deadline = lk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        uint64_t now = lk_now_ns();
        if (now >= deadline)
            fail_msg("no UDP frame to port %u from the stack within %u ms", dport, timeout_ms);
        int dir = -1;
        long n = lk_capture_next(cap, f, len, (unsigned)((deadline - now) / 1000000ull) + 1,
                                 &dir, NULL);
        if (n == -ETIMEDOUT)
            continue;
        assert_true(n > 0);
        /* Ethernet 14 + IPv4 20 (the stack sends no options) + UDP 8 */
        if (dir != LK_DIR_IN || n < 42 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 ||
            f[23] != 17)
            continue;
        if (((unsigned)f[36] << 8 | f[37]) != dport)
            continue;
        return n;
    }
}

/* A counter is bumped once the frame is written, which may be just after
 * the kernel saw it: wait (at most 2 s) for `target`, then let 50 ms pass so
 * that a surplus would show.  The value, for an exact comparison. */
struct cnt_wait {
    struct wskstack *st;
    const char *name;
    int64_t target;
};

static bool cnt_reached(void *ctx)
{
    struct cnt_wait *w = ctx;
    return wskstack_counter(w->st, w->name) >= w->target;
}

static int64_t cnt_settle(struct wskstack *st, const char *name, int64_t target)
{
    struct cnt_wait w = {st, name, target};
    (void)lk_wait_until(cnt_reached, &w, 2000, 2);
    lk_sleep_ms(50);
    return wskstack_counter(st, name);
}

/* ---- (a) every key reaches the wire --------------------------------------------------- */
static void test_default_stack_from_env(void **state)
{
    struct client *c = *state;
    assert_int_equal(tu_enter_netns(), 0);
    assert_no_wsk_link();
    assert_int_equal(setenv("WSKSTACK_CONFIG", CONFIG_GOOD, 1), 0);
    client_register(c);
    char msg[512];
    assert_int_equal(capture_stderr(c, msg, sizeof msg), STATUS_SUCCESS);
    assert_string_equal(msg, ""); /* nothing to complain about */

    /* The stack of the registration: the default one, as configured. */
    struct wskstack *st = WsksGetStack(&c->reg);
    assert_non_null(st);
    assert_string_equal(wskstack_ifname(st), "wskdef0");
    uint8_t mac[6];
    wskstack_mac(st, mac);
    assert_memory_equal(mac, stack_mac, 6);
    int ifindex = lk_ifindex("wskdef0");
    assert_true(ifindex > 0);
    assert_int_equal(wskstack_ifindex(st), ifindex);

    /* The kernel side: up, MTU 1400, 192.0.2.1/24. */
    char out[8192];
    assert_int_equal(ip_json("wskdef0", out, sizeof out), 0);
    if (strstr(out, "\"mtu\":1400,") == NULL || strstr(out, "\"UP\"") == NULL ||
        strstr(out, "\"local\":\"192.0.2.1\",\"prefixlen\":24,") == NULL)
        fail_msg("kernel side of wskdef0 is not up/MTU 1400/192.0.2.1/24: %s", out);
    uint8_t kmac[6];
    assert_int_equal(lk_if_mac("wskdef0", kmac), 0);
    assert_memory_not_equal(kmac, stack_mac, 6);

    /* A socket of the default stack; the kernel listens on 192.0.2.1. */
    assert_int_equal(wskc_socket(&c->prov, &c->sock), STATUS_SUCCESS);
    assert_int_equal(wskc_bind(c->sock, NULL, 0), STATUS_SUCCESS);
    uint16_t port = wskc_local_port(c->sock);
    assert_true(port != 0);
    c->kfd = lk_udp_open("192.0.2.1", KPORT);
    assert_true(c->kfd >= 0);
    c->cap = lk_capture_open("wskdef0", 0x0800);
    assert_true(c->cap >= 0);

    /* On-link: arrives intact, from the configured MAC and address. */
    static const char on[] = "default stack -> kernel";
    struct wskc_op op;
    assert_int_equal(wskc_sendto(c->sock, on, sizeof on - 1, "192.0.2.1", KPORT, 3000, &op),
                     STATUS_SUCCESS);
    assert_int_equal(op.info, sizeof on - 1);
    char buf[128], src[LK_ADDRSTRLEN] = "";
    uint16_t sport = 0;
    assert_int_equal(lk_udp_recv(c->kfd, buf, sizeof buf, 2000, src, &sport), sizeof on - 1);
    assert_memory_equal(buf, on, sizeof on - 1);
    assert_string_equal(src, "192.0.2.2");
    assert_int_equal(sport, port);
    uint8_t f[2048];
    long n = next_stack_udp(c->cap, f, sizeof f, KPORT, 2000);
    assert_memory_equal(f, kmac, 6);          /* to the kernel side */
    assert_memory_equal(f + 6, stack_mac, 6); /* from mac= */
    static const uint8_t ip_stack[4] = {192, 0, 2, 2}, ip_kernel[4] = {192, 0, 2, 1};
    assert_memory_equal(f + 26, ip_stack, 4);
    assert_memory_equal(f + 30, ip_kernel, 4);
    assert_int_equal(n, 42 + (long)(sizeof on - 1));

    /* Off-link: through gateway= - the frame goes to the kernel side's MAC,
     * the IP destination stays 198.51.100.7. */
    static const char off[] = "default stack -> 198.51.100.7 via the gateway";
    assert_int_equal(wskc_sendto(c->sock, off, sizeof off - 1, OFFLINK, 9, 3000, &op),
                     STATUS_SUCCESS);
    assert_int_equal(op.info, sizeof off - 1);
    n = next_stack_udp(c->cap, f, sizeof f, 9, 2000);
    static const uint8_t ip_off[4] = {198, 51, 100, 7};
    assert_memory_equal(f, kmac, 6);
    assert_memory_equal(f + 6, stack_mac, 6);
    assert_memory_equal(f + 26, ip_stack, 4);
    assert_memory_equal(f + 30, ip_off, 4);
    assert_int_equal(n, 42 + (long)(sizeof off - 1));
    assert_int_equal(cnt_settle(st, "UdpOutDatagrams", 2), 2);
    assert_int_equal(wskstack_counter(st, "IpOutNoRoutes"), 0);

    /* The last deregistration takes the stack and its TAP away. */
    lk_close(c->cap);
    c->cap = -1;
    client_down(c);
    assert_int_equal(lk_ifindex("wskdef0"), -ENODEV); /* if_nametoindex() == 0 */
    assert_no_wsk_link();
}

/* ---- (b), (c) a bad WSKSTACK_CONFIG ----------------------------------------------------- */
static void capture_fails(struct client *c, const char *config, const char *key,
                          const char *also)
{
    assert_int_equal(tu_enter_netns(), 0);
    assert_no_wsk_link();
    assert_int_equal(setenv("WSKSTACK_CONFIG", config, 1), 0);
    client_register(c);
    char msg[512];
    assert_int_equal(capture_stderr(c, msg, sizeof msg), STATUS_DEVICE_NOT_READY);
    if (strstr(msg, key) == NULL || strstr(msg, also) == NULL)
        fail_msg("WSKSTACK_CONFIG=\"%s\": the message does not name \"%s\": \"%s\"", config, key,
                 msg);
    assert_non_null(strstr(msg, "wskstack: "));
    assert_null(WsksGetStack(&c->reg));
    assert_no_wsk_link();
    /* Failing again is just as clean. */
    assert_int_equal(capture_stderr(c, msg, sizeof msg), STATUS_DEVICE_NOT_READY);
    assert_no_wsk_link();
    client_down(c);
}

static void test_unknown_key(void **state)
{
    capture_fails(*state, "addr=192.0.2.2/24;bogus=1", "bogus", "unknown key");
}

static void test_malformed_value(void **state)
{
    /* Valid keys first: a TAP name and addresses are known before mtu is
     * rejected - still nothing may be created. */
    capture_fails(*state, "tap=wskdef1;addr=192.0.2.2/24;host-addr=192.0.2.1/24;mtu=abc", "mtu",
                  "abc");
}

/* ---- (d) a later capture tries again ---------------------------------------------------- */
static void test_retry_after_failure(void **state)
{
    struct client *c = *state;
    assert_int_equal(tu_enter_netns(), 0);
    assert_int_equal(setenv("WSKSTACK_CONFIG", "addr=192.0.2.2/24;mtu=abc", 1), 0);
    client_register(c);
    char msg[512];
    assert_int_equal(capture_stderr(c, msg, sizeof msg), STATUS_DEVICE_NOT_READY);
    assert_non_null(strstr(msg, "mtu"));
    assert_no_wsk_link();

    /* Fixed: the same registration captures, and the stack works. */
    assert_int_equal(setenv("WSKSTACK_CONFIG", CONFIG_GOOD, 1), 0);
    assert_int_equal(capture_stderr(c, msg, sizeof msg), STATUS_SUCCESS);
    assert_string_equal(msg, "");
    struct wskstack *st = WsksGetStack(&c->reg);
    assert_non_null(st);
    assert_string_equal(wskstack_ifname(st), "wskdef0");
    assert_true(lk_ifindex("wskdef0") > 0);
    /* The kernel reaches it: one ping answered. */
    int64_t rtt = lk_ping("192.0.2.2", 0x5e, 1, 56, 2000);
    if (rtt <= 0)
        fail_msg("ping 192.0.2.2: %s", strerror((int)-rtt));
    assert_int_equal(cnt_settle(st, "IcmpInEchos", 1), 1);

    client_down(c);
    assert_int_equal(lk_ifindex("wskdef0"), -ENODEV);
    assert_no_wsk_link();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_stack_from_env, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_value, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_failure, case_setup, case_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
