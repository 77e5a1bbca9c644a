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

#endif
