/* SPDX-License-Identifier: MIT */
/* Counters (stack/counters.c): the name table follows the enum, lookups by
 * name, the `nstat -j`-shaped JSON, stack_drop and stack_trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stack/stack_impl.h"

static int setup(void **state)
{
    struct dev *dev = memdev_create("cnt0", 1500);
    assert_non_null(dev);
    struct wskstack *st = NULL;
    char err[128];
    assert_int_equal(stack_create_on_dev(NULL, dev, STACK_NO_THREAD, &st, err, sizeof err), 0);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    wskstack_destroy(*state);
    return 0;
}

static void test_names_match_enum(void **state)
{
    (void)state;
#define CHECK_NAME(n, d) assert_string_equal(wskstack_counter_name(CNT_##n), #n);
    WSS_COUNTERS(CHECK_NAME)
#undef CHECK_NAME
    assert_string_equal(wskstack_counter_name(0), "IfInPackets");
    assert_string_equal(wskstack_counter_name(CNT__COUNT - 1), "UdpIgnoredMulti");
    assert_null(wskstack_counter_name(CNT__COUNT));
    assert_null(wskstack_counter_name(100000));
    /* names are unique */
    for (unsigned i = 0; i < CNT__COUNT; i++)
        for (unsigned j = i + 1; j < CNT__COUNT; j++)
            assert_string_not_equal(wskstack_counter_name(i), wskstack_counter_name(j));
}

static void test_lookup_by_name(void **state)
{
    struct wskstack *st = *state;
    assert_int_equal(wskstack_counter(st, "UdpInDatagrams"), 0);
    CNT_INC(st, UdpInDatagrams);
    CNT_ADD(st, IfInBytes, 1234);
    assert_int_equal(wskstack_counter(st, "UdpInDatagrams"), 1);
    assert_int_equal(wskstack_counter(st, "IfInBytes"), 1234);
    assert_int_equal(wskstack_counter(st, "NoSuchCounter"), -1);
    assert_int_equal(wskstack_counter(st, "udpindatagrams"), -1); /* exact case */
    assert_int_equal(wskstack_counter(st, ""), -1);
    assert_int_equal(wskstack_counter(st, NULL), -1);
    assert_int_equal(wskstack_counter_value(st, CNT_UdpInDatagrams), 1);
    assert_int_equal(wskstack_counter_value(st, CNT__COUNT), 0);
}

static char *json_of(struct wskstack *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    wskstack_counters_json(st, f);
    fclose(f);
    return buf;
}

static void test_json_shape(void **state)
{
    struct wskstack *st = *state;
    char *j = json_of(st);
    assert_string_equal(j, "{\"kernel\":{}}\n");
    free(j);
    CNT_ADD(st, IfInPackets, 2);
    CNT_INC(st, UdpNoPorts);
    CNT_ADD(st, IpInReceives, 18446744073709551615ull);
    j = json_of(st);
    assert_string_equal(j, "{\"kernel\":{\"IfInPackets\":2,\"IpInReceives\":18446744073709551615,"
                           "\"UdpNoPorts\":1}}\n");
    free(j);
}

static void test_drop_and_trace(void **state)
{
    struct wskstack *st = *state;
    /* tracing off: counts only */
    stack_drop(st, CNT_IpInHdrErrors, "ipv4", "bad version");
    stack_trace(st, "ipv4", "not printed %d", 1);
    assert_int_equal(wskstack_counter(st, "IpInHdrErrors"), 1);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    trace_attach(st, f, TRACE_ALL, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    stack_drop(st, CNT_IpInHdrErrors, "ipv4", "version 6 in an IPv4 header (RFC 791)");
    stack_trace(st, "udp", "port %u", 53u);
    assert_ptr_equal(trace_detach(st), f);
    fclose(f);
    assert_string_equal(buf, "ipv4 rx drop IpInHdrErrors: version 6 in an IPv4 header (RFC 791)\n"
                             "udp - port 53\n");
    free(buf);
    assert_int_equal(wskstack_counter(st, "IpInHdrErrors"), 2);
}

static void test_counters_per_stack(void **state)
{
    struct wskstack *a = *state;
    struct wskstack *b = NULL;
    char err[128];
    assert_int_equal(stack_create_on_dev(NULL, memdev_create("cnt1", 0), STACK_NO_THREAD, &b, err,
                                         sizeof err), 0);
    CNT_INC(a, UdpOutDatagrams);
    assert_int_equal(wskstack_counter(a, "UdpOutDatagrams"), 1);
    assert_int_equal(wskstack_counter(b, "UdpOutDatagrams"), 0);
    wskstack_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_match_enum),
        cmocka_unit_test_setup_teardown(test_lookup_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_and_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_per_stack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
