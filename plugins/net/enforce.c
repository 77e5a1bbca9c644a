/*
 * Loads, attaches, updates and detaches the enforcement programs
 * (bpf/enforce.bpf.c, through its generated skeleton enforce.skel.h).
 *
 * Why legacy attach (bpf_prog_attach with BPF_F_ALLOW_MULTI) and not
 * bpf_link: a link ends with the process that holds it, so a daemon killed
 * with -9 would leave every protected workload open. An attachment made
 * with bpf_prog_attach belongs to the cgroup and stays until detached or
 * the cgroup is removed; a restarted daemon finds its predecessor's
 * programs by name (bpf_prog_query) and detaches them once its own are in
 * place. The cost: the old programs keep their last allow map until then.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enforce.h"
#include "enforce.skel.h"
#include <vigil/plugin.h>

/* The programs, in the order they are attached: the protect ones (egress
 * hooks, then ingress), then quarantine's. */
enum { AT_C4, AT_C6, AT_S4, AT_S6, AT_IN, AT_QIN, AT_QOUT, AT_N };
static const enum bpf_attach_type at_type[AT_N] = {
    BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_UDP4_SENDMSG,
    BPF_CGROUP_UDP6_SENDMSG,  BPF_CGROUP_INET_INGRESS,  BPF_CGROUP_INET_INGRESS,
    BPF_CGROUP_INET_EGRESS};
static const char *const at_name[AT_N] = {"vg_connect4", "vg_connect6",   "vg_sendmsg4",
                                          "vg_sendmsg6", "vg_in_protect", "vg_quar_in",
                                          "vg_quar_out"};

typedef struct enf_wl {
    struct enf_wl *next;
    char id[VG_WORKLOAD_MAX];
    int pid;
    int cg_fd;
    unsigned long long cgid;
    struct vg_enforce *skel;
    bool attached[AT_N];
    bool swept;
} enf_wl;

struct net_enf {
    int rb_fd;
    struct ring_buffer *rb;
    uv_poll_t *poll;
    net_enf_denial_cb cb;
    void *arg;
    char cg_root[256]; /* the cgroup v2 mount */
    enf_wl *wls;
    struct vg_enf_key quar_allow[VG_ENF_QUAR_ALLOW_MAX];
    size_t nquar_allow;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_WARN)
        return vfprintf(stderr, fmt, ap);
    return 0;
}

/* The cgroup2 mount point of the daemon's mount namespace. */
static int cg2_root(char *out, size_t size)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -errno;
    char line[1024];
    int rc = -ENOENT;
    while (rc && fgets(line, sizeof(line), f)) {
        char mnt[512], fstype[64];
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
            sscanf(dash + 3, "%63s", fstype) != 1)
            continue;
        if (!strcmp(fstype, "cgroup2") && strlen(mnt) < size) {
            snprintf(out, size, "%s", mnt);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

static enf_wl *wl_find(const net_enf *e, const char *id)
{
    for (enf_wl *w = e->wls; w; w = w->next)
        if (!strcmp(w->id, id))
            return w;
    return NULL;
}

static int on_denial(void *ctx, void *data, size_t len)
{
    net_enf *e = ctx;
    const struct vg_enf_denial *d = data;
    if (len < sizeof(*d))
        return 0;
    for (enf_wl *w = e->wls; w; w = w->next)
        if (w->cgid == d->cgroup) {
            e->cb(e->arg, w->id, &d->key, d->ingress != 0);
            break;
        }
    return 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    net_enf *e = h->data;
    ring_buffer__consume(e->rb);
}

int net_enf_new(uv_loop_t *loop, net_enf_denial_cb cb, void *arg, net_enf **out, char *err,
                size_t errlen)
{
    libbpf_set_print(quiet);
    net_enf *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->cb = cb;
    e->arg = arg;
    int rc = cg2_root(e->cg_root, sizeof(e->cg_root));
    if (rc < 0) {
        snprintf(err, errlen, "no cgroup v2 mount: programs cannot be attached");
        free(e);
        return rc;
    }
    e->rb_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "vg_denials", 0, 0, 64 * 1024, NULL);
    if (e->rb_fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot create a BPF ring buffer: %s", strerror(-rc));
        free(e);
        return rc;
    }
    e->rb = ring_buffer__new(e->rb_fd, on_denial, e, NULL);
    e->poll = calloc(1, sizeof(*e->poll));
    if (!e->rb || !e->poll || uv_poll_init(loop, e->poll, ring_buffer__epoll_fd(e->rb)) < 0) {
        snprintf(err, errlen, "cannot read the BPF ring buffer");
        ring_buffer__free(e->rb);
        free(e->poll);
        close(e->rb_fd);
        free(e);
        return -ENOMEM;
    }
    e->poll->data = e;
    uv_poll_start(e->poll, UV_READABLE, on_poll);
    *out = e;
    return 0;
}

