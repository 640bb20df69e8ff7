/* SPDX-License-Identifier: MIT */
/*
 * tool_run.h - run a program from a lab test: a built tool (wskcat,
 * wsk-ping: ${WSKSTACK_BIN}/tools/NAME) or a kernel-side peer found on PATH
 * (socat, ping, tshark: tr_prog).  fork + exec with stdin from a buffer (or
 * kept open and written later: tr_start_ex), stdout and stderr collected,
 * an optional --ready-fd pipe (fd 3 in the child), and every wait bounded
 * (the child is killed with SIGKILL past its deadline).  tr_tshark_* read a
 * capture with tshark's checksum checks on.
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

/* The children started and not yet waited for: a test that fails half
 * way (cmocka longjmps out of it) leaves them running, holding their TAP
 * or port; tr_reap_all, as a test's teardown, ends them. */
#define TR_MAX_LIVE 16
static pid_t tr_live[TR_MAX_LIVE];

static inline void tr_live_set(pid_t old, pid_t pid)
{
    for (int i = 0; i < TR_MAX_LIVE; i++)
        if (tr_live[i] == old) {
            tr_live[i] = pid;
            return;
        }
}

/* SIGKILL and reap every child still registered (only those: each pid was
 * returned by our own fork).  Returns 0 for cmocka's teardown. */
static inline int tr_reap_all(void **state)
{
    (void)state;
    for (int i = 0; i < TR_MAX_LIVE; i++)
        if (tr_live[i] > 0) {
            kill(tr_live[i], SIGKILL);
            waitpid(tr_live[i], NULL, 0);
            tr_live[i] = 0;
        }
    return 0;
}

/* A program on PATH (or in /usr/sbin, /sbin: ping, tshark may live
 * there): its path, or NULL. */
static const char *tr_prog(const char *name)
{
    static char path[4096];
    const char *env = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin:/usr/bin:/bin", env ? env : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/%s", d, name);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

/* Start argv[0] (a path) with argv.  stdin gets `input` (NULL: empty) and
 * is then closed, unless keep_stdin: then it stays open for tr_write and
 * tr_close_stdin (a peer that must not see EOF yet).  with_ready: a pipe
 * whose write end is fd 3 in the child. */
static inline int tr_start_ex(struct tr *t, char *const argv[], const char *input,
                              bool with_ready, bool keep_stdin)
{
    int in[2], out[2], err[2], rd[2] = {-1, -1};
    memset(t, 0, sizeof *t);
    t->status = -1;
    t->ready_fd = -1;
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
    tr_live_set(0, t->pid);
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
    if (!keep_stdin) {
        close(t->in_fd);
        t->in_fd = -1;
    }
    return 0;
}

static inline int tr_start(struct tr *t, char *const argv[], const char *input, bool with_ready)
{
    return tr_start_ex(t, argv, input, with_ready, false);
}

/* Write len bytes to the child's stdin (started with keep_stdin), in one
 * write: a peer like socat turns each read into one datagram.  true if all
 * of it was written. */
static inline bool tr_write(struct tr *t, const void *buf, size_t len)
{
    if (t->in_fd < 0)
        return false;
    ssize_t w;
    do
        w = write(t->in_fd, buf, len);
    while (w < 0 && errno == EINTR);
    return w == (ssize_t)len;
}

static inline void tr_close_stdin(struct tr *t)
{
    if (t->in_fd >= 0) {
        close(t->in_fd);
        t->in_fd = -1;
    }
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

/* Read everything the pipes already hold, without waiting for more: what
 * the child wrote before some event the caller has seen (its ready byte). */
static inline void tr_drain(struct tr *t)
{
    for (int i = 0; i < 1024; i++) {
        size_t before = t->out_len + t->err_len;
        tr_pump(t, 0);
        if (t->out_len + t->err_len == before)
            return;
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
    int st = 0;
    if (t->status != -1)
        return t->status; /* waited for already: its pid may be reused now */
    for (;;) {
        pid_t r = waitpid(t->pid, &st, WNOHANG);
        if (r == t->pid)
            break;
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "tool_run: waitpid %d: %s\n", (int)t->pid, strerror(errno));
            st = 255 << 8; /* not ours to wait for: report exit 255 */
            break;
        }
        if (tr_now_ms() >= end) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &st, 0);
            fprintf(stderr, "tool_run: killed after %u ms\n", timeout_ms);
            break;
        }
        tr_pump(t, 20);
    }
    tr_live_set(t->pid, 0);
    while (t->out_fd >= 0 || t->err_fd >= 0)
        tr_pump(t, 200);
    tr_close_stdin(t);
    if (t->ready_fd >= 0) {
        close(t->ready_fd);
        t->ready_fd = -1;
    }
    t->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return t->status;
}

