/*
 * The `vigil` Lua module of the policies (docs/policy.md is its reference).
 *
 * Functions find their state through the sandbox's user pointer. While only
 * checking (no engine), the functions that act (learn, alert, report_deny, respond)
 * do nothing and the ones that ask answer as for a fresh group.
 *
 * Event-like arguments (an event, or a table such as {group=, plane=, name=})
 * are packed to msgpack and read as the wire form: the same code serves both.
 * The buffers live in a userdata with a __gc, so that a Lua error while
 * packing cannot leak them.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_int.h"
#include "sandbox.h"

#define WIRE_MT "vigil.wire"

static struct vg__pstate *state(lua_State *L)
{
    return vg_sandbox_of(L)->user;
}

int vg__policy_mode(vg_policy *p, const char *group)
{
    if (!p)
        return VG_MODE_LEARN;
    int m = p->o.env.group_mode ? p->o.env.group_mode(p->o.env.arg, group) : -ENOENT;
    return m >= 0 && m <= VG_MODE_PROTECT ? m : p->o.default_mode;
}

/* ---- event-like arguments ---- */

struct wire {
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    bool live;
};

static int l_wire_gc(lua_State *L)
{
    struct wire *w = luaL_checkudata(L, 1, WIRE_MT);
    if (w->live) {
        msgpack_unpacked_destroy(&w->up);
        msgpack_sbuffer_destroy(&w->sb);
        w->live = false;
    }
    return 0;
}

const msgpack_object *vg__to_wire(lua_State *L, int idx, const char *fn,
                                  const msgpack_sbuffer **packed)
{
    idx = lua_absindex(L, idx);
    if (!vg_lua_is_record(L, idx))
        vg_lua_error(L, "%s: expected an event or a table, got %s", fn, luaL_typename(L, idx));
    struct wire *w = lua_newuserdatauv(L, sizeof(*w), 0);
    memset(w, 0, sizeof(*w));
    msgpack_sbuffer_init(&w->sb);
    msgpack_unpacked_init(&w->up);
    w->live = true;
    luaL_setmetatable(L, WIRE_MT);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &w->sb, msgpack_sbuffer_write);
    vg_lua_pack(L, idx, &pk, 0);
    size_t off = 0;
    if (msgpack_unpack_next(&w->up, w->sb.data, w->sb.size, &off) != MSGPACK_UNPACK_SUCCESS ||
        w->up.data.type != MSGPACK_OBJECT_MAP)
        vg_lua_error(L, "%s: expected a table with named fields", fn);
    if (packed)
        *packed = &w->sb;
    return &w->up.data;
}

static vg_policy *engine(lua_State *L)
{
    return state(L)->engine;
}

static void need_loading(lua_State *L, const char *fn)
{
    if (!state(L)->loading)
        vg_lua_error(L, "%s is for the top level of a policy file, not for handlers", fn);
}

/* ---- declarations (top level of files) ---- */

static char *source_path(lua_Debug *ar)
{
    return strdup(ar->source[0] == '@' ? ar->source + 1 : ar->short_src);
}

static int l_on(lua_State *L)
{
    struct vg__pstate *st = state(L);
    need_loading(L, "vigil.on");
    const char *type = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    struct vg__hlist *hl = &st->any;
    if (strcmp(type, "*") != 0) {
        int id = strchr(type, '.') ? vg_event_type_id(type) : -EINVAL;
        if (id < 0)
            return vg_lua_error(L, "vigil.on: '%s' is not an event type (e.g. \"proc.exec\")",
                                type);
        vg__check_type(L, "vigil.on", type);
        hl = &st->by_type[id];
    }
    if (hl->n == hl->cap) {
        size_t cap = hl->cap ? hl->cap * 2 : 4;
        struct vg__handler *v = realloc(hl->v, cap * sizeof(*v));
        if (!v)
            return luaL_error(L, "not enough memory");
        hl->v = v;
        hl->cap = cap;
    }
    lua_Debug ar;
    lua_pushvalue(L, 2);
    lua_getinfo(L, ">S", &ar);
    char *file = source_path(&ar);
    if (!file)
        return luaL_error(L, "not enough memory");
    lua_pushvalue(L, 2);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    hl->v[hl->n++] = (struct vg__handler){.ref = ref, .file = file, .line = ar.linedefined};
    st->handlers++;
    return 0;
}

static int caller(lua_State *L, char **file)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            *file = source_path(&ar);
            return ar.currentline;
        }
    }
    *file = strdup("?");
    return 0;
}

