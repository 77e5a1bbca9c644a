/*
 * Kafka: size-prefixed requests (int32 size, int16 api key, int16 api
 * version, int32 correlation id, string client id) answered by responses
 * whose first field is the same correlation id. Fields: kafka.client_id,
 * kafka.api (the first request's api key).
 */
#include "proto.h"

#define API_MAX 100
#define MSG_MAX (100u << 20)

static int request(const uint8_t *p, uint32_t n)
{
    if (n < 14)
        return VG_P_MORE;
    uint32_t size = vg_be32(p);
    uint16_t api = vg_be16(p + 4), ver = vg_be16(p + 6);
    int16_t idlen = (int16_t)vg_be16(p + 12);
    if (size < 10 || size > MSG_MAX || api > API_MAX || ver > 20 || idlen < -1 || idlen > 255)
        return VG_P_NO;
    if (idlen > 0) {
        if (n < 14u + (uint32_t)idlen)
            return VG_P_MORE;
        for (int i = 0; i < idlen; i++)
            if (p[14 + i] < 0x20 || p[14 + i] >= 0x7f)
                return VG_P_NO;
    }
    return VG_P_YES;
}

static int detect(vg_pctx *c)
{
    int a = c->len[0] ? request(c->data[0], c->len[0]) : VG_P_MORE;
    if (a != VG_P_YES)
        return a == VG_P_MORE && c->final ? VG_P_NO : a;
    if (c->len[1] < 8)
        return c->final ? VG_P_NO : VG_P_MORE;
    const uint8_t *b = c->data[1];
    return vg_be32(b) >= 4 && vg_be32(b) <= MSG_MAX && vg_be32(b + 4) == vg_be32(c->data[0] + 8)
               ? VG_P_YES
               : VG_P_NO;
}

static int parse(vg_pctx *c)
{
    const uint8_t *p = c->data[0];
    int16_t idlen = (int16_t)vg_be16(p + 12);
    vg_p_field_u(c, "kafka.api", vg_be16(p + 4));
    if (idlen > 0 && c->len[0] >= 14u + (uint32_t)idlen)
        vg_p_field(c, "kafka.client_id", p + 14, (size_t)idlen);
    return 1;
}

VG_NET_PROTO(kafka) = {.name = "kafka", .tcp = 1, .prio = 20, .detect = detect, .parse = parse};
