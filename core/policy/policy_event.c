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
 *
 * Events are strict: reading a field that no event type has (lib/evcat.h),
 * `ev.nmae`, is an error that names the type's fields, so that the policy
 * error carries the file and line instead of a silent nil. A field of the
 * type that this event lacks, or a field of another type (helpers shared
 * by handlers of several types read ev.peer of whatever they get), is nil. The data
 * table gets a metatable per type (made once, kept in the registry) whose
 * __index is only reached for absent fields: present ones are found in the
 * table itself, so the fast path is unchanged.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "evcat.h"
#include "luamp.h"
#include "mp.h"
#include "policy_int.h"

/* Registry: type id -> the strict metatable of its events, or false. */
static const char strict_key;

/* __index of an event's data table: an absent field (upvalue 1: the type's
 * name; upvalue 2: the names already found to be fields, for this type). */
static int l_absent(lua_State *L)
{
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    /* The shipped handlers read optional fields (ev.interpreter) of every
     * event: the catalogue is searched once per name, not per read. */
    if (key) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
            return 0;
        lua_pop(L, 1);
    }
    const char *type = lua_tostring(L, lua_upvalueindex(1));
    const vg_evcat_type *t = vg_evcat_find(type);
    /* A field of the type, or of another type (code shared by handlers of
     * several types reads ev.peer of whatever it gets): nil. A name no
     * event has: a typo. */
    if (!t || (key && (vg_evcat_has_field(t, key) || vg_evcat_field_anywhere(key)))) {
        if (t && key) { /* field names: a bounded set */
            lua_pushvalue(L, 2);
            lua_pushboolean(L, 1);
            lua_rawset(L, lua_upvalueindex(2));
        }
        return 0;
    }
    if (!key)
        return vg_lua_error(L, "%s events have no field of type %s", type, luaL_typename(L, 2));
    char near[160];
    vg_evcat_nearest_word(key, t->fields, near, sizeof(near));
    if (!*near)
        vg_evcat_nearest_word(key, VG_EVCAT_HEADER, near, sizeof(near));
    return vg_lua_error(L, "%s has no field '%s'%s%s%s; its fields: " VG_EVCAT_HEADER " %s", type,
                        key, *near ? " (nearest: " : "", near, *near ? ")" : "", t->fields);
}

/* Sets the strict metatable of ev's type on the table on top, if the type's
 * fields are known. */
static void make_strict(lua_State *L, const vg_event *ev)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &strict_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &strict_key);
    }
    int kind = lua_rawgeti(L, -1, ev->type);
    if (kind == LUA_TNIL) {
        lua_pop(L, 1);
        const char *name = vg_event_type_name(ev->type);
        const vg_evcat_type *t = name ? vg_evcat_find(name) : NULL;
        if (t && t->fields) {
            lua_createtable(L, 0, 2);
            lua_pushstring(L, name);
            lua_newtable(L);
            lua_pushcclosure(L, l_absent, 2);
            lua_setfield(L, -2, "__index");
            lua_pushliteral(L, "read-only");
            lua_setfield(L, -2, "__metatable");
        } else {
            lua_pushboolean(L, 0);
        }
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, ev->type);
    }
    if (lua_istable(L, -1))
        lua_setmetatable(L, -3);
    else
        lua_pop(L, 1);
    lua_pop(L, 1); /* the registry's table */
}

#define HEADER_FIELDS 6

void vg__event_push(lua_State *L, const vg_event *ev, const msgpack_object *body)
{
    /* The header's six fields below go into the same table. */
    if (body)
        vg_lua_push_mp_readonly_room(L, body, HEADER_FIELDS, "events are read-only");
    else
        lua_createtable(L, 0, HEADER_FIELDS);
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
    make_strict(L, ev);
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
