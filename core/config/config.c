/*
 * The configuration file: a Lua chunk run in a sandbox, whose top-level
 * assignments are checked against the schema below as they happen. See
 * config.h for the interface and docs/config.md for the settings.
 *
 * The chunk's _ENV is an always-empty table. Its metatable sends reads to the
 * settings table (and from there to the safe libraries) and sends every
 * assignment to l_newindex, which checks the key and the value and records the
 * line. Because _ENV itself stays empty, every assignment, also a second one to
 * the same key, goes through that check.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "readfile.h"
#include "sandbox.h"
#include "store_skip.h"
#include "trust.h"

#ifndef VIGIL_DEFAULT_PLUGIN_DIR
#define VIGIL_DEFAULT_PLUGIN_DIR "/usr/lib/vigil/plugins"
#endif
#ifndef VIGIL_DEFAULT_POLICY_DIR
#define VIGIL_DEFAULT_POLICY_DIR "/usr/share/vigil/policies"
#endif

/* A config file is a few dozen lines; these limits only stop a file that is
 * broken or hostile from taking the daemon down with it. */
#define MEM_LIMIT_MB 8
#define MEM_LIMIT ((size_t)MEM_LIMIT_MB << 20)
#define INSN_LIMIT 10000000L
#define PLUGIN_DEPTH_MAX 16
#define REPORT_MAX 50 /* a loop of bad assignments must not flood the output */

enum kind {
    K_STRING,  /* non-empty string into a char * */
    K_CHOICE,  /* one of s->choices into a char * */
    K_LEVEL,   /* a log level name into an int */
    K_UINT,    /* an integer in [min, max] into a uint64_t */
    K_LIST,    /* a list of strings into a NULL-terminated char **; max > 0 bounds it */
    K_PLUGINS, /* plugins.<name> = { ... }; stays in the Lua state */
    K_TABLE,   /* any table; stays in the Lua state, checked by its user */
    K_CHECKED, /* a table checked by s->check_table; stays in the Lua state */
};

struct setting {
    const char *key;
    enum kind kind;
    size_t offset; /* of the field in vg_config */
    const char *def_str;
    const char *const *def_list;
    const char *const *choices;
    int64_t def_int, min, max;
    /* K_LIST: checks one item; 0, or -EINVAL with a message in err. */
    int (*check_item)(const char *item, char *err, size_t errlen);
    /* K_CHECKED: checks the table at idx; 0, or -EINVAL with a message in err. */
    int (*check_table)(lua_State *L, int idx, char *err, size_t errlen);
};

static const char *const mode_names[] = {"learn", "monitor", "protect", NULL};
static const char *const level_names[] = {"error", "warning", "notice", "info", "debug", NULL};
static const char *const default_policy_dirs[] = {VIGIL_DEFAULT_POLICY_DIR, "/etc/vigil/policies.d",
                                                  NULL};
static const char *const empty_list[] = {NULL};

