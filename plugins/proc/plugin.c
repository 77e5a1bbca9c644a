/*
 * The proc plugin: every process started, changing its uid, or exiting on the
 * host becomes an event (proc.exec, proc.uid, proc.exit). An exec's pids,
 * uids, argv and parent come from the BPF exec probe (bpfexec.c) when it
 * loads, from /proc otherwise; the file a container's process exec'd from
 * the exec opens fanotify tells (execwatch.c); its workload from its cgroup,
 * cached by cgroup id (cgcache.c).
 *
 * A reader thread owns the netlink socket, the probe's ring, the exec
 * notification group and the table of live processes;
 * it publishes through the host's thread-safe publish(). Every event carries
 * the workload and group of its process. In a group in protect mode, a
 * process whose name, path and user no rule allows is killed at its exec
 * event (the check after the pre-exec one of protect.c, which sees only the
 * file; docs/proc.md says what each guarantees). When the kernel
 * drops events (the socket buffer overflowed in a burst) the loss is counted
 * and /proc is rescanned, so that processes started meanwhile are still
 * reported (with "rescan": true).
 */
#include <dirent.h>
#include <errno.h>
#include <msgpack.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <vigil/plugin.h>

#include "bpfexec.h"
#include "cgcache.h"
#include "cgpath.h"
#include "connector.h"
#include "execwatch.h"
#include "heldq.h"
#include "pidtab.h"
#include "procinfo.h"
#include "protect.h"
#include "monoclock.h"

typedef struct proc_plugin {
    const vg_host_api *api;
    vg_host *h;
    int t_exec, t_exit, t_uid, t_gid, t_overflow, t_violation, t_stats;
    const char *proc_root;
    struct nl_sock *sk;
    int stop_fd;
    pthread_t thread;
    bool running;
    pidtab *pids;
    atomic_ulong overflows;
    msgpack_sbuffer sb; /* reader thread only */
    heldq *held;        /* reader thread only: events held for one wake-up */
    protect *prot;      /* NULL without fanotify */
    execwatch *ew;      /* NULL without fanotify: paths from /proc only */
    bpfexec *bx;        /* NULL without BPF: execs from the connector and /proc */
    cgcache *cg;        /* with bx: workloads by cgroup id */
    cgpath *cgp;        /* with bx: cgroup paths by id (NULL without cgroup2) */
    int t_incident;
    int fail_verdict;   /* plugins.proc.fail_mode */
    bool protect_nodes; /* plugins.proc.protect_nodes */
    bool verify_paths;  /* plugins.proc.verify_exec_paths */
    int64_t stats_interval_ms;
    int64_t next_stats_ms;
    atomic_ulong kills;           /* processes killed at their exec event */
    vg_workload_view wv;          /* reader thread: the current event's workload */
    uint64_t event_ns;            /* reader thread: the kernel's time of the event */
    unsigned event_mnt_ns;        /* reader thread: the exec's mount namespace (probe), 0 */
    unsigned host_mnt_ns;         /* the host's mount namespace (pid 1's), 0: unreadable */
    _Atomic uint64_t kill_ns_max; /* the slowest kill after an exec */
} proc_plugin;

/* ---- event bodies ------------------------------------------------------- */

static void kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_int64(pk, v);
}

static void kv_bool(msgpack_packer *pk, const char *k, bool v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    v ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}

/* Starts an event body of n keys in p->sb. */
static void begin_body(proc_plugin *p, msgpack_packer *pk, size_t n)
{
    p->sb.size = 0;
    msgpack_packer_init(pk, &p->sb, msgpack_sbuffer_write);
    msgpack_pack_map(pk, n);
}

/* Publishes the body in p->sb with the workload and group of p->wv: held
 * for a few milliseconds with the others (heldq.h), unless a protected
 * workload's or a warning, which go at once with what was held before. */
static void publish(proc_plugin *p, int type, int severity)
{
    vg_event_in ev = {.type = type,
                      .severity = severity,
                      .workload = p->wv.id,
                      .group = p->wv.group,
                      .body = p->sb.data,
                      .body_len = p->sb.size};
    if (severity >= VG_SEV_WARNING || p->wv.mode == VG_MODE_PROTECT) {
        heldq_flush(p->held, p->api, p->h); /* what came before goes first */
        p->api->publish(p->h, &ev);
        return;
    }
    heldq_hold(p->held, p->api, p->h, &ev, vg_mono_ns());
}

/* Publishes the events held back when the oldest is due. */
static void publish_due(proc_plugin *p)
{
    if (heldq_due_ms(p->held, vg_mono_ns()) == 0)
        heldq_flush(p->held, p->api, p->h);
}

/* The workload of pid into p->wv; an unknown one (a container not
 * discovered yet, a process gone) leaves both header fields empty. */
static bool tag(proc_plugin *p, pid_t pid)
{
    if (p->api->abi_minor >= 1 && p->api->workload_of_pid(p->h, pid, &p->wv) == 0)
        return true;
    memset(&p->wv, 0, sizeof(p->wv));
    return false;
}

