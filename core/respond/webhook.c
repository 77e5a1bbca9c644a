/*
 * Webhook deliveries; see webhook.h.
 *
 * libcurl's multi "socket" interface is driven by the loop, as in curl's
 * docs/examples/multi-uv.c: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> a uv_poll per socket) and when it next wants
 * to be called (CURLMOPT_TIMERFUNCTION -> one uv_timer); both call
 * curl_multi_socket_action() and then collect finished transfers. Nothing
 * here waits: name resolution is curl's threaded resolver, connects and
 * writes are non-blocking.
 *
 * A delivery is either waiting (for its first attempt, for a free
 * connection, or for its backoff to pass) or active (an easy handle in the
 * multi). One retry timer wakes for the earliest waiting one; with at most
 * queue_max deliveries, a scan of the waiting list is cheap.
 *
 * libcurl itself is loaded at the first delivery (lib/curl_load.h), so every
 * curl call goes through w->curl, and nothing touches curl before that: an
 * endpoint keeps its headers as plain strings, and each attempt makes the
 * curl_slist it hands to curl.
 */
#include "webhook.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"
#include "log.h"
#include "mp.h"
#include "curl_load.h"

#define DEFAULT_TIMEOUT_MS 5000
#define GIVE_UP_LOG_MS 10000 /* at most one warning per 10 s, the rest counted */

/* One endpoint's settings, shared by the deliveries queued for it. */
typedef struct endpoint {
    int refs;
    char *name, *url;
    bool slack;
    long timeout_ms;
    char **headers; /* "Name: value", nheaders of them */
    size_t nheaders;
} endpoint;

typedef struct delivery {
    struct delivery *next; /* in the waiting list, or the active one */
    vg_webhooks *w;
    endpoint *ep;
    char *body;
    size_t len;
    unsigned attempts;
    uint64_t due_ms;
    CURL *easy;              /* while active */
    struct curl_slist *hdrs; /* while active: ep's headers, made for curl */
    /* Of the "webhook" action (NULL for vg_webhooks_send()): what its
     * result is reported with (vg_webhooks_on_result). */
    struct origin *origin;
} delivery;

/* The response that queued a delivery: rule, event type, group and
 * workload as one block of NUL-separated strings. */
struct origin {
    int64_t event_id;
    const char *rule, *event_type, *group, *workload;
    char text[];
};

/* One watched socket. */
typedef struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    vg_webhooks *w;
} sock;

struct vg_webhooks {
    uv_loop_t *loop;
    vg_webhooks_opts opts;
    vg__curl_api curl;  /* filled at the first delivery, with multi */
    char curl_err[256]; /* why the last attempt to load libcurl failed */
    uint64_t last_load_err_ms;
    CURLM *multi;
    uv_timer_t curl_timer;  /* when curl wants to be called */
    uv_timer_t retry_timer; /* the earliest waiting delivery */
    int open_handles;       /* the two timers, until closed */
    endpoint **eps;
    size_t neps;
    delivery *waiting;
    delivery *active; /* with an easy handle in the multi */
    size_t nactive;
    vg_webhooks_stats stats;
    uint64_t last_warn_ms;
    bool closing;
    void (*on_result)(void *arg, const vg_webhook_result *r);
    void *on_result_arg;
};

/* ---- endpoints ---------------------------------------------------------- */

static void endpoint_unref(endpoint *ep)
{
    if (!ep || --ep->refs > 0)
        return;
    free(ep->name);
    free(ep->url);
    for (size_t i = 0; i < ep->nheaders; i++)
        free(ep->headers[i]);
    free(ep->headers);
    free(ep);
}

static int add_header(endpoint *ep, const char *name, size_t nlen, const char *val, size_t vlen)
{
    char **more = realloc(ep->headers, (ep->nheaders + 1) * sizeof(*more));
    if (!more)
        return -ENOMEM;
    ep->headers = more;
    char *line = malloc(nlen + vlen + 3);
    if (!line)
        return -ENOMEM;
    snprintf(line, nlen + vlen + 3, "%.*s: %.*s", (int)nlen, name, (int)vlen, val);
    ep->headers[ep->nheaders++] = line;
    return 0;
}

