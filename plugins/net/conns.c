/*
 * The engine's sink in a capture thread: flows become events.
 *
 * A flow is about this namespace when one of its ends is one of the
 * namespace's addresses: the client end makes it an egress connection
 * (net.connect), the server end an ingress one (net.accept). The other end is
 * the peer, named, in this order, by
 *   1. the group of the known workload that has the address (peer_kind "group"),
 *   2. the most specific named network of the config holding it ("network"),
 *   3. the DNS name this namespace itself resolved to it ("dns"),
 *   4. the address ("address").
 * The event is published when the engine has named the flow's application
 * (or given up: "unknown"), once per (direction, peer, port, proto, app) and
 * interval: the key table below remembers what was said in the current
 * interval. At each interval's end, every key with traffic becomes one
 * net.conn summary (flows, packets and bytes each way in the interval).
 *
 * Everything here runs on the capture thread; the counters are atomics for
 * net.stats.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsnames.h"
#include "flowmap.h"
#include "lazymem.h"
#include "net.h"
#include "sockown.h"

#define DNS_NAMES 1024
#define DNS_TTL_MIN_S 60 /* a name outlives a tiny TTL: the connection follows the answer */

typedef struct conn_key {
    char text[NET_PEER_MAX + VG_WORKLOAD_MAX + 64]; /* "[workload|]dir|peer|port|proto|app" */
    const char *workload, *group; /* whose connection: the namespace's owner or a member */
    char peer[NET_PEER_MAX], peer_ip[48], peer_workload[VG_WORKLOAD_MAX];
    const char *kind, *app, *proto;
    int egress;
    uint16_t port;
    bool announced;                    /* an event went out in this interval */
    uint64_t flows, pkts[2], bytes[2]; /* [0] out of the workload, [1] in */
} conn_key;

typedef struct dns_name {
    int family;
    uint8_t addr[16];
    uint64_t expires_us;
    char name[NET_PEER_MAX];
} dns_name;

typedef struct member {
    char id[VG_WORKLOAD_MAX], group[VG_GROUP_MAX];
    int pid;
} member;

struct net_conns {
    net_plugin *p;
    char workload[VG_WORKLOAD_MAX], group[VG_GROUP_MAX];
    member members[NET_MEMBERS_MAX];
    int pids[NET_MEMBERS_MAX];
    size_t nmembers;
    bool mixed; /* members of more than one group: flows go to their socket's owner */
    int fam[NET_ADDRS_MAX];
    uint8_t local[NET_ADDRS_MAX][16];
    size_t nlocal;
    conn_key *keys;
    uint32_t *index; /* open addressing over keys, 2 * max_keys slots, 0 = free */
    size_t nkeys, max_keys, index_cap;
    uint32_t gen;
    net_flowmap flows;
    dns_name *dns;
    size_t dns_next;
    uint64_t interval_start_us;
    atomic_uint_fast64_t events, dropped, keys_full;
};

net_conns *net_conns_new(net_plugin *p, net_ns *ns, size_t max_keys)
{
    (void)ns;
    net_conns *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->p = p;
    c->max_keys = max_keys ? max_keys : 4096;
    c->index_cap = 1;
    while (c->index_cap < c->max_keys * 2)
        c->index_cap <<= 1;
    /* Sized for the busiest interval, they cost memory as they are used
     * (lazymem.h): an idle namespace's are untouched. */
    c->keys = vg_lazy_calloc(c->max_keys, sizeof(*c->keys));
    c->index = vg_lazy_calloc(c->index_cap, sizeof(*c->index));
    c->dns = vg_lazy_calloc(DNS_NAMES, sizeof(*c->dns));
    c->gen = 1;
    c->interval_start_us = net_now_us();
    if (!c->keys || !c->index || !c->dns) {
        net_conns_free(c);
        return NULL;
    }
    return c;
}

