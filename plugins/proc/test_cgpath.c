/* cgpath on this machine's real cgroup2 tree: the id of the test's own
 * cgroup (its directory's inode) gives the path /proc/self/cgroup shows. */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgpath.h"

/* The "0::" path of this process. */
static int own_cgroup(char *path, size_t psize)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[1024];
    int rc = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            rc = snprintf(path, psize, "%s", line + 3) < (int)psize ? 0 : -1;
        }
    if (f)
        fclose(f);
    return rc;
}

/* Finds the test's own cgroup, and a cgroup two levels down that it makes
 * (and removes) below the cgroup2 root. */
static void found(bool walk)
{
    char want[512], full[1100], got[512];
    cgpath *c;
    if (own_cgroup(want, sizeof(want)) < 0 || cgpath_new("/proc/self/mountinfo", &c) < 0)
        skip(); /* no cgroup2 here */
    if (walk)
        cgpath_walk_only(c);
    snprintf(full, sizeof(full), "%s%s", cgpath_mount(c), want);
    struct stat st;
    assert_int_equal(stat(full, &st), 0);
    assert_int_equal(cgpath_find(c, st.st_ino, got, sizeof(got)), 0);
    assert_string_equal(got, want);

    char top[600], sub[700], rel[128];
    snprintf(rel, sizeof(rel), "/vgtest-cgpath-%d-%d/sub", (int)getpid(), walk);
    snprintf(top, sizeof(top), "%s/vgtest-cgpath-%d-%d", cgpath_mount(c), (int)getpid(), walk);
    snprintf(sub, sizeof(sub), "%s/sub", top);
    if (mkdir(top, 0755) == 0) {
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(stat(sub, &st), 0);
        int rc = cgpath_find(c, st.st_ino, got, sizeof(got));
        /* again, from what it remembered: the same, even once removed */
        rmdir(sub);
        rmdir(top);
        assert_int_equal(rc, 0);
        assert_string_equal(got, rel);
        memset(got, 0, sizeof(got));
        assert_int_equal(cgpath_find(c, st.st_ino, got, sizeof(got)), 0);
        assert_string_equal(got, rel);
        /* too small a buffer says so */
        assert_int_equal(cgpath_find(c, st.st_ino, got, 4), -ENAMETOOLONG);
    } else {
        print_message("cannot make a cgroup (%s): the own cgroup only\n", strerror(errno));
    }
    /* an id no cgroup has (0 and a number far beyond any inode) */
    assert_int_equal(cgpath_find(c, 0, got, sizeof(got)), -ENOENT);
    assert_int_equal(cgpath_find(c, UINT64_MAX - 7, got, sizeof(got)), -ENOENT);
    cgpath_free(c);
}

/* By file handle (as the daemon, root with CAP_DAC_READ_SEARCH) */
static void test_own_cgroup(void **state)
{
    (void)state;
    found(false);
}

/* and by the walk it falls back to. */
static void test_own_cgroup_walk(void **state)
{
    (void)state;
    found(true);
}

static void test_no_cgroup2(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/cgpath-mi-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    const char *mi = "25 1 0:23 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
                     "26 1 0:24 / /proc rw - proc proc rw\n";
    assert_int_equal(write(fd, mi, strlen(mi)), (ssize_t)strlen(mi));
    close(fd);
    cgpath *c = NULL;
    assert_int_equal(cgpath_new(tmpl, &c), -ENOENT);
    assert_null(c);
    assert_int_equal(cgpath_new("/nonexistent/mountinfo", &c), -ENOENT);
    unlink(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_cgroup),
        cmocka_unit_test(test_own_cgroup_walk),
        cmocka_unit_test(test_no_cgroup2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
