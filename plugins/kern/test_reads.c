/* Unit test of reads.c with a real fanotify group: a root made of a
 * temporary directory (a child chrooted into it, as a container's init
 * would be), its sensitive files marked by the default list, opens of them
 * looked up with their path in the root's terms, other files not marked, a
 * symlink never leading out of the root, a replaced file marked again at
 * the next sync, and a flush dropping old marks. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "reads.h"

static char dir[] = "/tmp/vg-reads.XXXXXX";
static pid_t jailed;

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof(p), "%s%s", dir, rel);
    for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0700);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct seen {
    char path[8][256];
    int n;
} seen;

static int fan = -1;

/* Opens rel of the root from another process (ours are not reported). */
static void open_from_child(const char *rel)
{
    pid_t c = fork();
    if (c == 0) {
        char p[512];
        snprintf(p, sizeof(p), "%s%s", dir, rel);
        int fd = open(p, O_RDONLY);
        _exit(fd < 0);
    }
    int st;
    waitpid(c, &st, 0);
}

/* Reads the group's events (a notification group here: the plugin's is a
 * permission group read by the engine) and looks each file up. */
static int collect(rd_watch *w, seen *s)
{
    memset(s, 0, sizeof(*s));
    struct pollfd pfd = {.fd = fan, .events = POLLIN};
    char buf[4096] __attribute__((aligned(8)));
    while (poll(&pfd, 1, 200) > 0) {
        ssize_t len = read(fan, buf, sizeof(buf));
        struct fanotify_event_metadata *m = (void *)buf;
        for (; len > 0 && FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
            if (m->fd < 0)
                continue;
            if (m->pid != getpid() && s->n < 8 &&
                rd_lookup(w, m->fd, s->path[s->n], sizeof(s->path[0])) == 0)
                s->n++;
            close(m->fd);
        }
    }
    return s->n;
}

static int resync(rd_watch *w, const rd_root *roots, size_t n, const char *const *extra, bool flush)
{
    return rd_sync(w, fan, FAN_OPEN, roots, n, extra, flush);
}

static int setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return -1;
    assert_non_null(mkdtemp(dir));
    put("/etc/shadow", "root:*:1::::::\n");
    put("/etc/hosts", "127.0.0.1 localhost\n");
    put("/home/alice/.ssh/id_ed25519", "key\n");
    put("/home/bob/.ssh/authorized_keys", "ssh-ed25519 AAAA\n");
    char link[512];
    snprintf(link, sizeof(link), "%s/root", dir);
    mkdir(link, 0700);
    snprintf(link, sizeof(link), "%s/root/.kube", dir);
    mkdir(link, 0700);
    snprintf(link, sizeof(link), "%s/root/.kube/config", dir);
    /* Absolute: inside the root it names <dir>/etc/passwd, which does
     * not exist; it must not be followed to the host's file. */
    assert_int_equal(symlink("/etc/passwd", link), 0);
    jailed = fork();
    if (jailed == 0) {
        if (chroot(dir) != 0)
            _exit(1);
        pause();
        _exit(0);
    }
    usleep(100000);
    fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
    return fan < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    close(fan);
    kill(jailed, SIGKILL);
    waitpid(jailed, NULL, 0);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static bool has(const seen *s, const char *path)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->path[i], path) == 0)
            return true;
    return false;
}

static void test_marks_and_reports(void **state)
{
    (void)state;
    rd_watch *w;
    assert_int_equal(rd_new(64, &w), 0);
    rd_root roots[] = {{.pid = jailed}};
    /* shadow, alice's key, bob's authorized_keys; not the kube symlink. */
    assert_int_equal(resync(w, roots, 1, NULL, false), 3);
    seen s;
    open_from_child("/etc/shadow");
    open_from_child("/etc/hosts");
    open_from_child("/home/alice/.ssh/id_ed25519");
    assert_int_equal(collect(w, &s), 2);
    assert_true(has(&s, "/etc/shadow"));
    assert_true(has(&s, "/home/alice/.ssh/id_ed25519"));
    /* A file replaced by a rename is a new inode: watched after a resync. */
    put("/etc/shadow.new", "root:!:1::::::\n");
    char a[512], b[512];
    snprintf(a, sizeof(a), "%s/etc/shadow.new", dir);
    snprintf(b, sizeof(b), "%s/etc/shadow", dir);
    assert_int_equal(rename(a, b), 0);
    open_from_child("/etc/shadow");
    assert_int_equal(collect(w, &s), 0);
    assert_int_equal(resync(w, roots, 1, NULL, false), 3);
    open_from_child("/etc/shadow");
    assert_int_equal(collect(w, &s), 1);
    /* Extra paths; no roots, with a flush, drops every mark. */
    const char *extra[] = {"/etc/hosts", NULL};
    assert_int_equal(resync(w, roots, 1, extra, false), 4);
    assert_int_equal(resync(w, NULL, 0, NULL, true), 0);
    open_from_child("/etc/shadow");
    assert_int_equal(collect(w, &s), 0);
    rd_free(w);
}

static void test_cap(void **state)
{
    (void)state;
    rd_watch *w;
    assert_int_equal(rd_new(2, &w), 0);
    rd_root roots[] = {{.pid = jailed}};
    assert_int_equal(resync(w, roots, 1, NULL, false), 2);
    size_t marks, refused;
    rd_counts(w, &marks, &refused);
    assert_int_equal(marks, 2);
    assert_int_equal(refused, 1);
    rd_free(w);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP: fanotify needs root\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_and_reports),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
