/* SPDX-License-Identifier: MIT */
/*
 * tap.c - the real device: a Linux TAP (Documentation/networking/tuntap.rst).
 *
 * One fd per stack, opened O_NONBLOCK: the receive thread polls it and reads
 * until EAGAIN; senders write one frame per write(2), which the kernel
 * treats atomically (one write = one frame), so concurrent senders need no
 * lock.  The TAP is not persistent: it disappears when the fd is closed,
 * which is how tap_open() cleans up after itself and how dev_close()
 * destroys the device.
 *
 * What the kernel does (measured on Linux 6.18, see the lab test):
 *  - after `ip link del`: read() and write() fail with EBADFD, and poll()
 *    reports POLLERR (not POLLHUP) at once and forever.  Both are mapped to
 *    -ENODEV: the caller must stop polling (otherwise poll spins on POLLERR).
 *  - link administratively down (`ip link set X down`): read() gives EAGAIN
 *    (the kernel queues nothing) and write() fails with EIO.  That is not
 *    "gone" - the link may come up again - so it is reported as -ENETDOWN.
 *  - read() into a buffer shorter than the frame returns the buffer size and
 *    silently drops the rest: recv buffers must hold MTU + 14 (+ 4 for a
 *    VLAN tag) bytes.
 *  - write() never blocks or returns EAGAIN in practice (PERF-NOTES.md):
 *    the kernel's receive path runs inside the writer's syscall.
 */
#include "dev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUN_DEFAULT_PATH "/dev/net/tun"
#define TAP_DEFAULT_NAME "wsk%d"

struct tap_dev {
    struct dev dev;   /* first: struct dev * <-> struct tap_dev * */
    int fd;
};

static void msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void msg(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* errno of a failed read/write -> what the dev interface reports. */
static int map_errno(int e, bool writing)
{
    switch (e) {
    case EBADFD: /* the link was deleted under the fd (measured) */
    case ENODEV:
    case ENXIO:
        return -ENODEV;
    case EIO:    /* write to a link that is administratively down */
        return writing ? -ENETDOWN : -EIO;
    default:
        return -e;
    }
}

static bool offload_none(const struct dev_offload *o)
{
    return o->flags == 0 && o->gso_type == 0 && o->hdr_len == 0 && o->gso_size == 0 &&
           o->csum_start == 0 && o->csum_offset == 0;
}

static int tap_send(struct dev *d, struct dev_frame *v, unsigned n)
{
    struct tap_dev *t = (struct tap_dev *)d;
    unsigned i;
    for (i = 0; i < n; i++) {
        /* No IFF_VNET_HDR yet: a frame asking for an offload cannot be
         * written as asked. */
        if (!offload_none(&v[i].off))
            return i == 0 ? -EOPNOTSUPP : (int)i;
        ssize_t r;
        do {
            r = write(t->fd, v[i].data, v[i].len);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            /* A later frame's error is reported by the next call, when it
             * is the first frame. */
            return i == 0 ? map_errno(errno, true) : (int)i;
        }
    }
    return (int)i;
}

static int tap_recv(struct dev *d, struct dev_frame *v, unsigned n)
{
    struct tap_dev *t = (struct tap_dev *)d;
    unsigned i;
    for (i = 0; i < n; i++) {
        ssize_t r;
        do {
            r = read(t->fd, v[i].data, v[i].cap);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return i == 0 ? map_errno(errno, false) : (int)i;
        }
        if (r == 0 && v[i].cap > 0) {
            /* A TAP never delivers an empty frame: 0 is end-of-file, the
             * device is gone (BAD-INPUT.md case 48). */
            return i == 0 ? -ENODEV : (int)i;
        }
        v[i].len = (uint32_t)r;
        memset(&v[i].off, 0, sizeof v[i].off);
    }
    return (int)i;
}

static int tap_pollfd(struct dev *d)
{
    return ((struct tap_dev *)d)->fd;
}

static void tap_close(struct dev *d)
{
    struct tap_dev *t = (struct tap_dev *)d;
    if (t == NULL)
        return;
    close(t->fd); /* destroys the (non-persistent) TAP */
    free(t);
}

static const struct dev_ops tap_ops = {
    .send = tap_send,
    .recv = tap_recv,
    .pollfd = tap_pollfd,
    .close = tap_close,
};

#define CAP_HINT "CAP_NET_ADMIN is needed to create a TAP (run as root or grant cap_net_admin)"

/* Open the clone device and create the TAP; the fd or -errno. */
static int tun_create(const char *path, const char *name, char out_name[IFNAMSIZ], char *err,
                      size_t errlen)
{
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            msg(err, errlen,
                "%s is missing (load the tun module or create the node: mknod %s c 10 200)",
                path, path);
        else if (e == EPERM || e == EACCES)
            msg(err, errlen, "cannot open %s: %s: " CAP_HINT, path, strerror(e));
        else if (e == ENODEV || e == ENXIO)
            msg(err, errlen, "%s exists but the tun driver is not loaded (modprobe tun): %s",
                path, strerror(e));
        else
            msg(err, errlen, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name)); /* < IFNAMSIZ: checked by caller */
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        int e = errno;
        if (e == EPERM || e == EACCES)
            msg(err, errlen, "TUNSETIFF %s: %s: " CAP_HINT, name, strerror(e));
        else if (e == EBUSY)
            msg(err, errlen, "TUNSETIFF %s: the interface exists and is in use: %s", name,
                strerror(e));
        else
            msg(err, errlen, "TUNSETIFF %s: %s", name, strerror(e));
        close(fd);
        return -e;
    }
    memcpy(out_name, ifr.ifr_name, IFNAMSIZ);
    out_name[IFNAMSIZ - 1] = '\0';
    return fd;
}

