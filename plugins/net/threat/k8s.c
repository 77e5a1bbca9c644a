/*
 * k8s-extip-mitm (CVE-2020-8554): a Service whose externalIPs name an
 * address it does not own makes kube-proxy capture the cluster's traffic to
 * that address. The live plugin gives the engine the external IPs that no
 * workload should reach (vg_net_threat_extips); the first packet of a flow
 * to one of them is reported.
 */
#include <stdio.h>
#include <sys/socket.h>

#include "threat.h"

void vg_thr_k8s(const vg_tpkt *p)
{
    int fam = p->f->v6 ? AF_INET6 : AF_INET;
    if (!vg_threat_on(p, VG_NET_T_K8S_EXTIP_MITM) || !vg_threat_extip_has(p->e, fam, p->f->s))
        return;
    char a[64], d[96];
    snprintf(d, sizeof(d), "connection to Service external IP %s",
             vg_net_endpoint(a, sizeof(a), fam, p->f->s, -1));
    vg_threat_fire(p, VG_NET_T_K8S_EXTIP_MITM, d);
}
