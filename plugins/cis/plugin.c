/*
 * The cis plugin: the CIS checks of the engine (cis.h) inside the daemon. A
 * host run at start (plugins.cis.run_at_start, default true) and every
 * plugins.cis.interval_s (default a day); a containers run for each new
 * workload (workload.start). Runs happen on libuv's thread pool, since a
 * run reads many files; the results come back to the loop thread, which
 * publishes one bench.result event per WARN or ERROR plus a summary, and
 * stores the last report of each subject in the table "reports" (key
 * "container:<id>", else the target's name: "host", "containers", ...) as
 * a msgpack map: v, time, ms, a count per status (pass, warn, ...) and
 * results (check, benchmark, version, title, status, evidence, target, remediation,
 * level, tags). The action "cis" (also "bench", its old name) runs the
 * checks on demand, and so does the control command "bench" (`vigilctl
 * bench|cis run|show`), which also shows the stored reports.
 *
 * The plugin was called "bench": the config's plugins.bench still applies
 * (core/config warns), and the event type and command keep that name, since
 * users' response rules, store_skip lists and scripts name them.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <vigil/plugin.h>

#include "cis.h"
#include "log.h"

#define DAY_S 86400
#define PENDING_MAX 8 /* container runs queued at once; more are skipped */

typedef struct cis_plugin {
    const vg_host_api *api;
    vg_host *h;
    int t_result;
    uv_timer_t timer;
    bool timer_on, stopped;
    int inflight;
    int run_at_start;
    int64_t interval_s;
    const char *root, *lua_dir, *checks_dir;
} cis_plugin;

typedef struct job {
    uv_work_t req;
    cis_plugin *p;
    cis_opts opts;
    char workload[VG_WORKLOAD_MAX];
    char key[VG_WORKLOAD_MAX + 16]; /* of the stored report, see report_key() */
    /* Copies: the config's strings die at the next reload, and a run on the
     * thread pool may outlive it. */
    char *root, *lua_dir, *checks_dir;
    cis_report *rep;
    char err[256];
    int rc;
} job;

/* ---- encoding --------------------------------------------------------- */

static const char *target_name(unsigned targets)
{
    static const char *const names[] = {"host", "containers", "kubernetes", "images"};
    for (unsigned i = 0; i < 4; i++)
        if (targets == 1u << i)
            return names[i];
    return "all";
}

/* The store key of a run's report: "container:<id>" for one workload's
 * run, else the target's name ("host", "containers", ..., "all"), so that
 * a run of one target never overwrites the report of another. */
static void report_key(char *key, size_t size, unsigned targets, const char *workload)
{
    if (workload && *workload)
        snprintf(key, size, "container:%s", workload);
    else
        snprintf(key, size, "%s", target_name(targets));
}

/* m[key] of a msgpack map, or NULL. */
static const msgpack_object *mp_get(const msgpack_object *m, const char *key)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; m && m->type == MSGPACK_OBJECT_MAP && i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
            !memcmp(kv->key.via.str.ptr, key, n))
            return &kv->val;
    }
    return NULL;
}

/* m[key] as a C string into buf, "" when absent or nil; -EINVAL when it is
 * another type or does not fit. */
static int mp_cstr(const msgpack_object *m, const char *key, char *buf, size_t size)
{
    const msgpack_object *v = mp_get(m, key);
    buf[0] = '\0';
    if (!v || v->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= size)
        return -EINVAL;
    memcpy(buf, v->via.str.ptr, v->via.str.size);
    buf[v->via.str.size] = '\0';
    return 0;
}

static void kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    v = v ? v : "";
    msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_int64(pk, v);
}

static void pack_result(msgpack_packer *pk, const cis_result *r)
{
    msgpack_pack_map(pk, 10);
    kv_str(pk, "check", r->id);
    kv_str(pk, "benchmark", r->benchmark);
    kv_str(pk, "version", r->version);
    kv_str(pk, "title", r->title);
    kv_str(pk, "status", cis_status_name(r->status));
    kv_str(pk, "evidence", r->evidence);
    kv_str(pk, "target", r->target);
    kv_str(pk, "remediation", r->remediation);
    kv_int(pk, "level", r->level);
    msgpack_pack_str_with_body(pk, "tags", 4);
    msgpack_pack_array(pk, r->ntags);
    for (size_t i = 0; i < r->ntags; i++) {
        char tag[256];
        snprintf(tag, sizeof(tag), "%s %s", r->tags[i].framework, r->tags[i].control);
        msgpack_pack_str_with_body(pk, tag, strlen(tag));
    }
}

