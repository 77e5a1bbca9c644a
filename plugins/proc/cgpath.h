/*
 * The path of a cgroup (v2) from its id, for an exec whose process is gone
 * before /proc/<pid>/cgroup could be read: the exec probe read the id at
 * the exec, and the id is the inode number of the cgroup's directory in
 * the cgroup2 file system and its kernfs file handle: open_by_handle_at()
 * opens it at once (with CAP_DAC_READ_SEARCH), or else a walk of the
 * tree finds it. The path is relative to the cgroup2 root, as the "0::" line of /proc/<pid>/cgroup
 * gives it, which is what the daemon resolves a workload from. Found paths
 * are remembered (bounded, by id). Reader thread only.
 */
#ifndef PROC_CGPATH_H
#define PROC_CGPATH_H

#include <stddef.h>
#include <stdint.h>

typedef struct cgpath cgpath;

/* mountinfo: a mountinfo file ("/proc/self/mountinfo"); the cgroup2 mount
 * is taken from it. -ENOENT when there is none (a cgroup v1-only host). */
int cgpath_new(const char *mountinfo, cgpath **out);
void cgpath_free(cgpath *c);

/* The path of cgroup id into out ("/a/b", "/" for the root). 0, -ENOENT
 * when no cgroup has that id (it is gone too), -ENAMETOOLONG. */
int cgpath_find(cgpath *c, uint64_t id, char *out, size_t size);

/* Where cgroup2 is mounted. */
const char *cgpath_mount(const cgpath *c);

/* Finds by the walk only, as without CAP_DAC_READ_SEARCH (tests, bench). */
void cgpath_walk_only(cgpath *c);

#endif
