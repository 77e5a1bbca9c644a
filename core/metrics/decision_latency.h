/*
 * The decision-latency histogram: for every event that got a verdict from
 * the policy, the time from its publication (the event's time_ns, stamped
 * when a plugin or the core published it) to that verdict, by plane (the
 * type's text before its first '.': proc, file, net, kern...). Exported as
 * the Prometheus histogram vigil_decision_latency_seconds{plane=...}.
 *
 * The time covers the bus queue, the workload attribution and every policy
 * handler of the event: what an operator asks when a protect-mode answer
 * is slow. Loop thread only; owned by the metrics.
 */
#ifndef VG_DECISION_LATENCY_H
#define VG_DECISION_LATENCY_H

#include <stdint.h>

typedef struct vg_decision_latency vg_decision_latency;

/* The buckets' upper bounds in seconds (Prometheus' "le"), ascending. */
#define VG_DECISION_BUCKETS 18
extern const double vg_decision_bounds[VG_DECISION_BUCKETS];

/* One plane's observations. */
typedef struct vg_decision_plane {
    char name[24];
    uint64_t in[VG_DECISION_BUCKETS + 1]; /* per bucket, not cumulative; the
                                           * last: above the last bound */
    uint64_t count;
    double sum; /* seconds */
} vg_decision_plane;

int vg_decision_latency_new(vg_decision_latency **out);
void vg_decision_latency_free(vg_decision_latency *h);

/* One verdict on an event of type `type`, published at pub_ns and decided
 * at now_ns (both CLOCK_REALTIME; a clock stepped back counts as 0). */
void vg_decision_latency_add(vg_decision_latency *h, const char *type, int64_t pub_ns,
                             int64_t now_ns);

/* The planes seen so far (*out: n of them, owned by h). Plane names are
 * letters, digits, '_' and '-' (others are counted as "other"). */
size_t vg_decision_latency_planes(const vg_decision_latency *h, const vg_decision_plane **out);

#endif
