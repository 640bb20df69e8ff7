/* SPDX-License-Identifier: MIT */
/*
 * ipaddr.c - struct ip_addr helpers: compare, "any" test, text <-> binary.
 *
 * IPv4 text is parsed strictly: exactly four decimal parts 0..255 separated by
 * dots, one to three digits each, no leading zeros.  inet_aton() would also
 * accept "1", "0x7f.1" or "010.0.0.1" (octal!) - forms that mean something
 * different to every reader, so a configuration value in one of them is
 * rejected rather than guessed at.  IPv6 text goes through inet_pton(), which
 * follows RFC 4291 §2.2 (no zone index: "fe80::1%eth0" is rejected).
 */
#include "stack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
    if (a->af != b->af)
        return false;
    switch (a->af) {
    case IPA_V4:
        return a->v4 == b->v4;
    case IPA_V6:
        return memcmp(a->v6, b->v6, 16) == 0;
    default:
        return true; /* two IPA_NONE are the same "no address" */
    }
}

bool ip_addr_is_any(const struct ip_addr *a)
{
    static const uint8_t zero16[16];
    switch (a->af) {
    case IPA_V4:
        return a->v4 == 0;
    case IPA_V6:
        return memcmp(a->v6, zero16, 16) == 0;
    default:
        return true;
    }
}

/* Strict dotted quad (see the file comment).  0 and the host-order value, or
 * -EINVAL. */
static int parse_v4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (*s != '.')
                return -EINVAL;
            s++;
        }
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
            return -EINVAL; /* leading zero: octal to inet_aton */
        unsigned n = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 3)
                return -EINVAL;
            n = n * 10 + (unsigned)(*s - '0');
            s++;
        }
        if (n > 255)
            return -EINVAL;
        v = (v << 8) | n;
    }
    if (*s != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

int ip_addr_parse(const char *s, struct ip_addr *out)
{
    if (s == NULL || out == NULL)
        return -EINVAL;
    if (strchr(s, ':') != NULL) {
        struct ip_addr r = {.af = IPA_V6};
        if (inet_pton(AF_INET6, s, r.v6) != 1)
            return -EINVAL;
        *out = r;
        return 0;
    }
    uint32_t v4;
    if (parse_v4(s, &v4) != 0)
        return -EINVAL;
    *out = ip4(v4);
    return 0;
}

const char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return buf;
    char tmp[INET6_ADDRSTRLEN];
    switch (a->af) {
    case IPA_V4:
        snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", (unsigned)(a->v4 >> 24) & 0xff,
                 (unsigned)(a->v4 >> 16) & 0xff, (unsigned)(a->v4 >> 8) & 0xff,
                 (unsigned)a->v4 & 0xff);
        break;
    case IPA_V6:
        if (inet_ntop(AF_INET6, a->v6, tmp, sizeof tmp) == NULL)
            snprintf(tmp, sizeof tmp, "?");
        break;
    default:
        snprintf(tmp, sizeof tmp, "(none)");
        break;
    }
    snprintf(buf, len, "%s", tmp);
    return buf;
}
