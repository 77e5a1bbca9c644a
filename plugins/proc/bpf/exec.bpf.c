// SPDX-License-Identifier: GPL-2.0
/*
 * The exec probe: on the sched_process_exec tracepoint (tp_btf: a BTF
 * tracepoint, which this kernel loads where BPF LSM and fentry are refused)
 * it copies what the policy needs of the new program into a ring buffer:
 * pids, uids, comm, the name given to execve, argv and the cgroup id. It
 * runs in the exec'ing task at the end of execve, so everything it reads is
 * the new program's (and its parent's euid, for privilege escalation),
 * however soon that program exits; the plugin no longer
 * needs /proc for it. Records that find the ring full are counted in
 * `dropped`, never lost silently.
 *
 * New processes (sched_process_fork) and their exits (sched_process_exit)
 * go into the same ring, so that the plugin needs no proc connector for
 * them and reads everything of a process in the order it happened. Only
 * an exec wakes the reader: a fork or an exit waits in the ring for the
 * next exec or the reader's periodic look, one wake-up per exec instead of
 * three.
 *
 * Not even every exec wakes it (bpfexec.h, "Pacing"): while the reader is
 * `batching` it looks at the ring on its own every few milliseconds, and
 * an exec in a cgroup it called `relaxed` (no protected workload: nothing
 * is killed at its exec) waits for that look. An exec in any other cgroup
 * (a protected one, or one the reader does not know yet) wakes it at once.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "exec_event.h"

char LICENSE[] SEC("license") = "GPL";

/* 1 MiB (mapped twice into the daemon: 2 MiB of its memory): some 2,500
 * execs with their forks and exits, since an exec's record is only as long
 * as its arguments; a burst the reader drains. */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Where the program's path is put together, from its end backwards: the
 * path in the first half, so that a name of up to 255 bytes written at any
 * offset of it stays inside. */
#define PATH_BUF 1024
#define PATH_HALF 512
#define PATH_STEPS 40 /* components and mount crossings */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, char[PATH_BUF]);
} pathbuf SEC(".maps");

/* Where an exec's record is made before its used part is copied into the
 * ring (a ring reservation has a constant size). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct exec_event);
} scratch SEC(".maps");

__u64 dropped = 0;

/* Written by the reader (bpfexec.c). `batching`: it looks at the ring on
 * its own soon. `generation`: the reader's generation of workloads and
 * modes; a relaxed entry of an older one says nothing. */
__u64 batching = 0;
__u64 generation = 0;

/* The cgroups whose execs may wait for the reader's look: cgroup id ->
 * the generation the reader said so in. LRU: a cgroup forgotten is only
 * woken for again. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4096);
    __type(key, __u64);
    __type(value, __u64);
} relaxed SEC(".maps");

/* Not in vmlinux.h (macros). */
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10

/* Whether descriptor fd of p is a TCP/UDP (IPv4 or IPv6) socket: a shell
 * with one as its stdin or stdout is how a reverse shell looks. */
static __always_inline int fd_is_inet(struct task_struct *p, unsigned int fd)
{
    struct fdtable *fdt = BPF_CORE_READ(p, files, fdt);
    if (fd >= BPF_CORE_READ(fdt, max_fds))
        return 0;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = NULL;
    if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) < 0 || !f)
        return 0;
    if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
        return 0;
    struct socket *sock = BPF_CORE_READ(f, private_data);
    unsigned short family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
    return family == AF_INET || family == AF_INET6;
}

/* Whether an exec in cgroup cg may wait for the reader's next look. */
static __always_inline int may_wait(__u64 cg)
{
    if (!batching)
        return 0;
    __u64 *gen = bpf_map_lookup_elem(&relaxed, &cg);
    return gen && *gen == generation;
}

/* The reader stopped batching between may_wait() and the record it did
 * not wake for: a small record that wakes it. The fetch is a full barrier,
 * so either the reader's last look saw the record (it set `batching` to 0
 * before looking) or this read sees 0. */
static __always_inline void wake_if_idle(void)
{
    if (__sync_fetch_and_add(&batching, 0))
        return;
    struct task_event *t = bpf_ringbuf_reserve(&events, sizeof(*t), 0);
    if (!t)
        return;
    __builtin_memset(t, 0, sizeof(*t));
    t->kind = EXEC_EV_WAKE;
    bpf_ringbuf_submit(t, BPF_RB_FORCE_WAKEUP);
}

