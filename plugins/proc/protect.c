/* Pre-exec protection; see protect.h. */
#include "protect.h"

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>

#include "fanotify_engine.h"
#include "procinfo.h"

/* Answer times in microsecond buckets; the last bucket holds everything
 * slower. Enough to tell a p99 of 20 us from one of 200 us. */
#define LAT_BUCKETS 4096

typedef struct marked {
    char id[VG_WORKLOAD_MAX];
    int pid;
    bool seen;
} marked;

/* A marked mount and its workload: an exec permission event names the file,
 * whose mount says whose file system it is in one statx(), cheaper than
 * finding the process's workload from its cgroup. */
typedef struct mount_owner {
    uint64_t mnt_id;
    char id[VG_WORKLOAD_MAX];
    char group[VG_GROUP_MAX];
} mount_owner;

/* What decide() found out, for after(), which runs next on the same
 * permission thread: the engine's per-thread context. */
typedef struct thread_ctx {
    bool valid;
    vg_workload_view w;
    msgpack_sbuffer sb; /* the violation's body */
} thread_ctx;

struct protect {
    const vg_host_api *api;
    vg_host *h;
    fan_engine *fan;
    bool protect_nodes;
    int t_violation;
    marked *v; /* loop thread */
    size_t n, cap;
    pthread_mutex_t mlock; /* guards mounts: written by the loop, read by the engine */
    mount_owner *mounts;
    size_t nmounts, capmounts;
    _Atomic uint64_t lat[LAT_BUCKETS];
    _Atomic uint64_t lat_max;
    _Atomic uint64_t nmarked; /* pr->n, for other threads */
};

/* ---- decisions (engine thread) ------------------------------------------ */

/* The protected workload whose mount holds the file fd, if one does. Any
 * process running a file of a protected container's file system, from
 * inside it or through /proc/<pid>/root, is held to that container's
 * rules. */
static bool owner_of(protect *pr, int fd, vg_workload_view *w)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 ||
        !(stx.stx_mask & STATX_MNT_ID))
        return false;
    bool found = false;
    pthread_mutex_lock(&pr->mlock);
    for (size_t i = 0; i < pr->nmounts && !found; i++) {
        if (pr->mounts[i].mnt_id == stx.stx_mnt_id) {
            memcpy(w->id, pr->mounts[i].id, sizeof(w->id));
            memcpy(w->group, pr->mounts[i].group, sizeof(w->group));
            w->mode = VG_MODE_PROTECT;
            w->pid = 0;
            found = true;
        }
    }
    pthread_mutex_unlock(&pr->mlock);
    return found;
}

static int decide(void *arg, fan_request *req)
{
    protect *pr = arg;
    thread_ctx *cur = req->ctx;
    cur->valid = false;
    if (!(req->mask & FAN_OPEN_EXEC_PERM))
        return FAN_VERDICT_ALLOW;
    vg_workload_view *w = &cur->w;
    if (!owner_of(pr, req->fd, w)) {
        int rc = pr->api->workload_of_pid(pr->h, req->pid, w);
        if (rc < 0)
            return rc; /* the fail verdict */
    }
    /* A host process running a file of a protected container (through
     * /proc/<pid>/root) is judged as a host process. */
    if (w->mode != VG_MODE_PROTECT || (!w->id[0] && !pr->protect_nodes))
        return FAN_VERDICT_ALLOW;
    if (!req->path[0])
        return -ENOENT;
    /* The name the file will run as is not known yet: leaving it (and the
     * user) out asks whether some allowed process of the group runs this
     * file. The name is checked at the exec event (plugin.c). */
    vg_subject s = {.plane = VG_PLANE_PROC, .group = w->group, .proc = {.path = req->path}};
    int d = pr->api->decide(pr->h, &s);
    cur->valid = true;
    return d == VG_DECIDE_ALLOW ? FAN_VERDICT_ALLOW : FAN_VERDICT_DENY;
}

static void kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_int64(pk, v);
}

/* The violation of an exec denied before it happened. The process is the
 * one that tried (it lives on: its execve failed); "name" is the file's. */
