/*
 * JSON rendering of msgpack objects (lib/json.c). Each case packs an
 * object with msgpack-c's packer, unpacks it as the daemon and vigilctl do,
 * renders it through both entry points (FILE and sbuffer) and compares the
 * exact text a user would see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mp.h"

typedef struct fx {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    msgpack_sbuffer_init(&f->sb);
    msgpack_packer_init(&f->pk, &f->sb, msgpack_sbuffer_write);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    msgpack_sbuffer_destroy(&f->sb);
    free(f);
    return 0;
}

/* Renders o through the FILE entry point; returns a malloc()ed string. */
static char *render_file(const msgpack_object *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(vg_json_write(out, o), 0);
    assert_int_equal(fclose(out), 0);
    return buf;
}

/* Renders o through the sbuffer entry point; returns a malloc()ed string. */
static char *render_sbuf(const msgpack_object *o)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(vg_json_write_sbuf(&sb, o), 0);
    char *s = strndup(sb.data ? sb.data : "", sb.size);
    assert_non_null(s);
    msgpack_sbuffer_destroy(&sb);
    return s;
}

/* Unpacks what the fixture holds (exactly one object), checks that both
 * entry points render it as `want`, and empties the fixture for the next
 * object. */
static void expect_json(fx *f, const char *want)
{
    msgpack_unpacked up;
    size_t off = 0;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, f->sb.data, f->sb.size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, f->sb.size);

    char *a = render_file(&up.data);
    char *b = render_sbuf(&up.data);
    assert_string_equal(a, want);
    assert_string_equal(b, want);
    free(a);
    free(b);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_clear(&f->sb);
}

static void pack_bytes(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* A string given with its length (it may hold NULs) renders as want. */
static void expect_str(fx *f, const char *s, size_t n, const char *want)
{
    pack_bytes(&f->pk, s, n);
    expect_json(f, want);
}
#define EXPECT_STR(f, lit, want) expect_str(f, lit, sizeof(lit) - 1, want)

static void test_scalars(void **state)
{
    fx *f = *state;
    msgpack_pack_nil(&f->pk);
    expect_json(f, "null");
    msgpack_pack_true(&f->pk);
    expect_json(f, "true");
    msgpack_pack_false(&f->pk);
    expect_json(f, "false");
    msgpack_pack_uint64(&f->pk, 0);
    expect_json(f, "0");
    msgpack_pack_uint64(&f->pk, UINT64_MAX);
    expect_json(f, "18446744073709551615");
    msgpack_pack_int64(&f->pk, -1);
    expect_json(f, "-1");
    msgpack_pack_int64(&f->pk, INT64_MIN);
    expect_json(f, "-9223372036854775808");
}

static void test_floats(void **state)
{
    fx *f = *state;
    msgpack_pack_double(&f->pk, 1.5);
    expect_json(f, "1.5");
    msgpack_pack_double(&f->pk, 0.1);
    expect_json(f, "0.1");
    msgpack_pack_double(&f->pk, 0.1 + 0.2);
    expect_json(f, "0.30000000000000004");
    msgpack_pack_double(&f->pk, 1.0 / 3);
    expect_json(f, "0.3333333333333333");
    msgpack_pack_double(&f->pk, 1e300);
    expect_json(f, "1e+300");
    msgpack_pack_double(&f->pk, -0.0);
    expect_json(f, "-0");
    msgpack_pack_double(&f->pk, 123456789.125);
    expect_json(f, "123456789.125");
    /* A float32 is shown with the digits a float has, not its double's. */
    msgpack_pack_float(&f->pk, 0.1f);
    expect_json(f, "0.1");
    msgpack_pack_float(&f->pk, -2.75f);
    expect_json(f, "-2.75");
    /* JSON has no NaN or infinity. */
    msgpack_pack_double(&f->pk, NAN);
    expect_json(f, "null");
    msgpack_pack_double(&f->pk, INFINITY);
    expect_json(f, "null");
    msgpack_pack_float(&f->pk, -INFINITY);
    expect_json(f, "null");
}

/* The shortened form must never lose a bit: random doubles read back
 * exactly. */
static void test_floats_round_trip(void **state)
{
    srandom(42);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits =
            ((uint64_t)random() << 42) ^ ((uint64_t)random() << 21) ^ (uint64_t)random();
        double d;
        memcpy(&d, &bits, sizeof(d));
        if (!isfinite(d))
            continue;
        msgpack_object o = {.type = MSGPACK_OBJECT_FLOAT64, .via.f64 = d};
        char *s = render_sbuf(&o);
        double back = strtod(s, NULL);
        if (memcmp(&back, &d, sizeof(d)) != 0)
            fail_msg("%.17g rendered as %s", d, s);
        free(s);
    }
}

