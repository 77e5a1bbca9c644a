/*
 * The interfaces and addresses of the network namespace the calling thread
 * is in. getifaddrs() asks the kernel over netlink, on a socket of the
 * thread's own namespace; /proc/net and /sys/class/net would describe the
 * process's (the daemon's) namespace instead, so they are not used.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"

static int add_if(net_if *ifs, int n, size_t max, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ifs[i].name, name) == 0)
            return n;
    unsigned idx = if_nametoindex(name);
    if (!idx || (size_t)n == max)
        return n;
    snprintf(ifs[n].name, sizeof(ifs[n].name), "%s", name);
    ifs[n].index = (int)idx;
    return n + 1;
}

static void add_addr(const struct sockaddr *sa, int *family, uint8_t (*addrs)[16], size_t max,
                     size_t *n)
{
    if (*n == max)
        return;
    memset(addrs[*n], 0, 16);
    if (sa->sa_family == AF_INET)
        memcpy(addrs[*n], &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else if (sa->sa_family == AF_INET6)
        memcpy(addrs[*n], &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    else
        return;
    family[(*n)++] = sa->sa_family;
}

int net_ifaces_list(bool loopback, net_if *ifs, size_t max_ifs, int *family, uint8_t (*addrs)[16],
                    size_t max_addrs, size_t *naddrs)
{
    struct ifaddrs *all;
    if (getifaddrs(&all) < 0)
        return -errno;
    int n = 0;
    *naddrs = 0;
    for (struct ifaddrs *a = all; a; a = a->ifa_next) {
        if (!a->ifa_addr)
            continue;
        if (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6)
            add_addr(a->ifa_addr, family, addrs, max_addrs, naddrs);
        bool lo = (a->ifa_flags & IFF_LOOPBACK) != 0;
        if ((a->ifa_flags & IFF_UP) && (loopback || !lo))
            n = add_if(ifs, n, max_ifs, a->ifa_name);
    }
    freeifaddrs(all);
    return n;
}
