/*
 * The policy engine: loading the policy files into a sandboxed state,
 * reloading, and running handlers and response rules for each event. See
 * policy.h; what verdicts lead to is in policy_act.c.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mp.h"
#include "policy_files.h"
#include "policy_int.h"
#include "readfile.h"
#include "sandbox.h"

#define MEM_DEFAULT ((size_t)64 << 20)
#define INSN_DEFAULT 1000000L
/* A file's top level may do more than one handler call (build tables, declare
 * many rules), but must still end. */
#define LOAD_INSN_MAX 20000000L
/* Time limits (CPU time) beside the instruction budgets (lib/sandbox.h): what
 * the budget cannot see (a VM instruction that copies a large string)
 * still ends. A handler runs on the loop thread, so its limit is short;
 * docs/policy.md states both. */
#define HANDLER_TIME_MS 1000
#define LOAD_TIME_MS 2000
#define FILE_MAX ((size_t)4 << 20)

static const char *const verdict_names[] = {"allow", "deny", "alert", "learn"};

const char *vg_verdict_name(int v)
{
    return v >= 0 && v < 4 ? verdict_names[v] : "none";
}

int vg_verdict_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, verdict_names[i]) == 0)
            return i;
    return -EINVAL;
}

/* ---- one loaded state ---- */

static void pstate_free(struct vg__pstate *st)
{
    if (!st)
        return;
    for (int t = 0; t < VG_EVENT_TYPES_MAX; t++) {
        for (size_t i = 0; i < st->by_type[t].n; i++)
            free(st->by_type[t].v[i].file);
        free(st->by_type[t].v);
    }
    for (size_t i = 0; i < st->any.n; i++)
        free(st->any.v[i].file);
    free(st->any.v);
    /* Past nresp: zeroes, or what a failed vigil.response{} left. */
    for (size_t i = 0; i < st->capresp; i++)
        vg__response_free(&st->resp[i]);
    free(st->resp);
    for (size_t i = 0; i < st->capexc; i++)
        vg__exception_free(&st->exc[i]);
    free(st->exc);
    free(st->written);
    for (size_t i = 0; i < st->nwatch; i++) {
        for (size_t j = 0; j < st->watch[i].npaths; j++)
            free(st->watch[i].paths[j]);
        free(st->watch[i].paths);
    }
    free(st->watch);
    vg__decls_free(st);
    vg_sandbox_close(st->L);
    free(st);
}

/* Records where an error happened (the first frame with a line: the Lua
 * code that failed or called the failing C function). Messages of memory
 * errors never reach a handler; their callers use the handler's own line. */
static int l_msgh(lua_State *L)
{
    struct vg__pstate *st = vg_sandbox_of(L)->user;
    lua_Debug ar;
    st->err_line = 0;
    st->err_file[0] = '\0';
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(st->err_file, sizeof(st->err_file), "%s",
                     ar.source[0] == '@' ? ar.source + 1 : ar.short_src);
            st->err_line = ar.currentline;
            break;
        }
    }
    return 1;
}

/* Globals of every file: the safe libraries plus `vigil`. Each file gets its
 * own _ENV falling back to these, so that one file's globals do not leak
 * into another's. */
static const char base_key;

/* What every file shares (the libraries, `vigil`, the strings' metatable)
 * is read-only, so that no file can change what another sees or decides:
 * `vigil.allowed = function() return true end` or `string.format = ...` in
 * one file would otherwise hold for all of them. Each library becomes a
 * read-only proxy (lib/luamp.h), and the strings' metatable, reachable
 * with getmetatable(""), is hidden behind __metatable. */
static void lock_shared(lua_State *L, int base)
{
    static const char *const shared[] = {"string", "table", "math", "utf8", "vigil", NULL};
    for (size_t i = 0; shared[i]; i++) {
        const char *msg = lua_pushfstring(L, "%s is read-only", shared[i]);
        lua_getfield(L, base, shared[i]);
        vg_lua_make_readonly(L, msg);
        lua_setfield(L, base, shared[i]);
        lua_pop(L, 1); /* the message */
    }
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
}

