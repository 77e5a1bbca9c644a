/*
 * Memcached: the text protocol (a command line such as "get k\r\n", "set k
 * 0 0 5\r\n", "stats\r\n", meta commands "mg k v\r\n") answered by a reply
 * line (VALUE, END, STORED, STAT, HD, EN...), or the binary protocol (magic
 * 0x80 request, 0x81 response, consistent lengths). Over UDP each datagram
 * starts with an 8-byte frame header. Field: memcached.command.
 */
#include <ctype.h>

#include "proto.h"

#define BIN_HDR 24
#define LINE_MAX_LEN 2048

static const char *const cmds[] = {
    "get ",  "gets ",   "set ",      "add ",         "replace ", "append ", "prepend ",
    "cas ",  "incr ",   "decr ",     "delete ",      "touch ",   "gat ",    "gats ",
    "stats", "version", "flush_all", "verbosity ",   "mg ",      "ms ",     "md ",
    "ma ",   "mn\r",    "me ",       "lru_crawler ", "watch",    NULL};
static const char *const replies[] = {"VALUE ",
                                      "END\r\n",
                                      "STORED\r\n",
                                      "NOT_STORED\r\n",
                                      "EXISTS\r\n",
                                      "NOT_FOUND\r\n",
                                      "DELETED\r\n",
                                      "TOUCHED\r\n",
                                      "STAT ",
                                      "VERSION ",
                                      "OK\r\n",
                                      "ERROR",
                                      "CLIENT_ERROR ",
                                      "SERVER_ERROR ",
                                      "HD",
                                      "VA ",
                                      "EN\r\n",
                                      "NF",
                                      "NS",
                                      "EX",
                                      "MN\r\n",
                                      "ME ",
                                      NULL};

static int one_of(const char *const *list, const uint8_t *p, uint32_t n)
{
    int r = VG_P_NO;
    for (int i = 0; list[i] && r != VG_P_YES; i++) {
        int x = vg_prefix(p, n, list[i]);
        if (x > r)
            r = x;
    }
    return r;
}

static int text_request(const uint8_t *p, uint32_t n)
{
    int r = one_of(cmds, p, n);
    if (r != VG_P_YES)
        return r;
    int end = vg_line_end(p, n);
    if (end < 0)
        return n < LINE_MAX_LEN ? VG_P_MORE : VG_P_NO;
    for (int i = 0; i < end; i++)
        if (p[i] < 0x20 || p[i] >= 0x7f)
            return VG_P_NO;
    return VG_P_YES;
}

static int binary(const uint8_t *p, uint32_t n, uint8_t magic)
{
    if (n < BIN_HDR)
        return VG_P_MORE;
    uint32_t keylen = vg_be16(p + 2), extlen = p[4], body = vg_be32(p + 8);
    return p[0] == magic && p[5] == 0 && keylen + extlen <= body ? VG_P_YES : VG_P_NO;
}

/* UDP frame header: request id, sequence 0, count >= 1, reserved 0. */
static uint32_t udp_skip(const vg_pctx *c, int d)
{
    const uint8_t *p = c->data[d];
    if (c->l4 != IPPROTO_UDP)
        return 0;
    return c->len[d] >= 8 && vg_be16(p + 4) >= 1 && !vg_be16(p + 6) ? 8 : c->len[d] + 1;
}

static int detect(vg_pctx *c)
{
    uint32_t s0 = udp_skip(c, 0), s1 = udp_skip(c, 1);
    if (s0 > c->len[0] || (c->len[1] && s1 > c->len[1]))
        return c->len[0] ? VG_P_NO : VG_P_MORE;
    const uint8_t *a = c->data[0] + s0, *b = c->data[1] + s1;
    uint32_t na = c->len[0] - s0, nb = c->len[1] ? c->len[1] - s1 : 0;
    int r = na && a[0] == 0x80 ? binary(a, na, 0x80) : na ? text_request(a, na) : VG_P_MORE;
    if (r != VG_P_YES)
        return r == VG_P_MORE && c->final ? VG_P_NO : r;
    if (!nb)
        return c->final ? VG_P_YES : VG_P_MORE;
    if (a[0] == 0x80)
        r = binary(b, nb, 0x81);
    else
        r = one_of(replies, b, nb);
    return r == VG_P_MORE && c->final ? VG_P_NO : r;
}

static int parse(vg_pctx *c)
{
    uint32_t s0 = udp_skip(c, 0);
    if (s0 >= c->len[0])
        return 1;
    const uint8_t *p = c->data[0] + s0;
    uint32_t n = c->len[0] - s0, w = 0;
    if (p[0] == 0x80) {
        vg_p_field_u(c, "memcached.opcode", n > 1 ? p[1] : 0);
        return 1;
    }
    while (w < n && w < 16 && (isalpha(p[w]) || p[w] == '_'))
        w++;
    if (w)
        vg_p_field(c, "memcached.command", p, w);
    return 1;
}

VG_NET_PROTO(memcached) = {
    .name = "memcached",
    .tcp = 1,
    .udp = 1,
    .prio = 30,
    .detect = detect,
    .parse = parse,
};
