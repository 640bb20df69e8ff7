/* SPDX-License-Identifier: MIT */
/*
 * listing.c - the stack's tables as `ip` prints them (issue 6): neighbours
 * (ip neigh), routes (ip route + ip -6 route), addresses (ip addr) and the
 * interface statistics (ip -j -s link), in text or in JSON shaped like
 * `ip -j`, so a lab can put the stack's view next to the kernel's.
 *
 * The tables are copied under st->lock into local arrays, sorted, and
 * printed after unlocking: no I/O is ever done with st->lock held (stack.h).
 *
 * Text forms (one line per entry, <dev> = the TAP's name):
 *   neigh   "192.0.2.1 dev <dev> lladdr 02:00:5e:00:53:01 REACHABLE"
 *           "2001:db8::1 dev <dev> lladdr ... router STALE"
 *           "192.0.2.9 dev <dev> INCOMPLETE"; static entries: PERMANENT
 *   routes  "default via 192.0.2.1 dev <dev>"
 *           "192.0.2.0/24 dev <dev> proto kernel scope link src 192.0.2.2"
 *           "2001:db8::/64 dev <dev> proto kernel"             (addr=)
 *           "2001:db8:1::/64 dev <dev> proto ra expires 86399sec" (RA)
 *           "fe80::/10 dev <dev> proto kernel scope link"  (always on-link)
 *           "default via fe80::1 dev <dev> proto ra expires 1799sec"
 *           IPv4 first (by address), then IPv6 prefixes (by address), then
 *           the IPv6 Default Router List in its order.
 *   addrs   "<ifindex>: <dev>: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500"
 *           "    link/ether 02:... brd ff:ff:ff:ff:ff:ff"
 *           "    inet 192.0.2.2/24 scope global"
 *           "    inet6 2001:db8::2/64 scope global tentative"
 *           "    inet6 2001:db8:1::.../64 scope global dynamic proto kernel_ra"
 *           "    inet6 fe80::.../64 scope link proto kernel_ll"
 *           IPv6 flags: tentative (DAD running), "tentative dadfailed"
 *           (duplicate), deprecated; dynamic = SLAAC.
 */
#include "stack/stack_impl.h"
#include "stack/ipv6_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX_NEIGH 512   /* NEIGH_MAX + ND_MAX */
#define LIST_MAX_ROUTES 256

static const char *mac_str(const uint8_t m[ETH_ALEN], char b[18])
{
    snprintf(b, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return b;
}

/* Address order: IPv4 before IPv6, then by value. */
static int ip_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
    if (a->af != b->af)
        return a->af < b->af ? -1 : 1;
    if (a->af == IPA_V4)
        return a->v4 < b->v4 ? -1 : a->v4 > b->v4;
    return memcmp(a->v6, b->v6, 16);
}

/* ---- neighbours ---------------------------------------------------------------- */

static int neigh_cmp(const void *x, const void *y)
{
    return ip_cmp(&((const struct neigh_info *)x)->ip, &((const struct neigh_info *)y)->ip);
}

WSKSTACK_API int wskstack_list_neigh(struct wskstack *st, FILE *out, int json)
{
    struct neigh_info *v = calloc(LIST_MAX_NEIGH, sizeof *v);
    if (!v)
        return -ENOMEM;
    unsigned n = 0;
    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; n < LIST_MAX_NEIGH; i++) {
        int r = neigh_at(st, i, &v[n]);
        if (r < 0)
            break;
        n += (unsigned)r;
    }
    for (unsigned i = 0; n < LIST_MAX_NEIGH; i++) {
        int r = nd_neigh_at(st, i, &v[n]);
        if (r < 0)
            break;
        n += (unsigned)r;
    }
    pthread_mutex_unlock(&st->lock);
    qsort(v, n, sizeof *v, neigh_cmp);

    const char *dev = st->dev->name;
    if (json)
        fputc('[', out);
    for (unsigned i = 0; i < n; i++) {
        char a[64], m[18];
        ip_addr_str(&v[i].ip, a, sizeof a);
        mac_str(v[i].mac, m);
        if (json) {
            /* ip -j neigh: flags such as "router" are keys with a null value */
            fprintf(out, "%s{\"dst\":\"%s\",\"dev\":\"%s\"", i ? "," : "", a, dev);
            if (v[i].has_mac)
                fprintf(out, ",\"lladdr\":\"%s\"", m);
            if (v[i].is_router)
                fputs(",\"router\":null", out);
            fprintf(out, ",\"state\":[\"%s\"]}", v[i].state);
        } else {
            fprintf(out, "%s dev %s", a, dev);
            if (v[i].has_mac)
                fprintf(out, " lladdr %s", m);
            if (v[i].is_router)
                fputs(" router", out);
            fprintf(out, " %s\n", v[i].state);
        }
    }
    if (json)
        fputs("]\n", out);
    free(v);
    return 0;
}