/* The path of f as d_path() gives it for readlink of a descriptor on f
 * (fs/d_path.c, prepend_path): its names up to its mount's root, across
 * mounts up to the root of their namespace, which for a container's
 * process is its root. 0, or -1 where d_path would say more than names (a
 * deleted file, a file of no file system) or the path is too deep or too
 * long: the plugin then reads it from the exec open's descriptor. A rename
 * during the walk may give a mixed path; readlink, later, would give the
 * name after it. */
/* The walk's state, one step per bpf_loop() call (a loop the verifier
 * would follow through every path is too large for it). */
struct walk {
    struct dentry *d;
    struct mount *mnt;
    char *buf;
    unsigned int pos; /* where the path starts in buf */
    int end;          /* 1: at the namespace's root; -1: no path to give */
};

static long walk_step(__u64 i, void *arg)
{
    struct walk *w = arg;
    struct dentry *d = w->d;
    struct mount *mnt = w->mnt;
    if (d == BPF_CORE_READ(mnt, mnt.mnt_root)) {
        struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
        if (up == mnt) {
            w->end = 1; /* the root of its namespace */
            return 1;
        }
        w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
        w->mnt = up;
        return 0;
    }
    struct dentry *parent = BPF_CORE_READ(d, d_parent);
    unsigned int len = BPF_CORE_READ(d, d_name.len);
    unsigned int pos = w->pos;
    if (d == parent || len == 0 || len > 255 || pos < len + 1 || pos > PATH_HALF) {
        w->end = -1; /* disconnected, or too long */
        return 1;
    }
    pos -= len + 1;
    char *at = w->buf + (pos & (PATH_HALF - 1));
    at[0] = '/';
    if (bpf_probe_read_kernel(at + 1, len & 255, BPF_CORE_READ(d, d_name.name)) < 0) {
        w->end = -1;
        return 1;
    }
    w->pos = pos;
    w->d = parent;
    return 0;
}

/* The path of f as d_path() gives it for readlink of a descriptor on f
 * (fs/d_path.c, prepend_path): its names up to its mount's root, across
 * mounts up to the root of their namespace, which for a container's
 * process is its root. Its length, or 0 where d_path would say more than
 * names (a deleted file, a file of no file system) or the path is too deep
 * or too long: the plugin then reads it from the exec open's descriptor.
 * A rename during the walk may give a mixed path; readlink, later, would
 * give the name after it. */
static __always_inline unsigned int exe_path(struct file *f, char *out)
{
    __u32 zero = 0;
    char *buf = bpf_map_lookup_elem(&pathbuf, &zero);
    if (!buf)
        return 0;
    struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
    struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
    if (BPF_CORE_READ(d, d_op, d_dname) ||
        (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d))
        return 0; /* pseudo file (memfd), or unlinked: " (deleted)" */
    struct walk w = {
        .d = d, .mnt = container_of(vm, struct mount, mnt), .buf = buf, .pos = PATH_HALF, .end = 0};
    bpf_loop(PATH_STEPS, walk_step, &w, 0);
    if (w.end != 1)
        return 0;
    unsigned int pos = w.pos;
    if (pos >= PATH_HALF) {
        out[0] = '/'; /* the root itself */
        out[1] = '\0';
        return 1;
    }
    unsigned int len = PATH_HALF - pos;
    if (len >= EXEC_PATH_MAX)
        return 0;
    if (bpf_probe_read_kernel(out, len & (EXEC_PATH_MAX - 1), buf + (pos & (PATH_HALF - 1))) < 0)
        return 0;
    out[len & (EXEC_PATH_MAX - 1)] = '\0';
    return len;
}

/* An exec's record. full: with the program's path and pacing, which need
 * bpf_loop() (Linux 5.17) and atomic fetches (5.12); without, every exec
 * wakes the reader and the path is read from the exec open, as on the
 * older kernels the probe also loads on (bpfexec.c loads on_exec, or
 * on_exec_basic where on_exec is refused). */
