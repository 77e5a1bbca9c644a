/*
 * The Falco form of an event, as the "falco" output sends it (output_falco.c)
 * and falcosidekick reads it: {output, priority, rule, time, output_fields,
 * source, tags, hostname}. A pure function on the event's wire map (any
 * thread); public so that a fuzz target can feed it any event.
 */
#ifndef VG_FALCO_JSON_H
#define VG_FALCO_JSON_H

#include <msgpack.h>

/* Appends the JSON of `ev` (a wire map, maybe with a "k8s" map) to sb.
 * tags (NULL-terminated, may be NULL) follow "vigil" and the plane.
 * 0, -EINVAL (ev is no map), -ENOMEM. */
int vg_falco_json(const msgpack_object *ev, const char *hostname, const char *const *tags,
                  msgpack_sbuffer *sb);

#endif
