/*
 * The capabilities vigild keeps once its plugins are loaded, and why each.
 * Everything else (loading kernel modules, raw I/O, rebooting, setting the
 * clock, changing uids, ...) is dropped from the effective, permitted,
 * inheritable and bounding sets, so that a bug in a parser of untrusted
 * input cannot be turned into those. Capabilities are per thread: the drop
 * happens on the loop thread before any plugin starts a thread, and every
 * thread started later inherits the reduced sets.
 */
#include "daemon_int.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* docs/hardening.md lists the same, with the same reasons. */
static const struct {
    int cap;
    const char *why;
} keep[] = {
    {CAP_SYS_ADMIN, "fanotify marks on new containers, setns into their namespaces"},
    {CAP_SYS_PTRACE, "reading /proc/<pid>/exe, environ and ns of every process"},
    {CAP_DAC_READ_SEARCH, "reading runtime state and container files of any owner"},
    {CAP_DAC_OVERRIDE, "opening files of any mode for checks and scans"},
    {CAP_FOWNER, "setting the mode of its socket and state in directories it does not own"},
    {CAP_CHOWN, "giving the control socket to control_group"},
    {CAP_KILL, "stopping a process that protect mode denies after exec"},
    {CAP_NET_ADMIN, "the proc connector, network enforcement in containers' namespaces"},
    {CAP_NET_RAW, "packet capture in containers' namespaces"},
    {CAP_SYS_RESOURCE, "raising its own limits (open files, locked memory for BPF maps)"},
    {CAP_SYS_NICE, "running permission threads ahead of the processes they answer"},
    {CAP_IPC_LOCK, "locking memory for BPF maps and rings"},
    {CAP_BPF, "loading and updating BPF programs and maps"},
    {CAP_PERFMON, "attaching BPF programs to tracepoints"},
};

static bool kept(int cap)
{
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        if (keep[i].cap == cap)
            return true;
    return false;
}

static int last_cap(void)
{
    int last = CAP_LAST_CAP;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
    if (f) {
        if (fscanf(f, "%d", &last) != 1)
            last = CAP_LAST_CAP;
        fclose(f);
    }
    return last;
}

/* Threads of the process now: a thread started before the drop would keep
 * its capabilities. */
static int threads(void)
{
    int n = 0;
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

int vg__caps_drop(void)
{
    if (geteuid() != 0)
        return 0; /* an unprivileged daemon (tests) has nothing to drop */
    if (threads() > 1)
        vg_warn("capabilities: %d threads run already and keep theirs", threads() - 1);
    int last = last_cap();
    uint64_t mask = 0;
    for (int cap = 0; cap <= last && cap < 64; cap++) {
        if (kept(cap)) {
            mask |= 1ull << cap;
            continue;
        }
        /* Needs CAP_SETPCAP, which goes last, with the capset below. */
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
            int rc = -errno;
            vg_warn("capabilities: cannot drop %d from the bounding set: %s", cap, strerror(-rc));
            return rc;
        }
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        uint32_t m = (uint32_t)(mask >> (32 * i));
        data[i].effective &= m;
        data[i].permitted &= m;
        data[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &hdr, data) < 0) {
        int rc = -errno;
        vg_warn("capabilities: cannot drop: %s", strerror(-rc));
        return rc;
    }
    vg_info("capabilities: kept %zu, dropped the rest (docs/hardening.md)",
            sizeof(keep) / sizeof(keep[0]));
    return 0;
}
