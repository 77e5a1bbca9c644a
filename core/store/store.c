/*
 * The store over LMDB; see store.h for the contract.
 *
 * This is the only file that calls LMDB, and lmdb_errno() below is the only
 * place where an LMDB return code becomes a negative errno. Internal helpers
 * pass raw LMDB codes around so that the retry logic (map growth) can tell
 * MDB_MAP_FULL apart from a full disk; every public function translates at
 * its return.
 *
 * Changes are queued as a flat array of operations and replayed in order in
 * one write transaction at commit. Named tables are LMDB named databases;
 * their handles are opened lazily and cached by name, but a handle opened in
 * a transaction that then fails is invalid, so it is cached only once that
 * transaction has ended well.
 */
#include "store.h"

#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TABLES_MAX 64
#define TABLE_NAME_MAX 63
#define KEY_MAX 511
/* Values this big do not belong in the store; refusing them when queued
 * keeps one bad value from failing every later commit of the batch. */
#define VALUE_MAX ((size_t)1 << 30)
/* Doubling stops here, so that a runaway writer gets -ENOSPC rather than
 * the whole address space. */
#define MAP_MAX ((uint64_t)1 << 40)
#define DEFAULT_MAP_SIZE ((uint64_t)64 << 20)
#define DEFAULT_MAX_EVENTS 100000
#define DEFAULT_MAX_PENDING 65536
#define EVENTS "events"

enum op_kind { OP_PUT, OP_DEL };

struct op {
    uint8_t kind;
    uint8_t table; /* index into vg_store.tables */
    uint16_t klen;
    size_t vlen;
    unsigned char *data; /* key then value, one allocation */
};

struct table {
    char name[TABLE_NAME_MAX + 1];
    MDB_dbi dbi;
    bool open;      /* dbi is valid in the environment */
    bool fresh;     /* opened by the running transaction, not yet kept */
    size_t pending; /* queued operations on this table */
};

struct vg_store {
    MDB_env *env;
    char *dir;
    vg_store_opts opts;
    struct table tables[TABLES_MAX];
    size_t ntables;
    size_t events_tab;
    struct op *ops;
    size_t nops, cap;
    uint64_t last_event_id;
    uint64_t commit_errors;
    uint64_t failing;   /* consecutive failed commits: log transitions only */
    unsigned iterating; /* > 0 while an iter callback runs */
    bool broken;        /* the map could not be restored after a failed resize */
};

/* The one translation from LMDB return codes to negative errno. */
static int lmdb_errno(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_KEYEXIST:
        return -EEXIST;
    case MDB_NOTFOUND:
        return -ENOENT;
    case MDB_PAGE_NOTFOUND:
    case MDB_CORRUPTED:
    case MDB_INVALID:
        return -EBADMSG;
    case MDB_VERSION_MISMATCH:
        return -EPROTO;
    case MDB_PANIC:
        return -EIO;
    case MDB_MAP_FULL:
        return -ENOSPC;
    case MDB_DBS_FULL:
        return -EMFILE;
    case MDB_READERS_FULL:
    case MDB_TLS_FULL:
    case MDB_MAP_RESIZED:
        return -EAGAIN;
    case MDB_TXN_FULL:
        return -E2BIG;
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
        return -EOVERFLOW;
    case MDB_BAD_DBI:
        return -EBADF;
    case MDB_INCOMPATIBLE:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:
    case MDB_BAD_VALSIZE:
        return -EINVAL;
    default:
        return rc > 0 ? -rc : -EIO;
    }
}

static bool table_name_ok(const char *name)
{
    size_t n = name ? strnlen(name, TABLE_NAME_MAX + 1) : 0;
    return n > 0 && n <= TABLE_NAME_MAX;
}

static bool key_ok(const void *key, size_t klen)
{
    return key && klen > 0 && klen <= KEY_MAX;
}

/* The index of `name` in the table cache, adding it if new; -EMFILE when
 * the cache (and LMDB's maxdbs) is full. */
