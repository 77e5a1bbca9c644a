/*
 * The secrets plugin: the scanner of plugins/secrets in the daemon.
 *
 *  - plugins.secrets.scan_new (default true): each new container (a
 *    workload.start event) has its root file system (/proc/PID/root) and
 *    its init process's environment scanned;
 *  - a response action "secrets_scan" ({workload = ID}) scans on demand;
 *  - a control command "secrets" (ABI 1.2, `vigilctl secrets`): args
 *    {op = "scan"|"show", workload = ID | path = DIR} queues a scan of a
 *    workload or of a host directory, or shows the stored reports;
 *  - every finding is a `secret.finding` event (the secret masked), and
 *    each scan ends with a `secret.scan` event and a report in the plugin's
 *    store table "reports", keyed by workload id (or by the directory for a
 *    host directory): the scan's counters and its first REPORT_MAX
 *    findings, masked.
 *
 * Scans run on one worker thread of the plugin, never on the loop: a root
 * file system can take seconds. The rules are loaded on that thread too,
 * so the daemon's start does not wait for the vectorscan compile. The
 * plugin keeps no libuv handle (the daemon unloads a plugin right after
 * stop(), before any close callback could run); finished scans are handed
 * back to the loop thread in a list that is drained, into the store, by
 * the next loop-thread call (a workload event, an action, stop()).
 *
 * Settings: scan_new, scan_env (true), rules (an extra rules file),
 * max_file_size (10 MiB), max_bytes (per scan, 1 GiB), timeout_ms (per
 * scan, 120000).
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <vigil/plugin.h>

#include "log.h"
#include "mp.h"
#include "secrets.h"

/* A report keeps this many findings; the events carry all of them. */
#define REPORT_MAX 1000
/* The compiled rules (a few MB) are freed after this long without a scan
 * (setting rules_idle_s), and loaded again for the next one (from the
 * database cache, see rules_cache.c): a daemon at rest needs none of them. */
#define RULES_IDLE_S 60

struct job {
    char workload[VG_WORKLOAD_MAX];
    char group[VG_GROUP_MAX];
    int pid;
    char *path;        /* a host directory to scan instead (pid 0), owned */
    char image[256];   /* the workload's image, "" when unknown */
    int64_t requested; /* the request's id: its time in ms, unique */
    /* Filled by the worker. */
    int rc;
    vg_sec_stats st;
    int64_t finished;
    msgpack_sbuffer items; /* the first REPORT_MAX findings, packed maps */
    uint32_t nitems;
    struct job *next;
};

typedef struct sec_plugin {
    const vg_host_api *api;
    vg_host *h;
    int t_finding, t_scan;
    bool scan_new, scan_env;
    int64_t rules_idle_s; /* see RULES_IDLE_S */
    char *extra_rules;
    char *baselines; /* directory of per-image baseline files, or NULL */
    vg_sec_limits lim;
    _Atomic int cancel;

    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *queue, *done; /* under mu */
    bool stopping;            /* under mu */
    vg_sec_rules *rules;      /* worker thread only */
    struct job *cur;          /* worker thread: the scan in progress */
    int64_t last_request;     /* loop thread: the last request id given */
    char **paths;             /* loop thread: host directories with a report */
    size_t npaths;
    /* Loop thread: the images of the last workloads started (from
     * workload.start), for the baseline of a scan asked for later. */
    struct {
        char id[VG_WORKLOAD_MAX];
        char image[256];
    } images[256];
    unsigned nimages;
} sec_plugin;

static int event_severity(int sev)
{
    static const int map[] = {VG_SEV_NOTICE, VG_SEV_WARNING, VG_SEV_ERROR, VG_SEV_CRITICAL};
    return sev >= 0 && sev < 4 ? map[sev] : VG_SEV_WARNING;
}

/* Worker thread: a finding for the stored report, masked like the event.
 * Each item names its target, so that a script reading the findings one
 * per line needs nothing else. */
