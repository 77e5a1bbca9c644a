/*
 * Whether a file the daemon loads code or settings from can be trusted:
 * the config, the policy files and directories, the plugins. As sshd does
 * for its keys, the file and every directory above it must be owned by
 * root (or by the user the process runs as) and writable by no one else.
 * A root-owned directory with the sticky bit (/tmp) passes: in it only an
 * entry's owner may rename or remove that entry, and the entry itself is
 * checked. One more owner may be named for the whole process (vigild
 * --trusted-owner), e.g. the owner of a source checkout that `make run`
 * runs from.
 */
#ifndef VG_TRUST_H
#define VG_TRUST_H

#include <stddef.h>

/* 0 when path (resolved through symlinks) and its directories pass; else
 * -EPERM with why in err ("/etc/vigil is writable by group or others (mode
 * 0777)", "... is owned by uid 65534"), or another negative errno when the
 * path cannot be resolved. */
int vg_path_trusted(const char *path, char *err, size_t errlen);

/* Trusts files of `user` (a name or a numeric uid) too: 0 or -ENOENT. */
int vg_trust_set_owner(const char *user);

#endif
