/* SPDX-License-Identifier: MIT */
/*
 * tapcfg.c - the kernel side of a link, configured through libnl-route-3
 * (rtnetlink): link up, MTU, addresses, routes, MAC.
 *
 * Configuration is not a hot path: every call opens its own NETLINK_ROUTE
 * socket and closes it before returning, so the functions are safe to call
 * from any thread and keep no state.  libnl reports errors as NLE_* codes;
 * they are turned back into errno values (the inverse of libnl's
 * nl_syserr2nlerr) and the message comes from nl_geterror().
 */
#include "dev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

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

/* NLE_* (negative or positive) -> positive errno. */
static int nle_errno(int nle)
{
    switch (nle < 0 ? -nle : nle) {
    case NLE_INTR: return EINTR;
    case NLE_BAD_SOCK: return EBADF;
    case NLE_AGAIN: return EAGAIN;
    case NLE_NOMEM: return ENOMEM;
    case NLE_EXIST: return EEXIST;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_MSGSIZE: return EMSGSIZE;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_BUSY: return EBUSY;
    case NLE_PROTO_MISMATCH: return EPROTONOSUPPORT;
    case NLE_NOACCESS: return EACCES;
    case NLE_PERM: return EPERM;
    case NLE_NODEV: return ENODEV;
    default: return EIO;
    }
}

/* Open a connected NETLINK_ROUTE socket; NULL and a message on failure. */
static struct nl_sock *rt_open(const char *what, char *err, size_t errlen, int *rc)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (sk == NULL) {
        msg(err, errlen, "%s: out of memory for a netlink socket", what);
        *rc = -ENOMEM;
        return NULL;
    }
    int r = nl_connect(sk, NETLINK_ROUTE);
    if (r < 0) {
        msg(err, errlen, "%s: cannot open a NETLINK_ROUTE socket: %s", what, nl_geterror(r));
        nl_socket_free(sk);
        *rc = -nle_errno(r);
        return NULL;
    }
    return sk;
}

static void rt_close(struct nl_sock *sk)
{
    nl_close(sk);
    nl_socket_free(sk);
}

static int addr_len(int family)
{
    return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static const char *prefix_str(const struct dev_prefix *p, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];
    if (addr_len(p->family) == 0 || inet_ntop(p->family, p->addr, a, sizeof a) == NULL)
        snprintf(a, sizeof a, "(family %d)", p->family);
    snprintf(buf, len, "%s/%u", a, (unsigned)p->plen);
    return buf;
}

/* RTM_NEWLINK on ifindex with the attributes set in `change`. */
static int link_change(int ifindex, struct rtnl_link *change, const char *what, char *err,
                       size_t errlen)
{
    int rc = 0;
    struct nl_sock *sk = rt_open(what, err, errlen, &rc);
    if (sk == NULL)
        return rc;
    struct rtnl_link *orig = NULL;
    int r = rtnl_link_get_kernel(sk, ifindex, NULL, &orig);
    if (r < 0) {
        msg(err, errlen, "%s: no link with ifindex %d: %s", what, ifindex, nl_geterror(r));
        rc = r == -NLE_OBJ_NOTFOUND ? -ENODEV : -nle_errno(r);
        goto out;
    }
    r = rtnl_link_change(sk, orig, change, 0);
    if (r < 0) {
        msg(err, errlen, "%s on ifindex %d: %s", what, ifindex, nl_geterror(r));
        rc = -nle_errno(r);
    }
    rtnl_link_put(orig);
out:
    rt_close(sk);
    return rc;
}

int tapcfg_link_up(int ifindex, char *err, size_t errlen)
{
    struct rtnl_link *change = rtnl_link_alloc();
    if (change == NULL) {
        msg(err, errlen, "link up: out of memory");
        return -ENOMEM;
    }
    rtnl_link_set_flags(change, IFF_UP);
    int rc = link_change(ifindex, change, "link up", err, errlen);
    rtnl_link_put(change);
    return rc;
}

int tapcfg_set_mtu(int ifindex, uint32_t mtu, char *err, size_t errlen)
{
    struct rtnl_link *change = rtnl_link_alloc();
    if (change == NULL) {
        msg(err, errlen, "set MTU: out of memory");
        return -ENOMEM;
    }
    rtnl_link_set_mtu(change, mtu);
    char what[32];
    snprintf(what, sizeof what, "set MTU %u", (unsigned)mtu);
    int rc = link_change(ifindex, change, what, err, errlen);
    rtnl_link_put(change);
    return rc;
}

/* Build an rtnl_addr for p on ifindex; NULL and -errno in *rc if invalid. */
static struct rtnl_addr *addr_build(int ifindex, const struct dev_prefix *p, const char *what,
                                    char *err, size_t errlen, int *rc)
{
    char ps[64];
    int alen = addr_len(p->family);
    if (alen == 0 || p->plen > alen * 8) {
        msg(err, errlen, "%s %s: not an IPv4 or IPv6 prefix", what,
            prefix_str(p, ps, sizeof ps));
        *rc = -EINVAL;
        return NULL;
    }
    struct rtnl_addr *a = rtnl_addr_alloc();
    struct nl_addr *local = nl_addr_build(p->family, p->addr, (size_t)alen);
    if (a == NULL || local == NULL) {
        msg(err, errlen, "%s: out of memory", what);
        if (a != NULL)
            rtnl_addr_put(a);
        if (local != NULL)
            nl_addr_put(local);
        *rc = -ENOMEM;
        return NULL;
    }
    nl_addr_set_prefixlen(local, p->plen);
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_family(a, p->family);
    int r = rtnl_addr_set_local(a, local);
    nl_addr_put(local);
    if (r < 0) {
        msg(err, errlen, "%s %s: %s", what, prefix_str(p, ps, sizeof ps), nl_geterror(r));
        rtnl_addr_put(a);
        *rc = -nle_errno(r);
        return NULL;
    }
    rtnl_addr_set_prefixlen(a, p->plen);
    return a;
}

