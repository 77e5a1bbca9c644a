/*
 * Workload registry and discovery figures (issue #4):
 *   - lookup rate by pid, cgroup and netns (aim: 10 million/s), from one
 *     thread and from two; baseline: the bare hash map probe on the same
 *     keys without the lock and the copy-out;
 *   - full discovery time with 200 fixture containers (aim: < 200 ms), cold
 *     (empty registry) and steady (nothing changed); baseline: reading each
 *     file the scan reads once, without parsing;
 *   - memory per workload (heap growth / workloads); baseline: the size of
 *     the record struct alone.
 * `bench_workloads --host [SCANS]` instead rescans this host's real /proc,
 * cgroups and runtime state (root, read-only) and prints the CPU time of a
 * steady rescan (what the daemon spends every second at rest); baseline:
 * reading every process's cgroup file once, what a rescan used to do.
 * The fixture tree is in each runtime's real on-disk format (see
 * tests/unit/wl_fixture.h): 100 Docker, 50 containerd with CRI annotations,
 * 50 plain runc containers, two processes each, plus 200 host processes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/wl_fixture.h"
#include "discovery.h"
#include "groups.h"
#include "hmap.h"
#include "store.h"
#include "workloads.h"

#define NCONT 200
#define LOOKUPS 10000000
#define SCANS 20

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char root[64];
static pid_t pids[NCONT * 2];
static char cgroups[NCONT][512];

static void build(void)
{
    char id[65], cg[512], bundle[512], ann[1024], name[64];
    for (int i = 0; i < 200; i++)
        fx_proc(root, 100 + i, "0::/user.slice/user-0.slice/session-1.scope\n", 0);
    for (int i = 0; i < NCONT; i++) {
        int pid = 10000 + i * 10;
        fx_id(id, (unsigned)i + 1000);
        if (i < 100) {
            snprintf(name, sizeof(name), "svc%d-web-%d", i / 4, i % 4 + 1);
            fx_docker(root, id, name, "nginx:1.25", "{\"app\":\"web\",\"tier\":\"front\"}", pid, 1);
            snprintf(cg, sizeof(cg), "/system.slice/docker-%s.scope", id);
        } else if (i < 150) {
            snprintf(bundle, sizeof(bundle),
                     "/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s", id);
            fx_runc_state(root, "/run/containerd/runc/k8s.io", id, pid, bundle);
            snprintf(
                ann, sizeof(ann),
                "{\"io.kubernetes.cri.container-name\":\"api\",\"io.kubernetes.cri.sandbox-name\":"
                "\"api%d-7d9f8b6c5d-x2k4q\",\"io.kubernetes.cri.sandbox-namespace\":\"prod\","
                "\"io.kubernetes.cri.image-name\":\"registry/api:2\"}",
                i % 10);
            fx_bundle(root, bundle, ann);
            snprintf(cg, sizeof(cg), "/kubepods/burstable/pod%d/%s", i, id);
        } else {
            snprintf(name, sizeof(name), "batch-%d", i);
            snprintf(bundle, sizeof(bundle), "/srv/%s", name);
            fx_runc_state(root, "/run/runc", name, pid, bundle);
            fx_bundle(root, bundle, "{}");
            snprintf(cg, sizeof(cg), "/%s", name);
        }
        snprintf(cgroups[i], sizeof(cgroups[i]), "%s", cg);
        char line[600];
        snprintf(line, sizeof(line), "0::%s\n", cg);
        fx_proc(root, pid, line, 0);
        fx_proc(root, pid + 1, line, pid);
        pids[2 * i] = pid;
        pids[2 * i + 1] = pid + 1;
    }
}

/* Reads every file a scan reads, once: the I/O floor of a scan. */
static size_t read_tree(const char *dir)
{
    size_t bytes = 0;
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "state") == 0)
            continue; /* dot files and the store are not read by a scan */
        char path[4096], buf[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) {
            bytes += read_tree(path);
            continue;
        }
        if (strstr(path, "/ns/"))
            continue;
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : 0;
        bytes += n > 0 ? (size_t)n : 0;
        if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
    return bytes;
}

static vg_workloads *reg;
static volatile uint64_t sink;

static void *lookup_thread(void *arg)
{
    vg_workload_info info;
    uint64_t hits = 0;
    for (int i = 0; i < LOOKUPS; i++)
        hits += vg_workloads_lookup_pid(reg, pids[i % (NCONT * 2)], &info) == 0;
    sink += hits;
    return NULL;
}

