/*
 * TCP resource attacks: tcp-small-mss (a SYN asking for segments so small
 * that the server spends a packet per few bytes) and tcp-small-window (an
 * established peer advertising a tiny, non-zero window to hold the other
 * side's buffers, as sockstress does; a zero window is ordinary flow
 * control). The window is scaled by the shift each side announced in its
 * SYN (0 without the option); a flow picked up mid-stream, whose
 * scale is unknown, is not judged.
 */
#include <stdio.h>

#include "threat.h"

void vg_thr_tcp(const vg_tpkt *p)
{
    const vg_l4 *l = p->l4;
    char d[64];
    if ((l->flags & VG_NET_TCP_SYN) && l->mss && l->mss < p->conf->small_mss &&
        vg_threat_on(p, VG_NET_T_TCP_SMALL_MSS)) {
        snprintf(d, sizeof(d), "mss %u < %u", l->mss, p->conf->small_mss);
        vg_threat_fire(p, VG_NET_T_TCP_SMALL_MSS, d);
    }
    if (l->flags & VG_NET_TCP_SYN) {
        vg_tflow *t = p->t;
        t->wscale[p->dir] = (uint8_t)(0x80 | (l->wscale & 0x0f)); /* 0x80: SYN seen */
    }
    if (!(l->flags & (VG_NET_TCP_SYN | VG_NET_TCP_FIN | VG_NET_TCP_RST)) &&
        (l->flags & VG_NET_TCP_ACK) && l->window && (p->t->wscale[p->dir] & 0x80) &&
        ((uint32_t)l->window << (p->t->wscale[p->dir] & 0x0f)) < p->conf->small_window &&
        p->f->state == VG_NET_ST_ESTABLISHED && vg_threat_on(p, VG_NET_T_TCP_SMALL_WINDOW)) {
        snprintf(d, sizeof(d), "window %u < %u",
                 (uint32_t)l->window << (p->t->wscale[p->dir] & 0x0f), p->conf->small_window);
        vg_threat_fire(p, VG_NET_T_TCP_SMALL_WINDOW, d);
    }
}
