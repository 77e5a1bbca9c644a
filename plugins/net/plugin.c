/*
 * The net plugin (live side): every connection of every workload, seen from
 * inside its network namespace.
 *
 * The loop thread follows the workloads (workload.start / workload.stop and
 * a rescan at each of them) and keeps one capture per network namespace
 * (capture.c), served by a few capture threads (capture_pool.c): workloads
 * that share a namespace (the containers of a Kubernetes pod) are captured
 * once, and their connections are reported for the first of them. With
 * plugins.net.nodes, the host's own interfaces are captured too, as group
 * "nodes". Each capture runs its own engine (engine.h); its sink (conns.c)
 * publishes net.connect, net.accept and net.conn. The loop thread publishes net.stats, keeps the
 * graph of the observed connections (graph.c) and answers the control command "net" (stats,
 * sessions, graph, capture), which vigilctl's `capture` and `net` use (tools/vigilctl_net.c).
 * docs/net.md is the user's page.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "dnsnames.h"
#include "enforce.h"
#include "net.h"

void net_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_str_with_body(pk, v, strlen(v));
}

void net_kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_int64(pk, v);
}

const msgpack_object *net_mp_get(const msgpack_object *m, const char *key)
{
    size_t n = strlen(key);
    if (!m || m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

int net_mp_str(const msgpack_object *m, const char *key, char *buf, size_t size)
{
    const msgpack_object *v = net_mp_get(m, key);
    buf[0] = '\0';
    if (!v)
        return -ENOENT;
    if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= size ||
        memchr(v->via.str.ptr, 0, v->via.str.size))
        return -EINVAL;
    memcpy(buf, v->via.str.ptr, v->via.str.size);
    buf[v->via.str.size] = '\0';
    return 0;
}

int net_mp_int(const msgpack_object *m, const char *key, int64_t *out)
{
    const msgpack_object *v = net_mp_get(m, key);
    if (!v)
        return -ENOENT;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
        *out = (int64_t)v->via.u64;
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = v->via.i64;
    else
        return -EINVAL;
    return 0;
}

/* ---- following the workloads ------------------------------------------------ */

static int ns_id(int pid, uint64_t *dev, uint64_t *ino)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
    if (stat(path, &st) < 0)
        return -errno;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

static net_ns *ns_find(net_plugin *p, uint64_t dev, uint64_t ino)
{
    for (net_ns *ns = p->nss; ns; ns = net_ns_next(ns))
        if (net_ns_is(ns, dev, ino))
            return ns;
    return NULL;
}

static void ns_add(net_plugin *p, int nsfd, uint64_t dev, uint64_t ino, const char *id,
                   const char *group)
{
    net_ns *ns;
    int rc = net_ns_start(p, nsfd, dev, ino, id, group, &ns);
    if (rc < 0) {
        p->api->log(p->h, VG_LOG_WARN, "%s: cannot capture: %s", id[0] ? id : "host",
                    strerror(-rc));
        return;
    }
    net_ns_set_next(ns, p->nss);
    p->nss = ns;
    p->api->log(p->h, VG_LOG_INFO, "capturing %s", id[0] ? id : "the host's interfaces");
}

/* The workloads of one sync: each with the namespace it is in. */
typedef struct seen {
    net_plugin *p;
    struct {
        net_ns *ns;
        char id[VG_WORKLOAD_MAX];
    } * v;
    size_t n, cap;
} seen;

static void seen_add(seen *s, net_ns *ns, const char *id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        void *v = realloc(s->v, cap * sizeof(*s->v));
        if (!v)
            return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].ns = ns;
    snprintf(s->v[s->n++].id, VG_WORKLOAD_MAX, "%s", id);
}

