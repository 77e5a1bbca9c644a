/*
 * The fanotify permission engine shared by the proc plugin (FAN_OPEN_EXEC_PERM
 * on mounts: may this binary run?) and the file plugin (FAN_OPEN_PERM on the
 * inodes of guarded files: may this file be opened for writing?).
 *
 * Permission threads read events and, for each, ask decide() (which must
 * answer from memory, never block) and write the answer to the kernel at
 * once; only then do they call after() for events and logs. Whatever goes
 * wrong inside (decide() fails, the path cannot be read), the answer is the
 * configured fail verdict, and it is always written: a process the kernel
 * holds is never left waiting on the daemon. The daemon's own process is
 * always allowed without asking. Closing the engine closes the fanotify
 * descriptor, upon which the kernel allows everything still pending.
 *
 * There is one permission thread per CPU the daemon may use (at most
 * max_threads), each pinned to its CPU. The opener sleeps until its answer
 * comes; answered by a thread on another CPU, that is two cross-CPU
 * wake-ups, which in a virtual machine are exits to the hypervisor (45 of
 * the 56 us an open cost on the 2-core test VM). Every event wakes every
 * thread (the group's wait queue is not exclusive); the one on the opener's
 * CPU runs as soon as the opener sleeps and usually takes the event, the
 * others find nothing and sleep again. decide() and after() therefore run
 * on several threads at once: state they keep between the two belongs in
 * the per-thread context (fan_ops.ctx_size), anything else must be
 * thread-safe.
 */
#ifndef VG_FANOTIFY_ENGINE_H
#define VG_FANOTIFY_ENGINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum fan_verdict { FAN_VERDICT_ALLOW = 0, FAN_VERDICT_DENY = 1 };

typedef struct fan_request {
    pid_t pid;           /* the process that opens or executes (its thread
                            with fan_engine_opts.report_tid) */
    uint64_t mask;       /* FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM, ... */
    int fd;              /* the file; valid only during decide() and after() */
    int64_t recv_ns;     /* CLOCK_MONOTONIC when the event was read */
    void *ctx;           /* the thread's context (fan_ops.ctx_size bytes) */
    char path[PATH_MAX]; /* the file's path as the daemon sees it ("" if
                            unknown or not resolved: opts.resolve_path) */
} fan_request;

typedef struct fan_ops {
    /* A permission thread. Returns a fan_verdict, or a negative errno to
     * apply the fail verdict. Must not block. */
    int (*decide)(void *arg, fan_request *req);
    /* The same thread, after the answer was written; answer_ns is the time
     * from reading the event to having its answer (taken just before the
     * write, which may let the woken process run first). May be NULL. */
    void (*after)(void *arg, const fan_request *req, int verdict, int64_t answer_ns);
    /* Bytes of context each permission thread has (zeroed when it starts),
     * handed to decide() and after() as req->ctx; ctx_end (may be NULL) is
     * called with it when the thread ends. */
    size_t ctx_size;
    void (*ctx_end)(void *arg, void *ctx);
    void *arg;
} fan_ops;

typedef struct fan_engine_opts {
    int fail_verdict;   /* applied when decide() errs */
    bool report_tid;    /* req->pid is the thread (FAN_REPORT_TID) */
    bool resolve_path;  /* fill req->path (a readlink per event) */
    size_t max_threads; /* 0: FAN_THREADS_DEFAULT */
    const char *name;   /* the threads' name (15 bytes at most); NULL: "fan-perm" */
} fan_engine_opts;

#define FAN_THREADS_DEFAULT 16
#define FAN_THREADS_MAX 256

typedef struct fan_stats {
    uint64_t events, denied, failed; /* failed: answered with the fail verdict */
    uint64_t queue_overflows;
    uint64_t threads; /* permission threads running */
} fan_stats;

typedef struct fan_engine fan_engine;

/* Creates the fanotify group (needs CAP_SYS_ADMIN). 0, -EPERM, -ENOSYS /
 * -EINVAL (kernel without fanotify or permission events), -ENOMEM. */
int fan_engine_new(const fan_ops *ops, const fan_engine_opts *opts, fan_engine **out);

/* Starts the permission threads. */
int fan_engine_start(fan_engine *e);

/* Adds or removes permission events `mask` on the mount (or, with
 * filesystem, the whole filesystem) that `path` is on; for a container,
 * path is "/proc/<pid>/root". 0 or a negative errno. Any thread. */
int fan_engine_mark(fan_engine *e, const char *path, uint64_t mask, bool filesystem);
int fan_engine_unmark(fan_engine *e, const char *path, uint64_t mask, bool filesystem);

/* The group's descriptor, for inode marks made by the caller
 * (fanotify_mark with FAN_MARK_ADD on a file). */
int fan_engine_fd(const fan_engine *e);

void fan_engine_stats(fan_engine *e, fan_stats *out);

/* Stops the threads and closes the group. NULL is fine. */
void fan_engine_free(fan_engine *e);

#endif
