/*
 * Echo (RFC 862): whatever the client sends comes back, byte for byte. Needs
 * both sides (at least 4 bytes back); tried last, after every protocol with
 * a grammar of its own.
 */
#include "proto.h"

#define ECHO_MIN 4

static int detect(vg_pctx *c)
{
    uint32_t a = c->len[0], b = c->len[1];
    if (!a || !b)
        return c->final ? VG_P_NO : VG_P_MORE;
    if (c->l4 == IPPROTO_UDP)
        return a == b && a >= ECHO_MIN && !memcmp(c->data[0], c->data[1], a) ? VG_P_YES : VG_P_NO;
    if (b > a || memcmp(c->data[0], c->data[1], b))
        return VG_P_NO;
    return b >= ECHO_MIN ? VG_P_YES : (c->final ? VG_P_NO : VG_P_MORE);
}

VG_NET_PROTO(echo) = {.name = "echo", .tcp = 1, .udp = 1, .prio = 90, .detect = detect};
