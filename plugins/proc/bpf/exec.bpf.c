// SPDX-License-Identifier: GPL-2.0
/*
 * The exec probe: on the sched_process_exec tracepoint (tp_btf: a BTF
 * tracepoint, which this kernel loads where BPF LSM and fentry are refused)
 * it copies what the policy needs of the new program into a ring buffer:
 * pids, uids, comm, the name given to execve, argv and the cgroup id. It
 * runs in the exec'ing task at the end of execve, so everything it reads is
 * the new program's, however soon that program exits; the plugin no longer
 * needs /proc for it. Records that find the ring full are counted in
 * `dropped`, never lost silently.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "exec_event.h"

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4 << 20); /* ~3000 records: a burst the reader drains */
} events SEC(".maps");

__u64 dropped = 0;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&dropped, 1);
        return 0;
    }
    e->ns = bpf_ktime_get_ns();
    e->cgroup_id = bpf_get_current_cgroup_id();
    e->pid = BPF_CORE_READ(p, tgid);
    e->ppid = BPF_CORE_READ(p, real_parent, tgid);
    e->uid = BPF_CORE_READ(p, cred, uid.val);
    e->euid = BPF_CORE_READ(p, cred, euid.val);
    e->gid = BPF_CORE_READ(p, cred, gid.val);
    e->egid = BPF_CORE_READ(p, cred, egid.val);
    bpf_get_current_comm(e->comm, sizeof(e->comm));
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
    bpf_ringbuf_submit(e, 0);
    return 0;
}
