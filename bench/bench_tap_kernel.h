/* SPDX-License-Identifier: MIT */
/*
 * bench_tap_kernel.h - the Linux side of bench-tap, behind a plain-C
 * interface (bench_tap.c includes the Windows headers, which must not meet
 * <sys/socket.h>).  Addresses are dotted strings, ports host order.
 *
 * The receiver: a kernel UDP socket as PERF-NOTES measures one - an 8 MB
 * receive buffer (SO_RCVBUFFORCE) drained by a thread of its own with
 * recvmmsg, 64 datagrams per call.
 *
 * The kernel as a sender, over a veth pair into a second private network
 * namespace that belongs to one thread of this process:
 *
 *     this namespace                          the sender thread's namespace
 *     wsbv0 198.51.100.1/24  <== veth pair ==>  wsbv1 198.51.100.2/24
 *     receiver socket                          sender socket
 *
 * (Two namespaces, because inside one the kernel would deliver a datagram
 * to its own address over loopback, never through the veth.)
 */
#ifndef WSS_BENCH_TAP_KERNEL_H
#define WSS_BENCH_TAP_KERNEL_H

#include <stdint.h>

/* ---- the receiver ---------------------------------------------------------------- */
struct btk_rx;
/* Bind a kernel UDP socket to addr:port and start draining it.  Datagrams
 * of exactly `payload` bytes are counted; any other is counted apart.
 * 0, or -1 with a message. */
int btk_rx_start(const char *addr, uint16_t port, unsigned payload, struct btk_rx **out);
unsigned long btk_rx_count(struct btk_rx *r);
unsigned long btk_rx_other(struct btk_rx *r);
/* Wait until the count reaches target, or no datagram has arrived for
 * idle_ms, or max_ms passed.  Returns the count. */
unsigned long btk_rx_settle(struct btk_rx *r, unsigned long target, unsigned idle_ms,
                            unsigned max_ms);
void btk_rx_stop(struct btk_rx *r);

/* ---- the kernel as the sender, over veth ------------------------------------------ */
#define BTK_VETH_LOCAL "198.51.100.1"   /* wsbv0, this namespace */
#define BTK_VETH_PEER "198.51.100.2"    /* wsbv1, the sender's namespace */
struct btk_veth;
/* Start the sender thread in its own namespace and make the veth pair
 * between it and this one.  0, or -1 with a message (needs root). */
int btk_veth_up(struct btk_veth **out);
/* From the sender's namespace, send count datagrams of payload bytes to
 * dst:port: one sendto() per datagram (batch 1) or sendmmsg() with batch
 * datagrams per call.  Bounded by count and max_seconds.  0 and the time
 * the sends took, or -1 with a message (a failed send, or time up). */
int btk_veth_send(struct btk_veth *v, const char *dst, uint16_t port, unsigned payload,
                  unsigned long count, unsigned batch, double max_seconds, uint64_t *elapsed_ns);
/* Stop the thread; its namespace, and with it the veth pair, go away. */
void btk_veth_down(struct btk_veth *v);

#endif /* WSS_BENCH_TAP_KERNEL_H */
