/*
 * The core's control commands: status, plugins, reload. Each packs exactly
 * one result object (see ctl.h); their shapes are what `vigilctl --json`
 * prints, so changing a key is a user-visible change.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "mp.h"

static void pack_store(vg_daemon *d, msgpack_packer *pk)
{
    vg_store_stats st = {0};
    vg_store_stats_get(d->store, &st);
    msgpack_pack_map(pk, 9);
    vg_mp_pack_kv_uint(pk, "map_size", st.map_size);
    vg_mp_pack_kv_uint(pk, "used_bytes", st.used_bytes);
    vg_mp_pack_kv_uint(pk, "file_bytes", st.file_bytes);
    vg_mp_pack_kv_uint(pk, "events", st.events);
    vg_mp_pack_kv_uint(pk, "pending", st.pending);
    vg_mp_pack_kv_uint(pk, "commit_errors", st.commit_errors);
    /* Events of the types in store_skip, streamed but not stored. */
    vg_mp_pack_kv_uint(pk, "skipped", vg_store_skip_total(d->store_skip));
    /* Events that were meant to be stored but could not be (full disk). */
    vg_mp_pack_kv_uint(pk, "lost", vg_store_skip_lost_total(d->store_skip));
    /* The list itself, so that a client can say why a type has no history. */
    size_t n = 0;
    while (d->cfg->store_skip && d->cfg->store_skip[n])
        n++;
    vg_mp_pack_cstr(pk, "skip");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        vg_mp_pack_cstr(pk, d->cfg->store_skip[i]);
}

static void pack_event_counts(vg_daemon *d, msgpack_packer *pk)
{
    int n = vg_event_type_count();
    msgpack_pack_array(pk, (size_t)n);
    for (int t = 0; t < n; t++) {
        vg_bus_type_stats s;
        vg_bus_stats(d->bus, t, &s);
        msgpack_pack_map(pk, 5);
        vg_mp_pack_kv_str(pk, "type", vg_event_type_name(t));
        vg_mp_pack_kv_uint(pk, "published", s.published);
        vg_mp_pack_kv_uint(pk, "dropped", s.dropped);
        vg_mp_pack_kv_uint(pk, "skipped", vg_store_skip_count(d->store_skip, t));
        vg_mp_pack_kv_uint(pk, "lost", vg_store_skip_lost_count(d->store_skip, t));
    }
}

static void pack_ctl(vg_daemon *d, msgpack_packer *pk)
{
    vg_ctl_stats cs;
    vg_ctl_stats_get(d->ctl, &cs);
    msgpack_pack_map(pk, 4);
    vg_mp_pack_kv_uint(pk, "clients", cs.clients);
    vg_mp_pack_kv_uint(pk, "requests", cs.requests);
    vg_mp_pack_kv_uint(pk, "bad_requests", cs.bad_requests);
    vg_mp_pack_kv_uint(pk, "stream_drops", cs.stream_drops);
}

/* Three keys: "rules", "suppress" and "webhooks". */
static void pack_responses(vg_daemon *d, msgpack_packer *pk)
{
    vg_mp_pack_cstr(pk, "rules");
    msgpack_pack_map(pk, 2);
    vg_mp_pack_kv_uint(pk, "count", vg_rules_count(d->rules));
    vg_mp_pack_kv_uint(pk, "generation", vg_rules_generation(d->rules));
    vg_suppress_stats ss;
    vg_suppress_stats_get(d->suppress, &ss);
    vg_mp_pack_cstr(pk, "suppress");
    msgpack_pack_map(pk, 4);
    vg_mp_pack_kv_uint(pk, "active", ss.active);
    vg_mp_pack_kv_uint(pk, "added", ss.added);
    vg_mp_pack_kv_uint(pk, "suppressed", ss.suppressed);
    vg_mp_pack_kv_uint(pk, "expired", ss.expired);
    vg_mp_pack_cstr(pk, "webhooks");
    vg_webhooks_pack_stats(d->webhooks, pk);
}

static void pack_policy(vg_daemon *d, msgpack_packer *pk)
{
    vg_policy_stats ps = {0};
    if (d->policy)
        vg_policy_stats_get(d->policy, &ps);
    msgpack_pack_map(pk, 9);
    vg_mp_pack_kv_uint(pk, "files", ps.files);
    vg_mp_pack_kv_uint(pk, "handlers", ps.handlers);
    vg_mp_pack_kv_uint(pk, "responses", ps.responses);
    vg_mp_pack_kv_uint(pk, "events", ps.events);
    vg_mp_pack_kv_uint(pk, "errors", ps.errors);
    vg_mp_pack_kv_uint(pk, "budget_cuts", ps.budget_cuts);
    vg_mp_pack_kv_uint(pk, "cache_hits", ps.cache_hits);
    vg_mp_pack_kv_uint(pk, "cache_misses", ps.cache_misses);
    vg_mp_pack_kv_uint(pk, "lua_bytes", ps.lua_bytes);
}

static int cmd_status(vg_ctl_call *call)
{
    vg_daemon *d = call->arg;
    msgpack_packer *pk = call->pk;
    msgpack_pack_map(pk, 15);
    vg_mp_pack_kv_str(pk, "version", VIGIL_VERSION);
    vg_mp_pack_kv_int(pk, "pid", getpid());
    vg_mp_pack_kv_uint(pk, "uptime_s", (uv_now(&d->loop) - d->started_ms) / 1000);
    vg_mp_pack_kv_str(pk, "state_dir", d->cfg->state_dir);
    vg_mp_pack_kv_str(pk, "socket", d->cfg->socket_path);
    vg_mp_pack_cstr(pk, "store");
    pack_store(d, pk);
    vg_mp_pack_cstr(pk, "bus");
    msgpack_pack_map(pk, 2);
    vg_mp_pack_kv_uint(pk, "queued", vg_bus_queued(d->bus));
    vg_mp_pack_kv_uint(pk, "capacity", vg_bus_capacity(d->bus));
    vg_mp_pack_cstr(pk, "ctl");
    pack_ctl(d, pk);
    vg_mp_pack_cstr(pk, "reloads");
    msgpack_pack_map(pk, 3);
    vg_mp_pack_kv_uint(pk, "ok", d->reloads.ok);
    vg_mp_pack_kv_uint(pk, "failed", d->reloads.failed);
    vg_mp_pack_kv_str(pk, "last_error", d->reloads.last_error);
    vg_mp_pack_cstr(pk, "plugins");
    vg_plugins_pack(d->plugins, pk);
    vg_mp_pack_cstr(pk, "events");
    pack_event_counts(d, pk);
    pack_responses(d, pk);
    vg_mp_pack_cstr(pk, "policy");
    pack_policy(d, pk);
    return 0;
}

static int cmd_plugins(vg_ctl_call *call)
{
    vg_daemon *d = call->arg;
    return vg_plugins_pack(d->plugins, call->pk);
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
    vg_daemon *d = call->arg;
    vg_diag diag = {0};
    int rc = vg_daemon_reload(d, &diag);
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

int vg__ctl_core_register(vg_daemon *d)
{
    const vg_ctl_cmd cmds[] = {
        {.name = "status", .fn = cmd_status, .arg = d},
        {.name = "plugins", .fn = cmd_plugins, .arg = d},
        {.name = "reload", .fn = cmd_reload, .arg = d},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        int rc = vg_ctl_register(d->ctl, &cmds[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}
