/*
 * Inspection: the first packets of a flow, both directions, go through the
 * protocol detectors until one names the flow or all give up; then the named
 * protocol's parser takes fields from them. A flow holds an inspection slot
 * (two VG_INSP_BUF stream buffers) only while this lasts; slots come from a
 * fixed pool (max_inspect). TCP segments are placed by sequence number, so
 * that retransmissions and segments out of order still give the detectors
 * the stream as the application wrote it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/proto.h"
#include "lazymem.h"
#include "registry.h"

int vg_insp_init(vg_net_engine *e)
{
    vg_registry_init();
    /* Pages that cost memory once written (lazymem.h), and slots taken in
     * order (freed ones first): a slot costs memory once it is used. */
    e->insp = vg_lazy_calloc(e->cfg.max_inspect, sizeof(vg_insp));
    if (!e->insp)
        return -ENOMEM;
    e->st.table_bytes += (uint64_t)e->cfg.max_inspect * sizeof(vg_insp);
    return 0;
}

#define INSP_IDLE_US (5ull * 1000000) /* a flow this quiet may lose its slot */
#define INSP_PROBES 8                 /* slots looked at for one, at most */

/* With every slot taken, the slot of a flow idle INSP_IDLE_US (one side that
 * never answers, a slow sender) goes to the new flow: the idle one is
 * decided on what it had. A few slots are looked at, so the work is bounded. */
static uint32_t reclaim(vg_net_engine *e)
{
    for (int k = 0; k < INSP_PROBES; k++) {
        uint32_t i = e->insp_cursor++ % e->cfg.max_inspect;
        vg_insp *s = &e->insp[i];
        vg_flow *g = s->flow ? &e->flows[s->flow - 1] : NULL; /* all are taken here */
        if (g && g->last_us + INSP_IDLE_US <= e->now_us) {
            vg_inspect_final(e, g);
            vg_insp_release(e, g);
            e->st.inspect_reclaimed++;
            return e->insp_free;
        }
    }
    return 0;
}

static vg_insp *insp_get(vg_net_engine *e, vg_flow *f)
{
    if (f->insp)
        return &e->insp[f->insp - 1];
    uint32_t i;
    if (e->insp_free)
        i = e->insp_free;
    else if (e->insp_touched < e->cfg.max_inspect)
        i = ++e->insp_touched;
    else if (!(i = reclaim(e)))
        return NULL;
    vg_insp *s = &e->insp[i - 1];
    if (i == e->insp_free)
        e->insp_free = s->next_free;
    s->flow = vg_slot(e, f) + 1;
    s->excluded = 0;
    s->proto = 0;
    memset(s->pstate, 0, sizeof(s->pstate));
    for (int d = 0; d < 2; d++) {
        s->d[d].have_base = 0;
        s->d[d].nr = 0;
        s->d[d].len = 0;
    }
    f->insp = i;
    return s;
}

void vg_insp_forget(vg_net_engine *e)
{
    vg_lazy_zero(e->insp, e->cfg.max_inspect, sizeof(vg_insp));
    e->insp_free = 0;
    e->insp_touched = 0;
    e->insp_cursor = 0;
}

void vg_insp_release(vg_net_engine *e, vg_flow *f)
{
    if (!f->insp)
        return;
    vg_insp *s = &e->insp[f->insp - 1];
    s->flow = 0;
    s->next_free = e->insp_free;
    e->insp_free = f->insp;
    f->insp = 0;
}

/* Names a flow without telling the sink yet: its parser runs first, so that
 * flow_app comes with the fields of the bytes that named it. */
static void set_name(vg_net_engine *e, vg_flow *f, int app)
{
    f->app = (uint8_t)app;
    f->named = 1;
    if (app)
        e->st.identified++;
    else
        e->st.unknown++;
}

static void announce(vg_net_engine *e, vg_flow *f)
{
    if (e->sink.flow_app)
        e->sink.flow_app(e->sink.arg, vg_flow_view(e, f));
}

