/*
 * Events for users: every event on the bus is stored (bounded; except the
 * types of the store_skip setting, store_skip.h) and sent to the
 * control-socket followers whose filter it matches; the "events" command
 * queries the stored ones or turns the connection into a follower.
 */
#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "ctl_proto.h"
#include "evtype.h"
#include "log.h"
#include "mp.h"

#define QUERY_DEFAULT_LIMIT 100
#define QUERY_MAX_LIMIT 10000
/* A reply must fit in one frame: the records of one page stop short of it,
 * leaving room for the reply's own keys. */
#define PAGE_BYTES (VG_CTL_MAX_FRAME - 4096)
/* Counting the matches of a filter reads every stored event, on the loop
 * (about 1 us each in an optimised build): past this much time the count stops, as a lower bound,
 * so that a query never holds the loop for long. */
#define COUNT_BUDGET_NS (100 * 1000000LL)

/* What a query or a follower asks for; empty strings match everything.
 * type may be a glob ("response.*"); min_sev a severity, 0 for all. */
typedef struct filter {
    char type[VG_EVENT_TYPE_NAME_MAX];
    int min_sev;
    char group[VG_GROUP_MAX];
    char workload[VG_WORKLOAD_MAX];
    int64_t since, until; /* ns since the epoch; 0 = unbounded */
} filter;

/* A follower: its filter, and how many matching events it missed because
 * it read too slowly (the daemon never waits for a follower: past the
 * stream backlog, frames are dropped). Once it has caught up, or before
 * its next event, the follower is sent {"gap": {"missed": N}}, in its place
 * in the stream, so that it knows, and how many. */
typedef struct follower {
    filter f;
    uint64_t missed;
} follower;

/* The wire form of the event being dispatched, shared by the store and the
 * followers. Loop thread only. */
static msgpack_sbuffer wire;

static bool match_header(const filter *f, const char *type, int sev, const char *group,
                         const char *workload)
{
    return sev >= f->min_sev && (!f->type[0] || vg_type_glob_match(f->type, type)) &&
           (!f->group[0] || strcmp(f->group, group) == 0) &&
           (!f->workload[0] || strcmp(f->workload, workload) == 0);
}

/* {"gap": {"missed": N}}: 0, or a negative errno when it was not queued. */
static int send_gap(vg_ctl_conn *conn, uint64_t missed)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "gap", 3);
    msgpack_pack_map(&pk, 1);
    vg_mp_pack_kv_uint(&pk, "missed", missed);
    int rc = sb.data ? vg_ctl_conn_send(conn, sb.data, sb.size) : -ENOMEM;
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* The follower caught up: the gap is reported at once (ctl.h). */
static void follower_drained(vg_ctl_conn *conn, void *data)
{
    follower *fl = data;
    if (fl->missed && send_gap(conn, fl->missed) == 0)
        fl->missed = 0;
}

static void send_to_follower(vg_ctl_conn *conn, void *arg)
{
    const vg_event *ev = arg;
    follower *fl = vg_ctl_conn_data(conn);
    if (!fl ||
        !match_header(&fl->f, vg_event_type_name(ev->type), ev->severity, ev->group, ev->workload))
        return;
    /* The gap goes first, in its place in the stream; while it cannot be
     * queued, the follower is still behind and this event is missed too. */
    if (fl->missed) {
        if (send_gap(conn, fl->missed) < 0) {
            fl->missed++;
            return;
        }
        fl->missed = 0;
    }
    /* {"event": <record>}: a fixmap header and the key, then the record. */
    static const char prefix[] = "\x81\xa5"
                                 "event";
    size_t len = sizeof(prefix) - 1 + wire.size;
    char *frame = malloc(len);
    if (!frame) {
        fl->missed++;
        return;
    }
    memcpy(frame, prefix, sizeof(prefix) - 1);
    memcpy(frame + sizeof(prefix) - 1, wire.data, wire.size);
    int rc = vg_ctl_conn_send(conn, frame, len);
    if (rc < 0 && rc != -EPIPE)
        fl->missed++;
    free(frame);
}

