/*
 * Couchbase data service (KV, port 11210 by default): the memcached binary
 * protocol with Couchbase's own commands, which its SDKs send first: HELLO
 * (0x1f), SELECT_BUCKET (0x89), GET_ERROR_MAP (0xfe), GET_CLUSTER_CONFIG
 * (0xb5), or the alternative request magic 0x08 (flexible framing). Checked
 * before memcached.
 */
#include "proto.h"

#define HDR 24

static int request(const uint8_t *p, uint32_t n)
{
    if (n < HDR)
        return n && p[0] != 0x80 && p[0] != 0x08 ? VG_P_NO : VG_P_MORE;
    if (p[0] == 0x08)
        return p[5] == 0 || p[5] <= 7 ? VG_P_YES : VG_P_NO;
    uint8_t op = p[1];
    if (p[0] != 0x80 || (op != 0x1f && op != 0x89 && op != 0xfe && op != 0xb5))
        return VG_P_NO;
    return vg_be16(p + 2) + (uint32_t)p[4] <= vg_be32(p + 8) ? VG_P_YES : VG_P_NO;
}

static int detect(vg_pctx *c)
{
    uint8_t m = c->data[1][0];
    return vg_p_verdict(c, request(c->data[0], c->len[0]),
                        m == 0x81 || m == 0x18 ? VG_P_YES : VG_P_NO);
}

static int parse(vg_pctx *c)
{
    /* HELLO carries the client's name as its key (often JSON with "a": agent). */
    const uint8_t *p = c->data[0];
    if (c->len[0] >= HDR && p[0] == 0x80 && p[1] == 0x1f) {
        uint32_t kl = vg_be16(p + 2), el = p[4];
        if (HDR + el + kl <= c->len[0] && kl)
            vg_p_field(c, "couchbase.agent", p + HDR + el, kl);
    }
    return 1;
}

VG_NET_PROTO(couchbase) = {
    .name = "couchbase",
    .tcp = 1,
    .prio = 10,
    .detect = detect,
    .parse = parse,
};
