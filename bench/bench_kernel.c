/* SPDX-License-Identifier: MIT */
/*
 * bench_kernel.c - the Linux kernel's reference for bench-trace: the same
 * number of datagrams through the kernel's own UDP/IP stack, in the same
 * run, so that bench/run.sh can print wskstack/kernel ratios.
 *
 * What is measured: one thread, a UDP socket sending to another UDP socket
 * over loopback (127.0.0.1, ::1), in batches of 32: 32 sendto() calls,
 * then 32 recv() calls.  One datagram therefore crosses the kernel's whole
 * send path (udp, ip, the loopback device) and its whole receive path (ip,
 * udp, the socket queue) plus two system calls - the kernel's counterpart
 * of one wskstack tx (WskSendTo -> device) plus one rx (device ->
 * WskReceiveFromEvent), which is how report.awk pairs them.  Loopback has
 * no neighbour resolution and no real device, as the memdev has neither.
 *
 * The sockets live in a private network namespace made here
 * (unshare(CLONE_NEWNET); without root, a user namespace is tried too), so
 * nothing leaves this process.  Every datagram is checked: received once,
 * with its length and first byte.
 *
 * Usage: bench-kernel [common options, bench_util.h]
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_util.h"

#define BATCH 32
#define PORT_RX 9000

/* The receiving socket on port PORT_RX and the sending one, connected to
 * nothing (sendto names the destination, as WskSendTo does). */
static int sockets_open(int fam, int *rx, int *tx, struct sockaddr_storage *to, socklen_t *tolen)
{
    memset(to, 0, sizeof *to);
    if (fam == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)to;
        a->sin_family = AF_INET;
        a->sin_port = htons(PORT_RX);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *tolen = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)to;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(PORT_RX);
        a->sin6_addr = in6addr_loopback;
        *tolen = sizeof *a;
    }
    int af = fam == 4 ? AF_INET : AF_INET6;
    *rx = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    *tx = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (*rx < 0 || *tx < 0 || bind(*rx, (struct sockaddr *)to, *tolen) != 0) {
        fprintf(stderr, "error: kernel sockets: %s\n", strerror(errno));
        return -1;
    }
    /* A bound on every receive: a lost datagram fails the run, never hangs it. */
    struct timeval tv = {1, 0};
    setsockopt(*rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return 0;
}

/* count datagrams through the kernel; ns per datagram in *ns. */
static int run_loop(const struct bench_opts *o, int fam, unsigned long count, double *ns,
                    double *cpu)
{
    int rx = -1, tx = -1, rc = -1;
    struct sockaddr_storage to;
    socklen_t tolen;
    uint8_t data[BATCH][1400], in[2048];
    for (unsigned i = 0; i < BATCH; i++)
        for (unsigned k = 0; k < o->payload; k++)
            data[i][k] = bench_payload_byte(i, k);
    if (sockets_open(fam, &rx, &tx, &to, &tolen) != 0)
        goto out;
    uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();
    uint64_t deadline = t0 + (uint64_t)(o->max_seconds * 1e9);
    unsigned long done = 0;
    while (done < count) {
        unsigned k = count - done < BATCH ? (unsigned)(count - done) : BATCH;
        for (unsigned i = 0; i < k; i++) {
            if (sendto(tx, data[i], o->payload, 0, (struct sockaddr *)&to, tolen) !=
                (ssize_t)o->payload) {
                fprintf(stderr, "error: sendto: %s\n", strerror(errno));
                goto out;
            }
        }
        for (unsigned i = 0; i < k; i++) {
            ssize_t n = recv(rx, in, sizeof in, 0);
            if (n != (ssize_t)o->payload || in[0] != data[i][0]) {
                fprintf(stderr, "error: recv: datagram %lu: %zd bytes (%s)\n", done + i, n,
                        n < 0 ? strerror(errno) : "wrong length or data");
                goto out;
            }
        }
        done += k;
        if (bench_now_ns() > deadline) {
            fprintf(stderr, "error: %lu of %lu datagrams in --max-seconds\n", done, count);
            goto out;
        }
    }
    *ns = (double)(bench_now_ns() - t0) / (double)count;
    *cpu = (double)(bench_cpu_ns() - c0) / (double)count;
    rc = 0;
out:
    if (rx >= 0)
        close(rx);
    if (tx >= 0)
        close(tx);
    return rc;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    bench_opts_init(&o, 200000, 20000);
    for (int i = 1; i < argc; i++) {
        int rc = bench_opts_parse(&o, argc, argv, &i);
        if (rc < 0)
            return 2;
        if (rc == 0) {
            FILE *f = strcmp(argv[i], "--help") == 0 ? stdout : stderr;
            fprintf(f, "usage: bench-kernel [options]\n"
                       "Kernel reference: loopback sendto + recv, ns per datagram.\n%s",
                    bench_opts_usage);
            return f == stdout ? 0 : 2;
        }
    }
    if (bench_netns_enter() != 0)
        return 1;
    printf("# bench-kernel: loopback in a private netns, payload %u B, %lu datagrams x %u\n",
           o.payload, o.count, o.repeats);
    if (o.cpu >= 0 && bench_pin_cpu((unsigned)o.cpu) != 0)
        return 1;
    double ns, cpu;
    for (int fam = 4; fam <= 6; fam += 2) {
        if (((fam == 4 && o.v4) || (fam == 6 && o.v6)) && o.warmup > 0 &&
            run_loop(&o, fam, o.warmup, &ns, &cpu) != 0)
            return 1;
    }
    for (unsigned r = 0; r < o.repeats; r++) {
        for (int fam = 4; fam <= 6; fam += 2) {
            if ((fam == 4 && !o.v4) || (fam == 6 && !o.v6))
                continue;
            if (run_loop(&o, fam, o.count, &ns, &cpu) != 0)
                return 1;
            bench_result("kernel", "loopback", fam, "txrx", o.count, ns, "ns/dgram", cpu);
        }
    }
    return 0;
}
