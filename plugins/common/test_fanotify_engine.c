/* The fanotify engine with the real kernel: a tmpfs mounted for the test,
 * real binaries executed in child processes, and the answers they get. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fanotify_engine.h"

static char dir[64];
static int decided, after_calls;
static int64_t max_answer_ns;

static int decide(void *arg, fan_request *req)
{
    decided++;
    size_t n = strlen(req->path);
    if (n >= 3 && strcmp(req->path + n - 3, "/nc") == 0)
        return FAN_VERDICT_DENY;
    if (n >= 7 && strcmp(req->path + n - 7, "/broken") == 0)
        return -EIO;
    return FAN_VERDICT_ALLOW;
}

static void after(void *arg, const fan_request *req, int verdict, int64_t ns)
{
    after_calls++;
    if (ns > max_answer_ns)
        max_answer_ns = ns;
}

/* Runs `name` from the test directory as busybox's "true" applet (argv[0]);
 * returns the errno of a failed execve, or the exit status. */
static int run(const char *name)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        char *argv[] = {"true", NULL};
        close(pfd[0]);
        execv(path, argv);
        int err = errno;
        ssize_t w = write(pfd[1], &err, sizeof(err));
        (void)w;
        _exit(127);
    }
    close(pfd[1]);
    int err = 0;
    ssize_t r = read(pfd[0], &err, sizeof(err));
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (r == sizeof(err))
        return err;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void copy_busybox(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "cp \"$(command -v busybox)\" %s/%s", dir, name);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/vigil-fan-XXXXXX");
    assert_non_null(mkdtemp(dir));
    if (mount("tmpfs", dir, "tmpfs", 0, "size=16m") < 0) {
        fprintf(stderr, "skipped: cannot mount a tmpfs (%s); needs root\n", strerror(errno));
        rmdir(dir);
        return -1;
    }
    copy_busybox("true");
    copy_busybox("nc");
    copy_busybox("broken");
    return 0;
}

static int teardown(void **state)
{
    umount2(dir, MNT_DETACH);
    rmdir(dir);
    return 0;
}

static void test_deny_every_time_allow_the_rest(void **state)
{
    fan_ops ops = {.decide = decide, .after = after};
    fan_engine *e;
    int rc = fan_engine_new(&ops, FAN_VERDICT_DENY, &e);
    if (rc == -EPERM || rc == -ENOSYS)
        skip();
    assert_int_equal(rc, 0);
    assert_int_equal(fan_engine_mark(e, dir, FAN_OPEN_EXEC_PERM, false), 0);
    assert_int_equal(fan_engine_start(e), 0);

    assert_int_equal(run("true"), 0);
    /* A denied binary never runs, however often it is tried. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(run("nc"), EPERM);
    /* decide() failing gives the fail verdict (deny here). */
    assert_int_equal(run("broken"), EPERM);

    fan_stats st;
    fan_engine_stats(e, &st);
    assert_int_equal(st.denied, 6);
    assert_int_equal(st.failed, 1);
    assert_true(st.events >= 7);
    assert_true(after_calls >= 7);
    assert_true(max_answer_ns < 50 * 1000000); /* answered, not left hanging */

    /* Unmarked, nothing is asked any more. */
    assert_int_equal(fan_engine_unmark(e, dir, FAN_OPEN_EXEC_PERM, false), 0);
    int before = decided;
    assert_int_equal(run("nc"), 0); /* it runs (as busybox's "true": argv[0]) */
    assert_int_equal(decided, before);
    fan_engine_free(e);
}

static void test_fail_open(void **state)
{
    fan_ops ops = {.decide = decide};
    fan_engine *e;
    int rc = fan_engine_new(&ops, FAN_VERDICT_ALLOW, &e);
    if (rc == -EPERM || rc == -ENOSYS)
        skip();
    assert_int_equal(fan_engine_mark(e, dir, FAN_OPEN_EXEC_PERM, false), 0);
    assert_int_equal(fan_engine_start(e), 0);
    assert_int_equal(run("broken"), 0); /* the fail verdict is allow here */
    fan_engine_free(e);
    /* Closing the group never leaves a process blocked. */
    assert_int_equal(run("true"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deny_every_time_allow_the_rest),
        cmocka_unit_test(test_fail_open),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
