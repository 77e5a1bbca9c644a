/* Shared between groups.c (the table, modes, custom groups) and
 * groups_aging.c (unused groups age out); not for other files. */
#ifndef VG_GROUPS_INT_H
#define VG_GROUPS_INT_H

/* Private to core/groups/: the build defines VG_CORE_MODULE_GROUPS for that
 * folder's files only, so that any other file including this is an error. */
#ifndef VG_CORE_MODULE_GROUPS
#error "groups_int.h is private to core/groups/; use its public header"
#endif

#include <stdbool.h>
#include <stdint.h>

#include "groups.h"
#include "groups_custom.h"
#include "hmap.h"

#define NS_PER_S 1000000000LL

struct vg__group {
    char *name;
    int kind;
    int mode;
    /* How long the group has been without a member, counted by
     * vg_groups_age() while the daemon runs; stored (as whole seconds), so
     * that a restart does not reset it. 0 for a group in use. */
    int64_t idle_ns;
    /* A workload was classified into it since the last vg_groups_age(): a
     * member that came and went between two checks (a short Job) still
     * counts as a use. */
    bool used;
    /* Timed learning (groups_learn.c): in learn mode until this time (ns
     * since the epoch), then `then_mode`; 0 when not timed. Stored. */
    int64_t learn_until_ns;
    int then_mode;
};

struct vg_groups {
    vg_store *st;
    int default_mode;
    vg_hmap by_name; /* name -> struct vg__group */
    struct vg__group **all;
    size_t n, cap;
    vg__custom_defs defs;
    int64_t aged_ns; /* the clock at the last vg_groups_age(); 0 before the first */
};

/* Stores gr's record (batched; the caller commits). 0 or a negative errno. */
int vg__groups_store(vg_groups *g, const struct vg__group *gr);
/* Whether `name` is declared in the config's `groups`. */
bool vg__groups_declared(const vg_groups *g, const char *name);
/* Rebuilds by_name from all[] (the map cannot delete). 0 or -ENOMEM. */
int vg__groups_reindex(vg_groups *g);

#endif
