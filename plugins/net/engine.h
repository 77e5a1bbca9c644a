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

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_net_engine vg_net_engine;

/* Link types given to vg_net_feed: libpcap's DLT_* numbers (pcap/dlt.h), so
 * that pcap_datalink() can be passed straight through. Supported: */
#define VG_NET_DLT_NULL 0         /* BSD loopback, host-order family word */
#define VG_NET_DLT_EN10MB 1       /* Ethernet, with 802.1Q / 802.1ad tags */
#define VG_NET_DLT_RAW 12         /* raw IP (some systems use 14) */
#define VG_NET_DLT_RAW_ALT 14
#define VG_NET_DLT_LOOP 108       /* OpenBSD loopback, network-order family */
#define VG_NET_DLT_LINUX_SLL 113  /* Linux cooked capture v1 ("any") */
#define VG_NET_DLT_IPV4 228
#define VG_NET_DLT_IPV6 229
#define VG_NET_DLT_LINUX_SLL2 276 /* Linux cooked capture v2 */

typedef struct vg_net_config {      /* zero = default for every field */
    uint32_t max_flows;             /* session table bound (default 65536) */
    uint32_t tcp_syn_timeout_ms;    /* handshake not finished (default 30 s) */
    uint32_t tcp_established_timeout_ms; /* default 3600 s */
    uint32_t tcp_closed_timeout_ms; /* after FIN both ways or RST (default 10 s) */
    uint32_t udp_timeout_ms;        /* default 60 s */
    uint32_t icmp_timeout_ms;       /* default 30 s */
    uint32_t max_frag_bytes;        /* reassembly memory bound (default 4 MiB) */
    uint32_t max_inspect;           /* flows inspected at once (default 4096); when
                                     * all are taken, one idle 5 s is decided on
                                     * what it has and its slot reused; a flow
                                     * that still finds none stays "unknown" */
    uint32_t inspect_packets;       /* give up naming after this many payload
                                     * packets of a flow (default 16) */
} vg_net_config;

/* The state of a flow (vg_net_flow.state). */
enum vg_net_state {
    VG_NET_ST_NEW = 0,        /* UDP/ICMP: one direction seen */
    VG_NET_ST_SYN = 1,        /* TCP: SYN seen, handshake not finished */
    VG_NET_ST_ESTABLISHED = 2,/* TCP handshake done, or data seen; UDP/ICMP answered */
    VG_NET_ST_CLOSING = 3,    /* TCP: FIN seen in one direction */
    VG_NET_ST_CLOSED = 4,     /* TCP: FIN both ways, or RST */
};

/* Why a flow ended (flow_end's reason). */
enum vg_net_end {
    VG_NET_END_CLOSED = 0,    /* FIN both ways or RST, then the closed timeout */
    VG_NET_END_TIMEOUT = 1,   /* idle longer than its state's timeout */
    VG_NET_END_EVICTED = 2,   /* the table was full and a new flow needed room */
    VG_NET_END_FLUSH = 3,     /* vg_net_flush (end of a capture file, shutdown) */
};

typedef struct vg_net_kv { const char *key, *value; } vg_net_kv; /* "tls.sni" = "example.com" */

typedef struct vg_net_flow {          /* a view, valid only during the callback */
    uint64_t id;                      /* unique per engine, from 1 */
    uint32_t source;                  /* the capture source id given to vg_net_feed */
    int family;                       /* AF_INET or AF_INET6 */
    uint8_t l4;                       /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
    uint8_t client[16], server[16];   /* IPv4 in the first 4 bytes */
    uint16_t client_port, server_port;/* host order; 0 for ICMP */
    const char *app;                  /* lower-case: "http", "tls", ..., "unknown" */
    uint64_t first_us, last_us;
    uint64_t pkts[2], bytes[2];       /* [0] client->server, [1] server->client (IP bytes) */
    int state;                        /* enum vg_net_state */
    const vg_net_kv *fields; size_t nfields; /* protocol fields known so far */
} vg_net_flow;

/* One decoded packet, for observers such as threat detectors (rates, flags,
 * windows, payloads). A view, valid only during the callback. */
