/*
 * When protect mode resets a connection (reset.c says how):
 *
 *  - a threat of one TCP connection (an SQL injection, a smuggled request,
 *    an SSLv3 handshake, ...; not the rates and floods, which are about a
 *    source, not one connection) seen in the namespace of a workload whose
 *    group protects: the connection is reset and net.threat says action
 *    "reset" (else "report");
 *  - a net.violation the policy raised with action deny for a connection
 *    the kernel let through (its port is allowed, its application is not:
 *    no `enforced_by`), of a protected workload: its connections to that
 *    peer and port are reset, and a net.violation with action "reset"
 *    reports it. The kernel's own denials never opened a connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "net.h"

static int per_connection(int id)
{
    switch (id) {
    case VG_NET_T_TCP_SYN_DATA:
    case VG_NET_T_TCP_SPLIT_HANDSHAKE:
    case VG_NET_T_TCP_SMALL_WINDOW:
    case VG_NET_T_TCP_SMALL_MSS:
    case VG_NET_T_DNS_LOOP_POINTER:
    case VG_NET_T_DNS_OVERFLOW:
    case VG_NET_T_DNS_ZONE_TRANSFER:
    case VG_NET_T_DNS_NULL_TYPE:
    case VG_NET_T_SSH_V1:
    case VG_NET_T_TLS_HEARTBLEED:
    case VG_NET_T_TLS_CIPHER_OVERFLOW:
    case VG_NET_T_TLS_SSLV2:
    case VG_NET_T_TLS_SSLV3:
    case VG_NET_T_TLS_OLD_VERSION:
    case VG_NET_T_HTTP_NEGATIVE_LENGTH:
    case VG_NET_T_HTTP_SMUGGLING:
    case VG_NET_T_SQL_INJECTION:
    case VG_NET_T_STRUTS_RCE:
    case VG_NET_T_K8S_EXTIP_MITM:
        return 1;
    default:
        return 0;
    }
}

const char *net_threat_react(net_plugin *p, int pid, const char *dir, const vg_net_threat *t)
{
    int egress = !strcmp(dir, "egress");
    if (pid <= 0 || t->l4 != IPPROTO_TCP || !t->flow_id || !per_connection(t->id) ||
        (!egress && strcmp(dir, "ingress") != 0))
        return "report";
    vg_workload_view w;
    if (p->api->workload_of_pid(p->h, pid, &w) < 0 || w.mode != VG_MODE_PROTECT)
        return "report";
    net_reset_conn c = {.family = t->family, .has_local = 1, .has_remote = 1};
    memcpy(c.local, egress ? t->client : t->server, 16);
    memcpy(c.remote, egress ? t->server : t->client, 16);
    c.local_port = egress ? t->client_port : t->server_port;
    c.remote_port = egress ? t->server_port : t->client_port;
    int n = net_reset_pid(pid, &c);
    if (n <= 0) {
        p->api->log(p->h, VG_LOG_WARN, "%s in protected %s: the connection was not reset: %s",
                    t->name, w.id, n < 0 ? strerror(-n) : "no such socket any more");
        return "report";
    }
    return "reset";
}

/* ---- policy denials of an application on an allowed port ---- */

struct find {
    const char *id;
    vg_workload_view w;
    int found;
};

static void find_workload(void *arg, const vg_workload_view *w)
{
    struct find *f = arg;
    if (!strcmp(w->id, f->id)) {
        f->w = *w;
        f->found = 1;
    }
}

struct peer_match {
    net_plugin *p;
    const char *peer; /* a group, a workload or an address, as the rule says */
};

static int peer_is(void *arg, int family, const uint8_t *addr)
{
    struct peer_match *m = arg;
    char group[VG_GROUP_MAX] = "", workload[VG_WORKLOAD_MAX] = "", text[INET6_ADDRSTRLEN] = "";
    inet_ntop(family, addr, text, sizeof(text));
    if (!strcmp(text, m->peer))
        return 1;
    return net_peers_group(m->p->peers, family, addr, group, workload) == 0 &&
           (!strcmp(group, m->peer) || !strcmp(workload, m->peer));
}

