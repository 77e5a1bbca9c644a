/*
 * Groups: service group names from Kubernetes owners and container names,
 * custom groups declared in a real config file (globs, labels, namespace,
 * Lua predicates under a budget), the effective-mode rule, and modes kept
 * in a real LMDB store across a reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "groups.h"
#include "store.h"
#include "wl_fixture.h"

static int dir_setup(void **state)
{
    char tmpl[] = "/tmp/vg-groups-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    return 0;
}

static int dir_teardown(void **state)
{
    fx_rmtree(*state);
    free(*state);
    return 0;
}

static vg_workload *make(const char *id, int rt, const char *name, const char *pod, const char *ns)
{
    vg_workload *w = vg_workload_new(id);
    w->runtime = rt;
    vg_workload_set(&w->name, name);
    vg_workload_set(&w->pod, pod);
    vg_workload_set(&w->k8s_namespace, ns);
    return w;
}

static void test_service_names(void **state)
{
    static const struct {
        int rt;
        const char *name, *pod, *ns, *want;
    } cases[] = {
        {VG_RT_CONTAINERD, "api", "api-7d9f8b6c5d-x2k4q", "prod", "api.prod"}, /* deployment */
        {VG_RT_CONTAINERD, "web", "web-proxy-5c8f7b9d4-bz2lq", "prod", "web-proxy.prod"},
        {VG_RT_CRIO, "fluentd", "fluentd-x2k4q", "logging", "fluentd.logging"}, /* daemonset */
        {VG_RT_CRIO, "pg", "db-0", "data", "db.data"},                          /* statefulset */
        {VG_RT_CRIO, "pg", "db-12", "data", "db.data"},
        {VG_RT_CONTAINERD, "b", "backup-28391234-hjk7m", "ops", "backup.ops"}, /* cronjob */
        {VG_RT_CONTAINERD, "p", "web-proxy", "prod", "web-proxy.prod"},        /* bare pod */
        {VG_RT_CONTAINERD, "p", "nginx", NULL, "nginx"},
        {VG_RT_DOCKER, "shop-web-1", NULL, NULL, "shop-web"},  /* compose v2 */
        {VG_RT_DOCKER, "shop_web_12", NULL, NULL, "shop_web"}, /* compose v1 */
        {VG_RT_DOCKER, "/redis", NULL, NULL, "redis"},
        {VG_RT_PODMAN, "cache", NULL, NULL, "cache"},
        {VG_RT_RUNC, "job-2024", NULL, NULL, "job"},
        {VG_RT_RUNC, "42", NULL, NULL, "42"},           /* all digits stay */
        {VG_RT_RUNC, NULL, NULL, NULL, "0123456789ab"}, /* short id */
        {VG_RT_HOST, NULL, NULL, NULL, "nodes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_workload *w =
            make("0123456789abcdef", cases[i].rt, cases[i].name, cases[i].pod, cases[i].ns);
        char buf[VG_GROUP_MAX];
        vg_group_service_name(w, buf, sizeof(buf));
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, buf, cases[i].want);
        vg_workload_unref(w);
    }
}

static vg_config *load(const char *dir, const char *text, vg_diag *diag)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/vigil.lua", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    vg_config *cfg = NULL;
    int rc = vg_config_load(path, &cfg, diag);
    return rc == 0 ? cfg : NULL;
}

static vg_store *open_store(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/state", dir);
    mkdir(path, 0700);
    vg_store *st = NULL;
    assert_int_equal(vg_store_open(path, NULL, &st), 0);
    return st;
}

static const char custom_cfg[] =
    "groups = {\n"
    "  { name = 'web-tier', image = 'nginx*', label = { app = 'shop' } },\n"
    "  { name = 'prod-all', namespace = 'prod' },\n"
    "  { name = 'by-fn', match = function(w) return w.runtime == 'podman' and\n"
    "        w.labels.tier == 'cache' end },\n"
    "  { name = 'spins', match = function(w) while true do end end },\n"
    "  { name = 'throws', match = function(w) error('boom') end },\n"
    "}\n";

