/*
 * The permission side: an open of a guarded file by a process of a workload
 * in protect mode waits for our answer. Reads are allowed; an open for
 * writing (read from the opener's pending system call, see fsyscall.h) is
 * allowed only when the policy allows the (path, program, "write") subject.
 *
 * The shared fanotify engine (plugins/common/fanotify_engine.h) reads the
 * events on one thread per CPU, writes each answer first and calls
 * fp_guard_after() with it: the violation is published after the answer.
 * The marks are inode marks on the guarded files (watch.c), never mount
 * marks, so that the other files of a protected container are opened at
 * the kernel's speed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <time.h>

#include "file.h"
#include "fsyscall.h"
#include "monoclock.h"

/* What a permission thread keeps: its system call reader, and what
 * fp_guard_decide found out for fp_guard_after. */
typedef struct guard_ctx {
    bool ready; /* calls initialised */
    fs_reader calls;
    bool report; /* a write was denied: publish a violation */
    char path[PATH_MAX];
    char program[PATH_MAX];
    vg_workload_view wv;
    msgpack_sbuffer sb; /* the violation's body */
} guard_ctx;

const size_t fp_guard_ctx_size = sizeof(guard_ctx);

/* Judges one open; 0 allow, 1 deny, or a negative errno for the fail
 * verdict. */
static int judge(file_plugin *p, guard_ctx *g, const fan_request *req)
{
    pid_t tid = req->pid; /* FAN_REPORT_TID: the thread that opens */
    /* Reads are the common case (every getpwnam opens /etc/passwd) and
     * are answered from the system call alone, before anything else is
     * looked at. */
    int64_t t0 = vg_mono_ns();
    unsigned long waits = g->calls.waits;
    int writes = fs_reader_writes(&g->calls, tid);
    atomic_fetch_add(&p->syscall_ns_sum, (uint64_t)(vg_mono_ns() - t0));
    atomic_fetch_add(&p->syscall_waits, g->calls.waits - waits);
    if (writes == 0 || writes == -ESRCH)
        return FAN_VERDICT_ALLOW; /* a read or an exec, or the opener is gone */
    fw_owner owner;
    if (fw_lookup_file(p->watch, req->fd, g->path, sizeof(g->path), &owner) < 0)
        return FAN_VERDICT_ALLOW;
    int rc = fp_workload_of(p, tid, &owner, &g->wv);
    if (rc == 1) {
        /* In the container of the file, which is in protect mode (its
         * files are guarded). */
        g->wv.mode = VG_MODE_PROTECT;
        rc = 0;
    }
    if (rc == -ESRCH)
        return FAN_VERDICT_ALLOW; /* gone: nothing to protect */
    if (rc < 0)
        return rc; /* not discovered yet: the fail verdict */
    if (!g->wv.id[0] || g->wv.mode != VG_MODE_PROTECT)
        return FAN_VERDICT_ALLOW;
    if (writes < 0)
        return writes;
    /* A write, or an open whose flags cannot be read (FS_CANNOT_TELL): the
     * policy must allow the program to write the file. */
    fp_program(tid, g->program, sizeof(g->program));
    if (!g->program[0]) /* "" would be read as "some program" */
        snprintf(g->program, sizeof(g->program), "?");
    vg_subject s = {.plane = VG_PLANE_FILE,
                    .group = g->wv.group,
                    .file = {.path = g->path, .program = g->program, .access = "write"}};
    bool deny = p->api->decide(p->h, &s) != VG_DECIDE_ALLOW;
    g->report = deny;
    return deny ? FAN_VERDICT_DENY : FAN_VERDICT_ALLOW;
}

int fp_guard_decide(void *arg, fan_request *req)
{
    file_plugin *p = arg;
    guard_ctx *g = req->ctx;
    if (!g->ready) {
        fs_reader_init(&g->calls, "/proc");
        g->ready = true;
    }
    g->report = false;
    if (!(req->mask & FAN_OPEN_PERM))
        return FAN_VERDICT_ALLOW;
    return judge(p, g, req);
}

static void report(file_plugin *p, guard_ctx *g, pid_t pid)
{
    msgpack_packer pk;
    g->sb.size = 0;
    msgpack_packer_init(&pk, &g->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    fp_kv_str(&pk, "action", "deny");
    fp_kv_str(&pk, "event_type", "file.access");
    fp_kv_int(&pk, "pid", pid);
    fp_kv_str(&pk, "path", g->path);
    fp_kv_str(&pk, "program", g->program);
    fp_kv_str(&pk, "access", "write");
    vg_event_in ev = {.type = p->t_violation,
                      .severity = VG_SEV_WARNING,
                      .workload = g->wv.id,
                      .group = g->wv.group,
                      .body = g->sb.data,
                      .body_len = g->sb.size};
    if (p->api->publish(p->h, &ev) < 0)
        atomic_fetch_add(&p->dropped, 1);
}

void fp_guard_after(void *arg, const fan_request *req, int verdict, int64_t answer_ns)
{
    file_plugin *p = arg;
    guard_ctx *g = req->ctx;
    if (!(req->mask & FAN_OPEN_PERM))
        return;
    atomic_fetch_add(&p->answer_ns_sum, (uint64_t)answer_ns);
    uint64_t max = atomic_load(&p->answer_ns_max);
    while ((uint64_t)answer_ns > max &&
           !atomic_compare_exchange_weak(&p->answer_ns_max, &max, (uint64_t)answer_ns))
        ; /* several permission threads */
    if (verdict == FAN_VERDICT_DENY && g->report)
        report(p, g, req->pid);
}

void fp_guard_ctx_end(void *arg, void *ctx)
{
    guard_ctx *g = ctx;
    if (g->ready)
        fs_reader_close(&g->calls);
    msgpack_sbuffer_destroy(&g->sb);
}
