/*
 * One captured network namespace, served by a capture thread
 * (capture_pool.c), which serves many.
 *
 * The thread enters the namespace (setns on /proc/<pid>/ns/net, held open
 * by the loop thread since the workload was found, so that a recycled pid
 * cannot send it elsewhere), lists the interfaces there, opens a libpcap
 * ring on each (TPACKET_V3 memory-mapped, non-blocking, the configured BPF
 * compiled by libpcap) and an rtnetlink socket (linkwatch.c), and returns
 * to the daemon's namespace: rings and socket stay bound to the namespace
 * they were opened in. It then reads the rings when they are readable and
 * feeds every packet to the namespace's own engine (the engine is not
 * thread-safe: only the serving thread touches it); the engine's sink
 * (conns.c) turns flows into events. When the socket tells of a link or
 * address change (a CNI plugin adds eth0 after the container's first
 * process started), and at the latest every rescan_ms, the thread enters
 * the namespace again to open the interfaces added and close those gone.
 *
 * The loop thread talks to the namespace through net_ns_call(): a function
 * run on the serving thread between two reads, with the namespace's
 * context.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture_int.h"

/* A link notification is acted on after this, so that a burst of them (a
 * veth moved in, renamed, given an address, set up) is one rescan. */
#define LINKS_SETTLE_MS 50
/* Without that socket, interfaces are looked up this often (the setting's
 * old default) when rescan_ms is longer. */
#define NO_LINKS_RESCAN_MS 2000

uint64_t net_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t net_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* How long until the interfaces are looked up again, unless a change is
 * heard first. */
static uint64_t rescan_every(const net_ctx *cx)
{
    uint64_t ms = (uint64_t)cx->p->cfg.rescan_ms;
    return cx->links_fd < 0 && ms > NO_LINKS_RESCAN_MS ? NO_LINKS_RESCAN_MS : ms;
}

static void rescan_at(net_ctx *cx, uint64_t when)
{
    if (when < cx->next_rescan)
        cx->next_rescan = when;
    net_server_due(cx->srv, when);
}

/* ---- interfaces ----------------------------------------------------------- */

