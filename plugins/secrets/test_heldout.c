/*
 * The shipped rules on material they were not written from: the literal
 * true and false positives of gitleaks' rule tests
 * (testdata/heldout-gitleaks.tsv, its header names the source). Each case
 * goes through the real engine as the content of its path; the test
 * asserts what a user of the scanner would see on such files: at least 90 %
 * of the distinct secrets found, at most 2 % of the near misses reported.
 * The cases missed or wrongly reported are printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "secrets.h"

#define RULES TEST_SOURCE_DIR "/lua/secrets/rules.lua"
#define FIXTURE TEST_SOURCE_DIR "/plugins/secrets/testdata/heldout-gitleaks.tsv"

struct tally {
    int findings;
    char rule[64];
};

static void on_finding(void *arg, const vg_sec_finding *f)
{
    struct tally *t = arg;
    if (!t->findings++)
        snprintf(t->rule, sizeof(t->rule), "%s", f->rule->id);
}

/* Undoes the fixture's escapes (\n, \t, \\) in place. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
}

struct seen {
    char **text;
    size_t n;
};

/* True the first time a text is met: recall counts distinct secrets. */
static bool first_time(struct seen *s, const char *kind, const char *text)
{
    char key[8];
    snprintf(key, sizeof(key), "%s", kind);
    for (size_t i = 0; i < s->n; i++)
        if (!strncmp(s->text[i], key, 4) && !strcmp(s->text[i] + 4, text))
            return false;
    s->text = realloc(s->text, (s->n + 1) * sizeof(*s->text));
    assert_non_null(s->text);
    size_t len = strlen(text);
    s->text[s->n] = malloc(len + 5);
    assert_non_null(s->text[s->n]);
    memcpy(s->text[s->n], key, 4);
    memcpy(s->text[s->n] + 4, text, len + 1);
    s->n++;
    return true;
}

static void heldout_recall_and_false_alarms(void **state)
{
    (void)state;
    const char *files[] = {RULES};
    char err[512] = "";
    vg_sec_rules *rs = NULL;
    if (vg_sec_rules_load(files, 1, &rs, err, sizeof(err)) < 0)
        fail_msg("load: %s", err);
    FILE *f = fopen(FIXTURE, "re");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int hits = 0, found = 0, misses = 0, flagged = 0;
    struct seen seen = {0};
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *kind = strtok(line, "\t"), *src = strtok(NULL, "\t"), *path = strtok(NULL, "\t");
        char *text = strtok(NULL, "");
        assert_non_null(text);
        unescape(text);
        bool hit = !strcmp(kind, "hit");
        assert_true(hit || !strcmp(kind, "miss"));
        if (!first_time(&seen, kind, text))
            continue;
        struct tally t = {0};
        vg_sec_scanner *s = NULL;
        assert_int_equal(vg_sec_scanner_new(rs, NULL, on_finding, &t, &s), 0);
        assert_int_equal(vg_sec_scan_buffer(s, path, text, strlen(text)), 0);
        vg_sec_scanner_free(s);
        if (hit) {
            hits++;
            found += t.findings > 0;
            if (!t.findings)
                print_message("missed (%s): %.100s\n", src, text);
        } else {
            misses++;
            flagged += t.findings > 0;
            if (t.findings)
                print_message("false alarm %s (%s): %.100s\n", t.rule, src, text);
        }
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < seen.n; i++)
        free(seen.text[i]);
    free(seen.text);
    vg_sec_rules_free(rs);
    double recall = (double)found / hits, fp = (double)flagged / misses;
    print_message("held-out: %d/%d secrets found (recall %.3f), %d/%d near misses reported "
                  "(%.1f %%)\n",
                  found, hits, recall, flagged, misses, 100.0 * fp);
    assert_true(hits >= 100 && misses >= 100);
    assert_true(recall >= 0.90);
    assert_true(fp <= 0.02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heldout_recall_and_false_alarms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