/* The key of a status's count in reports: its name in lower case. */
static void count_key(int status, char k[16])
{
    snprintf(k, 16, "%s", cis_status_name(status));
    for (char *c = k; *c; c++)
        *c = (char)(*c - 'A' + 'a');
}

static void pack_counts(msgpack_packer *pk, const cis_report *rep)
{
    for (int i = 0; i < CIS_NSTATUS; i++) {
        char k[16];
        count_key(i, k);
        kv_int(pk, k, (int64_t)rep->counts[i]);
    }
}

/* ---- results to the bus and the store -------------------------------- */

static void publish(cis_plugin *p, const job *j, msgpack_sbuffer *sb, int sev)
{
    vg_event_in ev = {.type = p->t_result,
                      .severity = sev,
                      .workload = j->workload,
                      .body = sb->data,
                      .body_len = sb->size};
    p->api->publish(p->h, &ev);
}

static void publish_results(cis_plugin *p, const job *j)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < j->rep->n; i++) {
        const cis_result *r = &j->rep->results[i];
        if (r->status != CIS_WARN && r->status != CIS_ERROR)
            continue;
        msgpack_sbuffer_clear(&sb);
        pack_result(&pk, r);
        publish(p, j, &sb, r->status == CIS_WARN ? VG_SEV_WARNING : VG_SEV_ERROR);
    }
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 3 + CIS_NSTATUS);
    msgpack_pack_str_with_body(&pk, "summary", 7);
    msgpack_pack_true(&pk);
    kv_str(&pk, "target", target_name(j->opts.targets));
    kv_int(&pk, "ms", (int64_t)(j->rep->seconds * 1000));
    pack_counts(&pk, j->rep);
    publish(p, j, &sb, j->rep->counts[CIS_WARN] ? VG_SEV_NOTICE : VG_SEV_INFO);
    msgpack_sbuffer_destroy(&sb);
}

/* The whole report, for `vigilctl bench show`. */
static void store_report(cis_plugin *p, const job *j)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4 + CIS_NSTATUS);
    kv_int(&pk, "v", 1);
    kv_int(&pk, "time", (int64_t)time(NULL));
    kv_int(&pk, "ms", (int64_t)(j->rep->seconds * 1000));
    pack_counts(&pk, j->rep);
    msgpack_pack_str_with_body(&pk, "results", 7);
    msgpack_pack_array(&pk, j->rep->n);
    for (size_t i = 0; i < j->rep->n; i++)
        pack_result(&pk, &j->rep->results[i]);
    int rc = p->api->store_put(p->h, "reports", j->key, strlen(j->key), sb.data, sb.size);
    if (rc < 0)
        p->api->log(p->h, VG_LOG_WARN, "storing the %s report: %s", j->key, strerror(-rc));
    msgpack_sbuffer_destroy(&sb);
}

/* ---- runs on the thread pool ------------------------------------------ */

static void work_cb(uv_work_t *req)
{
    job *j = req->data;
    j->rc = cis_run(&j->opts, &j->rep, j->err, sizeof(j->err));
}

static void job_free(job *j)
{
    free(j->root), free(j->lua_dir), free(j->checks_dir);
    free(j);
}

static void after_cb(uv_work_t *req, int status)
{
    job *j = req->data;
    cis_plugin *p = j->p;
    p->inflight--;
    if (!p->stopped && status == 0 && j->rc == 0) {
        publish_results(p, j);
        store_report(p, j);
        p->api->log(p->h, VG_LOG_INFO, "%s run: %zu checks, %zu WARN, %zu ERROR in %.3f s",
                    *j->workload ? j->workload : "host", j->rep->n, j->rep->counts[CIS_WARN],
                    j->rep->counts[CIS_ERROR], j->rep->seconds);
    } else if (!p->stopped && j->rc < 0) {
        p->api->log(p->h, VG_LOG_ERR, "run failed: %s", j->err);
    }
    cis_report_free(j->rep);
    job_free(j);
    /* stop() leaves the plugin to the last run that was still going. */
    if (p->stopped && p->inflight == 0 && !p->timer_on)
        free(p);
}

static int queue_run(cis_plugin *p, unsigned targets, const char *workload)
{
    if (p->inflight >= PENDING_MAX)
        return -EBUSY;
    job *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->p = p;
    j->req.data = j;
    j->root = strdup(p->root);
    j->lua_dir = strdup(p->lua_dir);
    j->checks_dir = p->checks_dir ? strdup(p->checks_dir) : NULL;
    if (!j->root || !j->lua_dir || (p->checks_dir && !j->checks_dir)) {
        job_free(j);
        return -ENOMEM;
    }
    j->opts = (cis_opts){
        .root = j->root, .lua_dir = j->lua_dir, .checks_dir = j->checks_dir, .targets = targets};
    if (workload) {
        snprintf(j->workload, sizeof(j->workload), "%s", workload);
        j->opts.container = j->workload;
    }
    report_key(j->key, sizeof(j->key), targets, workload);
    int rc = uv_queue_work(p->api->loop(p->h), &j->req, work_cb, after_cb);
    if (rc < 0) {
        job_free(j);
        return rc;
    }
    p->inflight++;
    return 0;
}