static bool in_group(const vg_workload *w, const char *g)
{
    for (size_t i = 0; i < w->ngroups; i++)
        if (strcmp(w->groups[i], g) == 0)
            return true;
    return false;
}

static void test_custom_groups(void **state)
{
    vg_diag diag = {0};
    vg_config *cfg = load(*state, custom_cfg, &diag);
    vg_diag_print(&diag, stderr);
    assert_non_null(cfg);
    vg_store *st = open_store(*state);
    vg_groups *g;
    assert_int_equal(vg_groups_new(st, VG_MODE_LEARN, &g), 0);
    assert_int_equal(vg_groups_configure(g, cfg, &diag), 0);

    vg_workload *web = make("a1", VG_RT_DOCKER, "shop-web-1", NULL, NULL);
    vg_workload_set(&web->image, "nginx:1.25");
    vg_workload_add_kv(web, "app", "shop");
    vg_workload *api = make("a2", VG_RT_CONTAINERD, "api", "api-x2k4q", "prod");
    vg_workload_set(&api->image, "nginx:1.25"); /* no app=shop label */
    vg_workload *cache = make("a3", VG_RT_PODMAN, "cache_1", NULL, NULL);
    vg_workload_add_kv(cache, "tier", "cache");
    assert_int_equal(vg_groups_classify(g, web), 0);
    assert_int_equal(vg_groups_classify(g, api), 0);
    assert_int_equal(vg_groups_classify(g, cache), 0);

    assert_string_equal(web->group, "shop-web");
    assert_int_equal(web->ngroups, 1);
    assert_true(in_group(web, "web-tier"));
    assert_int_equal(api->ngroups, 1);
    assert_true(in_group(api, "prod-all"));
    /* the looping and failing predicates count as no match */
    assert_int_equal(cache->ngroups, 1);
    assert_true(in_group(cache, "by-fn"));

    /* declared groups exist with a mode before any member */
    vg_group_info gi;
    assert_int_equal(vg_groups_get(g, "spins", &gi), 0);
    assert_int_equal(gi.kind, VG_GROUP_CUSTOM);
    assert_int_equal(vg_groups_get(g, "web-tier", &gi), 0);
    assert_string_equal(gi.image, "nginx*");
    assert_int_equal(gi.nlabels, 1);

    /* The most protective mode of a workload's groups applies. */
    assert_int_equal(vg_groups_set_mode(g, "prod-all", VG_MODE_MONITOR, NULL), 0);
    assert_int_equal(vg_groups_set_mode(g, "api.prod", VG_MODE_PROTECT, NULL), 0);
    assert_int_equal(vg_groups_effective_mode(g, api), VG_MODE_PROTECT);
    assert_int_equal(vg_groups_set_mode(g, "api.prod", VG_MODE_LEARN, NULL), 0);
    assert_int_equal(vg_groups_effective_mode(g, api), VG_MODE_MONITOR);
    assert_int_equal(vg_groups_effective_mode(g, web), VG_MODE_LEARN);

    vg_workload_unref(web);
    vg_workload_unref(api);
    vg_workload_unref(cache);
    vg_groups_free(g);
    vg_store_close(st);
    vg_config_free(cfg);
    vg_diag_free(&diag);
}

