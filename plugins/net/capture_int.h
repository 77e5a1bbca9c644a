/*
 * The structures of a captured namespace (capture.c, capture_cmd.c,
 * ns_members.c) and of the capture threads that serve them
 * (capture_pool.c). Not for the rest of the plugin, which goes through
 * net.h.
 */
#ifndef VG_NET_CAPTURE_INT_H
#define VG_NET_CAPTURE_INT_H

#include <pcap/pcap.h>

#include "net.h"

struct net_ctx;

/* What a descriptor in a capture thread's epoll set is: the first member
 * of what it belongs to, and the epoll event's data.ptr. */
enum { NET_SRC_IFACE = 1, NET_SRC_LINKS };
typedef struct net_src {
    int kind;
    struct net_ctx *cx;
} net_src;

typedef struct net_iface {
    net_src src; /* first */
    pcap_t *pc;
    char name[32];
    int index, dlt, fd;
} net_iface;

/* The last `vigilctl capture` of the namespace (capture thread; read
 * through net_ns_call). */
typedef struct net_dump_state {
    uint64_t id; /* 0: none yet */
    bool running;
    net_dump_result result;
} net_dump_state;

/* A capture thread (capture_pool.c): serves any number of namespaces with
 * one epoll set. */
typedef struct net_server {
    net_plugin *p;
    pthread_t thread;
    bool running;
    int epfd, wake_fd;
    int home_fd; /* the daemon's namespace, to come back to */
    atomic_bool stop;
    /* Loop thread and this thread, under mu: namespaces handed over and
     * not taken yet (through net_ctx.next), and how many it was given. */
    pthread_mutex_t mu;
    struct net_ctx *incoming;
    size_t assigned;
    /* This thread only. */
    struct net_ctx *served;
    uint64_t next_second, next_due; /* monotonic ms */
    bool astray;                    /* could not come back to home_fd */
} net_server;

/* Owned by the serving thread once handed over. */
typedef struct net_ctx {
    net_plugin *p;
    net_ns *ns;
    net_server *srv;
    struct net_ctx *next; /* the server's incoming or served list */
    net_iface ifs[NET_IFACES_MAX];
    size_t nifs;
    net_src links_src;
    int links_fd;      /* linkwatch.c, in the namespace; -1 without */
    bool links_warned; /* that it could not be opened */
    vg_net_engine *eng;
    net_conns *conns;
    net_dump *dump;
    net_dump_state dump_state;
    uint64_t packets, bytes, errors, gone_drops;
    uint64_t stats_packets;              /* packets when the stats were last published */
    bool stats_due;                      /* something to publish besides packets */
    uint64_t next_rescan, next_interval; /* monotonic ms */
    bool rescan_failed;
} net_ctx;

struct net_ns {
    net_ns *next;
    net_plugin *p;
    uint64_t dev, ino;
    int nsfd;         /* -1: the daemon's own namespace (host interfaces) */
    net_server *srv;  /* the thread serving it, once handed over */
    atomic_bool stop; /* the loop thread wants it let go */
    atomic_bool req_pending, members_changed;
    bool detached; /* under mu: the serving thread let go of it */
    net_ctx *cx;
    /* Loop thread writes, under mu; the capture thread reads under mu. */
    char members[NET_MEMBERS_MAX][VG_WORKLOAD_MAX];
    char member_groups[NET_MEMBERS_MAX][VG_GROUP_MAX];
    int member_pids[NET_MEMBERS_MAX];
    size_t nmembers;
    char group[VG_GROUP_MAX];
    /* Counters the thread publishes about once a second. */
    atomic_uint_fast64_t packets, bytes, kernel_drops, if_drops, errors;
    atomic_size_t nifs;
    vg_net_stats engine; /* under mu */
    /* The request slot (net_ns_call). */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    net_request_fn req_fn;
    void *req_arg;
    int req_rc;
    bool req_done;
};

/* Lets go of the last capture's memory (capture thread). */
void net_ctx_dump_forget(net_ctx *cx);
/* Ends the running dump (capture thread): file closed, result kept. */
void net_ctx_dump_end(net_ctx *cx);

/* ---- capture.c: one namespace, on its serving thread ---- */

/* Takes the namespace over: its interfaces opened, its link notifications
 * heard. */
void net_ctx_attach(net_ctx *cx, uint64_t now_ms);
/* Reports the open flows and closes everything of the namespace. */
void net_ctx_detach(net_ctx *cx);
/* Packets of one interface; notifications of the links socket. */
void net_ctx_read(net_ctx *cx, net_iface *f);
void net_ctx_links(net_ctx *cx, uint64_t now_ms);
/* The loop thread's request, and the members' changes, if any. */
void net_ctx_requests(net_ctx *cx, uint64_t now_ms);
/* Timers: due rescan and interval, and the second's housekeeping (which
 * does nothing for a namespace without flows, packets or capture). */
void net_ctx_timers(net_ctx *cx, uint64_t now_ms, bool second);
/* When the namespace next needs its thread (monotonic ms). */
uint64_t net_ctx_next(const net_ctx *cx);
uint64_t net_mono_ms(void);
/* Loop thread: the members changed (ns_members.c); the thread passes them
 * on. */
void net_ns_members_changed(net_ns *ns);

/* ---- capture_pool.c ---- */

/* The thread that should serve a new namespace (the least loaded); NULL
 * without threads. */
net_server *net_pool_pick(net_plugin *p);
/* Hands cx over to srv (loop thread). */
void net_server_give(net_server *srv, net_ctx *cx);
void net_server_wake(net_server *srv);
/* A namespace let go of (loop thread, after it was detached). */
void net_server_forget(net_server *srv);
/* The epoll set of the serving thread (that thread). */
int net_server_watch(net_server *srv, int fd, net_src *src);
void net_server_move(net_server *srv, int fd, net_src *src);
void net_server_unwatch(net_server *srv, int fd);
/* cx needs its thread again at when (monotonic ms; that thread). */
void net_server_due(net_server *srv, uint64_t when);

#endif
