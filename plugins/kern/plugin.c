/*
 * The kern plugin: kernel facts the incident policies need and no other
 * plugin gives, each from the cheapest source the kernel offers:
 *
 * - kern.call: system calls that namespace, mount, module, ptrace and raw
 *   socket tricks, links and log tampering are made of, and opens for
 *   writing below programs, libraries, /etc, /proc/sys, /sys and /var/log
 *   (BPF on the sys_enter tracepoint, filtered in the kernel: bpfsrc.c);
 * - kern.exec: a container process executing a file changed after the
 *   container started (drift), or with a terminal (BPF on
 *   sched_process_exec);
 * - file.read: an open of a sensitive file (fanotify marks on a short list
 *   of inodes: reads.c). They are permission marks, answered "allow" at
 *   once by the shared engine's threads (plugins/common/fanotify_engine.c),
 *   because the opener must still be there to be named: `cat /etc/shadow`
 *   has exited long before a notification is read, and with it its
 *   program, command line and workload. The evidence is read while the
 *   kernel holds the open (tens of microseconds, for files opened a few
 *   times a minute), published after the answer.
 *
 * One reader thread polls the ring buffer and two eventfds (stop, and
 * resync: the roots changed; it also re-marks every rescan_ms, for files
 * replaced by a rename). The loop thread collects the workloads' roots when
 * workloads start and stop and hands them over. Each event carries its
 * process's evidence (evidence.c) and workload.
 */
#include <errno.h>
#include <msgpack.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <time.h>
#include <unistd.h>
#include <vigil/plugin.h>

#include "bpfsrc.h"
#include "evidence.h"
#include "fanotify_engine.h"
#include "kern_event.h"
#include "reads.h"

#define EXTRA_MAX 64

typedef struct kern_plugin {
    const vg_host_api *api;
    vg_host *h;
    int t_call, t_exec, t_read, t_stats;
    bool use_bpf, use_reads, watch_host;
    int64_t max_marks, rescan_ms;
    char *extra_buf;
    const char *extra[EXTRA_MAX + 1]; /* plugins.kern.read_paths, NULL-ended */
    kb_source *bpf;
    fan_engine *fan; /* the sensitive files' permission group */
    rd_watch *reads;
    bool flush; /* roots were dropped since the last sync */
    int stop_fd, sync_fd;
    pthread_t thread;
    bool running;
    pid_t self;
    pthread_mutex_t lock; /* roots */
    rd_root *roots;
    size_t nroots;
    msgpack_sbuffer sb; /* reader thread */
    atomic_ulong records, reads_seen;
    int last_marks;        /* reader thread: marks at the last kern.stats */
    int64_t next_stats_ms; /* reader thread: when kern.stats is due */
} kern_plugin;

/* ---- event bodies ------------------------------------------------------- */

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

static void publish(kern_plugin *p, int type, int severity, const vg_workload_view *wv)
{
    vg_event_in ev = {.type = type,
                      .severity = severity,
                      .workload = wv ? wv->id : "",
                      .group = wv ? wv->group : "",
                      .body = p->sb.data,
                      .body_len = p->sb.size};
    p->api->publish(p->h, &ev);
}

static const char *call_name(uint32_t kind)
{
    static const char *const names[] = {
        [KE_MOUNT] = "mount",      [KE_UMOUNT] = "umount",     [KE_UNSHARE] = "unshare",
        [KE_SETNS] = "setns",      [KE_CHROOT] = "chroot",     [KE_PIVOT_ROOT] = "pivot_root",
        [KE_MODULE] = "module",    [KE_PTRACE] = "ptrace",     [KE_RAW_SOCKET] = "raw_socket",
        [KE_SYMLINK] = "symlink",  [KE_LINK] = "link",         [KE_OPEN_WRITE] = "open_write",
        [KE_UNLINK] = "unlink",    [KE_TRUNCATE] = "truncate", [KE_RENAME] = "rename",
        [KE_EXEC_DRIFT] = "drift", [KE_EXEC_TTY] = "tty",
    };
    return kind < sizeof(names) / sizeof(names[0]) && names[kind] ? names[kind] : "?";
}

