/*
 * The file plugin: file integrity monitoring, learning and protection.
 *
 * A list of sensitive paths (fpath.c, plus plugins.file.paths, plus the
 * policy's vigil.watch{} paths for their groups) is watched in
 * the host's file system and in every workload's, through
 * /proc/<pid>/root. A notification group with inode marks on the watched
 * directories turns every change into a file.access event (notify.c),
 * which the policy learns, allows or raises as a violation. In a group in
 * protect mode, a permission group with inode marks on the watched files
 * refuses opens for writing that the policy does not allow (guard.c).
 *
 * The loop thread follows the workloads (workload.start, workload.stop and
 * group.mode events) and keeps the watch table in step; a notification
 * thread (notify.c) and the fanotify engine's permission threads, one per
 * CPU (guard.c), do the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include "file.h"

void fp_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_str_with_body(pk, v, strlen(v));
}

void fp_kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_int64(pk, v);
}

/* The mount namespace of pid ("mnt:[4026531841]"), "" if gone. */
static void mnt_ns(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
    ssize_t n = readlink(path, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
}

static bool same_ns(const char *mine, pid_t pid)
{
    char theirs[64];
    mnt_ns(pid, theirs, sizeof(theirs));
    return theirs[0] && strcmp(mine, theirs) == 0;
}

static int as_owner(const fw_owner *owner, vg_workload_view *wv)
{
    memset(wv, 0, sizeof(*wv));
    snprintf(wv->id, sizeof(wv->id), "%s", owner->id);
    snprintf(wv->group, sizeof(wv->group), "%s", owner->group);
    wv->pid = owner->pid;
    wv->mode = -1;
    return 1;
}

int fp_workload_of(file_plugin *p, pid_t pid, const fw_owner *owner, vg_workload_view *wv)
{
    memset(wv, 0, sizeof(*wv));
    int rc = p->api->workload_of_pid(p->h, pid, wv);
    if (rc < 0 && rc != -EAGAIN && rc != -ESRCH)
        return rc;
    char mine[64];
    mnt_ns(pid, mine, sizeof(mine));
    if (!mine[0])
        return as_owner(owner, wv); /* exited: the file's workload */
    if (rc == 0 && wv->id[0] && (wv->pid <= 0 || same_ns(mine, wv->pid)))
        return 0;
    if (owner->id[0] && owner->pid > 0 && same_ns(mine, owner->pid))
        return as_owner(owner, wv);
    if (rc == 0 && !wv->id[0])
        return 0; /* the host, and not in the file's container */
    p->api->log(p->h, VG_LOG_DEBUG, "pid %d: workload \"%s\" not confirmed by its namespace",
                (int)pid, wv->id);
    memset(wv, 0, sizeof(*wv));
    return rc == -ESRCH ? -ESRCH : -EAGAIN;
}

void fp_program(pid_t pid, char *buf, size_t size)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
}

/* The ids of the watched workloads, or of the guarded ones, as an array
 * (the first STATS_IDS_MAX; "" is the host). */
#define STATS_IDS_MAX 256
typedef struct id_array {
    msgpack_packer *pk;
    bool guarded_only;
    size_t n, want;
} id_array;

static void count_id(void *arg, const char *owner, bool guarded)
{
    id_array *a = arg;
    a->want += (!a->guarded_only || guarded) && a->want < STATS_IDS_MAX;
}

static void pack_id(void *arg, const char *owner, bool guarded)
{
    id_array *a = arg;
    if ((a->guarded_only && !guarded) || a->n == a->want)
        return;
    msgpack_pack_str_with_body(a->pk, owner, strlen(owner));
    a->n++;
}

/* Packs key: [ids]. The table may change between counting and packing:
 * the array is filled up to its announced length with "". */
static void pack_ids(file_plugin *p, msgpack_packer *pk, const char *key, bool guarded_only)
{
    id_array a = {.pk = pk, .guarded_only = guarded_only};
    fw_each_root(p->watch, count_id, &a);
    msgpack_pack_str_with_body(pk, key, strlen(key));
    msgpack_pack_array(pk, (uint32_t)a.want);
    fw_each_root(p->watch, pack_id, &a);
    for (; a.n < a.want; a.n++)
        msgpack_pack_str_with_body(pk, "", 0);
}

