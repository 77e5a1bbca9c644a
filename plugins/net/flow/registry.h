/* The protocol registry (flow/registry.c). */
#ifndef VIGIL_NET_REGISTRY_H
#define VIGIL_NET_REGISTRY_H

#include <stddef.h>

#define VG_APPS_MAX 250 /* vg_flow.app is a byte */

struct vg_net_proto;
void vg_registry_init(void);
size_t vg_proto_count(void);
const struct vg_net_proto *vg_proto_at(size_t i); /* by priority */
int vg_proto_app(size_t i);                       /* the app index of its name */
int vg_app_index(const char *name);               /* 0 when unknown */
const char *vg_app_name(int idx);

#endif
