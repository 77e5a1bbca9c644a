/*
 * Figures for the CIS check engine: a host run plus a containers run over N
 * containers (default 100) on a fixture root made here, then the same over
 * this machine's real root. Prints wall time, the Lua state's peak and the
 * growth of the process's peak RSS. Not a timed test: `make bench` runs it.
 *
 *   bench_cis_run [N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cis.h"

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int put(const char *path, const char *text)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fputs(text, f);
    fclose(f);
    return 0;
}

static int make_root(const char *root, int n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/etc/docker/daemon.json", root);
    int rc = put(path, "{\"icc\": false, \"live-restore\": true}");
    for (int i = 0; rc == 0 && i < n; i++) {
        char text[512];
        snprintf(path, sizeof(path), "%s/run/runc/c%03d/state.json", root, i);
        snprintf(text, sizeof(text), "{\"config\":{\"labels\":[\"bundle=/bundles/c%03d\"]}}", i);
        rc = put(path, text);
        snprintf(path, sizeof(path), "%s/bundles/c%03d/config.json", root, i);
        if (rc == 0)
            rc = put(path, "{\"process\":{\"user\":{\"uid\":0},\"args\":[\"/app\"],"
                           "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_RAW\"]}},"
                           "\"root\":{\"path\":\"rootfs\"},\"mounts\":[],\"linux\":{\"namespaces\":"
                           "[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"mount\"}]}}");
    }
    return rc;
}

static void one(const char *what, const cis_opts *o)
{
    long rss0 = max_rss_kb();
    cis_report *rep = NULL;
    char err[256];
    if (cis_run(o, &rep, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", what, err);
        exit(1);
    }
    printf("%-28s %4zu results  %7.1f ms  Lua peak %5.2f MB  RSS +%ld KB  (%zu WARN, %zu ERROR)\n",
           what, rep->n, rep->seconds * 1000, rep->lua_peak / 1048576.0, max_rss_kb() - rss0,
           rep->counts[CIS_WARN], rep->counts[CIS_ERROR]);
    cis_report_free(rep);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    char root[] = "/tmp/vigil-bench-run-XXXXXX";
    if (!mkdtemp(root) || make_root(root, n) < 0) {
        perror("fixture");
        return 1;
    }
    const char *lua_dir = cis_shipped_dir(true);
    cis_opts o = {.root = root, .lua_dir = lua_dir, .targets = CIS_HOST | CIS_CONTAINERS};
    char label[64];
    snprintf(label, sizeof(label), "fixture: host + %d containers", n);
    one(label, &o);
    o.root = "/";
    o.targets = CIS_ALL;
    one("this machine: all targets", &o);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : 1;
}
