/*
 * One capture thread per network namespace.
 *
 * The thread enters the namespace (setns on /proc/<pid>/ns/net, held open
 * by the loop thread since the workload was found, so that a recycled pid
 * cannot send it elsewhere), lists the interfaces there, opens a libpcap
 * ring on each (TPACKET_V3 memory-mapped, non-blocking, the configured BPF
 * compiled by libpcap), and returns to the daemon's namespace: the rings stay
 * bound to the interfaces they were opened on. It then polls the rings and
 * feeds every packet to its own engine (the engine is not thread-safe); the
 * engine's sink (conns.c) turns flows into events. Every rescan_ms it enters
 * the namespace again to pick up interfaces added later (a CNI plugin adds
 * eth0 after the container's first process started) and to drop those gone.
 *
 * The loop thread talks to the thread through net_ns_call(): a function
 * run on the capture thread between two polls, with the thread's context.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "capture_int.h"

uint64_t net_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- interfaces ----------------------------------------------------------- */

static void iface_close(net_ctx *cx, size_t i)
{
    net_iface *f = &cx->ifs[i];
    struct pcap_stat st;
    if (pcap_stats(f->pc, &st) == 0) { /* keep what it counted */
        cx->gone_drops += st.ps_drop;
    }
    pcap_close(f->pc);
    cx->ifs[i] = cx->ifs[--cx->nifs];
}

/* Opens interface name on the calling thread's namespace. */
static int iface_open(net_ctx *cx, const net_if *nif)
{
    const net_config *c = &cx->p->cfg;
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_create(nif->name, err);
    if (!pc)
        goto fail;
    pcap_set_snaplen(pc, (int)c->snaplen);
    pcap_set_promisc(pc, 0);
    pcap_set_buffer_size(pc, (int)(c->buffer_kb * 1024));
    pcap_set_timeout(pc, (int)c->timeout_ms);
    pcap_set_immediate_mode(pc, c->immediate);
    int rc = pcap_activate(pc);
    if (rc < 0) {
        snprintf(err, sizeof(err), "%s", pcap_geterr(pc));
        goto fail;
    }
    if (c->filter[0]) {
        struct bpf_program prog;
        if (pcap_compile(pc, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(pc, &prog) < 0) {
            snprintf(err, sizeof(err), "filter: %s", pcap_geterr(pc));
            pcap_freecode(&prog);
            goto fail;
        }
        pcap_freecode(&prog);
    }
    if (pcap_setnonblock(pc, 1, err) < 0 || pcap_get_selectable_fd(pc) < 0)
        goto fail;
    net_iface *f = &cx->ifs[cx->nifs++];
    memset(f, 0, sizeof(*f));
    f->pc = pc;
    f->dlt = pcap_datalink(pc);
    f->fd = pcap_get_selectable_fd(pc);
    f->index = nif->index;
    memcpy(f->name, nif->name, sizeof(f->name)); /* same size, NUL-terminated */
    return 0;
fail:
    cx->p->api->log(cx->p->h, VG_LOG_WARN, "%s: cannot capture on %s: %s",
                    cx->ns->members[0][0] ? cx->ns->members[0] : "host", nif->name, err);
    if (pc)
        pcap_close(pc);
    return -EIO;
}

static bool listed(const net_if *ifs, int n, int index)
{
    for (int i = 0; i < n; i++)
        if (ifs[i].index == index)
            return true;
    return false;
}

/* In the namespace: opens new interfaces, closes vanished ones, and
 * refreshes the local addresses. */
static int rescan_here(net_ctx *cx)
{
    net_if ifs[NET_IFACES_MAX];
    int fam[NET_ADDRS_MAX];
    uint8_t addrs[NET_ADDRS_MAX][16];
    size_t naddrs = 0;
    int n = net_ifaces_list(cx->p->cfg.loopback, ifs, NET_IFACES_MAX, fam, addrs, NET_ADDRS_MAX,
                            &naddrs);
    if (n < 0)
        return n;
    for (size_t i = cx->nifs; i-- > 0;)
        if (!listed(ifs, n, cx->ifs[i].index))
            iface_close(cx, i);
    for (int i = 0; i < n && cx->nifs < NET_IFACES_MAX; i++) {
        bool have = false;
        for (size_t k = 0; k < cx->nifs; k++)
            have |= cx->ifs[k].index == ifs[i].index;
        if (!have)
            iface_open(cx, &ifs[i]);
    }
    net_conns_local(cx->conns, fam, (const uint8_t(*)[16])addrs, naddrs);
    pthread_mutex_lock(&cx->ns->mu);
    char wl[VG_WORKLOAD_MAX], grp[VG_GROUP_MAX];
    snprintf(wl, sizeof(wl), "%s", cx->ns->members[0]);
    snprintf(grp, sizeof(grp), "%s", cx->ns->group);
    net_conns_members(cx->conns, (const char(*)[VG_WORKLOAD_MAX])cx->ns->members,
                      (const char(*)[VG_GROUP_MAX])cx->ns->member_groups, cx->ns->member_pids,
                      cx->ns->nmembers);
    pthread_mutex_unlock(&cx->ns->mu);
    /* The host's addresses are not a workload's: a peer there is an address. */
    if (cx->ns->nsfd >= 0)
        net_peers_set(cx->p->peers, cx->ns, wl, grp, fam, (const uint8_t(*)[16])addrs, naddrs);
    atomic_store(&cx->ns->nifs, cx->nifs);
    return 0;
}

static int rescan(net_ctx *cx)
{
    if (cx->ns->nsfd < 0)
        return rescan_here(cx);
    if (setns(cx->ns->nsfd, CLONE_NEWNET) < 0)
        return -errno;
    int rc = rescan_here(cx);
    if (setns(cx->home_fd, CLONE_NEWNET) < 0) {
        /* Never stay in a workload's namespace: this thread would report
         * the wrong things; stop it. */
        cx->p->api->log(cx->p->h, VG_LOG_ERR, "cannot return to the daemon's namespace: %s",
                        strerror(errno));
        atomic_store(&cx->ns->stop, true);
    }
    return rc;
}

/* ---- packets -------------------------------------------------------------- */

typedef struct pkt_arg {
    net_ctx *cx;
    net_iface *f;
    uint32_t source;
} pkt_arg;

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *pkt)
{
    pkt_arg *a = (pkt_arg *)user;
    net_ctx *cx = a->cx;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    cx->packets++;
    cx->bytes += h->len;
    vg_net_feed(cx->eng, a->f->dlt, ts, pkt, h->caplen, h->len, a->source);
    if (cx->dump && net_dump_packet(cx->dump, a->f->dlt, h, pkt, ts) == 1)
        net_ctx_dump_end(cx);
}

