/*
 * MySQL (and MariaDB): the server speaks first, a greeting packet (protocol
 * 10, NUL-ended version string) or an error packet; the client answers with
 * packet number 1. Fields: mysql.version, mysql.user, mysql.database,
 * mysql.query (the first COM_QUERY), mysql.error (server error codes, e.g.
 * 1045 access denied, repeated).
 */
#include "proto.h"

#define GREETING_MAX 1024

/* The header of the packet at p: payload length and sequence number. */
static int packet(const uint8_t *p, uint32_t n, uint32_t *len, uint8_t *seq)
{
    if (n < 4)
        return 0;
    *len = vg_le24(p);
    *seq = p[3];
    return 1;
}

static int greeting(const uint8_t *p, uint32_t n)
{
    uint32_t len;
    uint8_t seq;
    if (!packet(p, n, &len, &seq))
        return VG_P_MORE;
    if (seq != 0 || len < 3 || len > GREETING_MAX)
        return VG_P_NO;
    if (n < 5)
        return VG_P_MORE;
    if (p[4] == 0xff) /* error instead of a greeting: code, message */
        return VG_P_YES;
    if (p[4] != 10)
        return VG_P_NO;
    for (uint32_t i = 5; i < 4 + len; i++) {
        if (i >= n)
            return VG_P_MORE;
        if (!p[i])
            return i > 5 ? VG_P_YES : VG_P_NO;
        if (p[i] < 0x20 || p[i] >= 0x7f)
            return VG_P_NO;
    }
    return VG_P_NO;
}

static int detect(vg_pctx *c)
{
    int s = greeting(c->data[1], c->len[1]);
    if (s != VG_P_YES)
        return s == VG_P_MORE && (c->final || c->len[0]) ? VG_P_NO : s;
    if (!c->len[0])
        return c->final ? VG_P_YES : VG_P_MORE;
    uint32_t len;
    uint8_t seq;
    if (!packet(c->data[0], c->len[0], &len, &seq))
        return c->final ? VG_P_NO : VG_P_MORE;
    return seq == 1 && len >= 4 ? VG_P_YES : VG_P_NO;
}

static void cstring(vg_pctx *c, const char *key, const uint8_t *p, uint32_t n)
{
    const uint8_t *z = memchr(p, 0, n);
    if (z && z > p)
        vg_p_field(c, key, p, (size_t)(z - p));
}

/* The login request (packet 1): capabilities 4, max packet 4, charset 1,
 * 23 zero bytes, user NUL, auth data, database NUL when asked for. */
static void login(vg_pctx *c, const uint8_t *p, uint32_t len)
{
    if (len < 33)
        return;
    uint32_t caps = vg_le32(p);
    if (!(caps & 0x200)) /* CLIENT_PROTOCOL_41 only */
        return;
    if (len == 32) /* SSL request: TLS follows */
        return;
    const uint8_t *u = p + 32;
    uint32_t un = len - 32;
    const uint8_t *z = memchr(u, 0, un);
    if (!z)
        return;
    cstring(c, "mysql.user", u, un);
    uint32_t i = (uint32_t)(z - p) + 1;
    if (i >= len)
        return;
    if (caps & 0x200000) /* CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: length byte */
        i += 1 + p[i];
    else if (caps & 0x8000) /* CLIENT_SECURE_CONNECTION */
        i += 1 + p[i];
    else {
        const uint8_t *z2 = memchr(p + i, 0, len - i);
        i = z2 ? (uint32_t)(z2 - p) + 1 : len;
    }
    if ((caps & 0x8) && i < len) /* CLIENT_CONNECT_WITH_DB */
        cstring(c, "mysql.database", p + i, len - i);
}

static void server_packets(vg_pctx *c)
{
    const uint8_t *p = c->data[1];
    uint32_t n = c->len[1], len;
    uint8_t seq;
    for (uint32_t off = 0; packet(p + off, n - off, &len, &seq) && off + 4 + len <= n;
         off += 4 + len) {
        const uint8_t *b = p + off + 4;
        if (off == 0 && len > 1 && b[0] == 10)
            cstring(c, "mysql.version", b + 1, len - 1);
        if (len >= 3 && b[0] == 0xff)
            vg_p_field_u(c, "mysql.error", vg_le16(b + 1));
    }
}

static void client_packets(vg_pctx *c)
{
    const uint8_t *p = c->data[0];
    uint32_t n = c->len[0], len;
    uint8_t seq;
    for (uint32_t off = 0; packet(p + off, n - off, &len, &seq) && off + 4 + len <= n;
         off += 4 + len) {
        const uint8_t *b = p + off + 4;
        if (seq == 1 && off == 0)
            login(c, b, len);
        else if (seq == 0 && len > 1 && b[0] == 3 && !vg_field_has(c->f, "mysql.query")) {
            /* With query attributes (8.0.23+) two length-encoded counts
             * come first: no attributes is 0x00 0x01. */
            uint32_t skip = len > 3 && b[1] == 0 && b[2] == 1 ? 2 : 0;
            vg_p_field(c, "mysql.query", b + 1 + skip, len - 1 - skip);
        }
    }
}

static int parse(vg_pctx *c)
{
    server_packets(c);
    client_packets(c);
    return 0;
}

VG_NET_PROTO(mysql) = {.name = "mysql", .tcp = 1, .prio = 20, .detect = detect, .parse = parse};
