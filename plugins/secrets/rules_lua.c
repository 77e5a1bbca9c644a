/*
 * Reads a secret-rules file: Lua run in the sandbox of core/sandbox.h,
 * returning { rules = { {id=..., regex=...}, ... }, allow = {...},
 * exclude_paths = {...}, disable = {...} }. A rule whose id is already
 * known replaces the earlier one, so a user's file overrides the shipped
 * rules; `disable` removes rules by id.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "secrets_int.h"

#define RULES_MEM_MAX (64u << 20)
#define RULES_INSN_MAX 50000000L

static int sev_parse(const char *s)
{
    static const char *const names[] = {"low", "medium", "high", "critical"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* Reads field `k` of the table at index t as an optional string: a copy,
 * or NULL when absent. Raises a Lua error on a wrong type. */
static char *opt_str(lua_State *L, int t, const char *k, const char *ctx)
{
    char *r = NULL;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TSTRING) {
        if (!(r = strdup(lua_tostring(L, -1))))
            luaL_error(L, "out of memory");
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "%s: '%s' must be a string", ctx, k);
    }
    lua_pop(L, 1);
    return r;
}

/* Reads field k (a string or a list of strings) into sv. */
static void str_list(lua_State *L, int t, const char *k, vg__sec_strv *sv, const char *ctx)
{
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TSTRING) {
        if (vg__sec_strv_push(sv, lua_tostring(L, -1)) < 0)
            luaL_error(L, "out of memory");
    } else if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
                luaL_error(L, "%s: '%s' must hold strings", ctx, k);
            if (vg__sec_strv_push(sv, lua_tostring(L, -1)) < 0)
                luaL_error(L, "out of memory");
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "%s: '%s' must be a string or a list of strings", ctx, k);
    }
    lua_pop(L, 1);
}

/* entropy = 3.5 (minimum for the secret group), or
 * entropy = { [1] = 3.5, [2] = { 2.0, 5.5 } } (per group: min or {min, max}). */
static void entropy_spec(lua_State *L, int t, vg__sec_rule *r, const char *ctx)
{
    lua_getfield(L, t, "entropy");
    if (lua_isnumber(L, -1)) {
        r->ent_min[VG__SEC_MAX_GROUPS - 1] = lua_tonumber(L, -1); /* resolved at compile */
    } else if (lua_istable(L, -1)) {
        for (int g = 0; g < VG__SEC_MAX_GROUPS - 1; g++) {
            int ty = lua_rawgeti(L, -1, g);
            if (ty == LUA_TNUMBER) {
                r->ent_min[g] = lua_tonumber(L, -1);
            } else if (ty == LUA_TTABLE) {
                lua_rawgeti(L, -1, 1);
                lua_rawgeti(L, -2, 2);
                r->ent_min[g] = lua_tonumber(L, -2);
                r->ent_max[g] = lua_tonumber(L, -1);
                lua_pop(L, 2);
            } else if (ty != LUA_TNIL) {
                luaL_error(L, "%s: entropy[%d] must be a number or {min, max}", ctx, g);
            }
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "%s: 'entropy' must be a number or a table", ctx);
    }
    lua_pop(L, 1);
}

static void examples(lua_State *L, int t, vg__sec_rule *r, const char *ctx)
{
    lua_getfield(L, t, "examples");
    if (lua_istable(L, -1)) {
        int e = lua_gettop(L);
        r->hit = opt_str(L, e, "hit", ctx);
        r->miss = opt_str(L, e, "miss", ctx);
        r->expath = opt_str(L, e, "path", ctx);
    }
    lua_pop(L, 1);
}

