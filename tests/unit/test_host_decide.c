/*
 * The host table's decide() (ABI 1.3, a named subject) against the real
 * policy engine and rules index, and its 1.1 form decide_fields(), which
 * plugins built against ABI 1.1 and 1.2 call: both must give the answers
 * that include/vigil/plugin.h states, and the same answer for the same
 * subject.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "mp.h"
#include "plugins.h"
#include "policy_harness.h"
#include "rules.h"

typedef struct fixture {
    char dir[64];
    vg_harness *harness;
    vg_plugin_env env;
    struct vg_host host;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vg-host-decide-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char *dirs[] = {f->dir, NULL};
    vg_diag diag = {0};
    assert_int_equal(vg_harness_new(dirs, VG_MODE_PROTECT, &diag, &f->harness), 0);
    vg_diag_free(&diag);
    f->env = (vg_plugin_env){.policy = vg_harness_policy(f->harness)};
    f->host = (struct vg_host){.env = &f->env, .name = "tester"};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    vg_harness_free(f->harness);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void rule(fixture *f, int plane, int action, const char *const *fields)
{
    vg_rule r = {.group = "web", .plane = plane, .action = action, .origin = VG_RULE_WRITTEN};
    for (int i = 0; fields[i]; i++)
        snprintf(r.fields[i], sizeof(r.fields[i]), "%s", fields[i]);
    assert_int_equal(vg_rules_put(vg_harness_rules(f->harness), &r, false), 0);
}

/* decide(s), checked against decide_fields() with the same subject in the
 * plane's order (the 1.2 form). */
static int ask(fixture *f, const vg_subject *s, const char *const *fields)
{
    int d = vg__host_api.decide(&f->host, s);
    assert_int_equal(vg__host_api.decide_fields(&f->host, s->group, s->plane, fields), d);
    return d;
}

static void test_proc(void **state)
{
    fixture *f = *state;
    rule(f, VG_PLANE_PROC, VG_RULE_ALLOW, (const char *[]){"curl", "/usr/bin/curl", "0", NULL});
    vg_subject s = {.plane = VG_PLANE_PROC,
                    .group = "web",
                    .proc = {.name = "curl", .path = "/usr/bin/curl", .user = "0"}};
    assert_int_equal(ask(f, &s, (const char *[]){"curl", "/usr/bin/curl", "0"}), VG_DECIDE_ALLOW);
    s.proc.user = "65534";
    assert_int_equal(ask(f, &s, (const char *[]){"curl", "/usr/bin/curl", "65534"}),
                     VG_DECIDE_UNKNOWN);
    /* Another group's rules are not web's. */
    s = (vg_subject){.plane = VG_PLANE_PROC,
                     .group = "db",
                     .proc = {.name = "curl", .path = "/usr/bin/curl", .user = "0"}};
    assert_int_equal(ask(f, &s, (const char *[]){"curl", "/usr/bin/curl", "0"}), VG_DECIDE_UNKNOWN);
    /* Left out (NULL) is "some value" in the proc plane: the pre-exec
     * question about a file. */
    s = (vg_subject){.plane = VG_PLANE_PROC, .group = "web", .proc = {.path = "/usr/bin/curl"}};
    assert_int_equal(ask(f, &s, (const char *[]){"", "/usr/bin/curl", ""}), VG_DECIDE_ALLOW);
    s.proc.path = "/usr/bin/wget";
    assert_int_equal(ask(f, &s, (const char *[]){"", "/usr/bin/wget", ""}), VG_DECIDE_UNKNOWN);
    /* A deny with "*" in every field not known wins over the allow. */
    rule(f, VG_PLANE_PROC, VG_RULE_DENY, (const char *[]){"*", "/usr/bin/curl", "*", NULL});
    s.proc.path = "/usr/bin/curl";
    assert_int_equal(ask(f, &s, (const char *[]){"", "/usr/bin/curl", ""}), VG_DECIDE_DENY);
    /* The exact allow has fewer "*" than the deny: it decides its subject. */
    s.proc.name = "curl", s.proc.user = "0";
    assert_int_equal(ask(f, &s, (const char *[]){"curl", "/usr/bin/curl", "0"}), VG_DECIDE_ALLOW);
}

