/*
 * Oracle Net (TNS): packets with an 8-byte header (big-endian length,
 * packet checksum, type, flags, header checksum). The client opens with
 * CONNECT (1), whose connect data is a "(DESCRIPTION=...)" string; the
 * server answers ACCEPT (2), REFUSE (4), REDIRECT (5), RESEND (11) or a
 * MARKER (12). Field: oracle.service (SERVICE_NAME or SID of the connect
 * data).
 */
#include <strings.h>

#include "proto.h"

#define HDR 8

static int header(const uint8_t *p, uint32_t n, int server)
{
    if (n < HDR)
        return VG_P_MORE;
    uint32_t len = vg_be16(p);
    uint8_t t = p[4];
    if (len < HDR || p[5] != 0 || (vg_be16(p + 6) != 0 && vg_be16(p + 6) != 0x0400))
        return VG_P_NO;
    if (server)
        return t == 2 || t == 4 || t == 5 || t == 11 || t == 12 ? VG_P_YES : VG_P_NO;
    /* CONNECT: version (300-319) and lowest version compatible */
    if (t != 1 || n < HDR + 4)
        return t != 1 ? VG_P_NO : VG_P_MORE;
    uint16_t v = vg_be16(p + HDR), lo = vg_be16(p + HDR + 2);
    return v >= 300 && v <= 400 && lo >= 300 && lo <= v ? VG_P_YES : VG_P_NO;
}

static int detect(vg_pctx *c)
{
    int a = c->len[0] ? header(c->data[0], c->len[0], 0) : VG_P_MORE;
    return vg_p_verdict(c, a, c->len[1] ? header(c->data[1], c->len[1], 1) : VG_P_MORE);
}

static void value_of(vg_pctx *c, const char *name)
{
    const uint8_t *p = c->data[0];
    uint32_t n = c->len[0];
    size_t nl = strlen(name);
    for (uint32_t i = 0; i + nl + 2 < n; i++)
        if (p[i] == '(' && !strncasecmp((const char *)p + i + 1, name, nl) &&
            p[i + 1 + nl] == '=') {
            const uint8_t *v = p + i + 2 + nl;
            const uint8_t *end = memchr(v, ')', (size_t)(p + n - v));
            if (end && end > v)
                vg_p_field(c, "oracle.service", v, (size_t)(end - v));
            return;
        }
}

static int parse(vg_pctx *c)
{
    value_of(c, "SERVICE_NAME");
    value_of(c, "SID");
    return c->len[0] >= VG_INSP_BUF || vg_field_has(c->f, "oracle.service");
}

VG_NET_PROTO(oracle) = {.name = "oracle", .tcp = 1, .prio = 20, .detect = detect, .parse = parse};
