/*
 * plugins.net.quarantine_allow: the peers a quarantined workload may still
 * exchange packets with (docs/net.md "Quarantine"), e.g. the node address
 * the kubelet's probes come from. "ADDR" (every packet with that peer),
 * "ADDR:PORT" or "[ADDR6]:PORT" (only packets with PORT at either end: the
 * workload's port a probe connects to, or a service's port on the peer),
 * separated by commas or spaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce.h"

/* One item into k: 0, or -EINVAL with msg set. */
static int parse_item(const char *item, struct vg_enf_key *k, char *msg, size_t msglen)
{
    char addr[INET6_ADDRSTRLEN + 2] = "";
    const char *port = NULL;
    memset(k, 0, sizeof(*k));
    if (item[0] == '[') { /* [v6]:port */
        const char *close = strchr(item, ']');
        if (!close || close[1] != ':' || (size_t)(close - item - 1) >= sizeof(addr))
            goto bad;
        memcpy(addr, item + 1, (size_t)(close - item - 1));
        port = close + 2;
    } else {
        const char *colon = strchr(item, ':');
        bool v4_port = colon && !strchr(colon + 1, ':'); /* one colon: v4:port */
        size_t len = v4_port ? (size_t)(colon - item) : strlen(item);
        if (len >= sizeof(addr))
            goto bad;
        memcpy(addr, item, len);
        port = v4_port ? colon + 1 : NULL;
    }
    if (inet_pton(AF_INET, addr, k->addr) == 1)
        k->family = VG_ENF_V4;
    else if (inet_pton(AF_INET6, addr, k->addr) == 1)
        k->family = VG_ENF_V6;
    else
        goto bad;
    if (port) {
        char *end;
        long p = strtol(port, &end, 10);
        if (end == port || *end || p < 1 || p > 65535)
            goto bad;
        k->port = (uint16_t)p;
    }
    return 0;
bad:
    snprintf(msg, msglen, "\"%s\": want ADDR, ADDR:PORT or [ADDR6]:PORT", item);
    return -EINVAL;
}

int net_quar_allow_parse(const char *spec, struct vg_enf_key *out, size_t max, size_t *n, char *msg,
                         size_t msglen)
{
    *n = 0;
    char *copy = strdup(spec), *save = NULL;
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", ", &save)) {
        if (*n == max) {
            snprintf(msg, msglen, "more than %zu peers", max);
            rc = -EINVAL;
        } else if ((rc = parse_item(tok, &out[*n], msg, msglen)) == 0) {
            (*n)++;
        }
    }
    free(copy);
    return rc;
}
