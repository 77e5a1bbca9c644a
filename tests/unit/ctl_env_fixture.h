/*
 * A real environment for the control commands (tests/unit/test_ctl_*.c):
 * in a mkdtemp directory, a config file, an LMDB store, a bus whose events
 * the store subscriber keeps, rules, the suppress and webhook responses,
 * the control socket, workloads found by discovery in a fixture tree
 * (wl_fixture.h), groups, the shipped policies plus a directory of the
 * test's own, and the test plugins. Everything the daemon would fill in
 * vg_ctl_env; the test plays the daemon's part (reload, uptime, counters).
 *
 * Commands run through vg_ctl_call_local, which packs the very reply a
 * client gets; fx_ok() and fx_fail() decode it and check its envelope.
 * Include after <cmocka.h>.
 */
#ifndef CTL_ENV_FIXTURE_H
#define CTL_ENV_FIXTURE_H

#include <lauxlib.h>
#include <lualib.h>

#include "actions.h"
#include "ctl_env.h"
#include "luamp.h"
#include "mp.h"
#include "wl_fixture.h"

/* The fixture's containers (see fx_tree). */
#define FX_DOCKER_SEED 11
#define FX_DOCKER_GROUP "shop-web"

typedef struct ctl_fx {
    char dir[64];
    char root[128];     /* discovery_root: a fixture /proc and runtime state */
    char policies[128]; /* the test's own policy directory (after the shipped one) */
    char config[128];   /* the config file; reload reads it again */
    char docker[65];    /* id of the docker container of the tree */
    uv_loop_t loop;
    vg_config *cfg;
    vg_store *store;
    vg_store_skip *store_skip;
    vg_bus *bus;
    vg_rules *rules;
    vg_actions *actions;
    vg_suppress *suppress;
    vg_webhooks *webhooks;
    vg_ctl *ctl;
    vg_workloads *workloads;
    vg_groups *groups;
    vg_discovery *discovery;
    vg_policy *policy;
    vg_plugins *plugins;
    vg_plugin_env plugin_env;
    vg_ctl_env env;
    /* The daemon's part. */
    uint64_t uptime_s, reloads_ok, reloads_failed;
    char *last_error;
    unsigned reload_calls;
    /* The last reply. */
    msgpack_sbuffer out;
    msgpack_unpacked up;
    bool have_reply;
} ctl_fx;

/* ---- the daemon's part ---- */

static inline int fx_group_mode(void *arg, const char *group)
{
    ctl_fx *fx = arg;
    int m = vg_groups_mode(fx->groups, group);
    return m >= 0 ? m : VG_MODE_LEARN;
}

/* Reads the config file and the policies again, as vigild's reload does;
 * on a refusal the running ones stay and the counters say so. */
static inline int fx_reload(void *arg, vg_diag *diag)
{
    ctl_fx *fx = arg;
    fx->reload_calls++;
    vg_config *cfg = NULL;
    int rc = vg_config_load(fx->config, &cfg, diag);
    if (rc == 0 && vg_policy_reload(fx->policy, cfg->policy_dirs, diag) < 0)
        rc = -EINVAL;
    if (rc < 0) {
        vg_config_free(cfg);
        fx->reloads_failed++;
        free(fx->last_error);
        fx->last_error = strdup(diag->n ? diag->msgs[0] : strerror(-rc));
        return rc;
    }
    vg_store_skip_set(fx->store_skip, (const char *const *)cfg->store_skip);
    vg_config_free(fx->cfg);
    fx->cfg = cfg;
    fx->reloads_ok++;
    return 0;
}

static inline void fx_daemon_info(void *arg, vg_ctl_daemon_info *out)
{
    ctl_fx *fx = arg;
    *out = (vg_ctl_daemon_info){.uptime_s = fx->uptime_s,
                                .reloads_ok = fx->reloads_ok,
                                .reloads_failed = fx->reloads_failed,
                                .last_error = fx->last_error};
}