/* Fills r from the rule table at index t. */
static void read_rule(lua_State *L, int t, vg__sec_rule *r, const char *file, lua_Integer idx)
{
    char ctx[160];
    snprintf(ctx, sizeof(ctx), "%s: rule %lld", file, (long long)idx);
    if (!(r->id = opt_str(L, t, "id", ctx)) || !*r->id)
        luaL_error(L, "%s: no 'id'", ctx);
    snprintf(ctx, sizeof(ctx), "%s: rule '%.64s'", file, r->id);
    if (!(r->regex = opt_str(L, t, "regex", ctx)))
        luaL_error(L, "%s: no 'regex'", ctx);
    r->description = opt_str(L, t, "description", ctx);
    char *sev = opt_str(L, t, "severity", ctx);
    r->info.severity = sev ? sev_parse(sev) : VG_SEC_HIGH;
    free(sev);
    if (r->info.severity < 0)
        luaL_error(L, "%s: severity must be low, medium, high or critical", ctx);
    vg__sec_strv tags = {0};
    str_list(L, t, "tags", &tags, ctx);
    size_t tl = 1;
    for (size_t i = 0; i < tags.n; i++)
        tl += strlen(tags.v[i]) + 1;
    if ((r->tags = calloc(1, tl)))
        for (size_t i = 0; i < tags.n; i++)
            strcat(strcat(r->tags, i ? "," : ""), tags.v[i]);
    vg__sec_strv_free(&tags);
    if (!r->tags)
        luaL_error(L, "out of memory");
    str_list(L, t, "keywords", &r->keywords, ctx);
    str_list(L, t, "paths", &r->paths, ctx);
    str_list(L, t, "exclude_paths", &r->exclude_paths, ctx);
    str_list(L, t, "allow", &r->allow, ctx);
    lua_getfield(L, t, "secret_group");
    r->secret_group = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : -1;
    lua_pop(L, 1);
    if (r->secret_group >= VG__SEC_MAX_GROUPS - 1)
        luaL_error(L, "%s: secret_group must be below %d", ctx, VG__SEC_MAX_GROUPS - 1);
    char *pf = opt_str(L, t, "prefilter", ctx);
    r->prefilter = !pf ? 0 : !strcmp(pf, "keywords") ? 1 : !strcmp(pf, "regex") ? 2 : -1;
    free(pf);
    if (r->prefilter < 0)
        luaL_error(L, "%s: prefilter must be \"keywords\" or \"regex\"", ctx);
    r->pre_regex = opt_str(L, t, "prefilter_regex", ctx);
    if (r->pre_regex && r->prefilter == 1)
        luaL_error(L, "%s: prefilter = \"keywords\" and prefilter_regex exclude each other", ctx);
    lua_getfield(L, t, "window");
    r->window = lua_isinteger(L, -1) ? (unsigned)lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    char *value = opt_str(L, t, "value", ctx);
    bool bad_value = value && strcmp(value, "literal") && strcmp(value, "any");
    r->literal = value && !strcmp(value, "literal");
    free(value);
    if (bad_value)
        luaL_error(L, "%s: value must be \"literal\" or \"any\"", ctx);
    char *kind = opt_str(L, t, "kind", ctx);
    bool bad_kind = kind && strcmp(kind, "k8s-secret");
    r->kind_only = kind && !bad_kind ? 1 + VG_SEC_KIND_K8S : 0;
    free(kind);
    if (bad_kind)
        luaL_error(L, "%s: kind must be \"k8s-secret\"", ctx);
    entropy_spec(L, t, r, ctx);
    examples(L, t, r, ctx);
}

static void add_rule(lua_State *L, vg_sec_rules *rs, vg__sec_rule *nr)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (!strcmp(rs->r[i].id, nr->id)) {
            vg__sec_rule_clear(&rs->r[i]);
            rs->r[i] = *nr;
            return;
        }
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 128;
        vg__sec_rule *v = realloc(rs->r, cap * sizeof(*v));
        if (!v) {
            vg__sec_rule_clear(nr);
            luaL_error(L, "out of memory");
        }
        rs->r = v;
        rs->cap = cap;
    }
    rs->r[rs->n++] = *nr;
}

