/* The BPF exec event source; see bpfexec.h. */
#include "bpfexec.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef VIGIL_BPF
#include <bpf/libbpf.h>

#include "exec.skel.h"
#include "monoclock.h"

struct bpfexec {
    struct exec_bpf *skel;
    struct ring_buffer *rb;
    bpfexec_ops ops;
    unsigned execs;        /* exec records in the current drain */
    bool basic;            /* the probe's basic exec program: no pacing, no paths */
    bool batching;         /* as told to the probe */
    int64_t last_ns;       /* the last drain that found execs (monotonic) */
    uint64_t batches;      /* drains that found execs */
    struct exec_event rec; /* the record being handled, whole */
};

static int on_record(void *ctx, void *data, size_t size)
{
    bpfexec *b = ctx;
    unsigned kind = size >= sizeof(unsigned) ? *(const unsigned *)data : 0;
    /* An exec's record ends with its arguments: only as long as they are,
     * copied into a whole record for the callback. */
    size_t head = offsetof(struct exec_event, args);
    if (kind == EXEC_EV_EXEC && size >= head && size <= sizeof(b->rec)) {
        memcpy(&b->rec, data, size);
        if (b->rec.args_len > size - head)
            b->rec.args_len = (unsigned)(size - head);
        b->execs++;
        b->ops.exec(&b->rec, b->ops.arg);
    } else if ((kind == EXEC_EV_FORK || kind == EXEC_EV_EXIT) && size >= sizeof(struct task_event))
        b->ops.task(data, b->ops.arg);
    return 0;
}

/* Opens and loads the probe with its full exec program (path, pacing) or
 * its basic one; 0 or a negative errno, b->skel NULL on failure. */
static int load(bpfexec *b, bool full)
{
    b->skel = exec_bpf__open();
    if (!b->skel)
        return errno ? -errno : -EINVAL;
    bpf_program__set_autoload(full ? b->skel->progs.on_exec_basic : b->skel->progs.on_exec, false);
    if (exec_bpf__load(b->skel) == 0)
        return 0;
    int rc = errno ? -errno : -EINVAL;
    exec_bpf__destroy(b->skel);
    b->skel = NULL;
    return rc;
}

/* libbpf speaks on stderr by default; the plugin reports what failed. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    return 0;
}

int bpfexec_open(const bpfexec_ops *ops, bpfexec **out)
{
    libbpf_set_print(quiet);
    bpfexec *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->ops = *ops;
    int rc = load(b, true);
    if (rc < 0) {
        /* A kernel older than 5.17: every exec wakes the reader, and
         * paths are read from the exec opens. */
        b->basic = true;
        rc = load(b, false);
    }
    if (rc == 0 && exec_bpf__attach(b->skel) < 0)
        rc = errno ? -errno : -EINVAL;
    if (rc == 0) {
        b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), on_record, b, NULL);
        if (!b->rb)
            rc = errno ? -errno : -ENOMEM;
    }
    if (rc < 0) {
        bpfexec_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

int bpfexec_fd(bpfexec *b)
{
    return ring_buffer__epoll_fd(b->rb);
}

/* Tells the probe whether the reader batches. Sequentially consistent:
 * the probe reads it with a full barrier after writing a record it did not
 * wake for (exec.bpf.c, wake_if_idle), so that such a record is either
 * seen by the drain after this store or followed by a wake-up. */
static void set_batching(bpfexec *b, bool on)
{
    b->batching = on;
    __atomic_store_n(&b->skel->bss->batching, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

void bpfexec_drain(bpfexec *b)
{
    b->execs = 0;
    ring_buffer__consume(b->rb);
    if (b->execs) {
        b->batches++;
        /* Batching starts with the second exec within BPFEXEC_BATCH_MS:
         * an exec on its own would pay a look for nothing. */
        int64_t now = vg_mono_ns();
        if (!b->batching && !b->basic && now - b->last_ns < BPFEXEC_BATCH_MS * 1000000ll)
            set_batching(b, true);
        b->last_ns = now;
    } else if (b->batching) {
        set_batching(b, false);
        ring_buffer__consume(b->rb); /* what came while it was told */
    }
}

int bpfexec_look_ms(const bpfexec *b)
{
    return b->batching ? BPFEXEC_BATCH_MS : BPFEXEC_LOOK_MS;
}

void bpfexec_relax(bpfexec *b, uint64_t cgroup_id, uint64_t gen)
{
    bpf_map__update_elem(b->skel->maps.relaxed, &cgroup_id, sizeof(cgroup_id), &gen, sizeof(gen),
                         BPF_ANY);
}

void bpfexec_generation(bpfexec *b, uint64_t gen)
{
    if (b)
        __atomic_store_n(&b->skel->bss->generation, gen, __ATOMIC_SEQ_CST);
}

uint64_t bpfexec_batches(const bpfexec *b)
{
    return b ? b->batches : 0;
}

bool bpfexec_full(const bpfexec *b)
{
    return b && !b->basic;
}

uint64_t bpfexec_dropped(bpfexec *b)
{
    return __atomic_load_n(&b->skel->bss->dropped, __ATOMIC_RELAXED);
}

void bpfexec_close(bpfexec *b)
{
    if (!b)
        return;
    ring_buffer__free(b->rb);
    exec_bpf__destroy(b->skel);
    free(b);
}

#else /* built without BPF */

int bpfexec_open(const bpfexec_ops *ops, bpfexec **out)
{
    return -ENOSYS;
}

int bpfexec_fd(bpfexec *b)
{
    return -1;
}

void bpfexec_drain(bpfexec *b)
{
}

int bpfexec_look_ms(const bpfexec *b)
{
    return BPFEXEC_LOOK_MS;
}

void bpfexec_relax(bpfexec *b, uint64_t cgroup_id, uint64_t gen)
{
}

void bpfexec_generation(bpfexec *b, uint64_t gen)
{
}

uint64_t bpfexec_batches(const bpfexec *b)
{
    return 0;
}

bool bpfexec_full(const bpfexec *b)
{
    return false;
}

uint64_t bpfexec_dropped(bpfexec *b)
{
    return 0;
}

void bpfexec_close(bpfexec *b)
{
}

#endif
