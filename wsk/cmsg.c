/* SPDX-License-Identifier: MIT */
/*
 * cmsg.c - control messages (WSA_CMSG_* layout, WSK-SPEC 3.7/3.8): the
 * receive cmsgs written for WskReceiveFrom and for receive indications
 * (IP_PKTINFO, IP_TOS, IP_ECN, IP_HOPLIMIT and their IPv6 twins), and the
 * send cmsgs read from WskSendTo / WskSendMessages (IN_PKTINFO /
 * IN6_PKTINFO source, IP_TOS, IP_ECN; UDP_SEND_MSG_SIZE refused).
 */
#include <string.h>

#include "wsk/wsk_impl.h"

/* One cmsg {level, type, data} at c (space bytes, zero padded). */
static void wsk_put_cmsg(uint8_t *c, INT level, INT type, const void *data, size_t len)
{
    size_t space = WSA_CMSG_SPACE(len);
    CMSGHDR h;
    memset(&h, 0, sizeof(h));
    h.cmsg_len = WSA_CMSG_LEN(len);
    h.cmsg_level = level;
    h.cmsg_type = type;
    memset(c, 0, space);
    memcpy(c, &h, sizeof(h));
    memcpy(c + WSA_CMSGDATA_ALIGN(sizeof(CMSGHDR)), data, len);
}

/* Receive cmsgs (WSK-SPEC 3.7/3.8, 5.6): IP_PKTINFO {destination address,
 * arrival ifindex}; IP_RECVTOS -> {IPPROTO_IP, IP_TOS, INT tos byte};
 * IP_ECN -> {IPPROTO_IP, IP_ECN, INT tos & 3}; IP_HOPLIMIT -> {IPPROTO_IP,
 * IP_HOPLIMIT, INT ttl}.  Each object takes WSA_CMSG_SPACE bytes; one that
 * does not fit is left out whole and sets *ctrunc. */
