/* Prometheus metrics and the health endpoint; see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decision_latency.h"
#include "log.h"
#include "metrics_http.h"
#include "mode.h"
#include "mp.h"

#define SEVERITIES 6
#define ANSWERS_MAX 8 /* plugins whose *.stats report answer times */

/* The answer times a plugin reported last (answer_p50_ns, answer_p99_ns,
 * answer_max_ns of its "<plugin>.stats" event: the proc plugin's time from
 * reading a permission event to writing the kernel's answer). */
typedef struct answers {
    char plugin[32];
    int64_t p50, p99, max;
} answers;

struct vg_metrics {
    uv_loop_t *loop;
    vg_metrics_src src;
    vg_http_server *http;
    char *listen; /* what http listens on, NULL when off */
    uint64_t started_ms;
    uint64_t events[VG_EVENT_TYPES_MAX][SEVERITIES];
    answers answers[ANSWERS_MAX];
    size_t nanswers;
    vg_decision_latency *decisions;
};

/* ---- text ---------------------------------------------------------------- */

static void put(msgpack_sbuffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(msgpack_sbuffer *b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        msgpack_sbuffer_write(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* A label value as the exposition format wants it: \, " and newlines
 * escaped. Names come from the host (groups, plugins), so they are not
 * trusted to be plain. */
static const char *esc(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    for (; s && *s && o + 3 < size; s++) {
        if (*s == '\\' || *s == '"')
            buf[o++] = '\\', buf[o++] = *s;
        else if (*s == '\n')
            buf[o++] = '\\', buf[o++] = 'n';
        else
            buf[o++] = *s;
    }
    buf[o] = '\0';
    return buf;
}

static void help(msgpack_sbuffer *b, const char *name, const char *type, const char *text)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* ---- the families ---------------------------------------------------- */

static void render_events(vg_metrics *m, msgpack_sbuffer *b)
{
    char e1[128];
    help(b, "vigil_events_total", "counter", "Events published on the bus, by type and severity.");
    int ntypes = vg_event_type_count();
    for (int t = 0; t < ntypes && t < VG_EVENT_TYPES_MAX; t++)
        for (int s = 0; s < SEVERITIES; s++)
            if (m->events[t][s])
                put(b, "vigil_events_total{type=\"%s\",severity=\"%s\"} %llu\n",
                    esc(vg_event_type_name(t), e1, sizeof(e1)), vg_severity_name(s),
                    (unsigned long long)m->events[t][s]);
    vg_bus *bus = m->src.bus ? *m->src.bus : NULL;
    if (!bus)
        return;
    help(b, "vigil_events_dropped_total", "counter",
         "Events lost because the bus queue was full, by type.");
    for (int t = 0; t < ntypes; t++) {
        vg_bus_type_stats st;
        vg_bus_stats(bus, t, &st);
        put(b, "vigil_events_dropped_total{type=\"%s\"} %llu\n",
            esc(vg_event_type_name(t), e1, sizeof(e1)), (unsigned long long)st.dropped);
    }
    help(b, "vigil_bus_queue_depth", "gauge", "Events waiting in the bus queue.");
    put(b, "vigil_bus_queue_depth %zu\n", vg_bus_queued(bus));
    help(b, "vigil_bus_queue_capacity", "gauge", "Capacity of the bus queue (bus_queue).");
    put(b, "vigil_bus_queue_capacity %zu\n", vg_bus_capacity(bus));
}

/* One family of the outputs' figures: a sample per output (and result). */
enum out_fig { FIG_RESULTS, FIG_DEPTH, FIG_CAPACITY };

static void output_family(vg_metrics *m, msgpack_sbuffer *b, enum out_fig fig)
{
    vg_outputs *o = m->src.outputs ? *m->src.outputs : NULL;
    static const char *const names[] = {"vigil_output_events_total", "vigil_output_queue_depth",
                                        "vigil_output_queue_capacity"};
    static const char *const helps[] = {
        "Events per output: written, failed (not delivered), dropped (queue full).",
        "Events waiting in an output's queue.", "Capacity of an output's queue."};
    help(b, names[fig], fig == FIG_RESULTS ? "counter" : "gauge", helps[fig]);
    for (size_t i = 0; i < vg_outputs_count(o); i++) {
        vg_output_stats st;
        vg_outputs_stats_at(o, i, &st);
        char lab[160], e1[128];
        snprintf(lab, sizeof(lab), "output=\"%s\",kind=\"%s\"", esc(st.name, e1, sizeof(e1)),
                 st.kind);
        if (fig == FIG_DEPTH || fig == FIG_CAPACITY) {
            put(b, "%s{%s} %zu\n", names[fig], lab, fig == FIG_DEPTH ? st.depth : st.capacity);
            continue;
        }
        put(b, "%s{%s,result=\"written\"} %llu\n", names[fig], lab, (unsigned long long)st.written);
        put(b, "%s{%s,result=\"failed\"} %llu\n", names[fig], lab, (unsigned long long)st.failed);
        put(b, "%s{%s,result=\"dropped\"} %llu\n", names[fig], lab, (unsigned long long)st.dropped);
    }
}

static void render_outputs(vg_metrics *m, msgpack_sbuffer *b)
{
    output_family(m, b, FIG_RESULTS);
    output_family(m, b, FIG_DEPTH);
    output_family(m, b, FIG_CAPACITY);
}

static void render_webhooks(vg_metrics *m, msgpack_sbuffer *b)
{
    vg_webhooks_stats s;
    vg_webhooks_stats_get(m->src.webhooks ? *m->src.webhooks : NULL, &s);
    help(b, "vigil_webhook_deliveries_total", "counter",
         "Webhook deliveries: delivered (2xx), failed (gave up), dropped (queue full).");
    put(b, "vigil_webhook_deliveries_total{result=\"delivered\"} %llu\n",
        (unsigned long long)s.delivered);
    put(b, "vigil_webhook_deliveries_total{result=\"failed\"} %llu\n",
        (unsigned long long)s.failed);
    put(b, "vigil_webhook_deliveries_total{result=\"dropped\"} %llu\n",
        (unsigned long long)s.dropped);
    help(b, "vigil_webhook_retries_total", "counter", "Webhook attempts after a failed one.");
    put(b, "vigil_webhook_retries_total %llu\n", (unsigned long long)s.retries);
    help(b, "vigil_webhook_pending", "gauge", "Webhook deliveries queued or in flight.");
    put(b, "vigil_webhook_pending %llu\n", (unsigned long long)s.pending);
}

static void render_plugins(vg_metrics *m, msgpack_sbuffer *b)
{
    vg_plugins *ps = m->src.plugins ? *m->src.plugins : NULL;
    char e1[128];
    help(b, "vigil_plugin_state", "gauge",
         "1 for the state each plugin is in (running, stopped, failed, refused).");
    for (size_t i = 0; ps && i < vg_plugins_count(ps); i++) {
        const struct vg_host *h = vg_plugins_at(ps, i);
        put(b, "vigil_plugin_state{plugin=\"%s\",state=\"%s\"} 1\n", esc(h->name, e1, sizeof(e1)),
            vg_plugin_state_name(h->state));
    }
}

static void one_group(const vg_group_info *gi, void *arg)
{
    char e1[256];
    put(arg, "vigil_group_mode{group=\"%s\",mode=\"%s\"} 1\n", esc(gi->name, e1, sizeof(e1)),
        vg_mode_name(gi->mode));
}

/* Rules come in group, plane order: each run of one pair is one sample. */
typedef struct rule_run {
    msgpack_sbuffer *b;
    char group[VG_GROUP_MAX];
    int plane;
    uint64_t n;
} rule_run;

static void flush_run(rule_run *r)
{
    char e1[256];
    if (r->n)
        put(r->b, "vigil_rules{group=\"%s\",plane=\"%s\"} %llu\n", esc(r->group, e1, sizeof(e1)),
            vg_plane_name(r->plane), (unsigned long long)r->n);
    r->n = 0;
}

static int one_rule(const vg_rule *rule, void *arg)
{
    rule_run *r = arg;
    if (r->n && (r->plane != rule->plane || strcmp(r->group, rule->group) != 0))
        flush_run(r);
    if (!r->n) {
        snprintf(r->group, sizeof(r->group), "%s", rule->group);
        r->plane = rule->plane;
    }
    r->n++;
    return 0;
}

static void render_groups(vg_metrics *m, msgpack_sbuffer *b)
{
    vg_groups *g = m->src.groups ? *m->src.groups : NULL;
    help(b, "vigil_group_mode", "gauge", "1 for the mode each group is in.");
    if (g)
        vg_groups_foreach(g, one_group, b);
    vg_rules *r = m->src.rules ? *m->src.rules : NULL;
    help(b, "vigil_rules", "gauge", "Rules per group and plane.");
    if (r) {
        rule_run run = {.b = b};
        vg_rules_each(r, NULL, -1, one_rule, &run);
        flush_run(&run);
    }
}

static void render_answers(vg_metrics *m, msgpack_sbuffer *b)
{
    help(b, "vigil_answer_latency_seconds", "gauge",
         "Time to answer the kernel's permission events, as the plugin last reported it "
         "(quantile 1 is the maximum).");
    char e1[64];
    for (size_t i = 0; i < m->nanswers; i++) {
        const answers *a = &m->answers[i];
        esc(a->plugin, e1, sizeof(e1));
        put(b, "vigil_answer_latency_seconds{plugin=\"%s\",quantile=\"0.5\"} %.9f\n", e1,
            (double)a->p50 / 1e9);
        put(b, "vigil_answer_latency_seconds{plugin=\"%s\",quantile=\"0.99\"} %.9f\n", e1,
            (double)a->p99 / 1e9);
        put(b, "vigil_answer_latency_seconds{plugin=\"%s\",quantile=\"1\"} %.9f\n", e1,
            (double)a->max / 1e9);
    }
}

static void render_policy(vg_metrics *m, msgpack_sbuffer *b)
{
    vg_policy *p = m->src.policy ? *m->src.policy : NULL;
    vg_policy_stats ps = {0};
    if (p)
        vg_policy_stats_get(p, &ps);
    help(b, "vigil_policy_events_total", "counter", "Events that reached a policy handler.");
    put(b, "vigil_policy_events_total %llu\n", (unsigned long long)ps.events);
    help(b, "vigil_policy_errors_total", "counter", "Policy handler calls that failed.");
    put(b, "vigil_policy_errors_total %llu\n", (unsigned long long)ps.errors);
    help(b, "vigil_policy_cache_total", "counter", "Decision cache lookups, by result.");
    put(b, "vigil_policy_cache_total{result=\"hit\"} %llu\n", (unsigned long long)ps.cache_hits);
    put(b, "vigil_policy_cache_total{result=\"miss\"} %llu\n", (unsigned long long)ps.cache_misses);
    help(b, "vigil_policy_lua_bytes", "gauge", "Memory of the policies' Lua state.");
    put(b, "vigil_policy_lua_bytes %zu\n", ps.lua_bytes);
}

static void render_daemon(vg_metrics *m, msgpack_sbuffer *b)
{
    help(b, "vigil_up", "gauge", "1 while vigild answers.");
    put(b, "vigil_up 1\n");
    help(b, "vigil_uptime_seconds", "gauge", "Seconds since vigild started.");
    put(b, "vigil_uptime_seconds %llu\n",
        (unsigned long long)((uv_now(m->loop) - m->started_ms) / 1000));
    vg_store *st = m->src.store ? *m->src.store : NULL;
    if (st) {
        vg_store_stats ss = {0};
        vg_store_stats_get(st, &ss);
        help(b, "vigil_store_events", "gauge", "Events kept in the store.");
        put(b, "vigil_store_events %llu\n", (unsigned long long)ss.events);
        help(b, "vigil_store_commit_errors_total", "counter", "Store commits that failed.");
        put(b, "vigil_store_commit_errors_total %llu\n", (unsigned long long)ss.commit_errors);
    }
    vg_ctl *ctl = m->src.ctl ? *m->src.ctl : NULL;
    if (ctl) {
        vg_ctl_stats cs;
        vg_ctl_stats_get(ctl, &cs);
        help(b, "vigil_ctl_requests_total", "counter", "Control socket requests.");
        put(b, "vigil_ctl_requests_total %llu\n", (unsigned long long)cs.requests);
    }
}

/* Cumulative buckets from the per-bucket counts. */
static void render_decisions(vg_metrics *m, msgpack_sbuffer *b)
{
    const char *name = "vigil_decision_latency_seconds";
    help(b, name, "histogram",
         "Time from an event's publication to the policy's verdict, by plane.");
    const vg_decision_plane *p;
    size_t n = vg_decision_latency_planes(m->decisions, &p);
    for (size_t i = 0; i < n; i++, p++) {
        uint64_t cum = 0;
        for (size_t k = 0; k < VG_DECISION_BUCKETS; k++) {
            cum += p->in[k];
            put(b, "%s_bucket{plane=\"%s\",le=\"%g\"} %llu\n", name, p->name, vg_decision_bounds[k],
                (unsigned long long)cum);
        }
        put(b, "%s_bucket{plane=\"%s\",le=\"+Inf\"} %llu\n", name, p->name,
            (unsigned long long)p->count);
        put(b, "%s_sum{plane=\"%s\"} %.9f\n", name, p->name, p->sum);
        put(b, "%s_count{plane=\"%s\"} %llu\n", name, p->name, (unsigned long long)p->count);
    }
}

int vg_metrics_render(vg_metrics *m, msgpack_sbuffer *out)
{
    render_daemon(m, out);
    render_events(m, out);
    render_outputs(m, out);
    render_webhooks(m, out);
    render_plugins(m, out);
    render_groups(m, out);
    render_policy(m, out);
    render_answers(m, out);
    render_decisions(m, out);
    return 0;
}

/* ---- the endpoint -------------------------------------------------------- */

static int health(vg_metrics *m, msgpack_sbuffer *body)
{
    vg_bus *bus = m->src.bus ? *m->src.bus : NULL;
    if (bus && vg_bus_queued(bus) >= vg_bus_capacity(bus)) {
        put(body, "bus queue full: events are being dropped\n");
        return 503;
    }
    put(body, "ok\n");
    return 200;
}

static int serve(void *arg, const char *path, msgpack_sbuffer *body, const char **ctype)
{
    vg_metrics *m = arg;
    if (strcmp(path, "/metrics") == 0) {
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        vg_metrics_render(m, body);
        return 200;
    }
    if (strcmp(path, "/healthz") == 0)
        return health(m, body);
    put(body, "not found; try /metrics or /healthz\n");
    return 404;
}

int vg_metrics_new(uv_loop_t *loop, const vg_metrics_src *src, vg_metrics **out)
{
    vg_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    if (vg_decision_latency_new(&m->decisions) < 0) {
        free(m);
        return -ENOMEM;
    }
    m->loop = loop;
    m->src = *src;
    m->started_ms = uv_now(loop);
    *out = m;
    return 0;
}

static answers *answers_of(vg_metrics *m, const char *plugin, size_t len)
{
    for (size_t i = 0; i < m->nanswers; i++)
        if (strlen(m->answers[i].plugin) == len && memcmp(m->answers[i].plugin, plugin, len) == 0)
            return &m->answers[i];
    if (m->nanswers == ANSWERS_MAX || len >= sizeof(m->answers[0].plugin))
        return NULL;
    answers *a = &m->answers[m->nanswers++];
    memcpy(a->plugin, plugin, len);
    a->plugin[len] = '\0';
    return a;
}

/* A "<plugin>.stats" event with answer times (about once a minute). */
static void take_answers(vg_metrics *m, const vg_event *ev, const char *type)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int64_t p50, p99, max;
    if (msgpack_unpack_next(&up, (const char *)ev->body, ev->body_len, NULL) ==
            MSGPACK_UNPACK_SUCCESS &&
        vg_mp_get_int(&up.data, "answer_p50_ns", &p50) == 0 &&
        vg_mp_get_int(&up.data, "answer_p99_ns", &p99) == 0 &&
        vg_mp_get_int(&up.data, "answer_max_ns", &max) == 0) {
        answers *a = answers_of(m, type, strlen(type) - strlen(".stats"));
        if (a) {
            a->p50 = p50;
            a->p99 = p99;
            a->max = max;
        }
    }
    msgpack_unpacked_destroy(&up);
}

void vg_metrics_on_event(const vg_event *ev, void *arg)
{
    vg_metrics *m = arg;
    if (ev->type < VG_EVENT_TYPES_MAX && ev->severity < SEVERITIES)
        m->events[ev->type][ev->severity]++;
    const char *type = vg_event_type_name(ev->type);
    size_t tl = type ? strlen(type) : 0;
    if (tl > 6 && strcmp(type + tl - 6, ".stats") == 0 && ev->body_len &&
        vg_mp_shape_ok(ev->body, ev->body_len))
        take_answers(m, ev, type);
}

static void stop_listening(vg_metrics *m)
{
    vg_http_close(m->http);
    m->http = NULL;
    free(m->listen);
    m->listen = NULL;
}

/* metrics.listen, "127.0.0.1:9464" when the table has none; NULL when the
 * setting is not there. */
static char *configured_listen(const vg_config *cfg)
{
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    char *out = NULL, buf[128];
    if (vg_config_unpack_setting(cfg, "metrics", &sb, &up) == 0 &&
        up.data.type == MSGPACK_OBJECT_MAP)
        out = strdup(vg_mp_get_cstr(&up.data, "listen", buf, sizeof(buf)) == 0 ? buf
                                                                               : "127.0.0.1:9464");
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    return out;
}

int vg_metrics_configure(vg_metrics *m, const vg_config *cfg)
{
    char *want = configured_listen(cfg);
    if (want && m->listen && strcmp(want, m->listen) == 0) {
        free(want);
        return 0;
    }
    stop_listening(m);
    if (!want)
        return 0;
    int rc = vg_http_listen(m->loop, want, serve, m, &m->http);
    if (rc < 0) {
        vg_err("metrics: cannot listen on %s: %s", want, uv_strerror(rc));
        free(want);
        return rc;
    }
    vg_info("metrics on http://%s/metrics", want);
    m->listen = want;
    return 0;
}

int vg_metrics_port(const vg_metrics *m)
{
    return m ? vg_http_port(m->http) : 0;
}

void vg_metrics_close(vg_metrics *m)
{
    if (!m)
        return;
    stop_listening(m);
    vg_decision_latency_free(m->decisions);
    free(m);
}

void vg_metrics_on_verdict(vg_metrics *m, const vg_event *ev, int verdict)
{
    (void)verdict;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    vg_decision_latency_add(m->decisions, vg_event_type_name(ev->type), ev->time_ns,
                            (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
}
