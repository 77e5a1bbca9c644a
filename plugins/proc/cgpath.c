/* Cgroup paths by cgroup id; see cgpath.h. */
#include "cgpath.h"

#include <dirent.h>
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
    *out = c;
    return 0;
}

void cgpath_free(cgpath *c)
{
    free(c);
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
        rel[len] = '\0';
    }
    closedir(d);
    return rc;
}

int cgpath_find(cgpath *c, uint64_t id, char *out, size_t size)
{
    if (!id)
        return -ENOENT;
    size_t s = (id ^ (id >> 8)) % SLOTS;
    if (c->slot[s].id == id) {
        if (strlen(c->slot[s].path) >= size)
            return -ENAMETOOLONG;
        snprintf(out, size, "%s", c->slot[s].path);
        return 0;
    }
    int dfd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    char rel[PATH_MAX_CG] = "";
    struct stat st;
    int rc;
    if (fstat(dfd, &st) == 0 && (uint64_t)st.st_ino == id) {
        close(dfd);
        snprintf(rel, sizeof(rel), "/");
        rc = 0;
    } else {
        rc = search(dfd, id, rel, 0, sizeof(rel), 0);
    }
    if (rc < 0)
        return rc;
    c->slot[s].id = id;
    snprintf(c->slot[s].path, sizeof(c->slot[s].path), "%s", rel);
    if (strlen(rel) >= size)
        return -ENAMETOOLONG;
    snprintf(out, size, "%s", rel);
    return 0;
}
