/* SPDX-License-Identifier: MIT */
/*
 * test_trace.c - stack/trace.c: the trace= parser, the text and JSON Lines
 * formats, the layer filter, the cost-nothing-when-off contract (no
 * argument is evaluated), trace-file=, and lines from several threads.
 * The decision lines of the layers on a memdev stack, exact in text and
 * in JSON, are in test_trace_decisions.c.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "trace_fixture.h"

/* ---- the parser ------------------------------------------------------------------ */

static void test_parse_layers(void **state)
{
    (void)state;
    uint32_t m = 123;
    char bad[40];
    assert_int_equal(trace_parse_layers("all", &m, bad, sizeof bad), 0);
    assert_int_equal(m, TRACE_ALL);
    assert_int_equal(TRACE_ALL, 0x7ff);
    assert_int_equal(trace_parse_layers("none", &m, bad, sizeof bad), 0);
    assert_int_equal(m, 0);
    assert_int_equal(trace_parse_layers("", &m, bad, sizeof bad), 0);
    assert_int_equal(m, 0);
    assert_int_equal(trace_parse_layers("udp,icmp,irp", &m, bad, sizeof bad), 0);
    assert_int_equal(m, TRACE_UDP | TRACE_ICMP | TRACE_IRP);
    assert_int_equal(trace_parse_layers("link,arp,nd,ipv4,ipv6,frag,icmp,icmpv6,udp,wsk,irp", &m,
                                        bad, sizeof bad), 0);
    assert_int_equal(m, TRACE_ALL);
    m = 5;
    assert_int_equal(trace_parse_layers("udp,tcp", &m, bad, sizeof bad), -EINVAL);
    assert_string_equal(bad, "tcp");
    assert_int_equal(m, 5); /* untouched on error */
    assert_int_equal(trace_parse_layers("udp,", &m, bad, sizeof bad), -EINVAL);
    assert_string_equal(bad, "");
    assert_int_equal(trace_parse_layers("UDP", &m, bad, sizeof bad), -EINVAL);
    assert_string_equal(bad, "UDP");
    for (unsigned i = 0; i < TL__COUNT; i++)
        assert_non_null(trace_layer_name((enum trace_layer)i));
    assert_null(trace_layer_name(TL__COUNT));
    assert_string_equal(trace_layer_name(TL_ICMPV6), "icmpv6");
}

/* ---- off costs nothing: no argument is evaluated ----------------------------------- */

static int evaluated;
static int side_effect(void) { return ++evaluated; }

static void test_off_evaluates_nothing(void **state)
{
    struct fx *f = *state;
    evaluated = 0;
    assert_int_equal(stack_trace_mask(f->st), 0);
    assert_null(f->st->trace);
    stack_trace(f->st, "udp", "%d", side_effect());
    TRACE(f->st, TL_UDP, TD_RX, "x", "%d", side_effect());
    TRACE_F(f->st, TL_UDP, TD_RX, "x", NULL, "%d", side_effect());
    assert_int_equal(evaluated, 0);
    /* a layer that is off, while another one is on */
    struct tr t;
    tr_on(f, &t, TRACE_ICMP, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    TRACE(f->st, TL_UDP, TD_RX, "x", "%d", side_effect());
    assert_int_equal(evaluated, 0);
    assert_string_equal(tr_off(f, &t), "");
    free(t.buf);
    assert_int_equal(stack_trace_mask(f->st), 0);
}

/* ---- formats ------------------------------------------------------------------------- */

static void test_text_format(void **state)
{
    struct fx *f = *state;
    struct tr t;
    f->now = 12 * SEC + 5;
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_TEXT, 0);
    stack_drop(f->st, CNT_IpInHdrErrors, "ipv4", "version 6 in an IPv4 header (RFC 791)");
    stack_drop(f->st, CNT_IfOutErrors, "eth", "device write failed");
    stack_trace(f->st, "udp6", "port %u", 53u);
    TRACE(f->st, TL_IRP, TD_NONE, "irp-complete", "IRP %s completed: %s", "0x1", "STATUS_SUCCESS");
    assert_string_equal(tr_off(f, &t),
                        "12.000000005 ipv4 rx drop IpInHdrErrors: version 6 in an IPv4 header (RFC 791)\n"
                        "12.000000005 link tx drop IfOutErrors: device write failed\n"
                        "12.000000005 udp - port 53\n"
                        "12.000000005 irp - IRP 0x1 completed: STATUS_SUCCESS\n");
    free(t.buf);
    assert_int_equal(wskstack_counter(f->st, "IpInHdrErrors"), 1);
}

