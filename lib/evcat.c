/* The catalogue of event types, fields and actions; see evcat.h. */
#include "evcat.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nearest.h"

/* Fields a violation or incident raised by the policy carries
 * (core/policy/policy_act.c), before the plane's subject fields. */
#define RAISED "action event_type event_id priority incident message pid technique evidence tags"
/* What the net plugin's connection events may carry (plugins/net/conns.c),
 * and an attempt's denied and enforcement. */
#define NET_FIELDS                                                                                 \
    "pid app bytes bytes_in bytes_out client direction first_us flow flows group interval_ms "     \
    "last_us peer peer_ip peer_kind peer_workload pkts_in pkts_out port proto server state "       \
    "workload denied enforcement"
/* What every event of the kern plugin says of its process
 * (plugins/kern/plugin.c, pack_proc). */
#define KERN_PROC "pid ppid euid name parent_name program cmdline"
#define WL_FIELDS "name runtime pid image groups namespace pod container cgroup"

static const vg_evcat_type table[] = {
    /* core */
    {"workload.start", "core", WL_FIELDS, "a container was found"},
    {"workload.stop", "core", WL_FIELDS, "a container is gone"},
    {"group.mode", "core", "mode previous reason", "a group's mode changed"},
    {"group.removed", "core", "mode unused_s rules_removed rules_kept", "an unused group aged out"},
    {"policy.error", "core", "message file line event_type event_id problems",
     "a policy failed to load or a handler failed"},
    {"policy.watchlist", "core", "watch", "the paths that policies asked to watch"},
    {"response.done", "core", "action target rule status error event_type event_id attempts",
     "a response action ran (status: done, failed, unavailable; pending, then done or failed, "
     "for a webhook delivery)"},
    {"daemon.status", "core", "status version pid", "the daemon started"},
    /* proc plugin (docs/proc.md) */
    {"proc.exec", "proc plugin",
     "pid ppid name path user cmdline uid euid gid parent_name parent_euid cgroup stdio_socket "
     "interpreter fileless rescan gone denied enforcement ran_ns",
     "a program started; denied = true: an exec that protect mode stopped"},
    {"proc.exit", "proc plugin", "pid name exit_code signal", "a process ended"},
    {"proc.uid", "proc plugin", "pid name uid euid suid old_uid old_euid old_suid",
     "a process changed its uids"},
    {"proc.gid", "proc plugin", "pid name gid egid", "a process changed its gids"},
    {"proc.overflow", "proc plugin", "overflows", "the kernel dropped process events"},
    {"proc.stats", "proc plugin",
     "overflows exec_checks exec_denied exec_failed queue_overflows protected_workloads "
     "permission_threads answer_p50_ns answer_p99_ns answer_max_ns killed kill_ran_max_ns "
     "pre_exec exec_probe exec_dropped exec_opens exec_opens_unclaimed tracked_workloads",
     "the proc plugin's counters"},
    {"proc.violation", "proc plugin, policy",
     RAISED " enforcement ran_ns name path user cmdline gone",
     "a program that is not allowed (action alert or deny)"},
    {"proc.incident", "proc plugin, policy", RAISED " name path user cmdline enforcement",
     "an incident: the shipped policy's, a user's, or the proc plugin's (fileless exec)"},
    /* file plugin (docs/file.md) */
    {"file.access", "file plugin", "pid name program path access write denied enforcement",
     "a watched file was read or written (denied = true: a denied attempt)"},
    {"file.violation", "file plugin, policy", RAISED " path program access write",
     "a file access that is not allowed"},
    {"file.incident", "policy", RAISED " path program access", "an incident about a file"},
    {"file.read", "kern plugin", "pid ppid name parent_name program cmdline path access",
     "a read of a watched sensitive file (always allowed; the open held while it is read)"},
    {"file.stats", "file plugin",
     "watched protected roots watched_dirs guarded_files marks marks_refused mark_errors events "
     "events_dropped queue_overflows perm_events denied perm_failed answer_us_mean "
     "answer_us_max syscall_us_mean protection guard_threads",
     "the file plugin's counters"},
    /* net plugin (docs/net.md) */
    {"net.connect", "net plugin", NET_FIELDS, "an outgoing connection"},
    {"net.accept", "net plugin", NET_FIELDS, "an incoming connection"},
    {"net.violation", "net plugin, policy", RAISED " direction peer port proto app",
     "a connection that is not allowed"},
    {"net.incident", "policy", RAISED " direction peer port proto app",
     "an incident about a connection"},
    {"net.conn", "net plugin", NET_FIELDS, "interval summaries of connections"},
    {"net.stats", "net plugin",
     "bytes error events events_dropped evicted filtered_out flows flows_total id identified "
     "if_drops interfaces kernel_drops keys_full malformed max_bytes namespaces offset "
     "other_linktype packets read_errors seconds size unknown workload",
     "the net plugin's counters"},
    {"net.threat", "net plugin", NULL, "a threat the network decoders found"},
    /* kern plugin (docs/kern.md; plugins/kern/plugin.c) */
    {"kern.exec", "kern plugin", KERN_PROC " what path file_ctime started",
     "an exec seen by the kernel probes (what: drift or tty)"},
    {"kern.call", "kern plugin", KERN_PROC " call path target fstype flags arg",
     "a watched system call, at its entry"},
    {"kern.stats", "kern plugin",
     "bpf read_marks read_marks_refused records records_lost reads read_overflows",
     "the kern plugin's counters"},
    /* cis plugin (docs/cis.md) */
    {"bench.result", "cis plugin",
     "check benchmark title status evidence target remediation level tags summary ms pass warn "
     "info note manual error",
     "a CIS check that warned or failed, or a run's summary"},
    /* secrets plugin (docs/secrets.md) */
    {"secret.finding", "secrets plugin",
     "rule description level kind path line column secret entropy_milli tags layer",
     "a leaked secret"},
    {"secret.scan", "secrets plugin", "pid error findings files bytes truncated",
     "a secret scan ended"},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

static const char *const static_actions[] = {"webhook", "suppress", "quarantine", NULL};

#define DECLARED_MAX 256
static vg_evcat_type declared[DECLARED_MAX];
static size_t ndeclared;
static char *declared_actions[DECLARED_MAX];
static size_t ndeclared_actions;
/* The planes ("net") of every type a loaded plugin registered, the
 * catalogue's own types included: those planes have a producer. */
#define PLANES_MAX 64
static char produced[PLANES_MAX][32];
static size_t nproduced;

const vg_evcat_type *vg_evcat_find(const char *type)
{
    for (size_t i = 0; type && i < NTABLE; i++)
        if (strcmp(table[i].name, type) == 0)
            return &table[i];
    for (size_t i = 0; type && i < ndeclared; i++)
        if (strcmp(declared[i].name, type) == 0)
            return &declared[i];
    return NULL;
}

/* Whether `word` is one of the blank-separated words of `words`. */
static bool has_word(const char *words, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = words; p && *p;) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, word, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

bool vg_evcat_has_field(const vg_evcat_type *t, const char *field)
{
    return !t->fields || has_word(VG_EVCAT_HEADER, field) || has_word(t->fields, field);
}

static size_t plane_len(const char *type)
{
    const char *dot = strchr(type, '.');
    return dot ? (size_t)(dot - type) : strlen(type);
}

bool vg_evcat_field_anywhere(const char *field)
{
    if (has_word(VG_EVCAT_HEADER, field))
        return true;
    for (size_t i = 0; i < NTABLE; i++)
        if (table[i].fields && has_word(table[i].fields, field))
            return true;
    return false;
}

bool vg_evcat_plane_covered(const char *type)
{
    size_t n = plane_len(type);
    for (size_t i = 0; i < NTABLE; i++)
        if (plane_len(table[i].name) == n && memcmp(table[i].name, type, n) == 0)
            return true;
    return false;
}

bool vg_evcat_pattern_matches(const char *pattern)
{
    for (size_t i = 0; i < NTABLE; i++)
        if (fnmatch(pattern, table[i].name, 0) == 0)
            return true;
    for (size_t i = 0; i < ndeclared; i++)
        if (fnmatch(pattern, declared[i].name, 0) == 0)
            return true;
    return false;
}

void vg_evcat_each(void (*cb)(void *arg, const vg_evcat_type *t), void *arg)
{
    for (size_t i = 0; i < NTABLE; i++)
        cb(arg, &table[i]);
    for (size_t i = 0; i < ndeclared; i++)
        cb(arg, &declared[i]);
}

static void mark_produced(const char *type)
{
    size_t n = plane_len(type);
    if (n >= sizeof(produced[0]))
        return;
    for (size_t i = 0; i < nproduced; i++)
        if (strlen(produced[i]) == n && memcmp(produced[i], type, n) == 0)
            return;
    if (nproduced < PLANES_MAX) {
        memcpy(produced[nproduced], type, n);
        produced[nproduced++][n] = '\0';
    }
}

int vg_evcat_declare_type(const char *type, const char *source)
{
    mark_produced(type);
    if (vg_evcat_find(type))
        return 0;
    if (ndeclared == DECLARED_MAX)
        return -ENOSPC;
    char *name = strdup(type), *src = strdup(source ? source : "a plugin");
    if (!name || !src) {
        free(name);
        free(src);
        return -ENOMEM;
    }
    declared[ndeclared++] = (vg_evcat_type){
        .name = name, .source = src, .fields = NULL, .what = "declared by a plugin"};
    return 0;
}

bool vg_evcat_plane_produced(const char *plane)
{
    for (size_t i = 0; i < nproduced; i++)
        if (strcmp(produced[i], plane) == 0)
            return true;
    return false;
}

bool vg_evcat_action_known(const char *name)
{
    for (size_t i = 0; static_actions[i]; i++)
        if (strcmp(static_actions[i], name) == 0)
            return true;
    for (size_t i = 0; i < ndeclared_actions; i++)
        if (strcmp(declared_actions[i], name) == 0)
            return true;
    return false;
}

int vg_evcat_declare_action(const char *name)
{
    if (vg_evcat_action_known(name))
        return 0;
    if (ndeclared_actions == DECLARED_MAX)
        return -ENOSPC;
    if (!(declared_actions[ndeclared_actions] = strdup(name)))
        return -ENOMEM;
    ndeclared_actions++;
    return 0;
}

void vg_evcat_reset_declared(void)
{
    for (size_t i = 0; i < ndeclared; i++) {
        free((char *)declared[i].name);
        free((char *)declared[i].source);
    }
    ndeclared = 0;
    for (size_t i = 0; i < ndeclared_actions; i++)
        free(declared_actions[i]);
    ndeclared_actions = 0;
    nproduced = 0;
}

/* ---- nearest names ---- */

#define NEAR_MAX 3
#define NAME_CMP_MAX 64

struct nearest {
    const char *name;
    size_t limit;
    const char *best[NEAR_MAX];
    size_t len[NEAR_MAX], dist[NEAR_MAX], n;
};

static void near_add(struct nearest *nr, const char *cand, size_t len)
{
    char tmp[NAME_CMP_MAX + 1];
    snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < NAME_CMP_MAX ? len : NAME_CMP_MAX), cand);
    size_t d = vg_edit_distance(nr->name, tmp);
    if (d > nr->limit)
        return;
    size_t at;
    if (nr->n < NEAR_MAX)
        at = nr->n++;
    else if (d >= nr->dist[NEAR_MAX - 1])
        return;
    else
        at = NEAR_MAX - 1;
    for (; at > 0 && nr->dist[at - 1] > d; at--) {
        nr->best[at] = nr->best[at - 1];
        nr->len[at] = nr->len[at - 1];
        nr->dist[at] = nr->dist[at - 1];
    }
    nr->best[at] = cand;
    nr->len[at] = len;
    nr->dist[at] = d;
}