#define FIELD(f) offsetof(vg_config, f)
static const struct setting settings[] = {
    {"state_dir", K_STRING, FIELD(state_dir), .def_str = "/var/lib/vigil"},
    {"socket", K_STRING, FIELD(socket_path), .def_str = "/run/vigil/vigild.sock"},
    {"plugin_dir", K_STRING, FIELD(plugin_dir), .def_str = VIGIL_DEFAULT_PLUGIN_DIR},
    {"policy_dirs", K_LIST, FIELD(policy_dirs), .def_list = default_policy_dirs},
    {"log_level", K_LEVEL, FIELD(log_level), .def_str = "info", .choices = level_names},
    {"default_mode", K_CHOICE, FIELD(default_mode), .def_str = "learn", .choices = mode_names},
    {"control_group", K_STRING, FIELD(control_group), .def_str = NULL},
    {"events_max", K_UINT, FIELD(events_max), .def_int = 100000, .min = 1, .max = INT64_MAX},
    {"bus_queue", K_UINT, FIELD(bus_queue), .def_int = 65536, .min = 1024, .max = 16 << 20},
    /* The upper bound keeps "megabytes << 20" far from overflowing. */
    {"store_map_mb", K_UINT, FIELD(store_map_mb), .def_int = 64, .min = 1, .max = 1 << 20},
    /* Event types not written to the events table (store_skip.h). Empty by
     * default: docs/config.md says why. */
    {"store_skip", K_LIST, FIELD(store_skip), .def_list = empty_list, .max = VG_STORE_SKIP_MAX,
     .check_item = vg_store_skip_check_pattern},
    {"plugins", K_PLUGINS, .offset = 0},
    /* Workloads and groups (discovery.c, groups.c): discovery_root prefixes
     * /proc, /run, /var/lib and /sys/fs/cgroup, for tests on fixture trees. */
    {"discovery_root", K_STRING, FIELD(discovery_root), .def_str = NULL},
    {"rescan_ms", K_UINT, FIELD(rescan_ms), .def_int = 1000, .min = 50, .max = 3600000},
    {"groups", K_TABLE, .offset = 0},
    /* Unused service groups age out (groups.h); 0 never. A year at most
     * keeps hours * 3600e9 far from overflowing. */
    {"group_aging_hours", K_UINT, FIELD(group_aging_hours), .def_int = 24, .min = 0, .max = 8760},
    /* Endpoints of the webhook action (webhook.h). */
    {"webhooks", K_CHECKED, .offset = 0, .check_table = vg_config_webhooks_check},
    /* Where events go besides the store (core/output) and the metrics
     * endpoint (config_outputs.c). */
    {"outputs", K_CHECKED, .offset = 0, .check_table = vg_config_outputs_check},
    {"metrics", K_CHECKED, .offset = 0, .check_table = vg_config_metrics_check},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Drop-ins: the *.lua files of conf.d beside the config, run after it in
 * name order, in the same sandbox (docs/config.md). */
#define DROPINS_MAX 64

struct src_file {
    char *path, *buf; /* owned, except the main file's path */
    size_t len;
};

/* What one vg_config_load() needs while the chunk runs. */
struct load_ctx {
    const char *path; /* the file being run, or of the setting being checked */
    const char *src;  /* its text */
    size_t src_len;
    struct src_file files[1 + DROPINS_MAX]; /* the config, then its drop-ins */
    int nfiles, cur;
    int file_of[N_SETTINGS]; /* index in files of each setting's last assignment */
    vg_diag *diag;
    int errors;
    int hidden;                 /* problems past REPORT_MAX, counted but not listed */
    bool oom;                   /* a C allocation failed */
    const char *key;            /* the setting being checked, for statement_line() */
    char short_src[LUA_IDSIZE]; /* how Lua abbreviates path in messages */
    int lines[N_SETTINGS];      /* line of the last assignment of each setting */
};

/* Registry keys (their addresses are what matters). */
static const char settings_key, env_key;

static int statement_line(const struct load_ctx *ctx, const char *key, int line);

/* Formats one problem as "path:line: msg" ("path: msg" without a line). */
static void report(struct load_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct load_ctx *ctx, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ctx->errors++ >= REPORT_MAX) {
        ctx->hidden++;
        return;
    }
    if (line > 0 && ctx->key)
        line = statement_line(ctx, ctx->key, line);
    if (line > 0)
        vg_diag_add(ctx->diag, "%s:%d: %s", ctx->path, line, msg);
    else
        vg_diag_add(ctx->diag, "%s: %s", ctx->path, msg);
}

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether the line at p (up to end) starts with "key =". */
static bool starts_assignment(const char *p, const char *end, const char *key)
{
    size_t kl = strlen(key);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < kl + 1 || strncmp(p, key, kl) != 0 || is_ident_char(p[kl]))
        return false;
    for (p += kl; p < end && (*p == ' ' || *p == '\t');)
        p++;
    return p < end && *p == '=' && (p + 1 == end || p[1] != '=');
}

/* Lua stamps an assignment with the line where its value ends, so a table
 * spread over several lines would be reported at its closing brace. Users
 * look for the line that starts the statement: the nearest line at or above
 * that begins with "key =". (An assignment written as _ENV["key"] = ... may
 * then point at an earlier plain one; that is rare enough to accept.) */
static int statement_line(const struct load_ctx *ctx, const char *key, int line)
{
    const char *p = ctx->src, *end = ctx->src + ctx->src_len;
    int found = line;
    for (int n = 1; p && p < end && n <= line; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (starts_assignment(p, eol, key))
            found = n;
        p = nl ? nl + 1 : end;
    }
    return found;
}

/* The line of the Lua code that made the assignment; C functions in between
 * (table.insert(_ENV, ...)) are skipped. */
static int caller_line(lua_State *L)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++)
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
            return ar.currentline;
    return 0;
}

/* Messages and statement lines are about files[i] from now on. */
static void use_file(struct load_ctx *ctx, int i)
{
    ctx->cur = i;
    ctx->path = ctx->files[i].path;
    ctx->src = ctx->files[i].buf;
    ctx->src_len = ctx->files[i].len;
}

