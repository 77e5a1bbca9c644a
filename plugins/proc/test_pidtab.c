/* The live-process table: insert, update, delete with backward shifts, and
 * the bound, checked against a plain array as the reference. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pidtab.h"

static void test_against_reference(void **state)
{
    enum { N = 20000 };
    static char present[N];
    pidtab *t = pidtab_new(N);
    srand(7);
    for (int round = 0; round < 200000; round++) {
        pid_t pid = 1 + rand() % (N - 1);
        if (rand() % 3) {
            pidtab_entry e = {.pid = pid, .uid = (uid_t)pid * 3};
            assert_int_equal(pidtab_put(t, &e), 0);
            present[pid] = 1;
        } else {
            pidtab_del(t, pid);
            present[pid] = 0;
        }
    }
    size_t count = 0;
    for (pid_t pid = 1; pid < N; pid++) {
        const pidtab_entry *e = pidtab_get(t, pid);
        assert_int_equal(e != NULL, present[pid]);
        if (e) {
            assert_int_equal(e->uid, (uid_t)pid * 3);
            count++;
        }
    }
    assert_int_equal(pidtab_count(t), count);
    pidtab_free(t);
}

static void test_bound(void **state)
{
    pidtab *t = pidtab_new(10); /* 64 slots, at most 32 entries */
    int rc = 0;
    pid_t pid;
    for (pid = 1; pid < 1000 && rc == 0; pid++)
        rc = pidtab_put(t, &(pidtab_entry){.pid = pid});
    assert_int_equal(rc, -ENOSPC);
    assert_int_equal(pidtab_count(t), 32);
    /* Updating a known pid still works when full. */
    assert_int_equal(pidtab_put(t, &(pidtab_entry){.pid = 5, .euid = 9}), 0);
    assert_int_equal(pidtab_get(t, 5)->euid, 9);
    pidtab_free(t);
}

/* A table that starts small and grows keeps every entry through each
 * doubling and stops at the same bound as one sized for it at once. */
static void test_grows_to_bound(void **state)
{
    pidtab *t = pidtab_new(5000); /* 16384 slots at most: 8192 entries */
    int rc = 0;
    pid_t pid;
    for (pid = 1; rc == 0; pid++)
        rc = pidtab_put(t, &(pidtab_entry){.pid = pid * 7, .uid = (uid_t)pid});
    assert_int_equal(rc, -ENOSPC);
    assert_int_equal(pidtab_count(t), 8192);
    for (pid = 1; pid <= 8192; pid++) {
        const pidtab_entry *e = pidtab_get(t, pid * 7);
        assert_non_null(e);
        assert_int_equal(e->uid, (uid_t)pid);
    }
    assert_null(pidtab_get(t, 8193 * 7));
    pidtab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_grows_to_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
