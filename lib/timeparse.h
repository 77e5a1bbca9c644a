/*
 * Parsing the points in time and durations that users type: the TIME
 * arguments of vigilctl (`events --since 10m --until 2024-05-01T12:00:00`)
 * and of later commands. Pure functions of their arguments (the current
 * time is passed in), so that they can be tested exactly.
 */
#ifndef VG_TIMEPARSE_H
#define VG_TIMEPARSE_H

#include <stdint.h>

/*
 * Parses a duration: one or more <digits><unit> with the units s, m, h, d
 * (days) and w (weeks), e.g. "90s", "10m", "2h", "7d", "1h30m". No sign, no
 * spaces, at least one unit. Stores nanoseconds in *out_ns. Returns 0,
 * -EINVAL (not a duration) or -ERANGE (longer than int64 nanoseconds).
 */
int vg_duration_parse(const char *s, int64_t *out_ns);

/*
 * Parses a point in time into nanoseconds since the epoch. Accepted forms:
 *   - a duration (see above), meaning that long before now_ns: "10m";
 *   - an integer of seconds since the epoch: "1714564800";
 *   - "YYYY-MM-DDTHH:MM:SS", "YYYY-MM-DDTHH:MM" or "YYYY-MM-DD" (midnight),
 *     in UTC when followed by "Z", otherwise in local time (TZ, with
 *     daylight saving time resolved by the C library). A space may stand
 *     for the "T", so that a time copied from vigilctl's tables
 *     ("2024-05-01 12:00:00") reads back.
 * Fields are range-checked (no 2024-02-30, no 24:00). Returns 0, -EINVAL
 * (unrecognised or out-of-range field) or -ERANGE (outside the int64
 * nanosecond range, years 1678 to 2262).
 */
int vg_time_parse(const char *s, int64_t now_ns, int64_t *out_ns);

#endif
