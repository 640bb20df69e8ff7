/* SPDX-License-Identifier: MIT */
/*
 * Lab test of the real TAP device (tap.c, tapcfg.c).  Runs as root in its own
 * network namespace; the Linux kernel on the other side of the TAP is the
 * peer:
 *
 *     test (this process)            kernel (same netns)
 *     02:00:00:00:00:02 192.0.2.2    wskN: kmac, 192.0.2.1/24, 2001:db8::1/64
 *          dev_send / dev_recv  <-->  TAP fd
 *
 * Checks: the kernel side is configured as asked (seen through libnl and
 * `ip -j`), an ARP request is answered by the kernel, the error messages
 * (missing /dev/net/tun, no CAP_NET_ADMIN, name in use, bad config), nothing
 * is left behind on failure, and what the device reports after `ip link del`
 * and `ip link set down`.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/if_addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "tap/dev.h"
#include "testutil.h"

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t ip_host[4] = {192, 0, 2, 1};  /* kernel side */
static const uint8_t ip_peer[4] = {192, 0, 2, 2};  /* the "stack" */
static const uint8_t ip6_host[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

/* Run a shell command, capture up to len-1 bytes of its stdout. */
static int run(const char *cmd, char *out, size_t len)
{
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    size_t n = 0;
    if (out != NULL && len > 0) {
        n = fread(out, 1, len - 1, f);
        out[n] = '\0';
    } else {
        char sink[256];
        while (fread(sink, 1, sizeof sink, f) > 0)
            ;
    }
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct dev *open_lab_tap(uint32_t mtu)
{
    struct dev_prefix host[2] = {
        {.family = AF_INET, .plen = 24},
        {.family = AF_INET6, .plen = 64},
    };
    memcpy(host[0].addr, ip_host, 4);
    memcpy(host[1].addr, ip6_host, 16);
    struct tap_config cfg = {.mtu = mtu, .host_addrs = host, .n_host_addrs = 2};
    struct dev *d = NULL;
    char err[256] = "";
    int rc = tap_open(&cfg, &d, err, sizeof err);
    if (rc != 0)
        fail_msg("tap_open: %d %s", rc, err);
    assert_non_null(d);
    return d;
}

/* ---- configuration as seen by the kernel -------------------------------- */

static void test_open_configures_kernel_side(void **state)
{
    (void)state;
    struct dev *d = open_lab_tap(1400);
    assert_int_equal(strncmp(d->name, "wsk", 3), 0);
    assert_true(d->name[3] >= '0' && d->name[3] <= '9');
    assert_int_equal((int)if_nametoindex(d->name), d->ifindex);
    assert_int_equal(d->mtu, 1400);
    uint8_t mac[6];
    assert_int_equal(tapcfg_link_get_mac(d->ifindex, mac), 0);
    assert_memory_equal(mac, d->kmac, 6);
    assert_int_equal(d->kmac[0] & 1, 0); /* a unicast MAC */

    /* libnl view: link up, MTU */
    struct nl_sock *sk = nl_socket_alloc();
    assert_non_null(sk);
    assert_int_equal(nl_connect(sk, NETLINK_ROUTE), 0);
    struct rtnl_link *link = NULL;
    assert_int_equal(rtnl_link_get_kernel(sk, d->ifindex, NULL, &link), 0);
    assert_true(rtnl_link_get_flags(link) & IFF_UP);
    assert_int_equal(rtnl_link_get_mtu(link), 1400);
    rtnl_link_put(link);

    /* libnl view: both addresses, the IPv6 one not tentative */
    struct nl_cache *cache = NULL;
    assert_int_equal(rtnl_addr_alloc_cache(sk, &cache), 0);
    int found4 = 0, found6 = 0;
    for (struct nl_object *o = nl_cache_get_first(cache); o != NULL; o = nl_cache_get_next(o)) {
        struct rtnl_addr *a = (struct rtnl_addr *)o;
        if (rtnl_addr_get_ifindex(a) != d->ifindex)
            continue;
        struct nl_addr *l = rtnl_addr_get_local(a);
        if (rtnl_addr_get_family(a) == AF_INET &&
            memcmp(nl_addr_get_binary_addr(l), ip_host, 4) == 0) {
            found4++;
            assert_int_equal(rtnl_addr_get_prefixlen(a), 24);
        }
        if (rtnl_addr_get_family(a) == AF_INET6 &&
            memcmp(nl_addr_get_binary_addr(l), ip6_host, 16) == 0) {
            found6++;
            assert_int_equal(rtnl_addr_get_prefixlen(a), 64);
            assert_int_equal(rtnl_addr_get_flags(a) & IFA_F_TENTATIVE, 0);
            assert_int_equal(rtnl_addr_get_flags(a) & IFA_F_NODAD, IFA_F_NODAD);
        }
    }
    assert_int_equal(found4, 1);
    assert_int_equal(found6, 1);
    nl_cache_free(cache);
    nl_close(sk);
    nl_socket_free(sk);

    /* iproute2 view */
    char cmd[128], out[8192];
    snprintf(cmd, sizeof cmd, "ip -j addr show dev %s", d->name);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"mtu\":1400,"));
    assert_non_null(strstr(out, "\"UP\""));
    assert_non_null(strstr(out, "\"local\":\"192.0.2.1\",\"prefixlen\":24,"));
    const char *v6 = strstr(out, "\"local\":\"2001:db8::1\",\"prefixlen\":64,");
    assert_non_null(v6);
    const char *end = strchr(v6, '}');
    assert_non_null(end);
    char entry[512];
    snprintf(entry, sizeof entry, "%.*s", (int)(end - v6), v6);
    assert_null(strstr(entry, "tentative"));
    assert_non_null(strstr(entry, "\"nodad\":true"));
    char name[16];
    memcpy(name, d->name, sizeof name);
    dev_close(d);
    /* closing the fd deleted the TAP */
    assert_int_equal(if_nametoindex(name), 0);
}

