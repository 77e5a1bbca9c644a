/*
 * Prometheus metrics and a health endpoint, on a local address when the
 * config says so (off by default):
 *
 *   metrics = { listen = "127.0.0.1:9464" }   -- "9464" alone: 127.0.0.1
 *
 *   GET /metrics   the text exposition format (version 0.0.4)
 *   GET /healthz   200 "ok" while the loop answers; 503 with the reason
 *                  when the bus queue is full (events are being dropped)
 *
 * What is exported (all names start with vigil_): events by type and
 * severity, events dropped by a full bus, the bus's and each output's queue
 * depth and capacity, each output's written/failed/dropped events, webhook
 * deliveries and failures, plugin states, group modes, rules per group and
 * plane, policy handler calls and errors, control socket requests, the
 * answer times plugins report in their *.stats events, and the decision
 * latency from an event's publication to the policy's verdict, by plane. See docs/outputs.md
 * for the list.
 *
 * The counters of events are kept here (the daemon subscribes
 * vg_metrics_on_event for every type), from the daemon's start, whether the
 * endpoint is on or not: turning it on by a reload shows counts since start.
 *
 * Loop thread only.
 */
#ifndef VG_METRICS_H
#define VG_METRICS_H

#include <msgpack.h>
#include <uv.h>

#include "bus.h"
#include "config.h"
#include "ctl.h"
#include "groups.h"
#include "output.h"
#include "plugins.h"
#include "policy.h"
#include "rules.h"
#include "store.h"
#include "webhook.h"

/* Where the figures come from: pointers to the daemon's own pointers, since
 * some parts (the plugins) are made after the metrics. Any may be NULL. */
typedef struct vg_metrics_src {
    vg_bus *const *bus;
    vg_outputs *const *outputs;
    vg_webhooks *const *webhooks;
    vg_plugins *const *plugins;
    vg_groups *const *groups;
    vg_rules *const *rules;
    vg_policy *const *policy;
    vg_ctl *const *ctl;
    vg_store *const *store;
} vg_metrics_src;

typedef struct vg_metrics vg_metrics;

int vg_metrics_new(uv_loop_t *loop, const vg_metrics_src *src, vg_metrics **out);
/* Stops listening; the memory goes once libuv has closed the handles. */
void vg_metrics_close(vg_metrics *m);

/* Listens where cfg's "metrics" says, or stops listening (start-up,
 * reload). A listen that fails (the port is taken) is logged and returns
 * the negative errno; the daemon runs on without the endpoint. */
int vg_metrics_configure(vg_metrics *m, const vg_config *cfg);

/* The bus callback (every type; arg = the metrics). */
void vg_metrics_on_event(const vg_event *ev, void *arg);

/* The policy's verdict on ev (the policy's on_verdict): one observation
 * of the decision-latency histogram (decision_latency.h). */
void vg_metrics_on_verdict(vg_metrics *m, const vg_event *ev, int verdict);

/* The exposition text, appended to out (for the endpoint and tests). */
int vg_metrics_render(vg_metrics *m, msgpack_sbuffer *out);

/* The port listened on, 0 when off. */
int vg_metrics_port(const vg_metrics *m);

#endif
