/*
 * The capture threads: plugins.net.capture_threads of them (named
 * net-capture), each serving any number of namespaces with one epoll set
 * (their rings, their link notification sockets, and its own eventfd for
 * the loop thread). A new namespace goes to the thread serving the fewest.
 *
 * Why not a thread per namespace, as before: a hundred idle containers
 * made a hundred threads, each waking every second for nothing and
 * entering its namespace every rescan to list its interfaces again. Here
 * an idle namespace costs a few comparisons a second; a thread wakes for
 * packets, for a request, or for the earliest timer of its namespaces.
 *
 * A namespace's engine, connection table and rings belong to the thread
 * serving it, from net_server_give() until it lets go of it (ns->stop, then
 * ns->detached under the namespace's mutex).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture_int.h"

#define EVENTS_MAX 64

typedef struct net_pool {
    size_t n;
    net_server srv[];
} net_pool;

void net_server_wake(net_server *srv)
{
    uint64_t one = 1;
    ssize_t w = write(srv->wake_fd, &one, sizeof(one));
    (void)w; /* the counter only saturates: a wake-up is pending anyway */
}

int net_server_watch(net_server *srv, int fd, net_src *src)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = src};
    return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void net_server_move(net_server *srv, int fd, net_src *src)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = src};
    epoll_ctl(srv->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void net_server_unwatch(net_server *srv, int fd)
{
    epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void net_server_due(net_server *srv, uint64_t when)
{
    if (when < srv->next_due)
        srv->next_due = when;
}

net_server *net_pool_pick(net_plugin *p)
{
    net_pool *pool = p->pool;
    net_server *best = NULL;
    size_t least = 0;
    for (size_t i = 0; pool && i < pool->n; i++) {
        net_server *s = &pool->srv[i];
        pthread_mutex_lock(&s->mu);
        size_t n = s->assigned;
        pthread_mutex_unlock(&s->mu);
        if (!best || n < least) {
            best = s;
            least = n;
        }
    }
    return best;
}

void net_server_give(net_server *srv, net_ctx *cx)
{
    cx->srv = srv;
    pthread_mutex_lock(&srv->mu);
    cx->next = srv->incoming;
    srv->incoming = cx;
    srv->assigned++;
    pthread_mutex_unlock(&srv->mu);
    net_server_wake(srv);
}

void net_server_forget(net_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->assigned--;
    pthread_mutex_unlock(&srv->mu);
}

/* ---- the thread ------------------------------------------------------------ */

static void let_go(net_ctx *cx)
{
    net_ctx_detach(cx);
    net_ns *ns = cx->ns;
    pthread_mutex_lock(&ns->mu);
    ns->detached = true;
    pthread_cond_broadcast(&ns->cv);
    pthread_mutex_unlock(&ns->mu);
}

/* The loop thread wrote the eventfd: namespaces to take, requests, members
 * changed, namespaces to let go of. */
static void on_wake(net_server *srv, uint64_t now)
{
    uint64_t v;
    ssize_t r = read(srv->wake_fd, &v, sizeof(v));
    (void)r;
    pthread_mutex_lock(&srv->mu);
    net_ctx *in = srv->incoming;
    srv->incoming = NULL;
    pthread_mutex_unlock(&srv->mu);
    while (in) {
        net_ctx *cx = in;
        in = in->next;
        cx->next = srv->served;
        srv->served = cx;
        net_ctx_attach(cx, now);
    }
    for (net_ctx **pp = &srv->served; *pp;) {
        net_ctx *cx = *pp;
        if (atomic_load(&cx->ns->stop)) {
            *pp = cx->next; /* cx belongs to the loop thread again after this */
            let_go(cx);
            continue;
        }
        net_ctx_requests(cx, now);
        pp = &cx->next;
    }
    srv->next_due = 0; /* a request may have moved a timer */
}

static void timers(net_server *srv, uint64_t now)
{
    bool second = now >= srv->next_second;
    if (second)
        srv->next_second = now + 1000;
    uint64_t due = srv->next_second;
    for (net_ctx *cx = srv->served; cx; cx = cx->next) {
        net_ctx_timers(cx, now, second);
        uint64_t t = net_ctx_next(cx);
        if (t < due)
            due = t;
    }
    srv->next_due = due;
}

static int wait_ms(const net_server *srv)
{
    uint64_t now = net_mono_ms();
    if (srv->next_due <= now)
        return 0;
    uint64_t d = srv->next_due - now;
    return d > 60000 ? 60000 : (int)d;
}

static void *server_main(void *arg)
{
    net_server *srv = arg;
    /* Named for top -H and the benches, which count these threads' CPU. */
    pthread_setname_np(pthread_self(), "net-capture");
    srv->next_second = net_mono_ms() + 1000;
    srv->next_due = 0;
    struct epoll_event ev[EVENTS_MAX];
    while (!atomic_load(&srv->stop)) {
        int n = epoll_wait(srv->epfd, ev, EVENTS_MAX, wait_ms(srv));
        if (n < 0 && errno != EINTR) {
            srv->p->api->log(srv->p->h, VG_LOG_ERR, "capture: epoll_wait: %s", strerror(errno));
            usleep(100000);
        }
        uint64_t now = net_mono_ms();
        bool woken = false;
        /* Only reads here: interfaces open and close in the timers and on
         * wake-ups below, after every event of the batch was seen. */
        for (int i = 0; i < n; i++) {
            net_src *s = ev[i].data.ptr;
            if (!s)
                woken = true;
            else if (s->kind == NET_SRC_IFACE)
                net_ctx_read(s->cx, (net_iface *)s);
            else
                net_ctx_links(s->cx, now);
        }
        if (woken)
            on_wake(srv, now);
        now = net_mono_ms();
        if (now >= srv->next_due)
            timers(srv, now);
    }
    return NULL;
}

/* ---- life cycle (loop thread) ------------------------------------------------ */

static void server_close(net_server *srv)
{
    if (srv->running) {
        atomic_store(&srv->stop, true);
        net_server_wake(srv);
        pthread_join(srv->thread, NULL);
    }
    if (srv->epfd >= 0)
        close(srv->epfd);
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    if (srv->home_fd >= 0)
        close(srv->home_fd);
    pthread_mutex_destroy(&srv->mu);
}

static int server_open(net_plugin *p, net_server *srv)
{
    srv->p = p;
    pthread_mutex_init(&srv->mu, NULL);
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    /* The loop thread is in the daemon's namespace. */
    srv->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (srv->epfd < 0 || srv->wake_fd < 0 || srv->home_fd < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->wake_fd, &ev) < 0)
        return -errno;
    int rc = pthread_create(&srv->thread, NULL, server_main, srv);
    srv->running = rc == 0;
    return -rc;
}

int net_pool_start(net_plugin *p)
{
    size_t n = (size_t)p->cfg.capture_threads;
    net_pool *pool = calloc(1, sizeof(*pool) + n * sizeof(net_server));
    if (!pool)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        net_server *s = &pool->srv[i];
        s->epfd = s->wake_fd = s->home_fd = -1;
        pool->n++;
        rc = server_open(p, s);
    }
    p->pool = pool;
    if (rc < 0) {
        p->api->log(p->h, VG_LOG_ERR, "cannot start the capture threads: %s", strerror(-rc));
        net_pool_stop(p);
    }
    return rc;
}

void net_pool_stop(net_plugin *p)
{
    net_pool *pool = p->pool;
    if (!pool)
        return;
    for (size_t i = 0; i < pool->n; i++)
        server_close(&pool->srv[i]); /* none serves a namespace any more */
    free(pool);
    p->pool = NULL;
}