static void follow(void *arg, const vg_workload_view *w)
{
    seen *s = arg;
    net_plugin *p = s->p;
    uint64_t dev = 0, ino = 0;
    if (!w->id[0] || w->pid <= 0 || ns_id(w->pid, &dev, &ino) < 0)
        return;
    if (dev == p->host_dev && ino == p->host_ino)
        return; /* host network: the host's capture (nodes) sees it */
    net_ns *ns = ns_find(p, dev, ino);
    if (!ns) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", w->pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint64_t dev2, ino2;
        struct stat st;
        /* The fd must be the namespace just looked at, not a recycled pid's. */
        if (fd < 0 || fstat(fd, &st) < 0 || (dev2 = st.st_dev) != dev ||
            (ino2 = st.st_ino) != ino) {
            if (fd >= 0)
                close(fd);
            return;
        }
        ns_add(p, fd, dev, ino, w->id, w->group);
        ns = ns_find(p, dev, ino);
        if (!ns)
            return;
    }
    if (net_ns_member_add(ns, w->id, w->group, w->pid) < 0) {
        p->api->log(p->h, VG_LOG_WARN, "%s: more than %d workloads share its namespace", w->id,
                    NET_MEMBERS_MAX);
    }
    if (!strcmp(net_ns_workload(ns), w->id))
        net_ns_set_group(ns, w->group);
    seen_add(s, ns, w->id);
}

static void sync_all(net_plugin *p)
{
    seen s = {.p = p};
    p->api->workloads_each(p->h, follow, &s);
    net_ns *keep = NULL, *next;
    for (net_ns *ns = p->nss; ns; ns = next) {
        next = net_ns_next(ns);
        const char *ids[NET_MEMBERS_MAX];
        size_t n = 0;
        for (size_t i = 0; i < s.n && n < NET_MEMBERS_MAX; i++)
            if (s.v[i].ns == ns)
                ids[n++] = s.v[i].id;
        bool host = net_ns_is(ns, p->host_dev, p->host_ino);
        if (host || net_ns_members_keep(ns, ids, n) > 0) {
            net_ns_set_next(ns, keep);
            keep = ns;
        } else {
            p->api->log(p->h, VG_LOG_INFO, "no longer capturing %s", net_ns_workload(ns));
            net_ns_stop(ns);
        }
    }
    p->nss = keep;
    free(s.v);
}

static void on_workloads_changed(void *arg, const void *rec, size_t len)
{
    (void)rec;
    (void)len;
    sync_all(arg);
    net_protect_sync(arg);
}

static void on_net_event(void *arg, const void *rec, size_t len)
{
    net_plugin *p = arg;
    net_graph_event(p->graph, rec, len);
}

/* ---- net.stats ----------------------------------------------------------------- */

static size_t ns_count(const net_plugin *p)
{
    size_t n = 0;
    for (net_ns *ns = p->nss; ns; ns = net_ns_next(ns))
        n++;
    return n;
}

static void pack_ns(msgpack_packer *pk, net_ns *ns, const net_ns_stats *st)
{
    msgpack_pack_map(pk, 15);
    net_kv_str(pk, "workload", net_ns_workload(ns));
    const char *ids[NET_MEMBERS_MAX];
    size_t n = net_ns_members(ns, ids, NET_MEMBERS_MAX);
    msgpack_pack_str_with_body(pk, "members", 7);
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_str_with_body(pk, ids[i], strlen(ids[i]));
    net_kv_int(pk, "interfaces", (int64_t)st->interfaces);
    net_kv_int(pk, "packets", (int64_t)st->packets);
    net_kv_int(pk, "bytes", (int64_t)st->bytes);
    net_kv_int(pk, "kernel_drops", (int64_t)st->kernel_drops);
    net_kv_int(pk, "if_drops", (int64_t)st->if_drops);
    net_kv_int(pk, "read_errors", (int64_t)st->errors);
    net_kv_int(pk, "events", (int64_t)st->events);
    net_kv_int(pk, "events_dropped", (int64_t)st->events_dropped);
    net_kv_int(pk, "flows", (int64_t)st->engine.flows);
    net_kv_int(pk, "flows_total", (int64_t)st->engine.flows_total);
    net_kv_int(pk, "evicted", (int64_t)st->engine.evicted);
    net_kv_int(pk, "malformed", (int64_t)st->engine.malformed);
    net_kv_int(pk, "identified", (int64_t)st->engine.identified);
}

