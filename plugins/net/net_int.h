/*
 * vgnet internals shared by decode/, flow/, proto/ and engine.c. Not for the
 * plugin: it sees engine.h only.
 */
#ifndef VIGIL_NET_INT_H
#define VIGIL_NET_INT_H

#include <stdint.h>
#include <stddef.h>

#include "engine.h"

/* ---- decoded packet (decode/) ---- */

typedef struct vg_l3 {
    int family; /* AF_INET / AF_INET6 */
    uint8_t src[16], dst[16];
    uint8_t l4;         /* upper protocol after extension headers */
    uint32_t ip_len;    /* whole datagram as the header says */
    const uint8_t *l4p; /* L4 header and payload, as captured */
    uint32_t l4len;     /* bytes available at l4p (captured and in datagram) */
    int reassembled;
    /* fragment, when this packet is one (decode/frag.c) */
    int is_frag;
    uint32_t frag_id;
    uint32_t frag_off; /* bytes */
    int frag_more;
} vg_l3;

typedef struct vg_l4 {
    uint16_t sport, dport;
    uint8_t flags; /* TCP */
    uint16_t window, mss;
    uint8_t wscale; /* 0x80 | shift when the option is present */
    uint32_t seq, ack;
    const uint8_t *data;
    uint32_t len;
} vg_l4;

/* ---- the engine ---- */

#define VG_FIELDS_MAX 320      /* per-flow field arena: "key\0value\0"... */
#define VG_FIELD_VALUE_MAX 128 /* longer values are cut */
#define VG_INSP_BUF 4096       /* per direction: the first bytes of a stream */
#define VG_INSP_RANGES 8       /* out-of-order segments held per direction */
#define VG_NKV 24              /* fields in one view */

/* The timeout classes: one LRU list each, so that the head of a list is its
 * next flow to expire. */
enum { VG_TC_SYN, VG_TC_EST, VG_TC_CLOSED, VG_TC_UDP, VG_TC_ICMP, VG_TC_N };

typedef struct vg_flow {
    uint64_t id; /* 0: free slot */
    uint64_t first_us, last_us;
    uint64_t pkts[2], bytes[2];
    uint8_t c[16], s[16]; /* client, server */
    uint16_t cport, sport;
    uint32_t source;
    uint8_t v6, l4, state, fin; /* fin: bit 0 client FIN, bit 1 server FIN */
    uint8_t named;              /* 1 once flow_app was given */
    uint8_t tclass;
    uint8_t app;           /* index in the app table, 0 = unknown */
    uint8_t proto;         /* registry index of the protocol that named it */
    uint8_t payload_pkts;  /* payload packets inspected */
    uint32_t hnext;        /* hash chain: slot + 1, 0 = end */
    uint32_t lprev, lnext; /* LRU list of its timeout class: slot + 1 */
    uint32_t insp;         /* inspection slot + 1, 0 = none */
    uint32_t isn[2];       /* first stream byte's sequence number per direction */
    uint8_t isn_set;       /* bit per direction */
    uint16_t flen;         /* bytes used in fields */
    char fields[VG_FIELDS_MAX];
} vg_flow;

typedef struct vg_insp_dir {
    uint32_t base; /* sequence number of buf[0] */
    uint8_t have_base;
    uint8_t nr;   /* ranges in r[] */
    uint16_t len; /* contiguous bytes from buf[0] */
    struct {
        uint16_t off, len;
    } r[VG_INSP_RANGES]; /* held beyond len */
    uint8_t buf[VG_INSP_BUF];
} vg_insp_dir;

typedef struct vg_insp {
    uint32_t flow; /* owner slot + 1, 0 = free */
    uint32_t next_free;
    uint64_t excluded; /* protocols ruled out (bit per registry index) */
    uint8_t proto;     /* registry index of the named protocol */
    uint8_t pstate[64] __attribute__((aligned(8))); /* the named protocol's own state */
    vg_insp_dir d[2];
} vg_insp;

struct vg_frag_pool;

