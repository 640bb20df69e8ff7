/* SPDX-License-Identifier: MIT */
/*
 * trace_fixture.h - shared by test_trace.c and test_trace_decisions.c: the
 * trace of a fx6.h stack captured in memory (open_memstream), switched on
 * for some layers, a format and flags, and read back as one string.
 * Include after cmocka.h.
 */
#ifndef WSS_TEST_TRACE_FIXTURE_H
#define WSS_TEST_TRACE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "stack/stack_impl.h"
#include "stack/ipv6_impl.h"
#include "fx6.h"

struct tr {
    char *buf;
    size_t len;
    FILE *f;
};

static FX6_UNUSED void tr_on(struct fx *f, struct tr *t, uint32_t mask, enum trace_format fmt,
                             unsigned flags)
{
    memset(t, 0, sizeof *t);
    t->f = open_memstream(&t->buf, &t->len);
    assert_non_null(t->f);
    trace_attach(f->st, t->f, mask, fmt, flags);
}

/* Stop tracing and return the text (the caller frees t->buf). */
static FX6_UNUSED const char *tr_off(struct fx *f, struct tr *t)
{
    assert_ptr_equal(trace_detach(f->st), t->f);
    fclose(t->f);
    return t->buf ? t->buf : "";
}

#endif /* WSS_TEST_TRACE_FIXTURE_H */
