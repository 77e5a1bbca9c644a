/*
 * What finding a gone process's cgroup by its id costs (cgpath.c), on this
 * host's cgroup2 tree, against what the plugin does for a process still
 * there: reading /proc/<pid>/cgroup. Cold: the first lookup of an id, by
 * its file handle (what the daemon does), or by a walk of the tree (its
 * fallback without CAP_DAC_READ_SEARCH); warm: the remembered answer.
 * Prints the figures; no pass or fail.
 *   bench_cgpath [ROUNDS]
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgpath.h"

#define IDS_MAX 4096

static uint64_t ids[IDS_MAX];
static size_t nids;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Every cgroup directory's id (inode) below dir. */
static void collect(int dfd)
{
    DIR *d = fdopendir(dfd);
    struct dirent *e;
    while (d && (e = readdir(d)) && nids < IDS_MAX) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        ids[nids++] = e->d_ino;
        int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub >= 0)
            collect(sub);
    }
    if (d)
        closedir(d);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    cgpath *probe;
    if (cgpath_new("/proc/self/mountinfo", &probe) < 0) {
        fprintf(stderr, "no cgroup2 mount\n");
        return 1;
    }
    char root[512];
    snprintf(root, sizeof(root), "%s", cgpath_mount(probe));
    cgpath_free(probe);
    int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        perror(root);
        return 1;
    }
    collect(dfd);
    if (!nids) {
        fprintf(stderr, "no cgroups below %s\n", root);
        return 1;
    }
    char path[512];
    double handle = 0, walk = 0, warm = 0, proc = 0;
    size_t found = 0, n = 0;
    for (int r = 0; r < rounds; r++) {
        cgpath *c, *w;
        if (cgpath_new("/proc/self/mountinfo", &c) < 0 ||
            cgpath_new("/proc/self/mountinfo", &w) < 0)
            return 1;
        cgpath_walk_only(w);
        double t0 = now_us();
        for (size_t i = 0; i < nids; i++)
            found += cgpath_find(c, ids[i], path, sizeof(path)) == 0;
        double t1 = now_us();
        for (size_t i = 0; i < nids; i++)
            cgpath_find(c, ids[i], path, sizeof(path));
        double t2 = now_us();
        for (size_t i = 0; i < nids; i++)
            found += cgpath_find(w, ids[i], path, sizeof(path)) == 0;
        double t3 = now_us();
        handle += t1 - t0;
        warm += t2 - t1;
        walk += t3 - t2;
        cgpath_free(c);
        cgpath_free(w);
        char buf[4096];
        double t4 = now_us();
        for (size_t i = 0; i < nids; i++) {
            int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                ssize_t got = read(fd, buf, sizeof(buf));
                (void)got;
                close(fd);
            }
        }
        proc += now_us() - t4;
        n += nids;
    }
    printf("cgroup2 tree at %s: %zu cgroups, %d rounds, %zu of %zu found\n", root, nids, rounds,
           found, 2 * n);
    printf("  cgpath_find cold, by handle: %8.2f us per id\n", handle / n);
    printf("  cgpath_find cold, by a walk: %8.2f us per id\n", walk / n);
    printf("  cgpath_find warm (cached)  : %8.3f us per id\n", warm / n);
    printf("  /proc/self/cgroup read     : %8.2f us per read (what a live process costs)\n",
           proc / n);
    return 0;
}
