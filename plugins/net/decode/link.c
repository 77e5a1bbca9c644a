/*
 * Link layers: where the IP packet starts in a captured frame.
 * Ethernet (802.1Q/802.1ad tags, any depth up to 4), Linux cooked v1 and v2,
 * BSD loopback (DLT_NULL, host order; DLT_LOOP, network order), raw IP.
 */
#include <errno.h>

#include "../net_int.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ 0x9100
#define VLAN_DEPTH_MAX 4

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IP version of an ethertype, after stepping over VLAN tags at *off. */
static int ethertype_ip(const uint8_t *p, uint32_t caplen, uint32_t *off, uint16_t type)
{
    for (int depth = 0; type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ;
         depth++) {
        if (depth >= VLAN_DEPTH_MAX || caplen < *off + 4)
            return -EPROTO;
        type = be16(p + *off + 2);
        *off += 4;
    }
    if (type == ETH_P_IP)
        return 4;
    if (type == ETH_P_IPV6)
        return 6;
    return -EPROTONOSUPPORT;
}

/* The version nibble of a raw IP packet. */
static int raw_ip(const uint8_t *p, uint32_t caplen, uint32_t off)
{
    if (caplen <= off)
        return -EPROTO;
    int v = p[off] >> 4;
    return v == 4 || v == 6 ? v : -EPROTONOSUPPORT;
}

/* BSD address families for IPv6 differ between systems (24, 28, 30). */
static int bsd_family(uint32_t af)
{
    if (af == 2)
        return 4;
    if (af == 24 || af == 28 || af == 30 || af == 10)
        return 6;
    return -EPROTONOSUPPORT;
}

int vg_link_decode(int dlt, const uint8_t *p, uint32_t caplen, uint32_t *off)
{
    switch (dlt) {
    case VG_NET_DLT_EN10MB:
        if (caplen < 14)
            return -EPROTO;
        *off = 14;
        return ethertype_ip(p, caplen, off, be16(p + 12));
    case VG_NET_DLT_LINUX_SLL: /* type 2, addr type 2, addr len 2, addr 8, proto 2 */
        if (caplen < 16)
            return -EPROTO;
        *off = 16;
        return ethertype_ip(p, caplen, off, be16(p + 14));
    case VG_NET_DLT_LINUX_SLL2: /* proto 2, reserved 2, ifindex 4, ... 20 bytes */
        if (caplen < 20)
            return -EPROTO;
        *off = 20;
        return ethertype_ip(p, caplen, off, be16(p));
    case VG_NET_DLT_NULL: {
        if (caplen < 4)
            return -EPROTO;
        uint32_t af =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (af > 0xffff) /* written on a host of the other byte order */
            af = __builtin_bswap32(af);
        *off = 4;
        return bsd_family(af);
    }
    case VG_NET_DLT_LOOP: {
        if (caplen < 4)
            return -EPROTO;
        *off = 4;
        return bsd_family((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    }
    case VG_NET_DLT_RAW:
    case VG_NET_DLT_RAW_ALT:
    case VG_NET_DLT_IPV4:
    case VG_NET_DLT_IPV6:
        *off = 0;
        return raw_ip(p, caplen, 0);
    default:
        return -EPROTONOSUPPORT;
    }
}
