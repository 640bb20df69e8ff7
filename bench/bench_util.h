/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h - what every benchmark of bench/ shares: the clock, the
 * command line, prebuilt Ethernet/IPv4/UDP and Ethernet/IPv6/UDP frames,
 * and the one output format that bench/report.awk reads.
 *
 * Plain C types only: the WSK benchmarks include the Windows headers
 * (<wsk.h> defines AF_INET6 = 23, SOCKADDR ...), which must not meet
 * <sys/socket.h> in one translation unit, and the kernel-side sources
 * include <sys/socket.h>.  Both include this header.
 *
 * Output: every measurement is ONE line
 *
 *   result bench=<name> variant=<v> family=ipv4|ipv6 dir=<d> count=<n> value=<x> unit=<u>
 *          [cpu=<y>]
 *
 * e.g. "result bench=trace variant=off family=ipv4 dir=rx count=200000
 * value=1532.4 unit=ns/dgram cpu=1498.0": value is wall-clock time per
 * datagram, cpu the CPU time of every thread of the process per datagram
 * (CLOCK_PROCESS_CPUTIME_ID), which other processes on the machine do not
 * inflate.  Anything else a benchmark prints is for
 * people and starts with "# ".  A benchmark whose own checks failed (a
 * datagram lost or miscounted) prints "error ..." on stderr and exits 1,
 * and prints no result line for that measurement.
 */
#ifndef WSS_BENCH_UTIL_H
#define WSS_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void);
/* CPU time of every thread of this process so far, in ns. */
uint64_t bench_cpu_ns(void);
/* Run this thread, and every thread it creates from now on, on CPU cpu
 * only (sched_setaffinity).  0, or -1 with a message. */
int bench_pin_cpu(unsigned cpu);

/* Move this thread (and the threads it creates from now on) into a new,
 * private network namespace with its loopback up: unshare(CLONE_NEWNET),
 * or, without root, CLONE_NEWUSER | CLONE_NEWNET.  0, or -1 with a
 * message.  Everything a benchmark sends stays in there. */
int bench_netns_enter(void);

/* ---- command line ------------------------------------------------------------ */
/* The options every benchmark takes (each benchmark adds its own):
 *   --count N     datagrams per measurement
 *   --warmup N    datagrams sent through first, not measured
 *   --repeats R   measurements of each kind, one result line each
 *   --payload B   UDP payload bytes (1..1400)
 *   --family 4|6|both
 *   --max-seconds S  bound on each measurement's duration (sending loops
 *                 stop there even if count is not reached: then the
 *                 benchmark fails, a result must cover the whole count)
 *   --cpu N       run every thread on CPU N (bench_pin_cpu); default: no pinning */
struct bench_opts {
    unsigned long count;
    unsigned long warmup;
    unsigned repeats;
    unsigned payload;
    bool v4, v6;
    double max_seconds;
    int cpu;                      /* -1: not pinned */
};
/* Defaults for a benchmark (count, warmup). */
void bench_opts_init(struct bench_opts *o, unsigned long count, unsigned long warmup);
/* If argv[*i] is one of the common options, consume it (and its value) and
 * return 1; 0 if it is not one of them; -1 (message on stderr) if its value
 * is malformed. */
int bench_opts_parse(struct bench_opts *o, int argc, char **argv, int *i);
/* The usage lines of the common options. */
extern const char bench_opts_usage[];
/* "123" -> *out within [min, max]; false if malformed. */
bool bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* ---- output -------------------------------------------------------------------- */
/* cpu < 0: no cpu= field. */
void bench_result(const char *bench, const char *variant, int family, const char *dir,
                  unsigned long count, double value, const char *unit, double cpu);

/* ---- frames -------------------------------------------------------------------- */
/* The addresses every memdev/TAP benchmark uses (documentation ranges). */
struct bench_frame_addrs {
    uint8_t dmac[6], smac[6];
    uint8_t src4[4], dst4[4];     /* network order */
    uint8_t src6[16], dst6[16];
    uint16_t sport, dport;        /* host order */
};
/* Ethernet + IPv4 (IHL 5, TTL 64, the given id, DF clear) + UDP with valid
 * checksums, padded to the Ethernet minimum of 60 bytes.  buf must hold
 * 60 + 42 + plen bytes; returns the frame length. */
size_t bench_frame_udp4(uint8_t *buf, const struct bench_frame_addrs *a, uint16_t ip_id,
                        const uint8_t *payload, size_t plen);
/* Ethernet + IPv6 (hop limit 64, flow label 0) + UDP with a valid checksum.
 * buf must hold 62 + plen bytes; returns the frame length. */
size_t bench_frame_udp6(uint8_t *buf, const struct bench_frame_addrs *a, const uint8_t *payload,
                        size_t plen);
/* A payload pattern: byte i of datagram seq. */
static inline uint8_t bench_payload_byte(unsigned long seq, size_t i)
{
    return (uint8_t)(seq * 131u + i * 7u + 1u);
}

#endif /* WSS_BENCH_UTIL_H */
