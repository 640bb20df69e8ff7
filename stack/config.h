/* SPDX-License-Identifier: MIT */
/* The parsed form of WSKSTACK_CONFIG (see wskstack.h for the keys). */
#ifndef WSS_CONFIG_H
#define WSS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "stack.h"

#define CFG_MAX_ADDRS 16
#define CFG_MAX_GATEWAYS 4

struct cfg_prefix {
    struct ip_addr addr;
    uint8_t plen;
};

struct wskstack_config {
    char tap[16];                 /* "" = default "wsk%d" */
    bool has_mac;
    uint8_t mac[6];
    uint32_t mtu;                 /* 0 = default 1500 */
    struct cfg_prefix addrs[CFG_MAX_ADDRS];       /* addr= (in order) */
    unsigned n_addrs;
    struct ip_addr gateways[CFG_MAX_GATEWAYS];    /* gateway= */
    unsigned n_gateways;
    struct cfg_prefix host_addrs[CFG_MAX_ADDRS];  /* host-addr= */
    unsigned n_host_addrs;
    bool slaac_off;               /* slaac=off: no addresses from RA prefixes
                                     (RFC 4862 §5.5.3); default (false) = on */
    /* issue 6: trace and capture (trace.h, pcap.c) */
    uint32_t trace_mask;          /* trace=: TRACE_* bits, 0 = off */
    bool trace_json;              /* trace-format=json (default text) */
    char trace_file[256];         /* trace-file=: "" = stderr */
    char pcap[256];               /* pcap=: "" = off, "-" = stdout */
};

#endif