void net_conns_free(net_conns *c)
{
    if (!c)
        return;
    net_flowmap_free(&c->flows);
    vg_lazy_free(c->keys, c->max_keys, sizeof(*c->keys));
    vg_lazy_free(c->index, c->index_cap, sizeof(*c->index));
    vg_lazy_free(c->dns, DNS_NAMES, sizeof(*c->dns));
    free(c);
}

void net_conns_owner(net_conns *c, const char *workload, const char *group)
{
    snprintf(c->workload, sizeof(c->workload), "%s", workload);
    snprintf(c->group, sizeof(c->group), "%s", group);
}

void net_conns_members(net_conns *c, const char (*ids)[VG_WORKLOAD_MAX],
                       const char (*groups)[VG_GROUP_MAX], const int *pids, size_t n)
{
    c->nmembers = n < NET_MEMBERS_MAX ? n : NET_MEMBERS_MAX;
    c->mixed = false;
    for (size_t i = 0; i < c->nmembers; i++) {
        memcpy(c->members[i].id, ids[i], VG_WORKLOAD_MAX);
        memcpy(c->members[i].group, groups[i], VG_GROUP_MAX);
        c->members[i].pid = c->pids[i] = pids[i];
        c->mixed |= strcmp(groups[i], groups[0]) != 0;
    }
}

void net_conns_local(net_conns *c, const int *family, const uint8_t (*addrs)[16], size_t n)
{
    c->nlocal = n < NET_ADDRS_MAX ? n : NET_ADDRS_MAX;
    for (size_t i = 0; i < c->nlocal; i++) {
        c->fam[i] = family[i];
        memcpy(c->local[i], addrs[i], 16);
    }
}

void net_conns_counts(net_conns *c, uint64_t *events, uint64_t *dropped, uint64_t *keys_full)
{
    *events = atomic_load(&c->events);
    *dropped = atomic_load(&c->dropped);
    *keys_full = atomic_load(&c->keys_full);
}

static bool is_local(const net_conns *c, int family, const uint8_t *a)
{
    size_t len = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < c->nlocal; i++)
        if (c->fam[i] == family && memcmp(c->local[i], a, len) == 0)
            return true;
    return false;
}

/* ---- DNS answers ---------------------------------------------------------- */

static void on_dns(void *arg, uint32_t source, const char *name, int family, const uint8_t *addr,
                   uint32_t ttl)
{
    (void)source;
    net_conns *c = arg;
    if (!name || !name[0] || (family != AF_INET && family != AF_INET6))
        return;
    dns_name *d = &c->dns[c->dns_next++ % DNS_NAMES];
    d->family = family;
    memset(d->addr, 0, 16);
    memcpy(d->addr, addr, family == AF_INET ? 4 : 16);
    d->expires_us = net_now_us() + (uint64_t)(ttl > DNS_TTL_MIN_S ? ttl : DNS_TTL_MIN_S) * 1000000u;
    snprintf(d->name, sizeof(d->name), "%s", name);
    /* For protect mode's rules by name (protect.c), per group. */
    net_dnsnames_add(c->p->dnsnames, c->group, name, family, addr, ttl, net_now_us());
    for (size_t i = 0; c->mixed && i < c->nmembers; i++)
        if (strcmp(c->members[i].group, c->group) != 0)
            net_dnsnames_add(c->p->dnsnames, c->members[i].group, name, family, addr, ttl,
                             net_now_us());
}

static const char *dns_of(const net_conns *c, int family, const uint8_t *a, uint64_t now)
{
    size_t len = family == AF_INET ? 4 : 16;
    for (size_t k = 0; k < DNS_NAMES; k++) { /* newest first */
        const dns_name *d = &c->dns[(c->dns_next - 1 - k) % DNS_NAMES];
        if (!d->name[0])
            break;
        if (d->family == family && d->expires_us > now && memcmp(d->addr, a, len) == 0)
            return d->name;
    }
    return NULL;
}

/* ---- keys ----------------------------------------------------------------- */

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Traffic to a multicast or broadcast address, and ICMPv6 with a
 * link-local peer (neighbour discovery, router solicitations), is the
 * link's housekeeping, not a connection to anyone. */
