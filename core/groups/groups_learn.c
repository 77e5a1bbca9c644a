/*
 * Timed learning (NeuVector's "learn for a while, then monitor"): a group
 * is put in learn mode with an end time and the mode that follows; the
 * daemon's timer (core/daemon/daemon_learn.c) asks which groups are due
 * and moves them, each with a group.mode event. The schedule is part of
 * the group's stored record, so a restart keeps it, and a learning time
 * that ended while the daemon was down ends at the first check.
 */
#include <errno.h>

#include "groups_int.h"
#include "log.h"

int vg_groups_learn_for(vg_groups *g, const char *group, int64_t until_ns, int then_mode, int *old)
{
    if (until_ns <= 0 || (then_mode != VG_MODE_MONITOR && then_mode != VG_MODE_PROTECT))
        return -EINVAL;
    struct vg__group *gr = vg_hmap_get_str(&g->by_name, group);
    if (!gr)
        return -ENOENT;
    if (old)
        *old = gr->mode;
    struct vg__group before = *gr;
    gr->mode = VG_MODE_LEARN;
    gr->learn_until_ns = until_ns;
    gr->then_mode = then_mode;
    int rc = vg__groups_store(g, gr);
    if (rc < 0)
        *gr = before;
    return rc;
}

size_t vg_groups_learn_due(vg_groups *g, int64_t now_ns,
                           void (*fn)(void *arg, const char *group, int mode), void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++) {
        struct vg__group *gr = g->all[i];
        if (!gr->learn_until_ns || gr->learn_until_ns > now_ns)
            continue;
        struct vg__group before = *gr;
        gr->mode = gr->then_mode;
        gr->learn_until_ns = 0;
        if (vg__groups_store(g, gr) < 0) {
            *gr = before; /* tried again at the next check */
            vg_warn("group %s: the end of its learning time could not be stored", gr->name);
            continue;
        }
        n++;
        if (fn)
            fn(arg, gr->name, gr->mode);
    }
    return n;
}