static void read_iface(net_ctx *cx, size_t i)
{
    pkt_arg a = {.cx = cx, .f = &cx->ifs[i], .source = (uint32_t)cx->ifs[i].index};
    /* A bounded batch, so that one busy interface cannot starve the others
     * or the requests. */
    int n = pcap_dispatch(cx->ifs[i].pc, 4096, on_packet, (u_char *)&a);
    if (n == PCAP_ERROR) {
        /* The interface went away (ENODEV, ENETDOWN): the next rescan sees. */
        cx->errors++;
        cx->next_rescan = 0;
    }
}

/* Kernel counters, summed over the open rings plus those closed. */
static void update_stats(net_ctx *cx)
{
    uint64_t drops = cx->gone_drops, ifdrops = 0;
    for (size_t i = 0; i < cx->nifs; i++) {
        struct pcap_stat st;
        if (pcap_stats(cx->ifs[i].pc, &st) == 0) {
            drops += st.ps_drop;
            ifdrops += st.ps_ifdrop;
        }
    }
    net_ns *ns = cx->ns;
    atomic_store(&ns->packets, cx->packets);
    atomic_store(&ns->bytes, cx->bytes);
    atomic_store(&ns->kernel_drops, drops);
    /* ps_ifdrop comes from the interface of that name in the daemon's
     * /sys, which is not the workload's: only the host's is meaningful. */
    atomic_store(&ns->if_drops, ns->nsfd < 0 ? ifdrops : 0);
    atomic_store(&ns->errors, cx->errors);
    pthread_mutex_lock(&ns->mu);
    vg_net_stats_get(cx->eng, &ns->engine);
    pthread_mutex_unlock(&ns->mu);
}

/* ---- requests from the loop thread ------------------------------------------ */

