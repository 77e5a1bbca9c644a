/*
 * The Lua sandbox shared by the configuration and the policy engine; see
 * sandbox.h. Moved here from config.c, whose tests still exercise every
 * limit through the configuration loader.
 */
#include "sandbox.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* The hook runs every INSN_STEP instructions: often enough to stop a loop
 * within a few microseconds, rarely enough to cost nothing measurable. */
#define INSN_STEP 1000

vg_sandbox *vg_sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    vg_sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > sb->mem_max - sb->used) {
        sb->over_memory = true;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        sb->used = sb->used - old + nsize;
    return p;
}

static void sandbox_hook(lua_State *L, lua_Debug *ar);

/* The time limit counts the CPU time of the thread running the script, not
 * the wall clock: on a host loaded by others, a script that does little
 * must not be cut off for waiting its turn, and the loop it holds is held
 * for about as long as it computes. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The deadline is set at the first look at the clock, not by
 * vg_sandbox_reset: the thread's CPU clock is a system call (no vDSO), and
 * most calls (a policy's decision per event) end before the first hook.
 * What ran before that look (at most INSN_STEP instructions) is not
 * counted. */
static bool past_deadline(vg_sandbox *sb)
{
    if (sb->deadline_due) {
        sb->deadline_due = false;
        sb->deadline_ns = now_ns() + sb->time_max_ms * 1000000u;
        return false;
    }
    return sb->deadline_ns && now_ns() > sb->deadline_ns;
}

/* The hook asks the clock (a system call) on every 8th step only. */
#define TIME_CHECK_STEPS 8

/* Stops the file at `line`: from now on every instruction raises this
 * error, so that a pcall() in the file cannot catch it and carry on. Later
 * errors repeat the first line, which is the one that looped. */
static int out_of_budget(lua_State *L, const char *src, int line)
{
    vg_sandbox *sb = vg_sandbox_of(L);
    if (!sb->over_budget) {
        sb->over_budget = true;
        sb->budget_line = line;
        lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, 1);
    }
    if (sb->timed_out)
        lua_pushfstring(L, "%s:%d: %s ran for more than %I ms (endless loop?)", src,
                        sb->budget_line, sb->what, (lua_Integer)sb->time_max_ms);
    else
        lua_pushfstring(L, "%s:%d: %s ran for more than %I instructions (endless loop?)", src,
                        sb->budget_line, sb->what, (lua_Integer)sb->insn_max);
    return lua_error(L);
}

static void sandbox_hook(lua_State *L, lua_Debug *ar)
{
    vg_sandbox *sb = vg_sandbox_of(L);
    sb->insns += INSN_STEP;
    if (!sb->over_budget && (sb->deadline_due || (sb->insns / INSN_STEP) % TIME_CHECK_STEPS == 0) &&
        past_deadline(sb))
        sb->timed_out = true;
    else if (sb->insns <= sb->insn_max && !sb->timed_out)
        return;
    /* A hook runs without a frame of its own: ar is the looping function. */
    lua_getinfo(L, "Sl", ar);
    out_of_budget(L, ar->short_src, ar->currentline);
}

static int sandbox_panic(lua_State *L)
{
    vg_err("%s: unprotected Lua error: %s", vg_sandbox_of(L)->what, lua_tostring(L, -1));
    abort();
}

/* The base library's setmetatable(), minus __gc: a finalizer would run file
 * code at any later allocation, long after the instruction budget was meant
 * to apply. Written out rather than wrapped, so that its errors carry the
 * caller's line. */
static int l_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed in %s", vg_sandbox_of(L)->what);
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* xpcall()'s message handler runs inside the failing call. When the error
 * came from the instruction hook, Lua still has hooks off at that point, so
 * a handler from the file would run unbudgeted: it is skipped then. */
static int l_msgh(lua_State *L)
{
    if (vg_sandbox_of(L)->over_budget)
        return 1; /* the error object, unchanged */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* The base library's xpcall(), with the handler wrapped in l_msgh. */
static int l_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, l_msgh, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1); /* first result when all goes well */
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2); /* true and the function below the arguments */
    if (lua_pcall(L, n - 2, LUA_MULTRET, 2) != LUA_OK) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - 2;
}

/* ---- library functions that loop in C, where the hook cannot see ---- */

