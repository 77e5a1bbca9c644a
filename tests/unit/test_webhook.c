/*
 * Webhooks against a real HTTP receiver on loopback (a small libuv TCP
 * server in this test, on the same loop as the deliveries): the body is
 * the event as JSON, byte for byte, with the configured headers; Slack
 * endpoints get {"text": ...}; a 500 is retried until it succeeds; an
 * endpoint that refuses connections, or one that accepts and never
 * answers, costs counted failures only, while a 10 ms timer on the same
 * loop keeps firing on time. Endpoints come from a real config file.
 * Without a loadable libcurl, deliveries fail at once, counted, with an
 * error on stderr that names the library.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions.h"
#include "config.h"
#include "mp.h"
#include "webhook.h"
#include "curl_load.h"

/* ---- the receiver ------------------------------------------------------- */

#define MAX_REQS 16

typedef struct receiver {
    uv_tcp_t server;
    int port;
    int fail_first;    /* answer 500 to this many requests first */
    bool never_answer; /* accept, read, and say nothing */
    char *reqs[MAX_REQS];
    int nreqs;
} receiver;

typedef struct conn {
    uv_tcp_t tcp;
    receiver *rx;
    char *buf;
    size_t len;
    bool answered;
} conn;

static void conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    free(c->buf);
    free(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    b->base = malloc(65536);
    b->len = 65536;
}

static void write_done(uv_write_t *req, int status)
{
    uv_close((uv_handle_t *)req->handle, conn_closed);
    free(req);
}

/* A whole request is its head and Content-Length bytes of body. */
static bool request_complete(const conn *c)
{
    const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return false;
    const char *cl = strcasestr(c->buf, "Content-Length:");
    size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
    return (size_t)(end + 4 - c->buf) + body <= c->len;
}

static void answer(conn *c)
{
    receiver *rx = c->rx;
    c->answered = true;
    if (rx->nreqs < MAX_REQS)
        rx->reqs[rx->nreqs] = strndup(c->buf, c->len);
    bool fail = rx->nreqs++ < rx->fail_first;
    if (rx->never_answer)
        return;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    static const char err[] = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    uv_write_t *req = malloc(sizeof(*req));
    uv_buf_t b = uv_buf_init((char *)(fail ? err : ok), fail ? sizeof(err) - 1 : sizeof(ok) - 1);
    uv_write(req, (uv_stream_t *)&c->tcp, &b, 1, write_done);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (n > 0) {
        c->buf = realloc(c->buf, c->len + (size_t)n + 1);
        memcpy(c->buf + c->len, b->base, (size_t)n);
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        if (!c->answered && request_complete(c))
            answer(c);
    } else if (n < 0 && !uv_is_closing((uv_handle_t *)s)) {
        uv_close((uv_handle_t *)s, conn_closed);
    }
    free(b->base);
}

static void on_connection(uv_stream_t *server, int status)
{
    receiver *rx = server->data;
    conn *c = calloc(1, sizeof(*c));
    c->rx = rx;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void receiver_start(uv_loop_t *loop, receiver *rx)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_init(loop, &rx->server);
    rx->server.data = rx;
    assert_int_equal(uv_tcp_bind(&rx->server, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&rx->server, 16, on_connection), 0);
    struct sockaddr_in got;
    int len = sizeof(got);
    uv_tcp_getsockname(&rx->server, (struct sockaddr *)&got, &len);
    rx->port = ntohs(got.sin_port);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, h->type == UV_TCP && h->data && h->data != arg ? conn_closed : NULL);
}

static void receiver_free(receiver *rx)
{
    for (int i = 0; i < rx->nreqs && i < MAX_REQS; i++)
        free(rx->reqs[i]);
}

/* A port where nothing listens: bound, then closed. */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- fixtures ----------------------------------------------------------- */

typedef struct fixture {
    uv_loop_t loop;
    receiver rx;
    char dir[64];
    vg_config *cfg;
    vg_webhooks *w;
} fixture;

