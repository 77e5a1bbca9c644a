/* Custom group definitions and their matching; see groups_custom.h. */
#include "groups_custom.h"

#include <errno.h>
#include <fnmatch.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"

static void def_free(vg__custom_def *d)
{
    free(d->name);
    free(d->image);
    free(d->name_glob);
    free(d->k8s_namespace);
    for (size_t i = 0; i < d->nlabels * 2; i++)
        free(d->labels[i]);
    free(d->labels);
}

void vg__custom_free(vg__custom_defs *defs)
{
    for (size_t i = 0; i < defs->n; i++)
        def_free(&defs->v[i]);
    free(defs->v);
    defs->v = NULL;
    defs->n = 0;
}

struct parse {
    const vg_config *cfg;
    vg_diag *diag;
    int errors;
    bool oom;
};

static void problem(struct parse *p, int i, const char *fmt, const char *what)
{
    char msg[256];
    snprintf(msg, sizeof(msg), fmt, what);
    vg_diag_add(p->diag, "%s: groups[%d]: %s", p->cfg->path ? p->cfg->path : "config", i, msg);
    p->errors++;
}

/* Reads an optional non-empty string field of the entry at the stack top. */
static char *opt_string(lua_State *L, struct parse *p, int i, const char *field)
{
    lua_pushstring(L, field);
    int t = lua_rawget(L, -2);
    char *v = NULL;
    if (t == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
        v = strdup(lua_tostring(L, -1));
        p->oom |= !v;
    } else if (t != LUA_TNIL) {
        problem(p, i, "'%s' must be a non-empty string", field);
    }
    lua_pop(L, 1);
    return v;
}

