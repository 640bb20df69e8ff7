/* SPDX-License-Identifier: MIT */
/*
 * lab_stack.h - the fixture of the lab tests: a stack on a real TAP (in the
 * test's own network namespace), a WSK registration bound to it
 * (WsksRegisterOnStack), and counter helpers.  Header-only; a lab test
 * includes <cmocka.h> (after stdarg/stddef/setjmp) before this file.
 *
 * Lab tests are WSK sources (Windows headers), so the kernel side comes
 * from testutil.h (plain C; tools/lab_kernel.c) and the synchronous WSK
 * calls from tools/wskc.h.
 */
#ifndef WSS_LAB_STACK_H
#define WSS_LAB_STACK_H

#include <ntddk.h>
#include <wsk.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "tools/wskc.h"
#include "wskstack.h"
#include "wskstack_wsk.h"

struct lab_stack {
    struct wskstack *st;
    WSK_CLIENT_DISPATCH client_dispatch;
    WSK_CLIENT_NPI client_npi;
    WSK_REGISTRATION reg;
    WSK_PROVIDER_NPI npi;
    bool registered, captured;
    uint8_t mac[6];     /* the stack's MAC */
    uint8_t kmac[6];    /* the kernel side of its TAP */
    char ifname[16];
};

/* Create the stack from config text and bind a WSK registration to it
 * (capturing the provider NPI).  Asserts on every failure. */
static inline void lab_stack_up(struct lab_stack *ls, const char *config)
{
    char err[256] = "";
    memset(ls, 0, sizeof *ls);
    struct wskstack_config *cfg = wskstack_config_new();
    assert_non_null(cfg);
    if (wskstack_config_parse(cfg, config, err, sizeof err) != 0)
        fail_msg("config \"%s\": %s", config, err);
    int rc = wskstack_create(cfg, &ls->st, err, sizeof err);
    wskstack_config_free(cfg);
    if (rc != 0)
        fail_msg("wskstack_create(\"%s\"): %d %s", config, rc, err);
    wskstack_mac(ls->st, ls->mac);
    snprintf(ls->ifname, sizeof ls->ifname, "%s", wskstack_ifname(ls->st));
    assert_int_equal(lk_if_mac(ls->ifname, ls->kmac), 0);

    ls->client_dispatch.Version = MAKE_WSK_VERSION(1, 0);
    ls->client_npi.ClientContext = ls;
    ls->client_npi.Dispatch = &ls->client_dispatch;
    assert_int_equal(WsksRegisterOnStack(ls->st, &ls->client_npi, &ls->reg), STATUS_SUCCESS);
    ls->registered = true;
    assert_int_equal(WskCaptureProviderNPI(&ls->reg, WSK_INFINITE_WAIT, &ls->npi),
                     STATUS_SUCCESS);
    ls->captured = true;
}

static inline void lab_stack_down(struct lab_stack *ls)
{
    if (ls->captured)
        WskReleaseProviderNPI(&ls->reg);
    if (ls->registered)
        WskDeregister(&ls->reg);
    if (ls->st)
        wskstack_destroy(ls->st);
    memset(ls, 0, sizeof *ls);
    /* Every IRP the test issued was completed exactly as WSK-SPEC 5.1 says. */
    assert_int_equal(wskc_contract_errors, 0);
}

/* A datagram socket bound to addr:port (NULL = 0.0.0.0, 0 = ephemeral). */
static inline PWSK_SOCKET lab_stack_socket(struct lab_stack *ls, const char *addr, uint16_t port)
{
    PWSK_SOCKET s = NULL;
    assert_int_equal(wskc_socket(&ls->npi, &s), STATUS_SUCCESS);
    assert_non_null(s);
    assert_int_equal(wskc_bind(s, addr, port), STATUS_SUCCESS);
    return s;
}

static inline int64_t lab_stack_cnt(struct lab_stack *ls, const char *name)
{
    int64_t v = wskstack_counter(ls->st, name);
    if (v < 0)
        fail_msg("no counter named %s", name);
    return v;
}

struct lab_stack_cnt_wait {
    struct lab_stack *ls;
    const char *name;
    int64_t target;
};

static inline bool lab_stack_cnt_reached(void *ctx)
{
    struct lab_stack_cnt_wait *w = ctx;
    return lab_stack_cnt(w->ls, w->name) >= w->target;
}

/* Counters are bumped after the frame is written, so they may trail what
 * the kernel already saw: wait (at most 2 s) for `name` to reach `target`,
 * then let 50 ms pass so that a surplus would show, and return the value.
 * Callers assert it EXACTLY. */
static inline int64_t lab_stack_cnt_settle(struct lab_stack *ls, const char *name, int64_t target)
{
    struct lab_stack_cnt_wait w = {ls, name, target};
    (void)lk_wait_until(lab_stack_cnt_reached, &w, 2000, 2);
    lk_sleep_ms(50);
    return lab_stack_cnt(ls, name);
}

/* The kernel's /proc/net/snmp counter, asserted to exist. */
static inline int64_t lab_kernel_cnt(const char *group, const char *name)
{
    int64_t v = lk_snmp(group, name);
    if (v < 0)
        fail_msg("no kernel counter %s%s", group, name);
    return v;
}

#endif /* WSS_LAB_STACK_H */