static void test_file(void **state)
{
    fixture *f = *state;
    rule(f, VG_PLANE_FILE, VG_RULE_DENY, (const char *[]){"/etc/shadow", "*", "*", NULL});
    rule(f, VG_PLANE_FILE, VG_RULE_ALLOW,
         (const char *[]){"/etc/shadow", "/usr/sbin/useradd", "write", NULL});
    vg_subject s = {
        .plane = VG_PLANE_FILE,
        .group = "web",
        .file = {.path = "/etc/shadow", .program = "/usr/sbin/useradd", .access = "write"}};
    assert_int_equal(ask(f, &s, (const char *[]){"/etc/shadow", "/usr/sbin/useradd", "write"}),
                     VG_DECIDE_ALLOW);
    s.file.program = "/bin/sh";
    assert_int_equal(ask(f, &s, (const char *[]){"/etc/shadow", "/bin/sh", "write"}),
                     VG_DECIDE_DENY);
    /* Not known in the file plane matches only "*": the deny here. */
    s.file.program = NULL;
    assert_int_equal(ask(f, &s, (const char *[]){"/etc/shadow", "", "write"}), VG_DECIDE_DENY);
    /* As many "*" on either side: the deny wins. */
    rule(f, VG_PLANE_FILE, VG_RULE_ALLOW, (const char *[]){"/var/log/app", "*", "write", NULL});
    rule(f, VG_PLANE_FILE, VG_RULE_DENY, (const char *[]){"/var/log/app", "/bin/sh", "*", NULL});
    s = (vg_subject){.plane = VG_PLANE_FILE,
                     .group = "web",
                     .file = {.path = "/var/log/app", .program = "/bin/sh", .access = "write"}};
    assert_int_equal(ask(f, &s, (const char *[]){"/var/log/app", "/bin/sh", "write"}),
                     VG_DECIDE_DENY);
    s.file.program = "/usr/bin/app";
    assert_int_equal(ask(f, &s, (const char *[]){"/var/log/app", "/usr/bin/app", "write"}),
                     VG_DECIDE_ALLOW);
    /* "" reads as NULL does: not known, and no "some program" either. */
    s.file = (vg_subject_file){.path = "/etc/motd", .program = "", .access = "write"};
    rule(f, VG_PLANE_FILE, VG_RULE_ALLOW, (const char *[]){"/etc/motd", "/bin/vi", "write", NULL});
    assert_int_equal(ask(f, &s, (const char *[]){"/etc/motd", "", "write"}), VG_DECIDE_UNKNOWN);
}

static void test_net_port_is_a_number(void **state)
{
    fixture *f = *state;
    rule(f, VG_PLANE_NET, VG_RULE_ALLOW,
         (const char *[]){"out", "127.0.0.1", "443", "tcp", "https", NULL});
    rule(f, VG_PLANE_NET, VG_RULE_DENY, (const char *[]){"out", "10.0.0.9", "*", "*", "*", NULL});
    vg_subject s = {
        .plane = VG_PLANE_NET,
        .group = "web",
        .net = {
            .direction = "out", .peer = "127.0.0.1", .port = 443, .proto = "tcp", .app = "https"}};
    assert_int_equal(ask(f, &s, (const char *[]){"out", "127.0.0.1", "443", "tcp", "https"}),
                     VG_DECIDE_ALLOW);
    s.net.port = 8443;
    assert_int_equal(ask(f, &s, (const char *[]){"out", "127.0.0.1", "8443", "tcp", "https"}),
                     VG_DECIDE_UNKNOWN);
    /* Port 0 is not known: only a rule with "*" there fits. */
    s.net.port = 0;
    assert_int_equal(ask(f, &s, (const char *[]){"out", "127.0.0.1", "", "tcp", "https"}),
                     VG_DECIDE_UNKNOWN);
    s.net.peer = "10.0.0.9";
    assert_int_equal(ask(f, &s, (const char *[]){"out", "10.0.0.9", "", "tcp", "https"}),
                     VG_DECIDE_DENY);
    /* The port is written as the rules keep it, one digit to five. */
    rule(f, VG_PLANE_NET, VG_RULE_ALLOW, (const char *[]){"out", "127.0.0.1", "7", "*", "*", NULL});
    rule(f, VG_PLANE_NET, VG_RULE_ALLOW,
         (const char *[]){"out", "127.0.0.1", "65535", "*", "*", NULL});
    s.net.peer = "127.0.0.1";
    s.net.port = 7;
    assert_int_equal(ask(f, &s, (const char *[]){"out", "127.0.0.1", "7", "tcp", "https"}),
                     VG_DECIDE_ALLOW);
    s.net.port = 65535;
    assert_int_equal(ask(f, &s, (const char *[]){"out", "127.0.0.1", "65535", "tcp", "https"}),
                     VG_DECIDE_ALLOW);
    s.net.port = 6553;
    assert_int_equal(ask(f, &s, (const char *[]){"out", "127.0.0.1", "6553", "tcp", "https"}),
                     VG_DECIDE_UNKNOWN);
    s.net.peer = "10.0.0.9";
    /* A port that no packet has is no question: even the deny of every
     * port does not answer it. */
    s.net.port = 65536;
    assert_int_equal(vg__host_api.decide(&f->host, &s), VG_DECIDE_UNKNOWN);
    s.net.port = -1;
    assert_int_equal(vg__host_api.decide(&f->host, &s), VG_DECIDE_UNKNOWN);
}