static void test_json_format(void **state)
{
    struct fx *f = *state;
    struct tr t;
    f->now = 7 * SEC;
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_JSON, 0);
    stack_drop(f->st, CNT_ArpInIgnored, "arp", "request for someone else (B.8, RFC 826)");
    /* an old-style hand-counted drop line is a drop event too */
    stack_trace(f->st, "nd", "drop NdQueueDrops: %u packet(s) for %s (RFC 4861 §7.2.2)", 2u, "x");
    struct trace_fields fl = {.irp = "0xabc", .status = "STATUS_PENDING", .from = "queued"};
    TRACE_F(f->st, TL_IRP, TD_TX, "irp-pend", &fl, "quote \" backslash \\ newline \n tab \t bell \a");
    TRACE(f->st, TL_WSK, TD_NONE, NULL, "plain");
    assert_string_equal(
        tr_off(f, &t),
        "{\"t\":7000000000,\"layer\":\"arp\",\"dir\":\"rx\",\"event\":\"drop\","
        "\"msg\":\"drop ArpInIgnored: request for someone else (B.8, RFC 826)\","
        "\"counter\":\"ArpInIgnored\",\"rfc\":\"RFC 826\"}\n"
        "{\"t\":7000000000,\"layer\":\"nd\",\"dir\":\"tx\",\"event\":\"drop\","
        "\"msg\":\"drop NdQueueDrops: 2 packet(s) for x (RFC 4861 §7.2.2)\","
        "\"counter\":\"NdQueueDrops\",\"rfc\":\"RFC 4861 §7.2.2\"}\n"
        "{\"t\":7000000000,\"layer\":\"irp\",\"dir\":\"tx\",\"event\":\"irp-pend\","
        "\"msg\":\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007\","
        "\"from\":\"queued\",\"irp\":\"0xabc\",\"status\":\"STATUS_PENDING\"}\n"
        "{\"t\":7000000000,\"layer\":\"wsk\",\"dir\":\"-\",\"event\":\"info\",\"msg\":\"plain\"}\n");
    free(t.buf);
}

/* A line longer than the buffer is cut, and stays one valid line. */
static void test_long_line_is_cut(void **state)
{
    struct fx *f = *state;
    struct tr t;
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tr_on(f, &t, TRACE_ALL, TRACE_FMT_JSON, 0);
    TRACE(f->st, TL_UDP, TD_RX, "x", "%s", big);
    const char *s = tr_off(f, &t);
    size_t n = strlen(s);
    assert_true(n > 700 && n < 2048);
    assert_string_equal(s + n - 4, "x\"}\n"); /* the message is cut, the line closed */
    assert_ptr_equal(strchr(s, '\n'), s + n - 1);
    free(t.buf);
}

