/*
 * Events between msgpack and Lua for the policy engine.
 *
 * A handler gets the event as a read-only table: an empty proxy whose
 * metatable reads from the data table, refuses assignments and offers
 * pairs(). The data is converted eagerly, all fields at once. bench_policy
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

#include "mp.h"
#include "policy_int.h"

#define DEPTH_MAX 16

/* The metatable of every read-only event proxy is made per event (it holds
 * the data table); this key marks it as ours, for vg__lua_pack. */
static const char proxy_mark;

static void push_map(lua_State *L, const msgpack_object_map *m, int depth)
{
    lua_createtable(L, 0, (int)m->size);
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR)
            lua_pushlstring(L, k->via.str.ptr, k->via.str.size);
        else if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            lua_pushinteger(L, (lua_Integer)k->via.u64);
        else
            continue; /* other keys cannot be read from Lua sensibly */
        vg__mp_push(L, &m->ptr[i].val, depth + 1);
        lua_rawset(L, -3);
    }
}

void vg__mp_push(lua_State *L, const msgpack_object *o, int depth)
{
    luaL_checkstack(L, 4, "event nesting");
    if (depth > DEPTH_MAX) {
        lua_pushnil(L);
        return;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        lua_pushboolean(L, o->via.boolean);
        return;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        lua_pushinteger(L, (lua_Integer)o->via.u64);
        return;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        lua_pushinteger(L, (lua_Integer)o->via.i64);
        return;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        lua_pushnumber(L, o->via.f64);
        return;
    case MSGPACK_OBJECT_STR:
        lua_pushlstring(L, o->via.str.ptr, o->via.str.size);
        return;
    case MSGPACK_OBJECT_BIN:
        lua_pushlstring(L, o->via.bin.ptr, o->via.bin.size);
        return;
    case MSGPACK_OBJECT_ARRAY:
        lua_createtable(L, (int)o->via.array.size, 0);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            vg__mp_push(L, &o->via.array.ptr[i], depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return;
    case MSGPACK_OBJECT_MAP:
        push_map(L, &o->via.map, depth);
        return;
    default:
        lua_pushnil(L);
    }
}

static int l_ro_newindex(lua_State *L)
{
    return vg__policy_error(L, "events are read-only (field '%s')", luaL_tolstring(L, 2, NULL));
}

/* next() of the base library, which the sandbox may not offer by then. */
static int l_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int l_ro_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, l_next);
    lua_insert(L, -2);
    lua_pushnil(L);
    return 3;
}

static int l_ro_len(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

void vg__event_push(lua_State *L, const vg_event *ev)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    bool body = ev->body_len &&
                msgpack_unpack_next(&up, (const char *)ev->body, ev->body_len, &off) ==
                    MSGPACK_UNPACK_SUCCESS &&
                up.data.type == MSGPACK_OBJECT_MAP;
    lua_newtable(L); /* the proxy */
    if (body)
        push_map(L, &up.data.via.map, 0);
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
    lua_createtable(L, 0, 6); /* the metatable */
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, l_ro_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, l_ro_len);
    lua_setfield(L, -2, "__len");
    lua_pushliteral(L, "read-only event");
    lua_setfield(L, -2, "__metatable");
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &proxy_mark);
    lua_setmetatable(L, -2);
}

/* The data table of an event proxy at idx, pushed; false if it is none. */
static bool push_proxy_data(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return false;
    if (lua_rawgetp(L, -1, &proxy_mark) != LUA_TBOOLEAN) {
        lua_pop(L, 2);
        return false;
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "__index");
    lua_remove(L, -2);
    return true;
}

/* Whether the table at idx is a list 1..n without other keys. */
static bool is_array(lua_State *L, int idx, size_t *n)
{
    size_t len = lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
            (size_t)lua_tointeger(L, -1) > len) {
            lua_pop(L, 1);
            return false;
        }
        count++;
    }
    *n = len;
    return count == len && len > 0;
}

static void pack_table(lua_State *L, int idx, msgpack_packer *pk, int depth)
{
    size_t n = 0;
    if (is_array(L, idx, &n)) {
        msgpack_pack_array(pk, n);
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            vg__lua_pack(L, lua_gettop(L), pk, depth + 1);
            lua_pop(L, 1);
        }
        return;
    }
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            vg__policy_error(L, "map keys must be strings, got %s", luaL_typename(L, -1));
        }
        count++;
    }
    msgpack_pack_map(pk, count);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t kl;
        const char *k = lua_tolstring(L, -2, &kl);
        msgpack_pack_str_with_body(pk, k, kl);
        vg__lua_pack(L, lua_gettop(L), pk, depth + 1);
        lua_pop(L, 1);
    }
}

void vg__lua_pack(lua_State *L, int idx, msgpack_packer *pk, int depth)
{
    if (depth > DEPTH_MAX)
        vg__policy_error(L, "a table nested more than %d levels deep", DEPTH_MAX);
    luaL_checkstack(L, 6, "packing");
    size_t len;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        msgpack_pack_nil(pk);
        return;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            msgpack_pack_int64(pk, (int64_t)lua_tointeger(L, idx));
        else
            msgpack_pack_double(pk, (double)lua_tonumber(L, idx));
        return;
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        msgpack_pack_str_with_body(pk, s, len);
        return;
    case LUA_TTABLE:
        if (push_proxy_data(L, idx)) {
            pack_table(L, lua_gettop(L), pk, depth);
            lua_pop(L, 1);
        } else {
            pack_table(L, idx, pk, depth);
        }
        return;
    default:
        vg__policy_error(L, "cannot pass a %s value", luaL_typename(L, idx));
    }
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

int vg__mp_field_str(const msgpack_object *map, const char *key, char *buf, size_t size)
{
    const msgpack_object *v = vg_mp_get(map, key);
    if (!v)
        return -ENOENT;
    switch (v->type) {
    case MSGPACK_OBJECT_STR:
        snprintf(buf, size, "%.*s", (int)v->via.str.size, v->via.str.ptr);
        return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(buf, size, "%llu", (unsigned long long)v->via.u64);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(buf, size, "%lld", (long long)v->via.i64);
        return 0;
    case MSGPACK_OBJECT_BOOLEAN:
        snprintf(buf, size, "%s", v->via.boolean ? "true" : "false");
        return 0;
    default:
        return -ENOENT;
    }
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
        found += vg__mp_field_str(wire, names[i], rule->fields[i], VG_RULE_FIELD_MAX) == 0 &&
                 rule->fields[i][0];
    return found ? 0 : -EINVAL;
}
