/*
 * Unused groups age out (vg_groups_age), against a real LMDB store and a
 * real workload registry, with the clock passed in: a group with members is
 * kept, an empty one younger than the limit is kept, an older one goes with
 * its learned rules but not with the rules a user wrote or imported;
 * "nodes" and custom groups stay; 0 disables; the idle time survives a
 * reopen of the store, and the time between two daemons does not count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "groups.h"
#include "rules.h"
#include "store.h"
#include "wl_fixture.h"

#define HOUR (3600LL * 1000000000LL)
#define T0 (1000 * HOUR) /* an arbitrary monotonic start */

struct env {
    char dir[64];
    vg_store *st;
    vg_rules *rules;
    vg_groups *g;
    vg_workloads *reg;
    /* what the removal callback saw */
    char removed[8][VG_GROUP_MAX];
    vg_group_removed seen[8];
    size_t nremoved;
};

static void open_all(struct env *e)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/state", e->dir);
    mkdir(path, 0700);
    assert_int_equal(vg_store_open(path, NULL, &e->st), 0);
    assert_int_equal(vg_rules_open(e->st, &e->rules), 0);
    assert_int_equal(vg_groups_new(e->st, VG_MODE_LEARN, &e->g), 0);
    snprintf(path, sizeof(path), "%s/proc", e->dir);
    assert_int_equal(vg_workloads_new(path, &e->reg), 0);
}

/* Commits (as the daemon's loop does) and closes, as a daemon stopping. */
static void close_all(struct env *e)
{
    assert_int_equal(vg_store_commit(e->st, true), 0);
    vg_workloads_free(e->reg);
    vg_groups_free(e->g);
    vg_rules_free(e->rules);
    vg_store_close(e->st);
    e->st = NULL;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/vg-gaging-XXXXXX");
    if (!mkdtemp(e->dir))
        return -1;
    open_all(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    if (e->st)
        close_all(e);
    fx_rmtree(e->dir);
    free(e);
    return 0;
}

static void on_removed(const vg_group_removed *r, void *arg)
{
    struct env *e = arg;
    assert_true(e->nremoved < 8);
    snprintf(e->removed[e->nremoved], VG_GROUP_MAX, "%s", r->name);
    e->seen[e->nremoved] = *r;
    e->seen[e->nremoved].name = e->removed[e->nremoved];
    e->nremoved++;
}

static int age(struct env *e, int64_t now, int64_t max_idle)
{
    vg_groups_aging a = {.reg = e->reg,
                         .rules = e->rules,
                         .now_ns = now,
                         .max_idle_ns = max_idle,
                         .removed = on_removed,
                         .arg = e};
    return vg_groups_age(e->g, &a);
}

/* A docker container named `name` classified into its groups (which
 * creates its service group). Not in the registry unless published. */
static vg_workload *workload(struct env *e, const char *id, const char *name, const char *image)
{
    vg_workload *w = vg_workload_new(id);
    w->runtime = VG_RT_DOCKER;
    vg_workload_set(&w->name, name);
    vg_workload_set(&w->image, image);
    assert_int_equal(vg_groups_classify(e->g, w), 0);
    return w;
}

/* The registry now holds exactly the given workloads (n may be 0). */
static void publish(struct env *e, vg_workload **ws, size_t n)
{
    vg_wl_index *idx = vg_wl_index_new();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vg_wl_index_add(idx, ws[i]), 0);
    vg_workloads_swap(e->reg, idx);
}

static int64_t idle(struct env *e, const char *group)
{
    vg_group_info gi;
    assert_int_equal(vg_groups_get(e->g, group, &gi), 0);
    return gi.idle_ns;
}

