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
 * - vg_in_protect (cgroup_skb ingress): a TCP SYN (without ACK) from a peer
 *   address to a local port not in `allow_in` is dropped, so the handshake
 *   never completes; a UDP datagram is dropped unless its (peer, local
 *   port) is in `allow_in` or its (peer, peer's port) in `allow` (an answer
 *   to the workload's own datagrams, judged without state); both reported
 *   in `denials`. Other packets pass (an established connection, ICMP).
 *   A protected UDP server's answer to an allowed client passes sendmsg
 *   through the same `allow_in` key (the client, the socket's own port).
 *   A DNS answer the workload may receive, to a name in `allow_dns`, has
 *   its addresses added to `allow` before the socket gets it (dns_learn).
 * - vg_quar_in/out (cgroup_skb): every packet in and out of the workload
 *   is dropped, established connections included, but those with a peer
 *   of `quar_allow` (plugins.net.quarantine_allow); attached only while the
 *   workload is quarantined.
 *
 * Written against the uapi headers (no CO-RE): struct bpf_sock_addr and
 * __sk_buff are stable ABI.
 */
/* The uapi headers first: libbpf's helpers use their types. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "enforce_abi.h"

/* Egress: (destination, port, proto); port 0 / proto 0: any. The value is
 * 1, or the time a DNS answer added it (enforce_abi.h). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VG_ENF_ALLOW_MAX);
    __type(key, struct vg_enf_key);
    __type(value, __u64);
} allow SEC(".maps");

/* The names whose answers open `allow` (enforce_abi.h). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VG_ENF_DNS_MAX);
    __type(key, __u64);
    __type(value, struct vg_enf_dns);
} allow_dns SEC(".maps");

/* Ingress: (peer address, local port, proto); port 0 / proto 0: any. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VG_ENF_ALLOW_MAX);
    __type(key, struct vg_enf_key);
    __type(value, __u8);
} allow_in SEC(".maps");

/* Networks, egress and ingress (enforce_abi.h). */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, VG_ENF_NET_MAX);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vg_enf_net);
    __type(value, __u8);
} allow_net SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, VG_ENF_NET_MAX);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vg_enf_net);
    __type(value, __u8);
} allow_net_in SEC(".maps");

/* Quarantine's exceptions: (address, port or 0), proto 0. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VG_ENF_QUAR_ALLOW_MAX);
    __type(key, struct vg_enf_key);
    __type(value, __u8);
} quar_allow SEC(".maps");

/* Shared by every instance (the loader reuses the first one's fd). */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} denials SEC(".maps");

/* k in the addresses (map) or the networks (nets), on its port or on
 * every port. */
static __always_inline int allowed(void *map, void *nets, struct vg_enf_key *k)
{
    if (bpf_map_lookup_elem(map, k))
        return 1;
    __u16 port = k->port;
    __u8 proto = k->proto;
    k->port = 0;
    k->proto = 0;
    int any = bpf_map_lookup_elem(map, k) != 0;
    k->port = port;
    k->proto = proto;
    if (any)
        return 1;
    struct vg_enf_net n = {.prefixlen = 32 + (k->family == VG_ENF_V4 ? 32 : 128),
                           .proto = proto,
                           .family = k->family,
                           .port = port};
    __builtin_memcpy(n.addr, k->addr, 16);
    if (bpf_map_lookup_elem(nets, &n))
        return 1;
    n.proto = 0;
    n.port = 0;
    return bpf_map_lookup_elem(nets, &n) != 0;
}

static __always_inline void report(const struct vg_enf_key *k, __u32 ingress, __u64 cgroup)
{
    struct vg_enf_denial *d = bpf_ringbuf_reserve(&denials, sizeof(*d), 0);
    if (!d)
        return; /* full: the daemon is behind; the refusal stands */
    d->key = *k;
    d->ingress = ingress;
    d->pad = 0;
    d->cgroup = cgroup;
    bpf_ringbuf_submit(d, 0);
}

static __always_inline int judge(struct bpf_sock_addr *ctx, struct vg_enf_key *k)
{
    if (allowed(&allow, &allow_net, k))
        return 1;
    if (k->proto == IPPROTO_UDP) {
        /* A datagram to a peer that may send to the socket's own port: a
         * protected UDP server's answer to an allowed client. */
        struct bpf_sock *sk = ctx->sk;
        __u16 port = k->port;
        k->port = sk ? (__u16)sk->src_port : 0;
        int ok = k->port && allowed(&allow_in, &allow_net_in, k);
        k->port = port;
        if (ok)
            return 1;
    }
    report(k, 0, bpf_get_current_cgroup_id());
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
    struct vg_enf_key k = {
        .family = VG_ENF_V4, .proto = l4(ctx), .port = bpf_ntohs((__u16)ctx->user_port)};
    __builtin_memcpy(k.addr, &a, 4);
    return judge(ctx, &k);
}