static void publish_denied(protect *pr, const fan_request *req)
{
    thread_ctx *cur = req->ctx;
    const char *base = strrchr(req->path, '/');
    char user[16] = "";
    procinfo pi;
    if (procinfo_read("/proc", req->pid, &pi) == 0)
        snprintf(user, sizeof(user), "%u", (unsigned)pi.euid);
    msgpack_packer pk;
    cur->sb.size = 0;
    msgpack_packer_init(&pk, &cur->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    kv_str(&pk, "action", "deny");
    kv_str(&pk, "enforcement", "exec");
    kv_str(&pk, "event_type", "proc.exec");
    kv_int(&pk, "pid", req->pid);
    kv_str(&pk, "name", base ? base + 1 : req->path);
    kv_str(&pk, "path", req->path);
    kv_str(&pk, "user", user);
    vg_event_in ev = {.type = pr->t_violation,
                      .severity = VG_SEV_WARNING,
                      .workload = cur->w.id,
                      .group = cur->w.group,
                      .body = cur->sb.data,
                      .body_len = cur->sb.size};
    pr->api->publish(pr->h, &ev);
}

static void after(void *arg, const fan_request *req, int verdict, int64_t answer_ns)
{
    protect *pr = arg;
    if (!(req->mask & FAN_OPEN_EXEC_PERM))
        return;
    int64_t us = answer_ns / 1000;
    atomic_fetch_add(&pr->lat[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1], 1);
    uint64_t max = atomic_load(&pr->lat_max);
    while ((uint64_t)answer_ns > max &&
           !atomic_compare_exchange_weak(&pr->lat_max, &max, answer_ns))
        ;
    if (verdict == FAN_VERDICT_DENY && ((thread_ctx *)req->ctx)->valid)
        publish_denied(pr, req);
}

static void ctx_end(void *arg, void *ctx)
{
    msgpack_sbuffer_destroy(&((thread_ctx *)ctx)->sb);
}

/* ---- marks (loop thread) ------------------------------------------------ */

static void owner_add(protect *pr, const char *path, const vg_workload_view *w)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 ||
        !(stx.stx_mask & STATX_MNT_ID))
        return; /* events on it fall back to the process's workload */
    pthread_mutex_lock(&pr->mlock);
    if (pr->nmounts == pr->capmounts) {
        size_t cap = pr->capmounts ? pr->capmounts * 2 : 16;
        mount_owner *v = realloc(pr->mounts, cap * sizeof(*v));
        if (!v) {
            pthread_mutex_unlock(&pr->mlock);
            return;
        }
        pr->mounts = v;
        pr->capmounts = cap;
    }
    mount_owner *o = &pr->mounts[pr->nmounts++];
    o->mnt_id = stx.stx_mnt_id;
    snprintf(o->id, sizeof(o->id), "%s", w->id);
    snprintf(o->group, sizeof(o->group), "%s", w->group);
    pthread_mutex_unlock(&pr->mlock);
}

