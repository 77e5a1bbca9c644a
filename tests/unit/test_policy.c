/*
 * The policy engine with real components: policies written to a temporary
 * directory, a real bus on a private loop, an in-memory rules index
 * (policy_harness.h). What is asserted is what a user sees: verdicts, the
 * events the engine publishes, the rules it learns, and the reload result.
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

#include "log_capture.h"
#include "mp.h"
#include "evcat.h"
#include "policy_harness.h"

struct fx {
    char dir[64];
    char *dirs[2];
    vg_harness *h;
    vg_diag diag;
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/vg-policy-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->dirs[0] = f->dir;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vg_harness_free(f->h);
    vg_diag_free(&f->diag);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void start(struct fx *f)
{
    int rc = vg_harness_new(f->dirs, VG_MODE_LEARN, &f->diag, &f->h);
    if (rc < 0)
        vg_diag_print(&f->diag, stderr);
    assert_int_equal(rc, 0);
}

static int feed(struct fx *f, const char *type, const char *group, const char *name)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    vg_mp_pack_kv_str(&pk, "name", name);
    vg_mp_pack_kv_str(&pk, "path", "/usr/bin/x");
    vg_mp_pack_kv_str(&pk, "user", "root");
    vg_event_in in = {.type = vg_event_type_id(type),
                      .severity = VG_SEV_INFO,
                      .group = group,
                      .workload = "w1",
                      .body = sb.data,
                      .body_len = sb.size};
    int v = vg_harness_feed(f->h, &in);
    msgpack_sbuffer_destroy(&sb);
    return v;
}

/* The first event of the last feed with this type, or NULL. */
static const msgpack_object *published(struct fx *f, const char *type)
{
    for (size_t i = 0; i < vg_harness_nevents(f->h); i++)
        if (vg_mp_streq(vg_mp_get(vg_harness_event(f->h, i), "type"), type))
            return vg_harness_event(f->h, i);
    return NULL;
}

static void expect_field(const msgpack_object *ev, const char *key, const char *want)
{
    char buf[512];
    assert_non_null(ev);
    assert_int_equal(vg_mp_get_cstr(ev, key, buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void expect_contains(const msgpack_object *ev, const char *key, const char *part)
{
    char buf[512];
    assert_non_null(ev);
    assert_int_equal(vg_mp_get_cstr(ev, key, buf, sizeof(buf)), 0);
    if (!strstr(buf, part))
        fail_msg("%s is '%s', expected it to contain '%s'", key, buf, part);
}

static const char modes_policy[] =
    "vigil.on('proc.exec', function(ev)\n"
    "  if vigil.allowed(ev) then return 'allow' end\n"
    "  local m = vigil.mode(ev.group)\n"
    "  return m == 'learn' and 'learn' or m == 'monitor' and 'alert' or 'deny'\n"
    "end)\n";

/* The same policy with the verdict and mode constants of vigil. */
static const char modes_policy_constants[] = "vigil.on('proc.exec', function(ev)\n"
                                             "  if vigil.allowed(ev) then return vigil.ALLOW end\n"
                                             "  local m = vigil.mode(ev.group)\n"
                                             "  return m == vigil.LEARN and vigil.LEARN or m == "
                                             "vigil.MONITOR and vigil.ALERT or vigil.DENY\n"
                                             "end)\n";

static void expect_modes(struct fx *f, const char *policy)
{
    write_file(f, "00-modes.lua", policy);
    start(f);
    assert_int_equal(feed(f, "proc.exec", "web", "curl"), VG_VERDICT_LEARN);
    assert_int_equal(vg_rules_count(vg_harness_rules(f->h)), 1);
    assert_int_equal(feed(f, "proc.exec", "web", "curl"), VG_VERDICT_ALLOW);

    vg_harness_set_mode(f->h, "web", VG_MODE_MONITOR);
    assert_int_equal(feed(f, "proc.exec", "web", "wget"), VG_VERDICT_ALERT);
    const msgpack_object *v = published(f, "proc.violation");
    expect_field(v, "action", "alert");
    expect_field(v, "name", "wget");
    expect_field(v, "group", "web");
    assert_int_equal(vg_rules_count(vg_harness_rules(f->h)), 1);

    vg_harness_set_mode(f->h, "web", VG_MODE_PROTECT);
    assert_int_equal(feed(f, "proc.exec", "web", "wget"), VG_VERDICT_DENY);
    expect_field(published(f, "proc.violation"), "action", "deny");
    assert_int_equal(feed(f, "proc.exec", "web", "curl"), VG_VERDICT_ALLOW);
}

static void test_learn_monitor_protect(void **state)
{
    expect_modes(*state, modes_policy);
}

/* vigil.ALLOW, ... vigil.PROTECT decide exactly as the strings did. */
static void test_verdict_constants(void **state)
{
    expect_modes(*state, modes_policy_constants);
}

static void test_decision_cache(void **state)
{
    struct fx *f = *state;
    write_file(f, "00-modes.lua", modes_policy);
    start(f);
    vg_policy *p = vg_harness_policy(f->h);
    const char *curl[] = {"curl", "/usr/bin/x", "root"};
    const char *wget[] = {"wget", "/usr/bin/x", "root"};
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, curl), VG_DECIDE_UNKNOWN);
    feed(f, "proc.exec", "web", "curl"); /* learned */
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, curl), VG_DECIDE_ALLOW);
    vg_policy_stats st;
    vg_policy_stats_get(p, &st);
    uint64_t hits = st.cache_hits;
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, curl), VG_DECIDE_ALLOW);
    vg_policy_stats_get(p, &st);
    assert_int_equal(st.cache_hits, hits + 1);

    /* A policy answer (deny in protect mode) is cached until the mode changes. */
    vg_harness_set_mode(f->h, "web", VG_MODE_PROTECT);
    assert_int_equal(feed(f, "proc.exec", "web", "wget"), VG_VERDICT_DENY);
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, wget), VG_DECIDE_DENY);
    vg_harness_set_mode(f->h, "web", VG_MODE_MONITOR);
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, wget), VG_DECIDE_UNKNOWN);

    /* And a rule change is seen at once. */
    vg_harness_set_mode(f->h, "web", VG_MODE_PROTECT);
    feed(f, "proc.exec", "web", "wget");
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, wget), VG_DECIDE_DENY);
    vg_rule r = {
        .group = "web", .plane = VG_PLANE_PROC, .action = VG_RULE_ALLOW, .origin = VG_RULE_WRITTEN};
    snprintf(r.fields[0], sizeof(r.fields[0]), "wget");
    snprintf(r.fields[1], sizeof(r.fields[1]), "*");
    snprintf(r.fields[2], sizeof(r.fields[2]), "*");
    assert_int_equal(vg_rules_put(vg_harness_rules(f->h), &r, false), 0);
    assert_int_equal(vg_policy_decide_cached(p, "web", VG_PLANE_PROC, wget), VG_DECIDE_ALLOW);
}

