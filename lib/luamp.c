/* Lua values <-> msgpack objects, and read-only tables; see luamp.h. */
#include "luamp.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define DEPTH_MAX 16

int vg_lua_error(lua_State *L, const char *fmt, ...)
{
    lua_Debug ar;
    int level = 1;
    while (lua_getstack(L, level, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline <= 0)
        level++;
    if (lua_getstack(L, level, &ar) && ar.currentline > 0)
        lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
    else
        lua_pushliteral(L, "");
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    return lua_error(L);
}

static void push_obj(lua_State *L, const msgpack_object *o, int depth, const char *ro);

/* room: slots for fields the caller adds (an event's header), so that the
 * table is not rehashed when they come. */
static void push_map(lua_State *L, const msgpack_object_map *m, int depth, const char *ro, int room)
{
    lua_createtable(L, 0, (int)m->size + room);
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR)
            lua_pushlstring(L, k->via.str.ptr, k->via.str.size);
        else if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            lua_pushinteger(L, (lua_Integer)k->via.u64);
        else
            continue; /* other keys cannot be read from Lua sensibly */
        push_obj(L, &m->ptr[i].val, depth + 1, ro);
        lua_rawset(L, -3);
    }
}

void vg_lua_push_mp(lua_State *L, const msgpack_object *o, int depth)
{
    push_obj(L, o, depth, NULL);
}

void vg_lua_push_mp_readonly(lua_State *L, const msgpack_object *o, const char *assign_msg)
{
    vg_lua_push_mp_readonly_room(L, o, 0, assign_msg);
}

void vg_lua_push_mp_readonly_room(lua_State *L, const msgpack_object *o, int room,
                                  const char *assign_msg)
{
    if (o->type == MSGPACK_OBJECT_MAP)
        push_map(L, &o->via.map, 0, assign_msg, room); /* the caller finishes the top */
    else
        push_obj(L, o, 0, assign_msg);
}

/* With ro, maps and arrays become read-only proxies (at every level). */
static void push_obj(lua_State *L, const msgpack_object *o, int depth, const char *ro)
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
            push_obj(L, &o->via.array.ptr[i], depth + 1, ro);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        if (ro)
            vg_lua_make_readonly(L, ro);
        return;
    case MSGPACK_OBJECT_MAP:
        push_map(L, &o->via.map, depth, ro, 0);
        if (ro)
            vg_lua_make_readonly(L, ro);
        return;
    default:
        lua_pushnil(L);
    }
}

/* ---- read-only proxies ----
 *
 * A proxy is a full userdata (so that rawset() cannot write into it) with
 * two user values: the data table and the message of an assignment. All
 * proxies share one metatable (registry key RO_MT): reads go to the data
 * table (its own metamethods apply), pairs() and # see it, and the table
 * itself is never handed out, so no one can rawset() into it either. */
#define RO_MT "vigil.readonly"

static void push_data(lua_State *L, int idx)
{
    lua_getiuservalue(L, idx, 1);
}

static int l_ro_index(lua_State *L)
{
    push_data(L, 1);
    lua_pushvalue(L, 2);
    lua_gettable(L, -2);
    return 1;
}

static int l_ro_newindex(lua_State *L)
{
    lua_getiuservalue(L, 1, 2);
    const char *what = lua_tostring(L, -1);
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_typename(L, 2);
    return vg_lua_error(L, "%s (field '%s')", what ? what : "read-only", key);
}

/* The iterator of pairs(): next() on the data table (upvalue 1); the proxy
 * comes as the state argument and is ignored. */
static int l_ro_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int l_ro_pairs(lua_State *L)
{
    push_data(L, 1);
    lua_pushcclosure(L, l_ro_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int l_ro_len(lua_State *L)
{
    push_data(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

void vg_lua_make_readonly(lua_State *L, const char *assign_msg)
{
    lua_newuserdatauv(L, 0, 2);
    lua_insert(L, -2);
    lua_setiuservalue(L, -2, 1);
    lua_pushstring(L, assign_msg);
    lua_setiuservalue(L, -2, 2);
    if (luaL_newmetatable(L, RO_MT)) {
        static const luaL_Reg mt[] = {{"__index", l_ro_index},
                                      {"__newindex", l_ro_newindex},
                                      {"__pairs", l_ro_pairs},
                                      {"__len", l_ro_len},
                                      {NULL, NULL}};
        luaL_setfuncs(L, mt, 0);
        lua_pushliteral(L, "read-only");
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
}

bool vg_lua_is_readonly(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, RO_MT) != NULL;
}

bool vg_lua_is_record(lua_State *L, int idx)
{
    return lua_istable(L, idx) || vg_lua_is_readonly(L, idx);
}

/* The data table of a proxy at idx, pushed; false if it is none. */
static bool push_proxy_data(lua_State *L, int idx)
{
    if (!vg_lua_is_readonly(L, idx))
        return false;
    push_data(L, idx);
    return true;
}

int vg_lua_getfield_record(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    if (!push_proxy_data(L, idx))
        return lua_getfield(L, idx, key);
    lua_pushstring(L, key);
    int t = lua_rawget(L, -2);
    lua_remove(L, -2);
    return t;
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
            vg_lua_pack(L, lua_gettop(L), pk, depth + 1);
            lua_pop(L, 1);
        }
        return;
    }
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            vg_lua_error(L, "map keys must be strings, got %s", luaL_typename(L, -1));
        }
        count++;
    }
    msgpack_pack_map(pk, count);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t kl;
        const char *k = lua_tolstring(L, -2, &kl);
        msgpack_pack_str_with_body(pk, k, kl);
        vg_lua_pack(L, lua_gettop(L), pk, depth + 1);
        lua_pop(L, 1);
    }
}

void vg_lua_pack(lua_State *L, int idx, msgpack_packer *pk, int depth)
{
    if (depth > DEPTH_MAX)
        vg_lua_error(L, "a table nested more than %d levels deep", DEPTH_MAX);
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
        pack_table(L, idx, pk, depth);
        return;
    case LUA_TUSERDATA:
        if (push_proxy_data(L, idx)) {
            pack_table(L, lua_gettop(L), pk, depth);
            lua_pop(L, 1);
            return;
        }
        vg_lua_error(L, "cannot pass a %s value", luaL_typename(L, idx));
        return;
    default:
        vg_lua_error(L, "cannot pass a %s value", luaL_typename(L, idx));
    }
}
