/*
 * containers/storage, shared by CRI-O and podman:
 * /var/lib/containers/storage/overlay-containers/containers.json lists each
 * container's id, names and (podman) a "metadata" JSON string with the
 * image name, and <id>/userdata/config.json is its OCI spec
 * with annotations (CRI-O's io.kubernetes.* ones, podman's io.podman.*).
 * Only containers already found running (from /proc or runc's state) are
 * read: the store also lists stopped ones.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime.h"

#define STORAGE "/var/lib/containers/storage/overlay-containers"

static int read_names(vg__scan *s)
{
    char path[4096];
    if (vg__path(s, path, sizeof(path), STORAGE "/containers.json") < 0)
        return 0;
    json_t *list = vg__json_load(path);
    size_t i;
    json_t *c;
    int rc = 0;
    json_array_foreach(list, i, c)
    {
        const char *id = vg__json_str(c, "id");
        vg_workload *w = id ? vg_hmap_get_str(&s->by_id, id) : NULL;
        const char *name = json_string_value(json_array_get(json_object_get(c, "names"), 0));
        if (w && name && !w->name)
            rc |= vg_workload_set(&w->name, name);
        /* podman keeps the image's name in "metadata", a JSON string. */
        const char *meta = vg__json_str(c, "metadata");
        json_t *m = w && !w->image && meta ? json_loads(meta, 0, NULL) : NULL;
        const char *image = vg__json_str(m, "image-name");
        if (image)
            rc |= vg_workload_set(&w->image, image);
        json_decref(m);
    }
    json_decref(list);
    return rc ? -ENOMEM : 0;
}

static int read_userdata(vg__scan *s, vg_workload *w)
{
    char path[4096];
    if (vg__path(s, path, sizeof(path), STORAGE "/%s/userdata/config.json", w->id) < 0)
        return 0;
    json_t *cfg = vg__json_load(path);
    if (!cfg)
        return 0;
    const json_t *ann = json_object_get(cfg, "annotations");
    int rc = vg__json_labels(w, ann);
    /* CRI-O leaves its mark in the annotations; podman does not. */
    if (w->runtime == VG_RT_RUNC)
        w->runtime =
            vg__json_str(ann, "io.kubernetes.cri-o.ContainerID") ? VG_RT_CRIO : VG_RT_PODMAN;
    const char *name = vg__json_str(ann, "io.kubernetes.cri-o.Name");
    if (rc == 0 && name && !w->name && !vg__json_str(ann, "io.kubernetes.container.name"))
        rc = vg_workload_set(&w->name, name);
    json_decref(cfg);
    return rc;
}

int vg__read_storage(vg__scan *s)
{
    char path[4096];
    struct stat st;
    /* Most hosts have no store: one look, not two failed ones per runc
     * container and rescan. */
    if (vg__path(s, path, sizeof(path), STORAGE) < 0 || stat(path, &st) < 0)
        return 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        if (s->cands[i]->runtime == VG_RT_CRIO || s->cands[i]->runtime == VG_RT_PODMAN ||
            s->cands[i]->runtime == VG_RT_RUNC)
            rc = read_userdata(s, s->cands[i]);
    return rc == 0 ? read_names(s) : rc;
}
