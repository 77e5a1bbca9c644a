/*
 * The store against real LMDB files in temporary directories: what a caller
 * puts is what it gets back, across restarts, across kill -9, through map
 * growth and a full disk; and a store it must not touch (newer schema,
 * garbage) is refused with an error instead of a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <msgpack.h>

#include "store.h"

/* ---- helpers ------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int dir_setup(void **state)
{
    char tmpl[] = "/tmp/vg-store-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    return *state ? 0 : -1;
}

static int dir_teardown(void **state)
{
    /* The full-disk test mounts a tmpfs here; if it failed half-way, the
     * mount is still there. Elsewhere this fails harmlessly. */
    umount2(*state, MNT_DETACH);
    nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

static vg_store *open_ok(const char *dir, const vg_store_opts *opts)
{
    vg_store *st = NULL;
    assert_int_equal(vg_store_open(dir, opts, &st), 0);
    assert_non_null(st);
    return st;
}

static void put_str(vg_store *st, const char *table, const char *key, const char *val)
{
    assert_int_equal(vg_store_put(st, table, key, strlen(key), val, strlen(val)), 0);
}

/* Asserts that table/key holds exactly the string `want`. */
static void expect_str(vg_store *st, const char *table, const char *key, const char *want)
{
    void *val = NULL;
    size_t len = 0;
    assert_int_equal(vg_store_get(st, table, key, strlen(key), &val, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(val, want, len);
    free(val);
}

static void expect_absent(vg_store *st, const char *table, const char *key)
{
    void *val = NULL;
    size_t len = 0;
    assert_int_equal(vg_store_get(st, table, key, strlen(key), &val, &len), -ENOENT);
}

static void write_file(const char *dir, const char *name, const void *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
}

/* Collects what an iteration visits, as NUL-terminated keys. */
struct seen {
    char keys[64][16];
    size_t n;
    size_t stop_after; /* 0 = never */
    int fail_with;     /* returned on the first record when < 0 */
};

static int seen_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    struct seen *s = arg;
    if (s->fail_with)
        return s->fail_with;
    assert_true(klen < sizeof(s->keys[0]) && s->n < 64);
    memcpy(s->keys[s->n], key, klen);
    s->keys[s->n][klen] = '\0';
    s->n++;
    return s->stop_after && s->n == s->stop_after ? 1 : 0;
}

static struct seen iterate(vg_store *st, const char *table, const char *start, bool reverse)
{
    struct seen s = {.n = 0};
    assert_int_equal(
        vg_store_iter(st, table, start, start ? strlen(start) : 0, reverse, seen_cb, &s), 0);
    return s;
}

/* The keys visited, joined: "a,b,c". */
static const char *joined(const struct seen *s)
{
    static char out[1024];
    out[0] = '\0';
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, s->keys[i]);
    }
    return out;
}

static uint64_t be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* ---- tests -------------------------------------------------------------- */

