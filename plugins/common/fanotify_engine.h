/*
 * The fanotify permission engine shared by the proc plugin (FAN_OPEN_EXEC_PERM:
 * may this binary run?) and the file plugin (FAN_OPEN_PERM: may this file be
 * opened for writing?).
 *
 * One thread reads permission events and, for each, asks decide() (which
 * must answer from memory, never block) and writes the answer to the kernel
 * at once; only then does it call after() for events and logs. Whatever goes
 * wrong inside (decide() fails, the path cannot be read), the answer is the
 * configured fail verdict, and it is always written: a process the kernel
 * holds is never left waiting on the daemon. The daemon's own process is
 * always allowed without asking. Closing the engine closes the fanotify
 * descriptor, upon which the kernel allows everything still pending.
 */
#ifndef VG_FANOTIFY_ENGINE_H
#define VG_FANOTIFY_ENGINE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum fan_verdict { FAN_VERDICT_ALLOW = 0, FAN_VERDICT_DENY = 1 };

typedef struct fan_request {
    pid_t pid;           /* the process that opens or executes */
    uint64_t mask;       /* FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM, ... */
    int fd;              /* the file; valid only during decide() and after() */
    int64_t recv_ns;     /* CLOCK_MONOTONIC when the event was read */
    char path[PATH_MAX]; /* the file's path as the daemon sees it ("" if unknown) */
} fan_request;

typedef struct fan_ops {
    /* Engine thread. Returns a fan_verdict, or a negative errno to apply the
     * fail verdict. Must not block. */
    int (*decide)(void *arg, fan_request *req);
    /* Engine thread, after the answer was written; answer_ns is the time
     * from reading the event to handing its answer to the kernel (taken
     * just before the write, which may let the woken process run first).
     * May be NULL. */
    void (*after)(void *arg, const fan_request *req, int verdict, int64_t answer_ns);
    void *arg;
} fan_ops;

typedef struct fan_stats {
    uint64_t events, denied, failed; /* failed: answered with the fail verdict */
    uint64_t queue_overflows;
} fan_stats;

typedef struct fan_engine fan_engine;

/* Creates the fanotify group (needs CAP_SYS_ADMIN). fail_verdict is applied
 * when decide() errs. 0, -EPERM, -ENOSYS / -EINVAL (kernel without
 * fanotify or permission events), -ENOMEM. */
int fan_engine_new(const fan_ops *ops, int fail_verdict, fan_engine **out);

/* Starts the reader thread. */
int fan_engine_start(fan_engine *e);

/* Adds or removes permission events `mask` on the mount (or, with
 * filesystem, the whole filesystem) that `path` is on; for a container,
 * path is "/proc/<pid>/root". 0 or a negative errno. Any thread. */
int fan_engine_mark(fan_engine *e, const char *path, uint64_t mask, bool filesystem);
int fan_engine_unmark(fan_engine *e, const char *path, uint64_t mask, bool filesystem);

void fan_engine_stats(fan_engine *e, fan_stats *out);

/* Stops the thread and closes the group. NULL is fine. */
void fan_engine_free(fan_engine *e);

#endif
