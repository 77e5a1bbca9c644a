/*
 * Kubernetes Service external IPs for k8s-extip-mitm (CVE-2020-8554): with
 * plugins.net.k8s_api set, a thread of the plugin asks the API server for
 * GET /api/v1/services every k8s_poll_ms and hands every address named in
 * a Service's spec.externalIPs to each capture's engine, whose detector
 * reports a flow to one of them (plugins/net/threat/k8s.c).
 *
 *   k8s_api = "in-cluster"            https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
 *                                     with the pod's service account token and CA
 *   k8s_api = "https://10.0.0.1:6443" with k8s_token_file and k8s_ca_file
 *   k8s_api = "http://127.0.0.1:8001" (kubectl proxy)
 *
 * The token is read at each request (projected tokens rotate). libcurl is
 * loaded when the first request is made (lib/curl_load.h), so a daemon
 * without k8s_api never maps it. A failed request keeps the last list and
 * is logged once per distinct error. A kubeconfig file is not read.
 *
 * Threads: the fetch thread owns its curl handle; the list is under mu;
 * the loop thread (woken by an async handle) asks each capture to take
 * the new list (net_ns_call, on the thread serving it), and a capture that starts takes it
 * through net_threats_apply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include "capture_int.h"
#include "curl_load.h"
#include "net.h"

/* An error message into a caller's buffer; a long URL or path is cut. */
static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

#define EXTIPS_MAX 4096
#define BODY_MAX (32u << 20) /* a cluster's whole Service list */
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct net_k8s {
    net_plugin *p;
    char url[600], token_file[512], ca_file[512];
    int64_t poll_ms;
    pthread_t thread;
    int stop_fd;
    atomic_bool stopping; /* ends a request in flight */
    uv_async_t *async;
    pthread_mutex_t mu;
    uint8_t (*addrs)[16]; /* under mu */
    int *fams;
    size_t n;
    char last_error[256]; /* the fetch thread's */
};

struct body {
    char *data;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > BODY_MAX)
        return 0; /* curl fails the transfer */
    char *d = realloc(b->data, b->len + n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, ptr, n);
    b->data = d;
    b->len += n;
    d[b->len] = 0;
    return n;
}

/* curl's progress callback: a stop does not wait for the request's timeout. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&((struct net_k8s *)arg)->stopping) ? 1 : 0;
}

static int read_token(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        n--;
    out[n] = 0;
    return n ? 0 : -ENODATA;
}

/* The external IPs of a /api/v1/services answer into k's list form. */
static int parse(const char *json, uint8_t (*addrs)[16], int *fams, size_t *n, char *err,
                 size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(json, 0, &je);
    json_t *items = root ? json_object_get(root, "items") : NULL;
    if (!json_is_array(items)) {
        snprintf(err, errlen, "not a Service list: %s", root ? "no items" : je.text);
        json_decref(root);
        return -EINVAL;
    }
    size_t i, j;
    json_t *svc, *ip;
    *n = 0;
    json_array_foreach(items, i, svc)
    {
        json_t *ips = json_object_get(json_object_get(svc, "spec"), "externalIPs");
        json_array_foreach(ips, j, ip)
        {
            const char *s = json_string_value(ip);
            if (!s || *n == EXTIPS_MAX)
                continue;
            memset(addrs[*n], 0, 16);
            if (inet_pton(AF_INET, s, addrs[*n]) == 1)
                fams[(*n)++] = AF_INET;
            else if (inet_pton(AF_INET6, s, addrs[*n]) == 1)
                fams[(*n)++] = AF_INET6;
        }
    }
    json_decref(root);
    return 0;
}