/* The cut-off handler is followed by one that must still run, and the next
 * event must still be answered. */
static void expect_cut(struct fx *f, const char *body, const char *msg_part, int line)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "vigil.on('proc.exec', function(ev)\n"
             "  if ev.name ~= 'bad' then return 'allow' end\n"
             "%s\n"
             "end)\n",
             body);
    write_file(f, "50-bad.lua", text);
    start(f);
    vg_harness_set_mode(f->h, "safe", VG_MODE_PROTECT);
    assert_int_equal(feed(f, "proc.exec", "web", "bad"), VG_VERDICT_ALLOW); /* learn default */
    const msgpack_object *e = published(f, "policy.error");
    char path[256];
    snprintf(path, sizeof(path), "%s/50-bad.lua", f->dir);
    expect_field(e, "file", path);
    expect_contains(e, "message", msg_part);
    int64_t l = 0;
    assert_int_equal(vg_mp_get_int(e, "line", &l), 0);
    assert_int_equal(l, line);
    expect_field(e, "event_type", "proc.exec");
    /* In protect mode the fallback is deny. */
    assert_int_equal(feed(f, "proc.exec", "safe", "bad"), VG_VERDICT_DENY);
    /* The engine keeps answering. */
    assert_int_equal(feed(f, "proc.exec", "web", "good"), VG_VERDICT_ALLOW);
    assert_null(published(f, "policy.error"));
}

static void test_endless_loop_is_cut(void **state)
{
    struct fx *f = *state;
    expect_cut(f, "  local n = 0\n  while true do n = n + 1 end", "instructions (endless loop?)",
               4);
    vg_policy_stats st;
    vg_policy_stats_get(vg_harness_policy(f->h), &st);
    assert_int_equal(st.budget_cuts, 2);
    assert_int_equal(st.errors, 2);
}

static void test_loop_in_pcall_is_cut(void **state)
{
    struct fx *f = *state;
    expect_cut(f, "  pcall(function() while true do end end)\n  return 'allow'",
               "instructions (endless loop?)", 3);
}

static void test_memory_bomb_is_cut(void **state)
{
    struct fx *f = *state;
    expect_cut(f,
               "  local t, s = {}, string.rep('x', 1000)\n"
               "  for i = 1, 1e9 do t[i] = s .. i end",
               "MiB of memory", 1);
    vg_policy_stats st;
    vg_policy_stats_get(vg_harness_policy(f->h), &st);
    assert_int_equal(st.memory_cuts, 2);
    /* The garbage is gone again. */
    assert_true(st.lua_bytes < (16u << 20));
}

static void test_runtime_error_and_nonsense(void **state)
{
    struct fx *f = *state;
    expect_cut(f, "  local x = nil\n  return x.field", "attempt to index a nil value", 4);
}

static void test_nonsense_verdict(void **state)
{
    struct fx *f = *state;
    expect_cut(f, "  return 'maybe'", "expected \"allow\", \"deny\", \"alert\", \"learn\" or nil",
               1);
}

/* A verdict whose __tostring raises (or that cannot be turned into text for
 * want of memory) must be reported, not abort the daemon. */
static void test_verdict_with_raising_tostring(void **state)
{
    struct fx *f = *state;
    expect_cut(f, "  return setmetatable({}, {__tostring = function() error('x') end})",
               "the handler returned table; expected", 1);
}

/* C library functions whose work grows with their input are charged to
 * the budget: utf8.len on a 8 MiB string (one instruction per call) once
 * held the loop for seconds. */
static void test_linear_c_functions_are_charged(void **state)
{
    struct fx *f = *state;
    expect_cut(f,
               "  local s = ('x'):rep(1024)\n"
               "  for i = 1, 13 do s = s .. s end\n"
               "  for i = 1, 300 do utf8.len(s) end",
               "utf8.len on 8388608 characters may take", 5);
}

/* What the budget cannot see (a comparison of two 8 MiB strings is one
 * instruction) is stopped by the time limit. */
static void test_time_limit(void **state)
{
    struct fx *f = *state;
    expect_cut(f,
               "  local s = ('x'):rep(1024)\n"
               "  for i = 1, 13 do s = s .. s end\n"
               "  local a, b, n = s .. 'y', s .. 'z', 0\n"
               "  for i = 1, 1000000 do if a < b then n = n + 1 end end",
               "ran for more than 1000 ms", 6);
}

static void test_event_is_read_only(void **state)
{
    struct fx *f = *state;
    expect_cut(f, "  ev.name = 'other'", "events are read-only", 3);
}

static void expect_load_error(struct fx *f, const char *text, const char *part)
{
    write_file(f, "10-escape.lua", text);
    vg_diag_free(&f->diag);
    assert_int_equal(vg_policy_check(f->dirs, &f->diag), -EINVAL);
    assert_true(f->diag.n >= 1);
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s/10-escape.lua:1: ", f->dir);
    if (strncmp(f->diag.msgs[0], prefix, strlen(prefix)) != 0 || !strstr(f->diag.msgs[0], part))
        fail_msg("got '%s', expected '%s...%s'", f->diag.msgs[0], prefix, part);
}

