/*
 * Load-time checks of the names that policy files use, against the
 * catalogue (lib/evcat.h): the event types of vigil.on, the type patterns
 * of response rules, action names and webhook endpoints, and rules of a
 * plane that no loaded plugin produces events for. A name that cannot be
 * right is a load error at its file:line with the nearest valid names, so
 * that `vigil.on("proc.exce", ...)` fails `vigil-policy check` and a reload
 * instead of never firing. Under lua_pcall: errors are Lua errors.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "evcat.h"
#include "log.h"
#include "policy_int.h"
#include "sandbox.h"

#define LIST_HINT "; `vigild --list-fields` lists the event types and their fields"

static const vg_policy_load *load_of(lua_State *L)
{
    struct vg__pstate *st = vg_sandbox_of(L)->user;
    return &st->load;
}

/* A warning at the policy's current line (the first frame with one). */
static void warn_at(lua_State *L, const char *what, const char *name, const char *why)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++)
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            vg_warn("policy %s:%d: %s '%s' %s", ar.source[0] == '@' ? ar.source + 1 : ar.short_src,
                    ar.currentline, what, name, why);
            return;
        }
    vg_warn("policy: %s '%s' %s", what, name, why);
}

static const char *nearest_hint(char *buf, size_t size, const char *near)
{
    if (*near)
        snprintf(buf, size, " (nearest: %s)", near);
    else
        buf[0] = '\0';
    return buf;
}

void vg__check_type(lua_State *L, const char *fn, const char *type)
{
    if (vg_evcat_find(type))
        return;
    if (!vg_evcat_plane_covered(type) && !load_of(L)->complete) {
        warn_at(L, fn, type,
                "is not an event type of vigil or its shipped plugins: it must come from a "
                "third-party plugin");
        return;
    }
    char near[160], hint[180];
    vg_evcat_nearest_type(type, near, sizeof(near));
    vg_lua_error(L, "%s: '%s' is not an event type%s" LIST_HINT, fn, type,
                 nearest_hint(hint, sizeof(hint), near));
}

void vg__check_pattern(lua_State *L, const char *pattern)
{
    if (!strpbrk(pattern, "*?[")) {
        vg__check_type(L, "vigil.response: 'on'", pattern);
        return;
    }
    if (vg_evcat_pattern_matches(pattern))
        return;
    if (!vg_evcat_plane_covered(pattern) && !load_of(L)->complete) {
        warn_at(L, "vigil.response: 'on'", pattern,
                "matches no event type of vigil or its shipped plugins");
        return;
    }
    vg_lua_error(L, "vigil.response: 'on' = '%s' matches no event type" LIST_HINT, pattern);
}

static bool listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names && names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void check_webhook(lua_State *L, const char *target)
{
    const char *const *names = load_of(L)->webhooks;
    if (!names || !*target || listed(names, target))
        return;
    char all[512] = "";
    size_t off = 0;
    for (size_t i = 0; names[i] && off < sizeof(all); i++)
        off += (size_t)snprintf(all + off, sizeof(all) - off, "%s%s", i ? ", " : "", names[i]);
    vg_lua_error(L,
                 "vigil.response: webhook endpoint '%s' is not in the config's webhooks "
                 "(%s)",
                 target, *all ? all : "none is configured");
}

void vg__check_action(lua_State *L, const char *spec)
{
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), spec);
    if (!vg_evcat_action_known(name)) {
        if (!load_of(L)->complete) {
            warn_at(L, "vigil.response: action", name,
                    "is not an action of vigil or its shipped plugins: it must come from a "
                    "third-party plugin");
            return;
        }
        char near[160], hint[180];
        vg_evcat_nearest_action(name, near, sizeof(near));
        vg_lua_error(L, "vigil.response: unknown action '%s'%s", name,
                     nearest_hint(hint, sizeof(hint), near));
    }
    if (strcmp(name, "webhook") == 0)
        check_webhook(L, colon ? colon + 1 : "");
}

void vg__check_rule_plane(lua_State *L, int plane)
{
    if (plane != VG_PLANE_NET || !load_of(L)->complete || vg_evcat_plane_produced("net"))
        return;
    warn_at(L, "vigil.rule: plane", "net",
            "has no plugin loaded that produces its events: the rule has no effect until one "
            "is");
}
