/*
 * HTTP/1 requests, packet by packet from the client (a request head is read
 * as far as its packet goes):
 * - http-negative-length: a Content-Length below zero;
 * - http-smuggling: Content-Length with Transfer-Encoding, two different
 *   Content-Lengths, or a message/... body (an HTTP message or MIME entity
 *   inside the request) that carries framing headers of its own, which a
 *   server decoding the entity applies to the outer stream (Zeek's
 *   smuggle-http-request trace);
 * - http-slowloris: connections to one server whose request head is still
 *   open slowloris_header_ms after it began, slowloris_conns of them within
 *   a minute;
 * - sql-injection in the query string's values and in a form body;
 * - struts-rce: OGNL in Content-Type (CVE-2017-5638).
 */
#include <stdio.h>
#include <strings.h>

#include "../proto/proto.h"
#include "threat.h"

#define K_SLOW 0x534c4f57
#define SLOW_WINDOW_US 60000000ull
#define VALUE_MAX 2048

typedef struct head {
    int cl_count, cl_differ, cl_negative, te, message_body, form;
    long cl;
} head;

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* The values of "a=1&b=2" through the SQL injection check. */
static void params(const vg_tpkt *p, const uint8_t *q, uint32_t n)
{
    char v[VALUE_MAX];
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        while (j < n && q[j] != '&' && q[j] != ';')
            j++;
        const uint8_t *eq = memchr(q + i, '=', j - i);
        const uint8_t *val = eq ? eq + 1 : q + i;
        size_t vl = vg_url_decode(val, (size_t)(q + j - val), v, sizeof(v));
        if (vl && vg_sqli(v, vl, 0)) {
            char d[96];
            snprintf(d, sizeof(d), "in a parameter: %.64s", v);
            vg_threat_fire(p, VG_NET_T_SQL_INJECTION, d);
            return;
        }
        i = j + 1;
    }
}

static void header(const vg_tpkt *p, head *h, const uint8_t *l, uint32_t n)
{
    const uint8_t *colon = memchr(l, ':', n);
    if (!colon)
        return;
    size_t kl = (size_t)(colon - l);
    const uint8_t *v = colon + 1, *end = l + n;
    while (v < end && is_space(*v))
        v++;
    uint32_t vl = (uint32_t)(end - v);
    if (kl == 14 && !strncasecmp((const char *)l, "Content-Length", 14)) {
        if (!vl)
            return; /* "Content-Length:" and nothing: no value to read */
        if (v[0] == '-') {
            h->cl_negative = 1;
            return;
        }
        long x = vg_num(v[0] == '+' ? v + 1 : v, vl - (v[0] == '+'));
        if (h->cl_count++ && x != h->cl)
            h->cl_differ = 1;
        h->cl = x;
    } else if (kl == 17 && !strncasecmp((const char *)l, "Transfer-Encoding", 17)) {
        h->te = 1;
    } else if (kl == 12 && !strncasecmp((const char *)l, "Content-Type", 12)) {
        if (vg_struts_ognl(v, vl))
            vg_threat_fire(p, VG_NET_T_STRUTS_RCE, "OGNL expression in Content-Type");
        h->message_body = vl >= 8 && !strncasecmp((const char *)v, "message/", 8);
        h->form =
            vl >= 33 && !strncasecmp((const char *)v, "application/x-www-form-urlencoded", 33);
    }
}

/* 1 when a line at the start of [b, b+n) or after a newline in it is a
 * framing header (Transfer-Encoding or Content-Length). */
static int framing_inside(const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i && b[i - 1] != '\n')
            continue;
        if ((n - i >= 18 && !strncasecmp((const char *)b + i, "Transfer-Encoding:", 18)) ||
            (n - i >= 15 && !strncasecmp((const char *)b + i, "Content-Length:", 15)))
            return 1;
    }
    return 0;
}

static void body_part(const vg_tpkt *p, const uint8_t *b, uint32_t n)
{
    vg_tflow *t = p->t;
    if (n > t->http_body_left)
        n = t->http_body_left;
    if (framing_inside(b, n))
        vg_threat_fire(p, VG_NET_T_HTTP_SMUGGLING, "framing headers inside a message/... body");
    t->http_body_left -= n;
}

