/* SPDX-License-Identifier: MIT */
/*
 * config.c - WSKSTACK_CONFIG: "key=value;key=value" text into a
 * struct wskstack_config (config.h).  The keys are documented in wskstack.h.
 *
 * Rules of the text:
 *  - pairs are separated by ';'; empty segments (";;", a trailing ';') and
 *    whitespace around keys and values are ignored;
 *  - single-valued keys (tap, mac, mtu, slaac, trace, trace-format,
 *    trace-file, pcap) take the last value given;
 *    repeatable keys (addr, gateway, host-addr) append, up to their limit;
 *  - an unknown key or a malformed value fails the whole parse with -EINVAL
 *    and a message naming the key and the value; the configuration is then
 *    left exactly as it was (the text is parsed into a copy).
 */
#include "config.h"
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_SRC "WSKSTACK_CONFIG"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

WSKSTACK_API struct wskstack_config *wskstack_config_new(void)
{
    return calloc(1, sizeof(struct wskstack_config));
}

WSKSTACK_API void wskstack_config_free(struct wskstack_config *cfg)
{
    free(cfg);
}

/* ---- values ------------------------------------------------------------- */

/* Interface name or "%d" template, as the kernel's dev_valid_name() and
 * dev_alloc_name() accept it: 1..15 bytes, not "." or "..", no '/', ':' or
 * whitespace, and at most one '%' which must start "%d". */
