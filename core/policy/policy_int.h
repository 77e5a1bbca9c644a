/*
 * Internals shared by the policy engine's files, and by none other:
 *   policy.c          loading, reload (a new state swapped in whole), dispatch
 *   policy_act.c      what verdicts lead to: violations, learning, actions
 *   policy_api.c      the `vigil` Lua module
 *   policy_event.c    events as read-only Lua tables; which types are which
 *   policy_response.c response rules (vigil.response), parsed into C
 *   policy_cache.c    the decision cache plugins ask from any thread
 *   policy_files.c    finding and syntax-checking policy files (public header)
 *   policy_harness.c  an engine on a private loop for tools and tests (public)
 * General Lua <-> msgpack conversion is in lib/luamp.h, not here.
 */
#ifndef VG_POLICY_INT_H
#define VG_POLICY_INT_H

/* Private to core/policy/: the build defines VG_CORE_MODULE_POLICY for that
 * folder's files only, so that any other file including this is an error. */
#ifndef VG_CORE_MODULE_POLICY
#error "policy_int.h is private to core/policy/; use its public header"
#endif

#include <lua.h>
#include <msgpack.h>

#include "luamp.h"
#include "mode.h"
#include "mp.h"
#include "policy.h"

#define VG__RESP_MATCH_MAX 16
#define VG__RESP_ACTIONS_MAX 8
#define VG__WATCH_PATHS_MAX 64   /* paths of one vigil.watch{} */
#define VG__WATCH_TOTAL_MAX 1024 /* paths of every vigil.watch{} of a load */
#define VG__WATCH_PATH_MAX 1024

/* A vigil.watch{}: extra paths (absolute, plain, may hold globs; a trailing
 * slash means a directory) that the file plugin watches in the workloads of
 * `group` ("" for every group). Owned by the state. */
struct vg__watch {
    char group[128];
    char **paths;
    size_t npaths;
};

/* A plugin's declaration, vigil.<name>{...} (policy_decls.c): which of
 * the load's kinds (vg_policy_load.decls) and the table as a msgpack map.
 * Owned by the state. */
struct vg__decl {
    size_t kind;
    char *data;
    size_t len;
};

/* A handler registered with vigil.on: a reference into the Lua registry
 * and where it was defined, for policy.error. */
struct vg__handler {
    int ref;
    char *file;
    int line;
};

struct vg__hlist {
    struct vg__handler *v;
    size_t n, cap;
};

/* A response rule (vigil.response). Match values are compared as strings;
 * patterns may use fnmatch(3) wildcards. */
struct vg__response {
    char *name;
    char *on; /* event type pattern */
    size_t nmatch;
    char *mkey[VG__RESP_MATCH_MAX];
    char *mval[VG__RESP_MATCH_MAX];
    int min_severity; /* -1: any */
    int min_priority; /* -1: any */
    size_t nactions;
    char *actions[VG__RESP_ACTIONS_MAX]; /* "name" or "name:target" */
    char *file;
    int line;
};

/* Priority (0-100, higher first) orders events within and across
 * severities: an alert's opts.priority, or else its severity's default
 * (debug 0, info 10, notice 30, warning 50, error 70, critical 90). */
#define VG__PRIORITY_MAX 100
int vg__priority_of_severity(int severity);
/* The event's priority: its body's "priority" field, or its severity's. */
int vg__event_priority(const vg_event *ev, const msgpack_object *wire);

#define VG__EXC_KEYS_MAX 8
#define VG__EXC_VALUES_MAX 64

/* A vigil.exception{} (policy_exceptions.c): incident or type, an optional
 * group pattern, and per field the patterns any of which may match. */
struct vg__exception_key {
    char *field;
    char *values[VG__EXC_VALUES_MAX];
    size_t n;
};

struct vg__exception {
    char *name, *incident, *type, *group;
    struct vg__exception_key keys[VG__EXC_KEYS_MAX];
    size_t nkeys;
    char *file;
    int line;
};

/* One loaded set of policies: a Lua state and what its files registered.
 * The engine holds one; a reload builds another and swaps. */
