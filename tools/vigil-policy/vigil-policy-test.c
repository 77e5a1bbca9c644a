/*
 * `vigil-policy test`: runs *_test.lua files in a sandbox of their own, with
 * a `test` module whose test.case() gives each case a fresh engine (a policy
 * harness loaded from the given dirs: real bus, in-memory rules). See
 * docs/vigil-policy.1 for the module.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <lauxlib.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_harness.h"
#include "luamp.h"
#include "mode.h"
#include "sandbox.h"
#include "vigil-policy.h"

#define TEST_MEM ((size_t)512 << 20)
#define TEST_INSN 200000000L
#define HOLDER_MT "vigil.test.sbuf"

struct runner {
    char **dirs;
    const vg_policy_decl_desc *decls;
    size_t ndecls;
    const char *file;
    vg_harness *h; /* the running case's engine */
    int passed, failed;
    char err_file[512];
    int err_line;
};

static struct runner *runner(lua_State *L)
{
    return vg_sandbox_of(L)->user;
}

/* ---- failures: "file:line: case 'name': message" ---- */

static int l_msgh(lua_State *L)
{
    struct runner *r = runner(L);
    lua_Debug ar;
    r->err_line = 0;
    r->err_file[0] = '\0';
    /* The innermost line of the test file itself, else any Lua line. */
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
            continue;
        bool own = ar.source[0] == '@' && strcmp(ar.source + 1, r->file) == 0;
        if (!r->err_line || own) {
            snprintf(r->err_file, sizeof(r->err_file), "%s",
                     ar.source[0] == '@' ? ar.source + 1 : ar.short_src);
            r->err_line = ar.currentline;
        }
        if (own)
            break;
    }
    return 1;
}

/* Drops a leading "chunk:line: " (the location is printed on its own). */
static const char *strip_where(const char *msg)
{
    const char *c = strchr(msg, ':');
    while (c) {
        char *end;
        strtol(c + 1, &end, 10);
        if (end != c + 1 && strncmp(end, ": ", 2) == 0)
            return end + 2;
        c = strchr(c + 1, ':');
        if (c && c - msg > 600)
            break;
    }
    return msg;
}

static void fail(struct runner *r, lua_State *L, const char *name)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error (not a string)";
    if (vg_sandbox_of(L)->over_memory)
        msg = "the test needs too much memory";
    printf("%s:%d: %s%s%s%s\n", r->err_file[0] ? r->err_file : r->file, r->err_line,
           name ? "case '" : "", name ? name : "", name ? "': " : "", strip_where(msg));
    r->failed++;
}

/* ---- the test module ---- */

static vg_harness *harness(lua_State *L, const char *fn)
{
    struct runner *r = runner(L);
    if (!r->h)
        luaL_error(L, "%s is only for use inside test.case()", fn);
    return r->h;
}

static int l_case(lua_State *L)
{
    struct runner *r = runner(L);
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (r->h)
        return luaL_error(L, "test.case() cannot be nested");
    vg_diag diag = {0};
    int rc = vg_harness_new_decls(r->dirs, VG_MODE_LEARN, r->decls, r->ndecls, &diag, &r->h);
    if (rc < 0) {
        printf("%s: case '%s': the policies do not load: %s\n", r->file, name,
               diag.n ? diag.msgs[0] : strerror(-rc));
        vg_diag_free(&diag);
        r->failed++;
        return 0;
    }
    vg_diag_free(&diag);
    vg_sandbox_reset(L, TEST_INSN);
    lua_pushcfunction(L, l_msgh);
    lua_pushvalue(L, 2);
    if (lua_pcall(L, 0, 0, -2) == LUA_OK && !vg_sandbox_of(L)->over_memory)
        r->passed++;
    else
        fail(r, L, name);
    vg_harness_free(r->h);
    r->h = NULL;
    vg_sandbox_reset(L, TEST_INSN);
    return 0;
}

static int l_mode(lua_State *L)
{
    vg_harness *h = harness(L, "test.mode");
    const char *group = luaL_checkstring(L, 1);
    int mode = vg_mode_parse(luaL_checkstring(L, 2));
    if (mode < 0)
        return luaL_error(L, "test.mode: mode must be learn, monitor or protect");
    vg_harness_set_mode(h, group, mode);
    return 0;
}

static int l_holder_gc(lua_State *L)
{
    msgpack_sbuffer *sb = luaL_checkudata(L, 1, HOLDER_MT);
    msgpack_sbuffer_destroy(sb);
    return 0;
}

