/*
 * What the control commands of the core work on: the modules they read and
 * change, and the few things only the daemon can do (reload, its uptime and
 * reload counters) as callbacks. The daemon fills one vg_ctl_env and
 * registers the commands on it (core/daemon/daemon.c); a unit test fills
 * one with real modules of its own (tests/unit/test_ctl_*.c). No command
 * sees the daemon itself.
 *
 * Ownership: the env and everything it points to belong to the caller and
 * must outlive the ctl (the commands keep a pointer to the env, not a copy,
 * so a field the caller changes later, such as plugins once they are
 * loaded, is seen by the next call). Loop thread only.
 *
 * The commands, by file (their result shapes are what `vigilctl --json`
 * prints, so changing a key is a user-visible change):
 *   ctl_core.c       status, plugins, reload
 *   ctl_rules.c      rules {op = list|add|delete|export|import}
 *   ctl_events.c     events (query or follow), and the bus subscriber that
 *                    stores events and feeds the followers
 *   ctl_workloads.c  workloads, groups, group.show, group.mode
 */
#ifndef VG_CTL_ENV_H
#define VG_CTL_ENV_H

#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "ctl.h"
#include "diag.h"
#include "discovery.h"
#include "groups.h"
#include "output.h"
#include "plugins.h"
#include "policy.h"
#include "rules.h"
#include "store.h"
#include "store_skip.h"
#include "suppress.h"
#include "webhook.h"
#include "workloads.h"

/* What `status` says of the daemon itself. */
typedef struct vg_ctl_daemon_info {
    uint64_t uptime_s;
    uint64_t reloads_ok, reloads_failed;
    const char *last_error; /* the first problem of the last refused reload; NULL: none */
} vg_ctl_daemon_info;

typedef struct vg_ctl_env {
    vg_ctl *ctl;           /* where the commands are registered */
    vg_config *const *cfg; /* the current config: a reload swaps *cfg */
    vg_store *store;
    vg_store_skip *store_skip; /* the event types not stored */
    vg_bus *bus;
    vg_rules *rules;
    vg_groups *groups;
    vg_workloads *workloads;
    vg_discovery *discovery; /* told when a group's mode changes; NULL: none */
    vg_policy *policy;       /* its cached decisions dropped on a mode change; NULL: none */
    vg_plugins *plugins;     /* NULL until they are loaded: an empty list */
    vg_suppress *suppress;   /* suppressed events are neither stored nor streamed */
    vg_webhooks *webhooks;
    vg_outputs *outputs;     /* the "outputs" setting; NULL: none */

    /* Re-reads config, policies and plugin settings. On a refusal: a
     * negative errno, every problem in diag, the running set unchanged. */
    int (*reload)(void *arg, vg_diag *diag);
    /* Uptime and reload counters, for `status`. */
    void (*daemon_info)(void *arg, vg_ctl_daemon_info *out);
    void *arg; /* for reload and daemon_info */
} vg_ctl_env;

/* Registers every command above on env->ctl. -EEXIST if a name is taken,
 * -ENOMEM. */
int vg_ctl_env_register(const vg_ctl_env *env);

/* The bus subscriber of every event (subscribe it with arg = env): stores
 * the event unless store_skip keeps its type out, and sends it to the
 * followers whose filter it matches; a suppressed event does neither. */
void vg_ctl_events_on_event(const vg_event *ev, void *arg);

#endif
