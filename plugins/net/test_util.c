/* Test helpers of plugins/net (see test_util.h). */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "test_util.h"

static void on_start(void *arg, const vg_net_flow *f)
{
    ((recorder *)arg)->started++;
}

static void fields_text(char *out, size_t len, const vg_net_flow *f)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < f->nfields && o < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%s=%s\n", f->fields[i].key, f->fields[i].value);
}

static void on_app(void *arg, const vg_net_flow *f)
{
    recorder *r = arg;
    r->named++;
    fields_text(r->app_fields, sizeof(r->app_fields), f);
}

static void on_end(void *arg, const vg_net_flow *f, int reason)
{
    recorder *r = arg;
    if (r->nflows >= REC_MAX)
        return;
    rec_flow *x = &r->flows[r->nflows++];
    memset(x, 0, sizeof(*x));
    snprintf(x->app, sizeof(x->app), "%s", f->app);
    x->l4 = f->l4;
    x->family = f->family;
    vg_net_endpoint(x->client, sizeof(x->client), f->family, f->client, f->client_port);
    vg_net_endpoint(x->server, sizeof(x->server), f->family, f->server, f->server_port);
    x->cport = f->client_port;
    x->sport = f->server_port;
    memcpy(x->pkts, f->pkts, sizeof(x->pkts));
    memcpy(x->bytes, f->bytes, sizeof(x->bytes));
    x->reason = reason;
    fields_text(x->fields, sizeof(x->fields), f);
}

static void on_dns(void *arg, uint32_t source, const char *name, int family, const uint8_t *addr,
                   uint32_t ttl)
{
    recorder *r = arg;
    char a[64];
    inet_ntop(family, addr, a, sizeof(a));
    size_t o = strlen(r->dns);
    snprintf(r->dns + o, sizeof(r->dns) - o, "%s=%s\n", name, a);
}

static void on_packet(void *arg, const vg_net_pkt *p)
{
    ((recorder *)arg)->npackets++;
}

static void on_anomaly(void *arg, uint32_t source, const vg_net_flow *f, const char *id,
                       const uint8_t *pkt, uint32_t len)
{
    recorder *r = arg;
    size_t o = strlen(r->anomalies);
    snprintf(r->anomalies + o, sizeof(r->anomalies) - o, "%s\n", id);
    r->nanomalies++;
}

vg_net_sink recorder_sink(recorder *r)
{
    memset(r, 0, sizeof(*r));
    return (vg_net_sink){.arg = r,
                         .flow_start = on_start,
                         .flow_app = on_app,
                         .flow_end = on_end,
                         .dns_answer = on_dns,
                         .packet = on_packet,
                         .anomaly = on_anomaly};
}

vg_net_engine *test_engine(const vg_net_config *cfg, recorder *r)
{
    vg_net_sink sink = recorder_sink(r);
    vg_net_engine *e = vg_net_engine_new(cfg, &sink);
    if (!e)
        abort();
    return e;
}

int feed_file(vg_net_engine *e, const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(p, &h, &d) == 1)
        vg_net_feed(e, dlt, (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec, d,
                    h->caplen, h->len, 0);
    pcap_close(p);
    return dlt;
}

void scan_corpus(const char *rel, recorder *r, vg_net_stats *st)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", NET_CORPUS_DIR, rel);
    vg_net_engine *e = test_engine(NULL, r);
    if (feed_file(e, path) < 0) {
        fprintf(stderr, "cannot scan %s\n", path);
        abort();
    }
    vg_net_flush(e);
    if (st)
        vg_net_stats_get(e, st);
    vg_net_engine_free(e);
}

const rec_flow *flow_by_app(const recorder *r, const char *app)
{
    for (size_t i = 0; i < r->nflows; i++)
        if (!strcmp(r->flows[i].app, app))
            return &r->flows[i];
    return NULL;
}

size_t count_app(const recorder *r, const char *app)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nflows; i++)
        n += !strcmp(r->flows[i].app, app);
    return n;
}

int has_field(const rec_flow *f, const char *key, const char *value)
{
    char line[512];
    snprintf(line, sizeof(line), "%s=%s\n", key, value);
    if (!strncmp(f->fields, line, strlen(line)))
        return 1;
    char nl[520];
    snprintf(nl, sizeof(nl), "\n%s", line);
    return strstr(f->fields, nl) != NULL;
}

