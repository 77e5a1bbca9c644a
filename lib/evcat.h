/*
 * The catalogue of event types, their fields, and the response actions:
 * what a policy may name, known at load time, before any plugin starts.
 *
 * Two parts:
 * - a static table of the types that the core and the shipped plugins
 *   (proc, file, net, cis, secrets) publish, with every body field each
 *   may carry (evcat.c). It is in lib/ because the daemon, vigil-policy
 *   and vigild --check need it alike, and none of them may load a plugin
 *   to learn it: a check in CI has no plugins, and the daemon loads its
 *   first policies before plugins start. A shipped plugin that adds a
 *   field adds it here in the same commit (test_evcat checks the table).
 * - what loaded plugins declare at run time: every type a plugin registers
 *   through the host's event_type() and every action it registers is
 *   added here (vg_evcat_declare_*), so a third-party plugin's types and
 *   actions are known without an ABI change. Their fields are not known,
 *   so their events are not strict.
 *
 * Threads: declarations happen on the loop thread (plugin init and the
 * host calls); lookups from the loop thread too. The static table is
 * constant and may be read from any thread.
 */
#ifndef VG_EVCAT_H
#define VG_EVCAT_H

#include <stdbool.h>
#include <stddef.h>

/* The header fields every event has (docs/policy.md). */
#define VG_EVCAT_HEADER "id time type severity workload group"

typedef struct vg_evcat_type {
    const char *name;   /* "proc.exec" */
    const char *source; /* who publishes it: "core", "proc plugin", ... */
    /* The body's fields, separated by single blanks; NULL when not known
     * (a type a third-party plugin declared): such events are not strict. */
    const char *fields;
    const char *what; /* one line for --list-fields and the docs */
} vg_evcat_type;

/* The entry of `type` (static, then declared), or NULL. */
const vg_evcat_type *vg_evcat_find(const char *type);

/* Whether `field` is a header field or one of t's body fields. True for
 * any field when t's fields are not known. */
bool vg_evcat_has_field(const vg_evcat_type *t, const char *field);

/* Whether `field` is a field of some type of the table (or of the header):
 * a name no event has is a typo (ev.nmae), one of another type's fields
 * (ev.peer of a proc.exec) may be read by code shared between handlers. */
bool vg_evcat_field_anywhere(const char *field);

/* Whether the plane of `type` (the text before its first '.') is one the
 * static table covers: such a type must be in the table to be valid. */
bool vg_evcat_plane_covered(const char *type);

/* Whether the fnmatch(3) pattern matches some known type. */
bool vg_evcat_pattern_matches(const char *pattern);

/* Calls cb for every known type: the static ones in table order, then the
 * declared ones. */
void vg_evcat_each(void (*cb)(void *arg, const vg_evcat_type *t), void *arg);

/* Up to three known type names nearest to `name` (edit distance), as
 * "a, b, c" in buf; "" when none is near. */
void vg_evcat_nearest_type(const char *name, char *buf, size_t size);

/* A plugin registered this type (host event_type()); `source` names the
 * plugin (copied). 0, -ENOMEM, -ENOSPC. Known types are left as they are. */
int vg_evcat_declare_type(const char *type, const char *source);
/* Whether a loaded plugin registered a type of this plane ("net"), one of
 * the catalogue's own types included. */
bool vg_evcat_plane_produced(const char *plane);

/* Actions: the core's (webhook, suppress) and the shipped plugins' (the
 * net plugin's quarantine) are known statically; a plugin's registered
 * action is declared. */
bool vg_evcat_action_known(const char *name);
int vg_evcat_declare_action(const char *name);
void vg_evcat_nearest_action(const char *name, char *buf, size_t size);

/* Forgets every declaration (tests, and a daemon that stops). */
void vg_evcat_reset_declared(void);

/* Up to three of the blank-separated words of `words` nearest to `name`,
 * as "a, b, c"; "" when none is near. For field names and the like. */
void vg_evcat_nearest_word(const char *name, const char *words, char *buf, size_t size);

#endif
