/* SPDX-License-Identifier: MIT */
/*
 * wskstack.h - stack lifecycle and configuration.
 *
 * A WSK client normally never includes this: WskRegister() builds the
 * process-default stack from the WSKSTACK_CONFIG environment variable.  This
 * header gives programs (tools, tests, labs) the same configuration keys
 * programmatically, several stacks in one process, and the counters.
 *
 * Configuration text: `key=value` pairs separated by `;` (keys repeatable
 * where it makes sense):
 *   tap=NAME          TAP to create (default: a free "wsk%d")
 *   mac=XX:..:XX      the stack's own MAC (default: locally administered,
 *                     different from the TAP's)
 *   mtu=N             68..65535 (default 1500)
 *   addr=A/P          an address of the stack (repeatable)
 *   gateway=A         default router (repeatable, one per family)
 *   host-addr=A/P     an address given to the kernel side of the TAP
 *                     (repeatable; added through libnl-route)
 *   slaac=on|off      IPv6 addresses from Router Advertisement prefixes
 *                     (RFC 4862 SLAAC; default on)
 * Unknown keys and malformed values are rejected with a message naming the
 * key.
 */
#ifndef WSKSTACK_H
#define WSKSTACK_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WSKSTACK_API __attribute__((visibility("default")))

struct wskstack;
struct wskstack_config;

/* ---- configuration ------------------------------------------------------- */
WSKSTACK_API struct wskstack_config *wskstack_config_new(void);
WSKSTACK_API void wskstack_config_free(struct wskstack_config *cfg);
/* Parse "k=v;k=v" text into cfg (adds to what is there).  0 on success,
 * -EINVAL with a message naming the key in err otherwise (cfg unchanged). */
WSKSTACK_API int wskstack_config_parse(struct wskstack_config *cfg, const char *text,
                                       char *err, size_t errlen);
/* Set one key. Same keys, same errors. */
WSKSTACK_API int wskstack_config_set(struct wskstack_config *cfg, const char *key,
                                     const char *value, char *err, size_t errlen);

/* ---- lifecycle ----------------------------------------------------------- */
/* Create the TAP, configure its kernel side, start the stack's threads.
 * 0 or -errno with a message; nothing half-configured is left behind. */
WSKSTACK_API int wskstack_create(const struct wskstack_config *cfg, struct wskstack **out,
                                 char *err, size_t errlen);
/* Stop the threads, delete the TAP, free everything.  All sockets must be
 * closed first (the WSK layer guarantees it). */
WSKSTACK_API void wskstack_destroy(struct wskstack *st);

WSKSTACK_API const char *wskstack_ifname(const struct wskstack *st);
WSKSTACK_API int wskstack_ifindex(const struct wskstack *st);
WSKSTACK_API void wskstack_mac(const struct wskstack *st, uint8_t mac[6]);

/* ---- counters (names as Linux nstat prints them) -------------------------- */
/* Value of a counter by name (e.g. "UdpInDatagrams"); -1 if no such name. */
WSKSTACK_API int64_t wskstack_counter(const struct wskstack *st, const char *name);
/* Iterate: name of counter i (NULL past the end) and its value. */
WSKSTACK_API const char *wskstack_counter_name(unsigned i);
WSKSTACK_API uint64_t wskstack_counter_value(const struct wskstack *st, unsigned i);
/* Print all non-zero counters as `nstat -j`-shaped JSON. */
WSKSTACK_API void wskstack_counters_json(const struct wskstack *st, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* WSKSTACK_H */