static void test_bad_definitions(void **state)
{
    vg_diag diag = {0};
    vg_config *cfg = load(*state,
                          "groups = {\n"
                          "  { image = 'x*' },\n"
                          "  { name = 'empty' },\n"
                          "  { name = 'f', match = 3 },\n"
                          "  { name = 'nodes', image = 'y' },\n"
                          "  { name = 'typo', imgae = 'z' },\n"
                          "  'nope',\n"
                          "}\n",
                          &diag);
    assert_non_null(cfg); /* the file itself is fine; the groups are checked by their user */
    assert_int_equal(vg_groups_check_config(cfg, &diag), -EINVAL);
    static const char *const want[] = {
        "groups[1]: 'name' is required",         "groups[2]: no criterion",
        "groups[3]: 'match' must be a function", "groups[4]: 'name' must not be 'nodes'",
        "groups[5]: unknown field 'imgae'",      "groups[6]: must be a table"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        bool found = false;
        for (size_t j = 0; j < diag.n; j++)
            found |= strstr(diag.msgs[j], want[i]) != NULL;
        if (!found)
            fail_msg("no problem reported like '%s'", want[i]);
    }
    /* A running daemon keeps its old definitions when new ones are bad. */
    vg_store *st = open_store(*state);
    vg_groups *g;
    assert_int_equal(vg_groups_new(st, VG_MODE_LEARN, &g), 0);
    assert_int_equal(vg_groups_configure(g, cfg, &diag), -EINVAL);
    vg_groups_free(g);
    vg_store_close(st);
    vg_config_free(cfg);
    vg_diag_free(&diag);
}

static void test_modes_persist(void **state)
{
    vg_store *st = open_store(*state);
    vg_groups *g;
    assert_int_equal(vg_groups_new(st, VG_MODE_LEARN, &g), 0);
    vg_workload *w = make("b1", VG_RT_DOCKER, "shop-web-1", NULL, NULL);
    assert_int_equal(vg_groups_classify(g, w), 0);
    assert_int_equal(vg_groups_mode(g, "shop-web"), VG_MODE_LEARN);
    int old = -1;
    assert_int_equal(vg_groups_set_mode(g, "shop-web", VG_MODE_PROTECT, &old), 0);
    assert_int_equal(old, VG_MODE_LEARN);
    assert_int_equal(vg_groups_set_mode(g, "never-seen", VG_MODE_PROTECT, NULL), -ENOENT);
    assert_int_equal(vg_groups_set_mode(g, "shop-web", 7, NULL), -EINVAL);
    assert_int_equal(vg_store_commit(st, true), 0);
    vg_groups_free(g);
    vg_store_close(st);

    /* Reopened with another default: the stored mode stays, new groups
     * get the new default. */
    st = open_store(*state);
    assert_int_equal(vg_groups_new(st, VG_MODE_MONITOR, &g), 0);
    assert_int_equal(vg_groups_mode(g, "shop-web"), VG_MODE_PROTECT);
    assert_int_equal(vg_groups_mode(g, "nodes"), VG_MODE_LEARN);
    vg_group_info gi;
    assert_int_equal(vg_groups_get(g, "shop-web", &gi), 0);
    assert_int_equal(gi.kind, VG_GROUP_SERVICE);
    vg_workload *w2 = make("b2", VG_RT_DOCKER, "other", NULL, NULL);
    assert_int_equal(vg_groups_classify(g, w2), 0);
    assert_int_equal(vg_groups_mode(g, "other"), VG_MODE_MONITOR);
    assert_int_equal(atomic_load(&w2->mode), VG_MODE_MONITOR);
    vg_workload_unref(w);
    vg_workload_unref(w2);
    vg_groups_free(g);
    vg_store_close(st);
}

static void test_mode_names(void **state)
{
    assert_int_equal(vg_mode_parse("learn"), VG_MODE_LEARN);
    assert_int_equal(vg_mode_parse("monitor"), VG_MODE_MONITOR);
    assert_int_equal(vg_mode_parse("protect"), VG_MODE_PROTECT);
    assert_int_equal(vg_mode_parse("Protect"), -EINVAL);
    assert_string_equal(vg_mode_name(VG_MODE_MONITOR), "monitor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_names),
        cmocka_unit_test_setup_teardown(test_custom_groups, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_bad_definitions, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_modes_persist, dir_setup, dir_teardown),
        cmocka_unit_test(test_mode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