/* Remembers a process's name. Its uids are taken from the exec only when
 * the process is new to the table: one known since its fork keeps the uids
 * it inherited, changed by the uid events, because the exec may be handled
 * before a uid change that came before it (the probe's ring and the
 * connector are read apart; /proc, read a moment after the exec, may show a
 * later change). */
static void remember(proc_plugin *p, const procinfo *pi, bool rescan)
{
    const pidtab_entry *old = pidtab_get(p->pids, pi->pid);
    /* An exec sets the saved uid to the effective one. */
    pidtab_entry e =
        old ? *old
            : (pidtab_entry){.pid = pi->pid, .uid = pi->uid, .euid = pi->euid, .suid = pi->euid};
    /* A process found running (not at its exec) may hold another saved uid. */
    if (!old && rescan)
        e.suid = procinfo_read_suid(p->proc_root, pi->pid, pi->uid, pi->euid);
    memcpy(e.name, pi->name, sizeof(e.name));
    pidtab_put(p->pids, &e);
}

/* A new process starts with its parent's identity. Threads are not
 * processes and are skipped. */
static void on_fork(proc_plugin *p, pid_t child_pid, pid_t parent_pid)
{
    const pidtab_entry *parent = pidtab_get(p->pids, parent_pid);
    /* The exec probe's record of the child's exec may have been read
     * before this fork event: what the child runs now wins. */
    if (!parent || (p->bx && pidtab_get(p->pids, child_pid)))
        return;
    pidtab_entry child = *parent;
    child.pid = child_pid;
    pidtab_put(p->pids, &child);
}

/* A program that is no file of any file system: memfd_create + fexecve,
 * or a file deleted before it ran. */
static bool fileless(const procinfo *pi)
{
    size_t n = strlen(pi->path);
    return strncmp(pi->path, "/memfd:", 7) == 0 ||
           (n > 10 && strcmp(pi->path + n - 10, " (deleted)") == 0);
}

/* Whether pid is still in the host's mount namespace (that of pid 1). The
 * runtime's helper (runc init) runs from the runc binary, on the host's
 * file system, at times already in the container's cgroup but not yet in
 * its mount namespace: it is not the container's process until its last
 * exec, which is judged. A container's process cannot go back to the
 * host's namespace (a new one of its own, made with unshare, is judged).
 * A process whose namespace cannot be read is gone: nothing to kill. */
static bool in_host_mnt(proc_plugin *p, pid_t pid)
{
    /* The probe read the namespace at the exec: no /proc read. The
     * host's, unreadable at start, is not known below either. */
    if (p->event_mnt_ns)
        return p->host_mnt_ns && p->event_mnt_ns == p->host_mnt_ns;
    char path[64], mine[64] = "", host[64] = "";
    snprintf(path, sizeof(path), "%s/%d/ns/mnt", p->proc_root, (int)pid);
    ssize_t n = readlink(path, mine, sizeof(mine) - 1);
    if (n <= 0)
        return true;
    mine[n] = '\0';
    snprintf(path, sizeof(path), "%s/1/ns/mnt", p->proc_root);
    n = readlink(path, host, sizeof(host) - 1);
    if (n <= 0)
        return false;
    host[n] = '\0';
    return strcmp(mine, host) == 0;
}

/* Whether the process just executed may run, for a process of a group in
 * protect mode (the host's "nodes" only with protect_nodes). The question
 * is the full subject, the same fields proc.exec carries and learning
 * stored; not allowed (an UNKNOWN included: nothing allowed it) means
 * killed. */
static bool must_kill(proc_plugin *p, const procinfo *pi, const char *user, bool odd)
{
    if (p->wv.mode != VG_MODE_PROTECT || (!p->wv.id[0] && !p->protect_nodes) ||
        !VG_HOST_HAS(p->api, decide))
        return false;
    if (p->wv.id[0] && in_host_mnt(p, pi->pid))
        return false;
    /* A fileless program's "path" is a name its maker chose: no rule can
     * name what it runs. */
    if (odd)
        return true;
    vg_subject s = {.plane = VG_PLANE_PROC,
                    .group = p->wv.group,
                    .proc = {.name = pi->name, .path = pi->path, .user = user}};
    return p->api->decide(p->h, &s) != VG_DECIDE_ALLOW;
}

/* Kills first, then reports: the violation replaces the proc.exec event of
 * a process that was not allowed to run. */
