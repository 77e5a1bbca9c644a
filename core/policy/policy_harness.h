/*
 * A complete policy engine without a daemon, for `vigil-policy test`, the
 * unit tests and the benchmark: a private libuv loop with a real bus, an
 * in-memory rules index, no actions but the ones registered on `actions`,
 * and group modes set by the caller.
 *
 * Feeding an event publishes it and dispatches until the bus is quiet;
 * every event that the engine published meanwhile (violations, response.done,
 * policy.error, ...) is kept in wire form until the next feed.
 */
#ifndef VG_POLICY_HARNESS_H
#define VG_POLICY_HARNESS_H

#include <msgpack.h>

#include "policy.h"

typedef struct vg_harness vg_harness;

/* Loads the policies of dirs; on a problem, -EINVAL with diag. */
int vg_harness_new(char *const *dirs, int default_mode, vg_diag *diag, vg_harness **out);
/* The same with the plugins' declarations (vg_policy_load.decls; NULL, 0:
 * none), which must outlive the harness. */
int vg_harness_new_decls(char *const *dirs, int default_mode, const vg_policy_decl_desc *decls,
                         size_t ndecls, vg_diag *diag, vg_harness **out);
void vg_harness_free(vg_harness *h);

/* Sets a group's mode (and drops the decision cache, as the daemon does). */
int vg_harness_set_mode(vg_harness *h, const char *group, int mode);

/* Publishes ev, dispatches everything, and returns the verdict it got
 * (enum vg_verdict) or a negative errno. */
int vg_harness_feed(vg_harness *h, const vg_event_in *ev);

/* The events published by the engine during the last feed, as wire maps
 * (valid until the next feed). */
size_t vg_harness_nevents(const vg_harness *h);
const msgpack_object *vg_harness_event(const vg_harness *h, size_t i);

vg_policy *vg_harness_policy(vg_harness *h);
vg_rules *vg_harness_rules(vg_harness *h);
vg_actions *vg_harness_actions(vg_harness *h);
vg_bus *vg_harness_bus(vg_harness *h);

#endif
