/*
 * The host table handed to every plugin (see include/vigil/plugin.h). Each
 * function receives the plugin's own record (struct vg_host) and reaches the
 * daemon only through its vg_plugin_env.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "plugins.h"

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

static int h_event_type(vg_host *h, const char *name)
{
    return vg_event_type_id(name);
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

static int h_store_put(vg_host *h, const char *table, const void *key, size_t klen,
                       const void *val, size_t vlen)
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
};
