/*
 * The plugin loader: finds every *.so in the plugin directory, checks its
 * descriptor, and drives it through init, start, reload and stop.
 *
 * A plugin whose ABI major differs from the daemon's is refused (both
 * versions logged) and never called; one whose init or start fails is logged,
 * marked FAILED and skipped; one disabled in the config
 * (plugins.<name>.enabled = false) is not loaded. The daemon runs on in every
 * case. Loop thread only.
 */
#ifndef VG_PLUGINS_H
#define VG_PLUGINS_H

#include <msgpack.h>
#include <uv.h>
#include <vigil/plugin.h>

#include "actions.h"
#include "bus.h"
#include "config.h"
#include "store.h"

/* What the host table gives plugins access to. Owned by the caller and
 * outliving the plugin set. cfg points at the daemon's current config
 * pointer, so that a reload that swaps the config is seen by plugins. */
typedef struct vg_plugin_env {
    uv_loop_t *loop;
    vg_bus *bus;
    vg_store *store; /* NULL: store calls fail with -ENODEV */
    vg_config **cfg;
    vg_actions *actions;
    struct vg_workloads *workloads; /* NULL: workload calls fail with -ENODEV */
    struct vg_groups *groups;
    struct vg_policy *policy; /* NULL: decide() answers UNKNOWN */
    struct vg_ctl *ctl;       /* NULL: register_command fails with -ENODEV */
} vg_plugin_env;

/* A plugin's bus subscription: the bus calls back here, and the event is
 * handed on in its wire form. Owned by the plugin's record. */
struct vg_host_sub {
    int id; /* bus subscription */
    vg_event_cb cb;
    void *arg;
    msgpack_sbuffer wire;
};

/* One loaded (or refused) plugin; it is the vg_host handed to the plugin. */
struct vg_host {
    const vg_plugin_env *env;
    const vg_plugin_desc *desc; /* NULL when refused before reading it */
    void *dl;                   /* dlopen handle */
    void *priv;                 /* the plugin's state from init */
    char *file;
    char name[64];
    int state;                 /* enum vg_plugin_state */
    int inited;                /* init() succeeded, so stop() is owed */
    struct vg_host_sub **subs; /* bus subscriptions made through subscribe() */
    size_t nsubs;
    struct vg_host_cmd **cmds; /* control commands added through register_command() */
    size_t ncmds;
    char why[256];
};

typedef struct vg_plugins vg_plugins;

/* Loads and inits every plugin of `dir` in name order. A missing directory
 * is logged and gives an empty set. 0 or -ENOMEM. */
int vg_plugins_load(const vg_plugin_env *env, const char *dir, vg_plugins **out);

/* Starts every initialised plugin. */
void vg_plugins_start(vg_plugins *ps);

/* Calls reload() of every running plugin; returns how many failed. */
int vg_plugins_reload(vg_plugins *ps);

/* Stops every plugin in reverse order, unloads them and frees the set. */
void vg_plugins_stop(vg_plugins *ps);

/* Packs an array of {name, version, description, state, why, file, abi}. */
int vg_plugins_pack(const vg_plugins *ps, msgpack_packer *pk);

size_t vg_plugins_count(const vg_plugins *ps);
const struct vg_host *vg_plugins_at(const vg_plugins *ps, size_t i);
const char *vg_plugin_state_name(int state);

/* The host table given to every plugin (host_api.c). */
extern const vg_host_api vg__host_api;

/* Ends a plugin's subscriptions (before its stop()) and frees them (after). */
void vg__host_unsubscribe(struct vg_host *h);
void vg__host_free_subs(struct vg_host *h);
/* Frees a plugin's command descriptors after its stop(). The control server
 * still points at them until it closes, which the daemon does in the same
 * loop callback, before any further request is read. */
void vg__host_free_cmds(struct vg_host *h);

#endif
