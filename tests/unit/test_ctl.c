/*
 * The control socket, over real unix sockets in a mkdtemp directory. The
 * server's loop runs in its own thread; the test talks to it as vigilctl
 * would, with the blocking helpers of ctl_proto.h. Work that must happen on
 * the loop (stats, stream sends) is handed over with a uv_async.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "mp.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- the server under test ---- */

typedef struct srv srv;
typedef void (*job_fn)(srv *s, void *arg);

struct srv {
    uv_loop_t loop;
    uv_async_t wake;
    uv_thread_t thread;
    vg_ctl *ctl;
    char dir[64], path[128];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_fn job;
    void *job_arg;
    bool job_done;
    bool running;
};

static atomic_int stream_frees;

static int h_add(vg_ctl_call *call)
{
    int64_t a, b;
    if (vg_mp_get_int(call->args, "a", &a) < 0 || vg_mp_get_int(call->args, "b", &b) < 0) {
        /* Packed and then failed: the reply must not carry this. */
        vg_mp_pack_cstr(call->pk, "half a result");
        snprintf(call->error, sizeof(call->error), "add needs integers a and b");
        return -EINVAL;
    }
    return msgpack_pack_int64(call->pk, a + b) ? -ENOMEM : 0;
}

static int h_echo(vg_ctl_call *call)
{
    return msgpack_pack_object(call->pk, *call->args) ? -ENOMEM : 0;
}

static int h_nothing(vg_ctl_call *call)
{
    return 0;
}

static int h_fail(vg_ctl_call *call)
{
    return -EPERM;
}

static void free_tag(void *p)
{
    free(p);
    atomic_fetch_add(&stream_frees, 1);
}

static int h_follow(vg_ctl_call *call)
{
    int *tag = malloc(sizeof(*tag));
    if (!tag)
        return -ENOMEM;
    *tag = 4242;
    vg_ctl_conn_set_data(call->conn, tag, free_tag);
    vg_mp_pack_cstr(call->pk, "following");
    return VG_CTL_STREAM;
}

static void on_wake(uv_async_t *a)
{
    srv *s = a->data;
    pthread_mutex_lock(&s->mu);
    job_fn job = s->job;
    void *arg = s->job_arg;
    pthread_mutex_unlock(&s->mu);
    if (!job)
        return;
    job(s, arg);
    pthread_mutex_lock(&s->mu);
    s->job = NULL;
    s->job_done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Runs fn on the loop thread and waits for it. */
static void on_loop(srv *s, job_fn fn, void *arg)
{
    pthread_mutex_lock(&s->mu);
    s->job = fn;
    s->job_arg = arg;
    s->job_done = false;
    pthread_mutex_unlock(&s->mu);
    uv_async_send(&s->wake);
    pthread_mutex_lock(&s->mu);
    while (!s->job_done)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void run_loop(void *arg)
{
    srv *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

static void make_dir(srv *s)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/vg-ctl-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof(s->path), "%s/ctl.sock", s->dir);
}

/* Opens the server on s->path (s->dir must exist) and starts its thread. */
static void srv_open(srv *s, vg_ctl_opts opts)
{
    assert_int_equal(uv_loop_init(&s->loop), 0);
    opts.path = s->path;
    assert_int_equal(vg_ctl_open(&s->loop, &opts, &s->ctl), 0);
    static const struct {
        const char *name;
        vg_ctl_fn fn;
    } cmds[] = {{"add", h_add},
                {"echo", h_echo},
                {"nothing", h_nothing},
                {"fail", h_fail},
                {"follow", h_follow}};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        vg_ctl_cmd c = {.name = cmds[i].name, .fn = cmds[i].fn, .arg = s};
        assert_int_equal(vg_ctl_register(s->ctl, &c), 0);
    }
    vg_ctl_cmd dup = {.name = "add", .fn = h_fail};
    assert_int_equal(vg_ctl_register(s->ctl, &dup), -EEXIST);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    assert_int_equal(uv_async_init(&s->loop, &s->wake, on_wake), 0);
    s->wake.data = s;
    assert_int_equal(uv_thread_create(&s->thread, run_loop, s), 0);
    s->running = true;
}

/* One server per test, in static storage so that teardown can still reach
 * it after a failed assertion has left the test function. */
static srv the_srv;
static srv *cur;

/* A fresh temporary directory, and the server record that owns it. */
static srv *srv_new(void)
{
    memset(&the_srv, 0, sizeof(the_srv));
    make_dir(&the_srv);
    cur = &the_srv;
    return cur;
}

static srv *srv_start(vg_ctl_opts opts)
{
    srv *s = srv_new();
    srv_open(s, opts);
    return s;
}

static void job_stop(srv *s, void *arg)
{
    vg_ctl_close(s->ctl);
    uv_close((uv_handle_t *)&s->wake, NULL);
}

/* Closes the server; every handle must be gone (uv_loop_close would say
 * EBUSY otherwise) and the socket file removed. */
static void srv_stop(srv *s)
{
    on_loop(s, job_stop, NULL);
    assert_int_equal(uv_thread_join(&s->thread), 0);
    s->running = false;
    assert_int_equal(uv_loop_close(&s->loop), 0);
    struct stat st;
    assert_int_equal(lstat(s->path, &st), -1);
    assert_int_equal(errno, ENOENT);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    assert_int_equal(rmdir(s->dir), 0);
    cur = NULL;
}

