/* The daemon's life cycle: start-up, signals, reload, shutdown; see daemon.h. */
#include "daemon_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "mp.h"
#include "plugin_settings.h"
#include "policy_files.h"

/* ---- configuration ------------------------------------------------------ */

static int replace_str(char **dst, const char *src)
{
    char *s = strdup(src);
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

/* Command-line values win over the file, so that `make run` and tests can
 * point a shipped config at their own directories. */
static int apply_overrides(const vg_opts *o, vg_config *c)
{
    int rc = 0;
    if (o->state_dir)
        rc |= replace_str(&c->state_dir, o->state_dir);
    if (o->socket_path)
        rc |= replace_str(&c->socket_path, o->socket_path);
    if (o->plugin_dir)
        rc |= replace_str(&c->plugin_dir, o->plugin_dir);
    if (o->policy_dir) {
        char **dirs = calloc(2, sizeof(*dirs));
        if (!dirs || !(dirs[0] = strdup(o->policy_dir))) {
            free(dirs);
            return -ENOMEM;
        }
        for (size_t i = 0; c->policy_dirs && c->policy_dirs[i]; i++)
            free(c->policy_dirs[i]);
        free(c->policy_dirs);
        c->policy_dirs = dirs;
    }
    for (size_t i = 0; o->shipped_policy_dir && c->policy_dirs && c->policy_dirs[i]; i++)
        if (strcmp(c->policy_dirs[i], VIGIL_DEFAULT_POLICY_DIR) == 0)
            rc |= replace_str(&c->policy_dirs[i], o->shipped_policy_dir);
    if (o->log_level) {
        int level = vg_log_parse_level(o->log_level);
        if (level < 0)
            return -EINVAL;
        c->log_level = level;
    }
    return rc ? -ENOMEM : 0;
}

int vg_daemon_load_config(const vg_opts *opts, vg_config **out, vg_diag *diag)
{
    vg_config *cfg;
    int rc = opts->config_path ? vg_config_load(opts->config_path, &cfg, diag)
                               : vg_config_defaults(&cfg);
    if (rc < 0)
        return rc;
    rc = apply_overrides(opts, cfg);
    if (rc == -EINVAL)
        vg_diag_add(diag, "--log-level: '%s' is not one of error, warning, notice, info, debug",
                    opts->log_level);
    /* With the plugin directory known: what the plugins declare they read
     * (at start, at every reload and for --check alike). */
    if (rc == 0)
        rc = vg_plugin_settings_check(cfg, diag);
    if (rc < 0) {
        vg_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

static int check_control_group(const vg_config *cfg, vg_diag *diag)
{
    if (cfg->control_group && !getgrnam(cfg->control_group)) {
        vg_diag_add(diag, "%s: control_group: no such group '%s'", cfg->path ? cfg->path : "config",
                    cfg->control_group);
        return -EINVAL;
    }
    return 0;
}

int vg_daemon_check(const vg_opts *opts, vg_diag *diag)
{
    vg_config *cfg;
    if (vg_daemon_load_config(opts, &cfg, diag) < 0)
        return -EINVAL;
    int rc = check_control_group(cfg, diag);
    /* A full load, as a reload would do it, not only a syntax check; no
     * plugin is loaded, so names that may be a third-party plugin's are
     * warnings (policy.h). */
    char **hooks = NULL;
    if (vg_config_webhook_names(cfg, &hooks) < 0)
        rc = -ENOMEM;
    vg_plugin_decls decls;
    if (vg_plugin_decls_dir(cfg->plugin_dir, &decls) < 0)
        rc = -ENOMEM;
    vg_policy_load load = {.webhooks = (const char *const *)hooks,
                           .allow_empty = strcmp(cfg->empty_policies, "allow") == 0,
                           .decls = decls.v,
                           .ndecls = decls.n};
    if (vg_policy_check_with(cfg->policy_dirs, &load, diag) < 0)
        rc = -EINVAL;
    vg_plugin_decls_free(&decls);
    vg_config_names_free(hooks);
    if (vg_groups_check_config(cfg, diag) < 0)
        rc = -EINVAL;
    /* A warning, not a problem: the config is valid, the host lacks a library. */
    char why[512];
    if (vg_webhooks_check_curl(cfg, NULL, why, sizeof(why)) < 0)
        vg_warn("%s (Debian: install libcurl4)", why);
    vg_config_free(cfg);
    return rc;
}

/* ---- the instance lock -------------------------------------------------- */

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Two daemons on one store would corrupt each other's view of it, so the
 * state directory is locked for the daemon's lifetime (flock: released by
 * the kernel however the process ends). */
static int lock_state_dir(const char *dir, int *fd_out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/vigild.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char pid[32] = "?";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 1] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        vg_err("another vigild (pid %s) is already running on state directory %s", pid, dir);
        close(fd);
        return -EBUSY;
    }
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        vg_warn("cannot write pid to %s: %s", path, strerror(errno));
    *fd_out = fd;
    return 0;
}