void fp_publish_stats(file_plugin *p)
{
    fw_counts c;
    fw_counts_get(p->watch, &c);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 20);
    pack_ids(p, &pk, "watched", false);
    pack_ids(p, &pk, "protected", true);
    fp_kv_int(&pk, "roots", (int64_t)c.roots);
    fp_kv_int(&pk, "watched_dirs", (int64_t)c.dirs);
    fp_kv_int(&pk, "guarded_files", (int64_t)c.files);
    fp_kv_int(&pk, "marks", (int64_t)c.marks);
    fp_kv_int(&pk, "marks_refused", (int64_t)c.refused);
    fp_kv_int(&pk, "mark_errors", (int64_t)c.errors);
    fp_kv_int(&pk, "events", (int64_t)atomic_load(&p->events));
    fp_kv_int(&pk, "events_dropped", (int64_t)atomic_load(&p->dropped));
    fp_kv_int(&pk, "queue_overflows", (int64_t)atomic_load(&p->overflows));
    fan_stats fs = {0};
    if (p->fan)
        fan_engine_stats(p->fan, &fs);
    fp_kv_int(&pk, "perm_events", (int64_t)fs.events);
    fp_kv_int(&pk, "denied", (int64_t)fs.denied);
    fp_kv_int(&pk, "perm_failed", (int64_t)fs.failed);
    /* Time from reading a permission event to having its answer (the
     * write that hands it over may let the opener run first): mean and
     * maximum since start, and the mean part spent reading the opener's
     * system call. */
    uint64_t n = fs.events;
    fp_kv_int(&pk, "answer_us_mean", n ? (int64_t)(atomic_load(&p->answer_ns_sum) / n / 1000) : 0);
    fp_kv_int(&pk, "answer_us_max", (int64_t)(atomic_load(&p->answer_ns_max) / 1000));
    fp_kv_int(&pk, "syscall_us_mean",
              n ? (int64_t)(atomic_load(&p->syscall_ns_sum) / n / 1000) : 0);
    fp_kv_int(&pk, "protection", p->fan != NULL);
    fp_kv_int(&pk, "guard_threads", (int64_t)fs.threads);
    fp_kv_int(&pk, "syscall_waits", (int64_t)atomic_load(&p->syscall_waits));
    vg_event_in ev = {
        .type = p->t_stats, .severity = VG_SEV_DEBUG, .body = sb.data, .body_len = sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- following the workloads -------------------------------------------- */

typedef struct views {
    vg_workload_view *v;
    size_t n, cap;
} views;

static void collect(void *arg, const vg_workload_view *w)
{
    views *vs = arg;
    if (!w->id[0] || w->pid <= 0)
        return;
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 16;
        vg_workload_view *n = realloc(vs->v, cap * sizeof(*n));
        if (!n)
            return;
        vs->v = n;
        vs->cap = cap;
    }
    vs->v[vs->n++] = *w;
}

typedef struct owners {
    char (*id)[VG_WORKLOAD_MAX];
    size_t n, cap;
} owners;

static void collect_owner(void *arg, const char *owner, bool guarded)
{
    owners *os = arg;
    if (os->n == os->cap) {
        size_t cap = os->cap ? os->cap * 2 : 16;
        char(*n)[VG_WORKLOAD_MAX] = realloc(os->id, cap * sizeof(*n));
        if (!n)
            return;
        os->id = n;
        os->cap = cap;
    }
    snprintf(os->id[os->n++], VG_WORKLOAD_MAX, "%s", owner);
}

static bool known(const views *vs, const char *id)
{
    for (size_t i = 0; i < vs->n; i++)
        if (strcmp(vs->v[i].id, id) == 0)
            return true;
    return false;
}

/* One workload: its root watched (again, when it restarted with a new init
 * process), its files guarded in protect mode and not otherwise. */
static void sync_one(file_plugin *p, const vg_workload_view *w)
{
    char root[64], had[64];
    snprintf(root, sizeof(root), "/proc/%d/root", w->pid);
    if (fw_root_has(p->watch, w->id, had, sizeof(had)) && strcmp(had, root) != 0)
        fw_root_drop(p->watch, w->id);
    int rc = fw_root_add(p->watch, w->id, w->group, root);
    if (rc < 0) {
        p->api->log(p->h, VG_LOG_DEBUG, "workload %s: root %s: %s", w->id, root, strerror(-rc));
        return;
    }
    rc = fw_guard(p->watch, w->id, w->mode == VG_MODE_PROTECT);
    if (rc == -ENOTSUP)
        p->api->log(p->h, VG_LOG_WARN,
                    "workload %s is in protect mode, but file protection is "
                    "not available",
                    w->id);
}

