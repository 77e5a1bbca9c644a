/*
 * What the enforcement programs (enforce.bpf.c) and their loader
 * (enforce.c) share: the key of the allow map and a denial record.
 */
#ifndef VIGIL_NET_ENFORCE_ABI_H
#define VIGIL_NET_ENFORCE_ABI_H

#include <linux/types.h>

#define VG_ENF_V4 4
#define VG_ENF_V6 6
#define VG_ENF_ALLOW_MAX 4096
#define VG_ENF_QUAR_ALLOW_MAX 64

/* An allowed destination. port 0 with proto 0: every port of the address. */
struct vg_enf_key {
    __u8 family;   /* VG_ENF_V4 / VG_ENF_V6 */
    __u8 proto;    /* IPPROTO_TCP / IPPROTO_UDP */
    __u16 port;    /* host order */
    __u8 addr[16]; /* network order; IPv4 in the first 4 bytes */
};

/* An allowed network (a named network of plugins.net.networks, for a rule
 * peer = "corp"): the key of an LPM trie, prefixlen = 32 + the address's
 * prefix (proto, family and port come first and are always matched). */
#define VG_ENF_NET_MAX 256
struct vg_enf_net {
    __u32 prefixlen;
    __u8 proto; /* 0 with port 0: every port */
    __u8 family;
    __u16 port;
    __u8 addr[16];
};

/* A DNS name some allowed rule names (peer = "api.example.com"), for the
 * ingress program to read the answers to it (enforce.bpf.c): the key is
 * vg_enf_dns_hash() of the name, the value the (port, proto) pairs its
 * rules allow (proto 0: unused slot). */
#define VG_ENF_DNS_MAX 1024
#define VG_ENF_DNS_PORTS 4
struct vg_enf_dns {
    __u16 port[VG_ENF_DNS_PORTS];
    __u8 proto[VG_ENF_DNS_PORTS];
};
#define VG_ENF_FNV_OFFSET 0xcbf29ce484222325ULL
#define VG_ENF_FNV_PRIME 0x100000001b3ULL

/* The value of an allow key the kernel added from a DNS answer: its time
 * (bpf_ktime_get_ns, CLOCK_MONOTONIC), so that the loader does not remove
 * it before the capture has handed it the same answer. Keys the loader
 * writes have the value 1. */

/* A refusal. Egress: key is the destination. Ingress: key holds the
 * peer's address and the workload's own (local) port. */
struct vg_enf_denial {
    struct vg_enf_key key;
    __u32 ingress;
    __u32 pad;
    __u64 cgroup; /* the cgroup v2 id of the workload refused */
};

#endif
