/*
 * sql-injection in the queries of PostgreSQL (simple Query 'Q' and
 * extended Parse 'P' messages) and Microsoft SQL Server (TDS SQL batch
 * packets, UTF-16LE text after the optional ALL_HEADERS), judged as whole
 * queries.
 */
#include "../proto/proto.h"
#include "threat.h"

#define TEXT_MAX 4096

static void judge(const vg_tpkt *p, const char *q, size_t n, const char *where)
{
    if (n && vg_sqli(q, n, 1))
        vg_threat_fire(p, VG_NET_T_SQL_INJECTION, where);
}

static void pgsql(const vg_tpkt *p)
{
    const uint8_t *d = p->data;
    uint32_t n = p->len;
    for (uint32_t off = 0; off + 5 <= n;) {
        uint8_t type = d[off];
        uint32_t len = vg_be32(d + off + 1);
        if (len < 4)
            return;
        const uint8_t *b = d + off + 5;
        uint32_t avail = n - off - 5 < len - 4 ? n - off - 5 : len - 4;
        if (type == 'Q') {
            judge(p, (const char *)b, strnlen((const char *)b, avail), "in a PostgreSQL query");
        } else if (type == 'P') {
            const uint8_t *z = memchr(b, 0, avail); /* statement name, then the query */
            if (z)
                judge(p, (const char *)z + 1,
                      strnlen((const char *)z + 1, avail - (uint32_t)(z + 1 - b)),
                      "in a PostgreSQL query");
        }
        if ((uint64_t)off + 1 + len >= n)
            return; /* the last message here (a length near 2^32 must not wrap) */
        off += 1 + len;
    }
}

static void tds(const vg_tpkt *p)
{
    const uint8_t *d = p->data;
    uint32_t n = p->len;
    if (n < 12 || d[0] != 0x01) /* header, and ALL_HEADERS' length read below */
        return;
    uint32_t off = 8;
    /* ALL_HEADERS: a 4-byte total length that covers itself */
    uint32_t all = vg_le32(d + off);
    if (all >= 4 && all < 512 && off + all <= n && d[off + 1] == 0 && d[off + 3] == 0)
        off += all;
    char text[TEXT_MAX];
    size_t k = 0;
    for (; off + 1 < n && k < sizeof(text); off += 2)
        text[k++] = d[off + 1] ? '?' : (char)d[off];
    judge(p, text, k, "in a SQL Server batch");
}

void vg_thr_sqlwire(const vg_tpkt *p)
{
    if (p->dir != 0 || !vg_threat_on(p, VG_NET_T_SQL_INJECTION))
        return;
    if (p->app == VG_TAPP_PGSQL)
        pgsql(p);
    else
        tds(p);
}