/* One GET; the body (malloc()ed) or NULL with err. */
static char *get(struct net_k8s *k, const vg__curl_api *c, CURL *h, char *err, size_t errlen)
{
    char url[700], auth[4200] = "";
    snprintf(url, sizeof(url), "%s/api/v1/services", k->url);
    if (k->token_file[0]) {
        char tok[4096];
        int rc = read_token(k->token_file, tok, sizeof(tok));
        if (rc < 0) {
            say(err, errlen, "token %s: %s", k->token_file, strerror(-rc));
            return NULL;
        }
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
    }
    struct curl_slist *hdrs = c->slist_append(NULL, "Accept: application/json");
    if (auth[0])
        hdrs = c->slist_append(hdrs, auth);
    struct body b = {0};
    c->easy_setopt(h, CURLOPT_URL, url);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    c->easy_setopt(h, CURLOPT_WRITEDATA, &b);
    c->easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    c->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    c->easy_setopt(h, CURLOPT_XFERINFODATA, k);
    c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (k->ca_file[0])
        c->easy_setopt(h, CURLOPT_CAINFO, k->ca_file);
    CURLcode rc = c->easy_perform(h);
    long status = 0;
    c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    c->slist_free_all(hdrs);
    if (rc != CURLE_OK || status != 200 || !b.data) {
        if (rc != CURLE_OK)
            say(err, errlen, "%s: %s", url, c->easy_strerror(rc));
        else
            say(err, errlen, "%s: HTTP %ld", url, status);
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* Replaces the list when it changed and wakes the loop. */
static void publish(struct net_k8s *k, uint8_t (*addrs)[16], int *fams, size_t n)
{
    pthread_mutex_lock(&k->mu);
    int same =
        n == k->n && !memcmp(addrs, k->addrs, n * 16) && !memcmp(fams, k->fams, n * sizeof(int));
    if (!same) {
        memcpy(k->addrs, addrs, n * 16);
        memcpy(k->fams, fams, n * sizeof(int));
        k->n = n;
    }
    pthread_mutex_unlock(&k->mu);
    if (!same) {
        k->p->api->log(k->p->h, VG_LOG_INFO, "k8s: %zu Service external IPs from %s", n, k->url);
        uv_async_send(k->async);
    }
}

static void fetch_once(struct net_k8s *k, const vg__curl_api *c, CURL *h, uint8_t (*addrs)[16],
                       int *fams)
{
    char err[256] = "";
    size_t n = 0;
    char *body = get(k, c, h, err, sizeof(err));
    if (body && parse(body, addrs, fams, &n, err, sizeof(err)) == 0) {
        publish(k, addrs, fams, n);
        k->last_error[0] = 0;
    } else if (strcmp(err, k->last_error) != 0) {
        k->p->api->log(k->p->h, VG_LOG_WARN,
                       "k8s: the Service list was not read (%s); the last "
                       "one stays",
                       err);
        snprintf(k->last_error, sizeof(k->last_error), "%s", err);
    }
    free(body);
}

static void *run(void *arg)
{
    struct net_k8s *k = arg;
    vg__curl_api c;
    char err[300];
    if (vg__curl_load(NULL, &c, err, sizeof(err)) < 0) {
        k->p->api->log(k->p->h, VG_LOG_WARN,
                       "k8s: %s; Service external IPs are not fetched (Debian: libcurl4)", err);
        return NULL;
    }
    CURL *h = c.easy_init();
    uint8_t(*addrs)[16] = calloc(EXTIPS_MAX, 16);
    int *fams = calloc(EXTIPS_MAX, sizeof(int));
    struct pollfd pfd = {.fd = k->stop_fd, .events = POLLIN};
    while (h && addrs && fams) {
        fetch_once(k, &c, h, addrs, fams);
        if (poll(&pfd, 1, (int)k->poll_ms) != 0)
            break; /* stop, or a poll error */
    }
    if (h)
        c.easy_cleanup(h);
    free(addrs);
    free(fams);
    return NULL;
}

void net_k8s_apply(net_plugin *p, vg_net_engine *e)
{
    struct net_k8s *k = p->k8s;
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    vg_net_threat_extips(e, (const uint8_t(*)[16])k->addrs, k->fams, k->n);
    pthread_mutex_unlock(&k->mu);
}

static int apply_in(net_ctx *cx, void *arg)
{
    (void)arg;
    net_k8s_apply(cx->p, cx->eng);
    return 0;
}

static void on_async(uv_async_t *a)
{
    net_plugin *p = a->data;
    for (net_ns *ns = p->nss; ns; ns = net_ns_next(ns))
        net_ns_call(ns, apply_in, NULL, 2000);
}

/* The base URL, token and CA of the settings; 0, or -EINVAL with msg. */
static int endpoint(const net_config *cfg, struct net_k8s *k, char *msg, size_t msglen)
{
    const char *token = cfg->k8s_token_file, *ca = cfg->k8s_ca_file;
    if (!strcmp(cfg->k8s_api, "in-cluster")) {
        const char *host = getenv("KUBERNETES_SERVICE_HOST"),
                   *port = getenv("KUBERNETES_SERVICE_PORT");
        if (!host || !*host) {
            snprintf(msg, msglen, "in-cluster, but KUBERNETES_SERVICE_HOST is not set");
            return -EINVAL;
        }
        snprintf(k->url, sizeof(k->url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
                 host, port && *port ? port : "443");
        token = *token ? token : SA_DIR "/token";
        ca = *ca ? ca : SA_DIR "/ca.crt";
    } else if (!strncmp(cfg->k8s_api, "http://", 7) || !strncmp(cfg->k8s_api, "https://", 8)) {
        snprintf(k->url, sizeof(k->url), "%s", cfg->k8s_api);
        size_t n = strlen(k->url);
        while (n && k->url[n - 1] == '/')
            k->url[--n] = 0;
    } else {
        say(msg, msglen, "'%s' is neither \"in-cluster\" nor an http(s) URL", cfg->k8s_api);
        return -EINVAL;
    }
    snprintf(k->token_file, sizeof(k->token_file), "%s", token);
    snprintf(k->ca_file, sizeof(k->ca_file), "%s", ca);
    return 0;
}

int net_k8s_config(net_plugin *p, net_config *c)
{
    const vg_host_api *api = p->api;
    struct {
        const char *key;
        char *buf;
        size_t size;
    } strs[] = {{"k8s_api", c->k8s_api, sizeof(c->k8s_api)},
                {"k8s_token_file", c->k8s_token_file, sizeof(c->k8s_token_file)},
                {"k8s_ca_file", c->k8s_ca_file, sizeof(c->k8s_ca_file)}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        const char *s;
        int rc = api->config_string(p->h, strs[i].key, &s);
        if (rc == -EINVAL || (rc == 0 && strlen(s) >= strs[i].size)) {
            api->log(p->h, VG_LOG_ERR, "plugins.net.%s must be a string shorter than %zu bytes",
                     strs[i].key, strs[i].size);
            return -EINVAL;
        }
        if (rc == 0)
            snprintf(strs[i].buf, strs[i].size, "%s", s);
    }
    c->k8s_poll_ms = 60000;
    if (api->config_int(p->h, "k8s_poll_ms", &c->k8s_poll_ms) == -EINVAL || c->k8s_poll_ms < 100 ||
        c->k8s_poll_ms > 86400000) {
        api->log(p->h, VG_LOG_ERR,
                 "plugins.net.k8s_poll_ms must be an integer from 100 to 86400000");
        return -EINVAL;
    }
    struct net_k8s k;
    char msg[200];
    if (c->k8s_api[0] && endpoint(c, &k, msg, sizeof(msg)) < 0) {
        api->log(p->h, VG_LOG_ERR, "plugins.net.k8s_api: %s", msg);
        return -EINVAL;
    }
    return 0;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

void net_k8s_start(net_plugin *p)
{
    char msg[200];
    if (!p->cfg.k8s_api[0] || p->k8s)
        return;
    struct net_k8s *k = calloc(1, sizeof(*k));
    if (!k)
        return;
    k->p = p;
    k->poll_ms = p->cfg.k8s_poll_ms;
    k->addrs = calloc(EXTIPS_MAX, 16);
    k->fams = calloc(EXTIPS_MAX, sizeof(int));
    k->async = calloc(1, sizeof(*k->async));
    k->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (endpoint(&p->cfg, k, msg, sizeof(msg)) < 0 || !k->addrs || !k->fams || !k->async ||
        k->stop_fd < 0) {
        p->api->log(p->h, VG_LOG_WARN, "k8s: %s", k->async ? msg : "out of memory");
        goto fail;
    }
    pthread_mutex_init(&k->mu, NULL);
    uv_async_init(p->api->loop(p->h), k->async, on_async);
    k->async->data = p;
    p->k8s = k;
    if (pthread_create(&k->thread, NULL, run, k) != 0) {
        p->api->log(p->h, VG_LOG_WARN, "k8s: cannot start the fetch thread");
        p->k8s = NULL;
        uv_close((uv_handle_t *)k->async, free_handle);
        k->async = NULL;
        pthread_mutex_destroy(&k->mu);
        goto fail;
    }
    return;
fail:
    if (k->stop_fd >= 0)
        close(k->stop_fd);
    free(k->async);
    free(k->addrs);
    free(k->fams);
    free(k);
}

void net_k8s_stop(net_plugin *p)
{
    struct net_k8s *k = p->k8s;
    if (!k)
        return;
    uint64_t one = 1;
    atomic_store(&k->stopping, true);
    if (write(k->stop_fd, &one, sizeof(one)) < 0)
        p->api->log(p->h, VG_LOG_WARN, "k8s: cannot wake the fetch thread: %s", strerror(errno));
    pthread_join(k->thread, NULL);
    p->k8s = NULL;
    close(k->stop_fd);
    uv_close((uv_handle_t *)k->async, free_handle);
    pthread_mutex_destroy(&k->mu);
    free(k->addrs);
    free(k->fams);
    free(k);
}
