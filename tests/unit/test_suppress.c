/*
 * The suppress action through the real action registry: matching events
 * are silenced while it lasts, others are not, and once it expires the
 * same events get through again; bad arguments are refused.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions.h"
#include "ctl_env.h"
#include "mp.h"
#include "suppress.h"

static uint64_t next_id = 1;

/* An event of `type` in group "web" with body {name = name, pid = 42}. */
static vg_event *make_event(const char *type, const char *name)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_str(&pk, "name", name);
    vg_mp_pack_kv_int(&pk, "pid", 42);
    vg_event_in in = {.type = vg_event_type_id(type),
                      .severity = VG_SEV_WARNING,
                      .group = "web",
                      .workload = "c0ffee",
                      .body = sb.data,
                      .body_len = sb.size};
    vg_event *ev = NULL;
    assert_int_equal(vg_event_new(&in, &ev), 0);
    ev->id = next_id++;
    msgpack_sbuffer_destroy(&sb);
    return ev;
}

static bool silenced(vg_suppress *s, const char *type, const char *name)
{
    vg_event *ev = make_event(type, name);
    bool hit = vg_suppress_check(s, ev);
    /* Asking again for the same event gives the same answer, counted once. */
    assert_true(vg_suppress_check(s, ev) == hit);
    free(ev);
    return hit;
}

/* Packs {duration_s = secs, match = {type = type, name = name}}. */
static void pack_args(msgpack_sbuffer *sb, double secs, const char *type, const char *name)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_cstr(&pk, "duration_s");
    msgpack_pack_double(&pk, secs);
    vg_mp_pack_cstr(&pk, "match");
    msgpack_pack_map(&pk, name ? 2 : 1);
    vg_mp_pack_kv_str(&pk, "type", type);
    if (name)
        vg_mp_pack_kv_str(&pk, "name", name);
}

static void test_silences_then_lets_through(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_suppress *s;
    vg_actions *a;
    assert_int_equal(vg_suppress_new(&loop, &s), 0);
    assert_int_equal(vg_actions_new(&a), 0);
    assert_int_equal(vg_suppress_register(s, a), 0);
    assert_string_equal(vg_actions_owner(a, "suppress"), "core");

    assert_false(silenced(s, "proc.violation", "curl"));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_args(&sb, 0.3, "proc.violation", "curl");
    assert_int_equal(vg_actions_run(a, "suppress", sb.data, sb.size), 0);
    assert_true(silenced(s, "proc.violation", "curl"));
    assert_false(silenced(s, "proc.violation", "wget"));
    assert_false(silenced(s, "proc.exec", "curl"));
    vg_suppress_stats st;
    vg_suppress_stats_get(s, &st);
    assert_int_equal(st.active, 1);
    assert_int_equal(st.suppressed, 1);

    usleep(350 * 1000);
    uv_update_time(&loop);
    assert_false(silenced(s, "proc.violation", "curl"));
    vg_suppress_stats_get(s, &st);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.suppressed, 1);
    assert_int_equal(st.added, 1);

    msgpack_sbuffer_destroy(&sb);
    vg_actions_free(a);
    vg_suppress_free(s);
    uv_loop_close(&loop);
}

