/*
 * The set of outputs; see output.h.
 *
 * Each output is a bounded ring of events in their wire form (copied on the
 * loop thread, which never waits for anything but the ring's mutex, held
 * for a pointer move) and a thread that takes them out one by one, renders
 * each as JSON and hands it to the output's kind. A full ring drops the
 * event and counts it.
 *
 * A reload builds the new list from the setting: an output with the same
 * name and the very same settings (compared as msgpack bytes) is carried
 * over with its queue and counters; any other old output retires: its
 * thread writes what it holds, then ends, and is joined at a later
 * configure or at close, so that a reload never waits for it.
 */
#include "output.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evtype.h"
#include "json.h"
#include "log.h"
#include "mp.h"
#include "output_int.h"
#include "output_k8s.h"

#define DEFAULT_QUEUE 4096
#define TICK_MS 100

static const vg_output_kind *const kinds[] = {
    &vg__output_file, &vg__output_stdout, &vg__output_journal, &vg__output_falco, &vg__output_kafka,
};

typedef struct item {
    char *data;
    size_t len;
} item;

typedef struct output {
    struct output *next;
    char name[64];
    const vg_output_kind *kind;
    void *priv;
    char **types; /* globs; NULL: every type */
    size_t ntypes;
    int min_sev;
    char *settings; /* msgpack bytes, to tell a changed output on reload */
    size_t settings_len;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    item *ring;
    size_t cap, head, count;
    bool stop, reopen;
    uint64_t stop_deadline_ms; /* after stop: what is left then is dropped */
    bool thread_started;
    atomic_bool done;
    pthread_t thread;

    uint64_t accepted, dropped;       /* loop thread */
    _Atomic uint64_t written, failed; /* the output's thread */
} output;

struct vg_outputs {
    output *live;
    output *retiring;
    vg_workloads *workloads; /* for Kubernetes metadata; NULL: none added */
    msgpack_sbuffer wire;    /* the event being dispatched */
    msgpack_sbuffer k8s;     /* the same with its "k8s" key */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- one output's thread ----------------------------------------------- */

static void deliver(output *o, const item *it, msgpack_sbuffer *json, msgpack_zone *zone)
{
    msgpack_object ev;
    size_t off = 0;
    msgpack_zone_clear(zone);
    json->size = 0;
    /* A plugin's body is checked for its header only: a map that claims
     * more entries than its bytes hold must not make this thread allocate
     * for them. */
    if (!vg_mp_shape_ok(it->data, it->len) ||
        msgpack_unpack(it->data, it->len, &off, zone, &ev) != MSGPACK_UNPACK_SUCCESS ||
        vg_json_write_sbuf(json, &ev) < 0 || msgpack_sbuffer_write(json, "\n", 2) < 0) {
        atomic_fetch_add(&o->failed, 1);
        return;
    }
    int rc = o->kind->write(o->priv, &ev, json->data, json->size - 2);
    if (rc == 0)
        atomic_fetch_add(&o->written, 1);
    else if (rc < 0)
        atomic_fetch_add(&o->failed, 1);
}

static void tick(output *o)
{
    if (!o->kind->tick)
        return;
    uint64_t w = 0, f = 0;
    o->kind->tick(o->priv, &w, &f);
    atomic_fetch_add(&o->written, w);
    atomic_fetch_add(&o->failed, f);
}

static void wait_ms(output *o, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&o->cv, &o->mu, &ts);
}

