/* Event types, allocation and the wire encoding; see event.h. */
#include "event.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mp.h"

/* The registry only grows. Names are written once under the lock and the
 * count is published with release semantics, so readers need no lock. */
static char type_names[VG_EVENT_TYPES_MAX][VG_EVENT_TYPE_NAME_MAX];
static atomic_int type_count;
static pthread_mutex_t type_lock = PTHREAD_MUTEX_INITIALIZER;

static int find_locked(const char *name, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(type_names[i], name) == 0)
            return i;
    return -ENOENT;
}

int vg_event_type_find(const char *name)
{
    if (!name)
        return -EINVAL;
    return find_locked(name, atomic_load_explicit(&type_count, memory_order_acquire));
}

int vg_event_type_id(const char *name)
{
    if (!name || !*name || strlen(name) >= VG_EVENT_TYPE_NAME_MAX)
        return -EINVAL;
    int id = vg_event_type_find(name);
    if (id >= 0)
        return id;
    pthread_mutex_lock(&type_lock);
    int n = atomic_load_explicit(&type_count, memory_order_relaxed);
    id = find_locked(name, n);
    if (id < 0 && n < VG_EVENT_TYPES_MAX) {
        strcpy(type_names[n], name);
        atomic_store_explicit(&type_count, n + 1, memory_order_release);
        id = n;
    } else if (id < 0) {
        id = -ENOSPC;
    }
    pthread_mutex_unlock(&type_lock);
    return id;
}

const char *vg_event_type_name(int id)
{
    if (id < 0 || id >= atomic_load_explicit(&type_count, memory_order_acquire))
        return NULL;
    return type_names[id];
}

int vg_event_type_count(void)
{
    return atomic_load_explicit(&type_count, memory_order_acquire);
}

static const char *const severity_names[] = {"debug",   "info",  "notice",
                                             "warning", "error", "critical"};
#define SEVERITY_COUNT (int)(sizeof(severity_names) / sizeof(severity_names[0]))

const char *vg_severity_name(int sev)
{
    return (sev >= 0 && sev < SEVERITY_COUNT) ? severity_names[sev] : "unknown";
}

int vg_severity_parse(const char *name)
{
    for (int i = 0; name && i < SEVERITY_COUNT; i++)
        if (strcmp(name, severity_names[i]) == 0)
            return i;
    return -EINVAL;
}

/* The number of entries of the map at the start of a msgpack body, or -1.
 * Only the header is examined here; a body whose entries are themselves
 * malformed is the publisher's bug and shows as garbage in the output, not
 * as a crash, since readers of the wire form unpack it with bounds. */
static int64_t body_map_size(const uint8_t *p, size_t len, size_t *hdr)
{
    if (len == 0)
        return -1;
    if ((p[0] & 0xf0) == 0x80) {
        *hdr = 1;
        return p[0] & 0x0f;
    }
    if (p[0] == 0xde && len >= 3) {
        *hdr = 3;
        return ((uint32_t)p[1] << 8) | p[2];
    }
    if (p[0] == 0xdf && len >= 5) {
        *hdr = 5;
        return ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4];
    }
    return -1;
}

int vg_event_new(const vg_event_in *in, vg_event **out)
{
    if (!in || !vg_event_type_name(in->type) || in->severity < 0 ||
        in->severity >= SEVERITY_COUNT || in->body_len > UINT32_MAX)
        return -EINVAL;
    size_t hdr;
    /* A body that is not one well-formed map (with sizes that fit in its
     * bytes, lib/mp.h) would make every reader of the event allocate what
     * its headers claim. */
    if (in->body_len && (!in->body || body_map_size(in->body, in->body_len, &hdr) < 0 ||
                         !vg_mp_shape_ok(in->body, in->body_len)))
        return -EINVAL;
    vg_event *ev = malloc(sizeof(*ev) + in->body_len);
    if (!ev)
        return -ENOMEM;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ev->id = 0;
    ev->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    ev->type = (uint16_t)in->type;
    ev->severity = (uint8_t)in->severity;
    /* strncpy would not terminate a long value; snprintf truncates safely. */
    snprintf(ev->workload, sizeof(ev->workload), "%s", in->workload ? in->workload : "");
    snprintf(ev->group, sizeof(ev->group), "%s", in->group ? in->group : "");
    ev->body_len = (uint32_t)in->body_len;
    if (in->body_len)
        memcpy(ev->body, in->body, in->body_len);
    *out = ev;
    return 0;
}

int vg_event_encode(const vg_event *ev, msgpack_sbuffer *out)
{
    size_t hdr = 0;
    int64_t body_n = ev->body_len ? body_map_size(ev->body, ev->body_len, &hdr) : 0;
    if (body_n < 0)
        return -EINVAL;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map(&pk, (size_t)(6 + body_n));
    rc |= vg_mp_pack_kv_uint(&pk, "id", ev->id);
    rc |= vg_mp_pack_kv_int(&pk, "time", ev->time_ns);
    rc |= vg_mp_pack_kv_str(&pk, "type", vg_event_type_name(ev->type));
    rc |= vg_mp_pack_kv_str(&pk, "severity", vg_severity_name(ev->severity));
    rc |= vg_mp_pack_kv_str(&pk, "workload", ev->workload);
    rc |= vg_mp_pack_kv_str(&pk, "group", ev->group);
    /* The body's entries follow the header's as they are: a flat map. */
    if (ev->body_len > hdr)
        rc |= msgpack_sbuffer_write(out, (const char *)ev->body + hdr, ev->body_len - hdr);
    return rc ? -ENOMEM : 0;
}
