/* Workloads with marks; see wmarks.h. */
#include "wmarks.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct wmarks_entry {
    char id[VG_WORKLOAD_MAX];
    int pid;
    bool seen;
};

/* A marked mount and its workload. */
struct wmarks_mount {
    uint64_t mnt_id;
    char id[VG_WORKLOAD_MAX];
    char group[VG_GROUP_MAX];
};

void wmarks_init(wmarks *m, const vg_host_api *api, vg_host *h, const wmarks_ops *ops)
{
    memset(m, 0, sizeof(*m));
    m->api = api;
    m->h = h;
    m->ops = *ops;
    pthread_mutex_init(&m->olock, NULL);
}

void wmarks_own(wmarks *m, const char *path, const vg_workload_view *w)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 ||
        !(stx.stx_mask & STATX_MNT_ID))
        return; /* files on it fall back to their process's workload */
    pthread_mutex_lock(&m->olock);
    if (m->nowners == m->capowners) {
        size_t cap = m->capowners ? m->capowners * 2 : 16;
        wmarks_mount *v = realloc(m->owners, cap * sizeof(*v));
        if (!v) {
            pthread_mutex_unlock(&m->olock);
            return;
        }
        m->owners = v;
        m->capowners = cap;
    }
    wmarks_mount *o = &m->owners[m->nowners++];
    o->mnt_id = stx.stx_mnt_id;
    snprintf(o->id, sizeof(o->id), "%s", w->id);
    snprintf(o->group, sizeof(o->group), "%s", w->group);
    pthread_mutex_unlock(&m->olock);
}

static void disown(wmarks *m, const char *id)
{
    pthread_mutex_lock(&m->olock);
    for (size_t i = 0; i < m->nowners;) {
        if (strcmp(m->owners[i].id, id) == 0)
            m->owners[i] = m->owners[--m->nowners];
        else
            i++;
    }
    pthread_mutex_unlock(&m->olock);
}

bool wmarks_owner(wmarks *m, int fd, vg_workload_view *w)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 ||
        !(stx.stx_mask & STATX_MNT_ID))
        return false;
    return wmarks_owner_of_mount(m, stx.stx_mnt_id, w);
}

bool wmarks_owner_of_mount(wmarks *m, uint64_t mnt_id, vg_workload_view *w)
{
    bool found = false;
    pthread_mutex_lock(&m->olock);
    for (size_t i = 0; i < m->nowners && !found; i++) {
        if (m->owners[i].mnt_id == mnt_id) {
            memcpy(w->id, m->owners[i].id, sizeof(w->id));
            memcpy(w->group, m->owners[i].group, sizeof(w->group));
            found = true;
        }
    }
    pthread_mutex_unlock(&m->olock);
    return found;
}

static wmarks_entry *find(wmarks *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].id, id) == 0)
            return &m->v[i];
    return NULL;
}

static void sync_one(void *arg, const vg_workload_view *w)
{
    wmarks *m = arg;
    if (!w->id[0] || w->pid <= 0 || !m->ops.wants(w, m->ops.arg))
        return;
    wmarks_entry *e = find(m, w->id);
    if (e && e->pid == w->pid) {
        e->seen = true;
        return;
    }
    if (!e) {
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 16;
            wmarks_entry *v = realloc(m->v, cap * sizeof(*v));
            if (!v)
                return; /* retried at the next sync */
            m->v = v;
            m->cap = cap;
        }
        e = &m->v[m->n++];
        snprintf(e->id, sizeof(e->id), "%s", w->id);
    } else {
        m->ops.unmark(e->pid, e->id, m->ops.arg); /* the same id with a new init */
        disown(m, e->id);
    }
    e->pid = w->pid;
    e->seen = true;
    int rc = m->ops.mark(w->pid, w, m->ops.arg);
    if (rc < 0)
        m->api->log(m->h, VG_LOG_WARN, "no %s for %s (pid %d): %s", m->ops.what, w->id, w->pid,
                    strerror(-rc));
    else
        m->api->log(m->h, VG_LOG_INFO, "%s on for %s", m->ops.what, w->id);
}

void wmarks_sync(wmarks *m)
{
    for (size_t i = 0; i < m->n; i++)
        m->v[i].seen = false;
    m->api->workloads_each(m->h, sync_one, m);
    for (size_t i = 0; i < m->n;) {
        if (m->v[i].seen) {
            i++;
            continue;
        }
        /* A workload gone takes its mounts and marks along; one that no
         * longer wants marks keeps running and is unmarked. */
        m->ops.unmark(m->v[i].pid, m->v[i].id, m->ops.arg);
        disown(m, m->v[i].id);
        m->api->log(m->h, VG_LOG_INFO, "%s off for %s", m->ops.what, m->v[i].id);
        m->v[i] = m->v[--m->n];
    }
    atomic_store(&m->count, m->n);
}

size_t wmarks_count(wmarks *m)
{
    return atomic_load(&m->count);
}

void wmarks_free(wmarks *m)
{
    pthread_mutex_destroy(&m->olock);
    free(m->owners);
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}
