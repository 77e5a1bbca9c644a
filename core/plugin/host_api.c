/*
 * The host table handed to every plugin (see include/vigil/plugin.h). Each
 * function receives the plugin's own record (struct vg_host) and reaches the
 * daemon only through its vg_plugin_env.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "evcat.h"
#include "groups.h"
#include "log.h"
#include "plugin_decls.h"
#include "plugins.h"
#include "policy.h"
#include "workloads.h"

static void h_log(vg_host *h, int level, const char *fmt, ...)
{
    if (level > vg_log_get_level())
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vg_log(level, "%s: %s", h->name, msg);
}

/* What a plugin registers is what policies may name (lib/evcat.h). */
static int h_event_type(vg_host *h, const char *name)
{
    int id = vg_event_type_id(name);
    if (id >= 0 && vg_evcat_declare_type(name, h->name) < 0)
        vg_warn("%s: the type %s could not be added to the catalogue", h->name, name);
    return id;
}

static int h_publish(vg_host *h, const vg_event_in *ev)
{
    return vg_bus_publish(h->env->bus, ev);
}

static void *h_loop(vg_host *h)
{
    return h->env->loop;
}

static int h_config_string(vg_host *h, const char *key, const char **out)
{
    return vg_config_plugin_string(*h->env->cfg, h->name, key, out);
}

static int h_config_int(vg_host *h, const char *key, int64_t *out)
{
    return vg_config_plugin_int(*h->env->cfg, h->name, key, out);
}

static int h_config_bool(vg_host *h, const char *key, int *out)
{
    return vg_config_plugin_bool(*h->env->cfg, h->name, key, out);
}

static int h_register_action(vg_host *h, const vg_action_desc *action)
{
    if (!h->env->actions)
        return -ENODEV;
    return vg_actions_register(h->env->actions, h->name, action);
}

static void h_set_state(vg_host *h, int state, const char *why)
{
    if (state != VG_PLUGIN_RUNNING && state != VG_PLUGIN_DEGRADED)
        return; /* a plugin may report its health, not its life cycle */
    if (state != h->state || (why && strcmp(why, h->why) != 0))
        vg_log(state == VG_PLUGIN_DEGRADED ? VG_LOG_WARN : VG_LOG_INFO, "plugin %s: %s%s%s",
               h->name, state == VG_PLUGIN_DEGRADED ? "degraded" : "running", why ? ": " : "",
               why ? why : "");
    h->state = state;
    snprintf(h->why, sizeof(h->why), "%s", why ? why : "");
}

/* Plugin tables are namespaced so that no plugin can reach the core's tables
 * or another plugin's. */
static int table_name(vg_host *h, const char *table, char *buf, size_t size)
{
    if (!h->env->store)
        return -ENODEV;
    if (!table || !*table)
        return -EINVAL;
    int n = snprintf(buf, size, "plugin.%s.%s", h->name, table);
    return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

static int h_store_put(vg_host *h, const char *table, const void *key, size_t klen, const void *val,
                       size_t vlen)
{
    char t[64];
    int rc = table_name(h, table, t, sizeof(t));
    return rc < 0 ? rc : vg_store_put(h->env->store, t, key, klen, val, vlen);
}

static int h_store_get(vg_host *h, const char *table, const void *key, size_t klen, void **val,
                       size_t *vlen)
{
    char t[64];
    int rc = table_name(h, table, t, sizeof(t));
    return rc < 0 ? rc : vg_store_get(h->env->store, t, key, klen, val, vlen);
}

static int h_store_del(vg_host *h, const char *table, const void *key, size_t klen)
{
    char t[64];
    int rc = table_name(h, table, t, sizeof(t));
    return rc < 0 ? rc : vg_store_del(h->env->store, t, key, klen);
}

/* ---- ABI 1.1 ------------------------------------------------------------ */

static void copy_ref(vg_workload_view *out, const char *id, const char *group, int mode, int pid)
{
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->group, sizeof(out->group), "%s", group);
    out->mode = mode;
    out->pid = pid;
}

static int h_workload_of_pid(vg_host *h, int pid, vg_workload_view *out)
{
    if (!h->env->workloads)
        return -ENODEV;
    vg_workload_info wi;
    int rc = vg_workloads_lookup_pid_fresh(h->env->workloads, (pid_t)pid, &wi);
    if (rc < 0)
        return rc;
    copy_ref(out, wi.id, wi.group, wi.mode, (int)wi.pid);
    return 0;
}

