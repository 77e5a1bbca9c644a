/*
 * Kubernetes metadata for the outputs: an event of a workload that runs in
 * a pod gets a "k8s" key before it leaves, so that a SIEM, a chat channel
 * or falcosidekick sees where it happened without asking vigil:
 *
 *   "k8s": {"namespace": "prod", "pod": "web-7d9f8b6c5d-x2k4q",
 *           "container": "nginx", "labels": {"app": "web", ...}}
 *
 * The pod, namespace and container come from the runtime's CRI annotations
 * (core/workloads reads them). Pod labels reach the host only where the
 * runtime puts them there: CRI-O's io.kubernetes.cri-o.Labels annotation,
 * or the container labels of Docker (cri-dockerd); containerd keeps them in
 * its own database, so "labels" is left out for its containers. The store
 * keeps events as they were published; only outputs add this.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "mp.h"
#include "output_k8s.h"

/* Keys of runtimes and Kubernetes itself, not the user's labels. */
static bool is_system_key(const char *k)
{
    static const char *const prefixes[] = {"io.kubernetes.",      "annotation.io.kubernetes.",
                                           "org.opencontainers.", "io.containerd.",
                                           "nerdctl/",            "io.podman.",
                                           "com.docker.",         NULL};
    for (size_t i = 0; prefixes[i]; i++)
        if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* CRI-O: the pod's labels as a JSON object in one annotation. */
static json_t *crio_labels(const vg_workload *w)
{
    const char *s = vg_workload_kv(w, "io.kubernetes.cri-o.Labels");
    json_t *o = s ? json_loads(s, 0, NULL) : NULL;
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static size_t count_labels(const vg_workload *w, json_t *crio)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    if (crio) {
        json_object_foreach(crio, k, v) n += json_is_string(v) && !is_system_key(k);
        return n;
    }
    for (size_t i = 0; i < w->nkv; i++)
        n += !is_system_key(w->kv[2 * i]);
    return n;
}

static void pack_labels(msgpack_packer *pk, const vg_workload *w, json_t *crio, size_t n)
{
    const char *k;
    json_t *v;
    msgpack_pack_map(pk, n);
    if (crio) {
        json_object_foreach(crio, k, v) if (json_is_string(v) && !is_system_key(k))
            vg_mp_pack_kv_str(pk, k, json_string_value(v));
        return;
    }
    for (size_t i = 0; i < w->nkv; i++)
        if (!is_system_key(w->kv[2 * i]))
            vg_mp_pack_kv_str(pk, w->kv[2 * i], w->kv[2 * i + 1]);
}

/* The size of the map header at p, and its count; 0 when p is no map. */
static size_t map_header(const unsigned char *p, size_t len, uint32_t *n)
{
    if (len >= 1 && (p[0] & 0xf0) == 0x80)
        return *n = p[0] & 0x0f, 1;
    if (len >= 3 && p[0] == 0xde)
        return *n = (uint32_t)p[1] << 8 | p[2], 3;
    if (len >= 5 && p[0] == 0xdf)
        return *n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4], 5;
    return 0;
}

int vg__output_k8s_add(vg_workloads *reg, const char *workload, const msgpack_sbuffer *wire,
                       msgpack_sbuffer *out)
{
    if (!reg || !workload || !*workload)
        return 0;
    vg_workload *w = vg_workloads_get(reg, workload);
    if (!w || (!w->pod && !w->k8s_namespace)) {
        vg_workload_unref(w);
        return 0;
    }
    uint32_t n;
    size_t hl = map_header((const unsigned char *)wire->data, wire->size, &n);
    if (!hl) {
        vg_workload_unref(w);
        return -EINVAL;
    }
    json_t *crio = crio_labels(w);
    size_t nlabels = count_labels(w, crio);
    out->size = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map(&pk, (size_t)n + 1);
    rc |= msgpack_sbuffer_write(out, wire->data + hl, wire->size - hl);
    rc |= vg_mp_pack_cstr(&pk, "k8s");
    rc |= msgpack_pack_map(&pk, 3 + (nlabels > 0));
    rc |= vg_mp_pack_kv_str(&pk, "namespace", w->k8s_namespace ? w->k8s_namespace : "");
    rc |= vg_mp_pack_kv_str(&pk, "pod", w->pod ? w->pod : "");
    rc |= vg_mp_pack_kv_str(&pk, "container", w->k8s_container ? w->k8s_container : "");
    if (nlabels) {
        rc |= vg_mp_pack_cstr(&pk, "labels");
        pack_labels(&pk, w, crio, nlabels);
    }
    json_decref(crio);
    vg_workload_unref(w);
    return rc ? -ENOMEM : 1;
}
