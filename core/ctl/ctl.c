/* The control socket server; see ctl.h. */
#include "ctl.h"

#include "ctl_proto.h"
#include "log.h"
#include "mp.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_MAX_CLIENTS 64
#define DEFAULT_IDLE_MS 10000
/* Slots only root may take once the others are full (slots_full). */
#define ROOT_RESERVED 4
/* A request/response client that lets this much of its replies pile up is
 * not reading them; it is dropped so that it cannot pin daemon memory. */
#define REPLY_BACKLOG_MAX (8u << 20)
/* A stream subscriber this far behind loses frames (counted) rather than
 * its connection, so that a burst of events does not cut a follower off. */
#define STREAM_BACKLOG_MAX (1u << 20)
#define READ_CHUNK 4096
/* A read buffer grown for one big request is given back once empty. */
#define READ_KEEP (64u << 10)
#define MAX_GROUPS 256

typedef struct cmd_entry {
    char *name;
    vg_ctl_fn fn;
    void *arg;
} cmd_entry;

struct vg_ctl {
    uv_loop_t *loop;
    uv_pipe_t listener;
    char *path;
    dev_t dev; /* identity of the socket file we bound, so that close */
    ino_t ino; /* never removes a file some later daemon put there */
    gid_t gid;
    size_t max_frame;
    unsigned max_clients, idle_ms;
    cmd_entry *cmds;
    size_t ncmds, cap_cmds;
    vg_ctl_conn *conns; /* every conn whose memory is alive, closing or not */
    unsigned refs;      /* the listener plus each conn; the last one frees */
    bool closing;
    vg_ctl_stats stats;
};

struct vg_ctl_conn {
    vg_ctl *ctl;
    vg_ctl_conn *prev, *next;
    uv_pipe_t pipe;
    uv_timer_t timer; /* idle timeout mid-frame; deadline of a shutdown */
    uv_shutdown_t shutdown;
    int open_handles; /* pipe + timer; memory is freed when both are closed */
    bool counted;     /* holds one of max_clients */
    uid_t uid;        /* the peer's, from SO_PEERCRED */
    bool answered;    /* sent a whole request; until then the idle clock runs */
    bool stream, finishing, closing;
    uint8_t *buf;
    size_t len, cap;
    uint64_t dropped;
    void *data;
    void (*free_data)(void *);
    void (*on_drain)(vg_ctl_conn *conn, void *data); /* streams: caught up again */
};

typedef struct write_req {
    uv_write_t req;
    vg_ctl_conn *conn;
    char *data; /* the frame; freed with the request */
} write_req;

#define CONTAINER_OF(p, type, field) ((type *)((char *)(p)-offsetof(type, field)))

static void ctl_unref(vg_ctl *ctl)
{
    if (--ctl->refs > 0)
        return;
    for (size_t i = 0; i < ctl->ncmds; i++)
        free(ctl->cmds[i].name);
    free(ctl->cmds);
    free(ctl->path);
    free(ctl);
}

/* ---- connection lifetime ---- */

static void on_conn_handle_closed(uv_handle_t *h)
{
    vg_ctl_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    vg_ctl *ctl = c->ctl;
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->free_data)
        c->free_data(c->data);
    free(c->buf);
    free(c);
    ctl_unref(ctl);
}

/* Hard close: pending writes are cancelled. The memory stays valid until
 * both handles' close callbacks have run. */
static void conn_close(vg_ctl_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->counted) {
        c->counted = false;
        c->ctl->stats.clients--;
    }
    uv_close((uv_handle_t *)&c->pipe, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_timer(uv_timer_t *t)
{
    vg_ctl_conn *c = t->data;
    if (!c->finishing)
        vg_info(c->len ? "ctl: dropping a client that stalled in the middle of a request"
                       : "ctl: dropping a client idle for %u ms",
                c->ctl->idle_ms);
    conn_close(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_close(CONTAINER_OF(req, vg_ctl_conn, shutdown));
}

/* Graceful close: what is queued (an error reply, say) is written first.
 * The timer bounds how long a peer that does not read can delay that. */
static void conn_finish(vg_ctl_conn *c)
{
    if (c->closing || c->finishing)
        return;
    c->finishing = true;
    uv_read_stop((uv_stream_t *)&c->pipe);
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timer, c->ctl->idle_ms, 0);
}

/* ---- writing ---- */

static size_t backlog(vg_ctl_conn *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe);
}

