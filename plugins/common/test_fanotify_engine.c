/* The fanotify engine with the real kernel: a tmpfs mounted for the test,
 * real binaries executed in child processes, and the answers they get. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
static _Atomic int decided, after_calls;
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
        max_answer_ns = ns; /* one process at a time in that test */
}

/* ---- several threads --------------------------------------------------- */

/* The per-thread context: decide() leaves the verdict for after(), which
 * checks that it got its own thread's. */
typedef struct ctx {
    pthread_t owner;
    bool decided; /* decide() ran for the event after() is called for */
    int last_verdict;
    int mismatches;
} ctx;

static _Atomic int ctx_ends, ctx_mismatches, ctx_decides;

static int decide_ctx(void *arg, fan_request *req)
{
    ctx *c = req->ctx;
    if (!c->owner)
        c->owner = pthread_self();
    c->mismatches += !pthread_equal(c->owner, pthread_self());
    ctx_decides++;
    c->decided = true;
    return c->last_verdict = decide(arg, req);
}

static void after_ctx(void *arg, const fan_request *req, int verdict, int64_t ns)
{
    ctx *c = req->ctx;
    /* Our own opens are answered without decide(). */
    c->mismatches +=
        c->decided && (!pthread_equal(c->owner, pthread_self()) || c->last_verdict != verdict);
    c->decided = false;
}

static void ctx_end(void *arg, void *p)
{
    ctx_mismatches += ((ctx *)p)->mismatches;
    ctx_ends++;
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
    fan_engine_opts opts = {.fail_verdict = FAN_VERDICT_DENY, .resolve_path = true};
    int rc = fan_engine_new(&ops, &opts, &e);
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
    fan_engine_opts opts = {.fail_verdict = FAN_VERDICT_ALLOW, .resolve_path = true};
    int rc = fan_engine_new(&ops, &opts, &e);
    if (rc == -EPERM || rc == -ENOSYS)
        skip();
    assert_int_equal(fan_engine_mark(e, dir, FAN_OPEN_EXEC_PERM, false), 0);
    assert_int_equal(fan_engine_start(e), 0);
    assert_int_equal(run("broken"), 0); /* the fail verdict is allow here */
    fan_engine_free(e);
    /* Closing the group never leaves a process blocked. */
    assert_int_equal(run("true"), 0);
}

static void *open_nc(void *arg)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/nc", dir);
    return (void *)(intptr_t)open(path, O_RDONLY);
}

/* One thread per CPU, each with its context; many processes at once, all
 * answered. With report_tid, the daemon's own threads are never asked. */
static void test_threads(void **state)
{
    fan_ops ops = {
        .decide = decide_ctx, .after = after_ctx, .ctx_size = sizeof(ctx), .ctx_end = ctx_end};
    fan_engine *e;
    fan_engine_opts opts = {
        .fail_verdict = FAN_VERDICT_DENY, .resolve_path = true, .report_tid = true};
    int rc = fan_engine_new(&ops, &opts, &e);
    if (rc == -EPERM || rc == -ENOSYS)
        skip();
    assert_int_equal(rc, 0);
    assert_int_equal(fan_engine_mark(e, dir, FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM, false), 0);
    assert_int_equal(fan_engine_start(e), 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    fan_stats st;
    fan_engine_stats(e, &st);
    assert_int_equal(st.threads, cpus < FAN_THREADS_DEFAULT ? cpus : FAN_THREADS_DEFAULT);

    /* Our own opens are allowed without asking, even of a file decide()
     * would refuse. */
    int before = ctx_decides;
    pthread_t t;
    void *fd;
    assert_int_equal(pthread_create(&t, NULL, open_nc, NULL), 0); /* a thread: tid != pid */
    assert_int_equal(pthread_join(t, &fd), 0);
    assert_true((intptr_t)fd >= 0);
    close((int)(intptr_t)fd);
    assert_int_equal(ctx_decides, before);

    enum { KIDS = 8, RUNS = 25 };
    pid_t kids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            for (int i = 0; i < RUNS; i++)
                if (run("true") != 0 || run("nc") != EPERM)
                    _exit(1);
            _exit(0);
        }
    }
    for (int k = 0; k < KIDS; k++) {
        int status;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    fan_engine_stats(e, &st);
    assert_true(st.denied >= KIDS * RUNS);
    assert_int_equal(st.failed, 0);
    fan_engine_free(e);
    assert_int_equal(ctx_ends, st.threads);
    assert_int_equal(ctx_mismatches, 0);
}

/* Stopping while a process keeps the threads busy with opens: the engine
 * stops (a thread that never got back to poll() would hang here), and the
 * process is left running, not blocked. */
static void test_stop_under_load(void **state)
{
    fan_ops ops = {.decide = decide};
    fan_engine *e;
    fan_engine_opts opts = {.fail_verdict = FAN_VERDICT_ALLOW};
    int rc = fan_engine_new(&ops, &opts, &e);
    if (rc == -EPERM || rc == -ENOSYS)
        skip();
    assert_int_equal(rc, 0);
    assert_int_equal(fan_engine_mark(e, dir, FAN_OPEN_PERM, false), 0);
    assert_int_equal(fan_engine_start(e), 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/true", dir);
    enum { OPENERS = 8 }; /* enough that the queue is never empty */
    pid_t busy[OPENERS];
    for (int i = 0; i < OPENERS; i++) {
        busy[i] = fork();
        if (busy[i] == 0) {
            for (;;) {
                int fd = open(path, O_RDONLY);
                if (fd >= 0)
                    close(fd);
            }
        }
    }
    while (decided < 1000)
        usleep(1000);
    alarm(20); /* a hang is a failure, not a stuck suite */
    fan_engine_free(e);
    alarm(0);
    /* Unmarked with the group gone: the opener runs on. */
    int before = decided;
    usleep(50000);
    assert_int_equal(decided, before);
    for (int i = 0; i < OPENERS; i++) {
        assert_int_equal(waitpid(busy[i], NULL, WNOHANG), 0);
        kill(busy[i], SIGKILL);
        waitpid(busy[i], NULL, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deny_every_time_allow_the_rest),
        cmocka_unit_test(test_fail_open),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_stop_under_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
