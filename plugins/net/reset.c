/*
 * Connection resets in protect mode (docs/net.md, docs/net-threats.md):
 * a TCP connection of a protected workload that carried a threat, or that
 * the policy denied for its application on a port the kernel allows, is
 * ended with SOCK_DESTROY (inet_diag, CONFIG_INET_DIAG_DESTROY): the kernel
 * aborts the workload's socket (its reads and writes fail with
 * ECONNABORTED) and sends the peer a RST, so both ends see the connection
 * end, whatever the traffic does next. Not injected RSTs: those need the
 * live sequence numbers and race the next segment; the kernel has both.
 *
 * The sock_diag socket is made in the workload's namespace by a short
 * thread that enters it (setns) and ends there, so no daemon thread ever
 * changes namespace for this. The namespace's TCP sockets are listed
 * (SOCK_DIAG_BY_FAMILY dump) and each that matches the connection is
 * destroyed by its exact id (address, ports, interface, cookie).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

#define TCP_LISTEN_STATE 10 /* TCP_LISTEN in the kernel's numbering */
#define RESET_MAX 64        /* connections destroyed per call */

struct mk {
    int nsfd, fd, err;
};

static void *mk_socket(void *arg)
{
    struct mk *m = arg;
    if (m->nsfd >= 0 && setns(m->nsfd, CLONE_NEWNET) < 0) {
        m->err = errno;
        return NULL;
    }
    m->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    m->err = m->fd < 0 ? errno : 0;
    return NULL;
}

/* A sock_diag socket of the namespace nsfd (-1: the daemon's own). */
static int diag_socket(int nsfd)
{
    struct mk m = {.nsfd = nsfd, .fd = -1};
    pthread_t t;
    int rc = pthread_create(&t, NULL, mk_socket, &m);
    if (rc != 0)
        return -rc;
    pthread_join(t, NULL);
    if (m.fd < 0)
        return -(m.err ? m.err : EIO);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(m.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return m.fd;
}

static int send_req(int fd, uint16_t type, uint16_t flags, const struct inet_diag_req_v2 *r)
{
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 r;
    } req = {.nh = {.nlmsg_len = sizeof(req),
                    .nlmsg_type = type,
                    .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags)},
             .r = *r};
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
        return -errno;
    return 0;
}

static int addr_len(int family)
{
    return family == AF_INET ? 4 : 16;
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The socket's address as c gives it: an IPv4 address of c against an
 * IPv6 socket's v4-mapped one (a dual-stack listener's connections). */
static int same_addr(const net_reset_conn *c, int family, const void *sock, const uint8_t *want)
{
    if (c->family == AF_INET && family == AF_INET6)
        return !memcmp(sock, v4mapped, 12) && !memcmp((const uint8_t *)sock + 12, want, 4);
    return !memcmp(sock, want, addr_len(family));
}

static int matches(const net_reset_conn *c, int family, const struct inet_diag_sockid *id)
{
    if ((c->remote_port && ntohs(id->idiag_dport) != c->remote_port) ||
        (c->local_port && ntohs(id->idiag_sport) != c->local_port) ||
        (c->has_remote && !same_addr(c, family, id->idiag_dst, c->remote)) ||
        (c->has_local && !same_addr(c, family, id->idiag_src, c->local)))
        return 0;
    const uint8_t *dst = (const uint8_t *)id->idiag_dst;
    if (family == AF_INET6 && !memcmp(dst, v4mapped, 12)) /* the peer's own terms */
        family = AF_INET, dst += 12;
    return !c->accept_remote || c->accept_remote(c->arg, family, dst);
}

/* The ids of the namespace's TCP sockets that match c (listeners never). */
static int list(int fd, const net_reset_conn *c, int family, struct inet_diag_sockid *ids, int max)
{
    struct inet_diag_req_v2 r = {.sdiag_family = (uint8_t)family,
                                 .sdiag_protocol = IPPROTO_TCP,
                                 .idiag_states = ~(1u << TCP_LISTEN_STATE)};
    int rc = send_req(fd, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &r);
    if (rc < 0)
        return rc;
    static __thread char buf[32768] __attribute__((aligned(8)));
    int n = 0;
    for (;;) {
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got < 0)
            return -errno;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)got);
             h = NLMSG_NEXT(h, got)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return n;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error < 0 ? e->error : -EIO;
            }
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                continue;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            if (n < max && matches(c, family, &m->id))
                ids[n++] = m->id;
        }
    }
}

