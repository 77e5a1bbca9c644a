/*
 * net.threat events (live side of plugins/net/threat/): the engine of each
 * capture thread reports a threat to its sink (conns.c), which hands it
 * here with the namespace's workload and group; the event carries the
 * threat's id and severity, both ends and the groups behind them, the
 * direction seen from the workload, and the packet (base64).
 *
 * The engine of a namespace gets the switches and thresholds of its group
 * (plugins.net.threats, threat_conf.c) when it starts and when its group
 * changes, on its capture thread.
 */
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "threat_conf.h"

int net_threats_config(net_config *cfg, const char *spec, char *msg, size_t msglen)
{
    vg_net_threat_conf c;
    if (strlen(spec) >= sizeof(cfg->threats)) {
        snprintf(msg, msglen, "longer than %zu bytes", sizeof(cfg->threats) - 1);
        return -1;
    }
    if (net_threat_conf_for(spec, NULL, &c, msg, msglen) < 0)
        return -1;
    snprintf(cfg->threats, sizeof(cfg->threats), "%s", spec);
    return 0;
}

void net_threats_apply(net_plugin *p, vg_net_engine *e, const char *group)
{
    vg_net_threat_conf c;
    char msg[128];
    /* The config's sections first, then the policies' declarations. */
    if (net_threat_conf_for(p->cfg.threats, group, &c, msg, sizeof(msg)) == 0 &&
        net_threat_conf_apply(p->cfg.policy_threats, group, &c, msg, sizeof(msg)) == 0)
        vg_net_threat_set(e, VG_NET_SOURCE_DEFAULT, &c);
    net_k8s_apply(p, e);
}

static int event_severity(int sev)
{
    switch (sev) {
    case VG_NET_SEV_CRITICAL:
        return VG_SEV_CRITICAL;
    case VG_NET_SEV_HIGH:
        return VG_SEV_ERROR;
    case VG_NET_SEV_MEDIUM:
        return VG_SEV_WARNING;
    case VG_NET_SEV_LOW:
        return VG_SEV_NOTICE;
    default:
        return VG_SEV_INFO;
    }
}

static void end_group(net_plugin *p, const vg_net_threat *t, const uint8_t *addr, char *group,
                      char *workload)
{
    group[0] = workload[0] = 0;
    if (t->family && net_peers_group(p->peers, t->family, addr, group, workload) < 0)
        group[0] = workload[0] = 0;
}

void net_threats_publish(net_plugin *p, const char *workload, const char *group,
                         const char *direction, const char *action, const vg_net_threat *t)
{
    char cg[VG_GROUP_MAX], cw[VG_WORKLOAD_MAX], sg[VG_GROUP_MAX], sw[VG_WORKLOAD_MAX];
    char ce[64] = "", se[64] = "";
    static __thread char b64[4 * ((VG_NET_THREAT_PKT_MAX + 2) / 3) + 1];
    int ports = t->l4 == IPPROTO_TCP || t->l4 == IPPROTO_UDP;
    if (t->family) {
        vg_net_endpoint(ce, sizeof(ce), t->family, t->client, ports ? t->client_port : -1);
        vg_net_endpoint(se, sizeof(se), t->family, t->server, ports ? t->server_port : -1);
    }
    end_group(p, t, t->client, cg, cw);
    end_group(p, t, t->server, sg, sw);
    vg_net_threat_packet_b64(t, b64, sizeof(b64));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 15);
    net_kv_str(&pk, "threat", t->name);
    net_kv_str(&pk, "action", action);
    net_kv_str(&pk, "severity", vg_net_severity_name(t->severity));
    net_kv_str(&pk, "detail", t->detail);
    net_kv_str(&pk, "direction", direction);
    net_kv_str(&pk, "proto", vg_net_l4_name(t->l4));
    net_kv_str(&pk, "client", ce);
    net_kv_str(&pk, "server", se);
    net_kv_str(&pk, "client_group", cg);
    net_kv_str(&pk, "client_workload", cw);
    net_kv_str(&pk, "server_group", sg);
    net_kv_str(&pk, "server_workload", sw);
    net_kv_int(&pk, "flow", (int64_t)t->flow_id);
    net_kv_int(&pk, "dlt", t->dlt);
    net_kv_str(&pk, "packet", b64);
    vg_event_in ev = {.type = p->t_threat,
                      .severity = event_severity(t->severity),
                      .workload = workload,
                      .group = group,
                      .body = sb.data,
                      .body_len = sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}
