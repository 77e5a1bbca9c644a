/*
 * The rules index; see rules.h.
 *
 * Every rule is one entry in a chained hash table keyed by its canonical key
 * "group \0 plane \0 subject" (the subject's fields joined by \x1f, an empty
 * field written as "*"). That key is also the rule's key in the store's
 * "rules" table, so that a put replaces and a delete finds the stored record
 * without a scan. Rules with a "*" field are additionally listed per
 * (group, plane), since a concrete subject can only find them by trying
 * each: the exact lookup is O(1), the wildcard pass O(wildcard rules of
 * that group and plane), which learned rules (always concrete) do not grow.
 *
 * When several wildcard rules match, the most specific one (fewest "*")
 * wins, and among equally specific ones a deny wins: a written deny for
 * "any user" must not be undone by an equally broad allow.
 *
 * Policy files declare rules that live in memory only (persist false); such
 * a rule may override a stored one with the same subject. The stored one is
 * kept aside (the entry's `shadow`) and comes back when the policy's rules
 * are cleared before a reload.
 */
#include "rules.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mp.h"
#include "rules_int.h"

#define TABLE "rules"
#define SEP '\x1f'
/* LMDB refuses longer keys; longer canonical keys are stored under a prefix
 * plus a hash of the whole (see store_key). */
#define STORE_KEY_MAX 511

/* A rule in the index, compact (a vg_rule is 1.7 KiB, most of it unused
 * field room; learned rules number in the tens of thousands): one block
 * with the key, then the fields each ending in NUL. */
typedef struct entry {
    struct entry *next;   /* hash chain */
    struct entry *shadow; /* a stored rule overridden by a policy's rule */
    uint64_t hash;
    int64_t created_ns;
    int8_t plane, action, origin, wild; /* wild: number of "*" fields */
    bool persisted;
    char *comment;                          /* NULL for none */
    const char *fields[VG_RULE_FIELDS_MAX]; /* into text, "*" for any */
    size_t klen;
    char key[]; /* group \0 plane \0 subject (klen bytes), NUL, the fields */
} entry;

/* The group is the key's first string. */
#define ENTRY_GROUP(e) ((e)->key)

/* The wildcard rules of one (group, plane). */
typedef struct wlist {
    struct wlist *next;
    char group[VG_GROUP_MAX];
    int plane;
    entry **v;
    size_t n, cap;
} wlist;

struct vg_rules {
    vg_store *st;
    pthread_rwlock_t lock;
    entry **buckets;
    size_t nbuckets, count;
    wlist *wild; /* few: one per (group, plane) with wildcard rules */
    uint64_t generation;
};

/* ---- keys and hashing --------------------------------------------------- */

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

/* Writes the canonical key of (group, plane, fields) into buf (at least
 * VG_GROUP_MAX + 8 + VG_RULE_FIELDS_MAX * VG_RULE_FIELD_MAX bytes) and
 * returns its length. */
static size_t make_key(char *buf, const char *group, int plane, const char *const *fields)
{
    size_t off = 0, n = strlen(group);
    memcpy(buf, group, n + 1);
    off = n + 1;
    n = strlen(vg_plane_name(plane));
    memcpy(buf + off, vg_plane_name(plane), n + 1);
    off += n + 1;
    int nf = vg__rule_nfields(plane);
    for (int i = 0; i < nf; i++) {
        const char *f = vg__rule_is_wild(fields[i]) ? "*" : fields[i];
        n = strlen(f);
        memcpy(buf + off, f, n);
        off += n;
        if (i + 1 < nf)
            buf[off++] = SEP;
    }
    return off;
}

#define KEY_BUF (VG_GROUP_MAX + 8 + VG_RULE_FIELDS_MAX * VG_RULE_FIELD_MAX)

static size_t rule_key(char *buf, const vg_rule *rule)
{
    const char *f[VG_RULE_FIELDS_MAX];
    for (int i = 0; i < VG_RULE_FIELDS_MAX; i++)
        f[i] = rule->fields[i];
    return make_key(buf, rule->group, rule->plane, f);
}

/* The store key: the canonical key, or for one past LMDB's limit its first
 * bytes and the hex FNV-1a hash of the whole, which is as deterministic
 * (put and del find the same record) and, with 64 bits, as unique. */
