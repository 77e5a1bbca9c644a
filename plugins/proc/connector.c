/* The netlink proc connector; see connector.h. */
#include "connector.h"

#include <errno.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>

/* libnl's own error codes, turned back into errno at this one boundary. */
static int nl_to_errno(int nlerr)
{
    switch (nlerr < 0 ? -nlerr : nlerr) {
    case 0:
        return 0;
    case NLE_AGAIN:
        return -EAGAIN;
    case NLE_NOMEM:
        return -ENOBUFS; /* recvmsg's ENOBUFS: the kernel dropped events */
    case NLE_PERM:
        return -EPERM;
    case NLE_NOACCESS:
        return -EACCES;
    case NLE_PROTO_MISMATCH:
        return -EPROTONOSUPPORT;
    case NLE_OPNOTSUPP:
        return -EOPNOTSUPP;
    case NLE_BAD_SOCK:
        return -EBADF;
    case NLE_INTR:
        return -EINTR;
    default:
        return -EIO;
    }
}

/* Whether the kernel filters the events it sends a listener (Linux 6.6:
 * the op may carry a mask of event types). An older one ignores an op of
 * that size altogether, so it must not be sent one. */
static bool kernel_filters(void)
{
    struct utsname u;
    unsigned major = 0, minor = 0;
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
        return false;
    return major > 6 || (major == 6 && minor >= 6);
}

/* The op with the mask of event types to send (linux/cn_proc.h's struct
 * proc_input, which older headers lack). */
struct cn_proc_input {
    unsigned op;
    unsigned only;
};

static int send_op(struct nl_sock *sk, enum proc_cn_mcast_op op, unsigned only)
{
    struct {
        struct nlmsghdr nl;
        struct cn_msg cn;
        struct cn_proc_input in;
    } __attribute__((packed)) msg;
    size_t len = only ? sizeof(msg.in) : sizeof(msg.in.op);
    memset(&msg, 0, sizeof(msg));
    msg.nl.nlmsg_len = (unsigned)(sizeof(msg) - sizeof(msg.in) + len);
    msg.nl.nlmsg_type = NLMSG_DONE;
    msg.nl.nlmsg_pid = nl_socket_get_local_port(sk);
    msg.cn.id.idx = CN_IDX_PROC;
    msg.cn.id.val = CN_VAL_PROC;
    msg.cn.len = (unsigned short)len;
    msg.in.op = op;
    msg.in.only = only;
    int rc = nl_sendto(sk, &msg, msg.nl.nlmsg_len);
    return rc < 0 ? nl_to_errno(rc) : 0;
}

int cn_open(unsigned only, struct nl_sock **out)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    nl_socket_disable_seq_check(sk);
    int rc = nl_connect(sk, NETLINK_CONNECTOR);
    if (rc == 0)
        rc = nl_socket_add_membership(sk, CN_IDX_PROC);
    if (rc < 0) {
        nl_socket_free(sk);
        return nl_to_errno(rc);
    }
    nl_socket_set_nonblocking(sk);
    /* A burst of short processes outruns a default-sized buffer; as root the
     * limit of rmem_max can be passed over with SO_RCVBUFFORCE. */
    int size = 8 << 20;
    if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        nl_socket_set_buffer_size(sk, size, 0);
    rc = send_op(sk, PROC_CN_MCAST_LISTEN, kernel_filters() ? only : 0);
    if (rc < 0) {
        nl_socket_free(sk);
        return rc;
    }
    *out = sk;
    return 0;
}

int cn_fd(struct nl_sock *sk)
{
    return nl_socket_get_fd(sk);
}

static void dispatch(const unsigned char *buf, int len, cn_event_cb cb, void *arg)
{
    const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
    for (; NLMSG_OK(nh, (unsigned)len); nh = NLMSG_NEXT(nh, len)) {
        if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR)
            continue;
        const struct cn_msg *cn = NLMSG_DATA(nh);
        if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn)) || cn->id.idx != CN_IDX_PROC ||
            cn->id.val != CN_VAL_PROC || cn->len < offsetof(struct proc_event, event_data) ||
            NLMSG_LENGTH(sizeof(*cn) + cn->len) > nh->nlmsg_len)
            continue;
        /* The kernel sends the whole union; shorter records are older
         * kernels' and are read only as far as they go. */
        struct proc_event ev;
        memset(&ev, 0, sizeof(ev));
        memcpy(&ev, cn->data, cn->len < sizeof(ev) ? cn->len : sizeof(ev));
        cb(&ev, arg);
    }
}

int cn_read(struct nl_sock *sk, cn_event_cb cb, void *arg)
{
    unsigned char *buf = NULL;
    struct sockaddr_nl from;
    int n = nl_recv(sk, &from, &buf, NULL);
    if (n <= 0) {
        free(buf);
        return n == 0 ? -EAGAIN : nl_to_errno(n);
    }
    /* Only the kernel may speak for the kernel. */
    if (from.nl_pid == 0)
        dispatch(buf, n, cb, arg);
    free(buf);
    return 0;
}

void cn_close(struct nl_sock *sk)
{
    if (!sk)
        return;
    send_op(sk, PROC_CN_MCAST_IGNORE, 0);
    nl_socket_free(sk);
}
