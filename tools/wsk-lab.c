/* SPDX-License-Identifier: MIT */
/*
 * wsk-lab - the wskstack lab demo: a WSK client talking to the Linux kernel
 * through a userspace stack on a TAP, in a private network namespace.
 *
 *        Linux kernel                                wskstack (this process)
 *   192.0.2.1/24  [wsklab0]  <== TAP: Ethernet frames ==>  192.0.2.2/24
 *   2001:db8::1/64                                          2001:db8::2/64
 *   sockets, ping, ARP                         WskSocket, WskSendTo, ...
 *
 * The program is a plain Windows WSK client: it sets WSKSTACK_CONFIG and
 * calls WskRegister and WskCaptureProviderNPI(WSK_INFINITE_WAIT), which
 * create the process-default stack (and its TAP) from that text - exactly
 * what any WSK client gets.  Then WskSocket, WskBind, WskSendTo,
 * WskReceiveFrom, with IRPs from IoAllocateIrp whose completion routine
 * sets a KEVENT and returns STATUS_MORE_PROCESSING_REQUIRED (see wskc.h).
 * The one wskstack extension it uses is WsksGetStack(), to read the default
 * stack's counters, MAC and interface name.  The kernel's side is in
 * lab_kernel.c (Linux sockets; the two header worlds never meet in one file).
 *
 * Steps (each prints ✓ or ✗ and one line of detail):
 *   1. ARP resolution both ways
 *   2. the kernel pings the stack (3 echo requests)
 *   3. WskSendTo -> a kernel UDP socket (content compared)
 *   4. a kernel UDP socket -> WskReceiveFrom (content and source compared)
 *   5. a send to a closed kernel port -> ICMP port unreachable (counter)
 *   6. a send to an absent host -> STATUS_HOST_UNREACHABLE after 3 ARPs
 *   7. NDP both ways (IPv6: 2001:db8::1 kernel, 2001:db8::2 stack)
 *   8. the kernel pings the stack over IPv6 (3 echo requests)
 *   9. SLAAC: a real radvd on the kernel side advertises 2001:db8:1::/64,
 *      the stack forms 2001:db8:1::<EUI-64>, the kernel pings it
 *  10. UDP over IPv6 both ways: an AF_INET6 WSK socket on [2001:db8::2]
 *      and a kernel socket on [2001:db8::1] (WskSendTo / WskReceiveFrom,
 *      contents, SOCKADDR_IN6 source and counters compared)
 * Options: --trace[=LAYERS] (trace= in WSKSTACK_CONFIG, to stderr), --pcap
 * FILE, --keep (stay up after the steps until SIGINT/SIGTERM), --json (a
 * JSON summary on stdout; the human lines then go to stderr), --counters.
 * Exit status: 0 if every step passed, 1 if one failed, 2 for a setup
 * error, 130 when interrupted (SIGINT/SIGTERM end it cleanly: sockets
 * closed, registration and stack torn down; the namespace - and the TAP in
 * it - disappears with the process in every case).
 *
 * Network safety: everything happens inside a network namespace private to
 * this process, on 192.0.2.0/24 (TEST-NET-1) and 2001:db8::/32 (the IPv6
 * documentation prefix), with a fixed, small number of frames; radvd runs
 * in that namespace, on the lab's TAP only, and is stopped by step 9.
 */
#include <ntddk.h>
#include <wsk.h>

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_kernel.h"
#include "wskc.h"
#include "wskstack.h"
#include "wskstack_wsk.h"

#define LAB_CONFIG                                                                       \
    "tap=wsklab0;addr=192.0.2.2/24;host-addr=192.0.2.1/24;addr=2001:db8::2/64;"        \
    "host-addr=2001:db8::1/64"
#define LAB_TAP "wsklab0"
#define LAB_KERNEL "192.0.2.1"
#define LAB_STACK "192.0.2.2"
#define LAB_ABSENT "192.0.2.99"
#define LAB_KPORT 7001      /* kernel UDP socket of steps 3 and 4 */
#define LAB_CLOSED_PORT 9   /* nothing listens there on the kernel side */
#define LAB_DATAGRAMS 3     /* per direction */
#define LAB_PINGS 3
#define LAB_KERNEL6 "2001:db8::1"
#define LAB_STACK6 "2001:db8::2"
#define LAB_RA_PREFIX "2001:db8:1::"          /* radvd's prefix (step 9), /64 */
#define LAB_RA_KERNEL "2001:db8:1::1/64"      /* the kernel's address on it */
#define LAB_KPORT6 7006     /* kernel UDP socket of step 10 */
#define LAB_SPORT6 7002     /* the AF_INET6 WSK socket of step 10 */
#define LAB_NSTEPS 10
#define LAB_DETAIL 512

/* Human output: stdout, or stderr with --json (stdout is then the JSON). */
static FILE *hout;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    if (g_stop) /* second signal: leave now; the namespace goes with us */
        _exit(128 + sig);
    g_stop = sig;
}

struct lab {
    struct wskstack *st;       /* the process-default stack (WsksGetStack) */
    char ifname[16];           /* its TAP, as the stack reports it */
    WSK_REGISTRATION reg;
    bool registered, captured;
    WSK_CLIENT_DISPATCH client_dispatch;
    WSK_CLIENT_NPI client_npi;
    WSK_PROVIDER_NPI npi;
    PWSK_SOCKET sock;
    uint16_t port;             /* the stack socket's port */
    int kfd;                   /* kernel UDP socket on 192.0.2.1:7001 */
    int arpcap;                /* ARP capture on every link (opened first) */
    uint8_t smac[6], kmac[6];  /* the stack's MAC, the kernel side's MAC */
    int passed, failed;
    bool verbose_counters;
    bool json, keep;
    const char *trace;         /* --trace[=LAYERS]: NULL = off */
    const char *pcap;          /* --pcap FILE */
    char config[512];          /* what WSKSTACK_CONFIG is set to */
    struct {                   /* each step's result, for --json */
        int n;
        const char *title;
        bool ok;
        char detail[LAB_DETAIL];
    } res[LAB_NSTEPS];
    int nres;
};

