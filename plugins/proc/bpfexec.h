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
 * One thread (the proc plugin's reader): open, fd, drain, close.
 */
#ifndef PROC_BPFEXEC_H
#define PROC_BPFEXEC_H

#include <stdint.h>

#include "bpf/exec_event.h"

#define BPFEXEC_LOOK_MS 100

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
/* Hands every waiting record to cb, in order. */
void bpfexec_drain(bpfexec *b);
/* Records the probe could not write (the ring was full). */
uint64_t bpfexec_dropped(bpfexec *b);
void bpfexec_close(bpfexec *b); /* NULL is fine */

#endif
