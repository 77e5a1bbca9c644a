/*
 * TLS and SSL (SSLv2 hello format included): a handshake record carrying a
 * ClientHello from the client, answered by a handshake or an alert record.
 * Fields: tls.client_version (the highest the client offers), tls.version
 * (negotiated, from the ServerHello and its supported_versions),
 * tls.sni, tls.alpn (offered, comma-separated), tls.alpn_selected,
 * tls.alert (a fatal alert's description code).
 */
#include <stdio.h>

#include "proto.h"

#define REC_MAX (16384 + 2048)

static const char *version_name(uint16_t v, int dtls)
{
    switch (v) {
    case 0x0002:
        return "sslv2";
    case 0x0300:
        return "sslv3";
    case 0x0301:
        return "tls1.0";
    case 0x0302:
        return "tls1.1";
    case 0x0303:
        return "tls1.2";
    case 0x0304:
        return "tls1.3";
    case 0xfeff:
        return "dtls1.0";
    case 0xfefd:
        return "dtls1.2";
    case 0xfefc:
        return "dtls1.3";
    default:
        return dtls ? "dtls" : "unknown";
    }
}

static int grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a;
}

/* DTLS numbers its versions downwards. */
static int newer(uint16_t a, uint16_t b, int dtls)
{
    return dtls ? a < b : a > b;
}

static void ext_sni(vg_pctx *c, const uint8_t *p, uint32_t n)
{
    if (n < 5 || p[2] != 0)
        return;
    uint32_t l = vg_be16(p + 3);
    if (l && 5 + l <= n)
        vg_p_field(c, "tls.sni", p + 5, l);
}

static void ext_alpn(vg_pctx *c, const uint8_t *p, uint32_t n, int server)
{
    char out[VG_FIELD_VALUE_MAX];
    size_t o = 0;
    uint32_t list = n >= 2 ? vg_be16(p) : 0;
    for (uint32_t i = 2; i < 2 + list && i < n;) {
        uint32_t l = p[i];
        if (!l || i + 1 + l > n || o + l + 1 >= sizeof(out))
            break;
        if (o)
            out[o++] = ',';
        memcpy(out + o, p + i + 1, l);
        o += l;
        i += 1 + l;
    }
    if (o)
        vg_p_field(c, server ? "tls.alpn_selected" : "tls.alpn", (const uint8_t *)out, o);
}

/* The highest version in a client's supported_versions, or the server's choice. */
static uint16_t ext_versions(const uint8_t *p, uint32_t n, int server, int dtls)
{
    if (server)
        return n >= 2 ? vg_be16(p) : 0;
    uint16_t best = 0;
    for (uint32_t i = 1; n && i + 1 < n && i <= p[0]; i += 2) {
        uint16_t v = vg_be16(p + i);
        if (!grease(v) && (!best || newer(v, best, dtls)))
            best = v;
    }
    return best;
}

void vg_tls_hello(vg_pctx *c, const uint8_t *p, uint32_t n, int server, int dtls)
{
    if (n < 35)
        return;
    uint16_t version = vg_be16(p);
    uint32_t i = 34;
    i += 1 + p[i]; /* session id */
    if (dtls && !server && i < n)
        i += 1 + p[i]; /* cookie */
    if (server) {
        i += 3; /* cipher suite, compression */
    } else {
        if (i + 2 > n)
            goto out;
        i += 2 + vg_be16(p + i); /* cipher suites */
        if (i + 1 > n)
            goto out;
        i += 1 + p[i]; /* compression methods */
    }
    if (i + 2 <= n) {
        uint32_t end = i + 2 + vg_be16(p + i);
        if (end > n)
            end = n;
        for (i += 2; i + 4 <= end;) {
            uint16_t type = vg_be16(p + i);
            uint32_t l = vg_be16(p + i + 2);
            if (i + 4 + l > end)
                break;
            const uint8_t *x = p + i + 4;
            if (type == 0 && !server)
                ext_sni(c, x, l);
            else if (type == 16)
                ext_alpn(c, x, l, server);
            else if (type == 43) {
                uint16_t v = ext_versions(x, l, server, dtls);
                if (v)
                    version = v;
            }
            i += 4 + l;
        }
    }
out:
    vg_p_field_str(c, server ? "tls.version" : "tls.client_version", version_name(version, dtls));
}