static void kill_denied(proc_plugin *p, const procinfo *pi, const char *user)
{
    kill(pi->pid, SIGKILL);
    atomic_fetch_add(&p->kills, 1);
    /* How long the process ran: the kernel stamps its events with the
     * monotonic clock. 0 for a process found by a rescan. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint64_t ran = p->event_ns && now > p->event_ns ? now - p->event_ns : 0;
    if (ran > atomic_load(&p->kill_ns_max))
        atomic_store(&p->kill_ns_max, ran);
    msgpack_packer pk;
    begin_body(p, &pk, 9);
    kv_str(&pk, "action", "deny");
    kv_str(&pk, "enforcement", "kill");
    kv_int(&pk, "ran_ns", (int64_t)ran);
    kv_str(&pk, "event_type", "proc.exec");
    kv_int(&pk, "pid", pi->pid);
    kv_str(&pk, "name", pi->name);
    kv_str(&pk, "path", pi->path);
    kv_str(&pk, "user", user);
    kv_str(&pk, "cmdline", pi->cmdline);
    publish(p, p->t_violation, VG_SEV_WARNING);
}

/* What the kernel exec'd, from the exec opens it told at the exec (when the
 * process is in a container): the program's path, and for a script, the
 * script as the process's path and name with its interpreter beside.
 * These are known however soon the process exited; /proc/<pid>/exe is not
 * (a zombie has none). Returns the script interpreter's path or NULL. */
/* A name from a file's path: its last component, cut as comm is. */
static void name_of_path(char *name, size_t size, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t len = strnlen(base, size - 1);
    memcpy(name, base, len);
    name[len] = '\0';
}

static const char *exec_paths(proc_plugin *p, procinfo *pi, exec_chain *c,
                              const struct exec_event *e)
{
    bool later = false, from_proc = !e;
    c->n = 0;
    c->workload[0] = '\0';
    if (!p->ew)
        return NULL;
    /* The probe says which file the exec ran: the kernel's dev_t is
     * major << 20 | minor. */
    if (e ? !execwatch_take_file(p->ew, pi->pid, EXEC_DEV_MAJOR(e->exe_dev),
                                 EXEC_DEV_MINOR(e->exe_dev), e->exe_ino,
                                 e->path_len ? e->exe_path : NULL, c)
          : !execwatch_take(p->ew, pi->pid, c, &later))
        return NULL;
    const char *prog = exec_chain_program(c);
    const char *script = exec_chain_script(c);
    if (later && from_proc && c->n > 0) {
        /* /proc shows the program the process exec'd after this one: of
         * this exec only what the kernel told is known; the name is its
         * file's. */
        name_of_path(pi->name, sizeof(pi->name), c->path[0]);
        pi->cmdline[0] = '\0';
        pi->stdio_socket = false;
    }
    if (script) {
        name_of_path(pi->name, sizeof(pi->name), script);
        snprintf(pi->path, sizeof(pi->path), "%s", script);
        return prog ? prog : "";
    }
    if (prog)
        snprintf(pi->path, sizeof(pi->path), "%s", prog);
    return NULL;
}

static void publish_fileless(proc_plugin *p, const procinfo *pi, const char *user, bool killed)
{
    msgpack_packer pk;
    begin_body(p, &pk, 8);
    kv_str(&pk, "incident", "fileless_exec");
    kv_str(&pk, "message", "a program ran from memory or a deleted file");
    kv_str(&pk, "action", killed ? "deny" : "alert");
    kv_str(&pk, "event_type", "proc.exec");
    kv_int(&pk, "pid", pi->pid);
    kv_str(&pk, "name", pi->name);
    kv_str(&pk, "path", pi->path);
    kv_str(&pk, "user", user);
    publish(p, p->t_incident, VG_SEV_CRITICAL);
}

/* proc.exec of the process in pi (its workload in p->wv), or its violation
 * when a protected group does not allow it. interp: a script's
 * interpreter, or NULL. */
static void report_exec(proc_plugin *p, procinfo *pi, const char *interp, bool rescan)
{
    char user[16];
    snprintf(user, sizeof(user), "%u", (unsigned)pi->euid);
    bool odd = p->wv.id[0] && fileless(pi) && !in_host_mnt(p, pi->pid);
    if (must_kill(p, pi, user, odd)) {
        kill_denied(p, pi, user);
        if (odd)
            publish_fileless(p, pi, user, true);
        return;
    }
    if (odd)
        publish_fileless(p, pi, user, false);
    const pidtab_entry *parent = pidtab_get(p->pids, pi->ppid);
    msgpack_packer pk;
    begin_body(p, &pk, 13 + (rescan ? 1 : 0) + (interp ? 1 : 0) + (odd ? 1 : 0));
    kv_int(&pk, "pid", pi->pid);
    kv_str(&pk, "user", user);
    kv_int(&pk, "ppid", pi->ppid);
    kv_str(&pk, "name", pi->name);
    kv_str(&pk, "path", pi->path);
    kv_str(&pk, "cmdline", pi->cmdline);
    kv_int(&pk, "uid", pi->uid);
    kv_int(&pk, "euid", pi->euid);
    kv_int(&pk, "gid", pi->gid);
    /* The parent as the table knows it (its argv[0] name); the probe's
     * view of it at the exec when the table does not know it, and always
     * for its euid: the table may not have seen its last uid change yet. */
    kv_str(&pk, "parent_name", parent ? parent->name : pi->parent_name);
    kv_int(&pk, "parent_euid",
           pi->parent_euid >= 0 ? pi->parent_euid
           : parent             ? (int64_t)parent->euid
                                : -1);
    kv_str(&pk, "cgroup", pi->cgroup);
    kv_bool(&pk, "stdio_socket", pi->stdio_socket);
    if (interp)
        kv_str(&pk, "interpreter", interp);
    if (odd)
        kv_bool(&pk, "fileless", true);
    if (rescan)
        kv_bool(&pk, "rescan", true);
    remember(p, pi, rescan);
    publish(p, p->t_exec, VG_SEV_INFO);
}

/* An exec told by the proc connector (no BPF probe), or found by a rescan:
 * its details from /proc. When /proc is already gone, the event still says
 * what the kernel told: the pid, and "gone": true. */
static void on_exec(proc_plugin *p, pid_t pid, bool rescan)
{
    procinfo pi;
    if (procinfo_read(p->proc_root, pid, &pi) < 0) {
        tag(p, pid);
        msgpack_packer pk;
        begin_body(p, &pk, 2);
        kv_int(&pk, "pid", pid);
        kv_bool(&pk, "gone", true);
        publish(p, p->t_exec, VG_SEV_INFO);
        return;
    }
    exec_chain chain;
    const char *interp = exec_paths(p, &pi, &chain, NULL);
    tag(p, pid);
    report_exec(p, &pi, interp, rescan);
}

/* Whether pid still runs the file the probe saw it exec (not gone, not
 * exec'd again since): for comparing paths. */
static bool same_exe(proc_plugin *p, pid_t pid, const struct exec_event *e)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%d/exe", p->proc_root, (int)pid);
    return stat(path, &st) == 0 && st.st_ino == e->exe_ino &&
           major(st.st_dev) == EXEC_DEV_MAJOR(e->exe_dev) &&
           minor(st.st_dev) == EXEC_DEV_MINOR(e->exe_dev);
}