static void bench_lookups(void)
{
    vg_hmap m;
    vg_hmap_init(&m, false);
    for (int i = 0; i < NCONT * 2; i++)
        vg_hmap_put_u64(&m, (uint64_t)pids[i], &m);
    double t0 = now();
    uint64_t hits = 0;
    for (int i = 0; i < LOOKUPS; i++)
        hits += vg_hmap_get_u64(&m, (uint64_t)pids[i % (NCONT * 2)]) != NULL;
    double base = LOOKUPS / (now() - t0);
    sink += hits;
    vg_hmap_free(&m);

    vg_workload_info info;
    for (int i = 0; i < NCONT * 2; i++) /* the first lookup of each pid reads /proc */
        vg_workloads_lookup_pid(reg, pids[i], &info);
    t0 = now();
    lookup_thread(NULL);
    double by_pid = LOOKUPS / (now() - t0);
    t0 = now();
    hits = 0;
    for (int i = 0; i < LOOKUPS; i++)
        hits += vg_workloads_lookup_cgroup(reg, cgroups[i % NCONT], &info) == 0;
    double by_cg = LOOKUPS / (now() - t0);
    sink += hits;
    pthread_t th[2];
    t0 = now();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, lookup_thread, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double two = 2.0 * LOOKUPS / (now() - t0);
    printf("lookups (%d workloads, %d pids):\n", NCONT, NCONT * 2);
    printf("  baseline hash probe     %6.1f M/s\n", base / 1e6);
    printf("  by pid, 1 thread        %6.1f M/s  (%.2fx baseline; aim 10 M/s)\n", by_pid / 1e6,
           by_pid / base);
    printf("  by cgroup, 1 thread     %6.1f M/s  (%.2fx baseline)\n", by_cg / 1e6, by_cg / base);
    printf("  by pid, 2 threads       %6.1f M/s  (%.2fx baseline)\n", two / 1e6, two / base);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every process's cgroup file read once. */
static size_t read_cgroups(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *de; d && (de = readdir(d));) {
        char path[300], buf[8192];
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            n += read(fd, buf, sizeof(buf)) > 0;
            close(fd);
        }
    }
    if (d)
        closedir(d);
    return n;
}

static int bench_host(int scans)
{
    snprintf(root, sizeof(root), "/tmp/vg-bench-wl-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    vg_store *st;
    vg_groups *groups;
    if (vg_store_open(root, NULL, &st) || vg_groups_new(st, VG_MODE_LEARN, &groups))
        return 1;
    vg_workloads_new("/proc", &reg);
    vg_discovery *disc;
    vg_discovery_opts o = {.root = "", .reg = reg, .groups = groups};
    vg_discovery_new(&o, &disc);
    vg_discovery_scan(disc);
    vg_discovery_scan(disc);
    double t0 = cpu_now();
    size_t procs = 0;
    for (int i = 0; i < scans; i++)
        procs = read_cgroups();
    double base = (cpu_now() - t0) / scans;
    t0 = cpu_now();
    for (int i = 0; i < scans; i++)
        vg_discovery_scan(disc);
    double scan = (cpu_now() - t0) / scans;
    printf("rescan of this host (%zu containers, %zu processes), CPU per rescan:\n",
           vg_workloads_count(reg), procs);
    printf("  baseline: read every process's cgroup  %7.1f us\n", base * 1e6);
    printf("  rescan, nothing changed                %7.1f us  (%.2fx baseline; %.1f ms per "
           "10 s at one rescan a second)\n",
           scan * 1e6, scan / base, scan * 1e4);
    vg_discovery_close(disc);
    vg_workloads_free(reg);
    vg_groups_free(groups);
    vg_store_close(st);
    fx_rmtree(root);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--host") == 0)
        return bench_host(argc > 2 ? atoi(argv[2]) : 200);
    snprintf(root, sizeof(root), "/tmp/vg-bench-wl-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    build();
    char dir[128], proc[128];
    snprintf(dir, sizeof(dir), "%s/state", root);
    snprintf(proc, sizeof(proc), "%s/proc", root);
    mkdir(dir, 0700);
    vg_store *st;
    vg_groups *groups;
    if (vg_store_open(dir, NULL, &st) || vg_groups_new(st, VG_MODE_LEARN, &groups))
        return 1;

    read_tree(root); /* warm the page and dentry caches for both */
    double t0 = now();
    size_t bytes = read_tree(root);
    double io = now() - t0;

    struct mallinfo2 m0 = mallinfo2();
    vg_workloads_new(proc, &reg);
    vg_discovery *disc;
    vg_discovery_opts o = {.root = root, .reg = reg, .groups = groups};
    vg_discovery_new(&o, &disc);
    t0 = now();
    vg_discovery_scan(disc);
    double cold = now() - t0;
    vg_store_commit(st, false); /* the new groups */
    struct mallinfo2 m1 = mallinfo2();
    size_t n = vg_workloads_count(reg);
    t0 = now();
    for (int i = 0; i < SCANS; i++)
        vg_discovery_scan(disc);
    double warm = (now() - t0) / SCANS;

    printf("discovery of %zu containers (%d processes):\n", n, NCONT * 2 + 200);
    printf("  baseline: read the files  %7.2f ms (%zu bytes)\n", io * 1e3, bytes);
    printf("  full scan, cold           %7.2f ms  (%.1fx baseline; aim < 200 ms)\n", cold * 1e3,
           cold / io);
    printf("  rescan, nothing changed   %7.2f ms  (%.1fx baseline)\n", warm * 1e3, warm / io);
    printf("memory per workload: %zu bytes (heap growth incl. indexes, groups and pid map; "
           "struct alone %zu bytes, %.1fx)\n",
           (size_t)(m1.uordblks - m0.uordblks) / (n ? n : 1), sizeof(vg_workload),
           (double)(m1.uordblks - m0.uordblks) / (double)(n ? n : 1) / sizeof(vg_workload));

    bench_lookups();

    vg_discovery_close(disc);
    vg_workloads_free(reg);
    vg_groups_free(groups);
    vg_store_close(st);
    fx_rmtree(root);
    return n == NCONT ? 0 : 1;
}
