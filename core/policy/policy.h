/*
 * The policy engine: the Lua policies of the policy directories, run in one
 * sandboxed Lua 5.4 state on the loop thread (docs/policy.md is the user's
 * reference of the `vigil` module).
 *
 * Every event on the bus goes to the handlers registered for its type
 * (vigil.on) and to the response rules (vigil.response). A handler returns a
 * verdict; for a behaviour event (types "proc.*", "file.*", "net.*" other
 * than "*.violation" and "*.incident") the engine carries it out:
 *
 *   allow  nothing more (the answer is cached)
 *   learn  the subject becomes a learned allow rule (vg_rules_put, persisted)
 *   alert  a "<plane>.violation" event with action "alert"
 *   deny   a "<plane>.violation" event with action "deny" (the answer is
 *          cached, so that a plugin's permission hook denies it next time)
 *
 * A handler that fails (error, instruction budget, memory cap, a result that
 * is not a verdict) counts as the group's default verdict (allow in learn and
 * monitor mode, deny in protect mode), and a "policy.error" event names the
 * file, the line and the message.
 *
 * Threads: everything is for the loop thread except vg_policy_decide_cached()
 * and vg_policy_stats(), which any thread may call.
 */
#ifndef VG_POLICY_H
#define VG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "bus.h"
#include "diag.h"
#include "rules.h"
#include <vigil/plugin.h>

enum vg_verdict {
    VG_VERDICT_NONE = -1, /* no handler had an opinion */
    VG_VERDICT_ALLOW = 0,
    VG_VERDICT_DENY = 1,
    VG_VERDICT_ALERT = 2,
    VG_VERDICT_LEARN = 3,
};

/* Answers of vg_policy_decide_cached(). */
/* enum vg_decision is in vigil/plugin.h: plugins ask for decisions. */

/* What the engine asks of the rest of the daemon (the groups module). The
 * engine copies the struct; every callback may be NULL and is called on
 * the loop thread. */
typedef struct vg_policy_env {
    /* The mode of `group` (enum vg_mode), or -ENOENT for a group that is not
     * known, which then counts as being in the default mode. */
    int (*group_mode)(void *arg, const char *group);
    /* Facts about a workload, as a msgpack map (e.g. {id, name, image,
     * group, labels}) appended to `out`. 0, -ENOENT. */
    int (*workload_info)(void *arg, const char *workload, msgpack_sbuffer *out);
    void *arg;
} vg_policy_env;

/* How strictly a load checks the names that policies use (event types,
 * response patterns, actions, webhook endpoints; lib/evcat.h). */
typedef struct vg_policy_load {
    /* The names of the configured webhook endpoints (NULL-terminated), for
     * "webhook:<name>" actions; NULL: not checked. Read during a load only. */
    const char *const *webhooks;
    /* No policy file at all is accepted (the config's empty_policies =
     * "allow"); otherwise a load that finds none is an error. */
    bool allow_empty;
    /* Plugins have declared their types and actions (the daemon loads its
     * policies after the plugins' init): a name that neither the catalogue
     * nor a plugin knows is an error. Without it (vigil-policy, vigild
     * --check: no plugins), names of planes the catalogue does not cover
     * and actions it does not know are warnings, as they may come from a
     * third-party plugin; names of covered planes are errors either way. */
    bool complete;
    /* The declarations plugins take from policies (ABI 1.5): each becomes
     * vigil.<name>{...}, checked by its check() at the call. The array
     * (ndecls entries) is read during loads; its functions must stay
     * callable while the engine runs the loaded state's files. */
    const vg_policy_decl_desc *decls;
    size_t ndecls;
} vg_policy_load;

typedef struct vg_policy_opts {
    vg_bus *bus;         /* where violations, response.done and policy.error go */
    vg_rules *rules;     /* learned and written rules; not owned */
    vg_actions *actions; /* NULL: every action is unavailable */
    vg_policy_env env;
    int default_mode; /* enum vg_mode, for groups the env does not know */
    size_t mem_max;   /* bytes for the Lua state; 0: 64 MiB */
    long insn_max;    /* instructions per handler call; 0: 1,000,000 */
    /* Called after each event that reached a handler with the verdict it
     * got (after the fallback); for `vigil-policy test` and counters. */
    void (*on_verdict)(void *arg, const vg_event *ev, int verdict);
    void *on_verdict_arg;
    vg_policy_load load;
} vg_policy_opts;

