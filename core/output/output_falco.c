/*
 * The "falco" output: each event as the JSON that Falco sends to its HTTP
 * output, POSTed to `url`, so that falcosidekick (and anything else that
 * takes Falco's alerts) fans vigil's events out unchanged:
 *
 *   {"output": "17:02:11.493812211: Warning vigil proc.violation in group
 *               web.prod (workload 3f2a9c81d0e4) path=/bin/sh verdict=deny",
 *    "priority": "Warning",          Falco's names: Critical, Error, Warning,
 *                                    Notice, Informational, Debug
 *    "rule": "proc.violation",       the event's own "rule" when it has one
 *    "time": "2026-12-07T17:02:11.493812211Z",
 *    "output_fields": {"evt.time": <ns>, "vigil.type": ..., "vigil.group": ...,
 *                      "container.id": ..., "k8s.ns.name": ..., "vigil.<key>": ...},
 *    "source": "vigil", "tags": ["vigil", "proc", <tags of the setting>],
 *    "hostname": <the host's name, or the "hostname" setting>}
 *
 * Delivery is a blocking libcurl request on the output's own thread (the
 * loop never waits for it), one attempt per event: a receiver that is down
 * shows as counted failures, and the queue in front of it drops when full.
 * libcurl is loaded (not linked) when such an output is configured, as for
 * webhooks (lib/curl_load.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "falco_json.h"
#include "json.h"
#include "log.h"
#include "mp.h"
#include "output_int.h"
#include "curl_load.h"

#define DEFAULT_TIMEOUT_MS 5000
#define TAGS_MAX 16

typedef struct falco_out {
    vg__curl_api curl;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    long timeout_ms;
    char hostname[256];
    char *tags[TAGS_MAX + 1];
    msgpack_sbuffer body;
    uint64_t last_err_ms;
    _Atomic uint64_t give_up_ms; /* set when stopping; 0 until then */
} falco_out;

static const char *falco_priority(const char *sev, size_t len)
{
    static const char *const map[][2] = {{"critical", "Critical"},  {"error", "Error"},
                                         {"warning", "Warning"},    {"notice", "Notice"},
                                         {"info", "Informational"}, {"debug", "Debug"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i][0]) == len && memcmp(map[i][0], sev, len) == 0)
            return map[i][1];
    return "Informational";
}

static void pack_strn(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str_with_body(pk, s, len);
}

