/*
 * Threat detection: the table of threats (names, severities, defaults), the
 * configuration sets per capture source, the per-flow records, the report
 * to the sink, and the dispatch of each packet to the detector families.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../flow/registry.h"
#include "../proto/proto.h"
#include "lazymem.h"
#include "threat.h"

#define METER_SLOTS 4096
#define FLOWLESS_PERIOD_US 1000000ull /* one flowless report per threat per second */

static const struct {
    const char *name;
    int severity;
    int on;   /* NeuVector's default switch */
    int rate; /* reported by a meter, not once per flow */
} table[VG_NET_T_COUNT] = {
    [VG_NET_T_SYN_FLOOD] = {"syn-flood", VG_NET_SEV_CRITICAL, 1, 1},
    [VG_NET_T_ICMP_FLOOD] = {"icmp-flood", VG_NET_SEV_CRITICAL, 1, 1},
    [VG_NET_T_IP_SESSION_LIMIT] = {"ip-session-limit", VG_NET_SEV_HIGH, 0, 1},
    [VG_NET_T_BAD_PACKET] = {"bad-packet", VG_NET_SEV_MEDIUM, 1, 0},
    [VG_NET_T_IP_TEARDROP] = {"ip-teardrop", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_TCP_SYN_DATA] = {"tcp-syn-data", VG_NET_SEV_MEDIUM, 0, 0},
    [VG_NET_T_TCP_SPLIT_HANDSHAKE] = {"tcp-split-handshake", VG_NET_SEV_MEDIUM, 1, 0},
    [VG_NET_T_TCP_SMALL_WINDOW] = {"tcp-small-window", VG_NET_SEV_HIGH, 0, 0},
    [VG_NET_T_TCP_SMALL_MSS] = {"tcp-small-mss", VG_NET_SEV_HIGH, 1, 0},
    [VG_NET_T_PING_OF_DEATH] = {"ping-of-death", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_DNS_LOOP_POINTER] = {"dns-loop-pointer", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_DNS_OVERFLOW] = {"dns-overflow", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_DNS_ZONE_TRANSFER] = {"dns-zone-transfer", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_DNS_NULL_TYPE] = {"dns-null-type", VG_NET_SEV_CRITICAL, 0, 0},
    [VG_NET_T_DNS_TUNNEL] = {"dns-tunnel", VG_NET_SEV_CRITICAL, 1, 1},
    [VG_NET_T_SSH_V1] = {"ssh-v1", VG_NET_SEV_LOW, 1, 0},
    [VG_NET_T_TLS_HEARTBLEED] = {"tls-heartbleed", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_TLS_CIPHER_OVERFLOW] = {"tls-cipher-overflow", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_TLS_SSLV2] = {"tls-sslv2", VG_NET_SEV_MEDIUM, 1, 0},
    [VG_NET_T_TLS_SSLV3] = {"tls-sslv3", VG_NET_SEV_MEDIUM, 1, 0},
    [VG_NET_T_TLS_OLD_VERSION] = {"tls-old-version", VG_NET_SEV_INFO, 0, 0},
    [VG_NET_T_HTTP_NEGATIVE_LENGTH] = {"http-negative-length", VG_NET_SEV_HIGH, 1, 0},
    [VG_NET_T_HTTP_SMUGGLING] = {"http-smuggling", VG_NET_SEV_HIGH, 1, 0},
    [VG_NET_T_HTTP_SLOWLORIS] = {"http-slowloris", VG_NET_SEV_CRITICAL, 0, 1},
    [VG_NET_T_MYSQL_ACCESS_DENIED] = {"mysql-access-denied", VG_NET_SEV_INFO, 1, 1},
    [VG_NET_T_ICMP_TUNNEL] = {"icmp-tunnel", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_SQL_INJECTION] = {"sql-injection", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_STRUTS_RCE] = {"struts-rce", VG_NET_SEV_CRITICAL, 1, 0},
    [VG_NET_T_K8S_EXTIP_MITM] = {"k8s-extip-mitm", VG_NET_SEV_CRITICAL, 1, 0},
};

typedef struct src_conf {
    uint32_t source;
    vg_net_threat_conf c;
} src_conf;

struct vg_threat {
    vg_net_threat_conf def;
    src_conf *src; /* sorted by source */
    size_t nsrc;
    vg_tflow *flows; /* one per session-table slot */
    vg_meter *meter;
    uint8_t (*extip)[16];
    int *extfam;
    size_t nextip;
    int dlt;
    uint8_t tapp[VG_APPS_MAX + 1]; /* app index -> VG_TAPP_* */
    uint64_t flowless_us[VG_NET_T_COUNT];
};

