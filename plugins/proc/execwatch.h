/*
 * What the kernel exec'd, told by the kernel at the exec: a fanotify
 * notification group (FAN_CLASS_NOTIF) with FAN_OPEN_EXEC marks on the
 * exec-capable mounts of every container. Each exec open names the file
 * through the descriptor the event carries, so the path is known however
 * short-lived the process is; /proc/<pid>/exe, read later, is gone with a
 * process that exited at once.
 *
 * One execve makes one to three exec opens, in this order: the file named
 * (a program, or a script), a script's interpreter, a dynamic program's
 * loader. They are kept per pid as one chain until the proc connector's
 * exec event of that pid takes them. The kernel queues them before that
 * exec event is sent, so reading this group until it is empty before
 * handling an exec event (execwatch_take does) always finds them.
 *
 * Threads: execwatch_sync on the loop thread; execwatch_fd, execwatch_drain
 * and execwatch_take on the proc plugin's reader thread only.
 */
#ifndef PROC_EXECWATCH_H
#define PROC_EXECWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <vigil/plugin.h>

#include "execfile.h"

#define EXECWATCH_DEPTH 3 /* file, script interpreter, loader */
#define EXECWATCH_PATH 512

typedef struct exec_chain {
    pid_t pid;
    int n;
    int64_t ns;                     /* CLOCK_MONOTONIC when its first open was read */
    char workload[VG_WORKLOAD_MAX]; /* whose mount the file is on */
    char group[VG_GROUP_MAX];
    bool open; /* the last file wants an interpreter still to come */
    char path[EXECWATCH_DEPTH][EXECWATCH_PATH];
    int kind[EXECWATCH_DEPTH]; /* enum execfile_kind */
    unsigned dev_major[EXECWATCH_DEPTH], dev_minor[EXECWATCH_DEPTH];
    uint64_t ino[EXECWATCH_DEPTH];
} exec_chain;

typedef struct execwatch execwatch;

/* Needs CAP_SYS_ADMIN: -EPERM without. */
int execwatch_new(const vg_host_api *api, vg_host *h, execwatch **out);
void execwatch_free(execwatch *ew);

/* Marks every container's mounts not marked yet; unmarks those gone. */
void execwatch_sync(execwatch *ew);
int execwatch_fd(const execwatch *ew);

/* Reads every queued exec open into the chains. */
void execwatch_drain(execwatch *ew);

/* The chain of pid's oldest execve not yet taken, removed; false when
 * there is none (a process outside every marked mount, or one whose opens
 * were lost). *later: the pid has exec'd again since, so what /proc shows
 * of it now is a later program's. */
bool execwatch_take(execwatch *ew, pid_t pid, exec_chain *out, bool *later);

/* The same, knowing which file the exec ran (the program, or a script's
 * interpreter: device and inode): the oldest chain of pid whose program is
 * that file; older ones of pid are opens of execs that failed after their
 * open (ENOEXEC, a missing interpreter) and are dropped. path: the
 * program's path as the exec probe read it, or NULL/"" (lazy: then it is
 * read from the open's descriptor). */
bool execwatch_take_file(execwatch *ew, pid_t pid, unsigned dev_major, unsigned dev_minor,
                         uint64_t ino, const char *path, exec_chain *out);

/* With the exec probe: a program's path is not read at its open (a
 * readlink of its descriptor costs the reader more than the rest of the
 * exec) but taken from the probe at execwatch_take_file, and read from the
 * descriptor, kept until then, only when the probe has none. verify: read
 * it anyway and count (and log) each path the probe gave otherwise
 * (plugins.proc.verify_exec_paths, for tests and doubt). */
void execwatch_lazy(execwatch *ew, bool verify);
/* Whether paths are verified (above); reader thread. */
bool execwatch_verifying(const execwatch *ew);
/* Counts (and logs the first few of) a program path the probe gave that
 * is not the one read from the file (real): for the plugin's own check of
 * the paths it takes from the probe without an exec open (host processes,
 * opens overwritten). And counts a path taken from the probe. */
void execwatch_verify_path(execwatch *ew, pid_t pid, const char *probe, const char *real);
void execwatch_probe_path_used(execwatch *ew);

/* The program a chain ran: its first ELF file (after a script's name). */
const char *exec_chain_program(const exec_chain *c);
/* The script a chain started with, or NULL. */
const char *exec_chain_script(const exec_chain *c);

typedef struct execwatch_stats {
    uint64_t opens, overflows, unclaimed, mismatches, probe_paths;
    size_t marked;
} execwatch_stats;
void execwatch_stats_get(execwatch *ew, execwatch_stats *out);

#endif
