/*
 * HTTP/2 in clear (h2c with prior knowledge): the client preface "PRI *
 * HTTP/2.0\r\n\r\nSM\r\n\r\n" then frames. Named "grpc" when a header block
 * says content-type application/grpc (HPACK literal or Huffman-coded) or a
 * DATA frame holds exactly one gRPC length-prefixed message; else "http2"
 * once the client's first HEADERS frame is whole. Field: http2.path when the
 * :path is a plain literal. (HTTP/2 over TLS is TLS, with tls.alpn "h2".)
 */
#include "proto.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN 24
#define FRAME_HDR 9
#define FRAMES_MAX 32
enum { F_DATA = 0, F_HEADERS = 1 };

/* HPACK's Huffman codes (RFC 7541 appendix B) of the 5- and 6-bit symbols,
 * which are all that "application/grpc" and "/etcdserverpb" use except 'v'. */
static int huff_code(char ch, uint32_t *code, int *bits)
{
    static const char five[] = "012aceiost";
    static const char six[] = " %-./3456789=A_bdfghlmnpru";
    const char *p;
    if ((p = strchr(five, ch)) && ch) {
        *code = (uint32_t)(p - five);
        *bits = 5;
        return 0;
    }
    if ((p = strchr(six, ch)) && ch) {
        *code = 0x14 + (uint32_t)(p - six);
        *bits = 6;
        return 0;
    }
    return -1;
}

/* The whole bytes of the Huffman coding of s (the last partial byte left
 * out); its length, or 0 when s has a symbol outside the table. */
static size_t huff_encode(const char *s, uint8_t *out, size_t max)
{
    uint64_t acc = 0;
    int nbits = 0;
    size_t o = 0;
    for (; *s; s++) {
        uint32_t code;
        int bits;
        if (huff_code(*s, &code, &bits) < 0)
            return 0;
        acc = acc << bits | code;
        nbits += bits;
        while (nbits >= 8 && o < max) {
            out[o++] = (uint8_t)(acc >> (nbits - 8));
            nbits -= 8;
        }
    }
    return o;
}

static int has_in(const uint8_t *p, uint32_t n, const char *s)
{
    uint8_t h[64];
    size_t hl = huff_encode(s, h, sizeof(h));
    return vg_find(p, n, s) || (hl >= 4 && memmem(p, n, h, hl));
}

/* Walks the frames after the preface (client) or from the start (server). */
typedef struct h2scan {
    int headers, grpc, whole;
} h2scan;

static void scan(const uint8_t *p, uint32_t n, uint32_t off, h2scan *o)
{
    for (int k = 0; k < FRAMES_MAX && off + FRAME_HDR <= n; k++) {
        uint32_t len = vg_be24(p + off);
        uint8_t type = p[off + 3];
        const uint8_t *b = p + off + FRAME_HDR;
        uint32_t avail = n - off - FRAME_HDR;
        if (avail > len)
            avail = len;
        if (type == F_HEADERS) {
            o->headers++;
            if (has_in(b, avail, "application/grpc"))
                o->grpc = 1;
        }
        /* gRPC message: compressed flag 0/1, 4-byte length, the rest */
        if (type == F_DATA && len >= 5 && avail >= 5 && b[0] <= 1 && vg_be32(b + 1) + 5 == len)
            o->grpc = 1;
        if (avail < len)
            return;
        off += FRAME_HDR + len;
        o->whole = k + 1;
    }
}

int vg_h2_has(const uint8_t *p, uint32_t n, const char *s)
{
    return n > PREFACE_LEN && vg_starts(p, n, PREFACE) &&
           has_in(p + PREFACE_LEN, n - PREFACE_LEN, s);
}

static int detect(vg_pctx *c)
{
    int r = vg_prefix(c->data[0], c->len[0], PREFACE);
    if (r != VG_P_YES)
        return r == VG_P_MORE && c->final ? VG_P_NO : r;
    h2scan cs = {0}, ss = {0};
    scan(c->data[0], c->len[0], PREFACE_LEN, &cs);
    scan(c->data[1], c->len[1], 0, &ss);
    if (cs.grpc || ss.grpc) {
        c->as = "grpc";
        return VG_P_YES;
    }
    if ((cs.headers && ss.headers) || c->final || c->full[0])
        return VG_P_YES;
    return VG_P_MORE;
}

static const char *const also[] = {"grpc", NULL};

VG_NET_PROTO(http2) = {.name = "http2", .also = also, .tcp = 1, .prio = 10, .detect = detect};
