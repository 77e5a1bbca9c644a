/*
 * vgnet: the network engine. Packets in, flows out.
 *
 * The one public header of the static library vgnet (plugins/net/). It turns
 * captured frames into bidirectional flows (sessions), names the application
 * of each flow from its bytes (never from its port) and extracts the fields
 * that policies and threat detectors need (HTTP host, TLS SNI, DNS answers...).
 * It is used by the net plugin (live capture) and by `vigil-scan pcap`.
 *
 * Ownership and threads:
 * - The engine is NOT thread-safe and takes no locks: one engine per capture
 *   thread. Every sink callback runs on the thread that called vg_net_feed,
 *   vg_net_expire, vg_net_flush or vg_net_flows_each, from inside that call.
 * - Every structure and string handed to a callback (vg_net_flow, vg_net_pkt,
 *   fields, app names excepted) is a view owned by the engine and valid only
 *   during that callback: copy what you keep. Application names (f->app) are
 *   static strings and stay valid for the life of the process.
 * - The packet bytes given to vg_net_feed belong to the caller; the engine
 *   copies what it keeps (bounded reassembly buffers) before returning.
 * - Memory is bounded by the configuration: the session table (max_flows),
 *   the inspection buffers (max_inspect flows at a time) and the fragment
 *   reassembly memory (max_frag_bytes). Nothing else is allocated per packet.
 *   A flow beyond max_flows evicts the least recently seen one (counted).
 * - Malformed or unsupported packets are counted in vg_net_stats and dropped;
 *   vg_net_feed never crashes on any byte string.
 */
#ifndef VIGIL_NET_ENGINE_H
#define VIGIL_NET_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_net_engine vg_net_engine;

/* Link types given to vg_net_feed: libpcap's DLT_* numbers (pcap/dlt.h), so
 * that pcap_datalink() can be passed straight through. Supported: */
#define VG_NET_DLT_NULL 0   /* BSD loopback, host-order family word */
#define VG_NET_DLT_EN10MB 1 /* Ethernet, with 802.1Q / 802.1ad tags */
#define VG_NET_DLT_RAW 12   /* raw IP (some systems use 14) */
#define VG_NET_DLT_RAW_ALT 14
#define VG_NET_DLT_LOOP 108      /* OpenBSD loopback, network-order family */
#define VG_NET_DLT_LINUX_SLL 113 /* Linux cooked capture v1 ("any") */
#define VG_NET_DLT_IPV4 228
#define VG_NET_DLT_IPV6 229
#define VG_NET_DLT_LINUX_SLL2 276 /* Linux cooked capture v2 */

typedef struct vg_net_config {           /* zero = default for every field */
    uint32_t max_flows;                  /* session table bound (default 65536) */
    uint32_t tcp_syn_timeout_ms;         /* handshake not finished (default 30 s) */
    uint32_t tcp_established_timeout_ms; /* default 3600 s */
    uint32_t tcp_closed_timeout_ms;      /* after FIN both ways or RST (default 10 s) */
    uint32_t udp_timeout_ms;             /* default 60 s */
    uint32_t icmp_timeout_ms;            /* default 30 s */
    uint32_t max_frag_bytes;             /* reassembly memory bound (default 4 MiB) */
    uint32_t max_inspect;                /* flows inspected at once (default 4096); when
                                          * all are taken, one idle 5 s is decided on
                                          * what it has and its slot reused; a flow
                                          * that still finds none stays "unknown" */
    uint32_t inspect_packets;            /* give up naming after this many payload
                                          * packets of a flow (default 16) */
} vg_net_config;

/* The state of a flow (vg_net_flow.state). */
enum vg_net_state {
    VG_NET_ST_NEW = 0,         /* UDP/ICMP: one direction seen */
    VG_NET_ST_SYN = 1,         /* TCP: SYN seen, handshake not finished */
    VG_NET_ST_ESTABLISHED = 2, /* TCP handshake done, or data seen; UDP/ICMP answered */
    VG_NET_ST_CLOSING = 3,     /* TCP: FIN seen in one direction */
    VG_NET_ST_CLOSED = 4,      /* TCP: FIN both ways, or RST */
};

/* Why a flow ended (flow_end's reason). */
enum vg_net_end {
    VG_NET_END_CLOSED = 0,  /* FIN both ways or RST, then the closed timeout */
    VG_NET_END_TIMEOUT = 1, /* idle longer than its state's timeout */
    VG_NET_END_EVICTED = 2, /* the table was full and a new flow needed room */
    VG_NET_END_FLUSH = 3,   /* vg_net_flush (end of a capture file, shutdown) */
};