struct vg__pstate {
    lua_State *L;
    vg_policy *engine; /* NULL when only checking */
    bool loading;      /* vigil.on & co. are only for the files' top level */
    struct vg__hlist by_type[VG_EVENT_TYPES_MAX];
    struct vg__hlist any; /* vigil.on("*", ...) */
    struct vg__response *resp;
    size_t nresp, capresp;
    struct vg__exception *exc; /* vigil.exception */
    size_t nexc, capexc;
    vg_rule *written; /* vigil.rule: applied when the state is swapped in */
    size_t nwritten, capwritten;
    struct vg__watch *watch; /* vigil.watch: published when the state is swapped in */
    size_t nwatch, capwatch, watch_paths;
    struct vg__decl *decls; /* plugins' declarations, in the order made */
    size_t ndecls, capdecls;
    size_t files, handlers;
    vg_policy_load load; /* the name checks of this load (policy.h) */
    int incidents_ref;   /* registry table: incidents[group or "*"][name] = bool */
    /* Where the last error happened, filled by the message handler. */
    char err_file[512];
    int err_line;
};

typedef struct vg__cache vg__cache;

struct vg_policy {
    vg_policy_opts o;
    struct vg__pstate *st;
    vg__cache *cache;
    const vg_event *cur; /* the event being handled, for vigil.* */
    int t_error, t_done, t_mode, t_watch;
    char *last_error;      /* the first problem of the last load, if it failed */
    vg_policy_stats stats; /* updated with __atomic operations */
};

/* policy_api.c: pushes the `vigil` table (upvalue-free; functions find the
 * state through vg_sandbox_of(L)->user). Under lua_pcall. */
void vg__policy_api_open(lua_State *L);
/* policy_api.c: packs the table (or event) at idx and returns its msgpack
 * form (a map), leaving its holder on the stack; *packed (when not NULL)
 * gets the bytes, valid while the holder is. Raises Lua errors. */
const msgpack_object *vg__to_wire(lua_State *L, int idx, const char *fn,
                                  const msgpack_sbuffer **packed);
/* policy_api.c: the slot at n of an array of declarations (*v, *cap
 * elements of size), grown so that the slot past it exists too, zeroed when
 * new: a failed declaration leaves what it parsed there, for the next one
 * (or the state's end) to free. Raises on memory. */
void *vg__next_slot(lua_State *L, void **v, size_t n, size_t *cap, size_t size);
/* policy_decls.c: adds vigil.<name> for each declaration kind of the load
 * to the `vigil` table at idx (before it is made strict); frees a state's
 * declarations. */
void vg__decls_open(lua_State *L, int idx);
void vg__decls_free(struct vg__pstate *st);

/* policy_names.c: the constants (vigil.DENY, ...) and the strictness of
 * the `vigil` table at index idx (an unknown field is an error; old names
 * of renamed functions still resolve). Under lua_pcall. */
void vg__policy_names_open(lua_State *L, int idx);
/* After a policy file has run: each "vigil.<name>" of its code (text) must
 * name a field of `vigil` (diag gets "path:line: vigil.X does not exist";
 * -EINVAL); mentions of renamed functions are logged, once per Lua state.
 * 0, -EINVAL or -ENOMEM. */
int vg__policy_names_check(lua_State *L, const char *path, const char *text, size_t len,
                           vg_diag *diag);
/* The mode of a group through the env, or the default mode. */
int vg__policy_mode(vg_policy *p, const char *group);

/* policy_event.c */
/* Pushes ev as a read-only table: header fields, then the body's. body:
 * ev's body unpacked (a map), or NULL when it is empty or not a map. */
void vg__event_push(lua_State *L, const vg_event *ev, const msgpack_object *body);
/* The plane of an event type ("proc.exec" -> VG_PLANE_PROC), or -1. */
int vg__type_plane(const char *type);
/* Whether the engine makes events of this type (violations, incidents,
 * policy.*, response.*). Violations are never raised about them, so that a
 * handler on "*" cannot feed itself through the bus forever. */
