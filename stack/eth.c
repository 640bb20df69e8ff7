/* SPDX-License-Identifier: MIT */
/*
 * eth.c - Ethernet II input demultiplexing and output framing (RFC 894).
 *
 * Input (receive thread), in this order, each failure with its own counter
 * (BAD-INPUT part 3 A):
 *   1. runt: 14 bytes or fewer - no header, or a header with nothing behind
 *      it (A.1)                                              -> IfInErrors
 *   2. oversize: longer than MTU + 14 (A.4)                  -> IfInErrors
 *   3. looped: the source MAC is ours (A.3)                  -> IfInDiscards
 *      source MAC broadcast/multicast (IEEE 802: a source is
 *      always an individual address)                         -> IfInDiscards
 *   4. not for us: destination neither our MAC, broadcast, nor a multicast
 *      group we accept (A.3; RFC 1122 §2.4)                  -> IfInDiscards
 *   5. EtherType: ARP -> arp_input, IPv4 -> ipv4_input, IPv6 -> ipv6_input;
 *      802.3 length fields and anything else (A.2)           -> IfInUnknownProtos
 * Every frame read is counted in IfInPackets/IfInBytes first, as Linux
 * counts rx_packets before its protocol handlers decide.
 *
 * Output: frames are written as they are; no padding to the 60-byte
 * minimum (a TAP has no minimum: the kernel accepts short frames, and the
 * IP length, not the frame length, delimits a datagram - RFC 894).
 *
 * Trace (layer "link", trace.h): one line per frame - "accept" for a frame
 * handed up, "send" for one written, "drop" with the counter otherwise.
 */
#include "stack/stack_impl.h"
#include "stack/ipv6_impl.h"

#include <errno.h>
#include <string.h>

/* Multicast groups accepted at the link layer.  None for IPv4 (the stack
 * joins no IPv4 group).  IPv6: an IPv6 group travels to 33:33 followed by
 * its low 32 bits (RFC 2464 §7), so the MAC names the groups that map onto
 * it; the frame is accepted when addr6_is_joined says we joined one of
 * those a host joins - the link-scope groups ff02::<low 32> (all-nodes
 * ff02::1) and ff02::1:<low 32> (the solicited-node groups ff02::1:ffXX:XXXX
 * of our addresses, RFC 4291 §2.7.1).  ipv6_input checks the IPv6
 * destination itself again (V8). */
static bool eth_mcast_accepted(struct wskstack *st, const uint8_t dst[ETH_ALEN])
{
    if (dst[0] != 0x33 || dst[1] != 0x33)
        return false;
    uint8_t g[16] = {0xff, 0x02};
    memcpy(g + 12, dst + 2, 4);
    if (addr6_is_joined(st, g))
        return true;
    g[11] = 0x01;
    return addr6_is_joined(st, g);
}

/* The EtherTypes the stack handles, as the trace names their layer. */
static const char *eth_upper(uint16_t ethertype)
{
    return ethertype == ETHERTYPE_ARP ? "arp" : ethertype == ETHERTYPE_IPV4 ? "ipv4" : "ipv6";
}

/* The "link rx" line of a frame that passed the checks: "accept" - who
 * sent it, why it is for us (our MAC, a broadcast, a multicast group we
 * joined) and which layer gets it - or the drop of an EtherType we do not
 * speak. */
static void eth_trace_input(struct wskstack *st, const struct eth_repr *eh, uint32_t len)
{
    char s[TRACE_MAC_LEN], d[TRACE_MAC_LEN];
    if (eh->ethertype != ETHERTYPE_ARP && eh->ethertype != ETHERTYPE_IPV4 &&
        eh->ethertype != ETHERTYPE_IPV6) {
        struct trace_fields f = {.counter = "IfInUnknownProtos", .rfc = "RFC 894",
                                 .src = trace_mac(eh->src, s), .proto = TNUM(eh->ethertype),
                                 .len = TNUM(len)};
        trace_event(st, TL_LINK, TD_RX, "drop", &f,
                    "drop IfInUnknownProtos: EtherType 0x%04x (A.2, RFC 894)", eh->ethertype);
        return;
    }
    const char *kind = "unicast", *why = "our MAC";
    if (eth_is_broadcast(eh->dst))
        kind = why = "broadcast";
    else if (eth_is_multicast(eh->dst))
        kind = "multicast", why = "a group we joined";
    struct trace_fields f = {.src = trace_mac(eh->src, s), .dst = trace_mac(eh->dst, d),
                             .rule = kind, .proto = TNUM(eh->ethertype), .len = TNUM(len)};
    trace_event(st, TL_LINK, TD_RX, "accept", &f,
                "%u bytes from %s to %s (%s), EtherType 0x%04x: to %s (RFC 894)", (unsigned)len, s,
                d, why, eh->ethertype, eth_upper(eh->ethertype));
}

