/*
 * The kernel's process events (netlink proc connector), read through libnl-3.
 * Fork, exec, uid/gid changes and exit of every process on the host arrive
 * as struct proc_event records. Needs CAP_NET_ADMIN.
 */
#ifndef PROC_CONNECTOR_H
#define PROC_CONNECTOR_H

#include <linux/cn_proc.h>

struct nl_sock;

/* Opens the socket, joins the proc multicast group and asks the kernel to
 * start sending. 0 or a negative errno (-EPERM without privilege,
 * -EPROTONOSUPPORT on a kernel without the connector). `only`: a mask of
 * PROC_EVENT_* the kernel is asked to send alone (Linux 6.6 and later
 * filter in the kernel; older ones send everything), 0 for everything. */
int cn_open(unsigned only, struct nl_sock **out);

/* The file descriptor to poll for input. */
int cn_fd(struct nl_sock *sk);

/* Reads what is pending and calls cb for every process event in it.
 * Returns 0, -EAGAIN when nothing was pending, -ENOBUFS when the kernel
 * dropped events because the socket buffer overflowed (the caller must
 * rescan), or another negative errno. */
typedef void (*cn_event_cb)(const struct proc_event *ev, void *arg);
int cn_read(struct nl_sock *sk, cn_event_cb cb, void *arg);

/* Tells the kernel to stop and frees the socket. NULL is fine. */
void cn_close(struct nl_sock *sk);

#endif