int has_anomaly(const recorder *r, const char *id)
{
    char line[80];
    snprintf(line, sizeof(line), "%s\n", id);
    if (!strncmp(r->anomalies, line, strlen(line)))
        return 1;
    char nl[88];
    snprintf(nl, sizeof(nl), "\n%s", line);
    return strstr(r->anomalies, nl) != NULL;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* The IP header for an L4 of len bytes; returns the header length. */
static uint32_t ip_header(uint8_t *out, const char *src, const char *dst, uint8_t proto,
                          uint32_t l4len)
{
    if (strchr(src, ':')) {
        memset(out, 0, 40);
        out[0] = 0x60;
        out[4] = (uint8_t)(l4len >> 8);
        out[5] = (uint8_t)l4len;
        out[6] = proto;
        out[7] = 64;
        inet_pton(AF_INET6, src, out + 8);
        inet_pton(AF_INET6, dst, out + 24);
        return 40;
    }
    memset(out, 0, 20);
    uint32_t tot = 20 + l4len;
    out[0] = 0x45;
    out[2] = (uint8_t)(tot >> 8);
    out[3] = (uint8_t)tot;
    out[8] = 64;
    out[9] = proto;
    inet_pton(AF_INET, src, out + 12);
    inet_pton(AF_INET, dst, out + 16);
    uint16_t c = csum(out, 20);
    out[10] = (uint8_t)(c >> 8);
    out[11] = (uint8_t)c;
    return 20;
}

uint32_t build_tcp(uint8_t *out, const tcp_spec *s)
{
    uint32_t hl = ip_header(out, s->src, s->dst, 6, 20 + s->len);
    uint8_t *t = out + hl;
    memset(t, 0, 20);
    t[0] = (uint8_t)(s->sport >> 8);
    t[1] = (uint8_t)s->sport;
    t[2] = (uint8_t)(s->dport >> 8);
    t[3] = (uint8_t)s->dport;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(s->seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(s->ack >> (24 - 8 * i));
    }
    t[12] = 5 << 4;
    t[13] = s->flags;
    t[14] = 0xff;
    t[15] = 0xff;
    if (s->len)
        memcpy(t + 20, s->payload, s->len);
    return hl + 20 + s->len;
}

uint32_t build_udp(uint8_t *out, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                   const void *payload, uint32_t len)
{
    uint32_t hl = ip_header(out, src, dst, 17, 8 + len);
    uint8_t *u = out + hl;
    u[0] = (uint8_t)(sport >> 8);
    u[1] = (uint8_t)sport;
    u[2] = (uint8_t)(dport >> 8);
    u[3] = (uint8_t)dport;
    u[4] = (uint8_t)((8 + len) >> 8);
    u[5] = (uint8_t)(8 + len);
    u[6] = u[7] = 0;
    if (len)
        memcpy(u + 8, payload, len);
    return hl + 8 + len;
}

int feed_raw(vg_net_engine *e, uint64_t ts_us, const uint8_t *p, uint32_t len)
{
    return vg_net_feed(e, VG_NET_DLT_RAW, ts_us, p, len, len, 0);
}

void tcp_conversation(vg_net_engine *e, const char *cli, const char *srv, uint16_t cport,
                      uint16_t sport, const tcp_msg *msgs, size_t n)
{
    uint8_t pkt[4096];
    uint32_t seq[2] = {1000, 5000};
    uint64_t ts = 1000000;
    tcp_spec s = {cli, srv, cport, sport, seq[0], 0, VG_NET_TCP_SYN, NULL, 0};
    feed_raw(e, ts++, pkt, build_tcp(pkt, &s));
    s = (tcp_spec){srv,  cli, sport, cport, seq[1], seq[0] + 1, VG_NET_TCP_SYN | VG_NET_TCP_ACK,
                   NULL, 0};
    feed_raw(e, ts++, pkt, build_tcp(pkt, &s));
    seq[0]++;
    seq[1]++;
    s = (tcp_spec){cli, srv, cport, sport, seq[0], seq[1], VG_NET_TCP_ACK, NULL, 0};
    feed_raw(e, ts++, pkt, build_tcp(pkt, &s));
    for (size_t i = 0; i < n; i++) {
        int d = msgs[i].from;
        uint32_t len = msgs[i].len ? msgs[i].len : (uint32_t)strlen(msgs[i].data);
        s = (tcp_spec){d ? srv : cli,
                       d ? cli : srv,
                       d ? sport : cport,
                       d ? cport : sport,
                       seq[d],
                       seq[!d],
                       VG_NET_TCP_ACK | VG_NET_TCP_PSH,
                       msgs[i].data,
                       len};
        feed_raw(e, ts++, pkt, build_tcp(pkt, &s));
        seq[d] += len;
    }
    for (int d = 0; d < 2; d++) {
        s = (tcp_spec){d ? srv : cli,
                       d ? cli : srv,
                       d ? sport : cport,
                       d ? cport : sport,
                       seq[d],
                       seq[!d],
                       VG_NET_TCP_ACK | VG_NET_TCP_FIN,
                       NULL,
                       0};
        feed_raw(e, ts++, pkt, build_tcp(pkt, &s));
    }
}

uint32_t build_ip(uint8_t *out, const char *src, const char *dst, uint8_t proto, const void *l4,
                  uint32_t l4len)
{
    uint32_t hl = ip_header(out, src, dst, proto, l4len);
    memcpy(out + hl, l4, l4len);
    return hl + l4len;
}