static const struct setting *find_setting(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

static void join_choices(const char *const *choices, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; choices[i]; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", choices[i]);
}

static bool is_choice(const char *const *choices, const char *v)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(choices[i], v) == 0)
            return true;
    return false;
}

static bool check_string(lua_State *L, int idx, struct load_ctx *ctx, const struct setting *s,
                         int line)
{
    if (lua_type(L, idx) != LUA_TSTRING) {
        report(ctx, line, "setting '%s' must be a string, got %s", s->key, luaL_typename(L, idx));
        return false;
    }
    const char *v = lua_tostring(L, idx);
    bool ok = s->kind == K_LEVEL    ? vg_log_parse_level(v) >= 0
              : s->kind == K_CHOICE ? is_choice(s->choices, v)
                                    : v[0] != '\0';
    if (ok)
        return true;
    if (!s->choices) {
        report(ctx, line, "setting '%s' must not be empty", s->key);
        return false;
    }
    char list[128];
    join_choices(s->choices, list, sizeof(list));
    report(ctx, line, "setting '%s' must be one of %s, got '%.64s'", s->key, list, v);
    return false;
}

static bool check_uint(lua_State *L, int idx, struct load_ctx *ctx, const struct setting *s,
                       int line)
{
    if (lua_type(L, idx) != LUA_TNUMBER) {
        report(ctx, line, "setting '%s' must be an integer, got %s", s->key, luaL_typename(L, idx));
        return false;
    }
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (!isint) {
        report(ctx, line, "setting '%s' must be an integer, got %g", s->key,
               (double)lua_tonumber(L, idx));
        return false;
    }
    if (v < s->min || v > s->max) {
        report(ctx, line, "setting '%s' must be between %lld and %lld, got %lld", s->key,
               (long long)s->min, (long long)s->max, (long long)v);
        return false;
    }
    return true;
}

/* Checks a value as it is assigned. Table contents are checked after the
 * file has run (check_list, check_plugins), since a table can still be
 * changed in place after its assignment. */
static bool check_value(lua_State *L, int idx, struct load_ctx *ctx, const struct setting *s,
                        int line)
{
    switch (s->kind) {
    case K_STRING:
    case K_CHOICE:
    case K_LEVEL:
        return check_string(L, idx, ctx, s, line);
    case K_UINT:
        return check_uint(L, idx, ctx, s, line);
    case K_LIST:
    case K_PLUGINS:
    case K_TABLE:
    case K_CHECKED:
        if (lua_istable(L, idx))
            return true;
        report(ctx, line, "setting '%s' must be a table, got %s", s->key, luaL_typename(L, idx));
        return false;
    }
    return false;
}

/* _ENV.__newindex (upvalue 1: the settings table). A bad assignment is
 * reported and not stored, and the file runs on so that every problem is
 * found in one go. */
static int l_newindex(lua_State *L)
{
    struct load_ctx *ctx = vg_sandbox_of(L)->user;
    if (!ctx)
        return luaL_error(L, "the configuration is read-only");
    int line = caller_line(L);
    if (lua_type(L, 2) != LUA_TSTRING) {
        report(ctx, line, "setting names must be strings, got %s", luaL_typename(L, 2));
        return 0;
    }
    const char *key = lua_tostring(L, 2);
    const struct setting *s = find_setting(key);
    ctx->key = key;
    if (!s)
        report(ctx, line, "unknown setting '%.64s'", key);
    /* nil puts a setting back to its default. */
    bool ok = s && (lua_isnil(L, 3) || check_value(L, 3, ctx, s, line));
    ctx->key = NULL;
    if (!ok)
        return 0;
    ctx->lines[s - settings] = line;
    ctx->file_of[s - settings] = ctx->cur;
    lua_settop(L, 3);
    lua_rawset(L, lua_upvalueindex(1));
    return 0;
}

/* Builds lib, settings and env tables (see the comment at the top). Runs
 * under lua_pcall, since any allocation may fail. */
static int l_setup(lua_State *L)
{
    lua_newtable(L); /* 1: lib */
    vg_sandbox_open_libs(L, 1);

    lua_newtable(L); /* 2: settings, falling back to lib */
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, 2);
    lua_pushvalue(L, 2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &settings_key);

    lua_newtable(L); /* 3: env, always empty */
    lua_newtable(L);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, l_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0); /* getmetatable(_ENV) is false; setmetatable fails */
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, 3);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &env_key);
    return 0;
}

