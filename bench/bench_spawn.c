/*
 * Spawns N short processes (/bin/true) as fast as one core can, keeping up
 * to 64 alive at once, and prints the rate. Used by bench_proc.sh to load
 * the proc plugin; on its own it is the baseline (no daemon watching).
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000;
    char *args[] = {"true", NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long started = 0, alive = 0;
    while (started < n || alive > 0) {
        if (started < n && alive < 64) {
            pid_t pid;
            if (posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ) == 0) {
                alive++;
                started++;
                continue;
            }
        }
        if (wait(NULL) > 0)
            alive--;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("spawned %ld processes at %.0f /s\n", n, n / s);
    return 0;
}