struct vg_net_engine {
    vg_net_config cfg;
    vg_net_sink sink;
    vg_net_stats st;
    vg_flow *flows;    /* max_flows slots */
    uint32_t *buckets; /* nbuckets heads: slot + 1 */
    uint32_t nbuckets;
    uint32_t free_head;     /* freed flow slots through hnext */
    uint32_t flows_touched; /* slots [0, this) have been used: the rest are
                             * untouched zero pages, taken in order */
    uint32_t used;
    uint32_t lhead[VG_TC_N], ltail[VG_TC_N];
    uint64_t next_id;
    vg_insp *insp;
    uint32_t insp_free;    /* freed inspection slots: slot + 1 */
    uint32_t insp_touched; /* as flows_touched */
    uint32_t insp_cursor;  /* where the search for an idle slot goes on */
    struct vg_frag_pool *frag;
    uint64_t last_expire_us;
    uint64_t now_us;
    /* the view handed to callbacks */
    vg_net_flow view;
    vg_net_kv kv[VG_NKV];
    /* the frame being fed, for anomaly reports */
    const uint8_t *frame;
    uint32_t frame_len;
    uint32_t frame_source;
    struct vg_threat *th; /* threat detection state (threat/threat.c) */
};

/* decode/link.c: the IP packet inside a frame of link type dlt. Returns the
 * IP version (4 or 6) and sets *off, or -EPROTO / -EPROTONOSUPPORT. */
int vg_link_decode(int dlt, const uint8_t *p, uint32_t caplen, uint32_t *off);

/* decode/ip.c: IPv4/IPv6 header and extension headers. 0 or -EPROTO /
 * -EPROTONOSUPPORT. */
int vg_ip_decode(int version, const uint8_t *p, uint32_t caplen, vg_l3 *out);
/* decode/l4.c: TCP / UDP / ICMP header of a whole (or reassembled) datagram. */
int vg_l4_decode(const vg_l3 *l3, vg_l4 *out);

/* decode/frag.c: bounded reassembly. vg_frag_add returns 1 when l3 now
 * describes a whole datagram (l4p points into the pool until the next call),
 * 0 when the fragment was kept, -errno when dropped (counted). */
struct vg_frag_pool *vg_frag_new(uint32_t max_bytes);
void vg_frag_free(struct vg_frag_pool *p);
int vg_frag_add(vg_net_engine *e, vg_l3 *l3);
void vg_frag_expire(struct vg_frag_pool *p, uint64_t now_us, uint64_t *dropped);
size_t vg_frag_bytes(const struct vg_frag_pool *p);
/* Datagrams in reassembly. */
uint32_t vg_frag_held(const struct vg_frag_pool *p);

/* flow/table.c */
int vg_table_init(vg_net_engine *e);
void vg_table_free(vg_net_engine *e);
/* The flow of a packet, created if new (evicting if full); *dir is 0 when the
 * packet goes client->server. NULL when it cannot be had. */
vg_flow *vg_table_get(vg_net_engine *e, const vg_l3 *l3, const vg_l4 *l4, int *dir);
void vg_table_touch(vg_net_engine *e, vg_flow *f);
void vg_table_end(vg_net_engine *e, vg_flow *f, int reason);
void vg_table_expire(vg_net_engine *e, uint64_t now_us);
/* The timeout class of a flow's state changed: move it. */
void vg_table_reclass(vg_net_engine *e, vg_flow *f);
/* With no flow left, the pages a burst of flows wrote are given back. */
void vg_table_release(vg_net_engine *e);

/* flow/tcp.c: the TCP state machine of a flow. */
void vg_tcp_track(vg_net_engine *e, vg_flow *f, int dir, const vg_l4 *l4);

/* flow/inspect.c: naming and parsing on the first packets of a flow. */
int vg_insp_init(vg_net_engine *e);
void vg_insp_release(vg_net_engine *e, vg_flow *f);
/* With no flow left (so no slot held): every slot untouched again. */
void vg_insp_forget(vg_net_engine *e);
void vg_inspect(vg_net_engine *e, vg_flow *f, int dir, const vg_l4 *l4);
void vg_flow_name(vg_net_engine *e, vg_flow *f, int app);
void vg_inspect_final(vg_net_engine *e, vg_flow *f);

/* engine.c */
const vg_net_flow *vg_flow_view(vg_net_engine *e, const vg_flow *f);
void vg_anomaly(vg_net_engine *e, const vg_flow *f, const char *id);
static inline uint32_t vg_slot(const vg_net_engine *e, const vg_flow *f)
{
    return (uint32_t)(f - e->flows);
}

/* flow/fields.c: the per-flow field arena. */
void vg_field_add(vg_flow *f, const char *key, const uint8_t *val, size_t len);
int vg_field_has(const vg_flow *f, const char *key);
size_t vg_fields_view(const vg_flow *f, vg_net_kv *kv, size_t max);

#endif
