/*
 * The session table: a fixed array of max_flows slots, a hash of chains over
 * it (symmetric, so both directions find the same flow), and one LRU list per
 * timeout class, so that expiry looks only at list heads and a full table
 * evicts the least recently seen flow. Nothing is allocated after init.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../net_int.h"
#include "lazymem.h"
#include "../threat/threat.h"

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t endpoint_hash(const uint8_t *a, int alen, uint16_t port)
{
    uint64_t h = port;
    for (int i = 0; i < alen; i += 4) {
        uint32_t w;
        memcpy(&w, a + i, 4);
        h = mix(h ^ w);
    }
    return h;
}

/* Symmetric: the sum of the two endpoints' hashes. */
static uint32_t flow_hash(const vg_net_engine *e, const uint8_t *a, uint16_t ap, const uint8_t *b,
                          uint16_t bp, int v6, uint8_t l4, uint32_t src)
{
    int alen = v6 ? 16 : 4;
    uint64_t h = endpoint_hash(a, alen, ap) + endpoint_hash(b, alen, bp);
    h = mix(h ^ ((uint64_t)l4 << 32) ^ src);
    return (uint32_t)h & (e->nbuckets - 1);
}

static uint64_t timeout_us(const vg_net_engine *e, int tclass)
{
    const vg_net_config *c = &e->cfg;
    uint32_t ms[VG_TC_N] = {c->tcp_syn_timeout_ms, c->tcp_established_timeout_ms,
                            c->tcp_closed_timeout_ms, c->udp_timeout_ms, c->icmp_timeout_ms};
    return (uint64_t)ms[tclass] * 1000;
}

static int class_of(const vg_flow *f)
{
    if (f->l4 == IPPROTO_TCP) {
        if (f->state == VG_NET_ST_CLOSED)
            return VG_TC_CLOSED;
        return f->state == VG_NET_ST_SYN ? VG_TC_SYN : VG_TC_EST;
    }
    return f->l4 == IPPROTO_UDP ? VG_TC_UDP : VG_TC_ICMP;
}

static vg_flow *at(vg_net_engine *e, uint32_t idx1)
{
    return idx1 ? &e->flows[idx1 - 1] : NULL;
}

static void lru_unlink(vg_net_engine *e, vg_flow *f)
{
    uint32_t self = vg_slot(e, f) + 1;
    vg_flow *p = at(e, f->lprev), *n = at(e, f->lnext);
    if (p)
        p->lnext = f->lnext;
    else if (e->lhead[f->tclass] == self)
        e->lhead[f->tclass] = f->lnext;
    if (n)
        n->lprev = f->lprev;
    else if (e->ltail[f->tclass] == self)
        e->ltail[f->tclass] = f->lprev;
    f->lprev = f->lnext = 0;
}

static void lru_append(vg_net_engine *e, vg_flow *f)
{
    uint32_t self = vg_slot(e, f) + 1;
    int c = f->tclass;
    f->lprev = e->ltail[c];
    f->lnext = 0;
    if (e->ltail[c])
        at(e, e->ltail[c])->lnext = self;
    else
        e->lhead[c] = self;
    e->ltail[c] = self;
}

void vg_table_touch(vg_net_engine *e, vg_flow *f)
{
    if (e->ltail[f->tclass] == vg_slot(e, f) + 1)
        return;
    lru_unlink(e, f);
    lru_append(e, f);
}

void vg_table_reclass(vg_net_engine *e, vg_flow *f)
{
    int c = class_of(f);
    if (c == f->tclass)
        return;
    lru_unlink(e, f);
    f->tclass = (uint8_t)c;
    lru_append(e, f);
}

int vg_table_init(vg_net_engine *e)
{
    uint32_t n = 1;
    while (n < e->cfg.max_flows && n < (1u << 30))
        n <<= 1;
    e->nbuckets = n;
    /* Pages that cost memory once written (lazymem.h), and slots taken in
     * order (freed ones first): a slot costs memory once it is used. */
    e->flows = vg_lazy_calloc(e->cfg.max_flows, sizeof(vg_flow));
    e->buckets = vg_lazy_calloc(n, sizeof(uint32_t));
    if (!e->flows || !e->buckets)
        return -ENOMEM;
    e->st.table_bytes = (uint64_t)e->cfg.max_flows * sizeof(vg_flow) + (uint64_t)n * 4;
    return 0;
}

void vg_table_free(vg_net_engine *e)
{
    vg_lazy_free(e->flows, e->cfg.max_flows, sizeof(vg_flow));
    vg_lazy_free(e->buckets, e->nbuckets, sizeof(uint32_t));
}

/* What a few flows cost stays; a burst's pages go back once it is over. */
#define RELEASE_BYTES (1u << 20)

void vg_table_release(vg_net_engine *e)
{
    uint64_t held =
        (uint64_t)e->flows_touched * sizeof(vg_flow) + (uint64_t)e->insp_touched * sizeof(vg_insp);
    if (e->used || held < RELEASE_BYTES)
        return;
    /* No flow: every chain and list is empty, no inspection slot is held,
     * and the threat records are stale (keyed by flow id). */
    vg_lazy_zero(e->flows, e->cfg.max_flows, sizeof(vg_flow));
    vg_lazy_zero(e->buckets, e->nbuckets, sizeof(uint32_t));
    e->flows_touched = 0;
    e->free_head = 0;
    vg_insp_forget(e);
    vg_threat_forget(e);
}