static void keep_finding(struct job *j, const vg_sec_finding *f, const char *masked)
{
    if (j->nitems >= REPORT_MAX)
        return;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &j->items, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8 + (f->layer != NULL) + (f->context != 0));
    vg_mp_pack_kv_str(&pk, j->path ? "target" : "workload", j->path ? j->path : j->workload);
    vg_mp_pack_kv_str(&pk, "rule", f->rule->id);
    vg_mp_pack_kv_str(&pk, "level", vg_sec_severity_name(f->severity));
    vg_mp_pack_kv_str(&pk, "kind", vg_sec_kind_name(f->kind));
    vg_mp_pack_kv_str(&pk, "path", f->path);
    vg_mp_pack_kv_uint(&pk, "line", f->line);
    vg_mp_pack_kv_uint(&pk, "column", f->column);
    vg_mp_pack_kv_str(&pk, "secret", masked);
    if (f->layer)
        vg_mp_pack_kv_str(&pk, "layer", f->layer);
    if (f->context)
        vg_mp_pack_kv_str(&pk, "context", vg_sec_context_name(f->context));
    j->nitems++;
}

/* Worker thread: one finding becomes an event (publish is thread-safe). */
static void on_finding(void *arg, const vg_sec_finding *f)
{
    sec_plugin *p = arg;
    char masked[32];
    vg_sec_mask(f->secret, f->secret_len, masked, sizeof(masked));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 10 + (f->layer != NULL) + (f->context != 0));
    vg_mp_pack_kv_str(&pk, "rule", f->rule->id);
    vg_mp_pack_kv_str(&pk, "description", f->rule->description);
    vg_mp_pack_kv_str(&pk, "level", vg_sec_severity_name(f->severity));
    vg_mp_pack_kv_str(&pk, "kind", vg_sec_kind_name(f->kind));
    vg_mp_pack_kv_str(&pk, "path", f->path);
    vg_mp_pack_kv_uint(&pk, "line", f->line);
    vg_mp_pack_kv_uint(&pk, "column", f->column);
    vg_mp_pack_kv_str(&pk, "secret", masked);
    vg_mp_pack_kv_uint(&pk, "entropy_milli", (uint64_t)(f->entropy * 1000));
    vg_mp_pack_kv_str(&pk, "tags", f->rule->tags);
    if (f->layer)
        vg_mp_pack_kv_str(&pk, "layer", f->layer);
    if (f->context)
        vg_mp_pack_kv_str(&pk, "context", vg_sec_context_name(f->context));
    vg_event_in ev = {p->t_finding,     event_severity(f->severity),
                      p->cur->workload, p->cur->group,
                      sb.data,          sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
    keep_finding(p->cur, f, masked);
}

static void publish_summary(sec_plugin *p, const struct job *j)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    vg_mp_pack_kv_int(&pk, "pid", j->pid);
    vg_mp_pack_kv_int(&pk, "error", j->rc);
    vg_mp_pack_kv_uint(&pk, "findings", j->st.findings);
    vg_mp_pack_kv_uint(&pk, "baselined", j->st.baselined);
    vg_mp_pack_kv_uint(&pk, "files", j->st.files);
    vg_mp_pack_kv_uint(&pk, "bytes", j->st.bytes);
    vg_mp_pack_kv_bool(&pk, "truncated", j->st.truncated);
    vg_mp_pack_kv_int(&pk, "time", j->finished);
    vg_event_in ev = {p->t_scan,   j->st.findings ? VG_SEV_WARNING : VG_SEV_INFO,
                      j->workload, j->group,
                      sb.data,     sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}

/* The environments of the workload's other processes (the host tells
 * which pids belong to it); a process gone meanwhile is no error. */
static void scan_other_envs(sec_plugin *p, vg_sec_scanner *s, const struct job *j)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    unsigned n = 0;
    while (d && (de = readdir(d)) && n < 4096) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == j->pid)
            continue;
        vg_workload_view w;
        if (p->api->workload_of_pid(p->h, (int)pid, &w) == 0 && !strcmp(w.id, j->workload)) {
            vg_sec_scan_environ(s, (int)pid);
            n++;
        }
    }
    if (d)
        closedir(d);
}

