/*
 * The engine's entry points: a frame goes through the link layer, IP (and
 * fragment reassembly), TCP/UDP/ICMP, its flow, the TCP state machine and
 * inspection; observers get the packet and anomalies. See engine.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "flow/registry.h"
#include "lazymem.h"
#include "net_int.h"
#include "threat/threat.h"

#define EXPIRE_EVERY_US 1000000ull

static void defaults(vg_net_config *c)
{
    if (!c->max_flows)
        c->max_flows = 65536;
    if (!c->tcp_syn_timeout_ms)
        c->tcp_syn_timeout_ms = 30000;
    if (!c->tcp_established_timeout_ms)
        c->tcp_established_timeout_ms = 3600000;
    if (!c->tcp_closed_timeout_ms)
        c->tcp_closed_timeout_ms = 10000;
    if (!c->udp_timeout_ms)
        c->udp_timeout_ms = 60000;
    if (!c->icmp_timeout_ms)
        c->icmp_timeout_ms = 30000;
    if (!c->max_frag_bytes)
        c->max_frag_bytes = 4u << 20;
    if (!c->max_inspect)
        c->max_inspect = 4096;
    if (!c->inspect_packets)
        c->inspect_packets = 16;
    if (c->inspect_packets > 255)
        c->inspect_packets = 255;
}

vg_net_engine *vg_net_engine_new(const vg_net_config *cfg, const vg_net_sink *sink)
{
    vg_net_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        errno = ENOMEM;
        return NULL;
    }
    if (cfg)
        e->cfg = *cfg;
    defaults(&e->cfg);
    if (sink)
        e->sink = *sink;
    e->frag = vg_frag_new(e->cfg.max_frag_bytes);
    if (!e->frag || vg_table_init(e) < 0 || vg_insp_init(e) < 0 || vg_threat_init(e) < 0) {
        vg_net_engine_free(e);
        errno = ENOMEM;
        return NULL;
    }
    e->st.table_bytes += vg_frag_bytes(e->frag);
    return e;
}

void vg_net_engine_free(vg_net_engine *e)
{
    if (!e)
        return;
    vg_table_free(e);
    vg_threat_free(e);
    vg_lazy_free(e->insp, e->cfg.max_inspect, sizeof(vg_insp));
    vg_frag_free(e->frag);
    free(e);
}

const vg_net_flow *vg_flow_view(vg_net_engine *e, const vg_flow *f)
{
    vg_net_flow *v = &e->view;
    v->id = f->id;
    v->source = f->source;
    v->family = f->v6 ? AF_INET6 : AF_INET;
    v->l4 = f->l4;
    memcpy(v->client, f->c, 16);
    memcpy(v->server, f->s, 16);
    v->client_port = f->cport;
    v->server_port = f->sport;
    v->app = f->named ? vg_app_name(f->app) : "unknown";
    v->first_us = f->first_us;
    v->last_us = f->last_us;
    memcpy(v->pkts, f->pkts, sizeof(v->pkts));
    memcpy(v->bytes, f->bytes, sizeof(v->bytes));
    v->state = f->state;
    v->nfields = vg_fields_view(f, e->kv, VG_NKV);
    v->fields = e->kv;
    return v;
}

void vg_anomaly(vg_net_engine *e, const vg_flow *f, const char *id)
{
    if (e->sink.anomaly)
        e->sink.anomaly(e->sink.arg, e->frame_source, f ? vg_flow_view(e, f) : NULL, id, e->frame,
                        e->frame_len);
    vg_threat_anomaly(e, f, id);
}

static int bad(vg_net_engine *e, int rc)
{
    if (rc == -EPROTONOSUPPORT) {
        e->st.unsupported++;
    } else {
        e->st.malformed++;
        vg_anomaly(e, NULL, "bad-packet");
    }
    return rc;
}

static void observe(vg_net_engine *e, const vg_l3 *l3, const vg_l4 *l4, const vg_flow *f, int dir)
{
    vg_net_pkt p = {
        .source = e->frame_source,
        .ts_us = e->now_us,
        .family = l3->family,
        .l4 = l3->l4,
        .sport = l4->sport,
        .dport = l4->dport,
        .tcp_flags = l4->flags,
        .tcp_window = l4->window,
        .tcp_mss = l4->mss,
        .ip_len = l3->ip_len,
        .reassembled = l3->reassembled,
        .payload = l4->data,
        .payload_len = l4->len,
        .dir = dir,
    };
    memcpy(p.src, l3->src, 16);
    memcpy(p.dst, l3->dst, 16);
    if (l3->l4 == IPPROTO_ICMP || l3->l4 == IPPROTO_ICMPV6) {
        p.sport = l3->l4p[0]; /* type, code */
        p.dport = l3->l4p[1];
    }
    p.flow = vg_flow_view(e, f);
    e->sink.packet(e->sink.arg, &p);
}

