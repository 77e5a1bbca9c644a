/*
 * Tests of the watch table against real fanotify groups on a real root
 * directory in a temporary directory: what gets marked, the cap, the
 * lookups that turn kernel events into paths in the root's terms, and a
 * symlink that must not lead out of the root. Needs CAP_SYS_ADMIN (skipped
 * otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "watch.h"

typedef struct fixture {
    char root[64];
    int notify_fd, perm_fd;
} fixture;

static void put(const fixture *f, const char *rel, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s", f->root, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void dir(const fixture *f, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s", f->root, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->root, sizeof(f->root), "/tmp/vg-watch-test.XXXXXX");
    assert_non_null(mkdtemp(f->root));
    f->notify_fd = fanotify_init(
        FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
    f->perm_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
    dir(f, "/etc");
    dir(f, "/usr");
    dir(f, "/usr/bin");
    dir(f, "/home");
    dir(f, "/home/ann");
    dir(f, "/home/ann/.ssh");
    put(f, "/etc/passwd", "root:x:0:0::/:/bin/sh\n");
    put(f, "/etc/hosts", "127.0.0.1 localhost\n");
    put(f, "/home/ann/.ssh/authorized_keys", "key\n");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
    if (f->notify_fd >= 0)
        close(f->notify_fd);
    if (f->perm_fd >= 0)
        close(f->perm_fd);
    free(f);
    return 0;
}

static bool have_fanotify(const fixture *f)
{
    return f->notify_fd >= 0 && f->perm_fd >= 0;
}

/* Reads one event of the notification group and looks it up. */
static int next_path(fw_table *t, int fd, char *path, size_t size, fw_owner *owner)
{
    char buf[4096] __attribute__((aligned(8)));
    for (int i = 0; i < 200; i++) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            const struct fanotify_event_metadata *m = (const void *)buf;
            const struct fanotify_event_info_fid *fid = (const void *)(buf + m->metadata_len);
            const struct file_handle *fh = (const void *)fid->handle;
            const char *name = (const char *)fh->f_handle + fh->handle_bytes;
            int32_t fsid[2];
            memcpy(fsid, &fid->fsid, sizeof(fsid));
            return fw_lookup_dir(t, fsid, fh, fid->hdr.len - sizeof(*fid), name, path, size, owner);
        }
        usleep(5000);
    }
    return -ETIMEDOUT;
}

