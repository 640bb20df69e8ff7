/* SPDX-License-Identifier: MIT */
/*
 * wsk_test_dgram.h - helpers for the datagram-surface tests (issue 3):
 * options and IOCTLs through an IRP, exact frame checks with TOS/TTL/DF,
 * an ARP reply builder.  Include after wsk_test.h.
 */
#ifndef WSS_WSK_TEST_DGRAM_H
#define WSS_WSK_TEST_DGRAM_H

#include "wsk_test.h"

/* WskSetOption with an IRP; returns the final status (asserts the contract). */
static inline NTSTATUS wt_setopt(PWSK_SOCKET s, ULONG level, ULONG code, ULONG v)
{
    struct wt_irp w;
    wt_irp_init(&w);
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskSetOption, code, level, sizeof(v), &v, 0, NULL,
                                            NULL, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    assert_int_equal(w.info, 0);
    wt_irp_fini(&w);
    return st;
}

/* WskGetOption with an IRP: the status; *v the value (4 bytes written). */
static inline NTSTATUS wt_getopt(PWSK_SOCKET s, ULONG level, ULONG code, ULONG *v)
{
    struct wt_irp w;
    wt_irp_init(&w);
    SIZE_T got = 99;
    *v = 0xa5a5a5a5u;
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskGetOption, code, level, 0, NULL, sizeof(*v), v,
                                            &got, w.irp);
    NTSTATUS st = wt_irp_result(&w, r);
    if (NT_SUCCESS(st)) {
        assert_int_equal(got, 4);
        assert_int_equal(w.info, 4);
    } else {
        assert_int_equal(got, 0);
        assert_int_equal(w.info, 0);
    }
    wt_irp_fini(&w);
    return st;
}

/* SIO_WSK_SET_REMOTE_ADDRESS / _SENDTO_ADDRESS with an IRP; ip 0 and port
 * 0 with size 0: clear. */
static inline NTSTATUS wt_fixed(PWSK_SOCKET s, ULONG code, uint32_t ip, uint16_t port,
                                SIZE_T size)
{
    struct wt_irp w;
    wt_irp_init(&w);
    uint8_t in[28];
    memset(in, 0, sizeof(in));
    SOCKADDR_IN sin;
    wt_sin(&sin, ip, port);
    memcpy(in, &sin, sizeof(sin));
    NTSTATUS r = wt_dg(s)->WskControlSocket(s, WskIoctl, code, SOL_SOCKET, size,
                                            size ? in : NULL, 0, NULL, NULL, w.irp);
    memset(in, 0xcc, sizeof(in)); /* captured during the call */
    NTSTATUS st = wt_irp_result(&w, r);
    wt_irp_fini(&w);
    return st;
}

/* Pop the next frame and assert it is exactly this UDP datagram with the
 * given TOS, TTL and DF (IP id taken from the frame). */
static inline void wt_expect_udp(struct wt *t, uint32_t src, uint32_t dst, uint16_t sport,
                                 uint16_t dport, const void *payload, size_t plen, uint8_t tos,
                                 uint8_t ttl, bool df)
{
    static uint8_t got[70000], want[70000];
    long n = wt_pop(t, got, sizeof(got), 2000);
    assert_int_equal(n, (long)(14 + 20 + 8 + plen));
    uint16_t id = (uint16_t)((got[18] << 8) | got[19]);
    size_t wn = wt_udp_frame(want, wt_peer_mac, wt_our_mac, src, dst, sport, dport, payload, plen,
                             id, ttl);
    uint8_t *ip = want + 14;
    ip[1] = tos;
    if (df)
        ip[6] |= 0x40;
    ip[10] = ip[11] = 0;
    wt_be16(ip + 10, wt_csum(ip, 20, 0));
    assert_int_equal(wn, (size_t)n);
    assert_memory_equal(got, want, wn);
}

/* Inject an ARP reply "ip is at mac" addressed to us. */
static inline void wt_inject_arp_reply(struct wt *t, uint32_t ip, const uint8_t mac[6])
{
    uint8_t f[60];
    memset(f, 0, sizeof(f));
    memcpy(f, wt_our_mac, 6);
    memcpy(f + 6, mac, 6);
    wt_be16(f + 12, 0x0806);
    wt_be16(f + 14, 1);
    wt_be16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    wt_be16(f + 20, 2);
    memcpy(f + 22, mac, 6);
    wt_be32(f + 28, ip);
    memcpy(f + 32, wt_our_mac, 6);
    wt_be32(f + 38, WT_OUR_IP1);
    assert_int_equal(memdev_inject(t->dev, f, sizeof(f)), 0);
}

/* An INT cmsg {level, type, v} (WSA_CMSG_SPACE(4) = 24 bytes). */
static inline void wt_int_cmsg(uint8_t *c, INT level, INT type, INT v)
{
    memset(c, 0, 24);
    SIZE_T len = 20;
    memcpy(c, &len, 8);
    memcpy(c + 8, &level, 4);
    memcpy(c + 12, &type, 4);
    memcpy(c + 16, &v, 4);
}

#endif /* WSS_WSK_TEST_DGRAM_H */