/* The end of the head (index after the blank line), or 0 when not here. */
static uint32_t head_end(const uint8_t *d, uint32_t n)
{
    const uint8_t *e = vg_find(d, n, "\r\n\r\n");
    if (e)
        return (uint32_t)(e - d) + 4;
    e = vg_find(d, n, "\n\n");
    return e ? (uint32_t)(e - d) + 2 : 0;
}

static void request(const vg_tpkt *p)
{
    const uint8_t *d = p->data;
    uint32_t n = p->len, end = head_end(d, n), hn = end ? end : n;
    head h = {0};
    int le = vg_line_end(d, hn);
    if (le > 0) {
        const uint8_t *q = memchr(d, '?', (size_t)le);
        if (q) {
            const uint8_t *sp = memchr(q, ' ', (size_t)(d + le - q));
            params(p, q + 1, (uint32_t)((sp ? sp : d + le) - q - 1));
        }
    }
    for (uint32_t i = le < 0 ? hn : (uint32_t)le; i < hn;) {
        while (i < hn && (d[i] == '\r' || d[i] == '\n'))
            i++;
        int l = vg_line_end(d + i, hn - i);
        uint32_t ll = l < 0 ? hn - i : (uint32_t)l;
        if (ll)
            header(p, &h, d + i, ll);
        i += ll;
    }
    if (h.cl_negative)
        vg_threat_fire(p, VG_NET_T_HTTP_NEGATIVE_LENGTH, "negative Content-Length");
    if (h.cl_count && h.te)
        vg_threat_fire(p, VG_NET_T_HTTP_SMUGGLING, "Content-Length with Transfer-Encoding");
    else if (h.cl_differ)
        vg_threat_fire(p, VG_NET_T_HTTP_SMUGGLING, "two different Content-Lengths");
    vg_tflow *t = p->t;
    if (!end) {
        if (!t->http_open_us)
            t->http_open_us = p->e->now_us ? p->e->now_us : 1;
        return;
    }
    t->http_open_us = 0;
    if (h.form && h.cl > 0)
        params(p, d + end, n - end < (uint32_t)h.cl ? n - end : (uint32_t)h.cl);
    if (h.message_body && h.cl > 0) {
        t->http_body_left = (uint32_t)h.cl;
        body_part(p, d + end, n - end);
    }
}

static void slow(const vg_tpkt *p)
{
    vg_tflow *t = p->t;
    uint64_t now = p->e->now_us;
    if (t->http_slow || now - t->http_open_us < (uint64_t)p->conf->slowloris_header_ms * 1000)
        return;
    t->http_slow = 1;
    vg_meter *m = vg_threat_meter(p->e);
    uint16_t port = p->f->sport;
    int64_t c = vg_meter_add(m, K_SLOW, p->f->s, &port, sizeof(port), now, SLOW_WINDOW_US, 1);
    if (c < p->conf->slowloris_conns ||
        !vg_meter_report(m, K_SLOW, p->f->s, &port, sizeof(port), now, 3000000))
        return;
    char d[96];
    snprintf(d, sizeof(d), "%lld connections holding request heads open over %u ms", (long long)c,
             p->conf->slowloris_header_ms);
    vg_threat_fire(p, VG_NET_T_HTTP_SLOWLORIS, d);
}

void vg_thr_http(const vg_tpkt *p)
{
    if (p->dir != 0)
        return;
    vg_tflow *t = p->t;
    if (t->http_body_left) {
        body_part(p, p->data, p->len);
        return;
    }
    if (vg_http_request(p->data, p->len) != VG_P_NO) {
        request(p);
    } else if (t->http_open_us) {
        /* A continuation of an open head: does it end here (the blank line
         * may straddle the previous segment)? */
        uint8_t joined[8];
        uint32_t k = p->len < 4 ? p->len : 4;
        memcpy(joined, &t->tail, 4);
        memcpy(joined + 4, p->data, k);
        if (head_end(p->data, p->len) || head_end(joined, 4 + k))
            t->http_open_us = 0;
        else if (vg_threat_on(p, VG_NET_T_HTTP_SLOWLORIS))
            slow(p);
    }
    if (p->len >= 4)
        memcpy(&t->tail, p->data + p->len - 4, 4);
}
