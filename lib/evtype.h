/*
 * Event type names ("plane.what"): the glob that settings and commands
 * match them with, and the types that the store keeps whatever store_skip
 * says. Pure functions on strings, any thread; shared by the daemon's store
 * and vigilctl (which tells a user why a type has no history).
 */
#ifndef VG_EVTYPE_H
#define VG_EVTYPE_H

#include <stdbool.h>

/* The glob: "*" matches any run of characters (also none); everything else
 * matches itself. */
bool vg_type_glob_match(const char *pattern, const char *type);

/* Whether events of `type` are always stored: policy.error, response.done
 * and every *.violation and *.incident, of every plane. */
bool vg_type_always_stored(const char *type);

/* Whether s ends in the suffix of always-stored types (".violation",
 * ".incident"): a glob whose text after its last '*' does can match
 * nothing else. */
bool vg_type_has_stored_suffix(const char *s);

#endif
