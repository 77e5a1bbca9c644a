/*
 * The plugins of a directory, opened for their descriptors only (no init):
 * what `vigild --check` and every config load check settings and policy
 * declarations against. Files the loader would refuse (untrusted, no
 * entry point, another ABI major) are left out; it reports them.
 */
#ifndef VG_PLUGIN_CATALOG_H
#define VG_PLUGIN_CATALOG_H

#include <stddef.h>
#include <vigil/plugin.h>

#define VG_PLUGIN_CATALOG_MAX 64

/* Descriptors valid while the handles are open. */
struct vg_plugin_catalog {
    size_t n;
    void *dl[VG_PLUGIN_CATALOG_MAX];
    const vg_plugin_desc *desc[VG_PLUGIN_CATALOG_MAX];
};

void vg_plugin_catalog_open(struct vg_plugin_catalog *c, const char *dir);
void vg_plugin_catalog_close(struct vg_plugin_catalog *c);
const vg_plugin_desc *vg_plugin_catalog_find(const struct vg_plugin_catalog *c, const char *name);

#endif