/* ---- set-up ---- */

/* Writes the config file: the fixture's directories, then `extra` (Lua). */
static inline void fx_write_config(ctl_fx *fx, const char *extra)
{
    FILE *f = fopen(fx->config, "w");
    assert_non_null(f);
    fprintf(f,
            "state_dir = \"%s/state\"\nsocket = \"%s/ctl.sock\"\ndiscovery_root = \"%s\"\n"
            "plugin_dir = \"%s\"\npolicy_dirs = { \"%s/lua/policies\", \"%s\" }\n%s\n",
            fx->dir, fx->dir, fx->root, TEST_PLUGIN_DIR, TEST_SOURCE_DIR, fx->policies,
            extra ? extra : "");
    assert_int_equal(fclose(f), 0);
}

/* A host process, a docker compose container (two processes) and a plain
 * runc container, in the runtimes' own on-disk formats. */
static inline void fx_tree(ctl_fx *fx)
{
    const char *r = fx->root;
    char cg[256];
    fx_id(fx->docker, FX_DOCKER_SEED);
    assert_int_equal(fx_proc(r, 1, "0::/init.scope\n", 0), 0);
    assert_int_equal(fx_docker(r, fx->docker, "shop-web-1", "nginx:1.25",
                               "{\"com.docker.compose.project\":\"shop\","
                               "\"com.docker.compose.service\":\"web\",\"tier\":\"front\"}",
                               1001, 1),
                     0);
    snprintf(cg, sizeof(cg), "0::/system.slice/docker-%s.scope\n", fx->docker);
    assert_int_equal(fx_proc(r, 1001, cg, 0), 0);
    assert_int_equal(fx_proc(r, 1002, cg, 1001), 0);
    assert_int_equal(fx_runc_state(r, "/run/runc", "batch-7", 2001, "/srv/batch"), 0);
    assert_int_equal(fx_bundle(r, "/srv/batch", "{}"), 0);
    assert_int_equal(fx_proc(r, 2001, "0::/batch-7\n", 0), 0);
}

static inline void fx_open_policy(ctl_fx *fx)
{
    vg_policy_opts po = {.bus = fx->bus,
                         .rules = fx->rules,
                         .actions = fx->actions,
                         .env = {.group_mode = fx_group_mode, .arg = fx},
                         .default_mode = VG_MODE_LEARN};
    assert_int_equal(vg_policy_new(&po, &fx->policy), 0);
    vg_diag diag = {0};
    int rc = vg_policy_reload(fx->policy, fx->cfg->policy_dirs, &diag);
    vg_diag_print(&diag, stderr);
    vg_diag_free(&diag);
    assert_int_equal(rc, 0);
}

static inline void fx_open_workloads(ctl_fx *fx)
{
    char proc[256];
    snprintf(proc, sizeof(proc), "%s/proc", fx->root);
    assert_int_equal(vg_workloads_new(proc, &fx->workloads), 0);
    assert_int_equal(vg_groups_new(fx->store, VG_MODE_LEARN, &fx->groups), 0);
    vg_diag diag = {0};
    int rc = vg_groups_configure(fx->groups, fx->cfg, &diag);
    vg_diag_print(&diag, stderr);
    vg_diag_free(&diag);
    assert_int_equal(rc, 0);
    vg_discovery_opts o = {
        .root = fx->root, .bus = fx->bus, .reg = fx->workloads, .groups = fx->groups};
    assert_int_equal(vg_discovery_new(&o, &fx->discovery), 0);
    assert_int_equal(vg_discovery_scan(fx->discovery), 0);
    vg_discovery_modes_changed(fx->discovery);
}

/* The environment not freed yet, for fx_teardown (set before anything
 * can fail, so that a partial one is freed too). */
static ctl_fx *fx_current;

