/*
 * Confinement of every file access of the checks to their root directory.
 *
 * The kernel does the resolving (openat2 with RESOLVE_IN_ROOT): "..", an
 * absolute symlink and "/" all stay inside the root, as they would for a
 * process chrooted there, and magic links (/proc/<pid>/root, fd links) are
 * refused so that a container's /proc cannot lead back to the host. Doing
 * it in the kernel avoids the races of resolving symlinks by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cis_int.h"

int cis_open_root(const char *root)
{
    int fd = open(root && *root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cis_open(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    /* An empty path would open the root itself, which no check means. */
    if (!path || !*path)
        return -EINVAL;
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

static int read_fd(int fd, size_t max, char **out, size_t *len);

int cis_read(int rootfd, const char *path, size_t max, char **out, size_t *len)
{
    int fd = cis_open(rootfd, path, O_RDONLY | O_NONBLOCK);
    return fd < 0 ? fd : read_fd(fd, max, out, len);
}

int cis_read_path(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    return fd < 0 ? -errno : read_fd(fd, max, out, len);
}

/* Reads and closes fd. */
static int read_fd(int fd, size_t max, char **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        /* A FIFO or device could block or never end: only regular files
         * (which include the size-less files of /proc and /sys) are read. */
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0 && n < max) {
        if (n == cap) {
            size_t ncap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb, cap = ncap;
        }
        /* Never past max, even within the first buffer. */
        ssize_t r = read(fd, buf + n, (cap < max ? cap : max) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = -errno;
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int cis_read_at(int fd, void *buf, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        done += (size_t)r;
    }
    return 0;
}
