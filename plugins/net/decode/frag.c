/*
 * IP fragment reassembly (IPv4 and IPv6), bounded: a fixed number of
 * datagrams in reassembly at once (max_frag_bytes / 64 KiB), each at most
 * 65,535 bytes and 32 fragments, 30 s to complete. Overlapping fragments
 * whose bytes differ (teardrop) and datagrams that would exceed 65,535 bytes
 * (ping of death) are reported and dropped; an exact duplicate is ignored.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../net_int.h"
#include "lazymem.h"

#define FRAG_DGRAM_MAX 65535u
#define FRAG_RANGES 32
#define FRAG_TIMEOUT_US (30ull * 1000000)

typedef struct frag_slot {
    int used;
    int family;
    uint8_t src[16], dst[16];
    uint8_t l4;
    uint32_t id;
    uint64_t first_us;
    uint32_t total; /* known once the last fragment came; 0 before */
    int nr;
    struct {
        uint32_t off, len;
    } r[FRAG_RANGES]; /* sorted, merged */
    uint8_t buf[FRAG_DGRAM_MAX];
} frag_slot;

struct vg_frag_pool {
    uint32_t n;
    uint32_t nused; /* slots with a datagram in reassembly */
    frag_slot *s;
};

struct vg_frag_pool *vg_frag_new(uint32_t max_bytes)
{
    struct vg_frag_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->n = max_bytes / sizeof(frag_slot);
    if (p->n == 0)
        p->n = 1;
    /* Only slots in use cost memory (lazymem.h). */
    p->s = vg_lazy_calloc(p->n, sizeof(frag_slot));
    if (!p->s) {
        free(p);
        return NULL;
    }
    return p;
}

void vg_frag_free(struct vg_frag_pool *p)
{
    if (p) {
        vg_lazy_free(p->s, p->n, sizeof(frag_slot));
        free(p);
    }
}

uint32_t vg_frag_held(const struct vg_frag_pool *p)
{
    return p->nused;
}

size_t vg_frag_bytes(const struct vg_frag_pool *p)
{
    return (size_t)p->n * sizeof(frag_slot);
}

static int same(const frag_slot *s, const vg_l3 *l3)
{
    size_t alen = l3->family == AF_INET ? 4 : 16;
    return s->used && s->family == l3->family && s->id == l3->frag_id && s->l4 == l3->l4 &&
           !memcmp(s->src, l3->src, alen) && !memcmp(s->dst, l3->dst, alen);
}

/* The slot of a datagram, a new one, or the oldest one reclaimed. */
static frag_slot *slot_for(vg_net_engine *e, const vg_l3 *l3)
{
    struct vg_frag_pool *p = e->frag;
    frag_slot *free_s = NULL, *old = NULL;
    for (uint32_t i = 0; i < p->n; i++) {
        frag_slot *s = &p->s[i];
        if (same(s, l3))
            return s;
        if (!s->used && !free_s)
            free_s = s;
        if (s->used && (!old || s->first_us < old->first_us))
            old = s;
    }
    if (!free_s) {
        e->st.frag_dropped++;
        free_s = old;
    }
    if (!free_s->used)
        p->nused++;
    memset(free_s, 0, offsetof(frag_slot, buf));
    free_s->used = 1;
    free_s->family = l3->family;
    memcpy(free_s->src, l3->src, 16);
    memcpy(free_s->dst, l3->dst, 16);
    free_s->l4 = l3->l4;
    free_s->id = l3->frag_id;
    free_s->first_us = e->now_us;
    return free_s;
}

/* 1: [off, off+len) overlaps held bytes that differ; duplicates are fine. */
static int overlap_differs(const frag_slot *s, uint32_t off, const uint8_t *d, uint32_t len)
{
    for (int i = 0; i < s->nr; i++) {
        uint32_t a = s->r[i].off > off ? s->r[i].off : off;
        uint32_t b = s->r[i].off + s->r[i].len < off + len ? s->r[i].off + s->r[i].len : off + len;
        if (a < b && memcmp(s->buf + a, d + (a - off), b - a))
            return 1;
    }
    return 0;
}

/* Inserts a range, merging neighbours. -1 when the list is full. */
static int add_range(frag_slot *s, uint32_t off, uint32_t len)
{
    uint32_t lo = off, hi = off + len;
    int k = 0;
    for (int i = 0; i < s->nr; i++) {
        uint32_t ro = s->r[i].off, rh = s->r[i].off + s->r[i].len;
        if (rh < lo || ro > hi) {
            s->r[k++] = s->r[i];
            continue;
        }
        lo = ro < lo ? ro : lo;
        hi = rh > hi ? rh : hi;
    }
    if (k >= FRAG_RANGES)
        return -1;
    int at = k;
    while (at > 0 && s->r[at - 1].off > lo) {
        s->r[at] = s->r[at - 1];
        at--;
    }
    s->r[at].off = lo;
    s->r[at].len = hi - lo;
    s->nr = k + 1;
    return 0;
}

static int drop(vg_net_engine *e, frag_slot *s, const char *anomaly)
{
    if (anomaly)
        vg_anomaly(e, NULL, anomaly);
    e->st.frag_dropped++;
    if (s && s->used) {
        s->used = 0;
        e->frag->nused--;
    }
    return -EPROTO;
}

int vg_frag_add(vg_net_engine *e, vg_l3 *l3)
{
    e->st.fragments++;
    uint32_t off = l3->frag_off, len = l3->l4len;
    int icmp = l3->l4 == IPPROTO_ICMP || l3->l4 == IPPROTO_ICMPV6;
    if (off + len > FRAG_DGRAM_MAX)
        return drop(e, NULL, icmp ? "ping-of-death" : "bad-packet");
    if (l3->frag_more && len % 8) {
        /* Only the last fragment may end off the 8-byte grid; like Linux,
         * keep the aligned part, and report the packet. */
        vg_anomaly(e, NULL, "bad-packet");
        len &= ~7u;
    }
    if (!len && l3->frag_more)
        return drop(e, NULL, NULL);
    frag_slot *s = slot_for(e, l3);
    if (overlap_differs(s, off, l3->l4p, len))
        return drop(e, s, "ip-teardrop");
    if (!l3->frag_more) {
        if (s->total && s->total != off + len)
            return drop(e, s, "bad-packet");
        s->total = off + len;
    }
    if (s->total && off + len > s->total)
        return drop(e, s, "bad-packet");
    memcpy(s->buf + off, l3->l4p, len);
    if (add_range(s, off, len) < 0)
        return drop(e, s, "bad-packet");
    if (!s->total || s->nr != 1 || s->r[0].off != 0 || s->r[0].len != s->total)
        return 0;
    s->used = 0;
    e->frag->nused--;
    e->st.reassembled++;
    l3->l4p = s->buf;
    l3->l4len = s->total;
    l3->ip_len = s->total + (l3->family == AF_INET ? 20 : 40);
    l3->reassembled = 1;
    l3->is_frag = 0;
    return 1;
}

void vg_frag_expire(struct vg_frag_pool *p, uint64_t now_us, uint64_t *dropped)
{
    for (uint32_t i = 0; i < p->n && p->nused; i++)
        if (p->s[i].used && p->s[i].first_us + FRAG_TIMEOUT_US < now_us) {
            p->s[i].used = 0;
            p->nused--;
            (*dropped)++;
        }
}
