/*
 * runc's state directories and OCI bundles. runc keeps one directory per
 * container under its root, with state.json (init pid, creation time, the
 * config it was created with, whose labels hold "bundle=<dir>"); the
 * bundle's config.json holds the OCI annotations, where CRI runtimes put
 * the Kubernetes metadata. The roots:
 *
 *   /run/runc/<id>                          runc itself, and CRI-O
 *   /run/containerd/runc/<namespace>/<id>   containerd ("moby" is Docker's)
 *   /run/docker/runtime-runc/moby/<id>      Docker before containerd 1.x
 *
 * What each state says is kept between scans (runtime_cache.c) and read
 * again only when its files change.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"
#include "runtime_cache.h"

static int read_state(vg__scan *s, const char *dir, const char *id, int runtime)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s/state.json", dir, id) >= (int)sizeof(path))
        return 0;
    vg__oci_state *owned;
    vg__oci_state *st = vg__oci_state_read(s->oci, s->root, path, &owned);
    if (!st)
        return 0;
    long long pid = st->pid;
    int rc = 0;
    /* The state of a container that died with its runtime (a crash, a
     * reboot without cleanup) may name a pid reused since by some other
     * process; its start time tells them apart, as runc itself checks.
     * Once it matched, the same process (its /proc inode) need not be
     * asked again. */
    uint64_t ino = pid > 0 && pid <= INT32_MAX ? vg__proc_ino(s, (pid_t)pid) : 0;
    long long now = ino > 1 && ino == st->init_ino ? st->start
                    : pid > 0                      ? vg__proc_starttime(s, (pid_t)pid)
                                                   : -1;
    if (now >= 0 && st->start > 0 && now != st->start)
        pid = 0;
    st->init_ino = now >= 0 && now == st->start ? ino : 0;
    if (pid > 0) {
        vg_workload *w = vg__scan_get(s, id, runtime);
        if (!w) {
            vg__oci_state_free(owned);
            return -ENOMEM;
        }
        w->pid = (pid_t)pid;
        if (!w->started_ns)
            w->started_ns = st->created_ns;
        if (st->annotations) {
            rc = vg__json_labels(w, st->annotations);
            /* nerdctl and containerd's own clients name containers this way. */
            const char *name = vg__json_str(st->annotations, "nerdctl/name");
            if (rc == 0 && name && !w->name)
                rc = vg_workload_set(&w->name, name);
        }
    }
    vg__oci_state_free(owned);
    return rc;
}

int vg__read_runc_root(vg__scan *s, const char *dir, int runtime)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* this runtime is not installed, or has no containers */
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));)
        if (de->d_name[0] != '.')
            rc = read_state(s, dir, de->d_name, runtime);
    closedir(d);
    return rc;
}

int vg__read_runc_roots(vg__scan *s)
{
    char path[4096];
    int rc = 0;
    if (vg__path(s, path, sizeof(path), "/run/docker/runtime-runc/moby") == 0)
        rc = vg__read_runc_root(s, path, VG_RT_DOCKER);
    if (rc == 0 && vg__path(s, path, sizeof(path), "/run/runc") == 0)
        rc = vg__read_runc_root(s, path, VG_RT_RUNC);
    if (rc < 0 || vg__path(s, path, sizeof(path), "/run/containerd/runc") < 0)
        return rc;
    DIR *d = opendir(path);
    if (!d)
        return rc;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        char ns[4096];
        if (de->d_name[0] == '.' ||
            snprintf(ns, sizeof(ns), "%s/%s", path, de->d_name) >= (int)sizeof(ns))
            continue;
        rc = vg__read_runc_root(s, ns,
                                strcmp(de->d_name, "moby") == 0 ? VG_RT_DOCKER : VG_RT_CONTAINERD);
    }
    closedir(d);
    return rc;
}
