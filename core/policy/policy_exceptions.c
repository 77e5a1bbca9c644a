/*
 * Declarative exceptions (as Falco's `exceptions:`), vigil.exception{...}:
 * lists of field values for which an incident, or the alerts of a plane,
 * are not raised. They live in policy files, so they reload with them, and
 * they are checked in C where the engine raises (policy_act.c), so every
 * incident of every file honours them without any code of its own:
 *
 *   vigil.exception{
 *     name = "ci runs ssh",               -- optional, for the log and docs
 *     incident = "suspicious_process",    -- or type = "proc.violation"
 *     group = "ci-*",                     -- optional pattern
 *     match = { name = { "ssh", "scp" }, path = "*bin/s*" },
 *   }
 *
 * An exception applies when the raised incident (or violation type)
 * matches, the group matches, and each match field of the event the alert
 * is about matches one of its patterns (fnmatch(3), as text). Denials are
 * never excepted: an exception silences alerts, it does not allow.
 */
#include <fnmatch.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "policy_int.h"

static char *dup_or_raise(lua_State *L, const char *s)
{
    char *d = strdup(s);
    if (!d)
        luaL_error(L, "not enough memory");
    return d;
}

static void opt_string(lua_State *L, int idx, const char *key, char **out)
{
    int t = lua_getfield(L, idx, key);
    if (t == LUA_TSTRING && *lua_tostring(L, -1))
        *out = dup_or_raise(L, lua_tostring(L, -1));
    else if (t != LUA_TNIL)
        vg_lua_error(L, "vigil.exception: '%s' must be a non-empty string", key);
    lua_pop(L, 1);
}

static void add_value(lua_State *L, struct vg__exception_key *k, int idx)
{
    if (lua_type(L, idx) != LUA_TSTRING && lua_type(L, idx) != LUA_TNUMBER)
        vg_lua_error(L, "vigil.exception: match.%s must be a pattern or a list of them", k->field);
    if (k->n == VG__EXC_VALUES_MAX)
        vg_lua_error(L, "vigil.exception: more than %d values for match.%s", VG__EXC_VALUES_MAX,
                     k->field);
    k->values[k->n++] = dup_or_raise(L, lua_tostring(L, idx));
}

static void parse_match(lua_State *L, int idx, struct vg__exception *e)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            vg_lua_error(L, "vigil.exception: match keys must be field names");
        if (e->nkeys == VG__EXC_KEYS_MAX)
            vg_lua_error(L, "vigil.exception: more than %d match fields", VG__EXC_KEYS_MAX);
        struct vg__exception_key *k = &e->keys[e->nkeys++];
        k->field = dup_or_raise(L, lua_tostring(L, -2));
        int v = lua_gettop(L);
        if (lua_type(L, v) == LUA_TTABLE) {
            size_t n = lua_rawlen(L, v);
            for (size_t i = 1; i <= n; i++) {
                lua_rawgeti(L, v, (lua_Integer)i);
                add_value(L, k, lua_gettop(L));
                lua_pop(L, 1);
            }
            if (!k->n)
                vg_lua_error(L, "vigil.exception: match.%s is an empty list", k->field);
        } else {
            add_value(L, k, v);
        }
        lua_pop(L, 1);
    }
}

int vg__exception_parse(lua_State *L, int idx, struct vg__exception *e)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    static const char *const keys[] = {"name", "incident", "type", "group", "match", NULL};
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            known = known || strcmp(k, keys[i]) == 0;
        if (!known)
            vg_lua_error(L,
                         "vigil.exception: unknown field '%s' (name, incident, type, group, "
                         "match)",
                         luaL_tolstring(L, -2, NULL));
        lua_pop(L, 1);
    }
    opt_string(L, idx, "name", &e->name);
    opt_string(L, idx, "incident", &e->incident);
    opt_string(L, idx, "type", &e->type);
    opt_string(L, idx, "group", &e->group);
    if (!e->incident == !e->type)
        vg_lua_error(L, "vigil.exception: name either an incident (incident = "
                        "\"suspicious_process\") or a type of alerts (type = \"proc.violation\")");
    if (e->type)
        vg__check_type(L, "vigil.exception: type", e->type);
    if (lua_getfield(L, idx, "match") != LUA_TTABLE)
        vg_lua_error(L, "vigil.exception: 'match' must be a table of field = pattern(s)");
    parse_match(L, lua_gettop(L), e);
    lua_pop(L, 1);
    if (!e->nkeys)
        vg_lua_error(L, "vigil.exception: 'match' names no field: it would silence every alert");
    return 0;
}

void vg__exception_free(struct vg__exception *e)
{
    free(e->name);
    free(e->incident);
    free(e->type);
    free(e->group);
    free(e->file);
    for (size_t i = 0; i < e->nkeys; i++) {
        free(e->keys[i].field);
        for (size_t j = 0; j < e->keys[i].n; j++)
            free(e->keys[i].values[j]);
    }
    memset(e, 0, sizeof(*e));
}

static bool key_matches(const struct vg__exception_key *k, const msgpack_object *wire)
{
    char buf[VG_RULE_FIELD_MAX];
    if (vg_mp_field_str(wire, k->field, buf, sizeof(buf)) < 0)
        return false;
    for (size_t i = 0; i < k->n; i++)
        if (fnmatch(k->values[i], buf, 0) == 0)
            return true;
    return false;
}

const struct vg__exception *vg__exception_find(const struct vg__pstate *st, const char *type,
                                               const char *incident, const char *group,
                                               const msgpack_object *wire)
{
    for (size_t i = 0; st && wire && i < st->nexc; i++) {
        const struct vg__exception *e = &st->exc[i];
        if (e->incident ? !incident || strcmp(e->incident, incident) != 0
                        : incident || strcmp(e->type, type) != 0)
            continue;
        if (e->group && fnmatch(e->group, group, 0) != 0)
            continue;
        bool all = true;
        for (size_t k = 0; all && k < e->nkeys; k++)
            all = key_matches(&e->keys[k], wire);
        if (all)
            return e;
    }
    return NULL;
}
