/*
 * The core's commands status, plugins and reload, called on a real
 * environment (ctl_env_fixture.h): what `vigilctl status`, `vigilctl
 * plugins` and `vigilctl reload` print comes from these replies.
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

#include "ctl_env_fixture.h"

static ctl_fx *fx;

/* The type's row of status.events. */
static const msgpack_object *event_row(const msgpack_object *res, const char *type)
{
    const msgpack_object *row = fx_find(fx_get(res, "events"), "type", type);
    assert_non_null(row);
    return row;
}

static void test_status(void **state)
{
    fx = fx_new("store_skip = { \"proc.exec\" }");
    fx_load_plugins(fx);
    fx->uptime_s = 3725;
    fx_publish(fx, "proc.exec", VG_SEV_INFO, "web", "", "{ name = 'ls' }");
    fx_publish(fx, "proc.exec", VG_SEV_INFO, "web", "", "{ name = 'cat' }");
    fx_publish(fx, "file.access", VG_SEV_INFO, "web", "", "{ path = '/etc/passwd' }");
    assert_int_equal(vg_store_commit(fx->store, false), 0);
    fx_ok(fx, "rules", "{ op = 'add', group = 'web', plane = 'proc', name = 'ls' }");

    const msgpack_object *res = fx_ok(fx, "status", NULL);
    assert_string_equal(FX_STR(res, "version"), VIGIL_VERSION);
    assert_int_equal(fx_int(res, "pid"), getpid());
    assert_int_equal(fx_int(res, "uptime_s"), 3725);
    char want[256];
    snprintf(want, sizeof(want), "%s/state", fx->dir);
    assert_string_equal(FX_STR(res, "state_dir"), want);
    snprintf(want, sizeof(want), "%s/ctl.sock", fx->dir);
    assert_string_equal(FX_STR(res, "socket"), want);

    /* One event stored (file.access) and two kept out by store_skip, which
     * status names so that a user can tell why proc.exec has no history. */
    const msgpack_object *st = fx_get(res, "store");
    assert_true(fx_int(st, "events") >= 1);
    assert_int_equal(fx_int(st, "skipped"), 2);
    assert_int_equal(fx_int(st, "commit_errors"), 0);
    assert_true(fx_int(st, "map_size") > 0);
    const msgpack_object *skip = fx_get(st, "skip");
    assert_int_equal(fx_len(skip), 1);
    assert_true(vg_mp_streq(fx_at(skip, 0), "proc.exec"));
    assert_int_equal(fx_int(event_row(res, "proc.exec"), "published"), 2);
    assert_int_equal(fx_int(event_row(res, "proc.exec"), "skipped"), 2);
    assert_int_equal(fx_int(event_row(res, "file.access"), "published"), 1);
    assert_int_equal(fx_int(event_row(res, "file.access"), "skipped"), 0);

    assert_int_equal(fx_int(fx_get(res, "bus"), "capacity"), 4096);
    assert_int_equal(fx_int(fx_get(res, "bus"), "queued"), 0);
    const msgpack_object *ctl = fx_get(res, "ctl");
    assert_int_equal(fx_int(ctl, "clients"), 0);
    assert_int_equal(fx_int(ctl, "bad_requests"), 0);

    const msgpack_object *rl = fx_get(res, "reloads");
    assert_int_equal(fx_int(rl, "ok"), 0);
    assert_int_equal(fx_int(rl, "failed"), 0);
    assert_int_equal(fx_get(rl, "last_error")->type, MSGPACK_OBJECT_NIL);

    /* The rule written above, and responses at rest. */
    assert_int_equal(fx_int(fx_get(res, "rules"), "count"), 1);
    assert_int_equal(fx_int(fx_get(res, "suppress"), "active"), 0);
    assert_int_equal(fx_int(fx_get(res, "webhooks"), "delivered"), 0);
    assert_int_equal(fx_int(fx_get(res, "webhooks"), "endpoints"), 0);

    /* The shipped policies are loaded (00-modes, 10-incidents,
     * 20-responses). */
    const msgpack_object *po = fx_get(res, "policy");
    assert_int_equal(fx_int(po, "files"), 3);
    assert_true(fx_int(po, "handlers") > 0);
    assert_int_equal(fx_int(po, "errors"), 0);

    /* The plugins: one running, one refused for its ABI, one whose init
     * failed, each with why. */
    const msgpack_object *pl = fx_get(res, "plugins");
    assert_int_equal(fx_len(pl), 3);
    const msgpack_object *ok = fx_find(pl, "state", "running");
    assert_non_null(ok);
    assert_non_null(fx_find(pl, "state", "refused"));
    const msgpack_object *failed = fx_find(pl, "state", "failed");
    assert_non_null(failed);
    assert_non_null(strstr(FX_STR(failed, "why"), "init failed"));
}