/* ---- store upkeep ------------------------------------------------------- */

/* Events are the stream: one transaction per loop iteration is one per
 * exec when each exec wakes the loop, and an LMDB commit (its page and meta
 * writes) costs more than the policy's handling of the event. So a batch of
 * events only waits, up to EVENT_BATCH_MS after its first or until it holds
 * EVENT_BATCH_MAX, and is committed in one transaction. Anything else
 * (rules, groups, plugin state) is committed at the end of the iteration
 * that queued it, as before, with the events queued so far. Reads of the
 * events table commit first (store.h), so `vigilctl events` sees them. */
#define EVENT_BATCH_MS 50
#define EVENT_BATCH_MAX 1024

static void commit_batch(vg_daemon *d)
{
    uv_timer_stop(&d->commit_timer);
    int rc = vg_store_commit(d->store, false);
    if (rc >= 0) {
        d->unsynced = true;
        return;
    }
    /* Once per loop iteration while the disk is full would be thousands of
     * lines a minute: one line a minute says the same. */
    uint64_t now = uv_now(&d->loop);
    d->commit_failures++;
    if (d->commit_failures == 1 || now - d->commit_fail_logged_ms >= 60000) {
        vg_err("store commit failed (%s), %" PRIu64 " times so far; the batch is kept and "
               "retried, and %" PRIu64 " events could not be stored (vigilctl status)",
               strerror(-rc), d->commit_failures, vg_store_skip_lost_total(d->store_skip));
        d->commit_fail_logged_ms = now;
    }
}

static void on_commit_timer(uv_timer_t *h)
{
    vg_daemon *d = h->data;
    if (vg_store_dirty(d->store))
        commit_batch(d);
}

static void on_commit_check(uv_check_t *h)
{
    vg_daemon *d = h->data;
    if (!vg_store_dirty(d->store))
        return;
    if (vg_store_only_events(d->store) && vg_store_pending(d->store) < EVENT_BATCH_MAX) {
        if (!uv_is_active((uv_handle_t *)&d->commit_timer))
            uv_timer_start(&d->commit_timer, on_commit_timer, EVENT_BATCH_MS, 0);
        return;
    }
    commit_batch(d);
}

static void on_sync_timer(uv_timer_t *h)
{
    vg_daemon *d = h->data;
    vg__learn_check(d); /* timed learning: at most a second late */
    vg__trim_tick(d);
    if (!d->unsynced && !vg_store_dirty(d->store))
        return;
    if (vg_store_commit(d->store, true) == 0)
        d->unsynced = false;
}

/* ---- systemd ------------------------------------------------------------ */

static void on_watchdog(uv_timer_t *h)
{
    sd_notify(0, "WATCHDOG=1");
}

static void start_watchdog(vg_daemon *d)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    /* Ping at half the interval, as sd_watchdog_enabled(3) advises. */
    uint64_t ms = usec / 2000 ? usec / 2000 : 1;
    uv_timer_start(&d->watchdog, on_watchdog, ms, ms);
}

/* ---- reload ------------------------------------------------------------- */