/* The stats map: totals, and one entry per captured namespace. */
static void pack_stats(net_plugin *p, msgpack_packer *pk)
{
    net_ns_stats tot = {0};
    size_t n = ns_count(p);
    net_ns_stats *each = calloc(n ? n : 1, sizeof(*each));
    size_t i = 0;
    for (net_ns *ns = p->nss; ns && each; ns = net_ns_next(ns), i++) {
        net_ns_stats_get(ns, &each[i]);
        const net_ns_stats *s = &each[i];
        tot.interfaces += s->interfaces;
        tot.packets += s->packets;
        tot.bytes += s->bytes;
        tot.kernel_drops += s->kernel_drops;
        tot.if_drops += s->if_drops;
        tot.errors += s->errors;
        tot.events += s->events;
        tot.events_dropped += s->events_dropped;
        tot.keys_full += s->keys_full;
        tot.engine.flows += s->engine.flows;
        tot.engine.flows_total += s->engine.flows_total;
        tot.engine.evicted += s->engine.evicted;
        tot.engine.malformed += s->engine.malformed;
        tot.engine.unsupported += s->engine.unsupported;
        tot.engine.identified += s->engine.identified;
        tot.engine.unknown += s->engine.unknown;
    }
    msgpack_pack_map(pk, 17);
    net_kv_int(pk, "namespaces", (int64_t)n);
    net_kv_int(pk, "interfaces", (int64_t)tot.interfaces);
    net_kv_int(pk, "packets", (int64_t)tot.packets);
    net_kv_int(pk, "bytes", (int64_t)tot.bytes);
    net_kv_int(pk, "kernel_drops", (int64_t)tot.kernel_drops);
    net_kv_int(pk, "if_drops", (int64_t)tot.if_drops);
    net_kv_int(pk, "read_errors", (int64_t)tot.errors);
    net_kv_int(pk, "events", (int64_t)tot.events);
    net_kv_int(pk, "events_dropped", (int64_t)tot.events_dropped);
    net_kv_int(pk, "keys_full", (int64_t)tot.keys_full);
    net_kv_int(pk, "flows", (int64_t)tot.engine.flows);
    net_kv_int(pk, "flows_total", (int64_t)tot.engine.flows_total);
    net_kv_int(pk, "evicted", (int64_t)tot.engine.evicted);
    net_kv_int(pk, "malformed", (int64_t)tot.engine.malformed);
    net_kv_int(pk, "identified", (int64_t)tot.engine.identified);
    net_kv_int(pk, "unknown", (int64_t)tot.engine.unknown);
    msgpack_pack_str_with_body(pk, "captures", 8);
    msgpack_pack_array(pk, each ? (uint32_t)n : 0);
    i = 0;
    for (net_ns *ns = p->nss; ns && each; ns = net_ns_next(ns), i++)
        pack_ns(pk, ns, &each[i]);
    free(each);
}

static void publish_stats(net_plugin *p)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_stats(p, &pk);
    vg_event_in ev = {
        .type = p->t_stats, .severity = VG_SEV_DEBUG, .body = sb.data, .body_len = sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}

static void on_stats_timer(uv_timer_t *t)
{
    publish_stats(t->data);
}

/* ---- commands ------------------------------------------------------------------- */

static net_ns *ns_of_workload(net_plugin *p, const char *id)
{
    for (net_ns *ns = p->nss; ns; ns = net_ns_next(ns))
        if (net_ns_member_has(ns, id))
            return ns;
    return NULL;
}