void vg_flow_name(vg_net_engine *e, vg_flow *f, int app)
{
    set_name(e, f, app);
    announce(e, f);
}

/* Pulls held segments that the contiguous prefix now reaches. */
static void absorb(vg_insp_dir *d)
{
    for (int moved = 1; moved;) {
        moved = 0;
        for (int i = 0; i < d->nr; i++) {
            if (d->r[i].off > d->len)
                continue;
            uint32_t end = (uint32_t)d->r[i].off + d->r[i].len;
            if (end > d->len)
                d->len = (uint16_t)end;
            d->r[i] = d->r[--d->nr];
            moved = 1;
            break;
        }
    }
}

static void tcp_place(vg_net_engine *e, vg_flow *f, vg_insp_dir *d, int dir, const vg_l4 *l4)
{
    if (!d->have_base) {
        d->base = (f->isn_set & (1u << dir)) ? f->isn[dir] : l4->seq;
        d->have_base = 1;
    }
    uint32_t off = l4->seq - d->base, n = l4->len;
    const uint8_t *p = l4->data;
    if (off > 0x80000000u) { /* starts before base: keep the part after it */
        uint32_t skip = -off;
        if (skip >= n)
            return;
        p += skip;
        n -= skip;
        off = 0;
    }
    if (off >= VG_INSP_BUF)
        return;
    if (n > VG_INSP_BUF - off)
        n = VG_INSP_BUF - off;
    if (off + n <= d->len)
        return; /* retransmission of bytes held */
    if (off > d->len) {
        if (d->nr >= VG_INSP_RANGES)
            return;
        memcpy(d->buf + off, p, n);
        d->r[d->nr].off = (uint16_t)off;
        d->r[d->nr].len = (uint16_t)n;
        d->nr++;
        e->st.tcp_out_of_order++;
        return;
    }
    memcpy(d->buf + off, p, n);
    d->len = (uint16_t)(off + n);
    absorb(d);
}

static void ctx_fill(vg_pctx *c, vg_net_engine *e, vg_flow *f, vg_insp *s, int dir)
{
    memset(c, 0, sizeof(*c));
    c->e = e;
    c->f = f;
    c->l4 = f->l4;
    c->dir = dir;
    c->state = s->pstate;
    for (int d = 0; d < 2; d++) {
        c->data[d] = s->d[d].buf;
        c->len[d] = s->d[d].len;
        c->full[d] = f->l4 == IPPROTO_TCP && s->d[d].len >= VG_INSP_BUF;
    }
}

/* One round of the detectors; 1 when the flow got a name (or was given up),
 * not announced yet. */
static int detect_round(vg_net_engine *e, vg_flow *f, vg_insp *s, vg_pctx *c)
{
    size_t n = vg_proto_count();
    int left = 0;
    for (size_t i = 0; i < n; i++) {
        const vg_net_proto *p = vg_proto_at(i);
        if ((s->excluded >> i) & 1)
            continue;
        if (!(f->l4 == IPPROTO_TCP ? p->tcp : p->udp)) {
            s->excluded |= 1ull << i;
            continue;
        }
        c->as = NULL;
        int r = p->detect(c);
        if (r == VG_P_YES) {
            s->proto = f->proto = (uint8_t)i;
            memset(s->pstate, 0, sizeof(s->pstate));
            set_name(e, f, c->as ? vg_app_index(c->as) : vg_proto_app(i));
            return 1;
        }
        if (r == VG_P_NO || c->final)
            s->excluded |= 1ull << i;
        else
            left++;
    }
    if (left)
        return 0;
    set_name(e, f, 0);
    return 1;
}

/* The named protocol's parser; 1 when it wants no more. */
static int parse(vg_insp *s, vg_pctx *c)
{
    const vg_net_proto *p = vg_proto_at(s->proto);
    return !p->parse || p->parse(c);
}

