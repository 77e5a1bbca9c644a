/*
 * Which events are not written to the store's events table: the
 * `store_skip` setting, a list of event types and globs on the type
 * ("*" matches any run of characters, every other character itself:
 * "proc.exit", "*.stats", "proc.*").
 *
 * A skipped event still reaches every bus subscriber (the policy engine,
 * plugins' subscriptions, `vigilctl events --follow`); only the stored
 * history lacks it. Some events are always stored whatever the list says,
 * because they are what a user searches the history for:
 *   - the types policy.error and response.done, and every type ending in
 *     ".violation" or ".incident" (a glob passes over them: "proc.*" skips
 *     proc.exec and keeps proc.violation);
 *   - every event of severity warning or above (an alert a policy raises
 *     under a type of its own, a failed bench check).
 * The config refuses the entries that could only mean "lose those" or
 * "lose everything" (vg_store_skip_check_pattern).
 *
 * The decision is made once per event type (types are interned, event.h)
 * and cached until the list changes. Skipped events are counted per type,
 * and the counts survive a change of the list (a reload).
 *
 * Loop thread only, except the pure functions marked otherwise.
 */
#ifndef VG_STORE_SKIP_H
#define VG_STORE_SKIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "evtype.h"

#define VG_STORE_SKIP_MAX 256 /* entries in the list */

typedef struct vg_store_skip vg_store_skip;

/* An empty list: nothing is skipped. Free with vg_store_skip_free(). */
int vg_store_skip_new(vg_store_skip **out);
void vg_store_skip_free(vg_store_skip *s);

/* Replaces the list with a copy of `patterns` (NULL-terminated, each
 * already accepted by vg_store_skip_check_pattern; NULL = empty). The
 * counters stay. 0, or -EINVAL / -ENOMEM with the old list kept. */
int vg_store_skip_set(vg_store_skip *s, const char *const *patterns);

/* True when `ev` is not to be stored; it is then counted under its type. */
bool vg_store_skip_event(vg_store_skip *s, const vg_event *ev);

/* Whether ev is one the store keeps over routine events when it must drop
 * some (a full disk): an always-stored type or a warning or worse. */
bool vg_store_skip_important(const vg_event *ev);

/* Counts an event that was meant to be stored but could not be (the
 * store's batch full while commits fail), per type; shown by status. */
void vg_store_skip_lost(vg_store_skip *s, const vg_event *ev);
uint64_t vg_store_skip_lost_count(const vg_store_skip *s, int type);
uint64_t vg_store_skip_lost_total(const vg_store_skip *s);

/* Events of type id `type` skipped since start (0 for an unknown id). */
uint64_t vg_store_skip_count(const vg_store_skip *s, int type);

/* Events skipped since start, all types together. */
uint64_t vg_store_skip_total(const vg_store_skip *s);

/* Checks one entry of the list as the config gives it: 0, or -EINVAL with
 * a message for the user in err (without the setting's name). Refused:
 * an empty entry, one longer than an event type can be, blanks or control
 * characters, an entry made only of '*' and '.' (it would skip every
 * type), and one that can match nothing but always-stored types
 * ("proc.violation", "*.incident"). Any thread. */
int vg_store_skip_check_pattern(const char *pattern, char *err, size_t errlen);

#endif