/* Before the plugins are loaded (the commands are registered first),
 * status and plugins answer an empty list rather than failing. */
static void test_plugins_before_and_after_load(void **state)
{
    fx = fx_new(NULL);
    assert_int_equal(fx_len(fx_ok(fx, "plugins", NULL)), 0);
    assert_int_equal(fx_len(fx_get(fx_ok(fx, "status", NULL), "plugins")), 0);
    fx_load_plugins(fx);
    const msgpack_object *pl = fx_ok(fx, "plugins", NULL);
    assert_int_equal(fx_len(pl), 3);
    const msgpack_object *bad = fx_find(pl, "state", "refused");
    assert_non_null(bad);
    assert_non_null(strstr(FX_STR(bad, "why"), "plugin ABI 2.7"));
    assert_non_null(strstr(FX_STR(bad, "file"), "plugin_badabi.so"));
}

static void write_policy(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* reload calls the daemon's reload; what it read shows at once (the
 * config is seen through the env's pointer, which the reload swaps). */
static void test_reload_applies(void **state)
{
    fx = fx_new(NULL);
    assert_int_equal(fx_len(fx_get(fx_get(fx_ok(fx, "status", NULL), "store"), "skip")), 0);
    fx_write_config(fx, "store_skip = { \"net.*\", \"proc.exec\" }");
    const msgpack_object *res = fx_ok(fx, "reload", NULL);
    assert_string_equal(FX_STR(res, "message"), "reloaded: config, policies and plugin settings");
    assert_int_equal(fx->reload_calls, 1);

    res = fx_ok(fx, "status", NULL);
    const msgpack_object *skip = fx_get(fx_get(res, "store"), "skip");
    assert_int_equal(fx_len(skip), 2);
    assert_true(vg_mp_streq(fx_at(skip, 0), "net.*"));
    assert_true(vg_mp_streq(fx_at(skip, 1), "proc.exec"));
    assert_int_equal(fx_int(fx_get(res, "reloads"), "ok"), 1);
    assert_int_equal(fx_int(fx_get(res, "reloads"), "failed"), 0);
}

/* A refused reload is an error reply listing every problem, one per line
 * with file and line, as `vigilctl reload` prints it; status then counts it
 * and shows the first problem; the running policies stay. */
static void test_reload_refused(void **state)
{
    fx = fx_new(NULL);
    write_policy(fx->policies, "50-broken.lua",
                 "-- a typo\nvigil.on(\"proc.exec\", function(ev)\n"
                 "  return \"allow\"\nend\nlocal x = = 1\n");
    const char *msg = fx_fail(fx, "reload", NULL, EINVAL);
    assert_int_equal(fx->reload_calls, 1);
    char where[256];
    snprintf(where, sizeof(where), "%s/50-broken.lua:5:", fx->policies);
    assert_non_null(strstr(msg, where));

    /* A config with two problems: each on its own line, with its line. */
    fx_write_config(fx, "no_such_setting = 1\nevents_max = 'many'");
    msg = fx_fail(fx, "reload", NULL, EINVAL);
    assert_int_equal(fx->reload_calls, 2);
    const char *nl = strchr(msg, '\n');
    assert_non_null(nl);
    assert_non_null(strstr(msg, "no_such_setting"));
    assert_non_null(strstr(nl + 1, "events_max"));
    snprintf(where, sizeof(where), "%s:", fx->config);
    assert_true(strncmp(msg, where, strlen(where)) == 0);
    assert_true(strncmp(nl + 1, where, strlen(where)) == 0);

    const msgpack_object *res = fx_ok(fx, "status", NULL);
    const msgpack_object *rl = fx_get(res, "reloads");
    assert_int_equal(fx_int(rl, "ok"), 0);
    assert_int_equal(fx_int(rl, "failed"), 2);
    assert_non_null(strstr(FX_STR(rl, "last_error"), "no_such_setting"));
    assert_int_equal(fx_int(fx_get(res, "policy"), "files"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_status, fx_teardown),
        cmocka_unit_test_teardown(test_plugins_before_and_after_load, fx_teardown),
        cmocka_unit_test_teardown(test_reload_applies, fx_teardown),
        cmocka_unit_test_teardown(test_reload_refused, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
