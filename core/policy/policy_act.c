/*
 * What the policy engine does: violations, learned rules, actions with their
 * response.done events, and the cached decisions for plugins' hot paths.
 * Shared by verdicts (policy.c) and the `vigil` module (policy_api.c).
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "luamp.h"
#include "mp.h"
#include "policy_int.h"

#define KEY_MAX (VG_GROUP_MAX + 8 + VG_RULE_FIELDS_MAX * (VG_RULE_FIELD_MAX + 1))

static void wire_str(const msgpack_object *wire, const char *key, char *buf, size_t size)
{
    buf[0] = '\0';
    if (wire)
        vg_mp_field_str(wire, key, buf, size);
}

static void publish(vg_policy *p, int type, int sev, const msgpack_object *wire,
                    const msgpack_sbuffer *body)
{
    char group[VG_GROUP_MAX], workload[VG_WORKLOAD_MAX];
    wire_str(wire, "group", group, sizeof(group));
    wire_str(wire, "workload", workload, sizeof(workload));
    vg_event_in in = {.type = type,
                      .severity = sev,
                      .group = group,
                      .workload = workload,
                      .body = body->data,
                      .body_len = body->size};
    int rc = p->o.bus ? vg_bus_publish(p->o.bus, &in) : 0;
    if (rc < 0)
        vg_debug("policy: an event of type %s was not published: %s", vg_event_type_name(type),
                 strerror(-rc));
}

/* The subject in map (an event's wire form, or its body) of an event of
 * type: group (maybe empty), plane and fields. */
static int subject_in(const msgpack_object *map, const char *type, const char *group, vg_rule *rule)
{
    char plane[16], typed[VG_EVENT_TYPE_NAME_MAX];
    /* A hand-made subject ({group=, plane=, name=...}) names its plane. */
    if (vg_mp_field_str(map, "plane", plane, sizeof(plane)) == 0 && vg_plane_parse(plane) >= 0) {
        snprintf(typed, sizeof(typed), "%s.x", plane);
        type = typed;
    }
    return vg__rule_from_event(map, type, group, rule);
}

/* The subject of a rule-shaped event's wire map. */
static int subject(const msgpack_object *wire, vg_rule *rule)
{
    char type[VG_EVENT_TYPE_NAME_MAX], group[VG_GROUP_MAX];
    wire_str(wire, "type", type, sizeof(type));
    wire_str(wire, "group", group, sizeof(group));
    return subject_in(wire, type, group, rule);
}

static void cache_answer(vg_policy *p, const vg_rule *rule, int decision)
{
    if (!rule->group[0])
        return; /* plugins ask by group; a host process has none */
    const char *fields[VG_RULE_FIELDS_MAX];
    for (int i = 0; i < VG_RULE_FIELDS_MAX; i++)
        fields[i] = rule->fields[i];
    char key[KEY_MAX];
    size_t kl = vg__cache_key(key, sizeof(key), rule->group, rule->plane, fields);
    uint64_t gen = vg_rules_generation(p->o.rules);
    /* Most answers repeat one already cached: no need to copy the key again. */
    if (kl && vg__cache_get(p->cache, gen, key, kl) != decision)
        vg__cache_put(p->cache, gen, key, kl, decision);
}

#define TAGS_MAX 16

/* opts (a Lua table index, or 0): type, name, severity, priority, message,
 * tags, technique (a MITRE ATT&CK id), evidence (a table, published as a
 * map). */