/* The program's path of an exec with no exec opens (a host process, or a
 * container's whose opens were overwritten on a busy host before its
 * record was read): the probe's, which is the kernel's at the exec, or
 * else /proc/<pid>/exe, empty once the process is gone. "/" is no
 * program's path (procinfo_read_exe says why). */
static void path_without_opens(proc_plugin *p, procinfo *pi, const struct exec_event *e)
{
    if (!e->path_len || strcmp(e->exe_path, "/") == 0) {
        procinfo_read_exe(p->proc_root, pi->pid, pi);
        return;
    }
    snprintf(pi->path, sizeof(pi->path), "%s", e->exe_path);
    execwatch_probe_path_used(p->ew);
    if (execwatch_verifying(p->ew) && same_exe(p, pi->pid, e)) {
        procinfo real = {0};
        procinfo_read_exe(p->proc_root, pi->pid, &real);
        if (real.path[0])
            execwatch_verify_path(p->ew, pi->pid, pi->path, real.path);
    }
}

/* A cgroup whose workload nothing protects (it is learned or monitored, or
 * the host's and protect_nodes is off): its next execs need no prompt kill
 * check, and may wait for the reader's next look (bpfexec.h, "Pacing"). */
static void relax(proc_plugin *p, cgcache_entry *c)
{
    bool killable = c && c->wv.mode == VG_MODE_PROTECT && (c->wv.id[0] || p->protect_nodes);
    if (!c || c->relaxed || killable)
        return;
    bpfexec_relax(p->bx, c->cgroup_id, c->gen);
    c->relaxed = true;
}

/* An exec told by the BPF probe: who, as whom and with which arguments
 * are the kernel's at the exec; what it ran, from the exec opens of a
 * container, or /proc/<pid>/exe on the host; the workload from the
 * process's cgroup, or from the file's mount when it is gone already. */
static void on_bpf_exec(const struct exec_event *e, void *arg)
{
    proc_plugin *p = arg;
    procinfo pi;
    memset(&pi, 0, sizeof(pi));
    pi.pid = (pid_t)e->pid;
    pi.ppid = (pid_t)e->ppid;
    pi.uid = e->uid;
    pi.euid = e->euid;
    pi.gid = e->gid;
    pi.egid = e->egid;
    pi.parent_euid = e->parent_euid;
    memcpy(pi.name, e->comm, sizeof(pi.name));
    pi.name[sizeof(pi.name) - 1] = '\0';
    memcpy(pi.parent_name, e->parent_comm, sizeof(pi.parent_name));
    pi.parent_name[sizeof(pi.parent_name) - 1] = '\0';
    procinfo_set_args(&pi, e->args, e->args_len < sizeof(e->args) ? e->args_len : 0);
    exec_chain chain;
    const char *interp = exec_paths(p, &pi, &chain, e);
    if (!chain.n)
        path_without_opens(p, &pi, e);
    pi.stdio_socket = e->stdio_socket;
    p->event_ns = e->ns;
    p->event_mnt_ns = e->mnt_ns;
    /* A host process's cgroup is cached too (as of no workload): its
     * execs and exits read nothing of /proc for it. */
    cgcache_entry *known = cgcache_get(p->cg, e->cgroup_id, e->ns);
    if (known) {
        snprintf(pi.cgroup, sizeof(pi.cgroup), "%s", known->cgroup);
        p->wv = known->wv;
    } else {
        uint64_t gen = cgcache_gen(p->cg);
        procinfo_read_cgroup(p->proc_root, pi.pid, &pi);
        /* Gone already: the cgroup the probe saw, by its id, so that the
         * daemon can still attribute the exec to its workload. */
        bool gone = !pi.cgroup[0] && p->cgp &&
                    cgpath_find(p->cgp, e->cgroup_id, pi.cgroup, sizeof(pi.cgroup)) == 0;
        tag(p, pi.pid);
        /* Not cached for a gone process: no pid told its workload. */
        if (pi.cgroup[0] && !gone)
            known = cgcache_put(p->cg, e->cgroup_id, pi.cgroup, &p->wv, e->ns, gen);
    }
    relax(p, known);
    if (!p->wv.id[0] && chain.workload[0]) {
        memcpy(p->wv.id, chain.workload, sizeof(p->wv.id));
        memcpy(p->wv.group, chain.group, sizeof(p->wv.group));
    }
    report_exec(p, &pi, interp, false);
    p->event_mnt_ns = 0;
}