static __always_inline int v6(struct bpf_sock_addr *ctx)
{
    struct vg_enf_key k = {
        .family = VG_ENF_V6, .proto = l4(ctx), .port = bpf_ntohs((__u16)ctx->user_port)};
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
        return judge(ctx, &k);
    }
    __builtin_memcpy(k.addr, w, 16);
    return judge(ctx, &k);
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

/* The packet's peer and ports, from the IP header on (cgroup_skb data
 * starts there). in: the peer is the source. k gets the peer's address
 * and the L4 proto; *local / *remote the ports (0 without). 0, or -1 when
 * the packet is not IP, or is loopback, or is IPv6 behind extension
 * headers (not judged). */
static __always_inline int parse(struct __sk_buff *skb, int in, struct vg_enf_key *k, __u16 *local,
                                 __u16 *remote)
{
    __u32 off;
    __u8 l4p;
    if (skb->protocol == bpf_htons(ETH_P_IP)) {
        struct iphdr ip;
        if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0)
            return -1;
        __u32 peer = in ? ip.saddr : ip.daddr;
        if ((bpf_ntohl(peer) >> 24) == 127)
            return -1;
        off = ip.ihl * 4;
        l4p = ip.protocol;
        k->family = VG_ENF_V4;
        __builtin_memcpy(k->addr, &peer, 4);
    } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr ip6;
        if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0)
            return -1;
        off = sizeof(ip6);
        l4p = ip6.nexthdr;
        k->family = VG_ENF_V6;
        if (in)
            __builtin_memcpy(k->addr, &ip6.saddr, 16);
        else
            __builtin_memcpy(k->addr, &ip6.daddr, 16);
        __u64 w01;
        __u32 w2, w3;
        __builtin_memcpy(&w01, k->addr, 8);
        __builtin_memcpy(&w2, &k->addr[8], 4);
        __builtin_memcpy(&w3, &k->addr[12], 4);
        if (!w01 && !w2 && w3 == bpf_htonl(1))
            return -1; /* ::1 */
    } else {
        return -1;
    }
    k->proto = l4p;
    *local = *remote = 0;
    if (l4p == IPPROTO_TCP || l4p == IPPROTO_UDP) {
        __be16 ports[2]; /* source, destination: the same place in both */
        if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)) < 0)
            return -1;
        *local = bpf_ntohs(ports[in ? 1 : 0]);
        *remote = bpf_ntohs(ports[in ? 0 : 1]);
    }
    return (int)off;
}

/* Whether a peer-to-local datagram pair is allowed: the peer may send to
 * that local port (allow_in), or it is a destination the workload may send
 * to, from that port of its (a reply to the workload's own datagrams:
 * judged without state, as a firewall rule "from port 53 of the DNS
 * server" would). */
static __always_inline int udp_allowed(struct vg_enf_key *k, __u16 local, __u16 remote)
{
    k->port = local;
    if (allowed(&allow_in, &allow_net_in, k))
        return 1;
    k->port = remote;
    int ok = allowed(&allow, &allow_net, k);
    k->port = local;
    return ok;
}

/* The hash of the question's name at off (wire form, ASCII lowercased,
 * the final zero excluded) into *h; returns the offset past the name, or
 * 0 when it is longer than 128 bytes or compressed. */
static __always_inline __u32 dns_qname(struct __sk_buff *skb, __u32 off, __u64 *h)
{
    __u64 x = VG_ENF_FNV_OFFSET;
    for (__u32 i = 0; i < 128; i++) {
        __u8 c;
        if (bpf_skb_load_bytes(skb, off + i, &c, 1) < 0)
            return 0;
        if (c == 0) {
            *h = x;
            return off + i + 1;
        }
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        x = (x ^ c) * VG_ENF_FNV_PRIME;
    }
    return 0;
}

/*
 * A DNS answer (UDP from port 53 of a server the workload may ask) to a
 * question whose name an allowed rule names: its A and AAAA records (the
 * first 8 answers, each named by a compression pointer, as servers write
 * them) are added to `allow` on the rule's ports before the socket gets
 * the datagram, so that the workload's connect() that follows passes. The
 * loader removes them when the answer expires (it reads the same answer
 * from the capture).
 */