/* ---- output ---------------------------------------------------------------- */
static void step_result(struct lab *lab, int n, const char *title, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void step_result(struct lab *lab, int n, const char *title, bool ok, const char *fmt, ...)
{
    va_list ap;
    char detail[LAB_DETAIL];
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    fprintf(hout, "  %s %d. %s\n       %s\n", ok ? "\u2713" : "\u2717", n, title, detail);
    fflush(hout);
    if (lab->nres < LAB_NSTEPS) {
        lab->res[lab->nres].n = n;
        lab->res[lab->nres].title = title;
        lab->res[lab->nres].ok = ok;
        memcpy(lab->res[lab->nres].detail, detail, sizeof detail);
        lab->nres++;
    }
    if (ok)
        lab->passed++;
    else
        lab->failed++;
}

static int64_t cnt(struct lab *lab, const char *name)
{
    return wskstack_counter(lab->st, name);
}

static void usage(FILE *f)
{
    fputs("usage: wsk-lab [--trace[=LAYERS]] [--pcap FILE] [--keep] [--json] [--counters]\n"
          "       wsk-lab -h | --help\n"
          "\n"
          "Run the wskstack lab demo (as root).  wsk-lab makes a private network\n"
          "namespace (it disappears with the process), sets\n"
          "WSKSTACK_CONFIG=\"" LAB_CONFIG "\"\n"
          "and acts as a plain Windows WSK client: WskRegister and\n"
          "WskCaptureProviderNPI create the process-default stack and its TAP " LAB_TAP "\n"
          "from that text.  The Linux kernel is the peer:\n"
          "\n"
          "     Linux kernel " LAB_KERNEL " <-- " LAB_TAP " (TAP) --> wskstack " LAB_STACK "\n"
          "                  " LAB_KERNEL6 "                  " LAB_STACK6 "\n"
          "\n"
          "  1. ARP resolution both ways\n"
          "  2. the kernel pings the stack (3 echo requests, RTTs shown)\n"
          "  3. WskSendTo -> a kernel UDP socket (contents compared)\n"
          "  4. a kernel UDP socket -> WskReceiveFrom (contents and source compared)\n"
          "  5. a send to a closed kernel port -> ICMP port unreachable\n"
          "     (the stack's IcmpInDestUnreachs counter goes up by one)\n"
          "  6. a send to the absent host " LAB_ABSENT " -> STATUS_HOST_UNREACHABLE\n"
          "     (after 3 ARP requests 1 s apart)\n"
          "  7. NDP both ways: the kernel's neighbour entry for " LAB_STACK6 " is\n"
          "     REACHABLE with the stack's MAC, and the stack resolved " LAB_KERNEL6 "\n"
          "  8. the kernel pings the stack over IPv6 (3 echo requests, RTTs shown)\n"
          "  9. SLAAC: radvd, started on the kernel side of " LAB_TAP " in the namespace,\n"
          "     advertises " LAB_RA_PREFIX "/64; the stack forms " LAB_RA_PREFIX "<EUI-64>\n"
          "     and the kernel pings it (radvd missing: run tools/bootstrap.sh)\n"
          " 10. UDP over IPv6 both ways: WskSocket(AF_INET6) bound to [" LAB_STACK6 "]\n"
          "     WskSendTo -> a kernel socket on [" LAB_KERNEL6 "] and back through\n"
          "     WskReceiveFrom (contents, SOCKADDR_IN6 source and Udp6 counters compared)\n"
          "\n"
          "  --trace[=LAYERS]  add trace=LAYERS (default all; or a list of link,arp,nd,\n"
          "                    ipv4,ipv6,frag,icmp,icmpv6,udp,wsk,irp) to WSKSTACK_CONFIG:\n"
          "                    the stack explains each decision on stderr\n"
          "  --pcap FILE       add pcap=FILE: every frame sent and received, in pcap\n"
          "                    (- = stdout, not with --json)\n"
          "  --keep            after the steps, stay up until SIGINT/SIGTERM and print\n"
          "                    how to enter the namespace (nsenter --net=/proc/PID/ns/net)\n"
          "  --json            a JSON summary on stdout: {\"steps\":[{\"n\":1,\"name\":..,\n"
          "                    \"ok\":..,\"detail\":..},..],\"ok\":..,\"counters\":{..}};\n"
          "                    the human lines then go to stderr\n"
          "  --counters        print the stack's counters (nstat -j style JSON) at the end\n"
          "  -h, --help        this text\n"
          "\n"
          "Exit status:\n"
          "  0    every step passed\n"
          "  1    a step failed (or the WSK completion contract was broken)\n"
          "  2    setup failed (bad option, not root, no TAP, WSK setup)\n"
          "  130  interrupted by SIGINT/SIGTERM during the steps (it ends cleanly);\n"
          "       with --keep, SIGINT/SIGTERM after the steps is the normal end and\n"
          "       the status is that of the steps\n"
          "A second SIGINT/SIGTERM exits at once with 128 + the signal number.\n",
          f);
}

/* A counter is bumped once the frame is written, so it may lag behind what
 * the kernel already saw: wait (bounded) until it reaches `target`, then
 * return its increase over `base` - the caller compares that EXACTLY. */
struct cnt_wait {
    struct lab *lab;
    const char *name;
    int64_t target;
};

static bool counter_reached(void *ctx)
{
    struct cnt_wait *w = ctx;
    return cnt(w->lab, w->name) >= w->target;
}

static int64_t cnt_settle(struct lab *lab, const char *name, int64_t base, int64_t expected)
{
    struct cnt_wait w = {lab, name, base + expected};
    (void)lk_wait_until(counter_reached, &w, 1000, 2);
    return cnt(lab, name) - base;
}

/* ---- setup / teardown ------------------------------------------------------------ */
static int lab_setup(struct lab *lab)
{
    /* A private namespace: the TAP, its addresses and every frame stay in
     * it, and it is removed when the process ends, however it ends. */
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "wsk-lab: unshare(CLONE_NEWNET): %s (run wsk-lab as root)\n",
                strerror(errno));
        return -1;
    }
    if (setenv("WSKSTACK_CONFIG", lab->config, 1) != 0)
        return -1;

    /* Capture ARP on every link before the stack exists (it is created by
     * the capture below), so its first frames (the gratuitous ARP) are seen
     * too. */
    lab->arpcap = lk_capture_open(NULL, 0x0806);
    if (lab->arpcap < 0) {
        fprintf(stderr, "wsk-lab: packet capture: %s\n", strerror(-lab->arpcap));
        return -1;
    }

    /* WSK registration (WSK-SPEC 2.1): version 1.0, no client events.  A
     * plain WskRegister: the registration is bound to the process-default
     * stack, which the first capture creates from WSKSTACK_CONFIG. */
    lab->client_dispatch.Version = MAKE_WSK_VERSION(1, 0);
    lab->client_dispatch.Reserved = 0;
    lab->client_dispatch.WskClientEvent = NULL;
    lab->client_npi.ClientContext = lab;
    lab->client_npi.Dispatch = &lab->client_dispatch;
    NTSTATUS s = WskRegister(&lab->client_npi, &lab->reg);
    if (!NT_SUCCESS(s)) {
        fprintf(stderr, "wsk-lab: WskRegister: %s (0x%08x)\n", wskc_status_name(s),
                (unsigned)s);
        return -1;
    }
    lab->registered = true;
    s = WskCaptureProviderNPI(&lab->reg, WSK_INFINITE_WAIT, &lab->npi);
    if (!NT_SUCCESS(s)) {
        /* The provider has said why on stderr (the key, or the TAP error). */
        fprintf(stderr, "wsk-lab: WskCaptureProviderNPI: %s (0x%08x)\n", wskc_status_name(s),
                (unsigned)s);
        return -1;
    }
    lab->captured = true;

    /* The default stack, for its counters, MAC and interface name. */
    lab->st = WsksGetStack(&lab->reg);
    if (lab->st == NULL) {
        fprintf(stderr, "wsk-lab: WsksGetStack: no stack after a successful capture\n");
        return -1;
    }
    snprintf(lab->ifname, sizeof lab->ifname, "%s", wskstack_ifname(lab->st));
    wskstack_mac(lab->st, lab->smac);
    if (lk_if_mac(lab->ifname, lab->kmac) != 0) {
        fprintf(stderr, "wsk-lab: no MAC on %s\n", lab->ifname);
        return -1;
    }

    s = wskc_socket(&lab->npi, &lab->sock);
    if (!NT_SUCCESS(s)) {
        fprintf(stderr, "wsk-lab: WskSocket: %s (0x%08x)\n", wskc_status_name(s), (unsigned)s);
        return -1;
    }
    s = wskc_bind(lab->sock, NULL, 0);
    lab->port = NT_SUCCESS(s) ? wskc_local_port(lab->sock) : 0;
    if (!NT_SUCCESS(s) || lab->port == 0) {
        fprintf(stderr, "wsk-lab: WskBind(0.0.0.0:0): %s (0x%08x)\n", wskc_status_name(s),
                (unsigned)s);
        return -1;
    }

    lab->kfd = lk_udp_open(LAB_KERNEL, LAB_KPORT);
    if (lab->kfd < 0) {
        fprintf(stderr, "wsk-lab: kernel UDP socket %s:%u: %s\n", LAB_KERNEL, LAB_KPORT,
                strerror(-lab->kfd));
        return -1;
    }
    return 0;
}