typedef struct vg_net_kv {
    const char *key, *value;
} vg_net_kv; /* "tls.sni" = "example.com" */

typedef struct vg_net_flow {           /* a view, valid only during the callback */
    uint64_t id;                       /* unique per engine, from 1 */
    uint32_t source;                   /* the capture source id given to vg_net_feed */
    int family;                        /* AF_INET or AF_INET6 */
    uint8_t l4;                        /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
    uint8_t client[16], server[16];    /* IPv4 in the first 4 bytes */
    uint16_t client_port, server_port; /* host order; 0 for ICMP */
    const char *app;                   /* lower-case: "http", "tls", ..., "unknown" */
    uint64_t first_us, last_us;
    uint64_t pkts[2], bytes[2]; /* [0] client->server, [1] server->client (IP bytes) */
    int state;                  /* enum vg_net_state */
    const vg_net_kv *fields;
    size_t nfields; /* protocol fields known so far */
} vg_net_flow;

/* One decoded packet, for observers such as threat detectors (rates, flags,
 * windows, payloads). A view, valid only during the callback. */
typedef struct vg_net_pkt {
    uint32_t source;
    uint64_t ts_us;
    int family;
    uint8_t l4;
    uint8_t src[16], dst[16];
    uint16_t sport, dport; /* host order; ICMP: type, code */
    uint8_t tcp_flags;     /* VG_NET_TCP_* */
    uint16_t tcp_window;   /* as advertised (unscaled) */
    uint16_t tcp_mss;      /* MSS option, 0 when absent */
    uint32_t ip_len;       /* IP datagram length (after reassembly) */
    int reassembled;       /* 1: rebuilt from fragments */
    const uint8_t *payload;
    uint32_t payload_len;    /* L4 payload as captured */
    const vg_net_flow *flow; /* its flow (after the update), NULL if none */
    int dir;                 /* 0 client->server, 1 server->client */
} vg_net_pkt;

#define VG_NET_TCP_FIN 0x01
#define VG_NET_TCP_SYN 0x02
#define VG_NET_TCP_RST 0x04
#define VG_NET_TCP_PSH 0x08
#define VG_NET_TCP_ACK 0x10
#define VG_NET_TCP_URG 0x20

struct vg_net_threat;

typedef struct vg_net_sink { /* every callback optional; called from feed/expire/flush */
    void *arg;
    void (*flow_start)(void *arg, const vg_net_flow *f); /* a new flow, direction decided */
    /* application named or given up; the fields of the bytes that named it
     * are there (more may come by flow_end) */
    void (*flow_app)(void *arg, const vg_net_flow *f);
    void (*flow_end)(void *arg, const vg_net_flow *f, int reason); /* enum vg_net_end */
    void (*dns_answer)(void *arg, uint32_t source, const char *name, int family,
                       const uint8_t *addr, uint32_t ttl); /* for peers named by DNS */
    /* Every decoded IP packet, after its flow was updated. */
    void (*packet)(void *arg, const vg_net_pkt *p);
    /* An anomaly seen by the decoder or a parser: id is a static string
     * ("bad-packet", "ip-teardrop", "dns-loop-pointer", "dns-overflow", ...);
     * f may be NULL (no flow yet); pkt/len are the frame that showed it. */
    void (*anomaly)(void *arg, uint32_t source, const vg_net_flow *f, const char *id,
                    const uint8_t *pkt, uint32_t len);
    /* A threat (plugins/net/threat/): see vg_net_threat below. Enabled
     * threats only; each is reported once per flow, rate threats at most
     * once per meter period. */
    void (*threat)(void *arg, const struct vg_net_threat *t);
} vg_net_sink;

typedef struct vg_net_stats {
    uint64_t packets, bytes;      /* frames given to vg_net_feed */
    uint64_t malformed;           /* dropped: truncated, bad lengths, bad headers */
    uint64_t unsupported;         /* dropped: not IP, unknown link type, other L4 */
    uint64_t fragments;           /* IP fragments received */
    uint64_t reassembled;         /* datagrams rebuilt from fragments */
    uint64_t frag_dropped;        /* fragments dropped: bound, overlap, timeout */
    uint64_t flows;               /* flows in the table now */
    uint64_t flows_total;         /* flows created */
    uint64_t evicted;             /* flows ended to make room (table full) */
    uint64_t timed_out;           /* flows ended by their state's timeout */
    uint64_t tcp_out_of_order;    /* segments buffered ahead of a hole */
    uint64_t inspect_full;        /* flows not inspected: no inspection slot */
    uint64_t identified, unknown; /* flows named / given up as "unknown" */
    uint64_t table_bytes;         /* memory reserved by the tables */
    uint64_t inspect_reclaimed;   /* slots taken from flows idle 5 s mid-inspection */
} vg_net_stats;

