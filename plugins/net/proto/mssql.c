/*
 * Microsoft SQL Server's TDS: packets with an 8-byte header (type, status,
 * big-endian length, SPID, packet id, window). The client opens with
 * PRELOGIN (0x12) whose options table starts with VERSION, or LOGIN7 (0x10)
 * for old clients; the server answers with a tabular result (0x04).
 * Field: mssql.encryption (the client's PRELOGIN ENCRYPTION option).
 */
#include "proto.h"

#define HDR 8
#define PKT_MAX 32768

static int header(const uint8_t *p, uint32_t n, int server)
{
    if (n < HDR)
        return VG_P_MORE;
    uint32_t len = vg_be16(p + 2);
    if (len < HDR || len > PKT_MAX || p[1] > 0x1f || p[7] != 0)
        return VG_P_NO;
    if (server)
        return p[0] == 0x04 ? VG_P_YES : VG_P_NO;
    if (p[0] == 0x10)
        return VG_P_YES;
    /* PRELOGIN: option tokens (type, offset, length), the first VERSION (0) */
    if (p[0] != 0x12)
        return VG_P_NO;
    if (n < HDR + 5)
        return VG_P_MORE;
    return p[HDR] == 0 && vg_be16(p + HDR + 1) < len && vg_be16(p + HDR + 3) == 6 ? VG_P_YES
                                                                                  : VG_P_NO;
}

static int detect(vg_pctx *c)
{
    int a = c->len[0] ? header(c->data[0], c->len[0], 0) : VG_P_MORE;
    return vg_p_verdict(c, a, c->len[1] ? header(c->data[1], c->len[1], 1) : VG_P_MORE);
}

static int parse(vg_pctx *c)
{
    static const char *const enc[] = {"off", "on", "not-supported", "required"};
    const uint8_t *p = c->data[0];
    uint32_t n = c->len[0];
    if (n < HDR || p[0] != 0x12)
        return 1;
    for (uint32_t i = HDR; i + 5 <= n && p[i] != 0xff; i += 5) {
        uint32_t off = HDR + vg_be16(p + i + 1);
        if (p[i] == 1 && vg_be16(p + i + 3) >= 1 && off < n && p[off] <= 3)
            vg_p_field_str(c, "mssql.encryption", enc[p[off]]);
    }
    return 1;
}

VG_NET_PROTO(mssql) = {.name = "mssql", .tcp = 1, .prio = 20, .detect = detect, .parse = parse};