static void load_config(fixture *f, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/vigil.lua", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    vg_diag diag = {0};
    int rc = vg_config_load(path, &f->cfg, &diag);
    if (rc < 0)
        fail_msg("config: %s", diag.n ? diag.msgs[0] : "?");
    vg_diag_free(&diag);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    snprintf(f->dir, sizeof(f->dir), "/tmp/vg-webhook-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    receiver_start(&f->loop, &f->rx);
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    vg_webhooks_close(f->w);
    uv_walk(&f->loop, close_walk, &f->rx);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    vg_config_free(f->cfg);
    receiver_free(&f->rx);
    nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* {"id": 7, "type": "proc.violation", "group": "web", "name": "curl \"x\"\n"} */
static void pack_event(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    vg_mp_pack_kv_uint(&pk, "id", 7);
    vg_mp_pack_kv_str(&pk, "type", "proc.violation");
    vg_mp_pack_kv_str(&pk, "severity", "warning");
    vg_mp_pack_kv_str(&pk, "group", "web");
    vg_mp_pack_kv_str(&pk, "name", "curl \"x\"\n");
}

static const char expected_json[] =
    "{\"id\":7,\"type\":\"proc.violation\",\"severity\":\"warning\","
    "\"group\":\"web\",\"name\":\"curl \\\"x\\\"\\n\"}";

/* Runs the webhook action as a response would: {endpoint, event}. */
static int run_webhook(vg_actions *a, const char *endpoint)
{
    msgpack_sbuffer ev, args;
    msgpack_sbuffer_init(&ev);
    msgpack_sbuffer_init(&args);
    pack_event(&ev);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &args, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_str(&pk, "endpoint", endpoint);
    vg_mp_pack_cstr(&pk, "event");
    msgpack_sbuffer_write(&args, ev.data, ev.size);
    int rc = vg_actions_run(a, "webhook", args.data, args.size);
    msgpack_sbuffer_destroy(&ev);
    msgpack_sbuffer_destroy(&args);
    return rc;
}

/* Runs the loop until nothing is pending (or 10 s pass). */
static void run_until_idle(fixture *f)
{
    uint64_t start = uv_now(&f->loop);
    vg_webhooks_stats st;
    do {
        uv_run(&f->loop, UV_RUN_ONCE);
        vg_webhooks_stats_get(f->w, &st);
    } while (st.pending && uv_now(&f->loop) - start < 10000);
    assert_int_equal(st.pending, 0);
}

static const char *body_of(const char *req)
{
    const char *p = strstr(req, "\r\n\r\n");
    assert_non_null(p);
    return p + 4;
}

/* Webhooks with opts and one endpoint, "ops", at the receiver. */
static void start_ops(fixture *f, const vg_webhooks_opts *o)
{
    char cfg[256];
    snprintf(cfg, sizeof(cfg), "webhooks = { ops = { url = \"http://127.0.0.1:%d/h\" } }\n",
             f->rx.port);
    load_config(f, cfg);
    assert_int_equal(vg_webhooks_new(&f->loop, o, &f->w), 0);
    assert_int_equal(vg_webhooks_configure(f->w, f->cfg), 0);
}

/* Queues n deliveries of the test event to "ops"; runs nothing. */
static void send_ops(fixture *f, int n)
{
    msgpack_sbuffer ev;
    msgpack_sbuffer_init(&ev);
    pack_event(&ev);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_unpack_next(&up, ev.data, ev.size, NULL);
    for (int i = 0; i < n; i++)
        assert_int_equal(vg_webhooks_send(f->w, "ops", &up.data), 0);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&ev);
}

/* ---- tests -------------------------------------------------------------- */

static void test_delivers_json_with_headers(void **state)
{
    fixture *f = *state;
    char cfg[512];
    snprintf(cfg, sizeof(cfg),
             "webhooks = {\n  ops = { url = \"http://127.0.0.1:%d/hook\", timeout_ms = 2000,\n"
             "          headers = { [\"X-Token\"] = \"s3cret\" } },\n"
             "  chat = { url = \"http://127.0.0.1:%d/slack\", slack = true },\n}\n",
             f->rx.port, f->rx.port);
    load_config(f, cfg);
    vg_actions *a;
    assert_int_equal(vg_actions_new(&a), 0);
    assert_int_equal(vg_webhooks_new(&f->loop, NULL, &f->w), 0);
    assert_int_equal(vg_webhooks_configure(f->w, f->cfg), 0);
    assert_int_equal(vg_webhooks_register(f->w, a), 0);
    assert_string_equal(vg_actions_owner(a, "webhook"), "core");

    assert_int_equal(run_webhook(a, "ops"), 0);
    run_until_idle(f);
    assert_int_equal(f->rx.nreqs, 1);
    const char *req = f->rx.reqs[0];
    assert_true(strncmp(req, "POST /hook HTTP/1.1\r\n", 21) == 0);
    assert_non_null(strstr(req, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(req, "\r\nX-Token: s3cret\r\n"));
    assert_string_equal(body_of(req), expected_json);

    assert_int_equal(run_webhook(a, "chat"), 0);
    run_until_idle(f);
    assert_int_equal(f->rx.nreqs, 2);
    req = f->rx.reqs[1];
    assert_true(strncmp(req, "POST /slack HTTP/1.1\r\n", 22) == 0);
    assert_string_equal(body_of(req),
                        "{\"text\":\"vigil: warning proc.violation in group web: "
                        "{\\\"id\\\":7,\\\"type\\\":\\\"proc.violation\\\",\\\"severity\\\":"
                        "\\\"warning\\\",\\\"group\\\":\\\"web\\\",\\\"name\\\":"
                        "\\\"curl \\\\\\\"x\\\\\\\"\\\\n\\\"}\"}");

    assert_int_equal(run_webhook(a, "nosuch"), -ENOENT);
    vg_webhooks_stats st;
    vg_webhooks_stats_get(f->w, &st);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.retries, 0);
    vg_actions_free(a);
}

static void test_retries_a_500(void **state)
{
    fixture *f = *state;
    f->rx.fail_first = 2;
    vg_webhooks_opts o = {.backoff_ms = 20, .max_attempts = 5};
    start_ops(f, &o);
    send_ops(f, 1);
    run_until_idle(f);
    vg_webhooks_stats st;
    vg_webhooks_stats_get(f->w, &st);
    assert_int_equal(f->rx.nreqs, 3);
    assert_int_equal(st.attempts, 3);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.delivered, 1);
    assert_int_equal(st.failed, 0);
    /* Each attempt carries the same body. */
    assert_string_equal(body_of(f->rx.reqs[2]), expected_json);
}

