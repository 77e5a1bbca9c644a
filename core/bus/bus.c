/* The event bus; see bus.h. */
#include "bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct subscriber {
    int type; /* < 0: every type */
    vg_bus_cb cb;
    void *arg;
    int active;
} subscriber;

struct vg_bus {
    uv_async_t wake;
    /* The queue: a ring of event pointers, guarded by lock. The lock is held
     * for a handful of instructions per publish, so producers on plugin
     * threads never wait on the loop. */
    pthread_mutex_t lock;
    vg_event **ring;
    size_t cap, head, len;

    uint64_t next_id; /* loop thread only */
    subscriber *subs;
    size_t nsubs;
    vg_bus_enrich_cb enrich;
    void *enrich_arg;
    _Atomic uint64_t published[VG_EVENT_TYPES_MAX];
    _Atomic uint64_t dropped[VG_EVENT_TYPES_MAX];
};

static void on_wake(uv_async_t *h)
{
    vg_bus_drain(h->data);
}

int vg_bus_new(uv_loop_t *loop, size_t capacity, vg_bus **out)
{
    if (capacity == 0)
        return -EINVAL;
    vg_bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return -ENOMEM;
    bus->ring = calloc(capacity, sizeof(*bus->ring));
    if (!bus->ring) {
        free(bus);
        return -ENOMEM;
    }
    bus->cap = capacity;
    bus->next_id = 1;
    pthread_mutex_init(&bus->lock, NULL);
    int rc = uv_async_init(loop, &bus->wake, on_wake);
    if (rc < 0) {
        pthread_mutex_destroy(&bus->lock);
        free(bus->ring);
        free(bus);
        return rc;
    }
    bus->wake.data = bus;
    *out = bus;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    vg_bus *bus = h->data;
    /* Events published by the handlers of the last drain (an incident
     * raised at shutdown) are never dispatched: free them. */
    for (size_t i = 0; i < bus->len; i++)
        free(bus->ring[(bus->head + i) % bus->cap]);
    pthread_mutex_destroy(&bus->lock);
    free(bus->ring);
    free(bus->subs);
    free(bus);
}

void vg_bus_close(vg_bus *bus)
{
    if (!bus)
        return;
    vg_bus_drain(bus);
    uv_close((uv_handle_t *)&bus->wake, on_closed);
}

int vg_bus_subscribe(vg_bus *bus, int type, vg_bus_cb cb, void *arg)
{
    subscriber *subs = realloc(bus->subs, (bus->nsubs + 1) * sizeof(*subs));
    if (!subs)
        return -ENOMEM;
    subs[bus->nsubs] = (subscriber){.type = type, .cb = cb, .arg = arg, .active = 1};
    bus->subs = subs;
    return (int)bus->nsubs++;
}

void vg_bus_unsubscribe(vg_bus *bus, int sub)
{
    /* Slots are never reused, so ids held by others stay meaningful. */
    if (sub >= 0 && (size_t)sub < bus->nsubs)
        bus->subs[sub].active = 0;
}

int vg_bus_publish(vg_bus *bus, const vg_event_in *in)
{
    vg_event *ev;
    int rc = vg_event_new(in, &ev);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&bus->lock);
    int full = bus->len == bus->cap;
    if (!full)
        bus->ring[(bus->head + bus->len++) % bus->cap] = ev;
    pthread_mutex_unlock(&bus->lock);
    if (full) {
        atomic_fetch_add_explicit(&bus->dropped[ev->type], 1, memory_order_relaxed);
        free(ev);
        return -ENOBUFS;
    }
    uv_async_send(&bus->wake);
    return 0;
}

static size_t pop_batch(vg_bus *bus, vg_event **batch, size_t max)
{
    pthread_mutex_lock(&bus->lock);
    size_t n = bus->len < max ? bus->len : max;
    for (size_t i = 0; i < n; i++) {
        batch[i] = bus->ring[bus->head];
        bus->head = (bus->head + 1) % bus->cap;
    }
    bus->len -= n;
    pthread_mutex_unlock(&bus->lock);
    return n;
}

static void dispatch(vg_bus *bus, vg_event *ev)
{
    ev->id = bus->next_id++;
    atomic_fetch_add_explicit(&bus->published[ev->type], 1, memory_order_relaxed);
    if (bus->enrich)
        bus->enrich(ev, bus->enrich_arg);
    /* nsubs is re-read each time: a subscriber may subscribe another. */
    for (size_t i = 0; i < bus->nsubs; i++) {
        subscriber *s = &bus->subs[i];
        if (s->active && (s->type < 0 || s->type == ev->type))
            s->cb(ev, s->arg);
    }
}

size_t vg_bus_drain(vg_bus *bus)
{
    /* Only what is queued when the drain starts is dispatched, so that
     * producers (or subscribers that publish) cannot keep the loop here. */
    pthread_mutex_lock(&bus->lock);
    size_t budget = bus->len;
    pthread_mutex_unlock(&bus->lock);
    size_t done = 0;
    vg_event *batch[256];
    while (done < budget) {
        size_t want = budget - done < 256 ? budget - done : 256;
        size_t n = pop_batch(bus, batch, want);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            dispatch(bus, batch[i]);
            free(batch[i]);
        }
        done += n;
    }
    /* Events published by subscribers during this drain wait for the next
     * wake-up, which their publish() already requested. */
    return done;
}

void vg_bus_set_enrich(vg_bus *bus, vg_bus_enrich_cb cb, void *arg)
{
    bus->enrich = cb;
    bus->enrich_arg = arg;
}

void vg_bus_set_next_id(vg_bus *bus, uint64_t id)
{
    bus->next_id = id;
}

void vg_bus_stats(const vg_bus *bus, int type, vg_bus_type_stats *out)
{
    if (type < 0 || type >= VG_EVENT_TYPES_MAX) {
        *out = (vg_bus_type_stats){0};
        return;
    }
    out->published = atomic_load_explicit(&bus->published[type], memory_order_relaxed);
    out->dropped = atomic_load_explicit(&bus->dropped[type], memory_order_relaxed);
}

size_t vg_bus_queued(vg_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    size_t n = bus->len;
    pthread_mutex_unlock(&bus->lock);
    return n;
}

size_t vg_bus_capacity(const vg_bus *bus)
{
    return bus->cap;
}