int vg_net_feed(vg_net_engine *e, int dlt, uint64_t ts_us, const uint8_t *pkt, uint32_t caplen,
                uint32_t wirelen, uint32_t source)
{
    if (!e || (!pkt && caplen))
        return -EINVAL;
    e->st.packets++;
    e->st.bytes += wirelen;
    if (ts_us > e->now_us)
        e->now_us = ts_us;
    if (e->now_us - e->last_expire_us >= EXPIRE_EVERY_US)
        vg_net_expire(e, e->now_us);
    e->frame = pkt;
    e->frame_len = caplen;
    e->frame_source = source;
    vg_threat_frame(e, dlt);

    uint32_t off = 0;
    int v = vg_link_decode(dlt, pkt, caplen, &off);
    if (v < 0)
        return bad(e, v);
    vg_l3 l3;
    int rc = vg_ip_decode(v, pkt + off, caplen - off, &l3);
    if (rc < 0)
        return bad(e, rc);
    if (l3.is_frag) {
        rc = vg_frag_add(e, &l3);
        if (rc <= 0)
            return rc;
    }
    vg_l4 l4;
    rc = vg_l4_decode(&l3, &l4);
    if (rc < 0)
        return bad(e, rc);
    int dir = 0;
    vg_flow *f = vg_table_get(e, &l3, &l4, &dir);
    if (!f)
        return -ENOMEM;
    f->pkts[dir]++;
    f->bytes[dir] += l3.ip_len;
    f->last_us = e->now_us;
    vg_table_touch(e, f);
    if (l3.l4 == IPPROTO_TCP)
        vg_tcp_track(e, f, dir, &l4);
    else if (dir == 1 && f->state == VG_NET_ST_NEW)
        f->state = VG_NET_ST_ESTABLISHED;
    vg_inspect(e, f, dir, &l4);
    if (f->state == VG_NET_ST_CLOSED && f->insp) {
        /* No more bytes: decide and parse now, and free the slot for others
         * rather than at the closed timeout. */
        vg_inspect_final(e, f);
        vg_insp_release(e, f);
    }
    vg_threat_packet(e, f, dir, &l3, &l4);
    if (e->sink.packet)
        observe(e, &l3, &l4, f, dir);
    return 0;
}

/* Outside vg_net_feed there is no frame: the caller's buffer of the last
 * one may be gone, so anomalies and threats raised while flows end carry
 * none. */
static void no_frame(vg_net_engine *e)
{
    e->frame = NULL;
    e->frame_len = 0;
}

void vg_net_expire(vg_net_engine *e, uint64_t now_us)
{
    no_frame(e);
    e->last_expire_us = now_us;
    vg_table_expire(e, now_us);
    vg_frag_expire(e->frag, now_us, &e->st.frag_dropped);
    if (!e->used)
        vg_table_release(e);
}

bool vg_net_idle(const vg_net_engine *e)
{
    return !e->used && !vg_frag_held(e->frag);
}

void vg_net_flush(vg_net_engine *e)
{
    no_frame(e);
    for (uint32_t i = 0; i < e->flows_touched; i++)
        if (e->flows[i].id)
            vg_table_end(e, &e->flows[i], VG_NET_END_FLUSH);
}

int vg_net_flows_each(vg_net_engine *e, void (*cb)(void *arg, const vg_net_flow *f), void *arg)
{
    int n = 0;
    for (uint32_t i = 0; i < e->flows_touched; i++)
        if (e->flows[i].id) {
            cb(arg, vg_flow_view(e, &e->flows[i]));
            n++;
        }
    return n;
}

void vg_net_stats_get(const vg_net_engine *e, vg_net_stats *out)
{
    *out = e->st;
}

const char *vg_net_flow_field(const vg_net_flow *f, const char *key)
{
    for (size_t i = 0; i < f->nfields; i++)
        if (!strcmp(f->fields[i].key, key))
            return f->fields[i].value;
    return NULL;
}

const char *vg_net_l4_name(uint8_t l4)
{
    switch (l4) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_ICMP:
        return "icmp";
    case IPPROTO_ICMPV6:
        return "icmpv6";
    default:
        return "ip";
    }
}

char *vg_net_endpoint(char *buf, size_t len, int family, const uint8_t *addr, int port)
{
    char a[INET6_ADDRSTRLEN] = "?";
    inet_ntop(family, addr, a, sizeof(a));
    if (port < 0)
        snprintf(buf, len, "%s", a);
    else if (family == AF_INET6)
        snprintf(buf, len, "[%s]:%d", a, port);
    else
        snprintf(buf, len, "%s:%d", a, port);
    return buf;
}
