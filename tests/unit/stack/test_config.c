/* SPDX-License-Identifier: MIT */
/* WSKSTACK_CONFIG parsing: every key valid and invalid, repeats and limits,
 * exact error messages, and "a failed parse changes nothing". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stack/config.h"

static int setup(void **state)
{
    *state = wskstack_config_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    wskstack_config_free(*state);
    return 0;
}

static const uint8_t zero_cfg[sizeof(struct wskstack_config)];

/* Parse text that must fail with exactly `msg`, and leave cfg untouched. */
static void parse_fails(struct wskstack_config *cfg, const char *text, const char *msg)
{
    struct wskstack_config before;
    memcpy(&before, cfg, sizeof before);
    char err[256] = "";
    int rc = wskstack_config_parse(cfg, text, err, sizeof err);
    if (rc != -EINVAL)
        fail_msg("parse(\"%s\") = %d, want -EINVAL", text, rc);
    if (strcmp(err, msg) != 0)
        fail_msg("parse(\"%s\"): message\n  \"%s\", want\n  \"%s\"", text, err, msg);
    assert_memory_equal(&before, cfg, sizeof before);
}

static void parse_ok(struct wskstack_config *cfg, const char *text)
{
    char err[256] = "";
    int rc = wskstack_config_parse(cfg, text, err, sizeof err);
    if (rc != 0)
        fail_msg("parse(\"%s\") = %d: %s", text, rc, err);
}

static struct ip_addr a4(uint32_t v) { return ip4(v); }

static void test_new_is_empty(void **state)
{
    struct wskstack_config *cfg = *state;
    assert_memory_equal(cfg, zero_cfg, sizeof *cfg);
    parse_ok(cfg, "");
    parse_ok(cfg, " ; ;;  ;");
    assert_memory_equal(cfg, zero_cfg, sizeof *cfg);
    wskstack_config_free(NULL); /* allowed, like free() */
}

static void test_all_keys(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "tap=lab%d;mac=02:00:00:00:00:01;mtu=1400;addr=192.0.2.2/24;"
                  "gateway=192.0.2.1;host-addr=192.0.2.1/24;addr=2001:db8::2/64;"
                  "gateway=2001:db8::1;host-addr=2001:db8::1/64");
    assert_string_equal(cfg->tap, "lab%d");
    assert_true(cfg->has_mac);
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    assert_memory_equal(cfg->mac, mac, 6);
    assert_int_equal(cfg->mtu, 1400);

    assert_int_equal(cfg->n_addrs, 2);
    struct ip_addr x = a4(0xc0000202u);
    assert_true(ip_addr_eq(&cfg->addrs[0].addr, &x));
    assert_int_equal(cfg->addrs[0].plen, 24);
    assert_int_equal(ip_addr_parse("2001:db8::2", &x), 0);
    assert_true(ip_addr_eq(&cfg->addrs[1].addr, &x));
    assert_int_equal(cfg->addrs[1].plen, 64);

    assert_int_equal(cfg->n_gateways, 2);
    x = a4(0xc0000201u);
    assert_true(ip_addr_eq(&cfg->gateways[0], &x));
    assert_int_equal(ip_addr_parse("2001:db8::1", &x), 0);
    assert_true(ip_addr_eq(&cfg->gateways[1], &x));

    assert_int_equal(cfg->n_host_addrs, 2);
    x = a4(0xc0000201u);
    assert_true(ip_addr_eq(&cfg->host_addrs[0].addr, &x));
    assert_int_equal(cfg->host_addrs[0].plen, 24);
    assert_int_equal(ip_addr_parse("2001:db8::1", &x), 0);
    assert_true(ip_addr_eq(&cfg->host_addrs[1].addr, &x));
    assert_int_equal(cfg->host_addrs[1].plen, 64);
}

static void test_whitespace_and_empty_segments(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "  mtu = 1280 ;; \t addr=\t198.51.100.9/32 ;;;\n tap =wskx ;");
    assert_int_equal(cfg->mtu, 1280);
    assert_int_equal(cfg->n_addrs, 1);
    struct ip_addr x = a4(0xc6336409u);
    assert_true(ip_addr_eq(&cfg->addrs[0].addr, &x));
    assert_int_equal(cfg->addrs[0].plen, 32);
    assert_string_equal(cfg->tap, "wskx");
    /* whitespace inside a value is not tolerated */
    parse_fails(cfg, "mtu=15 00", "mtu: \"15 00\" is not a number between 68 and 65535");
}