static int l_setup(lua_State *L)
{
    lua_newtable(L);
    vg_sandbox_open_libs(L, 1);
    vg__policy_api_open(L);
    lua_setfield(L, 1, "vigil");
    lock_shared(L, 1);
    lua_pushvalue(L, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &base_key);
    lua_newtable(L);
    struct vg__pstate *st = vg_sandbox_of(L)->user;
    st->incidents_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int pstate_new(const vg_policy_opts *o, vg_policy *engine, struct vg__pstate **out)
{
    struct vg__pstate *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    int rc = vg_sandbox_new("the policy", o->mem_max, LOAD_INSN_MAX, &st->L);
    if (rc == 0)
        vg_sandbox_set_time_limit(st->L, LOAD_TIME_MS);
    if (rc < 0) {
        free(st);
        return rc;
    }
    st->engine = engine;
    st->load = o->load;
    vg_sandbox_of(st->L)->user = st;
    lua_pushcfunction(st->L, l_setup);
    if (lua_pcall(st->L, 0, 0, 0) != LUA_OK) {
        pstate_free(st);
        return -ENOMEM;
    }
    *out = st;
    return 0;
}

static int read_all(const char *path, char **buf, size_t *len, vg_diag *diag)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        vg_diag_add(diag, "%s: cannot open: %s", path, strerror(-rc));
        return rc;
    }
    int rc = vg_read_fd(fd, FILE_MAX, buf, len);
    close(fd);
    if (rc < 0)
        vg_diag_add(diag, "%s: cannot read: %s", path, strerror(-rc));
    return rc;
}

/* Removes "<short_src>:<line>: " from the front of msg (the location is
 * reported separately, with the whole path). */
static const char *strip_where(const char *msg, int *line)
{
    const char *p = msg;
    for (int i = 0; i < 2 && p; i++) {
        const char *c = strstr(p, ":");
        if (!c)
            return msg;
        char *end;
        long l = strtol(c + 1, &end, 10);
        if (end != c + 1 && strncmp(end, ": ", 2) == 0) {
            if (line && *line <= 0)
                *line = (int)l;
            return end + 2;
        }
        p = c + 1;
    }
    return msg;
}

static void report_error(lua_State *L, struct vg__pstate *st, const char *path, int status,
                         vg_diag *diag)
{
    vg_sandbox *sb = vg_sandbox_of(L);
    if (status == LUA_ERRMEM || sb->over_memory) {
        vg_diag_add(diag, "%s: the policy needs more than %zu MiB of memory", path,
                    sb->mem_max >> 20);
        return;
    }
    const char *msg =
        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object is not a string)";
    int line = status == LUA_ERRSYNTAX ? 0 : st->err_line;
    const char *file = status == LUA_ERRSYNTAX || !st->err_file[0] ? path : st->err_file;
    msg = strip_where(msg, &line);
    if (line > 0)
        vg_diag_add(diag, "%s:%d: %s", file, line, msg);
    else
        vg_diag_add(diag, "%s: %s", file, msg);
}

static int load_file(struct vg__pstate *st, const char *path, vg_diag *diag)
{
    lua_State *L = st->L;
    char *buf = NULL, *chunk = NULL;
    size_t len = 0;
    int rc = read_all(path, &buf, &len, diag);
    if (rc < 0)
        return rc;
    if (asprintf(&chunk, "@%s", path) < 0) {
        free(buf);
        return -ENOMEM;
    }
    vg_sandbox_reset(L, LOAD_INSN_MAX);
    lua_settop(L, 0);
    lua_pushcfunction(L, l_msgh);
    int status = vg_sandbox_load(L, buf, len, chunk);
    free(chunk);
    if (status == LUA_OK) {
        lua_newtable(L); /* the file's _ENV */
        lua_newtable(L);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &base_key);
        lua_setfield(L, -2, "__index");
        /* getmetatable(_ENV).__index would be the shared globals. */
        lua_pushliteral(L, "read-only");
        lua_setfield(L, -2, "__metatable");
        lua_setmetatable(L, -2);
        lua_setupvalue(L, -2, 1);
        st->err_line = 0;
        status = lua_pcall(L, 0, 0, 1);
    }
    if (status == LUA_OK && (vg_sandbox_of(L)->over_memory || vg_sandbox_of(L)->over_budget))
        status = LUA_ERRRUN; /* a pcall() in the file swallowed it */
    if (status != LUA_OK) {
        report_error(L, st, path, status, diag);
        rc = -EINVAL;
    } else {
        rc = vg__policy_names_check(L, path, buf, len, diag) < 0 ? -EINVAL : 0;
    }
    free(buf);
    lua_settop(L, 0);
    st->files++;
    return rc;
}

