/*
 * What the plugin remembers of each live process: its name and uids, so that
 * an exit or a uid change can say which program it was and what it was
 * before, although /proc no longer (or not yet) says. Bounded: when full,
 * new processes are not remembered (their later events carry less detail).
 * One thread only (the plugin's reader thread).
 */
#ifndef PROC_PIDTAB_H
#define PROC_PIDTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct pidtab_entry {
    pid_t pid; /* 0 = empty slot */
    uid_t uid, euid;
    int64_t suid; /* the saved uid; -1: not known */
    char name[16];
} pidtab_entry;

typedef struct pidtab pidtab;

/* At most about `capacity` entries (rounded up to a power of two); the
 * memory grows with the entries. */
pidtab *pidtab_new(size_t capacity);
void pidtab_free(pidtab *t);
/* Inserts or updates; -ENOSPC when the table is at its bound, -ENOMEM. */
int pidtab_put(pidtab *t, const pidtab_entry *e);
/* NULL if unknown; valid until the next put or del. */
const pidtab_entry *pidtab_get(const pidtab *t, pid_t pid);
void pidtab_del(pidtab *t, pid_t pid);
size_t pidtab_count(const pidtab *t);

#endif
