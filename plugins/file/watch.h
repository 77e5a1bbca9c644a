/*
 * The watch table of the file plugin: which directories carry notification
 * marks (and for which names), which files carry permission marks, under
 * which roots. Marks are on inodes, never on mounts, and their number is
 * capped: a root whose marks would pass the cap gets only those that fit
 * (counted in `refused`).
 *
 * Every function takes the table's lock, so the loop thread (adding and
 * dropping roots) and the reader threads (looking events up) may call them
 * at once. The table owns the marks it made: fw_free removes none, closing
 * the fanotify groups does.
 */
#ifndef VG_FILE_WATCH_H
#define VG_FILE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fpath.h"

/* The masks of the notification marks (on directories, for their entries)
 * and of the permission marks (on files). */
#define FW_NOTIFY_MASK                                                                             \
    (FAN_MODIFY | FAN_CLOSE_WRITE | FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO |      \
     FAN_ATTRIB | FAN_EVENT_ON_CHILD)
#define FW_PERM_MASK FAN_OPEN_PERM

typedef struct fw_table fw_table;

typedef struct fw_counts {
    size_t roots, guarded; /* roots watched, roots guarded */
    size_t dirs, files;    /* watched directories, guarded files */
    size_t marks;          /* dirs + files: the marks held */
    size_t refused;        /* marks not made because of the cap */
    size_t errors;         /* paths found but not markable */
} fw_counts;

/* A new table for the groups notify_fd and perm_fd (-1: no protection),
 * with at most max_marks marks. extra: the entries added by the config
 * (may be NULL), copied. */
int fw_new(int notify_fd, int perm_fd, size_t max_marks, const fp_entry *extra, size_t nextra,
           fw_table **out);
void fw_free(fw_table *t);

/* A path the policy adds for the workloads of one group (vigil.watch{}). */
typedef struct fw_gpath {
    const char *group; /* "" or NULL: every group */
    fp_entry e;
} fw_gpath;

/* Replaces the paths added per group (copied) and brings every watched
 * root whose share of them changed into step: marks for the new paths are
 * added, those only the old ones needed removed, the others left in place
 * (no moment without watching). Globs are expanded inside each root; marks
 * stay within max_marks. 0 or -ENOMEM (the old list stays). */
int fw_set_group_paths(fw_table *t, const fw_gpath *list, size_t n);

/* Watches the list under root ("/" or "/proc/<pid>/root") for the workload
 * `owner` ("" for the host) of `group`. A root already watched for owner
 * with the same path is left as it is (or re-synced when its group changed). Missing paths are
 * skipped. 0 or a negative errno (the root cannot be opened). */
int fw_root_add(fw_table *t, const char *owner, const char *group, const char *root);

/* Whether owner is watched, and under which root path (copied). */
bool fw_root_has(fw_table *t, const char *owner, char *root, size_t size);

/* Adds (on) or removes (off) the permission marks on the files of owner's
 * root. Adding again finds files replaced since (a new inode under the same
 * name). 0, -ENOENT (owner not watched), -ENOTSUP (no permission group). */
int fw_guard(fw_table *t, const char *owner, bool on);

/* Re-runs fw_guard(on) for every guarded root, after forgetting the
 * guarded files that no longer exist. */
void fw_reguard(fw_table *t);

/* Forgets owner: its marks are removed while its files can still be
 * reached, and its entries dropped. */
void fw_root_drop(fw_table *t, const char *owner);

/* Calls cb with each watched owner and whether its files are guarded
 * (under the lock: cb must not call back into the table). */
void fw_each_root(fw_table *t, void (*cb)(void *arg, const char *owner, bool guarded), void *arg);

/* The root a watched path is in: its workload ("" for the host), group,
 * and the pid whose /proc/<pid>/root it is (0 for the host's "/"). */
typedef struct fw_owner {
    char id[72];
    char group[128];
    int pid;
} fw_owner;

/* The watched path (in its root's terms) of entry `name` of the directory
 * with file handle (fsid, handle): 0 and path set; -ENOENT when the
 * directory is not watched or the name not watched in it. owner (may be
 * NULL) receives the root's owner. */
int fw_lookup_dir(fw_table *t, const int32_t fsid[2], const void *handle, size_t hlen,
                  const char *name, char *path, size_t psize, fw_owner *owner);

/* The watched path of the guarded file open at fd: 0 and path set, or
 * -ENOENT. owner (may be NULL) receives the owner of its root. */
int fw_lookup_file(fw_table *t, int fd, char *path, size_t psize, fw_owner *owner);

void fw_counts_get(fw_table *t, fw_counts *out);

#endif
