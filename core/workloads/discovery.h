/*
 * Discovery: keeps the workload registry current.
 *
 * A scan reads the runtimes' state (runtime_*.c) and walks /proc
 * (discovery_scan.c), builds a complete new index, classifies new records
 * into groups, swaps the index into the registry and publishes
 * workload.start / workload.stop for what appeared and went. A scan runs
 * on the loop thread: every rescan_ms, and shortly after a runtime's state
 * directory or the top of the cgroup tree changes (inotify through
 * uv_fs_event), so that a new container is seen well within a second of
 * its first process. Records whose container did not change are carried
 * over unchanged, so steady-state scans publish nothing.
 *
 * Events workload.start and workload.stop carry the workload id and its
 * service group in the header ("workload", "group"); the body has name,
 * runtime, pid, image, groups (custom), namespace, pod, container, cgroup.
 */
#ifndef VG_DISCOVERY_H
#define VG_DISCOVERY_H

#include <stdint.h>
#include <uv.h>

#include "bus.h"
#include "groups.h"
#include "workloads.h"

typedef struct vg_discovery_opts {
    const char *root;  /* prefix of /proc, /run, /var/lib, /sys/fs/cgroup; NULL or "" */
    uv_loop_t *loop;   /* NULL: no timers (tests call vg_discovery_scan) */
    vg_bus *bus;       /* NULL: no events */
    vg_workloads *reg; /* filled by the scans */
    vg_groups *groups;
    uint64_t rescan_ms; /* 0 = 1000 */
} vg_discovery_opts;

typedef struct vg_discovery vg_discovery;

/* Nothing runs until vg_discovery_start(). opts' pointers must outlive d. */
int vg_discovery_new(const vg_discovery_opts *opts, vg_discovery **out);

/* Scans once, then starts the rescan timer and the directory watches. */
int vg_discovery_start(vg_discovery *d);

/* Closes the handles; d is freed once libuv has released them (run the
 * loop afterwards), or at once when it has none. */
void vg_discovery_close(vg_discovery *d);

/* One full scan now. 0 or -ENOMEM (the previous index then stays). */
int vg_discovery_scan(vg_discovery *d);

/* After a reload: the next scan re-evaluates every workload's groups. */
int vg_discovery_reclassify(vg_discovery *d);

/* After a group's mode changed: updates every workload's effective mode. */
void vg_discovery_modes_changed(vg_discovery *d);

typedef struct vg_discovery_stats {
    uint64_t scans;
    uint64_t last_scan_us;
    uint64_t started, stopped;
} vg_discovery_stats;
void vg_discovery_stats_get(const vg_discovery *d, vg_discovery_stats *out);

#endif
