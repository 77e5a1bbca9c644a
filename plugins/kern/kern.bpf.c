// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel facts for the incident policies, from two BPF tracepoints (the
 * only program kinds this project's target kernels load without ftrace:
 * tp_btf and raw_tracepoint; no LSM, fentry or kprobes).
 *
 * - tp_btf/sys_enter sees every system call of the host, so its first test
 *   is the cheapest possible one: the call number against the dozen calls
 *   of interest (numbers given by the loader: this file knows no
 *   architecture's table). Everything else returns at once. Of the calls
 *   of interest, opens are by far the most frequent: they go on only when
 *   they write, and are reported only when the path names a watched place
 *   (a prefix or a file name below). Records are built in the ring buffer
 *   and discarded when not wanted, so nothing is copied twice.
 * - tp_btf/sched_process_exec sees every exec: it reports only those of a
 *   process in a container's pid namespace whose file changed after the
 *   container's init started (drift), or that run with a terminal.
 *
 * What is seen is the attempt (at entry), not its result: an unshare
 * refused for lack of capabilities is reported all the same, which is what
 * an incident about trying wants. Paths are the caller's strings as given:
 * relative ones are matched by their file name only.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

typedef __u32 uint32_t;
typedef __s64 int64_t;
typedef __u64 uint64_t;
#include "kern_event.h"

char LICENSE[] SEC("license") = "GPL";

/* Filled by the loader before the programs load. */
const volatile __u32 self_tgid = 0;
const volatile __s64 boot_to_real_ns = 0; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
const volatile long nr_mount = -1, nr_umount2 = -1, nr_unshare = -1, nr_setns = -1,
                    nr_chroot = -1, nr_pivot_root = -1, nr_init_module = -1,
                    nr_finit_module = -1, nr_delete_module = -1, nr_ptrace = -1,
                    nr_socket = -1, nr_symlink = -1, nr_symlinkat = -1, nr_link = -1,
                    nr_linkat = -1, nr_open = -1, nr_openat = -1, nr_openat2 = -1,
                    nr_creat = -1, nr_unlink = -1, nr_unlinkat = -1, nr_truncate = -1,
                    nr_rename = -1, nr_renameat = -1, nr_renameat2 = -1;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Records are built in a per-CPU scratch record and copied to the ring
 * buffer only when wanted: a record reserved in the ring and discarded
 * would still hold its space until the reader passes it, and the reader is
 * not woken for discarded ones. `busy` keeps a program preempted on its
 * CPU (syscall tracepoints may fault) from sharing the record with the
 * next one. */
struct scratch {
    struct ke_record r;
    __u32 busy;
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} scratch SEC(".maps");

/* Records lost: the ring buffer was full or the scratch busy (read by the
 * plugin). */
__u64 lost = 0;

#define O_ACCMODE 03
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_RAW 3
#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206

static __always_inline struct ke_record *reserve(__u32 kind)
{
    __u32 zero = 0;
    struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
    if (!sc)
        return NULL;
    if (sc->busy) {
        __sync_fetch_and_add(&lost, 1);
        return NULL;
    }
    sc->busy = 1;
    struct ke_record *r = &sc->r;
    struct task_struct *t = bpf_get_current_task_btf();
    r->kind = kind;
    r->pid = bpf_get_current_pid_tgid() >> 32;
    r->ppid = BPF_CORE_READ(t, real_parent, tgid);
    r->uid = (__u32)bpf_get_current_uid_gid();
    r->flags = 0;
    r->arg = 0;
    r->ctime_ns = 0;
    r->started_ns = 0;
    bpf_get_current_comm(r->comm, sizeof(r->comm));
    BPF_CORE_READ_STR_INTO(&r->parent_comm, t, real_parent, comm);
    r->path[0] = 0;
    r->target[0] = 0;
    r->fstype[0] = 0;
    return r;
}

/* Copies the record to the ring buffer, or drops it; frees the scratch. */
static __always_inline void submit(struct ke_record *r)
{
    if (bpf_ringbuf_output(&events, r, sizeof(*r), 0) < 0)
        __sync_fetch_and_add(&lost, 1);
    ((struct scratch *)r)->busy = 0;
}

static __always_inline void discard(struct ke_record *r)
{
    ((struct scratch *)r)->busy = 0;
}

/* Copies a user string; its length without the NUL (0 when unreadable). */
static __always_inline int user_str(char *dst, const void *src)
{
    long n = src ? bpf_probe_read_user_str(dst, KE_PATH_MAX, src) : -1;
    if (n <= 0) {
        dst[0] = 0;
        return 0;
    }
    return (int)n - 1;
}

/* Whether s starts with p (n characters, p's NUL not included). */
static __always_inline bool starts(const char *s, const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] != p[i])
            return false;
    return true;
}
#define STARTS(s, lit) starts(s, lit, sizeof(lit) - 1)

/* Whether s (its string length len) ends with p. */
static __always_inline bool ends(const char *s, int len, const char *p, int n)
{
    if (len < n || len >= KE_PATH_MAX)
        return false;
    for (int i = 0; i < n; i++) {
        int j = (len - n + i) & (KE_PATH_MAX - 1);
        if (s[j] != p[i])
            return false;
    }
    return true;
}
#define ENDS(s, len, lit) ends(s, len, lit, sizeof(lit) - 1)