/* The whole environment; extra_config is added to the config file. */
static inline ctl_fx *fx_new(const char *extra_config)
{
    ctl_fx *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx_current = fx;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/vg-ctl-env-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
    snprintf(fx->policies, sizeof(fx->policies), "%s/policies", fx->dir);
    snprintf(fx->config, sizeof(fx->config), "%s/vigil.lua", fx->dir);
    assert_int_equal(fx_mkdirs(fx->policies), 0);
    fx_tree(fx);
    char state[256];
    snprintf(state, sizeof(state), "%s/state", fx->dir);
    assert_int_equal(fx_mkdirs(state), 0);
    fx_write_config(fx, extra_config);
    vg_diag diag = {0};
    int rc = vg_config_load(fx->config, &fx->cfg, &diag);
    vg_diag_print(&diag, stderr);
    vg_diag_free(&diag);
    assert_int_equal(rc, 0);

    assert_int_equal(uv_loop_init(&fx->loop), 0);
    fx->loop.data = fx; /* initialised */
    assert_int_equal(vg_store_open(fx->cfg->state_dir, NULL, &fx->store), 0);
    assert_int_equal(vg_store_skip_new(&fx->store_skip), 0);
    assert_int_equal(vg_store_skip_set(fx->store_skip, (const char *const *)fx->cfg->store_skip),
                     0);
    assert_int_equal(vg_bus_new(&fx->loop, 4096, &fx->bus), 0);
    assert_true(vg_bus_subscribe(fx->bus, -1, vg_ctl_events_on_event, &fx->env) >= 0);
    assert_int_equal(vg_rules_open(fx->store, &fx->rules), 0);
    assert_int_equal(vg_actions_new(&fx->actions), 0);
    assert_int_equal(vg_suppress_new(&fx->loop, &fx->suppress), 0);
    assert_int_equal(vg_suppress_register(fx->suppress, fx->actions), 0);
    assert_int_equal(vg_webhooks_new(&fx->loop, NULL, &fx->webhooks), 0);
    assert_int_equal(vg_webhooks_configure(fx->webhooks, fx->cfg), 0);
    vg_ctl_opts co = {.path = fx->cfg->socket_path, .gid = (gid_t)-1};
    assert_int_equal(vg_ctl_open(&fx->loop, &co, &fx->ctl), 0);
    fx_open_workloads(fx);
    fx_open_policy(fx);
    fx->env = (vg_ctl_env){.ctl = fx->ctl,
                           .cfg = &fx->cfg,
                           .store = fx->store,
                           .store_skip = fx->store_skip,
                           .bus = fx->bus,
                           .rules = fx->rules,
                           .groups = fx->groups,
                           .workloads = fx->workloads,
                           .discovery = fx->discovery,
                           .policy = fx->policy,
                           .suppress = fx->suppress,
                           .webhooks = fx->webhooks,
                           .reload = fx_reload,
                           .daemon_info = fx_daemon_info,
                           .arg = fx};
    assert_int_equal(vg_ctl_env_register(&fx->env), 0);
    /* The commands' names are taken now. */
    assert_int_equal(vg_ctl_env_register(&fx->env), -EEXIST);
    return fx;
}

/* Loads the test plugins (one good, one of a foreign ABI, one whose init
 * fails) as the daemon does after registering the commands. */
static inline void fx_load_plugins(ctl_fx *fx)
{
    fx->plugin_env = (vg_plugin_env){.loop = &fx->loop,
                                     .bus = fx->bus,
                                     .store = fx->store,
                                     .cfg = &fx->cfg,
                                     .actions = fx->actions,
                                     .workloads = fx->workloads,
                                     .groups = fx->groups,
                                     .policy = fx->policy,
                                     .ctl = fx->ctl};
    assert_int_equal(vg_plugins_load(&fx->plugin_env, fx->cfg->plugin_dir, &fx->plugins), 0);
    vg_plugins_start(fx->plugins);
    fx->env.plugins = fx->plugins;
}

