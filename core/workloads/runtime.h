/*
 * One discovery scan's working set (internal to discovery*.c and
 * runtime_*.c): candidate workload records keyed by container id, filled
 * in turn by the runtime state readers and the /proc walk, then published
 * by discovery.c.
 *
 * Every path is read under `root` (the configured discovery_root, "" on a
 * real host), so tests can point a scan at a fixture tree laid out like
 * the real one: <root>/proc, <root>/run, <root>/var/lib, <root>/sys/fs/cgroup.
 * Paths found inside state files (a bundle directory) are prefixed too.
 */
#ifndef VG_RUNTIME_H
#define VG_RUNTIME_H

/* Private to core/workloads/: the build defines VG_CORE_MODULE_WORKLOADS for that
 * folder's files only, so that any other file including this is an error. */
#ifndef VG_CORE_MODULE_WORKLOADS
#error "runtime.h is private to core/workloads/; use its public header"
#endif

#include <jansson.h>
#include <sys/types.h>

#include "hmap.h"
#include "workloads.h"

struct vg__oci_cache;
struct vg__proc_memo;

typedef struct vg__scan {
    const char *root;
    struct vg__oci_cache *oci;  /* states kept between scans, or NULL */
    struct vg__proc_memo *memo; /* container processes between scans, or NULL */
    /* The processes of /proc, listed once per scan in pid order, with the
     * inode number of their directory (see proc_memo.h). */
    struct vg__proc_ent {
        pid_t pid;
        uint64_t ino;
    } * procs;
    size_t nprocs, procs_cap;
    vg_hmap by_id;     /* id -> candidate (owned reference) */
    vg_hmap by_cgroup; /* cgroup key -> candidate */
    vg_workload **cands;
    size_t n, cap;
    /* The /proc walk's pid -> workload id ("" for the host). */
    struct vg__pid_ent {
        pid_t pid;
        const char *id; /* points into a candidate; NULL for the host */
    } * pids;
    size_t npids, pids_cap;
} vg__scan;

void vg__scan_init(vg__scan *s, const char *root);
void vg__scan_free(vg__scan *s);
/* The candidate for id, created (with this runtime) if new; NULL when out
 * of memory. An existing candidate keeps its runtime unless it is runc,
 * the runtime every other one is built on, which the caller refines. */
vg_workload *vg__scan_get(vg__scan *s, const char *id, int runtime);
/* <root><path...> into buf; -ENAMETOOLONG. */
int vg__path(const vg__scan *s, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* JSON helpers over jansson. */
json_t *vg__json_load(const char *path); /* NULL on any error (logged at debug) */
const char *vg__json_str(const json_t *o, const char *key);
/* RFC 3339 ("2024-05-01T12:00:00.123456789Z") to ns since the epoch; 0 if bad. */
int64_t vg__rfc3339_ns(const char *s);
/* Copies every string member of the JSON object obj into w's labels. */
int vg__json_labels(vg_workload *w, const json_t *obj);
/* Sets pod, namespace, container name and image from the Kubernetes
 * annotations/labels in w (io.kubernetes.pod.*, io.kubernetes.cri.*,
 * io.kubernetes.cri-o.*), where not already set. */
int vg__apply_k8s(vg_workload *w);

/* Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or
 * -1 when the process is gone or the file unreadable. */
long long vg__proc_starttime(const vg__scan *s, pid_t pid);

/* Lists /proc into s->procs, before anything asks for a process's
 * identity. 0 or -ENOMEM; an unreadable /proc lists nothing (logged). */
int vg__list_proc(vg__scan *s);
/* The inode number of /proc/<pid> in the listing when processes can be
 * told apart by it (a memo is in use), else 0. */
uint64_t vg__proc_ino(const vg__scan *s, pid_t pid);
/* Adds a process that started after the listing (a container's init found
 * in its runtime's state), so that the walk maps it too. 0 or -ENOMEM. */
int vg__proc_add(vg__scan *s, pid_t pid);
/* The cgroup key of pid: remembered from the last scan for the same
 * process (ino, from the listing), else read from /proc/<pid>/cgroup into
 * buf. NULL when the process is gone or its file unparsable. */
const char *vg__pid_key(const vg__scan *s, pid_t pid, uint64_t ino, char *buf, size_t size);

/* Readers, one per on-disk format (runtime_*.c). Each returns 0 or -ENOMEM;
 * an unreadable or malformed entry is skipped. */
/* runc-style state roots: <dir>/<id>/state.json plus the bundle's config.json. */
int vg__read_runc_root(vg__scan *s, const char *dir, int runtime);
/* Every runc root of the known runtimes (runc, containerd's namespaces, docker). */
int vg__read_runc_roots(vg__scan *s);
/* /var/lib/docker/containers/<id>/config.v2.json of running containers. */
int vg__read_docker(vg__scan *s);
/* containers/storage (CRI-O, podman): names and OCI annotations of
 * candidates already found. */
int vg__read_storage(vg__scan *s);
/* The /proc walk over the listing: every process's cgroup, mapped to
 * candidates (created for the runtimes' cgroup layouts) or to the host;
 * container processes are remembered for the next scan (s->memo). */
int vg__read_proc(vg__scan *s);

#endif
