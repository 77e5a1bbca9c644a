/*
 * The names of the `vigil` table beyond its functions (docs/policy.md):
 *
 * - constants for verdicts and modes, vigil.ALLOW == "allow", ...
 *   vigil.PROTECT == "protect", so that `return vigil.DENY` decides exactly
 *   as `return "deny"` does;
 * - strictness: reading a field that does not exist (vigil.DENNY,
 *   vigil.alow) is an error naming the file and line, at load for the top
 *   level of a file, at the first event for a handler, rather than a nil
 *   that a handler returns as "no opinion";
 * - the same check at load for the code of each file (handlers included):
 *   after a file has run, every "vigil.<name>" of its code (comments and
 *   strings skipped) must be a field of vigil, or is a load error with its
 *   line; so a typo in a handler fails `vigil-policy check` and a reload,
 *   not the first event;
 * - old names of renamed functions: vigil.deny published a violation but
 *   did not deny, and is now vigil.report_deny. The old name still works;
 *   a file that mentions it is reported once per load, with its line.
 */
#include <errno.h>
#include <lauxlib.h>
#include <string.h>

#include "log.h"
#include "policy_int.h"

/* vigil.<name> = the verdict's (or the mode's) text. LEARN is both, with
 * the same text. */
static const struct {
    const char *name;
    bool mode;
    int value;
} constants[] = {
    {"ALLOW", false, VG_VERDICT_ALLOW}, {"LEARN", false, VG_VERDICT_LEARN},
    {"ALERT", false, VG_VERDICT_ALERT}, {"DENY", false, VG_VERDICT_DENY},
    {"MONITOR", true, VG_MODE_MONITOR}, {"PROTECT", true, VG_MODE_PROTECT},
};

/* Renamed functions: what a policy may still call them, and why. */
static const struct {
    const char *old, *now, *why;
} renamed[] = {
    {"deny", "report_deny",
     "it publishes a violation and does not deny (return vigil.DENY to deny)"},
};
#define NRENAMED (sizeof(renamed) / sizeof(renamed[0]))

#define UPPER_HINT                                                                                 \
    " (verdicts: vigil.ALLOW, LEARN, ALERT, DENY; modes: vigil.LEARN, MONITOR, PROTECT)"
#define LOWER_HINT " (docs/policy.md lists the vigil module)"

/* Per Lua state: which old names were reported (a list of booleans). */
static const char reported_key;
/* Per Lua state: the table behind `vigil` (which files see through a
 * read-only proxy, policy.c), for the load check's raw lookups. */
static const char vigil_key;

static bool report_once(lua_State *L, size_t i)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &reported_key);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return false;
    }
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    bool first = !lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (first) {
        lua_pushboolean(L, 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pop(L, 1);
    return first;
}

static void say_renamed(const char *file, int line, size_t i)
{
    vg_warn("policy %s:%d: vigil.%s is now vigil.%s: %s; the old name will go", file, line,
            renamed[i].old, renamed[i].now, renamed[i].why);
}

/* __index of `vigil`: old names resolve to the new function, any other
 * missing field is an error at the caller's line. */
static int l_index(lua_State *L)
{
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    for (size_t i = 0; key && i < NRENAMED; i++) {
        if (strcmp(key, renamed[i].old) != 0)
            continue;
        /* The first frame with a line is the policy's (reads come through
         * the read-only proxy's C function). */
        lua_Debug ar;
        bool first = report_once(L, i);
        for (int level = 1; first && lua_getstack(L, level, &ar); level++)
            if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
                say_renamed(ar.source[0] == '@' ? ar.source + 1 : ar.short_src, ar.currentline, i);
                break;
            }
        lua_getfield(L, 1, renamed[i].now);
        return 1;
    }
    if (!key)
        return luaL_error(L, "vigil has no field of type %s", luaL_typename(L, 2));
    bool upper = *key >= 'A' && *key <= 'Z';
    return luaL_error(L, "vigil.%s does not exist%s", key, upper ? UPPER_HINT : LOWER_HINT);
}

void vg__policy_names_open(lua_State *L, int vigil)
{
    vigil = lua_absindex(L, vigil);
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        int v = constants[i].value;
        lua_pushstring(L, constants[i].mode ? vg_mode_name(v) : vg_verdict_name(v));
        lua_setfield(L, vigil, constants[i].name);
    }
    lua_createtable(L, (int)NRENAMED, 0);
    for (size_t i = 0; i < NRENAMED; i++) {
        lua_pushboolean(L, 0);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &reported_key);
    lua_pushvalue(L, vigil);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &vigil_key);
    lua_newtable(L);
    lua_pushcfunction(L, l_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, vigil);
}

