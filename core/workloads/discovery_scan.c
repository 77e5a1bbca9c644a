/* A discovery scan's working set, JSON helpers and the /proc walk; see
 * runtime.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_path.h"
#include "log.h"
#include "proc_memo.h"
#include "runtime.h"

void vg__scan_init(vg__scan *s, const char *root)
{
    memset(s, 0, sizeof(*s));
    s->root = root ? root : "";
    vg_hmap_init(&s->by_id, true);
    vg_hmap_init(&s->by_cgroup, true);
}

void vg__scan_free(vg__scan *s)
{
    for (size_t i = 0; i < s->n; i++)
        vg_workload_unref(s->cands[i]);
    free(s->cands);
    free(s->pids);
    free(s->procs);
    vg_hmap_free(&s->by_id);
    vg_hmap_free(&s->by_cgroup);
}

vg_workload *vg__scan_get(vg__scan *s, const char *id, int runtime)
{
    vg_workload *w = vg_hmap_get_str(&s->by_id, id);
    if (w) {
        if (w->runtime == VG_RT_RUNC && runtime != VG_RT_RUNC)
            w->runtime = runtime;
        return w;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        vg_workload **c = realloc(s->cands, cap * sizeof(*c));
        if (!c)
            return NULL;
        s->cands = c;
        s->cap = cap;
    }
    if (!(w = vg_workload_new(id)))
        return NULL;
    if (vg_hmap_put_str(&s->by_id, w->id, w) < 0) {
        vg_workload_unref(w);
        return NULL;
    }
    w->runtime = runtime;
    s->cands[s->n++] = w;
    return w;
}

int vg__path(const vg__scan *s, char *buf, size_t size, const char *fmt, ...)
{
    int n = snprintf(buf, size, "%s", s->root);
    va_list ap;
    va_start(ap, fmt);
    int m = n >= 0 && (size_t)n < size ? vsnprintf(buf + n, size - (size_t)n, fmt, ap) : -1;
    va_end(ap);
    return m < 0 || (size_t)(n + m) >= size ? -ENAMETOOLONG : 0;
}

/* ---- JSON ---- */

json_t *vg__json_load(const char *path)
{
    json_error_t err;
    /* Runtime state files are small; the cap keeps a corrupt one from
     * costing much (JSON_DISABLE_EOF_CHECK is not used: trailing junk means
     * a torn write, and the next rescan will read it whole). */
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!j && access(path, F_OK) == 0)
        vg_debug("discovery: %s: %s (line %d)", path, err.text, err.line);
    return j;
}

const char *vg__json_str(const json_t *o, const char *key)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t vg__rfc3339_ns(const char *s)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    int64_t ns = 0, scale = 100000000;
    const char *p = s + n;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            ns += scale ? (*p - '0') * scale : 0;
    int64_t secs = (int64_t)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    int oh, om;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        secs -= (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    return secs * 1000000000 + ns;
}

int vg__json_labels(vg_workload *w, const json_t *obj)
{
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return 0;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (json_is_string(v) && !vg_workload_kv(w, k) &&
            vg_workload_add_kv(w, k, json_string_value(v)) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* The first of keys that w has. */
static const char *first_kv(const vg_workload *w, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++) {
        const char *v = vg_workload_kv(w, keys[i]);
        if (v && *v)
            return v;
    }
    return NULL;
}

int vg__apply_k8s(vg_workload *w)
{
    static const char *const pod[] = {"io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name",
                                      NULL};
    static const char *const ns[] = {"io.kubernetes.pod.namespace",
                                     "io.kubernetes.cri.sandbox-namespace", NULL};
    static const char *const ctr[] = {"io.kubernetes.container.name",
                                      "io.kubernetes.cri.container-name", NULL};
    static const char *const image[] = {"io.kubernetes.cri.image-name",
                                        "io.kubernetes.cri-o.ImageName",
                                        "io.kubernetes.cri-o.Image", NULL};
    const char *v;
    int rc = 0;
    if (!w->pod && (v = first_kv(w, pod)))
        rc |= vg_workload_set(&w->pod, v);
    if (!w->k8s_namespace && (v = first_kv(w, ns)))
        rc |= vg_workload_set(&w->k8s_namespace, v);
    if (!w->k8s_container && (v = first_kv(w, ctr)))
        rc |= vg_workload_set(&w->k8s_container, v);
    if (!w->image && (v = first_kv(w, image)))
        rc |= vg_workload_set(&w->image, v);
    /* A pod's container is named by Kubernetes; a sandbox by its pod. */
    if (!w->name && (v = w->k8s_container ? w->k8s_container : w->pod))
        rc |= vg_workload_set(&w->name, v);
    return rc ? -ENOMEM : 0;
}

/* ---- the /proc walk ---- */

static int read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    buf[n] = '\0';
    return 0;
}

long long vg__proc_starttime(const vg__scan *s, pid_t pid)
{
    char path[4096], buf[1024];
    if (vg__path(s, path, sizeof(path), "/proc/%d/stat", (int)pid) < 0 ||
        read_small(path, buf, sizeof(buf)) < 0)
        return -1;
    /* The command name (field 2) may hold blanks and parentheses; the
     * fields after it start behind the last ')'. */
    const char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoll(p + 1, NULL, 10) : -1;
}

