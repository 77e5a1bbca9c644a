/*
 * Response rules declared with vigil.response{...}: which events (type
 * pattern and field conditions) trigger which actions. Parsed once at load
 * time into C, so that matching an event needs no Lua at all.
 */
#include <fnmatch.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "policy_int.h"

static char *dup_checked(lua_State *L, const char *s)
{
    char *d = strdup(s);
    if (!d)
        luaL_error(L, "not enough memory");
    return d;
}

/* A match value as the string it is compared with. */
static const char *value_str(lua_State *L, int idx, const char *key)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return lua_tostring(L, idx);
    case LUA_TNUMBER:
    case LUA_TBOOLEAN:
        return luaL_tolstring(L, idx, NULL); /* left on the stack; popped by the caller */
    default:
        vg_lua_error(L, "vigil.response: match.%s must be a string, number or boolean", key);
        return NULL;
    }
}

static void parse_match(lua_State *L, int idx, struct vg__response *r)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int top = lua_gettop(L);
        if (lua_type(L, -2) != LUA_TSTRING)
            vg_lua_error(L, "vigil.response: match keys must be field names");
        if (r->nmatch == VG__RESP_MATCH_MAX)
            vg_lua_error(L, "vigil.response: more than %d match conditions", VG__RESP_MATCH_MAX);
        const char *key = lua_tostring(L, -2);
        const char *val = value_str(L, top, key);
        r->mkey[r->nmatch] = dup_checked(L, key);
        r->mval[r->nmatch++] = dup_checked(L, val);
        lua_settop(L, top - 1);
    }
}

static void parse_actions(lua_State *L, int idx, struct vg__response *r)
{
    size_t n = lua_rawlen(L, idx);
    if (n == 0)
        vg_lua_error(L, "vigil.response: 'actions' must be a non-empty list of names");
    if (n > VG__RESP_ACTIONS_MAX)
        vg_lua_error(L, "vigil.response: more than %d actions", VG__RESP_ACTIONS_MAX);
    for (size_t i = 1; i <= n; i++) {
        if (lua_rawgeti(L, idx, (lua_Integer)i) != LUA_TSTRING || !*lua_tostring(L, -1))
            vg_lua_error(L, "vigil.response: actions[%d] must be an action name", (int)i);
        vg__check_action(L, lua_tostring(L, -1));
        r->actions[r->nactions++] = dup_checked(L, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
}

int vg__priority_of_severity(int severity)
{
    static const int by_severity[] = {0, 10, 30, 50, 70, 90};
    return severity >= 0 && severity <= VG_SEV_CRITICAL ? by_severity[severity] : 0;
}

int vg__event_priority(const vg_event *ev, const msgpack_object *wire)
{
    int64_t v;
    if (wire && vg_mp_get_int(wire, "priority", &v) == 0 && v >= 0 && v <= VG__PRIORITY_MAX)
        return (int)v;
    return vg__priority_of_severity(ev->severity);
}

/* Fields of the spec table at idx. Errors leave r partly filled: the caller
 * frees it either way. */
int vg__response_parse(lua_State *L, int idx, struct vg__response *r)
{
    r->min_severity = -1;
    r->min_priority = -1;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(k, "on") && strcmp(k, "match") && strcmp(k, "actions") && strcmp(k, "name") &&
            strcmp(k, "min_severity") && strcmp(k, "min_priority"))
            vg_lua_error(L,
                         "vigil.response: unknown field '%s' (on, match, min_severity, "
                         "min_priority, actions, name)",
                         luaL_tolstring(L, -2, NULL));
        lua_pop(L, 1);
    }
    if (lua_getfield(L, idx, "on") != LUA_TSTRING || !*lua_tostring(L, -1))
        vg_lua_error(L, "vigil.response: 'on' must name an event type (e.g. \"proc.violation\")");
    vg__check_pattern(L, lua_tostring(L, -1));
    r->on = dup_checked(L, lua_tostring(L, -1));
    lua_pop(L, 1);
    int t = lua_getfield(L, idx, "name");
    if (t != LUA_TNIL && t != LUA_TSTRING)
        vg_lua_error(L, "vigil.response: 'name' must be a string");
    r->name = t == LUA_TSTRING ? dup_checked(L, lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    t = lua_getfield(L, idx, "min_severity");
    if (t != LUA_TNIL &&
        (t != LUA_TSTRING || (r->min_severity = vg_severity_parse(lua_tostring(L, -1))) < 0))
        vg_lua_error(L, "vigil.response: 'min_severity' must be a severity name "
                        "(debug, info, notice, warning, error, critical)");
    lua_pop(L, 1);
    t = lua_getfield(L, idx, "min_priority");
    if (t != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 ||
            lua_tointeger(L, -1) > VG__PRIORITY_MAX)
            vg_lua_error(L, "vigil.response: 'min_priority' must be an integer from 0 to %d",
                         VG__PRIORITY_MAX);
        r->min_priority = (int)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    t = lua_getfield(L, idx, "match");
    if (t == LUA_TTABLE)
        parse_match(L, lua_gettop(L), r);
    else if (t != LUA_TNIL)
        vg_lua_error(L, "vigil.response: 'match' must be a table of field = pattern");
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "actions") != LUA_TTABLE)
        vg_lua_error(L, "vigil.response: 'actions' must be a list of action names");
    parse_actions(L, lua_gettop(L), r);
    lua_pop(L, 1);
    return 0;
}

void vg__response_free(struct vg__response *r)
{
    free(r->name);
    free(r->on);
    free(r->file);
    for (size_t i = 0; i < r->nmatch; i++) {
        free(r->mkey[i]);
        free(r->mval[i]);
    }
    for (size_t i = 0; i < r->nactions; i++)
        free(r->actions[i]);
    memset(r, 0, sizeof(*r));
}

/* A list field (tags) matches when one of its strings does. */
static bool any_item_matches(const msgpack_object *list, const char *pattern)
{
    char buf[VG_RULE_FIELD_MAX];
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *o = &list->via.array.ptr[i];
        if (o->type != MSGPACK_OBJECT_STR)
            continue;
        snprintf(buf, sizeof(buf), "%.*s", (int)o->via.str.size, o->via.str.ptr);
        if (fnmatch(pattern, buf, 0) == 0)
            return true;
    }
    return false;
}

bool vg__response_matches(const struct vg__response *r, const vg_event *ev,
                          const msgpack_object *wire)
{
    if (fnmatch(r->on, vg_event_type_name(ev->type), 0) != 0)
        return false;
    if (r->min_severity >= 0 && ev->severity < r->min_severity)
        return false;
    if (r->min_priority >= 0 && vg__event_priority(ev, wire) < r->min_priority)
        return false;
    char buf[VG_RULE_FIELD_MAX];
    for (size_t i = 0; i < r->nmatch; i++) {
        if (!wire)
            return false;
        const msgpack_object *v = vg_mp_get(wire, r->mkey[i]);
        if (v && v->type == MSGPACK_OBJECT_ARRAY) {
            if (!any_item_matches(v, r->mval[i]))
                return false;
            continue;
        }
        if (vg_mp_field_str(wire, r->mkey[i], buf, sizeof(buf)) < 0)
            return false;
        if (fnmatch(r->mval[i], buf, 0) != 0)
            return false;
    }
    return true;
}
