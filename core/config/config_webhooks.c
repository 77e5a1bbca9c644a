/*
 * The "webhooks" setting of the config file: checked where the file is
 * loaded (config.c calls vg_config_webhooks_check, so that `vigild --check`
 * and a reload name the file and line of a bad endpoint), then handed to
 * the webhooks (core/respond) as msgpack, so that they never touch the
 * config's Lua state.
 */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "config.h"

#define TIMEOUT_MAX_MS 600000

static int fail(char *err, size_t errlen, const char *fmt, const char *name, const char *what)
{
    snprintf(err, errlen, fmt, name, what);
    return -EINVAL;
}

static int check_headers(lua_State *L, int idx, const char *name, char *err, size_t errlen)
{
    if (!lua_istable(L, idx))
        return fail(err, errlen, "webhooks.%s.headers must be a table, got %s", name,
                    luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 2);
            return fail(err, errlen, "webhooks.%s.headers must map header names to strings%s", name,
                        "");
        }
        const char *k = lua_tostring(L, -2), *v = lua_tostring(L, -1);
        /* A newline would let a header smuggle another one (or a body). */
        if (!*k || strpbrk(k, ":\r\n \t") || strpbrk(v, "\r\n")) {
            lua_pop(L, 2);
            return fail(err, errlen, "webhooks.%s.headers: '%s' is not a valid header", name, k);
        }
        lua_pop(L, 1);
    }
    return 0;
}

static int check_endpoint(lua_State *L, int idx, const char *name, char *err, size_t errlen)
{
    if (!lua_istable(L, idx))
        return fail(err, errlen, "webhooks.%s must be a table, got %s", name,
                    luaL_typename(L, idx));
    bool has_url = false;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int v = lua_gettop(L);
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        int rc = 0;
        if (strcmp(k, "url") == 0) {
            const char *u = lua_type(L, v) == LUA_TSTRING ? lua_tostring(L, v) : NULL;
            if (!u || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
                rc = fail(err, errlen, "webhooks.%s.url must be an http:// or https:// URL%s", name,
                          "");
            has_url = true;
        } else if (strcmp(k, "slack") == 0) {
            if (!lua_isboolean(L, v))
                rc = fail(err, errlen, "webhooks.%s.slack must be a boolean, got %s", name,
                          luaL_typename(L, v));
        } else if (strcmp(k, "timeout_ms") == 0) {
            if (!lua_isinteger(L, v) || lua_tointeger(L, v) < 1 ||
                lua_tointeger(L, v) > TIMEOUT_MAX_MS)
                rc = fail(err, errlen, "webhooks.%s.timeout_ms must be an integer from 1 to %s",
                          name, "600000");
        } else if (strcmp(k, "headers") == 0) {
            rc = check_headers(L, v, name, err, errlen);
        } else {
            rc = fail(err, errlen,
                      "webhooks.%s: unknown key '%s' (url, slack, timeout_ms, headers)", name, k);
        }
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    return has_url ? 0 : fail(err, errlen, "webhooks.%s.url is missing%s", name, "");
}

int vg_config_webhooks_check(lua_State *L, int idx, char *err, size_t errlen)
{
    if (!lua_checkstack(L, 8))
        return snprintf(err, errlen, "out of memory"), -ENOMEM;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int rc = lua_type(L, -2) == LUA_TSTRING
                     ? check_endpoint(L, lua_gettop(L), lua_tostring(L, -2), err, errlen)
                     : fail(err, errlen, "webhooks: endpoint names must be strings%s%s", "", "");
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    return 0;
}

static void pack_lua_str(lua_State *L, int idx, msgpack_packer *pk)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    msgpack_pack_str_with_body(pk, s, len);
}

/* Packs a table checked by vg_config_webhooks_check: only strings, booleans,
 * integers and tables of those, keyed by strings. */
static void pack_table(lua_State *L, int idx, msgpack_packer *pk)
{
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    msgpack_pack_map(pk, n);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        pack_lua_str(L, -2, pk);
        int t = lua_type(L, -1);
        if (t == LUA_TTABLE)
            pack_table(L, lua_gettop(L), pk);
        else if (t == LUA_TBOOLEAN)
            lua_toboolean(L, -1) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        else if (t == LUA_TNUMBER)
            msgpack_pack_int64(pk, lua_tointeger(L, -1));
        else if (t == LUA_TSTRING)
            pack_lua_str(L, -1, pk);
        else
            msgpack_pack_nil(pk);
        lua_pop(L, 1);
    }
}

static void pack_lua(lua_State *L, int idx, msgpack_packer *pk)
{
    if (!lua_istable(L, idx) || !lua_checkstack(L, 8)) {
        msgpack_pack_map(pk, 0);
        return;
    }
    pack_table(L, idx, pk);
}

int vg_config_webhooks_pack(const vg_config *cfg, msgpack_packer *pk)
{
    int t = vg_config_push_setting(cfg, "webhooks");
    if (t == -ENOMEM)
        return t;
    if (t < 0) /* no Lua state: the built-in defaults have no endpoints */
        return msgpack_pack_map(pk, 0) ? -ENOMEM : 0;
    lua_State *L = cfg->L;
    pack_lua(L, lua_gettop(L), pk);
    lua_pop(L, 1);
    return 0;
}

/* Appends a copy of name to the NULL-terminated *v of n names. */
static int add_name(char ***v, size_t *n, const char *name)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(**v));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    if (!(nv[*n] = strdup(name)))
        return -ENOMEM;
    nv[++*n] = NULL;
    return 0;
}

int vg_config_webhook_names(const vg_config *cfg, char ***out)
{
    size_t n = 0;
    char **v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    int t = vg_config_push_setting(cfg, "webhooks");
    int rc = t == -ENOMEM ? t : 0;
    if (t >= 0) {
        lua_State *L = cfg->L;
        if (lua_istable(L, -1)) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                if (rc == 0 && lua_type(L, -2) == LUA_TSTRING)
                    rc = add_name(&v, &n, lua_tostring(L, -2));
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    if (rc < 0) {
        vg_config_names_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void vg_config_names_free(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}