static bool is_name_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ---- finding vigil.<name> in a file's code ---- */

/* A cursor over a file's text that steps over comments and strings, so
 * that only code is searched. */
struct lex {
    const char *s;
    size_t len, at;
    int line;
};

/* Steps past the next `end` (n bytes, no newline in it), counting lines. */
static void skip_to(struct lex *x, const char *end, size_t n)
{
    while (x->at < x->len && (x->len - x->at < n || memcmp(x->s + x->at, end, n))) {
        x->line += x->s[x->at] == '\n';
        x->at++;
    }
    x->at = x->at + n <= x->len ? x->at + n : x->len;
}

/* At "[[" or "[==[": steps over the long bracket; false when not one. */
static bool skip_long(struct lex *x)
{
    size_t eq = 0;
    while (x->at + 1 + eq < x->len && x->s[x->at + 1 + eq] == '=')
        eq++;
    if (eq > 16 || x->at + 1 + eq >= x->len || x->s[x->at + 1 + eq] != '[')
        return false;
    char end[20] = "]";
    memset(end + 1, '=', eq);
    end[eq + 1] = ']';
    x->at += eq + 2;
    skip_to(x, end, eq + 2);
    return true;
}

static void skip_quoted(struct lex *x, char q)
{
    for (x->at++; x->at < x->len && x->s[x->at] != q && x->s[x->at] != '\n'; x->at++)
        if (x->s[x->at] == '\\' && x->at + 1 < x->len) {
            x->at++;
            x->line += x->s[x->at] == '\n';
        }
    x->at++;
}

/* Steps to the next "vigil.<name>" of the code; false at the end. */
static bool next_mention(struct lex *x, const char **name, size_t *n)
{
    while (x->at < x->len) {
        char c = x->s[x->at];
        if (c == '\n') {
            x->line++, x->at++;
        } else if (c == '-' && x->at + 1 < x->len && x->s[x->at + 1] == '-') {
            x->at += 2;
            if (x->at >= x->len || x->s[x->at] != '[' || !skip_long(x))
                while (x->at < x->len && x->s[x->at] != '\n')
                    x->at++;
        } else if (c == '"' || c == '\'') {
            skip_quoted(x, c);
        } else if (c == '[' && skip_long(x)) {
            continue;
        } else if (is_name_char(c) || c == '.') {
            size_t start = x->at;
            while (x->at < x->len && (is_name_char(x->s[x->at]) || x->s[x->at] == '.'))
                x->at++;
            /* "vigil.name" at the start of a dotted name, not "t.vigil.name" */
            if (x->at - start > 6 && !memcmp(x->s + start, "vigil.", 6) &&
                is_name_char(x->s[start + 6]) && (start == 0 || x->s[start - 1] != ':')) {
                *name = x->s + start + 6;
                *n = strcspn(*name, ".");
                if (*n > x->at - start - 6)
                    *n = x->at - start - 6;
                return true;
            }
        } else {
            x->at++;
        }
    }
    return false;
}

struct check {
    const char *path, *text;
    size_t len;
    vg_diag *diag;
    int bad;
};

/* Under lua_pcall: (check). */
static int l_check(lua_State *L)
{
    struct check *c = lua_touserdata(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &vigil_key);
    int vigil = lua_gettop(L);
    struct lex x = {.s = c->text, .len = c->len, .line = 1};
    const char *name;
    size_t n;
    while (next_mention(&x, &name, &n)) {
        lua_pushlstring(L, name, n);
        const char *key = lua_tostring(L, -1);
        size_t old = NRENAMED;
        for (size_t i = 0; i < NRENAMED; i++)
            if (!strcmp(key, renamed[i].old))
                old = i;
        if (old < NRENAMED) {
            if (report_once(L, old))
                say_renamed(c->path, x.line, old);
        } else if (lua_rawget(L, vigil) == LUA_TNIL) {
            bool upper = *name >= 'A' && *name <= 'Z';
            vg_diag_add(c->diag, "%s:%d: vigil.%.*s does not exist%s", c->path, x.line, (int)n,
                        name, upper ? UPPER_HINT : LOWER_HINT);
            c->bad++;
        }
        lua_settop(L, vigil);
    }
    return 0;
}

int vg__policy_names_check(lua_State *L, const char *path, const char *text, size_t len,
                           vg_diag *diag)
{
    struct check c = {.path = path, .text = text, .len = len, .diag = diag};
    lua_pushcfunction(L, l_check);
    lua_pushlightuserdata(L, &c);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lua_pop(L, 1);
        vg_diag_add(diag, "%s: out of memory while checking the names of vigil", path);
        return -ENOMEM;
    }
    return c.bad ? -EINVAL : 0;
}
