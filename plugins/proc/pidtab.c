/* The table of live processes: open addressing with linear probing and
 * backward-shift deletion (no tombstones, so it never degrades). It starts
 * small and doubles as it fills, up to the bound: a table sized for the
 * bound at once (a million processes by default) is untouched memory at
 * first, but pids spread over it, so that every process of a busy host
 * soon has a page of its own in the daemon's resident memory, and each
 * new one a page fault. */
#include "pidtab.h"

#include <errno.h>
#include <stdlib.h>

#define FIRST_SLOTS 1024 /* 32 KiB: an idle host's processes */

struct pidtab {
    pidtab_entry *slots;
    size_t mask, count, max;
    size_t bound; /* entries at most, whatever the size */
};

pidtab *pidtab_new(size_t capacity)
{
    size_t n = 64;
    while (n < capacity * 2)
        n <<= 1;
    size_t first = n < FIRST_SLOTS ? n : FIRST_SLOTS;
    pidtab *t = calloc(1, sizeof(*t));
    if (!t || !(t->slots = calloc(first, sizeof(*t->slots)))) {
        free(t);
        return NULL;
    }
    t->mask = first - 1;
    t->max = first / 2; /* at most half full keeps probes short */
    t->bound = n / 2;
    return t;
}

void pidtab_free(pidtab *t)
{
    if (t)
        free(t->slots);
    free(t);
}

static size_t home(const pidtab *t, pid_t pid)
{
    return ((size_t)pid * 2654435761u) & t->mask;
}

static size_t find(const pidtab *t, pid_t pid)
{
    size_t i = home(t, pid);
    while (t->slots[i].pid && t->slots[i].pid != pid)
        i = (i + 1) & t->mask;
    return i;
}

/* Twice the slots, every entry moved to its new home. Failing (no memory)
 * leaves the table as it was. */
static int grow(pidtab *t)
{
    size_t n = (t->mask + 1) * 2;
    pidtab_entry *old = t->slots, *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    size_t old_n = t->mask + 1;
    t->slots = slots;
    t->mask = n - 1;
    t->max = n / 2;
    for (size_t i = 0; i < old_n; i++)
        if (old[i].pid)
            t->slots[find(t, old[i].pid)] = old[i];
    free(old);
    return 0;
}

int pidtab_put(pidtab *t, const pidtab_entry *e)
{
    size_t i = find(t, e->pid);
    if (!t->slots[i].pid) {
        if (t->count == t->bound)
            return -ENOSPC;
        if (t->count == t->max) {
            int rc = grow(t);
            if (rc < 0)
                return rc;
            i = find(t, e->pid);
        }
        t->count++;
    }
    t->slots[i] = *e;
    return 0;
}

const pidtab_entry *pidtab_get(const pidtab *t, pid_t pid)
{
    size_t i = find(t, pid);
    return t->slots[i].pid ? &t->slots[i] : NULL;
}

void pidtab_del(pidtab *t, pid_t pid)
{
    size_t i = find(t, pid);
    if (!t->slots[i].pid)
        return;
    t->count--;
    /* Shift later members of the probe run back over the hole. */
    for (size_t j = (i + 1) & t->mask; t->slots[j].pid; j = (j + 1) & t->mask) {
        size_t h = home(t, t->slots[j].pid);
        if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].pid = 0;
}

size_t pidtab_count(const pidtab *t)
{
    return t->count;
}
