/* Groups, their modes and their persistence; see groups.h. */
#include "groups.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "groups_int.h"
#include "log.h"
#include "mp.h"

#define TABLE "groups"
#define RECORD_VERSION 1

const char *vg_group_kind_name(int kind)
{
    static const char *const names[] = {"service", "custom", "nodes"};
    return kind >= 0 && kind <= VG_GROUP_KIND_NODES ? names[kind] : "unknown";
}

static int kind_parse(const msgpack_object *rec)
{
    for (int k = 0; k <= VG_GROUP_KIND_NODES; k++)
        if (vg_mp_streq(vg_mp_get(rec, "kind"), vg_group_kind_name(k)))
            return k;
    return VG_GROUP_SERVICE;
}

/* ---- the table of groups ---- */

static struct vg__group *add_group(vg_groups *g, const char *name, int kind, int mode)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct vg__group **all = realloc(g->all, cap * sizeof(*all));
        if (!all)
            return NULL;
        g->all = all;
        g->cap = cap;
    }
    struct vg__group *gr = calloc(1, sizeof(*gr));
    if (!gr || !(gr->name = strdup(name)) || vg_hmap_put_str(&g->by_name, gr->name, gr) < 0) {
        if (gr)
            free(gr->name);
        free(gr);
        return NULL;
    }
    gr->kind = kind;
    gr->mode = mode;
    g->all[g->n++] = gr;
    return gr;
}

int vg__groups_store(vg_groups *g, const struct vg__group *gr)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    /* "idle" (seconds without a member) is optional: records written
     * before group aging have none, and mean 0. */
    /* "learn_until" and "then" (timed learning) are optional too. */
    bool timed = gr->learn_until_ns > 0;
    msgpack_pack_map(&pk, 4 + 2 * timed);
    vg_mp_pack_kv_int(&pk, "v", RECORD_VERSION);
    vg_mp_pack_kv_str(&pk, "mode", vg_mode_name(gr->mode));
    vg_mp_pack_kv_str(&pk, "kind", vg_group_kind_name(gr->kind));
    vg_mp_pack_kv_int(&pk, "idle", gr->idle_ns / NS_PER_S);
    if (timed) {
        vg_mp_pack_kv_int(&pk, "learn_until", gr->learn_until_ns);
        vg_mp_pack_kv_str(&pk, "then", vg_mode_name(gr->then_mode));
    }
    int rc = vg_store_put(g->st, TABLE, gr->name, strlen(gr->name), sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* The group `name`, created (with the default mode, and stored) when it is
 * new. NULL when out of memory. */
static struct vg__group *ensure(vg_groups *g, const char *name, int kind)
{
    struct vg__group *gr = vg_hmap_get_str(&g->by_name, name);
    if (gr) {
        /* A stored service group may be declared custom later, or back. */
        if (gr->kind != kind && gr->kind != VG_GROUP_KIND_NODES) {
            gr->kind = kind;
            vg__groups_store(g, gr);
        }
        return gr;
    }
    gr = add_group(g, name, kind, g->default_mode);
    if (gr && vg__groups_store(g, gr) < 0)
        vg_warn("cannot store the new group %s; its mode is not kept", name);
    return gr;
}

static int load_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    vg_groups *g = arg;
    char name[VG_GROUP_MAX], mode[16];
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (klen == 0 || klen >= sizeof(name) ||
        msgpack_unpack_next(&up, val, vlen, NULL) != MSGPACK_UNPACK_SUCCESS ||
        vg_mp_get_cstr(&up.data, "mode", mode, sizeof(mode)) < 0 || vg_mode_parse(mode) < 0) {
        vg_warn("store: skipping a malformed record in table groups");
        msgpack_unpacked_destroy(&up);
        return 0;
    }
    memcpy(name, key, klen);
    name[klen] = '\0';
    struct vg__group *gr = add_group(g, name, kind_parse(&up.data), vg_mode_parse(mode));
    int64_t idle = 0;
    if (gr && vg_mp_get_int(&up.data, "idle", &idle) == 0 && idle > 0 &&
        idle < INT64_MAX / NS_PER_S)
        gr->idle_ns = idle * NS_PER_S;
    char then[16];
    if (gr && vg_mp_get_int(&up.data, "learn_until", &gr->learn_until_ns) == 0 &&
        vg_mp_get_cstr(&up.data, "then", then, sizeof(then)) == 0 && vg_mode_parse(then) >= 0)
        gr->then_mode = vg_mode_parse(then);
    else if (gr)
        gr->learn_until_ns = 0;
    msgpack_unpacked_destroy(&up);
    return gr ? 0 : -ENOMEM;
}

int vg_groups_new(vg_store *st, int default_mode, vg_groups **out)
{
    vg_groups *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->st = st;
    g->default_mode = default_mode;
    vg_hmap_init(&g->by_name, true);
    int rc = vg_store_iter(st, TABLE, NULL, 0, false, load_one, g);
    if (rc == 0 && !ensure(g, VG_GROUP_NODES, VG_GROUP_KIND_NODES))
        rc = -ENOMEM;
    if (rc < 0) {
        vg_groups_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void vg_groups_free(vg_groups *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->all[i]->name);
        free(g->all[i]);
    }
    free(g->all);
    vg_hmap_free(&g->by_name);
    vg__custom_free(&g->defs);
    free(g);
}

void vg_groups_set_default_mode(vg_groups *g, int mode)
{
    g->default_mode = mode;
}