/* Policy tests (`vigil-policy test`) may sit next to the policies. */
static bool is_test_file(const char *path)
{
    size_t n = strlen(path);
    return n >= 9 && strcmp(path + n - 9, "_test.lua") == 0;
}

/* A host without policies is unprotected, so a load that finds no policy
 * file is an error unless the config allows it; each directory that does
 * not exist is named (a typo in a path), as a warning when others hold
 * policies (the optional /etc/vigil/policies.d). */
static int check_found(const vg_policy_opts *o, char *const *dirs, char **files, size_t n,
                       vg_diag *diag)
{
    size_t policies = 0;
    for (size_t i = 0; i < n; i++)
        policies += !is_test_file(files[i]);
    for (size_t i = 0; dirs && dirs[i]; i++)
        if (access(dirs[i], F_OK) < 0 && policies)
            vg_warn("policy directory %s does not exist", dirs[i]);
    if (policies || o->load.allow_empty)
        return 0;
    char list[1024] = "";
    size_t off = 0;
    for (size_t i = 0; dirs && dirs[i] && off < sizeof(list); i++)
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s%s", i ? ", " : "", dirs[i],
                                access(dirs[i], F_OK) < 0 ? " (does not exist)" : "");
    vg_diag_add(diag,
                "no policy file in %s: the host would run without policies (set "
                "empty_policies = \"allow\" in the config if that is meant)",
                *list ? list : "no policy directory");
    return -ENOENT;
}

static int load_all(const vg_policy_opts *o, vg_policy *engine, char *const *dirs, vg_diag *diag,
                    struct vg__pstate **out)
{
    char **files = NULL;
    size_t n = 0;
    if (vg_policy_files(dirs, &files, &n, diag) < 0)
        return -EINVAL;
    if (check_found(o, dirs, files, n, diag) < 0) {
        vg_policy_files_free(files, n);
        return -EINVAL;
    }
    struct vg__pstate *st = NULL;
    int rc = pstate_new(o, engine, &st);
    if (rc < 0)
        vg_diag_add(diag, "policy: cannot create the Lua state: %s", strerror(-rc));
    int bad = 0;
    st ? st->loading = true : 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!is_test_file(files[i]))
            bad |= load_file(st, files[i], diag) < 0;
    vg_policy_files_free(files, n);
    if (rc == 0 && bad)
        rc = -EINVAL;
    if (rc < 0) {
        pstate_free(st);
        return rc;
    }
    st->loading = false;
    vg_sandbox_set_time_limit(st->L, HANDLER_TIME_MS);
    vg_sandbox_reset(st->L, o->insn_max);
    lua_gc(st->L, LUA_GCCOLLECT);
    *out = st;
    return 0;
}

/* ---- the engine ---- */

int vg_policy_new(const vg_policy_opts *opts, vg_policy **out)
{
    if (!opts || !out)
        return -EINVAL;
    vg_policy *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->o = *opts;
    if (!p->o.mem_max)
        p->o.mem_max = MEM_DEFAULT;
    if (!p->o.insn_max)
        p->o.insn_max = INSN_DEFAULT;
    p->t_error = vg_event_type_id("policy.error");
    p->t_done = vg_event_type_id("response.done");
    p->t_mode = vg_event_type_id("group.mode");
    p->t_watch = vg_event_type_id("policy.watchlist");
    if (p->t_error < 0 || p->t_done < 0 || p->t_mode < 0 || vg__cache_new(65536, &p->cache) < 0) {
        free(p);
        return -ENOMEM;
    }
    *out = p;
    return 0;
}

