/*
 * The shipped rules against their own examples: every rule reports its
 * `hit` text and stays silent on its near-miss `miss` text, each scanned
 * through the real engine (vectorscan prefilter, PCRE2, entropy,
 * allow-lists). Also: a user's rules file adds, overrides and disables
 * rules, and a broken one is refused with its file and rule named.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "secrets.h"

#define RULES TEST_SOURCE_DIR "/lua/secrets/rules.lua"

struct hits {
    const char *want; /* rule id looked for */
    int n;            /* findings of that rule */
    int total;
    char other[64];
};

static void on_finding(void *arg, const vg_sec_finding *f)
{
    struct hits *h = arg;
    h->total++;
    if (!strcmp(f->rule->id, h->want))
        h->n++;
    else
        snprintf(h->other, sizeof(h->other), "%s", f->rule->id);
}

static int scan_text(const vg_sec_rules *rs, const char *id, const char *path, const char *text,
                     struct hits *h)
{
    memset(h, 0, sizeof(*h));
    h->want = id;
    vg_sec_scanner *s = NULL;
    assert_int_equal(vg_sec_scanner_new(rs, NULL, on_finding, h, &s), 0);
    assert_int_equal(vg_sec_scan_buffer(s, path, text, strlen(text)), 0);
    vg_sec_scanner_free(s);
    return h->n;
}

static void every_rule_has_examples_that_hold(void **state)
{
    const char *files[] = {RULES};
    char err[512] = "";
    vg_sec_rules *rs = NULL;
    int rc = vg_sec_rules_load(files, 1, &rs, err, sizeof(err));
    if (rc)
        fail_msg("load: %s", err);
    size_t n = vg_sec_rules_count(rs);
    assert_true(n >= 100);
    int bad = 0, recall = 0;
    for (size_t i = 0; i < n; i++) {
        const vg_sec_rule_info *ri = vg_sec_rules_info(rs, i);
        struct hits h;
        if (!ri->example_hit || !ri->example_miss) {
            print_error("rule %s: no examples\n", ri->id);
            bad++;
            continue;
        }
        if (scan_text(rs, ri->id, ri->example_path, ri->example_hit, &h) == 0) {
            print_error("rule %s: hit example not found\n", ri->id);
            bad++;
        } else {
            recall++;
        }
        if (scan_text(rs, ri->id, ri->example_path, ri->example_miss, &h) != 0) {
            print_error("rule %s: miss example reported\n", ri->id);
            bad++;
        }
    }
    print_message("%zu rules, %d hits found\n", n, recall);
    vg_sec_rules_free(rs);
    assert_int_equal(bad, 0);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/vg-secrules-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* The shipped rules and the user's file (removed and freed). */
static vg_sec_rules *load_with_user(char *user)
{
    const char *files[] = {RULES, user};
    char err[512] = "";
    vg_sec_rules *rs = NULL;
    int rc = vg_sec_rules_load(files, 2, &rs, err, sizeof(err));
    unlink(user);
    free(user);
    if (rc)
        fail_msg("load: %s", err);
    return rs;
}

static void user_rules_add_override_disable(void **state)
{
    char *user = write_tmp(
        "return {\n"
        "  disable = { 'jwt' },\n"
        "  rules = {\n"
        "    { id = 'corp-token', regex = [[\\b(corp_[a-z0-9]{16})\\b]], keywords = {'corp_'},\n"
        "      severity = 'critical' },\n"
        "    { id = 'github-pat', regex = [[\\b(ghp_[A-Za-z0-9]{36})\\b]], severity = 'low' },\n"
        "  },\n"
        "}\n");
    vg_sec_rules *rs = load_with_user(user);
    struct hits h;
    assert_int_equal(scan_text(rs, "corp-token", "a.env", "T=corp_0a1b2c3d4e5f6a7b\n", &h), 1);
    assert_int_equal(scan_text(rs, "jwt", "a",
                               "s=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyMTIzNDU2Nzg5MCJ9."
                               "Q2xtR3VwX1lRbWVvRlpsS1N3Y0xyYk5aU3Y\n",
                               &h),
                     0);
    bool found = false;
    for (size_t i = 0; i < vg_sec_rules_count(rs); i++) {
        const vg_sec_rule_info *ri = vg_sec_rules_info(rs, i);
        if (!strcmp(ri->id, "github-pat")) {
            assert_int_equal(ri->severity, VG_SEC_LOW);
            found = true;
        }
        assert_string_not_equal(ri->id, "jwt");
    }
    assert_true(found);
    vg_sec_rules_free(rs);
}

/* A rule's prefilter_regex, not its expression, decides where vectorscan
 * sends the precise check: a rule whose prefilter never matches finds
 * nothing, even where its expression would. */
static void prefilter_regex_says_where_to_look(void **state)
{
    char *user = write_tmp("return { rules = {\n"
                           "  { id = 'corp-a', regex = [[\\b(corpa_[a-z0-9]{16})\\b]],\n"
                           "    prefilter_regex = [[corpa_[a-z0-9]{16}]] },\n"
                           "  { id = 'corp-b', regex = [[\\b(corpb_[a-z0-9]{16})\\b]],\n"
                           "    prefilter_regex = [[never_here]] },\n"
                           "} }\n");
    vg_sec_rules *rs = load_with_user(user);
    struct hits h;
    assert_int_equal(scan_text(rs, "corp-a", "a.env", "T=corpa_0a1b2c3d4e5f6a7b\n", &h), 1);
    assert_int_equal(scan_text(rs, "corp-b", "a.env", "T=corpb_0a1b2c3d4e5f6a7b\n", &h), 0);
    vg_sec_rules_free(rs);
}

static void broken_rules_are_refused_with_a_reason(void **state)
{
    static const char *const cases[][2] = {
        {"return { rules = { { id = 'x', regex = '(' } } }", "rule 'x'"},
        {"return { rules = { { regex = 'a' } } }", "no 'id'"},
        {"return { rules = { { id = 'y', regex = 'a', severity = 'huge' } } }", "severity"},
        {"while true do end", "the secret rules"},
        {"return 42", "must return a table"},
        {"os.execute('true') return {}", "os"},
        {"return { rules = { { id = 'p', regex = 'abc', keywords = {'abc'}, prefilter = "
         "'keywords', prefilter_regex = 'ab' } } }",
         "exclude each other"},
        {"return { rules = { { id = 'q', regex = 'abc', prefilter_regex = '(' } } }",
         "rule 'q': vectorscan cannot compile prefilter_regex"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *f = write_tmp(cases[i][0]);
        const char *files[] = {f};
        char err[512] = "";
        vg_sec_rules *rs = NULL;
        assert_int_equal(vg_sec_rules_load(files, 1, &rs, err, sizeof(err)), -EINVAL);
        if (!strstr(err, cases[i][1]))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i][1]);
        unlink(f);
        free(f);
    }
    const char *missing[] = {"/nonexistent/rules.lua"};
    char err[512];
    vg_sec_rules *rs = NULL;
    assert_int_equal(vg_sec_rules_load(missing, 1, &rs, err, sizeof(err)), -ENOENT);
}

