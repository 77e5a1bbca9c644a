/*
 * DTLS (RFC 6347, 9147): a UDP datagram that is a whole DTLS record header
 * (content type 20-23, version 1.0/1.2/1.3, epoch, sequence, length within
 * the datagram); a ClientHello in epoch 0 names the flow at once, other
 * records wait for the other side to agree. Fields as TLS: tls.version
 * (dtls1.0, dtls1.2...), tls.client_version, tls.sni, tls.alpn.
 */
#include "proto.h"

#define HDR 13

static int record(const uint8_t *p, uint32_t n)
{
    if (n < HDR)
        return VG_P_NO;
    uint16_t v = vg_be16(p + 1);
    if (p[0] < 20 || p[0] > 23 || (v != 0xfeff && v != 0xfefd && v != 0xfefc))
        return VG_P_NO;
    return HDR + (uint32_t)vg_be16(p + 11) <= n ? VG_P_YES : VG_P_NO;
}

static int client_hello(const uint8_t *p, uint32_t n)
{
    return record(p, n) == VG_P_YES && p[0] == 22 && n >= HDR + 12 && p[HDR] == 1 &&
           !vg_be16(p + 3);
}

static int detect(vg_pctx *c)
{
    int a = c->len[0] ? record(c->data[0], c->len[0]) : VG_P_MORE;
    int b = c->len[1] ? record(c->data[1], c->len[1]) : VG_P_MORE;
    if (a == VG_P_NO || b == VG_P_NO)
        return VG_P_NO;
    if (client_hello(c->data[0], c->len[0]) || (a == VG_P_YES && b == VG_P_YES))
        return VG_P_YES;
    return VG_P_MORE;
}

/* Hellos: handshake header 12 bytes (type, length 3, seq 2, frag off 3, frag len 3). */
static int parse(vg_pctx *c)
{
    const uint8_t *p = c->data[c->dir];
    uint32_t n = c->len[c->dir];
    if (record(p, n) != VG_P_YES || p[0] != 22 || n < HDR + 12)
        return 0;
    uint8_t t = p[HDR];
    if ((t == 1 && c->dir == 0) || (t == 2 && c->dir == 1)) {
        uint32_t body = vg_be24(p + HDR + 9); /* fragment length */
        uint32_t avail = n - HDR - 12;
        vg_tls_hello(c, p + HDR + 12, body < avail ? body : avail, c->dir, 1);
    }
    return vg_field_has(c->f, "tls.version");
}

VG_NET_PROTO(dtls) = {.name = "dtls", .udp = 1, .prio = 10, .detect = detect, .parse = parse};
