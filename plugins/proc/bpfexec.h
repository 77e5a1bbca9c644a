/*
 * The exec event source with BPF (bpf/exec.bpf.c): what the kernel knew of
 * each exec at the exec (pids, uids, comm, argv, the name given to execve,
 * cgroup id), read from a ring buffer, with no /proc read. Where BPF is
 * not built in or refused (no CAP_BPF/CAP_SYS_ADMIN, a kernel without BTF
 * or ring buffers), bpfexec_open fails and the proc connector's exec
 * events, enriched from /proc, are used instead.
 *
 * One thread (the proc plugin's reader): open, fd, drain, close.
 */
#ifndef PROC_BPFEXEC_H
#define PROC_BPFEXEC_H

#include <stdint.h>

#include "bpf/exec_event.h"

typedef struct bpfexec bpfexec;
typedef void (*bpfexec_cb)(const struct exec_event *e, void *arg);

/* Loads and attaches the probe. 0, or -ENOSYS (built without BPF), or the
 * loader's negative errno (-EPERM without the capabilities). */
int bpfexec_open(bpfexec_cb cb, void *arg, bpfexec **out);
/* A descriptor that polls readable when records wait. */
int bpfexec_fd(bpfexec *b);
/* Hands every waiting record to cb, in order. */
void bpfexec_drain(bpfexec *b);
/* Records the probe could not write (the ring was full). */
uint64_t bpfexec_dropped(bpfexec *b);
void bpfexec_close(bpfexec *b); /* NULL is fine */

#endif