static bool is_header(const char *k)
{
    static const char *const keys[] = {"type", "severity", "workload", "group", "id", "time", NULL};
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

static const char *opt_field(lua_State *L, const char *key, const char *def)
{
    int t = lua_getfield(L, 1, key);
    const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : t == LUA_TNIL ? def : NULL;
    if (!s)
        luaL_error(L, "test.feed: '%s' must be a string", key);
    lua_pop(L, 1); /* the table still holds the string */
    return s;
}

/* Packs the body: every key of the table but the header's. */
static void pack_body(lua_State *L, msgpack_packer *pk)
{
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "test.feed: field names must be strings");
        n += !is_header(lua_tostring(L, -1));
    }
    msgpack_pack_map(pk, n);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        size_t kl;
        const char *k = lua_tolstring(L, -2, &kl);
        if (!is_header(k)) {
            msgpack_pack_str_with_body(pk, k, kl);
            vg_lua_pack(L, lua_gettop(L), pk, 1);
        }
        lua_pop(L, 1);
    }
}

static int l_feed(lua_State *L)
{
    vg_harness *h = harness(L, "test.feed");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    const char *type = opt_field(L, "type", NULL);
    if (!type)
        return luaL_error(L, "test.feed: the event needs a type");
    int sev = vg_severity_parse(opt_field(L, "severity", "info"));
    if (sev < 0)
        return luaL_error(L, "test.feed: unknown severity");
    msgpack_sbuffer *sb = lua_newuserdatauv(L, sizeof(*sb), 0);
    msgpack_sbuffer_init(sb);
    luaL_setmetatable(L, HOLDER_MT);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    pack_body(L, &pk);
    vg_event_in in = {.type = vg_event_type_id(type),
                      .severity = sev,
                      .workload = opt_field(L, "workload", ""),
                      .group = opt_field(L, "group", ""),
                      .body = sb->data,
                      .body_len = sb->size};
    if (in.type < 0)
        return luaL_error(L, "test.feed: '%s' is not a valid event type", type);
    int v = vg_harness_feed(h, &in);
    if (v < 0 && v != VG_VERDICT_NONE)
        return luaL_error(L, "test.feed: cannot publish: %s", strerror(-v));
    lua_createtable(L, 0, 2);
    if (v >= 0) {
        lua_pushstring(L, vg_verdict_name(v));
        lua_setfield(L, -2, "verdict");
    }
    size_t n = vg_harness_nevents(h);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        vg_lua_push_mp(L, vg_harness_event(h, i), 0);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "events");
    return 1;
}

static int l_allowed(lua_State *L)
{
    vg_harness *h = harness(L, "test.allowed");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "group");
    lua_getfield(L, 1, "plane");
    const char *group = luaL_checkstring(L, -2);
    int plane = vg_plane_parse(luaL_checkstring(L, -1));
    if (plane < 0)
        return luaL_error(L, "test.allowed: plane must be proc, file or net");
    const char *const *names = vg_rule_field_names(plane);
    const char *fields[VG_RULE_FIELDS_MAX] = {0};
    for (int i = 0; names[i]; i++) {
        lua_getfield(L, 1, names[i]);
        fields[i] = lua_isnil(L, -1) ? "" : luaL_tolstring(L, -1, NULL);
    }
    int action = -1;
    int m = vg_rules_match(vg_harness_rules(h), group, plane, fields, &action);
    lua_pushboolean(L, m == 1 && action == VG_RULE_ALLOW);
    return 1;
}

static int count_rule(const vg_rule *rule, void *arg)
{
    (*(lua_Integer *)arg)++;
    return 0;
}

static int l_rules(lua_State *L)
{
    vg_harness *h = harness(L, "test.rules");
    const char *group = luaL_optstring(L, 1, NULL);
    lua_Integer n = 0;
    vg_rules_each(vg_harness_rules(h), group, -1, count_rule, &n);
    lua_pushinteger(L, n);
    return 1;
}

/* ---- JSON-lines fixtures ---- */

static void push_json(lua_State *L, json_t *j, int depth)
{
    luaL_checkstack(L, 4, "JSON nesting");
    if (depth > 32) {
        lua_pushnil(L);
        return;
    }
    size_t i;
    const char *k;
    json_t *v;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        lua_newtable(L);
        json_object_foreach(j, k, v)
        {
            push_json(L, v, depth + 1);
            lua_setfield(L, -2, k);
        }
        return;
    case JSON_ARRAY:
        lua_newtable(L);
        json_array_foreach(j, i, v)
        {
            push_json(L, v, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return;
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        return;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        return;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(j));
        return;
    default:
        lua_pushnil(L);
    }
}

/* test.fixture("events.jsonl"): one event per line, relative to the test
 * file; returns them as a list of tables. */
