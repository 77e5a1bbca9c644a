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
#include <linux/openat2.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "execfile.h"
#include "fanotify_engine.h"
#include "mounts.h"
#include "procinfo.h"
#include "wmarks.h"
#include "monoclock.h"

/* Answer times in microsecond buckets; the last bucket holds everything
 * slower. Enough to tell a p99 of 20 us from one of 200 us. */
#define LAT_BUCKETS 4096

/* What decide() found out, for after(), which runs next on the same
 * permission thread: the engine's per-thread context. */
typedef struct thread_ctx {
    bool valid;
    bool loader; /* a dynamic loader run as a program: an incident too */
    vg_workload_view w;
    msgpack_sbuffer sb; /* the violation's body */
} thread_ctx;

/* An interpreter the kernel is about to open for an exec that was allowed:
 * a dynamic program's loader (PT_INTERP), a script's "#!" interpreter. Its
 * exec open is allowed as part of that exec, once, by the same process,
 * shortly after; never on its own. */
typedef struct pending {
    pid_t pid; /* 0: free */
    dev_t dev;
    ino_t ino;
    int64_t ns; /* when the exec that wants it was allowed */
} pending;

#define PENDING_SLOTS 256 /* execs between two opens of one execve, host-wide */
#define PENDING_PROBE 8
#define PENDING_NS 1000000000 /* the interpreter is opened microseconds later */

struct protect {
    const vg_host_api *api;
    vg_host *h;
    fan_engine *fan;
    bool protect_nodes;
    int t_violation, t_incident;
    wmarks marks; /* loop thread */
    _Atomic uint64_t lat[LAT_BUCKETS];
    _Atomic uint64_t lat_max;
    pthread_mutex_t plock; /* guards pend: every permission thread */
    pending pend[PENDING_SLOTS];
};

/* ---- decisions (engine thread) ------------------------------------------ */

/* The protected workload whose mount holds the file fd, if one does. Any
 * process running a file of a protected container's file system, from
 * inside it or through /proc/<pid>/root, is held to that container's
 * rules. */
static bool owner_of(protect *pr, int fd, vg_workload_view *w)
{
    if (!wmarks_owner(&pr->marks, fd, w))
        return false;
    w->mode = VG_MODE_PROTECT; /* only protected workloads are marked */
    w->pid = 0;
    return true;
}

/* The file an exec of `ef` by pid will open next: its interpreter as the
 * process sees it. Resolved inside the process's root (RESOLVE_IN_ROOT):
 * through /proc/<pid>/root alone, an absolute symlink on the way (Debian's
 * /lib64/ld-linux-x86-64.so.2) would lead to the host's file. A relative
 * name is taken from the process's working directory. */
static int interp_id(pid_t pid, const execfile *ef, struct stat *st)
{
    if (!ef->interp[0])
        return -ENOENT;
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/%s", (int)pid, ef->interp[0] == '/' ? "root" : "cwd");
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
    int fd = (int)syscall(SYS_openat2, dfd, ef->interp, &how, sizeof(how));
    int rc = fd < 0 || fstat(fd, st) < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    close(dfd);
    return rc;
}

/* Remembers that pid's exec, just allowed, will open this interpreter. */
static void expect_interp(protect *pr, pid_t pid, const execfile *ef)
{
    struct stat st;
    if (interp_id(pid, ef, &st) < 0)
        return; /* its open is judged on its own, and fails */
    int64_t now = vg_mono_ns();
    pthread_mutex_lock(&pr->plock);
    pending *slot = NULL;
    for (size_t i = 0; i < PENDING_PROBE; i++) {
        pending *c = &pr->pend[((size_t)pid + i) % PENDING_SLOTS];
        if (c->pid == pid || c->pid == 0 || now - c->ns > PENDING_NS) {
            slot = c;
            break;
        }
        if (!slot || c->ns < slot->ns)
            slot = c; /* all busy: the oldest gives way */
    }
    *slot = (pending){.pid = pid, .dev = st.st_dev, .ino = st.st_ino, .ns = now};
    pthread_mutex_unlock(&pr->plock);
}

/* Whether this exec open is the interpreter an allowed exec of pid is
 * waiting for; the expectation is used up either way. */
static bool interp_expected(protect *pr, pid_t pid, int fd)
{
    pending want = {0};
    int64_t now = vg_mono_ns();
    pthread_mutex_lock(&pr->plock);
    for (size_t i = 0; i < PENDING_PROBE; i++) {
        pending *c = &pr->pend[((size_t)pid + i) % PENDING_SLOTS];
        if (c->pid == pid) {
            want = *c;
            c->pid = 0;
            break;
        }
    }
    pthread_mutex_unlock(&pr->plock);
    struct stat st;
    return want.pid && now - want.ns <= PENDING_NS && fstat(fd, &st) == 0 &&
           st.st_dev == want.dev && st.st_ino == want.ino;
}

