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
