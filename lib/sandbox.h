/*
 * A sandboxed Lua 5.4 state, shared by the configuration loader and the
 * policy engine (after Suricata's util-lua-sandbox.c):
 *
 *  - an allocator that refuses to grow past a memory cap (sticky flag, so
 *    that a pcall() in the script cannot hide the failure);
 *  - an instruction budget counted by a count hook; once it runs out every
 *    further instruction raises the same error, so a pcall() cannot catch it
 *    and carry on;
 *  - an allow-list of the standard library: the pure parts of base, string
 *    (without dump), table, math and utf8; no io, os, require, load, dofile,
 *    debug, coroutine or collectgarbage;
 *  - setmetatable() without __gc (a finalizer would run script code outside
 *    any budget), xpcall() whose handler is skipped once the budget ran out,
 *    and the library functions that loop in C (string.rep/find/match/gmatch/
 *    gsub, table.move/insert/remove, and every one whose work grows with
 *    its input: string.byte/char/format/lower/upper/reverse/sub, utf8.*,
 *    table.concat/unpack/sort) charged to the budget before they run;
 *  - optionally a time limit per budget (CPU time of the running thread),
 *    checked by the same hook and before each charged call: since no
 *    single charged call may cost more than the budget left, a run ends
 *    within the limit plus one such call.
 *
 * The state and its vg_sandbox belong to whoever called vg_sandbox_new() and
 * are freed together by vg_sandbox_close(). One thread at a time.
 */
#ifndef VG_SANDBOX_H
#define VG_SANDBOX_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The sandbox's bookkeeping: the allocator's user data, readable (and the
 * flags clearable through vg_sandbox_reset) by the owner. */
typedef struct vg_sandbox {
    size_t used;          /* bytes allocated by the state now */
    size_t mem_max;       /* the cap */
    long insns;           /* instructions charged in the current budget */
    long insn_max;        /* the current budget */
    bool over_memory;     /* an allocation was refused since the last reset */
    bool over_budget;     /* the budget ran out since the last reset */
    int budget_line;      /* where it ran out */
    bool timed_out;       /* the time limit passed (over_budget is set too) */
    unsigned time_max_ms; /* CPU time limit per budget; 0 none */
    uint64_t deadline_ns; /* CLOCK_THREAD_CPUTIME_ID; 0 none */
    bool deadline_due;    /* the deadline is set at the first look */
    char what[40];        /* the subject of messages: "the configuration" */
    void *user;           /* the owner's pointer, for its Lua-callable functions */
} vg_sandbox;

/* Creates a state with the allocator and the hook in place but no library
 * opened yet. `what` names the script kind in error messages ("the
 * configuration", "the policy"). 0 or -ENOMEM. */
int vg_sandbox_new(const char *what, size_t mem_max, long insn_max, lua_State **out);

/* Closes the state and frees its vg_sandbox. NULL is ignored. */
void vg_sandbox_close(lua_State *L);

vg_sandbox *vg_sandbox_of(lua_State *L);

/* Copies the allowed library functions into the table at index `lib`, makes
 * that table the state's globals, and drops package.loaded, so that nothing
 * outside the allow-list stays reachable. May raise memory errors: call it
 * under lua_pcall. */
void vg_sandbox_open_libs(lua_State *L, int lib);

/* Starts a new budget of insn_max instructions (and of the time limit, if
 * one is set) and clears the flags (before each policy handler call). */
void vg_sandbox_reset(lua_State *L, long insn_max);

/* Sets the time limit (CPU time of the calling thread) of each budget (0:
 * none) and starts it now. */
void vg_sandbox_set_time_limit(lua_State *L, unsigned ms);

/* Loads `len` bytes of Lua text (never bytecode) named `chunkname`
 * ("@path" for files), as luaL_loadbufferx with mode "t". */
int vg_sandbox_load(lua_State *L, const char *buf, size_t len, const char *chunkname);

#endif