static void test_close_deletes_link(void **state)
{
    (void)state;
    struct tap_config cfg = {.name = "wskclose0"};
    struct dev *d = NULL;
    char err[256] = "";
    assert_int_equal(tap_open(&cfg, &d, err, sizeof err), 0);
    assert_string_equal(d->name, "wskclose0");
    assert_int_equal(d->mtu, 1500); /* kernel default, read back */
    assert_int_not_equal(if_nametoindex("wskclose0"), 0);
    dev_close(d);
    assert_int_equal(if_nametoindex("wskclose0"), 0);
}

/* ---- the kernel as the peer: ARP ------------------------------------------ */

static size_t build_arp_request(uint8_t *f)
{
    memset(f, 0, 60);
    memset(f, 0xff, 6);                     /* dst: broadcast */
    memcpy(f + 6, peer_mac, 6);             /* src */
    f[12] = 0x08, f[13] = 0x06;             /* ARP */
    f[14] = 0, f[15] = 1;                   /* htype Ethernet */
    f[16] = 0x08, f[17] = 0x00;             /* ptype IPv4 */
    f[18] = 6, f[19] = 4;                   /* hlen, plen */
    f[20] = 0, f[21] = 1;                   /* request */
    memcpy(f + 22, peer_mac, 6);            /* sha */
    memcpy(f + 28, ip_peer, 4);             /* spa */
    /* tha 0 */
    memcpy(f + 38, ip_host, 4);             /* tpa */
    return 60;                              /* padded to the Ethernet minimum */
}

static void test_arp_with_kernel(void **state)
{
    (void)state;
    struct dev *d = open_lab_tap(0);
    uint8_t req[60];
    struct dev_frame out = {.data = req, .len = (uint32_t)build_arp_request(req)};
    assert_int_equal(dev_send(d, &out, 1), 1);

    uint8_t bufs[8][1600];
    struct dev_frame in[8];
    int seen = 0, frames = 0;
    uint8_t reply[64];
    uint32_t reply_len = 0;
    uint64_t deadline = tu_now_ns() + 3000000000ull;
    for (int iter = 0; iter < 100 && !seen && tu_now_ns() < deadline; iter++) {
        struct pollfd p = {.fd = dev_pollfd(d), .events = POLLIN};
        int pr = poll(&p, 1, 100);
        assert_true(pr >= 0);
        if (pr == 0)
            continue;
        assert_int_equal(p.revents, POLLIN);
        for (int i = 0; i < 8; i++)
            in[i] = (struct dev_frame){.data = bufs[i], .cap = sizeof bufs[i]};
        int n = dev_recv(d, in, 8);
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            frames++;
            if (in[i].len >= 42 && bufs[i][12] == 0x08 && bufs[i][13] == 0x06 &&
                bufs[i][21] == 2) {
                seen++;
                reply_len = in[i].len;
                memcpy(reply, bufs[i], in[i].len < sizeof reply ? in[i].len : sizeof reply);
            }
        }
    }
    assert_int_equal(seen, 1);
    assert_true(frames >= 1);
    /* the kernel's reply, field by field (RFC 826) */
    assert_int_equal(reply_len, 42); /* the TAP gets it unpadded */
    uint8_t exp[42] = {0};
    memcpy(exp, peer_mac, 6);
    memcpy(exp + 6, d->kmac, 6);
    exp[12] = 0x08, exp[13] = 0x06, exp[15] = 1, exp[16] = 0x08, exp[18] = 6, exp[19] = 4;
    exp[21] = 2;
    memcpy(exp + 22, d->kmac, 6);
    memcpy(exp + 28, ip_host, 4);
    memcpy(exp + 32, peer_mac, 6);
    memcpy(exp + 38, ip_peer, 4);
    assert_memory_equal(reply, exp, 42);

    /* and the kernel learned our MAC from the request */
    char cmd[128], outs[2048];
    snprintf(cmd, sizeof cmd, "ip -j neigh show dev %s 192.0.2.2", d->name);
    assert_int_equal(run(cmd, outs, sizeof outs), 0);
    assert_non_null(strstr(outs, "\"lladdr\":\"02:00:00:00:00:02\""));
    dev_close(d);
}

