/* Exec opens told by fanotify; see execwatch.h. */
#include "execwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdpath.h"
#include "mounts.h"
#include "wmarks.h"
#include "monoclock.h"

/* Chains waiting for their exec event: a ring, newest last. An execve
 * completes microseconds after its opens, but its record may be read a
 * batch later (bpfexec.h, "Pacing"), or later still on a loaded host,
 * after the opens of every container's execs meanwhile: the whole ring is
 * looked through (by the compact pids[], not the chains). One never
 * claimed (the exec failed) is overwritten in turn. */
#define RING 256
#define LOOKBACK RING
/* Program descriptors kept open at most (lazy); beyond, paths are read at
 * the open. Only chains whose exec was never reported hold one long. */
#define KEPT_MAX 64
/* A chain older than this is not the exec being handled: its pid was
 * reused by a process outside the marked mounts. */
#define MAX_AGE_NS 5000000000LL

struct execwatch {
    const vg_host_api *api;
    vg_host *h;
    int fd;
    wmarks marks; /* loop thread */
    exec_chain ring[RING];
    pid_t pids[RING]; /* ring[i].pid: scanned without touching the chains */
    int fds[RING];    /* lazy: the descriptor of ring[i]'s program, its path unread; -1 */
    int kept;         /* of fds, open */
    bool lazy;        /* programs' paths read only when the probe has none */
    bool verify;      /* the probe's paths compared with the descriptors' */
    int mismatch_logs;
    size_t head; /* next slot to fill */
    atomic_ulong opens, overflows, unclaimed, mismatches, probe_paths;
};

typedef struct mark_arg {
    execwatch *ew;
    const vg_workload_view *w;
} mark_arg;

static int mark_mount(const char *path, bool root, void *arg)
{
    mark_arg *a = arg;
    if (fanotify_mark(a->ew->fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC, AT_FDCWD, path) < 0)
        return -errno;
    wmarks_own(&a->ew->marks, path, a->w);
    return 0;
}

static int unmark_mount(const char *path, bool root, void *arg)
{
    execwatch *ew = arg;
    return fanotify_mark(ew->fd, FAN_MARK_REMOVE | FAN_MARK_MOUNT, FAN_OPEN_EXEC, AT_FDCWD, path) <
                   0
               ? -errno
               : 0;
}

static bool wants_marks(const vg_workload_view *w, void *arg)
{
    return true; /* every container, whatever its mode: learning needs it most */
}

static int mark_workload(int pid, const vg_workload_view *w, void *arg)
{
    mark_arg a = {.ew = arg, .w = w};
    return exec_mounts_each(pid, mark_mount, &a);
}

static void unmark_workload(int pid, const char *id, void *arg)
{
    exec_mounts_each(pid, unmark_mount, arg);
}

int execwatch_new(const vg_host_api *api, vg_host *h, execwatch **out)
{
    execwatch *ew = calloc(1, sizeof(*ew));
    if (!ew)
        return -ENOMEM;
    ew->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_MARKS |
                               FAN_UNLIMITED_QUEUE,
                           O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (ew->fd < 0) {
        int err = errno;
        free(ew);
        return -err;
    }
    ew->api = api;
    ew->h = h;
    for (size_t i = 0; i < RING; i++)
        ew->fds[i] = -1;
    wmarks_ops ops = {.wants = wants_marks,
                      .mark = mark_workload,
                      .unmark = unmark_workload,
                      .arg = ew,
                      .what = "exec tracking"};
    wmarks_init(&ew->marks, api, h, &ops);
    *out = ew;
    return 0;
}

void execwatch_free(execwatch *ew)
{
    if (!ew)
        return;
    wmarks_free(&ew->marks);
    for (size_t i = 0; i < RING; i++)
        if (ew->fds[i] >= 0)
            close(ew->fds[i]);
    close(ew->fd);
    free(ew);
}

void execwatch_sync(execwatch *ew)
{
    if (ew)
        wmarks_sync(&ew->marks);
}

int execwatch_fd(const execwatch *ew)
{
    return ew->fd;
}

/* Sets the pid of chain k (0: free, and its program's descriptor closed). */
static void set_pid(execwatch *ew, size_t k, pid_t pid)
{
    ew->ring[k].pid = pid;
    ew->pids[k] = pid;
    if (!pid && ew->fds[k] >= 0) {
        close(ew->fds[k]);
        ew->fds[k] = -1;
        ew->kept--;
    }
}

