/*
 * The plugins' settings in the config, checked against what each plugin
 * declares (vg_plugin_desc.settings, ABI 1.4) before any plugin sees them:
 * by `vigild --check`, at start and at every reload. See plugin_settings.h.
 */
#include "plugin_settings.h"
#include "plugin_catalog.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nearest.h"
#include <vigil/plugin.h>

/* The declared settings, or NULL when the plugin declares none (built
 * before ABI 1.4, or with settings NULL). */
static const vg_setting_desc *declared(const vg_plugin_desc *d)
{
    return d->abi_minor >= 4 ? d->settings : NULL;
}

struct check {
    const vg_config *cfg;
    const struct vg_plugin_catalog *cat;
    vg_diag *diag;
    int problems;
};

static void problem(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct check *k, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *path = k->cfg->path ? k->cfg->path : "config";
    if (k->cfg->plugins_line > 0)
        vg_diag_add(k->diag, "%s:%d: %s", path, k->cfg->plugins_line, msg);
    else
        vg_diag_add(k->diag, "%s: %s", path, msg);
    k->problems++;
}

/* "a, b, c" of the declared keys, for messages. */
static void key_list(const vg_setting_desc *s, const char *near, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (; s->key && off < size; s++)
        if (!near || vg_edit_distance(near, s->key) <= 3)
            off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? ", " : "", s->key);
    if (off >= size)
        buf[size - 1] = '\0';
}

static void check_value(struct check *k, lua_State *L, const char *plugin, const vg_setting_desc *s)
{
    int t = lua_type(L, -1);
    const char *want = NULL;
    switch (s->type) {
    case VG_SETTING_STRING:
        if (t != LUA_TSTRING) {
            want = "a string";
        } else if (s->choices) {
            const char *v = lua_tostring(L, -1);
            char list[256] = "";
            size_t off = 0;
            bool ok = false;
            for (const char *const *c = s->choices; *c; c++) {
                ok |= strcmp(v, *c) == 0;
                off += (size_t)snprintf(list + off, off < sizeof(list) ? sizeof(list) - off : 0,
                                        "%s%s", off ? ", " : "", *c);
            }
            if (!ok)
                problem(k, "plugins.%s.%s: '%.64s' is not one of %s", plugin, s->key, v, list);
        }
        break;
    case VG_SETTING_INT:
        if (!lua_isinteger(L, -1)) {
            want = "an integer";
        } else {
            lua_Integer v = lua_tointeger(L, -1);
            if (v < s->min || v > s->max)
                problem(k, "plugins.%s.%s: %lld is out of range [%lld, %lld]", plugin, s->key,
                        (long long)v, (long long)s->min, (long long)s->max);
        }
        break;
    case VG_SETTING_BOOL:
        if (t != LUA_TBOOLEAN)
            want = "true or false";
        break;
    case VG_SETTING_LIST:
        if (t != LUA_TTABLE) {
            want = "a list of strings";
            break;
        }
        for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
            bool str = lua_type(L, -1) == LUA_TSTRING;
            lua_pop(L, 1);
            if (!str) {
                problem(k, "plugins.%s.%s[%lld] must be a string", plugin, s->key, (long long)i);
                break;
            }
        }
        lua_pop(L, 1);
        break;
    case VG_SETTING_TABLE:
        if (t != LUA_TTABLE)
            want = "a table";
        break;
    }
    if (want)
        problem(k, "plugins.%s.%s must be %s, got %s", plugin, s->key, want, luaL_typename(L, -1));
}

/* plugins.<plugin> = { ... } (the table on top) against its declaration. */
static void check_plugin(struct check *k, lua_State *L, const char *plugin)
{
    const vg_plugin_desc *d = vg_plugin_catalog_find(k->cat, plugin);
    if (!d) {
        /* A name close to an installed plugin's is a typo; another may
         * configure a plugin this host does not have, which is allowed. */
        for (size_t i = 0; i < k->cat->n; i++)
            if (vg_edit_distance(plugin, k->cat->desc[i]->name) <= 2) {
                problem(k, "plugins.%s: no such plugin; did you mean '%s'?", plugin,
                        k->cat->desc[i]->name);
                return;
            }
        return;
    }
    const vg_setting_desc *decl = declared(d);
    if (!decl)
        return;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 1);
            continue; /* config.c already refused it */
        }
        const char *key = lua_tostring(L, -2);
        const vg_setting_desc *s = decl;
        while (s->key && strcmp(s->key, key) != 0)
            s++;
        if (s->key) {
            check_value(k, L, plugin, s);
        } else if (strcmp(key, "enabled") != 0) {
            char near[256], all[512];
            key_list(decl, key, near, sizeof(near));
            key_list(decl, NULL, all, sizeof(all));
            problem(k, "plugins.%s: unknown setting '%s'%s%s%s (%s takes: %s)", plugin, key,
                    near[0] ? "; did you mean " : "", near, near[0] ? "?" : "", plugin, all);
        }
        lua_pop(L, 1);
    }
}

static int l_check(lua_State *L)
{
    struct check *k = lua_touserdata(L, 1);
    lua_settop(L, 2); /* the plugins table */
    if (!lua_istable(L, 2))
        return 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1))
            check_plugin(k, L, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
    return 0;
}

int vg_plugin_settings_check(const vg_config *cfg, vg_diag *diag)
{
    if (!cfg || !cfg->L)
        return 0; /* built-in defaults set nothing */
    struct vg_plugin_catalog cat;
    vg_plugin_catalog_open(&cat, cfg->plugin_dir);
    struct check k = {.cfg = cfg, .cat = &cat, .diag = diag};
    lua_State *L = cfg->L;
    int rc = 0;
    int t = vg_config_push_setting(cfg, "plugins");
    if (t == LUA_TTABLE) {
        lua_pushcfunction(L, l_check);
        lua_pushlightuserdata(L, &k);
        lua_pushvalue(L, -3);
        if (lua_pcall(L, 2, 0, 0) != LUA_OK)
            rc = -ENOMEM;
    }
    if (t >= 0)
        lua_settop(L, 0);
    vg_plugin_catalog_close(&cat);
    return rc < 0 ? rc : k.problems ? -EINVAL : 0;
}
