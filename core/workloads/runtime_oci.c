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
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

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

static int read_bundle(vg__scan *s, vg_workload *w, const char *bundle)
{
    char path[4096];
    if (vg__path(s, path, sizeof(path), "%s/config.json", bundle) < 0)
        return 0;
    json_t *cfg = vg__json_load(path);
    if (!cfg)
        return 0;
    int rc = vg__json_labels(w, json_object_get(cfg, "annotations"));
    /* nerdctl and containerd's own clients name containers this way. */
    const char *name = vg__json_str(json_object_get(cfg, "annotations"), "nerdctl/name");
    if (rc == 0 && name && !w->name)
        rc = vg_workload_set(&w->name, name);
    json_decref(cfg);
    return rc;
}

static int read_state(vg__scan *s, const char *dir, const char *id, int runtime)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s/state.json", dir, id) >= (int)sizeof(path))
        return 0;
    json_t *st = vg__json_load(path);
    if (!st)
        return 0;
    json_int_t pid = json_integer_value(json_object_get(st, "init_process_pid"));
    json_int_t start = json_integer_value(json_object_get(st, "init_process_start"));
    int rc = 0;
    /* The state of a container that died with its runtime (a crash, a
     * reboot without cleanup) may name a pid reused since by some other
     * process; its start time tells them apart, as runc itself checks. */
    long long now = pid > 0 ? vg__proc_starttime(s, (pid_t)pid) : -1;
    if (now >= 0 && start > 0 && now != start)
        pid = 0;
    if (pid > 0) {
        vg_workload *w = vg__scan_get(s, id, runtime);
        if (!w) {
            json_decref(st);
            return -ENOMEM;
        }
        w->pid = (pid_t)pid;
        if (!w->started_ns)
            w->started_ns = vg__rfc3339_ns(vg__json_str(st, "created"));
        const char *bundle = bundle_of(st);
        if (bundle)
            rc = read_bundle(s, w, bundle);
    }
    json_decref(st);
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