static void publish_policy_error(vg_daemon *d, const vg_diag *diag)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_str(&pk, "message", diag->n ? diag->msgs[0] : "reload failed");
    vg_mp_pack_cstr(&pk, "problems");
    msgpack_pack_array(&pk, diag->n);
    for (size_t i = 0; i < diag->n; i++)
        vg_mp_pack_cstr(&pk, diag->msgs[i]);
    vg_event_in ev = {.type = d->policy_error_type,
                      .severity = VG_SEV_ERROR,
                      .body = sb.data,
                      .body_len = sb.size};
    vg_bus_publish(d->bus, &ev);
    msgpack_sbuffer_destroy(&sb);
}

static void warn_restart_needed(const vg_config *old, const vg_config *cfg)
{
    if (strcmp(old->state_dir, cfg->state_dir) != 0)
        vg_warn("reload: state_dir changed; it takes effect at the next restart");
    if (strcmp(old->socket_path, cfg->socket_path) != 0)
        vg_warn("reload: socket changed; it takes effect at the next restart");
    if (strcmp(old->plugin_dir, cfg->plugin_dir) != 0)
        vg_warn("reload: plugin_dir changed; it takes effect at the next restart");
    /* The store and the bus are sized once, when they are opened. */
    if (old->events_max != cfg->events_max)
        vg_warn("reload: events_max changed; it takes effect at the next restart");
    if (old->bus_queue != cfg->bus_queue)
        vg_warn("reload: bus_queue changed; it takes effect at the next restart");
    if (old->store_map_mb != cfg->store_map_mb)
        vg_warn("reload: store_map_mb changed; it takes effect at the next restart");
}

/* Custom groups are re-read (their predicates live in the new config's Lua
 * state, so this happens before the old config is freed) and every workload
 * is classified again. */
static void reload_groups(vg_daemon *d, vg_diag *diag)
{
    int mode = vg_mode_parse(d->cfg->default_mode);
    vg_groups_set_default_mode(d->groups, mode < 0 ? VG_MODE_LEARN : mode);
    if (vg_groups_configure(d->groups, d->cfg, diag) < 0)
        vg_err("reload: the custom groups could not be applied; the old ones stay");
    vg_discovery_reclassify(d->discovery);
}

/* The new list was checked with the config, so only memory can fail here;
 * the old list then stays, which the log says. */
static void apply_store_skip(vg_daemon *d)
{
    int rc = vg_store_skip_set(d->store_skip, (const char *const *)d->cfg->store_skip);
    if (rc < 0)
        vg_err("store_skip could not be applied (%s); the previous list stays", strerror(-rc));
}

static int reload(vg_daemon *d, vg_diag *diag)
{
    sd_notify(0, "RELOADING=1");
    vg_info("reloading");
    vg_config *cfg = NULL;
    int rc = vg_daemon_load_config(&d->opts, &cfg, diag);
    if (rc == 0)
        rc = check_control_group(cfg, diag);
    if (rc == 0 && vg_groups_check_config(cfg, diag) < 0)
        rc = -EINVAL;
    /* Last, since it swaps the new policies in when they load. */
    if (rc == 0 && vg__policy_load(d, cfg, diag) < 0)
        rc = -EINVAL;
    if (rc < 0) {
        vg_config_free(cfg);
        d->reloads.failed++;
        free(d->reloads.last_error);
        d->reloads.last_error = strdup(diag->n ? diag->msgs[0] : strerror(-rc));
        for (size_t i = 0; i < diag->n; i++)
            vg_err("reload refused: %s", diag->msgs[i]);
        publish_policy_error(d, diag);
        sd_notify(0, "READY=1\nSTATUS=running (last reload refused)");
        return rc < 0 ? rc : -EINVAL;
    }
    warn_restart_needed(d->cfg, cfg);
    vg_config *old = d->cfg;
    d->cfg = cfg;
    vg_webhooks_configure(d->webhooks, cfg);
    vg_outputs_configure(d->outputs, cfg);
    vg_metrics_configure(d->metrics, cfg);
    vg_log_set_level(cfg->log_level);
    apply_store_skip(d);
    reload_groups(d, diag);
    int failed = vg_plugins_reload(d->plugins);
    vg_config_free(old);
    d->reloads.ok++;
    /* Status says what is true now: this reload worked. */
    free(d->reloads.last_error);
    d->reloads.last_error = NULL;
    vg_info("reloaded (%d plugin reload failures)", failed);
    sd_notify(0, "READY=1\nSTATUS=running");
    return 0;
}

