/*
 * The config file as a user meets it: real files in a temporary directory,
 * loaded by vg_config_load(), checked by the values that come out and by the
 * exact "file:line: message" lines that `vigild --check` would print.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "log_capture.h"

#ifndef TEST_SOURCE_DIR
#define TEST_SOURCE_DIR "."
#endif
/* The build defines these for config.c and this file alike. */
#ifndef VIGIL_DEFAULT_PLUGIN_DIR
#define VIGIL_DEFAULT_PLUGIN_DIR "/usr/lib/vigil/plugins"
#endif
#ifndef VIGIL_DEFAULT_POLICY_DIR
#define VIGIL_DEFAULT_POLICY_DIR "/usr/share/vigil/policies"
#endif

#define MAX_FILES 32

struct fx {
    char dir[256];
    char path[512]; /* the file written last */
    char files[MAX_FILES][512];
    int nfiles;
    char subdir[512];
    vg_config *cfg;
    vg_diag diag;
};

static vg_config untouched; /* sentinel: *out must not change on failure */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/vigil-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vg_config_free(f->cfg);
    vg_diag_free(&f->diag);
    for (int i = 0; i < f->nfiles; i++)
        unlink(f->files[i]);
    if (f->subdir[0])
        rmdir(f->subdir);
    /* Fails if anything else was left behind, e.g. by a sandbox escape. */
    int rc = rmdir(f->dir);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static const char *write_bytes(struct fx *f, const char *dir, const char *name, const void *data,
                               size_t len)
{
    snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
    int known = 0;
    for (int i = 0; i < f->nfiles; i++)
        known |= strcmp(f->files[i], f->path) == 0;
    if (!known) {
        assert_true(f->nfiles < MAX_FILES);
        snprintf(f->files[f->nfiles++], sizeof(f->files[0]), "%s", f->path);
    }
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    return f->path;
}

static int load_path(struct fx *f, const char *path)
{
    vg_config_free(f->cfg);
    f->cfg = NULL;
    vg_diag_free(&f->diag);
    vg_config *c = &untouched;
    int rc = vg_config_load(path, &c, &f->diag);
    if (rc == 0) {
        assert_ptr_not_equal(c, &untouched);
        assert_int_equal(f->diag.n, 0);
        f->cfg = c;
    } else {
        assert_ptr_equal(c, &untouched);
        assert_true(f->diag.n > 0);
    }
    return rc;
}

/* Writes text as <dir>/vigil.lua and loads it. */
static int load_text(struct fx *f, const char *text)
{
    write_bytes(f, f->dir, "vigil.lua", text, strlen(text));
    return load_path(f, f->path);
}

static void dump_diag(const struct fx *f)
{
    fprintf(stderr, "diag (%zu):\n", f->diag.n);
    vg_diag_print(&f->diag, stderr);
}

/* Asserts that the diag holds exactly "path:line: msg" ("path: msg" for
 * line 0). */
static void expect_msg(const struct fx *f, int line, const char *msg)
{
    char want[1024];
    if (line > 0)
        snprintf(want, sizeof(want), "%s:%d: %s", f->path, line, msg);
    else
        snprintf(want, sizeof(want), "%s: %s", f->path, msg);
    for (size_t i = 0; i < f->diag.n; i++)
        if (strcmp(f->diag.msgs[i], want) == 0)
            return;
    dump_diag(f);
    fail_msg("missing message: %s", want);
}

/* Asserts that a message starts with "path:line:" ("path:" for any line,
 * "path: " for none) and contains part (Lua's own wording). */
static void expect_part(const struct fx *f, int line, const char *part)
{
    char prefix[600];
    if (line < 0)
        snprintf(prefix, sizeof(prefix), "%s:", f->path);
    else if (line > 0)
        snprintf(prefix, sizeof(prefix), "%s:%d: ", f->path, line);
    else
        snprintf(prefix, sizeof(prefix), "%s: ", f->path);
    for (size_t i = 0; i < f->diag.n; i++)
        if (strncmp(f->diag.msgs[i], prefix, strlen(prefix)) == 0 && strstr(f->diag.msgs[i], part))
            return;
    dump_diag(f);
    fail_msg("no message '%s...%s'", prefix, part);
}

static void assert_list(char **got, const char *const *want)
{
    size_t i = 0;
    assert_non_null(got);
    for (; want[i]; i++) {
        assert_non_null(got[i]);
        assert_string_equal(got[i], want[i]);
    }
    assert_null(got[i]);
}

static void assert_same_config(const vg_config *a, const vg_config *b)
{
    assert_string_equal(a->state_dir, b->state_dir);
    assert_string_equal(a->socket_path, b->socket_path);
    assert_string_equal(a->plugin_dir, b->plugin_dir);
    assert_list(a->policy_dirs, (const char *const *)b->policy_dirs);
    assert_int_equal(a->log_level, b->log_level);
    assert_string_equal(a->default_mode, b->default_mode);
    assert_true((a->control_group == NULL) == (b->control_group == NULL));
    if (a->control_group)
        assert_string_equal(a->control_group, b->control_group);
    assert_int_equal(a->events_max, b->events_max);
    assert_int_equal(a->bus_queue, b->bus_queue);
    assert_int_equal(a->store_map_mb, b->store_map_mb);
    assert_list(a->store_skip, (const char *const *)b->store_skip);
    assert_int_equal(a->group_aging_hours, b->group_aging_hours);
}

