/* A policy engine on a private loop; see policy_harness.h. */
#include "policy_harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mode {
    char group[VG_GROUP_MAX];
    int mode;
};

struct captured {
    msgpack_sbuffer sb;
    msgpack_unpacked up;
};

struct vg_harness {
    uv_loop_t loop;
    vg_bus *bus;
    vg_rules *rules;
    vg_actions *actions;
    vg_policy *policy;
    struct mode *modes;
    size_t nmodes;
    struct captured *ev;
    size_t nev, capev;
    bool feeding, first_seen;
    uint64_t fed_id; /* the id the bus gave the fed event */
    int verdict;
};

static int group_mode(void *arg, const char *group)
{
    vg_harness *h = arg;
    for (size_t i = 0; i < h->nmodes; i++)
        if (strcmp(h->modes[i].group, group) == 0)
            return h->modes[i].mode;
    return -ENOENT;
}

static void clear_events(vg_harness *h)
{
    for (size_t i = 0; i < h->nev; i++) {
        msgpack_unpacked_destroy(&h->ev[i].up);
        msgpack_sbuffer_destroy(&h->ev[i].sb);
    }
    h->nev = 0;
}

static void on_verdict(void *arg, const vg_event *ev, int verdict)
{
    vg_harness *h = arg;
    if (h->feeding && h->first_seen && ev->id == h->fed_id)
        h->verdict = verdict;
}

static void on_event(const vg_event *ev, void *arg)
{
    vg_harness *h = arg;
    if (!h->feeding)
        return;
    /* The fed event is the first dispatched (the queue was empty); all
     * after it were published in consequence. */
    if (!h->first_seen) {
        h->first_seen = true;
        h->fed_id = ev->id;
        return;
    }
    if (h->nev == h->capev) {
        size_t cap = h->capev ? h->capev * 2 : 16;
        struct captured *v = realloc(h->ev, cap * sizeof(*v));
        if (!v)
            return;
        h->ev = v;
        h->capev = cap;
    }
    struct captured *c = &h->ev[h->nev];
    msgpack_sbuffer_init(&c->sb);
    msgpack_unpacked_init(&c->up);
    size_t off = 0;
    if (vg_event_encode(ev, &c->sb) == 0 &&
        msgpack_unpack_next(&c->up, c->sb.data, c->sb.size, &off) == MSGPACK_UNPACK_SUCCESS) {
        h->nev++;
        return;
    }
    msgpack_unpacked_destroy(&c->up);
    msgpack_sbuffer_destroy(&c->sb);
}

int vg_harness_new(char *const *dirs, int default_mode, vg_diag *diag, vg_harness **out)
{
    return vg_harness_new_decls(dirs, default_mode, NULL, 0, diag, out);
}

int vg_harness_new_decls(char *const *dirs, int default_mode, const vg_policy_decl_desc *decls,
                         size_t ndecls, vg_diag *diag, vg_harness **out)
{
    vg_harness *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    uv_loop_init(&h->loop);
    int rc = vg_bus_new(&h->loop, 65536, &h->bus);
    if (rc == 0)
        rc = vg_rules_open(NULL, &h->rules);
    if (rc == 0)
        rc = vg_actions_new(&h->actions);
    if (rc == 0) {
        vg_policy_opts o = {.bus = h->bus,
                            .rules = h->rules,
                            .actions = h->actions,
                            .env = {.group_mode = group_mode, .arg = h},
                            .default_mode = default_mode,
                            .on_verdict = on_verdict,
                            .on_verdict_arg = h,
                            /* An engine without policies is a fixture of
                             * its own (tests of the decision cache). */
                            .load = {.allow_empty = true, .decls = decls, .ndecls = ndecls}};
        rc = vg_policy_new(&o, &h->policy);
    }
    /* The harness first, so that it knows the fed event's id before the
     * engine reports the verdict. */
    if (rc == 0)
        rc = vg_bus_subscribe(h->bus, -1, on_event, h);
    if (rc >= 0)
        rc = vg_bus_subscribe(h->bus, -1, vg_policy_on_event, h->policy);
    if (rc >= 0)
        rc = vg_policy_reload(h->policy, dirs, diag);
    if (rc < 0) {
        vg_harness_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void vg_harness_free(vg_harness *h)
{
    if (!h)
        return;
    h->feeding = false;
    if (h->bus)
        vg_bus_close(h->bus);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->loop);
    vg_policy_free(h->policy);
    vg_actions_free(h->actions);
    vg_rules_free(h->rules);
    clear_events(h);
    free(h->ev);
    free(h->modes);
    free(h);
}

int vg_harness_set_mode(vg_harness *h, const char *group, int mode)
{
    struct mode *m = NULL;
    for (size_t i = 0; i < h->nmodes && !m; i++)
        if (strcmp(h->modes[i].group, group) == 0)
            m = &h->modes[i];
    if (!m) {
        struct mode *v = realloc(h->modes, (h->nmodes + 1) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        h->modes = v;
        m = &v[h->nmodes++];
        snprintf(m->group, sizeof(m->group), "%s", group);
    }
    m->mode = mode;
    vg_policy_invalidate(h->policy);
    return 0;
}

int vg_harness_feed(vg_harness *h, const vg_event_in *ev)
{
    clear_events(h);
    vg_bus_drain(h->bus);
    h->feeding = true;
    h->first_seen = false;
    h->verdict = -ENOMSG;
    int rc = vg_bus_publish(h->bus, ev);
    while (rc == 0 && vg_bus_drain(h->bus) > 0)
        ;
    h->feeding = false;
    if (rc < 0)
        return rc;
    return h->verdict == -ENOMSG ? VG_VERDICT_NONE : h->verdict;
}

size_t vg_harness_nevents(const vg_harness *h)
{
    return h->nev;
}

const msgpack_object *vg_harness_event(const vg_harness *h, size_t i)
{
    return i < h->nev ? &h->ev[i].up.data : NULL;
}

vg_policy *vg_harness_policy(vg_harness *h)
{
    return h->policy;
}

vg_rules *vg_harness_rules(vg_harness *h)
{
    return h->rules;
}

vg_actions *vg_harness_actions(vg_harness *h)
{
    return h->actions;
}

vg_bus *vg_harness_bus(vg_harness *h)
{
    return h->bus;
}