/* A string the kernel filled, cut at its buffer's end. */
static void kv_kstr(msgpack_packer *pk, const char *k, const char *v, size_t size)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    size_t n = strnlen(v, size);
    msgpack_pack_str_with_body(pk, v, n);
}

/* The fields every event of this plugin has about its process. */
#define PROC_FIELDS 7
static void pack_proc(msgpack_packer *pk, const struct ke_record *r, const ev_proc *e)
{
    kv_int(pk, "pid", r->pid);
    kv_int(pk, "ppid", r->ppid);
    kv_int(pk, "euid", r->uid);
    kv_kstr(pk, "name", r->comm, sizeof(r->comm));
    kv_kstr(pk, "parent_name", r->parent_comm, sizeof(r->parent_comm));
    kv_str(pk, "program", e->program);
    kv_str(pk, "cmdline", e->cmdline);
}

/* The runtime's own set-up of a container (runc init mounting, pivoting,
 * joining namespaces, re-executing its private copy of itself through
 * /proc/self/exe, a memfd made a moment before) is not the workload's
 * doing. Known by its names and its program together (runc runs as
 * "/memfd:runc_cloned:..."; "?" when it is already gone); a workload that
 * calls itself "runc:[..." but runs another file is reported. */
static bool runtime_setup(const struct ke_record *r, const ev_proc *e)
{
    if (r->kind == KE_EXEC_DRIFT || r->kind == KE_EXEC_TTY)
        return strncmp(r->parent_comm, "runc", 4) == 0 && strcmp(r->path, "/proc/self/exe") == 0;
    return strncmp(r->comm, "runc:[", 6) == 0 &&
           (strstr(e->program, "runc") != NULL || strcmp(e->program, "?") == 0);
}

static void on_record(void *arg, const struct ke_record *r)
{
    kern_plugin *p = arg;
    atomic_fetch_add(&p->records, 1);
    ev_proc e;
    ev_read(p->api, p->h, "/proc", (pid_t)r->pid, (pid_t)r->ppid, &e);
    if (runtime_setup(r, &e))
        return;
    msgpack_packer pk;
    p->sb.size = 0;
    msgpack_packer_init(&pk, &p->sb, msgpack_sbuffer_write);
    if (r->kind == KE_EXEC_DRIFT || r->kind == KE_EXEC_TTY) {
        msgpack_pack_map(&pk, PROC_FIELDS + 4);
        pack_proc(&pk, r, &e);
        kv_str(&pk, "what", call_name(r->kind));
        kv_kstr(&pk, "path", r->path, sizeof(r->path));
        kv_int(&pk, "file_ctime", (int64_t)r->ctime_ns);
        kv_int(&pk, "started", (int64_t)r->started_ns);
        publish(p, p->t_exec, VG_SEV_NOTICE, e.known ? &e.wv : NULL);
        return;
    }
    msgpack_pack_map(&pk, PROC_FIELDS + 6);
    pack_proc(&pk, r, &e);
    kv_str(&pk, "call", call_name(r->kind));
    kv_kstr(&pk, "path", r->path, sizeof(r->path));
    kv_kstr(&pk, "target", r->target, sizeof(r->target));
    kv_kstr(&pk, "fstype", r->fstype, sizeof(r->fstype));
    kv_int(&pk, "flags", r->flags);
    kv_int(&pk, "arg", r->arg);
    publish(p, p->t_call, VG_SEV_NOTICE, e.known ? &e.wv : NULL);
}

/* What a permission thread found about an open, between decide() and
 * after(). */
typedef struct read_ctx {
    bool hit;
    struct ke_record r; /* pid, ppid, names */
    ev_proc e;
    char path[1024];
} read_ctx;

/* The name and parent of pid from /proc/<pid>/stat, the parent's name from
 * its comm. */
