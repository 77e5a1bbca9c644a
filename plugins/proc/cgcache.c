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

cgcache_entry *cgcache_get(cgcache *c, uint64_t cgroup_id, uint64_t now)
{
    cgcache_entry *e = slot_of(c, cgroup_id);
    return cgroup_id && e->cgroup_id == cgroup_id && e->gen == atomic_load(&c->gen) &&
                   (!e->until || now < e->until)
               ? e
               : NULL;
}

uint64_t cgcache_gen(cgcache *c)
{
    return atomic_load(&c->gen);
}

cgcache_entry *cgcache_put(cgcache *c, uint64_t cgroup_id, const char *cgroup,
                           const vg_workload_view *wv, uint64_t now, uint64_t gen)
{
    if (!cgroup_id)
        return NULL;
    cgcache_entry *e = slot_of(c, cgroup_id);
    e->cgroup_id = cgroup_id;
    e->gen = gen;
    e->until = wv->id[0] ? 0 : now + CGCACHE_NONE_NS;
    snprintf(e->cgroup, sizeof(e->cgroup), "%s", cgroup);
    e->wv = *wv;
    e->relaxed = false;
    return e;
}

void cgcache_bump(cgcache *c)
{
    atomic_fetch_add(&c->gen, 1);
}
