/*
 * Cassandra CQL native protocol (v1-v5): a frame header of version (0x0N
 * request, 0x8N response), flags, stream id (1 byte before v3, 2 after),
 * opcode and int32 length. The client opens with OPTIONS or STARTUP; the
 * server answers SUPPORTED, READY, AUTHENTICATE or ERROR on the same stream.
 * Field: cassandra.version.
 */
#include "proto.h"

#define BODY_MAX (256u << 20)

/* Header length of a version, 0 if not one. */
static uint32_t hdr_len(uint8_t v)
{
    v &= 0x7f;
    return v >= 1 && v <= 2 ? 8 : v >= 3 && v <= 5 ? 9 : 0;
}

static int frame(const uint8_t *p, uint32_t n, int response, uint8_t *op, uint32_t *stream)
{
    if (n < 1)
        return VG_P_MORE;
    uint32_t h = hdr_len(p[0]);
    if (!h || (p[0] >> 7) != response)
        return VG_P_NO;
    if (n < h)
        return VG_P_MORE;
    *op = p[h - 5];
    *stream = h == 9 ? vg_be16(p + 2) : p[2];
    return p[1] <= 0x1f && vg_be32(p + h - 4) <= BODY_MAX ? VG_P_YES : VG_P_NO;
}

static int detect(vg_pctx *c)
{
    uint8_t op, sop;
    uint32_t st, sst;
    int a = frame(c->data[0], c->len[0], 0, &op, &st);
    if (a != VG_P_YES)
        return a == VG_P_MORE && c->final ? VG_P_NO : a;
    if (op != 0x05 && op != 0x01) /* OPTIONS, STARTUP */
        return VG_P_NO;
    int b = frame(c->data[1], c->len[1], 1, &sop, &sst);
    if (b != VG_P_YES)
        return b == VG_P_MORE && c->final ? VG_P_NO : b;
    int answer = sop == 0x06 || sop == 0x02 || sop == 0x03 || sop == 0x00;
    return answer && sst == st && (c->data[1][0] & 0x7f) == c->data[0][0] ? VG_P_YES : VG_P_NO;
}

static int parse(vg_pctx *c)
{
    vg_p_field_u(c, "cassandra.version", c->data[0][0] & 0x7f);
    return 1;
}

VG_NET_PROTO(cassandra) = {
    .name = "cassandra",
    .tcp = 1,
    .prio = 20,
    .detect = detect,
    .parse = parse,
};
