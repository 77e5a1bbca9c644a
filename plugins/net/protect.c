/*
 * Protect mode and quarantine, enforced in the kernel (enforce.c holds the
 * BPF objects; docs/net.md "Protect mode" is the user's page).
 *
 * What a protected workload may connect to, and accept connections from,
 * is computed here, every resync (100 ms while anything is enforced, 1 s
 * while nothing is, and at once when the workloads or a group's mode
 * change), from:
 *  - the connections its group was seen making or accepting (net.connect,
 *    net.accept, and the kernel's own denials; kept in the plugin's store
 *    so that a restarted daemon has them before any traffic), each asked of
 *    the rules with api->decide: an allowed one becomes (peer address, port,
 *    proto) keys, a peer group resolved to its workloads' addresses (the
 *    address table of the captures), a DNS name to the addresses the
 *    group's own DNS answers gave it while they last (dnsnames.h), a named
 *    network to its prefix (an LPM map);
 *  - every address of a workload whose group does not protect (the
 *    effective mode of a pair is the less restrictive one: docs/net.md).
 * A rule the host cannot be asked about without a subject (a rule written
 * for a connection never seen) is not in the map: see docs/net.md.
 *
 * Denials come back from the kernel's ring buffer and are published as
 * net.violation with action "deny", at most once per (workload, peer, port)
 * per interval_ms, with the count of those held back.
 *
 * Quarantine (the "quarantine" action, `vigilctl quarantine`) attaches the
 * drop-everything programs; the quarantined workloads are kept in the store
 * ("quarantine" table) and attached again after a restart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "dnsnames.h"
#include "enforce.h"
#include "net.h"

#define CAND_MAX 4096
#define QUAR_MAX 256
#define RATE_MAX 1024
#define KEYS_MAX VG_ENF_ALLOW_MAX
#define WL_MAX 1024
#define RESYNC_MS 100
/* With no workload protected or quarantined there is nothing to keep up to
 * date, only a mode that changed without a group.mode event to notice. */
#define RESYNC_IDLE_MS 1000

typedef struct cand {
    char dir[8]; /* "egress" or "ingress" */
    char group[VG_GROUP_MAX], peer[NET_PEER_MAX], kind[16], port[8], proto[8], app[32];
} cand;

typedef struct rate {
    char workload[VG_WORKLOAD_MAX];
    bool ingress;
    struct vg_enf_key key;
    uint64_t last_us, held;
} rate;

typedef struct wl_seen {
    char id[VG_WORKLOAD_MAX], group[VG_GROUP_MAX];
    int mode, pid;
} wl_seen;

struct net_protect {
    net_plugin *p;
    net_enf *enf;
    bool enforce, open_on_stop;
    int t_violation;
    cand *c;
    size_t nc;
    bool cand_dirty;
    size_t evict; /* where the search for a denial's candidate to replace goes on */
    char quar[QUAR_MAX][VG_WORKLOAD_MAX];
    size_t nq;
    char *prev;     /* the workloads the last daemon enforced, one per line */
    char *enforced; /* those this one enforces, as last stored */
    rate rates[RATE_MAX];
    wl_seen *wl;
    size_t nwl, capwl;
    char warned[64][VG_WORKLOAD_MAX + 260]; /* "id\terror" logged already */
    size_t nwarned;
    uv_timer_t *timer;
    uint64_t started_us;
    bool ready;  /* the captures have listed their addresses (or 3 s passed) */
    bool active; /* a workload protected or quarantined at the last resync */
    struct vg_enf_key keys[KEYS_MAX], keys_in[KEYS_MAX];
    struct vg_enf_net nets[VG_ENF_NET_MAX], nets_in[VG_ENF_NET_MAX];
    __u64 dns_names[VG_ENF_DNS_MAX];
    struct vg_enf_dns dns_rules[VG_ENF_DNS_MAX];
    uv_async_t *dns_seen; /* a capture saw a new answer: resync at once */
};

/* ---- the store ------------------------------------------------------------ */

/* Candidates as one blob: one line per candidate, fields split by \t. */
#define CAND_FIELDS 7
static void cand_save(struct net_protect *x)
{
    size_t size = x->nc * sizeof(cand) + 1, len = 0;
    char *buf = malloc(size);
    if (!buf)
        return;
    for (size_t i = 0; i < x->nc; i++) {
        const cand *c = &x->c[i];
        len += (size_t)snprintf(buf + len, size - len, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c->dir,
                                c->group, c->peer, c->kind, c->port, c->proto, c->app);
    }
    x->p->api->store_put(x->p->h, "protect", "egress", 6, buf, len);
    free(buf);
    x->cand_dirty = false;
}

