/*
 * PostgreSQL: the client opens with a StartupMessage (protocol 3.0 or 2.0),
 * an SSLRequest, a GSSENCRequest or a CancelRequest, none of which has a
 * type byte; the server answers 'R' (authentication), 'E' (error), or one
 * byte 'S'/'N' to a request for encryption. Fields: postgresql.user,
 * postgresql.database, postgresql.application, postgresql.query (the first
 * simple or extended query), postgresql.error (SQLSTATE codes, repeated;
 * 28P01 is a wrong password), postgresql.ssl.
 */
#include "proto.h"

#define STARTUP_MAX 10000
#define CODE_V3 196608u
#define CODE_V2 131072u
#define CODE_CANCEL 80877102u
#define CODE_SSL 80877103u
#define CODE_GSS 80877104u

static int startup(const uint8_t *p, uint32_t n, uint32_t *code)
{
    if (n < 8)
        return n ? VG_P_MORE : VG_P_MORE;
    uint32_t len = vg_be32(p);
    *code = vg_be32(p + 4);
    if (*code == CODE_SSL || *code == CODE_GSS)
        return len == 8 ? VG_P_YES : VG_P_NO;
    if (*code == CODE_CANCEL)
        return len == 16 ? VG_P_YES : VG_P_NO;
    if (*code != CODE_V3 && *code != CODE_V2)
        return VG_P_NO;
    if (len < 9 || len > STARTUP_MAX)
        return VG_P_NO;
    if (n < len)
        return VG_P_MORE;
    return p[len - 1] == 0 ? VG_P_YES : VG_P_NO;
}

static int detect(vg_pctx *c)
{
    uint32_t code = 0;
    int a = startup(c->data[0], c->len[0], &code);
    if (a != VG_P_YES)
        return a == VG_P_MORE && c->final ? VG_P_NO : a;
    if (!c->len[1])
        return c->final ? VG_P_YES : VG_P_MORE;
    uint8_t b = c->data[1][0];
    if (code == CODE_SSL || code == CODE_GSS)
        return b == 'S' || b == 'N' || b == 'G' ? VG_P_YES : VG_P_NO;
    return b == 'R' || b == 'E' ? VG_P_YES : VG_P_NO;
}

static void startup_params(vg_pctx *c, const uint8_t *p, uint32_t len)
{
    static const struct {
        const char *param, *key;
    } keep[] = {
        {"user", "postgresql.user"},
        {"database", "postgresql.database"},
        {"application_name", "postgresql.application"},
    };
    for (uint32_t i = 8; i < len;) {
        const uint8_t *k = p + i, *kz = memchr(k, 0, len - i);
        if (!kz || kz == k)
            return;
        uint32_t v = (uint32_t)(kz - p) + 1;
        const uint8_t *vz = v < len ? memchr(p + v, 0, len - v) : NULL;
        if (!vz)
            return;
        for (size_t j = 0; j < sizeof(keep) / sizeof(keep[0]); j++)
            if (!strcmp((const char *)k, keep[j].param))
                vg_p_field(c, keep[j].key, p + v, (size_t)(vz - p - v));
        i = (uint32_t)(vz - p) + 1;
    }
}

/* Typed messages from offset off: type 1, length 4 (itself included). */
static void messages(vg_pctx *c, int dir, uint32_t off)
{
    const uint8_t *p = c->data[dir];
    uint32_t n = c->len[dir];
    while (off + 5 <= n) {
        uint8_t t = p[off];
        uint32_t len = vg_be32(p + off + 1);
        if (len < 4 || len > n - off - 1) /* (no off + 1 + len: it can wrap) */
            return;
        const uint8_t *b = p + off + 5;
        uint32_t bl = len - 4;
        if (dir == 0 && (t == 'Q' || t == 'P') && !vg_field_has(c->f, "postgresql.query")) {
            /* 'P' (Parse): statement name NUL, then the query NUL. */
            const uint8_t *q = b;
            if (t == 'P') {
                const uint8_t *z = memchr(b, 0, bl);
                q = z ? z + 1 : b + bl;
            }
            const uint8_t *qz = memchr(q, 0, (size_t)(b + bl - q));
            if (qz && qz > q)
                vg_p_field(c, "postgresql.query", q, (size_t)(qz - q));
        }
        if (dir == 1 && t == 'E') {
            for (uint32_t i = 0; i + 1 < bl && b[i];) {
                const uint8_t *z = memchr(b + i + 1, 0, bl - i - 1);
                if (!z)
                    break;
                if (b[i] == 'C')
                    vg_p_field(c, "postgresql.error", b + i + 1, (size_t)(z - b - i - 1));
                i = (uint32_t)(z - b) + 1;
            }
        }
        off += 1 + len;
    }
}

static int parse(vg_pctx *c)
{
    const uint8_t *p = c->data[0];
    uint32_t n = c->len[0];
    if (n < 8)
        return 0;
    uint32_t len = vg_be32(p), code = vg_be32(p + 4);
    if (code == CODE_SSL || code == CODE_GSS) {
        if (c->len[1] && c->data[1][0] == 'S') {
            vg_p_field_str(c, "postgresql.ssl", "yes");
            return 1; /* TLS follows */
        }
        if (n < 16)
            return 0;
        p += 8; /* the StartupMessage follows a refused request */
        n -= 8;
        len = vg_be32(p);
        code = vg_be32(p + 4);
    }
    if ((code == CODE_V3 || code == CODE_V2) && len <= n && len >= 8) {
        startup_params(c, p, len);
        messages(c, 0, (uint32_t)(p - c->data[0]) + len);
    }
    uint32_t soff = c->len[1] && (c->data[1][0] == 'N' || c->data[1][0] == 'S') &&
                            (c->len[1] == 1 || c->data[1][1] != 0)
                        ? 1
                        : 0;
    messages(c, 1, soff);
    return 0;
}

VG_NET_PROTO(postgresql) = {
    .name = "postgresql",
    .tcp = 1,
    .prio = 20,
    .detect = detect,
    .parse = parse,
};
