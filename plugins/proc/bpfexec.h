/*
 * The exec event source with BPF (bpf/exec.bpf.c): what the kernel knew of
 * each exec at the exec (pids, uids, comm, argv, the name given to execve,
 * cgroup id), and each new process and exit, read from a ring buffer, with
 * no /proc read. Where BPF is not built in or refused (no CAP_BPF/
 * CAP_SYS_ADMIN, a kernel without BTF or ring buffers), bpfexec_open fails
 * and the proc connector's events, enriched from /proc, are used instead.
 * Forks and exits wake no reader: bpfexec_drain at least every
 * BPFEXEC_LOOK_MS picks up those no exec was followed by.
 *
 * Pacing. A wake-up of the reader costs it more than handling an exec, so
 * execs that nothing waits for do not each take one. After a drain that
 * found execs less than BPFEXEC_BATCH_MS after the last one that did (an
 * exec on its own keeps its one wake-up), the reader is "batching": it looks again within
 * BPFEXEC_BATCH_MS whatever happens, and until then an exec in a cgroup
 * the plugin called relaxed (bpfexec_relax: no protected workload, nothing
 * to kill at its exec) waits in the ring without waking it. A drain that
 * finds no exec ends batching, and the next exec wakes the reader at once.
 * An exec in any other cgroup (of a protected workload, or one the plugin
 * has not judged yet) always wakes it. Relaxed entries hold for one
 * generation (bpfexec_generation): the plugin starts a new one whenever
 * workloads or modes change.
 *
 * Threads: bpfexec_generation on any thread; everything else on the proc
 * plugin's reader thread.
 */
#ifndef PROC_BPFEXEC_H
#define PROC_BPFEXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/exec_event.h"

#define BPFEXEC_LOOK_MS 100
#define BPFEXEC_BATCH_MS 5 /* as long as the reader holds events (heldq.h) */

typedef struct bpfexec bpfexec;

/* What the records are handed to, in the order they were written. */
typedef struct bpfexec_ops {
    void (*exec)(const struct exec_event *e, void *arg);
    void (*task)(const struct task_event *t, void *arg); /* a fork or an exit */
    void *arg;
} bpfexec_ops;

/* Loads and attaches the probe. 0, or -ENOSYS (built without BPF), or the
 * loader's negative errno (-EPERM without the capabilities). */
int bpfexec_open(const bpfexec_ops *ops, bpfexec **out);
/* A descriptor that polls readable when records wait. */
int bpfexec_fd(bpfexec *b);
/* Hands every waiting record to cb, in order, and starts or ends batching
 * (above). */
void bpfexec_drain(bpfexec *b);
/* The longest the reader may sleep before its next drain: BPFEXEC_BATCH_MS
 * while batching, BPFEXEC_LOOK_MS otherwise. */
int bpfexec_look_ms(const bpfexec *b);
/* Execs in cgroup cgroup_id may wait for the reader's look, as long as the
 * generation is gen. */
void bpfexec_relax(bpfexec *b, uint64_t cgroup_id, uint64_t gen);
/* Any thread: the current generation; older relaxed entries are void. */
void bpfexec_generation(bpfexec *b, uint64_t gen);
/* Whether the probe's full exec program is loaded (Linux 5.17 and later:
 * pacing, and the program's path in each record); the basic one wakes the
 * reader for every exec and gives no path. */
bool bpfexec_full(const bpfexec *b);
/* Drains that found execs: the reader's wake-ups for execs (and looks
 * while batching), execs / batches of them per wake-up. */
uint64_t bpfexec_batches(const bpfexec *b);
/* Records the probe could not write (the ring was full). */
uint64_t bpfexec_dropped(bpfexec *b);
void bpfexec_close(bpfexec *b); /* NULL is fine */

#endif
