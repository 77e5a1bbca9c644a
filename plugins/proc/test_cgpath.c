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

/* The "0::" path of this process and the cgroup2 mount point. */
static int own_cgroup(char *path, size_t psize, char *root, size_t rsize)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[1024];
    int rc = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(path, psize, "%s", line + 3);
            rc = 0;
        }
    if (f)
        fclose(f);
    f = fopen("/proc/self/mountinfo", "re");
    int found = -1;
    while (f && found < 0 && fgets(line, sizeof(line), f)) {
        const char *sep = strstr(line, " - ");
        if (sep && strncmp(sep + 3, "cgroup2 ", 8) == 0 &&
            sscanf(line, "%*s %*s %*s %*s %511s", root) == 1)
            found = 0;
    }
    if (f)
        fclose(f);
    (void)rsize;
    return rc == 0 && found == 0 ? 0 : -1;
}

static void own_cgroup_found(bool walk)
{
    char want[512], root[512], full[1100], got[512];
    if (own_cgroup(want, sizeof(want), root, sizeof(root)) < 0)
        skip(); /* no cgroup2 here */
    snprintf(full, sizeof(full), "%s%s", root, want);
    struct stat st;
    assert_int_equal(stat(full, &st), 0);
    cgpath *c;
    assert_int_equal(cgpath_new("/proc/self/mountinfo", &c), 0);
    if (walk)
        cgpath_walk_only(c);
    assert_int_equal(cgpath_find(c, st.st_ino, got, sizeof(got)), 0);
    assert_string_equal(got, want);
    /* again, from what it remembered */
    memset(got, 0, sizeof(got));
    assert_int_equal(cgpath_find(c, st.st_ino, got, sizeof(got)), 0);
    assert_string_equal(got, want);
    /* too small a buffer says so */
    if (strlen(want) > 2)
        assert_int_equal(cgpath_find(c, st.st_ino, got, 2), -ENAMETOOLONG);
    /* an id no cgroup has (0 and a number far beyond any inode) */
    assert_int_equal(cgpath_find(c, 0, got, sizeof(got)), -ENOENT);
    assert_int_equal(cgpath_find(c, UINT64_MAX - 7, got, sizeof(got)), -ENOENT);
    cgpath_free(c);
}

/* By file handle (as the daemon, root with CAP_DAC_READ_SEARCH) */
static void test_own_cgroup(void **state)
{
    (void)state;
    own_cgroup_found(false);
}

/* and by the walk it falls back to. */
static void test_own_cgroup_walk(void **state)
{
    (void)state;
    own_cgroup_found(true);
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
