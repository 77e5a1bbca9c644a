/*
 * Custom group definitions (internal to groups.c): parsed from the config
 * setting `groups`, a list of tables
 *
 *     groups = {
 *       { name = "web-tier", image = "nginx*", name_glob = "web*",
 *         label = { app = "web" }, namespace = "prod",
 *         match = function(w) return w.runtime == "docker" end },
 *     }
 *
 * A workload is in the group when every criterion given matches (globs as
 * fnmatch(3); label values are globs too). At least one criterion is
 * required. `match` runs in the config's sandboxed Lua state, on the loop
 * thread, with a budget of VG_GROUP_MATCH_INSNS instructions per call.
 */
#ifndef VG_GROUPS_CUSTOM_H
#define VG_GROUPS_CUSTOM_H

/* Private to core/groups/: the build defines VG_CORE_MODULE_GROUPS for that
 * folder's files only, so that any other file including this is an error. */
#ifndef VG_CORE_MODULE_GROUPS
#error "groups_custom.h is private to core/groups/; use its public header"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "workloads.h"

#define VG_GROUP_MATCH_INSNS 100000L

typedef struct vg__custom_def {
    char *name;
    char *image, *name_glob, *k8s_namespace; /* NULL: not a criterion */
    char **labels;                           /* key/value pairs */
    size_t nlabels;
    int fn_ref; /* luaL_ref in the config's registry, or LUA_NOREF */
} vg__custom_def;

typedef struct vg__custom_defs {
    vg__custom_def *v;
    size_t n;
    const vg_config *cfg; /* where fn_ref lives */
} vg__custom_defs;

/* Parses cfg's `groups` into out (empty when unset). Problems go to diag;
 * -EINVAL then (out is left empty), or -ENOMEM. */
int vg__custom_parse(const vg_config *cfg, vg__custom_defs *out, vg_diag *diag);
/* Frees the definitions (the Lua references die with the config's state). */
void vg__custom_free(vg__custom_defs *defs);
/* Whether w matches d. A failing predicate is logged and counts as false. */
bool vg__custom_match(const vg__custom_defs *defs, const vg__custom_def *d, const vg_workload *w);

#endif