static bool housekeeping(const vg_net_flow *f, const uint8_t *peer)
{
    if (f->family == AF_INET)
        return (peer[0] & 0xf0) == 0xe0 ||
               (peer[0] == 255 && peer[1] == 255 && peer[2] == 255 && peer[3] == 255);
    if (peer[0] == 0xff)
        return true;
    return f->l4 == IPPROTO_ICMPV6 && peer[0] == 0xfe && (peer[1] & 0xc0) == 0x80;
}

/* The key of flow f as seen from this namespace into k; false when the
 * flow is not this namespace's (or is inside it), or is housekeeping. */
static bool key_of(const net_conns *c, const vg_net_flow *f, int owner, conn_key *k)
{
    bool cl = is_local(c, f->family, f->client), sv = is_local(c, f->family, f->server);
    if (cl == sv || housekeeping(f, cl ? f->server : f->client))
        return false;
    memset(k, 0, sizeof(*k));
    k->egress = cl;
    const uint8_t *peer = cl ? f->server : f->client;
    inet_ntop(f->family, peer, k->peer_ip, sizeof(k->peer_ip));
    char group[VG_GROUP_MAX];
    const net_network *nw;
    const char *dns;
    if (net_peers_group(c->p->peers, f->family, peer, group, k->peer_workload) == 0) {
        snprintf(k->peer, sizeof(k->peer), "%s", group);
        k->kind = "group";
    } else if ((nw = net_network_of(&c->p->cfg, f->family, peer))) {
        snprintf(k->peer, sizeof(k->peer), "%s", nw->name);
        k->kind = "network";
    } else if ((dns = dns_of(c, f->family, peer, net_now_us()))) {
        snprintf(k->peer, sizeof(k->peer), "%s", dns);
        k->kind = "dns";
    } else {
        snprintf(k->peer, sizeof(k->peer), "%s", k->peer_ip);
        k->kind = "address";
    }
    k->port = f->server_port;
    k->proto = vg_net_l4_name(f->l4);
    k->app = f->app ? f->app : "unknown";
    bool by_member = owner > 0 && (size_t)owner <= c->nmembers;
    k->workload = by_member ? c->members[owner - 1].id : c->workload;
    k->group = by_member ? c->members[owner - 1].group : c->group;
    snprintf(k->text, sizeof(k->text), "%s|%d|%s|%u|%s|%s", k->workload, k->egress, k->peer,
             k->port, k->proto, k->app);
    return true;
}

/* The slot of key k in this interval, added if new; -1 when the table is full. */
static int key_slot(net_conns *c, const conn_key *k)
{
    size_t mask = c->index_cap - 1;
    for (size_t i = fnv(k->text) & mask;; i = (i + 1) & mask) {
        uint32_t v = c->index[i];
        if (!v) {
            if (c->nkeys == c->max_keys) {
                atomic_fetch_add(&c->keys_full, 1);
                return -1;
            }
            c->keys[c->nkeys] = *k;
            c->index[i] = (uint32_t)++c->nkeys;
            return (int)(c->nkeys - 1);
        }
        if (strcmp(c->keys[v - 1].text, k->text) == 0)
            return (int)(v - 1);
    }
}

/* ---- events --------------------------------------------------------------- */

static void pack_key(msgpack_packer *pk, const conn_key *k)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", k->port);
    net_kv_str(pk, "direction", k->egress ? "egress" : "ingress");
    net_kv_str(pk, "peer", k->peer);
    net_kv_str(pk, "port", port);
    net_kv_str(pk, "proto", k->proto);
    net_kv_str(pk, "app", k->app);
    net_kv_str(pk, "peer_kind", k->kind);
    net_kv_str(pk, "peer_ip", k->peer_ip);
    net_kv_str(pk, "peer_workload", k->peer_workload);
}
#define KEY_FIELDS 8

