/* include/vigil/plugin.h as released with ABI 1.2, kept unchanged so that
 * abi-1.2/plugin_abi12.c is built exactly as a plugin of that time was. Never edit. */
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
 * using fields added after the host's minor.
 *
 * Threads: init, start, stop and reload are called on the loop thread.
 * publish() and log() may be called from any thread; every other host call
 * belongs to the loop thread.
 */
#ifndef VIGIL_PLUGIN_H
#define VIGIL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VG_ABI_MAJOR 1
#define VG_ABI_MINOR 2

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
    void (*log)(vg_host *h, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

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
    int (*store_put)(vg_host *h, const char *table, const void *key, size_t klen,
                     const void *val, size_t vlen);
    int (*store_get)(vg_host *h, const char *table, const void *key, size_t klen, void **val,
                     size_t *vlen);
    int (*store_del)(vg_host *h, const char *table, const void *key, size_t klen);

    /* ---- ABI 1.1 ---------------------------------------------------- */

    /* Any thread. The workload of process `pid`: 0 and *out filled (a
     * host process: id "", group "nodes"); -EAGAIN when it is in a
     * container not discovered yet (a rescan has been asked for); -ESRCH
     * when the process is gone. */
    int (*workload_of_pid)(vg_host *h, int pid, vg_workload_view *out);

    /* Any thread, never blocks. The policy's cached decision about a
     * subject of `group` (fields in the plane's order: proc: name, path,
     * user; "" for a field that is not known; in the proc plane "" reads
     * "some value": ALLOW when some allow rule fits the other fields, see
     * vg_rules_match_any in core/rules.h): VG_DECIDE_ALLOW,
     * VG_DECIDE_DENY, or VG_DECIDE_UNKNOWN when only the policy can tell,
     * in which case the plugin publishes the event and applies the
     * group's mode meanwhile. */
    int (*decide)(vg_host *h, const char *group, int plane, const char *const *fields);

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
} vg_host_api;

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
} vg_plugin_desc;

#ifdef __cplusplus
}
#endif
#endif /* VIGIL_PLUGIN_H */
