/*
 * HTTP/1.x: a request line from the client and a status line from the
 * server. Fields: http.method, http.path, http.host, http.user_agent,
 * http.status, http.server, http.content_type. The request head decides; the
 * flow is named once the server answers "HTTP/1." (a client speaking HTTP to
 * an SSH server is not HTTP).
 */
#include <strings.h>

#include "proto.h"

#define HEAD_MAX 2048 /* a request line not ended by then is not HTTP */

static const char *const methods[] = {
    "GET ",     "POST ",   "PUT ",      "DELETE ",    "HEAD ",  "OPTIONS ", "PATCH ",
    "CONNECT ", "TRACE ",  "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ",    "MOVE ",
    "LOCK ",    "UNLOCK ", "REPORT ",   "SEARCH ",    NULL,
};

int vg_http_request(const uint8_t *p, uint32_t n)
{
    int r = VG_P_NO;
    for (int i = 0; methods[i] && r == VG_P_NO; i++)
        r = vg_prefix(p, n, methods[i]);
    if (r != VG_P_YES)
        return r;
    int end = vg_line_end(p, n);
    if (end < 0)
        return n < HEAD_MAX ? VG_P_MORE : VG_P_NO;
    if (end < 14 || memcmp(p + end - 9, " HTTP/1.", 8) || (p[end - 1] != '0' && p[end - 1] != '1'))
        return VG_P_NO;
    for (int i = 0; i < end; i++)
        if (p[i] < 0x20 || p[i] >= 0x7f)
            return VG_P_NO;
    return VG_P_YES;
}

const uint8_t *vg_http_header(const uint8_t *p, uint32_t n, const char *name, uint32_t *vlen)
{
    size_t nl = strlen(name);
    int le = vg_line_end(p, n);
    for (uint32_t i = le < 0 ? n : (uint32_t)le;;) {
        if (i < n && p[i] == '\r')
            i++;
        if (i < n && p[i] == '\n')
            i++;
        if (i >= n || p[i] == '\r' || p[i] == '\n')
            return NULL; /* the end of the buffer or of the head */
        le = vg_line_end(p + i, n - i);
        if (le < 0)
            return NULL; /* a header cut by the buffer is not given */
        if ((size_t)le > nl && p[i + nl] == ':' && !strncasecmp((const char *)p + i, name, nl)) {
            uint32_t v = i + (uint32_t)nl + 1;
            while (v < i + (uint32_t)le && (p[v] == ' ' || p[v] == '\t'))
                v++;
            *vlen = i + (uint32_t)le - v;
            return p + v;
        }
        i += (uint32_t)le;
    }
}

int vg_http_confirm(const vg_pctx *c)
{
    if (!c->len[1])
        return c->final ? VG_P_YES : VG_P_MORE;
    int r = vg_prefix(c->data[1], c->len[1], "HTTP/1.");
    return r == VG_P_MORE && c->final ? VG_P_NO : r;
}

static int detect(vg_pctx *c)
{
    int r = vg_http_request(c->data[0], c->len[0]);
    if (r == VG_P_MORE && c->final)
        return VG_P_NO;
    return r == VG_P_YES ? vg_http_confirm(c) : r;
}

static void header_field(vg_pctx *c, int dir, const char *name, const char *key)
{
    uint32_t vl;
    const uint8_t *v = vg_http_header(c->data[dir], c->len[dir], name, &vl);
    if (v)
        vg_p_field(c, key, v, vl);
}

/* The fields that matter most first: the arena of a flow is bounded, and a
 * long path or user agent must not push out the host or the status. */
int vg_http_parse(vg_pctx *c)
{
    const uint8_t *p = c->data[0];
    const uint8_t *s = c->data[1];
    uint32_t sn = c->len[1];
    int end = vg_line_end(p, c->len[0]);
    int answered = sn >= 12 && vg_starts(s, sn, "HTTP/1.") && s[8] == ' ';
    const uint8_t *sp = end > 0 ? memchr(p, ' ', (size_t)end) : NULL;
    const uint8_t *sp2 = sp ? memchr(sp + 1, ' ', (size_t)(p + end - sp - 1)) : NULL;
    if (sp && sp2)
        vg_p_field(c, "http.method", p, (size_t)(sp - p));
    header_field(c, 0, "Host", "http.host");
    if (answered)
        vg_p_field(c, "http.status", s + 9, 3);
    if (sp && sp2)
        vg_p_field(c, "http.path", sp + 1, (size_t)(sp2 - sp - 1));
    header_field(c, 0, "User-Agent", "http.user_agent");
    if (!answered)
        return 0;
    header_field(c, 1, "Server", "http.server");
    header_field(c, 1, "Content-Type", "http.content_type");
    return 1;
}

VG_NET_PROTO(http) = {
    .name = "http",
    .tcp = 1,
    .prio = 20,
    .detect = detect,
    .parse = vg_http_parse,
};
