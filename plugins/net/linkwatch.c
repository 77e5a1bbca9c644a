/*
 * When the interfaces or addresses of a namespace change: an rtnetlink
 * socket subscribed to link and address notifications. A netlink socket
 * belongs to the namespace it was created in, so the capture opens it
 * while it is inside the namespace (like its rings) and then hears that
 * namespace's changes from anywhere, without entering it again. Only the
 * fact of a change is used: the capture then lists the interfaces again.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

int net_links_open(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
                             .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int net_links_drain(int fd)
{
    char buf[8192];
    int changed = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            changed = 1;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOBUFS) /* notifications were lost: look again */
            return 1;
        if (n < 0 && errno != EAGAIN)
            return -errno;
        return changed;
    }
}
