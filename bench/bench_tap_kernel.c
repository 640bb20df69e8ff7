/* SPDX-License-Identifier: MIT */
/*
 * bench_tap_kernel.c - the Linux side of bench-tap (bench_tap_kernel.h):
 * the recvmmsg receiver, and the kernel sender in a namespace of its own
 * joined to ours by a veth pair.
 *
 * Network namespaces belong to threads: unshare(CLONE_NEWNET) in the
 * sender thread moves that thread alone, and every socket (including the
 * netlink sockets of tapcfg_*) is created in the namespace of the thread
 * that creates it.  So the sender thread configures its end of the veth and
 * sends, and everything else happens in the caller's namespace.
 */
#include "bench_tap_kernel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "bench_util.h"
#include "tap/dev.h"

#define RX_VLEN 64            /* datagrams per recvmmsg, as PERF-NOTES */
#define RX_BUF (8 << 20)      /* receive buffer, as PERF-NOTES */
#define MMSG_MAX 64

/* ---- the receiver ---------------------------------------------------------------- */
struct btk_rx {
    int fd;
    unsigned payload;
    pthread_t th;
    atomic_bool stop;
    atomic_ulong count, other;
    atomic_ullong last_ns;    /* arrival of the latest datagram */
    uint8_t bufs[RX_VLEN][2048]; /* the receiver thread's */
};

