/*
 * The mounts of a workload where a file may be executed: its root, reached
 * as /proc/<pid>/root, then every other mount of its mount namespace
 * without "noexec" (in a runc container that is /dev, a writable tmpfs).
 * Both the pre-exec permission marks (protect.c) and the exec notification
 * marks (execwatch.c) go on these.
 */
#ifndef PROC_MOUNTS_H
#define PROC_MOUNTS_H

#include <stdbool.h>

/* Calls cb with "/proc/<pid>/root", then "/proc/<pid>/root<mountpoint>" for
 * each other exec-capable mount of pid's namespace. Returns cb's result for
 * the root (the others' results are the callback's to log). */
int exec_mounts_each(int pid, int (*cb)(const char *path, bool root, void *arg), void *arg);

#endif
