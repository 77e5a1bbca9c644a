/*
 * Whether a blocked open asks for writing. A fanotify permission event says
 * that a file is being opened, not how: the flags are read from the opener's
 * pending system call (/proc/<tid>/syscall), which is stable while the
 * kernel holds the thread in the permission check.
 */
#ifndef VG_FILE_FSYSCALL_H
#define VG_FILE_FSYSCALL_H

#include <stdbool.h>
#include <sys/types.h>

/* The pending system call as /proc/<tid>/syscall shows it. */
typedef struct fs_call {
    long nr;      /* system call number; -1 when not in one */
    bool running; /* "running": the thread was on a CPU, nothing to read */
    unsigned long args[6];
} fs_call;

/* Parses a /proc/<tid>/syscall line ("nr a0 .. a5 sp pc", "running" or
 * "-1 sp pc"). 0, or -EINVAL for anything else; "running" and "-1" give
 * nr = -1, "running" also sets running. */
int fs_parse_syscall(const char *line, fs_call *out);

/* Whether open flags write or may write the file: an access mode other than
 * O_RDONLY, or O_TRUNC, O_CREAT or O_APPEND. */
bool fs_flags_write(unsigned long flags);

/* The open flags of call c of thread tid: 0 and *flags set (an exec,
 * execve or execveat, reads: O_RDONLY); -ENOSYS when c is none of the opens
 * of this architecture (open, openat, creat, openat2, open_by_handle_at)
 * nor an exec. openat2's struct open_how is read from the thread's memory
 * with process_vm_readv. */
int fs_call_flags(pid_t tid, const fs_call *c, unsigned long *flags);

/* What fs_open_writes answers when it cannot tell: the file is opened
 * outside any system call the reader knows (an io_uring request run by
 * io_uring_enter or by an io-wq worker, which is in no system call at all,
 * acct(2), swapon(2), ...). The caller treats it as a write. */
#define FS_CANNOT_TELL 2

/* Reads /proc/<tid>/syscall under proc_root ("/proc") and returns whether
 * the pending open writes: 1 yes, 0 no, FS_CANNOT_TELL, or a negative errno
 * (-ESRCH: the thread is gone, -EACCES: not allowed to read it).
 *
 * An opener is briefly still running after its event is queued (it has
 * woken us and not yet gone to sleep waiting for the answer), and the
 * kernel then shows "running" instead of its registers: the line is read
 * again until the thread sleeps, FS_RUNNING_TRIES times at most (waiting a
 * little longer each time, about 50 ms in all). */
#define FS_RUNNING_TRIES 64

/* A reader that keeps the syscall files of the last few threads open:
 * a program that opens guarded files in a loop (getpwnam per file in tar)
 * is read with one pread instead of an open, a read and a close (about a
 * third of the cost). An open file stays bound to its thread: once the
 * thread is gone it reads nothing, even if a new thread gets the number,
 * and is opened again. One per thread; not thread-safe. */
#define FS_READER_SLOTS 8
typedef struct fs_reader {
    const char *proc_root;
    struct {
        pid_t tid;
        int fd; /* -1: empty */
    } slot[FS_READER_SLOTS];
    unsigned next;       /* the slot replaced next */
    unsigned long waits; /* times a thread was still running (see above) */
} fs_reader;

void fs_reader_init(fs_reader *r, const char *proc_root);
void fs_reader_close(fs_reader *r);
/* fs_open_writes through r. */
int fs_reader_writes(fs_reader *r, pid_t tid);
int fs_open_writes(const char *proc_root, pid_t tid);

#endif