static bool valid_ifname(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= 16 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
        return false;
    int pct = 0;
    for (const char *p = v; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == ':' || isspace(c) || c < 0x20 || c >= 0x7f)
            return false;
        if (c == '%') {
            if (p[1] != 'd' || ++pct > 1)
                return false;
        }
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly XX:XX:XX:XX:XX:XX. */
static bool parse_mac(const char *v, uint8_t mac[6])
{
    if (strlen(v) != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(v[3 * i]), lo = hexval(v[3 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        if (i < 5 && v[3 * i + 2] != ':')
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Unsigned decimal, digits only, in [lo, hi]. */
static bool parse_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (*v == '\0')
        return false;
    unsigned long n = 0;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (unsigned long)(*p - '0');
        if (n > hi)
            return false; /* also stops overflow */
    }
    if (n < lo)
        return false;
    *out = n;
    return true;
}

/* An address the stack (or the kernel side) can own or route through:
 * not unspecified, not multicast, not loopback, not the IPv4 limited
 * broadcast (RFC 1122 §3.2.1.3: these are never a host's own address). */
static bool usable_unicast(const struct ip_addr *a)
{
    if (ip_addr_is_any(a))
        return false;
    if (a->af == IPA_V4) {
        uint32_t x = a->v4;
        if ((x >> 28) == 0xe || x == 0xffffffffu || (x >> 24) == 127)
            return false;
        return true;
    }
    static const uint8_t loop6[16] = {[15] = 1};
    if (a->v6[0] == 0xff || memcmp(a->v6, loop6, 16) == 0)
        return false; /* RFC 4291 §2.7 multicast, §2.5.3 loopback */
    return true;
}

/* "A/P" into p. Returns NULL or the reason it is not one. */
static const char *parse_prefix(const char *v, struct cfg_prefix *p)
{
    const char *slash = strchr(v, '/');
    if (slash == NULL)
        return "is not ADDRESS/PREFIXLEN";
    char a[64];
    size_t alen = (size_t)(slash - v);
    if (alen == 0 || alen >= sizeof a)
        return "is not ADDRESS/PREFIXLEN";
    memcpy(a, v, alen);
    a[alen] = '\0';
    struct ip_addr ip;
    if (ip_addr_parse(a, &ip) != 0)
        return "is not ADDRESS/PREFIXLEN";
    unsigned long plen;
    if (!parse_uint(slash + 1, 0, ip.af == IPA_V4 ? 32 : 128, &plen))
        return ip.af == IPA_V4 ? "has a prefix length outside 0..32"
                               : "has a prefix length outside 0..128";
    if (!usable_unicast(&ip))
        return "is not a unicast address";
    p->addr = ip;
    p->plen = (uint8_t)plen;
    return NULL;
}

/* ---- keys ---------------------------------------------------------------- */

/* key and value are trimmed, NUL-terminated.  Applies to cfg. */
static int apply(struct wskstack_config *cfg, const char *key, const char *v, char *err,
                 size_t errlen)
{
    if (strcmp(key, "tap") == 0) {
        if (!valid_ifname(v))
            return fail(err, errlen,
                        "tap: \"%.64s\" is not a valid interface name (1-15 characters, "
                        "no '/', ':' or spaces, at most one %%d)", v);
        snprintf(cfg->tap, sizeof cfg->tap, "%s", v);
        return 0;
    }
    if (strcmp(key, "mac") == 0) {
        uint8_t mac[6];
        if (!parse_mac(v, mac))
            return fail(err, errlen, "mac: \"%.64s\" is not a MAC address XX:XX:XX:XX:XX:XX", v);
        /* IEEE 802: the I/G bit set means a group address, never a source. */
        if (mac[0] & 1)
            return fail(err, errlen, "mac: \"%.64s\" is a multicast MAC, not a unicast one", v);
        static const uint8_t zero[6];
        if (memcmp(mac, zero, 6) == 0)
            return fail(err, errlen, "mac: \"%.64s\" is the all-zero MAC, not a usable one", v);
        cfg->has_mac = true;
        memcpy(cfg->mac, mac, 6);
        return 0;
    }
    if (strcmp(key, "mtu") == 0) {
        unsigned long mtu;
        /* 68: RFC 791 minimum; 65535: the largest IPv4 datagram and the
         * largest MTU the kernel's TAP accepts. */
        if (!parse_uint(v, 68, 65535, &mtu))
            return fail(err, errlen, "mtu: \"%.64s\" is not a number between 68 and 65535", v);
        cfg->mtu = (uint32_t)mtu;
        return 0;
    }
    if (strcmp(key, "addr") == 0 || strcmp(key, "host-addr") == 0) {
        bool host = key[0] == 'h';
        struct cfg_prefix *tab = host ? cfg->host_addrs : cfg->addrs;
        unsigned *n = host ? &cfg->n_host_addrs : &cfg->n_addrs;
        struct cfg_prefix p;
        const char *why = parse_prefix(v, &p);
        if (why != NULL)
            return fail(err, errlen, "%s: \"%.64s\" %s", key, v, why);
        if (*n >= CFG_MAX_ADDRS)
            return fail(err, errlen, "%s: \"%.64s\" is one too many (at most %d)", key, v,
                        CFG_MAX_ADDRS);
        tab[(*n)++] = p;
        return 0;
    }
    if (strcmp(key, "gateway") == 0) {
        struct ip_addr gw;
        if (ip_addr_parse(v, &gw) != 0)
            return fail(err, errlen, "gateway: \"%.64s\" is not an IPv4 or IPv6 address", v);
        if (!usable_unicast(&gw))
            return fail(err, errlen, "gateway: \"%.64s\" is not a unicast address", v);
        if (cfg->n_gateways >= CFG_MAX_GATEWAYS)
            return fail(err, errlen, "gateway: \"%.64s\" is one too many (at most %d)", v,
                        CFG_MAX_GATEWAYS);
        cfg->gateways[cfg->n_gateways++] = gw;
        return 0;
    }
    if (strcmp(key, "slaac") == 0) {
        /* Stateless address autoconfiguration from Router Advertisement
         * prefixes (RFC 4862 §5.5): on by default. */
        if (strcmp(v, "on") == 0)
            cfg->slaac_off = false;
        else if (strcmp(v, "off") == 0)
            cfg->slaac_off = true;
        else
            return fail(err, errlen, "slaac: \"%.64s\" is not on or off", v);
        return 0;
    }
    if (strcmp(key, "trace") == 0) {
        /* The decision trace (trace.h): which layers. */
        uint32_t mask;
        char bad[40];
        if (trace_parse_layers(v, &mask, bad, sizeof bad) != 0)
            return fail(err, errlen,
                        "trace: \"%s\" is not a layer (all, none, or a list of link, arp, nd, "
                        "ipv4, ipv6, frag, icmp, icmpv6, udp, wsk, irp)", bad);
        cfg->trace_mask = mask;
        return 0;
    }
    if (strcmp(key, "trace-format") == 0) {
        if (strcmp(v, "text") == 0)
            cfg->trace_json = false;
        else if (strcmp(v, "json") == 0)
            cfg->trace_json = true;
        else
            return fail(err, errlen, "trace-format: \"%.64s\" is not text or json", v);
        return 0;
    }
    if (strcmp(key, "trace-file") == 0 || strcmp(key, "pcap") == 0) {
        bool is_pcap = key[0] == 'p';
        char *dst = is_pcap ? cfg->pcap : cfg->trace_file;
        /* The value has at most 255 characters (parse_segment), so it fits. */
        if (v[0] == '\0')
            return fail(err, errlen, "%s: a file name is needed%s", key,
                        is_pcap ? " (or - for stdout)" : "");
        snprintf(dst, 256, "%s", v);
        return 0;
    }
    return fail(err, errlen, "unknown key \"%.64s\" in " CFG_SRC, key);
}

/* Trim [*b, *e) of surrounding whitespace. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* One "key=value" segment [b, e), not empty after trimming. */
static int parse_segment(struct wskstack_config *cfg, const char *b, const char *e, char *err,
                         size_t errlen)
{
    const char *eq = memchr(b, '=', (size_t)(e - b));
    char key[64], val[256];
    if (eq == NULL) {
        int n = (int)(e - b);
        return fail(err, errlen, "\"%.*s\" is not key=value in " CFG_SRC, n > 64 ? 64 : n, b);
    }
    const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
    trim(&kb, &ke);
    trim(&vb, &ve);
    size_t kn = (size_t)(ke - kb), vn = (size_t)(ve - vb);
    if (kn == 0)
        return fail(err, errlen, "empty key before \"=%.*s\" in " CFG_SRC,
                    (int)(vn > 64 ? 64 : vn), vb);
    if (kn >= sizeof key)
        return fail(err, errlen, "unknown key \"%.*s...\" in " CFG_SRC, 32, kb);
    memcpy(key, kb, kn);
    key[kn] = '\0';
    if (vn >= sizeof val)
        return fail(err, errlen, "%s: value of %zu characters is too long", key, vn);
    memcpy(val, vb, vn);
    val[vn] = '\0';
    return apply(cfg, key, val, err, errlen);
}

WSKSTACK_API int wskstack_config_parse(struct wskstack_config *cfg, const char *text, char *err,
                                       size_t errlen)
{
    if (cfg == NULL || text == NULL)
        return fail(err, errlen, CFG_SRC ": no configuration or no text");
    struct wskstack_config copy = *cfg;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        const char *b = p, *e = end;
        trim(&b, &e);
        if (b < e) {
            int rc = parse_segment(&copy, b, e, err, errlen);
            if (rc != 0)
                return rc;
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *cfg = copy;
    return 0;
}

WSKSTACK_API int wskstack_config_set(struct wskstack_config *cfg, const char *key,
                                     const char *value, char *err, size_t errlen)
{
    if (cfg == NULL || key == NULL || value == NULL)
        return fail(err, errlen, CFG_SRC ": no configuration, key or value");
    const char *kb = key, *ke = key + strlen(key);
    const char *vb = value, *ve = value + strlen(value);
    trim(&kb, &ke);
    trim(&vb, &ve);
    char k[64], v[256];
    size_t kn = (size_t)(ke - kb), vn = (size_t)(ve - vb);
    if (kn == 0)
        return fail(err, errlen, "empty key in " CFG_SRC);
    if (kn >= sizeof k)
        return fail(err, errlen, "unknown key \"%.*s...\" in " CFG_SRC, 32, kb);
    memcpy(k, kb, kn);
    k[kn] = '\0';
    if (vn >= sizeof v)
        return fail(err, errlen, "%s: value of %zu characters is too long", k, vn);
    memcpy(v, vb, vn);
    v[vn] = '\0';
    /* apply() writes cfg only when the value is valid: no copy needed. */
    return apply(cfg, k, v, err, errlen);
}
