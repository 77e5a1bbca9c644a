/*
 * icmp-tunnel: ICMP echo used as a carrier (ptunnel, icmptunnel, ICMP
 * shells). An echo packet counts as tunnel-like when a reply does not
 * return the payload of its request (a normal host echoes it unchanged),
 * or when a large payload is random (high entropy, not ping's counting
 * pattern) and its length changes from packet to packet (ping's does not).
 * icmp_tunnel_packets of them in one ICMP flow are reported.
 */
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>

#include "../proto/proto.h"
#include "threat.h"

double vg_entropy(const uint8_t *p, size_t n)
{
    if (!n)
        return 0;
    uint32_t h[256] = {0};
    for (size_t i = 0; i < n; i++)
        h[p[i]]++;
    double e = 0;
    for (int i = 0; i < 256; i++)
        if (h[i]) {
            double q = (double)h[i] / (double)n;
            e -= q * log2(q);
        }
    return e;
}

static uint32_t hash(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* ping's payload counts up byte by byte (Linux: 0x10, 0x11, ...; Windows:
 * "abcdefg..."). */
static int counting(const uint8_t *p, uint32_t n)
{
    uint32_t up = 0;
    for (uint32_t i = 1; i < n; i++)
        up += p[i] == (uint8_t)(p[i - 1] + 1);
    return up * 2 >= n;
}

static int random_payload(const uint8_t *p, uint32_t n)
{
    double max = log2(n < 256 ? (double)n : 256.0);
    return !counting(p, n) && vg_entropy(p, n) >= 0.75 * max;
}

void vg_thr_icmp(const vg_tpkt *p)
{
    if (!vg_threat_on(p, VG_NET_T_ICMP_TUNNEL) || p->len < 4)
        return;
    uint8_t type = p->l3->l4p[0];
    int v6 = p->f->l4 == IPPROTO_ICMPV6;
    int request = type == (v6 ? 128 : 8), reply = type == (v6 ? 129 : 0);
    if (!request && !reply)
        return;
    vg_tflow *t = p->t;
    uint16_t idseq = (uint16_t)(vg_be16(p->data) ^ vg_be16(p->data + 2));
    const uint8_t *pl = p->data + 4;
    uint32_t n = p->len - 4;
    uint32_t h = hash(pl, n);
    int suspect = 0;
    if (request) {
        t->icmp_hash = h;
        t->icmp_seq = idseq;
    } else if (t->icmp_seq == idseq && t->icmp_hash && t->icmp_hash != h) {
        suspect = 1; /* the reply does not echo its request */
    }
    if (n >= p->conf->icmp_tunnel_payload && n != t->icmp_len && t->icmp_len &&
        random_payload(pl, n))
        suspect = 1;
    t->icmp_len = (uint16_t)n;
    if (!suspect)
        return;
    if (t->icmp_suspect < 255)
        t->icmp_suspect++;
    if (t->icmp_suspect >= p->conf->icmp_tunnel_packets) {
        char d[80];
        snprintf(d, sizeof(d), "%u echo packets carrying data that is not an echo",
                 t->icmp_suspect);
        vg_threat_fire(p, VG_NET_T_ICMP_TUNNEL, d);
    }
}
