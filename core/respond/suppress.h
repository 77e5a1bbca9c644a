/*
 * The `suppress` response action: silence the events that match a pattern
 * for a while. A suppressed event is not stored, not streamed to
 * followers and not given to the policy's response rules; once the
 * suppression expires, matching events flow again.
 *
 * Action args (a msgpack map), as the policy engine passes them for
 * "suppress:10m" ({action, target, rule, group, workload, event, ...}) or
 * written out:
 *   {duration_s = 600, match = {type = "proc.violation", group = "web",
 *                               workload = "...", name = "curl", ...}}
 * The duration is duration_s (seconds, fractions allowed), else the target
 * as a duration ("90s", "10m", "2h"); at most a week. The pattern is
 * `match`; without it, events like the one that triggered the response:
 * its type and (process) name from `event`, plus every other argument that
 * is not part of the convention (group and workload when not empty, and any
 * extra key). Pattern keys "type", "group", "workload" and "severity" test
 * the event's header; every other key tests the body field of that name (a
 * string, an integer or a boolean, compared for equality). At most
 * VG_SUPPRESS_KEYS_MAX keys; an empty pattern is refused.
 *
 * Every subscriber that must honour suppressions calls vg_suppress_check()
 * with the event it is given; the answer for one event id is computed once
 * and counted once, however many subscribers ask.
 *
 * Loop thread only. Time is the loop's (uv_now), so expiry costs nothing
 * until an event asks.
 */
#ifndef VG_SUPPRESS_H
#define VG_SUPPRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "actions.h"
#include "event.h"

#define VG_SUPPRESS_MAX 1024 /* active suppressions; more are refused (-ENOSPC) */
#define VG_SUPPRESS_KEYS_MAX 8

typedef struct vg_suppress vg_suppress;

typedef struct vg_suppress_stats {
    uint64_t active;     /* suppressions in force now */
    uint64_t added;      /* accepted by the action, ever */
    uint64_t suppressed; /* events silenced */
    uint64_t expired;
} vg_suppress_stats;

int vg_suppress_new(uv_loop_t *loop, vg_suppress **out);
void vg_suppress_free(vg_suppress *s);

/* Registers the "suppress" action (owner "core"). */
int vg_suppress_register(vg_suppress *s, vg_actions *actions);

/* What the action does: 0, -EINVAL (bad args), -ENOSPC, -ENOMEM. A new
 * suppression with the same pattern as an active one extends it. */
int vg_suppress_add(vg_suppress *s, const void *args, size_t len);

/* True if ev is silenced now. NULL s: false. */
bool vg_suppress_check(vg_suppress *s, const vg_event *ev);

void vg_suppress_stats_get(vg_suppress *s, vg_suppress_stats *out);

#endif
