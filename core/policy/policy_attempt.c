/*
 * Denied attempts reach the rules (docs/policy.md, "Denied attempts").
 *
 * In protect mode a plugin denies in the kernel's path (the proc plugin
 * before an exec or by killing at it, the file plugin before a write) and
 * publishes a "<plane>.violation" instead of the behaviour event: the exec
 * never happened, so there is no proc.exec. Handlers and response rules
 * written for the behaviour ("nc ran in a container") would then be silent
 * exactly when it was tried where it is protected. So the engine hands the
 * attempt to them as well: an event of the behaviour's type (the
 * violation's event_type) with the violation's fields and
 *
 *   denied = true, enforcement = "exec" | "kill" | "deny" (how it was stopped)
 *
 * The handlers' verdicts about it are not carried out (it was denied
 * already: nothing to learn, alert or cache), but everything they do is
 * (vigil.alert raises incidents, vigil.respond runs actions), and response
 * rules on the behaviour type match it. It is not published: the store and
 * followers keep the violation, which is what happened.
 *
 * A violation is a plugin's denial when it names an event_type and no
 * event_id: the engine's own violations always answer an event (event_id)
 * whose handlers have run already.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mp.h"
#include "policy_int.h"

/* Keys of the violation that describe the violation, not the attempt. */
static bool violation_key(const msgpack_object *k)
{
    return vg_mp_streq(k, "action") || vg_mp_streq(k, "event_type") ||
           vg_mp_streq(k, "enforcement");
}

/* The body of the attempt: the violation's fields but its own, then denied
 * and enforcement. */
static int attempt_body(const msgpack_object *body, msgpack_sbuffer *sb)
{
    char how[32] = "deny";
    vg_mp_get_cstr(body, "enforcement", how, sizeof(how));
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    uint32_t keep = 0;
    for (uint32_t i = 0; i < body->via.map.size; i++)
        keep += !violation_key(&body->via.map.ptr[i].key);
    msgpack_pack_map(&pk, keep + 2);
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        if (violation_key(&body->via.map.ptr[i].key))
            continue;
        msgpack_pack_object(&pk, body->via.map.ptr[i].key);
        msgpack_pack_object(&pk, body->via.map.ptr[i].val);
    }
    vg_mp_pack_kv_bool(&pk, "denied", true);
    return vg_mp_pack_kv_str(&pk, "enforcement", how);
}

int vg__policy_attempt(const vg_event *ev, vg_event **out)
{
    *out = NULL;
    const char *type = vg_event_type_name(ev->type);
    size_t n = type ? strlen(type) : 0;
    if (n < 10 || strcmp(type + n - 10, ".violation") != 0 || !ev->body_len)
        return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    char behaviour[VG_EVENT_TYPE_NAME_MAX] = "";
    int rc = 0;
    if (msgpack_unpack_next(&up, (const char *)ev->body, ev->body_len, &off) !=
            MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP || vg_mp_get(&up.data, "event_id") ||
        vg_mp_get_cstr(&up.data, "event_type", behaviour, sizeof(behaviour)) < 0 ||
        !vg__is_behaviour(behaviour) || vg__type_plane(behaviour) != vg__type_plane(type))
        goto done;
    int t = vg_event_type_find(behaviour);
    if (t < 0)
        goto done;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    rc = attempt_body(&up.data, &sb);
    vg_event_in in = {.type = t,
                      .severity = ev->severity,
                      .workload = ev->workload,
                      .group = ev->group,
                      .body = sb.data,
                      .body_len = sb.size};
    if (rc == 0)
        rc = vg_event_new(&in, out);
    msgpack_sbuffer_destroy(&sb);
    if (rc == 0) {
        (*out)->id = ev->id;
        (*out)->time_ns = ev->time_ns;
    } else {
        vg_warn("policy: the denied %s of event %llu cannot reach the handlers: %s", behaviour,
                (unsigned long long)ev->id, strerror(-rc));
    }
done:
    msgpack_unpacked_destroy(&up);
    return rc < 0 ? rc : *out != NULL;
}
