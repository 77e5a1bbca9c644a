/*
 * How fast the store takes learned rules, and how long a restart takes.
 *
 * Rule upserts ("group/proc/<n>" keys, 64-byte msgpack values) are timed
 * with 1, 100 and 1000 changes per commit, without and with an fsync per
 * commit; each row is compared with batch=1 of the same kind, measured in
 * the same run, since the machines are shared and absolute figures drift.
 * The restart figure is open + iterating 100k rules, with the file in the
 * page cache (the usual restart) and evicted from it (after a reboot).
 *
 *   bench_store [parent-dir]     (default $TMPDIR or /tmp; use a real disk)
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define VALUE_SIZE 64
#define RESTART_RULES 100000
#define KEYSPACE 100000
/* Each measurement stops at whichever comes first. */
#define RUN_SECONDS 1.5
#define RUN_MAX_OPS 1000000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
    exit(1);
}

/* A rule as the learner would store it, padded to exactly VALUE_SIZE. */
static size_t make_value(char *out, unsigned n)
{
    static const char path[] = "/usr/lib/some/long/path/to/a/binary/that/runs";
    for (size_t plen = 0; plen < sizeof(path); plen++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        msgpack_pack_str_with_body(&pk, "action", 6);
        msgpack_pack_str_with_body(&pk, "allow", 5);
        msgpack_pack_str_with_body(&pk, "path", 4);
        msgpack_pack_str_with_body(&pk, path, plen);
        msgpack_pack_str_with_body(&pk, "learned", 7);
        msgpack_pack_uint32(&pk, 1700000000u + n);
        size_t len = sb.size;
        if (len == VALUE_SIZE)
            memcpy(out, sb.data, len);
        msgpack_sbuffer_destroy(&sb);
        if (len == VALUE_SIZE)
            return len;
    }
    fprintf(stderr, "bench_store: cannot build a %d-byte value\n", VALUE_SIZE);
    exit(1);
}

static void put_rule(vg_store *st, unsigned n)
{
    char key[48], val[VALUE_SIZE];
    int klen = snprintf(key, sizeof(key), "group/proc/%u", n);
    size_t vlen = make_value(val, n);
    int rc = vg_store_put(st, "rules", key, (size_t)klen, val, vlen);
    if (rc)
        die("put", rc);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Upserts per second with `batch` changes per commit. */
static double upserts_per_sec(const char *dir, unsigned batch, bool durable)
{
    vg_store *st;
    int rc = vg_store_open(dir, NULL, &st);
    if (rc)
        die("open", rc);
    unsigned ops = 0;
    double t0 = now(), t;
    do {
        for (unsigned i = 0; i < batch; i++, ops++)
            put_rule(st, ops % KEYSPACE);
        if ((rc = vg_store_commit(st, durable)) != 0)
            die("commit", rc);
        t = now() - t0;
    } while (t < RUN_SECONDS && ops < RUN_MAX_OPS);
    vg_store_close(st);
    return ops / t;
}

/* Writes every key once, so that each timed run updates existing rules
 * rather than the first run paying for all the inserts. */
static void populate(const char *dir, unsigned n)
{
    vg_store *st;
    int rc = vg_store_open(dir, NULL, &st);
    if (rc)
        die("open", rc);
    for (unsigned i = 0; i < n; i++) {
        put_rule(st, i);
        if (i % 1000 == 999 && (rc = vg_store_commit(st, false)) != 0)
            die("commit", rc);
    }
    vg_store_close(st);
}

static void bench_upserts(const char *dir)
{
    static const unsigned batches[] = {1, 100, 1000};
    populate(dir, KEYSPACE);
    printf("rule upserts, %d-byte msgpack values, keys group/proc/<n>\n", VALUE_SIZE);
    printf("  %-8s %6s %14s %12s\n", "commit", "batch", "upserts/s", "vs batch=1");
    for (int durable = 0; durable <= 1; durable++) {
        double base = 0;
        for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
            double r = upserts_per_sec(dir, batches[i], durable);
            if (i == 0)
                base = r;
            printf("  %-8s %6u %14.0f %11.1fx\n", durable ? "fsync" : "nosync", batches[i], r,
                   r / base);
            fflush(stdout);
        }
    }
}

static int count_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    (*(uint64_t *)arg)++;
    return 0;
}

/* Evicts data.mdb from the page cache, as after a reboot. */
static void evict(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
}

static void restart_once(const char *dir, const char *label)
{
    vg_store *st;
    uint64_t n = 0;
    double t0 = now();
    int rc = vg_store_open(dir, NULL, &st);
    if (rc)
        die("open", rc);
    double t1 = now();
    if ((rc = vg_store_iter(st, "rules", NULL, 0, false, count_cb, &n)) != 0)
        die("iter", rc);
    double t2 = now();
    vg_store_close(st);
    if (n != RESTART_RULES) {
        fprintf(stderr, "bench_store: iterated %" PRIu64 " rules, wrote %d\n", n, RESTART_RULES);
        exit(1);
    }
    printf("  %-12s %10.2f %10.2f %12.2f %14.0f\n", label, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
           (t2 - t0) * 1e3, n / (t2 - t1));
}

static void bench_restart(const char *dir)
{
    vg_store *st;
    vg_store_stats stats;
    int rc;
    populate(dir, RESTART_RULES);
    if ((rc = vg_store_open(dir, NULL, &st)) != 0 || (rc = vg_store_stats_get(st, &stats)) != 0)
        die("stats", rc);
    vg_store_close(st);

    printf("\nrestart with %d rules (data.mdb %.1f MiB)\n", RESTART_RULES,
           stats.file_bytes / 1048576.0);
    printf("  %-12s %10s %10s %12s %14s\n", "page cache", "open ms", "iter ms", "total ms",
           "rules/s");
    restart_once(dir, "warm");
    evict(dir);
    restart_once(dir, "cold");
}

int main(int argc, char **argv)
{
    const char *parent = argc > 1 ? argv[1] : getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/vg-bench-store-XXXXXX", parent ? parent : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", errno);
    /* Map growth is reported at info level; it would break the table. */
    vg_log_set_level(VG_LOG_WARN);
    printf("store bench in %s\n\n", dir);

    char sub[1100];
    snprintf(sub, sizeof(sub), "%s/upserts", dir);
    if (mkdir(sub, 0700) != 0)
        die("mkdir", errno);
    bench_upserts(sub);
    snprintf(sub, sizeof(sub), "%s/restart", dir);
    if (mkdir(sub, 0700) != 0)
        die("mkdir", errno);
    bench_restart(sub);
    rm_tree(dir);
    return 0;
}
