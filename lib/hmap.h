/*
 * Small open-addressing hash maps for the workload registry: keys are
 * either C strings or 64-bit integers, values are pointers. Insert and find
 * only (the registry rebuilds its maps instead of deleting from them), which
 * keeps probing simple and lookups to one or two cache lines.
 *
 * Ownership: a string key is not copied; it must stay valid as long as the
 * entry (the registry points keys into the records it holds). Values are
 * the caller's. Not thread-safe: the registry guards its maps with a rwlock.
 */
#ifndef VG_HMAP_H
#define VG_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vg_hmap_slot {
    uint64_t hash; /* 0 = empty slot */
    union {
        const char *s;
        uint64_t u;
    } key;
    void *val;
} vg_hmap_slot;

typedef struct vg_hmap {
    vg_hmap_slot *slots;
    size_t cap; /* a power of two, or 0 before the first insert */
    size_t n;
    bool str_keys;
} vg_hmap;

void vg_hmap_init(vg_hmap *m, bool str_keys);
void vg_hmap_free(vg_hmap *m); /* frees the slots, not the values */

/* Insert or replace. 0 or -ENOMEM. */
int vg_hmap_put_str(vg_hmap *m, const char *key, void *val);
int vg_hmap_put_u64(vg_hmap *m, uint64_t key, void *val);

/* The value, or NULL. */
void *vg_hmap_get_str(const vg_hmap *m, const char *key);
void *vg_hmap_get_u64(const vg_hmap *m, uint64_t key);

#endif