/* ---- threats (plugins/net/threat/) -------------------------------------
 * NeuVector's list of network threats, detected by the engine itself so
 * that the daemon and `vigil-scan pcap` run the same code. Ids are stable:
 * they index vg_net_threat_conf.enabled and appear in events by name. */
enum vg_net_threat_id {
    VG_NET_T_SYN_FLOOD,
    VG_NET_T_ICMP_FLOOD,
    VG_NET_T_IP_SESSION_LIMIT,
    VG_NET_T_BAD_PACKET,
    VG_NET_T_IP_TEARDROP,
    VG_NET_T_TCP_SYN_DATA,
    VG_NET_T_TCP_SPLIT_HANDSHAKE,
    VG_NET_T_TCP_SMALL_WINDOW,
    VG_NET_T_TCP_SMALL_MSS,
    VG_NET_T_PING_OF_DEATH,
    VG_NET_T_DNS_LOOP_POINTER,
    VG_NET_T_DNS_OVERFLOW,
    VG_NET_T_DNS_ZONE_TRANSFER,
    VG_NET_T_DNS_NULL_TYPE,
    VG_NET_T_DNS_TUNNEL,
    VG_NET_T_SSH_V1,
    VG_NET_T_TLS_HEARTBLEED,
    VG_NET_T_TLS_CIPHER_OVERFLOW,
    VG_NET_T_TLS_SSLV2,
    VG_NET_T_TLS_SSLV3,
    VG_NET_T_TLS_OLD_VERSION,
    VG_NET_T_HTTP_NEGATIVE_LENGTH,
    VG_NET_T_HTTP_SMUGGLING,
    VG_NET_T_HTTP_SLOWLORIS,
    VG_NET_T_MYSQL_ACCESS_DENIED,
    VG_NET_T_ICMP_TUNNEL,
    VG_NET_T_SQL_INJECTION,
    VG_NET_T_STRUTS_RCE,
    VG_NET_T_K8S_EXTIP_MITM,
    VG_NET_T_COUNT
};

enum vg_net_severity {
    VG_NET_SEV_INFO,
    VG_NET_SEV_LOW,
    VG_NET_SEV_MEDIUM,
    VG_NET_SEV_HIGH,
    VG_NET_SEV_CRITICAL,
};

#define VG_NET_T_BIT(id) (1ull << (id))
#define VG_NET_T_ALL ((1ull << VG_NET_T_COUNT) - 1)

/* One set of switches and thresholds: the live plugin keeps one per group
 * and gives each capture source the set of its workload's group. Zero in a
 * threshold means its default (vg_net_threat_defaults); enabled is taken as
 * it is. */
typedef struct vg_net_threat_conf {
    uint64_t enabled;                /* VG_NET_T_BIT(id) per threat switched on */
    uint32_t syn_flood_pps;          /* SYNs per second to one server address (200) */
    uint32_t icmp_flood_pps;         /* ICMP echo requests per second to one address (100) */
    uint32_t session_limit;          /* concurrent sessions from one client address (2000) */
    uint32_t small_window;           /* TCP window advertised below this, data flowing (64) */
    uint32_t small_mss;              /* MSS option below this (256) */
    uint32_t slowloris_header_ms;    /* a request head still open after this (3000) */
    uint32_t slowloris_conns;        /* such connections to one server at once (5) */
    uint32_t mysql_denied;           /* error 1045 answers to one client... (5) */
    uint32_t mysql_denied_window_ms; /* ...within this time (60000) */
    uint32_t icmp_tunnel_packets;    /* tunnel-like echo packets in one ICMP flow (8) */
    uint32_t icmp_tunnel_payload;    /* echo payloads from this size are weighed (64) */
    uint32_t dns_tunnel_label;       /* a label this long and random is encoded data (40) */
    uint32_t dns_tunnel_queries;     /* such names under one domain... (10) */
    uint32_t dns_tunnel_window_ms;   /* ...within this time (60000) */
} vg_net_threat_conf;