static void test_parse_adds_to_existing(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "addr=192.0.2.2/24;mtu=1500");
    parse_ok(cfg, "addr=192.0.2.3/24;mtu=9000");
    assert_int_equal(cfg->n_addrs, 2);
    assert_int_equal(cfg->addrs[1].addr.v4, 0xc0000203u);
    assert_int_equal(cfg->mtu, 9000); /* single-valued: last wins */
    parse_ok(cfg, "mac=02:00:00:00:00:01;mac=06:aa:bb:cc:dd:ee;tap=a;tap=b");
    static const uint8_t mac[6] = {6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    assert_memory_equal(cfg->mac, mac, 6);
    assert_string_equal(cfg->tap, "b");
}

static void test_tap(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "tap=wsk%d");
    assert_string_equal(cfg->tap, "wsk%d");
    parse_ok(cfg, "tap=abcdefghijklmno"); /* 15 characters: the maximum */
    assert_string_equal(cfg->tap, "abcdefghijklmno");
    parse_ok(cfg, "tap=%dx");
    assert_string_equal(cfg->tap, "%dx");
#define TAPMSG(v) "tap: \"" v "\" is not a valid interface name (1-15 characters, no '/', ':' or spaces, at most one %d)"
    parse_fails(cfg, "tap=abcdefghijklmnop", TAPMSG("abcdefghijklmnop"));
    parse_fails(cfg, "tap=", TAPMSG(""));
    parse_fails(cfg, "tap=a/b", TAPMSG("a/b"));
    parse_fails(cfg, "tap=a:b", TAPMSG("a:b"));
    parse_fails(cfg, "tap=a b", TAPMSG("a b"));
    parse_fails(cfg, "tap=a%d%d", TAPMSG("a%d%d"));
    parse_fails(cfg, "tap=a%s", TAPMSG("a%s"));
    parse_fails(cfg, "tap=a%", TAPMSG("a%"));
    parse_fails(cfg, "tap=.", TAPMSG("."));
    parse_fails(cfg, "tap=..", TAPMSG(".."));
    assert_string_equal(cfg->tap, "%dx");
}

static void test_mac(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "mac=02:AB:cd:00:ff:10");
    static const uint8_t m1[6] = {2, 0xab, 0xcd, 0, 0xff, 0x10};
    assert_true(cfg->has_mac);
    assert_memory_equal(cfg->mac, m1, 6);
    parse_ok(cfg, "mac=00:11:22:33:44:55"); /* globally administered unicast is fine */
    static const uint8_t m2[6] = {0, 0x11, 0x22, 0x33, 0x44, 0x55};
    assert_memory_equal(cfg->mac, m2, 6);
#define MACMSG(v) "mac: \"" v "\" is not a MAC address XX:XX:XX:XX:XX:XX"
    parse_fails(cfg, "mac=02:00:00:00:00", MACMSG("02:00:00:00:00"));
    parse_fails(cfg, "mac=02:00:00:00:00:00:00", MACMSG("02:00:00:00:00:00:00"));
    parse_fails(cfg, "mac=2:0:0:0:0:1", MACMSG("2:0:0:0:0:1"));
    parse_fails(cfg, "mac=02-00-00-00-00-01", MACMSG("02-00-00-00-00-01"));
    parse_fails(cfg, "mac=02:00:00:00:00:0g", MACMSG("02:00:00:00:00:0g"));
    parse_fails(cfg, "mac=020000000001", MACMSG("020000000001"));
    parse_fails(cfg, "mac=", MACMSG(""));
    parse_fails(cfg, "mac=01:00:5e:00:00:01",
                "mac: \"01:00:5e:00:00:01\" is a multicast MAC, not a unicast one");
    parse_fails(cfg, "mac=03:00:00:00:00:01",
                "mac: \"03:00:00:00:00:01\" is a multicast MAC, not a unicast one");
    parse_fails(cfg, "mac=ff:ff:ff:ff:ff:ff",
                "mac: \"ff:ff:ff:ff:ff:ff\" is a multicast MAC, not a unicast one");
    parse_fails(cfg, "mac=00:00:00:00:00:00",
                "mac: \"00:00:00:00:00:00\" is the all-zero MAC, not a usable one");
    assert_memory_equal(cfg->mac, m2, 6);
}

