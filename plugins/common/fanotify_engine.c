/* The fanotify permission engine; see fanotify_engine.h. */
#include "fanotify_engine.h"

#include "fdpath.h"
#include "monoclock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A permission thread. */
typedef struct fan_thread {
    fan_engine *e;
    int cpu; /* -1: any */
    pthread_t thread;
    bool running;
} fan_thread;

struct fan_engine {
    fan_ops ops;
    fan_engine_opts opts;
    int fan_fd, stop_fd;
    pid_t self;
    fan_thread *threads;
    size_t nthreads;
    _Atomic uint64_t events, denied, failed, overflows;
    atomic_bool stopping; /* set before stop_fd is written */
};

int fan_engine_new(const fan_ops *ops, const fan_engine_opts *opts, fan_engine **out)
{
    if (opts->max_threads > FAN_THREADS_MAX)
        return -EINVAL;
    fan_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    /* An unlimited queue: a bounded one would drop permission events, and a
     * dropped permission event is a process stuck until the group closes.
     * Non-blocking: the threads that lose the race for an event must get
     * back to poll(), where the stop descriptor reaches them. */
    unsigned flags = FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE |
                     FAN_UNLIMITED_MARKS | (opts->report_tid ? FAN_REPORT_TID : 0);
    e->fan_fd = fanotify_init(flags, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
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
    e->opts = *opts;
    if (!e->opts.max_threads)
        e->opts.max_threads = FAN_THREADS_DEFAULT;
    e->self = getpid();
    *out = e;
    return 0;
}

/* Whether pid (a thread with report_tid) is the daemon's: tgkill with no
 * signal only checks that the thread is in our thread group. */
static bool ours(fan_engine *e, pid_t pid)
{
    if (pid == e->self)
        return true;
    return e->opts.report_tid && syscall(SYS_tgkill, e->self, pid, 0) == 0;
}

static int decide(fan_engine *e, fan_request *req)
{
    if (ours(e, req->pid))
        return FAN_VERDICT_ALLOW; /* never block ourselves */
    if (e->opts.resolve_path)
        vg_fd_path(req->fd, req->path, sizeof(req->path));
    int v = e->ops.decide(e->ops.arg, req);
    if (v != FAN_VERDICT_ALLOW && v != FAN_VERDICT_DENY) {
        atomic_fetch_add(&e->failed, 1);
        v = e->opts.fail_verdict;
    }
    return v;
}

/* Writes the answer. A write can only fail if the group is broken; there is
 * nothing better to do than count it. */
static void answer(fan_engine *e, int fd, int verdict)
{
    struct fanotify_response r = {.fd = fd,
                                  .response = verdict == FAN_VERDICT_DENY ? FAN_DENY : FAN_ALLOW};
    if (write(e->fan_fd, &r, sizeof(r)) != sizeof(r))
        atomic_fetch_add(&e->failed, 1);
}

static void handle(fan_engine *e, fan_request *req, const struct fanotify_event_metadata *m)
{
    if (m->mask & FAN_Q_OVERFLOW) {
        atomic_fetch_add(&e->overflows, 1);
        return;
    }
    if (m->fd < 0)
        return;
    req->pid = m->pid;
    req->mask = m->mask;
    req->fd = m->fd;
    req->recv_ns = vg_mono_ns();
    req->path[0] = '\0';
    bool perm = m->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM | FAN_ACCESS_PERM);
    int verdict = FAN_VERDICT_ALLOW;
    int64_t answered = 0;
    if (perm) {
        verdict = decide(e, req);
        /* Measured as the answer is handed over: the write wakes the waiting
         * process, which may run before write() returns here, and its run
         * time is not the answer's. */
        answered = vg_mono_ns() - req->recv_ns;
        answer(e, m->fd, verdict);
        atomic_fetch_add(&e->events, 1);
        if (verdict == FAN_VERDICT_DENY)
            atomic_fetch_add(&e->denied, 1);
    }
    if (e->ops.after)
        e->ops.after(e->ops.arg, req, verdict, answered);
    close(m->fd);
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    /* Refused (a cpuset changed since): the thread runs anywhere, which is
     * only slower. */
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The threads wait for events in epoll sets of their own where the
 * fanotify descriptor is exclusive: an event wakes one thread, not every
 * one (with poll() each event woke them all, and all but one went back to
 * sleep on EAGAIN). The stop descriptor, which stays readable, reaches
 * them all. -1 when epoll cannot be had: poll() then. */
static int exclusive_wait_set(fan_engine *e)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -1;
    struct epoll_event fan = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = e->fan_fd};
    struct epoll_event stop = {.events = EPOLLIN, .data.fd = e->stop_fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, e->fan_fd, &fan) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, e->stop_fd, &stop) < 0) {
        close(ep);
        return -1;
    }
    return ep;
}

