/*
 * The "events" command on a real environment (ctl_env_fixture.h): events
 * published on the bus are stored by the store subscriber and queried with
 * the filters of `vigilctl events` (type, group, workload, since, until,
 * limit), oldest first; what store_skip or a suppression keeps out is not
 * there; bad filters are refused.
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

#include <cmocka.h>

#include "ctl_env_fixture.h"

static ctl_fx *fx;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The body field `key` of each event, joined with spaces. */
static const char *names(const msgpack_object *list, const char *key)
{
    static char buf[4096];
    size_t off = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < fx_len(list); i++) {
        char v[256] = "?";
        vg_mp_get_cstr(fx_at(list, i), key, v, sizeof(v));
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "", v);
    }
    return buf;
}

static void query(const char *args, const char *want_names)
{
    const msgpack_object *list = fx_ok(fx, "events", args);
    if (strcmp(names(list, "name"), want_names) != 0)
        fail_msg("events %s: '%s', want '%s'", args, names(list, "name"), want_names);
}

/* Two batches with a known time between them. */
static int64_t publish_history(void)
{
    fx_publish(fx, "proc.exec", VG_SEV_INFO, "web", "w1", "{ name = 'a1', pid = 10 }");
    fx_publish(fx, "file.access", VG_SEV_INFO, "db", "w2", "{ name = 'a2', path = '/etc/x' }");
    fx_publish(fx, "proc.violation", VG_SEV_WARNING, "web", "w1", "{ name = 'a3' }");
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    int64_t mid = now_ns();
    nanosleep(&pause, NULL);
    fx_publish(fx, "proc.exec", VG_SEV_INFO, "db", "w2", "{ name = 'b1', pid = 11 }");
    fx_publish(fx, "proc.exec", VG_SEV_INFO, "web", "w3", "{ name = 'b2', pid = 12 }");
    assert_int_equal(vg_store_commit(fx->store, false), 0);
    return mid;
}

static void test_query_filters(void **state)
{
    fx = fx_new(NULL);
    int64_t t0 = now_ns();
    int64_t mid = publish_history();
    char args[256];

    /* Each record as vigilctl prints it: header and body fields. */
    const msgpack_object *all = fx_ok(fx, "events", "{ type = 'proc.exec' }");
    assert_int_equal(fx_len(all), 3);
    const msgpack_object *e = fx_at(all, 0);
    assert_string_equal(FX_STR(e, "type"), "proc.exec");
    assert_string_equal(FX_STR(e, "severity"), "info");
    assert_string_equal(FX_STR(e, "group"), "web");
    assert_string_equal(FX_STR(e, "workload"), "w1");
    assert_string_equal(FX_STR(e, "name"), "a1");
    assert_int_equal(fx_int(e, "pid"), 10);
    assert_true(fx_int(e, "time") >= t0);
    /* Oldest first, ids growing. */
    assert_true(fx_int(fx_at(all, 1), "id") > fx_int(e, "id"));
    assert_true(fx_int(fx_at(all, 2), "time") >= fx_int(fx_at(all, 1), "time"));

    query("{ type = 'proc.exec' }", "a1 b1 b2");
    query("{ group = 'web', since = 1 }", "a1 a3 b2");
    query("{ group = 'db' }", "a2 b1");
    query("{ workload = 'w2' }", "a2 b1");
    query("{ type = 'proc.exec', group = 'web' }", "a1 b2");
    query("{ type = 'net.connect' }", "");
    query("{ group = 'nosuch' }", "");
    snprintf(args, sizeof(args), "{ since = %lld, group = 'web' }", (long long)mid);
    query(args, "b2");
    snprintf(args, sizeof(args), "{ ['until'] = %lld, type = 'proc.exec' }", (long long)mid);
    query(args, "a1");
    snprintf(args, sizeof(args), "{ since = %lld, ['until'] = %lld }", (long long)t0,
             (long long)mid);
    query(args, "a1 a2 a3");
    /* limit keeps the newest, still oldest first. */
    query("{ type = 'proc.exec', limit = 2 }", "b1 b2");
    query("{ group = 'web', limit = 1 }", "b2");
}

/* The workload.start events of the discovery scan are stored like any
 * other, with the workload and its group in the header. */
static void test_discovery_events(void **state)
{
    fx = fx_new(NULL);
    vg_bus_drain(fx->bus);
    const msgpack_object *list = fx_ok(fx, "events", "{ type = 'workload.start' }");
    char group[128] = "";
    const msgpack_object *docker = fx_find(list, "workload", fx->docker);
    assert_non_null(docker);
    assert_int_equal(vg_mp_get_cstr(docker, "group", group, sizeof(group)), 0);
    assert_string_equal(group, FX_DOCKER_GROUP);
    assert_non_null(fx_find(list, "workload", "batch-7"));
}

/* store_skip keeps its types out of the history (a warning or worse is
 * kept whatever its type); a suppression keeps matching events out. */
static void test_skipped_and_suppressed(void **state)
{
    fx = fx_new("store_skip = { \"proc.*\" }");
    fx_publish(fx, "proc.exec", VG_SEV_INFO, "web", "", "{ name = 'skipped' }");
    fx_publish(fx, "proc.violation", VG_SEV_WARNING, "web", "", "{ name = 'finding' }");
    fx_publish(fx, "file.access", VG_SEV_INFO, "web", "", "{ name = 'kept' }");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    fx_pack_args("{ duration_s = 60, match = { type = 'file.access', name = 'noisy' } }", &sb);
    assert_int_equal(vg_suppress_add(fx->suppress, sb.data, sb.size), 0);
    msgpack_sbuffer_destroy(&sb);
    fx_publish(fx, "file.access", VG_SEV_INFO, "web", "", "{ name = 'noisy' }");
    fx_publish(fx, "file.access", VG_SEV_INFO, "web", "", "{ name = 'quiet' }");
    query("{ group = 'web' }", "finding kept quiet");
}

static void test_bad_filters(void **state)
{
    fx = fx_new(NULL);
    char args[512], big[300];
    memset(big, 't', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    static const struct {
        const char *args, *error;
    } cases[] = {
        {"{ limit = 0 }", "'limit' must be between 1 and 10000"},
        {"{ limit = 10001 }", "'limit' must be between 1 and 10000"},
        {"{ limit = -5 }", "'limit' must be between 1 and 10000"},
        {"{ since = 'yesterday' }", "'since' and 'until' must be integers (ns since the epoch)"},
        {"{ ['until'] = 1.5 }", "'since' and 'until' must be integers (ns since the epoch)"},
        {"{ group = 7 }", "'group' must be a string of at most 127 bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(fx_fail(fx, "events", cases[i].args, EINVAL), cases[i].error);
    snprintf(args, sizeof(args), "{ type = '%s' }", big);
    assert_non_null(strstr(fx_fail(fx, "events", args, EINVAL), "'type' must be a string"));
    /* follow turns a connection into a stream: without one it is refused. */
    assert_string_equal(fx_fail(fx, "events", "{ follow = true }", EOPNOTSUPP),
                        "'events' streams, which needs a connection");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_query_filters, fx_teardown),
        cmocka_unit_test_teardown(test_discovery_events, fx_teardown),
        cmocka_unit_test_teardown(test_skipped_and_suppressed, fx_teardown),
        cmocka_unit_test_teardown(test_bad_filters, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
