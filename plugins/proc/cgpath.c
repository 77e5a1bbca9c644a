/* Cgroup paths by cgroup id; see cgpath.h. */
#include "cgpath.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOTS 256
#define DEPTH_MAX 16 /* runtimes nest a few levels (kubepods/burstable/pod/ctr) */
#define PATH_MAX_CG 512

struct cgpath {
    char root[PATH_MAX_CG]; /* where cgroup2 is mounted */
    int root_fd;            /* open on it, for open_by_handle_at */
    bool by_handle;         /* open_by_handle_at works here */
    struct {
        uint64_t id;
        char path[PATH_MAX_CG];
    } slot[SLOTS];
};

/* The mount point of the first cgroup2 mount of a mountinfo file: the
 * fifth field of a line whose file system type (after " - ") is cgroup2. */
static int cgroup2_root(const char *mountinfo, char *out, size_t size)
{
    FILE *f = fopen(mountinfo, "re");
    if (!f)
        return -errno;
    char line[4096];
    int rc = -ENOENT;
    while (rc < 0 && fgets(line, sizeof(line), f)) {
        const char *sep = strstr(line, " - ");
        if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
            continue;
        char mnt[PATH_MAX_CG];
        if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 && strlen(mnt) < size) {
            snprintf(out, size, "%s", mnt);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

int cgpath_new(const char *mountinfo, cgpath **out)
{
    cgpath *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int rc = cgroup2_root(mountinfo, c->root, sizeof(c->root));
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->root_fd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    c->by_handle = c->root_fd >= 0;
    *out = c;
    return 0;
}

void cgpath_free(cgpath *c)
{
    if (c && c->root_fd >= 0)
        close(c->root_fd);
    free(c);
}

/* The kernel's way: a cgroup's id is its kernfs file handle
 * (FILEID_KERNFS, 8 bytes), which open_by_handle_at() opens directly, and
 * the descriptor's link names the directory. Needs CAP_DAC_READ_SEARCH
 * (the daemon keeps it: docs/hardening.md). -ENOENT when no cgroup has the
 * id; other errors when handles do not work here (then the walk). */
#define FILEID_KERNFS 0xfe
static int by_handle(cgpath *c, uint64_t id, char *rel, size_t size)
{
    struct {
        struct file_handle fh;
        uint64_t id;
    } h = {.fh = {.handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS}};
    memcpy(h.fh.f_handle, &id, sizeof(id));
    int fd = open_by_handle_at(c->root_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ESTALE ? -ENOENT : -errno;
    char link[64], path[PATH_MAX_CG + 64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    close(fd);
    if (n < 0)
        return -errno;
    path[n] = '\0';
    size_t rl = strlen(c->root);
    if (strncmp(path, c->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
        return -EXDEV; /* outside the mount as this process sees it */
    const char *p = path[rl] ? path + rl : "/";
    if (strlen(p) >= size)
        return -ENAMETOOLONG;
    snprintf(rel, size, "%s", p);
    return 0;
}

/* Depth-first search below the directory dfd (whose path relative to the
 * root is in rel, of length len) for a directory whose inode is id. The
 * directory entries' d_ino is the kernfs node id, so no stat is needed.
 * Takes dfd. */
static int search(int dfd, uint64_t id, char *rel, size_t len, size_t size, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -ENOENT;
    }
    int rc = -ENOENT;
    struct dirent *e;
    while (rc == -ENOENT && (e = readdir(d))) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        size_t n = strlen(e->d_name);
        if (len + 1 + n >= size) {
            rc = -ENAMETOOLONG;
            break;
        }
        rel[len] = '/';
        memcpy(rel + len + 1, e->d_name, n + 1);
        if ((uint64_t)e->d_ino == id) {
            rc = 0;
            break;
        }
        int sub = depth < DEPTH_MAX
                      ? openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                      : -1;
        if (sub >= 0)
            rc = search(sub, id, rel, len + 1 + n, size, depth + 1);
        if (rc == -ENAMETOOLONG)
            rc = -ENOENT; /* a long branch elsewhere: not this one */
        if (rc < 0)
            rel[len] = '\0'; /* not below this one: the next */
    }
    closedir(d);
    return rc;
}

const char *cgpath_mount(const cgpath *c)
{
    return c->root;
}

void cgpath_walk_only(cgpath *c)
{
    c->by_handle = false;
}

/* The walk: the root itself, or a search below it. */
static int walk(cgpath *c, uint64_t id, char *rel, size_t size)
{
    int dfd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    struct stat st;
    if (fstat(dfd, &st) == 0 && (uint64_t)st.st_ino == id) {
        close(dfd);
        snprintf(rel, size, "/");
        return 0;
    }
    rel[0] = '\0';
    return search(dfd, id, rel, 0, size, 0);
}

int cgpath_find(cgpath *c, uint64_t id, char *out, size_t size)
{
    if (!id)
        return -ENOENT;
    size_t s = (id ^ (id >> 8)) % SLOTS;
    if (c->slot[s].id != id) {
        char rel[PATH_MAX_CG];
        int rc = c->by_handle ? by_handle(c, id, rel, sizeof(rel)) : -ENOTSUP;
        if (rc < 0 && rc != -ENOENT && rc != -ENAMETOOLONG) {
            c->by_handle = false; /* handles do not work here: walk from now on */
            rc = walk(c, id, rel, sizeof(rel));
        }
        if (rc < 0)
            return rc;
        c->slot[s].id = id;
        snprintf(c->slot[s].path, sizeof(c->slot[s].path), "%s", rel);
    }
    if (strlen(c->slot[s].path) >= size)
        return -ENAMETOOLONG;
    snprintf(out, size, "%s", c->slot[s].path);
    return 0;
}
