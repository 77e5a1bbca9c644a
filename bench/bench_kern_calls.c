/*
 * System calls as the kern plugin's sources see them: what one getppid (a
 * call the BPF program turns away at its first comparison), one open and
 * close of a file for reading (turned away after the flags), one for
 * writing in /tmp (its path read and compared) and one read of /etc/shadow
 * (a sensitive file: a permission event the plugin answers) take, in ns.
 * Alone it prints the figures of this host as it is; bench/bench_kern.sh
 * runs it without a daemon and with the kern plugin, alternated, and
 * prints the differences.
 *
 *   bench_kern_calls [N]   (default 200000; /etc/shadow: N/20)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double per_open(const char *path, int flags, long n)
{
    double a = now_ns();
    for (long i = 0; i < n; i++) {
        int fd = open(path, flags, 0600);
        if (fd >= 0)
            close(fd);
    }
    return (now_ns() - a) / (double)n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    if (n < 20)
        n = 20;
    double a = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    double getppid_ns = (now_ns() - a) / (double)n;
    char tmp[] = "/tmp/vg-bench-kern.XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    close(fd);
    double read_ns = per_open("/etc/hostname", O_RDONLY, n);
    double write_ns = per_open(tmp, O_WRONLY | O_CREAT, n);
    double shadow_ns = per_open("/etc/shadow", O_RDONLY, n / 20);
    unlink(tmp);
    printf("getppid_ns=%.0f open_read_ns=%.0f open_write_tmp_ns=%.0f open_shadow_ns=%.0f\n",
           getppid_ns, read_ns, write_ns, shadow_ns);
    return 0;
}