static void serve_request(net_ctx *cx)
{
    net_ns *ns = cx->ns;
    pthread_mutex_lock(&ns->mu);
    if (ns->req_fn && !ns->req_done) {
        /* Run under the lock: the caller cannot give up (and free arg)
         * while fn runs. */
        ns->req_rc = ns->req_fn(cx, ns->req_arg);
        ns->req_done = true;
        pthread_cond_broadcast(&ns->cv);
    }
    pthread_mutex_unlock(&ns->mu);
}

int net_ns_call(net_ns *ns, net_request_fn fn, void *arg, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ns->mu);
    int rc = 0;
    while (ns->req_fn && rc == 0) /* another caller's request */
        rc = pthread_cond_timedwait(&ns->cv, &ns->mu, &until);
    if (rc != 0) {
        pthread_mutex_unlock(&ns->mu);
        return -ETIMEDOUT;
    }
    ns->req_fn = fn;
    ns->req_arg = arg;
    ns->req_done = false;
    uint64_t one = 1;
    ssize_t w = write(ns->wake_fd, &one, sizeof(one));
    (void)w;
    while (!ns->req_done && rc == 0)
        rc = pthread_cond_timedwait(&ns->cv, &ns->mu, &until);
    int out = ns->req_done ? ns->req_rc : -ETIMEDOUT;
    ns->req_fn = NULL;
    ns->req_arg = NULL;
    pthread_cond_broadcast(&ns->cv);
    pthread_mutex_unlock(&ns->mu);
    return out;
}

/* ---- the thread ------------------------------------------------------------- */

static void tick(net_ctx *cx, uint64_t now)
{
    const net_config *c = &cx->p->cfg;
    if (now >= cx->next_rescan) {
        int rc = rescan(cx);
        if (rc < 0 && !cx->rescan_failed)
            cx->p->api->log(cx->p->h, VG_LOG_WARN, "%s: cannot list the interfaces: %s",
                            cx->ns->members[0], strerror(-rc));
        cx->rescan_failed = rc < 0;
        cx->next_rescan = now + (uint64_t)c->rescan_ms;
    }
    if (now >= cx->next_second) {
        vg_net_expire(cx->eng, net_now_us());
        net_conns_second(cx->conns, cx->eng);
        update_stats(cx);
        if (cx->dump && net_dump_expired(cx->dump, net_now_us()))
            net_ctx_dump_end(cx);
        cx->next_second = now + 1000;
    }
    if (now >= cx->next_interval) {
        net_conns_tick(cx->conns, cx->eng);
        cx->next_interval = now + (uint64_t)c->interval_ms;
    }
}

static int poll_timeout(const net_ctx *cx, uint64_t now)
{
    uint64_t next = cx->next_second;
    if (cx->next_rescan < next)
        next = cx->next_rescan;
    if (cx->next_interval < next)
        next = cx->next_interval;
    return next > now ? (int)(next - now) : 0;
}

static void run(net_ctx *cx)
{
    net_ns *ns = cx->ns;
    struct pollfd pfd[NET_IFACES_MAX + 1];
    while (!atomic_load(&ns->stop)) {
        uint64_t now = mono_ms();
        tick(cx, now);
        pfd[0] = (struct pollfd){.fd = ns->wake_fd, .events = POLLIN};
        for (size_t i = 0; i < cx->nifs; i++)
            pfd[i + 1] = (struct pollfd){.fd = cx->ifs[i].fd, .events = POLLIN};
        size_t nfds = cx->nifs + 1;
        int n = poll(pfd, nfds, poll_timeout(cx, mono_ms()));
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfd[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t r = read(ns->wake_fd, &v, sizeof(v));
            (void)r;
        }
        serve_request(cx);
        /* A TPACKET_V3 ring polls readable when a block is handed over:
         * full, or at its timeout (timeout_ms). */
        for (size_t i = 0; i < cx->nifs && n >= 0; i++)
            if (i < nfds - 1 && (pfd[i + 1].revents & (POLLIN | POLLERR | POLLHUP)))
                read_iface(cx, i);
    }
}

static void *capture_main(void *arg)
{
    net_ctx *cx = arg;
    /* Named for top -H and the bench, which counts these threads' CPU. */
    pthread_setname_np(pthread_self(), "net-capture");
    run(cx);
    /* Flows still open are reported before the thread goes. */
    vg_net_flush(cx->eng);
    net_conns_tick(cx->conns, cx->eng);
    if (cx->dump)
        net_ctx_dump_end(cx);
    update_stats(cx);
    while (cx->nifs)
        iface_close(cx, cx->nifs - 1);
    return NULL;
}

