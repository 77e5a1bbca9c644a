/* Unused service groups age out; see groups.h ("unused groups age out"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "groups_int.h"
#include "log.h"

/* Marks the groups that have a member now. Only the service group matters
 * for removal (custom groups are never removed), but custom groups get an
 * honest idle time too, for `vigilctl groups`. */
static int mark_members(vg_groups *g, vg_workloads *reg)
{
    vg_workload **list;
    size_t n;
    if (!reg)
        return 0;
    if (vg_workloads_list(reg, &list, &n) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct vg__group *gr = vg_hmap_get_str(&g->by_name, list[i]->group);
        if (gr)
            gr->used = true;
        for (size_t j = 0; j < list[i]->ngroups; j++)
            if ((gr = vg_hmap_get_str(&g->by_name, list[i]->groups[j])))
                gr->used = true;
    }
    vg_workloads_list_free(list, n);
    return 0;
}

/* Adds dt to the idle time of each unused group, clears it for the others,
 * and stores what changed (in whole seconds, as stored). */
static void count_idle(vg_groups *g, int64_t dt)
{
    for (size_t i = 0; i < g->n; i++) {
        struct vg__group *gr = g->all[i];
        int64_t before = gr->idle_ns / NS_PER_S;
        /* Host processes always exist: "nodes" is never idle. */
        if (gr->used || gr->kind == VG_GROUP_KIND_NODES)
            gr->idle_ns = 0;
        else if (dt > 0)
            gr->idle_ns = gr->idle_ns > INT64_MAX - dt ? INT64_MAX : gr->idle_ns + dt;
        gr->used = false;
        if (gr->idle_ns / NS_PER_S != before && vg__groups_store(g, gr) < 0)
            vg_warn("cannot store the idle time of group %s", gr->name);
    }
}

static bool removable(const vg_groups *g, const struct vg__group *gr, int64_t max_idle_ns)
{
    return max_idle_ns > 0 && gr->idle_ns > max_idle_ns && gr->kind == VG_GROUP_SERVICE &&
           strcmp(gr->name, VG_GROUP_NODES) != 0 && !vg__groups_declared(g, gr->name);
}

/* Removes one group's learned rules and stored record, and reports it. */
static void remove_one(vg_groups *g, const vg_groups_aging *a, struct vg__group *gr)
{
    vg_group_removed r = {.name = gr->name, .mode = gr->mode, .idle_ns = gr->idle_ns};
    if (a->rules) {
        int n = vg_rules_del_learned(a->rules, gr->name, &r.rules_kept);
        if (n < 0)
            vg_warn("group %s: its learned rules could not all be removed from the store: %s",
                    gr->name, strerror(-n));
        else
            r.rules = (size_t)n;
    }
    int rc = vg_store_del(g->st, "groups", gr->name, strlen(gr->name));
    if (rc < 0 && rc != -ENOENT)
        vg_warn("group %s: its record could not be removed from the store: %s", gr->name,
                strerror(-rc));
    if (a->removed)
        a->removed(&r, a->arg);
    free(gr->name);
    free(gr);
}

int vg_groups_age(vg_groups *g, const vg_groups_aging *a)
{
    if (mark_members(g, a->reg) < 0)
        return -ENOMEM;
    int64_t dt = g->aged_ns && a->now_ns > g->aged_ns ? a->now_ns - g->aged_ns : 0;
    g->aged_ns = a->now_ns;
    count_idle(g, dt);
    /* Keep the survivors first and index them before anything is freed,
     * so that running out of memory leaves every group in place. */
    size_t keep = 0, n = g->n;
    for (size_t i = 0; i < n; i++) {
        if (removable(g, g->all[i], a->max_idle_ns))
            continue;
        struct vg__group *t = g->all[keep];
        g->all[keep++] = g->all[i];
        g->all[i] = t;
    }
    if (keep == n)
        return 0;
    g->n = keep;
    if (vg__groups_reindex(g) < 0) {
        g->n = n;
        return -ENOMEM;
    }
    for (size_t i = keep; i < n; i++)
        remove_one(g, a, g->all[i]);
    return (int)(n - keep);
}
