/*
 * The scanning engine on real files: a directory tree mixing a secret, a
 * symlink escape, a binary file, a huge file and a Kubernetes Secret; the
 * limits; a live process environment; masking and entropy.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "secrets.h"

#define RULES TEST_SOURCE_DIR "/lua/secrets/rules.lua"
/* Random strings in the formats of the rules, not anyone's credentials. */
#define GHP "ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W"
#define AKID "AKIAJ4QWERTZUIOPAS2D"
#define K8S_PW "Tr0ub4dor&3horse!"

static vg_sec_rules *rules;

struct found {
    int n;
    struct {
        char rule[64], path[256], secret[128];
        int kind;
        unsigned line, column;
    } f[32];
};

static void collect(void *arg, const vg_sec_finding *f)
{
    struct found *fd = arg;
    if (fd->n == 32)
        return;
    snprintf(fd->f[fd->n].rule, 64, "%s", f->rule->id);
    snprintf(fd->f[fd->n].path, 256, "%s", f->path);
    snprintf(fd->f[fd->n].secret, 128, "%.*s", (int)f->secret_len, f->secret);
    fd->f[fd->n].kind = f->kind;
    fd->f[fd->n].line = f->line;
    fd->f[fd->n].column = f->column;
    fd->n++;
}

static int find_kind(const struct found *fd, const char *rule, const char *path, int kind)
{
    for (int i = 0; i < fd->n; i++)
        if (!strcmp(fd->f[i].rule, rule) && !strcmp(fd->f[i].path, path) &&
            (kind < 0 || fd->f[i].kind == kind))
            return i;
    return -1;
}

static int find(const struct found *fd, const char *rule, const char *path)
{
    return find_kind(fd, rule, path, -1);
}

