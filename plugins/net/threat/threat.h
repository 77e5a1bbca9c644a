/*
 * Threat detection inside the engine (internal to vgnet). threat.c owns the
 * state: the per-source configuration sets, one small record per flow slot
 * (indexed like the session table, reset when the slot's flow id changes),
 * and the rate meters. The engine calls the hooks below; each family of
 * detectors is one file (flood.c, packet.c, tcp.c, dns.c, tls.c, http.c,
 * ssh.c, mysql.c, icmp.c, sqli.c, struts.c, k8s.c) and reports through
 * vg_threat_fire(). Nothing here allocates per packet.
 */
#ifndef VIGIL_NET_THREAT_H
#define VIGIL_NET_THREAT_H

#include <stddef.h>
#include <stdint.h>

#include "../net_int.h"

/* What the detectors keep per flow (one per session-table slot). */
typedef struct vg_tflow {
    uint64_t flow_id;        /* the flow this record is for; else stale */
    uint64_t fired;          /* threats reported on this flow, bit per id */
    uint64_t http_open_us;   /* a request head started and not ended, since */
    uint32_t http_body_left; /* bytes of a message/... request body still to come */
    uint32_t tail;           /* last bytes of the previous client segment */
    uint32_t icmp_hash;      /* hash of the last echo request payload */
    uint16_t icmp_seq;       /* and its identifier ^ sequence */
    uint16_t icmp_len;       /* last echo payload length */
    uint8_t icmp_suspect;    /* tunnel-like echo packets seen */
    uint8_t tls;             /* TLS_* flags below */
    uint8_t http_slow;       /* counted as a slow head already */
    uint16_t tls_hb_len;     /* length of the client's last encrypted heartbeat */
    uint8_t counted;
    uint8_t wscale[2];
    /* window scale per direction, 0x80 once its SYN was seen */ /* counted in its client's
                                                                    sessions (ip-session-limit)
                                                                  */
} vg_tflow;

#define TLS_CCS_CLIENT 0x01 /* the client's records are encrypted from here */
#define TLS_CCS_SERVER 0x02
#define TLS_APPDATA 0x04   /* application data seen either way */
#define TLS_HB_CLIENT 0x08 /* the client sent an encrypted heartbeat */

/* One packet as the detectors see it. */
typedef struct vg_tpkt {
    vg_net_engine *e;
    const vg_net_threat_conf *conf;
    vg_flow *f; /* never NULL for packet hooks */
    vg_tflow *t;
    int dir; /* 0 client->server */
    const vg_l3 *l3;
    const vg_l4 *l4;
    const uint8_t *data; /* L4 payload of this packet */
    uint32_t len;
    int app; /* VG_TAPP_*, by name or, unnamed, by content */
} vg_tpkt;

enum {
    VG_TAPP_NONE,
    VG_TAPP_HTTP,
    VG_TAPP_TLS,
    VG_TAPP_DNS,
    VG_TAPP_SSH,
    VG_TAPP_MYSQL,
    VG_TAPP_PGSQL,
    VG_TAPP_TDS
};

/* ---- threat.c ---- */
int vg_threat_init(vg_net_engine *e);
void vg_threat_free(vg_net_engine *e);
/* With no flow left: the per-flow records' pages are given back. */
void vg_threat_forget(vg_net_engine *e);
/* After a packet went through its flow (engine.c, vg_net_feed). */
void vg_threat_packet(vg_net_engine *e, vg_flow *f, int dir, const vg_l3 *l3, const vg_l4 *l4);
/* A flow was made / ends (flow/table.c). */
void vg_threat_flow_start(vg_net_engine *e, vg_flow *f);
void vg_threat_flow_end(vg_net_engine *e, vg_flow *f);
/* An anomaly named by the decoder or a parser (engine.c, vg_anomaly). */
void vg_threat_anomaly(vg_net_engine *e, const vg_flow *f, const char *id);
/* The frame being fed (its link type, for the report). */
void vg_threat_frame(vg_net_engine *e, int dlt);
/* The set in effect for a source. */
const vg_net_threat_conf *vg_threat_conf(vg_net_engine *e, uint32_t source);
/* 1 when addr is one of the Service external IPs given. */
int vg_threat_extip_has(vg_net_engine *e, int family, const uint8_t *addr);
/* Reports threat id on the packet's flow (once per flow unless rate). */
void vg_threat_fire(const vg_tpkt *p, int id, const char *detail);
static inline int vg_threat_on(const vg_tpkt *p, int id)
{
    return (p->conf->enabled >> id) & 1;
}

/* Rate meters (threat/flood.c): a fixed table of counters keyed by an
 * address (and a kind); count() adds one event at now and returns the
 * events of the last window, fire() says whether to report now. */
typedef struct vg_meter vg_meter;
vg_meter *vg_meter_new(uint32_t slots);
void vg_meter_free(vg_meter *m);
/* Adds n (may be negative for gauges) and returns the value in the window. */
int64_t vg_meter_add(vg_meter *m, uint32_t kind, const uint8_t *addr, const void *extra,
                     size_t elen, uint64_t now_us, uint64_t window_us, int64_t n);
/* 1 once per period for a key over its threshold (then quiet for period). */
int vg_meter_report(vg_meter *m, uint32_t kind, const uint8_t *addr, const void *extra, size_t elen,
                    uint64_t now_us, uint64_t period_us);
vg_meter *vg_threat_meter(vg_net_engine *e);

/* ---- the detectors, one family per file ---- */
void vg_thr_flood(const vg_tpkt *p);                          /* syn-flood, icmp-flood */
void vg_thr_session(vg_net_engine *e, vg_flow *f, int delta); /* ip-session-limit */
void vg_thr_packet(const vg_tpkt *p);                         /* bad-packet (flags) */
void vg_thr_tcp(const vg_tpkt *p);                            /* tcp-small-window, tcp-small-mss */
void vg_thr_dns(const vg_tpkt *p);                            /* zone transfer, null type, tunnel */
void vg_thr_tls(const vg_tpkt *p);     /* heartbleed, cipher overflow, versions */
void vg_thr_http(const vg_tpkt *p);    /* lengths, smuggling, slowloris, sqli, struts */
void vg_thr_ssh(const vg_tpkt *p);     /* ssh-v1 */
void vg_thr_mysql(const vg_tpkt *p);   /* access denied, sqli */
void vg_thr_sqlwire(const vg_tpkt *p); /* sqli in PostgreSQL and TDS queries */
void vg_thr_icmp(const vg_tpkt *p);    /* icmp-tunnel */
void vg_thr_k8s(const vg_tpkt *p);     /* k8s-extip-mitm */

/* sqli.c: 1 when text is SQL injection. As a parameter value (query==0)
 * the value is tried as it stands and as if it followed a quote; as a whole
 * query (query==1) only what benign statements never do counts. */
int vg_sqli(const char *s, size_t n, int query);
/* sqli.c: URL-decodes src into dst ('+' is a space); returns the length. */
size_t vg_url_decode(const uint8_t *src, size_t n, char *dst, size_t cap);
/* struts.c: 1 when a Content-Type value carries an OGNL expression. */
int vg_struts_ognl(const uint8_t *v, size_t n);
/* Shannon entropy of bytes, bits per byte (icmp.c). */
double vg_entropy(const uint8_t *p, size_t n);

#endif