void vg_ctl_events_on_event(const vg_event *ev, void *arg)
{
    const vg_ctl_env *env = arg;
    /* A suppressed event is neither stored nor streamed (suppress.h). */
    if (vg_suppress_check(env->suppress, ev))
        return;
    wire.size = 0;
    if (vg_event_encode(ev, &wire) < 0)
        return;
    /* A skipped type still goes to the followers: only the history lacks it. */
    int rc = vg_store_skip_event(env->store_skip, ev)
                 ? 0
                 : vg_store_append_event(env->store, ev->id, wire.data, wire.size,
                                         vg_store_skip_important(ev));
    if (rc < 0)
        vg_store_skip_lost(env->store_skip, ev); /* counted per type; status shows it */
    if (env->ctl)
        vg_ctl_foreach_stream(env->ctl, send_to_follower, (void *)ev);
}

/* ---- the "events" command ---------------------------------------------- */

static int read_filter(const msgpack_object *args, filter *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    struct {
        const char *key;
        char *buf;
        size_t size;
    } strs[] = {{"type", f->type, sizeof(f->type)},
                {"group", f->group, sizeof(f->group)},
                {"workload", f->workload, sizeof(f->workload)}};
    for (size_t i = 0; i < 3; i++) {
        int rc = vg_mp_get_cstr(args, strs[i].key, strs[i].buf, strs[i].size);
        if (rc < 0 && rc != -ENOENT) {
            snprintf(err, errlen, "'%s' must be a string of at most %zu bytes", strs[i].key,
                     strs[i].size - 1);
            return -EINVAL;
        }
    }
    char sev[16];
    int rc = vg_mp_get_cstr(args, "severity", sev, sizeof(sev));
    if (rc == 0 && (f->min_sev = vg_severity_parse(sev)) < 0) {
        snprintf(err, errlen,
                 "'severity' must be one of debug, info, notice, warning, error, critical");
        return -EINVAL;
    }
    int rc1 = vg_mp_get_int(args, "since", &f->since);
    int rc2 = vg_mp_get_int(args, "until", &f->until);
    if ((rc1 < 0 && rc1 != -ENOENT) || (rc2 < 0 && rc2 != -ENOENT)) {
        snprintf(err, errlen, "'since' and 'until' must be integers (ns since the epoch)");
        return -EINVAL;
    }
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct query {
    filter f;
    size_t limit, n;
    msgpack_object_str *hits; /* copies of matching records, newest first */
    msgpack_zone zone;
    size_t bytes;            /* of the hits */
    bool full;               /* the page's bytes are used up: more matches are left */
    bool count_all;          /* go on to the end to count the matches (total) */
    bool counted_all;        /* total is exact: the count was not cut short */
    int64_t count_until;     /* CLOCK_MONOTONIC ns when the count stops */
    uint64_t scanned, total; /* records read; matches seen */
    uint64_t last_id;        /* of the oldest hit, where the next page starts */
} query;

static const char *str_or_empty(const msgpack_object *rec, const char *key, char *buf, size_t size)
{
    return vg_mp_get_cstr(rec, key, buf, size) == 0 ? buf : "";
}

static int query_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    query *q = arg;
    /* Once the page is full, only counting goes on: within its budget. */
    if (q->count_all && (q->n == q->limit || q->full) && (++q->scanned & 1023) == 0 &&
        now_ns() > q->count_until) {
        q->counted_all = false;
        return 1;
    }
    msgpack_zone_clear(&q->zone);
    msgpack_object rec;
    size_t off = 0;
    if (msgpack_unpack(val, vlen, &off, &q->zone, &rec) != MSGPACK_UNPACK_SUCCESS)
        return 0; /* a damaged record is skipped, not fatal to the query */
    int64_t t = 0;
    vg_mp_get_int(&rec, "time", &t);
    if (q->f.since && t < q->f.since)
        return 1; /* records are in time order: nothing older can match */
    if (q->f.until && t > q->f.until)
        return 0;
    char type[VG_EVENT_TYPE_NAME_MAX], group[VG_GROUP_MAX], wl[VG_WORKLOAD_MAX], sev[16];
    int severity = vg_severity_parse(str_or_empty(&rec, "severity", sev, sizeof(sev)));
    if (!match_header(&q->f, str_or_empty(&rec, "type", type, sizeof(type)), severity,
                      str_or_empty(&rec, "group", group, sizeof(group)),
                      str_or_empty(&rec, "workload", wl, sizeof(wl))))
        return 0;
    q->total++;
    bool taking = q->n < q->limit && !q->full;
    if (taking && q->bytes + vlen > PAGE_BYTES)
        taking = false, q->full = true; /* the rest on another page */
    if (!taking)
        return q->count_all ? 0 : 1;
    char *copy = malloc(vlen);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, val, vlen);
    q->hits[q->n++] = (msgpack_object_str){.size = (uint32_t)vlen, .ptr = copy};
    q->bytes += vlen;
    int64_t id = 0;
    vg_mp_get_int(&rec, "id", &id);
    q->last_id = (uint64_t)id;
    return q->n == q->limit && !q->count_all ? 1 : 0;
}