static void test_defaults(void **state)
{
    (void)state;
    vg_config *cfg = NULL;
    assert_int_equal(vg_config_defaults(&cfg), 0);
    assert_null(cfg->path);
    assert_string_equal(cfg->state_dir, "/var/lib/vigil");
    assert_string_equal(cfg->socket_path, "/run/vigil/vigild.sock");
    assert_string_equal(cfg->plugin_dir, VIGIL_DEFAULT_PLUGIN_DIR);
    const char *const dirs[] = {VIGIL_DEFAULT_POLICY_DIR, "/etc/vigil/policies.d", NULL};
    assert_list(cfg->policy_dirs, dirs);
    assert_int_equal(cfg->log_level, VG_LOG_INFO);
    assert_string_equal(cfg->default_mode, "learn");
    assert_null(cfg->control_group);
    assert_int_equal(cfg->events_max, 100000);
    assert_int_equal(cfg->bus_queue, 65536);
    assert_int_equal(cfg->store_map_mb, 64);
    const char *const nothing[] = {NULL};
    assert_list(cfg->store_skip, nothing); /* every event is stored */
    assert_int_equal(cfg->group_aging_hours, 24);
    assert_non_null(cfg->L);

    const char *s = "unchanged";
    int64_t i = 7;
    int b = 7;
    assert_int_equal(vg_config_plugin_string(cfg, "proc", "fail_mode", &s), -ENOENT);
    assert_int_equal(vg_config_plugin_int(cfg, "proc", "timeout", &i), -ENOENT);
    assert_int_equal(vg_config_plugin_bool(cfg, "proc", "verbose", &b), -ENOENT);
    assert_string_equal(s, "unchanged");
    assert_int_equal(i, 7);
    assert_int_equal(b, 7);
    assert_true(vg_config_plugin_enabled(cfg, "proc"));
    vg_config_free(cfg);
    vg_config_free(NULL);
}

/* The file users edit must load cleanly and say exactly what the built-in
 * defaults say. */
static void test_shipped_file_is_the_defaults(void **state)
{
    struct fx *f = *state;
    const char *path = TEST_SOURCE_DIR "/etc/vigil/vigil.lua";
    snprintf(f->path, sizeof(f->path), "%s", path);
    int rc = load_path(f, path);
    if (rc != 0)
        dump_diag(f);
    assert_int_equal(rc, 0);
    vg_config *def = NULL;
    assert_int_equal(vg_config_defaults(&def), 0);
    assert_same_config(f->cfg, def);
    assert_string_equal(f->cfg->path, path);
    vg_config_free(def);
}

static void test_full_file(void **state)
{
    struct fx *f = *state;
    int rc = load_text(f, "-- every setting, none at its default\n"
                          "state_dir = \"/srv/vigil/\" .. string.lower(\"STATE\")\n"
                          "socket = state_dir .. \"/vigild.sock\"\n"
                          "plugin_dir = \"/opt/vigil/plugins\"\n"
                          "policy_dirs = { \"/opt/vigil/policies\" }\n"
                          "table.insert(policy_dirs, \"/etc/vigil/custom\")\n"
                          "log_level = \"debug\"\n"
                          "default_mode = \"monitor\"\n"
                          "control_group = \"vigil\"\n"
                          "events_max = 5000\n"
                          "bus_queue = math.floor(2^20)\n"
                          "store_map_mb = 2e3 -- an integral float is an integer\n"
                          "plugins = {\n"
                          "  proc = { enabled = false, fail_mode = \"allow\" },\n"
                          "  net = { ifaces = { \"eth0\", \"eth1\" }, verbose = true },\n"
                          "}\n");
    if (rc != 0)
        dump_diag(f);
    assert_int_equal(rc, 0);
    vg_config *c = f->cfg;
    assert_string_equal(c->path, f->path);
    assert_string_equal(c->state_dir, "/srv/vigil/state");
    assert_string_equal(c->socket_path, "/srv/vigil/state/vigild.sock");
    assert_string_equal(c->plugin_dir, "/opt/vigil/plugins");
    const char *const dirs[] = {"/opt/vigil/policies", "/etc/vigil/custom", NULL};
    assert_list(c->policy_dirs, dirs);
    assert_int_equal(c->log_level, VG_LOG_DEBUG);
    assert_string_equal(c->default_mode, "monitor");
    assert_string_equal(c->control_group, "vigil");
    assert_int_equal(c->events_max, 5000);
    assert_int_equal(c->bus_queue, 1 << 20);
    assert_int_equal(c->store_map_mb, 2000);
    assert_false(vg_config_plugin_enabled(c, "proc"));
    assert_true(vg_config_plugin_enabled(c, "net"));
    assert_true(vg_config_plugin_enabled(c, "file"));
}