static void on_write(uv_write_t *req, int status)
{
    write_req *w = CONTAINER_OF(req, write_req, req);
    vg_ctl_conn *c = w->conn;
    free(w->data);
    free(w);
    if (status < 0 && status != UV_ECANCELED) {
        vg_debug("ctl: write to client failed: %s", uv_strerror(status));
        conn_close(c);
        return;
    }
    /* A stream that fell behind and has read half its backlog is told so
     * by its owner now, not at its next frame, which may be hours away. */
    if (c->on_drain && !c->closing && !c->finishing && backlog(c) <= STREAM_BACKLOG_MAX / 2)
        c->on_drain(c, c->data);
}

/* Queues a whole frame (header included); takes ownership of data. */
static int conn_write(vg_ctl_conn *c, char *data, size_t len)
{
    write_req *w = c->closing || c->finishing ? NULL : malloc(sizeof(*w));
    if (!w) {
        free(data);
        return c->closing || c->finishing ? -EPIPE : -ENOMEM;
    }
    w->data = data;
    w->conn = c;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_write);
    if (rc < 0) {
        free(data);
        free(w);
        conn_close(c);
        return -EPIPE;
    }
    return 0;
}

/* Sends the frame in sb (which starts with VG_CTL_HDR reserved bytes) and
 * takes its memory. */
static int conn_write_sbuf(vg_ctl_conn *c, msgpack_sbuffer *sb)
{
    size_t len = sb->size;
    if (len > UINT32_MAX) {
        msgpack_sbuffer_destroy(sb);
        return -EMSGSIZE;
    }
    vg_ctl_frame_header((uint8_t *)sb->data, (uint32_t)(len - VG_CTL_HDR));
    return conn_write(c, msgpack_sbuffer_release(sb), len);
}

static int sbuf_begin(msgpack_sbuffer *sb, msgpack_packer *pk)
{
    static const char hdr[VG_CTL_HDR];
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
    return msgpack_sbuffer_write(sb, hdr, sizeof(hdr));
}

static int pack_error(msgpack_packer *pk, const char *msg, int err)
{
    int rc = msgpack_pack_map(pk, 3);
    rc = rc ? rc : vg_mp_pack_cstr(pk, "ok");
    rc = rc ? rc : msgpack_pack_false(pk);
    rc = rc ? rc : vg_mp_pack_kv_str(pk, "error", msg);
    return rc ? rc : vg_mp_pack_kv_int(pk, "errno", err);
}

static void send_error(vg_ctl_conn *c, const char *msg, int err)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    if (sbuf_begin(&sb, &pk) || pack_error(&pk, msg, err)) {
        msgpack_sbuffer_destroy(&sb);
        conn_close(c);
        return;
    }
    conn_write_sbuf(c, &sb);
}

/* The peer broke the protocol: tell it why, then hang up. */
static void reject(vg_ctl_conn *c, const char *msg, int err)
{
    c->ctl->stats.bad_requests++;
    send_error(c, msg, err);
    conn_finish(c);
}

/* ---- requests ---- */

static const cmd_entry *find_cmd(const vg_ctl *ctl, const char *name)
{
    for (size_t i = 0; i < ctl->ncmds; i++)
        if (strcmp(ctl->cmds[i].name, name) == 0)
            return &ctl->cmds[i];
    return NULL;
}

/* Runs the handler and packs the reply after what sb holds: {ok = true,
 * result} or, when the handler fails, {ok = false, error, errno}. The
 * result is packed straight into the buffer that is written, behind the
 * ok/result prefix, so a large result is never copied. *result is the
 * handler's return; -ENOMEM if the reply could not be packed. A call
 * without a connection (c NULL, vg_ctl_call_local) cannot become a stream. */
