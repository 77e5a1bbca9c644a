/*
 * A list of problems found while checking input (config, policies), each
 * already formatted as "file:line: message". `vigild --check` prints them
 * all; a reload puts the first in its error reply.
 */
#ifndef VG_DIAG_H
#define VG_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct vg_diag {
    char **msgs; /* owned; each malloc()ed */
    size_t n;
} vg_diag;

/* Appends one formatted message. Allocation failure is swallowed (the
 * message is lost, never the caller's state). */
void vg_diag_add(vg_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vg_diag_print(const vg_diag *d, FILE *out);
void vg_diag_free(vg_diag *d); /* frees the messages; d itself is the caller's */

#endif
