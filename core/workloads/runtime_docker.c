/*
 * Docker's container store: /var/lib/docker/containers/<id>/config.v2.json
 * holds the name ("/web-1"), Config.Image, Config.Labels and the State
 * (Running, Pid, StartedAt). Stopped containers are skipped: a workload is
 * something with processes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>

#include "runtime.h"

static int read_config(vg__scan *s, const char *dir, const char *id)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s/config.v2.json", dir, id) >= (int)sizeof(path))
        return 0;
    json_t *c = vg__json_load(path);
    if (!c)
        return 0;
    const json_t *state = json_object_get(c, "State");
    json_int_t pid = json_integer_value(json_object_get(state, "Pid"));
    int rc = 0;
    if (json_is_true(json_object_get(state, "Running")) && pid > 0) {
        vg_workload *w = vg__scan_get(s, id, VG_RT_DOCKER);
        const json_t *config = json_object_get(c, "Config");
        const char *name = vg__json_str(c, "Name");
        const char *image = vg__json_str(config, "Image");
        if (!w) {
            rc = -ENOMEM;
        } else {
            w->runtime = VG_RT_DOCKER;
            w->pid = w->pid ? w->pid : (pid_t)pid;
            w->started_ns = vg__rfc3339_ns(vg__json_str(state, "StartedAt"));
            if (name)
                rc |= vg_workload_set(&w->name, name[0] == '/' ? name + 1 : name);
            if (image)
                rc |= vg_workload_set(&w->image, image);
            rc |= vg__json_labels(w, json_object_get(config, "Labels"));
        }
    }
    json_decref(c);
    return rc ? -ENOMEM : 0;
}

int vg__read_docker(vg__scan *s)
{
    char dir[4096];
    if (vg__path(s, dir, sizeof(dir), "/var/lib/docker/containers") < 0)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));)
        if (de->d_name[0] != '.')
            rc = read_config(s, dir, de->d_name);
    closedir(d);
    return rc;
}
