/*
 * The daemon: one libuv loop that owns the config, the store, the bus, the
 * control socket and the plugins. main.c parses options and calls
 * vg_daemon_run() (or vg_daemon_check() for `vigild --check`); that is the
 * whole of the daemon's API.
 *
 * Who owns what: the daemon (struct vg_daemon, private to core/daemon/ in
 * daemon_int.h) owns every module it opens and frees them at shutdown. The
 * modules never see it: the control commands get a vg_ctl_env
 * (core/ctl/ctl_env.h), the plugins a vg_plugin_env (core/plugin/plugins.h),
 * the policy engine a vg_policy_env (core/policy/policy.h), each filled by
 * the daemon with what that module needs and callbacks for what only the
 * daemon can do (reload, uptime, group modes).
 *
 * Start-up order: config, instance lock on the state directory, store, bus
 * (its first id follows the last stored event), control socket, workloads
 * and groups (a first discovery scan), plugins (init, then start), READY=1.
 * Shutdown is the reverse, and ends with a durable store commit.
 */
#ifndef VG_DAEMON_H
#define VG_DAEMON_H

#include "config.h"
#include "diag.h"

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

/* Loads the config named by opts (applying the overrides). On failure every
 * problem is in diag. The caller frees *out with vg_config_free(). */
int vg_daemon_load_config(const vg_opts *opts, vg_config **out, vg_diag *diag);

/* Runs the daemon until SIGTERM/SIGINT. Returns the process exit status. */
int vg_daemon_run(const vg_opts *opts);

/* Validates config and policies without starting anything (`vigild
 * --check`): 0 when clean, otherwise -EINVAL with every problem in diag. */
int vg_daemon_check(const vg_opts *opts, vg_diag *diag);

#endif
