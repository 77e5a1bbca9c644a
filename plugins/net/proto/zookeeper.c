/*
 * ZooKeeper: a client session opens with a ConnectRequest (int32 length,
 * protocol version 0, last zxid, timeout, session id, a 16-byte password,
 * optionally read-only), answered by a ConnectResponse; admin clients send
 * a four-letter word (ruok, stat, mntr...) and read text back.
 * Field: zookeeper.command for four-letter words.
 */
#include "proto.h"

static const char *const words[] = {"ruok", "stat", "srvr", "mntr", "conf", "cons",
                                    "crst", "dump", "envi", "wchs", "wchc", "wchp",
                                    "dirs", "isro", "gtmk", "stmk", "srst", NULL};

static int four_letter(const uint8_t *p, uint32_t n)
{
    if (n != 4)
        return 0;
    for (int i = 0; words[i]; i++)
        if (!memcmp(p, words[i], 4))
            return 1;
    return 0;
}

static int connect_request(const uint8_t *p, uint32_t n)
{
    if (n < 48)
        return VG_P_MORE;
    uint32_t len = vg_be32(p);
    return (len == 44 || len == 45) && vg_be32(p + 4) == 0 && vg_be32(p + 28) == 16 ? VG_P_YES
                                                                                    : VG_P_NO;
}

static int detect(vg_pctx *c)
{
    const uint8_t *a = c->data[0], *b = c->data[1];
    if (four_letter(a, c->len[0])) {
        if (!c->len[1])
            return c->final ? VG_P_NO : VG_P_MORE;
        return b[0] >= 0x20 && b[0] < 0x7f ? VG_P_YES : VG_P_NO;
    }
    int r = c->len[0] ? connect_request(a, c->len[0]) : VG_P_MORE;
    if (r != VG_P_YES)
        return r == VG_P_MORE && c->final ? VG_P_NO : r;
    if (c->len[1] < 40)
        return c->final ? VG_P_YES : VG_P_MORE;
    uint32_t len = vg_be32(b);
    return (len == 36 || len == 37) && vg_be32(b + 4) == 0 && vg_be32(b + 20) == 16 ? VG_P_YES
                                                                                    : VG_P_NO;
}

static int parse(vg_pctx *c)
{
    if (four_letter(c->data[0], c->len[0]))
        vg_p_field(c, "zookeeper.command", c->data[0], 4);
    return 1;
}

VG_NET_PROTO(zookeeper) = {
    .name = "zookeeper",
    .tcp = 1,
    .prio = 15,
    .detect = detect,
    .parse = parse,
};