static int h_decide_fields(vg_host *h, const char *group, int plane, const char *const *fields)
{
    if (!h->env->policy || !group || plane < 0 || plane >= VG_PLANE_COUNT || !fields)
        return VG_DECIDE_UNKNOWN;
    return vg_policy_decide_cached(h->env->policy, group, plane, fields);
}

static void on_sub_event(const vg_event *ev, void *arg)
{
    struct vg_host_sub *s = arg;
    s->wire.size = 0;
    if (vg_event_encode(ev, &s->wire) == 0)
        s->cb(s->arg, s->wire.data, s->wire.size);
}

static int h_subscribe(vg_host *h, const char *type, vg_event_cb cb, void *arg)
{
    if (!cb)
        return -EINVAL;
    int t = type ? vg_event_type_id(type) : -1;
    if (type && t < 0)
        return t;
    /* Each subscription has a stable address: the bus keeps a pointer. */
    struct vg_host_sub *s = calloc(1, sizeof(*s));
    struct vg_host_sub **grown = NULL;
    if (!s || !(grown = realloc(h->subs, (h->nsubs + 1) * sizeof(*grown)))) {
        free(s);
        return -ENOMEM;
    }
    h->subs = grown;
    *s = (struct vg_host_sub){.cb = cb, .arg = arg};
    msgpack_sbuffer_init(&s->wire);
    s->id = vg_bus_subscribe(h->env->bus, t, on_sub_event, s);
    if (s->id < 0) {
        int rc = s->id;
        free(s);
        return rc;
    }
    h->subs[h->nsubs++] = s;
    return 0;
}

void vg__host_unsubscribe(struct vg_host *h)
{
    for (size_t i = 0; i < h->nsubs; i++)
        vg_bus_unsubscribe(h->env->bus, h->subs[i]->id);
}

void vg__host_free_subs(struct vg_host *h)
{
    for (size_t i = 0; i < h->nsubs; i++) {
        msgpack_sbuffer_destroy(&h->subs[i]->wire);
        free(h->subs[i]);
    }
    free(h->subs);
    h->subs = NULL;
    h->nsubs = 0;
}

static int h_workloads_each(vg_host *h, void (*cb)(void *arg, const vg_workload_view *w), void *arg)
{
    if (!h->env->workloads)
        return -ENODEV;
    vg_workload **list;
    size_t n;
    int rc = vg_workloads_list(h->env->workloads, &list, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        vg_workload_view ref;
        copy_ref(&ref, list[i]->id, list[i]->group, atomic_load(&list[i]->mode), (int)list[i]->pid);
        cb(arg, &ref);
    }
    vg_workloads_list_free(list, n);
    return 0;
}

/* ---- ABI 1.2: plugin commands ----------------------------------------- */

/* A plugin's command as the control socket sees it. The ctl server keeps a
 * pointer to it until it closes, which happens after the plugins stop. */
struct vg_host_cmd {
    vg_command_desc desc;
    char name[64];
};

/* The reply a plugin writes into is the control call itself. */
struct vg_reply {
    vg_ctl_call call;
};

static int run_plugin_cmd(vg_ctl_call *call)
{
    struct vg_host_cmd *c = call->arg;
    msgpack_sbuffer args;
    msgpack_sbuffer_init(&args);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &args, msgpack_sbuffer_write);
    if (call->args->type == MSGPACK_OBJECT_MAP)
        msgpack_pack_object(&pk, *call->args);
    else
        msgpack_pack_map(&pk, 0);
    int rc = c->desc.run(c->desc.priv, args.data, args.size, (vg_reply *)call);
    msgpack_sbuffer_destroy(&args);
    return rc < 0 ? rc : 0;
}