static void near_init(struct nearest *nr, const char *name)
{
    memset(nr, 0, sizeof(*nr));
    nr->name = name;
    size_t n = strlen(name);
    nr->limit = n / 3 > 2 ? n / 3 : 2; /* a typo or two; more for long names */
}

static void near_format(const struct nearest *nr, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nr->n && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s%.*s", i ? ", " : "", (int)nr->len[i],
                                nr->best[i]);
}

void vg_evcat_nearest_type(const char *name, char *buf, size_t size)
{
    struct nearest nr;
    near_init(&nr, name);
    for (size_t i = 0; i < NTABLE; i++)
        near_add(&nr, table[i].name, strlen(table[i].name));
    for (size_t i = 0; i < ndeclared; i++)
        near_add(&nr, declared[i].name, strlen(declared[i].name));
    near_format(&nr, buf, size);
}

void vg_evcat_nearest_action(const char *name, char *buf, size_t size)
{
    struct nearest nr;
    near_init(&nr, name);
    for (size_t i = 0; static_actions[i]; i++)
        near_add(&nr, static_actions[i], strlen(static_actions[i]));
    for (size_t i = 0; i < ndeclared_actions; i++)
        near_add(&nr, declared_actions[i], strlen(declared_actions[i]));
    near_format(&nr, buf, size);
}

void vg_evcat_nearest_word(const char *name, const char *words, char *buf, size_t size)
{
    struct nearest nr;
    near_init(&nr, name);
    for (const char *p = words; p && *p;) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        near_add(&nr, p, len);
        p = end ? end + 1 : NULL;
    }
    near_format(&nr, buf, size);
}
