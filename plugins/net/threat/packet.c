/*
 * bad-packet beyond what the decoder already refuses (lengths, headers) and
 * reports itself (SYN with FIN or RST, fragments off the grid): TCP flag
 * sets no stack sends (none at all; FIN, PSH and URG without ACK, the
 * "Xmas" scan), port 0, and a packet from an address and port to
 * themselves (the "land" attack).
 */
#include <netinet/in.h>
#include <string.h>

#include "threat.h"

void vg_thr_packet(const vg_tpkt *p)
{
    if (!vg_threat_on(p, VG_NET_T_BAD_PACKET))
        return;
    uint8_t fl = p->l4->flags;
    const char *why = NULL;
    if (!(fl & 0x3f))
        why = "TCP without flags";
    else if ((fl & (VG_NET_TCP_FIN | VG_NET_TCP_PSH | VG_NET_TCP_URG)) ==
                 (VG_NET_TCP_FIN | VG_NET_TCP_PSH | VG_NET_TCP_URG) &&
             !(fl & VG_NET_TCP_ACK))
        why = "TCP FIN, PSH and URG without ACK";
    else if (!p->l4->sport || !p->l4->dport)
        why = "TCP port 0";
    else if (p->l4->sport == p->l4->dport &&
             !memcmp(p->l3->src, p->l3->dst, p->l3->family == AF_INET6 ? 16 : 4))
        why = "TCP to its own address and port";
    if (why)
        vg_threat_fire(p, VG_NET_T_BAD_PACKET, why);
}