static int h_register_command(vg_host *h, const vg_command_desc *cmd)
{
    if (!h->env->ctl)
        return -ENODEV;
    if (!cmd || !cmd->name || !cmd->run || strlen(cmd->name) >= 64)
        return -EINVAL;
    struct vg_host_cmd *c = calloc(1, sizeof(*c));
    struct vg_host_cmd **grown = c ? realloc(h->cmds, (h->ncmds + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        free(c);
        return -ENOMEM;
    }
    h->cmds = grown;
    c->desc = *cmd;
    snprintf(c->name, sizeof(c->name), "%s", cmd->name);
    c->desc.name = c->name;
    vg_ctl_cmd cc = {.name = c->name, .fn = run_plugin_cmd, .arg = c};
    int rc = vg_ctl_register(h->env->ctl, &cc);
    if (rc < 0) {
        free(c);
        return rc;
    }
    h->cmds[h->ncmds++] = c;
    return 0;
}

static int h_reply(vg_reply *r, const void *obj, size_t len)
{
    msgpack_packer *pk = r->call.pk;
    return pk->callback(pk->data, obj, len) == 0 ? 0 : -ENOMEM;
}

static void h_reply_error(vg_reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->call.error, sizeof(r->call.error), fmt, ap);
    va_end(ap);
}

void vg__host_free_cmds(struct vg_host *h)
{
    for (size_t i = 0; i < h->ncmds; i++)
        free(h->cmds[i]);
    free(h->cmds);
    h->cmds = NULL;
    h->ncmds = 0;
}

/* ---- ABI 1.3: decide on a named subject -------------------------------- */

static const char *known(const char *v)
{
    return v ? v : "";
}

/* A port in decimal, as rules keep it ("" for 0, not known); without
 * snprintf, which would double the cost of a cached net answer. */
static void port_text(int port, char out[8])
{
    char digits[8];
    int n = 0;
    for (; port > 0; port /= 10)
        digits[n++] = (char)('0' + port % 10);
    for (int i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    out[n] = '\0';
}

/* The subject's fields in the plane's order, as the rules key them.
 * Every field of 1.3 is read; a field a later minor adds is read only when
 * h->desc->abi_minor says the plugin's struct has it. -EINVAL for a plane
 * or port out of range. */
static int subject_fields(const vg_subject *s, const char **f, char port[8])
{
    switch (s->plane) {
    case VG_PLANE_PROC:
        f[0] = known(s->proc.name), f[1] = known(s->proc.path), f[2] = known(s->proc.user);
        return 0;
    case VG_PLANE_FILE:
        f[0] = known(s->file.path), f[1] = known(s->file.program), f[2] = known(s->file.access);
        return 0;
    case VG_PLANE_NET:
        if (s->net.port < 0 || s->net.port > 65535)
            return -EINVAL;
        port_text(s->net.port, port);
        f[0] = known(s->net.direction), f[1] = known(s->net.peer), f[2] = port;
        f[3] = known(s->net.proto), f[4] = known(s->net.app);
        return 0;
    default:
        return -EINVAL;
    }
}

static int h_decide(vg_host *h, const vg_subject *s)
{
    const char *fields[5];
    char port[8];
    if (!s || subject_fields(s, fields, port) < 0)
        return VG_DECIDE_UNKNOWN;
    return h_decide_fields(h, s->group, s->plane, fields);
}

/* ---- ABI 1.5: declarations in policies -------------------------------- */

/* Only the kinds the plugin declared: a plugin reads its own. */
static int h_policy_decls(vg_host *h, const char *name,
                          void (*cb)(void *arg, const void *decl, size_t len), void *arg)
{
    const vg_policy_decl_desc *k = vg_plugin_decls_of(h->desc);
    while (k && k->name && (!name || strcmp(k->name, name) != 0))
        k++;
    if (!k || !k->name || !cb)
        return -ENOENT;
    return vg_policy_decls_each(h->env->policy, name, cb, arg);
}

const vg_host_api vg__host_api = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .size = sizeof(vg_host_api),
    .log = h_log,
    .event_type = h_event_type,
    .publish = h_publish,
    .loop = h_loop,
    .config_string = h_config_string,
    .config_int = h_config_int,
    .config_bool = h_config_bool,
    .register_action = h_register_action,
    .set_state = h_set_state,
    .store_put = h_store_put,
    .store_get = h_store_get,
    .store_del = h_store_del,
    .workload_of_pid = h_workload_of_pid,
    .decide_fields = h_decide_fields,
    .subscribe = h_subscribe,
    .workloads_each = h_workloads_each,
    .register_command = h_register_command,
    .reply = h_reply,
    .reply_error = h_reply_error,
    .decide = h_decide,
    .policy_decls = h_policy_decls,
};