static void test_sandbox_escapes_fail(void **state)
{
    struct fx *f = *state;
    expect_load_error(f, "io.open('/etc/passwd')", "global 'io'");
    expect_load_error(f, "os.execute('touch /tmp/pwned')", "global 'os'");
    expect_load_error(f, "require('socket.core')", "global 'require'");
    expect_load_error(f, "package.loadlib('/lib/libc.so.6', 'system')", "global 'package'");
    expect_load_error(f, "string.dump(function() end)", "field 'dump'");
    expect_load_error(f, "local d = ('').dump; d(print)", "local 'd'");
    expect_load_error(f, "load('return 1')", "global 'load'");
    expect_load_error(f, "dofile('/etc/passwd')", "global 'dofile'");
    expect_load_error(f, "debug.getregistry()", "global 'debug'");
    expect_load_error(f, "collectgarbage('stop')", "global 'collectgarbage'");
    expect_load_error(f, "setmetatable({}, { __gc = function() end })",
                      "__gc metamethods are not allowed in the policy");
    /* A precompiled chunk is refused outright. */
    write_file(f, "10-escape.lua", "\x1bLua\x54\x00\x19\x93\r\n\x1a\n");
    vg_diag_free(&f->diag);
    assert_int_equal(vg_policy_check(f->dirs, &f->diag), -EINVAL);
    assert_non_null(strstr(f->diag.msgs[0], "binary chunk"));
}

/* One file cannot change what another sees or decides: the shared
 * libraries, `vigil`, the strings' metatable and the globals are out of
 * reach, and events cannot be written, not even with rawset(). */
static void test_files_cannot_change_each_other(void **state)
{
    struct fx *f = *state;
    expect_load_error(f, "vigil.allowed = function() return true end",
                      "vigil is read-only (field 'allowed')");
    expect_load_error(f, "string.format = nil", "string is read-only (field 'format')");
    expect_load_error(f, "rawset(vigil, 'allowed', print)", "table expected");
    expect_load_error(f, "getmetatable('').__index = {}", "attempt to index");
    expect_load_error(f, "getmetatable(_ENV).__index.vigil = {}", "attempt to index a nil value");
    /* An earlier file that tries to blank the group of every event, by
     * rawset() on the event or on what pairs() hands out, and to write
     * into a nested table: the next file still sees the event as it came,
     * and its alert stands. */
    write_file(f, "10-escape.lua", "-- emptied\n");
    write_file(f, "10-evil.lua",
               "vigil.on('proc.exec', function(ev)\n"
               "  pcall(rawset, ev, 'group', '')\n"
               "  local _, t = pairs(ev)\n"
               "  pcall(rawset, t, 'group', '')\n"
               "  return 'allow'\n"
               "end)\n");
    write_file(f, "50-modes.lua", modes_policy);
    start(f);
    vg_harness_set_mode(f->h, "web", VG_MODE_MONITOR);
    assert_int_equal(feed(f, "proc.exec", "web", "curl"), VG_VERDICT_ALERT);
    expect_field(published(f, "proc.violation"), "group", "web");
}

static void test_reload_keeps_running_policy(void **state)
{
    struct fx *f = *state;
    write_file(f, "00-a.lua", "vigil.on('proc.exec', function() return 'deny' end)\n");
    start(f);
    vg_policy *p = vg_harness_policy(f->h);
    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_DENY);

    write_file(f, "00-a.lua",
               "vigil.on('proc.exec', function() return 'alert' end)\n"
               "vigil.on('proc.exec', function() return 'allow' end\n");
    vg_diag d = {0};
    assert_int_equal(vg_policy_reload(p, f->dirs, &d), -EINVAL);
    assert_int_equal(d.n, 1);
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s/00-a.lua:3: ", f->dir);
    if (strncmp(d.msgs[0], prefix, strlen(prefix)) != 0)
        fail_msg("got '%s', expected it to start with '%s'", d.msgs[0], prefix);
    vg_diag_free(&d);
    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_DENY); /* the old one */

    /* An error at run time of the top level counts as well. */
    write_file(f, "00-a.lua",
               "vigil.on('proc.exec', function() return 'alert' end)\n"
               "vigil.on('nodot', function() end)\n");
    assert_int_equal(vg_policy_reload(p, f->dirs, &d), -EINVAL);
    assert_non_null(strstr(d.msgs[0], "00-a.lua:2: vigil.on: 'nodot' is not an event type"));
    vg_diag_free(&d);
    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_DENY);

    write_file(f, "00-a.lua", "vigil.on('proc.exec', function() return 'alert' end)\n");
    assert_int_equal(vg_policy_reload(p, f->dirs, &d), 0);
    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_ALERT);
    vg_policy_stats st;
    vg_policy_stats_get(p, &st);
    assert_int_equal(st.reloads_failed, 2);
    assert_int_equal(st.reloads, 2); /* the first load and this one */
}

static void test_written_rules_follow_the_policy(void **state)
{
    struct fx *f = *state;
    write_file(f, "00-modes.lua", modes_policy);
    write_file(f, "30-rules.lua",
               "vigil.rule{ group = 'web', plane = 'proc', name = 'nginx', path = '*',\n"
               "            user = '*', comment = 'the web server' }\n");
    start(f);
    vg_harness_set_mode(f->h, "web", VG_MODE_PROTECT);
    assert_int_equal(feed(f, "proc.exec", "web", "nginx"), VG_VERDICT_ALLOW);
    write_file(f, "30-rules.lua", "-- no rules any more\n");
    vg_diag d = {0};
    assert_int_equal(vg_policy_reload(vg_harness_policy(f->h), f->dirs, &d), 0);
    assert_int_equal(feed(f, "proc.exec", "web", "nginx"), VG_VERDICT_DENY);
    /* A bad rule is a load error with its line. */
    write_file(f, "30-rules.lua", "\nvigil.rule{ group = 'web', plane = 'disk', name = 'x' }\n");
    assert_int_equal(vg_policy_reload(vg_harness_policy(f->h), f->dirs, &d), -EINVAL);
    assert_non_null(strstr(d.msgs[0], "30-rules.lua:2: vigil.rule: plane must be proc"));
    vg_diag_free(&d);
}