/* Charges `cost` steps of C work to the instruction budget before the work
 * is done. Work that would not fit is refused with an ordinary error: it
 * has not started, so the file may catch that and go on. */
/* The refusal names the function as lib then name ("string." "find"): the
 * name is only put together when there is an error to raise, since every
 * string.find of a policy comes here. */
static void charge(lua_State *L, double cost, const char *lib, const char *name, size_t n,
                   const char *unit)
{
    vg_sandbox *sb = vg_sandbox_of(L);
    long left = sb->insn_max - sb->insns;
    /* A deadline not set yet is not looked at here: the hook sets it
     * within INSN_STEP instructions of the library call's caller. */
    if (cost < (double)left && (sb->deadline_due || !past_deadline(sb))) {
        sb->insns += (long)cost;
        return;
    }
    /* A refusal costs far more than an instruction (an error is raised); a
     * loop of them must still end. */
    sb->insns += INSN_STEP;
    char msg[192]; /* lua_pushfstring knows no %g */
    snprintf(msg, sizeof(msg),
             "%s%s on %zu %s may take up to %.3g steps, more than the %ld instructions left", lib,
             name, n, unit, cost, left > 0 ? left : 0);
    luaL_error(L, "%s", msg);
}

/* A bound of the steps a Lua pattern may take on n characters: matching is
 * tried at each position, and each repetition (*, + or -), %b or back
 * reference may scan the rest again. */
static double pattern_cost(const char *p, size_t plen, size_t n)
{
    double cost = (double)n + 1;
    for (size_t i = 0; i < plen; i++) {
        if (p[i] == '%' && i + 1 < plen) {
            i++;
            cost *= p[i] == 'b' || (p[i] >= '1' && p[i] <= '9') ? (double)n + 1 : 1;
        } else if (p[i] == '[') {
            /* Skips the set, as lstrlib.c does: its first item may be ']'. */
            i += i + 1 < plen && p[i + 1] == '^' ? 2 : 1;
            do
                i += i < plen && p[i] == '%' ? 2 : 1;
            while (i < plen && p[i] != ']');
        } else if (p[i] == '*' || p[i] == '+' || p[i] == '-') {
            cost *= (double)n + 1;
        }
    }
    return cost;
}

/* table.insert(t, pos, v) and table.remove(t, pos) shift the elements
 * above pos, up to #t. A __len metamethod could claim 1e15 (or one value
 * when asked here and another when the original asks), so it is refused. */
static void charge_shift(lua_State *L, const char *which)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (luaL_getmetafield(L, 1, "__len") != LUA_TNIL)
        luaL_error(L, "table.%s on a table with __len is not allowed in %s", which,
                   vg_sandbox_of(L)->what);
    lua_Integer e = (lua_Integer)lua_rawlen(L, 1);
    bool insert = strcmp(which, "insert") == 0;
    lua_Integer pos = insert && lua_gettop(L) == 3 ? luaL_checkinteger(L, 2)
                      : insert                     ? e + 1
                                                   : luaL_optinteger(L, 2, e);
    double n = pos <= e ? (double)e - (double)pos + 1 : 1;
    charge(L, n, "table.", which, (size_t)n, "elements");
}

/* #t of a table argument, refusing a __len metamethod (it could claim one
 * length here and another when the original asks). */
static double table_len(lua_State *L, int idx, const char *which)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    if (luaL_getmetafield(L, idx, "__len") != LUA_TNIL)
        luaL_error(L, "table.%s on a table with __len is not allowed in %s", which,
                   vg_sandbox_of(L)->what);
    return (double)lua_rawlen(L, idx);
}

/* Functions whose C work grows with the length of their input: string
 * copies and conversions (a 30 MiB string passed to utf8.len 300 times
 * held a loop for 18 s at one instruction per call), table.concat,
 * table.unpack and table.sort. Charged one step per character or element
 * (n log n comparisons for sort), so that the instruction budget bounds
 * them as it bounds the file's own loops. Returns false when `which` is
 * not one of them. */
