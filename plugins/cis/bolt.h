/*
 * A read-only walker of bbolt database files (go.etcd.io/bbolt, the format
 * of containerd's metadata store, io.containerd.metadata.v1.bolt/meta.db).
 * It reads a file already in memory, trusts nothing in it (every offset and
 * count is checked against the buffer, every page is visited at most once,
 * nesting is bounded) and reports buckets and key/value pairs in order to a
 * visitor. No I/O and no allocation: the caller owns the buffer, the
 * scratch bitmap and whatever the visitor builds (so that a visitor may
 * raise a Lua error without leaking anything here).
 */
#ifndef VG_CIS_BOLT_H
#define VG_CIS_BOLT_H

#include <stddef.h>

typedef struct cis_bolt_visitor {
    /* A bucket named key begins (its pairs and buckets follow) or ends.
     * A non-zero return stops the walk with that value. */
    int (*enter)(void *ud, const unsigned char *key, size_t klen);
    int (*leave)(void *ud);
    /* A key/value pair of the current bucket. */
    int (*pair)(void *ud, const unsigned char *key, size_t klen, const unsigned char *val,
                size_t vlen);
    void *ud;
} cis_bolt_visitor;

/* The deepest bucket nesting walked; deeper buckets are an error. */
#define CIS_BOLT_MAX_NESTING 16

/* The bytes of scratch cis_bolt_walk needs for a file of `len` bytes. */
size_t cis_bolt_scratch_size(size_t len);

/* Walks the database in db[0..len) with `scratch` (cis_bolt_scratch_size
 * bytes, any content): 0 when the whole file was walked, a visitor's
 * non-zero return, or -EINVAL (not a bbolt file, or a corrupt one: err
 * says what and where). */
int cis_bolt_walk(const unsigned char *db, size_t len, unsigned char *scratch,
                  const cis_bolt_visitor *v, char *err, size_t errlen);

#endif
