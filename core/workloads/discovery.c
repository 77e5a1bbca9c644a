/* Discovery: scans, diffs against the registry, events, timers and
 * watches; see discovery.h. */
#include "discovery.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup_path.h"
#include "log.h"
#include "mp.h"
#include "proc_memo.h"
#include "runtime.h"
#include "runtime_cache.h"

#define MAX_WATCHES 16
#define KICK_DELAY_MS 20
#define KICK_AGAIN_MS 150 /* runc writes state.json just after the directory */
#define KICK_BURST 3

struct vg_discovery {
    vg_discovery_opts o;
    char *root;
    int start_type, stop_type;
    bool reclassify;
    vg_discovery_stats stats;
    /* handles */
    uv_timer_t rescan, kick;
    uv_async_t unknown; /* a lookup met a container not known yet */
    uv_fs_event_t watches[MAX_WATCHES];
    bool dead[MAX_WATCHES]; /* closed already (its start failed) */
    int nwatches, open_handles, burst;
    bool started, closing;
    struct vg__oci_cache *oci; /* runc states between scans */
    vg__proc_memo *memo;       /* container processes between scans, or NULL */
};

int vg_discovery_new(const vg_discovery_opts *opts, vg_discovery **out)
{
    vg_discovery *d = calloc(1, sizeof(*d));
    if (!d || !(d->root = strdup(opts->root ? opts->root : ""))) {
        free(d);
        return -ENOMEM;
    }
    d->o = *opts;
    d->o.root = d->root;
    d->oci = vg__oci_cache_new(); /* without it, every scan reads everything */
    char proc[4096];
    if (snprintf(proc, sizeof(proc), "%s/proc", d->root) < (int)sizeof(proc))
        d->memo = vg__proc_memo_new(proc); /* likewise */
    if (!d->o.rescan_ms)
        d->o.rescan_ms = 1000;
    d->start_type = vg_event_type_id("workload.start");
    d->stop_type = vg_event_type_id("workload.stop");
    *out = d;
    return 0;
}

/* ---- events ---- */

