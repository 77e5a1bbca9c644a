/*
 * Reading container identity from cgroup paths: which path of
 * /proc/<pid>/cgroup keys a process, and which runtime and container id a
 * path names. Pure functions, shared by discovery and the pid lookup.
 */
#ifndef VG_CGROUP_PATH_H
#define VG_CGROUP_PATH_H

#include <stddef.h>

/*
 * Parses the content of /proc/<pid>/cgroup (cgroup v1 and v2 lines,
 * "hierarchy:controllers:path") and copies into path the one path used as
 * the process's key: the v2 line ("0::/...") unless it is "/", else the
 * first of name=systemd, pids, memory, cpu, else the first line. Every
 * process is keyed the same way, so the processes of one container share a
 * key on v1, v2 and hybrid hosts. 0, -EINVAL (nothing parsable),
 * -ENAMETOOLONG.
 */
int vg_cgroup_key(const char *content, char *path, size_t size);

/*
 * Recognises the cgroup layouts of the runtimes from a path's last
 * component (and its parents for cgroupfs layouts):
 *   docker-<id>.scope, .../docker/<id>                      docker
 *   cri-containerd-<id>.scope                               containerd
 *   crio-<id>.scope, .../crio-<id>                          crio
 *   libpod-<id>.scope, .../libpod-<id>                      podman
 *   kubepods.../pod<uid>/<id>                               containerd
 * where <id> is 64 hex digits. Monitors (crio-conmon-, libpod-conmon-) and
 * anything else are not containers. Plain runc containers use any path;
 * discovery finds them from runc's state instead.
 * Returns the runtime (enum vg_runtime) and copies the id, or 0 (host).
 */
int vg_cgroup_classify(const char *path, char *id, size_t size);

#endif
