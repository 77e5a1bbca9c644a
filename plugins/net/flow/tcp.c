/*
 * The TCP state of a flow: handshake, established, closing, closed. Enough
 * for timeouts and for the threat detectors; not a full endpoint model.
 */
#include "../net_int.h"

#define F_SYN VG_NET_TCP_SYN
#define F_ACK VG_NET_TCP_ACK

void vg_tcp_track(vg_net_engine *e, vg_flow *f, int dir, const vg_l4 *l4)
{
    uint8_t fl = l4->flags;
    if ((fl & F_SYN) && (fl & (VG_NET_TCP_FIN | VG_NET_TCP_RST)))
        vg_anomaly(e, f, "bad-packet");
    if ((fl & F_SYN) && l4->len)
        vg_anomaly(e, f, "tcp-syn-data");
    if (fl & VG_NET_TCP_RST) {
        f->state = VG_NET_ST_CLOSED;
    } else if (fl & VG_NET_TCP_FIN) {
        f->fin |= (uint8_t)(1u << dir);
        f->state = f->fin == 3 ? VG_NET_ST_CLOSED : VG_NET_ST_CLOSING;
    } else if (f->state == VG_NET_ST_SYN) {
        /* A SYN answered by a SYN without ACK: the split handshake. */
        if (dir == 1 && (fl & (F_SYN | F_ACK)) == F_SYN)
            vg_anomaly(e, f, "tcp-split-handshake");
        else if (dir == 0 && (fl & (F_SYN | F_ACK)) == F_ACK)
            f->state = VG_NET_ST_ESTABLISHED;
        else if (l4->len)
            f->state = VG_NET_ST_ESTABLISHED;
    }
    vg_table_reclass(e, f);
}