static void test_put_get_del(void **state)
{
    vg_store *st = open_ok(*state, NULL);

    expect_absent(st, "rules", "web/proc/nginx");
    put_str(st, "rules", "web/proc/nginx", "allow");
    assert_true(vg_store_dirty(st));
    /* A read sees the queued change. */
    expect_str(st, "rules", "web/proc/nginx", "allow");
    put_str(st, "rules", "web/proc/nginx", "deny");
    put_str(st, "groups", "web", "learn");
    assert_int_equal(vg_store_commit(st, false), 0);
    assert_false(vg_store_dirty(st));
    expect_str(st, "rules", "web/proc/nginx", "deny");
    expect_str(st, "groups", "web", "learn");
    /* Same key, other table: tables are separate. */
    expect_absent(st, "groups", "web/proc/nginx");

    assert_int_equal(vg_store_del(st, "rules", "web/proc/nginx", 14), 0);
    expect_absent(st, "rules", "web/proc/nginx");
    /* Deleting what is not there is not an error. */
    assert_int_equal(vg_store_del(st, "rules", "nothing", 7), 0);
    assert_int_equal(vg_store_commit(st, true), 0);

    /* An empty value is a value. */
    assert_int_equal(vg_store_put(st, "rules", "empty", 5, NULL, 0), 0);
    expect_str(st, "rules", "empty", "");

    expect_absent(st, "never.written", "k");
    char big[600];
    memset(big, 'k', sizeof(big));
    assert_int_equal(vg_store_put(st, "rules", big, sizeof(big), "v", 1), -EINVAL);
    assert_int_equal(vg_store_put(st, "rules", "", 0, "v", 1), -EINVAL);
    assert_int_equal(vg_store_put(st, "", "k", 1, "v", 1), -EINVAL);
    char longname[80];
    memset(longname, 't', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(vg_store_put(st, longname, "k", 1, "v", 1), -EINVAL);
    vg_store_close(st);
}

/* What the daemon reads to let events wait for a batch (daemon.c) and to
 * commit anything else at once: whether only event records are queued. */
static void test_pending_kinds(void **state)
{
    vg_store *st = open_ok(*state, NULL);
    assert_int_equal(vg_store_pending(st), 0);
    assert_true(vg_store_only_events(st));
    for (uint64_t id = 1; id <= 3; id++)
        assert_int_equal(vg_store_append_event(st, id, "e", 1, false), 0);
    assert_int_equal(vg_store_pending(st), 3);
    assert_true(vg_store_only_events(st));
    put_str(st, "rules", "web/proc/nginx", "allow");
    assert_int_equal(vg_store_pending(st), 4);
    assert_false(vg_store_only_events(st));
    assert_int_equal(vg_store_commit(st, false), 0);
    assert_int_equal(vg_store_pending(st), 0);
    assert_true(vg_store_only_events(st));
    assert_int_equal(vg_store_append_event(st, 4, "e", 1, false), 0);
    assert_true(vg_store_only_events(st));
    vg_store_close(st);
}

static void test_persist_across_reopen(void **state)
{
    vg_store *st = open_ok(*state, NULL);
    put_str(st, "rules", "db/net/5432", "allow");
    put_str(st, "plugin.net.flows", "f1", "x");
    /* Not committed by hand: close commits what is queued. */
    vg_store_close(st);

    st = open_ok(*state, NULL);
    expect_str(st, "rules", "db/net/5432", "allow");
    expect_str(st, "plugin.net.flows", "f1", "x");
    vg_store_close(st);
}

static void test_survives_kill9(void **state)
{
    const char *dir = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vg_store *st = NULL;
        if (vg_store_open(dir, NULL, &st) != 0)
            _exit(2);
        vg_store_put(st, "rules", "acked", 5, "durable", 7);
        if (vg_store_commit(st, true) != 0)
            _exit(3);
        vg_store_put(st, "rules", "committed", 9, "nosync", 6);
        if (vg_store_commit(st, false) != 0)
            _exit(4);
        vg_store_put(st, "rules", "queued", 6, "lost", 4);
        raise(SIGKILL);
        _exit(5);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    vg_store *st = open_ok(dir, NULL);
    expect_str(st, "rules", "acked", "durable");
    expect_str(st, "rules", "committed", "nosync");
    expect_absent(st, "rules", "queued");
    /* The killed writer's reader slot must not stop us from writing. */
    put_str(st, "rules", "after", "restart");
    assert_int_equal(vg_store_commit(st, true), 0);
    vg_store_close(st);
}

static int count_events(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    uint64_t *ids = arg;
    assert_int_equal(klen, 8);
    ids[ids[0] + 1] = be64(key);
    ids[0]++;
    return 0;
}

static void test_events_trimmed(void **state)
{
    vg_store_opts opts = {.max_events = 10};
    vg_store *st = open_ok(*state, &opts);
    assert_int_equal(vg_store_last_event_id(st), 0);
    for (uint64_t id = 1; id <= 25; id++) {
        char rec[32];
        int n = snprintf(rec, sizeof(rec), "event %" PRIu64, id);
        assert_int_equal(vg_store_append_event(st, id, rec, (size_t)n, false), 0);
        assert_int_equal(vg_store_last_event_id(st), id);
        if (id % 7 == 0)
            assert_int_equal(vg_store_commit(st, false), 0);
    }
    assert_int_equal(vg_store_commit(st, false), 0);

    uint64_t ids[64] = {0};
    assert_int_equal(vg_store_iter(st, "events", NULL, 0, false, count_events, ids), 0);
    assert_int_equal(ids[0], 10);
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(ids[i + 1], 16 + i);
    vg_store_stats stats;
    assert_int_equal(vg_store_stats_get(st, &stats), 0);
    assert_int_equal(stats.events, 10);
    vg_store_close(st);

    st = open_ok(*state, &opts);
    assert_int_equal(vg_store_last_event_id(st), 25);
    /* Ids compare as numbers, not as bytes of a little-endian host: 256
     * must come after 25. */
    assert_int_equal(vg_store_append_event(st, 256, "x", 1, false), 0);
    vg_store_close(st);
    st = open_ok(*state, &opts);
    assert_int_equal(vg_store_last_event_id(st), 256);
    vg_store_close(st);
}

static void test_map_grows(void **state)
{
    vg_store_opts opts = {.map_size = 1 << 20};
    vg_store *st = open_ok(*state, &opts);
    char val[4096];
    char key[32];
    /* 6 MiB in one batch, then 2 MiB more over many commits. */
    for (int i = 0; i < 2048; i++) {
        memset(val, 'a' + i % 26, sizeof(val));
        int n = snprintf(key, sizeof(key), "big/%05d", i);
        assert_int_equal(vg_store_put(st, "reports", key, (size_t)n, val, sizeof(val)), 0);
        if (i == 1535 || (i > 1535 && i % 64 == 0))
            assert_int_equal(vg_store_commit(st, false), 0);
    }
    assert_int_equal(vg_store_commit(st, true), 0);
    vg_store_stats stats;
    assert_int_equal(vg_store_stats_get(st, &stats), 0);
    assert_true(stats.map_size >= (8u << 20));
    assert_true(stats.used_bytes >= (8u << 20));
    assert_int_equal(stats.commit_errors, 0);
    vg_store_close(st);

    st = open_ok(*state, &opts);
    for (int i = 0; i < 2048; i++) {
        int n = snprintf(key, sizeof(key), "big/%05d", i);
        void *got;
        size_t len;
        assert_int_equal(vg_store_get(st, "reports", key, (size_t)n, &got, &len), 0);
        assert_int_equal(len, sizeof(val));
        memset(val, 'a' + i % 26, sizeof(val));
        assert_memory_equal(got, val, len);
        free(got);
    }
    vg_store_close(st);
}

static void test_iterate(void **state)
{
    vg_store *st = open_ok(*state, NULL);
    const char *keys[] = {"e", "a", "c", "b", "d"};
    for (size_t i = 0; i < 5; i++)
        put_str(st, "groups", keys[i], "v");
    assert_int_equal(vg_store_commit(st, false), 0);
    /* A queued change is seen by the next iteration. */
    put_str(st, "groups", "f", "v");

    struct seen s = iterate(st, "groups", NULL, false);
    assert_string_equal(joined(&s), "a,b,c,d,e,f");
    s = iterate(st, "groups", NULL, true);
    assert_string_equal(joined(&s), "f,e,d,c,b,a");
    s = iterate(st, "groups", "c", false);
    assert_string_equal(joined(&s), "c,d,e,f");
    s = iterate(st, "groups", "cc", false);
    assert_string_equal(joined(&s), "d,e,f");
    s = iterate(st, "groups", "c", true);
    assert_string_equal(joined(&s), "c,b,a");
    s = iterate(st, "groups", "cc", true);
    assert_string_equal(joined(&s), "c,b,a");
    s = iterate(st, "groups", "zz", true);
    assert_string_equal(joined(&s), "f,e,d,c,b,a");
    s = iterate(st, "groups", "zz", false);
    assert_int_equal(s.n, 0);
    s = iterate(st, "groups", "0", true);
    assert_int_equal(s.n, 0);
    s = iterate(st, "no.such.table", NULL, false);
    assert_int_equal(s.n, 0);

    struct seen stop = {.stop_after = 2};
    assert_int_equal(vg_store_iter(st, "groups", "b", 1, false, seen_cb, &stop), 0);
    assert_string_equal(joined(&stop), "b,c");
    struct seen fail = {.fail_with = -EINTR};
    assert_int_equal(vg_store_iter(st, "groups", NULL, 0, false, seen_cb, &fail), -EINTR);
    vg_store_close(st);
}

/* Writes meta.schema with LMDB directly, as another vigil version would. */
static void raw_put_schema(const char *dir, const void *val, size_t len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi), 0);
    MDB_val k = {6, "schema"}, v = {len, (void *)val};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void raw_put_schema_uint(const char *dir, uint64_t version)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_uint64(&pk, version);
    raw_put_schema(dir, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static void test_schema(void **state)
{
    /* A new store records the schema as a msgpack uint. */
    vg_store *st = open_ok(*state, NULL);
    void *val;
    size_t len;
    assert_int_equal(vg_store_get(st, "meta", "schema", 6, &val, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(((unsigned char *)val)[0], VG_STORE_SCHEMA); /* positive fixint */
    free(val);
    put_str(st, "rules", "kept", "yes");
    vg_store_close(st);

    raw_put_schema_uint(*state, VG_STORE_SCHEMA + 1);
    st = NULL;
    assert_int_equal(vg_store_open(*state, NULL, &st), -EPROTO);
    assert_null(st);
    /* Refusing did not rewrite it. */
    assert_int_equal(vg_store_open(*state, NULL, &st), -EPROTO);

    /* Back to this version (a downgrade undone): the data is all there. */
    raw_put_schema_uint(*state, VG_STORE_SCHEMA);
    st = open_ok(*state, NULL);
    expect_str(st, "rules", "kept", "yes");
    vg_store_close(st);

    raw_put_schema(*state, "\xa3one", 4); /* a msgpack string */
    assert_int_equal(vg_store_open(*state, NULL, &st), -EBADMSG);
    raw_put_schema(*state, "\x01\x02", 2); /* trailing bytes */
    assert_int_equal(vg_store_open(*state, NULL, &st), -EBADMSG);
}

static void fill_junk(unsigned char *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
        buf[i] = (unsigned char)seed;
    }
}

static const char *junk_path(const char *dir)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    return path;
}

static void test_corrupt_file(void **state)
{
    static unsigned char junk[64 * 1024];
    fill_junk(junk, sizeof(junk), 2463534242u);
    vg_store *st = NULL;
    write_file(*state, "data.mdb", junk, sizeof(junk));
    int rc = vg_store_open(*state, NULL, &st);
    assert_true(rc < 0);
    assert_null(st);
    assert_int_equal(rc, -EBADMSG);

    /* Shorter than one page: still not a store. */
    write_file(*state, "data.mdb", "hello, not lmdb", 15);
    rc = vg_store_open(*state, NULL, &st);
    assert_true(rc < 0);
    assert_null(st);

    /* A real store whose pages after the two meta pages are overwritten:
     * the meta pages look fine, the trees behind them are garbage. */
    assert_int_equal(unlink(junk_path(*state)), 0);
    st = open_ok(*state, NULL);
    char key[32];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(key, sizeof(key), "rule/%05d", i);
        assert_int_equal(vg_store_put(st, "rules", key, (size_t)n, junk, 100), 0);
    }
    vg_store_close(st);
    st = NULL;
    int fd = open(junk_path(*state), O_RDWR);
    assert_true(fd >= 0);
    off_t page = sysconf(_SC_PAGESIZE), size = lseek(fd, 0, SEEK_END);
    assert_true(size > 8 * page);
    for (off_t off = 2 * page; off < size; off += (off_t)sizeof(junk)) {
        fill_junk(junk, sizeof(junk), (uint32_t)off + 1);
        assert_true(pwrite(fd, junk, sizeof(junk), off) > 0);
    }
    close(fd);
    rc = vg_store_open(*state, NULL, &st);
    assert_true(rc < 0);
    assert_null(st);

    /* A missing directory is an ordinary error too. */
    char missing[512];
    snprintf(missing, sizeof(missing), "%s/nope", (char *)*state);
    assert_int_equal(vg_store_open(missing, NULL, &st), -ENOENT);
}

