/* The watch table: marks on inodes under each root; see watch.h. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OWNER_MAX 72
#define GROUP_MAX 128

typedef struct fw_handle {
    int32_t fsid[2];
    struct file_handle fh;
    unsigned char bytes[MAX_HANDLE_SZ];
} fw_handle;

/* A watched name in a directory (name "" = every entry), or a guarded file
 * (kind FW_FILE). */
enum { FW_NAME = 0, FW_FILE = 1 };
typedef struct fw_item {
    int type;
    char owner[OWNER_MAX];
    fw_handle h;
    dev_t dev;
    ino_t ino;
    char *path; /* the directory's path (FW_NAME) or the file's (FW_FILE) */
    char name[256];
    bool seen; /* found again by the current re-sync of its root */
} fw_item;

typedef struct fw_root {
    char owner[OWNER_MAX];
    char group[GROUP_MAX];
    char path[64];
    int pid; /* of /proc/<pid>/root; 0 for another root */
    int fd;  /* the root: resolves paths in it, and file handles */
    bool guarded;
} fw_root;

struct fw_table {
    pthread_mutex_t lock;
    int notify_fd, perm_fd;
    size_t max_marks;
    fp_entry *extra;
    size_t nextra;
    fw_gpath *gpaths; /* from the policy: per group */
    size_t ngpaths;
    fw_item *items;
    size_t nitems, cap_items;
    fw_root *roots;
    size_t nroots, cap_roots;
    fw_counts counts;
};

int fw_new(int notify_fd, int perm_fd, size_t max_marks, const fp_entry *extra, size_t nextra,
           fw_table **out)
{
    fw_table *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    t->notify_fd = notify_fd;
    t->perm_fd = perm_fd;
    t->max_marks = max_marks;
    if (nextra) {
        t->extra = calloc(nextra, sizeof(*t->extra));
        if (!t->extra) {
            fw_free(t);
            return -ENOMEM;
        }
        for (size_t i = 0; i < nextra; i++) {
            t->extra[i].kind = extra[i].kind;
            t->extra[i].path = strdup(extra[i].path);
            if (!t->extra[i].path) {
                fw_free(t);
                return -ENOMEM;
            }
            t->nextra++;
        }
    }
    *out = t;
    return 0;
}

static void gpaths_free(fw_gpath *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)g[i].group);
        free((char *)g[i].e.path);
    }
    free(g);
}

void fw_free(fw_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nitems; i++)
        free(t->items[i].path);
    for (size_t i = 0; i < t->nroots; i++)
        close(t->roots[i].fd);
    for (size_t i = 0; i < t->nextra; i++)
        free((char *)t->extra[i].path);
    free(t->extra);
    gpaths_free(t->gpaths, t->ngpaths);
    free(t->items);
    free(t->roots);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* ---- inodes ------------------------------------------------------------- */

/* Opens rel (absolute in the root's terms) as O_PATH, resolving every
 * symlink inside the root: a container's "/etc -> /host/etc" never leads
 * out of it. */
static int open_in(int rootfd, const char *rel)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    while (*rel == '/')
        rel++;
    int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
    return fd < 0 ? -errno : fd;
}

static int handle_of(int fd, fw_handle *h)
{
    memset(h, 0, sizeof(*h));
    h->fh.handle_bytes = MAX_HANDLE_SZ;
    int mnt;
    if (name_to_handle_at(fd, "", &h->fh, &mnt, AT_EMPTY_PATH) < 0)
        return -errno;
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        return -errno;
    memcpy(h->fsid, &sf.f_fsid, sizeof(h->fsid));
    return 0;
}

static bool same_handle(const fw_handle *a, const int32_t fsid[2], const struct file_handle *fh)
{
    return a->fsid[0] == fsid[0] && a->fsid[1] == fsid[1] && a->fh.handle_type == fh->handle_type &&
           a->fh.handle_bytes == fh->handle_bytes &&
           memcmp(a->fh.f_handle, fh->f_handle, fh->handle_bytes) == 0;
}

/* Marks the inode fd refers to. fanotify_mark needs a path: the fd's own
 * /proc/self/fd link leads to exactly that inode. */
static int mark_fd(int fan, unsigned flags, uint64_t mask, int fd)
{
    char p[40];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    return fanotify_mark(fan, flags, mask, AT_FDCWD, p) < 0 ? -errno : 0;
}

/* Items of `type` that share the inode of h (another name in the same
 * directory, another owner of a shared root). */