static void test_header_and_body_keys(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_suppress *s;
    assert_int_equal(vg_suppress_new(&loop, &s), 0);
    /* Flat args: group and an integer body field. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    vg_mp_pack_kv_int(&pk, "duration_s", 60);
    vg_mp_pack_kv_str(&pk, "group", "web");
    vg_mp_pack_kv_int(&pk, "pid", 42);
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), 0);
    assert_true(silenced(s, "net.connect", "anything"));
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_int(&pk, "duration_s", 60);
    vg_mp_pack_kv_str(&pk, "group", "db");
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), 0);
    vg_suppress_stats st;
    vg_suppress_stats_get(s, &st);
    assert_int_equal(st.active, 2);
    msgpack_sbuffer_destroy(&sb);
    vg_suppress_free(s);
    uv_loop_close(&loop);
}

/* What the policy engine passes for actions = { "suppress:10m" }: the
 * pattern is the triggering event's type and name, its group, and not its
 * empty workload. */
static void test_policy_engine_args(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_suppress *s;
    assert_int_equal(vg_suppress_new(&loop, &s), 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    vg_mp_pack_kv_str(&pk, "action", "suppress");
    vg_mp_pack_kv_str(&pk, "target", "10m");
    vg_mp_pack_kv_str(&pk, "rule", "quiet-healthcheck");
    vg_mp_pack_kv_str(&pk, "group", "web");
    vg_mp_pack_kv_str(&pk, "workload", "");
    vg_mp_pack_cstr(&pk, "event");
    msgpack_pack_map(&pk, 4);
    vg_mp_pack_kv_uint(&pk, "id", 99);
    vg_mp_pack_kv_str(&pk, "type", "proc.violation");
    vg_mp_pack_kv_str(&pk, "group", "web");
    vg_mp_pack_kv_str(&pk, "name", "curl");
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), 0);
    assert_true(silenced(s, "proc.violation", "curl")); /* any workload of web */
    assert_false(silenced(s, "proc.violation", "wget"));
    assert_false(silenced(s, "proc.exec", "curl"));
    /* A target that is no duration is refused. */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_str(&pk, "target", "soon");
    vg_mp_pack_kv_str(&pk, "group", "web");
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), -EINVAL);
    msgpack_sbuffer_destroy(&sb);
    vg_suppress_free(s);
    uv_loop_close(&loop);
}

static void test_bad_args(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_suppress *s;
    assert_int_equal(vg_suppress_new(&loop, &s), 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    /* No pattern: it would silence everything. */
    msgpack_pack_map(&pk, 1);
    vg_mp_pack_kv_int(&pk, "duration_s", 60);
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), -EINVAL);
    /* No duration, a negative one, one over a week. */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 1);
    vg_mp_pack_kv_str(&pk, "type", "proc.exec");
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), -EINVAL);
    msgpack_sbuffer_clear(&sb);
    pack_args(&sb, -1, "proc.exec", NULL);
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), -EINVAL);
    msgpack_sbuffer_clear(&sb);
    pack_args(&sb, 8 * 86400, "proc.exec", NULL);
    assert_int_equal(vg_suppress_add(s, sb.data, sb.size), -EINVAL);
    /* Not msgpack at all. */
    assert_int_equal(vg_suppress_add(s, "\xc1", 1), -EINVAL);
    vg_suppress_stats st;
    vg_suppress_stats_get(s, &st);
    assert_int_equal(st.active, 0);
    assert_false(silenced(s, "proc.exec", "x"));
    msgpack_sbuffer_destroy(&sb);
    vg_suppress_free(s);
    uv_loop_close(&loop);
}

static int count_events(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* The daemon's event path (what stores events and feeds followers) drops
 * what is suppressed, and stores it again once the suppression is over. */
static void test_event_path_skips_suppressed(void **state)
{
    char dir[] = "/tmp/vg-suppress-XXXXXX";
    assert_non_null(mkdtemp(dir));
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_ctl_env env = {0}; /* no ctl: no followers */
    assert_int_equal(vg_store_open(dir, NULL, &env.store), 0);
    assert_int_equal(vg_suppress_new(&loop, &env.suppress), 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_args(&sb, 0.2, "proc.violation", "curl");
    assert_int_equal(vg_suppress_add(env.suppress, sb.data, sb.size), 0);
    const char *names[] = {"curl", "wget", "curl"};
    for (int i = 0; i < 3; i++) {
        vg_event *ev = make_event("proc.violation", names[i]);
        vg_ctl_events_on_event(ev, &env);
        free(ev);
    }
    usleep(250 * 1000);
    uv_update_time(&loop);
    vg_event *ev = make_event("proc.violation", "curl");
    vg_ctl_events_on_event(ev, &env);
    free(ev);
    assert_int_equal(vg_store_commit(env.store, false), 0);
    int n = 0;
    assert_int_equal(vg_store_iter(env.store, "events", NULL, 0, false, count_events, &n), 0);
    assert_int_equal(n, 2); /* wget, and curl after the expiry */
    vg_suppress_stats st;
    vg_suppress_stats_get(env.suppress, &st);
    assert_int_equal(st.suppressed, 2);
    msgpack_sbuffer_destroy(&sb);
    vg_suppress_free(env.suppress);
    vg_store_close(env.store);
    uv_loop_close(&loop);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silences_then_lets_through),
        cmocka_unit_test(test_header_and_body_keys),
        cmocka_unit_test(test_policy_engine_args),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_event_path_skips_suppressed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
