/*
 * TLS and SSL records of each packet (a packet is read when it starts at a
 * record; records cut by the packet's end are read as far as they go):
 * - tls-heartbleed: a clear heartbeat request whose payload length does not
 *   fit its record (CVE-2014-0160); once encrypted, a heartbeat from the
 *   client before any application data (Zeek's rule: no client needs one
 *   then) or a heartbeat answer much larger than the request.
 * - tls-cipher-overflow: a ClientHello whose session id or cipher-suite
 *   list does not fit the hello that carries it.
 * - tls-sslv2: an SSL 2.0 hello (client offering only 2.0, or a server
 *   answering in 2.0); tls-sslv3: SSL 3.0 negotiated or the most a client
 *   offers; tls-old-version: TLS 1.0 or 1.1 negotiated by the ServerHello
 *   (TLS 1.3 keeps 1.2 there, never 1.0/1.1).
 */
#include <stdio.h>

#include "../proto/proto.h"
#include "threat.h"

#define REC_HDR 5
#define HB_PAD 16
#define HB_ANSWER_SLACK 64u

static void heartbeat(const vg_tpkt *p, const uint8_t *b, uint32_t avail, uint32_t rlen)
{
    vg_tflow *t = p->t;
    char d[80];
    int enc = t->tls & (p->dir ? TLS_CCS_SERVER : TLS_CCS_CLIENT);
    if (!enc) {
        if (avail >= 3 && b[0] == 1 && 3u + vg_be16(b + 1) + HB_PAD > rlen) {
            snprintf(d, sizeof(d), "heartbeat payload length %u in a record of %u", vg_be16(b + 1),
                     rlen);
            vg_threat_fire(p, VG_NET_T_TLS_HEARTBLEED, d);
        }
        return;
    }
    if (p->dir == 0) {
        t->tls |= TLS_HB_CLIENT;
        t->tls_hb_len = (uint16_t)rlen;
        if (!(t->tls & TLS_APPDATA))
            vg_threat_fire(p, VG_NET_T_TLS_HEARTBLEED,
                           "encrypted heartbeat before any application data");
    } else if ((t->tls & TLS_HB_CLIENT) && rlen > (uint32_t)t->tls_hb_len + HB_ANSWER_SLACK) {
        snprintf(d, sizeof(d), "heartbeat answer of %u bytes to a request of %u", rlen,
                 t->tls_hb_len);
        vg_threat_fire(p, VG_NET_T_TLS_HEARTBLEED, d);
    }
}

static void version(const vg_tpkt *p, uint16_t v, int negotiated)
{
    if (v == 0x0300)
        vg_threat_fire(p, VG_NET_T_TLS_SSLV3,
                       negotiated ? "SSL 3.0 negotiated" : "the client offers SSL 3.0 at most");
    else if (negotiated && (v == 0x0301 || v == 0x0302))
        vg_threat_fire(p, VG_NET_T_TLS_OLD_VERSION,
                       v == 0x0301 ? "TLS 1.0 negotiated" : "TLS 1.1 negotiated");
}

/* The body of a ClientHello (after its 4-byte handshake header). */
static void client_hello(const vg_tpkt *p, const uint8_t *h, uint32_t avail, uint32_t hlen)
{
    if (avail < 2)
        return;
    version(p, vg_be16(h), 0);
    if (avail < 35)
        return;
    uint32_t sid = h[34];
    char d[80];
    if (sid > 32 || 35 + sid > hlen) {
        snprintf(d, sizeof(d), "session id of %u bytes", sid);
        vg_threat_fire(p, VG_NET_T_TLS_CIPHER_OVERFLOW, d);
        return;
    }
    if (avail < 37 + sid)
        return;
    uint32_t cs = vg_be16(h + 35 + sid);
    if ((cs & 1) || cs == 0 || 37 + sid + cs > hlen) {
        snprintf(d, sizeof(d), "cipher suites of %u bytes in a hello of %u", cs, hlen);
        vg_threat_fire(p, VG_NET_T_TLS_CIPHER_OVERFLOW, d);
    }
}

static void handshake(const vg_tpkt *p, const uint8_t *b, uint32_t avail)
{
    if (avail < 4 || (p->t->tls & (p->dir ? TLS_CCS_SERVER : TLS_CCS_CLIENT)))
        return;
    uint32_t hlen = vg_be24(b + 1);
    if (b[0] == 1 && p->dir == 0)
        client_hello(p, b + 4, avail - 4, hlen);
    else if (b[0] == 2 && p->dir == 1 && avail >= 6)
        version(p, vg_be16(b + 4), 1);
}

/* SSL 2.0 record header (2 bytes, no padding) and its hello. */
static void sslv2(const vg_tpkt *p, const uint8_t *d, uint32_t n)
{
    if (n < 5)
        return;
    if (d[2] == 1 && p->dir == 0 && vg_be16(d + 3) == 0x0002)
        vg_threat_fire(p, VG_NET_T_TLS_SSLV2, "SSL 2.0 client hello");
    else if (d[2] == 4 && p->dir == 1 && n >= 7 && vg_be16(d + 5) == 0x0002)
        vg_threat_fire(p, VG_NET_T_TLS_SSLV2, "SSL 2.0 server hello");
}

void vg_thr_tls(const vg_tpkt *p)
{
    const uint8_t *d = p->data;
    uint32_t n = p->len;
    if ((d[0] & 0x80) && n >= 3 && (d[2] == 1 || d[2] == 4)) {
        sslv2(p, d, n);
        return;
    }
    for (uint32_t off = 0; off + REC_HDR <= n;) {
        const uint8_t *r = d + off;
        if (r[0] < 0x14 || r[0] > 0x18 || r[1] != 3)
            return;
        uint32_t rlen = vg_be16(r + 3), avail = n - off - REC_HDR;
        if (avail > rlen)
            avail = rlen;
        switch (r[0]) {
        case 0x14:
            p->t->tls |= p->dir ? TLS_CCS_SERVER : TLS_CCS_CLIENT;
            break;
        case 0x16:
            handshake(p, r + REC_HDR, avail);
            break;
        case 0x17:
            p->t->tls |= TLS_APPDATA;
            break;
        case 0x18:
            heartbeat(p, r + REC_HDR, avail, rlen);
            break;
        }
        off += REC_HDR + rlen;
    }
}
