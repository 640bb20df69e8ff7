/* SPDX-License-Identifier: MIT */
/*
 * Counters, named exactly as Linux `nstat` prints them (IP-MIB / UDP-MIB /
 * ICMP-MIB names with the Ip/Icmp/Udp prefix), so a lab user can compare the
 * stack with `nstat` run on the kernel side.  Counters that Linux does not
 * have use the same style and are marked "(wskstack)".
 *
 * Every drop reason in the stack has a counter here (DESIGN.md principle 5).
 * X(name, "description")
 */
#ifndef WSS_COUNTERS_H
#define WSS_COUNTERS_H

#define WSS_COUNTERS(X) \
    /* interface (ip -s link names, prefixed) */ \
    X(IfInPackets,        "frames read from the device") \
    X(IfInBytes,          "bytes read from the device") \
    X(IfOutPackets,       "frames written to the device") \
    X(IfOutBytes,         "bytes written to the device") \
    X(IfInErrors,         "runt or oversize frames (BAD-INPUT A.1, A.4)") \
    X(IfInUnknownProtos,  "unknown EtherType (A.2)") \
    X(IfInDiscards,       "frames not addressed to us, or looped back (A.3)") \
    X(IfOutErrors,        "device write failed") \
    X(IfOutDiscards,      "no packet buffer for an outgoing frame") \
    /* ARP (wskstack) */ \
    X(ArpInRequests,      "ARP requests received") \
    X(ArpInReplies,       "ARP replies received") \
    X(ArpInMalformed,     "truncated/invalid ARP or impossible sender MAC (B.5)") \
    X(ArpInIgnored,       "ARP not for us / unsolicited for unknown host (B.7, B.8)") \
    X(ArpInConflicts,     "ARP claiming one of our addresses (B.6)") \
    X(ArpOutRequests,     "ARP requests sent") \
    X(ArpOutReplies,      "ARP replies sent") \
    X(ArpResolveFailed,   "resolutions that failed after 3 requests") \
    X(ArpQueueDrops,      "packets dropped: neighbour wait queue full or resolution failed") \
    X(ArpCacheEvictions,  "entries evicted because the cache was full") \
    /* IPv4 (IP-MIB) */ \
    X(IpInReceives,       "IPv4 datagrams received") \
    X(IpInHdrErrors,      "IPv4 header errors: version, IHL, length, checksum (C.10, C.11)") \
    X(IpInAddrErrors,     "IPv4 destination not ours (C.13)") \
    X(IpInUnknownProtos,  "IPv4 unknown protocol (C.15)") \
    X(IpInDiscards,       "IPv4 discarded for lack of resources") \
    X(IpInTruncatedPkts,  "IPv4 total length larger than the frame (C.11)") \
    X(IpInDelivers,       "IPv4 datagrams delivered to ICMP/UDP") \
    X(IpOutRequests,      "IPv4 datagrams sent") \
    X(IpOutDiscards,      "IPv4 datagrams discarded on output") \
    X(IpOutNoRoutes,      "IPv4 sends with no route") \
    X(IpReasmReqds,       "IPv4 fragments received") \
    X(IpReasmOKs,         "IPv4 datagrams reassembled") \
    X(IpReasmFails,       "IPv4 reassembly failures: bad fragment, overlap, timeout, memory cap (D.17-D.20, J.42)") \
    X(IpReasmTimeout,     "IPv4 datagrams abandoned at the reassembly timeout (D.20)") \
    X(IpFragOKs,          "IPv4 datagrams fragmented") \
    X(IpFragFails,        "IPv4 datagrams that needed fragmenting but had DF") \
    X(IpFragCreates,      "IPv4 fragments created") \
    /* IPv6 reassembly (IPV6-MIB names as nstat prints them) */ \
    X(Ip6ReasmReqds,      "IPv6 fragments received") \
    X(Ip6ReasmOKs,        "IPv6 datagrams reassembled") \
    X(Ip6ReasmFails,      "IPv6 reassembly failures: bad fragment, overlap, timeout, memory cap") \
    X(Ip6ReasmTimeout,    "IPv6 datagrams abandoned at the reassembly timeout (D.20)") \
    /* ICMPv4 (ICMP-MIB) */ \
    X(IcmpInMsgs,         "ICMP messages received") \
    X(IcmpInErrors,       "ICMP messages with errors: short, bad checksum, unknown type (F.29)") \
    X(IcmpInCsumErrors,   "ICMP bad checksum") \
    X(IcmpInDestUnreachs, "ICMP destination unreachable received") \
    X(IcmpInTimeExcds,    "ICMP time exceeded received") \
    X(IcmpInEchos,        "ICMP echo requests received") \
    X(IcmpInEchoReps,     "ICMP echo replies received") \
    X(IcmpOutMsgs,        "ICMP messages sent") \
    X(IcmpOutErrors,      "ICMP messages not sent because of an error") \
    X(IcmpOutRateLimitHost, "ICMP errors suppressed by the rate limiter") \
    X(IcmpOutDestUnreachs, "ICMP destination unreachable sent") \
    X(IcmpOutEchos,       "ICMP echo requests sent") \
    X(IcmpOutEchoReps,    "ICMP echo replies sent") \
    /* IPv6, ICMPv6, ND, UDP over IPv6 (Linux nstat names) */ \
    X(Ip6InReceives, "IPv6 packets received") \
    X(Ip6InHdrErrors, "IPv6 header errors (BAD-INPUT E)") \
    X(Ip6InTooBigErrors, "IPv6 packets larger than the link MTU") \
    X(Ip6InNoRoutes, "IPv6 no route") \
    X(Ip6InAddrErrors, "IPv6 destination not ours or group not joined (V8)") \
    X(Ip6InUnknownProtos, "IPv6 unknown next header") \
    X(Ip6InTruncatedPkts, "IPv6 payload length beyond the frame") \
    X(Ip6InDiscards, "IPv6 discarded: resources or an option action") \
    X(Ip6InDelivers, "IPv6 delivered to ICMPv6/UDP") \
    X(Ip6OutRequests, "IPv6 packets sent") \
    X(Ip6OutDiscards, "IPv6 discarded on output") \
    X(Ip6OutNoRoutes, "IPv6 sends with no route") \
    X(Ip6FragOKs, "IPv6 datagrams fragmented") \
    X(Ip6FragFails, "IPv6 fragmentation refused (DONTFRAG)") \
    X(Ip6FragCreates, "IPv6 fragments created") \
    X(Ip6InMcastPkts, "IPv6 multicast received") \
    X(Ip6OutMcastPkts, "IPv6 multicast sent") \
    X(Icmp6InMsgs, "ICMPv6 received") \
    X(Icmp6InErrors, "ICMPv6 invalid: short, checksum, bad ND (BAD-INPUT G, H)") \
    X(Icmp6InCsumErrors, "ICMPv6 bad checksum") \
    X(Icmp6InDestUnreachs, "ICMPv6 unreachable received") \
    X(Icmp6InPktTooBigs, "ICMPv6 packet too big received") \
    X(Icmp6InTimeExcds, "ICMPv6 time exceeded received") \
    X(Icmp6InParmProblems, "ICMPv6 parameter problem received") \
    X(Icmp6InEchos, "ICMPv6 echo requests received") \
    X(Icmp6InEchoReplies, "ICMPv6 echo replies received") \
    X(Icmp6InRouterSolicits, "RS received") \
    X(Icmp6InRouterAdvertisements, "RA received") \
    X(Icmp6InNeighborSolicits, "NS received") \
    X(Icmp6InNeighborAdvertisements, "NA received") \
    X(Icmp6InRedirects, "Redirects received") \
    X(Icmp6OutMsgs, "ICMPv6 sent") \
    X(Icmp6OutErrors, "ICMPv6 not sent because of an error") \
    X(Icmp6OutRateLimitHost, "ICMPv6 errors suppressed by the rate limiter") \
    X(Icmp6OutDestUnreachs, "ICMPv6 unreachable sent") \
    X(Icmp6OutPktTooBigs, "ICMPv6 packet too big sent") \
    X(Icmp6OutTimeExcds, "ICMPv6 time exceeded sent") \
    X(Icmp6OutParmProblems, "ICMPv6 parameter problem sent") \
    X(Icmp6OutEchos, "ICMPv6 echo requests sent") \
    X(Icmp6OutEchoReplies, "ICMPv6 echo replies sent") \
    X(Icmp6OutRouterSolicits, "RS sent") \
    X(Icmp6OutNeighborSolicits, "NS sent") \
    X(Icmp6OutNeighborAdvertisements, "NA sent") \
    X(NdResolveFailed, "(wskstack) IPv6 resolutions that failed") \
    X(NdQueueDrops, "(wskstack) packets dropped waiting for ND") \
    X(NdCacheEvictions, "(wskstack) ND cache evictions") \
    X(NdDadConflicts, "(wskstack) DAD found a duplicate address") \
    X(Udp6InDatagrams, "UDP/IPv6 delivered") \
    X(Udp6NoPorts, "UDP/IPv6 to a closed port") \
    X(Udp6InErrors, "UDP/IPv6 errors") \
    X(Udp6OutDatagrams, "UDP/IPv6 sent") \
    X(Udp6RcvbufErrors, "UDP/IPv6 receive queue full") \
    X(Udp6SndbufErrors, "UDP/IPv6 send buffer errors") \
    X(Udp6InCsumErrors, "UDP/IPv6 bad or zero checksum (BAD-INPUT I.40)") \
    X(Udp6IgnoredMulti, "UDP/IPv6 multicast to no socket") \
    /* UDP (UDP-MIB) */ \
    X(UdpInDatagrams,     "UDP datagrams delivered to a socket") \
    X(UdpNoPorts,         "UDP datagrams to a port with no socket") \
    X(UdpInErrors,        "UDP datagrams with errors (length, checksum, full queue)") \
    X(UdpOutDatagrams,    "UDP datagrams sent") \
    X(UdpRcvbufErrors,    "UDP datagrams dropped: socket receive queue full") \
    X(UdpSndbufErrors,    "UDP sends failed for lack of buffers") \
    X(UdpInCsumErrors,    "UDP bad checksum") \
    X(UdpIgnoredMulti,    "UDP broadcast/multicast to a port with no socket")

enum wss_counter {
#define WSS_CNT_ENUM(n, d) CNT_##n,
    WSS_COUNTERS(WSS_CNT_ENUM)
#undef WSS_CNT_ENUM
    CNT__COUNT
};

#endif /* WSS_COUNTERS_H */