static int destroy(int fd, int family, const struct inet_diag_sockid *id)
{
    struct inet_diag_req_v2 r = {.sdiag_family = (uint8_t)family,
                                 .sdiag_protocol = IPPROTO_TCP,
                                 .idiag_states = ~0u,
                                 .id = *id};
    int rc = send_req(fd, SOCK_DESTROY, NLM_F_ACK, &r);
    if (rc < 0)
        return rc;
    char buf[512] __attribute__((aligned(8)));
    ssize_t got = recv(fd, buf, sizeof(buf), 0);
    if (got < 0)
        return -errno;
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (size_t)got) || h->nlmsg_type != NLMSG_ERROR)
        return -EIO;
    const struct nlmsgerr *e = NLMSG_DATA(h);
    return e->error; /* 0: destroyed (the ack) */
}

/* Destroys the sockets of one family that match c: how many, or -errno. */
static int reset_family(int fd, const net_reset_conn *c, int family, int *err)
{
    struct inet_diag_sockid ids[RESET_MAX];
    int n = list(fd, c, family, ids, RESET_MAX), done = 0;
    if (n < 0)
        *err = n;
    for (int i = 0; i < n; i++) {
        int r = destroy(fd, family, &ids[i]);
        if (r == 0)
            done++;
        else if (r != -ENOENT) /* gone meanwhile */
            *err = r;
    }
    return done;
}

/* A connection whose four ends are known is destroyed by its id, without
 * a dump: the kernel's TCP hash table is shared by every namespace, and a
 * dump walks all of it (some 20 ms on a large host). An IPv4 connection
 * may be an IPv6 socket's (v4-mapped), so both are tried. 1, or -errno. */
static int reset_exact(int fd, const net_reset_conn *c)
{
    struct inet_diag_sockid id = {.idiag_sport = htons(c->local_port),
                                  .idiag_dport = htons(c->remote_port),
                                  .idiag_cookie = {INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE}};
    int n = addr_len(c->family);
    memcpy(id.idiag_src, c->local, n);
    memcpy(id.idiag_dst, c->remote, n);
    int rc = destroy(fd, c->family, &id);
    if (rc == -ENOENT && c->family == AF_INET) {
        memcpy(id.idiag_src, v4mapped, 12);
        memcpy((uint8_t *)id.idiag_src + 12, c->local, 4);
        memcpy(id.idiag_dst, v4mapped, 12);
        memcpy((uint8_t *)id.idiag_dst + 12, c->remote, 4);
        rc = destroy(fd, AF_INET6, &id);
    }
    return rc == 0 ? 1 : rc;
}

int net_reset_tcp(int nsfd, const net_reset_conn *c)
{
    if (c->family != 0 && c->family != AF_INET && c->family != AF_INET6)
        return -EAFNOSUPPORT;
    int fd = diag_socket(nsfd);
    if (fd < 0)
        return fd;
    if (c->family && c->has_local && c->has_remote && c->local_port && c->remote_port &&
        !c->accept_remote) {
        int rc = reset_exact(fd, c);
        close(fd);
        return rc == -ENOENT ? 0 : rc;
    }
    /* IPv6 sockets for IPv4 too: a dual-stack listener's connections are
     * IPv6 sockets with v4-mapped addresses. */
    int err = 0, done = 0;
    if (c->family != AF_INET6)
        done += reset_family(fd, c, AF_INET, &err);
    done += reset_family(fd, c, AF_INET6, &err);
    close(fd);
    return done > 0 ? done : err;
}

int net_reset_pid(int pid, const net_reset_conn *c)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
    int nsfd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (pid > 0 && nsfd < 0)
        return -errno;
    int rc = net_reset_tcp(nsfd, c);
    if (nsfd >= 0)
        close(nsfd);
    return rc;
}