/* With `page`, the result is {events, total, total_exact, more, before}:
 * the newest matches older than `before` that fit in a frame (oldest
 * first), how many match in all (at least, when total_exact is false), and
 * whether to ask again with before = this page's `before`. Without it (older clients), the bare
 * list of that page. */
static int run_query(const vg_ctl_env *env, query *q, uint64_t before, bool page,
                     msgpack_packer *pk)
{
    q->hits = calloc(q->limit, sizeof(*q->hits));
    if (!q->hits || !msgpack_zone_init(&q->zone, 4096)) {
        free(q->hits);
        return -ENOMEM;
    }
    unsigned char key[8];
    for (int i = 0; i < 8; i++)
        key[i] = (unsigned char)((before - 1) >> (56 - 8 * i));
    int rc = vg_store_iter(env->store, "events", before ? key : NULL, before ? sizeof(key) : 0,
                           true, query_one, q);
    if (rc >= 0 && page && !q->count_all) {
        vg_store_stats st = {0};
        vg_store_stats_get(env->store, &st);
        q->total = st.events;
    }
    if (rc >= 0 && page) {
        msgpack_pack_map(pk, 5);
        vg_mp_pack_kv_uint(pk, "total", q->total);
        vg_mp_pack_kv_bool(pk, "total_exact", q->counted_all);
        vg_mp_pack_kv_bool(pk, "more", q->full);
        vg_mp_pack_kv_uint(pk, "before", q->n ? q->last_id : before);
        vg_mp_pack_cstr(pk, "events");
    }
    if (rc >= 0) {
        /* Oldest first, like a log. */
        msgpack_pack_array(pk, q->n);
        for (size_t i = q->n; i-- > 0;)
            pk->callback(pk->data, q->hits[i].ptr, q->hits[i].size);
        rc = 0;
    }
    for (size_t i = 0; i < q->n; i++)
        free((void *)q->hits[i].ptr);
    free(q->hits);
    msgpack_zone_destroy(&q->zone);
    return rc;
}

static int cmd_events(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    query q = {0};
    if (read_filter(call->args, &q.f, call->error, sizeof(call->error)) < 0)
        return -EINVAL;
    bool follow = false;
    vg_mp_get_bool(call->args, "follow", &follow);
    if (follow) {
        follower *fl = malloc(sizeof(*fl));
        if (!fl)
            return -ENOMEM;
        *fl = (follower){.f = q.f};
        vg_ctl_conn_set_data(call->conn, fl, free);
        vg_ctl_conn_set_drain(call->conn, follower_drained);
        msgpack_pack_map(call->pk, 1);
        vg_mp_pack_kv_bool(call->pk, "following", true);
        return VG_CTL_STREAM;
    }
    int64_t limit = QUERY_DEFAULT_LIMIT;
    vg_mp_get_int(call->args, "limit", &limit);
    if (limit <= 0 || limit > QUERY_MAX_LIMIT) {
        snprintf(call->error, sizeof(call->error), "'limit' must be between 1 and %d",
                 QUERY_MAX_LIMIT);
        return -EINVAL;
    }
    q.limit = (size_t)limit;
    bool page = false;
    vg_mp_get_bool(call->args, "page", &page);
    int64_t before = 0;
    vg_mp_get_int(call->args, "before", &before);
    /* Counting what matches costs a scan of the store, which `total` is
     * for; without a filter the store knows its count. */
    bool filtered = q.f.type[0] || q.f.group[0] || q.f.workload[0] || q.f.min_sev || q.f.since ||
                    q.f.until || before > 0;
    /* The total is the first page's news; later pages only continue. */
    q.count_all = page && filtered && before <= 0;
    q.counted_all = true;
    q.count_until = now_ns() + COUNT_BUDGET_NS;
    return run_query(env, &q, before > 0 ? (uint64_t)before : 0, page, call->pk);
}

int vg__ctl_events_register(const vg_ctl_env *env)
{
    if (!wire.data)
        msgpack_sbuffer_init(&wire);
    const vg_ctl_cmd cmd = {.name = "events", .fn = cmd_events, .arg = (void *)env};
    return vg_ctl_register(env->ctl, &cmd);
}
