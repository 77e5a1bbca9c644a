/*
 * Events the reader thread holds back for a few milliseconds, to publish
 * them together (reader thread only).
 *
 * Each publication from the reader wakes the daemon's loop when it sleeps,
 * and a wake-up (and the loop's pass over its handles) cost the loop about
 * as much as the policy's handling of an exec. Events that nothing waits
 * for (an exec or an exit in a group that learns or monitors, a process's
 * uid change) are held up to HELDQ_HOLD_MS and published in one go; an
 * event of a protected workload, and anything of severity warning or
 * above, is published at once with everything held before it, in order.
 * Only the publication waits: what an event does to the reader's state
 * (the table of processes) is done when it is read, and the kill of a
 * process a protected group does not allow is not delayed.
 */
#ifndef PROC_HELDQ_H
#define PROC_HELDQ_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vigil/plugin.h>

#define HELDQ_MAX 256   /* held at most: then they are published at once */
#define HELDQ_HOLD_MS 5 /* the longest an event is held */

typedef struct heldq heldq;

heldq *heldq_new(void);
void heldq_free(heldq *q);

/* Holds ev (its strings and body are copied), at now_ns (CLOCK_MONOTONIC);
 * publishes everything held first when full. */
void heldq_hold(heldq *q, const vg_host_api *api, vg_host *h, const vg_event_in *ev,
                int64_t now_ns);

/* Milliseconds until the oldest held event is due (0: now), or -1 when
 * nothing is held: for the reader's poll timeout. */
int heldq_due_ms(const heldq *q, int64_t now_ns);

/* Publishes what is held, in the order it came. */
void heldq_flush(heldq *q, const vg_host_api *api, vg_host *h);

#endif