static int pack_reply(vg_ctl_conn *c, const cmd_entry *e, const msgpack_object *args,
                      msgpack_sbuffer *sb, msgpack_packer *pk, int *result)
{
    size_t start = sb->size;
    int rc = msgpack_pack_map(pk, 2);
    rc = rc ? rc : vg_mp_pack_kv_bool(pk, "ok", true);
    rc = rc ? rc : vg_mp_pack_cstr(pk, "result");
    if (rc)
        return -ENOMEM;
    size_t prefix = sb->size;
    vg_ctl_call call = {.conn = c, .args = args, .pk = pk, .arg = e->arg};
    rc = e->fn(&call);
    if (rc >= 0 && sb->size == prefix && msgpack_pack_nil(pk))
        rc = -ENOMEM;
    if (rc == VG_CTL_STREAM && !c) {
        snprintf(call.error, sizeof(call.error), "'%s' streams, which needs a connection", e->name);
        rc = -EOPNOTSUPP;
    }
    *result = rc;
    if (rc >= 0)
        return 0;
    /* Whatever the handler packed is thrown away with its prefix. */
    sb->size = start;
    call.error[sizeof(call.error) - 1] = '\0';
    return pack_error(pk, call.error[0] ? call.error : strerror(-rc), -rc) ? -ENOMEM : 0;
}

/* Runs the handler and queues its reply. */
static void call_cmd(vg_ctl_conn *c, const cmd_entry *e, const msgpack_object *args)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int result = 0;
    if (sbuf_begin(&sb, &pk) || pack_reply(c, e, args, &sb, &pk, &result) < 0) {
        msgpack_sbuffer_destroy(&sb);
        send_error(c, "out of memory", ENOMEM);
        return;
    }
    if (conn_write_sbuf(c, &sb) == 0 && result == VG_CTL_STREAM)
        c->stream = true;
}

static void unknown_cmd_msg(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "unknown command '%s'", name);
}

static void handle_request(vg_ctl_conn *c, const uint8_t *payload, size_t len)
{
    vg_ctl *ctl = c->ctl;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048)) {
        send_error(c, "out of memory", ENOMEM);
        return;
    }
    ctl->stats.requests++;
    const char *name;
    msgpack_object args;
    int rc = vg_ctl_request_decode(payload, len, &zone, &name, &args);
    if (rc < 0) {
        reject(c, "malformed request", -rc);
    } else {
        const cmd_entry *e = find_cmd(ctl, name);
        if (e) {
            call_cmd(c, e, &args);
        } else {
            char msg[96];
            unknown_cmd_msg(name, msg, sizeof(msg));
            send_error(c, msg, ENOSYS);
        }
    }
    msgpack_zone_destroy(&zone);
}