struct record {
    int calls;
    char target[64];
    char event_type[64];
};

static int record_action(void *priv, const void *args, size_t len)
{
    struct record *r = priv;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&up, args, len, &off), MSGPACK_UNPACK_SUCCESS);
    vg_mp_get_cstr(&up.data, "target", r->target, sizeof(r->target));
    const msgpack_object *ev = vg_mp_get(&up.data, "event");
    if (ev)
        vg_mp_get_cstr(ev, "type", r->event_type, sizeof(r->event_type));
    msgpack_unpacked_destroy(&up);
    r->calls++;
    return 0;
}

static void test_response_rules(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-alert.lua",
               "vigil.on('proc.exec', function(ev)\n"
               "  if ev.name == 'nc' then\n"
               "    vigil.alert(ev, { type = 'proc.incident', name = 'suspicious_process',\n"
               "                      severity = 'critical' })\n"
               "  end\n"
               "end)\n");
    write_file(f, "20-resp.lua",
               "vigil.response{ name = 'contain', on = 'proc.incident',\n"
               "  match = { incident = 'suspicious*', group = 'web*' },\n"
               "  min_severity = 'error', actions = { 'record:ops', 'quarantine' } }\n");
    start(f);
    struct record rec = {0};
    vg_action_desc desc = {.name = "record", .run = record_action, .priv = &rec};
    assert_int_equal(vg_actions_register(vg_harness_actions(f->h), "test", &desc), 0);

    feed(f, "proc.exec", "web-1", "nc");
    assert_int_equal(rec.calls, 1);
    assert_string_equal(rec.target, "ops");
    assert_string_equal(rec.event_type, "proc.incident");
    int done = 0;
    for (size_t i = 0; i < vg_harness_nevents(f->h); i++) {
        const msgpack_object *e = vg_harness_event(f->h, i);
        if (!vg_mp_streq(vg_mp_get(e, "type"), "response.done"))
            continue;
        done++;
        expect_field(e, "rule", "contain");
        char action[32], status[32];
        vg_mp_get_cstr(e, "action", action, sizeof(action));
        vg_mp_get_cstr(e, "status", status, sizeof(status));
        assert_string_equal(status, strcmp(action, "record") == 0 ? "done" : "unavailable");
    }
    assert_int_equal(done, 2);
    /* Another group does not match. */
    feed(f, "proc.exec", "db", "nc");
    assert_int_equal(rec.calls, 1);
    assert_null(published(f, "response.done"));
}

/* Priority beyond severity: an alert carries opts.priority, or its
 * severity's default; a response rule with min_priority takes only events
 * at or above it (a plugin's event without the field by its severity). */
static void test_response_priority(void **state)
{
    struct fx *f = *state;
    write_file(
        f, "10-alert.lua",
        "vigil.on('proc.exec', function(ev)\n"
        "  if ev.name == 'nc' then\n"
        "    vigil.alert(ev, { type = 'proc.incident', name = 'low', severity = 'critical',\n"
        "                      priority = 40 })\n"
        "  elseif ev.name == 'sh' then\n"
        "    vigil.alert(ev, { type = 'proc.incident', name = 'high', severity = 'warning',\n"
        "                      priority = 80 })\n"
        "  elseif ev.name == 'cat' then\n"
        "    vigil.alert(ev, { type = 'proc.incident', name = 'plain', severity = 'error' })\n"
        "  elseif ev.name == 'bad' then\n"
        "    vigil.alert(ev, { type = 'proc.incident', name = 'bad', priority = 101 })\n"
        "  end\n"
        "end)\n");
    write_file(f, "20-resp.lua",
               "vigil.response{ name = 'urgent', on = 'proc.incident', min_priority = 70,\n"
               "  actions = { 'record:ops' } }\n");
    start(f);
    struct record rec = {0};
    vg_action_desc desc = {.name = "record", .run = record_action, .priv = &rec};
    assert_int_equal(vg_actions_register(vg_harness_actions(f->h), "test", &desc), 0);
    int64_t prio = -1;

    /* critical, but priority 40: below the rule */
    feed(f, "proc.exec", "web", "nc");
    assert_int_equal(vg_mp_get_int(published(f, "proc.incident"), "priority", &prio), 0);
    assert_int_equal(prio, 40);
    assert_int_equal(rec.calls, 0);
    /* warning, but priority 80 */
    feed(f, "proc.exec", "web", "sh");
    assert_int_equal(rec.calls, 1);
    /* error without a priority: its severity's, 70 */
    feed(f, "proc.exec", "web", "cat");
    assert_int_equal(rec.calls, 2);
    const msgpack_object *plain = NULL;
    for (size_t i = 0; i < vg_harness_nevents(f->h); i++) {
        const msgpack_object *e = vg_harness_event(f->h, i);
        if (vg_mp_streq(vg_mp_get(e, "incident"), "plain"))
            plain = e;
    }
    assert_int_equal(vg_mp_get_int(plain, "priority", &prio), 0);
    assert_int_equal(prio, 70);
    /* out of range: a policy error, nothing raised */
    feed(f, "proc.exec", "web", "bad");
    expect_contains(published(f, "policy.error"), "message",
                    "priority must be an integer from 0 to 100");
    assert_int_equal(rec.calls, 2);

    expect_load_error(
        f,
        "vigil.response{ on = 'proc.incident', min_priority = 'high', actions = { 'quarantine' } }",
        "'min_priority' must be an integer from 0 to 100");
}

