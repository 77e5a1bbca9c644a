/*
 * The TIME arguments of vigilctl (lib/timeparse.c): durations, epoch
 * seconds, and calendar times in UTC and in local time. Local time is
 * pinned with POSIX TZ strings, which need no tzdata installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "timeparse.h"

#define S INT64_C(1000000000)
/* 2024-05-01T12:00:00Z */
#define NOW (INT64_C(1714564800) * S)

static int64_t parse_ok(const char *s)
{
    int64_t ns = 0;
    int rc = vg_time_parse(s, NOW, &ns);
    if (rc != 0)
        fail_msg("\"%s\": %d", s, rc);
    return ns;
}

static void expect_err(const char *s, int err)
{
    int64_t ns = 12345;
    int rc = vg_time_parse(s, NOW, &ns);
    if (rc != err)
        fail_msg("\"%s\": got %d, want %d", s, rc, err);
    assert_int_equal(ns, 12345); /* untouched on error */
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void test_durations(void **state)
{
    int64_t d = 0;
    assert_int_equal(vg_duration_parse("90s", &d), 0);
    assert_int_equal(d, 90 * S);
    assert_int_equal(vg_duration_parse("1h30m", &d), 0);
    assert_int_equal(d, 5400 * S);
    assert_int_equal(vg_duration_parse("2w", &d), 0);
    assert_int_equal(d, 14 * 86400 * S);
    assert_int_equal(vg_duration_parse("0s", &d), 0);
    assert_int_equal(d, 0);

    assert_int_equal(vg_duration_parse("", &d), -EINVAL);
    assert_int_equal(vg_duration_parse("10", &d), -EINVAL); /* no unit */
    assert_int_equal(vg_duration_parse("m", &d), -EINVAL);  /* no number */
    assert_int_equal(vg_duration_parse("10x", &d), -EINVAL);
    assert_int_equal(vg_duration_parse("-5m", &d), -EINVAL);
    assert_int_equal(vg_duration_parse("5 m", &d), -EINVAL);
    assert_int_equal(vg_duration_parse("1h30", &d), -EINVAL); /* trailing number */
    /* 2^63 ns is about 292 years. */
    assert_int_equal(vg_duration_parse("106751d", &d), 0);
    assert_int_equal(vg_duration_parse("106752d", &d), -ERANGE);
    assert_int_equal(vg_duration_parse("106751d1d", &d), -ERANGE);
    assert_int_equal(vg_duration_parse("99999999999999999999s", &d), -ERANGE);
}

static void test_relative(void **state)
{
    assert_int_equal(parse_ok("90s"), NOW - 90 * S);
    assert_int_equal(parse_ok("10m"), NOW - 600 * S);
    assert_int_equal(parse_ok("2h"), NOW - 7200 * S);
    assert_int_equal(parse_ok("7d"), NOW - 7 * 86400 * S);
    assert_int_equal(parse_ok("0s"), NOW);
    expect_err("10 m", -EINVAL);
    expect_err("10mm", -EINVAL);
}

static void test_epoch_seconds(void **state)
{
    assert_int_equal(parse_ok("0"), 0);
    assert_int_equal(parse_ok("1714564800"), NOW);
    assert_int_equal(parse_ok("9223372036"), INT64_C(9223372036) * S);
    expect_err("9223372037", -ERANGE);
    expect_err("99999999999999999999999", -ERANGE);
    expect_err("+5", -EINVAL);
    expect_err("-5", -EINVAL);
    expect_err("1.5", -EINVAL);
}

static void test_utc(void **state)
{
    set_tz("XST-3"); /* must not matter with Z */
    assert_int_equal(parse_ok("2024-05-01T12:00:00Z"), NOW);
    assert_int_equal(parse_ok("2024-05-01T12:00Z"), NOW);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -S);
    assert_int_equal(parse_ok("2024-02-29T23:59:59Z"), INT64_C(1709251199) * S);
    assert_int_equal(parse_ok("2000-02-29 00:00:00z"), INT64_C(951782400) * S);
}

static void test_local(void **state)
{
    set_tz("XST-3"); /* UTC+3, no daylight saving time */
    assert_int_equal(parse_ok("2024-05-01T15:00:00"), NOW);
    assert_int_equal(parse_ok("2024-05-01 15:00:00"), NOW);
    assert_int_equal(parse_ok("2024-05-01T15:00"), NOW);
    assert_int_equal(parse_ok("2024-05-02"), NOW + 9 * 3600 * S);

    /* US Eastern: the same wall-clock hour is 4 h behind UTC in summer and
     * 5 h in winter. */
    set_tz("EST5EDT,M3.2.0,M11.1.0");
    assert_int_equal(parse_ok("2024-05-01T08:00:00"), NOW);
    assert_int_equal(parse_ok("2024-01-01T12:00:00"), parse_ok("2024-01-01T17:00:00Z"));
    set_tz("UTC0");
}

static void test_bad_calendar(void **state)
{
    expect_err("2024-02-30T00:00:00Z", -EINVAL);
    expect_err("2023-02-29", -EINVAL);
    expect_err("2100-02-29", -EINVAL);
    expect_err("2024-13-01", -EINVAL);
    expect_err("2024-00-10", -EINVAL);
    expect_err("2024-04-31", -EINVAL);
    expect_err("2024-05-01T24:00:00Z", -EINVAL);
    expect_err("2024-05-01T12:60:00Z", -EINVAL);
    expect_err("2024-05-01T12:00:60Z", -EINVAL);
    expect_err("2024-5-1", -EINVAL);
    expect_err("2024-05-01T12", -EINVAL);
    expect_err("2024-05-01T12:00:00ZZ", -EINVAL);
    expect_err("2024-05-01T12:00:00+02:00", -EINVAL);
    expect_err("2024-05-01Z", -EINVAL);
    expect_err(" 2024-05-01", -EINVAL);
    expect_err("yesterday", -EINVAL);
    expect_err("", -EINVAL);
    /* Beyond what int64 nanoseconds hold. */
    expect_err("2263-01-01T00:00:00Z", -ERANGE);
    expect_err("1677-01-01T00:00:00Z", -ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),     cmocka_unit_test(test_relative),
        cmocka_unit_test(test_epoch_seconds), cmocka_unit_test(test_utc),
        cmocka_unit_test(test_local),         cmocka_unit_test(test_bad_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
