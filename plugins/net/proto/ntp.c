/*
 * NTP (v1-v4): a 48-byte header (optionally a MAC or extension fields),
 * version 1-4, an association mode 1-5. A client request (mode 3) is named
 * once the server's answer (mode 4) echoes its transmit timestamp as the
 * origin timestamp, or alone when no answer comes. Field: ntp.version.
 */
#include "proto.h"

#define NTP_LEN 48

static int header(const uint8_t *p, uint32_t n)
{
    if (n < NTP_LEN || n > 1024 || (n - NTP_LEN) % 4)
        return 0;
    int vn = (p[0] >> 3) & 7, mode = p[0] & 7;
    return vn >= 1 && vn <= 4 && mode >= 1 && mode <= 5 && p[1] <= 16;
}

static int detect(vg_pctx *c)
{
    const uint8_t *a = c->data[0], *b = c->data[1];
    if ((c->len[0] && !header(a, c->len[0])) || (c->len[1] && !header(b, c->len[1])))
        return VG_P_NO;
    if (c->len[0] && c->len[1]) {
        int ma = a[0] & 7, mb = b[0] & 7;
        if (ma == 3 && mb == 4)
            return !memcmp(b + 24, a + 40, 8) ? VG_P_YES : VG_P_NO;
        return (ma == 1 || ma == 2) && (mb == 1 || mb == 2) ? VG_P_YES : VG_P_NO;
    }
    /* One side alone: a broadcast, or a request nobody answered. */
    if (c->final && c->len[0] && c->len[0] == NTP_LEN)
        return VG_P_YES;
    return c->len[0] && (a[0] & 7) == 5 ? VG_P_YES : VG_P_MORE;
}

static int parse(vg_pctx *c)
{
    vg_p_field_u(c, "ntp.version", (c->data[c->dir][0] >> 3) & 7);
    return 1;
}

VG_NET_PROTO(ntp) = {.name = "ntp", .udp = 1, .prio = 20, .detect = detect, .parse = parse};