static __always_inline void dns_learn(struct __sk_buff *skb, __u32 off)
{
    struct {
        __be16 id, flags, qd, an, ns, ar;
    } h;
    if (bpf_skb_load_bytes(skb, off, &h, sizeof(h)) < 0 || !(h.flags & bpf_htons(0x8000)) ||
        h.qd != bpf_htons(1) || !h.an)
        return;
    __u64 name = 0;
    __u32 p = dns_qname(skb, off + 12, &name);
    if (!p)
        return;
    struct vg_enf_dns *rule = bpf_map_lookup_elem(&allow_dns, &name);
    if (!rule)
        return;
    p += 4; /* qtype, qclass */
    __u16 an = bpf_ntohs(h.an);
    __u64 now = bpf_ktime_get_ns();
    for (int r = 0; r < 8 && r < an; r++) {
        struct {
            __u8 ptr[2];
            __be16 type, class;
            __be32 ttl;
            __be16 rdlen;
        } __attribute__((packed)) rr;
        if (bpf_skb_load_bytes(skb, p, &rr, sizeof(rr)) < 0 || (rr.ptr[0] & 0xc0) != 0xc0)
            return;
        p += sizeof(rr);
        __u16 type = bpf_ntohs(rr.type), len = bpf_ntohs(rr.rdlen);
        struct vg_enf_key k = {0};
        if ((type == 1 && len == 4) || (type == 28 && len == 16)) {
            k.family = type == 1 ? VG_ENF_V4 : VG_ENF_V6;
            if (bpf_skb_load_bytes(skb, p, k.addr, type == 1 ? 4 : 16) < 0)
                return;
            for (int j = 0; j < VG_ENF_DNS_PORTS; j++) {
                if (!rule->proto[j])
                    continue;
                k.proto = rule->proto[j];
                k.port = rule->port[j];
                if (!bpf_map_lookup_elem(&allow, &k))
                    bpf_map_update_elem(&allow, &k, &now, BPF_ANY);
            }
        }
        p += len;
    }
}

SEC("cgroup_skb/ingress")
int vg_in_protect(struct __sk_buff *skb)
{
    struct vg_enf_key k = {0};
    __u16 local, remote;
    int off = parse(skb, 1, &k, &local, &remote);
    if (off < 0)
        return 1;
    if (k.proto == IPPROTO_UDP) {
        if (udp_allowed(&k, local, remote)) {
            if (remote == 53)
                dns_learn(skb, (__u32)off + 8);
            return 1;
        }
    } else if (k.proto == IPPROTO_TCP) {
        struct tcphdr th;
        if (bpf_skb_load_bytes(skb, off, &th, sizeof(th)) < 0 || !th.syn || th.ack)
            return 1; /* an established connection: judged at its SYN */
        k.port = local;
        if (allowed(&allow_in, &allow_net_in, &k))
            return 1;
    } else {
        return 1; /* ICMP and the rest: not judged */
    }
    /* softirq: the current task is anyone; the socket's cgroup is ours */
    report(&k, 1, bpf_skb_cgroup_id(skb));
    return 0; /* dropped: a TCP handshake never completes, a datagram is lost */
}

/* Quarantine's exceptions (plugins.net.quarantine_allow): a peer address
 * with port 0 (every packet with it), or with a port that is either end's
 * (a probe's destination port on the workload, a service's port on the
 * peer). proto is always 0. */
static __always_inline int quar_excepted(struct __sk_buff *skb, int in)
{
    struct vg_enf_key k = {0};
    __u16 local, remote;
    if (parse(skb, in, &k, &local, &remote) < 0)
        return 1; /* loopback: names no peer */
    k.proto = 0;
    k.port = 0;
    if (bpf_map_lookup_elem(&quar_allow, &k))
        return 1;
    if (local) {
        k.port = local;
        if (bpf_map_lookup_elem(&quar_allow, &k))
            return 1;
    }
    if (remote) {
        k.port = remote;
        if (bpf_map_lookup_elem(&quar_allow, &k))
            return 1;
    }
    return 0;
}

SEC("cgroup_skb/ingress")
int vg_quar_in(struct __sk_buff *skb)
{
    return quar_excepted(skb, 1);
}

SEC("cgroup_skb/egress")
int vg_quar_out(struct __sk_buff *skb)
{
    return quar_excepted(skb, 0);
}

char LICENSE[] SEC("license") = "GPL";