bool vg__is_consequence(const char *type);
/* Whether verdicts on this type are carried out (see policy.h). */
bool vg__is_behaviour(const char *type);
/* Fills rule's group, subject fields and plane from the event's wire map. At
 * least one field must be present: 0 or -EINVAL. The group may be empty
 * (host processes); rules and the cache need one, violations do not. */
int vg__rule_from_event(const msgpack_object *wire, const char *type, const char *group,
                        vg_rule *rule);

/* policy.c: the violations and learning shared by verdicts and vigil.*.
 * opts: NULL or a Lua table index with type, name, severity, message. */
int vg__policy_violation(vg_policy *p, lua_State *L, const msgpack_object *wire, const char *action,
                         int opts);
int vg__policy_learn(vg_policy *p, const msgpack_object *wire);
/* The same for a subject already in a rule (its action and origin are set). */
int vg__policy_learn_rule(vg_policy *p, vg_rule *r);
/* Carries out a handler's verdict on a behaviour event (see policy.h). */
void vg__policy_carry_out(vg_policy *p, const msgpack_object *wire, int verdict);
/* The same for an "allow" verdict, read from the event's body (unpacked,
 * as for vg__event_push): the common case (a learned program) needs no
 * wire form of the event. */
void vg__policy_carry_allow(vg_policy *p, const vg_event *ev, const msgpack_object *body);
/* Runs one action ("name" or "name:target") for an event (wire may be
 * NULL) with extra args (a msgpack map's entries, n of them, or NULL), and
 * publishes response.done. Returns the status string. */
const char *vg__policy_run_action(vg_policy *p, const char *spec, const msgpack_object *wire,
                                  const msgpack_object *extra, const char *rule);

/* policy_response.c */
int vg__response_parse(lua_State *L, int idx, struct vg__response *r); /* raises Lua errors */
void vg__response_free(struct vg__response *r);
bool vg__response_matches(const struct vg__response *r, const vg_event *ev,
                          const msgpack_object *wire);

/* policy_attempt.c: for a violation a plugin published when it denied a
 * behaviour in the kernel's path, the attempt as an event of the
 * behaviour's type with denied = true (malloc()ed into *out). 1 and *out,
 * 0 when ev is no such violation, or a negative errno. */
int vg__policy_attempt(const vg_event *ev, vg_event **out);

/* policy_check.c: load-time name checks (lib/evcat.h); each raises a Lua
 * error naming what is wrong and the nearest valid names, or logs a
 * warning where the name may belong to a third-party plugin. */
void vg__check_type(lua_State *L, const char *fn, const char *type);
void vg__check_pattern(lua_State *L, const char *pattern);
void vg__check_action(lua_State *L, const char *spec);
void vg__check_rule_plane(lua_State *L, int plane);

/* policy_exceptions.c */
int vg__exception_parse(lua_State *L, int idx, struct vg__exception *e); /* raises Lua errors */
void vg__exception_free(struct vg__exception *e);
/* The exception of st that silences raising `type` (with incident name, or
 * NULL for a plain violation) about the event `wire` of `group`, or NULL. */
const struct vg__exception *vg__exception_find(const struct vg__pstate *st, const char *type,
                                               const char *incident, const char *group,
                                               const msgpack_object *wire);

/* policy_cache.c */
int vg__cache_new(size_t cap, vg__cache **out);
void vg__cache_free(vg__cache *c);
void vg__cache_clear(vg__cache *c);
/* VG_DECIDE_* for the key at rules generation gen (a different generation
 * empties the cache first). */
int vg__cache_get(vg__cache *c, uint64_t gen, const char *key, size_t klen);
void vg__cache_put(vg__cache *c, uint64_t gen, const char *key, size_t klen, int decision);
/* The cache key of a subject: group, plane and fields joined. 0 when it
 * does not fit in size (such a subject is never cached). */
size_t vg__cache_key(char *buf, size_t size, const char *group, int plane,
                     const char *const *fields);

#endif