void execwatch_lazy(execwatch *ew, bool verify)
{
    if (!ew)
        return;
    ew->lazy = true;
    ew->verify = verify;
}

/* The newest chain of pid within the last LOOKBACK, or NULL. */
static exec_chain *newest(execwatch *ew, pid_t pid)
{
    for (size_t i = 1; i <= LOOKBACK; i++) {
        size_t k = (ew->head + RING - i) % RING;
        if (ew->pids[k] == pid)
            return &ew->ring[k];
    }
    return NULL;
}

/* The loader of the dynamic program that ends c: its open is the one the
 * chain waits for, and nothing of it is used (the program is the chain's
 * first ELF file), so it is not read: a path and a head cost the reader
 * more than the rest of the exec. */
static bool loader_of(const exec_chain *c)
{
    return c && c->open && c->n > 0 && c->n < EXECWATCH_DEPTH &&
           c->kind[c->n - 1] == EXECFILE_ELF_INTERP;
}

/* The index of the chain's program (its first ELF file), or -1. */
static int program_index(const exec_chain *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->kind[i] == EXECFILE_ELF || c->kind[i] == EXECFILE_ELF_INTERP)
            return i;
    return -1;
}

/* Adds the exec open of fd by pid. True when fd was kept (lazy: the
 * program's path is read at the exec event, when the probe has none). */
static bool add_open(execwatch *ew, pid_t pid, int fd)
{
    exec_chain *last = newest(ew, pid);
    if (loader_of(last)) {
        last->path[last->n][0] = '\0';
        last->kind[last->n] = EXECFILE_ELF;
        last->dev_major[last->n] = last->dev_minor[last->n] = 0;
        last->ino[last->n] = 0;
        last->n++;
        last->open = false;
        atomic_fetch_add(&ew->opens, 1);
        return false;
    }
    execfile ef;
    execfile_read(fd, &ef);
    /* One statx for the file's identity and its mount's (its workload). */
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO | STATX_MNT_ID, &stx) < 0)
        memset(&stx, 0, sizeof(stx));
    exec_chain *c = last;
    /* An open that continues the pid's chain (the interpreter it waits
     * for) joins it; any other starts the chain of a new execve. */
    if (!c || !c->open || c->n == EXECWATCH_DEPTH) {
        c = &ew->ring[ew->head];
        if (ew->pids[ew->head])
            atomic_fetch_add(&ew->unclaimed, 1);
        set_pid(ew, ew->head, 0);
        memset(c, 0, offsetof(exec_chain, path));
        set_pid(ew, ew->head, pid);
        ew->head = (ew->head + 1) % RING;
        c->ns = vg_mono_ns();
        vg_workload_view w;
        if ((stx.stx_mask & STATX_MNT_ID) &&
            wmarks_owner_of_mount(&ew->marks, stx.stx_mnt_id, &w)) {
            memcpy(c->workload, w.id, sizeof(c->workload));
            memcpy(c->group, w.group, sizeof(c->group));
        }
    }
    size_t k = (size_t)(c - ew->ring);
    bool program =
        (ef.kind == EXECFILE_ELF || ef.kind == EXECFILE_ELF_INTERP) && program_index(c) < 0;
    bool keep = ew->lazy && program && ew->fds[k] < 0 && ew->kept < KEPT_MAX;
    if (keep) {
        ew->fds[k] = fd;
        ew->kept++;
        c->path[c->n][0] = '\0';
    } else
        vg_fd_path(fd, c->path[c->n], sizeof(c->path[c->n]));
    c->kind[c->n] = ef.kind;
    c->dev_major[c->n] = stx.stx_dev_major;
    c->dev_minor[c->n] = stx.stx_dev_minor;
    c->ino[c->n] = stx.stx_ino;
    c->n++;
    c->open = execfile_wants_interp(&ef);
    atomic_fetch_add(&ew->opens, 1);
    return keep;
}

bool execwatch_verifying(const execwatch *ew)
{
    return ew && ew->verify;
}

void execwatch_verify_path(execwatch *ew, pid_t pid, const char *probe, const char *real)
{
    if (!ew || strcmp(probe, real) == 0)
        return;
    atomic_fetch_add(&ew->mismatches, 1);
    if (ew->mismatch_logs++ < 5)
        ew->api->log(ew->h, VG_LOG_WARN,
                     "exec probe's path \"%s\" is not the file's \"%s\" (pid %d)", probe, real,
                     (int)pid);
}

