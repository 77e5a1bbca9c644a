/*
 * The addresses DNS names resolved to, per group, from the DNS answers the
 * group's workloads received (the capture threads add them; protect.c
 * reads them to allow a rule's `peer = "api.example.com"` in the kernel).
 * Each entry expires after its answer's TTL, or after the configured
 * minimum when the TTL is shorter. Locked: any thread.
 */
#ifndef VIGIL_NET_DNSNAMES_H
#define VIGIL_NET_DNSNAMES_H

#include <stddef.h>
#include <stdint.h>

typedef struct net_dnsnames net_dnsnames;

/* Called (from the adding thread, with the table locked: it must not call
 * back into it) when a (group, name, address) is new or had expired: the
 * allow maps may need it at once. */
typedef void (*net_dnsnames_cb)(void *arg);

/* max entries; the oldest give way. NULL without memory. */
net_dnsnames *net_dnsnames_new(size_t max);
void net_dnsnames_free(net_dnsnames *t);
/* The callback and the shortest lifetime given to an answer (seconds). */
void net_dnsnames_config(net_dnsnames *t, net_dnsnames_cb cb, void *arg, uint32_t min_ttl_s);
/* Name resolved to addr (AF_INET / AF_INET6) for a workload of group. */
void net_dnsnames_add(net_dnsnames *t, const char *group, const char *name, int family,
                      const uint8_t *addr, uint32_t ttl_s, uint64_t now_us);
/* The unexpired addresses of name for group (up to max). */
size_t net_dnsnames_addrs(net_dnsnames *t, const char *group, const char *name, uint64_t now_us,
                          int *family, uint8_t (*addrs)[16], size_t max);
/* The newest unexpired name of addr for group into out: 0, or -ENOENT. */
int net_dnsnames_name(net_dnsnames *t, const char *group, int family, const uint8_t *addr,
                      uint64_t now_us, char *out, size_t size);

/* The hash the kernel's DNS reader gives the question's name (FNV-1a 64 of
 * its wire form, ASCII lowercased, the final zero excluded; enforce.bpf.c),
 * for name ("api.example.com", a final dot or not). 0 for a name that is
 * not one (an empty label, a label over 63 bytes, over 127 bytes). */
uint64_t net_dns_wire_hash(const char *name);

#endif