int tapcfg_addr_add(int ifindex, const struct dev_prefix *p, char *err, size_t errlen)
{
    int rc = 0;
    struct rtnl_addr *a = addr_build(ifindex, p, "add address", err, errlen, &rc);
    if (a == NULL)
        return rc;
    /* RFC 4862 §5.4 DAD would keep the address "tentative" (unusable) for
     * about a second; the only other host on a TAP is the stack itself, so
     * it is skipped.  IPv4 has no DAD: the flag is meaningless there. */
    if (p->family == AF_INET6)
        rtnl_addr_set_flags(a, IFA_F_NODAD);
    struct nl_sock *sk = rt_open("add address", err, errlen, &rc);
    if (sk != NULL) {
        int r = rtnl_addr_add(sk, a, NLM_F_EXCL);
        if (r < 0) {
            char ps[64];
            msg(err, errlen, "add address %s on ifindex %d: %s", prefix_str(p, ps, sizeof ps),
                ifindex, nl_geterror(r));
            rc = -nle_errno(r);
        }
        rt_close(sk);
    }
    rtnl_addr_put(a);
    return rc;
}

int tapcfg_addr_del(int ifindex, const struct dev_prefix *p, char *err, size_t errlen)
{
    int rc = 0;
    struct rtnl_addr *a = addr_build(ifindex, p, "delete address", err, errlen, &rc);
    if (a == NULL)
        return rc;
    struct nl_sock *sk = rt_open("delete address", err, errlen, &rc);
    if (sk != NULL) {
        int r = rtnl_addr_delete(sk, a, 0);
        if (r < 0) {
            char ps[64];
            msg(err, errlen, "delete address %s on ifindex %d: %s",
                prefix_str(p, ps, sizeof ps), ifindex, nl_geterror(r));
            rc = -nle_errno(r);
        }
        rt_close(sk);
    }
    rtnl_addr_put(a);
    return rc;
}

int tapcfg_route_add(int ifindex, const struct dev_prefix *dst, const uint8_t *gw, char *err,
                     size_t errlen)
{
    char ps[64];
    int alen = addr_len(dst->family);
    if (alen == 0 || dst->plen > alen * 8) {
        msg(err, errlen, "add route %s: not an IPv4 or IPv6 prefix",
            prefix_str(dst, ps, sizeof ps));
        return -EINVAL;
    }
    int rc = 0;
    struct rtnl_route *rt = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    struct nl_addr *d = nl_addr_build(dst->family, dst->addr, (size_t)alen);
    struct nl_addr *g = gw != NULL ? nl_addr_build(dst->family, gw, (size_t)alen) : NULL;
    if (rt == NULL || nh == NULL || d == NULL || (gw != NULL && g == NULL)) {
        msg(err, errlen, "add route: out of memory");
        rc = -ENOMEM;
        goto out;
    }
    nl_addr_set_prefixlen(d, dst->plen);
    rtnl_route_set_family(rt, (uint8_t)dst->family);
    rtnl_route_set_table(rt, RT_TABLE_MAIN);
    rtnl_route_set_protocol(rt, RTPROT_STATIC);
    rtnl_route_set_type(rt, RTN_UNICAST);
    /* On-link (no gateway) = scope link, like `ip route add P dev X`. */
    rtnl_route_set_scope(rt, g != NULL ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    int r = rtnl_route_set_dst(rt, d);
    if (r < 0) {
        msg(err, errlen, "add route %s: %s", prefix_str(dst, ps, sizeof ps), nl_geterror(r));
        rc = -nle_errno(r);
        goto out;
    }
    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (g != NULL)
        rtnl_route_nh_set_gateway(nh, g);
    rtnl_route_add_nexthop(rt, nh);
    nh = NULL; /* the route owns it now */

    struct nl_sock *sk = rt_open("add route", err, errlen, &rc);
    if (sk == NULL)
        goto out;
    r = rtnl_route_add(sk, rt, NLM_F_EXCL);
    if (r < 0) {
        char gs[INET6_ADDRSTRLEN] = "";
        if (gw != NULL)
            inet_ntop(dst->family, gw, gs, sizeof gs);
        msg(err, errlen, "add route %s%s%s on ifindex %d: %s", prefix_str(dst, ps, sizeof ps),
            gw != NULL ? " via " : "", gs, ifindex, nl_geterror(r));
        rc = -nle_errno(r);
    }
    rt_close(sk);
out:
    if (nh != NULL)
        rtnl_route_nh_free(nh);
    if (rt != NULL)
        rtnl_route_put(rt);
    if (d != NULL)
        nl_addr_put(d);
    if (g != NULL)
        nl_addr_put(g);
    return rc;
}

int tapcfg_link_get_mac(int ifindex, uint8_t mac[6])
{
    int rc = 0;
    struct nl_sock *sk = rt_open("get MAC", NULL, 0, &rc);
    if (sk == NULL)
        return rc;
    struct rtnl_link *link = NULL;
    int r = rtnl_link_get_kernel(sk, ifindex, NULL, &link);
    if (r < 0) {
        rc = r == -NLE_OBJ_NOTFOUND ? -ENODEV : -nle_errno(r);
    } else {
        struct nl_addr *a = rtnl_link_get_addr(link);
        if (a == NULL || nl_addr_get_len(a) != 6)
            rc = -ENOENT; /* not an Ethernet-like link */
        else
            memcpy(mac, nl_addr_get_binary_addr(a), 6);
        rtnl_link_put(link);
    }
    rt_close(sk);
    return rc;
}