static int reply_sb(net_plugin *p, vg_reply *r, msgpack_sbuffer *sb)
{
    int rc = p->api->reply(r, sb->data, sb->size);
    msgpack_sbuffer_destroy(sb);
    return rc;
}

static int cmd_stats(net_plugin *p, vg_reply *r)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_stats(p, &pk);
    return reply_sb(p, r, &sb);
}

/* An array of arrays: the sessions of each namespace (of one workload's). */
static int cmd_sessions(net_plugin *p, vg_reply *r, const char *workload)
{
    net_ns *only = NULL;
    if (workload[0] && !(only = ns_of_workload(p, workload))) {
        p->api->reply_error(r, "workload %s is not captured (see `vigilctl net stats`)", workload);
        return -ENOENT;
    }
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    uint32_t n = 0;
    for (net_ns *ns = p->nss; ns; ns = net_ns_next(ns)) {
        if (only && ns != only)
            continue;
        size_t before = body.size;
        if (net_ns_sessions(ns, &body) == 0)
            n++;
        else
            body.size = before;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    msgpack_sbuffer_write(&sb, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
    return reply_sb(p, r, &sb);
}

static int cmd_graph(net_plugin *p, vg_reply *r, const char *group)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    net_graph_pack(p->graph, group, &pk);
    return reply_sb(p, r, &sb);
}

static int cmd_capture(net_plugin *p, vg_reply *r, const msgpack_object *a, const char *workload)
{
    net_ns *ns = workload[0] ? ns_of_workload(p, workload) : NULL;
    if (!ns) {
        p->api->reply_error(r, "workload %s is not captured (see `vigilctl workloads`)",
                            workload[0] ? workload : "?");
        return -ENOENT;
    }
    net_dump_req *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return -ENOMEM;
    rq->seconds = 10;
    net_mp_int(a, "seconds", &rq->seconds);
    rq->max_bytes = p->cfg.capture_max_mb << 20;
    int rc = 0;
    if (net_mp_str(a, "filter", rq->filter, sizeof(rq->filter)) == -EINVAL) {
        p->api->reply_error(r, "capture: filter: a BPF expression expected");
        rc = -EINVAL;
    } else if (rq->seconds < 1 || rq->seconds > p->cfg.capture_max_seconds) {
        p->api->reply_error(r,
                            "capture: seconds must be 1 to %lld (plugins.net.capture_max_seconds)",
                            (long long)p->cfg.capture_max_seconds);
        rc = -EINVAL;
    }
    uint64_t id = 0;
    if (rc == 0 && (rc = net_ns_dump_start(ns, rq, &id)) < 0)
        p->api->reply_error(r, "capture: %s", rq->error[0] ? rq->error : strerror(-rc));
    if (rc == 0) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 4);
        net_kv_int(&pk, "id", (int64_t)id);
        net_kv_str(&pk, "workload", workload);
        net_kv_int(&pk, "seconds", rq->seconds);
        net_kv_int(&pk, "max_bytes", rq->max_bytes);
        rc = reply_sb(p, r, &sb);
    }
    free(rq);
    return rc;
}

