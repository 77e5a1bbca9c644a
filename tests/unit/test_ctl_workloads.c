/*
 * The commands workloads, groups, group.show and group.mode on a real
 * environment (ctl_env_fixture.h): workloads found by discovery in a
 * fixture tree (a docker compose container, a plain runc one), their
 * service groups and a custom group from the config. A mode change is
 * stored before the reply, applied to the workloads, drops the policy's
 * cached decisions, and is published; a bad mode name changes nothing.
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

#include "ctl_env_fixture.h"

static ctl_fx *fx;

#define CUSTOM_GROUPS "groups = { { name = 'front', label = { tier = 'front' } } }"

static const msgpack_object *group_row(const char *name)
{
    const msgpack_object *row = fx_find(fx_ok(fx, "groups", NULL), "name", name);
    if (!row)
        fail_msg("no group '%s' in the groups list", name);
    return row;
}

static const msgpack_object *workload_row(const char *id)
{
    const msgpack_object *row = fx_find(fx_ok(fx, "workloads", NULL), "id", id);
    if (!row)
        fail_msg("no workload '%s' in the workloads list", id);
    return row;
}

static void test_workloads(void **state)
{
    fx = fx_new(CUSTOM_GROUPS);
    const msgpack_object *list = fx_ok(fx, "workloads", NULL);
    assert_int_equal(fx_len(list), 2); /* the host process is no workload */

    const msgpack_object *w = fx_find(list, "id", fx->docker);
    assert_non_null(w);
    assert_string_equal(FX_STR(w, "name"), "shop-web-1");
    assert_string_equal(FX_STR(w, "runtime"), "docker");
    assert_int_equal(fx_int(w, "pid"), 1001);
    assert_int_equal(fx_int(w, "pids"), 2);
    assert_string_equal(FX_STR(w, "group"), FX_DOCKER_GROUP);
    assert_string_equal(FX_STR(w, "mode"), "learn");
    assert_string_equal(FX_STR(w, "image"), "nginx:1.25");
    const msgpack_object *groups = fx_get(w, "groups");
    assert_int_equal(fx_len(groups), 1);
    assert_true(vg_mp_streq(fx_at(groups, 0), "front"));
    assert_string_equal(FX_STR(fx_get(w, "labels"), "tier"), "front");
    assert_non_null(strstr(FX_STR(w, "cgroup"), fx->docker));

    w = fx_find(list, "id", "batch-7");
    assert_non_null(w);
    assert_string_equal(FX_STR(w, "runtime"), "runc");
    assert_int_equal(fx_int(w, "pid"), 2001);
    assert_string_equal(FX_STR(w, "group"), "batch");
    assert_int_equal(fx_len(fx_get(w, "groups")), 0);
}

static void test_groups_and_show(void **state)
{
    fx = fx_new(CUSTOM_GROUPS);
    const msgpack_object *list = fx_ok(fx, "groups", NULL);
    assert_int_equal(fx_len(list), 4);
    static const struct {
        const char *name, *kind;
        int members;
    } want[] = {
        {FX_DOCKER_GROUP, "service", 1},
        {"batch", "service", 1},
        {"front", "custom", 1},
        {"nodes", "nodes", 0},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const msgpack_object *g = fx_find(list, "name", want[i].name);
        if (!g)
            fail_msg("no group %s", want[i].name);
        assert_string_equal(FX_STR(g, "kind"), want[i].kind);
        assert_string_equal(FX_STR(g, "mode"), "learn");
        assert_int_equal(fx_int(g, "members"), want[i].members);
        assert_int_equal(fx_int(g, "unused_s"), 0);
    }

    /* A custom group shows its criteria and its members. */
    const msgpack_object *g = fx_ok(fx, "group.show", "{ name = 'front' }");
    assert_string_equal(FX_STR(g, "kind"), "custom");
    assert_int_equal(fx_int(g, "members"), 1);
    const msgpack_object *members = fx_get(g, "workloads");
    assert_int_equal(fx_len(members), 1);
    assert_string_equal(FX_STR(fx_at(members, 0), "id"), fx->docker);
    const msgpack_object *crit = fx_get(g, "criteria");
    assert_string_equal(FX_STR(fx_get(crit, "label"), "tier"), "front");
    bool match = true;
    assert_int_equal(vg_mp_get_bool(crit, "match", &match), 0);
    assert_false(match);

    /* A service group has no criteria. */
    g = fx_ok(fx, "group.show", "{ name = 'batch' }");
    assert_string_equal(FX_STR(g, "kind"), "service");
    assert_int_equal(fx_get(g, "criteria")->type, MSGPACK_OBJECT_NIL);
    assert_string_equal(FX_STR(fx_at(fx_get(g, "workloads"), 0), "id"), "batch-7");

    assert_string_equal(fx_fail(fx, "group.show", "{ name = 'nosuch' }", ENOENT),
                        "no group 'nosuch'");
    assert_string_equal(fx_fail(fx, "group.show", NULL, EINVAL), "argument 'name' is missing");
    assert_string_equal(fx_fail(fx, "group.show", "{ name = 5 }", EINVAL),
                        "argument 'name' must be a string (of at most 127 bytes)");
}

/* The policy's cached answer for curl in the docker container's group. */
static int cached_curl(void)
{
    const char *fields[] = {"curl", "/usr/bin/curl", "root", NULL, NULL};
    return vg_policy_decide_cached(fx->policy, FX_DOCKER_GROUP, VG_PLANE_PROC, fields);
}

