/* The plugins' policy declarations for the policy engine; see plugin_decls.h. */
#include "plugin_decls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const vg_policy_decl_desc *vg_plugin_decls_of(const vg_plugin_desc *d)
{
    return d && d->abi_minor >= 5 ? d->policy_decls : NULL;
}

static int add_desc(vg_plugin_decls *out, const vg_plugin_desc *d)
{
    const vg_policy_decl_desc *k = vg_plugin_decls_of(d);
    for (; k && k->name; k++) {
        vg_policy_decl_desc *v = realloc(out->v, (out->n + 2) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        out->v = v;
        v[out->n++] = *k;
        v[out->n] = (vg_policy_decl_desc){0};
    }
    return 0;
}

int vg_plugin_decls_running(const vg_plugins *ps, vg_plugin_decls *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; ps && i < vg_plugins_count(ps); i++) {
        const struct vg_host *h = vg_plugins_at(ps, i);
        if (h->inited && add_desc(out, h->desc) < 0) {
            vg_plugin_decls_free(out);
            return -ENOMEM;
        }
    }
    return 0;
}

int vg_plugin_decls_dir(const char *dir, vg_plugin_decls *out)
{
    memset(out, 0, sizeof(*out));
    vg_plugin_catalog_open(&out->cat, dir);
    for (size_t i = 0; i < out->cat.n; i++)
        if (add_desc(out, out->cat.desc[i]) < 0) {
            vg_plugin_decls_free(out);
            return -ENOMEM;
        }
    return 0;
}

void vg_plugin_decls_free(vg_plugin_decls *d)
{
    free(d->v);
    d->v = NULL;
    d->n = 0;
    vg_plugin_catalog_close(&d->cat);
}
