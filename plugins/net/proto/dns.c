/*
 * DNS over UDP and TCP (two-byte length prefix). Named when a message parses
 * strictly (header counts, question names, types and classes); a query alone
 * is enough for UDP. Fields: dns.query, dns.qtype, dns.rcode (when not 0),
 * dns.answer (A/AAAA addresses and CNAME targets, repeated); every A/AAAA
 * answer also goes to the sink's dns_answer with the name queried.
 * Anomalies: dns-loop-pointer (a compression pointer that does not point
 * backwards, or too many of them), dns-overflow (a label over 63 bytes or a
 * name over 255), dns-zone-transfer is left to the detectors (dns.qtype).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "proto.h"

#define NAME_MAX_LEN 255
#define JUMPS_MAX 16
#define QD_MAX 4
#define RR_MAX 64 /* answers read per message */

enum { NAME_OK = 0, NAME_TRUNC = -1, NAME_LOOP = -2, NAME_LONG = -3, NAME_BAD = -4 };

/* Reads the name at *off into out (dotted, NUL-ended); *off moves past it. */
static int read_name(const uint8_t *m, uint32_t n, uint32_t *off, char *out)
{
    uint32_t i = *off, olen = 0;
    int jumps = 0;
    uint32_t after = 0, lowest = *off;
    out[0] = 0;
    for (;;) {
        if (i >= n)
            return NAME_TRUNC;
        uint8_t l = m[i];
        if ((l & 0xc0) == 0xc0) {
            if (i + 1 >= n)
                return NAME_TRUNC;
            uint32_t to = (uint32_t)(l & 0x3f) << 8 | m[i + 1];
            if (!jumps)
                after = i + 2;
            /* A pointer must go backwards, before every byte of this name
             * read so far: anything else can loop. */
            if (to >= lowest || ++jumps > JUMPS_MAX)
                return NAME_LOOP;
            lowest = to;
            i = to;
            continue;
        }
        if (l & 0xc0)
            return NAME_BAD;
        if (l == 0) {
            *off = jumps ? after : i + 1;
            if (!olen)
                memcpy(out, ".", 2);
            return NAME_OK;
        }
        if (l > 63)
            return NAME_LONG;
        if (i + 1 + l > n)
            return NAME_TRUNC;
        if (olen + l + 1 > NAME_MAX_LEN)
            return NAME_LONG;
        if (olen)
            out[olen++] = '.';
        memcpy(out + olen, m + i + 1, l);
        olen += l;
        out[olen] = 0;
        i += 1 + l;
    }
}

static const char *qtype_name(uint16_t t, char *buf, size_t len)
{
    static const struct {
        uint16_t t;
        const char *n;
    } names[] = {
        {1, "A"},      {2, "NS"},      {5, "CNAME"}, {6, "SOA"},    {10, "NULL"},  {12, "PTR"},
        {15, "MX"},    {16, "TXT"},    {28, "AAAA"}, {33, "SRV"},   {35, "NAPTR"}, {43, "DS"},
        {46, "RRSIG"}, {48, "DNSKEY"}, {64, "SVCB"}, {65, "HTTPS"}, {249, "TKEY"}, {250, "TSIG"},
        {251, "IXFR"}, {252, "AXFR"},  {255, "ANY"}, {257, "CAA"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].t == t)
            return names[i].n;
    snprintf(buf, len, "TYPE%u", t);
    return buf;
}

/* Strict check of a message: VG_P_YES, or VG_P_NO. */
static int valid(const uint8_t *m, uint32_t n)
{
    if (n < 12)
        return VG_P_NO;
    uint16_t flags = vg_be16(m + 2), qd = vg_be16(m + 4);
    uint16_t an = vg_be16(m + 6), ns = vg_be16(m + 8), ar = vg_be16(m + 10);
    int opcode = (flags >> 11) & 0xf, qr = flags >> 15;
    if (opcode > 6 || opcode == 3 || qd > QD_MAX || (!qd && opcode == 0))
        return VG_P_NO;
    if (!qr && (an > 16 || ns > 16 || ar > 16))
        return VG_P_NO;
    uint32_t off = 12;
    char name[NAME_MAX_LEN + 1];
    for (int i = 0; i < qd; i++) {
        int rc = read_name(m, n, &off, name);
        /* A plain query whose name loops or overflows is DNS all the same
         * (an attack on resolvers): named, and the parser reports it. */
        if ((rc == NAME_LOOP || rc == NAME_LONG) && !qr && qd == 1 && !an && !ns && !ar)
            return VG_P_YES;
        if (rc != NAME_OK || off + 4 > n)
            return VG_P_NO;
        uint16_t cls = vg_be16(m + off + 2);
        if (cls != 1 && cls != 3 && cls != 4 && cls != 254 && cls != 255)
            return VG_P_NO;
        off += 4;
    }
    /* A query ends with its questions and additional records only. */
    if (!qr && !an && !ns && !ar && off != n)
        return VG_P_NO;
    return VG_P_YES;
}