static int l_fixture(lua_State *L)
{
    struct runner *r = runner(L);
    const char *name = luaL_checkstring(L, 1);
    char dir[4096], path[8192];
    snprintf(dir, sizeof(dir), "%s", r->file);
    snprintf(path, sizeof(path), "%s/%s", name[0] == '/' ? "" : dirname(dir), name);
    FILE *fp = fopen(name[0] == '/' ? name : path, "re");
    if (!fp)
        return luaL_error(L, "test.fixture: cannot open %s: %s", path, strerror(errno));
    lua_newtable(L);
    char *line = NULL;
    size_t cap = 0;
    int n = 0, lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        json_error_t err;
        json_t *j = json_loadb(line, (size_t)len, 0, &err);
        if (!j || !json_is_object(j)) {
            json_decref(j);
            free(line);
            fclose(fp);
            return luaL_error(L, "%s:%d: not a JSON object: %s", name, lineno,
                              j ? "other type" : err.text);
        }
        push_json(L, j, 0);
        json_decref(j);
        lua_rawseti(L, -2, ++n);
    }
    free(line);
    fclose(fp);
    return 1;
}

/* Helpers that are plain Lua. */
static const char prelude[] =
    "local test = ...\n"
    "function test.expect(cond, msg)\n"
    "  if not cond then error(msg or 'expectation failed', 2) end\n"
    "  return cond\n"
    "end\n"
    "function test.eq(actual, expected, what)\n"
    "  if actual ~= expected then\n"
    "    error(string.format('%s: expected %s, got %s', what or 'value', tostring(expected),\n"
    "                        tostring(actual)), 2)\n"
    "  end\n"
    "end\n"
    "local function matches(e, type, fields)\n"
    "  if e.type ~= type then return false end\n"
    "  for k, v in pairs(fields or {}) do if e[k] ~= v then return false end end\n"
    "  return true\n"
    "end\n"
    "function test.find(res, type, fields)\n"
    "  for _, e in ipairs(res.events) do\n"
    "    if matches(e, type, fields) then return e end\n"
    "  end\n"
    "  return nil\n"
    "end\n"
    "function test.count(res, type, fields)\n"
    "  local n = 0\n"
    "  for _, e in ipairs(res.events) do\n"
    "    if matches(e, type, fields) then n = n + 1 end\n"
    "  end\n"
    "  return n\n"
    "end\n";

static int l_setup(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"case", l_case},   {"mode", l_mode},       {"feed", l_feed}, {"allowed", l_allowed},
        {"rules", l_rules}, {"fixture", l_fixture}, {NULL, NULL},
    };
    lua_newtable(L);
    vg_sandbox_open_libs(L, 1);
    luaL_newmetatable(L, HOLDER_MT);
    lua_pushcfunction(L, l_holder_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, fns);
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "test");
    if (vg_sandbox_load(L, prelude, sizeof(prelude) - 1, "=prelude") != LUA_OK)
        return lua_error(L);
    lua_insert(L, -2);
    lua_call(L, 1, 0);
    return 0;
}

/* ---- files ---- */

static int run_file(struct runner *r, const char *path)
{
    lua_State *L = NULL;
    if (vg_sandbox_new("the test", TEST_MEM, TEST_INSN, &L) < 0)
        return -ENOMEM;
    vg_sandbox_of(L)->user = r;
    r->file = path;
    lua_pushcfunction(L, l_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        vg_sandbox_close(L);
        return -ENOMEM;
    }
    lua_pushcfunction(L, l_msgh);
    r->err_line = 0;
    r->err_file[0] = '\0';
    /* Mode "t", as for policies; the chunk is named "@path". */
    int status = luaL_loadfilex(L, path, "t");
    if (status == LUA_OK)
        status = lua_pcall(L, 0, 0, 1);
    if (status != LUA_OK)
        fail(r, L, NULL);
    vg_harness_free(r->h); /* after an error inside a case's own pcall: none */
    r->h = NULL;
    vg_sandbox_close(L);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_test(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 9 && strcmp(d->d_name + n - 9, "_test.lua") == 0;
}

int vg_policy_test_main(char **dirs, const vg_policy_decl_desc *decls, size_t ndecls)
{
    struct runner r = {.dirs = dirs, .decls = decls, .ndecls = ndecls};
    int files = 0;
    for (size_t i = 0; dirs[i]; i++) {
        struct dirent **names;
        int n = scandir(dirs[i], &names, is_test, by_name);
        if (n < 0) {
            if (errno != ENOENT)
                printf("%s: cannot read: %s\n", dirs[i], strerror(errno));
            r.failed += errno != ENOENT;
            continue;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dirs[i], names[k]->d_name);
            if (run_file(&r, path) < 0) {
                printf("%s: out of memory\n", path);
                r.failed++;
            }
            files++;
            free(names[k]);
        }
        free(names);
    }
    if (files == 0)
        printf("no *_test.lua files found\n");
    printf("%d passed, %d failed\n", r.passed, r.failed);
    return r.failed || files == 0 ? 1 : 0;
}