int vg_daemon_reload(vg_daemon *d, vg_diag *diag)
{
    int rc = reload(d, diag);
    /* A reload, whether it took or not, built a whole config and policy
     * Lua state beside the live ones and freed one of each: a few hundred
     * kB that glibc keeps in its heap, where the holes left between the
     * blocks still in use are never given back by itself (it only trims
     * the heap's top). Nothing has leaked, but without this the daemon's
     * resident memory grows by the holes after each of the first reloads
     * (+120 kB over 200 reloads). malloc_trim hands their whole pages back;
     * a reload is rare, and this costs some 10 microseconds. */
    malloc_trim(0);
    return rc;
}

/* ---- the control commands' environment --------------------------------- */

static int ctl_reload(void *arg, vg_diag *diag)
{
    return vg_daemon_reload(arg, diag);
}

static void ctl_daemon_info(void *arg, vg_ctl_daemon_info *out)
{
    vg_daemon *d = arg;
    *out = (vg_ctl_daemon_info){.uptime_s = (uv_now(&d->loop) - d->started_ms) / 1000,
                                .reloads_ok = d->reloads.ok,
                                .reloads_failed = d->reloads.failed,
                                .last_error = d->reloads.last_error};
}

/* The env is a view of the daemon's modules, refreshed when they change:
 * when the ctl opens, at the end of start-up (nothing is dispatched before
 * the loop runs) and at shutdown. The config is seen through &d->cfg,
 * which a reload swaps. */
static void sync_ctl_env(vg_daemon *d)
{
    d->ctl_env = (vg_ctl_env){.ctl = d->ctl,
                              .cfg = &d->cfg,
                              .store = d->store,
                              .store_skip = d->store_skip,
                              .bus = d->bus,
                              .rules = d->rules,
                              .groups = d->groups,
                              .workloads = d->workloads,
                              .discovery = d->discovery,
                              .policy = d->policy,
                              .plugins = d->plugins,
                              .suppress = d->suppress,
                              .webhooks = d->webhooks,
                              .outputs = d->outputs,
                              .reload = ctl_reload,
                              .daemon_info = ctl_daemon_info,
                              .arg = d};
}

/* ---- signals and shutdown ---------------------------------------------- */