static char *dup_obj_str(const msgpack_object *o)
{
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return NULL;
    return strndup(o->via.str.ptr, o->via.str.size);
}

/* An endpoint from {url, slack, timeout_ms, headers}, checked by the
 * config loader already; this only guards against surprises. */
static endpoint *endpoint_new(const msgpack_object_kv *kv)
{
    endpoint *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return NULL;
    ep->refs = 1;
    ep->timeout_ms = DEFAULT_TIMEOUT_MS;
    ep->name = dup_obj_str(&kv->key);
    ep->url = dup_obj_str(vg_mp_get(&kv->val, "url"));
    bool slack = false;
    vg_mp_get_bool(&kv->val, "slack", &slack);
    ep->slack = slack;
    int64_t t;
    if (vg_mp_get_int(&kv->val, "timeout_ms", &t) == 0 && t > 0)
        ep->timeout_ms = (long)t;
    int rc =
        ep->name && ep->url ? add_header(ep, "Content-Type", 12, "application/json", 16) : -EINVAL;
    const msgpack_object *h = vg_mp_get(&kv->val, "headers");
    for (uint32_t i = 0; rc == 0 && h && h->type == MSGPACK_OBJECT_MAP && i < h->via.map.size;
         i++) {
        const msgpack_object_kv *hv = &h->via.map.ptr[i];
        if (hv->key.type == MSGPACK_OBJECT_STR && hv->val.type == MSGPACK_OBJECT_STR)
            rc = add_header(ep, hv->key.via.str.ptr, hv->key.via.str.size, hv->val.via.str.ptr,
                            hv->val.via.str.size);
    }
    if (rc < 0) {
        endpoint_unref(ep);
        return NULL;
    }
    return ep;
}

static void drop_endpoints(vg_webhooks *w)
{
    for (size_t i = 0; i < w->neps; i++)
        endpoint_unref(w->eps[i]);
    free(w->eps);
    w->eps = NULL;
    w->neps = 0;
}

static int set_endpoints(vg_webhooks *w, const msgpack_object *map)
{
    size_t n = map->type == MSGPACK_OBJECT_MAP ? map->via.map.size : 0;
    endpoint **eps = calloc(n ? n : 1, sizeof(*eps));
    if (!eps)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(eps[i] = endpoint_new(&map->via.map.ptr[i]))) {
            while (i--)
                endpoint_unref(eps[i]);
            free(eps);
            return -EINVAL;
        }
    }
    drop_endpoints(w);
    w->eps = eps;
    w->neps = n;
    return 0;
}

int vg_webhooks_configure(vg_webhooks *w, const vg_config *cfg)
{
    if (!w)
        return -EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = vg_config_webhooks_pack(cfg, &pk);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (rc == 0)
        rc = msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS
                 ? set_endpoints(w, &up.data)
                 : -EINVAL;
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    if (rc < 0)
        vg_err("webhooks: cannot apply the endpoints: %s", strerror(-rc));
    return rc;
}

static endpoint *find_endpoint(vg_webhooks *w, const char *name)
{
    for (size_t i = 0; i < w->neps; i++)
        if (strcmp(w->eps[i]->name, name) == 0)
            return w->eps[i];
    return NULL;
}

/* ---- deliveries --------------------------------------------------------- */

/* Ends d's attempt on curl's side; d->easy is out of the multi already. */
static void release_easy(delivery *d)
{
    const vg__curl_api *c = &d->w->curl;
    if (d->easy)
        c->easy_cleanup(d->easy);
    if (d->hdrs)
        c->slist_free_all(d->hdrs);
    d->easy = NULL;
    d->hdrs = NULL;
}

static void delivery_free(delivery *d)
{
    release_easy(d);
    endpoint_unref(d->ep);
    free(d->body);
    free(d->origin);
    free(d);
}

/* A delivery of the action ended: say so, then free it. */
static void delivery_end(vg_webhooks *w, delivery *d, const char *why)
{
    if (d->origin && w->on_result) {
        vg_webhook_result r = {.endpoint = d->ep->name,
                               .rule = d->origin->rule,
                               .event_type = d->origin->event_type,
                               .group = d->origin->group,
                               .workload = d->origin->workload,
                               .event_id = d->origin->event_id,
                               .delivered = why == NULL,
                               .attempts = d->attempts,
                               .error = why ? why : ""};
        w->on_result(w->on_result_arg, &r);
    }
    delivery_free(d);
}

