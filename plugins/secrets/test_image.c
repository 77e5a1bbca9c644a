/*
 * Image tarballs built by the test with tar(1): a `docker save` layout
 * where layer 1 adds a credentials file and layer 2 deletes it (whiteout),
 * and an OCI layout with a gzip-compressed layer. The secret must still be
 * found, with the digest of the layer that holds it; the image config's
 * environment is scanned too.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "secrets.h"

#define RULES TEST_SOURCE_DIR "/lua/secrets/rules.lua"
/* Random strings in the rules' formats, nobody's credentials. */
#define AKID "AKIAJ4QWERTZUIOPAS2D"
#define ASEC "q8Vt3nZr7YpL2wXc9KbM4sHd6JfG1aQe5TuRoNiP"
#define GHP "ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W"

static vg_sec_rules *rules;

struct found {
    int n;
    struct {
        char rule[64], path[256], layer[80];
    } f[16];
};

static void collect(void *arg, const vg_sec_finding *f)
{
    struct found *fd = arg;
    if (fd->n == 16)
        return;
    snprintf(fd->f[fd->n].rule, 64, "%s", f->rule->id);
    snprintf(fd->f[fd->n].path, 256, "%s", f->path);
    snprintf(fd->f[fd->n].layer, 80, "%s", f->layer ? f->layer : "");
    fd->n++;
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

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* sha256 of a file as "sha256:<hex>", computed by sha256sum(1) so that the
 * engine's own hashing is checked against an independent one. */
static void digest_of(const char *file, char *out)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "sha256sum '%s'", file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char hex[65] = "";
    assert_int_equal(fscanf(p, "%64s", hex), 1);
    pclose(p);
    sprintf(out, "sha256:%s", hex);
}

static int setup(void **state)
{
    const char *files[] = {RULES};
    char err[512];
    if (vg_sec_rules_load(files, 1, &rules, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    vg_sec_rules_free(rules);
    return 0;
}

static int scan(const char *tar, struct found *fd)
{
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, NULL, collect, fd, &s), 0);
    int rc = vg_sec_scan_image(s, tar);
    if (rc == 0)
        assert_true(vg_sec_scanner_stats(s)->layers >= 2);
    vg_sec_scanner_free(s);
    return rc;
}

static void docker_save_secret_deleted_in_a_later_layer(void **state)
{
    char d[] = "/tmp/vg-sec-imgXXXXXX";
    assert_non_null(mkdtemp(d));
    char p[600], tar[600], l1digest[80], l2digest[80];
    /* Layer 1 adds etc/app/credentials; layer 2 removes it. */
    sh("mkdir -p %s/r1/etc/app %s/r2/etc/app %s/img/l1 %s/img/l2", d, d, d, d);
    snprintf(p, sizeof(p), "%s/r1/etc/app/credentials", d);
    put(p, "[default]\naws_access_key_id = " AKID "\naws_secret_access_key = " ASEC "\n");
    snprintf(p, sizeof(p), "%s/r2/etc/app/.wh.credentials", d);
    put(p, "");
    sh("tar -C %s/r1 -cf %s/img/l1/layer.tar etc", d, d);
    sh("tar -C %s/r2 -cf %s/img/l2/layer.tar etc", d, d);
    /* The config's environment carries a token (ENV in a Dockerfile). */
    snprintf(p, sizeof(p), "%s/img/config.json", d);
    put(p, "{\"config\":{\"Env\":[\"PATH=/usr/bin\",\"GH_TOKEN=" GHP "\"]},"
           "\"rootfs\":{\"type\":\"layers\"}}\n");
    snprintf(p, sizeof(p), "%s/img/manifest.json", d);
    put(p, "[{\"Config\":\"config.json\",\"RepoTags\":[\"shop:1\"],"
           "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]\n");
    snprintf(tar, sizeof(tar), "%s/image.tar", d);
    sh("tar -C %s/img -cf %s manifest.json config.json l1 l2", d, tar);
    snprintf(p, sizeof(p), "%s/img/l1/layer.tar", d);
    digest_of(p, l1digest);
    snprintf(p, sizeof(p), "%s/img/l2/layer.tar", d);
    digest_of(p, l2digest);

    struct found fd = {0};
    assert_int_equal(scan(tar, &fd), 0);
    int key = -1, sec = -1, env = -1;
    for (int i = 0; i < fd.n; i++) {
        if (!strcmp(fd.f[i].rule, "aws-access-key-id"))
            key = i;
        if (!strcmp(fd.f[i].rule, "aws-secret-access-key"))
            sec = i;
        if (!strcmp(fd.f[i].rule, "github-pat"))
            env = i;
    }
    assert_true(key >= 0 && sec >= 0 && env >= 0);
    assert_string_equal(fd.f[key].path, "etc/app/credentials");
    assert_string_equal(fd.f[key].layer, l1digest);
    assert_string_equal(fd.f[sec].layer, l1digest);
    assert_string_not_equal(fd.f[key].layer, l2digest);
    assert_string_equal(fd.f[env].path, "config.json");
    assert_string_equal(fd.f[env].layer, "");

    /* vg_sec_scan_path recognises the tarball by content. */
    struct found fd2 = {0};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, NULL, collect, &fd2, &s), 0);
    assert_int_equal(vg_sec_scan_path(s, tar), 0);
    assert_int_equal(vg_sec_scanner_stats(s)->layers, 2);
    assert_int_equal(fd2.n, fd.n);
    vg_sec_scanner_free(s);
    sh("rm -rf %s", d);
}