static int cmd_capture_status(net_plugin *p, vg_reply *r, const msgpack_object *a,
                              const char *workload)
{
    net_ns *ns = ns_of_workload(p, workload);
    int64_t id = 0;
    net_mp_int(a, "id", &id);
    bool running = false;
    net_dump_result res;
    int rc = ns ? net_ns_dump_status(ns, (uint64_t)id, &running, &res) : -ENOENT;
    if (rc < 0) {
        p->api->reply_error(r, "capture %lld of %s: %s", (long long)id, workload,
                            rc == -ENOENT ? "not known (the workload stopped?)" : strerror(-rc));
        return rc;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    msgpack_pack_str_with_body(&pk, "running", 7);
    running ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
    net_kv_int(&pk, "size", (int64_t)res.size);
    net_kv_int(&pk, "packets", (int64_t)res.packets);
    net_kv_int(&pk, "bytes", (int64_t)res.bytes);
    net_kv_int(&pk, "filtered_out", (int64_t)res.filtered_out);
    net_kv_int(&pk, "other_linktype", (int64_t)res.other_linktype);
    net_kv_int(&pk, "error", res.error);
    msgpack_pack_str_with_body(&pk, "truncated", 9);
    res.truncated ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
    return reply_sb(p, r, &sb);
}

/* A chunk of a finished capture: {offset, data}; data empty at the end. */
#define CAPTURE_CHUNK (512 * 1024) /* well below the control socket's frame */
static int cmd_capture_read(net_plugin *p, vg_reply *r, const msgpack_object *a,
                            const char *workload)
{
    net_ns *ns = ns_of_workload(p, workload);
    int64_t id = 0, offset = 0;
    net_mp_int(a, "id", &id);
    net_mp_int(a, "offset", &offset);
    void *buf = malloc(CAPTURE_CHUNK);
    if (!buf)
        return -ENOMEM;
    ssize_t n = ns && offset >= 0
                    ? net_ns_dump_read(ns, (uint64_t)id, (uint64_t)offset, buf, CAPTURE_CHUNK)
                    : -ENOENT;
    int rc = n < 0 ? (int)n : 0;
    if (rc < 0) {
        p->api->reply_error(r, "capture %lld of %s: %s", (long long)id, workload,
                            rc == -ENOENT ? "not known (the workload stopped, or read already)"
                                          : strerror(-rc));
    } else {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        net_kv_int(&pk, "offset", offset);
        msgpack_pack_str_with_body(&pk, "data", 4);
        msgpack_pack_bin_with_body(&pk, buf, (size_t)n);
        rc = reply_sb(p, r, &sb);
    }
    free(buf);
    return rc;
}

static int run_command(void *priv, const void *args, size_t len, vg_reply *r)
{
    net_plugin *p = priv;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char op[32] = "", workload[VG_WORKLOAD_MAX] = "", group[VG_GROUP_MAX] = "";
    int rc = -EINVAL;
    if (msgpack_unpack_next(&u, args, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        net_mp_str(&u.data, "op", op, sizeof(op)) < 0) {
        p->api->reply_error(
            r, "net: args {op = \"stats\"|\"sessions\"|\"graph\"|\"capture\"} expected");
    } else if (net_mp_str(&u.data, "workload", workload, sizeof(workload)) == -EINVAL ||
               net_mp_str(&u.data, "group", group, sizeof(group)) == -EINVAL) {
        p->api->reply_error(r, "net: workload and group must be names");
    } else if (!strcmp(op, "stats")) {
        rc = cmd_stats(p, r);
    } else if (!strcmp(op, "sessions")) {
        rc = cmd_sessions(p, r, workload);
    } else if (!strcmp(op, "graph")) {
        rc = cmd_graph(p, r, group);
    } else if (!strcmp(op, "capture")) {
        rc = cmd_capture(p, r, &u.data, workload);
    } else if (!strcmp(op, "capture_status")) {
        rc = cmd_capture_status(p, r, &u.data, workload);
    } else if (!strcmp(op, "capture_read")) {
        rc = cmd_capture_read(p, r, &u.data, workload);
    } else {
        p->api->reply_error(r, "net: unknown op \"%s\"", op);
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---- configuration ------------------------------------------------------------- */

/* What plugins.net may hold (docs/net.md, Configuration). */
static const char *const on_stop_choices[] = {"keep", "open", NULL};
static const vg_setting_desc settings[] = {
    {.key = "filter", .type = VG_SETTING_STRING},
    {.key = "snaplen", .type = VG_SETTING_INT, .min = 64, .max = 262144},
    {.key = "buffer_kb", .type = VG_SETTING_INT, .min = 64, .max = 1 << 20},
    {.key = "timeout_ms", .type = VG_SETTING_INT, .min = 1, .max = 10000},
    {.key = "immediate", .type = VG_SETTING_BOOL},
    {.key = "loopback", .type = VG_SETTING_BOOL},
    {.key = "nodes", .type = VG_SETTING_BOOL},
    {.key = "interval_ms", .type = VG_SETTING_INT, .min = 100, .max = 86400000},
    {.key = "stats_interval_ms", .type = VG_SETTING_INT, .min = 0, .max = 86400000},
    {.key = "rescan_ms", .type = VG_SETTING_INT, .min = 100, .max = 3600000},
    {.key = "capture_threads", .type = VG_SETTING_INT, .min = 1, .max = 64},
    {.key = "max_flows", .type = VG_SETTING_INT, .min = 16, .max = 1 << 24},
    {.key = "max_keys", .type = VG_SETTING_INT, .min = 16, .max = 1 << 20},
    {.key = "networks", .type = VG_SETTING_STRING},
    {.key = "capture_max_seconds", .type = VG_SETTING_INT, .min = 1, .max = 86400},
    {.key = "capture_max_mb", .type = VG_SETTING_INT, .min = 1, .max = 1 << 16},
    {.key = "threats", .type = VG_SETTING_STRING},
    {.key = "k8s_api", .type = VG_SETTING_STRING},
    {.key = "k8s_token_file", .type = VG_SETTING_STRING},
    {.key = "k8s_ca_file", .type = VG_SETTING_STRING},
    {.key = "k8s_poll_ms", .type = VG_SETTING_INT, .min = 100, .max = 86400000},
    {.key = "enforce", .type = VG_SETTING_BOOL},
    {.key = "on_stop", .type = VG_SETTING_STRING, .choices = on_stop_choices},
    {.key = "quarantine_allow", .type = VG_SETTING_STRING},
    {.key = "dns_min_ttl_s", .type = VG_SETTING_INT, .min = 0, .max = 604800},
    {.key = NULL},
};

static const vg_setting_desc *setting(const char *key)
{
    const vg_setting_desc *d = settings;
    while (d->key && strcmp(d->key, key) != 0)
        d++;
    return d;
}

static int read_config(net_plugin *p, net_config *c)
{
    const vg_host_api *api = p->api;
    const char *s;
    int b;
    c->snaplen = 65535;
    c->buffer_kb = 2048;
    c->timeout_ms = 50;
    c->interval_ms = 60000;
    c->stats_interval_ms = 60000;
    c->rescan_ms = 60000;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c->capture_threads = cpus < 1 ? 1 : cpus > 4 ? 4 : cpus;
    c->max_flows = 65536;
    c->max_keys = 4096;
    c->capture_max_seconds = 600;
    c->capture_max_mb = 64;
    struct {
        const char *key;
        int64_t *v;
    } ints[] = {
        {"snaplen", &c->snaplen},
        {"buffer_kb", &c->buffer_kb},
        {"timeout_ms", &c->timeout_ms},
        {"interval_ms", &c->interval_ms},
        {"stats_interval_ms", &c->stats_interval_ms},
        {"rescan_ms", &c->rescan_ms},
        {"capture_threads", &c->capture_threads},
        {"max_flows", &c->max_flows},
        {"max_keys", &c->max_keys},
        {"capture_max_seconds", &c->capture_max_seconds},
        {"capture_max_mb", &c->capture_max_mb},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        /* The daemon checks the declared ranges first (ABI 1.4); an older
         * one does not, so they are checked here too. */
        const vg_setting_desc *d = setting(ints[i].key);
        int rc = api->config_int(p->h, ints[i].key, ints[i].v);
        if (rc == -EINVAL || *ints[i].v < d->min || *ints[i].v > d->max) {
            api->log(p->h, VG_LOG_ERR, "plugins.net.%s must be an integer from %lld to %lld",
                     ints[i].key, (long long)d->min, (long long)d->max);
            return -EINVAL;
        }
    }
    struct {
        const char *key;
        bool *v;
    } bools[] = {{"immediate", &c->immediate}, {"loopback", &c->loopback}, {"nodes", &c->nodes}};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        int rc = api->config_bool(p->h, bools[i].key, &b);
        if (rc == -EINVAL) {
            api->log(p->h, VG_LOG_ERR, "plugins.net.%s must be true or false", bools[i].key);
            return -EINVAL;
        }
        if (rc == 0)
            *bools[i].v = b;
    }
    int rc = api->config_string(p->h, "filter", &s);
    if (rc == -EINVAL || (rc == 0 && strlen(s) >= sizeof(c->filter))) {
        api->log(p->h, VG_LOG_ERR, "plugins.net.filter must be a BPF expression (a string)");
        return -EINVAL;
    }
    if (rc == 0)
        snprintf(c->filter, sizeof(c->filter), "%s", s);
    if (c->filter[0]) { /* refused now rather than on each interface */
        pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)c->snaplen);
        struct bpf_program prog;
        if (!dead || pcap_compile(dead, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            api->log(p->h, VG_LOG_ERR, "plugins.net.filter: %s",
                     dead ? pcap_geterr(dead) : "out of memory");
            if (dead)
                pcap_close(dead);
            return -EINVAL;
        }
        pcap_freecode(&prog);
        pcap_close(dead);
    }
    rc = api->config_string(p->h, "networks", &s);
    char msg[200] = "a string";
    if (rc == -EINVAL || (rc == 0 && net_networks_parse(c, s, msg, sizeof(msg)) < 0)) {
        api->log(p->h, VG_LOG_ERR, "plugins.net.networks (\"name=cidr,...\"): %s", msg);
        return -EINVAL;
    }
    rc = api->config_string(p->h, "quarantine_allow", &s);
    struct vg_enf_key qa[VG_ENF_QUAR_ALLOW_MAX];
    size_t nqa;
    if (rc == 0 && net_quar_allow_parse(s, qa, VG_ENF_QUAR_ALLOW_MAX, &nqa, msg, sizeof(msg)) < 0) {
        api->log(p->h, VG_LOG_ERR, "plugins.net.quarantine_allow: %s", msg);
        return -EINVAL;
    }
    rc = api->config_string(p->h, "threats", &s);
    if (rc == -EINVAL || (rc == 0 && net_threats_config(c, s, msg, sizeof(msg)) < 0)) {
        api->log(p->h, VG_LOG_ERR,
                 "plugins.net.threats (\"group: id=on|off, id.param=N; ...\"): %s", msg);
        return -EINVAL;
    }
    return net_k8s_config(p, c);
}

/* ---- life cycle ------------------------------------------------------------------ */

static void stop(void *priv);

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    if (api->abi_minor < 2 || api->size < offsetof(vg_host_api, reply_error) + sizeof(void *)) {
        api->log(h, VG_LOG_ERR, "needs host ABI 1.2");
        return -ENOTSUP;
    }
    net_plugin *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->api = api;
    p->h = h;
    p->t_connect = api->event_type(h, "net.connect");
    p->t_accept = api->event_type(h, "net.accept");
    p->t_conn = api->event_type(h, "net.conn");
    p->t_stats = api->event_type(h, "net.stats");
    p->t_threat = api->event_type(h, "net.threat");
    int rc =
        p->t_connect < 0 || p->t_accept < 0 || p->t_conn < 0 || p->t_stats < 0 || p->t_threat < 0
            ? -EINVAL
            : read_config(p, &p->cfg);
    uint64_t dev = 0, ino = 0;
    if (rc == 0 && (rc = ns_id(getpid(), &dev, &ino)) == 0) {
        p->host_dev = dev;
        p->host_ino = ino;
    }
    if (rc == 0) {
        p->peers = net_peers_new();
        p->graph = net_graph_new(4096);
        p->dnsnames = net_dnsnames_new(4096);
        rc = p->peers && p->graph && p->dnsnames ? 0 : -ENOMEM;
    }
    vg_command_desc cmd = {"net", run_command, p};
    if (rc == 0 && (rc = api->register_command(h, &cmd)) < 0)
        api->log(h, VG_LOG_WARN, "no `vigilctl net` command: %s", strerror(-rc));
    if (rc == -ENODEV) /* no control socket: capture still runs */
        rc = 0;
    if (rc < 0) {
        stop(p);
        return rc;
    }
    *priv = p;
    return 0;
}

static void end_captures(net_plugin *p)
{
    net_ns *next;
    for (net_ns *ns = p->nss; ns; ns = next) {
        next = net_ns_next(ns);
        net_ns_stop(ns);
    }
    p->nss = NULL;
    net_pool_stop(p);
}

/* The captures and the stats timer, with the settings in p->cfg. */
static void begin(net_plugin *p)
{
    net_pool_start(p); /* without threads, each capture says it cannot start */
    if (p->cfg.nodes)
        ns_add(p, -1, p->host_dev, p->host_ino, "", "nodes");
    sync_all(p);
    uv_timer_stop(p->stats_timer);
    if (p->cfg.stats_interval_ms > 0)
        uv_timer_start(p->stats_timer, on_stats_timer, (uint64_t)p->cfg.stats_interval_ms,
                       (uint64_t)p->cfg.stats_interval_ms);
}

static int start(void *priv)
{
    net_plugin *p = priv;
    static const char *const follow_types[] = {"workload.start", "workload.stop"};
    for (size_t i = 0; i < 2; i++)
        if (p->api->subscribe(p->h, follow_types[i], on_workloads_changed, p) < 0)
            p->api->log(p->h, VG_LOG_WARN, "cannot follow %s: capture may lag", follow_types[i]);
    static const char *const graph_types[] = {"net.connect", "net.accept", "net.violation",
                                              "net.conn"};
    for (size_t i = 0; i < 4; i++)
        if (p->api->subscribe(p->h, graph_types[i], on_net_event, p) < 0)
            p->api->log(p->h, VG_LOG_WARN, "cannot follow %s: the graph misses it", graph_types[i]);
    uv_timer_t *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    uv_timer_init(p->api->loop(p->h), t);
    t->data = p;
    uv_unref((uv_handle_t *)t);
    p->stats_timer = t;
    net_threats_policy(p, &p->cfg);
    begin(p);
    net_protect_start(p);
    net_resets_start(p);
    net_k8s_start(p);
    return 0;
}

/* SIGHUP / vigilctl reload: new settings of plugins.net restart every
 * capture with them (open flows are reported first); the same settings, or
 * settings with an error, change nothing. */
static int reload(void *priv)
{
    net_plugin *p = priv;
    net_config c;
    memset(&c, 0, sizeof(c));
    int rc = read_config(p, &c);
    if (rc < 0 || (rc = net_protect_reload(p)) < 0)
        return rc;
    net_threats_policy(p, &c);
    if (memcmp(&c, &p->cfg, sizeof(c)) == 0)
        return 0;
    net_k8s_stop(p);
    end_captures(p);
    p->cfg = c;
    p->api->log(p->h, VG_LOG_INFO, "new settings: every capture restarts");
    begin(p);
    net_k8s_start(p);
    return 0;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void stop(void *priv)
{
    net_plugin *p = priv;
    if (p->stats_timer)
        uv_close((uv_handle_t *)p->stats_timer, free_handle);
    net_k8s_stop(p);
    net_protect_stop(p);
    end_captures(p);
    net_peers_free(p->peers);
    net_graph_free(p->graph);
    net_dnsnames_free(p->dnsnames);
    free(p);
}

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "net",
    .version = VIGIL_VERSION,
    .description = "connections of every workload, captured in its network namespace",
    .init = init,
    .start = start,
    .stop = stop,
    .reload = reload,
    .settings = settings,
    .policy_decls = net_policy_decls,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