/* A threat, handed to sink.threat. A view valid only during the callback. */
typedef struct vg_net_threat {
    int id;             /* enum vg_net_threat_id */
    const char *name;   /* "syn-flood", ... (static) */
    int severity;       /* enum vg_net_severity */
    const char *detail; /* a short explanation, e.g. "mss 64 < 256" */
    uint32_t source;
    uint64_t ts_us;
    uint64_t flow_id; /* 0 when no flow was made (bad packets) */
    int family;       /* AF_INET / AF_INET6, 0 when the frame had no IP */
    uint8_t l4;
    uint8_t client[16], server[16]; /* the flow's ends (a flowless packet: src, dst) */
    uint16_t client_port, server_port;
    int from_client;    /* the packet went client->server (1) or back (0) */
    int dlt;            /* link type of pkt */
    const uint8_t *pkt; /* the frame that showed it... */
    uint32_t pkt_len;   /* ...cut at VG_NET_THREAT_PKT_MAX */
} vg_net_threat;

#define VG_NET_THREAT_PKT_MAX 2048
#define VG_NET_SOURCE_DEFAULT UINT32_MAX /* vg_net_threat_set: the set of every other source */

/* NeuVector's thresholds and switches (floods, bad packets, TLS/HTTP/DNS/SQL
 * attacks on; the noisy ones off: syn-data, small-window, slowloris,
 * session-limit, tls-old-version, dns-null-type). */
void vg_net_threat_defaults(vg_net_threat_conf *c);
/* The set for one capture source, or VG_NET_SOURCE_DEFAULT (copied; a NULL
 * conf removes a source's own set). 0 or -ENOMEM / -EINVAL. */
int vg_net_threat_set(vg_net_engine *e, uint32_t source, const vg_net_threat_conf *c);
/* Service external IPs (CVE-2020-8554) that no workload should reach: a
 * flow to one of them is k8s-extip-mitm. Replaces the list; 0 or -errno. */
int vg_net_threat_extips(vg_net_engine *e, const uint8_t (*addrs)[16], const int *families,
                         size_t n);
const char *vg_net_threat_name(int id);     /* NULL when out of range */
int vg_net_threat_lookup(const char *name); /* the id, or -1 */
int vg_net_threat_severity(int id);
const char *vg_net_severity_name(int sev); /* "info" ... "critical" */
/* The threat's packet in base64 into out (NUL-ended); the length written,
 * or 0 when cap is too small (cap >= 4 * ((pkt_len + 2) / 3) + 1 fits). */
size_t vg_net_threat_packet_b64(const vg_net_threat *t, char *out, size_t cap);

/* NULL on error with -errno in errno. cfg and sink may be NULL; both are copied. */
vg_net_engine *vg_net_engine_new(const vg_net_config *cfg, const vg_net_sink *sink);
/* One captured frame. 0, or -errno: -EINVAL for a bad argument, -EPROTO for a
 * malformed packet, -EPROTONOSUPPORT for an unsupported one (all counted). */
int vg_net_feed(vg_net_engine *e, int dlt, uint64_t ts_us, const uint8_t *pkt, uint32_t caplen,
                uint32_t wirelen, uint32_t source);
/* Ends flows idle beyond their state's timeout at now_us (flow_end TIMEOUT or
 * CLOSED) and drops stale fragments. Call it every second or so. */
void vg_net_expire(vg_net_engine *e, uint64_t now_us);
/* True when the engine holds no flow and no fragment: vg_net_expire would
 * do nothing, and the memory a burst of flows used has been given back. */
bool vg_net_idle(const vg_net_engine *e);
/* Ends every flow (flow_end FLUSH, an unnamed flow gets flow_app "unknown"
 * first). The engine stays usable. */
void vg_net_flush(vg_net_engine *e);
/* Calls cb on every flow in the table; returns their number. */
int vg_net_flows_each(vg_net_engine *e, void (*cb)(void *arg, const vg_net_flow *f), void *arg);
void vg_net_stats_get(const vg_net_engine *e, vg_net_stats *out);
void vg_net_engine_free(vg_net_engine *e);

/* The value of a field of a flow view, or NULL (the first one for repeated
 * keys such as "dns.answer"). */
const char *vg_net_flow_field(const vg_net_flow *f, const char *key);
/* The application names the engine can give, NULL-terminated, "unknown" excluded. */
const char *const *vg_net_apps(void);
/* "tcp", "udp", "icmp", "icmpv6", "ip" */
const char *vg_net_l4_name(uint8_t l4);
/* "IP:PORT", "[IPv6]:PORT" or the bare address when port < 0; returns buf. */
char *vg_net_endpoint(char *buf, size_t len, int family, const uint8_t *addr, int port);

#ifdef __cplusplus
}
#endif
#endif
