/*
 * The `webhook` response action: an HTTP POST of an event as JSON to a
 * named endpoint of the config:
 *
 *   webhooks = {
 *     ops = { url = "http://127.0.0.1:9000/hook", slack = false,
 *             timeout_ms = 5000, headers = { ["X-Token"] = "..." } },
 *   }
 *
 * With slack = true the body is Slack's incoming-webhook form,
 * {"text": "<one line about the event>"}; otherwise it is the event's wire
 * map as JSON. Every request has "Content-Type: application/json" plus the
 * endpoint's headers.
 *
 * Delivery never blocks the loop: libcurl's multi interface is driven by
 * the loop (its sockets as uv_poll handles, its timeout as a uv_timer).
 * A delivery that fails (no connection, a timeout, a status that is not
 * 2xx) is retried with exponential backoff, up to a bounded number of
 * attempts, then dropped and counted. The queue of deliveries is bounded:
 * beyond it new ones are dropped and counted. A dead endpoint therefore
 * costs nothing but counted failures.
 *
 * libcurl is not linked: it is loaded (dlopen) at the first delivery, so a
 * daemon that never sends a webhook never maps it or its TLS stack. When it
 * cannot be loaded, each delivery fails at once (counted, not retried) and
 * an error names the library; the next delivery tries to load it again.
 *
 * Action args: {endpoint = "ops", event = <the event's wire map>}; the
 * policy engine's "webhook:ops" passes the endpoint as `target` instead.
 * Loop thread only.
 */
#ifndef VG_WEBHOOK_H
#define VG_WEBHOOK_H

#include <lua.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "actions.h"
#include "config.h"

typedef struct vg_webhooks vg_webhooks;

typedef struct vg_webhooks_opts {
    size_t queue_max;         /* deliveries queued or in flight; 0 = 1024 */
    unsigned max_attempts;    /* per delivery; 0 = 5 */
    unsigned backoff_ms;      /* before the 2nd attempt, doubling; 0 = 1000 */
    unsigned backoff_max_ms;  /* cap of the doubling; 0 = 60000 */
    unsigned max_connections; /* transfers at once; 0 = 8 */
    /* Tests only: the libcurl to load (a string that outlives the
     * webhooks); NULL = "libcurl.so.4". The daemon never sets it; a test names a library that does
     * not exist to see how a host without libcurl fails. */
    const char *curl_soname;
} vg_webhooks_opts;

typedef struct vg_webhooks_stats {
    uint64_t queued;    /* accepted by send() */
    uint64_t delivered; /* got a 2xx */
    uint64_t attempts;  /* HTTP requests started */
    uint64_t retries;   /* attempts after a failed one */
    uint64_t failed;    /* gave up after max_attempts, or libcurl would not load */
    uint64_t dropped;   /* refused: the queue was full */
    uint64_t pending;   /* queued or in flight now */
} vg_webhooks_stats;

/* opts may be NULL (and is copied). Touches no curl: that waits for the
 * first delivery. */
int vg_webhooks_new(uv_loop_t *loop, const vg_webhooks_opts *opts, vg_webhooks **out);

/* Cancels what is pending (counted as failed), closes the handles; the
 * memory is released once libuv has closed them (run the loop). NULL ok. */
void vg_webhooks_close(vg_webhooks *w);

/* Replaces the endpoints with those of cfg's "webhooks" setting (start-up
 * and reload). Deliveries already queued keep their copy of the settings. */
int vg_webhooks_configure(vg_webhooks *w, const vg_config *cfg);

/* Registers the "webhook" action (owner "core"). */
int vg_webhooks_register(vg_webhooks *w, vg_actions *actions);

/* Queues a POST of `event` (a map) to `endpoint`. 0, -ENOENT (no such
 * endpoint), -ENOBUFS (queue full; counted), -EINVAL, -ENOMEM. */
int vg_webhooks_send(vg_webhooks *w, const char *endpoint, const msgpack_object *event);

/* How a delivery queued by the "webhook" action ended: delivered (a 2xx),
 * or given up after its attempts (error says why). Strings valid during
 * the callback only. */
typedef struct vg_webhook_result {
    const char *endpoint, *rule, *event_type, *group, *workload;
    int64_t event_id;
    bool delivered;
    unsigned attempts;
    const char *error; /* "" when delivered */
} vg_webhook_result;

/* Called on the loop thread when a delivery of the "webhook" action ends
 * (not for vg_webhooks_send()'s own, nor for those cancelled by close):
 * the daemon publishes it as response.done, so that the record says what
 * happened, not only that it was queued. NULL cb: none. */
void vg_webhooks_on_result(vg_webhooks *w, void (*cb)(void *arg, const vg_webhook_result *r),
                           void *arg);

void vg_webhooks_stats_get(const vg_webhooks *w, vg_webhooks_stats *out);

/* For `vigild --check` only (webhook_check.c): when cfg has endpoints,
 * loads libcurl (soname NULL: libcurl.so.4) as the first delivery would.
 * 0 when it loads or no endpoint is configured; else the negative errno of
 * the load and why in `why`. Loads libcurl into the calling process for
 * good: never call it in the daemon. */
int vg_webhooks_check_curl(const vg_config *cfg, const char *soname, char *why, size_t whylen);
/* The stats as a map, for `vigilctl status`. */
int vg_webhooks_pack_stats(const vg_webhooks *w, msgpack_packer *pk);

#endif