static void opt_str(lua_State *L, int opts, const char *key, char *buf, size_t size)
{
    if (!L || !opts)
        return;
    if (lua_getfield(L, opts, key) == LUA_TSTRING)
        snprintf(buf, size, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
}

/* opts.tags: a list of strings (e.g. MITRE ATT&CK ids) that the raised
 * event carries, for response rules (match = { tags = "T1068" }). Others
 * than strings are skipped. */
static size_t count_tags(lua_State *L, int opts)
{
    size_t n = 0;
    if (L && opts && lua_getfield(L, opts, "tags") == LUA_TTABLE) {
        size_t len = lua_rawlen(L, -1);
        for (size_t i = 1; i <= len && i <= TAGS_MAX; i++) {
            n += lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING;
            lua_pop(L, 1);
        }
    }
    if (L && opts)
        lua_pop(L, 1);
    return n;
}

static void pack_tags(lua_State *L, int opts, size_t n, msgpack_packer *pk)
{
    vg_mp_pack_cstr(pk, "tags");
    msgpack_pack_array(pk, (uint32_t)n);
    lua_getfield(L, opts, "tags");
    size_t len = lua_rawlen(L, -1);
    for (size_t i = 1; i <= len && i <= TAGS_MAX; i++) {
        if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING)
            vg_mp_pack_cstr(pk, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Whether the table at idx maps strings to strings, numbers and booleans
 * only: evidence is packed after the body has begun, where an error (and
 * its longjmp) would leak the buffer. */
static bool flat_table(lua_State *L, int idx)
{
    bool ok = true;
    lua_pushnil(L);
    while (ok && lua_next(L, idx) != 0) {
        int t = lua_type(L, -1);
        ok = lua_type(L, -2) == LUA_TSTRING &&
             (t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN);
        lua_pop(L, ok ? 1 : 2);
    }
    return ok;
}

int vg__policy_violation(vg_policy *p, lua_State *L, const msgpack_object *wire, const char *action,
                         int opts)
{
    vg_rule r;
    int has_subject = subject(wire, &r) == 0;
    char type[VG_EVENT_TYPE_NAME_MAX] = "", name[128] = "", sev[16] = "", msg[512] = "";
    char ev_type[VG_EVENT_TYPE_NAME_MAX];
    wire_str(wire, "type", ev_type, sizeof(ev_type));
    if (vg__is_consequence(ev_type))
        return -ELOOP;
    opt_str(L, opts, "type", type, sizeof(type));
    opt_str(L, opts, "name", name, sizeof(name));
    opt_str(L, opts, "severity", sev, sizeof(sev));
    opt_str(L, opts, "message", msg, sizeof(msg));
    char technique[32] = "";
    opt_str(L, opts, "technique", technique, sizeof(technique));
    bool evidence = L && opts && lua_getfield(L, opts, "evidence") == LUA_TTABLE &&
                    flat_table(L, lua_gettop(L));
    if (L && opts)
        lua_pop(L, 1);
    if (!type[0]) {
        int plane = has_subject ? r.plane : vg__type_plane(ev_type);
        snprintf(type, sizeof(type), "%s.violation", plane >= 0 ? vg_plane_name(plane) : "policy");
    }
    int t = vg_event_type_id(type);
    int severity = sev[0] ? vg_severity_parse(sev) : VG_SEV_WARNING;
    if (t < 0 || severity < 0)
        return -EINVAL;
    /* Alerts may be excepted (policy_exceptions.c); denials never are. */
    char group[VG_GROUP_MAX] = "";
    wire_str(wire, "group", group, sizeof(group));
    const struct vg__exception *e =
        strcmp(action, "deny") == 0
            ? NULL
            : vg__exception_find(p ? p->st : NULL, type, name[0] ? name : NULL, group, wire);
    if (e) {
        __atomic_add_fetch(&p->stats.excepted, 1, __ATOMIC_RELAXED);
        vg_debug("policy: %s%s%s not raised: exception %s (%s:%d)", type, name[0] ? " " : "", name,
                 e->name ? e->name : "", e->file, e->line);
        return 0;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    const char *const *names = has_subject ? vg_rule_field_names(r.plane) : NULL;
    size_t nf = 0;
    while (names && names[nf])
        nf++;
    int64_t id = 0, pid = 0;
    bool has_pid = wire && vg_mp_get_int(wire, "pid", &pid) == 0;
    if (wire)
        vg_mp_get_int(wire, "id", &id);
    size_t ntags = count_tags(L, opts);
    int priority = vg__priority_of_severity(severity);
    if (L && opts) {
        if (lua_getfield(L, opts, "priority") == LUA_TNUMBER && lua_isinteger(L, -1))
            priority = (int)lua_tointeger(L, -1); /* range checked by the caller */
        lua_pop(L, 1);
    }
    msgpack_pack_map(&pk, 4 + (name[0] != 0) + (msg[0] != 0) + (technique[0] != 0) + evidence +
                              has_pid + nf + (ntags > 0));
    vg_mp_pack_kv_str(&pk, "action", action);
    vg_mp_pack_kv_str(&pk, "event_type", ev_type);
    vg_mp_pack_kv_int(&pk, "event_id", id);
    vg_mp_pack_kv_int(&pk, "priority", priority);
    if (name[0])
        vg_mp_pack_kv_str(&pk, "incident", name);
    if (msg[0])
        vg_mp_pack_kv_str(&pk, "message", msg);
    if (technique[0])
        vg_mp_pack_kv_str(&pk, "technique", technique);
    if (evidence) {
        msgpack_pack_str_with_body(&pk, "evidence", 8);
        lua_getfield(L, opts, "evidence");
        vg_lua_pack(L, lua_gettop(L), &pk, 1);
        lua_pop(L, 1);
    }
    if (has_pid)
        vg_mp_pack_kv_int(&pk, "pid", pid);
    for (size_t i = 0; i < nf; i++)
        vg_mp_pack_kv_str(&pk, names[i], r.fields[i]);
    if (ntags)
        pack_tags(L, opts, ntags, &pk);
    publish(p, t, severity, wire, &sb);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

int vg__policy_learn_rule(vg_policy *p, vg_rule *r)
{
    if (!p->o.rules || !r->group[0])
        return -EINVAL;
    r->action = VG_RULE_ALLOW;
    r->origin = VG_RULE_LEARNED;
    const char *fields[VG_RULE_FIELDS_MAX];
    for (int i = 0; i < VG_RULE_FIELDS_MAX; i++)
        fields[i] = r->fields[i];
    int action;
    /* Learning what is already allowed would only churn the generation. */
    if (vg_rules_match(p->o.rules, r->group, r->plane, fields, &action) == 1 &&
        action == VG_RULE_ALLOW)
        return 0;
    return vg_rules_put(p->o.rules, r, true);
}

int vg__policy_learn(vg_policy *p, const msgpack_object *wire)
{
    vg_rule r;
    if (subject(wire, &r) < 0)
        return -EINVAL;
    return vg__policy_learn_rule(p, &r);
}

void vg__policy_carry_allow(vg_policy *p, const vg_event *ev, const msgpack_object *body)
{
    /* The body's fields are the wire form's after its header, and no rule
     * field is named as a header field: the same subject. */
    vg_rule r;
    if (body && subject_in(body, vg_event_type_name(ev->type), ev->group, &r) == 0)
        cache_answer(p, &r, VG_DECIDE_ALLOW);
}

void vg__policy_carry_out(vg_policy *p, const msgpack_object *wire, int verdict)
{
    vg_rule r;
    switch (verdict) {
    case VG_VERDICT_ALLOW:
        if (subject(wire, &r) == 0)
            cache_answer(p, &r, VG_DECIDE_ALLOW);
        break;
    case VG_VERDICT_DENY:
        vg__policy_violation(p, NULL, wire, "deny", 0);
        if (subject(wire, &r) == 0)
            cache_answer(p, &r, VG_DECIDE_DENY);
        break;
    case VG_VERDICT_ALERT:
        vg__policy_violation(p, NULL, wire, "alert", 0);
        break;
    case VG_VERDICT_LEARN:
        vg__policy_learn(p, wire);
        break;
    }
}

static size_t map_size(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_MAP ? o->via.map.size : 0;
}

const char *vg__policy_run_action(vg_policy *p, const char *spec, const msgpack_object *wire,
                                  const msgpack_object *extra, const char *rule)
{
    char name[128], target[256] = "";
    snprintf(name, sizeof(name), "%s", spec);
    char *colon = strchr(name, ':');
    if (colon) {
        *colon = '\0';
        snprintf(target, sizeof(target), "%s", colon + 1);
    }
    char group[VG_GROUP_MAX], workload[VG_WORKLOAD_MAX];
    wire_str(wire, "group", group, sizeof(group));
    wire_str(wire, "workload", workload, sizeof(workload));
    /* The action's arguments: {action, target, rule, group, workload,
     * event, <extra>...}; see docs/policy.md. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5 + (wire != NULL) + map_size(extra));
    vg_mp_pack_kv_str(&pk, "action", name);
    vg_mp_pack_kv_str(&pk, "target", target);
    vg_mp_pack_kv_str(&pk, "rule", rule);
    vg_mp_pack_kv_str(&pk, "group", group);
    vg_mp_pack_kv_str(&pk, "workload", workload);
    if (wire) {
        vg_mp_pack_cstr(&pk, "event");
        msgpack_pack_object(&pk, *wire);
    }
    for (size_t i = 0; i < map_size(extra); i++) {
        msgpack_pack_object(&pk, extra->via.map.ptr[i].key);
        msgpack_pack_object(&pk, extra->via.map.ptr[i].val);
    }
    int rc = p->o.actions ? vg_actions_run(p->o.actions, name, sb.data, sb.size) : -ENOENT;
    msgpack_sbuffer_destroy(&sb);
    /* "pending": the action accepted the work and publishes how it ended
     * (a webhook delivery); "done" would say more than is known. */
    bool deferred = rc == 0 && vg_actions_deferred(p->o.actions, name);
    /* -ENOENT from an action that exists: its target does not (a webhook
     * endpoint not in the config), which is a failure, not "unavailable". */
    bool no_target = rc == -ENOENT && p->o.actions && vg_actions_owner(p->o.actions, name);
    const char *status = deferred                      ? "pending"
                         : rc == 0                     ? "done"
                         : rc == -ENOENT && !no_target ? "unavailable"
                                                       : "failed";
    char error[400] = "";
    if (no_target)
        snprintf(error, sizeof(error), "%s has no target '%s'", name, target);
    else if (rc < 0 && rc != -ENOENT)
        snprintf(error, sizeof(error), "%s", strerror(-rc));

    char ev_type[VG_EVENT_TYPE_NAME_MAX];
    int64_t id = 0;
    wire_str(wire, "type", ev_type, sizeof(ev_type));
    if (wire)
        vg_mp_get_int(wire, "id", &id);
    msgpack_sbuffer_init(&sb);
    msgpack_pack_map(&pk, 7);
    vg_mp_pack_kv_str(&pk, "action", name);
    vg_mp_pack_kv_str(&pk, "target", target);
    vg_mp_pack_kv_str(&pk, "rule", rule);
    vg_mp_pack_kv_str(&pk, "status", status);
    vg_mp_pack_kv_str(&pk, "error", error);
    vg_mp_pack_kv_str(&pk, "event_type", ev_type);
    vg_mp_pack_kv_int(&pk, "event_id", id);
    publish(p, p->t_done, rc == 0 || (rc == -ENOENT && !no_target) ? VG_SEV_INFO : VG_SEV_WARNING,
            wire, &sb);
    msgpack_sbuffer_destroy(&sb);
    return status;
}

int vg_policy_decide_cached(vg_policy *p, const char *group, int plane, const char *const *fields)
{
    if (!p || !group || !fields || plane < 0 || plane >= VG_PLANE_COUNT)
        return VG_DECIDE_UNKNOWN;
    char key[KEY_MAX];
    size_t kl = vg__cache_key(key, sizeof(key), group, plane, fields);
    uint64_t gen = vg_rules_generation(p->o.rules);
    int d = kl ? vg__cache_get(p->cache, gen, key, kl) : VG_DECIDE_UNKNOWN;
    if (d != VG_DECIDE_UNKNOWN) {
        __atomic_add_fetch(&p->stats.cache_hits, 1, __ATOMIC_RELAXED);
        return d;
    }
    __atomic_add_fetch(&p->stats.cache_misses, 1, __ATOMIC_RELAXED);
    /* In the proc plane an empty field asks about "some value" there: the
     * pre-exec question sees a file, not the name it will run as. Other
     * planes keep "" as "not known" (matching only rules with "*"). */
    bool any = false;
    const char *const *names = vg_rule_field_names(plane);
    for (size_t i = 0; plane == VG_PLANE_PROC && names && names[i]; i++)
        any = any || (fields[i] && !fields[i][0]);
    int action, found = 0;
    if (p->o.rules)
        found = any ? vg_rules_match_any(p->o.rules, group, plane, fields, &action)
                    : vg_rules_match(p->o.rules, group, plane, fields, &action);
    if (found == 1) {
        d = action == VG_RULE_DENY ? VG_DECIDE_DENY : VG_DECIDE_ALLOW;
        if (kl)
            vg__cache_put(p->cache, gen, key, kl, d);
    }
    return d;
}