static void cand_load(struct net_protect *x)
{
    void *v = NULL;
    size_t len = 0;
    if (x->p->api->store_get(x->p->h, "protect", "egress", 6, &v, &len) < 0)
        return;
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, v, len);
        s[len] = '\0';
        char *save = NULL;
        for (char *ln = strtok_r(s, "\n", &save); ln && x->nc < CAND_MAX;
             ln = strtok_r(NULL, "\n", &save)) {
            cand *c = &x->c[x->nc];
            char *f[CAND_FIELDS], *fs = NULL;
            int k = 0;
            for (char *t = strtok_r(ln, "\t", &fs); t && k < CAND_FIELDS;
                 t = strtok_r(NULL, "\t", &fs))
                f[k++] = t;
            if (k != CAND_FIELDS)
                continue;
            snprintf(c->dir, sizeof(c->dir), "%s", f[0]);
            snprintf(c->group, sizeof(c->group), "%s", f[1]);
            snprintf(c->peer, sizeof(c->peer), "%s", f[2]);
            snprintf(c->kind, sizeof(c->kind), "%s", f[3]);
            snprintf(c->port, sizeof(c->port), "%s", f[4]);
            snprintf(c->proto, sizeof(c->proto), "%s", f[5]);
            snprintf(c->app, sizeof(c->app), "%s", f[6]);
            x->nc++;
        }
    }
    free(s);
    free(v);
}

static void quar_save(struct net_protect *x)
{
    char buf[QUAR_MAX * VG_WORKLOAD_MAX];
    size_t len = 0;
    for (size_t i = 0; i < x->nq; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n", x->quar[i]);
    if (len)
        x->p->api->store_put(x->p->h, "quarantine", "workloads", 9, buf, len);
    else
        x->p->api->store_del(x->p->h, "quarantine", "workloads", 9);
}

static void quar_load(struct net_protect *x)
{
    void *v = NULL;
    size_t len = 0;
    if (x->p->api->store_get(x->p->h, "quarantine", "workloads", 9, &v, &len) < 0)
        return;
    size_t i = 0;
    const char *s = v;
    while (i < len && x->nq < QUAR_MAX) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (s + i)) : len - i;
        if (n > 0 && n < VG_WORKLOAD_MAX) {
            memcpy(x->quar[x->nq], s + i, n);
            x->quar[x->nq++][n] = '\0';
        }
        i += n + 1;
    }
    free(v);
}

/* Whether id is a line of list. */
static bool listed(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *s = list; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len == n && !memcmp(s, id, n))
            return true;
        s += len + (nl != NULL);
    }
    return false;
}

static char *stored_list(struct net_protect *x, const char *key)
{
    void *v = NULL;
    size_t len = 0;
    if (x->p->api->store_get(x->p->h, "protect", key, strlen(key), &v, &len) < 0)
        return NULL;
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, v, len);
        s[len] = '\0';
    }
    free(v);
    return s;
}

static bool quarantined(const struct net_protect *x, const char *id)
{
    for (size_t i = 0; i < x->nq; i++)
        if (!strcmp(x->quar[i], id))
            return true;
    return false;
}

/* ---- candidates, from the group's own egress events ------------------------ */

static void cand_add(struct net_protect *x, const cand *c)
{
    if (strcmp(c->kind, "address") != 0 && strcmp(c->kind, "group") != 0 &&
        strcmp(c->kind, "dns") != 0 && strcmp(c->kind, "network") != 0)
        return;
    for (size_t i = 0; i < x->nc; i++)
        if (!strcmp(x->c[i].dir, c->dir) && !strcmp(x->c[i].group, c->group) &&
            !strcmp(x->c[i].peer, c->peer) && !strcmp(x->c[i].port, c->port) &&
            !strcmp(x->c[i].proto, c->proto) && !strcmp(x->c[i].app, c->app))
            return;
    if (x->nc < CAND_MAX) {
        x->c[x->nc++] = *c;
        x->cand_dirty = true;
        return;
    }
    /* Full: the candidates that came from denials (app "*": a workload
     * scanning ports makes many) give way, the oldest first, so that they
     * cannot crowd out connections seen. */
    for (size_t n = 0; n < CAND_MAX; n++) {
        size_t i = (x->evict + n) % CAND_MAX;
        if (!strcmp(x->c[i].app, "*")) {
            x->c[i] = *c;
            x->evict = i + 1;
            x->cand_dirty = true;
            return;
        }
    }
}