/* ---- tapcfg on an existing link ------------------------------------------- */

static void test_tapcfg_routes_and_addrs(void **state)
{
    (void)state;
    struct dev *d = open_lab_tap(0);
    char err[256] = "", cmd[160], out[8192];

    struct dev_prefix r1 = {.family = AF_INET, .addr = {198, 51, 100, 0}, .plen = 24};
    const uint8_t gw4[4] = {192, 0, 2, 2};
    assert_int_equal(tapcfg_route_add(d->ifindex, &r1, gw4, err, sizeof err), 0);
    struct dev_prefix r2 = {.family = AF_INET, .addr = {203, 0, 113, 0}, .plen = 24};
    assert_int_equal(tapcfg_route_add(d->ifindex, &r2, NULL, err, sizeof err), 0);
    struct dev_prefix r3 = {.family = AF_INET6, .addr = {0x20, 0x01, 0x0d, 0xb8, 0, 1}, .plen = 48};
    const uint8_t gw6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    assert_int_equal(tapcfg_route_add(d->ifindex, &r3, gw6, err, sizeof err), 0);
    struct dev_prefix def = {.family = AF_INET, .plen = 0};
    assert_int_equal(tapcfg_route_add(d->ifindex, &def, gw4, err, sizeof err), 0);

    snprintf(cmd, sizeof cmd, "ip -j -4 route show dev %s", d->name);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "{\"dst\":\"198.51.100.0/24\",\"gateway\":\"192.0.2.2\",\"protocol\":\"static\","));
    assert_non_null(strstr(out, "{\"dst\":\"203.0.113.0/24\",\"protocol\":\"static\",\"scope\":\"link\","));
    assert_non_null(strstr(out, "{\"dst\":\"default\",\"gateway\":\"192.0.2.2\",\"protocol\":\"static\","));
    snprintf(cmd, sizeof cmd, "ip -j -6 route show dev %s", d->name);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "{\"dst\":\"2001:db8:1::/48\",\"gateway\":\"2001:db8::2\",\"protocol\":\"static\","));

    /* the same route again: EEXIST, with a message naming it */
    assert_int_equal(tapcfg_route_add(d->ifindex, &r1, gw4, err, sizeof err), -EEXIST);
    char want[256];
    snprintf(want, sizeof want, "add route 198.51.100.0/24 via 192.0.2.2 on ifindex %d: Object exists",
             d->ifindex);
    assert_string_equal(err, want);
    /* bad prefix */
    struct dev_prefix bad = {.family = AF_INET, .addr = {198, 51, 100, 0}, .plen = 33};
    assert_int_equal(tapcfg_route_add(d->ifindex, &bad, NULL, err, sizeof err), -EINVAL);
    assert_string_equal(err, "add route 198.51.100.0/33: not an IPv4 or IPv6 prefix");

    /* addresses: add a second one, duplicate, delete */
    struct dev_prefix a2 = {.family = AF_INET6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x11}, .plen = 64};
    assert_int_equal(tapcfg_addr_add(d->ifindex, &a2, err, sizeof err), 0);
    assert_int_equal(tapcfg_addr_add(d->ifindex, &a2, err, sizeof err), -EEXIST);
    snprintf(want, sizeof want, "add address 2001:db8::11/64 on ifindex %d: Object exists", d->ifindex);
    assert_string_equal(err, want);
    snprintf(cmd, sizeof cmd, "ip -j addr show dev %s", d->name);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"local\":\"2001:db8::11\",\"prefixlen\":64,"));
    assert_int_equal(tapcfg_addr_del(d->ifindex, &a2, err, sizeof err), 0);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_null(strstr(out, "2001:db8::11"));
    assert_non_null(strstr(out, "\"local\":\"2001:db8::1\",\"prefixlen\":64,"));
    assert_int_equal(tapcfg_addr_del(d->ifindex, &a2, err, sizeof err), -EADDRNOTAVAIL);
    struct dev_prefix fam = {.family = 99, .plen = 1};
    assert_int_equal(tapcfg_addr_add(d->ifindex, &fam, err, sizeof err), -EINVAL);
    assert_string_equal(err, "add address (family 99)/1: not an IPv4 or IPv6 prefix");

    /* MTU through tapcfg, checked by the kernel */
    assert_int_equal(tapcfg_set_mtu(d->ifindex, 9000, err, sizeof err), 0);
    snprintf(cmd, sizeof cmd, "ip -j link show dev %s", d->name);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"mtu\":9000,"));
    assert_int_equal(tapcfg_set_mtu(d->ifindex, 70000, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "set MTU 70000 on ifindex %d: Invalid input data or parameter",
             d->ifindex);
    assert_string_equal(err, want);
    dev_close(d);
}

