/*
 * The core's control commands: status, plugins, reload. Each packs exactly
 * one result object (see ctl.h); their shapes are what `vigilctl --json`
 * prints, so changing a key is a user-visible change.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ctl_int.h"
#include "log.h"
#include "mp.h"

static void pack_store(const vg_ctl_env *env, msgpack_packer *pk)
{
    vg_store_stats st = {0};
    vg_store_stats_get(env->store, &st);
    msgpack_pack_map(pk, 9);
    vg_mp_pack_kv_uint(pk, "map_size", st.map_size);
    vg_mp_pack_kv_uint(pk, "used_bytes", st.used_bytes);
    vg_mp_pack_kv_uint(pk, "file_bytes", st.file_bytes);
    vg_mp_pack_kv_uint(pk, "events", st.events);
    vg_mp_pack_kv_uint(pk, "pending", st.pending);
    vg_mp_pack_kv_uint(pk, "commit_errors", st.commit_errors);
    /* Events of the types in store_skip, streamed but not stored. */
    vg_mp_pack_kv_uint(pk, "skipped", vg_store_skip_total(env->store_skip));
    /* Events that were meant to be stored but could not be (full disk). */
    vg_mp_pack_kv_uint(pk, "lost", vg_store_skip_lost_total(env->store_skip));
    /* The list itself, so that a client can say why a type has no history. */
    char *const *skip = (*env->cfg)->store_skip;
    size_t n = 0;
    while (skip && skip[n])
        n++;
    vg_mp_pack_cstr(pk, "skip");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        vg_mp_pack_cstr(pk, skip[i]);
}

static void pack_event_counts(const vg_ctl_env *env, msgpack_packer *pk)
{
    int n = vg_event_type_count();
    msgpack_pack_array(pk, (size_t)n);
    for (int t = 0; t < n; t++) {
        vg_bus_type_stats s;
        vg_bus_stats(env->bus, t, &s);
        msgpack_pack_map(pk, 5);
        vg_mp_pack_kv_str(pk, "type", vg_event_type_name(t));
        vg_mp_pack_kv_uint(pk, "published", s.published);
        vg_mp_pack_kv_uint(pk, "dropped", s.dropped);
        vg_mp_pack_kv_uint(pk, "skipped", vg_store_skip_count(env->store_skip, t));
        vg_mp_pack_kv_uint(pk, "lost", vg_store_skip_lost_count(env->store_skip, t));
    }
}

static void count_stream(vg_ctl_conn *conn, void *arg)
{
    (void)conn;
    (*(unsigned *)arg)++;
}

/* "followers": connections that asked to follow events (vigilctl events
 * --follow) and are streaming now; "clients" counts them too. */
static void pack_ctl(const vg_ctl_env *env, msgpack_packer *pk)
{
    vg_ctl_stats cs;
    vg_ctl_stats_get(env->ctl, &cs);
    unsigned followers = 0;
    vg_ctl_foreach_stream(env->ctl, count_stream, &followers);
    msgpack_pack_map(pk, 5);
    vg_mp_pack_kv_uint(pk, "clients", cs.clients);
    vg_mp_pack_kv_uint(pk, "followers", followers);
    vg_mp_pack_kv_uint(pk, "requests", cs.requests);
    vg_mp_pack_kv_uint(pk, "bad_requests", cs.bad_requests);
    vg_mp_pack_kv_uint(pk, "stream_drops", cs.stream_drops);
}

/* Three keys: "rules", "suppress" and "webhooks". */
static void pack_responses(const vg_ctl_env *env, msgpack_packer *pk)
{
    vg_mp_pack_cstr(pk, "rules");
    msgpack_pack_map(pk, 2);
    vg_mp_pack_kv_uint(pk, "count", vg_rules_count(env->rules));
    vg_mp_pack_kv_uint(pk, "generation", vg_rules_generation(env->rules));
    vg_suppress_stats ss;
    vg_suppress_stats_get(env->suppress, &ss);
    vg_mp_pack_cstr(pk, "suppress");
    msgpack_pack_map(pk, 4);
    vg_mp_pack_kv_uint(pk, "active", ss.active);
    vg_mp_pack_kv_uint(pk, "added", ss.added);
    vg_mp_pack_kv_uint(pk, "suppressed", ss.suppressed);
    vg_mp_pack_kv_uint(pk, "expired", ss.expired);
    vg_mp_pack_cstr(pk, "webhooks");
    vg_webhooks_pack_stats(env->webhooks, pk);
}

