/*
 * The proc plugin: every process started, changing its uid, or exiting on the
 * host becomes an event (proc.exec, proc.uid, proc.exit), enriched from /proc
 * with path, name, command line, uids, parent and cgroup.
 *
 * A reader thread owns the netlink socket and the table of live processes;
 * it publishes through the host's thread-safe publish(). When the kernel
 * drops events (the socket buffer overflowed in a burst) the loss is counted
 * and /proc is rescanned, so that processes started meanwhile are still
 * reported (with "rescan": true).
 */
#include <dirent.h>
#include <errno.h>
#include <msgpack.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vigil/plugin.h>

#include "connector.h"
#include "pidtab.h"
#include "procinfo.h"

typedef struct proc_plugin {
    const vg_host_api *api;
    vg_host *h;
    int t_exec, t_exit, t_uid, t_overflow;
    const char *proc_root;
    struct nl_sock *sk;
    int stop_fd;
    pthread_t thread;
    bool running;
    pidtab *pids;
    atomic_ulong overflows;
    msgpack_sbuffer sb; /* reader thread only */
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

static void publish(proc_plugin *p, int type, int severity)
{
    vg_event_in ev = {.type = type, .severity = severity, .body = p->sb.data,
                      .body_len = p->sb.size};
    p->api->publish(p->h, &ev);
}

/* Remembers a process's name. Its uids are taken from /proc only when the
 * process is new to the table: one known since its fork keeps the uids it
 * inherited, because /proc, read a moment after the exec, may already show
 * a uid change whose event has not been handled yet. */
static void remember(proc_plugin *p, const procinfo *pi)
{
    const pidtab_entry *old = pidtab_get(p->pids, pi->pid);
    pidtab_entry e = old ? *old : (pidtab_entry){.pid = pi->pid, .uid = pi->uid, .euid = pi->euid};
    memcpy(e.name, pi->name, sizeof(e.name));
    pidtab_put(p->pids, &e);
}

/* A new process starts with its parent's identity. Threads are not
 * processes and are skipped. */
static void on_fork(proc_plugin *p, const struct proc_event *ev)
{
    const struct fork_proc_event *f = &ev->event_data.fork;
    if (f->child_pid != f->child_tgid)
        return;
    const pidtab_entry *parent = pidtab_get(p->pids, f->parent_tgid);
    if (!parent)
        return;
    pidtab_entry child = *parent;
    child.pid = f->child_tgid;
    pidtab_put(p->pids, &child);
}

/* proc.exec. When /proc is already gone, the event still says what the
 * kernel told: the pid, and "gone": true. */
static void on_exec(proc_plugin *p, pid_t pid, bool rescan)
{
    procinfo pi;
    bool gone = procinfo_read(p->proc_root, pid, &pi) < 0;
    msgpack_packer pk;
    p->sb.size = 0;
    msgpack_packer_init(&pk, &p->sb, msgpack_sbuffer_write);
    if (gone) {
        msgpack_pack_map(&pk, 2);
        kv_int(&pk, "pid", pid);
        kv_bool(&pk, "gone", true);
        publish(p, p->t_exec, VG_SEV_INFO);
        return;
    }
    const pidtab_entry *parent = pidtab_get(p->pids, pi.ppid);
    msgpack_pack_map(&pk, 12 + (rescan ? 1 : 0));
    kv_int(&pk, "pid", pi.pid);
    kv_int(&pk, "ppid", pi.ppid);
    kv_str(&pk, "name", pi.name);
    kv_str(&pk, "path", pi.path);
    kv_str(&pk, "cmdline", pi.cmdline);
    kv_int(&pk, "uid", pi.uid);
    kv_int(&pk, "euid", pi.euid);
    kv_int(&pk, "gid", pi.gid);
    kv_str(&pk, "parent_name", parent ? parent->name : "");
    kv_int(&pk, "parent_euid", parent ? (int64_t)parent->euid : -1);
    kv_str(&pk, "cgroup", pi.cgroup);
    kv_bool(&pk, "stdio_socket", pi.stdio_socket);
    if (rescan)
        kv_bool(&pk, "rescan", true);
    remember(p, &pi);
    publish(p, p->t_exec, VG_SEV_INFO);
}

/* proc.uid: the uids before (from the table) and after, so a policy can see
 * a non-root process becoming root. */
static void on_uid(proc_plugin *p, const struct proc_event *ev)
{
    pid_t pid = ev->event_data.id.process_tgid;
    const pidtab_entry *old = pidtab_get(p->pids, pid);
    pidtab_entry e = old ? *old : (pidtab_entry){.pid = pid};
    msgpack_packer pk;
    p->sb.size = 0;
    msgpack_packer_init(&pk, &p->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    kv_int(&pk, "pid", pid);
    kv_str(&pk, "name", e.name);
    kv_int(&pk, "uid", ev->event_data.id.r.ruid);
    kv_int(&pk, "euid", ev->event_data.id.e.euid);
    kv_int(&pk, "old_uid", old ? (int64_t)old->uid : -1);
    kv_int(&pk, "old_euid", old ? (int64_t)old->euid : -1);
    bool to_root = ev->event_data.id.e.euid == 0 && old && old->euid != 0;
    publish(p, p->t_uid, to_root ? VG_SEV_WARNING : VG_SEV_INFO);
    e.uid = ev->event_data.id.r.ruid;
    e.euid = ev->event_data.id.e.euid;
    pidtab_put(p->pids, &e);
}

static void on_exit_event(proc_plugin *p, const struct proc_event *ev)
{
    /* Threads exit too; only a thread-group leader's exit ends a process. */
    if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
        return;
    pid_t pid = ev->event_data.exit.process_tgid;
    const pidtab_entry *e = pidtab_get(p->pids, pid);
    uint32_t status = ev->event_data.exit.exit_code;
    msgpack_packer pk;
    p->sb.size = 0;
    msgpack_packer_init(&pk, &p->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    kv_int(&pk, "pid", pid);
    kv_str(&pk, "name", e ? e->name : "");
    kv_int(&pk, "exit_code", (status >> 8) & 0xff);
    kv_int(&pk, "signal", status & 0x7f);
    publish(p, p->t_exit, VG_SEV_DEBUG);
    pidtab_del(p->pids, pid);
}

static void on_event(const struct proc_event *ev, void *arg)
{
    proc_plugin *p = arg;
    switch (ev->what) {
    case PROC_EVENT_FORK:
        on_fork(p, ev);
        break;
    case PROC_EVENT_EXEC:
        if (ev->event_data.exec.process_pid == ev->event_data.exec.process_tgid)
            on_exec(p, ev->event_data.exec.process_tgid, false);
        break;
    case PROC_EVENT_UID:
        on_uid(p, ev);
        break;
    case PROC_EVENT_EXIT:
        on_exit_event(p, ev);
        break;
    default:
        break;
    }
}

/* ---- overflow repair ---------------------------------------------------- */

static void rescan(proc_plugin *p)
{
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
    p->api->log(p->h, VG_LOG_WARN, "process events were lost (overflow #%lu); rescan found %u new processes",
                atomic_load(&p->overflows), found);
}

static void note_overflow(proc_plugin *p)
{
    unsigned long n = atomic_fetch_add(&p->overflows, 1) + 1;
    msgpack_packer pk;
    p->sb.size = 0;
    msgpack_packer_init(&pk, &p->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    kv_int(&pk, "overflows", (int64_t)n);
    publish(p, p->t_overflow, VG_SEV_WARNING);
    rescan(p);
}

/* ---- the reader thread -------------------------------------------------- */

static void *reader(void *arg)
{
    proc_plugin *p = arg;
    struct pollfd fds[2] = {{.fd = cn_fd(p->sk), .events = POLLIN}, {.fd = p->stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (!(fds[0].revents & POLLIN))
            continue;
        int rc;
        while ((rc = cn_read(p->sk, on_event, p)) == 0)
            ;
        if (rc == -ENOBUFS)
            note_overflow(p);
        else if (rc != -EAGAIN && rc != -EINTR)
            p->api->log(p->h, VG_LOG_ERR, "reading process events: %s", strerror(-rc));
    }
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
            remember(p, &pi);
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
    p->t_overflow = api->event_type(h, "proc.overflow");
    int64_t max = 1 << 20;
    api->config_int(h, "max_processes", &max);
    p->pids = pidtab_new((size_t)(max > 0 ? max : 1 << 20));
    msgpack_sbuffer_init(&p->sb);
    if (!p->pids) {
        free(p);
        return -ENOMEM;
    }
    *priv = p;
    return 0;
}

static int start(void *priv)
{
    proc_plugin *p = priv;
    int rc = cn_open(&p->sk);
    if (rc < 0) {
        /* Without the connector there is nothing to watch: say so, run on. */
        p->api->set_state(p->h, VG_PLUGIN_DEGRADED,
                          rc == -EPERM ? "no permission for the proc connector (needs CAP_NET_ADMIN)"
                                       : "the proc connector is not available on this kernel");
        return 0;
    }
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
    cn_close(p->sk);
    pidtab_free(p->pids);
    msgpack_sbuffer_destroy(&p->sb);
    free(p);
}

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "proc",
    .version = VIGIL_VERSION,
    .description = "process events from the netlink proc connector",
    .init = init,
    .start = start,
    .stop = stop,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
