/*
 * A well-behaved test plugin: it reads its config, registers an action,
 * publishes "test.started" when started and "test.reloaded" on reload, so
 * that tests can observe each step of the life cycle from the outside.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vigil/plugin.h>

typedef struct state {
    const vg_host_api *api;
    vg_host *h;
    int started_type, reloaded_type, action_type, seen_type;
} state;

static void publish(state *s, int type, const char *key, const char *val)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, key, strlen(key));
    msgpack_pack_str_with_body(&pk, val, strlen(val));
    vg_event_in ev = {.type = type,
                      .severity = VG_SEV_INFO,
                      .group = "test",
                      .body = sb.data,
                      .body_len = sb.size};
    s->api->publish(s->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}

/* ABI 1.1: a subscription hands over the wire form of each event; the
 * plugin answers with "test.seen" naming the event's group. */
static void on_mode_event(void *arg, const void *rec, size_t len)
{
    state *s = arg;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, rec, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.via.str.size == 5 && memcmp(kv->key.via.str.ptr, "group", 5) == 0 &&
                kv->val.type == MSGPACK_OBJECT_STR) {
                char g[VG_GROUP_MAX];
                snprintf(g, sizeof(g), "%.*s", (int)kv->val.via.str.size, kv->val.via.str.ptr);
                publish(s, s->seen_type, "seen_group", g);
            }
        }
    }
    msgpack_unpacked_destroy(&u);
}

/* ABI 1.2: a control command, "testok", that answers {"plugin": "testok",
 * "args": <the request's args>}, or fails when args has "fail". */
static int run_command(void *priv, const void *args, size_t len, vg_reply *r)
{
    state *s = priv;
    if (len > 5 && memmem(args, len,
                          "\xa4"
                          "fail",
                          5)) {
        s->api->reply_error(r, "asked to fail (%zu bytes of args)", len);
        return -EINVAL;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "plugin", 6);
    msgpack_pack_str_with_body(&pk, "testok", 6);
    msgpack_pack_str_with_body(&pk, "args", 4);
    msgpack_sbuffer_write(&sb, args, len);
    int rc = s->api->reply(r, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static const char *greeting(state *s)
{
    const char *g = "hello";
    s->api->config_string(s->h, "greeting", &g);
    return g;
}

static int run_action(void *priv, const void *args, size_t len)
{
    publish(priv, ((state *)priv)->action_type, "ran", "yes");
    return 0;
}

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->api = api;
    s->h = h;
    s->started_type = api->event_type(h, "test.started");
    s->reloaded_type = api->event_type(h, "test.reloaded");
    s->action_type = api->event_type(h, "test.action");
    s->seen_type = api->event_type(h, "test.seen");
    vg_action_desc act = {.name = "test_action", .run = run_action, .priv = s};
    api->register_action(h, &act);
    if (api->abi_minor >= 2) {
        vg_command_desc cmd = {.name = "testok", .run = run_command, .priv = s};
        api->register_command(h, &cmd);
    }
    *priv = s;
    return 0;
}

static int start(void *priv)
{
    state *s = priv;
    int degraded = 0;
    if (s->api->config_bool(s->h, "degraded", &degraded) == 0 && degraded)
        s->api->set_state(s->h, VG_PLUGIN_DEGRADED, "asked to be degraded by its config");
    publish(s, s->started_type, "greeting", greeting(s));
    /* ABI 1.1, only when the host has it. */
    if (s->api->abi_minor >= 1) {
        vg_workload_view self;
        if (s->api->workload_of_pid(s->h, getpid(), &self) == 0)
            publish(s, s->started_type, "self_group", self.group);
        s->api->subscribe(s->h, "group.mode", on_mode_event, s);
    }
    return 0;
}

static int reload(void *priv)
{
    state *s = priv;
    publish(s, s->reloaded_type, "greeting", greeting(s));
    return 0;
}

static void stop(void *priv)
{
    free(priv);
}

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "testok",
    .version = "1.2.3",
    .description = "test plugin that behaves",
    .init = init,
    .start = start,
    .stop = stop,
    .reload = reload,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
