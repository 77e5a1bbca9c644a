/*
 * Control commands for workloads and groups: workloads, groups, group.show,
 * group.mode. Their result shapes are what `vigilctl --json` prints:
 *
 *   workloads   [{id, name, runtime, pid, pids, group, groups, mode, image,
 *                 namespace, pod, container, cgroup, netns, started, labels}]
 *   groups      [{name, kind, mode, members, unused_s}]
 *   group.show  {name, kind, mode, members, unused_s, workloads = [id...], criteria}
 *
 * unused_s is how long the group has had no member, as counted by the last
 * aging check (every 5 minutes, core/daemon/daemon_aging.c); 0 for a group
 * with members.
 *   group.mode  {group, mode, previous}   args {name, mode}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl_int.h"
#include "discovery.h"
#include "groups.h"
#include "log.h"
#include "mp.h"

static bool member(const vg_workload *w, const char *group)
{
    if (strcmp(w->group, group) == 0)
        return true;
    for (size_t i = 0; i < w->ngroups; i++)
        if (strcmp(w->groups[i], group) == 0)
            return true;
    return false;
}

static void pack_workload(msgpack_packer *pk, const vg_workload *w)
{
    msgpack_pack_map(pk, 16);
    vg_mp_pack_kv_str(pk, "id", w->id);
    vg_mp_pack_kv_str(pk, "name", w->name);
    vg_mp_pack_kv_str(pk, "runtime", vg_runtime_name(w->runtime));
    vg_mp_pack_kv_int(pk, "pid", w->pid);
    vg_mp_pack_kv_uint(pk, "pids", atomic_load(&w->npids));
    vg_mp_pack_kv_str(pk, "group", w->group);
    vg_mp_pack_cstr(pk, "groups");
    msgpack_pack_array(pk, w->ngroups);
    for (size_t i = 0; i < w->ngroups; i++)
        vg_mp_pack_cstr(pk, w->groups[i]);
    vg_mp_pack_kv_str(pk, "mode", vg_mode_name(atomic_load(&w->mode)));
    vg_mp_pack_kv_str(pk, "image", w->image);
    vg_mp_pack_kv_str(pk, "namespace", w->k8s_namespace);
    vg_mp_pack_kv_str(pk, "pod", w->pod);
    vg_mp_pack_kv_str(pk, "container", w->k8s_container);
    vg_mp_pack_kv_str(pk, "cgroup", w->cgroup);
    vg_mp_pack_kv_uint(pk, "netns", w->netns);
    vg_mp_pack_kv_int(pk, "started", w->started_ns);
    /* Labels and OCI annotations, for writing custom group criteria. */
    vg_mp_pack_cstr(pk, "labels");
    msgpack_pack_map(pk, w->nkv);
    for (size_t i = 0; i < w->nkv; i++) {
        vg_mp_pack_cstr(pk, w->kv[2 * i]);
        vg_mp_pack_cstr(pk, w->kv[2 * i + 1]);
    }
}

static int cmd_workloads(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    vg_workload **list;
    size_t n;
    int rc = vg_workloads_list(env->workloads, &list, &n);
    if (rc < 0)
        return rc;
    msgpack_pack_array(call->pk, n);
    for (size_t i = 0; i < n; i++)
        pack_workload(call->pk, list[i]);
    vg_workloads_list_free(list, n);
    return 0;
}

struct groups_ctx {
    msgpack_packer *pk;
    vg_workload **list;
    size_t n, count;
};

static size_t count_members(vg_workload **list, size_t n, const char *group)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += member(list[i], group);
    return c;
}

static void count_group(const vg_group_info *gi, void *arg)
{
    ((struct groups_ctx *)arg)->count++;
}

static void pack_group(const vg_group_info *gi, void *arg)
{
    struct groups_ctx *c = arg;
    size_t members = count_members(c->list, c->n, gi->name);
    msgpack_pack_map(c->pk, 5);
    vg_mp_pack_kv_str(c->pk, "name", gi->name);
    vg_mp_pack_kv_str(c->pk, "kind", vg_group_kind_name(gi->kind));
    vg_mp_pack_kv_str(c->pk, "mode", vg_mode_name(gi->mode));
    vg_mp_pack_kv_uint(c->pk, "members", members);
    vg_mp_pack_kv_uint(c->pk, "unused_s", members ? 0 : (uint64_t)gi->idle_ns / 1000000000u);
}

