/*
 * The decision-latency histogram (decision_latency.h): per-bucket counts,
 * made cumulative as Prometheus wants them when rendered (metrics.c). The
 * bounds run from 10 us (a cached answer) to 10 s (a handler stuck on its
 * instruction budget behind a full queue).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decision_latency.h"

#define PLANES_MAX 16
#define PLANE_LEN sizeof(((vg_decision_plane *)0)->name)

const double vg_decision_bounds[VG_DECISION_BUCKETS] = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01,    0.025,    0.05,    0.1,    0.25,    0.5,    1,     2.5,    10};
#define NB VG_DECISION_BUCKETS

struct vg_decision_latency {
    vg_decision_plane planes[PLANES_MAX];
    size_t n;
};

int vg_decision_latency_new(vg_decision_latency **out)
{
    return (*out = calloc(1, sizeof(**out))) ? 0 : -ENOMEM;
}

void vg_decision_latency_free(vg_decision_latency *h)
{
    free(h);
}

/* A plane name fit for a label value as it is. Type names are not checked
 * where plugins register them, so anything else is "other". */
static bool plain(const char *s, size_t len)
{
    if (!len || len >= PLANE_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* The plane of a type name; types beyond PLANES_MAX distinct planes share
 * the last slot, "other", so that the series stay bounded. */
static vg_decision_plane *plane_of(vg_decision_latency *h, const char *type)
{
    const char *dot = type ? strchr(type, '.') : NULL;
    size_t len = dot ? (size_t)(dot - type) : (type ? strlen(type) : 0);
    if (!plain(type, len))
        type = "other", len = 5;
    for (size_t i = 0; i < h->n; i++)
        if (strlen(h->planes[i].name) == len && !memcmp(h->planes[i].name, type, len))
            return &h->planes[i];
    if (h->n == PLANES_MAX) {
        vg_decision_plane *last = &h->planes[PLANES_MAX - 1];
        snprintf(last->name, sizeof(last->name), "other");
        return last;
    }
    vg_decision_plane *p = &h->planes[h->n++];
    memcpy(p->name, type, len);
    p->name[len] = '\0';
    return p;
}

void vg_decision_latency_add(vg_decision_latency *h, const char *type, int64_t pub_ns,
                             int64_t now_ns)
{
    double s = now_ns > pub_ns ? (double)(now_ns - pub_ns) / 1e9 : 0;
    vg_decision_plane *p = plane_of(h, type);
    size_t b = 0;
    while (b < NB && s > vg_decision_bounds[b])
        b++;
    p->in[b]++;
    p->count++;
    p->sum += s;
}

size_t vg_decision_latency_planes(const vg_decision_latency *h, const vg_decision_plane **out)
{
    *out = h->planes;
    return h->n;
}
