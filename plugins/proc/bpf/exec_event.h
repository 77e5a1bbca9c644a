/*
 * The records the probe (exec.bpf.c) writes into its ring buffer, read by
 * bpfexec.c: one per exec, per new process (fork) and per process exit,
 * in the order they happened. Each starts with its kind. Shared by the BPF
 * program and the plugin: fixed-size fields only.
 */
#ifndef PROC_EXEC_EVENT_H
#define PROC_EXEC_EVENT_H

#define EXEC_COMM_MAX 16
#define EXEC_FILENAME_MAX 256
#define EXEC_ARGS_MAX 1024 /* argv, NUL-separated, cut there */
#define EXEC_PATH_MAX 256  /* the program's path, when it fits */

/* EXEC_EV_WAKE: no event, only a wake-up (exec.bpf.c, wake_if_idle). */
enum { EXEC_EV_EXEC = 1, EXEC_EV_FORK = 2, EXEC_EV_EXIT = 3, EXEC_EV_WAKE = 4 };

/* A new process (not a thread), or the exit of a process (its thread-group
 * leader). */
struct task_event {
    unsigned int kind; /* EXEC_EV_FORK or EXEC_EV_EXIT */
    unsigned int pid;  /* the new or exiting process */
    unsigned long long ns;
    unsigned long long cgroup_id; /* exit: the exiting process's */
    unsigned int ppid;            /* fork: the parent process */
    unsigned int exit_code;       /* exit: as wait() reports it */
};

struct exec_event {
    unsigned int kind;            /* EXEC_EV_EXEC */
    unsigned int mnt_ns;          /* the inode of its mount namespace */
    unsigned long long ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    unsigned long long cgroup_id; /* the process's cgroup (v2) */
    unsigned int pid, ppid;       /* thread-group ids */
    unsigned int uid, euid, gid, egid;
    unsigned int parent_euid;   /* the parent's, at the exec */
    unsigned int stdio_socket;  /* stdin or stdout is a TCP/UDP socket */
    unsigned int exe_dev;       /* the program's file (a script's interpreter): */
    unsigned long long exe_ino; /* its device (the kernel's encoding), inode */
    unsigned int args_len;      /* bytes of args used */
    unsigned int path_len;      /* exe_path's length; 0: not known (read the file's) */
    char comm[EXEC_COMM_MAX];
    char parent_comm[EXEC_COMM_MAX];
    char filename[EXEC_FILENAME_MAX]; /* the name given to execve, as given */
    /* The program's file (a script's interpreter) as readlink of a
     * descriptor on it says, in the mount namespace it was reached in:
     * "/bin/busybox" in a container. Not known for a file deleted or of
     * no file system (memfd), or a path too deep or too long. */
    char exe_path[EXEC_PATH_MAX];
    char args[EXEC_ARGS_MAX]; /* last: the record in the ring ends after args_len */
};

/* exe_dev is the kernel's dev_t: major << 20 | minor. */
#define EXEC_DEV_MAJOR(d) ((d) >> 20)
#define EXEC_DEV_MINOR(d) ((d)&0xfffff)

#endif
