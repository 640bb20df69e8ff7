/* SPDX-License-Identifier: MIT */
/*
 * Lab: pcap= captures every frame, and tshark finds every checksum valid.
 *
 *     kernel 192.0.2.1/24, 2001:db8::1/64 [wskpcap0] <== TAP ==> wskstack
 *                                                       192.0.2.2/24, 2001:db8::2/64
 *     ping 192.0.2.2 x5, ping 2001:db8::2 x3             pcap=/tmp/...
 *     UDP 6000 <-> 5000 x4 each way over IPv4; x4 to the closed
 *     port 5999 over IPv6 (ICMPv6 Port Unreachable back)
 *
 * The stack writes the capture (pcap=FILE); tshark then reads it with the
 * IPv4 and UDP checksum checks switched on (ICMP and ICMPv6 checksums are
 * always checked) and prints, per frame, the verdict of every checksum it
 * saw: none may be bad, and the number of frames of each kind must be
 * exactly what the test sent and received.  The total number of frames is
 * compared with the stack's IfInPackets + IfOutPackets (read just before the
 * stack is destroyed: only background ARP/NDP/MLD frames may come after).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lab_stack.h"

#define PINGS4 5
#define PINGS6 3
#define UDPS 4

/* Run tshark on path with fields, one line per frame, into out. */
static char *tshark_fields(const char *path, const char *fields)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "tshark -n -r '%s' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
             "-T fields -E 'separator=;' -E occurrence=a -E 'aggregator=+' %s 2>/dev/null",
             path, fields);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - 1 - len, p)) > 0 && len < cap - 1)
        len += n;
    buf[len] = '\0';
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("tshark failed (%d): %s", rc, cmd);
    return buf;
}

/* Split a tshark line at ';' into n fields (missing ones are ""). */
static void split_fields(char *line, char **f, int n)
{
    char *p = line;
    for (int i = 0; i < n; i++) {
        f[i] = p ? p : (char *)"";
        p = p ? strchr(p, ';') : NULL;
        if (p)
            *p++ = '\0';
    }
}

/* The capture holds n frames; the counters, read just before the stack was
 * destroyed, saw `counted`.  Equal, unless a frame went by between that
 * read and the end of the capture: then every extra frame is among the
 * last ones of the file, and each is one of the link's own background
 * messages (ARP, or ICMPv6 RS/RA/NS/NA/MLD: the kernel and the stack send
 * them on their own timers), at most 3 of them. */
static void check_total(const char *path, unsigned n, unsigned counted)
{
    if (n == counted)
        return;
    if (n < counted || n - counted > 3)
        fail_msg("capture has %u frames, IfInPackets + IfOutPackets = %u", n, counted);
    char *out = tshark_fields(path, "-e frame.number -e eth.type -e icmpv6.type");
    unsigned i = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), i++) {
        if (i < counted)
            continue;
        char *f[3];
        split_fields(line, f, 3);
        bool background = strcmp(f[1], "0x0806") == 0 || /* ARP */
                          strcmp(f[2], "133") == 0 || strcmp(f[2], "134") == 0 ||
                          strcmp(f[2], "135") == 0 || strcmp(f[2], "136") == 0 ||
                          strcmp(f[2], "130") == 0 || strcmp(f[2], "131") == 0 ||
                          strcmp(f[2], "143") == 0;
        if (!background)
            fail_msg("frame %s (eth.type %s, icmpv6.type %s) is past the counters (%u) and "
                     "is not a background ARP/NDP/MLD frame", f[0], f[1], f[2], counted);
    }
    free(out);
    print_message("note: %u background frame(s) after the counter read\n", n - counted);
}

