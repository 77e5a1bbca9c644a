/*
 * What the /proc walk of discovery learned of each container process, kept
 * from one scan to the next: reading /proc/<pid>/cgroup of every process
 * every second was most of what the daemon did at rest (the kernel takes
 * the cgroup lock for each read).
 *
 * A process is known by its pid and the inode number of its /proc/<pid>
 * directory, which readdir of /proc gives for free: procfs makes a new
 * inode for a new process, so a pid reused since the last scan has another
 * number and is read afresh (and so is a process whose inode the kernel
 * evicted meanwhile). Only processes that were in a container's cgroup are
 * remembered: a host process is read again at every scan, since runc init
 * (of `runc run` and `runc exec`) starts in the host's cgroup and then moves
 * into the container's. A process that leaves a container's cgroup for
 * another while keeping its pid is not seen to move: containers' processes
 * do not (a container's own nested cgroups keep it in its workload).
 *
 * Only on a real procfs: under a fixture tree (tests' discovery_root), the
 * inode numbers are those of ordinary directories, which stay the same when
 * a test rewrites a process's files, so every process is read every time.
 *
 * Owned by discovery.c; loop thread only.
 */
#ifndef VG_PROC_MEMO_H
#define VG_PROC_MEMO_H

#include <stdint.h>
#include <sys/types.h>

typedef struct vg__proc_memo vg__proc_memo;

/* NULL when out of memory or when proc_dir is not a procfs (then callers
 * read every process, as without a memo). */
vg__proc_memo *vg__proc_memo_new(const char *proc_dir);
void vg__proc_memo_free(vg__proc_memo *m);

/* The cgroup key of the process (pid, ino) at the last scan, or NULL. */
const char *vg__proc_memo_key(const vg__proc_memo *m, pid_t pid, uint64_t ino);

/* Remembers, for the next scan, that (pid, ino) is in the cgroup key (a
 * container's). 0 or -ENOMEM; past a cap, nothing is kept (the process is
 * simply read again). */
int vg__proc_memo_keep(vg__proc_memo *m, pid_t pid, uint64_t ino, const char *key);

/* After a scan: what it kept is what the next scan finds (end), or, when
 * it failed, the previous scan's memory stays (drop). */
void vg__proc_memo_end(vg__proc_memo *m);
void vg__proc_memo_drop(vg__proc_memo *m);

#endif
