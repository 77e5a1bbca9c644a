/* Rules to and from Lua policy text; see rules_io.h. */
#include "rules_io.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"

/* An import is a list of tables, not a program: these bounds leave a
 * hundred thousand rules room and stop a runaway loop in a fraction of a
 * second. */
#define IMPORT_MEM_MAX (256u << 20)
#define IMPORT_INSN_MAX 50000000L
#define IMPORT_RULES_MAX 1000000

/* ---- export ------------------------------------------------------------- */

static void put(msgpack_sbuffer *sb, const char *s)
{
    msgpack_sbuffer_write(sb, s, strlen(s));
}

/* A Lua string literal: quotes, backslashes and control bytes escaped (as
 * \ddd, which Lua reads whatever follows); other bytes as they are. */
static void put_lua_str(msgpack_sbuffer *sb, const char *s)
{
    put(sb, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            esc[2] = '\0';
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\%03u", *p);
        } else {
            esc[0] = (char)*p;
            esc[1] = '\0';
        }
        put(sb, esc);
    }
    put(sb, "\"");
}

static void put_kv(msgpack_sbuffer *sb, const char *key, const char *val, bool first)
{
    put(sb, first ? " " : ", ");
    put(sb, key);
    put(sb, " = ");
    put_lua_str(sb, val);
}

static void fmt_utc(int64_t ns, char buf[32])
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A page of the export: the rules from `skip` on, until max bytes. */
typedef struct page {
    msgpack_sbuffer *sb;
    size_t skip, max, written;
    const vg_rule_filter *filter;
} page;

static int export_one(const vg_rule *rule, void *arg)
{
    page *pg = arg;
    if (!vg_rule_filter_match(pg->filter, rule))
        return 0;
    if (pg->skip) {
        pg->skip--;
        return 0;
    }
    if (pg->sb->size >= pg->max)
        return 1;
    pg->written++;
    msgpack_sbuffer *sb = pg->sb;
    put(sb, "vigil.rule{");
    put_kv(sb, "group", rule->group, true);
    put_kv(sb, "plane", vg_plane_name(rule->plane), false);
    const char *const *names = vg_rule_field_names(rule->plane);
    for (int i = 0; names[i]; i++)
        put_kv(sb, names[i], rule->fields[i][0] ? rule->fields[i] : "*", false);
    put_kv(sb, "action", vg_rule_action_name(rule->action), false);
    if (rule->comment[0])
        put_kv(sb, "comment", rule->comment, false);
    /* How and when it came to be, for the reviewer; not part of the rule. */
    char when[32];
    fmt_utc(rule->created_ns, when);
    put(sb, " } -- ");
    put(sb, vg_rule_origin_name(rule->origin));
    put(sb, " ");
    put(sb, when);
    put(sb, "\n");
    return 0;
}

static int count_one(const vg_rule *rule, void *arg)
{
    page *pg = arg;
    pg->written += vg_rule_filter_match(pg->filter, rule);
    return 0;
}

int vg_rules_export(vg_rules *r, const char *group, int64_t now_ns, size_t offset, size_t max_bytes,
                    msgpack_sbuffer *out, size_t *written)
{
    return vg_rules_export_filtered(r, group, NULL, now_ns, offset, max_bytes, out, written);
}

int vg_rules_export_filtered(vg_rules *r, const char *group, const vg_rule_filter *filter,
                             int64_t now_ns, size_t offset, size_t max_bytes, msgpack_sbuffer *out,
                             size_t *written)
{
    page pg = {.sb = out,
               .skip = offset,
               .max = max_bytes ? out->size + max_bytes : SIZE_MAX,
               .filter = filter};
    *written = 0;
    if (offset) {
        int rc = vg_rules_each(r, group, -1, export_one, &pg);
        *written = pg.written;
        return rc;
    }
    page counted = {.filter = filter};
    int rc = vg_rules_each(r, group, -1, count_one, &counted);
    size_t n = counted.written;
    if (rc < 0)
        return rc;
    char when[32], line[512], which[32] = "";
    fmt_utc(now_ns, when);
    if (filter && filter->origin >= 0)
        snprintf(which, sizeof(which), "%s ", vg_rule_origin_name(filter->origin));
    snprintf(line, sizeof(line),
             "-- vigil rules, exported %s: %zu %srule%s of %s%s%s.\n"
             "-- Keep it in git, load it with `vigilctl rules import FILE`, or put it in a\n"
             "-- policy directory. The comment after each rule says how it came to be.\n\n",
             when, n, which, n == 1 ? "" : "s", group ? "group \"" : "every group",
             group ? group : "", group ? "\"" : "");
    put(out, line);
    rc = vg_rules_each(r, group, -1, export_one, &pg);
    *written = pg.written;
    return rc;
}

/* ---- import ------------------------------------------------------------- */

typedef struct import_ctx {
    vg_rule *v;
    size_t n, cap;
    int origin;
    int64_t created_ns;
} import_ctx;

