/*
 * Kernel side of protect mode and quarantine (plugins/net/enforce.c loads
 * it, one instance per enforced workload, attached to the workload's cgroup
 * (cgroup v2); docs/net.md "Protect mode").
 *
 * - vg_connect4/6, vg_sendmsg4/6 (cgroup_sock_addr): a connect() or a UDP
 *   sendmsg() from the workload to a destination that is not in `allow` is
 *   refused at once (the caller gets EPERM) and reported in `denials`.
 *   A key with port 0 and proto 0 allows every port of the address (a peer
 *   whose group is not protecting: the effective mode of the pair is the
 *   less restrictive one). Loopback is always allowed: it names no peer.
 * - vg_quar_in/out (cgroup_skb): every packet in and out of the workload
 *   is dropped, established connections included; attached only while the
 *   workload is quarantined.
 *
 * Written against the uapi headers (no CO-RE): struct bpf_sock_addr and
 * __sk_buff are stable ABI.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "enforce_abi.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VG_ENF_ALLOW_MAX);
    __type(key, struct vg_enf_key);
    __type(value, __u8);
} allow SEC(".maps");

/* Shared by every instance (the loader reuses the first one's fd). */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} denials SEC(".maps");

static __always_inline int allowed(struct vg_enf_key *k)
{
    if (bpf_map_lookup_elem(&allow, k))
        return 1;
    __u16 port = k->port;
    __u8 proto = k->proto;
    k->port = 0;
    k->proto = 0;
    int any = bpf_map_lookup_elem(&allow, k) != 0;
    k->port = port;
    k->proto = proto;
    return any;
}

static __always_inline void report(const struct vg_enf_key *k)
{
    struct vg_enf_denial *d = bpf_ringbuf_reserve(&denials, sizeof(*d), 0);
    if (!d)
        return; /* full: the daemon is behind; the refusal stands */
    d->key = *k;
    d->cgroup = bpf_get_current_cgroup_id();
    bpf_ringbuf_submit(d, 0);
}

static __always_inline int judge(struct vg_enf_key *k)
{
    if (allowed(k))
        return 1;
    report(k);
    return 0; /* connect() / sendmsg() fail with EPERM */
}

static __always_inline __u8 l4(const struct bpf_sock_addr *ctx)
{
    return ctx->type == 1 /* SOCK_STREAM */ ? IPPROTO_TCP : IPPROTO_UDP;
}

static __always_inline int v4(struct bpf_sock_addr *ctx)
{
    __u32 a = ctx->user_ip4;
    if ((bpf_ntohl(a) >> 24) == 127)
        return 1;
    struct vg_enf_key k = {.family = VG_ENF_V4, .proto = l4(ctx),
                           .port = bpf_ntohs((__u16)ctx->user_port)};
    __builtin_memcpy(k.addr, &a, 4);
    return judge(&k);
}

static __always_inline int v6(struct bpf_sock_addr *ctx)
{
    struct vg_enf_key k = {.family = VG_ENF_V6, .proto = l4(ctx),
                           .port = bpf_ntohs((__u16)ctx->user_port)};
    __u32 w[4];
    w[0] = ctx->user_ip6[0];
    w[1] = ctx->user_ip6[1];
    w[2] = ctx->user_ip6[2];
    w[3] = ctx->user_ip6[3];
    if (!w[0] && !w[1] && !w[2] && w[3] == bpf_htonl(1))
        return 1; /* ::1 */
    if (!w[0] && !w[1] && w[2] == bpf_htonl(0xffff)) {
        /* v4-mapped: judged as the IPv4 address */
        if ((bpf_ntohl(w[3]) >> 24) == 127)
            return 1;
        k.family = VG_ENF_V4;
        __builtin_memcpy(k.addr, &w[3], 4);
        return judge(&k);
    }
    __builtin_memcpy(k.addr, w, 16);
    return judge(&k);
}

SEC("cgroup/connect4")
int vg_connect4(struct bpf_sock_addr *ctx)
{
    return v4(ctx);
}

SEC("cgroup/sendmsg4")
int vg_sendmsg4(struct bpf_sock_addr *ctx)
{
    return v4(ctx);
}

SEC("cgroup/connect6")
int vg_connect6(struct bpf_sock_addr *ctx)
{
    return v6(ctx);
}

SEC("cgroup/sendmsg6")
int vg_sendmsg6(struct bpf_sock_addr *ctx)
{
    return v6(ctx);
}

SEC("cgroup_skb/ingress")
int vg_quar_in(struct __sk_buff *skb)
{
    (void)skb;
    return 0;
}

SEC("cgroup_skb/egress")
int vg_quar_out(struct __sk_buff *skb)
{
    (void)skb;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