static void timer_cb(uv_timer_t *t)
{
    cis_plugin *p = t->data;
    int rc = queue_run(p, CIS_HOST, NULL);
    if (rc < 0)
        p->api->log(p->h, VG_LOG_WARN, "host run not started: %s", uv_strerror(rc));
}

/* The "workload" string of a msgpack map into id ("" when absent). */
static void workload_of(const void *rec, size_t len, char *id, size_t size)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (rec && msgpack_unpack_next(&u, rec, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        mp_cstr(&u.data, "workload", id, size) < 0)
        id[0] = '\0';
    msgpack_unpacked_destroy(&u);
}

/* workload.start: the record is a msgpack map with "workload" (the id). */
static void on_workload(void *arg, const void *rec, size_t len)
{
    cis_plugin *p = arg;
    char id[VG_WORKLOAD_MAX] = "";
    workload_of(rec, len, id, sizeof(id));
    if (*id && queue_run(p, CIS_CONTAINERS, id) < 0)
        p->api->log(p->h, VG_LOG_WARN, "container run for %s skipped (too many pending)", id);
}

/* The "cis" action (and "bench"): a run on demand (a response rule, or a future
 * the command below). Arguments: a msgpack map; with "workload" the
 * containers target of that workload, otherwise the host. */
static int action_run(void *priv, const void *args, size_t args_len)
{
    cis_plugin *p = priv;
    char id[VG_WORKLOAD_MAX] = "";
    workload_of(args, args_len, id, sizeof(id));
    return *id ? queue_run(p, CIS_CONTAINERS, id) : queue_run(p, CIS_HOST, NULL);
}

/* ---- the control command: `vigilctl bench run|show` -------------------- */

typedef struct cmd_args {
    char op[16], target[16], workload[VG_WORKLOAD_MAX], tag[32];
    unsigned targets; /* from target; by default the host, or a workload's containers */
} cmd_args;

static int parse_args(const void *args, size_t len, cmd_args *a, vg_reply *r,
                      const vg_host_api *api)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = msgpack_unpack_next(&u, args, len, NULL) == MSGPACK_UNPACK_SUCCESS ? 0 : -EINVAL;
    const char *bad = "args";
    if (rc == 0 && (rc = mp_cstr(&u.data, bad = "op", a->op, sizeof(a->op))) == 0 &&
        (rc = mp_cstr(&u.data, bad = "target", a->target, sizeof(a->target))) == 0 &&
        (rc = mp_cstr(&u.data, bad = "workload", a->workload, sizeof(a->workload))) == 0)
        rc = mp_cstr(&u.data, bad = "tag", a->tag, sizeof(a->tag));
    msgpack_unpacked_destroy(&u);
    if (rc < 0) {
        api->reply_error(r, "bench: invalid %s", bad);
        return rc;
    }
    a->targets = *a->target     ? cis_target_parse(a->target)
                 : *a->workload ? CIS_CONTAINERS
                                : CIS_HOST;
    if (!a->targets) {
        api->reply_error(
            r, "bench: unknown target '%s' (host, containers, kubernetes, images, all)", a->target);
        return -EINVAL;
    }
    if (*a->workload && a->targets != CIS_CONTAINERS) {
        api->reply_error(r, "bench: a workload is checked with the containers target only");
        return -EINVAL;
    }
    return 0;
}

/* run: queues the run and answers at once; the results come as events and
 * as the stored report. */