/* Client: a TLS handshake record with a ClientHello, or an SSLv2 CLIENT-HELLO. */
static int client_hello(const uint8_t *p, uint32_t n)
{
    if (!n)
        return VG_P_MORE;
    if (p[0] == 0x16) {
        if (n < 6)
            return VG_P_MORE;
        uint32_t l = vg_be16(p + 3);
        return p[1] == 3 && p[2] <= 4 && l >= 4 && l <= REC_MAX && p[5] == 1 ? VG_P_YES : VG_P_NO;
    }
    if (p[0] & 0x80) {
        if (n < 5)
            return VG_P_MORE;
        uint16_t v = vg_be16(p + 3);
        return p[2] == 1 && (v == 0x0002 || (v >= 0x0300 && v <= 0x0304)) ? VG_P_YES : VG_P_NO;
    }
    return VG_P_NO;
}

/* Server: a handshake or alert record, or an SSLv2 SERVER-HELLO / ERROR. */
static int server_reply(const uint8_t *p, uint32_t n)
{
    if (n < 3)
        return VG_P_MORE;
    if ((p[0] == 0x16 || p[0] == 0x15) && p[1] == 3 && p[2] <= 4)
        return VG_P_YES;
    if ((p[0] & 0x80) && (p[2] == 4 || p[2] == 0))
        return VG_P_YES;
    return VG_P_NO;
}

static int detect(vg_pctx *c)
{
    int a = client_hello(c->data[0], c->len[0]);
    return vg_p_verdict(c, a, c->len[1] ? server_reply(c->data[1], c->len[1]) : VG_P_MORE);
}

/* The first handshake message of a direction's first record. */
static void first_hello(vg_pctx *c, int dir)
{
    const uint8_t *p = c->data[dir];
    uint32_t n = c->len[dir];
    if (n >= 5 && (p[0] & 0x80) && p[0] != 0x16 && p[0] != 0x15) { /* SSLv2 */
        if (dir == 0 && p[2] == 1)
            vg_p_field_str(c, "tls.client_version", version_name(vg_be16(p + 3), 0));
        else if (dir == 1 && p[2] == 4 && n >= 7)
            vg_p_field_str(c, "tls.version", version_name(vg_be16(p + 5), 0));
        return;
    }
    if (p[0] == 0x15 && dir == 1 && n >= 7 && p[5] == 2) {
        vg_p_field_u(c, "tls.alert", p[6]);
        return;
    }
    if (n < 9)
        return;
    if (p[0] != 0x16 || p[5] != (dir ? 2 : 1))
        return;
    uint32_t rec = vg_be16(p + 3), hs = vg_be24(p + 6);
    uint32_t avail = n - 9;
    if (avail > rec - 4 && rec >= 4)
        avail = rec - 4;
    vg_tls_hello(c, p + 9, hs < avail ? hs : avail, dir, 0);
}

static int parse(vg_pctx *c)
{
    uint8_t *done = c->state;
    for (int d = 0; d < 2; d++)
        if (!(done[0] & (1 << d)) && c->len[d] >= 7 &&
            (c->full[d] || c->final || c->len[d] >= 5u + vg_be16(c->data[d] + 3) ||
             (c->data[d][0] & 0x80))) {
            first_hello(c, d);
            done[0] |= (uint8_t)(1 << d);
        }
    return done[0] == 3;
}

VG_NET_PROTO(tls) = {.name = "tls", .tcp = 1, .prio = 10, .detect = detect, .parse = parse};
