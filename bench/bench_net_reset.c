/*
 * What one protect-mode reset costs (plugins/net/reset.c), against what an
 * operator would otherwise run, `ss -K` of iproute2 with the same filter,
 * in the same run: a threat's reset knows the connection's four ends and
 * destroys it by id ("exact"); a denied application's reset knows the peer
 * and port only and lists the sockets first ("dump", which walks the
 * kernel's TCP hash table, shared by every namespace). Each with B idle
 * connections beside the one reset. Runs in a network namespace of its own
 * (root; loopback only).
 *
 *   bench_net_reset [ROUNDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "bench_median.h"

#define PORT 7311
#define IDLE_PORT 7312

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int listener(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 65535) < 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

/* A connection to port (it waits in the listener's queue); its local port. */
static int dial(int port, uint16_t *sport)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("connect");
        exit(1);
    }
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *sport = ntohs(a.sin_port);
    return fd;
}

/* One reset by reset.c (exact: by the four ends); its time in us. */
static double one_vigil(int lfd, int exact)
{
    uint16_t sport;
    int fd = dial(PORT, &sport);
    net_reset_conn c = {.family = AF_INET,
                        .has_remote = 1,
                        .has_local = exact,
                        .remote_port = PORT,
                        .local_port = sport};
    inet_pton(AF_INET, "127.0.0.1", c.remote);
    inet_pton(AF_INET, "127.0.0.1", c.local);
    double t0 = now_us();
    int n = net_reset_tcp(-1, &c);
    double t = now_us() - t0;
    if (n != 1) {
        fprintf(stderr, "reset.c destroyed %d sockets, not 1\n", n);
        exit(1);
    }
    close(fd);
    int a = accept(lfd, NULL, NULL); /* the server's end, reset by the RST */
    if (a >= 0)
        close(a);
    return t;
}

/* The same with `ss -K`. */
static double one_ss(int lfd)
{
    uint16_t sport;
    int fd = dial(PORT, &sport);
    char cmd[200];
    snprintf(cmd, sizeof(cmd),
             "ss -K -t state established dst 127.0.0.1 dport = :%d sport = :%d >/dev/null", PORT,
             sport);
    double t0 = now_us();
    int rc = system(cmd);
    double t = now_us() - t0;
    char probe;
    if (rc != 0 || recv(fd, &probe, 1, MSG_DONTWAIT) != -1 || errno != ECONNABORTED) {
        fprintf(stderr, "ss -K did not abort the socket (rc %d, %s)\n", rc, strerror(errno));
        exit(1);
    }
    close(fd);
    int a = accept(lfd, NULL, NULL);
    if (a >= 0)
        close(a);
    return t;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    if (rounds < 3)
        rounds = 3;
    if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0) {
        fprintf(stderr, "needs root (a network namespace of its own): %s\n", strerror(errno));
        return 1;
    }
    struct rlimit rl = {.rlim_cur = 65536, .rlim_max = 65536};
    setrlimit(RLIMIT_NOFILE, &rl);
    int lfd = listener(PORT), idle_l = listener(IDLE_PORT);
    double *v = calloc((size_t)rounds, sizeof(*v)), *s = calloc((size_t)rounds, sizeof(*s)),
           *d = calloc((size_t)rounds, sizeof(*d));
    static const int idle[] = {0, 1000, 4000};
    int have = 0;
    printf("bench_net_reset: one connection reset, %d rounds each (median)\n", rounds);
    printf("%-18s %12s %12s %12s %14s\n", "idle connections", "exact us", "dump us", "ss -K us",
           "ss -K / exact");
    for (size_t k = 0; k < sizeof(idle) / sizeof(idle[0]); k++) {
        for (; have < idle[k]; have++) { /* each also has its queued server end */
            uint16_t sport;
            dial(IDLE_PORT, &sport);
        }
        /* Dumps and ss take milliseconds: fewer rounds keep the run short. */
        int srounds = rounds < 30 ? rounds : 30;
        for (int i = 0; i < rounds; i++)
            v[i] = one_vigil(lfd, 1);
        for (int i = 0; i < srounds; i++) {
            d[i] = one_vigil(lfd, 0);
            s[i] = one_ss(lfd);
        }
        double mv = bench_median(v, rounds), md = bench_median(d, srounds),
               ms = bench_median(s, srounds);
        printf("%-18d %12.1f %12.1f %12.1f %13.0fx\n", idle[k], mv, md, ms, ms / mv);
    }
    free(v);
    free(s);
    free(d);
    (void)idle_l;
    return 0;
}
