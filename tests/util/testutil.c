/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int tu_enter_netns(void)
{
    if (unshare(CLONE_NEWNET) != 0) {
        int e = errno;
        fprintf(stderr, "tu_enter_netns: unshare(CLONE_NEWNET): %s (lab tests need root)\n",
                strerror(e));
        return -e;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int rc = 0;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
            rc = -errno;
    } else {
        rc = -errno;
    }
    close(fd);
    return rc;
}

uint64_t tu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- device removal and CPU use (appended for issue 3) ----------------------- */
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sys/resource.h>

int tu_link_del(const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0)
        return -ENODEV;
    struct nl_sock *sk = nl_socket_alloc();
    if (sk == NULL)
        return -ENOMEM;
    int rc = nl_connect(sk, NETLINK_ROUTE);
    if (rc == 0) {
        struct rtnl_link *l = rtnl_link_alloc();
        if (l == NULL) {
            rc = -ENOMEM;
        } else {
            rtnl_link_set_ifindex(l, (int)idx);
            rc = rtnl_link_delete(sk, l);
            if (rc < 0) {
                fprintf(stderr, "tu_link_del(%s): %s\n", ifname, nl_geterror(rc));
                rc = -EIO;
            }
            rtnl_link_put(l);
        }
        nl_close(sk);
    } else {
        rc = -EIO;
    }
    nl_socket_free(sk);
    return rc;
}

uint64_t tu_proc_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}