static void put(const char *dir, const char *name, const char *data, size_t len)
{
    char p[4096];
    int n = snprintf(p, sizeof(p), "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof(p));
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
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

/* A tree with one secret in a text file, one behind a symlink that leads
 * out of the root, one in a binary, one in a huge file, one base64-encoded
 * in a Kubernetes Secret. */
static void tree_mixing_everything(void **state)
{
    char root[] = "/tmp/vg-sec-treeXXXXXX", out[] = "/tmp/vg-sec-outXXXXXX";
    assert_non_null(mkdtemp(root));
    assert_non_null(mkdtemp(out));
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/app", root);
    assert_int_equal(mkdir(sub, 0700), 0);
    put(sub, "settings.env", "DEBUG=1\nexport TOKEN=" GHP "\n",
        strlen("DEBUG=1\nexport TOKEN=" GHP "\n"));
    /* Outside the root: reachable only through symlinks. */
    put(out, "creds", "aws_access_key_id = " AKID "\n", strlen("aws_access_key_id = " AKID "\n"));
    char link[600];
    snprintf(link, sizeof(link), "%s/escape-file", root);
    char target[600];
    snprintf(target, sizeof(target), "%s/creds", out);
    assert_int_equal(symlink(target, link), 0);
    snprintf(link, sizeof(link), "%s/escape-dir", root);
    assert_int_equal(symlink(out, link), 0);
    snprintf(link, sizeof(link), "%s/app/up", root);
    assert_int_equal(symlink("../../../../../../../../..", link), 0);
    /* A binary with a key inside it. */
    char bin[256] = "\x7f"
                    "ELF\x02\x01\x01";
    memcpy(bin + 64, "aws_access_key_id = " AKID, strlen("aws_access_key_id = " AKID));
    put(root, "tool.bin", bin, sizeof(bin));
    /* A file over the size limit, with a key at its end. */
    size_t big = 200 * 1024;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    for (size_t i = 80; i < big; i += 81)
        huge[i] = '\n';
    memcpy(huge + big - 41, "\n" AKID "\n", strlen("\n" AKID "\n"));
    put(root, "huge.log", huge, big);
    free(huge);
    /* A Kubernetes Secret: the password only in base64 (of K8S_PW). */
    const char *k8s = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n---\n"
                      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n"
                      "  username: YXBw\n  password: VHIwdWI0ZG9yJjNob3JzZSE=\n";
    put(sub, "secret.yaml", k8s, strlen(k8s));
    /* A fifo: listed, never opened (opening it would block the scan). */
    char fifo[700];
    snprintf(fifo, sizeof(fifo), "%s/pipe", sub);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    struct found fd = {0};
    vg_sec_limits lim = {.max_file_bytes = 64 * 1024};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, &lim, collect, &fd, &s), 0);
    assert_int_equal(vg_sec_scan_dir(s, root), 0);
    const vg_sec_stats *st = vg_sec_scanner_stats(s);

    int i = find(&fd, "github-pat", "app/settings.env");
    assert_true(i >= 0);
    assert_int_equal(fd.f[i].line, 2);
    assert_int_equal(fd.f[i].column, strlen("export TOKEN=") + 1);
    assert_string_equal(fd.f[i].secret, GHP);
    i = find_kind(&fd, "generic-password", "app/secret.yaml", VG_SEC_KIND_K8S);
    assert_true(i >= 0);
    assert_string_equal(fd.f[i].secret, K8S_PW);
    assert_int_equal(fd.f[i].line, 13);
    /* The encoded value itself also looks like a password to the generic
     * rule (a base64 string after "password:"), and is reported as such. */
    assert_true(find_kind(&fd, "generic-password", "app/secret.yaml", VG_SEC_KIND_FILE) >= 0);
    /* Nothing else: not through the links, the binary, the huge file. */
    assert_int_equal(fd.n, 3);
    assert_int_equal(st->skipped_symlink, 3);
    assert_int_equal(st->skipped_binary, 1);
    assert_int_equal(st->skipped_large, 1);
    assert_int_equal(st->skipped_other, 1);
    assert_int_equal(st->files, 2);
    assert_false(st->truncated);
    vg_sec_scanner_free(s);

    /* The same huge file is found with a larger limit: the test can fail. */
    memset(&fd, 0, sizeof(fd));
    assert_int_equal(vg_sec_scanner_new(rules, NULL, collect, &fd, &s), 0);
    assert_int_equal(vg_sec_scan_dir(s, root), 0);
    assert_true(find(&fd, "aws-access-key-id", "huge.log") >= 0);
    vg_sec_scanner_free(s);
    rm_rf(root);
    rm_rf(out);
}

static void total_bytes_limit_stops_the_scan(void **state)
{
    char root[] = "/tmp/vg-sec-limXXXXXX";
    assert_non_null(mkdtemp(root));
    char line[128];
    snprintf(line, sizeof(line), "k=%s\n", GHP);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%02d.txt", i);
        put(root, name, line, strlen(line));
    }
    struct found fd = {0};
    vg_sec_limits lim = {.max_total_bytes = 5 * strlen(line)};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, &lim, collect, &fd, &s), 0);
    assert_int_equal(vg_sec_scan_dir(s, root), 0);
    assert_true(vg_sec_scanner_stats(s)->truncated);
    assert_int_equal(fd.n, 5);
    vg_sec_scanner_free(s);
    rm_rf(root);
}

static void process_environment_is_a_separate_kind(void **state)
{
    char *argv[] = {"sleep", "30", NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", "GH_TOKEN=" GHP, "DB_PASSWORD=${DB_PASSWORD}", NULL};
    pid_t pid;
    assert_int_equal(posix_spawnp(&pid, "sleep", NULL, NULL, argv, envp), 0);
    struct found fd = {0};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, NULL, collect, &fd, &s), 0);
    /* The environment is there once exec is done. */
    int rc = -1;
    for (int tries = 0; tries < 100 && fd.n == 0; tries++) {
        rc = vg_sec_scan_environ(s, pid);
        if (fd.n == 0)
            usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(fd.n, 1);
    char path[32];
    snprintf(path, sizeof(path), "pid:%d", pid);
    assert_string_equal(fd.f[0].path, path);
    assert_string_equal(fd.f[0].rule, "github-pat");
    assert_int_equal(fd.f[0].kind, VG_SEC_KIND_ENV);
    assert_int_equal(fd.f[0].line, 2);
    assert_int_equal(vg_sec_scan_environ(s, 0x3fffff), -ENOENT);
    vg_sec_scanner_free(s);
}