static void sync_all(file_plugin *p)
{
    views vs = {0};
    p->api->workloads_each(p->h, collect, &vs);
    for (size_t i = 0; i < vs.n; i++)
        sync_one(p, &vs.v[i]);
    owners os = {0};
    fw_each_root(p->watch, collect_owner, &os);
    for (size_t i = 0; i < os.n; i++)
        if (os.id[i][0] && !known(&vs, os.id[i]))
            fw_root_drop(p->watch, os.id[i]);
    free(os.id);
    free(vs.v);
    fw_counts c;
    fw_counts_get(p->watch, &c);
    if (memcmp(&c, &p->last, sizeof(c)) != 0) {
        p->last = c;
        fp_publish_stats(p);
    }
}

static void on_workloads_changed(void *arg, const void *rec, size_t len)
{
    sync_all(arg);
}

/* ---- the policy's paths ------------------------------------------------ */

#define GPATHS_MAX 1024 /* as many as the policy engine lets through */

typedef struct gpath_list {
    fw_gpath *g;
    size_t n;
} gpath_list;

static bool mp_is(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

static const msgpack_object *mp_key(const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (mp_is(&map->via.map.ptr[i].key, key))
            return &map->via.map.ptr[i].val;
    return NULL;
}

/* A msgpack string as a C string (malloc), NULL if it is not one or holds
 * a NUL. */
static char *mp_strdup(const msgpack_object *o)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || memchr(o->via.str.ptr, 0, o->via.str.size))
        return NULL;
    return strndup(o->via.str.ptr, o->via.str.size);
}

/* One path of a group: checked again (the policy engine checked it too,
 * but the plugin trusts no event), a trailing slash for a directory. */
static void gpath_add(file_plugin *p, gpath_list *l, const char *group, const msgpack_object *o)
{
    char *path = mp_strdup(o);
    if (!path || !fp_plain(path) || strcmp(path, "/") == 0 || l->n == GPATHS_MAX) {
        p->api->log(p->h, VG_LOG_WARN, "policy.watchlist: a path of group \"%s\" is skipped",
                    group);
        free(path);
        return;
    }
    size_t len = strlen(path);
    bool dir = path[len - 1] == '/';
    if (dir)
        path[len - 1] = '\0';
    char *g = strdup(group);
    if (!g) {
        free(path);
        return;
    }
    l->g[l->n++] = (fw_gpath){.group = g, .e = {.path = path, .kind = dir ? FP_DIR : FP_FILE}};
}

static void gpaths_parse(file_plugin *p, const msgpack_object *wire, gpath_list *l)
{
    const msgpack_object *w = mp_key(wire, "watch");
    if (!w || w->type != MSGPACK_OBJECT_ARRAY)
        return;
    for (uint32_t i = 0; i < w->via.array.size; i++) {
        const msgpack_object *e = &w->via.array.ptr[i];
        const msgpack_object *paths = mp_key(e, "paths");
        char *group = mp_strdup(mp_key(e, "group"));
        if (group && paths && paths->type == MSGPACK_OBJECT_ARRAY)
            for (uint32_t j = 0; j < paths->via.array.size; j++)
                gpath_add(p, l, group, &paths->via.array.ptr[j]);
        free(group);
    }
}

/* policy.watchlist: the whole list of the policy just loaded, which
 * replaces the previous one. The roots whose share changed are re-synced
 * at once. */
static void on_watchlist(void *arg, const void *rec, size_t len)
{
    file_plugin *p = arg;
    gpath_list l = {.g = calloc(GPATHS_MAX, sizeof(fw_gpath))};
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (l.g && msgpack_unpack_next(&up, rec, len, NULL) == MSGPACK_UNPACK_SUCCESS)
        gpaths_parse(p, &up.data, &l);
    msgpack_unpacked_destroy(&up);
    int rc = l.g ? fw_set_group_paths(p->watch, l.g, l.n) : -ENOMEM;
    if (rc < 0)
        p->api->log(p->h, VG_LOG_ERR, "cannot apply the policy's watch list: %s", strerror(-rc));
    else
        p->api->log(p->h, VG_LOG_INFO, "the policy adds %zu watched paths", l.n);
    for (size_t i = 0; i < l.n; i++) {
        free((char *)l.g[i].group);
        free((char *)l.g[i].e.path);
    }
    free(l.g);
    sync_all(p);
}