static bool charge_linear(lua_State *L, const char *which)
{
    if (strcmp(which, "table.sort") == 0) {
        double n = table_len(L, 1, "sort");
        double cost = n < 2 ? n : n * (log2(n) + 1);
        charge(L, cost, "", which, (size_t)n, "elements");
    } else if (strcmp(which, "table.concat") == 0) {
        double n = table_len(L, 1, "concat");
        charge(L, n, "", which, (size_t)n, "elements");
    } else if (strcmp(which, "table.unpack") == 0) {
        double n = table_len(L, 1, "unpack");
        lua_Integer i = luaL_optinteger(L, 2, 1),
                    j = luaL_opt(L, luaL_checkinteger, 3, (lua_Integer)n);
        double c = j >= i ? (double)j - (double)i + 1 : 0;
        charge(L, c, "", which, (size_t)c, "elements");
    } else if (strncmp(which, "string.", 7) == 0 || strncmp(which, "utf8.", 5) == 0) {
        /* Every string argument counts (format's too); char() counts its
         * arguments. */
        double chars = 0;
        for (int i = 1; i <= lua_gettop(L); i++)
            if (lua_type(L, i) == LUA_TSTRING)
                chars += (double)lua_rawlen(L, i);
        charge(L, chars + lua_gettop(L), "", which, (size_t)chars, "characters");
    } else {
        return false;
    }
    return true;
}

/* Checks the arguments here, where an error names the caller's line (the
 * original's would not: its caller is l_charged, a C function), then charges
 * the work. */
static void check_and_charge(lua_State *L, const char *which)
{
    size_t len = 0, plen = 0;
    if (charge_linear(L, which))
        return;
    if (strcmp(which, "insert") == 0 || strcmp(which, "remove") == 0) {
        charge_shift(L, which);
        return;
    }
    if (strcmp(which, "move") == 0) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
        luaL_checkinteger(L, 4);
        if (!lua_isnoneornil(L, 5))
            luaL_checktype(L, 5, LUA_TTABLE);
        double n = e >= f ? (double)e - (double)f + 1 : 0;
        charge(L, n, "table.", "move", (size_t)n, "elements");
        return;
    }
    luaL_checklstring(L, 1, &len);
    if (strcmp(which, "rep") == 0) {
        lua_Integer n = luaL_checkinteger(L, 2);
        luaL_optstring(L, 3, "");
        charge(L, (double)n, "string.", "rep", n > 0 ? (size_t)n : 0, "copies");
        return;
    }
    const char *p = luaL_checklstring(L, 2, &plen);
    if (strcmp(which, "gsub") == 0) {
        int t = lua_type(L, 3);
        luaL_argexpected(
            L, t == LUA_TNUMBER || t == LUA_TSTRING || t == LUA_TFUNCTION || t == LUA_TTABLE, 3,
            "string/function/table");
        luaL_optinteger(L, 4, 0);
    } else {
        luaL_optinteger(L, 3, 1);
    }
    bool plain = strcmp(which, "find") == 0 && lua_toboolean(L, 4);
    charge(L, plain ? (double)len + 1 : pattern_cost(p, plen, len), "string.", which, len,
           "characters");
}

/* Wraps the library functions that loop in C (upvalue 1: the original,
 * upvalue 2: its name). string.rep("", 1e15) or table.move of nils allocate
 * nothing, and ("a"):rep(2000):find(".-.-.-b") allocates little, so neither
 * the memory cap nor the hook would stop them. The pattern bound is for the
 * worst case, so a pattern with one repetition is refused from about 3,000
 * characters on; a configuration or policy has no business with such strings. */