static void test_tapcfg_no_such_link(void **state)
{
    (void)state;
    char err[256] = "";
    int idx = 77777;
    assert_int_equal(tapcfg_link_up(idx, err, sizeof err), -ENODEV);
    assert_int_equal(strncmp(err, "link up: no link with ifindex 77777: ", 37), 0);
    assert_int_equal(tapcfg_set_mtu(idx, 1500, err, sizeof err), -ENODEV);
    uint8_t mac[6];
    assert_int_equal(tapcfg_link_get_mac(idx, mac), -ENODEV);
    struct dev_prefix p = {.family = AF_INET, .addr = {192, 0, 2, 9}, .plen = 24};
    assert_int_equal(tapcfg_addr_add(idx, &p, err, sizeof err), -ENODEV);
    assert_string_equal(err, "add address 192.0.2.9/24 on ifindex 77777: No such device");
}

/* ---- failures and their messages ------------------------------------------ */

static void test_missing_tun_node(void **state)
{
    (void)state;
    struct tap_config cfg = {.tun_path = "/nonexistent"};
    struct dev *d = (struct dev *)&cfg; /* must be reset to NULL */
    char err[256] = "";
    assert_int_equal(tap_open(&cfg, &d, err, sizeof err), -ENOENT);
    assert_null(d);
    assert_string_equal(err, "/nonexistent is missing (load the tun module or create the node: "
                             "mknod /nonexistent c 10 200)");
}

/* The default path's message: a child hides /dev/net behind an empty tmpfs in
 * its own mount namespace. */
static void test_missing_default_tun_node(void **state)
{
    (void)state;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("tmpfs", "/dev/net", "tmpfs", 0, NULL) != 0)
            _exit(10);
        struct dev *d = NULL;
        char err[256] = "";
        int rc = tap_open(NULL, &d, err, sizeof err);
        if (write(pfd[1], err, strlen(err) + 1) < 0)
            _exit(11);
        _exit(rc == -ENOENT && d == NULL ? 0 : 12);
    }
    close(pfd[1]);
    char err[256] = "";
    ssize_t n = read(pfd[0], err, sizeof err - 1);
    close(pfd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(n > 0);
    assert_string_equal(err, "/dev/net/tun is missing (load the tun module or create the node: "
                             "mknod /dev/net/tun c 10 200)");
}