/* proc.uid: the uids before (from the table) and after, so a policy can see
 * a non-root process becoming root. */
static void on_uid(proc_plugin *p, const struct proc_event *ev)
{
    pid_t pid = ev->event_data.id.process_tgid;
    const pidtab_entry *old = pidtab_get(p->pids, pid);
    pidtab_entry e = old ? *old : (pidtab_entry){.pid = pid, .suid = -1};
    uid_t ruid = ev->event_data.id.r.ruid, euid = ev->event_data.id.e.euid;
    /* The connector tells the real and effective uids; the saved one (a
     * setresuid may change only it) from /proc, read now. */
    int64_t suid = procinfo_read_suid(p->proc_root, pid, ruid, euid);
    tag(p, pid);
    msgpack_packer pk;
    begin_body(p, &pk, 8);
    kv_int(&pk, "pid", pid);
    kv_str(&pk, "name", e.name);
    kv_int(&pk, "uid", ruid);
    kv_int(&pk, "euid", euid);
    kv_int(&pk, "suid", suid);
    kv_int(&pk, "old_uid", old ? (int64_t)old->uid : -1);
    kv_int(&pk, "old_euid", old ? (int64_t)old->euid : -1);
    kv_int(&pk, "old_suid", old ? old->suid : -1);
    bool to_root = (euid == 0 || suid == 0) && old && old->euid != 0;
    publish(p, p->t_uid, to_root ? VG_SEV_WARNING : VG_SEV_INFO);
    e.uid = ruid;
    e.euid = euid;
    e.suid = suid;
    pidtab_put(p->pids, &e);
}

/* proc.gid: the new real and effective gids. (Gids are not remembered per
 * process, so there is no "before".) */
static void on_gid(proc_plugin *p, const struct proc_event *ev)
{
    pid_t pid = ev->event_data.id.process_tgid;
    const pidtab_entry *e = pidtab_get(p->pids, pid);
    tag(p, pid);
    msgpack_packer pk;
    begin_body(p, &pk, 4);
    kv_int(&pk, "pid", pid);
    kv_str(&pk, "name", e ? e->name : "");
    kv_int(&pk, "gid", ev->event_data.id.r.rgid);
    kv_int(&pk, "egid", ev->event_data.id.e.egid);
    publish(p, p->t_gid, ev->event_data.id.e.egid == 0 ? VG_SEV_NOTICE : VG_SEV_INFO);
}

/* proc.exit of pid, its workload in p->wv. */
static void report_exit(proc_plugin *p, pid_t pid, uint32_t status)
{
    const pidtab_entry *e = pidtab_get(p->pids, pid);
    msgpack_packer pk;
    begin_body(p, &pk, 4);
    kv_int(&pk, "pid", pid);
    kv_str(&pk, "name", e ? e->name : "");
    kv_int(&pk, "exit_code", (status >> 8) & 0xff);
    kv_int(&pk, "signal", status & 0x7f);
    publish(p, p->t_exit, VG_SEV_DEBUG);
    pidtab_del(p->pids, pid);
}

static void on_exit_event(proc_plugin *p, const struct proc_event *ev)
{
    /* Threads exit too; only a thread-group leader's exit ends a process. */
    if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
        return;
    pid_t pid = ev->event_data.exit.process_tgid;
    /* /proc still has the exiting process (a zombie) most of the time. */
    tag(p, pid);
    report_exit(p, pid, ev->event_data.exit.exit_code);
}

/* A fork or an exit told by the probe: the exit's workload from its
 * cgroup id, as known from the execs; /proc and the daemon only for a
 * cgroup no exec was seen in (the host's processes). */
static void on_bpf_task(const struct task_event *t, void *arg)
{
    proc_plugin *p = arg;
    p->event_ns = t->ns;
    if (t->kind == EXEC_EV_FORK) {
        on_fork(p, (pid_t)t->pid, (pid_t)t->ppid);
        return;
    }
    cgcache_entry *known = cgcache_get(p->cg, t->cgroup_id, t->ns);
    if (known)
        p->wv = known->wv;
    else
        tag(p, (pid_t)t->pid);
    report_exit(p, (pid_t)t->pid, t->exit_code);
}

