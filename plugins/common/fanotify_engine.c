/* The fanotify permission engine; see fanotify_engine.h. */
#include "fanotify_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct fan_engine {
    fan_ops ops;
    int fail_verdict;
    int fan_fd, stop_fd;
    pid_t self;
    pthread_t thread;
    bool running;
    _Atomic uint64_t events, denied, failed, overflows;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int fan_engine_new(const fan_ops *ops, int fail_verdict, fan_engine **out)
{
    fan_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    /* An unlimited queue: a bounded one would drop permission events, and a
     * dropped permission event is a process stuck until the group closes. */
    e->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_UNLIMITED_QUEUE |
                                  FAN_UNLIMITED_MARKS,
                              O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (e->fan_fd < 0) {
        int err = errno;
        free(e);
        return -err;
    }
    e->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (e->stop_fd < 0) {
        int err = errno;
        close(e->fan_fd);
        free(e);
        return -err;
    }
    e->ops = *ops;
    e->fail_verdict = fail_verdict;
    e->self = getpid();
    *out = e;
    return 0;
}

static void resolve_path(int fd, char *buf, size_t size)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
}

static int decide(fan_engine *e, fan_request *req)
{
    if (req->pid == e->self)
        return FAN_VERDICT_ALLOW; /* never block ourselves */
    resolve_path(req->fd, req->path, sizeof(req->path));
    int v = e->ops.decide(e->ops.arg, req);
    if (v != FAN_VERDICT_ALLOW && v != FAN_VERDICT_DENY) {
        atomic_fetch_add(&e->failed, 1);
        v = e->fail_verdict;
    }
    return v;
}

/* Writes the answer. A write can only fail if the group is broken; there is
 * nothing better to do than count it. */
static void answer(fan_engine *e, int fd, int verdict)
{
    struct fanotify_response r = {.fd = fd, .response = verdict == FAN_VERDICT_DENY ? FAN_DENY : FAN_ALLOW};
    if (write(e->fan_fd, &r, sizeof(r)) != sizeof(r))
        atomic_fetch_add(&e->failed, 1);
}

static void handle(fan_engine *e, const struct fanotify_event_metadata *m)
{
    if (m->mask & FAN_Q_OVERFLOW) {
        atomic_fetch_add(&e->overflows, 1);
        return;
    }
    if (m->fd < 0)
        return;
    fan_request req = {.pid = m->pid, .mask = m->mask, .fd = m->fd, .recv_ns = now_ns()};
    bool perm = m->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM | FAN_ACCESS_PERM);
    int verdict = FAN_VERDICT_ALLOW;
    int64_t answered = 0;
    if (perm) {
        verdict = decide(e, &req);
        /* Measured as the answer is handed over: the write wakes the waiting
         * process, which may run before write() returns here, and its run
         * time is not the answer's. */
        answered = now_ns() - req.recv_ns;
        answer(e, m->fd, verdict);
        atomic_fetch_add(&e->events, 1);
        if (verdict == FAN_VERDICT_DENY)
            atomic_fetch_add(&e->denied, 1);
    }
    if (e->ops.after)
        e->ops.after(e->ops.arg, &req, verdict, answered);
    close(m->fd);
}

static void *reader(void *arg)
{
    fan_engine *e = arg;
    /* Processes wait on this thread's answers: it goes before the daemon's
     * other threads when the CPUs are busy. Without CAP_SYS_NICE the
     * default priority stays, which is only slower. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
    char buf[16384] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
    struct pollfd fds[2] = {{.fd = e->fan_fd, .events = POLLIN}, {.fd = e->stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (!(fds[0].revents & POLLIN))
            continue;
        ssize_t n = read(e->fan_fd, buf, sizeof(buf));
        if (n <= 0)
            continue;
        const struct fanotify_event_metadata *m = (const void *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n))
            if (m->vers == FANOTIFY_METADATA_VERSION)
                handle(e, m);
    }
    return NULL;
}

int fan_engine_start(fan_engine *e)
{
    int rc = pthread_create(&e->thread, NULL, reader, e);
    if (rc != 0)
        return -rc;
    e->running = true;
    return 0;
}

static int mark(fan_engine *e, unsigned flags, const char *path, uint64_t mask, bool filesystem)
{
    flags |= filesystem ? FAN_MARK_FILESYSTEM : FAN_MARK_MOUNT;
    return fanotify_mark(e->fan_fd, flags, mask, AT_FDCWD, path) < 0 ? -errno : 0;
}

int fan_engine_mark(fan_engine *e, const char *path, uint64_t mask, bool filesystem)
{
    return mark(e, FAN_MARK_ADD, path, mask, filesystem);
}

int fan_engine_unmark(fan_engine *e, const char *path, uint64_t mask, bool filesystem)
{
    return mark(e, FAN_MARK_REMOVE, path, mask, filesystem);
}

void fan_engine_stats(fan_engine *e, fan_stats *out)
{
    out->events = atomic_load(&e->events);
    out->denied = atomic_load(&e->denied);
    out->failed = atomic_load(&e->failed);
    out->queue_overflows = atomic_load(&e->overflows);
}

void fan_engine_free(fan_engine *e)
{
    if (!e)
        return;
    if (e->running) {
        uint64_t one = 1;
        ssize_t w = write(e->stop_fd, &one, sizeof(one));
        (void)w;
        pthread_join(e->thread, NULL);
    }
    close(e->stop_fd);
    close(e->fan_fd); /* the kernel allows whatever is still pending */
    free(e);
}