/* A datagram of a named UDP flow, parsed where it lies. */
static void udp_parse_in_place(vg_net_engine *e, vg_flow *f, int dir, const vg_l4 *l4)
{
    const vg_net_proto *p = vg_proto_at(f->proto);
    if (!p->parse)
        return;
    uint8_t state[64] __attribute__((aligned(8))) = {0};
    vg_pctx c = {.e = e, .f = f, .l4 = f->l4, .dir = dir, .state = state};
    c.data[0] = c.data[1] = l4->data;
    c.len[dir] = l4->len < VG_INSP_BUF ? l4->len : VG_INSP_BUF;
    p->parse(&c);
}

void vg_inspect(vg_net_engine *e, vg_flow *f, int dir, const vg_l4 *l4)
{
    if (f->l4 == IPPROTO_TCP && (l4->flags & VG_NET_TCP_SYN)) {
        f->isn[dir] = l4->seq + 1;
        f->isn_set |= (uint8_t)(1u << dir);
    }
    if (f->l4 != IPPROTO_TCP && f->l4 != IPPROTO_UDP) {
        if (!f->named)
            vg_flow_name(e, f, 0);
        return;
    }
    if (!l4->len)
        return;
    if (f->named && !f->insp) {
        if (f->l4 == IPPROTO_UDP && f->app && f->payload_pkts < e->cfg.inspect_packets) {
            f->payload_pkts++;
            udp_parse_in_place(e, f, dir, l4);
        }
        return;
    }
    vg_insp *s = insp_get(e, f);
    if (!s) {
        e->st.inspect_full++;
        if (!f->named)
            vg_flow_name(e, f, 0);
        return;
    }
    vg_insp_dir *d = &s->d[dir];
    if (f->l4 == IPPROTO_TCP) {
        tcp_place(e, f, d, dir, l4);
    } else {
        uint32_t n = l4->len < VG_INSP_BUF ? l4->len : VG_INSP_BUF;
        memcpy(d->buf, l4->data, n);
        d->len = (uint16_t)n;
    }
    f->payload_pkts++;
    int last = f->payload_pkts >= e->cfg.inspect_packets ||
               (f->l4 == IPPROTO_TCP && s->d[0].len >= VG_INSP_BUF && s->d[1].len >= VG_INSP_BUF);
    vg_pctx c;
    ctx_fill(&c, e, f, s, dir);
    c.final = last;
    int fresh = !f->named;
    if (fresh && !detect_round(e, f, s, &c))
        return;
    /* A UDP parser reads one datagram at a time: it needs no slot. */
    int done = !f->app || parse(s, &c) || last || f->l4 == IPPROTO_UDP;
    if (fresh)
        announce(e, f);
    if (done)
        vg_insp_release(e, f);
}

/* A flow that ends while still being inspected gets a last round. */
void vg_inspect_final(vg_net_engine *e, vg_flow *f)
{
    if (!f->insp)
        return;
    vg_insp *s = &e->insp[f->insp - 1];
    vg_pctx c;
    ctx_fill(&c, e, f, s, 0);
    c.final = 1;
    int fresh = !f->named;
    if (fresh)
        detect_round(e, f, s, &c); /* final: it decides */
    if (f->app)
        parse(s, &c);
    if (fresh)
        announce(e, f);
}

/* Helpers for protocol files. */
void vg_p_field(vg_pctx *c, const char *key, const uint8_t *val, size_t len)
{
    vg_field_add(c->f, key, val, len);
}

void vg_p_field_str(vg_pctx *c, const char *key, const char *val)
{
    vg_field_add(c->f, key, (const uint8_t *)val, strlen(val));
}

void vg_p_field_u(vg_pctx *c, const char *key, unsigned long v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%lu", v);
    vg_field_add(c->f, key, (const uint8_t *)b, (size_t)n);
}

void vg_p_anomaly(vg_pctx *c, const char *id)
{
    vg_anomaly(c->e, c->f, id);
}

void vg_p_dns_answer(vg_pctx *c, const char *name, int family, const uint8_t *addr, uint32_t ttl)
{
    if (c->e->sink.dns_answer)
        c->e->sink.dns_answer(c->e->sink.arg, c->f->source, name, family, addr, ttl);
}
