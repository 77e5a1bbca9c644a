/* Reads of sensitive files through fanotify FAN_OPEN marks on their inodes
 * (see reads.h). */
#include "reads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *const rd_defaults[] = {
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d/*",
    "/root/.ssh/id_*",
    "/root/.ssh/authorized_keys",
    "/home/*/.ssh/id_*",
    "/home/*/.ssh/authorized_keys",
    "/etc/ssh/ssh_host_*_key",
    "/root/.aws/credentials",
    "/home/*/.aws/credentials",
    "/root/.kube/config",
    "/home/*/.kube/config",
    "/root/.config/gcloud/credentials.db",
    "/home/*/.config/gcloud/credentials.db",
    "/run/secrets/kubernetes.io/serviceaccount/token",
    "/var/run/secrets/kubernetes.io/serviceaccount/token",
    NULL,
};

#define RD_DEPTH 16 /* components in a path */

typedef struct rd_file {
    dev_t dev;
    ino_t ino;
    char *path;
} rd_file;

/* One generation of the table: built aside, swapped in whole. */
typedef struct rd_table {
    rd_file *files;
    size_t n, cap, refused;
} rd_table;

struct rd_watch {
    size_t max_marks;
    pthread_mutex_t lock; /* cur: held only to look up or swap */
    rd_table *cur;
};

static void table_free(rd_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->files[i].path);
    free(t->files);
    free(t);
}

int rd_new(size_t max_marks, rd_watch **out)
{
    rd_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->max_marks = max_marks;
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return 0;
}

void rd_free(rd_watch *w)
{
    if (!w)
        return;
    table_free(w->cur);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void rd_counts(rd_watch *w, size_t *marks, size_t *refused)
{
    pthread_mutex_lock(&w->lock);
    *marks = w->cur ? w->cur->n : 0;
    *refused = w->cur ? w->cur->refused : 0;
    pthread_mutex_unlock(&w->lock);
}

/* Opens rel (in the root's terms) resolving every symlink inside the root:
 * a container's symlink never leads to the host's files. */
static int open_in(int rootfd, const char *rel, int flags)
{
    struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    while (*rel == '/')
        rel++;
    int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
    return fd < 0 ? -errno : fd;
}

static const rd_file *find(const rd_table *t, dev_t dev, ino_t ino)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->files[i].dev == dev && t->files[i].ino == ino)
            return &t->files[i];
    return NULL;
}

typedef struct builder {
    rd_table *t;
    size_t max_marks;
    int fan;
    uint64_t mask;
} builder;

/* Marks the regular file at rel; a file shared by roots (one image under
 * several containers) is marked once. fanotify_mark needs a path: the O_PATH
 * descriptor's own /proc/self/fd link leads to exactly that inode. */
static void mark(builder *b, int rootfd, const char *rel)
{
    rd_table *t = b->t;
    int fd = open_in(rootfd, rel, O_PATH);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || find(t, st.st_dev, st.st_ino)) {
        close(fd);
        return;
    }
    if (t->n >= b->max_marks) {
        t->refused++;
        close(fd);
        return;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        rd_file *n = realloc(t->files, cap * sizeof(*n));
        if (!n) {
            close(fd);
            return;
        }
        t->files = n;
        t->cap = cap;
    }
    char link[40];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    char *path = strdup(rel);
    if (path && fanotify_mark(b->fan, FAN_MARK_ADD, b->mask, AT_FDCWD, link) == 0)
        t->files[t->n++] = (rd_file){.dev = st.st_dev, .ino = st.st_ino, .path = path};
    else
        free(path);
    close(fd);
}

/* Expands pattern components comp[i..n) below the directory `done` of the
 * root: a component with '*' is matched against the directory's entries
 * (hidden ones only by a pattern starting with '.'). */
static void expand(builder *b, int rootfd, const char *done, char **comp, int i, int n)
{
    char path[4096];
    if (i == n) {
        mark(b, rootfd, done);
        return;
    }
    if (!strchr(comp[i], '*')) {
        snprintf(path, sizeof(path), "%s/%s", done, comp[i]);
        expand(b, rootfd, path, comp, i + 1, n);
        return;
    }
    int fd = open_in(rootfd, done[0] ? done : "/", O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            fnmatch(comp[i], e->d_name, FNM_PERIOD) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", done, e->d_name);
        expand(b, rootfd, path, comp, i + 1, n);
    }
    closedir(d);
}

static void mark_pattern(builder *b, int rootfd, const char *pattern)
{
    char buf[4096], *comp[RD_DEPTH], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", pattern);
    int n = 0;
    for (char *c = strtok_r(buf, "/", &save); c && n < RD_DEPTH; c = strtok_r(NULL, "/", &save))
        comp[n++] = c;
    if (n > 0)
        expand(b, rootfd, "", comp, 0, n);
}

int rd_sync(rd_watch *w, int fan, uint64_t mask, const rd_root *roots, size_t n,
            const char *const *extra, bool flush)
{
    builder b = {
        .t = calloc(1, sizeof(rd_table)), .max_marks = w->max_marks, .fan = fan, .mask = mask};
    if (!b.t)
        return -ENOMEM;
    if (flush && fanotify_mark(fan, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL) < 0) {
        int rc = -errno;
        table_free(b.t);
        return rc;
    }
    for (size_t r = 0; r < n; r++) {
        char root[64];
        if (roots[r].pid > 0)
            snprintf(root, sizeof(root), "/proc/%d/root", roots[r].pid);
        else
            snprintf(root, sizeof(root), "/");
        int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
            continue;
        for (size_t i = 0; rd_defaults[i]; i++)
            mark_pattern(&b, rootfd, rd_defaults[i]);
        for (size_t i = 0; extra && extra[i]; i++)
            mark_pattern(&b, rootfd, extra[i]);
        close(rootfd);
    }
    pthread_mutex_lock(&w->lock);
    rd_table *old = w->cur;
    w->cur = b.t;
    pthread_mutex_unlock(&w->lock);
    table_free(old);
    return (int)b.t->n;
}

int rd_lookup(rd_watch *w, int fd, char *path, size_t size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    pthread_mutex_lock(&w->lock);
    const rd_file *f = find(w->cur, st.st_dev, st.st_ino);
    if (f)
        snprintf(path, size, "%s", f->path);
    pthread_mutex_unlock(&w->lock);
    return f ? 0 : -ENOENT;
}