/* Names that matter wherever they are: a cgroup's release agent (the
 * classic escape) and shell histories. */
static __always_inline bool special_name(const char *s, int len)
{
    return ENDS(s, len, "release_agent") || ENDS(s, len, "notify_on_release") ||
           ENDS(s, len, "_history") || ENDS(s, len, "/.history");
}

/* Where a write is an incident's business: programs, libraries, the
 * configuration, the kernel's knobs, logs. */
static __always_inline bool write_watched(const char *s, int len)
{
    if (special_name(s, len))
        return true;
    if (s[0] != '/')
        return false;
    switch (s[1]) {
    case 'e':
        return STARTS(s, "/etc/");
    case 'b':
        return STARTS(s, "/bin/") || STARTS(s, "/boot/");
    case 's':
        return STARTS(s, "/sbin/") || STARTS(s, "/sys/");
    case 'l':
        return STARTS(s, "/lib/") || STARTS(s, "/lib64/") || STARTS(s, "/lib32/");
    case 'p':
        return STARTS(s, "/proc/sys/") || STARTS(s, "/proc/sysrq-trigger");
    case 'u':
        return STARTS(s, "/usr/bin/") || STARTS(s, "/usr/sbin/") || STARTS(s, "/usr/lib") ||
               STARTS(s, "/usr/local/bin/") || STARTS(s, "/usr/local/sbin/") ||
               STARTS(s, "/usr/local/lib/");
    case 'v':
        return STARTS(s, "/var/log/");
    }
    return false;
}

/* Where a deletion, truncation or rename is one: logs and histories. */
static __always_inline bool log_watched(const char *s, int len)
{
    return STARTS(s, "/var/log/") || ENDS(s, len, "_history") || ENDS(s, len, "/.history");
}

/* Not inlined (nor paths() below): one copy of the matching for the
 * verifier to check, not one per call site. */
static __noinline int on_open(const void *path, long flags)
{
    if ((flags & O_ACCMODE) == 0 && !(flags & (O_CREAT | O_TRUNC | O_APPEND)))
        return 0; /* a read: by far the most frequent; nothing to do */
    if ((bpf_get_current_pid_tgid() >> 32) == self_tgid)
        return 0;
    struct ke_record *r = reserve(KE_OPEN_WRITE);
    if (!r)
        return 0;
    int len = user_str(r->path, path);
    if (!write_watched(r->path, len)) {
        discard(r);
        return 0;
    }
    r->flags = flags;
    submit(r);
    return 0;
}

/* kind with path (and target), submitted when keep(path) or always. */
static __noinline int paths(__u32 kind, const void *path, const void *target, bool logs_only)
{
    struct ke_record *r = reserve(kind);
    if (!r)
        return 0;
    int len = user_str(r->path, path);
    if (logs_only && !log_watched(r->path, len)) {
        discard(r);
        return 0;
    }
    if (target)
        user_str(r->target, target);
    submit(r);
    return 0;
}

static __always_inline int plain(__u32 kind, long flags, long arg)
{
    struct ke_record *r = reserve(kind);
    if (!r)
        return 0;
    r->flags = flags;
    r->arg = arg;
    submit(r);
    return 0;
}

