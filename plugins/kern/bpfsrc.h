/*
 * The BPF side of the kern plugin: loads kern.bpf.c (through its generated
 * skeleton), fills in the system call numbers of this architecture, the
 * daemon's pid and the clock offset, attaches the two tracepoints and
 * hands each record of the ring buffer to a callback. One thread polls.
 */
#ifndef VG_KERN_BPFSRC_H
#define VG_KERN_BPFSRC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ke_record;
typedef struct kb_source kb_source;

/* Loads and attaches; 0, or a negative errno (-EPERM: no CAP_BPF /
 * CAP_SYS_ADMIN, -ENOENT / -EINVAL: no BTF or the tracepoints are
 * missing). *why says which step failed. */
int kb_open(pid_t self, kb_source **out, const char **why);
void kb_close(kb_source *k);

/* The ring buffer's descriptor, for poll. */
int kb_fd(const kb_source *k);

/* Hands every record queued to cb; the number handled or a negative errno. */
int kb_consume(kb_source *k, void (*cb)(void *arg, const struct ke_record *r), void *arg);

/* Detaches (on = false) or attaches again the programs, which stay
 * loaded: for benchmarks that compare the two in one process. */
int kb_attach(kb_source *k, bool on);

/* Records the kernel side could not queue (ring buffer full). */
uint64_t kb_lost(const kb_source *k);

#endif