void vg_policy_free(vg_policy *p)
{
    if (!p)
        return;
    pstate_free(p->st);
    vg__cache_free(p->cache);
    free(p->last_error);
    free(p);
}

/* Written rules belong to the policy that declared them: they change with
 * it, all at once. */
static void apply_written(vg_policy *p, struct vg__pstate *st)
{
    if (!p->o.rules)
        return;
    vg_rules_clear_written(p->o.rules);
    for (size_t i = 0; i < st->nwritten; i++) {
        int rc = vg_rules_put(p->o.rules, &st->written[i], false);
        if (rc < 0)
            vg_warn("policy: cannot add a written rule of group %s: %s", st->written[i].group,
                    strerror(-rc));
    }
}

/* The watch list belongs to the policy as well: every successful load
 * announces the whole of it (empty too, so that paths a reload removed stop
 * being watched), for the file plugin. */
static void publish_watch(vg_policy *p, const struct vg__pstate *st)
{
    if (!p->o.bus || p->t_watch < 0)
        return;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    vg_mp_pack_cstr(&pk, "watch");
    msgpack_pack_array(&pk, (uint32_t)st->nwatch);
    for (size_t i = 0; i < st->nwatch; i++) {
        const struct vg__watch *w = &st->watch[i];
        msgpack_pack_map(&pk, 2);
        vg_mp_pack_kv_str(&pk, "group", w->group);
        vg_mp_pack_cstr(&pk, "paths");
        msgpack_pack_array(&pk, (uint32_t)w->npaths);
        for (size_t j = 0; j < w->npaths; j++)
            vg_mp_pack_cstr(&pk, w->paths[j]);
    }
    vg_event_in in = {
        .type = p->t_watch, .severity = VG_SEV_INFO, .body = sb.data, .body_len = sb.size};
    int rc = vg_bus_publish(p->o.bus, &in);
    if (rc < 0)
        vg_warn("policy: cannot announce the watch list: %s", strerror(-rc));
    msgpack_sbuffer_destroy(&sb);
}

int vg_policy_reload(vg_policy *p, char *const *dirs, vg_diag *diag)
{
    struct vg__pstate *st = NULL;
    size_t before = diag->n;
    int rc = load_all(&p->o, p, dirs, diag, &st);
    free(p->last_error);
    p->last_error = NULL;
    if (rc < 0) {
        __atomic_add_fetch(&p->stats.reloads_failed, 1, __ATOMIC_RELAXED);
        p->last_error = strdup(diag->n > before ? diag->msgs[before] : "the policies did not load");
        return rc;
    }
    struct vg__pstate *old = p->st;
    p->st = st;
    apply_written(p, st);
    publish_watch(p, st);
    vg__cache_clear(p->cache);
    pstate_free(old);
    __atomic_add_fetch(&p->stats.reloads, 1, __ATOMIC_RELAXED);
    vg_info("policy: %zu files loaded, %zu handlers, %zu response rules, %zu written rules, "
            "%zu watched paths",
            st->files, st->handlers, st->nresp, st->nwritten, st->watch_paths);
    return 0;
}

int vg_policy_check(char *const *dirs, vg_diag *diag)
{
    return vg_policy_check_with(dirs, NULL, diag);
}

int vg_policy_check_with(char *const *dirs, const vg_policy_load *load, vg_diag *diag)
{
    vg_policy_opts o = {.mem_max = MEM_DEFAULT, .insn_max = INSN_DEFAULT};
    if (load)
        o.load = *load;
    struct vg__pstate *st = NULL;
    int rc = load_all(&o, NULL, dirs, diag, &st);
    pstate_free(st);
    return rc < 0 ? -EINVAL : 0;
}

void vg_policy_set_load(vg_policy *p, const vg_policy_load *load)
{
    p->o.load = *load;
}

bool vg_policy_loaded(const vg_policy *p)
{
    return p && p->st;
}

const char *vg_policy_last_error(const vg_policy *p)
{
    return p ? p->last_error : NULL;
}