static struct bpf_program *prog_of(struct vg_enforce *s, int at)
{
    struct bpf_program *v[AT_N] = {
        s->progs.vg_connect4,   s->progs.vg_connect6, s->progs.vg_sendmsg4, s->progs.vg_sendmsg6,
        s->progs.vg_in_protect, s->progs.vg_quar_in,  s->progs.vg_quar_out};
    return v[at];
}

/* The workload's cgroup v2 directory, from the "0::" line of its init's
 * /proc/PID/cgroup. The root cgroup is refused: that would be the host. */
static int wl_cgroup(net_enf *e, enf_wl *w, int pid, char *err, size_t errlen)
{
    char path[64], line[512], dir[768] = "";
    snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "0::", 3)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(dir, sizeof(dir), "%s%s", e->cg_root, line + 3);
        }
    fclose(f);
    if (!dir[0] || !strcmp(dir + strlen(e->cg_root), "/")) {
        snprintf(err, errlen, "its processes are in no cgroup v2 of their own");
        return -ENOTSUP;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
        return rc;
    }
    if (w->cg_fd >= 0 && w->cgid != st.st_ino) {
        /* A new cgroup (the workload restarted under its id): what was
         * attached to the old one goes, and everything is attached anew. */
        for (int at = 0; w->skel && at < AT_N; at++)
            if (w->attached[at])
                bpf_prog_detach2(bpf_program__fd(prog_of(w->skel, at)), w->cg_fd, at_type[at]);
        memset(w->attached, 0, sizeof(w->attached));
        w->swept = false;
    }
    if (w->cg_fd >= 0)
        close(w->cg_fd);
    w->cg_fd = fd;
    w->cgid = st.st_ino; /* the kernfs id bpf_get_current_cgroup_id() gives */
    w->pid = pid;
    return 0;
}

static int wl_load(net_enf *e, enf_wl *w, char *err, size_t errlen)
{
    struct vg_enforce *s = vg_enforce__open();
    int rc = s ? bpf_map__reuse_fd(s->maps.denials, e->rb_fd) : -ENOMEM;
    if (rc == 0)
        rc = vg_enforce__load(s);
    if (rc < 0) {
        snprintf(err, errlen, "cannot load the enforcement programs: %s", strerror(-rc));
        vg_enforce__destroy(s);
        return rc;
    }
    w->skel = s;
    return 0;
}

static int set_attached(enf_wl *w, int at, bool on)
{
    if (w->attached[at] == on)
        return 0;
    int fd = bpf_program__fd(prog_of(w->skel, at));
    int rc = on ? bpf_prog_attach(fd, w->cg_fd, at_type[at], BPF_F_ALLOW_MULTI)
                : bpf_prog_detach2(fd, w->cg_fd, at_type[at]);
    if (rc < 0 && !(!on && errno == ENOENT))
        return -errno;
    w->attached[at] = on;
    return 0;
}

/* Detaches the programs of ours (by name) on the cgroup that are not this
 * daemon's: an earlier daemon's, left attached when it stopped or died. */
static bool ours(const char *name)
{
    for (int at = 0; at < AT_N; at++)
        if (!strcmp(name, at_name[at]))
            return true;
    return false;
}

