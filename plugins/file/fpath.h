/*
 * The watch list and path helpers of the file plugin. Paths in the list are
 * in a workload's own terms ("/etc/passwd"); they are looked up under a
 * root ("/" for the host, "/proc/<pid>/root" for a container).
 */
#ifndef VG_FILE_FPATH_H
#define VG_FILE_FPATH_H

#include <stdbool.h>
#include <stddef.h>

enum fp_kind {
    FP_FILE = 0,  /* a file: its directory is watched for this name only;
                     the file itself is guarded in protect mode */
    FP_DIR = 1,   /* a directory: every entry is watched, and its regular
                     files are guarded in protect mode */
    FP_BINDIR = 2 /* a directory of programs: every entry is watched;
                     not guarded (too many files, and proc guards exec) */
};

typedef struct fp_entry {
    const char *path; /* absolute, may hold glob characters */
    int kind;         /* enum fp_kind */
} fp_entry;

/* The default watch list, ended by {NULL, 0}. */
extern const fp_entry fp_defaults[];

/* The path of `full` inside `root` ("/proc/12/root/etc/x" in
 * "/proc/12/root" is "/etc/x"); root "/" or "" leaves full as it is. NULL
 * when full is not under root. The result points into full. */
const char *fp_strip_root(const char *full, const char *root);

/* Splits an absolute path into its directory and last name: "/etc/passwd"
 * gives "/etc" and "passwd", "/x" gives "/" and "x". -EINVAL for "/", a
 * relative path or one that does not fit. */
int fp_split(const char *path, char *dir, size_t dsize, char *name, size_t nsize);

/* Whether path is absolute, has no "." or ".." component and no empty one
 * (a trailing slash excepted): paths from the config must be plain. */
bool fp_plain(const char *path);

/* Calls cb for each item of a list separated by ':' or ',' (spaces around
 * items ignored, empty items skipped). Returns the number of items, or the
 * first negative value cb returned. */
int fp_each_item(const char *list, int (*cb)(void *arg, const char *item), void *arg);

#endif