static void lab_teardown(struct lab *lab)
{
    if (lab->sock) {
        NTSTATUS s = wskc_close(lab->sock);
        if (!NT_SUCCESS(s))
            fprintf(stderr, "wsk-lab: WskCloseSocket: %s\n", wskc_status_name(s));
        lab->sock = NULL;
    }
    /* The default stack lives until the last WskRegister registration is
     * deregistered: read its counters before that. */
    if (lab->verbose_counters && lab->st) {
        fprintf(hout, "\nwskstack counters:\n");
        wskstack_counters_json(lab->st, hout);
        fprintf(hout, "\n");
    }
    if (lab->captured)
        WskReleaseProviderNPI(&lab->reg);
    if (lab->registered)
        WskDeregister(&lab->reg); /* destroys the default stack and its TAP */
    lab->st = NULL;
    lk_close(lab->kfd);
    lk_close(lab->arpcap);
}

/* ---- step 1: ARP both ways ---------------------------------------------------------- */
struct neigh_wait {
    const char *ifname;
    struct lk_neigh n;
};

static bool kernel_neigh_reachable(void *ctx)
{
    struct neigh_wait *w = ctx;
    return lk_neigh_get(w->ifname, LAB_STACK, &w->n) == 0 && strcmp(w->n.state, "REACHABLE") == 0;
}

static void step_arp(struct lab *lab)
{
    char m1[18], m2[18];
    int64_t in_req0 = cnt(lab, "ArpInRequests"), out_rep0 = cnt(lab, "ArpOutReplies");
    int ipcap = lk_capture_open(lab->ifname, 0x0800);

    /* The kernel has never talked to 192.0.2.2: its first echo request
     * makes it resolve the stack (broadcast request, the stack replies),
     * and the stack learns the kernel's MAC from that request (RFC 826). */
    int64_t rtt = lk_ping(LAB_STACK, 0x1ab, 0, 56, 2000);
    struct neigh_wait w;
    memset(&w, 0, sizeof w);
    w.ifname = lab->ifname;
    bool kernel_ok = rtt > 0 &&
                     lk_wait_until(kernel_neigh_reachable, &w, 1000, 10) == 0 &&
                     w.n.has_mac && memcmp(w.n.mac, lab->smac, 6) == 0;

    /* What went over the wire: the gratuitous ARP at start, the kernel's
     * request, the stack's reply. */
    bool garp = false, kreq = false, sreply = false;
    struct lk_arp a;
    while (lk_capture_arp(lab->arpcap, 200, &a) == 0) {
        if (a.dir == LK_DIR_IN && strcmp(a.spa, LAB_STACK) == 0 && strcmp(a.tpa, LAB_STACK) == 0 &&
            memcmp(a.sha, lab->smac, 6) == 0)
            garp = true;
        else if (a.dir == LK_DIR_OUT && a.op == 1 && strcmp(a.tpa, LAB_STACK) == 0)
            kreq = true;
        else if (a.dir == LK_DIR_IN && a.op == 2 && strcmp(a.spa, LAB_STACK) == 0 &&
                 memcmp(a.sha, lab->smac, 6) == 0 && memcmp(a.tha, lab->kmac, 6) == 0)
            sreply = true;
    }
    /* The stack's side: its first IPv4 frame to the kernel (the echo
     * reply) must carry the kernel's MAC as destination. */
    bool stack_ok = false;
    uint8_t f[2048];
    int dir;
    long n;
    while (ipcap >= 0 && (n = lk_capture_next(ipcap, f, sizeof f, 200, &dir, NULL)) > 0) {
        if (dir == LK_DIR_IN && n >= 34 && memcmp(f + 6, lab->smac, 6) == 0) {
            stack_ok = memcmp(f, lab->kmac, 6) == 0;
            break;
        }
    }
    lk_close(ipcap);
    int64_t in_req = cnt(lab, "ArpInRequests") - in_req0;
    int64_t out_rep = cnt_settle(lab, "ArpOutReplies", out_rep0, in_req);
    bool ok = kernel_ok && stack_ok && kreq && sreply && in_req >= 1 && out_rep == in_req;
    step_result(lab, 1, "ARP resolution both ways", ok,
                "kernel: %s %s lladdr %s%s; stack: %s at %s (ArpInRequests +%lld, "
                "ArpOutReplies +%lld)%s",
                LAB_STACK, w.n.state[0] ? w.n.state : "(no entry)",
                w.n.has_mac ? lk_mac_str(w.n.mac, m1) : "-",
                kernel_ok ? " = the stack's MAC" : " (expected the stack's MAC, REACHABLE)",
                LAB_KERNEL, lk_mac_str(lab->kmac, m2), (long long)in_req, (long long)out_rep,
                garp ? "; gratuitous ARP seen at start" : "; no gratuitous ARP seen");
}

