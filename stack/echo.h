/* SPDX-License-Identifier: MIT */
/*
 * echo.h - the hooks through which icmp.c and icmpv6.c hand echo replies
 * and ICMP errors to the ping API of stack/echo.c (wskstack_ping_* in
 * include/wskstack.h).  Private to stack/.
 *
 * Both are called on the receive thread, without st->lock, by
 * icmp(v6)_input for each valid (checksum-verified) echo reply and error
 * message, right after it counted the message (so a tool that saw the reply
 * also sees it counted).  They never take p: they look at r (and the datagram r->data quotes,
 * for an error), copy what a ping handle wants, and return.  Messages that
 * are not an echo reply or an error about one of our echo requests are
 * ignored at once (one mutex and a list walk when a ping handle is open,
 * nothing when none is).
 */
#ifndef WSS_ECHO_H
#define WSS_ECHO_H

#include "stack/stack_impl.h"
#include "stack/wire/wire6.h"

void echo_icmp_input(struct wskstack *st, const struct ipv4_repr *ip, const struct icmp_repr *r,
                     uint64_t now);
void echo_icmpv6_input(struct wskstack *st, const struct ipv6_repr *ip,
                       const struct icmpv6_repr *r, uint64_t now);

#endif /* WSS_ECHO_H */