void *vg__next_slot(lua_State *L, void **v, size_t n, size_t *cap, size_t size)
{
    if (n + 1 >= *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char *nv = realloc(*v, ncap * size);
        if (!nv)
            luaL_error(L, "not enough memory");
        memset(nv + *cap * size, 0, (ncap - *cap) * size);
        *v = nv;
        *cap = ncap;
    }
    return (char *)*v + n * size;
}

static int l_response(lua_State *L)
{
    struct vg__pstate *st = state(L);
    need_loading(L, "vigil.response");
    /* The slot past the last rule holds what an earlier failed call left. */
    struct vg__response *r =
        vg__next_slot(L, (void **)&st->resp, st->nresp, &st->capresp, sizeof(*r));
    vg__response_free(r);
    vg__response_parse(L, 1, r);
    r->line = caller(L, &r->file);
    st->nresp++;
    return 0;
}

static int l_exception(lua_State *L)
{
    struct vg__pstate *st = state(L);
    need_loading(L, "vigil.exception");
    /* The slot past the last one holds what an earlier failed call left. */
    struct vg__exception *e =
        vg__next_slot(L, (void **)&st->exc, st->nexc, &st->capexc, sizeof(*e));
    vg__exception_free(e);
    vg__exception_parse(L, 1, e);
    e->line = caller(L, &e->file);
    st->nexc++;
    return 0;
}

static void rule_field(lua_State *L, const char *key, char *buf, size_t size, bool required)
{
    int t = lua_getfield(L, 1, key);
    if (t == LUA_TNIL && !required) {
        lua_pop(L, 1);
        return;
    }
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        vg_lua_error(L, "vigil.rule: '%s' must be a string", key);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len >= size || strchr(s, '\x1f') || (required && len == 0))
        vg_lua_error(L, "vigil.rule: '%s' must be a non-empty string shorter than %d bytes", key,
                     (int)size);
    memcpy(buf, s, len + 1);
    lua_pop(L, 1);
}

static bool known_rule_key(const char *k, const char *const *names)
{
    static const char *const common[] = {"group", "plane", "action", "comment", NULL};
    for (size_t i = 0; common[i]; i++)
        if (strcmp(k, common[i]) == 0)
            return true;
    for (size_t i = 0; names[i]; i++)
        if (strcmp(k, names[i]) == 0)
            return true;
    return false;
}

static int l_rule(lua_State *L)
{
    struct vg__pstate *st = state(L);
    need_loading(L, "vigil.rule");
    luaL_checktype(L, 1, LUA_TTABLE);
    vg_rule r;
    memset(&r, 0, sizeof(r));
    char plane[16] = "", action[16] = "allow";
    rule_field(L, "group", r.group, sizeof(r.group), true);
    rule_field(L, "plane", plane, sizeof(plane), true);
    rule_field(L, "action", action, sizeof(action), false);
    rule_field(L, "comment", r.comment, sizeof(r.comment), false);
    if ((r.plane = vg_plane_parse(plane)) < 0)
        return vg_lua_error(L, "vigil.rule: plane must be proc, file or net, got '%s'", plane);
    if (strcmp(action, "allow") && strcmp(action, "deny"))
        return vg_lua_error(L, "vigil.rule: action must be allow or deny, got '%s'", action);
    r.action = strcmp(action, "deny") == 0 ? VG_RULE_DENY : VG_RULE_ALLOW;
    r.origin = VG_RULE_WRITTEN;
    const char *const *names = vg_rule_field_names(r.plane);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || !known_rule_key(lua_tostring(L, -1), names))
            return vg_lua_error(L, "vigil.rule: unknown field '%s' for plane %s",
                                luaL_tolstring(L, -1, NULL), plane);
    }
    int set = 0;
    for (int i = 0; names[i]; i++) {
        rule_field(L, names[i], r.fields[i], sizeof(r.fields[i]), false);
        set += r.fields[i][0] != 0;
    }
    if (!set)
        return vg_lua_error(L, "vigil.rule: name at least one field of the %s plane", plane);
    vg__check_rule_plane(L, r.plane);
    if (st->nwritten == st->capwritten) {
        size_t cap = st->capwritten ? st->capwritten * 2 : 16;
        vg_rule *v = realloc(st->written, cap * sizeof(*v));
        if (!v)
            return luaL_error(L, "not enough memory");
        st->written = v;
        st->capwritten = cap;
    }
    st->written[st->nwritten++] = r;
    return 0;
}

/* Whether path is absolute and plain: no empty, "." or ".." component (a
 * trailing slash excepted), so that it cannot climb out of the root it is
 * looked up in. */