/* After a failure: stop the server and remove what the test made. */
static int teardown(void **state)
{
    srv *s = cur;
    cur = NULL;
    if (!s)
        return 0;
    if (s->running) {
        on_loop(s, job_stop, NULL);
        uv_thread_join(&s->thread);
        uv_loop_close(&s->loop);
    }
    unlink(s->path);
    rmdir(s->dir);
    return 0;
}

static void job_stats(srv *s, void *arg)
{
    vg_ctl_stats_get(s->ctl, arg);
}

static vg_ctl_stats stats(srv *s)
{
    vg_ctl_stats st;
    on_loop(s, job_stats, &st);
    return st;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Waits up to 5 s for the server's client count to reach n. */
static void wait_clients(srv *s, unsigned n)
{
    double end = now_ms() + 5000;
    while (stats(s).clients != n && now_ms() < end)
        usleep(10000);
    assert_int_equal(stats(s).clients, n);
}

/* ---- the client side ---- */

static int cl_connect_path(const char *path)
{
    int fd = vg_ctl_connect(path);
    assert_true(fd >= 0);
    /* A server bug must fail the test, not hang it. */
    struct timeval tv = {.tv_sec = 5};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    return fd;
}

static int cl_connect(srv *s)
{
    return cl_connect_path(s->path);
}

typedef struct reply {
    void *buf;
    size_t len;
    msgpack_unpacked up;
    const msgpack_object *root;
} reply;

static int read_reply(int fd, reply *r)
{
    memset(r, 0, sizeof(*r));
    int rc = vg_ctl_read_frame(fd, 16u << 20, &r->buf, &r->len);
    if (rc < 0)
        return rc;
    msgpack_unpacked_init(&r->up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&r->up, r->buf, r->len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, r->len);
    r->root = &r->up.data;
    return 0;
}

static void reply_free(reply *r)
{
    if (r->buf)
        msgpack_unpacked_destroy(&r->up);
    free(r->buf);
}

static bool reply_ok(const reply *r)
{
    bool ok = false;
    assert_int_equal(vg_mp_get_bool(r->root, "ok", &ok), 0);
    return ok;
}

/* Reads one reply that must be an error with this errno and message. */
static void expect_error(int fd, int err, const char *msg)
{
    reply r;
    assert_int_equal(read_reply(fd, &r), 0);
    assert_false(reply_ok(&r));
    int64_t e = 0;
    char text[256];
    assert_int_equal(vg_mp_get_int(r.root, "errno", &e), 0);
    assert_int_equal(e, err);
    assert_int_equal(vg_mp_get_cstr(r.root, "error", text, sizeof(text)), 0);
    assert_string_equal(text, msg);
    assert_null(vg_mp_get(r.root, "result"));
    reply_free(&r);
}

/* The server must have hung up: no more frames, just the end. */
static void expect_closed(int fd)
{
    void *p = NULL;
    size_t n;
    assert_int_equal(vg_ctl_read_frame(fd, 0, &p, &n), -ECONNRESET);
}

static void expect_int(int fd, int64_t want)
{
    reply r;
    assert_int_equal(read_reply(fd, &r), 0);
    assert_true(reply_ok(&r));
    int64_t got = 0;
    assert_int_equal(vg_mp_get_int(r.root, "result", &got), 0);
    assert_int_equal(got, want);
    reply_free(&r);
}

/* Packs {"a": a, "b": b} as raw args bytes into sb. */
static void args_ab(msgpack_sbuffer *sb, int64_t a, int64_t b)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_int(&pk, "a", a);
    vg_mp_pack_kv_int(&pk, "b", b);
}

static void send_add(int fd, int64_t a, int64_t b)
{
    msgpack_sbuffer sb;
    args_ab(&sb, a, b);
    assert_int_equal(vg_ctl_send_request(fd, "add", sb.data, sb.size), 0);
    msgpack_sbuffer_destroy(&sb);
}

static void call_add(int fd, int64_t a, int64_t b)
{
    send_add(fd, a, b);
    expect_int(fd, a + b);
}