static void mask_never_shows_the_whole_secret(void **state)
{
    char out[64];
    vg_sec_mask(GHP, strlen(GHP), out, sizeof(out));
    assert_string_equal(out, "ghp_Zq*****");
    vg_sec_mask("abc", 3, out, sizeof(out));
    assert_string_equal(out, "*****");
    vg_sec_mask("hunter22", 8, out, sizeof(out));
    assert_string_equal(out, "hu*****");
    vg_sec_mask(GHP, strlen(GHP), out, 4);
    assert_string_equal(out, "ghp");
}

static void entropy_in_bits_per_byte(void **state)
{
    assert_true(vg_sec_entropy("aaaaaaaa", 8) == 0.0);
    assert_true(vg_sec_entropy("abababab", 8) == 1.0);
    assert_true(vg_sec_entropy("0123456789abcdef", 16) == 4.0);
    assert_true(vg_sec_entropy("", 0) == 0.0);
}

static void placeholders_and_excluded_paths_are_quiet(void **state)
{
    static const char *const quiet[][2] = {
        {"config.yaml", "password: ${DB_PASSWORD}\n"},
        {"config.yaml", "password: <password>\n"},
        {"config.yaml", "password: changeme-now\n"},
        {".env", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"},
        {".env", "api_key = xxxxxxxxxxxxxxxxxxxxxxxx\n"},
        {"web/package-lock.json", "\"token\": \"" GHP "\"\n"},
    };
    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        struct found fd = {0};
        vg_sec_scanner *s = NULL;
        assert_int_equal(vg_sec_scanner_new(rules, NULL, collect, &fd, &s), 0);
        assert_int_equal(vg_sec_scan_buffer(s, quiet[i][0], quiet[i][1], strlen(quiet[i][1])), 0);
        if (fd.n)
            fail_msg("case %zu reported by %s", i, fd.f[0].rule);
        vg_sec_scanner_free(s);
    }
}

/* Line and column of findings deep in a file of short lines (and empty
 * ones), as an editor would show them; a generic finding (reported at the
 * buffer's end, after a specific one further on) too. */
static void findings_carry_their_line_and_column(void **state)
{
    size_t cap = 3000 * 64, n = 0;
    char *buf = malloc(cap);
    for (unsigned line = 1; line <= 3000; line++) {
        if (line == 17)
            n += (size_t)sprintf(buf + n, "%s\n", AKID);
        else if (line == 1234)
            n += (size_t)sprintf(buf + n, "abc %s\n", GHP);
        else if (line == 2999)
            n += (size_t)sprintf(buf + n, "\t%s\n", GHP);
        else if (line == 1500)
            n += (size_t)sprintf(buf + n, "  password: \"Tr0ub4dor&3horse\"\n");
        else
            n += (size_t)sprintf(buf + n, "%.*s\n", (int)(line % 23), "yyyyyyyyyyyyyyyyyyyyyyy");
    }
    struct found fd = {0};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, NULL, collect, &fd, &s), 0);
    assert_int_equal(vg_sec_scan_buffer(s, "notes.txt", buf, n), 0);
    assert_int_equal(fd.n, 4);
    static const unsigned want[][2] = {{17, 1}, {1234, 5}, {2999, 2}, {1500, 14}};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(fd.f[i].line, want[i][0]);
        assert_int_equal(fd.f[i].column, want[i][1]);
    }
    vg_sec_scanner_free(s);
    free(buf);
}

