/*
 * The short list of sensitive files (shadow, sudoers, SSH keys, cloud and
 * Kubernetes credentials) whose opens are reported: which inodes they are
 * under every root, marked in a fanotify group the caller owns (the kern
 * plugin's is a permission group: see plugin.c for why), and the lookup of
 * an opened file in them.
 *
 * rd_sync builds the table aside and swaps it in whole, so that lookups
 * (from several threads at once) never wait for a rebuild. It marks the
 * files found now; with `flush` it first drops every mark of the group, so
 * that a stopped container's inodes are not pinned (opens in the moment
 * between the two are not seen).
 */
#ifndef VG_KERN_READS_H
#define VG_KERN_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The files watched in every root, in its own terms; '*' matches within
 * one component. */
extern const char *const rd_defaults[];

typedef struct rd_root {
    int pid; /* the root is /proc/<pid>/root; 0 for the host's "/" */
} rd_root;

typedef struct rd_watch rd_watch;

/* A table of at most max_marks files; 0, -ENOMEM. */
int rd_new(size_t max_marks, rd_watch **out);
void rd_free(rd_watch *w);

/* Marks (`mask`, e.g. FAN_OPEN_PERM) the files of rd_defaults and extra
 * (may be NULL) under every root in the group fan, and makes them the
 * table. The number of files marked, or a negative errno (the table stays
 * as it was). */
int rd_sync(rd_watch *w, int fan, uint64_t mask, const rd_root *roots, size_t n,
            const char *const *extra, bool flush);

/* The path (in its root's terms) of the marked file open at fd: 0, or
 * -ENOENT when it is not one. Any thread. */
int rd_lookup(rd_watch *w, int fd, char *path, size_t size);

/* Files marked, files not marked because of the cap. Any thread. */
void rd_counts(rd_watch *w, size_t *marks, size_t *refused);

#endif