static int sandbox_new(lua_State **out)
{
    lua_State *L = NULL;
    int rc = vg_sandbox_new("the configuration", MEM_LIMIT, INSN_LIMIT, &L);
    if (rc == 0)
        vg_sandbox_set_time_limit(L, 2000); /* what the budget cannot see */
    if (rc < 0)
        return rc;
    lua_pushcfunction(L, l_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        vg_sandbox_close(L);
        return -ENOMEM;
    }
    *out = L;
    return 0;
}

/* ---- building the vg_config ---- */

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

static char **dup_list(const char *const *src, size_t n)
{
    char **list = calloc(n + 1, sizeof(*list));
    for (size_t i = 0; list && i < n; i++) {
        list[i] = strdup(src[i]);
        if (!list[i]) {
            free_list(list);
            return NULL;
        }
    }
    return list;
}

/* Sets one field to its default. Returns false when out of memory. */
static bool set_default(vg_config *cfg, const struct setting *s)
{
    char *p = (char *)cfg + s->offset;
    size_t n = 0;
    switch (s->kind) {
    case K_STRING:
    case K_CHOICE:
        free(*(char **)p);
        *(char **)p = s->def_str ? strdup(s->def_str) : NULL;
        return !s->def_str || *(char **)p;
    case K_LEVEL:
        *(int *)p = vg_log_parse_level(s->def_str);
        return true;
    case K_UINT:
        *(uint64_t *)p = (uint64_t)s->def_int;
        return true;
    case K_LIST:
        while (s->def_list[n])
            n++;
        free_list(*(char ***)p);
        *(char ***)p = dup_list(s->def_list, n);
        return *(char ***)p != NULL;
    case K_PLUGINS:
    case K_TABLE:
    case K_CHECKED:
        return true;
    }
    return true;
}

static vg_config *config_new(void)
{
    vg_config *cfg = calloc(1, sizeof(*cfg));
    for (size_t i = 0; cfg && i < N_SETTINGS; i++) {
        if (!set_default(cfg, &settings[i])) {
            vg_config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

/* Runs the setting's item check on items 1..n of the list at idx, reporting
 * every bad one. Returns whether all passed. */
static bool check_items(lua_State *L, int idx, struct load_ctx *ctx, const struct setting *s,
                        lua_Integer n)
{
    bool ok = true;
    for (lua_Integer i = 1; s->check_item && i <= n; i++) {
        char err[200];
        lua_rawgeti(L, idx, i);
        const char *v = lua_tostring(L, -1);
        if (s->check_item(v, err, sizeof(err)) < 0) {
            report(ctx, ctx->lines[s - settings], "setting '%s' item %lld ('%.64s') %s", s->key,
                   (long long)i, v, err);
            ok = false;
        }
        lua_pop(L, 1);
    }
    return ok;
}

/* Checks that the table at idx is a list of strings and copies it. */
static void take_list(lua_State *L, int idx, struct load_ctx *ctx, const struct setting *s,
                      char ***out)
{
    int line = ctx->lines[s - settings];
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    bool in_range = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_Integer i = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
        if (i >= 1 && lua_type(L, -1) != LUA_TSTRING) {
            report(ctx, line, "setting '%s' must be a list of strings; item %lld is a %s", s->key,
                   (long long)i, luaL_typename(L, -1));
            lua_pop(L, 2);
            return;
        }
        in_range &= i >= 1 && i <= n;
        count++;
        lua_pop(L, 1);
    }
    /* n keys, all in 1..n: a list without holes or other keys. */
    if (!in_range || count != n) {
        report(ctx, line, "setting '%s' must be a list of strings, without holes or other keys",
               s->key);
        return;
    }
    if (s->max > 0 && n > s->max) {
        report(ctx, line, "setting '%s' has %lld items, at most %lld", s->key, (long long)n,
               (long long)s->max);
        return;
    }
    if (!check_items(L, idx, ctx, s, n))
        return;
    char **list = calloc((size_t)n + 1, sizeof(*list));
    for (lua_Integer i = 1; list && i <= n; i++) {
        lua_rawgeti(L, idx, i);
        list[i - 1] = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (!list[i - 1]) {
            free_list(list);
            list = NULL;
        }
    }
    if (!list) {
        ctx->oom = true;
        return;
    }
    free_list(*out);
    *out = list;
}

/* Walks one plugin's settings: keys are strings or integers, values plain
 * data. name holds the dotted path of the table for messages. */
static void check_plugin_table(lua_State *L, int idx, struct load_ctx *ctx, int line, char *name,
                               size_t size, int depth)
{
    if (depth > PLUGIN_DEPTH_MAX || !lua_checkstack(L, 4)) {
        report(ctx, line, "%s is nested too deeply (more than %d levels)", name, PLUGIN_DEPTH_MAX);
        return;
    }
    size_t len = strlen(name);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING)
            snprintf(name + len, size - len, ".%s", lua_tostring(L, -2));
        else if (lua_isinteger(L, -2))
            snprintf(name + len, size - len, "[%lld]", (long long)lua_tointeger(L, -2));
        else
            snprintf(name + len, size - len, "[<%s>]", luaL_typename(L, -2));
        int t = lua_type(L, -1);
        if (lua_type(L, -2) != LUA_TSTRING && !lua_isinteger(L, -2))
            report(ctx, line, "%s: keys in plugin settings must be strings or integers", name);
        else if (t == LUA_TTABLE)
            check_plugin_table(L, lua_gettop(L), ctx, line, name, size, depth + 1);
        else if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
            report(ctx, line,
                   "%s is a %s; plugin settings may only be strings, numbers, booleans and tables",
                   name, lua_typename(L, t));
        name[len] = '\0';
        lua_pop(L, 1);
    }
}

