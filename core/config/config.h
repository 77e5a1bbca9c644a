/*
 * The daemon's configuration: a Lua file (default /etc/vigil/vigil.lua) run in
 * a sandbox that offers only a few pure libraries (no io, os, require, load).
 * Top-level assignments are the settings:
 *
 *     log_level = "info"
 *     state_dir = "/var/lib/vigil"
 *     plugins = { proc = { enabled = true, fail_mode = "allow" } }
 *
 * Every top-level key is checked against the schema as it is assigned: an
 * unknown key or a wrong type is an error naming the key and the file:line of
 * the assignment. All problems are collected, not just the first.
 *
 * The schema (key, type, default) is the table in config.c; docs/config.md
 * lists it for users.
 */
#ifndef VG_CONFIG_H
#define VG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <lua.h>
#include <msgpack.h>

#include "diag.h"

typedef struct vg_config {
    char *path;          /* the file read, or NULL for built-in defaults */
    char *state_dir;     /* "state_dir", default /var/lib/vigil */
    char *socket_path;   /* "socket", default /run/vigil/vigild.sock */
    char *plugin_dir;    /* "plugin_dir", default VIGIL_DEFAULT_PLUGIN_DIR */
    char **policy_dirs;  /* "policy_dirs", NULL-terminated; default: shipped + /etc/vigil/policies.d */
    int log_level;       /* "log_level", default info */
    char *default_mode;  /* "default_mode": learn|monitor|protect, default learn */
    char *control_group; /* "control_group": group allowed on the socket besides root; NULL */
    uint64_t events_max; /* "events_max": events kept in the store, default 100000 */
    uint64_t bus_queue;  /* "bus_queue": bus queue capacity, default 65536 */
    uint64_t store_map_mb; /* "store_map_mb": initial LMDB map size, default 64 */
    char **store_skip;     /* "store_skip": event types/globs not stored, NULL-terminated; empty */
    char *discovery_root; /* "discovery_root": prefix of /proc, /run, ... for tests; NULL */
    uint64_t rescan_ms;  /* "rescan_ms": workload rescan period, default 1000 */
    /* "group_aging_hours": unused service groups are removed after; 0 never; default 24 */
    uint64_t group_aging_hours;
    void *L;             /* the sandboxed lua_State, kept for plugin settings */
    int plugins_line;    /* line of the "plugins" assignment, 0 if none */
} vg_config;

/* Built-in defaults only (no file). */
int vg_config_defaults(vg_config **out);

/* Reads and checks `path`. Every problem goes into diag as "file:line: msg".
 * Returns 0 and *out when there was none; otherwise a negative errno
 * (-ENOENT unreadable file, -EINVAL bad content) and *out untouched. */
int vg_config_load(const char *path, vg_config **out, vg_diag *diag);

void vg_config_free(vg_config *cfg);

/* plugins.<plugin>.<key>; 0, -ENOENT (not set), -EINVAL (other type).
 * Strings are owned by cfg. */
int vg_config_plugin_string(const vg_config *cfg, const char *plugin, const char *key,
                            const char **out);
int vg_config_plugin_int(const vg_config *cfg, const char *plugin, const char *key,
                         int64_t *out);
int vg_config_plugin_bool(const vg_config *cfg, const char *plugin, const char *key, int *out);

/* plugins.<plugin>.enabled, true when not set. */
bool vg_config_plugin_enabled(const vg_config *cfg, const char *plugin);

/* Pushes the raw value of the top-level setting `key` (nil when unset) onto
 * cfg->L and returns its Lua type (LUA_T*), or -EINVAL / -ENOMEM with
 * nothing pushed. For settings kept in the Lua state ("groups"); the caller
 * pops it. Loop thread. */
int vg_config_push_setting(const vg_config *cfg, const char *key);

/* config_webhooks.c: the schema of the "webhooks" setting (endpoints of the
 * webhook action, core/respond/webhook.h), kept with the loader so that
 * `vigild --check` and a reload name the file and line of a bad endpoint.
 *
 * vg_config_webhooks_check checks the table at idx: 0, or -EINVAL with the
 * first problem in err; it leaves the Lua stack as it found it.
 * vg_config_webhooks_pack packs the setting of cfg as a msgpack map of
 * endpoint name to {url, slack, timeout_ms, headers}, as checked at load
 * (an empty map when not set or cfg has no Lua state): 0 or -ENOMEM. */
int vg_config_webhooks_check(lua_State *L, int idx, char *err, size_t errlen);
int vg_config_webhooks_pack(const vg_config *cfg, msgpack_packer *pk);

/* config_outputs.c: the schemas of the "outputs" setting (where events go
 * besides the store: core/output/output.h) and of "metrics" (the Prometheus
 * endpoint), checked at load like "webhooks" so that a bad output is named
 * with its file and line. Both leave the Lua stack as they found it. */
int vg_config_outputs_check(lua_State *L, int idx, char *err, size_t errlen);
int vg_config_metrics_check(lua_State *L, int idx, char *err, size_t errlen);

/* The output kinds the "outputs" setting accepts, NULL-terminated. */
extern const char *const vg_config_output_kinds[];

/* Packs the top-level setting `key` of cfg as msgpack (tables as maps or
 * arrays, as checked at load); nil when it is not set or cfg has no Lua
 * state. 0 or -ENOMEM. */
int vg_config_pack_setting(const vg_config *cfg, const char *key, msgpack_packer *pk);
/* The same, unpacked: up->data is the setting (nil when unset), valid while
 * sb and up live; the caller destroys both, also on failure. 0, -ENOMEM. */
int vg_config_unpack_setting(const vg_config *cfg, const char *key, msgpack_sbuffer *sb,
                             msgpack_unpacked *up);

#endif
