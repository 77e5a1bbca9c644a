/*
 * What a protocol file (proto/<name>.c) sees of the engine.
 *
 * Each protocol is one file that defines one descriptor:
 *
 *     VG_NET_PROTO(redis) = { .name = "redis", .tcp = 1, .detect = ..., .parse = ... };
 *
 * and nothing else needs touching: the build lists the files of proto/ into the
 * registry (flow/registry.c), which orders descriptors by .prio.
 *
 * detect() looks at the first bytes of both directions and answers
 * VG_P_YES (this is the protocol; c->as may name it by one of .also, as
 * http2 names gRPC), VG_P_NO (it cannot be) or VG_P_MORE (wait for more
 * bytes). It decides by content only: ports are not given to it.
 * With c->final set there are no more bytes coming: answer YES or NO. A
 * protocol that only one side of the flow shows must say MORE until the
 * other side speaks (or final), so that a client speaking HTTP to an SSH
 * server is not claimed as either.
 *
 * parse() runs once the flow is named, on every new bytes until it returns 1
 * (done) or the inspection budget ends; it adds fields with vg_p_field().
 * Both run on untrusted bytes: every read is bounds-checked.
 */
#ifndef VIGIL_NET_PROTO_H
#define VIGIL_NET_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <string.h>

#include "../net_int.h"

enum { VG_P_NO = 0, VG_P_MORE = 1, VG_P_YES = 2 };

typedef struct vg_pctx {
    vg_net_engine *e;
    vg_flow *f;
    uint8_t l4; /* IPPROTO_TCP / IPPROTO_UDP */
    int dir;    /* direction of the bytes that just came */
    int final;  /* no more bytes will come: decide now */
    /* TCP: the first bytes of each direction, in order, contiguous.
     * UDP: the latest datagram of each direction. */
    const uint8_t *data[2];
    uint32_t len[2];
    int full[2];    /* TCP: the buffer of that direction is full */
    uint8_t *state; /* 64 bytes of the named protocol's own, zeroed at naming */
    const char *as; /* detect: set to one of .also to name the flow so */
} vg_pctx;

typedef struct vg_net_proto {
    const char *name;        /* the application name it gives */
    const char *const *also; /* other names detect may give (c->as), NULL-ended */
    uint8_t tcp, udp;        /* the transports it runs on */
    int prio;                /* lower first: specific protocols before generic ones */
    int (*detect)(vg_pctx *c);
    int (*parse)(vg_pctx *c); /* optional */
} vg_net_proto;

#define VG_NET_PROTO(id) const vg_net_proto vg_proto_##id

/* Helpers for protocol files (flow/inspect.c). */
void vg_p_field(vg_pctx *c, const char *key, const uint8_t *val, size_t len);
void vg_p_field_str(vg_pctx *c, const char *key, const char *val);
void vg_p_field_u(vg_pctx *c, const char *key, unsigned long v);
void vg_p_anomaly(vg_pctx *c, const char *id);
void vg_p_dns_answer(vg_pctx *c, const char *name, int family, const uint8_t *addr, uint32_t ttl);

static inline uint16_t vg_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t vg_be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t vg_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t vg_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t vg_le24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline uint32_t vg_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 1 when [p, p+n) starts with the string s (n counts what is available). */
static inline int vg_starts(const uint8_t *p, uint32_t n, const char *s)
{
    size_t l = strlen(s);
    return n >= l && !memcmp(p, s, l);
}
/* Like vg_starts, but MORE when p is a strict prefix of s. */
static inline int vg_prefix(const uint8_t *p, uint32_t n, const char *s)
{
    size_t l = strlen(s);
    if (n >= l)
        return memcmp(p, s, l) ? VG_P_NO : VG_P_YES;
    return memcmp(p, s, n) ? VG_P_NO : VG_P_MORE;
}
/* The end of the line starting at p (index of '\r' or '\n'), or -1. */
static inline int vg_line_end(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n')
            return (int)i;
    return -1;
}
/* The decimal number at p (at most 9 digits), -1 when there is none. */
static inline long vg_num(const uint8_t *p, uint32_t n)
{
    long v = 0;
    uint32_t i = 0;
    for (; i < n && i < 9 && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (p[i] - '0');
    return i ? v : -1;
}
/* Finds s in [p, p+n), or NULL. */
static inline const uint8_t *vg_find(const uint8_t *p, uint32_t n, const char *s)
{
    return memmem(p, n, s, strlen(s));
}

/* The verdict of a client-first protocol from a, the client side's, and b,
 * the server side's (not looked at until the server has spoken). */
static inline int vg_p_verdict(const vg_pctx *c, int a, int b)
{
    if (a != VG_P_YES)
        return a == VG_P_MORE && c->final ? VG_P_NO : a;
    if (!c->len[1])
        return c->final ? VG_P_YES : VG_P_MORE;
    return b == VG_P_MORE && c->final ? VG_P_NO : b;
}

/* Shared by the protocols built on HTTP/1 (proto/http.c): VG_P_YES when p
 * starts with a whole request line "METHOD URI HTTP/1.x", MORE when it may. */
int vg_http_request(const uint8_t *p, uint32_t n);
/* The value of header name in the head of a request or response, or NULL. */
const uint8_t *vg_http_header(const uint8_t *p, uint32_t n, const char *name, uint32_t *vlen);
/* The verdict of an HTTP/1 flow once its request is whole: the server must
 * answer "HTTP/1." (MORE until it speaks, YES when final). */
int vg_http_confirm(const vg_pctx *c);
/* HTTP fields (method, host, path, status...), for the protocols on HTTP. */
int vg_http_parse(vg_pctx *c);
/* proto/http2.c: 1 when s is in the HPACK header blocks of an HTTP/2 stream,
 * as a literal or Huffman-coded. */
int vg_h2_has(const uint8_t *p, uint32_t n, const char *s);
/* proto/tls.c: fields of a ClientHello / ServerHello body (handshake header
 * excluded); dtls adds the cookie to the client's fixed part. */
void vg_tls_hello(vg_pctx *c, const uint8_t *p, uint32_t n, int server, int dtls);

#endif