/* The link's MTU as the kernel has it; 1500 (the TAP default) if unknown. */
static uint32_t read_mtu(const char *name)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return 1500;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    uint32_t mtu = 1500;
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
        mtu = (uint32_t)ifr.ifr_mtu;
    close(s);
    return mtu;
}

int tap_open(const struct tap_config *cfg, struct dev **out, char *err, size_t errlen)
{
    static const struct tap_config defaults = {0};
    if (cfg == NULL)
        cfg = &defaults;
    const char *name = cfg->name != NULL ? cfg->name : TAP_DEFAULT_NAME;
    const char *path = cfg->tun_path != NULL ? cfg->tun_path : TUN_DEFAULT_PATH;
    if (out == NULL) {
        msg(err, errlen, "tap_open: no place for the result");
        return -EINVAL;
    }
    *out = NULL;
    if (name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
        msg(err, errlen, "TAP name \"%.32s\" must have 1 to %d characters", name, IFNAMSIZ - 1);
        return -EINVAL;
    }

    struct tap_dev *t = calloc(1, sizeof *t);
    if (t == NULL) {
        msg(err, errlen, "tap_open: out of memory");
        return -ENOMEM;
    }
    t->dev.ops = &tap_ops;
    int fd = tun_create(path, name, t->dev.name, err, errlen);
    if (fd < 0) {
        free(t);
        return fd;
    }
    t->fd = fd;

    /* From here on every failure closes fd, which deletes the TAP again. */
    int rc;
    char why[256] = "";
    t->dev.ifindex = (int)if_nametoindex(t->dev.name);
    if (t->dev.ifindex == 0) {
        rc = errno != 0 ? -errno : -ENODEV;
        snprintf(why, sizeof why, "no ifindex: %s", strerror(-rc));
        goto fail;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) { /* the tun fd answers it */
        rc = -errno;
        snprintf(why, sizeof why, "SIOCGIFHWADDR: %s", strerror(errno));
        goto fail;
    }
    memcpy(t->dev.kmac, ifr.ifr_hwaddr.sa_data, 6);

    if (cfg->mtu != 0) {
        rc = tapcfg_set_mtu(t->dev.ifindex, cfg->mtu, why, sizeof why);
        if (rc != 0)
            goto fail;
    }
    t->dev.mtu = read_mtu(t->dev.name);
    for (unsigned i = 0; i < cfg->n_host_addrs; i++) {
        rc = tapcfg_addr_add(t->dev.ifindex, &cfg->host_addrs[i], why, sizeof why);
        if (rc != 0)
            goto fail;
    }
    rc = tapcfg_link_up(t->dev.ifindex, why, sizeof why);
    if (rc != 0)
        goto fail;
    *out = &t->dev;
    return 0;

fail:
    msg(err, errlen, "TAP %s: %s", t->dev.name, why);
    close(fd);
    free(t);
    return rc;
}
