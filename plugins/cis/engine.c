/*
 * One run of the check engine (see cis.h): a fresh sandboxed Lua state,
 * lib.lua (what a check is, its validation, the contexts), lib_*.lua (the
 * helpers), compliance.lua (the reviewed tag table), every check file, then
 * one context per target (lib.lua's __cis_context) and each selected
 * check's run(ctx), each with its own instruction budget. The C side only sequences and collects;
 * what a check is and how it is normalized is Lua, where it is policy.
 */
#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cis_int.h"
#include "sandbox.h"

#define MEM_MAX (96u << 20)
#define BUDGET_DEFAULT 20000000L
#define FILE_MAX (1u << 20)

typedef struct run {
    lua_State *L;
    cis_env env;
    cis_report *rep;
    long budget;
    size_t cap;
} run;

static const char *const status_names[] = {"PASS", "WARN", "INFO", "NOTE", "MANUAL", "ERROR"};
static const char *const target_names[] = {"host", "containers", "kubernetes", "images"};

const char *cis_status_name(int status)
{
    return status >= 0 && status < CIS_NSTATUS ? status_names[status] : "ERROR";
}

unsigned cis_target_parse(const char *name)
{
    if (!strcmp(name, "all"))
        return CIS_ALL;
    for (unsigned i = 0; i < 4; i++)
        if (!strcmp(name, target_names[i]))
            return 1u << i;
    return 0;
}

const char *cis_shipped_dir(bool env)
{
    const char *dir = env ? getenv("VIGIL_CIS_DIR") : NULL;
    if (env && (!dir || !*dir))
        dir = getenv("VIGIL_BENCH_DIR");
    if (dir && *dir)
        return dir;
    if (access(VIGIL_DEFAULT_CIS_DIR "/lib.lua", R_OK) == 0)
        return VIGIL_DEFAULT_CIS_DIR;
    return VIGIL_SOURCE_CIS_DIR;
}

static int status_parse(const char *s)
{
    for (int i = 0; s && i < CIS_NSTATUS; i++)
        if (!strcmp(s, status_names[i]))
            return i;
    return CIS_ERROR;
}

/* ---- results ------------------------------------------------------------ */

static cis_result *add_result(run *r)
{
    cis_report *rep = r->rep;
    if (rep->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 128;
        cis_result *nv = realloc(rep->results, ncap * sizeof(*nv));
        if (!nv)
            return NULL;
        rep->results = nv, r->cap = ncap;
    }
    cis_result *res = &rep->results[rep->n++];
    memset(res, 0, sizeof(*res));
    return res;
}

static char *field_str(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    char *c = s ? strdup(s) : NULL;
    lua_pop(L, 1);
    return c;
}

static bool field_bool(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    bool b = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return b;
}

/* Flattens check.tags ({PCI = {"2.2.4"}, ...}, normalized by lib.lua). */
static void copy_tags(lua_State *L, int t, cis_result *res)
{
    lua_getfield(L, t, "tags");
    int tags = lua_gettop(L);
    size_t n = 0;
    for (lua_pushnil(L); lua_type(L, tags) == LUA_TTABLE && lua_next(L, tags); lua_pop(L, 1))
        n += lua_type(L, -1) == LUA_TTABLE ? lua_rawlen(L, -1) : 0;
    res->tags = n ? calloc(n, sizeof(*res->tags)) : NULL;
    for (lua_pushnil(L); res->tags && lua_next(L, tags); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE)
            continue;
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1) && res->ntags < n; i++) {
            lua_rawgeti(L, -1, i);
            const char *c = lua_tostring(L, -1);
            cis_tag *tg = &res->tags[res->ntags];
            tg->framework = strdup(lua_tostring(L, -3));
            tg->control = strdup(c ? c : "");
            res->ntags += tg->framework && tg->control;
            lua_pop(L, 1);
        }
    }
    lua_settop(L, tags - 1);
}

/* A result from the check table at index t. */
static cis_result *check_result(run *r, int t, int status, const char *evidence)
{
    lua_State *L = r->L;
    cis_result *res = add_result(r);
    if (!res)
        return NULL;
    res->id = field_str(L, t, "id");
    res->benchmark = field_str(L, t, "benchmark");
    res->version = field_str(L, t, "version");
    res->description = field_str(L, t, "description");
    res->title = field_str(L, t, "title");
    res->target = field_str(L, t, "target");
    res->remediation = field_str(L, t, "remediation");
    res->file = field_str(L, t, "file");
    res->evidence = strdup(evidence ? evidence : "");
    lua_getfield(L, t, "level");
    res->level = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    res->automated = field_bool(L, t, "automated");
    res->scored = field_bool(L, t, "scored");
    res->status = status;
    copy_tags(L, t, res);
    r->rep->counts[status]++;
    return res;
}

/* An ERROR row for a file that did not load. */
static void file_error(run *r, const char *file, const char *msg)
{
    cis_result *res = add_result(r);
    if (!res)
        return;
    const char *base = strrchr(file, '/');
    res->id = strdup(base ? base + 1 : file);
    res->title = strdup("check file does not load");
    res->target = strdup("-");
    res->file = strdup(file);
    res->evidence = strdup(msg ? msg : "?");
    res->status = CIS_ERROR;
    r->rep->counts[CIS_ERROR]++;
}