static int table_ref(vg_store *st, const char *name)
{
    for (size_t i = 0; i < st->ntables; i++)
        if (strcmp(st->tables[i].name, name) == 0)
            return (int)i;
    if (st->ntables == TABLES_MAX)
        return -EMFILE;
    struct table *t = &st->tables[st->ntables];
    memset(t, 0, sizeof(*t));
    memcpy(t->name, name, strlen(name) + 1);
    return (int)st->ntables++;
}

/* Begins a transaction. Another process may have grown the map since we
 * last looked; adopting its size is only safe when no cursor of ours points
 * into the old mapping, i.e. outside an iteration. */
static int txn_begin(vg_store *st, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(st->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED && !st->iterating) {
        rc = mdb_env_set_mapsize(st->env, 0);
        if (rc == 0)
            rc = mdb_txn_begin(st->env, NULL, flags, txn);
    }
    return rc;
}

/* Ends a transaction in which table handles may have been opened: keeps
 * them if the transaction ends well, forgets them if not. */
static int txn_end(vg_store *st, MDB_txn *txn, bool keep)
{
    int rc = 0;
    if (keep)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    for (size_t i = 0; i < st->ntables; i++) {
        struct table *t = &st->tables[i];
        if (t->fresh)
            t->open = keep && rc == 0;
        t->fresh = false;
    }
    return rc;
}

/* The table's handle in txn; with create, a missing table is created, else
 * MDB_NOTFOUND. */
static int table_dbi(vg_store *st, MDB_txn *txn, size_t ti, bool create, MDB_dbi *dbi)
{
    struct table *t = &st->tables[ti];
    if (!t->open && !t->fresh) {
        int rc = mdb_dbi_open(txn, t->name, create ? MDB_CREATE : 0, &t->dbi);
        if (rc)
            return rc;
        t->fresh = true;
    }
    *dbi = t->dbi;
    return 0;
}

/* ---- the batch ---------------------------------------------------------- */

static int queue_op(vg_store *st, enum op_kind kind, size_t ti, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
    if (st->nops == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        struct op *ops = realloc(st->ops, cap * sizeof(*ops));
        if (!ops)
            return -ENOMEM;
        st->ops = ops;
        st->cap = cap;
    }
    unsigned char *data = malloc(klen + vlen);
    if (!data)
        return -ENOMEM;
    memcpy(data, key, klen);
    if (vlen)
        memcpy(data + klen, val, vlen);
    st->ops[st->nops++] = (struct op){.kind = (uint8_t)kind,
                                      .table = (uint8_t)ti,
                                      .klen = (uint16_t)klen,
                                      .vlen = vlen,
                                      .data = data};
    st->tables[ti].pending++;
    return 0;
}

static void drop_batch(vg_store *st)
{
    for (size_t i = 0; i < st->nops; i++)
        free(st->ops[i].data);
    st->nops = 0;
    for (size_t i = 0; i < st->ntables; i++)
        st->tables[i].pending = 0;
}

/* Looks `key` up in the batch, newest change first: 0 with a copy when it
 * was put, -ENOENT when it was deleted, 1 when the batch does not touch it. */
static int batch_lookup(vg_store *st, size_t ti, const void *key, size_t klen, void **val,
                        size_t *vlen)
{
    for (size_t i = st->nops; i-- > 0;) {
        const struct op *op = &st->ops[i];
        if (op->table != ti || op->klen != klen || memcmp(op->data, key, klen) != 0)
            continue;
        if (op->kind == OP_DEL)
            return -ENOENT;
        *val = malloc(op->vlen ? op->vlen : 1);
        if (!*val)
            return -ENOMEM;
        memcpy(*val, op->data + op->klen, op->vlen);
        *vlen = op->vlen;
        return 0;
    }
    return 1;
}

/* ---- commit ------------------------------------------------------------- */