static void test_mtu(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "mtu=68");
    assert_int_equal(cfg->mtu, 68);
    parse_ok(cfg, "mtu=65535");
    assert_int_equal(cfg->mtu, 65535);
    parse_ok(cfg, "mtu=01500");
    assert_int_equal(cfg->mtu, 1500);
#define MTUMSG(v) "mtu: \"" v "\" is not a number between 68 and 65535"
    parse_fails(cfg, "mtu=abc", MTUMSG("abc"));
    parse_fails(cfg, "mtu=67", MTUMSG("67"));
    parse_fails(cfg, "mtu=0", MTUMSG("0"));
    parse_fails(cfg, "mtu=65536", MTUMSG("65536"));
    parse_fails(cfg, "mtu=-1500", MTUMSG("-1500"));
    parse_fails(cfg, "mtu=+1500", MTUMSG("+1500"));
    parse_fails(cfg, "mtu=1500x", MTUMSG("1500x"));
    parse_fails(cfg, "mtu=0x5dc", MTUMSG("0x5dc"));
    parse_fails(cfg, "mtu=", MTUMSG(""));
    parse_fails(cfg, "mtu=99999999999999999999999", MTUMSG("99999999999999999999999"));
    assert_int_equal(cfg->mtu, 1500);
}

static void test_addr_values(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "addr=192.0.2.2/0;addr=192.0.2.3/32;addr=2001:db8::1/0;addr=2001:db8::2/128;"
                  "addr=fe80::2/64");
    assert_int_equal(cfg->n_addrs, 5);
    assert_int_equal(cfg->addrs[0].plen, 0);
    assert_int_equal(cfg->addrs[1].plen, 32);
    assert_int_equal(cfg->addrs[2].plen, 0);
    assert_int_equal(cfg->addrs[3].plen, 128);
    assert_int_equal(cfg->addrs[4].addr.af, IPA_V6);
    assert_int_equal(cfg->addrs[4].addr.v6[0], 0xfe);
    assert_int_equal(cfg->addrs[4].plen, 64);

    const char *keys[] = {"addr", "host-addr"};
    for (int k = 0; k < 2; k++) {
        const struct {
            const char *v, *why;
        } bad[] = {
            {"192.0.2.2", "is not ADDRESS/PREFIXLEN"},
            {"192.0.2.2/", "has a prefix length outside 0..32"},
            {"192.0.2.2/33", "has a prefix length outside 0..32"},
            {"192.0.2.2/-1", "has a prefix length outside 0..32"},
            {"192.0.2.2/2x", "has a prefix length outside 0..32"},
            {"2001:db8::1/129", "has a prefix length outside 0..128"},
            {"/24", "is not ADDRESS/PREFIXLEN"},
            {"192.0.2/24", "is not ADDRESS/PREFIXLEN"},
            {"192.0.2.256/24", "is not ADDRESS/PREFIXLEN"},
            {"2001:db8::g/64", "is not ADDRESS/PREFIXLEN"},
            {"0.0.0.0/0", "is not a unicast address"},
            {"224.0.0.1/4", "is not a unicast address"},
            {"239.255.255.255/8", "is not a unicast address"},
            {"255.255.255.255/32", "is not a unicast address"},
            {"127.0.0.1/8", "is not a unicast address"},
            {"::/0", "is not a unicast address"},
            {"::1/128", "is not a unicast address"},
            {"ff02::1/64", "is not a unicast address"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char text[128], msg[256];
            snprintf(text, sizeof text, "%s=%s", keys[k], bad[i].v);
            snprintf(msg, sizeof msg, "%s: \"%s\" %s", keys[k], bad[i].v, bad[i].why);
            parse_fails(cfg, text, msg);
        }
    }
    assert_int_equal(cfg->n_addrs, 5);
    assert_int_equal(cfg->n_host_addrs, 0);
}