/* ---- loading ------------------------------------------------------------ */

/* Calls the global function `fn` with nargs arguments already pushed under
 * a fresh budget. LUA_OK or an error code, the message on the stack. */
static int call_global(run *r, const char *fn, int nargs, int nres)
{
    lua_getglobal(r->L, fn);
    lua_insert(r->L, -nargs - 1);
    vg_sandbox_reset(r->L, r->budget);
    return lua_pcall(r->L, nargs, nres, 0);
}

/* Loads and runs one Lua file: LUA_OK with its one result on the stack, or
 * an error code with the message. */
static int do_file(run *r, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = cis_read_path(path, FILE_MAX, &buf, &len);
    if (rc < 0) {
        lua_pushfstring(r->L, "%s: %s", path, strerror(-rc));
        return LUA_ERRFILE;
    }
    char chunk[4200];
    snprintf(chunk, sizeof(chunk), "@%s", path);
    rc = vg_sandbox_load(r->L, buf, len, chunk);
    free(buf);
    if (rc != LUA_OK)
        return rc;
    vg_sandbox_reset(r->L, r->budget);
    return lua_pcall(r->L, 0, 1, 0);
}

/* Loads a check file and hands what it returns to __cis_add, with its
 * section (the shipped check's directory, "docker"; NULL for the user's). */
static void load_check_file(run *r, const char *path, const char *section)
{
    int rc = do_file(r, path);
    if (rc == LUA_OK) {
        lua_pushstring(r->L, path);
        lua_pushstring(r->L, section); /* nil for NULL */
        rc = call_global(r, "__cis_add", 3, 1);
        if (rc == LUA_OK && lua_isnil(r->L, -1)) {
            lua_pop(r->L, 1);
            return;
        }
    }
    file_error(r, path, lua_tostring(r->L, -1));
    lua_pop(r->L, 1);
}

static bool is_lua(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".lua") && name[0] != '.';
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (with `dirs`: the subdirectories, else *.lua). */
static char **names_in(const char *dir, bool dirs, size_t *n)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        bool sub = de->d_type == DT_DIR && de->d_name[0] != '.';
        if (dirs ? !sub : !is_lua(de->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        if ((v[*n] = strdup(de->d_name)))
            (*n)++;
    }
    if (d)
        closedir(d);
    if (v)
        qsort(v, *n, sizeof(*v), cmp_name);
    return v;
}

static void load_dir(run *r, const char *dir, const char *section)
{
    size_t n;
    char **names = names_in(dir, false, &n);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path))
            load_check_file(r, path, section);
        free(names[i]);
    }
    free(names);
}

static void load_checks(run *r, const cis_opts *o)
{
    size_t n;
    char **subs = names_in(o->lua_dir, true, &n);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", o->lua_dir, subs[i]) < (int)sizeof(path))
            load_dir(r, path, subs[i]);
        free(subs[i]);
    }
    free(subs);
    if (o->checks_dir)
        load_dir(r, o->checks_dir, NULL);
}

/* ---- running ------------------------------------------------------------ */

static bool has_tag(lua_State *L, int t, const char *tag)
{
    if (!tag)
        return true;
    lua_getfield(L, t, "tags");
    bool found = false;
    for (lua_pushnil(L); lua_type(L, -2) == LUA_TTABLE && lua_next(L, -2); lua_pop(L, 1))
        if (lua_type(L, -2) == LUA_TSTRING && !strcasecmp(lua_tostring(L, -2), tag))
            found = true;
    lua_pop(L, 1);
    return found;
}

static void note_peak(run *r)
{
    size_t used = vg_sandbox_of(r->L)->used;
    if (used > r->rep->lua_peak)
        r->rep->lua_peak = used;
}

/* Runs check t against the context at index ctx (nil: the context failed
 * with the message at index ctxerr). */
static void run_check(run *r, int t, int ctx, int ctxerr)
{
    lua_State *L = r->L;
    if (lua_isnil(L, ctx)) {
        check_result(r, t, CIS_ERROR, lua_tostring(L, ctxerr));
        return;
    }
    lua_pushvalue(L, t);
    lua_pushvalue(L, ctx);
    int rc = call_global(r, "__cis_call", 2, 2);
    note_peak(r);
    if (rc != LUA_OK) {
        /* An error is never a PASS: the check could not tell. */
        check_result(r, t, CIS_ERROR, lua_tostring(L, -1));
        lua_pop(L, 1);
        return;
    }
    int status = status_parse(lua_tostring(L, -2));
    const char *ev = lua_tostring(L, -1);
    check_result(r, t, status, status == CIS_ERROR && !ev ? "bad result" : ev);
    lua_pop(L, 2);
}

