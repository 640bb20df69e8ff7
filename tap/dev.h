/* SPDX-License-Identifier: MIT */
/*
 * The device layer: what the stack writes Ethernet frames to and reads them
 * from.  Two implementations:
 *   - tap.c    a real Linux TAP (TUNSETIFF, IFF_TAP|IFF_NO_PI), kernel side
 *              configured through libnl-route (tapcfg.c);
 *   - memdev.c an in-memory device with rx/tx queues for unit tests and
 *              fuzzing.
 *
 * The interface moves VECTORS of frames so that batching (several frames per
 * call) and offloads (a virtio-net header per frame: IFF_VNET_HDR, UDP GSO
 * super-frames) can be added later without changing the stack: a frame
 * carries `struct dev_offload`, all-zero meaning "a plain frame".
 *
 * Thread safety: send() may be called from any thread concurrently (one
 * write(2) per frame on a TAP is atomic); recv() is called by one thread
 * only (the stack's receive thread).
 */
#ifndef WSS_DEV_H
#define WSS_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields of a virtio_net_hdr (see PERF-NOTES.md).  All zero = none. */
struct dev_offload {
    uint8_t flags;       /* VIRTIO_NET_HDR_F_NEEDS_CSUM ... */
    uint8_t gso_type;    /* VIRTIO_NET_HDR_GSO_NONE / _UDP_L4 (5) */
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};

struct dev_frame {
    uint8_t *data;   /* first byte of the Ethernet header */
    uint32_t len;    /* send: bytes to write; recv: bytes read */
    uint32_t cap;    /* recv: capacity of data */
    struct dev_offload off;
};

struct dev;
struct dev_ops {
    /* Write n frames.  Returns the number written (>= 0), or -errno if the
     * first one failed: -ENODEV = the device is gone (a deleted TAP fails
     * with EBADFD, mapped to ENODEV); -ENETDOWN = the link is only down
     * (a TAP write then fails with EIO). */
    int (*send)(struct dev *d, struct dev_frame *v, unsigned n);
    /* Read up to n frames into the caller's buffers.  Returns the number read
     * (0 = nothing waiting right now), or -errno: -ENODEV (and friends) when
     * the device has disappeared - the caller must stop polling it. */
    int (*recv)(struct dev *d, struct dev_frame *v, unsigned n);
    /* A file descriptor that polls readable (POLLIN) when recv() may return
     * frames.  When the device is gone it keeps polling ready (a deleted TAP
     * reports POLLERR on every poll; memdev keeps its eventfd readable), so
     * the caller must stop polling it once recv() has returned -ENODEV. */
    int (*pollfd)(struct dev *d);
    /* Close and free the device (a TAP is destroyed with its fd). */
    void (*close)(struct dev *d);
};

struct dev {
    const struct dev_ops *ops;
    char name[16];        /* interface name (IFNAMSIZ) */
    int ifindex;          /* kernel ifindex of the TAP (memdev: a fake one) */
    uint8_t kmac[6];      /* MAC of the kernel side of the TAP */
    uint32_t mtu;
};

static inline int dev_send(struct dev *d, struct dev_frame *v, unsigned n) { return d->ops->send(d, v, n); }
static inline int dev_recv(struct dev *d, struct dev_frame *v, unsigned n) { return d->ops->recv(d, v, n); }
static inline int dev_pollfd(struct dev *d) { return d->ops->pollfd(d); }
static inline void dev_close(struct dev *d) { d->ops->close(d); }

/* ---- a prefix: address + length, either family -------------------------- */
struct dev_prefix {
    int family;          /* AF_INET or AF_INET6 (Linux values) */
    uint8_t addr[16];    /* network byte order; IPv4 in the first 4 bytes */
    uint8_t plen;
};

/* ---- real TAP (tap.c, tapcfg.c) ------------------------------------------ */
struct tap_config {
    const char *name;      /* "wsk%d" style template or exact name; NULL = "wsk%d" */
    uint32_t mtu;          /* 0 = leave the kernel default (1500) */
    /* Kernel-side ("host") addresses given to the TAP through libnl.  IPv6
     * ones are added with IFA_F_NODAD. */
    const struct dev_prefix *host_addrs;
    unsigned n_host_addrs;
    /* Path of the TUN/TAP clone device; NULL = "/dev/net/tun" (tests point
     * it elsewhere to check the "missing" message). */
    const char *tun_path;
};
/* Create the TAP (O_RDWR|O_NONBLOCK|O_CLOEXEC, TUNSETIFF IFF_TAP|IFF_NO_PI),
 * bring the link up, set the MTU and host addresses through libnl-route.
 * On failure returns -errno and writes a message a user can act on into err
 * ("/dev/net/tun is missing: ...", "CAP_NET_ADMIN is needed ..."); nothing is
 * left behind. */
int tap_open(const struct tap_config *cfg, struct dev **out, char *err, size_t errlen);

/* Kernel-side configuration through libnl-route (tapcfg.c).  All return 0 or
 * -errno; `err` gets a message.  Usable on any link, e.g. by tests. */
int tapcfg_link_up(int ifindex, char *err, size_t errlen);
int tapcfg_set_mtu(int ifindex, uint32_t mtu, char *err, size_t errlen);
int tapcfg_addr_add(int ifindex, const struct dev_prefix *p, char *err, size_t errlen);
int tapcfg_addr_del(int ifindex, const struct dev_prefix *p, char *err, size_t errlen);
/* Route to dst/plen via gateway (gw may be NULL: on-link) on ifindex. */
int tapcfg_route_add(int ifindex, const struct dev_prefix *dst, const uint8_t *gw,
                     char *err, size_t errlen);
int tapcfg_link_get_mac(int ifindex, uint8_t mac[6]);

/* ---- in-memory device (memdev.c) ----------------------------------------- */
struct dev *memdev_create(const char *name, uint32_t mtu);
/* Queue a frame for the stack to receive (copied).  0 or -ENOMEM. */
int memdev_inject(struct dev *d, const void *frame, size_t len);
/* Pop the oldest frame the stack sent.  Returns its length, or -1 if none
 * (the frame is copied into buf, truncated to cap). */
long memdev_pop_tx(struct dev *d, void *buf, size_t cap);
unsigned memdev_tx_pending(struct dev *d);
/* Make the device behave as if it had been deleted: recv/send return -ENODEV
 * and the poll fd stays readable. */
void memdev_set_gone(struct dev *d);

#endif /* WSS_DEV_H */