static void test_layer_filter(void **state)
{
    struct fx *f = *state;
    struct tr t;
    tr_on(f, &t, TRACE_UDP | TRACE_FRAG, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    stack_drop(f->st, CNT_IpInHdrErrors, "ipv4", "not shown");
    stack_drop(f->st, CNT_UdpNoPorts, "udp6", "shown");
    stack_trace(f->st, "ipv6-reasm", "frag shown");
    stack_trace(f->st, "addr6", "ipv6: not shown");
    assert_string_equal(tr_off(f, &t), "udp rx drop UdpNoPorts: shown\n"
                                       "frag - frag shown\n");
    free(t.buf);
    /* the counters count whatever the trace shows */
    assert_int_equal(wskstack_counter(f->st, "IpInHdrErrors"), 1);
    assert_int_equal(wskstack_counter(f->st, "UdpNoPorts"), 1);
}

/* ---- sinks --------------------------------------------------------------------------------- */

static void test_trace_file_from_config(void **state)
{
    (void)state;
    char path[] = "/tmp/wss_trace_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cfgtext[256];
    snprintf(cfgtext, sizeof cfgtext,
             "mac=02:00:00:00:00:01;addr=192.0.2.1/24;trace=ipv4;trace-format=json;trace-file=%s",
             path);
    struct wskstack_config *cfg = wskstack_config_new();
    char err[256];
    assert_int_equal(wskstack_config_parse(cfg, cfgtext, err, sizeof err), 0);
    struct wskstack *st = NULL;
    assert_int_equal(stack_create_on_dev(cfg, memdev_create("tf", 1500), STACK_NO_THREAD, &st,
                                         err, sizeof err), 0);
    wskstack_config_free(cfg);
    assert_int_equal(stack_trace_mask(st), TRACE_IPV4);
    stack_set_clock(st, NULL, NULL);
    stack_drop(st, CNT_IpInAddrErrors, "ipv4", "not ours (RFC 1122 §3.2.1.3)");
    stack_drop(st, CNT_UdpNoPorts, "udp", "not traced");
    /* flushed per line: readable before the stack goes away */
    FILE *in = fopen(path, "r");
    char line[512] = "";
    assert_non_null(fgets(line, sizeof line, in));
    assert_non_null(strstr(line, ",\"layer\":\"ipv4\",\"dir\":\"rx\",\"event\":\"drop\","
                                 "\"msg\":\"drop IpInAddrErrors: not ours (RFC 1122 §3.2.1.3)\","
                                 "\"counter\":\"IpInAddrErrors\",\"rfc\":\"RFC 1122 §3.2.1.3\"}\n"));
    assert_int_equal(strncmp(line, "{\"t\":", 5), 0);
    assert_null(fgets(line, sizeof line, in));
    fclose(in);
    wskstack_destroy(st);
    unlink(path);

    /* a trace file that cannot be opened fails the creation, naming it */
    cfg = wskstack_config_new();
    assert_int_equal(wskstack_config_parse(cfg, "trace=all;trace-file=/nonexistent/dir/t", err,
                                           sizeof err), 0);
    st = NULL;
    assert_int_equal(stack_create_on_dev(cfg, memdev_create("tf2", 1500), STACK_NO_THREAD, &st,
                                         err, sizeof err), -ENOENT);
    assert_null(st);
    assert_string_equal(err, "trace-file: cannot open \"/nonexistent/dir/t\": No such file or directory");
    wskstack_config_free(cfg);
}

/* Lines written by several threads at once never interleave. */
struct thr_arg {
    struct wskstack *st;
    int id;
};
static void *thr_main(void *p)
{
    struct thr_arg *a = p;
    for (int i = 0; i < 500; i++)
        TRACE(a->st, TL_UDP, TD_TX, "x", "thread %d line %03d end", a->id, i);
    return NULL;
}

static void test_threads_do_not_interleave(void **state)
{
    struct fx *f = *state;
    struct tr t;
    tr_on(f, &t, TRACE_UDP, TRACE_FMT_TEXT, TRACE_F_NOTIME);
    pthread_t th[4];
    struct thr_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thr_arg){f->st, i};
        assert_int_equal(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    const char *s = tr_off(f, &t);
    unsigned lines = 0;
    for (const char *p = s; *p; lines++) {
        const char *e = strchr(p, '\n');
        assert_non_null(e);
        int id, n;
        char end[8];
        assert_int_equal(sscanf(p, "udp tx thread %d line %d %3s", &id, &n, end), 3);
        assert_string_equal(end, "end");
        assert_int_equal((int)(e - p), (int)strlen("udp tx thread 0 line 000 end"));
        p = e + 1;
    }
    assert_int_equal(lines, 2000);
    free(t.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_layers),
        cmocka_unit_test_setup_teardown(test_off_evaluates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_filter, setup, teardown),
        cmocka_unit_test(test_trace_file_from_config),
        cmocka_unit_test_setup_teardown(test_threads_do_not_interleave, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
