/*
 * The daemon's side of the policy engine: the env that answers the engine's
 * questions from the groups and workloads modules, and the first load.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "log.h"
#include "mp.h"

static int default_mode(const vg_daemon *d)
{
    int m = vg_mode_parse(d->cfg->default_mode);
    return m < 0 ? VG_MODE_LEARN : m;
}

/* A group the groups module has not seen yet is new: it starts in the
 * configured default mode, which a reload may have changed. */
static int group_mode(void *arg, const char *group)
{
    vg_daemon *d = arg;
    int m = d->groups ? vg_groups_mode(d->groups, group) : -ENOENT;
    return m >= 0 ? m : default_mode(d);
}

static int workload_info(void *arg, const char *id, msgpack_sbuffer *out)
{
    vg_daemon *d = arg;
    vg_workload_info wi;
    if (!d->workloads || vg_workloads_lookup_id(d->workloads, id, &wi) < 0)
        return -ENOENT;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    vg_mp_pack_kv_str(&pk, "id", wi.id);
    vg_mp_pack_kv_str(&pk, "group", wi.group);
    vg_mp_pack_kv_str(&pk, "mode", vg_mode_name(wi.mode));
    vg_mp_pack_kv_str(&pk, "runtime", vg_runtime_name(wi.runtime));
    vg_mp_pack_kv_int(&pk, "pid", wi.pid);
    return 0;
}

/* A suppressed event reaches no handler and no response rule, as it reaches
 * neither the store nor the followers. */
static void policy_on_event(const vg_event *ev, void *arg)
{
    vg_daemon *d = arg;
    if (d->suppress && vg_suppress_check(d->suppress, ev))
        return;
    vg_policy_on_event(ev, d->policy);
}

/* Every verdict is an observation of the decision-latency histogram. */
static void policy_verdict(void *arg, const vg_event *ev, int verdict)
{
    vg_daemon *d = arg;
    if (d->metrics)
        vg_metrics_on_verdict(d->metrics, ev, verdict);
}

int vg__policy_open(vg_daemon *d)
{
    vg_policy_opts o = {.bus = d->bus,
                        .rules = d->rules,
                        .actions = d->actions,
                        .env = {.group_mode = group_mode, .workload_info = workload_info, .arg = d},
                        .default_mode = default_mode(d),
                        .on_verdict = policy_verdict,
                        .on_verdict_arg = d};
    int rc = vg_policy_new(&o, &d->policy);
    if (rc < 0) {
        vg_err("cannot create the policy engine: %s", strerror(-rc));
        return rc;
    }
    return vg_bus_subscribe(d->bus, -1, policy_on_event, d);
}

int vg__policy_load(vg_daemon *d, const vg_config *cfg, vg_diag *diag)
{
    char **hooks = NULL;
    int rc = vg_config_webhook_names(cfg, &hooks);
    if (rc < 0) {
        vg_diag_add(diag, "policy: not enough memory for the webhook names");
        return rc;
    }
    vg_policy_load load = {.webhooks = (const char *const *)hooks,
                           .allow_empty = strcmp(cfg->empty_policies, "allow") == 0,
                           .complete = true,
                           .decls = d->decls.v,
                           .ndecls = d->decls.n};
    vg_policy_set_load(d->policy, &load);
    rc = vg_policy_reload(d->policy, cfg->policy_dirs, diag);
    load.webhooks = NULL; /* freed below */
    vg_policy_set_load(d->policy, &load);
    vg_config_names_free(hooks);
    return rc;
}

void vg__policy_first_load(vg_daemon *d)
{
    vg_diag diag = {0};
    if (vg__policy_load(d, d->cfg, &diag) < 0) {
        /* Plugins and the store keep working; `vigilctl reload` retries. */
        for (size_t i = 0; i < diag.n; i++)
            vg_err("policy: %s", diag.msgs[i]);
        vg_err("the policies did not load; running without them until a reload succeeds");
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 1);
        vg_mp_pack_kv_str(&pk, "message", diag.n ? diag.msgs[0] : "policies did not load");
        vg_event_in ev = {.type = d->policy_error_type,
                          .severity = VG_SEV_ERROR,
                          .body = sb.data,
                          .body_len = sb.size};
        vg_bus_publish(d->bus, &ev);
        msgpack_sbuffer_destroy(&sb);
    }
    vg_diag_free(&diag);
}

void vg__webhook_result(void *arg, const vg_webhook_result *r)
{
    vg_daemon *d = arg;
    int type = vg_event_type_find("response.done");
    if (type < 0)
        return;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    vg_mp_pack_kv_str(&pk, "action", "webhook");
    vg_mp_pack_kv_str(&pk, "target", r->endpoint);
    vg_mp_pack_kv_str(&pk, "rule", r->rule);
    vg_mp_pack_kv_str(&pk, "status", r->delivered ? "done" : "failed");
    vg_mp_pack_kv_str(&pk, "error", r->error);
    vg_mp_pack_kv_str(&pk, "event_type", r->event_type);
    vg_mp_pack_kv_int(&pk, "event_id", r->event_id);
    vg_mp_pack_kv_uint(&pk, "attempts", r->attempts);
    vg_event_in ev = {.type = type,
                      .severity = r->delivered ? VG_SEV_INFO : VG_SEV_WARNING,
                      .workload = r->workload,
                      .group = r->group,
                      .body = sb.data,
                      .body_len = sb.size};
    int rc = vg_bus_publish(d->bus, &ev);
    if (rc < 0)
        vg_warn("webhook %s: the result of a delivery was not published: %s", r->endpoint,
                strerror(-rc));
    msgpack_sbuffer_destroy(&sb);
}