static void send_raw(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* ---- protocol, no server ---- */

static void test_frame_check(void **state)
{
    uint8_t buf[16] = {0};
    size_t n = 0;
    assert_int_equal(vg_ctl_frame_check(buf, 3, 100, &n), 0);
    assert_int_equal(vg_ctl_frame_check(buf, 4, 100, &n), -EBADMSG);
    vg_ctl_frame_header(buf, 0x01020304);
    assert_memory_equal(buf, "\x01\x02\x03\x04", 4);
    assert_int_equal(vg_ctl_frame_check(buf, 8, 100, &n), -EMSGSIZE);
    vg_ctl_frame_header(buf, 5);
    assert_int_equal(vg_ctl_frame_check(buf, 8, 100, &n), 0);
    assert_int_equal(vg_ctl_frame_check(buf, 9, 100, &n), 1);
    assert_int_equal(n, 5);
    assert_int_equal(vg_ctl_frame_check(buf, 16, 5, &n), 1);
    assert_int_equal(vg_ctl_frame_check(buf, 16, 4, &n), -EMSGSIZE);
}

static int decode(const char *bytes, size_t len, const char **cmd, msgpack_object *args,
                  msgpack_zone *z)
{
    msgpack_zone_init(z, 256);
    return vg_ctl_request_decode(bytes, len, z, cmd, args);
}

static void test_request_decode(void **state)
{
    msgpack_zone z;
    const char *cmd;
    msgpack_object args;

    static const char status[] = "\x81\xa3"
                                 "cmd\xa6"
                                 "status";
    assert_int_equal(decode(status, sizeof(status) - 1, &cmd, &args, &z), 0);
    assert_string_equal(cmd, "status");
    assert_int_equal(args.type, MSGPACK_OBJECT_NIL);
    msgpack_zone_destroy(&z);

    static const char with_args[] = "\x82\xa3"
                                    "cmd\xa1x\xa4"
                                    "args\x81\xa1k\x07";
    assert_int_equal(decode(with_args, sizeof(with_args) - 1, &cmd, &args, &z), 0);
    assert_string_equal(cmd, "x");
    int64_t k = 0;
    assert_int_equal(vg_mp_get_int(&args, "k", &k), 0);
    assert_int_equal(k, 7);
    msgpack_zone_destroy(&z);

    char cmd63[80] = "\x81\xa3"
                     "cmd\xd9\x3f";
    memset(cmd63 + 7, 'c', 63);
    assert_int_equal(decode(cmd63, 7 + 63, &cmd, &args, &z), 0);
    assert_int_equal(strlen(cmd), 63);
    msgpack_zone_destroy(&z);

    static const struct {
        const char *what, *bytes;
        size_t len;
    } bad[] = {
        {"trailing byte",
         "\x81\xa3"
         "cmd\xa1x\xc0",
         8},
        {"array", "\x91\xa1x", 3},
        {"empty map", "\x80", 1},
        {"cmd not a string",
         "\x81\xa3"
         "cmd\x01",
         6},
        {"empty cmd",
         "\x81\xa3"
         "cmd\xa0",
         6},
        {"NUL in cmd",
         "\x81\xa3"
         "cmd\xa3"
         "a\0b",
         9},
        {"args not a map",
         "\x82\xa3"
         "cmd\xa1x\xa4"
         "args\x01",
         13},
        {"args nil",
         "\x82\xa3"
         "cmd\xa1x\xa4"
         "args\xc0",
         13},
        {"truncated",
         "\x82\xa3"
         "cmd\xa1x",
         7},
        {"unused type byte", "\xc1", 1},
        {"map of 4 billion",
         "\xdf\xff\xff\xff\xff\xa3"
         "cmd",
         9},
        {"array of 4 billion",
         "\x81\xa3"
         "cmd\xdd\xff\xff\xff\xff",
         10},
        {"str longer than data",
         "\x81\xa3"
         "cmd\xdb\x00\x01\x00\x00x",
         11},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = decode(bad[i].bytes, bad[i].len, &cmd, &args, &z);
        if (rc != -EBADMSG)
            fail_msg("%s: got %d", bad[i].what, rc);
        msgpack_zone_destroy(&z);
    }

    char cmd64[80] = "\x81\xa3"
                     "cmd\xd9\x40";
    memset(cmd64 + 7, 'c', 64);
    assert_int_equal(decode(cmd64, 7 + 64, &cmd, &args, &z), -EBADMSG);
    msgpack_zone_destroy(&z);

    /* Nesting deeper than msgpack-c's parse stack is refused, not a crash. */
    char deep[1200];
    size_t n = 0;
    deep[n++] = (char)0x82;
    memcpy(deep + n,
           "\xa3"
           "cmd\xa1x\xa4"
           "args\x81\xa1k",
           14);
    n += 14;
    while (n < sizeof(deep) - 1)
        deep[n++] = (char)0x91;
    deep[n++] = (char)0xc0;
    assert_int_equal(decode(deep, n, &cmd, &args, &z), -EBADMSG);
    msgpack_zone_destroy(&z);
}

/* send_request and read_frame against each other over a socketpair. */
static void test_client_helpers(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    msgpack_sbuffer sb;
    args_ab(&sb, 1, 2);
    assert_int_equal(vg_ctl_send_request(sv[0], "add", sb.data, sb.size), 0);
    assert_int_equal(vg_ctl_send_request(sv[0], "status", NULL, 0), 0);
    msgpack_sbuffer_destroy(&sb);

    void *p;
    size_t n;
    msgpack_zone z;
    const char *cmd;
    msgpack_object args;
    int64_t b = 0;
    assert_int_equal(vg_ctl_read_frame(sv[1], 0, &p, &n), 0);
    assert_int_equal(decode(p, n, &cmd, &args, &z), 0);
    assert_string_equal(cmd, "add");
    assert_int_equal(vg_mp_get_int(&args, "b", &b), 0);
    assert_int_equal(b, 2);
    msgpack_zone_destroy(&z);
    free(p);
    assert_int_equal(vg_ctl_read_frame(sv[1], 0, &p, &n), 0);
    assert_int_equal(decode(p, n, &cmd, &args, &z), 0);
    assert_string_equal(cmd, "status");
    assert_int_equal(args.type, MSGPACK_OBJECT_NIL);
    msgpack_zone_destroy(&z);
    free(p);

    /* Too big for the reader's limit. */
    uint8_t hdr[VG_CTL_HDR];
    vg_ctl_frame_header(hdr, 1000);
    send_raw(sv[0], hdr, sizeof(hdr));
    assert_int_equal(vg_ctl_read_frame(sv[1], 999, &p, &n), -EMSGSIZE);

    /* The peer hangs up in the middle of a frame. */
    vg_ctl_frame_header(hdr, 10);
    send_raw(sv[0], hdr, sizeof(hdr));
    send_raw(sv[0], "abc", 3);
    close(sv[0]);
    assert_int_equal(vg_ctl_read_frame(sv[1], 0, &p, &n), -ECONNRESET);
    close(sv[1]);

    assert_int_equal(vg_ctl_connect("/nonexistent/vigil.sock"), -ENOENT);
    char longpath[200];
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    assert_int_equal(vg_ctl_connect(longpath), -ENAMETOOLONG);
}

/* ---- the server ---- */

static void test_round_trip(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    struct stat st;
    assert_int_equal(lstat(s->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);

    int fd = cl_connect(s);
    call_add(fd, 40, 2);
    call_add(fd, -5, 3);

    /* echo hands the args map back. */
    msgpack_sbuffer sb;
    args_ab(&sb, 7, 8);
    assert_int_equal(vg_ctl_send_request(fd, "echo", sb.data, sb.size), 0);
    msgpack_sbuffer_destroy(&sb);
    reply r;
    assert_int_equal(read_reply(fd, &r), 0);
    assert_true(reply_ok(&r));
    int64_t v = 0;
    assert_int_equal(vg_mp_get_int(vg_mp_get(r.root, "result"), "b", &v), 0);
    assert_int_equal(v, 8);
    reply_free(&r);

    /* A handler that packs nothing answers nil. */
    assert_int_equal(vg_ctl_send_request(fd, "nothing", NULL, 0), 0);
    assert_int_equal(read_reply(fd, &r), 0);
    assert_true(reply_ok(&r));
    assert_non_null(vg_mp_get(r.root, "result"));
    assert_int_equal(vg_mp_get(r.root, "result")->type, MSGPACK_OBJECT_NIL);
    reply_free(&r);

    /* Failures carry the handler's message, or strerror, and the errno. */
    assert_int_equal(vg_ctl_send_request(fd, "add", NULL, 0), 0);
    expect_error(fd, EINVAL, "add needs integers a and b");
    assert_int_equal(vg_ctl_send_request(fd, "fail", NULL, 0), 0);
    expect_error(fd, EPERM, strerror(EPERM));
    call_add(fd, 1, 1);

    vg_ctl_stats stt = stats(s);
    assert_int_equal(stt.requests, 7);
    assert_int_equal(stt.bad_requests, 0);
    assert_int_equal(stt.clients, 1);
    close(fd);
    srv_stop(s);
}

static void test_unknown_command(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    int fd = cl_connect(s);
    assert_int_equal(vg_ctl_send_request(fd, "nope", NULL, 0), 0);
    expect_error(fd, ENOSYS, "unknown command 'nope'");
    call_add(fd, 2, 3);
    close(fd);
    srv_stop(s);
}

/* vg_ctl_call_local, run on the loop thread. */
typedef struct local_call {
    const char *cmd;
    const void *args; /* packed args, NULL for none */
    size_t args_len;
    msgpack_sbuffer out;
    int rc;
} local_call;

/* No assertion here: cmocka's belong to the test's thread. */
static void job_local(srv *s, void *arg)
{
    local_call *lc = arg;
    msgpack_zone zone;
    msgpack_object args;
    msgpack_sbuffer_init(&lc->out);
    lc->rc = -EBADMSG;
    if (!msgpack_zone_init(&zone, 1024))
        return;
    if (!lc->args ||
        msgpack_unpack(lc->args, lc->args_len, NULL, &zone, &args) == MSGPACK_UNPACK_SUCCESS)
        lc->rc = vg_ctl_call_local(s->ctl, lc->cmd, lc->args ? &args : NULL, &lc->out);
    msgpack_zone_destroy(&zone);
}

/* A command run in-process answers, byte for byte, what a client gets on
 * the socket: results, the handler's error (what it packed before failing
 * thrown away), strerror, nil, an unknown command. */
static void test_call_local(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    int fd = cl_connect(s);
    msgpack_sbuffer ab;
    args_ab(&ab, 40, 2);
    const struct {
        const char *cmd;
        const void *args;
        size_t len;
        int rc;
    } cases[] = {{"add", ab.data, ab.size, 0},  {"add", NULL, 0, -EINVAL},
                 {"fail", NULL, 0, -EPERM},     {"nothing", NULL, 0, 0},
                 {"echo", ab.data, ab.size, 0}, {"nope", NULL, 0, -ENOSYS}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(vg_ctl_send_request(fd, cases[i].cmd, cases[i].args, cases[i].len), 0);
        reply r;
        assert_int_equal(read_reply(fd, &r), 0);
        local_call lc = {.cmd = cases[i].cmd, .args = cases[i].args, .args_len = cases[i].len};
        on_loop(s, job_local, &lc);
        assert_int_equal(lc.rc, cases[i].rc);
        assert_int_equal(lc.out.size, r.len);
        assert_memory_equal(lc.out.data, r.buf, r.len);
        msgpack_sbuffer_destroy(&lc.out);
        reply_free(&r);
    }
    msgpack_sbuffer_destroy(&ab);

    /* A stream needs a connection: refused, and its data freed at once. */
    int frees = atomic_load(&stream_frees);
    local_call lc = {.cmd = "follow"};
    on_loop(s, job_local, &lc);
    assert_int_equal(lc.rc, -EOPNOTSUPP);
    assert_int_equal(atomic_load(&stream_frees), frees + 1);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, lc.out.data, lc.out.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    char text[128];
    assert_int_equal(vg_mp_get_cstr(&up.data, "error", text, sizeof(text)), 0);
    assert_string_equal(text, "'follow' streams, which needs a connection");
    assert_null(vg_mp_get(&up.data, "result"));
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&lc.out);
    close(fd);
    srv_stop(s);
}

/* Several requests in one write are answered one by one, in order. */
static void test_pipelined(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (int i = 0; i < 20; i++) {
        msgpack_sbuffer sb;
        args_ab(&sb, i, 100);
        assert_int_equal(vg_ctl_send_request(sv[0], i == 7 ? "nope" : "add", sb.data, sb.size), 0);
        msgpack_sbuffer_destroy(&sb);
    }
    close(sv[0]);
    static uint8_t all[64 << 10];
    ssize_t n = read(sv[1], all, sizeof(all));
    assert_true(n > 0 && n < (ssize_t)sizeof(all));
    close(sv[1]);

    int fd = cl_connect(s);
    send_raw(fd, all, (size_t)n);
    for (int i = 0; i < 20; i++) {
        if (i == 7)
            expect_error(fd, ENOSYS, "unknown command 'nope'");
        else
            expect_int(fd, i + 100);
    }
    close(fd);
    srv_stop(s);
}

/* Each bad frame gets an error reply, then the server hangs up; the next
 * client is served as usual. */
static void test_bad_frames(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});

    int fd = cl_connect(s);
    uint8_t huge[VG_CTL_HDR + 8] = {0x80, 0, 0, 0, 'x', 'y'};
    send_raw(fd, huge, sizeof(huge));
    expect_error(fd, EMSGSIZE, "frame too large");
    expect_closed(fd);
    close(fd);

    fd = cl_connect(s);
    call_add(fd, 1, 2);
    uint8_t zero[VG_CTL_HDR] = {0};
    send_raw(fd, zero, sizeof(zero));
    expect_error(fd, EBADMSG, "empty frame");
    expect_closed(fd);
    close(fd);

    fd = cl_connect(s);
    uint8_t garbage[] = {0, 0, 0, 3, 0xc1, 0xff, 0x00};
    send_raw(fd, garbage, sizeof(garbage));
    expect_error(fd, EBADMSG, "malformed request");
    expect_closed(fd);
    close(fd);

    fd = cl_connect(s);
    uint8_t array[] = {0, 0, 0, 2, 0x91, 0x01};
    send_raw(fd, array, sizeof(array));
    expect_error(fd, EBADMSG, "malformed request");
    expect_closed(fd);
    close(fd);

    fd = cl_connect(s);
    call_add(fd, 3, 4);
    close(fd);
    assert_int_equal(stats(s).bad_requests, 4);
    srv_stop(s);
}

