/*
 * IPv4 and IPv6 headers, IPv6 extension headers (hop-by-hop, routing,
 * destination options, fragment, AH). Lengths are checked against both the
 * header's own claims and what was captured; a packet that lies is malformed.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "../net_int.h"

#define IPV6_EXT_MAX 8 /* extension headers walked before giving up */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int ipv4_decode(const uint8_t *p, uint32_t caplen, vg_l3 *o)
{
    if (caplen < 20 || p[0] >> 4 != 4)
        return -EPROTO;
    uint32_t hl = (uint32_t)(p[0] & 0x0f) * 4;
    uint32_t tot = be16(p + 2);
    if (hl < 20 || tot < hl || caplen < hl)
        return -EPROTO;
    o->family = AF_INET;
    memcpy(o->src, p + 12, 4);
    memcpy(o->dst, p + 16, 4);
    o->l4 = p[9];
    o->ip_len = tot;
    o->l4p = p + hl;
    o->l4len = (caplen < tot ? caplen : tot) - hl;
    uint16_t fo = be16(p + 6);
    o->frag_more = (fo & 0x2000) != 0;
    o->frag_off = (uint32_t)(fo & 0x1fff) * 8;
    o->is_frag = o->frag_more || o->frag_off;
    o->frag_id = be16(p + 4);
    return 0;
}

static int ipv6_decode(const uint8_t *p, uint32_t caplen, vg_l3 *o)
{
    if (caplen < 40 || p[0] >> 4 != 6)
        return -EPROTO;
    uint32_t plen = be16(p + 4);
    if (plen == 0) /* jumbogram or bogus: neither is followed here */
        return -EPROTONOSUPPORT;
    uint32_t end = 40 + plen;
    if (end > caplen)
        end = caplen;
    o->family = AF_INET6;
    memcpy(o->src, p + 8, 16);
    memcpy(o->dst, p + 24, 16);
    o->ip_len = 40 + plen;
    uint8_t nh = p[6];
    uint32_t off = 40;
    for (int i = 0;; i++) {
        if (i > IPV6_EXT_MAX)
            return -EPROTO;
        if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
            if (off + 8 > end)
                return -EPROTO;
            uint32_t len =
                nh == 51 ? ((uint32_t)p[off + 1] + 2) * 4 : ((uint32_t)p[off + 1] + 1) * 8;
            nh = p[off];
            off += len;
            if (off > end)
                return -EPROTO;
        } else if (nh == 44) {
            if (off + 8 > end)
                return -EPROTO;
            uint16_t fo = be16(p + off + 2);
            o->frag_off = (uint32_t)(fo & 0xfff8);
            o->frag_more = fo & 1;
            o->is_frag = o->frag_more || o->frag_off;
            o->frag_id = be32(p + off + 4);
            nh = p[off];
            off += 8;
        } else {
            break;
        }
    }
    o->l4 = nh;
    o->l4p = p + off;
    o->l4len = end - off;
    return 0;
}

int vg_ip_decode(int version, const uint8_t *p, uint32_t caplen, vg_l3 *out)
{
    memset(out, 0, sizeof(*out));
    return version == 4 ? ipv4_decode(p, caplen, out) : ipv6_decode(p, caplen, out);
}
