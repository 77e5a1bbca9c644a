/*
 * Pre-exec protection: one fanotify permission engine (plugins/common) with
 * FAN_OPEN_EXEC_PERM marks on the exec-capable mounts of every workload
 * whose effective mode is protect, reached through /proc/<pid>/root. An
 * exec of a file that no allow rule of the workload's group names (by path,
 * whatever the name: see docs/proc.md on multi-call binaries) fails with
 * EPERM, and a proc.violation with action "deny" is published after the
 * answer was written. The exec open of a dynamic program's loader or a
 * script's interpreter is allowed as part of the allowed exec that names
 * it (same process, same inode, once); a loader exec'd as a program is
 * refused whatever the rules say (proc.incident "loader_exec").
 *
 * Threads: protect_new, protect_sync and protect_free on the loop thread;
 * the decisions run on the engine's permission threads (one per CPU, so
 * decide and after are thread-safe or use the per-thread context);
 * protect_stats anywhere.
 */
#ifndef PROC_PROTECT_H
#define PROC_PROTECT_H

#include <stdbool.h>
#include <stdint.h>
#include <vigil/plugin.h>

typedef struct protect protect;

typedef struct protect_stats {
    uint64_t events, denied, failed, overflows; /* from the engine */
    uint64_t marked;                            /* workloads with marks now */
    uint64_t threads;                           /* the engine's permission threads */
    uint64_t p50_ns, p99_ns, max_ns;            /* time to answer, since start */
} protect_stats;

/* fail_verdict: 0 allow, 1 deny (when the decision cannot be made). Needs
 * CAP_SYS_ADMIN and a kernel with fanotify permission events; otherwise a
 * negative errno (-EPERM, -ENOSYS, -EINVAL) and nothing is allocated. */
int protect_new(const vg_host_api *api, vg_host *h, int fail_verdict, bool protect_nodes,
                protect **out);

/* Brings the marks in line with the workloads' modes now: marks the
 * protected ones not marked yet, unmarks those no longer protected. */
void protect_sync(protect *pr);

void protect_stats_get(protect *pr, protect_stats *out);

/* Stops the engine; the kernel allows whatever was pending. NULL is fine. */
void protect_free(protect *pr);

#endif
