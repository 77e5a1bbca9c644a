/*
 * The path of an open file descriptor, as readlink("/proc/self/fd/N")
 * gives it, for the fanotify readers (an event comes with a descriptor of
 * the file, not its name).
 *
 * That readlink is on the path of every exec in a watched container and of
 * every permission event: resolving "/proc", "self" (a link to the pid's
 * directory) and "fd" each time cost more than the answer itself. The
 * directory /proc/self/fd is opened once per process and each name is
 * looked up in it (readlinkat), one component instead of four. The fd
 * table is the thread group's, so one directory serves every thread.
 */
#ifndef VG_FDPATH_H
#define VG_FDPATH_H

#include <stddef.h>

/* Writes fd's path into buf (size > 0), "" when it cannot be read.
 * Thread-safe. */
void vg_fd_path(int fd, char *buf, size_t size);

#endif
