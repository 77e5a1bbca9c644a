/*
 * The workload and cgroup path of a cgroup, by the cgroup's id (which the
 * exec probe reads at the exec): asked of /proc and the daemon once per
 * cgroup, not once per exec. Entries are valid for one generation: the
 * plugin starts a new one whenever workloads or modes change
 * (workload.start, workload.stop, group.mode). A cgroup of no workload
 * (the host's, or a container's not discovered yet) is known for
 * CGCACHE_NONE_NS at most: a new container's workload.start ends it
 * sooner. Bounded; a full table replaces what is in the slot. Reader
 * thread only, but cgcache_bump.
 */
#ifndef PROC_CGCACHE_H
#define PROC_CGCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <vigil/plugin.h>

#define CGCACHE_SLOTS 1024
#define CGCACHE_NONE_NS 1000000000ull

typedef struct cgcache_entry {
    uint64_t cgroup_id; /* 0: empty */
    uint64_t gen;
    uint64_t until; /* no workload: known until then (CLOCK_MONOTONIC ns); 0 */
    char cgroup[512];
    vg_workload_view wv;
    bool relaxed; /* the exec probe was told its execs may wait (bpfexec_relax) */
} cgcache_entry;

typedef struct cgcache {
    _Atomic uint64_t gen;
    cgcache_entry slot[CGCACHE_SLOTS];
} cgcache;

/* NULL when the cgroup is not known in this generation (now: the
 * monotonic clock in ns). */
cgcache_entry *cgcache_get(cgcache *c, uint64_t cgroup_id, uint64_t now);
/* The current generation: read it before asking the daemon what goes into
 * cgcache_put, so that a change while it answers voids the entry. */
uint64_t cgcache_gen(cgcache *c);
/* wv with an empty id: the cgroup is of no workload. gen: cgcache_gen()
 * from before wv was read. NULL when not kept (no id). */
cgcache_entry *cgcache_put(cgcache *c, uint64_t cgroup_id, const char *cgroup,
                           const vg_workload_view *wv, uint64_t now, uint64_t gen);
/* Any thread: everything known so far is stale. */
void cgcache_bump(cgcache *c);

#endif
