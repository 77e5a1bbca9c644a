/*
 * Plugins' declarations in policies (ABI 1.5, core/policy/policy_decls.c):
 * a real engine loads real policy files from a temporary directory with a
 * declaration kind "knob" whose check wants a `level` from 1 to 10. What a
 * user sees: a good load hands the declarations on in file order, a bad one
 * is refused with the file and line of the call and the check's message
 * and keeps the running ones, and a kind nobody declared is no field of
 * `vigil`.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mp.h"
#include "policy.h"

static int check_knob(const void *decl, size_t len, char *msg, size_t msglen)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int rc = -EINVAL;
    snprintf(msg, msglen, "level must be an integer from 1 to 10");
    if (msgpack_unpack_next(&up, decl, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *l = vg_mp_get(&up.data, "level");
        if (l && l->type == MSGPACK_OBJECT_POSITIVE_INTEGER && l->via.u64 <= 10)
            rc = 0;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

static const vg_policy_decl_desc kinds[] = {{.name = "knob", .check = check_knob}, {NULL}};

struct fx {
    char dir[64];
    char *dirs[2];
    vg_policy *p;
    vg_diag diag;
    char seen[8][64];
    int nseen;
};

static void write_file(struct fx *f, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vg-decls-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->dirs[0] = f->dir;
    vg_policy_opts o = {.default_mode = VG_MODE_LEARN};
    assert_int_equal(vg_policy_new(&o, &f->p), 0);
    vg_policy_load load = {.decls = kinds, .ndecls = 1, .complete = true};
    vg_policy_set_load(f->p, &load);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vg_policy_free(f->p);
    vg_diag_free(&f->diag);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Records each declaration as "group:level". */
static void on_decl(void *arg, const void *decl, size_t len)
{
    struct fx *f = arg;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, decl, len, NULL), MSGPACK_UNPACK_SUCCESS);
    char group[32] = "";
    vg_mp_get_cstr(&up.data, "group", group, sizeof(group));
    const msgpack_object *l = vg_mp_get(&up.data, "level");
    snprintf(f->seen[f->nseen++], sizeof(f->seen[0]), "%s:%llu", group,
             (unsigned long long)l->via.u64);
    msgpack_unpacked_destroy(&up);
}

static int decls(struct fx *f)
{
    f->nseen = 0;
    return vg_policy_decls_each(f->p, "knob", on_decl, f);
}

static void test_handed_on_in_order(void **state)
{
    struct fx *f = *state;
    assert_int_equal(decls(f), 0); /* nothing loaded yet */
    write_file(f, "10-a.lua", "vigil.knob{ group = 'web', level = 3 }\n");
    write_file(f, "20-b.lua",
               "vigil.knob{ group = 'db', level = 7 }\n"
               "vigil.knob{ group = 'web', level = 9 }\n");
    assert_int_equal(vg_policy_reload(f->p, f->dirs, &f->diag), 0);
    assert_int_equal(decls(f), 3);
    assert_string_equal(f->seen[0], "web:3");
    assert_string_equal(f->seen[1], "db:7");
    assert_string_equal(f->seen[2], "web:9");
    assert_int_equal(vg_policy_decls_each(f->p, "other", on_decl, f), 0);

    /* A reload replaces them all. */
    write_file(f, "20-b.lua", "vigil.knob{ group = 'db', level = 1 }\n");
    assert_int_equal(vg_policy_reload(f->p, f->dirs, &f->diag), 0);
    assert_int_equal(decls(f), 2);
    assert_string_equal(f->seen[1], "db:1");
}

static void test_refused_with_file_and_line(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-a.lua", "vigil.knob{ group = 'web', level = 3 }\n");
    assert_int_equal(vg_policy_reload(f->p, f->dirs, &f->diag), 0);
    write_file(f, "10-a.lua",
               "-- a knob too far\n"
               "vigil.knob{ group = 'web', level = 3 }\n"
               "vigil.knob{ group = 'web', level = 11 }\n");
    assert_int_equal(vg_policy_reload(f->p, f->dirs, &f->diag), -EINVAL);
    assert_true(f->diag.n >= 1);
    char want[160];
    snprintf(want, sizeof(want), "%s/10-a.lua:3: vigil.knob: level must be an integer", f->dir);
    assert_non_null(strstr(f->diag.msgs[0], want));
    /* the running declarations stay */
    assert_int_equal(decls(f), 1);
    assert_string_equal(f->seen[0], "web:3");

    /* not a table */
    vg_diag_free(&f->diag);
    write_file(f, "10-a.lua", "vigil.knob('web')\n");
    assert_int_equal(vg_policy_reload(f->p, f->dirs, &f->diag), -EINVAL);
    assert_non_null(strstr(f->diag.msgs[0], "10-a.lua:1: vigil.knob: expected a table"));
}

static void test_unknown_kind(void **state)
{
    struct fx *f = *state;
    vg_policy_load load = {.complete = true}; /* no plugin declares "knob" */
    vg_policy_set_load(f->p, &load);
    write_file(f, "10-a.lua", "\nvigil.knob{ level = 3 }\n");
    assert_int_equal(vg_policy_reload(f->p, f->dirs, &f->diag), -EINVAL);
    assert_non_null(strstr(f->diag.msgs[0], "10-a.lua:2"));
    assert_non_null(strstr(f->diag.msgs[0], "vigil.knob"));
    /* --check gets the same answer without an engine */
    vg_diag d = {0};
    vg_policy_load with = {.decls = kinds, .ndecls = 1};
    assert_int_equal(vg_policy_check_with(f->dirs, &with, &d), 0);
    vg_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handed_on_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_with_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_kind, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