static void stat_names(pid_t pid, struct ke_record *r)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(buf, sizeof(buf), f)) {
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        unsigned ppid = 0;
        if (open && close && close > open) {
            size_t n = (size_t)(close - open - 1);
            memcpy(r->comm, open + 1, n < sizeof(r->comm) - 1 ? n : sizeof(r->comm) - 1);
            if (sscanf(close + 2, "%*c %u", &ppid) == 1)
                r->ppid = ppid;
        }
    }
    fclose(f);
    if (!r->ppid)
        return;
    snprintf(path, sizeof(path), "/proc/%u/comm", r->ppid);
    if ((f = fopen(path, "re"))) {
        if (fgets(r->parent_comm, sizeof(r->parent_comm), f))
            r->parent_comm[strcspn(r->parent_comm, "\n")] = '\0';
        fclose(f);
    }
}

/* A permission thread, while the opener waits: is this one of ours? Then
 * its evidence, now. The answer is always allow. */
static int read_decide(void *arg, fan_request *req)
{
    kern_plugin *p = arg;
    read_ctx *c = req->ctx;
    c->hit = false;
    if (!(req->mask & FAN_OPEN_PERM) || !p->reads ||
        rd_lookup(p->reads, req->fd, c->path, sizeof(c->path)) < 0)
        return FAN_VERDICT_ALLOW;
    memset(&c->r, 0, sizeof(c->r));
    c->r.pid = (uint32_t)req->pid;
    stat_names(req->pid, &c->r);
    ev_read(p->api, p->h, "/proc", req->pid, (pid_t)c->r.ppid, &c->e);
    c->hit = true;
    return FAN_VERDICT_ALLOW;
}