void vg_webhooks_on_result(vg_webhooks *w, void (*cb)(void *arg, const vg_webhook_result *r),
                           void *arg)
{
    w->on_result = cb;
    w->on_result_arg = arg;
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
    return size * n;
}

static int curl_socket_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp);
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *arg);

/* libcurl (and the TLS library under it) is loaded and set up at the first
 * delivery, not at start-up: a host without webhooks does not pay its
 * memory. A library that cannot be loaded fails this delivery (the caller
 * counts it) and is tried again at the next one, so that installing it
 * needs no restart. -ENOENT or -EIO (why in w->curl_err), -ENOMEM. */
static int ensure_multi(vg_webhooks *w)
{
    if (w->multi)
        return 0;
    if (!w->curl.easy_init) {
        int rc = vg__curl_load(w->opts.curl_soname, &w->curl, w->curl_err, sizeof(w->curl_err));
        if (rc < 0) {
            uint64_t now = uv_now(w->loop);
            if (!w->last_load_err_ms || now - w->last_load_err_ms >= GIVE_UP_LOG_MS) {
                w->last_load_err_ms = now;
                vg_err("webhooks: no webhook can be delivered: %s (Debian: install libcurl4)",
                       w->curl_err);
            }
            return rc;
        }
    }
    const vg__curl_api *c = &w->curl;
    if (!(w->multi = c->multi_init()))
        return -ENOMEM;
    c->multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    c->multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    c->multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    c->multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    return 0;
}

static int make_headers(const vg__curl_api *c, const endpoint *ep, struct curl_slist **out)
{
    struct curl_slist *l = NULL;
    for (size_t i = 0; i < ep->nheaders; i++) {
        struct curl_slist *n = c->slist_append(l, ep->headers[i]);
        if (!n) {
            c->slist_free_all(l);
            return -ENOMEM;
        }
        l = n;
    }
    *out = l;
    return 0;
}

static int start(vg_webhooks *w, delivery *d)
{
    int rc = ensure_multi(w);
    if (rc < 0)
        return rc;
    const vg__curl_api *c = &w->curl;
    if (make_headers(c, d->ep, &d->hdrs) < 0 || !(d->easy = c->easy_init())) {
        release_easy(d);
        return -ENOMEM;
    }
    CURL *e = d->easy;
    c->easy_setopt(e, CURLOPT_URL, d->ep->url);
    c->easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
    c->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
    c->easy_setopt(e, CURLOPT_HTTPHEADER, d->hdrs);
    c->easy_setopt(e, CURLOPT_TIMEOUT_MS, d->ep->timeout_ms);
    c->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    c->easy_setopt(e, CURLOPT_PRIVATE, d);
    c->easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
    /* A webhook URL is config, but a redirect is the receiver's: neither
     * may lead curl to another protocol (file://, gopher://). */
    c->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    c->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (c->multi_add_handle(w->multi, e) != CURLM_OK) {
        release_easy(d);
        return -ENOMEM;
    }
    d->attempts++;
    d->next = w->active;
    w->active = d;
    w->nactive++;
    w->stats.attempts++;
    if (d->attempts > 1)
        w->stats.retries++;
    return 0;
}

static void give_up(vg_webhooks *w, delivery *d, const char *why)
{
    w->stats.failed++;
    w->stats.pending--;
    uint64_t now = uv_now(w->loop);
    if (!w->last_warn_ms || now - w->last_warn_ms >= GIVE_UP_LOG_MS) {
        w->last_warn_ms = now;
        vg_warn("webhook %s: delivery dropped after %u attempts (%s); %llu failed so far",
                d->ep->name, d->attempts, why, (unsigned long long)w->stats.failed);
    }
    delivery_end(w, d, why);
}

/* Starts what is due while connections are free, and sets the retry timer
 * for the earliest delivery that is not due yet. */
