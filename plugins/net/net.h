/*
 * Internals shared by the files of the net plugin (the live side: capture in
 * the workloads' network namespaces, attribution, events, commands).
 *
 *   plugin.c    descriptor, configuration, following the workloads,
 *               net.stats, the control commands
 *   capture.c   one captured network namespace: entered to open a libpcap
 *               ring on every interface, its own engine fed
 *   capture_pool.c the capture threads, each serving many namespaces
 *   linkwatch.c    an rtnetlink socket that tells of interface changes
 *   capture_cmd.c  what the loop thread asks of a capture thread
 *   ns_members.c   the workloads sharing a captured namespace
 *   ifaces.c    the interfaces and addresses of the thread's namespace
 *   peers.c     who is behind an address: the address table of the known
 *               workloads (shared, locked) and the named networks
 *   conns.c     the engine's sink: flows become net.connect / net.accept
 *               (once per key and interval) and net.conn summaries
 *   flowmap.c   the flows conns.c remembers, by the engine's id
 *   sockown.c   which workload of a shared namespace owns a socket
 *   dump.c      `vigilctl capture`: a bounded pcap of one namespace
 *   graph.c     the observed connections between groups (loop thread)
 *
 * Threads: the loop thread owns the plugin, the list of namespaces and the
 * graph; each capture thread owns the interfaces, engines and connection
 * tables of the namespaces it serves. They meet in the address table
 * (peers.c, a mutex), in atomic counters, in the request slots of a
 * namespace (capture.c, a mutex and a condition variable) and in the
 * hand-over of namespaces to a thread (capture_pool.c, a mutex).
 */
#ifndef VG_NET_NET_H
#define VG_NET_NET_H

#include <msgpack.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <vigil/plugin.h>

#include "engine.h"

#define NET_IFACES_MAX 32  /* interfaces captured per namespace */
#define NET_ADDRS_MAX 64   /* local addresses per namespace */
#define NET_MEMBERS_MAX 16 /* workloads sharing one namespace (a pod) */
#define NET_PEER_MAX 256   /* a peer as text: group, network, DNS name or address */
#define NET_NETWORKS_MAX 64

/* A named network of the config (plugins.net.networks = "corp=10.0.0.0/8"). */
typedef struct net_network {
    char name[64];
    int family;
    uint8_t addr[16];
    int prefix;
} net_network;

typedef struct net_config {
    char filter[1024];   /* BPF for every capture, "" = everything */
    int64_t snaplen;     /* bytes kept per packet */
    int64_t buffer_kb;   /* ring per interface */
    int64_t timeout_ms;  /* TPACKET_V3 block timeout */
    bool immediate;      /* every packet at once (libpcap then uses TPACKET_V2) */
    bool loopback;       /* capture "lo" too */
    bool nodes;          /* capture the host's interfaces as group "nodes" */
    int64_t interval_ms; /* events once per key per interval; net.conn period */
    int64_t stats_interval_ms;
    int64_t rescan_ms; /* interfaces looked up again at the latest */
    int64_t capture_threads;
    int64_t max_flows; /* per namespace (engine table) */
    int64_t max_keys;  /* connection keys per namespace and interval */
    int64_t capture_max_seconds, capture_max_mb;
    net_network networks[NET_NETWORKS_MAX];
    size_t nnetworks;
    char threats[2048];        /* switches and thresholds per group (threats.c) */
    char policy_threats[8192]; /* the same from vigil.threat{} in policies (threat_decl.c) */
    char k8s_api[512], k8s_token_file[256], k8s_ca_file[256]; /* k8s_extip.c */
    int64_t k8s_poll_ms;
} net_config;

struct net_peers;
struct net_ns;
struct net_graph;
struct net_dump_result;
struct net_dump_req;
struct net_pool;

typedef struct net_plugin {
    const vg_host_api *api;
    vg_host *h;
    int t_connect, t_accept, t_conn, t_stats, t_threat;
    int t_violation;     /* resets.c */
    struct net_k8s *k8s; /* k8s_extip.c: NULL without k8s_api */
    net_config cfg;
    struct net_peers *peers;
    struct net_ns *nss;    /* loop thread: the captured namespaces */
    struct net_pool *pool; /* capture_pool.c: the capture threads */
    struct net_graph *graph;
    struct uv_timer_s *stats_timer;
    uint64_t host_ino, host_dev;   /* the daemon's own namespace */
    struct net_protect *protect;   /* protect.c: kernel enforcement, quarantine */
    struct net_dnsnames *dnsnames; /* dnsnames.h: names resolved, per group */
} net_plugin;