static void check_plugins(lua_State *L, int idx, struct load_ctx *ctx)
{
    int line = ctx->lines[find_setting("plugins") - settings];
    char name[256];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            report(ctx, line, "plugin names in 'plugins' must be strings, got %s",
                   luaL_typename(L, -2));
        } else if (!lua_istable(L, -1)) {
            report(ctx, line, "plugins.%s must be a table, got %s", lua_tostring(L, -2),
                   luaL_typename(L, -1));
        } else {
            snprintf(name, sizeof(name), "plugins.%s", lua_tostring(L, -2));
            check_plugin_table(L, lua_gettop(L), ctx, line, name, sizeof(name), 1);
            lua_pushliteral(L, "enabled");
            int t = lua_rawget(L, -2);
            if (t != LUA_TNIL && t != LUA_TBOOLEAN)
                report(ctx, line, "%s.enabled must be a boolean, got %s", name, lua_typename(L, t));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* Plugins that were renamed: their settings under the old name still
 * apply (with a warning) while the new name has none. Raw accesses: no
 * code of the file runs. */
static const struct {
    const char *now, *was;
} renamed_plugins[] = {
    {"cis", "bench"}, /* the CIS checks, plugins/cis */
};

static void alias_renamed_plugins(lua_State *L, int idx, struct load_ctx *ctx)
{
    int line = statement_line(ctx, "plugins", ctx->lines[find_setting("plugins") - settings]);
    for (size_t i = 0; i < sizeof(renamed_plugins) / sizeof(renamed_plugins[0]); i++) {
        const char *now = renamed_plugins[i].now, *was = renamed_plugins[i].was;
        lua_pushstring(L, was);
        int t_was = lua_rawget(L, idx);
        lua_pushstring(L, now);
        int t_now = lua_rawget(L, idx);
        if (t_was == LUA_TTABLE && t_now == LUA_TNIL) {
            vg_warn("%s:%d: plugins.%s is the old name of plugins.%s; rename it (the old name "
                    "will go)",
                    ctx->path, line, was, now);
            lua_pushstring(L, now);
            lua_pushvalue(L, -3);
            lua_rawset(L, idx);
        } else if (t_was == LUA_TTABLE) {
            vg_warn("%s:%d: plugins.%s is ignored: plugins.%s (its new name) is set", ctx->path,
                    line, was, now);
        }
        lua_pop(L, 2);
    }
}

/* Copies one assigned setting (on the stack top) into cfg. */
static void take_setting(lua_State *L, struct load_ctx *ctx, const struct setting *s,
                         vg_config *cfg)
{
    int top = lua_gettop(L);
    char *p = (char *)cfg + s->offset;
    switch (s->kind) {
    case K_STRING:
    case K_CHOICE: {
        char *v = strdup(lua_tostring(L, top));
        ctx->oom |= !v;
        if (v) {
            free(*(char **)p);
            *(char **)p = v;
        }
        return;
    }
    case K_LEVEL:
        *(int *)p = vg_log_parse_level(lua_tostring(L, top));
        return;
    case K_UINT:
        *(uint64_t *)p = (uint64_t)lua_tointeger(L, top);
        return;
    case K_LIST:
        ctx->key = s->key;
        take_list(L, top, ctx, s, (char ***)p);
        ctx->key = NULL;
        return;
    case K_PLUGINS:
        ctx->key = s->key;
        check_plugins(L, top, ctx);
        alias_renamed_plugins(L, top, ctx);
        ctx->key = NULL;
        return;
    case K_TABLE:
        return;
    case K_CHECKED: {
        char err[300];
        ctx->key = s->key;
        if (s->check_table(L, top, err, sizeof(err)) < 0)
            report(ctx, ctx->lines[s - settings], "%s", err);
        ctx->key = NULL;
        return;
    }
    }
}

struct finish_args {
    struct load_ctx *ctx;
    vg_config *cfg;
};

/* After the file ran: copies the settings into cfg, checks table contents,
 * and catches assignments that went around __newindex with rawset(). Runs
 * under lua_pcall. */
static int l_finish(lua_State *L)
{
    struct finish_args *a = lua_touserdata(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &settings_key);
    int tab = lua_gettop(L);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        lua_pushstring(L, settings[i].key);
        use_file(a->ctx, a->ctx->file_of[i]);
        if (lua_rawget(L, tab) != LUA_TNIL)
            take_setting(L, a->ctx, &settings[i], a->cfg);
        lua_settop(L, tab);
    }
    a->cfg->plugins_line = a->ctx->lines[find_setting("plugins") - settings];
    lua_rawgetp(L, LUA_REGISTRYINDEX, &env_key);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING)
            report(a->ctx, 0, "setting '%.64s' was stored with rawset() and is not checked",
                   lua_tostring(L, -2));
        else
            report(a->ctx, 0, "a %s key was stored in _ENV with rawset()", luaL_typename(L, -2));
        lua_pop(L, 1);
    }
    return 0;
}