/* ---- step 2: ping ------------------------------------------------------------------------ */
static void step_ping(struct lab *lab)
{
    int64_t echos0 = cnt(lab, "IcmpInEchos"), reps0 = cnt(lab, "IcmpOutEchoReps");
    char detail[256];
    size_t off = 0;
    int replies = 0;
    off += (size_t)snprintf(detail + off, sizeof detail - off, "RTT");
    for (int i = 1; i <= LAB_PINGS && !g_stop; i++) {
        int64_t rtt = lk_ping(LAB_STACK, 0x1ab, (uint16_t)i, 56, 1000);
        if (rtt > 0) {
            replies++;
            off += (size_t)snprintf(detail + off, sizeof detail - off, " %.3f ms", rtt / 1e6);
        } else {
            off += (size_t)snprintf(detail + off, sizeof detail - off, " %s",
                                    rtt == -ETIMEDOUT ? "timeout" : strerror((int)-rtt));
        }
        if (i < LAB_PINGS)
            lk_sleep_ms(200);
    }
    int64_t echos = cnt_settle(lab, "IcmpInEchos", echos0, LAB_PINGS);
    int64_t reps = cnt_settle(lab, "IcmpOutEchoReps", reps0, LAB_PINGS);
    step_result(lab, 2, "the kernel pings the stack", replies == LAB_PINGS && echos == LAB_PINGS &&
                reps == LAB_PINGS,
                "%d/%d replies, %s; IcmpInEchos +%lld, IcmpOutEchoReps +%lld", replies, LAB_PINGS,
                detail, (long long)echos, (long long)reps);
}

/* ---- step 3: WskSendTo -> kernel ------------------------------------------------------------- */
static void step_send(struct lab *lab)
{
    int64_t out0 = cnt(lab, "UdpOutDatagrams");
    int good = 0;
    char why[128] = "";
    for (int i = 1; i <= LAB_DATAGRAMS && !g_stop; i++) {
        char msg[64], buf[128], src[LK_ADDRSTRLEN] = "";
        uint16_t sport = 0;
        int len = snprintf(msg, sizeof msg, "wsk-lab datagram %d/%d: WskSendTo -> kernel", i,
                           LAB_DATAGRAMS);
        struct wskc_op op;
        NTSTATUS s = wskc_sendto(lab->sock, msg, (ULONG)len, LAB_KERNEL, LAB_KPORT, 3000, &op);
        if (!NT_SUCCESS(s) || op.info != (ULONG_PTR)len) {
            snprintf(why, sizeof why, "; datagram %d: %s, %lu bytes sent", i,
                     wskc_status_name(s), (unsigned long)op.info);
            continue;
        }
        long n = lk_udp_recv(lab->kfd, buf, sizeof buf, 2000, src, &sport);
        if (n != len || memcmp(buf, msg, (size_t)len) != 0 || strcmp(src, LAB_STACK) != 0 ||
            sport != lab->port) {
            snprintf(why, sizeof why, "; datagram %d: kernel got %ld bytes from %s:%u", i, n, src,
                     sport);
            continue;
        }
        good++;
    }
    int64_t out = cnt_settle(lab, "UdpOutDatagrams", out0, LAB_DATAGRAMS);
    step_result(lab, 3, "WskSendTo -> kernel UDP socket",
                good == LAB_DATAGRAMS && out == LAB_DATAGRAMS,
                "%d/%d datagrams arrived at %s:%u intact from %s:%u; UdpOutDatagrams +%lld%s", good,
                LAB_DATAGRAMS, LAB_KERNEL, LAB_KPORT, LAB_STACK, lab->port, (long long)out, why);
}

/* ---- step 4: kernel -> WskReceiveFrom ---------------------------------------------------------- */
static void step_receive(struct lab *lab)
{
    int64_t in0 = cnt(lab, "UdpInDatagrams");
    int good = 0;
    char why[128] = "";
    for (int i = 1; i <= LAB_DATAGRAMS && !g_stop; i++) {
        char msg[64], buf[128], src[16] = "";
        uint16_t sport = 0;
        ULONG got = 0;
        int len = snprintf(msg, sizeof msg, "wsk-lab datagram %d/%d: kernel -> WskReceiveFrom",
                           i, LAB_DATAGRAMS);
        if (lk_udp_sendto(lab->kfd, msg, (size_t)len, LAB_STACK, lab->port) != len) {
            snprintf(why, sizeof why, "; datagram %d: the kernel could not send it", i);
            continue;
        }
        NTSTATUS s = wskc_recvfrom(lab->sock, buf, sizeof buf, 2000, &got, src, &sport);
        if (!NT_SUCCESS(s) || got != (ULONG)len || memcmp(buf, msg, (size_t)len) != 0 ||
            strcmp(src, LAB_KERNEL) != 0 || sport != LAB_KPORT) {
            snprintf(why, sizeof why, "; datagram %d: %s, %lu bytes from %s:%u", i,
                     wskc_status_name(s), (unsigned long)got, src, sport);
            continue;
        }
        good++;
    }
    int64_t in = cnt_settle(lab, "UdpInDatagrams", in0, LAB_DATAGRAMS);
    step_result(lab, 4, "kernel UDP socket -> WskReceiveFrom",
                good == LAB_DATAGRAMS && in == LAB_DATAGRAMS,
                "%d/%d datagrams received intact, source %s:%u; UdpInDatagrams +%lld%s", good,
                LAB_DATAGRAMS, LAB_KERNEL, LAB_KPORT, (long long)in, why);
}

/* ---- step 5: closed port -> ICMP port unreachable ------------------------------------------------ */
static void step_unreach_port(struct lab *lab)
{
    int64_t du0 = cnt(lab, "IcmpInDestUnreachs");
    int64_t kdu0 = lk_snmp("Icmp", "OutDestUnreachs");
    static const char msg[] = "wsk-lab: is anybody on port 9?";
    struct wskc_op op;
    NTSTATUS s = wskc_sendto(lab->sock, msg, sizeof msg - 1, LAB_KERNEL, LAB_CLOSED_PORT, 3000,
                             &op);
    int64_t du = cnt_settle(lab, "IcmpInDestUnreachs", du0, 1);
    lk_sleep_ms(100); /* exactly one: nothing more may follow */
    du = cnt(lab, "IcmpInDestUnreachs") - du0;
    int64_t kdu = lk_snmp("Icmp", "OutDestUnreachs") - kdu0;
    char b1[WSKC_STATUS_STRLEN], b2[WSKC_STATUS_STRLEN];
    /* The datagram itself was sent: the IRP completes with STATUS_SUCCESS;
     * the ICMP error that comes back is for the stack, not for the IRP. */
    step_result(lab, 5, "send to a closed kernel port -> ICMP port unreachable",
                NT_SUCCESS(s) && du == 1 && kdu == 1,
                "WskSendTo to %s:%u returned %s, completed with %s; the kernel sent %lld "
                "Destination Unreachable, the stack's IcmpInDestUnreachs +%lld",
                LAB_KERNEL, LAB_CLOSED_PORT, wskc_status_str(op.returned, b1),
                wskc_status_str(s, b2), (long long)kdu, (long long)du);
}