/* ---- configuration -------------------------------------------------------- */

typedef struct extra_list {
    fp_entry *e;
    size_t n, cap;
    file_plugin *p;
} extra_list;

/* One item of plugins.file.paths: an absolute path or glob; a trailing
 * slash watches a directory with its entries. */
static int add_extra(void *arg, const char *item)
{
    extra_list *l = arg;
    if (!fp_plain(item)) {
        l->p->api->log(l->p->h, VG_LOG_ERR,
                       "plugins.file.paths: \"%s\" is not a plain absolute path", item);
        return -EINVAL;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        fp_entry *n = realloc(l->e, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        l->e = n;
        l->cap = cap;
    }
    size_t len = strlen(item);
    bool dir = len > 1 && item[len - 1] == '/';
    char *copy = strndup(item, dir ? len - 1 : len);
    if (!copy)
        return -ENOMEM;
    l->e[l->n++] = (fp_entry){.path = copy, .kind = dir ? FP_DIR : FP_FILE};
    return 0;
}

static int read_config(file_plugin *p, extra_list *extra, int64_t *max_marks)
{
    const vg_host_api *api = p->api;
    const char *s = "allow";
    if (api->config_string(p->h, "fail_mode", &s) == -EINVAL ||
        (strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0)) {
        api->log(p->h, VG_LOG_ERR, "plugins.file.fail_mode must be \"allow\" or \"deny\"");
        return -EINVAL;
    }
    p->fail_verdict = strcmp(s, "deny") == 0;
    int host = 1;
    api->config_bool(p->h, "host", &host);
    p->watch_host = host;
    *max_marks = 8192;
    api->config_int(p->h, "max_marks", max_marks);
    p->rescan_ms = 2000;
    api->config_int(p->h, "rescan_ms", &p->rescan_ms);
    p->stats_interval_ms = 60000;
    api->config_int(p->h, "stats_interval_ms", &p->stats_interval_ms);
    p->guard_threads = FAN_THREADS_DEFAULT;
    api->config_int(p->h, "guard_threads", &p->guard_threads);
    if (*max_marks <= 0 || p->rescan_ms <= 0 || p->stats_interval_ms < 0) {
        api->log(p->h, VG_LOG_ERR, "plugins.file: max_marks and rescan_ms must be positive");
        return -EINVAL;
    }
    if (p->guard_threads < 1 || p->guard_threads > FAN_THREADS_MAX) {
        api->log(p->h, VG_LOG_ERR, "plugins.file.guard_threads must be 1 to %d", FAN_THREADS_MAX);
        return -EINVAL;
    }
    const char *paths = NULL;
    int rc = api->config_string(p->h, "paths", &paths);
    if (rc == -EINVAL) {
        api->log(p->h, VG_LOG_ERR,
                 "plugins.file.paths must be a string of paths separated by "
                 "':' or ','");
        return rc;
    }
    rc = rc == 0 ? fp_each_item(paths, add_extra, extra) : 0;
    return rc < 0 ? rc : 0;
}

/* ---- life cycle ------------------------------------------------------------ */

static void stop(void *priv);

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    if (!VG_HOST_HAS(api, decide))
        return -ENOTSUP; /* needs workload_of_pid, subscribe (1.1) and decide (1.3) */
    file_plugin *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->api = api;
    p->h = h;
    p->notify_fd = p->stop_fd = -1;
    p->self = getpid();
    p->t_access = api->event_type(h, "file.access");
    p->t_violation = api->event_type(h, "file.violation");
    p->t_stats = api->event_type(h, "file.stats");
    extra_list extra = {.p = p};
    int64_t max_marks;
    int rc = p->t_access < 0 || p->t_violation < 0 || p->t_stats < 0
                 ? -EINVAL
                 : read_config(p, &extra, &max_marks);
    if (rc == 0) {
        p->notify_fd =
            fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK,
                          O_RDONLY | O_CLOEXEC);
        if (p->notify_fd < 0)
            rc = -errno;
    }
    if (rc == 0) {
        /* Protection is a bonus: without permission events the plugin
         * still reports. */
        fan_ops ops = {.decide = fp_guard_decide,
                       .after = fp_guard_after,
                       .ctx_size = fp_guard_ctx_size,
                       .ctx_end = fp_guard_ctx_end,
                       .arg = p};
        fan_engine_opts opts = {.fail_verdict =
                                    p->fail_verdict ? FAN_VERDICT_DENY : FAN_VERDICT_ALLOW,
                                .report_tid = true,
                                .max_threads = (size_t)p->guard_threads,
                                .name = "file-perm"};
        if (fan_engine_new(&ops, &opts, &p->fan) < 0)
            p->fan = NULL;
        p->stop_fd = eventfd(0, EFD_CLOEXEC);
        rc = p->stop_fd < 0 ? -errno
                            : fw_new(p->notify_fd, p->fan ? fan_engine_fd(p->fan) : -1,
                                     (size_t)max_marks, extra.e, extra.n, &p->watch);
    }
    for (size_t i = 0; i < extra.n; i++)
        free((char *)extra.e[i].path);
    free(extra.e);
    if (rc < 0) {
        if (p->notify_fd < 0 && rc != -EINVAL)
            api->log(h, VG_LOG_ERR, "no fanotify notification group: %s", strerror(-rc));
        stop(p);
        return rc;
    }
    *priv = p;
    return 0;
}