static void owner_del(protect *pr, const char *id)
{
    pthread_mutex_lock(&pr->mlock);
    for (size_t i = 0; i < pr->nmounts;) {
        if (strcmp(pr->mounts[i].id, id) == 0)
            pr->mounts[i] = pr->mounts[--pr->nmounts];
        else
            i++;
    }
    pthread_mutex_unlock(&pr->mlock);
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
            *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* Marks (or unmarks) the workload's root mount, then every other mount of
 * its namespace that allows exec: a binary copied to a writable tmpfs
 * (/dev in a runc container) must not escape the check. Mounts that refuse
 * permission events (proc, sysfs) are skipped. Returns the root's result. */
static int mark_workload(protect *pr, int pid, const vg_workload_view *w)
{
    bool add = w != NULL;
    char path[4200];
    snprintf(path, sizeof(path), "/proc/%d/root", pid);
    int (*op)(fan_engine *, const char *, uint64_t, bool) =
        add ? fan_engine_mark : fan_engine_unmark;
    int rc = op(pr->fan, path, FAN_OPEN_EXEC_PERM, false);
    if (rc == 0 && add)
        owner_add(pr, path, w);
    snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
    FILE *f = fopen(path, "re");
    char line[4096];
    while (f && fgets(line, sizeof(line), f)) {
        /* id parent major:minor root mountpoint options ... */
        char *save, *tok = strtok_r(line, " ", &save);
        char *mp = NULL, *opts = NULL;
        for (int i = 0; tok && i < 6; i++, tok = strtok_r(NULL, " ", &save)) {
            if (i == 4)
                mp = tok;
            else if (i == 5)
                opts = tok;
        }
        if (!mp || !opts || strcmp(mp, "/") == 0 || strstr(opts, "noexec"))
            continue;
        unescape(mp);
        snprintf(path, sizeof(path), "/proc/%d/root%s", pid, mp);
        int r = op(pr->fan, path, FAN_OPEN_EXEC_PERM, false);
        if (r < 0 && add)
            pr->api->log(pr->h, VG_LOG_DEBUG, "no exec mark on %s: %s", path, strerror(-r));
        else if (r == 0 && add)
            owner_add(pr, path, w);
    }
    if (f)
        fclose(f);
    return rc;
}

static marked *find(protect *pr, const char *id)
{
    for (size_t i = 0; i < pr->n; i++)
        if (strcmp(pr->v[i].id, id) == 0)
            return &pr->v[i];
    return NULL;
}

static void sync_one(void *arg, const vg_workload_view *w)
{
    protect *pr = arg;
    if (w->mode != VG_MODE_PROTECT || !w->id[0] || w->pid <= 0)
        return;
    marked *m = find(pr, w->id);
    if (m && m->pid == w->pid) {
        m->seen = true;
        return;
    }
    if (!m) {
        if (pr->n == pr->cap) {
            size_t cap = pr->cap ? pr->cap * 2 : 16;
            marked *v = realloc(pr->v, cap * sizeof(*v));
            if (!v)
                return; /* retried at the next sync */
            pr->v = v;
            pr->cap = cap;
        }
        m = &pr->v[pr->n++];
        snprintf(m->id, sizeof(m->id), "%s", w->id);
    } else {
        owner_del(pr, m->id); /* the same id with a new init: marked anew */
    }
    m->pid = w->pid;
    m->seen = true;
    int rc = mark_workload(pr, w->pid, w);
    if (rc < 0)
        pr->api->log(pr->h, VG_LOG_WARN, "cannot protect %s (pid %d): %s", w->id, w->pid,
                     strerror(-rc));
    else
        pr->api->log(pr->h, VG_LOG_INFO, "exec protection on for %s", w->id);
}

void protect_sync(protect *pr)
{
    if (!pr)
        return;
    for (size_t i = 0; i < pr->n; i++)
        pr->v[i].seen = false;
    pr->api->workloads_each(pr->h, sync_one, pr);
    for (size_t i = 0; i < pr->n;) {
        if (pr->v[i].seen) {
            i++;
            continue;
        }
        /* A workload gone takes its mounts and marks along; one that left
         * protect mode keeps running and is unmarked. */
        mark_workload(pr, pr->v[i].pid, NULL);
        owner_del(pr, pr->v[i].id);
        pr->api->log(pr->h, VG_LOG_INFO, "exec protection off for %s", pr->v[i].id);
        pr->v[i] = pr->v[--pr->n];
    }
    atomic_store(&pr->nmarked, pr->n);
}

/* ---- life cycle --------------------------------------------------------- */

int protect_new(const vg_host_api *api, vg_host *h, int fail_verdict, bool protect_nodes,
                protect **out)
{
    protect *pr = calloc(1, sizeof(*pr));
    if (!pr)
        return -ENOMEM;
    pr->api = api;
    pr->h = h;
    pr->protect_nodes = protect_nodes;
    pr->t_violation = api->event_type(h, "proc.violation");
    pthread_mutex_init(&pr->mlock, NULL);
    /* A zeroed msgpack_sbuffer is an empty one: the context needs no init. */
    fan_ops ops = {.decide = decide,
                   .after = after,
                   .ctx_size = sizeof(thread_ctx),
                   .ctx_end = ctx_end,
                   .arg = pr};
    fan_engine_opts opts = {.fail_verdict = fail_verdict, .resolve_path = true};
    int rc = fan_engine_new(&ops, &opts, &pr->fan);
    if (rc == 0 && (rc = fan_engine_start(pr->fan)) < 0)
        fan_engine_free(pr->fan);
    if (rc < 0) {
        pthread_mutex_destroy(&pr->mlock);
        free(pr);
        return rc;
    }
    *out = pr;
    return 0;
}

static uint64_t percentile(const uint64_t *lat, uint64_t total, double q)
{
    uint64_t want = (uint64_t)(q * (double)total), seen = 0;
    for (size_t i = 0; i < LAT_BUCKETS; i++) {
        seen += lat[i];
        if (seen > want)
            return (uint64_t)(i + 1) * 1000; /* the bucket's upper bound */
    }
    return 0;
}

void protect_stats_get(protect *pr, protect_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!pr)
        return;
    fan_stats fs;
    fan_engine_stats(pr->fan, &fs);
    out->events = fs.events;
    out->denied = fs.denied;
    out->failed = fs.failed;
    out->overflows = fs.queue_overflows;
    out->threads = fs.threads;
    out->marked = atomic_load(&pr->nmarked);
    uint64_t lat[LAT_BUCKETS];
    uint64_t total = 0;
    for (size_t i = 0; i < LAT_BUCKETS; i++)
        total += lat[i] = atomic_load(&pr->lat[i]);
    if (total) {
        out->p50_ns = percentile(lat, total, 0.50);
        out->p99_ns = percentile(lat, total, 0.99);
    }
    out->max_ns = atomic_load(&pr->lat_max);
}

void protect_free(protect *pr)
{
    if (!pr)
        return;
    fan_engine_free(pr->fan);
    pthread_mutex_destroy(&pr->mlock);
    free(pr->mounts);
    free(pr->v);
    free(pr);
}
