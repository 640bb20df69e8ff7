/* SPDX-License-Identifier: MIT */
/*
 * reasm.h - fragment reassembly, one engine for IPv4 (RFC 791 §3.2,
 * RFC 1122 §3.3.2) and IPv6 (RFC 8200 §4.5).  The engine knows nothing of
 * either header format: the caller parses its header, hands over the
 * fragment's offset, M flag and data, and gets back either nothing yet, the
 * whole datagram, or a reason the fragment was dropped.
 *
 * THREAD MODEL: the reassembly state (st->reasm) is touched only by the
 * RECEIVE THREAD (stack.h CONCURRENCY MODEL): reasm_add from ipv4_input /
 * ipv6 input, reasm_timer / reasm_next_timer from the receive loop (or
 * stack_poll on a STACK_NO_THREAD stack), reasm_init / reasm_fini while no
 * receive thread runs.  It takes no lock and needs none.  reasm_mem() and
 * reasm_count() are for tests on a STACK_NO_THREAD stack.
 *
 * Rules (BAD-INPUT.md D.17-D.20, J.42, V4), applied to both families:
 *  - key (family, src, dst, id, proto): RFC 791 §3.2 for IPv4 (16-bit id +
 *    protocol); RFC 8200 §4.5 for IPv6 (32-bit id; the IPv6 caller passes
 *    proto = 0, the key is source, destination and identification only);
 *  - fragments may arrive in any order; an EXACT duplicate (same offset,
 *    same length, same bytes) is ignored (REASM_KEPT);
 *  - ANY other overlap (partial, subset, superset, same range with other
 *    bytes, with fragment 0 or not) kills the datagram: its fragments are
 *    freed and the key stays dead until the datagram's timeout, every later
 *    fragment of it being dropped (RFC 5722 §4, applied to IPv4 too, as
 *    Linux and gVisor do);
 *  - non-final fragment whose length is not a multiple of 8: the fragment is
 *    dropped (RFC 8200 §4.5: the IPv6 caller answers Parameter Problem code
 *    0 pointing at Payload Length; RFC 791: IPv4 just drops);
 *  - zero-length fragment (final or not): the fragment is dropped (it
 *    carries nothing; FreeBSD ip_reass / frag6 do the same);
 *  - the reassembled datagram would exceed 65535 bytes (RFC 791 total
 *    length; RFC 8200 §4.5 payload length; Ping of Death): the fragment is
 *    dropped (the IPv6 caller answers Parameter Problem code 0 pointing at
 *    the Fragment Offset field);
 *  - a fragment beyond a known end (M=1 reaching the end of the last
 *    fragment, data after it, or two different last fragments): the
 *    datagram is killed, as for an overlap (RFC 5722 §4 spirit; Linux
 *    ip_frag_queue "corrupted");
 *  - at most REASM_MAX_FRAGS fragments per datagram: the next one kills it
 *    (OpenBSD: 64 accepted, 65 dropped);
 *  - all reassembly memory of a stack (fragment data, headers and the
 *    bookkeeping structures, see reasm_mem()) is capped: after a fragment is
 *    stored, if the total is above REASM_MEM_HIGH the OLDEST datagrams (live
 *    or dead) are discarded until it is at most REASM_MEM_LOW (gVisor; Linux
 *    ipfrag_high/low_thresh).  So memory never exceeds REASM_MEM_HIGH once
 *    reasm_add returns;
 *  - timeout counted from the first-arriving fragment, never extended
 *    (RFC 8200 §4.5): REASM_TIMEOUT_V4_NS (30 s, as Linux and gVisor; RFC
 *    1122 §3.3.2 lets the host pick it), REASM_TIMEOUT_V6_NS (60 s, RFC
 *    8200 §4.5).  At the timeout the fragments are freed; if fragment 0 was
 *    held the caller is told to send Time Exceeded code 1 (RFC 792, RFC
 *    1122 §3.3.2, RFC 8200 §4.5), quoting fragment 0.
 * CPU: one keyed-hash lookup (SipHash-2-4, per-stack random key, so an
 * attacker cannot aim at one chain) and one walk of that datagram's sorted
 * fragment list (at most REASM_MAX_FRAGS entries) per fragment; dead keys
 * cost O(1) per fragment (FragmentSmack, CVE-2018-5391).  Timers are O(1)
 * per expired datagram: each family keeps its datagrams in arrival order,
 * which is expiry order because the timeout of a family is constant.
 *
 * COUNTERS (the engine counts them itself, per family: IpReasm* for IPv4,
 * Ip6Reasm* for IPv6; names as Linux nstat prints them):
 *  - Reqds   +1 per reasm_add call (every fragment that enters the engine);
 *  - OKs     +1 per datagram returned complete (REASM_DONE);
 *  - Fails   +1 per FAILURE EVENT (RFC 4293 ipSystemStatsReasmFails: "for
 *            whatever reason"): each reasm_add that returns < 0, except
 *            REASM_ENOMEM for the fragment's own datagram being evicted
 *            (the eviction was the failure, counted once); each live
 *            datagram discarded by the timer or by memory pressure;
 *  - Timeout +1 per live datagram discarded by the timer (it is also a Fail,
 *            as in Linux ip_expire).
 * Killing a datagram counts ONE failure, however many fragments it held;
 * dead keys are freed silently.  Fragments the caller rejects before calling
 * the engine (see below) are counted by the caller (Reqds + Fails).
 *
 * HOW IPv4 CALLS IT (ipv4.c): key = {src, dst (IPA_V4), id, proto};
 * offset = Fragment Offset * 8; more = MF; data = the payload after the
 * header (total length - IHL*4 bytes); hdr = the IPv4 header with its
 * options (IHL*4 bytes).  REASM_DONE gives a pkt holding fragment 0's
 * header followed by the whole payload; ipv4_input rewrites Total Length,
 * clears MF/offset, recomputes the header checksum and continues as for an
 * unfragmented datagram.
 *
 * HOW IPv6 SHOULD CALL IT:
 *  - before the engine, in the caller: a Fragment header with offset 0 and
 *    M=0 is an ATOMIC FRAGMENT (RFC 6946 §4): process it alone, never call
 *    reasm_add (a pending reassembly with the same id stays untouched);
 *    a first fragment (offset 0) that does not contain the whole header
 *    chain up to and including the upper-layer header is dropped by the
 *    caller (RFC 7112 §5; count Ip6ReasmReqds + Ip6ReasmFails; Parameter
 *    Problem code 3 is optional);
 *  - key = {src, dst (IPA_V6), id = the 32-bit Identification, proto = 0};
 *  - offset = Fragment Offset * 8; more = M flag;
 *  - data = the bytes after the Fragment header, up to the end of the
 *    payload (Payload Length - unfragmentable part - 8);
 *  - hdr = the UNFRAGMENTABLE PART: the 40-byte IPv6 header and the
 *    extension headers before the Fragment header (RFC 8200 §4.5), of THIS
 *    fragment; the engine keeps fragment 0's copy.  For the 65535 rule the
 *    engine counts hdr_len - 40 (Payload Length does not include the fixed
 *    header).  The caller must, in the kept copy's last Next Header field,
 *    replace "44 (Fragment)" by the Fragment header's Next Header, and set
 *    Payload Length, on the REASM_DONE pkt (RFC 8200 §4.5 reassembly);
 *  - REASM_EBADLEN: answer Parameter Problem code 0 pointing at Payload
 *    Length; REASM_ETOOBIG: Parameter Problem code 0 pointing at the
 *    Fragment Offset field (RFC 8200 §4.5).  The engine never takes the
 *    caller's buffer (it copies), so the packet is still there to quote;
 *  - on expiry with fragment 0, the reasm_expired_fn gets family IPA_V6:
 *    send ICMPv6 Time Exceeded code 1 quoting hdr + data (as much as fits
 *    in 1280 bytes, RFC 4443 §2.4 (c)) unless the destination was multicast.
 */