/* t[key] as a string into buf: numbers are accepted for ports. Raises
 * a Lua error naming the key on anything else. */
static void field_str(lua_State *L, const char *key, char *buf, size_t size)
{
    int t = lua_type(L, -1);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        luaL_error(L, "vigil.rule: '%s' must be a string, not a %s", key, lua_typename(L, t));
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len >= size)
        luaL_error(L, "vigil.rule: '%s' is longer than %d bytes", key, (int)size - 1);
    if (memchr(s, '\0', len) || memchr(s, '\x1f', len))
        luaL_error(L, "vigil.rule: '%s' contains a NUL or \\x1f byte", key);
    memcpy(buf, s, len + 1);
}

/* Reads the table at index 1 into rule; raises on a problem. */
static void read_rule(lua_State *L, vg_rule *rule)
{
    char plane[8] = "", action[8] = "allow";
    lua_getfield(L, 1, "plane");
    if (lua_isnil(L, -1))
        luaL_error(L, "vigil.rule: 'plane' is missing (proc, file or net)");
    field_str(L, "plane", plane, sizeof(plane));
    rule->plane = vg_plane_parse(plane);
    if (rule->plane < 0)
        luaL_error(L, "vigil.rule: plane '%s' is not proc, file or net", plane);
    lua_pop(L, 1);
    const char *const *names = vg_rule_field_names(rule->plane);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "vigil.rule: keys must be names");
        const char *k = lua_tostring(L, -2);
        int f = -1;
        for (int i = 0; names[i]; i++)
            if (strcmp(names[i], k) == 0)
                f = i;
        if (f >= 0)
            field_str(L, k, rule->fields[f], VG_RULE_FIELD_MAX);
        else if (strcmp(k, "group") == 0)
            field_str(L, k, rule->group, sizeof(rule->group));
        else if (strcmp(k, "action") == 0)
            field_str(L, k, action, sizeof(action));
        else if (strcmp(k, "comment") == 0)
            field_str(L, k, rule->comment, sizeof(rule->comment));
        else if (strcmp(k, "plane") != 0)
            luaL_error(L, "vigil.rule: unknown key '%s' for a %s rule", k, plane);
        lua_pop(L, 1);
    }
    if (!rule->group[0])
        luaL_error(L, "vigil.rule: 'group' is missing");
    if (strcmp(action, "allow") == 0)
        rule->action = VG_RULE_ALLOW;
    else if (strcmp(action, "deny") == 0)
        rule->action = VG_RULE_DENY;
    else
        luaL_error(L, "vigil.rule: action '%s' is not allow or deny", action);
    for (int i = 0; names[i]; i++)
        if (!rule->fields[i][0])
            strcpy(rule->fields[i], "*");
}

static int l_rule(lua_State *L)
{
    import_ctx *ctx = vg_sandbox_of(L)->user;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (ctx->n == ctx->cap) {
        if (ctx->cap >= IMPORT_RULES_MAX)
            luaL_error(L, "vigil.rule: more than %d rules", IMPORT_RULES_MAX);
        size_t cap = ctx->cap ? ctx->cap * 2 : 64;
        vg_rule *v = realloc(ctx->v, cap * sizeof(*v));
        if (!v)
            luaL_error(L, "out of memory");
        ctx->v = v;
        ctx->cap = cap;
    }
    vg_rule *rule = &ctx->v[ctx->n];
    memset(rule, 0, sizeof(*rule));
    read_rule(L, rule);
    rule->origin = ctx->origin;
    rule->created_ns = ctx->created_ns;
    ctx->n++;
    return 0;
}

/* The globals: the sandbox's allowed library plus vigil = {rule = ...}. */
static int l_setup(lua_State *L)
{
    lua_newtable(L);
    vg_sandbox_open_libs(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, l_rule);
    lua_setfield(L, -2, "rule");
    lua_setfield(L, 1, "vigil");
    return 0;
}

int vg_rules_parse_lua(const char *text, size_t len, const char *name, int origin,
                       int64_t created_ns, vg_rule **rules, size_t *n, char *err, size_t errlen)
{
    lua_State *L;
    if (vg_sandbox_new("the import", IMPORT_MEM_MAX, IMPORT_INSN_MAX, &L) < 0)
        return -ENOMEM;
    import_ctx ctx = {.origin = origin, .created_ns = created_ns};
    vg_sandbox_of(L)->user = &ctx;
    char chunk[512];
    snprintf(chunk, sizeof(chunk), "@%s", name);
    int rc = -EINVAL;
    lua_pushcfunction(L, l_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "%s: cannot set up the sandbox", name);
        rc = -ENOMEM;
    } else if (vg_sandbox_load(L, text, len, chunk) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errlen, "%s", m ? m : "error");
    } else {
        rc = 0;
    }
    vg_sandbox_close(L);
    if (rc < 0) {
        free(ctx.v);
        return rc;
    }
    *rules = ctx.v;
    *n = ctx.n;
    return 0;
}