static inline void fx_reply_free(ctl_fx *fx)
{
    if (!fx->have_reply)
        return;
    msgpack_unpacked_destroy(&fx->up);
    msgpack_sbuffer_destroy(&fx->out);
    fx->have_reply = false;
}

/* Frees what fx_new got, also after a failure half-way. */
static inline void fx_free(ctl_fx *fx)
{
    fx_current = NULL;
    fx_reply_free(fx);
    if (fx->plugins)
        vg_plugins_stop(fx->plugins);
    if (fx->discovery)
        vg_discovery_close(fx->discovery);
    if (fx->ctl)
        vg_ctl_close(fx->ctl);
    fx->env.ctl = NULL;
    if (fx->bus)
        vg_bus_close(fx->bus);
    if (fx->webhooks)
        vg_webhooks_close(fx->webhooks);
    if (fx->loop.data == fx) {
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&fx->loop), 0);
    }
    vg_policy_free(fx->policy);
    vg_groups_free(fx->groups);
    vg_workloads_free(fx->workloads);
    vg_store_close(fx->store);
    vg_store_skip_free(fx->store_skip);
    vg_rules_free(fx->rules);
    vg_suppress_free(fx->suppress);
    vg_actions_free(fx->actions);
    vg_config_free(fx->cfg);
    free(fx->last_error);
    fx_rmtree(fx->dir);
    free(fx);
}

/* The teardown of every test: frees the environment that a failed
 * assertion left behind. */
static inline int fx_teardown(void **state)
{
    if (fx_current)
        fx_free(fx_current);
    return 0;
}

/* ---- calls ---- */

/* Packs the Lua table constructor `args` ("{op = 'list'}"), as a client
 * would send it. */
static inline int fx_pack_lua(lua_State *L)
{
    msgpack_packer *pk = lua_touserdata(L, 2);
    vg_lua_pack(L, 1, pk, 0);
    return 0;
}

static inline void fx_pack_args(const char *args, msgpack_sbuffer *sb)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    char chunk[64 << 10];
    assert_true(snprintf(chunk, sizeof(chunk), "return %s", args) < (int)sizeof(chunk));
    if (luaL_loadstring(L, chunk) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        fail_msg("args %s: %s", args, lua_tostring(L, -1));
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    lua_pushcfunction(L, fx_pack_lua);
    lua_insert(L, 1);
    lua_pushlightuserdata(L, &pk);
    int rc = lua_pcall(L, 2, 0, 0);
    if (rc != LUA_OK)
        fail_msg("args %s: %s", args, lua_tostring(L, -1));
    lua_close(L);
}