void execwatch_probe_path_used(execwatch *ew)
{
    if (ew)
        atomic_fetch_add(&ew->probe_paths, 1);
}

/* The path of chain k's program, not read at its open (lazy): the probe's
 * (path, when it has one), else its descriptor's. */
static void program_path(execwatch *ew, size_t k, const char *path)
{
    exec_chain *c = &ew->ring[k];
    int i = program_index(c);
    if (i < 0 || c->path[i][0] || ew->fds[k] < 0)
        return;
    if (path && path[0]) {
        snprintf(c->path[i], sizeof(c->path[i]), "%s", path);
        execwatch_probe_path_used(ew);
        if (!ew->verify)
            return;
        char real[EXECWATCH_PATH];
        vg_fd_path(ew->fds[k], real, sizeof(real));
        execwatch_verify_path(ew, c->pid, path, real);
        return;
    }
    vg_fd_path(ew->fds[k], c->path[i], sizeof(c->path[i]));
}

void execwatch_drain(execwatch *ew)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
    for (;;) {
        ssize_t n = read(ew->fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        const struct fanotify_event_metadata *m = (const void *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            if (m->vers != FANOTIFY_METADATA_VERSION)
                continue;
            if (m->mask & FAN_Q_OVERFLOW)
                atomic_fetch_add(&ew->overflows, 1);
            if (m->fd < 0)
                continue;
            if (!add_open(ew, m->pid, m->fd))
                close(m->fd);
        }
        /* A read that did not fill the buffer had everything queued when
         * it was made (the opens of the exec being handled among them):
         * no second read only to be told there is nothing more. */
        if ((size_t)n < sizeof(buf) / 2)
            return;
    }
}

/* Exec events come in the order of the execs, so a pid's chains are taken
 * oldest first: a process that exec'd twice before its first event was read
 * has two chains, and the first event gets the first. */
bool execwatch_take(execwatch *ew, pid_t pid, exec_chain *out, bool *later)
{
    execwatch_drain(ew);
    exec_chain *oldest = NULL;
    int64_t now = vg_mono_ns();
    size_t n = 0;
    size_t at = 0;
    for (size_t i = 1; i <= LOOKBACK; i++) {
        size_t k = (ew->head + RING - i) % RING;
        if (ew->pids[k] == pid && now - ew->ring[k].ns <= MAX_AGE_NS) {
            oldest = &ew->ring[k];
            at = k;
            n++;
        }
    }
    *later = n > 1;
    if (!oldest)
        return false;
    program_path(ew, at, NULL);
    memcpy(out, oldest, sizeof(*out));
    set_pid(ew, at, 0);
    return true;
}

bool execwatch_take_file(execwatch *ew, pid_t pid, unsigned dev_major, unsigned dev_minor,
                         uint64_t ino, const char *path, exec_chain *out)
{
    execwatch_drain(ew);
    int64_t now = vg_mono_ns();
    /* Oldest first: from the far end of the look-back towards the head. */
    for (size_t i = LOOKBACK; i >= 1; i--) {
        size_t at = (ew->head + RING - i) % RING;
        exec_chain *c = &ew->ring[at];
        if (ew->pids[at] != pid || now - c->ns > MAX_AGE_NS)
            continue;
        int k = program_index(c);
        if (k >= 0 && c->ino[k] == ino && c->dev_major[k] == dev_major &&
            c->dev_minor[k] == dev_minor) {
            program_path(ew, at, path);
            memcpy(out, c, sizeof(*out));
            set_pid(ew, at, 0);
            return true;
        }
        set_pid(ew, at, 0); /* an exec that failed after its open */
        atomic_fetch_add(&ew->unclaimed, 1);
    }
    return false;
}

const char *exec_chain_program(const exec_chain *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->kind[i] == EXECFILE_ELF || c->kind[i] == EXECFILE_ELF_INTERP)
            return c->path[i];
    return NULL;
}

const char *exec_chain_script(const exec_chain *c)
{
    return c->n > 0 && c->kind[0] == EXECFILE_SCRIPT ? c->path[0] : NULL;
}

void execwatch_stats_get(execwatch *ew, execwatch_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!ew)
        return;
    out->opens = atomic_load(&ew->opens);
    out->overflows = atomic_load(&ew->overflows);
    out->unclaimed = atomic_load(&ew->unclaimed);
    out->mismatches = atomic_load(&ew->mismatches);
    out->probe_paths = atomic_load(&ew->probe_paths);
    out->marked = wmarks_count(&ew->marks);
}
