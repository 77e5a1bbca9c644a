/* Paths of open descriptors; see fdpath.h. */
#include "fdpath.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int fd_dir = -1; /* /proc/self/fd, or -1: readlink on the whole path */

static void open_dir(void)
{
    fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void vg_fd_path(int fd, char *buf, size_t size)
{
    char name[32];
    ssize_t n;
    pthread_once(&once, open_dir);
    if (fd_dir >= 0) {
        snprintf(name, sizeof(name), "%d", fd);
        n = readlinkat(fd_dir, name, buf, size - 1);
    } else {
        snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
        n = readlink(name, buf, size - 1);
    }
    buf[n > 0 ? n : 0] = '\0';
}
