/*
 * The structures of a captured namespace and of its thread (capture.c,
 * capture_cmd.c). Not for the rest of the plugin, which goes through
 * net.h.
 */
#ifndef VG_NET_CAPTURE_INT_H
#define VG_NET_CAPTURE_INT_H

#include <pcap/pcap.h>

#include "net.h"

typedef struct net_iface {
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

/* Owned by the capture thread once it runs. */
typedef struct net_ctx {
    net_plugin *p;
    net_ns *ns;
    net_iface ifs[NET_IFACES_MAX];
    size_t nifs;
    vg_net_engine *eng;
    net_conns *conns;
    net_dump *dump;
    net_dump_state dump_state;
    int home_fd; /* the daemon's namespace, to come back to */
    uint64_t packets, bytes, errors, gone_drops;
    uint64_t next_rescan, next_second, next_interval; /* monotonic ms */
    bool rescan_failed;
} net_ctx;

struct net_ns {
    net_ns *next;
    net_plugin *p;
    uint64_t dev, ino;
    int nsfd;    /* -1: the daemon's own namespace (host interfaces) */
    int wake_fd; /* eventfd: a request or stop */
    pthread_t thread;
    bool running;
    atomic_bool stop;
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

#endif
