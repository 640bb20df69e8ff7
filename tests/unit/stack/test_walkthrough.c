/* SPDX-License-Identifier: MIT */
/*
 * docs/walkthrough.md names the file and function of every step of a
 * datagram's path.  This test keeps it honest: it extracts every pair
 * written in the page's notation,
 *
 *     `stack/udp.c` `udp_send()`      (file in backquotes, one space,
 *                                       function with "()" in backquotes)
 *
 * and checks that the file exists under $WSKSTACK_SRC and defines the
 * function: a line that starts with a letter or '_' (not indented, not a
 * #define), contains the name as a whole word followed by optional blanks
 * and '(', and from there reaches a '{' before any ';' (so a prototype, even
 * one spread over several lines, does not count; a static function does).
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PAIR_RE "`([A-Za-z0-9_./-]+\\.[ch])` `([A-Za-z_][A-Za-z0-9_]*)\\(\\)`"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(f);
    b[n] = '\0';
    return b;
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* True if text (a whole C file) defines fn (see the top). */
static bool defines(const char *text, const char *fn)
{
    size_t fl = strlen(fn);
    const char *line = text;
    while (*line) {
        const char *eol = strchr(line, '\n');
        if (eol == NULL)
            eol = line + strlen(line);
        if ((*line >= 'a' && *line <= 'z') || (*line >= 'A' && *line <= 'Z') || *line == '_') {
            for (const char *p = line; p + fl <= eol; p++) {
                if (strncmp(p, fn, fl) != 0 || (p > line && ident_char(p[-1])))
                    continue;
                const char *q = p + fl;
                while (q < eol && (*q == ' ' || *q == '\t'))
                    q++;
                if (q >= eol || *q != '(')
                    continue;
                /* Definition or declaration: the first '{' or ';' after it. */
                size_t k = strcspn(q, "{;");
                if (q[k] == '{')
                    return true;
                break; /* a prototype on this line; look further down */
            }
        }
        line = *eol ? eol + 1 : eol;
    }
    return false;
}

struct pair {
    char file[128];
    char fn[96];
};

/* Every pair of the notation in md, in order; returns the count. */
static unsigned extract(const char *md, struct pair *out, unsigned cap)
{
    regex_t re;
    assert_int_equal(regcomp(&re, PAIR_RE, REG_EXTENDED), 0);
    unsigned n = 0;
    const char *p = md;
    regmatch_t m[3];
    while (regexec(&re, p, 3, m, 0) == 0) {
        assert_true(n < cap);
        size_t fl = (size_t)(m[1].rm_eo - m[1].rm_so), nl = (size_t)(m[2].rm_eo - m[2].rm_so);
        assert_true(fl < sizeof out[n].file && nl < sizeof out[n].fn);
        memcpy(out[n].file, p + m[1].rm_so, fl);
        out[n].file[fl] = '\0';
        memcpy(out[n].fn, p + m[2].rm_so, nl);
        out[n].fn[nl] = '\0';
        n++;
        p += m[0].rm_eo;
    }
    regfree(&re);
    return n;
}

/* The checker itself: a definition counts, a prototype (one line or
 * several), a call, an indented line, a longer name and a macro do not. */
static void test_checker_rules(void **state)
{
    (void)state;
    assert_true(defines("int udp_send(struct wskstack *st)\n{\n}\n", "udp_send"));
    assert_true(defines("static void *stack_rx_thread(void *arg)\n{\n", "stack_rx_thread"));
    assert_true(defines("static inline int dev_send(int d) { return d; }\n", "dev_send"));
    assert_true(defines("static int\nrx_batch (int a,\n    int b)\n{\n}\n", "rx_batch"));
    assert_true(defines("int f(void);\nint f(void)\n{\n}\n", "f"));
    assert_false(defines("int udp_send(struct wskstack *st);\n", "udp_send"));
    assert_false(defines("int udp_send(struct wskstack *st,\n             int x);\n", "udp_send"));
    assert_false(defines("    rc = udp_send(st, ep, a);\n", "udp_send"));
    assert_false(defines("int udp_send4(int a)\n{\n}\n", "udp_send"));
    assert_false(defines("int xudp_send(int a)\n{\n}\n", "udp_send"));
    assert_false(defines("#define udp_send(a) foo(a)\n", "udp_send"));

    struct pair p[4];
    assert_int_equal(extract("a `stack/udp.c` `udp_send()` b `x.c`  `f()` c `tap/dev.h` `dev_send()`"
                             " `stack/udp.c` udp_input()", p, 4),
                     2);
    assert_string_equal(p[0].file, "stack/udp.c");
    assert_string_equal(p[0].fn, "udp_send");
    assert_string_equal(p[1].file, "tap/dev.h");
    assert_string_equal(p[1].fn, "dev_send");
}

/* Every pair of docs/walkthrough.md names an existing definition. */
static void test_walkthrough_functions_exist(void **state)
{
    (void)state;
    const char *src = getenv("WSKSTACK_SRC");
    assert_non_null(src);
    char path[1024];
    int k = snprintf(path, sizeof path, "%s/docs/walkthrough.md", src);
    assert_true(k > 0 && (size_t)k < sizeof path);
    char *md = slurp(path);
    if (md == NULL)
        fail_msg("cannot read %s", path);

    static struct pair pairs[256];
    unsigned n = extract(md, pairs, 256);
    free(md);
    print_message("%u file/function pairs in docs/walkthrough.md\n", n);
    assert_true(n >= 12); /* an empty extraction (notation changed) fails */

    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++) {
        k = snprintf(path, sizeof path, "%s/%s", src, pairs[i].file);
        assert_true(k > 0 && (size_t)k < sizeof path);
        char *text = slurp(path);
        if (text == NULL) {
            print_error("docs/walkthrough.md: %s: no such file\n", pairs[i].file);
            bad++;
            continue;
        }
        if (!defines(text, pairs[i].fn)) {
            print_error("docs/walkthrough.md: %s does not define %s()\n", pairs[i].file,
                        pairs[i].fn);
            bad++;
        }
        free(text);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_rules),
        cmocka_unit_test(test_walkthrough_functions_exist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