static void test_addr_limits(void **state)
{
    struct wskstack_config *cfg = *state;
    const char *keys[] = {"addr", "host-addr"};
    for (int k = 0; k < 2; k++) {
        char text[2048] = "";
        for (int i = 0; i < CFG_MAX_ADDRS; i++) {
            char one[64];
            snprintf(one, sizeof one, "%s=198.51.100.%d/24;", keys[k], i + 1);
            strcat(text, one);
        }
        parse_ok(cfg, text);
        char msg[128];
        snprintf(msg, sizeof msg, "%s: \"203.0.113.1/24\" is one too many (at most 16)", keys[k]);
        char more[64];
        snprintf(more, sizeof more, "%s=203.0.113.1/24", keys[k]);
        parse_fails(cfg, more, msg);
    }
    assert_int_equal(cfg->n_addrs, CFG_MAX_ADDRS);
    assert_int_equal(cfg->n_host_addrs, CFG_MAX_ADDRS);
    for (int i = 0; i < CFG_MAX_ADDRS; i++) {
        assert_int_equal(cfg->addrs[i].addr.v4, 0xc6336400u + (uint32_t)i + 1);
        assert_int_equal(cfg->host_addrs[i].addr.v4, 0xc6336400u + (uint32_t)i + 1);
        assert_int_equal(cfg->addrs[i].plen, 24);
    }
}

static void test_gateway(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "gateway=192.0.2.1;gateway=fe80::1;gateway=2001:db8::1;gateway=198.51.100.1");
    assert_int_equal(cfg->n_gateways, CFG_MAX_GATEWAYS);
    assert_int_equal(cfg->gateways[0].v4, 0xc0000201u);
    assert_int_equal(cfg->gateways[1].af, IPA_V6);
    assert_int_equal(cfg->gateways[1].v6[0], 0xfe);
    assert_int_equal(cfg->gateways[3].v4, 0xc6336401u);
    parse_fails(cfg, "gateway=203.0.113.1",
                "gateway: \"203.0.113.1\" is one too many (at most 4)");

    struct wskstack_config *c2 = wskstack_config_new();
    assert_non_null(c2);
#define GWMSG(v) "gateway: \"" v "\" is not an IPv4 or IPv6 address"
    parse_fails(c2, "gateway=192.0.2.1/24", GWMSG("192.0.2.1/24"));
    parse_fails(c2, "gateway=", GWMSG(""));
    parse_fails(c2, "gateway=192.0.2", GWMSG("192.0.2"));
    parse_fails(c2, "gateway=router", GWMSG("router"));
    parse_fails(c2, "gateway=0.0.0.0", "gateway: \"0.0.0.0\" is not a unicast address");
    parse_fails(c2, "gateway=224.0.0.1", "gateway: \"224.0.0.1\" is not a unicast address");
    parse_fails(c2, "gateway=ff02::2", "gateway: \"ff02::2\" is not a unicast address");
    assert_memory_equal(c2, zero_cfg, sizeof *c2);
    wskstack_config_free(c2);
}

static void test_unknown_and_malformed_segments(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_fails(cfg, "foo=1", "unknown key \"foo\" in WSKSTACK_CONFIG");
    parse_fails(cfg, " foo = 1 ", "unknown key \"foo\" in WSKSTACK_CONFIG");
    parse_fails(cfg, "MTU=1500", "unknown key \"MTU\" in WSKSTACK_CONFIG");
    parse_fails(cfg, "host_addr=192.0.2.1/24",
                "unknown key \"host_addr\" in WSKSTACK_CONFIG");
    parse_fails(cfg, "mtu", "\"mtu\" is not key=value in WSKSTACK_CONFIG");
    parse_fails(cfg, "=1500", "empty key before \"=1500\" in WSKSTACK_CONFIG");
    parse_fails(cfg, "mtu=1500=1", "mtu: \"1500=1\" is not a number between 68 and 65535");
    assert_memory_equal(cfg, zero_cfg, sizeof *cfg);
}

static void test_failure_leaves_cfg_unchanged(void **state)
{
    struct wskstack_config *cfg = *state;
    parse_ok(cfg, "tap=keep%d;mtu=1400;addr=192.0.2.2/24;gateway=192.0.2.1");
    struct wskstack_config before;
    memcpy(&before, cfg, sizeof before);
    /* good keys before the bad one are not applied either */
    parse_fails(cfg, "mtu=9000;addr=192.0.2.3/24;gateway=192.0.2.9;tap=x;mac=02:00:00:00:00:09;"
                     "host-addr=192.0.2.1/24;mtu=abc",
                "mtu: \"abc\" is not a number between 68 and 65535");
    assert_memory_equal(&before, cfg, sizeof before);
    parse_fails(cfg, "addr=192.0.2.3/24;bogus=1", "unknown key \"bogus\" in WSKSTACK_CONFIG");
    assert_memory_equal(&before, cfg, sizeof before);
}

