/* The table of live processes: open addressing with linear probing and
 * backward-shift deletion (no tombstones, so it never degrades). */
#include "pidtab.h"

#include <errno.h>
#include <stdlib.h>

struct pidtab {
    pidtab_entry *slots;
    size_t mask, count, max;
};

pidtab *pidtab_new(size_t capacity)
{
    size_t n = 64;
    while (n < capacity * 2)
        n <<= 1;
    pidtab *t = calloc(1, sizeof(*t));
    if (!t || !(t->slots = calloc(n, sizeof(*t->slots)))) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    t->max = n / 2; /* at most half full keeps probes short */
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

int pidtab_put(pidtab *t, const pidtab_entry *e)
{
    size_t i = find(t, e->pid);
    if (!t->slots[i].pid) {
        if (t->count == t->max)
            return -ENOSPC;
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
