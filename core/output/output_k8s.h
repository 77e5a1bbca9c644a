/* Kubernetes metadata added to the events that outputs send (output_k8s.c).
 * Private to core/output/. */
#ifndef VG_OUTPUT_K8S_H
#define VG_OUTPUT_K8S_H

#ifndef VG_CORE_MODULE_OUTPUT
#error "output_k8s.h is private to core/output/"
#endif

#include <msgpack.h>

#include "workloads.h"

/* When `workload` runs in a pod, writes to out the wire map `wire` with a
 * "k8s" key more ({namespace, pod, container, labels}) and returns 1; 0
 * when there is nothing to add (out untouched), -EINVAL for a wire that is
 * no map, -ENOMEM. Loop thread. */
int vg__output_k8s_add(vg_workloads *reg, const char *workload, const msgpack_sbuffer *wire,
                       msgpack_sbuffer *out);

#endif
