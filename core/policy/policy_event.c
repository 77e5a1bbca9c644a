/*
 * Events between msgpack and Lua for the policy engine.
 *
 * A handler gets the event as a read-only table (lib/luamp.h): an empty
 * proxy whose metatable reads from the data table, refuses assignments and
 * offers pairs(). The data is converted eagerly, all fields at once. bench_policy
 * measures the whole path (conversion, proxy, call) at about 2.5 us per
 * ten-field event, i.e. some 360k events/s with a handler reading three
 * fields, above the 250k/s aim; a lazy form (a msgpack lookup per field
 * read) would save part of the conversion for handlers that read little, at
 * the price of a C call per read. It was not needed, so not built.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "luamp.h"
#include "mp.h"
#include "policy_int.h"


void vg__event_push(lua_State *L, const vg_event *ev)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    bool body = ev->body_len &&
                msgpack_unpack_next(&up, (const char *)ev->body, ev->body_len, &off) ==
                    MSGPACK_UNPACK_SUCCESS &&
                up.data.type == MSGPACK_OBJECT_MAP;
    if (body)
        vg_lua_push_mp_readonly(L, &up.data, "events are read-only");
    else
        lua_newtable(L);
    msgpack_unpacked_destroy(&up);
    lua_pushinteger(L, (lua_Integer)ev->id);
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, (lua_Integer)ev->time_ns);
    lua_setfield(L, -2, "time");
    lua_pushstring(L, vg_event_type_name(ev->type));
    lua_setfield(L, -2, "type");
    lua_pushstring(L, vg_severity_name(ev->severity));
    lua_setfield(L, -2, "severity");
    lua_pushstring(L, ev->workload);
    lua_setfield(L, -2, "workload");
    lua_pushstring(L, ev->group);
    lua_setfield(L, -2, "group");
    vg_lua_make_readonly(L, "events are read-only");
}

int vg__type_plane(const char *type)
{
    static const char *const prefixes[VG_PLANE_COUNT] = {"proc.", "file.", "net."};
    for (int i = 0; i < VG_PLANE_COUNT; i++)
        if (type && strncmp(type, prefixes[i], strlen(prefixes[i])) == 0)
            return i;
    return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool vg__is_behaviour(const char *type)
{
    return vg__type_plane(type) >= 0 && !ends_with(type, ".violation") &&
           !ends_with(type, ".incident");
}

bool vg__is_consequence(const char *type)
{
    return ends_with(type, ".violation") || ends_with(type, ".incident") ||
           strncmp(type, "policy.", 7) == 0 || strncmp(type, "response.", 9) == 0;
}

int vg__rule_from_event(const msgpack_object *wire, const char *type, const char *group,
                        vg_rule *rule)
{
    int plane = vg__type_plane(type);
    if (plane < 0)
        return -EINVAL;
    memset(rule, 0, sizeof(*rule));
    snprintf(rule->group, sizeof(rule->group), "%s", group ? group : "");
    rule->plane = plane;
    const char *const *names = vg_rule_field_names(plane);
    int found = 0;
    for (int i = 0; names[i]; i++)
        found += vg_mp_field_str(wire, names[i], rule->fields[i], VG_RULE_FIELD_MAX) == 0 &&
                 rule->fields[i][0];
    return found ? 0 : -EINVAL;
}
