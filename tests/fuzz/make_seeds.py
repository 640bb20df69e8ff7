#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed inputs of fuzz_frames into tests/fuzz/seeds/.

Input format (see fuzz_frames.c): frames, each preceded by its length as 2
bytes big-endian.  The frames are what the Linux kernel (192.0.2.1, MAC
02:00:00:00:02:01) would write into the TAP of a stack at 192.0.2.2 (MAC
02:00:5e:00:02:02).  Run again after changing it; the .bin files are
committed so the fuzz test needs no Python.
"""
import os
import struct

KMAC = bytes.fromhex("020000000201")
SMAC = bytes.fromhex("02005e000202")
BCAST = b"\xff" * 6
KIP = bytes([192, 0, 2, 1])
SIP = bytes([192, 0, 2, 2])


def csum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa


def ipv4(proto, src, dst, payload, ident=0x1234, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, ttl,
                      proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def icmp_echo(ident, seq, data):
    msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def udp(src, dst, sport, dport, data):
    length = 8 + len(data)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, length)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + data) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + data


def frames(*fs):
    return b"".join(struct.pack("!H", len(f)) + f for f in fs)


arp_request = eth(BCAST, KMAC, 0x0806, arp(1, KMAC, KIP, b"\0" * 6, SIP))
arp_reply = eth(SMAC, KMAC, 0x0806, arp(2, KMAC, KIP, SMAC, SIP))
echo = eth(SMAC, KMAC, 0x0800,
           ipv4(1, KIP, SIP, icmp_echo(0x4242, 1, bytes(range(0x20, 0x20 + 56)))))
udp7 = eth(SMAC, KMAC, 0x0800, ipv4(17, KIP, SIP, udp(KIP, SIP, 40000, 7, b"hello wskstack")))
udp5000 = eth(SMAC, KMAC, 0x0800,
              ipv4(17, KIP, SIP, udp(KIP, SIP, 40001, 5000, b"to the specific endpoint")))
udp_closed = eth(SMAC, KMAC, 0x0800, ipv4(17, KIP, SIP, udp(KIP, SIP, 40002, 9999, b"nobody")))

seeds = {
    "arp_request.bin": frames(arp_request),
    "arp_reply.bin": frames(arp_reply),
    "icmp_echo.bin": frames(echo),
    "udp_wildcard.bin": frames(udp7),
    "udp_specific.bin": frames(udp5000),
    "udp_closed_port.bin": frames(udp_closed),
    "mixed.bin": frames(arp_request, echo, arp_reply, udp7, udp5000, udp_closed),
}

# ---- IPv6 and fragments (the stack also has 2001:db8::2/64) ----------------
KIP6 = bytes.fromhex("20010db8000000000000000000000001")
SIP6 = bytes.fromhex("20010db8000000000000000000000002")
KLL6 = bytes.fromhex("fe800000000000000000000000000001")
ALLNODES = bytes.fromhex("ff020000000000000000000000000001")
SOLICITED = bytes.fromhex("ff0200000000000000000001ff000002")  # of ::2


def ipv6(nh, src, dst, payload, hlim=64):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, hlim) + src + dst + payload


def csum6(src, dst, nh, data):
    pseudo = src + dst + struct.pack("!I3xB", len(data), nh)
    return csum(pseudo + data)


def icmp6(src, dst, typ, code, body):
    msg = struct.pack("!BBH", typ, code, 0) + body
    return msg[:2] + struct.pack("!H", csum6(src, dst, 58, msg)) + msg[4:]


def udp6(src, dst, sport, dport, data):
    length = 8 + len(data)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum6(src, dst, 17, hdr + data) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + data


def frag6(nh, offset, more, ident, data):
    return struct.pack("!BBHI", nh, 0, offset | (1 if more else 0), ident) + data


echo6 = eth(SMAC, KMAC, 0x86DD, ipv6(58, KIP6, SIP6,
            icmp6(KIP6, SIP6, 128, 0, struct.pack("!HH", 0x4343, 1) + b"wskstack ipv6 echo")))
ns6 = eth(bytes.fromhex("3333ff000002"), KMAC, 0x86DD,
          ipv6(58, KIP6, SOLICITED,
               icmp6(KIP6, SOLICITED, 135, 0, b"\0" * 4 + SIP6 + bytes([1, 1]) + KMAC), hlim=255))
ra6 = eth(bytes.fromhex("333300000001"), KMAC, 0x86DD,
          ipv6(58, KLL6, ALLNODES,
               icmp6(KLL6, ALLNODES, 134, 0,
                     struct.pack("!BBHII", 64, 0, 1800, 0, 0)
                     + bytes([1, 1]) + KMAC
                     + struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0)
                     + bytes.fromhex("20010db8000100000000000000000000")
                     + struct.pack("!BBHI", 5, 1, 0, 1400)), hlim=255))
udp6_7 = eth(SMAC, KMAC, 0x86DD, ipv6(17, KIP6, SIP6, udp6(KIP6, SIP6, 40010, 7, b"hello over ipv6")))
# One UDP datagram in two IPv6 fragments (first 1232 bytes, then the rest),
# sent in reverse order.
big6 = udp6(KIP6, SIP6, 40011, 7, bytes(i & 0xFF for i in range(2000)))
f6a = eth(SMAC, KMAC, 0x86DD, ipv6(44, KIP6, SIP6, frag6(17, 0, True, 0x01020304, big6[:1232])))
f6b = eth(SMAC, KMAC, 0x86DD, ipv6(44, KIP6, SIP6, frag6(17, 1232, False, 0x01020304, big6[1232:])))
# One IPv4 UDP datagram in two fragments.
big4 = udp(KIP, SIP, 40012, 5000, bytes(i & 0xFF for i in range(2000)))


def ipv4_frag(proto, src, dst, payload, off8, more, ident=0x7777):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      (0x2000 if more else 0) | off8, 64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


f4a = eth(SMAC, KMAC, 0x0800, ipv4_frag(17, KIP, SIP, big4[:1480], 0, True))
f4b = eth(SMAC, KMAC, 0x0800, ipv4_frag(17, KIP, SIP, big4[1480:], 185, False))

seeds.update({
    "icmp6_echo.bin": frames(echo6),
    "nd_ns.bin": frames(ns6),
    "nd_ra.bin": frames(ra6),
    "udp6_wildcard.bin": frames(udp6_7),
    "frag6_udp.bin": frames(f6b, f6a),
    "frag4_udp.bin": frames(f4b, f4a),
    "mixed6.bin": frames(ns6, echo6, ra6, udp6_7, f6a, f6b, f4a, f4b),
})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")