/* ---- custom groups ---- */

int vg_groups_check_config(const vg_config *cfg, vg_diag *diag)
{
    vg__custom_defs defs;
    int rc = vg__custom_parse(cfg, &defs, diag);
    vg__custom_free(&defs);
    return rc;
}

int vg_groups_configure(vg_groups *g, const vg_config *cfg, vg_diag *diag)
{
    vg__custom_defs defs;
    int rc = vg__custom_parse(cfg, &defs, diag);
    if (rc < 0)
        return rc;
    vg__custom_free(&g->defs);
    g->defs = defs;
    /* Declared groups exist (and have a mode to set) before any member. */
    for (size_t i = 0; i < defs.n; i++)
        if (!ensure(g, defs.v[i].name, VG_GROUP_CUSTOM))
            return -ENOMEM;
    return 0;
}

/* ---- membership and modes ---- */

int vg_groups_effective_mode(vg_groups *g, const vg_workload *w)
{
    int mode = vg_groups_mode(g, w->group);
    if (mode < 0)
        mode = g->default_mode;
    for (size_t i = 0; i < w->ngroups; i++) {
        int m = vg_groups_mode(g, w->groups[i]);
        mode = m > mode ? m : mode; /* the most protective wins */
    }
    return mode;
}

int vg_groups_classify(vg_groups *g, vg_workload *w)
{
    vg_group_service_name(w, w->group, sizeof(w->group));
    struct vg__group *gr =
        ensure(g, w->group, w->runtime == VG_RT_HOST ? VG_GROUP_KIND_NODES : VG_GROUP_SERVICE);
    if (!gr)
        return -ENOMEM;
    gr->used = true;
    for (size_t i = 0; i < g->defs.n; i++) {
        if (!vg__custom_match(&g->defs, &g->defs.v[i], w))
            continue;
        if (vg_workload_add_group(w, g->defs.v[i].name) < 0)
            return -ENOMEM;
        struct vg__group *cg = vg_hmap_get_str(&g->by_name, g->defs.v[i].name);
        if (cg)
            cg->used = true;
    }
    atomic_store(&w->mode, vg_groups_effective_mode(g, w));
    return 0;
}

int vg_groups_mode(vg_groups *g, const char *group)
{
    const struct vg__group *gr = vg_hmap_get_str(&g->by_name, group);
    return gr ? gr->mode : -ENOENT;
}

int vg_groups_set_mode(vg_groups *g, const char *group, int mode, int *old)
{
    if (mode < VG_MODE_LEARN || mode > VG_MODE_PROTECT)
        return -EINVAL;
    struct vg__group *gr = vg_hmap_get_str(&g->by_name, group);
    if (!gr)
        return -ENOENT;
    if (old)
        *old = gr->mode;
    int prev = gr->mode;
    int64_t until = gr->learn_until_ns;
    gr->mode = mode;
    gr->learn_until_ns = 0; /* a mode set by hand ends a timed learning */
    int rc = vg__groups_store(g, gr);
    if (rc < 0)
        gr->mode = prev, gr->learn_until_ns = until;
    return rc;
}

/* ---- listing ---- */

static const vg__custom_def *find_def(const vg_groups *g, const char *name)
{
    for (size_t i = 0; i < g->defs.n; i++)
        if (strcmp(g->defs.v[i].name, name) == 0)
            return &g->defs.v[i];
    return NULL;
}

bool vg__groups_declared(const vg_groups *g, const char *name)
{
    return find_def(g, name) != NULL;
}

int vg__groups_reindex(vg_groups *g)
{
    vg_hmap m;
    vg_hmap_init(&m, true);
    for (size_t i = 0; i < g->n; i++) {
        if (vg_hmap_put_str(&m, g->all[i]->name, g->all[i]) < 0) {
            vg_hmap_free(&m);
            return -ENOMEM;
        }
    }
    vg_hmap_free(&g->by_name);
    g->by_name = m;
    return 0;
}

static void fill(const vg_groups *g, const struct vg__group *gr, vg_group_info *out)
{
    memset(out, 0, sizeof(*out));
    out->name = gr->name;
    out->kind = gr->kind;
    out->mode = gr->mode;
    out->idle_ns = gr->idle_ns;
    out->learn_until_ns = gr->learn_until_ns;
    out->then_mode = gr->then_mode;
    const vg__custom_def *d = find_def(g, gr->name);
    if (!d)
        return;
    out->image = d->image;
    out->name_glob = d->name_glob;
    out->k8s_namespace = d->k8s_namespace;
    out->labels = (const char *const *)d->labels;
    out->nlabels = d->nlabels;
    out->has_predicate = d->fn_ref >= 0;
}

static int cmp_group(const void *a, const void *b)
{
    return strcmp((*(struct vg__group *const *)a)->name, (*(struct vg__group *const *)b)->name);
}

void vg_groups_foreach(vg_groups *g, void (*fn)(const vg_group_info *gi, void *arg), void *arg)
{
    qsort(g->all, g->n, sizeof(*g->all), cmp_group);
    for (size_t i = 0; i < g->n; i++) {
        vg_group_info gi;
        fill(g, g->all[i], &gi);
        fn(&gi, arg);
    }
}

int vg_groups_get(vg_groups *g, const char *name, vg_group_info *out)
{
    const struct vg__group *gr = vg_hmap_get_str(&g->by_name, name);
    if (!gr)
        return -ENOENT;
    fill(g, gr, out);
    return 0;
}
