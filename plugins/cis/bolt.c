/*
 * bbolt files, read-only (bolt.h). The layout, from go.etcd.io/bbolt:
 * every page starts with a 16-byte header (id u64, flags u16, count u16,
 * overflow u32); pages 0 and 1 are metas (magic, version, page size, the
 * root bucket, the transaction id, an FNV-1a checksum), the valid one with
 * the higher txid is current; a bucket is a B+tree of branch pages
 * (elements: pos u32, ksize u32, pgid u64) and leaf pages (elements: flags
 * u32, pos u32, ksize u32, vsize u32; pos counts from the element itself);
 * a leaf value flagged as a bucket is its header (root pgid u64, sequence
 * u64), and a root of 0 means the bucket's one page follows inline.
 * Integers are little-endian (the files this reads are written on x86-64
 * and arm64).
 */
#include "bolt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PAGE_HDR 16
#define ELEM 16
#define F_BRANCH 0x01
#define F_LEAF 0x02
#define LEAF_BUCKET 0x01
#define META_MAGIC 0xED0CDAEDu
#define META_VERSION 2u
#define META_CHECKED 56 /* the meta's bytes the checksum covers */
#define MAX_TREE_DEPTH 64
#define MIN_PAGE 512

typedef struct walker {
    const unsigned char *db;
    size_t len, psize, npages;
    unsigned char *seen; /* one bit per page */
    const cis_bolt_visitor *v;
    char *err;
    size_t errlen;
} walker;

static uint64_t rd(const unsigned char *p, int n)
{
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

static int bad(walker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (w->err && w->errlen)
        vsnprintf(w->err, w->errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static uint64_t fnv64a(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* The meta at byte `off`: its root pgid and txid, when it is valid. */
static int read_meta(const unsigned char *db, size_t len, size_t off, uint64_t *psize,
                     uint64_t *root, uint64_t *txid)
{
    if (off > len || len - off < PAGE_HDR + 64)
        return -1;
    const unsigned char *m = db + off + PAGE_HDR;
    if (rd(m, 4) != META_MAGIC || rd(m + 4, 4) != META_VERSION ||
        rd(m + 56, 8) != fnv64a(m, META_CHECKED))
        return -1;
    *psize = rd(m + 8, 4);
    *root = rd(m + 16, 8);
    *txid = rd(m + 48, 8);
    return 0;
}

static int walk_node(walker *w, const unsigned char *p, size_t span, int depth, int nesting);

/* Page `pgid` and its overflow pages, each visited once. */
static int walk_page(walker *w, uint64_t pgid, int depth, int nesting)
{
    if (depth > MAX_TREE_DEPTH)
        return bad(w, "tree deeper than %d pages at page %llu", MAX_TREE_DEPTH,
                   (unsigned long long)pgid);
    if (pgid < 2 || pgid >= w->npages)
        return bad(w, "page %llu out of the file (%zu pages)", (unsigned long long)pgid, w->npages);
    const unsigned char *p = w->db + pgid * w->psize;
    uint64_t pages = rd(p + 12, 4) + 1;
    if (pages > w->npages - pgid)
        return bad(w, "page %llu overflows the file", (unsigned long long)pgid);
    for (uint64_t i = pgid; i < pgid + pages; i++) {
        if (w->seen[i / 8] & (1u << (i % 8)))
            return bad(w, "page %llu reached twice", (unsigned long long)i);
        w->seen[i / 8] |= (unsigned char)(1u << (i % 8));
    }
    return walk_node(w, p, pages * w->psize, depth, nesting);
}

static int walk_bucket(walker *w, const unsigned char *val, size_t vlen, int depth, int nesting)
{
    if (nesting >= CIS_BOLT_MAX_NESTING)
        return bad(w, "buckets nested deeper than %d", CIS_BOLT_MAX_NESTING);
    if (vlen < 16)
        return bad(w, "bucket header of %zu bytes", vlen);
    uint64_t root = rd(val, 8);
    if (root == 0) /* inline: the bucket's only page follows its header */
        return walk_node(w, val + 16, vlen - 16, depth + 1, nesting + 1);
    return walk_page(w, root, depth + 1, nesting + 1);
}

static int walk_leaf(walker *w, const unsigned char *p, size_t span, unsigned count, int depth,
                     int nesting)
{
    for (unsigned i = 0; i < count; i++) {
        const unsigned char *e = p + PAGE_HDR + (size_t)i * ELEM;
        uint64_t flags = rd(e, 4), pos = rd(e + 4, 4), ksize = rd(e + 8, 4), vsize = rd(e + 12, 4);
        uint64_t at = (uint64_t)(e - p) + pos;
        if (at + ksize + vsize > span)
            return bad(w, "leaf element %u runs past its page", i);
        const unsigned char *key = e + pos, *val = key + ksize;
        int rc;
        if (flags & LEAF_BUCKET) {
            if ((rc = w->v->enter(w->v->ud, key, ksize)) != 0)
                return rc;
            if ((rc = walk_bucket(w, val, vsize, depth, nesting)) != 0)
                return rc;
            rc = w->v->leave(w->v->ud);
        } else {
            rc = w->v->pair(w->v->ud, key, ksize, val, vsize);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int walk_node(walker *w, const unsigned char *p, size_t span, int depth, int nesting)
{
    if (span < PAGE_HDR)
        return bad(w, "page of %zu bytes", span);
    unsigned flags = (unsigned)rd(p + 8, 2), count = (unsigned)rd(p + 10, 2);
    if ((uint64_t)PAGE_HDR + (uint64_t)count * ELEM > span)
        return bad(w, "%u elements do not fit their page", count);
    if (flags & F_LEAF)
        return walk_leaf(w, p, span, count, depth, nesting);
    if (!(flags & F_BRANCH))
        return bad(w, "page of kind 0x%x inside a bucket", flags);
    for (unsigned i = 0; i < count; i++) {
        int rc = walk_page(w, rd(p + PAGE_HDR + (size_t)i * ELEM + 8, 8), depth + 1, nesting);
        if (rc != 0)
            return rc;
    }
    return 0;
}

size_t cis_bolt_scratch_size(size_t len)
{
    return len / MIN_PAGE / 8 + 1;
}

int cis_bolt_walk(const unsigned char *db, size_t len, unsigned char *scratch,
                  const cis_bolt_visitor *v, char *err, size_t errlen)
{
    walker w = {.db = db, .len = len, .v = v, .err = err, .errlen = errlen};
    uint64_t ps0 = 0, root0 = 0, tx0 = 0, ps1 = 0, root1 = 0, tx1 = 0;
    int ok0 = read_meta(db, len, 0, &ps0, &root0, &tx0) == 0;
    /* The second meta is one page on: the first one's page size, else the
     * usual 4096 (as bbolt does when the first is damaged). */
    int ok1 = read_meta(db, len, ok0 ? ps0 : 4096, &ps1, &root1, &tx1) == 0;
    if (!ok0 && !ok1)
        return bad(&w, "not a bbolt file (no valid meta page)");
    int first = ok0 && (!ok1 || tx0 >= tx1);
    uint64_t psize = first ? ps0 : ps1, root = first ? root0 : root1;
    if (psize < MIN_PAGE || psize > 65536 || (psize & (psize - 1)))
        return bad(&w, "page size %llu", (unsigned long long)psize);
    w.psize = psize;
    w.npages = len / psize;
    w.seen = scratch;
    memset(w.seen, 0, w.npages / 8 + 1);
    return walk_page(&w, root, 0, 0);
}