static void on_connect(void *arg, const void *rec, size_t len)
{
    struct net_protect *x = arg;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, rec, len, NULL) != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&u);
        return;
    }
    cand c;
    const msgpack_object *m = &u.data;
    bool ok = net_mp_str(m, "direction", c.dir, sizeof(c.dir)) == 0 &&
              (!strcmp(c.dir, "egress") || !strcmp(c.dir, "ingress")) &&
              net_mp_str(m, "group", c.group, sizeof(c.group)) == 0 && c.group[0] &&
              net_mp_str(m, "peer", c.peer, sizeof(c.peer)) == 0 &&
              net_mp_str(m, "peer_kind", c.kind, sizeof(c.kind)) == 0 &&
              net_mp_str(m, "port", c.port, sizeof(c.port)) == 0 &&
              net_mp_str(m, "proto", c.proto, sizeof(c.proto)) == 0 &&
              net_mp_str(m, "app", c.app, sizeof(c.app)) == 0 &&
              (!strcmp(c.proto, "tcp") || !strcmp(c.proto, "udp"));
    msgpack_unpacked_destroy(&u);
    if (ok)
        cand_add(x, &c);
}

/* ---- the keys of one protected workload -------------------------------------- */

static size_t add_addrs(struct vg_enf_key *k, size_t n, const int *fam, const uint8_t (*a)[16],
                        size_t na, uint8_t proto, uint16_t port)
{
    for (size_t i = 0; i < na && n < KEYS_MAX; i++) {
        struct vg_enf_key *e = &k[n++];
        memset(e, 0, sizeof(*e));
        e->family = fam[i] == AF_INET ? VG_ENF_V4 : VG_ENF_V6;
        e->proto = proto;
        e->port = port;
        memcpy(e->addr, a[i], fam[i] == AF_INET ? 4 : 16);
    }
    return n;
}

/* The named network name as an LPM key into nk[*nn] (a network the config
 * no longer has: nothing). */
static void add_network(const net_config *cfg, const char *name, uint8_t proto, uint16_t port,
                        struct vg_enf_net *nk, size_t *nn)
{
    for (size_t i = 0; i < cfg->nnetworks && *nn < VG_ENF_NET_MAX; i++) {
        const net_network *nw = &cfg->networks[i];
        if (strcmp(nw->name, name) != 0)
            continue;
        struct vg_enf_net *e = &nk[(*nn)++];
        memset(e, 0, sizeof(*e));
        e->prefixlen = 32 + (uint32_t)nw->prefix;
        e->proto = proto;
        e->family = nw->family == AF_INET ? VG_ENF_V4 : VG_ENF_V6;
        e->port = port;
        memcpy(e->addr, nw->addr, nw->family == AF_INET ? 4 : 16);
    }
}

/* The keys of workload w in direction dir ("egress": destinations;
 * "ingress": peers and local ports) into k[0..*n) (addresses) and
 * nk[0..*nn) (named networks). A peer named by DNS is the addresses the
 * group's own DNS answers gave it, while they last (dnsnames.h). */