/* The header keys that have a Falco field of their own. */
static bool is_header_key(const msgpack_object *k)
{
    static const char *const keys[] = {"id", "time", "type", "severity", "workload", "group"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (vg_mp_streq(k, keys[i]))
            return true;
    return false;
}

/* The event's own keys go under "vigil."; Kubernetes' come from the "k8s"
 * map (pack_k8s), so that they are never there twice. */
static const char *falco_field(const msgpack_object *k)
{
    return vg_mp_streq(k, "image") ? "container.image.repository" : NULL;
}

/* The "k8s" map that core/output adds, under Falco's names: k8s.ns.name,
 * k8s.pod.name, container.name (strings) and k8s.pod.labels (a map). */
static void pack_k8s(msgpack_packer *pk, const msgpack_object *k8s)
{
    for (uint32_t i = 0; i < k8s->via.map.size; i++) {
        const msgpack_object *k = &k8s->via.map.ptr[i].key;
        const char *name = vg_mp_streq(k, "namespace")   ? "k8s.ns.name"
                           : vg_mp_streq(k, "pod")       ? "k8s.pod.name"
                           : vg_mp_streq(k, "container") ? "container.name"
                           : vg_mp_streq(k, "labels")    ? "k8s.pod.labels"
                                                         : "vigil.k8s";
        vg_mp_pack_cstr(pk, name);
        msgpack_pack_object(pk, k8s->via.map.ptr[i].val);
    }
}

static bool is_scalar(const msgpack_object *v)
{
    return v->type == MSGPACK_OBJECT_STR || v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
           v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || v->type == MSGPACK_OBJECT_BOOLEAN ||
           v->type == MSGPACK_OBJECT_FLOAT64;
}

static void pack_fields(msgpack_packer *pk, const msgpack_object *ev, int64_t t)
{
    const char *s;
    size_t l;
    uint32_t n = 0;
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && !is_header_key(&kv->key))
            n += vg_mp_streq(&kv->key, "k8s") && kv->val.type == MSGPACK_OBJECT_MAP
                     ? kv->val.via.map.size
                     : 1;
    }
    msgpack_pack_map(pk, 6 + n);
    vg_mp_pack_kv_int(pk, "evt.time", t);
    static const char *const hdr[][2] = {{"vigil.type", "type"},
                                         {"vigil.severity", "severity"},
                                         {"vigil.group", "group"},
                                         {"container.id", "workload"}};
    for (size_t i = 0; i < 4; i++) {
        vg_mp_pack_cstr(pk, hdr[i][0]);
        l = 0;
        s = "";
        vg_mp_get_str(ev, hdr[i][1], &s, &l);
        /* Falco says "host" for what runs outside containers. */
        if (!l && strcmp(hdr[i][1], "workload") == 0)
            s = "host", l = 4;
        pack_strn(pk, s, l);
    }
    int64_t id = 0;
    vg_mp_get_int(ev, "id", &id);
    vg_mp_pack_kv_int(pk, "vigil.id", id);
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object *k = &ev->via.map.ptr[i].key, *v = &ev->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || is_header_key(k))
            continue;
        if (vg_mp_streq(k, "k8s") && v->type == MSGPACK_OBJECT_MAP) {
            pack_k8s(pk, v);
            continue;
        }
        const char *name = falco_field(k);
        char buf[128];
        if (!name) {
            snprintf(buf, sizeof(buf), "vigil.%.*s", (int)k->via.str.size, k->via.str.ptr);
            name = buf;
        }
        vg_mp_pack_cstr(pk, name);
        /* falcosidekick reads k8s.* as strings; anything not a scalar is
         * kept as it is (a map, a list). */
        msgpack_pack_object(pk, *v);
    }
}

/* "key=value" of the event's scalar body fields, after the headline. */
static void append_details(char *out, size_t size, size_t off, const msgpack_object *ev)
{
    for (uint32_t i = 0; i < ev->via.map.size && off + 1 < size; i++) {
        const msgpack_object *k = &ev->via.map.ptr[i].key, *v = &ev->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || is_header_key(k) || !is_scalar(v))
            continue;
        int n;
        if (v->type == MSGPACK_OBJECT_STR)
            n = snprintf(out + off, size - off, " %.*s=%.*s", (int)k->via.str.size, k->via.str.ptr,
                         (int)v->via.str.size, v->via.str.ptr);
        else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            n = snprintf(out + off, size - off, " %.*s=%llu", (int)k->via.str.size, k->via.str.ptr,
                         (unsigned long long)v->via.u64);
        else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            n = snprintf(out + off, size - off, " %.*s=%lld", (int)k->via.str.size, k->via.str.ptr,
                         (long long)v->via.i64);
        else if (v->type == MSGPACK_OBJECT_BOOLEAN)
            n = snprintf(out + off, size - off, " %.*s=%s", (int)k->via.str.size, k->via.str.ptr,
                         v->via.boolean ? "true" : "false");
        else
            n = snprintf(out + off, size - off, " %.*s=%g", (int)k->via.str.size, k->via.str.ptr,
                         v->via.f64);
        off = n > 0 ? off + (size_t)n : off;
        if (off >= size)
            off = size - 1;
    }
}

