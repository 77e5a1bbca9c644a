/*
 * Who is behind an address.
 *
 * The address table maps the addresses of every captured workload's
 * namespace to that workload and its group; each capture replaces its own
 * namespace's entries after listing its interfaces, any capture thread
 * looks peers up (once per flow, never per packet). Loopback and link-local
 * addresses are left out: every namespace has them, so they name no one.
 *
 * The named networks come from the config (plugins.net.networks); the most
 * specific one holding an address names it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

typedef struct peer_entry {
    const void *owner;
    int family;
    uint8_t addr[16];
    char workload[VG_WORKLOAD_MAX], group[VG_GROUP_MAX];
} peer_entry;

struct net_peers {
    pthread_mutex_t mu;
    peer_entry *e;
    size_t n, cap;
};

net_peers *net_peers_new(void)
{
    net_peers *t = calloc(1, sizeof(*t));
    if (t)
        pthread_mutex_init(&t->mu, NULL);
    return t;
}

void net_peers_free(net_peers *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->e);
    free(t);
}

static bool names_no_one(int family, const uint8_t *a)
{
    static const uint8_t v6_lo[16] = {[15] = 1};
    if (family == AF_INET)
        return a[0] == 127 || (a[0] == 169 && a[1] == 254);
    return memcmp(a, v6_lo, 16) == 0 || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

int net_peers_set(net_peers *t, const void *owner, const char *workload, const char *group,
                  const int *family, const uint8_t (*addrs)[16], size_t n)
{
    pthread_mutex_lock(&t->mu);
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].owner != owner)
            t->e[k++] = t->e[i];
    t->n = k;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (names_no_one(family[i], addrs[i]))
            continue;
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 64;
            peer_entry *e = realloc(t->e, cap * sizeof(*e));
            if (!e) {
                rc = -ENOMEM;
                break;
            }
            t->e = e;
            t->cap = cap;
        }
        peer_entry *e = &t->e[t->n++];
        e->owner = owner;
        e->family = family[i];
        memcpy(e->addr, addrs[i], 16);
        snprintf(e->workload, sizeof(e->workload), "%s", workload);
        snprintf(e->group, sizeof(e->group), "%s", group);
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int net_peers_group(net_peers *t, int family, const uint8_t *addr, char *group, char *workload)
{
    size_t len = family == AF_INET ? 4 : 16;
    int rc = -ENOENT;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n && rc; i++) {
        const peer_entry *e = &t->e[i];
        if (e->family == family && memcmp(e->addr, addr, len) == 0 && e->group[0]) {
            snprintf(group, VG_GROUP_MAX, "%s", e->group);
            if (workload)
                snprintf(workload, VG_WORKLOAD_MAX, "%s", e->workload);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

/* ---- named networks ------------------------------------------------------- */

static bool prefix_holds(const net_network *n, const uint8_t *a)
{
    int bits = n->prefix;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((a[i] & mask) != (n->addr[i] & mask))
            return false;
    }
    return true;
}

const net_network *net_network_of(const net_config *c, int family, const uint8_t *addr)
{
    const net_network *best = NULL;
    for (size_t i = 0; i < c->nnetworks; i++) {
        const net_network *n = &c->networks[i];
        if (n->family == family && prefix_holds(n, addr) && (!best || n->prefix > best->prefix))
            best = n;
    }
    return best;
}

/* One "name=addr/prefix". */
static int parse_one(net_network *n, const char *item, char *msg, size_t msglen)
{
    char buf[160];
    snprintf(buf, sizeof(buf), "%s", item);
    char *eq = strchr(buf, '='), *slash = eq ? strchr(eq, '/') : NULL;
    if (!eq || !slash || eq == buf || (size_t)(eq - buf) >= sizeof(n->name)) {
        snprintf(msg, msglen, "\"%s\" is not name=address/prefix", item);
        return -EINVAL;
    }
    *eq = *slash = '\0';
    memcpy(n->name, buf, (size_t)(eq - buf) + 1);
    memset(n->addr, 0, sizeof(n->addr));
    n->family = strchr(eq + 1, ':') ? AF_INET6 : AF_INET;
    char *end;
    long prefix = strtol(slash + 1, &end, 10);
    int max = n->family == AF_INET ? 32 : 128;
    if (inet_pton(n->family, eq + 1, n->addr) != 1 || *end || end == slash + 1 || prefix < 0 ||
        prefix > max) {
        snprintf(msg, msglen, "\"%s\": bad address or prefix", item);
        return -EINVAL;
    }
    n->prefix = (int)prefix;
    return 0;
}

int net_networks_parse(net_config *c, const char *spec, char *msg, size_t msglen)
{
    c->nnetworks = 0;
    char *copy = strdup(spec), *save = NULL;
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", ", &save)) {
        if (c->nnetworks == NET_NETWORKS_MAX) {
            snprintf(msg, msglen, "more than %d networks", NET_NETWORKS_MAX);
            rc = -EINVAL;
            break;
        }
        rc = parse_one(&c->networks[c->nnetworks], tok, msg, msglen);
        c->nnetworks += rc == 0;
    }
    free(copy);
    return rc;
}

size_t net_peers_of_group(net_peers *t, const char *group, int *family, uint8_t (*addrs)[16],
                          size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n && n < max; i++)
        if (!strcmp(t->e[i].group, group)) {
            family[n] = t->e[i].family;
            memcpy(addrs[n++], t->e[i].addr, 16);
        }
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t net_peers_of_workload(net_peers *t, const char *workload, int *family, uint8_t (*addrs)[16],
                             size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n && n < max; i++)
        if (!strcmp(t->e[i].workload, workload)) {
            family[n] = t->e[i].family;
            memcpy(addrs[n++], t->e[i].addr, 16);
        }
    pthread_mutex_unlock(&t->mu);
    return n;
}
