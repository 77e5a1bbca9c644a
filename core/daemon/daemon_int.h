/*
 * The daemon's state, shared by the files of core/daemon/ (daemon.c the
 * life cycle, daemon_policy.c the policy engine's env, daemon_aging.c the
 * group aging timer); not for other files. Everything the struct points to
 * is owned by it and freed at shutdown (daemon.c, teardown).
 */
#ifndef VG_DAEMON_INT_H
#define VG_DAEMON_INT_H

/* Private to core/daemon/: the build defines VG_CORE_MODULE_DAEMON for that
 * folder's files only, so that any other file including this is an error. */
#ifndef VG_CORE_MODULE_DAEMON
#error "daemon_int.h is private to core/daemon/; use daemon.h"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "actions.h"
#include "ctl_env.h"
#include "daemon.h"
#include "metrics.h"
#include "output.h"
#include "plugin_decls.h"
#include "plugins.h"

typedef struct vg_daemon {
    uv_loop_t loop;
    vg_opts opts;
    vg_config *cfg;
    vg_store *store;
    vg_store_skip *store_skip; /* the event types not stored (store_skip setting) */
    vg_bus *bus;
    vg_ctl *ctl;
    vg_actions *actions;
    vg_rules *rules;       /* opened after the store, freed after it is closed */
    vg_suppress *suppress; /* the "suppress" action and its check */
    vg_webhooks *webhooks; /* the "webhook" action */
    vg_outputs *outputs;   /* the "outputs" setting: files, journald, falco, kafka */
    vg_metrics *metrics;   /* the "metrics" setting: Prometheus and health endpoint */
    vg_plugins *plugins;
    vg_plugin_env plugin_env;
    vg_plugin_decls decls;   /* what policies may declare for the plugins */
    vg_ctl_env ctl_env;      /* what the control commands see (open_ctl) */
    vg_workloads *workloads; /* the registry; lookups from any thread */
    vg_groups *groups;
    vg_discovery *discovery;
    vg_policy *policy; /* the Lua policies; uses groups, rules, actions */

    int lock_fd;
    uint64_t started_ms; /* uv_now at start */
    int store_sub;       /* bus subscription of the store */
    bool handles_ready;  /* signals and timers initialised */
    bool unsynced;       /* committed since the last fsync */

    uv_signal_t sig_hup, sig_term, sig_int;
    uv_signal_t sig_usr1;    /* reopens the outputs' files (logrotate) */
    uv_check_t commit_check; /* commits the store batch at the end of an iteration */
    uv_timer_t commit_timer; /* commits a batch of events only (daemon.c) */
    uv_timer_t sync_timer;   /* fsyncs the store every second */
    uv_timer_t watchdog;
    uint64_t commit_failures;       /* store commits that failed, for the log */
    uint64_t commit_fail_logged_ms; /* when that was last logged */
    uv_timer_t aging_timer;         /* removes unused service groups (daemon_aging.c) */
    uint64_t aging_hour_ms;         /* an hour of group_aging_hours: 3600000 but in tests */

    struct {
        uint64_t ok, failed;
        char *last_error;
    } reloads;
    int policy_error_type; /* event type "policy.error" */
    int daemon_type;       /* event type "daemon.status" */
} vg_daemon;

/* Re-reads config, policies and each plugin's settings (SIGHUP, `vigilctl
 * reload` through the ctl env). On a problem the running configuration
 * stays, the problems go to diag, a policy.error event is published, and a
 * negative errno is returned. */
int vg_daemon_reload(vg_daemon *d, vg_diag *diag);

/* Creates the policy engine and subscribes it to the bus
 * (daemon_policy.c). */
int vg__policy_open(vg_daemon *d);
/* The first load, after the plugins' init. A policy that does not load is
 * logged and published as policy.error; the daemon then runs without
 * policies, which `vigilctl status` shows first. */
void vg__policy_first_load(vg_daemon *d);
/* Publishes how a webhook delivery of a response ended, as a second
 * response.done (status "done" or "failed"; the first said "pending"). */
void vg__webhook_result(void *arg, const vg_webhook_result *r);

/* The bus's enricher (arg: the daemon): an event that came as the host's
 * or nobody's in a container's first moments gets the workload and group
 * its cgroup names, before the store, the policy and the outputs see it
 * (daemon_attrib.c). */
void vg__attribute(vg_event *ev, void *arg);

/* Ends the timed learning of the groups whose time is over (each with a
 * group.mode event; daemon_learn.c). Called every second. */
void vg__learn_check(vg_daemon *d);
/* Each sync timer tick: now and then, freed memory back to the kernel
 * (daemon_trim.c). */
void vg__trim_tick(vg_daemon *d);

/* Loads the policies of cfg into the engine with its name checks (the
 * webhook endpoints, empty_policies; the plugins' names are declared). */
int vg__policy_load(vg_daemon *d, const vg_config *cfg, vg_diag *diag);

/* How often unused service groups are looked for (daemon_aging.c). */
#define VG_GROUP_AGING_PERIOD_MS (5 * 60 * 1000)
/* One check now, then the timer (after the first discovery scan). */
void vg__group_aging_start(vg_daemon *d);
/* One check: idle times counted, groups unused past group_aging_hours
 * removed and published as group.removed. */
void vg__group_aging_check(vg_daemon *d);

/* caps.c: drops every capability the daemon's work does not need (from
 * the calling thread's sets and the bounding set); call before threads
 * start. 0, or a negative errno (logged; the daemon runs on). Nothing to do
 * when not root. */
int vg__caps_drop(void);

#endif