int vg_falco_json(const msgpack_object *ev, const char *hostname, const char *const *tags,
                  msgpack_sbuffer *sb)
{
    if (ev->type != MSGPACK_OBJECT_MAP)
        return -EINVAL;
    const char *sev = "info", *type = "event", *group = "", *wl = "", *rule;
    size_t sl = 4, tl = 5, gl = 0, wll = 0, rl;
    vg_mp_get_str(ev, "severity", &sev, &sl);
    vg_mp_get_str(ev, "type", &type, &tl);
    vg_mp_get_str(ev, "group", &group, &gl);
    vg_mp_get_str(ev, "workload", &wl, &wll);
    if (vg_mp_get_str(ev, "rule", &rule, &rl) < 0 || rl == 0)
        rule = type, rl = tl;
    int64_t t = 0;
    vg_mp_get_int(ev, "time", &t);
    if (t < 0)
        t = 0;
    time_t secs = (time_t)(t / 1000000000);
    long ns = (long)(t % 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[128], clock[64], output[2048];
    strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%s.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, clock, ns);
    const char *prio = falco_priority(sev, sl);
    int n =
        snprintf(output, sizeof(output), "%s.%09ld: %s vigil %.*s", clock, ns, prio, (int)tl, type);
    if (gl)
        n += snprintf(output + n, sizeof(output) - (size_t)n, " in group %.*s", (int)gl, group);
    if (wll)
        n += snprintf(output + n, sizeof(output) - (size_t)n, " (workload %.*s)",
                      (int)(wll < 12 ? wll : 12), wl); /* wl: not NUL-terminated */
    append_details(output, sizeof(output), (size_t)n, ev);

    msgpack_sbuffer raw;
    msgpack_sbuffer_init(&raw);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &raw, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    vg_mp_pack_kv_str(&pk, "output", output);
    vg_mp_pack_kv_str(&pk, "priority", prio);
    vg_mp_pack_cstr(&pk, "rule");
    pack_strn(&pk, rule, rl);
    vg_mp_pack_kv_str(&pk, "time", when);
    vg_mp_pack_cstr(&pk, "output_fields");
    pack_fields(&pk, ev, t);
    vg_mp_pack_kv_str(&pk, "source", "vigil");
    /* "vigil", the plane (the type's first part), then the configured tags. */
    size_t ntags = 0;
    while (tags && tags[ntags])
        ntags++;
    const char *dot = memchr(type, '.', tl);
    vg_mp_pack_cstr(&pk, "tags");
    msgpack_pack_array(&pk, 2 + ntags);
    vg_mp_pack_cstr(&pk, "vigil");
    pack_strn(&pk, type, dot ? (size_t)(dot - type) : tl);
    for (size_t i = 0; i < ntags; i++)
        vg_mp_pack_cstr(&pk, tags[i]);
    vg_mp_pack_kv_str(&pk, "hostname", hostname);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int rc = msgpack_unpack_next(&up, raw.data, raw.size, NULL) == MSGPACK_UNPACK_SUCCESS
                 ? vg_json_write_sbuf(sb, &up.data)
                 : -ENOMEM;
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&raw);
    return rc < 0 ? -ENOMEM : 0;
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
    return size * n;
}

static uint64_t mono_ms(void);

/* curl calls this at least once a second during a request: non-zero
 * aborts it, once the output is stopping and its time is up. */
static int progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                    curl_off_t ulnow)
{
    falco_out *f = arg;
    uint64_t t = atomic_load(&f->give_up_ms);
    return t && mono_ms() >= t;
}

static void falco_stopping(void *priv, uint64_t deadline_ms)
{
    falco_out *f = priv;
    atomic_store(&f->give_up_ms, deadline_ms);
}

static void falco_close(void *priv)
{
    falco_out *f = priv;
    if (f->easy)
        f->curl.easy_cleanup(f->easy);
    if (f->hdrs)
        f->curl.slist_free_all(f->hdrs);
    for (size_t i = 0; f->tags[i]; i++)
        free(f->tags[i]);
    msgpack_sbuffer_destroy(&f->body);
    free(f->url);
    free(f);
}

