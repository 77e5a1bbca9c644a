/* The metrics endpoint's HTTP server; see metrics_http.h. */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ_MAX 4096
#define CONNS_MAX 16
#define IDLE_MS 5000

typedef struct conn conn;

struct vg_http_server {
    uv_tcp_t tcp;
    uv_loop_t *loop;
    vg_http_handler fn;
    void *arg;
    conn *conns;
    unsigned nconns;
    int port;
    bool closing;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t idle;
    uv_write_t wr;
    vg_http_server *srv;
    conn *next;
    char req[REQ_MAX];
    size_t len;
    char *resp;
    int open_handles;
    bool answered;
};

static void conn_freed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->open_handles == 0) {
        free(c->resp);
        free(c);
    }
}

static void conn_close(conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    vg_http_server *s = c->srv;
    for (conn **pp = &s->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    s->nconns--;
    uv_close((uv_handle_t *)&c->tcp, conn_freed);
    uv_close((uv_handle_t *)&c->idle, conn_freed);
}

static void on_written(uv_write_t *w, int status)
{
    conn_close(w->data);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

static void respond(conn *c, int status, const char *ctype, const char *body, size_t len,
                    bool head)
{
    char hdr[256];
    int hl = snprintf(hdr, sizeof(hdr),
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      status, reason(status), ctype, len);
    size_t total = (size_t)hl + (head ? 0 : len);
    c->resp = malloc(total);
    if (!c->resp) {
        conn_close(c);
        return;
    }
    memcpy(c->resp, hdr, (size_t)hl);
    if (!head)
        memcpy(c->resp + hl, body, len);
    uv_buf_t b = uv_buf_init(c->resp, (unsigned)total);
    c->wr.data = c;
    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
        conn_close(c);
}

/* The request line of a whole header block: "GET /path HTTP/1.x". */
static void handle(conn *c)
{
    char method[8], path[256];
    c->req[c->len] = '\0';
    if (sscanf(c->req, "%7s %255s HTTP/1.%*c", method, path) != 2) {
        static const char msg[] = "bad request\n";
        respond(c, 400, "text/plain", msg, sizeof(msg) - 1, false);
        return;
    }
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        static const char msg[] = "only GET\n";
        respond(c, 405, "text/plain", msg, sizeof(msg) - 1, false);
        return;
    }
    char *q = strchr(path, '?'); /* a query string changes nothing */
    if (q)
        *q = '\0';
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    const char *ctype = "text/plain; charset=utf-8";
    int status = c->srv->fn(c->srv->arg, path, &body, &ctype);
    respond(c, status, ctype, body.data ? body.data : "", body.size, head);
    msgpack_sbuffer_destroy(&body);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    conn *c = h->data;
    *b = uv_buf_init(c->req + c->len, (unsigned)(REQ_MAX - 1 - c->len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    conn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->req[c->len] = '\0';
    if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
        handle(c);
    else if (c->len >= REQ_MAX - 1)
        respond(c, 400, "text/plain", "request too large\n", 18, false);
}

static void on_idle(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    vg_http_server *s = server->data;
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->idle);
    c->tcp.data = c->idle.data = c;
    c->open_handles = 2;
    c->next = s->conns;
    s->conns = c;
    s->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || s->nconns > CONNS_MAX) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->idle, on_idle, IDLE_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss)
{
    char host[64] = "127.0.0.1";
    const char *port = addr, *colon = strrchr(addr, ':');
    if (colon) {
        size_t hl = (size_t)(colon - addr);
        const char *h = addr;
        if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']')
            h++, hl -= 2;
        if (hl == 0 || hl >= sizeof(host))
            return -EINVAL;
        memcpy(host, h, hl);
        host[hl] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535)
        return -EINVAL;
    if (uv_ip4_addr(host, (int)p, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)ss) == 0 ? 0 : -EINVAL;
}

static void server_freed(uv_handle_t *h)
{
    free(h->data);
}

int vg_http_listen(uv_loop_t *loop, const char *addr, vg_http_handler fn, void *arg,
                   vg_http_server **out)
{
    struct sockaddr_storage ss;
    int rc = parse_addr(addr, &ss);
    if (rc < 0)
        return rc;
    vg_http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->fn = fn;
    s->arg = arg;
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    rc = uv_tcp_bind(&s->tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->tcp, 16, on_connection);
    if (rc < 0) {
        uv_close((uv_handle_t *)&s->tcp, server_freed);
        return rc;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    *out = s;
    return 0;
}

int vg_http_port(const vg_http_server *s)
{
    return s ? s->port : 0;
}

void vg_http_close(vg_http_server *s)
{
    if (!s)
        return;
    while (s->conns)
        conn_close(s->conns);
    uv_close((uv_handle_t *)&s->tcp, server_freed);
}