static void test_vigil_api(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-api.lua",
               "vigil.incidents{ group = 'quiet', reverse_shell = false }\n"
               "assert(not pcall(vigil.response, { on = 'proc.incident', actions = {} }))\n"
               "vigil.on('proc.exec', function(ev)\n"
               "  assert(vigil.incident_enabled('quiet', 'reverse_shell') == false)\n"
               "  assert(vigil.incident_enabled('other', 'reverse_shell') == true)\n"
               "  assert(vigil.default_mode() == 'learn')\n"
               "  assert(vigil.mode({ group = 'x' }) == 'learn')\n"
               "  local n = 0\n"
               "  for k, v in pairs(ev) do n = n + 1 end\n"
               "  assert(n == 9, 'pairs sees header and body: ' .. n)\n"
               "  assert(ev.type == 'proc.exec' and ev.workload == 'w1' and ev.id > 0)\n"
               "  assert(vigil.learn({ group = ev.group, plane = 'file', path = '/etc/hosts',\n"
               "                       program = '/bin/cat', access = 'read' }))\n"
               "  assert(vigil.allowed({ group = ev.group, plane = 'file', path = '/etc/hosts',\n"
               "                         program = '/bin/cat', access = 'read' }))\n"
               "  vigil.deny(ev, { message = 'no' })\n"
               "  assert(vigil.respond('quarantine', ev, { reason = 'test' }) == 'unavailable')\n"
               "  vigil.log('debug', 'handled ' .. ev.name)\n"
               "  assert(not pcall(vigil.on, 'proc.exec', print))\n"
               "  return nil\n"
               "end)\n");
    start(f);
    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_NONE);
    assert_null(published(f, "policy.error"));
    const msgpack_object *v = published(f, "proc.violation");
    expect_field(v, "action", "deny");
    expect_field(v, "message", "no");
    const msgpack_object *d = published(f, "response.done");
    expect_field(d, "status", "unavailable");
    expect_contains(d, "rule", "10-api.lua:17");
    assert_int_equal(vg_rules_count(vg_harness_rules(f->h)), 1);
}

/* A handler on every event that alerts on every event must not feed itself
 * through the bus forever. */
static void test_no_feedback_loops(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-all.lua",
               "vigil.on('*', function(ev)\n"
               "  vigil.alert(ev, { type = 'proc.incident', name = 'again' })\n"
               "  vigil.respond('quarantine', ev)\n"
               "end)\n");
    start(f);
    feed(f, "proc.exec", "web", "x");
    /* The exec gives an incident and a response.done; the incident gives a
     * response.done (no incident about an incident); the two response.done
     * give nothing (respond about a response.done is refused). */
    size_t incidents = 0, done = 0;
    for (size_t i = 0; i < vg_harness_nevents(f->h); i++) {
        const msgpack_object *e = vg_harness_event(f->h, i);
        incidents += vg_mp_streq(vg_mp_get(e, "type"), "proc.incident");
        done += vg_mp_streq(vg_mp_get(e, "type"), "response.done");
    }
    assert_int_equal(incidents, 1);
    assert_int_equal(done, 2);
    assert_null(published(f, "policy.error"));
}

static void test_shipped_policy_loads(void **state)
{
    char *dirs[] = {TEST_SOURCE_DIR "/lua/policies", NULL};
    vg_diag d = {0};
    int rc = vg_policy_check(dirs, &d);
    vg_diag_print(&d, stderr);
    vg_diag_free(&d);
    assert_int_equal(rc, 0);
}

/* The policy.watchlist events on the bus: how many, and the last one. */
struct watch_rec {
    int n;
    msgpack_sbuffer last;
};

static void on_watchlist(const vg_event *ev, void *arg)
{
    struct watch_rec *r = arg;
    r->n++;
    r->last.size = 0;
    assert_int_equal(vg_event_encode(ev, &r->last), 0);
}

/* paths[i] of entry e of the last watch list, as a C string. */
static void expect_watch(struct watch_rec *r, size_t e, const char *group, size_t npaths,
                         const char *const *paths)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, r->last.data, r->last.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *w = vg_mp_get(&up.data, "watch");
    assert_non_null(w);
    assert_int_equal(w->type, MSGPACK_OBJECT_ARRAY);
    assert_true(e < w->via.array.size);
    expect_field(&w->via.array.ptr[e], "group", group);
    const msgpack_object *ps = vg_mp_get(&w->via.array.ptr[e], "paths");
    assert_non_null(ps);
    assert_int_equal(ps->via.array.size, npaths);
    for (size_t i = 0; i < npaths; i++)
        assert_true(vg_mp_streq(&ps->via.array.ptr[i], paths[i]));
    msgpack_unpacked_destroy(&up);
}

static size_t watch_entries(struct watch_rec *r)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, r->last.data, r->last.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *w = vg_mp_get(&up.data, "watch");
    size_t n = w && w->type == MSGPACK_OBJECT_ARRAY ? w->via.array.size : (size_t)-1;
    msgpack_unpacked_destroy(&up);
    return n;
}