static void publish(net_conns *c, const conn_key *k, int type, int severity, msgpack_sbuffer *sb)
{
    vg_event_in ev = {.type = type,
                      .severity = severity,
                      .workload = k->workload,
                      .group = k->group,
                      .body = sb->data,
                      .body_len = sb->size};
    if (c->p->api->publish(c->p->h, &ev) < 0)
        atomic_fetch_add(&c->dropped, 1);
    else
        atomic_fetch_add(&c->events, 1);
}

static void announce(net_conns *c, const conn_key *k, const vg_net_flow *f)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, KEY_FIELDS + 3 + f->nfields);
    pack_key(&pk, k);
    char ep[64];
    net_kv_str(&pk, "client",
               vg_net_endpoint(ep, sizeof(ep), f->family, f->client, f->client_port));
    net_kv_str(&pk, "server",
               vg_net_endpoint(ep, sizeof(ep), f->family, f->server, f->server_port));
    net_kv_int(&pk, "flow", (int64_t)f->id);
    /* The protocol's fields (http.host, tls.sni, ...), for responses and
     * incidents; keys never clash with the ones above (they have a dot). */
    for (size_t i = 0; i < f->nfields; i++)
        net_kv_str(&pk, f->fields[i].key, f->fields[i].value ? f->fields[i].value : "");
    publish(c, k, k->egress ? c->p->t_connect : c->p->t_accept, VG_SEV_INFO, &sb);
    msgpack_sbuffer_destroy(&sb);
}

/* The key slot of a flow in this interval (after a tick, found again). */
static int flow_key(net_conns *c, net_flowrec *r, const vg_net_flow *f)
{
    if (r->gen == c->gen)
        return (int)r->key;
    conn_key k;
    if (!key_of(c, f, r->owner, &k)) {
        r->ignored = 1;
        return -1;
    }
    int slot = key_slot(c, &k);
    if (slot < 0)
        return -1;
    r->key = (uint32_t)slot;
    r->gen = c->gen;
    return slot;
}

static void add_counts(net_conns *c, net_flowrec *r, const vg_net_flow *f)
{
    int slot = flow_key(c, r, f);
    if (slot < 0)
        return;
    conn_key *k = &c->keys[slot];
    /* [0] of the flow is client->server: out of an egress workload. */
    int out = k->egress ? 0 : 1;
    k->pkts[0] += f->pkts[out] - r->pkts[out];
    k->pkts[1] += f->pkts[!out] - r->pkts[!out];
    k->bytes[0] += f->bytes[out] - r->bytes[out];
    k->bytes[1] += f->bytes[!out] - r->bytes[!out];
    memcpy(r->pkts, f->pkts, sizeof(r->pkts));
    memcpy(r->bytes, f->bytes, sizeof(r->bytes));
}

/* In a namespace of workloads of several groups, the member whose process
 * holds the flow's socket (sockown.c), while the socket is still there. */
static void find_owner(net_conns *c, net_flowrec *r, const vg_net_flow *f)
{
    if (!c->mixed || (f->l4 != IPPROTO_TCP && f->l4 != IPPROTO_UDP))
        return;
    bool cl = is_local(c, f->family, f->client);
    net_sock_query q = {.family = f->family,
                        .l4 = f->l4,
                        .lport = cl ? f->client_port : f->server_port,
                        .rport = cl ? f->server_port : f->client_port};
    memcpy(q.laddr, cl ? f->client : f->server, 16);
    memcpy(q.raddr, cl ? f->server : f->client, 16);
    int i = net_sock_owner(c->pids, c->nmembers, &q);
    r->owner = (uint8_t)(i >= 0 ? i + 1 : 0);
}

/* The connection event of flow f (record r), once per key and interval. */
static void announce_flow(net_conns *c, net_flowrec *r, const vg_net_flow *f)
{
    r->pending = 0;
    conn_key k;
    if (!key_of(c, f, r->owner, &k)) {
        r->ignored = 1;
        return;
    }
    int slot = key_slot(c, &k);
    if (slot < 0) {
        atomic_fetch_add(&c->dropped, 1);
        return;
    }
    r->key = (uint32_t)slot;
    r->gen = c->gen;
    c->keys[slot].flows++;
    if (!c->keys[slot].announced) {
        c->keys[slot].announced = true;
        announce(c, &c->keys[slot], f);
    }
}

