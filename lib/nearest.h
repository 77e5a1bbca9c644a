/*
 * How far one name is from another, for the "did you mean" of every check
 * that refuses a name (event types, actions, fields, plugin settings): the
 * Levenshtein distance, counted on the first 64 bytes of each.
 */
#ifndef VG_NEAREST_H
#define VG_NEAREST_H

#include <stddef.h>

size_t vg_edit_distance(const char *a, const char *b);

#endif
