/*
 * A test plugin that fills the store: when started, it publishes
 * plugins.flood.count events (default 0) of type "flood.event", each with
 * a body {n = i, pad = <plugins.flood.pad bytes of 'x'>}, every tenth at
 * severity warning and the others info, in group "flood"; with
 * plugins.flood.on_reload = true, again at each reload. For the tests of
 * `vigilctl events` on large histories and the outputs' bench.
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <vigil/plugin.h>

typedef struct state {
    const vg_host_api *api;
    vg_host *h;
    int type;
    int64_t count, pad;
    int on_reload;
} state;

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->api = api;
    s->h = h;
    s->type = api->event_type(h, "flood.event");
    if (api->config_int(h, "count", &s->count) < 0)
        s->count = 0;
    if (api->config_int(h, "pad", &s->pad) < 0 || s->pad < 0 || s->pad > 4096)
        s->pad = 0;
    if (api->config_bool(h, "on_reload", &s->on_reload) < 0)
        s->on_reload = 0;
    *priv = s;
    return 0;
}

static int start(void *priv)
{
    state *s = priv;
    char *pad = malloc((size_t)s->pad + 1);
    if (!pad)
        return -1;
    memset(pad, 'x', (size_t)s->pad);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (int64_t i = 1; i <= s->count; i++) {
        sb.size = 0;
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "n", 1);
        msgpack_pack_int64(&pk, i);
        msgpack_pack_str_with_body(&pk, "pad", 3);
        msgpack_pack_str_with_body(&pk, pad, (size_t)s->pad);
        vg_event_in ev = {.type = s->type,
                          .severity = i % 10 == 0 ? VG_SEV_WARNING : VG_SEV_INFO,
                          .group = "flood",
                          .body = sb.data,
                          .body_len = sb.size};
        s->api->publish(s->h, &ev);
    }
    msgpack_sbuffer_destroy(&sb);
    free(pad);
    return 0;
}

static int reload(void *priv)
{
    state *s = priv;
    return s->on_reload ? start(priv) : 0;
}

static void stop(void *priv)
{
    free(priv);
}

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "flood",
    .version = "1.0",
    .description = "publishes many events (tests)",
    .init = init,
    .start = start,
    .stop = stop,
    .reload = reload,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
