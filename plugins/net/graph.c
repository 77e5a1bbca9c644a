/*
 * The connections observed between groups and peers, for `vigilctl net
 * graph`: fed on the loop thread with the net.connect, net.accept and
 * net.violation events of the bus, with the flows and bytes of the
 * net.conn summaries. An edge goes from the client's side to
 * the server's: an egress event of group A towards peer P is A -> P, an
 * ingress event of group S from peer P is P -> S, so the two events of one
 * connection between two known groups make one edge. The learned rules are
 * not here: vigilctl asks the daemon for them and draws them beside these.
 * The table is bounded (max_edges); edges beyond it are counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"

typedef struct edge {
    char from[NET_PEER_MAX], to[NET_PEER_MAX];
    char from_kind[16], to_kind[16];
    char port[8], proto[8], app[32];
    uint64_t count, violations;
    uint64_t flows, bytes; /* from net.conn */
    int64_t last_s;
    char action[8]; /* of the last violation: "alert" or "deny" */
} edge;

struct net_graph {
    edge *e;
    size_t n, max;
    uint64_t dropped;
};

net_graph *net_graph_new(size_t max_edges)
{
    net_graph *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->max = max_edges;
    g->e = calloc(max_edges, sizeof(*g->e));
    if (!g->e) {
        free(g);
        return NULL;
    }
    return g;
}

void net_graph_free(net_graph *g)
{
    if (g)
        free(g->e);
    free(g);
}

static void str(const msgpack_object *m, const char *key, char *buf, size_t size)
{
    if (net_mp_str(m, key, buf, size) < 0)
        buf[0] = '\0';
}

static edge *find(net_graph *g, const edge *k)
{
    for (size_t i = 0; i < g->n; i++) {
        edge *e = &g->e[i];
        if (!strcmp(e->from, k->from) && !strcmp(e->to, k->to) && !strcmp(e->port, k->port) &&
            !strcmp(e->proto, k->proto) && !strcmp(e->app, k->app))
            return e;
    }
    if (g->n == g->max) {
        g->dropped++;
        return NULL;
    }
    g->e[g->n] = *k;
    return &g->e[g->n++];
}

void net_graph_event(net_graph *g, const void *rec, size_t len)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, rec, len, NULL) != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&up);
        return;
    }
    const msgpack_object *m = &up.data;
    char type[64], evtype[64], group[VG_GROUP_MAX], dir[16], kind[16];
    str(m, "type", type, sizeof(type));
    str(m, "event_type", evtype, sizeof(evtype));
    str(m, "group", group, sizeof(group));
    str(m, "direction", dir, sizeof(dir));
    str(m, "peer_kind", kind, sizeof(kind));
    bool violation = strcmp(type, "net.violation") == 0;
    bool summary = strcmp(type, "net.conn") == 0;
    edge k = {0};
    bool egress = strcmp(dir, "egress") == 0;
    char peer[NET_PEER_MAX];
    str(m, "peer", peer, sizeof(peer));
    if (!group[0] || !peer[0] || (!egress && strcmp(dir, "ingress") != 0) ||
        (violation && strcmp(evtype, "net.connect") && strcmp(evtype, "net.accept"))) {
        msgpack_unpacked_destroy(&up);
        return;
    }
    snprintf(k.from, sizeof(k.from), "%s", egress ? group : peer);
    snprintf(k.to, sizeof(k.to), "%s", egress ? peer : group);
    snprintf(k.from_kind, sizeof(k.from_kind), "%s", egress ? "group" : kind);
    snprintf(k.to_kind, sizeof(k.to_kind), "%s", egress ? kind : "group");
    if (violation) /* the violation does not carry the kind: keep the edge's */
        k.from_kind[0] = k.to_kind[0] = '\0';
    str(m, "port", k.port, sizeof(k.port));
    str(m, "proto", k.proto, sizeof(k.proto));
    str(m, "app", k.app, sizeof(k.app));
    edge *e = find(g, &k);
    if (e) {
        int64_t flows = 0, out = 0, in = 0;
        if (violation) {
            e->violations++;
            str(m, "action", e->action, sizeof(e->action));
        } else if (summary) {
            /* Between two groups both sides summarise the same traffic:
             * the client's side counts it. */
            if (egress || strcmp(kind, "group") != 0) {
                net_mp_int(m, "flows", &flows);
                net_mp_int(m, "bytes_out", &out);
                net_mp_int(m, "bytes_in", &in);
                e->flows += (uint64_t)flows;
                e->bytes += (uint64_t)(out + in);
            }
        } else {
            e->count++;
            if (k.from_kind[0]) {
                snprintf(e->from_kind, sizeof(e->from_kind), "%s", k.from_kind);
                snprintf(e->to_kind, sizeof(e->to_kind), "%s", k.to_kind);
            }
        }
        e->last_s = (int64_t)time(NULL);
    }
    msgpack_unpacked_destroy(&up);
}

void net_graph_pack(net_graph *g, const char *group, msgpack_packer *pk)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        n += !group || !group[0] || !strcmp(g->e[i].from, group) || !strcmp(g->e[i].to, group);
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < g->n; i++) {
        const edge *e = &g->e[i];
        if (group && group[0] && strcmp(e->from, group) && strcmp(e->to, group))
            continue;
        msgpack_pack_map(pk, 13);
        net_kv_str(pk, "from", e->from);
        net_kv_str(pk, "from_kind", e->from_kind[0] ? e->from_kind : "group");
        net_kv_str(pk, "to", e->to);
        net_kv_str(pk, "to_kind", e->to_kind[0] ? e->to_kind : "group");
        net_kv_str(pk, "port", e->port);
        net_kv_str(pk, "proto", e->proto);
        net_kv_str(pk, "app", e->app);
        net_kv_int(pk, "events", (int64_t)e->count);
        net_kv_int(pk, "violations", (int64_t)e->violations);
        net_kv_int(pk, "flows", (int64_t)e->flows);
        net_kv_int(pk, "bytes", (int64_t)e->bytes);
        net_kv_str(pk, "action", e->action);
        net_kv_int(pk, "last", e->last_s);
    }
}
