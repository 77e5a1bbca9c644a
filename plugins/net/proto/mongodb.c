/*
 * MongoDB wire protocol: a 16-byte little-endian header (message length,
 * request id, response-to, opcode) on every message. A request has
 * response-to 0 and a known opcode; the answer's response-to is the
 * request's id. Fields: mongodb.op (the first request's opcode name).
 */
#include "proto.h"

#define HDR 16
#define MSG_MAX (48u << 20)

static const char *op_name(uint32_t op)
{
    switch (op) {
    case 1:
        return "reply";
    case 2001:
        return "update";
    case 2002:
        return "insert";
    case 2004:
        return "query";
    case 2005:
        return "getmore";
    case 2006:
        return "delete";
    case 2007:
        return "killcursors";
    case 2012:
        return "compressed";
    case 2013:
        return "msg";
    default:
        return NULL;
    }
}

static int header(const uint8_t *p, uint32_t n, int reply)
{
    if (n < HDR)
        return VG_P_MORE;
    uint32_t len = vg_le32(p), op = vg_le32(p + 12);
    if (len < HDR + 4 || len > MSG_MAX || !op_name(op))
        return VG_P_NO;
    if (!reply && (vg_le32(p + 8) != 0 || op == 1))
        return VG_P_NO;
    return VG_P_YES;
}

static int detect(vg_pctx *c)
{
    int a = c->len[0] ? header(c->data[0], c->len[0], 0) : VG_P_MORE;
    if (a != VG_P_YES)
        return a == VG_P_MORE && c->final ? VG_P_NO : a;
    if (!c->len[1])
        /* Alone, only a message exactly as long as it says. */
        return c->final ? (vg_le32(c->data[0]) == c->len[0] ? VG_P_YES : VG_P_NO) : VG_P_MORE;
    int b = header(c->data[1], c->len[1], 1);
    if (b != VG_P_YES)
        return b == VG_P_MORE && c->final ? VG_P_NO : b;
    return vg_le32(c->data[1] + 8) == vg_le32(c->data[0] + 4) ? VG_P_YES : VG_P_NO;
}

static int parse(vg_pctx *c)
{
    const char *op = op_name(vg_le32(c->data[0] + 12));
    if (op)
        vg_p_field_str(c, "mongodb.op", op);
    return 1;
}

VG_NET_PROTO(mongodb) = {
    .name = "mongodb",
    .tcp = 1,
    .prio = 20,
    .detect = detect,
    .parse = parse,
};