static void on_sighup(uv_signal_t *h, int signum)
{
    vg_diag diag = {0};
    vg_daemon_reload(h->data, &diag);
    vg_diag_free(&diag);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Stops in the reverse order of start-up. The loop ends by itself once the
 * last handle is closed. */
static void begin_shutdown(vg_daemon *d, int signum)
{
    if (signum)
        vg_notice("%s received, stopping", strsignal(signum));
    sd_notify(0, "STOPPING=1");
    vg_plugins_stop(d->plugins);
    d->plugins = NULL;
    vg_discovery_close(d->discovery);
    d->discovery = NULL;
    vg_ctl_close(d->ctl);
    d->ctl = NULL;
    sync_ctl_env(d);      /* the bus's last events must not reach the closed ctl */
    vg_bus_close(d->bus); /* dispatches what is queued, so it reaches the store */
    d->bus = NULL;
    vg_webhooks_close(d->webhooks); /* pending deliveries are given up, counted */
    d->webhooks = NULL;
    vg_outputs_close(d->outputs); /* after the bus: what it dispatched is written */
    d->outputs = NULL;
    vg_metrics_close(d->metrics);
    d->metrics = NULL;
    if (!d->handles_ready)
        return;
    close_handle((uv_handle_t *)&d->sig_hup);
    close_handle((uv_handle_t *)&d->sig_term);
    close_handle((uv_handle_t *)&d->sig_int);
    close_handle((uv_handle_t *)&d->sig_usr1);
    close_handle((uv_handle_t *)&d->commit_check);
    close_handle((uv_handle_t *)&d->commit_timer);
    close_handle((uv_handle_t *)&d->sync_timer);
    close_handle((uv_handle_t *)&d->watchdog);
    close_handle((uv_handle_t *)&d->aging_timer);
}

static void on_sigusr1(uv_signal_t *h, int signum)
{
    vg_daemon *d = h->data;
    vg_info("SIGUSR1: reopening the outputs' files");
    vg_outputs_reopen(d->outputs);
}

static void on_sigterm(uv_signal_t *h, int signum)
{
    begin_shutdown(h->data, signum);
}

/* ---- start-up ----------------------------------------------------------- */

static int init_handles(vg_daemon *d)
{
    uv_signal_init(&d->loop, &d->sig_hup);
    uv_signal_init(&d->loop, &d->sig_term);
    uv_signal_init(&d->loop, &d->sig_int);
    uv_signal_init(&d->loop, &d->sig_usr1);
    uv_check_init(&d->loop, &d->commit_check);
    uv_timer_init(&d->loop, &d->commit_timer);
    uv_timer_init(&d->loop, &d->sync_timer);
    uv_timer_init(&d->loop, &d->watchdog);
    uv_timer_init(&d->loop, &d->aging_timer);
    d->sig_hup.data = d->sig_term.data = d->sig_int.data = d->sig_usr1.data = d;
    d->commit_check.data = d->commit_timer.data = d->sync_timer.data = d->watchdog.data = d;
    d->aging_timer.data = d;
    uv_signal_start(&d->sig_hup, on_sighup, SIGHUP);
    uv_signal_start(&d->sig_term, on_sigterm, SIGTERM);
    uv_signal_start(&d->sig_int, on_sigterm, SIGINT);
    uv_signal_start(&d->sig_usr1, on_sigusr1, SIGUSR1);
    uv_check_start(&d->commit_check, on_commit_check);
    uv_timer_start(&d->sync_timer, on_sync_timer, 1000, 1000);
    /* Neither the sync timer nor the watchdog alone should keep the loop
     * alive during shutdown. */
    uv_unref((uv_handle_t *)&d->sync_timer);
    uv_unref((uv_handle_t *)&d->commit_timer); /* the store's close commits */
    uv_unref((uv_handle_t *)&d->watchdog);
    uv_unref((uv_handle_t *)&d->aging_timer);
    start_watchdog(d);
    d->handles_ready = true;
    return 0;
}

static int open_store(vg_daemon *d)
{
    vg_store_opts so = {.map_size = d->cfg->store_map_mb << 20, .max_events = d->cfg->events_max};
    int rc = vg_store_open(d->cfg->state_dir, &so, &d->store);
    if (rc < 0) {
        vg_err("cannot open the store in %s: %s", d->cfg->state_dir, strerror(-rc));
        return rc;
    }
    rc = vg_store_skip_new(&d->store_skip);
    if (rc == 0)
        rc = vg_store_skip_set(d->store_skip, (const char *const *)d->cfg->store_skip);
    if (rc < 0)
        vg_err("cannot apply store_skip: %s", strerror(-rc));
    return rc;
}

static int open_bus(vg_daemon *d)
{
    int rc = vg_bus_new(&d->loop, d->cfg->bus_queue, &d->bus);
    if (rc < 0)
        return rc;
    vg_bus_set_next_id(d->bus, vg_store_last_event_id(d->store) + 1);
    d->policy_error_type = vg_event_type_id("policy.error");
    d->daemon_type = vg_event_type_id("daemon.status");
    vg_bus_set_enrich(d->bus, vg__attribute, d);
    d->store_sub = vg_bus_subscribe(d->bus, -1, vg_ctl_events_on_event, &d->ctl_env);
    return d->store_sub < 0 ? d->store_sub : 0;
}

/* The core's own response actions: suppress and webhook. */
static int open_responses(vg_daemon *d)
{
    int rc = vg_suppress_new(&d->loop, &d->suppress);
    if (rc == 0)
        rc = vg_suppress_register(d->suppress, d->actions);
    if (rc == 0)
        rc = vg_webhooks_new(&d->loop, NULL, &d->webhooks);
    if (rc == 0)
        rc = vg_webhooks_configure(d->webhooks, d->cfg);
    if (rc == 0)
        rc = vg_webhooks_register(d->webhooks, d->actions);
    if (rc == 0)
        vg_webhooks_on_result(d->webhooks, vg__webhook_result, d);
    if (rc < 0)
        vg_err("cannot set up the response actions: %s", strerror(-rc));
    return rc;
}

/* Outputs and metrics see every event the store sees. An output or a
 * metrics address that cannot be opened is logged, and the daemon runs on
 * without it: the events are still in the store. */
static int open_outputs(vg_daemon *d)
{
    vg_metrics_src src = {.bus = &d->bus,
                          .outputs = &d->outputs,
                          .webhooks = &d->webhooks,
                          .plugins = &d->plugins,
                          .groups = &d->groups,
                          .rules = &d->rules,
                          .policy = &d->policy,
                          .ctl = &d->ctl,
                          .store = &d->store};
    int rc = vg_outputs_new(&d->outputs);
    if (rc == 0)
        rc = vg_metrics_new(&d->loop, &src, &d->metrics);
    if (rc == 0)
        rc = vg_bus_subscribe(d->bus, -1, vg_outputs_on_event, d->outputs);
    if (rc >= 0)
        rc = vg_bus_subscribe(d->bus, -1, vg_metrics_on_event, d->metrics);
    if (rc < 0) {
        vg_err("cannot set up the outputs: %s", strerror(-rc));
        return rc;
    }
    vg_outputs_configure(d->outputs, d->cfg);
    vg_metrics_configure(d->metrics, d->cfg);
    return 0;
}

static int open_ctl(vg_daemon *d)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", d->cfg->socket_path);
    int rc = mkdir_p(dirname(dir), 0755);
    if (rc < 0) {
        vg_err("cannot create the socket directory for %s: %s", d->cfg->socket_path, strerror(-rc));
        return rc;
    }
    struct group *g = d->cfg->control_group ? getgrnam(d->cfg->control_group) : NULL;
    vg_ctl_opts co = {.path = d->cfg->socket_path, .gid = g ? g->gr_gid : (gid_t)-1};
    rc = vg_ctl_open(&d->loop, &co, &d->ctl);
    if (rc < 0) {
        vg_err("cannot listen on %s: %s", d->cfg->socket_path,
               rc == -EADDRINUSE ? "another daemon answers there" : strerror(-rc));
        return rc;
    }
    /* The commands keep &d->ctl_env; it is filled again once everything
     * is open. */
    sync_ctl_env(d);
    return vg_ctl_env_register(&d->ctl_env);
}