static void test_no_cap_net_admin(void **state)
{
    (void)state;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct data[2];
        memset(data, 0, sizeof data);
        if (syscall(SYS_capget, &hdr, data) != 0)
            _exit(10);
        data[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
        if (syscall(SYS_capset, &hdr, data) != 0)
            _exit(11);
        struct tap_config cfg = {.name = "wskcap0"};
        struct dev *d = NULL;
        char err[256] = "";
        int rc = tap_open(&cfg, &d, err, sizeof err);
        if (write(pfd[1], err, strlen(err) + 1) < 0)
            _exit(12);
        _exit(rc == -EPERM && d == NULL ? 0 : 13);
    }
    close(pfd[1]);
    char err[256] = "";
    ssize_t n = read(pfd[0], err, sizeof err - 1);
    close(pfd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(n > 0);
    assert_string_equal(err, "TUNSETIFF wskcap0: Operation not permitted: CAP_NET_ADMIN is "
                             "needed to create a TAP (run as root or grant cap_net_admin)");
    assert_int_equal(if_nametoindex("wskcap0"), 0);
}

static void test_name_in_use_and_bad_names(void **state)
{
    (void)state;
    struct tap_config cfg = {.name = "wskbusy0"};
    struct dev *d1 = NULL, *d2 = NULL;
    char err[256] = "";
    assert_int_equal(tap_open(&cfg, &d1, err, sizeof err), 0);
    assert_int_equal(tap_open(&cfg, &d2, err, sizeof err), -EBUSY);
    assert_null(d2);
    assert_string_equal(err, "TUNSETIFF wskbusy0: the interface exists and is in use: "
                             "Device or resource busy");
    /* the first one is untouched */
    assert_int_equal((int)if_nametoindex("wskbusy0"), d1->ifindex);
    dev_close(d1);

    /* an existing link of another type */
    cfg.name = "lo";
    assert_int_equal(tap_open(&cfg, &d2, err, sizeof err), -EINVAL);
    assert_string_equal(err, "TUNSETIFF lo: Invalid argument");

    cfg.name = "abcdefghijklmnop";
    assert_int_equal(tap_open(&cfg, &d2, err, sizeof err), -EINVAL);
    assert_string_equal(err, "TAP name \"abcdefghijklmnop\" must have 1 to 15 characters");
    cfg.name = "";
    assert_int_equal(tap_open(&cfg, &d2, err, sizeof err), -EINVAL);
    assert_string_equal(err, "TAP name \"\" must have 1 to 15 characters");
    assert_int_equal(tap_open(&cfg, NULL, err, sizeof err), -EINVAL);
}

/* A configuration step fails after the TAP exists: the TAP goes away. */
static void test_config_failure_leaves_nothing(void **state)
{
    (void)state;
    char err[256] = "";
    struct dev *d = NULL;

    struct dev_prefix bad = {.family = AF_INET, .addr = {192, 0, 2, 1}, .plen = 33};
    struct tap_config c1 = {.name = "wskfail0", .host_addrs = &bad, .n_host_addrs = 1};
    assert_int_equal(tap_open(&c1, &d, err, sizeof err), -EINVAL);
    assert_null(d);
    assert_string_equal(err, "TAP wskfail0: add address 192.0.2.1/33: not an IPv4 or IPv6 prefix");
    assert_int_equal(if_nametoindex("wskfail0"), 0);

    struct dev_prefix dup[2] = {
        {.family = AF_INET, .addr = {192, 0, 2, 1}, .plen = 24},
        {.family = AF_INET, .addr = {192, 0, 2, 1}, .plen = 24},
    };
    struct tap_config c2 = {.name = "wskfail1", .host_addrs = dup, .n_host_addrs = 2};
    assert_int_equal(tap_open(&c2, &d, err, sizeof err), -EEXIST);
    const char *pfx = "TAP wskfail1: add address 192.0.2.1/24 on ifindex ";
    assert_int_equal(strncmp(err, pfx, strlen(pfx)), 0);
    const char *sfx = ": Object exists";
    assert_string_equal(err + strlen(err) - strlen(sfx), sfx);
    assert_int_equal(if_nametoindex("wskfail1"), 0);

    struct tap_config c3 = {.name = "wskfail2", .mtu = 70000};
    assert_int_equal(tap_open(&c3, &d, err, sizeof err), -EINVAL);
    pfx = "TAP wskfail2: set MTU 70000 on ifindex ";
    assert_int_equal(strncmp(err, pfx, strlen(pfx)), 0);
    assert_non_null(strstr(err, ": Invalid input data or parameter"));
    assert_int_equal(if_nametoindex("wskfail2"), 0);

    /* and no link at all is left: only lo */
    char out[4096];
    assert_int_equal(run("ip -o link show | wc -l", out, sizeof out), 0);
    assert_string_equal(out, "1\n");
}

/* ---- the device disappears (BAD-INPUT.md case 48) --------------------------- */

static void test_link_deleted(void **state)
{
    (void)state;
    struct dev *d = open_lab_tap(0);
    /* a frame is waiting when the link goes away */
    uint8_t req[60];
    struct dev_frame out = {.data = req, .len = (uint32_t)build_arp_request(req)};
    assert_int_equal(dev_send(d, &out, 1), 1);

    struct nl_sock *sk = nl_socket_alloc();
    assert_non_null(sk);
    assert_int_equal(nl_connect(sk, NETLINK_ROUTE), 0);
    struct rtnl_link *l = rtnl_link_alloc();
    rtnl_link_set_ifindex(l, d->ifindex);
    assert_int_equal(rtnl_link_delete(sk, l), 0);
    rtnl_link_put(l);
    nl_close(sk);
    nl_socket_free(sk);
    assert_int_equal(if_nametoindex(d->name), 0);

    /* poll wakes at once with POLLERR (not POLLHUP) and keeps doing so;
     * recv says -ENODEV every time, never 0 ("nothing yet"), so a receive
     * loop stops instead of spinning on the ready fd. */
    for (int i = 0; i < 3; i++) {
        struct pollfd p = {.fd = dev_pollfd(d), .events = POLLIN};
        uint64_t t0 = tu_now_ns();
        assert_int_equal(poll(&p, 1, 2000), 1);
        assert_true(tu_now_ns() - t0 < 500000000ull);
        assert_int_equal(p.revents, POLLERR);
        uint8_t b[1600];
        struct dev_frame in = {.data = b, .cap = sizeof b};
        assert_int_equal(dev_recv(d, &in, 1), -ENODEV);
    }
    assert_int_equal(dev_send(d, &out, 1), -ENODEV);
    dev_close(d);
}

static void test_link_down_is_not_gone(void **state)
{
    (void)state;
    struct dev *d = open_lab_tap(0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ip link set dev %s down", d->name);
    assert_int_equal(run(cmd, NULL, 0), 0);
    uint8_t req[60];
    struct dev_frame out = {.data = req, .len = (uint32_t)build_arp_request(req)};
    /* write to an administratively down TAP: EIO -> -ENETDOWN, not -ENODEV */
    assert_int_equal(dev_send(d, &out, 1), -ENETDOWN);
    uint8_t b[1600];
    struct dev_frame in = {.data = b, .cap = sizeof b};
    /* drain what was queued while up; then nothing: 0, not an error */
    int n, rounds = 0;
    while ((n = dev_recv(d, &in, 1)) == 1 && rounds < 100)
        rounds++;
    assert_int_equal(n, 0);
    char err[256];
    assert_int_equal(tapcfg_link_up(d->ifindex, err, sizeof err), 0);
    assert_int_equal(dev_send(d, &out, 1), 1);
    dev_close(d);
}

/* send: several frames per call, offloads refused, runt frames */
static void test_send_vector(void **state)
{
    (void)state;
    struct dev *d = open_lab_tap(0);
    uint8_t req[60];
    build_arp_request(req);
    struct dev_frame v[3] = {
        {.data = req, .len = 60}, {.data = req, .len = 60}, {.data = req, .len = 60}};
    assert_int_equal(dev_send(d, v, 3), 3);
    v[1].off.gso_type = 5;
    assert_int_equal(dev_send(d, v, 3), 1); /* stops before the offload frame */
    assert_int_equal(dev_send(d, &v[1], 2), -EOPNOTSUPP);
    v[1].off.gso_type = 0;
    v[1].len = 10; /* shorter than an Ethernet header: the kernel says EINVAL */
    assert_int_equal(dev_send(d, v, 3), 1);
    assert_int_equal(dev_send(d, &v[1], 2), -EINVAL);
    dev_close(d);
}

static int group_setup(void **state)
{
    (void)state;
    /* Everything below happens in a private network namespace. */
    return tu_enter_netns() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_configures_kernel_side),
        cmocka_unit_test(test_close_deletes_link),
        cmocka_unit_test(test_arp_with_kernel),
        cmocka_unit_test(test_tapcfg_routes_and_addrs),
        cmocka_unit_test(test_tapcfg_no_such_link),
        cmocka_unit_test(test_missing_tun_node),
        cmocka_unit_test(test_missing_default_tun_node),
        cmocka_unit_test(test_no_cap_net_admin),
        cmocka_unit_test(test_name_in_use_and_bad_names),
        cmocka_unit_test(test_config_failure_leaves_nothing),
        cmocka_unit_test(test_link_deleted),
        cmocka_unit_test(test_link_down_is_not_gone),
        cmocka_unit_test(test_send_vector),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