/* ---- routes -------------------------------------------------------------------- */

struct route_row {
    struct ip_addr dst;
    uint8_t plen;
    bool has_gw;
    struct ip_addr gw;
    const char *proto;        /* "kernel", "ra", "static" or NULL */
    bool scope_link;
    bool has_src;
    struct ip_addr src;
    bool expires;             /* a finite lifetime */
    uint64_t expires_s;
};

struct route_collect {
    struct wskstack *st;
    struct route_row *r;
    unsigned n;
    uint64_t now;
};

static void collect4(void *ctx, uint32_t dst, uint8_t plen, uint32_t gw)
{
    struct route_collect *c = ctx;
    if (c->n == LIST_MAX_ROUTES)
        return;
    struct route_row *r = &c->r[c->n++];
    memset(r, 0, sizeof *r);
    r->dst = ip4(dst);
    r->plen = plen;
    if (gw) {
        r->has_gw = true;
        r->gw = ip4(gw);
        return;
    }
    /* A connected route (addr=): the kernel's "proto kernel scope link src". */
    r->proto = "kernel";
    r->scope_link = true;
    uint32_t m = plen == 0 ? 0 : 0xffffffffu << (32 - plen);
    for (unsigned i = 0; i < c->st->n_addr4; i++)
        if ((c->st->addr4[i].addr & m) == dst && c->st->addr4[i].plen == plen) {
            r->has_src = true;
            r->src = ip4(c->st->addr4[i].addr);
            break;
        }
}

static void collect6(void *ctx, const uint8_t dst[16], uint8_t plen, const uint8_t *gw,
                     uint64_t expires_ns)
{
    struct route_collect *c = ctx;
    if (c->n == LIST_MAX_ROUTES)
        return;
    struct route_row *r = &c->r[c->n++];
    memset(r, 0, sizeof *r);
    r->dst.af = IPA_V6;
    memcpy(r->dst.v6, dst, 16);
    r->plen = plen;
    if (gw) {
        r->has_gw = true;
        r->gw.af = IPA_V6;
        memcpy(r->gw.v6, gw, 16);
    }
    if (expires_ns == 0) {
        r->proto = gw ? "static" : "kernel";
    } else {
        r->proto = "ra";
        if (expires_ns != UINT64_MAX) {
            r->expires = true;
            r->expires_s = expires_ns > c->now ? (expires_ns - c->now) / 1000000000ull : 0;
        }
    }
}

/* Table routes of one family, by destination then prefix length (the
 * Default Router List is printed after them, in its own order). */
static int route_cmp(const void *x, const void *y)
{
    const struct route_row *a = x, *b = y;
    int c = ip_cmp(&a->dst, &b->dst);
    if (c)
        return c;
    return a->plen < b->plen ? -1 : a->plen > b->plen;
}

static void print_route(FILE *out, const struct route_row *r, const char *dev, bool json,
                        bool first)
{
    char d[64], g[64], s[64];
    ip_addr_str(&r->dst, d, sizeof d);
    bool dflt = r->plen == 0;
    if (json) {
        fputs(first ? "{" : ",{", out);
        if (dflt)
            fputs("\"dst\":\"default\"", out);
        else
            fprintf(out, "\"dst\":\"%s/%u\"", d, r->plen);
        if (r->has_gw)
            fprintf(out, ",\"gateway\":\"%s\"", ip_addr_str(&r->gw, g, sizeof g));
        fprintf(out, ",\"dev\":\"%s\"", dev);
        if (r->proto)
            fprintf(out, ",\"protocol\":\"%s\"", r->proto);
        if (r->scope_link)
            fputs(",\"scope\":\"link\"", out);
        if (r->has_src)
            fprintf(out, ",\"prefsrc\":\"%s\"", ip_addr_str(&r->src, s, sizeof s));
        if (r->expires)
            fprintf(out, ",\"expires\":%llu", (unsigned long long)r->expires_s);
        fputs(",\"flags\":[]}", out);
        return;
    }
    if (dflt)
        fputs("default", out);
    else
        fprintf(out, "%s/%u", d, r->plen);
    if (r->has_gw)
        fprintf(out, " via %s", ip_addr_str(&r->gw, g, sizeof g));
    fprintf(out, " dev %s", dev);
    if (r->proto)
        fprintf(out, " proto %s", r->proto);
    if (r->scope_link)
        fputs(" scope link", out);
    if (r->has_src)
        fprintf(out, " src %s", ip_addr_str(&r->src, s, sizeof s));
    if (r->expires)
        fprintf(out, " expires %llusec", (unsigned long long)r->expires_s);
    fputc('\n', out);
}

