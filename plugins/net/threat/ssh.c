/*
 * ssh-v1: an identification line "SSH-1.x-" from either side. "SSH-1.99-"
 * is a server that speaks 2.0 as well (RFC 4253 5.1): quiet, since the
 * client's own line says which it speaks (Zeek's single-conn trace: a
 * 1.99 server, a 2.0 client).
 */
#include "../proto/proto.h"
#include "threat.h"

void vg_thr_ssh(const vg_tpkt *p)
{
    if (vg_starts(p->data, p->len, "SSH-1.") && !vg_starts(p->data, p->len, "SSH-1.99"))
        vg_threat_fire(p, VG_NET_T_SSH_V1,
                       p->dir ? "the server offers SSH 1" : "the client speaks SSH 1");
}
