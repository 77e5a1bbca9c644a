/*
 * A very small HTTP/1.1 server on the loop, for the metrics and health
 * endpoints: GET (or HEAD) only, one request per connection (answered with
 * "Connection: close"), requests of at most 4 KiB, at most 16 connections,
 * each dropped after 5 s without a whole request. Enough for Prometheus and
 * a kubelet probe; nothing a client sends can block the loop.
 *
 * Loop thread only.
 */
#ifndef VG_METRICS_HTTP_H
#define VG_METRICS_HTTP_H

#include <msgpack.h>
#include <uv.h>

typedef struct vg_http_server vg_http_server;

/* Answers GET `path`: fills body and returns the status (200, 404, ...);
 * *ctype is the Content-Type (a static string). */
typedef int (*vg_http_handler)(void *arg, const char *path, msgpack_sbuffer *body,
                               const char **ctype);

/* Listens on "HOST:PORT", "[V6]:PORT" or "PORT" (127.0.0.1). 0, or a
 * negative errno (-EADDRINUSE, -EINVAL for an address that does not parse). */
int vg_http_listen(uv_loop_t *loop, const char *addr, vg_http_handler fn, void *arg,
                   vg_http_server **out);

/* The port listened on (for a listen on port 0 in tests). */
int vg_http_port(const vg_http_server *s);

/* Closes the listener and every connection; memory goes when libuv has
 * closed the handles. NULL ok. */
void vg_http_close(vg_http_server *s);

#endif