const char *vg_net_threat_name(int id)
{
    return id >= 0 && id < VG_NET_T_COUNT ? table[id].name : NULL;
}

int vg_net_threat_lookup(const char *name)
{
    for (int i = 0; i < VG_NET_T_COUNT; i++)
        if (!strcmp(table[i].name, name))
            return i;
    return -1;
}

int vg_net_threat_severity(int id)
{
    return id >= 0 && id < VG_NET_T_COUNT ? table[id].severity : VG_NET_SEV_INFO;
}

const char *vg_net_severity_name(int sev)
{
    static const char *const n[] = {"info", "low", "medium", "high", "critical"};
    return sev >= 0 && sev <= VG_NET_SEV_CRITICAL ? n[sev] : "info";
}

size_t vg_net_threat_packet_b64(const vg_net_threat *t, char *out, size_t cap)
{
    static const char b[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = t->pkt;
    uint32_t n = t->pkt_len;
    size_t o = 0;
    if (cap < 4 * (((size_t)n + 2) / 3) + 1)
        return 0;
    for (uint32_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = b[v >> 18];
        out[o++] = b[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

/* Zero thresholds become NeuVector's (or, where it has none, ours). */
static void fill(vg_net_threat_conf *c)
{
#define DEF(f, v)                                                                                  \
    if (!c->f)                                                                                     \
        c->f = v;
    DEF(syn_flood_pps, 200)
    DEF(icmp_flood_pps, 100)
    DEF(session_limit, 2000)
    DEF(small_window, 64)
    DEF(small_mss, 256)
    DEF(slowloris_header_ms, 3000)
    DEF(slowloris_conns, 5)
    DEF(mysql_denied, 5)
    DEF(mysql_denied_window_ms, 60000)
    DEF(icmp_tunnel_packets, 8)
    DEF(icmp_tunnel_payload, 64)
    DEF(dns_tunnel_label, 40)
    DEF(dns_tunnel_queries, 10)
    DEF(dns_tunnel_window_ms, 60000)
#undef DEF
}

void vg_net_threat_defaults(vg_net_threat_conf *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < VG_NET_T_COUNT; i++)
        if (table[i].on)
            c->enabled |= VG_NET_T_BIT(i);
    fill(c);
}

static void map_app(struct vg_threat *t, const char *name, int tapp)
{
    int i = vg_app_index(name);
    if (i > 0)
        t->tapp[i] = (uint8_t)tapp;
}

int vg_threat_init(vg_net_engine *e)
{
    struct vg_threat *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    e->th = t;
    vg_net_threat_defaults(&t->def);
    /* A record costs memory once its slot is used (lazymem.h). */
    t->flows = vg_lazy_calloc(e->cfg.max_flows, sizeof(vg_tflow));
    t->meter = vg_meter_new(METER_SLOTS);
    if (!t->flows || !t->meter)
        return -ENOMEM;
    vg_registry_init();
    map_app(t, "http", VG_TAPP_HTTP);
    map_app(t, "tls", VG_TAPP_TLS);
    map_app(t, "dns", VG_TAPP_DNS);
    map_app(t, "ssh", VG_TAPP_SSH);
    map_app(t, "mysql", VG_TAPP_MYSQL);
    map_app(t, "postgresql", VG_TAPP_PGSQL);
    map_app(t, "mssql", VG_TAPP_TDS);
    e->st.table_bytes += (uint64_t)e->cfg.max_flows * sizeof(vg_tflow);
    return 0;
}

void vg_threat_free(vg_net_engine *e)
{
    struct vg_threat *t = e->th;
    if (!t)
        return;
    vg_lazy_free(t->flows, e->cfg.max_flows, sizeof(vg_tflow));
    vg_meter_free(t->meter);
    free(t->src);
    free(t->extip);
    free(t->extfam);
    free(t);
    e->th = NULL;
}

void vg_threat_forget(vg_net_engine *e)
{
    vg_lazy_zero(e->th->flows, e->cfg.max_flows, sizeof(vg_tflow));
}

vg_meter *vg_threat_meter(vg_net_engine *e)
{
    return e->th->meter;
}

static size_t src_find(const struct vg_threat *t, uint32_t source, int *found)
{
    size_t lo = 0, hi = t->nsrc;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->src[mid].source < source)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < t->nsrc && t->src[lo].source == source;
    return lo;
}

int vg_net_threat_set(vg_net_engine *e, uint32_t source, const vg_net_threat_conf *c)
{
    if (!e)
        return -EINVAL;
    struct vg_threat *t = e->th;
    if (source == VG_NET_SOURCE_DEFAULT) {
        if (!c)
            return -EINVAL;
        t->def = *c;
        fill(&t->def);
        return 0;
    }
    int found;
    size_t i = src_find(t, source, &found);
    if (!c) {
        if (found) {
            memmove(t->src + i, t->src + i + 1, (t->nsrc - i - 1) * sizeof(*t->src));
            t->nsrc--;
        }
        return 0;
    }
    if (!found) {
        src_conf *n = realloc(t->src, (t->nsrc + 1) * sizeof(*n));
        if (!n)
            return -ENOMEM;
        t->src = n;
        memmove(n + i + 1, n + i, (t->nsrc - i) * sizeof(*n));
        t->nsrc++;
        n[i].source = source;
    }
    t->src[i].c = *c;
    fill(&t->src[i].c);
    return 0;
}

int vg_net_threat_extips(vg_net_engine *e, const uint8_t (*addrs)[16], const int *families,
                         size_t n)
{
    if (!e || (n && (!addrs || !families)))
        return -EINVAL;
    struct vg_threat *t = e->th;
    uint8_t(*a)[16] = n ? malloc(n * sizeof(*a)) : NULL;
    int *f = n ? malloc(n * sizeof(*f)) : NULL;
    if (n && (!a || !f)) {
        free(a);
        free(f);
        return -ENOMEM;
    }
    if (n) {
        memcpy(a, addrs, n * sizeof(*a));
        memcpy(f, families, n * sizeof(*f));
    }
    free(t->extip);
    free(t->extfam);
    t->extip = a;
    t->extfam = f;
    t->nextip = n;
    return 0;
}

int vg_threat_extip_has(vg_net_engine *e, int family, const uint8_t *addr)
{
    struct vg_threat *t = e->th;
    size_t alen = family == AF_INET6 ? 16 : 4;
    for (size_t i = 0; i < t->nextip; i++)
        if (t->extfam[i] == family && !memcmp(t->extip[i], addr, alen))
            return 1;
    return 0;
}

const vg_net_threat_conf *vg_threat_conf(vg_net_engine *e, uint32_t source)
{
    struct vg_threat *t = e->th;
    if (t->nsrc) {
        int found;
        size_t i = src_find(t, source, &found);
        if (found)
            return &t->src[i].c;
    }
    return &t->def;
}

void vg_threat_frame(vg_net_engine *e, int dlt)
{
    e->th->dlt = dlt;
}

static vg_tflow *tflow(vg_net_engine *e, const vg_flow *f)
{
    vg_tflow *t = &e->th->flows[vg_slot(e, f)];
    if (t->flow_id != f->id) {
        memset(t, 0, sizeof(*t));
        t->flow_id = f->id;
    }
    return t;
}

static void emit(vg_net_engine *e, const vg_flow *f, int dir, int id, const char *detail)
{
    vg_net_threat r = {
        .id = id,
        .name = table[id].name,
        .severity = table[id].severity,
        .detail = detail ? detail : "",
        .source = e->frame_source,
        .ts_us = e->now_us,
        .from_client = dir == 0,
        .dlt = e->th->dlt,
        .pkt = e->frame,
        .pkt_len = e->frame_len < VG_NET_THREAT_PKT_MAX ? e->frame_len : VG_NET_THREAT_PKT_MAX,
    };
    if (f) {
        r.flow_id = f->id;
        r.family = f->v6 ? AF_INET6 : AF_INET;
        r.l4 = f->l4;
        memcpy(r.client, f->c, 16);
        memcpy(r.server, f->s, 16);
        r.client_port = f->cport;
        r.server_port = f->sport;
    } else {
        /* No flow: the addresses of the frame, when it has them. */
        uint32_t off = 0;
        vg_l3 l3;
        int v = vg_link_decode(e->th->dlt, e->frame, e->frame_len, &off);
        if (v > 0 && vg_ip_decode(v, e->frame + off, e->frame_len - off, &l3) == 0) {
            r.family = l3.family;
            r.l4 = l3.l4;
            memcpy(r.client, l3.src, 16);
            memcpy(r.server, l3.dst, 16);
        }
        r.from_client = 1;
    }
    e->sink.threat(e->sink.arg, &r);
}

void vg_threat_fire(const vg_tpkt *p, int id, const char *detail)
{
    if (!vg_threat_on(p, id) || !p->e->sink.threat)
        return;
    if (!table[id].rate) {
        if (p->t->fired & VG_NET_T_BIT(id))
            return;
        p->t->fired |= VG_NET_T_BIT(id);
    }
    emit(p->e, p->f, p->dir, id, detail);
}

void vg_threat_anomaly(vg_net_engine *e, const vg_flow *f, const char *name)
{
    int id = vg_net_threat_lookup(name);
    if (id < 0 || !e->sink.threat)
        return;
    const vg_net_threat_conf *c = vg_threat_conf(e, f ? f->source : e->frame_source);
    if (!((c->enabled >> id) & 1))
        return;
    if (f) {
        vg_tpkt p = {.e = e, .conf = c, .f = (vg_flow *)f, .t = tflow(e, f)};
        vg_threat_fire(&p, id, NULL);
        return;
    }
    struct vg_threat *t = e->th;
    if (t->flowless_us[id] && e->now_us - t->flowless_us[id] < FLOWLESS_PERIOD_US)
        return;
    t->flowless_us[id] = e->now_us ? e->now_us : 1;
    emit(e, NULL, 0, id, NULL);
}

void vg_threat_flow_start(vg_net_engine *e, vg_flow *f)
{
    vg_tflow *t = tflow(e, f);
    if (e->sink.threat &&
        vg_threat_conf(e, f->source)->enabled & VG_NET_T_BIT(VG_NET_T_IP_SESSION_LIMIT)) {
        t->counted = 1;
        vg_thr_session(e, f, 1);
    }
}

void vg_threat_flow_end(vg_net_engine *e, vg_flow *f)
{
    /* A gauge comes back down for what it counted, whatever the switch
     * says now. */
    vg_tflow *t = &e->th->flows[vg_slot(e, f)];
    if (t->flow_id == f->id && t->counted) {
        t->counted = 0;
        vg_thr_session(e, f, -1);
    }
}

/* The application whose detectors see the payload: by the flow's name, or,
 * while it has none yet, by a glance at the bytes. */
static int app_of(const vg_tpkt *p)
{
    const vg_flow *f = p->f;
    if (f->named)
        return p->e->th->tapp[f->app];
    const uint8_t *d = p->data;
    uint32_t n = p->len;
    if (f->l4 != IPPROTO_TCP)
        return VG_TAPP_NONE;
    if (p->dir == 0 &&
        (p->t->http_body_left || p->t->http_open_us || vg_http_request(d, n) != VG_P_NO))
        return VG_TAPP_HTTP;
    if (n >= 5 && d[0] >= 0x14 && d[0] <= 0x18 && d[1] == 3 && d[2] <= 4)
        return VG_TAPP_TLS;
    if (n >= 3 && (d[0] & 0x80) && (d[2] == 1 || d[2] == 4))
        return VG_TAPP_TLS; /* SSLv2 record: client or server hello */
    if (vg_starts(d, n, "SSH-"))
        return VG_TAPP_SSH;
    if (p->dir == 0 && n >= 14 && vg_be16(d) == n - 2 && vg_be16(d + 6) == 1 && !(d[4] & 0x80))
        return VG_TAPP_DNS; /* a query over TCP, before the answer names the flow */
    return VG_TAPP_NONE;
}

void vg_threat_packet(vg_net_engine *e, vg_flow *f, int dir, const vg_l3 *l3, const vg_l4 *l4)
{
    if (!e->sink.threat)
        return;
    const vg_net_threat_conf *c = vg_threat_conf(e, f->source);
    if (!c->enabled)
        return;
    vg_tpkt p = {.e = e,
                 .conf = c,
                 .f = f,
                 .t = tflow(e, f),
                 .dir = dir,
                 .l3 = l3,
                 .l4 = l4,
                 .data = l4->data,
                 .len = l4->len};
    switch (f->l4) {
    case IPPROTO_TCP:
        vg_thr_packet(&p);
        vg_thr_tcp(&p);
        vg_thr_flood(&p);
        break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        vg_thr_flood(&p);
        vg_thr_icmp(&p);
        return;
    }
    if (e->th->nextip && f->pkts[0] + f->pkts[1] == 1)
        vg_thr_k8s(&p);
    if (!p.len)
        return;
    p.app = app_of(&p);
    switch (p.app) {
    case VG_TAPP_HTTP:
        vg_thr_http(&p);
        break;
    case VG_TAPP_TLS:
        vg_thr_tls(&p);
        break;
    case VG_TAPP_DNS:
        vg_thr_dns(&p);
        break;
    case VG_TAPP_SSH:
        vg_thr_ssh(&p);
        break;
    case VG_TAPP_MYSQL:
        vg_thr_mysql(&p);
        break;
    case VG_TAPP_PGSQL:
    case VG_TAPP_TDS:
        vg_thr_sqlwire(&p);
        break;
    default:
        break;
    }
}