static __always_inline int record_exec(struct task_struct *p, struct linux_binprm *bprm,
                                       const int full)
{
    __u32 zero = 0;
    struct exec_event *e = bpf_map_lookup_elem(&scratch, &zero);
    if (!e)
        return 0;
    e->kind = EXEC_EV_EXEC;
    e->mnt_ns = BPF_CORE_READ(p, nsproxy, mnt_ns, ns.inum);
    e->ns = bpf_ktime_get_ns();
    e->cgroup_id = bpf_get_current_cgroup_id();
    e->pid = BPF_CORE_READ(p, tgid);
    e->ppid = BPF_CORE_READ(p, real_parent, tgid);
    e->uid = BPF_CORE_READ(p, cred, uid.val);
    e->euid = BPF_CORE_READ(p, cred, euid.val);
    e->gid = BPF_CORE_READ(p, cred, gid.val);
    e->egid = BPF_CORE_READ(p, cred, egid.val);
    e->parent_euid = BPF_CORE_READ(p, real_parent, cred, euid.val);
    e->stdio_socket = fd_is_inet(p, 0) || fd_is_inet(p, 1);
    e->exe_dev = BPF_CORE_READ(p, mm, exe_file, f_inode, i_sb, s_dev);
    e->exe_ino = BPF_CORE_READ(p, mm, exe_file, f_inode, i_ino);
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    BPF_CORE_READ_STR_INTO(&e->parent_comm, p, real_parent, comm);
    e->path_len = full ? exe_path(BPF_CORE_READ(bprm, file), e->exe_path) : 0;
    const char *filename = BPF_CORE_READ(bprm, filename);
    if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename) < 0)
        e->filename[0] = '\0';
    unsigned long start = BPF_CORE_READ(p, mm, arg_start);
    unsigned long end = BPF_CORE_READ(p, mm, arg_end);
    unsigned long len = end > start ? end - start : 0;
    if (len > EXEC_ARGS_MAX - 1)
        len = EXEC_ARGS_MAX - 1;
    if (bpf_probe_read_user(e->args, len, (const void *)start) < 0)
        len = 0;
    e->args_len = len;
    /* Forced when it wakes: forks and exits before it, not read yet, took
     * no wake-up, and the ring wakes on its own only when the reader has
     * caught up. */
    __u64 size = offsetof(struct exec_event, args) + (len & (EXEC_ARGS_MAX - 1));
    int wait = full && may_wait(e->cgroup_id);
    if (bpf_ringbuf_output(&events, e, size, wait ? BPF_RB_NO_WAKEUP : BPF_RB_FORCE_WAKEUP) < 0) {
        __sync_fetch_and_add(&dropped, 1);
        return 0;
    }
    if (wait)
        wake_if_idle();
    return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    return record_exec(p, bprm, 1);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec_basic, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    return record_exec(p, bprm, 0);
}

static __always_inline void task_record(unsigned int kind, unsigned int pid, unsigned int ppid,
                                        unsigned int exit_code)
{
    struct task_event *t = bpf_ringbuf_reserve(&events, sizeof(*t), 0);
    if (!t) {
        __sync_fetch_and_add(&dropped, 1);
        return;
    }
    t->kind = kind;
    t->pid = pid;
    t->ns = bpf_ktime_get_ns();
    t->cgroup_id = kind == EXEC_EV_EXIT ? bpf_get_current_cgroup_id() : 0;
    t->ppid = ppid;
    t->exit_code = exit_code;
    bpf_ringbuf_submit(t, BPF_RB_NO_WAKEUP);
}

/* A new process; a new thread is none. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
    unsigned int pid = BPF_CORE_READ(child, pid), tgid = BPF_CORE_READ(child, tgid);
    if (pid == tgid)
        task_record(EXEC_EV_FORK, tgid, BPF_CORE_READ(parent, tgid), 0);
    return 0;
}

/* A process ends when its thread-group leader exits (as the proc connector
 * tells it). Runs in the exiting task: its cgroup is the current one. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
    unsigned int pid = BPF_CORE_READ(p, pid), tgid = BPF_CORE_READ(p, tgid);
    if (pid == tgid)
        task_record(EXEC_EV_EXIT, tgid, 0, BPF_CORE_READ(p, exit_code));
    return 0;
}