/* The same thread, the opener released: file.read. */
static void read_after(void *arg, const fan_request *req, int verdict, int64_t answer_ns)
{
    kern_plugin *p = arg;
    read_ctx *c = req->ctx;
    (void)verdict;
    (void)answer_ns;
    if (!c->hit)
        return;
    atomic_fetch_add(&p->reads_seen, 1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    kv_int(&pk, "pid", c->r.pid);
    kv_int(&pk, "ppid", c->r.ppid);
    kv_kstr(&pk, "name", c->r.comm, sizeof(c->r.comm));
    kv_kstr(&pk, "parent_name", c->r.parent_comm, sizeof(c->r.parent_comm));
    kv_str(&pk, "program", c->e.program);
    kv_str(&pk, "cmdline", c->e.cmdline);
    kv_str(&pk, "path", c->path);
    kv_str(&pk, "access", "read");
    vg_event_in ev = {.type = p->t_read,
                      .severity = VG_SEV_NOTICE,
                      .workload = c->e.known ? c->e.wv.id : "",
                      .group = c->e.known ? c->e.wv.group : "",
                      .body = sb.data,
                      .body_len = sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- the reader thread -------------------------------------------------- */

static void publish_stats(kern_plugin *p)
{
    size_t marks = 0, refused = 0;
    if (p->reads)
        rd_counts(p->reads, &marks, &refused);
    msgpack_packer pk;
    p->sb.size = 0;
    msgpack_packer_init(&pk, &p->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    msgpack_pack_str_with_body(&pk, "bpf", 3);
    p->bpf ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
    kv_int(&pk, "read_marks", (int64_t)marks);
    kv_int(&pk, "read_marks_refused", (int64_t)refused);
    kv_int(&pk, "records", (int64_t)atomic_load(&p->records));
    kv_int(&pk, "records_lost", p->bpf ? (int64_t)kb_lost(p->bpf) : 0);
    kv_int(&pk, "reads", (int64_t)atomic_load(&p->reads_seen));
    fan_stats fs = {0};
    if (p->fan)
        fan_engine_stats(p->fan, &fs);
    kv_int(&pk, "read_overflows", (int64_t)fs.queue_overflows);
    publish(p, p->t_stats, VG_SEV_DEBUG, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void resync(kern_plugin *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->nroots;
    rd_root *copy = n ? malloc(n * sizeof(*copy)) : NULL;
    if (copy)
        memcpy(copy, p->roots, n * sizeof(*copy));
    bool flush = p->flush;
    p->flush = false;
    pthread_mutex_unlock(&p->lock);
    if (n && !copy)
        return;
    int rc = rd_sync(p->reads, fan_engine_fd(p->fan), FAN_OPEN_PERM, copy, n, p->extra, flush);
    if (rc < 0)
        p->api->log(p->h, VG_LOG_WARN, "sensitive files: cannot watch: %s", strerror(-rc));
    free(copy);
    /* kern.stats when the marks changed, and once a minute. */
    int64_t now = now_ms();
    if (rc != p->last_marks || now >= p->next_stats_ms) {
        p->last_marks = rc;
        p->next_stats_ms = now + 60000;
        publish_stats(p);
    }
}

static void drain(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

static void *reader(void *arg)
{
    kern_plugin *p = arg;
    int64_t next_sync = 0;
    for (;;) {
        int64_t now = now_ms();
        if (p->reads && now >= next_sync) {
            resync(p);
            next_sync = now + p->rescan_ms;
        }
        struct pollfd fds[3] = {
            {.fd = p->stop_fd, .events = POLLIN},
            {.fd = p->sync_fd, .events = POLLIN},
            {.fd = p->bpf ? kb_fd(p->bpf) : -1, .events = POLLIN},
        };
        int wait = p->reads ? (int)(next_sync - now) : -1;
        if (poll(fds, 3, wait) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        if (fds[1].revents) {
            drain(p->sync_fd);
            next_sync = 0;
        }
        if (fds[2].revents)
            kb_consume(p->bpf, on_record, p);
    }
    return NULL;
}

/* ---- roots (loop thread) ------------------------------------------------ */

typedef struct roots {
    rd_root *r;
    size_t n, cap;
} roots;

static void add_root(roots *rs, int pid)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        rd_root *n = realloc(rs->r, cap * sizeof(*n));
        if (!n)
            return;
        rs->r = n;
        rs->cap = cap;
    }
    rs->r[rs->n++] = (rd_root){.pid = pid};
}

static void collect(void *arg, const vg_workload_view *w)
{
    if (w->id[0] && w->pid > 0)
        add_root(arg, w->pid);
}

static void on_workloads_changed(void *arg, const void *rec, size_t len)
{
    kern_plugin *p = arg;
    (void)rec;
    (void)len;
    roots rs = {0};
    if (p->watch_host)
        add_root(&rs, 0);
    p->api->workloads_each(p->h, collect, &rs);
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->nroots && !p->flush; i++) {
        bool kept = false;
        for (size_t j = 0; j < rs.n && !kept; j++)
            kept = rs.r[j].pid == p->roots[i].pid;
        p->flush = !kept;
    }
    free(p->roots);
    p->roots = rs.r;
    p->nroots = rs.n;
    pthread_mutex_unlock(&p->lock);
    uint64_t one = 1;
    ssize_t w = write(p->sync_fd, &one, sizeof(one));
    (void)w;
}

/* ---- life cycle --------------------------------------------------------- */

static void parse_extra(kern_plugin *p, const char *list)
{
    p->extra_buf = strdup(list);
    size_t n = 0;
    char *save = NULL;
    for (char *s = p->extra_buf ? strtok_r(p->extra_buf, ":,", &save) : NULL; s && n < EXTRA_MAX;
         s = strtok_r(NULL, ":,", &save))
        if (s[0] == '/')
            p->extra[n++] = s;
        else
            p->api->log(p->h, VG_LOG_WARN, "plugins.kern.read_paths: %s is not absolute", s);
    p->extra[n] = NULL;
}

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    if (!VG_HOST_HAS(api, workloads_each))
        return -ENOTSUP;
    kern_plugin *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->api = api;
    p->h = h;
    p->stop_fd = p->sync_fd = -1;
    p->self = getpid();
    pthread_mutex_init(&p->lock, NULL);
    msgpack_sbuffer_init(&p->sb);
    p->t_call = api->event_type(h, "kern.call");
    p->t_exec = api->event_type(h, "kern.exec");
    p->t_read = api->event_type(h, "file.read");
    p->t_stats = api->event_type(h, "kern.stats");
    int b = 1, r = 1, host = 1;
    api->config_bool(h, "bpf", &b);
    api->config_bool(h, "reads", &r);
    api->config_bool(h, "host", &host);
    p->use_bpf = b;
    p->use_reads = r;
    p->watch_host = host;
    p->max_marks = 4096;
    api->config_int(h, "max_marks", &p->max_marks);
    p->rescan_ms = 5000;
    api->config_int(h, "rescan_ms", &p->rescan_ms);
    const char *extra = "";
    api->config_string(h, "read_paths", &extra);
    parse_extra(p, extra);
    *priv = p;
    return 0;
}

static void sources(kern_plugin *p)
{
    char why[256] = "";
    if (p->use_bpf) {
        const char *step = "";
        int rc = kb_open(p->self, &p->bpf, &step);
        if (rc < 0)
            snprintf(why, sizeof(why), "no kernel call events (BPF %s: %s)", step, strerror(-rc));
    }
    if (p->use_reads) {
        fan_ops ops = {
            .decide = read_decide, .after = read_after, .ctx_size = sizeof(read_ctx), .arg = p};
        fan_engine_opts o = {
            .fail_verdict = FAN_VERDICT_ALLOW, .max_threads = 2, .name = "kern-reads"};
        int rc = rd_new(p->max_marks > 0 ? (size_t)p->max_marks : 1, &p->reads);
        if (rc == 0 && (rc = fan_engine_new(&ops, &o, &p->fan)) == 0)
            rc = fan_engine_start(p->fan);
        if (rc < 0) {
            fan_engine_free(p->fan);
            p->fan = NULL;
            rd_free(p->reads);
            p->reads = NULL;
        }
        if (rc < 0)
            snprintf(why + strlen(why), sizeof(why) - strlen(why),
                     "%sno sensitive reads (fanotify: %s)", why[0] ? "; " : "", strerror(-rc));
    }
    if (why[0])
        p->api->set_state(p->h, VG_PLUGIN_DEGRADED, why);
}

static int start(void *priv)
{
    kern_plugin *p = priv;
    sources(p);
    p->stop_fd = eventfd(0, EFD_CLOEXEC);
    p->sync_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->stop_fd < 0 || p->sync_fd < 0)
        return -errno;
    static const char *const types[] = {"workload.start", "workload.stop"};
    for (size_t i = 0; i < 2; i++)
        if (p->api->subscribe(p->h, types[i], on_workloads_changed, p) < 0)
            p->api->log(p->h, VG_LOG_WARN, "cannot follow %s: sensitive reads may lag", types[i]);
    on_workloads_changed(p, NULL, 0);
    if (pthread_create(&p->thread, NULL, reader, p) != 0)
        return -errno;
    pthread_setname_np(p->thread, "kern-ring");
    p->running = true;
    return 0;
}

static void stop(void *priv)
{
    kern_plugin *p = priv;
    if (p->running) {
        uint64_t one = 1;
        ssize_t w = write(p->stop_fd, &one, sizeof(one));
        (void)w;
        pthread_join(p->thread, NULL);
    }
    if (p->stop_fd >= 0)
        close(p->stop_fd);
    if (p->sync_fd >= 0)
        close(p->sync_fd);
    kb_close(p->bpf);
    fan_engine_free(p->fan);
    rd_free(p->reads);
    free(p->roots);
    free(p->extra_buf);
    pthread_mutex_destroy(&p->lock);
    msgpack_sbuffer_destroy(&p->sb);
    free(p);
}

/* What plugins.kern may set (checked before the plugin runs). */
static const vg_setting_desc settings[] = {
    {.key = "bpf", .type = VG_SETTING_BOOL},
    {.key = "reads", .type = VG_SETTING_BOOL},
    {.key = "host", .type = VG_SETTING_BOOL},
    {.key = "read_paths", .type = VG_SETTING_STRING},
    {.key = "max_marks", .type = VG_SETTING_INT, .min = 1, .max = 1 << 20},
    {.key = "rescan_ms", .type = VG_SETTING_INT, .min = 100, .max = 86400000},
    {.key = NULL},
};

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "kern",
    .version = VIGIL_VERSION,
    .description =
        "kernel facts for incidents: namespace, mount and link calls, drift, sensitive reads",
    .init = init,
    .start = start,
    .stop = stop,
    .settings = settings,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