/* The excluded-path globs ("*package-lock.json", "*.min.js") match as
 * fnmatch() does: a suffix of the whole path, directories included. */
static void excluded_paths_match_whole_suffixes(void **state)
{
    static const struct {
        const char *path;
        int findings;
    } cases[] = {
        {"package-lock.json", 0}, {"a/b/package-lock.json", 0}, {"package-lock.json.orig", 1},
        {"web/app.min.js", 0},    {"web/app.min.jsx", 1},       {"web/min.js/token.txt", 1},
    };
    const char *text = "token = " GHP "\n";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_sec_scanner *s = NULL;
        assert_int_equal(vg_sec_scanner_new(rules, NULL, NULL, NULL, &s), 0);
        assert_int_equal(vg_sec_scan_buffer(s, cases[i].path, text, strlen(text)), 0);
        if ((int)vg_sec_scanner_stats(s)->findings != cases[i].findings)
            fail_msg("%s: %d findings", cases[i].path, (int)vg_sec_scanner_stats(s)->findings);
        vg_sec_scanner_free(s);
    }
}

static void many_candidates_on_one_line_are_reported_once(void **state)
{
    /* 50 tokens on one line, one token repeated on many lines. */
    size_t cap = 200 * 64;
    char *buf = calloc(1, cap);
    for (int i = 0; i < 50; i++)
        strcat(strcat(buf, GHP), i % 2 ? " " : ",");
    strcat(buf, "\n");
    struct found fd = {0};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, NULL, NULL, NULL, &s), 0);
    assert_int_equal(vg_sec_scan_buffer(s, "x.txt", buf, strlen(buf)), 0);
    assert_int_equal(vg_sec_scanner_stats(s)->findings, 50);
    vg_sec_scanner_free(s);
    (void)fd;
    free(buf);
}

/* kubectl get secret -o json: the data object's values are decoded too. */
static void json_secret_manifest_is_decoded(void **state)
{
    const char *json = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Secret\",\n"
                       "  \"data\": {\n    \"username\": \"YXBw\",\n"
                       "    \"password\": \"VHIwdWI0ZG9yJjNob3JzZSE=\"\n  }\n}\n";
    struct found fd = {0};
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rules, NULL, collect, &fd, &s), 0);
    assert_int_equal(vg_sec_scan_buffer(s, "db-secret.json", json, strlen(json)), 0);
    int i = find_kind(&fd, "generic-password", "db-secret.json", VG_SEC_KIND_K8S);
    assert_true(i >= 0);
    assert_string_equal(fd.f[i].secret, K8S_PW);
    assert_int_equal(fd.f[i].line, 6);
    assert_int_equal(fd.f[i].column, 18);
    /* Not a Secret: the same data is left encoded. */
    memset(&fd, 0, sizeof(fd));
    const char *cm = "{\"kind\": \"ConfigMap\", \"data\": {\"p\": \"VHIwdWI0ZG9yJjNob3JzZSE=\"}}";
    assert_int_equal(vg_sec_scan_buffer(s, "cm.json", cm, strlen(cm)), 0);
    assert_int_equal(find_kind(&fd, "generic-password", "cm.json", VG_SEC_KIND_K8S), -1);
    vg_sec_scanner_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_mixing_everything),
        cmocka_unit_test(total_bytes_limit_stops_the_scan),
        cmocka_unit_test(process_environment_is_a_separate_kind),
        cmocka_unit_test(mask_never_shows_the_whole_secret),
        cmocka_unit_test(entropy_in_bits_per_byte),
        cmocka_unit_test(placeholders_and_excluded_paths_are_quiet),
        cmocka_unit_test(findings_carry_their_line_and_column),
        cmocka_unit_test(excluded_paths_match_whole_suffixes),
        cmocka_unit_test(many_candidates_on_one_line_are_reported_once),
        cmocka_unit_test(json_secret_manifest_is_decoded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
