/*
 * vigil plugin ABI.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `vigil_plugin`, a function returning a pointer to a constant descriptor
 * (vg_plugin_desc). The daemon dlopen()s the file, calls that function and
 * checks the ABI version before it touches anything else.
 *
 * A plugin links to no daemon symbol. Everything it may ask of the daemon is
 * in the host table (vg_host_api) handed to init(). Both structs start with
 * their ABI version and are append-only: a minor version adds fields at the
 * end, a major version is a break. The daemon refuses a plugin whose major
 * differs from its own and logs both versions; it accepts any minor, and a
 * plugin built against a newer minor must check `api->abi_minor` before
 * using fields added after the host's minor (VG_HOST_HAS below).
 *
 * Version history: 1.0 the life cycle, events, actions, config, store;
 * 1.1 workloads, subscriptions and decide_fields(); 1.2 control commands;
 * 1.3 decide() on a named subject (vg_subject); 1.4 declared settings;
 * 1.5 declarations in policies (vigil.<name>{...}, policy_decls). A host keeps every slot of
 * every minor working for the plugins built against it: a 1.2 plugin's
 * call through decide_fields() is answered as before. 1.3 renamed that
 * slot from `decide` to `decide_fields` (same place, same type, so no
 * binary changes); a plugin recompiled against 1.3 that still calls
 * api->decide(h, group, plane, fields) fails to compile, which is the
 * point: it should name its fields. A major bump was not needed for that,
 * and would have refused every plugin built so far.
 *
 * The header stands alone: C11 or C++ (vg_subject has an anonymous union),
 * <stddef.h> and <stdint.h>. docs/plugins.md is the guide to it, and
 * examples/plugins/hello a complete plugin built against it alone.
 *
 * Threads: init, start, stop and reload are called on the loop thread.
 * log(), publish(), workload_of_pid(), decide() and decide_fields() may be
 * called from any thread; every other host call belongs to the loop
 * thread.
 */
#ifndef VIGIL_PLUGIN_H
#define VIGIL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VG_ABI_MAJOR 1
#define VG_ABI_MINOR 5

/* Marks the one symbol a plugin exports (the build uses -fvisibility=hidden). */
#define VG_EXPORT __attribute__((visibility("default")))

/* The name of the exported entry point and its type. */
#define VG_PLUGIN_SYMBOL "vigil_plugin"
struct vg_plugin_desc;
typedef const struct vg_plugin_desc *(*vg_plugin_entry_fn)(void);

/* Log levels (syslog numbering). */
enum vg_log_level {
    VG_LOG_ERR = 3,
    VG_LOG_WARN = 4,
    VG_LOG_NOTICE = 5,
    VG_LOG_INFO = 6,
    VG_LOG_DEBUG = 7,
};

/* Event severities, lowest first. */
enum vg_severity {
    VG_SEV_DEBUG = 0,
    VG_SEV_INFO = 1,
    VG_SEV_NOTICE = 2,
    VG_SEV_WARNING = 3,
    VG_SEV_ERROR = 4,
    VG_SEV_CRITICAL = 5,
};

/* The mode of a group: learn what happens, monitor (alert on anything not
 * allowed), protect (deny it before it happens). */
enum vg_mode {
    VG_MODE_LEARN = 0,
    VG_MODE_MONITOR = 1,
    VG_MODE_PROTECT = 2,
};

/* The planes a rule or decision is about. */
enum vg_plane { VG_PLANE_PROC = 0, VG_PLANE_FILE = 1, VG_PLANE_NET = 2, VG_PLANE_COUNT };

/* A cached decision (host api->decide). */
enum vg_decision { VG_DECIDE_UNKNOWN = -1, VG_DECIDE_ALLOW = 0, VG_DECIDE_DENY = 1 };

/*
 * What a decision is about (host api->decide, ABI 1.3): the group whose
 * rules apply, the plane, and that plane's fields by name. Only the member
 * of the union that `plane` names is read. A field that is NULL or "" (a
 * port of 0) is not known; what that means is said at decide(). The host
 * copies nothing and keeps no pointer: the strings need only live for the
 * call. Written with designated initializers, fields left out are NULL:
 *
 *   vg_subject s = {.plane = VG_PLANE_PROC, .group = w.group,
 *                   .proc = {.name = "curl", .path = "/usr/bin/curl", .user = "0"}};
 *
 * Append-only like the tables: the union is and stays the last member, so
 * a later minor may add fields at the end of one plane's struct; the host
 * reads such a field only from a plugin whose descriptor says it was built
 * against that minor.
 */
typedef struct vg_subject_proc {
    const char *name; /* the process's name (comm), e.g. "curl" */
    const char *path; /* the executable's absolute path */
    const char *user; /* the effective uid in decimal, e.g. "0" (as proc.exec has it) */
} vg_subject_proc;

