/*
 * A map from an engine's flow id to what the plugin remembers of the flow
 * (conns.c): open addressing on the id, growing with the live flows, entries
 * removed when their flow ends. One per capture thread; no locks.
 */
#ifndef VG_NET_FLOWMAP_H
#define VG_NET_FLOWMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct net_flowrec {
    uint64_t id;                /* the engine's flow id; 0 marks a free slot */
    uint64_t pkts[2], bytes[2]; /* counts already added to a summary */
    uint32_t key;               /* index in the key table, valid while gen matches */
    uint32_t gen;
    uint8_t ignored; /* neither side is this namespace's: no events */
    uint8_t named;   /* the engine named its application (or gave up) */
    uint8_t pending; /* named, its event waits for the protocol's fields */
    uint8_t owner;   /* 1 + the member owning its socket; 0: the namespace's owner */
} net_flowrec;

typedef struct net_flowmap {
    net_flowrec *slot;
    size_t cap, n; /* cap a power of two */
} net_flowmap;

void net_flowmap_free(net_flowmap *m);
/* The record of id, NULL if none. */
net_flowrec *net_flowmap_get(net_flowmap *m, uint64_t id);
/* The record of id, added zeroed if new; NULL when out of memory. */
net_flowrec *net_flowmap_put(net_flowmap *m, uint64_t id);
void net_flowmap_del(net_flowmap *m, uint64_t id);

#endif