static void watches_and_looks_up(void **state)
{
    fixture *f = *state;
    if (!have_fanotify(f))
        skip();
    fw_table *t;
    fp_entry extra[] = {{"/etc/app.conf", FP_FILE}};
    assert_int_equal(fw_new(f->notify_fd, f->perm_fd, 100, extra, 1, &t), 0);
    assert_int_equal(fw_root_add(t, "w1", "g1", f->root), 0);
    fw_counts c;
    fw_counts_get(t, &c);
    /* /etc, /usr/bin, /home/ann/.ssh: one mark each, whatever the names. */
    assert_int_equal(c.roots, 1);
    assert_int_equal(c.dirs, 3);
    assert_int_equal(c.files, 0);
    assert_int_equal(c.refused, 0);

    /* A write to a watched file is found, in the root's terms. */
    put(f, "/etc/passwd", "root:x:0:0::/:/bin/sh\nx\n");
    char path[PATH_MAX];
    fw_owner owner;
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/etc/passwd");
    assert_string_equal(owner.id, "w1");
    assert_string_equal(owner.group, "g1");
    assert_int_equal(owner.pid, 0);
    /* A name of the same directory that is not watched is not found; one
     * added by the config is. */
    put(f, "/etc/motd", "hi\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), -ENOENT);
    put(f, "/etc/app.conf", "a=1\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/etc/app.conf");
    /* Any new entry of a directory of programs. */
    put(f, "/usr/bin/evil", "#!/bin/sh\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/usr/bin/evil");

    /* Guarding marks the regular files, finds them by inode, and unguarding
     * removes them. */
    assert_int_equal(fw_guard(t, "w1", true), 0);
    fw_counts_get(t, &c);
    assert_int_equal(c.files, 4); /* passwd, hosts, app.conf, authorized_keys */
    assert_int_equal(c.guarded, 1);
    char full[PATH_MAX];
    snprintf(full, sizeof(full), "%s/home/ann/.ssh/authorized_keys", f->root);
    int fd = open(full, O_PATH | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fw_lookup_file(t, fd, path, sizeof(path), &owner), 0);
    assert_string_equal(owner.id, "w1");
    assert_string_equal(owner.group, "g1");
    assert_int_equal(owner.pid, 0);
    assert_string_equal(path, "/home/ann/.ssh/authorized_keys");
    close(fd);

    /* A deleted file is forgotten, and a new file that gets its inode
     * number is not taken for it. */
    assert_int_equal(unlink(full), 0);
    fw_reguard(t);
    fw_counts_get(t, &c);
    assert_int_equal(c.files, 3);
    put(f, "/etc/app.conf.new", "a=2\n");
    snprintf(full, sizeof(full), "%s/etc/app.conf", f->root);
    char repl[PATH_MAX];
    snprintf(repl, sizeof(repl), "%s/etc/app.conf.new", f->root);
    assert_int_equal(rename(repl, full), 0);
    fw_reguard(t);
    fw_counts_get(t, &c);
    assert_int_equal(c.files, 3); /* the old app.conf gone, the new one guarded */
    fd = open(full, O_PATH | O_CLOEXEC);
    assert_int_equal(fw_lookup_file(t, fd, path, sizeof(path), NULL), 0);
    assert_string_equal(path, "/etc/app.conf");
    close(fd);

    assert_int_equal(fw_guard(t, "w1", false), 0);
    fw_counts_get(t, &c);
    assert_int_equal(c.files, 0);
    snprintf(full, sizeof(full), "%s/etc/passwd", f->root);
    fd = open(full, O_PATH | O_CLOEXEC);
    assert_int_equal(fw_lookup_file(t, fd, path, sizeof(path), NULL), -ENOENT);
    close(fd);

    fw_root_drop(t, "w1");
    fw_counts_get(t, &c);
    assert_int_equal(c.roots, 0);
    assert_int_equal(c.marks, 0);
    assert_false(fw_root_has(t, "w1", NULL, 0));
    fw_free(t);
}

static void cap_holds(void **state)
{
    fixture *f = *state;
    if (!have_fanotify(f))
        skip();
    fw_table *t;
    assert_int_equal(fw_new(f->notify_fd, f->perm_fd, 2, NULL, 0, &t), 0);
    assert_int_equal(fw_root_add(t, "w1", "g1", f->root), 0);
    fw_counts c;
    fw_counts_get(t, &c);
    assert_int_equal(c.marks, 2);
    assert_int_equal(c.refused, 1);
    /* A second root sharing the same directories adds no mark. */
    assert_int_equal(fw_root_add(t, "w2", "g2", f->root), 0);
    fw_counts_get(t, &c);
    assert_int_equal(c.marks, 2);
    fw_free(t);
}

/* A container whose /etc is a symlink to the host's /etc: resolved inside
 * the root, it is missing, and the host's /etc is not watched. */
static void symlinks_stay_inside(void **state)
{
    fixture *f = *state;
    if (!have_fanotify(f))
        skip();
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/etc", f->root);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(symlink("/etc", path), 0);
    fw_table *t;
    assert_int_equal(fw_new(f->notify_fd, f->perm_fd, 100, NULL, 0, &t), 0);
    assert_int_equal(fw_root_add(t, "w1", "g1", f->root), 0);
    fw_counts c;
    fw_counts_get(t, &c);
    assert_int_equal(c.dirs, 2); /* /usr/bin and /home/ann/.ssh only */
    fw_free(t);
}

/* Paths the policy adds per group: watched in the roots of that group
 * only, globs expanded in the root, marks of a removed path removed, and a
 * root that changes group gets the other group's paths. */
static void group_paths_follow_the_policy(void **state)
{
    fixture *f = *state;
    if (!have_fanotify(f))
        skip();
    dir(f, "/app");
    dir(f, "/srv");
    dir(f, "/srv/secrets");
    put(f, "/app/settings.conf", "a=1\n");
    put(f, "/app/x.yaml", "x: 1\n");
    put(f, "/srv/secrets/key", "k\n");
    fw_table *t;
    assert_int_equal(fw_new(f->notify_fd, f->perm_fd, 100, NULL, 0, &t), 0);
    assert_int_equal(fw_root_add(t, "w1", "web", f->root), 0);
    fw_counts c;
    fw_counts_get(t, &c);
    assert_int_equal(c.dirs, 3);
    char path[PATH_MAX];
    fw_owner owner;
    put(f, "/app/settings.conf", "a=2\n"); /* /app is not marked: no event */
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), -ETIMEDOUT);

    fw_gpath list[] = {
        {"web", {"/app/settings.conf", FP_FILE}},
        {"db", {"/srv/secrets", FP_DIR}},
        {"", {"/app/*.yaml", FP_FILE}},
    };
    assert_int_equal(fw_set_group_paths(t, list, 3), 0);
    fw_counts_get(t, &c);
    assert_int_equal(c.dirs, 4); /* /app, once for both of its names */
    put(f, "/app/settings.conf", "a=3\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/app/settings.conf");
    assert_string_equal(owner.id, "w1");
    put(f, "/app/x.yaml", "x: 2\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/app/x.yaml");
    put(f, "/srv/secrets/key", "k2\n"); /* db's, not web's */
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), -ETIMEDOUT);

    /* Guarded roots guard the new files, and give them up with the list. */
    assert_int_equal(fw_guard(t, "w1", true), 0);
    fw_counts_get(t, &c);
    assert_int_equal(c.files, 5); /* passwd, hosts, authorized_keys, settings.conf, x.yaml */

    /* The root moves to db: /srv/secrets (and its file) instead. */
    assert_int_equal(fw_root_add(t, "w1", "db", f->root), 0);
    fw_counts_get(t, &c);
    assert_int_equal(c.dirs, 5);  /* /app still, for x.yaml (every group) */
    assert_int_equal(c.files, 5); /* key instead of settings.conf */
    /* Nobody answers the permission events here: unguard before writing. */
    assert_int_equal(fw_guard(t, "w1", false), 0);
    put(f, "/app/settings.conf", "a=4\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), -ENOENT);
    put(f, "/srv/secrets/key", "k3\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/srv/secrets/key");
    assert_string_equal(owner.group, "db");

    /* An empty list: back to the defaults, marks and all. */
    assert_int_equal(fw_set_group_paths(t, NULL, 0), 0);
    fw_counts_get(t, &c);
    assert_int_equal(c.dirs, 3);
    assert_int_equal(c.marks, 3);
    put(f, "/app/x.yaml", "x: 3\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), -ETIMEDOUT);
    /* The defaults were never left unwatched. */
    put(f, "/etc/passwd", "root:x:0:0::/:/bin/sh\ny\n");
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/etc/passwd");
    fw_free(t);
}

/* Program directories are watched with their subdirectories (bounded in
 * depth); a symlinked directory is not followed. */
static void bindirs_are_recursive(void **state)
{
    fixture *f = *state;
    if (!have_fanotify(f))
        skip();
    dir(f, "/usr/bin/tools");
    dir(f, "/usr/bin/tools/more");
    char link[PATH_MAX];
    snprintf(link, sizeof(link), "%s/usr/bin/loop", f->root);
    assert_int_equal(symlink("/usr/bin", link), 0);
    fw_table *t;
    assert_int_equal(fw_new(f->notify_fd, f->perm_fd, 100, NULL, 0, &t), 0);
    assert_int_equal(fw_root_add(t, "w1", "g1", f->root), 0);
    fw_counts c;
    fw_counts_get(t, &c);
    /* /etc, /usr/bin, /usr/bin/tools, /usr/bin/tools/more, /home/ann/.ssh */
    assert_int_equal(c.dirs, 5);
    put(f, "/usr/bin/tools/more/dropped", "#!/bin/sh\n");
    char path[PATH_MAX];
    fw_owner owner;
    assert_int_equal(next_path(t, f->notify_fd, path, sizeof(path), &owner), 0);
    assert_string_equal(path, "/usr/bin/tools/more/dropped");
    fw_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(watches_and_looks_up, setup, teardown),
        cmocka_unit_test_setup_teardown(cap_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(bindirs_are_recursive, setup, teardown),
        cmocka_unit_test_setup_teardown(symlinks_stay_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(group_paths_follow_the_policy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
