/* SPDX-License-Identifier: MIT */
/*
 * counters.c - counter names, the nstat-shaped JSON dump, and the two
 * function every drop goes through (stack_drop; its trace line: trace.c).
 *
 * Counters are relaxed atomics in st->cnt (stack.h CONCURRENCY MODEL): no
 * lock.  The names come from the same X-macro as the enum (counters.h), so
 * the table and the enum cannot drift apart.
 */
#include "stack/stack_impl.h"

#include <string.h>

static const char *const cnt_names[CNT__COUNT] = {
#define WSS_CNT_NAME(n, d) #n,
    WSS_COUNTERS(WSS_CNT_NAME)
#undef WSS_CNT_NAME
};

/* The stack's counters are written by any thread; readers only need a
 * recent value.  (Cast: C11 atomic_load of a const object is not accepted
 * by every compiler version.) */
static uint64_t cnt_get(const struct wskstack *st, unsigned i)
{
    return atomic_load_explicit((_Atomic uint64_t *)&st->cnt[i], memory_order_relaxed);
}

WSKSTACK_API int64_t wskstack_counter(const struct wskstack *st, const char *name)
{
    if (!name)
        return -1;
    for (unsigned i = 0; i < CNT__COUNT; i++)
        if (strcmp(cnt_names[i], name) == 0)
            return (int64_t)cnt_get(st, i);
    return -1;
}

WSKSTACK_API const char *wskstack_counter_name(unsigned i)
{
    return i < CNT__COUNT ? cnt_names[i] : NULL;
}

WSKSTACK_API uint64_t wskstack_counter_value(const struct wskstack *st, unsigned i)
{
    return i < CNT__COUNT ? cnt_get(st, i) : 0;
}

/* Same shape as `nstat -j` (iproute2): one line,
 *   {"kernel":{"IpInReceives":1,"UdpInDatagrams":2}}
 * non-zero counters only, no spaces, a newline at the end. */
WSKSTACK_API void wskstack_counters_json(const struct wskstack *st, FILE *out)
{
    fputs("{\"kernel\":{", out);
    bool first = true;
    for (unsigned i = 0; i < CNT__COUNT; i++) {
        uint64_t v = cnt_get(st, i);
        if (v == 0)
            continue;
        fprintf(out, "%s\"%s\":%llu", first ? "" : ",", cnt_names[i], (unsigned long long)v);
        first = false;
    }
    fputs("}}\n", out);
}

void stack_drop(struct wskstack *st, enum wss_counter c, const char *layer, const char *reason)
{
    if ((unsigned)c >= CNT__COUNT)
        return;
    atomic_fetch_add_explicit(&st->cnt[c], 1, memory_order_relaxed);
    if (TRACE_ON(st->trace_mask, TRACE_ALL))
        trace_drop(st, layer, cnt_names[c], reason);
}
