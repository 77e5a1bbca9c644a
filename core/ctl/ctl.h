/*
 * The control socket server: a unix stream socket (mode 0600; peers checked
 * with SO_PEERCRED: root, or members of the configured group), carrying the
 * frames of ctl_proto.h. Commands are registered by name with one descriptor
 * each; ctl_env.h registers the core's, plugins add theirs.
 *
 * Robustness: a bad frame (oversized, zero, not a request) gets an error
 * reply and the connection is closed; a client that stalls mid-frame is
 * dropped after an idle timeout; a client that does not read its replies is
 * dropped when its backlog passes a limit (streams drop events instead, and
 * count them). Nothing a client sends can block the loop.
 */
#ifndef VG_CTL_H
#define VG_CTL_H

#include <msgpack.h>
#include <sys/types.h>
#include <uv.h>

typedef struct vg_ctl vg_ctl;
typedef struct vg_ctl_conn vg_ctl_conn;

/* A handler returns this to keep the connection open as a stream after its
 * ok reply; the stream then receives frames via vg_ctl_conn_send(). */
#define VG_CTL_STREAM 1

typedef struct vg_ctl_call {
    vg_ctl_conn *conn;
    const msgpack_object *args; /* a map, or a nil object; never NULL */
    msgpack_packer *pk;         /* pack exactly one object: the result */
    void *arg;                  /* vg_ctl_cmd.arg */
    char error[1024];           /* message for a failed call ("" = strerror) */
} vg_ctl_call;

/* 0: ok, the packed object is the result. VG_CTL_STREAM: ok, then stream.
 * < 0: error; whatever was packed is discarded and call->error is sent. */
typedef int (*vg_ctl_fn)(vg_ctl_call *call);

typedef struct vg_ctl_cmd {
    const char *name; /* "status", "events", ...; copied */
    vg_ctl_fn fn;
    void *arg;
} vg_ctl_cmd;

typedef struct vg_ctl_opts {
    const char *path;         /* socket path; its directory must exist */
    gid_t gid;                /* group allowed besides root; (gid_t)-1 for none */
    size_t max_frame;         /* 0 = VG_CTL_MAX_FRAME */
    unsigned max_clients;     /* 0 = 64 */
    unsigned idle_timeout_ms; /* a half-sent request is dropped after this; 0 = 10000 */
} vg_ctl_opts;

/* Binds and listens. Refuses with -EADDRINUSE if another process answers on
 * the path; a stale socket file is replaced. */
int vg_ctl_open(uv_loop_t *loop, const vg_ctl_opts *opts, vg_ctl **out);

/* Closes every connection, removes the socket file; memory is released when
 * libuv has closed the handles (run the loop afterwards). */
void vg_ctl_close(vg_ctl *ctl);

/* -EEXIST if the name is taken, -ENOMEM. */
int vg_ctl_register(vg_ctl *ctl, const vg_ctl_cmd *cmd);

/* Runs the command `name` as a client's request would, without a socket,
 * and appends to out the reply map that client would get: {ok = true,
 * result} or {ok = false, error, errno} (also for an unknown command).
 * args is a map or NULL (no arguments). The handler gets no connection, so
 * a call that would turn into a stream is refused with -EOPNOTSUPP. For
 * unit tests of the commands and in-process callers. Returns 0, the
 * handler's negative errno (the error reply is packed), or -ENOMEM. */
int vg_ctl_call_local(vg_ctl *ctl, const char *name, const msgpack_object *args,
                      msgpack_sbuffer *out);

/* Per-connection user data for streams; free_fn runs when the connection
 * closes (at once for a call without a connection). */
void vg_ctl_conn_set_data(vg_ctl_conn *conn, void *data, void (*free_fn)(void *));
void *vg_ctl_conn_data(vg_ctl_conn *conn);
/* For streams: fn(conn, data) runs after a write completes while the
 * connection's backlog is at most half the limit past which frames are
 * dropped, so that a stream that fell behind can say what it dropped as
 * soon as the peer has caught up. */
void vg_ctl_conn_set_drain(vg_ctl_conn *conn, void (*fn)(vg_ctl_conn *conn, void *data));

/* Frames and queues payload for the peer. -ENOBUFS when the peer is too far
 * behind (the frame is dropped and counted), -EPIPE when closing. */
int vg_ctl_conn_send(vg_ctl_conn *conn, const void *payload, size_t len);

/* Calls fn for each connection that is streaming. */
void vg_ctl_foreach_stream(vg_ctl *ctl, void (*fn)(vg_ctl_conn *conn, void *arg), void *arg);

/* Counters for `vigilctl status`. */
typedef struct vg_ctl_stats {
    unsigned clients;
    uint64_t requests, bad_requests, stream_drops;
} vg_ctl_stats;
void vg_ctl_stats_get(const vg_ctl *ctl, vg_ctl_stats *out);

#endif