/* What the sandbox keeps must work as in plain Lua. */
static void test_safe_libraries_work(void **state)
{
    struct fx *f = *state;
    int rc = load_text(
        f, "local ok, msg = xpcall(function(a, b) error('boom ' .. a .. b) end,\n"
           "                       function(m) return 'handled: ' .. m end, 1, 2)\n"
           "assert(not ok and msg:find('handled: .*boom 12'), msg)\n"
           "local r = { xpcall(function(a, b) return a + b, 'x' end, error, 40, 2) }\n"
           "assert(r[1] == true and r[2] == 42 and r[3] == 'x' and #r == 3)\n"
           "assert(select('#', pcall(error, 'e')) == 2)\n"
           "local t = setmetatable({}, { __index = function(_, k) return k * 2 end })\n"
           "assert(t[21] == 42 and rawget(t, 21) == nil and getmetatable(t))\n"
           "local n = 0\n"
           "for _, v in ipairs({ 1, 2, 3 }) do n = n + v end\n"
           "for k in pairs({ a = 1 }) do assert(k == 'a') end\n"
           "assert(n == 6 and next({}) == nil and rawlen({ 1, 2 }) == 2 and rawequal(t, t))\n"
           "assert(tonumber('0x10') == 16 and tostring(12) == '12' and type(t) == 'table')\n"
           "assert(utf8.char(72, 105) == 'Hi' and math.max(1, 5) == 5)\n"
           "assert(table.concat({ 'a', 'b' }, ',') == 'a,b' and _VERSION == 'Lua 5.4')\n"
           "for w in ('a b c'):gmatch('%a+') do assert(#w == 1) end\n"
           "assert(('[x]'):find('[]]') == 3 and ('abc'):match('^(a)') == 'a')\n"
           "assert(table.concat(table.move({ 1, 2, 3 }, 1, 3, 2), ',') == '1,1,2,3')\n"
           "assert(('x'):rep(3, '-') == 'x-x-x' and ('a.b'):find('.', 1, true) == 2)\n"
           "local l = { 1, 2 }\n"
           "table.insert(l, 3)\n"
           "table.insert(l, 1, 0)\n"
           "assert(table.remove(l, 1) == 0 and table.remove(l) == 3 and #l == 2)\n"
           "control_group = ('%s-%d'):format(string.upper('ops'), n)\n");
    if (rc != 0)
        dump_diag(f);
    assert_int_equal(rc, 0);
    assert_string_equal(f->cfg->control_group, "OPS-6");
}

static void test_unknown_key_has_its_line(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "log_level = \"info\"\n"
                                  "-- a comment\n"
                                  "\n"
                                  "lgo_level = \"debug\"\n"),
                     -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 4, "unknown setting 'lgo_level'");

    /* A value spread over lines is reported where its statement starts. */
    assert_int_equal(load_text(f, "log_level = \"info\"\n"
                                  "pluginz = {\n"
                                  "  proc = { enabled = true },\n"
                                  "}\n"),
                     -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 2, "unknown setting 'pluginz'");
}

/* A loop of bad assignments lists a bounded number of them; the error that
 * stops the file is still shown. */
static void test_problem_list_is_bounded(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "for i = 1, 1000 do\n  bogus = i\nend\nerror('stop')\n"),
                     -EINVAL);
    assert_int_equal(f->diag.n, 52);
    assert_true(strstr(f->diag.msgs[0], ":2: unknown setting 'bogus'") != NULL);
    expect_msg(f, 4, "stop");
    expect_msg(f, 0, "950 more problems not shown");
}

static void test_wrong_type_has_its_line(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "state_dir = \"/x\"\nlog_level = 5\n"), -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 2, "setting 'log_level' must be a string, got number");
}

static void test_all_errors_are_reported(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "state_dir = 42\n"
                                  "bogus = true\n"
                                  "default_mode = \"enforce\"\n"
                                  "bus_queue = 10\n"
                                  "events_max = 1.5\n"
                                  "log_level = \"loud\"\n"
                                  "socket = \"\"\n"
                                  "policy_dirs = \"/etc/x\"\n"
                                  "control_group = \"fine\"\n"
                                  "store_map_mb = \"64\"\n"
                                  "log_level = \"debug\"\n"
                                  "log_level = false\n"
                                  "plugins = { proc = { enabled = 'no' } }\n"),
                     -EINVAL);
    expect_msg(f, 1, "setting 'state_dir' must be a string, got number");
    expect_msg(f, 2, "unknown setting 'bogus'");
    expect_msg(f, 3,
               "setting 'default_mode' must be one of learn, monitor, protect, got 'enforce'");
    expect_msg(f, 4, "setting 'bus_queue' must be between 1024 and 16777216, got 10");
    expect_msg(f, 5, "setting 'events_max' must be an integer, got 1.5");
    expect_msg(f, 6,
               "setting 'log_level' must be one of error, warning, notice, info, debug, "
               "got 'loud'");
    expect_msg(f, 7, "setting 'socket' must not be empty");
    expect_msg(f, 8, "setting 'policy_dirs' must be a table, got string");
    expect_msg(f, 10, "setting 'store_map_mb' must be an integer, got string");
    /* A second assignment to a key is checked like the first. */
    expect_msg(f, 12, "setting 'log_level' must be a string, got boolean");
    /* Table contents are checked too, although the file has other errors. */
    expect_msg(f, 13, "plugins.proc.enabled must be a boolean, got string");
    assert_int_equal(f->diag.n, 11);
}