/* A new flow with its application. The engine may name a flow before its
 * parser has taken the protocol's fields from the same bytes: a named flow
 * without fields yet is announced at the next second (net_conns_second)
 * or at its end, whichever comes first, with the fields known by then. */
static void on_app(void *arg, const vg_net_flow *f)
{
    net_conns *c = arg;
    net_flowrec *r = net_flowmap_get(&c->flows, f->id);
    if (r && r->named)
        return; /* already seen (an application named after "unknown") */
    if (!r && !(r = net_flowmap_put(&c->flows, f->id)))
        return;
    r->named = 1;
    if (!f->nfields && f->app && strcmp(f->app, "unknown") != 0)
        r->pending = 1;
    else
        announce_flow(c, r, f);
}

/* A new flow: its socket's owner is looked up now, while the socket is
 * surely there (a short connection may be gone when its data is seen). */
static void on_start(void *arg, const vg_net_flow *f)
{
    net_conns *c = arg;
    if (!c->mixed)
        return;
    net_flowrec *r = net_flowmap_put(&c->flows, f->id);
    if (r)
        find_owner(c, r, f);
}

static void on_end(void *arg, const vg_net_flow *f, int reason)
{
    (void)reason;
    net_conns *c = arg;
    net_flowrec *r = net_flowmap_get(&c->flows, f->id);
    if (!r || !r->named) { /* ended before its application was named */
        on_app(c, f);
        r = net_flowmap_get(&c->flows, f->id);
    }
    if (r && r->pending)
        announce_flow(c, r, f);
    if (r && !r->ignored)
        add_counts(c, r, f);
    net_flowmap_del(&c->flows, f->id);
}

/* A threat the engine saw: net.threat about the namespace's workload. */
static void on_threat(void *arg, const vg_net_threat *t)
{
    net_conns *c = arg;
    const char *dir = !t->family                          ? ""
                      : is_local(c, t->family, t->client) ? "egress"
                      : is_local(c, t->family, t->server) ? "ingress"
                                                          : "";
    int pid = 0;
    for (size_t i = 0; i < c->nmembers && !pid; i++)
        if (!strcmp(c->members[i].id, c->workload))
            pid = c->members[i].pid;
    net_threats_publish(c->p, c->workload, c->group, dir, net_threat_react(c->p, pid, dir, t), t);
}

vg_net_sink net_conns_sink(net_conns *c)
{
    return (vg_net_sink){.arg = c,
                         .flow_start = on_start,
                         .flow_app = on_app,
                         .flow_end = on_end,
                         .dns_answer = on_dns,
                         .threat = on_threat};
}

/* Each second: the flows named a moment ago, with their fields; and a
 * flow that closed (RST, or FIN both ways) before its application was named,
 * which will carry no more data: it is announced now rather than when the
 * engine drops it (its closed timeout later), so that a refused connection
 * or a port scan is seen within a second. */
static void announce_due(void *arg, const vg_net_flow *f)
{
    net_conns *c = arg;
    net_flowrec *r = net_flowmap_get(&c->flows, f->id);
    if (r && r->pending)
        announce_flow(c, r, f);
    else if ((!r || !r->named) && f->state == VG_NET_ST_CLOSED)
        on_app(c, f);
}

void net_conns_second(net_conns *c, vg_net_engine *e)
{
    vg_net_flows_each(e, announce_due, c);
}

/* ---- the interval's end ----------------------------------------------------- */

static void count_live(void *arg, const vg_net_flow *f)
{
    net_conns *c = arg;
    net_flowrec *r = net_flowmap_get(&c->flows, f->id);
    if (r && r->pending)
        announce_flow(c, r, f);
    if (r && r->named && !r->ignored)
        add_counts(c, r, f);
}