/* ---- step 6: absent host -> STATUS_HOST_UNREACHABLE ------------------------------------------------ */
static void step_unreach_host(struct lab *lab)
{
    int64_t req0 = cnt(lab, "ArpOutRequests");
    struct lk_arp a;
    while (lk_capture_arp(lab->arpcap, 0, &a) == 0) /* forget older frames */
        ;
    static const char msg[] = "wsk-lab: hello, " LAB_ABSENT "?";
    struct wskc_op op;
    NTSTATUS s = wskc_sendto(lab->sock, msg, sizeof msg - 1, LAB_ABSENT, 9, 6000, &op);
    int arps = 0;
    while (lk_capture_arp(lab->arpcap, 100, &a) == 0)
        if (a.dir == LK_DIR_IN && a.op == 1 && strcmp(a.tpa, LAB_ABSENT) == 0)
            arps++;
    int64_t req = cnt(lab, "ArpOutRequests") - req0;
    char b1[WSKC_STATUS_STRLEN], b2[WSKC_STATUS_STRLEN];
    step_result(lab, 6, "send to an absent host -> STATUS_HOST_UNREACHABLE",
                op.returned == STATUS_PENDING && s == STATUS_HOST_UNREACHABLE && arps == 3 &&
                    req == 3,
                "WskSendTo to %s returned %s, completed after %.1f s with %s; %d ARP requests "
                "seen, ArpOutRequests +%lld",
                LAB_ABSENT, wskc_status_str(op.returned, b1), op.elapsed_ms / 1000.0,
                wskc_status_str(s, b2), arps, (long long)req);
}

/* ---- IPv6 helpers --------------------------------------------------------------------------- */
/* The line of a stack listing (wskstack_list_neigh / _addrs, text) that
 * contains `needle` and none of the words in `bad` (NULL-terminated; may be
 * NULL), copied to line.  true if there is one. */
static bool listing_line(struct lab *lab, int (*list)(struct wskstack *, FILE *, int),
                         const char *needle, const char *const *bad, char *line, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    bool found = false;
    if (f == NULL)
        return false;
    int rc = list(lab->st, f, 0);
    fclose(f);
    for (char *save = NULL, *l = rc == 0 && text ? strtok_r(text, "\n", &save) : NULL;
         l != NULL && !found; l = strtok_r(NULL, "\n", &save)) {
        if (strstr(l, needle) == NULL)
            continue;
        found = true;
        for (const char *const *b = bad; b && *b; b++)
            if (strstr(l, *b) != NULL)
                found = false;
        if (found && line) {
            while (*l == ' ')
                l++;
            snprintf(line, cap, "%s", l);
        }
    }
    free(text);
    return found;
}

/* ---- step 7: NDP both ways ------------------------------------------------------------------- */
static bool kernel_neigh6_reachable(void *ctx)
{
    struct neigh_wait *w = ctx;
    return lk_neigh6_get(w->ifname, LAB_STACK6, &w->n) == 0 &&
           strcmp(w->n.state, "REACHABLE") == 0;
}

struct stack_neigh6_wait {
    struct lab *lab;
    char line[160];
};

static bool stack_knows_kernel6(void *ctx)
{
    struct stack_neigh6_wait *w = ctx;
    return listing_line(w->lab, wskstack_list_neigh, LAB_KERNEL6 " ", NULL, w->line,
                        sizeof w->line);
}

static void step_ndp(struct lab *lab)
{
    char m1[18];
    /* 2001:db8::2 is usable once its DAD (1 s, from the start) is over:
     * steps 1-6 took longer than that, this wait is a formality. */
    int ready = wskstack_wait_ready(lab->st, 3000);
    /* The kernel has never talked to 2001:db8::2: its echo request makes
     * it send a Neighbor Solicitation, the stack answers with an NA and
     * learns the kernel's MAC from the NS (RFC 4861 7.2.3). */
    int64_t rtt = lk_ping6(LAB_STACK6, 0x6ab, 0, 56, 2000);
    struct neigh_wait w;
    memset(&w, 0, sizeof w);
    w.ifname = lab->ifname;
    bool kernel_ok = rtt > 0 && lk_wait_until(kernel_neigh6_reachable, &w, 1000, 10) == 0 &&
                     w.n.has_mac && memcmp(w.n.mac, lab->smac, 6) == 0;
    struct stack_neigh6_wait sw;
    memset(&sw, 0, sizeof sw);
    sw.lab = lab;
    bool listed = lk_wait_until(stack_knows_kernel6, &sw, 1000, 10) == 0;
    int64_t na = cnt(lab, "Icmp6InNeighborAdvertisements");
    int64_t ns_in = cnt(lab, "Icmp6InNeighborSolicits");
    bool stack_ok = listed || na > 0;
    step_result(lab, 7, "NDP both ways (IPv6)", ready == 0 && kernel_ok && stack_ok,
                "kernel: %s %s lladdr %s%s; stack: %s (Icmp6InNeighborSolicits %lld, "
                "Icmp6InNeighborAdvertisements %lld)%s",
                LAB_STACK6, w.n.state[0] ? w.n.state : "(no entry)",
                w.n.has_mac ? lk_mac_str(w.n.mac, m1) : "-",
                kernel_ok ? " = the stack's MAC" : " (expected the stack's MAC, REACHABLE)",
                listed ? sw.line : "no neighbour entry for " LAB_KERNEL6, (long long)ns_in,
                (long long)na, ready == 0 ? "" : "; the stack's addresses never left DAD");
}

/* ---- step 8: ping over IPv6 ------------------------------------------------------------------------ */
static int ping6_series(const char *addr, uint16_t id, char *detail, size_t cap)
{
    size_t off = 0;
    int replies = 0;
    off += (size_t)snprintf(detail + off, cap - off, "RTT");
    for (int i = 1; i <= LAB_PINGS && !g_stop && off < cap; i++) {
        int64_t rtt = lk_ping6(addr, id, (uint16_t)i, 56, 1000);
        if (rtt > 0) {
            replies++;
            off += (size_t)snprintf(detail + off, cap - off, " %.3f ms", rtt / 1e6);
        } else {
            off += (size_t)snprintf(detail + off, cap - off, " %s",
                                    rtt == -ETIMEDOUT ? "timeout" : strerror((int)-rtt));
        }
        if (i < LAB_PINGS)
            lk_sleep_ms(200);
    }
    return replies;
}