#ifndef WSS_REASM_H
#define WSS_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

#define REASM_TIMEOUT_V4_NS (30ull * 1000000000ull)  /* Linux/gVisor ipfrag_time */
#define REASM_TIMEOUT_V6_NS (60ull * 1000000000ull)  /* RFC 8200 §4.5 */
#define REASM_MAX_FRAGS 64                           /* per datagram (OpenBSD) */
#define REASM_MEM_HIGH (4u * 1024u * 1024u)          /* evict above this ... */
#define REASM_MEM_LOW (3u * 1024u * 1024u)           /* ... down to this (gVisor) */
#define REASM_MAX_LEN 65535u                         /* RFC 791 / RFC 8200 */
#define REASM_HASH_BUCKETS 4096u

struct reasm_key {
    struct ip_addr src, dst;  /* af IPA_V4 or IPA_V6 (both the same) = family */
    uint32_t id;              /* IPv4: 16-bit Identification; IPv6: 32-bit */
    uint8_t proto;            /* IPv4: Protocol; IPv6: 0 */
};

/* reasm_add results.  >= 0: the fragment was taken (copied). */
#define REASM_KEPT 0          /* stored (or an exact duplicate ignored) */
#define REASM_DONE 1          /* *out = the whole datagram */
/* < 0: the fragment was dropped (the caller still owns and frees its own
 * buffer); the reason, and whether the datagram died with it: */
