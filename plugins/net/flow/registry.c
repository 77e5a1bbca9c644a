/*
 * The protocol registry: every proto/<name>.c descriptor, listed by the build
 * into vg_protos.inc, sorted once by priority; and the application names they
 * give (index 0 is "unknown"), which is what vg_flow.app indexes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/proto.h"
#include "registry.h"

#define VG_PROTO_ENTRY(n) extern const vg_net_proto vg_proto_##n;
#include "vg_protos.inc"
#undef VG_PROTO_ENTRY
#define VG_PROTO_ENTRY(n) &vg_proto_##n,
static const vg_net_proto *const registered[] = {
#include "vg_protos.inc"
};
#undef VG_PROTO_ENTRY

#define NPROTO (sizeof(registered) / sizeof(registered[0]))
_Static_assert(NPROTO <= 64, "the exclusion mask holds 64 protocols");

static const vg_net_proto *sorted[NPROTO];
static const char *apps[VG_APPS_MAX + 1]; /* [0] "unknown", NULL-ended */
static uint8_t proto_app[NPROTO];
static size_t napps;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int by_prio(const void *a, const void *b)
{
    const vg_net_proto *x = *(const vg_net_proto *const *)a;
    const vg_net_proto *y = *(const vg_net_proto *const *)b;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void add_app(const char *name)
{
    for (size_t i = 0; i < napps; i++)
        if (!strcmp(apps[i], name))
            return;
    if (napps < VG_APPS_MAX)
        apps[napps++] = name;
}

static void build(void)
{
    memcpy(sorted, registered, sizeof(sorted));
    qsort(sorted, NPROTO, sizeof(sorted[0]), by_prio);
    apps[napps++] = "unknown";
    for (size_t i = 0; i < NPROTO; i++) {
        add_app(sorted[i]->name);
        proto_app[i] = (uint8_t)vg_app_index(sorted[i]->name);
        for (const char *const *a = sorted[i]->also; a && *a; a++)
            add_app(*a);
    }
}

void vg_registry_init(void)
{
    pthread_once(&once, build);
}

size_t vg_proto_count(void)
{
    return NPROTO;
}

const vg_net_proto *vg_proto_at(size_t i)
{
    return sorted[i];
}

int vg_proto_app(size_t i)
{
    return proto_app[i];
}

int vg_app_index(const char *name)
{
    for (size_t i = 0; i < napps; i++)
        if (!strcmp(apps[i], name))
            return (int)i;
    return 0;
}

const char *vg_app_name(int idx)
{
    return idx > 0 && (size_t)idx < napps ? apps[idx] : "unknown";
}

const char *const *vg_net_apps(void)
{
    vg_registry_init();
    return apps + 1;
}