static void test_group_aging_hours(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "group_aging_hours = 0\n"), 0);
    assert_int_equal(f->cfg->group_aging_hours, 0); /* 0: groups are never removed */
    assert_int_equal(load_text(f, "group_aging_hours = 168\n"), 0);
    assert_int_equal(f->cfg->group_aging_hours, 168);
    assert_int_equal(load_text(f, "group_aging_hours = -1\n"
                                  "group_aging_hours = 1.5\n"
                                  "group_aging_hours = '24'\n"
                                  "group_aging_hours = 8761\n"),
                     -EINVAL);
    expect_msg(f, 1, "setting 'group_aging_hours' must be between 0 and 8760, got -1");
    expect_msg(f, 2, "setting 'group_aging_hours' must be an integer, got 1.5");
    expect_msg(f, 3, "setting 'group_aging_hours' must be an integer, got string");
    expect_msg(f, 4, "setting 'group_aging_hours' must be between 0 and 8760, got 8761");
    assert_int_equal(f->diag.n, 4);
}

static void test_table_contents_are_checked(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "policy_dirs = { \"/a\" }\n"
                                  "policy_dirs = { \"/a\", 7 }\n"),
                     -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 2, "setting 'policy_dirs' must be a list of strings; item 2 is a number");

    assert_int_equal(load_text(f, "policy_dirs = { '/a', nil, '/c' }\n"), -EINVAL);
    expect_msg(f, 1,
               "setting 'policy_dirs' must be a list of strings, without holes or other "
               "keys");
    assert_int_equal(load_text(f, "policy_dirs = { \"/a\", extra = \"/b\" }\n"), -EINVAL);
    expect_msg(f, 1,
               "setting 'policy_dirs' must be a list of strings, without holes or other "
               "keys");

    /* Plugin values are checked after the file ran, and reported at the
     * line of the assignment of 'plugins'. */
    assert_int_equal(load_text(f,
                               "log_level = 'info'\n"
                               "plugins = {\n"
                               "  proc = { enabled = \"yes\", deep = { list = { 1, 'two' } } },\n"
                               "  net = 5,\n"
                               "}\n"
                               "plugins.file = { hook = function() end }\n"),
                     -EINVAL);
    assert_int_equal(f->diag.n, 3);
    expect_msg(f, 2, "plugins.proc.enabled must be a boolean, got string");
    expect_msg(f, 2, "plugins.net must be a table, got number");
    expect_msg(f, 2,
               "plugins.file.hook is a function; plugin settings may only be strings, "
               "numbers, booleans and tables");

    assert_int_equal(load_text(f, "local t = {}\nt.self = t\nplugins = { proc = t }\n"), -EINVAL);
    expect_msg(f, 3,
               "plugins.proc.self.self.self.self.self.self.self.self.self.self.self.self"
               ".self.self.self.self is nested too deeply (more than 16 levels)");
}

static void test_policy_dirs(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "policy_dirs = { '/a', '/b/c', '/d' }\n"), 0);
    const char *const three[] = {"/a", "/b/c", "/d", NULL};
    assert_list(f->cfg->policy_dirs, three);

    assert_int_equal(load_text(f, "policy_dirs = {}\n"), 0);
    const char *const none[] = {NULL};
    assert_list(f->cfg->policy_dirs, none);

    /* nil puts a setting back to its default. */
    assert_int_equal(load_text(f, "policy_dirs = {}\npolicy_dirs = nil\nlog_level = 'error'\n"), 0);
    const char *const dirs[] = {VIGIL_DEFAULT_POLICY_DIR, "/etc/vigil/policies.d", NULL};
    assert_list(f->cfg->policy_dirs, dirs);
    assert_int_equal(f->cfg->log_level, VG_LOG_ERR);
}