static int cmd_run(cis_plugin *p, const cmd_args *a, vg_reply *r)
{
    int rc = queue_run(p, a->targets, *a->workload ? a->workload : NULL);
    if (rc < 0) {
        p->api->reply_error(r, "bench: run not queued: %s",
                            rc == -EBUSY ? "too many runs pending" : strerror(-rc));
        return rc;
    }
    char key[VG_WORKLOAD_MAX + 16];
    report_key(key, sizeof(key), a->targets, a->workload);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "queued", 6);
    msgpack_pack_true(&pk);
    kv_str(&pk, "target", target_name(a->targets));
    kv_str(&pk, "workload", a->workload);
    kv_str(&pk, "report", key);
    rc = p->api->reply(r, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Tags are stored as "PCI 2.2.4": the framework, a blank, the control. */
static bool has_tag(const msgpack_object *res, const char *tag)
{
    const msgpack_object *tags = mp_get(res, "tags");
    size_t n = strlen(tag);
    for (uint32_t i = 0; tags && tags->type == MSGPACK_OBJECT_ARRAY && i < tags->via.array.size;
         i++) {
        const msgpack_object *t = &tags->via.array.ptr[i];
        if (t->type == MSGPACK_OBJECT_STR && t->via.str.size >= n &&
            !strncasecmp(t->via.str.ptr, tag, n) &&
            (t->via.str.size == n || t->via.str.ptr[n] == ' '))
            return true;
    }
    return false;
}

static bool is_count_key(const msgpack_object *k)
{
    for (int i = 0; i < CIS_NSTATUS; i++) {
        const char *name = cis_status_name(i);
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
            !strncasecmp(k->via.str.ptr, name, k->via.str.size))
            return true;
    }
    return false;
}

/* One result as stored, with "check" renamed "id" as in `vigil-scan
 * bench --json`; the status is counted into counts. */
static void pack_shown(msgpack_packer *pk, const msgpack_object *res, uint64_t *counts)
{
    msgpack_pack_map(pk, res->via.map.size);
    for (uint32_t i = 0; i < res->via.map.size; i++) {
        const msgpack_object_kv *kv = &res->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 5 &&
            !memcmp(kv->key.via.str.ptr, "check", 5))
            msgpack_pack_str_with_body(pk, "id", 2);
        else
            msgpack_pack_object(pk, kv->key);
        msgpack_pack_object(pk, kv->val);
    }
    char st[16];
    if (mp_cstr(res, "status", st, sizeof(st)) == 0)
        for (int s = 0; s < CIS_NSTATUS; s++)
            counts[s] += !strcmp(st, cis_status_name(s));
}

/* The stored report with only the results tagged `tag` (all when ""), and
 * counts of those results, so that the summary matches what is shown. */
static void pack_report(msgpack_packer *pk, const msgpack_object *rep, const char *key,
                        const char *tag)
{
    const msgpack_object *results = mp_get(rep, "results");
    uint32_t nres = 0, nkeep = 0;
    for (uint32_t i = 0;
         results && results->type == MSGPACK_OBJECT_ARRAY && i < results->via.array.size; i++)
        nres += (!*tag || has_tag(&results->via.array.ptr[i], tag)) &&
                results->via.array.ptr[i].type == MSGPACK_OBJECT_MAP;
    for (uint32_t i = 0; i < rep->via.map.size; i++)
        nkeep += !is_count_key(&rep->via.map.ptr[i].key) && &rep->via.map.ptr[i].val != results;
    msgpack_pack_map(pk, nkeep + 2 + CIS_NSTATUS);
    for (uint32_t i = 0; i < rep->via.map.size; i++) {
        const msgpack_object_kv *kv = &rep->via.map.ptr[i];
        if (is_count_key(&kv->key) || &kv->val == results)
            continue;
        msgpack_pack_object(pk, kv->key);
        msgpack_pack_object(pk, kv->val);
    }
    kv_str(pk, "report", key);
    uint64_t counts[CIS_NSTATUS] = {0};
    msgpack_pack_str_with_body(pk, "results", 7);
    msgpack_pack_array(pk, nres);
    for (uint32_t i = 0; nres && i < results->via.array.size; i++) {
        const msgpack_object *x = &results->via.array.ptr[i];
        if (x->type == MSGPACK_OBJECT_MAP && (!*tag || has_tag(x, tag)))
            pack_shown(pk, x, counts);
    }
    for (int s = 0; s < CIS_NSTATUS; s++) {
        char k[16];
        count_key(s, k);
        kv_int(pk, k, (int64_t)counts[s]);
    }
}