static int start(void *priv)
{
    file_plugin *p = priv;
    if (!p->fan)
        p->api->set_state(p->h, VG_PLUGIN_DEGRADED,
                          "no fanotify permission events: protect mode only reports");
    /* The permission threads run before the first permission mark is made:
     * an open held by a mark is answered at once. */
    int rc = p->fan ? fan_engine_start(p->fan) : 0;
    if (rc < 0)
        return rc;
    if (p->watch_host) {
        rc = fw_root_add(p->watch, "", "nodes", "/");
        if (rc < 0)
            p->api->log(p->h, VG_LOG_WARN, "cannot watch the host: %s", strerror(-rc));
    }
    static const char *const types[] = {"workload.start", "workload.stop", "group.mode"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (p->api->subscribe(p->h, types[i], on_workloads_changed, p) < 0)
            p->api->log(p->h, VG_LOG_WARN, "cannot follow %s: watching may lag", types[i]);
    if (p->api->subscribe(p->h, "policy.watchlist", on_watchlist, p) < 0)
        p->api->log(p->h, VG_LOG_WARN, "cannot follow policy.watchlist: vigil.watch{} is ignored");
    sync_all(p);
    if (pthread_create(&p->notify_thread, NULL, fp_notify_main, p) != 0)
        return -EAGAIN;
    pthread_setname_np(p->notify_thread, "file-notify");
    p->notify_running = true;
    return 0;
}

static void stop(void *priv)
{
    file_plugin *p = priv;
    if (p->notify_running) {
        uint64_t one = 1;
        ssize_t w = write(p->stop_fd, &one, sizeof(one));
        (void)w;
    }
    if (p->notify_running)
        pthread_join(p->notify_thread, NULL);
    /* Closing the permission group allows whatever it still holds; its
     * threads look into the watch table, which goes after them. */
    fan_engine_free(p->fan);
    if (p->notify_fd >= 0)
        close(p->notify_fd);
    if (p->stop_fd >= 0)
        close(p->stop_fd);
    fw_free(p->watch);
    free(p);
}

static const char *const fail_modes[] = {"allow", "deny", NULL};

/* What plugins.file may set (ABI 1.4: checked before the plugin runs). */
static const vg_setting_desc settings[] = {
    {.key = "fail_mode", .type = VG_SETTING_STRING, .choices = fail_modes},
    {.key = "host", .type = VG_SETTING_BOOL},
    {.key = "max_marks", .type = VG_SETTING_INT, .min = 1, .max = 1 << 24},
    {.key = "rescan_ms", .type = VG_SETTING_INT, .min = 1, .max = 3600000},
    {.key = "stats_interval_ms", .type = VG_SETTING_INT, .min = 0, .max = 86400000},
    {.key = "guard_threads", .type = VG_SETTING_INT, .min = 1, .max = FAN_THREADS_MAX},
    {.key = "paths", .type = VG_SETTING_STRING},
    {.key = NULL},
};

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "file",
    .version = VIGIL_VERSION,
    .description = "file integrity monitoring, learning and protection",
    .init = init,
    .start = start,
    .stop = stop,
    .settings = settings,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