/* Waits up to ms for the server to hang up; returns how long it took, or -1. */
static double wait_hangup(int fd, double ms)
{
    double t0 = now_ms();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (now_ms() - t0 < ms) {
        if (poll(&p, 1, 10) > 0) {
            char c;
            ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno == ECONNRESET))
                return now_ms() - t0;
            assert_true(n < 0 && errno == EAGAIN);
        }
    }
    return -1;
}

static void test_idle_timeout(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1, .idle_timeout_ms = 200});

    /* A client idle between requests is left alone. */
    int idle = cl_connect(s);
    call_add(idle, 1, 1);

    /* Half a frame, then silence: dropped after the timeout, not before. */
    int fd = cl_connect(s);
    uint8_t part[VG_CTL_HDR + 10] = {0, 0, 0, 100};
    send_raw(fd, part, sizeof(part));
    double took = wait_hangup(fd, 3000);
    assert_true(took >= 150);
    assert_true(took < 2000);
    close(fd);

    /* Trickling one byte every 40 ms does not restart the clock. */
    fd = cl_connect(s);
    send_raw(fd, part, VG_CTL_HDR);
    double t0 = now_ms();
    bool hung_up = false;
    while (!hung_up && now_ms() - t0 < 1500) {
        send(fd, "x", 1, MSG_NOSIGNAL);
        hung_up = wait_hangup(fd, 40) >= 0;
    }
    assert_true(hung_up);
    assert_true(now_ms() - t0 < 1000);
    close(fd);

    usleep(300000);
    call_add(idle, 2, 2);
    fd = cl_connect(s);
    call_add(fd, 3, 3);
    close(fd);
    close(idle);
    srv_stop(s);
}