static int apply_ops(vg_store *st, MDB_txn *txn)
{
    for (size_t i = 0; i < st->nops; i++) {
        const struct op *op = &st->ops[i];
        MDB_dbi dbi;
        int rc = table_dbi(st, txn, op->table, true, &dbi);
        if (rc)
            return rc;
        MDB_val k = {op->klen, op->data};
        if (op->kind == OP_PUT) {
            MDB_val v = {op->vlen, op->data + op->klen};
            rc = mdb_put(txn, dbi, &k, &v, 0);
        } else {
            rc = mdb_del(txn, dbi, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Deletes the oldest events beyond max_events. Keys are big-endian ids, so
 * key order is id order and the oldest are first. */
static int trim_events(vg_store *st, MDB_txn *txn)
{
    const struct table *t = &st->tables[st->events_tab];
    if (!t->pending)
        return 0;
    MDB_stat ms;
    int rc = mdb_stat(txn, t->dbi, &ms);
    if (rc || ms.ms_entries <= st->opts.max_events)
        return rc;
    size_t extra = ms.ms_entries - st->opts.max_events;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, t->dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    while (extra-- > 0 && rc == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc == 0)
            rc = mdb_cursor_del(cur, 0);
    }
    mdb_cursor_close(cur);
    return rc;
}

static int commit_once(vg_store *st)
{
    MDB_txn *txn;
    int rc = txn_begin(st, 0, &txn);
    if (rc)
        return rc;
    rc = apply_ops(st, txn);
    if (rc == 0)
        rc = trim_events(st, txn);
    if (rc) {
        txn_end(st, txn, false);
        return rc;
    }
    return txn_end(st, txn, true);
}

/* Doubles the map. LMDB unmaps before it maps the new size, so a failed
 * mmap leaves no map at all: put the old size back, and if even that fails
 * the store is unusable until restarted. */
static int grow_map(vg_store *st)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    uint64_t cur = info.me_mapsize;
    if (cur >= MAP_MAX || cur * 2 > SIZE_MAX)
        return MDB_MAP_FULL;
    int rc = mdb_env_set_mapsize(st->env, (size_t)(cur * 2));
    if (rc == 0) {
        vg_info("store: map grown to %" PRIu64 " MiB", (cur * 2) >> 20);
        return 0;
    }
    vg_err("store: cannot grow the map to %" PRIu64 " MiB: %s", (cur * 2) >> 20, mdb_strerror(rc));
    if (mdb_env_set_mapsize(st->env, (size_t)cur) != 0) {
        vg_err("store: cannot map %s again; the store is unusable", st->dir);
        st->broken = true;
        return rc;
    }
    return MDB_MAP_FULL;
}

static int commit_failed(vg_store *st, int rc)
{
    st->commit_errors++;
    if (st->failing++ == 0)
        vg_warn("store: commit of %zu changes to %s failed (%s); they are kept for the next try",
                st->nops, st->dir, mdb_strerror(rc));
    return lmdb_errno(rc);
}

int vg_store_commit(vg_store *st, bool durable)
{
    if (!st)
        return -EINVAL;
    if (st->broken)
        return -EIO;
    /* A commit may remap the file under the iterating cursor. */
    if (st->iterating)
        return -EBUSY;
    int rc = 0;
    if (st->nops) {
        while ((rc = commit_once(st)) == MDB_MAP_FULL)
            if ((rc = grow_map(st)) != 0)
                break;
        if (rc)
            return commit_failed(st, rc);
        drop_batch(st);
    }
    if (durable && (rc = mdb_env_sync(st->env, 1)) != 0)
        return commit_failed(st, rc);
    if (st->failing) {
        vg_notice("store: commits to %s work again after %" PRIu64 " failures", st->dir,
                  st->failing);
        st->failing = 0;
    }
    return 0;
}

bool vg_store_dirty(const vg_store *st)
{
    return st && st->nops > 0;
}

size_t vg_store_pending(const vg_store *st)
{
    return st ? st->nops : 0;
}

bool vg_store_only_events(const vg_store *st)
{
    return st && st->tables[st->events_tab].pending == st->nops;
}

/* ---- queueing ----------------------------------------------------------- */

int vg_store_put(vg_store *st, const char *table, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
    if (!st || !table_name_ok(table) || !key_ok(key, klen) || (!val && vlen) || vlen > VALUE_MAX)
        return -EINVAL;
    int ti = table_ref(st, table);
    if (ti < 0)
        return ti;
    return queue_op(st, OP_PUT, (size_t)ti, key, klen, val, vlen);
}

int vg_store_del(vg_store *st, const char *table, const void *key, size_t klen)
{
    if (!st || !table_name_ok(table) || !key_ok(key, klen))
        return -EINVAL;
    int ti = table_ref(st, table);
    if (ti < 0)
        return ti;
    return queue_op(st, OP_DEL, (size_t)ti, key, klen, NULL, 0);
}

int vg_store_append_event(vg_store *st, uint64_t id, const void *rec, size_t len, bool keep)
{
    if (!st || (!rec && len) || len > VALUE_MAX)
        return -EINVAL;
    /* Events are the flood; rules and state must still get through. Past
     * the bound, only events to keep (violations, incidents, warnings) go
     * on, into a reserve of an eighth more, so that a full disk costs the
     * routine events first. */
    size_t bound = st->opts.max_pending + (keep ? st->opts.max_pending / 8 : 0);
    if (st->nops >= bound)
        return -ENOBUFS;
    unsigned char key[8];
    for (int i = 0; i < 8; i++)
        key[i] = (unsigned char)(id >> (56 - 8 * i));
    int rc = queue_op(st, OP_PUT, st->events_tab, key, sizeof(key), rec, len);
    if (rc == 0 && id > st->last_event_id)
        st->last_event_id = id;
    return rc;
}

uint64_t vg_store_last_event_id(vg_store *st)
{
    return st ? st->last_event_id : 0;
}

/* ---- reading ------------------------------------------------------------ */

/* A read transaction with the table's handle; MDB_NOTFOUND if the table
 * does not exist. */
static int read_begin(vg_store *st, size_t ti, MDB_txn **txn, MDB_dbi *dbi)
{
    int rc = txn_begin(st, MDB_RDONLY, txn);
    if (rc)
        return rc;
    rc = table_dbi(st, *txn, ti, false, dbi);
    if (rc)
        txn_end(st, *txn, false);
    return rc;
}

/* Committing a read transaction is what keeps a handle it opened. */
static void read_end(vg_store *st, MDB_txn *txn)
{
    txn_end(st, txn, true);
}

/* Commits first if the batch touches the table, so that reads see it. */
static int settle_table(vg_store *st, size_t ti)
{
    return st->tables[ti].pending ? vg_store_commit(st, false) : 0;
}

int vg_store_get(vg_store *st, const char *table, const void *key, size_t klen, void **val,
                 size_t *vlen)
{
    if (!st || !table_name_ok(table) || !key_ok(key, klen) || !val || !vlen)
        return -EINVAL;
    if (st->broken)
        return -EIO;
    int ti = table_ref(st, table);
    if (ti < 0)
        return ti;
    /* When the batch cannot be written (full disk, inside an iteration),
     * the queued change is still what the caller must see. */
    if (settle_table(st, (size_t)ti) != 0) {
        int brc = batch_lookup(st, (size_t)ti, key, klen, val, vlen);
        if (brc <= 0)
            return brc;
    }
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc = read_begin(st, (size_t)ti, &txn, &dbi);
    if (rc)
        return lmdb_errno(rc);
    MDB_val k = {klen, (void *)key}, v;
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        *val = malloc(v.mv_size ? v.mv_size : 1);
        if (*val) {
            memcpy(*val, v.mv_data, v.mv_size);
            *vlen = v.mv_size;
        }
    }
    read_end(st, txn);
    if (rc)
        return lmdb_errno(rc);
    return *val ? 0 : -ENOMEM;
}

/* Places the cursor on the first record in the direction of travel. */
static int iter_first(MDB_cursor *cur, MDB_val *k, MDB_val *v, const void *start, size_t slen,
                      bool reverse)
{
    if (!start || !slen)
        return mdb_cursor_get(cur, k, v, reverse ? MDB_LAST : MDB_FIRST);
    k->mv_data = (void *)start;
    k->mv_size = slen;
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (!reverse)
        return rc;
    /* SET_RANGE finds the first key >= start; going backwards we want the
     * last key <= start. */
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(cur, k, v, MDB_LAST);
    if (rc == 0 && (k->mv_size != slen || memcmp(k->mv_data, start, slen) != 0))
        return mdb_cursor_get(cur, k, v, MDB_PREV);
    return rc;
}

static int iter_run(vg_store *st, MDB_cursor *cur, const void *start, size_t slen, bool reverse,
                    vg_store_iter_cb cb, void *arg)
{
    MDB_val k, v;
    int rc = iter_first(cur, &k, &v, start, slen, reverse);
    st->iterating++;
    while (rc == 0) {
        int crc = cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
        if (crc != 0) {
            st->iterating--;
            return crc < 0 ? crc : 0;
        }
        rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT);
    }
    st->iterating--;
    return rc == MDB_NOTFOUND ? 0 : lmdb_errno(rc);
}