static void disable_rules(lua_State *L, vg_sec_rules *rs, const char *file)
{
    vg__sec_strv ids = {0};
    str_list(L, 1, "disable", &ids, file);
    for (size_t k = 0; k < ids.n; k++) {
        for (size_t i = 0; i < rs->n; i++) {
            if (!strcmp(rs->r[i].id, ids.v[k])) {
                vg__sec_rule_clear(&rs->r[i]);
                rs->r[i] = rs->r[--rs->n];
                break;
            }
        }
    }
    vg__sec_strv_free(&ids);
}

struct collect {
    vg_sec_rules *rs;
    const char *file;
};

/* Runs under lua_pcall with the file's returned table at index 1. */
static int l_collect(lua_State *L)
{
    struct collect *c = lua_touserdata(L, 2);
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s: must return a table", c->file);
    lua_getfield(L, 1, "rules");
    int rules = lua_gettop(L);
    if (!lua_isnil(L, rules)) {
        luaL_checktype(L, rules, LUA_TTABLE);
        lua_Integer n = luaL_len(L, rules);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, rules, i) != LUA_TTABLE)
                return luaL_error(L, "%s: rule %lld is not a table", c->file, (long long)i);
            /* The rule lives in a userdata while it is read, so that an
             * error half-way leaks nothing: its __close would be nicer,
             * but a rule read fails only on a broken file, and then the
             * whole load is abandoned; see rule_guard below. */
            vg__sec_rule *r = lua_newuserdatauv(L, sizeof(*r), 0);
            memset(r, 0, sizeof(*r));
            lua_pushvalue(L, -1);
            lua_rawsetp(L, LUA_REGISTRYINDEX, r); /* guard, cleared after add */
            read_rule(L, lua_gettop(L) - 1, r, c->file, i);
            add_rule(L, c->rs, r);
            memset(r, 0, sizeof(*r));
            lua_pushnil(L);
            lua_rawsetp(L, LUA_REGISTRYINDEX, r);
            lua_pop(L, 2);
        }
    }
    str_list(L, 1, "allow", &c->rs->allow, c->file);
    str_list(L, 1, "exclude_paths", &c->rs->exclude_paths, c->file);
    str_list(L, 1, "example_values", &c->rs->examples, c->file);
    disable_rules(L, c->rs, c->file);
    return 0;
}

/* After a failed l_collect, frees the fields of the rule being read (the
 * only registry entry keyed by a light userdata that is a rule). */
static void free_guarded(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, LUA_REGISTRYINDEX)) {
        if (lua_type(L, -2) == LUA_TLIGHTUSERDATA && lua_type(L, -1) == LUA_TUSERDATA &&
            lua_touserdata(L, -1) == lua_touserdata(L, -2))
            vg__sec_rule_clear(lua_touserdata(L, -1));
        lua_pop(L, 1);
    }
}

static int l_setup(lua_State *L)
{
    lua_newtable(L);
    vg_sandbox_open_libs(L, 1);
    return 0;
}

static char *slurp(const char *file, size_t *len)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 65536 > cap) {
            char *nb = realloc(buf, cap = n + 65536 * 4);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0 && n < (8u << 20));
    fclose(f);
    *len = n;
    return buf;
}

int vg__sec_rules_read_lua(vg_sec_rules *rs, const char *file, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = slurp(file, &len);
    if (!text) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", file, strerror(e));
        return -e;
    }
    lua_State *L = NULL;
    int rc = vg_sandbox_new("the secret rules", RULES_MEM_MAX, RULES_INSN_MAX, &L);
    if (rc < 0) {
        free(text);
        snprintf(err, errlen, "%s: %s", file, strerror(-rc));
        return rc;
    }
    char chunk[512];
    snprintf(chunk, sizeof(chunk), "@%s", file);
    struct collect c = {rs, file};
    lua_pushcfunction(L, l_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK || vg_sandbox_load(L, text, len, chunk) != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        rc = -EINVAL;
    } else {
        lua_pushcfunction(L, l_collect);
        lua_insert(L, -2);
        lua_pushlightuserdata(L, &c);
        if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
            rc = -EINVAL;
            free_guarded(L);
        }
    }
    if (rc < 0)
        snprintf(err, errlen, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "error");
    vg_sandbox_close(L);
    free(text);
    return rc;
}
