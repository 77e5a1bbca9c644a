/* Workloads by cgroup id; see cgcache.h. */
#include "cgcache.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static cgcache_entry *slot_of(cgcache *c, uint64_t id)
{
    /* Ids are inode numbers: consecutive for cgroups made one after the
     * other, so the low bits spread them. */
    return &c->slot[(id ^ (id >> 10)) % CGCACHE_SLOTS];
}

const cgcache_entry *cgcache_get(cgcache *c, uint64_t cgroup_id, uint64_t now)
{
    const cgcache_entry *e = slot_of(c, cgroup_id);
    return cgroup_id && e->cgroup_id == cgroup_id && e->gen == atomic_load(&c->gen) &&
                   (!e->until || now < e->until)
               ? e
               : NULL;
}

void cgcache_put(cgcache *c, uint64_t cgroup_id, const char *cgroup, const vg_workload_view *wv,
                 uint64_t now)
{
    if (!cgroup_id)
        return;
    cgcache_entry *e = slot_of(c, cgroup_id);
    e->cgroup_id = cgroup_id;
    e->gen = atomic_load(&c->gen);
    e->until = wv->id[0] ? 0 : now + CGCACHE_NONE_NS;
    snprintf(e->cgroup, sizeof(e->cgroup), "%s", cgroup);
    e->wv = *wv;
}

void cgcache_bump(cgcache *c)
{
    atomic_fetch_add(&c->gen, 1);
}