/* ---- loading ---- */

/* Reads the whole file; Lua gets a buffer, so the file is opened once and
 * errno says why it could not be. */
static int read_file(struct load_ctx *ctx, char **buf, size_t *len)
{
    char why[300];
    if (vg_path_trusted(ctx->path, why, sizeof(why)) == -EPERM) {
        /* Settings of a root daemon that anyone else could have written. */
        report(ctx, 0, "refused: %s", why);
        return -EINVAL;
    }
    int fd = open(ctx->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        report(ctx, 0, "cannot open: %s", strerror(-rc));
        return rc;
    }
    int rc = vg_read_fd(fd, MEM_LIMIT, buf, len);
    close(fd);
    if (rc == -EFBIG) {
        report(ctx, 0, "file is larger than %d MiB", MEM_LIMIT_MB);
        return -EINVAL;
    }
    if (rc < 0)
        report(ctx, 0, "cannot read: %s", strerror(-rc));
    return rc;
}

/* Lua abbreviates long chunk names in its messages; learn how, so that
 * messages can name the whole path again. */
static void learn_short_src(lua_State *L, struct load_ctx *ctx, const char *chunkname)
{
    lua_Debug ar;
    ctx->short_src[0] = '\0';
    if (luaL_loadbufferx(L, "", 0, chunkname, "t") != LUA_OK) {
        lua_pop(L, 1);
        return;
    }
    lua_getinfo(L, ">S", &ar);
    snprintf(ctx->short_src, sizeof(ctx->short_src), "%s", ar.short_src);
}

/* Reports the error on the stack top (from loading or running the file). */
static void report_lua_error(lua_State *L, struct load_ctx *ctx, int status)
{
    if (status == LUA_ERRMEM) {
        report(ctx, 0, "the configuration needs more than %d MiB of memory", MEM_LIMIT_MB);
        return;
    }
    if (lua_type(L, -1) != LUA_TSTRING) {
        report(ctx, 0, "error object is a %s value", luaL_typename(L, -1));
        return;
    }
    const char *msg = lua_tostring(L, -1);
    size_t sl = strlen(ctx->short_src);
    if (sl && strncmp(msg, ctx->short_src, sl) == 0 && msg[sl] == ':') {
        vg_diag_add(ctx->diag, "%s%s", ctx->path, msg + sl);
        ctx->errors++;
    } else {
        report(ctx, 0, "%s", msg);
    }
}

/* Loads and runs the chunk in L; every problem goes to ctx. Returns whether
 * the settings it made (maybe not all of them) are worth checking further:
 * not after a syntax error, nor once a limit was hit. */