static size_t sharing(fw_table *t, int type, const fw_handle *h)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nitems; i++)
        n += t->items[i].type == type && same_handle(&t->items[i].h, h->fsid, &h->fh);
    return n;
}

static fw_item *item_new(fw_table *t)
{
    if (t->nitems == t->cap_items) {
        size_t cap = t->cap_items ? t->cap_items * 2 : 64;
        fw_item *n = realloc(t->items, cap * sizeof(*n));
        if (!n)
            return NULL;
        t->items = n;
        t->cap_items = cap;
    }
    fw_item *it = &t->items[t->nitems];
    memset(it, 0, sizeof(*it));
    return it;
}

/* Records item (owner, type, name, path) for the inode open at fd, marking
 * it unless another item holds the mark already. Duplicates are skipped. */
static int add_item(fw_table *t, const char *owner, int type, int fd, const char *path,
                    const char *name)
{
    fw_handle h;
    struct stat st;
    if (fstat(fd, &st) < 0 || handle_of(fd, &h) < 0) {
        t->counts.errors++;
        return -EIO;
    }
    for (size_t i = 0; i < t->nitems; i++) {
        fw_item *it = &t->items[i];
        if (it->type == type && strcmp(it->owner, owner) == 0 && strcmp(it->name, name) == 0 &&
            same_handle(&it->h, h.fsid, &h.fh)) {
            it->seen = true;
            return 0;
        }
    }
    bool marked = sharing(t, type, &h) > 0;
    if (!marked) {
        if (t->counts.marks >= t->max_marks) {
            t->counts.refused++;
            return -ENOSPC;
        }
        int fan = type == FW_FILE ? t->perm_fd : t->notify_fd;
        uint64_t mask = type == FW_FILE ? FW_PERM_MASK : FW_NOTIFY_MASK;
        if (mark_fd(fan, FAN_MARK_ADD, mask, fd) < 0) {
            t->counts.errors++;
            return -EIO;
        }
    }
    fw_item *it = item_new(t);
    char *copy = strdup(path);
    if (!it || !copy) {
        free(copy);
        return -ENOMEM;
    }
    it->type = type;
    snprintf(it->owner, sizeof(it->owner), "%s", owner);
    snprintf(it->name, sizeof(it->name), "%s", name);
    it->h = h;
    it->dev = st.st_dev;
    it->ino = st.st_ino;
    it->path = copy;
    it->seen = true;
    t->nitems++;
    if (!marked) {
        t->counts.marks++;
        type == FW_FILE ? t->counts.files++ : t->counts.dirs++;
    }
    return 0;
}

/* Removes item i, and its mark when no other item holds it and the inode
 * can still be reached from the root. */
static void drop_item(fw_table *t, size_t i, int rootfd)
{
    fw_item *it = &t->items[i];
    fw_item gone = *it;
    t->items[i] = t->items[--t->nitems];
    if (sharing(t, gone.type, &gone.h) == 0) {
        int fd = rootfd >= 0 ? open_by_handle_at(rootfd, &gone.h.fh, O_PATH | O_CLOEXEC) : -1;
        if (fd >= 0) {
            int fan = gone.type == FW_FILE ? t->perm_fd : t->notify_fd;
            mark_fd(fan, FAN_MARK_REMOVE, gone.type == FW_FILE ? FW_PERM_MASK : FW_NOTIFY_MASK, fd);
            close(fd);
        }
        t->counts.marks--;
        gone.type == FW_FILE ? t->counts.files-- : t->counts.dirs--;
    }
    free(gone.path);
}

/* ---- walking the list --------------------------------------------------- */

static fw_root *root_find(fw_table *t, const char *owner);

static void owner_of(fw_table *t, const char *id, fw_owner *out)
{
    if (!out)
        return;
    fw_root *r = root_find(t, id);
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->group, sizeof(out->group), "%s", r ? r->group : "");
    out->pid = r ? r->pid : 0;
}

static fw_root *root_find(fw_table *t, const char *owner)
{
    for (size_t i = 0; i < t->nroots; i++)
        if (strcmp(t->roots[i].owner, owner) == 0)
            return &t->roots[i];
    return NULL;
}

/* Calls fn for each path of entry e that exists under root r (one, or a
 * glob's matches). */