static void test_many_clients(void **state)
{
    enum { N = 50 };
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = cl_connect(s);
    for (int i = 0; i < N; i++)
        send_add(fds[i], i, 1000);
    for (int i = N - 1; i >= 0; i--)
        expect_int(fds[i], i + 1000);
    assert_int_equal(stats(s).clients, N);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    wait_clients(s, 0);
    srv_stop(s);
}

static void test_max_clients(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1, .max_clients = 2});
    int a = cl_connect(s), b = cl_connect(s);
    call_add(a, 1, 1);
    call_add(b, 1, 1);
    int c = cl_connect(s);
    expect_error(c, EBUSY, "too many clients");
    expect_closed(c);
    close(c);
    close(a);
    wait_clients(s, 1);
    c = cl_connect(s);
    call_add(c, 2, 2);
    close(b);
    close(c);
    srv_stop(s);
}

/* Clients that go away mid-request, or before reading, do no harm. */
static void test_abrupt_clients(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    for (int i = 0; i < 20; i++) {
        int fd = cl_connect(s);
        if (i % 2)
            send_add(fd, 1, 2);
        else
            send_raw(fd, "\0\0\0\x10\x81", 5);
        /* Unread data at close makes the kernel reset the peer. */
        close(fd);
    }
    int fd = cl_connect(s);
    call_add(fd, 5, 5);
    close(fd);
    wait_clients(s, 0);
    srv_stop(s);
}