/* Wait (at most 3 s) until a counter has not moved for 300 ms, so that a
 * late answer to an earlier step (a kernel request that waited in the
 * kernel's neighbour queue) is not counted in the next step's window. */
static void cnt_quiet(struct lab *lab, const char *name)
{
    int64_t last = cnt(lab, name);
    unsigned still = 0;
    for (unsigned waited = 0; waited < 3000 && still < 300; waited += 50) {
        lk_sleep_ms(50);
        int64_t now = cnt(lab, name);
        still = now == last ? still + 50 : 0;
        last = now;
    }
}

static void step_ping6(struct lab *lab)
{
    cnt_quiet(lab, "Icmp6InEchos");
    int64_t echos0 = cnt(lab, "Icmp6InEchos"), reps0 = cnt(lab, "Icmp6OutEchoReplies");
    char detail[256];
    int replies = ping6_series(LAB_STACK6, 0x6ab, detail, sizeof detail);
    int64_t echos = cnt_settle(lab, "Icmp6InEchos", echos0, LAB_PINGS);
    int64_t reps = cnt_settle(lab, "Icmp6OutEchoReplies", reps0, LAB_PINGS);
    step_result(lab, 8, "the kernel pings the stack over IPv6",
                replies == LAB_PINGS && echos == LAB_PINGS && reps == LAB_PINGS,
                "%s: %d/%d replies, %s; Icmp6InEchos +%lld, Icmp6OutEchoReplies +%lld",
                LAB_STACK6, replies, LAB_PINGS, detail, (long long)echos, (long long)reps);
}

/* ---- step 9: SLAAC from radvd ------------------------------------------------------------------------ */
/* radvd's interface block: short intervals, the one prefix. */
static const char LAB_RADVD_IFACE[] =
    "    AdvSendAdvert on;\n"
    "    MinRtrAdvInterval 3;\n"
    "    MaxRtrAdvInterval 4;\n"
    "    AdvDefaultLifetime 60;\n"
    "    prefix " LAB_RA_PREFIX "/64 {\n"
    "        AdvOnLink on;\n"
    "        AdvAutonomous on;\n"
    "        AdvValidLifetime 600;\n"
    "        AdvPreferredLifetime 300;\n"
    "    };";

struct ll_wait {
    const char *ifname;
    char ll[LK_ADDR6STRLEN];
};

static bool kernel_ll_ready(void *ctx)
{
    struct ll_wait *w = ctx;
    bool tentative = true;
    return lk_linklocal6(w->ifname, w->ll, &tentative) == 0 && !tentative;
}

struct slaac_wait {
    struct lab *lab;
    char needle[LK_ADDR6STRLEN + 16];
    char line[160];
};

static bool slaac_formed(void *ctx)
{
    static const char *const bad[] = {"tentative", "dadfailed", NULL};
    struct slaac_wait *w = ctx;
    return listing_line(w->lab, wskstack_list_addrs, w->needle, bad, w->line, sizeof w->line);
}

static void step_slaac(struct lab *lab)
{
    static const char title[] = "SLAAC from radvd (" LAB_RA_PREFIX "/64)";
    /* The address the stack must form: the prefix and the modified EUI-64
     * of its MAC (RFC 4291 appendix A). */
    uint8_t a[16];
    char as[LK_ADDR6STRLEN], err[512] = "";
    if (lk_addr6_parse(LAB_RA_PREFIX, a, NULL) != 0) {
        step_result(lab, 9, title, false, "bad prefix %s", LAB_RA_PREFIX);
        return;
    }
    a[8] = lab->smac[0] ^ 0x02;
    a[9] = lab->smac[1];
    a[10] = lab->smac[2];
    a[11] = 0xff;
    a[12] = 0xfe;
    a[13] = lab->smac[3];
    a[14] = lab->smac[4];
    a[15] = lab->smac[5];
    lk_addr6_str(a, as);

    /* radvd advertises a router lifetime of 0 on an interface that does
     * not forward: forwarding on, in this namespace only.  The kernel gets
     * an address on the prefix, to reach the new address on-link, and
     * radvd needs its link-local address (the RAs' source). */
    int rc = lk_sysctl("net/ipv6/conf/all/forwarding", "1");
    if (rc == 0)
        rc = lk_addr6_add(lab->ifname, LAB_RA_KERNEL, true);
    struct ll_wait lw;
    memset(&lw, 0, sizeof lw);
    lw.ifname = lab->ifname;
    if (rc == 0 && lk_wait_until(kernel_ll_ready, &lw, 3000, 20) != 0)
        rc = -ETIMEDOUT;
    if (rc != 0) {
        step_result(lab, 9, title, false,
                    "preparing the kernel side (forwarding, %s, link-local): %s", LAB_RA_KERNEL,
                    strerror(-rc));
        return;
    }
    int64_t ra0 = cnt(lab, "Icmp6InRouterAdvertisements");
    int64_t echos0 = cnt(lab, "Icmp6InEchos");
    struct lk_radvd *r = NULL;
    uint64_t t0 = lk_now_ns();
    rc = lk_radvd_start(lab->ifname, LAB_RADVD_IFACE, 3000, &r, err, sizeof err);
    if (rc != 0) {
        step_result(lab, 9, title, false, "radvd did not start (%s): %s%s", strerror(-rc),
                    err[0] ? err : "?",
                    strstr(err, "bootstrap") ? "" : "; run tools/bootstrap.sh to install it");
        return;
    }
    /* radvd's first RA (or its answer to a solicitation), then the stack's
     * DAD for the new address (1 s). */
    struct slaac_wait sw;
    memset(&sw, 0, sizeof sw);
    sw.lab = lab;
    snprintf(sw.needle, sizeof sw.needle, "inet6 %s/64 ", as);
    bool formed = false;
    for (int i = 0; i < 100 && !g_stop && !formed; i++) /* at most 10 s */
        formed = lk_wait_until(slaac_formed, &sw, 100, 20) == 0;
    double t_formed = (lk_now_ns() - t0) / 1e9;
    int64_t ra = cnt(lab, "Icmp6InRouterAdvertisements") - ra0;
    char detail[256] = "not pinged";
    int replies = formed ? ping6_series(as, 0x6a9, detail, sizeof detail) : 0;
    int64_t echos = formed ? cnt_settle(lab, "Icmp6InEchos", echos0, LAB_PINGS) : 0;
    lk_radvd_stop(r);
    step_result(lab, 9, title, formed && ra >= 1 && replies == LAB_PINGS && echos == LAB_PINGS,
                "radvd on %s (kernel link-local %s); Icmp6InRouterAdvertisements +%lld; %s%s "
                "after %.1f s; the kernel pings it: %d/%d replies, %s",
                lab->ifname, lw.ll, (long long)ra, formed ? "stack: " : "no address ",
                formed ? sw.line : as, t_formed, replies, LAB_PINGS, detail);
}

