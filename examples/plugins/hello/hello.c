/*
 * hello: the smallest complete vigil plugin, built outside vigil's tree
 * against its installed header alone (see README.md beside this file and
 * docs/plugins.md).
 *
 * It reads two settings, plugins.hello.greeting (default "hello") and
 * plugins.hello.interval_ms (default 1000, at least 10), publishes a
 * "hello.tick" event {greeting, count} on a timer of the daemon's loop,
 * and adds the control command "hello" (`vigilctl call hello`), which
 * answers {greeting, ticks}. A reload (SIGHUP, `vigilctl reload`) reads the
 * settings again.
 *
 * Threads: everything here runs on the daemon's loop thread (init, start,
 * reload, stop, the timer and the command), so nothing needs a lock.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <vigil/plugin.h>

typedef struct hello {
    const vg_host_api *api;
    vg_host *h;
    int tick_type;        /* the id of "hello.tick" */
    const char *greeting; /* the config's string: valid until the next reload */
    int64_t interval_ms;
    uint64_t ticks;
    uv_timer_t timer;
    int timer_on; /* the timer handle is open: stop() closes it */
} hello;

/* A setting that is not set keeps its default. The daemon checks only that
 * the config is valid Lua of plain values; the type of each key is the
 * plugin's to check (-EINVAL), and the plugin's to say. */
static void read_settings(hello *p)
{
    p->greeting = "hello";
    if (p->api->config_string(p->h, "greeting", &p->greeting) == -EINVAL)
        p->api->log(p->h, VG_LOG_WARN, "plugins.hello.greeting is not a string; using \"hello\"");
    p->interval_ms = 1000;
    if (p->api->config_int(p->h, "interval_ms", &p->interval_ms) == -EINVAL)
        p->api->log(p->h, VG_LOG_WARN, "plugins.hello.interval_ms is not an integer; using 1000");
    if (p->interval_ms < 10) {
        p->api->log(p->h, VG_LOG_WARN, "plugins.hello.interval_ms %lld is too short; using 10",
                    (long long)p->interval_ms);
        p->interval_ms = 10;
    }
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* One msgpack map {greeting, <count_key>: ticks}, the body of an event and
 * the result of the command alike. */
static void pack_state(const hello *p, msgpack_sbuffer *sb, const char *count_key)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    pack_str(&pk, "greeting");
    pack_str(&pk, p->greeting);
    pack_str(&pk, count_key);
    msgpack_pack_uint64(&pk, p->ticks);
}

static void on_tick(uv_timer_t *t)
{
    hello *p = t->data;
    p->ticks++;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_state(p, &sb, "count");
    vg_event_in ev = {
        .type = p->tick_type, .severity = VG_SEV_INFO, .body = sb.data, .body_len = sb.size};
    /* Never blocks; a full queue drops the event (counted by the daemon). */
    int rc = p->api->publish(p->h, &ev);
    if (rc < 0 && rc != -ENOBUFS)
        p->api->log(p->h, VG_LOG_WARN, "publish: %s", strerror(-rc));
    msgpack_sbuffer_destroy(&sb);
}

/* `vigilctl call hello`: args are not used. */
static int run_hello(void *priv, const void *args, size_t args_len, vg_reply *r)
{
    (void)args, (void)args_len;
    hello *p = priv;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_state(p, &sb, "ticks");
    int rc = p->api->reply(r, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int hello_init(const vg_host_api *api, vg_host *h, void **priv)
{
    if (!VG_HOST_HAS(api, register_command))
        return -ENOTSUP; /* a daemon older than ABI 1.2 */
    hello *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->api = api;
    p->h = h;
    p->tick_type = api->event_type(h, "hello.tick");
    read_settings(p);
    vg_command_desc cmd = {.name = "hello", .run = run_hello, .priv = p};
    int rc = p->tick_type < 0 ? p->tick_type : api->register_command(h, &cmd);
    if (rc < 0 && rc != -ENODEV) { /* -ENODEV: no control socket, ticks still go */
        free(p);
        return rc;
    }
    *priv = p;
    return 0;
}

static int hello_start(void *priv)
{
    hello *p = priv;
    int rc = uv_timer_init(p->api->loop(p->h), &p->timer);
    if (rc < 0)
        return rc;
    p->timer.data = p;
    p->timer_on = 1;
    return uv_timer_start(&p->timer, on_tick, (uint64_t)p->interval_ms, (uint64_t)p->interval_ms);
}

static int hello_reload(void *priv)
{
    hello *p = priv;
    read_settings(p);
    uv_timer_set_repeat(&p->timer, (uint64_t)p->interval_ms);
    return 0;
}

/* The state goes once libuv has closed the timer (the daemon runs its loop
 * after stop() and keeps the plugin's code mapped for that). */
static void on_closed(uv_handle_t *hd)
{
    free(hd->data);
}

static void hello_stop(void *priv)
{
    hello *p = priv;
    if (!p->timer_on) {
        free(p);
        return;
    }
    uv_close((uv_handle_t *)&p->timer, on_closed);
}

/* The settings it reads: declared, the daemon refuses a config that
 * misspells one or gives it the wrong type, with the file and line, before
 * the plugin runs (ABI 1.4). */
static const vg_setting_desc settings[] = {
    {.key = "greeting", .type = VG_SETTING_STRING},
    {.key = "interval_ms", .type = VG_SETTING_INT, .min = 10, .max = 3600000},
    {.key = NULL},
};

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "hello",
    .version = "1.0.0",
    .description = "example: a tick event, a command, a setting",
    .init = hello_init,
    .start = hello_start,
    .stop = hello_stop,
    .reload = hello_reload,
    .settings = settings,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
