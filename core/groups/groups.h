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
 * (key: the name; value: msgpack {v = 1, mode = "learn", kind = "service",
 * idle = seconds without a member}) so that it survives restarts. A group seen for the first time
 * gets the configured default_mode and is stored at once, so that changing the default later does
 * not move existing groups.
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
#include "rules.h"
#include "store.h"
#include "mode.h"
#include "workloads.h"

enum vg_group_kind { VG_GROUP_SERVICE = 0, VG_GROUP_CUSTOM = 1, VG_GROUP_KIND_NODES = 2 };

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

/* Timed learning, as NeuVector's (groups_learn.c): puts `group` in learn
 * mode until until_ns (ns since the epoch), after which vg_groups_learn_due
 * moves it to then_mode (monitor or protect) by itself. Stored, so that a
 * restart keeps the schedule. *old gets the previous mode. 0, -ENOENT,
 * -EINVAL, or a store error. vg_groups_set_mode ends it. */
int vg_groups_learn_for(vg_groups *g, const char *group, int64_t until_ns, int then_mode, int *old);
/* Moves every group whose learning time is over to its next mode and
 * calls fn(arg, group, mode) for each. Returns how many (the caller
 * commits the store and announces the changes). */
size_t vg_groups_learn_due(vg_groups *g, int64_t now_ns,
                           void (*fn)(void *arg, const char *group, int mode), void *arg);

typedef struct vg_group_info {
    const char *name;
    int kind;
    int mode;
    int64_t idle_ns;        /* how long it has had no member (see vg_groups_age); 0 in use */
    int64_t learn_until_ns; /* timed learning: learn until (ns since the epoch); 0: not timed */
    int then_mode;          /* the mode after it */
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

/* ---- unused groups age out (groups_aging.c) ----
 *
 * Like NeuVector's "auto-deletion of unused groups": a service group that
 * has had no member for longer than the config's group_aging_hours is
 * removed, with its stored mode and its learned rules, so that the groups
 * of short-lived workloads (a Kubernetes Job per name) do not pile up.
 * Never removed: "nodes", a group declared in the config's `groups` (or
 * stored as custom), a group with a member. Rules a user wrote (vigilctl
 * rules add, policy files) or imported stay: they are the user's, and they
 * apply again if the group comes back.
 *
 * Idle time is counted between calls of vg_groups_age(), on a monotonic
 * clock, and stored with the group: time while the daemon is not running
 * does not count, so a host that was off for a weekend does not lose its
 * groups (and their protect modes) before its containers are back. */

typedef struct vg_group_removed {
    const char *name;
    int mode;          /* the mode it had */
    int64_t idle_ns;   /* how long it had no member */
    size_t rules;      /* learned rules removed with it */
    size_t rules_kept; /* written or imported rules of the group left in place */
} vg_group_removed;

typedef struct vg_groups_aging {
    vg_workloads *reg;   /* who is a member now; NULL: only classify() counts */
    vg_rules *rules;     /* whose learned rules go with a removed group; may be NULL */
    int64_t now_ns;      /* a monotonic clock (uv_hrtime() in the daemon; tests pass their own) */
    int64_t max_idle_ns; /* remove groups idle longer than this; 0 never removes */
    /* Called for each group removed, before its record is freed; may be NULL. */
    void (*removed)(const vg_group_removed *r, void *arg);
    void *arg;
} vg_groups_aging;

/* One check: groups with a member now (in a->reg) or classified since the
 * last check are in use (idle 0); the others' idle time grows by the time
 * since the last check (nothing at the first check after vg_groups_new).
 * Then the removable groups idle longer than a->max_idle_ns are removed.
 * Changed records are stored (batched; the caller commits). Returns the
 * number of groups removed, or -ENOMEM (then nothing was removed). */
int vg_groups_age(vg_groups *g, const vg_groups_aging *a);

#endif
