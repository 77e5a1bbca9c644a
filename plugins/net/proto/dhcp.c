/*
 * DHCP (and BOOTP with the DHCP magic cookie): op 1/2, a hardware type and
 * length that fit, and the cookie 99.130.83.99 at byte 236. Fields:
 * dhcp.type (DISCOVER, OFFER, REQUEST, ACK...), dhcp.hostname (option 12).
 */
#include "proto.h"

#define COOKIE_OFF 236
#define OPTIONS_OFF 240

static int detect(vg_pctx *c)
{
    const uint8_t *p = c->data[c->dir];
    uint32_t n = c->len[c->dir];
    if (n < OPTIONS_OFF || (p[0] != 1 && p[0] != 2) || p[2] > 16 || p[3] > 16)
        return VG_P_NO;
    return vg_be32(p + COOKIE_OFF) == 0x63825363 ? VG_P_YES : VG_P_NO;
}

static int parse(vg_pctx *c)
{
    static const char *const types[] = {"?",   "DISCOVER", "OFFER",   "REQUEST", "DECLINE",
                                        "ACK", "NAK",      "RELEASE", "INFORM"};
    const uint8_t *p = c->data[c->dir];
    uint32_t n = c->len[c->dir];
    for (uint32_t i = OPTIONS_OFF; i < n && p[i] != 255;) {
        if (p[i] == 0) {
            i++;
            continue;
        }
        if (i + 2 > n || i + 2 + p[i + 1] > n)
            break;
        uint8_t l = p[i + 1];
        if (p[i] == 53 && l == 1 && p[i + 2] >= 1 && p[i + 2] <= 8)
            vg_p_field_str(c, "dhcp.type", types[p[i + 2]]);
        else if (p[i] == 12 && l)
            vg_p_field(c, "dhcp.hostname", p + i + 2, l);
        i += 2 + l;
    }
    return 0;
}

VG_NET_PROTO(dhcp) = {.name = "dhcp", .udp = 1, .prio = 10, .detect = detect, .parse = parse};