int vg_store_iter(vg_store *st, const char *table, const void *start, size_t slen, bool reverse,
                  vg_store_iter_cb cb, void *arg)
{
    if (!st || !table_name_ok(table) || !cb || slen > KEY_MAX)
        return -EINVAL;
    if (st->broken)
        return -EIO;
    int ti = table_ref(st, table);
    if (ti < 0)
        return ti;
    int rc = settle_table(st, (size_t)ti);
    if (rc)
        return rc;
    MDB_txn *txn;
    MDB_dbi dbi;
    rc = read_begin(st, (size_t)ti, &txn, &dbi);
    if (rc == MDB_NOTFOUND)
        return 0; /* a table never written is empty */
    if (rc)
        return lmdb_errno(rc);
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc) {
        read_end(st, txn);
        return lmdb_errno(rc);
    }
    rc = iter_run(st, cur, start, slen, reverse, cb, arg);
    mdb_cursor_close(cur);
    read_end(st, txn);
    return rc;
}

/* ---- open, close, stats ------------------------------------------------- */

static int schema_decode(const void *buf, size_t len, uint64_t *out)
{
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpacked_init(&u);
    int ok = msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len &&
             u.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER;
    if (ok)
        *out = u.data.via.u64;
    msgpack_unpacked_destroy(&u);
    return ok ? 0 : -EBADMSG;
}