static void start_due(vg_webhooks *w, uint64_t now)
{
    for (delivery **pp = &w->waiting; *pp && w->nactive < w->opts.max_connections;) {
        delivery *d = *pp;
        if (d->due_ms > now) {
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        int rc = start(w, d);
        if (rc < 0)
            give_up(w, d, rc == -ENOMEM ? "out of memory" : "libcurl could not be loaded");
    }
}

static void on_retry_timer(uv_timer_t *t);

/* Starts what is due while connections are free, then sets the retry timer
 * for the earliest delivery not yet due. One waiting only for a free
 * connection needs no timer: a finishing transfer calls this again. */
static void reschedule(vg_webhooks *w)
{
    if (w->closing)
        return;
    uint64_t now = uv_now(w->loop), next = UINT64_MAX;
    start_due(w, now);
    for (delivery *d = w->waiting; d; d = d->next)
        if (d->due_ms > now && d->due_ms < next)
            next = d->due_ms;
    if (next == UINT64_MAX)
        uv_timer_stop(&w->retry_timer);
    else
        uv_timer_start(&w->retry_timer, on_retry_timer, next - now, 0);
}

static void on_retry_timer(uv_timer_t *t)
{
    reschedule(t->data);
}

static void enqueue(vg_webhooks *w, delivery *d, uint64_t due_ms)
{
    d->due_ms = due_ms;
    d->next = NULL;
    delivery **pp = &w->waiting;
    while (*pp) /* FIFO among equals: append */
        pp = &(*pp)->next;
    *pp = d;
}

static uint64_t backoff_ms(const vg_webhooks *w, unsigned attempts)
{
    uint64_t ms = w->opts.backoff_ms;
    for (unsigned i = 1; i < attempts && ms < w->opts.backoff_max_ms; i++)
        ms *= 2;
    return ms < w->opts.backoff_max_ms ? ms : w->opts.backoff_max_ms;
}

static void finished(vg_webhooks *w, CURL *e, CURLcode res)
{
    const vg__curl_api *c = &w->curl;
    delivery *d = NULL;
    c->easy_getinfo(e, CURLINFO_PRIVATE, (char **)&d);
    long code = 0;
    c->easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    c->multi_remove_handle(w->multi, e);
    release_easy(d);
    for (delivery **pp = &w->active; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    w->nactive--;
    if (res == CURLE_OK && code >= 200 && code < 300) {
        w->stats.delivered++;
        w->stats.pending--;
        delivery_end(w, d, NULL);
        return;
    }
    char why[96];
    if (res != CURLE_OK)
        snprintf(why, sizeof(why), "%s", c->easy_strerror(res));
    else
        snprintf(why, sizeof(why), "HTTP status %ld", code);
    vg_debug("webhook %s: attempt %u failed: %s", d->ep->name, d->attempts, why);
    if (d->attempts >= w->opts.max_attempts)
        give_up(w, d, why);
    else
        enqueue(w, d, uv_now(w->loop) + backoff_ms(w, d->attempts));
}

static void check_done(vg_webhooks *w)
{
    CURLMsg *m;
    int left;
    while ((m = w->curl.multi_info_read(w->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            finished(w, m->easy_handle, m->data.result);
    reschedule(w);
}

/* ---- curl <-> libuv ----------------------------------------------------- */

static void on_curl_timer(uv_timer_t *t)
{
    vg_webhooks *w = t->data;
    int running;
    w->curl.multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(w);
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
    vg_webhooks *w = arg;
    if (timeout_ms < 0)
        uv_timer_stop(&w->curl_timer);
    else /* 0 means "now": the loop calls it on its next turn, not from here */
        uv_timer_start(&w->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock *s = p->data;
    vg_webhooks *w = s->w;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    w->curl.multi_socket_action(w->multi, s->fd, flags, &running);
    check_done(w);
}

static void free_sock(uv_handle_t *h)
{
    free(h->data);
}

static int curl_socket_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
    vg_webhooks *w = arg;
    sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, free_sock);
            w->curl.multi_assign(w->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return -1;
        s->fd = fd;
        s->w = w;
        if (uv_poll_init_socket(w->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        w->curl.multi_assign(w->multi, fd, s);
    }
    int events = (what == CURL_POLL_IN ? UV_READABLE : 0) |
                 (what == CURL_POLL_OUT ? UV_WRITABLE : 0) |
                 (what == CURL_POLL_INOUT ? UV_READABLE | UV_WRITABLE : 0);
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

/* ---- the public side ---------------------------------------------------- */

int vg_webhooks_new(uv_loop_t *loop, const vg_webhooks_opts *opts, vg_webhooks **out)
{
    vg_webhooks *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->loop = loop;
    if (opts)
        w->opts = *opts;
    vg_webhooks_opts *o = &w->opts;
    o->queue_max = o->queue_max ? o->queue_max : 1024;
    o->max_attempts = o->max_attempts ? o->max_attempts : 5;
    o->backoff_ms = o->backoff_ms ? o->backoff_ms : 1000;
    o->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : 60000;
    o->max_connections = o->max_connections ? o->max_connections : 8;
    uv_timer_init(loop, &w->curl_timer);
    uv_timer_init(loop, &w->retry_timer);
    w->curl_timer.data = w->retry_timer.data = w;
    w->open_handles = 2;
    *out = w;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    vg_webhooks *w = h->data;
    if (--w->open_handles == 0)
        free(w);
}

void vg_webhooks_close(vg_webhooks *w)
{
    if (!w)
        return;
    w->closing = true;
    /* Active transfers first: removing them makes curl drop their sockets
     * (CURL_POLL_REMOVE closes the polls). */
    while (w->waiting) {
        delivery *d = w->waiting;
        w->waiting = d->next;
        w->stats.failed++;
        delivery_free(d);
    }
    if (w->multi)
        w->curl.multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, NULL);
    while (w->active) {
        delivery *d = w->active;
        w->active = d->next;
        w->curl.multi_remove_handle(w->multi, d->easy);
        w->stats.failed++;
        delivery_free(d);
    }
    w->nactive = 0;
    w->stats.pending = 0;
    if (w->multi)
        w->curl.multi_cleanup(w->multi);
    w->multi = NULL;
    drop_endpoints(w);
    uv_close((uv_handle_t *)&w->curl_timer, on_timer_closed);
    uv_close((uv_handle_t *)&w->retry_timer, on_timer_closed);
}

/* Slack's incoming webhooks show "text": one line a person reads. */
static int slack_body(const msgpack_object *ev, msgpack_sbuffer *out)
{
    msgpack_sbuffer text, raw;
    msgpack_sbuffer_init(&text);
    msgpack_sbuffer_init(&raw);
    char head[512];
    const char *sev = "?", *type = "?", *group = "", *wl = "";
    size_t l;
    vg_mp_get_str(ev, "severity", &sev, &l);
    int n = snprintf(head, sizeof(head), "vigil: %.*s", (int)l, sev);
    l = 0;
    vg_mp_get_str(ev, "type", &type, &l);
    n += snprintf(head + n, sizeof(head) - (size_t)n, " %.*s", (int)l, type);
    l = 0;
    if (vg_mp_get_str(ev, "group", &group, &l) == 0 && l)
        n += snprintf(head + n, sizeof(head) - (size_t)n, " in group %.*s", (int)l, group);
    l = 0;
    /* wl is not NUL-terminated: it points into the event's msgpack. */
    if (vg_mp_get_str(ev, "workload", &wl, &l) == 0 && l)
        snprintf(head + n, sizeof(head) - (size_t)n, " (workload %.*s)", (int)(l < 12 ? l : 12),
                 wl);
    msgpack_sbuffer_write(&text, head, strlen(head));
    /* Then the whole event, so that nothing is lost to the summary. */
    msgpack_sbuffer_write(&text, ": ", 2);
    int rc = vg_json_write_sbuf(&text, ev);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &raw, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    vg_mp_pack_cstr(&pk, "text");
    msgpack_pack_str_with_body(&pk, text.data, text.size);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (rc == 0 && msgpack_unpack_next(&up, raw.data, raw.size, NULL) == MSGPACK_UNPACK_SUCCESS)
        rc = vg_json_write_sbuf(out, &up.data);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&text);
    msgpack_sbuffer_destroy(&raw);
    return rc < 0 ? -ENOMEM : 0;
}

static int send_from(vg_webhooks *w, const char *name, const msgpack_object *event,
                     struct origin *origin)
{
    if (!w || w->closing || !name || !event || event->type != MSGPACK_OBJECT_MAP)
        return -EINVAL;
    endpoint *ep = find_endpoint(w, name);
    if (!ep)
        return -ENOENT;
    if (w->stats.pending >= w->opts.queue_max) {
        w->stats.dropped++;
        return -ENOBUFS;
    }
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    int rc = ep->slack ? slack_body(event, &body) : vg_json_write_sbuf(&body, event);
    delivery *d = rc == 0 ? calloc(1, sizeof(*d)) : NULL;
    if (!d) {
        msgpack_sbuffer_destroy(&body);
        return -ENOMEM;
    }
    d->w = w;
    d->ep = ep;
    d->origin = origin;
    ep->refs++;
    d->len = body.size;
    d->body = msgpack_sbuffer_release(&body);
    w->stats.queued++;
    w->stats.pending++;
    enqueue(d->w, d, uv_now(w->loop));
    reschedule(w);
    return 0;
}

int vg_webhooks_send(vg_webhooks *w, const char *name, const msgpack_object *event)
{
    return send_from(w, name, event, NULL);
}

/* The origin of an action's delivery, from its arguments (policy_act.c)
 * and the event. NULL when out of memory (the result is then not told). */
static struct origin *origin_of(const msgpack_object *args, const msgpack_object *ev)
{
    char rule[256] = "", type[64] = "", group[VG_GROUP_MAX] = "", wl[VG_WORKLOAD_MAX] = "";
    vg_mp_get_cstr(args, "rule", rule, sizeof(rule));
    vg_mp_get_cstr(args, "group", group, sizeof(group));
    vg_mp_get_cstr(args, "workload", wl, sizeof(wl));
    vg_mp_get_cstr(ev, "type", type, sizeof(type));
    size_t lr = strlen(rule) + 1, lt = strlen(type) + 1, lg = strlen(group) + 1;
    struct origin *o = malloc(sizeof(*o) + lr + lt + lg + strlen(wl) + 1);
    if (!o)
        return NULL;
    o->event_id = 0;
    vg_mp_get_int(ev, "id", &o->event_id);
    o->rule = memcpy(o->text, rule, lr);
    o->event_type = memcpy(o->text + lr, type, lt);
    o->group = memcpy(o->text + lr + lt, group, lg);
    o->workload = strcpy(o->text + lr + lt + lg, wl);
    return o;
}

static int run_action(void *priv, const void *args, size_t len)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int rc = -EINVAL;
    char name[128];
    if (msgpack_unpack_next(&up, args, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        (vg_mp_get_cstr(&up.data, "endpoint", name, sizeof(name)) == 0 ||
         vg_mp_get_cstr(&up.data, "target", name, sizeof(name)) == 0)) {
        const msgpack_object *ev = vg_mp_get(&up.data, "event");
        struct origin *o = ev ? origin_of(&up.data, ev) : NULL;
        rc = ev ? send_from(priv, name, ev, o) : -EINVAL;
        if (rc < 0)
            free(o); /* else the delivery owns it, and tells how it ended */
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

int vg_webhooks_register(vg_webhooks *w, vg_actions *actions)
{
    vg_action_desc d = {.name = "webhook", .run = run_action, .priv = w};
    int rc = vg_actions_register(actions, "core", &d);
    return rc < 0 ? rc : vg_actions_set_deferred(actions, "webhook");
}

void vg_webhooks_stats_get(const vg_webhooks *w, vg_webhooks_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (w)
        *out = w->stats;
}

int vg_webhooks_pack_stats(const vg_webhooks *w, msgpack_packer *pk)
{
    vg_webhooks_stats s;
    vg_webhooks_stats_get(w, &s);
    msgpack_pack_map(pk, 8);
    vg_mp_pack_kv_uint(pk, "endpoints", w ? w->neps : 0);
    vg_mp_pack_kv_uint(pk, "queued", s.queued);
    vg_mp_pack_kv_uint(pk, "delivered", s.delivered);
    vg_mp_pack_kv_uint(pk, "attempts", s.attempts);
    vg_mp_pack_kv_uint(pk, "retries", s.retries);
    vg_mp_pack_kv_uint(pk, "failed", s.failed);
    vg_mp_pack_kv_uint(pk, "dropped", s.dropped);
    vg_mp_pack_kv_uint(pk, "pending", s.pending);
    return 0;
}
