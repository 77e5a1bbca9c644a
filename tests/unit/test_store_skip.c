/*
 * The store_skip list: the glob on event types, the entries the config
 * refuses, and which real events (made by vg_event_new, as the bus makes
 * them) are kept out of the store and counted.
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

#include "store_skip.h"

static void test_glob(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *type;
        bool match;
    } cases[] = {
        {"proc.exit", "proc.exit", true},
        {"proc.exit", "proc.exec", false},
        {"proc.exit", "proc.exit2", false},
        {"proc.exit", "xproc.exit", false},
        {"proc.*", "proc.exec", true},
        {"proc.*", "proc.", true}, /* "*" also matches nothing */
        {"proc.*", "proc", false},
        {"proc.*", "file.exec", false},
        {"*.stats", "file.stats", true},
        {"*.stats", "a.b.stats", true},
        {"*.stats", ".stats", true},
        {"*.stats", "file.stat", false},
        {"*.stats", "file.statsx", false},
        {"*", "", true},
        {"*", "anything.at.all", true},
        {"a*b*c", "abc", true},
        {"a*b*c", "aXbYc", true},
        {"a*b*c", "abcbc", true},
        {"a*b*c", "acb", false},
        {"a*b*c", "abcb", false},
        {"**x", "x", true},
        {"*x*", "aaxaa", true},
        {"*ab", "aab", true}, /* backtracking past a partial match */
        {"*aab", "aaab", true},
        {"*aab", "aaba", false},
        {"proc.?", "proc.x", false}, /* only "*" is special */
        {"proc.?", "proc.?", true},
        {"[ab].x", "a.x", false},
        {"", "", true},
        {"", "a", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = vg_type_glob_match(cases[i].pattern, cases[i].type);
        if (got != cases[i].match)
            fail_msg("'%s' on '%s': got %d", cases[i].pattern, cases[i].type, got);
    }
}

/* The worst case for a naive recursive glob: many stars and a near miss. It
 * must answer at once and without recursion. */
static void test_glob_many_stars(void **state)
{
    (void)state;
    char pat[48], type[48];
    memset(pat, 0, sizeof(pat));
    for (int i = 0; i < 23; i++)
        memcpy(pat + 2 * i, "*a", 2);
    memset(type, 'a', 46);
    type[46] = '\0';
    assert_true(vg_type_glob_match(pat, type)); /* 23 a's wanted: 46 is plenty... */
    pat[45] = 'b';                              /* ...but now the last must be a 'b' */
    assert_false(vg_type_glob_match(pat, type));
    type[45] = 'b';
    assert_true(vg_type_glob_match(pat, type));
}

static void test_protected(void **state)
{
    (void)state;
    const char *always[] = {"policy.error",   "response.done",    "proc.violation",
                            "file.violation", "net.violation",    "policy.violation",
                            "proc.incident",  "newplane.incident"};
    const char * not [] = {"proc.exec",      "proc.exit", "file.stats",      "policy.errors",
                           "response.doneX", "violation", "proc.violations", "bench.result"};
    for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        if (!vg_type_always_stored(always[i]))
            fail_msg("%s is not protected", always[i]);
    for (size_t i = 0; i < sizeof(not ) / sizeof(not [0]); i++)
        if (vg_type_always_stored(not [i]))
            fail_msg("%s is protected", not [i]);
}

