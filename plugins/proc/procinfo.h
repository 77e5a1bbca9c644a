/*
 * What /proc tells about a process at the moment it is read. A process that
 * is already gone (a short-lived one) yields -ESRCH, and the caller reports
 * what the kernel event itself said.
 */
#ifndef PROC_PROCINFO_H
#define PROC_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct procinfo {
    pid_t pid, ppid;
    uid_t uid, euid;
    gid_t gid, egid;
    char name[16];        /* argv[0]'s last component (comm if empty), truncated */
    char path[4096];      /* /proc/<pid>/exe, "" if unreadable */
    char cmdline[1024];   /* arguments joined by spaces, truncated */
    char cgroup[512];     /* the unified (v2) path, or the first v1 line's */
    bool stdio_socket;    /* stdin or stdout is a TCP/UDP socket: a reverse shell's mark */
    int64_t parent_euid;  /* from the exec probe; -1: not known here */
    char parent_name[16]; /* from the exec probe: the parent's comm */
} procinfo;

/* Reads everything about pid under `proc_root` ("/proc" on a real host).
 * 0, or -ESRCH when the process is gone before its status could be read. */
int procinfo_read(const char *proc_root, pid_t pid, procinfo *pi);

/* The parts of procinfo_read, for a process whose other details came from
 * the kernel's exec event: path, cgroup, stdio_socket (left as they are
 * when unreadable, but the path, emptied). */
void procinfo_read_exe(const char *proc_root, pid_t pid, procinfo *pi);
void procinfo_read_cgroup(const char *proc_root, pid_t pid, procinfo *pi);
void procinfo_read_stdio(const char *proc_root, pid_t pid, procinfo *pi);
/* pid's saved uid, when /proc shows the real and effective uids ruid and
 * euid (so that it is the state of the change just told); else -1. */
int64_t procinfo_read_suid(const char *proc_root, pid_t pid, uid_t ruid, uid_t euid);
/* name and cmdline from argv as the kernel keeps it: len bytes of
 * NUL-separated arguments. */
void procinfo_set_args(procinfo *pi, const char *args, size_t len);

#endif