/* A proc rule for prog as user (root when NULL; "*" is a wildcard). */
static void put_rule_as(struct env *e, const char *group, const char *prog, const char *user,
                        int origin, bool persist)
{
    vg_rule r = {.plane = VG_PLANE_PROC, .action = VG_RULE_ALLOW, .origin = origin};
    snprintf(r.group, sizeof(r.group), "%s", group);
    snprintf(r.fields[0], VG_RULE_FIELD_MAX, "%s", prog);
    snprintf(r.fields[1], VG_RULE_FIELD_MAX, "/usr/bin/%s", prog);
    snprintf(r.fields[2], VG_RULE_FIELD_MAX, "%s", user ? user : "root");
    assert_int_equal(vg_rules_put(e->rules, &r, persist), 0);
}

static void put_rule(struct env *e, const char *group, const char *prog, int origin, bool persist)
{
    put_rule_as(e, group, prog, NULL, origin, persist);
}

struct find {
    const char *prog;
    int origin;
};

static int find_cb(const vg_rule *r, void *arg)
{
    struct find *q = arg;
    if (strcmp(r->fields[0], q->prog) == 0)
        q->origin = r->origin;
    return 0;
}

/* 1 when a rule for prog answers for the group (its origin in *origin). */
static int has_rule(struct env *e, const char *group, const char *prog, int *origin)
{
    char path[VG_RULE_FIELD_MAX];
    snprintf(path, sizeof(path), "/usr/bin/%s", prog);
    const char *f[] = {prog, path, "root"};
    int action;
    if (!vg_rules_match(e->rules, group, VG_PLANE_PROC, f, &action))
        return 0;
    struct find q = {prog, -1};
    vg_rules_each(e->rules, group, VG_PLANE_PROC, find_cb, &q);
    *origin = q.origin;
    return 1;
}

static void test_members_kept(void **state)
{
    struct env *e = *state;
    vg_workload *w = workload(e, "a1", "shop-web-1", "shop");
    publish(e, &w, 1);
    assert_int_equal(age(e, T0, 24 * HOUR), 0);
    /* A member for days: in use, never idle, never removed. */
    assert_int_equal(age(e, T0 + 100 * HOUR, 24 * HOUR), 0);
    assert_int_equal(age(e, T0 + 200 * HOUR, 24 * HOUR), 0);
    assert_int_equal(vg_groups_mode(e->g, "shop-web"), VG_MODE_LEARN);
    assert_int_equal(idle(e, "shop-web"), 0);
    assert_int_equal(e->nremoved, 0);
    vg_workload_unref(w);
}