static void test_watch_list_follows_the_policy(void **state)
{
    struct fx *f = *state;
    write_file(
        f, "40-watch.lua",
        "vigil.watch{ group = 'web.prod', paths = { '/app/config/*.yaml', '/srv/secrets/' } }\n"
        "vigil.watch{ paths = { '/opt/app.conf' } }\n");
    start(f);
    struct watch_rec r = {0};
    msgpack_sbuffer_init(&r.last);
    /* The load's event is still queued: the bus dispatches after the
     * daemon's plugins subscribed, as here. */
    assert_true(vg_bus_subscribe(vg_harness_bus(f->h), vg_event_type_id("policy.watchlist"),
                                 on_watchlist, &r) >= 0);
    vg_bus_drain(vg_harness_bus(f->h));
    assert_int_equal(r.n, 1);
    assert_int_equal(watch_entries(&r), 2);
    expect_watch(&r, 0, "web.prod", 2,
                 (const char *const[]){"/app/config/*.yaml", "/srv/secrets/"});
    expect_watch(&r, 1, "", 1, (const char *const[]){"/opt/app.conf"});

    /* A failed reload announces nothing: the running list stays. */
    write_file(f, "40-watch.lua",
               "vigil.watch{ group = 'web.prod', paths = { '/ok' } }\n"
               "vigil.watch{ paths = { 'relative/x' } }\n");
    vg_diag d = {0};
    assert_int_equal(vg_policy_reload(vg_harness_policy(f->h), f->dirs, &d), -EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s/40-watch.lua:2: vigil.watch: paths[1]", f->dir);
    if (d.n < 1 || strncmp(d.msgs[0], want, strlen(want)) != 0)
        fail_msg("got '%s', expected '%s...'", d.n ? d.msgs[0] : "", want);
    vg_diag_free(&d);
    vg_bus_drain(vg_harness_bus(f->h));
    assert_int_equal(r.n, 1);

    /* A reload without vigil.watch announces an empty list (the paths stop
     * being watched). */
    write_file(f, "40-watch.lua", "-- nothing watched\n");
    assert_int_equal(vg_policy_reload(vg_harness_policy(f->h), f->dirs, &d), 0);
    vg_bus_drain(vg_harness_bus(f->h));
    assert_int_equal(r.n, 2);
    assert_int_equal(watch_entries(&r), 0);
    msgpack_sbuffer_destroy(&r.last);
}

static void test_broken_watch_is_a_load_error(void **state)
{
    struct fx *f = *state;
    expect_load_error(f, "vigil.watch{ paths = { 'etc/x' } }", "vigil.watch: paths[1] must be");
    expect_load_error(f, "vigil.watch{ paths = { '/app/../etc/shadow' } }", "paths[1] must be");
    expect_load_error(f, "vigil.watch{ paths = { '/app/ok', '/x//y' } }", "paths[2] must be");
    expect_load_error(f, "vigil.watch{ paths = { '/' } }", "paths[1] must be");
    expect_load_error(f, "vigil.watch{ paths = { 42 } }", "paths[1] must be");
    expect_load_error(f, "vigil.watch{ paths = '/app/x' }", "'paths' must be a list");
    expect_load_error(f, "vigil.watch{ paths = {} }", "'paths' must hold 1 to 64 paths");
    expect_load_error(f, "vigil.watch{ group = 7, paths = { '/x' } }", "'group' must be");
    expect_load_error(f, "vigil.watch{ group = '', paths = { '/x' } }", "'group' must be");
    expect_load_error(f, "vigil.watch{ path = { '/x' } }", "unknown field 'path'");
    expect_load_error(f, "vigil.watch('/app/x')", "bad argument #1 to 'watch'");
    /* Well-formed ones pass the same check. */
    write_file(
        f, "10-escape.lua",
        "vigil.watch{ group = 'web', paths = { '/app/*.yaml', '/srv/secrets/', '/a/b.c' } }");
    vg_diag_free(&f->diag);
    assert_int_equal(vg_policy_check(f->dirs, &f->diag), 0);
}

/* got starts with the text of fmt (whose one %s is the fixture's dir). */
static void expect_starts(const struct fx *f, const char *got, const char *fmt)
{
    char want[512];
    snprintf(want, sizeof(want), fmt, f->dir);
    if (strncmp(got, want, strlen(want)) != 0)
        fail_msg("got '%s', expected '%s...'", got, want);
}

/* A misspelt field of vigil fails the load with its file and line, in a
 * handler as at the top level; comments and strings do not count. */
static void test_typo_fails_at_load(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-escape.lua",
               "-- vigil.NOPE in a comment\n"
               "local mine = { 'vigil.NOPE in a string', [[vigil.NOPE]] }\n"
               "vigil.on('proc.exec', function(ev)\n"
               "  if mine then return vigil.DENNY end\n"
               "end)\n");
    vg_diag_free(&f->diag);
    assert_int_equal(vg_policy_check(f->dirs, &f->diag), -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_starts(f, f->diag.msgs[0], "%s/10-escape.lua:4: vigil.DENNY does not exist (verdicts: ");
    expect_load_error(f, "local v = vigil.alow", "vigil.alow does not exist");
    /* The running policy is kept when a reload brings a typo. */
    write_file(f, "10-escape.lua", "vigil.on('proc.exec', function() return vigil.DENY end)\n");
    start(f);
    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_DENY);
    write_file(f, "10-escape.lua", "vigil.on('proc.exec', function() return vigil.ALERTT end)\n");
    vg_diag d = {0};
    assert_int_equal(vg_policy_reload(vg_harness_policy(f->h), f->dirs, &d), -EINVAL);
    assert_non_null(strstr(d.msgs[0], "10-escape.lua:1: vigil.ALERTT does not exist"));
    vg_diag_free(&d);
    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_DENY);
}

/* A name made at run time is not seen at load: reading it is an error at
 * its line then, not a nil verdict. */
static void test_typo_at_run_time(void **state)
{
    expect_cut(*state, "  return vigil['DEN' .. 'NY2']", "vigil.DENNY2 does not exist", 3);
}

/* vigil.report_deny publishes a deny violation; vigil.deny, its old name,
 * still does, and a load warns once about it, with the first line. */