static void test_store_skip(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "store_skip = { 'proc.exit', '*.stats' }\n"
                                  "table.insert(store_skip, 'bench.*')\n"),
                     0);
    const char *const three[] = {"proc.exit", "*.stats", "bench.*", NULL};
    assert_list(f->cfg->store_skip, three);
    assert_int_equal(load_text(f, "store_skip = {}\n"), 0);
    const char *const none[] = {NULL};
    assert_list(f->cfg->store_skip, none);
    /* Globs that pass over the always-stored types are fine. */
    assert_int_equal(load_text(f, "store_skip = { 'proc.*', '*.violation*', 'a*b*c' }\n"), 0);

    assert_int_equal(load_text(f, "log_level = 'info'\nstore_skip = '*.stats'\n"), -EINVAL);
    expect_msg(f, 2, "setting 'store_skip' must be a table, got string");
    assert_int_equal(load_text(f, "store_skip = { 'proc.exit', 7 }\n"), -EINVAL);
    expect_msg(f, 1, "setting 'store_skip' must be a list of strings; item 2 is a number");
    assert_int_equal(load_text(f, "store_skip = { t = 'proc.exit' }\n"), -EINVAL);
    expect_msg(f, 1, "setting 'store_skip' must be a list of strings, without holes or other keys");

    /* Every bad item is reported, each at the line of the assignment. */
    assert_int_equal(load_text(f, "\nstore_skip = {\n  '',\n  'proc.exit',\n  '*',\n"
                                  "  '*.*',\n  'proc.violation',\n  '*.incident',\n"
                                  "  'policy.error',\n  'proc. exit',\n"
                                  "  'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv',\n}\n"),
                     -EINVAL);
    expect_msg(f, 2, "setting 'store_skip' item 1 ('') must not be empty");
    expect_msg(f, 2,
               "setting 'store_skip' item 3 ('*') would skip every event type; name the types, "
               "or use a narrower glob such as \"*.stats\"");
    expect_msg(f, 2,
               "setting 'store_skip' item 4 ('*.*') would skip every event type; name the "
               "types, or use a narrower glob such as \"*.stats\"");
    const char *always = "can only match events that are always stored (violations, "
                         "incidents, policy.error, response.done)";
    char want[256];
    snprintf(want, sizeof(want), "setting 'store_skip' item 5 ('proc.violation') %s", always);
    expect_msg(f, 2, want);
    snprintf(want, sizeof(want), "setting 'store_skip' item 6 ('*.incident') %s", always);
    expect_msg(f, 2, want);
    snprintf(want, sizeof(want), "setting 'store_skip' item 7 ('policy.error') %s", always);
    expect_msg(f, 2, want);
    expect_msg(f, 2,
               "setting 'store_skip' item 8 ('proc. exit') contains a blank or a control "
               "character, which event types do not have");
    expect_msg(f, 2,
               "setting 'store_skip' item 9 ('abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv') "
               "is longer than an event type can be (47 bytes)");
    assert_int_equal(f->diag.n, 8);

    /* 47 bytes is the longest type, so still allowed. */
    assert_int_equal(
        load_text(f, "store_skip = { 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu' }\n"), 0);
    /* A bounded list. */
    assert_int_equal(load_text(f, "store_skip = {}\n"
                                  "for i = 1, 257 do store_skip[i] = 'x.' .. i end\n"),
                     -EINVAL);
    expect_msg(f, 1, "setting 'store_skip' has 257 items, at most 256");
    assert_int_equal(load_text(f, "store_skip = {}\n"
                                  "for i = 1, 256 do store_skip[i] = 'x.' .. i end\n"),
                     0);
}

static void test_syntax_error_has_its_line(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "log_level = \"info\"\n\nstate_dir = = \"/x\"\n"), -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 3, "unexpected symbol near '='");
}