static int count_cache_files(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c '^secrets-.*\\.hsdb$'", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* The compiled database is cached, and a damaged cache file is not
 * trusted: the rules are compiled again and still find what they should. */
static void compiled_rules_cache_is_used_and_checked(void **state)
{
    char dir[] = "/tmp/vg-seccache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *old = getenv("VIGIL_SECRETS_CACHE");
    char *saved = old ? strdup(old) : NULL;
    setenv("VIGIL_SECRETS_CACHE", dir, 1);
    /* A small rule set keeps the compiles this test forces short. */
    char *small = write_tmp("return { rules = {\n"
                            "  { id = 'github-pat', regex = [[\\b(ghp_[A-Za-z0-9]{36})\\b]] },\n"
                            "  { id = 'corp', regex = [[\\b(corp_[a-z0-9]{16})\\b]] } } }\n");
    const char *files[] = {small};
    char err[512];
    struct hits h;
    const char *text = "TOKEN=ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W\n";
    for (int round = 0; round < 3; round++) {
        vg_sec_rules *rs = NULL;
        assert_int_equal(vg_sec_rules_load(files, 1, &rs, err, sizeof(err)), 0);
        assert_int_equal(scan_text(rs, "github-pat", "a.env", text, &h), 1);
        vg_sec_rules_free(rs);
        assert_int_equal(count_cache_files(dir), 1);
        if (round == 1) {
            /* Damage the file: same name, garbage inside. */
            char cmd[700];
            snprintf(cmd, sizeof(cmd),
                     "for f in '%s'/secrets-*.hsdb; do head -c 4096 /dev/urandom > \"$f\"; done",
                     dir);
            assert_int_equal(system(cmd), 0);
        }
    }
    if (saved)
        setenv("VIGIL_SECRETS_CACHE", saved, 1);
    else
        unsetenv("VIGIL_SECRETS_CACHE");
    free(saved);
    unlink(small);
    free(small);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_rule_has_examples_that_hold),
        cmocka_unit_test(user_rules_add_override_disable),
        cmocka_unit_test(prefilter_regex_says_where_to_look),
        cmocka_unit_test(broken_rules_are_refused_with_a_reason),
        cmocka_unit_test(compiled_rules_cache_is_used_and_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
