/*
 * Large files are scanned in overlapping segments (stream.c). The
 * reference is the same bytes scanned whole from memory: a file of 18 MiB
 * with secrets placed across every segment edge (the buffer's start, the
 * end of what a buffer owns, the buffer's end) and a private key block
 * spanning one, read from disk, from a plain member of an image tarball
 * and from a file inside a layer, must give exactly the reference's
 * findings (rule, line, column, secret), each once. And a time limit stops
 * a scan inside one large file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "secrets.h"

#define RULES TEST_SOURCE_DIR "/lua/secrets/rules.lua"
#define SEG ((size_t)4 << 20)   /* VG__SEC_SEGMENT */
#define OVER ((size_t)64 << 10) /* stream.c's overlap */
#define SIZE ((size_t)18 << 20)
#define MAXF 64

static vg_sec_rules *rules;
static char *data; /* the file's content, freed at teardown */
static char dir[] = "/tmp/vg-sec-stream-XXXXXX";

struct found {
    int n;
    char f[MAXF][160];
};

static void collect(void *arg, const vg_sec_finding *f)
{
    struct found *fd = arg;
    if (fd->n == MAXF)
        return;
    snprintf(fd->f[fd->n++], 160, "%s %u:%u %.*s", f->rule->id, f->line, f->column,
             (int)f->secret_len, f->secret);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* A random-looking but fixed 20-character AWS key id for seed i. */
static void akid(unsigned i, char out[21])
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);
    memcpy(out, "AKIA", 4);
    for (int k = 4; k < 20; k++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        out[k] = b32[(x >> 40) & 31];
    }
    out[20] = 0;
}

/* Writes a line holding a secret so that it straddles file offset at. */
static void plant(char *buf, size_t at, unsigned i)
{
    char key[21], line[64];
    akid(i, key);
    int n = snprintf(line, sizeof(line), "\naws_access_key_id = %s\n", key);
    memcpy(buf + at - 25, line, (size_t)n);
}

static char *make_content(void)
{
    char *buf = malloc(SIZE);
    assert_non_null(buf);
    static const char filler[] = "lorem ipsum dolor sit amet, consectetur adipiscing elit 0123\n";
    for (size_t off = 0; off < SIZE; off += sizeof(filler) - 1)
        memcpy(buf + off, filler,
               SIZE - off < sizeof(filler) - 1 ? SIZE - off : sizeof(filler) - 1);
    unsigned i = 0;
    /* Buffer k starts at k * SEG, owns up to k * SEG + SEG + OVER, ends
     * OVER later: a secret across each of those, and a few bytes off. */
    for (size_t k = 1; k < SIZE / SEG; k++)
        for (int d = -100; d <= 100; d += 50) {
            plant(buf, k * SEG + (size_t)d, i++);
            plant(buf, k * SEG + OVER + (size_t)d, i++);
            plant(buf, k * SEG + 2 * OVER + (size_t)d + 100, i++);
        }
    /* A private key whose block spans the end of what buffer 3 owns, and
     * one across the end of buffer 3 (where no key was planted). */
    static const char pem[] = "\n-----BEGIN RSA PRIVATE KEY-----\n"
                              "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
                              "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
                              "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo\n"
                              "-----END RSA PRIVATE KEY-----\n";
    memcpy(buf + 4 * SEG + OVER - 100, pem, sizeof(pem) - 1);
    memcpy(buf + 4 * SEG + 2 * OVER - 100, pem, sizeof(pem) - 1);
    return buf;
}

static void sorted(struct found *f)
{
    qsort(f->f, (size_t)f->n, sizeof(f->f[0]), cmp);
}

static void scan(int how, const char *arg, const char *buf, struct found *out, vg_sec_stats *st)
{
    vg_sec_limits lim = {.max_file_bytes = 1ull << 30};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, &lim, collect, out, &s), 0);
    if (how == 0)
        assert_int_equal(vg_sec_scan_buffer(s, arg, buf, SIZE), 0);
    else if (how == 1)
        assert_int_equal(vg_sec_scan_file(s, arg), 0);
    else
        assert_int_equal(vg_sec_scan_image(s, arg), 0);
    *st = *vg_sec_scanner_stats(s);
    vg_sec_scanner_free(s);
    sorted(out);
}

static void same(const struct found *ref, const struct found *got, const char *what)
{
    for (int i = 0; i < ref->n || i < got->n; i++)
        if (i >= ref->n || i >= got->n || strcmp(ref->f[i], got->f[i]))
            fail_msg("%s: finding %d: reference '%s', got '%s'", what, i,
                     i < ref->n ? ref->f[i] : "(none)", i < got->n ? got->f[i] : "(none)");
}

static void stream_matches_whole(void **state)
{
    (void)state;
    data = make_content();
    char path[256];
    snprintf(path, sizeof(path), "%s/big.env", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, SIZE, f), SIZE);
    fclose(f);

    static struct found ref, file, member, layer;
    vg_sec_stats st;
    scan(0, "big.env", data, &ref, &st);
    /* Every planted key and the private key, each once. */
    assert_int_equal(ref.n, (int)(SIZE / SEG - 1) * 15 + 2);

    assert_int_equal(chdir(dir), 0);
    scan(1, "big.env", NULL, &file, &st);
    same(&ref, &file, "file");
    assert_int_equal(st.bytes, SIZE);
    assert_int_equal(st.files, 1);

    /* The file as a plain member of an image tarball, and inside a layer. */
    sh("cd %s && mkdir -p l && cp big.env l/ && tar -C l -cf layer.tar big.env && "
       "tar -cf member.tar big.env && tar -cf image.tar layer.tar",
       dir);
    scan(2, "member.tar", NULL, &member, &st);
    same(&ref, &member, "image member");
    scan(2, "image.tar", NULL, &layer, &st);
    same(&ref, &layer, "layer file");
    assert_int_equal(st.layers, 1);
}

/* A file dense with candidates, larger than anything read whole: the
 * time limit stops the scan inside it, well before its end. */
static void timeout_inside_a_file(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/dense.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (unsigned i = 0; i < 1500000; i++) /* about 64 MiB */
        fprintf(f, "password = changeme_%06u token ghp_notreallyatoken\n", i);
    fclose(f);
    vg_sec_limits lim = {.max_file_bytes = 1ull << 30, .max_ms = 300};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, &lim, NULL, NULL, &s), 0);
    assert_int_equal(vg_sec_scan_file(s, path), 0);
    const vg_sec_stats *st = vg_sec_scanner_stats(s);
    assert_true(st->truncated);
    assert_int_equal(st->stopped_by, VG_SEC_STOP_TIME);
    assert_true(st->bytes < (uint64_t)60 << 20);
    vg_sec_scanner_free(s);
}

static int setup(void **state)
{
    (void)state;
    const char *files[] = {RULES};
    char err[512];
    if (!mkdtemp(dir) || vg_sec_rules_load(files, 1, &rules, err, sizeof(err)) < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    vg_sec_rules_free(rules);
    free(data);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_matches_whole),
        cmocka_unit_test(timeout_inside_a_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
