/*
 * Tests of the file plugin's helpers: the reader of a blocked thread's open
 * flags (against real processes blocked in opens of a FIFO, which wait for
 * the other end as an open held by fanotify waits for the daemon) and the
 * path helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fpath.h"
#include "fsyscall.h"

/* ---- parsing ---------------------------------------------------------- */

static void parse_lines(void **state)
{
    fs_call c;
    assert_int_equal(fs_parse_syscall("257 0xffffff9c 0x7ffc1000 0x441 0x1b6 0x0 0x0 0x7ffc0f00 "
                                      "0x7f0012345678\n",
                                      &c),
                     0);
    assert_int_equal(c.nr, 257);
    assert_int_equal(c.args[0], 0xffffff9cUL);
    assert_int_equal(c.args[2], 0x441);
    assert_int_equal(c.args[3], 0x1b6);
    assert_false(c.running);
    assert_int_equal(fs_parse_syscall("running\n", &c), 0);
    assert_int_equal(c.nr, -1);
    assert_true(c.running);
    assert_int_equal(fs_parse_syscall("-1 0x7ffc0f00 0x7f0012345678\n", &c), 0);
    assert_int_equal(c.nr, -1);
    assert_false(c.running);
    assert_int_equal(fs_parse_syscall("", &c), -EINVAL);
    assert_int_equal(fs_parse_syscall("257 0x1 0x2\n", &c), -EINVAL);
    assert_int_equal(fs_parse_syscall("257 1 2 3 4 5 6 7 8\n", &c), -EINVAL);
}

