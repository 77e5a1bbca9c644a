/*
 * The runc states discovery keeps between scans (core/runtime_cache.c), on
 * real files laid out as runc does: a state unchanged is not read again
 * (the same record comes back), one rewritten (a new file renamed over
 * it, as runc writes) is, a bundle's config.json changed is, and a state
 * no scan asked for is dropped at the sweep.
 */
/* A test of core/workloads/ from the inside: its private runtime.h. */
#define VG_CORE_MODULE_WORKLOADS
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime.h"
#include "runtime_cache.h"

static char dir[] = "/tmp/vg-oci-cache-XXXXXX";

/* Writes path through a temporary file renamed over it. */
static void write_file(const char *path, const char *text)
{
    char tmp[4096];
    assert_true(snprintf(tmp, sizeof(tmp), "%s.tmp", path) < (int)sizeof(tmp));
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
}

static void write_state(const char *path, int pid)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"init_process_pid\": %d, \"init_process_start\": 5, "
             "\"created\": \"2024-05-01T12:00:00Z\", "
             "\"config\": {\"labels\": [\"bundle=%s/bundle\"]}}",
             pid, dir);
    write_file(path, text);
}

static void test_read_once_until_changed(void **state)
{
    char path[4096], cfg[4096];
    snprintf(path, sizeof(path), "%s/state.json", dir);
    snprintf(cfg, sizeof(cfg), "%s/bundle/config.json", dir);
    write_state(path, 41);
    write_file(cfg, "{\"annotations\": {\"nerdctl/name\": \"web\"}}");
    vg__oci_cache *c = vg__oci_cache_new();
    assert_non_null(c);
    vg__oci_state *owned;

    vg__oci_cache_begin(c);
    const vg__oci_state *a = vg__oci_state_read(c, "", path, &owned);
    assert_non_null(a);
    assert_null(owned);
    assert_int_equal(a->pid, 41);
    assert_int_equal(a->start, 5);
    assert_true(a->created_ns > 0);
    assert_string_equal(vg__json_str(a->annotations, "nerdctl/name"), "web");
    vg__oci_cache_sweep(c);

    /* Unchanged: the record kept, its annotations not read again. */
    vg__oci_cache_begin(c);
    const json_t *annotations = a->annotations;
    const vg__oci_state *b = vg__oci_state_read(c, "", path, &owned);
    assert_ptr_equal(b, a);
    assert_ptr_equal(b->annotations, annotations);
    vg__oci_cache_sweep(c);

    /* Rewritten: read again. */
    write_state(path, 42);
    write_file(cfg, "{\"annotations\": {\"nerdctl/name\": \"db\"}}");
    vg__oci_cache_begin(c);
    b = vg__oci_state_read(c, "", path, &owned);
    assert_non_null(b);
    assert_int_equal(b->pid, 42);
    assert_string_equal(vg__json_str(b->annotations, "nerdctl/name"), "db");
    vg__oci_cache_sweep(c);

    /* Not asked for in a scan: dropped; a broken file: nothing. */
    vg__oci_cache_begin(c);
    vg__oci_cache_sweep(c);
    assert_int_equal(c->n, 0);
    write_file(path, "{\"init_process_pid\": ");
    vg__oci_cache_begin(c);
    assert_null(vg__oci_state_read(c, "", path, &owned));
    vg__oci_cache_sweep(c);
    assert_int_equal(c->n, 0);
    vg__oci_cache_free(c);

    /* Without a cache the record is the caller's. */
    write_state(path, 43);
    b = vg__oci_state_read(NULL, "", path, &owned);
    assert_non_null(b);
    assert_ptr_equal(b, owned);
    assert_int_equal(b->pid, 43);
    vg__oci_state_free(owned);
}

static int setup(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    char b[4096];
    snprintf(b, sizeof(b), "%s/bundle", dir);
    return mkdir(b, 0700);
}

static int teardown(void **state)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_once_until_changed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