void vg_policy_invalidate(vg_policy *p)
{
    if (p)
        vg__cache_clear(p->cache);
}

void vg_policy_stats_get(vg_policy *p, vg_policy_stats *out)
{
    uint64_t *src = (uint64_t *)&p->stats, *dst = (uint64_t *)out;
    /* The counters first, each read atomically; then the loop-thread sizes. */
    size_t ncounters = offsetof(vg_policy_stats, files) / sizeof(uint64_t);
    for (size_t i = 0; i < ncounters; i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    out->files = p->st ? p->st->files : 0;
    out->handlers = p->st ? p->st->handlers : 0;
    out->responses = p->st ? p->st->nresp : 0;
    out->lua_bytes = p->st ? vg_sandbox_of(p->st->L)->used : 0;
}

/* ---- running handlers ---- */

/* The event being handled: its body unpacked once (for the handlers'
 * table and the cached answer), and its wire form, made once when first
 * needed. */
struct evctx {
    const vg_event *ev;
    bool ready, ok;
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    msgpack_unpacked body_up;
    const msgpack_object *body; /* NULL: empty, or not a map */
};

static void evctx_init(struct evctx *ec, const vg_event *ev)
{
    memset(ec, 0, sizeof(*ec));
    ec->ev = ev;
    msgpack_unpacked_init(&ec->body_up);
    size_t off = 0;
    if (ev->body_len &&
        msgpack_unpack_next(&ec->body_up, (const char *)ev->body, ev->body_len, &off) ==
            MSGPACK_UNPACK_SUCCESS &&
        ec->body_up.data.type == MSGPACK_OBJECT_MAP)
        ec->body = &ec->body_up.data;
}

static const msgpack_object *wire_of(struct evctx *ec)
{
    if (!ec->ready) {
        ec->ready = true;
        msgpack_sbuffer_init(&ec->sb);
        msgpack_unpacked_init(&ec->up);
        size_t off = 0;
        ec->ok =
            vg_event_encode(ec->ev, &ec->sb) == 0 &&
            msgpack_unpack_next(&ec->up, ec->sb.data, ec->sb.size, &off) == MSGPACK_UNPACK_SUCCESS;
    }
    return ec->ok ? &ec->up.data : NULL;
}

static void evctx_free(struct evctx *ec)
{
    msgpack_unpacked_destroy(&ec->body_up);
    if (!ec->ready)
        return;
    msgpack_unpacked_destroy(&ec->up);
    msgpack_sbuffer_destroy(&ec->sb);
}

static void publish_error(vg_policy *p, const vg_event *ev, const char *file, int line,
                          const char *msg)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    vg_mp_pack_kv_str(&pk, "message", msg);
    vg_mp_pack_kv_str(&pk, "file", file);
    vg_mp_pack_kv_int(&pk, "line", line);
    vg_mp_pack_kv_str(&pk, "event_type", vg_event_type_name(ev->type));
    vg_mp_pack_kv_uint(&pk, "event_id", ev->id);
    vg_event_in in = {.type = p->t_error,
                      .severity = VG_SEV_ERROR,
                      .workload = ev->workload,
                      .group = ev->group,
                      .body = sb.data,
                      .body_len = sb.size};
    vg_bus_publish(p->o.bus, &in);
    msgpack_sbuffer_destroy(&sb);
}

