/* The action registry; see actions.h. */
#include "actions.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evcat.h"
#include "log.h"

typedef struct action {
    char *name;
    char *owner;
    vg_action_desc desc;
    bool deferred;
} action;

/* A handful of actions exist; a flat array is the simplest right thing. */
struct vg_actions {
    action *v;
    size_t n;
};

int vg_actions_new(vg_actions **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

void vg_actions_free(vg_actions *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].name);
        free(a->v[i].owner);
    }
    free(a->v);
    free(a);
}

static action *find(const vg_actions *a, const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, name) == 0)
            return &a->v[i];
    return NULL;
}

int vg_actions_register(vg_actions *a, const char *owner, const vg_action_desc *desc)
{
    if (!desc || !desc->name || !*desc->name || !desc->run || !owner)
        return -EINVAL;
    if (find(a, desc->name))
        return -EEXIST;
    action *v = realloc(a->v, (a->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    a->v = v;
    action *x = &v[a->n];
    x->name = strdup(desc->name);
    x->owner = strdup(owner);
    if (!x->name || !x->owner) {
        free(x->name);
        free(x->owner);
        return -ENOMEM;
    }
    x->desc = *desc;
    x->desc.name = x->name;
    x->deferred = false;
    a->n++;
    /* Policies may name it from now on (lib/evcat.h); a full catalogue only
     * costs the load check its name. */
    if (vg_evcat_declare_action(desc->name) < 0)
        vg_warn("action %s: the catalogue of actions is full", desc->name);
    return 0;
}

void vg_actions_unregister_owner(vg_actions *a, const char *owner)
{
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i].owner, owner) == 0) {
            free(a->v[i].name);
            free(a->v[i].owner);
        } else {
            a->v[j++] = a->v[i];
        }
    }
    a->n = j;
}

int vg_actions_run(vg_actions *a, const char *name, const void *args, size_t args_len)
{
    action *x = find(a, name);
    if (!x)
        return -ENOENT;
    return x->desc.run(x->desc.priv, args, args_len);
}

const char *vg_actions_owner(const vg_actions *a, const char *name)
{
    action *x = find(a, name);
    return x ? x->owner : NULL;
}

int vg_actions_set_deferred(vg_actions *a, const char *name)
{
    action *x = find(a, name);
    if (!x)
        return -ENOENT;
    x->deferred = true;
    return 0;
}

bool vg_actions_deferred(const vg_actions *a, const char *name)
{
    action *x = find(a, name);
    return x && x->deferred;
}