static void each_path(fw_table *t, fw_root *r, const fp_entry *e,
                      void (*fn)(fw_table *, fw_root *, const fp_entry *, const char *))
{
    if (!strpbrk(e->path, "*?[")) {
        fn(t, r, e, e->path);
        return;
    }
    char pattern[PATH_MAX];
    bool host = strcmp(r->path, "/") == 0;
    if (snprintf(pattern, sizeof(pattern), "%s%s", host ? "" : r->path, e->path) >=
        (int)sizeof(pattern))
        return;
    glob_t g;
    if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *rel = fp_strip_root(g.gl_pathv[i], r->path);
        if (rel)
            fn(t, r, e, rel);
    }
    globfree(&g);
}

/* Whether a policy's path is for the workloads of group: by the exact
 * service group, or for every group. */
static bool applies(const fw_gpath *g, const char *group)
{
    return !g->group || !g->group[0] || strcmp(g->group, group) == 0;
}

static void each_entry(fw_table *t, fw_root *r,
                       void (*fn)(fw_table *, fw_root *, const fp_entry *, const char *))
{
    for (const fp_entry *e = fp_defaults; e->path; e++)
        each_path(t, r, e, fn);
    for (size_t i = 0; i < t->nextra; i++)
        each_path(t, r, &t->extra[i], fn);
    for (size_t i = 0; i < t->ngpaths; i++)
        if (applies(&t->gpaths[i], r->group))
            each_path(t, r, &t->gpaths[i].e, fn);
}

/* How deep program directories are followed: /usr/bin has no reason to be
 * deeper, and the bound keeps a hostile tree from costing marks without end
 * (max_marks bounds them too). */
#define BINDIR_DEPTH 4

/* Program directories are watched recursively: a binary dropped into a
 * subdirectory of /usr/bin is as much a finding as one in /usr/bin. Only
 * real directories are followed (d_type), so a symlink cannot make a loop
 * or lead out of the tree. */
static void watch_subdirs(fw_table *t, fw_root *r, int fd, const char *path, int depth)
{
    if (depth >= BINDIR_DEPTH)
        return;
    /* fd is an O_PATH descriptor: listing needs a readable one. */
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof(sub), "%s/%s", strcmp(path, "/") ? path : "", de->d_name) >=
            (int)sizeof(sub))
            continue;
        int sfd = open_in(r->fd, sub);
        if (sfd < 0)
            continue;
        add_item(t, r->owner, FW_NAME, sfd, sub, "");
        watch_subdirs(t, r, sfd, sub, depth + 1);
        close(sfd);
    }
    closedir(d);
}

/* The notification side: a file is watched through its directory, by name;
 * a directory with all of its entries (a program directory with its
 * subdirectories too). */
static void watch_path(fw_table *t, fw_root *r, const fp_entry *e, const char *path)
{
    char dir[PATH_MAX], name[256];
    bool whole = e->kind != FP_FILE;
    if (!whole && fp_split(path, dir, sizeof(dir), name, sizeof(name)) < 0)
        return;
    int fd = open_in(r->fd, whole ? path : dir);
    if (fd < 0)
        return; /* not in this root: not an error */
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        add_item(t, r->owner, FW_NAME, fd, whole ? path : dir, whole ? "" : name);
        if (e->kind == FP_BINDIR)
            watch_subdirs(t, r, fd, path, 0);
    }
    close(fd);
}

static void guard_file(fw_table *t, fw_root *r, int fd, const char *path)
{
    struct stat st;
    fw_handle h;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || handle_of(fd, &h) < 0)
        return;
    /* By handle, not by inode number: a number is reused as soon as its
     * file is deleted, the handle's generation is not. */
    for (size_t i = 0; i < t->nitems; i++) {
        fw_item *it = &t->items[i];
        if (it->type == FW_FILE && same_handle(&it->h, h.fsid, &h.fh) &&
            strcmp(it->owner, r->owner) == 0) {
            it->seen = true;
            return;
        }
    }
    add_item(t, r->owner, FW_FILE, fd, path, "");
}

/* Forgets the guarded files of r that no longer exist (deleted, or
 * replaced by a rename): the kernel dropped their marks with them. */
static void drop_stale(fw_table *t, fw_root *r)
{
    for (size_t i = t->nitems; i-- > 0;) {
        fw_item *it = &t->items[i];
        if (it->type != FW_FILE || strcmp(it->owner, r->owner) != 0)
            continue;
        int fd = open_by_handle_at(r->fd, &it->h.fh, O_PATH | O_CLOEXEC);
        struct stat st;
        bool gone = fd < 0 ? errno == ESTALE : fstat(fd, &st) == 0 && st.st_nlink == 0;
        if (fd >= 0)
            close(fd);
        if (gone)
            drop_item(t, i, -1);
    }
}