static void *run(void *arg)
{
    output *o = arg;
    msgpack_sbuffer json;
    msgpack_sbuffer_init(&json);
    msgpack_zone zone;
    msgpack_zone_init(&zone, 4096);
    uint64_t last_tick = now_ms();
    pthread_mutex_lock(&o->mu);
    for (;;) {
        /* Idle: an output with delivery reports to read wakes to read
         * them; the others sleep until there is something to do. */
        if (!o->count && !o->stop && !o->reopen) {
            if (o->kind->tick)
                wait_ms(o, TICK_MS);
            else
                pthread_cond_wait(&o->cv, &o->mu);
        }
        if (o->reopen) {
            o->reopen = false;
            pthread_mutex_unlock(&o->mu);
            if (o->kind->reopen)
                o->kind->reopen(o->priv);
            pthread_mutex_lock(&o->mu);
            continue;
        }
        if (o->count && o->stop && now_ms() > o->stop_deadline_ms) {
            /* Stopping, and the output is too slow to empty its queue. */
            for (; o->count; o->count--, o->head = (o->head + 1) % o->cap) {
                free(o->ring[o->head].data);
                atomic_fetch_add(&o->failed, 1);
            }
        }
        if (o->count) {
            item it = o->ring[o->head];
            o->head = (o->head + 1) % o->cap;
            o->count--;
            pthread_mutex_unlock(&o->mu);
            deliver(o, &it, &json, &zone);
            free(it.data);
            pthread_mutex_lock(&o->mu);
        } else if (o->stop) {
            break;
        }
        if (now_ms() - last_tick >= TICK_MS) {
            pthread_mutex_unlock(&o->mu);
            tick(o);
            last_tick = now_ms();
            pthread_mutex_lock(&o->mu);
        }
    }
    pthread_mutex_unlock(&o->mu);
    tick(o);
    msgpack_sbuffer_destroy(&json);
    msgpack_zone_destroy(&zone);
    atomic_store(&o->done, true);
    return NULL;
}

/* ---- one output -------------------------------------------------------- */

static void output_free(output *o)
{
    if (!o)
        return;
    if (o->thread_started)
        pthread_join(o->thread, NULL);
    if (o->kind && o->priv && o->kind->close)
        o->kind->close(o->priv);
    for (; o->count; o->count--, o->head = (o->head + 1) % o->cap)
        free(o->ring[o->head].data);
    for (size_t i = 0; i < o->ntypes; i++)
        free(o->types[i]);
    free(o->types);
    free(o->ring);
    free(o->settings);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o);
}

static void output_stop(output *o)
{
    pthread_mutex_lock(&o->mu);
    o->stop = true;
    o->stop_deadline_ms = now_ms() + VG_OUTPUT_FLUSH_MS;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    if (o->kind->stopping)
        o->kind->stopping(o->priv, o->stop_deadline_ms);
}