static __u32 prog_id(int fd)
{
    struct bpf_prog_info info = {0};
    __u32 len = sizeof(info);
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

static void sweep(enf_wl *w)
{
    for (int at = 0; at < AT_N; at++) {
        if (at > 0 && at_type[at] == at_type[at - 1])
            continue; /* the same hook as the one before */
        __u32 ids[64], cnt = 64, mine[AT_N] = {0};
        if (bpf_prog_query(w->cg_fd, at_type[at], 0, NULL, ids, &cnt) < 0)
            continue;
        for (int m = 0; w->skel && m < AT_N; m++)
            if (w->attached[m] && at_type[m] == at_type[at])
                mine[m] = prog_id(bpf_program__fd(prog_of(w->skel, m)));
        for (__u32 i = 0; i < cnt; i++) {
            bool keep = false;
            for (int m = 0; m < AT_N; m++)
                keep |= mine[m] == ids[i];
            int fd = keep ? -1 : bpf_prog_get_fd_by_id(ids[i]);
            struct bpf_prog_info info = {0};
            __u32 len = sizeof(info);
            if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && ours(info.name))
                bpf_prog_detach2(fd, w->cg_fd, at_type[at]);
            if (fd >= 0)
                close(fd);
        }
    }
    w->swept = true;
}

static int key_cmp(const void *a, const void *b, void *size)
{
    return memcmp(a, b, *(const size_t *)size);
}

/* Whether the key at k is one of the n records of sorted (rec bytes each,
 * the key's ksz first). */
