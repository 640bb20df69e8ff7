/* SPDX-License-Identifier: MIT */
/*
 * tool_run.h - run a built tool (wskcat, wsk-ping) from a lab test: fork +
 * exec of ${WSKSTACK_BIN}/tools/NAME with its stdin from a buffer, stdout
 * and stderr collected, an optional --ready-fd pipe (fd 3 in the child), and
 * every wait bounded (the child is killed with SIGKILL past its deadline).
 * Header-only, static functions; plain Linux C (no Windows header).
 */
#ifndef WSS_TOOL_RUN_H
#define WSS_TOOL_RUN_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TR_OUT_MAX 65536

struct tr {
    pid_t pid;
    int in_fd, out_fd, err_fd, ready_fd;   /* parent ends; -1 when closed */
    char out[TR_OUT_MAX], err[TR_OUT_MAX];
    size_t out_len, err_len;
    int status;                            /* exit code, 128+sig, -1 running */
};

static inline uint64_t tr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Path of a built tool: ${WSKSTACK_BIN}/tools/name. */
static const char *tr_tool(const char *name)
{
    static char path[4096];
    const char *bin = getenv("WSKSTACK_BIN");
    snprintf(path, sizeof path, "%s/tools/%s", bin ? bin : ".", name);
    return path;
}

/* Start argv[0] (a path) with argv.  stdin gets `input` (NULL: empty) and is
 * then closed; with_ready: a pipe whose write end is fd 3 in the child. */
static inline int tr_start(struct tr *t, char *const argv[], const char *input, bool with_ready)
{
    int in[2], out[2], err[2], rd[2] = {-1, -1};
    memset(t, 0, sizeof *t);
    t->status = -1;
    if (pipe(in) || pipe(out) || pipe(err) || (with_ready && pipe(rd)))
        return -errno;
    t->pid = fork();
    if (t->pid < 0)
        return -errno;
    if (t->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (with_ready) {
            dup2(rd[1], 3);
        }
        for (int fd = 4; fd < 1024; fd++)
            close(fd);
        if (!with_ready)
            close(3);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (with_ready)
        close(rd[1]);
    t->in_fd = in[1];
    t->out_fd = out[0];
    t->err_fd = err[0];
    t->ready_fd = rd[0];
    if (input) {
        size_t n = strlen(input), off = 0;
        while (off < n) {
            ssize_t w = write(t->in_fd, input + off, n - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    close(t->in_fd);
    t->in_fd = -1;
    return 0;
}

/* Read what the pipes hold, waiting at most ms. */
static inline void tr_pump(struct tr *t, unsigned ms)
{
    struct pollfd p[2] = {{t->out_fd, POLLIN, 0}, {t->err_fd, POLLIN, 0}};
    if (poll(p, 2, (int)ms) <= 0)
        return;
    for (int i = 0; i < 2; i++) {
        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        char *buf = i ? t->err : t->out;
        size_t *len = i ? &t->err_len : &t->out_len;
        ssize_t n = read(p[i].fd, buf + *len, TR_OUT_MAX - 1 - *len);
        if (n > 0) {
            *len += (size_t)n;
            buf[*len] = '\0';
        } else {
            close(p[i].fd);
            if (i)
                t->err_fd = -1;
            else
                t->out_fd = -1;
        }
    }
}

/* Wait for the ready byte: 1 (got it), 0 (EOF: the tool failed before
 * ready), -ETIMEDOUT. */
static inline int tr_wait_ready(struct tr *t, unsigned timeout_ms)
{
    uint64_t end = tr_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd p = {t->ready_fd, POLLIN, 0};
        uint64_t now = tr_now_ms();
        if (now >= end)
            return -ETIMEDOUT;
        tr_pump(t, 0);
        if (poll(&p, 1, (int)(end - now > 50 ? 50 : end - now)) > 0) {
            char c;
            ssize_t n = read(t->ready_fd, &c, 1);
            close(t->ready_fd);
            t->ready_fd = -1;
            return n == 1 ? 1 : 0;
        }
    }
}

/* Wait until stderr (err) or stdout contains needle. true if it does. */
static inline bool tr_wait_text(struct tr *t, bool in_err, const char *needle, unsigned timeout_ms)
{
    uint64_t end = tr_now_ms() + timeout_ms;
    while (!strstr(in_err ? t->err : t->out, needle)) {
        if (tr_now_ms() >= end || (in_err ? t->err_fd : t->out_fd) < 0)
            return strstr(in_err ? t->err : t->out, needle) != NULL;
        tr_pump(t, 50);
    }
    return true;
}

/* Wait for the exit (collecting output), at most timeout_ms, then SIGKILL.
 * Returns the exit code (128+sig when killed by a signal). */
static inline int tr_wait(struct tr *t, unsigned timeout_ms)
{
    uint64_t end = tr_now_ms() + timeout_ms;
    int st;
    for (;;) {
        pid_t r = waitpid(t->pid, &st, WNOHANG);
        if (r == t->pid)
            break;
        if (tr_now_ms() >= end) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &st, 0);
            fprintf(stderr, "tool_run: killed after %u ms\n", timeout_ms);
            break;
        }
        tr_pump(t, 20);
    }
    while (t->out_fd >= 0 || t->err_fd >= 0)
        tr_pump(t, 200);
    if (t->ready_fd >= 0) {
        close(t->ready_fd);
        t->ready_fd = -1;
    }
    t->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return t->status;
}

/* Start, wait, return the exit code (output in t). */
static inline int tr_run(struct tr *t, char *const argv[], const char *input, unsigned timeout_ms)
{
    if (tr_start(t, argv, input, false) != 0)
        return -1;
    return tr_wait(t, timeout_ms);
}

/* Line i (0-based) of text into buf; false past the end. */
static inline bool tr_line(const char *text, unsigned i, char *buf, size_t len)
{
    const char *s = text;
    for (unsigned k = 0; k < i; k++) {
        s = strchr(s, '\n');
        if (!s)
            return false;
        s++;
    }
    if (*s == '\0')
        return false;
    size_t n = strcspn(s, "\n");
    snprintf(buf, len, "%.*s", (int)n, s);
    return true;
}

/* Number of lines of text. */
static inline unsigned tr_nlines(const char *text)
{
    unsigned n = 0;
    for (const char *s = text; *s; s++)
        if (*s == '\n')
            n++;
    return n;
}

/* Whole-string POSIX ERE match. */
static inline bool tr_match(const char *s, const char *ere)
{
    regex_t re;
    if (regcomp(&re, ere, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* The nstat -j JSON in text has "name":value exactly. */
static inline bool tr_counter_is(const char *text, const char *name, unsigned long value)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "\"%s\":%lu,", name, value);
    snprintf(b, sizeof b, "\"%s\":%lu}", name, value);
    return strstr(text, a) != NULL || strstr(text, b) != NULL;
}

#endif /* WSS_TOOL_RUN_H */
