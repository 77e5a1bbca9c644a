/*
 * The rules index against a real store in a temporary directory: what is
 * put is matched (exactly and through "*" fields), deleted rules stop
 * matching, persisted rules come back after a reopen while a policy's
 * in-memory rules do not, and lookups from other threads while the loop
 * thread writes see only whole rules.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules.h"

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int dir_setup(void **state)
{
    char tmpl[] = "/tmp/vg-rules-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    return *state ? 0 : -1;
}

static int dir_teardown(void **state)
{
    nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

static vg_rule proc_rule(const char *group, const char *name, const char *path, const char *user,
                         int action)
{
    vg_rule r = {.plane = VG_PLANE_PROC, .action = action, .origin = VG_RULE_WRITTEN};
    snprintf(r.group, sizeof(r.group), "%s", group);
    snprintf(r.fields[0], VG_RULE_FIELD_MAX, "%s", name);
    snprintf(r.fields[1], VG_RULE_FIELD_MAX, "%s", path);
    snprintf(r.fields[2], VG_RULE_FIELD_MAX, "%s", user);
    return r;
}

/* -1 when no rule matches, else the action. */
static int match3(vg_rules *r, const char *group, const char *a, const char *b, const char *c)
{
    const char *f[] = {a, b, c};
    int action = -1;
    return vg_rules_match(r, group, VG_PLANE_PROC, f, &action) ? action : -1;
}

static void test_names(void **state)
{
    assert_string_equal(vg_plane_name(VG_PLANE_NET), "net");
    assert_int_equal(vg_plane_parse("file"), VG_PLANE_FILE);
    assert_int_equal(vg_plane_parse("disk"), -EINVAL);
    assert_null(vg_plane_name(7));
    assert_string_equal(vg_rule_field_names(VG_PLANE_PROC)[2], "user");
    assert_null(vg_rule_field_names(VG_PLANE_PROC)[3]);
    assert_string_equal(vg_rule_field_names(VG_PLANE_NET)[4], "app");
    assert_string_equal(vg_rule_origin_name(VG_RULE_IMPORTED), "imported");
    assert_string_equal(vg_rule_action_name(VG_RULE_DENY), "deny");
}

static void test_put_match_del(void **state)
{
    vg_store *st;
    vg_rules *r;
    assert_int_equal(vg_store_open(*state, NULL, &st), 0);
    assert_int_equal(vg_rules_open(st, &r), 0);
    uint64_t g0 = vg_rules_generation(r);
    vg_rule curl = proc_rule("web", "curl", "/usr/bin/curl", "root", VG_RULE_ALLOW);
    assert_int_equal(vg_rules_put(r, &curl, true), 0);
    assert_true(vg_rules_generation(r) > g0);
    assert_int_equal(vg_rules_count(r), 1);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "root"), VG_RULE_ALLOW);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "nobody"), -1);
    assert_int_equal(match3(r, "db", "curl", "/usr/bin/curl", "root"), -1);
    /* The same subject replaces, it does not add. */
    curl.action = VG_RULE_DENY;
    assert_int_equal(vg_rules_put(r, &curl, true), 0);
    assert_int_equal(vg_rules_count(r), 1);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "root"), VG_RULE_DENY);
    uint64_t g1 = vg_rules_generation(r);
    assert_int_equal(vg_rules_del(r, &curl), 0);
    assert_true(vg_rules_generation(r) > g1);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "root"), -1);
    assert_int_equal(vg_rules_del(r, &curl), -ENOENT);
    assert_int_equal(vg_rules_count(r), 0);
    vg_rules_free(r);
    vg_store_close(st);
}

static void test_invalid(void **state)
{
    vg_rules *r;
    assert_int_equal(vg_rules_open(NULL, &r), 0);
    vg_rule bad = proc_rule("", "curl", "/usr/bin/curl", "*", VG_RULE_ALLOW);
    assert_int_equal(vg_rules_put(r, &bad, false), -EINVAL); /* no group */
    bad = proc_rule("web", "cu\x1frl", "/usr/bin/curl", "*", VG_RULE_ALLOW);
    assert_int_equal(vg_rules_put(r, &bad, false), -EINVAL);
    bad = proc_rule("web", "curl", "/usr/bin/curl", "*", 9);
    assert_int_equal(vg_rules_put(r, &bad, false), -EINVAL);
    bad.action = VG_RULE_ALLOW;
    bad.plane = 5;
    assert_int_equal(vg_rules_put(r, &bad, false), -EINVAL);
    assert_int_equal(vg_rules_count(r), 0);
    vg_rules_free(r);
}