static void test_deny_renamed(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-deny.lua",
               "vigil.on('proc.exec', function(ev)\n"
               "  if ev.name == 'old' then return vigil.deny(ev, { message = 'old' }) and nil end\n"
               "  if ev.name == 'twice' then vigil.deny(ev, { message = 'twice' }) end\n"
               "  vigil.report_deny(ev, { message = 'new' })\n"
               "end)\n");
    log_capture l;
    log_capture_start(&l);
    start(f);
    log_capture_stop();
    assert_int_equal(l.n, 1);
    expect_starts(f, l.msgs[0], "policy %s/10-deny.lua:2: vigil.deny is now vigil.report_deny");

    assert_int_equal(feed(f, "proc.exec", "web", "x"), VG_VERDICT_NONE);
    expect_field(published(f, "proc.violation"), "action", "deny");
    expect_field(published(f, "proc.violation"), "message", "new");
    log_capture_start(&l);
    assert_int_equal(feed(f, "proc.exec", "web", "old"), VG_VERDICT_NONE);
    assert_int_equal(feed(f, "proc.exec", "web", "twice"), VG_VERDICT_NONE);
    log_capture_stop();
    assert_int_equal(l.n, 0); /* said at load, not again per event */
    expect_field(published(f, "proc.violation"), "message", "twice");
    assert_null(published(f, "policy.error"));
}

/* ---- names checked at load, strict events (policy_check.c, lib/evcat.h) ----
 *
 * A missing or empty policy set, unknown event types, response patterns
 * that match nothing, unknown actions and webhook endpoints fail with
 * file:line and the nearest valid names; events are strict (reading a
 * field the type does not have is a policy.error). */

/* Loads the dir as the daemon does (complete) or as a check without
 * plugins, and returns the first problem ("" when it loaded). */
static int load(struct fx *f, const vg_policy_load *lo, char *first, size_t size)
{
    vg_diag d = {0};
    int rc = vg_policy_check_with(f->dirs, lo, &d);
    snprintf(first, size, "%s", d.n ? d.msgs[0] : "");
    vg_diag_free(&d);
    return rc;
}

static void expect_problem(struct fx *f, const vg_policy_load *lo, const char *where,
                           const char *part)
{
    char msg[1024], at[256];
    assert_int_equal(load(f, lo, msg, sizeof(msg)), -EINVAL);
    snprintf(at, sizeof(at), "%s/%s", f->dir, where);
    if (strncmp(msg, at, strlen(at)) != 0 || !strstr(msg, part))
        fail_msg("got '%s', expected '%s...%s'", msg, at, part);
}

static void test_empty_or_missing_policy_dir(void **state)
{
    struct fx *f = *state;
    vg_evcat_reset_declared();
    char msg[1024];
    assert_int_equal(load(f, NULL, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "no policy file in"));
    assert_non_null(strstr(msg, f->dir));

    char *missing[] = {"/nonexistent/vigil-policies", NULL};
    vg_diag d = {0};
    assert_int_equal(vg_policy_check(missing, &d), -EINVAL);
    assert_non_null(strstr(d.msgs[0], "/nonexistent/vigil-policies (does not exist)"));
    vg_diag_free(&d);

    /* Test files are no policies. */
    write_file(f, "x_test.lua", "test.case('x', function() end)\n");
    assert_int_equal(load(f, NULL, msg, sizeof(msg)), -EINVAL);

    vg_policy_load allow = {.allow_empty = true};
    assert_int_equal(load(f, &allow, msg, sizeof(msg)), 0);
    write_file(f, "10-a.lua", "-- nothing yet\n");
    assert_int_equal(load(f, NULL, msg, sizeof(msg)), 0);
}

static void test_unknown_event_types(void **state)
{
    struct fx *f = *state;
    vg_evcat_reset_declared();
    write_file(f, "10-a.lua",
               "vigil.on('proc.exec', function() end)\n"
               "vigil.on('proc.exce', function() end)\n");
    expect_problem(
        f, NULL, "10-a.lua:2: ", "vigil.on: 'proc.exce' is not an event type (nearest: proc.exec");

    /* A plane of vigil's own: an error even without plugins. */
    write_file(f, "10-a.lua", "vigil.on('file.acess', function() end)\n");
    expect_problem(f, NULL, "10-a.lua:1: ", "(nearest: file.access)");

    /* Another plane may be a third-party plugin's: a warning without
     * plugins, an error once plugins have declared theirs. */
    write_file(f, "10-a.lua", "vigil.on('hello.tick', function() end)\n");
    char msg[1024];
    assert_int_equal(load(f, NULL, msg, sizeof(msg)), 0);
    vg_policy_load complete = {.complete = true};
    expect_problem(f, &complete, "10-a.lua:1: ", "'hello.tick' is not an event type");
    assert_int_equal(vg_evcat_declare_type("hello.tick", "hello"), 0);
    assert_int_equal(load(f, &complete, msg, sizeof(msg)), 0);
}

/* A net rule with no plugin producing net events is said (vigilctl rules
 * add, policy load); once a plugin registered one of the catalogue's own
 * net types (the net plugin's net.connect), its plane has a producer. */
static void test_net_plane_producer(void **state)
{
    (void)state;
    vg_evcat_reset_declared();
    assert_false(vg_evcat_plane_produced("net"));
    assert_int_equal(vg_evcat_declare_type("net.connect", "net"), 0);
    assert_true(vg_evcat_plane_produced("net"));
    assert_false(vg_evcat_plane_produced("ne"));
    assert_false(vg_evcat_plane_produced("proc"));
    vg_evcat_reset_declared();
    assert_false(vg_evcat_plane_produced("net"));
}

