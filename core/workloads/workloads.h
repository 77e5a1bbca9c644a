/*
 * The workload registry: every container on the host (and the host itself,
 * as the group "nodes"), with fast lookups from the identifiers that
 * plugins see: a pid, a cgroup path, a network namespace inode, a
 * workload id.
 *
 * Records (vg_workload) are reference counted and immutable once published,
 * except for the atomics `mode`, which follows group mode changes, and
 * `npids`, refreshed by each rescan. Discovery
 * (discovery.c, loop thread) builds a complete new index at each rescan and
 * swaps it in; unchanged records are shared between the old and the new
 * index, so a reference taken by a plugin stays valid (and correct) across
 * rescans.
 *
 * Threads: every vg_workloads_lookup_* and vg_workloads_get may be called
 * from any thread. They take a read lock and copy the small fields callers
 * need into a vg_workload_info (no allocation, no reference). The pid
 * lookup reads /proc/<pid>/cgroup once for a pid it has not seen since the
 * last rescan and remembers the answer; a rescan forgets every pid, so a
 * reused pid is answered afresh. Everything else is for the loop thread.
 */
#ifndef VG_WORKLOADS_H
#define VG_WORKLOADS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <vigil/plugin.h>

enum vg_runtime {
    VG_RT_HOST = 0,
    VG_RT_DOCKER,
    VG_RT_CONTAINERD,
    VG_RT_CRIO,
    VG_RT_PODMAN,
    VG_RT_RUNC,
};

/* "host", "docker", "containerd", "crio", "podman", "runc". */
const char *vg_runtime_name(int runtime);

/* The group of host processes. */
#define VG_GROUP_NODES "nodes"

typedef struct vg_workload {
    atomic_int refs;
    atomic_int mode;              /* effective mode (enum vg_mode), see groups.h */
    char id[VG_WORKLOAD_MAX];     /* the runtime's container id */
    char group[VG_GROUP_MAX];     /* service group */
    int runtime;                  /* enum vg_runtime */
    pid_t pid;                    /* init pid (host pid namespace) */
    atomic_uint npids;            /* processes at the last rescan (updated in place) */
    uint64_t netns, mntns, pidns; /* namespace inodes; 0 unknown */
    char root[32];                /* "/proc/<pid>/root" */
    int64_t started_ns;           /* creation time, ns since the epoch */
    /* Owned strings; NULL when unknown. */
    char *name; /* container name (k8s: the pod's container name) */
    char *image;
    char *cgroup; /* the cgroup path its processes are in */
    char *pod, *k8s_namespace, *k8s_container;
    /* Labels and OCI annotations as key/value pairs: kv[2i], kv[2i+1]. */
    char **kv;
    size_t nkv;
    /* Custom groups it is in (names owned). */
    char **groups;
    size_t ngroups;
} vg_workload;

/* A new record with one reference, id copied (truncated to fit). NULL when
 * out of memory. */
vg_workload *vg_workload_new(const char *id);
vg_workload *vg_workload_ref(vg_workload *w);
/* Drops a reference; the last one frees the record. NULL is fine. */
void vg_workload_unref(vg_workload *w);
/* Sets an owned string field (e.g. &w->name) to a copy of v. 0 / -ENOMEM. */
int vg_workload_set(char **field, const char *v);
/* Adds a label/annotation (copied). 0 / -ENOMEM. */
int vg_workload_add_kv(vg_workload *w, const char *key, const char *val);
/* The value of a label/annotation, or NULL. */
const char *vg_workload_kv(const vg_workload *w, const char *key);
/* Adds a custom group name (copied). */
int vg_workload_add_group(vg_workload *w, const char *group);
/* A new record with the same content (one reference), for changes to a
 * published one. */
vg_workload *vg_workload_clone(const vg_workload *w);

/* What a lookup copies out. For a host process id is "" and group is
 * "nodes". */
typedef struct vg_workload_info {
    char id[VG_WORKLOAD_MAX];
    char group[VG_GROUP_MAX];
    int mode;    /* effective mode */
    int runtime; /* enum vg_runtime */
    pid_t pid;   /* the workload's init pid; 0 for the host */
} vg_workload_info;

typedef struct vg_workloads vg_workloads;

/* An index being built by discovery: it takes a reference to each record
 * added. Loop thread. */
typedef struct vg_wl_index vg_wl_index;
vg_wl_index *vg_wl_index_new(void);
void vg_wl_index_free(vg_wl_index *idx);
/* Adds w (a reference is taken) by id, cgroup and netns. -EEXIST when the
 * id is taken, -ENOMEM. */
int vg_wl_index_add(vg_wl_index *idx, vg_workload *w);
/* Maps a pid to w, or to the host when w is NULL. */
int vg_wl_index_add_pid(vg_wl_index *idx, pid_t pid, vg_workload *w);
vg_workload *vg_wl_index_find(const vg_wl_index *idx, const char *id);
size_t vg_wl_index_count(const vg_wl_index *idx);

/* `proc_root` is the /proc to read for pid lookups ("<discovery_root>/proc");
 * copied. */
int vg_workloads_new(const char *proc_root, vg_workloads **out);
void vg_workloads_free(vg_workloads *reg);

/* Swaps idx in (the registry owns it from now on) and frees the previous
 * index. Loop thread. */
void vg_workloads_swap(vg_workloads *reg, vg_wl_index *idx);

/* Called (from the looking-up thread) when a pid lookup meets a container
 * the registry does not know yet, so that discovery can rescan at once
 * instead of at its next period. fn must be safe to call from any thread
 * (discovery uses uv_async_send). Set before lookups start; NULL unsets. */
void vg_workloads_set_unknown_hook(vg_workloads *reg, void (*fn)(void *arg), void *arg);

/* The effective mode for host processes (the mode of "nodes"). */
void vg_workloads_set_nodes_mode(vg_workloads *reg, int mode);

/* Any thread. 0 and *out filled; -ENOENT unknown; for pids also -ESRCH (no
 * such process) and -EAGAIN (the process is in a container that the next
 * rescan will add). Pid answers for containers are cached until the next
 * rescan; host answers are not (a process joining a container is in the
 * host's cgroup first). */
int vg_workloads_lookup_pid(vg_workloads *reg, pid_t pid, vg_workload_info *out);
/* The same without the pid cache: reads the process's cgroup now, so that a
 * pid reused since the last rescan cannot be mistaken for its predecessor.
 * What plugins get through the host API, where a wrong answer could kill
 * the wrong process. One small /proc read. */
int vg_workloads_lookup_pid_fresh(vg_workloads *reg, pid_t pid, vg_workload_info *out);
int vg_workloads_lookup_cgroup(vg_workloads *reg, const char *path, vg_workload_info *out);
int vg_workloads_lookup_netns(vg_workloads *reg, uint64_t inode, vg_workload_info *out);
int vg_workloads_lookup_id(vg_workloads *reg, const char *id, vg_workload_info *out);

/* Any thread. A reference to the record, or NULL; vg_workload_unref() it. */
vg_workload *vg_workloads_get(vg_workloads *reg, const char *id);

/* Loop thread. References to every record, in id order, into a malloc()ed
 * array; release with vg_workloads_list_free(). 0 or -ENOMEM. */
int vg_workloads_list(vg_workloads *reg, vg_workload ***out, size_t *n);
void vg_workloads_list_free(vg_workload **list, size_t n);
size_t vg_workloads_count(vg_workloads *reg);

#endif