/* ---- step 10: UDP over IPv6 through WSK ------------------------------------------------------------ */
static void step_udp6(struct lab *lab)
{
    static const char title[] = "UDP over IPv6 both ways (WskSendTo / WskReceiveFrom)";
    uint8_t saddr[16], kaddr[16];
    char b1[WSKC_STATUS_STRLEN];
    if (lk_addr6_parse(LAB_STACK6, saddr, NULL) != 0 || lk_addr6_parse(LAB_KERNEL6, kaddr, NULL) != 0) {
        step_result(lab, 10, title, false, "bad lab addresses");
        return;
    }
    int kfd = lk_udp6_open(LAB_KERNEL6, LAB_KPORT6);
    if (kfd < 0) {
        step_result(lab, 10, title, false, "kernel UDP socket [%s]:%u: %s", LAB_KERNEL6,
                    LAB_KPORT6, strerror(-kfd));
        return;
    }
    PWSK_SOCKET sock = NULL;
    NTSTATUS s = wskc_socket_af(&lab->npi, AF_INET6, &sock);
    if (NT_SUCCESS(s)) {
        SOCKADDR_IN6 local;
        wskc_sin6(&local, saddr, LAB_SPORT6, 0);
        s = wskc_bind_sa(sock, (const SOCKADDR *)&local);
    }
    if (!NT_SUCCESS(s)) {
        step_result(lab, 10, title, false, "WskSocket(AF_INET6) / WskBind [%s]:%u: %s",
                    LAB_STACK6, LAB_SPORT6, wskc_status_str(s, b1));
        wskc_close(sock);
        lk_close(kfd);
        return;
    }
    int64_t out0 = cnt(lab, "Udp6OutDatagrams"), in0 = cnt(lab, "Udp6InDatagrams");
    int sent = 0, received = 0;
    char why[160] = "";
    SOCKADDR_IN6 to;
    wskc_sin6(&to, kaddr, LAB_KPORT6, 0);
    /* stack -> kernel */
    for (int i = 1; i <= LAB_DATAGRAMS && !g_stop; i++) {
        char msg[64], buf[128], src[LK_ADDR6STRLEN] = "";
        uint16_t sport = 0;
        int len = snprintf(msg, sizeof msg, "wsk-lab IPv6 datagram %d/%d: WskSendTo -> kernel",
                           i, LAB_DATAGRAMS);
        struct wskc_op op;
        s = wskc_sendto_sa(sock, msg, (ULONG)len, (const SOCKADDR *)&to, 3000, &op);
        if (!NT_SUCCESS(s) || op.info != (ULONG_PTR)len) {
            snprintf(why, sizeof why, "; out %d: %s, %lu bytes sent", i, wskc_status_str(s, b1),
                     (unsigned long)op.info);
            continue;
        }
        long n = lk_udp6_recv(kfd, buf, sizeof buf, 2000, src, &sport);
        if (n != len || memcmp(buf, msg, (size_t)len) != 0 || strcmp(src, LAB_STACK6) != 0 ||
            sport != LAB_SPORT6) {
            snprintf(why, sizeof why, "; out %d: kernel got %ld bytes from [%s]:%u", i, n, src,
                     sport);
            continue;
        }
        sent++;
    }
    /* kernel -> stack */
    for (int i = 1; i <= LAB_DATAGRAMS && !g_stop; i++) {
        char msg[64], buf[128], src[LK_ADDR6STRLEN] = "?";
        int len = snprintf(msg, sizeof msg,
                           "wsk-lab IPv6 datagram %d/%d: kernel -> WskReceiveFrom", i,
                           LAB_DATAGRAMS);
        if (lk_udp6_sendto(kfd, msg, (size_t)len, LAB_STACK6, LAB_SPORT6) != len) {
            snprintf(why, sizeof why, "; in %d: the kernel could not send it", i);
            continue;
        }
        ULONG got = 0;
        SOCKADDR_IN6 from;
        s = wskc_recvfrom6(sock, buf, sizeof buf, 2000, &got, &from);
        uint16_t fport = RtlUshortByteSwap(from.sin6_port);
        if (NT_SUCCESS(s))
            lk_addr6_str((const uint8_t *)&from.sin6_addr, src);
        if (!NT_SUCCESS(s) || got != (ULONG)len || memcmp(buf, msg, (size_t)len) != 0 ||
            from.sin6_family != AF_INET6 || memcmp(&from.sin6_addr, kaddr, 16) != 0 ||
            fport != LAB_KPORT6 || from.sin6_scope_id != 0) {
            snprintf(why, sizeof why, "; in %d: %s, %lu bytes from [%s]:%u", i,
                     wskc_status_str(s, b1), (unsigned long)got, src, fport);
            continue;
        }
        received++;
    }
    int64_t out = cnt_settle(lab, "Udp6OutDatagrams", out0, LAB_DATAGRAMS);
    int64_t in = cnt_settle(lab, "Udp6InDatagrams", in0, LAB_DATAGRAMS);
    NTSTATUS cs = wskc_close(sock);
    lk_close(kfd);
    step_result(lab, 10, title,
                sent == LAB_DATAGRAMS && received == LAB_DATAGRAMS && out == LAB_DATAGRAMS &&
                    in == LAB_DATAGRAMS && cs == STATUS_SUCCESS,
                "[%s]:%u -> [%s]:%u: %d/%d intact; back: %d/%d intact, SOCKADDR_IN6 source "
                "[%s]:%u; Udp6OutDatagrams +%lld, Udp6InDatagrams +%lld%s",
                LAB_STACK6, LAB_SPORT6, LAB_KERNEL6, LAB_KPORT6, sent, LAB_DATAGRAMS, received,
                LAB_DATAGRAMS, LAB_KERNEL6, LAB_KPORT6, (long long)out, (long long)in, why);
}

/* ---- --json ------------------------------------------------------------------------------------- */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f); /* UTF-8 passes through */
    }
    fputc('"', f);
}

/* {"steps":[...],"ok":..,"counters":{...}} on stdout; the counters are the
 * stack's non-zero ones (nstat names), so this runs before teardown. */