static int schema_write(vg_store *st)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = msgpack_pack_uint64(&pk, VG_STORE_SCHEMA) ? -ENOMEM : 0;
    if (rc == 0)
        rc = vg_store_put(st, "meta", "schema", 6, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc ? rc : vg_store_commit(st, true);
}

/* Refuses a store written by a newer vigil: it may hold records this one
 * would misread, and writing to it could destroy them. */
static int schema_check(vg_store *st)
{
    void *val;
    size_t len;
    uint64_t ver;
    int rc = vg_store_get(st, "meta", "schema", 6, &val, &len);
    if (rc == -ENOENT && (rc = schema_write(st)) == 0)
        return 0;
    if (rc) {
        vg_err("store: %s: cannot read or write the schema version: %s", st->dir, strerror(-rc));
        return rc;
    }
    rc = schema_decode(val, len, &ver);
    free(val);
    if (rc) {
        vg_err("store: %s: meta.schema is not a msgpack unsigned integer", st->dir);
        return rc;
    }
    if (ver > VG_STORE_SCHEMA) {
        vg_err("store: %s has schema %" PRIu64 ", this vigil knows up to %d; not touching it",
               st->dir, ver, VG_STORE_SCHEMA);
        return -EPROTO;
    }
    return 0;
}

static int last_id_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    const unsigned char *k = key;
    uint64_t id = 0;
    if (klen != 8)
        return -EBADMSG;
    for (int i = 0; i < 8; i++)
        id = id << 8 | k[i];
    *(uint64_t *)arg = id;
    return 1;
}

