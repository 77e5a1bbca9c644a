/*
 * Reading a whole (small) file into memory, as the config and the policy
 * loaders do, in a buffer the size of the file.
 *
 * Why not one buffer of the largest allowed size: glibc's malloc serves a
 * block that large with its own mmap, and when such a block is freed it
 * raises its mmap threshold to the block's size (and its trim threshold to
 * twice that). A single 8 MiB read buffer at start-up thus made every later
 * allocation up to 8 MiB come from the heap, which then was never given
 * back to the system below 16 MiB of free space: the daemon kept the high
 * water mark of every reload.
 */
#ifndef VG_READFILE_H
#define VG_READFILE_H

#include <stddef.h>

/* Reads fd from where it is to its end (a regular file, or anything
 * read(2) can read to its end, such as a pipe) into *buf (malloc'd,
 * NUL-terminated, the caller frees it) and the length into *len. fd stays
 * open. 0; -EFBIG when it has more than max bytes; -errno from read(2);
 * -ENOMEM. On an error *buf and *len are untouched. */
int vg_read_fd(int fd, size_t max, char **buf, size_t *len);

#endif
