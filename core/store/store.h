/*
 * The store: one LMDB environment in the state directory, with named tables.
 *
 * Tables used by the core: "meta" (schema version), "groups", "rules",
 * "events" (bounded, oldest trimmed), "reports"; plugins get
 * "plugin.<name>.<table>". Keys and values are byte strings; values are
 * msgpack by convention.
 *
 * Writes are batched: put/del/append_event queue the change in memory and
 * return; vg_store_commit() applies the whole batch in one LMDB transaction
 * (the daemon commits anything but events in the loop iteration that queued
 * it, and events in batches: at most 50 ms after the first of a batch, or
 * at 1024). On MDB_MAP_FULL the map is grown and the batch retried. When
 * a commit fails (a full disk) the batch is kept and retried at the next
 * commit, so nothing is lost while memory lasts; the batch is bounded
 * (opts.max_pending), and beyond it new events are refused with -ENOBUFS
 * while other writes are still kept.
 *
 * Durability: the environment is opened with MDB_NOSYNC so that a busy event
 * stream does not fsync per iteration. A commit with durable=true ends with
 * an fsync (mdb_env_sync), and the daemon makes one before it acknowledges a
 * write to a user, and from a 1 s timer, and at shutdown. Committed data
 * survives kill -9 of the daemon in any case (it is in the page cache); the
 * fsync is what makes it survive a power loss. Events still waiting for
 * their batch (50 ms at most) are what a kill -9 loses; a read of the
 * events table (`vigilctl events`) commits them first.
 *
 * Every LMDB error is translated to a negative errno in store.c and nowhere
 * else. All calls belong to one thread (the loop thread).
 */
#ifndef VG_STORE_H
#define VG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_STORE_SCHEMA 1

typedef struct vg_store vg_store;

typedef struct vg_store_opts {
    uint64_t map_size;   /* initial map size in bytes; 0 = 64 MiB */
    uint64_t max_events; /* events kept; 0 = 100000 */
    size_t max_pending;  /* queued changes before events are refused; 0 = 65536 */
} vg_store_opts;

typedef struct vg_store_stats {
    uint64_t map_size;   /* bytes reserved */
    uint64_t used_bytes; /* high-water mark of pages used * page size */
    uint64_t file_bytes; /* size of data.mdb on disk */
    uint64_t events;     /* entries in "events" */
    uint64_t pending;    /* queued, not yet committed */
    uint64_t commit_errors;
} vg_store_stats;

/* Opens (creating) the environment in `dir` (which must exist). Checks the
 * schema version in "meta": a newer schema is refused with -EPROTO, a
 * missing one is written. opts may be NULL. */
int vg_store_open(const char *dir, const vg_store_opts *opts, vg_store **out);

/* Commits what is queued (durably), then closes. NULL is fine. */
void vg_store_close(vg_store *st);

/* Queue a change. Table names are at most 63 bytes; keys at most 511 bytes
 * (LMDB's limit); values at most 1 GiB. Both copy their arguments. 0,
 * -EINVAL, -ENOMEM, or -EMFILE beyond 64 distinct tables. */
int vg_store_put(vg_store *st, const char *table, const void *key, size_t klen, const void *val,
                 size_t vlen);
int vg_store_del(vg_store *st, const char *table, const void *key, size_t klen);

/* Reads one value, seeing queued changes (the batch is committed first if it
 * touches `table`). *val is malloc()ed, the caller frees it. -ENOENT if
 * absent. */
int vg_store_get(vg_store *st, const char *table, const void *key, size_t klen, void **val,
                 size_t *vlen);

/* Iterates `table` in key order (reverse = from the last key), starting at
 * the first key >= start (<= start when reverse); start NULL = from the end
 * in the direction of travel. cb returns 0 to go on, 1 to stop, <0 to abort
 * with that error. Commits a pending batch touching the table first. The
 * key and value pointers point into the mapped file and are valid only
 * during the callback; the callback must not commit (-EBUSY). */
typedef int (*vg_store_iter_cb)(const void *key, size_t klen, const void *val, size_t vlen,
                                void *arg);
int vg_store_iter(vg_store *st, const char *table, const void *start, size_t slen, bool reverse,
                  vg_store_iter_cb cb, void *arg);

/* Queues an event record under its id (big-endian 8-byte key in "events").
 * Oldest records beyond max_events are trimmed at commit. -ENOBUFS when the
 * pending batch is full (while commits fail, e.g. on a full disk); an event
 * to `keep` (vg_store_skip_important) still finds room in a reserve of an
 * eighth of max_pending beyond that. */
int vg_store_append_event(vg_store *st, uint64_t id, const void *rec, size_t len, bool keep);

/* The highest event id stored (0 if none), committed or queued. */
uint64_t vg_store_last_event_id(vg_store *st);

/* Applies the queued batch in one transaction; durable adds an fsync.
 * 0 or a negative errno (the batch is then kept for the next try). */
int vg_store_commit(vg_store *st, bool durable);

/* True if changes are queued. */
bool vg_store_dirty(const vg_store *st);

/* How many changes are queued, and whether all of them are event records
 * (vg_store_append_event): the daemon commits rules, groups and plugin
 * state in the loop iteration that queued them, and lets events gather
 * into larger batches (core/daemon/daemon.c). */
size_t vg_store_pending(const vg_store *st);
bool vg_store_only_events(const vg_store *st);

int vg_store_stats_get(vg_store *st, vg_store_stats *out);

#endif
