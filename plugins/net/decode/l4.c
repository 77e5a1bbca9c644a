/*
 * TCP, UDP and ICMP headers of a whole datagram (first fragment or
 * reassembled). TCP options are read for the MSS and the window scale.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../net_int.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The options threat detectors and policies read: MSS, and the window
 * scale (0x80 | shift when present). */
static void tcp_options(const uint8_t *o, uint32_t len, vg_l4 *out)
{
    for (uint32_t i = 0; i < len;) {
        if (o[i] == 0)
            break;
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || o[i + 1] < 2)
            break;
        if (o[i] == 2 && o[i + 1] == 4 && i + 4 <= len)
            out->mss = be16(o + i + 2);
        if (o[i] == 3 && o[i + 1] == 3 && i + 3 <= len)
            out->wscale = (uint8_t)(0x80 | (o[i + 2] > 14 ? 14 : o[i + 2]));
        i += o[i + 1];
    }
}

static int tcp_decode(const uint8_t *p, uint32_t len, vg_l4 *o)
{
    if (len < 20)
        return -EPROTO;
    uint32_t hl = (uint32_t)(p[12] >> 4) * 4;
    if (hl < 20 || hl > len)
        return -EPROTO;
    o->sport = be16(p);
    o->dport = be16(p + 2);
    o->seq = be32(p + 4);
    o->ack = be32(p + 8);
    o->flags = p[13];
    o->window = be16(p + 14);
    tcp_options(p + 20, hl - 20, o);
    o->data = p + hl;
    o->len = len - hl;
    return 0;
}

static int udp_decode(const uint8_t *p, uint32_t len, vg_l4 *o)
{
    if (len < 8)
        return -EPROTO;
    uint32_t ulen = be16(p + 4);
    if (ulen < 8)
        return -EPROTO;
    o->sport = be16(p);
    o->dport = be16(p + 2);
    o->data = p + 8;
    o->len = (ulen < len ? ulen : len) - 8;
    return 0;
}

int vg_l4_decode(const vg_l3 *l3, vg_l4 *o)
{
    memset(o, 0, sizeof(*o));
    switch (l3->l4) {
    case IPPROTO_TCP:
        return tcp_decode(l3->l4p, l3->l4len, o);
    case IPPROTO_UDP:
        return udp_decode(l3->l4p, l3->l4len, o);
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        if (l3->l4len < 4)
            return -EPROTO;
        /* type and code stand in the ports: one flow per (peers, type, code)
         * would split echo from reply, so ICMP flows use no ports at all. */
        o->data = l3->l4p + 4;
        o->len = l3->l4len - 4;
        return 0;
    default:
        return -EPROTONOSUPPORT;
    }
}