static void on_event(const struct proc_event *ev, void *arg)
{
    proc_plugin *p = arg;
    p->event_ns = ev->timestamp_ns;
    switch (ev->what) {
    case PROC_EVENT_FORK:
        /* With the probe, forks and exits come from it (a kernel older
         * than 6.6 sends them all the same). */
        if (!p->bx && ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid)
            on_fork(p, ev->event_data.fork.child_tgid, ev->event_data.fork.parent_tgid);
        break;
    case PROC_EVENT_EXEC:
        /* With the probe, execs come from it, with what /proc would be
         * too late to tell. */
        if (!p->bx && ev->event_data.exec.process_pid == ev->event_data.exec.process_tgid)
            on_exec(p, ev->event_data.exec.process_tgid, false);
        break;
    case PROC_EVENT_UID:
        on_uid(p, ev);
        break;
    case PROC_EVENT_GID:
        on_gid(p, ev);
        break;
    case PROC_EVENT_EXIT:
        if (!p->bx)
            on_exit_event(p, ev);
        break;
    default:
        break;
    }
}

/* ---- overflow repair ---------------------------------------------------- */

static void rescan(proc_plugin *p)
{
    p->event_ns = 0;
    DIR *d = opendir(p->proc_root);
    struct dirent *e;
    unsigned found = 0;
    while (d && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pidtab_get(p->pids, (pid_t)pid))
            continue;
        on_exec(p, (pid_t)pid, true);
        found++;
    }
    if (d)
        closedir(d);
    p->api->log(p->h, VG_LOG_WARN,
                "process events were lost (overflow #%lu); rescan found %u new processes",
                atomic_load(&p->overflows), found);
}

static void note_overflow(proc_plugin *p)
{
    unsigned long n = atomic_fetch_add(&p->overflows, 1) + 1;
    msgpack_packer pk;
    begin_body(p, &pk, 1);
    kv_int(&pk, "overflows", (int64_t)n);
    memset(&p->wv, 0, sizeof(p->wv));
    publish(p, p->t_overflow, VG_SEV_WARNING);
    rescan(p);
}

/* ---- the reader thread -------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* proc.stats: what protection did since start, with the permission
 * decisions' answer times (from reading the event to writing the answer). */
static void publish_stats(proc_plugin *p)
{
    protect_stats st;
    protect_stats_get(p->prot, &st);
    execwatch_stats es;
    execwatch_stats_get(p->ew, &es);
    msgpack_packer pk;
    begin_body(p, &pk, 21);
    kv_bool(&pk, "pre_exec", p->prot != NULL);
    kv_bool(&pk, "exec_probe", p->bx != NULL);
    kv_bool(&pk, "exec_probe_full", bpfexec_full(p->bx));
    kv_int(&pk, "exec_dropped", p->bx ? (int64_t)bpfexec_dropped(p->bx) : 0);
    kv_int(&pk, "exec_batches", (int64_t)bpfexec_batches(p->bx));
    kv_int(&pk, "exec_opens", (int64_t)es.opens);
    kv_int(&pk, "exec_opens_unclaimed", (int64_t)es.unclaimed);
    kv_int(&pk, "exec_paths_from_probe", (int64_t)es.probe_paths);
    kv_int(&pk, "exec_path_mismatches", (int64_t)es.mismatches);
    kv_int(&pk, "tracked_workloads", (int64_t)es.marked);
    kv_int(&pk, "exec_checks", (int64_t)st.events);
    kv_int(&pk, "exec_denied", (int64_t)st.denied);
    kv_int(&pk, "exec_failed", (int64_t)st.failed);
    kv_int(&pk, "queue_overflows", (int64_t)st.overflows);
    kv_int(&pk, "protected_workloads", (int64_t)st.marked);
    kv_int(&pk, "permission_threads", (int64_t)st.threads);
    kv_int(&pk, "answer_p50_ns", (int64_t)st.p50_ns);
    kv_int(&pk, "answer_p99_ns", (int64_t)st.p99_ns);
    kv_int(&pk, "answer_max_ns", (int64_t)st.max_ns);
    kv_int(&pk, "killed", (int64_t)atomic_load(&p->kills));
    kv_int(&pk, "kill_ran_max_ns", (int64_t)atomic_load(&p->kill_ns_max));
    memset(&p->wv, 0, sizeof(p->wv));
    publish(p, p->t_stats, VG_SEV_DEBUG);
}

/* Milliseconds until the next stats event, or -1 (none). */
static int stats_due(proc_plugin *p)
{
    if (p->stats_interval_ms <= 0)
        return -1;
    int64_t now = now_ms();
    if (now >= p->next_stats_ms) {
        publish_stats(p);
        p->next_stats_ms = now + p->stats_interval_ms;
    }
    return (int)(p->next_stats_ms - now);
}

