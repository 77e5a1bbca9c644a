/*
 * The decision cache: subject -> allow/deny, filled from rule matches and
 * policy answers, asked by plugins' hot paths from any thread.
 *
 * An open-addressing table under one mutex. An answer stays valid only for
 * the rules generation it was computed at: a lookup or insertion at another
 * generation empties the table first, so a rule change is seen at once.
 * When the table is half full it is emptied too: the hot set refills in a
 * few events, and there is never an eviction policy to get wrong.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

struct slot {
    uint64_t hash; /* 0: empty */
    char *key;
    uint32_t klen;
    int decision;
};

struct vg__cache {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t cap, used; /* cap is a power of two */
    uint64_t gen;
};

static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h ? h : 1;
}

int vg__cache_new(size_t cap, vg__cache **out)
{
    size_t c = 1024;
    while (c < cap)
        c <<= 1;
    vg__cache *x = calloc(1, sizeof(*x));
    if (!x || !(x->slots = calloc(c, sizeof(*x->slots)))) {
        free(x);
        return -ENOMEM;
    }
    x->cap = c;
    pthread_mutex_init(&x->lock, NULL);
    *out = x;
    return 0;
}

static void clear_locked(vg__cache *c)
{
    for (size_t i = 0; i < c->cap && c->used; i++) {
        if (c->slots[i].hash) {
            free(c->slots[i].key);
            c->slots[i] = (struct slot){0};
            c->used--;
        }
    }
    c->used = 0;
}

void vg__cache_free(vg__cache *c)
{
    if (!c)
        return;
    clear_locked(c);
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

void vg__cache_clear(vg__cache *c)
{
    pthread_mutex_lock(&c->lock);
    clear_locked(c);
    pthread_mutex_unlock(&c->lock);
}

static void check_gen(vg__cache *c, uint64_t gen)
{
    if (c->gen != gen) {
        clear_locked(c);
        c->gen = gen;
    }
}

static struct slot *find(vg__cache *c, uint64_t h, const char *key, size_t klen)
{
    for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        struct slot *s = &c->slots[i];
        if (!s->hash || (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0))
            return s;
    }
}

int vg__cache_get(vg__cache *c, uint64_t gen, const char *key, size_t klen)
{
    uint64_t h = hash_key(key, klen);
    pthread_mutex_lock(&c->lock);
    check_gen(c, gen);
    struct slot *s = find(c, h, key, klen);
    int d = s->hash ? s->decision : VG_DECIDE_UNKNOWN;
    pthread_mutex_unlock(&c->lock);
    return d;
}

void vg__cache_put(vg__cache *c, uint64_t gen, const char *key, size_t klen, int decision)
{
    uint64_t h = hash_key(key, klen);
    char *k = malloc(klen ? klen : 1);
    if (!k)
        return; /* a cache may forget */
    memcpy(k, key, klen);
    pthread_mutex_lock(&c->lock);
    check_gen(c, gen);
    if (c->used >= c->cap / 2)
        clear_locked(c);
    struct slot *s = find(c, h, key, klen);
    if (s->hash) {
        s->decision = decision;
        free(k);
    } else {
        *s = (struct slot){.hash = h, .key = k, .klen = (uint32_t)klen, .decision = decision};
        c->used++;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Called for every decision, so no snprintf: plain copies. Returns the new
 * length, or size when s does not fit. */
static size_t put(char *buf, size_t len, size_t size, char sep, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (len >= size || n + 1 > size - len)
        return size;
    buf[len] = sep;
    memcpy(buf + len + 1, s, n);
    return len + 1 + n;
}

size_t vg__cache_key(char *buf, size_t size, const char *group, int plane,
                     const char *const *fields)
{
    char p[2] = {(char)('0' + plane), '\0'};
    size_t len = put(buf, 0, size, '\x1e', group);
    len = put(buf, len, size, '\x1e', p);
    const char *const *names = vg_rule_field_names(plane);
    for (size_t i = 0; names && names[i]; i++)
        len = put(buf, len, size, '\x1f', fields[i]);
    return len < size ? len : 0;
}