/* Worker thread: the baseline of the job's image, `<baselines>/<image>.json`
 * with '/' and ':' of the image name as '_' (what `vigil-scan secrets
 * --write-baseline` wrote for that image); NULL when there is none. */
static vg_sec_baseline *image_baseline(sec_plugin *p, const struct job *j)
{
    if (!p->baselines || !j->image[0])
        return NULL;
    char name[256], file[PATH_MAX], err[512];
    snprintf(name, sizeof(name), "%s", j->image);
    for (char *c = name; *c; c++)
        if (*c == '/' || *c == ':' || *c == '@')
            *c = '_';
    snprintf(file, sizeof(file), "%s/%s.json", p->baselines, name);
    vg_sec_baseline *b = NULL;
    int rc = vg_sec_baseline_load(file, &b, err, sizeof(err));
    if (rc < 0 && rc != -ENOENT)
        p->api->log(p->h, VG_LOG_WARN, "baseline of %s: %s", j->image, err);
    return rc < 0 ? NULL : b;
}

static void run_job(sec_plugin *p, struct job *j)
{
    vg_sec_scanner *s = NULL;
    p->cur = j;
    vg_sec_baseline *base = image_baseline(p, j);
    j->rc = vg_sec_scanner_new(p->rules, &p->lim, on_finding, p, &s);
    if (j->rc == 0)
        vg_sec_scanner_set_baseline(s, base);
    if (j->rc == 0 && j->path) {
        j->rc = vg_sec_scan_dir(s, j->path);
        j->st = *vg_sec_scanner_stats(s);
    } else if (j->rc == 0) {
        char root[64];
        snprintf(root, sizeof(root), "/proc/%d/root", j->pid);
        j->rc = vg_sec_scan_dir(s, root);
        if (p->scan_env && j->rc == 0)
            j->rc = vg_sec_scan_environ(s, j->pid);
        if (p->scan_env && j->rc == 0)
            scan_other_envs(p, s, j);
        j->st = *vg_sec_scanner_stats(s);
    }
    vg_sec_scanner_free(s);
    vg_sec_baseline_free(base);
    j->finished = (int64_t)time(NULL);
    publish_summary(p, j);
    p->cur = NULL;
}

/* Worker thread. `first`: at start, where a bad rules file is said at
 * once and the count is logged; later loads (after an idle time) are
 * quiet unless they fail. */
static int load_rules(sec_plugin *p, bool first)
{
    const char *files[] = {vg_sec_default_rules_path(), p->extra_rules};
    char err[512] = "";
    int rc = vg_sec_rules_load(files, p->extra_rules ? 2 : 1, &p->rules, err, sizeof(err));
    if (rc < 0)
        p->api->log(p->h, VG_LOG_ERR, "rules: %s", err);
    else
        p->api->log(p->h, first ? VG_LOG_INFO : VG_LOG_DEBUG, "%zu rules loaded",
                    vg_sec_rules_count(p->rules));
    return rc;
}

/* Under mu: waits for a job or the stop; the rules are freed when none
 * came for RULES_IDLE_S. */
static void wait_for_job(sec_plugin *p)
{
    while (!p->queue && !p->stopping) {
        if (!p->rules) {
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += p->rules_idle_s;
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT && !p->queue) {
            vg_sec_rules_free(p->rules);
            p->rules = NULL;
            p->api->log(p->h, VG_LOG_DEBUG, "rules freed after %lld s without a scan",
                        (long long)p->rules_idle_s);
        }
    }
}