static void test_response_patterns_and_actions(void **state)
{
    struct fx *f = *state;
    vg_evcat_reset_declared();
    write_file(f, "20-r.lua",
               "vigil.response{ on = 'proc.incidnet', actions = { 'webhook:ops' } }\n");
    expect_problem(f, NULL,
                   "20-r.lua:1: ", "'proc.incidnet' is not an event type (nearest: proc.incident");

    write_file(f, "20-r.lua", "vigil.response{ on = 'proc.exce*', actions = { 'webhook:ops' } }\n");
    expect_problem(f, NULL, "20-r.lua:1: ", "'on' = 'proc.exce*' matches no event type");

    const char *const hooks[] = {"ops", "local", NULL};
    vg_policy_load lo = {.webhooks = hooks, .complete = true};
    write_file(f, "20-r.lua",
               "vigil.response{ on = 'proc.*', actions = { 'suppress:10m' } }\n"
               "vigil.response{ on = '*.incident',\n"
               "  actions = { 'webhook:locl' } }\n");
    expect_problem(f, &lo, "20-r.lua:2: ",
                   "webhook endpoint 'locl' is not in the config's webhooks (ops, local)");

    write_file(f, "20-r.lua",
               "vigil.response{ on = 'proc.violation', actions = { 'webhok:ops' } }\n");
    expect_problem(f, &lo, "20-r.lua:1: ", "unknown action 'webhok' (nearest: webhook)");

    /* Without plugins an unknown action may be a third-party plugin's. */
    char msg[1024];
    write_file(f, "20-r.lua", "vigil.response{ on = 'proc.violation', actions = { 'record' } }\n");
    assert_int_equal(load(f, NULL, msg, sizeof(msg)), 0);
    expect_problem(f, &lo, "20-r.lua:1: ", "unknown action 'record'");
    assert_int_equal(vg_evcat_declare_action("record"), 0);
    assert_int_equal(load(f, &lo, msg, sizeof(msg)), 0);
    /* quarantine is the net plugin's: known even when it is not loaded. */
    write_file(
        f, "20-r.lua",
        "vigil.response{ on = 'proc.incident', actions = { 'quarantine', 'webhook:ops' } }\n");
    assert_int_equal(load(f, &lo, msg, sizeof(msg)), 0);
}

static void test_strict_events(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-s.lua",
               "vigil.on('proc.exec', function(ev)\n"
               "  -- a field of proc.exec that this event lacks is nil\n"
               "  assert(ev.stdio_socket == nil and ev.cmdline == nil)\n"
               "  if ev.name == 'typo' then\n"
               "    return ev.nmae == 'nc' and vigil.DENY or nil\n"
               "  end\n"
               "  return vigil.allowed(ev) and vigil.ALLOW or vigil.ALERT\n"
               "end)\n");
    start(f);
    assert_int_equal(feed(f, "proc.exec", "web", "ls"), VG_VERDICT_ALERT);
    assert_null(published(f, "policy.error"));

    feed(f, "proc.exec", "web", "typo");
    const msgpack_object *e = published(f, "policy.error");
    assert_non_null(e);
    char msg[1024], file[256], want[256];
    int64_t line = 0;
    vg_mp_get_cstr(e, "message", msg, sizeof(msg));
    vg_mp_get_cstr(e, "file", file, sizeof(file));
    vg_mp_get_int(e, "line", &line);
    snprintf(want, sizeof(want), "%s/10-s.lua", f->dir);
    assert_string_equal(file, want);
    assert_int_equal(line, 5);
    if (!strstr(msg, "proc.exec has no field 'nmae' (nearest: name); its fields: id time") ||
        !strstr(msg, " stdio_socket "))
        fail_msg("message: %s", msg);
}

/* Exceptions reload with the policy files, and a wrong one is a load error
 * with its file and line. */
static void test_exceptions_reload(void **state)
{
    struct fx *f = *state;
    write_file(f, "10-alert.lua",
               "vigil.on('proc.exec', function(ev)\n"
               "  vigil.alert(ev, { type = 'proc.incident', name = 'odd' })\n"
               "end)\n");
    start(f);
    vg_policy *p = vg_harness_policy(f->h);
    feed(f, "proc.exec", "web", "x");
    assert_non_null(published(f, "proc.incident"));

    write_file(f, "20-exc.lua",
               "vigil.exception{ incident = 'odd', match = { name = { 'x', 'y' } } }\n");
    vg_diag d = {0};
    assert_int_equal(vg_policy_reload(p, f->dirs, &d), 0);
    feed(f, "proc.exec", "web", "x");
    assert_null(published(f, "proc.incident"));
    feed(f, "proc.exec", "web", "z");
    assert_non_null(published(f, "proc.incident"));
    vg_policy_stats st;
    vg_policy_stats_get(p, &st);
    assert_int_equal(st.excepted, 1);

    write_file(f, "20-exc.lua",
               "vigil.exception{ incident = 'odd',\n"
               "  type = 'proc.violation', match = { name = 'x' } }\n");
    assert_int_equal(vg_policy_reload(p, f->dirs, &d), -EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s/20-exc.lua:1: vigil.exception: name either", f->dir);
    if (strncmp(d.msgs[0], want, strlen(want)) != 0)
        fail_msg("got '%s'", d.msgs[0]);
    vg_diag_free(&d);
    write_file(f, "20-exc.lua", "vigil.exception{ incident = 'odd', match = {} }\n");
    assert_int_equal(vg_policy_reload(p, f->dirs, &d), -EINVAL);
    assert_non_null(strstr(d.msgs[0], "'match' names no field"));
    vg_diag_free(&d);

    /* Removed: raised again (the refused loads kept the one that worked). */
    feed(f, "proc.exec", "web", "x");
    assert_null(published(f, "proc.incident"));
    write_file(f, "20-exc.lua", "-- no exception\n");
    assert_int_equal(vg_policy_reload(p, f->dirs, &d), 0);
    feed(f, "proc.exec", "web", "x");
    assert_non_null(published(f, "proc.incident"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_learn_monitor_protect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_constants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typo_fails_at_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typo_at_run_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deny_renamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decision_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_loop_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_in_pcall_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bomb_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_error_and_nonsense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonsense_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_with_raising_tostring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linear_c_functions_are_charged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_is_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_escapes_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_cannot_change_each_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_running_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_written_rules_follow_the_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vigil_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_feedback_loops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_list_follows_the_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_watch_is_a_load_error, setup, teardown),
        cmocka_unit_test(test_shipped_policy_loads),
        cmocka_unit_test_setup_teardown(test_empty_or_missing_policy_dir, setup, teardown),
        cmocka_unit_test(test_net_plane_producer),
        cmocka_unit_test_setup_teardown(test_unknown_event_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_patterns_and_actions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strict_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exceptions_reload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
