/* SPDX-License-Identifier: MIT */
/* struct ip_addr helpers: strict IPv4 text, IPv6 via inet_pton, printing,
 * equality and "any". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack.h"

static void test_parse_v4_valid(void **state)
{
    (void)state;
    struct ip_addr a;
    assert_int_equal(ip_addr_parse("192.0.2.1", &a), 0);
    assert_int_equal(a.af, IPA_V4);
    assert_int_equal(a.v4, 0xc0000201u); /* host order */
    assert_int_equal(ip_addr_parse("0.0.0.0", &a), 0);
    assert_int_equal(a.af, IPA_V4);
    assert_int_equal(a.v4, 0);
    assert_int_equal(ip_addr_parse("255.255.255.255", &a), 0);
    assert_int_equal(a.v4, 0xffffffffu);
    assert_int_equal(ip_addr_parse("203.0.113.100", &a), 0);
    assert_int_equal(a.v4, 0xcb007164u);
    assert_int_equal(ip_addr_parse("10.0.0.0", &a), 0);
    assert_int_equal(a.v4, 0x0a000000u);
}

static void test_parse_v4_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",            "1",           "1.2.3",       "1.2.3.4.5",  "256.0.0.1",
        "1.2.3.256",   "1.2.3.1000",  "01.2.3.4",    "1.2.3.04",   "0x7f.0.0.1",
        "1..2.3",      ".1.2.3",      "1.2.3.",      " 1.2.3.4",   "1.2.3.4 ",
        "1.2.3.-4",    "+1.2.3.4",    "1.2.3.4/24",  "a.b.c.d",    "1.2.3.4x",
        "4294967295",  "192.0.2",     "0000.0.0.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ip_addr a = ip4(0x01020304);
        if (ip_addr_parse(bad[i], &a) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        /* a failed parse leaves the output alone */
        assert_int_equal(a.af, IPA_V4);
        assert_int_equal(a.v4, 0x01020304);
    }
    struct ip_addr a;
    assert_int_equal(ip_addr_parse(NULL, &a), -EINVAL);
    assert_int_equal(ip_addr_parse("1.2.3.4", NULL), -EINVAL);
}

static void test_parse_v6(void **state)
{
    (void)state;
    struct ip_addr a;
    static const uint8_t db8_1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    assert_int_equal(ip_addr_parse("2001:db8::1", &a), 0);
    assert_int_equal(a.af, IPA_V6);
    assert_memory_equal(a.v6, db8_1, 16);
    assert_int_equal(ip_addr_parse("2001:DB8:0:0:0:0:0:1", &a), 0);
    assert_memory_equal(a.v6, db8_1, 16);

    static const uint8_t ll[16] = {0xfe, 0x80, [14] = 0x12, [15] = 0x34};
    assert_int_equal(ip_addr_parse("fe80::1234", &a), 0);
    assert_memory_equal(a.v6, ll, 16);

    static const uint8_t zero[16] = {0};
    assert_int_equal(ip_addr_parse("::", &a), 0);
    assert_int_equal(a.af, IPA_V6);
    assert_memory_equal(a.v6, zero, 16);

    static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1};
    assert_int_equal(ip_addr_parse("::ffff:192.0.2.1", &a), 0);
    assert_memory_equal(a.v6, mapped, 16);

    static const char *const bad[] = {
        ":",  "2001:db8::1::2", "2001:db8:::1", "fe80::1%eth0", "2001:db8::g",
        "1:2:3:4:5:6:7:8:9", "2001:db8::1/64", " 2001:db8::1", "12345::1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ip_addr b = ip4(7);
        if (ip_addr_parse(bad[i], &b) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(b.af, IPA_V4);
        assert_int_equal(b.v4, 7);
    }
}