typedef struct vg_policy vg_policy;

typedef struct vg_policy_stats {
    uint64_t events;      /* events that reached at least one handler */
    uint64_t errors;      /* failed handler calls (each a policy.error) */
    uint64_t budget_cuts; /* of those, over the instruction budget */
    uint64_t memory_cuts; /* of those, over the memory cap */
    uint64_t cache_hits, cache_misses;
    uint64_t reloads, reloads_failed;
    uint64_t excepted; /* alerts not raised because of a vigil.exception */
    size_t files, handlers, responses;
    size_t lua_bytes; /* memory of the Lua state */
} vg_policy_stats;

/* Creates an engine with no policy loaded (every event passes unhandled).
 * Copies opts. 0, -EINVAL, -ENOMEM. */
int vg_policy_new(const vg_policy_opts *opts, vg_policy **out);
void vg_policy_free(vg_policy *p);

/* Builds a complete new Lua state from the *.lua files of dirs
 * (vg_policy_files order), runs every file and checks what it registered.
 * Swaps it in only if all of that worked, then replaces the written rules
 * and drops the decision cache; otherwise the running policy stays and each
 * problem is in diag as "file:line: message" (-EINVAL). */
int vg_policy_reload(vg_policy *p, char *const *dirs, vg_diag *diag);

/* The same load and checks without an engine to swap into (`vigild
 * --check`, `vigil-policy check`): 0 or -EINVAL with diag. */
int vg_policy_check(char *const *dirs, vg_diag *diag);
/* The same with the load's name checks set (NULL: as vg_policy_check). */
int vg_policy_check_with(char *const *dirs, const vg_policy_load *load, vg_diag *diag);

/* Loop thread. Calls cb with each vigil.<name>{...} declaration of the
 * running policies, in the order made, as a msgpack map. Returns how many
 * (0 when no policy is loaded). */
int vg_policy_decls_each(const vg_policy *p, const char *name,
                         void (*cb)(void *arg, const void *decl, size_t len), void *arg);

/* Sets the name checks of the next reloads (the daemon, after a new config
 * was read). The webhooks array is only read during a reload. */
void vg_policy_set_load(vg_policy *p, const vg_policy_load *load);

/* Whether policies are running (some load succeeded), for `vigilctl
 * status`: an engine without them passes every event unhandled. */
bool vg_policy_loaded(const vg_policy *p);
/* The first problem of the last load when it failed; NULL after a load
 * that worked. Valid until the next load. */
const char *vg_policy_last_error(const vg_policy *p);

/* The bus callback (subscribe it to every type, arg = the engine). */
void vg_policy_on_event(const vg_event *ev, void *arg);

/* Runs the handlers of ev and returns its verdict (enum vg_verdict), and
 * carries it out as vg_policy_on_event does. */
int vg_policy_handle(vg_policy *p, const vg_event *ev);

/* Any thread. The cached answer for a subject (fields in the plane's order,
 * see vg_rule_field_names): an earlier policy answer, else a matching rule.
 * VG_DECIDE_UNKNOWN when neither knows: the caller asks the slow path (an
 * event through the bus) and applies its own fail mode meanwhile. */
int vg_policy_decide_cached(vg_policy *p, const char *group, int plane, const char *const *fields);

/* Drops the decision cache: call it when a group's mode changed. (Rule
 * changes are noticed through vg_rules_generation, reloads by the engine.) */
void vg_policy_invalidate(vg_policy *p);

/* Any thread. */
void vg_policy_stats_get(vg_policy *p, vg_policy_stats *out);

const char *vg_verdict_name(int verdict); /* "allow", ..., or "none" */
int vg_verdict_parse(const char *name);   /* -EINVAL if unknown */

#endif