static void test_runtime_error_has_its_line(void **state)
{
    struct fx *f = *state;
    assert_int_equal(
        load_text(f, "log_level = \"debug\"\nlocal x = nil\nstate_dir = x .. \"/s\"\n"), -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_part(f, 3, "attempt to concatenate a nil value (local 'x')");

    /* Problems found before the error are kept. */
    assert_int_equal(load_text(f, "nope = 1\nerror(\"custom problem\")\nlater = 2\n"), -EINVAL);
    assert_int_equal(f->diag.n, 2);
    expect_msg(f, 1, "unknown setting 'nope'");
    expect_msg(f, 2, "custom problem");

    assert_int_equal(load_text(f, "error({})\n"), -EINVAL);
    expect_msg(f, 0, "error object is a table value");

    /* The line of a C function's caller: table.insert() assigns _ENV[1]. */
    assert_int_equal(load_text(f, "\ntable.insert(_ENV, \"x\")\n"), -EINVAL);
    expect_msg(f, 2, "setting names must be strings, got number");
}

/* Lua abbreviates chunk names past 60 characters; messages must still name
 * the whole path. */
static void test_long_path_is_named_in_full(void **state)
{
    struct fx *f = *state;
    snprintf(f->subdir, sizeof(f->subdir), "%s/%s", f->dir,
             "a-directory-name-long-enough-that-lua-would-shorten-the-file-name");
    assert_int_equal(mkdir(f->subdir, 0700), 0);
    const char *text = "log_level = 'info'\nbogus = 1\nlocal y = nil + 1\n";
    write_bytes(f, f->subdir, "vigil.lua", text, strlen(text));
    assert_true(strlen(f->path) > 60);
    assert_int_equal(load_path(f, f->path), -EINVAL);
    assert_int_equal(f->diag.n, 2);
    expect_msg(f, 2, "unknown setting 'bogus'");
    expect_part(f, 3, "attempt to perform arithmetic on a nil value");

    text = "x = = 1\n";
    write_bytes(f, f->subdir, "syntax.lua", text, strlen(text));
    assert_int_equal(load_path(f, f->path), -EINVAL);
    expect_msg(f, 1, "unexpected symbol near '='");
}

static void test_sandbox_escapes_fail(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *code; /* %s: the test directory */
        int line;
        const char *part;
    } cases[] = {
        {"io.open('%s/escaped', 'w'):write('x')", 1, "global 'io'"},
        {"os.execute('touch %s/escaped')", 1, "global 'os'"},
        {"local dir = '%s'\nrequire('io')", 2, "global 'require'"},
        {"load('x = 1')() -- %s", 1, "global 'load'"},
        {"loadfile('/etc/passwd') -- %s", 1, "global 'loadfile'"},
        {"dofile('/etc/passwd') -- %s", 1, "global 'dofile'"},
        {"collectgarbage('count') -- %s", 1, "global 'collectgarbage'"},
        {"debug.getinfo(1) -- %s", 1, "global 'debug'"},
        {"_G.io.open('%s/escaped', 'w')", 1, "global '_G'"},
        {"string.dump(function() end) -- %s", 1, "field 'dump'"},
        {"local d = ('%s').dump\nd(function() end)", 2, "local 'd'"},
        {"setmetatable(_ENV, nil) -- %s", 1, "cannot change a protected metatable"},
        {"getmetatable(_ENV).__newindex = nil -- %s", 1, "attempt to index a boolean value"},
        {"setmetatable({}, { __gc = function() end }) -- %s", 1,
         "__gc metamethods are not allowed in the configuration"},
        {"rawset(_ENV, 'log_level', 5) -- %s", 0,
         "setting 'log_level' was stored with rawset() and is not checked"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char code[512];
        snprintf(code, sizeof(code), cases[i].code, f->dir);
        assert_int_equal(load_text(f, code), -EINVAL);
        expect_part(f, cases[i].line, cases[i].part);
    }
    char escaped[300];
    snprintf(escaped, sizeof(escaped), "%s/escaped", f->dir);
    assert_int_equal(access(escaped, F_OK), -1);
}

struct chunk {
    char bytes[4096];
    size_t len;
};

static int collect_chunk(lua_State *L, const void *p, size_t sz, void *ud)
{
    struct chunk *c = ud;
    (void)L;
    if (sz > sizeof(c->bytes) - c->len)
        return 1;
    memcpy(c->bytes + c->len, p, sz);
    c->len += sz;
    return 0;
}

/* A precompiled chunk could break the VM's invariants, so only text loads.
 * The chunk is made by lua_dump (what luac and string.dump use) in a normal
 * Lua state. */
static void test_bytecode_is_refused(void **state)
{
    struct fx *f = *state;
    const char *src = "log_level = 'debug'\n";
    assert_int_equal(load_text(f, src), 0); /* as text the same chunk is fine */
    assert_int_equal(f->cfg->log_level, VG_LOG_DEBUG);

    lua_State *L = luaL_newstate();
    assert_non_null(L);
    assert_int_equal(luaL_loadstring(L, src), LUA_OK);
    static struct chunk c;
    int dumped = lua_dump(L, collect_chunk, &c, 0);
    lua_close(L);
    assert_int_equal(dumped, 0);
    assert_memory_equal(c.bytes, LUA_SIGNATURE, 4);
    write_bytes(f, f->dir, "compiled.luac", c.bytes, c.len);

    assert_int_equal(load_path(f, f->path), -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_part(f, 0, "attempt to load a binary chunk (mode is 't')");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_endless_loop_is_cut_off(void **state)
{
    struct fx *f = *state;
    double t0 = now_s();
    assert_int_equal(load_text(f, "log_level = 'debug'\nwhile true do end\n"), -EINVAL);
    double dt = now_s() - t0;
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 2, "the configuration ran for more than 10000000 instructions (endless loop?)");
    print_message("endless loop stopped after %.3f s\n", dt);
    assert_true(dt < 30.0);

    /* Catching the error with pcall does not buy more time. */
    assert_int_equal(load_text(f, "while true do\n"
                                  "  pcall(function() while true do end end)\n"
                                  "end\n"),
                     -EINVAL);
    expect_msg(f, 2, "the configuration ran for more than 10000000 instructions (endless loop?)");
    assert_int_equal(load_text(f, "for i = 1, 3 do\n"
                                  "  xpcall(function() while true do end end,\n"
                                  "         function() while true do end end)\n"
                                  "end\nlog_level = 'debug'\n"),
                     -EINVAL);
    expect_msg(f, 2, "the configuration ran for more than 10000000 instructions (endless loop?)");
    /* A message handler that loops after an ordinary error. */
    assert_int_equal(load_text(f, "local function f() error('e') end\n"
                                  "local ok = xpcall(f, function(m)\n"
                                  "  while true do end end)\n"
                                  "log_level = 'debug'\n"),
                     -EINVAL);
    expect_msg(f, 3, "the configuration ran for more than 10000000 instructions (endless loop?)");
    assert_true(now_s() - t0 < 90.0);
}

/* The bombs are bounded (16 to 32 MiB), so that without the cap the test
 * fails instead of exhausting the machine. */
/* Library functions that loop in C, where the instruction hook cannot
 * interrupt them, are charged to the budget before they start. */
static void test_c_loops_are_charged(void **state)
{
    struct fx *f = *state;
    double t0 = now_s();
    assert_int_equal(load_text(f, "local s = string.rep('', 1e15)\n"), -EINVAL);
    expect_msg(f, 1,
               "string.rep on 1000000000000000 copies may take up to 1e+15 steps, more than the "
               "10000000 instructions left");
    assert_int_equal(load_text(f, "table.move({}, 1, 1e15, 1)\n"), -EINVAL);
    expect_part(f, 1, "table.move on 1000000000000000 elements may take up to 1e+15 steps");
    /* Backtracking: minutes of C time in plain Lua. */
    assert_int_equal(load_text(f, "local s = ('a'):rep(2000)\ns:find('.-.-.-b')\n"), -EINVAL);
    expect_part(f, 2, "string.find on 2000 characters may take up to 1.6e+13 steps");
    assert_int_equal(
        load_text(f, "local t = setmetatable({}, { __len = function() return 1e15 end })\n"
                     "table.insert(t, 1, 'x')\n"),
        -EINVAL);
    expect_msg(f, 2, "table.insert on a table with __len is not allowed in the configuration");
    assert_int_equal(load_text(f, "local t = {}\nfor i = 1, 200000 do t[i] = i end\n"
                                  "for i = 1, 100 do table.insert(t, 1, i) end\n"),
                     -EINVAL);
    expect_part(f, 3, "table.insert on 2000");
    assert_int_equal(load_text(f, "while true do pcall(string.rep, '', 1e15) end\n"), -EINVAL);
    expect_msg(f, 1, "the configuration ran for more than 10000000 instructions (endless loop?)");
    print_message("six refusals took %.3f s\n", now_s() - t0);
    assert_true(now_s() - t0 < 30.0);

    /* The refused call never started, so the file may catch it and go on;
     * work of a sensible size is allowed. */
    assert_int_equal(load_text(f, "assert(not pcall(string.rep, '', 1e15))\n"
                                  "local s = ('x'):rep(2000) .. ' y'\n"
                                  "local t = s:gsub('%s+', '')\n"
                                  "assert(#t == 2001 and s:find('y', 1, true) == 2002)\n"
                                  "log_level = 'debug'\n"),
                     0);
    assert_int_equal(f->cfg->log_level, VG_LOG_DEBUG);
}

static void test_memory_bomb_is_cut_off(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load_text(f, "local s = 'x'\nfor i = 1, 25 do s = s .. s end\n"), -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 0, "the configuration needs more than 8 MiB of memory");

    assert_int_equal(load_text(f, "local s = string.rep('x', 9 * 1024 * 1024)\n"), -EINVAL);
    expect_msg(f, 0, "the configuration needs more than 8 MiB of memory");

    assert_int_equal(load_text(f, "local t = {}\nfor i = 1, 2e6 do t[i] = i end\n"), -EINVAL);
    expect_msg(f, 0, "the configuration needs more than 8 MiB of memory");

    /* A pcall in the file does not hide it. */
    assert_int_equal(
        load_text(f, "pcall(string.rep, ('x'):rep(64), 1 << 18)\nlog_level = 'debug'\n"), -EINVAL);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 0, "the configuration needs more than 8 MiB of memory");

    /* Below the cap, big is fine. */
    assert_int_equal(load_text(f, "local s = string.rep('x', 1 << 20)\n"
                                  "plugins = { big = { blob = s } }\n"),
                     0);
    const char *blob = NULL;
    assert_int_equal(vg_config_plugin_string(f->cfg, "big", "blob", &blob), 0);
    assert_int_equal(strlen(blob), 1 << 20);
}