static void parse_labels(lua_State *L, struct parse *p, int i, vg__custom_def *d)
{
    lua_pushliteral(L, "label");
    int t = lua_rawget(L, -2);
    if (t != LUA_TNIL && t != LUA_TTABLE)
        problem(p, i, "'%s' must be a table of strings", "label");
    if (t == LUA_TTABLE)
        lua_pushnil(L);
    while (t == LUA_TTABLE && lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
            problem(p, i, "'%s' keys and values must be strings", "label");
        } else {
            char **l = realloc(d->labels, (d->nlabels + 1) * 2 * sizeof(*l));
            if (!l) {
                p->oom = true;
            } else {
                d->labels = l;
                l[d->nlabels * 2] = strdup(lua_tostring(L, -2));
                l[d->nlabels * 2 + 1] = strdup(lua_tostring(L, -1));
                d->nlabels++;
                p->oom |= !l[d->nlabels * 2 - 2] || !l[d->nlabels * 2 - 1];
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Parses the entry at the stack top into d. */
static void parse_entry(lua_State *L, struct parse *p, int i, vg__custom_def *d)
{
    d->fn_ref = LUA_NOREF;
    static const char *const known[] = {"name",      "image", "name_glob", "label",
                                        "namespace", "match", NULL};
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        bool ok = false;
        for (size_t k = 0; known[k] && lua_type(L, -2) == LUA_TSTRING; k++)
            ok |= strcmp(lua_tostring(L, -2), known[k]) == 0;
        if (!ok)
            problem(p, i, "unknown field '%s' (name, image, name_glob, label, namespace, match)",
                    lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
        lua_pop(L, 1);
    }
    d->name = opt_string(L, p, i, "name");
    if (!d->name)
        problem(p, i, "%s", "'name' is required");
    else if (strcmp(d->name, VG_GROUP_NODES) == 0 || strlen(d->name) >= VG_GROUP_MAX)
        problem(p, i, "'name' must not be '%s' nor longer than 127 bytes", VG_GROUP_NODES);
    d->image = opt_string(L, p, i, "image");
    d->name_glob = opt_string(L, p, i, "name_glob");
    d->k8s_namespace = opt_string(L, p, i, "namespace");
    parse_labels(L, p, i, d);
    lua_pushliteral(L, "match");
    int t = lua_rawget(L, -2);
    if (t == LUA_TFUNCTION)
        d->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else if (t != LUA_TNIL)
        problem(p, i, "'%s' must be a function", "match");
    if (t != LUA_TFUNCTION)
        lua_pop(L, 1);
    if (!d->image && !d->name_glob && !d->k8s_namespace && !d->nlabels && t != LUA_TFUNCTION)
        problem(p, i, "%s", "no criterion (image, name_glob, label, namespace or match)");
}

struct parse_call {
    struct parse *p;
    vg__custom_defs *out;
};

/* Under lua_pcall: walks the list at index 2. */
static int l_parse(lua_State *L)
{
    struct parse_call *c = lua_touserdata(L, 1);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    c->out->v = calloc(n ? (size_t)n : 1, sizeof(*c->out->v));
    if (!c->out->v)
        return luaL_error(L, "out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
        vg__custom_def *d = &c->out->v[c->out->n++];
        d->fn_ref = LUA_NOREF;
        if (lua_rawgeti(L, 2, i) != LUA_TTABLE)
            problem(c->p, (int)i, "%s", "must be a table");
        else
            parse_entry(L, c->p, (int)i, d);
        lua_settop(L, 2);
        for (size_t j = 0; d->name && j + 1 < c->out->n; j++)
            if (c->out->v[j].name && strcmp(c->out->v[j].name, d->name) == 0)
                problem(c->p, (int)i, "group '%s' is declared twice", d->name);
    }
    return 0;
}

int vg__custom_parse(const vg_config *cfg, vg__custom_defs *out, vg_diag *diag)
{
    memset(out, 0, sizeof(*out));
    out->cfg = cfg;
    int t = vg_config_push_setting(cfg, "groups");
    if (t < 0)
        return t == -EINVAL ? 0 : t; /* no Lua state: no custom groups */
    lua_State *L = cfg->L;
    if (t != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    struct parse p = {.cfg = cfg, .diag = diag};
    struct parse_call c = {&p, out};
    lua_pushcfunction(L, l_parse);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &c);
    lua_insert(L, -2);
    int status = lua_pcall(L, 2, 0, 0);
    if (status != LUA_OK)
        lua_pop(L, 1);
    if (status != LUA_OK || p.oom || p.errors) {
        vg__custom_free(out);
        return status != LUA_OK || p.oom ? -ENOMEM : -EINVAL;
    }
    return 0;
}

/* ---- matching ---- */

static bool glob(const char *pattern, const char *s)
{
    return s && fnmatch(pattern, s, 0) == 0;
}

static void set_field(lua_State *L, const char *k, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* Under lua_pcall: calls the predicate (index 1) with a table describing
 * the workload (lightuserdata at index 2). */
static int l_call(lua_State *L)
{
    const vg_workload *w = lua_touserdata(L, 2);
    lua_settop(L, 1);
    lua_createtable(L, 0, 12);
    set_field(L, "id", w->id);
    set_field(L, "name", w->name);
    set_field(L, "image", w->image);
    set_field(L, "runtime", vg_runtime_name(w->runtime));
    set_field(L, "namespace", w->k8s_namespace);
    set_field(L, "pod", w->pod);
    set_field(L, "container", w->k8s_container);
    set_field(L, "group", w->group);
    set_field(L, "cgroup", w->cgroup);
    lua_pushinteger(L, w->pid);
    lua_setfield(L, -2, "pid");
    lua_createtable(L, 0, (int)w->nkv);
    for (size_t i = 0; i < w->nkv; i++)
        set_field(L, w->kv[2 * i], w->kv[2 * i + 1]);
    lua_setfield(L, -2, "labels");
    lua_call(L, 1, 1);
    return 1;
}

static bool call_predicate(const vg__custom_defs *defs, const vg__custom_def *d,
                           const vg_workload *w)
{
    lua_State *L = defs->cfg->L;
    vg_sandbox_reset(L, VG_GROUP_MATCH_INSNS);
    lua_pushcfunction(L, l_call);
    lua_rawgeti(L, LUA_REGISTRYINDEX, d->fn_ref);
    lua_pushlightuserdata(L, (void *)w);
    int status = lua_pcall(L, 2, 1, 0);
    bool yes = status == LUA_OK && lua_toboolean(L, -1);
    if (status != LUA_OK)
        vg_warn("group %s: match(%s) failed, counted as no match: %s", d->name, w->id,
                lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object)");
    lua_pop(L, 1);
    return yes;
}

bool vg__custom_match(const vg__custom_defs *defs, const vg__custom_def *d, const vg_workload *w)
{
    if (d->image && !glob(d->image, w->image))
        return false;
    if (d->name_glob && !glob(d->name_glob, w->name))
        return false;
    if (d->k8s_namespace && !glob(d->k8s_namespace, w->k8s_namespace))
        return false;
    for (size_t i = 0; i < d->nlabels; i++)
        if (!glob(d->labels[2 * i + 1], vg_workload_kv(w, d->labels[2 * i])))
            return false;
    return d->fn_ref == LUA_NOREF || call_predicate(defs, d, w);
}
