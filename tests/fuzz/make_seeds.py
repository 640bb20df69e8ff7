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

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")