static void test_str(void **state)
{
    (void)state;
    char buf[64];
    struct ip_addr a = ip4(0xc0000201u);
    assert_string_equal(ip_addr_str(&a, buf, sizeof buf), "192.0.2.1");
    a = ip4(0);
    assert_string_equal(ip_addr_str(&a, buf, sizeof buf), "0.0.0.0");
    a = ip4(0xffffffffu);
    assert_string_equal(ip_addr_str(&a, buf, sizeof buf), "255.255.255.255");

    assert_int_equal(ip_addr_parse("2001:db8:0:0:1:0:0:1", &a), 0);
    assert_string_equal(ip_addr_str(&a, buf, sizeof buf), "2001:db8::1:0:0:1");
    assert_int_equal(ip_addr_parse("fe80::1", &a), 0);
    assert_string_equal(ip_addr_str(&a, buf, sizeof buf), "fe80::1");

    struct ip_addr none = {.af = IPA_NONE};
    assert_string_equal(ip_addr_str(&none, buf, sizeof buf), "(none)");

    /* the result is the buffer; a short buffer is truncated, NUL-terminated */
    a = ip4(0xc0000201u);
    assert_ptr_equal(ip_addr_str(&a, buf, sizeof buf), buf);
    memset(buf, 'x', sizeof buf);
    assert_string_equal(ip_addr_str(&a, buf, 6), "192.0");
    assert_int_equal(buf[6], 'x');
    buf[0] = 'q';
    ip_addr_str(&a, buf, 0); /* no room: untouched */
    assert_int_equal(buf[0], 'q');

    /* round trip */
    static const char *const rt[] = {"198.51.100.7", "2001:db8::", "2001:db8:1:2:3:4:5:6", "::1"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ip_addr_parse(rt[i], &a), 0);
        assert_string_equal(ip_addr_str(&a, buf, sizeof buf), rt[i]);
    }
}

static void test_eq_and_any(void **state)
{
    (void)state;
    struct ip_addr a, b, c, z4, z6, none = {.af = IPA_NONE}, none2 = {.af = IPA_NONE};
    assert_int_equal(ip_addr_parse("192.0.2.1", &a), 0);
    assert_int_equal(ip_addr_parse("192.0.2.1", &b), 0);
    assert_int_equal(ip_addr_parse("192.0.2.2", &c), 0);
    assert_true(ip_addr_eq(&a, &b));
    assert_false(ip_addr_eq(&a, &c));
    assert_false(ip_addr_eq(&a, &none));
    assert_true(ip_addr_eq(&none, &none2));

    assert_int_equal(ip_addr_parse("0.0.0.0", &z4), 0);
    assert_int_equal(ip_addr_parse("::", &z6), 0);
    /* 0.0.0.0 and :: are different addresses of different families */
    assert_false(ip_addr_eq(&z4, &z6));
    assert_true(ip_addr_is_any(&z4));
    assert_true(ip_addr_is_any(&z6));
    assert_true(ip_addr_is_any(&none));
    assert_false(ip_addr_is_any(&a));

    struct ip_addr x, y;
    assert_int_equal(ip_addr_parse("2001:db8::1", &x), 0);
    assert_int_equal(ip_addr_parse("2001:db8::1", &y), 0);
    assert_true(ip_addr_eq(&x, &y));
    assert_false(ip_addr_is_any(&x));
    y.v6[15] = 2;
    assert_false(ip_addr_eq(&x, &y));
    y.v6[15] = 1;
    y.v6[0] ^= 0x80; /* a difference in the first byte counts too */
    assert_false(ip_addr_eq(&x, &y));
    /* ::ffff:0.0.0.1 is not "any" (only the last byte set) */
    struct ip_addr one6 = {.af = IPA_V6};
    one6.v6[15] = 1;
    assert_false(ip_addr_is_any(&one6));
    /* an IPv4 address equal in bits to nothing in v6 */
    struct ip_addr v4_1 = ip4(1);
    assert_false(ip_addr_eq(&v4_1, &one6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v4_valid),
        cmocka_unit_test(test_parse_v4_strict),
        cmocka_unit_test(test_parse_v6),
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_eq_and_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