static void test_wildcards(void **state)
{
    vg_rules *r;
    assert_int_equal(vg_rules_open(NULL, &r), 0);
    vg_rule any_user = proc_rule("web", "curl", "/usr/bin/curl", "", VG_RULE_ALLOW);
    vg_rule any_sh = proc_rule("web", "*", "/bin/sh", "*", VG_RULE_ALLOW);
    vg_rule deny_www = proc_rule("web", "*", "/bin/sh", "www", VG_RULE_DENY);
    assert_int_equal(vg_rules_put(r, &any_user, false), 0);
    assert_int_equal(vg_rules_put(r, &any_sh, false), 0);
    assert_int_equal(vg_rules_put(r, &deny_www, false), 0);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "nobody"), VG_RULE_ALLOW);
    assert_int_equal(match3(r, "web", "curl", "/opt/curl", "nobody"), -1);
    assert_int_equal(match3(r, "web", "dash", "/bin/sh", "root"), VG_RULE_ALLOW);
    /* The more specific rule wins. */
    assert_int_equal(match3(r, "web", "dash", "/bin/sh", "www"), VG_RULE_DENY);
    assert_int_equal(match3(r, "other", "dash", "/bin/sh", "root"), -1);
    /* "" and "*" are one subject. */
    vg_rule star = proc_rule("web", "curl", "/usr/bin/curl", "*", VG_RULE_DENY);
    assert_int_equal(vg_rules_put(r, &star, false), 0);
    assert_int_equal(vg_rules_count(r), 3);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "x"), VG_RULE_DENY);
    assert_int_equal(vg_rules_del(r, &any_sh), 0);
    assert_int_equal(match3(r, "web", "dash", "/bin/sh", "root"), -1);
    vg_rules_free(r);
}

static int collect(const vg_rule *rule, void *arg)
{
    char *out = arg;
    strcat(out, rule->group);
    strcat(out, ":");
    strcat(out, rule->fields[0]);
    strcat(out, " ");
    return 0;
}

