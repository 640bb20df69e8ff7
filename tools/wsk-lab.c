/* SPDX-License-Identifier: MIT */
/*
 * wsk-lab - the wskstack lab demo: a WSK client talking to the Linux kernel
 * through a userspace stack on a TAP, in a private network namespace.
 *
 *        Linux kernel                                wskstack (this process)
 *   192.0.2.1/24  [wsklab0]  <== TAP: Ethernet frames ==>  192.0.2.2/24
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
 * Exit status: 0 if every step passed, 1 if one failed, 2 for a setup
 * error, 130 when interrupted (SIGINT/SIGTERM end it cleanly: sockets
 * closed, registration and stack torn down; the namespace - and the TAP in
 * it - disappears with the process in every case).
 *
 * Network safety: everything happens inside a network namespace private to
 * this process, on 192.0.2.0/24 (TEST-NET-1), with a fixed, small number of
 * frames.
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

#define LAB_CONFIG "tap=wsklab0;addr=192.0.2.2/24;host-addr=192.0.2.1/24"
#define LAB_TAP "wsklab0"
#define LAB_KERNEL "192.0.2.1"
#define LAB_STACK "192.0.2.2"
#define LAB_ABSENT "192.0.2.99"
#define LAB_KPORT 7001      /* kernel UDP socket of steps 3 and 4 */
#define LAB_CLOSED_PORT 9   /* nothing listens there on the kernel side */
#define LAB_DATAGRAMS 3     /* per direction */
#define LAB_PINGS 3

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
};

/* ---- output ---------------------------------------------------------------- */
static void step_result(struct lab *lab, int n, const char *title, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void step_result(struct lab *lab, int n, const char *title, bool ok, const char *fmt, ...)
{
    va_list ap;
    printf("  %s %d. %s\n       ", ok ? "\u2713" : "\u2717", n, title);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
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
    fputs("usage: wsk-lab [--counters] [--help]\n"
          "\n"
          "Run the wskstack lab demo (as root).  wsk-lab makes a private network\n"
          "namespace (it disappears with the process), sets\n"
          "WSKSTACK_CONFIG=\"" LAB_CONFIG "\"\n"
          "and acts as a plain Windows WSK client: WskRegister and\n"
          "WskCaptureProviderNPI create the process-default stack and its TAP " LAB_TAP "\n"
          "from that text.  The Linux kernel is the peer:\n"
          "\n"
          "     Linux kernel " LAB_KERNEL " <-- " LAB_TAP " (TAP) --> wskstack " LAB_STACK "\n"
          "\n"
          "  1. ARP resolution both ways\n"
          "  2. the kernel pings the stack (3 echo requests, RTTs shown)\n"
          "  3. WskSendTo -> a kernel UDP socket (contents compared)\n"
          "  4. a kernel UDP socket -> WskReceiveFrom (contents and source compared)\n"
          "  5. a send to a closed kernel port -> ICMP port unreachable\n"
          "     (the stack's IcmpInDestUnreachs counter goes up by one)\n"
          "  6. a send to the absent host " LAB_ABSENT " -> STATUS_HOST_UNREACHABLE\n"
          "     (after 3 ARP requests 1 s apart)\n"
          "\n"
          "  --counters   print the stack's counters (nstat -j style JSON) at the end\n"
          "  --help       this text\n"
          "\n"
          "Exit status: 0 every step passed, 1 a step failed, 2 setup failed,\n"
          "130 interrupted (Ctrl-C ends cleanly).\n",
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
    if (setenv("WSKSTACK_CONFIG", LAB_CONFIG, 1) != 0)
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
        printf("\nwskstack counters:\n");
        wskstack_counters_json(lab->st, stdout);
        printf("\n");
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

int main(int argc, char **argv)
{
    struct lab lab;
    memset(&lab, 0, sizeof lab);
    lab.kfd = lab.arpcap = -1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--counters") == 0) {
            lab.verbose_counters = true;
        } else {
            fprintf(stderr, "wsk-lab: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (lab_setup(&lab) != 0) {
        lab_teardown(&lab);
        return 2;
    }
    char m1[18], m2[18], port[48], wire[40];
    snprintf(port, sizeof port, "WSK datagram socket, port %u", lab.port);
    snprintf(wire, sizeof wire, " <== %s (TAP) ==> ", lab.ifname);
    printf("wsk-lab: a WSK client and the Linux kernel, in a private network namespace\n"
           "\n"
           "    %-19s%-*s%s\n"
           "    %-19s%-*s%s\n"
           "    %-19s%s%s\n"
           "    %-19s%-*s%s\n"
           "\n",
           "Linux kernel", (int)strlen(wire), "", "wskstack (this process)",
           LAB_KERNEL "/24", (int)strlen(wire), "", LAB_STACK "/24",
           lk_mac_str(lab.kmac, m1), wire, lk_mac_str(lab.smac, m2),
           "sockets, ping", (int)strlen(wire), "", port);
    fflush(stdout);

    void (*steps[])(struct lab *) = {step_arp, step_ping, step_send, step_receive,
                                     step_unreach_port, step_unreach_host};
    const int nsteps = (int)(sizeof steps / sizeof steps[0]);
    for (int i = 0; i < nsteps && !g_stop; i++)
        steps[i](&lab);

    int rc;
    if (g_stop) {
        printf("\nwsk-lab: interrupted (%s) after %d of %d steps; cleaning up\n",
               g_stop == SIGINT ? "SIGINT" : "SIGTERM", lab.passed + lab.failed, nsteps);
        rc = 130;
    } else {
        printf("\n%d of %d steps passed%s\n", lab.passed, nsteps,
               wskc_contract_errors ? " (WSK completion contract violations seen)" : "");
        rc = (lab.passed == nsteps && wskc_contract_errors == 0) ? 0 : 1;
    }
    lab_teardown(&lab);
    return rc;
}
