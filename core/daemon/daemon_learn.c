/*
 * The daemon's side of timed learning (core/groups/groups_learn.c): every
 * second, groups whose learning time is over move to their next mode, and
 * each move is announced as a group.mode event {mode, previous = "learn",
 * reason}, logged, and applied as a mode change by hand is (workloads'
 * modes, the policy's cached answers), then committed.
 */
#include <time.h>

#include "daemon_int.h"
#include "log.h"
#include "mp.h"

static void moved(void *arg, const char *group, int mode)
{
    vg_daemon *d = arg;
    vg_notice("group %s: learning time over, now in %s mode", group, vg_mode_name(mode));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3); /* the group is in the header */
    vg_mp_pack_kv_str(&pk, "mode", vg_mode_name(mode));
    vg_mp_pack_kv_str(&pk, "previous", vg_mode_name(VG_MODE_LEARN));
    vg_mp_pack_kv_str(&pk, "reason", "learning time over");
    vg_event_in ev = {.type = vg_event_type_id("group.mode"),
                      .severity = VG_SEV_NOTICE,
                      .group = group,
                      .body = sb.data,
                      .body_len = sb.size};
    if (d->bus)
        vg_bus_publish(d->bus, &ev);
    msgpack_sbuffer_destroy(&sb);
}

void vg__learn_check(vg_daemon *d)
{
    if (!d->groups)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (vg_groups_learn_due(d->groups, now, moved, d) == 0)
        return;
    if (d->discovery)
        vg_discovery_modes_changed(d->discovery);
    if (d->policy)
        vg_policy_invalidate(d->policy);
    if (vg_store_commit(d->store, true) < 0)
        d->unsynced = true; /* the sync timer tries again */
}
