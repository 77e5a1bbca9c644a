/* The plugins a directory offers, by descriptor only; see plugin_catalog.h. */
#include "plugin_catalog.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "trust.h"

static bool is_plugin_file(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && name[0] != '.' && strcmp(name + n - 3, ".so") == 0;
}

/* Opens each trusted plugin of dir for its descriptor only (no init); the
 * loader reports the ones it refuses. */
void vg_plugin_catalog_open(struct vg_plugin_catalog *c, const char *dir)
{
    memset(c, 0, sizeof(*c));
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) && c->n < VG_PLUGIN_CATALOG_MAX) {
        char path[4096], why[256];
        if (!is_plugin_file(e->d_name) ||
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
            vg_path_trusted(path, why, sizeof(why)) < 0)
            continue;
        void *dl = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
        if (!dl)
            continue;
        vg_plugin_entry_fn entry;
        *(void **)&entry = dlsym(dl, VG_PLUGIN_SYMBOL);
        const vg_plugin_desc *desc = entry ? entry() : NULL;
        if (!desc || desc->abi_major != VG_ABI_MAJOR || !desc->name) {
            dlclose(dl);
            continue;
        }
        c->dl[c->n] = dl;
        c->desc[c->n++] = desc;
    }
    if (d)
        closedir(d);
}

void vg_plugin_catalog_close(struct vg_plugin_catalog *c)
{
    for (size_t i = 0; i < c->n; i++)
        dlclose(c->dl[i]);
    c->n = 0;
}

const vg_plugin_desc *vg_plugin_catalog_find(const struct vg_plugin_catalog *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->desc[i]->name, name) == 0)
            return c->desc[i];
    return NULL;
}