static void test_pcap_checksums(void **state)
{
    (void)state;
    if (system("command -v tshark >/dev/null 2>&1") != 0)
        fail_msg("tshark is not installed (tools/bootstrap.sh installs it)");
    assert_int_equal(tu_enter_netns(), 0);
    char path[] = "/tmp/wss_lab_pcap_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char config[256];
    snprintf(config, sizeof config,
             "tap=wskpcap0;addr=192.0.2.2/24;host-addr=192.0.2.1/24;"
             "addr=2001:db8::2/64;host-addr=2001:db8::1/64;pcap=%s", path);
    struct lab_stack ls;
    lab_stack_up(&ls, config);

    /* IPv4 and IPv6 echo: the kernel asks, the stack answers */
    for (uint16_t seq = 1; seq <= PINGS4; seq++)
        assert_true(lk_ping("192.0.2.2", 0x7070, seq, 56, 2000) > 0);
    for (uint16_t seq = 1; seq <= PINGS6; seq++) {
        int64_t rtt = -1;
        for (int tries = 0; tries < 50 && rtt <= 0; tries++) { /* DAD on both sides */
            rtt = lk_ping6("2001:db8::2", 0x7171, seq, 56, 200);
            if (rtt <= 0)
                lk_sleep_ms(100);
        }
        if (rtt <= 0)
            fail_msg("ping6 #%u: %lld", seq, (long long)rtt);
    }
    /* UDP both ways over IPv4; over IPv6 the kernel sends to a closed port
     * and the stack answers with ICMPv6 Port Unreachable (RFC 4443 §3.1) */
    PWSK_SOCKET s4 = lab_stack_socket(&ls, "192.0.2.2", 5000);
    int k4 = lk_udp_open("192.0.2.1", 6000);
    int k6 = lk_udp6_open("2001:db8::1", 6000);
    assert_true(k4 >= 0 && k6 >= 0);
    uint8_t buf[600], got[600];
    for (unsigned i = 0; i < UDPS; i++) {
        memset(buf, (int)('a' + i), sizeof buf);
        size_t len = 100 + 123 * i;
        struct wskc_op op;
        assert_int_equal(wskc_sendto(s4, buf, (ULONG)len, "192.0.2.1", 6000, 3000, &op),
                         STATUS_SUCCESS);
        char src[64];
        uint16_t sport;
        assert_int_equal(lk_udp_recv(k4, got, sizeof got, 2000, src, &sport), (long)len);
        assert_int_equal(lk_udp_sendto(k4, buf, len, "192.0.2.2", 5000), (long)len);
        ULONG n = 0;
        assert_int_equal(wskc_recvfrom(s4, got, sizeof got, 3000, &n, NULL, NULL), STATUS_SUCCESS);
        assert_int_equal(n, len);
        assert_int_equal(lk_udp6_sendto(k6, buf, len, "2001:db8::2", 5999), (long)len);
        struct lk_icmp6_err e;
        assert_int_equal(lk_udp6_recv_error(k6, 2000, &e), 0);
        assert_int_equal(e.type, 1);
    }
    lk_close(k4);
    lk_close(k6);
    wskc_close(s4);
    int64_t frames = lab_stack_cnt(&ls, "IfInPackets") + lab_stack_cnt(&ls, "IfOutPackets");
    lab_stack_down(&ls); /* flushes and closes the capture */

    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 24);

    /* Every checksum tshark checks: 1 = good; 0 = bad, 2 = unverified. */
    char *out = tshark_fields(path, "-e frame.number -e ip.checksum.status -e udp.checksum.status "
                                    "-e icmp.checksum.status -e icmpv6.checksum.status "
                                    "-e _ws.expert.group");
    unsigned n = 0, verified = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), n++) {
        /* fields: number;ip;udp;icmp;icmpv6;expert - each may hold a+b */
        char *f[6];
        split_fields(line, f, 6);
        for (int i = 1; i <= 4; i++)
            for (char *v = f[i]; v && *v; v = strchr(v, '+') ? strchr(v, '+') + 1 : NULL) {
                if (*v != '1')
                    fail_msg("frame %s: checksum field %d is \"%s\" (not good)", f[0], i, f[i]);
                verified++;
            }
        if (f[5] && strstr(f[5], "Checksum"))
            fail_msg("frame %s: expert info %s", f[0], f[5]);
    }
    free(out);
    check_total(path, n, (unsigned)frames);
    if (verified < 2 * PINGS4 * 2 + 2 * PINGS6 + UDPS * 4 + UDPS * 2)
        fail_msg("only %u checksums verified in %u frames", verified, n);

    /* Exactly the frames of each kind the test exchanged. */
    out = tshark_fields(path, "-e icmp.type -e icmpv6.type -e udp.dstport");
    unsigned unreach6 = 0, udp_closed = 0;
    unsigned echo4 = 0, reply4 = 0, echo6 = 0, reply6 = 0, udp_to_k = 0, udp_to_s = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *f[3];
        split_fields(line, f, 3);
        const char *t4 = f[0], *t6 = f[1], *dp = f[2];
        echo4 += strcmp(t4, "8") == 0;
        reply4 += strcmp(t4, "0") == 0;
        echo6 += strcmp(t6, "128") == 0;
        unreach6 += strcmp(t6, "1") == 0;
        udp_closed += strcmp(dp, "5999") == 0 || strcmp(dp, "5999+5999") == 0;
        reply6 += strcmp(t6, "129") == 0;
        udp_to_k += strcmp(dp, "6000") == 0;
        udp_to_s += strcmp(dp, "5000") == 0;
    }
    free(out);
    assert_int_equal(echo4, PINGS4);
    assert_int_equal(reply4, PINGS4);
    assert_true(echo6 >= PINGS6); /* a ping6 retried while DAD ran may add some */
    assert_int_equal(reply6, echo6);
    assert_int_equal(udp_to_k, UDPS);
    assert_int_equal(udp_to_s, UDPS);
    assert_int_equal(unreach6, UDPS);       /* each quotes its datagram: */
    assert_int_equal(udp_closed, 2 * UDPS); /* the UDP header seen twice */
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_checksums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