/* Handles every whole frame in the buffer, in order; keeps the tail. */
static void process_frames(vg_ctl_conn *c)
{
    size_t off = 0;
    while (!c->closing && !c->finishing && !c->stream) {
        size_t n;
        int rc = vg_ctl_frame_check(c->buf + off, c->len - off, c->ctl->max_frame, &n);
        if (rc == 0)
            break;
        if (rc < 0) {
            reject(c, rc == -EMSGSIZE ? "frame too large" : "empty frame", -rc);
            return;
        }
        /* The handler sees args that point into buf: nothing moves until
         * it has returned. */
        handle_request(c, c->buf + off + VG_CTL_HDR, n);
        off += VG_CTL_HDR + n;
        if (!c->closing && backlog(c) > REPLY_BACKLOG_MAX && !c->stream) {
            vg_info("ctl: dropping a client that does not read its replies");
            conn_close(c);
        }
    }
    if (c->closing || c->finishing)
        return;
    if (c->stream) {
        /* A stream's requests are over; what the peer sends now is
         * ignored, so that only its hanging up matters. */
        c->len = 0;
        uv_timer_stop(&c->timer);
        return;
    }
    if (off > 0) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
    /* The idle clock runs from the first byte of a frame, not the last, so
     * that a client trickling one byte at a time is still bounded. Between
     * requests a client may wait: it has shown it speaks the protocol, and
     * the slot shares (slots_full) keep it from locking anyone out. */
    c->answered |= off > 0;
    if (c->len == 0 && c->answered)
        uv_timer_stop(&c->timer);
    else if (off > 0 || !uv_is_active((uv_handle_t *)&c->timer))
        uv_timer_start(&c->timer, on_timer, c->ctl->idle_ms, 0);
    if (c->len == 0 && c->cap > READ_KEEP) {
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    vg_ctl_conn *c = h->data;
    size_t limit = c->ctl->max_frame + VG_CTL_HDR;
    if (c->stream)
        c->len = 0; /* discarded input, see process_frames */
    if (c->cap - c->len < READ_CHUNK && c->cap < limit) {
        size_t cap = c->cap ? c->cap * 2 : READ_CHUNK;
        if (cap > limit)
            cap = limit;
        uint8_t *p = realloc(c->buf, cap);
        if (p) {
            c->buf = p;
            c->cap = cap;
        }
    }
    /* A zero-length buffer makes libuv report UV_ENOBUFS to on_read. */
    *out = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    vg_ctl_conn *c = s->data;
    if (nread == UV_EOF) {
        conn_finish(c);
        return;
    }
    if (nread < 0) {
        if (nread != UV_ECONNRESET)
            vg_debug("ctl: read from client failed: %s", uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    process_frames(c);
}

/* ---- accepting ---- */

static bool peer_in_group(int fd, gid_t gid)
{
    gid_t groups[MAX_GROUPS];
    socklen_t sl = sizeof(groups);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &sl) < 0)
        return false;
    for (size_t i = 0; i < sl / sizeof(gid_t); i++)
        if (groups[i] == gid)
            return true;
    return false;
}

/* Root, our own user (a daemon run unprivileged, and its tests), or a member
 * of the configured group, by primary or supplementary group. */
static bool peer_allowed(vg_ctl_conn *c)
{
    uv_os_fd_t fd;
    struct ucred cr;
    socklen_t sl = sizeof(cr);
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
        return false;
    c->uid = cr.uid;
    if (cr.uid == 0 || cr.uid == geteuid())
        return true;
    gid_t gid = c->ctl->gid;
    if (gid != (gid_t)-1 && (cr.gid == gid || peer_in_group(fd, gid)))
        return true;
    vg_notice("ctl: refused a client with uid %u gid %u (pid %d)", (unsigned)cr.uid,
              (unsigned)cr.gid, (int)cr.pid);
    return false;
}

/* Whether a new client of uid may take a slot; NULL if so, else why not.
 * Slots are shared so that no one can lock root out: root always finds
 * one of the last ROOT_RESERVED, and any other user holds at most a
 * quarter of them (the members of control_group included). */
static const char *slots_full(const vg_ctl *ctl, uid_t uid)
{
    if (ctl->stats.clients >= ctl->max_clients)
        return "every slot is taken";
    if (uid == 0)
        return NULL;
    unsigned reserved = ctl->max_clients > 2 * ROOT_RESERVED ? ROOT_RESERVED : 0;
    if (ctl->stats.clients >= ctl->max_clients - reserved)
        return "the remaining slots are kept for root";
    unsigned mine = 0, per_uid = ctl->max_clients / 4 ? ctl->max_clients / 4 : 1;
    for (const vg_ctl_conn *o = ctl->conns; o; o = o->next)
        mine += o->counted && !o->closing && o->uid == uid;
    return mine >= per_uid ? "this user holds its share of the slots" : NULL;
}

static void on_connection(uv_stream_t *server, int status)
{
    vg_ctl *ctl = server->data;
    if (status < 0) {
        vg_warn("ctl: accept failed: %s", uv_strerror(status));
        return;
    }
    vg_ctl_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        vg_err("ctl: out of memory for a new client");
        return;
    }
    c->ctl = ctl;
    uv_pipe_init(ctl->loop, &c->pipe, 0);
    uv_timer_init(ctl->loop, &c->timer);
    c->pipe.data = c->timer.data = c;
    c->open_handles = 2;
    c->next = ctl->conns;
    if (ctl->conns)
        ctl->conns->prev = c;
    ctl->conns = c;
    ctl->refs++;

    int rc = uv_accept(server, (uv_stream_t *)&c->pipe);
    if (rc < 0) {
        vg_warn("ctl: accept failed: %s", uv_strerror(rc));
        conn_close(c);
        return;
    }
    /* Refusals are answered, so that vigilctl can say why it failed. */
    if (!peer_allowed(c)) {
        send_error(c, "permission denied", EACCES);
        conn_finish(c);
        return;
    }
    const char *full = slots_full(ctl, c->uid);
    if (full) {
        vg_warn("ctl: refused a client of uid %u: %s (%u clients)", (unsigned)c->uid, full,
                ctl->stats.clients);
        send_error(c, "too many clients", EBUSY);
        conn_finish(c);
        return;
    }
    c->counted = true;
    ctl->stats.clients++;
    rc = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    /* A client that never sends a request must not hold its slot. */
    uv_timer_start(&c->timer, on_timer, ctl->idle_ms, 0);
}