static void test_pending_bound(void **state)
{
    vg_store_opts opts = {.max_pending = 8};
    vg_store *st = open_ok(*state, &opts);
    for (uint64_t id = 1; id <= 8; id++)
        assert_int_equal(vg_store_append_event(st, id, "e", 1, false), 0);
    assert_int_equal(vg_store_append_event(st, 9, "e", 1, false), -ENOBUFS);
    /* The refused event did not move the id. */
    assert_int_equal(vg_store_last_event_id(st), 8);
    /* Rules still get in beyond the bound. */
    put_str(st, "rules", "learned", "allow");
    assert_int_equal(vg_store_del(st, "rules", "old", 3), 0);
    vg_store_stats stats;
    assert_int_equal(vg_store_stats_get(st, &stats), 0);
    assert_int_equal(stats.pending, 10);

    assert_int_equal(vg_store_commit(st, true), 0);
    expect_str(st, "rules", "learned", "allow");
    assert_int_equal(vg_store_stats_get(st, &stats), 0);
    assert_int_equal(stats.events, 8);
    assert_int_equal(stats.pending, 0);
    assert_int_equal(vg_store_append_event(st, 9, "e", 1, false), 0);
    vg_store_close(st);
}

/* While commits fail, routine events are refused at the bound and the ones
 * to keep (violations, incidents, warnings) still get a reserve of an
 * eighth more. */