/* The first message of a direction: a datagram, or a TCP length-prefixed one. */
static int message(const vg_pctx *c, int dir, const uint8_t **m, uint32_t *n)
{
    const uint8_t *p = c->data[dir];
    uint32_t l = c->len[dir];
    if (c->l4 == IPPROTO_UDP) {
        *m = p;
        *n = l;
        return l ? VG_P_YES : VG_P_MORE;
    }
    if (l < 2)
        return VG_P_MORE;
    uint32_t ml = vg_be16(p);
    if (ml < 12)
        return VG_P_NO;
    if (l < 2 + ml)
        return l >= VG_INSP_BUF ? VG_P_NO : VG_P_MORE;
    *m = p + 2;
    *n = ml;
    return VG_P_YES;
}

static int detect(vg_pctx *c)
{
    const uint8_t *m[2];
    uint32_t n[2];
    int r[2];
    for (int d = 0; d < 2; d++) {
        r[d] = message(c, d, &m[d], &n[d]);
        if (r[d] == VG_P_YES)
            r[d] = valid(m[d], n[d]);
        if (r[d] == VG_P_NO)
            return VG_P_NO;
    }
    if (r[0] == VG_P_YES && r[1] == VG_P_YES)
        return vg_be16(m[0]) == vg_be16(m[1]) ? VG_P_YES : VG_P_NO;
    /* A query alone is enough on UDP; a lone TCP side waits for the other. */
    if (r[0] == VG_P_YES && (c->l4 == IPPROTO_UDP || c->final))
        return VG_P_YES;
    return c->final && r[1] == VG_P_YES ? VG_P_YES : VG_P_MORE;
}

static void name_anomaly(vg_pctx *c, int rc)
{
    if (rc == NAME_LOOP)
        vg_p_anomaly(c, "dns-loop-pointer");
    else if (rc == NAME_LONG)
        vg_p_anomaly(c, "dns-overflow");
}

static void answers(vg_pctx *c, const uint8_t *m, uint32_t n, uint32_t off, const char *qname)
{
    uint16_t an = vg_be16(m + 6);
    char name[NAME_MAX_LEN + 1], target[NAME_MAX_LEN + 1];
    for (int i = 0; i < an && i < RR_MAX; i++) {
        int rc = read_name(m, n, &off, name);
        if (rc != NAME_OK || off + 10 > n) {
            name_anomaly(c, rc);
            return;
        }
        uint16_t type = vg_be16(m + off);
        uint32_t ttl = vg_be32(m + off + 4);
        uint32_t rdl = vg_be16(m + off + 8);
        off += 10;
        if (off + rdl > n)
            return;
        char a[INET6_ADDRSTRLEN];
        if ((type == 1 && rdl == 4) || (type == 28 && rdl == 16)) {
            int fam = type == 1 ? AF_INET : AF_INET6;
            inet_ntop(fam, m + off, a, sizeof(a));
            vg_p_field_str(c, "dns.answer", a);
            vg_p_dns_answer(c, qname, fam, m + off, ttl);
        } else if (type == 5) {
            uint32_t t = off;
            rc = read_name(m, n, &t, target);
            if (rc == NAME_OK)
                vg_p_field_str(c, "dns.answer", target);
            name_anomaly(c, rc);
        }
        off += rdl;
    }
}

static void parse_message(vg_pctx *c, const uint8_t *m, uint32_t n)
{
    if (n < 12)
        return;
    uint16_t flags = vg_be16(m + 2), qd = vg_be16(m + 4);
    uint32_t off = 12;
    char qname[NAME_MAX_LEN + 1] = "", tbuf[16];
    for (int i = 0; i < qd && i < QD_MAX; i++) {
        char name[NAME_MAX_LEN + 1];
        int rc = read_name(m, n, &off, name);
        if (rc != NAME_OK || off + 4 > n) {
            name_anomaly(c, rc);
            return;
        }
        if (!i)
            memcpy(qname, name, sizeof(qname));
        vg_p_field_str(c, "dns.query", name);
        vg_p_field_str(c, "dns.qtype", qtype_name(vg_be16(m + off), tbuf, sizeof(tbuf)));
        off += 4;
    }
    if (!(flags >> 15))
        return;
    if (flags & 0xf)
        vg_p_field_u(c, "dns.rcode", flags & 0xf);
    answers(c, m, n, off, qname);
}

static int parse(vg_pctx *c)
{
    if (c->l4 == IPPROTO_UDP) {
        parse_message(c, c->data[c->dir], c->len[c->dir]);
        return 0;
    }
    /* TCP: the messages of both directions held so far, each once. */
    uint32_t *done = (uint32_t *)(void *)c->state; /* bytes parsed per direction */
    for (int d = 0; d < 2; d++) {
        const uint8_t *p = c->data[d];
        while (done[d] + 2 <= c->len[d]) {
            uint32_t ml = vg_be16(p + done[d]);
            if (done[d] + 2 + ml > c->len[d])
                break;
            parse_message(c, p + done[d] + 2, ml);
            done[d] += 2 + ml;
        }
    }
    return 0;
}

VG_NET_PROTO(dns) = {
    .name = "dns",
    .tcp = 1,
    .udp = 1,
    .prio = 20,
    .detect = detect,
    .parse = parse,
};