void eth_input(struct wskstack *st, struct pkt *p, uint64_t now)
{
    struct eth_repr eh;
    p->ts = now;
    stack_pcap_frame(st, pkt_data(p), p->len); /* pcap=: before any check */
    CNT_INC(st, IfInPackets);
    CNT_ADD(st, IfInBytes, p->len);

    if (p->len <= ETH_HDR_LEN) {
        stack_drop(st, CNT_IfInErrors, "eth", "runt frame: no payload after the 14-byte header (A.1)");
        goto drop;
    }
    if (p->len > st->mtu + ETH_HDR_LEN) {
        stack_drop(st, CNT_IfInErrors, "eth", "frame longer than MTU + 14 (A.4, IEEE 802.3)");
        goto drop;
    }
    enum wire_err werr = eth_parse(pkt_data(p), p->len, &eh);
    if (memcmp(eh.src, st->mac, ETH_ALEN) == 0) {
        stack_drop(st, CNT_IfInDiscards, "eth", "source MAC is ours: looped frame (A.3)");
        goto drop;
    }
    if (eth_is_multicast(eh.src)) {
        stack_drop(st, CNT_IfInDiscards, "eth", "source MAC is a group address (IEEE 802)");
        goto drop;
    }
    if (memcmp(eh.dst, st->mac, ETH_ALEN) != 0 && !eth_is_broadcast(eh.dst) &&
        !(eth_is_multicast(eh.dst) && eth_mcast_accepted(st, eh.dst))) {
        stack_drop(st, CNT_IfInDiscards, "eth", "destination MAC not ours (A.3, RFC 1122 §2.4)");
        goto drop;
    }
    if (werr != WIRE_OK) {
        /* WIRE_UNSUPPORTED: type field <= 1500 is an 802.3 length (A.2). */
        stack_drop(st, CNT_IfInUnknownProtos, "eth", "802.3 length field, not an EtherType (A.2)");
        goto drop;
    }
    if (stack_trace_on(st, TRACE_LINK))
        eth_trace_input(st, &eh, p->len);
    switch (eh.ethertype) {
    case ETHERTYPE_ARP:
        pkt_pull(p, ETH_HDR_LEN);
        arp_input(st, p, now);
        return;
    case ETHERTYPE_IPV4:
        pkt_pull(p, ETH_HDR_LEN);
        ipv4_input(st, p, now);
        return;
    case ETHERTYPE_IPV6:
        pkt_pull(p, ETH_HDR_LEN);
        ipv6_input(st, p, now);
        return;
    default:
        /* RFC 894: we speak IPv4, IPv6 and ARP only (A.2); traced above. */
        CNT_INC(st, IfInUnknownProtos);
        goto drop;
    }
drop:
    pkt_free(st, p);
}

int eth_output(struct wskstack *st, struct pkt *p, const uint8_t dst[ETH_ALEN], uint16_t ethertype)
{
    uint8_t *h = pkt_push(p, ETH_HDR_LEN);
    if (!h) {
        stack_drop(st, CNT_IfOutDiscards, "eth", "no headroom for the Ethernet header");
        pkt_free(st, p);
        return -ENOBUFS;
    }
    struct eth_repr eh = {.ethertype = ethertype};
    memcpy(eh.dst, dst, ETH_ALEN);
    memcpy(eh.src, st->mac, ETH_ALEN);
    eth_emit(&eh, h);

    struct dev_frame f = {.data = h, .len = p->len, .cap = p->len};
    stack_pcap_frame(st, h, p->len); /* pcap=: every frame at the device write */
    /* Counted before the write: a TAP write runs the kernel's whole receive
     * path, so a kernel peer can answer (and a test read the counters)
     * before dev_send returns.  A failed write takes the count back. */
    CNT_INC(st, IfOutPackets);
    CNT_ADD(st, IfOutBytes, f.len);
    int rc = dev_send(st->dev, &f, 1);
    int ret;
    if (rc == 1) {
        ret = 0;
        if (stack_trace_on(st, TRACE_LINK)) {
            char s[TRACE_MAC_LEN], d[TRACE_MAC_LEN];
            struct trace_fields tf = {.src = trace_mac(eh.src, s), .dst = trace_mac(dst, d),
                                      .proto = TNUM(ethertype), .len = TNUM(f.len)};
            trace_event(st, TL_LINK, TD_TX, "send", &tf,
                        "%u bytes from %s to %s, EtherType 0x%04x (%s): written (RFC 894)",
                        (unsigned)f.len, s, d, ethertype, eth_upper(ethertype));
        }
    } else {
        ret = rc < 0 ? rc : -EIO;
        if (stack_trace_on(st, TRACE_LINK)) {
            char d[TRACE_MAC_LEN];
            struct trace_fields tf = {.counter = "IfOutErrors", .dst = trace_mac(dst, d),
                                      .len = TNUM(f.len)};
            trace_event(st, TL_LINK, TD_TX, "drop", &tf,
                        "drop IfOutErrors: device write failed (%d)", ret);
        }
        atomic_fetch_sub_explicit(&st->cnt[CNT_IfOutPackets], 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&st->cnt[CNT_IfOutBytes], f.len, memory_order_relaxed);
        CNT_INC(st, IfOutErrors);
    }
    pkt_free(st, p);
    return ret;
}