/* show: the last stored report of the target (or workload). */
static int cmd_show(cis_plugin *p, const cmd_args *a, vg_reply *r)
{
    char key[VG_WORKLOAD_MAX + 16];
    report_key(key, sizeof(key), a->targets, a->workload);
    void *val = NULL;
    size_t len = 0;
    int rc = p->api->store_get(p->h, "reports", key, strlen(key), &val, &len);
    if (rc < 0) {
        if (rc == -ENOENT)
            p->api->reply_error(r, "bench: no %s report yet (vigilctl bench run makes one)", key);
        else
            p->api->reply_error(r, "bench: reading the %s report: %s", key, strerror(-rc));
        return rc;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (msgpack_unpack_next(&u, val, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        pack_report(&pk, &u.data, key, a->tag);
        rc = p->api->reply(r, sb.data, sb.size);
    } else {
        p->api->reply_error(r, "bench: the stored %s report is damaged", key);
        rc = -EBADMSG;
    }
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);
    free(val);
    return rc;
}

/* The command "bench": args {op: "run"|"show", target, workload, tag}. */
static int command_run(void *priv, const void *args, size_t args_len, vg_reply *r)
{
    cis_plugin *p = priv;
    cmd_args a;
    int rc = parse_args(args, args_len, &a, r, p->api);
    if (rc < 0)
        return rc;
    if (!strcmp(a.op, "run"))
        return cmd_run(p, &a, r);
    if (!strcmp(a.op, "show"))
        return cmd_show(p, &a, r);
    p->api->reply_error(r, "bench: unknown op '%s' (run or show)", a.op);
    return -EINVAL;
}

/* ---- the descriptor ---------------------------------------------------- */

static void read_config(cis_plugin *p)
{
    p->run_at_start = 1;
    p->interval_s = DAY_S;
    p->root = "/";
    p->lua_dir = cis_shipped_dir(false);
    p->checks_dir = NULL;
    p->api->config_bool(p->h, "run_at_start", &p->run_at_start);
    p->api->config_int(p->h, "interval_s", &p->interval_s);
    p->api->config_string(p->h, "root", &p->root);
    p->api->config_string(p->h, "lua_dir", &p->lua_dir);
    p->api->config_string(p->h, "checks_dir", &p->checks_dir);
    if (p->interval_s <= 0)
        p->interval_s = DAY_S;
}

static int cis_init(const vg_host_api *api, vg_host *h, void **priv)
{
    vg_log_to_host(api, h); /* the engine's messages (lib/log.h) */
    if (api->abi_minor < 1)
        return -ENOTSUP; /* needs subscribe() */
    cis_plugin *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->api = api, p->h = h;
    read_config(p);
    int rc = p->t_result = api->event_type(h, "bench.result");
    if (rc < 0) {
        free(p);
        return rc;
    }
    *priv = p;
    return 0;
}

static int cis_start(void *priv)
{
    cis_plugin *p = priv;
    uint64_t every = (uint64_t)p->interval_s * 1000;
    int rc = uv_timer_init(p->api->loop(p->h), &p->timer);
    if (rc < 0)
        return rc;
    p->timer.data = p;
    p->timer_on = true;
    rc = uv_timer_start(&p->timer, timer_cb, p->run_at_start ? 0 : every, every);
    if (rc == 0)
        rc = p->api->subscribe(p->h, "workload.start", on_workload, p);
    vg_action_desc action = {.name = "cis", .run = action_run, .priv = p};
    vg_action_desc old_name = {.name = "bench", .run = action_run, .priv = p};
    if (rc == 0)
        rc = p->api->register_action(p->h, &action);
    if (rc == 0)
        rc = p->api->register_action(p->h, &old_name);
    /* Without a control socket (-ENODEV) the runs still happen. */
    vg_command_desc cmd = {.name = "bench", .run = command_run, .priv = p};
    if (rc == 0 && p->api->abi_minor >= 2 && (rc = p->api->register_command(p->h, &cmd)) == -ENODEV)
        rc = 0;
    return rc;
}

static void timer_closed(uv_handle_t *hd)
{
    cis_plugin *p = hd->data;
    p->timer_on = false;
    if (p->inflight == 0)
        free(p);
}

static void cis_stop(void *priv)
{
    cis_plugin *p = priv;
    p->stopped = true;
    if (p->timer_on) {
        uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, timer_closed);
    } else if (p->inflight == 0) {
        free(p);
    }
}

static int cis_reload(void *priv)
{
    read_config(priv);
    return 0;
}

/* What plugins.cis may set (ABI 1.4: checked before the plugin runs). */
static const vg_setting_desc settings[] = {
    {.key = "run_at_start", .type = VG_SETTING_BOOL},
    {.key = "interval_s", .type = VG_SETTING_INT, .min = 0, .max = 31536000},
    {.key = "root", .type = VG_SETTING_STRING},
    {.key = "lua_dir", .type = VG_SETTING_STRING},
    {.key = "checks_dir", .type = VG_SETTING_STRING},
    {.key = NULL},
};

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "cis",
    .version = VIGIL_VERSION,
    .description =
        "CIS compliance checks (Docker, Kubernetes, Linux) with PCI/GDPR/HIPAA/NIST tags",
    .init = cis_init,
    .start = cis_start,
    .stop = cis_stop,
    .reload = cis_reload,
    .settings = settings,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