static void pack_policy(const vg_ctl_env *env, msgpack_packer *pk)
{
    vg_policy_stats ps = {0};
    if (env->policy)
        vg_policy_stats_get(env->policy, &ps);
    const char *err = env->policy ? vg_policy_last_error(env->policy) : NULL;
    msgpack_pack_map(pk, 12);
    /* What a user must see first: whether the host runs with policies. */
    vg_mp_pack_kv_bool(pk, "loaded", env->policy && vg_policy_loaded(env->policy));
    vg_mp_pack_cstr(pk, "last_error");
    if (err)
        vg_mp_pack_cstr(pk, err);
    else
        msgpack_pack_nil(pk);
    vg_mp_pack_kv_uint(pk, "files", ps.files);
    vg_mp_pack_kv_uint(pk, "handlers", ps.handlers);
    vg_mp_pack_kv_uint(pk, "responses", ps.responses);
    vg_mp_pack_kv_uint(pk, "events", ps.events);
    vg_mp_pack_kv_uint(pk, "errors", ps.errors);
    vg_mp_pack_kv_uint(pk, "budget_cuts", ps.budget_cuts);
    vg_mp_pack_kv_uint(pk, "excepted", ps.excepted);
    vg_mp_pack_kv_uint(pk, "cache_hits", ps.cache_hits);
    vg_mp_pack_kv_uint(pk, "cache_misses", ps.cache_misses);
    vg_mp_pack_kv_uint(pk, "lua_bytes", ps.lua_bytes);
}

/* Before the plugins are loaded the list is empty. */
static int pack_plugins(const vg_ctl_env *env, msgpack_packer *pk)
{
    if (!env->plugins)
        return msgpack_pack_array(pk, 0) ? -ENOMEM : 0;
    return vg_plugins_pack(env->plugins, pk);
}

static int cmd_status(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    const vg_config *cfg = *env->cfg;
    msgpack_packer *pk = call->pk;
    vg_ctl_daemon_info di = {0};
    env->daemon_info(env->arg, &di);
    msgpack_pack_map(pk, 16);
    vg_mp_pack_kv_str(pk, "version", VIGIL_VERSION);
    vg_mp_pack_kv_int(pk, "pid", getpid());
    vg_mp_pack_kv_uint(pk, "uptime_s", di.uptime_s);
    vg_mp_pack_kv_str(pk, "state_dir", cfg->state_dir);
    vg_mp_pack_kv_str(pk, "socket", cfg->socket_path);
    vg_mp_pack_cstr(pk, "store");
    pack_store(env, pk);
    vg_mp_pack_cstr(pk, "bus");
    msgpack_pack_map(pk, 2);
    vg_mp_pack_kv_uint(pk, "queued", vg_bus_queued(env->bus));
    vg_mp_pack_kv_uint(pk, "capacity", vg_bus_capacity(env->bus));
    vg_mp_pack_cstr(pk, "ctl");
    pack_ctl(env, pk);
    vg_mp_pack_cstr(pk, "reloads");
    msgpack_pack_map(pk, 3);
    vg_mp_pack_kv_uint(pk, "ok", di.reloads_ok);
    vg_mp_pack_kv_uint(pk, "failed", di.reloads_failed);
    vg_mp_pack_kv_str(pk, "last_error", di.last_error);
    vg_mp_pack_cstr(pk, "plugins");
    pack_plugins(env, pk);
    vg_mp_pack_cstr(pk, "events");
    pack_event_counts(env, pk);
    /* [{name, kind, accepted, written, failed, dropped, depth, capacity}] */
    vg_mp_pack_cstr(pk, "outputs");
    vg_outputs_pack_stats(env->outputs, pk);
    pack_responses(env, pk);
    vg_mp_pack_cstr(pk, "policy");
    pack_policy(env, pk);
    return 0;
}

static int cmd_plugins(vg_ctl_call *call)
{
    return pack_plugins(call->arg, call->pk);
}

/* The error of a refused reload lists every problem, one per line, so that
 * `vigilctl reload` can print them all with their file and line. */
static void join_problems(const vg_diag *diag, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < diag->n && off + 1 < size; i++) {
        int n = snprintf(buf + off, size - off, "%s%s", i ? "\n" : "", diag->msgs[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

static int cmd_reload(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    vg_diag diag = {0};
    int rc = env->reload(env->arg, &diag);
    if (rc < 0) {
        join_problems(&diag, call->error, sizeof(call->error));
        vg_diag_free(&diag);
        return rc;
    }
    vg_diag_free(&diag);
    msgpack_pack_map(call->pk, 1);
    vg_mp_pack_kv_str(call->pk, "message", "reloaded: config, policies and plugin settings");
    return 0;
}

int vg__ctl_core_register(const vg_ctl_env *env)
{
    const vg_ctl_cmd cmds[] = {
        {.name = "status", .fn = cmd_status, .arg = (void *)env},
        {.name = "plugins", .fn = cmd_plugins, .arg = (void *)env},
        {.name = "reload", .fn = cmd_reload, .arg = (void *)env},
    };
    return vg__ctl_register_each(env->ctl, cmds, sizeof(cmds) / sizeof(cmds[0]));
}
