/* Which workload of a shared network namespace owns a socket (sockown.c). */
#ifndef VG_NET_SOCKOWN_H
#define VG_NET_SOCKOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct net_sock_query {
    int family;                   /* AF_INET or AF_INET6 */
    uint8_t l4;                   /* IPPROTO_TCP or IPPROTO_UDP */
    uint8_t laddr[16], raddr[16]; /* the namespace's end, the peer's */
    uint16_t lport, rport;
} net_sock_query;

/* The index in pids (the init processes of the members) of the member
 * whose process holds the socket, or -ENOENT. Reads /proc; any thread. */
int net_sock_owner(const int *pids, size_t n, const net_sock_query *q);

#endif