static int cmd_groups(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    struct groups_ctx c = {.pk = call->pk};
    int rc = vg_workloads_list(env->workloads, &c.list, &c.n);
    if (rc < 0)
        return rc;
    vg_groups_foreach(env->groups, count_group, &c);
    msgpack_pack_array(call->pk, c.count);
    vg_groups_foreach(env->groups, pack_group, &c);
    vg_workloads_list_free(c.list, c.n);
    return 0;
}

static int arg_name(vg_ctl_call *call, const char *key, char *buf, size_t size)
{
    int rc = vg_mp_get_cstr(call->args, key, buf, size);
    if (rc == -ENOENT)
        snprintf(call->error, sizeof(call->error), "argument '%s' is missing", key);
    else if (rc < 0)
        snprintf(call->error, sizeof(call->error),
                 "argument '%s' must be a string (of at most %zu bytes)", key, size - 1);
    return rc < 0 ? -EINVAL : 0;
}

static void pack_criteria(msgpack_packer *pk, const vg_group_info *gi)
{
    msgpack_pack_map(pk, 5);
    vg_mp_pack_kv_str(pk, "image", gi->image);
    vg_mp_pack_kv_str(pk, "name_glob", gi->name_glob);
    vg_mp_pack_kv_str(pk, "namespace", gi->k8s_namespace);
    vg_mp_pack_cstr(pk, "label");
    msgpack_pack_map(pk, gi->nlabels);
    for (size_t i = 0; i < gi->nlabels; i++) {
        vg_mp_pack_cstr(pk, gi->labels[2 * i]);
        vg_mp_pack_cstr(pk, gi->labels[2 * i + 1]);
    }
    vg_mp_pack_kv_bool(pk, "match", gi->has_predicate);
}

static int cmd_group_show(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    char name[VG_GROUP_MAX];
    vg_group_info gi;
    if (arg_name(call, "name", name, sizeof(name)) < 0)
        return -EINVAL;
    if (vg_groups_get(env->groups, name, &gi) < 0) {
        snprintf(call->error, sizeof(call->error), "no group '%s'", name);
        return -ENOENT;
    }
    vg_workload **list;
    size_t n;
    int rc = vg_workloads_list(env->workloads, &list, &n);
    if (rc < 0)
        return rc;
    msgpack_packer *pk = call->pk;
    size_t members = count_members(list, n, name);
    msgpack_pack_map(pk, 7);
    vg_mp_pack_kv_str(pk, "name", gi.name);
    vg_mp_pack_kv_str(pk, "kind", vg_group_kind_name(gi.kind));
    vg_mp_pack_kv_str(pk, "mode", vg_mode_name(gi.mode));
    vg_mp_pack_kv_uint(pk, "members", members);
    vg_mp_pack_kv_uint(pk, "unused_s", members ? 0 : (uint64_t)gi.idle_ns / 1000000000u);
    vg_mp_pack_cstr(pk, "workloads");
    msgpack_pack_array(pk, count_members(list, n, name));
    for (size_t i = 0; i < n; i++)
        if (member(list[i], name))
            pack_workload(pk, list[i]);
    vg_mp_pack_cstr(pk, "criteria");
    if (gi.kind == VG_GROUP_CUSTOM)
        pack_criteria(pk, &gi);
    else
        msgpack_pack_nil(pk);
    vg_workloads_list_free(list, n);
    return 0;
}

static void publish_mode(const vg_ctl_env *env, const char *group, int mode, int old)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2); /* the group is in the header */
    vg_mp_pack_kv_str(&pk, "mode", vg_mode_name(mode));
    vg_mp_pack_kv_str(&pk, "previous", vg_mode_name(old));
    vg_event_in ev = {.type = vg_event_type_id("group.mode"),
                      .severity = VG_SEV_NOTICE,
                      .group = group,
                      .body = sb.data,
                      .body_len = sb.size};
    vg_bus_publish(env->bus, &ev);
    msgpack_sbuffer_destroy(&sb);
}

