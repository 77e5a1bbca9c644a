/* Event types, allocation and the flat wire form. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "mp.h"

static void pack_body(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_str(&pk, "path", "/bin/sh");
    vg_mp_pack_kv_int(&pk, "pid", 42);
}

static void test_type_registry(void **state)
{
    int a = vg_event_type_id("proc.exec");
    int b = vg_event_type_id("proc.exit");
    assert_true(a >= 0 && b >= 0 && a != b);
    assert_int_equal(vg_event_type_id("proc.exec"), a);
    assert_int_equal(vg_event_type_find("proc.exit"), b);
    assert_int_equal(vg_event_type_find("nope.nope"), -ENOENT);
    assert_string_equal(vg_event_type_name(a), "proc.exec");
    assert_null(vg_event_type_name(9999));
    assert_int_equal(vg_event_type_id(""), -EINVAL);
    char longname[VG_EVENT_TYPE_NAME_MAX + 1];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(vg_event_type_id(longname), -EINVAL);
}

static void test_encode_is_flat_map(void **state)
{
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    pack_body(&body);
    vg_event_in in = {.type = vg_event_type_id("proc.exec"),
                      .severity = VG_SEV_WARNING,
                      .workload = "abc123",
                      .group = "nginx.default",
                      .body = body.data,
                      .body_len = body.size};
    vg_event *ev;
    assert_int_equal(vg_event_new(&in, &ev), 0);
    ev->id = 77;
    msgpack_sbuffer wire;
    msgpack_sbuffer_init(&wire);
    assert_int_equal(vg_event_encode(ev, &wire), 0);

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, wire.data, wire.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, wire.size);
    const msgpack_object *o = &u.data;
    assert_int_equal(o->via.map.size, 8);
    int64_t v;
    char s[64];
    assert_int_equal(vg_mp_get_int(o, "id", &v), 0);
    assert_int_equal(v, 77);
    assert_int_equal(vg_mp_get_int(o, "time", &v), 0);
    assert_true(v > 1600000000LL * 1000000000LL);
    assert_int_equal(vg_mp_get_cstr(o, "type", s, sizeof(s)), 0);
    assert_string_equal(s, "proc.exec");
    assert_int_equal(vg_mp_get_cstr(o, "severity", s, sizeof(s)), 0);
    assert_string_equal(s, "warning");
    assert_int_equal(vg_mp_get_cstr(o, "workload", s, sizeof(s)), 0);
    assert_string_equal(s, "abc123");
    assert_int_equal(vg_mp_get_cstr(o, "group", s, sizeof(s)), 0);
    assert_string_equal(s, "nginx.default");
    assert_int_equal(vg_mp_get_cstr(o, "path", s, sizeof(s)), 0);
    assert_string_equal(s, "/bin/sh");
    assert_int_equal(vg_mp_get_int(o, "pid", &v), 0);
    assert_int_equal(v, 42);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&wire);
    msgpack_sbuffer_destroy(&body);
    free(ev);
}

static void test_rejects_bad_input(void **state)
{
    vg_event *ev;
    int t = vg_event_type_id("test.bad");
    vg_event_in in = {.type = t, .severity = VG_SEV_INFO};
    assert_int_equal(vg_event_new(&in, &ev), 0); /* empty body is fine */
    free(ev);
    in.body = "\x93\x01\x02\x03"; /* an array, not a map */
    in.body_len = 4;
    assert_int_equal(vg_event_new(&in, &ev), -EINVAL);
    in.body = NULL;
    in.body_len = 0;
    in.type = 12345;
    assert_int_equal(vg_event_new(&in, &ev), -EINVAL);
    in.type = t;
    in.severity = 99;
    assert_int_equal(vg_event_new(&in, &ev), -EINVAL);
}

static void test_long_header_strings_truncated(void **state)
{
    char big[500];
    memset(big, 'g', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    vg_event_in in = {.type = vg_event_type_id("test.long"), .group = big, .workload = big};
    vg_event *ev;
    assert_int_equal(vg_event_new(&in, &ev), 0);
    assert_int_equal(strlen(ev->group), VG_GROUP_MAX - 1);
    assert_int_equal(strlen(ev->workload), VG_WORKLOAD_MAX - 1);
    free(ev);
}

static void test_severity_names(void **state)
{
    assert_int_equal(vg_severity_parse("critical"), VG_SEV_CRITICAL);
    assert_string_equal(vg_severity_name(VG_SEV_NOTICE), "notice");
    assert_int_equal(vg_severity_parse("loud"), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_registry),
        cmocka_unit_test(test_encode_is_flat_map),
        cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_long_header_strings_truncated),
        cmocka_unit_test(test_severity_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