static void keys_of(struct net_protect *x, const wl_seen *w, const char *dir, struct vg_enf_key *k,
                    size_t *np, struct vg_enf_net *nk, size_t *nn)
{
    net_plugin *p = x->p;
    size_t n = 0;
    uint64_t now = net_now_us();
    *nn = 0;
    int fam[NET_ADDRS_MAX];
    uint8_t addrs[NET_ADDRS_MAX][16];
    for (size_t i = 0; i < x->nc && n < KEYS_MAX; i++) {
        const cand *c = &x->c[i];
        if (strcmp(c->group, w->group) != 0 || strcmp(c->dir, dir) != 0)
            continue;
        vg_subject s = {.plane = VG_PLANE_NET,
                        .group = w->group,
                        .net = {.direction = dir,
                                .peer = c->peer,
                                .port = atoi(c->port),
                                .proto = c->proto,
                                .app = c->app}};
        if (p->api->decide(p->h, &s) != VG_DECIDE_ALLOW)
            continue;
        uint8_t proto = !strcmp(c->proto, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
        uint16_t port = (uint16_t)atoi(c->port);
        size_t na = 0;
        if (!strcmp(c->kind, "group")) {
            na = net_peers_of_group(p->peers, c->peer, fam, addrs, NET_ADDRS_MAX);
        } else if (!strcmp(c->kind, "dns")) {
            na = net_dnsnames_addrs(p->dnsnames, w->group, c->peer, now, fam, addrs, NET_ADDRS_MAX);
        } else if (!strcmp(c->kind, "network")) {
            add_network(&p->cfg, c->peer, proto, port, nk, nn);
        } else if (inet_pton(AF_INET, c->peer, addrs[0]) == 1) {
            fam[0] = AF_INET;
            na = 1;
        } else if (inet_pton(AF_INET6, c->peer, addrs[0]) == 1) {
            fam[0] = AF_INET6;
            na = 1;
        }
        n = add_addrs(k, n, fam, addrs, na, proto, port);
    }
    /* Peers whose group does not protect: the pair's mode is theirs. */
    for (size_t i = 0; i < x->nwl && n < KEYS_MAX; i++) {
        if (x->wl[i].mode == VG_MODE_PROTECT || !strcmp(x->wl[i].group, w->group))
            continue;
        size_t na = net_peers_of_workload(p->peers, x->wl[i].id, fam, addrs, NET_ADDRS_MAX);
        n = add_addrs(k, n, fam, addrs, na, 0, 0);
    }
    *np = n;
}

/* The DNS names the allowed egress rules of w's group name, with their
 * (port, proto), for the kernel to read their answers (enforce.bpf.c):
 * into x->dns_names / dns_rules, returns how many. */
static size_t dns_rules_of(struct net_protect *x, const wl_seen *w)
{
    size_t n = 0;
    for (size_t i = 0; i < x->nc; i++) {
        const cand *c = &x->c[i];
        if (strcmp(c->kind, "dns") != 0 || strcmp(c->dir, "egress") != 0 ||
            strcmp(c->group, w->group) != 0)
            continue;
        vg_subject s = {.plane = VG_PLANE_NET,
                        .group = w->group,
                        .net = {.direction = c->dir,
                                .peer = c->peer,
                                .port = atoi(c->port),
                                .proto = c->proto,
                                .app = c->app}};
        uint64_t h = net_dns_wire_hash(c->peer);
        if (!h || x->p->api->decide(x->p->h, &s) != VG_DECIDE_ALLOW)
            continue;
        size_t j = 0;
        while (j < n && x->dns_names[j] != h)
            j++;
        if (j == n) {
            if (n == VG_ENF_DNS_MAX)
                continue;
            x->dns_names[n] = h;
            memset(&x->dns_rules[n++], 0, sizeof(x->dns_rules[0]));
        }
        struct vg_enf_dns *r = &x->dns_rules[j];
        uint8_t proto = !strcmp(c->proto, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
        uint16_t port = (uint16_t)atoi(c->port);
        for (int k = 0; k < VG_ENF_DNS_PORTS; k++)
            if (!r->proto[k] || (r->proto[k] == proto && r->port[k] == port)) {
                r->proto[k] = proto;
                r->port[k] = port;
                break;
            }
    }
    return n;
}

/* ---- resync ------------------------------------------------------------------- */

static void collect(void *arg, const vg_workload_view *w)
{
    struct net_protect *x = arg;
    if (!w->id[0] || w->pid <= 0)
        return;
    if (x->nwl == x->capwl) {
        size_t cap = x->capwl ? x->capwl * 2 : 64;
        void *v = cap <= WL_MAX ? realloc(x->wl, cap * sizeof(*x->wl)) : NULL;
        if (!v)
            return;
        x->wl = v;
        x->capwl = cap;
    }
    wl_seen *s = &x->wl[x->nwl++];
    snprintf(s->id, sizeof(s->id), "%s", w->id);
    snprintf(s->group, sizeof(s->group), "%s", w->group);
    s->mode = w->mode;
    s->pid = w->pid;
}

/* Logs an enforcement error once per (workload, message). */
static void warn_once(struct net_protect *x, const char *id, const char *err)
{
    char key[sizeof(x->warned[0])];
    snprintf(key, sizeof(key), "%s\t%.255s", id, err);
    for (size_t i = 0; i < x->nwarned; i++)
        if (!strcmp(x->warned[i], key))
            return;
    memcpy(x->warned[x->nwarned++ % 64], key, sizeof(key));
    if (x->nwarned > 64)
        x->nwarned = 64;
    x->p->api->log(x->p->h, VG_LOG_WARN, "%s: not enforced: %s", id, err);
}

static void on_timer(uv_timer_t *t);

static void resync(struct net_protect *x)
{
    x->nwl = 0;
    x->p->api->workloads_each(x->p->h, collect, x);
    const char **ids = calloc(x->nwl ? x->nwl : 1, sizeof(*ids));
    bool active = false;
    msgpack_sbuffer now;
    msgpack_sbuffer_init(&now);
    for (size_t i = 0; i < x->nwl; i++) {
        const wl_seen *w = &x->wl[i];
        bool protect = x->enforce && w->mode == VG_MODE_PROTECT;
        bool quar = quarantined(x, w->id);
        net_enf_keys k = {x->keys,      x->keys_in,   0, 0, x->nets, x->nets_in, 0, 0,
                          x->dns_names, x->dns_rules, 0};
        if (protect) {
            keys_of(x, w, "egress", x->keys, &k.n_out, x->nets, &k.n_net_out);
            keys_of(x, w, "ingress", x->keys_in, &k.n_in, x->nets_in, &k.n_net_in);
            k.n_dns = dns_rules_of(x, w);
        }
        char err[256];
        bool mine = protect || quar || listed(x->prev, w->id);
        active |= protect || quar;
        int rc = net_enf_apply(x->enf, w->id, w->pid, protect, &k, quar, mine, err, sizeof(err));
        if (rc == 0 && (protect || quar)) {
            msgpack_sbuffer_write(&now, w->id, strlen(w->id));
            msgpack_sbuffer_write(&now, "\n", 1);
        }
        if (rc < 0 && (protect || quar))
            warn_once(x, w->id, err);
        if (ids)
            ids[i] = w->id;
    }
    if (ids)
        net_enf_keep(x->enf, ids, x->nwl);
    free(ids);
    /* What this daemon enforces, for the next one's clean-up. */
    msgpack_sbuffer_write(&now, "", 1);
    if (now.data && (!x->enforced || strcmp(x->enforced, now.data) != 0)) {
        if (now.size > 1)
            x->p->api->store_put(x->p->h, "protect", "enforced", 8, now.data, now.size - 1);
        else
            x->p->api->store_del(x->p->h, "protect", "enforced", 8);
        free(x->enforced);
        x->enforced = strdup(now.data);
    }
    msgpack_sbuffer_destroy(&now);
    if (x->cand_dirty)
        cand_save(x);
    /* The quick pace from now on, not from the next idle tick. */
    if (x->timer && active && !x->active)
        uv_timer_start(x->timer, on_timer, RESYNC_MS, RESYNC_MS);
    else if (x->timer && !active)
        uv_timer_set_repeat(x->timer, RESYNC_IDLE_MS);
    x->active = active;
}

/*
 * Peers that are groups are resolved through the captures' address table,
 * which each capture fills when it has listed its namespace's interfaces.
 * Until every capture has (at most 3 s), the maps are not built: after a
 * restart the programs the last daemon left keep enforcing with their maps
 * meanwhile, rather than new ones that would refuse a peer not yet listed.
 */
static bool ready(struct net_protect *x)
{
    if (x->ready)
        return true;
    bool all = true;
    for (net_ns *ns = x->p->nss; ns && all; ns = net_ns_next(ns)) {
        net_ns_stats st;
        net_ns_stats_get(ns, &st);
        all = st.interfaces > 0;
    }
    x->ready = all || net_now_us() - x->started_us > 3000000;
    return x->ready;
}

static void on_timer(uv_timer_t *t)
{
    if (ready(t->data))
        resync(t->data);
}

/* A group's mode changed: protect mode begins (or ends) at once. */
static void on_mode(void *arg, const void *rec, size_t len)
{
    (void)rec;
    (void)len;
    struct net_protect *x = arg;
    if (x->enf && ready(x))
        resync(x);
}

void net_protect_sync(net_plugin *p)
{
    if (p->protect && p->protect->enf && ready(p->protect))
        resync(p->protect);
}

/* ---- denials ------------------------------------------------------------------- */

static const wl_seen *wl_by_id(const struct net_protect *x, const char *id)
{
    for (size_t i = 0; i < x->nwl; i++)
        if (!strcmp(x->wl[i].id, id))
            return &x->wl[i];
    return NULL;
}

/* Whether to report now; *held: the denials of the key held back since. */
static bool rate_ok(struct net_protect *x, const char *workload, const struct vg_enf_key *k,
                    bool ingress, uint64_t *held)
{
    uint64_t now = net_now_us(), every = (uint64_t)x->p->cfg.interval_ms * 1000;
    rate *oldest = &x->rates[0];
    for (size_t i = 0; i < RATE_MAX; i++) {
        rate *r = &x->rates[i];
        if (!strcmp(r->workload, workload) && r->ingress == ingress &&
            !memcmp(&r->key, k, sizeof(*k))) {
            if (now - r->last_us < every) {
                r->held++;
                return false;
            }
            *held = r->held;
            r->held = 0;
            r->last_us = now;
            return true;
        }
        if (r->last_us < oldest->last_us)
            oldest = r;
    }
    snprintf(oldest->workload, sizeof(oldest->workload), "%s", workload);
    oldest->key = *k;
    oldest->ingress = ingress;
    oldest->last_us = now;
    oldest->held = 0;
    *held = 0;
    return true;
}

/* The peer of a denial named as the capture names it (conns.c): the group
 * of a workload's address, a named network, a name the group's DNS
 * answers gave it, else its address. Returns the peer_kind. */
static const char *peer_name(net_plugin *p, const char *group, int fam, const uint8_t *addr,
                             const char *ip, char out[NET_PEER_MAX])
{
    char g[VG_GROUP_MAX];
    const net_network *nw;
    if (net_peers_group(p->peers, fam, addr, g, NULL) == 0) {
        snprintf(out, NET_PEER_MAX, "%s", g);
        return "group";
    }
    if ((nw = net_network_of(&p->cfg, fam, addr))) {
        snprintf(out, NET_PEER_MAX, "%s", nw->name);
        return "network";
    }
    if (net_dnsnames_name(p->dnsnames, group, fam, addr, net_now_us(), out, NET_PEER_MAX) == 0)
        return "dns";
    snprintf(out, NET_PEER_MAX, "%s", ip);
    return "address";
}

static void on_denial(void *arg, const char *workload, const struct vg_enf_key *k, bool ingress)
{
    struct net_protect *x = arg;
    net_plugin *p = x->p;
    uint64_t held = 0;
    const char *dir = ingress ? "ingress" : "egress";
    if (!rate_ok(x, workload, k, ingress, &held))
        return;
    const wl_seen *w = wl_by_id(x, workload);
    int fam = k->family == VG_ENF_V4 ? AF_INET : AF_INET6;
    char ip[INET6_ADDRSTRLEN] = "", peer[NET_PEER_MAX], port[8];
    inet_ntop(fam, k->addr, ip, sizeof(ip));
    const char *kind = peer_name(p, w ? w->group : "", fam, k->addr, ip, peer);
    snprintf(port, sizeof(port), "%u", k->port);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 11);
    net_kv_str(&pk, "action", "deny");
    net_kv_str(&pk, "event_type", ingress ? "net.accept" : "net.connect");
    net_kv_str(&pk, "direction", dir);
    net_kv_str(&pk, "peer", peer);
    net_kv_str(&pk, "peer_kind", kind);
    net_kv_str(&pk, "peer_ip", ip);
    net_kv_str(&pk, "port", port);
    net_kv_str(&pk, "proto", k->proto == IPPROTO_TCP ? "tcp" : "udp");
    net_kv_str(&pk, "app", "unknown");
    net_kv_str(&pk, "enforced_by", "kernel");
    net_kv_int(&pk, "held_back", (int64_t)held);
    /* A connection refused before any packet: a rule written for it (any
     * application) opens it at the next resync. */
    if (w) {
        cand c;
        snprintf(c.dir, sizeof(c.dir), "%s", dir);
        snprintf(c.group, sizeof(c.group), "%s", w->group);
        snprintf(c.peer, sizeof(c.peer), "%s", peer);
        snprintf(c.kind, sizeof(c.kind), "%s", kind);
        snprintf(c.port, sizeof(c.port), "%s", port);
        snprintf(c.proto, sizeof(c.proto), "%s", k->proto == IPPROTO_TCP ? "tcp" : "udp");
        snprintf(c.app, sizeof(c.app), "*");
        cand_add(x, &c);
    }
    vg_event_in ev = {.type = x->t_violation,
                      .severity = VG_SEV_WARNING,
                      .workload = workload,
                      .group = w ? w->group : "",
                      .body = sb.data,
                      .body_len = sb.size};
    p->api->publish(p->h, &ev);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- quarantine ------------------------------------------------------------------ */

static int quarantine_set(struct net_protect *x, const char *id, bool on)
{
    size_t i = 0;
    while (i < x->nq && strcmp(x->quar[i], id) != 0)
        i++;
    if (on && i == x->nq) {
        if (x->nq == QUAR_MAX)
            return -ENOSPC;
        snprintf(x->quar[x->nq++], VG_WORKLOAD_MAX, "%s", id);
    } else if (!on && i < x->nq) {
        memmove(x->quar[i], x->quar[i + 1], (x->nq - i - 1) * sizeof(x->quar[0]));
        x->nq--;
    }
    quar_save(x);
    resync(x);
    return 0;
}

/* The response action: args {"workload": id, ...}. */
static int action_quarantine(void *priv, const void *args, size_t len)
{
    struct net_protect *x = priv;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char id[VG_WORKLOAD_MAX] = "";
    if (msgpack_unpack_next(&u, args, len, NULL) == MSGPACK_UNPACK_SUCCESS)
        net_mp_str(&u.data, "workload", id, sizeof(id));
    msgpack_unpacked_destroy(&u);
    if (!id[0])
        return -EINVAL; /* a host event: nothing to quarantine */
    int rc = quarantine_set(x, id, true);
    bool pr, q = false;
    net_enf_state(x->enf, id, &pr, &q);
    x->p->api->log(x->p->h, VG_LOG_NOTICE, "%s quarantined%s", id,
                   q ? "" : " (kept: applied when it runs in a cgroup of its own)");
    return rc;
}

/* Without args: the quarantined workloads, [{"workload", "enforced"}]
 * ("enforced": the drop programs are attached; false for a workload that
 * is not running or has no cgroup of its own), for `vigilctl workloads`. */
static int quarantine_list(struct net_protect *x, vg_reply *r)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, (uint32_t)x->nq);
    for (size_t i = 0; i < x->nq; i++) {
        bool pr = false, q = false;
        net_enf_state(x->enf, x->quar[i], &pr, &q);
        msgpack_pack_map(&pk, 2);
        net_kv_str(&pk, "workload", x->quar[i]);
        msgpack_pack_str_with_body(&pk, "enforced", 8);
        if (q)
            msgpack_pack_true(&pk);
        else
            msgpack_pack_false(&pk);
    }
    int rc = x->p->api->reply(r, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* `vigilctl quarantine WORKLOAD on|off`: args {"workload", "on": bool}. */
static int cmd_quarantine(void *priv, const void *args, size_t len, vg_reply *r)
{
    struct net_protect *x = priv;
    const vg_host_api *api = x->p->api;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char id[VG_WORKLOAD_MAX] = "";
    int on = -1;
    if (msgpack_unpack_next(&u, args, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        net_mp_str(&u.data, "workload", id, sizeof(id));
        const msgpack_object *o = net_mp_get(&u.data, "on");
        if (o && o->type == MSGPACK_OBJECT_BOOLEAN)
            on = o->via.boolean;
    }
    msgpack_unpacked_destroy(&u);
    if (!id[0] && on < 0)
        return quarantine_list(x, r);
    if (!id[0] || on < 0) {
        api->reply_error(r, "quarantine: a workload and on (true or false) expected");
        return -EINVAL;
    }
    x->nwl = 0;
    api->workloads_each(x->p->h, collect, x);
    if (on && !wl_by_id(x, id)) {
        api->reply_error(r, "quarantine: no workload %s (see `vigilctl workloads`)", id);
        return -ENOENT;
    }
    int rc = quarantine_set(x, id, on);
    if (rc < 0) {
        api->reply_error(r, "quarantine: %s", strerror(-rc));
        return rc;
    }
    bool pr = false, q = false;
    net_enf_state(x->enf, id, &pr, &q);
    if (on && !q) {
        quarantine_set(x, id, false);
        api->reply_error(r, "quarantine: %s cannot be enforced here (see the daemon's log)", id);
        return -ENOTSUP;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    net_kv_str(&pk, "workload", id);
    msgpack_pack_str_with_body(&pk, "quarantined", 11);
    if (q)
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
    msgpack_pack_str_with_body(&pk, "protected", 9);
    if (pr)
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
    rc = api->reply(r, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* ---- life cycle ------------------------------------------------------------------ */

/* A capture thread saw a new DNS answer: a resync at once on the loop, so
 * that a name's new address is in the map as soon as can be (the
 * workload's own connect() may still come first: docs/net.md). */
static void dns_answer(void *arg)
{
    struct net_protect *x = arg;
    uv_async_send(x->dns_seen);
}

static void on_dns_seen(uv_async_t *a)
{
    struct net_protect *x = a->data;
    if (ready(x))
        resync(x);
}

/* plugins.net.enforce, on_stop and quarantine_allow, at start and at each
 * reload: 0, or -EINVAL (logged) with nothing changed. */
static int read_settings(struct net_protect *x)
{
    const vg_host_api *api = x->p->api;
    int b = 1;
    const char *s = "keep", *qa = "";
    api->config_bool(x->p->h, "enforce", &b);
    api->config_string(x->p->h, "on_stop", &s);
    api->config_string(x->p->h, "quarantine_allow", &qa);
    int64_t min_ttl = 60;
    api->config_int(x->p->h, "dns_min_ttl_s", &min_ttl);
    struct vg_enf_key keys[VG_ENF_QUAR_ALLOW_MAX];
    size_t n = 0;
    char msg[160];
    if (net_quar_allow_parse(qa, keys, VG_ENF_QUAR_ALLOW_MAX, &n, msg, sizeof(msg)) < 0) {
        api->log(x->p->h, VG_LOG_ERR, "plugins.net.quarantine_allow: %s", msg);
        return -EINVAL;
    }
    if (x->enf)
        net_enf_quar_allow(x->enf, keys, n);
    net_dnsnames_config(x->p->dnsnames, x->dns_seen ? dns_answer : NULL, x, (uint32_t)min_ttl);
    x->enforce = b;
    x->open_on_stop = !strcmp(s, "open");
    return 0;
}

int net_protect_reload(net_plugin *p)
{
    struct net_protect *x = p->protect;
    if (!x || !x->enf)
        return 0;
    bool was = x->enforce;
    int rc = read_settings(x);
    if (rc == 0 && was != x->enforce)
        p->api->log(p->h, VG_LOG_NOTICE, "enforce = %s: protect mode %s",
                    x->enforce ? "true" : "false",
                    x->enforce ? "is enforced in the kernel again" : "reports only from now");
    if (rc == 0 && ready(x))
        resync(x);
    return rc;
}

void net_protect_start(net_plugin *p)
{
    const vg_host_api *api = p->api;
    struct net_protect *x = calloc(1, sizeof(*x));
    if (!x || !(x->c = calloc(CAND_MAX, sizeof(*x->c)))) {
        free(x);
        api->set_state(p->h, VG_PLUGIN_DEGRADED, "no memory for enforcement");
        return;
    }
    x->p = p;
    x->started_us = net_now_us();
    p->protect = x;
    x->t_violation = api->event_type(p->h, "net.violation");
    char err[256] = "";
    int rc = net_enf_new(api->loop(p->h), on_denial, x, &x->enf, err, sizeof(err));
    if (rc < 0) {
        api->log(p->h, VG_LOG_WARN, "protect mode and quarantine are not enforced: %s", err);
        api->set_state(p->h, VG_PLUGIN_DEGRADED, "no kernel enforcement (BPF, cgroup v2)");
        return;
    }
    x->dns_seen = calloc(1, sizeof(*x->dns_seen));
    if (x->dns_seen) {
        uv_async_init(api->loop(p->h), x->dns_seen, on_dns_seen);
        x->dns_seen->data = x;
        uv_unref((uv_handle_t *)x->dns_seen);
    }
    read_settings(x); /* checked by read_config() already */
    cand_load(x);
    quar_load(x);
    x->prev = stored_list(x, "enforced");
    if (api->subscribe(p->h, "net.connect", on_connect, x) < 0 ||
        api->subscribe(p->h, "net.accept", on_connect, x) < 0)
        api->log(p->h, VG_LOG_WARN, "cannot follow connections: protect allows nothing new");
    if (api->subscribe(p->h, "group.mode", on_mode, x) < 0)
        api->log(p->h, VG_LOG_WARN, "cannot follow mode changes: protect follows within 1 s");
    vg_action_desc a = {.name = "quarantine", .run = action_quarantine, .priv = x};
    if ((rc = api->register_action(p->h, &a)) < 0)
        api->log(p->h, VG_LOG_WARN, "no quarantine action: %s", strerror(-rc));
    vg_command_desc cmd = {"quarantine", cmd_quarantine, x};
    if ((rc = api->register_command(p->h, &cmd)) < 0 && rc != -ENODEV)
        api->log(p->h, VG_LOG_WARN, "no `vigilctl quarantine`: %s", strerror(-rc));
    x->timer = calloc(1, sizeof(*x->timer));
    if (x->timer) {
        uv_timer_init(api->loop(p->h), x->timer);
        x->timer->data = x;
        uv_unref((uv_handle_t *)x->timer);
        uv_timer_start(x->timer, on_timer, RESYNC_MS, RESYNC_MS);
    }
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

void net_protect_stop(net_plugin *p)
{
    struct net_protect *x = p->protect;
    if (!x)
        return;
    if (x->timer)
        uv_close((uv_handle_t *)x->timer, free_handle);
    net_dnsnames_config(p->dnsnames, NULL, NULL, 60); /* no capture calls dns_answer after */
    if (x->dns_seen)
        uv_close((uv_handle_t *)x->dns_seen, free_handle);
    if (x->cand_dirty)
        cand_save(x);
    net_enf_free(x->enf, x->open_on_stop);
    free(x->c);
    free(x->wl);
    free(x->prev);
    free(x->enforced);
    free(x);
    p->protect = NULL;
}
