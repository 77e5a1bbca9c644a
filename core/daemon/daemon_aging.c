/*
 * The periodic check that removes unused service groups (groups.h, "unused
 * groups age out"): once at start, after the first discovery scan, and then
 * every VG_GROUP_AGING_PERIOD_MS. Each removal is logged and published as
 * a group.removed event {mode, unused_s, rules_removed, rules_kept} with
 * the group in the header.
 *
 * group_aging_hours is read from the current config at each check, so a
 * reload changes it without a restart.
 *
 * Test hook: the environment variable VIGIL_TEST_HOUR_MS makes an hour of
 * group_aging_hours last that many milliseconds (and a check run ten times
 * per such hour), so that an end-to-end test sees a group age out in
 * seconds (tests/e2e/test_group_aging.sh). The setting stays in hours for
 * users; the daemon warns at start when the hook is on.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <uv.h>

#include "daemon_int.h"
#include "log.h"
#include "mp.h"

static void publish_removed(const vg_group_removed *r, void *arg)
{
    vg_daemon *d = arg;
    int64_t unused_s = r->idle_ns / 1000000000LL;
    vg_info("group %s removed: unused for %" PRId64 "h%02" PRId64
            "m, it was in %s mode; %zu learned rules removed, %zu rules kept",
            r->name, unused_s / 3600, unused_s / 60 % 60, vg_mode_name(r->mode), r->rules,
            r->rules_kept);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4); /* the group is in the header */
    vg_mp_pack_kv_str(&pk, "mode", vg_mode_name(r->mode));
    vg_mp_pack_kv_int(&pk, "unused_s", unused_s);
    vg_mp_pack_kv_uint(&pk, "rules_removed", r->rules);
    vg_mp_pack_kv_uint(&pk, "rules_kept", r->rules_kept);
    vg_event_in ev = {.type = vg_event_type_id("group.removed"),
                      .severity = VG_SEV_NOTICE,
                      .group = r->name,
                      .body = sb.data,
                      .body_len = sb.size};
    if (d->bus)
        vg_bus_publish(d->bus, &ev);
    msgpack_sbuffer_destroy(&sb);
}

void vg__group_aging_check(vg_daemon *d)
{
    if (!d->groups)
        return;
    vg_groups_aging a = {.reg = d->workloads,
                         .rules = d->rules,
                         .now_ns = (int64_t)uv_hrtime(),
                         .max_idle_ns =
                             (int64_t)(d->cfg->group_aging_hours * d->aging_hour_ms) * 1000000,
                         .removed = publish_removed,
                         .arg = d};
    int n = vg_groups_age(d->groups, &a);
    if (n < 0)
        vg_warn("group aging: out of memory; no group was removed this time");
    /* The policy's cached answers for a removed group were made in its old
     * mode; a workload that brings the group back starts in the default
     * one. (Removed rules already move the rules' generation.) */
    if (n > 0 && d->policy)
        vg_policy_invalidate(d->policy);
}

static void on_aging_timer(uv_timer_t *h)
{
    vg__group_aging_check(h->data);
}

/* VIGIL_TEST_HOUR_MS, when set to a number from 100 to 3600000. */
static uint64_t test_hour_ms(void)
{
    const char *s = getenv("VIGIL_TEST_HOUR_MS");
    char *end;
    if (!s || !*s)
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < 100 || v > 3600000) {
        vg_warn("VIGIL_TEST_HOUR_MS=%s ignored: not a number from 100 to 3600000", s);
        return 0;
    }
    return v;
}

void vg__group_aging_start(vg_daemon *d)
{
    uint64_t period = VG_GROUP_AGING_PERIOD_MS, test = test_hour_ms();
    d->aging_hour_ms = 3600000;
    if (test) {
        vg_warn("VIGIL_TEST_HOUR_MS is set: an hour of group_aging_hours lasts %" PRIu64
                " ms (a test setting)",
                test);
        d->aging_hour_ms = test;
        period = test / 10;
    }
    vg__group_aging_check(d);
    uv_timer_start(&d->aging_timer, on_aging_timer, period, period);
}