static void *reader(void *arg)
{
    proc_plugin *p = arg;
    pthread_setname_np(pthread_self(), "proc-reader"); /* for top -H and bench_rest */
    /* With the probe, a container's exec opens are read with the exec's
     * record, which follows them (and at the periodic look): one wake-up
     * per exec. Without it they are read as they come, so that few wait
     * for their exec event. */
    struct pollfd fds[4] = {{.fd = cn_fd(p->sk), .events = POLLIN},
                            {.fd = p->stop_fd, .events = POLLIN},
                            {.fd = p->ew && !p->bx ? execwatch_fd(p->ew) : -1, .events = POLLIN},
                            {.fd = p->bx ? bpfexec_fd(p->bx) : -1, .events = POLLIN}};
    p->next_stats_ms = now_ms() + p->stats_interval_ms;
    for (;;) {
        int timeout = stats_due(p);
        int look = p->bx ? bpfexec_look_ms(p->bx) : -1;
        if (look >= 0 && (timeout < 0 || timeout > look))
            timeout = look;
        int due = heldq_due_ms(p->held, vg_mono_ns());
        if (due >= 0 && (timeout < 0 || due < timeout))
            timeout = due;
        int n = poll(fds, 4, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (fds[2].revents & POLLIN)
            execwatch_drain(p->ew);
        if (n == 0 && p->bx && p->ew)
            execwatch_drain(p->ew); /* the opens of execs that failed */
        /* Every wake-up reads the ring, the periodic one for the forks
         * and exits that woke nobody, and before the connector's uid
         * changes, which may concern a process whose fork is waiting. */
        if (p->bx)
            bpfexec_drain(p->bx);
        publish_due(p);
        if (!(fds[0].revents & POLLIN))
            continue;
        int rc;
        while ((rc = cn_read(p->sk, on_event, p)) == 0)
            ;
        publish_due(p);
        if (rc == -ENOBUFS)
            note_overflow(p);
        else if (rc != -EAGAIN && rc != -EINTR)
            p->api->log(p->h, VG_LOG_ERR, "reading process events: %s", strerror(-rc));
    }
    heldq_flush(p->held, p->api, p->h);
    return NULL;
}

/* The processes alive at start are known, so that their exits and uid
 * changes carry names; they are not reported as new. */
static void prime(proc_plugin *p)
{
    DIR *d = opendir(p->proc_root);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        procinfo pi;
        if (!*end && pid > 0 && procinfo_read(p->proc_root, (pid_t)pid, &pi) == 0)
            remember(p, &pi, true);
    }
    if (d)
        closedir(d);
}

/* ---- life cycle --------------------------------------------------------- */

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    proc_plugin *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->api = api;
    p->h = h;
    p->stop_fd = -1;
    p->proc_root = "/proc";
    api->config_string(h, "proc_root", &p->proc_root);
    p->t_exec = api->event_type(h, "proc.exec");
    p->t_exit = api->event_type(h, "proc.exit");
    p->t_uid = api->event_type(h, "proc.uid");
    p->t_gid = api->event_type(h, "proc.gid");
    p->t_overflow = api->event_type(h, "proc.overflow");
    p->t_violation = api->event_type(h, "proc.violation");
    p->t_stats = api->event_type(h, "proc.stats");
    p->t_incident = api->event_type(h, "proc.incident");
    const char *fail_mode = "allow";
    api->config_string(h, "fail_mode", &fail_mode);
    if (strcmp(fail_mode, "allow") != 0 && strcmp(fail_mode, "deny") != 0) {
        api->log(h, VG_LOG_ERR, "plugins.proc.fail_mode must be \"allow\" or \"deny\", not \"%s\"",
                 fail_mode);
        free(p);
        return -EINVAL;
    }
    p->fail_verdict = strcmp(fail_mode, "deny") == 0;
    int nodes = 0;
    api->config_bool(h, "protect_nodes", &nodes);
    p->protect_nodes = nodes;
    int verify = 0;
    api->config_bool(h, "verify_exec_paths", &verify);
    p->verify_paths = verify;
    p->stats_interval_ms = 60000;
    api->config_int(h, "stats_interval_ms", &p->stats_interval_ms);
    int64_t max = 1 << 20;
    api->config_int(h, "max_processes", &max);
    p->pids = pidtab_new((size_t)(max > 0 ? max : 1 << 20));
    msgpack_sbuffer_init(&p->sb);
    p->held = heldq_new();
    if (!p->pids || !p->held) {
        pidtab_free(p->pids);
        heldq_free(p->held);
        free(p);
        return -ENOMEM;
    }
    *priv = p;
    return 0;
}

static void on_workloads_changed(void *arg, const void *rec, size_t len)
{
    proc_plugin *p = arg;
    if (p->cg) {
        cgcache_bump(p->cg);
        bpfexec_generation(p->bx, cgcache_gen(p->cg));
    }
    protect_sync(p->prot);
    execwatch_sync(p->ew);
}