WSKSTACK_API int wskstack_list_routes(struct wskstack *st, FILE *out, int json)
{
    struct route_row *rows = calloc(LIST_MAX_ROUTES + 1, sizeof *rows);
    if (!rows)
        return -ENOMEM;
    struct route_collect c = {.st = st, .r = rows, .now = stack_now(st)};
    pthread_mutex_lock(&st->lock);
    route4_walk(st, collect4, &c);
    unsigned n4 = c.n;
    if (st->nd) {
        route6_walk(st, collect6, &c);
        /* RFC 4291 §2.5.6: link-local destinations are always on-link
         * (route6_lookup), the table holds no entry for them. */
        if (c.n < LIST_MAX_ROUTES) {
            struct route_row *r = &rows[c.n++];
            memset(r, 0, sizeof *r);
            r->dst.af = IPA_V6;
            r->dst.v6[0] = 0xfe;
            r->dst.v6[1] = 0x80;
            r->plen = 10;
            r->proto = "kernel";
            r->scope_link = true;
        }
    }
    unsigned n6 = c.n - n4;
    /* The Default Router List, in its order (§6.3.6 picks from the front). */
    unsigned nr = 0;
    struct route_row routers[8 + 1];
    uint8_t ra[16];
    uint64_t exp;
    for (unsigned i = 0; st->nd && nr < 8 && route6_router_get(st, i, ra, &exp); i++) {
        struct route_row *r = &routers[nr++];
        memset(r, 0, sizeof *r);
        r->dst.af = IPA_V6;
        r->has_gw = true;
        r->gw.af = IPA_V6;
        memcpy(r->gw.v6, ra, 16);
        if (exp == UINT64_MAX) {
            r->proto = "static";
        } else {
            r->proto = "ra";
            r->expires = true;
            r->expires_s = exp > c.now ? (exp - c.now) / 1000000000ull : 0;
        }
    }
    pthread_mutex_unlock(&st->lock);
    qsort(rows, n4, sizeof *rows, route_cmp);
    qsort(rows + n4, n6, sizeof *rows, route_cmp);

    const char *dev = st->dev->name;
    bool first = true;
    if (json)
        fputc('[', out);
    for (unsigned i = 0; i < c.n; i++, first = false)
        print_route(out, &rows[i], dev, json, first);
    for (unsigned i = 0; i < nr; i++, first = false)
        print_route(out, &routers[i], dev, json, first);
    if (json)
        fputs("]\n", out);
    free(rows);
    return 0;
}

/* ---- addresses and the link ----------------------------------------------------- */

static void link_head_json(struct wskstack *st, FILE *out)
{
    char m[18];
    fprintf(out, "{\"ifindex\":%u,\"ifname\":\"%s\",\"flags\":[\"BROADCAST\",\"MULTICAST\",\"UP\","
                 "\"LOWER_UP\"],\"mtu\":%u,\"link_type\":\"ether\",\"address\":\"%s\","
                 "\"broadcast\":\"ff:ff:ff:ff:ff:ff\"",
            st->ifindex, st->dev->name, st->mtu, mac_str(st->mac, m));
}

