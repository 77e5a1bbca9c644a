/*
 * The table of dnsnames.h: a fixed array searched linearly (a resync asks
 * once per DNS-named rule of a protected group, every 100 ms), the oldest
 * entry replaced when it is full.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/enforce_abi.h"
#include "dnsnames.h"
#include "net.h"

typedef struct dns_entry {
    char group[VG_GROUP_MAX], name[NET_PEER_MAX];
    int family;
    uint8_t addr[16];
    uint64_t expires_us, added_us;
} dns_entry;

struct net_dnsnames {
    pthread_mutex_t mu;
    dns_entry *e;
    size_t n, max;
    net_dnsnames_cb cb;
    void *arg;
    uint32_t min_ttl_s;
};

net_dnsnames *net_dnsnames_new(size_t max)
{
    net_dnsnames *t = calloc(1, sizeof(*t));
    if (!t || !(t->e = calloc(max, sizeof(*t->e)))) {
        free(t);
        return NULL;
    }
    t->max = max;
    t->min_ttl_s = 60;
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

void net_dnsnames_free(net_dnsnames *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->e);
    free(t);
}

void net_dnsnames_config(net_dnsnames *t, net_dnsnames_cb cb, void *arg, uint32_t min_ttl_s)
{
    pthread_mutex_lock(&t->mu);
    t->cb = cb;
    t->arg = arg;
    t->min_ttl_s = min_ttl_s;
    pthread_mutex_unlock(&t->mu);
}

static bool same_addr(const dns_entry *d, int family, const uint8_t *addr)
{
    return d->family == family && !memcmp(d->addr, addr, family == AF_INET ? 4 : 16);
}

void net_dnsnames_add(net_dnsnames *t, const char *group, const char *name, int family,
                      const uint8_t *addr, uint32_t ttl_s, uint64_t now_us)
{
    if (!group[0] || !name[0] || strlen(group) >= VG_GROUP_MAX || strlen(name) >= NET_PEER_MAX ||
        (family != AF_INET && family != AF_INET6))
        return;
    pthread_mutex_lock(&t->mu);
    uint64_t life = (uint64_t)(ttl_s > t->min_ttl_s ? ttl_s : t->min_ttl_s) * 1000000u;
    dns_entry *slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < t->n && !slot; i++) {
        dns_entry *d = &t->e[i];
        if (same_addr(d, family, addr) && !strcmp(d->name, name) && !strcmp(d->group, group))
            slot = d;
        else if (!oldest || d->added_us < oldest->added_us)
            oldest = d;
    }
    bool fresh = !slot || slot->expires_us <= now_us;
    if (!slot)
        slot = t->n < t->max ? &t->e[t->n++] : oldest;
    if (fresh) {
        memset(slot, 0, sizeof(*slot));
        snprintf(slot->group, sizeof(slot->group), "%s", group);
        snprintf(slot->name, sizeof(slot->name), "%s", name);
        slot->family = family;
        memcpy(slot->addr, addr, family == AF_INET ? 4 : 16);
    }
    slot->added_us = now_us;
    slot->expires_us = now_us + life;
    if (fresh && t->cb)
        t->cb(t->arg); /* under the lock: once config() cleared it, never again */
    pthread_mutex_unlock(&t->mu);
}

size_t net_dnsnames_addrs(net_dnsnames *t, const char *group, const char *name, uint64_t now_us,
                          int *family, uint8_t (*addrs)[16], size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n && n < max; i++) {
        const dns_entry *d = &t->e[i];
        if (d->expires_us > now_us && !strcmp(d->name, name) && !strcmp(d->group, group)) {
            family[n] = d->family;
            memcpy(addrs[n++], d->addr, 16);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

uint64_t net_dns_wire_hash(const char *name)
{
    uint64_t h = VG_ENF_FNV_OFFSET;
    size_t total = 0;
    for (const char *s = name; *s;) {
        size_t len = strcspn(s, ".");
        if (len == 0 || len > 63 || (total += len + 1) > 127)
            return 0;
        h = (h ^ (uint8_t)len) * VG_ENF_FNV_PRIME;
        for (size_t i = 0; i < len; i++) {
            uint8_t c = (uint8_t)s[i];
            if (c >= 'A' && c <= 'Z')
                c += 'a' - 'A';
            h = (h ^ c) * VG_ENF_FNV_PRIME;
        }
        s += len;
        if (*s == '.')
            s++;
    }
    return total ? h : 0;
}

int net_dnsnames_name(net_dnsnames *t, const char *group, int family, const uint8_t *addr,
                      uint64_t now_us, char *out, size_t size)
{
    const dns_entry *best = NULL;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++) {
        const dns_entry *d = &t->e[i];
        if (d->expires_us > now_us && same_addr(d, family, addr) && !strcmp(d->group, group) &&
            (!best || d->added_us > best->added_us))
            best = d;
    }
    if (best)
        snprintf(out, size, "%s", best->name);
    pthread_mutex_unlock(&t->mu);
    return best ? 0 : -ENOENT;
}
