/*
 * What the kern plugin's BPF programs cost the rest of the host: the same
 * work timed with the programs attached and detached, alternated in short
 * rounds in one process (the programs stay loaded), so that a busy machine
 * shifts both sides alike. The work: an exec loop (fork+exec of /bin/true),
 * a file-heavy loop (tar of a tree of small files into a directory of
 * /tmp, piped into a second tar), and single calls: getppid (turned away
 * at the first comparison), an open for reading (turned away at the
 * flags), an open for writing in /tmp (its path read and compared). The
 * ring buffer is drained between rounds. Needs root (CAP_BPF, CAP_PERFMON).
 *
 *   bench_kern_bpf [ROUNDS] [EXECS] [FILES]     (default 11 300 2000)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpfsrc.h"
#include "kern_event.h"
#include "bench_median.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double exec_loop(int n)
{
    double a = now_ns();
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        waitpid(c, NULL, 0);
    }
    return (now_ns() - a) / n;
}

static char tree[64], out[64];

static double tar_loop(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s && tar -C %s -cf - . | tar -C %s -xf -", out,
             out, tree, out);
    double a = now_ns();
    if (system(cmd) != 0)
        fprintf(stderr, "tar failed\n");
    return (now_ns() - a) / 1e6;
}

static double call_loop(int what, int n)
{
    char tmp[] = "/tmp/vg-bench-kern-bpf.XXXXXX";
    int fd = mkstemp(tmp);
    if (fd >= 0)
        close(fd);
    double a = now_ns();
    for (int i = 0; i < n; i++) {
        if (what == 0) {
            syscall(SYS_getppid);
            continue;
        }
        fd = what == 1 ? open("/etc/hostname", O_RDONLY) : open(tmp, O_WRONLY | O_CREAT, 0600);
        if (fd >= 0)
            close(fd);
    }
    double ns = (now_ns() - a) / n;
    unlink(tmp);
    return ns;
}

static void make_tree(int files)
{
    snprintf(tree, sizeof(tree), "/tmp/vg-bench-kern-tree.%d", (int)getpid());
    snprintf(out, sizeof(out), "/tmp/vg-bench-kern-out.%d", (int)getpid());
    mkdir(tree, 0700);
    char p[128];
    for (int d = 0; d < 20; d++) {
        snprintf(p, sizeof(p), "%s/d%d", tree, d);
        mkdir(p, 0700);
        for (int f = 0; f < files / 20; f++) {
            snprintf(p, sizeof(p), "%s/d%d/f%d", tree, d, f);
            FILE *fp = fopen(p, "w");
            if (fp) {
                fprintf(fp, "file %d %d\n", d, f);
                fclose(fp);
            }
        }
    }
}

static void drop(void *arg, const struct ke_record *r)
{
    (void)r;
    ++*(long *)arg;
}

#define KINDS 5
static const char *const names[KINDS] = {"exec (ns per fork+exec)", "tar (ms)", "getppid (ns)",
                                         "open for reading (ns)", "open for writing, /tmp (ns)"};

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 11, execs = argc > 2 ? atoi(argv[2]) : 300;
    int files = argc > 3 ? atoi(argv[3]) : 2000;
    if (rounds < 1 || execs < 1 || files < 20)
        return 2;
    kb_source *k;
    const char *why = "";
    int rc = kb_open(getpid() + 1, &k, &why); /* not ourselves: we are the host */
    if (rc < 0) {
        fprintf(stderr, "bench_kern_bpf: BPF %s: %s (needs root and a kernel with BTF)\n", why,
                strerror(-rc));
        return 0; /* nothing to measure here, not a failure of the bench run */
    }
    make_tree(files);
    double *v[2][KINDS];
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < KINDS; i++)
            v[s][i] = calloc((size_t)rounds, sizeof(double));
    long records = 0;
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < 2; s++) {
            int on = (r + s) % 2; /* which side goes first alternates */
            kb_attach(k, on);
            v[on][0][r] = exec_loop(execs);
            v[on][1][r] = tar_loop();
            v[on][2][r] = call_loop(0, 200000);
            v[on][3][r] = call_loop(1, 50000);
            v[on][4][r] = call_loop(2, 50000);
            kb_consume(k, drop, &records);
        }
    }
    printf("kern BPF programs attached vs detached, medians of %d alternated rounds "
           "(%d execs, %d files; %ld records, %llu lost):\n",
           rounds, execs, files, records, (unsigned long long)kb_lost(k));
    for (int i = 0; i < KINDS; i++) {
        double off = bench_median(v[0][i], rounds), on = bench_median(v[1][i], rounds);
        printf("  %-30s detached %10.0f  attached %10.0f  %+8.0f  (%.2fx)\n", names[i], off, on,
               on - off, off > 0 ? on / off : 0);
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", tree, out);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    kb_close(k);
    return 0;
}
