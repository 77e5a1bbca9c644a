/*
 * The "rules" command (list, add, delete, export, import) on a real
 * environment (ctl_env_fixture.h): the rules a user adds are stored before
 * the reply, listed as `vigilctl rules` prints them, exported as a policy
 * file that imports back; bad input gets a clear error and changes nothing.
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

static size_t rule_count(void)
{
    return fx_len(fx_ok(fx, "rules", "{ op = 'list' }"));
}

/* Imports text (len bytes) as the file `name` (NULL: none given), as
 * `vigilctl rules import FILE` does; the call's return. */
static int import(const char *name, const char *text, size_t len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, name ? 3 : 2);
    vg_mp_pack_kv_str(&pk, "op", "import");
    if (name)
        vg_mp_pack_kv_str(&pk, "name", name);
    vg_mp_pack_cstr(&pk, "text");
    msgpack_pack_str_with_body(&pk, text, len);
    int rc = fx_call_packed(fx, "rules", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void test_add_list_delete(void **state)
{
    fx = fx_new(NULL);
    assert_int_equal(rule_count(), 0);
    const msgpack_object *r =
        fx_ok(fx, "rules",
              "{ op = 'add', group = 'web', plane = 'proc', name = 'curl', "
              "path = '/usr/bin/curl', action = 'deny', comment = 'no downloads' }");
    assert_string_equal(FX_STR(r, "group"), "web");
    assert_string_equal(FX_STR(r, "plane"), "proc");
    assert_string_equal(FX_STR(r, "action"), "deny");
    assert_string_equal(FX_STR(r, "origin"), "written");
    assert_string_equal(FX_STR(r, "name"), "curl");
    assert_string_equal(FX_STR(r, "path"), "/usr/bin/curl");
    assert_string_equal(FX_STR(r, "user"), "*"); /* a field left out */
    assert_string_equal(FX_STR(r, "comment"), "no downloads");
    assert_true(fx_int(r, "created") > 0);
    /* On disk before the reply: nothing is left to commit. */
    assert_false(vg_store_dirty(fx->store));

    fx_ok(fx, "rules",
          "{ op = 'add', group = 'web', plane = 'file', path = '/etc/shadow', "
          "access = 'read' }");
    fx_ok(fx, "rules",
          "{ op = 'add', group = 'db', plane = 'net', direction = 'out', "
          "port = '5432' }");
    assert_int_equal(rule_count(), 3);
    assert_int_equal(vg_rules_count(fx->rules), 3);

    /* Selections. */
    const msgpack_object *web = fx_ok(fx, "rules", "{ op = 'list', group = 'web' }");
    assert_int_equal(fx_len(web), 2);
    for (uint32_t i = 0; i < 2; i++)
        assert_string_equal(FX_STR(fx_at(web, i), "group"), "web");
    const msgpack_object *net = fx_ok(fx, "rules", "{ op = 'list', plane = 'net' }");
    assert_int_equal(fx_len(net), 1);
    assert_string_equal(FX_STR(fx_at(net, 0), "group"), "db");
    assert_string_equal(FX_STR(fx_at(net, 0), "port"), "5432");
    assert_string_equal(FX_STR(fx_at(net, 0), "peer"), "*");
    assert_int_equal(fx_len(fx_ok(fx, "rules", "{ op = 'list', group = 'web', plane = 'net' }")),
                     0);

    /* A delete names the rule by its subject. */
    const msgpack_object *d = fx_ok(fx, "rules",
                                    "{ op = 'delete', group = 'web', plane = 'proc', "
                                    "name = 'curl', path = '/usr/bin/curl' }");
    assert_string_equal(FX_STR(d, "message"), "rule deleted");
    assert_false(vg_store_dirty(fx->store));
    assert_int_equal(rule_count(), 2);
    assert_null(fx_find(fx_ok(fx, "rules", "{ op = 'list' }"), "name", "curl"));
    const char *msg = fx_fail(fx, "rules",
                              "{ op = 'delete', group = 'web', plane = 'proc', "
                              "name = 'curl', path = '/usr/bin/curl' }",
                              ENOENT);
    assert_string_equal(msg, "no such rule in group 'web' (plane proc)");
    /* Only the exact subject: the file rule is not matched by a wider one. */
    fx_fail(fx, "rules", "{ op = 'delete', group = 'web', plane = 'file' }", ENOENT);
    assert_int_equal(rule_count(), 2);
}

/* Every refusal says what is wrong and leaves the rules as they were. */
static void test_bad_input(void **state)
{
    fx = fx_new(NULL);
    fx_ok(fx, "rules", "{ op = 'add', group = 'web', plane = 'proc', name = 'sh' }");
    char big[400], args[1024];
    memset(big, 'a', 300);
    big[300] = '\0';
    static const struct {
        const char *args, *error;
    } cases[] = {
        {"{ op = 'add', group = 'web', plane = 'disk', name = 'x' }",
         "plane must be proc, file or net (not 'disk')"},
        {"{ op = 'add', group = 'web', name = 'x' }", "plane must be proc, file or net"},
        {"{ op = 'add', group = 'web', plane = 'proc', nmae = 'x' }", "unknown argument 'nmae'"},
        /* A field of another plane is a bad field too. */
        {"{ op = 'add', group = 'web', plane = 'proc', port = '22' }", "unknown argument 'port'"},
        {"{ op = 'add', plane = 'proc', name = 'x' }", "a rule needs a group"},
        {"{ op = 'add', group = 'web', plane = 'proc', name = 'x', action = 'block' }",
         "action must be allow or deny"},
        {"{ op = 'add', group = 'web', plane = 'proc', name = 42 }",
         "'name' must be a string of at most 255 bytes"},
        {"{ op = 'add', group = 'web', plane = 'proc', name = 'x', comment = 'c', extra = 1 }",
         "unknown argument 'extra'"},
        /* A misspelt selector must not widen a delete to "*". */
        {"{ op = 'delete', group = 'web', plane = 'proc', nam = 'sh' }", "unknown argument 'nam'"},
        {"{ op = 'delete', group = 'web', plane = 'proc', name = 'sh', action = 'allow' }",
         "unknown argument 'action'"},
        {"{ op = 'list', group = 'web', offset = -1 }", "'offset' must be a number of rules, >= 0"},
        {"{ op = 'list', plane = 'dns' }", "plane must be proc, file or net (not 'dns')"},
        {"{ op = 'list', grp = 'web' }", "unknown argument 'grp'"},
        {"{ op = 'export', plane = 'proc' }", "unknown argument 'plane'"},
        {"{ op = 'drop' }", "'op' must be one of list, add, delete, export, import"},
        {"{ group = 'web' }", "'op' must be one of list, add, delete, export, import"},
        {"{ op = 'import', name = 'x.lua' }", "'text' (the file's content) is missing"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(fx_fail(fx, "rules", cases[i].args, EINVAL), cases[i].error);
    assert_string_equal(fx_fail(fx, "rules", NULL, EINVAL),
                        "'op' must be one of list, add, delete, export, import");

    /* Oversized values: a field, a group, a comment. */
    static const struct {
        const char *fmt, *error;
    } big_cases[] = {
        {"{ op = 'add', group = 'web', plane = 'file', path = '%s' }",
         "'path' must be a string of at most 255 bytes"},
        {"{ op = 'add', group = '%s', plane = 'proc' }",
         "'group' must be a string of at most 127 bytes"},
        {"{ op = 'add', group = 'web', plane = 'proc', comment = '%s' }",
         "'comment' must be a string of at most 255 bytes"},
    };
    for (size_t i = 0; i < sizeof(big_cases) / sizeof(big_cases[0]); i++) {
        snprintf(args, sizeof(args), big_cases[i].fmt, big);
        assert_string_equal(fx_fail(fx, "rules", args, EINVAL), big_cases[i].error);
    }

    const msgpack_object *all = fx_ok(fx, "rules", "{ op = 'list' }");
    assert_int_equal(fx_len(all), 1);
    assert_string_equal(FX_STR(fx_at(all, 0), "name"), "sh");
}

/* An export is a policy file; importing it elsewhere gives the same rules,
 * marked imported. */
static void test_export_import_round_trip(void **state)
{
    fx = fx_new(NULL);
    fx_ok(fx, "rules",
          "{ op = 'add', group = 'web', plane = 'proc', name = 'nginx', "
          "path = '/usr/sbin/nginx', comment = 'the \"server\"' }");
    fx_ok(fx, "rules",
          "{ op = 'add', group = 'web', plane = 'net', direction = 'in', "
          "port = '443', action = 'allow' }");
    fx_ok(fx, "rules", "{ op = 'add', group = 'db', plane = 'proc', name = 'postgres' }");

    const msgpack_object *ex = fx_ok(fx, "rules", "{ op = 'export', group = 'web' }");
    assert_int_equal(fx_int(ex, "rules"), 2);
    const msgpack_object *t = fx_get(ex, "text");
    assert_int_equal(t->type, MSGPACK_OBJECT_STR);
    char *text = strndup(t->via.str.ptr, t->via.str.size);
    assert_non_null(strstr(text, "vigil.rule{"));
    assert_non_null(strstr(text, "/usr/sbin/nginx"));
    assert_null(strstr(text, "postgres"));
    /* The next page is empty: the client stops there. */
    ex = fx_ok(fx, "rules", "{ op = 'export', group = 'web', offset = 2 }");
    assert_int_equal(fx_int(ex, "rules"), 0);

    /* Into a fresh environment, as on another host. */
    fx_free(fx);
    fx = fx_new(NULL);
    assert_int_equal(import("web-rules.lua", text, strlen(text)), 0);
    assert_int_equal(fx_int(fx_get(&fx->up.data, "result"), "imported"), 2);
    assert_false(vg_store_dirty(fx->store));
    free(text);

    const msgpack_object *all = fx_ok(fx, "rules", "{ op = 'list' }");
    assert_int_equal(fx_len(all), 2);
    const msgpack_object *ng = fx_find(all, "name", "nginx");
    assert_non_null(ng);
    assert_string_equal(FX_STR(ng, "origin"), "imported");
    assert_string_equal(FX_STR(ng, "path"), "/usr/sbin/nginx");
    assert_string_equal(FX_STR(ng, "comment"), "the \"server\"");
    const msgpack_object *https = fx_find(all, "port", "443");
    assert_non_null(https);
    assert_string_equal(FX_STR(https, "direction"), "in");
    assert_string_equal(FX_STR(https, "action"), "allow");
}

/* An import is all or nothing: a bad rule anywhere in the file leaves the
 * rules as they were, and the error names the file and line. */
static void test_import_refused(void **state)
{
    fx = fx_new(NULL);
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"vigil.rule{ group = 'a', plane = 'proc', name = 'ok' }\n"
         "vigil.rule{ group = 'a', plane = 'disk', name = 'x' }\n",
         "bad.lua:2: vigil.rule: plane 'disk' is not proc, file or net"},
        {"vigil.rule{ group = 'a', plane = 'proc', name = 'ok' }\n\n"
         "vigil.rule{ group = 'a', plane = 'proc', port = '1' }\n",
         "bad.lua:3: vigil.rule: unknown key 'port' for a proc rule"},
        {"vigil.rule{ group = 'a', plane = 'proc', name = 'ok' }\nvigil.rule{ group = 'a', ",
         "bad.lua:2:"},
        {"os.execute('id')\n", "bad.lua:1:"},
        {"while true do end\n", "bad.lua:1:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(import("bad.lua", cases[i].text, strlen(cases[i].text)), -EINVAL);
        char msg[1024];
        assert_int_equal(vg_mp_get_cstr(&fx->up.data, "error", msg, sizeof(msg)), 0);
        if (strncmp(msg, cases[i].error, strlen(cases[i].error)) != 0)
            fail_msg("case %zu: '%s', want '%s...'", i, msg, cases[i].error);
        assert_int_equal(rule_count(), 0);
    }
}

/* Pages: rules beyond one frame are listed and exported in pages that a
 * client walks with offset; every rule comes exactly once. */
static void test_pages(void **state)
{
    fx = fx_new(NULL);
    enum { N = 3000 };
    msgpack_sbuffer text;
    msgpack_sbuffer_init(&text);
    char line[512], comment[201];
    memset(comment, 'c', 200);
    comment[200] = '\0';
    for (int i = 0; i < N; i++) {
        int n = snprintf(line, sizeof(line),
                         "vigil.rule{ group = 'g%d', plane = 'proc', name = 'p%05d', "
                         "comment = '%s' }\n",
                         i % 7, i, comment);
        msgpack_sbuffer_write(&text, line, (size_t)n);
    }
    assert_int_equal(import(NULL, text.data, text.size), 0);
    assert_int_equal(fx_int(fx_get(&fx->up.data, "result"), "imported"), N);
    msgpack_sbuffer_destroy(&text);

    static bool seen[N];
    memset(seen, 0, sizeof(seen));
    size_t total = 0, pages = 0;
    for (;;) {
        char args[64];
        snprintf(args, sizeof(args), "{ op = 'list', offset = %zu }", total);
        const msgpack_object *page = fx_ok(fx, "rules", args);
        /* Well inside a frame (VG_CTL_MAX_FRAME, 1 MiB). */
        assert_true(fx->out.size < (512u << 10));
        if (fx_len(page) == 0)
            break;
        pages++;
        for (uint32_t i = 0; i < fx_len(page); i++) {
            char name[16];
            assert_int_equal(vg_mp_get_cstr(fx_at(page, i), "name", name, sizeof(name)), 0);
            int k = atoi(name + 1);
            assert_false(seen[k]);
            seen[k] = true;
        }
        total += fx_len(page);
    }
    assert_int_equal(total, N);
    assert_true(pages > 1);

    size_t exported = 0;
    pages = 0;
    for (;;) {
        char args[64];
        snprintf(args, sizeof(args), "{ op = 'export', offset = %zu }", exported);
        const msgpack_object *ex = fx_ok(fx, "rules", args);
        assert_true(fx->out.size < (512u << 10));
        if (fx_int(ex, "rules") == 0)
            break;
        pages++;
        exported += (size_t)fx_int(ex, "rules");
    }
    assert_int_equal(exported, N);
    assert_true(pages > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_add_list_delete, fx_teardown),
        cmocka_unit_test_teardown(test_bad_input, fx_teardown),
        cmocka_unit_test_teardown(test_export_import_round_trip, fx_teardown),
        cmocka_unit_test_teardown(test_import_refused, fx_teardown),
        cmocka_unit_test_teardown(test_pages, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