struct denial {
    char workload[VG_WORKLOAD_MAX], action[16], proto[8], direction[16], peer[256], port[8],
        app[32], enforced_by[32];
};

static void publish_reset(net_plugin *p, const vg_workload_view *w, const struct denial *d, int n)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "%d connection%s reset: application %s is not allowed", n,
             n == 1 ? "" : "s", d->app[0] ? d->app : "unknown");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    net_kv_str(&pk, "action", "reset");
    net_kv_str(&pk, "direction", d->direction);
    net_kv_str(&pk, "peer", d->peer);
    net_kv_str(&pk, "port", d->port);
    net_kv_str(&pk, "proto", d->proto);
    net_kv_str(&pk, "app", d->app);
    net_kv_str(&pk, "message", msg);
    vg_event_in ev = {.type = p->t_violation,
                      .severity = VG_SEV_WARNING,
                      .workload = w->id,
                      .group = w->group,
                      .body = sb.data,
                      .body_len = sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}

static void on_violation(void *arg, const void *rec, size_t len)
{
    net_plugin *p = arg;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    struct denial d = {0};
    int ok = msgpack_unpack_next(&up, rec, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
             up.data.type == MSGPACK_OBJECT_MAP;
    if (ok) {
        const msgpack_object *m = &up.data;
        vg_mp_get_cstr(m, "workload", d.workload, sizeof(d.workload));
        vg_mp_get_cstr(m, "action", d.action, sizeof(d.action));
        vg_mp_get_cstr(m, "proto", d.proto, sizeof(d.proto));
        vg_mp_get_cstr(m, "direction", d.direction, sizeof(d.direction));
        vg_mp_get_cstr(m, "peer", d.peer, sizeof(d.peer));
        vg_mp_get_cstr(m, "port", d.port, sizeof(d.port));
        vg_mp_get_cstr(m, "app", d.app, sizeof(d.app));
        vg_mp_get_cstr(m, "enforced_by", d.enforced_by, sizeof(d.enforced_by));
    }
    msgpack_unpacked_destroy(&up);
    int port = ok ? atoi(d.port) : 0;
    if (!ok || strcmp(d.action, "deny") != 0 || d.enforced_by[0] || strcmp(d.proto, "tcp") != 0 ||
        !d.workload[0] || !d.peer[0] || port <= 0 || port > 65535)
        return;
    int egress = !strcmp(d.direction, "egress");
    if (!egress && strcmp(d.direction, "ingress") != 0)
        return;
    struct find f = {.id = d.workload};
    p->api->workloads_each(p->h, find_workload, &f);
    if (!f.found || f.w.mode != VG_MODE_PROTECT || f.w.pid <= 0)
        return;
    struct peer_match pm = {.p = p, .peer = d.peer};
    net_reset_conn c = {.accept_remote = peer_is, .arg = &pm};
    if (egress)
        c.remote_port = (uint16_t)port;
    else
        c.local_port = (uint16_t)port;
    int n = net_reset_pid(f.w.pid, &c);
    if (n > 0)
        publish_reset(p, &f.w, &d, n);
    else if (n < 0)
        p->api->log(p->h, VG_LOG_WARN, "%s: the denied connection to %s:%d was not reset: %s",
                    d.workload, d.peer, port, strerror(-n));
}

void net_resets_start(net_plugin *p)
{
    p->t_violation = p->api->event_type(p->h, "net.violation");
    if (p->t_violation < 0 || p->api->subscribe(p->h, "net.violation", on_violation, p) < 0)
        p->api->log(p->h, VG_LOG_WARN,
                    "cannot follow net.violation: denied applications are not reset");
}