static void publish(vg_discovery *d, int type, const vg_workload *w)
{
    if (!d->o.bus)
        return;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    /* The id and the service group are the header's "workload" and
     * "group"; the body repeats neither (the wire form is one flat map). */
    msgpack_pack_map(&pk, 9);
    vg_mp_pack_kv_str(&pk, "name", w->name);
    vg_mp_pack_kv_str(&pk, "runtime", vg_runtime_name(w->runtime));
    vg_mp_pack_kv_int(&pk, "pid", w->pid);
    vg_mp_pack_kv_str(&pk, "image", w->image);
    vg_mp_pack_cstr(&pk, "groups");
    msgpack_pack_array(&pk, w->ngroups);
    for (size_t i = 0; i < w->ngroups; i++)
        vg_mp_pack_cstr(&pk, w->groups[i]);
    vg_mp_pack_kv_str(&pk, "namespace", w->k8s_namespace);
    vg_mp_pack_kv_str(&pk, "pod", w->pod);
    vg_mp_pack_kv_str(&pk, "container", w->k8s_container);
    vg_mp_pack_kv_str(&pk, "cgroup", w->cgroup);
    vg_event_in ev = {.type = type,
                      .severity = VG_SEV_INFO,
                      .workload = w->id,
                      .group = w->group,
                      .body = sb.data,
                      .body_len = sb.size};
    if (vg_bus_publish(d->o.bus, &ev) < 0)
        vg_warn("discovery: %s of %s was not published (bus full)", vg_event_type_name(type),
                w->id);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- building the new index ---- */

static uint64_t ns_inode(const vg__scan *s, pid_t pid, const char *ns)
{
    char path[4096];
    struct stat st;
    if (vg__path(s, path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns) < 0 || stat(path, &st) < 0)
        return 0;
    return (uint64_t)st.st_ino;
}

/* Candidates from runtime state: keyed by their init's cgroup, so the
 * /proc walk can map every process of theirs; a stale state (dead init)
 * is dropped there, as its cgroup matches nothing. */
static int key_candidates(vg__scan *s)
{
    char buf[4096], id[VG_WORKLOAD_MAX];
    for (size_t i = 0; i < s->n; i++) {
        vg_workload *w = s->cands[i];
        const char *key = vg__pid_key(s, w->pid, vg__proc_ino(s, w->pid), buf, sizeof(buf));
        if (!key || vg_hmap_get_str(&s->by_cgroup, key))
            continue;
        /* An init that started after /proc was listed is walked too. */
        if (vg__proc_add(s, w->pid) < 0)
            return -ENOMEM;
        /* runc is what the others run on; the cgroup layout tells which. */
        int rt = vg_cgroup_classify(key, id, sizeof(id));
        if (w->runtime == VG_RT_RUNC && rt != VG_RT_HOST)
            w->runtime = rt;
        if (vg_workload_set(&w->cgroup, key) < 0 ||
            vg_hmap_put_str(&s->by_cgroup, w->cgroup, w) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* What a candidate's identity needs before it is compared with the
 * published record. */
static int finish_candidate(vg_workload *w)
{
    if (vg__apply_k8s(w) < 0)
        return -ENOMEM;
    /* runc has no names; its id is the one the user chose. */
    return !w->name && w->runtime == VG_RT_RUNC ? vg_workload_set(&w->name, w->id) : 0;
}

/* The rest, for a candidate that is published: a record that did not
 * change keeps what it had (three namespace lookups per container and
 * rescan were a fifth of a rescan at rest). */
static void complete_candidate(const vg__scan *s, vg_workload *w)
{
    w->netns = ns_inode(s, w->pid, "net");
    w->mntns = ns_inode(s, w->pid, "mnt");
    w->pidns = ns_inode(s, w->pid, "pid");
    snprintf(w->root, sizeof(w->root), "/proc/%d/root", (int)w->pid);
    if (!w->started_ns) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        w->started_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
}

static bool streq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether the published record old still describes candidate c. */
static bool unchanged(const vg_workload *old, const vg_workload *c)
{
    return old->pid == c->pid && old->runtime == c->runtime && streq(old->name, c->name) &&
           streq(old->image, c->image) && streq(old->cgroup, c->cgroup) &&
           streq(old->pod, c->pod) && streq(old->k8s_namespace, c->k8s_namespace) &&
           old->nkv == c->nkv;
}

static int cmp_cand(const void *a, const void *b)
{
    return strcmp((*(vg_workload *const *)a)->id, (*(vg_workload *const *)b)->id);
}

/* Adds the live candidates to idx, reusing unchanged records; publishes
 * workload.start for new ones. */
static int build_index(vg_discovery *d, vg__scan *s, vg_wl_index *idx)
{
    if (s->n)
        qsort(s->cands, s->n, sizeof(*s->cands), cmp_cand);
    for (size_t i = 0; i < s->n; i++) {
        vg_workload *c = s->cands[i];
        if (!c->npids)
            continue; /* state of a container that has no process (left) */
        int rc = finish_candidate(c);
        vg_workload *old = rc == 0 ? vg_workloads_get(d->o.reg, c->id) : NULL;
        vg_workload *w = old && !d->reclassify && unchanged(old, c) ? old : c;
        if (old && w == old)
            atomic_store(&old->npids, atomic_load(&c->npids));
        if (rc == 0 && w == c) {
            complete_candidate(s, c);
            rc = vg_groups_classify(d->o.groups, c);
        }
        if (rc == 0)
            rc = vg_wl_index_add(idx, w);
        if (rc == 0 && !old) {
            publish(d, d->start_type, c);
            d->stats.started++;
        }
        vg_workload_unref(old);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < s->npids; i++) {
        vg_workload *w = s->pids[i].id ? vg_wl_index_find(idx, s->pids[i].id) : NULL;
        if ((s->pids[i].id && !w) || vg_wl_index_add_pid(idx, s->pids[i].pid, w) < 0)
            continue; /* a process of a dropped candidate; looked up afresh */
    }
    return 0;
}

/* Publishes workload.stop for the records of the registry not in idx. */
static void publish_gone(vg_discovery *d, vg_wl_index *idx)
{
    vg_workload **list;
    size_t n;
    if (vg_workloads_list(d->o.reg, &list, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (vg_wl_index_find(idx, list[i]->id))
            continue;
        publish(d, d->stop_type, list[i]);
        d->stats.stopped++;
    }
    vg_workloads_list_free(list, n);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int vg_discovery_scan(vg_discovery *d)
{
    uint64_t t0 = now_us();
    vg__scan s;
    vg__scan_init(&s, d->root);
    s.oci = d->oci;
    s.memo = d->memo;
    vg__oci_cache_begin(d->oci);
    vg_wl_index *idx = vg_wl_index_new();
    size_t before = vg_workloads_count(d->o.reg);
    int rc = idx ? 0 : -ENOMEM;
    if (rc == 0)
        rc = vg__list_proc(&s);
    if (rc == 0)
        rc = vg__read_runc_roots(&s);
    if (rc == 0)
        rc = vg__read_docker(&s);
    if (rc == 0)
        rc = key_candidates(&s);
    if (rc == 0)
        rc = vg__read_proc(&s);
    if (rc == 0)
        rc = vg__read_storage(&s);
    if (rc == 0)
        rc = build_index(d, &s, idx);
    if (rc == 0) {
        publish_gone(d, idx);
        size_t after = vg_wl_index_count(idx);
        vg_workloads_swap(d->o.reg, idx);
        d->reclassify = false;
        if (after != before)
            vg_debug("discovery: %zu workloads (was %zu)", after, before);
    } else {
        vg_wl_index_free(idx);
        vg_err("discovery: scan failed: %s", strerror(-rc));
    }
    vg__scan_free(&s);
    if (rc == 0) {
        vg__oci_cache_sweep(d->oci);
        vg__proc_memo_end(d->memo);
    } else {
        vg__proc_memo_drop(d->memo);
    }
    d->stats.scans++;
    d->stats.last_scan_us = now_us() - t0;
    return rc;
}

int vg_discovery_reclassify(vg_discovery *d)
{
    d->reclassify = true;
    return vg_discovery_scan(d);
}

void vg_discovery_modes_changed(vg_discovery *d)
{
    vg_workload **list;
    size_t n;
    int nodes = vg_groups_mode(d->o.groups, VG_GROUP_NODES);
    vg_workloads_set_nodes_mode(d->o.reg, nodes < 0 ? VG_MODE_LEARN : nodes);
    if (vg_workloads_list(d->o.reg, &list, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        atomic_store(&list[i]->mode, vg_groups_effective_mode(d->o.groups, list[i]));
    vg_workloads_list_free(list, n);
}

void vg_discovery_stats_get(const vg_discovery *d, vg_discovery_stats *out)
{
    *out = d->stats;
}

/* ---- timers and watches ---- */

static void on_rescan(uv_timer_t *h)
{
    vg_discovery_scan(h->data);
}

static void on_kick(uv_timer_t *h)
{
    vg_discovery *d = h->data;
    vg_discovery_scan(d);
    if (--d->burst > 0)
        uv_timer_start(&d->kick, on_kick, KICK_AGAIN_MS, 0);
}

/* Starts a burst of scans soon, unless one is under way. */
static void kick(vg_discovery *d)
{
    if (d->closing)
        return;
    /* A burst of scans: the directory appears first, its content and the
     * first process follow within milliseconds. */
    if (d->burst <= 0)
        uv_timer_start(&d->kick, on_kick, KICK_DELAY_MS, 0);
    d->burst = KICK_BURST;
}

static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    kick(h->data);
}

/* A plugin thread looked up a process of a container that appeared since
 * the last scan. */
static void on_unknown(uv_async_t *h)
{
    kick(h->data);
}

static void unknown_hook(void *arg)
{
    uv_async_send(arg);
}

static void on_closed(uv_handle_t *h);

static void watch(vg_discovery *d, const char *path)
{
    struct stat st;
    /* A directory that does not exist is no error: that runtime is not
     * installed, and the rescan timer covers one installed later. */
    if (d->nwatches == MAX_WATCHES || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return;
    uv_fs_event_t *w = &d->watches[d->nwatches];
    if (uv_fs_event_init(d->o.loop, w) < 0)
        return;
    w->data = d;
    d->open_handles++;
    /* The slot is not reused after a failed start: libuv owns it until it
     * is closed. */
    if (uv_fs_event_start(w, on_fs_event, path, 0) < 0) {
        uv_close((uv_handle_t *)w, on_closed);
        d->dead[d->nwatches] = true;
    }
    d->nwatches++;
}

static void watch_dirs(vg_discovery *d)
{
    static const char *const dirs[] = {"/run/runc",
                                       "/run/containerd/runc",
                                       "/run/docker/runtime-runc/moby",
                                       "/var/lib/docker/containers",
                                       "/sys/fs/cgroup",
                                       "/sys/fs/cgroup/unified",
                                       "/sys/fs/cgroup/system.slice",
                                       "/sys/fs/cgroup/kubepods.slice",
                                       "/sys/fs/cgroup/machine.slice",
                                       NULL};
    char path[4096];
    for (size_t i = 0; dirs[i]; i++)
        if (snprintf(path, sizeof(path), "%s%s", d->root, dirs[i]) < (int)sizeof(path))
            watch(d, path);
    /* containerd's namespaces each have their own runc root. */
    snprintf(path, sizeof(path), "%s/run/containerd/runc", d->root);
    DIR *dir = opendir(path);
    for (struct dirent *de; dir && (de = readdir(dir));) {
        char ns[4096];
        if (de->d_name[0] != '.' &&
            snprintf(ns, sizeof(ns), "%s/%s", path, de->d_name) < (int)sizeof(ns))
            watch(d, ns);
    }
    if (dir)
        closedir(dir);
}

int vg_discovery_start(vg_discovery *d)
{
    int rc = vg_discovery_scan(d);
    if (rc < 0 || !d->o.loop)
        return rc;
    uv_timer_init(d->o.loop, &d->rescan);
    uv_timer_init(d->o.loop, &d->kick);
    uv_async_init(d->o.loop, &d->unknown, on_unknown);
    d->rescan.data = d->kick.data = d->unknown.data = d;
    d->open_handles = 3;
    vg_workloads_set_unknown_hook(d->o.reg, unknown_hook, &d->unknown);
    d->started = true;
    uv_timer_start(&d->rescan, on_rescan, d->o.rescan_ms, d->o.rescan_ms);
    watch_dirs(d);
    vg_info("discovery: %zu workloads, rescanning every %llu ms, %d directories watched",
            vg_workloads_count(d->o.reg), (unsigned long long)d->o.rescan_ms, d->nwatches);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    vg_discovery *d = h->data;
    if (--d->open_handles == 0) {
        vg__oci_cache_free(d->oci);
        vg__proc_memo_free(d->memo);
        free(d->root);
        free(d);
    }
}

void vg_discovery_close(vg_discovery *d)
{
    if (!d)
        return;
    d->closing = true;
    if (!d->started) {
        vg__oci_cache_free(d->oci);
        vg__proc_memo_free(d->memo);
        free(d->root);
        free(d);
        return;
    }
    /* Lookups must stop signalling a handle that is going away. The hook
     * is unset while plugin threads may still look up: they are stopped
     * before discovery (begin_shutdown), so none is running here. */
    vg_workloads_set_unknown_hook(d->o.reg, NULL, NULL);
    uv_close((uv_handle_t *)&d->unknown, on_closed);
    uv_close((uv_handle_t *)&d->rescan, on_closed);
    uv_close((uv_handle_t *)&d->kick, on_closed);
    for (int i = 0; i < d->nwatches; i++)
        if (!d->dead[i])
            uv_close((uv_handle_t *)&d->watches[i], on_closed);
}