static void json_summary(struct lab *lab, bool ok, const char *interrupted)
{
    FILE *f = stdout;
    fputs("{\"steps\":[", f);
    for (int i = 0; i < lab->nres; i++) {
        fprintf(f, "%s{\"n\":%d,\"name\":", i ? "," : "", lab->res[i].n);
        json_str(f, lab->res[i].title);
        fprintf(f, ",\"ok\":%s,\"detail\":", lab->res[i].ok ? "true" : "false");
        json_str(f, lab->res[i].detail);
        fputc('}', f);
    }
    fprintf(f, "],\"ok\":%s", ok ? "true" : "false");
    if (interrupted)
        fprintf(f, ",\"interrupted\":\"%s\"", interrupted);
    if (wskc_contract_errors)
        fprintf(f, ",\"wsk_contract_errors\":%d", (int)wskc_contract_errors);
    fputs(",\"counters\":{", f);
    bool first = true;
    for (unsigned i = 0; lab->st && wskstack_counter_name(i) != NULL; i++) {
        uint64_t v = wskstack_counter_value(lab->st, i);
        if (v == 0)
            continue;
        fprintf(f, "%s\"%s\":%llu", first ? "" : ",", wskstack_counter_name(i),
                (unsigned long long)v);
        first = false;
    }
    fputs("}}\n", f);
    fflush(f);
}

/* A value for WSKSTACK_CONFIG may not contain the separator. */
static bool config_value_ok(const char *opt, const char *v)
{
    if (v == NULL || v[0] == '\0' || strchr(v, ';') != NULL) {
        fprintf(stderr, "wsk-lab: %s needs a value without ';'\n", opt);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct lab lab;
    memset(&lab, 0, sizeof lab);
    lab.kfd = lab.arpcap = -1;
    hout = stdout;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--counters") == 0) {
            lab.verbose_counters = true;
        } else if (strcmp(argv[i], "--trace") == 0) {
            lab.trace = "all";
        } else if (strncmp(argv[i], "--trace=", 8) == 0) {
            lab.trace = argv[i] + 8;
            if (!config_value_ok("--trace=", lab.trace))
                return 2;
        } else if (strcmp(argv[i], "--pcap") == 0 || strncmp(argv[i], "--pcap=", 7) == 0) {
            lab.pcap = argv[i][6] == '=' ? argv[i] + 7 : (i + 1 < argc ? argv[++i] : NULL);
            if (!config_value_ok("--pcap", lab.pcap))
                return 2;
        } else if (strcmp(argv[i], "--keep") == 0) {
            lab.keep = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            lab.json = true;
        } else {
            fprintf(stderr, "wsk-lab: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (lab.json && lab.pcap && strcmp(lab.pcap, "-") == 0) {
        fprintf(stderr, "wsk-lab: --json and --pcap - both want stdout\n");
        return 2;
    }
    if (lab.json)
        hout = stderr;
    int cl = snprintf(lab.config, sizeof lab.config, "%s%s%s%s%s", LAB_CONFIG,
                      lab.trace ? ";trace=" : "", lab.trace ? lab.trace : "",
                      lab.pcap ? ";pcap=" : "", lab.pcap ? lab.pcap : "");
    if (cl < 0 || (size_t)cl >= sizeof lab.config) {
        fprintf(stderr, "wsk-lab: --trace/--pcap values too long\n");
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (lab_setup(&lab) != 0) {
        if (lab.json)
            printf("{\"steps\":[],\"ok\":false,\"error\":\"setup failed (see stderr)\"}\n");
        lab_teardown(&lab);
        return 2;
    }
    char m1[18], m2[18], port[48], wire[40];
    snprintf(port, sizeof port, "WSK datagram socket, port %u", lab.port);
    snprintf(wire, sizeof wire, " <== %s (TAP) ==> ", lab.ifname);
    fprintf(hout,
            "wsk-lab: a WSK client and the Linux kernel, in a private network namespace\n"
            "\n"
            "    %-19s%-*s%s\n"
            "    %-19s%-*s%s\n"
            "    %-19s%-*s%s\n"
            "    %-19s%s%s\n"
            "    %-19s%-*s%s\n"
            "\n",
            "Linux kernel", (int)strlen(wire), "", "wskstack (this process)",
            LAB_KERNEL "/24", (int)strlen(wire), "", LAB_STACK "/24",
            LAB_KERNEL6 "/64", (int)strlen(wire), "", LAB_STACK6 "/64",
            lk_mac_str(lab.kmac, m1), wire, lk_mac_str(lab.smac, m2),
            "sockets, ping", (int)strlen(wire), "", port);
    fflush(hout);

    void (*steps[])(struct lab *) = {step_arp,          step_ping,         step_send,
                                     step_receive,      step_unreach_port, step_unreach_host,
                                     step_ndp,          step_ping6,        step_slaac,
                                     step_udp6};
    const int nsteps = (int)(sizeof steps / sizeof steps[0]);
    for (int i = 0; i < nsteps && !g_stop; i++)
        steps[i](&lab);

    int rc;
    const char *interrupted = NULL;
    if (g_stop) {
        interrupted = g_stop == SIGINT ? "SIGINT" : "SIGTERM";
        fprintf(hout, "\nwsk-lab: interrupted (%s) after %d of %d steps; cleaning up\n",
                interrupted, lab.passed + lab.failed, nsteps);
        rc = 130;
    } else {
        fprintf(hout, "\n%d of %d steps passed%s\n", lab.passed, nsteps,
                wskc_contract_errors ? " (WSK completion contract violations seen)" : "");
        rc = (lab.passed == nsteps && wskc_contract_errors == 0) ? 0 : 1;
    }
    fflush(hout);
    if (lab.json)
        json_summary(&lab, rc == 0, interrupted);

    if (lab.keep && !g_stop) {
        /* The namespace is private to this process: nsenter reaches it
         * through /proc/<pid>/ns/net while we are alive. */
        fprintf(hout,
                "\nwsk-lab: --keep: the lab stays up until SIGINT/SIGTERM (Ctrl-C).  To look "
                "inside:\n"
                "    sudo nsenter --net=/proc/%ld/ns/net ip addr show %s\n"
                "    sudo nsenter --net=/proc/%ld/ns/net ping -c1 %s\n"
                "    sudo nsenter --net=/proc/%ld/ns/net ping -c1 %s\n",
                (long)getpid(), lab.ifname, (long)getpid(), LAB_STACK, (long)getpid(),
                LAB_STACK6);
        fflush(hout);
        while (!g_stop)
            lk_sleep_ms(200);
        fprintf(hout, "wsk-lab: %s: cleaning up\n", g_stop == SIGINT ? "SIGINT" : "SIGTERM");
    }
    lab_teardown(&lab);
    return rc;
}
