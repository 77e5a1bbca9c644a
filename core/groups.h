/*
 * Groups and their modes.
 *
 * Every workload is in exactly one service group, named after what runs it:
 * for a Kubernetes pod, its owner (the pod name with the generated suffixes
 * of deployments, daemonsets, jobs and statefulsets stripped) and its
 * namespace, "web.prod"; for a plain container its name with the instance
 * suffix of compose ("-1", "_1") stripped. Host processes are in "nodes".
 * A workload is also in every custom group whose criteria it matches; custom
 * groups come from the config setting `groups` (see docs/config.md).
 *
 * Each group has a mode (enum vg_mode), stored in the store table "groups"
 * (key: the name; value: msgpack {v = 1, mode = "learn", kind = "service"})
 * so that it survives restarts. A group seen for the first time gets the
 * configured default_mode and is stored at once, so that changing the
 * default later does not move existing groups.
 *
 * Effective mode: a workload in several groups runs in the most protective
 * of their modes (protect > monitor > learn). Putting a workload into a
 * stricter custom group must never relax it, and a custom group is how an
 * operator tightens a set of services at once.
 *
 * Everything here belongs to the loop thread (it uses the store and the
 * config's Lua state). Plugin threads read modes through the workload
 * registry (vg_workloads_lookup_*), whose records carry the effective mode.
 */
#ifndef VG_GROUPS_H
#define VG_GROUPS_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "store.h"
#include "workloads.h"

enum vg_group_kind { VG_GROUP_SERVICE = 0, VG_GROUP_CUSTOM = 1, VG_GROUP_KIND_NODES = 2 };

const char *vg_mode_name(int mode);       /* "learn", "monitor", "protect" */
int vg_mode_parse(const char *name);      /* a mode, or -EINVAL */
const char *vg_group_kind_name(int kind); /* "service", "custom", "nodes" */

/* The service group name of w into buf (truncated to fit). Pure. */
void vg_group_service_name(const vg_workload *w, char *buf, size_t size);

/* The owner part of a pod name: "web-7d9f8b6c5d-x2k4q" -> "web",
 * "fluentd-x2k4q" -> "fluentd", "db-0" -> "db". Pure. */
void vg_group_pod_owner(const char *pod, char *buf, size_t size);

typedef struct vg_groups vg_groups;

/* Loads the stored groups from st (which must outlive the result) and makes
 * sure "nodes" exists. default_mode is for groups seen later. */
int vg_groups_new(vg_store *st, int default_mode, vg_groups **out);
void vg_groups_free(vg_groups *g);
void vg_groups_set_default_mode(vg_groups *g, int mode);

/* Checks the config's `groups` setting; every problem goes to diag.
 * 0 or -EINVAL. */
int vg_groups_check_config(const vg_config *cfg, vg_diag *diag);
/* Replaces the custom group definitions with cfg's (which must outlive
 * them: predicate functions live in cfg's Lua state). On a problem the old
 * definitions stay and -EINVAL is returned. */
int vg_groups_configure(vg_groups *g, const vg_config *cfg, vg_diag *diag);

/* Puts w (not yet published) into its service group and the custom groups
 * it matches, creating the groups it is the first member of, and sets its
 * effective mode. 0 or -ENOMEM. A predicate that fails or runs out of its
 * budget counts as no match and is logged. */
int vg_groups_classify(vg_groups *g, vg_workload *w);

/* The effective mode of w from its groups' current modes. */
int vg_groups_effective_mode(vg_groups *g, const vg_workload *w);

/* The mode of a group, or -ENOENT. */
int vg_groups_mode(vg_groups *g, const char *group);

/* Sets and stores (batched; the caller commits) a group's mode. 0,
 * -ENOENT for a group never seen, -EINVAL for a bad mode. *old gets the
 * previous mode when old is not NULL. */
int vg_groups_set_mode(vg_groups *g, const char *group, int mode, int *old);

typedef struct vg_group_info {
    const char *name;
    int kind;
    int mode;
    /* custom groups: their criteria, for `group show` (NULL when unset) */
    const char *image, *name_glob, *k8s_namespace;
    const char *const *labels; /* key/value pairs */
    size_t nlabels;
    int has_predicate;
} vg_group_info;

/* Calls fn for each group in name order. */
void vg_groups_foreach(vg_groups *g, void (*fn)(const vg_group_info *gi, void *arg), void *arg);
/* One group; -ENOENT. The strings are valid until the next call that
 * changes g. */
int vg_groups_get(vg_groups *g, const char *name, vg_group_info *out);

#endif
