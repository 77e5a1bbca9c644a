/*
 * The threat settings of the config, per group (plugins.net.threats):
 *
 *   threats = "*: tls-old-version=on, syn-flood.rate=500; web*: sql-injection=off;
 *              db: mysql-access-denied.count=3"
 *
 * Sections "PATTERN: SETTING, ..." separated by ';'; PATTERN is a group glob
 * (fnmatch). A group's set is NeuVector's defaults (vg_net_threat_defaults)
 * with every matching section applied in order. A SETTING is "ID=on|off",
 * "all=on|off" or "ID.PARAM=N" with the parameters below. Pure string
 * handling: the plugin calls it on the loop thread, the unit test directly.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threat_conf.h"

static const struct {
    int id;
    const char *param;
    size_t off;
} params[] = {
    {VG_NET_T_SYN_FLOOD, "rate", offsetof(vg_net_threat_conf, syn_flood_pps)},
    {VG_NET_T_ICMP_FLOOD, "rate", offsetof(vg_net_threat_conf, icmp_flood_pps)},
    {VG_NET_T_IP_SESSION_LIMIT, "sessions", offsetof(vg_net_threat_conf, session_limit)},
    {VG_NET_T_TCP_SMALL_WINDOW, "bytes", offsetof(vg_net_threat_conf, small_window)},
    {VG_NET_T_TCP_SMALL_MSS, "bytes", offsetof(vg_net_threat_conf, small_mss)},
    {VG_NET_T_HTTP_SLOWLORIS, "header_ms", offsetof(vg_net_threat_conf, slowloris_header_ms)},
    {VG_NET_T_HTTP_SLOWLORIS, "connections", offsetof(vg_net_threat_conf, slowloris_conns)},
    {VG_NET_T_MYSQL_ACCESS_DENIED, "count", offsetof(vg_net_threat_conf, mysql_denied)},
    {VG_NET_T_MYSQL_ACCESS_DENIED, "window_ms",
     offsetof(vg_net_threat_conf, mysql_denied_window_ms)},
    {VG_NET_T_ICMP_TUNNEL, "packets", offsetof(vg_net_threat_conf, icmp_tunnel_packets)},
    {VG_NET_T_ICMP_TUNNEL, "payload", offsetof(vg_net_threat_conf, icmp_tunnel_payload)},
    {VG_NET_T_DNS_TUNNEL, "label", offsetof(vg_net_threat_conf, dns_tunnel_label)},
    {VG_NET_T_DNS_TUNNEL, "queries", offsetof(vg_net_threat_conf, dns_tunnel_queries)},
    {VG_NET_T_DNS_TUNNEL, "window_ms", offsetof(vg_net_threat_conf, dns_tunnel_window_ms)},
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

/* One "key=value" into c (when apply); 0 or -EINVAL with msg. */
static int setting(char *kv, vg_net_threat_conf *c, int apply, char *msg, size_t msglen)
{
    char *eq = strchr(kv, '=');
    if (!eq) {
        snprintf(msg, msglen, "'%s' is not KEY=VALUE", kv);
        return -EINVAL;
    }
    *eq = 0;
    char *key = trim(kv), *val = trim(eq + 1);
    char *dot = strchr(key, '.');
    if (dot)
        *dot = 0;
    int id = strcmp(key, "all") ? vg_net_threat_lookup(key) : VG_NET_T_COUNT;
    if (id < 0 || (dot && id == VG_NET_T_COUNT)) {
        snprintf(msg, msglen, "unknown threat '%s'", key);
        return -EINVAL;
    }
    if (!dot) {
        int on = !strcmp(val, "on") || !strcmp(val, "true");
        if (!on && strcmp(val, "off") && strcmp(val, "false")) {
            snprintf(msg, msglen, "%s wants on or off, not '%s'", key, val);
            return -EINVAL;
        }
        uint64_t bits = id == VG_NET_T_COUNT ? VG_NET_T_ALL : VG_NET_T_BIT(id);
        if (apply)
            c->enabled = on ? c->enabled | bits : c->enabled & ~bits;
        return 0;
    }
    const char *param = dot + 1;
    char *end;
    unsigned long v = strtoul(val, &end, 10);
    if (!*val || *end || v == 0 || v > 100000000ul) {
        snprintf(msg, msglen, "%s.%s wants a number from 1 to 100000000, not '%s'", key, param,
                 val);
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
        if (params[i].id == id && !strcmp(params[i].param, param)) {
            if (apply)
                *(uint32_t *)(void *)((char *)c + params[i].off) = (uint32_t)v;
            return 0;
        }
    snprintf(msg, msglen, "%s has no parameter '%s'", key, param);
    return -EINVAL;
}

int net_threat_conf_for(const char *spec, const char *group, vg_net_threat_conf *out, char *msg,
                        size_t msglen)
{
    vg_net_threat_defaults(out);
    return net_threat_conf_apply(spec, group, out, msg, msglen);
}

int net_threat_conf_apply(const char *spec, const char *group, vg_net_threat_conf *out, char *msg,
                          size_t msglen)
{
    if (!spec || !*spec)
        return 0;
    char *buf = strdup(spec);
    if (!buf) {
        snprintf(msg, msglen, "out of memory");
        return -ENOMEM;
    }
    int rc = 0;
    char *save = NULL;
    for (char *sec = strtok_r(buf, ";", &save); sec && rc == 0; sec = strtok_r(NULL, ";", &save)) {
        sec = trim(sec);
        if (!*sec)
            continue;
        char *colon = strchr(sec, ':');
        if (!colon) {
            snprintf(msg, msglen, "section '%.60s' wants GROUP: SETTINGS", sec);
            rc = -EINVAL;
            break;
        }
        *colon = 0;
        const char *pat = trim(sec);
        int apply = group && fnmatch(pat, group, 0) == 0;
        char *save2 = NULL;
        for (char *kv = strtok_r(colon + 1, ",", &save2); kv && rc == 0;
             kv = strtok_r(NULL, ",", &save2)) {
            kv = trim(kv);
            if (*kv)
                rc = setting(kv, out, apply, msg, msglen);
        }
    }
    free(buf);
    return rc;
}
