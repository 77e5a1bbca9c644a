/*
 * The "some value" question the proc plugin asks before an exec, when it
 * knows the file but not the name it will run as: vg_rules_match_any on the
 * index, and the same through the policy's cached decide() with "" fields.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "policy_harness.h"
#include "rules.h"

static vg_rule proc_rule(const char *group, const char *name, const char *path, const char *user,
                         int action)
{
    vg_rule r = {.plane = VG_PLANE_PROC, .action = action, .origin = VG_RULE_LEARNED};
    snprintf(r.group, sizeof(r.group), "%s", group);
    snprintf(r.fields[0], sizeof(r.fields[0]), "%s", name);
    snprintf(r.fields[1], sizeof(r.fields[1]), "%s", path);
    snprintf(r.fields[2], sizeof(r.fields[2]), "%s", user);
    return r;
}

/* The action of the matching rule, or -1 when none matches. */
static int any3(vg_rules *r, const char *group, const char *name, const char *path,
                const char *user)
{
    const char *f[] = {name, path, user};
    int action = -7;
    int found = vg_rules_match_any(r, group, VG_PLANE_PROC, f, &action);
    assert_true(found == 0 || found == 1);
    return found ? action : -1;
}

static void put(vg_rules *r, vg_rule rule)
{
    assert_int_equal(vg_rules_put(r, &rule, false), 0);
}

static void test_any_name_of_a_multicall_binary(void **state)
{
    vg_rules *r;
    assert_int_equal(vg_rules_open(NULL, &r), 0);
    put(r, proc_rule("web", "cat", "/bin/busybox", "0", VG_RULE_ALLOW));
    put(r, proc_rule("web", "sh", "/bin/busybox", "0", VG_RULE_ALLOW));
    put(r, proc_rule("db", "nc", "/bin/nc", "0", VG_RULE_ALLOW));
    /* Some name of /bin/busybox is allowed in web: the exec may go on. */
    assert_int_equal(any3(r, "web", "", "/bin/busybox", ""), VG_RULE_ALLOW);
    /* A known field still has to match. */
    assert_int_equal(any3(r, "web", "", "/bin/busybox", "1000"), -1);
    assert_int_equal(any3(r, "web", "cat", "/bin/busybox", ""), VG_RULE_ALLOW);
    assert_int_equal(any3(r, "web", "wget", "/bin/busybox", ""), -1);
    /* Nothing of web allows /bin/nc; db's rule is db's. */
    assert_int_equal(any3(r, "web", "", "/bin/nc", ""), -1);
    assert_int_equal(any3(r, "db", "", "/bin/nc", ""), VG_RULE_ALLOW);
    assert_int_equal(any3(r, "nodes", "", "/bin/busybox", ""), -1);
    vg_rules_free(r);
}

static void test_deny_rules(void **state)
{
    vg_rules *r;
    assert_int_equal(vg_rules_open(NULL, &r), 0);
    /* A deny of one name leaves the file allowed for the others. */
    put(r, proc_rule("web", "cat", "/bin/busybox", "0", VG_RULE_ALLOW));
    put(r, proc_rule("web", "wget", "/bin/busybox", "*", VG_RULE_DENY));
    assert_int_equal(any3(r, "web", "", "/bin/busybox", ""), VG_RULE_ALLOW);
    /* Only deny rules: deny. */
    put(r, proc_rule("web", "nc", "/bin/nc", "0", VG_RULE_DENY));
    assert_int_equal(any3(r, "web", "", "/bin/nc", ""), VG_RULE_DENY);
    /* A deny of every name and user of the file wins over any allow. */
    put(r, proc_rule("web", "*", "/bin/busybox", "*", VG_RULE_DENY));
    assert_int_equal(any3(r, "web", "", "/bin/busybox", ""), VG_RULE_DENY);
    /* A rule without a path (learned from a process whose program was not
     * known, or written so) allows no file before its exec. */
    put(r, proc_rule("web", "tool", "*", "0", VG_RULE_ALLOW));
    assert_int_equal(any3(r, "web", "", "/opt/anything", ""), -1);
    assert_int_equal(any3(r, "web", "", "/bin/cat", ""), -1);
    /* A rule naming the file, whatever the name and user, does. */
    put(r, proc_rule("web", "*", "/opt/tool", "*", VG_RULE_ALLOW));
    assert_int_equal(any3(r, "web", "", "/opt/tool", ""), VG_RULE_ALLOW);
    vg_rules_free(r);
}

static void test_decide_cached_reads_empty_as_any(void **state)
{
    char dir[] = "/tmp/vg-rules-any-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *dirs[] = {dir, NULL};
    vg_diag diag = {0};
    vg_harness *h;
    assert_int_equal(vg_harness_new(dirs, VG_MODE_LEARN, &diag, &h), 0);
    vg_policy *p = vg_harness_policy(h);
    const char *pre[] = {"", "/bin/busybox", ""};
    const char *cat[] = {"cat", "/bin/busybox", "0"};
    const char *wget[] = {"wget", "/bin/busybox", "0"};
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, pre), VG_DECIDE_UNKNOWN);
    put(vg_harness_rules(h), proc_rule("web", "cat", "/bin/busybox", "0", VG_RULE_ALLOW));
    /* The new rule is seen at once, cached or not. */
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, pre), VG_DECIDE_ALLOW);
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, pre), VG_DECIDE_ALLOW);
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, cat), VG_DECIDE_ALLOW);
    /* The exact question about another name is not answered by "some name". */
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, wget), VG_DECIDE_UNKNOWN);
    put(vg_harness_rules(h), proc_rule("web", "*", "/bin/busybox", "*", VG_RULE_DENY));
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, pre), VG_DECIDE_DENY);

    /* Other planes keep "" as "not known": a file rule for one program
     * does not answer for an unknown program. */
    vg_rule w = {
        .group = "web", .plane = VG_PLANE_FILE, .action = VG_RULE_ALLOW, .origin = VG_RULE_LEARNED};
    snprintf(w.fields[0], sizeof(w.fields[0]), "/etc/app.conf");
    snprintf(w.fields[1], sizeof(w.fields[1]), "/usr/bin/app");
    snprintf(w.fields[2], sizeof(w.fields[2]), "write");
    put(vg_harness_rules(h), w);
    const char *known[] = {"/etc/app.conf", "/usr/bin/app", "write"};
    const char *unknown[] = {"/etc/app.conf", "", "write"};
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_FILE, known), VG_DECIDE_ALLOW);
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_FILE, unknown), VG_DECIDE_UNKNOWN);
    vg_harness_free(h);
    vg_diag_free(&diag);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_name_of_a_multicall_binary),
        cmocka_unit_test(test_deny_rules),
        cmocka_unit_test(test_decide_cached_reads_empty_as_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
