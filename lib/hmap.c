/* Open-addressing hash maps with linear probing; see hmap.h. */
#include "hmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a for strings, a 64-bit finaliser (splitmix) for integers; the top
 * bit is forced so that 0 can mark an empty slot. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h | (1ULL << 63);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x | (1ULL << 63);
}

void vg_hmap_init(vg_hmap *m, bool str_keys)
{
    memset(m, 0, sizeof(*m));
    m->str_keys = str_keys;
}

void vg_hmap_free(vg_hmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static bool same_key(const vg_hmap *m, const vg_hmap_slot *s, uint64_t h, const char *ks,
                     uint64_t ku)
{
    if (s->hash != h)
        return false;
    /* ks is NULL exactly when the map has integer keys; the test keeps
     * that visible to the compiler as well. */
    return m->str_keys ? ks && strcmp(s->key.s, ks) == 0 : s->key.u == ku;
}

static vg_hmap_slot *find_slot(const vg_hmap *m, uint64_t h, const char *ks, uint64_t ku)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        vg_hmap_slot *s = &m->slots[i];
        if (s->hash == 0 || same_key(m, s, h, ks, ku))
            return s;
    }
}

/* Kept at most half full, so probes stay short and an empty slot always
 * ends a search. */
static int grow(vg_hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    vg_hmap_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    vg_hmap old = *m;
    m->slots = slots;
    m->cap = cap;
    /* Keys are unique already: each moves to the first free slot of its
     * probe run, without comparing keys. */
    size_t mask = cap - 1;
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.slots[i].hash)
            continue;
        size_t j = old.slots[i].hash & mask;
        while (slots[j].hash)
            j = (j + 1) & mask;
        slots[j] = old.slots[i];
    }
    free(old.slots);
    return 0;
}

static int put(vg_hmap *m, uint64_t h, const char *ks, uint64_t ku, void *val)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
        return -ENOMEM;
    vg_hmap_slot *s = find_slot(m, h, ks, ku);
    if (s->hash == 0) {
        m->n++;
        s->hash = h;
        if (m->str_keys)
            s->key.s = ks;
        else
            s->key.u = ku;
    }
    s->val = val;
    return 0;
}

int vg_hmap_put_str(vg_hmap *m, const char *key, void *val)
{
    return put(m, hash_str(key), key, 0, val);
}

int vg_hmap_put_u64(vg_hmap *m, uint64_t key, void *val)
{
    return put(m, hash_u64(key), NULL, key, val);
}

void *vg_hmap_get_str(const vg_hmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    return find_slot(m, hash_str(key), key, 0)->val;
}

void *vg_hmap_get_u64(const vg_hmap *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    return find_slot(m, hash_u64(key), NULL, key)->val;
}
