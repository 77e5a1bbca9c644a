/*
 * Walking a directory tree (a checkout, or a container's root through
 * /proc/PID/root) and reading its files.
 *
 * Every step is an openat() of one name relative to the directory already
 * open, with O_NOFOLLOW, and fstatat() with AT_SYMLINK_NOFOLLOW: a symlink
 * is never followed, so no link inside the tree (an absolute one in a
 * container's root, or "../../etc/shadow") can lead the scan out of the
 * root. That is stricter than openat2()'s RESOLVE_IN_ROOT (which would
 * follow in-root links) and needs no new kernel. Files are checked to be
 * regular with fstat() on the open descriptor, so a file swapped for a fifo
 * between the listing and the open cannot block the scan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "secrets_int.h"

#define PROC_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define CGROUP2_MAGIC 0x63677270
#define CGROUP_MAGIC 0x27e0eb
#define DEVPTS_MAGIC 0x1cd1
#define DEBUGFS_MAGIC 0x64626720
#define TRACEFS_MAGIC 0x74726163

int vg__sec_read_fd(vg_sec_scanner *s, int fd, const struct stat *known, size_t *len)
{
    struct stat st;
    if (!known && fstat(fd, &st) < 0)
        return -errno;
    if (!known)
        known = &st;
    if ((uint64_t)known->st_size > s->lim.max_file_bytes)
        return -EFBIG;
    size_t size = (size_t)known->st_size, want = size + 1, n = 0;
    if (want > s->bufcap) {
        char *nb = realloc(s->buf, want);
        if (!nb)
            return -ENOMEM;
        s->buf = nb;
        s->bufcap = want;
    }
    /* Read to EOF, not just st_size: the file may have grown, and the
     * limit still holds. A read that stops short of the buffer exactly at
     * st_size is the end (a regular file's read is short only there), so
     * the usual file costs one read, not a second one returning 0. */
    for (;;) {
        if (n == s->bufcap) {
            if (n >= s->lim.max_file_bytes)
                return -EFBIG;
            size_t cap = s->bufcap * 2;
            char *nb = realloc(s->buf, cap);
            if (!nb)
                return -ENOMEM;
            s->buf = nb;
            s->bufcap = cap;
        }
        ssize_t r = read(fd, s->buf + n, s->bufcap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (known->st_size > 0 && n == size && n < s->bufcap)
            break;
    }
    if (n > s->lim.max_file_bytes)
        return -EFBIG;
    *len = n;
    return 0;
}

/* The source of a large file: reads from *arg, an fd. */
static long read_fd_cb(void *arg, char *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(*(int *)arg, buf, n);
        if (r >= 0 || errno != EINTR)
            return r < 0 ? -errno : (long)r;
    }
}

/* Scans the regular file `name` in directory dfd; path is for reports.
 * The type is checked on the open descriptor, whatever the listing said. */
static int scan_at(vg_sec_scanner *s, int dfd, const char *name, const char *path)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP)
            s->st.skipped_symlink++;
        else
            s->st.skipped_other++;
        return 0;
    }
    struct stat st;
    size_t len = 0;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (rc == 0 && !S_ISREG(st.st_mode))
        rc = -EINVAL;
    if (rc == 0 && (uint64_t)st.st_size > VG__SEC_SEGMENT &&
        (uint64_t)st.st_size <= s->lim.max_file_bytes) {
        vg__sec_ctx ctx = {.path = path, .kind = VG_SEC_KIND_FILE};
        rc = vg__sec_scan_stream(s, &ctx, read_fd_cb, &fd, NULL, 0);
        close(fd);
        if (rc == -ECANCELED)
            return rc;
        if (rc < 0)
            s->st.skipped_other++;
        return 0;
    }
    if (rc == 0)
        rc = vg__sec_read_fd(s, fd, &st, &len);
    close(fd);
    if (rc == -EFBIG) {
        s->st.skipped_large++;
        return 0;
    }
    if (rc < 0) {
        s->st.skipped_other++;
        return 0;
    }
    vg__sec_ctx ctx = {.path = path, .kind = VG_SEC_KIND_FILE};
    return vg__sec_scan_file_content(s, &ctx, s->buf, len);
}

static bool special_fs(int dfd)
{
    struct statfs sf;
    if (fstatfs(dfd, &sf) < 0)
        return true;
    switch ((unsigned long)sf.f_type) {
    case PROC_MAGIC:
    case SYSFS_MAGIC:
    case CGROUP_MAGIC:
    case CGROUP2_MAGIC:
    case DEVPTS_MAGIC:
    case DEBUGFS_MAGIC:
    case TRACEFS_MAGIC:
        return true;
    default:
        return false;
    }
}