typedef struct vg_net_pkt {
    uint32_t source;
    uint64_t ts_us;
    int family;
    uint8_t l4;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;            /* host order; ICMP: type, code */
    uint8_t tcp_flags;                /* VG_NET_TCP_* */
    uint16_t tcp_window;              /* as advertised (unscaled) */
    uint16_t tcp_mss;                 /* MSS option, 0 when absent */
    uint32_t ip_len;                  /* IP datagram length (after reassembly) */
    int reassembled;                  /* 1: rebuilt from fragments */
    const uint8_t *payload; uint32_t payload_len; /* L4 payload as captured */
    const vg_net_flow *flow;          /* its flow (after the update), NULL if none */
    int dir;                          /* 0 client->server, 1 server->client */
} vg_net_pkt;

#define VG_NET_TCP_FIN 0x01
#define VG_NET_TCP_SYN 0x02
#define VG_NET_TCP_RST 0x04
#define VG_NET_TCP_PSH 0x08
#define VG_NET_TCP_ACK 0x10
#define VG_NET_TCP_URG 0x20

typedef struct vg_net_sink {          /* every callback optional; called from feed/expire/flush */
    void *arg;
    void (*flow_start)(void *arg, const vg_net_flow *f);      /* a new flow, direction decided */
    /* application named or given up; the fields of the bytes that named it
     * are there (more may come by flow_end) */
    void (*flow_app)(void *arg, const vg_net_flow *f);
    void (*flow_end)(void *arg, const vg_net_flow *f, int reason); /* enum vg_net_end */
    void (*dns_answer)(void *arg, uint32_t source, const char *name, int family,
                       const uint8_t *addr, uint32_t ttl);    /* for peers named by DNS */
    /* Every decoded IP packet, after its flow was updated. */
    void (*packet)(void *arg, const vg_net_pkt *p);
    /* An anomaly seen by the decoder or a parser: id is a static string
     * ("bad-packet", "ip-teardrop", "dns-loop-pointer", "dns-overflow", ...);
     * f may be NULL (no flow yet); pkt/len are the frame that showed it. */
    void (*anomaly)(void *arg, uint32_t source, const vg_net_flow *f, const char *id,
                    const uint8_t *pkt, uint32_t len);
} vg_net_sink;

typedef struct vg_net_stats {
    uint64_t packets, bytes;          /* frames given to vg_net_feed */
    uint64_t malformed;               /* dropped: truncated, bad lengths, bad headers */
    uint64_t unsupported;             /* dropped: not IP, unknown link type, other L4 */
    uint64_t fragments;               /* IP fragments received */
    uint64_t reassembled;             /* datagrams rebuilt from fragments */
    uint64_t frag_dropped;            /* fragments dropped: bound, overlap, timeout */
    uint64_t flows;                   /* flows in the table now */
    uint64_t flows_total;             /* flows created */
    uint64_t evicted;                 /* flows ended to make room (table full) */
    uint64_t timed_out;               /* flows ended by their state's timeout */
    uint64_t tcp_out_of_order;        /* segments buffered ahead of a hole */
    uint64_t inspect_full;            /* flows not inspected: no inspection slot */
    uint64_t identified, unknown;     /* flows named / given up as "unknown" */
    uint64_t table_bytes;             /* memory reserved by the tables */
    uint64_t inspect_reclaimed;       /* slots taken from flows idle 5 s mid-inspection */
} vg_net_stats;

/* NULL on error with -errno in errno. cfg and sink may be NULL; both are copied. */
vg_net_engine *vg_net_engine_new(const vg_net_config *cfg, const vg_net_sink *sink);
/* One captured frame. 0, or -errno: -EINVAL for a bad argument, -EPROTO for a
 * malformed packet, -EPROTONOSUPPORT for an unsupported one (all counted). */
int  vg_net_feed(vg_net_engine *e, int dlt, uint64_t ts_us, const uint8_t *pkt,
                 uint32_t caplen, uint32_t wirelen, uint32_t source);
/* Ends flows idle beyond their state's timeout at now_us (flow_end TIMEOUT or
 * CLOSED) and drops stale fragments. Call it every second or so. */
void vg_net_expire(vg_net_engine *e, uint64_t now_us);
/* Ends every flow (flow_end FLUSH, an unnamed flow gets flow_app "unknown"
 * first). The engine stays usable. */
void vg_net_flush(vg_net_engine *e);
/* Calls cb on every flow in the table; returns their number. */
int  vg_net_flows_each(vg_net_engine *e, void (*cb)(void *arg, const vg_net_flow *f), void *arg);
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
