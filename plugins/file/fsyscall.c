/* The pending open of a thread; see fsyscall.h. */
#include "fsyscall.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int fs_parse_syscall(const char *line, fs_call *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(line, "running", 7) == 0) {
        out->nr = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long nr = strtol(line, &end, 10);
    if (end == line || errno)
        return -EINVAL;
    out->nr = nr;
    if (nr < 0)
        return 0;
    /* Six arguments, then the stack and program counters, all in hex. */
    for (int i = 0; i < 6; i++) {
        const char *s = end;
        while (*s == ' ')
            s++;
        if (strncmp(s, "0x", 2) != 0)
            return -EINVAL;
        errno = 0;
        out->args[i] = strtoul(s, &end, 16);
        if (end == s || errno)
            return -EINVAL;
    }
    return 0;
}

bool fs_flags_write(unsigned long flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_CREAT | O_APPEND));
}

#ifndef SYS_openat2
#define SYS_openat2 437 /* the same on every architecture since 5.6 */
#endif

/* openat2(dirfd, path, how, size): the flags are the first field of how,
 * in the caller's memory. */
static int openat2_flags(pid_t tid, unsigned long how, unsigned long *flags)
{
    uint64_t f = 0;
    struct iovec local = {.iov_base = &f, .iov_len = sizeof(f)};
    struct iovec remote = {.iov_base = (void *)how, .iov_len = sizeof(f)};
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n != (ssize_t)sizeof(f))
        return n < 0 ? -errno : -EIO;
    *flags = (unsigned long)f;
    return 0;
}

int fs_call_flags(pid_t tid, const fs_call *c, unsigned long *flags)
{
    switch (c->nr) {
#ifdef SYS_open
    case SYS_open: /* open(path, flags, mode) */
        *flags = c->args[1];
        return 0;
#endif
#ifdef SYS_creat
    case SYS_creat: /* creat(path, mode): O_CREAT|O_WRONLY|O_TRUNC */
        *flags = O_CREAT | O_WRONLY | O_TRUNC;
        return 0;
#endif
    case SYS_openat:            /* openat(dirfd, path, flags, mode) */
    case SYS_open_by_handle_at: /* open_by_handle_at(mount_fd, handle, flags) */
        *flags = c->args[2];
        return 0;
    case SYS_openat2:
        return openat2_flags(tid, c->args[2], flags);
    case SYS_execve:
    case SYS_execveat:
        *flags = O_RDONLY;
        return 0;
    default:
        return -ENOSYS;
    }
}

int fs_open_writes(const char *proc_root, pid_t tid)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "%s/%d/syscall", proc_root, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    ssize_t n = read(fd, line, sizeof(line) - 1);
    int err = errno;
    close(fd);
    if (n <= 0)
        return n < 0 ? -err : -ESRCH;
    line[n] = '\0';
    fs_call c;
    unsigned long flags;
    int rc = fs_parse_syscall(line, &c);
    if (rc < 0)
        return rc;
    rc = fs_call_flags(tid, &c, &flags);
    if (rc == -ENOSYS)
        return FS_CANNOT_TELL;
    return rc < 0 ? rc : fs_flags_write(flags);
}
