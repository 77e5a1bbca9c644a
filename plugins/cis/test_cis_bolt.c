/*
 * The bbolt walker (bolt.c) on files built here byte by byte in bbolt's
 * layout: a valid one is walked in order; truncated, corrupt, cyclic and
 * out-of-range ones are refused with a message, never read past their end
 * (the tests run under ASan). The e2e test test_cis_containerd.sh reads the
 * meta.db a real containerd wrote.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bolt.h"

#define PS 4096
#define NPAGES 5

static void put(unsigned char *p, uint64_t x, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void meta(unsigned char *db, uint64_t pgid, uint64_t root, uint64_t txid)
{
    unsigned char *p = db + pgid * PS;
    put(p, pgid, 8);
    put(p + 8, 0x04, 2);
    unsigned char *m = p + 16;
    put(m, 0xED0CDAED, 4);
    put(m + 4, 2, 4);
    put(m + 8, PS, 4);
    put(m + 16, root, 8);
    put(m + 40, NPAGES, 8);
    put(m + 48, txid, 8);
    put(m + 56, fnv(m, 56), 8);
}

/* A leaf element at index i of the page at p, its key and value at `at`
 * (from the page's start); returns where the next key may go. */
static size_t leaf(unsigned char *p, int i, size_t at, uint32_t flags, const void *k, size_t kl,
                   const void *v, size_t vl)
{
    unsigned char *e = p + 16 + 16 * i;
    put(e, flags, 4);
    put(e + 4, at - (size_t)(e - p), 4);
    put(e + 8, kl, 4);
    put(e + 12, vl, 4);
    memcpy(p + at, k, kl);
    memcpy(p + at + kl, v, vl);
    return at + kl + vl;
}

/* Page 2 is a branch whose one child is page 3, the root leaf: bucket "v1"
 * (its own page 4) holding "version" = "3" and an inline bucket "ns" with
 * "k" = "v". */
static unsigned char *build(void)
{
    unsigned char *db = calloc(NPAGES, PS);
    meta(db, 0, 2, 7);
    meta(db, 1, 2, 6);
    unsigned char *br = db + 2 * PS;
    put(br, 2, 8);
    put(br + 8, 0x01, 2);
    put(br + 10, 1, 2);
    put(br + 16 + 8, 3, 8);
    unsigned char *root = db + 3 * PS;
    put(root, 3, 8);
    put(root + 8, 0x02, 2);
    put(root + 10, 1, 2);
    unsigned char hdr[16] = {0};
    put(hdr, 4, 8);
    leaf(root, 0, 64, 1, "v1", 2, hdr, 16);
    unsigned char *v1 = db + 4 * PS;
    put(v1, 4, 8);
    put(v1 + 8, 0x02, 2);
    put(v1 + 10, 2, 2);
    unsigned char inl[16 + 16 + 16 + 2] = {0}; /* header, page header, element, "k" "v" */
    put(inl + 16 + 8, 0x02, 2);
    put(inl + 16 + 10, 1, 2);
    leaf(inl + 16, 0, 32, 0, "k", 1, "v", 1);
    size_t at = leaf(v1, 0, 64, 1, "ns", 2, inl, sizeof(inl));
    leaf(v1, 1, at, 0, "version", 7, "3", 1);
    return db;
}

typedef struct trace {
    char text[256];
} trace;

static void add(trace *t, const char *fmt, const unsigned char *a, size_t al,
                const unsigned char *b, size_t bl)
{
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof(t->text) - n, fmt, (int)al, a, (int)bl, b);
}

static int on_enter(void *ud, const unsigned char *k, size_t kl)
{
    add(ud, "[%.*s%.*s", k, kl, (const unsigned char *)"", 0);
    return 0;
}

static int on_leave(void *ud)
{
    add(ud, "]%.*s%.*s", (const unsigned char *)"", 0, (const unsigned char *)"", 0);
    return 0;
}

static int on_pair(void *ud, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl)
{
    add(ud, " %.*s=%.*s", k, kl, v, vl);
    return 0;
}

static int walk(const unsigned char *db, size_t len, trace *t, char *err, size_t errlen)
{
    cis_bolt_visitor v = {.enter = on_enter, .leave = on_leave, .pair = on_pair, .ud = t};
    unsigned char *scratch = malloc(cis_bolt_scratch_size(len));
    int rc = cis_bolt_walk(db, len, scratch, &v, err, errlen);
    free(scratch);
    return rc;
}

static void test_valid(void **state)
{
    (void)state;
    unsigned char *db = build();
    trace t = {{0}};
    char err[160] = "";
    assert_int_equal(walk(db, NPAGES * PS, &t, err, sizeof(err)), 0);
    assert_string_equal(t.text, "[v1[ns k=v] version=3]");
    /* The first meta damaged: the second (an older txid) is used. */
    db[16 + 20] ^= 1;
    memset(&t, 0, sizeof(t));
    assert_int_equal(walk(db, NPAGES * PS, &t, err, sizeof(err)), 0);
    assert_string_equal(t.text, "[v1[ns k=v] version=3]");
    free(db);
}

static void expect_refused(unsigned char *db, size_t len, const char *what)
{
    trace t = {{0}};
    char err[160] = "";
    assert_int_equal(walk(db, len, &t, err, sizeof(err)), -EINVAL);
    if (!strstr(err, what))
        fail_msg("want \"%s\", got \"%s\"", what, err);
}

static void test_corrupt(void **state)
{
    (void)state;
    unsigned char *db = build();
    expect_refused(db, 60, "not a bbolt file");          /* shorter than a meta */
    expect_refused(db, 3 * PS + 100, "out of the file"); /* the root leaf cut off */
    put(db + 4 * PS + 16 + 4, 5000, 4);                  /* v1's first key points past its page */
    expect_refused(db, NPAGES * PS, "runs past its page");
    free(db);

    db = build();
    put(db + 2 * PS + 16 + 8, 2, 8); /* the branch is its own child */
    expect_refused(db, NPAGES * PS, "reached twice");
    free(db);

    db = build();
    put(db + 4 * PS + 10, 300, 2); /* v1 claims 300 elements */
    expect_refused(db, NPAGES * PS, "do not fit");
    free(db);

    db = build();
    put(db + 3 * PS + 8, 0x10, 2); /* a freelist page where a bucket's page should be */
    expect_refused(db, NPAGES * PS, "inside a bucket");
    free(db);

    db = build();
    meta(db, 0, 9, 7); /* a root beyond the file */
    expect_refused(db, NPAGES * PS, "out of the file");
    free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
