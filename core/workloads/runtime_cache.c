/* Runc-style container states kept between discovery scans; see
 * runtime_cache.h. */
#include "runtime_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static int file_key(const char *path, vg__file_key *k)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    *k = (vg__file_key){.dev = st.st_dev,
                        .ino = st.st_ino,
                        .size = st.st_size,
                        .mtime = st.st_mtim,
                        .ctime = st.st_ctim};
    return 0;
}

static bool same_key(const vg__file_key *a, const vg__file_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

vg__oci_cache *vg__oci_cache_new(void)
{
    vg__oci_cache *c = calloc(1, sizeof(*c));
    if (c)
        vg_hmap_init(&c->by_path, true);
    return c;
}

void vg__oci_state_free(vg__oci_state *st)
{
    if (!st)
        return;
    json_decref(st->annotations);
    free(st->bundle);
    free(st->path);
    free(st);
}

void vg__oci_cache_free(vg__oci_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        vg__oci_state_free(c->v[i]);
    free(c->v);
    vg_hmap_free(&c->by_path);
    free(c);
}

void vg__oci_cache_begin(vg__oci_cache *c)
{
    if (c)
        c->scan++;
}

/* The index is rebuilt rather than deleted from (vg_hmap has no delete). */
void vg__oci_cache_sweep(vg__oci_cache *c)
{
    if (!c)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i]->seen == c->scan)
            c->v[kept++] = c->v[i];
        else
            vg__oci_state_free(c->v[i]);
    }
    if (kept == c->n)
        return;
    c->n = kept;
    vg_hmap_free(&c->by_path);
    vg_hmap_init(&c->by_path, true);
    for (size_t i = 0; i < c->n; i++)
        if (vg_hmap_put_str(&c->by_path, c->v[i]->path, c->v[i]) < 0)
            c->v[i]->seen = 0; /* unindexed: dropped at the next sweep */
}

/* The bundle directory from state.json's config.labels. */
static const char *bundle_of(const json_t *state)
{
    const json_t *labels = json_object_get(json_object_get(state, "config"), "labels");
    size_t i;
    const json_t *l;
    json_array_foreach(labels, i, l)
    {
        const char *s = json_string_value(l);
        if (s && strncmp(s, "bundle=", 7) == 0)
            return s + 7;
    }
    return NULL;
}

/* (Re)reads state.json into st; -EINVAL when it is unreadable or bad. */
static int load_state(vg__oci_state *st, const char *path)
{
    json_t *j = vg__json_load(path);
    if (!j)
        return -EINVAL;
    st->pid = json_integer_value(json_object_get(j, "init_process_pid"));
    st->start = json_integer_value(json_object_get(j, "init_process_start"));
    st->created_ns = vg__rfc3339_ns(vg__json_str(j, "created"));
    const char *bundle = bundle_of(j);
    free(st->bundle);
    st->bundle = bundle ? strdup(bundle) : NULL;
    json_decref(j);
    memset(&st->config_key, 0, sizeof(st->config_key)); /* the bundle may have moved */
    return bundle && !st->bundle ? -ENOMEM : 0;
}

/* (Re)reads the bundle's config.json when it changed; only its
 * annotations are kept. */
static void load_config(vg__oci_state *st, const char *root)
{
    char path[4096];
    vg__file_key k;
    if (!st->bundle ||
        snprintf(path, sizeof(path), "%s%s/config.json", root, st->bundle) >= (int)sizeof(path) ||
        file_key(path, &k) < 0) {
        json_decref(st->annotations);
        st->annotations = NULL;
        return;
    }
    if (same_key(&k, &st->config_key))
        return;
    json_t *cfg = vg__json_load(path);
    json_decref(st->annotations);
    st->annotations = NULL;
    if (!cfg)
        return;
    st->annotations = json_incref(json_object_get(cfg, "annotations"));
    st->config_key = k;
    json_decref(cfg);
}

static vg__oci_state *cache_add(vg__oci_cache *c, vg__oci_state *st)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        vg__oci_state **v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    if (vg_hmap_put_str(&c->by_path, st->path, st) < 0)
        return NULL;
    c->v[c->n++] = st;
    return st;
}

vg__oci_state *vg__oci_state_read(vg__oci_cache *c, const char *root, const char *path,
                                  vg__oci_state **owned)
{
    *owned = NULL;
    vg__file_key k;
    if (file_key(path, &k) < 0)
        return NULL;
    vg__oci_state *st = c ? vg_hmap_get_str(&c->by_path, path) : NULL;
    bool fresh = !st;
    if (fresh) {
        st = calloc(1, sizeof(*st));
        if (!st || !(st->path = strdup(path))) {
            free(st);
            return NULL;
        }
    }
    if (fresh || !same_key(&k, &st->state_key)) {
        st->init_ino = 0;
        if (load_state(st, path) < 0) {
            memset(&st->state_key, 0, sizeof(st->state_key)); /* read again next time */
            if (fresh)
                vg__oci_state_free(st);
            return NULL;
        }
        st->state_key = k;
    }
    load_config(st, root);
    if (!c) {
        *owned = st;
        return st;
    }
    st->seen = c->scan;
    if (fresh && !cache_add(c, st)) {
        *owned = st; /* out of memory for the cache: used once */
        return st;
    }
    return st;
}