static void test_persistence(void **state)
{
    vg_store *st;
    vg_rules *r;
    assert_int_equal(vg_store_open(*state, NULL, &st), 0);
    assert_int_equal(vg_rules_open(st, &r), 0);
    vg_rule a = proc_rule("web", "curl", "/usr/bin/curl", "*", VG_RULE_ALLOW);
    a.origin = VG_RULE_LEARNED;
    snprintf(a.comment, sizeof(a.comment), "seen at start-up");
    vg_rule b = proc_rule("db", "psql", "/usr/bin/psql", "postgres", VG_RULE_DENY);
    vg_rule mem = proc_rule("db", "mem", "/bin/mem", "*", VG_RULE_ALLOW);
    vg_rule net = {.plane = VG_PLANE_NET, .action = VG_RULE_ALLOW, .origin = VG_RULE_IMPORTED};
    strcpy(net.group, "web");
    const char *nf[] = {"egress", "10.0.0.1", "443", "tcp", "https"};
    for (int i = 0; i < 5; i++)
        strcpy(net.fields[i], nf[i]);
    /* A path as long as allowed makes a key past LMDB's limit. */
    vg_rule longr = proc_rule("web", "long", "", "*", VG_RULE_ALLOW);
    memset(longr.fields[1], 'p', VG_RULE_FIELD_MAX - 1);
    memset(longr.fields[0], 'n', VG_RULE_FIELD_MAX - 1);
    assert_int_equal(vg_rules_put(r, &a, true), 0);
    assert_int_equal(vg_rules_put(r, &b, true), 0);
    assert_int_equal(vg_rules_put(r, &net, true), 0);
    assert_int_equal(vg_rules_put(r, &longr, true), 0);
    assert_int_equal(vg_rules_put(r, &mem, false), 0);
    vg_rules_free(r);
    assert_int_equal(vg_store_commit(st, true), 0);
    vg_store_close(st);

    assert_int_equal(vg_store_open(*state, NULL, &st), 0);
    assert_int_equal(vg_rules_open(st, &r), 0);
    assert_int_equal(vg_rules_count(r), 4);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "anyone"), VG_RULE_ALLOW);
    assert_int_equal(match3(r, "db", "psql", "/usr/bin/psql", "postgres"), VG_RULE_DENY);
    assert_int_equal(match3(r, "db", "mem", "/bin/mem", "x"), -1);
    int action = -1;
    assert_int_equal(vg_rules_match(r, "web", VG_PLANE_NET, nf, &action), 1);
    assert_int_equal(action, VG_RULE_ALLOW);
    char out[2048] = "";
    assert_int_equal(vg_rules_each(r, NULL, VG_PLANE_PROC, collect, out), 0);
    assert_int_equal(strncmp(out, "db:psql web:curl web:nnn", 24), 0);
    out[0] = '\0';
    assert_int_equal(vg_rules_each(r, "web", -1, collect, out), 0);
    assert_int_equal(strncmp(out, "web:curl web:nnnn", 17), 0);
    assert_non_null(strstr(out, "web:egress "));
    assert_int_equal(vg_rules_del(r, &longr), 0);
    assert_int_equal(vg_rules_del(r, &a), 0);
    vg_rules_free(r);
    vg_store_close(st);
    assert_int_equal(vg_store_open(*state, NULL, &st), 0);
    assert_int_equal(vg_rules_open(st, &r), 0);
    assert_int_equal(vg_rules_count(r), 2);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "anyone"), -1);
    vg_rules_free(r);
    vg_store_close(st);
}

static void test_clear_written(void **state)
{
    vg_store *st;
    vg_rules *r;
    assert_int_equal(vg_store_open(*state, NULL, &st), 0);
    assert_int_equal(vg_rules_open(st, &r), 0);
    vg_rule learned = proc_rule("web", "curl", "/usr/bin/curl", "*", VG_RULE_ALLOW);
    learned.origin = VG_RULE_LEARNED;
    vg_rule policy = learned;
    policy.action = VG_RULE_DENY;
    policy.origin = VG_RULE_WRITTEN;
    vg_rule other = proc_rule("web", "*", "/bin/ls", "*", VG_RULE_ALLOW);
    assert_int_equal(vg_rules_put(r, &learned, true), 0);
    assert_int_equal(vg_rules_put(r, &policy, false), 0);
    assert_int_equal(vg_rules_put(r, &other, false), 0);
    assert_int_equal(vg_rules_count(r), 2);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "u"), VG_RULE_DENY);
    assert_int_equal(match3(r, "web", "ls", "/bin/ls", "u"), VG_RULE_ALLOW);
    uint64_t g = vg_rules_generation(r);
    vg_rules_clear_written(r);
    assert_true(vg_rules_generation(r) > g);
    /* The policy's rules are gone, the learned one it hid is back. */
    assert_int_equal(vg_rules_count(r), 1);
    assert_int_equal(match3(r, "web", "curl", "/usr/bin/curl", "u"), VG_RULE_ALLOW);
    assert_int_equal(match3(r, "web", "ls", "/bin/ls", "u"), -1);
    vg_rules_free(r);
    vg_store_close(st);
}