/* The permission side: the regular files of the list, and those directly
 * in a watched directory (not in a directory of programs). */
static void guard_path(fw_table *t, fw_root *r, const fp_entry *e, const char *path)
{
    if (e->kind == FP_BINDIR)
        return;
    int fd = open_in(r->fd, path);
    if (fd < 0)
        return;
    if (e->kind == FP_FILE) {
        guard_file(t, r, fd, path);
        close(fd);
        return;
    }
    char self[40];
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    int dfd = open(self, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d && dfd >= 0)
        close(dfd);
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        char child[PATH_MAX];
        if (snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= (int)sizeof(child))
            continue;
        int cfd = open_in(r->fd, child);
        if (cfd >= 0) {
            guard_file(t, r, cfd, child);
            close(cfd);
        }
    }
    if (d)
        closedir(d);
    close(fd);
}

/* ---- roots -------------------------------------------------------------- */

/* Brings r's marks in step with the list as it is now: what the list
 * still names is found again (and kept), what is new is added, and only
 * then is what nothing named any more removed, so that a path in both the
 * old and the new list is never left unwatched. */
static void rewatch(fw_table *t, fw_root *r)
{
    for (size_t i = 0; i < t->nitems; i++)
        if (strcmp(t->items[i].owner, r->owner) == 0)
            t->items[i].seen = false;
    each_entry(t, r, watch_path);
    if (r->guarded && t->perm_fd >= 0)
        each_entry(t, r, guard_path);
    for (size_t i = t->nitems; i-- > 0;)
        if (!t->items[i].seen && strcmp(t->items[i].owner, r->owner) == 0)
            drop_item(t, i, r->fd);
}

/* Whether lists a and b give group the same paths, in the same order. */
static bool same_share(const fw_gpath *a, size_t na, const fw_gpath *b, size_t nb,
                       const char *group)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < na && !applies(&a[i], group))
            i++;
        while (j < nb && !applies(&b[j], group))
            j++;
        if (i == na || j == nb)
            return i == na && j == nb;
        if (a[i].e.kind != b[j].e.kind || strcmp(a[i].e.path, b[j].e.path) != 0)
            return false;
        i++, j++;
    }
}

static int gpaths_copy(const fw_gpath *list, size_t n, fw_gpath **out)
{
    fw_gpath *g = n ? calloc(n, sizeof(*g)) : NULL;
    if (n && !g)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        g[i].group = strdup(list[i].group ? list[i].group : "");
        g[i].e.path = strdup(list[i].e.path);
        g[i].e.kind = list[i].e.kind;
        if (!g[i].group || !g[i].e.path) {
            gpaths_free(g, n);
            return -ENOMEM;
        }
    }
    *out = g;
    return 0;
}

int fw_set_group_paths(fw_table *t, const fw_gpath *list, size_t n)
{
    fw_gpath *g = NULL;
    int rc = gpaths_copy(list, n, &g);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&t->lock);
    fw_gpath *old = t->gpaths;
    size_t nold = t->ngpaths;
    t->gpaths = g;
    t->ngpaths = n;
    for (size_t i = 0; i < t->nroots; i++)
        if (!same_share(old, nold, g, n, t->roots[i].group))
            rewatch(t, &t->roots[i]);
    pthread_mutex_unlock(&t->lock);
    gpaths_free(old, nold);
    return 0;
}

