/*
 * Kernel enforcement of one plugin (enforce.c): per workload, the programs
 * of bpf/enforce.bpf.c loaded and attached to the workload's cgroup v2
 * (legacy multi-attach, so that they stay when the daemon dies: see
 * docs/net.md "Failure semantics"), its allow map kept equal to the keys
 * given, and the denials read from one shared ring buffer on the loop.
 * Loop thread only.
 */
#ifndef VIGIL_NET_ENFORCE_H
#define VIGIL_NET_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "bpf/enforce_abi.h"

typedef struct net_enf net_enf;

/* A denial the kernel reported, for the workload (id) it refused. */
typedef void (*net_enf_denial_cb)(void *arg, const char *workload, const struct vg_enf_key *key,
                                  bool ingress);

/* 0, or -errno with err set (no BPF here, no cgroup v2 mount). */
int net_enf_new(uv_loop_t *loop, net_enf_denial_cb cb, void *arg, net_enf **out, char *err,
                size_t errlen);
/* Frees everything; with detach, removes the programs from every cgroup
 * first (net.on_stop = "open"), else they stay attached and enforcing. */
void net_enf_free(net_enf *e, bool detach);

/* What a protected workload may reach (out: destination, port, proto) and
 * be reached from (in: peer, its own port, proto), by address and by
 * network. */
typedef struct net_enf_keys {
    const struct vg_enf_key *out, *in;
    size_t n_out, n_in;
    const struct vg_enf_net *net_out, *net_in;
    size_t n_net_out, n_net_in;
    /* The DNS names whose answers the kernel reads (vg_enf_dns). */
    const __u64 *dns_names;
    const struct vg_enf_dns *dns_rules;
    size_t n_dns;
} net_enf_keys;

/*
 * The enforcement of workload id (init pid pid): with protect, connect()
 * and UDP sendmsg() are allowed to k's out keys only, and connections and
 * datagrams in from its in keys (bpf/enforce.bpf.c); with quarantine, every
 * packet is dropped. The map is filled before the programs are attached, so
 * nothing allowed is refused meanwhile. The first call for a cgroup with
 * may_sweep removes the programs an earlier daemon left there (after
 * attaching its own, so that a protected workload is never open): the
 * caller allows it for the workloads it enforces or its predecessor did,
 * not for another daemon's (a test host runs several). 0 or -errno with
 * err set.
 */
int net_enf_apply(net_enf *e, const char *id, int pid, bool protect, const net_enf_keys *k,
                  bool quarantine, bool may_sweep, char *err, size_t errlen);
/* Forgets the workloads not in ids[0..n) (stopped): their objects are closed. */
void net_enf_keep(net_enf *e, const char *const *ids, size_t n);
/* The peers quarantine lets through (quar_allow.c parses them), for every
 * quarantined workload from its next net_enf_apply on. At most
 * VG_ENF_QUAR_ALLOW_MAX. */
void net_enf_quar_allow(net_enf *e, const struct vg_enf_key *keys, size_t n);
/* Whether workload id has its protect / quarantine programs attached. */
bool net_enf_state(const net_enf *e, const char *id, bool *protect, bool *quarantine);

/* quar_allow.c: plugins.net.quarantine_allow ("ADDR, ADDR:PORT, [ADDR6]:PORT")
 * into out[0..*n) (max at most): 0, or -EINVAL with msg set. */
int net_quar_allow_parse(const char *spec, struct vg_enf_key *out, size_t max, size_t *n, char *msg,
                         size_t msglen);

#endif
