/*
 * The set of workloads that carry fanotify marks of one kind, kept in line
 * with the daemon's workloads: the pre-exec permission marks of protected
 * workloads (protect.c) and the exec notification marks of every container
 * (execwatch.c). Which workloads want marks, and how marks are set and
 * removed, are the owner's (wmarks_ops). Loop thread only, but for
 * wmarks_count.
 */
#ifndef PROC_WMARKS_H
#define PROC_WMARKS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vigil/plugin.h>

typedef struct wmarks_ops {
    bool (*wants)(const vg_workload_view *w, void *arg);
    /* Marks the workload whose init is pid; 0 or a negative errno. */
    int (*mark)(int pid, const vg_workload_view *w, void *arg);
    /* Removes what mark did (the workload left, or has a new init). */
    void (*unmark)(int pid, const char *id, void *arg);
    void *arg;
    const char *what; /* for the log: "exec protection" */
} wmarks_ops;

typedef struct wmarks_entry wmarks_entry;
typedef struct wmarks_mount wmarks_mount;

typedef struct wmarks {
    const vg_host_api *api;
    vg_host *h;
    wmarks_ops ops;
    wmarks_entry *v;
    size_t n, cap;
    atomic_size_t count;   /* n, for other threads */
    pthread_mutex_t olock; /* guards owners: written by the loop, read anywhere */
    wmarks_mount *owners;
    size_t nowners, capowners;
} wmarks;

void wmarks_init(wmarks *m, const vg_host_api *api, vg_host *h, const wmarks_ops *ops);
/* Marks the workloads that want marks and are not marked yet, unmarks
 * those that no longer want them or are gone. */
void wmarks_sync(wmarks *m);
size_t wmarks_count(wmarks *m); /* any thread */

/* From ops.mark: the mount at path (marked) belongs to workload w. A file
 * on it then tells its workload with one statx, cheaper than a process's
 * cgroup, and still when the process is gone. */
void wmarks_own(wmarks *m, const char *path, const vg_workload_view *w);
/* Any thread. The workload whose marked mount holds the open file fd:
 * fills id and group (mode and pid are the caller's); false if none. */
bool wmarks_owner(wmarks *m, int fd, vg_workload_view *w);
/* The same for a file whose mount id (statx STATX_MNT_ID) the caller has. */
bool wmarks_owner_of_mount(wmarks *m, uint64_t mnt_id, vg_workload_view *w);
void wmarks_free(wmarks *m); /* frees the set; the marks go with the group */

#endif