static void test_string_escapes(void **state)
{
    fx *f = *state;
    EXPECT_STR(f, "", "\"\"");
    EXPECT_STR(f, "plain text/with slash", "\"plain text/with slash\"");
    EXPECT_STR(f, "a\"b\\c", "\"a\\\"b\\\\c\"");
    EXPECT_STR(f, "\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
    EXPECT_STR(f, "\x01x\x1f\x1b[31m", "\"\\u0001x\\u001f\\u001b[31m\"");
    EXPECT_STR(f, "nul\0byte", "\"nul\\u0000byte\"");
    /* DEL and the C1 controls are escaped for terminals (CSI is 0x9b). */
    EXPECT_STR(f, "\x7f", "\"\\u007f\"");
    /* clang-format off */
    EXPECT_STR(f, "\xc2\x80\xc2\x9b" "2J\xc2\x9f\xc2\xa0", "\"\\u0080\\u009b2J\\u009f\xc2\xa0\"");
    /* clang-format on */
}

static void test_utf8_valid(void **state)
{
    fx *f = *state;
    EXPECT_STR(f, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
               "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* The edges of each sequence length and around the surrogates. */
    EXPECT_STR(f, "\xc2\x80\xdf\xbf", "\"\\u0080\xdf\xbf\""); /* U+0080 (C1) U+07FF */
    EXPECT_STR(f, "\xe0\xa0\x80\xed\x9f\xbf", "\"\xe0\xa0\x80\xed\x9f\xbf\""); /* U+0800 U+D7FF */
    EXPECT_STR(f, "\xee\x80\x80\xef\xbf\xbf", "\"\xee\x80\x80\xef\xbf\xbf\""); /* U+E000 U+FFFF */
    EXPECT_STR(f, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
               "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""); /* U+10000 U+10FFFF */
}

/* Each maximal ill-formed subpart becomes one U+FFFD (Unicode 15, 3.9).
 * Where a hex escape must end before a letter, the literal is split. */
/* clang-format off */
static void test_utf8_invalid(void **state)
{
    fx *f = *state;
    EXPECT_STR(f, "\x80", "\"\\ufffd\"");
    EXPECT_STR(f, "a\xff" "b", "\"a\\ufffdb\"");
    EXPECT_STR(f, "\xf5\x80", "\"\\ufffd\\ufffd\"");
    /* Overlong forms of '/' and of U+0000. */
    EXPECT_STR(f, "\xc0\xaf", "\"\\ufffd\\ufffd\"");
    EXPECT_STR(f, "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
    EXPECT_STR(f, "\xf0\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* A surrogate, and a code point above U+10FFFF. */
    EXPECT_STR(f, "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    EXPECT_STR(f, "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* Truncated sequences: at the end, and before an ASCII byte. */
    EXPECT_STR(f, "x\xe2\x82", "\"x\\ufffd\"");
    EXPECT_STR(f, "\xe2\x82" "A", "\"\\ufffdA\"");
    EXPECT_STR(f, "\xf0\x9f\x98" "x\xc3", "\"\\ufffdx\\ufffd\"");
    /* A valid character right after a broken one is kept. */
    EXPECT_STR(f, "\xe2\xc3\xa9", "\"\\ufffd\xc3\xa9\"");
}
/* clang-format on */

/* An independent check of the output string: well-formed UTF-8 decoded by
 * value ranges (not by the renderer's byte table), no raw control
 * characters (C0, DEL, C1), no unescaped quote, only JSON escapes. */
static void assert_json_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    assert_true(n >= 2 && p[0] == '"' && p[n - 1] == '"');
    for (size_t i = 1; i < n - 1;) {
        if (p[i] == '\\') {
            assert_non_null(strchr("\"\\/bfnrtu", p[i + 1]));
            i += p[i + 1] == 'u' ? 6 : 2;
            continue;
        }
        assert_true(p[i] >= 0x20 && p[i] != '"' && p[i] != 0x7f);
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int len = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
        uint32_t cp = p[i] & (0x7f >> len);
        for (int k = 1; k < len; k++) {
            assert_int_equal(p[i + k] & 0xc0, 0x80);
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        assert_true(cp >= min[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
        assert_true(cp >= 0xa0); /* no C1 control */
        i += (size_t)len;
    }
}

static void test_utf8_random(void **state)
{
    unsigned char buf[24];
    srandom(7);
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(random() % (long)sizeof(buf));
        /* Mostly bytes >= 0x80, where the interesting cases are. */
        for (size_t k = 0; k < n; k++)
            buf[k] = (unsigned char)(random() % 4 ? 0x80 | random() : random());
        msgpack_object o = {.type = MSGPACK_OBJECT_STR};
        o.via.str.ptr = (const char *)buf;
        o.via.str.size = (uint32_t)n;
        char *s = render_sbuf(&o);
        assert_json_string(s);
        free(s);
    }
}

static void test_bin_and_ext(void **state)
{
    fx *f = *state;
    msgpack_pack_bin(&f->pk, 4);
    msgpack_pack_bin_body(&f->pk, "\x00\xab\xff\x10", 4);
    expect_json(f, "\"00abff10\"");
    msgpack_pack_bin(&f->pk, 0);
    expect_json(f, "\"\"");
    msgpack_pack_ext(&f->pk, 2, 7);
    msgpack_pack_ext_body(&f->pk, "ab", 2);
    expect_json(f, "null");
}

static void test_containers(void **state)
{
    fx *f = *state;
    msgpack_pack_array(&f->pk, 0);
    expect_json(f, "[]");
    msgpack_pack_map(&f->pk, 0);
    expect_json(f, "{}");

    msgpack_pack_map(&f->pk, 3);
    vg_mp_pack_cstr(&f->pk, "a");
    msgpack_pack_array(&f->pk, 3);
    msgpack_pack_int(&f->pk, 1);
    msgpack_pack_map(&f->pk, 1);
    vg_mp_pack_kv_str(&f->pk, "b", NULL);
    vg_mp_pack_cstr(&f->pk, "x\ty");
    vg_mp_pack_kv_bool(&f->pk, "ok", true);
    vg_mp_pack_cstr(&f->pk, "c");
    msgpack_pack_map(&f->pk, 0);
    expect_json(f, "{\"a\":[1,{\"b\":null},\"x\\ty\"],\"ok\":true,\"c\":{}}");
}

static void test_nonstring_keys(void **state)
{
    fx *f = *state;
    msgpack_pack_map(&f->pk, 7);
    msgpack_pack_int(&f->pk, 1);
    vg_mp_pack_cstr(&f->pk, "one");
    msgpack_pack_int(&f->pk, -2);
    msgpack_pack_int(&f->pk, 2);
    msgpack_pack_nil(&f->pk);
    msgpack_pack_int(&f->pk, 3);
    msgpack_pack_true(&f->pk);
    msgpack_pack_int(&f->pk, 4);
    msgpack_pack_array(&f->pk, 2); /* the key's own quotes are escaped */
    msgpack_pack_int(&f->pk, 1);
    vg_mp_pack_cstr(&f->pk, "a");
    msgpack_pack_int(&f->pk, 5);
    msgpack_pack_bin(&f->pk, 2);
    msgpack_pack_bin_body(&f->pk, "\x01\xfe", 2);
    msgpack_pack_int(&f->pk, 6);
    msgpack_pack_double(&f->pk, 1.5);
    msgpack_pack_int(&f->pk, 7);
    expect_json(f, "{\"1\":\"one\",\"-2\":2,\"null\":3,\"true\":4,\"[1,\\\"a\\\"]\":5,"
                   "\"01fe\":6,\"1.5\":7}");
}

/* A key that is a map keeps its text; within it, a map key is named, not
 * expanded: 30 levels of maps keyed by maps stay a few hundred bytes (each
 * level's escaping doubled the one below: gigabytes, found by the fuzzer). */
static void test_keys_within_keys(void **state)
{
    fx *f = *state;
    msgpack_pack_map(&f->pk, 1);
    msgpack_pack_map(&f->pk, 1); /* the key: {{1:2}:3} */
    msgpack_pack_map(&f->pk, 1);
    msgpack_pack_int(&f->pk, 1);
    msgpack_pack_int(&f->pk, 2);
    msgpack_pack_int(&f->pk, 3);
    msgpack_pack_int(&f->pk, 4);
    expect_json(f, "{\"{\\\"{map}\\\":3}\":4}");

    for (int i = 0; i < 30; i++)
        msgpack_pack_map(&f->pk, 1);
    msgpack_pack_int(&f->pk, 1);
    for (int i = 0; i < 30; i++)
        msgpack_pack_int(&f->pk, i);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, f->sb.data, f->sb.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    char *out = render_sbuf(&up.data);
    assert_true(strlen(out) < 512);
    free(out);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_clear(&f->sb);
}

/* A value far longer than any internal buffer, with escapes spread over
 * it, comes out whole. */
static void test_long_string(void **state)
{
    fx *f = *state;
    size_t n = 100000;
    char *s = malloc(n);
    char *want = malloc(2 * n + 3);
    assert_non_null(s);
    assert_non_null(want);
    size_t w = 0;
    want[w++] = '"';
    for (size_t i = 0; i < n; i++) {
        s[i] = i % 1000 == 999 ? '"' : (char)('a' + i % 26);
        if (s[i] == '"')
            want[w++] = '\\';
        want[w++] = s[i];
    }
    want[w++] = '"';
    want[w] = '\0';
    expect_str(f, s, n, want);
    free(s);
    free(want);
}

static void test_sbuf_appends(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_write(&sb, "x=", 2);
    msgpack_object o = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 12};
    assert_int_equal(vg_json_write_sbuf(&sb, &o), 0);
    assert_int_equal(vg_json_write_sbuf(&sb, &o), 0);
    assert_int_equal(sb.size, 6);
    assert_memory_equal(sb.data, "x=1212", 6);
    msgpack_sbuffer_destroy(&sb);
}

/* A write that fails (a full disk) is reported, not ignored. */
static void test_file_error(void **state)
{
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        skip();
    setvbuf(full, NULL, _IONBF, 0);
    msgpack_object o = {.type = MSGPACK_OBJECT_STR, .via.str = {.size = 3, .ptr = "abc"}};
    assert_int_equal(vg_json_write(full, &o), -EIO);
    fclose(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floats, setup, teardown),
        cmocka_unit_test(test_floats_round_trip),
        cmocka_unit_test_setup_teardown(test_string_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_invalid, setup, teardown),
        cmocka_unit_test(test_utf8_random),
        cmocka_unit_test_setup_teardown(test_bin_and_ext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_containers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonstring_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_within_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_string, setup, teardown),
        cmocka_unit_test(test_sbuf_appends),
        cmocka_unit_test(test_file_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
