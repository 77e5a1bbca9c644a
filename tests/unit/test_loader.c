/* The plugin loader with real .so files (tests/plugins), a real bus, store
 * and config. */
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
#include "plugins.h"

typedef struct fixture {
    char dir[64];
    uv_loop_t loop;
    vg_bus *bus;
    vg_store *store;
    vg_config *cfg;
    vg_actions *actions;
    vg_plugin_env env;
    char last_type[64];
    char last_greeting[64];
    int events;
} fixture;

static void on_event(const vg_event *ev, void *arg)
{
    fixture *f = arg;
    f->events++;
    snprintf(f->last_type, sizeof(f->last_type), "%s", vg_event_type_name(ev->type));
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    f->last_greeting[0] = '\0';
    if (ev->body_len && msgpack_unpack_next(&u, (const char *)ev->body, ev->body_len, NULL) ==
                            MSGPACK_UNPACK_SUCCESS)
        vg_mp_get_cstr(&u.data, "greeting", f->last_greeting, sizeof(f->last_greeting));
    msgpack_unpacked_destroy(&u);
}

static fixture *setup(const char *config_text)
{
    fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/vigil-loader-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    uv_loop_init(&f->loop);
    assert_int_equal(vg_bus_new(&f->loop, 1024, &f->bus), 0);
    vg_bus_subscribe(f->bus, -1, on_event, f);
    assert_int_equal(vg_store_open(f->dir, NULL, &f->store), 0);
    if (config_text) {
        char path[128];
        snprintf(path, sizeof(path), "%s/vigil.lua", f->dir);
        FILE *fp = fopen(path, "w");
        fputs(config_text, fp);
        fclose(fp);
        vg_diag diag = {0};
        int rc = vg_config_load(path, &f->cfg, &diag);
        vg_diag_print(&diag, stderr);
        vg_diag_free(&diag);
        assert_int_equal(rc, 0);
        unlink(path);
    } else {
        assert_int_equal(vg_config_defaults(&f->cfg), 0);
    }
    vg_actions_new(&f->actions);
    f->env = (vg_plugin_env){
        .loop = &f->loop, .bus = f->bus, .store = f->store, .cfg = &f->cfg, .actions = f->actions};
    return f;
}

static void teardown(fixture *f)
{
    vg_bus_close(f->bus);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    vg_store_close(f->store);
    vg_config_free(f->cfg);
    vg_actions_free(f->actions);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
}

static const struct vg_host *find(const vg_plugins *ps, const char *name)
{
    for (size_t i = 0; i < vg_plugins_count(ps); i++) {
        const struct vg_host *h = vg_plugins_at(ps, i);
        if (strcmp(h->name, name) == 0 || strstr(h->file, name))
            return h;
    }
    return NULL;
}

static void test_load_refuse_fail_and_run(void **state)
{
    fixture *f = setup(NULL);
    vg_plugins *ps;
    assert_int_equal(vg_plugins_load(&f->env, TEST_PLUGIN_DIR, &ps), 0);
    assert_int_equal(vg_plugins_count(ps), 3);

    const struct vg_host *bad = find(ps, "plugin_badabi");
    assert_int_equal(bad->state, VG_PLUGIN_REFUSED);
    /* Both versions are named, so a user can tell which side to rebuild. */
    assert_non_null(strstr(bad->why, "plugin ABI 2.7"));
    char daemon_abi[32];
    snprintf(daemon_abi, sizeof(daemon_abi), "daemon ABI %d.%d", VG_ABI_MAJOR, VG_ABI_MINOR);
    assert_non_null(strstr(bad->why, daemon_abi));

    const struct vg_host *fail = find(ps, "initfail");
    assert_int_equal(fail->state, VG_PLUGIN_FAILED);
    assert_non_null(strstr(fail->why, "init failed"));

    const struct vg_host *ok = find(ps, "testok");
    assert_int_equal(ok->state, VG_PLUGIN_LOADED);
    vg_plugins_start(ps);
    assert_int_equal(ok->state, VG_PLUGIN_RUNNING);
    assert_int_equal(fail->state, VG_PLUGIN_FAILED); /* never started */
    vg_bus_drain(f->bus);
    assert_string_equal(f->last_type, "test.started");
    assert_string_equal(f->last_greeting, "hello");

    assert_int_equal(vg_actions_run(f->actions, "test_action", NULL, 0), 0);
    vg_bus_drain(f->bus);
    assert_string_equal(f->last_type, "test.action");
    assert_string_equal(vg_actions_owner(f->actions, "test_action"), "testok");
    assert_int_equal(vg_actions_run(f->actions, "quarantine", NULL, 0), -ENOENT);

    assert_int_equal(vg_plugins_reload(ps), 0);
    vg_bus_drain(f->bus);
    assert_string_equal(f->last_type, "test.reloaded");

    vg_plugins_stop(ps);
    /* A stopped plugin's actions are gone with it. */
    assert_int_equal(vg_actions_run(f->actions, "test_action", NULL, 0), -ENOENT);
    teardown(f);
}

static void test_config_reaches_plugin(void **state)
{
    fixture *f = setup("plugins = { testok = { greeting = 'bonjour', degraded = true },\n"
                       "            initfail = { enabled = false } }\n");
    vg_plugins *ps;
    assert_int_equal(vg_plugins_load(&f->env, TEST_PLUGIN_DIR, &ps), 0);
    const struct vg_host *off = find(ps, "initfail");
    assert_int_equal(off->state, VG_PLUGIN_STOPPED);
    assert_non_null(strstr(off->why, "disabled"));
    vg_plugins_start(ps);
    const struct vg_host *ok = find(ps, "testok");
    assert_int_equal(ok->state, VG_PLUGIN_DEGRADED);
    vg_bus_drain(f->bus);
    assert_string_equal(f->last_greeting, "bonjour");

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    vg_plugins_pack(ps, &pk);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(u.data.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(u.data.via.array.size, 3);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    vg_plugins_stop(ps);
    teardown(f);
}

static void test_plugin_store_is_namespaced(void **state)
{
    fixture *f = setup(NULL);
    struct vg_host h = {.env = &f->env, .name = "alpha"};
    assert_int_equal(vg__host_api.store_put(&h, "rules", "k", 1, "v1", 2), 0);
    void *val;
    size_t len;
    assert_int_equal(vg__host_api.store_get(&h, "rules", "k", 1, &val, &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(val, "v1", 2);
    free(val);
    /* Another plugin with the same table name sees nothing of alpha's. */
    struct vg_host other = {.env = &f->env, .name = "beta"};
    assert_int_equal(vg__host_api.store_get(&other, "rules", "k", 1, &val, &len), -ENOENT);
    assert_int_equal(vg_store_get(f->store, "plugin.alpha.rules", "k", 1, &val, &len), 0);
    free(val);
    assert_int_equal(vg__host_api.store_del(&h, "rules", "k", 1), 0);
    assert_int_equal(vg__host_api.store_get(&h, "rules", "k", 1, &val, &len), -ENOENT);
    teardown(f);
}

static void test_missing_dir_is_empty(void **state)
{
    fixture *f = setup(NULL);
    vg_plugins *ps;
    assert_int_equal(vg_plugins_load(&f->env, "/nonexistent/vigil/plugins", &ps), 0);
    assert_int_equal(vg_plugins_count(ps), 0);
    vg_plugins_stop(ps);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_refuse_fail_and_run),
        cmocka_unit_test(test_config_reaches_plugin),
        cmocka_unit_test(test_plugin_store_is_namespaced),
        cmocka_unit_test(test_missing_dir_is_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
