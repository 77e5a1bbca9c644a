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
 * completes microseconds after its opens and its event is read in the
 * same batch, so a chain is found among the last few; one never claimed
 * (the exec failed) is overwritten in turn. */
#define RING 256
#define LOOKBACK 64
/* A chain older than this is not the exec being handled: its pid was
 * reused by a process outside the marked mounts. */
#define MAX_AGE_NS 5000000000LL

struct execwatch {
    const vg_host_api *api;
    vg_host *h;
    int fd;
    wmarks marks; /* loop thread */
    exec_chain ring[RING];
    size_t head; /* next slot to fill */
    atomic_ulong opens, overflows, unclaimed;
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

/* The newest chain of pid within the last LOOKBACK, or NULL. */
static exec_chain *newest(execwatch *ew, pid_t pid)
{
    for (size_t i = 1; i <= LOOKBACK; i++) {
        exec_chain *c = &ew->ring[(ew->head + RING - i) % RING];
        if (c->pid == pid)
            return c;
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

static void add_open(execwatch *ew, pid_t pid, int fd)
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
        return;
    }
    char path[EXECWATCH_PATH];
    vg_fd_path(fd, path, sizeof(path));
    execfile ef;
    execfile_read(fd, &ef);
    /* One statx for the file's identity and its mount's (its workload). */
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO | STATX_MNT_ID, &stx) < 0)
        memset(&stx, 0, sizeof(stx));
    exec_chain *c = newest(ew, pid);
    /* An open that continues the pid's chain (the interpreter it waits
     * for) joins it; any other starts the chain of a new execve. */
    if (!c || !c->open || c->n == EXECWATCH_DEPTH) {
        c = &ew->ring[ew->head];
        if (c->pid)
            atomic_fetch_add(&ew->unclaimed, 1);
        ew->head = (ew->head + 1) % RING;
        memset(c, 0, offsetof(exec_chain, path));
        c->pid = pid;
        c->ns = vg_mono_ns();
        vg_workload_view w;
        if ((stx.stx_mask & STATX_MNT_ID) &&
            wmarks_owner_of_mount(&ew->marks, stx.stx_mnt_id, &w)) {
            memcpy(c->workload, w.id, sizeof(c->workload));
            memcpy(c->group, w.group, sizeof(c->group));
        }
    }
    snprintf(c->path[c->n], sizeof(c->path[c->n]), "%s", path);
    c->kind[c->n] = ef.kind;
    c->dev_major[c->n] = stx.stx_dev_major;
    c->dev_minor[c->n] = stx.stx_dev_minor;
    c->ino[c->n] = stx.stx_ino;
    c->n++;
    c->open = execfile_wants_interp(&ef);
    atomic_fetch_add(&ew->opens, 1);
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
            add_open(ew, m->pid, m->fd);
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
    for (size_t i = 1; i <= LOOKBACK; i++) {
        exec_chain *c = &ew->ring[(ew->head + RING - i) % RING];
        if (c->pid == pid && now - c->ns <= MAX_AGE_NS) {
            oldest = c;
            n++;
        }
    }
    *later = n > 1;
    if (!oldest)
        return false;
    memcpy(out, oldest, sizeof(*out));
    oldest->pid = 0;
    return true;
}

/* The index of the chain's program (its first ELF file), or -1. */
static int program_index(const exec_chain *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->kind[i] == EXECFILE_ELF || c->kind[i] == EXECFILE_ELF_INTERP)
            return i;
    return -1;
}

bool execwatch_take_file(execwatch *ew, pid_t pid, unsigned dev_major, unsigned dev_minor,
                         uint64_t ino, exec_chain *out)
{
    execwatch_drain(ew);
    int64_t now = vg_mono_ns();
    /* Oldest first: from the far end of the look-back towards the head. */
    for (size_t i = LOOKBACK; i >= 1; i--) {
        exec_chain *c = &ew->ring[(ew->head + RING - i) % RING];
        if (c->pid != pid || now - c->ns > MAX_AGE_NS)
            continue;
        int k = program_index(c);
        if (k >= 0 && c->ino[k] == ino && c->dev_major[k] == dev_major &&
            c->dev_minor[k] == dev_minor) {
            memcpy(out, c, sizeof(*out));
            c->pid = 0;
            return true;
        }
        c->pid = 0; /* an exec that failed after its open */
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
    out->marked = wmarks_count(&ew->marks);
}