static size_t store_key(char *out, const char *key, size_t klen)
{
    if (klen <= STORE_KEY_MAX) {
        memcpy(out, key, klen);
        return klen;
    }
    size_t pre = STORE_KEY_MAX - 17;
    memcpy(out, key, pre);
    snprintf(out + pre, 18, "#%016llx", (unsigned long long)fnv1a(key, klen));
    return STORE_KEY_MAX;
}

/* ---- the index ---------------------------------------------------------- */

static entry **find_slot(vg_rules *r, const char *key, size_t klen, uint64_t h)
{
    entry **pp = &r->buckets[h & (r->nbuckets - 1)];
    while (*pp && ((*pp)->hash != h || (*pp)->klen != klen || memcmp((*pp)->key, key, klen)))
        pp = &(*pp)->next;
    return pp;
}

static int grow(vg_rules *r)
{
    size_t n = r->nbuckets * 2;
    entry **b = calloc(n, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < r->nbuckets; i++) {
        for (entry *e = r->buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = n;
    return 0;
}

static wlist *find_wlist(vg_rules *r, const char *group, int plane, bool create)
{
    for (wlist *w = r->wild; w; w = w->next)
        if (w->plane == plane && strcmp(w->group, group) == 0)
            return w;
    if (!create)
        return NULL;
    wlist *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    snprintf(w->group, sizeof(w->group), "%s", group);
    w->plane = plane;
    w->next = r->wild;
    r->wild = w;
    return w;
}

static int wild_add(vg_rules *r, entry *e)
{
    wlist *w = find_wlist(r, ENTRY_GROUP(e), e->plane, true);
    if (!w)
        return -ENOMEM;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        entry **v = realloc(w->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = e;
    return 0;
}

static void wild_remove(vg_rules *r, entry *e)
{
    wlist *w = find_wlist(r, ENTRY_GROUP(e), e->plane, false);
    for (size_t i = 0; w && i < w->n; i++) {
        if (w->v[i] == e) {
            w->v[i] = w->v[--w->n];
            return;
        }
    }
}

static void entry_free(entry *e)
{
    if (!e)
        return;
    entry_free(e->shadow);
    free(e->comment);
    free(e);
}

static entry *entry_new(const vg_rule *rule, const char *key, size_t klen, uint64_t h, bool persist)
{
    int nf = vg__rule_nfields(rule->plane);
    size_t text = 0;
    for (int i = 0; i < nf; i++)
        text += (vg__rule_is_wild(rule->fields[i]) ? 1 : strlen(rule->fields[i])) + 1;
    entry *e = calloc(1, sizeof(*e) + klen + 1 + text);
    if (!e)
        return NULL;
    if (rule->comment[0] && !(e->comment = strdup(rule->comment))) {
        free(e);
        return NULL;
    }
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->hash = h;
    e->plane = (int8_t)rule->plane;
    e->action = (int8_t)rule->action;
    e->origin = (int8_t)rule->origin;
    e->created_ns = rule->created_ns;
    e->persisted = persist;
    char *p = e->key + klen + 1;
    for (int i = 0; i < VG_RULE_FIELDS_MAX; i++) {
        if (i >= nf) {
            e->fields[i] = "";
            continue;
        }
        const char *f = vg__rule_is_wild(rule->fields[i]) ? "*" : rule->fields[i];
        e->wild += f == rule->fields[i] ? 0 : 1;
        size_t n = strlen(f) + 1;
        memcpy(p, f, n);
        e->fields[i] = p;
        p += n;
    }
    return e;
}

static void entry_rule(const entry *e, vg_rule *rule)
{
    memset(rule, 0, sizeof(*rule));
    snprintf(rule->group, sizeof(rule->group), "%s", ENTRY_GROUP(e));
    rule->plane = e->plane;
    rule->action = e->action;
    rule->origin = e->origin;
    rule->created_ns = e->created_ns;
    for (int i = 0; i < VG_RULE_FIELDS_MAX; i++)
        snprintf(rule->fields[i], VG_RULE_FIELD_MAX, "%s", e->fields[i]);
    if (e->comment)
        snprintf(rule->comment, sizeof(rule->comment), "%s", e->comment);
}

static void bump(vg_rules *r)
{
    __atomic_add_fetch(&r->generation, 1, __ATOMIC_RELEASE);
}

static int store_put(vg_rules *r, const entry *e)
{
    if (!r->st)
        return 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    vg_rule rule;
    entry_rule(e, &rule);
    int rc = vg_rule_pack(&rule, &pk);
    char k[STORE_KEY_MAX + 1];
    size_t kl = store_key(k, e->key, e->klen);
    if (rc == 0)
        rc = vg_store_put(r->st, TABLE, k, kl, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int store_del(vg_rules *r, const entry *e)
{
    if (!r->st)
        return 0;
    char k[STORE_KEY_MAX + 1];
    size_t kl = store_key(k, e->key, e->klen);
    return vg_store_del(r->st, TABLE, k, kl);
}

/* Puts e in place of *slot (or at its end), under the write lock. */
static int link_entry(vg_rules *r, entry **slot, entry *e)
{
    entry *old = *slot;
    if (e->wild && wild_add(r, e) < 0)
        return -ENOMEM;
    if (old) {
        e->next = old->next;
        if (old->wild)
            wild_remove(r, old);
        /* A policy's rule hides a stored one; anything else replaces. */
        if (!e->persisted && old->persisted) {
            e->shadow = old;
            old->next = NULL;
        } else {
            e->shadow = old->shadow;
            old->shadow = NULL;
            entry_free(old);
        }
    } else {
        r->count++;
    }
    *slot = e;
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int vg_rules_put(vg_rules *r, const vg_rule *rule, bool persist)
{
    char err[128];
    if (!r || !rule || vg__rule_check(rule, err, sizeof(err)) < 0)
        return -EINVAL;
    char key[KEY_BUF];
    size_t klen = rule_key(key, rule);
    uint64_t h = fnv1a(key, klen);
    entry *e = entry_new(rule, key, klen, h, persist);
    if (!e)
        return -ENOMEM;
    if (!e->created_ns)
        e->created_ns = now_ns();
    if (persist) {
        int rc = store_put(r, e);
        if (rc < 0) {
            entry_free(e);
            return rc;
        }
    }
    pthread_rwlock_wrlock(&r->lock);
    int rc = 0;
    if (r->count >= r->nbuckets)
        rc = grow(r);
    if (rc == 0)
        rc = link_entry(r, find_slot(r, key, klen, h), e);
    pthread_rwlock_unlock(&r->lock);
    if (rc < 0) {
        entry_free(e);
        return rc;
    }
    /* The store holds the latest persisted version; a policy rule over a
     * stored one leaves the stored record alone. */
    if (persist && e->shadow)
        entry_free(e->shadow), e->shadow = NULL;
    bump(r);
    return 0;
}

int vg_rules_del(vg_rules *r, const vg_rule *rule)
{
    if (!r || !rule || !vg_plane_name(rule->plane))
        return -EINVAL;
    char key[KEY_BUF];
    size_t klen = rule_key(key, rule);
    pthread_rwlock_wrlock(&r->lock);
    entry **slot = find_slot(r, key, klen, fnv1a(key, klen));
    entry *e = *slot;
    if (e) {
        *slot = e->next;
        if (e->wild)
            wild_remove(r, e);
        r->count--;
    }
    pthread_rwlock_unlock(&r->lock);
    if (!e)
        return -ENOENT;
    int rc = 0;
    if (e->persisted || e->shadow)
        rc = store_del(r, e->persisted ? e : e->shadow);
    entry_free(e);
    bump(r);
    return rc;
}

/* Whether e is the group's and learned: moved to *gone (chained through
 * next) and unlinked; a learned stored rule hidden by a policy's rule only
 * loses its shadow. Under the write lock. */
static size_t take_learned(vg_rules *r, entry **pp, const char *group, entry **gone, size_t *kept)
{
    size_t n = 0;
    while (*pp) {
        entry *e = *pp;
        if (strcmp(ENTRY_GROUP(e), group) != 0) {
            pp = &e->next;
            continue;
        }
        if (e->shadow && e->shadow->origin == VG_RULE_LEARNED) {
            e->shadow->next = *gone;
            *gone = e->shadow;
            e->shadow = NULL;
            n++;
        }
        if (!e->persisted || e->origin != VG_RULE_LEARNED) {
            (*kept)++;
            pp = &e->next;
            continue;
        }
        *pp = e->next;
        if (e->wild)
            wild_remove(r, e);
        r->count--;
        e->next = *gone;
        *gone = e;
        n++;
    }
    return n;
}

int vg_rules_del_learned(vg_rules *r, const char *group, size_t *kept)
{
    size_t n = 0, k = 0;
    entry *gone = NULL;
    if (!r || !group)
        return -EINVAL;
    /* One pass over every bucket: learned rules are keyed by subject, not
     * by group, and a group ages out rarely (every few minutes at most). */
    pthread_rwlock_wrlock(&r->lock);
    for (size_t i = 0; i < r->nbuckets; i++)
        n += take_learned(r, &r->buckets[i], group, &gone, &k);
    pthread_rwlock_unlock(&r->lock);
    /* The store is written outside the lock, which lookups from other
     * threads wait on. */
    int rc = 0;
    for (entry *e = gone, *next; e; e = next) {
        next = e->next;
        int del = store_del(r, e);
        if (del < 0 && del != -ENOENT)
            rc = del;
        e->next = NULL;
        entry_free(e);
    }
    if (n)
        bump(r);
    if (kept)
        *kept = k;
    return rc < 0 ? rc : (int)n;
}

void vg_rules_clear_written(vg_rules *r)
{
    if (!r)
        return;
    bool changed = false;
    pthread_rwlock_wrlock(&r->lock);
    for (size_t i = 0; i < r->nbuckets; i++) {
        for (entry **pp = &r->buckets[i]; *pp;) {
            entry *e = *pp;
            if (e->persisted) {
                pp = &e->next;
                continue;
            }
            changed = true;
            if (e->wild)
                wild_remove(r, e);
            entry *sh = e->shadow;
            e->shadow = NULL;
            if (sh) {
                sh->next = e->next;
                if (sh->wild)
                    wild_add(r, sh); /* failure only loses the wildcard lookup */
                *pp = sh;
                pp = &sh->next;
            } else {
                *pp = e->next;
                r->count--;
            }
            entry_free(e);
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (changed)
        bump(r);
}

static bool wild_matches(const entry *e, const char *const *fields, int nf)
{
    for (int i = 0; i < nf; i++)
        if (strcmp(e->fields[i], "*") != 0 && strcmp(e->fields[i], fields[i]) != 0)
            return false;
    return true;
}

int vg_rules_match(vg_rules *r, const char *group, int plane, const char *const *fields,
                   int *action)
{
    if (!r || !group || !vg_plane_name(plane) || !fields || strlen(group) >= VG_GROUP_MAX)
        return 0;
    int nf = vg__rule_nfields(plane);
    for (int i = 0; i < nf; i++)
        if (!fields[i] || strlen(fields[i]) >= VG_RULE_FIELD_MAX)
            return 0;
    char key[KEY_BUF];
    size_t klen = make_key(key, group, plane, fields);
    uint64_t h = fnv1a(key, klen);
    int found = 0;
    pthread_rwlock_rdlock(&r->lock);
    entry *e = *find_slot(r, key, klen, h);
    if (e) {
        *action = e->action;
        found = 1;
    } else {
        const entry *best = NULL;
        wlist *w = find_wlist(r, group, plane, false);
        for (size_t i = 0; w && i < w->n; i++) {
            const entry *c = w->v[i];
            if (!wild_matches(c, fields, nf))
                continue;
            if (!best || c->wild < best->wild ||
                (c->wild == best->wild && c->action == VG_RULE_DENY))
                best = c;
        }
        if (best) {
            *action = best->action;
            found = 1;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    return found;
}

/* A rule of `group` and `plane` matches a query whose "" fields stand for
 * "some value": the rule's field there may be anything. Where the query
 * gives a value, an allow rule must name it: a rule learned without a path
 * (or written with "*" for it) allows no file before its exec. A deny
 * rule's "*" covers every value. */
static bool any_matches(const entry *e, const char *group, int plane, const char *const *fields,
                        int nf, bool *covers_all)
{
    if (e->plane != plane || strcmp(ENTRY_GROUP(e), group) != 0)
        return false;
    *covers_all = true;
    for (int i = 0; i < nf; i++) {
        bool wild = strcmp(e->fields[i], "*") == 0;
        if (!fields[i][0]) {
            *covers_all = *covers_all && wild;
            continue;
        }
        if (wild ? e->action == VG_RULE_ALLOW : strcmp(e->fields[i], fields[i]) != 0)
            return false;
    }
    return true;
}

/* A scan of the whole index: the callers' answers are cached per rules
 * generation (the policy engine's decision cache), so it runs once per
 * subject between two rule changes, and protected groups rarely change. */
int vg_rules_match_any(vg_rules *r, const char *group, int plane, const char *const *fields,
                       int *action)
{
    if (!r || !group || !vg_plane_name(plane) || !fields)
        return 0;
    int nf = vg__rule_nfields(plane);
    for (int i = 0; i < nf; i++)
        if (!fields[i])
            return 0;
    bool allow = false, deny_some = false, deny_all = false;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t b = 0; b < r->nbuckets && !deny_all; b++) {
        for (const entry *e = r->buckets[b]; e; e = e->next) {
            bool covers_all;
            if (!any_matches(e, group, plane, fields, nf, &covers_all))
                continue;
            if (e->action == VG_RULE_ALLOW) {
                allow = true;
            } else {
                deny_some = true;
                deny_all = deny_all || covers_all;
            }
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (!allow && !deny_some)
        return 0;
    *action = deny_all || !allow ? VG_RULE_DENY : VG_RULE_ALLOW;
    return 1;
}

/* ---- listing ------------------------------------------------------------ */

static int cmp_entries(const void *a, const void *b)
{
    const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
    int c = strcmp(ENTRY_GROUP(x), ENTRY_GROUP(y));
    if (c)
        return c;
    if (x->plane != y->plane)
        return x->plane - y->plane;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

int vg_rules_each(vg_rules *r, const char *group, int plane,
                  int (*cb)(const vg_rule *rule, void *arg), void *arg)
{
    if (!r || !cb)
        return -EINVAL;
    /* Only the loop thread changes the index, and it is the one calling:
     * no lock is needed, and none is held while cb runs. */
    entry **v = malloc((r->count ? r->count : 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < r->nbuckets; i++)
        for (entry *e = r->buckets[i]; e; e = e->next)
            if ((!group || strcmp(group, ENTRY_GROUP(e)) == 0) && (plane < 0 || plane == e->plane))
                v[n++] = e;
    qsort(v, n, sizeof(*v), cmp_entries);
    vg_rule rule; /* 1.7 KiB: one for the whole walk */
    for (size_t i = 0; i < n; i++) {
        entry_rule(v[i], &rule);
        if (cb(&rule, arg))
            break;
    }
    free(v);
    return 0;
}

uint64_t vg_rules_generation(const vg_rules *r)
{
    return r ? __atomic_load_n(&r->generation, __ATOMIC_ACQUIRE) : 0;
}

size_t vg_rules_count(const vg_rules *r)
{
    return r ? r->count : 0;
}

/* ---- open / free -------------------------------------------------------- */

static int load_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    vg_rules *r = arg;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    char err[160] = "not msgpack";
    vg_rule rule;
    int rc = -EINVAL;
    if (msgpack_unpack_next(&up, val, vlen, NULL) == MSGPACK_UNPACK_SUCCESS)
        rc = vg_rule_unpack(&up.data, &rule, err, sizeof(err));
    msgpack_unpacked_destroy(&up);
    if (rc < 0) {
        /* One bad record must not cost the other rules. */
        vg_warn("store: skipping a malformed rule (%s)", err);
        return 0;
    }
    char k[KEY_BUF];
    size_t kl = rule_key(k, &rule);
    uint64_t h = fnv1a(k, kl);
    entry *e = entry_new(&rule, k, kl, h, true);
    if (!e)
        return -ENOMEM;
    if (r->count >= r->nbuckets && grow(r) < 0) {
        entry_free(e);
        return -ENOMEM;
    }
    rc = link_entry(r, find_slot(r, k, kl, h), e);
    if (rc < 0)
        entry_free(e);
    return rc;
}

int vg_rules_open(vg_store *st, vg_rules **out)
{
    vg_rules *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->st = st;
    r->nbuckets = 64;
    r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
    if (!r->buckets || pthread_rwlock_init(&r->lock, NULL) != 0) {
        free(r->buckets);
        free(r);
        return -ENOMEM;
    }
    int rc = st ? vg_store_iter(st, TABLE, NULL, 0, false, load_one, r) : 0;
    if (rc < 0 && rc != -ENOENT) {
        vg_rules_free(r);
        return rc;
    }
    r->generation = 1;
    *out = r;
    return 0;
}

void vg_rules_free(vg_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        for (entry *e = r->buckets[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    }
    for (wlist *w = r->wild, *next; w; w = next) {
        next = w->next;
        free(w->v);
        free(w);
    }
    free(r->buckets);
    pthread_rwlock_destroy(&r->lock);
    free(r);
}