/* A failed call: counted, reported, and worth the group's default verdict. */
static int handler_failed(vg_policy *p, struct vg__pstate *st, const struct vg__handler *h,
                          const vg_event *ev, int status)
{
    lua_State *L = st->L;
    vg_sandbox *sb = vg_sandbox_of(L);
    char msg[512];
    int line = st->err_line > 0 ? st->err_line : h->line;
    const char *file = st->err_file[0] ? st->err_file : h->file;
    __atomic_add_fetch(&p->stats.errors, 1, __ATOMIC_RELAXED);
    if (status == LUA_ERRMEM || sb->over_memory) {
        __atomic_add_fetch(&p->stats.memory_cuts, 1, __ATOMIC_RELAXED);
        snprintf(msg, sizeof(msg), "the handler needs more than %zu MiB of memory",
                 sb->mem_max >> 20);
        file = h->file;
        line = h->line;
    } else {
        /* Past the budget, every instruction raises the error again (so that
         * a pcall() cannot go on); the line that ran out is the first. */
        if (sb->over_budget) {
            __atomic_add_fetch(&p->stats.budget_cuts, 1, __ATOMIC_RELAXED);
            line = sb->budget_line;
        }
        const char *m =
            lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object is not a string";
        snprintf(msg, sizeof(msg), "%s", strip_where(m, NULL));
    }
    vg_debug("policy: %s:%d: %s", file, line, msg);
    if (ev->type != p->t_error) /* a failing policy.error handler must not loop */
        publish_error(p, ev, file, line, msg);
    if (status == LUA_ERRMEM || sb->over_memory)
        lua_gc(L, LUA_GCCOLLECT);
    return vg__policy_mode(p, ev->group) == VG_MODE_PROTECT ? VG_VERDICT_DENY : VG_VERDICT_ALLOW;
}

/* deny > alert > learn > allow > none: the strictest opinion wins. */
static int stricter(int a, int b)
{
    static const int rank[] = {1, 4, 3, 2}; /* allow, deny, alert, learn */
    int ra = a < 0 ? 0 : rank[a], rb = b < 0 ? 0 : rank[b];
    return ra >= rb ? a : b;
}

/* The verdict a handler returned (at 1), as an integer (VG_VERDICT_NONE for
 * nil), or a Lua error saying what was wrong. Run under lua_pcall: turning a
 * bad value into text may allocate, and must never call a metamethod (a
 * table whose __tostring raises would otherwise abort the daemon). */
static int l_verdict(lua_State *L)
{
    int v = VG_VERDICT_NONE;
    if (lua_type(L, 1) == LUA_TSTRING && (v = vg_verdict_parse(lua_tostring(L, 1))) >= 0) {
        lua_pushinteger(L, v);
        return 1;
    }
    if (lua_isnil(L, 1)) {
        lua_pushinteger(L, VG_VERDICT_NONE);
        return 1;
    }
    const char *what = luaL_typename(L, 1);
    if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER ||
        lua_type(L, 1) == LUA_TBOOLEAN) {
        lua_pushfstring(L, "%s '%s'", what,
                        lua_type(L, 1) == LUA_TBOOLEAN ? (lua_toboolean(L, 1) ? "true" : "false")
                                                       : lua_tostring(L, 1));
        what = lua_tostring(L, -1);
    }
    return luaL_error(L,
                      "the handler returned %s; expected \"allow\", \"deny\", \"alert\", "
                      "\"learn\" or nil",
                      what);
}

static int call_one(vg_policy *p, struct vg__pstate *st, const struct vg__handler *h,
                    const vg_event *ev)
{
    lua_State *L = st->L;
    vg_sandbox_reset(L, p->o.insn_max);
    st->err_line = 0;
    st->err_file[0] = '\0';
    lua_pushcfunction(L, l_msgh);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    lua_pushvalue(L, 1);
    int status = lua_pcall(L, 1, 1, 2);
    int v = VG_VERDICT_NONE;
    if (status == LUA_OK && !vg_sandbox_of(L)->over_memory) {
        lua_pushcfunction(L, l_verdict);
        lua_insert(L, -2);
        status = lua_pcall(L, 1, 1, 0);
        if (status == LUA_OK) {
            v = (int)lua_tointeger(L, -1);
        } else {
            st->err_file[0] = '\0';
            st->err_line = h->line;
        }
    }
    if (status != LUA_OK || vg_sandbox_of(L)->over_memory)
        v = handler_failed(p, st, h, ev, status);
    lua_settop(L, 1);
    return v;
}

static int run_list(vg_policy *p, struct vg__pstate *st, const struct vg__hlist *hl,
                    const vg_event *ev, int verdict)
{
    for (size_t i = 0; i < hl->n; i++)
        verdict = stricter(verdict, call_one(p, st, &hl->v[i], ev));
    return verdict;
}