static bool run_file(lua_State *L, struct load_ctx *ctx, const char *buf, size_t len)
{
    vg_sandbox *sb = vg_sandbox_of(L);
    char *chunkname = NULL;
    if (asprintf(&chunkname, "@%s", ctx->path) < 0) {
        ctx->oom = true;
        return false;
    }
    learn_short_src(L, ctx, chunkname);
    /* Mode "t": a precompiled chunk could break the VM's invariants. */
    int status = luaL_loadbufferx(L, buf, len, chunkname, "t");
    free(chunkname);
    bool loaded = status == LUA_OK;
    if (loaded) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &env_key);
        lua_setupvalue(L, -2, 1);
        status = lua_pcall(L, 0, 0, 0);
    }
    if (status != LUA_OK)
        report_lua_error(L, ctx, status);
    else if (sb->over_budget)
        report(ctx, sb->budget_line,
               "the configuration ran for more than %d instructions (endless loop?)",
               (int)INSN_LIMIT);
    /* Also when a pcall() in the file swallowed the allocation failure. */
    if (sb->over_memory && status != LUA_ERRMEM)
        report(ctx, 0, "the configuration needs more than %d MiB of memory", MEM_LIMIT_MB);
    lua_settop(L, 0);
    return loaded && !sb->over_budget && !sb->over_memory && !ctx->oom;
}

static int is_dropin(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0;
}

/* Runs the drop-ins after the file; false when one of them stops the
 * checks (a syntax error, a limit). A missing conf.d is no drop-in. */
static bool run_dropins(lua_State *L, struct load_ctx *ctx, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof(dir), "%.*sconf.d", slash ? (int)(slash - path + 1) : 0, path);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, is_dropin, alphasort);
    bool ok = true;
    for (int i = 0; i < n; i++) {
        if (ctx->nfiles > DROPINS_MAX) {
            report(ctx, 0, "more than %d drop-ins in %s; %s and later ones are not read",
                   DROPINS_MAX, dir, names[i]->d_name);
            ok = false;
        }
        struct src_file *f = &ctx->files[ctx->nfiles];
        if (ok && asprintf(&f->path, "%s/%s", dir, names[i]->d_name) < 0) {
            f->path = NULL;
            ctx->oom = true;
            ok = false;
        }
        if (ok) {
            use_file(ctx, ctx->nfiles++);
            ok = read_file(ctx, &f->buf, &f->len) == 0 && run_file(L, ctx, f->buf, f->len);
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

int vg_config_load(const char *path, vg_config **out, vg_diag *diag)
{
    if (!path || !out)
        return -EINVAL;
    vg_diag own = {0};
    struct load_ctx ctx = {.path = path, .diag = diag ? diag : &own, .nfiles = 1};
    ctx.files[0].path = (char *)path;
    char *buf = NULL;
    size_t len = 0;
    lua_State *L = NULL;
    vg_config *cfg = NULL;

    int rc = read_file(&ctx, &buf, &len);
    if (rc == 0 && ((rc = sandbox_new(&L)) < 0 || !(cfg = config_new())))
        rc = -ENOMEM;
    if (rc == 0) {
        vg_sandbox *sb = vg_sandbox_of(L);
        sb->user = &ctx;
        ctx.files[0].buf = buf;
        ctx.files[0].len = len;
        use_file(&ctx, 0);
        /* Table contents are checked even after other problems, so that
         * one run of `vigild --check` lists everything. */
        if (run_file(L, &ctx, buf, len) && run_dropins(L, &ctx, path)) {
            struct finish_args a = {&ctx, cfg};
            lua_pushcfunction(L, l_finish);
            lua_pushlightuserdata(L, &a);
            if (lua_pcall(L, 1, 0, 0) != LUA_OK)
                report_lua_error(L, &ctx, LUA_ERRMEM);
            lua_settop(L, 0);
        }
        sb->user = NULL;
        if (ctx.hidden)
            vg_diag_add(ctx.diag, "%s: %d more problems not shown", path, ctx.hidden);
        cfg->path = strdup(path);
        rc = ctx.oom || !cfg->path ? -ENOMEM : ctx.errors ? -EINVAL : 0;
    }
    use_file(&ctx, 0);
    if (rc < 0 && !ctx.errors)
        report(&ctx, 0, "%s", strerror(-rc)); /* every failure says why */
    free(buf);
    for (int i = 1; i < ctx.nfiles; i++) {
        free(ctx.files[i].path);
        free(ctx.files[i].buf);
    }
    vg_diag_free(&own);
    if (rc < 0) {
        vg_config_free(cfg);
        vg_sandbox_close(L);
        return rc;
    }
    cfg->L = L;
    *out = cfg;
    return 0;
}

int vg_config_defaults(vg_config **out)
{
    if (!out)
        return -EINVAL;
    vg_config *cfg = config_new();
    if (!cfg)
        return -ENOMEM;
    lua_State *L = NULL;
    int rc = sandbox_new(&L);
    if (rc < 0) {
        vg_config_free(cfg);
        return rc;
    }
    cfg->L = L;
    *out = cfg;
    return 0;
}

void vg_config_free(vg_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].kind == K_STRING || settings[i].kind == K_CHOICE)
            free(*(char **)((char *)cfg + settings[i].offset));
        if (settings[i].kind == K_LIST)
            free_list(*(char ***)((char *)cfg + settings[i].offset));
    }
    free(cfg->path);
    vg_sandbox_close(cfg->L);
    free(cfg);
}

