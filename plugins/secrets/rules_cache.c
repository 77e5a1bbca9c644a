/*
 * A cache of compiled vectorscan databases. Compiling 150 expressions in
 * prefilter mode takes most of a second (ten times that under ASan), and
 * vigil-scan runs once per CI job, so the database is serialised to
 * $VIGIL_SECRETS_CACHE (or $XDG_CACHE_HOME/vigil, or ~/.cache/vigil) under
 * a key that hashes everything it was built from: the vectorscan version
 * and every rule's expression and keywords. VIGIL_SECRETS_CACHE="" turns
 * the cache off.
 *
 * The file is code for vectorscan's matcher, so only one the current user
 * owns and nobody else can write is trusted; anything odd about it, and
 * the database is compiled again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secrets_int.h"

#define MAGIC "VGSC0005"
#define MAX_DB (256u << 20)

struct header {
    char magic[8];
    uint64_t key;
    uint32_t nrules, nids;
    uint64_t dblen;
};

static uint64_t fnv(uint64_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t vg__sec_cache_key(const vg_sec_rules *rs)
{
    /* MAGIC changes whenever build_patterns() (rules.c) changes. */
    const char *v = hs_version();
    uint64_t h = fnv(14695981039346656037ull, MAGIC, 8);
    h = fnv(h, v, strlen(v) + 1);
    for (size_t i = 0; i < rs->n; i++) {
        h = fnv(h, rs->r[i].regex, strlen(rs->r[i].regex) + 1);
        for (size_t k = 0; k < rs->r[i].keywords.n; k++)
            h = fnv(h, rs->r[i].keywords.v[k], strlen(rs->r[i].keywords.v[k]) + 1);
        char pf = (char)('0' + rs->r[i].prefilter);
        h = fnv(h, &pf, 1);
        char kind = (char)('0' + rs->r[i].kind_only + 4 * (rs->r[i].paths.n > 0));
        h = fnv(h, &kind, 1);
        if (rs->r[i].pre_regex)
            h = fnv(h, rs->r[i].pre_regex, strlen(rs->r[i].pre_regex) + 1);
        h = fnv(h, "\x01", 1);
    }
    return h;
}

static int cache_path(uint64_t key, char *out, size_t len, bool create)
{
    const char *dir = getenv("VIGIL_SECRETS_CACHE");
    char base[512];
    if (dir) {
        if (!*dir)
            return -ENOENT;
        snprintf(base, sizeof(base), "%s", dir);
    } else if ((dir = getenv("XDG_CACHE_HOME")) && *dir) {
        snprintf(base, sizeof(base), "%s/vigil", dir);
    } else if ((dir = getenv("HOME")) && *dir) {
        char parent[480];
        snprintf(parent, sizeof(parent), "%s/.cache", dir);
        if (create)
            mkdir(parent, 0700);
        snprintf(base, sizeof(base), "%s/vigil", parent);
    } else {
        return -ENOENT;
    }
    if (create)
        mkdir(base, 0700);
    int n = snprintf(out, len, "%s/secrets-%016llx.hsdb", base, (unsigned long long)key);
    return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static bool read_all(int fd, void *buf, size_t len)
{
    return read(fd, buf, len) == (ssize_t)len;
}

int vg__sec_cache_load(vg_sec_rules *rs, uint64_t key)
{
    char path[600];
    if (cache_path(key, path, sizeof(path), false) < 0)
        return -ENOENT;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    struct header h;
    int rc = -EINVAL;
    char *db = NULL;
    unsigned char *bykw = NULL;
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) ||
        !read_all(fd, &h, sizeof(h)) || memcmp(h.magic, MAGIC, 8) || h.key != key ||
        h.nrules != rs->n || !h.nids || h.nids > 100000 || h.dblen > MAX_DB)
        goto out;
    bykw = malloc(h.nrules);
    rs->id_rule = malloc(h.nids * sizeof(*rs->id_rule));
    rs->id_kw = malloc(h.nids);
    db = malloc(h.dblen);
    if (!bykw || !rs->id_rule || !rs->id_kw || !db || !read_all(fd, bykw, h.nrules) ||
        !read_all(fd, rs->id_rule, h.nids * sizeof(*rs->id_rule)) ||
        !read_all(fd, rs->id_kw, h.nids) || !read_all(fd, db, h.dblen))
        goto out;
    for (uint32_t i = 0; i < h.nids; i++)
        if (rs->id_rule[i] >= rs->n)
            goto out;
    if (hs_deserialize_database(db, h.dblen, &rs->db) != HS_SUCCESS)
        goto out;
    for (size_t i = 0; i < rs->n; i++) {
        rs->r[i].by_keywords = bykw[i] & 1;
        rs->r[i].whole_file = bykw[i] & 2;
    }
    rs->nids = h.nids;
    rc = 0;
out:
    if (rc < 0) {
        free(rs->id_rule);
        free(rs->id_kw);
        rs->id_rule = NULL;
        rs->id_kw = NULL;
    }
    free(bykw);
    free(db);
    close(fd);
    return rc;
}

void vg__sec_cache_store(const vg_sec_rules *rs, uint64_t key)
{
    char path[600], tmp[640];
    char *db = NULL;
    size_t dblen = 0;
    if (cache_path(key, path, sizeof(path), true) < 0 ||
        hs_serialize_database(rs->db, &db, &dblen) != HS_SUCCESS)
        return;
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        struct header h = {
            .key = key, .nrules = (uint32_t)rs->n, .nids = (uint32_t)rs->nids, .dblen = dblen};
        memcpy(h.magic, MAGIC, 8);
        unsigned char *bykw = malloc(rs->n ? rs->n : 1);
        bool ok = bykw != NULL;
        for (size_t i = 0; ok && i < rs->n; i++)
            bykw[i] = (unsigned char)(rs->r[i].by_keywords | rs->r[i].whole_file << 1);
        ok = ok && write(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) &&
             write(fd, bykw, rs->n) == (ssize_t)rs->n &&
             write(fd, rs->id_rule, rs->nids * sizeof(*rs->id_rule)) ==
                 (ssize_t)(rs->nids * sizeof(*rs->id_rule)) &&
             write(fd, rs->id_kw, rs->nids) == (ssize_t)rs->nids &&
             write(fd, db, dblen) == (ssize_t)dblen;
        free(bykw);
        /* Renamed into place only once complete: readers never see half. */
        if (close(fd) == 0 && ok)
            ok = rename(tmp, path) == 0;
        if (!ok)
            unlink(tmp);
    }
    free(db);
}