static void summary(net_conns *c, const conn_key *k, uint64_t interval_us)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, KEY_FIELDS + 6);
    pack_key(&pk, k);
    net_kv_int(&pk, "flows", (int64_t)k->flows);
    net_kv_int(&pk, "pkts_out", (int64_t)k->pkts[0]);
    net_kv_int(&pk, "pkts_in", (int64_t)k->pkts[1]);
    net_kv_int(&pk, "bytes_out", (int64_t)k->bytes[0]);
    net_kv_int(&pk, "bytes_in", (int64_t)k->bytes[1]);
    net_kv_int(&pk, "interval_ms", (int64_t)(interval_us / 1000));
    publish(c, k, c->p->t_conn, VG_SEV_DEBUG, &sb);
    msgpack_sbuffer_destroy(&sb);
}

void net_conns_tick(net_conns *c, vg_net_engine *e)
{
    vg_net_flows_each(e, count_live, c);
    uint64_t now = net_now_us();
    for (size_t i = 0; i < c->nkeys; i++) {
        const conn_key *k = &c->keys[i];
        if (k->flows || k->pkts[0] || k->pkts[1])
            summary(c, k, now - c->interval_start_us);
    }
    if (c->nkeys) /* an idle interval writes nothing */
        memset(c->index, 0, c->index_cap * sizeof(*c->index));
    c->nkeys = 0;
    c->gen++;
    c->interval_start_us = now;
}

/* ---- sessions ------------------------------------------------------------- */

typedef struct pack_arg {
    net_conns *c;
    msgpack_packer *pk;
    size_t n, want;
} pack_arg;

static void count_flow(void *arg, const vg_net_flow *f)
{
    (void)f;
    ((pack_arg *)arg)->want++;
}

static const char *state_name(int s)
{
    static const char *const names[] = {"new", "syn", "established", "closing", "closed"};
    return s >= 0 && s <= VG_NET_ST_CLOSED ? names[s] : "?";
}

static void pack_flow(void *arg, const vg_net_flow *f)
{
    pack_arg *a = arg;
    if (a->n == a->want)
        return;
    a->n++;
    msgpack_packer *pk = a->pk;
    conn_key k;
    const net_flowrec *r = net_flowmap_get(&a->c->flows, f->id);
    bool ours = key_of(a->c, f, r ? r->owner : 0, &k);
    char ep[64];
    msgpack_pack_map(pk, 14);
    net_kv_str(pk, "workload", ours ? k.workload : a->c->workload);
    net_kv_str(pk, "group", ours ? k.group : a->c->group);
    net_kv_str(pk, "direction", ours ? (k.egress ? "egress" : "ingress") : "");
    net_kv_str(pk, "peer", ours ? k.peer : "");
    net_kv_str(pk, "proto", vg_net_l4_name(f->l4));
    net_kv_str(pk, "client", vg_net_endpoint(ep, sizeof(ep), f->family, f->client, f->client_port));
    net_kv_str(pk, "server", vg_net_endpoint(ep, sizeof(ep), f->family, f->server, f->server_port));
    net_kv_str(pk, "app", f->app ? f->app : "unknown");
    net_kv_str(pk, "state", state_name(f->state));
    net_kv_int(pk, "first_us", (int64_t)f->first_us);
    net_kv_int(pk, "last_us", (int64_t)f->last_us);
    net_kv_int(pk, "pkts_c2s", (int64_t)f->pkts[0]);
    net_kv_int(pk, "pkts_s2c", (int64_t)f->pkts[1]);
    net_kv_int(pk, "bytes", (int64_t)(f->bytes[0] + f->bytes[1]));
}

void net_conns_pack_sessions(net_conns *c, vg_net_engine *e, msgpack_packer *pk)
{
    pack_arg a = {.c = c, .pk = pk};
    vg_net_flows_each(e, count_flow, &a);
    msgpack_pack_array(pk, (uint32_t)a.want);
    vg_net_flows_each(e, pack_flow, &a);
}