static void test_bad_questions_are_unknown(void **state)
{
    fixture *f = *state;
    rule(f, VG_PLANE_PROC, VG_RULE_ALLOW, (const char *[]){"*", "*", "*", NULL});
    vg_subject s = {.plane = VG_PLANE_PROC, .group = "web"};
    assert_int_equal(vg__host_api.decide(&f->host, &s), VG_DECIDE_ALLOW);
    assert_int_equal(vg__host_api.decide(&f->host, NULL), VG_DECIDE_UNKNOWN);
    s.plane = VG_PLANE_COUNT;
    assert_int_equal(vg__host_api.decide(&f->host, &s), VG_DECIDE_UNKNOWN);
    s.plane = -1;
    assert_int_equal(vg__host_api.decide(&f->host, &s), VG_DECIDE_UNKNOWN);
    s = (vg_subject){.plane = VG_PLANE_PROC, .group = NULL};
    assert_int_equal(vg__host_api.decide(&f->host, &s), VG_DECIDE_UNKNOWN);
    char long_group[VG_GROUP_MAX + 8];
    memset(long_group, 'g', sizeof(long_group) - 1);
    long_group[sizeof(long_group) - 1] = '\0';
    s.group = long_group;
    assert_int_equal(vg__host_api.decide(&f->host, &s), VG_DECIDE_UNKNOWN);
    /* A daemon without a policy engine knows nothing. */
    vg_plugin_env none = {0};
    struct vg_host bare = {.env = &none, .name = "bare"};
    s.group = "web";
    assert_int_equal(vg__host_api.decide(&bare, &s), VG_DECIDE_UNKNOWN);
}

/* The policy's own answer to an event is what decide() gives next time,
 * with no rule behind it. */
static void test_policy_answers_reach_decide(void **state)
{
    char dir[] = "/tmp/vg-host-decide-policy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/10-verdicts.lua", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("vigil.on('proc.exec', function(ev)\n"
          "  if ev.name == 'evil' then return 'deny' end\n"
          "  if ev.name == 'tool' then return 'allow' end\n"
          "end)\n",
          fp);
    fclose(fp);
    char *dirs[] = {dir, NULL};
    vg_diag diag = {0};
    vg_harness *hs;
    assert_int_equal(vg_harness_new(dirs, VG_MODE_MONITOR, &diag, &hs), 0);
    vg_plugin_env env = {.policy = vg_harness_policy(hs)};
    struct vg_host host = {.env = &env, .name = "tester"};

    const char *names[] = {"evil", "tool"};
    const int want[] = {VG_DECIDE_DENY, VG_DECIDE_ALLOW};
    for (int i = 0; i < 2; i++) {
        vg_subject s = {.plane = VG_PLANE_PROC,
                        .group = "web",
                        .proc = {.name = names[i], .path = "/usr/bin/x", .user = "0"}};
        assert_int_equal(vg__host_api.decide(&host, &s), VG_DECIDE_UNKNOWN);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        vg_mp_pack_kv_str(&pk, "name", names[i]);
        vg_mp_pack_kv_str(&pk, "path", "/usr/bin/x");
        vg_mp_pack_kv_str(&pk, "user", "0");
        vg_event_in ev = {.type = vg_event_type_id("proc.exec"),
                          .severity = VG_SEV_INFO,
                          .workload = "c1",
                          .group = "web",
                          .body = sb.data,
                          .body_len = sb.size};
        assert_true(vg_harness_feed(hs, &ev) >= 0);
        msgpack_sbuffer_destroy(&sb);
        assert_int_equal(vg__host_api.decide(&host, &s), want[i]);
        const char *f[] = {names[i], "/usr/bin/x", "0"};
        assert_int_equal(vg__host_api.decide_fields(&host, "web", VG_PLANE_PROC, f), want[i]);
    }
    vg_harness_free(hs);
    vg_diag_free(&diag);
    unlink(path);
    rmdir(dir);
}

/* VG_HOST_HAS tells a plugin of a newer minor what an older daemon has. */
static void test_host_has(void **state)
{
    assert_true(VG_HOST_HAS(&vg__host_api, decide));
    assert_true(VG_HOST_HAS(&vg__host_api, register_command));
    vg_host_api older = vg__host_api; /* a 1.2 daemon's table ends at reply_error */
    older.abi_minor = 2;
    older.size = offsetof(vg_host_api, decide);
    assert_false(VG_HOST_HAS(&older, decide));
    assert_true(VG_HOST_HAS(&older, reply_error));
    assert_true(VG_HOST_HAS(&older, decide_fields));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_port_is_a_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_questions_are_unknown, setup, teardown),
        cmocka_unit_test(test_policy_answers_reach_decide),
        cmocka_unit_test(test_host_has),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
