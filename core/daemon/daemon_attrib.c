/*
 * Events of a container's first moments, attributed to it (issue: learning
 * without gaps). A plugin asks for a process's workload when it reads the
 * process; in a container's first milliseconds discovery may not know the
 * container yet, and a plain runc container's cgroup ("/<id>") does not say
 * it is one, so the answer is "the host" (group nodes) or none. The event
 * still carries the process's cgroup. Before the policy sees a behaviour
 * event of the host or of no workload with a cgroup other than "/", the
 * workload is resolved from that cgroup: from the registry, or else after
 * one discovery scan now (which finds the runtime's state, written before
 * the container's first process runs). The policy, the store and the
 * outputs then get a copy of the event with the workload and group, so that
 * what the policy learns goes to the container's group and what a user
 * reads says the container (a process gone at once included: the proc
 * plugin reports the cgroup the kernel saw at the exec). It runs once per
 * event, as the bus's enricher, before any subscriber sees the event.
 *
 * Scans are bounded: at most one per SCAN_GAP_MS, and a cgroup that a scan
 * did not find is taken as the host's for HOST_TTL_MS (host services have
 * cgroups too: /system.slice/...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cgroup_path.h"
#include "daemon_int.h"
#include "log.h"
#include "mp.h"

#define SCAN_GAP_MS 100
#define HOST_TTL_MS 10000
#define HOST_MAX 64

static struct {
    char path[256];
    uint64_t until_ms;
} hosts[HOST_MAX];
static size_t next_host;
static uint64_t last_scan_ms;

static bool known_host(const char *path, uint64_t now)
{
    for (size_t i = 0; i < HOST_MAX; i++)
        if (hosts[i].until_ms > now && strcmp(hosts[i].path, path) == 0)
            return true;
    return false;
}

static void remember_host(const char *path, uint64_t now)
{
    snprintf(hosts[next_host].path, sizeof(hosts[next_host].path), "%s", path);
    hosts[next_host].until_ms = now + HOST_TTL_MS;
    next_host = (next_host + 1) % HOST_MAX;
}

/* The registry's key of the cgroup an event carries ("" when none). */
static void cgroup_of(const vg_event *ev, char *key, size_t size)
{
    key[0] = '\0';
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    char path[256] = "", line[300];
    if (msgpack_unpack_next(&up, (const char *)ev->body, ev->body_len, NULL) ==
            MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP)
        vg_mp_get_cstr(&up.data, "cgroup", path, sizeof(path));
    msgpack_unpacked_destroy(&up);
    if (path[0] != '/' || !path[1])
        return;
    snprintf(line, sizeof(line), "0::%s\n", path);
    if (vg_cgroup_key(line, key, size) < 0)
        key[0] = '\0';
}

static bool resolve(vg_daemon *d, const char *key, vg_workload_info *wi)
{
    if (vg_workloads_lookup_cgroup(d->workloads, key, wi) == 0)
        return true;
    uint64_t now = uv_now(&d->loop);
    if (known_host(key, now) || now - last_scan_ms < SCAN_GAP_MS || !d->discovery)
        return false;
    last_scan_ms = now;
    if (vg_discovery_scan(d->discovery) == 0 &&
        vg_workloads_lookup_cgroup(d->workloads, key, wi) == 0)
        return true;
    remember_host(key, now);
    return false;
}

void vg__attribute(vg_event *ev, void *arg)
{
    vg_daemon *d = arg;
    const char *type = vg_event_type_name(ev->type);
    bool host = !ev->workload[0] && (!ev->group[0] || strcmp(ev->group, "nodes") == 0);
    if (!host || !d->workloads || !ev->body_len || !type ||
        (strncmp(type, "proc.", 5) && strncmp(type, "file.", 5) && strncmp(type, "net.", 4)))
        return;
    char key[256];
    vg_workload_info wi;
    cgroup_of(ev, key, sizeof(key));
    if (!key[0] || !resolve(d, key, &wi) || !wi.id[0])
        return;
    snprintf(ev->workload, sizeof(ev->workload), "%s", wi.id);
    snprintf(ev->group, sizeof(ev->group), "%s", wi.group);
    vg_debug("event %llu (%s) of the host attributed to workload %s (cgroup %s)",
             (unsigned long long)ev->id, type, wi.id, key);
}