int fw_root_add(fw_table *t, const char *owner, const char *group, const char *root)
{
    /* Not O_PATH: open_by_handle_at takes it as its mount descriptor. */
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    pthread_mutex_lock(&t->lock);
    fw_root *r = root_find(t, owner);
    if (r && strcmp(r->path, root) == 0) {
        /* A workload that changed group may change its share of the
         * policy's paths. */
        if (group && strcmp(r->group, group) != 0) {
            snprintf(r->group, sizeof(r->group), "%s", group);
            if (t->ngpaths)
                rewatch(t, r);
        }
        pthread_mutex_unlock(&t->lock);
        close(fd);
        return 0;
    }
    if (t->nroots == t->cap_roots) {
        size_t cap = t->cap_roots ? t->cap_roots * 2 : 16;
        fw_root *n = realloc(t->roots, cap * sizeof(*n));
        if (!n) {
            pthread_mutex_unlock(&t->lock);
            close(fd);
            return -ENOMEM;
        }
        t->roots = n;
        t->cap_roots = cap;
    }
    r = &t->roots[t->nroots++];
    memset(r, 0, sizeof(*r));
    snprintf(r->owner, sizeof(r->owner), "%s", owner);
    snprintf(r->group, sizeof(r->group), "%s", group ? group : "");
    snprintf(r->path, sizeof(r->path), "%s", root);
    if (sscanf(root, "/proc/%d/root", &r->pid) != 1)
        r->pid = 0;
    r->fd = fd;
    t->counts.roots = t->nroots;
    each_entry(t, r, watch_path);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

bool fw_root_has(fw_table *t, const char *owner, char *root, size_t size)
{
    pthread_mutex_lock(&t->lock);
    fw_root *r = root_find(t, owner);
    if (r && root)
        snprintf(root, size, "%s", r->path);
    pthread_mutex_unlock(&t->lock);
    return r != NULL;
}

static void unguard(fw_table *t, fw_root *r)
{
    for (size_t i = t->nitems; i-- > 0;)
        if (t->items[i].type == FW_FILE && strcmp(t->items[i].owner, r->owner) == 0)
            drop_item(t, i, r->fd);
    r->guarded = false;
}

int fw_guard(fw_table *t, const char *owner, bool on)
{
    pthread_mutex_lock(&t->lock);
    fw_root *r = root_find(t, owner);
    int rc = 0;
    if (!r)
        rc = -ENOENT;
    else if (t->perm_fd < 0)
        rc = on ? -ENOTSUP : 0;
    else if (on) {
        r->guarded = true;
        each_entry(t, r, guard_path);
    } else if (r->guarded) {
        unguard(t, r);
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void fw_reguard(fw_table *t)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->nroots && t->perm_fd >= 0; i++)
        if (t->roots[i].guarded) {
            drop_stale(t, &t->roots[i]);
            each_entry(t, &t->roots[i], guard_path);
        }
    pthread_mutex_unlock(&t->lock);
}

void fw_root_drop(fw_table *t, const char *owner)
{
    pthread_mutex_lock(&t->lock);
    fw_root *r = root_find(t, owner);
    if (r) {
        for (size_t i = t->nitems; i-- > 0;)
            if (strcmp(t->items[i].owner, owner) == 0)
                drop_item(t, i, r->fd);
        close(r->fd);
        *r = t->roots[--t->nroots];
        t->counts.roots = t->nroots;
    }
    pthread_mutex_unlock(&t->lock);
}

void fw_each_root(fw_table *t, void (*cb)(void *arg, const char *owner, bool guarded), void *arg)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->nroots; i++)
        cb(arg, t->roots[i].owner, t->roots[i].guarded);
    pthread_mutex_unlock(&t->lock);
}

/* ---- lookups ------------------------------------------------------------ */

int fw_lookup_dir(fw_table *t, const int32_t fsid[2], const void *handle, size_t hlen,
                  const char *name, char *path, size_t psize, fw_owner *owner)
{
    const struct file_handle *fh = handle;
    if (hlen < sizeof(*fh) || hlen < sizeof(*fh) + fh->handle_bytes)
        return -EINVAL;
    int rc = -ENOENT;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->nitems && rc; i++) {
        fw_item *it = &t->items[i];
        if (it->type != FW_NAME || !same_handle(&it->h, fsid, fh))
            continue;
        if (it->name[0] && strcmp(it->name, name) != 0)
            continue;
        bool root_dir = strcmp(it->path, "/") == 0;
        snprintf(path, psize, "%s/%s", root_dir ? "" : it->path, name);
        owner_of(t, it->owner, owner);
        rc = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int fw_lookup_file(fw_table *t, int fd, char *path, size_t psize, fw_owner *owner)
{
    struct stat st;
    fw_handle h;
    if (fstat(fd, &st) < 0)
        return -errno;
    bool has_handle = false;
    int rc = -ENOENT;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->nitems && rc; i++) {
        fw_item *it = &t->items[i];
        if (it->type != FW_FILE || it->dev != st.st_dev || it->ino != st.st_ino)
            continue;
        /* The number may be that of a deleted file's: the handle tells. */
        if (!has_handle && handle_of(fd, &h) < 0)
            break;
        has_handle = true;
        if (same_handle(&it->h, h.fsid, &h.fh)) {
            snprintf(path, psize, "%s", it->path);
            owner_of(t, it->owner, owner);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void fw_counts_get(fw_table *t, fw_counts *out)
{
    pthread_mutex_lock(&t->lock);
    *out = t->counts;
    out->guarded = 0;
    for (size_t i = 0; i < t->nroots; i++)
        out->guarded += t->roots[i].guarded;
    pthread_mutex_unlock(&t->lock);
}