static void *worker(void *arg)
{
    sec_plugin *p = arg;
    load_rules(p, true);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        wait_for_job(p);
        if (p->stopping)
            break;
        struct job *j = p->queue;
        p->queue = j->next;
        pthread_mutex_unlock(&p->mu);
        if (p->rules || load_rules(p, false) == 0)
            run_job(p, j);
        else
            j->rc = -ENOEXEC;
        pthread_mutex_lock(&p->mu);
        j->next = p->done;
        p->done = j;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void job_free(struct job *j)
{
    msgpack_sbuffer_destroy(&j->items);
    free(j->path);
    free(j);
}

/* The store key of a job's report: the workload id, or the directory
 * (which starts with '/', as no workload id does). */
static const char *job_key(const struct job *j)
{
    return j->path ? j->path : j->workload;
}

/* Loop thread: finished scans into the store, as the report. */
static void drain(sec_plugin *p)
{
    pthread_mutex_lock(&p->mu);
    struct job *j = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->mu);
    while (j) {
        struct job *next = j->next;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 10);
        vg_mp_pack_kv_str(&pk, j->path ? "target" : "workload", job_key(j));
        vg_mp_pack_kv_int(&pk, "requested", j->requested);
        vg_mp_pack_kv_int(&pk, "time", j->finished);
        vg_mp_pack_kv_int(&pk, "error", j->rc);
        vg_mp_pack_kv_uint(&pk, "findings", j->st.findings);
        vg_mp_pack_kv_uint(&pk, "baselined", j->st.baselined);
        vg_mp_pack_kv_uint(&pk, "files", j->st.files);
        vg_mp_pack_kv_uint(&pk, "bytes", j->st.bytes);
        vg_mp_pack_kv_bool(&pk, "truncated", j->st.truncated);
        msgpack_pack_str(&pk, 5);
        msgpack_pack_str_body(&pk, "items", 5);
        msgpack_pack_array(&pk, j->nitems);
        msgpack_sbuffer_write(&sb, j->items.data, j->items.size);
        p->api->store_put(p->h, "reports", job_key(j), strlen(job_key(j)), sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
        job_free(j);
        j = next;
    }
}

/* Queues a scan of a workload (pid > 0) or of a host directory (path).
 * Returns the request's id (> 0) or a negative errno. */