static int l_push_event(lua_State *L)
{
    const struct evctx *ec = lua_touserdata(L, 1);
    lua_settop(L, 0);
    vg__event_push(L, ec->ev, ec->body);
    return 1;
}

static int run_handlers(vg_policy *p, struct vg__pstate *st, const struct evctx *ec)
{
    const vg_event *ev = ec->ev;
    lua_State *L = st->L;
    lua_settop(L, 0);
    vg_sandbox_reset(L, p->o.insn_max);
    /* Converting under a protected call: a huge event may hit the cap. */
    lua_pushcfunction(L, l_push_event);
    lua_pushlightuserdata(L, (void *)ec);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_settop(L, 0);
        lua_gc(L, LUA_GCCOLLECT);
        vg_warn("policy: event %llu (%s) is too large to hand to the policy",
                (unsigned long long)ev->id, vg_event_type_name(ev->type));
        return vg__policy_mode(p, ev->group) == VG_MODE_PROTECT ? VG_VERDICT_DENY
                                                                : VG_VERDICT_ALLOW;
    }
    p->cur = ev; /* the event is at index 1 */
    int verdict = run_list(p, st, &st->by_type[ev->type], ev, VG_VERDICT_NONE);
    verdict = run_list(p, st, &st->any, ev, verdict);
    p->cur = NULL;
    lua_settop(L, 0);
    return verdict;
}

static bool no_response_type(const char *type)
{
    return strncmp(type, "response.", 9) == 0 || strcmp(type, "policy.error") == 0;
}

static void run_responses(vg_policy *p, struct vg__pstate *st, struct evctx *ec)
{
    for (size_t i = 0; i < st->nresp; i++) {
        const struct vg__response *r = &st->resp[i];
        if (!vg__response_matches(r, ec->ev, wire_of(ec)))
            continue;
        for (size_t a = 0; a < r->nactions; a++)
            vg__policy_run_action(p, r->actions[a], wire_of(ec), NULL, r->name ? r->name : "");
    }
}

/* carry: whether verdicts are carried out (not for a denied attempt, see
 * policy_attempt.c). */
static int handle(vg_policy *p, const vg_event *ev, bool carry)
{
    struct vg__pstate *st = p->st;
    const char *type = vg_event_type_name(ev->type);
    bool handlers = st->by_type[ev->type].n || st->any.n;
    bool responses = st->nresp && !no_response_type(type);
    if (!handlers && !responses)
        return VG_VERDICT_NONE;
    struct evctx ec;
    evctx_init(&ec, ev);
    int verdict = VG_VERDICT_NONE;
    if (handlers) {
        __atomic_add_fetch(&p->stats.events, 1, __ATOMIC_RELAXED);
        verdict = run_handlers(p, st, &ec);
        if (carry && verdict == VG_VERDICT_ALLOW && vg__is_behaviour(type))
            vg__policy_carry_allow(p, ev, ec.body);
        else if (carry && verdict != VG_VERDICT_NONE && vg__is_behaviour(type) && wire_of(&ec))
            vg__policy_carry_out(p, wire_of(&ec), verdict);
        if (carry && p->o.on_verdict)
            p->o.on_verdict(p->o.on_verdict_arg, ev, verdict);
    }
    if (responses)
        run_responses(p, st, &ec);
    evctx_free(&ec);
    return verdict;
}

int vg_policy_handle(vg_policy *p, const vg_event *ev)
{
    /* Answers depend on modes; the groups module announces each change. */
    if (ev->type == p->t_mode)
        vg__cache_clear(p->cache);
    if (!p->st || ev->type >= VG_EVENT_TYPES_MAX)
        return VG_VERDICT_NONE;
    int verdict = handle(p, ev, true);
    vg_event *attempt = NULL;
    if (vg__policy_attempt(ev, &attempt) > 0) {
        handle(p, attempt, false);
        free(attempt);
    }
    return verdict;
}

void vg_policy_on_event(const vg_event *ev, void *arg)
{
    vg_policy_handle(arg, ev);
}