/* Timed learning: "for" (ns) and "then" (monitor or protect), both or
 * neither, and only with mode learn. *until stays 0 without them. */
static int arg_learn_for(vg_ctl_call *call, int mode, int64_t *until, int *then)
{
    int64_t for_ns = 0;
    char then_s[16] = "";
    int rc = vg_mp_get_int(call->args, "for", &for_ns);
    bool has_for = rc == 0,
         has_then = vg_mp_get_cstr(call->args, "then", then_s, sizeof(then_s)) == 0;
    if (!has_for && !has_then)
        return 0;
    *then = vg_mode_parse(then_s);
    if (mode != VG_MODE_LEARN || !has_for || for_ns <= 0 || !has_then ||
        (*then != VG_MODE_MONITOR && *then != VG_MODE_PROTECT)) {
        snprintf(call->error, sizeof(call->error),
                 "timed learning is: mode learn, 'for' a duration, 'then' monitor or protect");
        return -EINVAL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *until = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + for_ns;
    return 0;
}

/* The reply promises the mode survives a crash, so the store is committed
 * durably before it is sent. */
static int cmd_group_mode(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    char name[VG_GROUP_MAX], mode_s[16];
    if (arg_name(call, "name", name, sizeof(name)) < 0 ||
        arg_name(call, "mode", mode_s, sizeof(mode_s)) < 0)
        return -EINVAL;
    int mode = vg_mode_parse(mode_s), old = 0;
    if (mode < 0) {
        snprintf(call->error, sizeof(call->error),
                 "mode '%s' is not one of learn, monitor, protect", mode_s);
        return -EINVAL;
    }
    int64_t until = 0;
    int then = -1;
    if (arg_learn_for(call, mode, &until, &then) < 0)
        return -EINVAL;
    int rc = until ? vg_groups_learn_for(env->groups, name, until, then, &old)
                   : vg_groups_set_mode(env->groups, name, mode, &old);
    if (rc == -ENOENT)
        snprintf(call->error, sizeof(call->error), "no group '%s'", name);
    if (rc == 0 && (rc = vg_store_commit(env->store, true)) < 0)
        snprintf(call->error, sizeof(call->error), "the mode could not be stored: %s",
                 strerror(-rc));
    if (rc < 0)
        return rc;
    if (env->discovery)
        vg_discovery_modes_changed(env->discovery);
    /* Cached decisions were made under the old mode: drop them before the
     * reply, so that a permission asked right after it sees the new mode. */
    vg_policy_invalidate(env->policy);
    if (mode != old) {
        publish_mode(env, name, mode, old);
        vg_notice("group %s: mode %s (was %s)", name, vg_mode_name(mode), vg_mode_name(old));
    }
    msgpack_pack_map(call->pk, 3 + 2 * (until > 0));
    vg_mp_pack_kv_str(call->pk, "group", name);
    vg_mp_pack_kv_str(call->pk, "mode", vg_mode_name(mode));
    vg_mp_pack_kv_str(call->pk, "previous", vg_mode_name(old));
    if (until) {
        vg_mp_pack_kv_int(call->pk, "learn_until", until);
        vg_mp_pack_kv_str(call->pk, "then", vg_mode_name(then));
    }
    return 0;
}

int vg__ctl_workloads_register(const vg_ctl_env *env)
{
    const vg_ctl_cmd cmds[] = {
        {.name = "workloads", .fn = cmd_workloads, .arg = (void *)env},
        {.name = "groups", .fn = cmd_groups, .arg = (void *)env},
        {.name = "group.show", .fn = cmd_group_show, .arg = (void *)env},
        {.name = "group.mode", .fn = cmd_group_mode, .arg = (void *)env},
    };
    return vg__ctl_register_each(env->ctl, cmds, sizeof(cmds) / sizeof(cmds[0]));
}
