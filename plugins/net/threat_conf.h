/*
 * Threat switches and thresholds per group, from the config string
 * plugins.net.threats (threat_conf.c; docs/net-threats.md).
 */
#ifndef VG_NET_THREAT_CONF_H
#define VG_NET_THREAT_CONF_H

#include <stddef.h>

#include "engine.h"

/* The set of group under spec (NULL group: only check spec). 0, or
 * -EINVAL / -ENOMEM with a message in msg. */
int net_threat_conf_for(const char *spec, const char *group, vg_net_threat_conf *out, char *msg,
                        size_t msglen);

/* The same on top of what out holds (a set already made, e.g. the config's
 * before the policies' declarations). */
int net_threat_conf_apply(const char *spec, const char *group, vg_net_threat_conf *out, char *msg,
                          size_t msglen);

/* vigil.threat{...} (threat_decl.c): checks one declaration (a msgpack map)
 * and writes it as a section of the spec above ("GROUP: ID=on|off,
 * ID.PARAM=N") into out (NULL: only check). 0, or -EINVAL with msg. */
int net_threat_decl_section(const void *decl, size_t len, char *out, size_t cap, char *msg,
                            size_t msglen);

#endif