/* ---- the server ---- */

/* A socket file at path is either a live daemon (refuse to start) or left
 * over from one that died (replace it). Anything that is not a socket is
 * left alone: removing a file that a typo in the config points at would be
 * worse than not starting. */
static int clear_path(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode)) {
        vg_err("ctl: %s exists and is not a socket", path);
        return -EEXIST;
    }
    int fd = vg_ctl_connect(path);
    if (fd >= 0) {
        close(fd);
        vg_err("ctl: another process is listening on %s", path);
        return -EADDRINUSE;
    }
    if (fd != -ECONNREFUSED)
        return fd == -ENOENT ? 0 : fd;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    vg_info("ctl: replaced stale socket %s", path);
    return 0;
}

/* Only root and the group may even connect; the peer credentials are
 * checked again on accept. This runs before listen(), so no client ever
 * connects through a looser mode. */
static int set_mode(vg_ctl *ctl)
{
    if (ctl->gid != (gid_t)-1) {
        if (chown(ctl->path, (uid_t)-1, ctl->gid) < 0 || chmod(ctl->path, 0660) < 0)
            return -errno;
    } else if (chmod(ctl->path, 0600) < 0) {
        return -errno;
    }
    struct stat st;
    if (stat(ctl->path, &st) < 0)
        return -errno;
    ctl->dev = st.st_dev;
    ctl->ino = st.st_ino;
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    ctl_unref(h->data);
}

static vg_ctl *ctl_new(uv_loop_t *loop, const vg_ctl_opts *o)
{
    vg_ctl *ctl = calloc(1, sizeof(*ctl));
    if (!ctl || !(ctl->path = strdup(o->path))) {
        free(ctl);
        return NULL;
    }
    ctl->loop = loop;
    ctl->gid = o->gid;
    ctl->max_frame = o->max_frame ? o->max_frame : VG_CTL_MAX_FRAME;
    if (ctl->max_frame > UINT32_MAX - VG_CTL_HDR)
        ctl->max_frame = UINT32_MAX - VG_CTL_HDR;
    ctl->max_clients = o->max_clients ? o->max_clients : DEFAULT_MAX_CLIENTS;
    ctl->idle_ms = o->idle_timeout_ms ? o->idle_timeout_ms : DEFAULT_IDLE_MS;
    ctl->refs = 1;
    return ctl;
}