static void test_check_pattern(void **state)
{
    (void)state;
    char err[200];
    const char *good[] = {"proc.exit", "*.stats", "proc.*",     "*.violation*",
                          "x*",        "a.b.c",   "*violation", "custom.alert"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (vg_store_skip_check_pattern(good[i], err, sizeof(err)) != 0)
            fail_msg("'%s' refused: %s", good[i], err);
    const struct {
        const char *pattern, *part;
    } bad[] = {
        {"", "must not be empty"},
        {"*", "would skip every event type"},
        {"**", "would skip every event type"},
        {"*.*", "would skip every event type"},
        {".", "would skip every event type"},
        {"proc.violation", "always stored"},
        {"policy.error", "always stored"},
        {"response.done", "always stored"},
        {"*.violation", "always stored"},
        {"net.*.incident", "always stored"},
        {"proc.exit ", "blank or a control character"},
        {"proc\texit", "blank or a control character"},
        {"proc\x7f", "blank or a control character"},
        {"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv", "longer than an event type"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(vg_store_skip_check_pattern(bad[i].pattern, err, sizeof(err)), -EINVAL);
        if (!strstr(err, bad[i].part))
            fail_msg("'%s': '%s' lacks '%s'", bad[i].pattern, err, bad[i].part);
    }
}

/* An event as the bus hands it to its subscribers. */
static vg_event *event(const char *type, int severity)
{
    vg_event_in in = {.type = vg_event_type_id(type), .severity = severity, .group = "g"};
    vg_event *ev = NULL;
    assert_true(in.type >= 0);
    assert_int_equal(vg_event_new(&in, &ev), 0);
    return ev;
}

/* Publishes n events of type at severity through s; returns how many were
 * skipped. */
static int skipped(vg_store_skip *s, const char *type, int severity, int n)
{
    vg_event *ev = event(type, severity);
    int k = 0;
    for (int i = 0; i < n; i++)
        k += vg_store_skip_event(s, ev);
    free(ev);
    return k;
}

static void test_skip_and_count(void **state)
{
    (void)state;
    vg_store_skip *s = NULL;
    assert_int_equal(vg_store_skip_new(&s), 0);
    /* An empty list skips nothing. */
    assert_int_equal(skipped(s, "sk.exec", VG_SEV_INFO, 3), 0);

    const char *const list[] = {"sk.exit", "*.stats", "sk.*", NULL};
    assert_int_equal(vg_store_skip_set(s, list), 0);
    assert_int_equal(skipped(s, "sk.exit", VG_SEV_DEBUG, 4), 4);
    assert_int_equal(skipped(s, "file.stats", VG_SEV_DEBUG, 2), 2);
    assert_int_equal(skipped(s, "sk.exec", VG_SEV_INFO, 3), 3); /* by "sk.*" */
    assert_int_equal(skipped(s, "workload.start", VG_SEV_INFO, 5), 0);
    /* "sk.*" passes over the always-stored types... */
    assert_int_equal(skipped(s, "sk.violation", VG_SEV_INFO, 2), 0);
    assert_int_equal(skipped(s, "sk.incident", VG_SEV_NOTICE, 2), 0);
    /* ...and a warning is stored whatever its type. */
    assert_int_equal(skipped(s, "sk.exit", VG_SEV_WARNING, 2), 0);
    assert_int_equal(skipped(s, "sk.exit", VG_SEV_CRITICAL, 1), 0);
    assert_int_equal(skipped(s, "sk.exit", VG_SEV_NOTICE, 1), 1);

    assert_int_equal(vg_store_skip_count(s, vg_event_type_find("sk.exit")), 5);
    assert_int_equal(vg_store_skip_count(s, vg_event_type_find("file.stats")), 2);
    assert_int_equal(vg_store_skip_count(s, vg_event_type_find("sk.exec")), 3);
    assert_int_equal(vg_store_skip_count(s, vg_event_type_find("workload.start")), 0);
    assert_int_equal(vg_store_skip_count(s, vg_event_type_find("sk.violation")), 0);
    assert_int_equal(vg_store_skip_count(s, -1), 0);
    assert_int_equal(vg_store_skip_count(s, VG_EVENT_TYPES_MAX), 0);
    assert_int_equal(vg_store_skip_total(s), 10);

    /* A new list (a reload) judges every type again; the counts stay. */
    const char *const other[] = {"workload.start", NULL};
    assert_int_equal(vg_store_skip_set(s, other), 0);
    assert_int_equal(skipped(s, "sk.exit", VG_SEV_DEBUG, 2), 0);
    assert_int_equal(skipped(s, "workload.start", VG_SEV_INFO, 1), 1);
    assert_int_equal(vg_store_skip_count(s, vg_event_type_find("sk.exit")), 5);
    assert_int_equal(vg_store_skip_total(s), 11);

    /* A list the config would refuse is refused here too, the old one stays. */
    const char *const bad[] = {"sk.exit", "*", NULL};
    assert_int_equal(vg_store_skip_set(s, bad), -EINVAL);
    assert_int_equal(skipped(s, "sk.exit", VG_SEV_DEBUG, 1), 0);
    assert_int_equal(skipped(s, "workload.start", VG_SEV_INFO, 1), 1);

    assert_int_equal(vg_store_skip_set(s, NULL), 0);
    assert_int_equal(skipped(s, "workload.start", VG_SEV_INFO, 1), 0);
    vg_store_skip_free(s);
    vg_store_skip_free(NULL);
}

/* What the store keeps over routine events when it must drop some, and
 * the per-type count of what it could not keep. */
static void test_important_and_lost(void **state)
{
    (void)state;
    vg_store_skip *s = NULL;
    assert_int_equal(vg_store_skip_new(&s), 0);
    struct {
        const char *type;
        int severity;
        bool important;
    } cases[] = {{"proc.violation", VG_SEV_INFO, true}, {"net.incident", VG_SEV_NOTICE, true},
                 {"policy.error", VG_SEV_INFO, true},   {"response.done", VG_SEV_INFO, true},
                 {"proc.exec", VG_SEV_WARNING, true},   {"proc.exec", VG_SEV_INFO, false},
                 {"proc.exit", VG_SEV_DEBUG, false}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_event *ev = event(cases[i].type, cases[i].severity);
        assert_int_equal(vg_store_skip_important(ev), cases[i].important);
        vg_store_skip_lost(s, ev);
        free(ev);
    }
    assert_int_equal(vg_store_skip_lost_count(s, vg_event_type_find("proc.exec")), 2);
    assert_int_equal(vg_store_skip_lost_count(s, vg_event_type_find("proc.exit")), 1);
    assert_int_equal(vg_store_skip_lost_count(s, vg_event_type_find("workload.start")), 0);
    assert_int_equal(vg_store_skip_lost_total(s), 7);
    vg_store_skip_free(s);
}

static void test_list_is_bounded(void **state)
{
    (void)state;
    vg_store_skip *s = NULL;
    assert_int_equal(vg_store_skip_new(&s), 0);
    char names[VG_STORE_SKIP_MAX + 1][16];
    const char *list[VG_STORE_SKIP_MAX + 2];
    for (int i = 0; i <= VG_STORE_SKIP_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "b.%d", i);
        list[i] = names[i];
    }
    list[VG_STORE_SKIP_MAX + 1] = NULL;
    assert_int_equal(vg_store_skip_set(s, list), -EINVAL);
    list[VG_STORE_SKIP_MAX] = NULL;
    assert_int_equal(vg_store_skip_set(s, list), 0);
    assert_int_equal(skipped(s, "b.255", VG_SEV_INFO, 1), 1);
    assert_int_equal(skipped(s, "b.256", VG_SEV_INFO, 1), 0);
    vg_store_skip_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_glob_many_stars),
        cmocka_unit_test(test_protected),
        cmocka_unit_test(test_check_pattern),
        cmocka_unit_test(test_skip_and_count),
        cmocka_unit_test(test_list_is_bounded),
        cmocka_unit_test(test_important_and_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