static void publish_started(vg_daemon *d)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    vg_mp_pack_kv_str(&pk, "status", "started");
    vg_mp_pack_kv_str(&pk, "version", VIGIL_VERSION);
    vg_mp_pack_kv_int(&pk, "pid", getpid());
    vg_event_in ev = {
        .type = d->daemon_type, .severity = VG_SEV_INFO, .body = sb.data, .body_len = sb.size};
    vg_bus_publish(d->bus, &ev);
    msgpack_sbuffer_destroy(&sb);
}

/* The registry, the groups (with their stored modes) and a first scan, so
 * that plugins start with every workload known. */
static int start_workloads(vg_daemon *d)
{
    const vg_config *c = d->cfg;
    char proc[4096];
    int mode = vg_mode_parse(c->default_mode);
    snprintf(proc, sizeof(proc), "%s/proc", c->discovery_root ? c->discovery_root : "");
    vg_diag diag = {0};
    int rc = vg_workloads_new(proc, &d->workloads);
    if (rc == 0)
        rc = vg_groups_new(d->store, mode < 0 ? VG_MODE_LEARN : mode, &d->groups);
    if (rc == 0 && (rc = vg_groups_configure(d->groups, c, &diag)) < 0)
        for (size_t i = 0; i < diag.n; i++)
            vg_err("%s", diag.msgs[i]);
    vg_diag_free(&diag);
    vg_discovery_opts o = {.root = c->discovery_root,
                           .loop = &d->loop,
                           .bus = d->bus,
                           .reg = d->workloads,
                           .groups = d->groups,
                           .rescan_ms = c->rescan_ms};
    if (rc == 0)
        rc = vg_discovery_new(&o, &d->discovery);
    if (rc == 0) {
        vg_discovery_modes_changed(d->discovery); /* the stored mode of "nodes" */
        rc = vg_discovery_start(d->discovery);
    }
    if (rc < 0)
        vg_err("cannot start workload discovery: %s", strerror(-rc));
    else
        vg_outputs_set_workloads(d->outputs, d->workloads);
    return rc;
}