static void write_flags(void **state)
{
    assert_false(fs_flags_write(O_RDONLY));
    assert_false(fs_flags_write(O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    assert_true(fs_flags_write(O_WRONLY));
    assert_true(fs_flags_write(O_RDWR));
    assert_true(fs_flags_write(O_RDONLY | O_TRUNC));
    assert_true(fs_flags_write(O_RDONLY | O_CREAT));
    assert_true(fs_flags_write(O_RDONLY | O_APPEND));
    assert_true(fs_flags_write(O_WRONLY | O_CREAT | O_APPEND)); /* echo x >> file */
}

static void other_calls(void **state)
{
    fs_call c = {.nr = SYS_read};
    unsigned long flags;
    assert_int_equal(fs_call_flags(getpid(), &c, &flags), -ENOSYS);
    c = (fs_call){.nr = SYS_openat, .args = {0, 0, O_RDWR, 0}};
    assert_int_equal(fs_call_flags(getpid(), &c, &flags), 0);
    assert_int_equal(flags, O_RDWR);
}

/* ---- real blocked opens ---------------------------------------------- */

enum how { BY_OPENAT, BY_OPEN, BY_CREAT, BY_OPENAT2 };

/* A child that blocks opening fifo with flags, the way `how` says. */
static pid_t blocked_opener(const char *fifo, int flags, enum how how)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    switch (how) {
    case BY_OPENAT:
        syscall(SYS_openat, AT_FDCWD, fifo, flags, 0);
        break;
    case BY_OPEN:
#ifdef SYS_open
        syscall(SYS_open, fifo, flags, 0);
#endif
        break;
    case BY_CREAT:
#ifdef SYS_creat
        syscall(SYS_creat, fifo, 0600);
#endif
        break;
    case BY_OPENAT2: {
        struct open_how oh = {.flags = (uint64_t)flags};
        syscall(SYS_openat2, AT_FDCWD, fifo, &oh, sizeof(oh));
        break;
    }
    }
    _exit(0);
}

/* Waits until the child sleeps in the open. */
static bool sleeps_in_open(pid_t pid)
{
    for (int i = 0; i < 400; i++) {
        char path[64], st[256] = "";
        snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(st, sizeof(st), f))
                st[0] = '\0';
            fclose(f);
        }
        if (strstr(st, "fifo") || strstr(st, "pipe") || strstr(st, "partner"))
            return true;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Waits until the child sleeps in the open, then asks whether it writes. */
static int ask(pid_t pid)
{
    int rc = sleeps_in_open(pid) ? fs_open_writes("/proc", pid) : -EAGAIN;
    reap(pid);
    return rc;
}

static int check(enum how how, int flags)
{
    char dir[] = "/tmp/vg-file-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[64];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rc = ask(blocked_opener(fifo, flags, how));
    unlink(fifo);
    rmdir(dir);
    return rc;
}

static void blocked_openat(void **state)
{
    assert_int_equal(check(BY_OPENAT, O_WRONLY | O_APPEND), 1);
    assert_int_equal(check(BY_OPENAT, O_RDONLY), 0);
}

static void blocked_openat2(void **state)
{
    assert_int_equal(check(BY_OPENAT2, O_WRONLY | O_TRUNC), 1);
    assert_int_equal(check(BY_OPENAT2, O_RDONLY), 0);
    /* O_RDWR does not wait on a FIFO; the flag test above covers it. */
}

static void blocked_open_creat(void **state)
{
#if defined(SYS_open) && defined(SYS_creat)
    assert_int_equal(check(BY_OPEN, O_WRONLY), 1);
    assert_int_equal(check(BY_OPEN, O_RDONLY), 0);
    assert_int_equal(check(BY_CREAT, 0), 1);
#else
    skip(); /* aarch64 has neither */
#endif
}

/* A thread in no system call, or in one that is no open (as an io-wq
 * worker or io_uring_enter would be), cannot be judged by its flags. */
static void not_an_open(void **state)
{
    fs_call c = {.nr = SYS_execve};
    unsigned long flags = 1;
    assert_int_equal(fs_call_flags(getpid(), &c, &flags), 0);
    assert_false(fs_flags_write(flags));
    c.nr = SYS_io_uring_enter;
    assert_int_equal(fs_call_flags(getpid(), &c, &flags), -ENOSYS);
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            ; /* running: no system call */
    }
    int rc = -1;
    for (int i = 0; i < 200 && rc != FS_CANNOT_TELL; i++) {
        rc = fs_open_writes("/proc", pid);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(rc, FS_CANNOT_TELL);
}

/* The reader that keeps syscall files open answers each thread from its
 * own file, and never answers for a thread that is gone with what an
 * earlier one did. */
static void cached_reader(void **state)
{
    char dir[] = "/tmp/vg-file-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[2][64]; /* one for readers, one for writers: no pair opens */
    for (int i = 0; i < 2; i++) {
        snprintf(fifo[i], sizeof(fifo[i]), "%s/fifo%d", dir, i);
        assert_int_equal(mkfifo(fifo[i], 0600), 0);
    }
    fs_reader r;
    fs_reader_init(&r, "/proc");

    pid_t writer = blocked_opener(fifo[1], O_WRONLY, BY_OPENAT);
    assert_true(sleeps_in_open(writer));
    for (int i = 0; i < 3; i++) /* the second and third from the open file */
        assert_int_equal(fs_reader_writes(&r, writer), 1);
    int open_fds = 0;
    for (size_t i = 0; i < FS_READER_SLOTS; i++)
        open_fds += r.slot[i].fd >= 0;
    assert_int_equal(open_fds, 1);
    reap(writer);
    assert_int_equal(fs_reader_writes(&r, writer), -ESRCH);

    /* More threads than slots: every answer is still each one's own. */
    enum { KIDS = FS_READER_SLOTS + 3 };
    pid_t kids[KIDS];
    for (size_t i = 0; i < KIDS; i++) {
        kids[i] = blocked_opener(fifo[i % 2], i % 2 ? O_WRONLY | O_APPEND : O_RDONLY, BY_OPENAT);
        assert_true(sleeps_in_open(kids[i]));
    }
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < KIDS; i++)
            assert_int_equal(fs_reader_writes(&r, kids[i]), i % 2 ? 1 : 0);
    for (size_t i = 0; i < KIDS; i++)
        reap(kids[i]);
    fs_reader_close(&r);
    for (int i = 0; i < 2; i++)
        unlink(fifo[i]);
    rmdir(dir);
}

