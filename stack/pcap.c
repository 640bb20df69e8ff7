/* SPDX-License-Identifier: MIT */
/*
 * pcap.c - pcap=FILE (or pcap=- for stdout): every frame the stack receives
 * and sends, written through libpcap so that tcpdump, Wireshark and tshark
 * read it.
 *
 * Where frames are taken:
 *   received  eth_input(), before any check - a runt, a looped frame or an
 *             unknown EtherType is in the capture too, and the trace line of
 *             its drop says why it went no further; also a frame read while
 *             the packet pool was exhausted (stack.c)
 *   sent      eth_output(), just before the device write - the one place
 *             every frame leaves through
 * Format: link type DLT_EN10MB (Ethernet), nanosecond timestamps
 * (PCAP_TSTAMP_PRECISION_NANO: the file's magic is 0xa1b23c4d) taken from
 * CLOCK_REALTIME when the frame is recorded, so they line up with a capture
 * made on the kernel side of the TAP.  Snapshot length 262144 (libpcap's
 * maximum): a frame at the largest MTU (65535 + 14 bytes) is never cut.
 *
 * Concurrency: the receive thread and caller threads send frames, so every
 * record is written under cap->lock (a leaf lock) and flushed at once:
 * a crash loses at most the frame being written.
 */
#include "stack/stack_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PCAP_SNAPLEN 262144

struct stack_pcap {
    pthread_mutex_t lock;
    pcap_t *dead;             /* the "device" libpcap needs to write a file */
    pcap_dumper_t *dump;
};

static void cap_free(struct stack_pcap *cap)
{
    if (cap->dump) {
        pcap_dump_flush(cap->dump);
        pcap_dump_close(cap->dump); /* closes the FILE (a dup of stdout for "-") */
    }
    if (cap->dead)
        pcap_close(cap->dead);
    pthread_mutex_destroy(&cap->lock);
    free(cap);
}

int stack_pcap_init(struct wskstack *st, const struct wskstack_config *cfg, char *err,
                    size_t errlen)
{
    if (!cfg || cfg->pcap[0] == '\0')
        return 0;
    struct stack_pcap *cap = calloc(1, sizeof *cap);
    if (!cap)
        return -ENOMEM;
    if (pthread_mutex_init(&cap->lock, NULL) != 0) {
        free(cap);
        return -ENOMEM;
    }
    cap->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, PCAP_SNAPLEN,
                                                     PCAP_TSTAMP_PRECISION_NANO);
    if (!cap->dead) {
        cap_free(cap);
        return -ENOMEM;
    }
    if (strcmp(cfg->pcap, "-") == 0) {
        /* A duplicate of fd 1, so that closing the capture does not close
         * the process's stdout. */
        int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f) {
            int rc = -errno;
            if (fd >= 0)
                close(fd);
            cap_free(cap);
            if (err && errlen)
                snprintf(err, errlen, "pcap: cannot write to stdout: %s", strerror(-rc));
            return rc;
        }
        cap->dump = pcap_dump_fopen(cap->dead, f);
        if (!cap->dump)
            fclose(f);
    } else {
        cap->dump = pcap_dump_open(cap->dead, cfg->pcap);
    }
    if (!cap->dump) {
        if (err && errlen)
            snprintf(err, errlen, "pcap: cannot open \"%.200s\": %s", cfg->pcap,
                     pcap_geterr(cap->dead));
        cap_free(cap);
        return -EIO;
    }
    pcap_dump_flush(cap->dump); /* the file header, even if no frame follows */
    st->pcap = cap;
    return 0;
}

void stack_pcap_fini(struct wskstack *st)
{
    if (!st->pcap)
        return;
    cap_free(st->pcap);
    st->pcap = NULL;
}

void stack_pcap_frame_(struct wskstack *st, const uint8_t *frame, size_t len)
{
    struct stack_pcap *cap = st->pcap;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = ts.tv_sec;
    h.ts.tv_usec = ts.tv_nsec; /* nanoseconds: the dumper's precision is NANO */
    h.len = (bpf_u_int32)len;
    h.caplen = (bpf_u_int32)(len > PCAP_SNAPLEN ? PCAP_SNAPLEN : len);
    pthread_mutex_lock(&cap->lock);
    pcap_dump((u_char *)cap->dump, &h, frame);
    pcap_dump_flush(cap->dump);
    pthread_mutex_unlock(&cap->lock);
}
