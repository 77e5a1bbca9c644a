/*
 * The registry of actions that responses can trigger ("quarantine",
 * "webhook", "suppress", ...). Plugins and core subsystems register an action
 * with one descriptor; the policy engine runs them by name. Loop thread only.
 */
#ifndef VG_ACTIONS_H
#define VG_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <vigil/plugin.h>

typedef struct vg_actions vg_actions;

int vg_actions_new(vg_actions **out);
void vg_actions_free(vg_actions *a);

/* Copies the descriptor and its name; `owner` (a plugin name or "core") is
 * shown to users. -EEXIST if taken, -EINVAL, -ENOMEM. */
int vg_actions_register(vg_actions *a, const char *owner, const vg_action_desc *desc);

/* Drops every action of `owner` (when a plugin stops). */
void vg_actions_unregister_owner(vg_actions *a, const char *owner);

/* Marks a registered action as deferred: its run() returning 0 means the
 * work was accepted (a webhook delivery queued), and its owner publishes
 * how it ended. 0 or -ENOENT. */
int vg_actions_set_deferred(vg_actions *a, const char *name);
bool vg_actions_deferred(const vg_actions *a, const char *name);

/* Runs the action: its return value, or -ENOENT when no such action is
 * registered (e.g. "quarantine" without the net plugin). */
int vg_actions_run(vg_actions *a, const char *name, const void *args, size_t args_len);

/* The owner of an action, or NULL. */
const char *vg_actions_owner(const vg_actions *a, const char *name);

#endif
