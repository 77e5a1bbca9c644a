/*
 * The permission side: an open of a guarded file by a process of a workload
 * in protect mode waits for our answer. Reads are allowed; an open for
 * writing (read from the opener's pending system call, see fsyscall.h) is
 * allowed only when the policy allows the (path, program, "write") subject.
 * The answer is written first, whatever happens; the violation is
 * published after it.
 *
 * This is a group of its own rather than the shared fanotify engine's: the
 * engine marks mounts and filesystems, and a mount mark would send every
 * open in a protected container through the daemon. Inode marks on the few
 * guarded files keep everything else at the kernel's speed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "fsyscall.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct verdict {
    bool deny;
    bool report; /* a write was denied: publish a violation */
    char path[PATH_MAX];
    char program[PATH_MAX];
    vg_workload_view wv;
} verdict;

/* A thread of our own (the table walk, the store) is never held. */
static bool ours(file_plugin *p, pid_t tid)
{
    char task[64];
    snprintf(task, sizeof(task), "/proc/%d/task/%d", (int)p->self, (int)tid);
    return access(task, F_OK) == 0;
}

static void judge(file_plugin *p, fs_reader *calls, const struct fanotify_event_metadata *m,
                  verdict *v)
{
    pid_t tid = m->pid; /* FAN_REPORT_TID: the thread that opens */
    /* Reads are the common case (every getpwnam opens /etc/passwd) and
     * are answered from the system call alone, before anything else is
     * looked at. */
    int64_t t0 = now_ns();
    int writes = fs_reader_writes(calls, tid);
    atomic_fetch_add(&p->syscall_ns_sum, (uint64_t)(now_ns() - t0));
    if (writes == 0 || writes == -ESRCH)
        return; /* a read or an exec, or the opener is gone */
    fw_owner owner;
    if (ours(p, tid) || fw_lookup_file(p->watch, m->fd, v->path, sizeof(v->path), &owner) < 0)
        return;
    int rc = fp_workload_of(p, tid, &owner, &v->wv);
    if (rc == 1) {
        /* In the container of the file, which is in protect mode (its
         * files are guarded). */
        v->wv.mode = VG_MODE_PROTECT;
        rc = 0;
    }
    if (rc < 0) {
        /* Gone: nothing to protect. Not discovered yet: the fail verdict. */
        v->deny = rc != -ESRCH && p->fail_verdict;
        atomic_fetch_add(&p->perm_failed, rc != -ESRCH);
        return;
    }
    if (!v->wv.id[0] || v->wv.mode != VG_MODE_PROTECT)
        return;
    if (writes < 0) {
        atomic_fetch_add(&p->perm_failed, 1);
        v->deny = p->fail_verdict;
        return;
    }
    /* A write, or an open whose flags cannot be read (FS_CANNOT_TELL): the
     * policy must allow the program to write the file. */
    fp_program(tid, v->program, sizeof(v->program));
    if (!v->program[0]) /* "" would be read as "some program" */
        snprintf(v->program, sizeof(v->program), "?");
    const char *fields[] = {v->path, v->program, "write"};
    v->deny = p->api->decide(p->h, v->wv.group, VG_PLANE_FILE, fields) != VG_DECIDE_ALLOW;
    v->report = v->deny;
}

static void report(file_plugin *p, pid_t pid, const verdict *v, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    sb->size = 0;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    fp_kv_str(&pk, "action", "deny");
    fp_kv_str(&pk, "event_type", "file.access");
    fp_kv_int(&pk, "pid", pid);
    fp_kv_str(&pk, "path", v->path);
    fp_kv_str(&pk, "program", v->program);
    fp_kv_str(&pk, "access", "write");
    vg_event_in ev = {.type = p->t_violation,
                      .severity = VG_SEV_WARNING,
                      .workload = v->wv.id,
                      .group = v->wv.group,
                      .body = sb->data,
                      .body_len = sb->size};
    if (p->api->publish(p->h, &ev) < 0)
        atomic_fetch_add(&p->dropped, 1);
}

static void handle(file_plugin *p, fs_reader *calls, const struct fanotify_event_metadata *m,
                   msgpack_sbuffer *sb)
{
    if (m->fd < 0)
        return;
    if (m->mask & FAN_OPEN_PERM) {
        verdict v;
        memset(&v, 0, sizeof(v));
        int64_t t0 = now_ns();
        judge(p, calls, m, &v);
        uint64_t took = (uint64_t)(now_ns() - t0);
        struct fanotify_response r = {.fd = m->fd, .response = v.deny ? FAN_DENY : FAN_ALLOW};
        if (write(p->perm_fd, &r, sizeof(r)) != sizeof(r))
            atomic_fetch_add(&p->perm_failed, 1);
        atomic_fetch_add(&p->perm_events, 1);
        atomic_fetch_add(&p->answer_ns_sum, took);
        uint64_t max = atomic_load(&p->answer_ns_max);
        while (took > max && !atomic_compare_exchange_weak(&p->answer_ns_max, &max, took))
            ; /* several guard threads */
        if (v.deny)
            atomic_fetch_add(&p->denied, 1);
        if (v.report)
            report(p, m->pid, &v, sb);
    }
    close(m->fd);
}

/* Pins the calling thread to cpu: see fp_guard_main. */
static void pin(file_plugin *p, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (rc != 0)
        p->api->log(p->h, VG_LOG_DEBUG, "guard thread: cannot run on CPU %d only: %s", cpu,
                    strerror(rc));
}

void *fp_guard_main(void *arg)
{
    fp_guard_thread *g = arg;
    file_plugin *p = g->p;
    if (g->cpu >= 0)
        pin(p, g->cpu);
    char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
    struct pollfd fds[2] = {{.fd = p->perm_fd, .events = POLLIN},
                            {.fd = p->stop_fd, .events = POLLIN}};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    fs_reader calls;
    fs_reader_init(&calls, "/proc");
    for (;;) {
        /* Every guard thread is woken by each event (the group's wait
         * queue is not exclusive); the one on the opener's CPU usually
         * reads it first, the others find nothing (EAGAIN). */
        ssize_t n = read(p->perm_fd, buf, sizeof(buf));
        if (n > 0) {
            const struct fanotify_event_metadata *m = (const void *)buf;
            for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n))
                if (m->vers == FANOTIFY_METADATA_VERSION)
                    handle(p, &calls, m, &sb);
            continue;
        }
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
    }
    fs_reader_close(&calls);
    msgpack_sbuffer_destroy(&sb);
    return NULL;
}