static int add_headers(falco_out *f, const msgpack_object *settings)
{
    struct curl_slist *l = f->curl.slist_append(NULL, "Content-Type: application/json");
    const msgpack_object *h = vg_mp_get(settings, "headers");
    for (uint32_t i = 0; l && h && h->type == MSGPACK_OBJECT_MAP && i < h->via.map.size; i++) {
        const msgpack_object_kv *kv = &h->via.map.ptr[i];
        char line[1024];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
            continue;
        snprintf(line, sizeof(line), "%.*s: %.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr,
                 (int)kv->val.via.str.size, kv->val.via.str.ptr);
        struct curl_slist *more = f->curl.slist_append(l, line);
        if (!more) {
            f->curl.slist_free_all(l);
            return -ENOMEM;
        }
        l = more;
    }
    f->hdrs = l;
    return l ? 0 : -ENOMEM;
}

static void read_tags(falco_out *f, const msgpack_object *settings)
{
    const msgpack_object *t = vg_mp_get(settings, "tags");
    size_t n = 0;
    for (uint32_t i = 0; t && t->type == MSGPACK_OBJECT_ARRAY && i < t->via.array.size; i++) {
        const msgpack_object *s = &t->via.array.ptr[i];
        if (s->type == MSGPACK_OBJECT_STR && n < TAGS_MAX &&
            (f->tags[n] = strndup(s->via.str.ptr, s->via.str.size)))
            n++;
    }
}

static int falco_open(const msgpack_object *settings, void **priv, char *err, size_t errlen)
{
    falco_out *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    msgpack_sbuffer_init(&f->body);
    char url[2048];
    int64_t timeout = DEFAULT_TIMEOUT_MS;
    vg_mp_get_int(settings, "timeout_ms", &timeout);
    f->timeout_ms = (long)timeout;
    if (vg_mp_get_cstr(settings, "hostname", f->hostname, sizeof(f->hostname)) < 0 &&
        gethostname(f->hostname, sizeof(f->hostname) - 1) < 0)
        snprintf(f->hostname, sizeof(f->hostname), "localhost");
    read_tags(f, settings);
    int rc = vg_mp_get_cstr(settings, "url", url, sizeof(url)) == 0 && (f->url = strdup(url))
                 ? vg__curl_load(NULL, &f->curl, err, errlen)
                 : (snprintf(err, errlen, "no usable url"), -EINVAL);
    if (rc == 0)
        rc = add_headers(f, settings);
    if (rc == 0 && !(f->easy = f->curl.easy_init()))
        rc = -ENOMEM;
    if (rc < 0) {
        falco_close(f);
        return rc;
    }
    CURL *e = f->easy;
    f->curl.easy_setopt(e, CURLOPT_URL, f->url);
    f->curl.easy_setopt(e, CURLOPT_HTTPHEADER, f->hdrs);
    f->curl.easy_setopt(e, CURLOPT_TIMEOUT_MS, f->timeout_ms);
    f->curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    f->curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    f->curl.easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
    f->curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    f->curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    f->curl.easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress);
    f->curl.easy_setopt(e, CURLOPT_XFERINFODATA, f);
    f->curl.easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    *priv = f;
    return 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int falco_write(void *priv, const msgpack_object *ev, const char *json, size_t len)
{
    falco_out *f = priv;
    f->body.size = 0;
    if (vg_falco_json(ev, f->hostname, (const char *const *)f->tags, &f->body) < 0)
        return -ENOMEM;
    f->curl.easy_setopt(f->easy, CURLOPT_POSTFIELDS, f->body.data);
    f->curl.easy_setopt(f->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->body.size);
    CURLcode res = f->curl.easy_perform(f->easy);
    long code = 0;
    f->curl.easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    if (res == CURLE_OK && code >= 200 && code < 300)
        return 0;
    uint64_t now = mono_ms();
    if (!f->last_err_ms || now - f->last_err_ms >= 10000) { /* one line per 10 s */
        f->last_err_ms = now;
        if (res != CURLE_OK)
            vg_warn("output falco %s: %s", f->url, f->curl.easy_strerror(res));
        else
            vg_warn("output falco %s: HTTP status %ld", f->url, code);
    }
    return -EIO;
}

const vg_output_kind vg__output_falco = {
    .name = "falco",
    .open = falco_open,
    .write = falco_write,
    .stopping = falco_stopping,
    .close = falco_close,
};
