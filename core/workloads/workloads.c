/* The workload registry: records, indexes and lookups; see workloads.h. */
#include "workloads.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_path.h"
#include "hmap.h"

/* Beyond this many pids remembered between rescans, misses are answered
 * without being remembered: a fork bomb must not grow the daemon. */
#define PID_CACHE_MAX (1u << 20)

/* Marks a pid known to belong to the host in the pid map. */
static char host_mark;

const char *vg_runtime_name(int runtime)
{
    static const char *const names[] = {"host", "docker", "containerd", "crio", "podman", "runc"};
    return runtime >= 0 && runtime <= VG_RT_RUNC ? names[runtime] : "unknown";
}

/* ---- records ------------------------------------------------------------ */

vg_workload *vg_workload_new(const char *id)
{
    vg_workload *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    atomic_init(&w->refs, 1);
    atomic_init(&w->mode, VG_MODE_LEARN);
    snprintf(w->id, sizeof(w->id), "%s", id);
    return w;
}

vg_workload *vg_workload_ref(vg_workload *w)
{
    atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
    return w;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void vg_workload_unref(vg_workload *w)
{
    if (!w || atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(w->name);
    free(w->image);
    free(w->cgroup);
    free(w->pod);
    free(w->k8s_namespace);
    free(w->k8s_container);
    free_strv(w->kv, w->nkv * 2);
    free_strv(w->groups, w->ngroups);
    free(w);
}

int vg_workload_set(char **field, const char *v)
{
    char *s = v ? strdup(v) : NULL;
    if (v && !s)
        return -ENOMEM;
    free(*field);
    *field = s;
    return 0;
}

int vg_workload_add_kv(vg_workload *w, const char *key, const char *val)
{
    char **kv = realloc(w->kv, (w->nkv + 1) * 2 * sizeof(*kv));
    if (!kv)
        return -ENOMEM;
    w->kv = kv;
    kv[w->nkv * 2] = strdup(key);
    kv[w->nkv * 2 + 1] = strdup(val);
    if (!kv[w->nkv * 2] || !kv[w->nkv * 2 + 1]) {
        free(kv[w->nkv * 2]);
        free(kv[w->nkv * 2 + 1]);
        return -ENOMEM;
    }
    w->nkv++;
    return 0;
}

const char *vg_workload_kv(const vg_workload *w, const char *key)
{
    for (size_t i = 0; i < w->nkv; i++)
        if (strcmp(w->kv[2 * i], key) == 0)
            return w->kv[2 * i + 1];
    return NULL;
}

int vg_workload_add_group(vg_workload *w, const char *group)
{
    for (size_t i = 0; i < w->ngroups; i++)
        if (strcmp(w->groups[i], group) == 0)
            return 0;
    char **g = realloc(w->groups, (w->ngroups + 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    w->groups = g;
    if (!(g[w->ngroups] = strdup(group)))
        return -ENOMEM;
    w->ngroups++;
    return 0;
}

vg_workload *vg_workload_clone(const vg_workload *w)
{
    vg_workload *c = vg_workload_new(w->id);
    if (!c)
        return NULL;
    atomic_store(&c->mode, atomic_load(&w->mode));
    memcpy(c->group, w->group, sizeof(c->group));
    c->runtime = w->runtime;
    c->pid = w->pid;
    atomic_store(&c->npids, atomic_load(&w->npids));
    c->netns = w->netns, c->mntns = w->mntns, c->pidns = w->pidns;
    memcpy(c->root, w->root, sizeof(c->root));
    c->started_ns = w->started_ns;
    int rc = vg_workload_set(&c->name, w->name) | vg_workload_set(&c->image, w->image) |
             vg_workload_set(&c->cgroup, w->cgroup) | vg_workload_set(&c->pod, w->pod) |
             vg_workload_set(&c->k8s_namespace, w->k8s_namespace) |
             vg_workload_set(&c->k8s_container, w->k8s_container);
    for (size_t i = 0; rc == 0 && i < w->nkv; i++)
        rc = vg_workload_add_kv(c, w->kv[2 * i], w->kv[2 * i + 1]);
    for (size_t i = 0; rc == 0 && i < w->ngroups; i++)
        rc = vg_workload_add_group(c, w->groups[i]);
    if (rc) {
        vg_workload_unref(c);
        return NULL;
    }
    return c;
}

/* ---- indexes ------------------------------------------------------------ */

struct vg_wl_index {
    vg_hmap by_id, by_cgroup, by_netns, by_pid;
    vg_workload **all; /* the references this index holds */
    size_t n, cap;
};

vg_wl_index *vg_wl_index_new(void)
{
    vg_wl_index *idx = calloc(1, sizeof(*idx));
    if (!idx)
        return NULL;
    vg_hmap_init(&idx->by_id, true);
    vg_hmap_init(&idx->by_cgroup, true);
    vg_hmap_init(&idx->by_netns, false);
    vg_hmap_init(&idx->by_pid, false);
    return idx;
}

void vg_wl_index_free(vg_wl_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->n; i++)
        vg_workload_unref(idx->all[i]);
    free(idx->all);
    vg_hmap_free(&idx->by_id);
    vg_hmap_free(&idx->by_cgroup);
    vg_hmap_free(&idx->by_netns);
    vg_hmap_free(&idx->by_pid);
    free(idx);
}

int vg_wl_index_add(vg_wl_index *idx, vg_workload *w)
{
    if (vg_hmap_get_str(&idx->by_id, w->id))
        return -EEXIST;
    if (idx->n == idx->cap) {
        size_t cap = idx->cap ? idx->cap * 2 : 16;
        vg_workload **all = realloc(idx->all, cap * sizeof(*all));
        if (!all)
            return -ENOMEM;
        idx->all = all;
        idx->cap = cap;
    }
    /* The keys point into the record, which this index keeps alive. */
    if (vg_hmap_put_str(&idx->by_id, w->id, w) < 0 ||
        (w->cgroup && vg_hmap_put_str(&idx->by_cgroup, w->cgroup, w) < 0))
        return -ENOMEM;
    /* Containers of one pod share a network namespace; the first one added
     * (discovery adds in id order) answers for it. */
    if (w->netns && !vg_hmap_get_u64(&idx->by_netns, w->netns) &&
        vg_hmap_put_u64(&idx->by_netns, w->netns, w) < 0)
        return -ENOMEM;
    idx->all[idx->n++] = vg_workload_ref(w);
    return 0;
}

int vg_wl_index_add_pid(vg_wl_index *idx, pid_t pid, vg_workload *w)
{
    return vg_hmap_put_u64(&idx->by_pid, (uint64_t)pid, w ? (void *)w : &host_mark);
}

vg_workload *vg_wl_index_find(const vg_wl_index *idx, const char *id)
{
    return vg_hmap_get_str(&idx->by_id, id);
}

size_t vg_wl_index_count(const vg_wl_index *idx)
{
    return idx->n;
}

/* ---- the registry ------------------------------------------------------- */

/*
 * The registry's lock is striped: each thread reads under its own stripe
 * (assigned round-robin at its first lookup), and a writer takes every
 * stripe. With one shared rwlock, threads looking up at once contend on its
 * reader count, and two threads together were slower than one; writers are
 * rare (a rescan's swap, a pid's first lookup), so they pay instead.
 */
#define STRIPES 16

struct stripe {
    pthread_rwlock_t lock;
} __attribute__((aligned(64)));

static atomic_uint next_stripe;
static _Thread_local int my_stripe = -1;

static struct stripe *rd_stripe(struct stripe *stripes)
{
    if (my_stripe < 0)
        my_stripe = (int)(atomic_fetch_add(&next_stripe, 1) % STRIPES);
    return &stripes[my_stripe];
}

struct vg_workloads {
    struct stripe stripes[STRIPES];
    vg_wl_index *idx; /* never NULL */
    char *proc_root;
    atomic_int nodes_mode;
    void (*unknown_fn)(void *arg);
    void *unknown_arg;
};

static pthread_rwlock_t *rd_lock(vg_workloads *reg)
{
    pthread_rwlock_t *l = &rd_stripe(reg->stripes)->lock;
    pthread_rwlock_rdlock(l);
    return l;
}

/* Always in stripe order, so two writers cannot deadlock. */
static void wr_lock(vg_workloads *reg)
{
    for (int i = 0; i < STRIPES; i++)
        pthread_rwlock_wrlock(&reg->stripes[i].lock);
}

static void wr_unlock(vg_workloads *reg)
{
    for (int i = STRIPES - 1; i >= 0; i--)
        pthread_rwlock_unlock(&reg->stripes[i].lock);
}

int vg_workloads_new(const char *proc_root, vg_workloads **out)
{
    vg_workloads *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return -ENOMEM;
    reg->idx = vg_wl_index_new();
    reg->proc_root = strdup(proc_root);
    if (!reg->idx || !reg->proc_root) {
        vg_wl_index_free(reg->idx);
        free(reg->proc_root);
        free(reg);
        return -ENOMEM;
    }
    for (int i = 0; i < STRIPES; i++)
        pthread_rwlock_init(&reg->stripes[i].lock, NULL); /* cannot fail on Linux */
    atomic_init(&reg->nodes_mode, VG_MODE_LEARN);
    *out = reg;
    return 0;
}

void vg_workloads_free(vg_workloads *reg)
{
    if (!reg)
        return;
    vg_wl_index_free(reg->idx);
    for (int i = 0; i < STRIPES; i++)
        pthread_rwlock_destroy(&reg->stripes[i].lock);
    free(reg->proc_root);
    free(reg);
}

void vg_workloads_swap(vg_workloads *reg, vg_wl_index *idx)
{
    wr_lock(reg);
    vg_wl_index *old = reg->idx;
    reg->idx = idx;
    wr_unlock(reg);
    vg_wl_index_free(old); /* outside the lock: readers need not wait for free() */
}

void vg_workloads_set_unknown_hook(vg_workloads *reg, void (*fn)(void *arg), void *arg)
{
    reg->unknown_fn = fn;
    reg->unknown_arg = arg;
}

void vg_workloads_set_nodes_mode(vg_workloads *reg, int mode)
{
    atomic_store(&reg->nodes_mode, mode);
}

static void fill_info(vg_workloads *reg, const vg_workload *w, vg_workload_info *out)
{
    if (!w || w == (const void *)&host_mark) {
        out->id[0] = '\0';
        snprintf(out->group, sizeof(out->group), "%s", VG_GROUP_NODES);
        out->mode = atomic_load_explicit(&reg->nodes_mode, memory_order_relaxed);
        out->runtime = VG_RT_HOST;
        out->pid = 0;
        return;
    }
    memcpy(out->id, w->id, sizeof(out->id));
    memcpy(out->group, w->group, sizeof(out->group));
    out->mode = atomic_load_explicit(&w->mode, memory_order_relaxed);
    out->runtime = w->runtime;
    out->pid = w->pid;
}

/* Looks a key up in one of the maps of the current index. */
static int lookup(vg_workloads *reg, size_t map_off, const char *skey, uint64_t ukey,
                  vg_workload_info *out)
{
    pthread_rwlock_t *rd = rd_lock(reg);
    const vg_hmap *m = (const vg_hmap *)((const char *)reg->idx + map_off);
    const vg_workload *w = skey ? vg_hmap_get_str(m, skey) : vg_hmap_get_u64(m, ukey);
    if (w)
        fill_info(reg, w, out);
    pthread_rwlock_unlock(rd);
    return w ? 0 : -ENOENT;
}

int vg_workloads_lookup_cgroup(vg_workloads *reg, const char *path, vg_workload_info *out)
{
    return lookup(reg, offsetof(vg_wl_index, by_cgroup), path, 0, out);
}

int vg_workloads_lookup_netns(vg_workloads *reg, uint64_t inode, vg_workload_info *out)
{
    return lookup(reg, offsetof(vg_wl_index, by_netns), NULL, inode, out);
}

int vg_workloads_lookup_id(vg_workloads *reg, const char *id, vg_workload_info *out)
{
    return lookup(reg, offsetof(vg_wl_index, by_id), id, 0, out);
}

/* Reads /proc/<pid>/cgroup into its key path. */
static int read_pid_cgroup(const char *proc_root, pid_t pid, char *path, size_t size)
{
    char file[4096], buf[8192];
    snprintf(file, sizeof(file), "%s/%d/cgroup", proc_root, (int)pid);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int err = errno;
    close(fd);
    if (n < 0)
        return err == ESRCH ? -ESRCH : -err;
    buf[n] = '\0';
    return vg_cgroup_key(buf, path, size);
}

/* A pid not seen since the last rescan: its cgroup decides, and the answer
 * is remembered until the next rescan replaces the index. */
/* Reads the process's cgroup and looks it up. `remember` caches the answer
 * for the pid until the next rescan; host answers are never cached, since a
 * process starting a container (runc init) is in the host's cgroup until it
 * joins the container's. */
static int lookup_pid_slow(vg_workloads *reg, pid_t pid, vg_workload_info *out, bool remember)
{
    char path[4096], id[VG_WORKLOAD_MAX];
    int rc = read_pid_cgroup(reg->proc_root, pid, path, sizeof(path));
    if (rc < 0)
        return rc;
    wr_lock(reg);
    vg_workload *w = vg_hmap_get_str(&reg->idx->by_cgroup, path);
    bool host = !w && vg_cgroup_classify(path, id, sizeof(id)) == VG_RT_HOST;
    if (w || host) {
        if (remember && w && reg->idx->by_pid.n < PID_CACHE_MAX)
            vg_wl_index_add_pid(reg->idx, pid, w); /* on failure, just not remembered */
        fill_info(reg, w, out);
    }
    wr_unlock(reg);
    if (!w && !host && reg->unknown_fn)
        reg->unknown_fn(reg->unknown_arg);
    return w || host ? 0 : -EAGAIN;
}

int vg_workloads_lookup_pid(vg_workloads *reg, pid_t pid, vg_workload_info *out)
{
    if (pid <= 0)
        return -EINVAL;
    if (lookup(reg, offsetof(vg_wl_index, by_pid), NULL, (uint64_t)pid, out) == 0)
        return 0;
    return lookup_pid_slow(reg, pid, out, true);
}

int vg_workloads_lookup_pid_fresh(vg_workloads *reg, pid_t pid, vg_workload_info *out)
{
    if (pid <= 0)
        return -EINVAL;
    return lookup_pid_slow(reg, pid, out, false);
}

vg_workload *vg_workloads_get(vg_workloads *reg, const char *id)
{
    pthread_rwlock_t *rd = rd_lock(reg);
    vg_workload *w = vg_hmap_get_str(&reg->idx->by_id, id);
    if (w)
        vg_workload_ref(w);
    pthread_rwlock_unlock(rd);
    return w;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp((*(vg_workload *const *)a)->id, (*(vg_workload *const *)b)->id);
}

int vg_workloads_list(vg_workloads *reg, vg_workload ***out, size_t *n)
{
    pthread_rwlock_t *rd = rd_lock(reg);
    size_t count = reg->idx->n;
    vg_workload **list = calloc(count ? count : 1, sizeof(*list));
    for (size_t i = 0; list && i < count; i++)
        list[i] = vg_workload_ref(reg->idx->all[i]);
    pthread_rwlock_unlock(rd);
    if (!list)
        return -ENOMEM;
    qsort(list, count, sizeof(*list), cmp_id);
    *out = list;
    *n = count;
    return 0;
}

void vg_workloads_list_free(vg_workload **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_workload_unref(list[i]);
    free(list);
}

size_t vg_workloads_count(vg_workloads *reg)
{
    pthread_rwlock_t *rd = rd_lock(reg);
    size_t n = reg->idx->n;
    pthread_rwlock_unlock(rd);
    return n;
}