static void test_pending_reserve_keeps_findings(void **state)
{
    vg_store_opts opts = {.max_pending = 16};
    vg_store *st = open_ok(*state, &opts);
    uint64_t id = 1;
    for (; id <= 16; id++)
        assert_int_equal(vg_store_append_event(st, id, "e", 1, false), 0);
    assert_int_equal(vg_store_append_event(st, id, "e", 1, false), -ENOBUFS);
    assert_int_equal(vg_store_append_event(st, id++, "violation", 9, true), 0);
    assert_int_equal(vg_store_append_event(st, id++, "incident", 8, true), 0);
    assert_int_equal(vg_store_append_event(st, id, "violation", 9, true), -ENOBUFS);
    assert_int_equal(vg_store_commit(st, true), 0);
    vg_store_stats stats;
    assert_int_equal(vg_store_stats_get(st, &stats), 0);
    assert_int_equal(stats.events, 18);
    vg_store_close(st);
}

/* Fills the filesystem of `path` until a write fails with ENOSPC. */
static void fill_disk(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    static char chunk[4096];
    while (write(fd, chunk, sizeof(chunk)) == (ssize_t)sizeof(chunk))
        ;
    while (write(fd, chunk, 1) == 1)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

static void test_full_disk(void **state)
{
    const char *dir = *state;
    if (mount("tmpfs", dir, "tmpfs", 0, "size=512k,mode=0700") != 0) {
        print_message("skipping test_full_disk: cannot mount a tmpfs on %s: %s "
                      "(needs root)\n",
                      dir, strerror(errno));
        skip();
        return;
    }
    char filler[512];
    snprintf(filler, sizeof(filler), "%s/filler", dir);
    vg_store_opts opts = {.map_size = 4 << 20};
    vg_store *st = open_ok(dir, &opts);
    put_str(st, "rules", "before", "full");
    assert_int_equal(vg_store_commit(st, true), 0);

    fill_disk(filler);
    char val[1024], key[32];
    for (int i = 0; i < 128; i++) {
        memset(val, 'A' + i % 26, sizeof(val));
        int n = snprintf(key, sizeof(key), "r/%03d", i);
        assert_int_equal(vg_store_put(st, "rules", key, (size_t)n, val, sizeof(val)), 0);
    }
    assert_int_equal(vg_store_commit(st, true), -ENOSPC);
    assert_true(vg_store_dirty(st));
    vg_store_stats stats;
    assert_int_equal(vg_store_stats_get(st, &stats), 0);
    assert_int_equal(stats.pending, 128);
    assert_true(stats.commit_errors >= 1);
    /* The queued value is still what a reader sees. */
    void *got;
    size_t len;
    assert_int_equal(vg_store_get(st, "rules", "r/005", 5, &got, &len), 0);
    assert_int_equal(len, sizeof(val));
    assert_int_equal(((char *)got)[0], 'F');
    free(got);
    expect_str(st, "rules", "before", "full");

    assert_int_equal(unlink(filler), 0);
    assert_int_equal(vg_store_commit(st, true), 0);
    assert_false(vg_store_dirty(st));
    vg_store_close(st);

    st = open_ok(dir, &opts);
    for (int i = 0; i < 128; i++) {
        int n = snprintf(key, sizeof(key), "r/%03d", i);
        assert_int_equal(vg_store_get(st, "rules", key, (size_t)n, &got, &len), 0);
        assert_int_equal(len, sizeof(val));
        assert_int_equal(((char *)got)[len - 1], 'A' + i % 26);
        free(got);
    }
    expect_str(st, "rules", "before", "full");
    vg_store_close(st);
    assert_int_equal(umount2(dir, MNT_DETACH), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_del, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_pending_kinds, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_persist_across_reopen, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_survives_kill9, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_events_trimmed, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_map_grows, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_iterate, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_schema, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_pending_reserve_keeps_findings, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(test_pending_bound, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk, dir_setup, dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