/* ---- threats.c: net.threat events, threat settings per group ---- */

/* Checks plugins.net.threats and keeps it in c; -1 with msg when it is wrong. */
int net_threats_config(net_config *c, const char *spec, char *msg, size_t msglen);
/* Reads the policies' vigil.threat{} declarations into c (threat_decl.c). */
void net_threats_policy(net_plugin *p, net_config *c);
/* The declaration kinds of the plugin's descriptor (threat_decl.c). */
extern const vg_policy_decl_desc net_policy_decls[];
/* Gives engine e the set of group (its capture thread). */
void net_threats_apply(net_plugin *p, vg_net_engine *e, const char *group);
/* Publishes a threat seen in the namespace of workload/group; direction is
 * "egress" (the workload is the client), "ingress" or ""; action "reset"
 * when protect mode ended the connection, else "report". Any thread. */
void net_threats_publish(net_plugin *p, const char *workload, const char *group,
                         const char *direction, const char *action, const vg_net_threat *t);

/* ---- k8s_extip.c: Kubernetes Service external IPs (k8s-extip-mitm) ---- */

/* Reads and checks plugins.net.k8s_* into c; -EINVAL (logged) when wrong. */
int net_k8s_config(net_plugin *p, net_config *c);
/* Loop thread: starts / stops fetching with p->cfg's settings. */
void net_k8s_start(net_plugin *p);
void net_k8s_stop(net_plugin *p);
/* Gives engine e the current list (its capture thread). */
void net_k8s_apply(net_plugin *p, vg_net_engine *e);

/* ---- reset.c: ending TCP connections in a workload's namespace ---- */

/* Which connections: the local socket's and the peer's ends; a port of 0,
 * an address not given or an accept_remote of NULL match any; family 0
 * tries IPv4 and IPv6; IPv4 addresses match IPv6 sockets' v4-mapped ones. */
typedef struct net_reset_conn {
    int family;
    int has_local, has_remote;
    uint8_t local[16], remote[16];
    uint16_t local_port, remote_port;
    int (*accept_remote)(void *arg, int family, const uint8_t *addr);
    void *arg;
} net_reset_conn;
/* Destroys the matching TCP sockets (never listeners) of the namespace
 * nsfd (-1: the daemon's own) or of process pid (SOCK_DESTROY: the socket
 * is aborted and the peer gets a RST). How many, or a negative errno. Any
 * thread; blocks for a few system calls. */
int net_reset_tcp(int nsfd, const net_reset_conn *c);
int net_reset_pid(int pid, const net_reset_conn *c);

/* ---- resets.c: when protect mode resets a connection ---- */

/* A threat seen in the namespace of workload process pid (0: none), in
 * direction dir ("egress": the workload is the client): resets the
 * threat's connection when it is one (TCP, a threat of that connection,
 * not a rate) and the workload is in protect mode. Returns the event's
 * action, "reset" or "report". Capture threads. */
const char *net_threat_react(net_plugin *p, int pid, const char *dir, const vg_net_threat *t);
/* From start(): resets the connections the policy denies for their
 * application on a port the kernel lets through (net.violation, action
 * deny, not from the kernel) in protected workloads. */
void net_resets_start(net_plugin *p);

/* ---- protect.c: protect mode and quarantine in the kernel ---- */

struct net_protect;
/* From start(): the enforcer, the quarantine action and command. Without
 * BPF or cgroup v2 the plugin runs on DEGRADED (capture only). */
void net_protect_start(net_plugin *p);
/* The workloads changed: enforcement follows at once. */
void net_protect_sync(net_plugin *p);
/* From reload(): enforce, on_stop and quarantine_allow anew; 0 or -EINVAL. */
int net_protect_reload(net_plugin *p);
/* From stop(): with plugins.net.on_stop = "open" the programs are removed. */
void net_protect_stop(net_plugin *p);

/* ---- peers.c: the address table and the named networks ---- */

typedef struct net_peers net_peers;
net_peers *net_peers_new(void);
void net_peers_free(net_peers *t);
/* Replaces the addresses of namespace `owner` (a token) with addrs, all
 * belonging to workload/group. n = 0 removes them. */
