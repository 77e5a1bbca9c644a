/*
 * What the threat detectors (plugins/net/threat/) cost: `vigil-scan pcap`
 * on one capture merged from the Zeek corpus, with every detector on, with
 * NeuVector's default set, and with all off (the engine alone: what a user
 * without the detectors pays), side by side in one run.
 *
 *   bench_net_threat [CORPUS_DIR [COPIES [ROUNDS]]]
 *
 * CORPUS_DIR defaults to $VIGIL_SRC/../shared/corpus/pcap. Every packet of
 * every capture there is stripped to raw IP and written COPIES times (300)
 * into one pcap, each copy with its addresses moved (so that its flows are
 * new) and its clock shifted by an hour; vigil-scan (next to this program's directory)
 * reads it ROUNDS times (5) per configuration, alternating; the best round
 * counts. Prints packets per second, CPU seconds and the cost of the
 * detectors over the engine alone (aim: at most 20 %). VG_BENCH_KEEP=1
 * keeps the capture (e.g. for farm-bench --vs).
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PKTS 200000

typedef struct pkt {
    uint64_t ts;
    uint32_t len;
    uint8_t *data;
} pkt;

static pkt pkts[MAX_PKTS];
static size_t npkts;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Where IP starts in a frame of link type dlt, or -1. */
static int ip_offset(int dlt, const uint8_t *p, uint32_t n)
{
    uint32_t off;
    switch (dlt) {
    case DLT_EN10MB:
        off = 12;
        while (off + 2 <= n && (p[off] == 0x81 || p[off] == 0x88) &&
               (p[off + 1] == 0x00 || p[off + 1] == 0xa8))
            off += 4;
        off += 2;
        break;
    case DLT_NULL:
    case DLT_LOOP:
        off = 4;
        break;
    case DLT_LINUX_SLL:
        off = 16;
        break;
    case DLT_RAW:
        off = 0;
        break;
    default:
        return -1;
    }
    if (off >= n || ((p[off] >> 4) != 4 && (p[off] >> 4) != 6))
        return -1;
    return (int)off;
}

static int add_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    size_t l = strlen(path);
    if (type != FTW_F || l < 5 || strcmp(path + l - 5, ".pcap"))
        return 0;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p)
        return 0;
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (npkts < MAX_PKTS && pcap_next_ex(p, &h, &d) == 1) {
        int off = ip_offset(dlt, d, h->caplen);
        if (off < 0)
            continue;
        pkt *k = &pkts[npkts++];
        k->ts = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
        k->len = h->caplen - (uint32_t)off;
        k->data = malloc(k->len);
        if (!k->data)
            exit(2);
        memcpy(k->data, d + off, k->len);
    }
    pcap_close(p);
    return 0;
}

/* COPIES copies, one after the other in time, addresses moved per copy. */
static uint64_t write_merged(const char *out, int copies)
{
    pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
    pcap_dumper_t *dp = pcap_dump_open(dead, out);
    if (!dp) {
        fprintf(stderr, "bench_net_threat: %s\n", pcap_geterr(dead));
        exit(2);
    }
    uint64_t written = 0, clock = 1700000000000000ull;
    uint8_t buf[65536];
    for (int c = 0; c < copies; c++) {
        uint64_t first = npkts ? pkts[0].ts : 0;
        for (size_t i = 0; i < npkts; i++) {
            pkt *k = &pkts[i];
            memcpy(buf, k->data, k->len);
            if ((buf[0] >> 4) == 4 && k->len >= 20) {
                buf[13] ^= (uint8_t)c; /* source and destination: 2nd, 3rd octet */
                buf[17] ^= (uint8_t)c;
                buf[14] ^= (uint8_t)(c >> 8);
                buf[18] ^= (uint8_t)(c >> 8);
            } else if (k->len >= 40) {
                buf[9] ^= (uint8_t)c;
                buf[25] ^= (uint8_t)c;
                buf[10] ^= (uint8_t)(c >> 8);
                buf[26] ^= (uint8_t)(c >> 8);
            }
            /* each file's own clock is kept in order within the copy */
            uint64_t ts = clock + (k->ts > first ? (k->ts - first) % 3600000000ull : 0);
            struct pcap_pkthdr h = {.caplen = k->len, .len = k->len};
            h.ts.tv_sec = (time_t)(ts / 1000000);
            h.ts.tv_usec = (suseconds_t)(ts % 1000000);
            pcap_dump((u_char *)dp, &h, buf);
            written++;
        }
        clock += 3600000000ull;
    }
    pcap_dump_close(dp);
    pcap_close(dead);
    return written;
}

/* One run of vigil-scan; wall seconds, CPU seconds in *cpu. */
static double run(const char *scan, const char *threats, const char *file, double *cpu)
{
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execl(scan, scan, "pcap", "--quiet", "--threats", threats, file, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    double t = now() - t0;
    getrusage(RUSAGE_CHILDREN, &after);
    if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
        fprintf(stderr, "bench_net_threat: %s failed (status %d)\n", scan, st);
        exit(2);
    }
    *cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
           (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
           (double)(after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
           (double)(after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
    return t;
}

int main(int argc, char **argv)
{
    char corpus[PATH_MAX], scan[PATH_MAX + 16], self[PATH_MAX], file[PATH_MAX];
    const char *src = getenv("VIGIL_SRC");
    if (argc > 1)
        snprintf(corpus, sizeof(corpus), "%s", argv[1]);
    else
        snprintf(corpus, sizeof(corpus), "%s/../shared/corpus/pcap", src ? src : ".");
    int copies = argc > 2 ? atoi(argv[2]) : 300, rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (copies < 1 || copies > 65535 || rounds < 1) {
        fprintf(stderr, "usage: bench_net_threat [CORPUS_DIR [COPIES(1-65535) [ROUNDS]]]\n");
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0)
        return 2;
    self[n] = 0;
    *strrchr(self, '/') = 0;
    snprintf(scan, sizeof(scan), "%s/../vigil-scan", self);
    if (nftw(corpus, add_file, 16, FTW_PHYS) < 0 || !npkts) {
        fprintf(stderr, "bench_net_threat: no captures in %s\n", corpus);
        return 2;
    }
    snprintf(file, sizeof(file), "%s/vg-bench-threat-%d.pcap",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    uint64_t total = write_merged(file, copies);
    printf("merged capture: %zu packets of the corpus x %d copies = %llu packets\n", npkts, copies,
           (unsigned long long)total);
    fflush(stdout); /* before the children inherit the buffer */
    static const char *const conf[] = {"none", "default", "all"};
    double best[3] = {1e9, 1e9, 1e9}, cpu_best[3] = {1e9, 1e9, 1e9};
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < 3; c++) {
            double cpu, t = run(scan, conf[c], file, &cpu);
            if (t < best[c])
                best[c] = t;
            if (cpu < cpu_best[c])
                cpu_best[c] = cpu;
        }
    if (getenv("VG_BENCH_KEEP"))
        printf("capture kept: %s\n", file);
    else
        unlink(file);
    printf("%-28s %12s %10s %8s\n", "vigil-scan pcap --threats", "packets/s", "cpu s", "cost");
    for (int c = 0; c < 3; c++)
        printf("%-28s %12.0f %10.3f %7.1f%%\n", conf[c], (double)total / best[c], cpu_best[c],
               (cpu_best[c] / cpu_best[0] - 1) * 100);
    printf("detectors all on cost %.1f%% of CPU over the engine alone (aim: <= 20%%)\n",
           (cpu_best[2] / cpu_best[0] - 1) * 100);
    return 0;
}