/* Builds the context of one target and runs its selected checks. */
static void run_target(run *r, const char *target, const char *tag)
{
    lua_State *L = r->L;
    int base = lua_gettop(L);
    lua_pushstring(L, target);
    if (call_global(r, "__cis_context", 1, 2) != LUA_OK)
        lua_pushnil(L), lua_insert(L, -2); /* nil, message */
    note_peak(r);
    int ctx = base + 1, ctxerr = base + 2;
    /* nil and no message: nothing to check for this target (no image). */
    if (lua_isnil(L, ctx) && lua_isnil(L, ctxerr)) {
        lua_settop(L, base);
        return;
    }
    lua_getglobal(L, "__cis_checks");
    int checks = lua_gettop(L);
    for (lua_Integer i = 1;
         lua_type(L, checks) == LUA_TTABLE && i <= (lua_Integer)lua_rawlen(L, checks); i++) {
        lua_rawgeti(L, checks, i);
        int t = lua_gettop(L);
        lua_getfield(L, t, "target");
        bool mine = lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), target);
        lua_pop(L, 1);
        if (mine && has_tag(L, t, tag))
            run_check(r, t, ctx, ctxerr);
        lua_settop(L, t - 1);
    }
    lua_settop(L, base);
}

/* Opens the libraries and the cis namespace (under pcall). */
static int l_setup(lua_State *L)
{
    lua_newtable(L);
    vg_sandbox_open_libs(L, 1);
    cis_open_api(L);
    return 0;
}

/* Runs one support file of lua_dir; with `global`, its result becomes that
 * global. */
static int support_file(run *r, const char *dir, const char *name, const char *global, char *err,
                        size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (do_file(r, path) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(r->L, -1));
        return access(path, R_OK) < 0 ? -ENOENT : -EINVAL;
    }
    if (global)
        lua_setglobal(r->L, global);
    else
        lua_pop(r->L, 1);
    return 0;
}

static bool is_helper(const char *name)
{
    return !strncmp(name, "lib_", 4);
}

/* The libraries, the cis namespace, then lib.lua, its helpers
 * (lib_*.lua, sorted) and the compliance table. */
static int setup(run *r, const cis_opts *o, char *err, size_t errlen)
{
    lua_pushcfunction(r->L, l_setup);
    if (lua_pcall(r->L, 0, 0, 0) != LUA_OK)
        return -ENOMEM;
    int rc = support_file(r, o->lua_dir, "lib.lua", NULL, err, errlen);
    size_t n = 0;
    char **names = rc == 0 ? names_in(o->lua_dir, false, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && is_helper(names[i]))
            rc = support_file(r, o->lua_dir, names[i], NULL, err, errlen);
        free(names[i]);
    }
    free(names);
    return rc < 0 ? rc : support_file(r, o->lua_dir, "compliance.lua", "COMPLIANCE", err, errlen);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_all(run *r, const cis_opts *o, char *err, size_t errlen)
{
    int rc = setup(r, o, err, errlen);
    if (rc < 0)
        return rc;
    load_checks(r, o);
    unsigned targets = o->targets ? o->targets : CIS_HOST;
    for (unsigned i = 0; i < 4; i++)
        if (targets & (1u << i))
            run_target(r, target_names[i], o->tag);
    return 0;
}

int cis_run(const cis_opts *o, cis_report **out, char *err, size_t errlen)
{
    double t0 = now();
    snprintf(err, errlen, "out of memory");
    run r = {.env = {.opts = o}, .budget = o->insn_budget > 0 ? o->insn_budget : BUDGET_DEFAULT};
    if (!o->lua_dir || (o->checks_dir && access(o->checks_dir, R_OK | X_OK) < 0)) {
        snprintf(err, errlen, "%s: %s", o->lua_dir ? o->checks_dir : "lua_dir", strerror(ENOENT));
        return -ENOENT;
    }
    if ((r.env.rootfd = cis_open_root(o->root)) < 0) {
        snprintf(err, errlen, "root %s: %s", o->root ? o->root : "/", strerror(-r.env.rootfd));
        return r.env.rootfd;
    }
    int rc = (r.rep = calloc(1, sizeof(*r.rep))) ? 0 : -ENOMEM;
    if (rc == 0)
        rc = vg_sandbox_new("the CIS checks", MEM_MAX, r.budget, &r.L);
    if (rc == 0) {
        vg_sandbox_of(r.L)->user = &r.env;
        rc = run_all(&r, o, err, errlen);
    }
    vg_sandbox_close(r.L);
    close(r.env.rootfd);
    if (rc < 0) {
        cis_report_free(r.rep);
        return rc;
    }
    r.rep->seconds = now() - t0;
    *out = r.rep;
    return 0;
}

void cis_report_free(cis_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->n; i++) {
        cis_result *res = &rep->results[i];
        free(res->id), free(res->benchmark), free(res->version), free(res->description), free(res->title), free(res->target);
        free(res->remediation), free(res->evidence), free(res->file);
        for (size_t j = 0; j < res->ntags; j++)
            free(res->tags[j].framework), free(res->tags[j].control);
        free(res->tags);
    }
    free(rep->results);
    free(rep);
}