/* ---- life cycle (loop thread) ------------------------------------------------ */

static void ctx_free(net_ctx *cx)
{
    if (!cx)
        return;
    net_ctx_dump_forget(cx);
    vg_net_engine_free(cx->eng);
    net_conns_free(cx->conns);
    if (cx->home_fd >= 0)
        close(cx->home_fd);
    free(cx);
}

static net_ctx *ctx_new(net_plugin *p, net_ns *ns)
{
    net_ctx *cx = calloc(1, sizeof(*cx));
    if (!cx)
        return NULL;
    cx->p = p;
    cx->ns = ns;
    cx->dump_state.result.fd = -1;
    cx->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    cx->conns = net_conns_new(p, ns, (size_t)p->cfg.max_keys);
    if (cx->conns) {
        vg_net_sink sink = net_conns_sink(cx->conns);
        vg_net_config ec = {.max_flows = (uint32_t)p->cfg.max_flows};
        cx->eng = vg_net_engine_new(&ec, &sink);
    }
    if (cx->home_fd < 0 || !cx->conns || !cx->eng) {
        ctx_free(cx);
        return NULL;
    }
    uint64_t now = mono_ms();
    cx->next_interval = now + (uint64_t)p->cfg.interval_ms;
    return cx;
}

int net_ns_start(net_plugin *p, int nsfd, uint64_t dev, uint64_t ino, const char *workload,
                 const char *group, net_ns **out)
{
    net_ns *ns = calloc(1, sizeof(*ns));
    if (!ns) {
        if (nsfd >= 0)
            close(nsfd);
        return -ENOMEM;
    }
    ns->p = p;
    ns->nsfd = nsfd;
    ns->dev = dev;
    ns->ino = ino;
    snprintf(ns->members[0], VG_WORKLOAD_MAX, "%s", workload);
    snprintf(ns->member_groups[0], VG_GROUP_MAX, "%s", group);
    ns->nmembers = 1;
    snprintf(ns->group, sizeof(ns->group), "%s", group);
    pthread_mutex_init(&ns->mu, NULL);
    pthread_cond_init(&ns->cv, NULL);
    ns->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = ns->wake_fd < 0 ? -errno : 0;
    if (rc == 0) {
        ns->cx = ctx_new(p, ns);
        rc = ns->cx ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        net_conns_owner(ns->cx->conns, workload, group);
        rc = -pthread_create(&ns->thread, NULL, capture_main, ns->cx);
        ns->running = rc == 0;
    }
    if (rc < 0) {
        net_ns_stop(ns);
        return rc;
    }
    *out = ns;
    return 0;
}

void net_ns_stop(net_ns *ns)
{
    if (!ns)
        return;
    atomic_store(&ns->stop, true);
    if (ns->running) {
        uint64_t one = 1;
        ssize_t w = write(ns->wake_fd, &one, sizeof(one));
        (void)w;
        pthread_join(ns->thread, NULL);
    }
    net_peers_set(ns->p->peers, ns, "", "", NULL, NULL, 0);
    ctx_free(ns->cx);
    if (ns->wake_fd >= 0)
        close(ns->wake_fd);
    if (ns->nsfd >= 0)
        close(ns->nsfd);
    pthread_cond_destroy(&ns->cv);
    pthread_mutex_destroy(&ns->mu);
    free(ns);
}

void net_ns_stats_get(net_ns *ns, net_ns_stats *o)
{
    memset(o, 0, sizeof(*o));
    o->packets = atomic_load(&ns->packets);
    o->bytes = atomic_load(&ns->bytes);
    o->kernel_drops = atomic_load(&ns->kernel_drops);
    o->if_drops = atomic_load(&ns->if_drops);
    o->errors = atomic_load(&ns->errors);
    o->interfaces = atomic_load(&ns->nifs);
    pthread_mutex_lock(&ns->mu);
    o->engine = ns->engine;
    pthread_mutex_unlock(&ns->mu);
    if (ns->cx)
        net_conns_counts(ns->cx->conns, &o->events, &o->events_dropped, &o->keys_full);
}