typedef struct vg_subject_file {
    const char *path;    /* the file's absolute path in its workload */
    const char *program; /* the executable's absolute path of the process */
    const char *access;  /* "read" or "write" */
} vg_subject_file;

typedef struct vg_subject_net {
    const char *direction; /* "out" (connect) or "in" (accept) */
    const char *peer;      /* the other end: an address, or a name */
    int port;              /* the service port, 1-65535; 0 when not known */
    const char *proto;     /* "tcp", "udp", ... */
    const char *app;       /* the application protocol, e.g. "http" */
} vg_subject_net;

typedef struct vg_subject {
    int plane;         /* enum vg_plane */
    const char *group; /* the group whose rules apply */
    union {
        vg_subject_proc proc; /* VG_PLANE_PROC */
        vg_subject_file file; /* VG_PLANE_FILE */
        vg_subject_net net;   /* VG_PLANE_NET */
    };
} vg_subject;

/* Sizes of the fixed header strings, terminating NUL included. Longer
 * values are truncated by publish(). */
#define VG_WORKLOAD_MAX 72
#define VG_GROUP_MAX 128

/*
 * An event as a plugin hands it to publish(). The common header is in the
 * fields; the typed body is a msgpack map (string keys) whose bytes the
 * plugin encodes, e.g. with msgpack-c's sbuffer and packer (header-only
 * inline functions, so no link dependency beyond libmsgpackc). publish()
 * copies everything; the caller keeps ownership of its buffers.
 */
typedef struct vg_event_in {
    int type;             /* from api->event_type() */
    int severity;         /* enum vg_severity */
    const char *workload; /* workload id, NULL or "" for the host */
    const char *group;    /* group name, NULL or "" if not known */
    const void *body;     /* msgpack map, or NULL for an empty body */
    size_t body_len;
} vg_event_in;

/* Plugin states as shown by `vigilctl plugins`. */
enum vg_plugin_state {
    VG_PLUGIN_LOADED = 0,   /* init done, not started */
    VG_PLUGIN_RUNNING = 1,  /* started and healthy */
    VG_PLUGIN_DEGRADED = 2, /* running, but cannot do all of its job here */
    VG_PLUGIN_FAILED = 3,   /* init or start failed; skipped */
    VG_PLUGIN_REFUSED = 4,  /* ABI mismatch or bad descriptor; never called */
    VG_PLUGIN_STOPPED = 5,
};

/* Opaque per-plugin handle owned by the daemon; valid from init to stop. */
typedef struct vg_host vg_host;

/* An action a plugin can carry out on request of a response rule. */
typedef struct vg_action_desc {
    const char *name; /* e.g. "quarantine"; copied */
    /* Called on the loop thread. `args` is a msgpack map (the response's
     * arguments, including "workload" when there is one). Returns 0 or a
     * negative errno. */
    int (*run)(void *priv, const void *args, size_t args_len);
    void *priv;
} vg_action_desc;

/* What a plugin learns about the workload of a process (ABI 1.1). */
typedef struct vg_workload_view {
    char id[VG_WORKLOAD_MAX]; /* "" for a host process */
    char group[VG_GROUP_MAX]; /* service group; "nodes" for the host */
    int mode;                 /* effective mode, enum vg_mode */
    int pid;                  /* the workload's init pid; 0 for the host */
} vg_workload_view;

/* Receives the wire form of an event: a msgpack map of the header keys
 * (id, time, type, severity, workload, group) and the body's keys. */
typedef void (*vg_event_cb)(void *arg, const void *rec, size_t len);

/* A control-socket command a plugin adds (ABI 1.2): `vigilctl NAME ...`
 * sends {"cmd": NAME, "args": {...}} and gets the result the plugin
 * replies with. */
typedef struct vg_reply vg_reply; /* the pending reply, valid during run() */
typedef struct vg_command_desc {
    const char *name; /* unique among all commands; copied */
    /* Loop thread. args is the request's args as a msgpack map (empty map
     * when none). Reply with api->reply (one msgpack object, the result)
     * and return 0, or return a negative errno after api->reply_error. */
    int (*run)(void *priv, const void *args, size_t args_len, vg_reply *reply);
    void *priv;
} vg_command_desc;

