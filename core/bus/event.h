/*
 * Events: the one currency of the daemon.
 *
 * An event is a common header (id, time, type, severity, workload, group) and
 * a typed body, a msgpack map with string keys. Its wire form, used by the
 * store, the control socket and every output, is a single flat msgpack map:
 * the header keys "id", "time" (ns since the epoch), "type" (name),
 * "severity" (name), "workload", "group", followed by the body's own keys.
 *
 * Event types are interned: a name like "proc.exec" maps to a small id used
 * for per-type counters. The registry is process-wide and thread-safe.
 */
#ifndef VG_EVENT_H
#define VG_EVENT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <vigil/plugin.h>

#define VG_EVENT_TYPES_MAX 256
#define VG_EVENT_TYPE_NAME_MAX 48

/* One event in memory: a single malloc() block, header then body bytes.
 * Created by vg_event_new(), owned by the bus while queued and dispatched;
 * subscribers get a const pointer valid only during their callback. */
typedef struct vg_event {
    uint64_t id;     /* assigned by the bus at dispatch; monotonic, persisted */
    int64_t time_ns; /* CLOCK_REALTIME at publish */
    uint16_t type;
    uint8_t severity;
    char workload[VG_WORKLOAD_MAX];
    char group[VG_GROUP_MAX];
    uint32_t body_len;
    uint8_t body[]; /* msgpack map */
} vg_event;

/* Registers (or finds) the type `name` and returns its id, or -EINVAL for
 * an empty/too long name, -ENOSPC when the registry is full. */
int vg_event_type_id(const char *name);
/* Finds without registering; -ENOENT if unknown. */
int vg_event_type_find(const char *name);
/* The name of a registered id, or NULL. */
const char *vg_event_type_name(int id);
int vg_event_type_count(void);

const char *vg_severity_name(int sev);
int vg_severity_parse(const char *name); /* -EINVAL if unknown */

/* Allocates an event from a publisher's description, stamping the time.
 * Returns 0 and *out (free with free()), -EINVAL for a bad type or a body
 * that is not a msgpack map, -ENOMEM. */
int vg_event_new(const vg_event_in *in, vg_event **out);

/* Appends the wire form of `ev` to `out`. Returns 0 or -ENOMEM. */
int vg_event_encode(const vg_event *ev, msgpack_sbuffer *out);

#endif
