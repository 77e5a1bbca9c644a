/*
 * SSH: both sides open with an identification line "SSH-protoversion-
 * softwareversion" (RFC 4253 4.2). Fields: ssh.client, ssh.server (the
 * lines whole, e.g. "SSH-2.0-OpenSSH_9.6"); SSH-1.x shows there.
 */
#include "proto.h"

static int side(const uint8_t *p, uint32_t n)
{
    return n ? vg_prefix(p, n, "SSH-") : VG_P_MORE;
}

static int detect(vg_pctx *c)
{
    int a = side(c->data[0], c->len[0]), b = side(c->data[1], c->len[1]);
    if (a == VG_P_NO || b == VG_P_NO)
        return VG_P_NO;
    if (a == VG_P_YES && b == VG_P_YES)
        return VG_P_YES;
    return c->final && (a == VG_P_YES || b == VG_P_YES) ? VG_P_YES : VG_P_MORE;
}

static int version_line(vg_pctx *c, int dir, const char *key)
{
    int end = vg_line_end(c->data[dir], c->len[dir]);
    if (end < 4 || !vg_starts(c->data[dir], c->len[dir], "SSH-"))
        return 0;
    vg_p_field(c, key, c->data[dir], (size_t)end);
    return 1;
}

static int parse(vg_pctx *c)
{
    int a = version_line(c, 0, "ssh.client");
    int b = version_line(c, 1, "ssh.server");
    return a && b;
}

VG_NET_PROTO(ssh) = {.name = "ssh", .tcp = 1, .prio = 10, .detect = detect, .parse = parse};
