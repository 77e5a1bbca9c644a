/* The pending open of a thread; see fsyscall.h. */
#include "fsyscall.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int fs_parse_syscall(const char *line, fs_call *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(line, "running", 7) == 0) {
        out->nr = -1;
        out->running = true;
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

/* How long to wait before reading a running thread's line again: the first
 * few times only the rest of this time slice, then a sleep, doubling up to
 * 1 ms (about 50 ms in all). A yield is not enough on its own: a permission
 * thread runs at a higher priority than the opener it preempted on its CPU,
 * and the scheduler may give the CPU straight back to the yielding thread. */
static void wait_for_sleep(int try)
{
    if (try < 8) {
        sched_yield();
        return;
    }
    long ns = 20000L << (try < 14 ? try - 8 : 6);
    struct timespec ts = {0, ns < 1000000 ? ns : 1000000};
    nanosleep(&ts, NULL);
}

/* The pending system call of the thread whose syscall file is fd, read
 * again while it is running. */
static int read_call(int fd, fs_call *c, unsigned long *waits)
{
    char line[512];
    for (int i = 0; i < FS_RUNNING_TRIES; i++) {
        ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
        if (n <= 0)
            return n < 0 ? -errno : -ESRCH;
        line[n] = '\0';
        int rc = fs_parse_syscall(line, c);
        if (rc < 0 || !c->running)
            return rc;
        wait_for_sleep(i); /* it is about to sleep in the permission check */
        (*waits)++;
    }
    return 0; /* still running: nr -1, "cannot tell" */
}

static int open_syscall(const char *proc_root, pid_t tid)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/%d/syscall", proc_root, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : errno == ENOENT ? -ESRCH : -errno;
}

static int writes_of(pid_t tid, const fs_call *c)
{
    unsigned long flags;
    int rc = fs_call_flags(tid, c, &flags);
    if (rc == -ENOSYS)
        return FS_CANNOT_TELL;
    return rc < 0 ? rc : fs_flags_write(flags);
}

void fs_reader_init(fs_reader *r, const char *proc_root)
{
    memset(r, 0, sizeof(*r));
    r->proc_root = proc_root;
    for (size_t i = 0; i < FS_READER_SLOTS; i++)
        r->slot[i].fd = -1;
}

void fs_reader_close(fs_reader *r)
{
    for (size_t i = 0; i < FS_READER_SLOTS; i++)
        if (r->slot[i].fd >= 0)
            close(r->slot[i].fd);
    fs_reader_init(r, r->proc_root);
}

int fs_reader_writes(fs_reader *r, pid_t tid)
{
    fs_call c;
    for (size_t i = 0; i < FS_READER_SLOTS; i++) {
        if (r->slot[i].fd < 0 || r->slot[i].tid != tid)
            continue;
        if (read_call(r->slot[i].fd, &c, &r->waits) == 0)
            return writes_of(tid, &c);
        close(r->slot[i].fd); /* an earlier thread with this number */
        r->slot[i].fd = -1;
    }
    int fd = open_syscall(r->proc_root, tid);
    if (fd < 0)
        return fd;
    int rc = read_call(fd, &c, &r->waits);
    if (rc < 0) {
        close(fd); /* gone, or unreadable: nothing worth keeping */
        return rc;
    }
    unsigned k = r->next++ % FS_READER_SLOTS;
    if (r->slot[k].fd >= 0)
        close(r->slot[k].fd);
    r->slot[k].tid = tid;
    r->slot[k].fd = fd;
    return writes_of(tid, &c);
}

int fs_open_writes(const char *proc_root, pid_t tid)
{
    fs_reader r;
    fs_reader_init(&r, proc_root);
    int rc = fs_reader_writes(&r, tid);
    fs_reader_close(&r);
    return rc;
}