int net_peers_set(net_peers *t, const void *owner, const char *workload, const char *group,
                  const int *family, const uint8_t (*addrs)[16], size_t n);
/* The group of the workload with address addr into group (size VG_GROUP_MAX)
 * and its id into workload (may be NULL): 0, or -ENOENT. Any thread. */
int net_peers_group(net_peers *t, int family, const uint8_t *addr, char *group, char *workload);
/* The addresses (up to max) of the workloads of group, or of workload. */
size_t net_peers_of_group(net_peers *t, const char *group, int *family, uint8_t (*addrs)[16],
                          size_t max);
size_t net_peers_of_workload(net_peers *t, const char *workload, int *family, uint8_t (*addrs)[16],
                             size_t max);
/* The most specific named network holding addr, or NULL. */
const net_network *net_network_of(const net_config *c, int family, const uint8_t *addr);
/* Parses "name=cidr[,name=cidr]..." into c->networks. 0 or -EINVAL (msg set). */
int net_networks_parse(net_config *c, const char *spec, char *msg, size_t msglen);

/* ---- ifaces.c: the namespace the calling thread is in ---- */

typedef struct net_if {
    char name[32];
    int index;
} net_if;

/* The interfaces that are up (lo only with loopback) and the addresses of
 * all of them. Returns the number of interfaces or -errno. */
int net_ifaces_list(bool loopback, net_if *ifs, size_t max_ifs, int *family, uint8_t (*addrs)[16],
                    size_t max_addrs, size_t *naddrs);

/* ---- linkwatch.c: interface changes of a namespace ---- */

/* An rtnetlink socket (non-blocking) told of the link and address changes
 * of the calling thread's namespace, or -errno. */
int net_links_open(void);
/* Reads what the socket has: 1 when something changed (or notifications
 * were lost), 0 when nothing did, -errno when the socket is broken. */
int net_links_drain(int fd);

/* ---- capture_pool.c: the capture threads ---- */

/* Starts cfg.capture_threads threads (0, or -errno logged). */
int net_pool_start(net_plugin *p);
/* Ends them; every namespace must have been stopped before. */
void net_pool_stop(net_plugin *p);

/* ---- capture.c: a captured network namespace ---- */

typedef struct net_ns net_ns;

/* Stats of one namespace, summed over its interfaces. */
typedef struct net_ns_stats {
    uint64_t packets, bytes, kernel_drops, if_drops, ring_full, errors;
    uint64_t events, events_dropped, keys_full;
    size_t interfaces;
    vg_net_stats engine;
} net_ns_stats;

/* Starts capturing namespace nsfd (taken over; -1 = the daemon's own, for
 * the host) on behalf of workload/group. */
int net_ns_start(net_plugin *p, int nsfd, uint64_t dev, uint64_t ino, const char *workload,
                 const char *group, net_ns **out);
/* Stops the thread, closes everything, frees ns. Loop thread. */
void net_ns_stop(net_ns *ns);
void net_ns_stats_get(net_ns *ns, net_ns_stats *out);

/* Accessors for the plugin's bookkeeping (loop thread). */
net_ns *net_ns_next(net_ns *ns);
void net_ns_set_next(net_ns *ns, net_ns *next);
bool net_ns_is(const net_ns *ns, uint64_t dev, uint64_t ino);
const char *net_ns_workload(const net_ns *ns);
/* Members: workloads that share the namespace; the first one is the owner
 * of the events (unless their groups differ: then the socket's owner is).
 * member_add adds one, or updates its group and init pid. */
int net_ns_member_add(net_ns *ns, const char *workload, const char *group, int pid);
bool net_ns_member_has(const net_ns *ns, const char *workload);
size_t net_ns_members(const net_ns *ns, const char **ids, size_t max);
/* Drops members not in ids (n); returns how many are left. */
size_t net_ns_members_keep(net_ns *ns, const char *const *ids, size_t n);
/* The group the namespace's events carry (its members' service group). */
void net_ns_set_group(net_ns *ns, const char *group);

/*
 * A request to the capture thread, answered on that thread and waited for
 * (at most timeout_ms) on the caller's. fn runs on the capture thread with
 * its context; its return is the request's result.
 */
struct net_ctx;
typedef int (*net_request_fn)(struct net_ctx *cx, void *arg);
int net_ns_call(net_ns *ns, net_request_fn fn, void *arg, int timeout_ms);