static int l_charged(lua_State *L)
{
    check_and_charge(L, lua_tostring(L, lua_upvalueindex(2)));
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Wraps names[] of lib[libname] with l_charged. With `qualified`, the name
 * the charge sees is "libname.name" (the linear ones, charge_linear). */
static void charge_lib(lua_State *L, int lib, const char *libname, const char *const *names,
                       bool qualified)
{
    lua_getfield(L, lib, libname);
    for (size_t i = 0; names[i]; i++) {
        lua_getfield(L, -1, names[i]);
        if (qualified)
            lua_pushfstring(L, "%s.%s", libname, names[i]);
        else
            lua_pushstring(L, names[i]);
        lua_pushcclosure(L, l_charged, 2);
        lua_setfield(L, -2, names[i]);
    }
    lua_pop(L, 1);
}

void vg_sandbox_open_libs(lua_State *L, int lib)
{
    static const char *const base[] = {"assert",   "error",  "ipairs",   "next",     "pairs",
                                       "pcall",    "select", "tonumber", "tostring", "type",
                                       "rawequal", "rawget", "rawlen",   "rawset",   "getmetatable",
                                       "_VERSION", NULL};
    static const luaL_Reg libs[] = {{"string", luaopen_string},
                                    {"table", luaopen_table},
                                    {"math", luaopen_math},
                                    {"utf8", luaopen_utf8},
                                    {NULL, NULL}};
    /* The base library registers itself in the global table; only the
     * functions on the allow-list are copied from there. */
    luaL_requiref(L, "_G", luaopen_base, 0);
    for (size_t i = 0; base[i]; i++) {
        lua_getfield(L, -1, base[i]);
        lua_setfield(L, lib, base[i]);
    }
    lua_pushcfunction(L, l_setmetatable);
    lua_setfield(L, lib, "setmetatable");
    lua_pushcfunction(L, l_xpcall);
    lua_setfield(L, lib, "xpcall");
    lua_pop(L, 1);
    for (const luaL_Reg *r = libs; r->name; r++) {
        luaL_requiref(L, r->name, r->func, 0);
        lua_setfield(L, lib, r->name);
    }
    /* Removed from the library table itself, because strings reach it as
     * their metatable's __index: ("").dump. */
    lua_getfield(L, lib, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    static const char *const str_charged[] = {"rep", "find", "match", "gmatch", "gsub", NULL};
    static const char *const tab_charged[] = {"move", "insert", "remove", NULL};
    static const char *const str_linear[] = {"byte",  "char",    "format", "lower",
                                             "upper", "reverse", "sub",    NULL};
    static const char *const tab_linear[] = {"concat", "unpack", "sort", NULL};
    static const char *const utf8_linear[] = {"len", "codepoint", "char", "offset", NULL};
    charge_lib(L, lib, "string", str_charged, false);
    charge_lib(L, lib, "table", tab_charged, false);
    charge_lib(L, lib, "string", str_linear, true);
    charge_lib(L, lib, "table", tab_linear, true);
    charge_lib(L, lib, "utf8", utf8_linear, true);
    /* The old globals (load, dofile, ...) become unreachable. */
    lua_pushvalue(L, lib);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
}

int vg_sandbox_new(const char *what, size_t mem_max, long insn_max, lua_State **out)
{
    vg_sandbox *sb = calloc(1, sizeof(*sb));
    if (!sb)
        return -ENOMEM;
    sb->mem_max = mem_max;
    sb->insn_max = insn_max;
    snprintf(sb->what, sizeof(sb->what), "%s", what ? what : "the script");
    lua_State *L = lua_newstate(sandbox_alloc, sb);
    if (!L) {
        free(sb);
        return -ENOMEM;
    }
    lua_atpanic(L, sandbox_panic);
    lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, INSN_STEP);
    *out = L;
    return 0;
}

void vg_sandbox_close(lua_State *L)
{
    if (!L)
        return;
    vg_sandbox *sb = vg_sandbox_of(L);
    lua_close(L);
    free(sb);
}

void vg_sandbox_reset(lua_State *L, long insn_max)
{
    vg_sandbox *sb = vg_sandbox_of(L);
    sb->insns = 0;
    sb->insn_max = insn_max;
    sb->over_memory = false;
    sb->timed_out = false;
    sb->deadline_ns = 0;
    sb->deadline_due = sb->time_max_ms != 0;
    /* After running out, the hook fires on every instruction; put back the
     * normal step only then, since lua_sethook also restarts its count. */
    if (sb->over_budget) {
        sb->over_budget = false;
        lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, INSN_STEP);
    }
}

void vg_sandbox_set_time_limit(lua_State *L, unsigned ms)
{
    vg_sandbox *sb = vg_sandbox_of(L);
    sb->time_max_ms = ms;
    sb->deadline_ns = 0;
    sb->deadline_due = ms != 0;
}

int vg_sandbox_load(lua_State *L, const char *buf, size_t len, const char *chunkname)
{
    /* Mode "t": a precompiled chunk could break the VM's invariants. */
    return luaL_loadbufferx(L, buf, len, chunkname, "t");
}