WSKSTACK_API int wskstack_list_addrs(struct wskstack *st, FILE *out, int json)
{
    char m[18], a[64];
    if (json) {
        fputc('[', out);
        link_head_json(st, out);
        fputs(",\"addr_info\":[", out);
    } else {
        fprintf(out, "%u: %s: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu %u\n", st->ifindex,
                st->dev->name, st->mtu);
        fprintf(out, "    link/ether %s brd ff:ff:ff:ff:ff:ff\n", mac_str(st->mac, m));
    }
    bool first = true;
    /* IPv4: read-only after creation (stack_impl.h): no lock. */
    for (unsigned i = 0; i < st->n_addr4; i++, first = false) {
        struct ip_addr x = ip4(st->addr4[i].addr);
        ip_addr_str(&x, a, sizeof a);
        if (json)
            fprintf(out, "%s{\"family\":\"inet\",\"local\":\"%s\",\"prefixlen\":%u,"
                         "\"scope\":\"global\"}", first ? "" : ",", a, st->addr4[i].plen);
        else
            fprintf(out, "    inet %s/%u scope global\n", a, st->addr4[i].plen);
    }
    /* IPv6: addr6_get takes the table's own lock for each entry. */
    uint8_t v6[16], plen;
    enum addr6_state s;
    enum addr6_origin o;
    for (unsigned i = 0; st->addr6 && i < 256 && addr6_get(st, i, v6, &plen, &s, &o);
         i++, first = false) {
        struct ip_addr x = {.af = IPA_V6};
        memcpy(x.v6, v6, 16);
        ip_addr_str(&x, a, sizeof a);
        bool link = rfc6724_scope(v6) <= RFC6724_SCOPE_LINK;
        const char *proto = o == ADDR6_LINKLOCAL ? "kernel_ll" : o == ADDR6_SLAAC ? "kernel_ra" : NULL;
        if (json) {
            fprintf(out, "%s{\"family\":\"inet6\",\"local\":\"%s\",\"prefixlen\":%u,\"scope\":\"%s\"",
                    first ? "" : ",", a, plen, link ? "link" : "global");
            if (o == ADDR6_SLAAC)
                fputs(",\"dynamic\":true", out);
            if (s == ADDR6_TENTATIVE || s == ADDR6_DUPLICATE)
                fputs(",\"tentative\":true", out);
            if (s == ADDR6_DUPLICATE)
                fputs(",\"dadfailed\":true", out);
            if (s == ADDR6_DEPRECATED)
                fputs(",\"deprecated\":true", out);
            if (proto)
                fprintf(out, ",\"protocol\":\"%s\"", proto);
            fputc('}', out);
        } else {
            fprintf(out, "    inet6 %s/%u scope %s%s%s%s%s%s%s\n", a, plen, link ? "link" : "global",
                    o == ADDR6_SLAAC ? " dynamic" : "",
                    s == ADDR6_TENTATIVE || s == ADDR6_DUPLICATE ? " tentative" : "",
                    s == ADDR6_DUPLICATE ? " dadfailed" : "",
                    s == ADDR6_DEPRECATED ? " deprecated" : "", proto ? " proto " : "",
                    proto ? proto : "");
        }
    }
    if (json)
        fputs("]}]\n", out);
    return 0;
}

static uint64_t cnt(const struct wskstack *st, enum wss_counter c)
{
    return atomic_load_explicit((_Atomic uint64_t *)&st->cnt[c], memory_order_relaxed);
}

/* `ip -j -s link` for the one interface: the stats64 block from the If*
 * counters.  rx dropped: frames not for us or looped (IfInDiscards) and
 * unknown EtherTypes (IfInUnknownProtos); errors: runts and oversize
 * (IfInErrors).  tx dropped: no buffer (IfOutDiscards); errors: the device
 * write failed (IfOutErrors). */
WSKSTACK_API int wskstack_link_json(struct wskstack *st, FILE *out)
{
    fputc('[', out);
    link_head_json(st, out);
    fprintf(out, ",\"stats64\":{\"rx\":{\"bytes\":%llu,\"packets\":%llu,\"errors\":%llu,"
                 "\"dropped\":%llu},\"tx\":{\"bytes\":%llu,\"packets\":%llu,\"errors\":%llu,"
                 "\"dropped\":%llu}}}]\n",
            (unsigned long long)cnt(st, CNT_IfInBytes), (unsigned long long)cnt(st, CNT_IfInPackets),
            (unsigned long long)cnt(st, CNT_IfInErrors),
            (unsigned long long)(cnt(st, CNT_IfInDiscards) + cnt(st, CNT_IfInUnknownProtos)),
            (unsigned long long)cnt(st, CNT_IfOutBytes), (unsigned long long)cnt(st, CNT_IfOutPackets),
            (unsigned long long)cnt(st, CNT_IfOutErrors), (unsigned long long)cnt(st, CNT_IfOutDiscards));
    return 0;
}