/* A client that sends requests but never reads is cut off once its replies
 * pile up, instead of growing the daemon's memory. */
static void test_reply_backlog(void **state)
{
    enum { N = 24, PAD = 512 << 10 };
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    int fd = cl_connect(s);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    vg_mp_pack_cstr(&pk, "pad");
    msgpack_pack_bin(&pk, PAD);
    char *pad = calloc(1, PAD);
    msgpack_pack_bin_body(&pk, pad, PAD);
    free(pad);
    int sent = 0;
    while (sent < N && vg_ctl_send_request(fd, "echo", sb.data, sb.size) == 0)
        sent++;
    msgpack_sbuffer_destroy(&sb);

    /* What was still queued is discarded with the connection, so the client
     * sees the end before all N replies. */
    int got = 0;
    reply r;
    int rc;
    while ((rc = read_reply(fd, &r)) == 0) {
        got++;
        reply_free(&r);
    }
    assert_int_equal(rc, -ECONNRESET);
    assert_true(got < N);
    close(fd);
    fd = cl_connect(s);
    call_add(fd, 1, 2);
    close(fd);
    srv_stop(s);
}

typedef struct send_job {
    int first, count;
    size_t pad;
    int streams, sent, dropped, other_err, bad_data;
} send_job;

static void send_each(vg_ctl_conn *conn, void *arg)
{
    send_job *j = arg;
    j->streams++;
    int *tag = vg_ctl_conn_data(conn);
    if (!tag || *tag != 4242)
        j->bad_data++;
    char *pad = calloc(1, j->pad + 1);
    for (int i = 0; i < j->count; i++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 1);
        vg_mp_pack_cstr(&pk, "event");
        msgpack_pack_map(&pk, 2);
        vg_mp_pack_kv_int(&pk, "n", j->first + i);
        vg_mp_pack_cstr(&pk, "pad");
        msgpack_pack_bin(&pk, j->pad);
        msgpack_pack_bin_body(&pk, pad, j->pad);
        int rc = vg_ctl_conn_send(conn, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
        if (rc == 0)
            j->sent++;
        else if (rc == -ENOBUFS)
            j->dropped++;
        else
            j->other_err++;
    }
    free(pad);
}

static void job_send(srv *s, void *arg)
{
    vg_ctl_foreach_stream(s->ctl, send_each, arg);
}

static int64_t read_event(int fd)
{
    reply r;
    assert_int_equal(read_reply(fd, &r), 0);
    int64_t n = -1;
    assert_int_equal(vg_mp_get_int(vg_mp_get(r.root, "event"), "n", &n), 0);
    reply_free(&r);
    return n;
}