/* ---- plugin settings ---- */

struct lookup {
    const char *plugin, *key;
    int type; /* found: LUA_T*, or LUA_TNIL */
    const char *s;
    lua_Integer i;
    int isint;
    int b;
};

/* Reads plugins[plugin][key] with raw accesses only, so that no code from the
 * file runs. Under lua_pcall, since pushing the names may allocate. */
static int l_lookup(lua_State *L)
{
    struct lookup *q = lua_touserdata(L, 1);
    q->type = LUA_TNIL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &settings_key);
    lua_pushliteral(L, "plugins");
    if (lua_rawget(L, -2) != LUA_TTABLE)
        return 0;
    lua_pushstring(L, q->plugin);
    if (lua_rawget(L, -2) != LUA_TTABLE)
        return 0;
    lua_pushstring(L, q->key);
    q->type = lua_rawget(L, -2);
    /* The string stays referenced by the plugin's table, so the pointer
     * lives as long as the state. */
    q->s = q->type == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    q->i = lua_tointegerx(L, -1, &q->isint);
    q->b = lua_toboolean(L, -1);
    return 0;
}

static int l_push_setting(lua_State *L)
{
    const char *key = lua_touserdata(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &settings_key);
    lua_pushstring(L, key);
    lua_rawget(L, -2);
    return 1;
}

int vg_config_push_setting(const vg_config *cfg, const char *key)
{
    lua_State *L = cfg ? cfg->L : NULL;
    if (!L || !key)
        return -EINVAL;
    lua_pushcfunction(L, l_push_setting);
    lua_pushlightuserdata(L, (void *)key);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        return -ENOMEM;
    }
    return lua_type(L, -1);
}

static int lookup(const vg_config *cfg, struct lookup *q)
{
    if (!cfg || !q->plugin || !q->key)
        return -EINVAL;
    lua_State *L = cfg->L;
    if (!L)
        return -ENOENT;
    lua_pushcfunction(L, l_lookup);
    lua_pushlightuserdata(L, q);
    int status = lua_pcall(L, 1, 0, 0);
    lua_settop(L, 0);
    if (status != LUA_OK)
        return -ENOMEM;
    return q->type == LUA_TNIL ? -ENOENT : 0;
}

int vg_config_plugin_string(const vg_config *cfg, const char *plugin, const char *key,
                            const char **out)
{
    struct lookup q = {.plugin = plugin, .key = key};
    int rc = lookup(cfg, &q);
    if (rc == 0 && q.type != LUA_TSTRING)
        rc = -EINVAL;
    if (rc == 0)
        *out = q.s;
    return rc;
}

int vg_config_plugin_int(const vg_config *cfg, const char *plugin, const char *key, int64_t *out)
{
    struct lookup q = {.plugin = plugin, .key = key};
    int rc = lookup(cfg, &q);
    /* 3.0 counts as an integer, 3.5 and "3" do not. */
    if (rc == 0 && (q.type != LUA_TNUMBER || !q.isint))
        rc = -EINVAL;
    if (rc == 0)
        *out = q.i;
    return rc;
}

int vg_config_plugin_bool(const vg_config *cfg, const char *plugin, const char *key, int *out)
{
    struct lookup q = {.plugin = plugin, .key = key};
    int rc = lookup(cfg, &q);
    if (rc == 0 && q.type != LUA_TBOOLEAN)
        rc = -EINVAL;
    if (rc == 0)
        *out = q.b;
    return rc;
}

bool vg_config_plugin_enabled(const vg_config *cfg, const char *plugin)
{
    int on = 1;
    /* The load checked that "enabled" is a boolean when it is set. */
    if (vg_config_plugin_bool(cfg, plugin, "enabled", &on) < 0)
        return true;
    return on != 0;
}