static int walk(vg_sec_scanner *s, int dfd, const char *rel, unsigned depth);

/* The type of an entry: the one the listing gives (d_type), else
 * fstatat() without following. The listing's word is only used to choose
 * what to open: the open itself never follows a link, and a file's type
 * is checked again on its descriptor (scan_at), so an entry replaced
 * after the listing is still handled safely. Saves a system call per
 * file, a good part of the cost of a tree of small files. */
static mode_t entry_type(int dfd, const char *name, unsigned char dtype)
{
    switch (dtype) {
    case DT_REG:
        return S_IFREG;
    case DT_DIR:
        return S_IFDIR;
    case DT_LNK:
        return S_IFLNK;
    case DT_UNKNOWN:
        break;
    default:
        return S_IFIFO; /* devices, fifos, sockets: not scanned */
    }
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return st.st_mode & S_IFMT;
}

static int walk_entry(vg_sec_scanner *s, int dfd, const char *rel, const char *name,
                      unsigned char dtype, unsigned depth)
{
    char path[4096];
    int pl = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", name);
    if (pl < 0 || (size_t)pl >= sizeof(path)) {
        s->st.skipped_other++;
        return 0;
    }
    mode_t type = entry_type(dfd, name, dtype);
    if (S_ISLNK(type)) {
        s->st.skipped_symlink++;
        return 0;
    }
    if (S_ISREG(type))
        return scan_at(s, dfd, name, path);
    if (!S_ISDIR(type)) {
        s->st.skipped_other++;
        return 0;
    }
    if (depth + 1 >= s->lim.max_depth) {
        s->st.skipped_depth++;
        return 0;
    }
    int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
        s->st.skipped_other++;
        return 0;
    }
    return walk(s, sub, path, depth + 1); /* closes sub */
}

/* Scans the directory open at dfd (and closes it). */
static int walk(vg_sec_scanner *s, int dfd, const char *rel, unsigned depth)
{
    if (special_fs(dfd)) {
        close(dfd);
        return 0;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -errno;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (vg__sec_over_limit(s)) {
            rc = -ECANCELED;
            break;
        }
        rc = walk_entry(s, dirfd(d), rel, de->d_name, de->d_type, depth);
    }
    closedir(d);
    return rc;
}

int vg_sec_scan_dir(vg_sec_scanner *s, const char *root)
{
    int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    int rc = walk(s, dfd, "", 0);
    return rc == -ECANCELED ? 0 : rc;
}

int vg_sec_scan_file(vg_sec_scanner *s, const char *path)
{
    int rc = scan_at(s, AT_FDCWD, path, path);
    return rc == -ECANCELED ? 0 : rc;
}

/* An environment: NUL-separated VAR=value strings, scanned as lines. */
int vg_sec_scan_environ(vg_sec_scanner *s, int pid)
{
    char file[64], path[32];
    snprintf(file, sizeof(file), "/proc/%d/environ", pid);
    snprintf(path, sizeof(path), "pid:%d", pid);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    int rc = vg__sec_read_fd(s, fd, NULL, &len);
    close(fd);
    if (rc < 0)
        return rc;
    /* A child inherits its parent's environment: the same bytes are
     * scanned once per scanner. */
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s->buf[i]) * 1099511628211ull;
    for (unsigned i = 0; i < s->nenv && i < 64; i++)
        if (s->env_seen[i] == h)
            return 0;
    s->env_seen[s->nenv++ % 64] = h;
    for (size_t i = 0; i < len; i++)
        if (s->buf[i] == 0)
            s->buf[i] = '\n';
    vg__sec_ctx ctx = {.path = path, .kind = VG_SEC_KIND_ENV};
    rc = vg__sec_scan_content(s, &ctx, s->buf, len);
    return rc == -ECANCELED ? 0 : rc;
}

static bool is_tar(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char hdr[263];
    ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
    close(fd);
    return n == (ssize_t)sizeof(hdr) && !memcmp(hdr + 257, "ustar", 5);
}

int vg_sec_scan_path(vg_sec_scanner *s, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return vg_sec_scan_dir(s, path);
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (is_tar(path))
        return vg_sec_scan_image(s, path);
    return vg_sec_scan_file(s, path);
}