static int64_t enqueue(sec_plugin *p, const char *workload, const char *group, int pid,
                       const char *path)
{
    drain(p);
    if (pid <= 0 && !path)
        return -EINVAL;
    struct job *j = calloc(1, sizeof(*j));
    if (!j || (path && !(j->path = strdup(path)))) {
        free(j);
        return -ENOMEM;
    }
    msgpack_sbuffer_init(&j->items);
    snprintf(j->workload, sizeof(j->workload), "%s", workload);
    snprintf(j->group, sizeof(j->group), "%s", group ? group : "");
    j->pid = pid;
    for (unsigned i = 0; i < p->nimages && i < 256 && *workload; i++)
        if (!strcmp(p->images[i].id, workload))
            snprintf(j->image, sizeof(j->image), "%s", p->images[i].image);
    /* Milliseconds, kept increasing: `vigilctl secrets scan --wait` waits
     * for a report whose "requested" is at least the id it was given. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    j->requested = p->last_request = now > p->last_request ? now : p->last_request + 1;
    pthread_mutex_lock(&p->mu);
    struct job **tail = &p->queue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = j;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return j->requested;
}

/* workload.start: the wire form carries "workload", "group" and "pid". */
static void on_workload_start(void *arg, const void *rec, size_t len)
{
    sec_plugin *p = arg;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char id[VG_WORKLOAD_MAX] = "", group[VG_GROUP_MAX] = "";
    int64_t pid = 0;
    if (msgpack_unpack_next(&u, rec, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        vg_mp_get_cstr(&u.data, "workload", id, sizeof(id)) == 0 && *id &&
        vg_mp_get_int(&u.data, "pid", &pid) == 0) {
        vg_mp_get_cstr(&u.data, "group", group, sizeof(group));
        unsigned slot = p->nimages++ % 256;
        snprintf(p->images[slot].id, sizeof(p->images[slot].id), "%s", id);
        if (vg_mp_get_cstr(&u.data, "image", p->images[slot].image, sizeof(p->images[slot].image)) <
            0)
            p->images[slot].image[0] = 0;
        if (enqueue(p, id, group, (int)pid, NULL) < 0)
            p->api->log(p->h, VG_LOG_WARN, "cannot scan workload %s", id);
    }
    msgpack_unpacked_destroy(&u);
}

struct find_wl {
    const char *id;
    vg_workload_view w;
    bool found;
};

static void match_workload(void *arg, const vg_workload_view *w)
{
    struct find_wl *f = arg;
    if (!strcmp(w->id, f->id)) {
        f->w = *w;
        f->found = true;
    }
}

/* The "secrets_scan" action: args {workload = ID}. */
static int action_scan(void *priv, const void *args, size_t len)
{
    sec_plugin *p = priv;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char id[VG_WORKLOAD_MAX] = "";
    int rc = -EINVAL;
    if (msgpack_unpack_next(&u, args, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        vg_mp_get_cstr(&u.data, "workload", id, sizeof(id)) == 0 && *id) {
        struct find_wl f = {.id = id};
        rc = p->api->workloads_each(p->h, match_workload, &f);
        int64_t q = rc == 0 && f.found ? enqueue(p, id, f.w.group, f.w.pid, NULL) : 0;
        if (rc == 0)
            rc = !f.found ? -ENOENT : q < 0 ? (int)q : 0;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---- the control command "secrets" ---------------------------------- */

/* Remembers a host directory that has a report, for `secrets show`
 * without a target (the store cannot list its keys). */
static void remember_path(sec_plugin *p, const char *path)
{
    for (size_t i = 0; i < p->npaths; i++)
        if (!strcmp(p->paths[i], path))
            return;
    char **v = realloc(p->paths, (p->npaths + 1) * sizeof(*v));
    if (!v)
        return;
    p->paths = v;
    if ((v[p->npaths] = strdup(path)))
        p->npaths++;
}

static int reply_map(sec_plugin *p, vg_reply *r, msgpack_sbuffer *sb)
{
    int rc = p->api->reply(r, sb->data, sb->size);
    msgpack_sbuffer_destroy(sb);
    return rc;
}

static int cmd_scan(sec_plugin *p, vg_reply *r, const char *id, const char *path)
{
    int64_t q;
    if (*path) {
        struct stat st;
        if (path[0] != '/') {
            p->api->reply_error(r, "path %s: not an absolute path", path);
            return -EINVAL;
        }
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
            p->api->reply_error(r, "path %s: no such directory", path);
            return -ENOENT;
        }
        q = enqueue(p, "", "nodes", 0, path);
        if (q > 0)
            remember_path(p, path);
    } else {
        struct find_wl f = {.id = id};
        int rc = p->api->workloads_each(p->h, match_workload, &f);
        if (rc == 0 && (!f.found || f.w.pid <= 0)) {
            p->api->reply_error(r, "no workload %s (see `vigilctl workloads`)", id);
            return -ENOENT;
        }
        q = rc < 0 ? rc : enqueue(p, id, f.w.group, f.w.pid, NULL);
    }
    if (q < 0) {
        p->api->reply_error(r, "cannot queue the scan: %s", strerror((int)-q));
        return (int)q;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    vg_mp_pack_kv_bool(&pk, "queued", true);
    vg_mp_pack_kv_str(&pk, *path ? "target" : "workload", *path ? path : id);
    vg_mp_pack_kv_int(&pk, "requested", q);
    return reply_map(p, r, &sb);
}

/* Appends the stored report of key (its raw msgpack map) to sb; counts it. */
static void add_report(sec_plugin *p, msgpack_sbuffer *sb, const char *key, uint32_t *n)
{
    void *val = NULL;
    size_t len = 0;
    if (p->api->store_get(p->h, "reports", key, strlen(key), &val, &len) == 0) {
        msgpack_sbuffer_write(sb, val, len);
        (*n)++;
    }
    free(val);
}

struct all_reports {
    sec_plugin *p;
    msgpack_sbuffer *sb;
    uint32_t n;
};

static void add_workload_report(void *arg, const vg_workload_view *w)
{
    struct all_reports *a = arg;
    if (*w->id)
        add_report(a->p, a->sb, w->id, &a->n);
}

/* The reply: a list of reports (one for a target; for none, those of
 * every workload known now and of the host directories scanned). */
static int cmd_show(sec_plugin *p, vg_reply *r, const char *id, const char *path)
{
    drain(p);
    msgpack_sbuffer items;
    msgpack_sbuffer_init(&items);
    struct all_reports a = {p, &items, 0};
    if (*path || *id) {
        add_report(p, &items, *path ? path : id, &a.n);
        struct find_wl f = {.id = id};
        if (!a.n && *id && p->api->workloads_each(p->h, match_workload, &f) == 0 && !f.found) {
            msgpack_sbuffer_destroy(&items);
            p->api->reply_error(r, "no workload %s and no report for it", id);
            return -ENOENT;
        }
    } else {
        p->api->workloads_each(p->h, add_workload_report, &a);
        for (size_t i = 0; i < p->npaths; i++)
            add_report(p, &items, p->paths[i], &a.n);
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, a.n);
    msgpack_sbuffer_write(&sb, items.data, items.size);
    msgpack_sbuffer_destroy(&items);
    return reply_map(p, r, &sb);
}

static int run_command(void *priv, const void *args, size_t len, vg_reply *r)
{
    sec_plugin *p = priv;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char op[16] = "", id[VG_WORKLOAD_MAX] = "", path[4096] = "";
    int rc = -EINVAL;
    if (msgpack_unpack_next(&u, args, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        vg_mp_get_cstr(&u.data, "op", op, sizeof(op)) < 0) {
        p->api->reply_error(r, "secrets: args {op = \"scan\"|\"show\"} expected");
    } else if (vg_mp_get(&u.data, "workload") &&
               vg_mp_get_cstr(&u.data, "workload", id, sizeof(id)) < 0) {
        p->api->reply_error(r, "secrets: workload: a workload id expected");
    } else if (vg_mp_get(&u.data, "path") &&
               vg_mp_get_cstr(&u.data, "path", path, sizeof(path)) < 0) {
        p->api->reply_error(r, "secrets: path: a directory expected");
    } else if (*id && *path) {
        p->api->reply_error(r, "secrets: a workload or a path, not both");
    } else if (!strcmp(op, "scan") && !*id && !*path) {
        p->api->reply_error(r, "secrets scan: which workload (or path)?");
    } else if (!strcmp(op, "scan")) {
        rc = cmd_scan(p, r, id, path);
    } else if (!strcmp(op, "show")) {
        rc = cmd_show(p, r, id, path);
    } else {
        p->api->reply_error(r, "secrets: unknown op \"%s\" (scan or show)", op);
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

static void read_config(sec_plugin *p)
{
    int b;
    int64_t v;
    const char *s;
    p->scan_new = p->api->config_bool(p->h, "scan_new", &b) == 0 ? b : true;
    p->scan_env = p->api->config_bool(p->h, "scan_env", &b) == 0 ? b : true;
    p->rules_idle_s = p->api->config_int(p->h, "rules_idle_s", &v) == 0 ? v : RULES_IDLE_S;
    /* A container's root is scanned at each start: bounded tighter than
     * a CI run, by default 1 GiB and two minutes per scan. */
    p->lim.max_total_bytes = 1ull << 30;
    p->lim.max_ms = 120000;
    if (p->api->config_int(p->h, "max_file_size", &v) == 0 && v > 0)
        p->lim.max_file_bytes = (uint64_t)v;
    if (p->api->config_int(p->h, "max_bytes", &v) == 0 && v > 0)
        p->lim.max_total_bytes = (uint64_t)v;
    if (p->api->config_int(p->h, "timeout_ms", &v) == 0 && v > 0)
        p->lim.max_ms = (uint64_t)v;
    if (p->api->config_string(p->h, "rules", &s) == 0 && *s)
        p->extra_rules = strdup(s);
    if (p->api->config_string(p->h, "baselines", &s) == 0 && *s)
        p->baselines = strdup(s);
    if (p->api->config_bool(p->h, "skip_tests", &b) == 0 && b)
        p->lim.flags |= VG_SEC_SKIP_TESTS;
    if (p->api->config_bool(p->h, "example_data", &b) == 0 && b)
        p->lim.flags |= VG_SEC_SHOW_EXAMPLES;
    p->lim.cancel = &p->cancel;
}

static int sec_init(const vg_host_api *api, vg_host *h, void **priv)
{
    vg_log_to_host(api, h); /* the engine's messages (lib/log.h) */
    if (api->abi_minor < 1 || api->size < offsetof(vg_host_api, workloads_each) + sizeof(void *)) {
        api->log(h, VG_LOG_ERR, "needs host ABI 1.1");
        return -ENOTSUP;
    }
    sec_plugin *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->api = api;
    p->h = h;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    read_config(p);
    p->t_finding = api->event_type(h, "secret.finding");
    p->t_scan = api->event_type(h, "secret.scan");
    vg_action_desc act = {"secrets_scan", action_scan, p};
    int rc = p->t_finding < 0 ? p->t_finding : p->t_scan < 0 ? p->t_scan : 0;
    if (rc == 0)
        rc = api->register_action(h, &act);
    if (rc == 0 && p->scan_new)
        rc = api->subscribe(h, "workload.start", on_workload_start, p);
    /* The command needs ABI 1.2; an older daemon still gets the scans. */
    vg_command_desc cmd = {"secrets", run_command, p};
    if (rc == 0 && api->abi_minor >= 2 &&
        api->size >= offsetof(vg_host_api, reply_error) + sizeof(void *)) {
        int crc = api->register_command(h, &cmd);
        if (crc < 0)
            api->log(h, VG_LOG_WARN, "no `vigilctl secrets` command: %s", strerror(-crc));
    }
    if (rc < 0) {
        free(p->extra_rules);
        free(p->baselines);
        free(p);
        return rc;
    }
    *priv = p;
    return 0;
}

static int sec_start(void *priv)
{
    sec_plugin *p = priv;
    int rc = pthread_create(&p->thread, NULL, worker, p);
    if (rc)
        return -rc;
    pthread_setname_np(p->thread, "secrets-scan");
    p->running = true;
    return 0;
}

static void sec_stop(void *priv)
{
    sec_plugin *p = priv;
    atomic_store(&p->cancel, 1);
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->running)
        pthread_join(p->thread, NULL);
    drain(p);
    for (struct job *j = p->queue, *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    for (size_t i = 0; i < p->npaths; i++)
        free(p->paths[i]);
    free(p->paths);
    vg_sec_rules_free(p->rules);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->extra_rules);
    free(p->baselines);
    free(p);
}

/* What plugins.secrets may set (ABI 1.4: checked before the plugin runs). */
static const vg_setting_desc settings[] = {
    {.key = "scan_new", .type = VG_SETTING_BOOL},
    {.key = "scan_env", .type = VG_SETTING_BOOL},
    {.key = "max_file_size", .type = VG_SETTING_INT, .min = 1, .max = INT64_MAX},
    {.key = "max_bytes", .type = VG_SETTING_INT, .min = 1, .max = INT64_MAX},
    {.key = "timeout_ms", .type = VG_SETTING_INT, .min = 1, .max = 86400000},
    {.key = "rules_idle_s", .type = VG_SETTING_INT, .min = 1, .max = 86400},
    {.key = "rules", .type = VG_SETTING_STRING},
    {.key = "baselines", .type = VG_SETTING_STRING},
    {.key = "skip_tests", .type = VG_SETTING_BOOL},
    {.key = "example_data", .type = VG_SETTING_BOOL},
    {.key = NULL},
};

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "secrets",
    .version = "0.1.0",
    .description = "secret scanning of container file systems and environments",
    .init = sec_init,
    .start = sec_start,
    .stop = sec_stop,
    .settings = settings,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