static void test_old_removed_with_learned_rules(void **state)
{
    struct env *e = *state;
    vg_workload *w = workload(e, "b1", "migrate-1", "tool");
    vg_workload *keep = workload(e, "b2", "db-1", "postgres");
    assert_int_equal(vg_groups_set_mode(e->g, "migrate", VG_MODE_PROTECT, NULL), 0);
    put_rule(e, "migrate", "sh", VG_RULE_LEARNED, true);
    put_rule(e, "migrate", "psql", VG_RULE_LEARNED, true);
    put_rule(e, "migrate", "curl", VG_RULE_WRITTEN, true);        /* vigilctl rules add */
    put_rule(e, "migrate", "wget", VG_RULE_IMPORTED, true);       /* vigilctl rules import */
    put_rule(e, "migrate", "awk", VG_RULE_LEARNED, true);         /* learned, then a policy file */
    put_rule(e, "migrate", "awk", VG_RULE_WRITTEN, false);        /* says the same subject */
    put_rule(e, "db", "sh", VG_RULE_LEARNED, true);               /* another group's */
    put_rule_as(e, "migrate", "env", "*", VG_RULE_LEARNED, true); /* a wildcard's list too */
    publish(e, &keep, 1);                                         /* migrate's job has ended */

    int origin;
    assert_int_equal(has_rule(e, "migrate", "env", &origin), 1);
    assert_int_equal(age(e, T0, 24 * HOUR), 0); /* classified since: in use */
    assert_int_equal(age(e, T0 + 20 * HOUR, 24 * HOUR), 0);
    assert_int_equal(idle(e, "migrate"), 20 * HOUR);
    assert_int_equal(idle(e, "db"), 0);
    assert_int_equal(vg_groups_mode(e->g, "migrate"), VG_MODE_PROTECT);

    assert_int_equal(age(e, T0 + 25 * HOUR, 24 * HOUR), 1);
    assert_int_equal(e->nremoved, 1);
    assert_string_equal(e->seen[0].name, "migrate");
    assert_int_equal(e->seen[0].idle_ns, 25 * HOUR);
    assert_int_equal(e->seen[0].mode, VG_MODE_PROTECT);
    assert_int_equal(e->seen[0].rules, 4);      /* sh, psql, env and awk's stored rule */
    assert_int_equal(e->seen[0].rules_kept, 3); /* curl, wget, the policy's awk */
    assert_int_equal(vg_groups_mode(e->g, "migrate"), -ENOENT);
    assert_int_equal(vg_groups_mode(e->g, "db"), VG_MODE_LEARN);
    assert_int_equal(has_rule(e, "migrate", "sh", &origin), 0);
    assert_int_equal(has_rule(e, "migrate", "psql", &origin), 0);
    assert_int_equal(has_rule(e, "migrate", "env", &origin), 0); /* matched through "*" */
    assert_int_equal(has_rule(e, "migrate", "curl", &origin), 1);
    assert_int_equal(has_rule(e, "migrate", "wget", &origin), 1);
    assert_int_equal(origin, VG_RULE_IMPORTED);
    assert_int_equal(has_rule(e, "db", "sh", &origin), 1);

    /* What a restart sees: the group and its learned rules are gone from
     * the store, the user's rules are not; the policy's awk was in memory
     * only, and its learned twin is gone too. */
    close_all(e);
    open_all(e);
    assert_int_equal(vg_groups_mode(e->g, "migrate"), -ENOENT);
    assert_int_equal(vg_groups_mode(e->g, "db"), VG_MODE_LEARN);
    assert_int_equal(has_rule(e, "migrate", "sh", &origin), 0);
    assert_int_equal(has_rule(e, "migrate", "awk", &origin), 0);
    assert_int_equal(has_rule(e, "migrate", "curl", &origin), 1);
    assert_int_equal(origin, VG_RULE_WRITTEN);
    assert_int_equal(has_rule(e, "migrate", "wget", &origin), 1);
    assert_int_equal(has_rule(e, "db", "sh", &origin), 1);
    assert_int_equal(vg_rules_count(e->rules), 3);

    /* The job runs again: a new group in the default mode. */
    vg_workload *again = workload(e, "b3", "migrate-1", "tool");
    assert_int_equal(vg_groups_mode(e->g, "migrate"), VG_MODE_LEARN);
    vg_workload_unref(again);
    vg_workload_unref(w);
    vg_workload_unref(keep);
}

/* A member that came and went between two checks (a short Job) is a use. */
static void test_short_member_between_checks(void **state)
{
    struct env *e = *state;
    vg_workload *w = workload(e, "c1", "backup-1", "tool");
    vg_workload_unref(w);
    assert_int_equal(age(e, T0, 24 * HOUR), 0);
    assert_int_equal(age(e, T0 + 23 * HOUR, 24 * HOUR), 0);
    assert_int_equal(idle(e, "backup"), 23 * HOUR);
    w = workload(e, "c2", "backup-1", "tool"); /* ran for a minute, never published */
    vg_workload_unref(w);
    assert_int_equal(age(e, T0 + 30 * HOUR, 24 * HOUR), 0);
    assert_int_equal(idle(e, "backup"), 0);
    assert_int_equal(age(e, T0 + 50 * HOUR, 24 * HOUR), 0);
    assert_int_equal(idle(e, "backup"), 20 * HOUR);
    assert_int_equal(age(e, T0 + 55 * HOUR, 24 * HOUR), 1);
}