static int add_pid(vg__scan *s, pid_t pid, const char *id)
{
    if (s->npids == s->pids_cap) {
        size_t cap = s->pids_cap ? s->pids_cap * 2 : 256;
        struct vg__pid_ent *p = realloc(s->pids, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->pids = p;
        s->pids_cap = cap;
    }
    s->pids[s->npids++] = (struct vg__pid_ent){pid, id};
    return 0;
}

/* A process in a cgroup that no runtime state named: a container when the
 * path has a runtime's layout, else the host. */
static int classify_pid(vg__scan *s, pid_t pid, const char *key, vg_workload **out)
{
    char id[VG_WORKLOAD_MAX];
    int rt = vg_cgroup_classify(key, id, sizeof(id));
    if (rt == VG_RT_HOST)
        return add_pid(s, pid, NULL);
    vg_workload *w = *out = vg__scan_get(s, id, rt);
    if (!w)
        return -ENOMEM;
    if (!w->pid || pid < w->pid)
        w->pid = pid;
    if (!w->cgroup) {
        if (vg_workload_set(&w->cgroup, key) < 0 || vg_hmap_put_str(&s->by_cgroup, w->cgroup, w))
            return -ENOMEM;
    }
    atomic_fetch_add(&w->npids, 1);
    return add_pid(s, pid, w->id);
}

static int cmp_proc(const void *a, const void *b)
{
    pid_t x = ((const struct vg__proc_ent *)a)->pid, y = ((const struct vg__proc_ent *)b)->pid;
    return (x > y) - (x < y);
}

/* Room for one more process in the listing. */
static int grow_procs(vg__scan *s)
{
    if (s->nprocs < s->procs_cap)
        return 0;
    size_t cap = s->procs_cap ? s->procs_cap * 2 : 512;
    struct vg__proc_ent *p = realloc(s->procs, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    s->procs = p;
    s->procs_cap = cap;
    return 0;
}

int vg__list_proc(vg__scan *s)
{
    char path[4096];
    if (vg__path(s, path, sizeof(path), "/proc") < 0)
        return 0;
    DIR *dir = opendir(path);
    if (!dir) {
        vg_warn("discovery: cannot read %s: %s", path, strerror(errno));
        return 0;
    }
    int rc = 0;
    bool sorted = true;
    for (struct dirent *de; rc == 0 && (de = readdir(dir));) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid > INT32_MAX)
            continue;
        if ((rc = grow_procs(s)) < 0)
            break;
        sorted = sorted && (!s->nprocs || s->procs[s->nprocs - 1].pid < (pid_t)pid);
        s->procs[s->nprocs++] = (struct vg__proc_ent){(pid_t)pid, (uint64_t)de->d_ino};
    }
    closedir(dir);
    /* procfs lists in pid order; a fixture tree in any order. */
    if (!sorted)
        qsort(s->procs, s->nprocs, sizeof(*s->procs), cmp_proc);
    return rc;
}

static const struct vg__proc_ent *find_proc(const vg__scan *s, pid_t pid)
{
    struct vg__proc_ent k = {.pid = pid};
    return s->nprocs ? bsearch(&k, s->procs, s->nprocs, sizeof(k), cmp_proc) : NULL;
}

uint64_t vg__proc_ino(const vg__scan *s, pid_t pid)
{
    const struct vg__proc_ent *e = s->memo ? find_proc(s, pid) : NULL;
    return e ? e->ino : 0;
}

int vg__proc_add(vg__scan *s, pid_t pid)
{
    if (pid <= 0 || find_proc(s, pid))
        return 0;
    if (grow_procs(s) < 0)
        return -ENOMEM;
    size_t i = s->nprocs;
    for (; i > 0 && s->procs[i - 1].pid > pid; i--)
        s->procs[i] = s->procs[i - 1];
    s->procs[i] = (struct vg__proc_ent){pid, 0}; /* its identity unknown: not remembered */
    s->nprocs++;
    return 0;
}

const char *vg__pid_key(const vg__scan *s, pid_t pid, uint64_t ino, char *buf, size_t size)
{
    char path[4096], content[8192];
    const char *key = vg__proc_memo_key(s->memo, pid, ino);
    if (key)
        return key;
    if (vg__path(s, path, sizeof(path), "/proc/%d/cgroup", (int)pid) < 0 ||
        read_small(path, content, sizeof(content)) < 0 || vg_cgroup_key(content, buf, size) < 0)
        return NULL;
    return buf;
}

int vg__read_proc(vg__scan *s)
{
    char buf[4096];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->nprocs; i++) {
        pid_t pid = s->procs[i].pid;
        uint64_t ino = s->memo ? s->procs[i].ino : 0;
        /* A process that exits during the walk is simply not there. */
        const char *key = vg__pid_key(s, pid, ino, buf, sizeof(buf));
        if (!key)
            continue;
        vg_workload *w = vg_hmap_get_str(&s->by_cgroup, key);
        if (w) {
            atomic_fetch_add(&w->npids, 1);
            rc = add_pid(s, pid, w->id);
        } else {
            rc = classify_pid(s, pid, key, &w);
        }
        if (rc == 0 && w && s->memo)
            rc = vg__proc_memo_keep(s->memo, pid, ino, key);
    }
    return rc;
}
