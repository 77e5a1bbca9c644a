/*
 * Rendering msgpack objects as JSON, for `vigilctl --json` and the daemon's
 * JSON outputs (webhooks, log lines).
 */
#ifndef VG_JSON_H
#define VG_JSON_H

#include <msgpack.h>
#include <stdio.h>

/* Writes o as one line of JSON (no newline). Strings are escaped, invalid
 * UTF-8 bytes become U+FFFD, bin values become hex strings, non-string map
 * keys are rendered as strings, NaN/inf become null. Returns 0 or -EIO. */
int vg_json_write(FILE *out, const msgpack_object *o);

/* The same into a growing buffer (for webhook bodies): appends to sb. */
int vg_json_write_sbuf(msgpack_sbuffer *sb, const msgpack_object *o);

/* The length (1..4) of the well-formed UTF-8 sequence at p (n bytes left),
 * or 0 for an ill-formed one, with *bad set to the length of its maximal
 * subpart (at least 1): what one U+FFFD replaces. */
size_t vg_utf8_seq(const unsigned char *p, size_t n, size_t *bad);

#endif
