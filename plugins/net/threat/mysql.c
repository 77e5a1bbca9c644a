/*
 * MySQL: mysql-access-denied, a burst of error 1045 (access denied) answers
 * to one client from one server (password guessing), counted within a
 * window; sql-injection in COM_QUERY statements (judged as whole queries).
 */
#include <stdio.h>

#include "../proto/proto.h"
#include "threat.h"

#define K_MYSQL 0x4d5953
#define ER_ACCESS_DENIED 1045

static void denied(const vg_tpkt *p)
{
    vg_meter *m = vg_threat_meter(p->e);
    uint64_t now = p->e->now_us, win = (uint64_t)p->conf->mysql_denied_window_ms * 1000;
    int64_t c = vg_meter_add(m, K_MYSQL, p->f->s, p->f->c, 16, now, win, 1);
    if (c < p->conf->mysql_denied || !vg_meter_report(m, K_MYSQL, p->f->s, p->f->c, 16, now, win))
        return;
    char d[80];
    snprintf(d, sizeof(d), "%lld access denied answers within %u ms", (long long)c,
             p->conf->mysql_denied_window_ms);
    vg_threat_fire(p, VG_NET_T_MYSQL_ACCESS_DENIED, d);
}

void vg_thr_mysql(const vg_tpkt *p)
{
    const uint8_t *d = p->data;
    uint32_t n = p->len;
    for (uint32_t off = 0; off + 5 <= n;) {
        uint32_t len = vg_le24(d + off);
        const uint8_t *b = d + off + 4;
        uint32_t avail = n - off - 4 < len ? n - off - 4 : len;
        if (p->dir == 1 && avail >= 3 && b[0] == 0xff && vg_le16(b + 1) == ER_ACCESS_DENIED &&
            vg_threat_on(p, VG_NET_T_MYSQL_ACCESS_DENIED))
            denied(p);
        if (p->dir == 0 && d[off + 3] == 0 && avail > 1 && b[0] == 3 &&
            vg_threat_on(p, VG_NET_T_SQL_INJECTION)) {
            /* query attributes (8.0.23+): no attributes is 0x00 0x01 */
            uint32_t skip = avail > 3 && b[1] == 0 && b[2] == 1 ? 2 : 0;
            if (vg_sqli((const char *)b + 1 + skip, avail - 1 - skip, 1))
                vg_threat_fire(p, VG_NET_T_SQL_INJECTION, "in a MySQL query");
        }
        off += 4 + len;
    }
}