static vg_config *load(const char *dir, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/vigil.lua", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    vg_config *cfg = NULL;
    vg_diag diag = {0};
    assert_int_equal(vg_config_load(path, &cfg, &diag), 0);
    vg_diag_free(&diag);
    return cfg;
}

static void test_nodes_and_custom_kept(void **state)
{
    struct env *e = *state;
    vg_config *cfg = load(e->dir, "groups = { { name = 'web-tier', image = 'nginx*' } }\n");
    vg_diag diag = {0};
    assert_int_equal(vg_groups_configure(e->g, cfg, &diag), 0);
    vg_workload *w = workload(e, "d1", "front-1", "nginx:1.25");
    vg_workload_unref(w);
    assert_int_equal(age(e, T0, HOUR), 0);
    assert_int_equal(age(e, T0 + 1000 * HOUR, HOUR), 1); /* only the service group */
    assert_string_equal(e->seen[0].name, "front");
    assert_int_equal(vg_groups_mode(e->g, "nodes"), VG_MODE_LEARN);
    assert_int_equal(idle(e, "nodes"), 0);
    assert_int_equal(vg_groups_mode(e->g, "web-tier"), VG_MODE_LEARN);
    assert_int_equal(idle(e, "web-tier"), 1000 * HOUR);

    /* A custom group no longer declared is still the user's: stored as
     * custom, it is kept. */
    vg_config *none = load(e->dir, "log_level = 'info'\n");
    assert_int_equal(vg_groups_configure(e->g, none, &diag), 0);
    assert_int_equal(age(e, T0 + 2000 * HOUR, HOUR), 0);
    assert_int_equal(vg_groups_mode(e->g, "web-tier"), VG_MODE_LEARN);
    vg_config_free(cfg);
    vg_config_free(none);
    vg_diag_free(&diag);
}

static void test_zero_disables(void **state)
{
    struct env *e = *state;
    vg_workload *w = workload(e, "e1", "oneoff-1", "tool");
    vg_workload_unref(w);
    put_rule(e, "oneoff", "sh", VG_RULE_LEARNED, true);
    assert_int_equal(age(e, T0, 0), 0);
    assert_int_equal(age(e, T0 + 5000 * HOUR, 0), 0);
    /* Still counted, so that `vigilctl groups` shows it. */
    assert_int_equal(idle(e, "oneoff"), 5000 * HOUR);
    assert_int_equal(vg_rules_count(e->rules), 1);
    /* Turned on later (a reload): removed at the next check. */
    assert_int_equal(age(e, T0 + 5001 * HOUR, 24 * HOUR), 1);
    assert_int_equal(vg_rules_count(e->rules), 0);
}

static void test_restart_keeps_idle_time(void **state)
{
    struct env *e = *state;
    vg_workload *w = workload(e, "f1", "report-1", "tool");
    vg_workload_unref(w);
    assert_int_equal(age(e, T0, 24 * HOUR), 0);
    assert_int_equal(age(e, T0 + 20 * HOUR, 24 * HOUR), 0);
    close_all(e);

    /* A new daemon, on a clock that means nothing against the old one's,
     * days later: the stored 20 hours stay, the days down do not count. */
    open_all(e);
    assert_int_equal(idle(e, "report"), 20 * HOUR);
    assert_int_equal(age(e, 7 * HOUR, 24 * HOUR), 0);
    assert_int_equal(idle(e, "report"), 20 * HOUR);
    assert_int_equal(age(e, 10 * HOUR, 24 * HOUR), 0);
    assert_int_equal(idle(e, "report"), 23 * HOUR);
    assert_int_equal(age(e, 12 * HOUR, 24 * HOUR), 1);
    assert_string_equal(e->seen[0].name, "report");
    assert_int_equal(e->seen[0].idle_ns, 25 * HOUR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_members_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_removed_with_learned_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_member_between_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes_and_custom_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_disables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_idle_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