static bool plain_path(const char *path, size_t len)
{
    if (len < 2 || len >= VG__WATCH_PATH_MAX || path[0] != '/' || strlen(path) != len)
        return false;
    const char *c = path + 1, *stop = path + (path[len - 1] == '/' ? len - 1 : len);
    for (;;) {
        const char *slash = memchr(c, '/', (size_t)(stop - c));
        size_t n = slash ? (size_t)(slash - c) : (size_t)(stop - c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        if (!slash)
            return true;
        c = slash + 1;
    }
}

/* Checks vigil.watch{}'s table (raising errors) and returns how many paths
 * it holds; nothing is allocated before every check passed. */
static size_t watch_check(lua_State *L, struct vg__pstate *st, char *group, size_t gsize)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!k || (strcmp(k, "group") != 0 && strcmp(k, "paths") != 0))
            vg_lua_error(L, "vigil.watch: unknown field '%s' (group, paths)",
                         luaL_tolstring(L, -1, NULL));
    }
    int t = lua_getfield(L, 1, "group");
    size_t len = 0;
    const char *g = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (t != LUA_TNIL && (!g || len == 0 || len >= gsize))
        vg_lua_error(L, "vigil.watch: 'group' must be a non-empty string shorter than %d bytes",
                     (int)gsize);
    snprintf(group, gsize, "%s", g ? g : "");
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "paths") != LUA_TTABLE)
        vg_lua_error(L, "vigil.watch: 'paths' must be a list of absolute paths");
    size_t n = (size_t)lua_rawlen(L, -1);
    if (n == 0 || n > VG__WATCH_PATHS_MAX)
        vg_lua_error(L, "vigil.watch: 'paths' must hold 1 to %d paths", VG__WATCH_PATHS_MAX);
    if (st->watch_paths + n > VG__WATCH_TOTAL_MAX)
        vg_lua_error(L, "vigil.watch: more than %d paths in all", VG__WATCH_TOTAL_MAX);
    for (size_t i = 1; i <= n; i++) {
        t = lua_rawgeti(L, -1, (lua_Integer)i);
        const char *path = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!path || !plain_path(path, len))
            vg_lua_error(L,
                         "vigil.watch: paths[%d] must be an absolute path without '.', '..' "
                         "or empty components, shorter than %d bytes",
                         (int)i, VG__WATCH_PATH_MAX);
        lua_pop(L, 1);
    }
    return n;
}

static void watch_free(struct vg__watch *w)
{
    for (size_t i = 0; i < w->npaths; i++)
        free(w->paths[i]);
    free(w->paths);
    w->paths = NULL;
    w->npaths = 0;
}

/* vigil.watch{ group = "web", paths = {"/app/config.yaml", "/srv/secrets/"} }:
 * without a group, for every group. Kept with the state and handed to the
 * plugins (a policy.watchlist event) only when the state is swapped in. */
static int l_watch(lua_State *L)
{
    struct vg__pstate *st = state(L);
    need_loading(L, "vigil.watch");
    struct vg__watch w = {0};
    size_t n = watch_check(L, st, w.group, sizeof(w.group));
    if (st->nwatch == st->capwatch) {
        size_t cap = st->capwatch ? st->capwatch * 2 : 8;
        struct vg__watch *v = realloc(st->watch, cap * sizeof(*v));
        if (!v)
            return luaL_error(L, "not enough memory");
        st->watch = v;
        st->capwatch = cap;
    }
    w.paths = calloc(n, sizeof(*w.paths));
    for (size_t i = 0; w.paths && i < n; i++, w.npaths++) {
        lua_rawgeti(L, -1, (lua_Integer)(i + 1));
        w.paths[i] = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (!w.paths[i])
            break;
    }
    if (!w.paths || w.npaths < n) {
        watch_free(&w);
        return luaL_error(L, "not enough memory");
    }
    st->watch[st->nwatch++] = w;
    st->watch_paths += n;
    return 0;
}

/* vigil.incidents{ group = "web", suspicious_process = false, ... }: without
 * a group, for every group. */
static int l_incidents(lua_State *L)
{
    need_loading(L, "vigil.incidents");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, LUA_REGISTRYINDEX, state(L)->incidents_ref);
    int t = lua_getfield(L, 1, "group");
    if (t != LUA_TNIL && t != LUA_TSTRING)
        return vg_lua_error(L, "vigil.incidents: group must be a string");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushliteral(L, "*");
    }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -3) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        lua_rawset(L, -5);
    }
    int tab = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "group") == 0) {
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, -2) != LUA_TSTRING || !lua_isboolean(L, -1))
            return vg_lua_error(L, "vigil.incidents: expected incident_name = true|false");
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, tab);
    }
    return 0;
}