static int matches(const vg_flow *f, const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp,
                   int alen)
{
    return f->cport == ap && f->sport == bp && !memcmp(f->c, a, alen) && !memcmp(f->s, b, alen);
}

static void hash_unlink(vg_net_engine *e, vg_flow *f)
{
    uint32_t h = flow_hash(e, f->c, f->cport, f->s, f->sport, f->v6, f->l4, f->source);
    uint32_t self = vg_slot(e, f) + 1;
    for (uint32_t *pp = &e->buckets[h]; *pp; pp = &at(e, *pp)->hnext)
        if (*pp == self) {
            *pp = f->hnext;
            break;
        }
}

void vg_table_end(vg_net_engine *e, vg_flow *f, int reason)
{
    vg_inspect_final(e, f);
    if (!f->named)
        vg_flow_name(e, f, 0);
    if (e->sink.flow_end)
        e->sink.flow_end(e->sink.arg, vg_flow_view(e, f), reason);
    vg_insp_release(e, f);
    vg_threat_flow_end(e, f);
    hash_unlink(e, f);
    lru_unlink(e, f);
    memset(f, 0, offsetof(vg_flow, fields));
    f->hnext = e->free_head;
    e->free_head = vg_slot(e, f) + 1;
    e->used--;
    e->st.flows = e->used;
}

/* The least recently seen flow of all classes. */
static vg_flow *oldest(vg_net_engine *e)
{
    vg_flow *best = NULL;
    for (int c = 0; c < VG_TC_N; c++) {
        vg_flow *f = at(e, e->lhead[c]);
        if (f && (!best || f->last_us < best->last_us))
            best = f;
    }
    return best;
}

static vg_flow *create(vg_net_engine *e, const vg_l3 *l3, const vg_l4 *l4, int swap, uint32_t h)
{
    if (!e->free_head && e->flows_touched == e->cfg.max_flows) {
        vg_flow *victim = oldest(e);
        if (!victim)
            return NULL;
        e->st.evicted++;
        vg_table_end(e, victim, VG_NET_END_EVICTED);
    }
    vg_flow *f;
    if (e->free_head) {
        f = at(e, e->free_head);
        e->free_head = f->hnext;
    } else {
        f = &e->flows[e->flows_touched++];
    }
    memset(f, 0, offsetof(vg_flow, fields));
    f->flen = 0;
    int alen = l3->family == AF_INET6 ? 16 : 4;
    memcpy(f->c, swap ? l3->dst : l3->src, alen);
    memcpy(f->s, swap ? l3->src : l3->dst, alen);
    f->cport = swap ? l4->dport : l4->sport;
    f->sport = swap ? l4->sport : l4->dport;
    f->v6 = l3->family == AF_INET6;
    f->l4 = l3->l4;
    f->source = e->frame_source;
    f->id = ++e->next_id;
    f->first_us = f->last_us = e->now_us;
    f->state = l3->l4 == IPPROTO_TCP ? VG_NET_ST_SYN : VG_NET_ST_NEW;
    if (l3->l4 == IPPROTO_TCP && !(l4->flags & VG_NET_TCP_SYN))
        f->state = VG_NET_ST_ESTABLISHED; /* picked up mid-stream */
    f->tclass = (uint8_t)class_of(f);
    f->hnext = e->buckets[h];
    e->buckets[h] = vg_slot(e, f) + 1;
    lru_append(e, f);
    e->used++;
    e->st.flows = e->used;
    e->st.flows_total++;
    vg_threat_flow_start(e, f);
    if (e->sink.flow_start)
        e->sink.flow_start(e->sink.arg, vg_flow_view(e, f));
    return f;
}

vg_flow *vg_table_get(vg_net_engine *e, const vg_l3 *l3, const vg_l4 *l4, int *dir)
{
    int v6 = l3->family == AF_INET6, alen = v6 ? 16 : 4;
    uint32_t h = flow_hash(e, l3->src, l4->sport, l3->dst, l4->dport, v6, l3->l4, e->frame_source);
    for (vg_flow *f = at(e, e->buckets[h]); f; f = at(e, f->hnext)) {
        if (f->l4 != l3->l4 || f->v6 != v6 || f->source != e->frame_source)
            continue;
        if (matches(f, l3->src, l4->sport, l3->dst, l4->dport, alen)) {
            *dir = 0;
            return f;
        }
        if (matches(f, l3->dst, l4->dport, l3->src, l4->sport, alen)) {
            *dir = 1;
            return f;
        }
    }
    /* The client is the sender of the first packet, except of a SYN-ACK. */
    int swap = l3->l4 == IPPROTO_TCP &&
               (l4->flags & (VG_NET_TCP_SYN | VG_NET_TCP_ACK)) == (VG_NET_TCP_SYN | VG_NET_TCP_ACK);
    *dir = swap;
    return create(e, l3, l4, swap, h);
}

void vg_table_expire(vg_net_engine *e, uint64_t now_us)
{
    for (int c = 0; c < VG_TC_N; c++) {
        uint64_t to = timeout_us(e, c);
        vg_flow *f;
        while ((f = at(e, e->lhead[c])) && f->last_us + to <= now_us) {
            e->st.timed_out += c != VG_TC_CLOSED;
            vg_table_end(e, f, c == VG_TC_CLOSED ? VG_NET_END_CLOSED : VG_NET_END_TIMEOUT);
        }
    }
}