static void *rx_thread(void *arg)
{
    struct btk_rx *r = arg;
    struct iovec iov[RX_VLEN];
    struct mmsghdr msgs[RX_VLEN];
    while (!atomic_load(&r->stop)) {
        memset(msgs, 0, sizeof msgs);
        for (unsigned i = 0; i < RX_VLEN; i++) {
            iov[i].iov_base = r->bufs[i];
            iov[i].iov_len = sizeof r->bufs[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        /* Blocks for the first datagram (at most SO_RCVTIMEO), then takes
         * what is queued. */
        int n = recvmmsg(r->fd, msgs, RX_VLEN, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue; /* timeout: look at stop again */
        unsigned long good = 0;
        for (int i = 0; i < n; i++)
            if (msgs[i].msg_len == r->payload)
                good++;
        atomic_fetch_add(&r->count, good);
        if (good != (unsigned long)n)
            atomic_fetch_add(&r->other, (unsigned long)n - good);
        atomic_store(&r->last_ns, bench_now_ns());
    }
    return NULL;
}

int btk_rx_start(const char *addr, uint16_t port, unsigned payload, struct btk_rx **out)
{
    struct btk_rx *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    r->payload = payload;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = RX_BUF;
    struct timeval tv = {0, 50 * 1000};
    if (r->fd < 0 || setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0 ||
        setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        bind(r->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "error: receiver %s:%u: %s\n", addr, port, strerror(errno));
        if (r->fd >= 0)
            close(r->fd);
        free(r);
        return -1;
    }
    if (pthread_create(&r->th, NULL, rx_thread, r) != 0) {
        close(r->fd);
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

unsigned long btk_rx_count(struct btk_rx *r) { return atomic_load(&r->count); }
unsigned long btk_rx_other(struct btk_rx *r) { return atomic_load(&r->other); }

unsigned long btk_rx_settle(struct btk_rx *r, unsigned long target, unsigned idle_ms,
                            unsigned max_ms)
{
    uint64_t start = bench_now_ns();
    for (;;) {
        uint64_t now = bench_now_ns();
        unsigned long n = atomic_load(&r->count);
        uint64_t last = atomic_load(&r->last_ns);
        if (n >= target || now - start >= (uint64_t)max_ms * 1000000u ||
            (now - (last > start ? last : start) >= (uint64_t)idle_ms * 1000000u))
            return n;
        usleep(1000); /* the receiver has no signal for "nothing more will come" */
    }
}

void btk_rx_stop(struct btk_rx *r)
{
    if (r == NULL)
        return;
    atomic_store(&r->stop, true);
    pthread_join(r->th, NULL); /* within one SO_RCVTIMEO */
    close(r->fd);
    free(r);
}

/* ---- the sender thread ------------------------------------------------------------- */
struct btk_veth {
    pthread_t th;
    pthread_mutex_t m;
    pthread_cond_t c;
    pid_t tid;                 /* the sender thread, once in its namespace; -1: failed */
    bool started, quit;
    int (*job)(struct btk_veth *v, void *arg);
    void *job_arg;
    int job_rc;
    bool job_done;
    int fd;                    /* the sender's UDP socket (its namespace) */
};

static void *veth_thread(void *arg)
{
    struct btk_veth *v = arg;
    int rc = bench_netns_enter();
    pthread_mutex_lock(&v->m);
    v->tid = rc == 0 ? gettid() : -1;
    v->started = true;
    pthread_cond_broadcast(&v->c);
    while (rc == 0) {
        while (v->job == NULL && !v->quit)
            pthread_cond_wait(&v->c, &v->m);
        if (v->quit)
            break;
        pthread_mutex_unlock(&v->m);
        int jrc = v->job(v, v->job_arg);
        pthread_mutex_lock(&v->m);
        v->job_rc = jrc;
        v->job = NULL;
        v->job_done = true;
        pthread_cond_broadcast(&v->c);
    }
    pthread_mutex_unlock(&v->m);
    return NULL;
}

/* Run fn(v, arg) on the sender thread and wait for its result. */
static int veth_run(struct btk_veth *v, int (*fn)(struct btk_veth *, void *), void *arg)
{
    pthread_mutex_lock(&v->m);
    v->job = fn;
    v->job_arg = arg;
    v->job_done = false;
    pthread_cond_broadcast(&v->c);
    while (!v->job_done)
        pthread_cond_wait(&v->c, &v->m);
    int rc = v->job_rc;
    pthread_mutex_unlock(&v->m);
    return rc;
}

/* Address and bring up one end of the veth pair, in the calling thread's
 * namespace. */
static int veth_end_up(const char *ifname, const char *addr)
{
    char err[256] = "";
    struct dev_prefix p = {.family = AF_INET, .plen = 24};
    inet_pton(AF_INET, addr, p.addr);
    int idx = (int)if_nametoindex(ifname);
    if (idx == 0 || tapcfg_addr_add(idx, &p, err, sizeof err) != 0 ||
        tapcfg_link_up(idx, err, sizeof err) != 0) {
        fprintf(stderr, "error: %s %s: %s\n", ifname, addr, idx == 0 ? "no such link" : err);
        return -1;
    }
    return 0;
}

/* Sender thread: its end of the pair, and its socket. */
static int job_peer_up(struct btk_veth *v, void *arg)
{
    (void)arg;
    if (veth_end_up("wsbv1", BTK_VETH_PEER) != 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, BTK_VETH_PEER, &a.sin_addr);
    v->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (v->fd < 0 || bind(v->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "error: sender socket: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int btk_veth_up(struct btk_veth **out)
{
    struct btk_veth *v = calloc(1, sizeof *v);
    if (v == NULL)
        return -1;
    v->fd = -1;
    pthread_mutex_init(&v->m, NULL);
    pthread_cond_init(&v->c, NULL);
    if (pthread_create(&v->th, NULL, veth_thread, v) != 0) {
        free(v);
        return -1;
    }
    *out = v;
    pthread_mutex_lock(&v->m);
    while (!v->started)
        pthread_cond_wait(&v->c, &v->m);
    pid_t tid = v->tid;
    pthread_mutex_unlock(&v->m);
    if (tid < 0)
        return -1;
    /* The pair is made here; its peer end is created directly in the
     * namespace of the sender thread (IFLA_NET_NS_PID = its thread id). */
    struct nl_sock *sk = nl_socket_alloc();
    int rc = sk != NULL ? nl_connect(sk, NETLINK_ROUTE) : -1;
    if (rc == 0)
        rc = rtnl_link_veth_add(sk, "wsbv0", "wsbv1", tid);
    if (sk != NULL)
        nl_socket_free(sk);
    if (rc != 0) {
        fprintf(stderr, "error: veth pair: %s\n", rc < 0 ? nl_geterror(rc) : "no netlink");
        return -1;
    }
    if (veth_end_up("wsbv0", BTK_VETH_LOCAL) != 0 || veth_run(v, job_peer_up, NULL) != 0)
        return -1;
    return 0;
}

struct send_args {
    struct sockaddr_in to;
    unsigned payload;
    unsigned long count;
    unsigned batch;
    double max_seconds;
    uint64_t elapsed_ns;
};

static int job_send(struct btk_veth *v, void *arg)
{
    struct send_args *s = arg;
    uint8_t data[1400];
    for (unsigned k = 0; k < s->payload; k++)
        data[k] = bench_payload_byte(0, k);
    struct iovec iov = {data, s->payload};
    struct mmsghdr msgs[MMSG_MAX];
    memset(msgs, 0, sizeof msgs);
    for (unsigned i = 0; i < MMSG_MAX; i++) {
        msgs[i].msg_hdr.msg_name = &s->to;
        msgs[i].msg_hdr.msg_namelen = sizeof s->to;
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t t0 = bench_now_ns();
    uint64_t deadline = t0 + (uint64_t)(s->max_seconds * 1e9);
    unsigned long sent = 0;
    while (sent < s->count) {
        unsigned long k = s->count - sent;
        int n;
        if (s->batch <= 1) {
            n = sendto(v->fd, data, s->payload, 0, (struct sockaddr *)&s->to, sizeof s->to) ==
                        (ssize_t)s->payload ? 1 : -1;
        } else {
            n = sendmmsg(v->fd, msgs, (unsigned)(k < s->batch ? k : s->batch), 0);
        }
        if (n <= 0) {
            fprintf(stderr, "error: kernel send: %s\n", strerror(errno));
            return -1;
        }
        sent += (unsigned long)n;
        if ((sent & 1023) < (unsigned long)n && bench_now_ns() > deadline) {
            fprintf(stderr, "error: %lu of %lu datagrams in --max-seconds\n", sent, s->count);
            return -1;
        }
    }
    s->elapsed_ns = bench_now_ns() - t0;
    return 0;
}

int btk_veth_send(struct btk_veth *v, const char *dst, uint16_t port, unsigned payload,
                  unsigned long count, unsigned batch, double max_seconds, uint64_t *elapsed_ns)
{
    struct send_args s = {.payload = payload, .count = count, .max_seconds = max_seconds,
                          .batch = batch > MMSG_MAX ? MMSG_MAX : batch};
    s.to.sin_family = AF_INET;
    s.to.sin_port = htons(port);
    inet_pton(AF_INET, dst, &s.to.sin_addr);
    int rc = veth_run(v, job_send, &s);
    *elapsed_ns = s.elapsed_ns;
    return rc;
}

void btk_veth_down(struct btk_veth *v)
{
    if (v == NULL)
        return;
    pthread_mutex_lock(&v->m);
    v->quit = true;
    pthread_cond_broadcast(&v->c);
    pthread_mutex_unlock(&v->m);
    pthread_join(v->th, NULL);
    if (v->fd >= 0)
        close(v->fd);
    pthread_cond_destroy(&v->c);
    pthread_mutex_destroy(&v->m);
    free(v);
}
