/*
 * The evidence an incident shows about a process, read from /proc when
 * its kernel record is handled: its program and command line (both "?"
 * when it has exited meanwhile), and its workload: the process's own, else
 * its parent's (a short-lived `mount` or `unshare` has often exited by
 * then, while the shell that ran it still waits for it).
 */
#ifndef VG_KERN_EVIDENCE_H
#define VG_KERN_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <vigil/plugin.h>

typedef struct ev_proc {
    char program[1024];
    char cmdline[1024];
    vg_workload_view wv;
    bool known; /* wv was found (for the process or its parent) */
} ev_proc;

/* proc_root: "/proc". ppid may be 0 (not known). */
void ev_read(const vg_host_api *api, vg_host *h, const char *proc_root, pid_t pid, pid_t ppid,
             ev_proc *out);

/* The command line of pid with its NULs as spaces, at most size-1 bytes;
 * "?" when it cannot be read. */
void ev_cmdline(const char *proc_root, pid_t pid, char *buf, size_t size);

#endif
