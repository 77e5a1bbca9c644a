/*
 * The declarations plugins take from policies (vg_plugin_desc.policy_decls,
 * ABI 1.5), gathered for the policy engine's loads (vg_policy_load.decls):
 * from the plugins the daemon runs, or, for `vigild --check`, from the
 * descriptors of the plugin directory. The owner keeps the set (and, for a
 * directory, its handles) while the engine may still load with it.
 */
#ifndef VG_PLUGIN_DECLS_H
#define VG_PLUGIN_DECLS_H

#include <stddef.h>
#include <vigil/plugin.h>

#include "plugin_catalog.h"
#include "plugins.h"

typedef struct vg_plugin_decls {
    vg_policy_decl_desc *v; /* n entries, NULL-terminated too */
    size_t n;
    struct vg_plugin_catalog cat; /* vg_plugin_decls_dir only */
} vg_plugin_decls;

/* Of the plugins whose init succeeded. 0 or -ENOMEM. */
int vg_plugin_decls_running(const vg_plugins *ps, vg_plugin_decls *out);
/* Of the plugin files of dir (their descriptors only). 0 or -ENOMEM. */
int vg_plugin_decls_dir(const char *dir, vg_plugin_decls *out);
void vg_plugin_decls_free(vg_plugin_decls *d);

/* The declarations of a descriptor, or NULL (built before ABI 1.5). */
const vg_policy_decl_desc *vg_plugin_decls_of(const vg_plugin_desc *d);

#endif