static void ask_reopen(output *o)
{
    pthread_mutex_lock(&o->mu);
    o->reopen = true;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

static const vg_output_kind *find_kind(const msgpack_object *settings)
{
    char name[32];
    if (vg_mp_get_cstr(settings, "kind", name, sizeof(name)) < 0)
        return NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

static int read_filter(output *o, const msgpack_object *settings)
{
    char sev[16] = "debug";
    vg_mp_get_cstr(settings, "min_severity", sev, sizeof(sev));
    o->min_sev = vg_severity_parse(sev);
    if (o->min_sev < 0)
        o->min_sev = 0;
    const msgpack_object *t = vg_mp_get(settings, "types");
    if (!t || t->type != MSGPACK_OBJECT_ARRAY)
        return 0;
    o->types = calloc(t->via.array.size + 1, sizeof(*o->types));
    if (!o->types)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->via.array.size; i++) {
        const msgpack_object *g = &t->via.array.ptr[i];
        if (g->type != MSGPACK_OBJECT_STR)
            continue;
        if (!(o->types[o->ntypes] = strndup(g->via.str.ptr, g->via.str.size)))
            return -ENOMEM;
        o->ntypes++;
    }
    return 0;
}

/* A new output from its settings; *err says why when it cannot be. */
static int output_new(const msgpack_object *settings, output **out, char *err, size_t errlen)
{
    const vg_output_kind *kind = find_kind(settings);
    if (!kind)
        return snprintf(err, errlen, "unknown kind"), -EINVAL;
    output *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    pthread_mutex_init(&o->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&o->cv, &ca);
    pthread_condattr_destroy(&ca);
    o->kind = kind;
    if (vg_mp_get_cstr(settings, "name", o->name, sizeof(o->name)) < 0)
        snprintf(o->name, sizeof(o->name), "%s", kind->name);
    int64_t cap = DEFAULT_QUEUE;
    vg_mp_get_int(settings, "queue", &cap);
    o->cap = cap > 0 ? (size_t)cap : DEFAULT_QUEUE;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = msgpack_pack_object(&pk, *settings) ? -ENOMEM : read_filter(o, settings);
    o->settings_len = sb.size;
    o->settings = msgpack_sbuffer_release(&sb);
    if (rc == 0 && !(o->ring = calloc(o->cap, sizeof(*o->ring))))
        rc = -ENOMEM;
    if (rc == 0)
        rc = kind->open(settings, &o->priv, err, errlen);
    if (rc == 0) {
        rc = -pthread_create(&o->thread, NULL, run, o);
        o->thread_started = rc == 0;
        if (rc == 0) {
            /* "out-<kind>": per-thread CPU figures say which output costs. */
            char tname[16];
            snprintf(tname, sizeof(tname), "out-%s", kind->name);
            pthread_setname_np(o->thread, tname);
        }
    }
    if (rc < 0) {
        output_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* Equal as data: maps with the same keys and values in any order (the
 * order of a Lua table's keys changes from one load of the file to the
 * next). */
static bool same_object(const msgpack_object *a, const msgpack_object *b)
{
    if (a->type != MSGPACK_OBJECT_MAP || b->type != MSGPACK_OBJECT_MAP) {
        if (a->type != MSGPACK_OBJECT_ARRAY || b->type != MSGPACK_OBJECT_ARRAY)
            return msgpack_object_equal(*a, *b);
        if (a->via.array.size != b->via.array.size)
            return false;
        for (uint32_t i = 0; i < a->via.array.size; i++)
            if (!same_object(&a->via.array.ptr[i], &b->via.array.ptr[i]))
                return false;
        return true;
    }
    if (a->via.map.size != b->via.map.size)
        return false;
    for (uint32_t i = 0; i < a->via.map.size; i++) {
        const msgpack_object_kv *kv = &a->via.map.ptr[i];
        bool found = false;
        for (uint32_t j = 0; j < b->via.map.size && !found; j++)
            found = msgpack_object_equal(kv->key, b->via.map.ptr[j].key) &&
                    same_object(&kv->val, &b->via.map.ptr[j].val);
        if (!found)
            return false;
    }
    return true;
}

static bool same_settings(const output *o, const msgpack_object *settings)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    bool same =
        msgpack_unpack_next(&up, o->settings, o->settings_len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        same_object(&up.data, settings);
    msgpack_unpacked_destroy(&up);
    return same;
}

static bool matches(const output *o, const vg_event *ev)
{
    if (ev->severity < o->min_sev)
        return false;
    if (!o->types)
        return true;
    const char *type = vg_event_type_name(ev->type);
    for (size_t i = 0; type && i < o->ntypes; i++)
        if (vg_type_glob_match(o->types[i], type))
            return true;
    return false;
}

/* ---- the set ------------------------------------------------------------ */

int vg_outputs_new(vg_outputs **out)
{
    vg_outputs *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    msgpack_sbuffer_init(&s->wire);
    msgpack_sbuffer_init(&s->k8s);
    *out = s;
    return 0;
}

/* Joins the retired outputs whose threads have ended (all of them when
 * `all`: at close). */
static void reap(vg_outputs *s, bool all)
{
    for (output **pp = &s->retiring; *pp;) {
        output *o = *pp;
        if (!all && !atomic_load(&o->done)) {
            pp = &o->next;
            continue;
        }
        *pp = o->next;
        output_free(o);
    }
}

static void retire(vg_outputs *s, output *o)
{
    output_stop(o);
    o->next = s->retiring;
    s->retiring = o;
}

void vg_outputs_close(vg_outputs *s)
{
    if (!s)
        return;
    while (s->live) {
        output *o = s->live;
        s->live = o->next;
        retire(s, o);
    }
    reap(s, true);
    msgpack_sbuffer_destroy(&s->wire);
    msgpack_sbuffer_destroy(&s->k8s);
    free(s);
}

/* Takes the output called `name` with these very settings out of *list. */
static output *take_same(output **list, const char *name, const msgpack_object *settings)
{
    for (output **pp = list; *pp; pp = &(*pp)->next) {
        output *o = *pp;
        if (strcmp(o->name, name) == 0 && same_settings(o, settings)) {
            *pp = o->next;
            o->next = NULL;
            return o;
        }
    }
    return NULL;
}

static int apply(vg_outputs *s, const msgpack_object *list)
{
    output *old = s->live, *fresh = NULL, **tail = &fresh;
    int failed = 0;
    uint32_t n = list->type == MSGPACK_OBJECT_ARRAY ? list->via.array.size : 0;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *st = &list->via.array.ptr[i];
        char name[64] = "", kind[32] = "?", err[256] = "";
        vg_mp_get_cstr(st, "kind", kind, sizeof(kind));
        if (vg_mp_get_cstr(st, "name", name, sizeof(name)) < 0)
            snprintf(name, sizeof(name), "%s", kind);
        output *o = take_same(&old, name, st);
        if (o) {
            ask_reopen(o); /* a reload reopens files, like SIGUSR1 */
        } else {
            int rc = output_new(st, &o, err, sizeof(err));
            if (rc < 0) {
                vg_err("output %s (%s) not started: %s", name, kind, err[0] ? err : strerror(-rc));
                failed++;
                continue;
            }
            vg_info("output %s (%s) started", name, kind);
        }
        *tail = o;
        tail = &o->next;
    }
    while (old) {
        output *o = old;
        old = o->next;
        vg_info("output %s (%s) stopped", o->name, o->kind->name);
        retire(s, o);
    }
    s->live = fresh;
    return failed;
}

int vg_outputs_configure(vg_outputs *s, const vg_config *cfg)
{
    reap(s, false);
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    int rc = vg_config_unpack_setting(cfg, "outputs", &sb, &up);
    if (rc == 0)
        rc = apply(s, &up.data);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    if (rc < 0)
        vg_err("outputs: cannot apply the setting: %s", strerror(-rc));
    return rc;
}

void vg_outputs_set_workloads(vg_outputs *s, vg_workloads *reg)
{
    s->workloads = reg;
}

/* The event's wire form, with its Kubernetes metadata when it has some. */
static const msgpack_sbuffer *encode(vg_outputs *s, const vg_event *ev)
{
    s->wire.size = 0;
    if (vg_event_encode(ev, &s->wire) < 0)
        return NULL;
    return vg__output_k8s_add(s->workloads, ev->workload, &s->wire, &s->k8s) == 1 ? &s->k8s
                                                                                  : &s->wire;
}

void vg_outputs_on_event(const vg_event *ev, void *arg)
{
    vg_outputs *s = arg;
    const msgpack_sbuffer *wire = NULL;
    for (output *o = s->live; o; o = o->next) {
        if (!matches(o, ev))
            continue;
        if (!wire && !(wire = encode(s, ev)))
            return;
        pthread_mutex_lock(&o->mu);
        bool full = o->count == o->cap;
        char *copy = full ? NULL : malloc(wire->size);
        if (copy) {
            memcpy(copy, wire->data, wire->size);
            o->ring[(o->head + o->count) % o->cap] = (item){copy, wire->size};
            o->count++;
            pthread_cond_signal(&o->cv);
        }
        pthread_mutex_unlock(&o->mu);
        if (copy)
            o->accepted++;
        else
            o->dropped++;
    }
}

void vg_outputs_reopen(vg_outputs *s)
{
    for (output *o = s ? s->live : NULL; o; o = o->next)
        ask_reopen(o);
}

size_t vg_outputs_count(const vg_outputs *s)
{
    size_t n = 0;
    for (const output *o = s ? s->live : NULL; o; o = o->next)
        n++;
    return n;
}

void vg_outputs_stats_at(const vg_outputs *s, size_t i, vg_output_stats *st)
{
    memset(st, 0, sizeof(*st));
    output *o = s ? s->live : NULL;
    while (o && i--)
        o = o->next;
    if (!o)
        return;
    st->name = o->name;
    st->kind = o->kind->name;
    st->accepted = o->accepted;
    st->dropped = o->dropped;
    st->written = atomic_load(&o->written);
    st->failed = atomic_load(&o->failed);
    pthread_mutex_lock(&o->mu);
    st->depth = o->count;
    pthread_mutex_unlock(&o->mu);
    st->capacity = o->cap;
}

int vg_outputs_pack_stats(const vg_outputs *s, msgpack_packer *pk)
{
    size_t n = vg_outputs_count(s);
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        vg_output_stats st;
        vg_outputs_stats_at(s, i, &st);
        msgpack_pack_map(pk, 8);
        vg_mp_pack_kv_str(pk, "name", st.name);
        vg_mp_pack_kv_str(pk, "kind", st.kind);
        vg_mp_pack_kv_uint(pk, "accepted", st.accepted);
        vg_mp_pack_kv_uint(pk, "written", st.written);
        vg_mp_pack_kv_uint(pk, "failed", st.failed);
        vg_mp_pack_kv_uint(pk, "dropped", st.dropped);
        vg_mp_pack_kv_uint(pk, "depth", st.depth);
        vg_mp_pack_kv_uint(pk, "capacity", st.capacity);
    }
    return 0;
}