static int l_incident_enabled(lua_State *L)
{
    const char *group = luaL_checkstring(L, 1);
    luaL_checkstring(L, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, state(L)->incidents_ref);
    const char *keys[] = {group, "*"};
    for (int i = 0; i < 2; i++) {
        if (lua_getfield(L, 3, keys[i]) == LUA_TTABLE) {
            lua_pushvalue(L, 2);
            if (lua_rawget(L, -2) == LUA_TBOOLEAN)
                return 1;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- questions ---- */

static const char *group_arg(lua_State *L, int idx)
{
    if (vg_lua_is_record(L, idx)) {
        vg_lua_getfield_record(L, idx, "group");
        lua_replace(L, idx);
    }
    return luaL_checkstring(L, idx);
}

static int l_mode(lua_State *L)
{
    const char *group = group_arg(L, 1);
    lua_pushstring(L, vg_mode_name(vg__policy_mode(engine(L), group)));
    return 1;
}

static int l_default_mode(lua_State *L)
{
    vg_policy *p = engine(L);
    lua_pushstring(L, vg_mode_name(p ? p->o.default_mode : VG_MODE_LEARN));
    return 1;
}

/* Copies a field of the table at idx that is a string, number or boolean. */
static bool copy_field(lua_State *L, int idx, const char *key, char *buf, size_t size)
{
    int t = vg_lua_getfield_record(L, idx, key); /* an event's absent field is not an error */
    bool ok = t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN;
    const char *v = t == LUA_TBOOLEAN ? (lua_toboolean(L, -1) ? "true" : "false")
                    : ok              ? lua_tostring(L, -1) /* converts the stack copy */
                                      : NULL;
    if (v) { /* as snprintf "%s" would, without its cost on every event */
        size_t n = strnlen(v, size - 1);
        memcpy(buf, v, n);
        buf[n] = '\0';
    }
    lua_pop(L, 1);
    return ok && buf[0];
}

/* The subject of an event or of a {group=, plane=, <fields>} table, read
 * field by field: vigil.allowed is on every event's path, and packing the
 * whole event to read four fields costs more than the rest of a handler. */
static void table_subject(lua_State *L, int idx, vg_rule *r, const char *fn)
{
    char s[VG_EVENT_TYPE_NAME_MAX] = "";
    memset(r, 0, sizeof(*r));
    if (!vg_lua_is_record(L, idx))
        vg_lua_error(L, "%s: expected an event or a table, got %s", fn, luaL_typename(L, idx));
    r->plane = copy_field(L, idx, "plane", s, sizeof(s))  ? vg_plane_parse(s)
               : copy_field(L, idx, "type", s, sizeof(s)) ? vg__type_plane(s)
                                                          : -1;
    if (r->plane < 0)
        vg_lua_error(L,
                     "%s: expected an event of the proc, file or net plane, or "
                     "{group=, plane=, <fields>}",
                     fn);
    copy_field(L, idx, "group", r->group, sizeof(r->group));
    const char *const *names = vg_rule_field_names(r->plane);
    int found = 0;
    for (int i = 0; names[i]; i++)
        found += copy_field(L, idx, names[i], r->fields[i], sizeof(r->fields[i]));
    if (!found)
        vg_lua_error(L, "%s: no field of the %s plane is set", fn, vg_plane_name(r->plane));
}

static int l_allowed(lua_State *L)
{
    vg_rule r;
    table_subject(L, 1, &r, "vigil.allowed");
    vg_policy *p = engine(L);
    if (!r.group[0] || !p || !p->o.rules) { /* rules are per group; host processes have none */
        lua_pushboolean(L, 0);
        lua_pushnil(L);
        return 2;
    }
    const char *fields[VG_RULE_FIELDS_MAX];
    for (int i = 0; i < VG_RULE_FIELDS_MAX; i++)
        fields[i] = r.fields[i];
    int action = -1;
    int m = vg_rules_match(p->o.rules, r.group, r.plane, fields, &action);
    lua_pushboolean(L, m == 1 && action == VG_RULE_ALLOW);
    if (m == 1)
        lua_pushstring(L, vg_rule_action_name(action));
    else
        lua_pushnil(L);
    return 2;
}

static int l_workload(lua_State *L)
{
    const char *id = luaL_checkstring(L, 1);
    vg_policy *p = engine(L);
    if (!p || !p->o.env.workload_info)
        return 0;
    struct wire *w = lua_newuserdatauv(L, sizeof(*w), 0);
    memset(w, 0, sizeof(*w));
    msgpack_sbuffer_init(&w->sb);
    msgpack_unpacked_init(&w->up);
    w->live = true;
    luaL_setmetatable(L, WIRE_MT);
    size_t off = 0;
    if (p->o.env.workload_info(p->o.env.arg, id, &w->sb) < 0 ||
        msgpack_unpack_next(&w->up, w->sb.data, w->sb.size, &off) != MSGPACK_UNPACK_SUCCESS)
        return 0;
    vg_lua_push_mp(L, &w->up.data, 0);
    return 1;
}

/* ---- acts ---- */

static int l_learn(lua_State *L)
{
    vg_rule r;
    table_subject(L, 1, &r, "vigil.learn");
    vg_policy *p = engine(L);
    int rc = p ? vg__policy_learn_rule(p, &r) : 0;
    if (rc < 0) {
        lua_pushnil(L);
        lua_pushstring(L, rc == -EINVAL ? "the subject has no group" : strerror(-rc));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* vigil.<fn>(ev, opts): publishes a violation of ev with this action. */
static int violation(lua_State *L, const char *fn, const char *action)
{
    const msgpack_object *w = vg__to_wire(L, 1, fn, NULL);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        int t = lua_getfield(L, 2, "priority");
        if (t != LUA_TNIL && (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 ||
                              lua_tointeger(L, -1) > VG__PRIORITY_MAX))
            return vg_lua_error(L, "vigil.%s: priority must be an integer from 0 to %d", fn,
                                VG__PRIORITY_MAX);
        lua_pop(L, 1);
    }
    vg_policy *p = engine(L);
    int rc = p ? vg__policy_violation(p, L, w, action, lua_istable(L, 2) ? 2 : 0) : 0;
    if (rc == -ELOOP) { /* about a violation, incident, ...: see vg__is_consequence */
        lua_pushboolean(L, 0);
        return 1;
    }
    if (rc < 0)
        return vg_lua_error(L, "vigil.%s: bad type or severity in the options", fn);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_alert(lua_State *L)
{
    return violation(L, "alert", "alert");
}

static int l_report_deny(lua_State *L)
{
    return violation(L, "report_deny", "deny");
}

/* vigil.respond(action, ev, args): ev and args may be nil. */
static int l_respond(lua_State *L)
{
    const char *action = luaL_checkstring(L, 1);
    lua_settop(L, 3);
    const msgpack_object *w = lua_isnil(L, 2) ? NULL : vg__to_wire(L, 2, "vigil.respond", NULL);
    const msgpack_object *extra = lua_isnil(L, 3) ? NULL : vg__to_wire(L, 3, "vigil.respond", NULL);
    vg_policy *p = engine(L);
    char type[VG_EVENT_TYPE_NAME_MAX] = "";
    if (w && vg_mp_field_str(w, "type", type, sizeof(type)) == 0 &&
        strncmp(type, "response.", 9) == 0) {
        /* An action about an action's report would report itself again. */
        lua_pushliteral(L, "refused");
        return 1;
    }
    char *file = NULL;
    int line = caller(L, &file);
    char rule[600];
    snprintf(rule, sizeof(rule), "%s:%d", file ? file : "?", line);
    free(file);
    lua_pushstring(L, p ? vg__policy_run_action(p, action, w, extra, rule) : "unavailable");
    return 1;
}

static int l_log(lua_State *L)
{
    static const char *const levels[] = {"error", "warning", "notice", "info", "debug", NULL};
    static const int values[] = {VG_LOG_ERR, VG_LOG_WARN, VG_LOG_NOTICE, VG_LOG_INFO, VG_LOG_DEBUG};
    int level = values[luaL_checkoption(L, 1, NULL, levels)];
    const char *msg = luaL_checkstring(L, 2);
    char *file = NULL;
    int line = caller(L, &file);
    vg_log(level, "policy %s:%d: %s", file ? file : "?", line, msg);
    free(file);
    return 0;
}

void vg__policy_api_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"on", l_on},
        {"response", l_response},
        {"rule", l_rule},
        {"watch", l_watch},
        {"incidents", l_incidents},
        {"exception", l_exception},
        {"incident_enabled", l_incident_enabled},
        {"mode", l_mode},
        {"default_mode", l_default_mode},
        {"allowed", l_allowed},
        {"workload", l_workload},
        {"learn", l_learn},
        {"alert", l_alert},
        {"report_deny", l_report_deny}, /* was vigil.deny: policy_names.c */
        {"respond", l_respond},
        {"log", l_log},
        {NULL, NULL},
    };
    luaL_newmetatable(L, WIRE_MT);
    lua_pushcfunction(L, l_wire_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, fns);
    vg__decls_open(L, -1);
    vg__policy_names_open(L, -1);
}