ULONG wsk_rx_cmsgs(struct wskstack *st, const struct wsk_opts *o, const struct udp_rx_info *info,
                   uint8_t *ctl, ULONG cap, bool *ctrunc)
{
    ULONG off = 0;
    *ctrunc = false;
    bool v6 = info->dst.af == IPA_V6;
    if (v6 && o->v6pktinfo) {
        /* IPV6_PKTINFO (issue 4): IN6_PKTINFO, 20 bytes, cmsg_len 36. */
        size_t space = WSA_CMSG_SPACE(sizeof(IN6_PKTINFO));
        if (ctl != NULL && cap - off >= space) {
            IN6_PKTINFO pi;
            memset(&pi, 0, sizeof(pi));
            memcpy(&pi.ipi6_addr, info->dst.v6, 16);
            pi.ipi6_ifindex = stack_ifindex(st);
            wsk_put_cmsg(ctl + off, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
            off += (ULONG)space;
        } else {
            *ctrunc = true;
        }
    }
    if (!v6 && o->pktinfo) {
        size_t space = WSA_CMSG_SPACE(sizeof(IN_PKTINFO));
        if (ctl != NULL && cap - off >= space) {
            IN_PKTINFO pi;
            memset(&pi, 0, sizeof(pi));
            wsk_put_be32(&pi.ipi_addr, info->dst.af == IPA_V4 ? info->dst.v4 : 0);
            pi.ipi_ifindex = stack_ifindex(st);
            wsk_put_cmsg(ctl + off, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
            off += (ULONG)space;
        } else {
            *ctrunc = true;
        }
    }
    struct {
        bool on;
        INT type;
        INT val;
    } ints[3] = {
        {v6 ? o->v6recvtclass : o->recvtos, v6 ? IPV6_TCLASS : IP_TOS, info->tos},
        {v6 ? o->v6ecn : o->ecn, v6 ? IPV6_ECN : IP_ECN, info->tos & 3},
        {v6 ? o->v6hoplimit : o->hoplimit, v6 ? IPV6_HOPLIMIT : IP_HOPLIMIT, info->ttl},
    };
    INT level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    for (unsigned i = 0; i < 3; i++) {
        if (!ints[i].on)
            continue;
        size_t space = WSA_CMSG_SPACE(sizeof(INT));
        if (ctl != NULL && cap - off >= space) {
            wsk_put_cmsg(ctl + off, level, ints[i].type, &ints[i].val, sizeof(INT));
            off += (ULONG)space;
        } else {
            *ctrunc = true;
        }
    }
    return off;
}

/* Walk the control messages (WSA_CMSG_* rules, WSK-SPEC 3.7).
 *   IP_PKTINFO (IN_PKTINFO)  source address (0 = by route) and ifindex
 *   IP_TOS (INT 0..255)      the TOS byte of this datagram (MsQuic)
 *   IP_ECN (INT 0..3)        the ECN bits, DSCP from IP_TOS/the option
 *   IPPROTO_UDP UDP_SEND_MSG_SIZE -> STATUS_NOT_SUPPORTED (no USO; MsQuic
 *                            only sends it after its option probe, which
 *                            fails)
 *   zero-length and unknown cmsgs: skipped (WireGuard's trailer). */
NTSTATUS wsk_send_cmsgs(const uint8_t *ctl, ULONG len, struct udp_send_args *a,
                               struct wsk_pktsrc *ps, const char **why)
{
    if (len == 0)
        return STATUS_SUCCESS;
    if (ctl == NULL)
        WSK_REFUSE(why, "ControlInfo NULL with a length", STATUS_INVALID_PARAMETER);
    int ecn = -1;
    size_t off = 0;
    while (off + sizeof(CMSGHDR) <= len) {
        CMSGHDR h;
        memcpy(&h, ctl + off, sizeof(h));
        if (h.cmsg_len < sizeof(CMSGHDR) || h.cmsg_len > len - off)
            WSK_REFUSE(why, "a cmsg_len below 16 or past ControlInfoLength",
                       STATUS_INVALID_PARAMETER);
        size_t data_off = WSA_CMSGDATA_ALIGN(sizeof(CMSGHDR));
        size_t data_len = h.cmsg_len > data_off ? h.cmsg_len - data_off : 0;
        const uint8_t *data = ctl + off + data_off;
        if (h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_PKTINFO) {
            IN_PKTINFO pi;
            if (data_len < sizeof(pi))
                WSK_REFUSE(why, "IP_PKTINFO shorter than IN_PKTINFO", STATUS_INVALID_PARAMETER);
            memcpy(&pi, data, sizeof(pi));
            uint32_t src = wsk_be32(&pi.ipi_addr);
            ps->has4 = true;
            ps->src4 = src != 0 ? ip4(src) : (struct ip_addr){.af = IPA_NONE};
            ps->if4 = pi.ipi_ifindex;
        } else if (h.cmsg_level == IPPROTO_IPV6 && h.cmsg_type == IPV6_PKTINFO) {
            IN6_PKTINFO pi6;
            if (data_len < sizeof(pi6))
                WSK_REFUSE(why, "IPV6_PKTINFO shorter than IN6_PKTINFO",
                           STATUS_INVALID_PARAMETER);
            memcpy(&pi6, data, sizeof(pi6));
            ps->has6 = true;
            ps->src6 = (struct ip_addr){.af = IPA_V6};
            memcpy(ps->src6.v6, &pi6.ipi6_addr, 16);
            if (ip_addr_is_any(&ps->src6))
                ps->src6 = (struct ip_addr){.af = IPA_NONE};
            ps->if6 = pi6.ipi6_ifindex;
        } else if (h.cmsg_level == IPPROTO_IP && (h.cmsg_type == IP_TOS || h.cmsg_type == IP_ECN)) {
            INT v;
            if (data_len < sizeof(v))
                WSK_REFUSE(why, "IP_TOS / IP_ECN shorter than an INT", STATUS_INVALID_PARAMETER);
            memcpy(&v, data, sizeof(v));
            if (v < 0 || v > (h.cmsg_type == IP_TOS ? 255 : 3))
                WSK_REFUSE(why, "IP_TOS / IP_ECN out of range", STATUS_INVALID_PARAMETER);
            if (h.cmsg_type == IP_TOS)
                a->tos = v;
            else
                ecn = v;
        } else if (h.cmsg_level == IPPROTO_UDP && h.cmsg_type == UDP_SEND_MSG_SIZE) {
            WSK_REFUSE(why, "UDP_SEND_MSG_SIZE control message (no USO)", STATUS_NOT_SUPPORTED);
        }
        off += WSA_CMSGHDR_ALIGN(h.cmsg_len);
    }
    if (ecn >= 0)
        a->tos = ((a->tos < 0 ? 0 : a->tos) & ~3) | ecn;
    return STATUS_SUCCESS;
}