/* A timer that should fire every 10 ms records how late it was. */
typedef struct ticker {
    uv_timer_t t;
    uint64_t last_ns, max_gap_ns;
    long ticks;
} ticker;

static void on_tick(uv_timer_t *t)
{
    ticker *k = (ticker *)t;
    uint64_t now = uv_hrtime();
    if (k->last_ns && now - k->last_ns > k->max_gap_ns)
        k->max_gap_ns = now - k->last_ns;
    k->last_ns = now;
    k->ticks++;
}

static void dead_endpoint(fixture *f, const char *url_fmt, int port, unsigned attempts)
{
    char cfg[256];
    snprintf(cfg, sizeof(cfg), "webhooks = { dead = { url = \"%s\", timeout_ms = 150 } }\n",
             url_fmt);
    char real[300];
    snprintf(real, sizeof(real), cfg, port);
    load_config(f, real);
    vg_webhooks_opts o = {.backoff_ms = 20, .max_attempts = attempts, .queue_max = 4};
    assert_int_equal(vg_webhooks_new(&f->loop, &o, &f->w), 0);
    assert_int_equal(vg_webhooks_configure(f->w, f->cfg), 0);
    ticker k = {0};
    uv_timer_init(&f->loop, &k.t);
    uv_timer_start(&k.t, on_tick, 10, 10);
    msgpack_sbuffer ev;
    msgpack_sbuffer_init(&ev);
    pack_event(&ev);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_unpack_next(&up, ev.data, ev.size, NULL);
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < 4; i++)
        assert_int_equal(vg_webhooks_send(f->w, "dead", &up.data), 0);
    /* The queue holds 4: the fifth is dropped and counted, at once. */
    assert_int_equal(vg_webhooks_send(f->w, "dead", &up.data), -ENOBUFS);
    assert_true(uv_hrtime() - t0 < 50 * 1000000ULL);
    run_until_idle(f);
    uv_timer_stop(&k.t);
    uv_close((uv_handle_t *)&k.t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    vg_webhooks_stats st;
    vg_webhooks_stats_get(f->w, &st);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.failed, 4);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.attempts, 4 * attempts);
    assert_int_equal(st.retries, 4 * (attempts - 1));
    print_message("    %ld ticks, longest gap %.1f ms (the timer asks for 10 ms)\n", k.ticks,
                  k.max_gap_ns / 1e6);
    assert_true(k.ticks >= 5);
    assert_true(k.max_gap_ns < 60 * 1000000ULL);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&ev);
}

