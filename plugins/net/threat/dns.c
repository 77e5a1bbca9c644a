/*
 * DNS queries from the client: dns-zone-transfer (AXFR, IXFR), dns-null-type
 * (NULL records, iodine's default carrier) and dns-tunnel: names whose
 * labels are long, random-looking and digit-laden (encoded data), counted
 * per client and domain (the last two labels) within a window, and the
 * known tools at once (dnscat2's "dnscat." prefix; a NULL or PRIVATE query
 * with such a label, iodine). Loops and overflows in names are reported by
 * the DNS parser (proto/dns.c) as anomalies.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../proto/proto.h"
#include "threat.h"

#define NAME_MAX_LEN 255
#define K_DNS 0x444e53

/* The first question's name (dotted) and type; 0, or -1 when it cannot be
 * read (compressed or cut questions are the parser's business). */
static int question(const uint8_t *m, uint32_t n, char *name, uint16_t *qtype, uint32_t *longest_at,
                    uint32_t *longest)
{
    if (n < 12 || (m[2] & 0x80) || vg_be16(m + 4) == 0)
        return -1;
    uint32_t i = 12, o = 0;
    *longest = 0;
    *longest_at = 0;
    for (;;) {
        if (i >= n)
            return -1;
        uint8_t l = m[i];
        if (!l)
            break;
        if (l > 63 || i + 1 + l > n || o + l + 1 > NAME_MAX_LEN)
            return -1;
        if (o)
            name[o++] = '.';
        if (l > *longest) {
            *longest = l;
            *longest_at = o;
        }
        memcpy(name + o, m + i + 1, l);
        o += l;
        i += 1 + l;
    }
    name[o] = 0;
    if (i + 3 > n)
        return -1;
    *qtype = vg_be16(m + i + 1);
    return 0;
}

/* Encoded data: long, high in entropy, digits mixed in. */
static int encoded(const char *s, uint32_t n, uint32_t min)
{
    if (n < min)
        return 0;
    uint32_t digits = 0;
    for (uint32_t i = 0; i < n; i++)
        digits += s[i] >= '0' && s[i] <= '9';
    return digits * 10 >= n && vg_entropy((const uint8_t *)s, n) >= 3.3;
}

static const char *domain_of(const char *name)
{
    const char *last = strrchr(name, '.');
    if (!last)
        return name;
    for (const char *p = last - 1; p >= name; p--)
        if (*p == '.')
            return p + 1;
    return name;
}

static void tunnel(const vg_tpkt *p, const char *name, uint16_t qtype, uint32_t at,
                   uint32_t longest)
{
    int enc = encoded(name + at, longest, p->conf->dns_tunnel_label);
    char d[128];
    if (!strncmp(name, "dnscat.", 7) || (enc && (qtype == 10 || qtype == 65399))) {
        snprintf(d, sizeof(d), "a known tunnel's query (%s)",
                 name[0] == 'd' && !strncmp(name, "dnscat.", 7) ? "dnscat2" : "iodine");
        vg_threat_fire(p, VG_NET_T_DNS_TUNNEL, d);
        return;
    }
    if (!enc)
        return;
    const char *dom = domain_of(name);
    vg_meter *m = vg_threat_meter(p->e);
    uint64_t now = p->e->now_us, win = (uint64_t)p->conf->dns_tunnel_window_ms * 1000;
    int64_t c = vg_meter_add(m, K_DNS, p->f->c, dom, strlen(dom), now, win, 1);
    if (c < p->conf->dns_tunnel_queries ||
        !vg_meter_report(m, K_DNS, p->f->c, dom, strlen(dom), now, win))
        return;
    snprintf(d, sizeof(d), "%lld encoded names under %.60s", (long long)c, dom);
    vg_threat_fire(p, VG_NET_T_DNS_TUNNEL, d);
}

/* The number of pointers in a row at off (a pointer whose target is a
 * pointer, and so on); no server compresses so, it is how loops are built
 * (Zeek's max-compression-depth trace). Stops at 32. */
static int pointer_chain(const uint8_t *m, uint32_t n, uint32_t off)
{
    int depth = 0;
    while (off + 1 < n && (m[off] & 0xc0) == 0xc0 && depth < 32) {
        depth++;
        off = (uint32_t)(m[off] & 0x3f) << 8 | m[off + 1];
    }
    return depth;
}

/* Skips a name at *off; the longest pointer chain in it, or -1. */
static int skip_name(const uint8_t *m, uint32_t n, uint32_t *off)
{
    for (uint32_t i = *off; i < n;) {
        if ((m[i] & 0xc0) == 0xc0) {
            *off = i + 2;
            return pointer_chain(m, n, i);
        }
        if (!m[i]) {
            *off = i + 1;
            return 0;
        }
        if (m[i] & 0xc0)
            return -1;
        i += 1u + m[i];
    }
    return -1;
}

#define RR_WALK_MAX 64

static void chains(const vg_tpkt *p, const uint8_t *m, uint32_t n)
{
    if (n < 12)
        return;
    uint32_t qd = vg_be16(m + 4), rr = (uint32_t)vg_be16(m + 6) + vg_be16(m + 8) + vg_be16(m + 10);
    uint32_t off = 12;
    for (uint32_t i = 0; i < qd + rr && i < RR_WALK_MAX; i++) {
        int depth = skip_name(m, n, &off);
        if (depth < 0)
            return;
        if (depth >= 2) {
            char d[64];
            snprintf(d, sizeof(d), "compression pointers chained %d deep", depth);
            vg_threat_fire(p, VG_NET_T_DNS_LOOP_POINTER, d);
            return;
        }
        off += i < qd ? 4 : 10;
        if (i >= qd) {
            if (off > n)
                return;
            off += vg_be16(m + off - 2);
        }
    }
}

void vg_thr_dns(const vg_tpkt *p)
{
    const uint8_t *m = p->data;
    uint32_t n = p->len;
    if (p->f->l4 == IPPROTO_TCP) {
        if (n < 2 || vg_be16(m) > n - 2)
            return;
        n = vg_be16(m);
        m += 2;
    }
    if (vg_threat_on(p, VG_NET_T_DNS_LOOP_POINTER))
        chains(p, m, n);
    if (p->dir != 0)
        return;
    char name[NAME_MAX_LEN + 1];
    uint16_t qtype;
    uint32_t at, longest;
    if (question(m, n, name, &qtype, &at, &longest) < 0)
        return;
    if (qtype == 252 || qtype == 251)
        vg_threat_fire(p, VG_NET_T_DNS_ZONE_TRANSFER, qtype == 252 ? "AXFR" : "IXFR");
    if (qtype == 10)
        vg_threat_fire(p, VG_NET_T_DNS_NULL_TYPE, "NULL query");
    if (vg_threat_on(p, VG_NET_T_DNS_TUNNEL))
        tunnel(p, name, qtype, at, longest);
}
