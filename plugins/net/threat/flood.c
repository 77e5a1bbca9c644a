/*
 * Rate and count detectors: syn-flood (SYNs per second to one server
 * address), icmp-flood (echo requests per second to one address),
 * ip-session-limit (sessions open at once from one client address).
 *
 * They count in meters: a fixed table of counters keyed by a hash of (kind,
 * address, extra key), probed linearly over a few slots; a full
 * neighbourhood gives its stalest counter away. Rates count in fixed windows
 * (a window of 1 s for packets per second); gauges (window 0) go up and
 * down. A meter over its threshold reports at most once per period, as
 * NeuVector's do (every 3 s while it lasts).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lazymem.h"
#include "threat.h"

#define PROBE 8
#define REPORT_PERIOD_US 3000000ull

typedef struct meter_slot {
    uint64_t key;      /* 0: free */
    uint64_t start_us; /* the current window's start */
    uint64_t seen_us;  /* last use, for replacement */
    uint64_t reported_us;
    int64_t count;
} meter_slot;

struct vg_meter {
    uint32_t mask;
    meter_slot *s;
};

vg_meter *vg_meter_new(uint32_t slots)
{
    uint32_t n = 1;
    while (n < slots)
        n <<= 1;
    vg_meter *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->s = vg_lazy_calloc(n, sizeof(*m->s));
    if (!m->s) {
        free(m);
        return NULL;
    }
    m->mask = n - 1;
    return m;
}

void vg_meter_free(vg_meter *m)
{
    if (m) {
        vg_lazy_free(m->s, (size_t)m->mask + 1, sizeof(*m->s));
        free(m);
    }
}

static uint64_t key_of(uint32_t kind, const uint8_t *addr, const void *extra, size_t elen)
{
    uint64_t h = 0xcbf29ce484222325ull ^ kind; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < elen; i++)
        h = (h ^ ((const uint8_t *)extra)[i]) * 0x100000001b3ull;
    return h | 1;
}

static meter_slot *slot(vg_meter *m, uint64_t key, uint64_t now_us)
{
    meter_slot *stale = NULL;
    for (uint32_t i = 0; i < PROBE; i++) {
        meter_slot *s = &m->s[(key + i) & m->mask];
        if (s->key == key)
            return s;
        if (!s->key || !stale || (stale->key && s->seen_us < stale->seen_us))
            stale = s;
        if (!s->key)
            break;
    }
    memset(stale, 0, sizeof(*stale));
    stale->key = key;
    stale->start_us = now_us;
    return stale;
}

int64_t vg_meter_add(vg_meter *m, uint32_t kind, const uint8_t *addr, const void *extra,
                     size_t elen, uint64_t now_us, uint64_t window_us, int64_t n)
{
    meter_slot *s = slot(m, key_of(kind, addr, extra, elen), now_us);
    if (window_us && now_us - s->start_us >= window_us) {
        s->start_us = now_us;
        s->count = 0;
    }
    s->seen_us = now_us;
    s->count += n;
    if (s->count < 0)
        s->count = 0;
    return s->count;
}

int vg_meter_report(vg_meter *m, uint32_t kind, const uint8_t *addr, const void *extra, size_t elen,
                    uint64_t now_us, uint64_t period_us)
{
    meter_slot *s = slot(m, key_of(kind, addr, extra, elen), now_us);
    if (s->reported_us && now_us - s->reported_us < period_us)
        return 0;
    s->reported_us = now_us ? now_us : 1;
    return 1;
}

enum { K_SYN = 1, K_ICMP, K_SESSION, K_SESSION_REPORT };

static void rate(const vg_tpkt *p, uint32_t kind, int id, const uint8_t *dst, uint32_t limit,
                 const char *what)
{
    vg_meter *m = vg_threat_meter(p->e);
    uint64_t now = p->e->now_us;
    uint32_t src = p->f->source;
    int64_t n = vg_meter_add(m, kind, dst, &src, sizeof(src), now, 1000000, 1);
    if (n < limit || !vg_threat_on(p, id))
        return;
    if (!vg_meter_report(m, kind, dst, &src, sizeof(src), now, REPORT_PERIOD_US))
        return;
    char d[64];
    snprintf(d, sizeof(d), "%s above %u per second", what, limit);
    vg_threat_fire(p, id, d);
}

void vg_thr_flood(const vg_tpkt *p)
{
    if (p->f->l4 == IPPROTO_TCP) {
        if ((p->l4->flags & (VG_NET_TCP_SYN | VG_NET_TCP_ACK)) == VG_NET_TCP_SYN &&
            vg_threat_on(p, VG_NET_T_SYN_FLOOD))
            rate(p, K_SYN, VG_NET_T_SYN_FLOOD, p->l3->dst, p->conf->syn_flood_pps, "SYNs");
        return;
    }
    /* echo requests: ICMP type 8, ICMPv6 type 128 */
    uint8_t echo = p->f->l4 == IPPROTO_ICMP ? 8 : 128;
    if (p->l3->l4len >= 1 && p->l3->l4p[0] == echo && vg_threat_on(p, VG_NET_T_ICMP_FLOOD))
        rate(p, K_ICMP, VG_NET_T_ICMP_FLOOD, p->l3->dst, p->conf->icmp_flood_pps,
             "ICMP echo requests");
}

void vg_thr_session(vg_net_engine *e, vg_flow *f, int delta)
{
    vg_meter *m = vg_threat_meter(e);
    uint32_t src = f->source;
    int64_t n = vg_meter_add(m, K_SESSION, f->c, &src, sizeof(src), e->now_us, 0, delta);
    if (delta < 0)
        return;
    const vg_net_threat_conf *c = vg_threat_conf(e, f->source);
    if (n <= c->session_limit ||
        !vg_meter_report(m, K_SESSION_REPORT, f->c, &src, sizeof(src), e->now_us, REPORT_PERIOD_US))
        return;
    char d[64];
    snprintf(d, sizeof(d), "%lld sessions from one client, limit %u", (long long)n,
             c->session_limit);
    /* The flow's own record: the flow was just made. */
    vg_tpkt p = {.e = e, .conf = c, .f = f};
    vg_tflow dummy = {0};
    p.t = &dummy;
    vg_threat_fire(&p, VG_NET_T_IP_SESSION_LIMIT, d);
}