static void test_plugin_getters(void **state)
{
    struct fx *f = *state;
    assert_int_equal(
        load_text(f, "plugins = {\n"
                     "  proc = { enabled = false, fail_mode = 'allow', timeout_ms = 250,\n"
                     "           ratio = 0.5, whole = 3.0, numeric = '12' },\n"
                     "  net = { verbose = true, ifaces = { 'eth0' } },\n"
                     "}\n"),
        0);
    vg_config *c = f->cfg;
    const char *s = NULL;
    int64_t i = 0;
    int b = -1;

    assert_int_equal(vg_config_plugin_string(c, "proc", "fail_mode", &s), 0);
    assert_int_equal(vg_config_plugin_int(c, "proc", "timeout_ms", &i), 0);
    assert_int_equal(i, 250);
    assert_int_equal(vg_config_plugin_int(c, "proc", "whole", &i), 0);
    assert_int_equal(i, 3);
    assert_int_equal(vg_config_plugin_bool(c, "net", "verbose", &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(vg_config_plugin_bool(c, "proc", "enabled", &b), 0);
    assert_int_equal(b, 0);
    /* The string outlives other lookups: it belongs to cfg. */
    assert_string_equal(s, "allow");

    s = "unchanged";
    i = 99;
    b = 99;
    assert_int_equal(vg_config_plugin_string(c, "proc", "timeout_ms", &s), -EINVAL);
    assert_int_equal(vg_config_plugin_string(c, "net", "ifaces", &s), -EINVAL);
    assert_int_equal(vg_config_plugin_int(c, "proc", "ratio", &i), -EINVAL);
    assert_int_equal(vg_config_plugin_int(c, "proc", "numeric", &i), -EINVAL);
    assert_int_equal(vg_config_plugin_bool(c, "proc", "fail_mode", &b), -EINVAL);
    assert_int_equal(vg_config_plugin_string(c, "proc", "missing", &s), -ENOENT);
    assert_int_equal(vg_config_plugin_int(c, "file", "timeout_ms", &i), -ENOENT);
    assert_int_equal(vg_config_plugin_bool(c, "file", "enabled", &b), -ENOENT);
    assert_int_equal(vg_config_plugin_string(c, "proc", NULL, &s), -EINVAL);
    assert_string_equal(s, "unchanged");
    assert_int_equal(i, 99);
    assert_int_equal(b, 99);

    assert_false(vg_config_plugin_enabled(c, "proc"));
    assert_true(vg_config_plugin_enabled(c, "net"));
    assert_true(vg_config_plugin_enabled(c, "file"));
}

/* A renamed plugin (bench, now cis) is configured by its old table while
 * the new one is not set, with a warning; once it is, the old is ignored. */
static void test_renamed_plugin_settings(void **state)
{
    struct fx *f = *state;
    log_capture w;
    log_capture_start(&w);
    int rc = load_text(f, "plugins = {\n"
                          "  bench = { root = '/srv/root', interval_s = 60 },\n"
                          "}\n");
    log_capture_stop();
    assert_int_equal(rc, 0);
    const char *s = NULL;
    int64_t i = 0;
    assert_int_equal(vg_config_plugin_string(f->cfg, "cis", "root", &s), 0);
    assert_string_equal(s, "/srv/root");
    assert_int_equal(vg_config_plugin_int(f->cfg, "cis", "interval_s", &i), 0);
    assert_int_equal(i, 60);
    assert_int_equal(w.n, 1);
    char want[sizeof(f->path) + 128];
    snprintf(want, sizeof(want),
             "%s:1: plugins.bench is the old name of plugins.cis; rename it (the old name will go)",
             f->path);
    assert_string_equal(w.msgs[0], want);

    log_capture_start(&w);
    rc = load_text(f, "plugins = { bench = { root = '/old' }, cis = { root = '/new' } }\n");
    log_capture_stop();
    assert_int_equal(rc, 0);
    assert_int_equal(vg_config_plugin_string(f->cfg, "cis", "root", &s), 0);
    assert_string_equal(s, "/new");
    assert_int_equal(w.n, 1);
    assert_int_equal(
        log_captured(&w, "plugins.bench is ignored: plugins.cis (its new name) is set"), 1);

    /* A plain new-style config warns about nothing. */
    log_capture_start(&w);
    rc = load_text(f, "plugins = { cis = { enabled = false } }\n");
    log_capture_stop();
    assert_int_equal(rc, 0);
    assert_int_equal(w.n, 0);
    assert_false(vg_config_plugin_enabled(f->cfg, "cis"));
}

static void test_missing_file(void **state)
{
    struct fx *f = *state;
    snprintf(f->path, sizeof(f->path), "%s/does-not-exist.lua", f->dir);
    assert_int_equal(load_path(f, f->path), -ENOENT);
    assert_int_equal(f->diag.n, 1);
    expect_msg(f, 0, "cannot open: No such file or directory");
}

/* The size limit of docs/config.md: 8 MiB of comment loads, a byte more
 * is refused with the file's name. */
static void test_file_size_limit(void **state)
{
    struct fx *f = *state;
    size_t max = (size_t)8 << 20;
    char *text = malloc(max + 1);
    assert_non_null(text);
    memset(text, '-', max + 1);
    text[max - 1] = '\n';
    write_bytes(f, f->dir, "vigil.lua", text, max);
    assert_int_equal(load_path(f, f->path), 0);
    text[max - 1] = '-';
    text[max] = '\n';
    write_bytes(f, f->dir, "vigil.lua", text, max + 1);
    assert_int_equal(load_path(f, f->path), -EINVAL);
    expect_msg(f, 0, "file is larger than 8 MiB");
    free(text);
}

int main(void)
{
    /* The config code logs nothing on these paths; keep the output clean
     * if that ever changes. */
    vg_log_set_level(VG_LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_shipped_file_is_the_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_safe_libraries_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_has_its_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_has_its_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_problem_list_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_errors_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_contents_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_aging_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_has_its_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_error_has_its_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_path_is_named_in_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_escapes_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytecode_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_loop_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c_loops_are_charged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bomb_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_getters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renamed_plugin_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