static int env_open(vg_store *st)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t map = st->opts.map_size;
    if (page > 0)
        map = (map + (uint64_t)page - 1) / (uint64_t)page * (uint64_t)page;
    int rc = mdb_env_create(&st->env);
    if (rc)
        return rc;
    if ((rc = mdb_env_set_maxdbs(st->env, TABLES_MAX)) != 0 ||
        (rc = mdb_env_set_mapsize(st->env, (size_t)map)) != 0 ||
        (rc = mdb_env_open(st->env, st->dir, MDB_NOSYNC | MDB_NOTLS, 0600)) != 0) {
        mdb_env_close(st->env);
        st->env = NULL;
        return rc;
    }
    /* A daemon killed with -9 leaves its reader slot behind, which would
     * pin old pages forever. */
    int dead = 0;
    mdb_reader_check(st->env, &dead);
    return 0;
}

static void store_free(vg_store *st)
{
    drop_batch(st);
    free(st->ops);
    if (st->env)
        mdb_env_close(st->env);
    free(st->dir);
    free(st);
}

int vg_store_open(const char *dir, const vg_store_opts *opts, vg_store **out)
{
    if (!dir || !out)
        return -EINVAL;
    vg_store *st = calloc(1, sizeof(*st));
    if (!st || !(st->dir = strdup(dir))) {
        free(st);
        return -ENOMEM;
    }
    if (opts)
        st->opts = *opts;
    if (!st->opts.map_size)
        st->opts.map_size = DEFAULT_MAP_SIZE;
    if (!st->opts.max_events)
        st->opts.max_events = DEFAULT_MAX_EVENTS;
    if (!st->opts.max_pending)
        st->opts.max_pending = DEFAULT_MAX_PENDING;
    st->events_tab = (size_t)table_ref(st, EVENTS);

    int rc = env_open(st);
    if (rc) {
        vg_err("store: cannot open %s: %s", dir, mdb_strerror(rc));
        rc = lmdb_errno(rc);
    } else if ((rc = schema_check(st)) == 0) {
        rc = vg_store_iter(st, EVENTS, NULL, 0, true, last_id_cb, &st->last_event_id);
        if (rc)
            vg_err("store: %s: cannot read the last event id: %s", dir, strerror(-rc));
    }
    if (rc) {
        store_free(st); /* drops whatever schema_write could not commit */
        return rc;
    }
    *out = st;
    return 0;
}

void vg_store_close(vg_store *st)
{
    if (!st)
        return;
    if (!st->broken) {
        size_t n = st->nops;
        int rc = vg_store_commit(st, true);
        if (rc)
            vg_err("store: closing %s with %zu changes not written: %s", st->dir, n, strerror(-rc));
    }
    store_free(st);
}

int vg_store_stats_get(vg_store *st, vg_store_stats *out)
{
    if (!st || !out)
        return -EINVAL;
    if (st->broken)
        return -EIO;
    memset(out, 0, sizeof(*out));
    MDB_envinfo info;
    MDB_stat ms;
    int rc = mdb_env_info(st->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(st->env, &ms);
    if (rc)
        return lmdb_errno(rc);
    out->map_size = info.me_mapsize;
    out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
    out->pending = st->nops;
    out->commit_errors = st->commit_errors;

    char path[4096];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/data.mdb", st->dir);
    if (stat(path, &sb) == 0)
        out->file_bytes = (uint64_t)sb.st_size;

    MDB_txn *txn;
    MDB_dbi dbi;
    rc = read_begin(st, st->events_tab, &txn, &dbi);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return lmdb_errno(rc);
    rc = mdb_stat(txn, dbi, &ms);
    if (rc == 0)
        out->events = ms.ms_entries;
    read_end(st, txn);
    return lmdb_errno(rc);
}
