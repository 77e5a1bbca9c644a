/*
 * Fixture trees for workload discovery (shared by tests/unit/test_workloads.c
 * and bench/bench_workloads.c): files laid out under a temporary root
 * exactly where, and in the format in which, the runtimes write them on a
 * real host. Discovery then runs with discovery_root = that root.
 */
#ifndef WL_FIXTURE_H
#define WL_FIXTURE_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int fx_mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Writes <root>/<rel> (rel formatted), creating its directories. */
static inline int fx_write(const char *root, const char *content, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int fx_write(const char *root, const char *content, const char *fmt, ...)
{
    char rel[2048], path[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof(rel), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (fx_mkdirs(path) < 0)
        return -1;
    *slash = '/';
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(content, f);
    return fclose(f);
}

/* A process: /proc/<pid>/stat and cgroup, and ns/{net,mnt,pid} as plain files whose
 * inodes stand in for the namespace inodes. netns_of shares the network
 * namespace file of another pid (a pod's containers), 0 for its own. */
static inline int fx_proc(const char *root, int pid, const char *cgroup, int netns_of)
{
    char path[4096], target[4096];
    char stat[256];
    /* start time (field 22) 12345, as fx_runc_state records it */
    snprintf(stat, sizeof(stat),
             "%d (sleep) S 1 %d %d 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 2342912 100\n",
             pid, pid, pid);
    if (fx_write(root, stat, "/proc/%d/stat", pid) < 0 ||
        fx_write(root, cgroup, "/proc/%d/cgroup", pid) < 0 ||
        fx_write(root, "", "/proc/%d/ns/mnt", pid) < 0 ||
        fx_write(root, "", "/proc/%d/ns/pid", pid) < 0)
        return -1;
    if (!netns_of)
        return fx_write(root, "", "/proc/%d/ns/net", pid);
    snprintf(target, sizeof(target), "%s/proc/%d/ns/net", root, netns_of);
    snprintf(path, sizeof(path), "%s/proc/%d/ns/net", root, pid);
    return link(target, path);
}

/* runc's state.json under <root><runc_root>/<id>/, naming its bundle. */
static inline int fx_runc_state(const char *root, const char *runc_root, const char *id, int pid,
                                const char *bundle)
{
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"id\":\"%s\",\"init_process_pid\":%d,\"init_process_start\":12345,"
             "\"created\":\"2024-05-01T12:00:00.123456789Z\",\"config\":{\"rootfs\":\"%s/rootfs\","
             "\"labels\":[\"bundle=%s\"],\"cgroups\":{\"path\":\"/%s\"}},\"rootless\":false,"
             "\"cgroup_paths\":{},\"namespace_paths\":{},\"external_descriptors\":[]}",
             id, pid, bundle, bundle, id);
    return fx_write(root, json, "%s/%s/state.json", runc_root, id);
}

/* An OCI bundle's config.json with the given annotations (a JSON object). */
static inline int fx_bundle(const char *root, const char *bundle, const char *annotations)
{
    char json[8192];
    snprintf(json, sizeof(json),
             "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"/bin/sh\"],\"cwd\":\"/\"},"
             "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"x\",\"annotations\":%s}",
             annotations);
    return fx_write(root, json, "%s/config.json", bundle);
}

/* Docker's config.v2.json. */
static inline int fx_docker(const char *root, const char *id, const char *name, const char *image,
                            const char *labels, int pid, int running)
{
    char json[8192];
    snprintf(json, sizeof(json),
             "{\"StreamConfig\":{},\"State\":{\"Running\":%s,\"Paused\":false,\"Pid\":%d,"
             "\"ExitCode\":0,\"StartedAt\":\"2024-05-01T12:00:00.5Z\"},\"ID\":\"%s\","
             "\"Created\":\"2024-05-01T11:59:59Z\",\"Path\":\"nginx\",\"Args\":[],"
             "\"Config\":{\"Hostname\":\"%.12s\",\"Image\":\"%s\",\"Labels\":%s},"
             "\"Image\":\"sha256:0123\",\"Name\":\"/%s\",\"Driver\":\"overlay2\"}",
             running ? "true" : "false", pid, id, id, image, labels, name);
    return fx_write(root, json, "/var/lib/docker/containers/%s/config.v2.json", id);
}

/* A 64-hex-digit container id, distinct for each seed (its first 8 digits). */
static inline void fx_id(char out[65], unsigned seed)
{
    snprintf(out, 9, "%08x", seed);
    for (int i = 8; i < 64; i++)
        out[i] = "0123456789abcdef"[(seed * 2654435761u + (unsigned)i * 40503u) >> (i % 8) & 15];
    out[64] = '\0';
}

static inline int fx_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static inline void fx_rmtree(const char *root)
{
    nftw(root, fx_rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

#endif