static void test_pack_unpack(void **state)
{
    vg_rule a = proc_rule("web", "curl", "/usr/bin/curl", "", VG_RULE_DENY);
    a.created_ns = 1234567890123;
    strcpy(a.comment, "c");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(vg_rule_pack(&a, &pk), 0);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.via.map.size, 9);
    vg_rule b;
    char err[160];
    assert_int_equal(vg_rule_unpack(&up.data, &b, err, sizeof(err)), 0);
    assert_string_equal(b.group, "web");
    assert_string_equal(b.fields[2], "*");
    assert_int_equal(b.created_ns, 1234567890123);
    assert_int_equal(b.action, VG_RULE_DENY);
    msgpack_unpacked_destroy(&up);

    /* Each broken form is refused with a message naming the problem. */
    const struct {
        const char *json_like;
        const char *want;
    } cases[] = {{"plane=disk", "'plane'"},
                 {"action=maybe", "'action'"},
                 {"extra=1", "unknown key 'extra'"},
                 {"group=", "needs a group"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        msgpack_sbuffer_clear(&sb);
        msgpack_pack_map(&pk, 4);
        const char *kv = cases[i].json_like;
        const char *eq = strchr(kv, '=');
        char k[16];
        snprintf(k, sizeof(k), "%.*s", (int)(eq - kv), kv);
        const char *keys[] = {"plane", "action", "origin", "group"};
        const char *vals[] = {"proc", "allow", "written", "web"};
        int replaced = 0;
        for (int j = 0; j < 4; j++) {
            if (strcmp(keys[j], k) == 0) {
                msgpack_pack_str_with_body(&pk, keys[j], strlen(keys[j]));
                msgpack_pack_str_with_body(&pk, eq + 1, strlen(eq + 1));
                replaced = 1;
            } else if (j == 3 && !replaced) {
                msgpack_pack_str_with_body(&pk, k, strlen(k));
                msgpack_pack_int(&pk, 1);
            } else {
                msgpack_pack_str_with_body(&pk, keys[j], strlen(keys[j]));
                msgpack_pack_str_with_body(&pk, vals[j], strlen(vals[j]));
            }
        }
        msgpack_unpacked_init(&up);
        assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
        err[0] = '\0';
        assert_int_equal(vg_rule_unpack(&up.data, &b, err, sizeof(err)), -EINVAL);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' does not mention %s", i, err, cases[i].want);
        msgpack_unpacked_destroy(&up);
    }
    msgpack_sbuffer_destroy(&sb);
}

/* ---- threads ------------------------------------------------------------ */

typedef struct reader {
    vg_rules *r;
    volatile int *stop;
    long lookups, hits, bad;
} reader;

static void *read_loop(void *arg)
{
    reader *rd = arg;
    const char *f[] = {"curl", "/usr/bin/curl", "root"};
    while (!*rd->stop) {
        int action = -1;
        if (vg_rules_match(rd->r, "web", VG_PLANE_PROC, f, &action)) {
            rd->hits++;
            if (action != VG_RULE_ALLOW && action != VG_RULE_DENY)
                rd->bad++;
        }
        rd->lookups++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    vg_store *st;
    vg_rules *r;
    assert_int_equal(vg_store_open(*state, NULL, &st), 0);
    assert_int_equal(vg_rules_open(st, &r), 0);
    volatile int stop = 0;
    reader rd[2] = {{.r = r, .stop = &stop}, {.r = r, .stop = &stop}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, read_loop, &rd[i]), 0);
    vg_rule curl = proc_rule("web", "curl", "/usr/bin/curl", "root", VG_RULE_ALLOW);
    /* Enough distinct rules to make the table grow under the readers. */
    for (int i = 0; i < 5000; i++) {
        vg_rule x = proc_rule("web", "p", "/bin/p", "*", VG_RULE_ALLOW);
        snprintf(x.fields[0], VG_RULE_FIELD_MAX, "p%d", i);
        assert_int_equal(vg_rules_put(r, &x, i % 2 == 0), 0);
        curl.action = i % 2;
        assert_int_equal(vg_rules_put(r, &curl, false), 0);
        if (i % 500 == 0)
            assert_int_equal(vg_store_commit(st, false), 0);
    }
    stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(vg_rules_count(r), 5001);
    for (int i = 0; i < 2; i++) {
        assert_true(rd[i].lookups > 0);
        assert_int_equal(rd[i].bad, 0);
    }
    assert_int_equal(match3(r, "web", "p4999", "/bin/p", "z"), VG_RULE_ALLOW);
    vg_rules_free(r);
    vg_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_put_match_del, dir_setup, dir_teardown),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test_setup_teardown(test_persistence, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_clear_written, dir_setup, dir_teardown),
        cmocka_unit_test(test_pack_unpack),
        cmocka_unit_test_setup_teardown(test_threads, dir_setup, dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
