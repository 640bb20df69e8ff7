/* SPDX-License-Identifier: MIT */
/*
 * Test helpers shared by unit and lab tests.  This header deliberately uses
 * only plain C types so that test files which include the Windows headers
 * (wsk.h defines AF_INET6 = 23, SOCKADDR, ...) can use the Linux-socket
 * helpers without including <sys/socket.h>.
 */
#ifndef WSS_TESTUTIL_H
#define WSS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Move the calling process into a new, private network namespace
 * (unshare(CLONE_NEWNET)) and bring its loopback up.  Everything the test
 * creates afterwards (TAPs, addresses, sockets) lives and dies with it.
 * Returns 0, or -errno with a message on stderr.  Lab tests call it first
 * and FAIL (not skip) when it fails: CI runs them as root. */
int tu_enter_netns(void);

/* Monotonic time in ns / ms. */
uint64_t tu_now_ns(void);

/* ---- the Linux kernel as the lab's peer (lab tests) ---------------------------
 * Kernel UDP sockets bound to addr:port, receive with a timeout (length,
 * source "a.b.c.d" and port), sendto, an ICMP echo "ping" from the kernel
 * (raw socket; RTT in ns or -ETIMEDOUT), the kernel's neighbour entry for
 * an IPv4 address (state + MAC, through libnl-route), the namespace's
 * /proc/net/snmp counters, AF_PACKET captures (ARP frames parsed), and
 * lk_wait_until() - a bounded wait for a condition.
 * Plain C (strings and uint16_t ports), so WSK test sources may use them.
 * They are implemented ONCE, in tools/lab_kernel.c, which wsk-lab uses too;
 * tests/CMakeLists.txt links that file into wss_testutil. */
#include "tools/lab_kernel.h"

/* ---- device removal and CPU use (lab tests; appended for issue 3) ---------------
 * Delete a kernel link by name, as `ip link del NAME` does (libnl-route
 * RTM_DELLINK).  0, or -errno (-ENODEV: no such link). */
int tu_link_del(const char *ifname);
/* CPU time this process has used so far (every thread, user + system), in
 * ns (getrusage(RUSAGE_SELF)). */
uint64_t tu_proc_cpu_ns(void);

#endif