/* Runs cmd with args (packed msgpack, or NULL) and decodes the reply. */
static inline int fx_call_packed(ctl_fx *fx, const char *cmd, const void *args, size_t len)
{
    fx_reply_free(fx);
    msgpack_zone zone;
    msgpack_object obj;
    assert_true(msgpack_zone_init(&zone, 4096));
    if (args)
        assert_int_equal(msgpack_unpack(args, len, NULL, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    msgpack_sbuffer_init(&fx->out);
    int rc = vg_ctl_call_local(fx->ctl, cmd, args ? &obj : NULL, &fx->out);
    msgpack_zone_destroy(&zone);
    msgpack_unpacked_init(&fx->up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&fx->up, fx->out.data, fx->out.size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, fx->out.size);
    fx->have_reply = true;
    return rc;
}

static inline int fx_call(ctl_fx *fx, const char *cmd, const char *args)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (args)
        fx_pack_args(args, &sb);
    int rc = fx_call_packed(fx, cmd, args ? sb.data : NULL, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* The result of a call that must succeed (valid until the next call). */
static inline const msgpack_object *fx_ok(ctl_fx *fx, const char *cmd, const char *args)
{
    int rc = fx_call(fx, cmd, args);
    bool ok = false;
    char err[1024] = "";
    vg_mp_get_cstr(&fx->up.data, "error", err, sizeof(err));
    if (rc != 0)
        fail_msg("%s %s: %s (%d)", cmd, args ? args : "", err, rc);
    assert_int_equal(vg_mp_get_bool(&fx->up.data, "ok", &ok), 0);
    assert_true(ok);
    const msgpack_object *res = vg_mp_get(&fx->up.data, "result");
    assert_non_null(res);
    return res;
}

/* A call that must fail with errno err; returns the error message, which
 * is what vigilctl prints (valid until the next call). */
static inline const char *fx_fail(ctl_fx *fx, const char *cmd, const char *args, int err)
{
    static char msg[1024];
    int rc = fx_call(fx, cmd, args);
    bool ok = true;
    int64_t e = 0;
    assert_int_equal(vg_mp_get_bool(&fx->up.data, "ok", &ok), 0);
    if (ok)
        fail_msg("%s %s: succeeded, want errno %d", cmd, args ? args : "", err);
    assert_null(vg_mp_get(&fx->up.data, "result"));
    assert_int_equal(vg_mp_get_int(&fx->up.data, "errno", &e), 0);
    assert_int_equal(vg_mp_get_cstr(&fx->up.data, "error", msg, sizeof(msg)), 0);
    if (rc != -err || e != err)
        fail_msg("%s %s: errno %d (rc %d), want %d: %s", cmd, args ? args : "", (int)e, rc, err,
                 msg);
    return msg;
}

/* ---- reading results ---- */

/* A string field (asserted present), in a static buffer per call site. */
static inline const char *fx_str(const msgpack_object *o, const char *key, char *buf, size_t size)
{
    if (vg_mp_get_cstr(o, key, buf, size) != 0)
        fail_msg("no string '%s' in the result", key);
    return buf;
}
#define FX_STR(o, key) fx_str((o), (key), (char[1024]){0}, 1024)

static inline int64_t fx_int(const msgpack_object *o, const char *key)
{
    int64_t v = 0;
    if (vg_mp_get_int(o, key, &v) != 0)
        fail_msg("no integer '%s' in the result", key);
    return v;
}

static inline const msgpack_object *fx_get(const msgpack_object *o, const char *key)
{
    const msgpack_object *v = vg_mp_get(o, key);
    if (!v)
        fail_msg("no '%s' in the result", key);
    return v;
}

static inline uint32_t fx_len(const msgpack_object *arr)
{
    assert_int_equal(arr->type, MSGPACK_OBJECT_ARRAY);
    return arr->via.array.size;
}

static inline const msgpack_object *fx_at(const msgpack_object *arr, uint32_t i)
{
    assert_true(i < fx_len(arr));
    return &arr->via.array.ptr[i];
}

/* The element of arr whose `key` is `val`, or NULL. */
static inline const msgpack_object *fx_find(const msgpack_object *arr, const char *key,
                                            const char *val)
{
    for (uint32_t i = 0; i < fx_len(arr); i++) {
        char buf[1024];
        if (vg_mp_get_cstr(&arr->via.array.ptr[i], key, buf, sizeof(buf)) == 0 &&
            strcmp(buf, val) == 0)
            return &arr->via.array.ptr[i];
    }
    return NULL;
}

/* Publishes an event and dispatches it (to the store subscriber, and the
 * policies when subscribed). body: a Lua table constructor, or NULL. */
static inline void fx_publish(ctl_fx *fx, const char *type, int sev, const char *group,
                              const char *workload, const char *body)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (body)
        fx_pack_args(body, &sb);
    vg_event_in in = {.type = vg_event_type_id(type),
                      .severity = sev,
                      .group = group,
                      .workload = workload,
                      .body = sb.size ? sb.data : NULL,
                      .body_len = sb.size};
    assert_int_equal(vg_bus_publish(fx->bus, &in), 0);
    msgpack_sbuffer_destroy(&sb);
    vg_bus_drain(fx->bus);
}

#endif