static int decide(void *arg, fan_request *req)
{
    protect *pr = arg;
    thread_ctx *cur = req->ctx;
    cur->valid = false;
    cur->loader = false;
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
    execfile ef;
    execfile_read(req->fd, &ef);
    /* The loader of an allowed dynamic program, the interpreter of an
     * allowed script: part of that exec, which was judged. */
    if (interp_expected(pr, req->pid, req->fd)) {
        if (execfile_wants_interp(&ef))
            expect_interp(pr, req->pid, &ef); /* a script's dynamic interpreter */
        return FAN_VERDICT_ALLOW;
    }
    if (!req->path[0])
        return -ENOENT;
    /* A loader run as a program runs whatever file it is given, which the
     * kernel never sees exec'd: refused whatever the rules say. */
    if (execfile_is_loader(&ef, req->path)) {
        cur->valid = cur->loader = true;
        return FAN_VERDICT_DENY;
    }
    /* The name the file will run as is not known yet: leaving it (and the
     * user) out asks whether some allowed process of the group runs this
     * file. The name is checked at the exec event (plugin.c). */
    vg_subject s = {.plane = VG_PLANE_PROC, .group = w->group, .proc = {.path = req->path}};
    int d = pr->api->decide(pr->h, &s);
    cur->valid = true;
    if (d != VG_DECIDE_ALLOW)
        return FAN_VERDICT_DENY;
    if (execfile_wants_interp(&ef))
        expect_interp(pr, req->pid, &ef);
    return FAN_VERDICT_ALLOW;
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
    if (!cur->loader)
        return;
    /* The arguments the loader was given are not known here (the exec
     * failed before they were copied): the command line is that of the
     * process that tried, a shell's, which often tells. */
    char cmd[1024] = "";
    if (procinfo_read("/proc", req->pid, &pi) == 0)
        snprintf(cmd, sizeof(cmd), "%s", pi.cmdline);
    cur->sb.size = 0;
    msgpack_pack_map(&pk, 8);
    kv_str(&pk, "incident", "loader_exec");
    kv_str(&pk, "message", "a program run through the dynamic loader was refused");
    kv_str(&pk, "action", "deny");
    kv_str(&pk, "event_type", "proc.exec");
    kv_int(&pk, "pid", req->pid);
    kv_str(&pk, "path", req->path);
    kv_str(&pk, "user", user);
    kv_str(&pk, "cmdline", cmd);
    ev.type = pr->t_incident;
    ev.severity = VG_SEV_CRITICAL;
    ev.body = cur->sb.data;
    ev.body_len = cur->sb.size;
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

typedef struct mark_arg {
    protect *pr;
    const vg_workload_view *w; /* NULL: unmark */
} mark_arg;

/* One exec-capable mount of the workload: marked and owned, or unmarked.
 * Mounts that refuse permission events (proc, sysfs) are skipped. */
static int mark_mount(const char *path, bool root, void *arg)
{
    mark_arg *a = arg;
    int rc = a->w ? fan_engine_mark(a->pr->fan, path, FAN_OPEN_EXEC_PERM, false)
                  : fan_engine_unmark(a->pr->fan, path, FAN_OPEN_EXEC_PERM, false);
    if (rc == 0 && a->w)
        wmarks_own(&a->pr->marks, path, a->w);
    else if (rc < 0 && a->w && !root)
        a->pr->api->log(a->pr->h, VG_LOG_DEBUG, "no exec mark on %s: %s", path, strerror(-rc));
    return rc;
}

static bool wants_marks(const vg_workload_view *w, void *arg)
{
    return w->mode == VG_MODE_PROTECT;
}

static int mark_workload(int pid, const vg_workload_view *w, void *arg)
{
    mark_arg a = {.pr = arg, .w = w};
    return exec_mounts_each(pid, mark_mount, &a);
}

static void unmark_workload(int pid, const char *id, void *arg)
{
    mark_arg a = {.pr = arg, .w = NULL};
    exec_mounts_each(pid, mark_mount, &a);
}

void protect_sync(protect *pr)
{
    if (pr)
        wmarks_sync(&pr->marks);
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
    pr->t_incident = api->event_type(h, "proc.incident");
    pthread_mutex_init(&pr->plock, NULL);
    wmarks_ops mops = {.wants = wants_marks,
                       .mark = mark_workload,
                       .unmark = unmark_workload,
                       .arg = pr,
                       .what = "exec protection"};
    wmarks_init(&pr->marks, api, h, &mops);
    /* A zeroed msgpack_sbuffer is an empty one: the context needs no init. */
    fan_ops ops = {.decide = decide,
                   .after = after,
                   .ctx_size = sizeof(thread_ctx),
                   .ctx_end = ctx_end,
                   .arg = pr};
    fan_engine_opts opts = {
        .fail_verdict = fail_verdict, .resolve_path = true, .name = "proc-perm"};
    int rc = fan_engine_new(&ops, &opts, &pr->fan);
    if (rc == 0 && (rc = fan_engine_start(pr->fan)) < 0)
        fan_engine_free(pr->fan);
    if (rc < 0) {
        pthread_mutex_destroy(&pr->plock);
        wmarks_free(&pr->marks);
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
    out->marked = wmarks_count(&pr->marks);
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
    pthread_mutex_destroy(&pr->plock);
    wmarks_free(&pr->marks);
    free(pr);
}