static int start(vg_daemon *d)
{
    int rc = mkdir_p(d->cfg->state_dir, 0700);
    if (rc < 0) {
        vg_err("cannot create state directory %s: %s", d->cfg->state_dir, strerror(-rc));
        return rc;
    }
    if ((rc = lock_state_dir(d->cfg->state_dir, &d->lock_fd)) < 0)
        return rc;
    if ((rc = open_store(d)) < 0 || (rc = vg_rules_open(d->store, &d->rules)) < 0 ||
        (rc = open_bus(d)) < 0 || (rc = vg_actions_new(&d->actions)))
        return rc;
    if ((rc = open_responses(d)) < 0 || (rc = open_outputs(d)) < 0)
        return rc;
    init_handles(d);
    if ((rc = open_ctl(d)) < 0 || (rc = start_workloads(d)) < 0 || (rc = vg__policy_open(d)) < 0)
        return rc;
    vg__group_aging_start(d);
    d->plugin_env = (vg_plugin_env){.loop = &d->loop,
                                    .bus = d->bus,
                                    .store = d->store,
                                    .cfg = &d->cfg,
                                    .actions = d->actions,
                                    .workloads = d->workloads,
                                    .groups = d->groups,
                                    .policy = d->policy,
                                    .ctl = d->ctl};
    if ((rc = vg_plugins_load(&d->plugin_env, d->cfg->plugin_dir, &d->plugins)) < 0 ||
        (rc = vg_plugin_decls_running(d->plugins, &d->decls)) < 0)
        return rc;
    /* After the plugins' init, which declared their event types and
     * actions, so that the load can tell a typo from a plugin's name. */
    vg__policy_first_load(d);
    /* Before any plugin starts a thread, so that every thread inherits the
     * reduced sets (capabilities are per thread). */
    vg__caps_drop();
    vg_plugins_start(d->plugins);
    sync_ctl_env(d);
    d->started_ms = uv_now(&d->loop);
    publish_started(d);
    return 0;
}

/* Releases whatever start() got, in reverse; safe on a partial start. */
static void teardown(vg_daemon *d)
{
    if (d->plugins || d->ctl || d->bus || d->discovery)
        begin_shutdown(d, 0);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    vg_policy_free(d->policy); /* the bus is gone: no more events for it */
    vg_plugin_decls_free(&d->decls);
    vg_discovery_close(d->discovery); /* only left after a failed start */
    vg_groups_free(d->groups);
    vg_workloads_free(d->workloads);
    vg_store_close(d->store);
    vg_store_skip_free(d->store_skip);
    vg_rules_free(d->rules);
    vg_suppress_free(d->suppress);
    vg_actions_free(d->actions);
    if (uv_loop_close(&d->loop) != 0)
        vg_warn("some libuv handles were still open at exit");
    vg_config_free(d->cfg);
    free(d->reloads.last_error);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
}

int vg_daemon_run(const vg_opts *opts)
{
    vg_daemon *d = calloc(1, sizeof(*d));
    if (!d)
        return 1;
    d->opts = *opts;
    d->lock_fd = -1;
    vg_diag diag = {0};
    int rc = vg_daemon_load_config(opts, &d->cfg, &diag);
    vg_diag_print(&diag, stderr);
    vg_diag_free(&diag);
    if (rc < 0) {
        free(d);
        return 1;
    }
    vg_log_set_level(d->cfg->log_level);
    uv_loop_init(&d->loop);
    rc = start(d);
    if (rc == 0) {
        vg_notice("vigild %s running (state %s, socket %s)", VIGIL_VERSION, d->cfg->state_dir,
                  d->cfg->socket_path);
        sd_notify(0, "READY=1\nSTATUS=running");
        uv_run(&d->loop, UV_RUN_DEFAULT);
    }
    teardown(d);
    free(d);
    if (rc == 0)
        vg_notice("stopped");
    return rc == 0 ? 0 : 1;
}