static void test_refused_costs_only_counted_failures(void **state)
{
    fixture *f = *state;
    dead_endpoint(f, "http://127.0.0.1:%d/x", dead_port(), 4);
}

static void test_silent_server_times_out_without_blocking(void **state)
{
    fixture *f = *state;
    f->rx.never_answer = true;
    dead_endpoint(f, "http://127.0.0.1:%d/x", f->rx.port, 2);
    assert_int_equal(f->rx.nreqs, 8); /* every attempt reached it */
}

static void test_bad_config_is_refused_with_its_line(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/bad.lua", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("log_level = \"info\"\nwebhooks = {\n ops = { url = \"ftp://x\" } }\n", fp);
    fclose(fp);
    vg_diag diag = {0};
    vg_config *cfg = NULL;
    assert_int_equal(vg_config_load(path, &cfg, &diag), -EINVAL);
    assert_true(diag.n >= 1);
    if (!strstr(diag.msgs[0], "bad.lua:2:"))
        fail_msg("%s", diag.msgs[0]);
    assert_non_null(strstr(diag.msgs[0], "webhooks.ops.url must be an http:// or https:// URL"));
    vg_diag_free(&diag);
    fp = fopen(path, "w");
    fputs("webhooks = { ops = { url = \"http://x\", headers = { [\"A\"] = \"b\\r\\nX: y\" } } }\n",
          fp);
    fclose(fp);
    assert_int_equal(vg_config_load(path, &cfg, &diag), -EINVAL);
    assert_non_null(strstr(diag.msgs[0], "is not a valid header"));
    vg_diag_free(&diag);
}

/* Runs fn with stderr going to a file, and returns what was written
 * (malloc'd). */
static char *capture_stderr(fixture *f, void (*fn)(fixture *))
{
    char path[128];
    snprintf(path, sizeof(path), "%s/stderr", f->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    fn(f);
    dup2(saved, 2);
    close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    char *out = calloc(1, (size_t)len + 1);
    assert_int_equal(pread(fd, out, (size_t)len, 0), len);
    close(fd);
    return out;
}

static void send_three(fixture *f)
{
    send_ops(f, 3);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* A host without libcurl: the endpoint is up, but nothing reaches it; each
 * delivery fails at once (no retries: a missing library does not come back
 * in seconds) and is counted, and the log says which library is missing.
 * The daemon itself goes on. */
static void test_without_libcurl_deliveries_fail_counted(void **state)
{
    fixture *f = *state;
    vg_webhooks_opts o = {
        .backoff_ms = 20, .max_attempts = 5, .curl_soname = "libvigil-test-no-such-curl.so.4"};
    start_ops(f, &o);
    char *log = capture_stderr(f, send_three);
    vg_webhooks_stats st;
    vg_webhooks_stats_get(f->w, &st);
    assert_int_equal(f->rx.nreqs, 0);
    assert_int_equal(st.queued, 3);
    assert_int_equal(st.failed, 3);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.attempts, 0);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.pending, 0); /* without running the loop for the retries */
    if (!strstr(log, "no webhook can be delivered: cannot load libvigil-test-no-such-curl.so.4"))
        fail_msg("stderr: %s", log);
    assert_non_null(strstr(log, "libcurl could not be loaded"));
    free(log);
}

/* The loader refuses a library that is not libcurl, naming what it lacks,
 * and loads the real one. */
static void test_loader_checks_the_library(void **state)
{
    vg__curl_api api;
    char err[256] = "";
    assert_int_equal(vg__curl_load("libc.so.6", &api, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "libc.so.6 has no curl_global_init"));
    assert_null(api.easy_init);
    assert_int_equal(vg__curl_load(NULL, &api, err, sizeof(err)), 0);
    CURL *e = api.easy_init();
    assert_non_null(e);
    api.easy_cleanup(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delivers_json_with_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_a_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_costs_only_counted_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_server_times_out_without_blocking, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_config_is_refused_with_its_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_libcurl_deliveries_fail_counted, setup,
                                        teardown),
        cmocka_unit_test(test_loader_checks_the_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