static void gone_thread(void **state)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    assert_int_equal(fs_open_writes("/proc", pid), -ESRCH);
}

/* ---- paths ------------------------------------------------------------- */

static void strip_root(void **state)
{
    assert_string_equal(fp_strip_root("/proc/12/root/etc/passwd", "/proc/12/root"), "/etc/passwd");
    assert_string_equal(fp_strip_root("/proc/12/root", "/proc/12/root/"), "/");
    assert_string_equal(fp_strip_root("/etc/passwd", "/"), "/etc/passwd");
    assert_null(fp_strip_root("/proc/123/root/etc", "/proc/12/root"));
    assert_null(fp_strip_root("/etc/passwd", "/proc/12/root"));
}

static void split(void **state)
{
    char d[64], n[16];
    assert_int_equal(fp_split("/etc/passwd", d, sizeof(d), n, sizeof(n)), 0);
    assert_string_equal(d, "/etc");
    assert_string_equal(n, "passwd");
    assert_int_equal(fp_split("/x", d, sizeof(d), n, sizeof(n)), 0);
    assert_string_equal(d, "/");
    assert_string_equal(n, "x");
    assert_int_equal(fp_split("/root/.ssh/", d, sizeof(d), n, sizeof(n)), 0);
    assert_string_equal(d, "/root");
    assert_string_equal(n, ".ssh");
    assert_int_equal(fp_split("/", d, sizeof(d), n, sizeof(n)), -EINVAL);
    assert_int_equal(fp_split("etc/passwd", d, sizeof(d), n, sizeof(n)), -EINVAL);
    assert_int_equal(fp_split("/etc/a-name-too-long-here", d, sizeof(d), n, sizeof(n)),
                     -ENAMETOOLONG);
}

static void plain(void **state)
{
    assert_true(fp_plain("/etc/app.conf"));
    assert_true(fp_plain("/opt/app/conf/"));
    assert_true(fp_plain("/home/*/.config"));
    assert_false(fp_plain("etc/app.conf"));
    assert_false(fp_plain("/"));
    assert_false(fp_plain("/etc/../root"));
    assert_false(fp_plain("/etc/./x"));
    assert_false(fp_plain("/etc//x"));
    assert_false(fp_plain(""));
}

static int collect(void *arg, const char *item)
{
    char *out = arg;
    strcat(out, "[");
    strcat(out, item);
    strcat(out, "]");
    return strcmp(item, "/stop") == 0 ? -ECANCELED : 0;
}

static void items(void **state)
{
    char out[256] = "";
    assert_int_equal(fp_each_item(" /a : /b,,/c/ ,", collect, out), 3);
    assert_string_equal(out, "[/a][/b][/c/]");
    out[0] = '\0';
    assert_int_equal(fp_each_item("", collect, out), 0);
    assert_int_equal(fp_each_item("/x:/stop:/y", collect, out), -ECANCELED);
    assert_string_equal(out, "[/x][/stop]");
}

static void defaults(void **state)
{
    static const char *const must[] = {"/etc/passwd",          "/etc/shadow", "/etc/sudoers.d",
                                       "/etc/ld.so.preload",   "/root/.ssh",  "/home/*/.ssh",
                                       "/var/lib/dpkg/status", "/usr/bin",    "/usr/local/sbin"};
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
        bool found = false;
        for (const fp_entry *e = fp_defaults; e->path; e++)
            found |= strcmp(e->path, must[i]) == 0;
        assert_true(found);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_lines),     cmocka_unit_test(write_flags),
        cmocka_unit_test(other_calls),     cmocka_unit_test(blocked_openat),
        cmocka_unit_test(blocked_openat2), cmocka_unit_test(blocked_open_creat),
        cmocka_unit_test(not_an_open),     cmocka_unit_test(gone_thread),
        cmocka_unit_test(cached_reader),   cmocka_unit_test(strip_root),
        cmocka_unit_test(split),           cmocka_unit_test(plain),
        cmocka_unit_test(items),           cmocka_unit_test(defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