typedef struct vg_host_api {
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t size; /* sizeof(vg_host_api) of the daemon */

    /* Any thread. Messages are prefixed with the plugin's name. */
    void (*log)(vg_host *h, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

    /* Loop thread. Returns the id of the event type `name` ("plane.what"),
     * registering it on first use, or -EINVAL / -ENOSPC. */
    int (*event_type)(vg_host *h, const char *name);

    /* Any thread. Queues the event for the bus. Never blocks: when the queue
     * is full the event is dropped, counted per type, and -ENOBUFS returned. */
    int (*publish)(vg_host *h, const vg_event_in *ev);

    /* Loop thread. The daemon's libuv loop (a uv_loop_t *), for plugins
     * that add their own handles. Handles must be closed in stop(). */
    void *(*loop)(vg_host *h);

    /* Loop thread. Reads plugins.<name>.<key> from the config. Returns 0 and
     * sets *out, -ENOENT when the key is not set (out untouched), -EINVAL when
     * it has another type. Strings stay valid until the next reload. */
    int (*config_string)(vg_host *h, const char *key, const char **out);
    int (*config_int)(vg_host *h, const char *key, int64_t *out);
    int (*config_bool)(vg_host *h, const char *key, int *out);

    /* Loop thread. Registers an action; -EEXIST if the name is taken. */
    int (*register_action)(vg_host *h, const vg_action_desc *action);

    /* Loop thread. Reports the plugin's health, e.g. DEGRADED with "no
     * fanotify on this kernel". `why` is copied; NULL clears it. */
    void (*set_state)(vg_host *h, int state, const char *why);

    /* Loop thread. A persistent key-value table private to the plugin
     * (stored in LMDB as "plugin.<name>.<table>"). put/del are batched and
     * committed at the end of the loop iteration; get returns a malloc()ed
     * copy that the caller frees. All return 0 or a negative errno
     * (-ENOENT for a missing key). */
    int (*store_put)(vg_host *h, const char *table, const void *key, size_t klen, const void *val,
                     size_t vlen);
    int (*store_get)(vg_host *h, const char *table, const void *key, size_t klen, void **val,
                     size_t *vlen);
    int (*store_del)(vg_host *h, const char *table, const void *key, size_t klen);

    /* ---- ABI 1.1 ---------------------------------------------------- */

    /* Any thread. The workload of process `pid`: 0 and *out filled (a
     * host process: id "", group "nodes"); -EAGAIN when it is in a
     * container not discovered yet (a rescan has been asked for); -ESRCH
     * when the process is gone. */
    int (*workload_of_pid)(vg_host *h, int pid, vg_workload_view *out);

    /* Any thread, never blocks. The 1.1 form of decide() below, kept for
     * plugins built against 1.1 and 1.2 (named `decide` in their header):
     * the same answer for the subject whose fields are given in the
     * plane's order, "" for one not known: proc: name, path, user; file:
     * path, program, access; net: direction, peer, port (in decimal),
     * proto, app. New code calls decide(). */
    int (*decide_fields)(vg_host *h, const char *group, int plane, const char *const *fields);

    /* Loop thread. Calls cb with every event of `type` (NULL: every type)
     * from now on, until the plugin stops. Returns 0 or a negative errno. */
    int (*subscribe)(vg_host *h, const char *type, vg_event_cb cb, void *arg);

    /* Loop thread. Calls cb for every workload known now. */
    int (*workloads_each)(vg_host *h, void (*cb)(void *arg, const vg_workload_view *w), void *arg);

    /* ---- ABI 1.2 ---------------------------------------------------- */

    /* Loop thread, from init() or start(). Adds a control command;
     * -EEXIST when the name is taken, -ENODEV without a control socket. */
    int (*register_command)(vg_host *h, const vg_command_desc *cmd);
    /* During run() only. reply: the result, one msgpack object's bytes
     * (copied); reply_error: the message the client shows. */
    int (*reply)(vg_reply *r, const void *obj, size_t len);
    void (*reply_error)(vg_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

    /* ---- ABI 1.3 ---------------------------------------------------- */

    /*
     * Any thread, never blocks. What the daemon already knows about the
     * subject: VG_DECIDE_ALLOW, VG_DECIDE_DENY, or VG_DECIDE_UNKNOWN. The
     * answer is the policy's own earlier answer about this very subject
     * (the verdict its Lua handler gave an event that carried it, kept
     * until the rules, a group's mode or the policies change), else what
     * the rules of s->group say. Lua is never run here: on UNKNOWN only
     * the policy can tell, so the plugin publishes its event (the policy
     * answers it on the loop, and that answer is kept for the next call)
     * and applies the group's mode meanwhile (the proc and file plugins
     * deny in protect mode: nothing allowed the subject).
     *
     * The rules are the group's learned, written (policy files) and
     * imported rules. A rule gives a value, or "*" (anything), for each
     * field of its plane. The answer, for a subject whose fields are all
     * known: of the rules in which each field equals the subject's or is
     * "*", the one with the fewest "*" fields decides (an exact rule has
     * none); between as many, a deny rule wins; no such rule is UNKNOWN.
     * Values are compared as whole strings, case and all.
     *
     * A field that is not known (NULL, "", port 0):
     * - file and net planes: a value no rule names, so only a rule with
     *   "*" in that field can match;
     * - proc plane: "some value", as for the question asked before an exec
     *   runs (the file is known, the name it will run as is not): ALLOW
     *   when some allow rule fits the known fields, unless a deny rule that
     *   fits them has "*" in every field not known; DENY when only deny
     *   rules fit; UNKNOWN when none does.
     * A group or field too long for any rule (VG_GROUP_MAX, 256 bytes
     * with the NUL), a NULL s or group, a plane out of range or a port
     * outside 0-65535 is UNKNOWN. Answers from rules are kept too, so asking again is cheap.
     */
    int (*decide)(vg_host *h, const vg_subject *s);

    /* ---- ABI 1.5 ---------------------------------------------------- */

    /* Loop thread. Calls cb with every vigil.<name>{...} declaration of the
     * running policies (name: one of the plugin's policy_decls), in the
     * order the files made them, each as a msgpack map of the table's
     * fields (valid during the call). The daemon loads its policies after
     * the plugins' init and before their start, and on a reload before the
     * plugins' reload(): start() and reload() read them. Returns how many,
     * 0 when no policy is loaded, -ENOENT for a name the plugin did not
     * declare. */
    int (*policy_decls)(vg_host *h, const char *name,
                        void (*cb)(void *arg, const void *decl, size_t len), void *arg);
} vg_host_api;

/* Whether a host table has the slot `member` (its daemon's minor is new
 * enough), e.g. VG_HOST_HAS(api, decide) before calling api->decide. */
#define VG_HOST_HAS(api, member)                                                                   \
    ((api)->size >= offsetof(vg_host_api, member) + sizeof((api)->member))

/* A setting the plugin reads (ABI 1.4): plugins.<name>.<key> in the
 * config. With them declared, `vigild --check`, the start and every reload
 * refuse a config that sets an undeclared key (with the nearest declared
 * ones), a value of another type, or one out of range, with the file and
 * line, before the plugin sees it. */
enum vg_setting_type {
    VG_SETTING_STRING = 1, /* a string; one of `choices` when given */
    VG_SETTING_INT = 2,    /* an integer in [min, max] */
    VG_SETTING_BOOL = 3,
    VG_SETTING_LIST = 4,  /* a list of strings */
    VG_SETTING_TABLE = 5, /* any table; the plugin checks its content */
};
typedef struct vg_setting_desc {
    const char *key;            /* NULL ends the array */
    int type;                   /* enum vg_setting_type */
    int64_t min, max;           /* VG_SETTING_INT */
    const char *const *choices; /* VG_SETTING_STRING: NULL-terminated, or NULL for any */
} vg_setting_desc;

/* A declaration policies make for the plugin (ABI 1.5): with the name
 * "threat", policy files may call vigil.threat{ group = "web", ... }. At
 * every load (`vigild --check` too), the policy engine hands the table to
 * check() as a msgpack map; a refusal fails the load with the file and line
 * of the call and msg. The declarations of a load that worked reach the
 * plugin through api->policy_decls. */
typedef struct vg_policy_decl_desc {
    const char *name; /* NULL ends the array; a field of `vigil` no other takes */
    /* Any thread, without the plugin's state (it may not be initialised):
     * 0, or -EINVAL with the problem in msg. */
    int (*check)(const void *decl, size_t len, char *msg, size_t msglen);
} vg_policy_decl_desc;

typedef struct vg_plugin_desc {
    uint16_t abi_major; /* VG_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor; /* VG_ABI_MINOR the plugin was built with */
    const char *name;   /* short, unique: "net", "proc", ... */
    const char *version;
    const char *description;

    /* Called once. Allocates the plugin's state into *priv. A non-zero
     * return means the plugin is skipped (logged, state FAILED); the daemon
     * runs on. The api pointer and h stay valid until stop() returns. */
    int (*init)(const vg_host_api *api, vg_host *h, void **priv);
    /* Starts threads and handles, after every plugin's init. May be NULL. */
    int (*start)(void *priv);
    /* Stops everything and frees priv. Called once, also after a failed
     * start. May be NULL only if init allocates nothing. */
    void (*stop)(void *priv);
    /* Re-reads the plugin's configuration after SIGHUP. May be NULL. */
    int (*reload)(void *priv);

    /* ---- ABI 1.4 ---------------------------------------------------- */

    /* The settings the plugin reads, ended by {NULL}; NULL when the plugin
     * declares none (its settings are then not checked). "enabled" is
     * every plugin's and need not be declared. */
    const vg_setting_desc *settings;

    /* ---- ABI 1.5 ---------------------------------------------------- */

    /* The declarations policies may make for the plugin, ended by {NULL};
     * NULL for none. */
    const vg_policy_decl_desc *policy_decls;
} vg_plugin_desc;

#ifdef __cplusplus
}
#endif
#endif /* VIGIL_PLUGIN_H */