static void test_stream(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    atomic_store(&stream_frees, 0);
    int plain = cl_connect(s);
    call_add(plain, 1, 1);

    int fd = cl_connect(s);
    assert_int_equal(vg_ctl_send_request(fd, "follow", NULL, 0), 0);
    reply r;
    assert_int_equal(read_reply(fd, &r), 0);
    assert_true(reply_ok(&r));
    assert_true(vg_mp_streq(vg_mp_get(r.root, "result"), "following"));
    reply_free(&r);
    /* Requests on a stream are ignored: no reply comes between events. */
    send_add(fd, 1, 2);
    send_raw(fd, "\0\0\0\0", 4);

    send_job j = {.first = 0, .count = 3};
    on_loop(s, job_send, &j);
    assert_int_equal(j.streams, 1);
    assert_int_equal(j.sent, 3);
    assert_int_equal(j.bad_data, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(read_event(fd), i);

    /* A subscriber that does not read loses frames, counted, and keeps its
     * connection. */
    j = (send_job){.first = 100, .count = 100, .pad = 64 << 10};
    on_loop(s, job_send, &j);
    assert_int_equal(j.other_err, 0);
    assert_true(j.sent >= 16);
    assert_true(j.dropped > 0);
    assert_int_equal(j.sent + j.dropped, 100);
    assert_int_equal(stats(s).stream_drops, (uint64_t)j.dropped);
    int64_t last = 99;
    for (int i = 0; i < j.sent; i++) {
        int64_t n = read_event(fd);
        assert_true(n > last);
        last = n;
    }
    j = (send_job){.first = 1000, .count = 1};
    on_loop(s, job_send, &j);
    assert_int_equal(j.sent, 1);
    assert_int_equal(read_event(fd), 1000);

    /* The client hanging up ends the stream and frees its data. */
    close(fd);
    wait_clients(s, 1);
    double end = now_ms() + 5000;
    while (atomic_load(&stream_frees) == 0 && now_ms() < end)
        usleep(10000);
    assert_int_equal(atomic_load(&stream_frees), 1);
    j = (send_job){.count = 1};
    on_loop(s, job_send, &j);
    assert_int_equal(j.streams, 0);
    call_add(plain, 2, 2);
    close(plain);
    srv_stop(s);
}

static void test_addr_in_use(void **state)
{
    srv *s = srv_start((vg_ctl_opts){.gid = (gid_t)-1});
    uv_loop_t loop2;
    assert_int_equal(uv_loop_init(&loop2), 0);
    vg_ctl *other = NULL;
    vg_ctl_opts o = {.path = s->path, .gid = (gid_t)-1};
    assert_int_equal(vg_ctl_open(&loop2, &o, &other), -EADDRINUSE);
    assert_null(other);
    assert_int_equal(uv_loop_close(&loop2), 0);
    /* The refused second server left the first one's socket alone. */
    int fd = cl_connect(s);
    call_add(fd, 1, 1);
    close(fd);
    srv_stop(s);
}

/* Makes a socket file that nobody listens on, as a crashed daemon leaves. */
static void make_stale_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    assert_true(n < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
}

static void test_stale_socket(void **state)
{
    srv *s = srv_new();
    make_stale_socket(s->path);
    srv_open(s, (vg_ctl_opts){.gid = (gid_t)-1});
    int fd = cl_connect(s);
    call_add(fd, 20, 22);
    close(fd);
    srv_stop(s);
}

/* A file that is not a socket is never removed to make room. */
static void test_not_a_socket(void **state)
{
    srv *s = srv_new();
    FILE *f = fopen(s->path, "w");
    assert_non_null(f);
    fputs("precious", f);
    fclose(f);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    vg_ctl *ctl = NULL;
    vg_ctl_opts o = {.path = s->path, .gid = (gid_t)-1};
    assert_int_equal(vg_ctl_open(&loop, &o, &ctl), -EEXIST);
    assert_int_equal(uv_loop_close(&loop), 0);
    struct stat st;
    assert_int_equal(stat(s->path, &st), 0);
    assert_int_equal(st.st_size, 8);
    assert_int_equal(unlink(s->path), 0);
    assert_int_equal(rmdir(s->dir), 0);
    cur = NULL;
}

static void test_group_mode(void **state)
{
    gid_t gid = geteuid() == 0 ? 4242 : getegid();
    srv *s = srv_start((vg_ctl_opts){.gid = gid});
    struct stat st;
    assert_int_equal(lstat(s->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0660);
    assert_int_equal(st.st_gid, gid);
    assert_int_equal(st.st_uid, geteuid());
    srv_stop(s);
}

typedef struct peer_try {
    const char *path;
    gid_t egid;
    gid_t extra; /* supplementary group, or (gid_t)-1 */
    int rc;      /* 0: a request was answered; else the errno of the refusal */
    int setup_err;
} peer_try;

/* Connects with other credentials. The raw syscalls change only this
 * thread's credentials (glibc's wrappers would change the whole process),
 * and the kernel records them at connect() for SO_PEERCRED. */
static void *peer_thread(void *arg)
{
    peer_try *t = arg;
    gid_t groups[1] = {t->extra};
    if (syscall(SYS_setgroups, t->extra == (gid_t)-1 ? 0 : 1, groups) < 0 ||
        syscall(SYS_setresgid, -1, t->egid, -1) < 0 || syscall(SYS_setresuid, -1, 65534, -1) < 0) {
        t->setup_err = errno;
        return NULL;
    }
    int fd = vg_ctl_connect(t->path);
    if (fd < 0) {
        t->setup_err = -fd;
        return NULL;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    msgpack_sbuffer sb;
    args_ab(&sb, 1, 1);
    vg_ctl_send_request(fd, "add", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    void *p;
    size_t n;
    t->rc = -1;
    if (vg_ctl_read_frame(fd, 0, &p, &n) == 0) {
        msgpack_zone z;
        msgpack_object o;
        size_t off = 0;
        msgpack_zone_init(&z, 256);
        if (msgpack_unpack(p, n, &off, &z, &o) == MSGPACK_UNPACK_SUCCESS) {
            bool ok = false;
            int64_t e = 0;
            vg_mp_get_bool(&o, "ok", &ok);
            vg_mp_get_int(&o, "errno", &e);
            t->rc = ok ? 0 : (int)e;
        }
        msgpack_zone_destroy(&z);
        free(p);
    }
    close(fd);
    return NULL;
}

static int try_peer(const char *path, gid_t egid, gid_t extra)
{
    peer_try t = {.path = path, .egid = egid, .extra = extra};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, peer_thread, &t), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.setup_err, 0);
    return t.rc;
}

/* Connections made as uid 65534 (control group 4242) that each send one
 * request and then stay open, as a member of control_group could hold
 * them: how many were answered, and the errno of the first refusal. */
typedef struct hold_try {
    const char *path;
    int want, got, refused_errno;
    int fds[64];
} hold_try;

static int add_on(int fd)
{
    msgpack_sbuffer sb;
    args_ab(&sb, 1, 1);
    vg_ctl_send_request(fd, "add", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    void *p;
    size_t n;
    int rc = -1;
    if (vg_ctl_read_frame(fd, 0, &p, &n) == 0) {
        msgpack_zone z;
        msgpack_object o;
        size_t off = 0;
        msgpack_zone_init(&z, 256);
        if (msgpack_unpack(p, n, &off, &z, &o) == MSGPACK_UNPACK_SUCCESS) {
            bool ok = false;
            int64_t e = 0;
            vg_mp_get_bool(&o, "ok", &ok);
            vg_mp_get_int(&o, "errno", &e);
            rc = ok ? 0 : (int)e;
        }
        msgpack_zone_destroy(&z);
        free(p);
    }
    return rc;
}

static void *hold_thread(void *arg)
{
    hold_try *t = arg;
    gid_t groups[1] = {4242};
    if (syscall(SYS_setgroups, 1, groups) < 0 || syscall(SYS_setresuid, -1, 65534, -1) < 0)
        return NULL;
    for (int i = 0; i < t->want; i++) {
        int fd = vg_ctl_connect(t->path);
        if (fd < 0)
            break;
        struct timeval tv = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        int rc = add_on(fd);
        if (rc != 0) {
            if (!t->refused_errno)
                t->refused_errno = rc;
            close(fd);
            continue;
        }
        t->fds[t->got++] = fd;
    }
    return NULL;
}

/* No user but root can lock root out of the socket: another user holds at
 * most a quarter of the slots, the last four are root's, and a client
 * that never sends a request gives its slot back after the idle time. */
static void test_slots_are_shared(void **state)
{
    if (geteuid() != 0)
        skip();
    srv *s = srv_start((vg_ctl_opts){.gid = 4242, .max_clients = 16, .idle_timeout_ms = 300});
    assert_int_equal(chmod(s->dir, 0711), 0);
    assert_int_equal(chmod(s->path, 0666), 0);

    hold_try h = {.path = s->path, .want = 16};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, hold_thread, &h), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(h.got, 4);
    assert_int_equal(h.refused_errno, EBUSY);
    /* Root fills every slot but the reserve's, from silent clients that
     * never send a byte... */
    int silent[8];
    for (int i = 0; i < 8; i++)
        silent[i] = cl_connect(s);
    wait_clients(s, 12);
    /* ...then the other user cannot get in, and root can. */
    hold_try h2 = {.path = s->path, .want = 1};
    assert_int_equal(pthread_create(&th, NULL, hold_thread, &h2), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(h2.got, 0);
    assert_int_equal(h2.refused_errno, EBUSY);
    int fd = cl_connect(s);
    call_add(fd, 2, 3);
    close(fd);
    /* The silent clients are dropped after the idle time. */
    for (int i = 0; i < 8; i++)
        assert_true(wait_hangup(silent[i], 3000) >= 0);
    wait_clients(s, 4);
    for (int i = 0; i < 8; i++)
        close(silent[i]);
    for (int i = 0; i < h.got; i++)
        close(h.fds[i]);
    srv_stop(s);
}

/* Peer credentials are checked even if the file mode lets anyone connect. */
static void test_peer_credentials(void **state)
{
    if (geteuid() != 0)
        skip();
    srv *s = srv_start((vg_ctl_opts){.gid = 4242});
    assert_int_equal(chmod(s->dir, 0711), 0);
    assert_int_equal(chmod(s->path, 0666), 0);

    assert_int_equal(try_peer(s->path, 4343, (gid_t)-1), EACCES);
    assert_int_equal(try_peer(s->path, 4242, (gid_t)-1), 0);
    assert_int_equal(try_peer(s->path, 4343, 4242), 0);
    assert_int_equal(stats(s).requests, 2);
    srv_stop(s);
}

int main(void)
{
    /* libuv writes with write(2), so a peer that hung up raises SIGPIPE;
     * vigild ignores it the same way. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_frame_check, teardown),
        cmocka_unit_test_teardown(test_request_decode, teardown),
        cmocka_unit_test_teardown(test_client_helpers, teardown),
        cmocka_unit_test_teardown(test_round_trip, teardown),
        cmocka_unit_test_teardown(test_unknown_command, teardown),
        cmocka_unit_test_teardown(test_call_local, teardown),
        cmocka_unit_test_teardown(test_pipelined, teardown),
        cmocka_unit_test_teardown(test_bad_frames, teardown),
        cmocka_unit_test_teardown(test_idle_timeout, teardown),
        cmocka_unit_test_teardown(test_many_clients, teardown),
        cmocka_unit_test_teardown(test_max_clients, teardown),
        cmocka_unit_test_teardown(test_abrupt_clients, teardown),
        cmocka_unit_test_teardown(test_reply_backlog, teardown),
        cmocka_unit_test_teardown(test_stream, teardown),
        cmocka_unit_test_teardown(test_addr_in_use, teardown),
        cmocka_unit_test_teardown(test_stale_socket, teardown),
        cmocka_unit_test_teardown(test_not_a_socket, teardown),
        cmocka_unit_test_teardown(test_group_mode, teardown),
        cmocka_unit_test_teardown(test_peer_credentials, teardown),
        cmocka_unit_test_teardown(test_slots_are_shared, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