int vg_ctl_open(uv_loop_t *loop, const vg_ctl_opts *opts, vg_ctl **out)
{
    if (!loop || !opts || !opts->path || !*opts->path || !out)
        return -EINVAL;
    /* libuv would silently truncate a long path and bind somewhere else. */
    if (strlen(opts->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return -ENAMETOOLONG;
    int rc = clear_path(opts->path);
    if (rc < 0)
        return rc;
    vg_ctl *ctl = ctl_new(loop, opts);
    if (!ctl)
        return -ENOMEM;
    uv_pipe_init(loop, &ctl->listener, 0);
    ctl->listener.data = ctl;
    bool bound = false;
    rc = uv_pipe_bind(&ctl->listener, ctl->path);
    if (rc == 0) {
        bound = true;
        rc = set_mode(ctl);
    }
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->listener, 64, on_connection);
    if (rc < 0) {
        vg_err("ctl: cannot listen on %s: %s", ctl->path, strerror(-rc));
        if (bound)
            unlink(ctl->path);
        /* The handle exists now, so its memory goes in its close callback. */
        uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
        return rc;
    }
    *out = ctl;
    return 0;
}

void vg_ctl_close(vg_ctl *ctl)
{
    if (!ctl || ctl->closing)
        return;
    ctl->closing = true;
    struct stat st;
    if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
        unlink(ctl->path);
    for (vg_ctl_conn *c = ctl->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
}

int vg_ctl_register(vg_ctl *ctl, const vg_ctl_cmd *cmd)
{
    if (!cmd || !cmd->name || !*cmd->name || !cmd->fn)
        return -EINVAL;
    if (find_cmd(ctl, cmd->name))
        return -EEXIST;
    if (ctl->ncmds == ctl->cap_cmds) {
        size_t cap = ctl->cap_cmds ? ctl->cap_cmds * 2 : 16;
        cmd_entry *p = realloc(ctl->cmds, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        ctl->cmds = p;
        ctl->cap_cmds = cap;
    }
    char *name = strdup(cmd->name);
    if (!name)
        return -ENOMEM;
    ctl->cmds[ctl->ncmds++] = (cmd_entry){.name = name, .fn = cmd->fn, .arg = cmd->arg};
    return 0;
}

int vg_ctl_call_local(vg_ctl *ctl, const char *name, const msgpack_object *args,
                      msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    const msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    const cmd_entry *e = find_cmd(ctl, name);
    if (!e) {
        char msg[96];
        unknown_cmd_msg(name, msg, sizeof(msg));
        return pack_error(&pk, msg, ENOSYS) ? -ENOMEM : -ENOSYS;
    }
    int result = 0;
    if (pack_reply(NULL, e, args ? args : &nil, out, &pk, &result) < 0)
        return -ENOMEM;
    return result < 0 ? result : 0;
}

void vg_ctl_conn_set_data(vg_ctl_conn *conn, void *data, void (*free_fn)(void *))
{
    if (!conn) { /* a call without a connection (vg_ctl_call_local) */
        if (free_fn)
            free_fn(data);
        return;
    }
    conn->data = data;
    conn->free_data = free_fn;
}

void vg_ctl_conn_set_drain(vg_ctl_conn *conn, void (*fn)(vg_ctl_conn *conn, void *data))
{
    if (conn)
        conn->on_drain = fn;
}

void *vg_ctl_conn_data(vg_ctl_conn *conn)
{
    return conn->data;
}

int vg_ctl_conn_send(vg_ctl_conn *conn, const void *payload, size_t len)
{
    if (conn->closing || conn->finishing)
        return -EPIPE;
    if (len == 0)
        return -EINVAL;
    if (len > UINT32_MAX - VG_CTL_HDR)
        return -EMSGSIZE;
    size_t limit = conn->stream ? STREAM_BACKLOG_MAX : REPLY_BACKLOG_MAX;
    if (backlog(conn) > limit) {
        conn->dropped++;
        conn->ctl->stats.stream_drops++;
        return -ENOBUFS;
    }
    char *frame = malloc(VG_CTL_HDR + len);
    if (!frame)
        return -ENOMEM;
    vg_ctl_frame_header((uint8_t *)frame, (uint32_t)len);
    memcpy(frame + VG_CTL_HDR, payload, len);
    return conn_write(conn, frame, VG_CTL_HDR + len);
}

void vg_ctl_foreach_stream(vg_ctl *ctl, void (*fn)(vg_ctl_conn *conn, void *arg), void *arg)
{
    /* Conns are unlinked only when freed, which happens in a close callback
     * and never during this loop, so fn may close the conn it is given. */
    for (vg_ctl_conn *c = ctl->conns; c; c = c->next)
        if (c->stream && !c->closing && !c->finishing)
            fn(c, arg);
}

void vg_ctl_stats_get(const vg_ctl *ctl, vg_ctl_stats *out)
{
    *out = ctl->stats;
}