/* Runs curl through the policies, as the proc plugin's event would. */
static void exec_curl(void)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    fx_pack_args("{ pid = 1001, name = 'curl', path = '/usr/bin/curl', user = 'root', uid = 0, "
                 "euid = 0, parent_euid = 0 }",
                 &sb);
    vg_event_in in = {.type = vg_event_type_id("proc.exec"),
                      .severity = VG_SEV_INFO,
                      .group = FX_DOCKER_GROUP,
                      .workload = fx->docker,
                      .body = sb.data,
                      .body_len = sb.size};
    vg_event *ev;
    assert_int_equal(vg_event_new(&in, &ev), 0);
    vg_policy_handle(fx->policy, ev);
    free(ev);
    msgpack_sbuffer_destroy(&sb);
}

static void test_group_mode(void **state)
{
    fx = fx_new(CUSTOM_GROUPS);
    const msgpack_object *r =
        fx_ok(fx, "group.mode", "{ name = '" FX_DOCKER_GROUP "', mode = 'protect' }");
    assert_string_equal(FX_STR(r, "group"), FX_DOCKER_GROUP);
    assert_string_equal(FX_STR(r, "mode"), "protect");
    assert_string_equal(FX_STR(r, "previous"), "learn");
    /* Stored before the reply: a restart (a second groups module on the
     * store) finds it. */
    assert_false(vg_store_dirty(fx->store));
    vg_groups *again;
    assert_int_equal(vg_groups_new(fx->store, VG_MODE_LEARN, &again), 0);
    assert_int_equal(vg_groups_mode(again, FX_DOCKER_GROUP), VG_MODE_PROTECT);
    vg_groups_free(again);

    /* The workload runs in the new mode at once; the other does not. */
    assert_string_equal(FX_STR(workload_row(fx->docker), "mode"), "protect");
    assert_string_equal(FX_STR(workload_row("batch-7"), "mode"), "learn");
    assert_string_equal(FX_STR(group_row(FX_DOCKER_GROUP), "mode"), "protect");

    /* The change is an event: {mode, previous}, the group in the header. */
    vg_bus_drain(fx->bus);
    const msgpack_object *evs = fx_ok(fx, "events", "{ type = 'group.mode' }");
    assert_int_equal(fx_len(evs), 1);
    assert_string_equal(FX_STR(fx_at(evs, 0), "group"), FX_DOCKER_GROUP);
    assert_string_equal(FX_STR(fx_at(evs, 0), "mode"), "protect");
    assert_string_equal(FX_STR(fx_at(evs, 0), "previous"), "learn");

    /* Setting the same mode again answers, but publishes nothing. */
    r = fx_ok(fx, "group.mode", "{ name = '" FX_DOCKER_GROUP "', mode = 'protect' }");
    assert_string_equal(FX_STR(r, "previous"), "protect");
    vg_bus_drain(fx->bus);
    assert_int_equal(fx_len(fx_ok(fx, "events", "{ type = 'group.mode' }")), 1);
}

/* A permission asked right after the reply sees the new mode: the cached
 * deny of protect mode is gone once the group is back in learn. */
static void test_group_mode_drops_cached_decisions(void **state)
{
    fx = fx_new(NULL);
    fx_ok(fx, "group.mode", "{ name = '" FX_DOCKER_GROUP "', mode = 'protect' }");
    assert_int_equal(cached_curl(), VG_DECIDE_UNKNOWN);
    exec_curl();
    assert_int_equal(cached_curl(), VG_DECIDE_DENY);
    fx_ok(fx, "group.mode", "{ name = '" FX_DOCKER_GROUP "', mode = 'learn' }");
    assert_int_equal(cached_curl(), VG_DECIDE_UNKNOWN);
}

/* A bad mode name or group is refused with a message, and nothing changes:
 * no mode, no event. */
static void test_group_mode_refused(void **state)
{
    fx = fx_new(NULL);
    vg_bus_drain(fx->bus);
    static const struct {
        const char *args, *error;
        int err;
    } cases[] = {
        {"{ name = '" FX_DOCKER_GROUP "', mode = 'enforce' }",
         "mode 'enforce' is not one of learn, monitor, protect", EINVAL},
        {"{ name = '" FX_DOCKER_GROUP "', mode = 'PROTECT' }",
         "mode 'PROTECT' is not one of learn, monitor, protect", EINVAL},
        {"{ name = '" FX_DOCKER_GROUP "', mode = 'protect-everything' }",
         "argument 'mode' must be a string (of at most 15 bytes)", EINVAL},
        {"{ name = '" FX_DOCKER_GROUP "', mode = 2 }",
         "argument 'mode' must be a string (of at most 15 bytes)", EINVAL},
        {"{ name = '" FX_DOCKER_GROUP "' }", "argument 'mode' is missing", EINVAL},
        {"{ mode = 'protect' }", "argument 'name' is missing", EINVAL},
        {"{ name = 'nosuch', mode = 'protect' }", "no group 'nosuch'", ENOENT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(fx_fail(fx, "group.mode", cases[i].args, cases[i].err), cases[i].error);
    assert_string_equal(FX_STR(group_row(FX_DOCKER_GROUP), "mode"), "learn");
    assert_string_equal(FX_STR(workload_row(fx->docker), "mode"), "learn");
    vg_bus_drain(fx->bus);
    assert_int_equal(fx_len(fx_ok(fx, "events", "{ type = 'group.mode' }")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_workloads, fx_teardown),
        cmocka_unit_test_teardown(test_groups_and_show, fx_teardown),
        cmocka_unit_test_teardown(test_group_mode, fx_teardown),
        cmocka_unit_test_teardown(test_group_mode_drops_cached_decisions, fx_teardown),
        cmocka_unit_test_teardown(test_group_mode_refused, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