static bool wanted_rec(const unsigned char *sorted, size_t n, size_t rec, size_t ksz, const void *k)
{
    for (size_t lo = 0, hi = n; lo < hi;) { /* bsearch() has no _r */
        size_t mid = (lo + hi) / 2;
        int c = memcmp(k, sorted + mid * rec, ksz);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* An allow key the kernel added from a DNS answer (its value is the time)
 * less than DNS_GRACE_NS ago: kept until the capture hands the loader the
 * same answer. */
#define DNS_GRACE_NS 10000000000ull
static bool fresh_from_dns(int fd, const void *k)
{
    __u64 v = 0;
    struct timespec ts;
    if (bpf_map_lookup_elem(fd, k, &v) < 0 || v <= 1 || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        return false;
    return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec - v < DNS_GRACE_NS;
}

/* The map becomes keys[0..n) (each ksz bytes, at most 64) with vals (vsz
 * bytes each; NULL: the value 1 as a __u8 or __u64): those missing added,
 * the others removed (with dns_grace, not a fresh key from a DNS answer). */
typedef struct map_sync {
    const void *keys, *vals;
    size_t n, ksz, vsz;
    bool dns_grace;
} map_sync;

static int sync_map(int fd, const map_sync *m)
{
    size_t n = m->n, ksz = m->ksz;
    unsigned char *sorted = malloc((n ? n : 1) * (ksz + m->vsz)), k[64], next[64];
    unsigned char(*gone)[64] = malloc(256 * sizeof(*gone));
    if (!sorted || !gone || ksz > sizeof(k)) {
        free(sorted);
        free(gone);
        return -ENOMEM;
    }
    /* Keys with their values, sorted by key. */
    size_t rec = ksz + m->vsz;
    __u64 one = 1;
    for (size_t i = 0; i < n; i++) {
        memcpy(sorted + i * rec, (const unsigned char *)m->keys + i * ksz, ksz);
        memcpy(sorted + i * rec + ksz,
               m->vals ? (const unsigned char *)m->vals + i * m->vsz : (const void *)&one, m->vsz);
    }
    qsort_r(sorted, n, rec, key_cmp, &ksz);
    size_t ngone = 0;
    bool more = bpf_map_get_next_key(fd, NULL, k) == 0;
    while (more) {
        more = bpf_map_get_next_key(fd, k, next) == 0;
        if (!wanted_rec(sorted, n, rec, ksz, k) && ngone < 256 &&
            !(m->dns_grace && fresh_from_dns(fd, k)))
            memcpy(gone[ngone++], k, ksz);
        memcpy(k, next, ksz);
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (bpf_map_update_elem(fd, sorted + i * rec, sorted + i * rec + ksz, BPF_ANY) < 0)
            rc = -errno;
    for (size_t i = 0; i < ngone; i++)
        bpf_map_delete_elem(fd, gone[i]);
    free(sorted);
    free(gone);
    return rc;
}

/* The maps of a protected workload become k. */
static int sync_allow(struct vg_enforce *s, const net_enf_keys *k)
{
    const map_sync m[] = {
        {k->out, NULL, k->n_out, sizeof(*k->out), sizeof(__u64), true},
        {k->in, NULL, k->n_in, sizeof(*k->in), 1, false},
        {k->net_out, NULL, k->n_net_out, sizeof(*k->net_out), 1, false},
        {k->net_in, NULL, k->n_net_in, sizeof(*k->net_in), 1, false},
        {k->dns_names, k->dns_rules, k->n_dns, sizeof(*k->dns_names), sizeof(*k->dns_rules), false},
    };
    const int fds[] = {bpf_map__fd(s->maps.allow), bpf_map__fd(s->maps.allow_in),
                       bpf_map__fd(s->maps.allow_net), bpf_map__fd(s->maps.allow_net_in),
                       bpf_map__fd(s->maps.allow_dns)};
    int rc = 0;
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]) && rc == 0; i++)
        rc = sync_map(fds[i], &m[i]);
    return rc;
}

int net_enf_apply(net_enf *e, const char *id, int pid, bool protect, const net_enf_keys *k,
                  bool quarantine, bool may_sweep, char *err, size_t errlen)
{
    err[0] = '\0';
    enf_wl *w = wl_find(e, id);
    if (!w) {
        if (!(w = calloc(1, sizeof(*w))))
            return -ENOMEM;
        snprintf(w->id, sizeof(w->id), "%s", id);
        w->cg_fd = -1;
        w->next = e->wls;
        e->wls = w;
    }
    int rc = 0;
    if (w->pid != pid && (rc = wl_cgroup(e, w, pid, err, errlen)) < 0)
        return rc;
    if ((protect || quarantine) && !w->skel && (rc = wl_load(e, w, err, errlen)) < 0)
        return rc;
    if (w->skel && protect && (rc = sync_allow(w->skel, k)) < 0) {
        snprintf(err, errlen, "cannot update the allow map: %s", strerror(-rc));
        return rc;
    }
    if (w->skel && quarantine &&
        (rc = sync_map(bpf_map__fd(w->skel->maps.quar_allow),
                       &(map_sync){e->quar_allow, NULL, e->nquar_allow, sizeof(*e->quar_allow), 1,
                                   false})) < 0) {
        snprintf(err, errlen, "cannot update the quarantine's exceptions: %s", strerror(-rc));
        return rc;
    }
    for (int at = 0; w->skel && at < AT_N && rc == 0; at++) {
        bool on = at >= AT_QIN ? quarantine : protect;
        if ((rc = set_attached(w, at, on)) < 0)
            snprintf(err, errlen, "cannot %s %s: %s", on ? "attach" : "detach", at_name[at],
                     strerror(-rc));
    }
    if (!w->swept && may_sweep)
        sweep(w);
    return rc;
}

static void wl_free(enf_wl *w, bool detach)
{
    for (int at = 0; detach && w->skel && at < AT_N; at++)
        set_attached(w, at, false);
    vg_enforce__destroy(w->skel);
    if (w->cg_fd >= 0)
        close(w->cg_fd);
    free(w);
}

void net_enf_keep(net_enf *e, const char *const *ids, size_t n)
{
    enf_wl **pp = &e->wls;
    while (*pp) {
        enf_wl *w = *pp;
        bool keep = false;
        for (size_t i = 0; i < n && !keep; i++)
            keep = !strcmp(ids[i], w->id);
        if (keep) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        wl_free(w, true); /* the workload stopped: nothing of ours stays */
    }
}

void net_enf_quar_allow(net_enf *e, const struct vg_enf_key *keys, size_t n)
{
    e->nquar_allow = n < VG_ENF_QUAR_ALLOW_MAX ? n : VG_ENF_QUAR_ALLOW_MAX;
    memcpy(e->quar_allow, keys, e->nquar_allow * sizeof(*keys));
}

bool net_enf_state(const net_enf *e, const char *id, bool *protect, bool *quarantine)
{
    const enf_wl *w = wl_find(e, id);
    *protect = w && w->attached[AT_C4];
    *quarantine = w && w->attached[AT_QIN];
    return w != NULL;
}

static void free_poll(uv_handle_t *h)
{
    free(h);
}

void net_enf_free(net_enf *e, bool detach)
{
    if (!e)
        return;
    enf_wl *next;
    for (enf_wl *w = e->wls; w; w = next) {
        next = w->next;
        wl_free(w, detach);
    }
    uv_poll_stop(e->poll);
    uv_close((uv_handle_t *)e->poll, free_poll);
    ring_buffer__free(e->rb);
    close(e->rb_fd);
    free(e);
}