static void test_set(void **state)
{
    struct wskstack_config *cfg = *state;
    char err[256] = "";
    assert_int_equal(wskstack_config_set(cfg, "mtu", "9000", err, sizeof err), 0);
    assert_int_equal(cfg->mtu, 9000);
    assert_int_equal(wskstack_config_set(cfg, " addr ", " 2001:db8::5/64 ", err, sizeof err), 0);
    assert_int_equal(cfg->n_addrs, 1);
    assert_int_equal(cfg->addrs[0].addr.af, IPA_V6);
    assert_int_equal(cfg->addrs[0].plen, 64);
    assert_int_equal(wskstack_config_set(cfg, "host-addr", "2001:db8::4/64", err, sizeof err), 0);
    assert_int_equal(cfg->n_host_addrs, 1);

    struct wskstack_config before;
    memcpy(&before, cfg, sizeof before);
    assert_int_equal(wskstack_config_set(cfg, "mtu", "abc", err, sizeof err), -EINVAL);
    assert_string_equal(err, "mtu: \"abc\" is not a number between 68 and 65535");
    assert_int_equal(wskstack_config_set(cfg, "foo", "1", err, sizeof err), -EINVAL);
    assert_string_equal(err, "unknown key \"foo\" in WSKSTACK_CONFIG");
    assert_int_equal(wskstack_config_set(cfg, "", "1", err, sizeof err), -EINVAL);
    assert_string_equal(err, "empty key in WSKSTACK_CONFIG");
    assert_int_equal(wskstack_config_set(cfg, "addr", "192.0.2.1/40", err, sizeof err), -EINVAL);
    assert_string_equal(err, "addr: \"192.0.2.1/40\" has a prefix length outside 0..32");
    assert_int_equal(wskstack_config_set(cfg, "mac", "01:00:00:00:00:01", err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, "mac: \"01:00:00:00:00:01\" is a multicast MAC, not a unicast one");
    assert_int_equal(wskstack_config_set(cfg, NULL, "1", err, sizeof err), -EINVAL);
    assert_int_equal(wskstack_config_set(cfg, "mtu", NULL, err, sizeof err), -EINVAL);
    assert_int_equal(wskstack_config_set(NULL, "mtu", "1500", err, sizeof err), -EINVAL);
    assert_memory_equal(&before, cfg, sizeof before);
}

static void test_err_buffer_handling(void **state)
{
    struct wskstack_config *cfg = *state;
    /* no error buffer: still fails cleanly */
    assert_int_equal(wskstack_config_parse(cfg, "mtu=1", NULL, 0), -EINVAL);
    /* a short buffer is truncated and terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(wskstack_config_parse(cfg, "mtu=1", small, sizeof small), -EINVAL);
    assert_string_equal(small, "mtu: \"1");
    /* a very long value is cut in the message, not overflowing it */
    char text[400] = "mtu=";
    memset(text + 4, '9', 200);
    text[204] = '\0';
    char err[512];
    assert_int_equal(wskstack_config_parse(cfg, text, err, sizeof err), -EINVAL);
    char want[128];
    snprintf(want, sizeof want, "mtu: \"%.64s\" is not a number between 68 and 65535", text + 4);
    assert_string_equal(err, want);
    /* a value longer than the parser's buffer */
    char huge[600] = "tap=";
    memset(huge + 4, 'a', 500);
    huge[504] = '\0';
    assert_int_equal(wskstack_config_parse(cfg, huge, err, sizeof err), -EINVAL);
    assert_string_equal(err, "tap: value of 500 characters is too long");
    assert_int_equal(wskstack_config_parse(cfg, NULL, err, sizeof err), -EINVAL);
    assert_int_equal(wskstack_config_parse(NULL, "mtu=1500", err, sizeof err), -EINVAL);
    assert_memory_equal(cfg, zero_cfg, sizeof *cfg);
}

/* slaac=on|off (addr6.c, RFC 4862 §5.5): default on, i.e. slaac_off false
 * in a zeroed configuration; single-valued, the last one wins. */
static void test_slaac(void **state)
{
    struct wskstack_config *cfg = *state;
    assert_false(cfg->slaac_off);
    parse_ok(cfg, "slaac=off");
    assert_true(cfg->slaac_off);
    parse_ok(cfg, " slaac = on ");
    assert_false(cfg->slaac_off);
    assert_memory_equal(cfg, zero_cfg, sizeof *cfg); /* "on" is the default */
    parse_ok(cfg, "slaac=on;slaac=off");
    assert_true(cfg->slaac_off);
    parse_fails(cfg, "slaac=yes", "slaac: \"yes\" is not on or off");
    parse_fails(cfg, "slaac=OFF", "slaac: \"OFF\" is not on or off");
    parse_fails(cfg, "slaac=", "slaac: \"\" is not on or off");
    parse_fails(cfg, "slaac=0", "slaac: \"0\" is not on or off");
    assert_true(cfg->slaac_off);
    char err[256] = "";
    assert_int_equal(wskstack_config_set(cfg, "slaac", "on", err, sizeof err), 0);
    assert_false(cfg->slaac_off);
    assert_int_equal(wskstack_config_set(cfg, "slaac", "maybe", err, sizeof err), -EINVAL);
    assert_string_equal(err, "slaac: \"maybe\" is not on or off");
    assert_false(cfg->slaac_off);
}

/* ---- issue 6: trace=, trace-format=, trace-file=, pcap= (appended) -------- */

static void test_trace_keys(void **state)
{
    struct wskstack_config *cfg = *state;
    assert_int_equal(cfg->trace_mask, 0);
    parse_ok(cfg, "trace=all");
    assert_int_equal(cfg->trace_mask, 0x7ff);
    parse_ok(cfg, "trace = udp,icmp ");
    assert_int_equal(cfg->trace_mask, (1u << 8) | (1u << 6)); /* single-valued: replaced */
    parse_ok(cfg, "trace=none");
    assert_int_equal(cfg->trace_mask, 0);
    parse_ok(cfg, "trace=link,arp,nd,ipv4,ipv6,frag,icmp,icmpv6,udp,wsk,irp");
    assert_int_equal(cfg->trace_mask, 0x7ff);
    const char *list = "(all, none, or a list of link, arp, nd, ipv4, ipv6, frag, icmp, icmpv6, "
                       "udp, wsk, irp)";
    char want[256];
    snprintf(want, sizeof want, "trace: \"tcp\" is not a layer %s", list);
    parse_fails(cfg, "trace=udp,tcp", want);
    snprintf(want, sizeof want, "trace: \"\" is not a layer %s", list);
    parse_fails(cfg, "trace=udp,", want);
    assert_int_equal(cfg->trace_mask, 0x7ff);

    assert_false(cfg->trace_json);
    parse_ok(cfg, "trace-format=json");
    assert_true(cfg->trace_json);
    parse_ok(cfg, "trace-format=text");
    assert_false(cfg->trace_json);
    parse_fails(cfg, "trace-format=xml", "trace-format: \"xml\" is not text or json");

    parse_ok(cfg, "trace-file=/tmp/t.log");
    assert_string_equal(cfg->trace_file, "/tmp/t.log");
    parse_fails(cfg, "trace-file=", "trace-file: a file name is needed");
    assert_string_equal(cfg->trace_file, "/tmp/t.log");

    parse_ok(cfg, "pcap=-");
    assert_string_equal(cfg->pcap, "-");
    parse_ok(cfg, "pcap=/tmp/lab.pcap");
    assert_string_equal(cfg->pcap, "/tmp/lab.pcap");
    parse_fails(cfg, "pcap=", "pcap: a file name is needed (or - for stdout)");

    char err[256] = "";
    assert_int_equal(wskstack_config_set(cfg, "trace", "nd", err, sizeof err), 0);
    assert_int_equal(cfg->trace_mask, 1u << 2);
    assert_int_equal(wskstack_config_set(cfg, "pcap", "x", err, sizeof err), 0);
    assert_string_equal(cfg->pcap, "x");
    /* 255 characters is the longest value: it fits */
    char path[300] = "pcap=/";
    memset(path + 6, 'a', 254);
    path[260] = '\0';
    parse_ok(cfg, path);
    assert_int_equal(strlen(cfg->pcap), 255);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_is_empty),
        T(test_all_keys),
        T(test_whitespace_and_empty_segments),
        T(test_parse_adds_to_existing),
        T(test_tap),
        T(test_mac),
        T(test_mtu),
        T(test_addr_values),
        T(test_addr_limits),
        T(test_gateway),
        T(test_unknown_and_malformed_segments),
        T(test_failure_leaves_cfg_unchanged),
        T(test_set),
        T(test_err_buffer_handling),
        T(test_slaac),
        T(test_trace_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