/* Requests of the control commands (capture_cmd.c), loop thread. */
int net_ns_dump_start(net_ns *ns, struct net_dump_req *rq, uint64_t *id);
int net_ns_dump_status(net_ns *ns, uint64_t id, bool *running, struct net_dump_result *res);
/* Up to len bytes of the finished capture id from offset into buf: the
 * number read (0 at the end, when the capture is let go), or -errno. */
ssize_t net_ns_dump_read(net_ns *ns, uint64_t id, uint64_t offset, void *buf, size_t len);
/* Appends the live sessions to sb as one msgpack array. */
int net_ns_sessions(net_ns *ns, msgpack_sbuffer *sb);

/* ---- conns.c: the engine's sink (capture thread) ---- */

typedef struct net_conns net_conns;
net_conns *net_conns_new(net_plugin *p, net_ns *ns, size_t max_keys);
void net_conns_free(net_conns *c);
vg_net_sink net_conns_sink(net_conns *c);
/* The workload the events of the namespace are about. */
void net_conns_owner(net_conns *c, const char *workload, const char *group);
/* The workloads sharing the namespace, with their groups and init pids
 * (for the owner of a socket when their groups differ). */
void net_conns_members(net_conns *c, const char (*ids)[VG_WORKLOAD_MAX],
                       const char (*groups)[VG_GROUP_MAX], const int *pids, size_t n);
/* The namespace's own addresses (for the direction of a flow). */
void net_conns_local(net_conns *c, const int *family, const uint8_t (*addrs)[16], size_t n);
/* Every second: flows closed before they were named are announced. */
void net_conns_second(net_conns *c, vg_net_engine *e);
/* End of an interval: net.conn summaries, keys forgotten. */
void net_conns_tick(net_conns *c, vg_net_engine *e);
void net_conns_counts(net_conns *c, uint64_t *events, uint64_t *dropped, uint64_t *keys_full);
/* Packs the live flows of engine e as an array of session maps. */
void net_conns_pack_sessions(net_conns *c, vg_net_engine *e, msgpack_packer *pk);

/* ---- dump.c: bounded captures to a pcap file (capture thread) ---- */

typedef struct net_dump net_dump;
typedef struct net_dump_req {
    char filter[1024];
    int64_t seconds, max_bytes;
    char error[256]; /* out */
} net_dump_req;
/* Opens the dump, in memory (linktype of the namespace's first interface). */
int net_dump_open(net_dump **out, const net_dump_req *rq, int dlt, int snaplen);
/* One packet: written when it passes the filter and the bounds allow.
 * Returns 1 when the dump is complete (time or size), else 0. */
int net_dump_packet(net_dump *d, int dlt, const void *hdr, const uint8_t *pkt, uint64_t now_us);
bool net_dump_expired(const net_dump *d, uint64_t now_us);
/* Ends the dump; fills the summary. The result's fd holds the whole pcap
 * file (size bytes) and belongs to the caller. */
typedef struct net_dump_result {
    uint64_t packets, bytes, filtered_out, other_linktype;
    int fd;         /* the memfd, -1 when there is none */
    uint64_t size;  /* of the file */
    int error;      /* 0 or -errno of the last write */
    bool truncated; /* ended by the size bound */
} net_dump_result;
void net_dump_close(net_dump *d, net_dump_result *res);

/* ---- graph.c: observed connections (loop thread) ---- */

typedef struct net_graph net_graph;
net_graph *net_graph_new(size_t max_edges);
void net_graph_free(net_graph *g);
/* Fed with net.connect, net.accept and net.violation events (wire form). */
void net_graph_event(net_graph *g, const void *rec, size_t len);
/* Packs the edges (of group G, or all when G is NULL/"") as an array. */
void net_graph_pack(net_graph *g, const char *group, msgpack_packer *pk);

/* ---- msgpack helpers (plugin.c) ---- */
void net_kv_str(msgpack_packer *pk, const char *k, const char *v);
void net_kv_int(msgpack_packer *pk, const char *k, int64_t v);
uint64_t net_now_us(void);
const msgpack_object *net_mp_get(const msgpack_object *m, const char *key);
/* A string value into buf: 0, -ENOENT when absent, -EINVAL when not a
 * string that fits. */
int net_mp_str(const msgpack_object *m, const char *key, char *buf, size_t size);
int net_mp_int(const msgpack_object *m, const char *key, int64_t *out);

#endif
