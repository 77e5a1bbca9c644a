/*
 * The event bus: plugins and the core publish, subscribers on the loop thread
 * receive.
 *
 * publish() may be called from any thread. It copies the event into a bounded
 * queue and wakes the loop with uv_async; it never blocks on a full queue: the
 * event is dropped and counted per type. The loop drains the queue, assigns
 * each event its id, and calls every matching subscriber in subscription
 * order. Subscribers run on the loop thread; they may publish (the event is
 * queued, never dispatched recursively).
 */
#ifndef VG_BUS_H
#define VG_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "event.h"

typedef struct vg_bus vg_bus;

/* ev is valid only during the call. */
typedef void (*vg_bus_cb)(const vg_event *ev, void *arg);

typedef struct vg_bus_type_stats {
    uint64_t published; /* dispatched to subscribers */
    uint64_t dropped;   /* lost to a full queue */
} vg_bus_type_stats;

/* Creates a bus on `loop` with room for `capacity` queued events. */
int vg_bus_new(uv_loop_t *loop, size_t capacity, vg_bus **out);

/* Closes the async handle and frees the bus once libuv has released it
 * (run the loop afterwards). Queued events are dispatched first. */
void vg_bus_close(vg_bus *bus);

/* Subscribes `cb` to events of `type` (or of every type when type < 0).
 * Returns a subscription id >= 0 or a negative errno. */
int vg_bus_subscribe(vg_bus *bus, int type, vg_bus_cb cb, void *arg);
void vg_bus_unsubscribe(vg_bus *bus, int sub);

/* One enricher may complete each event once, on the loop thread, after the
 * event got its id and before any subscriber sees it (the daemon fills in
 * the workload of an event its plugin could not attribute). */
typedef void (*vg_bus_enrich_cb)(vg_event *ev, void *arg);
void vg_bus_set_enrich(vg_bus *bus, vg_bus_enrich_cb cb, void *arg);

/* Any thread. 0, -EINVAL (bad event), -ENOMEM, or -ENOBUFS (queue full,
 * dropped and counted). */
int vg_bus_publish(vg_bus *bus, const vg_event_in *ev);

/* Loop thread. Dispatches everything queued now; returns how many. */
size_t vg_bus_drain(vg_bus *bus);

/* The id the next dispatched event gets (the store sets it at start-up so
 * ids keep growing across restarts). */
void vg_bus_set_next_id(vg_bus *bus, uint64_t id);

/* Counters of one type (zeros for an unknown id). Any thread. */
void vg_bus_stats(const vg_bus *bus, int type, vg_bus_type_stats *out);
size_t vg_bus_queued(vg_bus *bus);
size_t vg_bus_capacity(const vg_bus *bus);

#endif