#define REASM_EEMPTY   (-1)   /* zero-length fragment; datagram untouched */
#define REASM_EBADLEN  (-2)   /* M=1 and length not a multiple of 8 (or
                                 offset not a multiple of 8); datagram
                                 untouched.  IPv6: Parameter Problem 0 */
#define REASM_ETOOBIG  (-3)   /* reassembled size > 65535; datagram
                                 untouched (killed if fragment 0's header
                                 makes the complete datagram too big) */
#define REASM_EOVERLAP (-4)   /* overlap (RFC 5722): datagram killed */
#define REASM_EBEYOND  (-5)   /* data beyond / a second different end:
                                 datagram killed */
#define REASM_ETOOMANY (-6)   /* REASM_MAX_FRAGS reached: datagram killed */
#define REASM_EDEAD    (-7)   /* the key was killed earlier and has not
                                 timed out: dropped (RFC 5722 §4) */
#define REASM_ENOMEM   (-8)   /* no memory (malloc failed, the datagram was
                                 evicted by the memory cap, or no packet
                                 buffer for the result): datagram discarded
                                 (not kept dead) */

int reasm_init(struct wskstack *st);   /* 0 or -ENOMEM */
void reasm_fini(struct wskstack *st);  /* frees everything, silently */

/*
 * Add one fragment.  k: its key; offset: in BYTES from the start of the
 * fragmentable part; more: the MF / M flag; data/len: the fragment's data;
 * first_hdr/first_hdr_len: THIS fragment's header(s) (see "HOW ... CALLS
 * IT" above: the engine keeps the copy from the fragment with offset 0 and
 * uses first_hdr_len of every fragment for the 65535 rule).  Everything is
 * copied: the caller keeps its buffers.  now: ns on the stack clock.
 * Returns REASM_KEPT, REASM_DONE with *out = a pkt (from pkt_alloc, owned
 * by the caller) holding fragment 0's header (first_hdr_len bytes, verbatim)
 * followed by the whole reassembled data, or a REASM_E* reason.
 * Receive thread only.
 */
int reasm_add(struct wskstack *st, const struct reasm_key *k, uint32_t offset, bool more,
              const uint8_t *data, size_t len, const uint8_t *first_hdr, size_t first_hdr_len,
              uint64_t now, struct pkt **out);

/* What the timer reports for a live datagram that timed out while holding
 * fragment 0: the caller sends Time Exceeded code 1 ("fragment reassembly
 * time exceeded", RFC 792 / RFC 8200 §4.5) quoting hdr and the first bytes
 * of data.  The pointers are valid only during the call. */
struct reasm_expired {
    const struct reasm_key *key;
    const uint8_t *hdr;       /* fragment 0's header, as given to reasm_add */
    size_t hdr_len;
    const uint8_t *data;      /* fragment 0's data */
    size_t data_len;
};
typedef void (*reasm_expired_fn)(struct wskstack *st, const struct reasm_expired *e,
                                 uint64_t now);

/* Discard every datagram whose timeout is due at `now` (counted, see
 * COUNTERS), calling fn (may be NULL) for each live one that held fragment
 * 0.  fn runs with the datagram already unlinked; it must not call
 * reasm_add.  Receive thread only. */
void reasm_timer(struct wskstack *st, uint64_t now, reasm_expired_fn fn);
/* ns until the next reassembly timeout (0: due now; UINT64_MAX: none). */
uint64_t reasm_next_timer(struct wskstack *st, uint64_t now);

/* Bytes of reassembly memory now charged: every datagram's bookkeeping
 * structure and kept header, every fragment's structure and data (the
 * sizes given to malloc).  0 when nothing is pending. */
size_t reasm_mem(struct wskstack *st);
/* Datagrams pending (live and dead). */
unsigned reasm_count(struct wskstack *st);

#endif /* WSS_REASM_H */
