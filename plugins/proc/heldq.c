/* Events held back for one wake-up; see heldq.h. */
#include "heldq.h"

#include <stdlib.h>
#include <string.h>

struct held {
    int type, severity;
    char workload[VG_WORKLOAD_MAX];
    char group[VG_GROUP_MAX];
    size_t off, len; /* the body in heldq.bodies */
};

struct heldq {
    struct held ev[HELDQ_MAX];
    size_t n;
    msgpack_sbuffer bodies; /* the held events' bodies, one after another */
    int64_t first_ns;       /* when the oldest held event came */
};

heldq *heldq_new(void)
{
    heldq *q = calloc(1, sizeof(*q));
    if (q)
        msgpack_sbuffer_init(&q->bodies);
    return q;
}

void heldq_free(heldq *q)
{
    if (!q)
        return;
    msgpack_sbuffer_destroy(&q->bodies);
    free(q);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

void heldq_hold(heldq *q, const vg_host_api *api, vg_host *h, const vg_event_in *ev, int64_t now_ns)
{
    if (q->n == HELDQ_MAX)
        heldq_flush(q, api, h);
    if (q->n == 0)
        q->first_ns = now_ns;
    struct held *e = &q->ev[q->n];
    size_t off = q->bodies.size;
    /* Out of memory: published now rather than lost. */
    if (msgpack_sbuffer_write(&q->bodies, ev->body, ev->body_len) != 0) {
        api->publish(h, ev);
        return;
    }
    e->type = ev->type;
    e->severity = ev->severity;
    copy_str(e->workload, sizeof(e->workload), ev->workload);
    copy_str(e->group, sizeof(e->group), ev->group);
    e->off = off;
    e->len = ev->body_len;
    q->n++;
}

int heldq_due_ms(const heldq *q, int64_t now_ns)
{
    if (q->n == 0)
        return -1;
    int64_t left = q->first_ns + (int64_t)HELDQ_HOLD_MS * 1000000 - now_ns;
    return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

void heldq_flush(heldq *q, const vg_host_api *api, vg_host *h)
{
    for (size_t i = 0; i < q->n; i++) {
        const struct held *e = &q->ev[i];
        vg_event_in ev = {.type = e->type,
                          .severity = e->severity,
                          .workload = e->workload,
                          .group = e->group,
                          .body = q->bodies.data + e->off,
                          .body_len = e->len};
        api->publish(h, &ev);
    }
    q->n = 0;
    q->bodies.size = 0;
}