static void follow_workloads(proc_plugin *p)
{
    static const char *const types[] = {"workload.start", "workload.stop", "group.mode"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (p->api->subscribe(p->h, types[i], on_workloads_changed, p) < 0)
            p->api->log(p->h, VG_LOG_WARN, "cannot follow %s: exec protection may lag", types[i]);
}

/* Pre-exec protection, and the exec opens that name what containers exec,
 * when the kernel and our capabilities allow them; the kill at the exec
 * event and paths from /proc work without. */
static void start_protection(proc_plugin *p)
{
    if (!VG_HOST_HAS(p->api, decide))
        return;
    /* Exec opens are read by the reader thread: none without it. */
    if (!p->sk || execwatch_new(p->api, p->h, &p->ew) < 0)
        p->ew = NULL;
    if (p->bx)
        execwatch_lazy(p->ew, p->verify_paths);
    int rc = protect_new(p->api, p->h, p->fail_verdict, p->protect_nodes, &p->prot);
    follow_workloads(p); /* also for the exec probe's cache of workloads */
    execwatch_sync(p->ew);
    if (rc < 0) {
        p->api->set_state(p->h, VG_PLUGIN_DEGRADED,
                          rc == -EPERM
                              ? "no pre-exec protection: fanotify needs CAP_SYS_ADMIN; "
                                "protect mode kills at exec instead"
                              : "no pre-exec protection: no fanotify exec permission events "
                                "on this kernel; protect mode kills at exec instead");
        return;
    }
    protect_sync(p->prot);
}

static int start(void *priv)
{
    proc_plugin *p = priv;
    p->cg = calloc(1, sizeof(*p->cg));
    if (cgpath_new("/proc/self/mountinfo", &p->cgp) < 0)
        p->cgp = NULL;
    bpfexec_ops bops = {.exec = on_bpf_exec, .task = on_bpf_task, .arg = p};
    int brc = p->cg ? bpfexec_open(&bops, &p->bx) : -ENOMEM;
    if (brc < 0)
        p->bx = NULL;
    /* The probe's namespace ids are the real host's. The link's name, not
     * stat(): following it needs more than reading it. */
    char host_ns[64];
    ssize_t n = readlink("/proc/1/ns/mnt", host_ns, sizeof(host_ns) - 1);
    if (strcmp(p->proc_root, "/proc") == 0 && n > 0) {
        host_ns[n] = '\0';
        sscanf(host_ns, "mnt:[%u]", &p->host_mnt_ns);
    }
    /* With the probe, the connector is needed for uid and gid changes
     * alone. */
    int rc = cn_open(p->bx ? PROC_EVENT_UID | PROC_EVENT_GID : 0, &p->sk);
    if (rc < 0) {
        /* Without the connector there is nothing to watch: say so, run on. */
        p->api->set_state(p->h, VG_PLUGIN_DEGRADED,
                          rc == -EPERM
                              ? "no permission for the proc connector (needs CAP_NET_ADMIN)"
                              : "the proc connector is not available on this kernel");
        start_protection(p);
        return 0;
    }
    start_protection(p);
    if (brc < 0)
        p->api->log(p->h, brc == -ENOSYS ? VG_LOG_DEBUG : VG_LOG_INFO,
                    "no BPF exec probe (%s): execs from the proc connector and /proc",
                    brc == -ENOSYS ? "not built in" : strerror(-brc));
    prime(p);
    p->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (p->stop_fd < 0 || pthread_create(&p->thread, NULL, reader, p) != 0) {
        cn_close(p->sk);
        p->sk = NULL;
        return -errno;
    }
    p->running = true;
    return 0;
}

static void stop(void *priv)
{
    proc_plugin *p = priv;
    if (p->running) {
        uint64_t one = 1;
        ssize_t w = write(p->stop_fd, &one, sizeof(one));
        (void)w;
        pthread_join(p->thread, NULL);
    }
    if (p->stop_fd >= 0)
        close(p->stop_fd);
    protect_free(p->prot);
    execwatch_free(p->ew);
    bpfexec_close(p->bx);
    free(p->cg);
    cgpath_free(p->cgp);
    cn_close(p->sk);
    pidtab_free(p->pids);
    heldq_free(p->held);
    msgpack_sbuffer_destroy(&p->sb);
    free(p);
}

static const char *const fail_modes[] = {"allow", "deny", NULL};

/* What plugins.proc may set (ABI 1.4: checked before the plugin runs). */
static const vg_setting_desc settings[] = {
    {.key = "fail_mode", .type = VG_SETTING_STRING, .choices = fail_modes},
    {.key = "protect_nodes", .type = VG_SETTING_BOOL},
    {.key = "verify_exec_paths", .type = VG_SETTING_BOOL},
    {.key = "stats_interval_ms", .type = VG_SETTING_INT, .min = 0, .max = 86400000},
    {.key = "max_processes", .type = VG_SETTING_INT, .min = 1, .max = 1 << 24},
    {.key = "proc_root", .type = VG_SETTING_STRING},
    {.key = NULL},
};

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "proc",
    .version = VIGIL_VERSION,
    .description = "process events, learning and pre-exec protection",
    .init = init,
    .start = start,
    .stop = stop,
    .settings = settings,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