/* Stop a peer that runs until told (socat on UDP-RECV): signal sig, then
 * tr_wait at most timeout_ms. */
static inline int tr_stop(struct tr *t, int sig, unsigned timeout_ms)
{
    if (t->status == -1)
        kill(t->pid, sig);
    return tr_wait(t, timeout_ms);
}

/* Occurrences of needle in text (not overlapping). */
static inline unsigned tr_count(const char *text, const char *needle)
{
    unsigned n = 0;
    size_t len = strlen(needle);
    for (const char *s = strstr(text, needle); s; s = strstr(s + len, needle))
        n++;
    return n;
}

/* Wait until stdout (or stderr) holds needle at least n times. */
static inline bool tr_wait_count(struct tr *t, bool in_err, const char *needle, unsigned n,
                                 unsigned timeout_ms)
{
    uint64_t end = tr_now_ms() + timeout_ms;
    while (tr_count(in_err ? t->err : t->out, needle) < n) {
        if (tr_now_ms() >= end || (in_err ? t->err_fd : t->out_fd) < 0)
            return tr_count(in_err ? t->err : t->out, needle) >= n;
        tr_pump(t, 50);
    }
    return true;
}

/* Wait until stdout is exactly want (a peer's output so far). */
static inline bool tr_wait_out(struct tr *t, const char *want, unsigned timeout_ms)
{
    uint64_t end = tr_now_ms() + timeout_ms;
    size_t n = strlen(want);
    while (t->out_len < n && tr_now_ms() < end && t->out_fd >= 0)
        tr_pump(t, 50);
    return strcmp(t->out, want) == 0;
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

/* ---- captures read with tshark ----------------------------------------------
 * tshark -n -r PCAP with the IPv4 header and UDP checksum checks switched
 * on (-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE; tshark always
 * checks ICMP and ICMPv6 checksums: they have no preference), a display
 * filter (NULL: every frame) and -T fields: one line per frame in t->out.
 * The exit code of tshark, or -1 when it is not installed. */
static inline int tr_tshark(struct tr *t, const char *pcap, const char *filter,
                            const char *fields)
{
    const char *prog = tr_prog("tshark");
    if (prog == NULL) {
        memset(t, 0, sizeof *t);
        return -1;
    }
    char path[4096], f[1024];
    snprintf(path, sizeof path, "%s", prog);
    snprintf(f, sizeof f, "%s", fields);
    char *argv[64] = {path, "-n", "-r", (char *)pcap, "-o", "ip.check_checksum:TRUE",
                      "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=;",
                      "-E", "occurrence=a", "-E", "aggregator=+"};
    int argc = 16;
    if (filter) {
        argv[argc++] = "-Y";
        argv[argc++] = (char *)filter;
    }
    for (char *save = NULL, *e = strtok_r(f, " ", &save); e && argc < 62;
         e = strtok_r(NULL, " ", &save)) {
        argv[argc++] = "-e";
        argv[argc++] = e;
    }
    argv[argc] = NULL;
    return tr_run(t, argv, NULL, 60000);
}

/* Frames of pcap that match a display filter, or -1 if tshark failed. */
static inline int tr_tshark_count(const char *pcap, const char *filter)
{
    static struct tr t; /* 128 KB: not on the caller's stack */
    if (tr_tshark(&t, pcap, filter, "frame.number") != 0)
        return -1;
    return (int)tr_nlines(t.out);
}

/* Every checksum tshark verifies in pcap (IPv4 header, UDP, ICMP, ICMPv6;
 * an ICMP error's quoted headers too) must be good: its status field is 1
 * (0 bad, 2 not verified).  Returns the number of checksums verified, or
 * -1 with the first offending frame described in why. */
static inline int tr_tshark_checksums(const char *pcap, char *why, size_t whylen)
{
    static struct tr t;
    snprintf(why, whylen, "tshark failed or is not installed");
    if (tr_tshark(&t, pcap, NULL,
                  "frame.number ip.checksum.status udp.checksum.status "
                  "icmp.checksum.status icmpv6.checksum.status") != 0)
        return -1;
    int verified = 0;
    char line[512];
    for (unsigned i = 0; tr_line(t.out, i, line, sizeof line); i++) {
        /* number;ip;udp;icmp;icmpv6 - each a value list joined with '+' */
        char *num = line, *p = strchr(line, ';');
        if (p == NULL)
            continue;
        *p++ = '\0';
        for (; *p; p++) {
            if (*p == ';' || *p == '+')
                continue;
            if (*p != '1') {
                snprintf(why, whylen, "frame %.32s: checksum status %c (1 = good)", num, *p);
                return -1;
            }
            verified++;
        }
    }
    return verified;
}

#endif /* WSS_TOOL_RUN_H */