static void iface_close(net_ctx *cx, size_t i)
{
    net_iface *f = &cx->ifs[i];
    struct pcap_stat st;
    if (pcap_stats(f->pc, &st) == 0) { /* keep what it counted */
        cx->gone_drops += st.ps_drop;
    }
    net_server_unwatch(cx->srv, f->fd);
    pcap_close(f->pc);
    if (i != --cx->nifs) {
        cx->ifs[i] = cx->ifs[cx->nifs];
        net_server_move(cx->srv, cx->ifs[i].fd, &cx->ifs[i].src);
    }
    cx->stats_due = true;
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
    net_iface *f = &cx->ifs[cx->nifs];
    memset(f, 0, sizeof(*f));
    f->src = (net_src){.kind = NET_SRC_IFACE, .cx = cx};
    f->pc = pc;
    f->dlt = pcap_datalink(pc);
    f->fd = pcap_get_selectable_fd(pc);
    f->index = nif->index;
    memcpy(f->name, nif->name, sizeof(f->name)); /* same size, NUL-terminated */
    if ((rc = net_server_watch(cx->srv, f->fd, &f->src)) < 0) {
        snprintf(err, sizeof(err), "epoll: %s", strerror(-rc));
        goto fail;
    }
    cx->nifs++;
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

/* In the namespace: the links socket when there is none (yet, or since it
 * broke). */
static void links_open_here(net_ctx *cx)
{
    if (cx->links_fd >= 0)
        return;
    int fd = net_links_open();
    if (fd < 0 && !cx->links_warned) {
        cx->links_warned = true;
        cx->p->api->log(cx->p->h, VG_LOG_WARN,
                        "%s: no link notifications (%s): interfaces are looked up every %lld ms",
                        cx->ns->members[0][0] ? cx->ns->members[0] : "host", strerror(-fd),
                        (long long)rescan_every(cx));
    }
    if (fd < 0)
        return;
    cx->links_src = (net_src){.kind = NET_SRC_LINKS, .cx = cx};
    if (net_server_watch(cx->srv, fd, &cx->links_src) < 0) {
        close(fd);
        return;
    }
    cx->links_fd = fd;
}

/* In the namespace: opens new interfaces, closes vanished ones, and
 * refreshes the local addresses. */
static int rescan_here(net_ctx *cx)
{
    /* Opened before the listing, so that a change right after it is heard. */
    links_open_here(cx);
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
    net_server *srv = cx->srv;
    if (srv->astray && setns(srv->home_fd, CLONE_NEWNET) == 0)
        srv->astray = false;
    if (cx->ns->nsfd < 0) /* the host: the thread's own namespace */
        return srv->astray ? -EAGAIN : rescan_here(cx);
    if (setns(cx->ns->nsfd, CLONE_NEWNET) < 0)
        return -errno;
    int rc = rescan_here(cx);
    if (setns(srv->home_fd, CLONE_NEWNET) < 0 && !srv->astray) {
        /* Rings and sockets stay where they were opened, so reading them
         * is still right; only the host's rescans wait until the thread is
         * back (tried again at each rescan). */
        cx->p->api->log(cx->p->h, VG_LOG_ERR, "cannot return to the daemon's namespace: %s",
                        strerror(errno));
        srv->astray = true;
    }
    return rc;
}

static void rescan_now(net_ctx *cx, uint64_t now)
{
    int rc = rescan(cx);
    if (rc < 0 && !cx->rescan_failed)
        cx->p->api->log(cx->p->h, VG_LOG_WARN, "%s: cannot list the interfaces: %s",
                        cx->ns->members[0], strerror(-rc));
    cx->rescan_failed = rc < 0;
    cx->next_rescan = now + rescan_every(cx);
}

void net_ctx_links(net_ctx *cx, uint64_t now)
{
    int rc = net_links_drain(cx->links_fd);
    if (rc != 0) /* a change, lost notifications, or a broken socket: look */
        rescan_at(cx, now + LINKS_SETTLE_MS);
    if (rc < 0) { /* and from now on every rescan_ms only */
        net_server_unwatch(cx->srv, cx->links_fd);
        close(cx->links_fd);
        cx->links_fd = -1;
    }
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

void net_ctx_read(net_ctx *cx, net_iface *f)
{
    pkt_arg a = {.cx = cx, .f = f, .source = (uint32_t)f->index};
    /* A bounded batch, so that one busy interface cannot starve the others
     * or the requests. */
    int n = pcap_dispatch(f->pc, 4096, on_packet, (u_char *)&a);
    if (n == PCAP_ERROR) {
        /* The interface went away (ENODEV, ENETDOWN): the rescan sees. */
        cx->errors++;
        cx->stats_due = true;
        rescan_at(cx, 0);
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
    cx->stats_packets = cx->packets;
    cx->stats_due = false;
}

/* ---- timers ------------------------------------------------------------------ */

/* Once a second: flows expired, flows named announced, counters published,
 * a capture's time bound. A namespace with none of these to do costs
 * nothing: its ring would have had packets for the kernel to drop. */
static void second(net_ctx *cx)
{
    bool busy =
        !vg_net_idle(cx->eng) || cx->packets != cx->stats_packets || cx->stats_due || cx->dump;
    if (!busy)
        return;
    vg_net_expire(cx->eng, net_now_us());
    net_conns_second(cx->conns, cx->eng);
    update_stats(cx);
    if (cx->dump && net_dump_expired(cx->dump, net_now_us()))
        net_ctx_dump_end(cx);
}

void net_ctx_timers(net_ctx *cx, uint64_t now, bool is_second)
{
    if (now >= cx->next_rescan)
        rescan_now(cx, now);
    if (is_second)
        second(cx);
    if (now >= cx->next_interval) {
        net_conns_tick(cx->conns, cx->eng);
        cx->next_interval = now + (uint64_t)cx->p->cfg.interval_ms;
    }
}

uint64_t net_ctx_next(const net_ctx *cx)
{
    return cx->next_rescan < cx->next_interval ? cx->next_rescan : cx->next_interval;
}

void net_ctx_attach(net_ctx *cx, uint64_t now)
{
    rescan_now(cx, now);
    update_stats(cx);
}

void net_ctx_detach(net_ctx *cx)
{
    /* Flows still open are reported before the namespace goes. */
    vg_net_flush(cx->eng);
    net_conns_tick(cx->conns, cx->eng);
    if (cx->dump)
        net_ctx_dump_end(cx);
    update_stats(cx);
    while (cx->nifs)
        iface_close(cx, cx->nifs - 1);
    if (cx->links_fd >= 0) {
        net_server_unwatch(cx->srv, cx->links_fd);
        close(cx->links_fd);
        cx->links_fd = -1;
    }
}

/* ---- requests from the loop thread ------------------------------------------ */

void net_ctx_requests(net_ctx *cx, uint64_t now)
{
    net_ns *ns = cx->ns;
    /* A workload joined the namespace or changed: the rescan passes the
     * members on (and the address table). */
    if (atomic_exchange(&ns->members_changed, false))
        rescan_at(cx, now);
    if (!atomic_exchange(&ns->req_pending, false))
        return;
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
    atomic_store(&ns->req_pending, true);
    net_server_wake(ns->srv);
    while (!ns->req_done && rc == 0)
        rc = pthread_cond_timedwait(&ns->cv, &ns->mu, &until);
    int out = ns->req_done ? ns->req_rc : -ETIMEDOUT;
    ns->req_fn = NULL;
    ns->req_arg = NULL;
    pthread_cond_broadcast(&ns->cv);
    pthread_mutex_unlock(&ns->mu);
    return out;
}

void net_ns_members_changed(net_ns *ns)
{
    atomic_store(&ns->members_changed, true);
    net_server_wake(ns->srv);
}

/* ---- life cycle (loop thread) ------------------------------------------------ */

static void ctx_free(net_ctx *cx)
{
    if (!cx)
        return;
    net_ctx_dump_forget(cx);
    vg_net_engine_free(cx->eng);
    net_conns_free(cx->conns);
    free(cx);
}

static net_ctx *ctx_new(net_plugin *p, net_ns *ns)
{
    net_ctx *cx = calloc(1, sizeof(*cx));
    if (!cx)
        return NULL;
    cx->p = p;
    cx->ns = ns;
    cx->links_fd = -1;
    cx->dump_state.result.fd = -1;
    cx->conns = net_conns_new(p, ns, (size_t)p->cfg.max_keys);
    if (cx->conns) {
        vg_net_sink sink = net_conns_sink(cx->conns);
        vg_net_config ec = {.max_flows = (uint32_t)p->cfg.max_flows};
        cx->eng = vg_net_engine_new(&ec, &sink);
        if (cx->eng)
            net_threats_apply(p, cx->eng, ns->group);
    }
    if (!cx->conns || !cx->eng) {
        ctx_free(cx);
        return NULL;
    }
    cx->next_interval = net_mono_ms() + (uint64_t)p->cfg.interval_ms;
    return cx;
}

int net_ns_start(net_plugin *p, int nsfd, uint64_t dev, uint64_t ino, const char *workload,
                 const char *group, net_ns **out)
{
    net_server *srv = net_pool_pick(p);
    net_ns *ns = srv ? calloc(1, sizeof(*ns)) : NULL;
    if (!ns) {
        if (nsfd >= 0)
            close(nsfd);
        return srv ? -ENOMEM : -EAGAIN;
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
    ns->cx = ctx_new(p, ns);
    if (!ns->cx) {
        net_ns_stop(ns);
        return -ENOMEM;
    }
    net_conns_owner(ns->cx->conns, workload, group);
    ns->srv = srv;
    net_server_give(srv, ns->cx);
    *out = ns;
    return 0;
}

void net_ns_stop(net_ns *ns)
{
    if (!ns)
        return;
    if (ns->srv) {
        atomic_store(&ns->stop, true);
        net_server_wake(ns->srv);
        pthread_mutex_lock(&ns->mu);
        while (!ns->detached)
            pthread_cond_wait(&ns->cv, &ns->mu);
        pthread_mutex_unlock(&ns->mu);
        net_server_forget(ns->srv);
    }
    net_peers_set(ns->p->peers, ns, "", "", NULL, NULL, 0);
    ctx_free(ns->cx);
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
