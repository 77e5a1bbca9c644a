/* Container processes remembered between discovery scans; see
 * proc_memo.h. */
#include "proc_memo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "hmap.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* A fork bomb in a container must not grow the daemon without bound. */
#define MEMO_MAX (1u << 20)

/* One cgroup key, shared by every process of a container. */
struct memo_key {
    char *s;
    uint64_t gen; /* the last scan that kept a process in it */
};

struct memo_ent {
    uint64_t ino;
    struct memo_key *key;
};

/* One scan's processes: pid -> index + 1 into v. */
struct memo_gen {
    vg_hmap by_pid;
    struct memo_ent *v;
    size_t n, cap;
};

struct vg__proc_memo {
    struct memo_gen cur, next; /* the last scan's; the one being made */
    vg_hmap keys;              /* key string -> struct memo_key */
    struct memo_key **kv;
    size_t nkeys, keys_cap;
    uint64_t gen;
};

static void gen_init(struct memo_gen *g)
{
    memset(g, 0, sizeof(*g));
    vg_hmap_init(&g->by_pid, false);
}

static void gen_free(struct memo_gen *g)
{
    vg_hmap_free(&g->by_pid);
    free(g->v);
    gen_init(g);
}

vg__proc_memo *vg__proc_memo_new(const char *proc_dir)
{
    struct statfs sf;
    if (statfs(proc_dir, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
        return NULL;
    vg__proc_memo *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    gen_init(&m->cur);
    gen_init(&m->next);
    vg_hmap_init(&m->keys, true);
    m->gen = 1;
    return m;
}

void vg__proc_memo_free(vg__proc_memo *m)
{
    if (!m)
        return;
    gen_free(&m->cur);
    gen_free(&m->next);
    for (size_t i = 0; i < m->nkeys; i++) {
        free(m->kv[i]->s);
        free(m->kv[i]);
    }
    free(m->kv);
    vg_hmap_free(&m->keys);
    free(m);
}

const char *vg__proc_memo_key(const vg__proc_memo *m, pid_t pid, uint64_t ino)
{
    uintptr_t i = m && ino > 1 ? (uintptr_t)vg_hmap_get_u64(&m->cur.by_pid, (uint64_t)pid) : 0;
    return i && m->cur.v[i - 1].ino == ino ? m->cur.v[i - 1].key->s : NULL;
}

/* The shared copy of key, made if new. */
static struct memo_key *intern(vg__proc_memo *m, const char *key)
{
    struct memo_key *k = vg_hmap_get_str(&m->keys, key);
    if (k)
        return k;
    if (m->nkeys == m->keys_cap) {
        size_t cap = m->keys_cap ? m->keys_cap * 2 : 64;
        struct memo_key **kv = realloc(m->kv, cap * sizeof(*kv));
        if (!kv)
            return NULL;
        m->kv = kv;
        m->keys_cap = cap;
    }
    if (!(k = calloc(1, sizeof(*k))) || !(k->s = strdup(key)) ||
        vg_hmap_put_str(&m->keys, k->s, k) < 0) {
        if (k)
            free(k->s);
        free(k);
        return NULL;
    }
    m->kv[m->nkeys++] = k;
    return k;
}

int vg__proc_memo_keep(vg__proc_memo *m, pid_t pid, uint64_t ino, const char *key)
{
    struct memo_gen *g = &m->next;
    if (ino <= 1 || g->n >= MEMO_MAX)
        return 0; /* an inode procfs could not make, or too many */
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        struct memo_ent *v = realloc(g->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        g->v = v;
        g->cap = cap;
    }
    struct memo_key *k = intern(m, key);
    if (!k || vg_hmap_put_u64(&g->by_pid, (uint64_t)pid, (void *)(uintptr_t)(g->n + 1)) < 0)
        return -ENOMEM;
    k->gen = m->gen;
    g->v[g->n++] = (struct memo_ent){ino, k};
    return 0;
}

/* Frees the keys no process of the current scan is in. The index is
 * rebuilt rather than deleted from (vg_hmap has no delete). */
static void sweep_keys(vg__proc_memo *m)
{
    size_t kept = 0;
    for (size_t i = 0; i < m->nkeys; i++) {
        if (m->kv[i]->gen == m->gen) {
            m->kv[kept++] = m->kv[i];
        } else {
            free(m->kv[i]->s);
            free(m->kv[i]);
        }
    }
    if (kept == m->nkeys)
        return;
    m->nkeys = kept;
    vg_hmap_free(&m->keys);
    vg_hmap_init(&m->keys, true);
    for (size_t i = 0; i < m->nkeys; i++)
        if (vg_hmap_put_str(&m->keys, m->kv[i]->s, m->kv[i]) < 0) {
            /* Out of memory: forget everything rather than keep a key
             * that the index no longer finds. */
            gen_free(&m->cur);
            m->gen++;
            sweep_keys(m);
            return;
        }
}

void vg__proc_memo_end(vg__proc_memo *m)
{
    if (!m)
        return;
    gen_free(&m->cur);
    m->cur = m->next;
    gen_init(&m->next);
    sweep_keys(m);
    m->gen++;
}

void vg__proc_memo_drop(vg__proc_memo *m)
{
    if (m)
        gen_free(&m->next);
}