static __always_inline int on_mount(const void *src, const void *dst, const void *type, long fl)
{
    struct ke_record *r = reserve(KE_MOUNT);
    if (!r)
        return 0;
    user_str(r->path, dst);
    user_str(r->target, src);
    if (!type || bpf_probe_read_user_str(r->fstype, sizeof(r->fstype), type) < 0)
        r->fstype[0] = 0;
    r->flags = fl;
    submit(r);
    return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(vg_sys_enter, struct pt_regs *regs, long id)
{
    if (id == nr_openat) /* the hot one first */
        return on_open((void *)PT_REGS_PARM2_SYSCALL(regs), (long)PT_REGS_PARM3_SYSCALL(regs));
    /* Everything else but the calls below returns here, at the price of a
     * few comparisons. */
    if (id != nr_open && id != nr_openat2 && id != nr_creat && id != nr_mount &&
        id != nr_umount2 && id != nr_unshare && id != nr_setns && id != nr_chroot &&
        id != nr_pivot_root && id != nr_init_module && id != nr_finit_module &&
        id != nr_delete_module && id != nr_ptrace && id != nr_socket && id != nr_symlink &&
        id != nr_symlinkat && id != nr_link && id != nr_linkat && id != nr_unlink &&
        id != nr_unlinkat && id != nr_truncate && id != nr_rename && id != nr_renameat &&
        id != nr_renameat2)
        return 0;
    if ((bpf_get_current_pid_tgid() >> 32) == self_tgid)
        return 0;
    /* The system call's arguments, by this architecture's convention. */
    unsigned long a0 = PT_REGS_PARM1_SYSCALL(regs), a1 = PT_REGS_PARM2_SYSCALL(regs),
                  a2 = PT_REGS_PARM3_SYSCALL(regs), a3 = PT_REGS_PARM4_SYSCALL(regs);
    if (id == nr_open)
        return on_open((void *)a0, (long)a1);
    if (id == nr_creat)
        return on_open((void *)a0, O_CREAT | O_TRUNC | 1);
    if (id == nr_openat2) {
        __u64 fl = 0;
        bpf_probe_read_user(&fl, sizeof(fl), (void *)a2); /* struct open_how.flags */
        return on_open((void *)a1, (long)fl);
    }
    if (id == nr_mount)
        return on_mount((void *)a0, (void *)a1, (void *)a2, (long)a3);
    if (id == nr_umount2)
        return paths(KE_UMOUNT, (void *)a0, NULL, false);
    if (id == nr_unshare)
        return plain(KE_UNSHARE, (long)a0, 0);
    if (id == nr_setns)
        return plain(KE_SETNS, (long)a1, (long)a0);
    if (id == nr_chroot)
        return paths(KE_CHROOT, (void *)a0, NULL, false);
    if (id == nr_pivot_root)
        return paths(KE_PIVOT_ROOT, (void *)a0, (void *)a1, false);
    if (id == nr_init_module || id == nr_finit_module || id == nr_delete_module)
        return plain(KE_MODULE, id == nr_delete_module ? 1 : 0, 0);
    if (id == nr_ptrace) {
        if (a0 != PTRACE_ATTACH && a0 != PTRACE_SEIZE)
            return 0;
        return plain(KE_PTRACE, (long)a0, (long)a1);
    }
    if (id == nr_socket) {
        if (a0 != AF_PACKET && !((a0 == AF_INET || a0 == AF_INET6) && (a1 & 0xf) == SOCK_RAW))
            return 0;
        return plain(KE_RAW_SOCKET, (long)a1, (long)a0);
    }
    if (id == nr_symlink)
        return paths(KE_SYMLINK, (void *)a1, (void *)a0, false);
    if (id == nr_symlinkat)
        return paths(KE_SYMLINK, (void *)a2, (void *)a0, false);
    if (id == nr_link)
        return paths(KE_LINK, (void *)a1, (void *)a0, false);
    if (id == nr_linkat)
        return paths(KE_LINK, (void *)a3, (void *)a1, false);
    if (id == nr_unlink)
        return paths(KE_UNLINK, (void *)a0, NULL, true);
    if (id == nr_unlinkat)
        return paths(KE_UNLINK, (void *)a1, NULL, true);
    if (id == nr_truncate)
        return paths(KE_TRUNCATE, (void *)a0, NULL, true);
    if (id == nr_rename)
        return paths(KE_RENAME, (void *)a0, (void *)a1, true);
    if (id == nr_renameat || id == nr_renameat2)
        return paths(KE_RENAME, (void *)a1, (void *)a3, true);
    return 0;
}

/* Kernels before 6.11 kept the change time in one timespec64. */
struct inode___v66 {
    struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___v65 {
    struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

/* Since 6.13 the top bits of i_ctime_nsec are flags (I_CTIME_QUERIED, for
 * multigrain timestamps); nanoseconds fit in 30 bits. */
#define CTIME_NSEC_MASK ((1u << 30) - 1)

static __always_inline __u64 ctime_of(struct inode *ino)
{
    if (bpf_core_field_exists(ino->i_ctime_sec))
        return (__u64)BPF_CORE_READ(ino, i_ctime_sec) * 1000000000ull +
               (BPF_CORE_READ(ino, i_ctime_nsec) & CTIME_NSEC_MASK);
    struct timespec64 ts = {};
    if (bpf_core_field_exists(((struct inode___v66 *)ino)->__i_ctime))
        ts = BPF_CORE_READ((struct inode___v66 *)ino, __i_ctime);
    else
        ts = BPF_CORE_READ((struct inode___v65 *)ino, i_ctime);
    return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    struct pid_namespace *ns = BPF_CORE_READ(p, nsproxy, pid_ns_for_children);
    if (!ns || BPF_CORE_READ(ns, level) == 0)
        return 0; /* the host's processes: not a container's drift */
    struct task_struct *init = BPF_CORE_READ(ns, child_reaper);
    if (!init)
        return 0;
    __u64 started = BPF_CORE_READ(init, start_boottime) + boot_to_real_ns;
    __u64 changed = ctime_of(BPF_CORE_READ(bprm, file, f_inode));
    bool tty = BPF_CORE_READ(p, signal, tty) != NULL;
    bool drift = changed > started;
    if (!drift && !tty)
        return 0;
    for (int k = 0; k < 2; k++) {
        if ((k == 0 && !drift) || (k == 1 && !tty))
            continue;
        struct ke_record *r = reserve(k == 0 ? KE_EXEC_DRIFT : KE_EXEC_TTY);
        if (!r)
            return 0;
        r->ctime_ns = changed;
        r->started_ns = started;
        const char *fn = BPF_CORE_READ(bprm, filename);
        if (bpf_probe_read_kernel_str(r->path, sizeof(r->path), fn) < 0)
            r->path[0] = 0;
        submit(r);
    }
    return 0;
}
