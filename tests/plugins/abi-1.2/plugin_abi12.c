/*
 * A plugin built against ABI 1.2, as plugins built before 1.3 were: it
 * includes the 1.2 header (plugin.h beside it, a frozen copy) and asks for
 * decisions through that header's decide slot, with positional fields. A
 * daemon of a later minor must load it and answer as before.
 *
 * On start it publishes "abi12.started" with the host's ABI; its command
 * "abi12" asks decide() about the subject in its args ({group, plane,
 * <field>: value...}, missing fields "") and replies
 * {"decision": "allow"|"deny"|"unknown"}.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h" /* the 1.2 header beside this file */

_Static_assert(VG_ABI_MINOR == 2, "this plugin must be built against the 1.2 header");

typedef struct state {
    const vg_host_api *api;
    vg_host *h;
} state;

/* The 1.2 header's order of each plane's fields. */
static const char *const plane_names[] = {"proc", "file", "net"};
static const char *const plane_fields[][6] = {
    {"name", "path", "user", NULL},
    {"path", "program", "access", NULL},
    {"direction", "peer", "port", "proto", "app", NULL},
};

#define STR_MAX 256

static void arg_str(const msgpack_object *map, const char *key, char *out)
{
    out[0] = '\0';
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key, *v = &map->via.map.ptr[i].val;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0 && v->type == MSGPACK_OBJECT_STR &&
            v->via.str.size < STR_MAX)
            snprintf(out, STR_MAX, "%.*s", (int)v->via.str.size, v->via.str.ptr);
    }
}

static int ask(state *s, const msgpack_object *args, vg_reply *r)
{
    char group[STR_MAX], plane_s[STR_MAX], vals[5][STR_MAX];
    arg_str(args, "group", group);
    arg_str(args, "plane", plane_s);
    int plane = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(plane_s, plane_names[i]) == 0)
            plane = i;
    if (plane < 0) {
        s->api->reply_error(r, "plane must be proc, file or net");
        return -EINVAL;
    }
    const char *fields[5] = {"", "", "", "", ""};
    for (int i = 0; plane_fields[plane][i]; i++) {
        arg_str(args, plane_fields[plane][i], vals[i]);
        fields[i] = vals[i];
    }
    int d = s->api->decide(s->h, group, plane, fields);
    const char *word = d == VG_DECIDE_ALLOW ? "allow" : d == VG_DECIDE_DENY ? "deny" : "unknown";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "decision", 8);
    msgpack_pack_str_with_body(&pk, word, strlen(word));
    int rc = s->api->reply(r, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int run_command(void *priv, const void *args, size_t len, vg_reply *r)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc;
    if (msgpack_unpack_next(&u, args, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        rc = ask(priv, &u.data, r);
    } else {
        ((state *)priv)->api->reply_error(r, "args must be a map");
        rc = -EINVAL;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    if (api->abi_minor < 2)
        return -ENOTSUP; /* needs decide (1.1) and register_command (1.2) */
    state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->api = api;
    s->h = h;
    vg_command_desc cmd = {.name = "abi12", .run = run_command, .priv = s};
    int rc = api->register_command(h, &cmd);
    if (rc < 0) {
        free(s);
        return rc;
    }
    *priv = s;
    return 0;
}

static int start(void *priv)
{
    state *s = priv;
    char abi[32];
    snprintf(abi, sizeof(abi), "%u.%u", s->api->abi_major, s->api->abi_minor);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "host_abi", 8);
    msgpack_pack_str_with_body(&pk, abi, strlen(abi));
    vg_event_in ev = {.type = s->api->event_type(s->h, "abi12.started"),
                      .severity = VG_SEV_INFO,
                      .body = sb.data,
                      .body_len = sb.size};
    s->api->publish(s->h, &ev);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

static void stop(void *priv)
{
    free(priv);
}

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "abi12",
    .version = "1.2.0",
    .description = "test plugin built against plugin ABI 1.2",
    .init = init,
    .start = start,
    .stop = stop,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