static void oci_layout_gzip_layer(void **state)
{
    char d[] = "/tmp/vg-sec-ociXXXXXX";
    assert_non_null(mkdtemp(d));
    char p[600], tar[600], dg[80];
    sh("mkdir -p %s/r1/srv %s/r2/srv %s/oci/blobs/sha256", d, d, d);
    snprintf(p, sizeof(p), "%s/r1/srv/.env", d);
    put(p, "DATABASE_URL=postgres://shop:Vq7pZ2rK9mXw4L@db:5432/shop\n");
    snprintf(p, sizeof(p), "%s/r2/srv/readme.txt", d);
    put(p, "nothing to see\n");
    sh("tar -C %s/r1 -czf %s/l1.tgz srv && tar -C %s/r2 -czf %s/l2.tgz srv", d, d, d, d);
    snprintf(p, sizeof(p), "%s/l1.tgz", d);
    digest_of(p, dg);
    sh("for l in l1 l2; do h=$(sha256sum %s/$l.tgz | cut -d' ' -f1); "
       "mv %s/$l.tgz %s/oci/blobs/sha256/$h; done",
       d, d, d);
    snprintf(p, sizeof(p), "%s/oci/oci-layout", d);
    put(p, "{\"imageLayoutVersion\":\"1.0.0\"}\n");
    snprintf(p, sizeof(p), "%s/oci/index.json", d);
    put(p, "{\"schemaVersion\":2,\"manifests\":[]}\n");
    snprintf(tar, sizeof(tar), "%s/oci.tar", d);
    sh("tar -C %s/oci -cf %s oci-layout index.json blobs", d, tar);

    struct found fd = {0};
    assert_int_equal(scan(tar, &fd), 0);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.f[0].rule, "database-url-password");
    assert_string_equal(fd.f[0].path, "srv/.env");
    assert_string_equal(fd.f[0].layer, dg);
    sh("rm -rf %s", d);
}

static void not_a_tarball_is_an_error(void **state)
{
    char f[] = "/tmp/vg-sec-notarXXXXXX";
    int fd = mkstemp(f);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, NULL, NULL, NULL, &s), 0);
    assert_true(vg_sec_scan_image(s, f) < 0);
    assert_int_equal(vg_sec_scan_image(s, "/nonexistent.tar"), -EINVAL);
    vg_sec_scanner_free(s);
    unlink(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docker_save_secret_deleted_in_a_later_layer),
        cmocka_unit_test(oci_layout_gzip_layer),
        cmocka_unit_test(not_a_tarball_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
