/*
 * The daemon: one libuv loop that owns the config, the store, the bus, the
 * control socket and the plugins. main.c parses options and calls
 * vg_daemon_run(); everything else hangs off struct vg_daemon.
 *
 * Start-up order: config, instance lock on the state directory, store, bus
 * (its first id follows the last stored event), control socket, workloads
 * and groups (a first discovery scan), plugins (init, then start), READY=1.
 * Shutdown is the reverse, and ends with a durable store commit.
 */
#ifndef VG_DAEMON_H
#define VG_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "actions.h"
#include "bus.h"
#include "config.h"
#include "ctl.h"
#include "discovery.h"
#include "groups.h"
#include "metrics.h"
#include "output.h"
#include "plugins.h"
#include "policy.h"
#include "rules.h"
#include "store.h"
#include "store_skip.h"
#include "workloads.h"
#include "suppress.h"
#include "webhook.h"

/* Command-line settings; each non-NULL one overrides the config file, also
 * after a reload. */
typedef struct vg_opts {
    const char *config_path; /* NULL: built-in defaults only */
    const char *state_dir;
    const char *socket_path;
    const char *plugin_dir;
    const char *policy_dir; /* replaces the config's policy_dirs */
    /* where the shipped policies are, wherever policy_dirs names their
     * installed directory (make run, a DESTDIR) */
    const char *shipped_policy_dir;
    const char *log_level;
} vg_opts;

typedef struct vg_daemon {
    uv_loop_t loop;
    vg_opts opts;
    vg_config *cfg;
    vg_store *store;
    vg_store_skip *store_skip; /* the event types not stored (store_skip setting) */
    vg_bus *bus;
    vg_ctl *ctl;
    vg_actions *actions;
    vg_rules *rules;         /* opened after the store, freed after it is closed */
    vg_suppress *suppress;   /* the "suppress" action and its check */
    vg_webhooks *webhooks;   /* the "webhook" action */
    vg_outputs *outputs;     /* the "outputs" setting: files, journald, falco, kafka */
    vg_metrics *metrics;     /* the "metrics" setting: Prometheus and health endpoint */
    vg_plugins *plugins;
    vg_plugin_env plugin_env;
    vg_workloads *workloads; /* the registry; lookups from any thread */
    vg_groups *groups;
    vg_discovery *discovery;
    vg_policy *policy;       /* the Lua policies; uses groups, rules, actions */

    int lock_fd;
    uint64_t started_ms; /* uv_now at start */
    int store_sub;       /* bus subscription of the store */
    bool handles_ready;  /* signals and timers initialised */
    bool unsynced;       /* committed since the last fsync */

    uv_signal_t sig_hup, sig_term, sig_int;
    uv_signal_t sig_usr1; /* reopens the outputs' files (logrotate) */
    uv_check_t commit_check; /* commits the store batch once per iteration */
    uv_timer_t sync_timer;   /* fsyncs the store every second */
    uv_timer_t watchdog;
    uv_timer_t aging_timer; /* removes unused service groups (daemon_aging.c) */
    uint64_t aging_hour_ms; /* an hour of group_aging_hours: 3600000 but in tests */

    struct {
        uint64_t ok, failed;
        char *last_error;
    } reloads;
    int policy_error_type; /* event type "policy.error" */
    int daemon_type;       /* event type "daemon.status" */
} vg_daemon;

/* Loads the config named by opts (applying the overrides). On failure every
 * problem is in diag. */
int vg_daemon_load_config(const vg_opts *opts, vg_config **out, vg_diag *diag);

/* Runs the daemon until SIGTERM/SIGINT. Returns the process exit status. */
int vg_daemon_run(const vg_opts *opts);

/* Re-reads config, policies and each plugin's settings (SIGHUP, `vigilctl
 * reload`). On a problem the running configuration stays, the problems go
 * to diag, a policy.error event is published, and a negative errno is
 * returned. */
int vg_daemon_reload(vg_daemon *d, vg_diag *diag);

/* Validates config and policies without starting anything (`vigild
 * --check`): 0 when clean, otherwise -EINVAL with every problem in diag. */
int vg_daemon_check(const vg_opts *opts, vg_diag *diag);

/* Control commands of the core (ctl_core.c, ctl_events.c). */
int vg__ctl_core_register(vg_daemon *d);
int vg__ctl_events_register(vg_daemon *d);
int vg__ctl_workloads_register(vg_daemon *d); /* ctl_workloads.c */
int vg__ctl_rules_register(vg_daemon *d); /* ctl_rules.c */
/* Creates the policy engine, subscribes it to the bus and loads the
 * policies (daemon_policy.c). A policy that does not load is logged and
 * published as policy.error; the daemon then runs without policies. */
int vg__policy_open(vg_daemon *d);

/* How often unused service groups are looked for (daemon_aging.c). */
#define VG_GROUP_AGING_PERIOD_MS (5 * 60 * 1000)
/* One check now, then the timer (after the first discovery scan). */
void vg__group_aging_start(vg_daemon *d);
/* One check: idle times counted, groups unused past group_aging_hours
 * removed and published as group.removed. */
void vg__group_aging_check(vg_daemon *d);

/* Stored events for queries and the live stream to followers (events.c). */
void vg__events_on_event(const vg_event *ev, void *arg);

#endif