/* Waits until an event may be read; false when the thread must stop. */
static bool wait_ready(fan_engine *e, int ep)
{
    if (ep >= 0) {
        struct epoll_event ev[2];
        int n = epoll_wait(ep, ev, 2, -1);
        if (n < 0)
            return errno == EINTR;
        for (int i = 0; i < n; i++)
            if (ev[i].data.fd == e->stop_fd)
                return false;
        return true;
    }
    struct pollfd fds[2] = {{.fd = e->fan_fd, .events = POLLIN},
                            {.fd = e->stop_fd, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0)
        return errno == EINTR;
    return !fds[1].revents;
}

static void *reader(void *arg)
{
    fan_thread *t = arg;
    fan_engine *e = t->e;
    if (t->cpu >= 0)
        pin(t->cpu);
    /* Processes wait on these threads' answers: they go before the daemon's
     * other threads when the CPUs are busy. Without CAP_SYS_NICE the
     * default priority stays, which is only slower. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
    fan_request *req = calloc(1, sizeof(*req));
    void *ctx = e->ops.ctx_size ? calloc(1, e->ops.ctx_size) : NULL;
    if (!req || (e->ops.ctx_size && !ctx)) {
        /* The other threads answer; the engine works with fewer. */
        free(req);
        free(ctx);
        return NULL;
    }
    req->ctx = ctx;
    char buf[16384] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
    int ep = exclusive_wait_set(e);
    /* The flag, not only the stop descriptor: a thread kept busy by a
     * stream of events never gets back to poll(). */
    while (!atomic_load(&e->stopping)) {
        ssize_t n = read(e->fan_fd, buf, sizeof(buf));
        if (n > 0) {
            const struct fanotify_event_metadata *m = (const void *)buf;
            for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n))
                if (m->vers == FANOTIFY_METADATA_VERSION)
                    handle(e, req, m);
            continue;
        }
        if (!wait_ready(e, ep))
            break;
    }
    if (ep >= 0)
        close(ep);
    if (e->ops.ctx_end && ctx)
        e->ops.ctx_end(e->ops.arg, ctx);
    free(ctx);
    free(req);
    return NULL;
}

/* The CPUs the threads run on: those the daemon may use, at most max. */
static size_t thread_cpus(int *cpus, size_t max)
{
    cpu_set_t set;
    size_t n = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && n < max; c++)
            if (CPU_ISSET(c, &set))
                cpus[n++] = c;
    if (n == 0)
        cpus[n++] = -1;
    return n;
}

int fan_engine_start(fan_engine *e)
{
    int cpus[FAN_THREADS_MAX];
    size_t n = thread_cpus(cpus, e->opts.max_threads);
    e->threads = calloc(n, sizeof(*e->threads));
    if (!e->threads)
        return -ENOMEM;
    e->nthreads = n;
    for (size_t i = 0; i < n; i++) {
        fan_thread *t = &e->threads[i];
        *t = (fan_thread){.e = e, .cpu = cpus[i]};
        int rc = pthread_create(&t->thread, NULL, reader, t);
        if (rc != 0)
            return i ? 0 : -rc; /* fewer threads only cost speed */
        pthread_setname_np(t->thread, e->opts.name ? e->opts.name : "fan-perm");
        t->running = true;
    }
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

int fan_engine_fd(const fan_engine *e)
{
    return e->fan_fd;
}

void fan_engine_stats(fan_engine *e, fan_stats *out)
{
    out->events = atomic_load(&e->events);
    out->denied = atomic_load(&e->denied);
    out->failed = atomic_load(&e->failed);
    out->queue_overflows = atomic_load(&e->overflows);
    out->threads = 0;
    for (size_t i = 0; i < e->nthreads; i++)
        out->threads += e->threads[i].running;
}

void fan_engine_free(fan_engine *e)
{
    if (!e)
        return;
    atomic_store(&e->stopping, true);
    uint64_t one = 1;
    ssize_t w = write(e->stop_fd, &one, sizeof(one));
    (void)w;
    for (size_t i = 0; i < e->nthreads; i++)
        if (e->threads[i].running)
            pthread_join(e->threads[i].thread, NULL);
    free(e->threads);
    close(e->stop_fd);
    close(e->fan_fd); /* the kernel allows whatever is still pending */
    free(e);
}
