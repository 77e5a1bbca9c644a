/*
 * Fuzzes the readers of container and pod metadata that workload discovery
 * trusts from disk (core/workloads): the bytes are written, on a fixture
 * tree laid out as on a real host (tests/unit/wl_fixture.h), as
 *  - an OCI bundle's config.json, whose annotations carry the Kubernetes
 *    pod, namespace, container and image names (containerd's CRI),
 *  - runc's state.json of another container (pid, start time, bundle label),
 *  - Docker's config.v2.json (labels, state, name),
 *  - podman's containers/storage containers.json and userdata/config.json,
 * and one discovery scan reads them all and names each workload's group from
 * what it read (groups naming: pod owner, namespace). It must read or
 * ignore them; never crash, hang or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "../unit/wl_fixture.h"
#include "discovery.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64], state[96];
static char ctrd[65], runc[65], docker[65], podman[65];
static uv_loop_t loop;
static vg_store *st;
static vg_bus *bus;
static vg_groups *groups;

#define CRI_BUNDLE "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"

static void cleanup(void)
{
    fx_rmtree(root);
}

/* The parts of the tree that stay: processes and the state naming the
 * bundle whose config the input becomes. */
static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/vg-fuzz-pod-XXXXXX");
    if (!mkdtemp(root))
        abort();
    atexit(cleanup);
    snprintf(state, sizeof(state), "%s/state", root);
    fx_mkdirs(state);
    fx_id(ctrd, 1);
    fx_id(runc, 2);
    fx_id(docker, 3);
    fx_id(podman, 4);
    char cg[512], bundle[256];
    snprintf(bundle, sizeof(bundle), CRI_BUNDLE "%s", ctrd);
    snprintf(cg, sizeof(cg), "0::/kubepods.slice/kubepods-pod6f.slice/cri-containerd-%s.scope\n",
             ctrd);
    if (fx_runc_state(root, "/run/containerd/runc/k8s.io", ctrd, 2001, bundle) < 0 ||
        fx_proc(root, 2001, cg, 0) < 0)
        abort();
    snprintf(cg, sizeof(cg), "0::/system.slice/runc-%s.scope\n", runc);
    if (fx_proc(root, 3001, cg, 0) < 0)
        abort();
    snprintf(cg, sizeof(cg), "0::/system.slice/docker-%s.scope\n", docker);
    if (fx_proc(root, 4242, cg, 0) < 0)
        abort();
    snprintf(cg, sizeof(cg), "0::/machine.slice/libpod-%s.scope\n", podman);
    if (fx_proc(root, 5001, cg, 0) < 0)
        abort();
    uv_loop_init(&loop);
    if (vg_store_open(state, NULL, &st) || vg_bus_new(&loop, 1024, &bus) ||
        vg_groups_new(st, VG_MODE_LEARN, &groups))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root[0])
        setup();
    /* Files hold text up to the first NUL, as fx_write writes it. */
    char *text = strndup((const char *)data, size);
    if (!text)
        return 0;
    fx_write(root, text, CRI_BUNDLE "%s/config.json", ctrd);
    fx_write(root, text, "/run/runc/%s/state.json", runc);
    fx_write(root, text, "/var/lib/docker/containers/%s/config.v2.json", docker);
    fx_write(root, text, "/var/lib/containers/storage/overlay-containers/containers.json");
    fx_write(root, text, "/var/lib/containers/storage/overlay-containers/%s/userdata/config.json",
             podman);
    free(text);

    char proc[128];
    snprintf(proc, sizeof(proc), "%s/proc", root);
    vg_workloads *reg = NULL;
    vg_discovery *d = NULL;
    if (vg_workloads_new(proc, &reg))
        abort();
    vg_discovery_opts o = {.root = root, .bus = bus, .reg = reg, .groups = groups};
    if (vg_discovery_new(&o, &d))
        abort();
    vg_discovery_scan(d);
    vg_bus_drain(bus);
    vg_workload **list = NULL;
    size_t n = 0;
    if (vg_workloads_list(reg, &list, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            char name[256];
            vg_group_service_name(list[i], name, sizeof(name));
            if (list[i]->pod)
                vg_group_pod_owner(list[i]->pod, name, sizeof(name));
        }
        vg_workloads_list_free(list, n);
    }
    vg_discovery_close(d);
    vg_workloads_free(reg);
    return 0;
}
